"""Shapes of ledger files that real offices produce, as ``read_sheets`` gives them.

Workbooks: hidden sheets and merged ranges (reported, not filled). CSV: Excel's "Unicode text"
(UTF-16 with BOM, tab-separated), the Windows code page 936 with its euro sign, semicolon and tab
separators, a DOS end-of-file mark (Ctrl-Z); and the forms refused, each with its cause.
"""

from __future__ import annotations

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

from edureport import readers
from edureport.errors import InputError
from edureport.readers import read_sheets

from .conftest import rewrite_part

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
        monkeypatch.setattr(readers, "_CHUNK", chunk)
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
    last, rest = readers._scan_rows(src)
    refs = readers._merge_refs(src, rest)
    assert last == 1 and refs == [b"A1:B2", b"$c$1:$D$2", b"E1"]
    ranges = [readers._merge_range(Path("x.xlsx"), "s", r) for r in refs]
    assert ranges == [(0, 0, 1, 1), (0, 2, 1, 3), (0, 4, 0, 4)]
    assert readers._clip(ranges, (1, 4)) == [(0, 0, 0, 1), (0, 2, 0, 3)]  # one-cell ranges out
    # <sheetData/> and rows without numbers stop the row scan early; the merges are still found
    for body in (b"<sheetData/>", b"<sheetData><row><c><v>1</v></c></row></sheetData>"):
        src = io.BytesIO(b"<worksheet>" + body + b'<mergeCells><mergeCell ref="A1:A2"/>')
        assert readers._merge_refs(src, readers._scan_rows(src)[1]) == [b"A1:A2"]


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
    last, rest = readers._scan_rows(src)
    before = src.read_bytes
    assert last == 200_000 and readers._merge_refs(src, rest) == [b"A1:B1"]
    assert src.read_bytes == before == len(xml)  # the tail was already read: no further read


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
    assert readers.decode_csv(path).count("€") == 2


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
        fast = readers._read_utf8_table(data, sep)
        assert fast is not None
        pd.testing.assert_frame_equal(fast, readers._read_c(data.decode(), 5, sep))


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
