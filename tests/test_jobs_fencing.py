"""Fencing: a runner that lost its job (paused past its lease, then continued) changes nothing more.

The lease carries an epoch that grows with every takeover; every write a runner makes is fenced by it in the same
transaction; the runner checks the lease before each request that changes the service and after each retry pause;
and a job taken over from a holder that may still be alive is reconciled, so what that holder sent in its last
instant is cancelled or deleted. tests/test_jobs_stalled.py proves the whole with real processes and SIGSTOP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL
from jobs_support import FakeService, async_provider, drive, ended_shard, line, new_job, provider
from openai_batches import AsyncBatchClient, BatchClient
from openai_batches._exceptions import InvalidParameterError
from openai_batches._retry import RetryPolicy
from openai_batches.jobs import lease as lease_module
from openai_batches.jobs._async import driver as driver_async
from openai_batches.jobs._sync import driver as driver_sync
from openai_batches.jobs.actions import Cancel, DeleteUpload, Poll
from openai_batches.jobs.core import JobCore
from openai_batches.jobs.effects import SaveShard, SetJobStatus
from openai_batches.jobs.errors import JobBusyError, JobLeaseLostError
from openai_batches.jobs.lease import JobLease, holder_gone
from openai_batches.jobs.local_work import LocalWork
from openai_batches.jobs.merge import merge_shard
from openai_batches.jobs.openai_account import account_of
from openai_batches.jobs.operations import check_lease_seconds
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import JobRecord, Lease, ShardState
from openai_batches.jobs.settings import job_folder
from openai_batches.jobs.store import LeaseLost, SQLiteJobStore
from test_jobs_runners import Clock, FakeAPI

MODES = ("sync", "async")


def record_of(store: SQLiteJobStore) -> JobRecord:
    record = store.get_job("job")
    assert record is not None
    return record


def lease(holder: str, heartbeat: float, *, pid: int = 1, ttl: float = 10.0) -> Lease:
    return Lease(holder, pid, "some-other-host", heartbeat, ttl=ttl)


def never_gone(_: Lease) -> bool:
    return False


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- the store: epochs, takeovers, fenced writes ------------------------------------------------------------------


def test_each_takeover_raises_the_epoch_and_fences_the_old_holder_out(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    first = store.acquire_lease(job.id, lease("a", 100.0), is_gone=never_gone)
    assert (first.holder, first.epoch) == ("a", 1)
    assert store.acquire_lease(job.id, lease("b", 109.0), is_gone=never_gone).holder == "a", "within a's lease"
    second = store.acquire_lease(job.id, lease("b", 111.0), is_gone=never_gone)
    assert (second.holder, second.epoch) == ("b", 2)
    assert record_of(store).lease_contested, "a may still be alive: what it sends next is for b to clean up"

    with pytest.raises(LeaseLost) as lost, store.fenced(job.id, first):
        store.set_job_status(job.id, "created", "in_progress")
    assert lost.value.current is not None and lost.value.current.holder == "b"
    assert record_of(store).status == "created", "the fenced write did not happen"
    assert not store.renew_lease(job.id, first, 112.0)
    store.release_lease(job.id, first)
    assert record_of(store).lease_holder == "b", "a's release does not free b's job"
    with store.fenced(job.id, second):
        store.set_job_status(job.id, "created", "in_progress")
    assert record_of(store).status == "in_progress"


def test_the_same_holder_under_an_older_epoch_is_fenced_out_too(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    old = store.acquire_lease(job.id, lease("a", 100.0), is_gone=never_gone)
    store.release_lease(job.id, old)
    store.acquire_lease(job.id, lease("a", 101.0), is_gone=never_gone)
    with pytest.raises(LeaseLost), store.fenced(job.id, old):
        pass


def test_a_holder_whose_process_exited_frees_the_job_at_once_and_uncontested(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    gone = Lease("a", dead_pid(), socket.gethostname(), 100.0, ttl=1000.0)
    store.acquire_lease(job.id, gone, is_gone=holder_gone)
    taken = store.acquire_lease(job.id, lease("b", 101.0), is_gone=holder_gone)
    assert (taken.holder, taken.epoch) == ("b", 2) and not record_of(store).lease_contested


# --- the lease of a run: checked before changes, renewed by its thread ----------------------------------------------


def test_releasing_a_lease_stops_its_thread_and_frees_the_job_at_once(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    mine = JobLease(store, job, ttl=60.0)
    mine.acquire()
    # A release that never stopped its renewing thread would wait on it for ever: it runs aside, so this can fail.
    releasing = threading.Thread(target=mine.release, daemon=True)
    releasing.start()
    releasing.join(timeout=10)
    assert not releasing.is_alive(), "release() waited for a renewing thread it never told to stop"
    assert record_of(store).lease_holder is None


def test_check_renews_a_lease_past_half_its_time_and_refuses_one_taken_over(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    now = [100.0]
    mine = JobLease(store, job, ttl=10.0, clock=lambda: now[0])
    mine.acquire()
    try:
        now[0] = 104.0
        mine.check()
        assert record_of(store).lease_heartbeat == 100.0, "within half its time: no write"
        now[0] = 105.0
        mine.check()
        assert record_of(store).lease_heartbeat == 105.0, "half its time gone: renewed before the request"
        store.acquire_lease(job.id, lease("other", 120.0, pid=4242), is_gone=never_gone)
        now[0] = 121.0
        with pytest.raises(JobLeaseLostError, match="taken over by process 4242 on some-other-host") as lost:
            mine.check()
        assert "stopped without changing anything more" in str(lost.value)
        with pytest.raises(JobLeaseLostError):
            mine.check()
    finally:
        mine.release()
    assert record_of(store).lease_holder == "other", "a lost lease is not released over its new holder"


def test_the_lease_thread_renews_while_the_run_does_nothing(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    mine = JobLease(store, job, ttl=1.2)
    acquired = mine.acquire()
    try:
        deadline = time.monotonic() + 10.0
        while record_of(store).lease_heartbeat == acquired.heartbeat:
            assert time.monotonic() < deadline, "the heartbeat was never renewed"
            time.sleep(0.05)
    finally:
        mine.release()
    assert record_of(store).lease_holder is None


def test_a_second_runner_is_refused_while_the_first_holds_the_job(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    first = JobLease(store, job, ttl=60.0)
    first.acquire()
    try:
        with pytest.raises(JobBusyError, match="already being run by this process"):
            JobLease(store, job, ttl=60.0).acquire()
    finally:
        first.release()


def test_a_run_promises_a_two_minute_lease_unless_told_and_never_less_than_a_second(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    assert (check_lease_seconds(None), check_lease_seconds(1), check_lease_seconds(2.5)) == (120.0, 1.0, 2.5)
    with pytest.raises(InvalidParameterError, match=r"expected seconds >= 1, got 0\.99"):
        check_lease_seconds(0.99)
    mine = JobLease(store, job, clock=lambda: 100.0)
    mine.acquire()
    try:
        assert (record_of(store).lease_ttl, record_of(store).lease_heartbeat) == (120.0, 100.0)
    finally:
        mine.release()


def test_a_holder_on_another_host_is_judged_by_its_heartbeat_alone() -> None:
    # Its process id means nothing here, even one that no process of this host has.
    assert not holder_gone(Lease("a", dead_pid(), "some-other-host", 100.0))


def test_a_live_holder_on_this_host_is_not_gone_and_is_not_signalled() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert not holder_gone(Lease("a", child.pid, socket.gethostname(), 100.0))
    finally:
        assert child.stdin is not None
        child.stdin.close()
    assert child.wait(timeout=30) == 0, "asked only whether it exists: it ended on its own, not by a signal"


def test_a_holder_this_runner_may_not_signal_is_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(pid: int, signal: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(lease_module.os, "kill", refused)  # another user's process
    assert not holder_gone(Lease("a", 4242, socket.gethostname(), 100.0))


def test_a_holder_in_another_process_with_our_pid_number_is_named_by_its_host(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    store.acquire_lease(job.id, lease("other", time.time(), pid=os.getpid()), is_gone=never_gone)
    with pytest.raises(JobBusyError, match=f"already being run by process {os.getpid()} on some-other-host"):
        JobLease(store, job, ttl=60.0).acquire()


class Siblings:
    """The store, keeping the connections it hands out (`sibling()`) to tell whether each was closed."""

    def __init__(self, store: SQLiteJobStore) -> None:
        self._store = store
        self.opened: list[SQLiteJobStore] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def sibling(self) -> SQLiteJobStore:
        self.opened.append(self._store.sibling())
        return self.opened[-1]

    def all_closed(self) -> bool:
        for connection in self.opened:
            try:
                connection.get_job("job")
            except sqlite3.ProgrammingError:
                continue
            return False
        return bool(self.opened)


def test_a_lease_closes_its_connection_when_released_refused_or_never_taken(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    for attempt in ("released", "refused", "never taken"):
        siblings = Siblings(store)
        mine = JobLease(siblings, job, ttl=60.0)  # type: ignore[arg-type]
        if attempt == "released":
            mine.acquire()
            mine.release()
        elif attempt == "refused":
            first = JobLease(store, job, ttl=60.0)
            first.acquire()
            with pytest.raises(JobBusyError):
                mine.acquire()
            first.release()
        else:
            mine.release()  # a run that stopped before it took the job
        assert siblings.all_closed(), attempt
        assert record_of(store).lease_holder is None, attempt


def test_the_lease_thread_renews_every_sixth_of_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    waits: list[float | None] = []
    waiting = threading.Event()

    class Recorded(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout)
            waiting.set()
            return super().wait(timeout)

    threads = types.SimpleNamespace(Event=Recorded, Lock=threading.Lock, Thread=threading.Thread)
    monkeypatch.setattr(lease_module, "threading", threads)
    mine = JobLease(store, job, ttl=60.0)
    mine.acquire()
    try:
        assert waiting.wait(timeout=30)
    finally:
        mine.release()
    assert waits[0] == 10.0


def test_the_renewing_thread_never_keeps_a_program_from_exiting(tmp_path: Path) -> None:
    # Should a run ever stop without releasing its lease, its thread must not hold the interpreter open at exit,
    # which a non-daemon thread renewing for ever would.
    store, job = new_job(tmp_path, [line("r0")])
    mine = JobLease(store, job, ttl=60.0)
    before = set(threading.enumerate())
    mine.acquire()
    try:
        (renewing,) = set(threading.enumerate()) - before
        assert renewing.daemon
    finally:
        mine.release()


@pytest.mark.parametrize("how", ["released by its new holder", "deleted"])
def test_a_lease_lost_to_a_holder_gone_since_says_another_runner(how: str, tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    now = [100.0]
    mine = JobLease(store, job, ttl=10.0, clock=lambda: now[0])
    mine.acquire()
    try:
        other = store.acquire_lease(job.id, lease("other", 200.0, pid=4242), is_gone=never_gone)
        if how == "deleted":
            store.delete_job(job.id)
        else:
            store.release_lease(job.id, other)
        with pytest.raises(JobLeaseLostError, match="taken over by another runner while this runner was paused"):
            mine.check()
    finally:
        mine.release()


# --- local work: nothing recorded by a runner that lost the job -----------------------------------------------------


def test_a_runner_that_lost_the_job_records_nothing(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    (planned,) = plan_shards(store, job)
    mine = store.acquire_lease(job.id, lease("a", 100.0), is_gone=never_gone)
    work = LocalWork(store, job, mine)
    store.acquire_lease(job.id, lease("b", 200.0, pid=77), is_gone=never_gone)
    uploading = dataclasses.replace(planned, state=ShardState.UPLOADING, filename="f", intent_at=200.0)
    with pytest.raises(JobLeaseLostError, match="job job was taken over by process 77 on some-other-host"):
        work.apply([SaveShard(planned, uploading)])
    assert store.active_shards(job.id)[0].state == ShardState.PLANNED, "the intent was not recorded"


def test_a_step_over_a_shard_another_runner_moved_is_refused_whole(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    (planned,) = plan_shards(store, job)
    work = LocalWork(store, job, store.acquire_lease(job.id, lease("a", 100.0), is_gone=never_gone))
    theirs = dataclasses.replace(planned, state=ShardState.UPLOADING, filename="theirs", intent_at=150.0)
    store.save_shard(planned, theirs)  # a runner that still writes without the lease (or a bug) got there first
    mine = dataclasses.replace(planned, state=ShardState.UPLOADING, filename="mine", intent_at=200.0)
    with pytest.raises(JobLeaseLostError, match="another runner is changing the job, so this one stopped"):
        work.apply([SetJobStatus("created", "in_progress"), SaveShard(planned, mine)])
    assert (record_of(store).status, store.active_shards(job.id)[0].filename) == ("created", "theirs")


def test_merging_a_shard_a_second_time_counts_nothing(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0"), line("r1")], max_attempts=1)
    (shard,) = plan_shards(store, job)
    ended = ended_shard(store, shard, "expired")
    first = merge_shard(store, job, ended, [], cancelling=False)
    again = merge_shard(store, job, ended, [], cancelling=False)
    assert (sum(first.values()), sum(again.values())) == (2, 0)
    assert record_of(store).missing == 2, "not 4: the second merge saw the shard merged already"


def test_a_shard_another_runner_merged_while_this_one_read_its_results_is_counted_once(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0"), line("r1")], max_attempts=1)
    (shard,) = plan_shards(store, job)
    ended = ended_shard(store, shard, "expired")
    other = store.sibling()
    merged_meanwhile: list[int] = []

    def transaction() -> Any:
        # This runner has judged every line; the other (a stalled runner that woke up) commits its merge first.
        merged_meanwhile.append(sum(merge_shard(other, job, ended, [], cancelling=False).values()))
        return store.transaction()

    try:
        again = merge_shard(Wrapped(store, transaction=transaction), job, ended, [], cancelling=False)  # type: ignore[arg-type]
    finally:
        other.close()
    assert (merged_meanwhile, sum(again.values())) == ([2], 0)
    assert record_of(store).missing == 2, "not 4: the shard was found merged inside the transaction"


# --- reconcile: what a stalled runner sent is cancelled and deleted -------------------------------------------------


def test_a_create_that_raced_a_takeover_is_cancelled_and_its_upload_deleted(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(4)], max_batch_requests=2, max_in_flight=2)
    service = FakeService(tmp_path / "service", idempotent=False)
    service.clock = job.created_at  # the service's clock and the job's agree, as a reconcile's listing assumes
    folder = job_folder(tmp_path / "state", "job")

    # Runner a uploads and creates both shards, then stalls; b takes the job over from it (a may be alive).
    lease_a = store.acquire_lease(job.id, lease("a", 100.0), is_gone=never_gone)
    a_work, a_core = LocalWork(store, job, lease_a), JobCore(job, folder, poll_interval=1.0, max_poll_interval=8.0)
    for now in (100.0, 101.0):
        step = a_core.decide(a_work.view(), now)
        a_work.apply(step.effects)
        while step.local:
            step = a_core.decide(a_work.view(), now)
            a_work.apply(step.effects)
        for action in step.actions:
            a_work.apply(a_core.record(service.execute(action), now))
    assert service.creates == 2
    lease_b = store.acquire_lease(job.id, lease("b", 200.0), is_gone=never_gone)
    assert record_of(store).lease_contested

    # What a sends after waking: a second upload and a second batch for shard 1, never recorded anywhere.
    content = service.files[service.batches["batch_1"]["input"]]["content"]
    stray_file = service._new_file(f"job.{job.uid}.shard1.attempt1.jsonl", content, "batch")
    stray = dict(service.batches["batch_1"], id="batch_stray", status="validating", input=stray_file)
    service.batches["batch_stray"] = stray
    with pytest.raises(JobLeaseLostError):  # and what a learns after waking, it cannot record
        a_work.apply(a_core.record(service.execute(Poll(1, "batch_1")), 300.0))

    # Runner b reconciles first, finds both, cancels the batch and deletes the upload, and finishes the job.
    b_work = LocalWork(store, record_of(store), lease_b)
    b_core = JobCore(record_of(store), folder, poll_interval=1.0, max_poll_interval=8.0)
    sent: list[Any] = []

    class Recording:
        def execute(self, action: Any) -> Any:
            sent.append(action)
            return service.execute(action)

    class Driven:
        job = record_of(store)

        def decide(self, now: float) -> Any:
            while True:
                step = b_core.decide(b_work.view(), now)
                b_work.apply(step.effects)
                if not step.local:
                    return step

        def record(self, event: Any, now: float) -> None:
            b_work.apply(b_core.record(event, now))

    drive(Driven(), Recording())  # type: ignore[arg-type]
    assert Cancel(None, "batch_stray") in sent and DeleteUpload(None, stray_file) in sent
    assert service.batches["batch_stray"]["status"] == "cancelled"
    assert not [f for f in service.files.values() if f["purpose"] == "batch"], "no upload left"
    final = record_of(store)
    assert (final.status, final.succeeded, final.pending) == ("completed", 4, 0)


# --- the driver: a retry after a pause past the lease is not sent ---------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_due_after_the_runner_lost_its_lease_is_not_sent(mode: str, tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    api = FakeAPI(Clock())
    api.refuse[("POST", "/files")] = [503]

    def taken_over_during_the_pause(seconds: float) -> None:
        api.clock.sleep(seconds)
        store.acquire_lease(job.id, lease("other", api.clock.now + 1e6), is_gone=never_gone)

    async def async_pause(seconds: float) -> None:
        taken_over_during_the_pause(seconds)

    policy = RetryPolicy(sleep=taken_over_during_the_pause, async_sleep=async_pause, clock=api.clock)
    arguments: dict[str, Any] = {"on_update": None, "poll_interval": 1.0, "max_poll_interval": 8.0}
    with pytest.raises(JobLeaseLostError, match="taken over"):
        if mode == "sync":
            http = httpx.Client(transport=httpx.MockTransport(api))
            with BatchClient(
                api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=2, retry_policy=policy
            ) as c:
                driver_sync.run_job(
                    provider(c, job.account), store, "job", tmp_path / "state", lease_seconds=1e5, **arguments
                )
        else:

            async def main() -> None:
                async def handler(request: httpx.Request) -> httpx.Response:
                    return api(request)

                http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
                async with AsyncBatchClient(
                    api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=2, retry_policy=policy
                ) as c:
                    await driver_async.run_job(
                        async_provider(c, job.account), store, "job", tmp_path / "state", lease_seconds=1e5, **arguments
                    )

            asyncio.run(main())
    assert [f"{r.method} {r.url.path}" for r in api.requests] == ["POST /v1/files"], "the retry was never sent"
    assert store.active_shards(job.id)[0].state == ShardState.UPLOADING, "its intent stands: the next holder looks"
    assert record_of(store).lease_holder == "other"


# --- cancel and delete respect the holder ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cancel_while_another_runner_holds_the_job_only_marks_it_cancelling(mode: str, tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    api = FakeAPI(Clock())
    with BatchClient(api_key=API_KEY, base_url=BASE_URL) as client:
        store.update_job(job.id, {"account": account_of(client).fingerprint, "base_url": str(client.base_url)})
    job = record_of(store)
    runner = JobLease(store, job, ttl=60.0)
    runner.acquire()
    try:
        if mode == "sync":
            http = httpx.Client(transport=httpx.MockTransport(api))
            with BatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http) as client:
                cancelled = client.jobs.cancel("job", state_dir=tmp_path / "state")
                with pytest.raises(JobBusyError):
                    client.jobs.delete("job", state_dir=tmp_path / "state")
        else:

            async def main() -> Any:
                async def handler(request: httpx.Request) -> httpx.Response:
                    return api(request)

                http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
                async with AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http) as client:
                    result = await client.jobs.cancel("job", state_dir=tmp_path / "state")
                    with pytest.raises(JobBusyError):
                        await client.jobs.delete("job", state_dir=tmp_path / "state")
                    return result

            cancelled = asyncio.run(main())
    finally:
        runner.release()
    assert cancelled.status == "cancelling" and api.requests == [], "the holder sends the cancels, not this call"
    assert os.path.exists(tmp_path / "state"), "the job was not deleted"


# --- a run cancelled while it takes the lease --------------------------------------------------------------------


class Wrapped:
    """An object that answers as `inner` does, except for the attributes given."""

    def __init__(self, inner: Any, **replaced: Any) -> None:
        self._inner = inner
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_async_run_cancelled_while_it_takes_the_lease_leaves_the_job_free(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    taking, go_on, taken = threading.Event(), threading.Event(), threading.Event()

    def sibling() -> Any:
        connection = store.sibling()

        def acquire_lease(*args: Any, **kwargs: Any) -> Any:
            taking.set()
            go_on.wait(timeout=10)  # the lease's transaction waiting on the write lock, say
            try:
                return connection.acquire_lease(*args, **kwargs)
            finally:
                taken.set()

        return Wrapped(connection, acquire_lease=acquire_lease)

    api = FakeAPI(Clock())
    arguments: dict[str, Any] = {"on_update": None, "poll_interval": 1.0, "max_poll_interval": 8.0}

    async def main() -> None:
        async def handler(request: httpx.Request) -> httpx.Response:
            return api(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http) as client:
            run = driver_async.run_job(
                async_provider(client, job.account),
                Wrapped(store, sibling=sibling),
                "job",
                tmp_path / "state",
                lease_seconds=60.0,
                **arguments,
            )
            task = asyncio.ensure_future(run)
            await asyncio.to_thread(taking.wait, 10)
            task.cancel()  # asyncio.wait_for(client.jobs.run(...), timeout) running out, a TaskGroup cancelled
            go_on.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.to_thread(taken.wait, 10)

    asyncio.run(main())
    assert record_of(store).lease_holder is None, "a retry in this process would get JobBusyError"
