"""Files a job writes into its state directory: written beside their final name, synced, and renamed once complete.

The store records a file (a shard's upload, a download, merged results) only after it has its name, so the data
must be on disk before the rename and the rename on disk before the record: the file is fsynced before it is
renamed and its folder after. A crash or an error before the rename leaves the target as it was (and at worst a
`.part` file, which nothing reads and the next run removes).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def sync_folder(folder: Path) -> None:
    """Make a rename or an unlink in `folder` durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class PartFile:
    """A file being written under a temporary name; `commit()` syncs it and gives it its name."""

    def __init__(self, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        self.out: BinaryIO = self.temp.open("wb")
        self._committed = False

    def write(self, data: bytes) -> None:
        self.out.write(data)

    def flush(self) -> None:
        self.out.flush()

    def commit(self) -> None:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        os.replace(self.temp, self.target)
        self._committed = True
        sync_folder(self.target.parent)

    def discard(self) -> None:
        """After commit, nothing; else close and remove the temporary file."""
        if self._committed:
            return
        self.out.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A binary file that becomes `target`, durably, when the block ends without an error."""
    part = PartFile(target)
    try:
        yield part.out
        part.commit()
    finally:
        part.discard()
