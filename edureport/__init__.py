"""edureport: county education ledgers to a checked rule-of-law report."""

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    """The version in pyproject.toml, as the installed package's metadata carries it (a
    source tree that was never installed reads pyproject.toml itself)."""
    try:
        return version("edureport")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        except (OSError, ValueError, KeyError):
            return "unknown"


__version__ = _version()

# The public API, imported on first use (so that ``import edureport`` stays cheap for the CLI).
# A name maps to a module, or to (module, attribute).
_API: dict[str, str | tuple[str, str]] = {
    # the steps the notebooks call, and what they show
    "steps": "edureport.runs.steps",
    "display": "edureport.report.display",
    # one county-year end to end, many, again from its record, checked without running
    "run": ("edureport.runs.pipeline", "run"),
    "RunOptions": ("edureport.runs.pipeline", "RunOptions"),
    "run_batch": ("edureport.runs.batch", "run_batch"),
    "reproduce": ("edureport.runs.reproduce", "reproduce"),
    "check_folder": ("edureport.runs.check", "check_folder"),
    # the stages, one at a time
    "spec": ("edureport.ingest.specs", "spec"),
    "clean_folder": ("edureport.ingest.clean", "clean_folder"),
    "CleanResult": ("edureport.ingest.clean", "CleanResult"),
    "load_policy": ("edureport.checks.policy", "load_policy"),
    "validate": ("edureport.checks.validate", "validate"),
    "ValidationReport": ("edureport.checks.validate", "ValidationReport"),
    "compute_figures": ("edureport.report.figures", "compute_for"),
    "Registry": ("edureport.report.figures", "Registry"),
    # the errors a caller may catch
    "InputError": ("edureport.errors", "InputError"),
    "UsageError": ("edureport.errors", "UsageError"),
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> object:
    import importlib

    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'edureport' has no attribute {name!r}")
    if isinstance(target, str):
        return importlib.import_module(target)
    module, attribute = target
    return getattr(importlib.import_module(module), attribute)
