"""Smoke test: the benchmark entry point runs at tiny sizes and records what it measured.

Speed is measured by ``python -m bench``, never asserted here (docs/performance.md): this test
only keeps the benchmarks working (B1 once, B2 at 5,000 rows and a 3,000-row .xlsx, B3 with
two tiny counties and three for the killed worker).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edureport import paths

pytestmark = pytest.mark.slow


def test_quick_bench_runs_and_records_every_benchmark(tmp_path: Path) -> None:
    results, doc = tmp_path / "results.json", tmp_path / "performance.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--results", str(results), "--doc", str(doc)],
        cwd=paths.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["quick"] is True and data["machine"]["cpus"] >= 1

    b1 = data["B1"]
    assert b1["floor_s"]["n"] == b1["run_s"]["n"] == 1
    assert b1["ratio"] > 0 and b1["run_peak_kib"] > 0 and b1["floor_peak_kib"] > 0
    assert set(b1["breakdown"]["steps"]) == {"1_clean", "2_validate", "3_report", "export"}
    assert set(b1["parts"]) == {"1_clean", "2_validate", "3_report"}

    sizes = {(s["rows"], s["format"]): s for s in data["B2"]["sizes"]}
    assert set(sizes) == {(5000, "csv"), (3000, "xlsx")}
    for b2 in sizes.values():
        assert not b2["errors"], b2
        assert b2["ratio"] > 0 and b2["pipeline_peak_kib"] > 0
        assert b2["checks_failed"] == [] and b2["set_aside_rows"] == 0

    b3 = data["B3"]
    assert b3["counties"] == 2
    kinds = ("sequential", "pool_2", "pool_2_cold", "dask_2")
    assert all(b3["seconds"][k]["n"] == 1 for k in kinds)
    assert b3["pool_over_sequential"] > 0 and b3["dask_over_pool"] > 0
    large = b3["large"]  # three tiny counties, a worker killed if one was caught running one
    assert large["counties"] == large["published"] == 3, large

    text = doc.read_text(encoding="utf-8")
    assert "<!-- bench:begin -->" in text and "### B2" in text and "| 5,000 |" in text
    assert [g["goal"] for g in data["goals"]][:1] == ["B1 run / floor ≤ 1.2"]
