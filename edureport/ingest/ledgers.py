"""Finding a county-year's ledgers and reading each into a raw grid with its header recognised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from edureport.errors import CellError, InputError
from edureport.ingest.normalize import (
    amount_to_fen,
    integer,
    is_blank,
    match_key,
    may_equal,
    per_unique,
    split_header,
    synonyms,
    text,
)
from edureport.ingest.readers import Sheet, read_sheets
from edureport.ingest.specs import LedgerSpec, ledger_names, spec

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
HEADER_SCAN_ROWS = 30
LEDGERS = ledger_names()  # every kind, required and optional (resources/ledgers/)
MONEY_COLUMNS = ("amount",)
# Rows below the header that are not data, counted apart by kind in conservation.json (besides
# the title and header rows above). "eof": a last line holding only Ctrl-Z (0x1A).
MARKER_COLUMNS = 8  # 合计/小计/“XX 汇总” are looked for in a row's first cells
NON_DATA_KINDS = ("blank", "unit", "total", "subtotal", "repeated_header", "eof")


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
    column: str  # canonical column: amount or person_times
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


EOF_MARK = "\x1a"


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


@dataclass
class _Header:
    """The best header of one sheet: one row, or two (a group row above the column names)."""

    sheet: Sheet
    index: int  # 0-based grid row of the (last) header row
    mapping: dict[str, int]  # canonical column -> grid column
    units: dict[str, str | None]
    twice: dict[str, list[int]]  # canonical column named by more than one header cell
    names: list[Any]  # the header cells (for two rows: the names the two rows give together)
    rows: int = 1  # header rows: 1, or 2 for a group row above

    @property
    def row(self) -> int:
        return self.index + 1

    def cells(self) -> list[Any]:
        return self.names


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


def _find_header(s: LedgerSpec, sheet: Sheet) -> _Header | None:
    """The header among the first HEADER_SCAN_ROWS rows naming the most columns (at least two).

    A row may complete the row above it (a two-row header: a group cell such as 学生信息 over
    姓名 and 身份证号, or a unit such as 万元 under 金额): the two rows are then read as one
    header, ending at the lower row, when together they name more columns than either alone.
    """
    best: _Header | None = None
    above: list[Any] | None = None
    for i, row in enumerate(sheet.grid.iloc[:HEADER_SCAN_ROWS].to_numpy().tolist()):
        candidates = [(row, 1)]
        if above is not None:
            candidates.append((_two_rows(above, row), 2))
        for cells, n in candidates:
            mapping, units, twice = _match_header(s, cells)
            if len(mapping) >= 2 and (best is None or len(mapping) > len(best.mapping)):
                best = _Header(sheet, i, mapping, units, twice, cells, n)
        above = row
    return best


_UNIT_ONLY = re.compile(r"^[(（\[【]?(?:单位[:：])?(万元|元|人次|人|次|学时|小时|所|个)[)）\]】]?$")


def _unit_of(cell: Any) -> str | None:
    """The unit a cell names on its own (“（元）”, “万元”, “单位：元”), or None."""
    if not isinstance(cell, str):
        return None
    m = _UNIT_ONLY.match(text(cell))
    return m.group(1) if m else None


def _two_rows(upper: list[Any], lower: list[Any]) -> list[Any]:
    """The column names two header rows give together: the lower cell, else the upper one; a
    lower cell that is only a unit qualifies the name above it (金额 over 万元: 金额（万元）)."""
    width = max(len(upper), len(lower))
    upper = list(upper) + [None] * (width - len(upper))
    lower = list(lower) + [None] * (width - len(lower))
    out: list[Any] = []
    for up, lo in zip(upper, lower, strict=True):
        unit = _unit_of(lo)
        if is_blank(lo):
            out.append(up)
        elif unit and isinstance(up, str) and not is_blank(up) and _unit_of(up) is None:
            out.append(f"{text(up)}（{unit}）")
        else:
            out.append(lo)
    return out


_TITLE_UNIT = re.compile(r"单位[:：]?(万元|元)(?![\u4e00-\u9fff])")


def _units(
    s: LedgerSpec, path: Path, h: _Header, body: pd.DataFrame, kind: np.ndarray
) -> dict[str, str | None]:
    """The money unit of each column: from its header, a unit row under the header, or the
    title area (单位：万元). Two places that disagree, or a title naming both, are refused."""
    units = dict(h.units)
    where = {c: f"第{h.row}行表头" for c, u in units.items() if u}
    unit_rows = [i for i in range(min(2, len(kind))) if kind[i] == "unit"]
    if unit_rows:
        cells = body.iloc[unit_rows[0]].tolist()
        for c, j in h.mapping.items():
            unit = _unit_of(cells[j]) if j < len(cells) else None
            if unit in ("元", "万元"):
                _agree(path, h, c, units.get(c), unit, where.get(c), f"第{h.row + 1}行单位行")
                units[c] = unit
                where[c] = f"第{h.row + 1}行单位行"
    found: dict[str, int] = {}
    for i in range(h.index + 1 - h.rows):
        for cell in h.sheet.grid.iloc[i].tolist():
            if isinstance(cell, str):
                for m in _TITLE_UNIT.finditer(text(cell)):
                    found.setdefault(m.group(1), i + 1)
    if len(found) > 1:
        raise InputError(
            "标题区同时写了“单位：元”和“单位：万元”，无法确定金额单位 ambiguous money unit",
            file=path.name,
            sheet=h.sheet.name,
            row=max(found.values()),
        )
    if found:
        ((unit, row),) = found.items()
        for c in h.mapping:
            if c in MONEY_COLUMNS:
                _agree(path, h, c, units.get(c), unit, where.get(c), f"第{row}行标题区")
                units[c] = unit
    return units


def _agree(
    path: Path, h: _Header, column: str, have: str | None, new: str, have_at: str | None, at: str
) -> None:
    if have and have != new:
        raise InputError(
            f"金额单位前后不一致：{have_at}为{have}，{at}为{new}，无法确定金额单位"
            " conflicting money units",
            file=path.name,
            sheet=h.sheet.name,
            row=h.row,
            column=spec_label(h, column),
        )


def spec_label(h: _Header, column: str) -> str:
    j = h.mapping.get(column)
    return text(h.names[j]) if j is not None and j < len(h.names) else column


def _refuse_merged_values(s: LedgerSpec, path: Path, h: _Header) -> None:
    """A money or count cell merged over several data rows: which row holds the amount?"""
    cols = {h.mapping[c]: c for c in (*MONEY_COLUMNS, "person_times") if c in h.mapping}
    for r1, c1, r2, c2 in h.sheet.merged:
        if r2 <= h.index or r1 == r2:
            continue
        hit = [j for j in cols if c1 <= j <= c2]
        if hit:
            raise InputError(
                f"金额或人次单元格跨第{r1 + 1}—{r2 + 1}行合并，无法确定每一行的数值；请取消合并，"
                "每行填写各自的数值 merged amount cell",
                file=path.name,
                sheet=h.sheet.name,
                row=r1 + 1,
                column=spec_label(h, cols[hit[0]]),
            )


def _stated_totals(
    s: LedgerSpec,
    h: _Header,
    body: pd.DataFrame,
    kind: np.ndarray,
    units: dict[str, str | None],
    rows: np.ndarray,
) -> list[StatedTotal]:
    """Each total and subtotal row's stated amount (and person-times) beside the rows it sums."""
    marks = np.flatnonzero((kind == "total") | (kind == "subtotal"))
    if not len(marks):
        return []
    out: list[StatedTotal] = []
    for column in ("amount", "person_times"):
        j = h.mapping.get(column)
        if j is None:
            continue
        read = _reader(column, units.get(column))
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


def _reader(column: str, unit: str | None) -> Any:
    """A cell -> int (fen or count) function for stated totals; None where unreadable."""

    def read(value: Any) -> int | None:
        try:
            if column == "amount":
                return amount_to_fen(value, unit=unit or "元")
            return integer(value)
        except CellError:
            return None

    return read


def _refuse_header(
    s: LedgerSpec, path: Path, sheets: list[Sheet], headers: list[_Header]
) -> NoReturn:
    """No sheet has a header naming every required column: say what was found instead."""
    hint = _uncomputed_hint(sheets)
    if not headers:
        if all(sh.grid.empty for sh in sheets):
            raise InputError("文件中没有任何内容 no content", file=path.name)
        raise InputError(
            f"找不到{s.title}的表头：前{HEADER_SCAN_ROWS}行没有可识别的列名 no header row found"
            + hint,
            file=path.name,
        )
    h = max(headers, key=lambda x: len(x.mapping))  # the first of the best
    missing = [c for c in s.required if c not in h.mapping]
    want = "、".join(s.columns[c][0] for c in missing)
    seen = "、".join(text(c) for c in h.cells() if not is_blank(c))
    raise InputError(
        f"缺少必需的列：{want}；找到的表头 headers found: {seen} — missing required column(s)"
        + hint,
        file=path.name,
        sheet=h.sheet.name,
        row=h.row,
        column=want,
    )


def _uncomputed_hint(sheets: list[Sheet]) -> str:
    n = sum(len(sh.uncomputed) for sh in sheets)
    if not n:
        return ""
    return f"。注意：文件中有{n}个公式单元格没有保存计算结果，请用Excel或WPS打开、保存后再试"


def _refuse_uncomputed(s: LedgerSpec, path: Path, h: _Header, kind: np.ndarray) -> None:
    """A formula in a data cell whose result the file does not hold cannot be read."""
    if not h.sheet.uncomputed:
        return
    labels = {j: s.columns[c][0] for c, j in h.mapping.items()}
    first_body_row = h.index + 2  # Excel row of body position 0
    hits = [
        (r, c)
        for r, c in h.sheet.uncomputed
        if c - 1 in labels
        and 0 <= r - first_body_row < len(kind)
        and kind[r - first_body_row] == "data"
    ]
    if hits:
        r, c = min(hits)
        raise InputError(
            f"单元格是公式，但文件中没有保存公式的计算结果（共{len(hits)}个这样的单元格）："
            "请用Excel或WPS打开此文件、保存后再运行，或把公式粘贴为数值"
            " formula without a saved result",
            file=path.name,
            sheet=h.sheet.name,
            row=r,
            column=labels[c - 1],
        )


def _row_kinds(s: LedgerSpec, path: Path, h: _Header) -> np.ndarray:
    """Classify each row below the header: data, blank, total (合计…) or a repeated header.

    A row below that names the columns in another order (two tables pasted one under the other)
    is refused: reading it would put values under the wrong columns.
    """
    grid = h.sheet.grid
    body = grid.iloc[h.index + 1 :]
    header = h.cells()
    markers = {match_key(m) for m in synonyms()["total_markers"]}
    sub_markers = {match_key(m) for m in synonyms()["subtotal_markers"]}
    suffix = match_key(synonyms()["subtotal_suffix"])
    n = len(body)
    blank = np.ones(n, dtype=bool)
    for j in range(body.shape[1]):  # narrowed column by column, as for ``same`` below
        idx = np.flatnonzero(blank)
        if not idx.size:
            break
        col = body.iloc[idx, j]
        blank[idx] = (col.isna() | col.astype(str).str.strip().eq("")).to_numpy()
    # Plain cells (text() leaves them alone: most cells, e.g. every 序号) are tested in bulk;
    # match_key/text run only on the others.
    total = np.zeros(n, dtype=bool)
    subtotal = np.zeros(n, dtype=bool)
    for j in range(min(MARKER_COLUMNS, body.shape[1])):
        col = body.iloc[:, j]
        maybe = may_equal(col, markers | sub_markers | {suffix})
        keys = per_unique(col[maybe], match_key)
        total[maybe] |= np.isin(keys, list(markers))
        subtotal[maybe] |= np.array(
            [k in sub_markers or (k.endswith(suffix) and k != suffix) for k in keys], dtype=bool
        )
    header_text = [text(c) for c in header]
    same = np.full(n, sum(1 for t in header_text if t) >= 2)
    for j in range(body.shape[1]):  # narrow the candidates column by column
        idx = np.flatnonzero(same)
        if not idx.size:
            break
        want = header_text[j] if j < len(header_text) else ""
        col = body.iloc[idx, j]
        maybe = may_equal(col, [want])
        same[idx] = False
        same[idx[maybe]] = per_unique(col[maybe], lambda v, w=want: text(v) == w).astype(bool)
    for i in _header_like(s, body, h, header):
        if same[i] or blank[i] or total[i]:
            continue
        mapping, _, _ = _match_header(s, body.iloc[i].tolist())
        moved = [c for c in s.columns if c in mapping and h.mapping.get(c) != mapping[c]]
        if not moved:
            same[i] = True  # the header again (or part of it), maybe in other words
            continue
        first = moved[0]
        where = f"在第{h.mapping[first] + 1}列" if first in h.mapping else "没有此列"
        raise InputError(
            f"这一行像是另一个表头，但列的位置与第{h.row}行的表头不同"
            f"（“{s.columns[first][0]}”在第{mapping[first] + 1}列，表头中{where}）："
            "可能是几张表上下拼接在一起，请统一列的顺序 header row with other columns",
            file=path.name,
            sheet=h.sheet.name,
            row=h.index + 2 + int(i),
            column=s.columns[first][0],
        )
    kinds = np.full(n, "data", dtype=object)
    kinds[same] = "repeated_header"
    kinds[total] = "total"
    kinds[subtotal & ~total] = "subtotal"
    # a unit row sits right under the header; an end-of-file mark is the last line
    kinds[_only(body, blank, _is_unit, [0, 1])] = "unit"
    kinds[_only(body, blank, lambda v: isinstance(v, str) and v.strip() == EOF_MARK, [n - 1])] = (
        "eof"
    )
    kinds[blank] = "blank"
    return kinds


def _is_unit(value: Any) -> bool:
    return _unit_of(value) is not None


def _only(body: pd.DataFrame, blank: np.ndarray, test: Any, positions: list[int]) -> np.ndarray:
    """Which of the rows at ``positions`` (not blank) have every filled cell passing ``test``."""
    out = np.zeros(len(body), dtype=bool)
    for i in positions:
        if 0 <= i < len(body) and not blank[i]:
            cells = [v for v in body.iloc[i].tolist() if not is_blank(v)]
            out[i] = all(test(v) for v in cells)
    return out


def _header_like(s: LedgerSpec, body: pd.DataFrame, h: _Header, header: list[Any]) -> np.ndarray:
    """Positions of body rows where two or more of the used cells are column names."""
    names = {n for names in s.columns.values() for n in names}
    names |= {c for c in header if isinstance(c, str)} | {
        c.strip() for c in header if isinstance(c, str)
    }
    hits = np.zeros(len(body), dtype=np.int64)
    for j in h.mapping.values():
        hits += body.iloc[:, j].isin(names).to_numpy()
    return np.flatnonzero(hits >= 2)


def _match_header(
    s: LedgerSpec, row: list[Any]
) -> tuple[dict[str, int], dict[str, str | None], dict[str, list[int]]]:
    """Columns a row names: canonical -> position, their units, and columns named twice."""
    index = _header_index(s.name)
    mapping: dict[str, int] = {}
    units: dict[str, str | None] = {}
    twice: dict[str, list[int]] = {}
    for j, cell in enumerate(row):
        if is_blank(cell) or not isinstance(cell, str):
            continue
        key, unit = split_header(cell)
        canonical = index.get(key)
        if not canonical:
            continue
        if canonical in mapping:
            twice.setdefault(canonical, [mapping[canonical]]).append(j)
            continue
        mapping[canonical] = j
        units[canonical] = unit
    return mapping, units, twice


@cache
def _header_index(name: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, names in spec(name).columns.items():
        for n in names:
            index.setdefault(split_header(n)[0], canonical)
    return index
