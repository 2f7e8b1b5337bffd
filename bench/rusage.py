"""``python -m bench.rusage OUT -- CMD …``: run CMD; write its wall time and peak memory to OUT.

Why a wrapper: on Linux a process's ``ru_maxrss`` starts from the resident set of the process
that spawned it (the kernel records the old image's high-water mark at ``exec``), so a command
spawned straight from the bench (which holds generated data) would report the bench's memory as
its own. Spawned from this small interpreter, CMD's figure is its own (within ~10 MiB). The peak
written is ``RUSAGE_CHILDREN``'s: the largest single process among CMD and every descendant
it waited for.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    out, sep, *cmd = argv
    if sep != "--" or not cmd:
        raise SystemExit("usage: python -m bench.rusage OUT -- CMD …")
    t0 = time.perf_counter()
    code = subprocess.call(cmd)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(out).write_text(json.dumps({"seconds": seconds, "maxrss_kib": peak}), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
