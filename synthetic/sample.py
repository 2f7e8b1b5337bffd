"""One county-year written whole, and the bundled sample's seeds and planted rows."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

from synthetic.aid import _aid_records, _check_aid, _plant
from synthetic.others import _approvals, _exchanges, _inspections, _Institutions, _officers
from synthetic.people import _People, area_code, school_catalogue
from synthetic.targets import Targets, targets_2021_sample, targets_2022_sample
from synthetic.vocabulary import BAD_KINDS, STYLES
from synthetic.writers import (
    Manifest,
    PlantedRow,
    _planted_row,
    _write_aid,
    _write_approvals,
    _write_cases,
    _write_control,
    _write_exchange,
    _write_inspections,
    _write_officers,
    _write_training,
)

# ------------------------------------------------------------------ public writers


def write_county_year(
    folder: Path,
    county: str,
    year: int,
    targets: Targets,
    seed: int,
    style: str = "canonical",
    plant: Sequence[str] = (),
) -> Manifest:
    """Write one county-year's ledgers into ``folder`` (the optional ones where ``targets`` has
    them); ``plant`` adds bad aid rows.

    The good rows yield exactly ``targets``; each kind in ``plant`` (see :data:`BAD_KINDS`)
    adds one bad row to the aid ledger, listed in the returned manifest. Same seed, same files.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {STYLES}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{county}:{year}:{part}")

    schools = school_catalogue(county)
    people = _People(rng("people"), area_code(county))
    records = _aid_records(rng("aid"), people, schools, year, targets)
    _check_aid(records, targets)
    records = _plant(rng("plant"), people, records, plant, year)
    roster = _officers(rng("officers"), people, county, year, targets)
    exchanges = _exchanges(rng("exchange"), people, schools, year, targets)
    book = _Institutions(rng("institutions"), county, schools)
    inspections = _inspections(rng("inspections"), book, year, targets)
    approvals = _approvals(rng("approvals"), book, year, targets)
    aid_name, planted = _write_aid(folder, county, year, records, style, rng("aid-cells"))
    files = {
        "aid": aid_name,
        "control": _write_control(folder, year, targets, style),
        "officers": _write_officers(folder, county, year, roster, style),
        "exchange": _write_exchange(folder, county, year, exchanges, style, rng("ex-cells")),
        "inspections": _write_inspections(
            folder, county, year, inspections, style, rng("inspection-cells")
        ),
        "approvals": _write_approvals(folder, year, approvals, style),
    }
    if targets.training:
        files["training"] = _write_training(
            folder, county, year, targets.training, style, rng("training")
        )
    if targets.cases:
        files["cases"] = _write_cases(folder, county, year, targets.cases, style, rng("cases"))
    narrative = folder / "narrative.md"
    if not narrative.exists():  # a generated county-year publishes: its narrative is finished
        narrative.write_text(finished_narrative(), encoding="utf-8")
    return Manifest(folder, files, tuple(planted), targets)


def finished_narrative() -> str:
    """The narrative scaffold written out: each 待填写 replaced by its own instruction as text,
    no 同比 (``.change``: a generated county-year has no last year)."""
    from edureport.report.narrative import template_text

    text = re.sub(r"（待填写：([^（）]*)）", r"\1", template_text())
    return re.sub(r"\{\{\s*[a-z_]+\.change\s*\}\}", "", text)


SAMPLE_SEEDS = {2022: 20221231, 2021: 20211231}
_SAMPLE_STYLE = {
    2022: ("messy_xlsx", BAD_KINDS, targets_2022_sample),
    2021: ("messy_csv", ("duplicate",), targets_2021_sample),
}
# The bad rows planted in the bundled samples: Excel row (2022) / CSV line (2021) -> kind.
# The tests assert that the generator still plants exactly these.
SAMPLE_2022_BAD_ROWS = {
    221: "zero_amount",
    1038: "duplicate",
    4913: "bad_check_digit",
    10519: "wrong_year",
}
SAMPLE_2021_BAD_ROWS = {1182: "duplicate"}


def sample_planted(year: int) -> tuple[PlantedRow, ...]:
    """The bad rows planted in the bundled sample of ``year``, as the manifest lists them."""
    file, rows = {
        2022: ("2022年学生资助发放台账（终版）.xlsx", SAMPLE_2022_BAD_ROWS),
        2021: ("2021年学生资助发放台账.csv", SAMPLE_2021_BAD_ROWS),
    }[year]
    return tuple(_planted_row(file, row, kind) for row, kind in sorted(rows.items()))


def write_sample(raw_dir: Path, year: int, county: str = "示例县") -> Manifest:
    """Write the bundled sample of ``year`` (2021 or 2022) to ``raw_dir/<county>/<year>/``."""
    style, plant, targets = _SAMPLE_STYLE[year]
    folder = Path(raw_dir) / county / str(year)
    return write_county_year(folder, county, year, targets(), SAMPLE_SEEDS[year], style, plant)
