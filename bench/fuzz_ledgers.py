"""Fuzz the sample ledgers with many random mutations and summarise what happened.

    .venv/bin/python bench/fuzz_ledgers.py [cases per file and mode, default 200] [seed]

For every sample file of data/raw/示例县/2022 (the aid workbook both cut to 60 rows and whole),
mutates the file's bytes, its cells (and, for workbooks, one unzipped part), reads and cleans
it, and counts the outcomes: read, refused (InputError), cell error. Any other exception is a
bug: its traceback is printed once per kind and the mutated file kept under bench/fuzz-found/ to
reproduce it.
"""

from __future__ import annotations

import collections
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import SAMPLE_DIR  # noqa: E402
from tests.test_fuzz import (  # noqa: E402
    CELL_OPS,
    OPS,
    mutate,
    mutate_csv_cells,
    mutate_part,
    mutate_xlsx_cells,
    parts,
    run_one,
    targets,
)

FOUND = ROOT / "bench" / "fuzz-found"


def random_ops(rng: random.Random, ops: tuple[str, ...]) -> list[tuple[str, int, int, int]]:
    return [
        (rng.choice(ops), rng.randrange(2**31), rng.randint(1, 64), rng.randrange(2**16))
        for _ in range(rng.randint(1, 6))
    ]


def main(per_mode: int, seed: int) -> int:
    rng = random.Random(seed)
    files = dict(targets())
    aid = next(n for n, (ledger, _) in files.items() if ledger == "aid")
    files[f"whole:{aid}"] = ("aid", (SAMPLE_DIR / aid).read_bytes())
    outcomes: collections.Counter[str] = collections.Counter()
    bugs: dict[str, int] = {}
    slowest = (0.0, "")
    total = 0
    for label, (ledger, data) in files.items():
        name = label.removeprefix("whole:")
        modes = ["bytes", "cells", "part"] if name.endswith(".xlsx") else ["bytes", "cells"]
        n = max(1, per_mode // 40) if label.startswith("whole:") else per_mode
        for mode in modes:
            for _ in range(n):
                ops = random_ops(rng, CELL_OPS if mode == "cells" else OPS)
                if mode == "bytes":
                    mutated = mutate(data, ops)
                elif mode == "cells" and name.endswith(".csv"):
                    mutated = mutate_csv_cells(data, ops)
                elif mode == "cells":
                    mutated = mutate_xlsx_cells(data, ops)
                else:
                    mutated = mutate_part(data, rng.choice(parts(data)), ops)
                t0 = time.perf_counter()
                try:
                    outcome = run_one(ledger, name, mutated)
                except Exception as exc:  # a bug: keep the file
                    kind = f"{type(exc).__name__}: {str(exc)[:120]}"
                    outcome = "BUG"
                    if kind not in bugs:
                        FOUND.mkdir(exist_ok=True)
                        keep = FOUND / f"{len(bugs):03d}-{ledger}{Path(name).suffix}"
                        keep.write_bytes(mutated)
                        print(f"\n=== {kind}\n    file: {keep}", file=sys.stderr)
                        traceback.print_exc()
                    bugs[kind] = bugs.get(kind, 0) + 1
                took = time.perf_counter() - t0
                slowest = max(slowest, (took, f"{label} {mode}"))
                outcomes[f"{Path(name).suffix} {mode}: {outcome}"] += 1
                total += 1
        print(f"{label}: done", file=sys.stderr)
    print(f"cases: {total}")
    for key, count in sorted(outcomes.items()):
        print(f"  {count:6}  {key}")
    print(f"slowest case: {slowest[0]:.2f} s ({slowest[1]})")
    print(f"bugs (other exceptions): {sum(bugs.values())} in {len(bugs)} kinds")
    for kind, count in bugs.items():
        print(f"  {count:5}  {kind}")
    return 1 if bugs else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(int(args[0]) if args else 200, int(args[1]) if len(args) > 1 else 1))
