"""Ledger text is inert wherever it is shown: escaped in HTML, never a formula in a CSV.

Markup arrives through what a county controls: file names (shown in the report's footer, the
validation page and set_aside.csv) and cell text (school and institution names). A file name or a
cell beginning with = + - @ would run as a formula when an analyst opens set_aside.csv in Excel;
it is written with a leading quote (the OWASP rule).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from edureport import paths
from edureport.ingest.clean import SET_ASIDE_COLUMNS, CleanResult, clean_folder
from edureport.ingest.csvsafe import TRIGGERS, neutralise, read_csv, restore
from edureport.runs import steps

from .conftest import run_cli, sample_copy

IMG = "<img src=x onerror=alert(1)>"  # in a file name
SVG = "<svg/onload=alert(1)>"  # in cells (the cleaner removes white space from cell text)
SCRIPT = "<script>alert(1)</script>"
FORMULA = "=HYPERLINK(1)"
AID_FILE = f"{FORMULA}{IMG}2022年学生资助发放台账.xlsx"


def _read_raw_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'=1", "'x"])
def test_trigger_cells_are_quoted_and_read_back(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["一中", "1", "a=b", " =1", "", "＝1"])
def test_plain_cells_are_unchanged(value: str) -> None:
    assert neutralise(value) == value and restore(value) == value


def test_set_aside_csv_never_runs_a_formula(tmp_path: Path) -> None:
    rows = [
        ("aid", f"{trigger}资助发放.csv", 3, "金额", f"{trigger}reason", "set_aside")
        for trigger in TRIGGERS
    ]
    aside = pd.DataFrame(rows, columns=SET_ASIDE_COLUMNS)
    result = CleanResult({}, aside, {}, {})
    result.write(tmp_path)
    written = _read_raw_csv(tmp_path / "set_aside.csv")[1:]
    for row in written:
        for cell in (row[1], row[4]):
            assert cell.startswith("'") and not cell.startswith(TRIGGERS[:-1])
    back = read_csv(tmp_path / "set_aside.csv")
    assert back["file"].tolist() == [r[1] for r in rows]
    assert back["reason"].tolist() == [r[4] for r in rows]


def _markup_county(county_dir: Path) -> Path:
    """The conftest county with markup in a file name, a school and an institution."""
    aid = county_dir / "2022年学生资助发放台账.xlsx"
    wb = openpyxl.load_workbook(aid)
    ws = wb["台账"]
    ws["B4"] = SVG  # the first data row's school
    ws["I5"] = "一千元"  # an amount the cleaner cannot read: the row is set aside
    wb.save(aid)
    aid.rename(county_dir / AID_FILE)
    inspections = county_dir / "民办教育机构检查台账.csv"
    inspections.write_text(
        inspections.read_text(encoding="utf-8-sig").replace("阳光幼儿园", SCRIPT),
        encoding="utf-8-sig",
    )
    return county_dir


def test_markup_is_inert_in_every_page_the_steps_write(county_dir: Path, tmp_path: Path) -> None:
    folder = _markup_county(county_dir)
    run = tmp_path / "run"
    result = steps.clean("测试县", 2022, folder, run)
    assert SVG in result.tables["aid"]["school"].tolist()  # the text itself is kept as data
    assert SCRIPT in result.tables["inspections"]["institution"].tolist()
    assert result.set_aside["file"].tolist() == [AID_FILE]
    steps.validate("测试县", 2022, folder, run)
    _, pieces = steps.report("测试县", 2022, folder, run)
    report = "".join(pieces)
    pages = {"report": report, "validation": (run / "validation.html").read_text("utf-8")}
    for page, text in pages.items():
        for payload in (IMG, SVG, SCRIPT):
            assert payload not in text, page
        assert "<script" not in text and "<svg" not in text and "<img src=x" not in text, page
    assert "&lt;img src=x onerror=alert(1)&gt;" in report  # the file name, shown, escaped
    cells = _read_raw_csv(run / "set_aside.csv")
    assert cells[1][1] == "'" + AID_FILE  # a formula in Excel without the quote
    assert CleanResult.load(run).set_aside["file"].tolist() == [AID_FILE]


def test_shown_dataframes_escape_markup(county_dir: Path) -> None:
    """The clean notebook shows the rows per ledger and the set-aside rows: escaped."""
    from edureport.report import display

    result = clean_folder(_markup_county(county_dir), 2022)
    run = county_dir / "run"
    shown = (
        display.clean_overview(result, run)._repr_html_()
        + display.set_aside_table(result)._repr_html_()
    )
    assert IMG not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown


@pytest.mark.slow
def test_markup_through_the_pipeline(tmp_path: Path) -> None:
    """A real run with markup in the aid file's name, a school and an institution name."""
    folder = sample_copy(tmp_path / "data")
    aid = next(folder.glob("*资助发放*.xlsx"))
    aid.rename(folder / AID_FILE)
    exchange = next(folder.glob("*交流*.csv"))
    text = exchange.read_text(encoding="utf-8-sig")
    school = next(row[5] for row in csv.reader(text.splitlines()[1:]) if row[3] == "走教")
    exchange.write_text(text.replace(school, SVG), encoding="utf-8-sig")
    inspections = next(folder.glob("*检查*.xlsx"))
    wb = openpyxl.load_workbook(inspections)
    ws = wb.worksheets[0]
    name = next(c.value for c in ws["A"] if isinstance(c.value, str) and "园" in c.value)
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == name:
                cell.value = SCRIPT
    wb.save(inspections)
    proc = run_cli(tmp_path / "data", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out" / paths.SAMPLE_COUNTY / str(paths.SAMPLE_YEAR)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in report  # the footer's input files
    shown = [report, (out / "validation.html").read_text(encoding="utf-8")]
    for nb in (out / "notebooks").glob("*.ipynb"):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                shown.append("".join(output.get("data", {}).get("text/html", "")))
    for text in shown:
        assert IMG not in text and SVG not in text and SCRIPT not in text
        assert "<script" not in text.lower() and "<svg" not in text.lower()
    assert all(row[1] == "'" + AID_FILE for row in _read_raw_csv(out / "set_aside.csv")[1:]), (
        "set_aside.csv"
    )
    cleaned = pd.read_parquet(out / "cleaned" / "inspections.parquet")
    assert SCRIPT in set(cleaned["institution"])  # the text reached the tables it belongs in
