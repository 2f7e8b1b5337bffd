"""Every path the package uses, built from the package's own location (never the CWD)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DATA_DIR = REPO_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
OUTPUTS_DIR = REPO_ROOT / "outputs"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
RESOURCES_DIR = PACKAGE_DIR / "resources"
# Local, git-ignored state (the pseudonym key lives here unless the environment gives one).
STATE_DIR = REPO_ROOT / ".edureport"

SAMPLE_COUNTY = "示例县"
SAMPLE_YEAR = 2022


def county_year_dir(data_root: Path, county: str, year: int) -> Path:
    """The folder holding one county's ledgers for one year."""
    return Path(data_root) / county / str(year)


def published_dir(out_root: Path, county: str, year: int) -> Path:
    """Where a passing run publishes: ``<out>/<county>/<year>/``."""
    return Path(out_root) / county / str(year)
