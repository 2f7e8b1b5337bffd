"""The clean step: raw ledgers -> cleaned tables, rows set aside with reasons, conservation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import normalize as nz
from .csvsafe import read_csv, write_csv
from .errors import CellError
from .ledgers import LEDGERS, RawLedger, find_ledgers, read_ledger
from .pseudonym import pseudonyms

SET_ASIDE_COLUMNS = ["ledger", "file", "row", "column", "reason"]
PERSONAL = ("name", "id_number")
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell: a longer value is not a ledger entry


class _Bad:
    """Marks a cell that failed its normaliser (kept in place until the row is set aside)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass
class CleanResult:
    """What the clean step produces for one county-year."""

    tables: dict[str, pd.DataFrame]
    set_aside: pd.DataFrame
    conservation: dict[str, dict[str, int]]
    sources: dict[str, str] = field(default_factory=dict)  # ledger -> file name

    def write(self, out_dir: Path) -> None:
        """Write cleaned Parquet tables, ``set_aside.csv`` and ``conservation.json``.

        ``set_aside.csv`` is UTF-8 with BOM, and no cell of it runs as a formula in Excel.
        """
        out_dir = Path(out_dir)
        (out_dir / "cleaned").mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            frame.to_parquet(out_dir / "cleaned" / f"{name}.parquet", index=False)
        write_csv(self.set_aside, out_dir / "set_aside.csv")
        meta = {"conservation": self.conservation, "sources": self.sources}
        (out_dir / "conservation.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )

    @classmethod
    def load(cls, out_dir: Path) -> CleanResult:
        """Read back what :meth:`write` wrote."""
        out_dir = Path(out_dir)
        tables = {n: pd.read_parquet(out_dir / "cleaned" / f"{n}.parquet") for n in LEDGERS}
        set_aside = read_csv(out_dir / "set_aside.csv")
        set_aside["row"] = set_aside["row"].astype("int64")
        meta = json.loads((out_dir / "conservation.json").read_text(encoding="utf-8"))
        return cls(tables, set_aside, meta["conservation"], meta["sources"])


def clean_folder(folder: Path, year: int) -> CleanResult:
    """Find, read and clean the six ledgers of one county-year folder."""
    paths = find_ledgers(folder)
    tables: dict[str, pd.DataFrame] = {}
    aside: list[pd.DataFrame] = []
    conservation: dict[str, dict[str, int]] = {}
    for name in LEDGERS:
        raw = read_ledger(name, paths[name])
        cleaned, set_aside = clean_ledger(raw, year)
        tables[name] = cleaned
        aside.append(set_aside)
        conservation[name] = {
            "raw_rows": len(raw.frame),
            "cleaned_rows": len(cleaned),
            "set_aside_rows": len(set_aside),
            "non_data_rows": sum(raw.non_data.values()),
        }
    all_aside = pd.concat(aside, ignore_index=True) if aside else _empty_aside()
    return CleanResult(tables, all_aside, conservation, {n: p.name for n, p in paths.items()})


# ---------------------------------------------------------------- per-ledger rules

Normaliser = Callable[[Any], Any]


def _required_text(label: str, value: Any) -> str:
    s = nz.text(value)
    if not s:
        raise CellError(f"{label}为空")
    return s


def _optional_text(value: Any) -> str | None:
    return nz.text(value) or None


def _optional_date(value: Any) -> Any:
    return None if nz.is_blank(value) else nz.parse_date(value)


def _optional_number(value: Any) -> float | None:
    return None if nz.is_blank(value) else nz.number(value)


def _yes_no(value: Any) -> bool:
    return nz.category("registered_poor", value) == "是"


_TERM = re.compile(r"(\d{4})年?(春|秋)")


def _term(value: Any) -> str:
    s = _required_text("学期", value)
    m = _TERM.search(s)
    return f"{m.group(1)}年{m.group(2)}季学期" if m else s


def _normalisers(ledger: str, units: dict[str, str | None]) -> dict[str, Normaliser]:
    cat = lambda kind: partial(nz.category, kind)  # noqa: E731
    req = lambda label: partial(_required_text, label)  # noqa: E731
    money = partial(nz.amount_to_fen, unit=units.get("amount") or "元")
    table: dict[str, dict[str, Normaliser]] = {
        "aid": {
            "school": req("学校名称"),
            "stage": cat("stage"),
            "programme": cat("programme"),
            "name": req("学生姓名"),
            "id_number": nz.id_number,
            "registered_poor": _yes_no,
            "term": _term,
            "amount": money,
            "paid_on": nz.parse_date,
        },
        "control": {
            "stage": cat("stage"),
            "programme": cat("programme"),
            "person_times": nz.integer,
            "amount": money,
        },
        "officers": {
            "name": req("姓名"),
            "gender": lambda v: None if nz.is_blank(v) else nz.category("gender", v),
            "unit": _optional_text,
            "cert_no": _optional_text,
            "cert_issued": _optional_date,
            "cert_valid_until": _optional_date,
            "employment": cat("employment"),
            "training_hours": _optional_number,
        },
        "exchange": {
            "name": req("姓名"),
            "id_number": nz.id_number,
            "role": cat("role"),
            "kind": cat("kind"),
            "from_school": req("原学校"),
            "to_school": req("交流学校"),
            "start_on": nz.parse_date,
        },
        "inspections": {
            "institution": req("机构名称"),
            "inst_type": cat("inst_type"),
            "licence": _optional_text,
            "inspected_on": nz.parse_date,
            "result": cat("result"),
        },
        "approvals": {
            "institution": req("机构名称"),
            "inst_type": cat("inst_type"),
            "approved_on": nz.parse_date,
            "licence": _optional_text,
        },
    }
    return table[ledger]


# Bulk shortcuts for the columns with a value per person (the same normaliser in every ledger
# that has them); values they do not handle go through the normaliser above, one by one.
_FAST: dict[str, nz.Fast] = {
    "name": partial(nz.plain_texts, max_chars=MAX_CELL_CHARS),
    "id_number": nz.id_numbers,
}

_IN_YEAR = {
    "aid": "paid_on",
    "exchange": "start_on",
    "inspections": "inspected_on",
    "approvals": "approved_on",
}
_DATE_LABEL = {
    "paid_on": "发放日期",
    "start_on": "开始日期",
    "inspected_on": "检查日期",
    "approved_on": "审批日期",
}
# Columns that identify a repeated entry beyond exact duplicates, with the reason given.
_REPEATS = {
    "aid": (["id_number", "programme", "term"], "同一学生同一项目同一学期重复发放"),
    "control": (["stage", "programme"], "同一学段和资助项目重复出现"),
}


def _with_rules(ledger: str, column: str, fn: Normaliser, year: int) -> Normaliser:
    """Add the one-cell rules (positive aid amounts, dates in the report year) to a normaliser."""
    if ledger == "aid" and column == "amount":

        def positive(value: Any) -> int:
            fen = fn(value)
            if fen <= 0:
                raise CellError("金额为零或负数")
            return fen

        return positive
    if _IN_YEAR.get(ledger) == column:

        def in_year(value: Any) -> Any:
            day = fn(value)
            if day.year != year:
                raise CellError(f"{_DATE_LABEL[column]}不在{year}年度内")
            return day

        return in_year
    return fn


def _catching(fn: Normaliser) -> Normaliser:
    def run(value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return _Bad(f"单元格内容过长（{len(value)}个字符，Excel单元格最多{MAX_CELL_CHARS}个）")
        try:
            return fn(value)
        except CellError as exc:
            return _Bad(exc.reason)

    return run


def clean_ledger(raw: RawLedger, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise one ledger; return (cleaned table, rows set aside with reasons)."""
    from .ledgers import spec

    labels = {c: names[0] for c, names in spec(raw.ledger).columns.items()}
    n = len(raw.frame)
    values: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}  # each column's cleaned values as integer codes
    problems: dict[int, tuple[str, list[str]]] = {}  # position -> (first column, reasons)

    def flag(positions: Any, column: str, reason: str) -> None:
        for pos in positions:
            _, reasons = problems.setdefault(int(pos), (labels.get(column, column), []))
            reasons.append(reason)

    for column, fn in _normalisers(raw.ledger, raw.units).items():
        checked = _catching(_with_rules(raw.ledger, column, fn, year))
        cells = raw.frame[column] if column in raw.frame else pd.Series([None] * n, dtype=object)
        table, codes = nz.per_unique_coded(cells, checked, _FAST.get(column))
        is_bad = np.fromiter((isinstance(v, _Bad) for v in table), dtype=bool, count=len(table))
        if is_bad.any():
            for pos in is_bad[codes].nonzero()[0]:
                flag([pos], column, table[codes[pos]].reason)
            table[is_bad] = None
        values[column] = nz.expand(table, codes, _DTYPES.get(column, "str"))
        keys[column] = pd.factorize(table)[0][codes]  # equal cleaned values, equal keys
    frame = pd.DataFrame(values)
    frame["row"] = keys["row"] = raw.frame["row"].to_numpy()
    if raw.ledger in ("aid", "control"):
        _flag_pairs(frame, flag)
    clean = np.ones(n, dtype=bool)
    clean[list(problems)] = False
    _flag_repeats(raw.ledger, pd.DataFrame(keys), clean, flag)
    clean[list(problems)] = False

    personal = any(c in spec(raw.ledger).columns for c in PERSONAL)
    aside = pd.DataFrame(
        [
            (
                raw.ledger,
                raw.file,
                int(frame["row"].iat[pos]),
                col,
                _scrub("；".join(dict.fromkeys(rs)), personal),
            )
            for pos, (col, rs) in sorted(problems.items())
        ],
        columns=SET_ASIDE_COLUMNS,
    )
    return _finish(raw, frame[clean].copy()), aside


_ID_LIKE = re.compile(r"\d{14,}[\dXx]*")
_QUOTED = re.compile(r"：[^；]*")
HIDDEN = "＊＊"


def _scrub(reason: str, personal: bool) -> str:
    """A reason that cannot carry a name or an ID number.

    Reasons quote the cell they could not read ("学段无法识别：大学"). In a ledger of people, a row
    whose cells slid one column (a stray or missing comma) puts the name or the ID number in
    another column, so there the quote is left out: file, row and column say where to look.
    Anywhere, a run of 14 or more digits (an ID, or its area code and birth date) is hidden.
    """
    if personal:
        reason = _QUOTED.sub("", reason)
    return _ID_LIKE.sub(HIDDEN, reason)


def _flag_pairs(frame: pd.DataFrame, flag: Callable[..., None]) -> None:
    """Set aside rows naming a programme that does not exist for their stage."""
    pairs = {(p["stage"], p["programme"]) for p in nz.synonyms()["programmes"]}
    both = frame[["stage", "programme"]].dropna()
    combos = both.drop_duplicates()
    wrong = {tuple(c) for c in combos.itertuples(index=False, name=None)} - pairs
    if wrong:
        keys = pd.MultiIndex.from_frame(both)
        mask = keys.isin(list(wrong))
        flag(
            np.flatnonzero(frame.index.isin(both.index[mask])), "programme", "该学段没有此资助项目"
        )


def _flag_repeats(
    ledger: str, frame: pd.DataFrame, clean: np.ndarray, flag: Callable[..., None]
) -> None:
    """Set aside exact duplicates, then repeated entries (the first occurrence stays).

    ``frame`` holds a code per cleaned value (equal values, equal codes) and the row numbers.
    """
    cols = [c for c in frame.columns if c != "row"]
    good = frame[clean]
    dup = _repeats(good, cols)
    for pos, first in dup:
        flag([pos], "整行", f"与第{first}行完全重复")
    if ledger in _REPEATS:
        key_cols, reason = _REPEATS[ledger]
        rest = good.drop(index=[p for p, _ in dup])
        for pos, first in _repeats(rest, key_cols):
            flag([pos], key_cols[-1], f"{reason}（首次见第{first}行）")


def _repeats(frame: pd.DataFrame, cols: list[str]) -> list[tuple[int, int]]:
    """(position, row of first occurrence) of each later repeat of the same values in ``cols``."""
    again = frame.duplicated(subset=cols, keep="first").to_numpy()
    if not again.any():
        return []
    first = frame.groupby(cols, sort=False, dropna=False)["row"].transform("first").to_numpy()
    return [(int(frame.index[i]), int(first[i])) for i in np.flatnonzero(again)]


_DATE_COLUMNS = (
    "paid_on",
    "cert_issued",
    "cert_valid_until",
    "start_on",
    "inspected_on",
    "approved_on",
)


# The cleaned columns' dtypes (text columns are ``str``). Whole numbers are nullable while bad
# cells are still in the table; the rows kept have none, and _finish makes them int64.
_DTYPES = {
    **dict.fromkeys(_DATE_COLUMNS, "datetime64[ns]"),
    "amount": "Int64",
    "person_times": "Int64",
    "training_hours": "float64",
    "registered_poor": "boolean",
}


def _finish(raw: RawLedger, frame: pd.DataFrame) -> pd.DataFrame:
    """Pseudonymise people, drop personal columns, set dtypes and provenance."""
    if "id_number" in frame:
        frame.insert(0, "person", pseudonyms("id", frame["id_number"]).set_axis(frame.index))
    elif "name" in frame:
        frame.insert(0, "person", pseudonyms(raw.ledger, frame["name"]).set_axis(frame.index))
    frame = frame.drop(columns=[c for c in PERSONAL if c in frame])
    if "amount" in frame:
        frame = frame.rename(columns={"amount": "amount_fen"})
    for col in ("amount_fen", "person_times"):
        if col in frame:
            frame[col] = frame[col].astype("int64")
    frame.insert(0, "file", raw.file)
    frame["row"] = frame["row"].astype("int64")
    front = ["file", "row"]
    return frame[front + [c for c in frame.columns if c not in front]].reset_index(drop=True)


def _empty_aside() -> pd.DataFrame:
    return pd.DataFrame(columns=SET_ASIDE_COLUMNS)
