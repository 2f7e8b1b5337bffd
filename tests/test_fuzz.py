"""Fuzzing: byte-level mutations of the real sample ledgers end in a result or the project's error.

Each sample file of data/raw/示例县/2022 is mutated (bits flipped, bytes set, inserted, deleted,
repeated, the file cut short; for workbooks also inside one unzipped part, e.g. the sheet XML), then
read and cleaned. The outcome must be a cleaned table whose rows add up, or InputError naming the
file (or CellError); never another exception. CI runs a bounded number of examples per file;
``EDUREPORT_FUZZ_EXAMPLES=2000`` runs more, and ``bench/fuzz_ledgers.py`` runs thousands with a
summary of what was found.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edureport.errors import CellError, InputError
from edureport.ingest.clean import clean_ledger
from edureport.ingest.ledgers import LEDGERS, read_ledger, spec

from .conftest import SAMPLE_DIR

EXAMPLES = int(os.environ.get("EDUREPORT_FUZZ_EXAMPLES", "15"))
YEAR = 2022

# Bytes worth inserting: structure of CSV and XML, encodings, odd numbers, formulas, markers.
TOKENS = [
    b",",
    b'"',
    b"\n",
    b"\r",
    b"\t",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"<",
    b">",
    b"&",
    b"</c>",
    b"</row>",
    b'<row r="1048576">',
    b'r="0"',
    b'r="A1"',
    b'r="XFD1"',
    b"<f>SUM(A1:A9)</f>",
    b"<v></v>",
    b"<v>1E+308</v>",
    b"<v>-1</v>",
    b"<v>99999999</v>",
    b't="e"',
    b't="b"',
    b't="d"',
    b't="s"',
    b't="inlineStr"',
    b's="9999"',
    b"=cmd|' /C calc'!A0",
    b"1e999999999",
    b"9999-12-31",
    b"NaN",
    b"-0",
    "合计".encode(),
    "学段".encode(),
    "金额（万元）".encode(),
    "１２３．４５".encode(),
    "学校名称".encode("gbk"),
    "身份证号".encode("gb18030"),
]
OPS = ("flip", "set", "insert", "token", "delete", "repeat", "truncate")
Mutation = tuple[str, int, int, int]


def mutate(data: bytes, ops: list[Mutation]) -> bytes:
    """Apply ``(op, position, size, value)`` mutations in turn; positions wrap around."""
    buf = bytearray(data)
    for op, position, size, value in ops:
        if not buf:
            buf = bytearray(TOKENS[value % len(TOKENS)])
            continue
        at = position % len(buf)
        if op == "flip":
            buf[at] ^= 1 << (value % 8)
        elif op == "set":
            buf[at] = value % 256
        elif op == "insert":
            buf[at:at] = bytes([value % 256]) * size
        elif op == "token":
            buf[at:at] = TOKENS[value % len(TOKENS)]
        elif op == "delete":
            del buf[at : at + size]
        elif op == "repeat":
            buf[at:at] = buf[at : at + size * 8]
        elif op == "truncate":
            del buf[at:]
    return bytes(buf)


# Cell values worth trying: totals and headers in the wrong place, odd numbers and dates, text that
# is markup or a formula, sizes at Excel's limits, typed values a workbook can hold.
CELL_VALUES: list[object] = [
    "",
    " ",
    "\u3000",
    "合计",
    "小计",
    "学段",
    "金额（万元）",
    "身份证号",
    "1e999999999",
    "-0",
    "0.001",
    "１,０００.００元",
    "9999-12-31",
    "1900-01-00",
    "2022/13/45",
    "44625.5",
    "2958466",
    "=1+1",
    "@SUM(1)",
    "+1",
    "<img src=x onerror=alert(1)>",
    "NaN",
    "inf",
    "11010519491231002X",
    "x" * 40_000,
    '"',
    "a,b",
    "a\nb",
    "2022年春季学期",
    "是",
    "普高",
    "建档立卡三免",
    "走教",
    "取缔",
    0,
    -1,
    1e308,
    float("nan"),
    True,
    10**20,
    dt.date(2022, 3, 5),
    dt.datetime(1900, 1, 1),
    dt.time(12, 0),
    dt.timedelta(days=3),
    "=A1",
    "=SUM(I1:I9)",
]
CELL_OPS = ("cell", "cell", "cell", "drop", "add", "dupline", "delline", "swap")


def mutate_csv_cells(data: bytes, ops: list[Mutation]) -> bytes:
    """Change cells, shift a row by a cell, repeat, drop or swap lines of a CSV; same encoding."""
    encoding = "utf-8-sig" if _is_utf8(data) else "gb18030"
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    for op, position, _, value in ops:
        if not rows:
            break
        i = position % len(rows)
        row = rows[i]
        j = value % (len(row) + 1)
        if op == "cell" and row:
            row[j % len(row)] = str(CELL_VALUES[value % len(CELL_VALUES)])
        elif op == "drop" and row:
            del row[j % len(row)]
        elif op == "add":
            row.insert(j, str(CELL_VALUES[value % len(CELL_VALUES)]))
        elif op == "dupline":
            rows.insert(i, list(row))
        elif op == "delline":
            del rows[i]
        elif op == "swap":
            k = value % len(rows)
            rows[i], rows[k] = rows[k], rows[i]
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def mutate_xlsx_cells(data: bytes, ops: list[Mutation]) -> bytes:
    """Set cells of a workbook (any sheet) to odd values, typed as a workbook can hold them."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for op, position, size, value in ops:
        ws = wb.worksheets[size % len(wb.worksheets)]
        row = 1 + position % max(ws.max_row, 1)
        col = 1 + value % max(ws.max_column, 1)
        cell = ws.cell(row, col)
        if type(cell).__name__ == "MergedCell":
            continue
        if op == "delline":
            ws.delete_rows(row)
        elif op == "dupline":
            ws.insert_rows(row)
        else:
            cell.value = CELL_VALUES[(position // 7 + value) % len(CELL_VALUES)]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def mutate_part(data: bytes, part: str, ops: list[Mutation]) -> bytes:
    """Mutate one part of a zip (a workbook) and zip it again."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == part:
                body = mutate(body, ops)
            zout.writestr(item, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@cache
def targets() -> dict[str, tuple[str, bytes]]:
    """The sample files by name: (ledger, bytes). The aid workbook is cut to its first 60 rows
    (same sheets, title, merged cells and formats) so that each example reads in milliseconds;
    bench/fuzz_ledgers.py also fuzzes the full file."""
    found: dict[str, tuple[str, bytes]] = {}
    for path in sorted(SAMPLE_DIR.iterdir()):
        ledger = next((n for n in LEDGERS if spec(n).keyword in path.name), None)
        if ledger and path.suffix in (".csv", ".xlsx"):
            data = path.read_bytes()
            found[path.name] = (ledger, _cut(data, 60) if ledger == "aid" else data)
    return found


def _cut(data: bytes, rows: int) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        if ws.max_row > rows:
            ws.delete_rows(rows + 1, ws.max_row - rows)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def parts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]


def run_one(ledger: str, name: str, data: bytes) -> str:
    """Read and clean one (mutated) file; the outcome in words. Other exceptions propagate."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            raw = read_ledger(ledger, path)
            cleaned, aside = clean_ledger(raw, YEAR)
        except InputError as exc:
            assert exc.file == name, str(exc)
            assert "\n" not in str(exc)
            return "refused: " + re.sub(r"[\d：:（(].*", "", exc.detail)[:24]
        except CellError:
            return "cell error"
        assert len(raw.frame) == len(cleaned) + len(aside)
        return "read"


def _mutations(ops: tuple[str, ...]) -> st.SearchStrategy[list[Mutation]]:
    return st.lists(
        st.tuples(
            st.sampled_from(ops),
            st.integers(0, 2**31),
            st.integers(1, 64),
            st.integers(0, 2**16),
        ),
        min_size=1,
        max_size=6,
    )


mutations = _mutations(OPS)
cell_mutations = _mutations(CELL_OPS)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_targets_are_the_sample_files() -> None:
    assert {ledger for ledger, _ in targets().values()} == set(LEDGERS)


@pytest.mark.parametrize("name", sorted(targets()))
@FUZZ
@given(ops=mutations)
def test_mutated_file(name: str, ops: list[Mutation]) -> None:
    ledger, data = targets()[name]
    run_one(ledger, name, mutate(data, ops))


@pytest.mark.parametrize("name", [n for n in sorted(targets()) if n.endswith(".xlsx")])
@FUZZ
@given(data=st.data(), ops=mutations)
def test_mutated_workbook_part(name: str, data: st.DataObject, ops: list[Mutation]) -> None:
    ledger, original = targets()[name]
    part = data.draw(st.sampled_from(parts(original)), label="part")
    run_one(ledger, name, mutate_part(original, part, ops))


@pytest.mark.parametrize("name", sorted(targets()))
@FUZZ
@given(ops=cell_mutations)
def test_mutated_cells(name: str, ops: list[Mutation]) -> None:
    ledger, data = targets()[name]
    change = mutate_csv_cells if name.endswith(".csv") else mutate_xlsx_cells
    run_one(ledger, name, change(data, ops))
