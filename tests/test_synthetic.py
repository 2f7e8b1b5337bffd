"""Tests of the ledger generator and an independent check of the bundled sample ledgers.

The sample checks read the committed files with plain csv/pandas/openpyxl and a small parser
written here (not the generator's or the cleaner's code), and compare with figures-2022.md.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
import zipfile
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import synthetic as syn
from edureport.paths import RAW_DIR

SAMPLE = RAW_DIR / "示例县"
Y2022, Y2021 = SAMPLE / "2022", SAMPLE / "2021"
AID_2022 = Y2022 / "2022年学生资助发放台账（终版）.xlsx"
AID_2021 = Y2021 / "2021年学生资助发放台账.csv"

# figures-2022.md, F6–F12: (stage, programme) -> (人次, exact fen, published 万元)
FIGURES_2022 = {
    ("学前教育", "学前教育资助"): (459, 19_165_100, "19.17"),
    ("义务教育", "家庭经济困难学生生活费补助"): (2419, 110_115_100, "110.12"),
    ("普通高中", "国家助学金"): (2310, 229_700_000, "229.70"),
    ("普通高中", "建档立卡学生免学费、免书费、免住宿费"): (606, 84_265_100, "84.27"),
    ("中等职业教育", "国家助学金"): (799, 79_900_000, "79.90"),
    ("中等职业教育", "免学费"): (6029, 602_900_000, "602.90"),
    ("中等职业教育", "免书费、免住宿费"): (215, 8_600_000, "8.60"),
}
# The 2021 sample's stated targets: (stage, programme) -> (人次, exact fen)
TOTALS_2021 = {
    ("学前教育", "学前教育资助"): (431, 17_638_850),
    ("义务教育", "家庭经济困难学生生活费补助"): (2380, 107_122_600),
    ("普通高中", "国家助学金"): (2250, 223_800_000),
    ("普通高中", "建档立卡学生免学费、免书费、免住宿费"): (580, 80_133_700),
    ("中等职业教育", "国家助学金"): (760, 76_000_000),
    ("中等职业教育", "免学费"): (5400, 540_000_000),
    ("中等职业教育", "免书费、免住宿费"): (200, 8_000_000),
}

# ------------------------------------------------------------------ an independent reader

STAGE_ALIASES = {
    "中职": "中等职业教育",
    "职中": "中等职业教育",
    "职业高中": "中等职业教育",
    "普高": "普通高中",
    "高中": "普通高中",
    "学前": "学前教育",
    "幼儿园": "学前教育",
    "义务": "义务教育",
}
HEADER_ALIASES = {
    "学校名称": "school",
    "学校": "school",
    "学段": "stage",
    "资助项目": "programme",
    "学生姓名": "name",
    "姓名": "name",
    "身份证号": "id",
    "证件号码": "id",
    "是否建档立卡": "poor",
    "学期": "term",
    "金额（元）": "amount",
    "金额(元)": "amount",
    "发放日期": "paid_on",
    "序号": "serial",
}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def nfkc(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def to_fen(value: Any) -> int:
    if isinstance(value, int | float):
        exact = Decimal(repr(value)) * 100
    else:
        exact = Decimal(nfkc(value).replace(",", "").removesuffix("元")) * 100
    assert exact == exact.to_integral_value(), value
    return int(exact)


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    s = nfkc(value)
    if re.fullmatch(r"\d{5}", s):
        return date(1899, 12, 30) + timedelta(days=int(s))
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", s)
    assert m, value
    return date(int(m[1]), int(m[2]), int(m[3]))


def id_valid(value: str) -> bool:
    s = nfkc(value).upper()
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(s, WEIGHTS, strict=False)) % 11] == s[17]


def wan(fen: int) -> str:
    return str((Decimal(fen) / 1_000_000).quantize(Decimal("0.01"), ROUND_HALF_UP))


def grid_rows(path: Path) -> list[list[Any]]:
    """All rows of the ledger's data sheet (the one holding a 序号 header) or CSV."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if any(r and r[0] == "序号" for r in rows):
                return rows
    finally:
        wb.close()
    raise AssertionError(f"no data sheet in {path}")


def read_aid(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[Any]]:
    """(data rows as (row number, canonical fields), the 合计 row) of an aid ledger."""
    return parse_aid(grid_rows(path))


def parse_aid(rows: list[list[Any]]) -> tuple[list[tuple[int, dict[str, Any]]], list[Any]]:
    h = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    names = [HEADER_ALIASES[nfkc(c)] for c in rows[h]]
    data, total = [], []
    for number, cells in enumerate(rows[h + 1 :], start=h + 2):
        if all(c in (None, "") for c in cells):
            continue
        if nfkc(cells[0]) == "合计":
            total = cells
            continue
        f = dict(zip(names, cells, strict=True))
        data.append(
            (
                number,
                {
                    "school": nfkc(f["school"]),
                    "stage": STAGE_ALIASES.get(nfkc(f["stage"]), nfkc(f["stage"])),
                    "programme": nfkc(f["programme"]),
                    "name": nfkc(f["name"]),
                    "id": nfkc(f["id"]).upper(),
                    "poor": nfkc(f["poor"]) == "是",
                    "term": nfkc(f["term"]),
                    "fen": to_fen(f["amount"]),
                    "paid_on": to_date(f["paid_on"]),
                },
            )
        )
    return data, total


def set_aside(data: list[tuple[int, dict[str, Any]]], year: int) -> dict[int, str]:
    """Row number -> reason, by this test's own reading of the ledger contract."""
    bad: dict[int, str] = {}
    seen: set[tuple[Any, ...]] = set()
    for number, f in data:
        key = tuple(f.values())
        if key in seen:
            bad[number] = "duplicate"
        elif f["fen"] <= 0:
            bad[number] = "zero_amount"
        elif not id_valid(f["id"]):
            bad[number] = "bad_check_digit"
        elif f["paid_on"].year != year:
            bad[number] = "wrong_year"
        seen.add(key)
    return bad


def good_totals(data: list[tuple[int, dict[str, Any]]], bad: dict[int, str]) -> dict:
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for number, f in data:
        if number not in bad:
            n, fen = totals.get((f["stage"], f["programme"]), (0, 0))
            totals[(f["stage"], f["programme"])] = (n + 1, fen + f["fen"])
    return totals


def read_control(path: Path) -> tuple[dict[tuple[str, str], tuple[int, int]], list[str]]:
    rows = grid_rows(path)
    assert rows[0] == ["学段", "资助项目", "人次", "金额（元）"]
    lines = {(r[0], r[1]): (int(r[2]), to_fen(r[3])) for r in rows[1:] if r[0] != "合计"}
    total = next((r for r in rows[1:] if r[0] == "合计"), [])
    return lines, total


@pytest.fixture(scope="module")
def grid_2022() -> list[list[Any]]:
    return grid_rows(AID_2022)


@pytest.fixture(scope="module")
def aid_2022(grid_2022: list[list[Any]]) -> tuple[list[tuple[int, dict[str, Any]]], list[Any]]:
    return parse_aid(grid_2022)


def small_targets(seed: int) -> syn.Targets:
    return syn.random_targets(random.Random(seed), size=(0.05, 0.15))


# ------------------------------------------------------------------ determinism


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _cells(path: Path) -> list[list[list[Any]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    cells = [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
    wb.close()
    return cells


@pytest.mark.parametrize("style", syn.STYLES)
def test_same_seed_gives_identical_files(tmp_path: Path, style: str) -> None:
    targets = small_targets(5)
    for run in ("a", "b"):
        syn.write_county_year(tmp_path / run, "合成县005", 2023, targets, 99, style, syn.BAD_KINDS)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) == 7  # six ledgers and a finished narrative.md
    for name in a:
        if name.endswith(".xlsx"):
            assert _cells(tmp_path / "a" / name) == _cells(tmp_path / "b" / name)
        assert a[name] == b[name], name


def test_other_seed_gives_other_rows(tmp_path: Path) -> None:
    targets = small_targets(5)
    for seed in (1, 2):
        syn.write_county_year(tmp_path / str(seed), "合成县005", 2023, targets, seed)
    assert _files(tmp_path / "1") != _files(tmp_path / "2")


@pytest.mark.parametrize("year", [2022, 2021])
def test_committed_sample_is_what_the_generator_writes(tmp_path: Path, year: int) -> None:
    manifest = syn.write_sample(tmp_path, year)
    fresh, committed = tmp_path / "示例县" / str(year), SAMPLE / str(year)
    for name in manifest.files.values():
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), name
    assert manifest.planted == syn.sample_planted(year)


def test_random_targets_are_deterministic() -> None:
    assert syn.random_targets(random.Random(3)) == syn.random_targets(random.Random(3))
    assert syn.random_targets(random.Random(3)) != syn.random_targets(random.Random(4))


# ------------------------------------------------------------------ synthetic counties


@pytest.mark.parametrize("seed", [3, 8])
@pytest.mark.parametrize("style", syn.STYLES)
def test_random_county_control_equals_good_aid_rows(tmp_path: Path, seed: int, style: str) -> None:
    # full-size counties, except for the slower workbook style
    full = syn.random_targets(random.Random(seed))
    targets = small_targets(seed) if style == "messy_xlsx" else full
    county = f"合成县{seed:03d}"
    m = syn.write_county_year(tmp_path, county, 2024, targets, seed, style, syn.BAD_KINDS)
    data, _ = read_aid(tmp_path / m.files["aid"])
    bad = set_aside(data, 2024)
    assert bad == {p.row: p.kind for p in m.planted}
    control, _ = read_control(tmp_path / m.files["control"])
    want = {(a.stage, a.programme): (a.person_times, a.amount_fen) for a in targets.aid}
    assert good_totals(data, bad) == control == want
    schools = {f["school"] for _, f in data}
    assert any(s.startswith(county) for s in schools)  # the county's own schools


def test_random_county_other_ledgers(tmp_path: Path) -> None:
    targets = syn.random_targets(random.Random(21))
    m = syn.write_county_year(tmp_path, "合成县021", 2024, targets, 21)
    ex = pd.read_csv(tmp_path / m.files["exchange"], dtype=str)
    rot, itin = ex[ex["交流类型"] == "交流轮岗"], ex[ex["交流类型"] == "走教"]
    assert rot["身份"].value_counts().to_dict() == {
        "教师": targets.rotation_teachers,
        "校长": targets.rotation_principals,
    }
    assert itin["身份证号"].nunique() == targets.itinerant_teachers
    assert itin["交流学校"].nunique() == targets.itinerant_schools
    officers = pd.read_csv(tmp_path / m.files["officers"], dtype=str)
    assert len(officers) == targets.officers
    no_cert = officers["执法证号"].isna().sum()
    assert no_cert == targets.officers_uncertified + targets.officers_contract
    insp = pd.read_csv(tmp_path / m.files["inspections"], dtype=str)
    passed = insp[(insp["检查结论"] == "合格") & insp["办学许可证号"].notna()]
    assert passed["机构名称"].nunique() == targets.inspected_pass
    assert (insp["检查结论"] == "取缔").sum() == targets.banned_unlicensed
    appr = pd.read_csv(tmp_path / m.files["approvals"], dtype=str)
    assert (appr["机构类型"] == "民办幼儿园").sum() == targets.kindergartens_approved


def test_impossible_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="standard"):
        syn.AidLine("中等职业教育", "免学费", 10, 999_999)
    with pytest.raises(ValueError, match="no programme"):
        syn.AidLine("学前教育", "免学费", 10, 1_000_000)
    with pytest.raises(ValueError, match="itinerant"):
        syn.Targets(syn.targets_2022_sample().aid, 7, 1, 1, 2, 9, 1, 0, 0, 0, 0, 0)


def test_large_aid_csv(tmp_path: Path) -> None:
    path = tmp_path / "aid.csv"
    lines = syn.write_large_aid_csv(path, 20_001, seed=4, county="合成县900", year=2025)
    frame = pd.read_csv(path, dtype=str, encoding="utf-8")
    assert list(frame.columns) == list(syn.AID_HEADER) and len(frame) == 20_001
    assert not frame.duplicated(["身份证号", "资助项目", "学期"]).any()
    assert frame["身份证号"].map(id_valid).all()
    assert (frame.groupby("身份证号")["学生姓名"].nunique() == 1).all()
    assert pd.to_datetime(frame["发放日期"]).dt.year.eq(2025).all()
    fen = frame["金额（元）"].map(to_fen)
    got = fen.groupby([frame["学段"], frame["资助项目"]]).agg(["size", "sum"])
    want = {(a.stage, a.programme): (a.person_times, a.amount_fen) for a in lines}
    assert {
        k: (int(n), int(s)) for k, (n, s) in zip(got.index, got.to_numpy(), strict=True)
    } == want


def test_large_county_year_control_matches(tmp_path: Path) -> None:
    m = syn.write_large_county_year(tmp_path, "合成县901", 2025, 5_000, seed=8)
    data = pd.read_csv(tmp_path / m.files["aid"], dtype=str)
    control, _ = read_control(tmp_path / m.files["control"])
    assert len(data) == sum(n for n, _ in control.values()) == m.targets.aid_person_times == 5_000
    assert data["金额（元）"].map(to_fen).sum() == sum(f for _, f in control.values())


# ------------------------------------------------------------------ the 2022 sample, independently


def test_2022_files_found_by_one_keyword_each() -> None:
    for year in (2022, 2021):
        names = [p.name for p in (SAMPLE / str(year)).iterdir() if p.suffix in (".csv", ".xlsx")]
        assert len(names) == 8  # six required ledgers and the two optional ones
        for name in names:
            assert sum(k in name for k in syn.KEYWORDS.values()) == 1, name
        for keyword in syn.KEYWORDS.values():
            assert sum(keyword in n for n in names) == 1, keyword


def test_2022_aid_layout(grid_2022: list[list[Any]]) -> None:
    wb = openpyxl.load_workbook(AID_2022, read_only=True)
    assert wb.sheetnames == ["填表说明", "资助台账"]
    notes = [r[0] for r in wb["填表说明"].iter_rows(values_only=True)]
    wb.close()
    assert 2 <= len(notes) <= 10 and notes[0] == "填表说明"
    with zipfile.ZipFile(AID_2022) as z:
        assert b'<mergeCell ref="A1:J1"/>' in z.read("xl/worksheets/sheet2.xml")
    assert grid_2022[0][0] == "示例县2022年学生资助发放台账"
    assert grid_2022[1][0] == "填报单位：示例县教育局    单位：元"
    assert grid_2022[2] == [
        "序号",
        "学校名称",
        "学段",
        "资助项目",
        "学生姓名",
        "身份证号",
        "是否建档立卡",
        "学期",
        "金额（元）",
        "发放日期",
    ]
    assert all(c is None for c in grid_2022[-2]) and grid_2022[-1][0] == "合计"


def test_2022_aid_sets_aside_exactly_the_planted_rows(aid_2022: Any) -> None:
    data, _ = aid_2022
    bad = set_aside(data, 2022)
    assert bad == {
        221: "zero_amount",
        1038: "duplicate",
        4913: "bad_check_digit",
        10519: "wrong_year",
    }
    assert bad == syn.SAMPLE_2022_BAD_ROWS
    assert {p.row: p.kind for p in syn.sample_planted(2022)} == bad
    assert len(data) == 12837 + 4


def test_2022_aid_figures(aid_2022: Any) -> None:
    data, total_row = aid_2022
    bad = set_aside(data, 2022)
    totals = good_totals(data, bad)
    assert {k: v for k, v in totals.items()} == {k: v[:2] for k, v in FIGURES_2022.items()}
    for key, (_, _, published) in FIGURES_2022.items():
        assert wan(totals[key][1]) == published, key
    count = sum(n for n, _ in totals.values())
    fen = sum(f for _, f in totals.values())
    assert count == 12837 and fen == 1_134_645_300
    assert wan(fen) == "1134.65"
    assert sum(Decimal(v[2]) for v in FIGURES_2022.values()) == Decimal("1134.66")
    assert to_fen(total_row[8]) == sum(f["fen"] for _, f in data)  # 合计 includes bad rows


def test_2022_aid_rows_are_plausible(aid_2022: Any) -> None:
    data, _ = aid_2022
    bad = set_aside(data, 2022)
    good = [f for n, f in data if n not in bad]
    keys = Counter((f["id"], f["programme"], f["term"]) for f in good)
    assert max(keys.values()) == 1  # nobody paid twice for one programme and term
    assert {f["term"] for f in good} == {"2022年春季学期", "2022年秋季学期"}
    assert all(id_valid(f["id"]) for f in good)
    people = Counter(f["id"] for f in good)
    names = {f["id"]: f["name"] for f in good}
    assert len(names) == len(people) and all(2 <= len(n) <= 3 for n in names.values())
    ages = {"学前教育": (3, 6), "义务教育": (6, 15), "普通高中": (15, 18), "中等职业教育": (15, 19)}
    for f in good:
        lo, hi = ages[f["stage"]]
        assert lo <= 2022 - int(f["id"][6:10]) <= hi
    by_programme: dict[tuple[str, str], Counter] = {}
    for f in good:
        by_programme.setdefault((f["stage"], f["programme"]), Counter())[f["fen"]] += 1
    assert by_programme[("普通高中", "国家助学金")] == {100_000: 2284, 50_000: 26}
    assert by_programme[("中等职业教育", "国家助学金")] == {100_000: 799}
    assert by_programme[("中等职业教育", "免学费")] == {100_000: 6029}
    assert by_programme[("中等职业教育", "免书费、免住宿费")] == {40_000: 215}
    assert min(by_programme[("学前教育", "学前教育资助")]) >= 30_000
    assert max(by_programme[("学前教育", "学前教育资助")]) <= 60_000
    assert len(by_programme[("义务教育", "家庭经济困难学生生活费补助")]) > 100  # varying
    poor_rows = [f for f in good if f["programme"] == "建档立卡学生免学费、免书费、免住宿费"]
    assert all(f["poor"] for f in poor_rows)
    assert any(f["poor"] for f in good if f["programme"] == "家庭经济困难学生生活费补助")


def test_2022_aid_carries_the_real_world_variations(grid_2022: list[list[Any]]) -> None:
    rows = grid_2022[3:-2]
    stages = Counter(r[2] for r in rows)
    for short in ("中职", "职中", "普高", "学前"):
        assert stages[short] > 0, short
    amounts = [r[8] for r in rows]
    assert any(isinstance(a, str) and "," in a for a in amounts)
    assert any(isinstance(a, str) and a.endswith("元") for a in amounts)
    assert any(isinstance(a, str) and re.fullmatch(r"[\d.]+", a) for a in amounts)
    assert any(isinstance(a, str) and re.search("[０-９]", a) for a in amounts)
    assert any(isinstance(a, int | float) for a in amounts)
    dates = [r[9] for r in rows]
    assert sum(isinstance(d, datetime) for d in dates) > len(dates) / 2
    texts = [d for d in dates if isinstance(d, str)]
    for pattern in (r"\d{4}-\d\d-\d\d", r"\d{4}/\d+/\d+", r"\d{4}\.\d+\.\d+", r"\d{4}年\d+月\d+日"):
        assert any(re.fullmatch(pattern, d) for d in texts), pattern
    assert any(re.search("[０-９]", str(r[5])) for r in rows)


def test_2022_control_totals() -> None:
    path = Y2022 / "2022年资助资金拨付汇总表.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    frame = pd.read_csv(path, encoding="gbk", dtype=str)
    assert list(frame.columns) == ["学段", "资助项目", "人次", "金额（元）"]
    lines, total = read_control(path)
    assert lines == {k: v[:2] for k, v in FIGURES_2022.items()}
    assert total[2:] == ["12837", "11346453.00"]


def test_2022_officers() -> None:
    frame = pd.read_excel(Y2022 / "行政执法人员名册.xlsx", header=1, dtype={"执法证号": str})
    assert list(frame.columns) == [
        "姓名",
        "性别",
        "所在股室",
        "执法证号",
        "发证日期",
        "有效期至",
        "用工性质",
        "年度培训学时",
    ]
    assert len(frame) == 7 and frame["姓名"].nunique() == 7
    assert frame["用工性质"].value_counts().to_dict() == {"在编": 6, "正式": 1}
    assert frame["执法证号"].notna().all()
    assert (pd.to_datetime(frame["有效期至"]) >= "2023-12-31").all()
    assert (pd.to_datetime(frame["发证日期"]) <= "2022-12-31").all()
    assert (frame["年度培训学时"].astype(float) >= 40).all()


def test_2022_exchange() -> None:
    path = Y2022 / "2022年教师校长交流台账.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == [
        "姓名",
        "证件号码",
        "身份",
        "交流类型",
        "原学校",
        "交流学校",
        "开始日期",
    ]
    rot = frame[frame["交流类型"] == "交流轮岗"]
    assert len(rot) == rot["证件号码"].nunique() == 318
    assert rot["身份"].value_counts().to_dict() == {"教师": 294, "校长": 24}
    walk = frame[frame["交流类型"] == "走教"]
    assert set(walk["身份"]) == {"教师"}
    assert walk["证件号码"].nunique() == 23
    assert walk["交流学校"].nunique() == 16
    assert not walk.duplicated(["证件号码", "交流学校"]).any()
    assert not set(walk["证件号码"]) & set(rot["证件号码"])
    assert (frame["原学校"] != frame["交流学校"]).all()
    assert frame["证件号码"].map(id_valid).all()
    assert frame["开始日期"].map(to_date).map(lambda d: d.year == 2022).all()


def test_2022_inspections() -> None:
    frame = pd.read_excel(Y2022 / "2022年民办教育机构检查台账.xlsx", header=1, dtype=str)
    assert list(frame.columns) == ["机构名称", "机构类型", "办学许可证号", "检查日期", "检查结论"]
    assert pd.to_datetime(frame["检查日期"]).dt.year.eq(2022).all()
    licensed = frame[frame["办学许可证号"].notna()]
    passed = licensed[licensed["检查结论"] == "合格"]
    assert passed["机构名称"].nunique() == 29 < len(passed)
    assert set(passed["机构类型"]) == {"民办幼儿园", "民办中小学", "校外培训机构"}
    banned = frame[frame["检查结论"] == "取缔"]
    assert len(banned) == 8 and banned["办学许可证号"].isna().all()
    assert set(banned["机构类型"]) == {"校外培训机构"}
    rectify = licensed[licensed["检查结论"] == "限期整改"]
    assert len(rectify) >= 1 and not set(rectify["机构名称"]) & set(passed["机构名称"])


def test_2022_approvals() -> None:
    frame = pd.read_excel(Y2022 / "2022年民办教育机构审批台账.xlsx", dtype=str)
    assert list(frame.columns) == ["机构名称", "机构类型", "审批日期", "办学许可证号"]
    assert pd.to_datetime(frame["审批日期"]).dt.year.eq(2022).all()
    assert (frame["机构类型"] == "民办幼儿园").sum() == 4
    assert 1 <= (frame["机构类型"] != "民办幼儿园").sum() <= 2


# The optional ledgers of the sample: per 培训对象 (sessions, person-times, hours), and the cases.
TRAINING_2022 = {"执法人员": (4, 28, 32), "机关干部": (3, 186, 9), "教师": (6, 1420, 18),
                 "学生": (12, 9860, 12)}  # fmt: skip
TRAINING_2021 = {"执法人员": (3, 21, 24), "机关干部": (2, 120, 6), "教师": (5, 1180, 15),
                 "学生": (10, 8200, 10)}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (Y2022 / "2022年法治培训台账.xlsx", TRAINING_2022),
        (Y2021 / "2021年法治培训台账.csv", TRAINING_2021),
    ],
)
def test_training(path: Path, expected: dict[str, tuple[int, int, int]]) -> None:
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, header=1, dtype=str)
        frame = frame[frame["序号"] != "合计"]
    else:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    frame[["参训人数", "学时"]] = frame[["参训人数", "学时"]].astype(int)
    got = {
        a: (len(g), int(g["参训人数"].sum()), int(g["学时"].sum()))
        for a, g in frame.groupby("培训对象")
    }
    assert got == expected
    assert (frame["参训人数"] > 0).all() and (frame["学时"] > 0).all()


def test_2022_cases() -> None:
    frame = pd.read_excel(Y2022 / "2022年行政复议和行政应诉案件台账.xlsx", header=1, dtype=str)
    assert frame["案号"].is_unique
    review = frame[frame["案件类型"] == "行政复议"]
    suits = frame[frame["案件类型"] == "行政诉讼"]
    assert (len(review), len(suits)) == (3, 2)
    assert review["处理结果"].isin(["撤销", "确认违法", "责令履行"]).sum() == 1
    assert not suits["处理结果"].isin(["撤销", "确认违法", "责令履行"]).any()
    assert list(suits["负责人是否出庭"]) == ["是", "是"]
    assert pd.to_datetime(frame["收案日期"]).dt.year.eq(2022).all()


# ------------------------------------------------------------------ the 2021 sample


def test_2021_aid() -> None:
    raw = AID_2021.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gbk")  # a name outside GBK: only GB18030 reads it
    rows = grid_rows(AID_2021)
    assert rows[0][1] == "学校" and rows[0][4] == "姓名" and rows[0][8] == "金额(元)"
    data, total = read_aid(AID_2021)
    bad = set_aside(data, 2021)
    assert bad == syn.SAMPLE_2021_BAD_ROWS == {1182: "duplicate"}
    totals = good_totals(data, bad)
    assert totals == TOTALS_2021
    assert sum(n for n, _ in totals.values()) == 12001
    assert wan(sum(f for _, f in totals.values())) == "1052.70"
    assert to_fen(total[8]) == sum(f["fen"] for _, f in data)
    lines, _ = read_control(Y2021 / "2021年资助资金拨付汇总表.csv")
    assert lines == TOTALS_2021


def test_2021_other_ledgers() -> None:
    ex = pd.read_excel(Y2021 / "2021年教师校长交流台账.xlsx", header=1, dtype=str)
    rot, walk = ex[ex["交流类型"] == "交流轮岗"], ex[ex["交流类型"] == "走教"]
    assert rot["身份"].value_counts().to_dict() == {"教师": 279, "校长": 22}
    assert walk["身份证号"].nunique() == 20 and walk["交流学校"].nunique() == 14
    officers = pd.read_excel(Y2021 / "行政执法人员名册.xlsx", header=1, dtype=str)
    assert len(officers) == 7 and set(officers["用工性质"]) == {"在编", "编内"}
    assert (pd.to_datetime(officers["有效期至"]) >= "2022-12-31").all()
    insp = pd.read_excel(Y2021 / "2021年民办教育机构检查台账.xlsx", dtype=str)
    assert insp["检查日期"].map(to_date).map(lambda d: d.year == 2021).all()
    passed = insp[(insp["检查结论"] == "合格") & insp["办学许可证号"].notna()]
    assert passed["机构名称"].nunique() == 26
    assert ((insp["检查结论"] == "取缔") & insp["办学许可证号"].isna()).sum() == 5
    appr = pd.read_csv(Y2021 / "2021年民办教育机构审批台账.csv", dtype=str)
    assert (appr["机构类型"] == "民办幼儿园").sum() == 3
