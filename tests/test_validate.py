"""The Great Expectations suites: a tiny valid county passes; each expectation fails on cue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from edureport import paths
from edureport.checks import gx
from edureport.checks import validate as v
from edureport.checks.policy import Policy, national_defaults

from .conftest import visible_text

YEAR = 2022
AID_FILE = "2022年学生资助发放台账.xlsx"
CONTROL_FILE = "资助资金拨付汇总表.csv"

Tables = dict[str, pd.DataFrame]
Conservation = dict[str, dict[str, int]]


# --- a tiny valid county ---------------------------------------------------------------------


def _dates(values: list[str | None]) -> pd.Series:
    # pandas 3 parses to datetime64[us]: validate() must convert to [ns] itself.
    return pd.Series(pd.to_datetime(values)).astype("datetime64[us]")


def _aid() -> pd.DataFrame:
    rows = [
        # stage, programme, person, poor, term, fen, paid_on
        ("学前教育", "学前教育资助", "p01", False, "2022年春季学期", 75_050, "2022-03-05"),
        ("义务教育", "家庭经济困难学生生活费补助", "p02", False, "2022年春季学期", 62_500,
         "2022-04-01"),
        ("普通高中", "国家助学金", "p03", False, "2022年春季学期", 100_000, "2022-04-10"),
        ("普通高中", "国家助学金", "p03", False, "2022年秋季学期", 50_000, "2022-10-10"),
        ("普通高中", "建档立卡学生免学费、免书费、免住宿费", "p04", True, "2022年秋季学期",
         139_000, "2022-10-12"),
        ("中等职业教育", "国家助学金", "p05", True, "2022年春季学期", 100_000, "2022-05-01"),
        ("中等职业教育", "免学费", "p05", True, "2022年春季学期", 100_000, "2022-05-01"),
        ("中等职业教育", "免学费", "p06", False, "2022年秋季学期", 100_000, "2022-11-01"),
        ("中等职业教育", "免书费、免住宿费", "p06", False, "2022年秋季学期", 40_000,
         "2022-11-01"),
    ]  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=[
            "stage",
            "programme",
            "person",
            "registered_poor",
            "term",
            "amount_fen",
            "paid_on",
        ],
    )
    frame.insert(0, "school", "第一中学")
    frame.insert(0, "row", pd.array(range(4, 4 + len(rows)), dtype="int64"))
    frame.insert(0, "file", AID_FILE)
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    frame["paid_on"] = _dates(frame["paid_on"].tolist())
    return frame


def _control(aid: pd.DataFrame) -> pd.DataFrame:
    grouped = (
        aid.groupby(["stage", "programme"], sort=False, dropna=False)
        .agg(person_times=("amount_fen", "size"), amount_fen=("amount_fen", "sum"))
        .reset_index()
    )
    grouped.insert(0, "row", pd.array(range(2, 2 + len(grouped)), dtype="int64"))
    grouped.insert(0, "file", CONTROL_FILE)
    return grouped.astype({"person_times": "int64", "amount_fen": "int64"})


def _officers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "行政执法人员名册.xlsx",
            "row": pd.array([3, 4, 5], dtype="int64"),
            "person": ["o01", "o02", "o03"],
            "cert_no": ["JY001", "JY002", "JY003"],
            "cert_issued": _dates(["2020-01-01", "2021-06-30", "2022-12-31"]),
            "cert_valid_until": _dates(["2025-12-31", "2022-12-31", "2027-12-31"]),
            "employment": ["在编", "在编", "在编"],
            "training_hours": [40.0, 48.0, 60.5],
        }
    )


def _exchange() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "教师校长交流台账.csv",
            "row": pd.array([2, 3, 4, 5, 6], dtype="int64"),
            "person": ["t01", "t02", "t03", "t04", "t04"],
            "role": ["教师", "教师", "校长", "教师", "教师"],
            "kind": ["交流轮岗", "交流轮岗", "交流轮岗", "走教", "走教"],
            "to_school": ["河西小学", "东山小学", "城关小学", "东山小学", "南岭小学"],
            "start_on": _dates(["2022-09-01"] * 5),
        }
    )


def _inspections() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "民办教育机构检查台账.xlsx",
            "row": pd.array([3, 4, 5, 6], dtype="int64"),
            "institution": ["阳光幼儿园", "育才学校", "启明培训", "星辰培训"],
            "inst_type": ["民办幼儿园", "民办中小学", "校外培训机构", "校外培训机构"],
            "licence": ["XK001", "XK002", None, None],
            "inspected_on": _dates(["2022-05-01", "2022-06-01", "2022-06-02", "2022-12-31"]),
            "result": ["合格", "限期整改", "取缔", "限期整改"],
        }
    )


def _approvals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "民办教育机构审批台账.csv",
            "row": pd.array([2, 3], dtype="int64"),
            "institution": ["星星幼儿园", "月亮幼儿园"],
            "inst_type": ["民办幼儿园", "民办幼儿园"],
            "approved_on": _dates(["2022-01-01", "2022-08-08"]),
            "licence": ["XK010", "XK011"],
        }
    )


def _training() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "法治培训台账.xlsx",
            "row": pd.array([3, 4, 5], dtype="int64"),
            "trained_on": _dates(["2022-03-15", "2022-06-20", "2022-11-08"]),
            "audience": ["执法人员", "教师", "学生"],
            "participants": pd.array([7, 120, 860], dtype="int64"),
            "hours": pd.array([8, 4, 2], dtype="int64"),
        }
    )


def _cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": "行政复议和行政应诉案件台账.xlsx",
            "row": pd.array([3, 4, 5], dtype="int64"),
            "case_no": ["（2022）复1号", "（2022）行初5号", "（2022）行初9号"],
            "case_type": ["行政复议", "行政诉讼", "行政诉讼"],
            "received_on": _dates(["2022-02-11", "2022-05-06", "2022-09-30"]),
            "outcome": ["维持", "驳回", "审理中"],
            "principal_appeared": pd.array([None, True, False], dtype="boolean"),
        }
    )


def tiny_tables() -> Tables:
    """Small cleaned tables (docs/data-model.md) that agree with each other, the optional
    ledgers included."""
    aid = _aid()
    return {
        "aid": aid,
        "control": _control(aid),
        "officers": _officers(),
        "exchange": _exchange(),
        "inspections": _inspections(),
        "approvals": _approvals(),
        "training": _training(),
        "cases": _cases(),
    }


def tiny_conservation(tables: Tables) -> Conservation:
    """Row counts that balance: one aid row set aside, two non-data rows."""
    counts = {}
    for name, frame in tables.items():
        aside = 1 if name == "aid" else 0
        counts[name] = {
            "raw_rows": len(frame) + aside,
            "cleaned_rows": len(frame),
            "set_aside_rows": aside,
            "non_data_rows": 2,
        }
    return counts


def tiny_policy(**changes: Any) -> Policy:
    policy = dataclasses.replace(national_defaults(YEAR), declared_officers=3)
    return dataclasses.replace(policy, **changes)


@pytest.fixture(scope="session")
def gx_context() -> Any:
    """One GX context for the whole session (import and setup take seconds)."""
    return v.get_context()


@pytest.fixture(scope="session")
def baseline(gx_context: Any) -> v.ValidationReport:
    tables = tiny_tables()
    return v.validate(tables, tiny_conservation(tables), tiny_policy())


def failed_names(report: v.ValidationReport) -> set[str]:
    return {c.name for c in report.failed}


# --- the valid county passes ------------------------------------------------------------------


def test_valid_tables_pass_every_suite(baseline: v.ValidationReport) -> None:
    assert baseline.passed, [(c.name, c.found) for c in baseline.failed]
    assert {c.suite for c in baseline.checks} == set(v.SUITES)
    assert all(c.status == v.PASSED for c in baseline.checks)
    summary = baseline.summary()
    assert summary["checks_passed"] == summary["total"] == len(baseline.checks)
    assert summary["checks_not_configured"] == summary["checks_failed"] == 0


def test_every_committed_expectation_is_reported(baseline: v.ValidationReport) -> None:
    committed = {
        e["meta"]["name"]
        for path in v.suites_dir().glob("*.json")
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]
    }
    assert committed == {c.name for c in baseline.checks}
    assert len(committed) == len(baseline.checks)  # names are unique


# --- one mutation per expectation ---------------------------------------------------------------

Mutation = Callable[[Tables, Conservation], Policy | tuple[Policy, dict[str, Any]] | None]
# A mutation may also return (policy, extras): extras are validate()'s set_aside and
# stated_totals, which the tiny county does not have.


def _set(table: str, row: int, column: str, value: Any) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        frame = t[table]
        if value is None and frame[column].dtype == "int64":
            frame[column] = frame[column].astype("Int64")
        if value is None and frame[column].dtype == "bool":
            frame[column] = frame[column].astype("object")
        frame.loc[row, column] = value

    return mutate


def _add_column(table: str) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        t[table]["name"] = "张三"  # a personal-data column must never leave the clean step

    return mutate


def _drop_column(table: str, column: str) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        t[table] = t[table].drop(columns=[column])

    return mutate


def _date(table: str, row: int, column: str, value: str) -> Mutation:
    return _set(table, row, column, pd.Timestamp(value))


def _with_control_refreshed(mutation: Mutation) -> Mutation:
    """Mutate the aid ledger, then rebuild control so only the aid rule itself can fail."""

    def mutate(t: Tables, c: Conservation) -> None:
        mutation(t, c)
        t["control"] = _control(t["aid"])

    return mutate


def _duplicate_aid_row(t: Tables, c: Conservation) -> None:
    copy = t["aid"].iloc[[6]].copy()
    copy["row"] = 99
    t["aid"] = pd.concat([t["aid"], copy], ignore_index=True)
    t["control"] = _control(t["aid"])
    c["aid"] = {**c["aid"], "raw_rows": c["aid"]["raw_rows"] + 1, "cleaned_rows": len(t["aid"])}


def _control_amount_off(t: Tables, c: Conservation) -> None:
    t["control"].loc[2, "amount_fen"] += 10_000  # 100 元 more than the ledger paid


def _control_person_times_off(t: Tables, c: Conservation) -> None:
    t["control"].loc[5, "person_times"] += 1


def _control_row_missing(t: Tables, c: Conservation) -> None:
    t["control"] = t["control"].drop(index=6).reset_index(drop=True)
    c["control"] = {**c["control"], "raw_rows": 6, "cleaned_rows": 6}


def _control_invalid_pair(t: Tables, c: Conservation) -> None:
    extra = pd.DataFrame(
        [[CONTROL_FILE, 20, "普通高中", "免学费", 0, 0]], columns=t["control"].columns
    ).astype(t["control"].dtypes.to_dict())
    t["control"] = pd.concat([t["control"], extra], ignore_index=True)
    c["control"] = {**c["control"], "raw_rows": 8, "cleaned_rows": 8}


def _control_split_row(t: Tables, c: Conservation) -> None:
    ctl = t["control"]
    half = ctl.iloc[[5]].copy()  # 中职免学费: 2 人次, 200000 fen → two rows of 1 人次
    half["row"], half["person_times"], half["amount_fen"] = 30, 1, 100_000
    ctl.loc[5, ["person_times", "amount_fen"]] = [1, 100_000]
    t["control"] = pd.concat([ctl, half], ignore_index=True)
    c["control"] = {**c["control"], "raw_rows": 8, "cleaned_rows": 8}


def _float_column(table: str, column: str) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        t[table][column] = t[table][column].astype("float64")

    return mutate


def _declare(n: int) -> Mutation:
    return lambda t, c: tiny_policy(declared_officers=n)


def _same_person(table: str, row: int, as_row: int) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        t[table].loc[row, "person"] = t[table].loc[as_row, "person"]

    return mutate


def _conservation(ledger: str, **changes: int) -> Mutation:
    def mutate(t: Tables, c: Conservation) -> None:
        c[ledger] = {**c[ledger], **changes}

    return mutate


def _conservation_missing(t: Tables, c: Conservation) -> None:
    del c["approvals"]


def _aside(ledger: str, kind: str = "set_aside", accept: tuple[str, int] | None = None) -> Mutation:
    """One set-aside row of ``ledger`` (officers' file, row 9), optionally accepted in config."""

    def mutate(t: Tables, c: Conservation) -> tuple[Policy, dict[str, Any]]:
        from edureport.checks.policy import Accepted

        rows = [(ledger, "名册.xlsx", 9, "用工性质", "用工性质无法识别", kind)]
        aside = pd.DataFrame(rows, columns=["ledger", "file", "row", "column", "reason", "kind"])
        accepted = () if accept is None else (Accepted(*accept, "经核实已调出本单位"),)
        return tiny_policy(accepted=accepted), {"set_aside": aside}

    return mutate


def _stated(stated: int | None, computed: int = 150_000, column: str = "amount") -> Mutation:
    def mutate(t: Tables, c: Conservation) -> tuple[Policy, dict[str, Any]]:
        total = {"ledger": "control", "file": CONTROL_FILE, "sheet": None, "row": 9,
                 "kind": "total", "column": column, "stated": stated, "computed": computed,
                 "agrees": stated == computed}  # fmt: skip
        return tiny_policy(), {"stated_totals": [total]}

    return mutate


def _narrative(check: str, row: int | None = 4) -> Mutation:
    """One problem of the narrative (what steps.narrative_checks finds), in ``check``'s column."""

    def mutate(t: Tables, c: Conservation) -> tuple[Policy, dict[str, Any]]:
        item = (
            f"第{row}行第2列待填写：（待填写：导语。）" if row else "缺少法定内容：存在的不足和原因"
        )
        problem = {"check": check, "file": "narrative.md", "row": row, "item": item}
        return tiny_policy(), {"narrative": [problem]}

    return mutate


AIDC = "aid_control"
RECONCILE_PT = {f"{AIDC}.person_times_match", f"{AIDC}.total_person_times_match"}
RECONCILE_AMT = {f"{AIDC}.amount_match", f"{AIDC}.total_amount_match"}
UNRECONCILED = {f"{AIDC}.person_times_reconciled", f"{AIDC}.amount_reconciled"}
PAIR_MOVED = UNRECONCILED | {f"{AIDC}.person_times_match", f"{AIDC}.amount_match"}

# (case id, mutation, the exact set of checks that must fail)
CASES: list[tuple[str, Mutation, set[str]]] = [
    # aid ledger
    ("aid.columns", _add_column("aid"), {"aid.columns"}),
    ("aid.stage_present", _set("aid", 0, "stage", None), {"aid.stage_present", *PAIR_MOVED}),
    ("aid.programme_present", _set("aid", 0, "programme", None),
     {"aid.programme_present", *PAIR_MOVED}),
    ("aid.person_present", _set("aid", 0, "person", None), {"aid.person_present"}),
    ("aid.registered_poor_present", _set("aid", 0, "registered_poor", None),
     {"aid.registered_poor_present"}),
    ("aid.term_present", _set("aid", 0, "term", None), {"aid.term_present"}),
    ("aid.amount_fen_present", _set("aid", 0, "amount_fen", None),
     {"aid.amount_fen_present", *RECONCILE_AMT}),
    ("aid.paid_on_present", _set("aid", 0, "paid_on", None), {"aid.paid_on_present"}),
    ("aid.amount_fen_integer", _float_column("aid", "amount_fen"), {"aid.amount_fen_integer"}),
    ("aid.amount_positive", _with_control_refreshed(_set("aid", 0, "amount_fen", 0)),
     {"aid.amount_positive"}),
    ("aid.valid_programme", _set("aid", 2, "programme", "免学费"),
     {"aid.valid_programme", *PAIR_MOVED}),
    ("aid.standard_vocational_grant",
     _with_control_refreshed(_set("aid", 5, "amount_fen", 90_000)),
     {"aid.standard_vocational_grant"}),
    ("aid.standard_vocational_tuition",
     _with_control_refreshed(_set("aid", 6, "amount_fen", 150_000)),
     {"aid.standard_vocational_tuition"}),
    ("aid.standard_vocational_books_lodging",
     _with_control_refreshed(_set("aid", 8, "amount_fen", 50_000)),
     {"aid.standard_vocational_books_lodging"}),
    ("aid.standard_senior_high_grant",
     _with_control_refreshed(_set("aid", 3, "amount_fen", 80_000)),
     {"aid.standard_senior_high_grant"}),
    ("aid.registered_poor_only", _set("aid", 4, "registered_poor", False),
     {"aid.registered_poor_only"}),
    ("aid.no_double_payment", _duplicate_aid_row, {"aid.no_double_payment"}),
    ("aid.paid_on_in_year", _date("aid", 1, "paid_on", "2021-12-31"), {"aid.paid_on_in_year"}),
    # control totals and the reconciliation with the aid ledger
    ("control.columns", _add_column("control"), {"control.columns"}),
    ("control.stage_present", _set("control", 0, "stage", None),
     {"control.stage_present", *PAIR_MOVED}),
    ("control.programme_present", _set("control", 0, "programme", None),
     {"control.programme_present", *PAIR_MOVED}),
    ("control.person_times_present", _set("control", 0, "person_times", None),
     {"control.person_times_present", f"{AIDC}.person_times_reconciled",
      f"{AIDC}.total_person_times_match"}),
    ("control.amount_fen_present", _set("control", 0, "amount_fen", None),
     {"control.amount_fen_present", f"{AIDC}.amount_reconciled",
      f"{AIDC}.total_amount_match"}),
    ("control.amount_fen_integer", _float_column("control", "amount_fen"),
     {"control.amount_fen_integer"}),
    ("control.person_times_nonnegative", _set("control", 0, "person_times", -1),
     {"control.person_times_nonnegative", *RECONCILE_PT}),
    ("control.amount_nonnegative", _set("control", 0, "amount_fen", -75_050),
     {"control.amount_nonnegative", *RECONCILE_AMT}),
    ("control.valid_programme", _control_invalid_pair, {"control.valid_programme"}),
    ("control.one_row_per_programme", _control_split_row, {"control.one_row_per_programme"}),
    ("aid_control.amount_match", _control_amount_off, RECONCILE_AMT),
    ("aid_control.person_times_match", _control_person_times_off, RECONCILE_PT),
    ("aid_control.reconciled", _control_row_missing,
     UNRECONCILED | {f"{AIDC}.total_person_times_match", f"{AIDC}.total_amount_match"}),
    # officers
    ("officers.columns", _add_column("officers"), {"officers.columns"}),
    ("officers.count_matches_declared", _declare(4), {"officers.count_matches_declared"}),
    ("officers.person_present", _set("officers", 1, "person", None),
     {"officers.person_present"}),
    ("officers.person_unique", _same_person("officers", 1, as_row=0),
     {"officers.person_unique"}),
    ("officers.cert_no_present", _set("officers", 1, "cert_no", None),
     {"officers.cert_no_present"}),
    ("officers.cert_issued_present", _set("officers", 1, "cert_issued", None),
     {"officers.cert_issued_present"}),
    ("officers.cert_issued_by_report_date", _date("officers", 2, "cert_issued", "2023-01-01"),
     {"officers.cert_issued_by_report_date"}),
    ("officers.cert_valid_until_present", _set("officers", 1, "cert_valid_until", None),
     {"officers.cert_valid_until_present"}),
    ("officers.cert_valid_on_report_date",
     _date("officers", 1, "cert_valid_until", "2022-12-30"),
     {"officers.cert_valid_on_report_date"}),
    ("officers.employment_civil_service", _set("officers", 2, "employment", "合同工"),
     {"officers.employment_civil_service"}),
    ("officers.training_hours_present", _set("officers", 0, "training_hours", None),
     {"officers.training_hours_present"}),
    ("officers.training_hours_met", _set("officers", 0, "training_hours", 39.5),
     {"officers.training_hours_met"}),
    # exchange
    ("exchange.columns", _add_column("exchange"), {"exchange.columns"}),
    ("exchange.person_present", _set("exchange", 3, "person", None),
     {"exchange.person_present"}),
    ("exchange.role_present", _set("exchange", 0, "role", None),
     {"exchange.role_present", "exchange_rotation.teachers_plus_principals"}),
    ("exchange.kind_present", _set("exchange", 3, "kind", None), {"exchange.kind_present"}),
    ("exchange.to_school_present", _set("exchange", 4, "to_school", None),
     {"exchange.to_school_present"}),
    ("exchange.role_valid", _set("exchange", 0, "role", "职员"),
     {"exchange.role_valid", "exchange_rotation.teachers_plus_principals"}),
    ("exchange.kind_valid", _set("exchange", 3, "kind", "支教"), {"exchange.kind_valid"}),
    ("exchange.itinerant_are_teachers", _set("exchange", 4, "role", "校长"),
     {"exchange.itinerant_are_teachers"}),
    ("exchange_rotation.teachers_plus_principals", _same_person("exchange", 2, as_row=0),
     {"exchange_rotation.teachers_plus_principals"}),
    ("exchange_rotation.computed", _drop_column("exchange", "kind"),
     {"exchange.columns", "exchange.kind_present", "exchange.kind_valid",
      "exchange.itinerant_are_teachers", "exchange_rotation.computed"}),
    # inspections
    ("inspections.columns", _add_column("inspections"), {"inspections.columns"}),
    ("inspections.institution_present", _set("inspections", 0, "institution", None),
     {"inspections.institution_present"}),
    ("inspections.inst_type_present", _set("inspections", 0, "inst_type", None),
     {"inspections.inst_type_present"}),
    ("inspections.inst_type_valid", _set("inspections", 0, "inst_type", "培训机构"),
     {"inspections.inst_type_valid"}),
    ("inspections.result_present", _set("inspections", 1, "result", None),
     {"inspections.result_present"}),
    ("inspections.result_valid", _set("inspections", 1, "result", "整改中"),
     {"inspections.result_valid"}),
    ("inspections.banned_are_unlicensed", _set("inspections", 1, "result", "取缔"),
     {"inspections.banned_are_unlicensed"}),
    ("inspections.passed_are_licensed", _set("inspections", 3, "result", "合格"),
     {"inspections.passed_are_licensed"}),
    ("inspections.inspected_on_present", _set("inspections", 0, "inspected_on", None),
     {"inspections.inspected_on_present"}),
    ("inspections.inspected_on_in_year", _date("inspections", 0, "inspected_on", "2023-01-01"),
     {"inspections.inspected_on_in_year"}),
    # approvals
    ("approvals.columns", _add_column("approvals"), {"approvals.columns"}),
    ("approvals.institution_present", _set("approvals", 0, "institution", None),
     {"approvals.institution_present"}),
    ("approvals.inst_type_present", _set("approvals", 0, "inst_type", None),
     {"approvals.inst_type_present"}),
    ("approvals.inst_type_valid", _set("approvals", 0, "inst_type", "幼儿园"),
     {"approvals.inst_type_valid"}),
    ("approvals.approved_on_present", _set("approvals", 0, "approved_on", None),
     {"approvals.approved_on_present"}),
    ("approvals.approved_on_in_year", _date("approvals", 0, "approved_on", "2021-06-30"),
     {"approvals.approved_on_in_year"}),
    # training (optional ledger)
    ("training.columns", _add_column("training"), {"training.columns"}),
    ("training.trained_on_present", _set("training", 0, "trained_on", None),
     {"training.trained_on_present"}),
    ("training.audience_present", _set("training", 1, "audience", None),
     {"training.audience_present"}),
    ("training.participants_present", _set("training", 1, "participants", None),
     {"training.participants_present"}),
    ("training.hours_present", _set("training", 2, "hours", None), {"training.hours_present"}),
    ("training.audience_valid", _set("training", 1, "audience", "家长"),
     {"training.audience_valid"}),
    ("training.participants_positive", _set("training", 0, "participants", 0),
     {"training.participants_positive"}),
    ("training.hours_positive", _set("training", 2, "hours", 0), {"training.hours_positive"}),
    ("training.trained_on_in_year", _date("training", 2, "trained_on", "2023-01-02"),
     {"training.trained_on_in_year"}),
    # cases (optional ledger)
    ("cases.columns", _add_column("cases"), {"cases.columns"}),
    ("cases.case_no_present", _set("cases", 0, "case_no", None), {"cases.case_no_present"}),
    ("cases.case_type_present", _set("cases", 0, "case_type", None),
     {"cases.case_type_present"}),
    ("cases.received_on_present", _set("cases", 1, "received_on", None),
     {"cases.received_on_present"}),
    ("cases.outcome_present", _set("cases", 2, "outcome", None), {"cases.outcome_present"}),
    ("cases.case_type_valid", _set("cases", 0, "case_type", "信访"), {"cases.case_type_valid"}),
    ("cases.outcome_valid", _set("cases", 0, "outcome", "不予受理"), {"cases.outcome_valid"}),
    ("cases.case_no_unique", _set("cases", 2, "case_no", "（2022）行初5号"),
     {"cases.case_no_unique"}),
    ("cases.principal_appeared_present_if_case_type", _set("cases", 1, "principal_appeared", None),
     {"cases.principal_appeared_present_if_case_type"}),
    ("cases.received_on_in_year", _date("cases", 0, "received_on", "2021-12-30"),
     {"cases.received_on_in_year"}),
    # conservation
    ("conservation.rows_conserved", _conservation("aid", raw_rows=11),
     {"conservation.rows_conserved"}),
    ("conservation.counted", _conservation_missing, {"conservation.counted"}),
    # set-aside rows: accounted for, or accepted in config.yaml
    ("set_aside.accounted_for", _aside("officers"), {"set_aside.accounted_for"}),
    ("set_aside.acceptances_current", _aside("officers", accept=("名册.xlsx", 10)),
     {"set_aside.acceptances_current", "set_aside.accounted_for"}),
    # the files' own totals
    ("stated_totals.amount_match", _stated(160_000), {"stated_totals.amount_match"}),
    ("stated_totals.person_times_match", _stated(9, 8, "person_times"),
     {"stated_totals.person_times_match"}),
    ("stated_totals.readable", _stated(None), {"stated_totals.readable"}),
    ("conservation.matches_table", _conservation("officers", raw_rows=4, cleaned_rows=4),
     {"conservation.matches_table"}),
    # the narrative: finished, complete, 同比 backed by last year's valid ledgers
    ("narrative.no_todo", _narrative("todo"), {"narrative.no_todo"}),
    ("narrative.mandated_parts", _narrative("missing_part", row=None),
     {"narrative.mandated_parts"}),
    ("narrative.previous_year_for_change", _narrative("previous_missing", row=16),
     {"narrative.previous_year_for_change"}),
    ("narrative.previous_year_valid", _narrative("previous_invalid", row=16),
     {"narrative.previous_year_valid"}),
]  # fmt: skip


def _mutated(mutation: Mutation) -> tuple[Tables, Conservation, Policy, dict[str, Any]]:
    tables = {name: frame.copy() for name, frame in tiny_tables().items()}
    conservation = tiny_conservation(tables)
    result = mutation(tables, conservation)
    policy, extras = result if isinstance(result, tuple) else (result or tiny_policy(), {})
    return tables, conservation, policy, extras


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return list(a.columns) == list(b.columns) and a.dtypes.equals(b.dtypes) and a.equals(b)


def _suite_parameters(name: str) -> set[str]:
    suite = json.loads((v.suites_dir() / f"{name}.json").read_text(encoding="utf-8"))
    return {
        value["$PARAMETER"]
        for e in suite["expectations"]
        for value in e["kwargs"].values()
        if isinstance(value, dict) and "$PARAMETER" in value
    }


def _run(mutation: Mutation) -> v.ValidationReport:
    """validate() on the mutated county, re-running only the suites whose input changed.

    GX costs ~50 ms per expectation here, so the unchanged suites reuse the baseline's checks
    (a suite's result depends only on its frame and its parameters);
    test_shortcut_agrees_with_validate checks that this equals a full run.
    """
    tables, conservation, policy, extras = _mutated(mutation)
    base_tables = tiny_tables()
    base_frames = v.build_frames(base_tables, tiny_conservation(base_tables))
    base_params = v.expectation_parameters(tiny_policy())
    base_checks = _baseline_by_suite()
    frames = v.build_frames(
        tables,
        conservation,
        extras.get("set_aside"),
        extras.get("stated_totals", ()),
        policy.accepted,
        extras.get("narrative", ()),
    )
    params = v.expectation_parameters(policy)
    checks: list[v.Check] = []
    for name in v.SUITES:
        used = _suite_parameters(name)
        same_params = {k: params.get(k) for k in used} == {k: base_params.get(k) for k in used}
        if same_params and _same(frames[name], base_frames[name]):
            checks += base_checks[name]
        else:
            checks += v.run_suite(v.get_context(), name, frames[name], params)
    return v.ValidationReport(checks=checks, policy=v.policy_summary(policy))


@functools.cache
def _baseline_by_suite() -> dict[str, list[v.Check]]:
    tables = tiny_tables()
    report = v.validate(tables, tiny_conservation(tables), tiny_policy())
    return {name: [c for c in report.checks if c.suite == name] for name in v.SUITES}


def test_shortcut_agrees_with_validate(gx_context: Any) -> None:
    for mutation in (_duplicate_aid_row, _declare(2), _narrative("todo")):
        tables, conservation, policy, extras = _mutated(mutation)
        full = v.validate(tables, conservation, policy, **extras)
        assert [c.to_dict() for c in _run(mutation).checks] == [c.to_dict() for c in full.checks]


@pytest.mark.parametrize(("case", "mutation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_mutation_fails_exactly_the_intended_checks(
    gx_context: Any, case: str, mutation: Mutation, expected: set[str]
) -> None:
    report = _run(mutation)
    assert not report.passed
    assert failed_names(report) == expected
    for check in report.failed:
        assert check.found and check.expected and check.rule


def test_every_expectation_has_a_failing_mutation(baseline: v.ValidationReport) -> None:
    intended = {c[0] for c in CASES} | set().union(*(c[2] for c in CASES))
    missing = {c.name for c in baseline.checks} - intended
    assert not missing, f"no mutation makes these fail: {sorted(missing)}"


def _checks(name: str, frame: pd.DataFrame, params: dict[str, Any], compact: int) -> str:
    """``run_suite`` with frames of ``compact`` rows or more checked in compact form first (as
    JSON: a null value is NaN, which equals nothing)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(gx, "COMPACT_ROWS", compact)
        checks = v.run_suite(v.get_context(), name, frame, params)
    return json.dumps([c.to_dict() for c in checks], ensure_ascii=False, default=str)


@pytest.mark.parametrize(("case", "mutation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_compact_run_reports_what_the_whole_frame_does(
    gx_context: Any, case: str, mutation: Mutation, expected: set[str]
) -> None:
    """Every check of a ledger suite words, counts and locates the same in compact form: on the
    mutated county, and on it three times over (rows repeat, so groups hold several rows)."""
    tables, conservation, policy, extras = _mutated(mutation)
    base_tables = tiny_tables()
    base_frames = v.build_frames(base_tables, tiny_conservation(base_tables))
    frames = v.build_frames(
        tables, conservation, extras.get("set_aside"), extras.get("stated_totals", ()),
        policy.accepted, extras.get("narrative", ()),
    )  # fmt: skip
    params = v.expectation_parameters(policy)
    changed = [n for n in v.LEDGERS if n in frames and not _same(frames[n], base_frames[n])]
    for name in changed or ["aid"]:
        thrice = pd.concat([frames[name]] * 3, ignore_index=True)
        for frame in (frames[name], thrice):
            assert _checks(name, frame, params, 1) == _checks(name, frame, params, 10**9)


def test_ledger_suites_run_in_compact_form(
    gx_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ledger suite but the roster's (a row count is not a check of rows) is checked in
    compact form, without falling back to the whole frame."""
    used: dict[str, bool] = {}
    weighted = gx._weighted

    def spy(results: list[Any], compact: Any) -> Any:
        out = weighted(results, compact)
        used[results[0].expectation_config.meta["name"].split(".")[0]] = out is not None
        return out

    monkeypatch.setattr(gx, "_weighted", spy)
    monkeypatch.setattr(gx, "COMPACT_ROWS", 1)
    tables = tiny_tables()
    frames = v.build_frames(tables, tiny_conservation(tables))
    params = v.expectation_parameters(tiny_policy())
    ledgers = [n for n in v.LEDGERS if n in frames]
    for name in ledgers:
        v.run_suite(gx_context, name, frames[name], params)
    assert used == {n: True for n in ledgers if n != "officers"}


# --- what a failed check says -------------------------------------------------------------------


def test_control_total_off_by_100_yuan_names_the_control_row(gx_context: Any) -> None:
    report = _run(_control_amount_off)
    check = report.check("aid_control.amount_match")
    assert check.offending_count == 1
    (ref,) = check.offending
    assert (ref.file, ref.row) == (CONTROL_FILE, 4)
    assert "普通高中/国家助学金" in ref.item and "1,500.00" in ref.item and "1,600.00" in ref.item
    assert "台账比汇总表少 100.00 元" in check.found  # which side is higher, in words
    total = report.check("aid_control.total_amount_match")
    assert "7,665.50" in total.offending[0].item and "7,765.50" in total.offending[0].item


def test_duplicate_payment_lists_both_rows_without_the_pseudonym(gx_context: Any) -> None:
    report = _run(_duplicate_aid_row)
    check = report.check("aid.no_double_payment")
    assert {(r.file, r.row) for r in check.offending} == {(AID_FILE, 10), (AID_FILE, 99)}
    assert "p05" not in report.to_json()
    assert "p05" not in v.render_html(report)
    assert "partial_unexpected_counts" not in json.dumps(check.ge_result)


def test_expired_certificate_reports_file_row_and_date(gx_context: Any) -> None:
    report = _run(_date("officers", 1, "cert_valid_until", "2022-06-30"))
    check = report.check("officers.cert_valid_on_report_date")
    assert [(r.file, r.row) for r in check.offending] == [("行政执法人员名册.xlsx", 4)]
    assert "2022-12-31" in check.expected
    assert "2022-06-30" in check.found
    assert check.to_dict()["rows"] == [["行政执法人员名册.xlsx", 4]]


def test_wrong_standard_amount_is_shown_in_yuan(gx_context: Any) -> None:
    report = _run(_with_control_refreshed(_set("aid", 5, "amount_fen", 90_000)))
    check = report.check("aid.standard_vocational_grant")
    assert "1,000.00 元" in check.expected and "中等职业教育" in check.expected
    assert "900.00 元（1 行）" in check.found
    assert [(r.file, r.row) for r in check.offending] == [(AID_FILE, 9)]


def test_extra_personal_column_is_named(gx_context: Any) -> None:
    report = _run(_add_column("aid"))
    assert report.check("aid.columns").found == "多出：姓名"
    assert "张三" not in report.to_json()


def test_offending_rows_are_capped(gx_context: Any) -> None:
    def many(t: Tables, c: Conservation) -> None:
        aid = pd.concat([t["aid"].iloc[[0]]] * 120, ignore_index=True)
        aid["row"] = range(4, 124)
        aid["person"] = [f"q{i:03d}" for i in range(120)]
        aid["paid_on"] = pd.Timestamp("2021-06-01")
        t["aid"] = aid
        t["control"] = _control(aid)
        c["aid"] = {**c["aid"], "raw_rows": 121, "cleaned_rows": 120}

    check = _run(many).check("aid.paid_on_in_year")
    assert check.offending_count == 120
    assert len(check.offending) == v.MAX_OFFENDING
    assert "另有70行未列出" in visible_text(v.render_html(_run(many)))


def test_unfinished_narrative_lists_each_place_with_its_line(gx_context: Any) -> None:
    from edureport.runs import summaries

    places = [5, 11, 25, 33, 37, 45, 49, 53, 60, 70, 80, 90]  # more than the console's usual 10

    def unfinished(t: Tables, c: Conservation) -> tuple[Policy, dict[str, Any]]:
        rows = [
            {"check": "todo", "file": "narrative.md", "row": n,
             "item": f"第{n}行第2列待填写：（待填写：导语。）"}
            for n in places
        ]  # fmt: skip
        rows.append({"check": "missing_part", "file": "narrative.md", "row": None,
                     "item": "缺少法定内容：存在的不足和原因"})  # fmt: skip
        return tiny_policy(), {"narrative": rows}

    report = _run(unfinished)
    assert failed_names(report) == {"narrative.no_todo", "narrative.mandated_parts"}
    todo = report.check("narrative.no_todo")
    assert [(r.file, r.row) for r in todo.offending] == [("narrative.md", n) for n in places]
    assert todo.found == "12 处" and "待填写" in todo.expected
    assert todo.to_dict()["rows"] == [["narrative.md", n] for n in places]
    lines = summaries.validation_lines(json.loads(report.to_json()))
    for n in places:  # the console lists every place, not the first ten
        assert sum(f"第{n}行第2列待填写" in line for line in lines) == 1
    assert any("缺少法定内容：存在的不足和原因" in line for line in lines)
    page = visible_text(v.render_html(report))
    assert "narrative.md：第5、11、25" in page and "第90行第2列待填写" in page


# --- not configured -------------------------------------------------------------------------------


def test_officer_count_is_not_configured_without_a_declared_value(gx_context: Any) -> None:
    report = _run(lambda t, c: tiny_policy(declared_officers=None))
    check = report.check("officers.count_matches_declared")
    assert check.status == v.NOT_CONFIGURED
    assert "declared_officers" in check.expected
    assert report.passed  # not configured does not fail the run …
    summary = report.summary()
    assert summary["checks_not_configured"] == 1  # … but is counted and listed, never as passed
    assert summary["not_configured"] == ["officers.count_matches_declared"]
    assert summary["checks_passed"] == summary["total"] - 1
    page = visible_text(v.render_html(report))
    assert "未配置的校验" in page and "未配置1项" in page
    # the other officer checks still ran
    assert report.check("officers.cert_no_present").status == v.PASSED


def test_not_configured_does_not_hide_failures(gx_context: Any) -> None:
    def both(t: Tables, c: Conservation) -> Policy:
        t["officers"].loc[0, "employment"] = "临时工"
        return tiny_policy(declared_officers=None)

    report = _run(both)
    assert failed_names(report) == {"officers.employment_civil_service"}
    assert len(report.not_configured) == 1


# --- output files ------------------------------------------------------------------------------


def test_write_json_and_offline_html(gx_context: Any, tmp_path: Path) -> None:
    def hostile(t: Tables, c: Conservation) -> None:
        t["aid"]["file"] = "<img src=x onerror=alert(1)>.xlsx"
        t["aid"].loc[0, "stage"] = "<script>alert('x')</script>"

    report = _run(hostile)
    json_path, html_path = report.write(tmp_path / "run")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["passed"] is False and data["summary"]["passed"] is False
    assert {c["name"] for c in data["checks"]} == {c.name for c in report.checks}
    failed = next(c for c in data["checks"] if c["name"] == "aid.valid_programme")
    assert failed["status"] == "failed"
    assert failed["rows"] == [["<img src=x onerror=alert(1)>.xlsx", 4]]
    assert set(failed["ge_result"]) == {"success", "expectation_type", "kwargs", "result",
                                        "exception"}  # fmt: skip
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "onerror=alert" in page
    assert "&lt;script&gt;" in page
    assert not re.search(r"(?i)https?://|//cdn|<link|@import|src=", page.replace("src=x", ""))
    assert '<html lang="zh-CN">' in page and "校验未通过" in page
    for person in tiny_tables()["aid"]["person"]:
        assert person not in page and person not in json_path.read_text(encoding="utf-8")


def test_summary_table(baseline: v.ValidationReport) -> None:
    table = baseline.summary_table()
    assert len(table) == len(baseline.checks) and set(table["状态"]) == {"通过"}
    failing = _run(_control_amount_off)
    assert "aid_control.amount_match" in {c.name for c in failing.failed}


def test_policy_values_drive_the_parameters(gx_context: Any) -> None:
    later = tiny_policy(report_date=dt.date(2023, 1, 15))
    tables = tiny_tables()
    report = v.validate(tables, tiny_conservation(tables), later)
    # o02's certificate ends 2022-12-31: valid on 31 Dec, expired on 15 Jan
    assert failed_names(report) == {"officers.cert_valid_on_report_date"}
    assert report.policy["report_date"] == "2023-01-15"


# --- context, suites and the repository ---------------------------------------------------------


def test_context_lives_in_the_package_not_the_cwd(
    gx_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert v.get_context() is gx_context
    assert Path(gx_context.root_directory).resolve() == (paths.EXPECTATIONS_DIR / "gx").resolve()
    tables = tiny_tables()
    v.validate(tables, tiny_conservation(tables), tiny_policy())
    assert not (tmp_path / "gx").exists()
    assert gx_context.variables.analytics_enabled is False
    assert not v.progress_bars_enabled(gx_context)


def test_committed_suites_match_the_generator() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_suites", paths.EXPECTATIONS_DIR / "build_suites.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, specs in module.all_specs().items():
        path = v.suites_dir() / f"{name}.json"
        assert path.read_text(encoding="utf-8") == module.render(name, specs), name


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file GX could write under ``root``, except its git-ignored ``uncommitted/``."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "uncommitted" not in p.relative_to(root).parts
        and "__pycache__" not in p.parts
    }  # fmt: skip


def test_validation_leaves_the_repository_clean(gx_context: Any) -> None:
    before = _snapshot(paths.EXPECTATIONS_DIR)
    tables = tiny_tables()
    v.validate(tables, tiny_conservation(tables), tiny_policy(declared_officers=None))
    v.open_context()  # a second setup (a notebook re-running its cells) is idempotent
    assert _snapshot(paths.EXPECTATIONS_DIR) == before
    stored = paths.EXPECTATIONS_DIR / "gx" / "uncommitted" / "validations"
    assert not list(stored.rglob("*.json"))  # results are not stored (they could hold values)
    ignore = (paths.EXPECTATIONS_DIR / "gx" / ".gitignore").read_text(encoding="utf-8")
    assert "uncommitted/" in ignore.split()


def test_dates_in_microseconds_are_converted(baseline: v.ValidationReport) -> None:
    frames = v.build_frames(tiny_tables(), {})
    assert frames["aid"]["paid_on"].dtype == "datetime64[ns]"
    assert frames["officers"]["cert_valid_until"].dtype == "datetime64[ns]"
    assert tiny_tables()["aid"]["paid_on"].dtype == "datetime64[us]"  # input left untouched


def test_missing_table_fails_visibly(gx_context: Any) -> None:
    def drop(t: Tables, c: Conservation) -> None:
        del t["approvals"]

    report = v.validate(*_mutated(drop)[:3])
    approvals = {c.name for c in report.checks if c.suite == "approvals"}
    assert failed_names(report) == approvals | {"conservation.matches_table"}
    found = report.check("approvals.columns").found
    assert found.startswith("缺少：") and "审批日期" in found and "文件" in found
    assert report.check("approvals.approved_on_in_year").found.startswith("无法校验")


def test_text_amounts_fail_the_type_check_and_reconciliation(gx_context: Any) -> None:
    def text_amounts(t: Tables, c: Conservation) -> None:
        amounts = t["aid"]["amount_fen"].astype(str)
        amounts[0] = "七百五十元"
        t["aid"]["amount_fen"] = amounts

    report = v.validate(*_mutated(text_amounts)[:3])
    failed = failed_names(report)
    assert {"aid.amount_fen_integer", *RECONCILE_AMT} <= failed
    assert {c.suite for c in report.failed} == {"aid", "aid_control"}
