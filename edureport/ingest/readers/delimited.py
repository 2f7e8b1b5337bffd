"""CSV ledgers: the encoding (UTF-8, GBK with cp936's euro, UTF-16 with a BOM), the separator
from the first lines, and the rows as a grid."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from edureport.errors import InputError
from edureport.ingest.readers.sheet import MAX_COLUMNS


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
            # no quotes here, so no value holds a line break: Arrow may cut the file into blocks
            # at any newline (with newlines_in_values=True it parses each block to find one)
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=False, ignore_empty_lines=False
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
