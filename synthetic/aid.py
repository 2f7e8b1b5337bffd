"""Aid records that yield their targets exactly, and the bad rows planted among them."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from synthetic.people import Schools, _People, _random_day
from synthetic.targets import AidLine, Targets
from synthetic.vocabulary import (
    _BAD_STAGE,
    BAD_KINDS,
    POOR_ONLY,
    PROGRAMMES,
    STAGE_AGES,
    STAGES,
    UNIT_FEN,
    VARYING_RANGE_FEN,
)

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
