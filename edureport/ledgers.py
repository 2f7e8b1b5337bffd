"""Finding a county-year's ledgers and reading each into a raw grid with its header recognised."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from .errors import InputError
from .normalize import is_blank, match_key, may_equal, per_unique, split_header, synonyms, text
from .readers import Sheet, read_sheets

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
HEADER_SCAN_ROWS = 30
LEDGERS = ("aid", "control", "officers", "exchange", "inspections", "approvals")


@dataclass(frozen=True)
class LedgerSpec:
    """One ledger of ledgers.md: its keyword and columns (canonical name -> header synonyms)."""

    name: str
    title: str
    keyword: str
    columns: dict[str, tuple[str, ...]]
    optional: frozenset[str]

    @property
    def required(self) -> list[str]:
        return [c for c in self.columns if c not in self.optional]


@cache
def spec(name: str) -> LedgerSpec:
    """The spec of one ledger, read from the synonym file."""
    raw = synonyms()["ledgers"][name]
    return LedgerSpec(
        name=name,
        title=raw["title"],
        keyword=raw["keyword"],
        columns={k: tuple(v) for k, v in raw["columns"].items()},
        optional=frozenset(raw.get("optional", [])),
    )


@dataclass
class RawLedger:
    """A ledger as read: data rows (cells by canonical column) and what was not data."""

    ledger: str
    path: Path
    sheet: str | None
    header_row: int
    units: dict[str, str | None]
    frame: pd.DataFrame  # canonical columns as raw cell values, plus ``row`` (Excel row number)
    non_data: dict[str, int] = field(default_factory=dict)  # kind -> count

    @property
    def file(self) -> str:
        return self.path.name


def find_ledgers(folder: Path) -> dict[str, Path]:
    """Find each ledger in a county-year folder by the keyword in its file name."""
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
    found: dict[str, Path] = {}
    for name in LEDGERS:
        keyword = spec(name).keyword
        hits = [p for p in files if keyword in text(p.stem)]
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
        found[name] = hits[0]
    return found


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
    """Read one ledger file: pick the data sheet, find the header, keep numbered data rows."""
    path = Path(path)
    return _pick_sheet(name, path, read_sheets(path))


@dataclass
class _Header:
    """The best header row of one sheet."""

    sheet: Sheet
    index: int  # 0-based row of the grid
    mapping: dict[str, int]  # canonical column -> grid column
    units: dict[str, str | None]
    twice: dict[str, list[int]]  # canonical column named by more than one header cell

    @property
    def row(self) -> int:
        return self.index + 1

    def cells(self) -> list[Any]:
        return self.sheet.grid.iloc[self.index].tolist()


def _pick_sheet(name: str, path: Path, sheets: list[Sheet]) -> RawLedger:
    s = spec(name)
    headers = [h for h in (_find_header(s, sh) for sh in sheets) if h is not None]
    complete = [h for h in headers if all(c in h.mapping for c in s.required)]
    if not complete:
        _refuse_header(s, path, sheets, headers)
    kinds = {id(h): _row_kinds(s, path, h) for h in complete}
    with_data = [h for h in complete if (kinds[id(h)] == "data").any()]
    if len(with_data) > 1:
        names = "、".join(f"“{h.sheet.name}”" for h in with_data)
        raise InputError(
            f"{len(with_data)}个工作表都有{s.title}的数据：{names}；请把数据合并到一个工作表，"
            "或删除多余的工作表 data found on several sheets",
            file=path.name,
            sheet=with_data[1].sheet.name,
        )
    h = with_data[0] if with_data else complete[0]
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
    kind = kinds[id(h)]
    _refuse_uncomputed(s, path, h, kind)
    grid = h.sheet.grid
    body = grid.iloc[h.index + 1 :]
    non_data = {"title": h.index, "header": 1}
    for k in ("blank", "total", "repeated_header"):
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
    return RawLedger(name, path, h.sheet.name, h.row, h.units, frame, non_data)


def _find_header(s: LedgerSpec, sheet: Sheet) -> _Header | None:
    """The row among the first HEADER_SCAN_ROWS naming the most columns (at least two)."""
    best: _Header | None = None
    for i, row in enumerate(sheet.grid.iloc[:HEADER_SCAN_ROWS].to_numpy().tolist()):
        mapping, units, twice = _match_header(s, row)
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best.mapping)):
            best = _Header(sheet, i, mapping, units, twice)
    return best


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
    for j in range(min(4, body.shape[1])):
        col = body.iloc[:, j]
        maybe = may_equal(col, markers)
        total[maybe] |= per_unique(col[maybe], lambda v: match_key(v) in markers).astype(bool)
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
    kinds[blank] = "blank"
    return kinds


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
