"""What each notebook does, one function per notebook, so that notebooks stay thin.

Each step imports what it needs when it runs: the runner imports this module only for
:func:`check_parameters` and :func:`sha256`, and each notebook's kernel then loads only its own
step's libraries (pandas, Great Expectations, matplotlib, python-docx). Each step ends with
:func:`_settle` (see there). Both measured in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edureport.errors import InputError, UsageError
from edureport.paths import OUTPUTS_DIR, RAW_DIR, check_county, check_year, ledger_folder
from edureport.runs.folder import (
    FIGURES,
    INPUTS,
    PREVIOUS,
    PREVIOUS_FIGURES,
    PREVIOUS_STATE,
    REPORT_DOCX,
    REPORT_META,
    VALIDATION_JSON,
    write_json,
)
from edureport.runs.summaries import _rows_text, data_note, provenance_footer, validation_banner

if TYPE_CHECKING:
    from edureport.checks.validate import ValidationReport
    from edureport.ingest.clean import CleanResult
    from edureport.report.document import Report


def prepare(step: str) -> None:
    """Load what notebook ``step`` needs before its cells run (libraries, the GX context).

    Nothing else: no data is read and nothing is written, so a runner may call this in a
    kernel it starts early, while the previous notebook still runs, and the notebook's cells
    then find everything loaded (see "proposed" in docs/performance.md).
    """
    # imported for their import cost, paid here ahead of the notebook's cells
    if step == "1_clean":
        from edureport.ingest import clean
        from edureport.report import figures
    elif step == "2_validate":
        from edureport.checks import policy, validate  # noqa: F401
        from edureport.ingest import clean
        from edureport.report import document, figures, narrative

        validate.get_context()
        narrative.prepare()
    elif step == "3_report":
        from edureport.ingest import clean  # noqa: F401
        from edureport.report import charts, document, figures, narrative, word  # noqa: F401

        charts.prepare()
        narrative.prepare()
    else:
        raise UsageError(f"unknown step {step!r}")


def resolve(
    county: str, year: int, data_dir: str | Path = "", run_dir: str | Path = ""
) -> tuple[Path, Path]:
    """Check notebook parameters and fill in default folders (the bundled sample layout)."""
    check_parameters(county, year)
    data = ledger_folder(Path(data_dir) if str(data_dir) else RAW_DIR, county, year)
    run = Path(run_dir) if str(run_dir) else OUTPUTS_DIR / county / str(year) / "interactive"
    return data.resolve(), run.resolve()


def check_parameters(county: Any, year: Any) -> None:
    """Types and values of the parameters papermill passes through unchecked."""
    check_county(county)
    check_year(year)


def report_date(data: Path, year: int) -> dt.date:
    """The date certificates must be valid on (the year's policy, else 31 December)."""
    from edureport.checks.policy import load_policy

    return load_policy(data, year).report_date


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- step 1: clean


def clean(
    county: str, year: int, data_dir: str | Path = "", run_dir: str | Path = ""
) -> CleanResult:
    """Clean the county-year's ledgers (and last year's, for comparisons) into ``run_dir``.

    Last year's cleaned ledgers go to ``run_dir/previous/`` (the validation step checks them
    before they feed 同比), their figures to ``previous_figures.json``, and what became of them
    (missing, unreadable, cleaned) to ``previous.json``.
    """
    from edureport.ingest.clean import clean_folder

    data, run = resolve(county, year, data_dir, run_dir)
    result = clean_folder(data, year)
    result.write(run)
    for note in result.notes:
        print(f"注意 note: {note}")
    inputs = {p.name: sha256(p) for p in sorted(data.iterdir()) if p.is_file()}
    write_json(run / INPUTS, inputs)
    _clean_previous(data, run, year)
    _settle()
    return result


def _clean_previous(data: Path, run: Path, year: int) -> None:
    """Clean ``<year-1>`` beside ``data`` into ``run/previous/``; record the outcome."""
    import shutil

    from edureport.checks.policy import load_policy
    from edureport.ingest.clean import clean_folder
    from edureport.report.figures import compute_for

    prev_dir = data.parent / str(year - 1)
    shown = f"{data.parent.name}/{year - 1}/"
    shutil.rmtree(run / PREVIOUS, ignore_errors=True)  # nothing stale from an earlier run
    (run / PREVIOUS_FIGURES).unlink(missing_ok=True)
    state = {"year": year - 1, "folder": shown, "status": "missing"}
    state["reason"] = f"没有上年（{year - 1}年）的台账文件夹 {shown}"
    if prev_dir.is_dir():
        try:
            prev = clean_folder(prev_dir, year - 1)
            figures = compute_for(prev.tables, load_policy(prev_dir, year - 1))
        except InputError as exc:
            print(f"上年数据无法读取，不作同比 previous year skipped: {exc}")
            state |= {
                "status": "unreadable",
                "reason": f"上年（{year - 1}年）的台账无法读取：{exc}",
            }
        else:
            prev.write(run / PREVIOUS)
            figures.write(run / PREVIOUS_FIGURES)
            state |= {"status": "cleaned", "reason": ""}
    write_json(run / PREVIOUS_STATE, state)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _settle() -> None:
    """Exempt everything alive now from the cyclic garbage collector (``gc.freeze``).

    A step's kernel is shut down right after its last cell, and a Python process at exit runs a
    full collection over every object it holds: with pandas, Great Expectations or matplotlib
    loaded that walk took 0.5–2 s of each kernel's shut-down. Frozen objects are still freed
    when no longer referenced; only reference cycles among them wait for the process to end.
    """
    gc.freeze()


# ---------------------------------------------------------------- step 3: report


def report(
    county: str, year: int, data_dir: str | Path = "", run_dir: str | Path = ""
) -> tuple[Report, list[str]]:
    """Compute the figures, fill the narrative, and return the report with its HTML pieces.

    What keeps the narrative from being finished (待填写, a missing part, 同比 without last
    year's data) is a failed check of the validation step; the notes of that step (last year's
    data missing where no 同比 is used) are the report's warnings.
    """
    from edureport.checks.policy import load_policy
    from edureport.ingest.clean import CleanResult
    from edureport.report import narrative as nv
    from edureport.report.document import audit_numbers, build, html_fragments
    from edureport.report.figures import compute_for
    from edureport.report.word import write_docx

    data, run = resolve(county, year, data_dir, run_dir)
    cleaned = CleanResult.load(run)
    policy = load_policy(data, year)
    reg = compute_for(cleaned.tables, policy)
    reg.write(run / FIGURES)
    text, source = nv.load(data / nv.NARRATIVE_FILE)
    hint = figures_hint(run)
    rep = build(
        county,
        year,
        reg,
        usable_previous(run),
        text,
        source,
        fixed_phrases=policy.fixed_phrases,
        hint=hint,
    )
    audit_numbers(rep, hint)
    warnings = list(_read_json(run / VALIDATION_JSON).get("notes", []))
    for w in warnings:
        print(f"警告 warning: {w}")
    banner = validation_banner(run, warnings)
    pieces = [*html_fragments(rep, banner), data_note(run), provenance_footer(run, rep)]
    write_docx(rep, run / REPORT_DOCX)
    meta = {"title": rep.title, "todo": rep.todo, "warnings": warnings}
    write_json(run / REPORT_META, meta)
    _settle()
    return rep, pieces


# ---------------------------------------------------------------- step 2: validate


def validate(
    county: str, year: int, data_dir: str | Path = "", run_dir: str | Path = ""
) -> ValidationReport:
    """Run the Great Expectations suites on the cleaned tables and on the narrative; write
    validation.json/html.

    The narrative is filled from the figures (written to ``figures.json`` first, so that an
    error can point to the list of names) and checked: an unknown name or a number typed by
    hand stops the run (:class:`InputError`, exit 2); what is unfinished or missing (待填写, a
    mandated part, 同比 without valid data of last year) becomes rows of the ``narrative``
    suite's frame, so fails its checks like any ledger rule. Where the narrative uses 同比,
    last year's cleaned ledgers are first validated with the same ledger suites
    (``previous/validation.json``).
    """
    from edureport.checks.policy import load_policy
    from edureport.checks.validate import validate as run_suites
    from edureport.ingest.clean import CleanResult

    data, run = resolve(county, year, data_dir, run_dir)
    cleaned = CleanResult.load(run)
    policy = load_policy(data, year)
    problems, notes = narrative_checks(county, year, data, run, cleaned, policy)
    result = run_suites(
        cleaned.tables,
        cleaned.conservation,
        policy,
        set_aside=cleaned.set_aside,
        stated_totals=cleaned.stated_totals,
        narrative=problems,
    )
    result.notes, result.county = notes, county
    result.write(run)
    _settle()
    return result


def figures_hint(run: Path) -> str:
    """Where the full list of names a narrative may use is, for messages."""
    return f"本次运行文件夹中的 figures.json（{run / 'figures.json'}）"


def narrative_checks(
    county: str, year: int, data: Path, run: Path, cleaned: CleanResult, policy: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """The narrative's problems (rows of the ``narrative`` suite's frame) and notes.

    Raises InputError for an unknown name (with the nearest names) or a number typed by hand
    (each with its line and column).
    """
    from edureport.report import narrative as nv
    from edureport.report.document import audit_numbers, build, change_references, completeness
    from edureport.report.figures import compute_for

    reg = compute_for(cleaned.tables, policy)
    reg.write(run / FIGURES)
    path = data / nv.NARRATIVE_FILE
    text, source = nv.load(path)
    hint = figures_hint(run)
    rep = build(
        county,
        year,
        reg,
        None,
        text,
        source,
        fixed_phrases=policy.fixed_phrases,
        hint=hint,
        charts=False,
    )
    audit_numbers(rep, hint)
    file = nv.NARRATIVE_FILE
    problems: list[dict[str, Any]] = []
    if not path.is_file():
        problems.append(
            {
                "check": "todo",
                "file": file,
                "row": None,
                "item": f"没有叙述文件 {file}：报告只能按模板生成，“待填写”处无人撰写"
                f"（edureport new --county {county} --year {year} 生成模板，写好后再运行）",
            }
        )
    else:
        problems += [
            {"check": check, "file": file, "row": line, "item": item}
            for check, line, item in completeness(rep)
        ]
    found, notes = _previous_problems(data, run, year, change_references(rep))
    problems += [{**p, "file": file} for p in found]
    return problems, notes


def _previous_problems(
    data: Path, run: Path, year: int, changes: list[tuple[str, int, int | None]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows for each ``.change`` that last year's data cannot support, and notes.

    Last year's ledgers are validated (ledger suites and reconciliations, with last year's
    config.yaml) only when the narrative uses ``.change``; the outcome is kept in
    ``previous.json`` (``validated``) for the report step.
    """
    state = _read_json(run / PREVIOUS_STATE) or {
        "year": year - 1,
        "status": "missing",
        "reason": "本次运行没有上年数据的记录（请先运行清洗步骤）",
    }
    state["validated"] = None
    prev_year = state.get("year", year - 1)
    if not changes:
        write_json(run / PREVIOUS_STATE, state)
        if state["status"] != "cleaned":
            return [], [f"{state['reason']}；叙述中没有用到同比（.change），不影响发布"]
        return [], []
    used = "、".join(sorted({f"{{{{ {name}.change }}}}" for name, _, _ in changes}))
    first_line = changes[0][1]

    def where(line: int, col: int | None) -> str:
        return f"第{line}行" + (f"第{col}列" if col else "")

    rows: list[dict[str, Any]] = []
    if state["status"] != "cleaned":
        rows = [
            {
                "check": "previous_missing",
                "row": line,
                "item": f"{where(line, col)} {{{{ {name}.change }}}}：{state['reason']}，无法同比"
                "（补齐上年台账，或删去 .change）",
            }
            for name, line, col in changes
        ]
        write_json(run / PREVIOUS_STATE, state)
        return rows, []
    failed = _validate_previous(data.parent / str(prev_year), run, prev_year)
    state["validated"] = "failed" if failed else "passed"
    write_json(run / PREVIOUS_STATE, state)
    if failed:
        return [
            {
                "check": "previous_invalid",
                "row": first_line,
                "item": f"上年（{prev_year}年）台账未通过校验，{used} 无法同比：{text}",
            }
            for text in failed
        ], []
    from edureport.report.figures import Registry

    previous = Registry.read(run / PREVIOUS_FIGURES)
    return [
        {
            "check": "previous_missing",
            "row": line,
            "item": f"{where(line, col)} {{{{ {name}.change }}}}：上年（{prev_year}年）没有 "
            f"{name} 这一数字（上年 config.yaml 未申报或台账未计），无法同比",
        }
        for name, line, col in changes
        if name not in previous
    ], []


def _validate_previous(prev_dir: Path, run: Path, prev_year: int) -> list[str]:
    """Validate last year's cleaned ledgers (``run/previous/``) with the ledger suites; write
    ``previous/validation.json`` and ``.html``; return one line per failed check."""
    from edureport.checks.policy import load_policy
    from edureport.checks.validate import LEDGER_SUITES, SUITE_TITLES
    from edureport.checks.validate import validate as run_suites
    from edureport.ingest.clean import CleanResult

    cleaned = CleanResult.load(run / PREVIOUS)
    try:
        policy = load_policy(prev_dir, prev_year)
    except InputError as exc:
        return [f"上年 config.yaml 无法读取：{exc}"]
    result = run_suites(
        cleaned.tables,
        cleaned.conservation,
        policy,
        suites=LEDGER_SUITES,
        set_aside=cleaned.set_aside,
        stated_totals=cleaned.stated_totals,
    )
    result.write(run / PREVIOUS, report_href="../report.html")
    lines = []
    for c in result.failed:
        rows = [r for r in c.offending if r.row is not None]
        at = f"；{_rows_text([[r.file, r.row] for r in rows])}" if rows else ""
        title = SUITE_TITLES.get(c.suite, c.suite)
        lines.append(f"{title}：{c.rule}（{c.found}{at}；详见 {PREVIOUS}/validation.html）")
    return lines


def usable_previous(run: Path) -> Any:
    """Last year's figures for 同比, only if last year's ledgers passed validation."""
    from edureport.report.figures import Registry

    state = _read_json(run / PREVIOUS_STATE)
    path = run / PREVIOUS_FIGURES
    if state.get("validated") == "passed" and path.is_file():
        return Registry.read(path)
    return None
