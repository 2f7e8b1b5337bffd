"""The analyst's narrative file: Markdown with ``{{ figure }}`` references, and its scaffold.

Format (documented in README): ``#`` title, ``##`` section (一、…), ``###`` sub-section (（一）…),
other lines are paragraphs (a blank line ends one). ``{{ key }}`` is replaced by the figure's
display text, ``{{ key.change }}`` by its change on last year (empty without last year's data),
and a line holding only ``{{ table:NAME }}`` or ``{{ chart:NAME }}`` places a table or chart.
Text marked 待填写 is a place the analyst still has to write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .paths import RESOURCES_DIR

NARRATIVE_FILE = "narrative.md"
TODO = "待填写"
_REF = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_BLOCK = re.compile(r"^\{\{\s*(table|chart):([a-z_]+)\s*\}\}$")


@dataclass(frozen=True)
class Block:
    """One piece of the report body: a heading, a paragraph, a table or a chart."""

    kind: str  # "title" | "heading" | "paragraph" | "table" | "chart"
    text: str
    level: int = 0
    line: int = 0  # line in the narrative file, for messages


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


def parse(text: str, source: str, known: set[str]) -> list[Block]:
    """Split a narrative into blocks, checking every ``{{ reference }}`` against ``known``."""
    blocks: list[Block] = []
    para: list[str] = []
    start = 0

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", "".join(para), line=start))
            para.clear()

    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("<!--") and line.endswith("-->"):
            continue
        _check_refs(line, source, n, known)
        m = _BLOCK.match(line)
        if not line:
            flush()
        elif line.startswith("#"):
            flush()
            level = len(line) - len(line.lstrip("#"))
            kind = "title" if level == 1 else "heading"
            blocks.append(Block(kind, line[level:].strip(), level, n))
        elif m:
            flush()
            blocks.append(Block(m.group(1), m.group(2), line=n))
        else:
            if not para:
                start = n
            para.append(line)
    flush()
    return blocks


NO_CHANGE = ("county", "year")  # names with no value last year to compare with


def _check_refs(line: str, source: str, n: int, known: set[str]) -> None:
    for m in _REF.finditer(line):
        ref = m.group(1)
        if _BLOCK.match(m.group(0)) and m.group(0) == line:
            name = ref.split(":", 1)[1]
            if f"{ref.split(':', 1)[0]}:{name}" in known:
                continue
        elif ref.startswith(("table:", "chart:")) and ref in known:
            raise InputError(
                f"“{{{{ {ref} }}}}”须单独占一行（表格和图表不能放在段落中间）"
                " a table or chart must stand on a line of its own",
                file=source,
                row=n,
            )
        elif ref.endswith(".change") and ref.removesuffix(".change") in NO_CHANGE:
            raise InputError(
                f"“{ref}”没有同比变化可言，只有数字才有 .change no change for this name",
                file=source,
                row=n,
            )
        elif ref.removesuffix(".change") in known:
            continue
        raise InputError(
            f"叙述文件引用了未知的数字名称“{ref}” unknown figure name", file=source, row=n
        )


def fill(text: str, values: dict[str, str]) -> str:
    """Replace every ``{{ key }}`` in a paragraph by its display text."""
    return _REF.sub(lambda m: values[m.group(1)], text)
