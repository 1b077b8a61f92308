"""Merging a finished batch into its job, driven directly: result files written by hand, verdicts read from the store.

Each test plans one shard, gives it the batch's final state (status, errors, whether the job cancelled it), writes
the result lines the service would have returned, merges, and checks what every request became: final with an
outcome and error, or back to waiting for another attempt.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from jobs_support import ended_shard, line, new_job
from openai_batches.jobs.merge import merge_shard, retryable_status, verdict
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import FINAL, PENDING, ResultRow
from openai_batches.jobs.store import SQLiteJobStore


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_timeouts_conflicts_rate_limits_and_server_errors_are_retryable(status: int) -> None:
    assert retryable_status(status)
    assert verdict({"response": {"status_code": status}}) == (False, True)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 407, 410, 413, 422, 428, 430, 499])
def test_other_client_errors_are_final_at_once(status: int) -> None:
    assert not retryable_status(status)
    assert verdict({"response": {"status_code": status}}) == (False, False)


@pytest.mark.parametrize(("status", "ok"), [(199, False), (200, True), (204, True), (299, True), (300, False)])
def test_only_2xx_succeeds(status: int, ok: bool) -> None:
    assert verdict({"response": {"status_code": status, "body": {}}}) == (ok, False)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"error": {"code": "batch_expired", "message": "expired"}, "response": None}, (False, True)),
        ({"error": {"code": "invalid_request", "message": "no"}, "response": None}, (False, False)),
        ({"error": {"message": "no code"}, "response": {"status_code": 200}}, (False, False)),
        # An empty or malformed `error` is no error: the response decides.
        ({"error": {}, "response": {"status_code": 200}}, (True, False)),
        ({"error": None, "response": {"status_code": 503}}, (False, True)),
        ({"error": "not an object", "response": {"status_code": 200}}, (True, False)),
        # A status that is not a number, or no response at all: a failure, and not one worth retrying.
        ({"response": {"status_code": "200"}}, (False, False)),
        ({"response": {"status_code": True}}, (False, False)),
        ({"response": "200"}, (False, False)),
        ({}, (False, False)),
    ],
)
def test_the_verdict_on_one_result_line(record: dict[str, Any], expected: tuple[bool, bool]) -> None:
    assert verdict(record) == expected


# --- merging a shard ---------------------------------------------------------------------------------------------


def one_shard(tmp_path: Path, requests: int, **settings: Any) -> tuple[SQLiteJobStore, Any, Any]:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(requests)], **settings)
    (shard,) = plan_shards(store, job)
    return store, job, shard


def answered(custom_id: str, status: int) -> dict[str, Any]:
    body: dict[str, Any] = {"echo": custom_id} if status < 400 else {"error": {"message": f"status {status}"}}
    return {"id": f"req_{custom_id}", "custom_id": custom_id, "response": {"status_code": status, "body": body}}


def result_file(store: SQLiteJobStore, job: Any, tmp_path: Path, lines: list[Any]) -> list[tuple[int, Path]]:
    path = tmp_path / f"results{len(store.result_files(job.id))}.jsonl"
    path.write_text("".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines))
    return [(store.add_result_file(job.id, "batch_1", "output", str(path)), path)]


def rows(store: SQLiteJobStore, job: Any) -> dict[str, ResultRow]:
    return {row.custom_id: row for row in store.results(job.id)}


def end(store: SQLiteJobStore, job: Any, shard: Any, status: str, **changes: Any) -> Any:
    return ended_shard(store, shard, status, **changes)


def test_answers_merge_by_verdict_and_retries_wait_while_attempts_remain(tmp_path: Path) -> None:
    store, job, shard = one_shard(tmp_path, 5, max_attempts=2)
    shard = end(store, job, shard, "completed")
    lines = [answered("r0", 200), answered("r1", 409), answered("r2", 404), answered("r3", 500), answered("r0", 500)]
    counts = merge_shard(store, job, shard, result_file(store, job, tmp_path, lines), cancelling=False)
    assert counts == {"succeeded": 1, "failed": 1}, "retried lines and unanswered ones are not final yet"
    got = rows(store, job)
    assert (got["r0"].state, got["r0"].outcome) == (FINAL, "succeeded"), "the first answer to a custom_id counts"
    assert (got["r2"].state, got["r2"].outcome) == (FINAL, "failed")
    for custom_id in ("r1", "r3", "r4"):
        assert got[custom_id].state == PENDING and got[custom_id].attempts == 1
    assert got["r1"].result_offset is not None, "a retried request keeps its answer in case no later one comes"
    assert store.active_shards(job.id)[0].state == "merged"


def test_on_the_last_attempt_a_retryable_answer_is_final(tmp_path: Path) -> None:
    store, job, shard = one_shard(tmp_path, 2, max_attempts=1)
    shard = end(store, job, shard, "expired")
    lines = [{"custom_id": "r0", "response": None, "error": {"code": "batch_expired", "message": "expired"}}]
    counts = merge_shard(store, job, shard, result_file(store, job, tmp_path, lines), cancelling=False)
    assert counts == {"failed": 1, "missing": 1}
    got = rows(store, job)
    assert got["r0"].outcome == "failed" and got["r0"].error_code is None, "its own line says why"
    assert (got["r1"].outcome, got["r1"].error_code) == ("missing", "no_result")
    assert got["r1"].error_message == "batch batch_1 ended expired without a result for this request"


def test_a_batch_that_failed_validation_gives_each_line_its_own_error_else_the_first(tmp_path: Path) -> None:
    store, job, shard = one_shard(tmp_path, 3, max_attempts=3)
    errors = [{"code": "invalid_url", "message": "bad url", "line": 2}, {"code": "bad_model", "line": 3}]
    shard = end(store, job, shard, "failed", errors=json.dumps(errors))
    assert merge_shard(store, job, shard, [], cancelling=False) == {"failed": 3}, "not retried, whatever attempts"
    got = rows(store, job)
    assert [(got[f"r{i}"].error_code) for i in range(3)] == ["invalid_url", "invalid_url", "bad_model"]
    assert got["r1"].error_message == "batch batch_1 failed validation: bad url"
    assert got["r2"].error_message == "batch batch_1 failed validation: no reason given"


def test_a_batch_that_failed_without_errors_fails_its_lines_as_batch_failed(tmp_path: Path) -> None:
    store, job, shard = one_shard(tmp_path, 2)
    shard = end(store, job, shard, "failed")
    merge_shard(store, job, shard, [], cancelling=False)
    assert {row.error_code for row in rows(store, job).values()} == {"batch_failed"}


def test_a_batch_the_job_cancelled_ends_its_unanswered_requests_cancelled(tmp_path: Path) -> None:
    store, job, shard = one_shard(tmp_path, 3, max_attempts=3)
    shard = end(store, job, shard, "cancelled", cancel_requested=True)
    lines = [answered("r0", 200)]
    counts = merge_shard(store, job, shard, result_file(store, job, tmp_path, lines), cancelling=True)
    assert counts == {"succeeded": 1, "cancelled": 2}
    assert rows(store, job)["r2"].error_code == "cancelled"


@pytest.mark.parametrize(("status", "cancel_requested"), [("cancelled", False), ("completed", True), ("expired", True)])
def test_unanswered_requests_are_retried_unless_the_job_cancelled_the_batch(
    tmp_path: Path, status: str, cancel_requested: bool
) -> None:
    # Someone else cancelled the batch, or the job's cancel came too late to stop it: nothing was cancelled by the job.
    store, job, shard = one_shard(tmp_path, 2, max_attempts=2)
    shard = end(store, job, shard, status, cancel_requested=cancel_requested)
    counts = merge_shard(store, job, shard, result_file(store, job, tmp_path, [answered("r0", 200)]), cancelling=False)
    assert counts == {"succeeded": 1}
    assert rows(store, job)["r1"].state == PENDING


def test_lines_that_are_not_json_objects_are_skipped_with_a_warning_naming_the_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, job, shard = one_shard(tmp_path, 3, max_attempts=1)
    shard = end(store, job, shard, "completed")
    lines = [answered("r0", 200), "{not json", "", "[1, 2]", answered("r2", 200)]
    with caplog.at_level(logging.WARNING, logger="openai_batches"):
        counts = merge_shard(store, job, shard, result_file(store, job, tmp_path, lines), cancelling=False)
    assert counts == {"succeeded": 2, "missing": 1}
    assert [r.getMessage() for r in caplog.records] == [
        "results0.jsonl line 2 is not JSON; its request is treated as unanswered"
    ]
    got = rows(store, job)
    path = Path(store.result_files(job.id)[got["r2"].result_file or 0])
    assert (
        path.read_bytes()[got["r2"].result_offset or 0 :][: got["r2"].result_length or 0]
        == json.dumps(answered("r2", 200)).encode()
    )
