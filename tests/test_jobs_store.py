"""The SQLite job store on its own: what each method reads and writes, exactly as its callers rely on it.

Every test opens a real store in a temporary folder and builds its rows through the store's own methods (a job, its
requests, shards moved through the table of transitions, batches, budgets, result files), then checks the rows that
come back column by column. The runner's tests exercise the store end to end; these pin each method down, so that a
changed comparison, a dropped write or a swapped column fails here first.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import line, new_job
from openai_batches.jobs import store as store_module
from openai_batches.jobs.records import (
    FINAL,
    PENDING,
    QUEUED,
    BatchRecord,
    BudgetRecord,
    IllegalTransition,
    JobRecord,
    Lease,
    ModelUsage,
    Outcome,
    ResultRow,
    ShardRecord,
    ShardState,
)
from openai_batches.jobs.store import (
    DuplicateCustomId,
    LeaseLost,
    RequestRow,
    ShardChanged,
    SQLiteJobStore,
    open_store,
)

# --- building rows ---


def job_record(name: str = "job", created_at: float = 100.0) -> JobRecord:
    return JobRecord(
        id=0,
        name=name,
        uid=f"uid-{name}",
        endpoint="/v1/chat/completions",
        completion_window="24h",
        input_path=f"/inputs/{name}.jsonl",
        input_hash="ab" * 32,
        input_bytes=1234,
        spooled=True,
        base_url="https://api.example.test/v1",
        account="0123456789abcdef",
        created_at=created_at,
        status="created",
        max_attempts=3,
        max_in_flight=8,
        enqueued_token_limit=None,
        max_batch_requests=500,
        token_estimator="heuristic",
    )


def request(number: int, model: int = 0, custom_id: str | None = None, max_output: int | None = None) -> RequestRow:
    """A request row whose every column differs from the others' and from every other row's."""
    return (
        number,
        custom_id if custom_id is not None else f"id-{number}",
        100 * number,
        10 + number,
        1000 + number,
        20 + number,
        model,
        7000 + number,
        max_output,
    )


def shard_record(job: int, shard: int, **fields: Any) -> ShardRecord:
    values: dict[str, Any] = {"attempt": 1, "model": 0, "requests": 2, "bytes": 300, "tokens": 2000, **fields}
    return ShardRecord(job=job, id=shard, **values)


def batch_record(job: int, batch_id: str, shard: int, created_at: float, **fields: Any) -> BatchRecord:
    values: dict[str, Any] = {"attempt": 1, "submission": 1, "model": 0, "status": "completed", **fields}
    return BatchRecord(job=job, batch_id=batch_id, shard=shard, created_at=created_at, **values)


def move(store: SQLiteJobStore, shard: ShardRecord, *states: ShardState, **fields: Any) -> ShardRecord:
    """The shard taken through `states` (each allowed by the table of transitions); `fields` change with the last."""
    for number, state in enumerate(states):
        changes = fields if number == len(states) - 1 else {}
        moved = dataclasses.replace(shard, state=state, **changes)
        store.save_shard(shard, moved)
        shard = moved
    return shard


def column(store: SQLiteJobStore, name: str, job: int) -> list[Any]:
    """One column of a job's requests, in line order (read as a report would)."""
    return [row[0] for row in store.aggregate(f"SELECT {name} FROM requests WHERE job = ? ORDER BY line", (job,))]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteJobStore]:
    with open_store(tmp_path / "state") as opened:
        yield opened


@pytest.fixture
def job(store: SQLiteJobStore) -> int:
    return store.insert_job(job_record()).id


# --- opening, transactions ---


def test_open_store_makes_missing_folders_and_reopens_an_existing_store(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "state"
    with open_store(folder) as first:
        first.insert_job(job_record())
    assert (folder / "jobs.sqlite3").is_file()
    with open_store(folder) as again:
        found = again.get_job("job")
    assert found is not None and found.id == 1


def test_every_commit_is_synced_in_wal_mode(store: SQLiteJobStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store._db.execute("PRAGMA synchronous").fetchone() == (2,), "FULL"


def test_a_closed_store_refuses_to_run_queries(tmp_path: Path) -> None:
    with open_store(tmp_path) as opened:
        pass
    with pytest.raises(sqlite3.ProgrammingError):
        opened.list_jobs()
    other = open_store(tmp_path / "other")
    other.close()
    with pytest.raises(sqlite3.ProgrammingError):
        other.list_jobs()


def test_a_store_from_an_older_version_gets_every_added_column(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    db.execute("CREATE TABLE batches (job INTEGER, batch_id TEXT, status TEXT)")
    db.commit()
    db.close()
    with open_store(tmp_path) as opened:
        columns = [row[1] for row in opened._db.execute("PRAGMA table_info(batches)")]
    assert columns == [
        "job",
        "batch_id",
        "status",
        "in_progress_at",
        "finalizing_at",
        "ended_at",
        "requests_total",
        "requests_completed",
        "requests_failed",
    ]


def test_a_store_serves_a_thread_other_than_the_one_that_opened_it(store: SQLiteJobStore, job: int) -> None:
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(store.get_job("job")))
    thread.start()
    thread.join()
    assert len(seen) == 1 and isinstance(seen[0], JobRecord), seen


def test_a_commit_is_visible_to_a_sibling_connection_only_when_the_outer_transaction_ends(
    store: SQLiteJobStore,
) -> None:
    sibling = store.sibling()
    try:
        with store.transaction():
            store.insert_job(job_record("one"))
            with store.transaction():
                store.insert_job(job_record("two"))
            assert sibling.list_jobs() == [], "the inner transaction joined the outer one"
        assert [record.name for record in sibling.list_jobs()] == ["one", "two"]
        with store.transaction():
            store.insert_job(job_record("three"))
        assert [record.name for record in sibling.list_jobs()] == ["one", "two", "three"]
    finally:
        sibling.close()


def test_an_exception_rolls_the_whole_transaction_back_and_leaves_the_store_usable(store: SQLiteJobStore) -> None:
    with pytest.raises(KeyError), store.transaction():
        store.insert_job(job_record("one"))
        with store.transaction():
            store.insert_job(job_record("two"))
            raise KeyError("stop")
    assert store.list_jobs() == []
    with pytest.raises(KeyError), store.transaction():
        store.insert_job(job_record("three"))
        raise KeyError("stop")
    assert store.list_jobs() == []
    store.insert_job(job_record("four"))
    sibling = store.sibling()
    try:
        assert [record.name for record in sibling.list_jobs()] == ["four"]
    finally:
        sibling.close()


def test_an_inner_failure_the_outer_transaction_catches_does_not_undo_the_outer_writes(store: SQLiteJobStore) -> None:
    with store.transaction():
        store.insert_job(job_record("one"))
        try:
            with store.transaction():
                store.insert_job(job_record("two"))
                raise KeyError("inner")
        except KeyError:
            pass
        store.insert_job(job_record("three"))
    assert [record.name for record in store.list_jobs()] == ["one", "two", "three"]


# --- jobs ---


def test_insert_job_numbers_jobs_and_get_job_reads_back_every_field(store: SQLiteJobStore) -> None:
    first = store.insert_job(job_record("first"))
    second = store.insert_job(job_record("second"))
    assert (first.id, second.id) == (1, 2)
    assert first == dataclasses.replace(job_record("first"), id=1)
    found = store.get_job("second")
    assert found == second
    assert found is not None and type(found.spooled) is bool and type(found.lease_contested) is bool
    assert store.get_job("nobody") is None


def test_list_jobs_orders_by_creation_time_then_id(store: SQLiteJobStore) -> None:
    store.insert_job(job_record("late", created_at=300.0))
    store.insert_job(job_record("early", created_at=100.0))
    store.insert_job(job_record("tie", created_at=300.0))
    assert [record.name for record in store.list_jobs()] == ["early", "late", "tie"]


def test_update_job_writes_the_changes_and_refuses_unknown_fields(store: SQLiteJobStore, job: int) -> None:
    store.update_job(job, {"status": "in_progress", "max_in_flight": 2, "spooled": False})
    store.update_job(job, {})
    found = store.get_job("job")
    assert found is not None
    assert (found.status, found.max_in_flight, found.spooled) == ("in_progress", 2, False)
    with pytest.raises(ValueError, match=r"unknown jobs fields: \['colour', 'size'\]"):
        store.update_job(job, {"size": 1, "status": "completed", "colour": "red"})
    after = store.get_job("job")
    assert after is not None and after.status == "in_progress"


def test_add_counts_adds_to_the_counters_and_refuses_unknown_ones(store: SQLiteJobStore, job: int) -> None:
    store.add_counts(job, {"succeeded": 3, "failed": 1})
    store.add_counts(job, {"succeeded": 2, "missing": 4, "cancelled": 5})
    store.add_counts(job, {})
    found = store.get_job("job")
    assert found is not None
    assert (found.succeeded, found.failed, found.missing, found.cancelled) == (5, 1, 4, 5)
    with pytest.raises(ValueError, match=r"unknown counters: \['requests'\]"):
        store.add_counts(job, {"succeeded": 1, "requests": 1})
    after = store.get_job("job")
    assert after is not None and after.succeeded == 5


def test_set_job_status_moves_only_from_the_expected_status(store: SQLiteJobStore, job: int) -> None:
    assert store.set_job_status(job, "created", "in_progress") is True
    assert store.set_job_status(job, "created", "cancelled", finished_at=5.0) is False
    found = store.get_job("job")
    assert found is not None and (found.status, found.finished_at) == ("in_progress", None)
    assert store.set_job_status(job, "in_progress", "completed", finished_at=9.0) is True
    assert store.set_job_status(job, "completed", "completed") is True, "None keeps the finish time"
    found = store.get_job("job")
    assert found is not None and (found.status, found.finished_at) == ("completed", 9.0)


def test_refresh_input_stat_records_the_new_stat(store: SQLiteJobStore, job: int) -> None:
    store.refresh_input_stat(job, 123456789, 42)
    found = store.get_job("job")
    assert found is not None and (found.input_mtime_ns, found.input_inode) == (123456789, 42)


def test_delete_job_removes_every_row_of_that_job_and_no_other(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    for owner in (job, other):
        store.model_id(owner, "gpt-4o")
        store.add_requests(owner, [request(1)])
        store.add_shard(shard_record(owner, 1), [1])
        store.add_batch(batch_record(owner, f"batch-{owner}", 1, 1.0))
        store.update_budget(owner, 0, {"budget": 10})
        store.add_result_file(owner, f"batch-{owner}", "output", "out.jsonl")
    store.delete_job(job)
    assert [record.name for record in store.list_jobs()] == ["other"]
    for table in ("requests", "shards", "batches", "budgets", "result_files", "models"):
        owners = [row[0] for row in store.aggregate(f"SELECT job FROM {table}")]
        assert owners == [other], table


# --- leases ---


def lease(holder: str, heartbeat: float, ttl: float | None = 10.0) -> Lease:
    return Lease(holder, 4242, "host-a", heartbeat, ttl=ttl)


def alive(_: Lease) -> bool:
    return False


def gone(_: Lease) -> bool:
    return True


def lease_of(store: SQLiteJobStore) -> tuple[Any, ...]:
    found = store.get_job("job")
    assert found is not None
    return (found.lease_holder, found.lease_epoch, found.lease_heartbeat, found.lease_contested)


def test_acquire_lease_on_a_free_job_records_it_with_the_next_epoch(store: SQLiteJobStore, job: int) -> None:
    taken = store.acquire_lease(job, lease("a", 50.0), is_gone=alive)
    assert taken == dataclasses.replace(lease("a", 50.0), epoch=1)
    found = store.get_job("job")
    assert found is not None
    assert (found.lease_holder, found.lease_pid, found.lease_host, found.lease_heartbeat) == ("a", 4242, "host-a", 50.0)
    assert (found.lease_epoch, found.lease_ttl, found.lease_contested) == (1, 10.0, False)
    again = store.acquire_lease(job, lease("a", 60.0), is_gone=alive)
    assert again.epoch == 2 and lease_of(store) == ("a", 2, 60.0, False)


def test_acquire_lease_of_an_unknown_job_raises(store: SQLiteJobStore) -> None:
    with pytest.raises(LookupError) as raised:
        store.acquire_lease(99, lease("a", 0.0), is_gone=alive)
    assert raised.type is LookupError and raised.value.args == (99,), "not an IndexError from reading no row"


def test_a_live_holder_within_its_ttl_keeps_the_job(store: SQLiteJobStore, job: int) -> None:
    store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    current = store.acquire_lease(job, lease("b", 109.0), is_gone=alive)
    assert current == dataclasses.replace(lease("a", 100.0), epoch=1)
    assert lease_of(store) == ("a", 1, 100.0, False)


def test_a_live_holder_past_its_ttl_is_taken_over_and_the_job_marked_contested(store: SQLiteJobStore, job: int) -> None:
    store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    taken = store.acquire_lease(job, lease("b", 110.0), is_gone=alive)
    assert taken == dataclasses.replace(lease("b", 110.0), epoch=2), "exactly the ttl old: lapsed"
    assert lease_of(store) == ("b", 2, 110.0, True)


def test_a_gone_holder_frees_the_job_at_once_without_contest(store: SQLiteJobStore, job: int) -> None:
    store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    taken = store.acquire_lease(job, lease("b", 100.5), is_gone=gone)
    assert taken.epoch == 2 and lease_of(store) == ("b", 2, 100.5, False)


def test_the_holders_own_ttl_decides_and_else_the_newcomers(store: SQLiteJobStore, job: int) -> None:
    store.acquire_lease(job, lease("a", 100.0, ttl=10.0), is_gone=alive)
    kept = store.acquire_lease(job, lease("b", 105.0, ttl=None), is_gone=alive)
    assert kept.holder == "a", "the holder promised 10 s"
    store.update_job(job, {"lease_ttl": None})
    kept = store.acquire_lease(job, lease("b", 105.0, ttl=10.0), is_gone=alive)
    assert kept.holder == "a", "the holder promised nothing: the newcomer's 10 s apply"
    taken = store.acquire_lease(job, lease("b", 100.5, ttl=None), is_gone=alive)
    assert (taken.holder, taken.epoch) == ("b", 2), "no promise on either side: no wait at all"


def test_renew_and_release_only_act_for_the_current_holder_and_epoch(store: SQLiteJobStore, job: int) -> None:
    first = store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    assert store.renew_lease(job, first, 105.0) is True
    assert lease_of(store) == ("a", 1, 105.0, False)
    second = store.acquire_lease(job, lease("b", 200.0), is_gone=gone)
    assert store.renew_lease(job, first, 201.0) is False
    store.release_lease(job, first)
    assert lease_of(store) == ("b", 2, 200.0, False), "a stale lease releases nothing"
    store.release_lease(job, second)
    found = store.get_job("job")
    assert found is not None
    assert (found.lease_holder, found.lease_pid, found.lease_host, found.lease_heartbeat) == (None, None, None, None)
    assert found.lease_epoch == 2


def test_fenced_writes_commit_only_under_the_current_lease(store: SQLiteJobStore, job: int) -> None:
    first = store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    with store.fenced(job, first):
        store.add_counts(job, {"succeeded": 1})
    second = store.acquire_lease(job, lease("b", 200.0, ttl=30.0), is_gone=gone)
    with pytest.raises(LeaseLost) as lost, store.fenced(job, first):
        store.add_counts(job, {"succeeded": 1})
    assert lost.value.current == Lease("b", 4242, "host-a", 200.0, 2, 30.0)
    assert str(lost.value) == "the job's lease is held by another runner"
    with pytest.raises(LeaseLost), store.fenced(job, dataclasses.replace(second, epoch=1)):
        pass
    found = store.get_job("job")
    assert found is not None and found.succeeded == 1


def test_fenced_on_a_released_or_missing_job_names_no_holder(store: SQLiteJobStore, job: int) -> None:
    held = store.acquire_lease(job, lease("a", 100.0), is_gone=alive)
    store.release_lease(job, held)
    with pytest.raises(LeaseLost) as lost, store.fenced(job, held):
        pass
    assert lost.value.current is None
    with pytest.raises(LeaseLost) as missing, store.fenced(99, held):
        pass
    assert missing.value.current is None


# --- models and requests ---


def test_model_id_numbers_each_name_once_per_job(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert [store.model_id(job, name) for name in ("m-a", "m-b", "m-a", "m-c", "m-b")] == [0, 1, 0, 2, 1]
    assert store.model_id(other, "m-z") == 0
    assert store.models(job) == {0: "m-a", 1: "m-b", 2: "m-c"}
    assert store.models(other) == {0: "m-z"}


def test_a_repeated_custom_id_names_its_line_and_the_first_line(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(1, custom_id="a"), request(2, custom_id="b")])
    with pytest.raises(DuplicateCustomId) as raised:
        store.add_requests(job, [request(3, custom_id="c"), request(4, custom_id="b")])
    assert (raised.value.custom_id, raised.value.line, raised.value.first_line) == ("b", 4, 2)
    assert str(raised.value) == "b"
    assert column(store, "custom_id", job) == ["a", "b"], "the refused call wrote nothing"


def test_a_custom_id_repeated_within_one_call_names_both_lines(store: SQLiteJobStore, job: int) -> None:
    with pytest.raises(DuplicateCustomId) as raised:
        store.add_requests(job, [request(5, custom_id="x"), request(6, custom_id="y"), request(7, custom_id="x")])
    assert (raised.value.custom_id, raised.value.line, raised.value.first_line) == ("x", 7, 5)
    assert column(store, "line", job) == []


def test_the_same_custom_id_in_another_job_is_no_repeat(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    store.add_requests(job, [request(1, custom_id="same")])
    store.add_requests(other, [request(1, custom_id="same")])
    assert column(store, "custom_id", other) == ["same"]


def test_a_refusal_for_another_reason_than_a_custom_id_is_a_runtime_error(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(1, custom_id="a")])
    with pytest.raises(RuntimeError, match="for a reason other than a repeated custom_id"):
        store.add_requests(job, [request(1, custom_id="other-id")])
    assert column(store, "custom_id", job) == ["a"]


def test_request_readers_give_every_column_in_line_order(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(3, model=1, max_output=64), request(1), request(2, model=1)])
    assert list(store.request_sizes(job)) == [(0, 11, 1001, 21, None), (1, 12, 1002, 22, None), (1, 13, 1003, 23, 64)]
    assert list(store.input_lines(job)) == [(1, 100, 11, 7001), (2, 200, 12, 7002), (3, 300, 13, 7003)]


def test_input_lines_of_a_real_job_slice_its_input_file(tmp_path: Path) -> None:
    store, record = new_job(tmp_path, [line("a"), line("b", text="a longer text"), line("c")])
    with store:
        data = Path(record.input_path).read_bytes()
        lines = list(store.input_lines(record.id))
        assert [number for number, *_ in lines] == [1, 2, 3]
        assert [data[offset : offset + length] for _, offset, length, _ in lines] == data.splitlines()
        assert all(digest is not None for *_, digest in lines)


def test_next_unplanned_takes_the_lowest_attempts_then_model_in_line_order(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(
        job, [request(1, model=1), request(2, model=0), request(3, model=0), request(4, model=1), request(5, model=0)]
    )
    store.set_outcomes(job, [Outcome(line=2, state=PENDING, outcome=None, attempts=1)])
    assert store.next_unplanned(job, 10) == (0, 0, [(3, 13, 1003, 23, None), (5, 15, 1005, 25, None)])
    assert store.next_unplanned(job, 1) == (0, 0, [(3, 13, 1003, 23, None)])
    store.add_shard(shard_record(job, 1), [3, 5])
    assert store.next_unplanned(job, 10) == (0, 1, [(1, 11, 1001, 21, None), (4, 14, 1004, 24, None)])
    store.add_shard(shard_record(job, 2, model=1), [1, 4])
    assert store.next_unplanned(job, 10) == (1, 0, [(2, 12, 1002, 22, None)])
    store.add_shard(shard_record(job, 3, attempt=2), [2])
    assert store.next_unplanned(job, 10) is None


def test_next_unplanned_of_a_job_without_requests_is_none(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    store.add_requests(other, [request(1)])
    assert store.next_unplanned(job, 5) is None


def test_add_shard_queues_only_pending_requests(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(n) for n in (1, 2, 3, 4)])
    store.set_outcomes(job, [Outcome(line=3, state=FINAL, outcome="succeeded", attempts=1, result_file=1)])
    first = shard_record(job, 1)
    assert store.add_shard(first, [1]) == first
    store.add_shard(shard_record(job, 2), [1, 2, 3])
    assert column(store, "state", job) == [QUEUED, QUEUED, FINAL, PENDING]
    assert column(store, "shard", job) == [1, 2, None, None]
    assert store.shard(job, 2) == shard_record(job, 2)


def test_shard_lines_and_shard_input_are_the_shards_queued_requests(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(n) for n in (1, 2, 3, 4)])
    store.set_outcomes(
        job, [Outcome(line=4, state=PENDING, outcome=None, attempts=1, result_file=3, result_offset=0, result_length=9)]
    )
    store.add_shard(shard_record(job, 1), [4, 2, 1])
    store.add_shard(shard_record(job, 2), [3])
    assert list(store.shard_lines(job, 1)) == [
        (1, "id-1", 100, 11, 0, 0),
        (2, "id-2", 200, 12, 0, 0),
        (4, "id-4", 400, 14, 1, 1),
    ]
    assert list(store.shard_input(job, 1)) == [(1, 100, 11, 7001), (2, 200, 12, 7002), (4, 400, 14, 7004)]
    store.set_outcomes(job, [Outcome(line=2, state=FINAL, outcome="succeeded", attempts=1, result_file=4)])
    assert [row[0] for row in store.shard_lines(job, 1)] == [1, 4], "a final request has left the shard"
    assert [row[0] for row in store.shard_input(job, 1)] == [1, 4]
    assert list(store.shard_lines(job, 2)) == [(3, "id-3", 300, 13, 0, 0)]


def test_has_pending_and_attempt_counts(store: SQLiteJobStore, job: int) -> None:
    assert store.has_pending(job) is False
    assert store.attempt_counts(job) == {}
    store.add_requests(job, [request(n) for n in (1, 2, 3)])
    assert store.has_pending(job) is True
    store.set_outcomes(
        job,
        [
            Outcome(line=1, state=PENDING, outcome=None, attempts=2),
            Outcome(line=2, state=FINAL, outcome="succeeded", attempts=2),
        ],
    )
    assert store.attempt_counts(job) == {0: 1, 2: 2}
    store.add_shard(shard_record(job, 1), [1, 3])
    assert store.has_pending(job) is False


# --- outcomes ---


def test_set_outcomes_keeps_an_earlier_result_line_when_a_verdict_has_none(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(1), request(2)])
    store.set_outcomes(
        job,
        [
            Outcome(1, PENDING, None, 1, 5, 50, 60, "e1", "m1", 500, "server_error"),
            Outcome(2, FINAL, "succeeded", 1, 6, 70, 80, None, None, 200, None),
        ],
    )
    store.set_outcomes(job, [Outcome(1, FINAL, "missing", 2, error_code="expired", error_message="no line")])
    assert list(store.results(job)) == [
        ResultRow(1, "id-1", FINAL, "missing", 2, 5, 50, 60, "expired", "no line"),
        ResultRow(2, "id-2", FINAL, "succeeded", 1, 6, 70, 80, None, None),
    ]
    assert column(store, "status_code", job) == [500, 200]
    assert column(store, "answer_code", job) == ["server_error", None]


def test_set_outcomes_with_a_new_result_line_replaces_its_codes(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(1)])
    store.set_outcomes(job, [Outcome(1, PENDING, None, 1, 5, 50, 60, None, None, 500, "server_error")])
    store.set_outcomes(job, [Outcome(1, FINAL, "succeeded", 2, 7, 0, 33)])
    assert list(store.results(job)) == [ResultRow(1, "id-1", FINAL, "succeeded", 2, 7, 0, 33, None, None)]
    assert column(store, "status_code", job) == [None]
    assert column(store, "answer_code", job) == [None]


def waiting_job(store: SQLiteJobStore, job: int) -> None:
    """Six requests: 1 and 2 in shard 1 (2 with an earlier result), 3 in shard 2, 4 to 6 unplanned (5 with an
    earlier result, 6 requeued from shard 1)."""
    store.add_requests(job, [request(n) for n in range(1, 7)])
    earlier = {"state": PENDING, "outcome": None, "attempts": 1, "result_offset": 0, "result_length": 9}
    store.set_outcomes(
        job,
        [
            Outcome(2, result_file=1, error_code="old", error_message="old message", **earlier),
            Outcome(5, result_file=2, **earlier),
        ],
    )
    store.add_shard(shard_record(job, 1), [1, 2, 6])
    store.add_shard(shard_record(job, 2), [3])
    store.set_outcomes(job, [Outcome(6, PENDING, None, 1)])


def test_finish_waiting_one_shard_touches_only_its_queued_requests(store: SQLiteJobStore, job: int) -> None:
    waiting_job(store, job)
    counts = store.finish_waiting(job, 1, "cancelled", "job_cancelled", "the job was cancelled")
    assert counts == {"cancelled": 1, "failed": 1}
    rows = list(store.results(job))
    assert rows[0] == ResultRow(
        1, "id-1", FINAL, "cancelled", 0, None, None, None, "job_cancelled", "the job was cancelled"
    )
    assert rows[1] == ResultRow(2, "id-2", FINAL, "failed", 1, 1, 0, 9, "old", "old message")
    assert column(store, "state", job) == [FINAL, FINAL, QUEUED, PENDING, PENDING, PENDING]
    assert [row.outcome for row in rows[2:]] == [None, None, None, None]


def test_finish_waiting_all_unplanned_requests(store: SQLiteJobStore, job: int) -> None:
    waiting_job(store, job)
    counts = store.finish_waiting(job, None, "missing", "stopped", "the job stopped")
    assert counts == {"missing": 2, "failed": 1}
    rows = list(store.results(job))
    assert [(row.state, row.outcome, row.error_code) for row in rows] == [
        (QUEUED, None, None),
        (QUEUED, None, "old"),
        (QUEUED, None, None),
        (FINAL, "missing", "stopped"),
        (FINAL, "failed", None),
        (FINAL, "missing", "stopped"),
    ]
    assert rows[4].result_file == 2 and rows[4].error_message is None
    assert rows[5].error_message == "the job stopped"
    assert store.finish_waiting(job, None, "missing", "stopped", "again") == {}


def test_finish_waiting_counts_both_kinds_together_when_the_outcome_is_failed(store: SQLiteJobStore, job: int) -> None:
    waiting_job(store, job)
    assert store.finish_waiting(job, None, "failed", "stopped", "stopped") == {"failed": 3}
    assert store.finish_waiting(job, 2, "failed", "stopped", "stopped") == {"failed": 1}


def test_placed_results_add_each_requests_model_and_last_shard(store: SQLiteJobStore, job: int) -> None:
    store.add_requests(job, [request(1, model=3), request(2, model=4), request(3, model=5)])
    store.add_shard(shard_record(job, 7, model=3), [1])
    store.add_shard(shard_record(job, 8, model=5), [3])
    store.set_outcomes(job, [Outcome(3, FINAL, "failed", 1, 2, 30, 40, "e", "m")])
    assert list(store.placed_results(job)) == [
        (ResultRow(1, "id-1", QUEUED, None, 0, None, None, None, None, None), 3, 7),
        (ResultRow(2, "id-2", PENDING, None, 0, None, None, None, None, None), 4, None),
        (ResultRow(3, "id-3", FINAL, "failed", 1, 2, 30, 40, "e", "m"), 5, 8),
    ]


# --- shards ---


def test_next_shard_id_follows_the_highest_of_the_job(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert store.next_shard_id(job) == 1
    store.add_shard(shard_record(job, 1), [])
    store.add_shard(shard_record(job, 5), [])
    store.add_shard(shard_record(other, 9), [])
    assert (store.next_shard_id(job), store.next_shard_id(other)) == (6, 10)


def test_shard_reads_back_every_field_with_its_types(store: SQLiteJobStore, job: int) -> None:
    shard = shard_record(job, 1, filename="job-1.jsonl", tokens_ahead=5, max_output=7, unbounded=1)
    store.add_shard(shard, [])
    uploaded = move(store, shard, ShardState.UPLOADING, ShardState.UPLOADED, file_id="file-1", input_deleted=True)
    found = store.shard(job, 1)
    assert found == uploaded
    assert found is not None and type(found.state) is ShardState and type(found.input_deleted) is bool
    assert store.shard(job, 2) is None


def test_active_shards_leave_out_done_ones_in_id_order(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    for number in (3, 1, 2, 4):
        store.add_shard(shard_record(job, number), [])
    store.add_shard(shard_record(other, 1), [])
    move(store, shard_record(job, 2), ShardState.MERGED, ShardState.DONE)
    merged = move(store, shard_record(job, 4), ShardState.MERGED)
    assert store.active_shards(job) == [shard_record(job, 1), shard_record(job, 3), merged]


def test_save_shard_writes_the_changed_fields(store: SQLiteJobStore, job: int) -> None:
    shard = store.add_shard(shard_record(job, 1), [])
    other = store.add_shard(shard_record(job, 2), [])
    after = dataclasses.replace(shard, state=ShardState.UPLOADING, filename="f.jsonl", intent_at=3.5)
    store.save_shard(shard, after)
    again = dataclasses.replace(after, cancel_requested=True, wait_ended=2)
    store.save_shard(after, again)
    assert store.shard(job, 1) == again
    assert store.shard(job, 2) == other


def test_save_shard_refuses_another_shard_naming_both(store: SQLiteJobStore, job: int) -> None:
    shard = store.add_shard(shard_record(job, 1), [])
    with pytest.raises(ValueError, match="shard 1 of job 1 cannot become shard 2 of 1"):
        store.save_shard(shard, dataclasses.replace(shard, id=2))
    with pytest.raises(ValueError, match="shard 1 of job 1 cannot become shard 1 of 7"):
        store.save_shard(shard, dataclasses.replace(shard, job=7))
    assert store.shard(job, 1) == shard


def test_save_shard_refuses_a_disallowed_transition_before_writing(store: SQLiteJobStore, job: int) -> None:
    shard = store.add_shard(shard_record(job, 1), [])
    with pytest.raises(IllegalTransition, match="shard 1 cannot go from planned to done"):
        store.save_shard(shard, dataclasses.replace(shard, state=ShardState.DONE, filename="x"))
    assert store.shard(job, 1) == shard


def test_save_shard_of_a_row_changed_meanwhile_raises_shard_changed(store: SQLiteJobStore, job: int) -> None:
    shard = store.add_shard(shard_record(job, 1), [])
    uploading = move(store, shard, ShardState.UPLOADING, filename="f.jsonl")
    with pytest.raises(ShardChanged, match="shard 1 of job 1 is no longer planned"):
        store.save_shard(shard, dataclasses.replace(shard, state=ShardState.UPLOADING, filename="g.jsonl"))
    assert store.shard(job, 1) == uploading
    store.save_shard(shard, shard)  # nothing changed: nothing written, nothing checked
    with pytest.raises(ShardChanged):
        store.save_shard(shard_record(job, 9), shard_record(job, 9, tokens=1))
    assert store.shard(job, 1) == uploading


def test_known_remote_ids_gather_batches_and_uploads_of_the_job(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert store.known_remote_ids(job) == (frozenset(), frozenset())
    store.add_batch(batch_record(job, "batch-table", 1, 1.0))
    for owner, prefix in ((job, ""), (other, "other-")):
        store.add_shard(shard_record(owner, 1), [])
        store.add_shard(shard_record(owner, 2), [])
        move(store, shard_record(owner, 1), ShardState.UPLOADING, ShardState.UPLOADED, file_id=f"{prefix}file-1")
        move(
            store,
            shard_record(owner, 2),
            ShardState.UPLOADING,
            ShardState.UPLOADED,
            ShardState.CREATING,
            ShardState.SUBMITTED,
            file_id=f"{prefix}file-2",
            batch_id=f"{prefix}batch-shard",
        )
    store.add_shard(shard_record(job, 3), [])
    assert store.known_remote_ids(job) == (
        frozenset({"batch-table", "batch-shard"}),
        frozenset({"file-1", "file-2"}),
    )


# --- batches, budgets, usage, result files ---


def test_add_batch_keeps_the_first_record_of_a_batch_and_batches_sort_by_time_then_shard(
    store: SQLiteJobStore, job: int
) -> None:
    other = store.insert_job(job_record("other")).id
    late = batch_record(job, "b-late", 1, 30.0, requests_total=4, ended_at=33.0)
    tie_two = batch_record(job, "b-tie-2", 2, 10.0)
    tie_one = batch_record(job, "b-tie-1", 1, 10.0, input_tokens=5)
    for record in (late, tie_two, tie_one, batch_record(other, "b-other", 1, 1.0)):
        store.add_batch(record)
    store.add_batch(dataclasses.replace(late, status="failed", created_at=1.0))
    assert store.batches(job) == [tie_one, tie_two, late]
    assert store.batches(other) == [batch_record(other, "b-other", 1, 1.0)]


def test_update_batch_changes_only_that_batch(store: SQLiteJobStore, job: int) -> None:
    first, second = batch_record(job, "b1", 1, 1.0), batch_record(job, "b2", 2, 2.0)
    store.add_batch(first)
    store.add_batch(second)
    store.update_batch(job, "b1", {"status": "in_progress", "output_file_id": "file-out", "requests_completed": 3})
    assert store.batches(job) == [
        dataclasses.replace(first, status="in_progress", output_file_id="file-out", requests_completed=3),
        second,
    ]
    with pytest.raises(ValueError, match=r"unknown batches fields: \['colour'\]"):
        store.update_batch(job, "b2", {"colour": "red"})


def test_usage_sums_tokens_per_model_and_counts_completed_batches_alone(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert store.usage(job) == {}
    store.add_shard(shard_record(job, 1, requests=3), [])
    store.add_shard(shard_record(job, 2, requests=5), [])
    store.add_shard(shard_record(other, 4, requests=1000), [])
    tokens = {"input_tokens": 100, "cached_tokens": 10, "output_tokens": 50}
    store.add_batch(batch_record(job, "b1", 1, 1.0, **tokens))
    store.add_batch(batch_record(job, "b2", 2, 2.0, status="failed", input_tokens=7, cached_tokens=1, output_tokens=2))
    store.add_batch(batch_record(job, "b3", 4, 3.0, model=1, input_tokens=9, output_tokens=4))
    store.add_batch(batch_record(job, "b4", 2, 4.0, status="expired", model=2, input_tokens=6))
    store.add_batch(batch_record(other, "b9", 4, 1.0, **tokens))
    assert store.usage(job) == {
        0: ModelUsage(0, 107, 11, 52, 3, 50),
        1: ModelUsage(1, 9, 0, 4, 0, 4),  # completed, but its shard is not the job's: no requests to count
        2: ModelUsage(2, 6, 0, 0, 0, 0),
    }


def test_update_budget_creates_the_row_with_defaults_then_applies_the_changes(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert store.budgets(job) == {}
    store.update_budget(job, 3, {"budget": 500})
    store.update_budget(job, 3, {"refusals": 2})
    store.update_budget(job, 1, {})
    store.update_budget(other, 3, {"ended": 4})
    assert store.budgets(job) == {3: BudgetRecord(job, 3, 500, 2, 0), 1: BudgetRecord(job, 1, None, 0, 0)}
    assert store.budgets(other) == {3: BudgetRecord(other, 3, None, 0, 4)}
    with pytest.raises(ValueError, match=r"unknown budgets fields: \['colour'\]"):
        store.update_budget(job, 2, {"colour": "red"})
    assert sorted(store.budgets(job)) == [1, 3], "the refused change created no row"


def test_result_files_are_numbered_per_job_and_listed_per_batch(store: SQLiteJobStore, job: int) -> None:
    other = store.insert_job(job_record("other")).id
    assert store.add_result_file(job, "b1", "output", "b1-out.jsonl") == 1
    assert store.add_result_file(job, "b2", "output", "b2-out.jsonl") == 2
    assert store.add_result_file(other, "b1", "error", "other.jsonl") == 1
    assert store.add_result_file(job, "b1", "error", "b1-err.jsonl") == 3
    assert store.result_files(job) == {1: "b1-out.jsonl", 2: "b2-out.jsonl", 3: "b1-err.jsonl"}
    assert store.result_files(other) == {1: "other.jsonl"}
    assert store.batch_result_files(job, "b1") == [(1, "b1-out.jsonl"), (3, "b1-err.jsonl")]
    assert store.batch_result_files(job, "b9") == []
    kinds = list(store.aggregate("SELECT kind FROM result_files WHERE job = ? ORDER BY id", (job,)))
    assert kinds == [("output",), ("output",), ("error",)]


# --- reports ---


def test_aggregate_runs_select_and_with_queries_in_any_case(store: SQLiteJobStore, job: int) -> None:
    assert list(store.aggregate("  select ?, ? + 1", (4, 5))) == [(4, 6)]
    assert list(store.aggregate("\nWith t(x) AS (SELECT 2) SELECT x * 3 FROM t")) == [(6,)]
    assert list(store.aggregate("SELECT name FROM jobs WHERE id = ?", [job])) == [("job",)]


@pytest.mark.parametrize("sql", ["UPDATE jobs SET status = 'gone'", "  delete from jobs", "PRAGMA user_version = 3"])
def test_aggregate_refuses_anything_but_a_query(store: SQLiteJobStore, job: int, sql: str) -> None:
    with pytest.raises(ValueError, match=r"aggregate\(\) runs SELECT queries only"):
        store.aggregate(sql)
    found = store.get_job("job")
    assert found is not None and found.status == "created"


COUNT_TO = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) SELECT x FROM n"


@pytest.mark.parametrize(("rows", "chunks"), [(0, 0), (1, 1), (2000, 1), (2001, 2), (4001, 3)])
def test_rows_stream_in_chunks_of_two_thousand_with_a_breath_after_each(
    store: SQLiteJobStore, monkeypatch: pytest.MonkeyPatch, rows: int, chunks: int
) -> None:
    breaths: list[None] = []
    monkeypatch.setattr(store_module, "breathe", lambda: breaths.append(None))
    sql = COUNT_TO if rows else "SELECT 1 WHERE 1 = ?"
    assert [x for (x,) in store.aggregate(sql, (rows,))] == list(range(1, rows + 1))
    assert len(breaths) == chunks


def test_results_stream_past_a_chunk_boundary_in_line_order(store: SQLiteJobStore, job: int) -> None:
    total = store_module._FETCH + 5
    store.add_requests(job, [request(n) for n in range(total, 0, -1)])
    assert [row.line for row in store.results(job)] == list(range(1, total + 1))
    assert [row[0].custom_id for row in store.placed_results(job)][-2:] == [f"id-{total - 1}", f"id-{total}"]


@pytest.mark.parametrize(
    "sql",
    [
        "WITH x AS (SELECT 1) DELETE FROM budgets",
        "WITH x AS (SELECT 1) UPDATE jobs SET status = 'gone'",
        "WITH x AS (SELECT 1) INSERT INTO models (job, id, name) SELECT 1, 99, 'x' FROM x",
    ],
)
def test_aggregate_refuses_a_write_behind_a_with_clause(store: SQLiteJobStore, job: int, sql: str) -> None:
    with pytest.raises(ValueError, match=r"aggregate\(\) runs SELECT queries only"):
        store.aggregate(sql)
    found = store.get_job("job")
    assert found is not None and found.status == "created"
    assert 99 not in store.models(job)
    assert list(store.aggregate("-- a comment first\nSELECT 7")) == [(7,)], "what a query does decides, not its text"


def test_a_failed_commit_leaves_the_connection_ready_for_the_next_transaction(
    store: SQLiteJobStore, job: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store._db

    class FailingCommit:
        """The store's connection, but a COMMIT fails as on a disk that went away."""

        @property
        def in_transaction(self) -> bool:
            return real.in_transaction

        def execute(self, sql: str, *args: object) -> object:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("disk I/O error")
            return real.execute(sql, *args)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(store, "_db", FailingCommit())
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        store.update_job(job, {"status": "in_progress"})
    monkeypatch.setattr(store, "_db", real)
    assert not real.in_transaction, "the failed commit's transaction was rolled back"
    store.update_job(job, {"status": "cancelling"})
    found = store.get_job("job")
    assert found is not None and found.status == "cancelling"


def test_aggregate_passes_on_sqlites_own_errors_and_leaves_writes_allowed(store: SQLiteJobStore, job: int) -> None:
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        store.aggregate("SELEC 1")
    with pytest.raises(ValueError, match="SELECT queries only"):
        store.aggregate("DELETE FROM jobs")
    assert list(store.aggregate("SELECT 1")) == [(1,)]
    store.update_job(job, {"status": "in_progress"})  # the read-only rule ended with the query it checked
    found = store.get_job("job")
    assert found is not None and found.status == "in_progress"
