"""Every HTML page and piece edureport writes, from Jinja2 templates with one style sheet.

The templates are under ``edureport/templates/pages/`` (autoescape on: every value from a ledger,
a file name or a config is escaped); the style sheet is ``templates/edureport/report.css``, which
nbconvert's report template includes too. The report, the validation page, the index and the
roll-up are each one self-contained file: style inline, no script, no external request. Text goes
through the ``u`` filter (:func:`text`), which escapes it and keeps each number with its unit
(``100.00 元`` never breaks between the two, on a phone or on paper).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from edureport.paths import TEMPLATES_DIR

STYLESHEET = TEMPLATES_DIR / "edureport" / "report.css"
PAGES_DIR = TEMPLATES_DIR / "pages"
# A number (or date) and the unit after it: kept on one line.
_NUMBER_UNIT = re.compile(
    r"(?<![0-9A-Za-z.,])([-−+]?\d[\d,]*(?:\.\d+)?(?:-\d{2}-\d{2})?)"
    r"(\s?(?:万元|元|人次|学时|人|行|项|所|个|次|件|处|%|年|月|日))?"
)


def esc(value: object) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes); None is empty."""
    return html.escape("" if value is None else str(value), quote=True)


def text(value: object) -> Markup:
    """Escaped text whose numbers stay on one line with their units."""

    def keep(m: re.Match[str]) -> str:
        joined = m.group(2) or "-" in m.group(1).lstrip("-")
        return f'<span class="nw">{m.group(0)}</span>' if joined else m.group(0)

    return Markup(_NUMBER_UNIT.sub(keep, esc(value)))


@dataclass(frozen=True)
class Cell:
    """A table cell: text, optionally a link (a relative path) and a CSS class."""

    text: str
    href: str | None = None
    cls: str | None = None


@dataclass(frozen=True)
class Table:
    """A table for macros.html.j2's ``table``; a row whose first cell is 合计 is the total."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str | Cell]]
    note: str | None = None
    cls: str = "data"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PAGES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["u"] = text
    return env


def render(template: str, **context: Any) -> str:
    """A template of ``templates/pages/`` rendered (pages get the style sheet and ``kind``)."""
    context.setdefault("stylesheet", Markup(STYLESHEET.read_text(encoding="utf-8")))
    context.setdefault("kind", "report")
    return environment().get_template(template).render(**context)


def macro(template: str, name: str) -> Any:
    """A macro of a template (for the pieces of a page built elsewhere, e.g. the report's)."""
    return getattr(environment().get_template(template).module, name)
