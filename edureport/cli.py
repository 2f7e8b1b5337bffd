"""The ``edureport`` command: thin; gathers options and calls the package."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import EXIT_INTERNAL, EXIT_USAGE, EdureportError, UsageError
from .paths import OUTPUTS_DIR, RAW_DIR, SAMPLE_COUNTY, SAMPLE_YEAR

EXIT_CODES = """exit codes:
  0   success: report published (or nothing to do)
  1   internal error (a bug: please report it, with --debug output)
  2   bad input: a ledger or file cannot be used (the message names file, sheet, row, column)
  3   validation failed: draft kept in the run folder, nothing published
  64  wrong command-line parameters
  75  another run of the same county-year is in progress (waited --lock-timeout seconds)
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edureport",
        description="县教育局法治政府建设情况工作报告：从台账到经过校验的报告。",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"edureport {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="clean, validate and report one county-year")
    _county_year(r)
    r.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")
    r.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root")
    r.add_argument("--force", action="store_true", help="run even if nothing changed")
    r.add_argument("--cell-timeout", type=int, default=600, help="seconds per notebook cell")
    r.add_argument("--lock-timeout", type=float, default=60, help="seconds to wait for a lock")

    ls = sub.add_parser("runs", help="list run records (time, status, duration)")
    ls.add_argument("--county")
    ls.add_argument("--year", type=_year)
    ls.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root")

    n = sub.add_parser("new", help="write a narrative.md scaffold for a county-year")
    _county_year(n)
    n.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")
    return p


def _county_year(p: argparse.ArgumentParser) -> None:
    p.add_argument("--county", default=SAMPLE_COUNTY, help=f"county name (default {SAMPLE_COUNTY})")
    p.add_argument("--year", type=_year, default=SAMPLE_YEAR, help=f"report year ({SAMPLE_YEAR})")


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}") from None
    if not 2000 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"year out of range 2000–2100: {year}")
    return year


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the documented exit code."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except EdureportError as exc:
        if args.debug:
            raise
        print(f"错误 error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断 interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        print(
            f"内部错误 internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from .pipeline import RunOptions, run

        options = RunOptions(args.force, args.cell_timeout, args.lock_timeout)
        result = run(args.county, args.year, args.data, args.out, options)
        if result.skipped:
            return result.exit_code
        if result.published:
            print(f"报告已发布 report published: {result.report}")
        else:
            print(
                f"未通过校验，报告草稿 validation failed, draft: {result.report}", file=sys.stderr
            )
        return result.exit_code
    if args.command == "runs":
        from .pipeline import list_runs

        rows = list_runs(args.out, args.county, args.year)
        for r in rows:
            duration = f"{r['duration_s']:>8.1f}s" if r["duration_s"] is not None else "        -"
            print(
                f"{r['county']}\t{r['year']}\t{r['run_id']}\t{r['started']}\t{duration}"
                f"\t{r['status']}"
            )
        if not rows:
            print("没有运行记录 no runs", file=sys.stderr)
        return 0
    if args.command == "new":
        from .narrative import scaffold
        from .paths import county_year_dir

        folder = county_year_dir(args.data, args.county, args.year)
        if not folder.is_dir():
            raise UsageError(f"找不到文件夹 folder not found: {folder}")
        print(f"已生成叙述文件 narrative written: {scaffold(folder)}")
        return 0
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
