"""The notebook kernels of a run: started ahead, prepared, each notebook executed by papermill
with its output captured, stopped cleanly."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from edureport import errors
from edureport.errors import (
    EdureportError,
    StorageError,
)
from edureport.imports import import_lean
from edureport.runs import warm

if TYPE_CHECKING:
    from edureport.runs.pipeline import RunOptions

# How every notebook kernel is started. The kernel's own log is not ours to show: its start-up
# notices, and at shutdown (jupyter_client interrupts before it shuts down) "KeyboardInterrupt
# caught in kernel" or, when a run is stopped mid-cell, a traceback of a reply to a closed
# socket. Errors in cells reach us through the notebook, a dead kernel as an error. History in
# memory, as nbclient sets it for the kernels it starts (no shared SQLite file).
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:")
AHEAD = 1  # kernels started ahead at most (2 was slower on two cores: see performance.md)
START_TIMEOUT = 120  # seconds for a kernel to start and, when started ahead, to prepare
# Errors raised inside a notebook that are the project's own, by exception class name.
_OWN_ERRORS: dict[str, type[EdureportError]] = {
    cls.__name__: cls for cls in (errors.InputError, errors.UsageError, errors.CellError)
}


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
    outlives the run. At most :data:`AHEAD` kernel is started ahead.

    Kernels listen on Unix domain sockets (``transport="ipc"``) in a private temporary folder
    with a short path (a socket path is limited to ~100 bytes; run folders with long county
    names are not): with TCP, jupyter_client picks "free" ports by binding and releasing them,
    so kernels started at the same moment (batch workers) could pick the same port and die
    with "Address already in use".
    """

    def __init__(self, cwd: Path, log: Path | None = None, template: Any = None) -> None:
        self.cwd = cwd
        # the kernels' own stdout/stderr (start-up notices, ZMQ noise at shut-down under load)
        # go to the run folder, not the console
        self.log = open(log, "ab") if log else None  # closed in close()
        self.log_path = log
        self.template = template  # a warm.Template: kernels are its forks (batch workers)
        self.forked: list[bool] = []  # per kernel started: whether it is a fork of the template
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
        if name not in self.ahead and len(self.ahead) < AHEAD:
            self.ahead[name] = self._start(name, prepare=True)

    def mode(self) -> str:
        """How this run's kernels started: "forked" (from a template), "new", or "mixed"."""
        kinds = set(self.forked)
        return "mixed" if len(kinds) > 1 else "forked" if kinds == {True} else "new"

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
            client_class="edureport.runs.kernels.ReadyClient",
        )
        kernel = _Kernel(km)
        make_client = km.client

        def client(**kwargs: Any) -> Any:  # remembered, so release() can close its sockets
            kernel.clients.append(make_client(**kwargs))
            return kernel.clients[-1]

        km.client = client
        if self.template is not None and self.template.alive():
            km.provisioner = warm.provisioner(km, self.template, self.log_path)
        self.kernels.append(kernel)  # before it starts: close() must find it whatever happens
        try:
            streams = {"stdout": self.log, "stderr": self.log} if self.log else {}
            km.start_kernel(cwd=str(self.cwd), extra_arguments=list(KERNEL_ARGUMENTS), **streams)
        except Exception as exc:
            raise EdureportError(
                f"笔记本 {name}.ipynb 的内核无法启动 the notebook's kernel did not start: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self.forked.append(bool(getattr(km.provisioner, "forked", False)))
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


def _ready_client_class() -> type:
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
        """nbclient's client, ready as soon as the kernel has answered on both channels.

        jupyter_client's ``wait_for_ready`` ends by reading IOPub until it has been silent
        for 0.2 s, on every notebook (0.6 s a county-year). Here the kernel is ready once
        its reply to ``kernel_info`` has come on the shell channel and its *idle* status for
        that same request on IOPub: the subscription is live, and nothing the kernel
        published before is still to come (IOPub is in order). The request is sent again
        (0.1 s after its reply) while IOPub's subscription is not yet live: PUB/SUB drops
        what is published before it is."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
            while True:
                msg_id = self.kernel_info()
                replied = idle = False
                until = time.monotonic() + 1
                while not (replied and idle) and time.monotonic() < until:
                    if not replied:
                        replied = await self._answer(self.shell_channel, msg_id, 0.02)
                        if replied:  # its idle status follows at once, unless IOPub missed it
                            until = min(until, time.monotonic() + 0.1)
                    if not idle:
                        idle = await self._answer(self.iopub_channel, msg_id, 0.02)
                if replied and idle:
                    return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

        async def _answer(self, channel: Any, msg_id: str, wait: float) -> bool:
            """Whether ``channel`` brings the kernel's answer to ``msg_id`` within ``wait``
            (shell: the reply; IOPub: the idle status after it); other messages dropped."""
            try:
                msg = await channel.get_msg(timeout=wait)
            except Empty:
                return False
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                return False
            if msg["msg_type"] == "kernel_info_reply":
                self._handle_kernel_info_reply(msg)
                return True
            return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"

    return ReadyClient


def __getattr__(name: str) -> Any:
    """``ReadyClient``, built when jupyter_client first asks for it (by its dotted name), so
    that importing this module does not import jupyter_client."""
    if name == "ReadyClient":
        globals()[name] = _ready_client_class()
        return globals()[name]
    raise AttributeError(name)


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
