"""Resident ID numbers (GB 11643): one cell, or a whole column at once; 15-digit ones upgraded,
the birthplace checked against GB/T 2260 as in use at birth, numbers stored by Excel refused."""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from edureport.errors import CellError
from edureport.ingest.normalize import (
    _ID_CHECK,
    _ID_WEIGHTS,
    _arrow_text,
    _foreign_digits,
    _foreign_digits_error,
    is_blank,
    text,
)

_ID18 = re.compile("[0-9]{17}[0-9X]")
_ID15 = re.compile("[0-9]{15}")
_SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]*)?E[-+]?[0-9]+")
_ID_FORMAT = "身份证号格式错误（应为18位，或15位的一代证号）"
_ID_AS_NUMBER = (
    "身份证号被存成了数字，第15位以后的数字已丢失、无法恢复，请把该列设置为文本格式后重新导出"
)


def id_number(value: Any) -> str:
    """Check a resident ID and return it as 18 characters (GB 11643).

    18 characters: digits (the last may be X), birth date, check digit and birthplace. 15 digits
    (first generation, born 19YY): birth date and birthplace, then the standard upgrade (insert
    19, append the check digit), so that a person matches across both forms. An ID stored as an
    Excel number of 16 or more digits (or written in scientific notation) has lost its digits
    after the 15th and is refused, even when the check digit happens to pass.
    """
    if is_blank(value):
        raise CellError("身份证号为空", code="blank")
    if isinstance(value, bool):
        raise CellError(_ID_FORMAT, code="bad_format")
    if isinstance(value, numbers.Integral | float):
        return _id_from_number(value)
    if _foreign_digits(str(value)):
        raise _foreign_digits_error("身份证号")
    s = text(value).upper()
    if _SCIENTIFIC.fullmatch(s):
        raise CellError(_ID_AS_NUMBER, code="id_as_number")
    if _ID15.fullmatch(s):
        return _first_generation(s)
    if not _ID18.fullmatch(s):
        raise CellError(_ID_FORMAT, code="bad_format")
    birth = _birth_date(s[6:14])
    if id_check_digit(s[:17]) != s[17]:
        raise CellError("身份证号校验位错误", code="bad_check_digit")
    _check_area(s[:6], birth.year)
    return s


def _id_from_number(value: float) -> str:
    """An ID that Excel stored as a number: exact up to 15 digits (a first-generation ID)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise CellError(_ID_FORMAT, code="bad_format")
    if abs(value) >= 10**15:
        raise CellError(_ID_AS_NUMBER, code="id_as_number")
    if value != int(value) or not 10**14 <= value < 10**15:
        raise CellError(_ID_FORMAT, code="bad_format")
    return _first_generation(str(int(value)))


def _first_generation(s: str) -> str:
    """A 15-digit ID (area, YYMMDD born in 19YY, sequence) upgraded to 18 characters."""
    birth = _birth_date("19" + s[6:12])
    _check_area(s[:6], birth.year)
    first17 = s[:6] + "19" + s[6:]
    return first17 + id_check_digit(first17)


def _birth_date(yyyymmdd: str) -> dt.date:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise CellError("身份证号出生日期无效", code="bad_birth_date") from None


def _check_area(area: str, born: int) -> None:
    if _area_last_years()[int(area)] < born:
        raise CellError("身份证号的地区码无效", code="bad_area_code")


@cache
def _area_last_years() -> np.ndarray:
    """For each 6-digit division code (GB/T 2260), the last year it was in use (9999: still is,
    0: never), from python-stdnum's table (``stdnum/cn/loc.dat``).

    A number is assigned at birth registration or later (the first card, the move to 18 digits in
    1999), so an ID's code must have been in use in the birth year or after it. (stdnum's own
    ``get_birth_place`` asks for the birth year itself, which refuses, for instance, every
    Chongqing code 50xxxx of anyone born before 1997.)
    """
    from stdnum import numdb

    last = np.zeros(10**6, dtype=np.int16)
    for _, low, high, _, counties in numdb.get("cn/loc").prefixes:
        for province in range(int(low), int(high) + 1):
            for _, lo, hi, props, _ in counties:
                for county in range(int(lo), int(hi) + 1):
                    code = province * 10_000 + county
                    last[code] = max(last[code], _last_year(props.get("county", "")))
    return last


def _last_year(counties: str) -> int:
    """The last year of ``[1983-2002]温江县,[2002-]温江区`` (9999 when open or undated)."""
    years = 0
    for entry in counties.split(","):
        if not entry.startswith("["):
            return 9999
        end = entry[1:].split("]")[0].split("-")[1]
        years = max(years, int(end) if end else 9999)
    return years


_ID_FORMS = "[0-9]{17}[0-9Xx]|[0-9]{15}"
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_AREA_DIGITS = 10 ** np.arange(5, -1, -1, dtype=np.int32)
_YEAR_DIGITS = np.array([1000, 100, 10, 1], dtype=np.int32)


def id_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:data:`Fast` for :func:`id_number`: the well-formed IDs checked in bulk with numpy.

    Handles Arrow text of 18 ASCII digits (the last may be X) or 15 digits whose birth date,
    check digit and birthplace are right, giving what :func:`id_number` gives; everything else
    (and every reason for refusing) is left to :func:`id_number`.
    """
    if not _arrow_text(values):
        return np.zeros(len(values), dtype=bool), np.empty(0, dtype=object)
    done = np.array(values.str.fullmatch(_ID_FORMS).fillna(False), dtype=bool)
    where = np.flatnonzero(done)
    if not len(where):
        return done, np.empty(0, dtype=object)
    picked = values.iloc[where]
    ids = picked.to_numpy(dtype=object)
    short = (picked.str.len() == 15).to_numpy(dtype=bool)
    ok = np.zeros(len(ids), dtype=bool)
    for group, check in ((~short, _ids18), (short, _ids15)):
        if group.any():
            ok[group], ids[group] = check(picked[group], ids[group])
    done[where[~ok]] = False
    return done, ids[ok]


def _digits(values: pd.Series, width: int) -> np.ndarray:
    """Arrow text of ``width`` ASCII characters as an (n, width) array of codes minus '0'."""
    fixed = pa.array(values.array).cast(pa.binary(width))  # one buffer, no Python strings
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
    raw = raw[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(-1, width)
    return raw.astype(np.int32) - ord("0")


def _valid_births(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + (leap & (month == 2))
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last)


def _ids18(values: pd.Series, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = _digits(values, 18)
    year = d[:, 6:10] @ _YEAR_DIGITS
    ok = _valid_births(year, d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13])
    ok &= _area_last_years()[d[:, :6] @ _AREA_DIGITS] >= year
    check = _CHECK_CODES[(d[:, :17] @ _WEIGHTS) % 11]
    lower = d[:, 17] == ord("x") - ord("0")
    ok &= check == np.where(lower, ord("X"), d[:, 17] + ord("0"))
    if lower.any():
        ids = ids.copy()
        ids[lower] = [s.upper() for s in ids[lower]]
    return ok, ids


def _ids15(values: pd.Series, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = _digits(values, 15)
    year = 1900 + d[:, 6] * 10 + d[:, 7]
    ok = _valid_births(year, d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11])
    ok &= _area_last_years()[d[:, :6] @ _AREA_DIGITS] >= year
    first17 = np.hstack([d[:, :6], np.broadcast_to(np.int32([1, 9]), (len(d), 2)), d[:, 6:]])
    check = _CHECK_CODES[(first17 @ _WEIGHTS) % 11]
    out = [s[:6] + "19" + s[6:] + chr(c) for s, c in zip(ids.tolist(), check.tolist(), strict=True)]
    return ok, np.array(out, dtype=object)


_WEIGHTS = np.array(_ID_WEIGHTS, dtype=np.int32)
_CHECK_CODES = np.array([ord(c) for c in _ID_CHECK], dtype=np.int32)


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]
