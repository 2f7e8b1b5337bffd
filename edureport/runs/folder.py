"""The run folder and the published folder: the names of their files, atomic writes, and
reading them back. Every module that writes or reads a run's files takes the names from here."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

# The files of a run folder <out>/<county>/<year>/runs/<run-id>/, by the step that writes them.
CLEANED = "cleaned"  # clean: one Parquet table per ledger
SET_ASIDE_CSV = "set_aside.csv"  # clean: rows set aside or excluded, with reasons
CONSERVATION = "conservation.json"  # clean: row counts, sources, stated totals, notes
INPUTS = "inputs.json"  # clean: SHA-256 of every input file
PREVIOUS = "previous"  # clean: last year's cleaned ledgers (and their validation)
PREVIOUS_STATE = "previous.json"  # clean: what became of last year's ledgers
PREVIOUS_FIGURES = "previous_figures.json"  # clean: last year's figures, for 同比
FIGURES = "figures.json"  # validate: every figure, exact
VALIDATION_JSON = "validation.json"  # validate: every check
VALIDATION_HTML = "validation.html"  # validate: the reviewers' page of it
REPORT_HTML = "report.html"  # report (export): the report
REPORT_DOCX = "report.docx"  # report: the same, for submission
REPORT_META = "report_meta.json"  # report: its title, 待填写 count, warnings
PARAMETERS = "parameters.json"  # runner: the notebooks' parameters
RECORD = "run.json"  # runner: the run record
RUN_LOG = "run.log"  # runner: the run's log
NOTEBOOKS = (
    ("1_clean", "清洗台账 clean"),
    ("2_validate", "校验 validate"),
    ("3_report", "生成报告 report"),
)
# What a passing run publishes: each a stable name <name> -> current/<name> in the published
# folder (an entry the run did not produce is a dangling link: absent).
PUBLISHED = (
    REPORT_DOCX,
    "notebooks",
    CLEANED,
    SET_ASIDE_CSV,
    CONSERVATION,
    VALIDATION_JSON,
    VALIDATION_HTML,
    FIGURES,
    INPUTS,
    RECORD,
    REPORT_HTML,
)
KERNEL_LOG = "kernels.log"  # in the run folder: what the notebook kernels printed themselves
# In the run folder: copies of the analyst's own files the run read (small, no personal data),
# this year's and last year's (``sources/previous/``), so that ``reproduce`` can use them.
SOURCES = "sources"
SOURCE_FILES = ("narrative.md", "config.yaml")
RUNS = "runs"  # in the published folder: one folder per run
# In the published folder: one run folder per ``edureport reproduce`` (checks, never published;
# apart from runs/, so that the latest *run* of a county-year is what the index shows).
REPRODUCTIONS = "reproductions"
STATE = "published.json"  # in each version: fingerprint, run id, time, manifest of the files
VERSIONS = "versions"  # in the published folder: versions/<seq>-<run-id>/, one publication each
CURRENT = "current"  # the symlink to the version published now; switching it is the commit
STAGING = ".partial"  # suffix of a version being staged (never pointed at)
KEEP_VERSIONS = 3  # the current version and the ones before it kept (older removed)
LEGACY_JOURNAL = ".publishing.json"  # left by a publish cut short by releases before versions
LOCK = ".lock"


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def now() -> str:
    """The local time with its UTC offset, as run records store it."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk (before the switch makes it visible)."""
    for folder, _dirs, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames in it) to disk, where the system allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place: readers see old or new, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)  # no half-written file left beside (a full disk)
        except OSError:
            pass
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as indented UTF-8 JSON, written atomically (:func:`write_atomic`)."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def list_runs(
    out_root: Path, county: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Every run record under ``out_root`` (optionally one county and/or year), oldest first."""
    records = []
    for path in sorted(Path(out_root).glob("*/*/runs/*")):
        if not path.is_dir():
            continue
        c, y = path.parent.parent.parent.name, path.parent.parent.name
        if (county and c != county) or (year and y != str(year)):
            continue
        rec = read_json(path / "run.json") or {"status": "incomplete (no run.json)"}
        records.append(
            {
                "county": c,
                "year": y,
                "run_id": path.name,
                "started": rec.get("started", ""),
                "status": rec.get("status"),
                "exit_code": rec.get("exit_code"),
                "duration_s": rec.get("duration_s"),
                "path": str(path),
            }
        )
    return sorted(records, key=lambda r: r["run_id"])
