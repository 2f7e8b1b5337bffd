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

import codecs
import csv
import datetime as dt
import html
import io
import itertools
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any, NoReturn
from xml.etree.ElementTree import ParseError, iterparse
from xml.parsers.expat import ExpatError, ParserCreate

import numpy as np
import pandas as pd

from edureport.errors import InputError

EXCEL_MAX_ROWS = 1_048_576  # the last row of a worksheet; data there means the sheet was cut
MAX_COLUMNS = 256  # no ledger is wider; a value beyond this is a stray cell, not a column
MAX_PART_BYTES = 1 << 30  # uncompressed size of one part of an .xlsx (a larger one is a bomb)
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a long cell is the cleaner's call


@dataclass
class Sheet:
    """One worksheet (or a whole CSV) as a grid of raw cell values; row 0 is Excel row 1."""

    name: str | None
    grid: pd.DataFrame
    # (Excel row, column) of formula cells whose result was never saved in the file, 1-based.
    uncomputed: list[tuple[int, int]] = field(default_factory=list)
    # The sheet's state in the workbook is hidden or veryHidden (a CSV: False).
    hidden: bool = False
    # Merged ranges as (first_row, first_col, last_row, last_col), 0-based and inclusive in grid
    # coordinates, clipped to the grid (ranges outside it, or clipped to one cell, are left out).
    # Only the first cell of a range holds its value; the others are empty in the grid.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


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


# ---------------------------------------------------------------- CSV


def decode_csv(path: Path) -> str:
    """Decode a CSV saved as UTF-8 (with or without BOM) or GBK/GB18030, refusing a mixture.

    GBK as Windows writes it (code page 936) has the euro sign as the single byte 0x80, which
    GB18030 (and Python's gbk) lacks: such a byte is read as "€".
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        if line > 1 and any(b >= 0x80 for b in before):
            try:
                before.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                raise InputError(
                    f"文件编码不一致：前面是UTF-8，第{line}行起不是 mixed encodings",
                    file=path.name,
                    row=line,
                ) from None
    try:
        content = data.decode("gb18030", errors=_CP936_EURO)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if _utf8_line_in_gbk(data) == line:
            raise InputError(
                f"文件编码不一致：文件是GBK编码，但第{line}行是UTF-8编码 mixed encodings",
                file=path.name,
                row=line,
            ) from None
        raise InputError(
            "无法识别文件编码（应为UTF-8或GBK）undecodable encoding", file=path.name, row=line
        ) from None
    line = _utf8_line_in_gbk(data)
    if line:
        raise InputError(
            f"文件编码不一致：文件是GBK编码，但第{line}行是UTF-8编码 mixed encodings",
            file=path.name,
            row=line,
        )
    return content


def _cp936_euro(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a lone byte 0x80 is cp936's euro sign; any other error stands."""
    if isinstance(exc, UnicodeDecodeError) and exc.object[exc.start] == 0x80:
        return "€", exc.start + 1
    raise exc


_CP936_EURO = "edureport-cp936-euro"
codecs.register_error(_CP936_EURO, _cp936_euro)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _utf8_line_in_gbk(data: bytes) -> int | None:
    """The line number of a UTF-8 line with Chinese text in a file that is otherwise GBK.

    Candidates are two Chinese characters in a row as UTF-8 writes them (E4–E9, then two bytes
    80–BF, twice), found with numpy; GBK text almost never looks like that, and a candidate's line
    counts only if all of it is valid UTF-8 holding two or more Chinese characters.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    if len(b) < 6:
        return None
    lead = (b >= 0xE4) & (b <= 0xE9)
    cont = (b >= 0x80) & (b <= 0xBF)
    char = lead[:-2] & cont[1:-1] & cont[2:]
    checked = -1
    for start in np.flatnonzero(char[:-3] & char[3:]).tolist():
        if start < checked:
            continue
        first = data.rfind(b"\n", 0, start) + 1
        end = data.find(b"\n", start)
        checked = end = len(data) if end < 0 else end
        try:
            line = data[first:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(_CJK.findall(line)) >= 2:
            return data.count(b"\n", 0, first) + 1
    return None


def _read_csv_grid(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    content = _decode_unicode(path, data)
    if content is None:
        sep = _utf8_separator(data)
        fast = _read_utf8_table(data, sep) if sep else None
        if fast is not None:
            return fast
        del data  # decode_csv reads the file again: one copy at a time
        content = decode_csv(path)
    else:
        del data
    if "\x00" in content:
        raise InputError("文件含有二进制内容，不是文本CSV binary content in CSV", file=path.name)
    if not content.strip():
        raise InputError("文件中没有内容 no content", file=path.name)
    sep = _choose_separator(path, content)
    head = _csv_rows(path, itertools.islice(_csv_reader(content, False, sep), HEAD_ROWS))
    width = max((len(r) for r in head), default=1)
    if width <= MAX_COLUMNS:
        grid = _read_c(content, width, sep)
        if grid is not None:
            return grid
    try:  # strictly first: a quote left open would swallow the rest of the file into one cell
        return _frame(_csv_rows(path, _csv_reader(content, True, sep)))
    except InputError as exc:
        if "引号不配对" in exc.detail:
            raise
    return _frame(_csv_rows(path, _csv_reader(content, False, sep)))


_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode_unicode(path: Path, data: bytes) -> str | None:
    """The text of a UTF-16 (Excel's "Unicode text") or UTF-32 file with its BOM; None for a file
    without one. UTF-16 without a BOM is refused: which byte order it has is a guess."""
    if data.startswith(_UTF32_BOMS):  # before UTF-16: FF FE 00 00 starts with FF FE
        encoding = "utf-32"
    elif data.startswith(_UTF16_BOMS):
        encoding = "utf-16"
    else:
        guess = _utf16_without_bom(data)
        if guess:
            raise InputError(
                f"文件是{guess}编码但缺少BOM（字节顺序标记），无法确定编码："
                "请用Excel打开后另存为“CSV UTF-8(逗号分隔)” UTF-16 without BOM",
                file=path.name,
            )
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        raise InputError(
            f"{encoding.upper()}编码的文件已损坏或不完整（第{line}行起无法解码）"
            f" undecodable {encoding.upper()}",
            file=path.name,
            row=line,
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """ "UTF-16LE"/"UTF-16BE" if the file's start reads as UTF-16 text without a BOM: NUL bytes as
    the high bytes of ASCII characters (digits, separators, line ends), at every other position,
    and text without NUL characters."""
    head = data[:4096]
    head = head[: len(head) // 2 * 2]
    if b"\x00" not in head or len(head) < 8:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for encoding, high, low in (("UTF-16LE", odd, even), ("UTF-16BE", even, odd)):
        if high * 10 < len(head) // 2 or low * 4 > high:
            continue
        for piece in (head, head[:-2]):  # the last unit may be half of a surrogate pair
            try:
                text = piece.decode(encoding)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return encoding
    return None


SEPARATORS = (",", "\t", ";")
_SEPARATOR_NAMES = {",": "逗号", "\t": "制表符", ";": "分号"}
HEADER_WIDTHS = range(5, 13)  # a ledger's header row has 5–12 columns


def _table_shape(head: str, sep: str) -> tuple[int, int]:
    """(rows, width): the commonest width of two or more cells that ``sep`` cuts the first
    lines into, and how many lines have it; (0, 0) when no line has two cells."""
    try:
        rows = itertools.islice(_csv_reader(head, False, sep), HEAD_ROWS)
        widths = Counter(len(r) for r in rows if len(r) >= 2)
    except csv.Error:
        return 0, 0
    if not widths:
        return 0, 0
    width, count = max(widths.items(), key=lambda wc: (wc[1], wc[0]))
    return count, width


def _best_separators(head: str) -> list[tuple[str, int, int]]:
    """(separator, rows, width) of those that cut the first lines into the most consistent table
    (the most lines of one width; a ledger-like width of 5–12 breaks a tie): one when that decides
    it, several when they are equally plausible, none when no separator gives two cells."""
    shapes = [(sep, *_table_shape(head, sep)) for sep in SEPARATORS]
    shapes = [s for s in shapes if s[1]]
    if not shapes:
        return []

    def rank(s: tuple[str, int, int]) -> tuple[int, bool]:
        return s[1], s[2] in HEADER_WIDTHS

    best = max(map(rank, shapes))
    return [s for s in shapes if rank(s) == best]


def _head_text(text: str) -> str:
    """The first MiB of the text, in whole lines when it is longer."""
    if len(text) <= 1 << 20:
        return text
    head = text[: 1 << 20]
    end = head.rfind("\n") + 1
    return head[:end] if end else head


def _utf8_separator(data: bytes) -> str | None:
    """The separator of a UTF-8 CSV from its first lines, or None (not UTF-8 there, or not
    decided: the careful path then says why)."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    head = body[: 1 << 20]
    if len(head) < len(body):
        head = head[: head.rfind(b"\n") + 1]
    try:
        best = _best_separators(head.decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return best[0][0] if len(best) == 1 else None


def _choose_separator(path: Path, content: str) -> str:
    """The separator the first lines show, or InputError: no table, or two equally plausible."""
    best = _best_separators(_head_text(content))
    if len(best) == 1:
        return best[0][0]
    if not best:
        raise InputError(
            "无法确定CSV分隔符：文件开头各行用逗号、制表符或分号都分不出多列，不是表格"
            " no column separator found",
            file=path.name,
        )
    found = "；".join(f"用{_SEPARATOR_NAMES[s]}分列有{n}行{w}列" for s, n, w in best)
    raise InputError(
        f"无法确定CSV分隔符：{found}，同样像表格；请用Excel打开后另存为逗号分隔的CSV"
        " ambiguous column separator",
        file=path.name,
    )


HEAD_ROWS = 50  # the first lines, whose widest sets the width of the table
_BOM = b"\xef\xbb\xbf"
# What ``str.strip()`` removes among ASCII bytes (str.isspace), for a quick "anything here?".
_ASCII_SPACE = bytes(b for b in range(128) if chr(b).isspace())


def _read_utf8_table(data: bytes, sep: str = ",") -> pd.DataFrame | None:
    """The common case fast: a rectangular UTF-8 CSV, parsed by Arrow's multithreaded reader.

    Returns the same grid as the careful path (``str`` columns, empty cells as "", blank lines
    kept as rows), or None whenever that path must decide: not UTF-8, NUL bytes, no text,
    quotes (Arrow reads a quote left open to the end of the file without a word), lines ended
    by a lone CR, rows of different widths or any other parse error.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if b"\x00" in body or b'"' in body or (b"\r" in body and _lone_cr(body)):
        return None  # NUL, quotes, or a line ended by CR alone: the careful path decides
    if not _has_text(body):
        return None
    width = _head_width(body, sep)  # Arrow checks the rest is UTF-8 (ArrowInvalid if not)
    if width is None:
        return None
    names = [str(j) for j in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    str_dtype = pd.StringDtype(storage="pyarrow", na_value=np.nan)
    return pd.DataFrame({j: pd.Series(table.column(j), dtype=str_dtype) for j in range(width)})


def _lone_cr(body: bytes) -> bool:
    return body.count(b"\r") != body.count(b"\r\n")


_NOT_ASCII_SPACE = re.compile(b"[^" + re.escape(_ASCII_SPACE) + b"]")


def _has_text(body: bytes) -> bool:
    """Whether a UTF-8 file holds anything but white space (``str.strip()`` on its text)."""
    first = _NOT_ASCII_SPACE.search(body)
    if first is None:
        return False
    if body[first.start()] < 0x80:
        return True
    rest = body[first.start() :]
    piece = rest[:65536].decode("utf-8", errors="ignore")
    return bool(piece.strip()) or bool(rest.decode("utf-8", errors="ignore").strip())


def _head_width(body: bytes, sep: str = ",") -> int | None:
    """Width of the widest of the first lines, or None if one is wider than MAX_COLUMNS."""
    head = body[: 1 << 20]
    if len(head) < len(body):
        head = head[: head.rfind(b"\n") + 1]  # whole lines (and whole characters) only
    try:
        rows = itertools.islice(_csv_reader(head.decode("utf-8"), False, sep), HEAD_ROWS)
        width = max((len(r) for r in rows), default=0)
    except (UnicodeDecodeError, csv.Error):
        return None
    return width if 0 < width <= MAX_COLUMNS else None


def _read_c(content: str, width: int, sep: str = ",") -> pd.DataFrame | None:
    """pandas' C reader, ``width`` columns wide (None: a later line is wider, or a quote is never
    closed). Given bytes, not a StringIO, which pandas re-encodes through a buffer it copies on
    every read (quadratic)."""
    try:
        return pd.read_csv(
            io.BytesIO(content.encode("utf-8")),
            encoding="utf-8",
            sep=sep,
            header=None,
            names=range(width),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        return None


def _csv_reader(content: str, strict: bool, sep: str = ",") -> Iterator[list[str]]:
    return csv.reader(io.StringIO(content, newline=""), delimiter=sep, strict=strict)


def _csv_rows(path: Path, rows: Iterable[list[str]]) -> list[list[str]]:
    """Rows of a CSV, each no wider than MAX_COLUMNS once its trailing empty cells are dropped."""
    out: list[list[str]] = []
    try:
        for r in rows:
            if len(r) > MAX_COLUMNS:
                r = _trim_wide(r, "", path, None, len(out) + 1)
            out.append(r)
    except csv.Error as exc:
        unterminated = "end of data" in str(exc)
        raise InputError(
            ("CSV引号不配对（引号开始后没有结束）" if unterminated else "CSV格式错误")
            + f" malformed CSV: {exc}",
            file=path.name,
            row=len(out) + 1,
        ) from None
    return out


def _trim_wide(
    row: list[Any], empty: Any, path: Path, sheet: str | None, excel_row: int
) -> list[Any]:
    """A row wider than MAX_COLUMNS: empty cells beyond are dropped, a value there is refused."""
    if all(v is None or v == empty for v in row[MAX_COLUMNS:]):
        return row[:MAX_COLUMNS]
    last = max(i for i, v in enumerate(row) if not (v is None or v == empty)) + 1
    _raise_far_right(path, sheet, excel_row, last)


def _raise_far_right(path: Path, sheet: str | None, excel_row: int, column: int) -> NoReturn:
    raise InputError(
        f"第{column}列有内容，超出台账可能的宽度（{MAX_COLUMNS}列）：请删除多余的单元格"
        " value far right of the table",
        file=path.name,
        sheet=sheet,
        row=excel_row,
        column=_column_letter(column),
    )


def _frame(rows: Iterable[Iterable[Any]]) -> pd.DataFrame:
    """Ragged rows as an object DataFrame (short rows padded with None)."""
    rows = [r if isinstance(r, list) else list(r) for r in rows]
    width = max(map(len, rows), default=0)
    pad = [None] * width
    return pd.DataFrame([r if len(r) == width else r + pad[len(r) :] for r in rows], dtype=object)


def _column_letter(n: int) -> str:
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------- .xlsx

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


# ---------------------------------------------------------------- OLE: .xls, or an encrypted file


def _read_ole(path: Path) -> list[Sheet]:
    data = path.read_bytes()
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise _encrypted(path)
    return _read_xls(path)


def _encrypted(path: Path) -> InputError:
    return InputError(
        "Excel文件设有打开密码（已加密），无法读取：请在Excel中取消密码后另存为.xlsx"
        " encrypted workbook",
        file=path.name,
    )


@cache
def _xlrd_errors() -> tuple[type[BaseException], ...]:
    """What xlrd raises on a damaged .xls. Besides its own errors it is a parser that trusts the
    file's offsets and counts, and a damaged file stops it with these (from 6,000 mutated .xls
    files: CompDocError 35%, IndexError 24%, AssertionError 21%, struct.error 8%, XLRDError,
    RecursionError on a cyclic directory, UnicodeDecodeError, KeyError, OverflowError). Only
    ``xlrd.open_workbook`` runs inside the ``try``: nothing of this package can raise them there.
    MemoryError and TypeError are not among them.
    """
    import xlrd
    from xlrd.compdoc import CompDocError

    return (
        xlrd.XLRDError,
        CompDocError,
        struct.error,
        UnicodeDecodeError,
        IndexError,
        KeyError,
        AssertionError,
        OverflowError,
        ValueError,
        RecursionError,
        EOFError,
        OSError,
    )


def _read_xls(path: Path) -> list[Sheet]:
    import xlrd

    # formatting_info gives the merged ranges; a file whose formatting xlrd cannot read is read
    # without (and without its merged ranges), xlrd's notes on stdout then printed once, as before.
    # (xlrd raises NotImplementedError where formatting_info is not implemented.)
    for formatting_info in (True, False):
        log = {"logfile": io.StringIO()} if formatting_info else {}
        try:
            book = xlrd.open_workbook(str(path), formatting_info=formatting_info, **log)
            break
        except (*_xlrd_errors(), NotImplementedError) as exc:
            if "encrypted" in str(exc).lower():
                raise _encrypted(path) from None
            if not formatting_info:
                raise InputError(
                    f"无法打开Excel(.xls)文件（文件损坏）unreadable .xls: {type(exc).__name__}",
                    file=path.name,
                ) from None
    sheets = []
    for sh in book.sheets():  # read whole by open_workbook: nothing here parses the file
        grid = _frame(_xls_rows(xlrd, book, sh))
        merged = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
        sheets.append(
            Sheet(sh.name, grid, hidden=sh.visibility != 0, merged=_clip(merged, grid.shape))
        )
    return sheets


def _xls_rows(xlrd: Any, book: Any, sh: Any) -> Iterator[list[Any]]:
    """Cell values as Excel shows them: dates as dates, errors as #DIV/0! etc., not as codes.

    Cells that only carry a format (which formatting_info reads) are left out at the right and
    bottom, as they are without it.
    """
    special = {xlrd.XL_CELL_ERROR, xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN}
    blank = bytes([xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK])
    used = [len(bytes(sh.row_types(i)).rstrip(blank)) for i in range(sh.nrows)]
    nrows = next((i + 1 for i in range(len(used) - 1, -1, -1) if used[i]), 0)
    width = max(used, default=0)
    for i in range(nrows):
        values, types = sh.row_values(i, 0, width), sh.row_types(i, 0, width)
        if special.isdisjoint(types):
            yield values
            continue
        row = list(values)
        for j, t in enumerate(types):
            if t == xlrd.XL_CELL_ERROR:
                row[j] = xlrd.error_text_from_code.get(row[j], "#ERROR")
            elif t == xlrd.XL_CELL_BOOLEAN:
                row[j] = bool(row[j])
            elif t == xlrd.XL_CELL_DATE:
                try:
                    row[j] = xlrd.xldate_as_datetime(row[j], book.datemode)
                except (ValueError, OverflowError):  # an impossible serial stays a number; the
                    pass  # cleaner refuses it (xlrd's XLDateError is a ValueError)
        yield row
