"""The guards that let the runner and the HTTP handlers share a batch without a lock held across requests.

The runner decides from a record it read a moment ago; a cancel can land in between. Every status change the runner
makes is conditional on the status it read, so a cancel is never overwritten. These tests hand the runner a stale
record on purpose, which is exactly the race, made deterministic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches_server.records import BatchRecord
from openai_batches_server.runner import BatchRunner
from openai_batches_server.storage import Storage

from .harness import START, Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=0.0)
    yield made
    made.close()


def cancel(harness: Harness) -> None:
    """What the cancel endpoint does: validating or in_progress becomes cancelling."""
    changed = harness.storage.update_batch(
        "batch_paced",
        {"status": "cancelling", "cancelling_at": int(harness.clock.now), "phase_mark": harness.clock.now},
        only_if_status=("validating", "in_progress"),
    )
    assert changed


def in_progress_with_every_line_answered(harness: Harness) -> BatchRecord:
    harness.batch(3)
    harness.clock.now += 1.0
    record = harness.run_until_idle()
    assert (record.status, record.completed) == ("in_progress", 3)
    harness.clock.now += 1.0  # in_progress has lasted its step: the runner would move it to finalizing now
    return record


def test_update_batch_with_a_guard_changes_nothing_once_the_status_moved_on(harness: Harness) -> None:
    harness.batch(1)
    assert not harness.storage.update_batch("batch_paced", {"status": "failed"}, only_if_status=("in_progress",))
    assert harness.record().status == "validating"
    assert harness.storage.update_batch("batch_paced", {"status": "failed"}, only_if_status=("validating",))
    assert harness.record().status == "failed"
    # Without a guard the change always applies; an unknown field is refused rather than silently dropped.
    assert harness.storage.update_batch("batch_paced", {"status": "completed"})
    with pytest.raises(ValueError, match="unknown batch fields"):
        harness.storage.update_batch("batch_paced", {"colour": "blue"})


def test_a_cancel_landing_mid_step_is_not_overwritten_by_finalizing(harness: Harness) -> None:
    stale = in_progress_with_every_line_answered(harness)
    cancel(harness)
    harness.runner._advance(stale)
    assert harness.record().status == "cancelling"
    harness.clock.now += 1.0
    record = harness.run_until_idle()
    assert record.status == "cancelled" and record.finalizing_at is None and record.completed_at is None
    # The answered lines are published with the cancelled batch.
    assert record.output_file_id is not None and record.completed == 3


def test_a_cancelled_batch_is_never_touched_again(tmp_path: Path) -> None:
    paced = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=1.0)
    try:
        paced.batch(20)
        paced.clock.now += 1.0
        assert paced.run_until_idle().status == "in_progress"
        paced.clock.now += 5.0
        assert paced.run_until_idle().completed == 5
        cancel(paced)
        paced.clock.now += 1.0
        cancelled = paced.run_until_idle()
        assert (cancelled.status, cancelled.completed) == ("cancelled", 5)
        output = paced.storage.batch_dir("batch_paced") / "output.jsonl"
        written = output.read_bytes()
        for _ in range(5):  # hours later, the runner still answers no line of it and changes nothing
            paced.clock.now += 3600
            assert paced.run_until_idle() == cancelled
        assert output.read_bytes() == written
    finally:
        paced.close()


def test_a_cancel_landing_during_validation_is_not_overwritten_by_in_progress(harness: Harness) -> None:
    harness.batch(2)
    stale = harness.record()
    harness.clock.now += 1.0
    cancel(harness)
    harness.runner._advance(stale)
    record = harness.record()
    assert (record.status, record.in_progress_at, record.total) == ("cancelling", None, 0)


def test_a_cancel_landing_before_expiry_is_not_overwritten_by_expired(harness: Harness) -> None:
    stale = in_progress_with_every_line_answered(harness)
    cancel(harness)
    harness.clock.now = stale.expires_at + 1
    assert harness.runner._advance(stale) is False  # nothing changed: no reason to look again at once
    assert harness.record().status == "cancelling"


def test_a_failure_does_not_overwrite_a_final_status(harness: Harness) -> None:
    harness.batch(1)
    harness.storage.update_batch("batch_paced", {"status": "cancelled"})
    stale = dataclasses.replace(harness.record(), status="in_progress")
    assert not harness.runner._fail(stale, "server_error", "boom")
    assert harness.record().status == "cancelled" and harness.record().errors is None


def test_restart_pacing_moves_only_unfinished_batches_to_now(harness: Harness) -> None:
    harness.batch(1)
    harness.storage.restart_pacing(START + 500)
    record = harness.record()
    assert (record.phase_mark, record.progress_mark) == (START + 500, START + 500)
    harness.storage.update_batch("batch_paced", {"status": "completed"})
    harness.storage.restart_pacing(START + 900)
    record = harness.record()
    assert (record.phase_mark, record.progress_mark) == (START + 500, START + 500)


def test_a_restarted_runner_goes_on_at_its_pace_instead_of_catching_up(tmp_path: Path) -> None:
    first = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=1.0)
    first.batch(10)
    first.clock.now += 1.0
    assert first.run_until_idle().status == "in_progress"
    first.close()
    # Down for an hour: on start, the runner counts the pace from the restart, not from before the downtime.
    second = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=1.0)
    try:
        second.clock.now = START + 3600
        # A runner's start() counts the pace from now (its thread may take a pass, at this same time, before stop()).
        started = BatchRunner(second.storage, second.config)
        started.start()
        started.stop()
        assert second.run_until_idle().completed == 0
        second.clock.now += 2.0
        assert second.run_until_idle().completed == 2
    finally:
        second.close()


def test_uploads_cut_off_by_a_stop_are_cleared_at_start(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    storage.close()
    leftover_file = tmp_path / "data" / "tmp" / "upload-123.part"
    leftover_dir = tmp_path / "data" / "tmp" / "upload-456"
    leftover_file.write_bytes(b"half an upload")
    leftover_dir.mkdir()
    (leftover_dir / "chunk").write_bytes(b"x")
    kept = tmp_path / "data" / "files" / "file-kept"
    kept.write_bytes(b"a real file")
    again = Storage(tmp_path / "data")
    try:
        assert list((tmp_path / "data" / "tmp").iterdir()) == []
        assert kept.read_bytes() == b"a real file"
    finally:
        again.close()
