"""The validation page (templates/pages/validation.html.j2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from edureport.report.pages import Cell, render

if TYPE_CHECKING:
    pass

from edureport.checks.results import (
    FIGURES_ZH,
    STATUS_ZH,
    SUITE_TITLES,
    Check,
    RowRef,
    ValidationReport,
)
from edureport.runs.folder import REPORT_HTML

# --- HTML ----------------------------------------------------------------------------------------


def render_html(report: ValidationReport, report_href: str = REPORT_HTML) -> str:
    """The validation page (templates/pages/validation.html.j2): what failed comes first, then
    what was set aside, the parameters, and every check by suite. Self-contained, escaped."""
    verdict = "通过" if report.passed else "未通过"
    year = report.policy.get("year", "")
    place = f"{report.county}{year}年度" if year else report.county
    return render(
        "validation.html.j2",
        title=f"{place}数据校验结果：{verdict}",
        kind="tool",
        report=report,
        report_href=report_href,
        verdict=_verdict(report.summary()),
        status_zh=STATUS_ZH,
        suite_titles=SUITE_TITLES,
        parameters=_parameters(report.policy),
        aside_header=["台账", "数据行", "剔除", "不计入（规则）", "交代方式", "未交代"],
        aside_rows=[_aside_row(s) for s in report.set_aside],
        figure_names=figure_names,
        offending_groups=offending_groups,
    )


def _verdict(summary: Mapping[str, Any]) -> str:
    head = "校验通过" if summary["passed"] else "校验未通过，报告不予发布"
    return (
        f"{head}。共 {summary['total']} 项：通过 {summary['checks_passed']} 项，"
        f"未通过 {summary['checks_failed']} 项，未配置 {summary['checks_not_configured']} 项"
        "（未配置的校验未执行，不算通过）。"
    )


def _parameters(policy: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if not policy:
        return []
    officers = policy.get("declared_officers")
    return [
        ("报告年度", policy.get("year")),
        ("报告日期", policy.get("report_date")),
        ("申报执法人员数", "未配置" if officers is None else f"{officers} 人"),
        ("年度培训学时要求", f"{policy.get('training_hours_required'):g} 学时"),
        ("资助标准（元/人次）", "；".join(
            f"{k}：{'、'.join(v)}" for k, v in (policy.get("standards_yuan") or {}).items())),
        ("参数文件", policy.get("config") or "无（采用全国默认值）"),
    ]  # fmt: skip


def _aside_row(s: Mapping[str, Any]) -> list[Any]:
    """One ledger's set-aside accounting as a table row."""
    how = "由汇总表核对" if s["controlled"] else f"config.yaml 确认 {s['accepted']} 行"
    return [
        s["title"],
        Cell(f"{s['raw_rows']} 行", cls="num"),
        Cell(f"{s['set_aside']} 行", cls="num"),
        Cell(f"{s['excluded']} 行", cls="num"),
        how if s["set_aside"] else "—",
        Cell(f"{s['unaccounted']} 行", cls="num failed" if s["unaccounted"] else "num"),
    ]


# Figures guarded together, named as a group where a check guards the whole group.
FIGURE_GROUPS = {
    "全部资助数字": tuple(f"F{i}" for i in range(4, 13)),
    "全部教师交流数字": ("F13", "F14", "F15", "F16"),
}


def figure_names(codes: Iterable[str]) -> str:
    """The published figures a check guards, by name: '全部数字' when it guards every one, a
    group's name for a whole group."""
    codes = list(dict.fromkeys(codes))
    if set(FIGURES_ZH) <= set(codes):
        return "全部数字"
    names = []
    for code in codes:
        group = next((g for g, members in FIGURE_GROUPS.items() if code in members), None)
        if group and set(FIGURE_GROUPS[group]) <= set(codes):
            if group not in names:
                names.append(group)
        else:
            names.append(FIGURES_ZH.get(code, code))
    return "；".join(names)


def offending_groups(check: Check) -> list[tuple[str, list[str]]]:
    """A check's offending rows by file: ('文件：第 2、9 行', [the rows' items])."""
    by_file: dict[str | None, list[RowRef]] = {}
    for ref in check.offending:
        by_file.setdefault(ref.file, []).append(ref)
    groups = []
    for file, refs in by_file.items():
        rows = [str(r.row) for r in refs if r.row is not None]
        line = f"{file or '（无文件）'}" + (f"：第 {'、'.join(rows)} 行" if rows else "")
        groups.append((line, [r.item for r in refs if r.item]))
    return groups
