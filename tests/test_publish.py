"""Publishing switches a whole publication in at once (one symlink, ``current``): a run killed
or stopped at any step of its publish leaves the published folder entirely one run's, and the
next run settles the run records honestly. Fast: the notebooks are replaced by a stand-in that
writes every published file marked with its run's id (the real runs are in test_runs.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edureport.errors import EXIT_OK
from edureport.paths import REPO_ROOT
from edureport.runs import folder, kernels, pipeline, publish
from edureport.runs.steps import sha256

COUNTY, YEAR = "样本县", 2023
RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")
NAMES = (*folder.PUBLISHED, folder.STATE)  # every name a reader may open


def write_results(run_dir: Path) -> None:
    """What a passing run leaves in its folder (but run.json): each file names the run."""
    rid = run_dir.name
    for name in folder.PUBLISHED:
        path = run_dir / name
        if name == "run.json":
            continue
        if name in ("cleaned", "notebooks"):
            path.mkdir(exist_ok=True)
            for part in ("a", "b"):
                (path / f"{part}.txt").write_text(f"{name}/{part} of {rid}\n", "utf-8")
        elif name == "report.html":
            path.write_text(
                f'<html><title>报告 {rid}</title><a href="validation.html">校验</a></html>\n',
                "utf-8",
            )
        else:
            path.write_text(f"{name} of {rid}\n", "utf-8")


def fake_steps(run_dir: Path, params: Any, record: dict, options: Any, say: Any) -> Any:
    """Stands in for pipeline._steps: a passing run, at once."""
    write_results(run_dir)
    record["validation"] = {"passed": True}
    return pipeline.RunResult(run_dir, run_dir.parent.parent / "report.html", True, EXIT_OK)


# Runs (or only recovers) one county-year in a subprocess, sending itself the signal argv[2]
# when the publish reaches step argv[1] (as `kill -9` or `systemctl stop` would land there).
SCRIPT = """
import os, signal, sys
from pathlib import Path
from edureport.runs import pipeline, publish
from edureport.errors import Interrupted
from tests.test_publish import COUNTY, YEAR, fake_steps

step, how, mode, root = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])

def hook(name):
    if name == step:
        os.kill(os.getpid(), getattr(signal, how))

def stop(signum, frame):  # as the command line does
    raise Interrupted(signum)

signal.signal(signal.SIGTERM, stop)
pipeline._steps = fake_steps
publish.publish_hook = hook
out = root / "out"
try:
    if mode == "recover":
        target = out / COUNTY / str(YEAR)
        with pipeline.county_year_lock(target, COUNTY, YEAR, 10):
            pipeline.recover(target, lambda _: None)
    else:  # "run", or "run 20": that many runs one after the other
        options = pipeline.RunOptions(force=True)
        for _ in range(int(mode.split()[-1]) if mode != "run" else 1):
            pipeline.run(COUNTY, YEAR, root / "data", out, options, progress=lambda _: None)
except Interrupted as exc:
    sys.exit(exc.exit_code)
"""


def stopped_at(root: Path, step: str, how: str, mode: str = "run") -> int:
    argv = [sys.executable, "-c", SCRIPT, step, how, mode, str(root)]
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert step == "-" or proc.returncode in (-signal.SIGKILL, 143), proc.stderr
    return proc.returncode


def make_root(root: Path) -> Path:
    folder = root / "data" / COUNTY / str(YEAR)
    folder.mkdir(parents=True)
    (folder / "ledger.csv").write_text("a,b\n1,2\n", "utf-8")
    return root


def target_of(root: Path) -> Path:
    return root / "out" / COUNTY / str(YEAR)


def fake_run(root: Path, monkeypatch: pytest.MonkeyPatch, hook: Any = None) -> str:
    """One passing run in this process; its id."""
    monkeypatch.setattr(pipeline, "_steps", fake_steps)
    monkeypatch.setattr(publish, "publish_hook", hook)
    options = pipeline.RunOptions(force=True)
    result = pipeline.run(COUNTY, YEAR, root / "data", root / "out", options, lambda _: None)
    assert result.published and result.run_dir is not None
    return result.run_dir.name


def published_run(target: Path) -> str:
    """The one run every published name comes from, read through the names readers use;
    fails if two runs are mixed, if a name is missing, or if the manifest disagrees."""
    seen: dict[str, set[str]] = {}
    for name in NAMES:
        path = target / name
        assert path.exists(), f"{name} missing"
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            seen[f.relative_to(target).as_posix()] = set(RUN_ID.findall(f.read_text("utf-8")))
    ids = set().union(*seen.values())
    assert len(ids) == 1 and all(seen.values()), seen
    state = json.loads((target / folder.STATE).read_text("utf-8"))
    if "files" in state:  # the manifest (plain files from before versions have none)
        assert set(state["files"]) == set(seen) - {folder.STATE}
        for rel, digest in state["files"].items():
            assert sha256(target / rel) == digest, rel
    return ids.pop()


def status(target: Path, run_id: str) -> dict[str, Any]:
    return json.loads((target / "runs" / run_id / "run.json").read_text("utf-8"))


def recover(target: Path) -> list[str]:
    said: list[str] = []
    with pipeline.county_year_lock(target, COUNTY, YEAR, 10):
        pipeline.recover(target, said.append)
    return said


def assert_clean(target: Path) -> None:
    """After recovery: the versioned layout, nothing staged or half renamed left."""
    current = publish._current(target)
    assert current and (target / folder.VERSIONS / current).is_dir()
    for name in NAMES:
        assert os.readlink(target / name) == f"{folder.CURRENT}/{name}", name
    versions = sorted(p.name for p in (target / folder.VERSIONS).iterdir())
    assert all(not v.endswith(folder.STAGING) for v in versions), versions
    assert current == versions[-1] and len(versions) <= folder.KEEP_VERSIONS
    assert not [p for p in target.iterdir() if p.name.startswith(".") and p.name != ".lock"]


def new_run_id(target: Path, known: set[str]) -> str:
    (fresh,) = {p.name for p in (target / "runs").iterdir()} - known
    return fresh


def steps_of_a_publish(root: Path, monkeypatch: pytest.MonkeyPatch, mode: str = "run") -> list:
    """The publish steps, in order, recorded on a copy of ``root``."""
    trial = root.parent / f"{root.name}-steps"
    shutil.copytree(root, trial, symlinks=True)
    steps: list[str] = []
    monkeypatch.setattr(publish, "publish_hook", steps.append)
    if mode == "recover":
        recover(target_of(trial))
    else:
        fake_run(trial, monkeypatch, steps.append)
    monkeypatch.setattr(publish, "publish_hook", None)
    shutil.rmtree(trial)
    return steps


# ---------------------------------------------------------------- killed or stopped mid-publish


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_stopped_at_every_step_of_a_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    base = make_root(tmp_path / "base")
    old = fake_run(base, monkeypatch)
    steps = steps_of_a_publish(base, monkeypatch)
    assert "switch" in steps and steps[-1] == "done"
    assert [s for s in steps if s.startswith("stage ")] == [
        f"stage {n}" for n in (*folder.PUBLISHED, folder.STATE)
    ]
    switched_after = steps.index("switch")  # the hook runs before the step it names
    for i, step in enumerate(steps):
        root = tmp_path / f"case{i}"
        shutil.copytree(base, root, symlinks=True)
        target = target_of(root)
        known = {p.name for p in (target / "runs").iterdir()}
        code = stopped_at(root, step, how)
        new = new_run_id(target, known)
        switched = i > switched_after
        # at this instant: entirely the old run's or entirely the new one's
        assert published_run(target) == (new if switched else old), step
        record = status(target, new)
        if how == "SIGKILL":  # the run folder's record is written right after the switch
            recorded = i > steps.index("record")
            assert code == -signal.SIGKILL, step
            assert record["status"] == ("published" if recorded else "running"), step
        else:  # stopped: recorded at once, honestly, and what it staged is gone
            assert code == 143, step
            assert record["status"] == ("published" if switched else "interrupted"), step
            if not switched:
                assert record["note"] == publish.DISCARDED and record["exit_code"] == 143
                assert not list((target / folder.VERSIONS).glob(f"*-{new}*")), step
        # the next run's recovery: the same publication, the records true
        recover(target)
        assert published_run(target) == (new if switched else old), step
        assert_clean(target)
        record = status(target, new)
        if switched:
            assert record["status"] == "published" and record["exit_code"] == 0, step
            assert record == json.loads((target / "run.json").read_text("utf-8"))
        else:
            assert record["status"] == "interrupted", step
            assert record["note"] == publish.DISCARDED, step
            assert not list((target / folder.VERSIONS).glob(f"*-{new}*")), step
        assert status(target, old)["status"] == "published"
        # and a whole next run publishes; the records stay as they are
        third = fake_run(root, monkeypatch)
        assert published_run(target) == third
        assert_clean(target)
        assert status(target, new)["status"] == record["status"], step
        shutil.rmtree(root)


def test_the_first_publish_killed_at_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing published before: a cut first publish shows nothing, or all of the run."""
    base = make_root(tmp_path / "base")
    steps = steps_of_a_publish(base, monkeypatch)
    assert [s for s in steps if s.startswith("link ")] == [f"link {n}" for n in NAMES]
    for i, step in enumerate(steps):
        root = tmp_path / f"case{i}"
        shutil.copytree(base, root, symlinks=True)
        target = target_of(root)
        stopped_at(root, step, "SIGKILL")
        (new,) = [p.name for p in (target / "runs").iterdir()]
        if i <= steps.index("switch"):
            assert not any((target / n).exists() for n in NAMES), step
        else:  # the names linked so far all show the new run; the rest are not there yet
            for name in [n for n in NAMES if (target / n).exists()]:
                path = target / name / "a.txt" if (target / name).is_dir() else target / name
                assert RUN_ID.findall(path.read_text("utf-8"))[0] == new, step
        recover(target)
        if i <= steps.index("switch"):
            assert not any((target / n).exists() for n in NAMES), step
            assert status(target, new)["status"] == "interrupted"
            assert not (target / folder.VERSIONS).exists() or not list(
                (target / folder.VERSIONS).iterdir()
            )
        else:
            assert published_run(target) == new and status(target, new)["status"] == "published"
            assert_clean(target)
        shutil.rmtree(root)


def test_old_versions_are_removed_after_a_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_root(tmp_path)
    ids = [fake_run(root, monkeypatch) for _ in range(5)]
    target = target_of(root)
    versions = sorted(p.name for p in (target / folder.VERSIONS).iterdir())
    assert versions == [f"{n:06d}-{ids[n - 1]}" for n in (3, 4, 5)]
    assert publish._current(target) == versions[-1] and published_run(target) == ids[-1]
    assert all(status(target, r)["status"] == "published" for r in ids)


def test_a_reader_never_sees_two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another process publishes run after run, a reader that resolves the publication
    once (as the index, the roll-up and the batch do) always reads one run's files; one that
    opens the stable names reads each file whole."""
    root = make_root(tmp_path)
    first = fake_run(root, monkeypatch)
    target = target_of(root)
    argv = [sys.executable, "-c", SCRIPT, "-", "SIGKILL", "run 20", str(root)]
    publisher = subprocess.Popen(argv, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    seen: set[str] = {first}
    reads = 0
    while publisher.poll() is None or reads < 10:
        folder = publish.published_version(target)
        try:
            ids = set()
            for name in NAMES:
                path = folder / name
                for f in [*path.glob("*")] if path.is_dir() else [path]:
                    ids |= set(RUN_ID.findall(f.read_text("utf-8")))
        except FileNotFoundError:  # that version was removed meanwhile (three switches on)
            assert not folder.exists()
            continue
        assert len(ids) == 1, ids
        seen |= ids
        report = (target / "report.html").read_text("utf-8")
        assert report.endswith("</html>\n") and len(set(RUN_ID.findall(report))) == 1
        reads += 1
    assert publisher.returncode == 0, publisher.stderr.read() if publisher.stderr else ""
    assert len(seen) > 2  # the reader did read across switches
    assert published_run(target) in seen


# ---------------------------------------------------------------- migration of plain files


def make_legacy(root: Path, *runs: str, mixed_with: str | None = None) -> Path:
    """A published folder as releases before versions left it: the last run's files as plain
    files (or, ``mixed_with``, half of them from that run: a publish cut short), every run's
    own folder with its copies and its record."""
    target = target_of(root)
    for rid in runs:
        run_dir = target / "runs" / rid
        run_dir.mkdir(parents=True)
        write_results(run_dir)
        record = {"run_id": rid, "status": "published", "exit_code": 0, "fingerprint": "f"}
        (run_dir / "run.json").write_text(json.dumps(record), "utf-8")
    for i, name in enumerate(folder.PUBLISHED):
        src = target / "runs" / (mixed_with if mixed_with and i % 2 else runs[-1]) / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, target / name)
    state = {"fingerprint": "f", "run_id": runs[-1], "published": "2024-01-01T00:00:00+08:00"}
    (target / folder.STATE).write_text(json.dumps(state), "utf-8")
    return target


def test_plain_files_migrate_and_the_report_is_there_throughout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = make_root(tmp_path / "base")
    old = "20240101T000000-aaaaaa"
    make_legacy(base, old)
    steps = steps_of_a_publish(base, monkeypatch, mode="recover")
    assert "switch" in steps and "link report.html" in steps and "link cleaned" in steps
    for i, step in enumerate(steps):
        root = tmp_path / f"case{i}"
        shutil.copytree(base, root, symlinks=True)
        target = target_of(root)
        stopped_at(root, step, "SIGKILL", mode="recover")
        assert published_run(target) == old, step  # every name, plain or linked: the old run
        said = recover(target)  # migrates again if cut before its switch, else links the rest
        assert published_run(target) == old, step
        assert any("migrated" in s for s in said) == (i <= steps.index("switch")), step
        assert_clean(target)
        new = fake_run(root, monkeypatch)
        assert published_run(target) == new, step
        assert_clean(target)
        assert len(list((target / folder.VERSIONS).iterdir())) == 2
        shutil.rmtree(root)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "no-exchange"])
def test_a_run_migrates_then_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if not exchange:  # as on a system without renameat2: folders moved aside, then linked
        monkeypatch.setattr(publish, "_exchange", lambda _a, _b: False)
    elif sys.platform == "linux":  # the atomic exchange a plain folder is replaced with
        (tmp_path / "x").mkdir()
        (tmp_path / "y").symlink_to("x")
        assert publish._exchange(tmp_path / "x", tmp_path / "y")
        assert (tmp_path / "x").is_symlink() and not (tmp_path / "y").is_symlink()
        (tmp_path / "x").unlink()
        (tmp_path / "y").rmdir()
    root = make_root(tmp_path)
    old = "20240101T000000-aaaaaa"
    target = make_legacy(root, old)
    new = fake_run(root, monkeypatch)
    assert published_run(target) == new
    assert_clean(target)
    first = target / folder.VERSIONS / f"000001-{old}"
    assert RUN_ID.findall((first / "report.html").read_text("utf-8")) == [old]
    assert json.loads((first / folder.STATE).read_text("utf-8"))["fingerprint"] == "f"


@pytest.mark.parametrize("cut_status", ["published", "interrupted"])
def test_a_publish_cut_short_by_the_old_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut_status: str
) -> None:
    """The old release's journal names a run half copied over the previous one. Killed with
    kill -9, that run was recorded published (that release finished it next time): it becomes
    the first version. Stopped by SIGTERM, it was recorded interrupted: it stays so, and the
    previous publication is restored from its run folder, whole."""
    before, cut = "20240101T000000-aaaaaa", "20240102T000000-bbbbbb"
    target = make_legacy(make_root(tmp_path), before, cut, mixed_with=before)
    record = status(target, cut) | {"status": cut_status}
    (target / "runs" / cut / "run.json").write_text(json.dumps(record), "utf-8")
    (target / folder.STATE).write_text(json.dumps({"fingerprint": "f", "run_id": before}))
    journal = {"run_id": cut, "fingerprint": "g"}
    (target / folder.LEGACY_JOURNAL).write_text(json.dumps(journal), "utf-8")
    with pytest.raises(AssertionError):
        published_run(target)  # mixed, as the review found it
    recover(target)
    assert_clean(target)
    if cut_status == "published":
        assert published_run(target) == cut
        assert json.loads((target / folder.STATE).read_text("utf-8"))["fingerprint"] == "g"
    else:
        assert published_run(target) == before
        assert status(target, cut)["status"] == "interrupted"  # never relabelled


def test_a_copy_that_followed_the_links_is_published_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cp -rL, rsync without -l, shutil.copytree: `current` and the names become real copies.
    The next run there takes the copy for plain files: it keeps them until it switches."""
    root = make_root(tmp_path / "a")
    ids = [fake_run(root, monkeypatch) for _ in range(2)]
    shutil.copytree(root, tmp_path / "b")
    target = target_of(tmp_path / "b")
    assert (target / folder.CURRENT).is_dir() and not (target / folder.CURRENT).is_symlink()
    assert published_run(target) == ids[-1]
    recover(target)
    assert published_run(target) == ids[-1]
    assert_clean(target)
    new = fake_run(tmp_path / "b", monkeypatch)
    assert published_run(target) == new
    assert_clean(target)


# ---------------------------------------------------------------- braces in paths


def test_paths_reach_papermill_unformatted() -> None:
    """papermill fills output paths in with str.format: a brace must come through as it is."""
    from papermill.parameterize import add_builtin_parameters, parameterize_path

    params = add_builtin_parameters({"county": "x", "year": 2023, "run_dir": "r"})
    for raw in ("/tmp/a{}b/测试{x}县/2023/n.ipynb", "/o/{county}/{0}/}{/n.ipynb"):
        assert parameterize_path(kernels._literal(Path(raw)), params) == raw
