"""Warm kernels for batches: notebook kernels forked from a template process.

A batch worker runs many county-years one after the other. Started the usual way, each of a
county's three kernels is a new interpreter that imports pandas, Great Expectations and
matplotlib again (≈ 4 s of CPU per county). Instead, a worker starts one *template* process
(``python -P -m edureport.runs.warm``) that imports every step's libraries once
(:func:`edureport.runs.steps.prepare`) and never runs a county; each kernel is then a
``fork()`` of it that becomes an ipykernel kernel at once.

Isolation: every kernel is a new process forked from the same untouched template, so a
county's kernel can see nothing another county did (no module state, no open files, no
namespace is ever reused). Nothing is shared but what the template loaded before any county
ran (``-P``: nothing from the folder the batch was started in); ``tests/test_warm.py`` checks
that a county's outputs are byte-identical whether it ran alone or after others. A template
is replaced when edureport's code changes under it (a long-lived Dask worker).

The template is told what to start on its standard input (one JSON line per kernel, with an
id) and answers with the id and the kernel's pid. It ignores Ctrl-C (the batch decides when to
stop) and exits, killing the kernels it started that are still alive, when its standard input
closes: when the worker ends, however it ends. Whatever goes wrong with it (it will not start,
does not answer in time, died), the kernel starts as a new interpreter instead, and later ones
too.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from functools import cache
from pathlib import Path
from typing import IO, Any

from edureport.runs.folder import NOTEBOOKS

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
_failed: tuple[str, str] | None = None  # (code stamp, why) of a template that did not start
_lock = threading.Lock()
_at_exit = False  # whether disable() is registered to run at exit


class TemplateError(RuntimeError):
    """The template process could not start or fork a kernel."""


class Template:
    """The client side of one template process."""

    def __init__(self, stamp: str) -> None:
        self.stamp = stamp  # code_stamp() of the code it loads
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # its own stderr: why it failed
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "edureport.runs.warm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            bufsize=0,  # unbuffered: select() sees every byte not read yet
        )
        assert self.process.stdin and self.process.stdout
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.lock = threading.Lock()
        self.requests = 0
        if self._line(START_TIMEOUT) != READY:
            self.kill()
            raise TemplateError(f"template process did not start: {self.why()}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, log: str | None) -> int:
        """Start a kernel (``argv`` as jupyter_client would run it); its pid. A template that
        does not answer in time, or answers anything else, is killed (TemplateError)."""
        with self.lock:
            self.requests += 1
            request = {"id": self.requests, "argv": argv, "env": env, "cwd": cwd, "log": log}
            try:
                data = memoryview(json.dumps(request).encode() + b"\n")
                while data:  # unbuffered: a write may take part of it
                    data = data[self.stdin.write(data) or 0 :]
                answer = json.loads(self._line(FORK_TIMEOUT) or "{}")
                if answer.get("id") == self.requests and isinstance(answer.get("pid"), int):
                    return int(answer["pid"])
            except (OSError, ValueError):
                pass
            self.kill()
            raise TemplateError(f"template process did not fork a kernel: {self.why()}")

    def _line(self, timeout: float) -> str:
        """Its next line ('' if none came whole within ``timeout`` seconds, or it is gone)."""
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.stdout], [], [], left)[0]:
                return ""
            byte = self.stdout.read(1)
            if not byte:
                return ""
            line += byte
        return line.decode().strip()

    def why(self) -> str:
        """The last line the template wrote to its stderr, or its exit status."""
        self.errors.seek(0)
        lines = [ln for ln in self.errors.read().decode(errors="replace").splitlines() if ln]
        code = self.process.poll()
        return lines[-1] if lines else ("no answer" if code is None else f"exit {code}")

    def kill(self) -> None:
        """Kill it (its kernels follow: their parent is gone) and wait for it."""
        self.process.kill()
        self.close()

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
        self.errors.close()


def code_stamp() -> str:
    """Which edureport code a template loaded: its files' names, sizes and times."""
    digest = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".json", ".j2", ".css"):
            info = path.stat()
            digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def enable() -> Template | None:
    """This process's template, started if there is none or its code changed; None if it
    cannot start (then it is not tried again for the same code: kernels start cold)."""
    global _template, _failed, _at_exit
    if not hasattr(os, "fork") or not hasattr(os, "pidfd_open"):  # Linux only
        return None
    stamp = code_stamp()
    with _lock:
        if _template is not None and _template.alive() and _template.stamp == stamp:
            return _template
        if _template is not None:
            _template.close()
            _template = None
        if _failed is not None and _failed[0] == stamp:
            return None
        try:
            _template = Template(stamp)
        except (OSError, TemplateError) as exc:
            _failed = (stamp, str(exc))
            return None
        if not _at_exit:
            atexit.register(disable)
            _at_exit = True
        return _template


def disable() -> None:
    """Stop this process's template, if it has one."""
    global _template
    with _lock:
        if _template is not None:
            _template.close()
            _template = None


def failure() -> str | None:
    """Why this process's template could not start, if it could not."""
    return _failed[1] if _failed else None


def provisioner(km: Any, template: Template, log: Path | None) -> Any:
    """A provisioner for kernel manager ``km`` (set as ``km.provisioner`` before it starts)
    that launches the kernel as a fork of ``template``; as a new interpreter if the template
    fails (``forked`` says which it did)."""
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
        forked = False

        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            # a kernel spec that runs another interpreter or module than ours: as it says
            if cmd[:3] != [sys.executable, "-m", "ipykernel_launcher"]:
                return await super().launch_kernel(cmd, **kwargs)
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or Path.cwd())
            try:
                pid = self.template.fork(cmd, env, cwd, self.log)
            except TemplateError:  # killed by fork(): this kernel and later ones start cold
                return await super().launch_kernel(cmd, **kwargs)
            self.process = _Forked(pid)
            self.pid, self.pgid = pid, None  # signals go through the pidfd, to it alone
            self.cwd = cwd
            self.forked = True
            return self.connection_info

    return WarmProvisioner


class _Forked:
    """What jupyter_client needs of a ``Popen``, for a kernel that is the template's child,
    not ours: held by a pidfd (Linux), so that no signal can reach another process that later
    gets its pid. Its exit status is not known, only that it ended."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        try:
            self.fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # it ended already
            self.fd, self.returncode = None, 0

    def poll(self) -> int | None:
        if self.returncode is None and self.fd is not None:
            if select.select([self.fd], [], [], 0)[0]:  # readable: the process has ended
                os.close(self.fd)
                self.fd, self.returncode = None, 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None and self.fd is not None:
            try:
                signal.pidfd_send_signal(self.fd, signum)
            except ProcessLookupError:
                pass

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
    for step, _label in NOTEBOOKS:
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
        children = [p for p in children if _our_child(p)] + [pid]
        answers.write(json.dumps({"id": request["id"], "pid": pid}).encode() + b"\n")
        answers.flush()
    for pid in children:  # the worker is gone: so are its kernels (those still ours)
        if _our_child(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass


def _our_child(pid: int) -> bool:
    """Whether ``pid`` is a live child of this process (its number not yet reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat[stat.rfind(")") + 2 :].split()[1]) == os.getpid()


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
