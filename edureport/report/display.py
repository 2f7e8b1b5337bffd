"""What the notebooks show: the answer first in one line, failures before passes, every table
whole (HTML that JupyterLab does not truncate), Chinese headers, and where the files went."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from edureport.runs.folder import CONSERVATION, SET_ASIDE_CSV, VALIDATION_HTML

if TYPE_CHECKING:
    from edureport.checks.validate import ValidationReport
    from edureport.ingest.clean import CleanResult

NOTEBOOK = "notebook.html.j2"  # templates/pages/: the macros below


def _macro(name: str) -> Any:
    from edureport.report import pages

    return pages.macro(NOTEBOOK, name)


class Html:
    """A piece of HTML that Jupyter shows as such (``_repr_html_``) and tests can read."""

    def __init__(self, body: str) -> None:
        self.body = body

    def _repr_html_(self) -> str:
        return str(_macro("frame")(Markup(self.body)))

    def __str__(self) -> str:
        return self.body

    def __repr__(self) -> str:  # the text/plain form: the text without its markup
        return html.unescape(re.sub(r"<[^>]+>", " ", self.body)).strip()


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    """A whole table, every row (no truncation), values escaped."""
    return str(_macro("table")(headers, list(rows), tuple(numeric)))


def _line(text: str, kind: str, run: Path, *names: str) -> str:
    """The one line a notebook opens its results with, and where the files went."""
    return str(_macro("line")(text, kind, [str(run / n) for n in names]))


# ---------------------------------------------------------------- step 1

COUNT_HEADERS = ("台账", "文件", "数据行", "清洗后", "剔除", "不计入", "非数据行")


def clean_overview(result: CleanResult, run: Path) -> Html:
    """One line (read, cleaned, set aside, excluded; where it went), the rows per ledger, notes."""
    from edureport.checks.validate import SUITE_TITLES

    c = result.conservation
    raw = sum(x["raw_rows"] for x in c.values())
    cleaned = sum(x["cleaned_rows"] for x in c.values())
    excluded = sum(x.get("excluded_rows", 0) for x in c.values())
    aside = sum(x["set_aside_rows"] for x in c.values()) - excluded
    kind = "warn" if aside or excluded else ""
    line = _line(
        f"读取{len(c)}本台账共{raw}行数据：清洗后{cleaned}行，剔除{aside}行"
        + (f"，不计入{excluded}行" if excluded else "")
        + "。结果已写入 ",
        kind,
        run,
        "cleaned",
        SET_ASIDE_CSV,
        CONSERVATION,
    )
    rows = [
        (
            SUITE_TITLES.get(name, name),
            result.sources.get(name, ""),
            x["raw_rows"],
            x["cleaned_rows"],
            x["set_aside_rows"] - x.get("excluded_rows", 0),
            x.get("excluded_rows", 0),
            x["non_data_rows"],
        )
        for name, x in c.items()
    ]
    parts = [
        line,
        table(
            ["台账", "文件", "数据行", "清洗后", "剔除", "不计入", "非数据行"],
            rows,
            (2, 3, 4, 5, 6),
        ),
    ]
    parts.append(str(_macro("notes")(result.notes)))
    return Html("".join(parts))


def set_aside_table(result: CleanResult) -> Html:
    """Every row set aside or excluded, whole: ledger, file, row, column, reason."""
    from edureport.checks.validate import SUITE_TITLES

    frame = result.set_aside
    if frame.empty:
        return Html(str(_macro("line")("没有剔除或不计入的行。")))
    kinds = {"set_aside": "剔除", "excluded": "不计入"}
    rows = [
        (SUITE_TITLES.get(r.ledger, r.ledger), r.file, r.row, r.column, r.reason,
         kinds.get(r.kind, r.kind))
        for r in frame.itertuples(index=False)
    ]  # fmt: skip
    return Html(table(["台账", "文件", "行", "列", "原因", "类别"], rows, (2,)))


# ---------------------------------------------------------------- step 2


def validation_overview(report: ValidationReport, run: Path) -> Html:
    """One line (passed, failed, not configured; where the page is), then the failed checks in
    full with their rows, then the set-aside accounting; every check follows in its own table."""
    from edureport.runs.summaries import set_aside_text

    s = report.summary()
    failed = report.failed
    kind = "bad" if failed else ("warn" if s["checks_not_configured"] else "")
    verdict = f"{s['checks_failed']}项未通过，报告不予发布" if failed else "全部通过"
    line = _line(
        f"校验{s['total']}项：{s['checks_passed']}项通过，{verdict}"
        + (f"，{s['checks_not_configured']}项未配置" if s["checks_not_configured"] else "")
        + "。详情页 ",
        kind,
        run,
        VALIDATION_HTML,
    )
    parts = [line]
    if failed:
        parts.append("<h3>未通过的校验</h3>" + _checks(failed))
    parts.append(str(_macro("para")(set_aside_text(report.to_dict()))))
    if report.not_configured:
        parts.append("<h3>未配置的校验</h3>" + _checks(report.not_configured))
    return Html("".join(parts))


def all_checks(report: ValidationReport) -> Html:
    """Every check, failures first, whole."""
    order = {"failed": 0, "not_configured": 1, "passed": 2}
    return Html(_checks(sorted(report.checks, key=lambda c: order.get(c.status, 3))))


def _checks(checks: Sequence[Any]) -> str:
    from edureport.checks.validate import STATUS_ZH, SUITE_TITLES

    rows = []
    for c in checks:
        where = "；".join(
            f"{r.file or ''} 第{r.row}行" if r.row is not None else (r.item or "")
            for r in c.offending[:20]
        )
        more = c.offending_count - min(len(c.offending), 20)
        rows.append(
            {
                "status": c.status,
                "status_zh": STATUS_ZH.get(c.status, c.status),
                "suite": SUITE_TITLES.get(c.suite, c.suite),
                "rule": c.rule,
                "expected": c.expected,
                "found": c.found,
                "where": where + (f"（另有{more}行）" if more > 0 else ""),
            }
        )
    return str(_macro("checks")(rows))
