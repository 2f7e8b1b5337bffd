"""The registry of computed figures: every number the report shows comes from here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from edureport.errors import InputError
from edureport.ingest.normalize import synonyms
from edureport.paths import RESOURCES_DIR
from edureport.report.formatting import change_text, count_text, money_text, wan_yuan

if TYPE_CHECKING:
    from edureport.checks.policy import ManualFigure, Policy

Tables = Mapping[str, pd.DataFrame]
MONEY = "万元"
PERCENT = "%"  # a rate, kept in tenths of a percent


@dataclass(frozen=True)
class FigureDef:
    """One row of the figure table (resources/figures.yaml)."""

    key: str
    label: str
    unit: str
    ledger: str
    code: str | None = None  # F1–F18 of the reference report's figure list
    absent: str = ""  # when it can be missing though its ledger is there, why


@cache
def figure_table() -> dict[str, FigureDef]:
    """Every computed figure, declared once: key, label, unit, ledger, F-code."""
    with open(RESOURCES_DIR / "figures.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return {f["key"]: FigureDef(**f) for f in raw["figures"]}


@cache
def figure_codes() -> dict[str, str]:
    """F-code -> the reference report's name for it."""
    with open(RESOURCES_DIR / "figures.yaml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["codes"])


@dataclass(frozen=True)
class Figure:
    """One figure: exact value (money in fen), unit and a Chinese label.

    Computed from a ledger (``source`` names it), or, with ``manual``, declared in config.yaml
    ``manual_figures`` (``source`` names the document it is taken from: 人工填报).
    """

    key: str
    label: str
    value: int
    unit: str
    source: str  # the ledger it is computed from, or the document a manual figure comes from
    manual: bool = False

    @property
    def is_money(self) -> bool:
        return self.unit == MONEY

    @property
    def text(self) -> str:
        """The figure as the report shows it, e.g. ``1134.65万元``, ``12837人次``, ``87.5%``."""
        if self.is_money:
            return money_text(self.value)
        return (
            f"{self.number_text}{self.unit}"
            if self.unit == PERCENT
            else count_text(self.value, self.unit)
        )

    @property
    def number_text(self) -> str:
        """The number alone, as :attr:`text` shows it (``1134.65``, ``12837``, ``87.5``)."""
        if self.is_money:
            return str(wan_yuan(self.value))
        if self.unit == PERCENT:
            return f"{self.value // 10}.{self.value % 10}"
        return str(int(self.value))

    def change_from(self, previous: Figure) -> str:
        """The year-on-year sentence fragment against last year's figure (a rate: in 个百分点)."""
        if self.unit == PERCENT:
            diff = self.value - previous.value
            if diff == 0:
                return "与上年持平"
            points = f"{abs(diff) // 10}.{abs(diff) % 10}"
            return f"比上年{'提高' if diff > 0 else '降低'}{points}个百分点"
        return change_text(self.value, previous.value, self.unit, money=self.is_money)


class Registry(dict[str, Figure]):
    """Figures by key, in report order."""

    def add(
        self, key: str, label: str, value: int, unit: str, source: str, manual: bool = False
    ) -> None:
        self[key] = Figure(key, label, int(value), unit, source, manual)

    def to_json(self) -> str:
        return json.dumps(
            {k: {**asdict(f), "text": f.text} for k, f in self.items()},
            ensure_ascii=False,
            indent=2,
        )

    def write(self, path: Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Registry:
        reg = cls()
        for key, f in json.loads(Path(path).read_text(encoding="utf-8")).items():
            reg.add(key, f["label"], f["value"], f["unit"], f["source"], f.get("manual", False))
        return reg

    def put(self, key: str, value: int) -> None:
        """Add a computed figure as the figure table declares it (label, unit, ledger)."""
        d = figure_table()[key]
        self.add(key, d.label, value, d.unit, d.ledger)

    def manual(self) -> list[Figure]:
        """The figures declared by hand in config.yaml (人工填报), in order."""
        return [f for f in self.values() if f.manual]


def programmes() -> list[dict[str, str]]:
    """The (stage, programme) pairs in report order, with figure key and label."""
    return list(synonyms()["programmes"])


def compute(tables: dict[str, pd.DataFrame], report_date: dt.date) -> Registry:
    """Compute every figure of the report from the cleaned tables (an optional ledger that is
    absent gives none of its figures)."""
    reg = Registry()
    for ledger, figures in FIGURE_FUNCTIONS.items():
        if ledger in tables:
            figures(reg, tables, report_date)
    return reg


def compute_for(tables: dict[str, pd.DataFrame], policy: Policy) -> Registry:
    """The figures of a county-year: computed from its tables, then those declared by hand."""
    return add_manual(compute(tables, policy.report_date), policy.manual_figures, policy.source)


def add_manual(reg: Registry, manual: tuple[ManualFigure, ...], config: str | None) -> Registry:
    """Add the figures declared in config.yaml ``manual_figures`` (a name a ledger figure already
    has is refused, naming the file and line)."""
    for m in manual:
        if m.key in reg or m.key in ("county", "year"):
            raise InputError(
                f"配置项 manual_figures.{m.key}：该名称已是由台账计算的数字，请换一个名称"
                " name taken by a computed figure",
                file=config,
                row=m.line,
            )
        reg.add(m.key, m.label, m.value, m.unit, m.source, manual=True)
    return reg


def _aid(reg: Registry, tables: Tables, _: dt.date) -> None:
    aid = tables["aid"]
    reg.put("aid_total_count", len(aid))
    reg.put("aid_total_amount", int(aid["amount_fen"].sum()))
    sums = aid.groupby(["stage", "programme"])["amount_fen"].agg(["size", "sum"])
    for p in programmes():
        size, total = (
            sums.loc[(p["stage"], p["programme"])]
            if (p["stage"], p["programme"]) in sums.index
            else (0, 0)
        )
        reg.put(f"aid_{p['key']}_count", int(size))
        reg.put(f"aid_{p['key']}_amount", int(total))


def _exchange(reg: Registry, tables: Tables, _: dt.date) -> None:
    ex = tables["exchange"]
    rot = ex[ex["kind"] == "交流轮岗"]
    reg.put("exchange_total", rot["person"].nunique())
    for role, key in (("教师", "exchange_teachers"), ("校长", "exchange_principals")):
        reg.put(key, rot.loc[rot["role"] == role, "person"].nunique())
    itinerant = ex[ex["kind"] == "走教"]
    reg.put("itinerant_teachers", itinerant["person"].nunique())
    reg.put("itinerant_schools", itinerant["to_school"].nunique())


def _inspections(reg: Registry, tables: Tables, _: dt.date) -> None:
    ins = tables["inspections"]
    reg.put("inspected_passed", ins.loc[ins["result"] == "合格", "institution"].nunique())
    closed = ins[
        (ins["result"] == "取缔") & (ins["inst_type"] == "校外培训机构") & ins["licence"].isna()
    ]
    reg.put("unlicensed_closed", closed["institution"].nunique())
    reg.put("inspected_rectify", ins.loc[ins["result"] == "限期整改", "institution"].nunique())
    reg.put("inspected_total", ins["institution"].nunique())


def _approvals(reg: Registry, tables: Tables, _: dt.date) -> None:
    appr = tables["approvals"]
    kg = appr.loc[appr["inst_type"] == "民办幼儿园", "institution"].nunique()
    reg.put("kindergartens_approved", kg)


def _officers(reg: Registry, tables: Tables, report_date: dt.date) -> None:
    off = tables["officers"]
    when = pd.Timestamp(report_date)
    valid = (
        off["cert_no"].notna()
        & (off["cert_valid_until"] >= when)
        & (off["cert_issued"].isna() | (off["cert_issued"] <= when))
    )
    reg.put("officers_total", off["person"].nunique())
    reg.put("officers_certified", off.loc[valid, "person"].nunique())
    reg.put("officers_non_staff", off.loc[off["employment"] != "在编", "person"].nunique())


# 培训对象 -> the key part of its figures (training_<key>_sessions …)
AUDIENCES = {"执法人员": "officers", "机关干部": "cadres", "教师": "teachers", "学生": "students"}


def _training(reg: Registry, tables: Tables, _: dt.date) -> None:
    """Sessions, person-times and hours, in total and per audience (every session one row)."""
    tr = tables["training"]
    reg.put("training_sessions", len(tr))
    reg.put("training_participants", int(tr["participants"].sum()))
    reg.put("training_hours", int(tr["hours"].sum()))
    for audience, key in AUDIENCES.items():
        mine = tr[tr["audience"] == audience]
        reg.put(f"training_{key}_sessions", len(mine))
        reg.put(f"training_{key}_participants", int(mine["participants"].sum()))
        reg.put(f"training_{key}_hours", int(mine["hours"].sum()))


# Outcomes that correct the bureau's act: in reconsideration it is corrected, in court it lost.
CORRECTED = ("撤销", "确认违法", "变更", "责令履行")


def _cases(reg: Registry, tables: Tables, _: dt.date) -> None:
    """Cases by type, corrected or lost ones, and the principal's court appearances.

    The appearance rate is over the lawsuits; with none there is no rate (the figure is absent,
    and a narrative naming it is told why).
    """
    cases = tables["cases"]
    review = cases[cases["case_type"] == "行政复议"]
    suits = cases[cases["case_type"] == "行政诉讼"]
    reg.put("cases_total", len(cases))
    reg.put("cases_review", len(review))
    reg.put("cases_litigation", len(suits))
    reg.put("cases_review_corrected", int(review["outcome"].isin(CORRECTED).sum()))
    reg.put("cases_litigation_lost", int(suits["outcome"].isin(CORRECTED).sum()))
    appeared = int(suits["principal_appeared"].fillna(False).astype(bool).sum())
    reg.put("cases_principal_appeared", appeared)
    if len(suits):
        reg.put("cases_principal_rate", _tenths_of_percent(appeared, len(suits)))


def _tenths_of_percent(part: int, whole: int) -> int:
    """``part / whole`` in tenths of a percent, rounded half-up (exact integers)."""
    return (part * 2000 + whole) // (2 * whole)


# Each ledger's figure function, in report order (the figure table declares what each adds).
FIGURE_FUNCTIONS: dict[str, Callable[[Registry, Tables, dt.date], None]] = {
    "inspections": _inspections,
    "approvals": _approvals,
    "aid": _aid,
    "exchange": _exchange,
    "officers": _officers,
    "training": _training,
    "cases": _cases,
}
