"""Warm kernels (``edureport.runs.warm``): a batch worker forks its counties' kernels from one
template process. A county's outputs must not depend on what ran before it in the worker, and a
worker killed mid-batch must lose no county."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .conftest import edureport
from .test_runs import make_county

YEAR = 2023
COUNTIES = {"先县": 41, "中县": 42, "后县": 43}  # county -> seed
ALONE = "后县"

RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?")
SECONDS = re.compile(r"\d+(\.\d+)? s\b")
# what differs between two runs of the same inputs whatever ran before: when, how long, which
# process (in run.json and the notebooks' papermill metadata)
VOLATILE_KEYS = {"run_id", "started", "finished", "duration", "duration_s", "start_time"}
VOLATILE_KEYS |= {"end_time", "steps", "pid", "run_dir", "kernels", "published", "version"}
# files whose bytes do not depend on when the run was (published.json's digests of them stay)
STABLE = re.compile(r"cleaned/.*|conservation\.json|figures\.json|inputs\.json|set_aside\.csv")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warm") / "data"
    for county, seed in COUNTIES.items():
        make_county(root, county, YEAR, seed)
    return root


def batch(data: Path, out: Path, *counties: str, extra: tuple[str, ...] = ()) -> Path:
    """``edureport batch`` of ``counties`` in that order on one worker; the output root."""
    proc = edureport(
        "batch", "--data", data, "--year", YEAR, "--workers", "1", "--out", out,
        "--counties", *counties, *extra,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def run_folder(out: Path, county: str) -> Path:
    (folder,) = (out / county / str(YEAR) / "runs").iterdir()
    return folder


def record(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "run.json").read_text("utf-8"))


def normalised(path: Path, out: Path) -> Any:
    """A file's content with what may differ between runs of the same inputs taken out (and
    the output root ``out``, which the tests choose)."""
    data = path.read_bytes()
    if path.suffix == ".docx":  # the zip's entry dates differ; the documents inside must not
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: _text(z.read(n), out) for n in sorted(z.namelist())}
    if path.suffix in (".json", ".ipynb"):
        found = json.loads(data)
        if path.name == "published.json":  # digests of files that hold times: compared as files
            found["files"] = {k: v for k, v in found["files"].items() if STABLE.fullmatch(k)}
        for cell in found.get("cells", []) if isinstance(found, dict) else []:
            if "injected-parameters" in cell["metadata"].get("tags", []):
                cell.pop("id")  # papermill gives the cell it adds a random id
        return _drop(found, out)
    if path.suffix in (".png", ".parquet"):
        return data
    return _text(data, out)


def _text(data: bytes, out: Path) -> str | bytes:
    try:
        text = data.decode("utf-8").replace(str(out), "<out>")
    except UnicodeDecodeError:
        return data
    return SECONDS.sub("<s>", TIME.sub("<time>", RUN_ID.sub("<run>", text)))


def _drop(value: Any, out: Path) -> Any:
    if isinstance(value, dict):
        return {k: _drop(v, out) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_drop(v, out) for v in value]
    return _text(value.encode(), out) if isinstance(value, str) else value


def files(out: Path, county: str) -> dict[str, Any]:
    """Every file of the county's run folder and of its published folder, normalised."""
    target = out / county / str(YEAR)
    folders = {"run": run_folder(out, county), "published": target / "current"}
    return {
        f"{name}/{p.relative_to(folder)}": normalised(p, out)
        for name, folder in folders.items()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_a_county_is_the_same_alone_or_after_others_in_its_worker(
    data: Path, tmp_path: Path
) -> None:
    alone = batch(data, tmp_path / "alone", ALONE)
    after = batch(data, tmp_path / "after", *(c for c in COUNTIES if c != ALONE), ALONE)
    cold = batch(data, tmp_path / "cold", ALONE, extra=("--cold-kernels",))

    runs = {c: record(run_folder(after, c)) for c in COUNTIES}
    assert len({r["pid"] for r in runs.values()}) == 1, "one worker ran every county"
    assert {r["kernels"] for r in runs.values()} == {"forked"}
    assert record(run_folder(cold, ALONE))["kernels"] == "new"

    expected = files(alone, ALONE)
    shown = {"report.html", "report.docx", "figures.json", "validation.json", "validation.html"}
    assert {f"published/{name}" for name in shown} <= set(expected)
    for other in (after, cold):
        found = files(other, ALONE)
        assert found.keys() == expected.keys()
        different = [name for name in expected if found[name] != expected[name]]
        assert not different, f"{ALONE} differs after other counties ({other.name}): {different}"


def _descendants(pid: int) -> dict[int, list[int]]:
    """Children of every live process (by parent pid), for the tree under ``pid``."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    return children


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_killed_mid_batch_loses_no_county(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = edureport(
        "batch", "--data", data, "--year", YEAR, "--workers", "2", "--out", out,
        background=True,
    )  # fmt: skip
    victim, seen = None, set()
    deadline = time.monotonic() + 300
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        tree = _descendants(proc.pid)
        for worker in tree.get(proc.pid, []):  # pool workers (and the resource tracker)
            for template in tree.get(worker, []):
                if "edureport.runs.warm" in _cmdline(template):
                    seen |= {worker, template, *tree.get(template, [])}
                    if tree.get(template):  # it has forked a kernel: a county is running
                        victim = worker
        time.sleep(0.05)
    assert victim is not None, "no worker was seen running a county"
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stdout + stderr
    done = [ln for ln in stdout.splitlines() if re.match(r"\[\d+\] ", ln)]
    assert len(done) == len(COUNTIES), stdout
    for county in COUNTIES:  # unchanged: the killed worker had published it before it died
        assert (out / county / str(YEAR) / "report.html").is_file(), county
        assert re.search(rf"{county} {YEAR}: (published|unchanged)", stdout), stdout
    time.sleep(1)
    assert not [p for p in seen if _alive(p)], "a template or kernel outlived its worker"


@pytest.mark.slow
def test_forked_kernels_start_from_the_untouched_template(tmp_path: Path) -> None:
    """Each kernel is a fork of the template (its parent), with the libraries loaded and none
    of an earlier kernel's state; when the template is gone, kernels start cold again."""
    from edureport.runs import warm
    from edureport.runs.kernels import _Kernels

    from .test_kernels import execute, notebook

    code = (
        "import os, sys\n"
        "seen = getattr(sys, 'edureport_seen', None)\n"
        "sys.edureport_seen = os.getpid()  # module state a later kernel must not see\n"
        "(os.getppid(), seen, 'great_expectations' in sys.modules)"
    )
    folder = notebook(tmp_path / "nb", "1_clean", code)
    template = warm.enable()
    assert template is not None
    try:
        outputs = []
        with _Kernels(folder, template=template) as kernels:
            for i in range(2):
                km = kernels.take("1_clean")
                nb = execute(km, folder, "1_clean", tmp_path / f"out{i}")
                outputs.append(nb.cells[0].outputs[0]["data"]["text/plain"])
                kernels.release(km, graceful=True)
            assert kernels.mode() == "forked"
        pid = template.process.pid
        assert outputs == [f"({pid}, None, True)"] * 2
        template.process.kill()
        template.process.wait()
        assert not template.alive()
        with _Kernels(folder, template=template) as kernels:  # cold: a new interpreter
            km = kernels.take("1_clean")
            nb = execute(km, folder, "1_clean", tmp_path / "cold")
            found = nb.cells[0].outputs[0]["data"]["text/plain"]
            assert found == f"({os.getpid()}, None, False)"
            kernels.release(km, graceful=True)
            assert kernels.mode() == "new"
    finally:
        warm.disable()


def dies_for_c3(county: str, year: int, *_job: object) -> Any:
    """A stand-in for ``batch.run_county`` whose worker dies on county c3, every time."""
    from edureport.runs.batch import Outcome

    if county == "c3":
        os._exit(1)
    time.sleep(0.2)
    return Outcome(county, year, "published", 0, 0.2)


@pytest.mark.slow
def test_a_county_that_kills_its_worker_every_time_fails_alone(tmp_path: Path) -> None:
    from edureport.runs import batch
    from edureport.runs.pipeline import RunOptions

    counties = [f"c{i}" for i in range(1, 9)]
    jobs = [(c, YEAR, tmp_path, tmp_path, RunOptions()) for c in counties]
    seen: list[str] = []
    outcomes = batch._on_pool(2, jobs, lambda o: seen.append(o.county), run=dies_for_c3)
    assert sorted(seen) == sorted(counties), "each county reported once"
    status = {o.county: (o.status, o.message) for o in outcomes}
    assert status.pop("c3") == ("internal_error", batch.WORKER_DIED)
    assert set(status.values()) == {("published", "")}


@pytest.mark.slow
def test_the_template_loads_nothing_from_the_folder_it_starts_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module in the batch's working folder named like a library (here ``cn2an``) must not
    be what every kernel imports."""
    from edureport.runs import warm

    marker = tmp_path / "imported"
    (tmp_path / "cn2an.py").write_text(f"open({str(marker)!r}, 'w').close()\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    template = warm.enable()
    try:
        assert template is not None, warm.failure()
        assert not marker.exists()
    finally:
        warm.disable()
