"""(Re)generate the committed Great Expectations suites under ``expectations/gx/expectations/``.

The JSON files are the source of truth the validation run loads; this script only writes them, in
a stable form (deterministic ids, sorted keys, UTF-8 so the Chinese rules stay readable). Run it
after changing a rule here or the standards in ``edureport/resources/standards.yaml``::

    .venv/bin/python expectations/build_suites.py

Values that vary by county-year (declared officer count, report year and date, standards, valid
programme pairs) are ``$PARAMETER`` placeholders filled from the Policy at run time.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # allow running as a plain script
    sys.path.insert(0, str(REPO_ROOT))

from edureport.checks.policy import national_defaults  # noqa: E402
from edureport.checks.validate import (  # noqa: E402
    HELPER_COLUMNS,
    LEDGERS,
    SUITE_TITLES,
    get_context,
    suites_dir,
)
from edureport.ingest.normalize import category_values  # noqa: E402
from edureport.ingest.specs import spec as ledger_spec  # noqa: E402

ID_NAMESPACE = uuid.UUID("6f1f0a52-3c39-4f4e-9d55-6c3a2b1d0e01")

ALL_AID = ["F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12"]
EXCHANGE = ["F13", "F14", "F15", "F16"]
# The cleaned tables' columns, from the ledger specs (resources/ledgers/<kind>.yaml).
SCHEMAS: dict[str, list[str]] = {name: ledger_spec(name).schema for name in LEDGERS}


def param(name: str) -> dict[str, str]:
    """A run-time parameter placeholder (ASCII names only: GX parses them as expressions)."""
    return {"$PARAMETER": name}


def spec(
    kind: str,
    name: str,
    rule: str,
    figures: list[str],
    expected: str | None = None,
    sides: tuple[str, str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One expectation: GX class name, our check name, its rule in Chinese, guarded figures.

    ``expected`` words the target plainly where the generated wording would name a helper
    column; ``sides`` (left, right, unit) words a difference column's values as
    “左比右多/少 N 单位” (the column holds left − right).
    """
    meta = {"expected": expected} if expected else {}
    if sides:
        meta["sides"] = list(sides)
    return {"kind": kind, "name": name, "rule": rule, "figures": figures, "meta": meta,
            "kwargs": kwargs}  # fmt: skip


def columns(ledger: str, figures: list[str]) -> dict[str, Any]:
    return spec(
        "ExpectTableColumnsToMatchSet", f"{ledger}.columns",
        "表的列与数据模型完全一致（不多不少：不得带出姓名、身份证号等列）", figures,
        expected="清洗后的表的列与数据模型一致",
        column_set=[*SCHEMAS[ledger], *HELPER_COLUMNS.get(ledger, ())], exact_match=True,
    )  # fmt: skip


def not_null(ledger: str, column: str, what: str, figures: list[str]) -> dict[str, Any]:
    return spec(
        "ExpectColumnValuesToNotBeNull", f"{ledger}.{column}_present",
        f"每一行都填写了{what}", figures, column=column,
    )  # fmt: skip


def in_year(ledger: str, column: str, what: str, figures: list[str]) -> dict[str, Any]:
    return spec(
        "ExpectColumnValuesToBeBetween", f"{ledger}.{column}_in_year",
        f"{what}在报告年度内", figures,
        column=column, min_value=param("year_start"), max_value=param("year_end"),
    )  # fmt: skip


def valid_programme(ledger: str, figures: list[str]) -> dict[str, Any]:
    # On the helper key "学段/资助项目" that validate.py adds: GX's column-pair check loops over
    # rows in Python (iterrows), ~0.1 ms a row; an in-set check on one column is vectorised.
    return spec(
        "ExpectColumnValuesToBeInSet", f"{ledger}.valid_programme",
        "学段与资助项目的组合是国家规定的有效组合", figures,
        column="stage_programme", value_set=param("valid_stage_programmes"),
    )  # fmt: skip


def in_set(ledger: str, column: str, values: list[str], what: str, figs: list[str]) -> dict:
    return spec(
        "ExpectColumnValuesToBeInSet", f"{ledger}.{column}_valid",
        f"{what}只能是：{'、'.join(values)}", figs, column=column, value_set=values,
    )  # fmt: skip


def unique(ledger: str, column: str, what: str, figures: list[str]) -> dict[str, Any]:
    return spec(
        "ExpectColumnValuesToBeUnique", f"{ledger}.{column}_unique",
        f"{what}不重复", figures, column=column,
    )  # fmt: skip


def positive(ledger: str, column: str, what: str, figures: list[str]) -> dict[str, Any]:
    return spec(
        "ExpectColumnValuesToBeBetween", f"{ledger}.{column}_positive",
        f"{what}大于 0", figures, column=column, min_value=1,
    )  # fmt: skip


def present_if(
    ledger: str, column: str, what: str, when: str, value: str, figures: list[str]
) -> dict[str, Any]:
    return spec(
        "ExpectColumnValuesToNotBeNull", f"{ledger}.{column}_present_if_{when}",
        f"{value}的每一行都填写了{what}", figures, column=column, row_condition=_eq(when, value),
    )  # fmt: skip


def ledger_suite(name: str, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ledger's suite: the generic checks its spec declares, then ``extra`` (rules no generic
    check expresses), then the in-year dates."""
    s = ledger_spec(name)
    f = list(s.figures)
    declared = s.checks or {}

    def category(column: str) -> list[str]:
        return list(category_values(str(s.field(column).category)))

    return [
        columns(name, f),
        *(not_null(name, c, what, f) for c, what in declared.get("present", {}).items()),
        *(in_set(name, c, category(c), what, f) for c, what in declared.get("valid", {}).items()),
        *(unique(name, c, what, f) for c, what in declared.get("unique", {}).items()),
        *(positive(name, c, what, f) for c, what in declared.get("positive", {}).items()),
        *(
            present_if(name, c, what, column, value, f)
            for c, (what, column, value) in declared.get("present_if", {}).items()
        ),
        *extra,
        *(in_year(name, c, what, f) for c, what in declared.get("in_year", {}).items()),
    ]


def aid_extra(standards: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    f = ALL_AID
    checks = [
        spec("ExpectColumnValuesToBeInTypeList", "aid.amount_fen_integer",
             "金额以整数“分”保存（不用浮点数，保证分毫不差）", f,
             column="amount_fen", type_list=["int64", "Int64Dtype"]),
        spec("ExpectColumnValuesToBeBetween", "aid.amount_positive",
             "每笔资助金额大于 0", f, column="amount_fen", min_value=1),
        valid_programme("aid", f),
    ]  # fmt: skip
    for code, stage, programme in standards:
        checks.append(
            spec("ExpectColumnValuesToBeInSet", f"aid.standard_{code}",
                 f"{stage}“{programme}”每人次金额等于标准金额", f,
                 column="amount_fen", value_set=param(f"standard_{code}"),
                 row_condition={"type": "and", "conditions": [
                     _eq("stage", stage), _eq("programme", programme)]})
        )  # fmt: skip
    checks += [
        spec("ExpectColumnValuesToBeInSet", "aid.registered_poor_only",
             "建档立卡专项资助只发给建档立卡学生", ["F9", "F4", "F5"],
             column="programme_registered_poor", value_set=param("programme_poor_keys")),
        spec("ExpectCompoundColumnsToBeUnique", "aid.no_double_payment",
             "同一学生同一学期同一资助项目（学段+项目）只发放一次", f,
             column_list=["person", "stage", "programme", "term"]),
    ]  # fmt: skip
    return checks


def control_extra() -> list[dict[str, Any]]:
    f = ALL_AID
    return [
        spec("ExpectColumnValuesToBeInTypeList", "control.amount_fen_integer",
             "金额以整数“分”保存", f, column="amount_fen", type_list=["int64", "Int64Dtype"]),
        spec("ExpectColumnValuesToBeBetween", "control.person_times_nonnegative",
             "人次不为负数", f, column="person_times", min_value=0),
        spec("ExpectColumnValuesToBeBetween", "control.amount_nonnegative",
             "金额不为负数", f, column="amount_fen", min_value=0),
        valid_programme("control", f),
        spec("ExpectCompoundColumnsToBeUnique", "control.one_row_per_programme",
             "每个学段+资助项目在汇总表中只有一行", f, column_list=["stage", "programme"]),
    ]  # fmt: skip


def officers_extra() -> list[dict[str, Any]]:
    f = ["F17"]
    return [
        spec("ExpectTableRowCountToEqual", "officers.count_matches_declared",
             "执法人员名册人数等于申报的执法人员数", f, value=param("declared_officers")),
        spec("ExpectColumnValuesToBeUnique", "officers.person_unique",
             "同一人在名册中只出现一次", f, column="person"),
        spec("ExpectColumnValuesToNotBeNull", "officers.cert_no_present",
             "每名执法人员都持有执法证（执法证号不为空）", f, column="cert_no"),
        spec("ExpectColumnValuesToBeBetween", "officers.cert_issued_by_report_date",
             "执法证在报告日期之前（含当日）已发证", f,
             column="cert_issued", max_value=param("report_date")),
        spec("ExpectColumnValuesToBeBetween", "officers.cert_valid_on_report_date",
             "执法证在报告日期仍然有效（有效期至不早于报告日期）", f,
             column="cert_valid_until", min_value=param("report_date")),
        spec("ExpectColumnValuesToBeInSet", "officers.employment_civil_service",
             "执法人员全部为在编人员（无合同工、临时工等上岗执法）", ["F18"],
             column="employment", value_set=["在编"]),
        spec("ExpectColumnValuesToBeBetween", "officers.training_hours_met",
             "每名执法人员年度培训学时达到要求", f,
             column="training_hours", min_value=param("training_hours_required")),
    ]  # fmt: skip


def exchange_extra() -> list[dict[str, Any]]:
    return [
        spec("ExpectColumnValuesToBeInSet", "exchange.itinerant_are_teachers",
             "走教人员的身份都是教师", ["F15"],
             column="role", value_set=["教师"], row_condition=_eq("kind", "走教")),
    ]  # fmt: skip


def inspections_extra() -> list[dict[str, Any]]:
    return [
        spec("ExpectColumnValuesToBeNull", "inspections.banned_are_unlicensed",
             "结论为“取缔”的只能是无办学许可证的机构", ["F2"],
             column="licence", row_condition=_eq("result", "取缔")),
        spec("ExpectColumnValuesToNotBeNull", "inspections.passed_are_licensed",
             "结论为“合格”的只能是持有办学许可证的机构", ["F1"],
             column="licence", row_condition=_eq("result", "合格")),
    ]  # fmt: skip


def aid_control_suite() -> list[dict[str, Any]]:
    """On the reconciliation frame: one row per (stage, programme) plus a 合计 row."""
    item, total = _eq("level", "项目"), _eq("level", "合计")
    pt, amt = ["F4", *ALL_AID[2:]], ["F5", *ALL_AID[2:]]
    ppl, money = ("台账", "汇总表", "人次"), ("台账", "汇总表", "元")
    return [
        spec("ExpectColumnValuesToNotBeNull", "aid_control.person_times_reconciled",
             "资助台账的每个学段+资助项目在拨付汇总表中都有人次可供核对", pt,
             expected="每个项目在汇总表中都有人次", column="diff_person_times",
             row_condition=item),
        spec("ExpectColumnValuesToBeInSet", "aid_control.person_times_match",
             "每个学段+资助项目的资助人次与拨付汇总表一致", pt,
             expected="每个项目：台账与汇总表的人次相同", sides=ppl,
             column="diff_person_times", value_set=[0], row_condition=item),
        spec("ExpectColumnValuesToNotBeNull", "aid_control.amount_reconciled",
             "资助台账的每个学段+资助项目在拨付汇总表中都有金额可供核对", amt,
             expected="每个项目在汇总表中都有金额", column="diff_amount_fen",
             row_condition=item),
        spec("ExpectColumnValuesToBeInSet", "aid_control.amount_match",
             "每个学段+资助项目的资助金额与拨付汇总表一致（精确到分）", amt,
             expected="每个项目：台账与汇总表的金额相同（分毫不差）", sides=money,
             column="diff_amount_fen", value_set=[0], row_condition=item),
        spec("ExpectColumnValuesToBeInSet", "aid_control.total_person_times_match",
             "各项目资助人次之和等于拨付汇总表的合计人次", ["F4"],
             expected="合计：台账与汇总表的人次相同", sides=ppl,
             column="diff_person_times", value_set=[0], row_condition=total),
        spec("ExpectColumnValuesToBeInSet", "aid_control.total_amount_match",
             "各项目资助金额之和等于拨付汇总表的合计金额（精确到分）", ["F5"],
             expected="合计：台账与汇总表的金额相同（分毫不差）", sides=money,
             column="diff_amount_fen", value_set=[0], row_condition=total),
    ]  # fmt: skip


def exchange_rotation_suite() -> list[dict[str, Any]]:
    return [
        spec("ExpectColumnValuesToNotBeNull", "exchange_rotation.computed",
             "交流轮岗人数能够核对（台账含身份、交流类型等列）", ["F13", "F14"],
             expected="能算出教师、校长和交流总人数", column="diff"),
        spec("ExpectColumnValuesToBeInSet", "exchange_rotation.teachers_plus_principals",
             "交流轮岗：教师人数 + 校长人数 = 交流总人数（按人计）", ["F13", "F14"],
             expected="教师与校长人数之和等于交流总人数",
             sides=("教师与校长人数之和", "交流总人数", "人"), column="diff", value_set=[0]),
    ]  # fmt: skip


def conservation_suite() -> list[dict[str, Any]]:
    every = ["F1", "F2", "F3", *ALL_AID, *EXCHANGE, "F17", "F18"]
    return [
        spec("ExpectColumnValuesToNotBeNull", "conservation.counted",
             "每个台账都有行数记录（原始行数、清洗后行数、剔除行数）", every,
             expected="每个台账都记下了原始、清洗后和剔除的行数", column="diff_rows"),
        spec("ExpectColumnValuesToBeInSet", "conservation.rows_conserved",
             "每个台账：原始数据行 = 清洗后行数 + 剔除行数（没有行被悄悄丢弃）", every,
             expected="原始数据行数等于清洗后与剔除行数之和",
             sides=("原始数据行数", "清洗后与剔除行数之和", "行"),
             column="diff_rows", value_set=[0]),
        spec("ExpectColumnValuesToBeInSet", "conservation.matches_table",
             "记录的清洗后行数等于实际校验的表的行数", every,
             expected="记录的行数等于实际校验的行数",
             sides=("记录的清洗后行数", "实际校验的行数", "行"),
             column="diff_table", value_set=[0]),
    ]  # fmt: skip


def set_aside_suite() -> list[dict[str, Any]]:
    """On the set-aside frame: one row per row set aside or excluded, and stale acceptances."""
    uncontrolled = ["F1", "F2", "F3", *EXCHANGE, "F17", "F18"]
    return [
        spec("ExpectColumnValuesToNotBeNull", "set_aside.accounted_for",
             "每个被剔除的数据行都有交代：资助台账由拨付汇总表核对；其他台账须在 config.yaml 的 "
             "accepted_set_aside 中写明文件、行号和原因（否则相关数字会少算，报告不予发布）",
             uncontrolled, expected="每个剔除行都有交代（汇总表核对或 config.yaml 确认）",
             column="accounted_by"),
        spec("ExpectColumnValuesToBeInSet", "set_aside.acceptances_current",
             "config.yaml 中确认剔除的每一行，都是本次实际剔除的行（台账改动后须重新确认）",
             uncontrolled, expected="确认的每一行本次确实被剔除",
             column="kind", value_set=["set_aside", "excluded"]),
    ]  # fmt: skip


def stated_totals_suite() -> list[dict[str, Any]]:
    """On the stated-totals frame: one row per 合计/小计 row found in a ledger file."""
    every = ["F1", "F2", "F3", *ALL_AID, *EXCHANGE, "F17", "F18"]
    return [
        spec("ExpectColumnValuesToNotBeNull", "stated_totals.readable",
             "台账中合计、小计行的金额和人次能够读取", every,
             expected="每个合计、小计行的数字都能读取", column="stated"),
        spec("ExpectColumnValuesToBeInSet", "stated_totals.amount_match",
             "台账自带的合计、小计行的金额等于其上方各数据行之和（精确到分）", every,
             expected="表中所写金额等于其上各行之和", sides=("表中所写", "其上各行之和", "元"),
             column="diff_amount_fen", value_set=[0]),
        spec("ExpectColumnValuesToBeInSet", "stated_totals.person_times_match",
             "台账自带的合计、小计行的人次、人数、学时等数目等于其上方各数据行之和", every,
             expected="表中所写数目等于其上各行之和",
             sides=("表中所写", "其上各行之和", ""),
             column="diff_person_times", value_set=[0]),
    ]  # fmt: skip


def narrative_suite() -> list[dict[str, Any]]:
    """On the narrative frame: one row per problem of narrative.md (file, line, what is wrong),
    its text in the column of its check (edureport.checks.validate.NARRATIVE_CHECKS)."""
    return [
        spec("ExpectColumnValuesToBeNull", "narrative.no_todo",
             "叙述文件已写完：没有“待填写”之处（逐处列出行号和列号）", [], column="todo"),
        spec("ExpectColumnValuesToBeNull", "narrative.mandated_parts",
             "报告包含全部法定内容且各有正文：主要举措和成效、存在的不足和原因、"
             "党政主要负责人履行第一责任人职责情况、下一年度主要安排", [],
             column="missing_part"),
        spec("ExpectColumnValuesToBeNull", "narrative.previous_year_for_change",
             "叙述中用到同比（{{ 名称.change }}）时，上年的台账齐全可读、有该数字", [],
             column="previous_missing"),
        spec("ExpectColumnValuesToBeNull", "narrative.previous_year_valid",
             "上年台账未通过校验时不作同比：同比所用的上年台账须通过同样的台账校验和核对", [],
             column="previous_invalid"),
    ]  # fmt: skip


def _eq(column: str, value: str) -> dict[str, Any]:
    return {"type": "comparison", "column": {"name": column}, "operator": "==", "parameter": value}


def all_specs() -> dict[str, list[dict[str, Any]]]:
    """Every suite's expectation specs, keyed by suite name."""
    policy = national_defaults(2000)  # the year does not matter for the standards
    standards = [(s.code, s.stage, s.programme) for s in policy.standards]
    extra = {
        "aid": aid_extra(standards),
        "control": control_extra(),
        "officers": officers_extra(),
        "exchange": exchange_extra(),
        "inspections": inspections_extra(),
    }
    return {
        **{name: ledger_suite(name, extra.get(name, [])) for name in LEDGERS},
        "aid_control": aid_control_suite(),
        "exchange_rotation": exchange_rotation_suite(),
        "conservation": conservation_suite(),
        "set_aside": set_aside_suite(),
        "stated_totals": stated_totals_suite(),
        "narrative": narrative_suite(),
    }


def suite_json(name: str, specs: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite as GX stores it, built (and so checked) through GX's own classes."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    configs = []
    for s in specs:
        expectation = getattr(gxe, s["kind"])(
            **s["kwargs"],
            meta={"name": s["name"], "rule": s["rule"], "figures": s["figures"], **s["meta"]},
            id=str(uuid.uuid5(ID_NAMESPACE, f"{name}/{s['name']}")),
        )
        configs.append(expectation.configuration.to_json_dict())
    suite = gx.ExpectationSuite(
        name=name,
        expectations=configs,
        id=str(uuid.uuid5(ID_NAMESPACE, name)),
        meta={"title": SUITE_TITLES[name], "generated_by": "expectations/build_suites.py"},
    )
    return suite.to_json_dict()


def render(name: str, specs: list[dict[str, Any]]) -> str:
    return json.dumps(suite_json(name, specs), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    get_context()  # creates/repairs gx/great_expectations.yml and the data assets
    out = suites_dir()
    for name, specs in all_specs().items():
        (out / f"{name}.json").write_text(render(name, specs), encoding="utf-8")
        print(f"wrote {out / name}.json ({len(specs)} expectations)")


if __name__ == "__main__":
    main()
