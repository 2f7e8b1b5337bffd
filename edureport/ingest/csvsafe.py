"""CSV files analysts open in Excel: no cell may run as a formula (OWASP "CSV injection").

A text cell beginning with ``= + - @``, a tab or a carriage return is written with a leading
single quote, so Excel and WPS show it as text. A cell that already begins with a quote gets one
more, so that :func:`restore_frame` gives back exactly what was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(value: Any) -> Any:
    """The cell as it is safe to write: text beginning with a trigger is quoted."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """The inverse of :func:`neutralise` (for reading our own CSV back)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised (column names too)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it was before :func:`neutralise_frame`."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(restore)
    out.columns = [restore(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as UTF-8 with BOM and CRLF (what Excel on Chinese Windows reads),
    neutralised; a cell holding a line break is quoted, so it stays one cell."""
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def read_csv(path: Path) -> pd.DataFrame:
    """Read back a CSV written by :func:`write_csv` (all columns as text)."""
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return restore_frame(frame)
