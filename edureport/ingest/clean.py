"""The clean step: raw ledgers -> cleaned tables, rows set aside with reasons, conservation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edureport.errors import CellError, InputError, UsageError
from edureport.ingest import ids as id_cells
from edureport.ingest import normalize as nz
from edureport.ingest.csvsafe import read_csv, write_csv
from edureport.ingest.ledgers import RawLedger, find_ledgers, read_ledger
from edureport.ingest.pseudonym import pseudonyms
from edureport.ingest.specs import Field, LedgerSpec, spec
from edureport.runs.folder import CLEANED, CONSERVATION, SET_ASIDE_CSV

SET_ASIDE_COLUMNS = ["ledger", "file", "row", "column", "reason", "kind"]
SET_ASIDE, EXCLUDED = "set_aside", "excluded"  # a row that could not be used; one a rule leaves out
# What a cleaned table keeps, drops or pseudonymises is declared per field in the ledger specs
# (resources/ledgers/<kind>.yaml: personal, cleaned, pseudonym).
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell: a longer value is not a ledger entry
MAX_FEN = 2**63 - 1  # a ledger's amounts must add up inside 64-bit integers


class _Bad:
    """Marks a cell that failed its normaliser (kept in place until the row is set aside)."""

    __slots__ = ("code", "reason", "value")

    def __init__(self, reason: str, value: str | None = None, code: str | None = None) -> None:
        self.reason, self.value, self.code = reason, value, code


@dataclass
class CleanResult:
    """What the clean step produces for one county-year."""

    tables: dict[str, pd.DataFrame]
    set_aside: pd.DataFrame
    conservation: dict[str, dict[str, int]]
    sources: dict[str, str] = field(default_factory=dict)  # ledger -> file name
    stated_totals: list[dict[str, Any]] = field(default_factory=list)  # the files' 合计/小计
    notes: list[str] = field(default_factory=list)  # what the reader skipped (hidden sheets …)

    def write(self, out_dir: Path) -> None:
        """Write cleaned Parquet tables, ``set_aside.csv`` and ``conservation.json``.

        ``set_aside.csv`` is UTF-8 with BOM, and no cell of it runs as a formula in Excel.
        """
        out_dir = Path(out_dir)
        (out_dir / CLEANED).mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            frame.to_parquet(out_dir / CLEANED / f"{name}.parquet", index=False)
        write_csv(self.set_aside, out_dir / SET_ASIDE_CSV)
        meta = {
            "conservation": self.conservation,
            "sources": self.sources,
            "stated_totals": self.stated_totals,
            "notes": self.notes,
        }
        (out_dir / CONSERVATION).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
        )

    @classmethod
    def load(cls, out_dir: Path) -> CleanResult:
        """Read back what :meth:`write` wrote."""
        out_dir = Path(out_dir)
        if not (out_dir / CONSERVATION).is_file():
            raise UsageError(
                f"还没有清洗结果：请先运行第一步“清洗台账”（notebooks/1_clean.ipynb），"
                f"再运行这一步 run step 1 (clean) first: nothing cleaned in {out_dir}"
            )
        meta = json.loads((out_dir / CONSERVATION).read_text(encoding="utf-8"))
        tables = {n: pd.read_parquet(out_dir / CLEANED / f"{n}.parquet") for n in meta["sources"]}
        set_aside = read_csv(out_dir / SET_ASIDE_CSV)
        set_aside["row"] = set_aside["row"].astype("int64")
        return cls(
            tables,
            set_aside,
            meta["conservation"],
            meta["sources"],
            meta.get("stated_totals", []),
            meta.get("notes", []),
        )


def clean_folder(folder: Path, year: int) -> CleanResult:
    """Find, read and clean the ledgers of one county-year folder (the optional ones present)."""
    paths = find_ledgers(folder)
    tables: dict[str, pd.DataFrame] = {}
    aside: list[pd.DataFrame] = []
    conservation: dict[str, dict[str, int]] = {}
    stated: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in paths:
        raw = read_ledger(name, paths[name])
        cleaned, set_aside = clean_ledger(raw, year)
        tables[name] = cleaned
        aside.append(set_aside)
        conservation[name] = {
            "raw_rows": len(raw.frame),
            "cleaned_rows": len(cleaned),
            "set_aside_rows": len(set_aside),
            "excluded_rows": int((set_aside["kind"] == EXCLUDED).sum()),
            "non_data_rows": sum(raw.non_data.values()),
            **{f"non_data_{k}": v for k, v in raw.non_data.items() if v},
        }
        stated += stated_records(raw)
        notes += [f"{raw.file}：{n}" for n in raw.notes]
    all_aside = pd.concat(aside, ignore_index=True) if aside else _empty_aside()
    sources = {n: p.name for n, p in paths.items()}
    return CleanResult(tables, all_aside, conservation, sources, stated, notes)


def stated_records(raw: RawLedger) -> list[dict[str, Any]]:
    """The ledger's own 合计/小计 rows as conservation.json keeps them (for validation)."""
    return [
        {"ledger": raw.ledger, "file": _file_label(raw, t.sheet), **asdict(t), "agrees": t.agrees}
        for t in raw.stated
    ]


def _file_label(raw: RawLedger, sheet: str | None) -> str:
    """The file a row comes from, with its sheet when the ledger was read from several."""
    return f"{raw.file}［{sheet}］" if len(raw.sheets) > 1 and sheet else raw.file


# ---------------------------------------------------------------- per-ledger rules

Normaliser = Callable[[Any], Any]


def _required_text(label: str, value: Any) -> str:
    s = nz.text(value)
    if not s:
        raise CellError(f"{label}为空")
    if _ID_LIKE.search(s):  # a slid row, or an ID typed into a name column of a table kept
        raise CellError(f"{label}中有像身份证号的长串数字")
    return s


def _optional_text(value: Any) -> str | None:
    return nz.text(value) or None


def _optional_code(value: Any) -> str | None:
    """A licence or certificate number; 无, /, —, 暂无 … mean there is none."""
    return None if nz.no_value(value) else nz.text(value)


def _optional_date(value: Any) -> Any:
    return None if nz.is_blank(value) else nz.parse_date(value)


def _optional_expiry(value: Any) -> Any:
    return None if nz.is_blank(value) else nz.expiry_date(value)


def _optional_id(value: Any) -> str | None:
    return None if nz.is_blank(value) else id_cells.id_number(value)


def _in_year_date(value: Any) -> Any:
    """A date whose year is what counts (paid, started, inspected, approved): 2022年5月 will do."""
    return nz.parse_date(value, month_ok=True)


def _optional_number(value: Any) -> float | None:
    return None if nz.is_blank(value) else nz.number(value)


def _yes_no(label: str, value: Any) -> bool:
    return nz.category("registered_poor", value, label) == "是"


_TERM = re.compile(r"(\d{4})年?(春|秋)季?(学期)?")
_SCHOOL_YEAR = re.compile(r"(\d{4})[-—~至](\d{4})学年(?:度)?第?([一二12上下])学期")


def _term(value: Any) -> str:
    """2022年春季学期 (also 2022春, 2022年秋季, 2021-2022学年第二学期 = 2022年春季学期).

    Anything else is set aside: the term is part of what makes a payment a repeat, and a free
    text kept in the cleaned table could carry a name.
    """
    s = _required_text("学期", value)
    m = _TERM.fullmatch(s)
    if m:
        return f"{m.group(1)}年{m.group(2)}季学期"
    m = _SCHOOL_YEAR.fullmatch(s)
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        autumn = m.group(3) in "一1上"
        return f"{m.group(1)}年秋季学期" if autumn else f"{m.group(2)}年春季学期"
    raise CellError("学期无法识别（应写作如“2022年春季学期”“2022年秋季学期”）")


def _optional_category(kind: str, label: str, value: Any) -> str | None:
    return None if nz.is_blank(value) else nz.category(kind, value, label)


def _optional_yes_no(kind: str, label: str, value: Any) -> bool | None:
    """是/否 of a category whose values are 是 and 否 (with their variants); empty is None."""
    return None if nz.is_blank(value) else nz.category(kind, value, label) == "是"


# The normalisers a field's spec names, each made for its field and the file's units.
NORMALISERS: dict[str, Callable[[Field, dict[str, str | None]], Normaliser]] = {
    "required_text": lambda f, u: partial(_required_text, f.title),
    "optional_text": lambda f, u: _optional_text,
    "optional_code": lambda f, u: _optional_code,
    "category": lambda f, u: partial(nz.category, f.category, label=f.title),
    "optional_gender": lambda f, u: partial(_optional_category, "gender", f.title),
    "id_number": lambda f, u: id_cells.id_number,
    "optional_id": lambda f, u: _optional_id,
    "yes_no": lambda f, u: partial(_yes_no, f.title),
    "optional_yes_no": lambda f, u: partial(_optional_yes_no, str(f.category), f.title),
    "term": lambda f, u: _term,
    "money": lambda f, u: partial(nz.amount_to_fen, unit=u.get(f.name) or "元"),
    "integer": lambda f, u: nz.integer,
    "optional_number": lambda f, u: _optional_number,
    "in_year_date": lambda f, u: _in_year_date,
    "optional_date": lambda f, u: _optional_date,
    "optional_expiry": lambda f, u: _optional_expiry,
}


def _normalisers(s: LedgerSpec, units: dict[str, str | None]) -> dict[str, Normaliser]:
    return {f.name: NORMALISERS[f.normaliser](f, units) for f in s.fields}


# Bulk shortcuts for the columns with a value per person (the same normaliser in every ledger
# that has them); values they do not handle go through the normaliser above, one by one.
_FAST: dict[str, nz.Fast] = {
    "name": partial(nz.plain_texts, max_chars=MAX_CELL_CHARS),
    "id_number": id_cells.id_numbers,
}

# A roster row whose 备注/状态 says the person has left is not a current officer.
_LEFT = (
    "退休",
    "调离",
    "调出",
    "离职",
    "辞职",
    "辞退",
    "解聘",
    "开除",
    "去世",
    "死亡",
    "病故",
    "已故",
)


def _with_rules(s: LedgerSpec, f: Field, fn: Normaliser, year: int) -> Normaliser:
    """Add the one-cell rules of the spec (positive amounts and counts, the in-year date)."""
    if f.positive:

        def positive(value: Any) -> Any:
            number = fn(value)
            if number <= 0:
                raise CellError(f"{f.title}为零或负数")
            return number

        return positive
    if s.in_year == f.name:

        def in_year(value: Any) -> Any:
            day = fn(value)
            if day.year != year:
                raise CellError(f"{f.title}不在{year}年度内")
            return day

        return in_year
    return fn


class _Failures:
    """A normaliser that counts the values it could not clean (its results that are _Bad)."""

    def __init__(self, fn: Normaliser) -> None:
        self.fn, self.count = fn, 0

    def __call__(self, value: Any) -> Any:
        out = self.fn(value)
        self.count += isinstance(out, _Bad)
        return out


def _catching(fn: Normaliser) -> Normaliser:
    def run(value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            return _Bad(f"单元格内容过长（{len(value)}个字符，Excel单元格最多{MAX_CELL_CHARS}个）")
        try:
            return fn(value)
        except CellError as exc:
            return _Bad(exc.reason, getattr(exc, "value", None), getattr(exc, "code", None))

    return run


def clean_ledger(raw: RawLedger, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise one ledger; return (cleaned table, rows set aside or excluded, with reasons)."""
    s = spec(raw.ledger)
    labels = {f.name: f.title for f in s.fields}
    n = len(raw.frame)
    values: dict[str, np.ndarray] = {}
    keys: dict[str, np.ndarray] = {}  # each column's cleaned values as integer codes
    problems: dict[int, tuple[str, list[str]]] = {}  # position -> (first column, reasons)
    people = None  # the distinct cleaned values of the column that names a person

    def flag(positions: Any, column: str, reason: str) -> None:
        for pos in positions:
            _, reasons = problems.setdefault(int(pos), (labels.get(column, column), []))
            reasons.append(reason)

    for column, fn in _normalisers(s, raw.units).items():
        checked = _catching(_with_rules(s, s.field(column), fn, year))
        cells = raw.frame[column] if column in raw.frame else pd.Series([None] * n, dtype=object)
        if column == "id_number":
            _refuse_zero_filled_ids(raw, labels[column], cells)
        failed = _Failures(checked)
        fast = _FAST.get(column)
        if s.field(column).normaliser == "money":
            fast = partial(nz.plain_amounts, unit=raw.units.get(column) or "元")
        table, codes = nz.per_unique_coded(cells, failed, fast)
        is_bad = np.zeros(len(table), dtype=bool)
        is_bad[-1] = isinstance(table[-1], _Bad)  # a blank cell (code -1)
        if failed.count > is_bad[-1]:  # some value failed too: find which (else skip the scan)
            is_bad = np.fromiter((isinstance(v, _Bad) for v in table), dtype=bool)
            _refuse_whole_column(raw, column, labels, table, codes, is_bad)
        if is_bad.any():
            for pos in is_bad[codes].nonzero()[0]:
                flag([pos], column, _reason(table[codes[pos]], s.field(column)))
            table[is_bad] = None
        typed = pd.Series(table, dtype=s.field(column).dtype)  # each distinct value converted once
        values[column] = typed.take(np.where(codes < 0, len(table) - 1, codes)).reset_index(
            drop=True
        )
        found, distinct = pd.factorize(typed)
        keys[column] = found[codes]  # equal cleaned values, equal keys
        if column == s.person:
            people = distinct
    frame = pd.DataFrame(values)
    frame["row"] = keys["row"] = raw.frame["row"].to_numpy()
    if "amount" in frame:
        _refuse_overflow(raw, frame["amount"], labels["amount"])
    if {"stage", "programme"} <= set(s.columns):
        _flag_pairs(frame, flag)
    clean = np.ones(n, dtype=bool)
    clean[list(problems)] = False
    _flag_repeats(s, keys, clean, flag)
    clean[list(problems)] = False
    excluded = _excluded(s, frame, clean)
    clean[list(excluded)] = False

    sheets = raw.frame["sheet"].to_numpy() if "sheet" in raw.frame else [None] * n
    aside = pd.DataFrame(
        [
            (
                raw.ledger,
                _file_label(raw, sheets[pos]),
                int(frame["row"].iat[pos]),
                col,
                _scrub("；".join(dict.fromkeys(rs))),
                kind,
            )
            for pos, (col, rs, kind) in sorted(
                [(p, (c, r, SET_ASIDE)) for p, (c, r) in problems.items()]
                + [(p, (labels[str(s.exclude_left)], [r], EXCLUDED)) for p, r in excluded.items()]
            )
        ],
        columns=SET_ASIDE_COLUMNS,
    )
    kept = frame if clean.all() else frame[clean]  # (a new frame either way: not used again)
    kept["file"] = _file_labels(raw, clean)
    person = None if people is None else (people, keys[str(s.person)][clean])
    return _finish(s, raw, kept, person), aside


def _file_labels(raw: RawLedger, rows: np.ndarray) -> list[str] | str:
    """The file label of each row where ``rows`` is True: one string if read from one sheet,
    else one label per distinct sheet, expanded (not one Python call per row)."""
    if not rows.any():
        return []  # (as before: an empty table's file column is what pandas makes of [])
    if len(raw.sheets) <= 1 or "sheet" not in raw.frame:
        return _file_label(raw, None)
    codes, sheets = pd.factorize(raw.frame["sheet"].to_numpy()[rows], use_na_sentinel=False)
    labels = np.array([_file_label(raw, sheet) for sheet in sheets], dtype=object)
    return labels[codes].tolist()


def _reason(bad: _Bad, f: Field) -> str:
    """A set-aside reason: fixed wording, and the recognised value only in a column that holds no
    personal data and is not free text left out of the cleaned table (備注 could name someone)."""
    free_text = f.cleaned == "drop" and f.category is None
    if bad.value and not f.personal and not free_text:
        return f"{bad.reason}：{bad.value}"
    return bad.reason


def _refuse_whole_column(
    raw: RawLedger,
    column: str,
    labels: dict[str, str],
    table: np.ndarray,
    codes: np.ndarray,
    is_bad: np.ndarray,
) -> None:
    """An ID column stored as Excel numbers throughout has lost every ID: one message, not one
    set-aside row per person."""
    lost = np.fromiter(
        (isinstance(v, _Bad) and v.code == "id_as_number" for v in table), dtype=bool
    )
    filled = codes >= 0
    if filled.sum() >= 2 and lost[codes[filled]].all():
        raise InputError(
            f"“{labels[column]}”整列都是以数字格式保存的身份证号：Excel只保留15位有效数字，"
            "第15位以后的数字已经丢失，无法恢复。请在原始系统或表格中把该列设置为“文本”格式后"
            "重新导出 ID numbers stored as numbers",
            file=raw.file,
            sheet=raw.sheet,
            column=labels[column],
        )


_ZERO_FILLED = re.compile(r"\d{15}000")
_SAMPLE = 2000  # a column stored as numbers is so throughout: its first cells tell


def _refuse_zero_filled_ids(raw: RawLedger, label: str, cells: pd.Series) -> None:
    """IDs written out from Excel numbers as text: 15 digits, then the lost ones as 000.

    One real ID in about 1,100 ends in 000; when most of a column does, Excel has turned it
    into numbers (and a garbled ID passes the check digit one time in eleven).
    """
    sample = cells.dropna().head(_SAMPLE).astype(str).str.strip()
    sample = sample[sample != ""]
    if len(sample) >= 3 and sample.str.fullmatch(_ZERO_FILLED.pattern).mean() > 0.5:
        raise InputError(
            f"“{label}”列的身份证号大多以000结尾：这一列曾被Excel存成数字，第15位以后的数字"
            "已经丢失，无法恢复。请在原始系统或表格中把该列设置为“文本”格式后重新导出"
            " ID numbers stored as numbers",
            file=raw.file,
            sheet=raw.sheet,
            column=label,
        )


def _refuse_overflow(raw: RawLedger, amounts: pd.Series, label: str) -> None:
    """Refuse amounts whose sum 64-bit fen cannot hold (pandas would wrap around silently)."""
    fen = pd.to_numeric(amounts, errors="coerce").abs()
    if float(fen.sum()) > MAX_FEN / 2:
        raise InputError(
            "金额合计过大，超出可精确计算的范围（约9.2×10¹⁶元）：请检查金额的单位或数值"
            " amounts too large to add up exactly",
            file=raw.file,
            column=label,
        )


def _excluded(s: LedgerSpec, frame: pd.DataFrame, clean: np.ndarray) -> dict[int, str]:
    """Clean rows a rule leaves out, with the reason: people who have left (退休, 调离 …)."""
    if not s.exclude_left or s.exclude_left not in frame:
        return {}
    out: dict[int, str] = {}
    status = frame[s.exclude_left]
    for pos in np.flatnonzero(clean & status.notna().to_numpy()).tolist():
        word = next((w for w in _LEFT if w in str(status.iat[pos])), None)
        if word:
            out[pos] = f"备注/状态为“{word}”，不是现有执法人员，不计入人数"
    return out


_ID_LIKE = re.compile(r"\d{14,}[\dXx]*")
HIDDEN = "＊＊"


def _scrub(reason: str) -> str:
    """A reason that cannot carry an ID number: a run of 14 or more digits (an ID, or its area
    code and birth date) is hidden. (Reasons quote no raw cell: normalisers give a fixed wording
    and, at most, the recognised part of a value, shown only in ledgers without personal data.)
    """
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
    s: LedgerSpec, keys: dict[str, np.ndarray], clean: np.ndarray, flag: Callable[..., None]
) -> None:
    """Set aside exact duplicates, then repeated entries (the first occurrence stays).

    ``keys`` holds a code per cleaned value of each column (equal values, equal codes) and the
    row numbers (``row``); only the ``clean`` positions are compared.
    """
    cols = [c for c in keys if c != "row"]
    good = np.flatnonzero(clean)
    dup = _repeats(keys, cols, good)
    for pos, first in dup:
        flag([pos], "整行", f"与第{first}行完全重复")
    if s.repeat:
        key_cols, reason = list(s.repeat.columns), s.repeat.reason
        left = clean.copy()
        left[[p for p, _ in dup]] = False
        rest = np.flatnonzero(left)
        for c in key_cols:
            rest = rest[keys[c][rest] >= 0]  # an empty key cell matches nothing
        for pos, first in _repeats(keys, key_cols, rest):
            flag([pos], key_cols[-1], f"{reason}（首次见第{first}行）")


def _repeats(
    keys: dict[str, np.ndarray], cols: list[str], positions: np.ndarray
) -> list[tuple[int, int]]:
    """(position, row of first occurrence) of each later repeat among ``positions`` of the same
    codes in ``cols`` (combined arithmetically, not hashed column by column)."""
    rows = keys["row"]
    every = len(positions) == len(rows)  # (then positions is 0, 1, …: no copy of each column)
    codes = (keys[c] if every else keys[c][positions] for c in cols)
    first = nz.first_of_group(nz.group_codes(codes))
    again = np.flatnonzero(first != np.arange(len(first)))
    return [(int(positions[i]), int(rows[positions[first[i]]])) for i in again]


def _finish(
    s: LedgerSpec, raw: RawLedger, frame: pd.DataFrame, person: tuple[Any, np.ndarray] | None
) -> pd.DataFrame:
    """Pseudonymise people, drop what the spec does not keep, set dtypes and provenance.

    A person is their ID number; an officer is their certificate number, else their ID number,
    else their row (two officers who share a name are two officers): never a name alone.
    ``person``: the distinct values of the person's column and each row's code, if known.
    """
    if s.person == "officer":
        frame.insert(0, "person", _officer_keys(raw, frame))
    elif s.person and s.person in frame:
        keys = pseudonyms("id", *person) if person else pseudonyms("id", frame[s.person])
        frame.insert(0, "person", keys.set_axis(frame.index))
    elif s.person and "name" in frame:
        frame.insert(0, "person", pseudonyms(raw.ledger, frame["name"]).set_axis(frame.index))
    for f in s.fields:
        if f.cleaned == "pseudonym" and f.name in frame:
            # a certificate number is public and names its officer; a principal's school names
            # them
            keys = pseudonyms(str(f.pseudonym), frame[f.name].fillna("")).set_axis(frame.index)
            frame[f.name] = keys.where(frame[f.name].notna(), None)
    frame = frame.drop(columns=[f.name for f in s.fields if not f.kept and f.name in frame])
    for f in s.fields:
        if f.type == "money" and f.name in frame:
            frame = frame.rename(columns={f.name: f.cleaned_name})
    for f in s.fields:
        if f.type in ("money", "integer") and f.cleaned_name in frame and f.required:
            frame[f.cleaned_name] = frame[f.cleaned_name].astype("int64")
    frame.insert(0, "file", frame.pop("file"))
    frame["row"] = frame["row"].astype("int64")
    front = ["file", "row"]
    return frame[front + [c for c in frame.columns if c not in front]].reset_index(drop=True)


def _officer_keys(raw: RawLedger, frame: pd.DataFrame) -> pd.Series:
    """Each officer's pseudonym: of the certificate number, the ID number, or the row."""
    by_cert = pseudonyms("cert", frame["cert_no"].fillna("")).set_axis(frame.index)
    ids = frame["id_number"] if "id_number" in frame else pd.Series(None, index=frame.index)
    by_id = pseudonyms("id", ids.fillna("")).set_axis(frame.index)
    rows = frame["file"].astype(str) + "#" + frame["row"].astype(str)
    by_row = pseudonyms("officer-row", rows).set_axis(frame.index)
    return by_cert.where(frame["cert_no"].notna(), by_id.where(ids.notna(), by_row))


def _empty_aside() -> pd.DataFrame:
    return pd.DataFrame(columns=SET_ASIDE_COLUMNS)
