"""Reading one ledger file into raw grids: CSV, .xlsx/.xlsm (calamine), .xls (xlrd).

The format is decided by the file's first bytes, not only by its name (a legacy .xls saved with
an .xlsx name is read as .xls). What a parser library raises on a damaged file becomes the
project's :class:`InputError` naming the file (and sheet, row and column where known); any other
exception (a bug, MemoryError) is not the file's fault and propagates. Nothing is read in
silence: a sheet is never cut short by a wrong size record, and a formula whose result was never
saved is reported, not read as an empty cell.

A CSV may be UTF-8, GBK/GB18030 (with Windows' cp936 euro sign, byte 0x80) or UTF-16 with a BOM
(Excel's "Unicode text"); its separator (comma, tab or semicolon) is decided from its first lines.
Workbook sheets also tell whether they are hidden and which ranges are merged; merged cells are
not filled here (the caller decides how).
"""

from __future__ import annotations

from pathlib import Path

from edureport.errors import InputError
from edureport.ingest.readers.delimited import _UTF16_BOMS, _read_csv_grid
from edureport.ingest.readers.sheet import (
    _EMPTY_ZIP,
    _OLE,
    _ZIP,
    EXCEL_MAX_ROWS,
    MAX_COLUMNS,
    Sheet,
)
from edureport.ingest.readers.xls import _read_ole
from edureport.ingest.readers.xlsx import _read_xlsx

__all__ = ["EXCEL_MAX_ROWS", "MAX_COLUMNS", "Sheet", "read_sheets"]


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of a ledger file, by what the file holds (zip workbook, OLE workbook, text)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise InputError(f"找不到文件 file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"无法读取文件 cannot read file: {exc.strerror}", file=path.name) from None
    if not head:
        raise InputError("文件是空的（0字节）empty file", file=path.name)
    if head.startswith((_ZIP, _EMPTY_ZIP)):
        return _read_xlsx(path)
    if head.startswith(_OLE):
        return _read_ole(path)
    if path.suffix.lower() == ".csv":
        return [Sheet(None, _read_csv_grid(path))]
    raise InputError(_not_a_workbook(path), file=path.name)


def _not_a_workbook(path: Path) -> str:
    head = path.read_bytes()[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<?xml")):
        kind = "网页(HTML/XML)文件"
    elif head.startswith(_UTF16_BOMS):
        kind = "Unicode文本（UTF-16，Excel的“Unicode文本”格式）"
    elif b"\x00" not in head and (b"," in head or b"\t" in head or b";" in head):
        kind = "文本表格（CSV/制表符分隔）"
    else:
        kind = "无法识别的内容（文件可能已损坏）"
    return (
        f"无法打开Excel文件：扩展名是{path.suffix}，但内容不是Excel工作簿，而是{kind}；"
        "请用Excel打开后另存为.xlsx"
        " not an Excel workbook"
    )
