"""Generated people (valid resident IDs in a real area code) and schools."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from edureport.ingest.ids import id_check_digit
from synthetic.vocabulary import _GIVEN, _SURNAMES, _TOWNS, _VILLAGES, N_TOWNS, _words

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
