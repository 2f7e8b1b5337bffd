"""The true records of one canonical county, the figures they must yield, and writers for the
ledgers in the shapes real bureau offices export (used by test_real_exports.py).

The truth is rebuilt from the generator's record functions with the seeds ``write_county_year``
uses; :func:`canonical_county` checks it against the canonical CSVs (read with the csv module),
so that a change in the generator shows up here, not as a wrong figure in some case.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl

import synthetic as syn

COUNTY, YEAR, SEED = "合成县", 2023, 5
YEAR_END = date(YEAR, 12, 31)
PROGRAMME_KEYS = {
    ("学前教育", "学前教育资助"): "preschool",
    ("义务教育", "家庭经济困难学生生活费补助"): "compulsory_living",
    ("普通高中", "国家助学金"): "highschool_grant",
    ("普通高中", "建档立卡学生免学费、免书费、免住宿费"): "highschool_poor",
    ("中等职业教育", "国家助学金"): "vocational_grant",
    ("中等职业教育", "免学费"): "vocational_tuition",
    ("中等职业教育", "免书费、免住宿费"): "vocational_books",
}
AID_HEADER = list(syn.AID_HEADER)
CONTROL_HEADER = list(syn.CONTROL_HEADER)
OFFICER_HEADER = list(syn.OFFICER_HEADER)
EXCHANGE_HEADER = list(syn.EXCHANGE_HEADER)
INSPECTION_HEADER = list(syn.INSPECTION_HEADER)
APPROVAL_HEADER = list(syn.APPROVAL_HEADER)


# ---------------------------------------------------------------- the truth


@dataclass(frozen=True)
class Truth:
    """Every true record of one county-year. An officer with a certificate and no end date
    holds it 长期 (for good)."""

    aid: tuple[syn.AidRecord, ...]
    control: tuple[tuple[str, str, int, int], ...]  # stage, programme, person-times, fen
    officers: tuple[syn.Officer, ...]
    exchange: tuple[syn.Exchange, ...]
    inspections: tuple[syn.Inspection, ...]
    approvals: tuple[syn.Approval, ...]

    def control_lines(self) -> dict[tuple[str, str], tuple[int, int]]:
        return {(s, p): (n, fen) for s, p, n, fen in self.control}


def true_records(county: str, year: int, targets: syn.Targets, seed: int) -> Truth:
    """The records ``write_county_year(..., style="canonical")`` writes, drawn the same way."""

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{county}:{year}:{part}")

    schools = syn.school_catalogue(county)
    people = syn._People(rng("people"), syn.area_code(county))
    aid = syn._aid_records(rng("aid"), people, schools, year, targets)
    officers = syn._officers(rng("officers"), people, county, year, targets)
    exchange = syn._exchanges(rng("exchange"), people, schools, year, targets)
    book = syn._Institutions(rng("institutions"), county, schools)
    inspections = syn._inspections(rng("inspections"), book, year, targets)
    approvals = syn._approvals(rng("approvals"), book, year, targets)
    control = tuple(
        (a.stage, a.programme, a.person_times, a.amount_fen) for a in targets.aid if a.person_times
    )
    return Truth(
        tuple(aid),
        control,
        tuple(officers),
        tuple(exchange),
        tuple(inspections),
        tuple(approvals),
    )


def figures(t: Truth, end: date = YEAR_END) -> dict[str, int]:
    """The report's figures, computed here from the true records (money in fen)."""
    out = {
        "aid_total_count": len(t.aid),
        "aid_total_amount": sum(r.amount_fen for r in t.aid),
    }
    for pair, key in PROGRAMME_KEYS.items():
        rows = [r for r in t.aid if (r.stage, r.programme) == pair]
        out[f"aid_{key}_count"] = len(rows)
        out[f"aid_{key}_amount"] = sum(r.amount_fen for r in rows)
    rotation = [e for e in t.exchange if e.kind == "交流轮岗"]
    itinerant = [e for e in t.exchange if e.kind == "走教"]
    out["exchange_total"] = len({e.id_no for e in rotation})
    out["exchange_teachers"] = len({e.id_no for e in rotation if e.role == "教师"})
    out["exchange_principals"] = len({e.id_no for e in rotation if e.role == "校长"})
    out["itinerant_teachers"] = len({e.id_no for e in itinerant})
    out["itinerant_schools"] = len({e.to_school for e in itinerant})
    ins = t.inspections
    out["inspected_passed"] = len({i.institution.name for i in ins if i.result == "合格"})
    out["unlicensed_closed"] = len(
        {
            i.institution.name
            for i in ins
            if i.result == "取缔"
            and i.institution.kind == "校外培训机构"
            and i.institution.licence is None
        }
    )
    out["inspected_rectify"] = len({i.institution.name for i in ins if i.result == "限期整改"})
    out["inspected_total"] = len({i.institution.name for i in ins})
    out["kindergartens_approved"] = len(
        {a.institution.name for a in t.approvals if a.institution.kind == "民办幼儿园"}
    )
    out["officers_total"] = len(t.officers)
    out["officers_certified"] = sum(
        1
        for o in t.officers
        if o.cert_no
        and (o.issued is None or o.issued <= end)
        and (o.valid_until is None or o.valid_until >= end)
    )
    out["officers_non_staff"] = sum(1 for o in t.officers if o.employment != "在编")
    return out


# ---------------------------------------------------------------- cells


def yuan(fen: int) -> int | float:
    """An amount as an Excel number: int when whole yuan, else the two-decimal float."""
    return fen // 100 if fen % 100 == 0 else fen / 100


def yuan_text(fen: int) -> str:
    yuan_part, cents = divmod(fen, 100)
    return f"{yuan_part}.{cents:02d}"


def aid_row(r: syn.AidRecord, serial: int) -> list[Any]:
    """An aid row as Excel cells (numbers and dates typed)."""
    return [
        serial,
        r.school,
        r.stage,
        r.programme,
        r.name,
        r.id_no,
        "是" if r.poor else "否",
        r.term,
        yuan(r.amount_fen),
        r.paid_on,
    ]


def aid_text_row(r: syn.AidRecord, serial: int) -> list[Any]:
    """An aid row as the canonical CSV has it."""
    row = aid_row(r, serial)
    row[8] = yuan_text(r.amount_fen)
    return row


def control_row(line: tuple[str, str, int, int]) -> list[Any]:
    stage, programme, n, fen = line
    return [stage, programme, n, yuan(fen)]


def officer_row(o: syn.Officer) -> list[Any]:
    valid = "长期" if o.cert_no and o.valid_until is None else o.valid_until
    return [o.name, o.gender, o.unit, o.cert_no, o.issued, valid, o.employment, o.hours]


def exchange_row(e: syn.Exchange) -> list[Any]:
    return [e.name, e.id_no, e.role, e.kind, e.from_school, e.to_school, e.start]


def inspection_row(i: syn.Inspection) -> list[Any]:
    inst = i.institution
    return [inst.name, inst.kind, inst.licence, i.day, i.result]


def approval_row(a: syn.Approval) -> list[Any]:
    inst = a.institution
    return [inst.name, inst.kind, a.day, inst.licence]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


# ---------------------------------------------------------------- writers


def write_csv(
    path: Path,
    rows: Iterable[Sequence[Any]],
    encoding: str = "utf-8",
    sep: str = ",",
    tail: bytes = b"",
) -> Path:
    """A CSV as an office saves it. ``cp936``: GBK with Windows' euro sign (byte 0x80);
    ``utf-16``: Excel's "Unicode text" (little-endian with BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerows([cell_text(v) for v in row] for row in rows)
    content = buffer.getvalue()
    if encoding == "cp936":
        data = b"\x80".join(part.encode("gbk") for part in content.split("€"))
    elif encoding == "utf-16":
        data = b"\xff\xfe" + content.encode("utf-16-le")
    else:
        data = content.encode(encoding)
    path.write_bytes(data + tail)
    return path


@dataclass
class Sheet:
    """One worksheet to write: rows from Excel row 1, merged ranges (A1:B2), visibility."""

    name: str
    rows: list[list[Any]]
    merges: list[str] = field(default_factory=list)
    hidden: bool = False


def write_book(path: Path, *sheets: Sheet) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.name)
        for row in s.rows:
            ws.append(row)
        for ref in s.merges:
            ws.merge_cells(ref)
        if s.hidden:
            ws.sheet_state = "hidden"
    wb.active = next(i for i, s in enumerate(sheets) if not s.hidden)
    wb.save(path)
    return path


def exact_numbers(path: Path, sheet: int, cells: dict[str, float]) -> Path:
    """Give number cells (by reference, e.g. I2) every digit of ``repr``, as Excel saves them:
    openpyxl writes 16 significant digits, which drops binary noise (1000.0000000000001)."""
    part = f"xl/worksheets/sheet{sheet}.xml"
    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            if info.filename == part:
                xml = data.decode("utf-8")
                for ref, value in cells.items():
                    pattern = f'(<c r="{ref}"[^>]*t="n"[^>]*><v>)[^<]*(</v>)'
                    xml, n = re.subn(pattern, rf"\g<1>{value!r}\g<2>", xml)
                    assert n == 1, f"no number cell {ref} in {part}"
                data = xml.encode("utf-8")
            zout.writestr(info, data)
    return path


# ---------------------------------------------------------------- the canonical county


@dataclass(frozen=True)
class County:
    """The canonical county-year folder and its true records."""

    folder: Path
    files: dict[str, str]  # ledger -> canonical file name
    truth: Truth

    def copy(self, root: Path) -> Path:
        """A fresh copy of the canonical folder, as ``root/<county>/<year>``."""
        target = root / COUNTY / str(YEAR)
        shutil.copytree(self.folder, target)
        return target

    def swap(self, folder: Path, ledger: str, name: str) -> Path:
        """Remove the ledger's canonical file from ``folder``; the path to write it anew."""
        (folder / self.files[ledger]).unlink()
        return folder / name


def canonical_rows(t: Truth) -> dict[str, list[list[str]]]:
    """The data rows each canonical CSV must hold for the truth, as text."""
    rows: dict[str, list[list[Any]]] = {
        "aid": [aid_text_row(r, i) for i, r in enumerate(t.aid, start=1)],
        "control": [[s, p, n, yuan_text(fen)] for s, p, n, fen in t.control],
        "officers": [officer_row(o) for o in t.officers],
        "exchange": [exchange_row(e) for e in t.exchange],
        "inspections": [inspection_row(i) for i in t.inspections],
        "approvals": [approval_row(a) for a in t.approvals],
    }
    return {k: [[cell_text(v) for v in row] for row in v] for k, v in rows.items()}


def canonical_county(root: Path) -> County:
    """Write the canonical county once; check that the rebuilt truth is what was written."""
    targets = replace(
        syn.random_targets(random.Random(SEED), size=(0.05, 0.08)),
        officers_uncertified=0,
        officers_contract=0,
        banned_unlicensed=6,
    )
    folder = root / "canonical"
    manifest = syn.write_county_year(folder, COUNTY, YEAR, targets, SEED, style="canonical")
    truth = true_records(COUNTY, YEAR, targets, SEED)
    for ledger, want in canonical_rows(truth).items():
        with open(folder / manifest.files[ledger], encoding="utf-8", newline="") as fh:
            got = list(csv.reader(fh))[1:]
        assert got == want, f"rebuilt truth differs from the canonical {ledger} ledger"
    return County(folder, dict(manifest.files), truth)
