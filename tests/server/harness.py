"""A storage and a batch runner driven step by step under a clock the test holds: no runner thread, no sleeps."""

from __future__ import annotations

from pathlib import Path

from openai_batches_server.config import ServerConfig
from openai_batches_server.records import BatchRecord, FileRecord
from openai_batches_server.runner import BatchRunner
from openai_batches_server.storage import Storage

from .support import chat_line, jsonl

START = 1_700_000_000.0


class ManualClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Harness:
    """A storage and a runner that moves only when `step()` is called, at the time `clock.now` says."""

    def __init__(self, data_dir: Path, **pace: float) -> None:
        self.clock = ManualClock()
        self.storage = Storage(data_dir)
        self.runner = BatchRunner(self.storage, ServerConfig(data_dir=data_dir, clock=self.clock, **pace))

    def close(self) -> None:
        self.storage.close()

    def batch(self, lines: int) -> str:
        path = self.storage.files_dir / "file-input"
        path.write_bytes(jsonl(chat_line(f"r{i}") for i in range(lines)))
        created = int(self.clock.now)
        self.storage.add_file(
            FileRecord(
                "file-input", "owner", path.stat().st_size, created, None, "in.jsonl", "batch", "files/file-input"
            )
        )
        record = BatchRecord(
            id="batch_paced",
            owner="owner",
            endpoint="/v1/chat/completions",
            input_file_id="file-input",
            completion_window="24h",
            status="validating",
            created_at=created,
            expires_at=created + 86_400,
            phase_mark=self.clock.now,
            progress_mark=self.clock.now,
        )
        self.storage.add_batch(record)
        return record.id

    def record(self) -> BatchRecord:
        record = self.storage.batch_by_id("batch_paced")
        assert record is not None
        return record

    def step(self) -> BatchRecord:
        self.runner.step()
        record = self.storage.batch_by_id("batch_paced")
        assert record is not None
        return record

    def run_until_idle(self) -> BatchRecord:
        """Step until a step changes nothing, with the clock standing still."""
        record = self.step()
        for _ in range(10_000):
            again = self.step()
            if again == record:
                return again
            record = again
        raise AssertionError("the runner never settled")
