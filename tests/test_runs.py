"""Runs a scheduler can trust: run records, skip when unchanged, locks, kills, failing cells."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from filelock import FileLock

from edureport.errors import EXIT_INTERNAL, EXIT_LOCKED, EdureportError, Interrupted
from edureport.paths import NOTEBOOKS_DIR
from edureport.runs import folder, pipeline, publish
from edureport.runs.provenance import code_fingerprint, lock_sha256
from edureport.runs.steps import sha256
from synthetic import Targets, random_targets, write_county_year

from .conftest import TEST_KEY, edureport

COUNTY, YEAR = "样本县", 2023
KEY_ENV = {"EDUREPORT_PSEUDONYM_KEY": TEST_KEY}


def make_county(root: Path, county: str, year: int, seed: int) -> Targets:
    """A small generated county-year (canonical CSVs) whose roster is in order, so it publishes."""
    targets = dataclasses.replace(
        random_targets(random.Random(seed), size=(0.05, 0.2)),
        officers_uncertified=0,
        officers_contract=0,
    )
    folder = root / county / str(year)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_county_year(folder, county, year, targets, seed, style="canonical")
    (folder / "config.yaml").write_text(f"declared_officers: {targets.officers}\n", "utf-8")
    return targets


def start(*args: str | Path) -> subprocess.Popen[str]:
    """Start the console script (with the test pseudonym key) and return at once."""
    return edureport(*args, background=True)


def run_args(root: Path, *extra: str, county: str = COUNTY, year: int = YEAR) -> list[str | Path]:
    return [
        "run",
        "--county",
        county,
        "--year",
        str(year),
        "--data",
        root / "data",
        "--out",
        root / "out",
        *extra,
    ]


def published(root: Path, county: str = COUNTY, year: int = YEAR) -> Path:
    return root / "out" / county / str(year)


def run_dirs(root: Path, county: str = COUNTY, year: int = YEAR) -> list[Path]:
    return sorted(p for p in (published(root, county, year) / "runs").iterdir() if p.is_dir())


def published_county(root: Path) -> Path:
    """``root`` with data/ (one generated county-year) and out/ (its one published run)."""
    make_county(root / "data", COUNTY, YEAR, seed=11)
    proc = edureport(*run_args(root))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def private_copy(baseline: Path, tmp_path: Path) -> Path:
    """A private copy of a published county (data and output, its links as links)."""
    shutil.copytree(baseline, tmp_path / "w", symlinks=True)
    return tmp_path / "w"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_county(tmp_path_factory.mktemp("baseline"))


@pytest.fixture
def work(baseline: Path, tmp_path: Path) -> Path:
    return private_copy(baseline, tmp_path)


# ---------------------------------------------------------------- run records and skipping


@pytest.mark.slow
def test_run_record_is_complete(baseline: Path) -> None:
    (run_dir,) = run_dirs(baseline)
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    for key in (
        "run_id",
        "county",
        "year",
        "started",
        "finished",
        "parameters",
        "fingerprint",
        "inputs",
        "code_version",
        "packages",
        "lock_sha256",
        "python",
        "steps",
        "validation",
        "status",
        "exit_code",
        "duration_s",
        "notebooks",
    ):
        assert key in record, key
    assert record["status"] == "published" and record["exit_code"] == 0
    assert set(record["steps"]) == {"1_clean", "2_validate", "3_report", "export"}
    assert record["validation"]["passed"] is True
    assert record["packages"]["papermill"] != "not installed"
    assert record["lock_sha256"] == lock_sha256() and len(record["lock_sha256"]) == 64
    params = json.loads((run_dir / "parameters.json").read_text("utf-8"))
    assert params == record["parameters"] and params["run_dir"] == str(run_dir)
    # every input file hashed, in the run record and in inputs.json
    data = baseline / "data" / COUNTY / str(YEAR)
    hashes = {p.name: sha256(p) for p in data.iterdir()}
    assert record["inputs"] == hashes
    assert json.loads((run_dir / "inputs.json").read_text("utf-8")) == hashes
    # the narrative and config the run read, kept for `edureport reproduce`
    for name in ("narrative.md", "config.yaml"):
        assert (run_dir / "sources" / name).read_bytes() == (data / name).read_bytes()
    for rel in record["notebooks"]:
        nb = nbformat.read(run_dir / rel, as_version=4)
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), rel
    assert "finished: published" in (run_dir / "run.log").read_text("utf-8")
    # the published copy is this run; the state names it
    target = published(baseline)
    assert json.loads((target / "run.json").read_text("utf-8")) == record
    state = json.loads((target / folder.STATE).read_text("utf-8"))
    assert state["run_id"] == run_dir.name and state["fingerprint"] == record["fingerprint"]
    # one version, switched in by the link `current`; the names readers open link into it
    version = f"{folder.VERSIONS}/000001-{run_dir.name}"
    assert os.readlink(target / folder.CURRENT) == version
    for name in (*folder.PUBLISHED, folder.STATE):
        assert os.readlink(target / name) == f"{folder.CURRENT}/{name}"
    assert "cleaned/aid.parquet" in state["files"] and "report.html" in state["files"]
    for rel, digest in state["files"].items():  # the manifest is what readers get
        assert sha256(target / rel) == digest, rel
    assert published_from(baseline) == run_dir.name


def code_unchanged(root: Path, run_dir: Path) -> bool:
    """Whether inputs and code are still those ``run_dir`` ran with (in a working copy shared
    with other developers the package may change under a test; CI runs a clean clone)."""
    code_fingerprint.cache_clear()
    data = root / "data" / COUNTY / str(YEAR)
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    return pipeline.fingerprint(data)[0] == record["fingerprint"]


@pytest.mark.slow
def test_unchanged_run_is_skipped(work: Path) -> None:
    if not code_unchanged(work, run_dirs(work)[0]):
        pytest.skip("the package changed since the baseline run")
    before = (published(work) / "report.html").read_bytes()
    proc = edureport(*run_args(work))
    assert proc.returncode == 0, proc.stderr
    assert "unchanged" in proc.stdout and "无需重新运行" in proc.stdout
    assert len(run_dirs(work)) == 1
    assert (published(work) / "report.html").read_bytes() == before


# ---------------------------------------------------------------- locks


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen | None = None) -> None:
    """Poll ``condition`` (a generous bound guards against a hung test, not a speed check)."""
    for _ in range(6000):
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended first ({proc.returncode}): {out}{err}")
        time.sleep(0.1)
    pytest.fail("condition never met")


def lock_is_free(target: Path) -> bool:
    lock = FileLock(str(target / folder.LOCK))
    try:
        lock.acquire(timeout=0)
    except TimeoutError:
        return False
    lock.release()
    return True


def new_run(root: Path, before: list[Path]) -> Path | None:
    fresh = [p for p in run_dirs(root) if p not in before]
    return fresh[0] if fresh else None


@pytest.mark.slow
def test_changed_ledger_reruns_and_concurrent_runs_are_serialised(work: Path) -> None:
    target, before = published(work), run_dirs(work)
    targets = make_county(work / "data", COUNTY, YEAR, seed=12)  # new ledgers: must rerun
    first = start(*run_args(work))
    wait_for(lambda: (r := new_run(work, before)) is not None and (r / "run.json").exists(), first)
    assert not lock_is_free(target)
    # impatient: refuses at once with the documented code and names the run holding the lock
    refused = edureport(*run_args(work, "--lock-timeout", "0.5"))
    assert refused.returncode == EXIT_LOCKED
    assert "另一个运行" in refused.stderr and "holds the lock" in refused.stderr
    assert new_run(work, before).name in refused.stderr
    # patient: waits for the first run, then finds its inputs already published
    waiting = start(*run_args(work, "--lock-timeout", "600"))
    # another county-year does not wait for this lock (it fails on its own empty folder)
    (work / "data" / "别的县" / str(YEAR)).mkdir(parents=True)
    other = edureport(*run_args(work, "--lock-timeout", "0", county="别的县"))
    assert other.returncode == 2, other.stderr
    assert first.poll() is None and not lock_is_free(target)
    assert waiting.poll() is None and len(run_dirs(work)) == 2  # waiting, no run of its own
    out, err = first.communicate(timeout=900)
    assert first.returncode == 0 and "报告已发布" in out, out + err
    w_out, w_err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, w_out + w_err
    if code_unchanged(work, new_run(work, before)):  # then it finds the inputs published
        assert "unchanged" in w_out and len(run_dirs(work)) == 2, w_out
    else:  # someone edited the package meanwhile (a shared working copy): it ran after
        assert "报告已发布" in w_out
    assert lock_is_free(target)
    figures = json.loads((target / "figures.json").read_text("utf-8"))
    assert figures["aid_total_amount"]["value"] == targets.aid_amount_fen
    assert figures["aid_total_amount"]["text"] in (target / "report.html").read_text("utf-8")
    listing = edureport("runs", "--out", work / "out", "--county", COUNTY)
    assert listing.stdout.count("\tpublished\t0") == 2


# ---------------------------------------------------------------- killed runs

# Sends a run the signal argv[2] at a precise step argv[1] of its publish, from inside, as
# `kill -9` or `systemctl stop` could land there (publish.publish_hook runs before each step).
STOP_IN_PUBLISH = """
import os, signal, sys
from edureport import cli
from edureport.runs import publish
def hook(step):
    if step == sys.argv[1]:
        os.kill(os.getpid(), getattr(signal, sys.argv[2]))
publish.publish_hook = hook
sys.exit(cli.main(sys.argv[3:]))
"""


def stop_in_publish(work: Path, step: str, how: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", STOP_IN_PUBLISH, step, how, *map(str, run_args(work, "--force"))]
    env = {**os.environ, **KEY_ENV}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)


def published_from(work: Path) -> str:
    """The one run whose own copies (kept in its run folder) every published file is, read
    through the names readers open; fails when the published folder mixes two runs."""
    target = published(work)
    files = []
    for name in folder.PUBLISHED:  # run.json: the record as published (below)
        path = target / name
        if name == "run.json":
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [p.relative_to(target) for p in found if p.is_file()]
    assert Path("report.html") in files and Path("notebooks/1_clean.ipynb") in files
    matches = [
        r.name
        for r in run_dirs(work)
        if all(
            (r / f).is_file() and (r / f).read_bytes() == (target / f).read_bytes() for f in files
        )
    ]
    assert len(matches) == 1, matches  # the executed notebooks name their run folder
    assert json.loads((target / folder.STATE).read_text("utf-8"))["run_id"] == matches[0]
    assert json.loads((target / "run.json").read_text("utf-8"))["run_id"] == matches[0]
    return matches[0]


def status(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text("utf-8"))


def cell_running(notebook: Path) -> bool:
    """Whether a code cell after the parameters is executing (papermill saves as cells start)."""
    try:
        nb = json.loads(notebook.read_text("utf-8"))
    except (OSError, ValueError):  # not there yet, or being rewritten
        return False
    return any(
        c["metadata"].get("papermill", {}).get("status") == "running"
        and not {"parameters", "injected-parameters"} & set(c["metadata"].get("tags", []))
        for c in nb["cells"]
        if c["cell_type"] == "code"
    )


def kernels_of(pid: int) -> list[int]:
    """Live processes started by ``pid`` as notebook kernels (they carry JPY_PARENT_PID)."""
    mark = f"JPY_PARENT_PID={pid}\0".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def assert_intact(work: Path, report: bytes) -> None:
    target = published(work)
    assert (target / "report.html").read_bytes() == report
    published_from(work)  # and every other published file from the same run
    assert lock_is_free(target)
    for run_dir in run_dirs(work):
        if (run_dir / "run.json").exists():
            json.loads((run_dir / "run.json").read_text("utf-8"))  # never half written


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_kill_9_at_any_point_leaves_the_published_report_intact(work: Path) -> None:
    target = published(work)
    report = (target / "report.html").read_bytes()
    killed = []
    for notebook in ("1_clean", "2_validate", "3_report"):
        before = run_dirs(work)
        proc = start(*run_args(work, "--force"))
        wait_for(
            lambda b=before, n=notebook: (
                (r := new_run(work, b)) is not None and cell_running(r / "notebooks" / f"{n}.ipynb")
            ),
            proc,
        )
        proc.kill()
        proc.communicate()
        wait_for(lambda p=proc.pid: not kernels_of(p))  # its kernel follows it
        assert_intact(work, report)
        run_dir = new_run(work, before)
        assert json.loads((run_dir / "run.json").read_text("utf-8"))["status"] == "running"
        killed.append(run_dir)
    # killed half-way through publishing (some files staged, not switched in): nothing shows
    before = run_dirs(work)
    proc = stop_in_publish(work, "stage figures.json", "SIGKILL")
    assert proc.returncode == -signal.SIGKILL
    assert_intact(work, report)
    half = new_run(work, before)
    assert list((target / folder.VERSIONS).glob(f"*-{half.name}{folder.STAGING}"))
    # the next run (here its first step alone) discards it and marks the killed runs
    said: list[str] = []
    pipeline.recover(target, said.append)
    assert_intact(work, report)
    assert not list((target / folder.VERSIONS).glob(f"*-{half.name}*"))
    assert not list(target.glob(".*.tmp"))
    for run_dir in [*killed, half]:
        assert status(run_dir)["status"] == "interrupted"
    assert status(half)["note"] == publish.DISCARDED
    # killed right after the switch: the new run is published, whole, and recorded so next time
    before = run_dirs(work)
    proc = stop_in_publish(work, "record", "SIGKILL")
    assert proc.returncode == -signal.SIGKILL
    done = new_run(work, before)
    assert published_from(work) == done.name and status(done)["status"] == "running"
    pipeline.recover(target, said.append)
    assert done.name in said[-1] and "recorded published" in said[-1]
    assert status(done) == json.loads((target / "run.json").read_text("utf-8"))
    assert status(done)["status"] == "published" and status(half)["status"] == "interrupted"
    # and a whole next run succeeds (skipped: unchanged, unless the code changed meanwhile)
    nxt = edureport(*run_args(work))
    assert nxt.returncode == 0, nxt.stdout + nxt.stderr
    assert published_from(work) == run_dirs(work)[-1].name  # done, or a run after it


@pytest.mark.slow
def test_sigterm_mid_publish_is_interrupted_and_never_relabelled(work: Path) -> None:
    target, before = published(work), run_dirs(work)
    report = (target / "report.html").read_bytes()
    proc = stop_in_publish(work, "seal", "SIGTERM")  # staged whole, not yet switched in
    assert proc.returncode == 143 and "已中断" in proc.stderr, proc.stderr
    stopped = new_run(work, before)
    record = status(stopped)
    assert record["status"] == "interrupted" and record["exit_code"] == 143
    assert record["note"] == publish.DISCARDED
    assert_intact(work, report)
    assert not list((target / folder.VERSIONS).glob(f"*-{stopped.name}*"))
    nxt = edureport(*run_args(work))  # recovers first, then is unchanged or reruns
    assert nxt.returncode == 0, nxt.stdout + nxt.stderr
    assert status(stopped) == record  # never relabelled published
    assert published_from(work) != stopped.name


@pytest.mark.slow
def test_sigterm_stops_the_run_cleanly(work: Path) -> None:
    target, before = published(work), run_dirs(work)
    report = (target / "report.html").read_bytes()
    proc = start(*run_args(work, "--force"))
    wait_for(
        lambda: (
            (r := new_run(work, before)) is not None
            and cell_running(r / "notebooks" / "2_validate.ipynb")
        ),
        proc,
    )
    proc.terminate()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "已中断" in err, err
    record = json.loads((new_run(work, before) / "run.json").read_text("utf-8"))
    assert record["status"] == "interrupted" and record["exit_code"] == 143
    assert set(record["steps"]) == {"1_clean"}
    assert_intact(work, report)


# ---------------------------------------------------------------- failing and hanging cells


def broken_notebooks(tmp_path: Path, name: str, source: str) -> Path:
    """A copy of the committed notebooks with ``source`` as a new cell after the parameters."""
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, folder)
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@pytest.mark.slow
def test_failing_cell_is_named_and_its_notebook_kept(work: Path, tmp_path: Path) -> None:
    code = "# a deliberate bug\nshare = 1 / 0"
    options = pipeline.RunOptions(notebooks_dir=broken_notebooks(tmp_path, "1_clean", code))
    before = run_dirs(work)
    with pytest.raises(EdureportError) as caught:
        pipeline.run(COUNTY, YEAR, work / "data", work / "out", options, progress=lambda _: None)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_INTERNAL
    # the committed notebook's cell 3 (after the title and the parameters), its first line
    assert "1_clean.ipynb" in message and "cell 3" in message and "# a deliberate bug" in message
    assert "ZeroDivisionError" in message
    run_dir = new_run(work, before)
    kept = run_dir / "notebooks" / "1_clean.ipynb"
    assert str(kept) in message
    outputs = [o for c in nbformat.read(kept, as_version=4).cells for o in c.get("outputs", [])]
    assert any(o.get("ename") == "ZeroDivisionError" for o in outputs)
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    assert record["status"] == "internal_error" and record["exit_code"] == EXIT_INTERNAL
    assert "ZeroDivisionError" in record["error"]
    assert lock_is_free(published(work))


@pytest.mark.slow
def test_hanging_cell_ends_the_run_with_the_internal_error_code(work: Path, tmp_path: Path) -> None:
    folder = broken_notebooks(tmp_path, "2_validate", "import time  # hangs\ntime.sleep(3600)")
    options = pipeline.RunOptions(force=True, cell_timeout=3, notebooks_dir=folder)
    before = run_dirs(work)
    with pytest.raises(EdureportError) as caught:
        pipeline.run(COUNTY, YEAR, work / "data", work / "out", options, progress=lambda _: None)
    assert caught.value.exit_code == EXIT_INTERNAL == 1  # the code documented for this
    message = str(caught.value)
    assert (
        "2_validate.ipynb" in message and "cell 3" in message and "import time  # hangs" in message
    )
    assert "cell timeout of 3 s" in message
    record = json.loads((new_run(work, before) / "run.json").read_text("utf-8"))
    assert record["status"] == "internal_error" and set(record["steps"]) == {"1_clean"}
    assert not kernels_of(os.getpid())  # the hung kernel was shut down
    assert lock_is_free(published(work))


@pytest.mark.parametrize("how", ["dropped", "surfaced"])
def test_a_stop_signal_the_event_loop_swallows_still_interrupts(
    work: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """SIGTERM raised inside an asyncio callback is logged and dropped by the loop, or comes
    back as another error: the run must still end as interrupted (143), nothing published."""
    target, before = published(work), run_dirs(work)
    report = (target / "report.html").read_bytes()

    def execute(name: str, run_dir: Path, *args: object, **kwargs: object) -> None:
        if name == "2_validate":
            Interrupted.received = signal.SIGTERM  # what the handler records before raising
            if how == "surfaced":
                raise EdureportError("笔记本 2_validate.ipynb 运行中止 notebook aborted")

    monkeypatch.setattr(pipeline, "_execute", execute)
    try:
        with pytest.raises(Interrupted) as stopped:
            pipeline.run(
                COUNTY, YEAR, work / "data", work / "out", pipeline.RunOptions(force=True), print
            )
    finally:
        Interrupted.received = None
    assert stopped.value.exit_code == 143
    record = json.loads((new_run(work, before) / "run.json").read_text("utf-8"))
    assert record["status"] == "interrupted" and record["exit_code"] == 143
    assert set(record["steps"]) == {"1_clean"}
    assert_intact(work, report)


# ---------------------------------------------------------------- braces in paths


@pytest.mark.slow
def test_braces_in_the_county_and_out_paths(tmp_path: Path) -> None:
    """papermill formats its paths with str.format: '{}' in --out or a county must not matter."""
    county, data, out = "测试{x}县", tmp_path / "d{0}", tmp_path / "a{}b"
    make_county(data, county, YEAR, seed=13)
    proc = edureport("run", "--county", county, "--year", YEAR, "--data", data, "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    target = out / county / str(YEAR)
    assert f"report published: {target / 'report.html'}" in proc.stdout
    record = json.loads((target / "run.json").read_text("utf-8"))
    assert record["status"] == "published" and record["parameters"]["run_dir"].startswith(str(out))
    for name in ("1_clean", "2_validate", "3_report"):
        assert (target / "notebooks" / f"{name}.ipynb").is_file()
