"""Build the report: narrative blocks filled from the figure registry, tables, charts, banner."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from edureport.errors import InputError
from edureport.report import narrative as nv
from edureport.report import pages
from edureport.report.charts import CHARTS
from edureport.report.figures import Registry, programmes
from edureport.report.formatting import percent, rounding_note

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
    fixed_phrases: tuple[str, ...] = ()  # config.yaml fixed_phrases, for the number audit

    @property
    def title(self) -> str:
        titles = [b.text for b in self.blocks if b.kind == "title"]
        return (
            nv.fill(titles[0], self.values)
            if titles
            else f"{self.year}年度法治政府建设情况工作报告"
        )


def values_for(county: str, year: int, reg: Registry, previous: Registry | None) -> dict[str, str]:
    """Every ``{{ reference }}`` a narrative may use, with its display text (README, "The
    narrative file": ``key``, ``key.value``, ``key.unit``, ``key.change``, ``key.zero_as_none``).
    """
    values = {"county": county, "year": str(year)}
    for key, fig in reg.items():
        values[key] = fig.text
        values[f"{key}.value"] = fig.number_text
        values[f"{key}.unit"] = fig.unit
        values[f"{key}.zero_as_none"] = "无" if fig.value == 0 else fig.text
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
    *,
    fixed_phrases: tuple[str, ...] = (),
    hint: str = nv.FIGURES_HINT,
    charts: bool = True,
) -> Report:
    """Parse the narrative against the registry and assemble tables and charts it places.

    ``hint`` says where the list of names is (for the message on an unknown name);
    ``charts=False`` skips drawing the charts (the validation step needs only the text).
    """
    blocks = nv.parse(narrative_text, source, known_references(reg), hint)
    placed = {(b.kind, b.text) for b in blocks if b.kind in ("table", "chart")}
    tables = {name: make_table(name, reg) for kind, name in placed if kind == "table"}
    drawn = {name: CHARTS[name](reg) for kind, name in placed if kind == "chart" and charts}
    todo = sum(nv.TODO in b.text for b in blocks)
    values = values_for(county, year, reg, previous)
    return Report(
        county, year, blocks, values, tables, drawn, source, todo, fixed_phrases=fixed_phrases
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

# The contents an annual report must cover (法治政府建设与责任落实督察工作规定 第二十五条).
MANDATED = (
    ("上一年度推进法治政府建设的主要举措和成效", ("主要做法", "成效", "主要举措")),
    ("存在的不足和原因", ("存在的主要问题", "不足", "问题")),
    ("党政主要负责人履行推进法治建设第一责任人职责情况", ("第一责任人",)),
    ("下一年度推进法治政府建设的主要安排", ("下一步", "下一年度", "工作措施", "主要安排")),
)
TEXT_BLOCKS = ("title", "heading", "paragraph")


@dataclass(frozen=True)
class TypedNumber:
    """A number in the text that no ``{{ reference }}`` filled in."""

    line: int
    column: int | None
    text: str
    value: Any  # Decimal | None
    same_as: tuple[str, ...] = ()  # references whose number is the same (a hint)

    def describe(self) -> str:
        where = f"第{self.line}行" + (f"第{self.column}列" if self.column else "")
        shown = self.value is not None and str(self.value) != self.text
        value = f"（即 {self.value}）" if shown else ""
        hint = (
            "，数值与 " + "、".join(f"{{{{ {r} }}}}" for r in self.same_as) + " 相同"
            if self.same_as
            else ""
        )
        return f"{where}“{self.text}”{value}{hint}"


def typed_numbers(report: Report) -> list[TypedNumber]:
    """Every number in the filled text that no reference filled in and that is not a date, an
    ordinal, list numbering or inside a fixed phrase; with its line and column."""
    phrases = (*report.fixed_phrases, report.county)
    same = _number_index(report.values)
    found = []
    for b in report.blocks:
        if b.kind not in TEXT_BLOCKS:
            continue
        text, pieces = nv.render(b.text, report.values)
        mask = nv.allowed_mask(text, _line_starts(b, pieces), phrases)
        for p in pieces:
            if p.ref is not None:
                mask[p.start : p.end] = b"\x01" * (p.end - p.start)
        for n in nv.numbers_in(text):
            if all(mask[n.start : n.end]):
                continue
            line, col = b.where(nv.source_offset(pieces, n.start))
            hits = tuple(same.get(n.value, ())) if n.value is not None else ()
            found.append(TypedNumber(line, col, n.text, n.value, hits[:3]))
    return found


def _line_starts(block: nv.Block, pieces: list[nv.Piece]) -> list[int]:
    starts = (nv.filled_offset(pieces, s) for s in block.line_starts())
    return [s for s in starts if s is not None]


def _number_index(values: dict[str, str]) -> dict[Any, list[str]]:
    """Number → the ``key.value`` references showing it (hints for a typed number)."""
    from decimal import Decimal, InvalidOperation

    index: dict[Any, list[str]] = {}
    for ref, text in values.items():
        if ref.endswith(".value"):
            try:
                index.setdefault(Decimal(text), []).append(ref)
            except InvalidOperation:
                continue
    return index


def audit_numbers(report: Report, hint: str = nv.FIGURES_HINT) -> None:
    """Fail on any number in the text that no reference filled in (typed by hand).

    Allowed without a reference: dates and years, ordinals and list numbering, and numbers in
    fixed phrases (config.yaml ``fixed_phrases`` and :data:`narrative.COMMON_PHRASES`). The
    error lists every such number with its line and column.
    """
    typed = typed_numbers(report)
    if not typed:
        return
    first = typed[0]
    listed = "；".join(t.describe() for t in typed[:20])
    more = f"（共{len(typed)}处）" if len(typed) > 20 else ""
    raise InputError(
        f"叙述文件中有{len(typed)}处数字不是由 {{{{ 名称 }}}} 填入的 number typed by hand："
        f"{listed}{more}。报告中的数字须引用计算结果（{{{{ 名称 }}}}、{{{{ 名称.value }}}}）；"
        "没有台账的数字先在 config.yaml 的 manual_figures 中申报（数值、单位、名称、来源文件）"
        "再引用；日期、序号不受此限；固定用语（如“七五普法”）登记在 config.yaml 的 "
        f"fixed_phrases 中。全部名称见{hint}。",
        file=report.source,
        row=first.line,
        column=None if first.column is None else str(first.column),
    )


def structure_warnings(report: Report) -> list[str]:
    """The mandated parts of an annual report that no heading covers."""
    headings = "".join(b.text for b in report.blocks if b.kind == "heading")
    return [
        f"报告缺少法定内容：{part}"
        for part, words in MANDATED
        if not any(w in headings for w in words)
    ]


def completeness(report: Report) -> list[tuple[str, int | None, str]]:
    """What keeps the narrative from being finished, as (check, line, item):

    - ``todo``: every 待填写 with its line and column;
    - ``missing_part``: a mandated part no heading covers, or whose headings have no text.
    """
    problems: list[tuple[str, int | None, str]] = []
    for b in report.blocks:
        for line, col, excerpt in nv.todo_marks(b):
            where = f"第{line}行" + (f"第{col}列" if col else "")
            problems.append(("todo", line, f"{where}待填写：{excerpt}"))
    headings = [(i, b) for i, b in enumerate(report.blocks) if b.kind == "heading"]
    for part, words in MANDATED:
        covering = [(i, b) for i, b in headings if any(w in b.text for w in words)]
        if not covering:
            names = "、".join(f"“{w}”" for w in words)
            problems.append(
                ("missing_part", None, f"缺少法定内容：{part}（应有标题含{names}之一）")
            )
        elif not any(_has_content(report.blocks, i) for i, _ in covering):
            b = covering[0][1]
            problems.append(
                ("missing_part", b.line, f"第{b.line}行“{b.text}”下没有正文（法定内容：{part}）")
            )
    return problems


def _has_content(blocks: list[nv.Block], at: int) -> bool:
    """Whether the heading ``blocks[at]`` has text, a table or a chart before the next heading
    of its level or above."""
    level = blocks[at].level
    for b in blocks[at + 1 :]:
        if b.kind in ("heading", "title") and b.level <= level:
            return False
        if b.kind in ("paragraph", "table", "chart"):
            return True
    return False


def change_references(report: Report) -> list[tuple[str, int, int | None]]:
    """(figure name, line, column) of every ``{{ key.change }}`` in the text."""
    found = []
    for b in report.blocks:
        if b.kind not in TEXT_BLOCKS:
            continue
        for m in nv.references(b.text):
            if m.group(1).endswith(".change"):
                line, col = b.where(m.start())
                found.append((m.group(1).removesuffix(".change"), line, col))
    return found


# ---------------------------------------------------------------- HTML fragments


def html_fragments(report: Report, banner: str = "") -> list[str]:
    """The report as HTML pieces, one per notebook output (templates/pages/report_parts.html.j2);
    every ledger text is escaped."""
    parts = "report_parts.html.j2"
    out: list[str] = []
    if banner:
        out.append(banner)
    headings = [
        (_anchor(h), h.level, nv.fill(h.text, report.values))
        for h in report.blocks
        if h.kind == "heading"
    ]
    for b in report.blocks:
        if b.kind == "title":
            out.append(pages.macro(parts, "title")(nv.fill(b.text, report.values), headings))
        elif b.kind == "heading":
            text = nv.fill(b.text, report.values)
            out.append(pages.macro(parts, "heading")(2 if b.level == 2 else 3, _anchor(b), text))
        elif b.kind == "paragraph":
            text = nv.fill(b.text, report.values)
            out.append(pages.macro(parts, "paragraph")(text, nv.TODO in text))
        elif b.kind == "table":
            t = report.tables[b.text]
            table = pages.Table(t.caption, t.header, t.rows, t.note)
            out.append(pages.macro(parts, "table")(table))
        elif b.kind == "chart":
            data = base64.b64encode(report.charts[b.text]).decode("ascii")
            out.append(pages.macro(parts, "chart")(b.text, data))
    return [str(piece) for piece in out]


def _anchor(b: nv.Block) -> str:
    return f"s{b.line}"
