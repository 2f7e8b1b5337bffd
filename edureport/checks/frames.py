"""The frames the suites run on: each ledger as validated, and the derived frames (aid
against control, rotation head counts, row conservation, set-aside rows, stated totals,
the narrative's problems)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edureport.ingest.normalize import group_codes
from edureport.ingest.specs import spec

if TYPE_CHECKING:
    pass

from edureport.checks.results import (
    CONTROLLED,
    DATE_COLUMNS,
    HELPER_COLUMNS,
    LEDGERS,
    NARRATIVE_CHECKS,
    SUITE_TITLES,
)
from edureport.checks.wording import _count, _int_or_none, _text, _yuan
from edureport.runs.folder import CONSERVATION

# --- frames --------------------------------------------------------------------------------------


def build_frames(
    tables: Mapping[str, pd.DataFrame],
    conservation: Mapping[str, Mapping[str, int]],
    set_aside: pd.DataFrame | None = None,
    stated_totals: Iterable[Mapping[str, Any]] = (),
    accepted: Iterable[Any] = (),
    narrative: Iterable[Mapping[str, Any]] = (),
) -> dict[str, pd.DataFrame]:
    """The frame each suite runs on: the ledgers (an optional one only if present) plus six
    derived frames."""
    ledgers = {
        name: _ledger_frame(name, tables.get(name))
        for name in LEDGERS
        if name in tables or not spec(name).optional_ledger
    }
    derived = {
        "aid_control": _derived(aid_control_frame, ledgers["aid"], ledgers["control"]),
        "exchange_rotation": _derived(exchange_rotation_frame, ledgers["exchange"]),
        "conservation": conservation_frame(ledgers, conservation),
        "set_aside": set_aside_frame(set_aside, accepted),
        "stated_totals": stated_totals_frame(list(stated_totals)),
        "narrative": narrative_frame(narrative),
    }
    checked = {name: _categorical(frame) for name, frame in ledgers.items()}
    for name, frame in checked.items():  # from the categoricals: their pairs are few
        _add_helper_keys(name, frame)
    return {**checked, **derived}


# Text columns with few distinct values (and never personal data). GX runs them as pandas
# categoricals: hashing the batch, row conditions (``stage == …``) and in-set checks then work on
# small integer codes instead of millions of strings (B2 in docs/performance.md). Values, nulls
# and what the checks report are unchanged.
CATEGORICAL_COLUMNS = frozenset(
    {f.name for name in LEDGERS for f in spec(name).fields if f.category}
    | set("file school term stage_programme programme_registered_poor unit to_school".split())
)


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its :data:`CATEGORICAL_COLUMNS` of text as categoricals (same values)."""
    columns = [
        c
        for c in frame.columns
        if c in CATEGORICAL_COLUMNS
        and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)
        and not isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]
    if not columns:
        return frame
    frame = frame.copy(deep=False)
    for c in columns:
        codes, uniques = pd.factorize(frame[c], use_na_sentinel=True)
        if len(uniques) and not all(isinstance(u, str) for u in uniques):
            continue  # mixed cell types: leave as they are, so type checks see them
        frame[c] = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    return frame


def _ledger_frame(name: str, table: pd.DataFrame | None) -> pd.DataFrame:
    """The table with its date columns as datetime64[ns] (GX's fast path); a shallow copy."""
    frame = pd.DataFrame() if table is None else table.copy(deep=False)
    for column in DATE_COLUMNS.get(name, ()):
        if column in frame.columns and frame[column].dtype != "datetime64[ns]":
            converted = pd.to_datetime(frame[column], errors="coerce")
            frame[column] = converted.dt.tz_localize(None).astype("datetime64[ns]")
    return frame


def _add_helper_keys(name: str, frame: pd.DataFrame) -> None:
    """Add the "a/b" key columns HELPER_COLUMNS names for this ledger (null where a part is
    missing)."""
    helpers = HELPER_COLUMNS.get(name, ())
    if "stage_programme" in helpers and {"stage", "programme"} <= set(frame.columns):
        frame["stage_programme"] = _join_keys(frame["stage"], frame["programme"])
    if "programme_registered_poor" in helpers and {"programme", "registered_poor"} <= set(
        frame.columns
    ):
        poor = frame["registered_poor"].map({True: "是", False: "否"}, na_action="ignore")
        frame["programme_registered_poor"] = _join_keys(frame["programme"], poor)


def _join_keys(a: pd.Series, b: pd.Series) -> pd.Series:
    """``"a/b"`` per row, null where either part is null, built once per distinct pair."""
    codes_a, uniques_a = pd.factorize(a, use_na_sentinel=True)
    codes_b, uniques_b = pd.factorize(b, use_na_sentinel=True)
    width = max(len(uniques_b), 1)
    pair = codes_a.astype("int64") * width + codes_b
    pair[(codes_a < 0) | (codes_b < 0)] = -1
    pair_codes, pairs = pd.factorize(pair)
    labels = [None if p < 0 else f"{uniques_a[p // width]}/{uniques_b[p % width]}" for p in pairs]
    keys = pd.Index([x for x in labels if x is not None], dtype=object).unique()
    position = {k: i for i, k in enumerate(keys)}
    lookup = np.array([-1 if x is None else position[x] for x in labels], dtype="int64")
    codes = lookup[pair_codes] if len(pair_codes) else pair_codes
    return pd.Series(pd.Categorical.from_codes(codes, categories=keys), index=a.index)


def _key(a: str, b: str | bool) -> str:
    if isinstance(b, bool):
        b = "是" if b else "否"
    return f"{a}/{b}"


def _derived(builder: Any, *frames: pd.DataFrame) -> pd.DataFrame:
    """A derived frame; if its inputs are unusable (a missing column, text amounts), two rows
    whose differences are null, so the "reconciled"/"computed" checks fail visibly."""
    try:
        return builder(*frames)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        return pd.DataFrame(
            {
                "file": [None, None], "row": pd.array([None, None], dtype="Int64"),
                "item": [f"无法核对：{type(exc).__name__} {exc}"[:200]] * 2,
                "level": ["项目", "合计"],
                "diff_person_times": pd.array([None, None], dtype="Int64"),
                "diff_amount_fen": pd.array([None, None], dtype="Int64"),
                "diff": pd.array([None, None], dtype="Int64"),
            }
        )  # fmt: skip


def aid_control_frame(aid: pd.DataFrame, control: pd.DataFrame) -> pd.DataFrame:
    """Per (stage, programme): aid person-times and fen beside control's, and the differences.

    Outer merge: a pair missing from control has null differences (→ not reconciled); a pair
    missing from aid counts as 0 disbursements. A final 合计 row compares the grand totals.
    """
    keys = ["stage", "programme"]
    aid = aid.assign(amount_fen=_numeric(aid["amount_fen"]))
    control = control.assign(
        person_times=_numeric(control["person_times"]), amount_fen=_numeric(control["amount_fen"])
    )
    a = aid.groupby(keys, dropna=False, sort=False).agg(
        aid_person_times=("amount_fen", "size"),
        aid_amount_fen=("amount_fen", "sum"),
        aid_file=("file", "first"),
        aid_row=("row", "min"),
    )
    c = control.groupby(keys, dropna=False, sort=False).agg(
        control_person_times=("person_times", lambda s: s.sum(min_count=1)),
        control_amount_fen=("amount_fen", lambda s: s.sum(min_count=1)),
        control_file=("file", "first"),
        control_row=("row", "min"),
    )
    m = a.join(c, how="outer").reset_index()
    for col in ("aid_person_times", "aid_amount_fen"):
        m[col] = m[col].astype("Int64").fillna(0)
    for col in ("control_person_times", "control_amount_fen"):
        m[col] = m[col].astype("Int64")
    m["diff_person_times"] = m["aid_person_times"] - m["control_person_times"]
    m["diff_amount_fen"] = m["aid_amount_fen"] - m["control_amount_fen"]
    m["file"] = m["control_file"].fillna(m["aid_file"])
    m["row"] = m["control_row"].astype("Int64").fillna(m["aid_row"].astype("Int64"))
    m["level"] = "项目"
    m["item"] = [_pair_label(r) for r in m.itertuples()]
    return pd.concat([m, _total_row(aid, control)], ignore_index=True)[
        ["file", "row", "item", "level", "stage", "programme", "aid_person_times",
         "control_person_times", "diff_person_times", "aid_amount_fen", "control_amount_fen",
         "diff_amount_fen"]
    ]  # fmt: skip


def _numeric(values: pd.Series) -> pd.Series:
    """Numbers as nullable integers; text that is not a whole number becomes null."""
    numbers = pd.to_numeric(values, errors="coerce")
    whole = numbers.where(numbers.round() == numbers)
    return whole.astype("Int64")


def _total_row(aid: pd.DataFrame, control: pd.DataFrame) -> pd.DataFrame:
    aid_pt, aid_amt = len(aid), int(aid["amount_fen"].sum())
    ctl_pt, ctl_amt = int(control["person_times"].sum()), int(control["amount_fen"].sum())
    label = (
        f"合计：台账 {aid_pt} 人次、{_yuan(aid_amt)} 元；汇总表 {ctl_pt} 人次、{_yuan(ctl_amt)} 元"
    )
    files = "、".join(sorted(control["file"].dropna().astype(str).unique()))
    return pd.DataFrame(
        {
            "file": [files or None], "row": pd.array([None], dtype="Int64"), "item": [label],
            "level": ["合计"], "stage": ["合计"], "programme": ["合计"],
            "aid_person_times": pd.array([aid_pt], dtype="Int64"),
            "control_person_times": pd.array([ctl_pt], dtype="Int64"),
            "diff_person_times": pd.array([aid_pt - ctl_pt], dtype="Int64"),
            "aid_amount_fen": pd.array([aid_amt], dtype="Int64"),
            "control_amount_fen": pd.array([ctl_amt], dtype="Int64"),
            "diff_amount_fen": pd.array([aid_amt - ctl_amt], dtype="Int64"),
        }
    )  # fmt: skip


def _pair_label(r: Any) -> str:
    control = (
        "汇总表无此项"
        if pd.isna(r.control_person_times) and pd.isna(r.control_amount_fen)
        else f"汇总表 {_count(r.control_person_times)} 人次、{_yuan(r.control_amount_fen)} 元"
    )
    return (
        f"{_text(r.stage)}/{_text(r.programme)}：台账 {_count(r.aid_person_times)} 人次、"
        f"{_yuan(r.aid_amount_fen)} 元；{control}"
    )


def exchange_rotation_frame(exchange: pd.DataFrame) -> pd.DataFrame:
    """One row: distinct people in 交流轮岗, and how many of them are teachers / principals."""
    rotation = exchange[exchange["kind"] == "交流轮岗"]
    people = rotation["person"].nunique()
    teachers = rotation.loc[rotation["role"] == "教师", "person"].nunique()
    principals = rotation.loc[rotation["role"] == "校长", "person"].nunique()
    files = "、".join(sorted(exchange["file"].dropna().astype(str).unique()))
    return pd.DataFrame(
        {
            "file": [files or None], "row": pd.array([None], dtype="Int64"),
            "item": [f"交流轮岗 {people} 人；其中教师 {teachers} 人，校长 {principals} 人"],
            "rotations": [people], "teachers": [teachers], "principals": [principals],
            "diff": pd.array([teachers + principals - people], dtype="Int64"),
        }
    )  # fmt: skip


def conservation_frame(
    tables: Mapping[str, pd.DataFrame], conservation: Mapping[str, Mapping[str, int]]
) -> pd.DataFrame:
    """One row per ledger: raw = cleaned + set aside, and cleaned = rows actually validated."""
    rows = []
    for ledger in dict.fromkeys([*tables, *conservation]):
        counts = conservation.get(ledger) or {}
        raw, cleaned, aside = (
            _int_or_none(counts.get(k)) for k in ("raw_rows", "cleaned_rows", "set_aside_rows")
        )
        table_rows = len(tables[ledger]) if ledger in tables else None
        rows.append(
            {
                "file": CONSERVATION, "row": None,
                "item": f"{ledger}（{SUITE_TITLES.get(ledger, ledger)}）：原始 {_count(raw)} 行，"
                        f"清洗后 {_count(cleaned)} 行，剔除 {_count(aside)} 行，"
                        f"表中 {_count(table_rows)} 行",
                "raw_rows": raw, "cleaned_rows": cleaned, "set_aside_rows": aside,
                "table_rows": table_rows,
                "diff_rows": None if None in (raw, cleaned, aside) else raw - cleaned - aside,
                "diff_table": None if None in (cleaned, table_rows) else cleaned - table_rows,
            }
        )  # fmt: skip
    frame = pd.DataFrame(rows)
    for col in ("row", "raw_rows", "cleaned_rows", "set_aside_rows", "table_rows", "diff_rows",
                "diff_table"):  # fmt: skip
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    return frame


ASIDE_COLUMNS = ("file", "row", "item", "ledger", "kind", "accounted_by")
STALE = "stale_acceptance"  # a row config.yaml accepts that is not among the set-aside rows


def set_aside_frame(set_aside: pd.DataFrame | None, accepted: Iterable[Any]) -> pd.DataFrame:
    """One row per set-aside or excluded row, with what accounts for it (null: nothing).

    A row a rule excludes (an officer who has retired) is accounted for by that rule; a row of
    the aid ledger or the control sheet by the reconciliation between the two; any other by the
    analyst's acceptance in config.yaml (file, row and reason). Accepted rows that match no
    set-aside row are added as rows of their own kind, so that a stale acceptance is seen.
    """
    accepted = list(accepted)
    by_place = {(a.file, a.row): a for a in accepted}
    rows = []
    used: set[tuple[str, int]] = set()
    if set_aside is not None:
        for r in set_aside.itertuples(index=False):
            kind = getattr(r, "kind", "set_aside") or "set_aside"
            place = (str(r.file), int(r.row))
            if kind == "excluded":
                by = "规则：不计入（见原因）"
            elif r.ledger in CONTROLLED:
                by = CONTROLLED[r.ledger]
            elif place in by_place:
                by = f"config.yaml 确认：{by_place[place].reason}"
                used.add(place)
            else:
                by = None
            title = SUITE_TITLES.get(r.ledger, r.ledger)
            item = f"{title}：{r.column}：{r.reason}"
            rows.append((r.file, int(r.row), item, r.ledger, kind, by))
    for a in accepted:
        if (a.file, a.row) not in used:
            rows.append(
                (a.file, a.row, f"config.yaml 确认的行不是本次剔除的行：{a.reason}", "", STALE, "—")
            )
    frame = pd.DataFrame(rows, columns=list(ASIDE_COLUMNS))
    frame["row"] = pd.array(frame["row"].tolist(), dtype="Int64")
    return frame


def _accepted_found(aside: pd.DataFrame, accepted: Any) -> bool:
    hit = aside[(aside["file"] == accepted.file) & (aside["row"] == accepted.row)]
    return bool(len(hit)) and not (hit["kind"] == STALE).all()


def set_aside_summary(
    aside: pd.DataFrame, conservation: Mapping[str, Mapping[str, int]]
) -> list[dict[str, Any]]:
    """Per ledger: rows set aside, excluded by a rule, accepted, accounted for and not."""
    out = []
    for ledger in [n for n in LEDGERS if n in conservation or not spec(n).optional_ledger]:
        mine = aside[aside["ledger"] == ledger]
        problems = mine[mine["kind"] == "set_aside"]
        accepted = problems["accounted_by"].fillna("").str.startswith("config.yaml")
        out.append(
            {
                "ledger": ledger,
                "title": SUITE_TITLES[ledger],
                "raw_rows": (conservation.get(ledger) or {}).get("raw_rows"),
                "set_aside": len(problems),
                "excluded": int((mine["kind"] == "excluded").sum()),
                "controlled": ledger in CONTROLLED,
                "accepted": int(accepted.sum()),
                "unaccounted": int(problems["accounted_by"].isna().sum()),
                "reasons": _reason_counts(mine),
            }
        )
    return out


def _reason_counts(rows: pd.DataFrame, most: int = 5) -> dict[str, int]:
    """The commonest reasons (column: reason) of a ledger's set-aside rows, with their counts."""
    if rows.empty:
        return {}
    reasons = rows["item"].str.split("：", n=1).str[1]
    return {str(k): int(v) for k, v in reasons.value_counts().head(most).items()}


STATED_COLUMNS = (
    "file", "row", "item", "ledger", "kind", "column", "stated", "computed", "diff_amount_fen",
    "diff_person_times",
)  # fmt: skip


def stated_totals_frame(stated: list[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per total or subtotal row found in a ledger file: stated, summed, difference."""
    rows = []
    for t in stated:
        f = spec(t["ledger"]).field(t["column"])
        money = f.type == "money"
        show = _yuan if money else _count
        unit = "元" if money else f.unit
        what = "合计" if t["kind"] == "total" else "小计"
        label = f.title
        stated_text = "无法读取" if t["stated"] is None else f"{show(t['stated'])} {unit}"
        diff = None if t["stated"] is None else t["stated"] - t["computed"]
        diffs = (diff, None) if money else (None, diff)
        title = SUITE_TITLES.get(t["ledger"], t["ledger"])
        item = (
            f"{title}{what}行（{label}）：表中写 {stated_text}，"
            f"其上各行相加为 {show(t['computed'])} {unit}"
        )
        rows.append(
            (t["file"], t["row"], item, t["ledger"], t["kind"], t["column"], t["stated"],
             t["computed"], *diffs)
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(STATED_COLUMNS))
    for col in ("row", "stated", "computed", "diff_amount_fen", "diff_person_times"):
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    return frame


NARRATIVE_COLUMNS = ("file", "row", "item", *NARRATIVE_CHECKS)


def narrative_frame(problems: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per problem of the narrative: ``file`` (narrative.md), ``row`` (its line, or
    null for the whole file), ``item`` (what is missing or unfinished, with line and column),
    and the item again in the column of its check (:data:`NARRATIVE_CHECKS`), the others null.
    No problem, no row: every check passes."""
    rows = []
    for p in problems:
        row = {"file": p.get("file"), "row": p.get("row"), "item": str(p["item"])}
        row |= dict.fromkeys(NARRATIVE_CHECKS)
        row[p["check"]] = str(p["item"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(NARRATIVE_COLUMNS)).astype(object)
    frame["row"] = pd.array(frame["row"].tolist(), dtype="Int64")
    return frame


# --- compact frames ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compact:
    """A frame's rows grouped by what a suite's row checks read: one row per group (its first
    row, all columns as they are) and how many rows of the frame it stands for."""

    frame: pd.DataFrame
    weights: np.ndarray


def compact_frame(
    frame: pd.DataFrame,
    by_value: Iterable[str],
    by_null: Iterable[str] = (),
    unique: Iterable[Iterable[str]] = (),
) -> Compact:
    """Group ``frame``'s rows by the values of ``by_value`` and whether ``by_null`` is null.

    Rows that repeat another's values in one of the ``unique`` column lists (null equal to
    null, as ``DataFrame.duplicated``) stay rows of their own. Any other two rows of the
    compact frame therefore differ in every ``unique`` list, though they keep only one row's
    value of a ``by_null`` column: a uniqueness check finds the same repeated rows in it, and
    every check of one row's values (null, in a set, between, under a row condition on
    ``by_value`` columns) the same verdict per group as for each row the group stands for.
    """
    n = len(frame)
    columns = [_codes(frame[c]) for c in by_value]
    columns += [frame[c].isna().to_numpy(dtype=np.int64) for c in by_null]
    single = np.zeros(n, dtype=bool)
    for names in unique:
        same = pd.factorize(group_codes(_codes(frame[c]) for c in names))[0]
        single |= np.bincount(same)[same] > 1
    if single.any():  # each repeated row a group of its own
        columns.append(np.where(single, np.arange(n), -1))
    key = group_codes(columns) if columns else np.zeros(n, dtype=np.int64)
    group = pd.factorize(key)[0]  # numbered in order of first appearance
    first = np.empty(int(group.max(initial=-1)) + 1, dtype=np.int64)
    first[group[::-1]] = np.arange(n - 1, -1, -1)  # the last write, the first row, wins
    return Compact(frame.take(first), np.bincount(group).astype(np.int64))


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column: -1 for null, equal values equal codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return pd.factorize(values, use_na_sentinel=True)[0]
