"""The runner's notebook kernels: Unix sockets in a private folder (no TCP ports to collide),
started one notebook ahead and prepared silently, none left behind; the lean papermill import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from edureport.runs import kernels as kernel_pool
from edureport.runs import pipeline

from .test_runs import kernels_of

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds open."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def table_inodes(name: str) -> dict[str, str]:
    """inode -> address (TCP: local address, Unix: path) from /proc/net/<name>."""
    rows: dict[str, str] = {}
    path = Path("/proc/net") / name
    if not path.exists():
        return rows
    lines = path.read_text().splitlines()[1:]
    for line in lines:
        cols = line.split()
        if name == "unix":  # Num RefCount Protocol Flags Type St Inode [Path]
            rows[cols[6]] = cols[7] if len(cols) > 7 else ""
        else:  # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            rows[cols[9]] = cols[1]
    return rows


def notebook(folder: Path, name: str, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def execute(km: object, folder: Path, name: str, out: Path) -> nbformat.NotebookNode:
    """Run ``folder/name.ipynb`` in the started kernel ``km`` as the pipeline does."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "notebooks").mkdir(exist_ok=True)
    options = pipeline.RunOptions(notebooks_dir=folder, cell_timeout=60)
    kernel_pool._execute(name, out, {}, options, km)
    return nbformat.read(out / "notebooks" / f"{name}.ipynb", as_version=4)


@pytest.mark.slow
def test_kernels_listen_on_unix_sockets_in_a_short_private_folder(tmp_path: Path) -> None:
    # a run folder deep enough, with a long Chinese county name, to pass the AF_UNIX limit
    deep = tmp_path / ("某某自治县教育局" * 4) / "2022" / "runs" / "20261128T000000-abcdef"
    folder = notebook(deep / "nb", "1_clean", "1 + 1")
    assert len(str(deep / "k1-1").encode()) > 108
    kernels = kernel_pool._Kernels(folder)
    with kernels:
        km = kernels.take("1_clean")
        info = json.loads(Path(km.connection_file).read_text("utf-8"))
        assert info["transport"] == "ipc"
        assert Path(km.connection_file).parent == kernels.dir
        assert len(str(kernels.dir / "k99-99").encode()) < 100
        nb = execute(km, folder, "1_clean", deep / "out")
        assert nb.cells[0].outputs[0]["data"]["text/plain"] == "2"
        pid = km.provisioner.pid
        sockets = socket_inodes(pid)
        unix = table_inodes("unix")
        bound = {unix[i] for i in sockets if unix.get(i, "").startswith(str(kernels.dir))}
        assert len(bound) == 5, bound  # shell, iopub, stdin, control, heartbeat
        # the one TCP socket left is ipykernel's IOPub pipe for forked subprocesses, which zmq
        # binds itself to a port it picks (retrying when taken): no port picked in advance
        tcp = {**table_inodes("tcp"), **table_inodes("tcp6")}
        assert len(sockets & set(tcp)) <= 1
        kernels.release(km, graceful=True)
    assert not kernels.dir.exists()
    assert not kernels_of(os.getpid())


@pytest.mark.slow
def test_kernels_started_at_the_same_moment_all_start(tmp_path: Path) -> None:
    """Four kernels in two runs' kernel sets, all started at once (what collided over TCP)."""
    folder = notebook(tmp_path / "nb", "1_clean", "import os\nos.getpid()")
    sets = [kernel_pool._Kernels(folder), kernel_pool._Kernels(folder)]
    managers: list[object] = []
    lock = threading.Lock()

    def start(kernels: kernel_pool._Kernels) -> None:
        from jupyter_core.utils import ensure_event_loop

        try:
            km = kernels._start("1_clean", prepare=False).km
        finally:
            ensure_event_loop().close()  # the loop jupyter_client made for this thread
        with lock:
            managers.append(km)

    threads = [threading.Thread(target=start, args=(k,)) for k in sets for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(managers) == 4
        for i, km in enumerate(managers):
            nb = execute(km, folder, "1_clean", tmp_path / f"out{i}")
            assert nb.cells[0].outputs[0]["data"]["text/plain"] == str(km.provisioner.pid)
    finally:
        for kernels in sets:
            kernels.close()
    assert not kernels_of(os.getpid())


@pytest.mark.slow
def test_a_kernel_started_ahead_is_prepared_silently(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "print('edureport.ingest.clean' in sys.modules, 'edureport.report.figures' in sys.modules)"
    )
    folder = notebook(tmp_path / "nb", "1_clean", code)
    with kernel_pool._Kernels(folder) as kernels:
        kernels.start_ahead("1_clean")
        kernels.start_ahead("1_clean")  # once per notebook
        assert len(kernels.kernels) == 1
        km = kernels.take("1_clean")  # waits for steps.prepare("1_clean") to finish
        nb = execute(km, folder, "1_clean", tmp_path / "out")
        kernels.release(km, graceful=True)
    (cell,) = nb.cells
    assert cell.execution_count == 1  # the prepare request took no execution count
    assert [o.get("text") for o in cell.outputs] == ["True True\n"]  # and left no output
    assert not kernels_of(os.getpid())


@pytest.mark.slow
def test_a_failed_step_leaves_no_kernel(tmp_path: Path) -> None:
    folder = notebook(tmp_path / "nb", "1_clean", "raise ValueError('boom')")
    kernels = kernel_pool._Kernels(folder)
    with pytest.raises(pipeline.EdureportError, match="boom"), kernels:
        km = kernels.take("1_clean")
        kernels.start_ahead("2_validate")  # started ahead, never used
        try:
            execute(km, folder, "1_clean", tmp_path / "out")
        finally:
            kernels.release(km, graceful=False)
    assert not kernels_of(os.getpid()) and not kernels.dir.exists()


def test_lean_papermill_import_still_validates_notebooks() -> None:
    code = """
import sys
from edureport.imports import import_lean
import_lean("papermill")
assert "papermill" in sys.modules and "rfc3987_syntax" not in sys.modules
import jsonschema, nbformat
from edureport.paths import NOTEBOOKS_DIR
for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
    nbformat.validate(nbformat.read(path, as_version=4))
bad = nbformat.v4.new_notebook()
bad.cells = [{"cell_type": "code", "source": "1", "metadata": {}}]  # no outputs, no count
try:
    nbformat.validate(bad)
except nbformat.ValidationError:
    print("invalid caught")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "invalid caught"


def test_socket_folders_of_killed_runs_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    old = time.time() - 7200
    folders = {
        "killed": tmp_path / f"edk-{dead}-abc",  # its process is gone: removed
        "recent": tmp_path / f"edk-{dead}-new",  # touched within the hour: kept
        "alive": tmp_path / f"edk-{os.getpid()}-abc",  # a live run's: kept
    }
    for name, folder in folders.items():
        folder.mkdir()
        (folder / "k1-1").write_text("")
        if name != "recent":
            os.utime(folder, (old, old))
    kernel_pool._sweep_socket_dirs(tmp_path)
    assert not folders["killed"].exists()
    assert folders["recent"].exists() and folders["alive"].exists()
