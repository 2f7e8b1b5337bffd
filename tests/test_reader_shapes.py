"""Shapes of ledger files that real offices produce, as ``read_sheets`` gives them.

Workbooks: hidden sheets and merged ranges (reported, not filled). CSV: Excel's "Unicode text"
(UTF-16 with BOM, tab-separated), the Windows code page 936 with its euro sign, semicolon and tab
separators, a DOS end-of-file mark (Ctrl-Z); and the forms refused, each with its cause.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edureport.errors import InputError
from edureport.ingest import readers
from edureport.ingest.readers import delimited, read_sheets, xlsx_scan

from .conftest import patch_readers, rewrite_part

SHEET_STATES = [("台账", False), ("隐藏", True), ("深度隐藏", True)]
HEADER = ["序号", "学校名称", "学生姓名", "金额（元）", "发放日期"]
ROWS = [["1", "一中", "张三", "1000", "2022-03-05"], ["2", "二中", "李四", "500", "2022-03-06"]]


def cells(grid: pd.DataFrame) -> list[list[Any]]:
    """The grid as lists, missing values as None."""
    return [[None if v is None or v != v else v for v in row] for row in grid.values.tolist()]


# ---------------------------------------------------------------- .xlsx


def merged_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["2022年资助台账"])
    ws.append(["学校", "姓名", "金额", "日期", "备注"])
    ws.append(["一中", "张三", 100, None, "同上"])
    ws.append([None, "李四", 200])
    ws.append([None, "王五", 300])
    ws.merge_cells("A1:E1")  # the title over the table
    ws.merge_cells("A3:A5")  # one school for three rows
    ws.merge_cells("E3:E9")  # past the last row holding a value: clipped
    ws.merge_cells("G20:H21")  # wholly outside the grid: left out
    hidden = wb.create_sheet("隐藏")
    hidden["A1"] = "x"
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("深度隐藏")
    very["A1"] = "y"
    very.sheet_state = "veryHidden"
    wb.save(path)
    return path


def test_xlsx_merged_ranges_and_hidden_sheets(tmp_path: Path) -> None:
    sheets = read_sheets(merged_workbook(tmp_path / "台账.xlsx"))
    assert [(s.name, s.hidden) for s in sheets] == SHEET_STATES
    table = sheets[0]
    assert cells(table.grid) == [  # merged cells are not filled here
        ["2022年资助台账", None, None, None, None],
        ["学校", "姓名", "金额", "日期", "备注"],
        ["一中", "张三", 100, None, "同上"],
        [None, "李四", 200, None, None],
        [None, "王五", 300, None, None],
    ]
    assert sorted(table.merged) == [(0, 0, 0, 4), (2, 0, 4, 0), (2, 4, 4, 4)]
    assert sheets[1].merged == [] and cells(sheets[1].grid) == [["x"]]


def test_xlsx_merge_scan_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also when a read ends just after <sheetData> (once taken for its end: an empty sheet)."""
    path = merged_workbook(tmp_path / "台账.xlsx")
    whole = read_sheets(path)
    for chunk in (16, 61, 256):  # tags cut by the reads anywhere
        patch_readers(monkeypatch, "_CHUNK", chunk)
        again = read_sheets(path)
        assert [(s.merged, s.hidden) for s in again] == [(s.merged, s.hidden) for s in whole]
        assert [cells(s.grid) for s in again] == [cells(s.grid) for s in whole]


def test_merge_cells_with_a_namespace_prefix_and_odd_refs() -> None:
    ns = b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = (
        b"<x:worksheet " + ns + b'><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c>'
        b'</x:row><x:row r="2"/></x:sheetData><x:mergeCells count="3">'
        b'<x:mergeCell ref="A1:B2"/><x:mergeCell  ref="$c$1:$D$2" /><x:mergeCell ref="E1"/>'
        b"</x:mergeCells></x:worksheet>"
    )
    src = io.BytesIO(xml)
    last, rest = xlsx_scan._scan_rows(src)
    refs = xlsx_scan._merge_refs(src, rest)
    assert last == 1 and refs == [b"A1:B2", b"$c$1:$D$2", b"E1"]
    ranges = [xlsx_scan._merge_range(Path("x.xlsx"), "s", r) for r in refs]
    assert ranges == [(0, 0, 1, 1), (0, 2, 1, 3), (0, 4, 0, 4)]
    assert xlsx_scan._clip(ranges, (1, 4)) == [(0, 0, 0, 1), (0, 2, 0, 3)]  # one-cell ranges out
    # <sheetData/> and rows without numbers stop the row scan early; the merges are still found
    for body in (b"<sheetData/>", b"<sheetData><row><c><v>1</v></c></row></sheetData>"):
        src = io.BytesIO(b"<worksheet>" + body + b'<mergeCells><mergeCell ref="A1:A2"/>')
        assert xlsx_scan._merge_refs(src, xlsx_scan._scan_rows(src)[1]) == [b"A1:A2"]


@pytest.mark.parametrize("ref", ["A3:A0", "A1:XFE1", "A1:B2:C3", "", "中", "A1\n:B2"])
def test_xlsx_impossible_merged_range_is_refused(tmp_path: Path, ref: str) -> None:
    base = merged_workbook(tmp_path / "base.xlsx")
    bad = rewrite_part(
        base,
        tmp_path / "台账.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'ref="A3:A5"', f'ref="{ref}"'.encode()),
    )
    with pytest.raises(InputError, match="合并单元格") as err:
        read_sheets(bad)
    assert err.value.file == "台账.xlsx" and err.value.sheet == "台账"
    assert "\n" not in str(err.value)


def test_merge_scan_costs_nothing_on_a_large_sheet(tmp_path: Path) -> None:
    """200,000 rows: the merges after sheetData are found by the same pass that finds the last
    row, which reads no more of the sheet than before."""
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>1</v></c></row>' % (i, i, i, i)
        for i in range(1, 200_001)
    )
    xml = b"<worksheet><sheetData>" + rows + b'</sheetData><mergeCells count="1">'
    xml += b'<mergeCell ref="A1:B1"/></mergeCells><pageMargins/></worksheet>'

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            out = super().read(n)
            self.read_bytes += len(out)
            return out

    src = Counting(xml)
    last, rest = xlsx_scan._scan_rows(src)
    before = src.read_bytes
    assert last == 200_000 and xlsx_scan._merge_refs(src, rest) == [b"A1:B1"]
    assert src.read_bytes == before == len(xml)  # the tail was already read: no further read


# ---------------------------------------------------------------- .xlsx read by calamine

SHEET1 = "xl/worksheets/sheet1.xml"


def sheet_xml(tmp_path: Path, rows: bytes, name: str = "台账.xlsx", **parts: bytes) -> Path:
    """A workbook whose first sheet's <sheetData> holds ``rows`` (and other parts replaced)."""
    wb = openpyxl.Workbook()
    wb.active.title = "台账"
    wb.active["A1"] = "x"
    base = tmp_path / f"base-{name}"
    wb.save(base)
    out = rewrite_part(
        base,
        tmp_path / name,
        SHEET1,
        lambda xml: re.sub(
            rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", xml
        ),
    )
    for part, data in parts.items():
        out = rewrite_part(
            out, tmp_path / f"p-{name}", part.replace("__", "/"), lambda _, d=data: d
        )
        out = out.rename(tmp_path / name)
    base.unlink()
    return out


def with_shared_strings(path: Path, strings: list[str]) -> Path:
    """Add a shared string table, as Excel and WPS save every text cell."""
    sst = "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in strings)
    sst_xml = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns='
        f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sst}</sst>'
    ).encode()
    out = path.with_name("ss-" + path.name)
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Id="rIdS" Type="{rels}" Target="sharedStrings.xml"/>'
                    "</Relationships>".encode(),
                )
            zout.writestr(item, data)
        zout.writestr("xl/sharedStrings.xml", sst_xml)
    return out.rename(path)


def test_xlsx_values_as_the_package_reads_them(tmp_path: Path) -> None:
    """Whole numbers as int (as Excel writes them, and "100.0" too), binary noise kept, a number
    of 18 digits a float (a double holds 15–17 of them), dates as datetime, error cells as their
    text, a number stored as text as text, booleans as bool, empty as None."""
    rows = (
        b'<row r="1"><c r="A1"><v>1180</v></c><c r="B1"><v>1180.0000000000002</v></c>'
        b'<c r="C1"><v>123456789012345678</v></c><c r="D1"><v>100.0</v></c>'
        b'<c r="E1" t="inlineStr"><is><t>00123</t></is></c><c r="F1" t="b"><v>1</v></c>'
        b'<c r="G1" t="e"><v>#DIV/0!</v></c><c r="H1" t="e"><f>NA()</f><v>#N/A</v></c>'
        b'<c r="I1" t="str"><f>""</f><v></v></c><c r="K1"><v>-0</v></c></row>'
    )
    (sheet,) = read_sheets(sheet_xml(tmp_path, rows))
    want = [1180, 1180.0000000000002, 1.2345678901234568e17, 100, "00123", True, "#DIV/0!"]
    assert sheet.grid.values.tolist() == [[*want, "#N/A", None, None, 0]]
    types = [type(v) for v in sheet.grid.values.tolist()[0]]
    assert types[:6] == [int, float, float, int, str, bool] and types[-1] is int
    assert sheet.uncomputed == [(1, 9)]  # "" with no saved result is still a formula without one
    wb = openpyxl.Workbook()
    wb.active.append([dt.datetime(2022, 3, 5), dt.datetime(2022, 3, 5, 9, 30), dt.time(9, 30)])
    wb.save(tmp_path / "dates.xlsx")
    assert read_sheets(tmp_path / "dates.xlsx")[0].grid.values.tolist() == [
        [dt.datetime(2022, 3, 5), dt.datetime(2022, 3, 5, 9, 30), dt.time(9, 30)]
    ]


def test_xlsx_shared_strings(tmp_path: Path) -> None:
    """Text kept in the shared string table, as Excel and WPS save it (openpyxl writes inline
    strings), _x000D_ escapes decoded; an index the table does not have is refused."""
    rows = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    path = with_shared_strings(sheet_xml(tmp_path, rows), ["学校名称", "一行_x000D_二行"])
    assert read_sheets(path)[0].grid.values.tolist() == [["学校名称", "一行\r二行"]]
    rows = b'<row r="1"><c r="A1" t="s"><v>7</v></c></row>'
    bad = with_shared_strings(sheet_xml(tmp_path, rows, "坏.xlsx"), ["学校名称"])
    with pytest.raises(InputError, match="损坏") as err:
        read_sheets(bad)
    assert err.value.file == "坏.xlsx"
    # a damaged end tag in the table: calamine alone would run two strings into one and read
    # every later index one string off
    damaged = rewrite_part(
        path,
        tmp_path / "断.xlsx",
        "xl/sharedStrings.xml",
        lambda x: x.replace(b"</si>", b"</s>", 1),
    )
    with pytest.raises(InputError, match="损坏"):
        read_sheets(damaged)


FORMULAS = (  # formula cells without a saved result, in the forms writers use
    b'<row r="2"><c r="A2"><f>1+1</f></c><c r="B2"><f>1+1</f><v></v></c>'
    b'<c r="C2"><f t="shared" ref="C2:C3" si="0">A2</f></c><c r="D2" t="e"><f>1/0</f></c>'
    b'<c r="E2"><f/></c><c r="F2"><f>1</f><v>1</v></c></row>'
    b'<row r="3"><c r="C3"><f t="shared" si="0"/></c><c r="D3" t="inlineStr"><f>1</f></c>'
    b'<c r="E3" t="inlineStr"><f>1</f><is><t>ok</t></is></c><c r="F3" t="e"><v>#N/A</v></c>'
    b"</row>"
)
FORMULA_CELLS = [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (3, 3), (3, 4)]


def test_xlsx_formulas_without_result(tmp_path: Path) -> None:
    (sheet,) = read_sheets(sheet_xml(tmp_path, FORMULAS))
    assert sheet.uncomputed == FORMULA_CELLS
    assert cells(sheet.grid) == [[None] * 6, [*[None] * 5, 1], [*[None] * 4, "ok", "#N/A"]]


def test_xlsx_cells_scanned_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Formula and error cells cut by the scan's reads anywhere are read whole, and every row's
    cells are placed where calamine places them."""
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><f>A%d*2</f></c>'
        b'<c r="C%d" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>' % ((i,) * 6)
        for i in range(1, 40)
    )
    later = re.sub(rb'r="([A-F]?)([23])"', lambda m: b'r="%s%d"' % (m[1], int(m[2]) + 38), FORMULAS)
    path = sheet_xml(tmp_path, rows + later)
    whole = read_sheets(path)[0]
    want = [(i, 2) for i in range(1, 40)] + [(r + 38, c) for r, c in FORMULA_CELLS]
    assert whole.uncomputed == want
    patch_readers(monkeypatch, "_scan_parsed", None)  # the byte scan does it all
    for chunk in (7, 16, 61, 256):
        patch_readers(monkeypatch, "_CHUNK", chunk)
        again = read_sheets(path)[0]
        assert again.uncomputed == whole.uncomputed
        assert cells(again.grid) == cells(whole.grid)
    assert cells(whole.grid)[0] == [1, None, "#DIV/0!", None, None, None]


def test_xlsx_rows_and_cells_without_numbers(tmp_path: Path) -> None:
    """Rows and cells placed by their order (no r=): parsed, as calamine places them."""
    rows = (
        b'<row><c t="inlineStr"><is><t>h</t></is></c><c><v>2</v></c></row>'
        b'<row><c><f>1+1</f></c><c t="e"><v>#N/A</v></c><c><v>5</v></c></row>'
        b'<row r="5"><c><v>7</v></c><c r="D5"><f>1</f></c><c t="e"><v>#VALUE!</v></c></row>'
    )
    (sheet,) = read_sheets(sheet_xml(tmp_path, rows))
    assert sheet.uncomputed == [(2, 1), (5, 4)]
    assert cells(sheet.grid) == [
        ["h", 2, None, None, None],
        [None, "#N/A", 5, None, None],
        [None] * 5,
        [None] * 5,
        [7, None, None, None, "#VALUE!"],
    ]


def test_xlsx_comment_in_sheet_data_is_not_a_cell(tmp_path: Path) -> None:
    rows = (
        b'<row r="1"><c r="A1"><v>1</v></c><!-- <c r="B1" t="e"><v>#N/A</v></c> -->'
        b'<c r="C1"><v>3</v></c></row><!-- <row r="1048576"><c r="A1048576"><f>1</f></c></row> -->'
    )
    (sheet,) = read_sheets(sheet_xml(tmp_path, rows))
    assert cells(sheet.grid) == [[1, None, 3]] and sheet.uncomputed == []


@pytest.mark.parametrize(
    ("rows", "row"),
    [
        (b'<row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>', 2),
        (b'<row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c r="B2"><v>2</v></c></row>', 2),
        (b'<row r="2"><c r="A2"><v>1</v></c></row><row r="9"/><row r="5"/>', 5),
        (b'<row><c><v>1</v></c></row><row r="1"><c r="B1"><f>1</f></c></row>', 1),
    ],
)
def test_xlsx_rows_out_of_order_are_refused(tmp_path: Path, rows: bytes, row: int) -> None:
    """calamine would sort them without a word."""
    for chunk in (xlsx_scan._CHUNK, 16):
        with pytest.MonkeyPatch.context() as m:
            patch_readers(m, "_CHUNK", chunk)
            with pytest.raises(InputError, match="顺序错乱") as err:
                read_sheets(sheet_xml(tmp_path, rows))
        assert (err.value.sheet, err.value.row) == ("台账", row)


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="IW2"><v>3</v></c>',  # column 257
        b'<c r="XFD2" t="e"><v>#N/A</v></c>',
        b'<c r="XFD2" t="inlineStr"><is><t></t></is></c>',
        b"".join([b"<c><v>1</v></c>"] * 300),  # by order, not by reference
    ],
)
def test_xlsx_value_far_right_is_refused(tmp_path: Path, cell: bytes) -> None:
    rows = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="2">' + cell + b"</row>"
    with pytest.raises(InputError, match="超出台账可能的宽度") as err:
        read_sheets(sheet_xml(tmp_path, rows))
    assert err.value.row == 2 and err.value.sheet == "台账"


def test_xlsx_empty_cells_far_right_are_not_columns(tmp_path: Path) -> None:
    rows = (
        b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/><c r="IW1"><f>1</f><v></v></c>'
        b'<c r="XFC1" t="str"><f>""</f><v></v></c></row>'
    )
    (sheet,) = read_sheets(sheet_xml(tmp_path, rows))
    width = sheet.grid.shape[1]
    assert width <= readers.MAX_COLUMNS and cells(sheet.grid) == [[1] + [None] * (width - 1)]
    assert sheet.uncomputed == [(1, 257), (1, 16383)]


@pytest.mark.parametrize(
    ("cell", "row"),
    [
        (b'<c r="B4000000000"><v>2</v></c>', 4000000000),  # calamine: 4e9 rows held in memory
        (b'<c r="B7"><v>2</v></c>', 7),
        (b'<c r="B07"><v>2</v></c>', 7),
    ],
)
def test_xlsx_cell_reference_outside_its_row_is_refused(
    tmp_path: Path, cell: bytes, row: int
) -> None:
    """calamine places a cell by its reference, not by its row: a reference to a row further
    down is refused (it would also let a value into row 1,048,576 unseen)."""
    rows = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="5"><c r="A5"><v>1</v></c>'
    with pytest.raises(InputError, match="地址与所在行") as err:
        read_sheets(sheet_xml(tmp_path, rows + cell + b"</row>"))
    assert (err.value.sheet, err.value.row) == ("台账", row)


@pytest.mark.parametrize("ref", [b"AAAA2", b"iw2", b"xfd2"])
def test_xlsx_far_reference_in_any_form_is_refused(tmp_path: Path, ref: bytes) -> None:
    rows = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="%s"><v>2</v></c></row>' % ref
    with pytest.raises(InputError, match="超出台账可能的宽度") as err:
        read_sheets(sheet_xml(tmp_path, rows))
    assert err.value.row == 2


def test_xlsx_too_large_a_rectangle_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine holds every cell from A1 to the last row and column: two stray values far apart
    (A1 and IV1000000: 256 million cells) are refused before it reads them. Cells that only
    carry a format do not count."""
    patch_readers(monkeypatch, "_GRID_CELLS", 5000)
    first = b'<row r="1"><c r="A1"><v>1</v></c><c r="IV1" s="1"/></row>'
    for last, fits in ((b"AB100", True), (b"Z150", True), (b"AB200", False)):
        rows = first + b'<row r="%s"><c r="%s"><v>2</v></c></row>' % (last.strip(b"ABZ"), last)
        if fits:
            assert read_sheets(sheet_xml(tmp_path, rows))[0].grid.iat[0, 0] == 1
            continue
        with pytest.raises(InputError, match="工作表过大") as err:
            read_sheets(sheet_xml(tmp_path, rows))
        assert err.value.sheet == "台账" and "AB" in err.value.detail


@pytest.mark.parametrize(
    ("part", "change"),
    [
        (SHEET1, (b"</t></is></c>", b"</t></is:</c>")),  # calamine would merge two cells
        ("xl/workbook.xml", (b"</sheets>", b"</sheet>")),
    ],
)
def test_xlsx_malformed_xml_is_refused(tmp_path: Path, part: str, change: tuple) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["一中", "普通高中"])
    wb.save(tmp_path / "base.xlsx")
    bad = rewrite_part(
        tmp_path / "base.xlsx", tmp_path / "台账.xlsx", part, lambda x: x.replace(*change, 1)
    )
    with pytest.raises(InputError, match="损坏") as err:
        read_sheets(bad)
    assert err.value.file == "台账.xlsx"


def test_xlsx_read_by_content_under_any_name(tmp_path: Path) -> None:
    """calamine picks a reader by the extension; a workbook named .xls, .csv or .XLSX is read
    by what it holds. A chart sheet is not a worksheet."""
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.create_chartsheet("图表")
    wb.save(tmp_path / "a.xlsx")
    for name in ("a.xls", "a.csv", "a.XLSX"):
        (tmp_path / name).write_bytes((tmp_path / "a.xlsx").read_bytes())
        (sheet,) = read_sheets(tmp_path / name)
        assert cells(sheet.grid) == [HEADER]


# ---------------------------------------------------------------- .xls


def xls_workbook(path: Path, xlwt: Any) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    ws.write_merge(0, 0, 0, 4, "2022年资助台账")
    for j, v in enumerate(["学校", "姓名", "金额", "日期", "备注"]):
        ws.write(1, j, v)
    ws.write_merge(2, 4, 0, 0, "一中")
    for i, (name, amount) in enumerate([("张三", 100), ("李四", 200), ("王五", 300)]):
        ws.write(2 + i, 1, name)
        ws.write(2 + i, 2, amount)
    ws.write_merge(2, 8, 4, 4, "同上")  # past the last row holding a value: clipped
    ws.write(12, 7, "", xlwt.easyxf("pattern: pattern solid;"))  # format only: not a cell
    hidden = wb.add_sheet("隐藏")
    hidden.write(0, 0, "x")
    hidden.visibility = 1
    very = wb.add_sheet("深度隐藏")
    very.write(0, 0, "y")
    very.visibility = 2
    wb.save(str(path))
    return path


def test_xls_merged_ranges_and_hidden_sheets(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    sheets = read_sheets(xls_workbook(tmp_path / "台账.xls", xlwt))
    assert [(s.name, s.hidden) for s in sheets] == SHEET_STATES
    table = sheets[0]
    assert cells(table.grid) == [
        ["2022年资助台账", "", "", "", ""],
        ["学校", "姓名", "金额", "日期", "备注"],
        ["一中", "张三", 100.0, "", "同上"],
        ["", "李四", 200.0, "", ""],
        ["", "王五", 300.0, "", ""],
    ]
    assert sorted(table.merged) == [(0, 0, 0, 4), (2, 0, 4, 0), (2, 4, 4, 4)]


def test_xls_grid_same_with_and_without_formatting_info(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Formatted blank cells (read with formatting_info) change nothing in the grid; a file whose
    formatting cannot be read is read without it, and without merged ranges."""
    xlwt = pytest.importorskip("xlwt")
    import xlrd

    opened = xlrd.open_workbook

    def without_formats(*args: Any, formatting_info: bool = False, **kwargs: Any) -> Any:
        if formatting_info:
            raise NotImplementedError("formatting_info")
        return opened(*args, **kwargs)

    styled = xlwt.easyxf("font: bold on; pattern: pattern solid;")
    rng = random.Random(7)
    for n in range(12):
        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet("s", cell_overwrite_ok=True)
        for _ in range(rng.randint(0, 40)):
            r, c = rng.randint(0, 30), rng.randint(0, 12)
            value = rng.choice(["", "一中", 3.5, None, True])
            if value is None:
                ws.write(r, c, "", styled)  # blank, formatted
            else:
                ws.write(r, c, value, styled if rng.random() < 0.5 else xlwt.Style.default_style)
        if rng.random() < 0.5:
            ws.write_merge(31, 33, 13, 14, "", styled)  # a merged blank range beyond the values
        path = tmp_path / f"{n}.xls"
        wb.save(str(path))
        with_formats = read_sheets(path)[0].grid
        with monkeypatch.context() as m:
            m.setattr(xlrd, "open_workbook", without_formats)
            without = read_sheets(path)[0]
        plain = opened(str(path)).sheet_by_index(0)
        want = [plain.row_values(i) for i in range(plain.nrows)]
        assert cells(with_formats) == cells(without.grid) == want, n
        assert without.merged == []


# ---------------------------------------------------------------- CSV


def lines(rows: list[list[str]], sep: str, end: str = "\r\n") -> str:
    return "".join(sep.join(r) + end for r in rows)


def test_csv_utf16_unicode_text(tmp_path: Path) -> None:
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF, quotes where needed."""
    rows = [HEADER, *ROWS, ["3", "三中", '"王\t五"', "200", "2022-03-07"]]
    path = tmp_path / "资助发放.csv"
    path.write_bytes(b"\xff\xfe" + lines(rows, "\t").encode("utf-16-le"))
    sheet = read_sheets(path)[0]
    assert (sheet.name, sheet.hidden, sheet.merged) == (None, False, [])
    assert cells(sheet.grid) == [HEADER, *ROWS, ["3", "三中", "王\t五", "200", "2022-03-07"]]
    path.write_bytes(("\ufeff" + lines([HEADER, *ROWS], "\t")).encode("utf-16-be"))
    assert cells(read_sheets(path)[0].grid) == [HEADER, *ROWS]


def test_csv_utf16_without_bom_or_cut_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    for encoding in ("utf-16-le", "utf-16-be"):
        path.write_bytes(lines([HEADER, *ROWS], "\t").encode(encoding))
        with pytest.raises(InputError, match=r"UTF-16.*BOM") as err:
            read_sheets(path)
        assert err.value.file == "资助发放.csv"
    path.write_bytes(b"\xff\xfe" + lines([HEADER, *ROWS], "\t").encode("utf-16-le") + b"\x1a")
    with pytest.raises(InputError, match=r"UTF-16.*损坏") as err:
        read_sheets(path)  # an odd number of bytes: cut short
    assert err.value.row == 4


def cp936(text: str) -> bytes:
    """Text as Windows' code page 936 writes it: GBK, with the euro sign as byte 0x80."""
    return b"\x80".join(part.encode("gbk") for part in text.split("€"))


def test_csv_cp936_euro_sign(tmp_path: Path) -> None:
    rows = [[*HEADER, "备注"], *[[*r, "折合€100"] for r in ROWS]]
    path = tmp_path / "资助发放.csv"
    path.write_bytes(cp936(lines(rows, ",")))
    assert cells(read_sheets(path)[0].grid) == rows
    assert delimited.decode_csv(path).count("€") == 2


def test_csv_cp936_euro_keeps_mixed_encoding_check(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    gbk = cp936(lines([[*HEADER, "备注"], [*ROWS[0], "€"]], ","))
    path.write_bytes(gbk + lines([[*ROWS[1], "二中学生"]], ",").encode("utf-8"))
    with pytest.raises(InputError, match="编码不一致") as err:
        read_sheets(path)
    assert err.value.row == 3
    path.write_bytes(gbk + b"1,\x81\x20\n")  # a broken GBK character is still refused
    with pytest.raises(InputError, match="无法识别文件编码"):
        read_sheets(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("sep", [";", "\t", ","])
def test_csv_separators(tmp_path: Path, sep: str, encoding: str) -> None:
    """Semicolon files (with decimal commas, as where ";" is used) and tab files; the fast Arrow
    path (UTF-8) and the C reader (GBK) both use the separator found."""
    amount = "1000,50" if sep == ";" else "1,000.50" if sep == "\t" else "1000.50"
    rows = [["2022年资助发放台账"], HEADER, [*ROWS[0][:3], amount, ROWS[0][4]], ROWS[1]]
    text = lines(rows, sep)
    if sep == ",":
        text = text.replace("1000.50", '"1,000.50"')
    path = tmp_path / "资助发放.csv"
    path.write_bytes(text.encode(encoding))
    grid = cells(read_sheets(path)[0].grid)
    want = [["2022年资助发放台账", *[None] * 4], *rows[1:]]
    if sep == ",":
        want[2][3] = "1,000.50"
    assert [[v or None for v in r] for r in grid] == [[v or None for v in r] for r in want]


def test_csv_fast_and_c_paths_agree_on_separators() -> None:
    for sep in (";", "\t"):
        data = lines([HEADER, *ROWS, ["", "", "", "", ""]], sep, "\n").encode()
        fast = delimited._read_utf8_table(data, sep)
        assert fast is not None
        pd.testing.assert_frame_equal(fast, delimited._read_c(data.decode(), 5, sep))


def test_csv_separator_inside_cells_does_not_mislead(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    rows = [HEADER, [*ROWS[0][:4], "a;b"], [*ROWS[1][:4], "c;d;e"], ROWS[0]]
    path.write_text(lines(rows, ","), encoding="utf-8")
    assert cells(read_sheets(path)[0].grid) == rows
    # a tab file whose every line (header too) holds one comma: the ledger-like width wins
    rows = [[*HEADER[:4], "日期,时间"], *[[*r[:4], "2022-03-05,09:00"] for r in ROWS]]
    path.write_text(lines(rows, "\t"), encoding="utf-8")
    assert cells(read_sheets(path)[0].grid) == rows


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-16"])
@pytest.mark.parametrize("where", ["own line", "end of last line"])
def test_csv_ctrl_z_end_of_file_mark_is_kept(tmp_path: Path, encoding: str, where: str) -> None:
    """A DOS end-of-file mark stays a cell value; the caller decides what that row is."""
    text = lines([HEADER, *ROWS], ",")
    text = text + "\x1a" if where == "own line" else text[:-2] + "\x1a"
    path = tmp_path / "资助发放.csv"
    path.write_bytes(text.encode(encoding))
    grid = cells(read_sheets(path)[0].grid)
    assert grid[:2] == [HEADER, ROWS[0]]
    if where == "own line":
        assert grid[3][0] == "\x1a" and not any(grid[3][1:]) and len(grid) == 4
    else:
        assert grid[2] == [*ROWS[1][:4], ROWS[1][4] + "\x1a"] and len(grid) == 3


def test_csv_tab_file_ending_in_ctrl_z(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    path.write_bytes(b"\xff\xfe" + (lines([HEADER, *ROWS], "\t") + "\x1a").encode("utf-16-le"))
    grid = cells(read_sheets(path)[0].grid)
    assert grid[:3] == [HEADER, *ROWS] and grid[3][0] == "\x1a"


def test_csv_ambiguous_separator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.csv"
    path.write_text("姓名,学校;金额,日期\n张三,一中;100,2022\n李四,二中;200,2022\n", "utf-8")
    with pytest.raises(InputError, match="无法确定CSV分隔符") as err:
        read_sheets(path)
    assert "逗号" in err.value.detail and "分号" in err.value.detail
    assert err.value.file == "资助发放.csv" and "\n" not in str(err.value)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_csv_without_columns_is_refused(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "资助发放.csv"
    path.write_bytes("2022年资助发放台账\n张三\n李四\n".encode(encoding))
    with pytest.raises(InputError, match=r"无法确定CSV分隔符.*分不出多列") as err:
        read_sheets(path)
    assert err.value.file == "资助发放.csv"


def test_unicode_text_named_xls_is_named(tmp_path: Path) -> None:
    path = tmp_path / "资助发放.xls"
    path.write_bytes(b"\xff\xfe" + lines([HEADER, *ROWS], "\t").encode("utf-16-le"))
    with pytest.raises(InputError, match="UTF-16"):
        read_sheets(path)


def test_messages_name_the_file_on_one_line(tmp_path: Path) -> None:
    """Each refusal above is one line naming the file (no traceback text, no raw bytes)."""
    path = tmp_path / "资助发放.csv"
    for data in (
        lines([HEADER], "\t").encode("utf-16-le"),
        b"\xff\xfe\x00",
        b"a;b,c\n1;2,3\n",
        b"\x1a",
    ):
        path.write_bytes(data)
        with pytest.raises(InputError) as err:
            read_sheets(path)
        assert err.value.file == path.name and not re.search(r"[\n\r]|Traceback", str(err.value))


PIECES = [
    *(bytes([b]) for b in b',;\t\r\n"\x1a\x00\x80 a1'),
    b"\r\n",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    "学校".encode(),
    "学校".encode("gbk"),
    "学校".encode("utf-16-le"),
    "1\t2\r\n".encode("utf-16-le"),
]
EXAMPLES = int(os.environ.get("EDUREPORT_FUZZ_EXAMPLES", "15")) * 20


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=60).map(b"".join))
def test_any_mix_of_these_forms_reads_or_is_refused(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("mix") / "资助发放.csv"
    path.write_bytes(data)
    try:
        (sheet,) = read_sheets(path)
    except InputError as exc:
        assert exc.file == path.name and "\n" not in str(exc)
        return
    assert (sheet.hidden, sheet.merged) == (False, [])


def test_workbook_parts_read_as_before(tmp_path: Path) -> None:
    """The xlsx written by openpyxl without merges: no merged ranges, sheets visible."""
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.save(tmp_path / "a.xlsx")
    (sheet,) = read_sheets(tmp_path / "a.xlsx")
    assert (sheet.hidden, sheet.merged, cells(sheet.grid)) == (False, [], [HEADER])
    with zipfile.ZipFile(tmp_path / "a.xlsx") as zf:
        assert b"mergeCell" not in zf.read("xl/worksheets/sheet1.xml")
