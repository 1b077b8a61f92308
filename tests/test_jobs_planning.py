"""Planning at its boundaries: a shard is cut exactly where the next request would pass a limit, not one before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import line, new_job
from openai_batches.jobs.planning import ShardLimits, plan_shards


def embedding(custom_id: str, inputs: int) -> dict[str, Any]:
    body = {"model": "text-embedding-3-small", "input": [f"text {i}" for i in range(inputs)]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": body}


def sizes(tmp_path: Path, requests: int) -> tuple[int, int]:
    """(bytes, tokens) of one request of `requests` alike ones: each line is as long, each estimate the same."""
    store, job = new_job(tmp_path / "probe", [line(f"r{i}") for i in range(requests)], max_batch_requests=1)
    shards = plan_shards(store, job)
    store.close()
    assert len({(s.bytes, s.tokens) for s in shards}) == 1
    return shards[0].bytes, shards[0].tokens


@pytest.mark.parametrize(("slack", "per_shard"), [(0, [2, 2, 2, 1]), (-1, [1] * 7)])
def test_a_shard_fills_its_byte_limit_exactly(tmp_path: Path, slack: int, per_shard: list[int]) -> None:
    size, _ = sizes(tmp_path, 7)
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(7)])
    # Each line counts its newline: two lines take exactly 2 * size bytes.
    shards = plan_shards(store, job, ShardLimits(max_bytes=2 * size + slack))
    assert [s.requests for s in shards] == per_shard
    assert [s.bytes for s in shards] == [n * size for n in per_shard]


@pytest.mark.parametrize(("slack", "per_shard"), [(0, [3, 3, 1]), (-1, [2, 2, 2, 1]), (1, [3, 3, 1])])
def test_a_shard_fills_its_token_limit_exactly(tmp_path: Path, slack: int, per_shard: list[int]) -> None:
    _, tokens = sizes(tmp_path, 7)
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(7)])
    shards = plan_shards(store, job, ShardLimits(max_tokens=3 * tokens + slack))
    assert [s.requests for s in shards] == per_shard
    assert [s.tokens for s in shards] == [n * tokens for n in per_shard]


@pytest.mark.parametrize(("limit", "per_shard"), [(4, [2, 2, 1]), (5, [2, 2, 1]), (3, [1] * 5), (6, [3, 2])])
def test_a_shard_of_embeddings_holds_at_most_the_embedding_input_limit(
    tmp_path: Path, limit: int, per_shard: list[int]
) -> None:
    store, job = new_job(tmp_path, [embedding(f"e{i}", 2) for i in range(5)])
    shards = plan_shards(store, job, ShardLimits(max_embedding_inputs=limit))
    assert [s.requests for s in shards] == per_shard


def test_a_request_larger_than_a_limit_still_gets_a_shard_of_its_own(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(3)])
    shards = plan_shards(store, job, ShardLimits(max_bytes=10, max_tokens=1, max_embedding_inputs=1))
    assert [s.requests for s in shards] == [1, 1, 1]


def test_the_limits_of_a_job_are_its_batch_size_and_token_limit_under_the_services(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("r0")])
    assert ShardLimits.of(job) == ShardLimits(max_requests=50_000, max_tokens=None)
    store.update_job(job.id, {"max_batch_requests": 7, "enqueued_token_limit": 900})
    job = store.get_job(job.name) or job
    assert ShardLimits.of(job) == ShardLimits(max_requests=7, max_tokens=900)
    assert ShardLimits.of(job).max_bytes == 200 * 1024 * 1024 and ShardLimits.of(job).max_embedding_inputs == 50_000


def test_planning_again_plans_nothing_and_each_shard_counts_from_one(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(5)], max_batch_requests=2)
    shards = plan_shards(store, job)
    assert [(s.id, s.attempt) for s in shards] == [(1, 1), (2, 1), (3, 1)]
    assert plan_shards(store, job) == []
