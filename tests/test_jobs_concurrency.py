"""The two places where the async driver and its sync twin differ by design: how a step's actions run."""

from __future__ import annotations

import asyncio

import pytest
from openai_batches.jobs._concurrency import gather_all, inline, offload, one_by_one


def test_when_one_action_fails_the_others_of_its_step_are_cancelled_not_left_running() -> None:
    finished: list[str] = []

    async def slow() -> str:
        await asyncio.sleep(5)
        finished.append("slow")
        return "slow"

    async def failing() -> str:
        await asyncio.sleep(0)
        raise LookupError("lost")

    async def main() -> None:
        with pytest.raises(LookupError, match="lost"):
            await gather_all([slow(), failing()])
        await asyncio.sleep(0.05)

    asyncio.run(asyncio.wait_for(main(), 2))
    assert finished == [], "the slow action was cancelled with the step"
    assert one_by_one(iter([1, 2])) == [1, 2]


def test_offloaded_work_runs_in_another_thread_and_inline_work_in_this_one() -> None:
    import threading

    here = threading.get_ident()
    assert inline(threading.get_ident) == here
    assert asyncio.run(offload(threading.get_ident)) != here


def test_offloaded_work_pauses_after_each_slice_and_inline_work_never(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from openai_batches.jobs import _breathing

    pauses: list[float] = []
    monkeypatch.setattr(_breathing.time, "sleep", pauses.append)

    def busy(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            _breathing.breathe()

    busy(3 * _breathing.SLICE)
    assert pauses == [], "not offloaded: nothing to let in"
    _breathing.breathing_call(busy, 3.5 * _breathing.SLICE)
    assert pauses and len(pauses) <= 4 and set(pauses) == {_breathing.PAUSE}
    pauses.clear()
    busy(2 * _breathing.SLICE)
    assert pauses == [], "breathing ends with the offloaded call"
