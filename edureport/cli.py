"""The ``edureport`` command: thin; gathers options and calls the package."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

from edureport import __version__
from edureport.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EdureportError,
    Interrupted,
    StorageError,
    UsageError,
)
from edureport.paths import OUTPUTS_DIR, RAW_DIR, SAMPLE_COUNTY, SAMPLE_YEAR

EXIT_CODES = """exit codes (run):
  0   success: report published, or nothing changed since the published one
  1   internal error (a bug, a failing notebook cell, a cell past --cell-timeout, a dead kernel;
      the message names notebook and cell; rerun with --debug for the traceback)
  2   bad input: a ledger or file cannot be used (the message names file, sheet, row, column)
  3   validation failed: draft kept in the run folder, nothing published
  64  wrong command-line parameters
  74  disk full (磁盘空间不足) or permission denied (无写入权限); the message names the path,
      the run is recorded disk_full / permission_denied, nothing is published
  75  another run of the same county-year is in progress (waited --lock-timeout seconds), or
      a ledger changed while the run read it (named; nothing published); try again later
  130, 143  stopped by Ctrl-C (SIGINT) or by SIGTERM; the run is recorded as interrupted

exit code (batch): 0 when every county published (or was unchanged); otherwise the most severe
county code, in the order 1 > 64 > 74 > 2 > 3 > 143 > 130 > 75. 64 also when no county folder
is found or the Dask scheduler cannot be reached.
"""


REPRODUCE_CODES = """exit codes (reproduce):
  0   identical: every figure, the validation outcome and the report text are the recorded ones
  4   the reproduction differs: each difference listed
  2   an input the run read has changed or is gone (each named); nothing was run
  64  wrong parameters, an unknown run id, a run without a report, another pseudonym key
  1, 74, 75, 130, 143  as for run (74: disk full / permission denied; 75: locked, or an input
      changed while it was read)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but wrong parameters exit 64 (EX_USAGE) as the README's table says, not 2
    (which here means bad input); sub-commands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 参数错误 error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="edureport",
        description="县教育局法治政府建设情况工作报告：从台账到经过校验的报告。",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-V", "--version", action="version", version=f"edureport {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="clean, validate and report one county-year")
    _county_year(r)
    r.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")
    r.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root")
    _run_options(r)

    b = sub.add_parser(
        "batch",
        help="run every county of a year, on local processes or a Dask cluster",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")
    b.add_argument("--year", type=_year, required=True, help="report year")
    b.add_argument("--counties", nargs="+", metavar="COUNTY", help="default: every county folder")
    b.add_argument("--workers", type=_positive, help="local processes (default: CPUs)")
    b.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    b.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root")
    b.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start every kernel as a new interpreter (default: forked from a warm template)",
    )
    _run_options(b)

    rp = sub.add_parser(
        "reproduce",
        help="run a recorded run again from its record and compare (never publishes)",
        epilog=REPRODUCE_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rp.add_argument("run_id", metavar="RUN_ID", help="a run id, as `edureport runs` lists them")
    rp.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root holding the run")
    rp.add_argument(
        "--data",
        type=Path,
        help="root holding <county>/<year>/ with the ledgers (default: the run's recorded folder)",
    )
    rp.add_argument(
        "--lock-timeout",
        type=float,
        default=60,
        help="seconds to wait for another run of the same county-year (-1: wait forever)",
    )

    ls = sub.add_parser("runs", help="list run records (time, status, duration)")
    ls.add_argument("--county")
    ls.add_argument("--year", type=_year)
    ls.add_argument("--out", type=Path, default=OUTPUTS_DIR, help="output root")

    n = sub.add_parser(
        "new", help="create a county-year folder: config.yaml, narrative.md, the ledger list"
    )
    _county_year(n)
    n.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")

    c = sub.add_parser(
        "check", help="read a county-year's ledgers in seconds and list every problem at once"
    )
    _county_year(c)
    c.add_argument("--data", type=Path, default=RAW_DIR, help="root holding <county>/<year>/")
    return p


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help="run even if nothing changed")
    p.add_argument("--cell-timeout", type=_positive, default=600, help="seconds per notebook cell")
    p.add_argument(
        "--lock-timeout",
        type=float,
        default=60,
        help="seconds to wait for another run of the same county-year (-1: wait forever)",
    )


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the documented exit code."""
    args = _parser().parse_args(argv)
    previous = _on_sigterm()
    try:
        return _dispatch(args)
    except EdureportError as exc:
        if args.debug:
            raise
        print(f"错误 error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已中断 interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Interrupted as exc:
        print(f"已中断 stopped: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        named = StorageError.from_os(exc)  # a full disk or a refused write outside a run
        if named is not None:
            print(f"错误 error: {named}", file=sys.stderr)
            return named.exit_code
        print(
            f"内部错误 internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm() -> Any:
    """Turn SIGTERM (a scheduler stopping us) into :class:`Interrupted`, so that the run records
    itself as interrupted and its kernel is shut down; returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    return signal.signal(signal.SIGTERM, stop)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from edureport.runs.pipeline import run

        result = run(args.county, args.year, args.data, args.out, _options(args))
        if result.skipped:
            return result.exit_code
        from edureport.report.site import write_index

        write_index(args.out)  # the reviewers' front door lists this run too
        if result.published:
            print(f"报告已发布 report published: {result.report}")
        else:
            print(
                f"未通过校验，报告草稿 validation failed, draft: {result.report}", file=sys.stderr
            )
        return result.exit_code
    if args.command == "batch":
        return _batch(args)
    if args.command == "reproduce":
        from edureport.runs.reproduce import reproduce, summary_lines

        found = reproduce(args.run_id, args.out, args.data, args.lock_timeout)
        for line in summary_lines(found):
            print(line)
        return found.exit_code
    if args.command == "runs":
        from edureport.runs.folder import list_runs

        rows = list_runs(args.out, args.county, args.year)
        for r in rows:
            duration = f"{r['duration_s']:>8.1f}s" if r["duration_s"] is not None else "        -"
            code = "" if r["exit_code"] is None else r["exit_code"]
            print(
                f"{r['county']}\t{r['year']}\t{r['run_id']}\t{r['started']}\t{duration}"
                f"\t{r['status']}\t{code}"
            )
        if not rows:
            print("没有运行记录 no runs", file=sys.stderr)
        return 0
    if args.command == "new":
        from edureport.paths import county_year_dir
        from edureport.runs.scaffold import new_county_year

        folder = county_year_dir(args.data, args.county, args.year)
        for line in new_county_year(folder, args.county, args.year):
            print(line)
        then = f"edureport check --county {args.county} --year {args.year}"
        print(f"下一步 next: 放入台账后运行 {then}")
        return 0
    if args.command == "check":
        from edureport.paths import ledger_folder
        from edureport.runs.check import check_folder

        findings = check_folder(ledger_folder(args.data, args.county, args.year), args.year)
        for f in findings:
            print(f.line())
        errors = sum(f.level == "error" for f in findings)
        print(f"检查完毕：{errors} 个问题 problems" if errors else "检查完毕：未发现问题 ok")
        return EXIT_BAD_INPUT if errors else 0
    return EXIT_USAGE


def _options(args: argparse.Namespace) -> Any:
    from edureport.runs.pipeline import RunOptions

    return RunOptions(args.force, args.cell_timeout, args.lock_timeout)


def _batch(args: argparse.Namespace) -> int:
    from edureport.runs.batch import run_batch, table_text

    if args.scheduler and args.workers:
        raise UsageError("--workers 只用于本机进程池 is for the local pool; size the Dask cluster")
    done = 0

    def on_done(o: Any) -> None:
        nonlocal done
        done += 1
        print(f"[{done}] {o.county} {o.year}: {o.status} ({o.duration_s:.1f} s)", flush=True)

    result = run_batch(
        args.data,
        args.year,
        args.out,
        args.counties,
        args.workers,
        args.scheduler,
        _options(args),
        on_done,
        warm_kernels=not args.cold_kernels,
    )
    print(table_text(result.outcomes))
    print(f"汇总 roll-up: {result.rollup}")
    print(f"目录 index: {result.index}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
