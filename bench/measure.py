"""Measuring: wall time and peak memory of fresh subprocesses, medians, the machine.

Every measurement runs in a fresh subprocess, started through ``bench.rusage``. Its peak memory
is ``ru_maxrss`` for it and every descendant it waited for (the kernels a run starts, the
workers of a pool): the largest *single* process. Where several processes live at once (a run
and its kernel, a pool of workers) a sampler also follows the process tree in ``/proc`` and
records the largest *sum*.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
KIB = 1024
PACKAGES = (
    "pandas pyarrow numpy great_expectations papermill nbconvert nbclient ipykernel matplotlib "
    "openpyxl dask distributed"
).split()


@dataclass
class Measurement:
    """One subprocess: wall seconds, exit code, output, peak memory (KiB)."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_kib: int  # largest single process (the child or a descendant it waited for)
    tree_peak_kib: int | None = None  # largest sum over the process tree (sampled)
    # the same with proportional set sizes: a page shared by n processes (a fork and its
    # template) counted 1/n in each, so the sum is the memory the tree really holds
    tree_pss_peak_kib: int | None = None
    subtree_peak_kib: dict[int, int] = field(default_factory=dict)  # per direct child

    def json_line(self) -> dict[str, Any]:
        """The last line of stdout that is a JSON object (what a worker script reports)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise ValueError(f"no JSON result in output:\n{self.stdout[-2000:]}\n{self.stderr[-4000:]}")

    def check(self, what: str) -> Measurement:
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} failed with exit code {self.returncode}:\n"
                f"{self.stdout[-3000:]}\n{self.stderr[-6000:]}"
            )
        return self


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every measured process: a fixed pseudonym key, no GX analytics."""
    env = dict(os.environ)
    env.setdefault("EDUREPORT_PSEUDONYM_KEY", "bench-key-not-secret")
    env["GX_ANALYTICS_ENABLED"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def run_measured(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    sample_tree: bool = False,
) -> Measurement:
    """Run ``cmd`` in a fresh process (through ``bench.rusage``); wall time, peak memory, output.

    The time is taken by the wrapper around ``cmd`` alone; the tree sampler's per-subtree peaks
    are keyed by the children of ``cmd`` (e.g. a pool's workers).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "rusage.json"
        wrapped = [PYTHON, "-m", "bench.rusage", str(report), "--", *map(str, cmd)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            wrapped,
            stdout=out,
            stderr=err,
            env=env or bench_env(),
            cwd=cwd or ROOT,
            start_new_session=True,  # so that a timeout ends the whole tree
        )
        sampler = TreeSampler(proc.pid, depth=2) if sample_tree else None
        timer = threading.Timer(timeout, _kill_group, (proc.pid,)) if timeout else None
        if timer:
            timer.start()
        try:
            proc.wait()
        finally:
            seconds = time.perf_counter() - t0
            if timer:
                timer.cancel()
            if sampler:
                sampler.stop()
        found = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
        out.seek(0)
        err.seek(0)
        return Measurement(
            seconds=found.get("seconds", seconds),
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            maxrss_kib=int(found.get("maxrss_kib", 0)),
            tree_peak_kib=sampler.peak_kib if sampler else None,
            tree_pss_peak_kib=sampler.pss_peak_kib if sampler else None,
            subtree_peak_kib=sampler.subtree_peak_kib if sampler else {},
        )


def _kill_group(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def self_maxrss_kib() -> int:
    """Peak resident set of the calling process (for worker scripts to report)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class TreeSampler:
    """Polls ``/proc`` and keeps the peak summed RSS of a process and its descendants, and of
    the subtree of each descendant ``depth`` levels down (e.g. one pool worker with its
    kernel)."""

    def __init__(self, root: int, interval: float = 0.2, depth: int = 1) -> None:
        self.root, self.interval, self.depth = root, interval, depth
        self.peak_kib: int | None = 0 if Path("/proc").is_dir() else None
        self.pss_peak_kib: int | None = self.peak_kib
        self.subtree_peak_kib: dict[int, int] = {}
        self._stop = threading.Event()
        self._page_kib = os.sysconf("SC_PAGE_SIZE") // KIB
        self._thread = threading.Thread(target=self._loop, daemon=True)
        if self.peak_kib is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._sample()
            except OSError:
                pass
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for pid, (ppid, pages) in processes().items():
            children.setdefault(ppid, []).append(pid)
            rss[pid] = pages * self._page_kib

        def total(pid: int) -> int:
            return rss.get(pid, 0) + sum(total(c) for c in children.get(pid, ()))

        whole = total(self.root)
        self.peak_kib = max(self.peak_kib or 0, whole)
        tree, todo = [], [self.root]
        while todo:
            tree.append(todo.pop())
            todo += children.get(tree[-1], ())
        pss = [_pss_kib(pid) for pid in tree]
        if all(p is not None for p in pss):
            self.pss_peak_kib = max(self.pss_peak_kib or 0, sum(p or 0 for p in pss))
        level = [self.root]
        for _ in range(self.depth):
            level = [c for p in level for c in children.get(p, ())]
        for pid in level:
            self.subtree_peak_kib[pid] = max(self.subtree_peak_kib.get(pid, 0), total(pid))


def processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid -> (parent pid, resident pages), from ``/proc/<pid>/stat``."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[21]))
    return found


def _pss_kib(pid: int) -> int | None:
    """The process's proportional set size (KiB), 0 if it is gone, None if unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        return None
    return 0


# ---------------------------------------------------------------- statistics


def summary(values: Iterable[float]) -> dict[str, Any]:
    """Median, min, max and every value (seconds or KiB), rounded for reading."""
    vals = list(values)
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0, "runs": []}
    return {
        "median": round(statistics.median(vals), 3),
        "min": round(min(vals), 3),
        "max": round(max(vals), 3),
        "n": len(vals),
        "runs": [round(v, 3) for v in vals],
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(a / b, 2)


def mib(kib: float | None) -> float | None:
    return None if kib is None else round(kib / KIB, 1)


# ---------------------------------------------------------------- the machine


def machine() -> dict[str, Any]:
    """Where and when the numbers were measured."""
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _mem_total_gib(),
        "load_average_start": _loadavg(),
        "git": _git(),
        "packages": _versions(*PACKAGES),
    }
    return info


def loadavg() -> list[float] | None:
    return _loadavg()


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / KIB / KIB, 1)
    except OSError:
        pass
    return None


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short=12", "HEAD") or None, "dirty": bool(dirty)}


def _versions(*names: str) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name.replace("_", "-"))
        except PackageNotFoundError:
            found[name] = None
    return found
