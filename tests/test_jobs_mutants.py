"""What the jobs' planning, local work and driver promise, pinned where the other tests leave a change unnoticed.

Each test here was written for a mutant of `tools/mutate.py` that the suite let through: a behaviour a user relies on
(planning that ends, a step recorded whole, a pause that is as long as the core asked) that nothing asserted. They
run over a real store in a temporary folder, or the driver against the fake API of tests/test_jobs_runners.py with
an injected clock; none sleeps.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import async_provider, ended_shard, line, new_job, provider
from openai_batches.jobs._async import driver as driver_async
from openai_batches.jobs._sync import driver as driver_sync
from openai_batches.jobs.actions import Action, Cancel, Create, DeleteUpload, Event, Poll, Polled, Reconcile, Upload
from openai_batches.jobs.effects import MergeShard, PlanShards, SetJobStatus, StopWaiting
from openai_batches.jobs.errors import JobInputChangedError, JobLeaseLostError
from openai_batches.jobs.lease import holder_gone
from openai_batches.jobs.local_work import LocalWork
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import JobRecord, Lease, ShardState
from openai_batches.jobs.store import SQLiteJobStore
from test_jobs_runners import (
    MODES,
    Clock,
    FakeAPI,
    async_client,
    calls_of,
    execute,
    job_record,
    results,
    run_job,
    sync_client,
)

# --- planning -----------------------------------------------------------------------------------------------------


class Bounded:
    """The store, answering `next_unplanned` at most `calls` times: planning that would ask for the same requests
    again (a shard recorded without them) fails at once instead of looping until a timeout."""

    def __init__(self, store: SQLiteJobStore, calls: int) -> None:
        self._store = store
        self.calls = 0
        self.limit = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def next_unplanned(self, job: int, limit: int) -> Any:
        self.calls += 1
        assert self.calls <= self.limit, "planning asked again for requests it had planned already"
        return self._store.next_unplanned(job, limit)


def test_planning_puts_each_waiting_request_in_one_shard_and_then_stops(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(5)], max_batch_requests=2)
    bounded = Bounded(store, calls=4)
    shards = plan_shards(bounded, job)  # type: ignore[arg-type]
    assert [(s.id, s.requests) for s in shards] == [(1, 2), (2, 2), (3, 1)]
    assert bounded.calls == 4, "one query per shard, and one that finds nothing left"
    lines = [[row[0] for row in store.shard_lines(job.id, s.id)] for s in shards]
    assert lines == [[1, 2], [3, 4], [5]]
    assert not store.has_pending(job.id)


# --- local work ---------------------------------------------------------------------------------------------------


def holding(store: SQLiteJobStore, job: JobRecord) -> LocalWork:
    lease = store.acquire_lease(job.id, Lease("holder", 1, "test-host", 0.0, ttl=1e9), is_gone=holder_gone)
    return LocalWork(store, job, lease)


def test_local_work_writes_each_effect_the_core_asks_for(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(5)], max_batch_requests=2, max_attempts=2)
    work = holding(store, job)
    work.apply([SetJobStatus("created", "in_progress")])
    assert work.view().job.status == "in_progress"

    work.apply([PlanShards()])
    view = work.view()
    assert [(s.id, s.requests, s.state) for s in view.shards] == [
        (1, 2, "planned"),
        (2, 2, "planned"),
        (3, 1, "planned"),
    ]
    assert not view.has_pending

    # An expired batch that answered nothing: its requests wait for their second attempt.
    work.apply([MergeShard(ended_shard(store, view.shards[0], "expired"), False)])
    view = work.view()
    assert [s.state for s in view.shards] == [ShardState.MERGED, ShardState.PLANNED, ShardState.PLANNED]
    assert view.has_pending

    # Cancelling: the waiting requests and those of shard 2 (never sent) end cancelled, and shard 2 with them.
    work.apply([StopWaiting((view.shards[1],))])
    view = work.view()
    assert [s.state for s in view.shards] == [ShardState.MERGED, ShardState.MERGED, ShardState.PLANNED]
    assert (view.job.cancelled, view.job.pending, view.has_pending) == (4, 1, False)


# --- the driver ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI(Clock())


class LostLease:
    """A lease another runner took: every check refuses, and each is counted."""

    def __init__(self) -> None:
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        raise JobLeaseLostError("job job was taken over by another runner", job="job")


def execute_with(mode: str, api: FakeAPI, lease: LostLease, action: Action) -> Event:
    if mode == "sync":
        with sync_client(api) as client:
            return driver_sync.execute(provider(client), lease, action)  # type: ignore[arg-type]

    async def main() -> Event:
        async with async_client(api) as client:
            return await driver_async.execute(async_provider(client), lease, action)  # type: ignore[arg-type]

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_a_lost_lease_stops_every_request_that_changes_the_service_and_no_read(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    path = tmp_path / "shard.jsonl"
    path.write_bytes(json.dumps(line("a")).encode() + b"\n")
    batch_id = api.add_batch({"job": "job"}, created_at=1, status="in_progress")
    file_id = api.add_file("shard.jsonl", [b"x"])
    lease = LostLease()
    for action in (
        Upload(1, path, "shard.jsonl", "key"),
        Create(1, file_id, "/v1/chat/completions", "24h", {"job": "job"}, "key"),
        Cancel(1, batch_id),
        DeleteUpload(1, file_id),
    ):
        with pytest.raises(JobLeaseLostError):
            execute_with(mode, api, lease, action)
    assert (api.requests, lease.checks) == ([], 4), "refused before anything was sent"
    assert isinstance(execute_with(mode, api, lease, Poll(1, batch_id)), Polled)
    assert (calls_of(api), lease.checks) == ([f"GET /batches/{batch_id}"], 4), "reading needs no lease"


@pytest.mark.parametrize("mode", MODES)
def test_a_reconcile_lists_the_jobs_batches_and_uploads_since_the_job_began_newest_first(
    mode: str, api: FakeAPI
) -> None:
    since, uid, prefix = 1_000_000, "0123456789abcdef", "job.0123456789abcdef."
    # More than a page of older ones on both lists: each listing stops at the first older than `since`.
    for number in range(120):
        api.add_batch({"job_id": uid}, created_at=since - 200 + number)
        api.add_file(f"{prefix}old{number}.jsonl", [b"x"], created_at=since - 200 + number)
    batch_at_since = api.add_batch({"job_id": uid, "shard": "1"}, created_at=since)
    api.add_batch({"job_id": "another job"}, created_at=since + 1)
    newest_batch = api.add_batch({"job_id": uid, "shard": "2"}, created_at=since + 2)
    file_at_since = api.add_file(f"{prefix}shard1.attempt1.jsonl", [b"x"], created_at=since)
    api.add_file("someone-else.jsonl", [b"x"], created_at=since + 1)
    newest_file = api.add_file(f"{prefix}shard2.attempt1.jsonl", [b"x"], created_at=since + 2)

    event = execute(mode, api, Reconcile(float(since), uid, prefix))
    assert [batch.id for batch in event.batches] == [newest_batch, batch_at_since]  # type: ignore[union-attr]
    assert event.files == (  # type: ignore[union-attr]
        (newest_file, f"{prefix}shard2.attempt1.jsonl"),
        (file_at_since, f"{prefix}shard1.attempt1.jsonl"),
    )
    assert [(r.method, r.url.path, dict(r.url.params)) for r in api.requests] == [
        ("GET", "/v1/batches", {"limit": "100"}),
        ("GET", "/v1/files", {"purpose": "batch", "order": "desc", "limit": "100"}),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_run_over_a_changed_input_leaves_the_job_as_it_was(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0"), line("r1")])
    with (tmp_path / "input.jsonl").open("a") as out:
        out.write(json.dumps(line("extra")) + "\n")
    with pytest.raises(JobInputChangedError, match="changed since the job was created"):
        run_job(mode, api, store, tmp_path)
    # Checked before the run took the job: nothing planned, no upload intended, still `created`.
    assert (job_record(store).status, store.active_shards(job.id), store.has_pending(job.id)) == ("created", [], True)


@pytest.mark.parametrize("mode", MODES)
def test_a_cancelling_job_is_finished_whatever_became_of_its_input(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0"), line("r1")])
    store.set_job_status(job.id, "created", "cancelling")
    (tmp_path / "input.jsonl").unlink()
    run_job(mode, api, store, tmp_path)
    assert api.requests == []
    assert (job_record(store).status, job_record(store).cancelled) == ("cancelled", 2)


@pytest.mark.parametrize("mode", MODES)
def test_a_run_pauses_at_most_a_quarter_of_its_lease(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line("r0"), line("r1")])
    run_job(mode, api, store, tmp_path, poll_interval=5.0, max_poll_interval=5.0, lease_seconds=8.0)
    assert api.clock.sleeps == [2.0, 2.0, 1.0], "the first poll is due 5 s after the create"
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]


class CancelledAsItCompletes:
    """The store, where another process's `job cancel` lands just before the run marks the job completed."""

    def __init__(self, store: SQLiteJobStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def set_job_status(self, job: int, before: str, after: str, finished_at: float | None = None) -> bool:
        if after == "completed":
            self._store.set_job_status(job, before, "cancelling")
        return self._store.set_job_status(job, before, after, finished_at)


@pytest.mark.parametrize("mode", MODES)
def test_a_cancel_that_lands_as_the_job_completes_is_finished_before_the_run_returns(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    store, _ = new_job(tmp_path, [line("r0"), line("r1")])
    run_job(mode, api, CancelledAsItCompletes(store), tmp_path)  # type: ignore[arg-type]
    record = job_record(store)
    assert (record.status, record.succeeded, record.pending) == ("cancelled", 2, 0), "not left `cancelling`"
