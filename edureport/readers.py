"""Reading one ledger file into raw grids: CSV, .xlsx/.xlsm (openpyxl), .xls (xlrd).

The format is decided by the file's first bytes, not only by its name (a legacy .xls saved with
an .xlsx name is read as .xls). Whatever a parser library raises on a damaged file becomes the
project's :class:`InputError` naming the file (and sheet, row and column where known); nothing is
read in silence: a sheet is never cut short by a wrong size record, and a formula whose result was
never saved is reported, not read as an empty cell.

A CSV may be UTF-8, GBK/GB18030 (with Windows' cp936 euro sign, byte 0x80) or UTF-16 with a BOM
(Excel's "Unicode text"); its separator (comma, tab or semicolon) is decided from its first lines.
Workbook sheets also tell whether they are hidden and which ranges are merged; merged cells are
not filled here (the caller decides how).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import InputError

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
    raise InputError(
        f"第{last}列有内容，超出台账可能的宽度（{MAX_COLUMNS}列）：请删除多余的单元格"
        " value far right of the table",
        file=path.name,
        sheet=sheet,
        row=excel_row,
        column=_column_letter(last),
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


def _read_xlsx(path: Path) -> list[Sheet]:
    import openpyxl

    _check_parts(path)
    with warnings.catch_warnings(), open(path, "rb") as fh:
        warnings.simplefilter("ignore")  # openpyxl's notes on styles and extensions are noise here
        try:  # from the open file: openpyxl would refuse a workbook by its name (.csv)
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on a damaged file
            raise InputError(
                "无法打开Excel文件（文件损坏或不是.xlsx）"
                f"unreadable workbook: {type(exc).__name__}",
                file=path.name,
            ) from None
        try:
            return [_read_worksheet(path, wb, ws) for ws in wb.worksheets]
        finally:
            wb.close()


def _check_parts(path: Path) -> None:
    """Refuse a zip that is not a workbook, or whose parts would unpack to more than 1 GiB."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = zf.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), OSError, …
        raise InputError(
            f"Excel文件已损坏（可能未完整复制或下载）unreadable workbook: {type(exc).__name__}",
            file=path.name,
        ) from None
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


def _read_worksheet(path: Path, wb: Any, ws: Any) -> Sheet:
    hidden = getattr(ws, "sheet_state", "visible") in ("hidden", "veryHidden")
    try:
        with wb._archive.open(ws._worksheet_path) as src:
            last, rest = _scan_rows(src)
            refs = _merge_refs(src, rest)
        if last is not None and last >= EXCEL_MAX_ROWS:
            _raise_full(path, ws.title, last)
        merged = [_merge_range(path, ws.title, ref) for ref in refs]
        if last == 0:
            return Sheet(ws.title, _frame([]), hidden=hidden)
        with wb._archive.open(ws._worksheet_path) as src:
            parser = _parser_class()(
                src,
                wb.shared_strings,
                data_only=True,
                epoch=wb.epoch,
                date_formats=wb._date_formats,
                timedelta_formats=wb._timedelta_formats,
            )
            rows = _sheet_rows(path, ws.title, parser, last)
        grid = _frame(rows)
        return Sheet(ws.title, grid, parser.uncomputed, hidden, _clip(merged, grid.shape))
    except InputError:
        raise
    except Exception as exc:  # the XML parser and openpyxl raise many kinds on a damaged sheet
        raise InputError(
            f"Excel文件内容损坏 corrupt workbook: {type(exc).__name__}",
            file=path.name,
            sheet=ws.title,
        ) from None


def _raise_full(path: Path, sheet: str, row: int) -> None:
    raise InputError(
        f"工作表到第{row}行都有内容，已达到Excel的最大行数{EXCEL_MAX_ROWS}：数据可能在导出时被截断，"
        "或表格末尾有误填的内容 sheet reaches Excel's last row",
        file=path.name,
        sheet=sheet,
        row=row,
    )


def _sheet_rows(path: Path, sheet: str, parser: Any, last: int | None) -> list[list[Any]]:
    """Rows in sheet order (gaps as empty rows), stopping after the last row holding a value."""
    rows: list[list[Any]] = []
    for idx, cells in parser.parse():
        if last is not None and idx > last:
            break
        if idx <= len(rows) or idx > EXCEL_MAX_ROWS:
            raise InputError(
                f"工作表的行号重复、顺序错乱或超出范围（第{idx}行）rows out of order",
                file=path.name,
                sheet=sheet,
                row=idx,
            )
        if idx > len(rows) + 1:
            rows.extend([[]] * (idx - 1 - len(rows)))
        width = max((c["column"] for c in cells), default=0)
        row: list[Any] = [None] * width
        for c in cells:
            row[c["column"] - 1] = c["value"]
        if width > MAX_COLUMNS:
            row = _trim_wide(row, None, path, sheet, idx)
        if idx == EXCEL_MAX_ROWS and any(v is not None for v in row):
            _raise_full(path, sheet, idx)
        rows.append(row)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()  # rows that only carry a format (a height, a style) are not rows of the table
    return rows


@cache
def _parser_class() -> type:
    """openpyxl's sheet parser, noting formula cells that have no saved result.

    Inline strings (how openpyxl and many exporting systems write text) are read here: openpyxl
    builds a rich-text object for each, which took a third of the sample's reading time.
    """
    from xml.etree.ElementTree import SubElement

    from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, VALUE_TAG, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    run, text, phonetic = (f"{{{SHEET_MAIN_NS}}}{t}" for t in ("r", "t", "rPh"))

    def inline_text(child: Any) -> str:
        """What openpyxl's ``Text.content`` gives: the plain text, then each run's, no phonetics.

        (Of several plain ``<t>`` elements, openpyxl keeps the last.)
        """
        plain = child.findall(text)
        parts = [plain[-1].text or ""] if plain else []
        parts += [r.findtext(text) or "" for r in child.findall(run)]
        return "".join(parts)

    class CellParser(WorkSheetParser):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.uncomputed: list[tuple[int, int]] = []

        def parse_cell(self, element: Any) -> dict[str, Any]:
            inline = element.get("t") == "inlineStr" and element.find(VALUE_TAG) is None
            child = element.find(INLINE_STRING) if inline else None
            if child is not None and child.find(phonetic) is None:
                value = inline_text(child)
                if value:  # as a "str" cell, which openpyxl reads from <v> as it is
                    element.set("t", "str")
                    SubElement(element, VALUE_TAG).text = value
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                self.uncomputed.append((cell["row"], cell["column"]))
            return cell

    return CellParser


# The scan below reads the sheet's XML as bytes, without parsing it, to find the last row that
# holds a value (a <v> result, an inline <is> string, or a formula <f>). Rows after it only carry
# formatting; a value in Excel's very last row means the sheet was cut at Excel's limit. Only
# bytes.find/rfind run over the data, so a 1,048,576-row sheet is scanned in about a second.
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


def _scan_rows(src: IO[bytes]) -> tuple[int | None, bytes]:
    """:func:`_last_filled_row`, and the bytes read but not looked at (from where it stopped)."""
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
        if end <= begin and chunk:
            carry = data[begin:]  # not the <sheetData> tag: it would be taken for the end
            continue
        numbers = _row_numbers(data, begin, end)
        if numbers is None:
            return None, data[begin:]
        if len(numbers):
            if numbers[0] <= last_number or (np.diff(numbers) <= 0).any():
                return None, data[begin:]
            last_number = int(numbers[-1])
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


def _read_xls(path: Path) -> list[Sheet]:
    import xlrd

    # formatting_info gives the merged ranges; a file whose formatting xlrd cannot read is read
    # without (and without its merged ranges), xlrd's notes on stdout then printed once, as before.
    for formatting_info in (True, False):
        log = {"logfile": io.StringIO()} if formatting_info else {}
        try:
            book = xlrd.open_workbook(str(path), formatting_info=formatting_info, **log)
            break
        except Exception as exc:  # xlrd raises many kinds on a bad file
            if "encrypted" in str(exc).lower():
                raise _encrypted(path) from None
            if not formatting_info:
                raise InputError(
                    f"无法打开Excel(.xls)文件（文件损坏）unreadable .xls: {type(exc).__name__}",
                    file=path.name,
                ) from None
    sheets = []
    for sh in book.sheets():
        try:
            grid = _frame(_xls_rows(xlrd, book, sh))
            merged = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
            sheets.append(
                Sheet(sh.name, grid, hidden=sh.visibility != 0, merged=_clip(merged, grid.shape))
            )
        except Exception as exc:  # a damaged sheet
            raise InputError(
                f"Excel(.xls)文件内容损坏 corrupt .xls: {type(exc).__name__}",
                file=path.name,
                sheet=sh.name,
            ) from None
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
                except Exception:  # an impossible serial stays a number; the cleaner refuses it
                    pass
        yield row
