"""Ledger kinds, each declared once as data: ``resources/ledgers/<kind>.yaml``.

The model is Frictionless Table Schema (fields with a type and constraints, the names a column
goes by), extended with what edureport needs: whether a field holds personal data and what
becomes of it in the cleaned table, the normaliser that reads a cell, how a person is
identified, the in-year date, the repeat rule, the control ledger it reconciles with, which
set-aside rules apply, and the generic checks of its validation suite. Reading, cleaning, the
suites (expectations/build_suites.py), the sample generator, docs/ledgers.md and the tests all
read these specs; a new ledger kind is a new file there (plus its figures and, if it has any,
checks no generic rule expresses).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from edureport.paths import RESOURCES_DIR

SPECS_DIR = RESOURCES_DIR / "ledgers"
TYPES = ("string", "integer", "number", "date", "boolean", "money")
CLEANED = ("keep", "drop", "pseudonym")  # what becomes of a field in the cleaned table
DTYPES = {
    "string": "str",
    "integer": "Int64",
    "number": "float64",
    "date": "datetime64[ns]",
    "boolean": "boolean",
    "money": "Int64",
}
CHECKS = ("present", "present_if", "valid", "in_year", "positive", "unique")


@dataclass(frozen=True)
class Field:
    """One column of a ledger."""

    name: str  # the canonical name (the cleaned table's, but money becomes <name>_fen)
    title: str  # the header counties use most, and the label in messages
    synonyms: tuple[str, ...]  # other headers meaning the same column
    type: str
    normaliser: str  # a name in edureport.ingest.clean.NORMALISERS
    required: bool = True  # the column must be in the file
    category: str | None = None  # its value set: synonyms.yaml ``values``, or ``values`` here
    values: dict[str, tuple[str, ...]] | None = None  # canonical value -> its variants
    personal: bool = False  # a name or ID number: used for matching, never kept
    cleaned: str = "keep"
    pseudonym: str | None = None  # the pseudonym kind when ``cleaned`` is pseudonym
    positive: bool = False  # zero or less is set aside
    example: str = ""  # a typical cell ({year} stands for the report year), for new folders
    summed: bool = False  # a count a 合计/小计 row adds up (money always is): compared with rows
    unit: str = ""  # the count's unit in messages (人次, 学时); money is in 元

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.title, *self.synonyms)

    @property
    def cleaned_name(self) -> str:
        return f"{self.name}_fen" if self.type == "money" else self.name

    @property
    def kept(self) -> bool:
        return not self.personal and self.cleaned != "drop"

    @property
    def dtype(self) -> str:
        return DTYPES[self.type]


@dataclass(frozen=True)
class Repeat:
    """Later rows with the same values in ``columns`` are set aside with ``reason``."""

    columns: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class LedgerSpec:
    """One ledger kind (docs/ledgers.md is generated from these)."""

    name: str
    title: str
    keyword: str
    order: int
    fields: tuple[Field, ...]
    description: str = ""
    optional_ledger: bool = False  # may be absent from a county-year folder
    control: str | None = None  # the ledger whose totals account for its set-aside rows
    person: str | None = None  # id_number, or officer (certificate, ID number, else row)
    in_year: str | None = None  # the date column that must fall in the report year
    repeat: Repeat | None = None
    exclude_left: str | None = None  # the status column whose 退休, 调离 … exclude a row
    figures: tuple[str, ...] = ()  # the report figures (F-codes) its checks guard
    ignored: tuple[str, ...] = ()  # headers read past without a warning
    # generic checks: kind -> column -> label (present_if: [label, column, value])
    checks: dict[str, dict[str, Any]] | None = None

    @property
    def columns(self) -> dict[str, tuple[str, ...]]:
        """Canonical column -> the headers it goes by (first: the usual one)."""
        return {f.name: f.headers for f in self.fields}

    @property
    def optional(self) -> frozenset[str]:
        """Columns that may be missing from the file."""
        return frozenset(f.name for f in self.fields if not f.required)

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def schema(self) -> list[str]:
        """The cleaned table's columns: provenance, the person's pseudonym, the kept fields."""
        person = ["person"] if self.person else []
        return ["file", "row", *person, *(f.cleaned_name for f in self.fields if f.kept)]

    @property
    def summed(self) -> tuple[Field, ...]:
        """The columns a ledger's own 合计/小计 rows add up: money, and counts declared so."""
        return tuple(f for f in self.fields if f.type == "money" or f.summed)

    @property
    def dates(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.type == "date")

    @property
    def shown(self) -> set[str]:
        """Cleaned columns whose values a message or page may show: categories, numbers, dates,
        flags (never a person, a pseudonym or free text)."""
        return {
            f.cleaned_name
            for f in self.fields
            if f.kept and f.cleaned != "pseudonym" and (f.category or f.type != "string")
        }


@cache
def all_specs() -> dict[str, LedgerSpec]:
    """Every ledger kind, in report order."""
    specs = [_load(p) for p in sorted(SPECS_DIR.glob("*.yaml"))]
    return {s.name: s for s in sorted(specs, key=lambda s: s.order)}


@cache
def inline_categories() -> dict[str, dict[str, list[str]]]:
    """The categories whose values a ledger spec declares itself (not in synonyms.yaml)."""
    out: dict[str, dict[str, list[str]]] = {}
    for s in all_specs().values():
        for f in s.fields:
            if f.values is not None:
                out[str(f.category)] = {k: list(v) for k, v in f.values.items()}
    return out


@cache
def category_title(kind: str) -> str:
    """How messages name a category: the title of the first field holding it (by category, or
    by name for a yes/no field read with its own name), else the category's name."""
    for s in all_specs().values():
        for f in s.fields:
            if kind in (f.category, f.name):
                return f.title
    return kind


def spec(name: str) -> LedgerSpec:
    """The spec of one ledger kind."""
    return all_specs()[name]


def ledger_names(*, optional: bool | None = None) -> tuple[str, ...]:
    """The ledger kinds in order; only the required (``optional=False``) or optional ones."""
    return tuple(
        n for n, s in all_specs().items() if optional is None or s.optional_ledger == optional
    )


def _load(path: Any) -> LedgerSpec:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    where = f"{path.name}"
    fields = tuple(_field(f, where) for f in raw.pop("fields"))
    repeat = raw.pop("repeat", None)
    checks = raw.pop("checks", None) or {}
    unknown = set(checks) - set(CHECKS)
    if unknown:
        raise ValueError(f"{where}: unknown checks {sorted(unknown)}")
    spec = LedgerSpec(
        name=raw.pop("name"),
        title=raw.pop("title"),
        keyword=raw.pop("keyword"),
        order=int(raw.pop("order")),
        fields=fields,
        description=raw.pop("description", ""),
        optional_ledger=bool(raw.pop("optional", False)),
        control=raw.pop("control", None),
        person=raw.pop("person", None),
        in_year=raw.pop("in_year", None),
        repeat=Repeat(tuple(repeat["columns"]), repeat["reason"]) if repeat else None,
        exclude_left=raw.pop("exclude_left", None),
        figures=tuple(raw.pop("figures", ())),
        ignored=tuple(raw.pop("ignored", ())),
        checks={k: dict(v) for k, v in checks.items()},
    )
    if raw:
        raise ValueError(f"{where}: unknown keys {sorted(raw)}")
    if path.stem != spec.name:
        raise ValueError(f"{where}: name {spec.name!r} differs from the file name")
    return spec


def _field(raw: dict[str, Any], where: str) -> Field:
    raw = dict(raw)
    values = raw.pop("values", None)
    field = Field(
        name=raw.pop("name"),
        title=raw.pop("title"),
        synonyms=tuple(raw.pop("synonyms", ())),
        type=raw.pop("type"),
        normaliser=raw.pop("normaliser"),
        required=bool(raw.pop("required", True)),
        category=raw.pop("category", None),
        values=None if values is None else {k: tuple(v or ()) for k, v in values.items()},
        personal=bool(raw.pop("personal", False)),
        cleaned=raw.pop("cleaned", "keep"),
        pseudonym=raw.pop("pseudonym", None),
        positive=bool(raw.pop("positive", False)),
        example=str(raw.pop("example", "")),
        summed=bool(raw.pop("summed", False)),
        unit=str(raw.pop("unit", "")),
    )
    if raw:
        raise ValueError(f"{where}: field {field.name}: unknown keys {sorted(raw)}")
    if field.type not in TYPES or field.cleaned not in CLEANED:
        raise ValueError(f"{where}: field {field.name}: type or cleaned not known")
    if field.values is not None and not field.category:
        raise ValueError(f"{where}: field {field.name}: values need a category name")
    if (field.cleaned == "pseudonym") != bool(field.pseudonym):
        raise ValueError(f"{where}: field {field.name}: a pseudonym field names its kind")
    return field


# --------------------------------------------------------------- the contract, as documentation

DOCS_BEGIN = "<!-- BEGIN ledger specs: generated from edureport/resources/ledgers/ -->"
DOCS_END = "<!-- END ledger specs -->"
# What a normaliser accepts, in words (docs/ledgers.md).
NORMALISER_DOCS = {
    "required_text": "text, required",
    "optional_text": "text, may be empty",
    "optional_code": "a number or code; empty, 无, /, —, 暂无 = none",
    "category": "one of (or a common short name of)",
    "optional_gender": "男 / 女, may be empty",
    "id_number": "18-character resident ID (last may be X; a 15-digit one is upgraded); "
    "stored as an Excel number: set aside",
    "optional_id": "resident ID as above, may be empty",
    "yes_no": "是 / 否",
    "optional_yes_no": "是 / 否, may be empty",
    "term": "e.g. 2022年春季学期, 2022秋, 2021-2022学年第二学期",
    "money": "amount in 元 (万元 where the header or title says so), two decimals at most",
    "integer": "a whole number",
    "optional_number": "a number, may be empty",
    "in_year_date": "a date in the report year (2022年5月 will do)",
    "optional_date": "a date, may be empty",
    "optional_expiry": "a date, may be empty; 长期 / 永久 = no expiry",
}


def markdown() -> str:
    """The ledgers section of docs/ledgers.md, from the specs (between the markers)."""
    from edureport.ingest.normalize import category_values

    out = [DOCS_BEGIN, ""]
    for n, s in enumerate(all_specs().values(), 1):
        optional = ", optional" if s.optional_ledger else ""
        out += [f"## {n}. {s.title} — `{s.name}` (keyword {s.keyword}{optional})", ""]
        if s.description:
            out += [s.description, ""]
        out += [
            "| column | also written | required | cell | cleaned table |",
            "|---|---|---|---|---|",
        ]
        for f in s.fields:
            cell = NORMALISER_DOCS[f.normaliser]
            if f.category:
                cell += ": " + " / ".join(category_values(f.category))
            if f.positive:
                cell += "; more than 0"
            if s.in_year == f.name:
                cell += "; outside the report year: set aside"
            if f in s.summed:
                cell += "; a 合计/小计 row's value must equal the rows it sums"
            kept = (
                "personal data: used for matching, never kept"
                if f.personal
                else {"keep": f"`{f.cleaned_name}`", "drop": "not kept"}.get(
                    f.cleaned, f"`{f.name}` as a pseudonym"
                )
            )
            unit = "（元）" if f.type == "money" else ""
            out.append(
                f"| {f.title}{unit} | {'、'.join(f.synonyms) or '—'} | "
                f"{'yes' if f.required else 'no'} | {cell} | {kept} |"
            )
        rules = []
        if s.person:
            who = (
                "certificate number, else ID number, else row (never a name)"
                if s.person == "officer"
                else "ID number"
            )
            rules.append(f"a person is their {who} (pseudonym `person`)")
        if s.repeat:
            cols = "、".join(s.field(c).title for c in s.repeat.columns)
            rules.append(f"a later row with the same {cols} is set aside ({s.repeat.reason})")
        if s.control:
            rules.append(f"reconciled with {spec(s.control).title}")
        if s.exclude_left:
            rules.append(f"excluded when {s.field(s.exclude_left).title} says 退休, 调离 …")
        if rules:
            out += ["", "Rules: " + "; ".join(rules) + "."]
        out.append("")
    out.append(DOCS_END)
    return "\n".join(out)


def write_docs(path: Any) -> bool:
    """Rewrite the generated section of ``path``; True if it changed."""
    from pathlib import Path

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    new = text[:start] + markdown() + text[end:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # python -m edureport.ingest.specs: regenerate docs/ledgers.md's tables
    from edureport.paths import REPO_ROOT

    changed = write_docs(REPO_ROOT / "docs" / "ledgers.md")
    print("docs/ledgers.md " + ("rewritten" if changed else "unchanged"))
