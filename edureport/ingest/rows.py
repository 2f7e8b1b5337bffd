"""What each row under the header is: data, or blank, unit, total, subtotal, a repeated header,
an end-of-file mark; formulas without results refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edureport.errors import InputError
from edureport.ingest.header import (
    MARKER_COLUMNS,
    _Header,
    _match_header,
    _unit_of,
)
from edureport.ingest.normalize import (
    is_blank,
    match_key,
    may_equal,
    per_unique,
    per_unique_coded,
    synonyms,
    text,
)
from edureport.ingest.specs import LedgerSpec

EOF_MARK = "\x1a"  # Ctrl-Z, an old DOS end-of-file mark


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
        keys, codes = per_unique_coded(col[maybe], match_key)  # tested once per distinct value
        total[maybe] |= np.array([k in markers for k in keys], dtype=bool)[codes]
        subtotal[maybe] |= np.array(
            [k in sub_markers or (k.endswith(suffix) and k != suffix) for k in keys], dtype=bool
        )[codes]
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
