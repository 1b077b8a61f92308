"""A job's input checked before it is sent: a shard holds the bytes the job read, or nothing is sent.

A job refers to its input by byte offset, so an input edited, cut short, grown or replaced while the job runs would
send other bytes under the same custom_ids. Two checks keep that from reaching the service without hashing the whole
file for every shard:

- the file's size, mtime and inode, recorded when the job read it: another size is a change; another mtime or inode
  with the same size costs one SHA-256 of the whole file, compared with the job's (equal: the file was touched or
  copied back, and the new stat is recorded so the next shard is cheap again);
- every request copied into a shard file, against the digest ingest stored for it: that catches an edit that kept
  the size and the mtime (a coarse file-system clock, a tool that restores mtimes).

When either finds a change, `first_difference` reads the file once against the stored digests to name the first line
that differs, and the job stops with `JobInputChangedError`, the same one a later run raises when it starts.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from ..batch_input import DEFAULT_LIMITS
from ._breathing import breathe
from .errors import JobInputChangedError
from .ingest import READ_CHUNK, hash_file, line_digest
from .records import JobRecord
from .store import JobStore

__all__ = [
    "Change",
    "Difference",
    "change_error",
    "check_stat",
    "first_difference",
    "input_changed",
    "input_changed_since_created",
    "input_gone",
    "open_input",
]

# Ingest refuses a line longer than this, so no line the job read is longer: reading one no longer says it differs.
_LINE_LIMIT = DEFAULT_LIMITS.max_bytes + 1


class Change(Enum):
    """How the input differs from what the job read, at `Difference.line`."""

    DIFFERS = "differs"  # the line's bytes (or where it starts) differ
    GROWN = "grown"  # the line is past the end the file had
    CUT = "cut"  # the file ends before the line
    OUTSIDE = "outside"  # every request reads the same; other bytes (blank lines, line endings) differ
    UNSTABLE = "unstable"  # a check failed, but the file reads as the original again: it changed while read


@dataclass(frozen=True)
class Difference:
    """The first place the input differs from what the job read, and what the file holds now."""

    line: int | None
    change: Change
    size: int
    sha256: str

    def where(self) -> str:
        if self.change is Change.DIFFERS:
            return f"line {self.line} differs"
        if self.change is Change.GROWN:
            return f"it grew: line {self.line} is past its original end"
        if self.change is Change.CUT:
            return f"it was cut short: line {self.line} is missing"
        if self.change is Change.OUTSIDE:
            return "no request in it differs, but other bytes (blank lines, line endings) do"
        return "it changed while a shard was being read from it"


def first_difference(store: JobStore, job: JobRecord) -> Difference | None:
    """The first line of the job's input that differs from what the job read; None if the file is the same.

    One pass over the file in line order against the store's rows in line order (both streamed, so memory stays
    flat), hashing every byte on the way for the new size and SHA-256. A line the job indexed must start at its
    offset and hold its bytes; a line it skipped as blank must still be blank; a line past the original end is
    growth; a file that ends before the original end was cut short at the line after its last. Raises
    FileNotFoundError when the file is gone.
    """
    digest = hashlib.sha256()
    size = number = 0
    found: tuple[int | None, Change] | None = None
    rows = store.input_lines(job.id)
    expected = next(rows, None)
    with Path(job.input_path).open("rb") as file:
        while found is None and (raw := file.readline(_LINE_LIMIT)):
            breathe()
            number += 1
            start = size
            size += len(raw)
            digest.update(raw)
            if expected is not None and expected[0] == number:
                _line, offset, length, line_hash = expected
                expected = next(rows, None)
                content = raw.rstrip(b"\r\n")
                if (
                    start != offset
                    or len(content) != length
                    or (line_hash is not None and line_digest(content) != line_hash)
                ):
                    found = (number, Change.DIFFERS)
            elif start >= job.input_bytes:
                found = (number, Change.GROWN)
            elif len(raw) >= _LINE_LIMIT or not raw.isspace():
                found = (number, Change.DIFFERS)
        if found is None and size < job.input_bytes:
            found = (number + 1, Change.CUT)
        while chunk := file.read(READ_CHUNK):
            breathe()
            digest.update(chunk)
            size += len(chunk)
    sha256 = digest.hexdigest()
    if found is None:
        if sha256 == job.input_hash and size == job.input_bytes:
            return None
        found = (None, Change.OUTSIDE)
    return Difference(found[0], found[1], size, sha256)


def input_changed(job: JobRecord, difference: Difference) -> JobInputChangedError:
    """The error of a run (starting, or about to write a shard) over an input that changed."""
    return _error(
        f"job {job.name}: its input {job.input_path} changed since the job was created: {difference.where()} "
        f"({_sizes(job, difference)}). Nothing from the changed file was sent. Put the original file back and "
        f"resume the job (`openai-batches job resume {job.name}`), or create a new job for the new file",
        job,
        difference,
    )


def input_changed_since_created(job: JobRecord, difference: Difference) -> JobInputChangedError:
    """The error of creating a job again, under its name and for its path, once that file changed."""
    return _error(
        f"a job named {job.name!r} already exists for {job.input_path}, and that file changed since the job was "
        f"created: {difference.where()} ({_sizes(job, difference)}). To go on with the job, put the original file "
        f"back and resume it (`openai-batches job resume {job.name}`); for the new file, create a job under another "
        f"name (or delete job {job.name} first)",
        job,
        difference,
    )


def input_gone(job: JobRecord) -> JobInputChangedError:
    return JobInputChangedError(
        f"job {job.name}: its input {job.input_path} is gone; nothing more from it was sent. Put it back as it was and "
        f"resume the job (`openai-batches job resume {job.name}`), or create a new job for a new file",
        job=job.name,
        path=job.input_path,
        old_size=job.input_bytes,
        old_sha256=job.input_hash,
    )


def _sizes(job: JobRecord, difference: Difference) -> str:
    return (
        f"it was {job.input_bytes:,} bytes with sha256 {job.input_hash}, "
        f"it is {difference.size:,} bytes with sha256 {difference.sha256}"
    )


def _error(message: str, job: JobRecord, difference: Difference) -> JobInputChangedError:
    return JobInputChangedError(
        message,
        job=job.name,
        path=job.input_path,
        line=difference.line,
        old_size=job.input_bytes,
        new_size=difference.size,
        old_sha256=job.input_hash,
        new_sha256=difference.sha256,
    )


def change_error(store: JobStore, job: JobRecord) -> JobInputChangedError:
    """The error for an input a check found changed, naming its first differing line (the file is read once)."""
    try:
        difference = first_difference(store, job)
    except FileNotFoundError:
        return input_gone(job)
    if difference is None:
        sha256, size = hash_file(Path(job.input_path))
        difference = Difference(None, Change.UNSTABLE, size, sha256)
    return input_changed(job, difference)


def open_input(job: JobRecord) -> BinaryIO:
    """The job's input opened for reading; a file that is gone is a changed input."""
    try:
        return Path(job.input_path).open("rb")
    except FileNotFoundError:
        raise input_gone(job) from None


def check_stat(store: JobStore, job: JobRecord, source: BinaryIO) -> None:
    """The cheap check of the open input before a shard is copied from it; raises JobInputChangedError.

    The stat the store holds now is used (a run earlier in this step may have refreshed it), so a touched file is
    hashed once, not once per shard.
    """
    recorded = store.get_job(job.name)
    if recorded is None or recorded.id != job.id:
        recorded = job
    stat = os.fstat(source.fileno())
    if stat.st_size != job.input_bytes:
        raise change_error(store, job)
    if stat.st_mtime_ns == recorded.input_mtime_ns and stat.st_ino == recorded.input_inode:
        return
    if _sha256(source) != job.input_hash:
        raise change_error(store, job)
    store.refresh_input_stat(job.id, stat.st_mtime_ns, stat.st_ino)


def _sha256(source: BinaryIO) -> str:
    digest = hashlib.sha256()
    source.seek(0)
    while chunk := source.read(READ_CHUNK):
        breathe()
        digest.update(chunk)
    return digest.hexdigest()
