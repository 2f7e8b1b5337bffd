"""environment.yml installs the lock; paths never use the CWD; notebooks are committed clean."""

from __future__ import annotations

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
