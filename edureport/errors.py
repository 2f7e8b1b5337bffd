"""The project's own exceptions and the exit codes a scheduler reads."""

from __future__ import annotations

import re

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_USAGE = 64
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run of the same county-year holds the lock; retry later
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM (a scheduler stopping the run)


class EdureportError(Exception):
    """Raised for any failure the project anticipates; carries its exit code."""

    exit_code = EXIT_INTERNAL

    def _render_traceback_(self) -> list[str]:
        """In a notebook, IPython shows this instead of a traceback: the message is the point
        (what to fix and where), the package's stack is not."""
        return [f"{type(self).__name__}: {self}"]


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


class CellError(EdureportError):
    """Raised by a normaliser when one cell's value cannot be read; the row is set aside.

    ``reason`` is fixed text (it may name the column and its valid values), never the cell;
    ``value`` a safe excerpt of the cell to show, or None; ``code`` a short machine code
    (``id_as_number``, ``month_only`` …). A ``value`` is kept only if it is digits and the
    punctuation of numbers and dates, at most 10 digits in a row and 12 in all (not an ID or its
    area code and birth date, a phone or a bank card number); anything else is dropped here,
    whatever the caller passed.
    """

    exit_code = EXIT_BAD_INPUT
    _SAFE = re.compile(r"[0-9.,:/+\-]{1,32}")
    _LONG_RUN = re.compile(r"[0-9]{11}")

    def __init__(self, reason: str, value: str | None = None, code: str | None = None) -> None:
        self.reason, self.code = reason, code
        self.value = value if value is not None and self._safe(value) else None
        super().__init__(reason)

    @classmethod
    def _safe(cls, value: str) -> bool:
        return (
            cls._SAFE.fullmatch(value) is not None
            and cls._LONG_RUN.search(value) is None
            and sum(ch.isdigit() for ch in value) <= 12
        )

    def __reduce__(self) -> tuple[type[CellError], tuple[str, str | None, str | None]]:
        return type(self), (self.reason, self.value, self.code)


class LockedError(EdureportError):
    """Raised when another run of the same county-year holds the lock past the wait."""

    exit_code = EXIT_LOCKED


class Interrupted(BaseException):
    """Raised in the main thread when a signal stops the run (SIGTERM); a BaseException, so that
    no ``except Exception`` swallows it, carrying the conventional exit code 128 + signal.

    The signal is also remembered (:attr:`received`): raised inside an asyncio callback (nbclient
    drives the kernel with asyncio), it can be logged and dropped by the event loop or surface
    as another error, and the run must still end as interrupted.
    """

    received: int | None = None  # the stop signal this process has had, if any

    def __init__(self, signum: int) -> None:
        Interrupted.received = signum
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"stopped by signal {signum}")

    @classmethod
    def pending(cls) -> Interrupted | None:
        """An Interrupted for the stop signal received, if one was."""
        return None if cls.received is None else cls(cls.received)


# What each exit code means in a run record and in a batch table.
STATUS = {
    EXIT_OK: "published",
    EXIT_INTERNAL: "internal_error",
    EXIT_BAD_INPUT: "bad_input",
    EXIT_VALIDATION_FAILED: "validation_failed",
    EXIT_USAGE: "usage_error",
    EXIT_LOCKED: "locked",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_TERMINATED: "interrupted",
}
# Most severe first: a batch exits with the first of these that any county ended with.
SEVERITY = (
    EXIT_INTERNAL,
    EXIT_USAGE,
    EXIT_BAD_INPUT,
    EXIT_VALIDATION_FAILED,
    EXIT_TERMINATED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
)


def status_of(exit_code: int) -> str:
    """The run-record status word of an exit code."""
    return STATUS.get(exit_code, "internal_error")


def most_severe(codes: list[int]) -> int:
    """The batch exit code: 0 if all are 0, else the most severe (unknown codes count as 1)."""
    failed = {c if c in SEVERITY else EXIT_INTERNAL for c in codes if c != EXIT_OK}
    return next((c for c in SEVERITY if c in failed), EXIT_OK)
