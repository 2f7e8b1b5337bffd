""".xlsx/.xlsm ledgers read by python-calamine, behind the guards of a byte pre-scan (full
sheets, formulas without results, error cells, merges, row order, well-formed XML)."""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any, NoReturn
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError, ParserCreate

from edureport.errors import InputError
from edureport.ingest.readers.delimited import _column_letter, _frame, _raise_far_right, _trim_wide
from edureport.ingest.readers.sheet import EXCEL_MAX_ROWS, MAX_COLUMNS, MAX_PART_BYTES, Sheet
from edureport.ingest.readers.xlsx_scan import (
    _CHUNK,
    _BadReference,
    _clip,
    _Found,
    _highest_referenced_row,
    _Irregular,
    _merge_range,
    _merge_refs,
    _RowOrder,
    _scan_parsed,
    _scan_rows,
)

# Exceptions that mean "this file is damaged", from the libraries that read it (and only those:
# anything else, MemoryError or a bug here included, is not the file's fault and propagates).
# zipfile: BadZipFile; EOFError and zlib.error on a cut or damaged stream; NotImplementedError
# for a compression method or zip version it cannot read; OSError from a bad seek.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    EOFError,
    zlib.error,
    NotImplementedError,
    OSError,
)


@cache
def _calamine_errors() -> tuple[type[BaseException], ...]:
    """calamine's own exceptions (CalamineError: PasswordError, XmlError, ZipError, …), and
    OSError, which python-calamine raises for a read error inside the file."""
    from python_calamine import CalamineError

    return (CalamineError, OSError)


def _read_xlsx(path: Path) -> list[Sheet]:
    """Every worksheet of a zip workbook: a byte scan of each sheet's XML, then calamine.

    The scan refuses what calamine would read in silence (rows out of order, a sheet cut at
    Excel's last row, values far right) and finds what it leaves out (formula cells without a
    saved result, the text of error cells such as #DIV/0!).
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise InputError(
            f"Excel文件已损坏（可能未完整复制或下载）unreadable workbook: {type(exc).__name__}",
            file=path.name,
        ) from None
    with zf:
        _check_parts(path, zf.infolist())
        package = _package(path, zf)
        try:
            if path.suffix in (".xlsx", ".xlsm"):
                wb = CalamineWorkbook.from_path(str(path))
            else:  # calamine picks the format by the name's extension; by content otherwise
                with open(path, "rb") as fh:
                    wb = CalamineWorkbook.from_filelike(fh)
        except _calamine_errors() as exc:
            raise InputError(
                "无法打开Excel文件（文件损坏或不是.xlsx）"
                f"unreadable workbook: {type(exc).__name__}",
                file=path.name,
            ) from None
        with wb:
            metadata = wb.sheets_metadata
            parts = _sheet_parts(path, package, [m.name for m in metadata])
            kinds = (SheetTypeEnum.WorkSheet, SheetTypeEnum.DialogSheet)  # not chart sheets
            return [
                _read_worksheet(
                    path, zf, wb, i, m.name, part, m.visible != SheetVisibleEnum.Visible
                )
                for i, (m, part) in enumerate(zip(metadata, parts, strict=True))
                if m.typ in kinds and part is not None
            ]


def _check_parts(path: Path, parts: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip that is not a workbook, or whose parts would unpack to more than 1 GiB."""
    if not any(p.filename.startswith("xl/") for p in parts):
        raise InputError(
            "压缩文件中没有Excel工作簿（不是.xlsx文件）zip archive is not a workbook",
            file=path.name,
        )
    big = [p for p in parts if p.file_size > MAX_PART_BYTES]
    if big:
        raise InputError(
            f"Excel文件解压后过大（{big[0].filename}：{big[0].file_size // 2**20} MiB）"
            " workbook part too large",
            file=path.name,
        )


# Start tags and their attributes in the small parts that say where each sheet's XML is.
_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _start_tags(xml: bytes, name: bytes) -> list[dict[str, str]]:
    """The attributes of each <name …> start tag (any namespace prefix), in document order,
    by local name (r:id is "id"), their values unescaped."""
    tags = []
    tag = rb"<(?:[\w.-]+:)?" + name + rb"(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)"
    for m in re.finditer(tag, xml):  # (">" may stand in a quoted value)
        attrs = {}
        for key, double, single in _ATTRIBUTE.findall(m.group(1)):
            local = key.rsplit(b":", 1)[-1].decode("ascii", errors="replace")
            attrs[local] = html.unescape((double or single).decode("utf-8", errors="replace"))
        tags.append(attrs)
    return tags


@dataclass
class _Package:
    """Where a workbook's sheets are, found as calamine finds them: the workbook's folder from
    _rels/.rels, each <sheet> of its workbook.xml by its relationship in the folder's
    _rels/workbook.xml.rels, zip member names compared without case."""

    members: dict[str, str]  # lower-case name -> member
    folder: str
    targets: dict[str | None, str]  # relationship id -> target
    sheets: list[dict[str, str]]  # the attributes of each <sheet>, in order


def _package(path: Path, zf: zipfile.ZipFile) -> _Package:
    """The workbook's parts that calamine reads besides the sheets, each checked to be well
    formed XML (the sheets are checked as they are scanned)."""
    members = {n.replace("\\", "/").lower(): n for n in zf.namelist()}

    def read(name: str) -> bytes:
        member = members.get(name.lower())
        if member is None:
            return b""
        data = zf.read(member)
        ParserCreate().Parse(data, True)
        return data

    try:
        folder = "xl/"
        for rel in _start_tags(read("_rels/.rels"), b"Relationship"):
            if rel.get("Type", "").endswith("/relationships/officeDocument"):
                target = rel.get("Target", "")
                folder = target[: target.rfind("/") + 1].lstrip("/")
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in _start_tags(read(folder + "_rels/workbook.xml.rels"), b"Relationship")
        }
        sheets = _start_tags(read(folder + "workbook.xml"), b"sheet")
        for name in ("sharedStrings.xml", "styles.xml"):  # calamine's fixed names
            if (folder + name).lower() in members:
                _check_well_formed(zf, members[(folder + name).lower()])
    except (*_ZIP_ERRORS, ExpatError) as exc:
        raise InputError(
            f"Excel文件内容损坏 corrupt workbook: {type(exc).__name__}", file=path.name
        ) from None
    return _Package(members, folder, targets, sheets)


def _sheet_parts(path: Path, package: _Package, names: list[str]) -> list[str | None]:
    """The zip member holding each sheet's XML (None: not in the file), for calamine's sheets."""
    if [s.get("name") for s in package.sheets] != names:
        raise InputError(
            "Excel文件的工作表目录无法识别，文件可能已损坏 unreadable list of sheets",
            file=path.name,
        )
    parts: list[str | None] = []
    for s in package.sheets:
        target = package.targets.get(s.get("id"), "")
        name = target[1:] if target.startswith("/") else package.folder + target
        parts.append(package.members.get(name.lower()) if target else None)
    return parts


_GRID_CELLS = 1 << 25


def _read_worksheet(
    path: Path, zf: zipfile.ZipFile, wb: Any, index: int, name: str, part: str, hidden: bool
) -> Sheet:
    try:
        last, found, refs = _scan_sheet(zf, part)
    except _BadReference as exc:
        raise _bad_reference(path, name, exc.row) from None
    except _RowOrder as exc:
        raise InputError(
            f"工作表的行号重复、顺序错乱或超出范围（第{exc.row}行）rows out of order",
            file=path.name,
            sheet=name,
            row=exc.row,
        ) from None
    except (*_ZIP_ERRORS, ParseError, ExpatError) as exc:
        raise InputError(
            f"Excel文件内容损坏 corrupt workbook: {type(exc).__name__}", file=path.name, sheet=name
        ) from None
    if last >= EXCEL_MAX_ROWS:
        _raise_full(path, name, last)
    for ref in refs:
        _merge_range(path, name, ref)  # an impossible range is refused by name
    if found.far:
        row = min(r for r, _ in found.far)
        _raise_far_right(path, name, row, max(c for r, c in found.far if r == row))
    if found.far_blank and last * max(c for _, c in found.far_blank) > _GRID_CELLS:
        _raise_far_right(path, name, *found.far_blank[0])
    height = last
    if (10 ** len(str(found.rows)) - 1) * found.width > _GRID_CELLS:  # references' digits
        height = max(last, _highest_referenced_row(zf, part))
    if height * found.width > _GRID_CELLS:
        raise InputError(
            f"工作表过大：到第{height}行、第{found.width}列（{_column_letter(found.width)}列）都有内容，"
            f"超出可读取的范围（{_GRID_CELLS:,}个单元格）：请删除多余的内容或分成几个工作表"
            " sheet too large",
            file=path.name,
            sheet=name,
        )
    if last == 0:
        return Sheet(name, _frame([]), hidden=hidden)
    try:
        sheet = wb.get_sheet_by_index(index)
        rows = sheet.to_python(skip_empty_area=False)
        merged = [  # calamine's: parsed as XML (the scan above checked each ref)
            (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))
            for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []
        ]
    except _calamine_errors() as exc:
        raise InputError(
            f"Excel文件内容损坏 corrupt workbook: {type(exc).__name__}", file=path.name, sheet=name
        ) from None
    if len(rows) > max(last, found.rows):
        raise _bad_reference(path, name, len(rows))
    rows = _plain_values(rows, found.errors)
    if rows and len(rows[0]) > MAX_COLUMNS:  # cells placed by their order, not by a reference
        rows = [_trim_wide(r, None, path, name, i) for i, r in enumerate(rows, 1)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()  # a row of empty texts ("" results of formulas) is not a row of the table
    grid = _frame(rows)
    return Sheet(name, grid, found.uncomputed, hidden, _clip(merged, grid.shape))


def _scan_sheet(zf: zipfile.ZipFile, part: str) -> tuple[int, _Found, list[bytes]]:
    """The last row holding a value, the cells found, and the merged ranges' refs; by bytes, or
    (rows or cells without numbers) by parsing the XML. Either way the XML must be well formed."""
    found = _Found()
    try:
        with zf.open(part) as raw:
            src = _WellFormed(raw)
            last, rest = _scan_rows(src, found)
            refs = _merge_refs(src, rest)
    except _Irregular:
        with zf.open(part) as src:
            last, found = _scan_parsed(src)
        with zf.open(part) as src:
            refs = _merge_refs(src, _scan_rows(src)[1])
    return last or 0, found, refs


class _WellFormed:
    """A part's bytes as they are read, each piece also given to expat (no handlers: a check,
    not a parse into objects); ExpatError when the XML is not well formed.

    calamine's XML reader does not match end tags to start tags: a damaged tag can merge two
    cells into one, or two shared strings (shifting every later one), without a word.
    """

    def __init__(self, src: IO[bytes]) -> None:
        self.src = src
        self.parser = ParserCreate()
        self.ended = False

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        if not self.ended:
            self.parser.Parse(data, not data)
            self.ended = not data
        return data


def _check_well_formed(zf: zipfile.ZipFile, member: str) -> None:
    with zf.open(member) as raw:
        src = _WellFormed(raw)
        while src.read(_CHUNK):
            pass


_EXACT = 2**53  # whole numbers below this are exact as doubles; from it on, some are not


def _plain_values(rows: list[list[Any]], errors: dict[tuple[int, int], str]) -> list[list[Any]]:
    """calamine's cells as the rest of the package reads them (as openpyxl gave them before): an
    empty cell as None, a whole number as int (from 2**53 on a double stays a float: its digits
    may not all be there), a date as a datetime at midnight, an error cell as its text (#DIV/0!;
    calamine gives it as empty)."""
    date, datetime = dt.date, dt.datetime
    for row in rows:
        for j, v in enumerate(row):
            kind = v.__class__
            if kind is str:
                if not v:
                    row[j] = None
            elif kind is float:
                if v.is_integer() and -_EXACT < v < _EXACT:
                    row[j] = int(v)
            elif kind is date:
                row[j] = datetime(v.year, v.month, v.day)
    for (r, c), text in errors.items():  # where calamine has the cell, as empty
        if r <= len(rows) and c <= len(rows[r - 1]) and rows[r - 1][c - 1] is None:
            rows[r - 1][c - 1] = text
    return rows


def _bad_reference(path: Path, sheet: str, row: int) -> InputError:
    return InputError(
        f"单元格的地址与所在行的行号不一致（第{row}行），文件可能已损坏"
        " cell reference outside its row",
        file=path.name,
        sheet=sheet,
        row=row,
    )


def _raise_full(path: Path, sheet: str, row: int) -> NoReturn:
    raise InputError(
        f"工作表到第{row}行都有内容，已达到Excel的最大行数{EXCEL_MAX_ROWS}：数据可能在导出时被截断，"
        "或表格末尾有误填的内容 sheet reaches Excel's last row",
        file=path.name,
        sheet=sheet,
        row=row,
    )
