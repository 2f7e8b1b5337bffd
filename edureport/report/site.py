"""The pages beside the county reports: the index (reviewers' front door) and a year's roll-up.

Both are one self-contained file each, in the county report's look (its style sheet inline), with
no script and no external request. Every text that comes from the ledgers or the file system
(county names, titles, labels, statuses) is escaped; no name or ID number is ever shown (the
pages are built only from published ``figures.json``, ``published.json`` and run records).

A county-year's published files are read from the one version ``current`` points at (resolved
once per county-year, :func:`edureport.runs.pipeline.published_version`), so a publish switching in
meanwhile never mixes two runs' figures and state; links point at the stable names
(``<county>/<year>/report.html``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from edureport.report.figures import MONEY, Figure, Registry
from edureport.report.formatting import percent, rounding_note
from edureport.report.pages import Cell, Table, render
from edureport.runs.folder import (
    FIGURES,
    RECORD,
    REPORT_HTML,
    STATE,
    VALIDATION_HTML,
    list_runs,
    now,
    read_json,
    write_atomic,
)
from edureport.runs.publish import published_version

INDEX = "index.html"
# The Chinese status words of run records and batch outcomes.
STATUS_TEXT = {
    "published": "已发布",
    "unchanged": "已发布（输入未变化，未重新运行）",
    "validation_failed": "未通过校验",
    "bad_input": "台账有误",
    "usage_error": "参数有误",
    "locked": "另一运行进行中，未运行",
    "internal_error": "内部错误",
    "interrupted": "运行被中止",
    "disk_full": "磁盘空间不足",
    "permission_denied": "无写入权限",
    "io_error": "读写错误",
    "input_changed": "台账在运行中被改动，未发布",
    "running": "运行中",
    "not_in_batch": "本批未运行",
}
# The figures the roll-up compares across counties, in two tables.
AID_FIGURES = ("aid_total_count", "aid_total_amount")
OTHER_FIGURES = (
    "exchange_total",
    "itinerant_teachers",
    "inspected_passed",
    "unlicensed_closed",
    "kindergartens_approved",
    "officers_total",
    "officers_certified",
)


def shown_time(iso: str | None) -> str:
    """'2026-03-01 09:30' from an ISO time stamp ('' when there is none)."""
    return iso[:16].replace("T", " ") if iso else ""


def report_title(report: Path) -> str:
    """The <title> of a published report (unescaped), or the generic title."""
    try:
        head = report.read_text(encoding="utf-8")[:4096]
    except OSError:
        head = ""
    found = re.search(r"<title>(.*?)</title>", head, re.S)
    return html.unescape(found.group(1).strip()) if found else "法治政府建设情况工作报告"


# ---------------------------------------------------------------- roll-up of one year


def write_rollup(out_root: Path, year: int, statuses: Mapping[str, str]) -> Path:
    """``<out>/rollup-<year>.html``: the published key figures of every county of ``year`` side
    by side, totals summed from exact values; ``statuses`` maps the batch's counties to their
    outcome (counties published earlier but not in this batch are listed too)."""
    out_root = Path(out_root)
    found = [p.name for p in out_root.iterdir() if _visible_dir(p) and (p / str(year)).is_dir()]
    counties = sorted({*statuses, *found})
    # each county's publication read from one version (resolved once)
    folders = {c: published_version(out_root / c / str(year)) for c in counties}
    registries = {}
    for county in counties:
        if (folders[county] / FIGURES).is_file():
            registries[county] = Registry.read(folders[county] / FIGURES)
    counties = [c for c in counties if c in statuses or c in registries]
    rows = []
    for county in counties:
        status = statuses.get(county, "not_in_batch")
        state = read_json(folders[county] / STATE)
        report = f"{county}/{year}/report.html"
        rows.append(
            [
                Cell(county, report) if county in registries else county,
                Cell(shown_time(state.get("published")), cls="nowrap"),
                Cell(STATUS_TEXT.get(status, status), cls="bad" if _failed(status) else None),
            ]
        )
    missing = [c for c in counties if c not in registries]
    summary = (
        f"{year}年度，{len(counties)}个县：{len(registries)}个有已发布的报告"
        + (f"，{'、'.join(missing)}没有，不计入合计" if missing else "")
        + "。数字取自各县已发布的报告，合计按精确值相加后再四舍五入显示。"
        f"生成时间 {shown_time(now())}。"
    )
    tables = [Table("各县报告", ["县", "报告发布时间", "本批运行"], rows, cls="data list cards")]
    if registries:
        tables.append(_aid_table(registries))
        other = _figure_table("教师交流、民办教育监管和执法队伍", OTHER_FIGURES, registries)
        tables += [other] if other else []
    title = f"{year}年度各县法治政府建设主要数字汇总"
    page = render("rollup.html.j2", title=title, index=INDEX, summary=summary, tables=tables)
    path = out_root / f"rollup-{year}.html"
    write_atomic(path, page)
    return path


def _failed(status: str) -> bool:
    return status not in ("published", "unchanged", "not_in_batch", "running")


def _total(key: str, registries: Mapping[str, Registry]) -> Figure:
    first = next(iter(registries.values()))[key]
    value = sum(reg[key].value for reg in registries.values())
    return Figure(key, first.label, value, first.unit, first.source)


def _aid_table(registries: Mapping[str, Registry]) -> Table:
    total = _total("aid_total_amount", registries)
    rows: list[list[str | Cell]] = []
    for county, reg in registries.items():
        share = percent(reg["aid_total_amount"].value, total.value)
        rows.append(
            [
                county,
                reg["aid_total_count"].text,
                reg["aid_total_amount"].text,
                f"{share}%" if share is not None else "—",
            ]
        )
    count = _total("aid_total_count", registries)
    rows.append(["合计", count.text, total.text, "100.0%" if total.value else "—"])
    parts = [reg["aid_total_amount"].value for reg in registries.values()]
    header = ["县", count.label, total.label, "占比"]
    return Table("学生资助", header, rows, rounding_note(parts, total.value), "data figures cards")


def _figure_table(
    caption: str, keys: Sequence[str], registries: Mapping[str, Registry]
) -> Table | None:
    first = next(iter(registries.values()))
    keys = [k for k in keys if k in first]
    if not keys:
        return None
    rows: list[list[str | Cell]] = [
        [county, *(reg[k].text if k in reg else "—" for k in keys)]
        for county, reg in registries.items()
    ]
    totals = [_total(k, registries) for k in keys]
    rows.append(["合计", *(t.text for t in totals)])
    note = (
        "金额按四舍五入保留两位小数。"
        if any(t.unit == MONEY for t in totals)
        else "各县人数、所数直接相加。"
    )
    return Table(caption, ["县", *(first[k].label for k in keys)], rows, note, "data figures cards")


# ---------------------------------------------------------------- index of every report


def write_index(out_root: Path) -> Path:
    """``<out>/index.html``: every county-year under ``out_root`` with its published report
    (link, time of publishing, checks) and its latest run, newest year first; roll-up links."""
    out_root = Path(out_root)
    by_year: dict[str, list[list[str | Cell]]] = {}
    for county_dir in sorted(p for p in out_root.iterdir() if _visible_dir(p)):
        for year_dir in sorted(p for p in county_dir.iterdir() if p.is_dir()):
            if year_dir.name.isdigit():
                row = _index_row(out_root, county_dir.name, year_dir)
                if row:
                    by_year.setdefault(year_dir.name, []).append(row)
    rollups = [
        (p.name, f"{p.stem.removeprefix('rollup-')}年度各县主要数字汇总")
        for p in sorted(out_root.glob("rollup-*.html"), reverse=True)
    ]
    header = ["县", "报告", "发布时间", "数据校验", "最近一次运行"]
    tables = [
        Table(f"{year}年度", header, by_year[year], cls="data list cards")
        for year in sorted(by_year, reverse=True)
    ]
    page = render(
        "site_index.html.j2",
        title="法治政府建设情况工作报告目录",
        rollups=rollups,
        tables=tables,
        updated=shown_time(now()),
    )
    write_atomic(out_root / INDEX, page)
    return out_root / INDEX


def _visible_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith((".", "_"))


def _index_row(out_root: Path, county: str, year_dir: Path) -> list[str | Cell] | None:
    folder = published_version(year_dir)  # state, report and record of one publication
    state = read_json(folder / STATE)
    report = folder / REPORT_HTML
    runs = list_runs(out_root, county, int(year_dir.name))
    if not report.is_file() and not runs:
        return None
    published = read_json(folder / RECORD)
    checks = published.get("validation", {})
    if report.is_file():
        link: str | Cell = Cell(report_title(report), f"{county}/{year_dir.name}/report.html")
        checked = f"{checks.get('checks_passed', '?')}/{checks.get('total', '?')}项通过"
    else:
        link, checked = Cell("未发布", cls="bad"), ""
    latest = runs[-1] if runs else None
    if latest is None or latest["run_id"] == state.get("run_id"):
        last: str | Cell = STATUS_TEXT["published"] if report.is_file() else ""
    else:
        status = latest["status"]
        text = f"{STATUS_TEXT.get(status, status)}（{shown_time(latest['started'])}）"
        if report.is_file() and status != "running":
            text += "，已发布的仍是上次的报告"
        draft = Path(latest["path"]) / VALIDATION_HTML
        href = draft.relative_to(out_root).as_posix() if draft.is_file() else None
        last = Cell(text, href, "bad" if _failed(status) else None)
    when = shown_time(state.get("published") or published.get("finished"))
    return [county, link, Cell(when, cls="nowrap"), Cell(checked, cls="nowrap"), last]
