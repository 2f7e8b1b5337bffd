"""The B1 floor: what any run of this shape must spend.

Three one-cell notebooks executed by papermill's Python API in this one process, with the
arguments edureport.runs.pipeline uses, then the last one exported to HTML by nbconvert.
``python -m bench.floor_b1 WORKDIR`` (the notebooks are written by :func:`write_notebooks`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

NAMES = ("floor_1", "floor_2", "floor_3")


def write_notebooks(workdir: Path) -> None:
    """Three notebooks of one code cell each (``1 + 1``)."""
    import nbformat

    workdir.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, workdir / f"{name}.ipynb")


def main(workdir: Path) -> None:
    t0 = time.perf_counter()
    steps = {}
    for name in NAMES:
        t = time.perf_counter()
        import papermill as pm  # imported where pipeline._execute imports it

        pm.execute_notebook(
            str(workdir / f"{name}.ipynb"),
            str(workdir / f"{name}.out.ipynb"),
            cwd=str(workdir),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
            execution_timeout=600,
            start_timeout=120,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        steps[name] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(workdir / f"{NAMES[-1]}.out.ipynb"))
    (workdir / "floor.html").write_text(body, encoding="utf-8")
    steps["export"] = round(time.perf_counter() - t, 3)
    import json

    print(json.dumps({"steps": steps, "seconds": round(time.perf_counter() - t0, 3)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
