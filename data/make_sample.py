"""Regenerate the bundled sample ledgers data/raw/示例县/2022/ and data/raw/示例县/2021/.

Usage: ``python data/make_sample.py``. The seeds are fixed (``synthetic.SAMPLE_SEEDS``),
so running it again rewrites byte-identical files; ledgers left over from an older layout of the
sample (a file with a ledger keyword the generator no longer writes) are removed.
"""

from __future__ import annotations

import sys
from pathlib import Path

# the repository root: the generator (synthetic/) is not part of the installed package
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edureport.paths import RAW_DIR, SAMPLE_COUNTY
from synthetic import KEYWORDS, Manifest, write_sample

SAMPLE_YEARS = (2022, 2021)
LEDGER_SUFFIXES = (".xlsx", ".xls", ".csv")


def remove_stale(manifest: Manifest) -> list[Path]:
    """Delete ledger-like files in the folder that this run did not write."""
    written = set(manifest.files.values())
    stale = [
        p
        for p in sorted(manifest.folder.iterdir())
        if p.suffix.lower() in LEDGER_SUFFIXES
        and p.name not in written
        and any(k in p.stem for k in KEYWORDS.values())
    ]
    for p in stale:
        p.unlink()
    return stale


def main() -> int:
    for year in SAMPLE_YEARS:
        manifest = write_sample(RAW_DIR, year, SAMPLE_COUNTY)
        print(f"{manifest.folder}:")
        for ledger, name in manifest.files.items():
            print(f"  {ledger:<12} {name}")
        for row in manifest.planted:
            print(f"  planted: {row.file} row {row.row}: {row.kind} ({row.reason})")
        for path in remove_stale(manifest):
            print(f"  removed stale {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
