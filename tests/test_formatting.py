from decimal import Decimal

import pytest

from edureport.report.formatting import change_text, money_text, percent, rounding_note, wan_yuan


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (11346453_00, "1134.65"),
        (1916510_0, "19.17"),
        (229700000, "229.70"),
        (500, "0.00"),
        (5000, "0.01"),
        (4999, "0.00"),
        (15000, "0.02"),
        (25000, "0.03"),
    ],  # half-up, not banker's
)
def test_wan_yuan_half_up(fen: int, shown: str) -> None:
    assert str(wan_yuan(fen)) == shown


def test_money_text() -> None:
    assert money_text(113464530_0) == "1134.65万元"


def test_rounding_note_only_where_parts_differ() -> None:
    parts = [19165100, 110115100, 229700000, 84265100, 79900000, 602900000, 8600000]
    assert sum(parts) == 1134645300
    note = rounding_note(parts, sum(parts))
    assert note and "四舍五入" in note and "1134.66" in note and "1134.65" in note
    assert "99.9%" in note  # the shares 1.7 + 9.7 + … + 0.8 shown in the table
    assert rounding_note([1000000, 3000000], 4000000) is None
    share_only = rounding_note([1000000, 1000000, 1000000], 3000000)
    assert share_only and "99.9%" in share_only and "万元" not in share_only.split("；")[1]


def test_change_text() -> None:
    assert change_text(110, 100, "人") == "比上年增加10人，增长10.0%"
    assert change_text(90, 100, "人") == "比上年减少10人，下降10.0%"
    assert change_text(100, 100, "人") == "与上年持平"
    assert change_text(2_000_000, 1_000_000, "万元", money=True) == "比上年增加1.00万元，增长100.0%"
    assert change_text(5, 0, "所") == "比上年增加5所"


def test_percent() -> None:
    assert percent(1, 3) == Decimal("33.3")
    assert percent(1, 0) is None
