"""``edureport batch``: a local process pool and a Dask cluster agree; failures stay local."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from edureport.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VALIDATION_FAILED,
    most_severe,
)
from edureport.report import site
from edureport.report.formatting import money_text
from edureport.runs.batch import run_batch
from synthetic import Targets

from .conftest import edureport, page_text
from .test_runs import KEY_ENV, make_county

YEAR = 2023
GOOD = {"甲县": 21, "乙县": 22}  # county -> seed
BROKEN = "丙县"  # its aid ledger is missing
PAGES = ("index.html", f"rollup-{YEAR}.html")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Targets]]:
    root = tmp_path_factory.mktemp("batch") / "data"
    targets = {c: make_county(root, c, YEAR, seed) for c, seed in GOOD.items()}
    make_county(root, BROKEN, YEAR, 23)
    next((root / BROKEN / str(YEAR)).glob("*资助发放*")).unlink()
    return root, targets


@pytest.fixture(scope="module")
def pool(data: tuple[Path, dict[str, Targets]]) -> tuple[Path, str, int]:
    """The batch on the local process pool, through the command line: (out, stdout, code)."""
    out = data[0].parent / "out-pool"
    proc = edureport(
        "batch", "--data", data[0], "--year", str(YEAR), "--workers", "2", "--out", out
    )
    return out, proc.stdout + proc.stderr, proc.returncode


@pytest.fixture(scope="module")
def dask(data: tuple[Path, dict[str, Targets]]) -> tuple[Path, list]:
    """The same batch on a two-worker Dask LocalCluster started here: (out, outcomes)."""
    from dask.distributed import LocalCluster

    out = data[0].parent / "out-dask"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(*next(iter(KEY_ENV.items())))  # the workers inherit the test key
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            result = run_batch(data[0], YEAR, out, scheduler=cluster.scheduler_address)
    assert result.exit_code == EXIT_BAD_INPUT, result.outcomes
    return out, result.outcomes


def figures(out: Path, county: str) -> dict[str, int]:
    path = out / county / str(YEAR) / "figures.json"
    return {k: f["value"] for k, f in json.loads(path.read_text("utf-8")).items()}


@pytest.mark.slow
def test_pool_and_dask_publish_identical_figures(data, pool, dask) -> None:
    _, targets = data
    for county, t in targets.items():
        on_pool, on_dask = figures(pool[0], county), figures(dask[0], county)
        assert on_pool == on_dask
        assert on_pool["aid_total_amount"] == t.aid_amount_fen
        assert on_pool["aid_total_count"] == t.aid_person_times


@pytest.mark.slow
def test_a_broken_county_fails_alone(pool, dask) -> None:
    out, printed, code = pool
    assert code == EXIT_BAD_INPUT, printed
    rows = {line.split()[0]: line.split() for line in printed.splitlines() if line.strip()}
    assert rows[BROKEN][1:3] == ["bad_input", "2"]
    assert "缺少学生资助发放台账" in printed  # its reason, under the table
    for county in GOOD:
        assert rows[county][1:3] == ["published", "0"]
    outcomes = {o.county: o for o in dask[1]}
    assert outcomes[BROKEN].status == "bad_input" and outcomes[BROKEN].exit_code == 2
    assert all(outcomes[c].status == "published" for c in GOOD)
    for root in (out, dask[0]):
        assert not (root / BROKEN / str(YEAR) / "report.html").exists()
        assert all((root / c / str(YEAR) / "report.html").is_file() for c in GOOD)
        (run_dir,) = (root / BROKEN / str(YEAR) / "runs").iterdir()  # its failure is recorded
        assert json.loads((run_dir / "run.json").read_text("utf-8"))["exit_code"] == 2


def personal_data(root: Path) -> set[str]:
    """Every name and ID number in the generated ledgers (canonical CSVs)."""
    found = set()
    for path in root.glob("*/*/*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for column in ("学生姓名", "姓名", "身份证号"):
                    if row.get(column):
                        found.add(row[column].strip())
    return found


@pytest.mark.slow
def test_index_and_rollup_list_every_county_and_no_personal_data(data, pool) -> None:
    root, targets = data
    out = pool[0]
    secrets = personal_data(root)
    assert len(secrets) > 100
    for name in PAGES:
        raw = (out / name).read_text("utf-8")
        text = page_text(out / name)
        assert "<script" not in raw and not re.search(r"""(src|href)=["']?(https?:)?//""", raw)
        assert not [s for s in secrets if s in raw or s in text], name
        assert not re.search(r"\d{17}[\dX]", text)
        for county in (*GOOD, BROKEN):
            assert county in text, (name, county)
    index = (out / "index.html").read_text("utf-8")
    for county in GOOD:
        assert f'href="{quote(county)}/{YEAR}/report.html"' in index
    assert "未发布" in page_text(out / "index.html")
    rollup = page_text(out / f"rollup-{YEAR}.html")
    total = sum(t.aid_amount_fen for t in targets.values())
    assert money_text(total) in rollup  # summed from exact fen, then rounded once
    for t in targets.values():
        assert money_text(t.aid_amount_fen) in rollup


# ---------------------------------------------------------------- quick, no notebooks


def test_batch_exit_code_is_the_most_severe() -> None:
    assert most_severe([EXIT_OK, EXIT_OK]) == EXIT_OK
    assert most_severe([EXIT_OK, EXIT_LOCKED, EXIT_VALIDATION_FAILED]) == EXIT_VALIDATION_FAILED
    assert most_severe([EXIT_VALIDATION_FAILED, EXIT_BAD_INPUT]) == EXIT_BAD_INPUT
    assert most_severe([EXIT_BAD_INPUT, EXIT_USAGE]) == EXIT_USAGE
    assert most_severe([EXIT_USAGE, EXIT_INTERNAL, EXIT_LOCKED]) == EXIT_INTERNAL
    assert most_severe([EXIT_OK, 99]) == EXIT_INTERNAL


def test_pages_escape_ledger_text(tmp_path: Path) -> None:
    county = '<b onclick="x">县&'
    target = tmp_path / county / str(YEAR)
    target.mkdir(parents=True)
    fig = {"value": 1234567, "unit": "万元", "label": "学生资助资金<合计>", "source": "aid"}
    count = {"value": 3, "unit": "人次", "label": "学生资助合计人次", "source": "aid"}
    (target / "figures.json").write_text(
        json.dumps({"aid_total_amount": fig, "aid_total_count": count}), "utf-8"
    )
    (target / "report.html").write_text("<html><title>A &lt;b&gt; 报告</title></html>", "utf-8")
    (target / "published.json").write_text('{"run_id": "r1", "published": "2024-01-01"}', "utf-8")
    for page in (
        site.write_rollup(tmp_path, YEAR, {county: "published"}),
        site.write_index(tmp_path),
    ):
        raw = page.read_text("utf-8")
        assert "<b" not in raw.replace("<body", "") and "<合计>" not in raw
        assert "&lt;b onclick=&quot;x&quot;&gt;县&amp;" in raw
        assert "<script" not in raw
    assert "1.23万元" in page_text(tmp_path / f"rollup-{YEAR}.html")
