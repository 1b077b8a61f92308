"""The crash test's named points sit where their names say, checked in-process and in milliseconds.

tests/test_jobs_crash.py kills a real job process at each point; here each point only records what a kill at that
instant would leave behind: what a second, read-only connection to the store sees committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jobs_support import FakeService, core_for, drive, line, new_job
from openai_batches.jobs import local_work, merge, planning
from openai_batches.jobs.merge import merge_shard
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import FINAL, QUEUED
from openai_batches.jobs.settings import STATE_DB

Seen = list[tuple[str, object]]


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[Callable[[str], list[tuple[object, ...]]]]:
    """A query against what is committed in the store, as another process (or the next run) would read it."""
    connections: list[sqlite3.Connection] = []

    def query(sql: str) -> list[tuple[object, ...]]:
        if not connections:
            connections.append(sqlite3.connect(f"file:{tmp_path / 'state' / STATE_DB}?mode=ro", uri=True))
        return connections[0].execute(sql).fetchall()

    yield query
    for connection in connections:
        connection.close()


def observe(monkeypatch: pytest.MonkeyPatch, look: Callable[[str], object]) -> Seen:
    seen: Seen = []
    for module in (planning, merge, local_work):
        monkeypatch.setattr(module, "crash_point", lambda name: seen.append((name, look(name))))
    return seen


def test_each_planned_shard_is_committed_before_the_plan_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: Callable[[str], list[tuple[object, ...]]]
) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(5)], max_batch_requests=2)
    seen = observe(monkeypatch, lambda name: committed("SELECT COUNT(*) FROM shards")[0][0])
    plan_shards(store, job)
    assert seen == [("plan", 1), ("plan", 2), ("plan", 3)]


def test_the_merge_point_falls_inside_the_shards_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: Callable[[str], list[tuple[object, ...]]]
) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(3)], max_attempts=1)
    (shard,) = plan_shards(store, job)
    # Straight to ended (the table of transitions would refuse it): the test starts where a batch just expired.
    store._write("UPDATE shards SET state = 'ended', batch_id = 'batch_1', batch_status = 'expired'")
    shard = store.active_shards(job.id)[0]

    def merged_so_far(name: str) -> object:
        requests = committed("SELECT state, COUNT(*) FROM requests GROUP BY state")
        shards = committed("SELECT state FROM shards")
        counts = committed("SELECT missing FROM jobs")
        in_the_run = sorted({row.state for row in store.results(job.id)})
        return requests, shards, counts, in_the_run

    seen = observe(monkeypatch, merged_so_far)
    merge_shard(store, job, shard, [], cancelling=False)
    # A kill here leaves nothing of the merge: every request still in the shard, the shard still to merge.
    # In the run's own open transaction, the verdicts are written.
    assert seen == [("merge", ([(QUEUED, 3)], [("ended",)], [(0,)], [FINAL]))]
    assert committed("SELECT state, COUNT(*) FROM requests GROUP BY state") == [(FINAL, 3)]
    assert committed("SELECT state FROM shards") == [("merged",)]


def test_the_merged_point_comes_after_the_merge_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: Callable[[str], list[tuple[object, ...]]]
) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(2)])
    seen = observe(
        monkeypatch, lambda name: committed("SELECT state FROM shards") + committed("SELECT succeeded FROM jobs")
    )
    drive(core_for(store, tmp_path), FakeService(tmp_path / "service"))
    # A kill here leaves the shard merged, its upload not yet deleted: the next run deletes it and goes on.
    assert [observed for name, observed in seen if name == "merged"] == [[("merged",), (2,)]]
