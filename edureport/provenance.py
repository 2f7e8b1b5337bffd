"""Where a run's code came from: the git commit when there is one."""

from __future__ import annotations

import subprocess
from functools import cache

from .paths import EXPECTATIONS_DIR, NOTEBOOKS_DIR, PACKAGE_DIR, REPO_ROOT


@cache
def code_version() -> str:
    """The git commit of the code (with ``-dirty`` for local changes), or 'unknown'."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


@cache
def package_versions() -> dict[str, str]:
    """Versions of the packages a run depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "edureport",
        "pandas",
        "pyarrow",
        "papermill",
        "nbconvert",
        "great-expectations",
        "matplotlib",
        "openpyxl",
        "python-calamine",
        "python-stdnum",
        "cn2an",
        "python-docx",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


@cache
def code_fingerprint() -> str:
    """A hash of the code a run executes: package, notebooks, suites, templates."""
    import hashlib

    h = hashlib.sha256()
    for folder, pattern in (
        (PACKAGE_DIR, "**/*"),
        (NOTEBOOKS_DIR, "*.ipynb"),
        (EXPECTATIONS_DIR, "**/*.json"),
    ):
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(REPO_ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()
