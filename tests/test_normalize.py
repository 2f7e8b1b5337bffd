import datetime as dt
import pickle
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edureport.errors import CellError
from edureport.ingest import ids as id_cells
from edureport.ingest import normalize as nz

ARROW_STR = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def make_id(first17: str) -> str:
    return first17 + id_cells.id_check_digit(first17)


ID_BJ = make_id("11010520080101123")  # Beijing Chaoyang (110105), a code in use since 1980
NAME = "欧阳晓明"


def refusal(fn, *args, **kwargs) -> CellError:
    with pytest.raises(CellError) as err:
        fn(*args, **kwargs)
    return err.value


# ---------------------------------------------------------------- CellError


def test_cell_error_keeps_only_a_safe_value() -> None:
    err = CellError("金额无法识别", value="1,00", code="ambiguous_amount")
    assert (err.reason, err.value, err.code, str(err)) == (
        "金额无法识别",
        "1,00",
        "ambiguous_amount",
        "金额无法识别",
    )
    assert CellError("日期无法识别").value is None and CellError("x").code is None
    for unsafe in (NAME, "2022-08-25欧阳", "abc", ID_BJ, "410102-19900101-1234", "13812345678"):
        assert CellError("r", value=unsafe).value is None, unsafe
    again = pickle.loads(pickle.dumps(err))
    assert (again.reason, again.value, again.code) == (err.reason, err.value, err.code)


# ---------------------------------------------------------------- amounts


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
        (1180.0000000000002, "元", 118000),  # binary noise of an Excel formula
        (19.169999999999998, "万元", 19170000),
        (0.1 + 0.2, "元", 30),
        ("1180.0000000000002", "元", 118000),
        ("-1,234,567.5元", "元", -123456750),
        ("¥1,000", "元", 100000),
        ("-¥1,000.00", "元", -100000),
        ("+1,000万元", "元", 1000000000),
        ("１，０００．００", "元", 100000),  # full-width digits and comma
        (10**13, "元", 10**15),
    ],
)
def test_amounts_become_exact_fen(value: object, unit: str, fen: int) -> None:
    assert nz.amount_to_fen(value, unit) == fen


@pytest.mark.parametrize("value", ["abc", "1.234", "", None, float("nan"), "1,0,0元x", True])
def test_unreadable_amounts_raise_cell_error(value: object) -> None:
    with pytest.raises(CellError):
        nz.amount_to_fen(value)


@pytest.mark.parametrize(
    ("value", "code", "shown"),
    [
        (1.005, "sub_fen", "1.005"),
        ("1.005", "sub_fen", "1.005"),
        (1180.00001, "sub_fen", "1180.00001"),
        ("1,00", "ambiguous_amount", "1,00"),
        ("1.000,00", "ambiguous_amount", "1.000,00"),
        ("1,0,0", "ambiguous_amount", "1,0,0"),
        ("1,0000元", "ambiguous_amount", "1,0000"),
        ("12,34万元", "ambiguous_amount", "12,34"),
        ("١٠٠", "non_ascii_digits", None),  # Arabic-Indic: Decimal() would read 100
        ("१००", "non_ascii_digits", None),  # Devanagari
        ("1²", "non_ascii_digits", None),  # NFKC would make 12 of it
        ("①00", "non_ascii_digits", None),
        (10**13 + 1, "out_of_range", None),  # 14 digits in a row: not shown
        ("123,456,789,012万元", "out_of_range", "123,456,789,012"),
        ("1e5", "unreadable", None),
        ("一千元", "unreadable", None),
    ],
)
def test_amounts_refused_with_code_and_safe_value(value: object, code: str, shown: str) -> None:
    err = refusal(nz.amount_to_fen, value)
    assert (err.code, err.value) == (code, shown)
    assert str(value) not in err.reason


def test_amount_reasons_are_fixed_text() -> None:
    assert refusal(nz.amount_to_fen, "1,00").reason == "金额的千位分隔符位置不对，无法确定数值"
    assert refusal(nz.amount_to_fen, 1.005).reason == "金额超过两位小数（分）"
    assert refusal(nz.amount_to_fen, "٣").reason == "金额含有其他文字的数字（只认0-9）"


# ---------------------------------------------------------------- counts and quantities


def test_integers_and_numbers() -> None:
    assert nz.integer(3.0000000000000004) == 3
    assert nz.integer(2.9999999999999996) == 3
    assert nz.integer("1,234人次") == 1234
    assert nz.integer("１２人") == 12
    assert nz.number("1,234.5学时") == 1234.5
    assert nz.number(2.5) == 2.5
    assert refusal(nz.integer, 3.5).code == "not_integer"
    assert refusal(nz.integer, 3.001).code == "not_integer"
    for fn in (nz.integer, nz.number):
        err = refusal(fn, "1,00")
        assert (err.code, err.value) == ("ambiguous_number", "1,00")
        assert refusal(fn, "٣").code == "non_ascii_digits"
        assert refusal(fn, "3人x").code == "unreadable"
        assert refusal(fn, "").code == "blank"
    assert refusal(nz.integer, "1e20").code == "out_of_range"


# ---------------------------------------------------------------- dates


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
        20220305,  # typed into Excel as a number
        20220305.0,
        dt.datetime(2022, 3, 5, 10, 0),
        dt.date(2022, 3, 5),
        "2022-03-05 00:00:00",
        "２０２２年３月５日",
    ],
)
def test_every_date_form(value: object) -> None:
    assert nz.parse_date(value) == dt.date(2022, 3, 5)


@pytest.mark.parametrize("value", ["2022-02-30", "明天", "", None, -1, "3/5/2022"])
def test_bad_dates(value: object) -> None:
    with pytest.raises(CellError):
        nz.parse_date(value)


def test_dates_typed_as_numbers() -> None:
    assert nz.parse_date(19000101) == dt.date(1900, 1, 1)
    assert nz.parse_date(20991231) == dt.date(2099, 12, 31)
    assert refusal(nz.parse_date, 2958465).code == "out_of_range"  # a serial: 9999-12-31
    err = refusal(nz.parse_date, 20241345)
    assert (err.code, err.value) == ("no_such_date", "20241345")
    assert refusal(nz.parse_date, 20240315.5).code == "unreadable"
    assert refusal(nz.parse_date, 30000101).code == "unreadable"
    assert refusal(nz.parse_date, 18991231).code == "unreadable"  # not YYYYMMDD in 1900-2099
    assert nz.parse_date(45366) == dt.date(2024, 3, 15)  # smaller numbers stay serials


@pytest.mark.parametrize("value", ["2024年5月", "2024-05", "2024/5", "2024.05", "2024年05月份"])
def test_month_only_dates(value: str) -> None:
    assert nz.parse_date(value, month_ok=True) == dt.date(2024, 5, 1)
    err = refusal(nz.parse_date, value)
    assert err.code == "month_only" and "年和月" in err.reason
    assert err.value in ("2024-5", "2024-05")
    assert refusal(nz.parse_date, "2024年13月", month_ok=True).code == "no_such_date"


def test_date_refusals_show_only_the_date_like_part() -> None:
    err = refusal(nz.parse_date, f"2022-08-25；{NAME}代签")
    assert (err.code, err.value) == ("extra_text", "2022-08-25")
    assert NAME not in err.reason
    err = refusal(nz.parse_date, f"{NAME}2022年8月25日")
    assert (err.code, err.value) == ("extra_text", "2022-8-25")
    err = refusal(nz.parse_date, "2022年2月30日")
    assert (err.code, err.value, err.reason) == ("no_such_date", "2022-2-30", "日期不存在")
    err = refusal(nz.parse_date, "1899-12-31")
    assert (err.code, err.value) == ("out_of_range", "1899-12-31")
    assert refusal(nz.parse_date, ID_BJ).value is None  # no birth date cut out of an ID
    assert refusal(nz.parse_date, "٢٠٢٢-٠٣-٠٥").code == "non_ascii_digits"


@pytest.mark.parametrize(
    "value", ["长期", "永久", "长期有效", "无固定期限", " 长 期 ", "长期\n有效"]
)
def test_expiry_without_end(value: str) -> None:
    assert nz.expiry_date(value) == nz.LAST_DATE == dt.date(2099, 12, 31)


def test_expiry_dates_otherwise_like_parse_date() -> None:
    assert nz.expiry_date("2027-06-30") == dt.date(2027, 6, 30)
    assert nz.expiry_date("2027年6月", month_ok=True) == dt.date(2027, 6, 1)
    assert refusal(nz.expiry_date, "短期").code == "unreadable"
    assert refusal(nz.expiry_date, None).code == "blank"


# ---------------------------------------------------------------- none in identifier columns


@pytest.mark.parametrize(
    "value", ["无", "/", "—", "－", "-", "暂无", "没有", "未取得", " 无 ", "／", "——", "", None]
)
def test_no_value(value: object) -> None:
    assert nz.no_value(value)


@pytest.mark.parametrize("value", ["教民1101051234567号", "0", "无锡", "A-1", 12])
def test_a_value(value: object) -> None:
    assert not nz.no_value(value)


# ---------------------------------------------------------------- resident IDs


def test_id_check_digit() -> None:
    assert id_cells.id_number(ID_BJ.lower()) == ID_BJ
    wrong = ID_BJ[:-1] + ("0" if ID_BJ[-1] != "0" else "1")
    assert refusal(id_cells.id_number, wrong).code == "bad_check_digit"
    with pytest.raises(CellError, match="校验位"):
        id_cells.id_number(wrong)
    with pytest.raises(CellError, match="18位"):
        id_cells.id_number("12345")
    with pytest.raises(CellError, match="出生日期"):
        id_cells.id_number(make_id("11010520081301123"))
    assert id_cells.id_number("１１０１０５２００８０１０１１２３" + ID_BJ[-1]) == ID_BJ
    assert refusal(id_cells.id_number, "١١٠١٠٥٢٠٠٨٠١٠١١٢٣" + ID_BJ[-1]).code == "non_ascii_digits"


def test_ids_stored_as_numbers_lost_digits() -> None:
    exact = "110105199001010176"  # valid, and even exactly a float: refused all the same
    assert id_cells.id_number(exact) == exact and float(int(exact)) == int(exact)
    for cell in (
        int(exact),
        float(exact),
        4.10102199001011e17,
        "4.10102E+17",
        "4.10102199001011e+17",
        "4.1E+14",
    ):
        err = refusal(id_cells.id_number, cell)
        assert err.code == "id_as_number" and err.value is None
        assert "文本格式" in err.reason and "15" in err.reason
        assert exact not in err.reason


def test_first_generation_ids_are_upgraded() -> None:
    first = "110105900101123"  # born 1990-01-01
    full = make_id("11010519900101123")
    assert id_cells.id_number(first) == full
    assert id_cells.id_number(int(first)) == full  # 15 digits: Excel keeps them all
    assert id_cells.id_number(float(first)) == full
    assert id_cells.id_number(" １１０１０５９００１０１１２３ ") == full
    assert refusal(id_cells.id_number, "110105901301123").code == "bad_birth_date"
    assert refusal(id_cells.id_number, "990426900101123").code == "bad_area_code"
    assert refusal(id_cells.id_number, 99042690010112).code == "bad_format"  # 14 digits


def test_birthplace() -> None:
    err = refusal(id_cells.id_number, make_id("99042619900101123"))
    assert (err.code, err.reason) == ("bad_area_code", "身份证号的地区码无效")
    # 110103 (崇文区) was merged away in 2010: fine for someone born before, not after
    assert id_cells.id_number(make_id("11010320050101123"))
    assert refusal(id_cells.id_number, make_id("11010320150101123")).code == "bad_area_code"
    # 500103 (渝中区) dates from 1997; people born before got such numbers later on
    assert id_cells.id_number(make_id("50010319850101123"))
    assert refusal(id_cells.id_number, make_id("43994620080101123")).code == "bad_area_code"


def valid_ids() -> st.SearchStrategy[str]:
    """Valid 18- and 15-character IDs with area codes from the GB/T 2260 table."""
    table = id_cells._area_last_years()
    codes = np.flatnonzero(table).tolist()

    def build(code: int, born: dt.date, seq: int, old: bool) -> str:
        if old:
            return f"{code:06d}{born:%y%m%d}{seq:03d}"
        return make_id(f"{code:06d}{born:%Y%m%d}{seq:03d}")

    return st.builds(
        build,
        st.sampled_from(codes),
        st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
        st.integers(0, 999),
        st.booleans(),
    ).filter(lambda s: table[int(s[:6])] >= (1900 + int(s[6:8]) if len(s) == 15 else int(s[6:10])))


def changed(s: str, how: int, at: int) -> str:
    at %= len(s)
    return [
        s,
        s.lower(),
        s[:at] + s[at + 1 :],
        s[:at] + "0" + s[at + 1 :],
        s[:at] + str((int(s[at]) + 1) % 10 if s[at].isdigit() else 1) + s[at + 1 :],
        s[:at] + " " + s[at:],
        "٣" + s[1:],
        f"{s[0]}.{s[1:15]}E+17",
    ][how]


def scalar_id(value: str) -> str | None:
    try:
        return id_cells.id_number(value)
    except CellError:
        return None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.builds(changed, valid_ids(), st.integers(0, 7), st.integers(0, 17)), max_size=30)
)
def test_fast_ids_equal_careful_ids(values: list[str]) -> None:
    done, results = id_cells.id_numbers(pd.Series(values, dtype=ARROW_STR))
    cells = np.asarray(values, dtype=object)
    assert [scalar_id(v) for v in cells[done]] == list(results)
    for value in cells[~done]:  # declined: valid only if not plain ASCII
        assert scalar_id(value) is None or nz.text(value).upper() != value.upper()


def test_fast_ids_take_both_generations() -> None:
    ids = [ID_BJ, ID_BJ.lower().replace("X", "x"), "110105900101123", "11010590010112", "x"]
    done, results = id_cells.id_numbers(pd.Series(ids, dtype=ARROW_STR))
    assert done.tolist() == [True, True, True, False, False]
    assert list(results) == [ID_BJ, ID_BJ, make_id("11010519900101123")]
    lower_x = make_id("11010519491231002")
    assert lower_x.endswith("X")
    done, results = id_cells.id_numbers(pd.Series([lower_x.lower()], dtype=ARROW_STR))
    assert done.all() and list(results) == [lower_x]
    object_column = pd.Series([ID_BJ], dtype=object)  # not Arrow text: left to id_number
    assert not id_cells.id_numbers(object_column)[0].any()


# ---------------------------------------------------------------- categories


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


def test_category_reasons_list_the_values_not_the_cell() -> None:
    err = refusal(nz.category, "stage", "大学")
    assert err.reason == "学段无法识别（应为：学前教育、义务教育、普通高中、中等职业教育）"
    assert (err.code, err.value) == ("unknown_category", None)
    assert refusal(nz.category, "stage", " ").reason == "学段为空"
    # programme names hold 、 themselves: the list is split by ／
    assert "免学费／免书费、免住宿费" in refusal(nz.category, "programme", "大学").reason


def test_headers_split_unit() -> None:
    assert nz.split_header("金 额（元）") == ("金额", "元")
    assert nz.split_header("金额(万元)") == ("金额", "万元")
    assert nz.split_header("金额/元") == ("金额", "元")


# ---------------------------------------------------------------- no personal data in refusals

OLD_ID = "110105900101123"
PLANTED = [
    NAME,
    f"{NAME}代签",
    f"2022-08-25；{NAME}代签",
    f"2022年8月25日{NAME}",
    f"1000元{NAME}",
    f"1,000.00（{NAME}）",
    f"12人{NAME}",
    f"{NAME}{ID_BJ}",
    ID_BJ,
    ID_BJ + "0",
    ID_BJ[:14],
    OLD_ID + "9",
    f"{ID_BJ}元",
    f"{ID_BJ}人",
    f"{ID_BJ[:6]}-{ID_BJ[6:14]}",
    f"{ID_BJ[:6]},{ID_BJ[6:9]},{ID_BJ[9:12]}",
    f"2022-08-25 {ID_BJ}",
    f"学段：{NAME}",
    "13812345678",
    "6222021234567890123",
    int(ID_BJ[:-1]),
    float(ID_BJ[:-1]),
]
KINDS = {
    "date": nz.parse_date,
    "expiry": nz.expiry_date,
    "amount": nz.amount_to_fen,
    "amount_wan": lambda v: nz.amount_to_fen(v, "万元"),
    "integer": nz.integer,
    "number": nz.number,
    "category": lambda v: nz.category("stage", v),
    "programme": lambda v: nz.category("programme", v),
    "id": id_cells.id_number,
}
SECRETS = [NAME, "欧阳", ID_BJ, ID_BJ[:14], ID_BJ[6:14], OLD_ID, "13812345678", "622202"]


def assert_no_personal_data(err: CellError) -> None:
    for part in (err.reason, err.value or ""):
        for secret in SECRETS:
            assert secret not in part, (secret, part)
        assert not re.search(r"[0-9]{11}", part), part
    if err.value is not None:
        assert re.fullmatch(r"[0-9.,:/+\-]+", err.value), err.value


@pytest.mark.parametrize("kind", KINDS)
def test_refusals_carry_no_name_or_id(kind: str) -> None:
    refused = 0
    for cell in PLANTED:
        try:
            KINDS[kind](cell)
        except CellError as err:
            refused += 1
            assert_no_personal_data(err)
    assert refused >= len(PLANTED) // 2, kind


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(KINDS)),
    st.text(
        alphabet=st.sampled_from([*"0123456789.,-/年月日元万人:", NAME[0], "Z", "٣"]), max_size=30
    ),
)
def test_any_refusal_value_is_safe(kind: str, cell: str) -> None:
    try:
        KINDS[kind](cell)
    except CellError as err:
        assert "欧" not in err.reason + (err.value or "")
        if err.value is not None:
            assert re.fullmatch(r"[0-9.,:/+\-]{1,32}", err.value)
            assert not re.search(r"[0-9]{11}", err.value)
        assert err.code


# ---------------------------------------------------------------- any cell: a value or own error

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
def test_count_normalisers_return_numbers_or_own_error(value: object) -> None:
    for fn, kind in ((nz.integer, int), (nz.number, float)):
        try:
            assert isinstance(fn(value), kind)
        except CellError:
            pass


@given(any_cell, st.booleans())
def test_date_normaliser_returns_date_or_own_error(value: object, month_ok: bool) -> None:
    try:
        assert isinstance(nz.parse_date(value, month_ok=month_ok), dt.date)
    except CellError:
        pass


@given(st.one_of(st.text(max_size=20), st.from_regex(r"\d{17}[\dXx]|\d{15}", fullmatch=True)))
def test_id_normaliser_returns_valid_id_or_own_error(value: str) -> None:
    try:
        out = id_cells.id_number(value)
    except CellError:
        return
    assert re.fullmatch("[0-9]{17}[0-9X]", out) and id_cells.id_check_digit(out[:17]) == out[17]
