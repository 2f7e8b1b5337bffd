"""The project's own exceptions and the exit codes a scheduler reads."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_USAGE = 64


class EdureportError(Exception):
    """Raised for any failure the project anticipates; carries its exit code."""

    exit_code = EXIT_INTERNAL


class InputError(EdureportError):
    """Raised when a ledger or parameter cannot be used; names file, sheet, row and column."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(f"文件 file: {self.file}")
        if self.sheet:
            where.append(f"工作表 sheet: {self.sheet}")
        if self.row is not None:
            where.append(f"行 row: {self.row}")
        if self.column:
            where.append(f"列 column: {self.column}")
        return self.detail + (f"（{'；'.join(where)}）" if where else "")


class UsageError(EdureportError):
    """Raised when command-line or notebook parameters have the wrong type or value."""

    exit_code = EXIT_USAGE


class ValidationFailed(EdureportError):
    """Raised when the validation suites find a published figure unsupported by the ledgers."""

    exit_code = EXIT_VALIDATION_FAILED


class CellError(EdureportError):
    """Raised by a normaliser when one cell's value cannot be read; the row is set aside."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


EXIT_LOCKED = 75


class LockedError(EdureportError):
    """Raised when another run of the same county-year holds the lock past the wait."""

    exit_code = EXIT_LOCKED
