"""Deterministic synthetic ledgers: the bundled sample county 示例县 and made-up batch counties.

Everything is drawn from ``random.Random`` (or a seeded numpy ``Generator``) seeded from the
``seed`` argument, so the same seed gives the same cells; saved workbooks carry fixed timestamps,
so the same seed gives the same bytes too. Nothing depends on the clock or on set order.

A county-year is described by :class:`Targets` (every count and amount its *good* rows must
yield). :func:`write_county_year` writes its six ledgers in one of three styles:

``canonical``
    Six UTF-8 CSVs, header in line 1, canonical column names and values, no total rows.
``messy_xlsx`` (the 2022 sample)
    Aid ledger as a workbook: a 填表说明 sheet first, then 资助台账 with a merged title row, a
    填报单位 line, a blank row and a 合计 row; in a minority of rows stage short names
    (中职/职中/普高/学前), amounts as text (``1,000.00``, ``1000元``, ``1000``, full-width
    digits), dates as text (``2022-03-05``, ``2022/3/5``, ``2022.3.5``, ``2022年3月5日``) instead
    of Excel dates, full-width digits in a few IDs, stray spaces or a line break around a few
    school names. Control totals as a GBK CSV with a 合计 row; officers with a title row, one 在编
    written 正式 and one training-hours cell stored as text; exchange as a UTF-8-with-BOM CSV
    whose ID column is 证件号码, dates typed in several forms; inspections with a title row.
``messy_csv`` (the 2021 sample)
    Aid ledger as a GB18030 CSV headed 学校/姓名/金额(元) with a blank line and a 合计 line, short
    names 职业高中/高中/幼儿园/义务, amounts typed as above, dates also as Excel serial numbers, and
    one student whose name has a character outside GBK (䶮); control totals as above; exchange as
    a workbook with a title row; officers with one 在编 written 编内; inspections with dates typed
    as text; approvals as a plain UTF-8 CSV.

Bad rows (see :data:`BAD_KINDS`) are planted only on request; :class:`Manifest` lists each with
its file, row number as the analyst sees it (Excel row / CSV line) and column.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from edureport.ingest.normalize import id_check_digit
from edureport.ingest.specs import all_specs

__all__ = [
    "AID_HEADER",
    "BAD_KINDS",
    "KEYWORDS",
    "SAMPLE_2021_BAD_ROWS",
    "SAMPLE_2022_BAD_ROWS",
    "SAMPLE_SEEDS",
    "STYLES",
    "AidLine",
    "Manifest",
    "PlantedRow",
    "Targets",
    "id_check_digit",
    "random_targets",
    "sample_planted",
    "targets_2021_sample",
    "targets_2022_sample",
    "write_county_year",
    "write_large_aid_csv",
    "write_large_county_year",
    "write_sample",
]

# ------------------------------------------------------------------ vocabulary


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STAGES = ("学前教育", "义务教育", "普通高中", "中等职业教育")
PROGRAMMES: dict[str, tuple[str, ...]] = {
    "学前教育": ("学前教育资助",),
    "义务教育": ("家庭经济困难学生生活费补助",),
    "普通高中": ("国家助学金", "建档立卡学生免学费、免书费、免住宿费"),
    "中等职业教育": ("国家助学金", "免学费", "免书费、免住宿费"),
}
# Programmes paid at a national standard per disbursement (fen).
UNIT_FEN: dict[tuple[str, str], int] = {
    ("普通高中", "国家助学金"): 100_000,
    ("中等职业教育", "国家助学金"): 100_000,
    ("中等职业教育", "免学费"): 100_000,
    ("中等职业教育", "免书费、免住宿费"): 40_000,
}
# Programmes whose amount varies per student: allowed range per row (fen).
VARYING_RANGE_FEN: dict[tuple[str, str], tuple[int, int]] = {
    ("学前教育", "学前教育资助"): (30_000, 60_000),
    ("义务教育", "家庭经济困难学生生活费补助"): (25_000, 62_500),
    ("普通高中", "建档立卡学生免学费、免书费、免住宿费"): (100_000, 180_000),
}
# Programmes only registered-poor (建档立卡) students receive.
POOR_ONLY = frozenset(
    {("普通高中", "建档立卡学生免学费、免书费、免住宿费"), ("中等职业教育", "免书费、免住宿费")}
)
STAGE_AGES = {
    "学前教育": (3, 6),
    "义务教育": (6, 15),
    "普通高中": (15, 18),
    "中等职业教育": (15, 19),
}

KEYWORDS = {name: s.keyword for name, s in all_specs().items()}  # resources/ledgers/
STYLES = ("canonical", "messy_xlsx", "messy_csv")
N_TOWNS = 16  # towns per county; each has two village schools (so up to 32 走教 schools)
BAD_KINDS = ("duplicate", "zero_amount", "bad_check_digit", "wrong_year")
_BAD_REASON = {
    "duplicate": ("exact copy of the good row just above it", None),
    "zero_amount": ("amount 0", "金额（元）"),
    "bad_check_digit": ("ID number with a wrong GB 11643 check digit", "身份证号"),
    "wrong_year": ("发放日期 on 28 December of the previous year", "发放日期"),
}
# The stage whose block receives each kind of bad row (any stage if that one is absent).
_BAD_STAGE = {
    "duplicate": "义务教育",
    "zero_amount": "学前教育",
    "bad_check_digit": "普通高中",
    "wrong_year": "中等职业教育",
}

AID_HEADER = _words(
    "序号 学校名称 学段 资助项目 学生姓名 身份证号 是否建档立卡 学期 金额（元） 发放日期"
)
CONTROL_HEADER = ("学段", "资助项目", "人次", "金额（元）")
OFFICER_HEADER = _words("姓名 性别 所在股室 执法证号 发证日期 有效期至 用工性质 年度培训学时")
EXCHANGE_HEADER = ("姓名", "身份证号", "身份", "交流类型", "原学校", "交流学校", "开始日期")
INSPECTION_HEADER = ("机构名称", "机构类型", "办学许可证号", "检查日期", "检查结论")
APPROVAL_HEADER = ("机构名称", "机构类型", "审批日期", "办学许可证号")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉萍红玲芬燕彬鹏辉宇浩凯健俊帆旭宁林欣怡"
    "佳雨涵梓轩子晨博文思诗雪琪瑶婷悦嘉一馨梦可睿泽航宸锦逸诺昊然豪鑫晓雅欢志海波建国兰春丹"
)
_TOWNS = _words(
    "河西镇 白石镇 青龙镇 龙泉镇 新华镇 大坪镇 马场镇 石门乡 桃源乡 松林乡 "
    "清水乡 高峰乡 柳溪乡 枫木乡 金竹乡 长岭乡 黄土镇 双河口镇 茶山乡 太平镇"
)
_VILLAGES = _words(
    "杨家 李家 大湾 石桥 柏树 双河 新村 红星 长冲 坪上 塘坊 竹园 王家 岩口 "
    "沙坝 茶园 高桥 水井 枫树 观音 田坝 桂花 龙潭 马鞍 樟树 凉亭 白果 铁炉 "
    "黄泥 青山 杉木 楠竹 梨子 板桥 油坊 槐树"
)
_UNITS = _words(
    "政策法规股 安全稳定股 基础教育股 民办教育管理股 学生资助管理中心 教育督导室 计划财务股"
)
_INST_WORDS = _words(
    "阳光 小太阳 童心 蓓蕾 春苗 金色童年 快乐宝贝 启明星 育英 贝贝 爱心 彩虹 "
    "小天使 七彩 博苑 智慧树 新苗 晨曦 星光 小博士 苗苗 雏鹰 向日葵 蒲公英 "
    "乐乐 明珠 东方 未来 欣欣 卓越 育才 博雅 英才 明德 启智 华英 "
    "思源 求实 立人 启航 飞跃 翰墨 艺馨 天天向上 金话筒 小画家 名师 状元 "
    "博学"
)
_INST_SUFFIX = {
    "民办幼儿园": ("幼儿园", "双语幼儿园"),
    "民办中小学": ("学校", "实验学校", "外国语学校"),
    "校外培训机构": _words(
        "艺术培训学校 体育培训中心 书画培训中心 舞蹈培训学校 音乐培训中心 美术培训学校 科技培训中心"
    ),
}
_UNLICENSED_SUFFIX = ("辅导班", "托管班", "补习班", "教育咨询工作室", "培优中心")
_LICENCE_CODE = {"民办幼儿园": "10", "民办中小学": "20", "校外培训机构": "30"}
_AID_NOTES = (
    "填表说明",
    "1. 本表由各学校填报，县教育局学生资助管理中心汇总，每发放一次填一行（一人次）。",
    "2. 同一学生同一资助项目同一学期只能填报一次。",
    "3. 身份证号填写18位居民身份证号码，末位为X的用大写。",
    "4. 金额单位为元，保留两位小数；发放日期填写资金实际发放（或减免）的日期。",
    "5. 本表数据须与资助资金拨付汇总表一致。",
)

# ------------------------------------------------------------------ targets


@dataclass(frozen=True)
class AidLine:
    """One stage + programme of the aid ledger: its good rows' person-times and exact fen."""

    stage: str
    programme: str
    person_times: int
    amount_fen: int
    half_unit_rows: int = 0  # standard programmes: rows paid half the standard (half a term)

    def __post_init__(self) -> None:
        if self.programme not in PROGRAMMES.get(self.stage, ()):
            raise ValueError(f"no programme {self.programme!r} for stage {self.stage!r}")
        if self.person_times < 0 or not 0 <= self.half_unit_rows <= self.person_times:
            raise ValueError(f"bad counts in {self}")
        unit = self.unit_fen
        if unit is not None:
            full = self.person_times - self.half_unit_rows
            if self.amount_fen != full * unit + self.half_unit_rows * (unit // 2):
                raise ValueError(f"amount does not match the standard {unit} fen: {self}")
            return
        lo, hi = VARYING_RANGE_FEN[(self.stage, self.programme)]
        if (
            self.half_unit_rows
            or not lo * self.person_times <= self.amount_fen <= hi * self.person_times
        ):
            raise ValueError(f"amount outside {lo}..{hi} fen per row: {self}")

    @property
    def unit_fen(self) -> int | None:
        """The standard amount per row, or None where amounts vary per student."""
        return UNIT_FEN.get((self.stage, self.programme))


@dataclass(frozen=True)
class TrainingLine:
    """One audience of the training ledger: its sessions, person-times and hours."""

    audience: str  # 执法人员, 机关干部, 教师 or 学生
    sessions: int
    participants: int
    hours: int

    def __post_init__(self) -> None:
        if not 0 < self.sessions <= min(self.participants, self.hours):
            raise ValueError(f"every session needs a participant and an hour: {self}")


@dataclass(frozen=True)
class CaseCounts:
    """The cases ledger: counts by type, corrected or lost, principal's appearances."""

    review: int  # 行政复议
    litigation: int  # 行政诉讼
    review_corrected: int = 0  # 撤销, 确认违法, 变更 or 责令履行
    litigation_lost: int = 0
    principal_appeared: int = 0  # lawsuits where the principal appeared in court

    def __post_init__(self) -> None:
        if self.review_corrected > self.review or self.litigation_lost > self.litigation:
            raise ValueError(f"more corrected or lost cases than cases: {self}")
        if self.principal_appeared > self.litigation:
            raise ValueError(f"more appearances than lawsuits: {self}")


@dataclass(frozen=True)
class Targets:
    """Every count and amount one county-year's good ledger rows must yield."""

    aid: tuple[AidLine, ...]
    officers: int  # on the roster, including the two kinds below
    rotation_teachers: int  # 交流轮岗, 教师
    rotation_principals: int  # 交流轮岗, 校长
    itinerant_teachers: int  # 走教: distinct teachers
    itinerant_schools: int  # 走教: distinct schools served
    inspected_pass: int  # distinct licensed institutions with a 合格 result
    inspected_twice: int  # of those, inspected (合格) twice in the year
    rectify: int  # licensed institutions whose only result is 限期整改
    banned_unlicensed: int  # unlicensed 校外培训机构 with 取缔
    kindergartens_approved: int
    other_approved: int  # 校外培训机构 approvals
    officers_uncertified: int = 0  # 在编 but no certificate
    officers_contract: int = 0  # 合同工/临时工, no certificate
    training: tuple[TrainingLine, ...] = ()  # the optional 法治培训台账 (none: no file)
    cases: CaseCounts | None = None  # the optional 行政复议和行政应诉案件台账

    def __post_init__(self) -> None:
        keys = [(a.stage, a.programme) for a in self.aid]
        if len(set(keys)) != len(keys):
            raise ValueError("an aid stage + programme appears twice")
        if self.officers_uncertified + self.officers_contract > self.officers:
            raise ValueError("more officers without certificate than officers")
        t, s = self.itinerant_teachers, self.itinerant_schools
        if (t == 0) != (s == 0) or s > 3 * t or s > 2 * N_TOWNS:
            raise ValueError(f"cannot spread {t} itinerant teachers over {s} schools")
        if self.inspected_twice > self.inspected_pass:
            raise ValueError("more institutions inspected twice than passed")

    @property
    def aid_person_times(self) -> int:
        """F4: all good aid rows."""
        return sum(a.person_times for a in self.aid)

    @property
    def aid_amount_fen(self) -> int:
        """F5 in fen: the exact sum of all good aid rows."""
        return sum(a.amount_fen for a in self.aid)

    @property
    def rotations(self) -> int:
        """F13: people on 交流轮岗."""
        return self.rotation_teachers + self.rotation_principals


def _line(stage: str, programme: str, n: int, yuan: int | float, half: int = 0) -> AidLine:
    return AidLine(stage, programme, n, round(yuan * 100), half)


def targets_2022_sample() -> Targets:
    """The 2022 sample of 示例县: the figures F1–F18 of figures-2022.md."""
    return Targets(
        aid=(
            _line("学前教育", "学前教育资助", 459, 191_651),
            _line("义务教育", "家庭经济困难学生生活费补助", 2419, 1_101_151),
            _line("普通高中", "国家助学金", 2310, 2284 * 1000 + 26 * 500, half=26),
            _line("普通高中", "建档立卡学生免学费、免书费、免住宿费", 606, 842_651),
            _line("中等职业教育", "国家助学金", 799, 799_000),
            _line("中等职业教育", "免学费", 6029, 6_029_000),
            _line("中等职业教育", "免书费、免住宿费", 215, 86_000),
        ),
        officers=7,
        rotation_teachers=294,
        rotation_principals=24,
        itinerant_teachers=23,
        itinerant_schools=16,
        inspected_pass=29,
        inspected_twice=2,
        rectify=3,
        banned_unlicensed=8,
        kindergartens_approved=4,
        other_approved=2,
        training=(
            TrainingLine("执法人员", 4, 28, 32),
            TrainingLine("机关干部", 3, 186, 9),
            TrainingLine("教师", 6, 1420, 18),
            TrainingLine("学生", 12, 9860, 12),
        ),
        cases=CaseCounts(review=3, litigation=2, review_corrected=1, principal_appeared=2),
    )


def targets_2021_sample() -> Targets:
    """The 2021 sample of 示例县: 12001 人次, 10,526,951.50 元 (1052.70 万元)."""
    return Targets(
        aid=(
            _line("学前教育", "学前教育资助", 431, 176_388.50),
            _line("义务教育", "家庭经济困难学生生活费补助", 2380, 1_071_226),
            _line("普通高中", "国家助学金", 2250, 2226 * 1000 + 24 * 500, half=24),
            _line("普通高中", "建档立卡学生免学费、免书费、免住宿费", 580, 801_337),
            _line("中等职业教育", "国家助学金", 760, 760_000),
            _line("中等职业教育", "免学费", 5400, 5_400_000),
            _line("中等职业教育", "免书费、免住宿费", 200, 80_000),
        ),
        officers=7,
        rotation_teachers=279,
        rotation_principals=22,
        itinerant_teachers=20,
        itinerant_schools=14,
        inspected_pass=26,
        inspected_twice=1,
        rectify=2,
        banned_unlicensed=5,
        kindergartens_approved=3,
        other_approved=1,
        training=(
            TrainingLine("执法人员", 3, 21, 24),
            TrainingLine("机关干部", 2, 120, 6),
            TrainingLine("教师", 5, 1180, 15),
            TrainingLine("学生", 10, 8200, 10),
        ),
        cases=CaseCounts(review=2, litigation=2, principal_appeared=1),
    )


def random_targets(rng: random.Random, size: tuple[float, float] = (0.25, 2.0)) -> Targets:
    """Plausible targets for a made-up county: the 2022 sample's shape at a random scale.

    ``size`` bounds the scale of the aid ledger and the rotations (1.0 = the sample's 12837
    aid rows); a small ``size`` such as (0.05, 0.1) gives quick counties for tests.
    """
    scale = rng.uniform(*size)
    aid = tuple(_random_line(rng, line, scale) for line in targets_2022_sample().aid)
    teachers = max(5, round(294 * scale * rng.uniform(0.8, 1.2)))
    itinerant = rng.randint(3, 35)
    inspected = rng.randint(8, 50)
    return Targets(
        aid=aid,
        officers=rng.randint(4, 12),
        rotation_teachers=teachers,
        rotation_principals=max(1, round(teachers * rng.uniform(0.05, 0.1))),
        itinerant_teachers=itinerant,
        itinerant_schools=rng.randint(max(1, itinerant // 3), min(3 * itinerant, 30)),
        inspected_pass=inspected,
        inspected_twice=rng.randint(0, 3),
        rectify=rng.randint(0, 5),
        banned_unlicensed=rng.randint(0, 12),
        kindergartens_approved=rng.randint(0, 6),
        other_approved=rng.randint(0, 3),
        officers_uncertified=int(rng.random() < 0.2),
        officers_contract=int(rng.random() < 0.15),
    )


def _random_line(rng: random.Random, template: AidLine, scale: float) -> AidLine:
    n = max(10, round(template.person_times * scale * rng.uniform(0.85, 1.15)))
    unit = template.unit_fen
    if unit is not None:
        half = rng.randint(0, n // 40) if template.half_unit_rows else 0
        return AidLine(
            template.stage, template.programme, n, (n - half) * unit + half * unit // 2, half
        )
    lo, hi = VARYING_RANGE_FEN[(template.stage, template.programme)]
    mean = rng.uniform(lo + 0.3 * (hi - lo), lo + 0.6 * (hi - lo))
    return AidLine(template.stage, template.programme, n, round(mean * n))


# ------------------------------------------------------------------ people and places


# Division codes (GB/T 2260) in use since before 1980 and still in use, so that an ID drawn
# with any birth date passes the birthplace check (python-stdnum's table).
_AREA_CODES = _words(
    "110101 110105 110108 120101 310104 330106 440103 510107 610102 420102 320102 370102 "
    "410102 430102 350102 530102"
)


def area_code(county: str) -> str:
    """A real 6-digit county code, the same for a county name every time."""
    return _AREA_CODES[zlib.crc32(county.encode("utf-8")) % len(_AREA_CODES)]


class _People:
    """Draws distinct people: a plausible name and a unique, valid resident ID."""

    def __init__(self, rng: random.Random, area: str) -> None:
        self.rng, self.area = rng, area
        self._used: set[str] = set()
        self._surname_weights = [1 / (rank + 6) for rank in range(len(_SURNAMES))]

    def name(self) -> str:
        surname = self.rng.choices(_SURNAMES, self._surname_weights)[0]
        size = 2 if self.rng.random() < 0.7 else 1
        return surname + "".join(self.rng.choice(_GIVEN) for _ in range(size))

    def id_number(self, born_from: date, born_to: date) -> str:
        span = (born_to - born_from).days
        while True:
            born = born_from + timedelta(days=self.rng.randint(0, span))
            first17 = f"{self.area}{born:%Y%m%d}{self.rng.randint(0, 999):03d}"
            if first17 not in self._used:
                self._used.add(first17)
                return first17 + id_check_digit(first17)

    def aged(self, year: int, youngest: int, oldest: int) -> tuple[str, str]:
        """(name, ID) of someone aged youngest..oldest during ``year``."""
        return self.name(), self.id_number(date(year - oldest, 1, 1), date(year - youngest, 12, 31))


@dataclass(frozen=True)
class Schools:
    """A county's schools by stage, stable for the county across years."""

    towns: tuple[str, ...]
    kindergartens: tuple[str, ...]
    central: tuple[str, ...]  # compulsory schools in the county town and town centres
    village: tuple[str, ...]  # village primary schools and 教学点
    high: tuple[str, ...]
    vocational: tuple[str, ...]

    def for_stage(self, stage: str) -> tuple[tuple[str, ...], list[float]]:
        """The stage's schools and a weight (relative size) for each."""
        if stage == "学前教育":
            return self.kindergartens, [3.0, 3.0] + [1.0] * (len(self.kindergartens) - 2)
        if stage == "义务教育":
            schools = self.central + self.village
            return schools, [3.0] * len(self.central) + [1.0] * len(self.village)
        if stage == "普通高中":
            return self.high, [0.6, 0.4]
        return self.vocational, [0.7, 0.3]


def school_catalogue(county: str) -> Schools:
    """The schools of a county (seeded by its name only)."""
    rng = random.Random(f"schools:{county}")
    towns = ["城关镇", *rng.sample(_TOWNS, N_TOWNS - 1)]
    villages = rng.sample(_VILLAGES, 2 * len(towns))
    village_schools = [
        f"{town}{villages[2 * i + k]}{'教学点' if rng.random() < 0.3 else '小学'}"
        for i, town in enumerate(towns)
        for k in range(2)
    ]
    central = [f"{county}实验小学", f"{county}实验中学"]
    central += [f"{town}{kind}" for town in towns for kind in ("中心小学", "中学")]
    return Schools(
        towns=tuple(towns),
        kindergartens=(
            f"{county}第一幼儿园",
            f"{county}第二幼儿园",
            *(f"{town}中心幼儿园" for town in towns),
        ),
        central=tuple(central),
        village=tuple(village_schools),
        high=(f"{county}第一中学", f"{county}第二中学"),
        vocational=(f"{county}职业中学", f"{county}职业技术学校"),
    )


def _random_day(rng: random.Random, start: date, end: date) -> date:
    """A working day (Monday to Friday) between start and end, which should span a week."""
    day = start + timedelta(days=rng.randint(0, (end - start).days))
    step = timedelta(days=1 if day + timedelta(days=2) <= end else -1)
    while day.weekday() >= 5:
        day += step
    return day


# ------------------------------------------------------------------ aid records


@dataclass(frozen=True)
class AidRecord:
    """One aid row in canonical form; ``bad`` names the planted mistake, if any."""

    school: str
    stage: str
    programme: str
    name: str
    id_no: str
    poor: bool
    term: str
    amount_fen: int
    paid_on: date
    bad: str | None = None


@dataclass(frozen=True)
class _Student:
    name: str
    id_no: str
    school: str
    poor: bool


def _split_terms(rng: random.Random, n: int) -> tuple[int, int]:
    spring = min(n, max(0, round(n / 2 + rng.uniform(-0.03, 0.03) * n)))
    return spring, n - spring


def _varying_amounts(rng: random.Random, n: int, total: int, lo: int, hi: int) -> list[int]:
    """n amounts in lo..hi fen, mostly whole yuan, some with cents, summing exactly to total."""
    if n == 0:
        return []
    mean = total / n
    width = 0.9 * min(mean - lo, hi - mean)
    values = []
    for _ in range(n):
        fen = round((mean + rng.uniform(-width, width)) / 100) * 100
        if rng.random() < 0.12:
            fen += rng.randint(-49, 49)
        values.append(min(max(fen, lo), hi))
    diff = total - sum(values)
    while diff:
        i = rng.randrange(n)
        step = max(-100, min(100, diff))
        if lo <= values[i] + step <= hi:
            values[i] += step
            diff -= step
    return values


def _line_amounts(rng: random.Random, line: AidLine) -> list[int]:
    unit = line.unit_fen
    if unit is None:
        lo, hi = VARYING_RANGE_FEN[(line.stage, line.programme)]
        amounts = _varying_amounts(rng, line.person_times, line.amount_fen, lo, hi)
    else:
        full = line.person_times - line.half_unit_rows
        amounts = [unit] * full + [unit // 2] * line.half_unit_rows
    rng.shuffle(amounts)
    return amounts


def _student_pool(
    rng: random.Random,
    people: _People,
    schools: Schools,
    stage: str,
    year: int,
    terms: dict[AidLine, tuple[int, int]],
) -> list[_Student]:
    """Enough students of one stage for every programme-term, with enough registered poor."""
    most = max(max(t) for t in terms.values())
    poor_most = max(
        (max(t) for line, t in terms.items() if (line.stage, line.programme) in POOR_ONLY),
        default=0,
    )
    size = math.ceil(most * rng.uniform(1.08, 1.2)) + 2
    n_poor = min(size, max(math.ceil(poor_most * 1.1) + 1, round(size * 0.15)))
    poor = set(rng.sample(range(size), n_poor))
    names, weights = schools.for_stage(stage)
    youngest, oldest = STAGE_AGES[stage]
    pool = []
    for i in range(size):
        name, id_no = people.aged(year, youngest, oldest)
        pool.append(_Student(name, id_no, rng.choices(names, weights)[0], i in poor))
    return pool


def _term_dates(rng: random.Random, year: int, term: int) -> date:
    """A payment date in the spring (0) or autumn (1) term."""
    if term == 0:
        return _random_day(rng, date(year, 3, 10), date(year, 6, 30))
    return _random_day(rng, date(year, 9, 10), date(year, 12, 20))


def _aid_records(
    rng: random.Random, people: _People, schools: Schools, year: int, targets: Targets
) -> list[AidRecord]:
    """The good aid rows: each line's person-times and exact amount, sorted like a ledger."""
    term_names = (f"{year}年春季学期", f"{year}年秋季学期")
    batch_dates: dict[tuple[str, str, int], date] = {}
    records: list[AidRecord] = []
    for stage in STAGES:
        lines = [line for line in targets.aid if line.stage == stage and line.person_times]
        if not lines:
            continue
        terms = {line: _split_terms(rng, line.person_times) for line in lines}
        pool = _student_pool(rng, people, schools, stage, year, terms)
        for line in lines:
            eligible = [s for s in pool if s.poor] if (stage, line.programme) in POOR_ONLY else pool
            chosen = [(t, s) for t, k in enumerate(terms[line]) for s in rng.sample(eligible, k)]
            for (t, student), fen in zip(chosen, _line_amounts(rng, line), strict=True):
                key = (student.school, line.programme, t)
                if key not in batch_dates:
                    batch_dates[key] = _term_dates(rng, year, t)
                records.append(
                    AidRecord(
                        student.school,
                        stage,
                        line.programme,
                        student.name,
                        student.id_no,
                        student.poor,
                        term_names[t],
                        fen,
                        batch_dates[key],
                    )
                )
    order = {name: i for stage in STAGES for i, name in enumerate(schools.for_stage(stage)[0])}
    records.sort(
        key=lambda r: (
            STAGES.index(r.stage),
            order[r.school],
            PROGRAMMES[r.stage].index(r.programme),
            r.term,
            r.id_no,
        )
    )
    return records


def _check_aid(records: Sequence[AidRecord], targets: Targets) -> None:
    """Guard: the good rows yield exactly the targets, and no one is paid twice."""
    got: dict[tuple[str, str], list[int]] = {}
    seen: set[tuple[str, str, str]] = set()
    for r in records:
        if r.bad:
            continue
        key = (r.id_no, r.programme, r.term)
        if key in seen:
            raise AssertionError(f"paid twice: {key}")
        seen.add(key)
        acc = got.setdefault((r.stage, r.programme), [0, 0])
        acc[0] += 1
        acc[1] += r.amount_fen
    want = {
        (a.stage, a.programme): [a.person_times, a.amount_fen]
        for a in targets.aid
        if a.person_times
    }
    if got != want:
        raise AssertionError(f"aid rows {got} != targets {want}")


def _plant(
    rng: random.Random, people: _People, records: list[AidRecord], kinds: Iterable[str], year: int
) -> list[AidRecord]:
    """Insert one bad row of each kind right after a random good row of its stage."""
    inserts: dict[int, list[AidRecord]] = {}
    if kinds and not records:
        raise ValueError("cannot plant bad rows in an empty aid ledger")
    for kind in kinds:
        if kind not in BAD_KINDS:
            raise ValueError(f"unknown bad-row kind {kind!r}; use one of {BAD_KINDS}")
        hosts = [i for i, r in enumerate(records) if r.stage == _BAD_STAGE[kind]]
        host_index = rng.choice(hosts or range(len(records)))
        host = records[host_index]
        inserts.setdefault(host_index, []).append(_bad_record(people, host, kind, year))
    out: list[AidRecord] = []
    for i, record in enumerate(records):
        out.append(record)
        out.extend(inserts.get(i, []))
    return out


def _bad_record(people: _People, host: AidRecord, kind: str, year: int) -> AidRecord:
    if kind == "duplicate":
        return replace(host, bad=kind)
    name, id_no = people.aged(year, *STAGE_AGES[host.stage])
    unit = UNIT_FEN.get((host.stage, host.programme), host.amount_fen)
    record = replace(host, name=name, id_no=id_no, amount_fen=unit, bad=kind)
    if kind == "zero_amount":
        return replace(record, amount_fen=0)
    if kind == "bad_check_digit":
        checks = "0123456789X"
        wrong = checks[(checks.index(id_no[-1]) + 1) % len(checks)]
        return replace(record, id_no=id_no[:-1] + wrong)
    return replace(record, paid_on=date(year - 1, 12, 28))


# ------------------------------------------------------------------ other ledgers


@dataclass(frozen=True)
class Officer:
    """One row of the officer roster."""

    name: str
    gender: str
    unit: str
    cert_no: str | None
    issued: date | None
    valid_until: date | None
    employment: str
    hours: int


def _officers(
    rng: random.Random, people: _People, county: str, year: int, targets: Targets
) -> list[Officer]:
    """The roster: certified 在编 officers, then any without a certificate, in random order."""
    certified = targets.officers - targets.officers_uncertified - targets.officers_contract
    kinds = ["certified"] * certified + ["uncertified"] * targets.officers_uncertified
    kinds += ["contract"] * targets.officers_contract
    rng.shuffle(kinds)
    roster = []
    for k, kind in enumerate(kinds, start=1):
        name = people.name()
        gender = "男" if rng.random() < 0.65 else "女"
        unit = _UNITS[(k - 1) % len(_UNITS)] if k <= len(_UNITS) else rng.choice(_UNITS)
        hours = rng.choice((40, 42, 44, 48, 52, 56, 60, 64, 72))
        if kind == "certified":
            issued = _random_day(rng, date(year - 3, 1, 1), date(year, 6, 28))
            valid = date(issued.year + 5, issued.month, min(issued.day, 28)) - timedelta(days=1)
            cert = f"{area_code(county)}{issued.year}{k:04d}"
            roster.append(Officer(name, gender, unit, cert, issued, valid, "在编", hours))
        else:
            employment = "在编" if kind == "uncertified" else rng.choice(("合同工", "临时工"))
            roster.append(Officer(name, gender, unit, None, None, None, employment, hours))
    return roster


@dataclass(frozen=True)
class Exchange:
    """One row of the exchange ledger."""

    name: str
    id_no: str
    role: str
    kind: str
    from_school: str
    to_school: str
    start: date


def _exchanges(
    rng: random.Random, people: _People, schools: Schools, year: int, targets: Targets
) -> list[Exchange]:
    """交流轮岗 (one row per person, mostly central to village), then 走教."""
    rows = []
    roles = ["教师"] * targets.rotation_teachers + ["校长"] * targets.rotation_principals
    rng.shuffle(roles)
    for role in roles:
        name, id_no = people.aged(year, 23, 58)
        if rng.random() < 0.7:
            src, dst = rng.choice(schools.central), rng.choice(schools.village)
        else:
            src, dst = rng.choice(schools.village), rng.choice(schools.central)
        start = (
            _random_day(rng, date(year, 8, 25), date(year, 9, 1))
            if rng.random() < 0.9
            else _random_day(rng, date(year, 2, 14), date(year, 2, 21))
        )
        rows.append(Exchange(name, id_no, role, "交流轮岗", src, dst, start))
    return rows + _itinerant(rng, people, schools, year, targets)


def _itinerant(
    rng: random.Random, people: _People, schools: Schools, year: int, targets: Targets
) -> list[Exchange]:
    """走教: teachers from central schools, one row per village school served (1–3 each)."""
    n_teachers, n_schools = targets.itinerant_teachers, targets.itinerant_schools
    served = rng.sample(schools.village, n_schools)
    plan: list[list[str]] = [[] for _ in range(n_teachers)]
    for k, school in enumerate(served):
        plan[k % n_teachers].append(school)
    for schools_of in plan:
        extra = [s for s in served if s not in schools_of]
        if extra and (not schools_of or (len(schools_of) < 3 and rng.random() < 0.3)):
            schools_of.append(rng.choice(extra))
    rows = []
    for schools_of in plan:
        name, id_no = people.aged(year, 25, 55)
        home = rng.choice(schools.central)
        start = _random_day(rng, date(year, 8, 29), date(year, 9, 5))
        rows += [Exchange(name, id_no, "教师", "走教", home, s, start) for s in schools_of]
    return rows


@dataclass(frozen=True)
class Institution:
    """A private institution: name, type and licence (None = unlicensed)."""

    name: str
    kind: str
    licence: str | None


class _Institutions:
    """Draws distinct institution names and licence numbers for one county."""

    def __init__(self, rng: random.Random, county: str, schools: Schools) -> None:
        self.rng, self.county, self.towns = rng, county, schools.towns
        self._used: set[str] = set()
        self._serial = 0

    def _unique(self, place: str | None, suffixes: Sequence[str]) -> str:
        while True:
            where = place or self.rng.choice(self.towns)
            name = where + self.rng.choice(_INST_WORDS) + self.rng.choice(suffixes)
            if name not in self._used:
                self._used.add(name)
                return name

    def licensed(self, kind: str) -> Institution:
        place = self.county if self.rng.random() < 0.6 else None
        name = self._unique(place, _INST_SUFFIX[kind])
        self._serial += 1
        licence = f"教民{area_code(self.county)}{_LICENCE_CODE[kind]}{self._serial:07d}号"
        return Institution(name, kind, licence)

    def unlicensed(self) -> Institution:
        return Institution(self._unique(None, _UNLICENSED_SUFFIX), "校外培训机构", None)


@dataclass(frozen=True)
class Inspection:
    """One row of the inspection ledger."""

    institution: Institution
    day: date
    result: str


def _inspections(
    rng: random.Random, book: _Institutions, year: int, targets: Targets
) -> list[Inspection]:
    """合格 (some institutions twice), 限期整改 (licensed) and 取缔 (unlicensed), by date."""

    def kind() -> str:
        r = rng.random()
        return "民办幼儿园" if r < 0.55 else "民办中小学" if r < 0.65 else "校外培训机构"

    def day(start: tuple[int, int], end: tuple[int, int]) -> date:
        return _random_day(rng, date(year, *start), date(year, *end))

    passed = [book.licensed(kind()) for _ in range(targets.inspected_pass)]
    twice = set(rng.sample(range(len(passed)), targets.inspected_twice))
    rows = []
    for i, inst in enumerate(passed):
        if i in twice:
            rows += [
                Inspection(inst, day((4, 1), (6, 15)), "合格"),
                Inspection(inst, day((10, 8), (12, 15)), "合格"),
            ]
        else:
            rows.append(Inspection(inst, day((3, 1), (11, 30)), "合格"))
    rows += [
        Inspection(book.licensed(kind()), day((3, 1), (11, 30)), "限期整改")
        for _ in range(targets.rectify)
    ]
    rows += [
        Inspection(book.unlicensed(), day((3, 1), (12, 15)), "取缔")
        for _ in range(targets.banned_unlicensed)
    ]
    return sorted(rows, key=lambda r: (r.day, r.institution.name))


@dataclass(frozen=True)
class Approval:
    """One row of the approvals ledger."""

    institution: Institution
    day: date


def _approvals(
    rng: random.Random, book: _Institutions, year: int, targets: Targets
) -> list[Approval]:
    """New licences of the year: kindergartens and 校外培训机构, by date."""
    kinds = ["民办幼儿园"] * targets.kindergartens_approved
    kinds += ["校外培训机构"] * targets.other_approved
    rows = [
        Approval(book.licensed(k), _random_day(rng, date(year, 1, 10), date(year, 12, 20)))
        for k in kinds
    ]
    return sorted(rows, key=lambda r: (r.day, r.institution.name))


# ------------------------------------------------------------------ cell rendering


def _fmt_yuan(fen: int, thousands: bool = False) -> str:
    """Exact yuan text with two decimals, e.g. 100000 -> '1000.00' or '1,000.00'."""
    sign, fen = ("-" if fen < 0 else ""), abs(fen)
    yuan, cents = divmod(fen, 100)
    return f"{sign}{yuan:,}.{cents:02d}" if thousands else f"{sign}{yuan}.{cents:02d}"


def _short_yuan(fen: int) -> str:
    """Yuan as a clerk types it: '1000' or '417.53'."""
    yuan, cents = divmod(fen, 100)
    return str(yuan) if cents == 0 else f"{yuan}.{cents:02d}"


def _number(fen: int) -> int | float:
    """An amount as an Excel number: int when whole yuan, else a two-decimal float."""
    return fen // 100 if fen % 100 == 0 else fen / 100


_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def _date_text(day: date, form: int) -> str:
    return (
        f"{day:%Y-%m-%d}",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
    )[form]


def _excel_serial(day: date) -> int:
    return (day - date(1899, 12, 30)).days


_STAGE_SHORT_XLSX = {
    "中等职业教育": (("中职", 0.08), ("职中", 0.04)),
    "普通高中": (("普高", 0.08),),
    "学前教育": (("学前", 0.10),),
}
_STAGE_SHORT_CSV = {
    "中等职业教育": (("职业高中", 0.06),),
    "普通高中": (("高中", 0.06),),
    "学前教育": (("幼儿园", 0.08),),
    "义务教育": (("义务", 0.05),),
}


def _stage_text(rng: random.Random, stage: str, table: dict[str, Any]) -> str:
    r = rng.random()
    for short, p in table.get(stage, ()):
        if r < p:
            return short
        r -= p
    return stage


def _amount_cell(rng: random.Random, fen: int, as_csv: bool) -> Any:
    r = rng.random()
    if r < 0.05:
        return _fmt_yuan(fen, thousands=True)
    if r < 0.08:
        return _short_yuan(fen) + "元"
    if r < 0.13:
        return _short_yuan(fen)
    if r < 0.135:
        return _fullwidth(_short_yuan(fen))
    return _fmt_yuan(fen) if as_csv else _number(fen)


def _date_cell(rng: random.Random, day: date, as_csv: bool) -> Any:
    r = rng.random()
    if r < 0.16:
        return _date_text(day, int(r / 0.04))
    if as_csv and r < 0.2:
        return str(_excel_serial(day))
    return _date_text(day, 0) if as_csv else day


def _school_cell(rng: random.Random, school: str) -> str:
    r = rng.random()
    if r < 0.001:
        return " " + school
    if r < 0.002:
        return school + " "
    if r < 0.0025:
        return school + "\n"
    return school


def _aid_cells(rng: random.Random, r: AidRecord, serial: int, style: str) -> list[Any]:
    """The cells of one aid row; bad rows are written plainly so only their mistake shows."""
    as_text = style != "messy_xlsx"  # a CSV holds text only
    school, stage, id_no = r.school, r.stage, r.id_no
    if style == "canonical" or r.bad:
        amount = _fmt_yuan(r.amount_fen) if as_text else _number(r.amount_fen)
        paid = _date_text(r.paid_on, 0) if as_text else r.paid_on
    else:
        stage = _stage_text(rng, r.stage, _STAGE_SHORT_CSV if as_text else _STAGE_SHORT_XLSX)
        amount = _amount_cell(rng, r.amount_fen, as_text)
        paid = _date_cell(rng, r.paid_on, as_text)
        if not as_text:
            school = _school_cell(rng, r.school)
        if rng.random() < 0.001:
            id_no = _fullwidth(id_no)
    return [
        serial,
        school,
        stage,
        r.programme,
        r.name,
        id_no,
        "是" if r.poor else "否",
        r.term,
        amount,
        paid,
    ]


def _aid_rows(rng: random.Random, records: Sequence[AidRecord], style: str) -> list[list[Any]]:
    """All data rows; a duplicate repeats its host's cells exactly (序号 included)."""
    rows: list[list[Any]] = []
    serial = 0
    for r in records:
        if r.bad == "duplicate":
            rows.append(list(rows[-1]))
            continue
        serial += 1
        rows.append(_aid_cells(rng, r, serial, style))
    return rows


# ------------------------------------------------------------------ file writers


@dataclass(frozen=True)
class PlantedRow:
    """A bad row planted in a ledger: where it is and what is wrong with it."""

    ledger: str
    file: str
    row: int  # as the analyst sees it: Excel row number, or CSV line number
    kind: str
    column: str | None
    reason: str


@dataclass(frozen=True)
class Manifest:
    """What :func:`write_county_year` wrote."""

    folder: Path
    files: dict[str, str]  # ledger -> file name
    planted: tuple[PlantedRow, ...]
    targets: Targets


def _stamp(year: int) -> datetime:
    return datetime(year + 1, 1, 10, 9, 30, 0)


def _save_workbook(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save with fixed document and zip timestamps, so equal content gives equal bytes."""
    wb.properties.creator = "synthetic"
    wb.properties.created = stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    moment = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(buffer) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + moment, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, data)


def _write_csv(path: Path, rows: Iterable[Sequence[Any]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _title_sheet(ws: Any, title: str, width: int) -> None:
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")


def _widths(ws: Any, widths: Sequence[int]) -> None:
    for j, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + j)].width = w


def _write_aid_xlsx(
    path: Path, county: str, year: int, rows: list[list[Any]], total_fen: int
) -> int:
    """Notes sheet, then the data sheet; returns the Excel row of the first data row."""
    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    for line in _AID_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    ws = wb.create_sheet("资助台账")
    _title_sheet(ws, f"{county}{year}年学生资助发放台账", len(AID_HEADER))
    ws.append([f"填报单位：{county}教育局    单位：元"])
    ws.append(list(AID_HEADER))
    first = 4
    for i, row in enumerate(rows):
        ws.append(row)
        if isinstance(row[8], int | float):
            ws.cell(first + i, 9).number_format = "#,##0.00"
    ws.append([])
    ws.append(["合计", None, None, None, None, None, None, None, _number(total_fen)])
    ws.cell(first + len(rows) + 1, 9).number_format = "#,##0.00"
    ws.freeze_panes = "A4"
    _widths(ws, (8, 24, 14, 34, 10, 22, 12, 16, 12, 14))
    _save_workbook(wb, path, _stamp(year))
    return first


def _write_aid_csv(path: Path, rows: list[list[Any]], total_fen: int, style: str) -> int:
    """Returns the CSV line of the first data row."""
    if style == "canonical":
        _write_csv(path, [list(AID_HEADER), *rows], "utf-8")
        return 2
    header = _words("序号 学校 学段 资助项目 姓名 身份证号 是否建档立卡 学期 金额(元) 发放日期")
    tail = [[""] * len(header), ["合计", *[""] * 7, _fmt_yuan(total_fen), ""]]  # blank, total
    _write_csv(path, [header, *rows, *tail], "gb18030")
    return 2


def _rename_rare(records: list[AidRecord]) -> list[AidRecord]:
    """Give one 普通高中 student a name with 䶮 (GB18030 only, not GBK), on all of their rows."""
    target = next((r.id_no for r in records if r.stage == "普通高中" and not r.bad), None)
    return [replace(r, name=r.name[0] + "䶮") if r.id_no == target else r for r in records]


def _write_aid(
    folder: Path, county: str, year: int, records: list[AidRecord], style: str, rng: random.Random
) -> tuple[str, list[PlantedRow]]:
    if style == "messy_csv":
        records = _rename_rare(records)
    rows = _aid_rows(rng, records, style)
    total = sum(r.amount_fen for r in records)
    if style == "messy_xlsx":
        name = f"{year}年学生资助发放台账（终版）.xlsx"
        first = _write_aid_xlsx(folder / name, county, year, rows, total)
    else:
        name = f"{year}年学生资助发放台账.csv"
        first = _write_aid_csv(folder / name, rows, total, style)
    planted = [_planted_row(name, first + i, r.bad) for i, r in enumerate(records) if r.bad]
    return name, planted


def _planted_row(file: str, row: int, kind: str) -> PlantedRow:
    reason, column = _BAD_REASON[kind]
    return PlantedRow("aid", file, row, kind, column, reason)


def _write_control(folder: Path, year: int, targets: Targets, style: str) -> str:
    name = f"{year}年资助资金拨付汇总表.csv"
    rows: list[list[Any]] = [list(CONTROL_HEADER)]
    rows += [
        [a.stage, a.programme, a.person_times, _fmt_yuan(a.amount_fen)]
        for a in targets.aid
        if a.person_times
    ]
    if style == "canonical":
        _write_csv(folder / name, rows, "utf-8")
    else:
        rows.append(["合计", "", targets.aid_person_times, _fmt_yuan(targets.aid_amount_fen)])
        _write_csv(folder / name, rows, "gbk")
    return name


def _write_officers(folder: Path, county: str, year: int, roster: list[Officer], style: str) -> str:
    rows = [
        [o.name, o.gender, o.unit, o.cert_no, o.issued, o.valid_until, o.employment, o.hours]
        for o in roster
    ]
    if style == "canonical":
        name = "行政执法人员名册.csv"
        _write_csv(folder / name, [OFFICER_HEADER, *(_iso_row(r) for r in rows)], "utf-8")
        return name
    word = "正式" if style == "messy_xlsx" else "编内"
    for row in rows:
        if row[6] == "在编":
            row[6] = word
            break
    if len(rows) > 2:
        rows[2][7] = str(rows[2][7])  # training hours stored as text
    name = "行政执法人员名册.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "执法人员"
    _title_sheet(ws, f"{county}教育局行政执法人员名册（{year}年）", len(OFFICER_HEADER))
    ws.append(list(OFFICER_HEADER))
    for row in rows:
        ws.append(row)
    _widths(ws, (10, 6, 18, 20, 12, 12, 10, 14))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


def _iso_row(row: Sequence[Any]) -> list[Any]:
    return ["" if v is None else f"{v:%Y-%m-%d}" if isinstance(v, date) else v for v in row]


def _write_exchange(
    folder: Path, county: str, year: int, rows: list[Exchange], style: str, rng: random.Random
) -> str:
    cells = [[e.name, e.id_no, e.role, e.kind, e.from_school, e.to_school, e.start] for e in rows]
    if style == "messy_csv":
        name = f"{year}年教师校长交流台账.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.title = "交流台账"
        _title_sheet(
            ws, f"{county}{year}年义务教育教师校长交流轮岗及走教情况", len(EXCHANGE_HEADER)
        )
        ws.append(list(EXCHANGE_HEADER))
        for row in cells:
            ws.append(row)
        _widths(ws, (10, 22, 8, 10, 24, 24, 12))
        _save_workbook(wb, folder / name, _stamp(year))
        return name
    name = f"{year}年教师校长交流台账.csv"
    if style == "canonical":
        _write_csv(folder / name, [EXCHANGE_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
        return name
    for row in cells:
        r = rng.random()
        row[6] = _date_text(row[6], 1 if r < 0.1 else 3 if r < 0.15 else 0)
    header = list(EXCHANGE_HEADER)
    header[1] = "证件号码"
    _write_csv(folder / name, [header, *cells], "utf-8-sig")
    return name


def _inst_rows(rows: Sequence[Inspection | Approval]) -> list[list[Any]]:
    out = []
    for r in rows:
        i = r.institution
        if isinstance(r, Inspection):
            out.append([i.name, i.kind, i.licence, r.day, r.result])
        else:
            out.append([i.name, i.kind, r.day, i.licence])
    return out


def _write_inspections(
    folder: Path, county: str, year: int, rows: list[Inspection], style: str, rng: random.Random
) -> str:
    cells = _inst_rows(rows)
    if style == "canonical":
        name = f"{year}年民办教育机构检查台账.csv"
        _write_csv(folder / name, [INSPECTION_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
        return name
    name = f"{year}年民办教育机构检查台账.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "检查台账"
    if style == "messy_xlsx":
        _title_sheet(ws, f"{county}{year}年民办教育机构检查情况", len(INSPECTION_HEADER))
    else:
        for row in cells:
            row[3] = _date_text(row[3], 3 if rng.random() < 0.6 else 2)
    ws.append(list(INSPECTION_HEADER))
    for row in cells:
        ws.append(row)
    _widths(ws, (30, 14, 28, 14, 10))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


def _write_approvals(folder: Path, year: int, rows: list[Approval], style: str) -> str:
    cells = _inst_rows(rows)
    if style == "messy_xlsx":
        name = f"{year}年民办教育机构审批台账.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.title = "审批台账"
        ws.append(list(APPROVAL_HEADER))
        for row in cells:
            ws.append(row)
        _widths(ws, (30, 14, 14, 28))
        _save_workbook(wb, folder / name, _stamp(year))
        return name
    name = f"{year}年民办教育机构审批台账.csv"
    if style == "messy_csv":
        for row in cells:
            row[2] = _date_text(row[2], 1)
    _write_csv(folder / name, [APPROVAL_HEADER, *(_iso_row(r) for r in cells)], "utf-8")
    return name


_TOPICS = {
    "执法人员": (
        "行政处罚法与执法程序",
        "行政执法文书规范",
        "行政执法“三项制度”",
        "行政复议与应诉实务",
    ),
    "机关干部": ("宪法学习", "民法典与依法行政", "党内法规与廉政教育"),
    "教师": ("未成年人保护法", "教师法与师德规范", "校园安全与依法治校", "预防未成年人犯罪法"),
    "学生": ("宪法进校园", "防范校园欺凌", "禁毒与防诈骗", "交通安全法治课"),
}


def _split(rng: random.Random, total: int, n: int) -> list[int]:
    """``total`` as ``n`` positive parts (each ≥ 1), exactly."""
    cuts = sorted(rng.sample(range(1, total), n - 1)) if n > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _training_rows(rng: random.Random, year: int, lines: Sequence[TrainingLine]) -> list[list[Any]]:
    rows = []
    for line in lines:
        people = _split(rng, line.participants, line.sessions)
        hours = _split(rng, line.hours, line.sessions)
        for k in range(line.sessions):
            day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
            topic = rng.choice(_TOPICS[line.audience])
            rows.append([day, topic, line.audience, people[k], hours[k]])
    rows.sort(key=lambda r: r[0])
    return rows


def _write_training(
    folder: Path, county: str, year: int, lines: Sequence[TrainingLine], style: str,
    rng: random.Random,
) -> str:  # fmt: skip
    rows = _training_rows(rng, year, lines)
    header = ["序号", "培训日期", "培训主题", "培训对象", "参训人数", "学时"]
    if style == "messy_csv":
        name = f"{year}年法治培训台账.csv"
        body = [[i, _date_text(r[0], i % 3), *r[1:]] for i, r in enumerate(rows, 1)]
        _write_csv(folder / name, [header, *body], "utf-8-sig")
        return name
    name = f"{year}年法治培训台账.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "培训台账"
    _title_sheet(ws, f"{county}教育局{year}年度法治培训台账", len(header))
    ws.append(header)
    for i, r in enumerate(rows, 1):
        ws.append([i, r[0].isoformat() if style == "canonical" else r[0], *r[1:]])
    ws.append(["合计", None, None, None, sum(r[3] for r in rows), sum(r[4] for r in rows)])
    _widths(ws, (6, 14, 30, 12, 10, 8))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


_CAUSES = (
    "不服行政处罚决定",
    "不服信息公开答复",
    "不服办学许可审批",
    "不服行政检查结论",
    "履行法定职责",
)


def _case_rows(rng: random.Random, year: int, counts: CaseCounts) -> list[list[Any]]:
    def outcomes(n: int, corrected: int, others: Sequence[str]) -> list[str]:
        fixed = [rng.choice(("撤销", "确认违法", "责令履行")) for _ in range(corrected)]
        return fixed + [rng.choice(others) for _ in range(n - corrected)]

    review = outcomes(counts.review, counts.review_corrected, ("维持", "驳回", "撤回"))
    suits = outcomes(counts.litigation, counts.litigation_lost, ("驳回", "维持", "撤回"))
    appeared = [True] * counts.principal_appeared
    appeared += [False] * (counts.litigation - counts.principal_appeared)
    rng.shuffle(appeared)
    rows = []
    for k, outcome in enumerate(review, 1):
        day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
        rows.append(
            [f"县府复决字〔{year}〕{k}号", "行政复议", day, rng.choice(_CAUSES), outcome, ""]
        )
    for k, outcome in enumerate(suits, 1):
        day = _random_day(rng, date(year, 1, 5), date(year, 12, 20))
        number = f"（{year}）行初{10 + 7 * k}号"
        rows.append([number, "行政诉讼", day, rng.choice(_CAUSES), outcome,
                     "是" if appeared[k - 1] else "否"])  # fmt: skip
    rows.sort(key=lambda r: r[2])
    return rows


def _write_cases(
    folder: Path, county: str, year: int, counts: CaseCounts, style: str, rng: random.Random
) -> str:
    rows = _case_rows(rng, year, counts)
    header = ["序号", "案号", "案件类型", "收案日期", "案由", "处理结果", "负责人是否出庭"]
    if style == "messy_csv":
        name = f"{year}年行政复议和行政应诉案件台账.csv"
        body = [[i, r[0], r[1], _date_text(r[2], 1), *r[3:]] for i, r in enumerate(rows, 1)]
        _write_csv(folder / name, [header, *body], "utf-8-sig")
        return name
    name = f"{year}年行政复议和行政应诉案件台账.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "案件台账"
    _title_sheet(ws, f"{county}教育局{year}年度行政复议和行政应诉案件台账", len(header))
    ws.append(header)
    for i, r in enumerate(rows, 1):
        ws.append([i, r[0], r[1], r[2].isoformat() if style == "canonical" else r[2], *r[3:]])
    _widths(ws, (6, 24, 12, 14, 24, 12, 16))
    _save_workbook(wb, folder / name, _stamp(year))
    return name


# ------------------------------------------------------------------ public writers


def write_county_year(
    folder: Path,
    county: str,
    year: int,
    targets: Targets,
    seed: int,
    style: str = "canonical",
    plant: Sequence[str] = (),
) -> Manifest:
    """Write one county-year's ledgers into ``folder`` (the optional ones where ``targets`` has
    them); ``plant`` adds bad aid rows.

    The good rows yield exactly ``targets``; each kind in ``plant`` (see :data:`BAD_KINDS`)
    adds one bad row to the aid ledger, listed in the returned manifest. Same seed, same files.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {STYLES}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{county}:{year}:{part}")

    schools = school_catalogue(county)
    people = _People(rng("people"), area_code(county))
    records = _aid_records(rng("aid"), people, schools, year, targets)
    _check_aid(records, targets)
    records = _plant(rng("plant"), people, records, plant, year)
    roster = _officers(rng("officers"), people, county, year, targets)
    exchanges = _exchanges(rng("exchange"), people, schools, year, targets)
    book = _Institutions(rng("institutions"), county, schools)
    inspections = _inspections(rng("inspections"), book, year, targets)
    approvals = _approvals(rng("approvals"), book, year, targets)
    aid_name, planted = _write_aid(folder, county, year, records, style, rng("aid-cells"))
    files = {
        "aid": aid_name,
        "control": _write_control(folder, year, targets, style),
        "officers": _write_officers(folder, county, year, roster, style),
        "exchange": _write_exchange(folder, county, year, exchanges, style, rng("ex-cells")),
        "inspections": _write_inspections(
            folder, county, year, inspections, style, rng("inspection-cells")
        ),
        "approvals": _write_approvals(folder, year, approvals, style),
    }
    if targets.training:
        files["training"] = _write_training(
            folder, county, year, targets.training, style, rng("training")
        )
    if targets.cases:
        files["cases"] = _write_cases(folder, county, year, targets.cases, style, rng("cases"))
    narrative = folder / "narrative.md"
    if not narrative.exists():  # a generated county-year publishes: its narrative is finished
        narrative.write_text(finished_narrative(), encoding="utf-8")
    return Manifest(folder, files, tuple(planted), targets)


def finished_narrative() -> str:
    """The narrative scaffold written out: each 待填写 replaced by its own instruction as text,
    no 同比 (``.change``: a generated county-year has no last year)."""
    from edureport.report.narrative import template_text

    text = re.sub(r"（待填写：([^（）]*)）", r"\1", template_text())
    return re.sub(r"\{\{\s*[a-z_]+\.change\s*\}\}", "", text)


SAMPLE_SEEDS = {2022: 20221231, 2021: 20211231}
_SAMPLE_STYLE = {
    2022: ("messy_xlsx", BAD_KINDS, targets_2022_sample),
    2021: ("messy_csv", ("duplicate",), targets_2021_sample),
}
# The bad rows planted in the bundled samples: Excel row (2022) / CSV line (2021) -> kind.
# The tests assert that the generator still plants exactly these.
SAMPLE_2022_BAD_ROWS = {
    221: "zero_amount",
    1038: "duplicate",
    4913: "bad_check_digit",
    10519: "wrong_year",
}
SAMPLE_2021_BAD_ROWS = {1182: "duplicate"}


def sample_planted(year: int) -> tuple[PlantedRow, ...]:
    """The bad rows planted in the bundled sample of ``year``, as the manifest lists them."""
    file, rows = {
        2022: ("2022年学生资助发放台账（终版）.xlsx", SAMPLE_2022_BAD_ROWS),
        2021: ("2021年学生资助发放台账.csv", SAMPLE_2021_BAD_ROWS),
    }[year]
    return tuple(_planted_row(file, row, kind) for row, kind in sorted(rows.items()))


def write_sample(raw_dir: Path, year: int, county: str = "示例县") -> Manifest:
    """Write the bundled sample of ``year`` (2021 or 2022) to ``raw_dir/<county>/<year>/``."""
    style, plant, targets = _SAMPLE_STYLE[year]
    folder = Path(raw_dir) / county / str(year)
    return write_county_year(folder, county, year, targets(), SAMPLE_SEEDS[year], style, plant)


# ------------------------------------------------------------------ large, vectorised


# 40 county codes in use (GB/T 2260), one per stage (4) and block of 1000 × days of students.
_LARGE_AREAS = _words(
    "110101 110102 110105 110106 110107 110108 110109 110111 110112 110113 110114 110115 "
    "110116 110117 110118 110119 120101 120102 120103 120104 120105 120106 120110 120111 "
    "120112 120113 120114 120115 120116 120117 120118 120119 310101 310104 310105 310106 "
    "310107 310109 310110 310112"
)


def _id_matrix(stage: str, numbers: np.ndarray, year: int) -> np.ndarray:
    """Valid IDs, as an (n, 18) ASCII matrix, one per distinct student number of a stage."""
    youngest, oldest = STAGE_AGES[stage]
    first = np.datetime64(f"{year - oldest}-01-01")
    days = int((np.datetime64(f"{year - youngest}-12-31") - first).astype(int)) + 1
    born = first + (numbers % days).astype("timedelta64[D]")
    seq, block = numbers // days % 1000, numbers // days // 1000
    if numbers.size and block.max() > 9:
        raise ValueError("too many students for one stage; lower n_rows")
    month_start = born.astype("datetime64[M]")
    fields = (
        (born.astype("datetime64[Y]").astype(np.int64) + 1970, 4),
        (month_start.astype(np.int64) % 12 + 1, 2),
        ((born - month_start).astype(np.int64) + 1, 2),
        (seq, 3),
    )
    digits = np.empty((numbers.size, 17), dtype=np.int64)
    areas = np.array([[int(d) for d in code] for code in _LARGE_AREAS], dtype=np.int64)
    digits[:, :6] = areas[STAGES.index(stage) * 10 + block]  # a real area per stage and block
    col = 6
    for value, width in fields:
        for j in range(width):
            digits[:, col] = value // 10 ** (width - 1 - j) % 10
            col += 1
    weights = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits @ weights) % 11]
    return np.column_stack([(digits + ord("0")).astype(np.uint8), check])


def _large_counts(n_rows: int) -> dict[tuple[str, str], int]:
    """Rows per stage + programme in the 2022 sample's proportions (largest remainder)."""
    lines = targets_2022_sample().aid
    total = sum(a.person_times for a in lines)
    raw = [n_rows * a.person_times / total for a in lines]
    counts = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: n_rows - sum(counts)]:
        counts[i] += 1
    return {(a.stage, a.programme): c for a, c in zip(lines, counts, strict=True)}


def _large_amounts(gen: np.random.Generator, stage: str, programme: str, n: int) -> np.ndarray:
    unit = UNIT_FEN.get((stage, programme))
    if unit is not None:
        p_half = 0.011 if (stage, programme) == ("普通高中", "国家助学金") else 0.0
        return np.where(gen.random(n) < p_half, unit // 2, unit).astype(np.int64)
    lo, hi = VARYING_RANGE_FEN[(stage, programme)]
    yuan = gen.integers(lo // 100, hi // 100, n, endpoint=True) * 100
    cents = np.where(gen.random(n) < 0.1, gen.integers(0, 100, n), 0)
    return np.minimum(yuan + cents, hi).astype(np.int64)


@dataclass
class _LargeStage:
    """Per-student attributes of one stage in the large ledger, drawn once, as codes."""

    numbers: np.ndarray  # a permutation: student k's ID is built from numbers[k]
    school: np.ndarray  # code into the ledger's school dictionary
    name: np.ndarray  # code into the name pool
    poor: np.ndarray
    used: int = 0  # students handed out so far


def _large_stage(
    gen: np.random.Generator, stage: str, students: int, schools: Schools, pool_size: int
) -> _LargeStage:
    names, weights = schools.for_stage(stage)
    offset = sum(len(schools.for_stage(s)[0]) for s in STAGES[: STAGES.index(stage)])
    p = np.asarray(weights) / sum(weights)
    return _LargeStage(
        numbers=gen.permutation(students),
        school=offset + gen.choice(len(names), students, p=p),
        name=gen.integers(0, pool_size, students),
        poor=gen.random(students) < 0.15,
    )


_LARGE_PROGRAMMES = tuple(dict.fromkeys(p for s in STAGES for p in PROGRAMMES[s]))


def _large_part(
    gen: np.random.Generator, st: _LargeStage, stage: str, programme: str, count: int, year: int
) -> dict[str, np.ndarray]:
    """The columns of one programme (text columns as codes): each student paid in both terms."""
    rows = np.arange(count)
    local = st.used + rows // 2
    st.used += (count + 1) // 2
    term = rows % 2
    start = np.where(term == 0, np.datetime64(f"{year}-03-01"), np.datetime64(f"{year}-09-01"))
    return {
        "学校名称": st.school[local],
        "学段": np.full(count, STAGES.index(stage)),
        "资助项目": np.full(count, _LARGE_PROGRAMMES.index(programme)),
        "学生姓名": st.name[local],
        "身份证号": _id_matrix(stage, st.numbers[local], year).view("S18").ravel(),
        "是否建档立卡": (st.poor[local] | ((stage, programme) in POOR_ONLY)).astype(np.int64),
        "学期": term,
        "金额（元）": _large_amounts(gen, stage, programme, count),
        "发放日期": start + gen.integers(0, 110, count).astype("timedelta64[D]"),
    }


def _to_arrow(
    parts: list[dict[str, np.ndarray]], dictionaries: dict[str, Sequence[str]]
) -> pa.Table:
    n = sum(len(p["学段"]) for p in parts)
    data = {"序号": pa.array(np.arange(1, n + 1))}
    for column in AID_HEADER[1:]:
        values = np.concatenate([p[column] for p in parts])
        if column in dictionaries:
            codes = pa.array(values.astype(np.int32))
            words = pa.array(list(dictionaries[column]), type=pa.string())
            data[column] = pa.DictionaryArray.from_arrays(codes, words).cast(pa.string())
        elif column == "身份证号":
            data[column] = pa.array(values, type=pa.binary()).cast(pa.string())
        elif column == "金额（元）":
            data[column] = pa.array(values / 100)
        else:
            data[column] = pa.array(values.astype("datetime64[D]"))
    return pa.table(data)


def write_large_aid_csv(
    path: Path, n_rows: int, seed: int, *, county: str = "合成县", year: int = 2022
) -> tuple[AidLine, ...]:
    """Write a canonical UTF-8 aid ledger of ``n_rows`` good rows, fast (vectorised).

    Rows keep the 2022 sample's programme mix; each student is paid for one programme in both
    terms; IDs are unique and valid. Returns the totals per stage + programme (the control lines).
    """
    gen = np.random.default_rng(seed)
    counts = _large_counts(n_rows)
    schools = school_catalogue(county)
    people = _People(random.Random(f"{seed}:name-pool"), "")
    dictionaries = {
        "学校名称": [name for stage in STAGES for name in schools.for_stage(stage)[0]],
        "学段": STAGES,
        "资助项目": _LARGE_PROGRAMMES,
        "学生姓名": [people.name() for _ in range(4096)],
        "是否建档立卡": ("否", "是"),
        "学期": (f"{year}年春季学期", f"{year}年秋季学期"),
    }
    stages = {}
    for stage in STAGES:
        students = sum((c + 1) // 2 for (s, _), c in counts.items() if s == stage)
        stages[stage] = _large_stage(gen, stage, students, schools, 4096)
    parts, lines = [], []
    for (stage, programme), count in counts.items():
        part = _large_part(gen, stages[stage], stage, programme, count, year)
        amounts = part["金额（元）"]
        unit = UNIT_FEN.get((stage, programme))
        half = int((amounts == unit // 2).sum()) if unit else 0
        lines.append(AidLine(stage, programme, count, int(amounts.sum()), half))
        parts.append(part)
    table = _to_arrow(parts, dictionaries)
    with open(path, "wb") as fh:
        fh.write((",".join(AID_HEADER) + "\n").encode("utf-8"))
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, fh, options)
    return tuple(lines)


def write_large_county_year(
    folder: Path, county: str, year: int, n_aid_rows: int, seed: int
) -> Manifest:
    """A canonical county-year whose aid ledger has ``n_aid_rows`` rows (for benchmarks)."""
    folder = Path(folder)
    targets = random_targets(random.Random(seed))
    manifest = write_county_year(folder, county, year, targets, seed, "canonical")
    lines = write_large_aid_csv(
        folder / manifest.files["aid"], n_aid_rows, seed, county=county, year=year
    )
    targets = replace(targets, aid=lines)
    _write_control(folder, year, targets, "canonical")
    return replace(manifest, targets=targets)
