"""Where B1's time goes.

Two sources:

- :func:`notebook_breakdown` reads a finished run folder: the pipeline's step times
  (``run.json``) and, per executed notebook, papermill's cell timestamps, which split a step into
  kernel start-up, each cell, and kernel shut-down (what is left after the last cell).
- ``python -m bench.profile_b1 STEP RUN_DIR`` runs one notebook's work (the code of its cells)
  in a fresh process, as its kernel would, and times its parts by wrapping the functions the
  step calls (imports, cleaning each year, opening the GX context, each suite, charts, docx …).
  Run it on the run folder of a finished ``edureport run``; it writes into ``RUN_DIR/profile``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STEPS = ("1_clean", "2_validate", "3_report")


# ---------------------------------------------------------------- from the executed notebooks


def _ts(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def notebook_breakdown(run_dir: Path) -> dict[str, Any]:
    """Per step: total (pipeline), kernel start-up, code cells, kernel shut-down, other."""
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    steps = record.get("steps", {})
    out: dict[str, Any] = {"total_run_s": record.get("duration_s"), "steps": {}}
    for name in STEPS:
        path = run_dir / "notebooks" / f"{name}.ipynb"
        if not path.exists():
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        meta = nb["metadata"].get("papermill", {})
        start, end = _ts(meta.get("start_time")), _ts(meta.get("end_time"))
        cells = [c["metadata"].get("papermill", {}) for c in nb["cells"]]
        timed = [c for c in cells if c.get("start_time") and c.get("end_time")]
        code = [
            (c, nbc)
            for c, nbc in zip(cells, nb["cells"], strict=True)
            if nbc["cell_type"] == "code" and c.get("duration") is not None
        ]
        first = _ts(timed[0]["start_time"]) if timed else None
        last = _ts(timed[-1]["end_time"]) if timed else None
        kernel_start = (first - start).total_seconds() if first and start else None
        shutdown = (end - last).total_seconds() if end and last else None
        cell_times = [round(float(c["duration"]), 3) for c, _ in code]
        entry = {
            "step_s": steps.get(name),
            "kernel_start_s": _r(kernel_start),
            "cells_s": cell_times,
            "cells_total_s": round(sum(cell_times), 3),
            "kernel_shutdown_s": _r(shutdown),
        }
        if entry["step_s"] is not None and start and end:
            entry["outside_notebook_s"] = _r(entry["step_s"] - (end - start).total_seconds())
        out["steps"][name] = entry
    out["steps"]["export"] = {"step_s": steps.get("export")}
    return out


def median_breakdown(found: list[dict[str, Any]]) -> dict[str, Any]:
    """Field by field medians of several :func:`notebook_breakdown` results."""
    import statistics

    def med(values: list[Any]) -> Any:
        values = [v for v in values if v is not None]
        if not values:
            return None
        if isinstance(values[0], list):  # cell times: element-wise
            return [med([v[i] for v in values if len(v) > i]) for i in range(len(values[0]))]
        return round(statistics.median(values), 3)

    if not found:
        return {}
    steps = found[0]["steps"]
    return {
        "runs": len(found),
        "total_run_s": med([f["total_run_s"] for f in found]),
        "steps": {
            name: {k: med([f["steps"].get(name, {}).get(k) for f in found]) for k in fields}
            for name, fields in steps.items()
        },
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


# ---------------------------------------------------------------- inside a kernel, by parts


class Clock:
    """Accumulates wall time per label, in first-seen order."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def add(self, label: str, seconds: float) -> None:
        self.times[label] = self.times.get(label, 0.0) + seconds

    def time(self, label: str) -> Any:
        clock = self

        class _Ctx:
            def __enter__(self) -> None:
                self.t = time.perf_counter()

            def __exit__(self, *exc: object) -> None:
                clock.add(label, time.perf_counter() - self.t)

        return _Ctx()

    def wrap(self, owner: Any, attr: str, label: str | Callable[..., str]) -> None:
        fn = owner[attr] if isinstance(owner, dict) else getattr(owner, attr)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t)

        if isinstance(owner, dict):
            owner[attr] = timed
        else:
            setattr(owner, attr, timed)


def profile_step(step: str, run_dir: Path) -> dict[str, float]:
    """Do what notebook ``step`` does for ``run_dir`` (a finished run), timing its parts."""
    clock = Clock()
    params = json.loads((run_dir / "parameters.json").read_text(encoding="utf-8"))
    work = run_dir / "profile"
    if step == "1_clean":
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
    with clock.time("import edureport.runs.steps"):
        from edureport.runs import steps
    args = (params["county"], params["year"], params["data_dir"], str(work))
    # The step imports its libraries when it runs; they are timed here first, apart.
    if step == "1_clean":
        with clock.time("import pandas, edureport.ingest.clean, edureport.report.figures"):
            from edureport.ingest import clean
            from edureport.report import figures
        clock.wrap(clean, "clean_folder", lambda folder, year: f"clean_folder {year}")
        clock.wrap(clean.CleanResult, "write", "write cleaned tables")
        clock.wrap(figures, "compute", "figures of the previous year")
        clock.wrap(steps, "sha256", "hash inputs")
        with clock.time("step total"):
            steps.clean(*args)
    elif step == "2_validate":
        with clock.time("import pandas, edureport.ingest.clean, edureport.checks.validate"):
            from edureport.checks import validate
            from edureport.ingest import clean
        from edureport.checks import gx  # where validate's work is (looked up at call time)

        clock.wrap(gx, "import_gx", "import great_expectations")
        clock.wrap(gx, "open_context", "open GX context (incl. import)")
        clock.wrap(clean.CleanResult, "load", "load cleaned tables")
        clock.wrap(gx, "build_frames", "build frames")
        clock.wrap(gx, "run_suite", lambda _c, name, *_a: f"suite {name}")
        clock.wrap(validate.ValidationReport, "write", "write validation.json/html")
        with clock.time("step total"):
            steps.validate(*args).summary_table()
    elif step == "3_report":
        with clock.time("import pandas, edureport.report.document, edureport.report.word (docx)"):
            from edureport.ingest import clean
            from edureport.report import charts, figures, word
            from edureport.report import document as report
        clock.wrap(clean.CleanResult, "load", "load cleaned tables")
        clock.wrap(figures, "compute", "compute figures")
        for name in list(charts.CHARTS):
            clock.wrap(charts.CHARTS, name, f"chart {name} (first: matplotlib import)")
        clock.wrap(report, "build", "build report (incl. charts)")
        clock.wrap(word, "write_docx", "write report.docx")
        clock.wrap(report, "html_fragments", "HTML fragments")
        with clock.time("step total"):
            steps.report(*args)
    else:
        raise SystemExit(f"unknown step {step}")
    return {k: round(v, 3) for k, v in clock.times.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=STEPS)
    p.add_argument("run_dir", type=Path)
    args = p.parse_args(argv)
    t = time.perf_counter()
    parts = profile_step(args.step, args.run_dir)
    parts["process total (after interpreter start)"] = round(time.perf_counter() - t, 3)
    print(json.dumps({"step": args.step, "parts": parts}, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
