"""environment.yml and pyproject.toml declare the same dependencies; paths never use the CWD."""

from __future__ import annotations

import re
import tomllib

import yaml

from edureport import paths

CONDA_ONLY = {"python"}


def _name_spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((paths.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs.extend(extra)
    out = dict(_name_spec(r) for r in reqs)
    if "dask" in out:  # dask[distributed] is two conda packages
        out["distributed"] = out["dask"]
    return out


def _environment() -> dict[str, str]:
    env = yaml.safe_load((paths.REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    return {n: s for n, s in map(_name_spec, deps) if n not in CONDA_ONLY}


def test_environment_matches_pyproject() -> None:
    assert _environment() == _pyproject()


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
