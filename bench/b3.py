"""B3: many county-years with ``edureport batch`` (local process pool, or a Dask LocalCluster).

:func:`write_counties` writes the synthetic batch (``synthetic.random_targets`` /
``write_county_year``, the three input styles in turn). ``python -m bench.b3 cluster N`` starts a
Dask LocalCluster of N single-threaded worker processes, prints its address as one JSON line and
keeps it up until its stdin is closed (so the bench can measure the batch, not the cluster's
start-up, and can sample the workers' memory under this process).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.measure import BIN, PYTHON, Measurement, bench_env, run_measured

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


def run_pool(data: Path, out: Path, workers: int, timeout: float) -> Measurement:
    cmd = [BIN / "edureport", "batch", "--data", data, "--year", str(YEAR)]
    cmd += ["--workers", str(workers), "--out", out, "--force"]
    return run_measured(cmd, timeout=timeout, sample_tree=True).check(f"batch --workers {workers}")


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
