"""Warm kernels for batches: notebook kernels forked from a template process.

A batch worker runs many county-years one after the other. Started the usual way, each of a
county's three kernels is a new interpreter that imports pandas, Great Expectations and
matplotlib again (≈ 4 s of CPU per county). Instead, a worker starts one *template* process
(``python -m edureport.runs.warm``) that imports every step's libraries once
(:func:`edureport.runs.steps.prepare`) and never runs a county; each kernel is then a
``fork()`` of it that becomes an ipykernel kernel at once.

Isolation: every kernel is a new process forked from the same untouched template, so a
county's kernel can see nothing another county did (no module state, no open files, no
namespace is ever reused). Nothing is shared but what the template loaded before any county
ran; ``tests/test_warm.py`` checks that a county's outputs are byte-identical whether it ran
alone or after others.

The template is told what to start on its standard input (one JSON line per kernel) and
answers with the kernel's pid. It ignores Ctrl-C (the batch decides when to stop) and exits,
killing the kernels it started that are still alive, when its standard input closes: when the
worker ends, however it ends.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

STEPS = ("1_clean", "2_validate", "3_report")
# what ipykernel imports as a kernel starts, beyond ``ipykernel.kernelapp`` (its debugger,
# IPython's inspector and completer, tornado's queues): loaded once, in the template
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.debugger",
    "IPython.core.completerlib",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "tornado.platform.asyncio",
    "tornado.queues",
    "tornado.locks",
)
READY = "ready"
START_TIMEOUT = 120  # seconds for the template to load everything
FORK_TIMEOUT = 30  # seconds for it to answer a fork request

_template: Template | None = None
_lock = threading.Lock()
_atexit: list[bool] = []  # whether disable() is registered to run at exit


class TemplateError(RuntimeError):
    """The template process could not start or fork a kernel."""


class Template:
    """The client side of one template process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edureport.runs.warm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its kernels write to their run's kernels.log
        )
        assert self.process.stdin and self.process.stdout
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.lock = threading.Lock()
        line = self._answer(START_TIMEOUT).decode().strip()
        if line != READY:
            self.close()
            raise TemplateError(f"template process did not start ({line or 'no answer'})")

    def _answer(self, timeout: float) -> bytes:
        """Its next line ('' if it sent none within ``timeout`` seconds or is gone)."""
        import select

        ready, _, _ = select.select([self.stdout], [], [], timeout)
        return self.stdout.readline() if ready else b""

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, log: str | None) -> int:
        """Start a kernel (``argv`` as jupyter_client would run it); its pid."""
        request = {"argv": argv, "env": env, "cwd": cwd, "log": log}
        with self.lock:
            try:
                self.stdin.write(json.dumps(request).encode() + b"\n")
                self.stdin.flush()
                answer = self._answer(FORK_TIMEOUT)
            except (OSError, ValueError) as exc:
                raise TemplateError(f"template process gone: {exc}") from exc
        try:
            return int(json.loads(answer)["pid"])
        except (ValueError, KeyError, TypeError):
            raise TemplateError(f"template process did not fork: {answer!r}") from None

    def close(self) -> None:
        """Close its standard input: it kills its live kernels and exits."""
        try:
            self.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stdout.close()


def enable() -> Template | None:
    """Start this process's template (once); None if it cannot start (kernels start cold)."""
    global _template
    with _lock:
        if _template is not None and _template.alive():
            return _template
        try:
            _template = Template()
        except (OSError, TemplateError):
            _template = None
            return None
        if not _atexit:
            atexit.register(disable)
            _atexit.append(True)
        return _template


def disable() -> None:
    """Stop this process's template, if it has one."""
    global _template
    with _lock:
        if _template is not None:
            _template.close()
            _template = None


def current() -> Template | None:
    """This process's template if it is running."""
    template = _template
    return template if template is not None and template.alive() else None


def provisioner(km: Any, template: Template, log: Path | None) -> Any:
    """A provisioner for kernel manager ``km`` (set as ``km.provisioner`` before it starts)
    that launches the kernel as a fork of ``template`` instead of a new interpreter."""
    km.kernel_id = km.kernel_id or str(uuid.uuid4())
    prov = _provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
    prov.template = template
    prov.log = str(log) if log else None
    return prov


@cache
def _provisioner_class() -> type:
    from jupyter_client.provisioning import LocalProvisioner  # imported when a kernel starts

    class WarmProvisioner(LocalProvisioner):  # type: ignore[misc]
        template: Template
        log: str | None = None

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or Path.cwd())
            try:
                pid = self.template.fork(cmd, env, cwd, self.log)
            except TemplateError as exc:
                raise RuntimeError(str(exc)) from exc
            self.process = _Forked(pid)
            self.pid = self.pgid = pid  # the kernel leads a session of its own
            self.cwd = cwd
            return self.connection_info

    return WarmProvisioner


class _Forked:
    """What jupyter_client needs of a ``Popen`` for a process that is not our child (the
    template reaps it): its exit status is not known, only whether it is gone."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid was reused by someone else's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                self.returncode = 0

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# ------------------------------------------------------------------ the template process


def main() -> None:
    """The template process: load every step's libraries, then fork a kernel per request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch decides; stdin's end stops us
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # as the kernel's spec sets
    import importlib

    from edureport.runs import steps

    for module in KERNEL_MODULES:
        importlib.import_module(module)

    for step in STEPS:
        steps.prepare(step)
    gc.collect()
    gc.freeze()  # kernels inherit the loaded modules; their exit need not walk them
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they exit
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    answers.write(READY.encode() + b"\n")
    answers.flush()
    children: list[int] = []
    for line in requests:
        request = json.loads(line)
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _become_kernel(request)  # never returns
        children.append(pid)
        answers.write(json.dumps({"pid": pid}).encode() + b"\n")
        answers.flush()
    for pid in children:  # the worker is gone: so are its kernels
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def _become_kernel(request: dict[str, Any]) -> None:
    """In the forked child: become the kernel jupyter_client asked for, then exit."""
    code = 1
    try:
        os.setsid()  # a process group of its own, as jupyter_client's launcher gives kernels
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["log"] or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # exits if the template goes
        argv = request["argv"]
        args = argv[argv.index("ipykernel_launcher") + 1 :]
        sys.argv = ["ipykernel_launcher", *args]
        if sys.path and sys.path[0] == "":
            del sys.path[0]  # as ipykernel_launcher does
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
