"""A corpus of hostile and broken inputs, made by the tests: each is refused or read, never crashes.

Refused: the project's own InputError, one line, naming file (and sheet, row, column where the
problem has one), in Chinese with the English gist. Read: every raw row ends up cleaned or set
aside with its reason. Which cases are which is decided in CASES below and documented in
docs/bad-inputs.md. A subset goes through the real CLI: exit 2, no traceback, and the report
published before is left byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from edureport import paths
from edureport.errors import InputError
from edureport.ingest.clean import clean_folder, clean_ledger
from edureport.ingest.ledgers import RawLedger, find_ledgers, read_ledger, spec
from edureport.ingest.readers import EXCEL_MAX_ROWS, read_sheets, xlsx
from edureport.ingest.specs import ledger_names

from .conftest import (
    AID_HEADER,
    ID_A,
    ID_B,
    SAMPLE_DIR,
    patch_readers,
    publish,
    rewrite_part,
    run_cli,
    sample_copy,
    write_csv,
    write_xlsx,
)

REQUIRED = ledger_names(optional=False)
SPRING = "2022年春季学期"
GOOD = [1, "一中", "普通高中", "国家助学金", "张三", ID_A, "否", SPRING, 1000, "2022-03-05"]
GOOD_B = [2, "二中", "普通高中", "国家助学金", "李四", ID_B, "否", SPRING, 500, "2022-03-05"]
SHEET1 = "xl/worksheets/sheet1.xml"
AMOUNT = AID_HEADER.index("金额（元）")


def _aid_xlsx(
    folder: Path, rows: list[list[Any]] | None = None, name: str = "资助发放.xlsx"
) -> Path:
    return write_xlsx(folder / name, [AID_HEADER, *(rows if rows is not None else [GOOD])])


def _aid_csv(
    folder: Path, rows: list[list[Any]], name: str = "资助发放.csv", encoding: str = "utf-8"
) -> Path:
    return write_csv(folder / name, [AID_HEADER, *rows], encoding=encoding)


def _sample(name: str) -> Path:
    return next(p for p in SAMPLE_DIR.iterdir() if spec(name).keyword in p.name)


def _add_rows_xml(xml: bytes, rows: bytes, dimension: bytes | None = None) -> bytes:
    xml = xml.replace(b"</sheetData>", rows + b"</sheetData>")
    if dimension is not None:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="' + dimension + b'"/>', xml)
    return xml


# ---------------------------------------------------------------- builders: refused files


def empty_csv(d: Path) -> Path:
    (d / "资助发放.csv").write_bytes(b"")
    return d / "资助发放.csv"


def empty_xlsx(d: Path) -> Path:
    (d / "资助发放.xlsx").write_bytes(b"")
    return d / "资助发放.xlsx"


def bom_only_csv(d: Path) -> Path:
    (d / "资助发放.csv").write_bytes(b"\xef\xbb\xbf\r\n \r\n")
    return d / "资助发放.csv"


def garbage_xlsx(d: Path) -> Path:
    (d / "资助发放.xlsx").write_bytes(random.Random(1).randbytes(20_000))
    return d / "资助发放.xlsx"


def garbage_csv(d: Path) -> Path:
    (d / "资助发放.csv").write_bytes(random.Random(2).randbytes(20_000))
    return d / "资助发放.csv"


def garbage_xls(d: Path) -> Path:
    (d / "资助发放.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    return d / "资助发放.xls"


def truncated_xlsx(d: Path) -> Path:
    data = _sample("aid").read_bytes()
    (d / "资助发放.xlsx").write_bytes(data[: len(data) // 2])
    return d / "资助发放.xlsx"


def zip_not_workbook(d: Path) -> Path:
    with zipfile.ZipFile(d / "资助发放.xlsx", "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    return d / "资助发放.xlsx"


def encrypted_xlsx(d: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = _aid_xlsx(d, name="plain.xlsx")
    with open(plain, "rb") as src, open(d / "资助发放.xlsx", "wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    plain.unlink()
    return d / "资助发放.xlsx"


def html_saved_as_xls(d: Path) -> Path:
    (d / "资助发放.xls").write_text(
        "<html><body><table><tr><td>学校名称</td></tr></table></body></html>", encoding="utf-8"
    )
    return d / "资助发放.xls"


def utf8_then_gbk(d: Path) -> Path:
    path = d / "资助发放.csv"
    head = ",".join(AID_HEADER) + "\n" + ",".join(map(str, GOOD)) + "\n"
    path.write_bytes(head.encode() + ",".join(map(str, GOOD_B)).encode("gbk") + b"\n")
    return path


def gbk_then_utf8(d: Path) -> Path:
    path = d / "资助发放.csv"
    head = ",".join(AID_HEADER) + "\n" + ",".join(map(str, GOOD)) + "\n"
    path.write_bytes(head.encode("gbk") + ",".join(map(str, GOOD_B)).encode("utf-8") + b"\n")
    return path


def nul_in_csv(d: Path) -> Path:
    path = _aid_csv(d, [GOOD])
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\n")
    return path


def unterminated_quote(d: Path) -> Path:
    path = d / "资助发放.csv"
    lines = [",".join(AID_HEADER), ",".join(map(str, GOOD)), '3,"三中,普通高中', "4,四中"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def formula_without_value(d: Path) -> Path:
    row = list(GOOD_B)
    row[AMOUNT] = "=100*5"  # openpyxl writes the formula; no program computed its result
    return _aid_xlsx(d, [GOOD, row])


def value_in_last_excel_row(d: Path) -> Path:
    stray = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    base = _aid_xlsx(d, name="base.xlsx")
    out = rewrite_part(base, d / "资助发放.xlsx", SHEET1, lambda x: _add_rows_xml(x, stray))
    base.unlink()
    return out


def full_1048576_rows(d: Path) -> Path:
    """Every row of the sheet filled (a sheet cut at Excel's limit): ~40 MB of XML, 1 MB zipped."""
    base = _aid_xlsx(d, [], name="base.xlsx")
    with zipfile.ZipFile(base) as zin:
        xml = zin.read(SHEET1)
    head, tail = xml.split(b"</sheetData>")
    out = d / "资助发放.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != SHEET1:
                zout.writestr(item, zin.read(item.filename))
        with zout.open(SHEET1, "w") as fh:
            fh.write(head.replace(b'ref="A1:J1"', b'ref="A1:A1048576"'))
            for start in range(2, EXCEL_MAX_ROWS + 1, 65536):
                stop = min(start + 65536, EXCEL_MAX_ROWS + 1)
                fh.write(
                    b"".join(
                        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i)
                        for i in range(start, stop)
                    )
                )
            fh.write(b"</sheetData>" + tail)
    base.unlink()
    return out


def value_far_right(d: Path) -> Path:
    far = b'<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>'
    base = _aid_xlsx(d, name="base.xlsx")
    out = rewrite_part(base, d / "资助发放.xlsx", SHEET1, lambda x: _add_rows_xml(x, far))
    base.unlink()
    return out


def wide_csv_line(d: Path) -> Path:
    return _aid_csv(d, [GOOD, [*GOOD_B, *([""] * 400), "stray"]])


def rows_out_of_order(d: Path) -> Path:
    back = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    base = _aid_xlsx(d, name="base.xlsx")
    out = rewrite_part(base, d / "资助发放.xlsx", SHEET1, lambda x: _add_rows_xml(x, back))
    base.unlink()
    return out


def part_too_large(d: Path) -> Path:
    """A zip whose directory says sheet1.xml unpacks to 3 GiB (a zip bomb, cheaply)."""
    path = _aid_xlsx(d)
    data = bytearray(path.read_bytes())
    name = SHEET1.encode()
    at = data.find(b"PK\x01\x02" + bytes(0))
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            struct.pack_into("<I", data, at + 24, 3 << 30)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path


def xml_entity_bomb(d: Path) -> Path:
    """A 'billion laughs' DOCTYPE in the sheet XML: 10**9 'lol's if an XML parser expanded it."""
    entities = b"".join(
        b'<!ENTITY l%d "%s">' % (i, (b"&l%d;" % (i - 1)) * 10) for i in range(1, 10)
    )
    doctype = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY l0 "lol">' + entities + b"]>"
    base = _aid_xlsx(d, name="base.xlsx")
    out = rewrite_part(
        base,
        d / "资助发放.xlsx",
        SHEET1,
        lambda x: doctype + x.replace(b"<t>&#19968;&#20013;</t>", b"<t>&l9;</t>"),
    )
    base.unlink()
    return out


def header_in_other_order(d: Path) -> Path:
    swapped = [AID_HEADER[0], AID_HEADER[4], *AID_HEADER[2:4], AID_HEADER[1], *AID_HEADER[5:]]
    later = [GOOD_B[0], GOOD_B[4], *GOOD_B[2:4], GOOD_B[1], *GOOD_B[5:]]
    return _aid_xlsx(d, [GOOD, swapped, later])


def column_twice(d: Path) -> Path:
    return write_xlsx(d / "资助发放.xlsx", [[*AID_HEADER, "学校"], [*GOOD, "三中"]])


def two_sheets_of_data(d: Path) -> Path:
    wb = openpyxl.Workbook()
    for title, row in (("春季", GOOD), ("秋季", GOOD_B)):
        ws = wb.create_sheet(title)
        ws.append(AID_HEADER)
        ws.append(row)
    wb.remove(wb["Sheet"])
    wb.save(d / "资助发放.xlsx")
    return d / "资助发放.xlsx"


def two_sheets_other_headers(d: Path) -> Path:
    """春季 has the optional 是否建档立卡 column, 秋季 does not."""
    wb = openpyxl.Workbook()
    poor = AID_HEADER.index("是否建档立卡")
    short = [AID_HEADER[:poor] + AID_HEADER[poor + 1 :], GOOD_B[:poor] + GOOD_B[poor + 1 :]]
    for title, rows in (("春季", [AID_HEADER, GOOD]), ("秋季", short)):
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.remove(wb["Sheet"])
    wb.save(d / "资助发放.xlsx")
    return d / "资助发放.xlsx"


def missing_column(d: Path) -> Path:
    return write_csv(d / "资助发放.csv", [AID_HEADER[:-1], GOOD[:-1]])


def no_header(d: Path) -> Path:
    return write_csv(d / "资助发放.csv", [[1, 2, 3], [4, 5, 6]])


# ---------------------------------------------------------------- builders: files that are read


def header_only_xlsx(d: Path) -> Path:
    return _aid_xlsx(d, [])


def header_only_csv(d: Path) -> Path:
    return _aid_csv(d, [])


def repeated_header(d: Path) -> Path:
    return _aid_xlsx(d, [GOOD, AID_HEADER, GOOD_B])


def repeated_header_other_words(d: Path) -> Path:
    other = ["序号", "学校", "学段", "项目", "姓名", "证件号码", "建档立卡", "学期", "金额", "日期"]
    return _aid_xlsx(d, [GOOD, other, GOOD_B])


def one_mb_cell(d: Path) -> Path:
    row = list(GOOD_B)
    row[1] = "校" * 1_000_000
    return _aid_csv(d, [GOOD, row])


def one_mb_cell_xlsx(d: Path) -> Path:
    """openpyxl cuts a cell at Excel's 32,767 characters on writing: the XML is written here."""
    cell = b'<c r="B3" t="inlineStr"><is><t>' + b"x" * 1_000_000 + b"</t></is></c>"
    base = _aid_xlsx(d, [GOOD, GOOD_B], name="base.xlsx")
    out = rewrite_part(
        base, d / "资助发放.xlsx", SHEET1, lambda x: re.sub(rb'<c r="B3"[^>]*>.*?</c>', cell, x)
    )
    base.unlink()
    return out


def formula_with_saved_value(d: Path) -> Path:
    cell = b'<c r="I2"><f>500*2</f><v>1000</v></c>'
    base = _aid_xlsx(d, name="base.xlsx")
    out = rewrite_part(
        base,
        d / "资助发放.xlsx",
        SHEET1,
        lambda x: re.sub(rb'<c r="I2"[^>]*>.*?</c>', cell, x),
    )
    base.unlink()
    return out


def formula_outside_data(d: Path) -> Path:
    """Formulas with no saved result in the 序号 column and the 合计 row: not read, not needed."""
    first, second = list(GOOD), list(GOOD_B)
    first[0], second[0] = "=ROW()-1", "=ROW()-1"
    total = ["合计", *([None] * (len(AID_HEADER) - 3)), "=SUM(I2:I3)", None]
    return _aid_xlsx(d, [first, second, total])


def excel_error_value(d: Path) -> Path:
    cell = b'<c r="I3" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
    base = _aid_xlsx(d, [GOOD, GOOD_B], name="base.xlsx")
    out = rewrite_part(
        base, d / "资助发放.xlsx", SHEET1, lambda x: re.sub(rb'<c r="I3"[^>]*>.*?</c>', cell, x)
    )
    base.unlink()
    return out


def excel_saved_xlsx(d: Path) -> Path:
    """Text in a shared string table (t="s"), rows with spans, as Excel and WPS save a sheet
    (openpyxl writes inline strings)."""
    strings: list[bytes] = []

    def shared(m: re.Match[bytes]) -> bytes:
        strings.append(m.group(3))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), len(strings) - 1)

    inline = rb'<c r="([A-Z]+\d+)"((?: s="\d+")?) t="inlineStr"><is><t>(.*?)</t></is></c>'
    base = _aid_xlsx(d, [GOOD, GOOD_B], name="base.xlsx")
    out = rewrite_part(
        base,
        d / "资助发放.xlsx",
        SHEET1,
        lambda x: re.sub(
            rb'<row r="(\d+)"', rb'<row r="\1" spans="1:10"', re.sub(inline, shared, x)
        ),
    )
    sst = b"".join(b"<si><t>" + t + b"</t></si>" for t in strings)
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = (
        b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats'
        b'.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
    )
    rels = "xl/_rels/workbook.xml.rels"
    out = rewrite_part(out, d / "x.xlsx", rels, lambda x: x.replace(b"</Relationships>", rel))
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("xl/sharedStrings.xml", b'<sst xmlns="' + ns + b'">' + sst + b"</sst>")
    base.unlink()
    return out.replace(d / "资助发放.xlsx")


def malformed_sheet_xml(d: Path) -> Path:
    """An end tag damaged by a faulty writer: calamine alone would merge two cells into one."""
    base = _aid_xlsx(d, [GOOD, GOOD_B], name="base.xlsx")
    out = rewrite_part(
        base,
        d / "资助发放.xlsx",
        SHEET1,
        lambda x: x.replace(b"</t></is></c>", b"</t></is:</c>", 9),
    )
    base.unlink()
    return out


def dimension_too_small(d: Path) -> Path:
    """The sheet says it is A1:J2 but holds 50 rows: all 50 are read (openpyxl stops at 2)."""
    rows = [[i, *GOOD[1:8], 100 + i, "2022-03-05"] for i in range(1, 51)]
    base = _aid_xlsx(d, rows, name="base.xlsx")
    out = rewrite_part(
        base, d / "资助发放.xlsx", SHEET1, lambda x: re.sub(rb'ref="A1:J\d+"', b'ref="A1:J2"', x)
    )
    base.unlink()
    return out


def formatted_rows_to_the_end(d: Path) -> Path:
    """Every row down to 1,048,576 carries a height but no value (someone formatted them)."""
    rows = b"".join(b'<row r="%d" ht="20" customHeight="1"/>' % i for i in range(4, 1_048_577))
    base = _aid_xlsx(d, [GOOD, GOOD_B], name="base.xlsx")
    out = rewrite_part(
        base,
        d / "资助发放.xlsx",
        SHEET1,
        lambda x: _add_rows_xml(x, rows, b"A1:J1048576"),
    )
    base.unlink()
    return out


def workbook_named_csv(d: Path) -> Path:
    _aid_xlsx(d, [GOOD, GOOD_B], name="资助发放.csv")
    return d / "资助发放.csv"


def stray_comma(d: Path) -> Path:
    path = d / "资助发放.csv"
    bad = list(map(str, GOOD_B))
    bad[1] = "二中,高中部"  # typed without quotes: every later cell slides one column right
    lines = [",".join(AID_HEADER), ",".join(map(str, GOOD)), ",".join(bad)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def date_9999(d: Path) -> Path:
    row = list(GOOD_B)
    row[-1] = "9999-12-31"  # "permanent" to some; the cleaned tables cannot hold it
    return _aid_csv(d, [GOOD, row])


def blank_and_space_rows(d: Path) -> Path:
    return _aid_csv(d, [[""] * 10, GOOD, [" "] * 10, ["\u3000"] * 10, GOOD_B, [], []])


# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Refused:
    """A file the cleaner refuses: the message must match ``says`` and name ``where``."""

    make: Callable[[Path], Path]
    says: str
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Read:
    """A file the cleaner reads: ``check(raw, cleaned, aside)`` says what it must find."""

    make: Callable[[Path], Path]
    check: Callable[[RawLedger, pd.DataFrame, pd.DataFrame], None]


def _rows(cleaned: pd.DataFrame) -> list[int]:
    return cleaned["row"].tolist()


def _aside(aside: pd.DataFrame) -> list[tuple[int, str]]:
    return [(int(r), c) for r, c in aside[["row", "column"]].itertuples(index=False)]


def _check_1mb(raw: RawLedger, cleaned: pd.DataFrame, aside: pd.DataFrame) -> None:
    assert _rows(cleaned) == [2] and _aside(aside) == [(3, "学校名称")]
    assert "单元格内容过长" in aside["reason"].iat[0] and len(aside["reason"].iat[0]) < 100


CASES: dict[str, Refused | Read] = {
    # empty and unreadable files
    "empty_csv": Refused(empty_csv, "空", {"file": "资助发放.csv"}),
    "empty_xlsx": Refused(empty_xlsx, "空", {"file": "资助发放.xlsx"}),
    "bom_only_csv": Refused(bom_only_csv, "没有内容", {"file": "资助发放.csv"}),
    "garbage_named_xlsx": Refused(garbage_xlsx, "无法打开Excel", {"file": "资助发放.xlsx"}),
    "garbage_named_csv": Refused(garbage_csv, "编码|二进制", {"file": "资助发放.csv"}),
    "garbage_named_xls": Refused(garbage_xls, "无法打开Excel", {"file": "资助发放.xls"}),
    "truncated_xlsx": Refused(truncated_xlsx, "损坏", {"file": "资助发放.xlsx"}),
    "zip_not_workbook": Refused(zip_not_workbook, "没有Excel工作簿", {"file": "资助发放.xlsx"}),
    "encrypted_xlsx": Refused(encrypted_xlsx, "加密", {"file": "资助发放.xlsx"}),
    "html_saved_as_xls": Refused(html_saved_as_xls, "网页", {"file": "资助发放.xls"}),
    "part_unpacks_to_3_gib": Refused(part_too_large, "过大", {"file": "资助发放.xlsx"}),
    "xml_entity_bomb": Refused(xml_entity_bomb, "无法打开Excel|损坏", {"file": "资助发放.xlsx"}),
    # text files
    "utf8_then_gbk": Refused(utf8_then_gbk, "编码不一致", {"file": "资助发放.csv", "row": 3}),
    "gbk_then_utf8": Refused(gbk_then_utf8, "编码不一致", {"file": "资助发放.csv", "row": 3}),
    "nul_bytes_in_csv": Refused(nul_in_csv, "二进制", {"file": "资助发放.csv"}),
    "unterminated_quote": Refused(unterminated_quote, "引号", {"file": "资助发放.csv", "row": 3}),
    "value_in_column_410": Refused(wide_csv_line, "超出台账可能的宽度", {"row": 3, "column": "OU"}),
    # sheets
    "formula_without_saved_result": Refused(
        formula_without_value, "公式", {"sheet": "Sheet1", "row": 3, "column": "金额"}
    ),
    "value_in_row_1048576": Refused(
        value_in_last_excel_row, "最大行数", {"sheet": "Sheet1", "row": EXCEL_MAX_ROWS}
    ),
    "all_1048576_rows_filled": Refused(
        full_1048576_rows, "最大行数", {"sheet": "Sheet1", "row": EXCEL_MAX_ROWS}
    ),
    "value_in_column_XFD": Refused(
        value_far_right, "超出台账可能的宽度", {"sheet": "Sheet1", "row": 3, "column": "XFD"}
    ),
    "rows_out_of_order": Refused(rows_out_of_order, "行号", {"sheet": "Sheet1", "row": 1}),
    "malformed_sheet_xml": Refused(malformed_sheet_xml, "损坏", {"sheet": "Sheet1"}),
    "two_sheets_other_headers": Refused(
        two_sheets_other_headers, "表头的列不同", {"sheet": "秋季"}
    ),
    # headers
    "header_again_in_other_order": Refused(
        header_in_other_order, "另一个表头", {"row": 3, "column": "学校名称"}
    ),
    "same_column_twice": Refused(column_twice, "都表示", {"row": 1, "column": "学校名称"}),
    "missing_required_column": Refused(missing_column, "缺少必需的列", {"row": 1}),
    "no_header_row": Refused(no_header, "表头", {"file": "资助发放.csv"}),
    # read: nothing refused, every row accounted for
    "header_only_xlsx": Read(header_only_xlsx, lambda r, c, a: None),
    "header_only_csv": Read(header_only_csv, lambda r, c, a: None),
    "header_repeated_mid_file": Read(
        repeated_header,
        lambda r, c, a: (
            (_rows(c) == [2, 4] and r.non_data["repeated_header"] == 1 and a.empty)
            or pytest.fail(f"{_rows(c)} {r.non_data}")
        ),
    ),
    "header_repeated_in_other_words": Read(
        repeated_header_other_words,
        lambda r, c, a: (
            (_rows(c) == [2, 4] and r.non_data["repeated_header"] == 1)
            or pytest.fail(f"{_rows(c)} {r.non_data}")
        ),
    ),
    "cell_of_1_mb_csv": Read(one_mb_cell, _check_1mb),
    "two_sheets_same_header": Read(
        two_sheets_of_data,
        lambda r, c, a: (
            (
                _rows(c) == [2, 2]
                and c["file"].tolist() == ["资助发放.xlsx［春季］", "资助发放.xlsx［秋季］"]
                and r.sheets == ["春季", "秋季"]
            )
            or pytest.fail(f"{_rows(c)} {c['file'].tolist()}")
        ),
    ),
    "cell_of_1_mb_xlsx": Read(one_mb_cell_xlsx, _check_1mb),
    "formula_with_saved_result": Read(
        formula_with_saved_value,
        lambda r, c, a: c["amount_fen"].tolist() == [100000] or pytest.fail(str(c)),
    ),
    "formulas_outside_the_data": Read(
        formula_outside_data,
        lambda r, c, a: (_rows(c) == [2, 3] and r.non_data["total"] == 1) or pytest.fail(str(c)),
    ),
    "excel_error_value": Read(
        excel_error_value,
        lambda r, c, a: (
            (_aside(a) == [(3, "金额")] and "金额无法识别" in a["reason"].iat[0])
            or pytest.fail(str(a))
        ),
    ),
    "saved_by_excel_shared_strings": Read(
        excel_saved_xlsx,
        lambda r, c, a: (
            (_rows(c) == [2, 3] and c["amount_fen"].tolist() == [100000, 50000] and a.empty)
            or pytest.fail(str(c))
        ),
    ),
    "dimension_says_2_rows_of_50": Read(
        dimension_too_small,
        lambda r, c, a: (len(r.frame) == 50 and len(c) == 1) or pytest.fail(f"{len(r.frame)}"),
    ),
    "rows_formatted_to_1048576": Read(
        formatted_rows_to_the_end,
        lambda r, c, a: (_rows(c) == [2, 3] and r.non_data["blank"] == 0) or pytest.fail(str(c)),
    ),
    "workbook_named_csv": Read(
        workbook_named_csv, lambda r, c, a: _rows(c) == [2, 3] or pytest.fail(str(c))
    ),
    "stray_comma_shifts_a_row": Read(
        stray_comma,
        lambda r, c, a: (_rows(c) == [2] and _aside(a)[0][0] == 3) or pytest.fail(str(a)),
    ),
    "date_9999_12_31": Read(
        date_9999,
        lambda r, c, a: (
            (_aside(a) == [(3, "发放日期")] and "超出" in a["reason"].iat[0]) or pytest.fail(str(a))
        ),
    ),
    "blank_and_space_rows": Read(
        blank_and_space_rows,
        lambda r, c, a: (_rows(c) == [3, 6] and r.non_data["blank"] == 5) or pytest.fail(str(c)),
    ),
}


def assert_clear(err: InputError, **where: Any) -> None:
    """One line, Chinese with an English gist, naming the file and ``where``."""
    msg = str(err)
    assert "\n" not in msg
    assert re.search(r"[\u4e00-\u9fff]", err.detail) and re.search(r"[a-z]{3,}", err.detail), msg
    assert err.file, msg
    labels = {"file": "文件 file", "sheet": "工作表 sheet", "row": "行 row", "column": "列 column"}
    for key, value in where.items():
        assert getattr(err, key) == value, (key, msg)
        assert f"{labels[key]}: {value}" in msg


@pytest.mark.parametrize("case", sorted(CASES))
def test_corpus(tmp_path: Path, case: str) -> None:
    spec_ = CASES[case]
    path = spec_.make(tmp_path)
    if isinstance(spec_, Refused):
        with pytest.raises(InputError) as err:
            clean_ledger(read_ledger("aid", path), 2022)
        assert re.search(spec_.says, str(err.value)), str(err.value)
        assert_clear(err.value, **{"file": path.name, **spec_.where})
        return
    raw = read_ledger("aid", path)
    cleaned, aside = clean_ledger(raw, 2022)
    assert len(raw.frame) == len(cleaned) + len(aside)  # every data row accounted for
    assert list(cleaned.columns)[:2] == ["file", "row"]
    spec_.check(raw, cleaned, aside)
    text = aside.to_csv()
    for secret in ("张三", "李四", ID_A, ID_B, ID_B[:14]):
        assert secret not in text


def test_corpus_size() -> None:
    assert len(CASES) + len(FOLDER_CASES) + len(REQUIRED) >= 25


# ---------------------------------------------------------------- not the file's fault


def _xls(d: Path) -> Path:
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("台账")
    for i, row in enumerate([AID_HEADER, GOOD]):
        for j, value in enumerate(row):
            ws.write(i, j, value)
    wb.save(str(d / "资助发放.xls"))
    return d / "资助发放.xls"


def _fails(exc: BaseException) -> Callable[..., Any]:
    def helper(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return helper


# A helper of the reader, on the path each file takes; raising there is a bug, not a bad file.
BUG_SITES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "xlsx package parts": (_aid_xlsx, "_package"),
    "xlsx byte scan": (_aid_xlsx, "_scan_rows"),
    "xlsx cell looked at": (formula_without_value, "_look_at_cell"),
    "xlsx parsing scan": (formula_without_value, "_scan_parsed"),
    "xlsx values from calamine": (_aid_xlsx, "_plain_values"),
    "xlsx merged range": (_aid_xlsx, "_merge_range"),
    "xls rows": (_xls, "_xls_rows"),
    "csv": (lambda d: _aid_csv(d, [GOOD]), "_read_utf8_table"),
}


@pytest.mark.parametrize("exc", [TypeError("a bug"), MemoryError()], ids=["TypeError", "Memory"])
@pytest.mark.parametrize("site", sorted(BUG_SITES))
def test_a_bug_or_memory_error_is_not_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: str, exc: BaseException
) -> None:
    """Only what the parser libraries raise on a damaged file becomes InputError (exit 2);
    anything else propagates and the CLI reports an internal error (exit 1)."""
    make, helper = BUG_SITES[site]
    path = make(tmp_path)
    if helper == "_scan_parsed":  # reached when cells go without references
        patch_readers(monkeypatch, "_look_at_cell", _fails(xlsx._Irregular()))
    if helper == "_merge_range":
        path = write_xlsx(path, [AID_HEADER, GOOD], title="资助发放台账")  # a merged title
    patch_readers(monkeypatch, helper, _fails(exc))
    with pytest.raises(type(exc)):
        read_sheets(path)
    with pytest.raises(type(exc)):
        clean_ledger(read_ledger("aid", path), 2022)


@pytest.mark.parametrize("exc", [TypeError("a bug"), MemoryError()], ids=["TypeError", "Memory"])
def test_parser_libraries_failing_otherwise_is_not_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    import python_calamine
    import xlrd

    class Workbook:
        from_path = from_filelike = staticmethod(_fails(exc))

    path = _aid_xlsx(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(python_calamine, "CalamineWorkbook", Workbook)
        with pytest.raises(type(exc)):
            read_sheets(path)
    with monkeypatch.context() as m:
        m.setattr(zipfile, "ZipFile", _fails(exc))
        with pytest.raises(type(exc)):
            read_sheets(path)
    path = _xls(tmp_path)
    monkeypatch.setattr(xlrd, "open_workbook", _fails(exc))
    with pytest.raises(type(exc)):
        read_sheets(path)


def test_damaged_files_are_still_input_errors(tmp_path: Path) -> None:
    """What the libraries raise on a damaged file (here, part of an .xls and of a sheet's zip
    stream overwritten) stays the project's InputError."""
    path = _xls(tmp_path)
    data = bytearray(path.read_bytes())
    data[600:900] = bytes(300)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="xls"):
        read_sheets(path)
    path = _aid_xlsx(tmp_path, [GOOD] * 200)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(SHEET1)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start : start + 40] = bytes(range(40))
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="损坏"):
        read_sheets(path)


# ---------------------------------------------------------------- folders


def _drop_all(folder: Path) -> None:
    for p in folder.iterdir():
        p.unlink()


def _twice(folder: Path) -> None:
    shutil.copy(folder / "民办教育机构审批台账.csv", folder / "民办教育机构审批台账（副本）.csv")


def _only_xlsb(folder: Path) -> None:
    (folder / "民办教育机构审批台账.csv").rename(folder / "民办教育机构审批台账.xlsb")


def _lock_file_beside(folder: Path) -> None:
    (folder / "~$民办教育机构审批台账.xlsx").write_bytes(b"\x00" * 165)


FOLDER_CASES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "empty_folder": (_drop_all, "缺少学生资助发放台账"),
    "same_ledger_twice": (_twice, "2个文件"),
    "ledger_only_as_xlsb": (_only_xlsb, r"不能读取的文件 unusable: 民办教育机构审批台账\.xlsb"),
    "excel_lock_file_beside": (_lock_file_beside, None),  # read: lock files are ignored
}


@pytest.mark.parametrize("case", sorted(FOLDER_CASES))
def test_folder_cases(county_dir: Path, case: str) -> None:
    change, says = FOLDER_CASES[case]
    change(county_dir)
    if says is None:
        assert clean_folder(county_dir, 2022).tables["approvals"]["row"].tolist() == [2]
        return
    with pytest.raises(InputError, match=says) as err:
        clean_folder(county_dir, 2022)
    assert_clear(err.value, file=str(county_dir))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="找不到台账文件夹") as err:
        clean_folder(tmp_path / "nope", 2022)
    assert str(tmp_path / "nope") in str(err.value)


@pytest.mark.parametrize("ledger", REQUIRED)
def test_each_ledger_missing(county_dir: Path, ledger: str) -> None:
    for p in county_dir.iterdir():
        if spec(ledger).keyword in p.name:
            p.unlink()
    with pytest.raises(InputError, match=spec(ledger).keyword) as err:
        find_ledgers(county_dir)
    assert_clear(err.value, file=str(county_dir))
    assert spec(ledger).title in str(err.value) and ledger in str(err.value)


# ---------------------------------------------------------------- through the real CLI

# Case -> how it is put into a copy of the sample folder (replacing the ledger it stands for).
CLI_CASES: dict[str, Callable[[Path], None]] = {
    "missing_ledger": lambda d: _sample_file(d, "approvals").unlink(),
    "same_ledger_twice": lambda d: shutil.copy(
        _sample_file(d, "approvals"), d / "审批台账副本.xlsx"
    ),
    "garbage_named_xlsx": lambda d: _replace(d, "aid", garbage_xlsx),
    "encrypted_xlsx": lambda d: _replace(d, "officers", _encrypted_sample("officers")),
    "formula_without_saved_result": lambda d: _replace(d, "aid", formula_without_value),
    "mixed_encodings": lambda d: _replace(d, "exchange", _gbk_line_in("exchange")),
    "all_1048576_rows_filled": lambda d: _replace(d, "aid", full_1048576_rows),
}


def _sample_file(folder: Path, ledger: str) -> Path:
    return next(p for p in folder.iterdir() if spec(ledger).keyword in p.name)


def _replace(folder: Path, ledger: str, make: Callable[[Path], Path]) -> None:
    """Put the file ``make`` builds in place of the sample's ledger (keeping its file name)."""
    target = _sample_file(folder, ledger)
    scratch = folder.parent / "scratch"
    scratch.mkdir()
    made = make(scratch)
    target.unlink()
    shutil.move(made, target.with_suffix(made.suffix))
    shutil.rmtree(scratch)


def _encrypted_sample(ledger: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        from msoffcrypto.format.ooxml import OOXMLFile

        with open(_sample(ledger), "rb") as src, open(d / "x.xlsx", "wb") as out:
            OOXMLFile(src).encrypt("secret", out)
        return d / "x.xlsx"

    return make


def _gbk_line_in(ledger: str) -> Callable[[Path], Path]:
    """The sample CSV (UTF-8) with its tenth line saved as GBK, as a second editor would."""

    def make(d: Path) -> Path:
        lines = _sample(ledger).read_bytes().split(b"\n")
        lines[9] = lines[9].decode("utf-8").encode("gbk")
        (d / "x.csv").write_bytes(b"\n".join(lines))
        return d / "x.csv"

    return make


def _published_state(out: Path) -> dict[str, str]:
    """SHA-256 of every published file (the run folders and the lock are not published)."""
    root = out / paths.SAMPLE_COUNTY / str(paths.SAMPLE_YEAR)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "runs" not in p.relative_to(root).parts and p.name != ".lock"
    }


@pytest.fixture(scope="module")
def published_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An output root where a good copy of the sample was published once."""
    root = tmp_path_factory.mktemp("cli")
    sample_copy(root / "good")
    publish(root / "good", root / "out")
    state = _published_state(root / "out")
    assert "report.html" in state
    return root / "out", state


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_refuses_and_keeps_the_published_report(
    tmp_path: Path, published_once: tuple[Path, dict[str, str]], case: str
) -> None:
    out, before = published_once
    folder = sample_copy(tmp_path / "data")
    CLI_CASES[case](folder)
    proc = run_cli(tmp_path / "data", out)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    # One message. (The kernel's own shutdown notice "[IPKernelApp] ERROR | KeyboardInterrupt
    # caught in kernel." sometimes appears too: that is pipeline.py's to silence.)
    lines = [x for x in proc.stderr.splitlines() if x.strip() and not x.startswith("[IPKernelApp]")]
    assert len(lines) == 1 and lines[0].startswith("错误 error:"), proc.stderr
    assert "文件 file:" in lines[0]
    assert _published_state(out) == before
