"""The byte pre-scan of an .xlsx worksheet: the last row holding a value, the cells calamine
would misread, merged ranges; bytes.find over the data, about a second for a full sheet."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import iterparse

import numpy as np

from edureport.errors import InputError
from edureport.ingest.readers.sheet import EXCEL_MAX_ROWS, MAX_COLUMNS


class _RowOrder(Exception):
    """Rows numbered backwards or twice: the Excel row number where it shows."""

    def __init__(self, row: int) -> None:
        super().__init__(row)
        self.row = row


class _BadReference(_RowOrder):
    """A cell whose reference names another row than its own."""


class _Irregular(Exception):
    """The byte scan cannot place a cell it must look at (rows or cells without numbers)."""


@dataclass
class _Found:
    """What the scan of a sheet's XML found in the cells it looked at closely; cells as (Excel
    row, column), 1-based."""

    uncomputed: list[tuple[int, int]] = field(default_factory=list)  # formulas without result
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # #DIV/0!, #N/A, …
    far: list[tuple[int, int]] = field(default_factory=list)  # values beyond MAX_COLUMNS
    # Empty text results beyond MAX_COLUMNS: no value, but calamine makes the grid that wide.
    far_blank: list[tuple[int, int]] = field(default_factory=list)
    # The last column of a cell with content, where it is beyond Z (AA and on; 26 otherwise).
    width: int = 26
    rows: int = 0  # the highest row number


# calamine holds a sheet as every cell of its rectangle from A1 (32 bytes each, before Python's
# own lists): a sheet larger than this (last row times last column) is refused before it is
# read, e.g. two stray values at A1 and IV1000000. A ledger of 1,048,575 rows and 32 columns
# fits.

# The scan below reads the sheet's XML as bytes, without parsing it, to find the last row that
# holds a value (a <v> result, an inline <is> string, or a formula <f>). Rows after it only carry
# formatting; a value in Excel's very last row means the sheet was cut at Excel's limit. Only
# bytes.find/rfind run over the data, so a 1,048,576-row sheet is scanned in about a second.
# The same pass looks closely at the few cells calamine would misread (see _look_at_cells).
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData[\s>/]")
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
# How Excel, WPS and LibreOffice write a row; counted against all "<row" to catch other forms.
_NUMBERED_ROW = re.compile(rb'row r="(\d+)"')
_ANY_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s/>][^>]*")
# Ends of <v>…</v>, <is>…</is>, <f>…</f>, <f …/> (any prefix). Text containing them is a value too.
_VALUE_ENDS = (b"v>", b"is>", b"f>", b"f ", b"f/>")
_AFTER_NAME = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_CHUNK = 1 << 22


def _last_filled_row(src: IO[bytes]) -> int | None:
    """The number of the last row holding a value (0: none).

    None when that cannot be known from the bytes alone: rows without numbers, or out of order.
    """
    return _scan_rows(src)[0]


def _scan_rows(src: IO[bytes], found: _Found | None = None) -> tuple[int | None, bytes]:
    """:func:`_last_filled_row`, and the bytes read but not looked at (from where it stopped).

    Given ``found``, also the cells :func:`_look_at_cells` looks at, to the end of the sheet's
    data; rows out of order then raise _RowOrder, and rows or cells without numbers _Irregular.
    """
    carry = b""
    started = False
    last_tag: bytes | None = None  # the last row tag of the windows before
    last_number = 0
    filled: int | None = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk and not carry:
            break
        data = carry + chunk
        begin = 0
        if not started:
            m = _SHEET_DATA.search(data)
            if not m:
                carry = data[-4096:] if chunk else b""
                continue
            if m.group().endswith(b"/"):
                return 0, data[m.end() :]  # <sheetData/>
            started, begin = True, m.end()
        stop = data.find(b"sheetData", begin)
        # Up to the last complete tag; a tag cut by the chunk is read whole with the next one.
        end = data.rfind(b"<", begin, stop) if stop >= 0 else data.rfind(b">") + 1
        if found is not None and end > begin:  # and a cell cut by the chunk, too
            end = _look_at_cells(data, begin, end, found, complete=stop >= 0 or not chunk)
        if end <= begin and chunk:
            carry = data[begin:]  # not the <sheetData> tag: it would be taken for the end
            continue
        numbers = _row_numbers(data, begin, end)
        if numbers is None:
            if found is not None:
                raise _Irregular
            return None, data[begin:]
        if len(numbers):
            if numbers[0] <= last_number or (np.diff(numbers) <= 0).any():
                if found is not None:
                    back = np.flatnonzero(np.diff(numbers) <= 0)
                    raise _RowOrder(
                        int(numbers[0] if numbers[0] <= last_number else numbers[back[0] + 1])
                    )
                return None, data[begin:]
            last_number = int(numbers[-1])
        if found is not None:
            found.rows = last_number
            if _beyond_rows(len(str(last_number))).search(data, begin, end):
                raise _Irregular  # a cell's reference names a row below its own
        pos = _last_value(data, begin, end)
        if pos >= 0:
            tag = _row_tag_before(data, begin, pos) or last_tag
            m = _ROW_NUMBER.search(tag) if tag else None
            filled = int(m.group(1)) if m else None
        last_tag = _row_tag_before(data, begin, end) or last_tag
        if stop >= 0 or not chunk:
            return filled, data[max(stop, end) :]
        carry = data[end:]
    return filled, b""


# The cells looked at closely: formulas (<f> in any form, any prefix), error cells (t="e") and
# cells addressed beyond column 256 (IW and on). Each is found by its bytes, then its element is
# cut out and read alone; false hits (the same bytes in a text) are read and left alone.
_FORMULA_NEEDLES = (b"<f", b":f")
_ERROR_NEEDLES = (b't="e"', b"t='e'")
_FAR_REF = re.compile(rb"""r=["'](?:[A-Za-z]{3,}|[Ii][W-Zw-z]|[J-Zj-z][A-Za-z])[0-9]""")
# A reference AA… to IV… of a cell with content (its start tag does not end in "/>").
_WIDE_REF = re.compile(rb"""r=["']([A-I][A-Z])[0-9]+["']([^>]*)>""")
_PREFIX = re.compile(rb"[\w.-]+")
_CELL_END = re.compile(rb"</(?:[\w.-]+:)?c\s*>")
_CELL_REF_ATTR = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]+)([0-9]+)["']""")
_TYPE_ATTR = re.compile(rb"""\st\s*=\s*["']([^"']*)["']""")
_CHILD = {name: re.compile(rb"<(?:[\w.-]+:)?" + name + rb"[\s/>]") for name in (b"f", b"is", b"v")}
_V_TEXT = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>([^<]*)<")


@cache
def _beyond_rows(digits: int) -> re.Pattern[bytes]:
    """A cell reference whose row number has more than ``digits`` digits (a row below every row
    seen so far: calamine places a cell by its reference, not by the row it stands in)."""
    return re.compile(rb"""r=["'][A-Za-z]+0*[1-9][0-9]{%d}""" % digits)


def _highest_referenced_row(zf: zipfile.ZipFile, part: str) -> int:
    """The highest row number in any cell reference of the sheet (read when the digits alone
    do not bound it well enough)."""
    top = 0
    with zf.open(part) as src:
        carry = b""
        while chunk := src.read(_CHUNK):
            data = carry + chunk
            cut = data.rfind(b"<")
            found = _REFERENCED_ROW.findall(data, 0, cut)
            if found:
                top = max(top, max(map(int, found)))
            carry = data[cut:]
        found = _REFERENCED_ROW.findall(carry)
    return max(top, max(map(int, found), default=0))


_REFERENCED_ROW = re.compile(rb"""<(?:[\w.-]+:)?c\s[^>]*?r=["'][A-Za-z]+([0-9]+)""")


def _look_at_cells(data: bytes, begin: int, end: int, found: _Found, complete: bool) -> int:
    """Read the formula, error and far-right cells of ``data[begin:end]`` into ``found``.

    Returns where the window ends: ``end``, or the start of a cell that ``end`` cuts (unless
    ``complete``: the sheet's data ends there), which is then read with the next window.
    """
    if data.find(b"<!", begin, end) >= 0 or data.find(b"<?", begin, end) >= 0:
        raise _Irregular  # a comment or CDATA section: bytes that look like cells may not be
    if not complete:  # end where the last cell ends, or before it if ``end`` cuts it
        last = _cell_start(data, begin, end - 1)
        if last is not None and _cell_end(data, last, end) is None:
            end = last
    hits = []
    for needle in _FORMULA_NEEDLES:
        i = data.find(needle, begin, end)
        while i >= 0:
            if data[i + 2 : i + 3] in _AFTER_NAME and (
                (needle == b"<f" and not _saved_result(data, i, end)) or _prefixed(data, i)
            ):
                hits.append(i)
            i = data.find(needle, i + 2, end)
    for needle in _ERROR_NEEDLES:
        i = data.find(needle, begin, end)
        while i >= 0:
            hits.append(i)
            i = data.find(needle, i + 5, end)
    if data.find(b"r=", begin, end) >= 0:
        hits += [m.start() for m in _FAR_REF.finditer(data, begin, end)]
        for m in _WIDE_REF.finditer(data, begin, end):
            if not m.group(2).endswith(b"/"):
                found.width = max(found.width, _column_number(m.group(1).decode()))
    if _unreferenced(data, begin, end):
        raise _Irregular  # cells placed by their order: the parsing scan places them
    done = begin
    for pos in sorted(hits):
        if pos < done:
            continue  # in the cell just read
        start = _cell_start(data, done, pos)
        if start is None:
            raise _Irregular
        stop = _cell_end(data, start, end)
        if stop is None:
            if not complete:
                return start
            stop = end
        if stop <= pos:
            raise _Irregular  # not inside a cell
        _look_at_cell(data[start:stop], found)
        done = stop
    return end


def _unreferenced(data: bytes, begin: int, end: int) -> bool:
    """Whether a cell of ``data[begin:end]`` goes without a reference (or has it elsewhere than
    first: <c s="1" r="A1">, which no known writer does, is read by the parsing scan too)."""
    if data.find(b"<c>", begin, end) >= 0:
        return True
    if data.count(b"<c ", begin, end) != data.count(b'<c r="', begin, end):
        return True
    if data.find(b":c", begin, end) < 0:  # no prefixed cell tags
        return False
    cells = data.count(b":c ", begin, end) + data.count(b":c>", begin, end)
    return cells != data.count(b':c r="', begin, end)


def _saved_result(data: bytes, i: int, end: int) -> bool:
    """Whether the <f …> at ``i`` is followed by a <v> holding text: a formula with its result,
    the common case, told without reading its cell (which an error type or a reference far
    right, each found on its own, would have read)."""
    gt = data.find(b">", i, end)
    if gt < 0:
        return False
    if data[gt - 1] != 0x2F:  # "/": <f …/>
        gt = data.find(b"</f>", gt, end) + 3
        if gt < 3:
            return False
    return data.startswith(b"<v>", gt + 1) and data[gt + 4 : gt + 5] not in (b"<", b"")


def _prefixed(data: bytes, i: int) -> bool:
    """Whether the ":" at ``i`` ends the namespace prefix of a start tag ("<x:f")."""
    lt = data.rfind(b"<", max(0, i - 64), i)
    return lt >= 0 and _PREFIX.fullmatch(data, lt + 1, i) is not None


def _cell_start(data: bytes, begin: int, pos: int) -> int | None:
    """Where the last <c …> start tag (any prefix) at or before ``pos`` begins."""
    i = pos + 1
    while True:
        i = max(data.rfind(b"<c", begin, i), data.rfind(b":c", begin, i))
        if i < 0:
            return None
        if data[i + 2 : i + 3] in _AFTER_NAME:
            if data[i] == 0x3C:  # "<"
                return i
            if _prefixed(data, i):
                return data.rfind(b"<", 0, i)


def _cell_end(data: bytes, start: int, end: int) -> int | None:
    """Where the cell element starting at ``start`` ends (None: not before ``end``)."""
    gt = data.find(b">", start, end)
    if gt < 0:
        return None
    if data[gt - 1] == 0x2F:  # "/": <c …/>
        return gt + 1
    m = _CELL_END.search(data, gt, end)
    return m.end() if m else None


def _look_at_cell(cell: bytes, found: _Found) -> None:
    """Note a cell (its element's bytes) as a formula without result, an error, or far right.

    It has a value as openpyxl (which read these files before) saw one: an inline string has
    one if it has <is>; any other cell if its <v> holds text.
    """
    gt = cell.find(b">")
    tag, body = cell[: gt + 1], cell[gt + 1 :]
    ref = _CELL_REF_ATTR.search(tag)
    if ref is None:
        raise _Irregular  # placed by its order in the row: the parsing scan places it
    row, col = int(ref.group(2)), _column_number(ref.group(1).upper().decode())
    m = _TYPE_ATTR.search(tag)
    kind = m.group(1) if m else b"n"
    v = _V_TEXT.search(body)
    if kind == b"inlineStr":
        has_value = _CHILD[b"is"].search(body) is not None
    else:
        has_value = bool(v and v.group(1))
    if not has_value and _CHILD[b"f"].search(body):
        found.uncomputed.append((row, col))
    if kind == b"e" and v and v.group(1):
        found.errors[(row, col)] = html.unescape(v.group(1).decode("utf-8", errors="replace"))
    if col > MAX_COLUMNS:
        if has_value:
            found.far.append((row, col))
        elif kind == b"str" and _CHILD[b"v"].search(body):
            found.far_blank.append((row, col))


def _scan_parsed(src: IO[bytes]) -> tuple[int, _Found]:
    """What :func:`_scan_rows` finds, for a sheet whose rows or cells go without numbers: its
    XML parsed, rows and cells placed as openpyxl and calamine place them (a row without a
    number follows the row before, a cell without a reference the cell before)."""
    found = _Found()
    last = number = 0
    for _, row in iterparse(src):
        if _local(row.tag) != "row":
            continue
        r = row.get("r", "")
        before, number = number, int(r) if r.isdigit() else number + 1
        if number <= before or number > EXCEL_MAX_ROWS:
            raise _RowOrder(number)
        column = 0
        for c in row:
            if _local(c.tag) != "c":
                continue
            m = _ANY_CELL_REF.fullmatch((c.get("r") or "").upper())
            cell_row, column = (
                (int(m.group(2)), _column_number(m.group(1))) if m else (number, column + 1)
            )
            if cell_row != number:
                raise _BadReference(cell_row)
            children = {_local(k.tag): k for k in reversed(c)}  # the first of each name
            if {"v", "is", "f"} & children.keys():
                last = max(last, number)
            if {"v", "is"} & children.keys():
                found.width = max(found.width, column)
            kind = c.get("t", "n")
            v = children.get("v")
            text = v.text if v is not None else None
            has_value = "is" in children if kind == "inlineStr" else bool(text)
            if not has_value and "f" in children:
                found.uncomputed.append((cell_row, column))
            if kind == "e" and text:
                found.errors[(cell_row, column)] = text
            if column > MAX_COLUMNS:
                if has_value:
                    found.far.append((cell_row, column))
                elif kind == "str" and v is not None:
                    found.far_blank.append((cell_row, column))
        row.clear()
    return last, found


_ANY_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# <mergeCell ref="A3:A10"/> (any prefix). "<" cannot stand in XML text or attribute values, so
# the tag is found by its bytes wherever it is; it comes after sheetData, where the row scan stops.
_MERGE_CELL = re.compile(rb"<(?:[\w.-]+:)?mergeCell\s(?:[^>]*?\s)?ref\s*=\s*[\"']([^\"'<>]*)")
_CELL_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")


def _merge_refs(src: IO[bytes], rest: bytes) -> list[bytes]:
    """The ref of each <mergeCell> in ``rest`` and the remainder of ``src``."""
    refs: list[bytes] = []
    carry = rest
    while True:
        chunk = src.read(_CHUNK)
        data = carry + chunk
        end = len(data) if not chunk else data.rfind(b"<") if b"<" in data else len(data)
        if data.find(b"mergeCell", 0, end) >= 0:
            refs += _MERGE_CELL.findall(data, 0, end)
        if not chunk:
            return refs
        carry = data[end:]


def _merge_range(path: Path, sheet: str, ref: bytes) -> tuple[int, int, int, int]:
    """A merged range's ref ("A3:A10") as 0-based inclusive (first_row, first_col, last_row,
    last_col); an impossible one is refused."""
    corners = []
    for part in ref.decode("ascii", errors="replace").upper().strip().split(":"):
        m = _CELL_REF.fullmatch(part)
        row = int(m.group(2)) if m else 0
        col = _column_number(m.group(1)) if m else 0
        if not (1 <= row <= EXCEL_MAX_ROWS and 1 <= col <= 16384):
            corners = []
            break
        corners.append((row - 1, col - 1))
    if len(corners) not in (1, 2):
        shown = " ".join(ref.decode("utf-8", errors="replace").split())[:40]
        raise InputError(
            f"合并单元格的范围无效（{shown}），文件可能已损坏 bad merged range",
            file=path.name,
            sheet=sheet,
        )
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _clip(
    merged: Iterable[tuple[int, int, int, int]], shape: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Merged ranges cut to a grid of ``shape``; those outside it, or cut to one cell, left out."""
    rows, cols = shape
    out = []
    for r1, c1, r2, c2 in merged:
        r2, c2 = min(r2, rows - 1), min(c2, cols - 1)
        if r1 < rows and c1 < cols and (r1, c1) != (r2, c2):
            out.append((r1, c1, r2, c2))
    return out


def _last_value(data: bytes, begin: int, end: int) -> int:
    """Where the last value marker in ``data[begin:end]`` is (-1: none); the tail first."""
    for start in (max(begin, end - 65536), begin):
        pos = max(data.rfind(tag, start, end) for tag in _VALUE_ENDS)
        if pos >= 0 or start == begin:
            return pos
    return -1


def _row_numbers(data: bytes, begin: int, end: int) -> np.ndarray | None:
    """The numbers of the rows starting in ``data[begin:end]``; None if one has no number."""
    numbers = _NUMBERED_ROW.findall(data, begin, end)
    if len(numbers) != data.count(b"<row", begin, end) + data.count(b":row", begin, end):
        tags = _ANY_ROW.findall(data, begin, end)  # attributes in another order, or a prefix
        found = [_ROW_NUMBER.search(t) for t in tags]
        if not all(found):
            return None
        numbers = [m.group(1) for m in found if m]
    return np.array(numbers or [b"0"][:0], dtype=bytes).astype(np.int64)


def _row_tag_before(data: bytes, begin: int, pos: int) -> bytes | None:
    """The last <row …> start tag in ``data[begin:pos]`` (any namespace prefix)."""
    i = pos
    while True:
        i = max(data.rfind(b"<row", begin, i), data.rfind(b":row", begin, i))
        if i < 0:
            return None
        if data[i + 4 : i + 5] in _AFTER_NAME:
            return data[i : data.find(b">", i) + 1]
