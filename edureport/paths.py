"""Every path the package uses, built from the package's own location (never the CWD)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any

from edureport.errors import UsageError

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


MAX_COUNTY_CHARS = 64  # the longest county-level name is far shorter


def check_county(county: Any) -> str:
    """A county name that is safe as one folder name: raises UsageError otherwise.

    Not empty, not ``.`` or ``..``, no path separator, no control or format character (NUL, a
    line break, a right-to-left mark), no white space at either end, at most 64 characters.
    """
    if not isinstance(county, str) or not county or county != county.strip():
        raise UsageError(f"县名应为非空文字，首尾不能有空格：{county!r}")
    if county.startswith(".") or any(c in county for c in "/\\"):
        raise UsageError(f"县名不能含路径符号（/ \\），不能以“.”开头：{county!r}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in county):
        raise UsageError(f"县名不能含控制字符：{county!r}")
    if len(county) > MAX_COUNTY_CHARS:
        raise UsageError(f"县名过长（{len(county)}个字符，最多{MAX_COUNTY_CHARS}个）")
    return county


def check_year(year: Any) -> int:
    """A report year: a whole number from 2000 to 2100 (raises UsageError otherwise)."""
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise UsageError(f"年度应为2000–2100之间的整数：{year!r}")
    return year


def inside(root: Path, county: Any, year: Any) -> Path:
    """``<root>/<county>/<year>`` after checking both names; it cannot leave ``root``."""
    folder = Path(root) / check_county(county) / str(check_year(year))
    base = os.path.normpath(os.path.abspath(root))
    if os.path.commonpath([base, os.path.normpath(os.path.abspath(folder))]) != base:
        raise UsageError(f"路径超出了指定的文件夹 path leaves {root}: {folder}")
    return folder


def county_year_dir(data_root: Path, county: str, year: int) -> Path:
    """The folder holding one county's ledgers for one year (names checked, inside the root)."""
    return inside(data_root, county, year)


def ledger_folder(data: Path, county: str, year: int) -> Path:
    """The county-year folder, whether ``data`` is the root holding ``<county>/<year>/`` or that
    folder itself (a folder named for the year that holds no ``<county>/<year>/`` of its own)."""
    nested = county_year_dir(data, county, year)
    given = Path(data)
    if not nested.is_dir() and given.name == str(check_year(year)) and given.is_dir():
        return given
    return nested


def published_dir(out_root: Path, county: str, year: int) -> Path:
    """Where a passing run publishes: ``<out>/<county>/<year>/`` (names checked, inside)."""
    return inside(out_root, county, year)
