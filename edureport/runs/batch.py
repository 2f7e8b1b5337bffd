"""``edureport batch``: every county of one year, on a local process pool or a Dask cluster.

Each county is one :func:`edureport.runs.pipeline.run` (its own lock, run folder and publish). One
county's failure never stops the others: its status and exit code are recorded. A worker killed
mid-batch loses nothing: the counties its pool had not finished run again on a new pool. At the
end the batch writes ``<out>/rollup-<year>.html`` and ``<out>/index.html`` and exits with the
most severe county exit code (:func:`edureport.errors.most_severe`).

Each worker forks its counties' kernels from a template process that has every step's
libraries loaded (:mod:`edureport.runs.warm`), so a county does not pay interpreter, Great
Expectations and matplotlib start-up again; ``warm_kernels=False`` (``--cold-kernels``) starts
every kernel as a new interpreter, as ``edureport run`` does.
"""

from __future__ import annotations

import os
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from edureport.errors import (
    EXIT_INTERNAL,
    EdureportError,
    Interrupted,
    UsageError,
    most_severe,
    status_of,
)
from edureport.paths import published_dir
from edureport.report.figures import MONEY
from edureport.report.formatting import count_text, money_text
from edureport.report.site import write_index, write_rollup
from edureport.runs import warm
from edureport.runs.folder import FIGURES, read_json
from edureport.runs.pipeline import RunOptions, run
from edureport.runs.publish import published_version

# Key figures shown in the batch's table: (figure key, column heading).
TABLE_FIGURES = (
    ("aid_total_count", "资助人次"),
    ("aid_total_amount", "资助金额"),
    ("exchange_total", "交流人数"),
    ("inspected_passed", "检查合格"),
)


@dataclass
class Outcome:
    """What happened to one county in a batch (picklable: it travels back from the workers)."""

    county: str
    year: int
    status: str  # published, unchanged, validation_failed, bad_input, locked, internal_error, …
    exit_code: int
    duration_s: float
    message: str = ""
    run_id: str | None = None
    figures: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (exact, unit)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass
class BatchResult:
    """Every county's outcome, the pages written, and the batch's exit code."""

    outcomes: list[Outcome]
    rollup: Path
    index: Path

    @property
    def exit_code(self) -> int:
        return most_severe([o.exit_code for o in self.outcomes])


def discover(data_root: Path, year: int) -> list[str]:
    """The counties with a folder ``<data_root>/<county>/<year>/``, sorted."""
    root = Path(data_root)
    if not root.is_dir():
        raise UsageError(f"找不到台账根目录 data folder not found: {root}")
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and (p / str(year)).is_dir()
    )


def run_county(
    county: str, year: int, data_root: Path, out_root: Path, options: RunOptions
) -> Outcome:
    """Run one county-year and never raise: any failure becomes the outcome's status and code."""
    t0 = time.perf_counter()
    run_id, message = None, ""
    try:
        result = run(county, year, data_root, out_root, options, progress=lambda _line: None)
        code = result.exit_code
        status = "unchanged" if result.skipped else status_of(code)
        run_id = result.run_dir.name if result.run_dir else None
        if not result.published:
            message = f"未通过校验，草稿 validation failed, draft: {result.report}"
    except (EdureportError, Interrupted) as exc:  # Interrupted: this worker was sent SIGTERM
        code, status, message = exc.exit_code, status_of(exc.exit_code, exc), str(exc)
    except Exception as exc:  # a bug in one county must not end the batch
        code, status, message = EXIT_INTERNAL, "internal_error", f"{type(exc).__name__}: {exc}"
    return Outcome(
        county,
        year,
        status,
        code,
        round(time.perf_counter() - t0, 2),
        message,
        run_id,
        published_figures(out_root, county, year),
    )


def published_figures(out_root: Path, county: str, year: int) -> dict[str, tuple[int, str]]:
    """The key figures of the county-year's published report: exact value and unit (from the
    version published now, even if a run switches in another meanwhile)."""
    try:
        target = published_dir(out_root, county, year)
    except UsageError:  # a folder whose name cannot be a county: its outcome says why
        return {}
    figures = read_json(published_version(target) / FIGURES)
    return {
        k: (int(figures[k]["value"]), figures[k]["unit"]) for k, _ in TABLE_FIGURES if k in figures
    }


def run_batch(
    data_root: Path,
    year: int,
    out_root: Path,
    counties: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    options: RunOptions | None = None,
    on_done: Callable[[Outcome], None] = lambda _o: None,
    warm_kernels: bool = True,
) -> BatchResult:
    """Run every county (or ``counties``) of ``year``: on a local process pool of ``workers``
    processes, or on the Dask cluster whose scheduler is at ``scheduler``; kernels forked from
    each worker's template unless not ``warm_kernels``."""
    data_root, out_root = Path(data_root).resolve(), Path(out_root).resolve()
    options = replace(options or RunOptions(), warm_kernels=warm_kernels)
    names = list(dict.fromkeys(counties)) if counties else discover(data_root, year)
    if not names:
        raise UsageError(f"{data_root} 下没有 {year} 年的县文件夹 no <county>/{year}/ folders")
    out_root.mkdir(parents=True, exist_ok=True)
    jobs = [(c, year, data_root, out_root, options) for c in names]
    if scheduler:
        outcomes = _on_dask(scheduler, jobs, on_done)
    else:
        outcomes = _on_pool(workers or min(len(names), os.cpu_count() or 1), jobs, on_done)
    outcomes.sort(key=lambda o: names.index(o.county))
    rollup = write_rollup(out_root, year, {o.county: o.status for o in outcomes})
    return BatchResult(outcomes, rollup, write_index(out_root))


Job = tuple[str, int, Path, Path, RunOptions]


def _on_pool(
    workers: int,
    jobs: list[Job],
    on_done: Callable[[Outcome], None],
    run: Callable[..., Outcome] = run_county,
) -> list[Outcome]:
    """Run ``jobs`` on a pool of ``workers``. When a worker dies (killed, out of memory) the
    pool breaks, failing every county it had not finished, started or not: those run again on
    a new pool; if that one breaks too, each county left runs alone on a pool of its own, so
    that a county that kills its worker every time fails alone. (A county's lock is an
    ``flock`` and its next run recovers the folder of the killed one.)"""
    outcomes: list[Outcome] = []
    warm_kernels = any(job[4].warm_kernels for job in jobs)  # the workers' template
    left = _pool_round(run, workers, jobs, warm_kernels, on_done, outcomes)
    if left:
        left = _pool_round(run, workers, left, warm_kernels, on_done, outcomes)
    for job in left:
        if _pool_round(run, 1, [job], warm_kernels, on_done, outcomes):
            outcomes.append(
                Outcome(job[0], job[1], "internal_error", EXIT_INTERNAL, 0.0, WORKER_DIED)
            )
            on_done(outcomes[-1])
    return outcomes


WORKER_DIED = "运行此县的工作进程三次意外终止 the worker running this county died (three times)"


def _pool_round(
    run: Callable[..., Outcome],
    workers: int,
    jobs: list[Job],
    warm_kernels: bool,
    on_done: Callable[[Outcome], None],
    outcomes: list[Outcome],
) -> list[Job]:
    """One pool running ``run(*job)`` for ``jobs``: their outcomes added to ``outcomes`` (and
    ``on_done``), except those of the jobs a broken pool failed, which are returned."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    broken: list[Job] = []
    # spawn: each worker starts clean (no inherited threads or sockets; kernels are its children)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, context, initializer=_worker_start, initargs=(warm_kernels,)
    )
    try:
        futures = {pool.submit(run, *job): job for job in jobs}
        for future in as_completed(futures):
            if isinstance(future.exception(), BrokenProcessPool):
                broken.append(futures[future])
                continue
            outcomes.append(_outcome(future.result, futures[future]))
            on_done(outcomes[-1])
    except BaseException:  # stopped (Ctrl-C, SIGTERM): start no more counties, stop the running
        running = list((getattr(pool, "_processes", None) or {}).values())  # no API < 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for process in running:
            if process.is_alive():
                process.terminate()
        raise
    pool.shutdown()
    return broken


def _worker_start(warm_kernels: bool) -> None:
    """In a pool worker: SIGTERM ends the county's run as *interrupted* (recorded, kernel shut);
    the kernels' template starts now, before the first county arrives."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, stop)
    if warm_kernels:
        warm.enable()


def _on_dask(address: str, jobs: list[Job], on_done: Callable[[Outcome], None]) -> list[Outcome]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise UsageError(
            "--scheduler 需要 dask：pip install 'edureport[batch]' (dask[distributed] missing)"
        ) from None
    try:
        client = Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"无法连接 Dask 调度器 cannot connect to the Dask scheduler {address}: {exc}"
        ) from None
    outcomes = []
    with client:
        futures = {
            client.submit(run_county, *job, pure=False, key=f"edureport-{job[1]}-{job[0]}-{i}"): job
            for i, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            outcomes.append(_outcome(future.result, futures[future]))
            on_done(outcomes[-1])
    return outcomes


def _outcome(result: Callable[[], Outcome], job: Job) -> Outcome:
    """The future's outcome, or an internal error if its worker died (killed, out of memory)."""
    try:
        return result()
    except Exception as exc:
        county, year = job[0], job[1]
        message = f"工作进程失败 worker failed: {type(exc).__name__}: {exc}"
        return Outcome(county, year, "internal_error", EXIT_INTERNAL, 0.0, message)


# ---------------------------------------------------------------- the printed table


def table_text(outcomes: Sequence[Outcome]) -> str:
    """County, status, exit code, key figures and time, aligned for a terminal."""
    header = ["县 county", "状态 status", "code", *(h for _, h in TABLE_FIGURES), "用时 time"]
    rows = [header]
    for o in outcomes:
        shown = [
            _figure_text(*o.figures[k]) if o.ok and k in o.figures else "—"
            for k, _ in TABLE_FIGURES
        ]
        rows.append([o.county, o.status, str(o.exit_code), *shown, f"{o.duration_s:.1f} s"])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(_pad(c, w, i >= 2) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    lines.insert(1, "-" * _width(lines[0]))
    failed = [o for o in outcomes if not o.ok and o.message]
    lines += [f"{o.county}: {o.message}" for o in failed]
    return "\n".join(lines)


def _figure_text(value: int, unit: str) -> str:
    return money_text(value) if unit == MONEY else count_text(value, unit)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap
