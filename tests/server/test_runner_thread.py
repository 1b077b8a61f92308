"""The runner's thread: it runs on its own, wake() makes it look now, stop() stops it, a failing pass does not.

The idle wait is made an hour long, so anything the runner does after its first pass happens because a test woke it;
passes are counted and waited for through a condition, never by sleeping. `run_once()`, one pass of the thread, is
called directly where the thread is not the point (the sweep's timing, the wait it asks for).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches_server import runner as runner_module
from openai_batches_server.records import FileRecord
from openai_batches_server.runner import BatchRunner

from .harness import OWNER, START, Harness

HOUR = 3600.0
# Generous: only reached when something is broken.
DEADLINE = 10.0


class CountingRunner(BatchRunner):
    """A runner that counts its passes, so a test can wait for the next one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes = 0
        self.passed = threading.Condition()

    def run_once(self) -> float:
        wait = super().run_once()
        with self.passed:
            self.passes += 1
            self.passed.notify_all()
        return wait

    def wait_until(self, condition: Callable[[], bool]) -> None:
        with self.passed:
            assert self.passed.wait_for(condition, timeout=DEADLINE), "the runner never got there"


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setattr(runner_module, "IDLE_WAIT", HOUR)
    made = Harness(tmp_path / "data", step_seconds=0.0, line_seconds=0.0)
    yield made
    made.close()


@pytest.fixture
def runner(harness: Harness) -> Iterator[CountingRunner]:
    made = CountingRunner(harness.storage, harness.config, monotonic=harness.monotonic)
    yield made
    made.stop()


def test_a_started_runner_runs_a_batch_to_the_end_and_stop_ends_the_thread(
    harness: Harness, runner: CountingRunner
) -> None:
    harness.batch(3)
    runner.start()
    runner.wait_until(lambda: harness.record().status == "completed")
    assert harness.record().completed == 3
    # Idle now, waiting an hour for a wake: stop() ends the wait and the thread at once.
    runner.stop()
    assert not runner._thread.is_alive()


def test_stop_lets_the_current_step_finish_first(harness: Harness, runner: CountingRunner) -> None:
    under_way, finished = threading.Event(), threading.Event()
    unfinished_batches = harness.storage.unfinished_batches

    def slow_step() -> list[Any]:
        under_way.set()
        runner._stop.wait(DEADLINE)  # the step goes on until stop() has been called
        finished.set()
        return unfinished_batches()

    harness.storage.unfinished_batches = slow_step  # type: ignore[method-assign]
    runner.start()
    assert under_way.wait(DEADLINE)
    runner.stop()
    assert finished.is_set()
    assert not runner._thread.is_alive()


def test_stop_before_start_does_nothing(harness: Harness) -> None:
    BatchRunner(harness.storage, harness.config).stop()


def test_wake_makes_an_idle_runner_look_now(harness: Harness, runner: CountingRunner) -> None:
    runner.start()
    runner.wait_until(lambda: runner.passes == 1)
    # The runner is waiting out its hour; the batch arrives, and wake() says so.
    harness.batch(2)
    runner.wake()
    runner.wait_until(lambda: harness.record().status == "completed")


def test_one_wake_buys_one_pass(harness: Harness, runner: CountingRunner) -> None:
    runner.start()
    runner.wait_until(lambda: runner.passes == 1)
    runner.wake()
    runner.wait_until(lambda: runner.passes == 2)
    runner.stop()
    # The wake was spent by the second pass; the runner went back to its hour's wait until stop().
    assert runner.passes == 2


def test_a_failing_pass_does_not_stop_the_runner(
    harness: Harness, runner: CountingRunner, caplog: pytest.LogCaptureFixture
) -> None:
    unfinished_batches = harness.storage.unfinished_batches
    calls = []

    def broken_once() -> list[Any]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return unfinished_batches()

    harness.storage.unfinished_batches = broken_once  # type: ignore[method-assign]
    runner.start()
    runner.wait_until(lambda: runner.passes == 1)
    assert "batch runner pass failed" in caplog.text
    harness.batch(1)
    runner.wake()
    runner.wait_until(lambda: harness.record().status == "completed")


def test_a_runner_never_stopped_does_not_keep_its_program_alive(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from openai_batches_server.config import ServerConfig
        from openai_batches_server.runner import BatchRunner
        from openai_batches_server.storage import Storage

        data = Path(sys.argv[1])
        BatchRunner(Storage(data), ServerConfig(data_dir=data)).start()
        """
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


# --- one pass ------------------------------------------------------------------------------------------------------


def test_a_pass_asks_for_no_wait_while_a_batch_can_go_on(harness: Harness) -> None:
    harness.batch(1)
    assert harness.runner.run_once() == 0.0


@pytest.mark.parametrize(
    ("step_seconds", "line_seconds", "wait"),
    [
        (0.5, 0.0, 0.05),  # half the pace, but at most 50 ms
        (0.5, 0.02, 0.01),  # half the shorter pace
        (0.02, 0.0, 0.01),
        (0.004, 0.0, 0.005),  # at least 5 ms
    ],
)
def test_a_pass_waits_half_the_pace_while_a_batch_waits_for_its_time(
    tmp_path: Path, step_seconds: float, line_seconds: float, wait: float
) -> None:
    harness = Harness(tmp_path / "data", step_seconds=step_seconds, line_seconds=line_seconds)
    try:
        harness.batch(1)  # validating, for one more step
        assert harness.runner.run_once() == pytest.approx(wait)
    finally:
        harness.close()


def test_with_nothing_in_flight_a_pass_waits_the_idle_wait(harness: Harness) -> None:
    assert harness.runner.run_once() == HOUR


def deleted_file(harness: Harness, name: str) -> Path:
    blob = harness.storage.files_dir / name
    blob.write_bytes(b"bytes")
    harness.storage.add_file(FileRecord(name, OWNER, 5, int(START), None, name, "user_data", f"files/{name}"))
    assert harness.storage.delete_file(OWNER, name, START)
    return blob


def test_the_first_pass_sweeps_and_then_once_a_second(harness: Harness) -> None:
    harness.monotonic.now = 100.0
    first = deleted_file(harness, "file-first")
    harness.runner.run_once()
    assert not first.exists()
    second = deleted_file(harness, "file-second")
    harness.runner.run_once()
    harness.monotonic.now += 0.5
    harness.runner.run_once()
    assert second.exists()
    harness.monotonic.now += 0.5
    harness.runner.run_once()
    assert not second.exists()


def test_a_sweep_finishes_what_a_stop_between_unlink_and_record_left(harness: Harness) -> None:
    blob = deleted_file(harness, "file-gone")
    blob.unlink()  # the bytes went, the process stopped before recording it
    harness.runner.sweep()
    assert harness.storage.files_to_sweep(START) == []
    record = harness.storage.file_by_id("file-gone")
    assert record is not None and record.blob_removed
