"""Importing heavy third-party packages without optional modules they load but we never use.

jsonschema imports ``rfc3987_syntax``, when it is installed, only to offer an "iri" format
checker, and that module builds an Earley parser at import time: about 1.4 s of the runner's
``import papermill`` (papermill → nbformat → jsonschema) and ~2 s of Great Expectations' import
(through altair). Nothing here validates IRIs, and nbformat's notebook schema has no IRI
format, so notebooks are validated exactly as before. Measured in docs/performance.md.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

SKIPPED_IMPORTS = ("rfc3987_syntax",)


@contextmanager
def skipping(names: tuple[str, ...] = SKIPPED_IMPORTS) -> Iterator[None]:
    """Hide the modules ``names`` (not yet imported) while the block runs: an ``import`` of one
    raises ImportError, which their importers take as "not installed". Visible again after."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def import_lean(module: str) -> ModuleType:
    """``import module`` with :data:`SKIPPED_IMPORTS` hidden (a no-op once it is imported)."""
    if module in sys.modules:
        return sys.modules[module]
    with skipping():
        return importlib.import_module(module)
