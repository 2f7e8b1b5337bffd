"""The bulk shortcuts give what the careful, one-value-at-a-time code gives, or step aside.

Large ledgers (bench B2) are read by Arrow and normalised per column; small and odd ones take the
careful path. Each shortcut here is checked against that path on generated input: it may decline
a case, never answer it differently.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edureport.errors import CellError, InputError
from edureport.ingest import ids as id_cells
from edureport.ingest import ledgers, normalize, pseudonym, readers
from edureport.ingest.clean import MAX_CELL_CHARS, clean_ledger
from edureport.ingest.readers import delimited

from .conftest import AID_HEADER, make_id

EXAMPLES = int(os.environ.get("EDUREPORT_FUZZ_EXAMPLES", "15")) * 20
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
ARROW_STR = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def careful_csv(data: bytes) -> pd.DataFrame | None:
    """What ``readers`` reads when the fast path declines: the C reader (None: it refuses)."""
    content = data.decode("utf-8-sig")
    head = itertools.islice(delimited._csv_reader(content, strict=False), delimited.HEAD_ROWS)
    return delimited._read_c(content, max((len(r) for r in head), default=1))


CSV_PIECES = [*'a1中,",\n\r \t', "\r\n", '""', "\u3000", "x"]


@SETTINGS
@given(st.lists(st.sampled_from(CSV_PIECES), min_size=1, max_size=60).map("".join), st.booleans())
def test_arrow_csv_reads_what_the_c_reader_reads(content: str, bom: bool) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + content.encode()
    fast = delimited._read_utf8_table(data)
    if fast is None:
        return
    careful = careful_csv(data)
    assert careful is not None, f"the fast path read what the C reader refuses: {content!r}"
    pd.testing.assert_frame_equal(fast, careful)


def test_arrow_csv_declines_what_it_cannot_judge() -> None:
    for data in (b'a,"b\n1,2\n', b"a,b\r1,2\r", b"a,b\n1,2,3\n", b"a\x00,b\n", b"\xff\xfe,a\n"):
        assert delimited._read_utf8_table(data) is None, data
    assert delimited._read_utf8_table(" \u3000\n".encode()) is None  # white space only
    grid = delimited._read_utf8_table("序号,金额\n1,100\n\n2,200\n".encode())
    assert grid is not None and grid.shape == (4, 2) and grid.iloc[2].tolist() == ["", ""]


TEXT = st.text(
    alphabet=st.sampled_from(list("张三·ＡBc1２ 　\t-（）X中㐀\u2f00\uf900é\u0301,")), max_size=12
)


@SETTINGS
@given(st.lists(TEXT, min_size=1, max_size=30))
def test_plain_texts_equal_text(values: list[str]) -> None:
    series = pd.Series(values, dtype=ARROW_STR)
    done, results = normalize.plain_texts(series, max_chars=MAX_CELL_CHARS)
    assert len(results) == done.sum()
    for value, result in zip(np.asarray(values, dtype=object)[done], results, strict=True):
        assert normalize.text(value) == value == result


def some_ids() -> st.SearchStrategy[str]:
    """Valid IDs, and IDs one change away from valid: date, check digit, width, case, digits."""
    valid = st.builds(
        lambda area, year, month, day, seq: make_id(
            f"{area:06d}{year:04d}{month:02d}{day:02d}{seq:03d}"
        ),
        st.integers(0, 999999),
        st.sampled_from([0, 1, 1900, 1999, 2000, 2004, 2022, 2100, 9999]),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 999),
    )

    def change(s: str, how: int, at: int) -> str:
        at %= len(s)
        return [
            s,
            s.lower(),
            s[:at] + s[at + 1 :],
            s[:at] + "０" + s[at + 1 :],
            s[:at] + " " + s[at:],
            s[:-1] + ("X" if s[-1] != "X" else "0"),
            s[:at] + str((int(s[at]) + 1) % 10 if s[at].isdigit() else 1) + s[at + 1 :],
        ][how]

    return st.builds(change, valid, st.integers(0, 6), st.integers(0, 17))


def scalar_id(value: str) -> str | None:
    try:
        return id_cells.id_number(value)
    except CellError:
        return None


@SETTINGS
@given(st.lists(some_ids(), min_size=1, max_size=40))
def test_id_numbers_equal_id_number(values: list[str]) -> None:
    series = pd.Series(values, dtype=ARROW_STR)
    done, results = id_cells.id_numbers(series)
    handled = np.asarray(values, dtype=object)[done]
    assert [scalar_id(v) for v in handled] == list(results)
    for value in np.asarray(values, dtype=object)[~done]:  # declined: valid only if not plain
        if scalar_id(value) is not None:
            assert normalize.text(value) != value


def test_id_numbers_take_the_usual_ids_in_bulk() -> None:
    ids = [make_id(f"51010720{y:02d}0229123") for y in (0, 4, 8)] + [make_id("11010519491231002")]
    done, results = id_cells.id_numbers(pd.Series(ids, dtype=ARROW_STR))
    assert done.all() and list(results) == ids
    leap_day_1900 = make_id("11010519000229002")  # 1900 was no leap year
    assert not id_cells.id_numbers(pd.Series([leap_day_1900], dtype=ARROW_STR))[0].any()


ROW_PIECES = ["合计", "合 计", "总计：", "小計", "序号", "学段", "\u3000", "", "1", "ＡＢ", "x"]


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.just("data"),
            st.just("header"),
            st.lists(st.sampled_from(ROW_PIECES), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_row_kinds_same_for_arrow_and_object_grids(tmp_path_factory, rows: list) -> None:
    lines = [AID_HEADER]
    for i, row in enumerate(rows):
        if row == "data":
            lines.append(
                [
                    str(i),
                    "一中",
                    "普通高中",
                    "国家助学金",
                    "王五",
                    make_id("51010720080101123"),
                    "否",
                    "2022年春季学期",
                    "1000",
                    "2022-03-01",
                ]
            )
        elif row == "header":
            lines.append(list(AID_HEADER))
        else:
            lines.append(row + [""] * (len(AID_HEADER) - len(row)))
    path = tmp_path_factory.mktemp("kinds") / "资助发放台账.csv"
    path.write_text("\n".join(",".join(r) for r in lines) + "\n", encoding="utf-8")
    outcomes = []
    for as_object in (False, True):
        sheets = readers.read_sheets(path)
        if as_object:
            sheets = [readers.Sheet(s.name, s.grid.astype(object), s.uncomputed) for s in sheets]
        try:
            raw = ledgers._pick_sheets("aid", path, sheets)
        except InputError as exc:
            outcomes.append(("error", str(exc)))
            continue
        cleaned, aside = clean_ledger(raw, 2022)
        outcomes.append(
            (
                raw.non_data,
                raw.frame.astype(object).to_dict("list"),
                cleaned.astype(object).to_dict("list"),
                aside.to_dict("list"),
            )
        )
    assert outcomes[0] == outcomes[1]


@SETTINGS
@given(
    st.lists(
        st.text("0123456789.,-+ 元０", max_size=18)
        | st.from_regex(r"[0-9]{1,15}(\.[0-9]{0,3})?", fullmatch=True),
        max_size=30,
    )
)
def test_plain_amounts_agree_with_amount_to_fen(cells: list[str]) -> None:
    """The bulk path gives amount_to_fen's fen for every amount it takes (all positive)."""
    values = pd.Series(cells, dtype="str")
    done, fen = normalize.plain_amounts(values)
    assert done.sum() == len(fen)
    for cell, got in zip(values[done], fen, strict=True):
        assert type(got) is int and got > 0 and got == normalize.amount_to_fen(cell)
    assert not normalize.plain_amounts(values, "万元")[0].any()


@SETTINGS
@given(
    st.lists(st.integers(-1, 3), min_size=0, max_size=60),
    st.integers(1, 4),
    st.sampled_from([2, 2**20, 2**40]),
)
def test_group_codes_and_first_of_group(cells: list[int], width: int, scale: int) -> None:
    """Rows get equal codes exactly when all their codes are equal (also when combining them
    outgrows 62 bits); each row's first equal row is found as pandas finds it."""
    rows = len(cells) // width
    columns = [np.array(cells[i::width][:rows], dtype=np.int64) for i in range(width)]
    columns = [np.where(c >= 0, c * scale, -1) for c in columns]  # large codes, as for IDs
    key = normalize.group_codes(columns)
    frame = pd.DataFrame({str(i): c for i, c in enumerate(columns)})
    want = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy() if rows else []
    assert len(key) == rows
    assert (pd.factorize(key)[0] == want).all()
    frame["pos"] = np.arange(rows)
    first = frame.groupby([str(i) for i in range(width)])["pos"].transform("first")
    assert (normalize.first_of_group(key) == first.to_numpy()).all()


def test_pseudonyms_are_keyed_blake2b(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "0123456789abcdef",  # 16 bytes, the shortest key allowed
        "0123456789abcdef" * 4,  # BLAKE2b's longest key exactly
        "a much longer key than blake2b's limit of sixty-four bytes" * 2,
    ):
        monkeypatch.setenv(pseudonym.KEY_ENV, key)
        k = key.encode()
        k = hashlib.blake2b(k).digest() if len(k) > 64 else k
        values = ["110105194912310021", "张三", "", 7]
        got = pseudonym.pseudonyms("id", np.asarray(values, dtype=object))
        want = [
            hashlib.blake2b(f"{v}".encode(), key=k, digest_size=8, person=b"id").hexdigest()
            for v in values
        ]
        assert list(got) == want
        assert all(len(p) == 16 for p in got)
        other = pseudonym.pseudonyms("cert", np.asarray(values, dtype=object))
        assert not set(other) & set(got)  # the kind separates the domains


def test_pseudonym_kinds_fit_blake2b() -> None:
    """Every kind the ledger specs pseudonymise by is a valid BLAKE2b personalisation."""
    from edureport.ingest.specs import ledger_names, spec

    kinds = {"id", "cert", "officer-row", *ledger_names()}
    kinds |= {str(f.pseudonym) for n in ledger_names() for f in spec(n).fields if f.pseudonym}
    for kind in kinds:
        pseudonym.mac(kind)


def test_large_csv_is_read_by_arrow(tmp_path: Path) -> None:
    """The bench's province-size CSV takes the fast path (else B2 measures the slow one)."""
    from synthetic import write_large_aid_csv

    path = tmp_path / "资助发放台账.csv"
    write_large_aid_csv(path, 2000, seed=1)
    grid = delimited._read_utf8_table(path.read_bytes())
    assert grid is not None and len(grid) == 2001
    raw = ledgers.read_ledger("aid", path)
    assert all(isinstance(raw.frame[c].dtype, pd.StringDtype) for c in ("name", "id_number"))


def test_may_equal_with_characters_whose_case_is_two_characters() -> None:
    """ "ß".upper() is "SS": a header cell holding it must not break the row classification."""
    cells = pd.Series(["中", "Straße", "STRASSE", "1"], dtype=ARROW_STR)
    # an ASCII cell's text cannot be "Straße"; a plain cell without its letters neither
    assert normalize.may_equal(cells, ["Straße"]).tolist() == [False, True, False, False]
    assert normalize.may_equal(cells, ["STRASSE"]).tolist() == [False, True, True, False]
    assert normalize.may_equal(cells, ["合计"]).tolist() == [False, True, False, False]


WORKBOOK_CELLS = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.booleans(),
    st.datetimes(),
    st.text(alphabet="合计小 计总Ｓs1.0-:　", max_size=6),
)


@SETTINGS
@given(
    cells=st.lists(WORKBOOK_CELLS, max_size=30),
    targets=st.lists(st.sampled_from(["合计", "小计", "总计", "S", "1", "10", "1.0"]), min_size=1),
)
def test_may_equal_on_workbook_cells_is_a_superset(cells: list[object], targets: list[str]) -> None:
    """A workbook's column (numbers, dates, blanks and text in one object column): every cell
    whose text or key equals a target is among those may_equal keeps."""
    values = pd.Series(cells, dtype=object)
    maybe = normalize.may_equal(values, targets)
    for cell, kept in zip(cells, maybe, strict=True):
        if normalize.text(cell) in targets or normalize.match_key(cell) in targets:
            assert kept, (cell, targets)
