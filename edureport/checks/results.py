"""What a validation run found: the checks, in words an analyst acts on, and the names of
the suites, ledgers and columns they speak of."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from edureport.ingest.specs import ledger_names, spec
from edureport.report.figures import figure_codes
from edureport.runs.folder import REPORT_HTML, VALIDATION_HTML, VALIDATION_JSON

if TYPE_CHECKING:
    pass

PASSED, FAILED, NOT_CONFIGURED = "passed", "failed", "not_configured"
STATUS_ZH = {PASSED: "通过", FAILED: "未通过", NOT_CONFIGURED: "未配置"}

LEDGERS = ledger_names()  # the ledger kinds (resources/ledgers/); each has its own suite
SUITE_TITLES = {
    **{name: spec(name).title for name in LEDGERS},
    "aid_control": "资助台账与拨付汇总表核对",
    "exchange_rotation": "交流轮岗人数核对",
    "conservation": "行数守恒（原始 = 清洗后 + 剔除）",
    "set_aside": "剔除的行都有交代（汇总表核对或人工确认）",
    "stated_totals": "台账自带的合计、小计行核对",
    "narrative": "叙述文件：已写完、法定内容齐全、同比有上年数据",
}
# Ledgers whose set-aside rows a control total accounts for: the aid ledger must still agree
# with the finance office's totals without them (and the control sheet with the aid ledger).
CONTROLLED = {
    name: f"由{spec(str(spec(name).control)).title}核对" for name in LEDGERS if spec(name).control
}
SUITES = tuple(SUITE_TITLES)
# The suites of the ledgers themselves (last year's ledgers pass these before they feed 同比).
LEDGER_SUITES = tuple(s for s in SUITES if s != "narrative")
# The narrative frame's check columns: one row per problem, its item in the column of its check.
NARRATIVE_CHECKS = {
    "todo": ("“待填写”之处", "叙述文件中没有“待填写”之处"),
    "missing_part": (
        "缺少的法定内容",
        "报告的法定内容齐全（举措和成效、不足、第一责任人履职、下一年度安排）",
    ),
    "previous_missing": ("同比缺少的上年数据", "使用同比（.change）之处都有上年数据"),
    "previous_invalid": ("上年台账未通过的校验", "同比所用的上年台账通过同样的校验"),
}
# The published figures the checks guard (ids as in the reference report's figure list).
FIGURES_ZH = figure_codes()  # F-code -> name (resources/figures.yaml)
DATE_COLUMNS = {name: spec(name).dates for name in LEDGERS}
# Key columns validate.py adds before the run (vectorised stand-ins for GX's slow pair checks).
HELPER_COLUMNS = {
    "aid": ("stage_programme", "programme_registered_poor"),
    "control": ("stage_programme",),
}
DATASOURCE = "edureport"
BATCH_DEFINITION = "whole_dataframe"
MAX_OFFENDING = 50
PROVENANCE = ("file", "row", "item")
# Columns whose values may be shown in a report (never person, cert_no or free text).
SAFE_VALUE_COLUMNS = frozenset(
    {column for name in LEDGERS for column in spec(name).shown}
    | {"stage_programme", "programme_registered_poor", "term"}  # helper keys; 学期 is closed-form
    | set(
        "diff_person_times diff_amount_fen diff diff_rows diff_table".split()  # derived frames
    )
)
SAFE_RESULT_KEYS = (
    "element_count", "unexpected_count", "unexpected_percent", "missing_count",
    "missing_percent", "observed_value",
)  # fmt: skip
COLUMN_ZH = {
    **{f.cleaned_name: f.title for name in LEDGERS for f in spec(name).fields},
    "file": "文件",
    "row": "行号",
    "stage": "学段",
    "programme": "资助项目",
    "stage_programme": "学段/资助项目",
    "programme_registered_poor": "资助项目/是否建档立卡",
    "person": "人员（化名）",
    "registered_poor": "是否建档立卡",
    "term": "学期",
    "amount_fen": "金额",
    "paid_on": "发放日期",
    "person_times": "人次",
    "cert_no": "执法证号",
    "cert_issued": "发证日期",
    "cert_valid_until": "有效期至",
    "employment": "用工性质",
    "training_hours": "年度培训学时",
    "role": "身份",
    "kind": "交流类型",
    "to_school": "交流学校",
    "institution": "机构名称",
    "inst_type": "机构类型",
    "licence": "办学许可证号",
    "inspected_on": "检查日期",
    "result": "检查结论",
    "approved_on": "审批日期",
    "diff_person_times": "人次差额",
    "diff_amount_fen": "金额差额",
    "diff": "差额",
    "diff_rows": "原始 − 清洗后 − 剔除",
    "diff_table": "记录行数 − 表行数",
    "level": "核对层级",
    "accounted_by": "交代方式",
    "stated": "表中所写",
    "computed": "逐行相加",
    **{column: label for column, (label, _) in NARRATIVE_CHECKS.items()},
}


# --- the report ----------------------------------------------------------------------------------


class RowRef(NamedTuple):
    """Where an offending value is: raw file and Excel row; ``item`` labels a derived row."""

    file: str | None
    row: int | None
    item: str | None = None


@dataclass(frozen=True)
class Check:
    """The outcome of one expectation, in terms an analyst can act on."""

    suite: str
    name: str
    rule: str
    status: str
    expected: str
    found: str
    offending: tuple[RowRef, ...] = ()
    offending_count: int = 0
    figures: tuple[str, ...] = ()
    expectation_type: str = ""
    ge_result: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``rows`` is the plain ``[[file, row], …]`` list of offending rows."""
        data = asdict(self)
        data["rows"] = [[r.file, r.row] for r in self.offending if r.row is not None]
        data["offending"] = [r._asdict() for r in self.offending]
        data["figures"] = list(self.figures)
        return data


@dataclass
class ValidationReport:
    """Every check of one validation run, and what became of the rows set aside."""

    checks: list[Check]
    policy: Mapping[str, Any] = field(default_factory=dict)
    set_aside: list[dict[str, Any]] = field(default_factory=list)  # per ledger: counts
    accepted: list[dict[str, Any]] = field(default_factory=list)  # rows accepted in config.yaml
    notes: list[str] = field(default_factory=list)  # worth knowing, fails nothing (no 同比 data)
    county: str = ""  # for the page's title

    @property
    def passed(self) -> bool:
        """True when no check failed (not-configured checks do not fail the run)."""
        return not self.failed

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAILED]

    @property
    def not_configured(self) -> list[Check]:
        return [c for c in self.checks if c.status == NOT_CONFIGURED]

    def check(self, name: str) -> Check:
        """The check with this name (e.g. ``"aid.amount_positive"``)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary(self) -> dict[str, Any]:
        counts = {s: sum(c.status == s for c in self.checks) for s in (PASSED, FAILED)}
        return {
            "passed": self.passed,
            "total": len(self.checks),
            "checks_passed": counts[PASSED],
            "checks_failed": counts[FAILED],
            "checks_not_configured": len(self.not_configured),
            "not_configured": [c.name for c in self.not_configured],
            "failed": [c.name for c in self.failed],
        }

    def summary_table(self) -> pd.DataFrame:
        """One row per check (for a notebook): status, rule, expected, found, offending rows."""
        return pd.DataFrame(
            [
                {
                    "状态": STATUS_ZH.get(c.status, c.status),
                    "校验套件": SUITE_TITLES.get(c.suite, c.suite),
                    "规则": c.rule,
                    "期望": c.expected,
                    "实际": c.found,
                    "问题行数": c.offending_count,
                    "检查项": c.name,
                }
                for c in self.checks
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "summary": self.summary(),
            "policy": dict(self.policy),
            "set_aside": self.set_aside,
            "accepted": self.accepted,
            "notes": self.notes,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str)

    def write(self, out_dir: Path, report_href: str = REPORT_HTML) -> tuple[Path, Path]:
        """Write ``validation.json`` and ``validation.html`` (linking back to ``report_href``)
        into ``out_dir``."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, html_path = out_dir / VALIDATION_JSON, out_dir / VALIDATION_HTML
        from edureport.checks.page import render_html

        json_path.write_text(self.to_json() + "\n", encoding="utf-8")
        html_path.write_text(render_html(self, report_href), encoding="utf-8")
        return json_path, html_path
