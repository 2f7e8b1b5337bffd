"""``edureport run``: execute the three notebooks with papermill, render, publish if valid.

Every run has its own folder ``<out>/<county>/<year>/runs/<run-id>/`` (never rewritten) with its
executed notebooks, parameters, input hashes, versions, step durations, validation results, log
and exit status (``run.json``). Only a passing run is published, each file written beside and
renamed into place, so readers never see half a report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_VALIDATION_FAILED,
    EdureportError,
    InputError,
    LockedError,
    UsageError,
)
from .paths import NOTEBOOKS_DIR, county_year_dir, published_dir
from .provenance import code_fingerprint, code_version, package_versions
from .steps import check_parameters, sha256

NOTEBOOKS = (
    ("1_clean", "清洗台账 clean"),
    ("2_validate", "校验 validate"),
    ("3_report", "生成报告 report"),
)
# What a passing run publishes; report.html is replaced last.
PUBLISHED = (
    "report.docx",
    "notebooks",
    "cleaned",
    "set_aside.csv",
    "conservation.json",
    "validation.json",
    "validation.html",
    "figures.json",
    "inputs.json",
    "run.json",
    "report.html",
)
STATE = "published.json"  # in the published folder: the fingerprint of the published run
# Errors raised inside a notebook that are the project's own, by exception class name.
_OWN_ERRORS: dict[str, type[EdureportError]] = {"InputError": InputError, "UsageError": UsageError}


@dataclass
class RunOptions:
    """How to run: timeouts and whether to rerun unchanged inputs."""

    force: bool = False
    cell_timeout: int = 600  # seconds one notebook cell may take before the run is ended
    lock_timeout: float = 60.0  # seconds to wait for another run of the same county-year


@dataclass
class RunResult:
    """The outcome of one run, for the CLI and the scheduler."""

    run_dir: Path | None
    report: Path | None
    published: bool
    exit_code: int
    skipped: bool = False
    record: dict[str, Any] = field(default_factory=dict)


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def fingerprint(data: Path) -> str:
    """What a run depends on: every input file (ledgers, narrative, config) and the code."""
    inputs = {p.name: sha256(p) for p in sorted(data.iterdir()) if p.is_file()}
    prev = data.parent / str(int(data.name) - 1) if data.name.isdigit() else None
    if prev and prev.is_dir():
        inputs |= {f"previous/{p.name}": sha256(p) for p in sorted(prev.iterdir()) if p.is_file()}
    blob = json.dumps({"inputs": inputs, "code": code_fingerprint()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def run(
    county: str,
    year: int,
    data_root: Path,
    out_root: Path,
    options: RunOptions | None = None,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Run clean → validate → report for one county-year; publish only when validation passes."""
    from filelock import FileLock, Timeout

    options = options or RunOptions()
    check_parameters(county, year)
    data = county_year_dir(data_root, county, year).resolve()
    if not data.is_dir():
        raise InputError(f"找不到台账文件夹 ledger folder not found: {data}")
    target = published_dir(out_root, county, year).resolve()
    target.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target / ".lock"))
    try:
        lock.acquire(timeout=options.lock_timeout)
    except Timeout:
        raise LockedError(
            f"{county} {year}年正在由另一个运行处理，等待{options.lock_timeout:g}秒后放弃"
            f" another run of this county-year holds the lock: {target / '.lock'}"
        ) from None
    try:
        finger = fingerprint(data)
        state = _read_json(target / STATE)
        if not options.force and state.get("fingerprint") == finger:
            progress(
                f"输入、叙述、配置和程序均未变化，无需重新运行（--force 强制）unchanged: {target}"
            )
            return RunResult(None, target / "report.html", True, EXIT_OK, skipped=True)
        return _run_locked(county, year, data, target, finger, options, progress)
    finally:
        lock.release()


def _run_locked(
    county: str,
    year: int,
    data: Path,
    target: Path,
    finger: str,
    options: RunOptions,
    progress: Callable[[str], None],
) -> RunResult:
    run_dir = target / "runs" / new_run_id()
    (run_dir / "notebooks").mkdir(parents=True)
    log = open(run_dir / "run.log", "a", encoding="utf-8")

    def say(line: str) -> None:
        progress(line)
        log.write(f"{dt.datetime.now().isoformat(timespec='seconds')} {line}\n")
        log.flush()

    params = {"county": county, "year": year, "data_dir": str(data), "run_dir": str(run_dir)}
    record: dict[str, Any] = {
        "run_id": run_dir.name,
        "county": county,
        "year": year,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "parameters": params,
        "fingerprint": finger,
        "code_version": code_version(),
        "packages": package_versions(),
        "steps": {},
        "status": "running",
    }
    _write_json(run_dir / "parameters.json", params)
    started = time.perf_counter()
    try:
        result = _steps(run_dir, params, record, options, say)
        if result.exit_code == EXIT_OK:
            record["status"] = "published"
            _finish(record, started, run_dir, EXIT_OK)
            publish(run_dir, target)
            _write_json(target / STATE, {"fingerprint": finger, "run_id": run_dir.name})
        else:
            record["status"] = "validation_failed"
            _finish(record, started, run_dir, result.exit_code)
        result.record = record
        say(f"结束 finished: {record['status']} ({record['duration_s']} s)")
        return result
    except EdureportError as exc:
        record["status"], record["error"] = type(exc).__name__, str(exc)
        _finish(record, started, run_dir, exc.exit_code)
        say(f"失败 failed: {exc}")
        raise
    except BaseException as exc:
        record["status"], record["error"] = "internal_error", f"{type(exc).__name__}: {exc}"
        _finish(record, started, run_dir, EXIT_INTERNAL)
        say(f"失败 failed: {record['error']}")
        raise
    finally:
        log.close()


def _steps(
    run_dir: Path,
    params: dict[str, Any],
    record: dict[str, Any],
    options: RunOptions,
    say: Callable[[str], None],
) -> RunResult:
    total = len(NOTEBOOKS) + 1
    for i, (name, label) in enumerate(NOTEBOOKS, start=1):
        t0 = time.perf_counter()
        say(f"[{i}/{total}] {label} …")
        _execute(name, run_dir, params, options.cell_timeout)
        record["steps"][name] = round(time.perf_counter() - t0, 2)
        say(f"      {record['steps'][name]:.1f} s")
    t0 = time.perf_counter()
    say(f"[{total}/{total}] 导出HTML export …")
    from .render import export_html

    meta = _read_json(run_dir / "report_meta.json")
    export_html(run_dir / "notebooks" / "3_report.ipynb", run_dir / "report.html", meta["title"])
    record["steps"]["export"] = round(time.perf_counter() - t0, 2)
    record["warnings"] = meta.get("warnings", [])
    validation = _read_json(run_dir / "validation.json")
    record["validation"] = validation.get("summary", {})
    if not validation.get("passed", False):
        return RunResult(run_dir, run_dir / "report.html", False, EXIT_VALIDATION_FAILED)
    return RunResult(run_dir, published_dir_of(run_dir) / "report.html", True, EXIT_OK)


def published_dir_of(run_dir: Path) -> Path:
    return run_dir.parent.parent


def _execute(name: str, run_dir: Path, params: dict[str, object], cell_timeout: int) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output = run_dir / "notebooks" / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            str(NOTEBOOKS_DIR / f"{name}.ipynb"),
            str(output),
            parameters=params,
            cwd=str(NOTEBOOKS_DIR),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            execution_timeout=cell_timeout,
            start_timeout=120,
            # The kernel's own start-up chatter (e.g. its TCP transport notice) is not ours to show.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        own = _OWN_ERRORS.get(exc.ename)
        if own is not None:
            raise own(exc.evalue) from None
        raise EdureportError(
            f"笔记本 {name}.ipynb 第{exc.exec_count}个代码单元格出错 notebook cell failed: "
            f"{exc.ename}: {exc.evalue}（已执行部分保存在 executed notebook kept: {output}）"
        ) from exc
    except (TimeoutError, RuntimeError) as exc:  # a cell past its timeout, or a dead kernel
        raise EdureportError(
            f"笔记本 {name}.ipynb 运行中止 notebook aborted: {type(exc).__name__}: {exc}"
            f"（已执行部分 executed part: {output}）"
        ) from exc


def publish(run_dir: Path, target: Path) -> None:
    """Copy a passing run's results to ``target``: each entry written beside, then renamed."""
    for name in PUBLISHED:
        src = run_dir / name
        if not src.exists():
            continue
        staged = target / f".{name}.{run_dir.name}.tmp"
        if src.is_dir():
            shutil.rmtree(staged, ignore_errors=True)
            shutil.copytree(src, staged)
            old = target / f".{name}.{run_dir.name}.old"
            if (target / name).exists():
                os.replace(target / name, old)
            os.replace(staged, target / name)
            shutil.rmtree(old, ignore_errors=True)
        else:
            shutil.copy2(src, staged)
            os.replace(staged, target / name)


def _finish(record: dict[str, Any], started: float, run_dir: Path, code: int) -> None:
    record["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    record["duration_s"] = round(time.perf_counter() - started, 2)
    record["exit_code"] = code
    _write_json(run_dir / "run.json", record)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def list_runs(
    out_root: Path, county: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Every run record under ``out_root`` (optionally one county and/or year), oldest first."""
    records = []
    for path in sorted(Path(out_root).glob("*/*/runs/*")):
        if not path.is_dir():
            continue
        c, y = path.parent.parent.parent.name, path.parent.parent.name
        if (county and c != county) or (year and y != str(year)):
            continue
        rec = _read_json(path / "run.json") or {"status": "incomplete (no run.json)"}
        records.append(
            {
                "county": c,
                "year": y,
                "run_id": path.name,
                "started": rec.get("started", ""),
                "status": rec.get("status"),
                "duration_s": rec.get("duration_s"),
                "path": str(path),
            }
        )
    return sorted(records, key=lambda r: r["run_id"])
