"""Normalisers for single cells: text, headers, amounts, dates, ID numbers, categories.

Each returns a clean value or raises :class:`~edureport.errors.CellError` with a reason in Chinese.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Collection
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import CellError
from .paths import RESOURCES_DIR

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


def _arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def may_equal(values: pd.Series, targets: Collection[str]) -> np.ndarray:
    """Which cells' :func:`text` (or :func:`match_key`) might equal one of ``targets``.

    A superset, found in bulk for Arrow-backed text (other columns: every cell): a plain
    cell (see :func:`plain`) can only match if it holds a target's characters, and an ASCII
    cell's text is ASCII, so it cannot match targets that all have other characters.
    """
    if not _arrow_text(values):
        return np.ones(len(values), dtype=bool)
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


def amount_to_fen(value: Any, unit: str | None = "元") -> int:
    """Read an amount in yuan (or 万元 where the header or cell says so) as exact integer fen."""
    if is_blank(value):
        raise CellError("金额为空")
    if isinstance(value, bool):
        raise CellError(f"金额无法识别：{value}")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"金额无法识别：{value}")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        s = text(value).replace(",", "").replace("¥", "").replace("￥", "")
        if s.endswith("万元"):
            unit, s = "万元", s[:-2]
        elif s.endswith("元"):
            unit, s = "元", s[:-1]
        if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", s):
            raise CellError(f"金额无法识别：{str(value)[:40]}")
        try:
            number = Decimal(s)
        except InvalidOperation as exc:  # pragma: no cover - regex guards this
            raise CellError(f"金额无法识别：{str(value)[:40]}") from exc
    if not number.is_finite():
        raise CellError(f"金额无法识别：{str(value)[:40]}")
    fen = number * (1_000_000 if unit == "万元" else 100)
    if fen != fen.to_integral_value():
        raise CellError(f"金额超过两位小数（分）：{str(value)[:40]}")
    if abs(fen) > 10**15:
        raise CellError(f"金额超出合理范围：{str(value)[:40]}")
    return int(fen)


_DATE_FORMS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date:
    """Read a date: 2022-03-05, 2022/3/5, 2022.3.5, 2022年3月5日, a datetime or an Excel serial."""
    day = _parse_date(value)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise CellError(f"日期超出1900—2099年：{day.isoformat()}")
    return day


def _parse_date(value: Any) -> dt.date:
    if is_blank(value):
        raise CellError("日期为空")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(f"日期无法识别：{value}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    s = text(value)
    s = re.sub(r"[T ]?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", s)
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _excel_serial(float(s))
    for form in _DATE_FORMS:
        m = form.match(s)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise CellError(f"日期不存在：{s[:40]}") from exc
    raise CellError(f"日期无法识别：{str(value)[:40]}")


def _excel_serial(number: float) -> dt.date:
    if not math.isfinite(number) or not 1 <= number < 2958466:
        raise CellError(f"日期无法识别：{number}")
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


def id_number(value: Any) -> str:
    """Check an 18-character resident ID (GB 11643): digits, birth date and check digit."""
    s = text(value).upper()
    if not s:
        raise CellError("身份证号为空")
    if not re.fullmatch(r"\d{17}[\dX]", s):
        raise CellError("身份证号格式错误（应为18位）")
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError as exc:
        raise CellError("身份证号出生日期无效") from exc
    total = sum(int(d) * w for d, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != s[17]:
        raise CellError("身份证号校验位错误")
    return s


_ID_FORM = re.compile("[0-9]{17}[0-9Xx]")
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def id_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:data:`Fast` for :func:`id_number`: the well-formed IDs checked in bulk with numpy.

    Handles IDs of exactly 18 ASCII digits (the last may be X) whose birth date exists and whose
    check digit is right; everything else (and every reason for refusing) is left to
    :func:`id_number`.
    """
    done = plain(values)
    if not done.any():
        return done, np.empty(0, dtype=object)
    done &= values.str.fullmatch(_ID_FORM.pattern).fillna(False).to_numpy(dtype=bool)
    ids = values[done].str.upper().to_numpy(dtype=object)
    if not len(ids):
        return done, ids
    d = np.frombuffer("".join(ids).encode("ascii"), dtype=np.uint8).reshape(-1, 18).astype(np.int64)
    d -= ord("0")
    year = d[:, 6] * 1000 + d[:, 7] * 100 + d[:, 8] * 10 + d[:, 9]
    month = d[:, 10] * 10 + d[:, 11]
    day = d[:, 12] * 10 + d[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok_month = (month >= 1) & (month <= 12)
    last = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + (leap & (month == 2))
    ok = (year >= 1) & ok_month & (day >= 1) & (day <= last)
    check = np.array([ord(c) for c in _ID_CHECK])[(d[:, :17] @ np.array(_ID_WEIGHTS)) % 11]
    ok &= check == d[:, 17] + ord("0")
    where = np.flatnonzero(done)
    done[where[~ok]] = False
    return done, ids[ok]


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


@cache
def _category_index(kind: str) -> dict[str, str]:
    table = synonyms()["values"][kind]
    index: dict[str, str] = {}
    for canonical, variants in table.items():
        for name in [canonical, *(variants or [])]:
            index[match_key(name)] = canonical
    return index


def category(kind: str, value: Any) -> str:
    """Map a category cell (stage, programme, employment …) to its canonical name."""
    key = match_key(value)
    if not key:
        raise CellError(f"{_KIND_ZH.get(kind, kind)}为空")
    try:
        return _category_index(kind)[key]
    except KeyError:
        raise CellError(f"{_KIND_ZH.get(kind, kind)}无法识别：{text(value)[:40]}") from None


_KIND_ZH = {
    "stage": "学段",
    "programme": "资助项目",
    "registered_poor": "是否建档立卡",
    "employment": "用工性质",
    "role": "身份",
    "kind": "交流类型",
    "inst_type": "机构类型",
    "result": "检查结论",
    "gender": "性别",
}


def integer(value: Any) -> int:
    """Read a whole number (a count), possibly typed as text with separators."""
    if is_blank(value):
        raise CellError("数值为空")
    s = text(value).replace(",", "")
    s = re.sub(r"(人次|人|次|学时|小时)$", "", s)
    try:
        number = Decimal(s)
    except InvalidOperation:
        raise CellError(f"数值无法识别：{str(value)[:40]}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(f"数值应为整数：{str(value)[:40]}")
    if number.adjusted() > 15:  # before int(): 1e999999999 would take forever
        raise CellError(f"数值超出合理范围：{str(value)[:40]}")
    return int(number)


def number(value: Any) -> float:
    """Read a non-money quantity such as training hours."""
    if is_blank(value):
        raise CellError("数值为空")
    s = re.sub(r"(学时|小时|课时)$", "", text(value).replace(",", ""))
    try:
        result = float(Decimal(s))
    except (InvalidOperation, ValueError):
        raise CellError(f"数值无法识别：{str(value)[:40]}") from None
    if not math.isfinite(result):
        raise CellError(f"数值无法识别：{str(value)[:40]}")
    return result
