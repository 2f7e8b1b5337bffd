"""A measured prototype of the change proposed for ``edureport/pipeline.py`` (not used by it).

``python -m bench.prestart run --force --out OUT`` is ``edureport run`` with one difference:
each notebook's kernel is started while the previous notebook still runs, and is told to
``steps.prepare(<notebook>)`` (import its libraries, open the GX context) before its cells
arrive; each finished kernel is shut down in the background. papermill takes a started kernel
through its ``km=`` engine argument (nbclient then neither starts nor shuts it down).

It works by wrapping ``papermill.execute_notebook``, which ``pipeline._execute`` looks up at
call time, so the pipeline's own code (records, errors, publishing) runs unchanged.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

ORDER = ("1_clean", "2_validate", "3_report")


class KernelPool:
    """At most one kernel started ahead; finished kernels shut down off the critical path."""

    def __init__(self) -> None:
        self.ahead: dict[str, Any] = {}
        self.closing: list[threading.Thread] = []

    def start(self, name: str, cwd: str, extra_arguments: list[str], warm: bool) -> Any:
        from jupyter_client.manager import KernelManager

        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=cwd, extra_arguments=extra_arguments)  # returns once spawned
        if warm:  # queued on the kernel's shell channel; runs before the notebook's cells
            kc = km.client()
            kc.start_channels()
            kc.execute(f"from edureport import steps\nsteps.prepare({name!r})", silent=True)
            km._prestart_client = kc  # closed with the kernel
        return km

    def take(self, name: str, cwd: str, extra_arguments: list[str]) -> Any:
        km = self.ahead.pop(name, None)
        return km or self.start(name, cwd, extra_arguments, warm=False)

    def start_next(self, name: str, cwd: str, extra_arguments: list[str]) -> None:
        i = ORDER.index(name) if name in ORDER else -1
        if 0 <= i < len(ORDER) - 1 and ORDER[i + 1] not in self.ahead:
            self.ahead[ORDER[i + 1]] = self.start(ORDER[i + 1], cwd, extra_arguments, warm=True)

    def close(self, km: Any) -> None:
        def shutdown() -> None:
            kc = getattr(km, "_prestart_client", None)
            if kc is not None:
                kc.stop_channels()
            km.shutdown_kernel()

        thread = threading.Thread(target=shutdown, daemon=True)
        thread.start()
        self.closing.append(thread)

    def close_all(self) -> None:
        for km in self.ahead.values():
            self.close(km)
        self.ahead.clear()
        for thread in self.closing:
            thread.join(timeout=30)


POOL = KernelPool()


def install() -> None:
    import papermill

    original = papermill.execute_notebook

    def execute_notebook(input_path: str, output_path: str, **kwargs: Any) -> Any:
        name = Path(input_path).stem
        cwd = kwargs.get("cwd") or str(Path(input_path).parent)
        extra = list(kwargs.get("extra_arguments") or [])
        km = POOL.take(name, cwd, extra)
        POOL.start_next(name, cwd, extra)
        try:
            return original(input_path, output_path, km=km, **kwargs)
        finally:
            POOL.close(km)

    papermill.execute_notebook = execute_notebook


def main(argv: list[str]) -> int:
    from edureport import cli

    install()
    try:
        return cli.main(argv)
    finally:
        POOL.close_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
