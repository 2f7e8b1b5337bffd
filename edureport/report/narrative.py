"""The analyst's narrative file: Markdown with ``{{ figure }}`` references, and its scaffold.

Format (documented in README, "The narrative file"): ``#`` title, ``##`` section (一、…), ``###``
sub-section (（一）…), other lines are paragraphs (a blank line ends one). A line holding only
``{{ table:NAME }}`` or ``{{ chart:NAME }}`` places a table or chart. In text:

- ``{{ key }}`` the figure with its unit (``7人``, ``1134.65万元``);
- ``{{ key.value }}`` the number alone (``7``, ``1134.65``) and ``{{ key.unit }}`` the unit alone;
- ``{{ key.change }}`` its change on last year (``，比上年增加1人，增长16.7%``);
- ``{{ key.zero_as_none }}`` ``无`` when the figure is 0, else as ``{{ key }}``.

Text marked 待填写 is a place the analyst still has to write. Filling a paragraph keeps track of
which characters came from which reference (:func:`render`), so that the number audit
(:func:`numbers_in`, used by ``report.audit_numbers``) can tell a computed number from a typed one
and name the line and column of each.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from edureport.errors import InputError
from edureport.paths import RESOURCES_DIR

NARRATIVE_FILE = "narrative.md"
TODO = "待填写"
_REF = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_BLOCK = re.compile(r"^\{\{\s*(table|chart):([a-z_]+)\s*\}\}$")
# What may follow a figure's name: ``{{ key.FORM }}``.
FORMS = ("value", "unit", "change", "zero_as_none")
NO_CHANGE = ("county", "year")  # names that are not figures: no forms, no change on last year
FIGURES_HINT = "任一次运行文件夹中的 figures.json"


@dataclass(frozen=True)
class Block:
    """One piece of the report body: a heading, a paragraph, a table or a chart.

    ``origins`` maps the text back to the file: ``(offset in text, line, column)`` for the start
    of each source line the text was joined from (columns count characters from 1).
    """

    kind: str  # "title" | "heading" | "paragraph" | "table" | "chart"
    text: str
    level: int = 0
    line: int = 0  # line in the narrative file, for messages
    origins: tuple[tuple[int, int, int], ...] = ()

    def where(self, offset: int) -> tuple[int, int | None]:
        """(line, column) in the narrative file of character ``offset`` of :attr:`text`."""
        found = None
        for start, line, col in self.origins:
            if start <= offset:
                found = (line, col + offset - start)
        return found if found else (self.line, None)

    def line_starts(self) -> list[int]:
        """Offsets in :attr:`text` where a source line begins."""
        return [start for start, _, _ in self.origins] or [0]


def template_text() -> str:
    """The scaffold every new county-year starts from."""
    return (RESOURCES_DIR / "narrative_template.md").read_text(encoding="utf-8")


def load(path: Path | None) -> tuple[str, str]:
    """Return (text, source name) of a narrative file, or the scaffold when there is none."""
    if path is not None and Path(path).is_file():
        try:
            return Path(path).read_text(encoding="utf-8-sig"), Path(path).name
        except UnicodeDecodeError:
            raise InputError(
                "叙述文件应为UTF-8编码 narrative must be UTF-8", file=str(path)
            ) from None
    return template_text(), "narrative_template.md"


def scaffold(folder: Path) -> Path:
    """Write the template as ``narrative.md`` into a county-year folder (never overwrites)."""
    target = Path(folder) / NARRATIVE_FILE
    if target.exists():
        raise InputError("叙述文件已存在，不会覆盖 narrative exists", file=str(target))
    target.write_text(template_text(), encoding="utf-8")
    return target


def parse(text: str, source: str, known: set[str], hint: str = FIGURES_HINT) -> list[Block]:
    """Split a narrative into blocks, checking every ``{{ reference }}`` against ``known``.

    ``known`` holds the figure names, ``county``, ``year`` and ``table:…``/``chart:…``; the
    forms of :data:`FORMS` are valid after any figure name. ``hint`` says where the full list
    of names is (for the message on an unknown name).
    """
    blocks: list[Block] = []
    para: list[str] = []
    origins: list[tuple[int, int, int]] = []
    start = 0

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", "".join(para), line=start, origins=tuple(origins)))
            para.clear()
            origins.clear()

    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("<!--") and line.endswith("-->"):
            continue
        lead = len(raw) - len(raw.lstrip())
        _check_refs(line, source, n, known, lead, hint)
        m = _BLOCK.match(line)
        if not line:
            flush()
        elif line.startswith("#"):
            flush()
            level = len(line) - len(line.lstrip("#"))
            rest = line[level:]
            heading = rest.strip()
            col = lead + level + (len(rest) - len(rest.lstrip())) + 1
            kind = "title" if level == 1 else "heading"
            blocks.append(Block(kind, heading, level, n, ((0, n, col),)))
        elif m:
            flush()
            blocks.append(Block(m.group(1), m.group(2), line=n))
        else:
            if not para:
                start = n
            origins.append((sum(map(len, para)), n, lead + 1))
            para.append(line)
    flush()
    return blocks


def _check_refs(line: str, source: str, n: int, known: set[str], lead: int, hint: str) -> None:
    for m in _REF.finditer(line):
        ref = m.group(1)
        col = lead + m.start() + 1
        name, _, form = ref.partition(".")
        if _BLOCK.match(m.group(0)) and m.group(0) == line:
            kind, _, block = ref.partition(":")
            if f"{kind}:{block}" in known:
                continue
        elif ref.startswith(("table:", "chart:")) and ref in known:
            raise InputError(
                f"“{{{{ {ref} }}}}”须单独占一行（表格和图表不能放在段落中间）"
                f"（第{n}行第{col}列）a table or chart must stand on a line of its own",
                file=source,
                row=n,
                column=str(col),
            )
        elif form and name in NO_CHANGE:
            raise InputError(
                f"“{ref}”：{name} 不是数字，没有 .{form} 可言，请写 {{{{ {name} }}}}"
                f"（第{n}行第{col}列）no .{form} for this name",
                file=source,
                row=n,
                column=str(col),
            )
        elif name in known and (not form or form in FORMS):
            continue
        elif (not form or form in FORMS) and (missing := _not_computed(name, known)):
            raise InputError(
                f"叙述文件引用了“{ref}”（第{n}行第{col}列），但本次没有这个数字：{missing}"
                " figure not available",
                file=source,
                row=n,
                column=str(col),
            )
        raise InputError(
            f"叙述文件引用了未知的名称“{ref}”（第{n}行第{col}列）unknown figure name。"
            + _suggestion(ref, known)
            + f"全部名称见{hint}。",
            file=source,
            row=n,
            column=str(col),
        )


def _not_computed(name: str, known: set[str]) -> str | None:
    """Why a figure the figure table declares was not computed (its ledger is optional and
    absent, or the figure does not exist this year), or None for a name that is not a figure."""
    from edureport.ingest.specs import spec
    from edureport.report.figures import figure_table

    table = figure_table()
    d = table.get(name)
    if d is None or name in known or not (spec(d.ledger).optional_ledger or d.absent):
        return None
    ledger = spec(d.ledger)
    if d.absent and any(k in known for k, other in table.items() if other.ledger == d.ledger):
        return f"{d.absent}。"  # the ledger is there; this figure is not, this year
    return (
        f"它由{ledger.title}计算，本文件夹中没有该台账（文件名应含“{ledger.keyword}”）。"
        "请放入该台账，或删去这处引用。"
    )


def _suggestion(ref: str, known: set[str]) -> str:
    """``最接近的有：{{ a }}、{{ b }}。`` from the names and forms a narrative may use."""
    figures = sorted(k for k in known if ":" not in k and k not in NO_CHANGE)
    candidates = [*NO_CHANGE, *figures, *(f"{k}.{f}" for k in figures for f in FORMS)]
    if ref.startswith(("table:", "chart:")):
        candidates = sorted(k for k in known if ":" in k)
    close = difflib.get_close_matches(ref, candidates, n=3, cutoff=0.6)
    if not close:
        name, _, form = ref.partition(".")
        bases = difflib.get_close_matches(name, figures, n=3, cutoff=0.5)
        close = [f"{b}.{form}" if form in FORMS else b for b in bases]
    if not close:
        return ""
    return "最接近的有：" + "、".join(f"{{{{ {c} }}}}" for c in close) + "。"


def references(text: str) -> Iterator[re.Match[str]]:
    """Every ``{{ reference }}`` in ``text`` (group 1: the name and form)."""
    return _REF.finditer(text)


# ---------------------------------------------------------------- filling, with provenance


@dataclass(frozen=True)
class Piece:
    """A stretch of filled text: ``[start, end)`` there, ``[src_start, src_end)`` in the block's
    text, and the reference it came from (None: text the analyst typed)."""

    start: int
    end: int
    src_start: int
    src_end: int
    ref: str | None


def render(text: str, values: Mapping[str, str]) -> tuple[str, list[Piece]]:
    """``text`` with every ``{{ key }}`` replaced by its display text, and where each piece
    of the result came from."""
    out: list[str] = []
    pieces: list[Piece] = []
    pos = src = 0

    def add(chunk: str, src_start: int, src_end: int, ref: str | None) -> None:
        nonlocal pos
        if chunk or ref is not None:
            pieces.append(Piece(pos, pos + len(chunk), src_start, src_end, ref))
            out.append(chunk)
            pos += len(chunk)

    for m in _REF.finditer(text):
        add(text[src : m.start()], src, m.start(), None)
        add(values[m.group(1)], m.start(), m.end(), m.group(1))
        src = m.end()
    add(text[src:], src, len(text), None)
    return "".join(out), pieces


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{ key }}`` in a paragraph by its display text."""
    return render(text, values)[0]


def source_offset(pieces: Iterable[Piece], offset: int) -> int:
    """The offset in the block's text of character ``offset`` of the filled text."""
    for p in pieces:
        if p.start <= offset < p.end:
            return p.src_start + (offset - p.start if p.ref is None else 0)
    return max((p.src_end for p in pieces), default=0)


def filled_offset(pieces: Iterable[Piece], src: int) -> int | None:
    """The offset in the filled text of character ``src`` of typed text (None: inside a ref)."""
    for p in pieces:
        if p.ref is None and p.src_start <= src < p.src_end:
            return p.start + src - p.src_start
    return None


# ---------------------------------------------------------------- numbers in the text

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_ALL = _CN_DIGITS + "十百千万亿"
_ORD = "一二三四五六七八九十"  # numerals of list items and ordinals
NUMBER = re.compile(
    rf"\d+(?:,\d{{3}})*(?:\.\d+)?|百分之[{_CN_ALL}点]+|[{_CN_ALL}]+(?:点[{_CN_DIGITS}]+)?"
)
_M = r"(?:1[0-2]|0?[1-9])"  # month
_D = r"(?:3[01]|[12]\d|0?[1-9])"  # day
_Y = r"(?:19|20)\d\d"
_TO = r"\s*[-—–~～至到]\s*"
_CM = "(?:十[一二]?|[一二三四五六七八九])"
_CD = "(?:三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
# Numbers that are not figures: dates and years, ordinals and list numbering, document numbers.
NOT_FIGURES = re.compile(
    "|".join(
        [
            rf"{_Y}(?:{_TO}{_Y})?\s*年",  # 2022年, 2021—2025年
            rf"{_Y}[-/.]{_M}[-/.]{_D}(?!\d)",  # 2022-06-15
            rf"(?<![\d.]){_M}(?:{_TO}{_M})?\s*月(?:\s*{_D}\s*日(?:{_TO}(?:{_M}月)?{_D}日)?)?",
            rf"每月{_D}日",
            r"[〇零一二三四五六七八九]{4}年",  # 二〇二二年
            rf"{_CM}月(?:{_CD}日)?",  # 六月十五日
            rf"第[\d{_CN_ALL}]+",  # 第一, 第二十五条, 第3批
            rf"[{_ORD}]+是",  # 一是、二是
            rf"其[{_ORD}]",  # 其一、其二
            rf"[（(](?:\d{{1,2}}|[{_ORD}]{{1,3}})[）)]",  # （一）, (1)
            # grades: 三年级, 高一 (not 提高三个)
            rf"(?:\d|[{_ORD}])+年级|(?<![提升增较最更很偏过])[高初][一二三](?![{_CN_ALL}个项次人所])",
            rf"[〔\[［【（(]{_Y}[〕\]］】）)]\s*\d+\s*号",  # 〔2022〕12号
        ]
    )
)
# At the start of a line: list numbering (1. 2、) and section numbers (一、).
LIST_ITEM = re.compile(rf"\d{{1,2}}[.．、](?!\d)|[{_ORD}]+、")
# Words whose numerals are not counts, allowed everywhere (a county adds its own in config.yaml
# ``fixed_phrases``). A lone 一 (统一, 一定, 进一步, 一所学校) and 百/千/万/亿 on their own (百姓,
# 千方百计) are never read as numbers; 两, 三 … are.
COMMON_PHRASES = (
    "十分", "万一", "零容忍", "零距离", "四面八方", "三令五申", "五湖四海", "三番五次", "五花八门",
    "一五一十", "七上八下", "十全十美", "三心二意", "四平八稳",
    "十三五", "十四五", "十五五", "六五普法", "七五普法", "八五普法", "三重一大", "三项制度",
    "两学一做", "三会一课", "四个意识", "四个自信", "两个维护", "两个确立", "八项规定", "三严三实",
    "四风", "三公经费", "五育并举", "三全育人", "两免一补", "两不愁三保障", "一岗双责",
)  # fmt: skip


@dataclass(frozen=True)
class Number:
    """A number found in filled text: where, as written, and its value when known."""

    start: int
    end: int
    text: str
    value: Decimal | None


def numbers_in(text: str) -> list[Number]:
    """Every number in ``text``, Arabic (12, 1,234.5) or Chinese (三百, 十二, 百分之三十)."""
    found = []
    for m in NUMBER.finditer(text):
        token = m.group(0)
        if token[0].isdigit():
            found.append(Number(m.start(), m.end(), token, _decimal(token.replace(",", ""))))
        elif not set(token) <= set("一") and not set(token) <= set("百千万亿"):
            found.append(Number(m.start(), m.end(), token, chinese_value(token)))
    return found


def prepare() -> None:
    """Import cn2an (the fixed cost, ~0.15 s, of the first Chinese numeral read)."""
    import cn2an  # noqa: F401


def chinese_value(token: str) -> Decimal | None:
    """The value of a Chinese numeral (三百 → 300, 百分之三十 → 30), by cn2an; None if unclear."""
    import cn2an

    body = token.removeprefix("百分之")
    try:
        return _decimal(str(cn2an.cn2an(body, "normal")))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def allowed_mask(text: str, line_starts: Iterable[int], phrases: Iterable[str]) -> bytearray:
    """1 for each character of ``text`` inside a date, an ordinal, list numbering at a line's
    start, or one of ``phrases`` (and :data:`COMMON_PHRASES`): numbers there are not figures."""
    mask = bytearray(len(text))

    def mark(start: int, end: int) -> None:
        mask[start:end] = b"\x01" * (end - start)

    for m in NOT_FIGURES.finditer(text):
        mark(m.start(), m.end())
    for start in line_starts:
        if m := LIST_ITEM.match(text, start):
            mark(m.start(), m.end())
    for phrase in {*COMMON_PHRASES, *(p for p in phrases if p)}:
        at = text.find(phrase)
        while at >= 0:
            mark(at, at + len(phrase))
            at = text.find(phrase, at + 1)
    return mask


def todo_marks(block: Block) -> Iterator[tuple[int, int | None, str]]:
    """(line, column, excerpt) of every 待填写 in a block."""
    at = block.text.find(TODO)
    while at >= 0:
        line, col = block.where(at)
        opened = block.text.rfind("（", 0, at)
        if opened >= 0 and opened >= at - 2:
            closed = block.text.find("）", at)
            end = closed + 1 if closed >= 0 else len(block.text)
            excerpt = block.text[opened:end]
        else:
            excerpt = block.text[max(0, at - 10) : at + 30]
        yield line, col, excerpt if len(excerpt) <= 60 else excerpt[:59] + "…"
        at = block.text.find(TODO, at + 1)
