"""What a generated county-year must yield: every count and amount of its good rows."""

from __future__ import annotations

import random
from dataclasses import dataclass

from synthetic.vocabulary import N_TOWNS, PROGRAMMES, UNIT_FEN, VARYING_RANGE_FEN

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
