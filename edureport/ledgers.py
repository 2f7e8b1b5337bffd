"""Finding a county-year's ledgers and reading each into a raw grid with its header recognised."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .normalize import is_blank, match_key, per_unique, split_header, synonyms, text

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
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", "."))
    )
    found: dict[str, Path] = {}
    for name in LEDGERS:
        keyword = spec(name).keyword
        hits = [p for p in files if keyword in text(p.stem)]
        if not hits:
            listed = "、".join(p.name for p in files) or "（无）"
            raise InputError(
                f"缺少{spec(name).title}：文件名应含“{keyword}”。"
                f"文件夹中的台账文件 files found: {listed} — missing ledger '{name}'",
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


def read_ledger(name: str, path: Path) -> RawLedger:
    """Read one ledger file: pick the data sheet, find the header, keep numbered data rows."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到文件 file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError("文件是空的 empty file", file=path.name)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        sheets = {None: _read_csv_grid(path)}
    elif suffix == ".xls":
        sheets = _read_xls(path)
    else:
        sheets = _read_xlsx(path)
    return _pick_sheet(name, path, sheets)


def _pick_sheet(name: str, path: Path, sheets: dict[str | None, pd.DataFrame]) -> RawLedger:
    s = spec(name)
    best: tuple[int, str | None, int, dict[str, int], dict[str, str | None]] | None = None
    headers_seen: list[str] = []
    for sheet, grid in sheets.items():
        for i, row in enumerate(grid.iloc[:HEADER_SCAN_ROWS].to_numpy().tolist()):
            mapping, units = _match_header(s, row)
            if len(mapping) >= 2 and (best is None or len(mapping) > best[0]):
                best = (len(mapping), sheet, i, mapping, units)
                headers_seen = [text(c) for c in row if not is_blank(c)]
    if best is None:
        raise InputError(
            f"找不到{s.title}的表头：前{HEADER_SCAN_ROWS}行没有可识别的列名 no header row found",
            file=path.name,
        )
    _, sheet, header_index, mapping, units = best
    missing = [c for c in s.required if c not in mapping]
    if missing:
        want = "、".join(s.columns[c][0] for c in missing)
        raise InputError(
            f"缺少必需的列：{want}；找到的表头 headers found: {'、'.join(headers_seen)}"
            f" — missing required column(s)",
            file=path.name,
            sheet=sheet,
            row=header_index + 1,
            column=want,
        )
    grid = sheets[sheet]
    body = grid.iloc[header_index + 1 :]
    kinds = _row_kinds(body, grid.iloc[header_index].tolist())
    non_data = {"title": header_index, "header": 1}
    for kind in ("blank", "total", "repeated_header"):
        non_data[kind] = int((kinds == kind).sum())
    data = body[kinds == "data"]
    frame = pd.DataFrame(
        {c: data.iloc[:, j].to_numpy(dtype=object) for c, j in mapping.items()}, dtype=object
    )
    for c in s.columns:
        if c not in frame.columns:
            frame[c] = None
    # Excel row number: the grid is 0-based from the sheet's first row.
    rows = np.arange(header_index + 2, header_index + 2 + len(body), dtype="int64")
    frame["row"] = rows[kinds == "data"]
    return RawLedger(name, path, sheet, header_index + 1, units, frame, non_data)


def _row_kinds(body: pd.DataFrame, header: list[Any]) -> np.ndarray:
    """Classify each row below the header: data, blank, total (合计…) or a repeated header."""
    markers = {match_key(m) for m in synonyms()["total_markers"]}
    n = len(body)
    blank = np.ones(n, dtype=bool)
    for j in range(body.shape[1]):
        col = body.iloc[:, j]
        blank &= (col.isna() | col.astype(str).str.strip().eq("")).to_numpy()
    total = np.zeros(n, dtype=bool)
    for j in range(min(4, body.shape[1])):
        total |= per_unique(body.iloc[:, j], lambda v: match_key(v) in markers).astype(bool)
    header_text = [text(h) for h in header]
    same = np.full(n, sum(1 for h in header_text if h) >= 2)
    for j in range(body.shape[1]):  # narrow the candidates column by column
        idx = np.flatnonzero(same)
        if not idx.size:
            break
        want = header_text[j] if j < len(header_text) else ""
        same[idx] = per_unique(body.iloc[idx, j], lambda v, w=want: text(v) == w).astype(bool)
    kinds = np.full(n, "data", dtype=object)
    kinds[same] = "repeated_header"
    kinds[total] = "total"
    kinds[blank] = "blank"
    return kinds


def _match_header(s: LedgerSpec, row: list[Any]) -> tuple[dict[str, int], dict[str, str | None]]:
    index = _header_index(s.name)
    mapping: dict[str, int] = {}
    units: dict[str, str | None] = {}
    for j, cell in enumerate(row):
        if is_blank(cell) or not isinstance(cell, str):
            continue
        key, unit = split_header(cell)
        canonical = index.get(key)
        if canonical and canonical not in mapping:
            mapping[canonical] = j
            units[canonical] = unit
    return mapping, units


@cache
def _header_index(name: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, names in spec(name).columns.items():
        for n in names:
            index.setdefault(split_header(n)[0], canonical)
    return index


def decode_csv(path: Path) -> str:
    """Decode a CSV saved as UTF-8 (with or without BOM) or GBK/GB18030."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        if line > 1 and any(b >= 0x80 for b in before):
            try:
                before.decode("utf-8")
                raise InputError(
                    f"文件编码不一致：前面是UTF-8，第{line}行起不是 mixed encodings",
                    file=path.name,
                    row=line,
                ) from None
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "无法识别文件编码（应为UTF-8或GBK）undecodable encoding", file=path.name, row=line
        ) from None


def _read_csv_grid(path: Path) -> pd.DataFrame:
    content = decode_csv(path)
    if "\x00" in content:
        raise InputError("文件含有二进制内容，不是文本CSV binary content in CSV", file=path.name)
    try:
        head = list(itertools.islice(csv.reader(io.StringIO(content, newline="")), 50))
        width = max((len(r) for r in head), default=1)
        try:  # the fast reader, as wide as the widest of the first lines
            return pd.read_csv(
                io.StringIO(content),
                header=None,
                names=range(width),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
            )
        except (pd.errors.ParserError, ValueError):  # a later line is wider: read line by line
            rows = list(csv.reader(io.StringIO(content, newline="")))
            return _frame(rows)
    except csv.Error as exc:
        raise InputError(f"CSV格式错误 malformed CSV: {exc}", file=path.name) from None


def _frame(rows: Iterable[Iterable[Any]]) -> pd.DataFrame:
    """Ragged rows as an object DataFrame (short rows padded with None)."""
    return pd.DataFrame([list(r) for r in rows], dtype=object)


def _read_xlsx(path: Path) -> dict[str | None, pd.DataFrame]:
    import openpyxl

    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            "Excel文件已加密或为旧格式，请另存为不加密的.xlsx encrypted or legacy workbook",
            file=path.name,
        )
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"无法打开Excel文件（文件损坏或不是.xlsx）unreadable workbook: {type(exc).__name__}",
            file=path.name,
        ) from None
    try:
        return {ws.title: _frame(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(
            f"Excel文件内容损坏 corrupt workbook: {type(exc).__name__}", file=path.name
        ) from None
    finally:
        wb.close()


def _read_xls(path: Path) -> dict[str | None, pd.DataFrame]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:  # xlrd raises many kinds on a bad file
        raise InputError(
            f"无法打开Excel(.xls)文件 unreadable .xls: {type(exc).__name__}", file=path.name
        ) from None
    return {sh.name: _frame([sh.row_values(i) for i in range(sh.nrows)]) for sh in book.sheets()}
