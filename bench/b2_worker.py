"""One B2 measurement in a fresh process: ``python -m bench.b2_worker MODE FOLDER [--cprofile F]``.

``floor``: pandas reads the aid CSV with ``engine="pyarrow"`` (an ``.xlsx`` aid ledger:
python-calamine reads its first sheet into a DataFrame) and sums the amount per stage and
programme. ``pipeline``: ``read_ledger`` + ``clean_ledger`` on the aid and control ledgers, then
the Great Expectations suites that concern them (aid, control, aid_control).

Only the work is timed: interpreter start, imports and opening the GX context are fixed costs,
reported apart (``fixed``). Prints one JSON line; ``maxrss_kib`` is this process's peak.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.measure import self_maxrss_kib

YEAR = 2022
AID_KEYWORD = "资助发放"
STAGE, PROGRAMME, AMOUNT = "学段", "资助项目", "金额（元）"
SUITES = ("aid", "control", "aid_control")


def aid_file(folder: Path) -> Path:
    (path,) = [p for p in folder.iterdir() if AID_KEYWORD in p.name and p.suffix in SUFFIXES]
    return path


SUFFIXES = (".csv", ".xlsx")


def floor(folder: Path, phases: dict[str, float], fixed: dict[str, float]) -> dict[str, Any]:
    t = time.perf_counter()
    import pandas as pd
    import pyarrow.csv  # noqa: F401  (imported by read_csv's pyarrow engine)
    import python_calamine

    fixed["imports"] = time.perf_counter() - t
    path = aid_file(folder)
    t = time.perf_counter()
    if path.suffix == ".xlsx":
        rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        values = rows.to_python()
        frame = pd.DataFrame(values[1:], columns=values[0])
    else:
        frame = pd.read_csv(path, engine="pyarrow")
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    sums = frame.groupby([STAGE, PROGRAMME])[AMOUNT].sum()
    phases["groupby"] = time.perf_counter() - t
    return {"rows": len(frame), "groups": len(sums)}


def pipeline(folder: Path, phases: dict[str, float], fixed: dict[str, float]) -> dict[str, Any]:
    t = time.perf_counter()
    from edureport.checks import validate
    from edureport.checks.policy import load_policy
    from edureport.ingest.clean import clean_ledger
    from edureport.ingest.ledgers import find_ledgers, read_ledger

    fixed["imports"] = time.perf_counter() - t
    t = time.perf_counter()
    validate.get_context()  # imports Great Expectations and opens the file context
    fixed["gx_context"] = time.perf_counter() - t

    t = time.perf_counter()
    paths = find_ledgers(folder)
    raw = read_ledger("aid", paths["aid"])
    phases["read_ledger"] = time.perf_counter() - t
    t = time.perf_counter()
    aid, aid_aside = clean_ledger(raw, YEAR)
    phases["clean_ledger"] = time.perf_counter() - t
    t = time.perf_counter()
    raw_control = read_ledger("control", paths["control"])
    control, control_aside = clean_ledger(raw_control, YEAR)
    phases["control"] = time.perf_counter() - t
    conservation = {
        name: {
            "raw_rows": len(r.frame),
            "cleaned_rows": len(c),
            "set_aside_rows": len(a),
            "non_data_rows": sum(r.non_data.values()),
        }
        for name, r, c, a in (
            ("aid", raw, aid, aid_aside),
            ("control", raw_control, control, control_aside),
        )
    }
    t = time.perf_counter()
    report = validate.validate(
        {"aid": aid, "control": control}, conservation, load_policy(folder, YEAR), SUITES
    )
    phases["validate"] = time.perf_counter() - t
    return {
        "rows": len(raw.frame),
        "cleaned_rows": len(aid),
        "set_aside_rows": len(aid_aside),
        "checks": len(report.checks),
        "failed": [c.name for c in report.failed],
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("floor", "pipeline"))
    p.add_argument("folder", type=Path)
    p.add_argument("--cprofile", type=Path, help="write a cProfile text report of the work here")
    args = p.parse_args(argv)
    phases: dict[str, float] = {}
    fixed: dict[str, float] = {}
    work = floor if args.mode == "floor" else pipeline
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    facts = work(args.folder, phases, fixed)
    seconds = time.perf_counter() - t0 - sum(fixed.values())
    if profiler:
        import io
        import pstats

        profiler.disable()
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(60)
        args.cprofile.write_text(buf.getvalue(), encoding="utf-8")
    result = {
        "mode": args.mode,
        "seconds": round(seconds, 4),
        "phases": {k: round(v, 4) for k, v in phases.items()},
        "fixed": {k: round(v, 4) for k, v in fixed.items()},
        "maxrss_kib": self_maxrss_kib(),
        **facts,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
