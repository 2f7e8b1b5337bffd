"""Running the committed Great Expectations suites: the context, one batch per suite, and
each result turned into a :class:`Check`."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edureport import paths
from edureport.checks.policy import Policy
from edureport.imports import import_lean

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations.expectation import Expectation

from edureport.checks.frames import (
    Compact,
    _accepted_found,
    _key,
    build_frames,
    compact_frame,
    set_aside_summary,
)
from edureport.checks.results import (
    BATCH_DEFINITION,
    DATASOURCE,
    FAILED,
    MAX_OFFENDING,
    NOT_CONFIGURED,
    PASSED,
    PROVENANCE,
    SAFE_RESULT_KEYS,
    SUITES,
    Check,
    RowRef,
    ValidationReport,
)
from edureport.checks.wording import (
    _clean,
    _expected_text,
    _found_text,
    _jsonable,
    _row_number,
    _value_counts,
    _yuan,
)

# --- the context ---------------------------------------------------------------------------------


def gx_root() -> Path:
    """The GX project folder (``expectations/gx``), located from the package, not the CWD."""
    return paths.EXPECTATIONS_DIR / "gx"


def suites_dir() -> Path:
    return gx_root() / "expectations"


@functools.cache
def get_context() -> AbstractDataContext:
    """The file-based GX context under ``expectations/``, created once per process."""
    return open_context()


def import_gx() -> ModuleType:
    """Import ``great_expectations`` (once per process), the cheap way.

    The modules of :data:`SKIPPED_IMPORTS` are hidden while GX imports (see
    :mod:`edureport.imports`: jsonschema, through altair, would build an IRI parser; a fresh GX
    import measured 5.5 s with it, 3.7 s without). Then everything imported so far is
    moved out of the garbage collector's sight (``gc.freeze``): GX's tens of thousands of
    long-lived objects are never garbage, yet every full collection, including the one at
    interpreter exit, would walk them: a kernel that imported GX took ~2 s longer to shut down.
    """
    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    gx = import_lean("great_expectations")
    gc.freeze()
    return gx


def open_context() -> AbstractDataContext:
    """Open (or create) the file-based GX context under ``expectations/gx``.

    Get-or-add only: re-running never rewrites what is committed. Progress bars and analytics
    are off (set in ``great_expectations.yml``; repaired and saved only if missing).
    """
    gx = import_gx()
    context = gx.get_context(mode="file", project_root_dir=str(paths.EXPECTATIONS_DIR))
    _quiet(context)
    _ensure_assets(context)
    return context


def _quiet(context: AbstractDataContext) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if progress_bars_enabled(context) or context.variables.analytics_enabled is not False:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.analytics_enabled = False
        context.variables.data_docs_sites = {}  # GX data docs load CDN assets: not used
        context.variables.save()


def progress_bars_enabled(context: AbstractDataContext) -> bool:
    """Whether GX would draw progress bars (the yml gives a dict, the API an object)."""
    bars = context.variables.progress_bars
    if bars is None:
        return True
    globally = bars.get("globally") if isinstance(bars, Mapping) else bars.globally
    return globally is not False


def _ensure_assets(context: AbstractDataContext) -> None:
    try:
        source = context.data_sources.get(DATASOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(DATASOURCE)
    for name in SUITES:
        try:
            asset = source.get_asset(name)
        except LookupError:
            asset = source.add_dataframe_asset(name)
        try:
            asset.get_batch_definition(BATCH_DEFINITION)
        except KeyError:
            asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


# --- validation ----------------------------------------------------------------------------------


def validate(
    tables: Mapping[str, pd.DataFrame],
    conservation: Mapping[str, Mapping[str, int]],
    policy: Policy,
    suites: Iterable[str] = SUITES,
    set_aside: pd.DataFrame | None = None,
    stated_totals: Iterable[Mapping[str, Any]] = (),
    narrative: Iterable[Mapping[str, Any]] = (),
) -> ValidationReport:
    """Run every suite (or only ``suites``) on the cleaned tables and the derived frames.

    ``set_aside`` (set_aside.csv) and ``stated_totals`` (the files' own 合计/小计 rows) feed
    the two suites that make sure no row is lost unnoticed and no stated total disagrees;
    ``narrative`` (what keeps the narrative from being finished, see :func:`narrative_frame`)
    feeds the narrative suite.
    """
    context = get_context()
    frames = build_frames(
        tables, conservation, set_aside, stated_totals, policy.accepted, narrative
    )
    aside = frames["set_aside"]
    parameters = expectation_parameters(policy)
    checks: list[Check] = []
    for name in suites:
        if name in frames:  # an optional ledger that is absent has no suite to run
            checks.extend(run_suite(context, name, frames[name], parameters))
    return ValidationReport(
        checks=checks,
        policy=policy_summary(policy),
        set_aside=set_aside_summary(aside, conservation),
        accepted=[
            {"file": a.file, "row": a.row, "reason": a.reason, "found": _accepted_found(aside, a)}
            for a in policy.accepted
        ],
    )


def run_suite(
    context: AbstractDataContext, name: str, frame: pd.DataFrame, parameters: Mapping[str, Any]
) -> list[Check]:
    """Run one committed suite on one frame as a single batch validation.

    The run uses GX's cheap BASIC result format; only if some expectations fail are those
    re-run together, once, with COMPLETE to locate their offending rows.
    """
    suite = context.suites.get(name)
    order = [e.meta["name"] for e in suite.expectations]
    runnable = [e for e in suite.expectations if _parameter_names(e) <= parameters.keys()]
    checks = [
        _not_configured(name, e, parameters)
        for e in suite.expectations
        if not _parameter_names(e) <= parameters.keys()
    ]
    if runnable:
        index_columns = [c for c in PROVENANCE if c in frame.columns]
        results = _run_batch(context, name, frame, suite, runnable, parameters, index_columns)
        checks += [_check_from_result(name, r, index_columns) for r in results]
    return sorted(checks, key=lambda c: order.index(c.name))


def _run_batch(
    context: AbstractDataContext,
    name: str,
    frame: pd.DataFrame,
    suite: ExpectationSuite,
    expectations: list[Expectation],
    parameters: Mapping[str, Any],
    index_columns: list[str],
) -> list[Any]:
    """Results of ``expectations`` on ``frame``; failures carry their offending rows.

    A large frame is first checked in its compact form (:func:`_compact`): every expectation
    runs once on one row per group of equal values, its counts weighted back to rows. Those
    that fail, and every expectation if the compact run cannot stand for the frame, are then
    run on the frame itself: what a failure reports (counts, values, rows) is always GX's
    result on the whole frame. One GX validator serves both passes on one frame, so GX loads
    (and hashes) it once: ``Batch.validate`` would fetch the batch again on every call.
    """
    from great_expectations.validator.v1_validator import Validator

    definition = (
        context.data_sources.get(DATASOURCE).get_asset(name).get_batch_definition(BATCH_DEFINITION)
    )
    params = dict(parameters)
    compact = _compact(frame, expectations) if len(frame) >= COMPACT_ROWS else None
    results = None
    if compact is not None:
        validator = Validator(definition, "BASIC", batch_parameters={"dataframe": compact.frame})
        suite.expectations = expectations  # in memory only: the suite is never saved back
        results = _weighted(validator.validate_expectation_suite(suite, params).results, compact)
    if results is None:
        validator = Validator(definition, "BASIC", batch_parameters={"dataframe": frame})
        suite.expectations = expectations
        results = validator.validate_expectation_suite(suite, params).results
        compact = None
    failed = {
        r.expectation_config.meta["name"]
        for r in results
        if not r.success and (r.result or {}).get("unexpected_count")
    }
    if not failed:
        return results
    if compact is not None:
        validator = Validator(definition, "BASIC", batch_parameters={"dataframe": frame})
    suite.expectations = [e for e in expectations if e.meta["name"] in failed]
    result_format: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": 20}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    validator.result_format = result_format
    detailed = validator.validate_expectation_suite(suite, params)
    by_name = {r.expectation_config.meta["name"]: r for r in detailed.results}
    return [by_name.get(r.expectation_config.meta["name"], r) for r in results]


# --- compact runs --------------------------------------------------------------------------------

COMPACT_ROWS = 10_000  # a frame this long is checked in its compact form first
# What each kind of expectation reads: a column's values, only whether it is null, or whether
# its values (a column list's) repeat. A suite with any other kind runs on the frame itself.
_READS_NULLS = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null"}
_READS_VALUES = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_type_list",
}
_READS_REPEATS = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
_READS_NAMES = {"expect_table_columns_to_match_set"}


def _compact(frame: pd.DataFrame, expectations: list[Expectation]) -> Compact | None:
    """``frame`` grouped by what ``expectations`` read (None if one reads something else)."""
    values: dict[str, None] = {}
    nulls: dict[str, None] = {}
    unique: list[list[str]] = []
    for e in expectations:
        kind, kwargs = e.configuration.type, e.configuration.kwargs
        condition = _condition_columns(kwargs.get("row_condition"))
        if condition is None or any(c not in frame.columns for c in condition):
            return None
        values |= dict.fromkeys(condition)
        columns = list(kwargs.get("column_list") or [kwargs.get("column")])
        if kind in _READS_NAMES:
            continue
        if any(c not in frame.columns for c in columns):
            return None
        if kind in _READS_VALUES:
            values |= dict.fromkeys(columns)
        elif kind in _READS_NULLS:
            nulls |= dict.fromkeys(columns)
        elif kind in _READS_REPEATS and kwargs.get("ignore_row_if", _ALL_MISSING) == _ALL_MISSING:
            nulls |= dict.fromkeys(columns)
            unique.append(columns)
        else:
            return None
    return compact_frame(frame, list(values), [c for c in nulls if c not in values], unique)


_ALL_MISSING = "all_values_are_missing"


def _condition_columns(condition: Any) -> list[str] | None:
    """The columns a row condition compares (``==`` only, alone or and-ed); None if it is of
    another form."""
    if not condition:
        return []
    if not isinstance(condition, Mapping):
        return None
    if condition.get("type") == "and":
        parts = [_condition_columns(c) for c in condition.get("conditions") or []]
        return None if any(p is None for p in parts) else [c for p in parts for c in p or []]
    if condition.get("type") == "comparison" and condition.get("operator") == "==":
        return [condition["column"]["name"]]
    return None


def _condition_mask(frame: pd.DataFrame, condition: Any) -> np.ndarray:
    """The rows a row condition (of the forms :func:`_condition_columns` accepts) keeps."""
    if not condition:
        return np.ones(len(frame), dtype=bool)
    if condition["type"] == "and":
        mask = np.ones(len(frame), dtype=bool)
        for part in condition["conditions"]:
            mask &= _condition_mask(frame, part)
        return mask
    column = frame[condition["column"]["name"]]
    return (column == condition["parameter"]).fillna(False).to_numpy(dtype=bool)


def _weighted(results: list[Any], compact: Compact) -> list[Any] | None:
    """The compact run's results with their row counts weighted back to the frame's rows.

    Each count is first recomputed on the compact frame and compared with GX's; if one differs
    (or GX raised, or a check passed with rows it did not expect), None: the frame itself is
    checked instead. (A check that failed is re-run on the frame: its counts are not used.)
    """
    frame, weights = compact.frame, compact.weights
    for r in results:
        res, kwargs = r.result, r.expectation_config.kwargs
        if _exception_message(r.exception_info) or res is None:
            return None
        if r.success and res.get("unexpected_count"):  # (``mostly``): its count is not re-run
            return None
        if "element_count" not in res:
            continue
        counted = _condition_mask(frame, kwargs.get("row_condition"))
        columns = list(kwargs.get("column_list") or [kwargs.get("column")])
        missing = frame[columns].isna().to_numpy().all(axis=1) & counted
        if r.expectation_config.type == "expect_compound_columns_to_be_unique":
            counted, missing = counted & ~missing, np.zeros(len(frame), dtype=bool)
        for field, mask in (("element_count", counted), ("missing_count", missing)):
            if res.get(field) is not None and res[field] != int(mask.sum()):
                return None
        element = int(weights[counted].sum())
        res["element_count"] = element
        if res.get("missing_count") is not None:
            res["missing_count"] = int(weights[missing].sum())
            if res.get("missing_percent") is not None:
                res["missing_percent"] = res["missing_count"] / element * 100
    return results


def expectation_parameters(policy: Policy) -> dict[str, Any]:
    """The ``$PARAMETER`` values for a policy; undeclared values are left out."""
    programmes = dict.fromkeys(p for _, p in policy.valid_pairs)
    poor_keys = [
        _key(p, flag)
        for p in programmes
        for flag in ((True,) if p in policy.registered_poor_only else (True, False))
    ]
    params: dict[str, Any] = {
        "valid_stage_programmes": [_key(s, p) for s, p in policy.valid_pairs],
        "programme_poor_keys": poor_keys,
        "year_start": policy.year_start,
        "year_end": policy.year_end,
        "report_date": dt.datetime.combine(policy.report_date, dt.time()),
        "training_hours_required": policy.training_hours_required,
    }
    if policy.declared_officers is not None:
        params["declared_officers"] = policy.declared_officers
    for standard in policy.standards:
        params[f"standard_{standard.code}"] = list(standard.amounts_fen)
    return params


def _parameter_names(expectation: Expectation) -> set[str]:
    return {
        v["$PARAMETER"]
        for v in expectation.configuration.kwargs.values()
        if isinstance(v, Mapping) and "$PARAMETER" in v
    }


def policy_summary(policy: Policy) -> dict[str, Any]:
    return {
        "year": policy.year,
        "report_date": policy.report_date.isoformat(),
        "declared_officers": policy.declared_officers,
        "training_hours_required": policy.training_hours_required,
        "standards_yuan": {
            f"{s.stage}/{s.programme}": [_yuan(a) for a in s.amounts_fen] for s in policy.standards
        },
        "config": Path(policy.source).name if policy.source else None,
        "overridden": list(policy.overridden),
        "accepted_set_aside": len(policy.accepted),
    }


# --- results → checks ----------------------------------------------------------------------------


def _not_configured(suite: str, expectation: Expectation, parameters: Mapping[str, Any]) -> Check:
    missing = sorted(_parameter_names(expectation) - parameters.keys())
    config = expectation.configuration
    return Check(
        suite=suite,
        name=expectation.meta["name"],
        rule=expectation.meta.get("rule", ""),
        status=NOT_CONFIGURED,
        expected=f"需要在 config.yaml 中申报：{'、'.join(missing)}",
        found="未配置，未执行此项校验",
        figures=tuple(expectation.meta.get("figures", ())),
        expectation_type=config.type,
        ge_result={"missing_parameters": missing},
    )


def _check_from_result(suite: str, result: Any, index_columns: list[str]) -> Check:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    res = dict(result.result or {})
    error = _exception_message(result.exception_info)
    offending = _offending(res, index_columns) if not error else ()
    return Check(
        suite=suite,
        name=config.meta["name"],
        rule=config.meta.get("rule", ""),
        status=PASSED if result.success else FAILED,
        expected=_expected_text(config.type, kwargs, config.meta),
        found=_found_text(suite, config.type, kwargs, res, error, config.meta),
        offending=offending,
        offending_count=int(res.get("unexpected_count") or 0),
        figures=tuple(config.meta.get("figures", ())),
        expectation_type=config.type,
        ge_result=_trim_result(result.success, config.type, kwargs, res, error),
    )


def _exception_message(info: Mapping[str, Any] | None) -> str | None:
    """The first exception message GX caught while computing this expectation, if any."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("raised_exception"):
            message = str(entry.get("exception_message") or "error").splitlines()[0]
            return message[:300]
    return None


def _offending(res: Mapping[str, Any], index_columns: list[str]) -> tuple[RowRef, ...]:
    """Up to MAX_OFFENDING (file, row[, item]) references; only provenance fields are kept."""
    refs = []
    for entry in (res.get("unexpected_index_list") or [])[:MAX_OFFENDING]:
        if not isinstance(entry, Mapping):
            continue
        refs.append(
            RowRef(
                file=_clean(entry.get("file")) if "file" in index_columns else None,
                row=_row_number(entry.get("row")) if "row" in index_columns else None,
                item=_clean(entry.get("item")) if "item" in index_columns else None,
            )
        )
    return tuple(refs)


def _trim_result(
    success: bool, kind: str, kwargs: Mapping[str, Any], res: Mapping[str, Any], error: str | None
) -> dict[str, Any]:
    """GX's result dict reduced to fields that cannot carry personal data."""
    kept = {k: _jsonable(res[k]) for k in SAFE_RESULT_KEYS if k in res}
    if kind == "expect_table_columns_to_match_set" and "details" in res:
        kept["details"] = _jsonable(res["details"])
    counts = _value_counts(kwargs, res)
    if counts:
        kept["unexpected_value_counts"] = [{"value": v, "count": n} for v, n in counts[:20]]
        kept["unexpected_values_counted"] = len(res["unexpected_list"])
    safe_kwargs = {k: _jsonable(v) for k, v in kwargs.items() if k != "batch_id"}
    return {
        "success": bool(success),
        "expectation_type": kind,
        "kwargs": safe_kwargs,
        "result": kept,
        "exception": error,
    }
