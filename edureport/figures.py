"""The registry of computed figures: every number the report shows comes from here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .errors import InputError
from .formatting import change_text, count_text, money_text, wan_yuan
from .normalize import synonyms

if TYPE_CHECKING:
    from .policy import ManualFigure, Policy

MONEY = "万元"


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
        """The figure as the report shows it, e.g. ``1134.65万元`` or ``12837人次``."""
        return money_text(self.value) if self.is_money else count_text(self.value, self.unit)

    @property
    def number_text(self) -> str:
        """The number alone, as :attr:`text` shows it (``1134.65``, ``12837``)."""
        return str(wan_yuan(self.value)) if self.is_money else str(int(self.value))

    def change_from(self, previous: Figure) -> str:
        """The year-on-year sentence fragment against last year's figure."""
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

    def manual(self) -> list[Figure]:
        """The figures declared by hand in config.yaml (人工填报), in order."""
        return [f for f in self.values() if f.manual]


def programmes() -> list[dict[str, str]]:
    """The (stage, programme) pairs in report order, with figure key and label."""
    return list(synonyms()["programmes"])


def compute(tables: dict[str, pd.DataFrame], report_date: dt.date) -> Registry:
    """Compute every figure of the report from the cleaned tables."""
    reg = Registry()
    _inspections(reg, tables["inspections"], tables["approvals"])
    _aid(reg, tables["aid"])
    _exchange(reg, tables["exchange"])
    _officers(reg, tables["officers"], report_date)
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


def _aid(reg: Registry, aid: pd.DataFrame) -> None:
    reg.add("aid_total_count", "学生资助合计人次", len(aid), "人次", "aid")
    reg.add("aid_total_amount", "学生资助资金合计", int(aid["amount_fen"].sum()), MONEY, "aid")
    sums = aid.groupby(["stage", "programme"])["amount_fen"].agg(["size", "sum"])
    for p in programmes():
        size, total = (
            sums.loc[(p["stage"], p["programme"])]
            if (p["stage"], p["programme"]) in sums.index
            else (0, 0)
        )
        reg.add(f"aid_{p['key']}_count", f"{p['label']}人次", int(size), "人次", "aid")
        reg.add(f"aid_{p['key']}_amount", f"{p['label']}金额", int(total), MONEY, "aid")


def _exchange(reg: Registry, ex: pd.DataFrame) -> None:
    rot = ex[ex["kind"] == "交流轮岗"]
    reg.add("exchange_total", "教师和校长交流人数", rot["person"].nunique(), "人", "exchange")
    for role, key in (("教师", "exchange_teachers"), ("校长", "exchange_principals")):
        n = rot.loc[rot["role"] == role, "person"].nunique()
        reg.add(key, f"交流{role}人数", n, "人", "exchange")
    itinerant = ex[ex["kind"] == "走教"]
    reg.add("itinerant_teachers", "参与走教教师", itinerant["person"].nunique(), "人", "exchange")
    reg.add("itinerant_schools", "走教涉及学校", itinerant["to_school"].nunique(), "所", "exchange")


def _inspections(reg: Registry, ins: pd.DataFrame, appr: pd.DataFrame) -> None:
    passed = ins.loc[ins["result"] == "合格", "institution"].nunique()
    reg.add("inspected_passed", "民办教育机构检查合格", passed, "所", "inspections")
    closed = ins[
        (ins["result"] == "取缔") & (ins["inst_type"] == "校外培训机构") & ins["licence"].isna()
    ]
    reg.add(
        "unlicensed_closed",
        "取缔无证校外培训机构",
        closed["institution"].nunique(),
        "所",
        "inspections",
    )
    rectify = ins.loc[ins["result"] == "限期整改", "institution"].nunique()
    reg.add("inspected_rectify", "限期整改机构", rectify, "所", "inspections")
    reg.add("inspected_total", "检查机构", ins["institution"].nunique(), "所", "inspections")
    kg = appr.loc[appr["inst_type"] == "民办幼儿园", "institution"].nunique()
    reg.add("kindergartens_approved", "新审批民办幼儿园", kg, "所", "approvals")


def _officers(reg: Registry, off: pd.DataFrame, report_date: dt.date) -> None:
    when = pd.Timestamp(report_date)
    valid = (
        off["cert_no"].notna()
        & (off["cert_valid_until"] >= when)
        & (off["cert_issued"].isna() | (off["cert_issued"] <= when))
    )
    reg.add("officers_total", "行政执法人员", off["person"].nunique(), "人", "officers")
    reg.add(
        "officers_certified",
        "持有效执法证人员",
        off.loc[valid, "person"].nunique(),
        "人",
        "officers",
    )
    non_staff = off.loc[off["employment"] != "在编", "person"].nunique()
    reg.add("officers_non_staff", "合同工、临时工等人员", non_staff, "人", "officers")
