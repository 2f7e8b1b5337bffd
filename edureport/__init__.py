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
