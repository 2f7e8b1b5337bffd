"""Ledgers as real bureau offices export them.

Each case starts from the TRUE records of one canonical county (tests/real_exports.py), rewrites
ONE ledger with one kind of mess an office produces (docs/ledgers.md, "How real files vary"),
then cleans, computes the figures and, where the outcome depends on it, validates. The figures
must be those of the true records (computed from the records, never by reading the written files
back), every row set aside must be one the case planted, and a file that cannot be read must be
refused with an InputError naming where.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from edureport.checks import validate as v
from edureport.checks.policy import load_policy
from edureport.errors import InputError
from edureport.ingest.clean import CleanResult, clean_folder
from edureport.report.figures import compute
from synthetic import Exchange, Officer, area_code, id_check_digit

from .real_exports import (
    AID_HEADER,
    CONTROL_HEADER,
    COUNTY,
    EXCHANGE_HEADER,
    INSPECTION_HEADER,
    OFFICER_HEADER,
    YEAR,
    YEAR_END,
    County,
    Sheet,
    Truth,
    aid_row,
    aid_text_row,
    canonical_county,
    control_row,
    exact_numbers,
    exchange_row,
    figures,
    inspection_row,
    officer_row,
    write_book,
    write_csv,
    yuan,
    yuan_text,
)

AREA = area_code(COUNTY)
AID_XLSX = f"{YEAR}年学生资助发放台账.xlsx"
CONTROL_XLSX = f"{YEAR}年资助资金拨付汇总表.xlsx"
OFFICERS_XLSX = "行政执法人员名册.xlsx"
EXCHANGE_XLSX = f"{YEAR}年教师校长交流台账.xlsx"
INSPECTIONS_XLSX = f"{YEAR}年民办教育机构检查台账.xlsx"
TITLE_CONTROL = f"{COUNTY}{YEAR}年学生资助资金拨付汇总表"

Check = Callable[[CleanResult, "v.ValidationReport | None"], None]


@dataclass
class Expect:
    """What a case must give: the truth's figures, exactly these rows set aside, and so on."""

    truth: Truth
    aside: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, row) -> kind
    # None: validation not run; (): the run publishes; else the checks that fail, each by name
    # or by suite ("aid_control." = some checks of that suite, and no others).
    fails: tuple[str, ...] | None = None
    raises: dict[str, Any] | None = None  # InputError attributes, and "match": a regex
    conservation: dict[str, dict[str, int]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # config.yaml beside declared_officers
    more: Check | None = None


def runs(values: list[Any]) -> list[tuple[int, int]]:
    """(first, last) positions of each run of equal consecutive values."""
    out: list[tuple[int, int]] = []
    for i, value in enumerate(values):
        if out and values[out[-1][0]] == value:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def merge_down(rows: list[list[Any]], col: int, first_row: int, values: list[Any]) -> list[str]:
    """Merge column ``col`` (0-based) over each run of equal ``values`` of the data rows
    ``rows`` (Excel row ``first_row`` onwards), emptying the covered cells; the ranges."""
    letter = "ABCDEFGHIJ"[col]
    refs = []
    for s, e in runs(values):
        if e > s:
            refs.append(f"{letter}{first_row + s}:{letter}{first_row + e}")
            for k in range(s + 1, e + 1):
                rows[k][col] = None
    return refs


def stated(result: CleanResult) -> list[tuple[str, str, bool]]:
    return sorted((t["kind"], t["column"], bool(t["agrees"])) for t in result.stated_totals)


# ---------------------------------------------------------------- officers


def officers_with_status(c: County, folder: Path) -> Expect:
    """1. xlsx with a 备注 column: two extra people marked 退休 and 调离 are excluded."""
    t = c.truth
    leavers = [
        Officer("欧阳建华", "男", "政策法规股", f"{AREA}{YEAR - 9}9901", date(YEAR - 9, 3, 2),
                date(YEAR - 4, 3, 1), "在编", 40),
        Officer("司马晓琳", "女", "基础教育股", f"{AREA}{YEAR - 2}9902", date(YEAR - 2, 5, 8),
                date(YEAR + 3, 5, 7), "在编", 48),
    ]  # fmt: skip
    rows = [[*OFFICER_HEADER, "备注"]]
    rows += [
        [*officer_row(o), "兼任法制审核员" if i == 0 else None] for i, o in enumerate(t.officers)
    ]
    rows.insert(2, [*officer_row(leavers[0]), "退休"])
    rows.append([*officer_row(leavers[1]), "调离"])
    write_book(c.swap(folder, "officers", OFFICERS_XLSX), Sheet("执法人员", rows))
    return Expect(
        t,
        aside={(OFFICERS_XLSX, 3): "excluded", (OFFICERS_XLSX, len(rows)): "excluded"},
        fails=(),
        conservation={"officers": {"excluded_rows": 2, "cleaned_rows": len(t.officers)}},
    )


def officers_share_a_name(c: County, folder: Path) -> Expect:
    """2. Two different officers (distinct certificates) with the same name: both count."""
    officers = list(c.truth.officers)
    officers[3] = replace(officers[3], name=officers[0].name, gender=officers[0].gender)
    path = c.swap(folder, "officers", c.files["officers"])
    write_csv(path, [OFFICER_HEADER, *map(officer_row, officers)])
    return Expect(replace(c.truth, officers=tuple(officers)))


def officers_long_term(c: County, folder: Path) -> Expect:
    """3. 有效期 长期 for every other officer (one other certificate ran out in June), under
    the headers 执法证件号码 and 证件有效期: officers_certified counts the 长期 ones."""
    officers = list(c.truth.officers)
    for i in range(0, len(officers), 2):
        officers[i] = replace(officers[i], valid_until=None)  # written 长期
    officers[1] = replace(officers[1], valid_until=date(YEAR, 6, 30))
    header = list(OFFICER_HEADER)
    header[3], header[5] = "执法证件号码", "证件有效期"
    path = c.swap(folder, "officers", OFFICERS_XLSX)
    write_book(path, Sheet("执法人员", [header, *map(officer_row, officers)]))
    return Expect(replace(c.truth, officers=tuple(officers)))


ACCEPT_REASON = "该人员已于年初借调市局，名册未及时更新，经核实不计入"


def officers_unreadable_employment(c: County, folder: Path, accept: bool) -> Expect:
    """4. An extra row whose 用工性质 cannot be read is set aside; unless config.yaml accepts
    it, the run does not publish (set_aside.accounted_for)."""
    t = c.truth
    name = c.files["officers"]
    rows = [OFFICER_HEADER, *map(officer_row, t.officers)]
    rows.append(["诸葛明远", "男", "安全稳定股", f"{AREA}{YEAR - 1}9903", date(YEAR - 1, 4, 3),
                 date(YEAR + 4, 4, 2), "见附表", 40])  # fmt: skip
    write_csv(c.swap(folder, "officers", name), rows)
    row = len(rows)
    if not accept:
        return Expect(t, aside={(name, row): "set_aside"}, fails=("set_aside.accounted_for",))

    def listed(result: CleanResult, report: v.ValidationReport | None) -> None:
        assert report is not None
        want = [{"file": name, "row": row, "reason": ACCEPT_REASON, "found": True}]
        assert report.accepted == want, f"report.accepted: {report.accepted}"

    return Expect(
        t,
        aside={(name, row): "set_aside"},
        fails=(),
        config={"accepted_set_aside": [{"file": name, "row": row, "reason": ACCEPT_REASON}]},
        more=listed,
    )


# ---------------------------------------------------------------- aid and control workbooks


def aid_school_merged(c: County, folder: Path) -> Expect:
    """5. The school name merged down each school's block."""
    aid = c.truth.aid
    data = [aid_row(r, i) for i, r in enumerate(aid, start=1)]
    merges = merge_down(data, 1, 2, [r.school for r in aid])
    assert merges, "no school has two rows"
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", [AID_HEADER, *data], merges))
    return Expect(c.truth)


def control_stage_merged(c: County, folder: Path, off_fen: int) -> Expect:
    """6. 学段 merged down over its programmes and a 合计 row: agreeing, or 100 元 off."""
    lines = c.truth.control
    data = [control_row(line) for line in lines]
    merges = ["A1:D1", *merge_down(data, 0, 3, [line[0] for line in lines])]
    total = ["合计", None, sum(n for *_, n, _ in lines), yuan(sum(f for *_, f in lines) + off_fen)]
    rows = [[TITLE_CONTROL], CONTROL_HEADER, *data, total]
    write_book(c.swap(folder, "control", CONTROL_XLSX), Sheet("汇总表", rows, merges))

    def totals(result: CleanResult, report: v.ValidationReport | None) -> None:
        want = [("total", "amount", off_fen == 0), ("total", "person_times", True)]
        assert stated(result) == want, f"stated totals: {result.stated_totals}"

    return Expect(
        c.truth,
        fails=("stated_totals.amount_match",) if off_fen else None,
        conservation={"control": {"non_data_total": 1}},
        more=totals,
    )


def aid_two_row_header(c: County, folder: Path) -> Expect:
    """7. A 学生信息 group cell over 学生姓名/身份证号; the other headers merged down both rows."""
    upper = list(AID_HEADER)
    upper[4], upper[5] = "学生信息", None
    lower = [None] * 4 + ["学生姓名", "身份证号"] + [None] * 4
    merges = [f"{col}1:{col}2" for col in "ABCDGHIJ"] + ["E1:F1"]
    data = [aid_row(r, i) for i, r in enumerate(c.truth.aid, start=1)]
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", [upper, lower, *data], merges))
    return Expect(c.truth)


def aid_unit_row(c: County, folder: Path) -> Expect:
    """8. Header 金额 with a unit row “（元）” right under the header."""
    header = list(AID_HEADER)
    header[8] = "金额"
    unit = [None] * 8 + ["（元）", None]
    data = [aid_row(r, i) for i, r in enumerate(c.truth.aid, start=1)]
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", [header, unit, *data]))
    return Expect(c.truth, conservation={"aid": {"non_data_unit": 1}})


def control_in_wan(c: County, folder: Path, header_says_yuan: bool) -> Expect:
    """9. Amounts in 万元, the unit only in the title area (单位：万元) and the header just 金额:
    read exactly; the header saying 金额（元） under that title is refused."""
    header = ["学段", "资助项目", "人次", "金额（元）" if header_says_yuan else "金额"]
    data = [[s, p, n, fen / 1_000_000] for s, p, n, fen in c.truth.control]
    rows = [[TITLE_CONTROL], ["单位：万元"], header, *data]
    write_book(c.swap(folder, "control", CONTROL_XLSX), Sheet("汇总表", rows, ["A1:D1"]))
    if header_says_yuan:
        return Expect(c.truth, raises={"file": CONTROL_XLSX, "match": "单位"})
    return Expect(c.truth)


def aid_sheet_per_stage(c: County, folder: Path) -> Expect:
    """10. 填表说明 first, a hidden sheet of old rows, then one sheet per 学段, each ending in an
    agreeing 小计 row: the hidden sheet is not read and the notes name it."""
    aid = c.truth.aid
    old = [
        replace(r, term=r.term.replace(str(YEAR), str(YEAR - 1)),
                paid_on=r.paid_on.replace(year=YEAR - 1), amount_fen=r.amount_fen + 5000)
        for r in aid[:40]
    ]  # fmt: skip
    hidden = f"{YEAR - 1}年（旧）"
    sheets = [
        Sheet(
            "填表说明",
            [["填表说明"], ["1. 每个学段一张工作表，末行为小计。"], ["2. 金额单位：元。"]],
        ),
        Sheet(hidden, [AID_HEADER, *(aid_row(r, i) for i, r in enumerate(old, 1))], hidden=True),
    ]
    stages = list(dict.fromkeys(r.stage for r in aid))
    for stage in stages:
        mine = [r for r in aid if r.stage == stage]
        subtotal = ["小计", *[None] * 7, yuan(sum(r.amount_fen for r in mine)), None]
        rows = [AID_HEADER, *(aid_row(r, i) for i, r in enumerate(mine, 1)), subtotal]
        sheets.append(Sheet(stage, rows))
    write_book(c.swap(folder, "aid", AID_XLSX), *sheets)

    def checks(result: CleanResult, report: v.ValidationReport | None) -> None:
        assert any(hidden in n for n in result.notes), f"notes: {result.notes}"
        assert stated(result) == [("subtotal", "amount", True)] * len(stages), (
            f"stated totals: {result.stated_totals}"
        )

    return Expect(c.truth, conservation={"aid": {"non_data_subtotal": len(stages)}}, more=checks)


def aid_excel_subtotals(c: County, folder: Path, off: bool) -> Expect:
    """11. Excel 分类汇总: “<school> 汇总” after each school's block and 总计 at the end; in the
    variant the first 汇总 row says 100 元 too much."""
    aid = c.truth.aid
    rows: list[list[Any]] = [AID_HEADER]
    blocks = runs([r.school for r in aid])
    for k, (s, e) in enumerate(blocks):
        rows += [aid_row(aid[i], i + 1) for i in range(s, e + 1)]
        fen = sum(r.amount_fen for r in aid[s : e + 1]) + (10_000 if off and k == 0 else 0)
        rows.append([None, f"{aid[s].school} 汇总", *[None] * 6, yuan(fen), None])
    rows.append([None, "总计", *[None] * 6, yuan(sum(r.amount_fen for r in aid)), None])
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", rows))

    def totals(result: CleanResult, report: v.ValidationReport | None) -> None:
        want = [("subtotal", "amount", not (off and k == 0)) for k in range(len(blocks))]
        want = sorted([*want, ("total", "amount", True)])
        assert stated(result) == want, f"stated totals: {result.stated_totals}"

    return Expect(
        c.truth,
        fails=("stated_totals.amount_match",) if off else None,
        conservation={"aid": {"non_data_subtotal": len(blocks), "non_data_total": 1}},
        more=totals,
    )


# ---------------------------------------------------------------- dates, amounts


def dates_as_numbers(c: County, folder: Path, ledger: str) -> Expect:
    """12. Dates typed as 8-digit numbers (20230315 as an int cell)."""
    t = c.truth

    def typed(day: date) -> int:
        return int(f"{day:%Y%m%d}")

    if ledger == "exchange":
        name = EXCHANGE_XLSX
        rows = [EXCHANGE_HEADER, *([*exchange_row(e)[:6], typed(e.start)] for e in t.exchange)]
    else:
        name = INSPECTIONS_XLSX
        rows = [INSPECTION_HEADER]
        for i in t.inspections:
            row = inspection_row(i)
            row[3] = typed(i.day)
            rows.append(row)
    write_book(c.swap(folder, ledger, name), Sheet("台账", rows))
    return Expect(t)


def exchange_month_only(c: County, folder: Path) -> Expect:
    """13. 开始日期 written 2023年9月 (month only) in every other row."""
    rows = [EXCHANGE_HEADER]
    for i, e in enumerate(c.truth.exchange):
        row = exchange_row(e)
        if i % 2 == 0:
            row[6] = f"{e.start.year}年{e.start.month}月"
        rows.append(row)
    write_csv(c.swap(folder, "exchange", c.files["exchange"]), rows)
    return Expect(c.truth)


def aid_binary_noise(c: County, folder: Path) -> Expect:
    """14. Amounts with binary noise from formulas (1000.0000000000001, 999.9999999999999)."""
    data, noisy = [], {}
    for i, r in enumerate(c.truth.aid, start=1):
        row = aid_row(r, i)
        row[8] = math.nextafter(r.amount_fen / 100, math.inf if i % 2 else -math.inf)
        assert Decimal(repr(row[8])) * 100 != r.amount_fen  # the noise is in the cell
        noisy[f"I{i + 1}"] = row[8]
        data.append(row)
    path = write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", [AID_HEADER, *data]))
    exact_numbers(path, 1, noisy)
    return Expect(c.truth)


def aid_comma_decimal(c: County, folder: Path) -> Expect:
    """15. One amount written 1.000,00: that row is set aside, and the aid ledger no longer
    agrees with the control totals (not published)."""
    t = c.truth
    k = next(i for i, r in enumerate(t.aid) if r.amount_fen == 100_000)
    rows = [AID_HEADER, *(aid_text_row(r, i) for i, r in enumerate(t.aid, start=1))]
    rows[k + 1][8] = "1.000,00"
    name = c.files["aid"]
    write_csv(c.swap(folder, "aid", name), rows)
    return Expect(
        replace(t, aid=t.aid[:k] + t.aid[k + 1 :]),
        aside={(name, k + 2): "set_aside"},
        fails=("aid_control.",),
    )


# ---------------------------------------------------------------- ID numbers


def no_id_digits(reason: str, id_no: str) -> bool:
    """True when ``reason`` holds no six digits in a row of ``id_no`` (nor of its number form)."""
    forms = (id_no, str(int(float(int(id_no[:17] + "0")))))
    return not any(f[i : i + 6] in reason for f in forms for i in range(len(f) - 5))


def exchange_ids_as_numbers(c: County, folder: Path, whole: bool) -> Expect:
    """16. IDs stored as Excel numbers (float(int(id)): digits after the 15th lost). Some: those
    rows are set aside with a reason about 数字 and no digits of the ID, and the run does not
    publish. All: the file is refused, naming the column."""
    t = c.truth
    per_person = Counter(e.id_no for e in t.exchange)
    picks = [
        i
        for i, e in enumerate(t.exchange)
        if e.kind == "交流轮岗" and per_person[e.id_no] == 1 and e.id_no[-1] != "X"
    ][:2]
    rows = [EXCHANGE_HEADER]
    for i, e in enumerate(t.exchange):
        row = exchange_row(e)
        if whole or i in picks:
            # (a final X cannot be a number: the whole-column variant types it as 0)
            row[1] = float(int(e.id_no[:17] + e.id_no[17].replace("X", "0")))
        rows.append(row)
    write_book(c.swap(folder, "exchange", EXCHANGE_XLSX), Sheet("交流台账", rows))
    if whole:
        return Expect(t, raises={"file": EXCHANGE_XLSX, "column": "身份证号", "match": "身份证号"})
    lost = {i + 2: t.exchange[i].id_no for i in picks}

    def reasons(result: CleanResult, report: v.ValidationReport | None) -> None:
        for r in result.set_aside.itertuples():
            if r.row not in lost:
                continue  # (reported as a wrong set-aside row)
            assert r.column == "身份证号", f"row {r.row}: column {r.column}"
            assert "数字" in r.reason, f"row {r.row}: reason {r.reason}"
            assert no_id_digits(r.reason, lost[r.row]), f"row {r.row}: reason shows the ID"

    return Expect(
        replace(t, exchange=tuple(e for i, e in enumerate(t.exchange) if i not in picks)),
        aside={(EXCHANGE_XLSX, row): "set_aside" for row in lost},
        fails=("set_aside.accounted_for",),
        more=reasons,
    )


def exchange_first_generation_id(c: County, folder: Path) -> Expect:
    """17. A 走教 teacher's first row has the 15-digit first-generation ID, the other rows the
    18-digit one: one person."""
    t = c.truth
    rows_of = Counter(e.id_no for e in t.exchange if e.kind == "走教")
    id18 = next(i for i, n in rows_of.items() if n >= 2 and i[6:8] == "19")
    k = next(i for i, e in enumerate(t.exchange) if e.id_no == id18)
    rows = [EXCHANGE_HEADER, *map(exchange_row, t.exchange)]
    rows[k + 1][1] = id18[:6] + id18[8:17]
    write_csv(c.swap(folder, "exchange", c.files["exchange"]), rows)
    return Expect(t)


def exchange_unknown_area(c: County, folder: Path) -> Expect:
    """18. An extra row whose ID has the unknown birthplace code 990426 (check digit valid)."""
    t = c.truth
    first17 = "990426" + "19850312" + "123"
    e0 = t.exchange[0]
    extra = Exchange("上官文博", first17 + id_check_digit(first17), "教师", "交流轮岗",
                     e0.from_school, e0.to_school, date(YEAR, 9, 1))  # fmt: skip
    rows = [EXCHANGE_HEADER, *map(exchange_row, t.exchange), exchange_row(extra)]
    name = c.files["exchange"]
    write_csv(c.swap(folder, "exchange", name), rows)

    def column(result: CleanResult, report: v.ValidationReport | None) -> None:
        assert list(result.set_aside["column"]) == ["身份证号"], result.set_aside.to_string()

    return Expect(t, aside={(name, len(rows)): "set_aside"}, more=column)


# ---------------------------------------------------------------- inspections, CSV forms


def inspections_no_licence_words(c: County, folder: Path) -> Expect:
    """19. No licence written 无, /, —, 暂无."""
    words = ["无", "/", "—", "暂无"]
    rows = [INSPECTION_HEADER]
    n = 0
    for i in c.truth.inspections:
        row = inspection_row(i)
        if row[2] is None:
            row[2] = words[n % len(words)]
            n += 1
        rows.append(row)
    assert n >= len(words)
    write_csv(c.swap(folder, "inspections", c.files["inspections"]), rows)
    return Expect(c.truth)


def control_csv_form(c: County, folder: Path, form: str) -> Expect:
    """20. The control sheet as cp936 (a € in a 备注 cell), UTF-16 LE with BOM tab-separated,
    ;-separated, or ending in a Ctrl-Z byte."""
    rows = [CONTROL_HEADER, *([s, p, n, yuan_text(fen)] for s, p, n, fen in c.truth.control)]
    path = c.swap(folder, "control", c.files["control"])
    if form == "cp936":
        rows = [[*rows[0], "备注"], *([*r, None] for r in rows[1:])]
        rows[1][4] = "含€计价的捐赠已折算为人民币"
        write_csv(path, rows, "cp936")
    elif form == "utf16-tab":
        write_csv(path, rows, "utf-16", sep="\t")
    elif form == "semicolon":
        write_csv(path, rows, sep=";")
    else:
        write_csv(path, rows, tail=b"\x1a")
    return Expect(c.truth)


def aid_entered_twice(c: County, folder: Path, paid_twice: bool) -> Expect:
    """21. A payment entered twice, the copy's ID stored as an Excel number: the copy is set
    aside and the aid ledger agrees with control totals counting it once; if finance paid it
    twice (control counts it twice) the reconciliation fails."""
    t = c.truth
    k = next(i for i, r in enumerate(t.aid) if r.stage == "中等职业教育" and r.id_no[-1] != "X")
    r = t.aid[k]
    rows = [AID_HEADER, *(aid_row(x, i) for i, x in enumerate(t.aid, start=1))]
    copy = aid_row(r, k + 1)
    copy[5] = float(int(r.id_no))
    rows.insert(k + 2, copy)
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", rows))
    truth = t
    if paid_twice:
        control = tuple(
            (s, p, n + 1, fen + r.amount_fen)
            if (s, p) == (r.stage, r.programme)
            else (s, p, n, fen)
            for s, p, n, fen in t.control
        )
        truth = replace(t, control=control)
        control_rows = ([s, p, n, yuan_text(fen)] for s, p, n, fen in control)
        write_csv(folder / c.files["control"], [CONTROL_HEADER, *control_rows])

    def reason(result: CleanResult, report: v.ValidationReport | None) -> None:
        for text in result.set_aside["reason"]:
            assert "数字" in text and no_id_digits(text, r.id_no), f"reason: {text}"

    return Expect(
        truth,
        aside={(AID_XLSX, k + 3): "set_aside"},
        fails=("aid_control.",) if paid_twice else (),
        more=reason,
    )


# ---------------------------------------------------------------- privacy


def aid_personal_data_in_bad_cells(c: County, folder: Path) -> Expect:
    """22. A student's name and ID inside unreadable cells of every kind (date, amount,
    category, ID): set aside, and neither name nor ID (nor its first 14 digits) appears in the
    set-aside rows, conservation, stated totals or notes."""
    t = c.truth
    k = next(i for i, r in enumerate(t.aid) if len(r.name) == 3)
    r = t.aid[k]
    name, id_no = r.name, r.id_no

    def spoiled(col: int, value: str) -> list[Any]:
        row = aid_row(r, k + 1)
        row[col] = value
        return row

    extra = [
        spoiled(9, f"{YEAR}-08-25；{name}代签"),  # date
        spoiled(9, id_no),  # date holding the ID
        spoiled(8, f"{name}1000"),  # amount
        spoiled(8, id_no),  # amount holding the ID
        spoiled(2, name),  # category (学段)
        spoiled(3, f"{name}{id_no}"),  # category (资助项目)
        spoiled(5, f"{name}{id_no}"),  # ID
        spoiled(7, f"{name}{id_no}"),  # 学期 (free text would be kept in the cleaned table)
        spoiled(1, f"第一中学{id_no}"),  # 学校名称 holding an ID
    ]
    rows = [AID_HEADER, *(aid_row(x, i) for i, x in enumerate(t.aid, start=1))]
    rows[k + 2 : k + 2] = extra
    write_book(c.swap(folder, "aid", AID_XLSX), Sheet("资助台账", rows))

    def private(result: CleanResult, report: v.ValidationReport | None) -> None:
        places = {
            "set_aside": result.set_aside.astype(str).to_csv(index=False),
            "conservation": json.dumps(result.conservation, ensure_ascii=False),
            "stated_totals": json.dumps(result.stated_totals, ensure_ascii=False, default=str),
            "notes": "\n".join(result.notes),
            "cleaned tables": "\n".join(
                t.astype(str).to_csv(index=False) for t in result.tables.values()
            ),
        }
        leaks = [
            f"{where} holds the {what}"
            for where, text in places.items()
            for what, secret in (("name", name), ("ID", id_no), ("ID's first 14", id_no[:14]))
            if secret in text
        ]
        assert not leaks, "; ".join(leaks)

    return Expect(
        t,
        aside={(AID_XLSX, k + 3 + j): "set_aside" for j in range(len(extra))},
        more=private,
    )


# ---------------------------------------------------------------- the table

CASES: list[tuple[str, Callable[[County, Path], Expect]]] = [
    ("01-officers-xlsx-status-retired-transferred", officers_with_status),
    ("02-officers-same-name", officers_share_a_name),
    ("03-officers-long-term-synonym-headers", officers_long_term),
    ("04a-officers-unreadable-employment", partial(officers_unreadable_employment, accept=False)),
    ("04b-officers-unreadable-accepted", partial(officers_unreadable_employment, accept=True)),
    ("05-aid-school-merged-down", aid_school_merged),
    ("06a-control-stage-merged-total-agrees", partial(control_stage_merged, off_fen=0)),
    ("06b-control-total-off-100-yuan", partial(control_stage_merged, off_fen=10_000)),
    ("07-aid-two-row-header", aid_two_row_header),
    ("08-aid-unit-row", aid_unit_row),
    ("09a-control-wan-in-title", partial(control_in_wan, header_says_yuan=False)),
    ("09b-control-wan-title-vs-yuan-header", partial(control_in_wan, header_says_yuan=True)),
    ("10-aid-sheet-per-stage-hidden-notes", aid_sheet_per_stage),
    ("11a-aid-excel-subtotals", partial(aid_excel_subtotals, off=False)),
    ("11b-aid-excel-subtotal-disagrees", partial(aid_excel_subtotals, off=True)),
    ("12a-exchange-dates-as-numbers", partial(dates_as_numbers, ledger="exchange")),
    ("12b-inspections-dates-as-numbers", partial(dates_as_numbers, ledger="inspections")),
    ("13-exchange-month-only-dates", exchange_month_only),
    ("14-aid-binary-noise", aid_binary_noise),
    ("15-aid-comma-decimal", aid_comma_decimal),
    ("16a-exchange-some-ids-as-numbers", partial(exchange_ids_as_numbers, whole=False)),
    ("16b-exchange-id-column-as-numbers", partial(exchange_ids_as_numbers, whole=True)),
    ("17-exchange-first-generation-id", exchange_first_generation_id),
    ("18-exchange-unknown-area-code", exchange_unknown_area),
    ("19-inspections-no-licence-words", inspections_no_licence_words),
    ("20a-control-cp936-euro", partial(control_csv_form, form="cp936")),
    ("20b-control-utf16-tab", partial(control_csv_form, form="utf16-tab")),
    ("20c-control-semicolon", partial(control_csv_form, form="semicolon")),
    ("20d-control-ctrl-z", partial(control_csv_form, form="ctrl-z")),
    ("21a-aid-entered-twice-id-as-number", partial(aid_entered_twice, paid_twice=False)),
    ("21b-aid-entered-twice-finance-paid-twice", partial(aid_entered_twice, paid_twice=True)),
    ("22-aid-personal-data-in-bad-cells", aid_personal_data_in_bad_cells),
]  # fmt: skip


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    return canonical_county(tmp_path_factory.mktemp("real_exports"))


@pytest.fixture(scope="session")
def gx_context() -> Any:
    """One GX context for the session (import and setup take seconds)."""
    return v.get_context()


def fails_match(failed: list[str], want: tuple[str, ...]) -> bool:
    def hit(name: str, w: str) -> bool:
        return name == w or (w.endswith(".") and name.startswith(w))

    return all(any(hit(n, w) for w in want) for n in failed) and all(
        any(hit(n, w) for n in failed) for w in want
    )


@pytest.mark.parametrize("write", [w for _, w in CASES], ids=[i for i, _ in CASES])
def test_real_export(
    write: Callable[[County, Path], Expect],
    county: County,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    folder = county.copy(tmp_path)
    exp = write(county, folder)
    config = {"declared_officers": len(exp.truth.officers), **exp.config}
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")

    if exp.raises is not None:
        with pytest.raises(InputError) as info:
            clean_folder(folder, YEAR)
        err = info.value
        for attr, want in exp.raises.items():
            if attr == "match":
                assert re.search(want, str(err)), str(err)
            else:
                assert getattr(err, attr) == want, f"{attr}: {err!s}"
        return

    result = clean_folder(folder, YEAR)
    problems: list[str] = []  # every way the case went wrong, reported together
    aside = result.set_aside
    places = zip(aside["file"], aside["row"].astype(int), strict=True)
    got_aside = dict(zip(places, aside["kind"], strict=True))
    if got_aside != exp.aside:
        shown = aside[["file", "row", "column", "reason", "kind"]].head(10).to_string()
        problems.append(
            f"set aside {len(got_aside)} rows, want {sorted(exp.aside.items())}; first:\n{shown}"
        )
    got = compute(result.tables, YEAR_END)
    want = figures(exp.truth)
    wrong = {k: (got[k].value, w) for k, w in want.items() if got[k].value != w}
    if wrong:
        problems.append(f"figures (got, want): {wrong}")
    control = result.tables["control"][["stage", "programme", "person_times", "amount_fen"]]
    got_control = {(s, p): (int(n), int(f)) for s, p, n, f in control.itertuples(index=False)}
    if got_control != exp.truth.control_lines():
        problems.append(f"control {got_control}, want {exp.truth.control_lines()}")
    for ledger, counts in result.conservation.items():
        if counts["raw_rows"] != counts["cleaned_rows"] + counts["set_aside_rows"]:
            problems.append(f"conservation of {ledger}: {counts}")
    for ledger, counts in exp.conservation.items():
        have = {k: result.conservation[ledger].get(k, 0) for k in counts}
        if have != counts:
            problems.append(f"conservation of {ledger}: {have}, want {counts}")
    report = None
    if exp.fails is not None:
        request.getfixturevalue("gx_context")
        policy = load_policy(folder, YEAR)
        report = v.validate(
            result.tables,
            result.conservation,
            policy,
            set_aside=result.set_aside,
            stated_totals=result.stated_totals,
        )
        failed = [c.name for c in report.failed]
        if not fails_match(failed, exp.fails):
            found = [(c.name, c.found) for c in report.failed]
            problems.append(f"validation failed {found or 'nothing'}, want {exp.fails or 'none'}")
    if exp.more is not None:
        try:
            exp.more(result, report)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)
