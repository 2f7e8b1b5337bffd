"""The ledger files, as offices save them (workbooks with fixed timestamps, CSV encodings)."""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from synthetic.aid import AidRecord
from synthetic.cells import _aid_rows, _date_text, _fmt_yuan, _number
from synthetic.others import Approval, Exchange, Inspection, Officer
from synthetic.people import _random_day
from synthetic.targets import CaseCounts, Targets, TrainingLine
from synthetic.vocabulary import (
    _AID_NOTES,
    _BAD_REASON,
    AID_HEADER,
    APPROVAL_HEADER,
    CONTROL_HEADER,
    EXCHANGE_HEADER,
    INSPECTION_HEADER,
    OFFICER_HEADER,
    _words,
)

# ------------------------------------------------------------------ file writers


@dataclass(frozen=True)
class PlantedRow:
    """A bad row planted in a ledger: where it is and what is wrong with it."""

    ledger: str
    file: str
    row: int  # as the analyst sees it: Excel row number, or CSV line number
    kind: str
    column: str | None
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What :func:`write_county_year` wrote."""

    folder: Path
    files: dict[str, str]  # ledger -> file name
    planted: tuple[PlantedRow, ...]
    targets: Targets


def _stamp(year: int) -> datetime:
    return datetime(year + 1, 1, 10, 9, 30, 0)


def _save_workbook(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save with fixed document and zip timestamps, so equal content gives equal bytes."""
    wb.properties.creator = "edureport.synthetic"  # as the sample files were first written
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    moment = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buffer) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + moment, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, data)


def _write_csv(path: Path, rows: Iterable[Sequence[Any]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _title_sheet(ws: Any, title: str, width: int) -> None:
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")


def _widths(ws: Any, widths: Sequence[int]) -> None:
    for j, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + j)].width = w


def _write_aid_xlsx(
    path: Path, county: str, year: int, rows: list[list[Any]], total_fen: int
) -> int:
    """Notes sheet, then the data sheet; returns the Excel row of the first data row."""
    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    for line in _AID_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    ws = wb.create_sheet("资助台账")
    _title_sheet(ws, f"{county}{year}年学生资助发放台账", len(AID_HEADER))
    ws.append([f"填报单位：{county}教育局    单位：元"])
    ws.append(list(AID_HEADER))
    first = 4
    for i, row in enumerate(rows):
        ws.append(row)
        if isinstance(row[8], int | float):
            ws.cell(first + i, 9).number_format = "#,##0.00"
    ws.append([])
    ws.append(["合计", None, None, None, None, None, None, None, _number(total_fen)])
    ws.cell(first + len(rows) + 1, 9).number_format = "#,##0.00"
    ws.freeze_panes = "A4"
    _widths(ws, (8, 24, 14, 34, 10, 22, 12, 16, 12, 14))
    _save_workbook(wb, path, _stamp(year))
    return first


def _write_aid_csv(path: Path, rows: list[list[Any]], total_fen: int, style: str) -> int:
    """Returns the CSV line of the first data row."""
    if style == "canonical":
        _write_csv(path, [list(AID_HEADER), *rows], "utf-8")
        return 2
    header = _words("序号 学校 学段 资助项目 姓名 身份证号 是否建档立卡 学期 金额(元) 发放日期")
    tail = [[""] * len(header), ["合计", *[""] * 7, _fmt_yuan(total_fen), ""]]  # blank, total
    _write_csv(path, [header, *rows, *tail], "gb18030")
    return 2


def _rename_rare(records: list[AidRecord]) -> list[AidRecord]:
    """Give one 普通高中 student a name with 䶮 (GB18030 only, not GBK), on all of their rows."""
    target = next((r.id_no for r in records if r.stage == "普通高中" and not r.bad), None)
    return [replace(r, name=r.name[0] + "䶮") if r.id_no == target else r for r in records]


def _write_aid(
    folder: Path, county: str, year: int, records: list[AidRecord], style: str, rng: random.Random
) -> tuple[str, list[PlantedRow]]:
    if style == "messy_csv":
        records = _rename_rare(records)
    rows = _aid_rows(rng, records, style)
    total = sum(r.amount_fen for r in records)
    if style == "messy_xlsx":
        name = f"{year}年学生资助发放台账（终版）.xlsx"
        first = _write_aid_xlsx(folder / name, county, year, rows, total)
    else:
        name = f"{year}年学生资助发放台账.csv"
        first = _write_aid_csv(folder / name, rows, total, style)
    planted = [_planted_row(name, first + i, r.bad) for i, r in enumerate(records) if r.bad]
    return name, planted


def _planted_row(file: str, row: int, kind: str) -> PlantedRow:
    reason, column = _BAD_REASON[kind]
    return PlantedRow("aid", file, row, kind, column, reason)


def _write_control(folder: Path, year: int, targets: Targets, style: str) -> str:
    name = f"{year}年资助资金拨付汇总表.csv"
    rows: list[list[Any]] = [list(CONTROL_HEADER)]
    rows += [
        [a.stage, a.programme, a.person_times, _fmt_yuan(a.amount_fen)]
        for a in targets.aid
        if a.person_times
    ]
    if style == "canonical":
        _write_csv(folder / name, rows, "utf-8")
    else:
        rows.append(["合计", "", targets.aid_person_times, _fmt_yuan(targets.aid_amount_fen)])
        _write_csv(folder / name, rows, "gbk")
    return name


def _write_officers(folder: Path, county: str, year: int, roster: list[Officer], style: str) -> str:
    rows = [
        [o.name, o.gender, o.unit, o.cert_no, o.issued, o.valid_until, o.employment, o.hours]
        for o in roster
    ]
    if style == "canonical":
        name = "行政执法人员名册.csv"
        _write_csv(folder / name, [OFFICER_HEADER, *(_iso_row(r) for r in rows)], "utf-8")
        return name
    word = "正式" if style == "messy_xlsx" else "编内"
    for row in rows:
        if row[6] == "在编":
            row[6] = word
            break
    if len(rows) > 2:
        rows[2][7] = str(rows[2][7])  # training hours stored as text
    name = "行政执法人员名册.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "执法人员"
    _title_sheet(ws, f"{county}教育局行政执法人员名册（{year}年）", len(OFFICER_HEADER))
    ws.append(list(OFFICER_HEADER))
    for row in rows:
        ws.append(row)
    _widths(ws, (10, 6, 18, 20, 12, 12, 10, 14))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


def _iso_row(row: Sequence[Any]) -> list[Any]:
    return ["" if v is None else f"{v:%Y-%m-%d}" if isinstance(v, date) else v for v in row]


def _write_exchange(
    folder: Path, county: str, year: int, rows: list[Exchange], style: str, rng: random.Random
) -> str:
    cells = [[e.name, e.id_no, e.role, e.kind, e.from_school, e.to_school, e.start] for e in rows]
    if style == "messy_csv":
        name = f"{year}年教师校长交流台账.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.title = "交流台账"
        _title_sheet(
            ws, f"{county}{year}年义务教育教师校长交流轮岗及走教情况", len(EXCHANGE_HEADER)
        )
        ws.append(list(EXCHANGE_HEADER))
        for row in cells:
            ws.append(row)
        _widths(ws, (10, 22, 8, 10, 24, 24, 12))
        _save_workbook(wb, folder / name, _stamp(year))
        return name
    name = f"{year}年教师校长交流台账.csv"
    if style == "canonical":
        _write_csv(folder / name, [EXCHANGE_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
        return name
    for row in cells:
        r = rng.random()
        row[6] = _date_text(row[6], 1 if r < 0.1 else 3 if r < 0.15 else 0)
    header = list(EXCHANGE_HEADER)
    header[1] = "证件号码"
    _write_csv(folder / name, [header, *cells], "utf-8-sig")
    return name


def _inst_rows(rows: Sequence[Inspection | Approval]) -> list[list[Any]]:
    out = []
    for r in rows:
        i = r.institution
        if isinstance(r, Inspection):
            out.append([i.name, i.kind, i.licence, r.day, r.result])
        else:
            out.append([i.name, i.kind, r.day, i.licence])
    return out


def _write_inspections(
    folder: Path, county: str, year: int, rows: list[Inspection], style: str, rng: random.Random
) -> str:
    cells = _inst_rows(rows)
    if style == "canonical":
        name = f"{year}年民办教育机构检查台账.csv"
        _write_csv(folder / name, [INSPECTION_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
        return name
    name = f"{year}年民办教育机构检查台账.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "检查台账"
    if style == "messy_xlsx":
        _title_sheet(ws, f"{county}{year}年民办教育机构检查情况", len(INSPECTION_HEADER))
    else:
        for row in cells:
            row[3] = _date_text(row[3], 3 if rng.random() < 0.6 else 2)
    ws.append(list(INSPECTION_HEADER))
    for row in cells:
        ws.append(row)
    _widths(ws, (30, 14, 28, 14, 10))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


def _write_approvals(folder: Path, year: int, rows: list[Approval], style: str) -> str:
    cells = _inst_rows(rows)
    if style == "messy_xlsx":
        name = f"{year}年民办教育机构审批台账.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.title = "审批台账"
        ws.append(list(APPROVAL_HEADER))
        for row in cells:
            ws.append(row)
        _widths(ws, (30, 14, 14, 28))
        _save_workbook(wb, folder / name, _stamp(year))
        return name
    name = f"{year}年民办教育机构审批台账.csv"
    if style == "messy_csv":
        for row in cells:
            row[2] = _date_text(row[2], 1)
    _write_csv(folder / name, [APPROVAL_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
    return name


_TOPICS = {
    "执法人员": (
        "行政处罚法与执法程序",
        "行政执法文书规范",
        "行政执法“三项制度”",
        "行政复议与应诉实务",
    ),
    "机关干部": ("宪法学习", "民法典与依法行政", "党内法规与廉政教育"),
    "教师": ("未成年人保护法", "教师法与师德规范", "校园安全与依法治校", "预防未成年人犯罪法"),
    "学生": ("宪法进校园", "防范校园欺凌", "禁毒与防诈骗", "交通安全法治课"),
}


def _split(rng: random.Random, total: int, n: int) -> list[int]:
    """``total`` as ``n`` positive parts (each ≥ 1), exactly."""
    cuts = sorted(rng.sample(range(1, total), n - 1)) if n > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _training_rows(rng: random.Random, year: int, lines: Sequence[TrainingLine]) -> list[list[Any]]:
    rows = []
    for line in lines:
        people = _split(rng, line.participants, line.sessions)
        hours = _split(rng, line.hours, line.sessions)
        for k in range(line.sessions):
            day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
            topic = rng.choice(_TOPICS[line.audience])
            rows.append([day, topic, line.audience, people[k], hours[k]])
    rows.sort(key=lambda r: r[0])
    return rows


def _write_training(
    folder: Path, county: str, year: int, lines: Sequence[TrainingLine], style: str,
    rng: random.Random,
) -> str:  # fmt: skip
    rows = _training_rows(rng, year, lines)
    header = ["序号", "培训日期", "培训主题", "培训对象", "参训人数", "学时"]
    total = ["合计", None, None, None, sum(r[3] for r in rows), sum(r[4] for r in rows)]
    shape = _Numbered("法治培训台账", "培训台账", 0, lambda i: i % 3, (6, 14, 30, 12, 10, 8))
    return _write_numbered(folder, county, year, style, shape, header, rows, total)


@dataclass(frozen=True)
class _Numbered:
    """How a ledger with a 序号 column is written: its title, sheet, date column, the form of
    typed dates per row (CSV), column widths (workbook)."""

    title: str
    sheet: str
    date_column: int
    date_form: Callable[[int], int]
    widths: tuple[int, ...]


def _write_numbered(
    folder: Path, county: str, year: int, style: str, shape: _Numbered, header: list[str],
    rows: list[list[Any]], total: list[Any] | None = None,
) -> str:  # fmt: skip
    """A CSV with dates typed as text (messy_csv), else a workbook with a title row (and a 合计
    row when given); ``rows`` without their 序号."""
    d = shape.date_column
    if style == "messy_csv":
        name = f"{year}年{shape.title}.csv"
        body = [
            [i, *(_date_text(v, shape.date_form(i)) if j == d else v for j, v in enumerate(r))]
            for i, r in enumerate(rows, 1)
        ]
        _write_csv(folder / name, [header, *body], "utf-8-sig")
        return name
    name = f"{year}年{shape.title}.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = shape.sheet
    _title_sheet(ws, f"{county}教育局{year}年度{shape.title}", len(header))
    ws.append(header)
    for i, r in enumerate(rows, 1):
        ws.append([i, *(v.isoformat() if j == d and style == "canonical" else v
                        for j, v in enumerate(r))])  # fmt: skip
    if total:
        ws.append(total)
    _widths(ws, shape.widths)
    _save_workbook(wb, folder / name, _stamp(year))
    return name


_CAUSES = (
    "不服行政处罚决定",
    "不服信息公开答复",
    "不服办学许可审批",
    "不服行政检查结论",
    "履行法定职责",
)


def _case_rows(rng: random.Random, year: int, counts: CaseCounts) -> list[list[Any]]:
    def outcomes(n: int, corrected: int, others: Sequence[str]) -> list[str]:
        fixed = [rng.choice(("撤销", "确认违法", "责令履行")) for _ in range(corrected)]
        return fixed + [rng.choice(others) for _ in range(n - corrected)]

    review = outcomes(counts.review, counts.review_corrected, ("维持", "驳回", "撤回"))
    suits = outcomes(counts.litigation, counts.litigation_lost, ("驳回", "维持", "撤回"))
    appeared = [True] * counts.principal_appeared
    appeared += [False] * (counts.litigation - counts.principal_appeared)
    rng.shuffle(appeared)
    rows = []
    for k, outcome in enumerate(review, 1):
        day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
        rows.append(
            [f"县府复决字〔{year}〕{k}号", "行政复议", day, rng.choice(_CAUSES), outcome, ""]
        )
    for k, outcome in enumerate(suits, 1):
        day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
        number = f"（{year}）行初{10 + 7 * k}号"
        rows.append([number, "行政诉讼", day, rng.choice(_CAUSES), outcome,
                     "是" if appeared[k - 1] else "否"])  # fmt: skip
    rows.sort(key=lambda r: r[2])
    return rows


def _write_cases(
    folder: Path, county: str, year: int, counts: CaseCounts, style: str, rng: random.Random
) -> str:
    rows = _case_rows(rng, year, counts)
    header = ["序号", "案号", "案件类型", "收案日期", "案由", "处理结果", "负责人是否出庭"]
    widths = (6, 24, 12, 14, 24, 12, 16)
    shape = _Numbered("行政复议和行政应诉案件台账", "案件台账", 2, lambda _i: 1, widths)
    return _write_numbered(folder, county, year, style, shape, header, rows)
