"""The project's own exceptions and the exit codes a scheduler reads."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3
EXIT_DIFFERS = 4  # ``reproduce``: the reproduction differs from the recorded run
EXIT_USAGE = 64
EXIT_IO = 74  # EX_IOERR: disk full or no permission to write; the message names the path
# EX_TEMPFAIL: another run of the same county-year holds the lock, or a ledger changed while
# the run read it (someone saving it): retry later
EXIT_LOCKED = 75
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM (a scheduler stopping the run)


class EdureportError(Exception):
    """Raised for any failure the project anticipates; carries its exit code."""

    exit_code = EXIT_INTERNAL
    status: str | None = None  # the run-record status, when not the exit code's (status_of)

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


class InputChanged(EdureportError):
    """Raised when an input's SHA-256 before publishing is not the one taken at the start (an
    analyst saved a ledger during the run): nothing is published; try again once it is saved."""

    exit_code = EXIT_LOCKED
    status = "input_changed"


DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
NO_PERMISSION = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_ERRNO = re.compile(r"\[errno (\d+)\]", re.I)
_FILENAME = re.compile(r": '(.+)'$")
_OS_ERRORS = {"OSError", "IOError", "PermissionError"}  # names an OSError has in a notebook


class StorageError(EdureportError):
    """A write the run needs failed: the disk (or quota) is full, or permission is denied.

    Made from the :class:`OSError` by :meth:`from_os` (in the runner) or :meth:`from_text` (an
    error inside a notebook); the message names the fault and the path, never a traceback."""

    exit_code = EXIT_IO

    def __init__(self, message: str, status: str, path: str | None = None) -> None:
        self.status, self.path = status, path
        super().__init__(message)

    def __reduce__(self) -> tuple[type[StorageError], tuple[str, str, str | None]]:
        return type(self), (str(self), self.status, self.path)

    @classmethod
    def from_os(cls, exc: BaseException, where: str | Path | None = None) -> StorageError | None:
        """The named fault of an OSError that is one (else None); ``where`` is the path shown
        when the error carries none."""
        if not isinstance(exc, OSError):
            return None
        path = exc.filename2 or exc.filename or where
        shown = os.fsdecode(path) if path is not None else "（路径未知 path unknown）"
        detail = f"（[Errno {exc.errno}] {exc.strerror or os.strerror(exc.errno or 0)}）"
        if exc.errno in DISK_FULL:
            return cls(f"磁盘空间不足 disk full: {shown}{detail}", "disk_full", shown)
        if exc.errno not in NO_PERMISSION:
            return None
        if exc.errno == errno.EROFS:
            what = "无写入权限（只读文件系统） permission denied (read-only file system)"
        elif path is not None and os.path.exists(path) and not os.access(path, os.R_OK):
            what = "无读取权限 permission denied (read)"
        else:
            what = "无写入权限 permission denied"
        return cls(f"{what}: {shown}{detail}", "permission_denied", shown)

    @classmethod
    def from_text(cls, ename: str, evalue: str, where: str | Path) -> StorageError | None:
        """The named fault of an OSError raised inside a notebook, from its class name and
        message (``[Errno 28] No space left on device: '<path>'``); else None."""
        code = _ERRNO.search(evalue)
        if ename not in _OS_ERRORS or code is None:
            return None
        name = _FILENAME.search(evalue)
        number = int(code.group(1))
        return cls.from_os(OSError(number, os.strerror(number), name and name.group(1)), where)


@contextmanager
def storage_errors(where: str | Path | None = None) -> Iterator[None]:
    """Turn a disk-full or permission OSError raised inside into its :class:`StorageError`."""
    try:
        yield
    except OSError as exc:
        named = StorageError.from_os(exc, where)
        if named is None:
            raise
        raise named from exc


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
    EXIT_DIFFERS: "differs",  # a reproduction's status (``reproduced`` when identical)
    EXIT_USAGE: "usage_error",
    EXIT_IO: "io_error",
    EXIT_LOCKED: "locked",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_TERMINATED: "interrupted",
}
# Most severe first: a batch exits with the first of these that any county ended with.
SEVERITY = (
    EXIT_INTERNAL,
    EXIT_USAGE,
    EXIT_IO,
    EXIT_BAD_INPUT,
    EXIT_VALIDATION_FAILED,
    EXIT_TERMINATED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
)


def status_of(exit_code: int, exc: BaseException | None = None) -> str:
    """The run-record status word of an exit code, or the more precise one of the error
    (``disk_full``, ``input_changed`` …)."""
    own = getattr(exc, "status", None)
    return own if isinstance(own, str) else STATUS.get(exit_code, "internal_error")


def most_severe(codes: list[int]) -> int:
    """The batch exit code: 0 if all are 0, else the most severe (unknown codes count as 1)."""
    failed = {c if c in SEVERITY else EXIT_INTERNAL for c in codes if c != EXIT_OK}
    return next((c for c in SEVERITY if c in failed), EXIT_OK)
