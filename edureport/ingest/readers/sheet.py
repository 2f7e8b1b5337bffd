"""What the readers return (:class:`Sheet`) and the limits they share."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import pandas as pd

EXCEL_MAX_ROWS = 1_048_576  # the last row of a worksheet; data there means the sheet was cut
MAX_COLUMNS = 256  # no ledger is wider; a value beyond this is a stray cell, not a column
MAX_PART_BYTES = 1 << 30  # uncompressed size of one part of an .xlsx (a larger one is a bomb)
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a long cell is the cleaner's call


@dataclass
class Sheet:
    """One worksheet (or a whole CSV) as a grid of raw cell values; row 0 is Excel row 1."""

    name: str | None
    grid: pd.DataFrame
    # (Excel row, column) of formula cells whose result was never saved in the file, 1-based.
    uncomputed: list[tuple[int, int]] = field(default_factory=list)
    # The sheet's state in the workbook is hidden or veryHidden (a CSV: False).
    hidden: bool = False
    # Merged ranges as (first_row, first_col, last_row, last_col), 0-based and inclusive in grid
    # coordinates, clipped to the grid (ranges outside it, or clipped to one cell, are left out).
    # Only the first cell of a range holds its value; the others are empty in the grid.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
