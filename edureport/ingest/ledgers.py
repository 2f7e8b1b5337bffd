"""Finding a county-year's ledgers and reading each into a raw grid with its header recognised."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edureport.errors import CellError, InputError
from edureport.ingest.header import (
    NON_DATA_KINDS,
    _find_header,
    _Header,
    _refuse_header,
    _refuse_merged_values,
    _units,
)
from edureport.ingest.normalize import (
    amount_to_fen,
    integer,
    is_blank,
    per_unique,
    text,
)
from edureport.ingest.readers import Sheet, read_sheets
from edureport.ingest.rows import EOF_MARK, _refuse_uncomputed, _row_kinds
from edureport.ingest.specs import LedgerSpec, ledger_names, spec

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
LEDGERS = ledger_names()  # every kind, required and optional (resources/ledgers/)


@dataclass
class RawLedger:
    """A ledger as read: data rows (cells by canonical column) and what was not data."""

    ledger: str
    path: Path
    sheet: str | None
    header_row: int
    units: dict[str, str | None]
    frame: pd.DataFrame  # canonical columns as raw cell values, ``row`` (Excel row), ``sheet``
    non_data: dict[str, int] = field(default_factory=dict)  # kind -> count
    stated: list[StatedTotal] = field(default_factory=list)  # the file's own 合计/小计 rows
    notes: list[str] = field(default_factory=list)  # what the reader skipped, for the run log
    sheets: list[str | None] = field(default_factory=list)  # the sheets read, in order

    @property
    def file(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class StatedTotal:
    """A total or subtotal row of a ledger file, with what it states and what its rows add up to.

    ``stated`` is None when the cell cannot be read; ``computed`` sums the readable data rows
    it covers (a subtotal: the rows since the last total or subtotal row of its sheet; a total:
    since the last total row). Money in fen.
    """

    sheet: str | None
    row: int
    kind: str  # "total" or "subtotal"
    column: str  # canonical column: one the spec sums (amount, person_times, participants …)
    stated: int | None
    computed: int

    @property
    def agrees(self) -> bool:
        return self.stated == self.computed


def find_ledgers(folder: Path) -> dict[str, Path]:
    """Find each ledger in a county-year folder by the keyword in its file name (an optional
    ledger that is absent is left out; a required one is an InputError)."""
    entries, files = ledger_files(folder)
    found = {}
    for name in LEDGERS:
        if spec(name).optional_ledger and not ledger_hits(name, files):
            continue
        found[name] = find_ledger(name, folder, entries, files)
    return found


def ledger_hits(name: str, files: list[Path]) -> list[Path]:
    return [p for p in files if spec(name).keyword in text(p.stem)]


def ledger_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The folder's files, and those that can be ledgers (by suffix; no lock or hidden file)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"找不到台账文件夹 ledger folder not found: {folder}")
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as exc:
        raise InputError(
            f"无法读取台账文件夹 cannot list folder: {exc.strerror}", file=str(folder)
        ) from None
    files = [
        p for p in entries if p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", "."))
    ]
    return entries, files


def find_ledger(name: str, folder: Path, entries: list[Path], files: list[Path]) -> Path:
    """The one file of ledger ``name`` among ``files``: none or two is an InputError."""
    keyword = spec(name).keyword
    hits = ledger_hits(name, files)
    if not hits:
        listed = "、".join(p.name for p in files) or "（无）"
        raise InputError(
            f"缺少{spec(name).title}：文件名应含“{keyword}”。"
            f"文件夹中的台账文件 files found: {listed} — missing ledger '{name}'"
            + _unusable_hint(entries, files, keyword),
            file=str(folder),
        )
    if len(hits) > 1:
        raise InputError(
            f"{spec(name).title}有{len(hits)}个文件，无法确定用哪一个："
            + "、".join(p.name for p in hits)
            + f" — ledger '{name}' found twice",
            file=str(folder),
        )
    return hits[0]


def _unusable_hint(entries: list[Path], usable: list[Path], keyword: str) -> str:
    """Name files that carry the keyword but cannot be read (another format, an Excel lock file)."""
    other = [p for p in entries if p not in usable and keyword in text(p.name)]
    if not other:
        return ""
    return (
        "。含此关键词但不能读取的文件 unusable: "
        + "、".join(p.name for p in other)
        + f"（只读取{'、'.join(SUFFIXES)}；以~$或.开头的是临时文件）"
    )


def read_ledger(name: str, path: Path) -> RawLedger:
    """Read one ledger file: pick the data sheets, find the header, keep numbered data rows.

    Hidden sheets are not read (the notes name them). Merged cells give their value to every
    cell they cover. Several visible sheets with the same header (one per 学段 or per school) are
    read together, in sheet order.
    """
    path = Path(path)
    sheets = read_sheets(path)
    visible = [sh for sh in sheets if not sh.hidden]
    notes = [f"隐藏的工作表未读取 hidden sheet not read: “{sh.name}”" for sh in sheets if sh.hidden]
    if not visible:
        raise InputError(
            "文件中的工作表都是隐藏的，没有可读取的数据 every sheet is hidden", file=path.name
        )
    for sh in visible:
        _fill_merged(sh)
        if _strip_eof_mark(sh):
            notes.append("文件末尾的结束符（Ctrl-Z，0x1A）已忽略 end-of-file mark ignored")
    raw = _pick_sheets(name, path, visible)
    raw.notes[:0] = notes
    return raw


def _fill_merged(sheet: Sheet) -> None:
    """Give each merged range's value (its top-left cell) to every cell of the range."""
    grid = sheet.grid
    rows, cols = grid.shape
    for r1, c1, r2, c2 in sheet.merged:
        if r1 >= rows or c1 >= cols:
            continue
        r2, c2 = min(r2, rows - 1), min(c2, cols - 1)
        value = grid.iat[r1, c1]
        if (r1, c1) == (r2, c2) or is_blank(value):
            continue
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                grid.iat[r, c] = value


def _strip_eof_mark(sheet: Sheet) -> bool:
    """Drop a Ctrl-Z that ends the last value of a text file (a line of its own stays, as a row
    of kind "eof")."""
    grid = sheet.grid
    if sheet.name is not None or grid.empty:
        return False
    last = grid.iloc[-1]
    filled = [j for j, v in enumerate(last.tolist()) if isinstance(v, str) and v.strip()]
    if not filled:
        return False
    j = filled[-1]
    value = last.iat[j]
    if value.rstrip().endswith(EOF_MARK) and value.strip() != EOF_MARK:
        grid.iat[len(grid) - 1, j] = value.rstrip().removesuffix(EOF_MARK)
        return True
    return False


def _pick_sheets(name: str, path: Path, sheets: list[Sheet]) -> RawLedger:
    s = spec(name)
    headers = [h for h in (_find_header(s, sh) for sh in sheets) if h is not None]
    complete = [h for h in headers if all(c in h.mapping for c in s.required)]
    if not complete:
        _refuse_header(s, path, sheets, headers)
    kinds = {id(h): _row_kinds(s, path, h) for h in complete}
    with_data = [h for h in complete if (kinds[id(h)] == "data").any()] or complete[:1]
    first = with_data[0]
    for h in with_data[1:]:
        if set(h.mapping) != set(first.mapping):
            names = "、".join(f"“{x.sheet.name}”" for x in with_data)
            raise InputError(
                f"{len(with_data)}个工作表都有{s.title}的数据：{names}，但表头的列不同；请统一各工作表"
                "的表头，或删除多余的工作表 data on several sheets with different headers",
                file=path.name,
                sheet=h.sheet.name,
                row=h.row,
            )
    parts = [_read_body(s, path, h, kinds[id(h)]) for h in with_data]
    units = parts[0][1]
    for h, (_, u, _, _) in zip(with_data[1:], parts[1:], strict=True):
        if u.get("amount") != units.get("amount"):
            raise InputError(
                f"各工作表的金额单位不同（“{first.sheet.name}”为{units.get('amount') or '元'}，"
                f"“{h.sheet.name}”为{u.get('amount') or '元'}）different money units",
                file=path.name,
                sheet=h.sheet.name,
            )
    frame = pd.concat([p[0] for p in parts], ignore_index=True) if len(parts) > 1 else parts[0][0]
    non_data: dict[str, int] = {}
    stated: list[StatedTotal] = []
    for _, _, nd, st in parts:
        for k, v in nd.items():
            non_data[k] = non_data.get(k, 0) + v
        stated += st
    sheet_names = [h.sheet.name for h in with_data]
    return RawLedger(
        name,
        path,
        first.sheet.name,
        first.row,
        units,
        frame,
        non_data,
        stated,
        sheets=sheet_names,
    )


def _read_body(
    s: LedgerSpec, path: Path, h: _Header, kind: np.ndarray
) -> tuple[pd.DataFrame, dict[str, str | None], dict[str, int], list[StatedTotal]]:
    """One sheet's data rows by canonical column, its money units, non-data counts and totals."""
    if h.twice:
        canonical, cols = next(iter(h.twice.items()))
        cells = h.cells()
        named = "、".join(f"第{j + 1}列“{text(cells[j])}”" for j in cols)
        raise InputError(
            f"表头中有{len(cols)}列都表示“{s.columns[canonical][0]}”：{named}，无法确定用哪一列"
            " the same column twice",
            file=path.name,
            sheet=h.sheet.name,
            row=h.row,
            column=s.columns[canonical][0],
        )
    _refuse_uncomputed(s, path, h, kind)
    grid = h.sheet.grid
    body = grid.iloc[h.index + 1 :]
    units = _units(s, path, h, body, kind)
    _refuse_merged_values(s, path, h)
    non_data = {"title": h.index + 1 - h.rows, "header": h.rows}
    for k in NON_DATA_KINDS:
        non_data[k] = int((kind == k).sum())
    data = body[kind == "data"]
    # Columns keep the reader's dtype: Arrow text from a CSV stays Arrow (no str object per cell).
    frame = pd.DataFrame({c: data.iloc[:, j].reset_index(drop=True) for c, j in h.mapping.items()})
    for c in s.columns:
        if c not in frame.columns:
            frame[c] = None
    # Excel row number: the grid is 0-based from the sheet's first row.
    rows = np.arange(h.index + 2, h.index + 2 + len(body), dtype="int64")
    frame["row"] = rows[kind == "data"]
    frame["sheet"] = h.sheet.name
    stated = _stated_totals(s, h, body, kind, units, rows)
    return frame, units, non_data, stated


def _stated_totals(
    s: LedgerSpec,
    h: _Header,
    body: pd.DataFrame,
    kind: np.ndarray,
    units: dict[str, str | None],
    rows: np.ndarray,
) -> list[StatedTotal]:
    """Each total and subtotal row's stated amount and counts (the spec's summed columns) beside
    the rows it sums."""
    marks = np.flatnonzero((kind == "total") | (kind == "subtotal"))
    if not len(marks):
        return []
    out: list[StatedTotal] = []
    for f in s.summed:
        column = f.name
        j = h.mapping.get(column)
        if j is None:
            continue
        read = _reader(f.type == "money", units.get(column))
        values = per_unique(body.iloc[:, j], read)
        data = kind == "data"
        since = {"total": 0, "subtotal": 0}
        for pos in marks.tolist():
            k = str(kind[pos])
            cell = body.iat[pos, j]
            if is_blank(cell):
                continue
            start = since[k] if k == "subtotal" else since["total"]
            covered = [v for v in values[start:pos][data[start:pos]] if v is not None]
            out.append(
                StatedTotal(h.sheet.name, int(rows[pos]), k, column, values[pos], sum(covered))
            )
            since["subtotal"] = pos + 1
            if k == "total":
                since["total"] = pos + 1
    return sorted(out, key=lambda t: (t.row, t.column))


def _reader(money: bool, unit: str | None) -> Any:
    """A cell -> int (fen or count) function for stated totals; None where unreadable."""

    def read(value: Any) -> int | None:
        try:
            if money:
                return amount_to_fen(value, unit=unit or "元")
            return integer(value)
        except CellError:
            return None

    return read
