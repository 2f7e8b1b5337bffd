"""``edureport run``: execute the three notebooks with papermill, render, publish if valid.

Every run has its own folder ``<out>/<county>/<year>/runs/<run-id>/`` (never rewritten once
finished) with its executed notebooks, parameters, input hashes, versions (code, packages, the
lock file's SHA-256), step durations, validation results, log, status (``run.json``, rewritten
atomically as the run goes, so it is never half written) and copies of the narrative and config
it read (``sources/``). ``edureport reproduce`` runs into ``reproductions/<run-id>/`` instead
and never publishes. Inputs are hashed again before publishing (:func:`check_unchanged`); a
full disk or a refused write is a :class:`~edureport.errors.StorageError` (exit 74).

Only a passing run is published, and a publication is switched in whole: the run's results are
staged as a new version ``versions/<seq>-<run-id>/`` (with ``published.json``, a manifest of
every file), then the one symlink ``current`` is pointed at it by a single atomic rename. The
published names readers use (``report.html``, ``validation.html``, ``figures.json`` …) are
stable symlinks ``<name> -> current/<name>``, so every path resolution sees the old version or
the new one, never a mix, and the links inside ``report.html`` (``validation.html``) resolve
beside it. The last :data:`KEEP_VERSIONS` versions are kept; older ones are removed after a
switch.

Crash safety: runs of one county-year are serialised by an OS file lock (``.lock``, released by
the kernel when a process dies, so a killed run never leaves a stale lock). The switch of
``current`` is the commit: the next run (:func:`recover`) discards a version staged but not
switched to, records its run as ``interrupted``, records a run whose version *is* current as
``published`` (its publication completed, whatever stopped it after), and migrates a folder
published before versions existed (plain files) without ever removing its report.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edureport import errors
from edureport.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_VALIDATION_FAILED,
    EdureportError,
    InputChanged,
    InputError,
    Interrupted,
    LockedError,
    StorageError,
    status_of,
    storage_errors,
)
from edureport.imports import import_lean
from edureport.keys import key_id
from edureport.paths import NOTEBOOKS_DIR, ledger_folder, published_dir
from edureport.runs import summaries, warm
from edureport.runs.folder import (
    KERNEL_LOG,
    LEGACY_JOURNAL,
    LOCK,
    NOTEBOOKS,
    PARAMETERS,
    RECORD,
    REPORT_HTML,
    REPORT_META,
    REPRODUCTIONS,
    RUN_LOG,
    RUNS,
    SOURCE_FILES,
    SOURCES,
    STATE,
    VALIDATION_JSON,
    _remove,
    new_run_id,
    now,
    read_json,
    write_json,
)
from edureport.runs.kernels import _execute, _Kernels
from edureport.runs.provenance import (
    code_fingerprint,
    code_version,
    lock_sha256,
    package_versions,
    python_version,
)
from edureport.runs.publish import (
    DISCARDED,
    _current,
    _discard_staged,
    _legacy,
    _link_names,
    _migrate,
    _prune,
    _published_run,
    publish,
    published_version,
)
from edureport.runs.steps import check_parameters, sha256


@dataclass
class RunOptions:
    """How to run: timeouts, whether to rerun unchanged inputs, which notebooks to execute."""

    force: bool = False
    cell_timeout: int = 600  # seconds one notebook cell may take before the run is ended
    lock_timeout: float = 60.0  # seconds to wait for another run of the same county-year (<0: ever)
    notebooks_dir: Path = NOTEBOOKS_DIR  # tests point this at a modified copy
    publish: bool = True  # False: a check (``reproduce``), never published, whatever it finds
    reproduces: str | None = None  # the run id a reproduction re-runs (recorded)
    warm_kernels: bool = False  # batch workers: kernels forked from a template (runs.warm)


@dataclass
class RunResult:
    """The outcome of one run, for the CLI and the scheduler."""

    run_dir: Path | None
    report: Path | None
    published: bool
    exit_code: int
    skipped: bool = False
    record: dict[str, Any] = field(default_factory=dict)


def fingerprint(data: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> tuple[str, dict[str, str]]:
    """What a run depends on: every input file (ledgers, narrative, config, last year's), the
    code, notebooks included, and the pseudonym key (by its id: a rotated key changes every
    pseudonym, so the run is not "unchanged"). Returns the digest and each input's SHA-256."""

    inputs = input_hashes(data)
    notebooks = {name: sha256(notebooks_dir / f"{name}.ipynb") for name, _ in NOTEBOOKS}
    blob = json.dumps(
        {"inputs": inputs, "notebooks": notebooks, "code": code_fingerprint(), "key": key_id()},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest(), inputs


def input_hashes(data: Path) -> dict[str, str]:
    """The SHA-256 of every file a run of ``data`` reads: its own, and last year's folder beside
    it as ``previous/<name>``."""
    inputs = {p.name: sha256(p) for p in sorted(data.iterdir()) if p.is_file()}
    prev = previous_folder(data)
    if prev is not None and prev.is_dir():
        inputs |= {f"previous/{p.name}": sha256(p) for p in sorted(prev.iterdir()) if p.is_file()}
    return inputs


def previous_folder(data: Path) -> Path | None:
    """Last year's folder beside a county-year folder ``data`` (None if it is not named for a
    year)."""
    return data.parent / str(int(data.name) - 1) if data.name.isdigit() else None


def input_path(data: Path, name: str) -> Path:
    """The file an input name of a run record stands for (``previous/x`` is last year's)."""
    prev = previous_folder(data)
    if name.startswith("previous/") and prev is not None:
        return prev / name.removeprefix("previous/")
    return data / name


def run(
    county: str,
    year: int,
    data_root: Path,
    out_root: Path,
    options: RunOptions | None = None,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Run clean → validate → report for one county-year; publish only when validation passes.

    Skipped (exit 0) when inputs, code and notebooks are those of the published report, unless
    ``options.force``. Raises :class:`LockedError` when another run holds the county-year,
    :class:`StorageError` when the disk is full or a write is not permitted.
    """
    with storage_errors(out_root):
        return _run(county, year, data_root, out_root, options or RunOptions(), progress)


def _run(
    county: str,
    year: int,
    data_root: Path,
    out_root: Path,
    options: RunOptions,
    progress: Callable[[str], None],
) -> RunResult:
    check_parameters(county, year)
    data = ledger_folder(data_root, county, year).resolve()
    if not data.is_dir():
        raise InputError(f"找不到台账文件夹 ledger folder not found: {data}")
    target = published_dir(out_root, county, year).resolve()
    target.mkdir(parents=True, exist_ok=True)
    with county_year_lock(target, county, year, options.lock_timeout):
        recover(target, progress)
        finger, inputs = fingerprint(data, options.notebooks_dir)
        folder = published_version(target)  # state, report and record of one publication
        state = read_json(folder / STATE)
        if (
            not options.force
            and state.get("fingerprint") == finger
            and (folder / REPORT_HTML).is_file()
        ):
            progress(
                f"输入、叙述、配置和程序均未变化，无需重新运行（--force 强制）unchanged: {target}"
            )
            record = read_json(folder / RECORD)
            return RunResult(None, target / REPORT_HTML, True, EXIT_OK, True, record)
        return _run_locked(county, year, data, target, finger, inputs, options, progress)


@contextmanager
def county_year_lock(target: Path, county: str, year: int, timeout: float) -> Iterator[None]:
    """Hold the county-year's lock (an OS ``flock``: a dead holder releases it)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(target / LOCK))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        holder = _running_run(target)
        raise LockedError(
            f"{county} {year}年正在由另一个运行处理{holder}，等待{timeout:g}秒后放弃，请稍后重试"
            f" another run of this county-year holds the lock: {target / LOCK}"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _running_run(target: Path) -> str:
    """'（运行 <id>，进程 <pid>，开始于 <time>）' for the newest run recorded as running, or ''."""
    for path in sorted((target / "runs").glob("*/run.json"), reverse=True):
        rec = read_json(path)
        if rec.get("status") == "running":
            return f"（运行 {rec['run_id']}，进程 {rec.get('pid')}，开始于 {rec.get('started')}）"
    return ""


def recover(target: Path, progress: Callable[[str], None] = print) -> None:
    """Under the lock: make the published folder one whole publication and every run record true.

    A version staged but never switched to is removed and its run recorded ``interrupted``; the
    run whose version ``current`` points at is recorded ``published`` (its publication completed
    before it was stopped); a folder of plain files (published before versions) becomes the
    first version; other runs still recorded as running (none can be: we hold the lock) are
    recorded ``interrupted``.
    """
    discarded = _prune(target)  # without ``current``, nothing in versions/ was ever published
    if _legacy(target):
        _migrate(target, progress)
    (target / LEGACY_JOURNAL).unlink(missing_ok=True)
    if _current(target):
        _link_names(target)  # a first publish or a migration cut before every name was linked
    for leftover in [*target.glob(".*.tmp"), *target.glob(".*.old")]:
        _remove(leftover)
    published_run = _published_run(target)
    as_published = read_json(published_version(target) / RECORD)
    runs = [*(target / RUNS).glob("*/run.json"), *(target / REPRODUCTIONS).glob("*/run.json")]
    for path in sorted(runs):
        record, run_id = read_json(path), path.parent.name
        if record.get("status") == "published":
            continue
        if run_id == published_run and as_published.get("run_id") == run_id:
            write_json(path, as_published)  # the switch was made before the run was stopped
            progress(
                f"运行 {run_id} 在被中止前已完成发布，记为已发布"
                " its publication had completed before it was stopped: recorded published"
            )
        elif record.get("status") == "running":
            record |= {
                "status": "interrupted",
                "error": "运行被中止（进程被终止或机器重启），由下一次运行发现"
                " the run was killed; found by a later run",
                "exit_code": None,
            }
            if run_id in discarded:
                record["note"] = DISCARDED
            write_json(path, record)


def _run_locked(
    county: str,
    year: int,
    data: Path,
    target: Path,
    finger: str,
    inputs: dict[str, str],
    options: RunOptions,
    progress: Callable[[str], None],
) -> RunResult:
    Interrupted.received = None  # a signal from before this run has been dealt with
    run_dir = target / (REPRODUCTIONS if options.reproduces else RUNS) / new_run_id()
    params = {"county": county, "year": year, "data_dir": str(data), "run_dir": str(run_dir)}
    record: dict[str, Any] = {
        "run_id": run_dir.name,
        "county": county,
        "year": year,
        "started": now(),
        "status": "running",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "parameters": params,
        "options": {"force": options.force, "cell_timeout": options.cell_timeout},
        "fingerprint": finger,
        "inputs": inputs,
        "key_id": key_id(),
        "code_version": code_version(),
        "packages": package_versions(),
        "lock_sha256": lock_sha256(),
        "python": python_version(),
        "steps": {},
    }
    if options.reproduces:
        record["reproduces"] = options.reproduces
    started = time.perf_counter()
    log: Any = None
    failing = False  # once the run is failing, the log and the record are written if they can

    def say(line: str) -> None:
        progress(line)
        if log is None:
            return
        try:
            log.write(f"{now()} {line}\n")
            log.flush()
        except OSError:
            if not failing:
                raise

    publishing = False
    try:
        (run_dir / "notebooks").mkdir(parents=True)
        write_json(run_dir / PARAMETERS, params)
        write_json(run_dir / RECORD, record)
        keep_sources(data, run_dir)
        log = open(run_dir / RUN_LOG, "a", encoding="utf-8")  # closed in finally
        result = _steps(run_dir, params, record, options, say)
        if stop := Interrupted.pending():  # a signal the event loop dropped
            raise stop
        check_unchanged(data, inputs, run_dir)  # a ledger saved during the run: stop here
        if result.exit_code == EXIT_OK and options.publish:
            _finish(record, started, run_dir, EXIT_OK, write=False)  # as it is published
            publishing = True
            publish(run_dir, target, finger, record)
        elif options.publish:
            _finish(record, started, run_dir, result.exit_code)
        else:  # a check: never published, its outcome recorded by the caller
            result = RunResult(run_dir, run_dir / REPORT_HTML, False, result.exit_code)
            _finish(record, started, run_dir, result.exit_code, status=NOT_PUBLISHED)
        result.record = record
        say(f"结束 finished: {record['status']} ({record['duration_s']} s)")
        return result
    except (Exception, KeyboardInterrupt, Interrupted) as exc:
        failing = True
        named = StorageError.from_os(exc, run_dir) if isinstance(exc, OSError) else None
        if publishing and _published_run(target) == run_dir.name:
            # stopped after the switch: the publication is complete, so is the run
            record.clear()
            record.update(read_json(published_version(target) / RECORD))
            _write_record(run_dir, record)
            say(f"已发布，随后被中止 published, then stopped: {named or repr(exc)}")
            if named is not None:
                raise named from exc
            raise
        note = None
        if publishing:  # cut before the switch: readers never saw it; drop what was staged
            note = DISCARDED
            _discard_staged(target)
        if isinstance(exc, KeyboardInterrupt):
            _finish(record, started, run_dir, errors.EXIT_INTERRUPTED, exc, note)
            say("已中断 interrupted")
            raise
        # Interrupted, or an error that is the stop signal's consequence
        stop = exc if isinstance(exc, Interrupted) else Interrupted.pending()
        if stop is not None:
            _finish(record, started, run_dir, stop.exit_code, stop, note)
            say(f"已中断 interrupted: {stop}")
            if stop is exc:
                raise
            raise stop from exc
        if named is not None:  # disk full, no permission: named, with the path
            _finish(record, started, run_dir, named.exit_code, named, note)
            say(f"失败 failed: {named}")
            raise named from exc
        code = exc.exit_code if isinstance(exc, EdureportError) else EXIT_INTERNAL
        _finish(record, started, run_dir, code, exc, note)
        say(f"失败 failed: {record['error']}")
        raise
    finally:
        if log is not None:
            try:
                log.close()
            except OSError:
                pass


NOT_PUBLISHED = "not_published"  # the status of a run made as a check (``reproduce``)


def keep_sources(data: Path, run_dir: Path) -> None:
    """Copy narrative.md and config.yaml (this year's and last year's) into ``sources/``."""
    prev = previous_folder(data)
    for folder, into in ((data, run_dir / SOURCES), (prev, run_dir / SOURCES / "previous")):
        for name in SOURCE_FILES:
            if folder is not None and (folder / name).is_file():
                into.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, into / name)


def check_unchanged(data: Path, inputs: dict[str, str], run_dir: Path) -> None:
    """Hash the inputs again; raise :class:`InputChanged` naming each file whose SHA-256 is
    not the one taken when the run started (rewritten, added or removed since)."""
    now_ = input_hashes(data)
    changed = sorted(n for n in inputs.keys() | now_.keys() if inputs.get(n) != now_.get(n))
    if not changed:
        return

    def how(name: str) -> str:
        if name not in now_:
            return "已删除 removed"
        return "新增 added" if name not in inputs else "已改变 changed"

    names = "；".join(f"{input_path(data, n)}（{how(n)}）" for n in changed)
    raise InputChanged(
        f"运行期间输入文件被修改，未发布 an input changed while the run read it, nothing "
        f"published: {names}。请在文件保存完毕后重新运行 run again once it is saved"
        f"（草稿 draft: {run_dir}）"
    )


def _steps(
    run_dir: Path,
    params: dict[str, Any],
    record: dict[str, Any],
    options: RunOptions,
    say: Callable[[str], None],
) -> RunResult:
    record["notebooks"] = []
    template = warm.enable() if options.warm_kernels else None
    with _Kernels(Path(options.notebooks_dir), run_dir / KERNEL_LOG, template) as kernels:
        try:
            return _notebooks(run_dir, params, record, options, say, kernels)
        finally:
            # "forked": from this batch worker's template (edureport.runs.warm); "new": each
            # a new interpreter (with why a template wanted could not start)
            record["kernels"] = kernels.mode()
            if options.warm_kernels and template is None and warm.failure():
                record["kernels_note"] = warm.failure()


def _notebooks(
    run_dir: Path,
    params: dict[str, Any],
    record: dict[str, Any],
    options: RunOptions,
    say: Callable[[str], None],
    kernels: _Kernels,
) -> RunResult:
    total = len(NOTEBOOKS) + 1
    for i, (name, label) in enumerate(NOTEBOOKS, start=1):
        t0 = time.perf_counter()
        say(f"[{i}/{total}] {label} …")
        if i == 1:  # the first kernel starts and prepares while the runner imports papermill
            kernels.start_ahead(name)
            import_lean("papermill")  # before anything imports nbformat (imports.py)
        record["notebooks"].append(f"notebooks/{name}.ipynb")
        km = kernels.take(name)
        if i < len(NOTEBOOKS):  # the next notebook's kernel starts while this one runs
            kernels.start_ahead(NOTEBOOKS[i][0])
        done = False
        try:
            _execute(name, run_dir, params, options, km)
            if stop := Interrupted.pending():  # a signal the event loop dropped
                raise stop
            done = True
        finally:  # shut down off the critical path; killed at once if the step failed
            kernels.release(km, graceful=done)
        record["steps"][name] = round(time.perf_counter() - t0, 2)
        write_json(run_dir / RECORD, record)
        say(f"      {record['steps'][name]:.1f} s")
        if i == 1:
            for line in summaries.clean_lines(run_dir):
                say(line)
    t0 = time.perf_counter()
    say(f"[{total}/{total}] 导出HTML export …")
    from edureport.render import export_html

    meta = read_json(run_dir / REPORT_META)
    export_html(run_dir / "notebooks" / "3_report.ipynb", run_dir / REPORT_HTML, meta["title"])
    record["steps"]["export"] = round(time.perf_counter() - t0, 2)
    record["warnings"] = meta.get("warnings", [])
    validation = read_json(run_dir / VALIDATION_JSON)
    record["validation"] = validation.get("summary", {})
    for line in summaries.validation_lines(validation):
        say(line)
    if not validation.get("passed", False):
        return RunResult(run_dir, run_dir / REPORT_HTML, False, EXIT_VALIDATION_FAILED)
    return RunResult(run_dir, run_dir.parent.parent / REPORT_HTML, True, EXIT_OK)


def _finish(
    record: dict[str, Any],
    started: float,
    run_dir: Path,
    code: int,
    exc: BaseException | None = None,
    note: str | None = None,
    write: bool = True,
    status: str | None = None,
) -> None:
    """Complete the run record (status from ``code`` and ``exc``, or ``status``); written to the
    run folder if ``write`` (a passing run's record is written there only once its publication
    is switched in; a failed run's only if it can be: the disk may be full)."""
    record["status"] = status or status_of(code, exc)
    if exc is not None:
        record["error_type"] = type(exc).__name__
        record["error"] = str(exc) if isinstance(exc, EdureportError) else f"{exc!r}"
    if note:
        record["note"] = note
    record["finished"] = now()
    record["duration_s"] = round(time.perf_counter() - started, 2)
    record["exit_code"] = code
    if write and exc is None:
        write_json(run_dir / RECORD, record)
    elif write:
        _write_record(run_dir, record)


def _write_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Write a failed run's record if the disk allows it (else the next run finds it running
    and records it ``interrupted``); never raises for that."""
    try:
        write_json(run_dir / RECORD, record)
    except OSError:
        pass
