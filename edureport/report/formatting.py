"""Chinese statistical display conventions: 万元 half-up, units, changes on last year."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 元 = 1,000,000 分


def wan_yuan(fen: int) -> Decimal:
    """Exact fen -> 万元 rounded once, half-up (四舍五入), to two decimals."""
    return (Decimal(int(fen)) / FEN_PER_WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money_text(fen: int) -> str:
    """Display an amount as ``1134.65万元``."""
    return f"{wan_yuan(fen)}万元"


def count_text(n: int, unit: str) -> str:
    """Display a count with its unit, e.g. ``12837人次``."""
    return f"{int(n)}{unit}"


def percent(part: int, whole: int, places: int = 1) -> Decimal | None:
    """``part / whole`` as a percentage rounded half-up, or None when ``whole`` is zero."""
    if not whole:
        return None
    q = Decimal(10) ** -places
    return (Decimal(int(part)) * 100 / Decimal(int(whole))).quantize(q, rounding=ROUND_HALF_UP)


def change_text(current: int, previous: int, unit: str, money: bool = False) -> str:
    """``比上年增加12.30万元，增长1.2%`` (or 减少 / 持平) from exact current and previous values."""
    diff = int(current) - int(previous)
    if diff == 0:
        return "与上年持平"
    word, grow = ("增加", "增长") if diff > 0 else ("减少", "下降")
    amount = money_text(abs(diff)) if money else count_text(abs(diff), unit)
    pct = percent(abs(diff), previous)
    return f"比上年{word}{amount}" + (f"，{grow}{pct}%" if pct is not None else "")


def rounding_note(parts_fen: list[int], total_fen: int) -> str | None:
    """The 因四舍五入 note, only where the displayed parts do not add up to the displayed totals
    (the amounts in 万元, and their shares in per cent)."""
    notes = []
    shown = sum(wan_yuan(p) for p in parts_fen)
    total = wan_yuan(total_fen)
    if shown != total:
        notes.append(f"分项金额之和（{shown}万元）与合计（{total}万元）")
    shares = [percent(p, total_fen) for p in parts_fen]
    if total_fen and sum(s for s in shares if s is not None) != 100:
        notes.append(f"各项占比之和（{sum(s for s in shares if s is not None)}%）与100%")
    if not notes:
        return None
    return (
        "注：金额按四舍五入保留两位小数，占比保留一位小数；"
        + "、".join(notes)
        + "的差异系四舍五入所致，合计以精确金额计算。"
    )
