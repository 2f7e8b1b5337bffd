"""A run whose ledgers break a rule: exit 3, a draft naming those checks, nothing published."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from edureport import paths
from edureport.errors import EXIT_VALIDATION_FAILED

from .conftest import edureport, page_text

pytestmark = pytest.mark.slow
SAMPLE = paths.RAW_DIR / paths.SAMPLE_COUNTY / "2022"


def _copy_sample(root: Path, previous: bool = True) -> Path:
    """The sample's 2022 folder, with 2021 beside it (its narrative's 同比 reads it)."""
    folder = root / paths.SAMPLE_COUNTY / "2022"
    shutil.copytree(SAMPLE, folder)
    if previous:
        shutil.copytree(SAMPLE.parent / "2021", folder.parent / "2021")
    return folder


def _control_100_yuan_off(folder: Path) -> None:
    path = next(folder.glob("*拨付汇总*.csv"))
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("gbk"))))
    assert rows[1][:2] == ["学前教育", "学前教育资助"]
    rows[1][3] = f"{float(rows[1][3]) + 100:.2f}"
    with open(path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _expired_and_contract(folder: Path) -> tuple[int, int]:
    path = next(folder.glob("*执法人员*.xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.cell(row=3, column=6).value = dt.datetime(2022, 6, 30)  # expired before the report date
    ws.cell(row=4, column=7).value = "合同工"
    wb.save(path)
    return 3, 4


def _run(data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return edureport("run", "--data", data, "--out", out)


def _failed(run_dir: Path) -> dict[str, dict]:
    data = json.loads((run_dir / "validation.json").read_text(encoding="utf-8"))
    return {c["name"]: c for c in data["checks"] if c["status"] == "failed"}


def _only_run(out: Path) -> Path:
    (run_dir,) = (out / paths.SAMPLE_COUNTY / "2022" / "runs").iterdir()
    return run_dir


def test_control_total_100_yuan_off(tmp_path: Path) -> None:
    _control_100_yuan_off(_copy_sample(tmp_path / "data"))
    proc = _run(tmp_path / "data", tmp_path / "out")
    assert proc.returncode == EXIT_VALIDATION_FAILED, proc.stderr
    assert "Traceback" not in proc.stderr
    published = tmp_path / "out" / paths.SAMPLE_COUNTY / "2022"
    assert not (published / "report.html").exists()
    run_dir = _only_run(tmp_path / "out")
    failed = _failed(run_dir)
    # the control line no longer agrees with the aid ledger, nor with the control sheet's 合计
    assert {n for n in failed if not n.startswith("aid_control.")} == {"stated_totals.amount_match"}
    assert any(n.startswith("aid_control.") for n in failed), sorted(failed)
    text = page_text(run_dir / "report.html")
    assert "未通过校验" in text and "10000" not in text  # shown in 元, not fen
    for check in failed.values():
        assert check["rule"] in text


def test_expired_certificate_and_contract_worker(tmp_path: Path) -> None:
    expired_row, contract_row = _expired_and_contract(_copy_sample(tmp_path / "data"))
    proc = _run(tmp_path / "data", tmp_path / "out")
    assert proc.returncode == EXIT_VALIDATION_FAILED, proc.stderr
    assert not (tmp_path / "out" / paths.SAMPLE_COUNTY / "2022" / "report.html").exists()
    run_dir = _only_run(tmp_path / "out")
    failed = _failed(run_dir)
    assert {c["suite"] for c in failed.values()} == {"officers"}, sorted(failed)
    rows = {tuple(r[:2]) for c in failed.values() for r in c["rows"]}
    path = next((tmp_path / "data" / paths.SAMPLE_COUNTY / "2022").glob("*执法人员*.xlsx")).name
    assert rows == {(path, expired_row), (path, contract_row)}
    text = page_text(run_dir / "report.html")
    assert "未通过校验" in text and f"第{expired_row}行" in text and f"第{contract_row}行" in text


def test_failed_run_keeps_the_last_good_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    folder = _copy_sample(data)
    assert _run(data, tmp_path / "out").returncode == 0
    report = tmp_path / "out" / paths.SAMPLE_COUNTY / "2022" / "report.html"
    before = report.read_bytes()
    _control_100_yuan_off(folder)
    assert _run(data, tmp_path / "out").returncode == EXIT_VALIDATION_FAILED
    assert report.read_bytes() == before


def test_the_new_scaffold_is_not_published(tmp_path: Path) -> None:
    """A narrative still marked 待填写 fails the narrative checks: exit 3, each place listed with
    its line in the console, the draft kept, nothing published."""
    from edureport.report import narrative as nv

    folder = _copy_sample(tmp_path / "data", previous=False)
    (folder / nv.NARRATIVE_FILE).write_text(nv.template_text(), encoding="utf-8")
    proc = _run(tmp_path / "data", tmp_path / "out")
    assert proc.returncode == EXIT_VALIDATION_FAILED, proc.stdout + proc.stderr
    assert not (tmp_path / "out" / paths.SAMPLE_COUNTY / "2022" / "report.html").exists()
    run_dir = _only_run(tmp_path / "out")
    failed = _failed(run_dir)
    # no 2021 beside it: the scaffold's 同比 has no last year either
    assert set(failed) == {"narrative.no_todo", "narrative.previous_year_for_change"}
    places = [
        n
        for n, raw in enumerate(nv.template_text().splitlines(), start=1)
        if "（待填写" in raw and not raw.startswith("<!--")
    ]
    assert [r[1] for r in failed["narrative.no_todo"]["rows"]] == places
    for n in places:
        assert f"第{n}行第2列待填写：（待填写" in proc.stdout, proc.stdout
    text = page_text(run_dir / "report.html")
    assert "未通过校验" in text and failed["narrative.no_todo"]["rule"] in text
