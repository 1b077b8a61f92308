"""The batch runner one step at a time under a clock the test holds: expiry, what a step reports, token limits, faults.

No runner thread and no sleeps: each test moves `harness.clock` and calls `step()` itself.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches_server import runner as runner_module
from openai_batches_server.errors import SERVER_ERROR_MESSAGE
from openai_batches_server.records import UNFINISHED, BatchRecord
from openai_batches_server.runner import CHUNK_LINES, EXPIRED_ERROR

from .harness import BATCH_ID, OWNER, Harness
from .support import chat_line

# Four words: the input tokens the local server counts for one such chat line.
FOUR_WORDS = "one two three four"


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=0.0)
    yield made
    made.close()


def custom_ids(content: bytes) -> list[str]:
    return [json.loads(line)["custom_id"] for line in content.splitlines()]


def run_to_end(harness: Harness) -> BatchRecord:
    """Step through the batch's status steps (one second each) until it ends."""
    for _ in range(10):
        record = harness.run_until_idle()
        if record.status not in UNFINISHED:
            return record
        harness.clock.now += 1.0
    raise AssertionError(f"the batch never ended: {record}")


# --- expiry -------------------------------------------------------------------------------------------------------


def test_a_validating_batch_expires_exactly_at_expires_at(tmp_path: Path) -> None:
    # A status step longer than the window: the batch is still validating when the window ends.
    harness = Harness(tmp_path / "data", step_seconds=100_000.0)
    try:
        harness.batch(3)
        expires_at = harness.record().expires_at
        harness.clock.now = expires_at - 0.001
        assert harness.step().status == "validating"
        harness.clock.now = expires_at
        assert harness.runner.step() is True
        record = harness.record()
        assert (record.status, record.expired_at, record.total) == ("expired", expires_at, 0)
        # Nothing ran, so there is nothing to publish, not even an error file of expired lines.
        assert record.output_file_id is None and record.error_file_id is None
    finally:
        harness.close()


def test_an_in_progress_batch_expires_with_its_answered_lines_and_the_rest_as_expired(tmp_path: Path) -> None:
    # One line per 50,000 s: one line is answered before the 86,400 s window ends.
    harness = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=50_000.0)
    try:
        harness.batch([chat_line("a"), chat_line("fail-b"), chat_line("c"), chat_line("d")])
        harness.clock.now += 1.0
        assert harness.step().status == "in_progress"
        harness.clock.now += 50_000.0
        assert harness.step().completed == 1
        expires_at = harness.record().expires_at
        harness.clock.now = expires_at - 0.001
        assert harness.step().status == "in_progress"
        harness.clock.now = expires_at
        record = harness.step()
        assert (record.status, record.expired_at, record.completed, record.failed) == ("expired", expires_at, 1, 0)
        assert custom_ids(harness.published(record.output_file_id)) == ["a"]
        errors = [json.loads(line) for line in harness.published(record.error_file_id).splitlines()]
        assert [line["custom_id"] for line in errors] == ["fail-b", "c", "d"]
        assert all(line["error"] == EXPIRED_ERROR and line["response"] is None for line in errors)
    finally:
        harness.close()


# --- what a step reports: True when the runner should look again at once --------------------------------------------


def test_a_step_is_busy_when_a_status_changes_and_idle_while_each_batch_waits_for_its_time(harness: Harness) -> None:
    harness.batch(3)
    assert harness.runner.step() is False  # validating has not lasted its step
    harness.clock.now += 1.0
    assert harness.runner.step() is True  # -> in_progress
    assert harness.runner.step() is False  # every line answered; in_progress has not lasted its step
    assert harness.record().completed == 3
    harness.clock.now += 1.0
    assert harness.runner.step() is True  # -> finalizing
    assert harness.runner.step() is False
    harness.clock.now += 1.0
    assert harness.runner.step() is True  # -> completed
    assert harness.record().status == "completed"
    assert harness.runner.step() is False  # nothing unfinished


def test_a_paced_step_is_busy_only_after_a_whole_chunk(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=1.0)
    try:
        harness.batch(2 * CHUNK_LINES + 10)
        harness.clock.now += 1.0
        assert harness.runner.step() is True
        assert harness.runner.step() is False  # no line due yet
        harness.clock.now += 1.0
        assert harness.runner.step() is False  # exactly one line was due: answered, and the next is not due
        assert harness.record().completed == 1
        harness.clock.now += 3.0
        assert harness.runner.step() is False
        assert harness.record().completed == 4
        harness.clock.now += 2 * CHUNK_LINES + 2
        assert harness.runner.step() is True  # a whole chunk, and more lines are due at once
        assert harness.record().completed == 4 + CHUNK_LINES
        assert harness.runner.step() is True
        assert harness.runner.step() is False  # the last 2 due lines; 4 more to come, one a second
        assert harness.record().completed == 2 * CHUNK_LINES + 6
    finally:
        harness.close()


def test_the_step_that_answers_the_last_line_also_finalizes_once_the_status_step_has_lasted(harness: Harness) -> None:
    harness.batch(3)
    harness.clock.now += 1.0
    assert harness.step().status == "in_progress"
    harness.clock.now += 1.0  # in_progress has lasted its step before any line ran
    record = harness.step()
    assert (record.status, record.completed) == ("finalizing", 3)


def test_failed_lines_count_against_the_pace_like_answered_ones(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "data", step_seconds=0.5, line_seconds=0.5)
    try:
        harness.batch([chat_line(f"fail-{i}" if i % 2 else f"ok-{i}") for i in range(10)])
        harness.clock.now += 0.5
        assert harness.step().status == "in_progress"
        harness.clock.now += 0.5 * 3
        record = harness.run_until_idle()
        assert (record.completed, record.failed) == (2, 1)
        harness.clock.now += 0.5 * 4
        record = harness.run_until_idle()
        assert (record.completed, record.failed) == (4, 3)
        harness.clock.now += 0.5 * 3
        record = harness.run_until_idle()
        assert (record.status, record.completed, record.failed) == ("finalizing", 5, 5)
    finally:
        harness.close()


# --- the enqueued-token limit ----------------------------------------------------------------------------------------


def lines(prefix: str, count: int, model: str = "gpt-4o-mini") -> list[dict[str, Any]]:
    return [chat_line(f"{prefix}-{i}", FOUR_WORDS, model=model) for i in range(count)]


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Harness]:
    # 40 tokens: ten lines of four words fill the limit exactly.
    made = Harness(tmp_path / "data", step_seconds=1.0, enqueued_token_limit=40)
    yield made
    made.close()


def test_a_batch_that_fills_the_limit_exactly_is_admitted_and_one_token_more_is_not(limited: Harness) -> None:
    limited.batch(lines("a", 10), batch_id="batch_a")
    limited.batch(lines("b", 1), batch_id="batch_b")
    limited.clock.now += 1.0
    limited.runner.step()
    assert limited.record("batch_a").status == "in_progress"
    refused = limited.record("batch_b")
    assert refused.status == "failed" and refused.failed_at == int(limited.clock.now)
    assert refused.errors is not None and [error["code"] for error in refused.errors] == ["token_limit_exceeded"]
    assert limited.storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 40


def test_the_limit_counts_per_owner_and_per_model_and_the_peak_adds_up(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "data", step_seconds=1.0, enqueued_token_limit=100)
    try:
        harness.batch(lines("a", 10), batch_id="batch_a")
        harness.batch(lines("b", 10), batch_id="batch_b")
        harness.batch(lines("m", 25, model="gpt-4o"), batch_id="batch_m")
        harness.batch(lines("x", 25), batch_id="batch_x", owner="someone-else")
        harness.clock.now += 1.0
        harness.runner.step()
        for batch_id in ("batch_a", "batch_b", "batch_m", "batch_x"):
            assert harness.record(batch_id).status == "in_progress", batch_id
        assert harness.storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 80
        assert harness.storage.enqueued_token_peak(OWNER, "gpt-4o") == 100
        assert harness.storage.enqueued_token_peak("someone-else", "gpt-4o-mini") == 100
    finally:
        harness.close()


def test_a_batch_cancelled_while_validating_holds_no_tokens(limited: Harness) -> None:
    limited.batch(lines("b", 10), batch_id="batch_b")
    limited.batch(lines("a", 10), batch_id="batch_a")
    stale = limited.record("batch_a")
    limited.clock.now += 1.0
    # The cancel lands between the runner's read and its move to in_progress.
    cancel = {"status": "cancelling", "phase_mark": limited.clock.now}
    assert limited.storage.update_batch("batch_a", cancel, only_if_status=("validating",))
    assert limited.runner._advance(stale) is False
    assert limited.storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 0
    # A cancelling batch's tokens count as enqueued; this one holds none, so another full batch still gets in.
    limited.runner.step()
    assert (limited.record("batch_b").status, limited.record("batch_a").status) == ("in_progress", "cancelling")


# --- faults -------------------------------------------------------------------------------------------------------


def test_an_input_file_gone_from_disk_fails_the_batch_as_not_found(harness: Harness) -> None:
    harness.batch(2)
    (harness.storage.files_dir / f"file-{BATCH_ID}").unlink()
    harness.clock.now += 1.0
    record = harness.step()
    assert record.status == "failed"
    assert record.errors == [
        {
            "code": "file_not_found",
            "message": "The input file is no longer available.",
            "param": "input_file_id",
            "line": None,
        }
    ]


def test_a_fault_mid_step_fails_the_batch_and_publishes_every_line_recorded(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.batch(3)
    harness.clock.now += 1.0
    assert harness.step().status == "in_progress"
    harness.clock.now += 1.0
    update_batch = harness.storage.update_batch

    def full_disk(batch_id: str, changes: dict[str, Any], **guard: Any) -> bool:
        if changes.get("status") == "finalizing":
            raise OSError(errno.EIO, "Input/output error")  # a full disk waits instead; see test_disk_full.py
        return update_batch(batch_id, changes, **guard)

    monkeypatch.setattr(harness.storage, "update_batch", full_disk)
    # One step answers and records all three lines, then fails to move on to finalizing.
    record = harness.step()
    assert (record.status, record.completed, record.failed_at) == ("failed", 3, int(harness.clock.now))
    assert record.errors is not None and [error["code"] for error in record.errors] == ["server_error"]
    assert custom_ids(harness.published(record.output_file_id)) == ["r0", "r1", "r2"]


def test_a_line_the_server_breaks_on_gets_a_500_and_the_other_lines_still_run(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    respond = runner_module.respond

    def buggy(endpoint: str, custom_id: str, body: Any, *, now: int) -> Any:
        if custom_id == "boom":
            raise RuntimeError("a bug in a responder")
        return respond(endpoint, custom_id, body, now=now)

    monkeypatch.setattr(runner_module, "respond", buggy)
    harness.batch([chat_line("a"), chat_line("boom"), chat_line("c")])
    record = run_to_end(harness)
    assert (record.status, record.completed, record.failed) == ("completed", 2, 1)
    assert custom_ids(harness.published(record.output_file_id)) == ["a", "c"]
    (error,) = [json.loads(line) for line in harness.published(record.error_file_id).splitlines()]
    assert error["custom_id"] == "boom" and error["error"] is None
    assert error["response"]["status_code"] == 500
    assert error["response"]["body"]["error"]["message"] == SERVER_ERROR_MESSAGE


def test_publishing_cuts_off_what_a_crash_left_beyond_the_recorded_lines(harness: Harness) -> None:
    harness.batch([chat_line("a"), chat_line("fail-b")])
    harness.clock.now += 1.0
    record = harness.run_until_idle()
    assert (record.status, record.completed, record.failed) == ("in_progress", 1, 1)
    # A process killed after writing a line but before recording it leaves that line behind, in either file.
    for name in ("output.jsonl", "errors.jsonl"):
        with (harness.storage.batch_dir(BATCH_ID) / name).open("ab") as partial:
            partial.write(b'{"custom_id": "leftover"}\n')
    record = run_to_end(harness)
    assert record.status == "completed"
    assert custom_ids(harness.published(record.output_file_id)) == ["a"]
    assert custom_ids(harness.published(record.error_file_id)) == ["fail-b"]


def test_the_batch_model_comes_from_the_answers_when_no_line_names_one(harness: Harness) -> None:
    moderation = [
        {"custom_id": f"m{i}", "method": "POST", "url": "/v1/moderations", "body": {"input": "hi"}} for i in range(2)
    ]
    harness.batch(moderation, endpoint="/v1/moderations")
    harness.clock.now += 1.0
    assert harness.step().model is None  # validated: no line names a model
    record = run_to_end(harness)
    assert (record.status, record.model) == ("completed", "omni-moderation-latest")
