"""Where a run's code came from: the git commit when there is one."""

from __future__ import annotations

import subprocess
from functools import cache

from .paths import REPO_ROOT


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
