"""Rows of the other ledgers: officers, exchanges, inspections, approvals."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from synthetic.people import Schools, _People, _random_day, area_code
from synthetic.targets import Targets
from synthetic.vocabulary import (
    _INST_SUFFIX,
    _INST_WORDS,
    _LICENCE_CODE,
    _UNITS,
    _UNLICENSED_SUFFIX,
)

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
