"""Letting the event loop in while a worker thread does a job's local work.

Moving blocking work into a thread is not enough on its own: a thread that reads a file or steps SQLite releases
the GIL for each call and takes it back at once, and the event loop's thread, woken each time, loses that race
every time (CPython only forces a hand-over when no other thread took the GIL since it asked). Work offloaded by the
async driver therefore pauses briefly after each slice of its time (`breathe()` in its loops), which is when the
loop runs. Work run inline by the sync twin never pauses: there is no loop to let in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Final, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")

# Slice and pause: the loop waits at most about a slice; offloaded work runs at most a pause per slice slower.
SLICE: Final = 0.01
PAUSE: Final = 0.001

_state = threading.local()


def breathing_call(function: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """Run `function` in this (worker) thread with breathing on: its loops pause after each slice."""
    _state.since = time.perf_counter()
    try:
        return function(*args, **kwargs)
    finally:
        _state.since = None


def breathe() -> None:
    """In offloaded work, pause once a slice has run; elsewhere, nothing. Cheap enough to call per line."""
    since = getattr(_state, "since", None)
    if since is None:
        return
    if time.perf_counter() - since >= SLICE:
        time.sleep(PAUSE)
        _state.since = time.perf_counter()


def breathing(items: Iterable[_T]) -> Iterator[_T]:
    """`items`, breathing between them."""
    for item in items:
        breathe()
        yield item
