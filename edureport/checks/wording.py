"""The checks in plain words: what a rule expects and what was found."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    pass

from edureport.checks.results import COLUMN_ZH, LEDGERS, NARRATIVE_CHECKS, SAFE_VALUE_COLUMNS

# --- text for people -----------------------------------------------------------------------------


def _expected_text(kind: str, kwargs: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """The rule's target in plain words, e.g. '金额为 1,000.00 元（只看学段为中等职业教育的行）';
    the suite's own ``expected`` wording where it has one (checks on derived frames)."""
    if meta.get("expected"):
        return str(meta["expected"])
    render = _EXPECTED.get(kind)
    text = render(kwargs) if render else kind
    condition = _condition_text(kwargs.get("row_condition"))
    return f"{text}（{condition}）" if condition else text


def _joined(values: Iterable[Any], sep: str = "、") -> str:
    return sep.join(map(str, values))


def _one_of(column: str, values: Iterable[Any] | None) -> str:
    shown = [_value(column, v) for v in values or ()]
    if len(shown) == 1:
        return f"{_label(column)}为{shown[0]}"
    if len(shown) <= 4:
        return f"{_label(column)}为{'、'.join(shown[:-1])}或{shown[-1]}"
    return f"{_label(column)}是以下之一：{'；'.join(shown)}"


# Python and pandas type names → words (the in-type-list checks).
_TYPE_WORDS = {"int": "整数", "float": "小数", "datetime": "日期", "str": "文字", "bool": "是/否"}


def _type_words(types: Iterable[Any]) -> str:
    words = []
    for t in types:
        word = next((w for k, w in _TYPE_WORDS.items() if k in str(t).lower()), str(t))
        if word not in words:
            words.append(word)
    return "或".join(words)


_EXPECTED: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "expect_table_columns_to_match_set": lambda kw: "表的列与数据模型一致",
    "expect_table_row_count_to_equal": lambda kw: f"共 {kw.get('value')} 行",
    "expect_column_values_to_not_be_null": lambda kw: f"{_label(kw['column'])}已填写",
    "expect_column_values_to_be_null": lambda kw: (
        NARRATIVE_CHECKS[kw["column"]][1]
        if kw["column"] in NARRATIVE_CHECKS
        else f"{_label(kw['column'])}不填"
    ),
    "expect_column_values_to_be_unique": lambda kw: f"{_label(kw['column'])}不重复",
    "expect_column_values_to_be_in_set": lambda kw: _one_of(kw["column"], kw.get("value_set")),
    "expect_column_values_to_be_between": lambda kw: _between_text(kw["column"], kw),
    "expect_column_values_to_be_in_type_list": lambda kw: (
        f"{_label(kw['column'])}为{_type_words(kw.get('type_list') or [])}"
        + ("（单位：分）" if str(kw["column"]).endswith("_fen") else "")
    ),
    "expect_compound_columns_to_be_unique": lambda kw: (
        f"同一（{_joined((_label(c) for c in kw.get('column_list') or []), '，')}）只出现一次"
    ),
}


def _between_text(column: str | None, kwargs: Mapping[str, Any]) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    dates = isinstance(low or high, str | dt.date)
    if low is not None and high is not None and dates:
        return f"{_label(column)}在 {_value(column, low)} 至 {_value(column, high)} 之间"
    parts = []
    if low is not None:
        parts.append(f"{'不早于' if dates else '不小于'} {_value(column, low)}")
    if high is not None:
        parts.append(f"{'不晚于' if dates else '不大于'} {_value(column, high)}")
    return f"{_label(column)}" + "、".join(parts)


def _condition_text(condition: Any) -> str:
    """'只看交流类型为走教的行' for a row condition (dict or GX Condition object)."""
    if condition is None:
        return ""
    if hasattr(condition, "dict"):
        condition = condition.dict()
    if not isinstance(condition, Mapping):
        return f"只看 {condition} 的行"

    def clause(c: Mapping[str, Any]) -> str:
        if c.get("type") == "and":
            return "、".join(clause(x) for x in c.get("conditions", []))
        column = (c.get("column") or {}).get("name", "?")
        op = {"==": "为", "!=": "不为"}.get(str(c.get("operator")), str(c.get("operator")))
        return f"{_label(column)}{op}{c.get('parameter')}"

    return f"只看{clause(condition)}的行"


def _found_text(
    suite: str,
    kind: str,
    kwargs: Mapping[str, Any],
    res: Mapping[str, Any],
    error: str | None,
    meta: Mapping[str, Any],
) -> str:
    if error:
        return f"无法校验：{error}"
    if kind == "expect_table_columns_to_match_set":
        mismatched = (res.get("details") or {}).get("mismatched") or {}
        extra, missing = mismatched.get("unexpected") or [], mismatched.get("missing") or []
        parts = [f"多出：{'、'.join(map(_label, extra))}"] if extra else []
        parts += [f"缺少：{'、'.join(map(_label, missing))}"] if missing else []
        return "；".join(parts) or "一致"
    if kwargs.get("column") in NARRATIVE_CHECKS and "element_count" in res:
        bad = res.get("unexpected_count") or 0
        return f"{bad} 处" if bad else "没有"
    if kind == "expect_table_row_count_to_equal":
        return f"共 {res.get('observed_value')} 行"
    if kind == "expect_column_values_to_be_in_type_list":
        return f"为{_type_words([res.get('observed_value')])}（{res.get('observed_value')}）"
    unit = "行" if suite in LEDGERS else "项"
    total, bad = res.get("element_count") or 0, res.get("unexpected_count") or 0
    if not bad:
        return f"全部 {total} {unit}符合" if total else f"没有适用的{unit}"
    text = f"{bad} {unit}不符（共 {total} {unit}）"
    counts = _value_counts(kwargs, res)
    if counts:
        column = kwargs.get("column")
        sides = meta.get("sides")
        shown = "；".join(
            (_difference(sides, value) if sides else _value(column, value))
            + (f"（{n} {unit}）" if n > 1 or not sides else "")
            for value, n in counts[:5]
        )
        sampled = len(res["unexpected_list"])
        scope = f"（前 {sampled} {unit}中）" if sampled < bad else ""
        text += f"：{scope}{shown}" + ("等" if len(counts) > 5 else "")
    return text


def _difference(sides: Iterable[str], diff: Any) -> str:
    """'台账比汇总表少 100.00 元' for a difference column holding left − right."""
    left, right, unit = sides
    number = _int_or_none(diff)
    if number is None:
        return f"{left}与{right}无法比较"
    amount = f"{_yuan(abs(number))} 元" if unit == "元" else f"{abs(number)} {unit}".rstrip()
    return f"{left}比{right}{'多' if number > 0 else '少'} {amount}"


def _value_counts(kwargs: Mapping[str, Any], res: Mapping[str, Any]) -> list[tuple[Any, int]]:
    """Offending values with their counts, for safe columns only.

    Counted from COMPLETE's unexpected_list, which GX caps at its first 200 failures
    (``great_expectations.constants.MAX_RESULT_RECORDS``).
    """
    if not _value_columns(kwargs) <= SAFE_VALUE_COLUMNS or not res.get("unexpected_list"):
        return []

    def hashable(value: Any) -> Any:
        if isinstance(value, Mapping):
            value = list(value.values())
        return tuple(map(str, value)) if isinstance(value, list | tuple) else value

    return Counter(hashable(v) for v in res["unexpected_list"]).most_common()


def _label(column: Any) -> str:
    return COLUMN_ZH.get(str(column), str(column))


def _value(column: Any, value: Any) -> str:
    if value is None or (not isinstance(value, list | tuple | str) and pd.isna(value)):
        return "（空）"
    if isinstance(value, list | tuple):
        return "/".join(_value(None, v) for v in value)
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:10]
    if isinstance(value, bool):
        return "是" if value else "否"
    if column and str(column).endswith("_fen") and _int_or_none(value) is not None:
        return f"{_yuan(int(value))} 元"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _yuan(fen: Any) -> str:
    if fen is None or pd.isna(fen):
        return "—"
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _count(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else str(int(value))


def _text(value: Any) -> str:
    return "（空）" if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _clean(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "<NA>":
        return None
    return str(value)


def _row_number(value: Any) -> int | None:
    try:
        return None if _clean(value) is None else int(value)
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number == value else None


def _value_columns(kwargs: Mapping[str, Any]) -> set[str]:
    cols = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")}
    cols |= set(kwargs.get("column_list") or ())
    cols.discard(None)
    return cols or {"<table>"}
