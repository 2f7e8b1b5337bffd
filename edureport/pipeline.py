"""``edureport run``: execute the three notebooks with papermill, render, publish if valid.

Every run has its own folder ``<out>/<county>/<year>/runs/<run-id>/`` (never rewritten once
finished) with its executed notebooks, parameters, input hashes, versions, step durations,
validation results, log and status (``run.json``, rewritten atomically as the run goes, so it is
never half written). Only a passing run is published, each file written beside and renamed into
place, ``report.html`` last, so readers never see half a report.

Crash safety: runs of one county-year are serialised by an OS file lock (``.lock``, released by
the kernel when a process dies, so a killed run never leaves a stale lock). A publish first
writes a journal (``.publishing.json``); the next run finishes a publish that was killed half-way
(the run folder holds the complete, validated result), sweeps staged leftovers, and marks runs
whose record still says ``running`` as ``interrupted``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from . import errors, steps
from .errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_VALIDATION_FAILED,
    EdureportError,
    InputError,
    Interrupted,
    LockedError,
    status_of,
)
from .imports import import_lean
from .paths import NOTEBOOKS_DIR, county_year_dir, published_dir
from .provenance import code_fingerprint, code_version, package_versions
from .steps import check_parameters, sha256

NOTEBOOKS = (
    ("1_clean", "清洗台账 clean"),
    ("2_validate", "校验 validate"),
    ("3_report", "生成报告 report"),
)
# What a passing run publishes, in this order; report.html is replaced last.
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
STATE = "published.json"  # in the published folder: fingerprint, run id and time of the publish
JOURNAL = ".publishing.json"  # present only while a publish is under way
LOCK = ".lock"
# How every notebook kernel is started. The kernel's own log is not ours to show: its start-up
# notices, and at shutdown (jupyter_client interrupts before it shuts down) "KeyboardInterrupt
# caught in kernel" or, when a run is stopped mid-cell, a traceback of a reply to a closed
# socket. Errors in cells reach us through the notebook, a dead kernel as an error. History in
# memory, as nbclient sets it for the kernels it starts (no shared SQLite file).
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:")
START_TIMEOUT = 120  # seconds for a kernel to start and, when started ahead, to prepare
# Errors raised inside a notebook that are the project's own, by exception class name.
_OWN_ERRORS: dict[str, type[EdureportError]] = {
    cls.__name__: cls
    for cls in (errors.InputError, errors.UsageError, errors.ValidationFailed, errors.CellError)
}


@dataclass
class RunOptions:
    """How to run: timeouts, whether to rerun unchanged inputs, which notebooks to execute."""

    force: bool = False
    cell_timeout: int = 600  # seconds one notebook cell may take before the run is ended
    lock_timeout: float = 60.0  # seconds to wait for another run of the same county-year (<0: ever)
    notebooks_dir: Path = NOTEBOOKS_DIR  # tests point this at a modified copy


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
    """What a run depends on: every input file (ledgers, narrative, config, last year's) and the
    code, notebooks included. Returns the digest and the SHA-256 of each input file."""
    inputs = {p.name: sha256(p) for p in sorted(data.iterdir()) if p.is_file()}
    prev = data.parent / str(int(data.name) - 1) if data.name.isdigit() else None
    if prev and prev.is_dir():
        inputs |= {f"previous/{p.name}": sha256(p) for p in sorted(prev.iterdir()) if p.is_file()}
    notebooks = {name: sha256(notebooks_dir / f"{name}.ipynb") for name, _ in NOTEBOOKS}
    blob = json.dumps(
        {"inputs": inputs, "notebooks": notebooks, "code": code_fingerprint()}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest(), inputs


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
    ``options.force``. Raises :class:`LockedError` when another run holds the county-year.
    """
    options = options or RunOptions()
    check_parameters(county, year)
    data = county_year_dir(data_root, county, year).resolve()
    if not data.is_dir():
        raise InputError(f"找不到台账文件夹 ledger folder not found: {data}")
    target = published_dir(out_root, county, year).resolve()
    target.mkdir(parents=True, exist_ok=True)
    with county_year_lock(target, county, year, options.lock_timeout):
        recover(target, progress)
        finger, inputs = fingerprint(data, options.notebooks_dir)
        state = read_json(target / STATE)
        if (
            not options.force
            and state.get("fingerprint") == finger
            and (target / "report.html").is_file()
        ):
            progress(
                f"输入、叙述、配置和程序均未变化，无需重新运行（--force 强制）unchanged: {target}"
            )
            record = read_json(target / "run.json")
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
    """Under the lock: finish a publish that was killed half-way, remove staged leftovers, and
    mark runs still recorded as running (none can be: we hold the lock) as interrupted."""
    journal = read_json(target / JOURNAL)
    run_dir = target / "runs" / str(journal.get("run_id", ""))
    if journal and (run_dir / "report.html").is_file() and (run_dir / "run.json").is_file():
        record = read_json(run_dir / "run.json")
        record |= {"status": "published", "exit_code": EXIT_OK, "publish_completed": now()}
        _write_json(run_dir / "run.json", record)
        _publish_files(run_dir, target, journal["fingerprint"])
        progress(f"已完成上次中断的发布 completed the interrupted publish of run {run_dir.name}")
    elif journal:  # cannot finish it: the published files may be mixed, so never skip next
        (target / STATE).unlink(missing_ok=True)
    (target / JOURNAL).unlink(missing_ok=True)
    for leftover in [*target.glob(".*.tmp"), *target.glob(".*.old")]:
        _remove(leftover)
    for path in (target / "runs").glob("*/run.json"):
        record = read_json(path)
        if record.get("status") == "running":
            record |= {
                "status": "interrupted",
                "error": "运行被中止（进程被终止或机器重启），由下一次运行发现"
                " the run was killed; found by a later run",
                "exit_code": None,
            }
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
    run_dir = target / "runs" / new_run_id()
    (run_dir / "notebooks").mkdir(parents=True)
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
        "code_version": code_version(),
        "packages": package_versions(),
        "steps": {},
    }
    _write_json(run_dir / "parameters.json", params)
    _write_json(run_dir / "run.json", record)
    started = time.perf_counter()
    with open(run_dir / "run.log", "a", encoding="utf-8") as log:

        def say(line: str) -> None:
            progress(line)
            log.write(f"{now()} {line}\n")
            log.flush()

        try:
            result = _steps(run_dir, params, record, options, say)
            if stop := Interrupted.pending():  # a signal the event loop dropped
                raise stop
            if result.exit_code == EXIT_OK:
                # journal first: from here on, a killed run is published by the next one
                _write_json(target / JOURNAL, {"run_id": run_dir.name, "fingerprint": finger})
                _finish(record, started, run_dir, EXIT_OK)
                _publish_files(run_dir, target, finger)
            else:
                _finish(record, started, run_dir, result.exit_code)
            result.record = record
            say(f"结束 finished: {record['status']} ({record['duration_s']} s)")
            return result
        except EdureportError as exc:
            if stop := Interrupted.pending():  # the error is the stop signal's consequence
                _finish(record, started, run_dir, stop.exit_code, stop)
                say(f"已中断 interrupted: {stop}")
                raise stop from exc
            _finish(record, started, run_dir, exc.exit_code, exc)
            say(f"失败 failed: {exc}")
            raise
        except KeyboardInterrupt as exc:
            _finish(record, started, run_dir, errors.EXIT_INTERRUPTED, exc)
            say("已中断 interrupted")
            raise
        except Interrupted as exc:
            _finish(record, started, run_dir, exc.exit_code, exc)
            say(f"已中断 interrupted: {exc}")
            raise
        except Exception as exc:
            if stop := Interrupted.pending():
                _finish(record, started, run_dir, stop.exit_code, stop)
                say(f"已中断 interrupted: {stop}")
                raise stop from exc
            _finish(record, started, run_dir, EXIT_INTERNAL, exc)
            say(f"失败 failed: {record['error']}")
            raise


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
        from .render import export_html

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


def _execute(
    name: str, run_dir: Path, params: dict[str, object], options: RunOptions, km: Any = None
) -> None:
    """Execute notebook ``name`` into the run folder, in the started kernel ``km`` (papermill
    starts and shuts down its own when None)."""
    pm = import_lean("papermill")
    from papermill.exceptions import PapermillExecutionError

    source = Path(options.notebooks_dir) / f"{name}.ipynb"
    output = run_dir / "notebooks" / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            str(source),
            str(output),
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


def publish(run_dir: Path, target: Path) -> None:
    """Copy a passing run's results to ``target``: each entry written beside, then renamed into
    place (``report.html`` last); an entry the run did not produce is removed."""
    for name in PUBLISHED:
        _publish_entry(run_dir, target, name)


def _publish_files(run_dir: Path, target: Path, finger: str) -> None:
    """Publish (the journal naming this run is already written), record what is published
    (the skip check reads it), then drop the journal."""
    publish(run_dir, target)
    _write_json(target / STATE, {"fingerprint": finger, "run_id": run_dir.name, "published": now()})
    (target / JOURNAL).unlink()


def _publish_entry(run_dir: Path, target: Path, name: str) -> None:
    src, dst = run_dir / name, target / name
    staged = target / f".{name}.{run_dir.name}.tmp"
    _remove(staged)
    if not src.exists():
        _remove(dst)
    elif src.is_dir():
        shutil.copytree(src, staged)
        old = target / f".{name}.{run_dir.name}.old"
        _remove(old)
        if dst.exists():
            os.replace(dst, old)
        os.replace(staged, dst)
        _remove(old)
    else:
        shutil.copy2(src, staged)
        _fsync(staged)
        os.replace(staged, dst)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _finish(
    record: dict[str, Any],
    started: float,
    run_dir: Path,
    code: int,
    exc: BaseException | None = None,
) -> None:
    record["status"] = status_of(code)
    if exc is not None:
        record["error_type"] = type(exc).__name__
        record["error"] = str(exc) if isinstance(exc, EdureportError) else f"{exc!r}"
    record["finished"] = now()
    record["duration_s"] = round(time.perf_counter() - started, 2)
    record["exit_code"] = code
    _write_json(run_dir / "run.json", record)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place: readers see old or new, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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
