"""How fast a batch moves: the runner driven step by step under a clock the test holds, no runner thread, no sleeps.

By default each status step lasts `DEFAULT_STEP_SECONDS` and request lines cost no time at all, so a batch's duration
does not depend on its size; `tick` (the command line's `--tick` / `--speed`) paces every line as well.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches_server import run_server
from openai_batches_server.config import DEFAULT_STEP_SECONDS
from openai_batches_server.runner import CHUNK_LINES

from .harness import START, Harness
from .support import KEY, api_client, chat_line, create_batch, jsonl, upload, wait_for


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(tmp_path / "data")
    yield made
    made.storage.close()


def test_by_default_each_status_step_lasts_one_step_whatever_the_size(harness: Harness) -> None:
    harness.batch(5 * CHUNK_LINES + 3)
    assert harness.run_until_idle().status == "validating"
    harness.clock.now += DEFAULT_STEP_SECONDS - 0.001
    assert harness.run_until_idle().status == "validating"
    harness.clock.now += 0.001
    # Every line is answered with the clock standing still: lines cost no time by default.
    record = harness.run_until_idle()
    assert (record.status, record.total, record.completed) == ("in_progress", 1003, 1003)
    # in_progress still lasts one step, so a poller can see it.
    harness.clock.now += DEFAULT_STEP_SECONDS - 0.001
    assert harness.run_until_idle().status == "in_progress"
    harness.clock.now += 0.001
    assert harness.run_until_idle().status == "finalizing"
    harness.clock.now += DEFAULT_STEP_SECONDS
    record = harness.run_until_idle()
    assert record.status == "completed" and record.completed_at == int(START + 3 * DEFAULT_STEP_SECONDS)


def test_one_step_answers_at_most_a_chunk_of_lines(harness: Harness) -> None:
    harness.batch(CHUNK_LINES + 1)
    harness.clock.now += DEFAULT_STEP_SECONDS
    harness.step()  # validating -> in_progress
    assert harness.step().completed == CHUNK_LINES
    assert harness.step().completed == CHUNK_LINES + 1


def test_a_tick_paces_every_line_and_every_step(tmp_path: Path) -> None:
    paced = Harness(tmp_path / "data", step_seconds=0.5, line_seconds=0.5)
    try:
        paced.batch(10)
        paced.clock.now += 0.5
        assert paced.run_until_idle().status == "in_progress"
        assert paced.run_until_idle().completed == 0
        paced.clock.now += 0.5 * 3
        assert paced.run_until_idle().completed == 3
        paced.clock.now += 0.25  # half a line's time: nothing more is due
        assert paced.run_until_idle().completed == 3
        paced.clock.now += 0.25 + 0.5 * 5
        record = paced.run_until_idle()
        assert (record.status, record.completed) == ("in_progress", 9)
        paced.clock.now += 0.5
        record = paced.run_until_idle()
        assert (record.status, record.completed) == ("finalizing", 10)
    finally:
        paced.storage.close()


@pytest.mark.timeout(120)
def test_the_default_pace_finishes_twenty_thousand_lines_well_within_a_minute(tmp_path: Path) -> None:
    # A generous bound on a loaded machine, not a timing benchmark: 50,000 lines take about two seconds on 2 cores.
    with run_server(tmp_path / "data", api_keys=[KEY]) as server, api_client(server) as client:
        file_id = upload(client, jsonl(chat_line(f"r{i}", f"question {i}") for i in range(20_000)))["id"]
        started = time.monotonic()
        batch = create_batch(client, file_id)
        done = wait_for(client, batch["id"], timeout=60)
        elapsed = time.monotonic() - started
    assert done["status"] == "completed", done
    assert done["request_counts"] == {"total": 20_000, "completed": 20_000, "failed": 0}
    assert elapsed < 60


def test_a_watched_batch_moves_its_counts_between_polls(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0.02) as server, api_client(server) as client:
        batch = create_batch(client, upload(client, jsonl(chat_line(f"r{i}") for i in range(20)))["id"])
        seen = set()

        def record(current: dict[str, object]) -> bool:
            counts = current["request_counts"]
            assert isinstance(counts, dict)
            seen.add(counts["completed"])
            return current["status"] == "completed"

        wait_for(client, batch["id"], record)
    # Paced per line, the counts go up a few at a time rather than all at once.
    assert len(seen - {0, 20}) >= 3, seen


def test_the_start_up_line_says_what_the_pace_is(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="openai_batches_server")
    with run_server(tmp_path / "data", api_keys=[KEY]):
        pass
    assert f"pace: {DEFAULT_STEP_SECONDS:g} s per status step, request lines as fast as the machine allows" in (
        caplog.text
    )
