"""Telling a full disk apart from every other failure, and keeping a little room for the writes that free space.

A full disk is the one server-side failure a user can fix through the API (by deleting files), so it gets its own
answer (507, see `errors.insufficient_storage`) and the batch runner waits for room instead of failing the batch.
It shows up three ways: an OSError from a file write, SQLite's own SQLITE_FULL ("database or disk is full"), and,
rarely, one of SQLite's I/O errors from a write SQLite does not classify (growing its shared-memory index, say).
The last is taken for a full disk only when the disk has no room left at that moment.

The reserve is a file of incompressible bytes in the data directory. Recording a deletion is itself a write (SQLite
appends to its log before the file's row changes), so on a disk with no room at all the write that would free
space could fail too; giving up the reserve makes room for it. It is taken back once the disk has room again.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
SQLITE_FULL = 13
SQLITE_IOERR = 10
RESERVE_BYTES = 1024 * 1024
# Below this much free space an unclassified SQLite I/O error is taken for a full disk.
NEARLY_FULL_BYTES = 64 * 1024
# The reserve is taken back only with this much room beside it, so taking it does not itself fill the disk.
RESERVE_HEADROOM = RESERVE_BYTES


def is_disk_full(exc: BaseException, directory: Path | None = None) -> bool:
    """Whether `exc`, or what it was raised from or while handling, is a write that found no room."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in NO_SPACE_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code == SQLITE_FULL:
                return True
            if code is not None and code & 0xFF == SQLITE_IOERR and directory is not None:
                return free_bytes(directory) < NEARLY_FULL_BYTES
        # `raise ... from None` says the exception being handled was not the cause.
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def free_bytes(directory: Path) -> int:
    """Free space for this process on the disk that holds `directory` (a large number if it cannot be told)."""
    try:
        return shutil.disk_usage(directory).free
    except OSError:
        return 1 << 62


class SpaceReserve:
    """The reserve file: `release()` gives its room to a write that frees space, `restore()` takes it back."""

    def __init__(self, path: Path, size: int = RESERVE_BYTES) -> None:
        self.path = path
        self.size = size

    @property
    def held(self) -> bool:
        try:
            return self.path.stat().st_size >= self.size
        except OSError:
            return False

    def release(self) -> bool:
        """Free the reserve's room; False if there was no reserve to free."""
        try:
            self.path.unlink()
        except OSError:  # gone already, or not ours to remove: either way no room comes of it
            return False
        logger.warning("the disk of %s is full: released the space reserve to record a deletion", self.path.parent)
        return True

    def restore(self) -> bool:
        """Take the reserve back if the disk has room for it and then some; False if it is not held afterwards."""
        if self.held:
            return True
        if free_bytes(self.path.parent) < self.size + RESERVE_HEADROOM:
            return False
        # Written beside its place and renamed, so a reserve cut short by a full disk is never taken for a whole one.
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            with partial.open("wb") as out:
                # Incompressible: a compressing filesystem would store zeros in no space at all.
                out.write(os.urandom(self.size))
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            return False
        return True
