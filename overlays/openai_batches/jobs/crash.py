"""Named points where a test can make a job process kill itself, to prove that a resumed job loses nothing.

Test-only: with `OPENAI_BATCHES_JOBS_CRASH=NAME:N` in the environment, the Nth time the process passes the point NAME
it sends itself SIGKILL (no cleanup, no finally blocks, as the OOM killer or `kill -9` would). The points sit in the
windows that matter: between an upload and its record, between a create and its record, in the middle of a download
and of a merge. Without the variable, `crash_point` is one comparison.

A SIGKILL loses what the process held, not what it had handed to the kernel; a power cut loses that too unless it
was synced. The store commits with SQLite's synchronous=FULL and every file the store names is fsynced before its
rename (and its folder after), so a step recorded before a power cut is on disk; these points do not test that.
"""

from __future__ import annotations

import os
import signal
from typing import Final

CRASH_ENV: Final = "OPENAI_BATCHES_JOBS_CRASH"

# Every point the runner passes, in the order a shard meets them.
POINTS: Final = (
    "ingest",  # half-way through reading the input into the store
    "plan",  # after a shard was planned
    "upload",  # uploaded, not recorded
    "create-intent",  # the create is recorded as intended, not sent
    "create",  # created, not recorded
    "poll",  # a poll's answer not recorded
    "download",  # part of a result file written
    "downloaded",  # downloaded, not recorded
    "merge",  # a shard's verdicts written, its counts not, the transaction open
    "merged",  # merged, the input upload not deleted yet
    "delete",  # the input upload deleted, not recorded
)


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    name, _, count = value.partition(":")
    if name not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{CRASH_ENV} must be POINT:N with POINT one of {', '.join(POINTS)}; got {value!r}")
    return name, int(count)


_TARGET = _parse(os.environ.get(CRASH_ENV))
_seen: dict[str, int] = {}


def crash_point(name: str) -> None:
    if _TARGET is None or _TARGET[0] != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] == _TARGET[1]:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
