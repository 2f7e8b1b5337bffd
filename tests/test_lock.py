"""requirements.lock agrees with pyproject.toml, and installs into a fresh venv (the CI path)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from edureport.paths import REPO_ROOT
from edureport.runs import provenance

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
PY311 = {"python_version": "3.11", "python_full_version": "3.11.0"}


def _pins(text: str) -> dict[str, list[tuple[Version, str | None]]]:
    """name -> [(version, marker)] of every pin in a lock (a name may be pinned per marker)."""
    pins: dict[str, list[tuple[Version, str | None]]] = {}
    for line in text.splitlines():
        if m := PIN.match(line):
            pins.setdefault(canonicalize_name(m.group(1)), []).append((Version(m.group(2)), m[3]))
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs.extend(extra)
    return [Requirement(r) for r in reqs]


def drift(lock: str, pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """What disagrees between a lock's text and pyproject.toml, one line each (empty: none)."""
    problems = []
    prefix = provenance.LOCK_DIGEST_PREFIX
    digest = next((ln for ln in lock.splitlines() if ln.startswith(prefix)), prefix)
    if digest.removeprefix(prefix) != provenance.dependencies_digest(pyproject):
        problems.append("pyproject.toml's dependency lists changed since the lock: make lock")
    pins = _pins(lock)
    for req in _requirements():
        name = canonicalize_name(req.name)
        for_311 = [v for v, m in pins.get(name, []) if m is None or Marker(m).evaluate(PY311)]
        if not for_311:
            problems.append(f"{req} is not pinned for Python 3.11")
        bad = [v for v in for_311 if v not in req.specifier]
        problems += [f"{req}: locked {v} does not satisfy it" for v in bad]
    return problems


def test_the_lock_agrees_with_pyproject() -> None:
    assert drift(provenance.LOCK_FILE.read_text("utf-8")) == []


def test_every_pin_has_hashes() -> None:
    text = provenance.LOCK_FILE.read_text("utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
    assert blocks and all("--hash=sha256:" in b for b in blocks if "==" in b)


def test_drift_is_caught(tmp_path: Path) -> None:
    """A dependency added or tightened in pyproject.toml without `make lock` fails the test."""
    lock = provenance.LOCK_FILE.read_text("utf-8")
    changed = (REPO_ROOT / "pyproject.toml").read_text("utf-8")
    changed = changed.replace('"pandas>=3.0"', '"pandas>=99"')
    (tmp_path / "pyproject.toml").write_text(changed, "utf-8")
    assert provenance.dependencies_digest(tmp_path / "pyproject.toml") != (
        provenance.dependencies_digest()
    )
    problems = drift(lock, tmp_path / "pyproject.toml")
    assert problems and "make lock" in problems[0]
    assert drift(re.sub(r"(?m)^pandas==.*$", "pandasx==1.0 \\\\", lock)) == [
        "pandas>=3.0 is not pinned for Python 3.11"
    ]


def test_run_record_names_the_lock() -> None:
    import hashlib

    assert provenance.lock_sha256() == hashlib.sha256(provenance.LOCK_FILE.read_bytes()).hexdigest()


@pytest.mark.slow
def test_the_lock_installs_into_a_fresh_venv(tmp_path: Path) -> None:
    """What `make setup` does on a clean machine: a new venv, the lock with hashes, no other
    dependency resolution, the package itself without dependencies, and `pip check` clean."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    for args in (
        ["--require-hashes", "--no-deps", "-r", str(provenance.LOCK_FILE)],
        ["--no-deps", "-e", str(REPO_ROOT)],
    ):
        proc = subprocess.run(
            [py, "-m", "pip", "install", "--quiet", *args], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    check = subprocess.run([py, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    version = subprocess.run(
        [str(venv / "bin" / "edureport"), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"edureport {provenance.package_versions()['edureport']}"
