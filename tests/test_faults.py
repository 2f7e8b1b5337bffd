"""Faults a scheduled run meets, named plainly: a full disk or a refused write (exit 74, the
path named, the run recorded as failed with that reason), a ledger saved while the run reads it
(exit 75, the file named); each time the published report stays as it was."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from edureport import cli
from edureport.errors import (
    EXIT_IO,
    EXIT_LOCKED,
    InputChanged,
    StorageError,
    storage_errors,
)
from edureport.runs import folder, kernels, pipeline, publish

from .test_runs import (
    COUNTY,
    YEAR,
    assert_intact,
    broken_notebooks,
    lock_is_free,
    new_run,
    private_copy,
    published,
    published_county,
    run_args,
    run_dirs,
)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return published_county(tmp_path_factory.mktemp("faults"))


@pytest.fixture
def work(baseline: Path, tmp_path: Path) -> Path:
    return private_copy(baseline, tmp_path)


def _record(run_dir: Path | None) -> dict[str, Any]:
    assert run_dir is not None
    return json.loads((run_dir / "run.json").read_text("utf-8"))


def _main(work: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = cli.main([str(a) for a in run_args(work, "--force")])
    return code, capsys.readouterr().err


def test_os_errors_are_named_or_left_alone(tmp_path: Path) -> None:
    full = StorageError.from_os(OSError(errno.ENOSPC, "No space left on device", "/srv/a.json"))
    assert full is not None and full.exit_code == EXIT_IO == 74 and full.status == "disk_full"
    assert str(full).startswith("磁盘空间不足 disk full: /srv/a.json")
    denied = StorageError.from_os(PermissionError(errno.EACCES, "Permission denied", "/srv/b"))
    assert denied is not None and denied.status == "permission_denied"
    assert str(denied).startswith("无写入权限 permission denied: /srv/b")
    assert StorageError.from_os(FileNotFoundError(errno.ENOENT, "gone", "/x")) is None
    assert StorageError.from_os(ValueError("not an OSError")) is None
    # inside a notebook: from the error's class name and text; pyarrow's names no file
    text = StorageError.from_text(
        "OSError", "[Errno 28] No space left on device: '/r/x.parquet'", "/r"
    )
    assert text is not None and text.path == "/r/x.parquet"
    arrow = "[Errno 28] Error writing bytes to file. Detail: [errno 28] No space left on device"
    assert (StorageError.from_text("OSError", arrow, "/run") or text).path == "/run"
    assert StorageError.from_text("ValueError", "[Errno 28] x", "/r") is None
    with pytest.raises(StorageError), storage_errors(tmp_path):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")


@pytest.mark.slow
def test_disk_full_while_publishing(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """ENOSPC when the run copies its results into a new version: exit 74, the path named, the
    run recorded ``disk_full``, the half-staged version dropped, the published report intact."""
    report, before = (published(work) / "report.html").read_bytes(), run_dirs(work)
    full: list[str] = []

    def hook(step: str) -> None:
        if step == "stage figures.json":
            path = next((published(work) / folder.VERSIONS).glob("*.partial")) / "figures.json"
            full.append(str(path))
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(publish, "publish_hook", hook)
    code, err = _main(work, capsys)
    assert code == EXIT_IO
    assert "磁盘空间不足 disk full" in err and full[0] in err and "Traceback" not in err
    record = _record(new_run(work, before))
    assert record["status"] == "disk_full" and record["exit_code"] == EXIT_IO
    assert full[0] in record["error"] and "note" in record  # discarded before the switch
    assert not list((published(work) / folder.VERSIONS).glob("*.partial"))
    assert_intact(work, report)


@pytest.mark.slow
def test_disk_full_when_even_the_record_cannot_be_written(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write fails once the notebooks are done: still a named fault, no traceback; the
    record left ``running`` is settled as interrupted by the next run."""
    report, before = (published(work) / "report.html").read_bytes(), run_dirs(work)
    real_steps, real_write = pipeline._steps, folder.write_atomic
    full = False

    def steps(*args: Any, **kwargs: Any) -> pipeline.RunResult:
        nonlocal full
        result = real_steps(*args, **kwargs)
        full = True
        return result

    def write_atomic(path: Path, text: str) -> None:
        if full:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)

    monkeypatch.setattr(pipeline, "_steps", steps)
    monkeypatch.setattr(folder, "write_atomic", write_atomic)
    with pytest.raises(StorageError) as caught:
        pipeline.run(COUNTY, YEAR, work / "data", work / "out", pipeline.RunOptions(force=True))
    assert caught.value.exit_code == EXIT_IO and "磁盘空间不足" in str(caught.value)
    run_dir = new_run(work, before)
    assert _record(run_dir)["status"] == "running"  # the last write that could be made
    assert_intact(work, report)
    monkeypatch.setattr(folder, "write_atomic", real_write)
    pipeline.recover(published(work), lambda _line: None)
    assert _record(run_dir)["status"] == "interrupted"


@pytest.mark.slow
def test_a_refused_write_inside_a_notebook(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = "raise PermissionError(13, 'Permission denied', '/srv/out/cleaned/aid.parquet')"
    folder = broken_notebooks(tmp_path, "1_clean", code)
    real = pipeline.RunOptions

    def options(*args: Any, **kwargs: Any) -> pipeline.RunOptions:
        return real(*args, **{**kwargs, "notebooks_dir": folder})

    monkeypatch.setattr(pipeline, "RunOptions", options)
    report, before = (published(work) / "report.html").read_bytes(), run_dirs(work)
    exit_code, err = _main(work, capsys)
    assert exit_code == EXIT_IO and "Traceback" not in err
    assert "无写入权限 permission denied: /srv/out/cleaned/aid.parquet" in err
    record = _record(new_run(work, before))
    assert record["status"] == "permission_denied" and record["exit_code"] == EXIT_IO
    assert_intact(work, report)


@pytest.mark.slow
def test_a_ledger_saved_during_the_run_stops_it(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The analyst saves a ledger while step 2 runs: the inputs hashed again before publishing
    differ, so nothing is published, the file is named, exit 75 (try again later)."""
    report, before = (published(work) / "report.html").read_bytes(), run_dirs(work)
    data = work / "data" / COUNTY / str(YEAR)
    ledger = next(p for p in sorted(data.iterdir()) if "资助发放" in p.name)
    real = kernels._execute

    def execute(name: str, *args: Any, **kwargs: Any) -> None:
        real(name, *args, **kwargs)
        if name == "1_clean":
            with open(ledger, "ab") as fh:  # as Excel rewrites the file on save
                fh.write(b"\n")

    monkeypatch.setattr(pipeline, "_execute", execute)
    code, err = _main(work, capsys)
    assert code == EXIT_LOCKED == 75 and "Traceback" not in err
    assert str(ledger) in err and "已改变 changed" in err and "未发布" in err
    run_dir = new_run(work, before)
    record = _record(run_dir)
    assert record["status"] == "input_changed" and record["exit_code"] == EXIT_LOCKED
    assert (run_dir / "report.html").is_file()  # the draft is kept in the run folder
    assert_intact(work, report)
    assert lock_is_free(published(work))
    assert issubclass(InputChanged, Exception)
