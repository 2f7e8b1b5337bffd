"""The policy values one county-year is checked against.

National defaults live in ``resources/standards.yaml``. A county-year folder
(``data/raw/<county>/<year>/``) may hold a ``config.yaml`` that overrides them and declares the
values only the county knows (the officer count it reported, the report date). Without that file
the national defaults apply and checks that need a declared value are "not configured".

Two keys serve the narrative's number audit: ``manual_figures`` declares the numbers no ledger
holds (value, unit, label and the document they come from), which the narrative may then
reference like computed ones; ``fixed_phrases`` lists phrases whose numerals are not counts
(七五普法, 十四五).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from edureport import paths
from edureport.errors import InputError

CONFIG_NAME = "config.yaml"
STANDARDS_PATH = paths.RESOURCES_DIR / "standards.yaml"
CONFIG_KEYS = (
    "declared_officers",
    "report_date",
    "training_hours_required",
    "standards",
    "accepted_set_aside",
    "manual_figures",
    "fixed_phrases",
)
MANUAL_KEYS = ("value", "unit", "label", "source")
_FIGURE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Accepted:
    """A set-aside row the analyst has looked at and accepts leaving out, with the reason."""

    file: str
    row: int
    reason: str


@dataclass(frozen=True)
class ManualFigure:
    """A number no ledger holds, declared in config.yaml with the document it comes from.

    ``value`` is exact: a count, or fen when ``unit`` is 万元 (config gives 万元).
    """

    key: str
    value: int
    unit: str
    label: str
    source: str
    line: int | None = None  # of its key in config.yaml, for messages


@dataclass(frozen=True)
class Standard:
    """A programme's standard amount(s) per disbursement, in fen."""

    code: str
    stage: str
    programme: str
    amounts_fen: tuple[int, ...]


@dataclass(frozen=True)
class Policy:
    """The policy values for one county-year (immutable)."""

    year: int
    report_date: dt.date
    training_hours_required: float
    declared_officers: int | None
    valid_pairs: tuple[tuple[str, str], ...]
    registered_poor_only: tuple[str, ...]
    standards: tuple[Standard, ...]
    source: str | None = None
    overridden: tuple[str, ...] = field(default=())
    accepted: tuple[Accepted, ...] = field(default=())
    manual_figures: tuple[ManualFigure, ...] = field(default=())
    fixed_phrases: tuple[str, ...] = field(default=())

    @property
    def year_start(self) -> dt.datetime:
        """First instant of the report year."""
        return dt.datetime(self.year, 1, 1)

    @property
    def year_end(self) -> dt.datetime:
        """Last second of the report year."""
        return dt.datetime(self.year, 12, 31, 23, 59, 59)


def load_policy(county_year_dir: Path, year: int) -> Policy:
    """National defaults overridden by ``<county_year_dir>/config.yaml`` when it exists.

    Raises InputError naming the file and key for bad YAML or a bad value.
    """
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 2200:
        raise InputError(f"报告年度无效：{year!r}")
    defaults = national_defaults(year)
    config_path = Path(county_year_dir) / CONFIG_NAME
    if not config_path.is_file():
        return defaults
    return _apply_config(defaults, config_path)


# --- national defaults -------------------------------------------------------------------------


def national_defaults(year: int) -> Policy:
    """The national defaults alone (no county config): nothing declared."""
    data, lines = _read_yaml(STANDARDS_PATH)
    where = _Where(STANDARDS_PATH, lines)
    pairs = _parse_pairs(data.get("programmes"), where)
    poor_only = data.get("registered_poor_only") or []
    if not isinstance(poor_only, list) or not all(isinstance(p, str) for p in poor_only):
        raise where.error("registered_poor_only", "应为资助项目名称的列表")
    return Policy(
        year=year,
        report_date=dt.date(year, 12, 31),
        training_hours_required=_hours(data.get("training_hours_required"), where),
        declared_officers=None,
        valid_pairs=pairs,
        registered_poor_only=tuple(poor_only),
        standards=_parse_standard_list(data.get("standards"), where),
    )


def _parse_pairs(raw: Any, where: _Where) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise where.error("programmes", "应为“学段: [资助项目, …]”的映射")
    pairs: list[tuple[str, str]] = []
    for stage, programmes in raw.items():
        if not isinstance(programmes, list) or not all(isinstance(p, str) for p in programmes):
            raise where.error(("programmes", str(stage)), "应为资助项目名称的列表")
        pairs.extend((str(stage), p) for p in programmes)
    return tuple(pairs)


def _parse_standard_list(raw: Any, where: _Where) -> tuple[Standard, ...]:
    if not isinstance(raw, list):
        raise where.error("standards", "应为标准列表")
    standards = []
    for item in raw:
        if not isinstance(item, Mapping) or not {"code", "stage", "programme"} <= set(item):
            raise where.error("standards", "每项须有 code、stage、programme、amounts_yuan")
        key = ("standards", str(item["stage"]), str(item["programme"]))
        standards.append(
            Standard(
                code=str(item["code"]),
                stage=str(item["stage"]),
                programme=str(item["programme"]),
                amounts_fen=_amounts_fen(item.get("amounts_yuan"), where, key),
            )
        )
    return tuple(standards)


# --- county-year config ------------------------------------------------------------------------


def _apply_config(defaults: Policy, path: Path) -> Policy:
    data, lines = _read_yaml(path)
    where = _Where(path, lines)
    unknown = sorted(str(k) for k in data if k not in CONFIG_KEYS)
    if unknown:
        raise where.error(unknown[0], f"未知的配置项；可用的配置项：{'、'.join(CONFIG_KEYS)}")
    changes: dict[str, Any] = {}
    if data.get("declared_officers") is not None:
        changes["declared_officers"] = _officers(data["declared_officers"], where)
    if data.get("report_date") is not None:
        changes["report_date"] = _report_date(data["report_date"], defaults.year, where)
    if data.get("training_hours_required") is not None:
        changes["training_hours_required"] = _hours(data["training_hours_required"], where)
    if data.get("standards") is not None:
        changes["standards"] = _override_standards(defaults.standards, data["standards"], where)
    if data.get("accepted_set_aside") is not None:
        changes["accepted"] = _accepted(data["accepted_set_aside"], where)
    if data.get("manual_figures") is not None:
        changes["manual_figures"] = _manual_figures(data["manual_figures"], where)
    if data.get("fixed_phrases") is not None:
        changes["fixed_phrases"] = _fixed_phrases(data["fixed_phrases"], where)
    return replace(defaults, source=str(path), overridden=tuple(changes), **changes)


def _accepted(raw: Any, where: _Where) -> tuple[Accepted, ...]:
    """``accepted_set_aside``: a list of {file, row, reason}, each reason written out."""
    key = "accepted_set_aside"
    if not isinstance(raw, list):
        raise where.error(key, "应为列表，每项写明 file（文件名）、row（行号）、reason（原因）")
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or not {"file", "row", "reason"} <= set(item):
            raise where.error(key, f"第{i}项须有 file、row、reason 三项")
        row, reason = item["row"], item["reason"]
        if isinstance(row, bool) or not isinstance(row, int) or row < 1:
            raise where.error(key, f"第{i}项的 row 应为行号（正整数），实际为 {row!r}")
        if not isinstance(reason, str) or len(reason.strip()) < 4:
            raise where.error(key, f"第{i}项须写明确认的原因（reason），不能为空")
        out.append(Accepted(str(item["file"]).strip(), row, reason.strip()))
    return tuple(out)


def _manual_figures(raw: Any, where: _Where) -> tuple[ManualFigure, ...]:
    """``manual_figures``: ``name: {value, unit, label, source}`` for numbers no ledger holds."""
    key = "manual_figures"
    example = "如 publicity_events: {value: 12, unit: 次, label: 普法宣传活动, source: 工作总结}"
    if not isinstance(raw, Mapping):
        raise where.error(key, f"应为“名称: {{value, unit, label, source}}”的映射，{example}")
    out = []
    for name, item in raw.items():
        here = (key, str(name))
        if not isinstance(name, str) or not _FIGURE_NAME.fullmatch(name):
            raise where.error(here, "名称只能用小写英文字母、数字和下划线，以字母开头")
        if not isinstance(item, Mapping):
            raise where.error(here, f"应写明 value、unit、label、source，{example}")
        unknown = sorted(str(k) for k in item if k not in MANUAL_KEYS)
        if unknown:
            raise where.error((*here, unknown[0]), "未知的项；可用：value、unit、label、source")
        missing = [k for k in MANUAL_KEYS if item.get(k) in (None, "")]
        if missing:
            raise where.error(here, f"缺少 {'、'.join(missing)}（{example}）")
        unit, label, source = (str(item[k]).strip() for k in ("unit", "label", "source"))
        if not unit or len(unit) > 8 or any(ch.isdigit() for ch in unit):
            raise where.error((*here, "unit"), f"单位应为“次”“人”“万元”等，实际为 {unit!r}")
        if len(source) < 4:
            raise where.error((*here, "source"), "须写明数字来自哪份文件（来源文件名）")
        value = _manual_value(item["value"], unit, where, (*here, "value"))
        out.append(ManualFigure(name, value, unit, label, source, where.lines.get(here)))
    return tuple(out)


def _manual_value(value: Any, unit: str, where: _Where, key: tuple[str, ...]) -> int:
    """A count (a whole number ≥ 0), or for 万元 an amount with at most 6 decimals, in fen."""
    if unit == "万元" and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            fen = Decimal(str(value).strip()) * 1_000_000
        except InvalidOperation:
            fen = Decimal(-1)
        if fen >= 0 and fen == fen.to_integral_value():
            return int(fen)
        raise where.error(key, f"金额应为非负数（万元，最多六位小数），实际为 {value!r}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise where.error(key, f"应为非负整数，实际为 {value!r}")
    return value


def _fixed_phrases(raw: Any, where: _Where) -> tuple[str, ...]:
    """``fixed_phrases``: phrases whose numerals are not counts (七五普法, 十四五)."""
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise where.error("fixed_phrases", "应为固定用语的列表，如 [七五普法, 十四五]")
    return tuple(p.strip() for p in raw)


def _officers(value: Any, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise where.error("declared_officers", f"应为非负整数（人数），实际为 {value!r}")
    return value


def _report_date(value: Any, year: int, where: _Where) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    elif isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise where.error(
                "report_date", f"应为日期，如 {year}-12-31，实际为 {value!r}"
            ) from None
    if not isinstance(value, dt.date):
        raise where.error("report_date", f"应为日期，如 {year}-12-31，实际为 {value!r}")
    if value.year not in (year, year + 1):
        raise where.error("report_date", f"报告日期 {value} 不在 {year} 年度或次年")
    return value


def _hours(value: Any, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise where.error("training_hours_required", f"应为非负数（学时），实际为 {value!r}")
    return float(value)


def _override_standards(
    defaults: tuple[Standard, ...], raw: Any, where: _Where
) -> tuple[Standard, ...]:
    if not isinstance(raw, Mapping):
        raise where.error("standards", "应为“学段: {资助项目: 金额}”的映射")
    by_pair = {(s.stage, s.programme): s for s in defaults}
    for stage, programmes in raw.items():
        if not isinstance(programmes, Mapping):
            raise where.error(("standards", str(stage)), "应为“资助项目: 金额”的映射")
        for programme, amounts in programmes.items():
            key = ("standards", str(stage), str(programme))
            old = by_pair.get((str(stage), str(programme)))
            if old is None:
                known = "、".join(f"{s.stage}/{s.programme}" for s in defaults)
                raise where.error(key, f"该项目没有统一标准，不能在此设置；可设置：{known}")
            by_pair[(old.stage, old.programme)] = Standard(
                old.code, old.stage, old.programme, _amounts_fen(amounts, where, key)
            )
    return tuple(by_pair.values())


def _amounts_fen(raw: Any, where: _Where, key: tuple[str, ...]) -> tuple[int, ...]:
    """Yuan amounts (a number or a list of numbers, ≤ 2 decimals, > 0) as exact fen."""
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise where.error(key, "至少需要一个标准金额")
    fen = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise where.error(key, f"金额应为数字（元），实际为 {value!r}")
        try:
            amount = Decimal(str(value).strip()) * 100
        except InvalidOperation:
            raise where.error(key, f"金额应为数字（元），实际为 {value!r}") from None
        if amount <= 0 or amount != amount.to_integral_value():
            raise where.error(key, f"金额须大于 0 且最多两位小数，实际为 {value!r}")
        fen.append(int(amount))
    return tuple(fen)


# --- YAML with locations -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """A YAML file and the line of each key, for error messages."""

    path: Path
    lines: Mapping[tuple[str, ...], int]

    def error(self, key: str | tuple[str, ...], problem: str) -> InputError:
        key_path = (key,) if isinstance(key, str) else key
        line = self.lines.get(key_path)
        return InputError(f"配置项 {'.'.join(key_path)}：{problem}", file=str(self.path), row=line)


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    """A YAML mapping and the 1-based line of every key in it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise InputError("配置文件须为 UTF-8 编码", file=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(f"YAML 格式错误：{exc}", file=str(path), row=row) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise InputError("配置文件顶层应为“键: 值”的映射", file=str(path))
    return data, _key_lines(node)


def _key_lines(node: yaml.Node | None, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    lines: dict[tuple[str, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, str(key_node.value))
            lines[key] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, key))
    return lines
