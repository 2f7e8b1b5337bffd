"""``edureport run``: execute the three notebooks with papermill, render, publish if valid."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import EXIT_OK, EXIT_VALIDATION_FAILED, EdureportError, InputError
from .paths import NOTEBOOKS_DIR, county_year_dir, published_dir
from .steps import check_parameters

NOTEBOOKS = (
    ("1_clean", "清洗台账 clean"),
    ("2_validate", "校验 validate"),
    ("3_report", "生成报告 report"),
)
# What a passing run publishes beside report.html (report.html itself is replaced last).
PUBLISHED = (
    "notebooks",
    "cleaned",
    "set_aside.csv",
    "conservation.json",
    "validation.json",
    "validation.html",
    "figures.json",
    "inputs.json",
)
# Errors raised inside a notebook that are the project's own, by exception class name.
_OWN_ERRORS = {"InputError": InputError, "UsageError": EdureportError}


@dataclass
class RunResult:
    """The outcome of one run, for the CLI and the scheduler."""

    run_dir: Path
    report: Path
    published: bool
    exit_code: int


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def run(
    county: str,
    year: int,
    data_root: Path,
    out_root: Path,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Run clean → validate → report for one county-year; publish only when validation passes."""
    check_parameters(county, year)
    data = county_year_dir(data_root, county, year).resolve()
    if not data.is_dir():
        raise InputError(f"找不到台账文件夹 ledger folder not found: {data}")
    target = published_dir(out_root, county, year).resolve()
    run_dir = target / "runs" / new_run_id()
    (run_dir / "notebooks").mkdir(parents=True)
    params = {"county": county, "year": year, "data_dir": str(data), "run_dir": str(run_dir)}
    (run_dir / "parameters.json").write_text(
        json.dumps(params, ensure_ascii=False, indent=2), "utf-8"
    )
    for i, (name, label) in enumerate(NOTEBOOKS, start=1):
        started = time.perf_counter()
        progress(f"[{i}/{len(NOTEBOOKS) + 1}] {label} …")
        _execute(name, run_dir, params)
        progress(f"      完成 done ({time.perf_counter() - started:.1f} s)")
    progress(f"[{len(NOTEBOOKS) + 1}/{len(NOTEBOOKS) + 1}] 导出HTML export …")
    from .render import export_html

    meta = json.loads((run_dir / "report_meta.json").read_text("utf-8"))
    export_html(run_dir / "notebooks" / "3_report.ipynb", run_dir / "report.html", meta["title"])
    validation = json.loads((run_dir / "validation.json").read_text("utf-8"))
    if not validation.get("passed", False):
        return RunResult(run_dir, run_dir / "report.html", False, EXIT_VALIDATION_FAILED)
    publish(run_dir, target)
    return RunResult(run_dir, target / "report.html", True, EXIT_OK)


def _execute(name: str, run_dir: Path, params: dict[str, object]) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output = run_dir / "notebooks" / f"{name}.ipynb"
    try:
        pm.execute_notebook(
            str(NOTEBOOKS_DIR / f"{name}.ipynb"),
            str(output),
            parameters=params,
            cwd=str(NOTEBOOKS_DIR),
            progress_bar=False,
            log_output=False,
            kernel_name="python3",
        )
    except PapermillExecutionError as exc:
        own = _OWN_ERRORS.get(exc.ename)
        if own is InputError:
            raise InputError(exc.evalue) from None
        if own is not None:
            raise EdureportError(exc.evalue) from None
        raise EdureportError(
            f"笔记本 {name}.ipynb 第{exc.exec_count}个单元格出错 notebook cell failed: "
            f"{exc.ename}: {exc.evalue} (executed notebook kept: {output})"
        ) from exc


def publish(run_dir: Path, target: Path) -> None:
    """Copy a passing run's results to ``target``: each entry written beside, then renamed."""
    for name in (*PUBLISHED, "report.html"):
        src = run_dir / name
        if not src.exists():
            continue
        staged = target / f".{name}.{run_dir.name}.tmp"
        if src.is_dir():
            shutil.copytree(src, staged)
            old = target / f".{name}.{run_dir.name}.old"
            if (target / name).exists():
                os.replace(target / name, old)
            os.replace(staged, target / name)
            shutil.rmtree(old, ignore_errors=True)
        else:
            shutil.copy2(src, staged)
            os.replace(staged, target / name)
