"""Files a job writes into its state directory: written beside their final name and renamed once complete."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A binary file that becomes `target` when the block ends without an error; a crash or an error before that
    leaves `target` as it was (and at worst a `.part` file, which nothing reads)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        with temp.open("wb") as out:
            yield out
        os.replace(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
