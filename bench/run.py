"""``python -m bench [--quick] [--only B1 B2 B3]``: the benchmarks against their floors.

B1  one county-year end to end: ``edureport run --force`` on the bundled sample, against three
    one-cell notebooks run by papermill's Python API in one process plus one nbconvert export.
B2  a province-size aid ledger: read_ledger + clean_ledger + the aid/control suites on a
    synthetic aid CSV (250k … 2M rows), against pandas ``read_csv(engine="pyarrow")`` of the same
    file plus one group-by sum over stage and programme.
B3  many county-years: 24 synthetic counties by 24 ``edureport run`` one after the other, and
    by ``edureport batch`` on 2 local workers (warm kernels, and cold), and on a Dask
    LocalCluster of 2 workers; then 200 small counties on 2 workers, one worker killed midway.

Every measurement is a fresh subprocess; floors and runs alternate, so both see the same noise.
Results (medians, every run, ratios, peak memory, the machine) go to ``bench/results.json``
(sections of benchmarks not run this time are kept), and the tables into
``docs/performance.md`` between its ``bench:begin``/``bench:end`` markers.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import b2_worker, b3, floor_b1, profile_b1, report
from bench.measure import (
    BIN,
    PYTHON,
    ROOT,
    Measurement,
    loadavg,
    machine,
    ratio,
    run_measured,
    summary,
)

RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "performance.md"
GIB_KIB = 1024 * 1024

GOALS = {
    "b1_ratio": 1.2,
    "b2_ratio": 3.0,
    "b2_peak_gib": 3.0,
    "b2_flatness": 1.25,
    "b3_over_sequential": 0.3,
    "b3_dask_vs_pool": 1.15,
    "b3_large_peak_gib": 4.0,
}
IMPORTS = {
    "papermill, plain import": "import papermill",
    "papermill (runner: edureport.imports.import_lean)": (
        "from edureport.imports import import_lean; import_lean('papermill')"
    ),
    "nbconvert (runner)": "import nbconvert",
    "edureport.runs.steps (every kernel)": "from edureport import steps",
    "great_expectations (validate kernel)": (
        "from edureport.checks import validate; validate.import_gx()"
    ),
    "great_expectations, plain import": "import great_expectations",
    "matplotlib.pyplot (report kernel)": "import matplotlib.pyplot",
    "docx (report kernel)": "import docx",
}


def log(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


# ---------------------------------------------------------------- B1


def bench_b1(work: Path, repeats: int, warmup: bool, profile: bool) -> dict[str, Any]:
    floor_dir, out = work / "floor", work / "out"
    floor_b1.write_notebooks(floor_dir)
    floor_cmd = [PYTHON, "-m", "bench.floor_b1", floor_dir]
    run_cmd = [BIN / "edureport", "run", "--force", "--out", out]
    floors: list[Measurement] = []
    runs: list[Measurement] = []
    breakdowns: list[dict[str, Any]] = []
    if warmup:
        log("B1 warm-up (not counted)")
        run_measured(floor_cmd).check("B1 floor")
        run_measured(run_cmd).check("edureport run")
    for i in range(repeats):
        log(f"B1 floor {i + 1}/{repeats}")
        floors.append(run_measured(floor_cmd, sample_tree=True).check("B1 floor"))
        log(f"B1 edureport run {i + 1}/{repeats}")
        runs.append(run_measured(run_cmd, sample_tree=True).check("edureport run"))
        breakdowns.append(profile_b1.notebook_breakdown(_latest_run(out)))
        log(f"    floor {floors[-1].seconds:.1f} s, run {runs[-1].seconds:.1f} s")
    floor_s, run_s = summary(m.seconds for m in floors), summary(m.seconds for m in runs)
    run_dir = _latest_run(out)
    result: dict[str, Any] = {
        "what": "edureport run --force on the bundled sample (示例县 2022, with 2021 for 同比)",
        "floor_what": "3 one-cell notebooks by papermill's Python API in one process "
        "+ 1 nbconvert HTML export",
        "floor_s": floor_s,
        "run_s": run_s,
        "ratio": ratio(run_s["median"], floor_s["median"]),
        "floor_steps_s": dict(
            zip(
                (*profile_b1.STEPS, "export"),
                _median_steps([m.json_line()["steps"] for m in floors]).values(),
                strict=True,
            )
        ),
        "floor_peak_kib": summary(m.maxrss_kib for m in floors)["median"],
        "floor_tree_peak_kib": summary(m.tree_peak_kib or 0 for m in floors)["median"],
        "run_peak_kib": summary(m.maxrss_kib for m in runs)["median"],
        "run_tree_peak_kib": summary(m.tree_peak_kib or 0 for m in runs)["median"],
        "breakdown": profile_b1.median_breakdown(breakdowns),
    }
    if profile:
        result["parts"] = {}
        for step in profile_b1.STEPS:
            log(f"B1 profile {step}")
            m = run_measured([PYTHON, "-m", "bench.profile_b1", step, run_dir])
            result["parts"][step] = m.check(f"profile {step}").json_line()["parts"]
        result["imports_s"] = bench_imports(1 if repeats == 1 else 3)
    return result


def bench_imports(repeats: int) -> dict[str, Any]:
    """Import cost of the heavy modules, each in a fresh interpreter (median)."""
    found = {}
    for label, stmt in IMPORTS.items():
        code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
        times = []
        for _ in range(repeats):
            m = run_measured([PYTHON, "-c", code]).check(label)
            times.append(float(m.stdout.strip().splitlines()[-1]))
        found[label] = summary(times)["median"]
        log(f"import {label}: {found[label]:.2f} s")
    return found


def _latest_run(out: Path) -> Path:
    runs = sorted((out).glob("*/*/runs/*/run.json"))
    return runs[-1].parent


def _median_steps(steps: list[dict[str, float]]) -> dict[str, float]:
    return {k: summary(s[k] for s in steps)["median"] for k in steps[0]} if steps else {}


# ---------------------------------------------------------------- B2


def bench_b2(
    work: Path,
    sizes: list[int],
    repeats: int,
    timeout: float,
    cprofile: bool,
    xlsx_sizes: list[int] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    from synthetic import write_large_county_year

    folders: dict[tuple[int, str], Path] = {}
    generated = {}
    for n, fmt in [*((n, "csv") for n in sizes), *((n, "xlsx") for n in xlsx_sizes)]:
        csv_folder = work / f"rows-{n}" / "合成县" / "2022"
        folder = csv_folder if fmt == "csv" else work / f"rows-{n}-xlsx" / "合成县" / "2022"
        if not folder.is_dir():
            log(f"B2 writing {n:,} rows ({fmt})")
            t = time.perf_counter()
            if not csv_folder.is_dir():
                write_large_county_year(csv_folder, "合成县", 2022, n, seed=7)
            if fmt == "xlsx":
                _xlsx_variant(csv_folder, folder)
            generated[n, fmt] = round(time.perf_counter() - t, 2)
        folders[n, fmt] = folder
    per_size = []
    for n, fmt in folders:
        floors, pipes, errors = [], [], []
        for i in range(repeats):
            log(f"B2 {n:,} rows ({fmt}): floor {i + 1}/{repeats}")
            cmd = [PYTHON, "-m", "bench.b2_worker", "floor", folders[n, fmt]]
            floors.append(run_measured(cmd, timeout=timeout).check("B2 floor").json_line())
            log(f"B2 {n:,} rows ({fmt}): pipeline {i + 1}/{repeats}")
            cmd = [PYTHON, "-m", "bench.b2_worker", "pipeline", folders[n, fmt]]
            if cprofile and i == 0:
                cmd += ["--cprofile", work / f"cprofile-{n}-{fmt}.txt"]
            m = run_measured(cmd, timeout=timeout)
            if m.returncode != 0:
                errors.append(f"exit {m.returncode}: {m.stderr.strip().splitlines()[-1:]}")
                log(f"    pipeline failed: {errors[-1]}")
                continue
            pipes.append(m.json_line())
            log(f"    floor {floors[-1]['seconds']:.2f} s, pipeline {pipes[-1]['seconds']:.2f} s")
        size = _b2_size(n, floors, pipes, errors, generated.get((n, fmt)))
        per_size.append({**size, "format": fmt})
    flat = [
        s["pipeline_us_per_row"]
        for s in per_size
        if s["pipeline_us_per_row"] and s["format"] == "csv"
    ]
    return {
        "what": "read_ledger + clean_ledger (aid, control) + GX suites aid, control, aid_control "
        "on a synthetic canonical aid ledger (CSV; and the same rows as .xlsx); timed work only "
        "(imports and GX context apart)",
        "floor_what": 'pd.read_csv(aid.csv, engine="pyarrow") + groupby([学段, 资助项目]) sum; '
        "for .xlsx: python-calamine reads the sheet, pd.DataFrame of its rows, the same group-by",
        "sizes": per_size,
        "flatness": round(max(flat) / min(flat), 2) if len(flat) > 1 else None,
    }


def _xlsx_variant(csv_folder: Path, folder: Path) -> None:
    """``csv_folder``'s county-year with its aid ledger as an ``.xlsx`` workbook, as an office
    exports it: amounts as numbers, everything else (IDs too) as text."""
    import pyarrow.csv as pacsv
    from openpyxl import Workbook

    folder.mkdir(parents=True)
    for path in csv_folder.iterdir():
        if b2_worker.AID_KEYWORD not in path.name:
            shutil.copy2(path, folder / path.name)
            continue
        with path.open(encoding="utf-8-sig") as fh:  # the header, not a parse of the file
            names = next(csv.reader(fh))
        table = pacsv.read_csv(
            path, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, "string"))
        )
        amount = names.index(b2_worker.AMOUNT)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("资助发放")
        ws.append(names)
        for row in zip(*(table.column(i).to_pylist() for i in range(len(names))), strict=True):
            cells = list(row)
            cells[amount] = float(cells[amount]) if "." in cells[amount] else int(cells[amount])
            ws.append(cells)
        wb.save(folder / f"{path.stem}.xlsx")


def _b2_size(
    n: int,
    floors: list[dict[str, Any]],
    pipes: list[dict[str, Any]],
    errors: list[str],
    generated_s: float | None,
) -> dict[str, Any]:
    floor_s = summary(f["seconds"] for f in floors)
    pipe_s = summary(p["seconds"] for p in pipes)
    phases = {k: summary(p["phases"][k] for p in pipes)["median"] for k in _keys(pipes, "phases")}
    fixed = {k: summary(p["fixed"][k] for p in pipes)["median"] for k in _keys(pipes, "fixed")}
    return {
        "rows": n,
        "floor_s": floor_s,
        "pipeline_s": pipe_s,
        "ratio": ratio(pipe_s["median"], floor_s["median"]),
        "pipeline_us_per_row": round(pipe_s["median"] / n * 1e6, 3) if pipes else None,
        "floor_peak_kib": summary(f["maxrss_kib"] for f in floors)["median"],
        "pipeline_peak_kib": summary(p["maxrss_kib"] for p in pipes)["median"],
        "phases_s": phases,
        "fixed_s": fixed,
        "checks_failed": sorted({c for p in pipes for c in p["failed"]}),
        "set_aside_rows": pipes[0]["set_aside_rows"] if pipes else None,
        "errors": errors,
        "generate_s": generated_s,
    }


def _keys(items: list[dict[str, Any]], field: str) -> list[str]:
    return list(items[0][field]) if items else []


# ---------------------------------------------------------------- B3


def bench_b3(
    work: Path,
    n_counties: int,
    size: tuple[float, float],
    repeats: int,
    timeout: float,
    large: int,
    large_size: tuple[float, float],
) -> dict[str, Any]:
    data = work / "data"
    log(f"B3 writing {n_counties} counties")
    counties = b3.write_counties(data, n_counties, size)
    names = list(counties)
    kinds: dict[str, Callable[[Path], dict[str, Any]]] = {
        "sequential": lambda out: _pool(b3.run_sequential(data, out, names, timeout)),
        "pool_2": lambda out: _pool(b3.run_pool(data, out, 2, timeout)),
        "pool_2_cold": lambda out: _pool(b3.run_pool(data, out, 2, timeout, cold=True)),
        "dask_2": lambda out: _dask(b3.run_dask(data, out, 2, timeout)),
    }
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    errors: list[str] = []
    for i in range(repeats):
        for kind, go in kinds.items():
            out = work / f"out-{kind}"
            log(f"B3 {kind} {i + 1}/{repeats}")
            for attempt in (1, 2):  # a failed batch is recorded, then tried once more
                shutil.rmtree(out, ignore_errors=True)
                try:
                    found[kind].append(go(out))
                    break
                except RuntimeError as exc:
                    errors.append(f"{kind} run {i + 1}: {_failure(str(exc))}")
                    log(f"    failed (attempt {attempt}): {errors[-1]}")
                    if attempt == 2:
                        raise
            log(f"    {found[kind][-1]['seconds']:.1f} s")
            shutil.rmtree(out, ignore_errors=True)
    medians = {k: summary(r["seconds"] for r in v) for k, v in found.items()}
    return {
        "status": "measured",
        "what": f"{n_counties} synthetic county-years (random_targets size {size[0]}–{size[1]}, "
        "styles canonical/messy_xlsx/messy_csv): each by its own `edureport run --force`, one "
        "after the other, and by `edureport batch --force`",
        "counties": n_counties,
        "aid_rows_total": sum(counties.values()),
        "seconds": medians,
        "pool_over_sequential": ratio(medians["pool_2"]["median"], medians["sequential"]["median"]),
        "warm_over_cold": ratio(medians["pool_2"]["median"], medians["pool_2_cold"]["median"]),
        "dask_over_pool": ratio(medians["dask_2"]["median"], medians["pool_2"]["median"]),
        "worker_peak_kib": {
            k: summary(r["worker_peak_kib"] for r in v)["median"] for k, v in found.items()
        },
        **{
            field: {
                k: summary(r[field] for r in v if r[field])["median"]
                for k, v in found.items()
                if any(r[field] for r in v)
            }
            for field in ("tree_peak_kib", "tree_pss_peak_kib")
        },
        "largest_process_kib": {
            k: summary(r["maxrss_kib"] for r in v if r["maxrss_kib"])["median"]
            for k, v in found.items()
            if any(r["maxrss_kib"] for r in v)
        },
        "errors": errors,
        "large": bench_b3_large(work, large, large_size, timeout),
    }


def bench_b3_large(work: Path, n: int, size: tuple[float, float], timeout: float) -> dict[str, Any]:
    """``n`` counties on 2 workers, one worker killed a third of the way: peak memory of the
    whole batch, and whether every county was published all the same."""
    data = work / "data-large"
    log(f"B3 writing {n} counties")
    counties = b3.write_counties(data, n, size, seed=5000)
    out = work / "out-large"
    shutil.rmtree(out, ignore_errors=True)
    log(f"B3 {n} counties, one worker killed after {max(1, n // 3)} published")
    found = b3.run_pool_killing(data, out, 2, timeout, after=max(1, n // 3))
    m = found["measurement"]
    published = sum((out / c / str(b3.YEAR) / "report.html").is_file() for c in counties)
    statuses: dict[str, int] = {}
    for line in m.stdout.splitlines():
        if line.startswith("[") and ": " in line:
            status = line.rsplit(": ", 1)[1].split(" ")[0]
            statuses[status] = statuses.get(status, 0) + 1
    shutil.rmtree(out, ignore_errors=True)
    return {
        "what": f"`edureport batch --workers 2 --force` over {n} synthetic county-years "
        f"(size {size[0]}–{size[1]}); one pool worker killed with SIGKILL while it ran a county",
        "counties": n,
        "aid_rows_total": sum(counties.values()),
        "seconds": m.seconds,
        "killed": found["killed"],
        "published": published,
        "statuses": statuses,
        "tree_peak_kib": m.tree_peak_kib,
        "tree_pss_peak_kib": m.tree_pss_peak_kib,
        "worker_peak_kib": max(m.subtree_peak_kib.values(), default=0),
        "largest_process_kib": m.maxrss_kib,
    }


def _failure(message: str) -> str:
    """The lines of a failed batch's output that say what failed (for the record)."""
    lines = [ln.strip() for ln in message.splitlines()]
    said = [ln for ln in lines if "internal_error" in ln or "Error" in ln or "错误" in ln]
    return " | ".join(dict.fromkeys(said or lines[:1]))[:600]


def _pool(m: Measurement) -> dict[str, Any]:
    return {
        "seconds": m.seconds,
        "worker_peak_kib": max(m.subtree_peak_kib.values(), default=0),
        "tree_peak_kib": m.tree_peak_kib,
        "tree_pss_peak_kib": m.tree_pss_peak_kib,
        "maxrss_kib": m.maxrss_kib,
    }


def _dask(found: dict[str, Any]) -> dict[str, Any]:
    m = found["measurement"]
    return {
        "seconds": m.seconds,
        "worker_peak_kib": found["worker_peak_kib"],
        "tree_peak_kib": None,
        "tree_pss_peak_kib": None,
        "maxrss_kib": None,
    }


# ---------------------------------------------------------------- main


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its measured value and whether it is met (None: not measured)."""
    rows = []

    def add(goal: str, value: Any, limit: float, ok: bool | None) -> None:
        rows.append({"goal": goal, "measured": value, "limit": limit, "met": ok})

    b1 = results.get("B1")
    if b1:
        limit = GOALS["b1_ratio"]
        add(f"B1 run / floor ≤ {limit}", b1["ratio"], limit, _le(b1["ratio"], limit))
    b2 = results.get("B2")
    if b2:
        for s in b2["sizes"]:
            what = f"B2 {s['rows']:,} rows{' (.xlsx)' if s.get('format') == 'xlsx' else ''}"
            add(f"{what}: pipeline / floor ≤ 3", s["ratio"], 3.0, _le(s["ratio"], 3))
        biggest = max(
            (s for s in b2["sizes"] if s.get("format", "csv") == "csv"), key=lambda s: s["rows"]
        )
        peak = biggest["pipeline_peak_kib"]
        gib = None if peak is None else round(peak / GIB_KIB, 2)
        add(f"B2 {biggest['rows']:,} rows: peak memory ≤ 3 GiB", gib, 3.0, _le(gib, 3.0))
        flat = b2["flatness"]
        add("B2 time per row flat (max/min ≤ 1.25)", flat, 1.25, _le(flat, 1.25))
    b = results.get("B3")
    if b and b.get("status") == "measured" and "pool_over_sequential" in b:
        n, sq, dk = b["counties"], b["pool_over_sequential"], b["dask_over_pool"]
        limit = GOALS["b3_over_sequential"]
        add(f"B3 {n} counties, 2 warm workers / {n} sequential runs ≤ {limit}", sq, limit,
            _le(sq, limit))  # fmt: skip
        limit = GOALS["b3_dask_vs_pool"]
        add(f"B3 Dask LocalCluster / process pool ≤ {limit}", dk, limit, _le(dk, limit))
        big = b["large"]
        peak = big["tree_pss_peak_kib"] or big["tree_peak_kib"]  # PSS where /proc gives it
        gib = None if peak is None else round(peak / GIB_KIB, 2)
        limit = GOALS["b3_large_peak_gib"]
        add(f"B3 {big['counties']} counties: peak memory ≤ {limit} GiB", gib, limit,
            _le(gib, limit))  # fmt: skip
        lost = big["counties"] - big["published"]
        add(f"B3 {big['counties']} counties, a worker killed: none lost", f"{lost} lost", 0,
            lost == 0 and bool(big["killed"]))  # fmt: skip
    return rows


def _le(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one run each (smoke test)")
    p.add_argument("--only", nargs="+", choices=("B1", "B2", "B3"), default=["B1", "B2", "B3"])
    p.add_argument("--repeats", type=int, help="B1 runs (default 5; quick 1)")
    p.add_argument("--b2-sizes", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--b2-repeats", type=int, help="default 3; quick 1")
    p.add_argument(
        "--b2-xlsx-sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        help="rows of the .xlsx variant (default 500000; quick 3000; empty: none)",
    )
    p.add_argument("--b3-counties", type=int, help="default 24; quick 2")
    p.add_argument("--b3-repeats", type=int, help="default 3; quick 1")
    p.add_argument("--b3-large", type=int, help="counties of the kill test (default 200; quick 3)")
    p.add_argument(
        "--b3-large-size",
        type=lambda s: tuple(float(x) for x in s.split(",")),
        help="its county scale range (default 0.05,0.2; quick 0.02,0.04)",
    )
    p.add_argument(
        "--b3-size",
        type=lambda s: tuple(float(x) for x in s.split(",")),
        help="county scale range for random_targets (default 0.25,1.0; quick 0.02,0.04)",
    )
    p.add_argument("--workdir", type=Path, help="keep generated data here (default: a temp dir)")
    p.add_argument("--results", type=Path, help=f"default {RESULTS.relative_to(ROOT)}; quick: none")
    p.add_argument("--doc", type=Path, help=f"default {DOC.relative_to(ROOT)}; quick: none")
    p.add_argument("--no-profile", action="store_true", help="B1 without the per-part profile")
    p.add_argument("--cprofile", action="store_true", help="B2: cProfile the first pipeline run")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per measured process")
    p.add_argument("--doc-only", action="store_true", help="only rewrite the doc's tables")
    args = p.parse_args(argv)
    if args.doc_only:
        report.update_doc(args.doc or DOC, _load(args.results or RESULTS))
        return 0
    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    sizes = args.b2_sizes or ([5000] if quick else [250_000, 500_000, 1_000_000, 2_000_000])
    b2_repeats = args.b2_repeats or (1 if quick else 3)
    xlsx_sizes = (
        args.b2_xlsx_sizes if args.b2_xlsx_sizes is not None else ([3000] if quick else [500_000])
    )
    n_counties = args.b3_counties or (2 if quick else 24)
    b3_repeats = args.b3_repeats or (1 if quick else 3)
    b3_size = args.b3_size or ((0.02, 0.04) if quick else (0.25, 1.0))
    b3_large = args.b3_large or (3 if quick else 200)
    b3_large_size = args.b3_large_size or ((0.02, 0.04) if quick else (0.05, 0.2))

    results_path = args.results or (None if quick else RESULTS)
    doc = args.doc or (None if quick else DOC)
    results = _load(results_path) if results_path else {}
    results["machine"] = machine()
    results["quick"] = quick
    results["goals_limits"] = GOALS
    temp = None if args.workdir else tempfile.mkdtemp(prefix="edureport-bench-")
    work = args.workdir or Path(temp or ".")
    try:
        for name in args.only:
            started = time.strftime("%Y-%m-%dT%H:%M:%S")
            load0 = loadavg()
            (work / name).mkdir(parents=True, exist_ok=True)
            if name == "B1":
                section = bench_b1(work / name, repeats, not quick, not args.no_profile)
            elif name == "B2":
                section = bench_b2(
                    work / name, sizes, b2_repeats, args.timeout, args.cprofile, xlsx_sizes
                )
            else:
                section = bench_b3(
                    work / name, n_counties, b3_size, b3_repeats, args.timeout, b3_large,
                    b3_large_size,
                )  # fmt: skip
            section["measured"] = {
                "started": started,
                "load_before": load0,
                "load_after": loadavg(),
            }
            results[name] = section
            results["goals"] = goals(results)
            if results_path:
                _save(results_path, results)
            log(f"{name} done")
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    if doc:
        report.update_doc(doc, results)
        log(f"tables → {doc}")
    for g in results["goals"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[g["met"]]
        log(f"{g['goal']}: {g['measured']} ({mark})")
    return 0


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
