"""Large ledgers for the benchmarks, written vectorised."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from synthetic.people import Schools, _People, school_catalogue
from synthetic.sample import write_county_year
from synthetic.targets import AidLine, random_targets, targets_2022_sample
from synthetic.vocabulary import (
    AID_HEADER,
    POOR_ONLY,
    PROGRAMMES,
    STAGE_AGES,
    STAGES,
    UNIT_FEN,
    VARYING_RANGE_FEN,
    _words,
)
from synthetic.writers import Manifest, _write_control

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
