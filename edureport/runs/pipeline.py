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

import datetime as dt
import errno
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
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
from edureport.runs import steps
from edureport.runs.provenance import (
    code_fingerprint,
    code_version,
    lock_sha256,
    package_versions,
    python_version,
)
from edureport.runs.steps import check_parameters, sha256

NOTEBOOKS = (
    ("1_clean", "清洗台账 clean"),
    ("2_validate", "校验 validate"),
    ("3_report", "生成报告 report"),
)
# What a passing run publishes: each a stable name <name> -> current/<name> in the published
# folder (an entry the run did not produce is a dangling link: absent).
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
KERNEL_LOG = "kernels.log"  # in the run folder: what the notebook kernels printed themselves
# In the run folder: copies of the analyst's own files the run read (small, no personal data),
# this year's and last year's (``sources/previous/``), so that ``reproduce`` can use them.
SOURCES = "sources"
SOURCE_FILES = ("narrative.md", "config.yaml")
RUNS = "runs"  # in the published folder: one folder per run
# In the published folder: one run folder per ``edureport reproduce`` (checks, never published;
# apart from runs/, so that the latest *run* of a county-year is what the index shows).
REPRODUCTIONS = "reproductions"
STATE = "published.json"  # in each version: fingerprint, run id, time, manifest of the files
VERSIONS = "versions"  # in the published folder: versions/<seq>-<run-id>/, one publication each
CURRENT = "current"  # the symlink to the version published now; switching it is the commit
STAGING = ".partial"  # suffix of a version being staged (never pointed at)
KEEP_VERSIONS = 3  # the current version and the ones before it kept (older removed)
LEGACY_JOURNAL = ".publishing.json"  # left by a publish cut short by releases before versions
LOCK = ".lock"
# Called with the name of each publishing step before it is taken (tests kill the run there).
publish_hook: Callable[[str], None] | None = None
# How every notebook kernel is started. The kernel's own log is not ours to show: its start-up
# notices, and at shutdown (jupyter_client interrupts before it shuts down) "KeyboardInterrupt
# caught in kernel" or, when a run is stopped mid-cell, a traceback of a reply to a closed
# socket. Errors in cells reach us through the notebook, a dead kernel as an error. History in
# memory, as nbclient sets it for the kernels it starts (no shared SQLite file).
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:")
START_TIMEOUT = 120  # seconds for a kernel to start and, when started ahead, to prepare
# Errors raised inside a notebook that are the project's own, by exception class name.
_OWN_ERRORS: dict[str, type[EdureportError]] = {
    cls.__name__: cls for cls in (errors.InputError, errors.UsageError, errors.CellError)
}


@dataclass
class RunOptions:
    """How to run: timeouts, whether to rerun unchanged inputs, which notebooks to execute."""

    force: bool = False
    cell_timeout: int = 600  # seconds one notebook cell may take before the run is ended
    lock_timeout: float = 60.0  # seconds to wait for another run of the same county-year (<0: ever)
    notebooks_dir: Path = NOTEBOOKS_DIR  # tests point this at a modified copy
    publish: bool = True  # False: a check (``reproduce``), never published, whatever it finds
    reproduces: str | None = None  # the run id a reproduction re-runs (recorded)


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


def now() -> str:
    """The local time with its UTC offset, as run records store it."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


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
            and (folder / "report.html").is_file()
        ):
            progress(
                f"输入、叙述、配置和程序均未变化，无需重新运行（--force 强制）unchanged: {target}"
            )
            record = read_json(folder / "run.json")
            return RunResult(None, target / "report.html", True, EXIT_OK, True, record)
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
    as_published = read_json(published_version(target) / "run.json")
    runs = [*(target / RUNS).glob("*/run.json"), *(target / REPRODUCTIONS).glob("*/run.json")]
    for path in sorted(runs):
        record, run_id = read_json(path), path.parent.name
        if record.get("status") == "published":
            continue
        if run_id == published_run and as_published.get("run_id") == run_id:
            _write_json(path, as_published)  # the switch was made before the run was stopped
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
            _write_json(path, record)


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
        _write_json(run_dir / "parameters.json", params)
        _write_json(run_dir / "run.json", record)
        keep_sources(data, run_dir)
        log = open(run_dir / "run.log", "a", encoding="utf-8")  # closed in finally
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
            result = RunResult(run_dir, run_dir / "report.html", False, result.exit_code)
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
            record.update(read_json(published_version(target) / "run.json"))
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
    total = len(NOTEBOOKS) + 1
    record["notebooks"] = []
    with _Kernels(Path(options.notebooks_dir), run_dir / KERNEL_LOG) as kernels:
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
            _write_json(run_dir / "run.json", record)
            say(f"      {record['steps'][name]:.1f} s")
            if i == 1:
                for line in steps.clean_lines(run_dir):
                    say(line)
        t0 = time.perf_counter()
        say(f"[{total}/{total}] 导出HTML export …")
        from edureport.render import export_html

        meta = read_json(run_dir / "report_meta.json")
        export_html(
            run_dir / "notebooks" / "3_report.ipynb", run_dir / "report.html", meta["title"]
        )
        record["steps"]["export"] = round(time.perf_counter() - t0, 2)
    record["warnings"] = meta.get("warnings", [])
    validation = read_json(run_dir / "validation.json")
    record["validation"] = validation.get("summary", {})
    for line in steps.validation_lines(validation):
        say(line)
    if not validation.get("passed", False):
        return RunResult(run_dir, run_dir / "report.html", False, EXIT_VALIDATION_FAILED)
    return RunResult(run_dir, run_dir.parent.parent / "report.html", True, EXIT_OK)


class _Kernel:
    """One notebook kernel: its manager, and the silent ``steps.prepare`` request sent to it."""

    def __init__(self, km: Any) -> None:
        self.km = km
        self.clients: list[Any] = []  # every client made for it (nbclient's too), to close
        self.prepare: tuple[Any, str] | None = None  # (client, msg_id) while it prepares


class _Kernels:
    """The kernels of one run's notebooks, each started one notebook ahead of its turn.

    While a notebook runs, the next one's kernel starts and is sent
    ``from edureport import steps; steps.prepare(<notebook>)`` (its libraries, the GX context)
    as a *silent* request: no output, no execution count, nothing in the executed notebook; it
    runs before the notebook's cells, which queue behind it. papermill is handed the started
    kernel (``km=``): nbclient then neither starts nor shuts it down, so :meth:`release` does,
    in a background thread (killed at once when its step failed or was stopped); a kernel
    started ahead and never used is killed; :meth:`close` joins every shut-down, so no kernel
    outlives the run. At most one kernel is started ahead.

    Kernels listen on Unix domain sockets (``transport="ipc"``) in a private temporary folder
    with a short path (a socket path is limited to ~100 bytes; run folders with long county
    names are not): with TCP, jupyter_client picks "free" ports by binding and releasing them,
    so kernels started at the same moment (batch workers) could pick the same port and die
    with "Address already in use".
    """

    def __init__(self, cwd: Path, log: Path | None = None) -> None:
        self.cwd = cwd
        # the kernels' own stdout/stderr (start-up notices, ZMQ noise at shut-down under load)
        # go to the run folder, not the console
        self.log = open(log, "ab") if log else None  # closed in close()
        root = Path(tempfile.gettempdir())
        if len(os.fsencode(root)) > 60 and Path("/tmp").is_dir():  # <dir>/k12-5 under ~100
            root = Path("/tmp")
        _sweep_socket_dirs(root)
        self.dir = Path(tempfile.mkdtemp(prefix=f"edk-{os.getpid()}-", dir=root))
        self.kernels: list[_Kernel] = []  # started, not yet released
        self.ahead: dict[str, _Kernel] = {}
        self.closing: list[threading.Thread] = []
        self.numbers = itertools.count(1)

    def __enter__(self) -> _Kernels:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take(self, name: str) -> Any:
        """The kernel manager for notebook ``name``: the one started ahead once it has prepared,
        else a new kernel (also when the prepared one died, failed or took too long)."""
        kernel = self.ahead.pop(name, None)
        if kernel is not None and not self._prepared(kernel):
            self._shutdown(kernel, now=True)
            kernel = None
        return (kernel or self._start(name, prepare=False)).km

    def start_ahead(self, name: str) -> None:
        if name not in self.ahead and not self.ahead:
            self.ahead[name] = self._start(name, prepare=True)

    def release(self, km: Any, graceful: bool) -> None:
        """Shut the kernel of ``km`` down in the background (``graceful``: ask it first)."""
        for kernel in [k for k in self.kernels if k.km is km]:
            self._shutdown(kernel, now=not graceful)

    def close(self) -> None:
        """Kill the kernels not released, wait for every shut-down, remove the socket folder."""
        self.ahead.clear()
        for kernel in list(self.kernels):
            self._shutdown(kernel, now=True)
        for thread in self.closing:
            thread.join()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.log:
            self.log.close()

    def _start(self, name: str, prepare: bool) -> _Kernel:
        from jupyter_client.manager import KernelManager

        base = str(self.dir / f"k{next(self.numbers)}")
        km = KernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=base,  # sockets <base>-1 … <base>-5
            connection_file=f"{base}.json",
            # nbclient drives the kernel with asyncio; it gets its client from km.client()
            client_class="jupyter_client.asynchronous.AsyncKernelClient",
        )
        kernel = _Kernel(km)
        make_client = km.client

        def client(**kwargs: Any) -> Any:  # remembered, so release() can close its sockets
            kernel.clients.append(make_client(**kwargs))
            return kernel.clients[-1]

        km.client = client
        self.kernels.append(kernel)  # before it starts: close() must find it whatever happens
        try:
            streams = {"stdout": self.log, "stderr": self.log} if self.log else {}
            km.start_kernel(cwd=str(self.cwd), extra_arguments=list(KERNEL_ARGUMENTS), **streams)
        except Exception as exc:
            raise EdureportError(
                f"笔记本 {name}.ipynb 的内核无法启动 the notebook's kernel did not start: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if prepare:  # queued on the shell channel now; the kernel runs it once it is up
            kc = km.blocking_client()
            kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            code = f"from edureport import steps\nsteps.prepare({name!r})"
            msg_id = kc.execute(code, silent=True, store_history=False, stop_on_error=False)
            kernel.prepare = (kc, msg_id)
        return kernel

    def _prepared(self, kernel: _Kernel) -> bool:
        """Wait (up to START_TIMEOUT) for the kernel's prepare request to finish; whether it
        did, without error. Short polls: a signal (Ctrl-C, SIGTERM) is handled at once."""
        assert kernel.prepare is not None
        kc, msg_id = kernel.prepare
        kernel.prepare = None
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                try:
                    reply = kc.get_shell_msg(timeout=0.2)
                except Empty:
                    if not kernel.km.is_alive():
                        return False
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return reply.get("content", {}).get("status") == "ok"
            return False
        finally:
            kc.stop_channels()

    def _shutdown(self, kernel: _Kernel, now: bool) -> None:
        """Close our clients' sockets, then shut the kernel down in a background thread."""
        if kernel in self.kernels:
            self.kernels.remove(kernel)
        if kernel.prepare is not None:
            kernel.prepare[0].stop_channels()
            kernel.prepare = None
        for kc in kernel.clients:
            try:
                kc.stop_channels()
            except Exception:  # already closed, or never started
                pass
        thread = threading.Thread(target=_stop_kernel, args=(kernel.km, now), daemon=True)
        thread.start()
        self.closing.append(thread)


def _sweep_socket_dirs(root: Path) -> None:
    """Remove the kernel socket folders (``edk-<pid>-*``) left by runs killed with ``kill -9``
    (nothing else leaves one behind): ours, untouched for an hour, their process gone."""
    for folder in root.glob("edk-*-*"):
        pid = folder.name.split("-")[1]
        try:
            info = folder.lstat()
        except OSError:
            continue
        if not pid.isdigit() or info.st_uid != os.getuid() or time.time() - info.st_mtime < 3600:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, someone else's
            continue


def _stop_kernel(km: Any, now: bool) -> None:
    """Shut a kernel down, in a thread of its own; its process is gone when this returns."""
    from jupyter_core.utils import ensure_event_loop

    try:
        if km.has_kernel:
            km.shutdown_kernel(now=now)
    except Exception:  # already dead or half started: make sure the process is gone
        try:
            if km.has_kernel:
                km.kill_kernel()
            km.cleanup_resources()
        except Exception:
            pass
    finally:
        ensure_event_loop().close()  # the one jupyter_client's sync calls made for this thread


def _readable_parameters() -> None:
    """Write string parameters into the executed notebooks as Python literals that read as they
    are (``county = '示例县'``), not papermill's ``"\\u793a\\u4f8b\\u53bf"``."""
    from papermill.translators import PythonTranslator, papermill_translators

    class Readable(PythonTranslator):  # type: ignore[misc]
        @classmethod
        def translate_str(cls, val: str) -> str:
            return repr(val)  # escapes quotes and control characters, keeps Chinese

    papermill_translators.register("python", Readable)


def _execute(
    name: str, run_dir: Path, params: dict[str, object], options: RunOptions, km: Any = None
) -> None:
    """Execute notebook ``name`` into the run folder, in the started kernel ``km`` (papermill
    starts and shuts down its own when None)."""
    pm = import_lean("papermill")
    from papermill.exceptions import PapermillExecutionError

    _readable_parameters()

    source = Path(options.notebooks_dir) / f"{name}.ipynb"
    output = run_dir / "notebooks" / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            _literal(source),
            _literal(output),
            parameters=params,
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            km=km,
            execution_timeout=options.cell_timeout,
            start_timeout=START_TIMEOUT,
            extra_arguments=list(KERNEL_ARGUMENTS),  # for a kernel papermill starts itself
        )
    except PapermillExecutionError as exc:
        own = _OWN_ERRORS.get(exc.ename)
        if own is not None:
            raise own(exc.evalue) from None
        named = StorageError.from_text(exc.ename, exc.evalue, run_dir)
        if named is not None:  # the disk filled or a write was refused inside the notebook
            raise named from None
        raise EdureportError(
            f"笔记本 {name}.ipynb {_cell_name(output, failed=True)} 出错 cell failed: "
            f"{exc.ename}: {exc.evalue}（已执行的笔记本保存在 executed notebook kept: {output}）"
        ) from exc
    except TimeoutError as exc:  # nbclient's CellTimeoutError: a cell past --cell-timeout
        raise EdureportError(
            f"笔记本 {name}.ipynb {_cell_name(output, failed=False)} "
            f"超过{options.cell_timeout}秒未完成，"
            f"运行已中止 cell exceeded the cell timeout of {options.cell_timeout} s"
            f"（已执行部分 executed part kept: {output}）"
        ) from exc
    except RuntimeError as exc:  # nbclient's DeadKernelError, or a kernel that would not start
        raise EdureportError(
            f"笔记本 {name}.ipynb 运行中止 notebook aborted: {type(exc).__name__}: {exc}"
            f"（已执行部分 executed part kept: {output}）"
        ) from exc


def _literal(path: Path) -> str:
    """``path`` as papermill must be given it: it fills paths in as format strings with the
    parameters (``str.format``), so a brace in a county name or ``--out`` is doubled to stay."""
    return str(path).replace("{", "{{").replace("}", "}}")


def _cell_name(executed: Path, failed: bool) -> str:
    """'第3个单元格 cell 3（its first line）' for the cell that failed (``failed``) or was running
    (a timeout), numbered as in the committed notebook (cells papermill adds are not counted)."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return "（单元格未知 cell unknown）"
    added = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in cells if not added & set(c.metadata.get("tags", []))]
    marks = [c.metadata.get("papermill", {}) for c in cells]
    hits = [
        i for i, m in enumerate(marks) if (m.get("exception") if failed else m.get("start_time"))
    ]
    if not hits:
        return "（启动时 at kernel start）"
    index = hits[0] if failed else hits[-1]
    first = next((ln.strip() for ln in cells[index].source.splitlines() if ln.strip()), "")
    first = first if len(first) <= 60 else first[:57] + "…"
    return f"第{index + 1}个单元格 cell {index + 1}（{first}）"


DISCARDED = (
    "发布未完成即被中止，已丢弃，此前发布的报告不变"
    " the publish was cut short before the switch and discarded; the previous report stays"
)


def published_version(target: Path) -> Path:
    """The folder holding the county-year's published files as one set: the version ``current``
    points at (read once, so a switch meanwhile does not mix two), or ``target`` itself when it
    has no version (nothing published yet, or plain files published before versions)."""
    name = _current(target)
    return target / VERSIONS / name if name else target


def publish(run_dir: Path, target: Path, finger: str, record: dict[str, Any]) -> str:
    """Publish a passing run: stage its results as a new version (``record``, the run record as
    published, is its ``run.json``), switch ``current`` to it — the commit, one atomic rename —
    then write the record to the run folder, make sure every published name is its link, and
    remove old versions. Returns the version's name."""
    state = {"fingerprint": finger, "run_id": run_dir.name, "published": now()}
    name = _stage(run_dir, target, state, record)
    _step("switch")
    _switch(target, name)
    _step("record")
    _write_json(run_dir / "run.json", record)
    _step("links")
    _link_names(target)
    _step("prune")
    try:
        _prune(target)
    except OSError:  # an old version that cannot be removed now is removed by a later run
        pass
    _step("done")
    return name


def _step(name: str) -> None:
    if publish_hook is not None:
        publish_hook(name)


def _stage(
    source: Path, target: Path, state: dict[str, Any], record: dict[str, Any] | None = None
) -> str:
    """Copy the published entries of ``source`` (a run folder, or a folder of plain files being
    migrated) into ``versions/<seq>-<run-id>.partial/``, with ``record`` as its run.json when
    given and ``published.json`` (``state`` and a SHA-256 manifest of every file); flush it to
    disk and rename it to ``versions/<seq>-<run-id>/``. Returns that name."""
    versions = target / VERSIONS
    versions.mkdir(exist_ok=True)
    name = f"{_next_seq(versions):06d}-{state.get('run_id') or 'legacy'}"
    stage = versions / f"{name}{STAGING}"
    _remove(stage)
    stage.mkdir()
    for entry in PUBLISHED:
        _step(f"stage {entry}")
        src, dst = source / entry, stage / entry
        if entry == "run.json" and record is not None:
            _write_json(dst, record)
        elif src.is_dir():
            shutil.copytree(src, dst)
        elif src.is_file():
            shutil.copy2(src, dst)
    _step(f"stage {STATE}")
    files = {
        p.relative_to(stage).as_posix(): sha256(p)
        for p in sorted(stage.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }
    _write_json(stage / STATE, {**state, "version": name, "files": files})
    _fsync_tree(stage)
    _step("seal")
    os.replace(stage, versions / name)
    _fsync_dir(versions)
    return name


def _switch(target: Path, name: str) -> None:
    """Point ``current`` at ``versions/<name>``: a new link renamed over the old one, atomic."""
    tmp = target / f".{CURRENT}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(f"{VERSIONS}/{name}", tmp, target_is_directory=True)
    _put_link(tmp, target / CURRENT)
    _fsync_dir(target)


def _link_names(target: Path) -> None:
    """Make each published name the link ``<name> -> current/<name>`` (made once; a plain file
    or folder left from before versions is replaced by its link in one rename: its content is
    the current version's already, so the name never goes missing)."""
    for name in (*PUBLISHED, STATE):
        path, want = target / name, f"{CURRENT}/{name}"
        if path.is_symlink() and os.readlink(path) == want:
            continue
        _step(f"link {name}")
        tmp = target / f".{name}.link.tmp"
        _remove(tmp)
        os.symlink(want, tmp)
        _put_link(tmp, path)
    _fsync_dir(target)


def _put_link(link: Path, path: Path) -> None:
    """Rename the new symlink ``link`` to ``path`` (atomic). A real folder at ``path`` (left from
    before versions, or by a copy of the output that followed the links) cannot be renamed over:
    it is swapped out in one exchange where the system has one, else moved aside first (then
    ``path`` is absent for an instant)."""
    if path.is_dir() and not path.is_symlink():
        if _exchange(link, path):  # the link takes its place, the folder goes to ``link``
            _remove(link)
            return
        old = path.with_name(f".{path.name}.old")
        _remove(old)
        os.replace(path, old)
        os.replace(link, path)
        _remove(old)
    else:
        os.replace(link, path)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where that is not available (another system, an old kernel or C library, the file system)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


_VERSION_NAME = re.compile(r"(\d{6,})-(.+?)(" + re.escape(STAGING) + r")?")


def _current(target: Path) -> str | None:
    """The name of the version ``current`` points at, or None (no version published)."""
    try:
        link = Path(os.readlink(target / CURRENT))
    except OSError:
        return None
    if link.parent != Path(VERSIONS) or not (target / VERSIONS / link.name).is_dir():
        return None
    return link.name


def _published_run(target: Path) -> str | None:
    """The run id of the version ``current`` points at, or None."""
    if not _current(target):
        return None
    return read_json(published_version(target) / STATE).get("run_id")


def _next_seq(versions: Path) -> int:
    seqs = [int(m.group(1)) for p in versions.iterdir() if (m := _VERSION_NAME.fullmatch(p.name))]
    return max(seqs, default=0) + 1


def _prune(target: Path) -> set[str]:
    """Remove the versions not kept: those never switched to (staged, or sealed and cut before
    the switch: numbered after the current one; all of them when there is none), and all but
    the last KEEP_VERSIONS up to the current one. Returns the run ids of those never switched
    to. Only names of the form ``<seq>-<run-id>`` are touched."""
    versions = target / VERSIONS
    if not versions.is_dir():
        return set()
    current = _current(target)
    top = int(current.split("-", 1)[0]) if current else 0
    never, before = set(), []
    for path in versions.iterdir():
        m = _VERSION_NAME.fullmatch(path.name)
        if not m or path.name == current:
            continue
        if m.group(3) or int(m.group(1)) > top:
            never.add(m.group(2))
            _remove(path)
        else:
            before.append((int(m.group(1)), path))
    for _, path in sorted(before)[: max(0, len(before) - (KEEP_VERSIONS - 1))]:
        _remove(path)
    return never


def _discard_staged(target: Path) -> None:
    """After a publish cut before its switch: remove what it staged (best effort; otherwise the
    next run does)."""
    try:
        _prune(target)
        for leftover in target.glob(".*.tmp"):
            _remove(leftover)
    except OSError:
        pass


def _legacy(target: Path) -> bool:
    """Whether ``target`` holds a publication from before versions: plain files, no ``current``."""
    if _current(target):
        return False
    names = (*PUBLISHED, STATE)
    return (target / LEGACY_JOURNAL).exists() or any(
        (target / n).exists() and not (target / n).is_symlink() for n in names
    )


def _migrate(target: Path, progress: Callable[[str], None]) -> None:
    """Make the plain files published before versions existed the first version: a copy is
    staged and switched in, then each plain name is replaced by its link (whose content is the
    same), so the last good report is there throughout. If that release's publish was cut short
    (its journal is left), the files may be mixed: the first version is then the run it was
    publishing if that run was recorded published (kill -9: that release would have finished
    it), else the publication it was replacing, from its run folder."""
    source, state = target, read_json(target / STATE)
    journal = read_json(target / LEGACY_JOURNAL)
    if journal:
        cut = target / "runs" / str(journal.get("run_id", ""))
        before = target / "runs" / str(state.get("run_id", ""))
        if read_json(cut / "run.json").get("status") == "published" and _whole(cut):
            source = cut
            state = {"fingerprint": journal.get("fingerprint"), "run_id": cut.name}
            state["published"] = now()
        elif state.get("run_id") and _whole(before):
            source = before
        else:  # no whole copy: keep what readers have, but never skip the next run
            state = {}
    name = _stage(source, target, state)
    _step("switch")
    _switch(target, name)
    _link_names(target)
    (target / LEGACY_JOURNAL).unlink(missing_ok=True)
    progress(
        f"已发布的文件已迁移为版本 {VERSIONS}/{name}"
        f" migrated the published files to {VERSIONS}/{name}"
    )


def _whole(run_dir: Path) -> bool:
    return (run_dir / "report.html").is_file() and (run_dir / "run.json").is_file()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk (before the switch makes it visible)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames in it) to disk, where the system allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
        _write_json(run_dir / "run.json", record)
    elif write:
        _write_record(run_dir, record)


def _write_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Write a failed run's record if the disk allows it (else the next run finds it running
    and records it ``interrupted``); never raises for that."""
    try:
        _write_json(run_dir / "run.json", record)
    except OSError:
        pass


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place: readers see old or new, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)  # no half-written file left beside (a full disk)
        except OSError:
            pass
        raise


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
        rec = read_json(path / "run.json") or {"status": "incomplete (no run.json)"}
        records.append(
            {
                "county": c,
                "year": y,
                "run_id": path.name,
                "started": rec.get("started", ""),
                "status": rec.get("status"),
                "exit_code": rec.get("exit_code"),
                "duration_s": rec.get("duration_s"),
                "path": str(path),
            }
        )
    return sorted(records, key=lambda r: r["run_id"])
