"""The pieces every HTML page shares: one style sheet, escaping, tables, the page frame.

The report (nbconvert's template includes the same ``report.css``), the validation page, the
index and the roll-up are each one self-contained file with this style sheet inline, no script
and no external request. Text goes in through :func:`text`, which escapes it and keeps each number
with its unit (``100.00 元`` never breaks between the two, on a phone or on paper).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from .paths import TEMPLATES_DIR

STYLESHEET = TEMPLATES_DIR / "edureport" / "report.css"
# A number (or date) and the unit after it: kept on one line.
_NUMBER_UNIT = re.compile(
    r"(?<![0-9A-Za-z.,])([-−+]?\d[\d,]*(?:\.\d+)?(?:-\d{2}-\d{2})?)"
    r"(\s?(?:万元|元|人次|学时|人|行|项|所|个|次|处|%|年|月|日))?"
)


def esc(value: object) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes); None is empty."""
    return html.escape("" if value is None else str(value), quote=True)


def text(value: object) -> str:
    """Escaped text whose numbers stay on one line with their units."""

    def keep(m: re.Match[str]) -> str:
        joined = m.group(2) or "-" in m.group(1).lstrip("-")
        return f'<span class="nw">{m.group(0)}</span>' if joined else m.group(0)

    return _NUMBER_UNIT.sub(keep, esc(value))


@dataclass(frozen=True)
class Cell:
    """A table cell: text, optionally a link (a relative path) and a CSS class."""

    text: str
    href: str | None = None
    cls: str | None = None


def cell_html(cell: str | Cell, label: str = "") -> str:
    """One ``<td>``; ``label`` (its column's header) is shown before it where tables become
    cards (narrow screens)."""
    attr = f' data-label="{esc(label)}"' if label else ""
    if not isinstance(cell, Cell):
        return f"<td{attr}>{text(cell)}</td>"
    inner = text(cell.text)
    if cell.href is not None:
        inner = f'<a href="{esc(quote(cell.href))}">{inner}</a>'
    cls = f' class="{esc(cell.cls)}"' if cell.cls else ""
    return f"<td{cls}{attr}>{inner}</td>"


def table(
    caption: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    note: str | None = None,
    cls: str = "data",
) -> str:
    """A table in the report's style; a row whose first cell is 合计 is the bold total row."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        ('<tr class="total">' if row and row[0] == "合计" else "<tr>")
        + "".join(cell_html(c, h) for c, h in zip(row, header, strict=False))
        + "</tr>"
        for row in rows
    )
    note_html = f'<p class="note">{text(note)}</p>' if note else ""
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table class="{esc(cls)}">{cap}<thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table>{note_html}"
    )


def page(title: str, body: str, kind: str = "report") -> str:
    """A whole self-contained page: the style sheet inline, the title, the body.

    ``kind`` ``"report"`` is the official look (index, roll-up); ``"tool"`` the plainer, wider
    look of a working page (validation).
    """
    css = STYLESHEET.read_text(encoding="utf-8")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="edureport">\n'
        f"<title>{esc(title)}</title>\n<style>\n{css}</style>\n</head>\n<body>\n"
        f'<main class="report {esc(kind)}">\n<h1 class="title">{esc(title)}</h1>\n{body}\n'
        "</main>\n</body>\n</html>\n"
    )
