"""OLE workbooks: legacy .xls read by xlrd (merges and sheet visibility), or an encrypted file."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from edureport.errors import InputError
from edureport.ingest.readers.delimited import _frame
from edureport.ingest.readers.sheet import Sheet
from edureport.ingest.readers.xlsx_scan import _clip


def _read_ole(path: Path) -> list[Sheet]:
    data = path.read_bytes()
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise _encrypted(path)
    return _read_xls(path)


def _encrypted(path: Path) -> InputError:
    return InputError(
        "Excel文件设有打开密码（已加密），无法读取：请在Excel中取消密码后另存为.xlsx"
        " encrypted workbook",
        file=path.name,
    )


@cache
def _xlrd_errors() -> tuple[type[BaseException], ...]:
    """What xlrd raises on a damaged .xls. Besides its own errors it is a parser that trusts the
    file's offsets and counts, and a damaged file stops it with these (from 6,000 mutated .xls
    files: CompDocError 35%, IndexError 24%, AssertionError 21%, struct.error 8%, XLRDError,
    RecursionError on a cyclic directory, UnicodeDecodeError, KeyError, OverflowError). Only
    ``xlrd.open_workbook`` runs inside the ``try``: nothing of this package can raise them there.
    MemoryError and TypeError are not among them.
    """
    import xlrd
    from xlrd.compdoc import CompDocError

    return (
        xlrd.XLRDError,
        CompDocError,
        struct.error,
        UnicodeDecodeError,
        IndexError,
        KeyError,
        AssertionError,
        OverflowError,
        ValueError,
        RecursionError,
        EOFError,
        OSError,
    )


def _read_xls(path: Path) -> list[Sheet]:
    import xlrd

    # formatting_info gives the merged ranges; a file whose formatting xlrd cannot read is read
    # without (and without its merged ranges), xlrd's notes on stdout then printed once, as before.
    # (xlrd raises NotImplementedError where formatting_info is not implemented.)
    for formatting_info in (True, False):
        log = {"logfile": io.StringIO()} if formatting_info else {}
        try:
            book = xlrd.open_workbook(str(path), formatting_info=formatting_info, **log)
            break
        except (*_xlrd_errors(), NotImplementedError) as exc:
            if "encrypted" in str(exc).lower():
                raise _encrypted(path) from None
            if not formatting_info:
                raise InputError(
                    f"无法打开Excel(.xls)文件（文件损坏）unreadable .xls: {type(exc).__name__}",
                    file=path.name,
                ) from None
    sheets = []
    for sh in book.sheets():  # read whole by open_workbook: nothing here parses the file
        grid = _frame(_xls_rows(xlrd, book, sh))
        merged = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
        sheets.append(
            Sheet(sh.name, grid, hidden=sh.visibility != 0, merged=_clip(merged, grid.shape))
        )
    return sheets


def _xls_rows(xlrd: Any, book: Any, sh: Any) -> Iterator[list[Any]]:
    """Cell values as Excel shows them: dates as dates, errors as #DIV/0! etc., not as codes.

    Cells that only carry a format (which formatting_info reads) are left out at the right and
    bottom, as they are without it.
    """
    special = {xlrd.XL_CELL_ERROR, xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN}
    blank = bytes([xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK])
    used = [len(bytes(sh.row_types(i)).rstrip(blank)) for i in range(sh.nrows)]
    nrows = next((i + 1 for i in range(len(used) - 1, -1, -1) if used[i]), 0)
    width = max(used, default=0)
    for i in range(nrows):
        values, types = sh.row_values(i, 0, width), sh.row_types(i, 0, width)
        if special.isdisjoint(types):
            yield values
            continue
        row = list(values)
        for j, t in enumerate(types):
            if t == xlrd.XL_CELL_ERROR:
                row[j] = xlrd.error_text_from_code.get(row[j], "#ERROR")
            elif t == xlrd.XL_CELL_BOOLEAN:
                row[j] = bool(row[j])
            elif t == xlrd.XL_CELL_DATE:
                try:
                    row[j] = xlrd.xldate_as_datetime(row[j], book.datemode)
                except (ValueError, OverflowError):  # an impossible serial stays a number; the
                    pass  # cleaner refuses it (xlrd's XLDateError is a ValueError)
        yield row
