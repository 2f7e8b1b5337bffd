"""Where a run's code came from: the git commit, the package versions and the lock file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

from edureport.paths import EXPECTATIONS_DIR, NOTEBOOKS_DIR, PACKAGE_DIR, REPO_ROOT

LOCK_FILE = REPO_ROOT / "requirements.lock"  # exact versions and hashes (`make lock`)
PYPROJECT = REPO_ROOT / "pyproject.toml"
# The lock's header line carrying the digest of the pyproject dependency lists it was made from.
LOCK_DIGEST_PREFIX = "# pyproject-dependencies-sha256: "


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


def dependencies_digest(pyproject: Path = PYPROJECT) -> str:
    """SHA-256 of pyproject.toml's dependency lists (requires-python, dependencies, extras),
    order-insensitive: what the lock file must be made from again when it changes."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lists = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            extra: sorted(reqs) for extra, reqs in project.get("optional-dependencies", {}).items()
        },
    }
    return hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest()


@cache
def lock_sha256() -> str:
    """SHA-256 of the lock file the environment was installed from, or 'no lock file'."""
    try:
        return hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    except OSError:
        return "no lock file"


def python_version() -> str:
    """The running Python, e.g. '3.11.7'."""
    return ".".join(map(str, sys.version_info[:3]))


@cache
def code_fingerprint() -> str:
    """A hash of the code a run executes: package, notebooks, suites, templates."""
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
