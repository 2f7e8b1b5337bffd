import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edureport import normalize as nz
from edureport.errors import CellError

from .conftest import ID_A


@pytest.mark.parametrize(
    ("value", "unit", "fen"),
    [
        ("1,000.00", "元", 100000),
        ("１０００元", "元", 100000),
        (1000.1, "元", 100010),
        ("0.5万元", "元", 500000),
        ("12.3456", "万元", 12345600),
        (" 400 ", "元", 40000),
        (Decimal("19.17"), "元", 1917),
        (0, "元", 0),
        ("-5", "元", -500),
    ],
)
def test_amounts_become_exact_fen(value: object, unit: str, fen: int) -> None:
    assert nz.amount_to_fen(value, unit) == fen


@pytest.mark.parametrize("value", ["abc", "1.234", "", None, float("nan"), "1,0,0元x", True])
def test_unreadable_amounts_raise_cell_error(value: object) -> None:
    with pytest.raises(CellError):
        nz.amount_to_fen(value)


@pytest.mark.parametrize(
    "value",
    [
        "2022-03-05",
        "2022/3/5",
        "2022.3.5",
        "2022年3月5日",
        44625,
        "44625",
        "20220305",
        dt.datetime(2022, 3, 5, 10, 0),
        dt.date(2022, 3, 5),
        "2022-03-05 00:00:00",
    ],
)
def test_every_date_form(value: object) -> None:
    assert nz.parse_date(value) == dt.date(2022, 3, 5)


@pytest.mark.parametrize("value", ["2022-02-30", "明天", "", None, -1, "3/5/2022"])
def test_bad_dates(value: object) -> None:
    with pytest.raises(CellError):
        nz.parse_date(value)


def test_id_check_digit() -> None:
    assert nz.id_number(ID_A.lower()) == ID_A
    wrong = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    with pytest.raises(CellError, match="校验位"):
        nz.id_number(wrong)
    with pytest.raises(CellError, match="18位"):
        nz.id_number("12345")
    with pytest.raises(CellError, match="出生日期"):
        bad_birth = "51012320081301123"
        nz.id_number(bad_birth + nz.id_check_digit(bad_birth))


@pytest.mark.parametrize(
    ("kind", "value", "canonical"),
    [
        ("stage", "职中", "中等职业教育"),
        ("stage", "普高", "普通高中"),
        ("stage", "幼儿园", "学前教育"),
        ("stage", "初中", "义务教育"),
        ("employment", "编内", "在编"),
        ("programme", "免书费，免住宿费", "免书费、免住宿费"),
        ("result", "合格", "合格"),
    ],
)
def test_categories(kind: str, value: str, canonical: str) -> None:
    assert nz.category(kind, value) == canonical


def test_headers_split_unit() -> None:
    assert nz.split_header("金 额（元）") == ("金额", "元")
    assert nz.split_header("金额(万元)") == ("金额", "万元")
    assert nz.split_header("金额/元") == ("金额", "元")


any_cell = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True),
    st.booleans(),
    st.dates(),
)


@given(any_cell)
def test_amount_normaliser_returns_int_or_own_error(value: object) -> None:
    try:
        assert isinstance(nz.amount_to_fen(value), int)
    except CellError:
        pass


@given(any_cell)
def test_date_normaliser_returns_date_or_own_error(value: object) -> None:
    try:
        assert isinstance(nz.parse_date(value), dt.date)
    except CellError:
        pass


@given(st.one_of(st.text(max_size=20), st.from_regex(r"\d{17}[\dXx]", fullmatch=True)))
def test_id_normaliser_returns_valid_id_or_own_error(value: str) -> None:
    try:
        out = nz.id_number(value)
    except CellError:
        return
    assert len(out) == 18 and nz.id_check_digit(out[:17]) == out[17]
