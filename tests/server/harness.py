"""A storage and a batch runner driven step by step under a clock the test holds: no runner thread, no sleeps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openai_batches_server.config import ServerConfig
from openai_batches_server.records import BatchRecord, FileRecord
from openai_batches_server.runner import BatchRunner
from openai_batches_server.storage import Storage

from .support import CHAT, chat_line, jsonl

START = 1_700_000_000.0
BATCH_ID = "batch_paced"
OWNER = "owner"


class ManualClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Harness:
    """A storage and a runner that moves only when `step()` is called, at the time `clock.now` says.

    `config` goes to ServerConfig (step_seconds, line_seconds, enqueued_token_limit, ...). The runner times its sweep
    by `monotonic`, a second manual clock.
    """

    def __init__(self, data_dir: Path, **config: Any) -> None:
        self.clock = ManualClock()
        self.monotonic = ManualClock()
        self.storage = Storage(data_dir)
        self.config = ServerConfig(data_dir=data_dir, clock=self.clock, **config)
        self.runner = BatchRunner(self.storage, self.config, monotonic=self.monotonic)

    def close(self) -> None:
        self.storage.close()

    def batch(
        self,
        lines: int | Sequence[dict[str, Any]],
        *,
        batch_id: str = BATCH_ID,
        endpoint: str = CHAT,
        owner: str = OWNER,
    ) -> str:
        """A batch in `validating` created now, over `lines` request lines (a count of chat lines, or the lines)."""
        content = jsonl(chat_line(f"r{i}") for i in range(lines)) if isinstance(lines, int) else jsonl(lines)
        file_id = f"file-{batch_id}"
        path = self.storage.files_dir / file_id
        path.write_bytes(content)
        created = int(self.clock.now)
        self.storage.add_file(
            FileRecord(file_id, owner, len(content), created, None, "in.jsonl", "batch", f"files/{file_id}")
        )
        record = BatchRecord(
            id=batch_id,
            owner=owner,
            endpoint=endpoint,
            input_file_id=file_id,
            completion_window="24h",
            status="validating",
            created_at=created,
            expires_at=created + 86_400,
            phase_mark=self.clock.now,
            progress_mark=self.clock.now,
        )
        self.storage.add_batch(record)
        return record.id

    def record(self, batch_id: str = BATCH_ID) -> BatchRecord:
        record = self.storage.batch_by_id(batch_id)
        assert record is not None
        return record

    def step(self, batch_id: str = BATCH_ID) -> BatchRecord:
        self.runner.step()
        return self.record(batch_id)

    def run_until_idle(self, batch_id: str = BATCH_ID) -> BatchRecord:
        """Step until a step changes nothing, with the clock standing still."""
        record = self.step(batch_id)
        for _ in range(10_000):
            again = self.step(batch_id)
            if again == record:
                return again
            record = again
        raise AssertionError("the runner never settled")

    def published(self, file_id: str | None) -> bytes:
        """The bytes of a result file, as the content endpoint serves them (the record's size of its blob)."""
        assert file_id is not None
        record = self.storage.file_by_id(file_id)
        assert record is not None
        content = self.storage.blob(record.path).read_bytes()
        assert len(content) == record.bytes, "a published file's record and its bytes disagree"
        return content
