"""The few places where the async driver and its generated sync twin differ, as functions of the same shape.

The async source (`_async/`) calls `offload` and `gather_all`; `tools/unasync_jobs.py` writes the sync twin
(`_sync/`) with `inline` and `one_by_one` in their place. File and SQLite work runs in a worker thread in async
code, pausing now and then to let the loop in (`_breathing.py`), so a job never blocks its event loop; in sync
code it simply runs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import ParamSpec, TypeVar

from ._breathing import breathing_call

_P = ParamSpec("_P")
_R = TypeVar("_R")

# A pause of so many seconds, as a provider's retries take it.
AsyncPause = Callable[[float], Awaitable[None]]
Pause = Callable[[float], None]


async def offload(function: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
    return await asyncio.to_thread(functools.partial(breathing_call, function, *args, **kwargs))


def inline(function: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
    return function(*args, **kwargs)


async def gather_all(awaitables: Iterable[Awaitable[_R]]) -> list[_R]:
    """Run the step's actions concurrently; their events in the actions' order.

    When one raises (the lease was lost, the run is interrupted), the others are cancelled and waited for before the
    error goes on: nothing of a run that stopped keeps sending behind its back. What they may already have sent is
    recorded as intended, and the next run looks for it.
    """
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class AsyncSerial:
    """One at a time, in the order asked: what runs concurrently elsewhere queues here (first come, first served)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()


class Serial:
    """The sync twin of `AsyncSerial`: sync actions run one after another already."""

    def __init__(self) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def one_by_one(results: Iterable[_R]) -> list[_R]:
    """The sync twin of `gather_all`: the actions already ran, one after another, as the list was built."""
    return list(results)
