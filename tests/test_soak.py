"""Soak: 5,000 calls (2,500 sync on a thread pool, 2,500 async on one event loop, 8 at a time) against the fault
server failing 30 % of requests with transient faults.

The server fails no call more than 3 times in a row, so with max_retries=5 every call must succeed. The test counts,
it does not time: every result is the right one, none is lost, no create is performed twice or without its key, and
the number of requests adds up to one normal answer per call plus one retry per injected fault. Sleeps are faked, so
the run takes seconds; the fault decisions are seeded per call and attempt, so a failure reproduces.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from faultserver import FaultServer, reset, reset_mid_body, status, truncated
from helpers import API_KEY
from openai_batches import AsyncBatchClient, Batch, BatchClient, RetryPolicy

CALLS_PER_VARIANT = 2500
CONCURRENCY = 8
MAX_RETRIES = 5
MAX_FAULTS_IN_A_ROW = 3
FAULT_RATE = 0.3
SEED = 20_240_611
TRANSIENT_FAULTS = [
    status(429, {"retry-after-ms": "5"}),
    status(500),
    status(502),
    status(503),
    status(520),
    reset(),
    reset_mid_body(),
    truncated(),
]
OPERATIONS = ["retrieve"] * 4 + ["list"] * 2 + ["cancel"] * 2 + ["create"] * 2


@dataclass(frozen=True)
class Call:
    call_id: str
    operation: str
    target: str | None  # the batch id (retrieve, cancel), the cursor (list) or the input file id (create)
    limit: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Call-Id": self.call_id}


class Sleeper:
    def __init__(self) -> None:
        self.delays: list[float] = []  # list.append is atomic, so the thread pool may share it

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


def plan(variant: str, fixed_ids: list[str]) -> list[Call]:
    rng = random.Random(f"{SEED}/{variant}")
    calls = []
    for n in range(CALLS_PER_VARIANT):
        call_id = f"{variant}-{n:05d}"
        operation = rng.choice(OPERATIONS)
        if operation in ("retrieve", "cancel"):
            calls.append(Call(call_id, operation, rng.choice(fixed_ids)))
        elif operation == "list":
            after = rng.choice([None, *fixed_ids[:-1]])
            calls.append(Call(call_id, operation, after, rng.randint(1, 12)))
        else:
            calls.append(Call(call_id, operation, f"file-{call_id}"))
    return calls


def run_sync(client: BatchClient, call: Call) -> Any:
    if call.operation == "retrieve":
        return client.batches.retrieve(call.target or "", extra_headers=call.headers)
    if call.operation == "cancel":
        return client.batches.cancel(call.target or "", extra_headers=call.headers)
    if call.operation == "list":
        return client.batches.list(after=call.target, limit=call.limit, extra_headers=call.headers)
    return client.batches.create(
        input_file_id=call.target or "",
        endpoint="/v1/chat/completions",
        metadata={"call": call.call_id},
        extra_headers=call.headers,
    )


async def run_async(client: AsyncBatchClient, call: Call) -> Any:
    if call.operation == "retrieve":
        return await client.batches.retrieve(call.target or "", extra_headers=call.headers)
    if call.operation == "cancel":
        return await client.batches.cancel(call.target or "", extra_headers=call.headers)
    if call.operation == "list":
        return await client.batches.list(after=call.target, limit=call.limit, extra_headers=call.headers)
    return await client.batches.create(
        input_file_id=call.target or "",
        endpoint="/v1/chat/completions",
        metadata={"call": call.call_id},
        extra_headers=call.headers,
    )


def wrong_result(server: FaultServer, call: Call, result: Any, keys: set[str | None]) -> str | None:
    """Why `result` is not what `call` should have returned, or None when it is right.

    `keys` are the Idempotency-Keys the server saw on the call's requests.
    """
    if call.operation == "list":
        got = [b.id for b in result.data]
        expected = server.expected_page(call.target, call.limit)
        if got != expected:
            return f"page {got} != {expected}"
        more = bool(expected) and expected[-1] != server.fixed_ids[-1]
        return None if result.has_more is more else f"has_more={result.has_more!r}"
    if not isinstance(result, Batch):
        return f"got {type(result).__name__}"
    if call.operation in ("retrieve", "cancel"):
        expected = (call.target, "in_progress" if call.operation == "retrieve" else "cancelling")
        return None if (result.id, result.status.value) == expected else f"{result.id} {result.status}"
    if len(keys) != 1 or None in keys:
        return f"idempotency keys {keys}"
    created = server.created_ids(next(iter(keys)) or "")
    if not created or result.id != created[-1]:
        return f"created {result.id}, server made {created}"
    if result.input_file_id != call.target or result.metadata.additional_properties != {"call": call.call_id}:
        return f"echo {result.input_file_id} {result.metadata}"
    return None


def check_soak(server: FaultServer, sleeper: Sleeper, calls: list[Call], results: dict[str, Any]) -> None:
    # Nothing lost, every result right.
    assert len(calls) == CALLS_PER_VARIANT
    assert sorted(results) == sorted(c.call_id for c in calls)
    keys_by_call: dict[str, set[str | None]] = defaultdict(set)
    for r in server.requests:
        keys_by_call[r.call_id or ""].add(r.idempotency_key)
    wrong = {}
    for call in calls:
        why = wrong_result(server, call, results[call.call_id], keys_by_call[call.call_id])
        if why is not None:
            wrong[call.call_id] = why
    assert wrong == {}

    # The faults really happened, in the intended proportion and variety.
    requests = server.requests
    assert server.faults_injected == sum(1 for r in requests if r.fault is not None)
    assert 0.25 < server.faults_injected / len(requests) < 0.35
    assert set(server.fault_names()) == {f.name for f in TRANSIENT_FAULTS}

    # No unbounded retry: one normal answer per call, one retry (and one sleep) per fault, and never more attempts
    # than the server's faults forced.
    assert len(requests) == server.normal_answers + server.faults_injected
    assert server.normal_answers == len(calls)
    assert len(requests) <= len(calls) * (MAX_RETRIES + 1)
    assert len(sleeper.delays) == server.faults_injected
    per_call: dict[str, list[str | None]] = defaultdict(list)
    for r in requests:
        assert r.call_id is not None
        per_call[r.call_id].append(r.fault)
    assert per_call.keys() == results.keys()
    for call_id, faults in per_call.items():
        assert faults[-1] is None and None not in faults[:-1], (call_id, faults)
        assert len(faults) <= MAX_FAULTS_IN_A_ROW + 1, (call_id, faults)

    # No duplicate create: every create request had a key, each call kept one key on every attempt, no two calls
    # shared a key, and each key was answered (so performed without ambiguity) exactly once.
    creates = [c for c in calls if c.operation == "create"]
    create_requests = server.creates()
    assert None not in server.create_keys()
    create_keys: dict[str, set[str | None]] = defaultdict(set)
    for r in create_requests:
        create_keys[r.call_id or ""].add(r.idempotency_key)
    assert create_keys.keys() == {c.call_id for c in creates}
    assert all(len(keys) == 1 for keys in create_keys.values())
    assert len(set(server.create_keys())) == len(creates)
    assert Counter(r.idempotency_key for r in create_requests if r.fault is None) == Counter(
        {key: 1 for keys in create_keys.values() for key in keys}
    )
    assert server.duplicate_creates() == {}
    assert len(create_requests) > len(creates)  # some creates were retried, or this proved nothing


@pytest.fixture
def server() -> Any:
    with FaultServer() as running:
        running.random_faults(FAULT_RATE, seed=SEED, faults=TRANSIENT_FAULTS, max_in_a_row=MAX_FAULTS_IN_A_ROW)
        yield running


def policy(sleeper: Sleeper) -> RetryPolicy:
    return RetryPolicy(sleep=sleeper.sleep, async_sleep=sleeper.async_sleep, random=lambda: 0.5)


def test_soak_sync(server: FaultServer) -> None:
    sleeper = Sleeper()
    calls = plan("sync", server.fixed_ids)
    with (
        BatchClient(
            api_key=API_KEY, base_url=server.url, max_retries=MAX_RETRIES, timeout=10.0, retry_policy=policy(sleeper)
        ) as client,
        ThreadPoolExecutor(max_workers=CONCURRENCY) as pool,
    ):
        outcomes = list(pool.map(lambda call: run_sync(client, call), calls))
    check_soak(server, sleeper, calls, {c.call_id: r for c, r in zip(calls, outcomes, strict=True)})


async def test_soak_async(server: FaultServer) -> None:
    sleeper = Sleeper()
    calls = plan("async", server.fixed_ids)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Call) -> Any:
        async with limit:
            return await run_async(client, call)

    async with AsyncBatchClient(
        api_key=API_KEY, base_url=server.url, max_retries=MAX_RETRIES, timeout=10.0, retry_policy=policy(sleeper)
    ) as client:
        outcomes = await asyncio.gather(*(one(call) for call in calls))
    check_soak(server, sleeper, calls, {c.call_id: r for c, r in zip(calls, outcomes, strict=True)})
