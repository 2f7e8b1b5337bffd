"""Finding a ledger's header row (two-row headers, unit rows, units in the title area) and
matching its cells to the spec's columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from edureport.errors import InputError
from edureport.ingest.normalize import (
    is_blank,
    split_header,
    text,
)
from edureport.ingest.readers import Sheet
from edureport.ingest.specs import LedgerSpec, spec

HEADER_SCAN_ROWS = 30
MONEY_COLUMNS = ("amount",)
# Rows below the header that are not data, counted apart by kind in conservation.json (besides
# the title and header rows above). "eof": a last line holding only Ctrl-Z (0x1A).
MARKER_COLUMNS = 8  # 合计/小计/“XX 汇总” are looked for in a row's first cells
NON_DATA_KINDS = ("blank", "unit", "total", "subtotal", "repeated_header", "eof")


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
    cols = {h.mapping[f.name]: f.name for f in s.summed if f.name in h.mapping}
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


def _uncomputed_hint(sheets: list[Sheet]) -> str:
    n = sum(len(sh.uncomputed) for sh in sheets)
    if not n:
        return ""
    return f"。注意：文件中有{n}个公式单元格没有保存计算结果，请用Excel或WPS打开、保存后再试"
