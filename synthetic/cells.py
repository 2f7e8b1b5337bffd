"""How offices write cells: dates, amounts, short names, full-width digits."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Any

from synthetic.aid import AidRecord

# ------------------------------------------------------------------ cell rendering


def _fmt_yuan(fen: int, thousands: bool = False) -> str:
    """Exact yuan text with two decimals, e.g. 100000 -> '1000.00' or '1,000.00'."""
    sign, fen = ("-" if fen < 0 else ""), abs(fen)
    yuan, cents = divmod(fen, 100)
    return f"{sign}{yuan:,}.{cents:02d}" if thousands else f"{sign}{yuan}.{cents:02d}"


def _short_yuan(fen: int) -> str:
    """Yuan as a clerk types it: '1000' or '417.53'."""
    yuan, cents = divmod(fen, 100)
    return str(yuan) if cents == 0 else f"{yuan}.{cents:02d}"


def _number(fen: int) -> int | float:
    """An amount as an Excel number: int when whole yuan, else a two-decimal float."""
    return fen // 100 if fen % 100 == 0 else fen / 100


_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def _date_text(day: date, form: int) -> str:
    return (
        f"{day:%Y-%m-%d}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    )[form]


def _excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


_STAGE_SHORT_XLSX = {
    "中等职业教育": (("中职", 0.08), ("职中", 0.04)),
    "普通高中": (("普高", 0.08),),
    "学前教育": (("学前", 0.10),),
}
_STAGE_SHORT_CSV = {
    "中等职业教育": (("职业高中", 0.06),),
    "普通高中": (("高中", 0.06),),
    "学前教育": (("幼儿园", 0.08),),
    "义务教育": (("义务", 0.05),),
}


def _stage_text(rng: random.Random, stage: str, table: dict[str, Any]) -> str:
    r = rng.random()
    for short, p in table.get(stage, ()):
        if r < p:
            return short
        r -= p
    return stage


def _amount_cell(rng: random.Random, fen: int, as_csv: bool) -> Any:
    r = rng.random()
    if r < 0.05:
        return _fmt_yuan(fen, thousands=True)
    if r < 0.08:
        return _short_yuan(fen) + "元"
    if r < 0.13:
        return _short_yuan(fen)
    if r < 0.135:
        return _fullwidth(_short_yuan(fen))
    return _fmt_yuan(fen) if as_csv else _number(fen)


def _date_cell(rng: random.Random, day: date, as_csv: bool) -> Any:
    r = rng.random()
    if r < 0.16:
        return _date_text(day, int(r / 0.04))
    if as_csv and r < 0.2:
        return str(_excel_serial(day))
    return _date_text(day, 0) if as_csv else day


def _school_cell(rng: random.Random, school: str) -> str:
    r = rng.random()
    if r < 0.001:
        return " " + school
    if r < 0.002:
        return school + " "
    if r < 0.0025:
        return school + "\n"
    return school


def _aid_cells(rng: random.Random, r: AidRecord, serial: int, style: str) -> list[Any]:
    """The cells of one aid row; bad rows are written plainly so only their mistake shows."""
    as_text = style != "messy_xlsx"  # a CSV holds text only
    school, stage, id_no = r.school, r.stage, r.id_no
    if style == "canonical" or r.bad:
        amount = _fmt_yuan(r.amount_fen) if as_text else _number(r.amount_fen)
        paid = _date_text(r.paid_on, 0) if as_text else r.paid_on
    else:
        stage = _stage_text(rng, r.stage, _STAGE_SHORT_CSV if as_text else _STAGE_SHORT_XLSX)
        amount = _amount_cell(rng, r.amount_fen, as_text)
        paid = _date_cell(rng, r.paid_on, as_text)
        if not as_text:
            school = _school_cell(rng, r.school)
        if rng.random() < 0.001:
            id_no = _fullwidth(id_no)
    return [
        serial,
        school,
        stage,
        r.programme,
        r.name,
        id_no,
        "是" if r.poor else "否",
        r.term,
        amount,
        paid,
    ]


def _aid_rows(rng: random.Random, records: Sequence[AidRecord], style: str) -> list[list[Any]]:
    """All data rows; a duplicate repeats its host's cells exactly (序号 included)."""
    rows: list[list[Any]] = []
    serial = 0
    for r in records:
        if r.bad == "duplicate":
            rows.append(list(rows[-1]))
            continue
        serial += 1
        rows.append(_aid_cells(rng, r, serial, style))
    return rows
