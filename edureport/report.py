"""Build the report: narrative blocks filled from the figure registry, tables, charts, banner."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from typing import Any

from . import narrative as nv
from .charts import CHARTS
from .errors import InputError
from .figures import Registry, programmes
from .formatting import percent, rounding_note

TABLES = ("aid", "exchange", "inspections", "officers")


@dataclass
class Table:
    """A small table for both HTML and Word: caption, header, rows of display text, a note."""

    caption: str
    header: list[str]
    rows: list[list[str]]
    note: str | None = None


@dataclass
class Report:
    """Everything the report notebook shows, in order."""

    county: str
    year: int
    blocks: list[nv.Block]
    values: dict[str, str]
    tables: dict[str, Table]
    charts: dict[str, bytes]
    source: str
    todo: int = 0
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        titles = [b.text for b in self.blocks if b.kind == "title"]
        return (
            nv.fill(titles[0], self.values)
            if titles
            else f"{self.year}年度法治政府建设情况工作报告"
        )


def values_for(county: str, year: int, reg: Registry, previous: Registry | None) -> dict[str, str]:
    """Every ``{{ reference }}`` a narrative may use, with its display text."""
    values = {"county": county, "year": str(year)}
    for key, fig in reg.items():
        values[key] = fig.text
        prev = previous.get(key) if previous else None
        values[f"{key}.change"] = f"，{fig.change_from(prev)}" if prev else ""
    return values


def known_references(reg: Registry) -> set[str]:
    """Names a narrative may reference (figures, tables and charts)."""
    return (
        {"county", "year", *reg} | {f"table:{t}" for t in TABLES} | {f"chart:{c}" for c in CHARTS}
    )


def build(
    county: str,
    year: int,
    reg: Registry,
    previous: Registry | None,
    narrative_text: str,
    source: str,
) -> Report:
    """Parse the narrative against the registry and assemble tables and charts it places."""
    blocks = nv.parse(narrative_text, source, known_references(reg))
    placed = {(b.kind, b.text) for b in blocks if b.kind in ("table", "chart")}
    tables = {name: make_table(name, reg) for kind, name in placed if kind == "table"}
    charts = {name: CHARTS[name](reg) for kind, name in placed if kind == "chart"}
    todo = sum(nv.TODO in b.text for b in blocks)
    return Report(
        county, year, blocks, values_for(county, year, reg, previous), tables, charts, source, todo
    )


def make_table(name: str, reg: Registry) -> Table:
    """The named table, every cell taken from the registry."""
    if name == "aid":
        total = reg["aid_total_amount"].value
        rows = []
        parts = []
        for p in programmes():
            amount = reg[f"aid_{p['key']}_amount"]
            parts.append(amount.value)
            share = percent(amount.value, total)
            rows.append(
                [
                    p["stage"],
                    p["programme"],
                    reg[f"aid_{p['key']}_count"].text,
                    amount.text,
                    f"{share}%" if share is not None else "—",
                ]
            )
        rows.append(
            [
                "合计",
                "",
                reg["aid_total_count"].text,
                reg["aid_total_amount"].text,
                "100.0%" if total else "—",
            ]
        )
        return Table(
            "学生资助分学段、分项目情况",
            ["学段", "资助项目", "人次", "金额", "占比"],
            rows,
            rounding_note(parts, total),
        )
    if name == "exchange":
        rows = [
            [reg[k].label, reg[k].text]
            for k in (
                "exchange_total",
                "exchange_teachers",
                "exchange_principals",
                "itinerant_teachers",
                "itinerant_schools",
            )
        ]
        return Table("教师和校长交流、走教情况", ["项目", "数量"], rows)
    if name == "inspections":
        rows = [
            [reg[k].label, reg[k].text]
            for k in (
                "inspected_total",
                "inspected_passed",
                "inspected_rectify",
                "unlicensed_closed",
                "kindergartens_approved",
            )
        ]
        return Table("民办教育机构检查与审批情况", ["项目", "数量"], rows)
    if name == "officers":
        rows = [
            [reg[k].label, reg[k].text]
            for k in ("officers_total", "officers_certified", "officers_non_staff")
        ]
        return Table("行政执法人员情况（仅统计人数）", ["项目", "人数"], rows)
    raise KeyError(name)


# ---------------------------------------------------------------- checks of the text

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ENUMERATION = re.compile(r"^\d{1,2}[.．、]")
# The contents an annual report must cover (法治政府建设与责任落实督察工作规定 第二十五条).
MANDATED = (
    ("上一年度推进法治政府建设的主要举措和成效", ("主要做法", "成效", "主要举措")),
    ("存在的不足和原因", ("存在的主要问题", "不足", "问题")),
    ("党政主要负责人履行推进法治建设第一责任人职责情况", ("第一责任人",)),
    ("下一年度推进法治政府建设的主要安排", ("下一步", "下一年度", "工作措施", "主要安排")),
)


def audit_numbers(report: Report) -> None:
    """Fail on any number in the text that no computed figure accounts for (typed by hand)."""
    allowed = set()
    for text in [
        *report.values.values(),
        *(c for t in report.tables.values() for r in t.rows for c in r),
    ]:
        allowed.update(_NUMBER.findall(text))
    for b in report.blocks:
        if b.kind not in ("title", "heading", "paragraph"):
            continue
        text = _ENUMERATION.sub("", nv.fill(b.text, report.values))
        for number in _NUMBER.findall(text):
            if number not in allowed:
                raise InputError(
                    f"叙述文件中的数字“{number}”不是计算得出的（请用 {{{{ 名称 }}}} 引用）"
                    " number typed by hand",
                    file=report.source,
                    row=b.line,
                )


def structure_warnings(report: Report) -> list[str]:
    """The mandated parts of an annual report that no heading covers."""
    headings = "".join(b.text for b in report.blocks if b.kind == "heading")
    return [
        f"报告缺少法定内容：{part}"
        for part, words in MANDATED
        if not any(w in headings for w in words)
    ]


# ---------------------------------------------------------------- HTML fragments


def html_fragments(report: Report, banner: str = "") -> list[str]:
    """The report as HTML pieces, one per notebook output; every ledger text is escaped."""
    out: list[str] = []
    if banner:
        out.append(banner)
    headings = [b for b in report.blocks if b.kind == "heading"]
    for b in report.blocks:
        if b.kind == "title":
            out.append(f'<h1 class="title">{_esc(nv.fill(b.text, report.values))}</h1>')
            out.append(_toc(headings, report.values))
        elif b.kind == "heading":
            tag = "h2" if b.level == 2 else "h3"
            text = nv.fill(b.text, report.values)
            out.append(f'<{tag} id="{_anchor(b)}">{_esc(text)}</{tag}>')
        elif b.kind == "paragraph":
            text = nv.fill(b.text, report.values)
            cls = ' class="todo"' if nv.TODO in text else ""
            out.append(f"<p{cls}>{_esc(text)}</p>")
        elif b.kind == "table":
            out.append(_table_html(report.tables[b.text]))
        elif b.kind == "chart":
            data = base64.b64encode(report.charts[b.text]).decode("ascii")
            out.append(
                f'<figure class="chart"><img alt="{_esc(b.text)}" '
                f'src="data:image/png;base64,{data}"></figure>'
            )
    return out


def _toc(headings: list[nv.Block], values: dict[str, str]) -> str:
    items = "".join(
        f'<li class="l{h.level}"><a href="#{_anchor(h)}">{_esc(nv.fill(h.text, values))}</a></li>'
        for h in headings
    )
    return f'<nav class="toc"><div class="toc-title">目录</div><ul>{items}</ul></nav>'


def _anchor(b: nv.Block) -> str:
    return f"s{b.line}"


def _table_html(t: Table) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in t.header)
    body = "".join(
        ('<tr class="total">' if row[0] == "合计" else "<tr>")
        + "".join(f"<td>{_esc(c)}</td>" for c in row)
        + "</tr>"
        for row in t.rows
    )
    note = f'<p class="note">{_esc(t.note)}</p>' if t.note else ""
    return (
        f'<table class="data"><caption>{_esc(t.caption)}</caption><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table>{note}"
    )


def _esc(s: str) -> str:
    return html.escape(str(s), quote=True)
