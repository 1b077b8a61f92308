"""Local failures of a job (a full disk, a read-only folder, a permission, a damaged database) as `JobStateError`.

An `OSError` or `sqlite3.Error` that escapes a job's local work says only what the operating system or SQLite said,
without the job or what to do next, and a caller cannot tell it from a network failure (both are "an error"). Yet
the two differ for the user: nothing was sent for a local failure, and the job is usually whole and resumable once
the cause is gone, because the store commits each step in one transaction and every file the job relies on is
written beside its name and renamed when complete. `local_state_errors` turns such an error, raised anywhere inside
it, into a `JobStateError` that names the path that failed and says whether (and once what) the job can go on.

What is converted is decided by the error, not by where it was raised:

- `OSError`, except the ones that are about the network or about processes (`ConnectionError`, `TimeoutError`,
  name resolution and TLS errors, ...): those are the network's, or a bug's, and keep their own handling. The
  library's own errors (some are `TimeoutError`s, all are `OpenAIBatchesError`s) pass through unchanged.
- `sqlite3.Error` whose SQLite result code is about the file (full, read-only, cannot open, I/O error, locked, not a
  database, damaged, permission). A SQL mistake (`no such table`, a constraint, a closed connection) is a bug in this
  library, and its traceback is the useful report, so it passes through.

A plain `with` covers `await`s inside it as well, so the async API uses the same context manager.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from .._exceptions import OpenAIBatchesError
from .errors import JobStateError
from .settings import STATE_DB

__all__ = ["as_state_error", "default_next_step", "describe", "is_local_failure", "local_state_errors", "restate"]

# OSErrors that are not about local files: the network's (the HTTP layer maps them), or a process's (a bug if one
# escapes). BrokenPipeError is a ConnectionError: a closed stdout keeps its own quiet handling in the CLI.
_NOT_LOCAL: Final = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    socket.herror,
    ssl.SSLError,
    BlockingIOError,
    ChildProcessError,
    InterruptedError,
    ProcessLookupError,
)

# SQLite primary result codes (the low byte of an extended code) that are about the database file, not the SQL.
_SQLITE_PERM: Final = 3
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6
_SQLITE_READONLY: Final = 8
_SQLITE_IOERR: Final = 10
_SQLITE_CORRUPT: Final = 11
_SQLITE_FULL: Final = 13
_SQLITE_CANTOPEN: Final = 14
_SQLITE_PROTOCOL: Final = 15
_SQLITE_NOLFS: Final = 22
_SQLITE_AUTH: Final = 23
_SQLITE_NOTADB: Final = 26
_SQLITE_LOCAL: Final = frozenset(
    {
        _SQLITE_PERM,
        _SQLITE_BUSY,
        _SQLITE_LOCKED,
        _SQLITE_READONLY,
        _SQLITE_IOERR,
        _SQLITE_CORRUPT,
        _SQLITE_FULL,
        _SQLITE_CANTOPEN,
        _SQLITE_PROTOCOL,
        _SQLITE_NOLFS,
        _SQLITE_AUTH,
        _SQLITE_NOTADB,
    }
)
# A database that is damaged or not a database at all: no amount of space makes the job go on from it.
_SQLITE_DAMAGED: Final = frozenset({_SQLITE_CORRUPT, _SQLITE_NOTADB})

_NO_SPACE: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY: Final = frozenset({errno.EROFS})
_DENIED: Final = frozenset({errno.EACCES, errno.EPERM})
_MISSING: Final = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR})


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_local_failure(exc: BaseException) -> bool:
    """Whether `exc` is a failure of local files or of the state database (see the module's docstring)."""
    if isinstance(exc, OpenAIBatchesError):
        return False
    if isinstance(exc, sqlite3.Error):
        return _sqlite_code(exc) in _SQLITE_LOCAL
    return isinstance(exc, OSError) and not isinstance(exc, _NOT_LOCAL)


def _damaged(cause: BaseException) -> bool:
    return isinstance(cause, sqlite3.Error) and _sqlite_code(cause) in _SQLITE_DAMAGED


def _path_of(cause: BaseException, store_path: Path | str | None, file: Path | str | None) -> str | None:
    """The path a failure is reported with: the one the error names, else the block's file, else the store."""
    filename = getattr(cause, "filename", None) if isinstance(cause, OSError) else None
    if isinstance(filename, str | bytes | os.PathLike):
        return os.fsdecode(filename)
    if file is not None and isinstance(cause, OSError):
        return os.fspath(file)
    return None if store_path is None else os.fspath(store_path)


def _named(cause: BaseException, path: str | None) -> str:
    """How the message names `path`. An OSError reported with the store's path named no file (a write to a file
    already open): it happened in the state folder, but naming the database would send the user to the wrong file."""
    if path is None:
        return "the job's local state"
    is_store = Path(path).name == STATE_DB
    if isinstance(cause, sqlite3.Error):
        return f"{path} (the jobs' state database)" if is_store else path
    if is_store and getattr(cause, "filename", None) is None:
        return f"a file in {Path(path).parent}"
    return path


def _verb(cause: BaseException) -> str:
    """What could not be done, when the error says; "read or write" when it does not."""
    if isinstance(cause, sqlite3.Error):
        code = _sqlite_code(cause)
        if code in (_SQLITE_FULL, _SQLITE_READONLY):
            return "write"
        if code == _SQLITE_CANTOPEN:
            return "open"
        return "read" if code in _SQLITE_DAMAGED else "read or write"
    number = getattr(cause, "errno", None)
    if number in _NO_SPACE or number in _READ_ONLY:
        return "write"
    return "open" if number in _MISSING else "read or write"


def _once(cause: BaseException) -> str:
    """The condition under which the same command succeeds: what the user has to fix."""
    if isinstance(cause, sqlite3.Error):
        code = _sqlite_code(cause)
        known = {
            _SQLITE_FULL: "there is space",
            _SQLITE_READONLY: "the state folder can be written again",
            _SQLITE_CANTOPEN: "the state folder can be read and written",
            _SQLITE_PERM: "the permission is fixed",
            _SQLITE_AUTH: "the permission is fixed",
            _SQLITE_BUSY: "the process holding the database lets go of it",
            _SQLITE_LOCKED: "the process holding the database lets go of it",
            _SQLITE_IOERR: "the disk works again",
        }
        return known.get(code, "the cause is fixed") if code is not None else "the cause is fixed"
    number = getattr(cause, "errno", None)
    if number in _NO_SPACE:
        return "there is space"
    if number in _READ_ONLY:
        return "the folder can be written again"
    if number in _DENIED:
        return "the permission is fixed"
    if number == errno.EIO:
        return "the disk works again"
    return "the cause is fixed"


def _reason(cause: BaseException) -> str:
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(cause) or type(cause).__name__


def default_next_step(job: str | None) -> str | None:
    """What the library says a caller can do after a local failure of a job that can go on."""
    return f"nothing it recorded was lost: job {job} can be resumed by running it again" if job else None


def describe(job: str | None, path: str | None, cause: BaseException, next_step: str | None) -> str:
    """One line: the job, what could not be done to which path and why, and `next_step` with its condition.

    "job big: could not write /state/jobs.sqlite3 (the jobs' state database): database or disk is full; job big
    can be resumed with `openai-batches job resume big` once there is space"
    """
    subject = f"job {job}: " if job else ""
    message = f"{subject}could not {_verb(cause)} {_named(cause, path)}: {_reason(cause)}"
    if _damaged(cause):
        return f"{message}; it cannot be read as it is (restore it from a backup, or move it away to start afresh)"
    return f"{message}; {next_step} once {_once(cause)}" if next_step else message


def as_state_error(
    exc: BaseException,
    job: str | None,
    store_path: Path | str | None,
    resumable: bool,
    *,
    next_step: str | None = None,
    file: Path | str | None = None,
) -> JobStateError | None:
    """The `JobStateError` for `exc` if it is a local failure, else None (raise `exc` itself then).

    The path is the one the error names (`OSError.filename`); an error that names none (a SQLite error, a write
    to a file already open) is reported with `file` (the file the block writes, for an OSError) or else with
    `store_path`. `next_step` (what the user can do, completed with "once <the cause is fixed>") defaults to the
    library's wording when `resumable`.
    """
    if not is_local_failure(exc):
        return None
    path = _path_of(exc, store_path, file)
    can_go_on = resumable and not _damaged(exc)
    step = (next_step or default_next_step(job)) if can_go_on else None
    return JobStateError(describe(job, path, exc, step), job=job or "", path=path, resumable=can_go_on)


def restate(error: JobStateError, next_step: str | None) -> JobStateError:
    """The same failure in a caller's words (the CLI names its own command): the path and resumability stay."""
    cause = error.__cause__
    if cause is None or not is_local_failure(cause):
        return error
    job = error.job or None
    restated = JobStateError(
        describe(job, error.path, cause, next_step if error.resumable else None),
        job=error.job,
        path=error.path,
        resumable=error.resumable,
    )
    restated.__cause__ = cause
    return restated


@contextlib.contextmanager
def local_state_errors(
    job: str | None,
    store_path: Path | str | None,
    resumable: bool,
    *,
    next_step: str | None = None,
    file: Path | str | None = None,
) -> Iterator[None]:
    """Turn a local failure raised inside the block into `JobStateError` (chained to it); anything else passes.

    `job` is the job's name (None for operations on every job); `store_path` the state database, named for a SQLite
    error; `file` the file the block writes, if it writes one, named for an OSError that names no file; `resumable`
    whether the job can go on once the cause is fixed: true wherever the work inside commits its steps atomically,
    so that a failure leaves the job as its last commit left it.
    """
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        error = as_state_error(exc, job, store_path, resumable, next_step=next_step, file=file)
        if error is None:
            raise
        raise error from exc
