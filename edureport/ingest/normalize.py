"""Normalisers for single cells: text, headers, amounts, dates, ID numbers, categories.

Each returns a clean value or raises :class:`~edureport.errors.CellError`: a reason in Chinese
from a fixed vocabulary (it never quotes the cell), a short code and at most a safe excerpt.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import yaml

from edureport.errors import CellError
from edureport.paths import RESOURCES_DIR

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[、，,；;／/·.（）()【】\[\]“”\"'《》:：\-—_]")
_UNIT_IN_HEADER = re.compile(r"[(（\[【/]?\s*(万元|元)\s*[)）\]】]?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Dates a ledger can mean (and the cleaned tables' datetime64[ns] can hold).
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2099, 12, 31)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# A vectorised shortcut for some of a column's distinct values: given them (a Series), says which
# it handled (a boolean mask) and their results; ``fn`` is called on the others only.
Fast = Callable[[pd.Series], tuple[np.ndarray, np.ndarray]]


def per_unique(values: Any, fn: Callable[[Any], Any], fast: Fast | None = None) -> np.ndarray:
    """``fn`` applied once per distinct value of a column (ledgers repeat values a lot).

    Blank cells (None/NaN) are passed to ``fn`` as ``None``. Returns an object array.
    """
    table, codes = per_unique_coded(values, fn, fast)
    return table[codes]


def per_unique_coded(
    values: Any, fn: Callable[[Any], Any], fast: Fast | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`per_unique` as ``(table, codes)``: ``table[codes]`` is the result for each row.

    ``table`` holds one result per distinct value, then ``fn(None)`` for blank cells (code -1).
    A text column read by Arrow stays in Arrow: its distinct values are found without making
    a Python string per cell, and ``fast`` can handle them in bulk.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    distinct = pd.Series(uniques)
    table = np.empty(len(distinct) + 1, dtype=object)
    todo = np.arange(len(distinct))
    if fast is not None and len(distinct):
        done, results = fast(distinct)
        table[:-1][done] = results
        todo = np.flatnonzero(~done)
    for i, value in zip(todo.tolist(), distinct.iloc[todo].tolist(), strict=True):
        table[i] = fn(value)
    table[-1] = fn(None)  # code -1 (a blank cell) picks the last entry
    return table, codes


def expand(table: np.ndarray, codes: np.ndarray, dtype: Any) -> pd.Series:
    """``table[codes]`` (see :func:`per_unique_coded`) as a Series of ``dtype``.

    Only the distinct values are converted; the rows are then a ``take`` (no Python object per
    row, which matters for the dtypes backed by Arrow).
    """
    typed = pd.Series(table, dtype=dtype)
    return typed.take(np.where(codes < 0, len(table) - 1, codes)).reset_index(drop=True)


def group_codes(columns: Iterable[np.ndarray]) -> np.ndarray:
    """One int64 code per row, equal exactly where the rows' codes are equal in every column.

    Each column holds integer codes from -1 (a null: equal to another null) up, as
    ``pd.factorize`` gives them; they are combined arithmetically, and the combined key
    renumbered whenever it would outgrow 62 bits (no hashing of the columns themselves).
    """
    key: np.ndarray | None = None
    size = 1
    sized = sorted(((int(c.max(initial=-1)) + 2, c) for c in columns), key=lambda kc: kc[0])
    for k, codes in sized:  # the fewest codes first: renumbered later, if at all
        if key is None:
            key, size = codes.astype(np.int64) + 1, k
            continue
        if size * k >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            size = int(key.max(initial=-1)) + 1
        key = key * k + (codes.astype(np.int64) + 1)
        size *= k
    return np.zeros(0, dtype=np.int64) if key is None else key


def first_of_group(key: np.ndarray) -> np.ndarray:
    """For each row, the position of the first row with the same ``key``."""
    group = pd.factorize(key)[0]
    first = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group) - 1, -1, -1)  # the last write, the first row, wins
    return first[group]


# Characters that ``text`` leaves alone (NFKC-stable, not white space): printable ASCII, the
# middle dot of minority names and the CJK ideographs of ledgers (the Basic block, extension A).
_PLAIN_RANGES = ((0x21, 0x7E), (0xB7, 0xB7), (0x3400, 0x4DBF), (0x4E00, 0x9FFF))


@cache
def _plain_pattern(without: str = "") -> str:
    """A regex matching plain text with none of the characters ``without`` (in either case)."""
    # (a case mapping can be several characters: "ß".upper() == "SS")
    gone = sorted({ord(c) for ch in without for v in (ch, ch.lower(), ch.upper()) for c in v})
    parts = []
    for first, last in _PLAIN_RANGES:
        for cut in (g for g in gone if first <= g <= last):
            if first < cut:
                parts.append((first, cut - 1))
            first = cut + 1
        if first <= last:
            parts.append((first, last))
    esc = lambda c: re.escape(chr(c))  # noqa: E731
    ranges = "".join(esc(a) + (f"-{esc(b)}" if b > a else "") for a, b in parts)
    return f"[{ranges}]+"


def plain(values: pd.Series, without: str = "") -> np.ndarray:
    """Which values are text that :func:`text` returns unchanged, tested in bulk.

    With ``without``, only the plain values holding none of those characters count (a
    plain value's :func:`match_key` can only hold characters it holds). Only for Arrow-backed
    text (what the CSV reader gives); other columns get all False.
    """
    if not _arrow_text(values):
        return np.zeros(len(values), dtype=bool)
    return np.array(values.str.fullmatch(_plain_pattern(without)).fillna(False), dtype=bool)


ARROW_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)  # what the CSV reader gives


def _arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def may_equal(values: pd.Series, targets: Collection[str]) -> np.ndarray:
    """Which cells' :func:`text` (or :func:`match_key`) might equal one of ``targets``.

    A superset, found in bulk: a plain cell (see :func:`plain`) can only match if it holds a
    target's characters, and an ASCII cell's text is ASCII, so it cannot match targets that all
    have other characters. A workbook's cells (not Arrow text) are tested as their ``str()``:
    the :func:`text` of a number or date holds only characters its ``str()`` holds (NFKC leaves
    ASCII alone; a whole float loses ".0"), so the superset stays one.
    """
    if not _arrow_text(values):
        values = pd.Series(values.to_numpy(dtype=object), dtype=ARROW_TEXT)
    chars = "".join(sorted({ch for t in targets for ch in t}))
    if not all(t and not t.isascii() for t in targets):
        return ~plain(values, without=chars)
    maybe = ~np.asarray(values.str.isascii().fillna(False), dtype=bool)
    if maybe.any():  # the rest is tested once per distinct value (-1, a blank cell: maybe)
        codes, uniques = pd.factorize(values[maybe])
        maybe[maybe] = np.append(~plain(pd.Series(uniques), without=chars), True)[codes]
    return maybe


def plain_texts(values: pd.Series, max_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """:data:`Fast` for :func:`text` on required text: plain values up to ``max_chars`` long."""
    done = plain(values)
    if done.any():
        done &= (values.str.len() <= max_chars).to_numpy(dtype=bool)
    return done, values[done].to_numpy(dtype=object)


_PLAIN_YUAN = r"[1-9][0-9]{0,12}(?:\.[0-9]{1,2})?"  # 1 to 9999999999999.99, no sign, no comma


def plain_amounts(values: pd.Series, unit: str | None = "元") -> tuple[np.ndarray, np.ndarray]:
    """:data:`Fast` for :func:`amount_to_fen` in 元: plain positive amounts (478, 478.5, 478.50)
    converted to fen in bulk; any other form, and every amount in 万元, is left to it."""
    if unit != "元" or not _arrow_text(values):
        return np.zeros(len(values), dtype=bool), np.empty(0, dtype=object)
    done = np.array(values.str.fullmatch(_PLAIN_YUAN).fillna(False), dtype=bool)
    picked = values[done]
    if not len(picked):
        return done, np.empty(0, dtype=object)
    yuan = picked.str.replace(r"\..*", "", regex=True).astype("int64").to_numpy()
    cents = picked.str.extract(r"\.([0-9]+)", expand=False).fillna("").str.ljust(2, "0")
    return done, (yuan * 100 + cents.astype("int64").to_numpy()).astype(object)


@cache
def synonyms() -> dict[str, Any]:
    """The synonym tables of ``resources/synonyms.yaml`` (one file an analyst can extend)."""
    with open(RESOURCES_DIR / "synonyms.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def is_blank(value: Any) -> bool:
    """True for None, NaN, NaT and strings that are empty after stripping."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value.__class__.__name__ in {"NaTType", "NAType"}:
        return True
    return isinstance(value, str) and not text(value)


def text(value: Any) -> str:
    """NFKC-normalise a cell and remove all white space (Chinese text carries none)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(value)))


def match_key(value: Any) -> str:
    """A loose key for matching names: NFKC, no spaces, no punctuation, upper case."""
    return _PUNCT.sub("", text(value)).upper()


def split_header(header: Any) -> tuple[str, str | None]:
    """Split a header into its matching key and the money unit it names (元, 万元 or None)."""
    h = text(header)
    unit = None
    m = _UNIT_IN_HEADER.search(h)
    if m:
        unit = m.group(1)
        h = h[: m.start()] if m.start() > 0 else h
    elif "万元" in h:
        unit = "万元"
    return match_key(h), unit


# Digits ``text`` may turn into 0-9: ASCII and full-width ones. NFKC also makes 0-9 of ², ① and
# 𝟏, and Decimal() and int() read ٣ (Arabic-Indic) or ३ (Devanagari) as 3: those are refused.
def _foreign_digits(raw: str) -> bool:
    """True if ``raw`` (a cell before NFKC) holds digits other than 0-9 and ０-９."""
    return not raw.isascii() and any(
        unicodedata.digit(ch, None) is not None
        for ch in raw
        if not ("0" <= ch <= "9" or "０" <= ch <= "９")
    )


def _foreign_digits_error(label: str) -> CellError:
    return CellError(f"{label}含有其他文字的数字（只认0-9）", code="non_ascii_digits")


_GROUPED = re.compile(r"[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_NUMBERISH = re.compile(r"[-+]?[0-9.,]+")
_AMOUNT = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_NOISE = Decimal("1e-6")  # binary noise of a formula (1180.0000000000002): well below this


def _ungroup(s: str, label: str, code: str) -> str:
    """``s`` without thousands separators, which must stand every three digits (1,000.00)."""
    if "," not in s:
        return s
    if _GROUPED.fullmatch(s):
        return s.replace(",", "")
    if _NUMBERISH.fullmatch(s):
        raise CellError(f"{label}的千位分隔符位置不对，无法确定数值", value=s, code=code)
    raise CellError(f"{label}无法识别", value=s, code="unreadable")


def _whole(number: Decimal) -> Decimal | None:
    """``number`` as a whole number if it is one up to binary noise (< 1e-6), else None."""
    whole = number.to_integral_value()
    return whole if number == whole or abs(number - whole) < _NOISE else None


def amount_to_fen(value: Any, unit: str | None = "元") -> int:
    """Read an amount in yuan (or 万元 where the header or cell says so) as exact integer fen.

    Thousands separators only every three digits; a float's binary noise (1180.0000000000002)
    is read as the fen it is, but a third decimal (1.005) is refused.
    """
    if is_blank(value):
        raise CellError("金额为空", code="blank")
    if isinstance(value, bool):
        raise CellError("金额无法识别", code="unreadable")
    if isinstance(value, int):
        number, shown = Decimal(value), str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CellError("金额无法识别", code="unreadable")
        number, shown = Decimal(repr(value)), repr(value)
    elif isinstance(value, Decimal):
        number, shown = value, str(value)
    else:
        if _foreign_digits(str(value)):
            raise _foreign_digits_error("金额")
        s = text(value)
        if s.endswith("万元"):
            unit, s = "万元", s[:-2]
        elif s.endswith("元"):
            unit, s = "元", s[:-1]
        s = re.sub(r"^([-+]?)¥", r"\1", s)  # ¥ (NFKC of ￥) before the digits, after a sign
        shown = s
        s = _ungroup(s, "金额", "ambiguous_amount")
        if not _AMOUNT.fullmatch(s):
            raise CellError("金额无法识别", value=shown, code="unreadable")
        number = Decimal(s)
    if not number.is_finite():
        raise CellError("金额无法识别", code="unreadable")
    if number.adjusted() > 15:  # before scaling: 1e999999999 would overflow
        raise CellError("金额超出合理范围", value=shown, code="out_of_range")
    fen = _whole(number * (1_000_000 if unit == "万元" else 100))
    if fen is None:
        raise CellError("金额超过两位小数（分）", value=shown, code="sub_fen")
    if abs(fen) > 10**15:
        raise CellError("金额超出合理范围", value=shown, code="out_of_range")
    return int(fen)


_TIME = re.compile(r"[T ]?[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$")
_DATE_FORMS = (
    re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
_MONTH_FORM = re.compile(r"([0-9]{4})(?:[-/.]([0-9]{1,2})|年([0-9]{1,2})月份?)")
# The date-like part of a cell, not glued to other digits (an ID's birth date, 110105-20080101).
_DATE_PART = re.compile(
    r"(?<![0-9])(?<![0-9][-/.,])"
    r"(?:[0-9]{4}[-/.年][0-9]{1,2}(?:[-/.月][0-9]{1,2}日?|月)?|[0-9]{8})"
    r"(?![0-9])(?![-/.,][0-9])"
)
_NO_EXPIRY = frozenset({"长期", "永久", "长期有效", "永久有效", "无固定期限"})


def parse_date(value: Any, *, month_ok: bool = False) -> dt.date:
    """Read a date: 2022-03-05, 2022/3/5, 2022.3.5, 2022年3月5日, 20220305, a datetime, an Excel
    serial, or a number typed as YYYYMMDD (20220305).

    A cell with only a year and month (2024年5月, 2024-05) is the 1st of that month with
    ``month_ok``, refused (code ``month_only``) without.
    """
    day = _parse_date(value, month_ok)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise CellError("日期超出1900—2099年", value=day.isoformat(), code="out_of_range")
    return day


def expiry_date(value: Any, *, month_ok: bool = False) -> dt.date:
    """:func:`parse_date` for a validity end: 长期, 永久, 长期有效, 无固定期限 give LAST_DATE."""
    if isinstance(value, str) and text(value) in _NO_EXPIRY:
        return LAST_DATE
    return parse_date(value, month_ok=month_ok)


def _parse_date(value: Any, month_ok: bool) -> dt.date:
    if is_blank(value):
        raise CellError("日期为空", code="blank")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError("日期无法识别", code="unreadable")
    if isinstance(value, int | float):
        return _date_number(value)
    if _foreign_digits(str(value)):
        raise _foreign_digits_error("日期")
    s = _TIME.sub("", text(value))
    if re.fullmatch(r"[0-9]{5}(\.[0-9]+)?", s):
        return _excel_serial(float(s))
    for form in _DATE_FORMS:
        m = form.fullmatch(s)
        if m:
            return _date(*m.groups(), shown=_ascii_date(s))
    m = _MONTH_FORM.fullmatch(s)
    if m:
        year, month = m.group(1), m.group(2) or m.group(3)
        first = _date(year, month, "1", shown=f"{year}-{month}")
        if not month_ok:
            raise CellError("日期只有年和月，缺少日", value=f"{year}-{month}", code="month_only")
        return first
    part = _DATE_PART.search(s)
    if part and part.group() != s:
        shown = _ascii_date(part.group())
        raise CellError("日期单元格含有日期以外的内容", value=shown, code="extra_text")
    raise CellError("日期无法识别", value=_ascii_date(s), code="unreadable")


def _ascii_date(s: str) -> str:
    """A date's text to show: 2022年3月5日 as 2022-3-5 (CellError drops it unless it is safe)."""
    return re.sub("[年月]", "-", s).removesuffix("日")


def _date(year: str, month: str, day: str, shown: str) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise CellError("日期不存在", value=shown, code="no_such_date") from None


def _date_number(number: float) -> dt.date:
    """A number in a date cell: YYYYMMDD typed as a number (20240315), else an Excel serial."""
    if math.isfinite(number) and 19_000_101 <= number <= 20_991_231 and number == int(number):
        n = int(number)
        return _date(str(n // 10000), str(n // 100 % 100), str(n % 100), shown=str(n))
    return _excel_serial(number)


def _excel_serial(number: float) -> dt.date:
    if not math.isfinite(number) or not 1 <= number < 2958466:
        raise CellError("日期无法识别", value=str(number), code="unreadable")
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


_NONE_WORDS = frozenset({"无", "暂无", "没有", "未取得"})


def no_value(value: Any) -> bool:
    """True for a blank cell or one meaning "none" in an identifier column (licence, certificate
    numbers): 无, 暂无, 没有, 未取得, or only dashes or slashes (-, —, －, /)."""
    s = text(value)
    return not s or s in _NONE_WORDS or re.fullmatch(r"[-—–―/]+", s) is not None


# ---------------------------------------------------------------- categories and counts


@cache
def category_values(kind: str) -> dict[str, list[str]]:
    """A category's canonical values and their variants: from synonyms.yaml (categories several
    ledgers share), else from the ledger spec that declares them (``values`` of a field)."""
    shared = synonyms()["values"]
    if kind in shared:
        return shared[kind]
    from edureport.ingest.specs import inline_categories

    return inline_categories()[kind]


def _category_index(kind: str) -> dict[str, str]:
    table = category_values(kind)
    index: dict[str, str] = {}
    for canonical, variants in table.items():
        for name in [canonical, *(variants or [])]:
            index[match_key(name)] = canonical
    return index


@cache
def _category_choices(kind: str) -> str:
    names = [str(n) for n in category_values(kind)]
    return ("／" if any("、" in n for n in names) else "、").join(names)


def category(kind: str, value: Any, label: str | None = None) -> str:
    """Map a category cell (stage, programme, employment …) to its canonical name; ``label``
    names the column in messages (default: the title of the spec's field of that category)."""
    if label is None:
        from edureport.ingest.specs import category_title

        label = category_title(kind)
    key = match_key(value)
    if not key:
        raise CellError(f"{label}为空", code="blank")
    try:
        return _category_index(kind)[key]
    except KeyError:
        reason = f"{label}无法识别（应为：{_category_choices(kind)}）"
        raise CellError(reason, code="unknown_category") from None


_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _quantity(value: Any, units: str) -> tuple[Decimal, str | None]:
    """A count or quantity cell as a finite Decimal, and what may be shown of it."""
    if is_blank(value):
        raise CellError("数值为空", code="blank")
    if isinstance(value, bool):
        raise CellError("数值无法识别", code="unreadable")
    if isinstance(value, int):
        return Decimal(value), str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError("数值无法识别", code="unreadable")
        return Decimal(repr(value)), repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CellError("数值无法识别", code="unreadable")
        return value, str(value)
    if _foreign_digits(str(value)):
        raise _foreign_digits_error("数值")
    shown = re.sub(f"({units})$", "", text(value))
    s = _ungroup(shown, "数值", "ambiguous_number")
    if not _NUMBER.fullmatch(s):
        raise CellError("数值无法识别", value=shown, code="unreadable")
    return Decimal(s), shown


def integer(value: Any) -> int:
    """Read a whole number (a count), possibly typed as text with separators.

    A float's binary noise (3.0000000000000004) is read as the whole number it is.
    """
    number, shown = _quantity(value, "人次|人|次|学时|小时")
    if number.adjusted() > 15:  # before int(): 1e999999999 would take forever
        raise CellError("数值超出合理范围", value=shown, code="out_of_range")
    whole = _whole(number)
    if whole is None:
        raise CellError("数值应为整数", value=shown, code="not_integer")
    return int(whole)


def number(value: Any) -> float:
    """Read a non-money quantity such as training hours."""
    result = float(_quantity(value, "学时|小时|课时")[0])
    if not math.isfinite(result):
        raise CellError("数值超出合理范围", code="out_of_range")
    return result
