"""``make lock``: write requirements.lock from pyproject.toml with uv (exact versions, hashes).

One lock for everything ``make setup`` installs (the package's dependencies and the dev, batch
and lab extras), resolved for Python 3.11 on every platform (``--universal``: markers, not one
machine's picks), with the hashes of every file of each pinned version. Its header records the
SHA-256 of pyproject.toml's dependency lists
(:func:`edureport.runs.provenance.dependencies_digest`), which tests/test_lock.py compares, so
a pyproject change without ``make lock`` fails the tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edureport.runs.provenance import LOCK_DIGEST_PREFIX, LOCK_FILE, dependencies_digest  # noqa: E402

PYTHON = "3.11"
EXTRAS = ("dev", "batch", "lab")


def main() -> int:
    uv = Path(sys.executable).parent / "uv"
    command = [str(uv) if uv.exists() else "uv", "pip", "compile", "pyproject.toml"]
    command += [arg for extra in EXTRAS for arg in ("--extra", extra)]
    command += ["--python-version", PYTHON, "--universal", "--generate-hashes"]
    command += ["--custom-compile-command", "make lock", "--quiet", "--no-header"]
    locked = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    if "==" not in locked:
        print(f"uv gave no pins: {' '.join(command)}", file=sys.stderr)
        return 1
    header = (
        "# Exact versions and hashes of everything `make setup` installs (Python 3.11, any\n"
        "# platform). Made from pyproject.toml by `make lock` (scripts/lock.py, uv); do not edit.\n"
        f"{LOCK_DIGEST_PREFIX}{dependencies_digest()}\n"
    )
    LOCK_FILE.write_text(header + locked, encoding="utf-8")
    print(f"wrote {LOCK_FILE.name}: {sum(1 for ln in locked.splitlines() if '==' in ln)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
