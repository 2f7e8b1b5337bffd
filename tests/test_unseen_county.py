"""Counties made by the generator, in the messy formats, that no fixture was written for."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from edureport.ingest.clean import clean_folder
from edureport.report.figures import compute
from synthetic import BAD_KINDS, STYLES, Targets, random_targets, write_county_year

from .conftest import edureport, page_text


def expected(targets: Targets) -> dict[str, int]:
    return {
        "aid_total_count": targets.aid_person_times,
        "aid_total_amount": targets.aid_amount_fen,
        "exchange_total": targets.rotation_teachers + targets.rotation_principals,
        "exchange_teachers": targets.rotation_teachers,
        "exchange_principals": targets.rotation_principals,
        "itinerant_teachers": targets.itinerant_teachers,
        "itinerant_schools": targets.itinerant_schools,
        "inspected_passed": targets.inspected_pass,
        "unlicensed_closed": targets.banned_unlicensed,
        "kindergartens_approved": targets.kindergartens_approved,
        "officers_total": targets.officers,
    }


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("seed", [7, 2024])
def test_generated_county_cleans_to_its_targets(tmp_path: Path, style: str, seed: int) -> None:
    import datetime as dt

    targets = random_targets(random.Random(seed), size=(0.05, 0.2))
    manifest = write_county_year(
        tmp_path, "合成县", 2023, targets, seed, style=style, plant=BAD_KINDS
    )
    result = clean_folder(tmp_path, 2023)
    figures = compute(result.tables, dt.date(2023, 12, 31))
    assert {k: figures[k].value for k in expected(targets)} == expected(targets)
    got = sorted(zip(result.set_aside["file"], result.set_aside["row"], strict=True))
    want = sorted((p.file, p.row) for p in manifest.planted)
    assert got == want
    for c in result.conservation.values():
        assert c["raw_rows"] == c["cleaned_rows"] + c["set_aside_rows"]


@pytest.mark.slow
def test_unseen_county_runs_end_to_end(tmp_path: Path) -> None:
    import json

    # A county whose roster is in order, so that the run publishes.
    targets = dataclasses.replace(
        random_targets(random.Random(99), size=(0.1, 0.3)),
        officers_uncertified=0,
        officers_contract=0,
    )
    folder = tmp_path / "data" / "新县" / "2023"
    folder.mkdir(parents=True)
    manifest = write_county_year(
        folder, "新县", 2023, targets, 99, style="messy_xlsx", plant=BAD_KINDS
    )
    (folder / "config.yaml").write_text(f"declared_officers: {targets.officers}\n", "utf-8")
    out = tmp_path / "out"
    proc = edureport(
        "run", "--county", "新县", "--year", "2023", "--data", tmp_path / "data", "--out", out
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    published = out / "新县" / "2023"
    figures = json.loads((published / "figures.json").read_text("utf-8"))
    assert {k: figures[k]["value"] for k in expected(targets)} == expected(targets)
    text = page_text(published / "report.html")
    assert figures["aid_total_amount"]["text"] in text
    aside = (published / "set_aside.csv").read_text("utf-8-sig")
    for p in manifest.planted:
        assert f",{p.row}," in aside
