"""What a run says about itself: the console lines after each step, and the report's banner,
数据说明 and footer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edureport.report import pages
from edureport.runs.folder import (
    CONSERVATION,
    FIGURES,
    INPUTS,
    VALIDATION_JSON,
)

if TYPE_CHECKING:
    from edureport.report.document import Report


def validation_banner(run: Path, warnings: list[str] | None = None) -> str:
    """The validation summary at the top of the report (a draft banner if a check failed)."""
    banner = pages.macro("report_parts.html.j2", "banner")
    path = run / VALIDATION_JSON
    if not path.exists():
        return str(banner("missing", warnings=warnings or ()))
    validation = json.loads(path.read_text(encoding="utf-8"))
    checks = validation.get("checks", [])
    failed = [c for c in checks if c.get("status") == "failed"]
    return str(
        banner(
            "failed" if failed else "passed",
            total=len(checks),
            passed=sum(c.get("status") == "passed" for c in checks),
            unconfigured=[c.get("rule", "") for c in checks if c.get("status") == "not_configured"],
            failed=[
                {
                    "rule": c.get("rule", ""),
                    "expected": c.get("expected", ""),
                    "found": c.get("found", ""),
                    "rows": _rows_text(c["rows"]) if c.get("rows") else "",
                }
                for c in failed
            ],
            set_aside=set_aside_text(validation),
            warnings=warnings or (),
        )
    )


def set_aside_text(validation: dict[str, Any]) -> str:
    """One line on the rows left out of the figures, per ledger (for the banner and console)."""
    parts = []
    for s in validation.get("set_aside", []):
        bits = []
        if s["set_aside"]:
            how = "由汇总表核对" if s["controlled"] else ""
            if s["accepted"]:
                how = f"已确认{s['accepted']}行"
            if s["unaccounted"]:
                how = (how + "，" if how else "") + f"{s['unaccounted']}行未确认"
            bits.append(f"剔除{s['set_aside']}行" + (f"（{how}）" if how else ""))
        if s["excluded"]:
            bits.append(f"不计入{s['excluded']}行（离退人员等）")
        if bits:
            parts.append(f"{s['title']}{'，'.join(bits)}")
    if not parts:
        return "剔除行：各台账均无剔除的数据行。"
    return "剔除行：" + "；".join(parts) + "。明细见 set_aside.csv 和校验详情。"


def clean_lines(run: Path) -> list[str]:
    """Console lines after the clean step: rows per ledger, and what the reader skipped."""
    path = run / CONSERVATION
    if not path.exists():
        return []
    from edureport.checks.validate import SUITE_TITLES

    meta = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for ledger, c in meta.get("conservation", {}).items():
        extra = f"，不计入 {c['excluded_rows']}" if c.get("excluded_rows") else ""
        aside = c["set_aside_rows"] - c.get("excluded_rows", 0)
        lines.append(
            f"      {SUITE_TITLES.get(ledger, ledger)}：数据行 {c['raw_rows']}，"
            f"清洗后 {c['cleaned_rows']}，剔除 {aside}{extra}"
        )
    lines += [f"      注意 note: {n}" for n in meta.get("notes", [])]
    return lines


def validation_lines(validation: dict[str, Any]) -> list[str]:
    """Console lines after validation: the set-aside line, then every failed check in full."""
    lines = [f"      {set_aside_text(validation)}"]
    for s in validation.get("set_aside", []):
        reasons = "；".join(f"{r}（{n}行）" for r, n in s.get("reasons", {}).items())
        if reasons:
            lines.append(f"      {s['title']}剔除原因 reasons: {reasons}")
    lines += [f"      注意 note: {n}" for n in validation.get("notes", [])]
    failed = [c for c in validation.get("checks", []) if c.get("status") == "failed"]
    if failed:
        lines.append(f"      未通过的校验 failed checks ({len(failed)}):")
    for c in failed:
        rows = f"（{_rows_text(c['rows'])}）" if c.get("rows") else ""
        expected, found = c.get("expected"), c.get("found")
        lines.append(f"      ✗ {c.get('rule')}：应为{expected}，实为{found}{rows}")
        items = [o.get("item") for o in c.get("offending", []) if o.get("item")]
        shown = len(items) if c.get("suite") == "narrative" else 10  # each place to write
        lines += [f"          {i}" for i in items[:shown]]
        if len(items) > shown:
            lines.append(f"          ……共{len(items)}项，见 validation.html")
        more = c.get("offending_count", 0) - len(items)
        if c.get("suite") == "narrative" and more > 0:
            lines.append(f"          ……另有{more}处，见 validation.html")
    return lines


def _rows_text(rows: list[Any]) -> str:
    shown = [f"{r[0]} 第{r[1]}行" if isinstance(r, list | tuple) else str(r) for r in rows[:10]]
    more = f" 等{len(rows)}行" if len(rows) > 10 else ""
    return "、".join(shown) + more


def data_note(run: Path) -> str:
    """数据说明: rows left out of the figures, and those the analyst accepted, with reasons."""
    path = run / VALIDATION_JSON
    if not path.exists():
        return ""
    validation = json.loads(path.read_text(encoding="utf-8"))
    items = [set_aside_text(validation)]
    items += [
        f"经核实不计入：{a['file']} 第{int(a['row'])}行，原因：{a['reason']}"
        for a in validation.get("accepted", [])
    ]
    items += manual_lines(run)
    return str(pages.macro("report_parts.html.j2", "data_note")(items))


def manual_lines(run: Path) -> list[str]:
    """One line per figure declared by hand in config.yaml (人工填报), from ``figures.json``."""
    from edureport.report.figures import Registry

    path = run / FIGURES
    if not path.is_file():
        return []
    return [
        f"人工填报（无台账，按 config.yaml 的 manual_figures）：{f.label} {f.text}，"
        f"来源：{f.source}（名称 {f.key}）"
        for f in Registry.read(path).manual()
    ]


def provenance_footer(run: Path, rep: Report) -> str:
    """Report date, input hashes, code version and run id, at the foot of the report."""
    from edureport import __version__
    from edureport.runs.provenance import code_version

    inputs = json.loads((run / INPUTS).read_text("utf-8")) if (run / INPUTS).exists() else {}
    footer = pages.macro("report_parts.html.j2", "footer")
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return str(footer(run.name, now, __version__, code_version(), list(inputs.items())))
