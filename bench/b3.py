"""B3: many county-years with ``edureport batch`` (local process pool, or a Dask LocalCluster),
against the same county-years run one after the other by ``edureport run``.

:func:`write_counties` writes the synthetic batch (``synthetic.random_targets`` /
``write_county_year``, the three input styles in turn). ``python -m bench.b3 cluster N`` starts a
Dask LocalCluster of N single-threaded worker processes, prints its address as one JSON line and
keeps it up until its stdin is closed (so the bench can measure the batch, not the cluster's
start-up, and can sample the workers' memory under this process). :func:`run_pool_killing`
runs a batch and kills one of its workers with SIGKILL while it runs a county.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.measure import BIN, PYTHON, Measurement, bench_env, processes, run_measured

YEAR = 2022
STYLES = ("canonical", "messy_xlsx", "messy_csv")


def write_counties(
    root: Path, n: int, size: tuple[float, float], seed: int = 3000
) -> dict[str, int]:
    """``n`` synthetic counties under ``root/<county>/<YEAR>/``: county -> good aid rows.

    Every officer holds a certificate, so that each county passes validation and publishes
    (a batch of drafts would run the same steps, but its exit code would not say "all done").
    """
    from synthetic import random_targets, write_county_year

    counties = {}
    for i in range(n):
        county = f"合成{i + 1:02d}县"
        targets = replace(
            random_targets(random.Random(seed + i), size=size),
            officers_uncertified=0,
            officers_contract=0,
        )
        folder = root / county / str(YEAR)
        if not folder.is_dir():
            write_county_year(folder, county, YEAR, targets, seed + i, STYLES[i % len(STYLES)])
        counties[county] = targets.aid_person_times
    return counties


def run_sequential(data: Path, out: Path, counties: list[str], timeout: float) -> Measurement:
    """Each county by its own ``edureport run --force``, one after the other: total seconds,
    the largest process, the largest process tree (a run with its kernels)."""
    runs = []
    for county in counties:
        cmd = [BIN / "edureport", "run", "--county", county, "--year", str(YEAR)]
        cmd += ["--data", data, "--out", out, "--force"]
        runs.append(run_measured(cmd, timeout=timeout, sample_tree=True).check(f"run {county}"))
    return Measurement(
        seconds=round(sum(m.seconds for m in runs), 3),
        returncode=0,
        stdout="",
        stderr="",
        maxrss_kib=max(m.maxrss_kib for m in runs),
        tree_peak_kib=max(m.tree_peak_kib or 0 for m in runs),
        tree_pss_peak_kib=max(m.tree_pss_peak_kib or 0 for m in runs),
    )


def run_pool(
    data: Path, out: Path, workers: int, timeout: float, cold: bool = False
) -> Measurement:
    cmd = [BIN / "edureport", "batch", "--data", data, "--year", str(YEAR)]
    cmd += ["--workers", str(workers), "--out", out, "--force"]
    cmd += ["--cold-kernels"] if cold else []
    what = f"batch --workers {workers}{' --cold-kernels' if cold else ''}"
    return run_measured(cmd, timeout=timeout, sample_tree=True).check(what)


def run_pool_killing(
    data: Path, out: Path, workers: int, timeout: float, after: int
) -> dict[str, Any]:
    """The batch on ``workers`` local workers; once ``after`` counties have published, one
    worker is killed (SIGKILL) while a county runs in it. What was killed, and the batch."""
    killer = _Killer(out, after)
    try:
        m = run_pool(data, out, workers, timeout)
    finally:
        killer.stop()
    return {"measurement": m, "killed": killer.killed}


class _Killer:
    """Watches for the batch's pool workers (``python … spawn_main``) and kills one with
    SIGKILL once ``after`` counties are published and that worker has a kernel (a county)."""

    def __init__(self, out: Path, after: int) -> None:
        self.out, self.after = out, after
        self.killed: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.1) and not self.killed:
            published = len(list(self.out.glob(f"*/{YEAR}/current")))
            if published < self.after:
                continue
            for worker, tree in _pool_workers(str(self.out)).items():
                if tree["kernels"]:
                    os.kill(worker, signal.SIGKILL)
                    self.killed = {"pid": worker, "after_published": published, "at": time.time()}
                    break


def _pool_workers(out: str) -> dict[int, dict[str, list[int]]]:
    """Live pool workers of the ``edureport batch`` writing to ``out``: pid -> its template
    and that template's kernels."""
    parent = {pid: ppid for pid, (ppid, _pages) in processes().items()}
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)

    def cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            return ""

    found = {}
    for pid, ppid in parent.items():
        if "spawn_main" not in cmdline(pid) or out not in cmdline(ppid):
            continue
        templates = [c for c in children.get(pid, []) if "edureport.runs.warm" in cmdline(c)]
        kernels = [k for t in templates for k in children.get(t, [])]
        found[pid] = {"templates": templates, "kernels": kernels}
    return found


class Cluster:
    """A Dask LocalCluster in its own process (started before timing, closed after)."""

    def __init__(self, workers: int) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.b3", "cluster", str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=bench_env(),
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("{"):
            self.close()
            raise RuntimeError(f"Dask LocalCluster did not start: {line!r}")
        self.address: str = json.loads(line)["address"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_dask(data: Path, out: Path, workers: int, timeout: float) -> dict[str, Any]:
    """The batch on a fresh LocalCluster; peak memory sampled under the cluster's process."""
    from bench.measure import TreeSampler

    with Cluster(workers) as cluster:
        sampler = TreeSampler(cluster.proc.pid)
        try:
            cmd = [BIN / "edureport", "batch", "--data", data, "--year", str(YEAR)]
            cmd += ["--scheduler", cluster.address, "--out", out, "--force"]
            m = run_measured(cmd, timeout=timeout).check("batch --scheduler")
        finally:
            sampler.stop()
    return {"measurement": m, "worker_peak_kib": max(sampler.subtree_peak_kib.values(), default=0)}


def serve_cluster(workers: int) -> None:
    from dask.distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    print(json.dumps({"address": cluster.scheduler_address}), flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    cluster.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["cluster"]:
        serve_cluster(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m bench.b3 cluster N")
