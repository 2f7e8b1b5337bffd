"""Ledger kinds declared once (resources/ledgers/) and the two optional ledgers added through them.

The training and cases files below are written the way offices write them (synonym headers, a
title row, a 合计 row, dates in several forms, 是/否 variants), and the expected figures are
counted from the records as written here, never by reading the files back.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from edureport import paths
from edureport.checks.validate import SUITES, validate
from edureport.ingest import clean, specs
from edureport.ingest.clean import clean_folder
from edureport.ingest.normalize import category_values
from edureport.report.figures import compute, figure_codes, figure_table

from .conftest import TEST_KEY, run_cli, sample_copy, write_csv, write_xlsx
from .test_validate import tiny_conservation, tiny_policy, tiny_tables

YEAR = 2022


# ---------------------------------------------------------------- the specs themselves


def test_every_spec_names_what_exists() -> None:
    for s in specs.all_specs().values():
        for f in s.fields:
            assert f.normaliser in clean.NORMALISERS, (s.name, f.name)
            assert f.category is None or category_values(f.category), (s.name, f.name)
        named = [c for kind in (s.checks or {}).values() for c in kind]
        assert set(named) <= {*s.schema, "person"}, s.name
        for column in (s.in_year, s.exclude_left, *(s.repeat.columns if s.repeat else ())):
            assert column is None or column in s.columns, (s.name, column)
        assert s.control is None or s.control in specs.all_specs()
        assert s.name in SUITES  # each kind has its committed suite


def test_docs_show_the_specs_as_they_are() -> None:
    text = (paths.REPO_ROOT / "docs" / "ledgers.md").read_text(encoding="utf-8")
    start = text.index(specs.DOCS_BEGIN)
    end = text.index(specs.DOCS_END) + len(specs.DOCS_END)
    assert text[start:end] == specs.markdown(), "run: python -m edureport.ingest.specs"


def test_keywords_find_one_ledger_each() -> None:
    """No file named for one kind would also be taken for another."""
    all_specs = specs.all_specs().values()
    for s in all_specs:
        name = f"{YEAR}年{s.title}"
        assert [o.name for o in all_specs if o.keyword in name] == [s.name]


def test_figure_table_covers_every_computed_figure() -> None:
    table = figure_table()
    reg = compute(tiny_tables(), dt.date(YEAR, 12, 31))  # the optional ledgers included
    assert set(reg) == set(table)
    assert all(table[k].ledger in specs.all_specs() for k in table)
    assert {d.code for d in table.values() if d.code} == set(figure_codes())
    for key, figure in reg.items():
        assert (figure.label, figure.unit, figure.source) == (
            table[key].label,
            table[key].unit,
            table[key].ledger,
        )


# ---------------------------------------------------------------- the two optional ledgers

TRAINING = [  # as the office typed them: 日期, 内容, 对象, 人数, 课时
    ["2022年3月15日", "行政处罚法专题", "执法人员", "7", "8"],
    ["2022/6/20", "未成年人保护法", "中小学教师", "120", "4"],
    ["2022-11-08", "宪法进校园", "学生", "860", "2"],
    ["2022.12.02", "民法典学习", "机关工作人员", "45", "3"],
    ["2022-12-09", "执法文书规范", "行政执法人员", "6", "4"],
]
CASES = [  # 编号, 类型, 受理日期, 案由, 结果, 负责人出庭应诉
    ["县府复决字〔2022〕1号", "复议", "2022-02-11", "不服行政处罚", "予以维持", ""],
    ["县府复决字〔2022〕4号", "行政复议", "2022-07-01", "信息公开", "撤销", ""],
    ["（2022）行初5号", "行政应诉", "2022-05-06", "不服处罚", "驳回诉讼请求", "已出庭"],
    ["（2022）行初9号", "行政诉讼", "2022-09-30", "履行职责", "确认违法", "否"],
    ["（2022）行初12号", "诉讼", "2022-10-18", "不服处罚", "审理中", "是"],
]


def _optional_ledgers(folder: Path) -> None:
    write_xlsx(
        folder / "2022年法治培训台账.xlsx",
        [["序号", "日期", "内容", "对象", "人数", "课时"]]
        + [[i, *r] for i, r in enumerate(TRAINING, 1)]
        + [["合计", None, None, None, "1038", "21"]],
        title="测试县教育局2022年法治培训台账",
    )
    write_csv(
        folder / "2022年行政复议和行政应诉案件台账.csv",
        [["编号", "类型", "受理日期", "案由", "结果", "负责人出庭应诉"], *CASES],
    )


def test_optional_ledgers_as_offices_write_them(county_dir: Path) -> None:
    _optional_ledgers(county_dir)
    result = clean_folder(county_dir, YEAR)
    assert result.set_aside.empty
    reg = compute(result.tables, dt.date(YEAR, 12, 31))
    expect = {  # counted from TRAINING and CASES above
        "training_sessions": 5,
        "training_participants": 7 + 120 + 860 + 45 + 6,
        "training_hours": 8 + 4 + 2 + 3 + 4,
        "training_officers_sessions": 2,
        "training_officers_participants": 13,
        "training_officers_hours": 12,
        "training_teachers_participants": 120,
        "training_cadres_sessions": 1,
        "training_students_hours": 2,
        "cases_total": 5,
        "cases_review": 2,
        "cases_litigation": 3,
        "cases_review_corrected": 1,  # 撤销
        "cases_litigation_lost": 1,  # 确认违法
        "cases_principal_appeared": 2,
        "cases_principal_rate": 667,  # 2 of 3, in tenths of a percent, half-up
    }
    assert {k: reg[k].value for k in expect} == expect
    assert reg["cases_principal_rate"].text == "66.7%"
    # the cleaned tables keep no free text (主题, 案由) that could name someone
    assert "topic" not in result.tables["training"]
    assert "cause" not in result.tables["cases"]


def test_optional_ledgers_absent_leave_the_run_as_it_was(county_dir: Path) -> None:
    result = clean_folder(county_dir, YEAR)
    assert set(result.tables) == set(specs.ledger_names(optional=False))
    assert "training_sessions" not in compute(result.tables, dt.date(YEAR, 12, 31))


@pytest.mark.parametrize(
    ("row", "change", "set_aside"),
    [
        (0, {3: "0"}, "参训人数为零或负数"),
        (1, {0: "2021-12-30"}, "培训日期不在2022年度内"),
        (2, {2: "家长"}, "培训对象"),
    ],
)
def test_a_bad_training_row_is_set_aside_with_its_reason(
    county_dir: Path, row: int, change: dict[int, str], set_aside: str
) -> None:
    rows = [list(r) for r in TRAINING]
    for col, value in change.items():
        rows[row][col] = value
    write_csv(county_dir / "法治培训台账.csv", [["日期", "内容", "对象", "人数", "课时"], *rows])
    result = clean_folder(county_dir, YEAR)
    (aside,) = result.set_aside.itertuples(index=False)
    assert (aside.file, aside.row, aside.ledger) == ("法治培训台账.csv", row + 2, "training")
    assert set_aside in aside.reason


def test_case_checks_fail_on_a_repeated_number_and_a_missing_appearance(gx: object) -> None:
    tables = tiny_tables()
    cases = tables["cases"].copy()
    cases.loc[2, "case_no"] = cases.loc[1, "case_no"]
    cases.loc[1, "principal_appeared"] = None
    tables["cases"] = cases
    report = validate(tables, tiny_conservation(tables), tiny_policy())
    failed = {c.name: c for c in report.failed}
    assert set(failed) == {"cases.case_no_unique", "cases.principal_appeared_present_if_case_type"}
    rows = {(r.file, r.row) for r in failed["cases.case_no_unique"].offending}
    assert rows == {("行政复议和行政应诉案件台账.xlsx", 4), ("行政复议和行政应诉案件台账.xlsx", 5)}


@pytest.fixture(scope="module")
def gx() -> object:
    from edureport.checks.validate import get_context

    return get_context()


# ---------------------------------------------------------------- through the CLI


def test_narrative_naming_an_absent_ledger_stops_the_run(tmp_path: Path) -> None:
    """The sample's narrative uses the training figures: without the ledger, exit 2 naming it."""
    target = sample_copy(tmp_path / "data")
    for p in target.iterdir():
        if "法治培训" in p.name:
            p.unlink()
    proc = run_cli(tmp_path / "data", tmp_path / "out", TEST_KEY)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stdout + proc.stderr
    assert "training_sessions" in message and "法治培训台账" in message and "法治培训" in message
    assert "narrative.md" in message and "Traceback" not in message
    assert not (tmp_path / "out" / paths.SAMPLE_COUNTY / "2022" / "report.html").exists()
    shutil.rmtree(tmp_path / "data")
