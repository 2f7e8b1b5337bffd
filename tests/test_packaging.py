"""environment.yml installs the lock; paths never use the CWD; notebooks are committed clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from edureport import paths


def test_environment_installs_the_lock() -> None:
    """conda gives Python 3.11 and pip; the packages are the lock's (tests/test_lock.py)."""
    env = yaml.safe_load((paths.REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert sorted(conda) == ["pip", "python=3.11"]
    assert pip == ["-r requirements.lock"]


def test_paths_come_from_the_package() -> None:
    assert (paths.REPO_ROOT / "pyproject.toml").is_file()
    assert paths.NOTEBOOKS_DIR.is_dir() and paths.EXPECTATIONS_DIR.is_dir()


def test_notebooks_committed_without_outputs() -> None:
    import nbformat

    for nb_path in paths.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, nb_path
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, nb_path


def test_one_version_shown_everywhere(capsys: pytest.CaptureFixture) -> None:
    """pyproject's version is the package's, --version's and -V's, and CHANGELOG.md's newest
    entry (below an "Unreleased" one, if any), which says whether published figures can change
    (as every entry does)."""
    import tomllib

    from edureport import __version__, cli

    project = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert __version__ == project["version"]
    for flag in ("--version", "-V"):
        with pytest.raises(SystemExit) as done:
            cli.main([flag])
        assert done.value.code == 0 and capsys.readouterr().out == f"edureport {__version__}\n"
    changelog = (paths.REPO_ROOT / "CHANGELOG.md").read_text("utf-8")
    entries = re.split(r"(?m)^## ", changelog)[1:]
    released = entries[1:] if entries[0].startswith("Unreleased\n") else entries  # not yet out
    assert released[0].startswith(f"{__version__} ")
    assert all("Published figures" in entry for entry in entries)


@pytest.mark.slow
def test_the_report_footer_shows_version_and_commit(published: Path) -> None:
    from edureport import __version__
    from edureport.runs.provenance import code_version

    from .conftest import page_text

    text = page_text(published / "report.html")
    assert f"程序版本{__version__}（{code_version()}）" in text
