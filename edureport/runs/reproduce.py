"""``edureport reproduce RUN_ID``: run a recorded run again from its record, and compare.

The reproduction reads exactly the inputs the run recorded: each file is copied into a private
temporary folder (mode 0700, removed afterwards: ledgers hold personal data) and checked
against its recorded SHA-256. The narrative and config.yaml come from the run folder's
``sources/`` copies, else from the data folder if unchanged; a ledger comes from the data
folder (the recorded ``data_dir``, or ``--data``). An input that changed or is gone is named and
nothing is run. The pseudonym key must be the recorded one (its ``key_id``), the parameters and
cell timeout are the recorded ones; the code and packages are those installed, and each that
differs from the record is named as a warning.

The reproduction is a check, never a publication: it runs under the county-year's lock into
``<out>/<county>/<year>/reproductions/<run-id>/`` (run.json says which run it reproduces and
what it found) and the published report is not touched. It compares every figure
(figures.json), the validation outcome (passed, summary, every check's status and finding,
set-aside counts) and the report's text (report.html without run ids, time and version
line; charts by the SHA-256 of their images).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edureport.errors import EXIT_DIFFERS, EXIT_OK, InputError, UsageError, storage_errors
from edureport.keys import key_id
from edureport.paths import ledger_folder, published_dir
from edureport.runs.folder import (
    FIGURES,
    RECORD,
    REPORT_HTML,
    RUNS,
    SOURCES,
    VALIDATION_JSON,
    read_json,
    write_json,
)
from edureport.runs.pipeline import (
    RunOptions,
    _run_locked,
    county_year_lock,
    fingerprint,
    input_hashes,
    input_path,
    recover,
)
from edureport.runs.provenance import code_version, lock_sha256, package_versions, python_version
from edureport.runs.steps import sha256

RUN_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")
MAX_TEXT_LINES = 20  # differing report lines listed (the rest counted)


@dataclass
class Reproduction:
    """What ``reproduce`` found: the new run folder, each difference and each warning."""

    original: Path
    run_dir: Path
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_DIFFERS if self.differences else EXIT_OK


def find_run(out_root: Path, run_id: str) -> Path:
    """The folder of run ``run_id`` under ``<out>/<county>/<year>/runs/``."""
    if not RUN_ID.fullmatch(run_id):
        raise UsageError(f"运行编号格式不对 not a run id (like 20230105T023000-1a2b3c): {run_id!r}")
    found = sorted(Path(out_root).glob(f"*/*/{RUNS}/{run_id}"))
    if not found:
        raise UsageError(
            f"找不到运行 run not found: {run_id}（在 under {out_root}；edureport runs 列出全部）"
        )
    return found[0]


def reproduce(
    run_id: str,
    out_root: Path,
    data_root: Path | None = None,
    lock_timeout: float = 60.0,
    progress: Callable[[str], None] = print,
) -> Reproduction:
    """Re-run run ``run_id`` from its record into a new folder and compare it with the original.

    Raises :class:`InputError` naming every input that changed or is gone (nothing run), and
    :class:`UsageError` for an unknown run, a run without a report, or another pseudonym key.
    """
    original = find_run(out_root, run_id)
    record = read_json(original / RECORD)
    if not record.get("inputs") or not record.get("parameters"):
        raise InputError(f"运行记录不完整，无法复现 incomplete run record: {original / 'run.json'}")
    if not (original / FIGURES).is_file() or not (original / REPORT_HTML).is_file():
        raise UsageError(
            f"运行 {run_id} 未生成报告（状态 status {record.get('status')}），无可复现比对"
            " the run made no report to compare"
        )
    if record.get("key_id") and record["key_id"] != key_id():
        raise UsageError(
            f"假名密钥不是该运行所用的 the pseudonym key differs from the run's: 记录 recorded "
            f"key_id {record['key_id']}，当前 current key_id {key_id()}；请设置 "
            "EDUREPORT_PSEUDONYM_KEY 或 EDUREPORT_KEY_FILE 为当时的密钥"
        )
    county, year = record["county"], int(record["year"])
    data = (
        ledger_folder(data_root, county, year).resolve()
        if data_root is not None
        else Path(record["parameters"]["data_dir"])
    )
    warnings = installed_differences(record)
    for line in warnings:
        progress(f"警告 warning: {line}")
    with tempfile.TemporaryDirectory(prefix="edureport-reproduce-") as tmp:
        staged = Path(tmp) / county / str(year)
        notes = stage_inputs(record, original, data, staged)
        for line in notes:
            progress(f"注意 note: {line}")
        target = published_dir(out_root, county, year).resolve()
        options = RunOptions(
            force=True,
            cell_timeout=int(record.get("options", {}).get("cell_timeout", 600)),
            lock_timeout=lock_timeout,
            publish=False,
            reproduces=run_id,
        )
        with storage_errors(out_root), county_year_lock(target, county, year, lock_timeout):
            recover(target, progress)
            finger, inputs = fingerprint(staged, options.notebooks_dir)
            result = _run_locked(county, year, staged, target, finger, inputs, options, progress)
    assert result.run_dir is not None
    found = Reproduction(original, result.run_dir, compare(original, result.run_dir), warnings)
    new = result.record
    new["reproduction"] = {
        "of": run_id,
        "identical": not found.differences,
        "differences": found.differences,
        "warnings": warnings,
        "notes": notes,
        "data_dir": str(data),
    }
    new["status"] = "reproduced" if not found.differences else "differs"
    new["exit_code"] = found.exit_code
    with storage_errors(result.run_dir):
        write_json(result.run_dir / RECORD, new)
    return found


def installed_differences(record: dict[str, Any]) -> list[str]:
    """One line for each of code, packages, lock file and Python that differs from the record."""
    lines = []
    recorded = record.get("code_version")
    if recorded and recorded != code_version():
        now_code = code_version()
        lines.append(f"程序版本不同 code differs: 记录 recorded {recorded}，当前 now {now_code}")
    now = package_versions()
    for name, version in sorted(record.get("packages", {}).items()):
        if now.get(name, "not installed") != version:
            lines.append(
                f"软件包版本不同 package differs: {name} 记录 recorded {version}，"
                f"当前 now {now.get(name, 'not installed')}"
            )
    for key, label, current in (
        ("lock_sha256", "依赖锁文件不同 requirements.lock differs", lock_sha256()),
        ("python", "Python 版本不同 Python differs", python_version()),
    ):
        if record.get(key) and record[key] != current:
            lines.append(f"{label}: 记录 recorded {record[key][:16]}，当前 now {current[:16]}")
    return lines


def stage_inputs(record: dict[str, Any], original: Path, data: Path, staged: Path) -> list[str]:
    """Copy every recorded input into ``staged`` (a county-year folder; last year's beside it),
    each checked against its recorded SHA-256; raise :class:`InputError` naming every one that
    changed or is gone. Returns notes (files in the data folder the run did not read)."""
    problems = []
    for name, digest in sorted(record["inputs"].items()):
        dst = input_path(staged, name)
        dst.parent.mkdir(parents=True, exist_ok=True)
        kept = original / SOURCES / name
        candidates = [kept] if kept.is_file() else []
        candidates.append(input_path(data, name))
        if any(_copy_if(src, dst, digest) for src in candidates):
            continue
        path = input_path(data, name)
        if not path.is_file():
            problems.append(f"{path}（已不存在 gone）")
            continue
        why = f"{path}（已改变 changed: 记录 recorded {digest[:16]}，现在 now {sha256(path)[:16]}"
        if name.rsplit("/", 1)[-1] in ("narrative.md", "config.yaml") and not kept.is_file():
            why += "；该运行早于 sources/ 副本，当时的文件已无从取得 the run kept no copy"
        problems.append(why + "）")
    if problems:
        raise InputError(
            "无法复现：运行所用的输入已改变或不存在 cannot reproduce, inputs changed or gone: "
            + "；".join(problems)
        )
    extra = sorted(set(input_hashes(data)) - set(record["inputs"])) if data.is_dir() else []
    return [f"未被该运行读取的文件不参与复现 not read by the run, left out: {n}" for n in extra]


def _copy_if(src: Path, dst: Path, digest: str) -> bool:
    """Copy ``src`` to ``dst`` if it exists; whether the copy has the SHA-256 ``digest``."""
    if not src.is_file():
        return False
    shutil.copyfile(src, dst)
    if sha256(dst) == digest:
        return True
    dst.unlink()
    return False


# ---------------------------------------------------------------- comparing two run folders


def compare(original: Path, new: Path) -> list[str]:
    """Every difference between two run folders' figures, validation and report text."""
    return [
        *_figures(read_json(original / FIGURES), read_json(new / FIGURES)),
        *_validation(read_json(original / VALIDATION_JSON), read_json(new / VALIDATION_JSON)),
        *_text(report_text(original / REPORT_HTML), report_text(new / REPORT_HTML)),
    ]


def _figures(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        label = (a or b or {}).get("label", "")
        if a is None or b is None:
            out.append(f"数字 figure {key}（{label}）: {_shown(a)} → {_shown(b)}")
            continue
        fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))
        changes = "，".join(f"{f} {a.get(f)!r} → {b.get(f)!r}" for f in fields)
        out.append(f"数字 figure {key}（{label}）: {changes}")
    return out


def _shown(fig: dict[str, Any] | None) -> str:
    return "缺失 missing" if fig is None else str(fig.get("text", fig.get("value")))


def _validation(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    if old.get("passed") != new.get("passed"):
        out.append(f"校验结果 validation passed: {old.get('passed')} → {new.get('passed')}")
    for key in sorted(old.get("summary", {}).keys() | new.get("summary", {}).keys()):
        a, b = old.get("summary", {}).get(key), new.get("summary", {}).get(key)
        if a != b:
            out.append(f"校验汇总 validation {key}: {a} → {b}")
    checks_a = {c.get("name"): c for c in old.get("checks", [])}
    checks_b = {c.get("name"): c for c in new.get("checks", [])}
    for name in sorted(checks_a.keys() | checks_b.keys(), key=str):
        a, b = checks_a.get(name, {}), checks_b.get(name, {})
        for f in ("status", "expected", "found", "offending_count"):
            if a.get(f) != b.get(f):
                out.append(f"校验 check {name} {f}: {a.get(f)!r} → {b.get(f)!r}")
    set_a = {s.get("ledger"): s for s in old.get("set_aside", [])}
    set_b = {s.get("ledger"): s for s in new.get("set_aside", [])}
    for ledger in sorted(set_a.keys() | set_b.keys(), key=str):
        a, b = set_a.get(ledger, {}), set_b.get(ledger, {})
        for f in sorted(a.keys() | b.keys()):
            if a.get(f) != b.get(f):
                out.append(f"剔除行 set aside {ledger} {f}: {a.get(f)!r} → {b.get(f)!r}")
    return out


def _text(old: list[str], new: list[str]) -> list[str]:
    changed = [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    out = [f"报告正文 report text: {line}" for line in changed[:MAX_TEXT_LINES]]
    if len(changed) > MAX_TEXT_LINES:
        out.append(f"报告正文 report text: 另有 {len(changed) - MAX_TEXT_LINES} 行不同 more lines")
    return out


_BLOCK = re.compile(r"<(?:p|h\d|li|tr|div|section|footer|table|br|caption|figcaption)\b[^>]*>")
_IMG = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')
_SRC = re.compile(r'\bsrc="([^"]*)"')
_VOLATILE = (
    (RUN_ID, "<运行编号 run id>"),
    (re.compile(r"生成时间 \d{4}-\d{2}-\d{2} \d{2}:\d{2}"), "生成时间 <time>"),
    (re.compile(r"程序版本 [^；。]*（[^）]*）"), "程序版本 <version>"),
)


def report_text(path: Path) -> list[str]:
    """The visible text of a report.html, one line per block, without what differs between
    two runs of the same inputs (run id, time of generation, program version); each chart as a
    line with the SHA-256 of its image."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError:
        return []
    raw = re.sub(r"<(style|script)\b.*?</\1>", "", raw, flags=re.S)

    def chart(m: re.Match[str]) -> str:
        alt, src = _ALT.search(m.group(0)), _SRC.search(m.group(0))
        digest = hashlib.sha256((src.group(1) if src else "").encode()).hexdigest()[:16]
        return f"\n[图 chart {alt.group(1) if alt else ''} {digest}]\n"

    raw = _IMG.sub(chart, raw)
    text = html.unescape(re.sub(r"<[^>]+>", "", _BLOCK.sub("\n", raw)))
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def summary_lines(found: Reproduction) -> list[str]:
    """What the console prints at the end: identical, or each difference."""
    if not found.differences:
        return [
            f"复现结果一致 identical: 运行 {found.run_dir.name} 与原运行 {found.original.name} 的"
            "全部数字、校验结果和报告正文相同 every figure, the validation outcome and the report"
            f" text match（复现记录 record: {found.run_dir / 'run.json'}）"
        ]
    return [
        f"复现结果不同 differs: {len(found.differences)} 处不同 differences"
        f"（原运行 original {found.original.name}，复现 reproduction {found.run_dir}）",
        *(f"  - {line}" for line in found.differences),
    ]
