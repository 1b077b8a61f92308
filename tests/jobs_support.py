"""The jobs' core driven by hand: with the driver's local work over a real store in a temporary folder
(`StoreCore`), and a fake Batch and Files API in memory.

The fake service answers each action the way the Batch API would (ids, metadata, result files in the real line
format) and can be told to misbehave: answer lines with an error status, expire or fail a batch, refuse a batch for
the enqueued-token limit, or forget idempotency keys.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_batches import AsyncBatchClient, BatchClient
from openai_batches.jobs._async.openai_provider import AsyncOpenAIProvider
from openai_batches.jobs._sync.openai_provider import OpenAIProvider
from openai_batches.jobs.actions import (
    Action,
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    DeleteUpload,
    Download,
    Downloaded,
    Event,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Reconcile,
    Reconciled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from openai_batches.jobs.core import JobCore, Step
from openai_batches.jobs.creation import Account, JobSettings, create_job
from openai_batches.jobs.job import Job, snapshot
from openai_batches.jobs.lease import holder_gone
from openai_batches.jobs.local_work import LocalWork
from openai_batches.jobs.provider_rules import OPENAI_RULES
from openai_batches.jobs.records import JobRecord, Lease, ShardRecord, ShardState
from openai_batches.jobs.service import BatchView
from openai_batches.jobs.settings import job_folder
from openai_batches.jobs.store import SQLiteJobStore, open_store
from openai_batches.jobs.tokens import HeuristicEstimator

ACCOUNT = Account("https://api.example.test/v1", "0123456789abcdef")
CHAT = "/v1/chat/completions"


class _SyncProvider(OpenAIProvider):
    """The Batch API's provider with the account the test's jobs were made for (not the client key's own)."""

    def __init__(self, client: BatchClient, account: Account) -> None:
        super().__init__(client, OPENAI_RULES)
        self._account = account

    @property
    def account(self) -> Account:
        return self._account


class _AsyncProvider(AsyncOpenAIProvider):
    def __init__(self, client: AsyncBatchClient, account: Account) -> None:
        super().__init__(client, OPENAI_RULES)
        self._account = account

    @property
    def account(self) -> Account:
        return self._account


def provider(client: BatchClient, fingerprint: str = ACCOUNT.fingerprint) -> OpenAIProvider:
    """The provider a sync runner of the test's jobs uses: their account, the client's requests."""
    return _SyncProvider(client, Account(ACCOUNT.base_url, fingerprint))


def async_provider(client: AsyncBatchClient, fingerprint: str = ACCOUNT.fingerprint) -> AsyncOpenAIProvider:
    return _AsyncProvider(client, Account(ACCOUNT.base_url, fingerprint))


# Status of a line: (custom_id, attempt) -> HTTP status; None: the line gets no result at all.
Answer = Callable[[str, int], int | None]


def line(custom_id: str, text: str = "hello there", model: str = "gpt-4o-mini") -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def new_job(tmp_path: Path, lines: list[dict[str, Any]], **settings: Any) -> tuple[SQLiteJobStore, JobRecord]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "input.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))
    create_job(
        tmp_path / "state",
        "job",
        path,
        endpoint=None,
        completion_window="24h",
        settings=JobSettings(**settings),
        account=ACCOUNT,
        estimator=HeuristicEstimator(),
    )
    store = open_store(tmp_path / "state")
    record = store.get_job("job")
    assert record is not None
    return store, record


class StoreCore:
    """The core with the driver's local work around it, holding the job's lease (no renewing thread: tests move
    their own clock): `decide(now)` reads the job, carries out local steps until one has actions or waits, and
    `record(event, now)` writes what came of an action, as the driver does."""

    def __init__(self, store: SQLiteJobStore, record: JobRecord, folder: Path, **settings: float) -> None:
        self.store = store
        lease = store.acquire_lease(record.id, Lease("test-holder", 1, "test-host", 0.0, ttl=1e9), is_gone=holder_gone)
        self.work = LocalWork(store, record, lease)
        self.core = JobCore(record, folder, **settings)

    @property
    def job(self) -> JobRecord:
        return self.work.job

    @property
    def changed(self) -> bool:
        return self.core.changed

    @changed.setter
    def changed(self, value: bool) -> None:
        self.core.changed = value

    def decide(self, now: float) -> Step:
        while True:
            step = self.core.decide(self.work.view(), now)
            self.work.apply(step.effects)
            if not step.local:
                return step

    def record(self, event: Event, now: float) -> None:
        self.work.apply(self.core.record(event, now))


def ended_shard(store: SQLiteJobStore, shard: ShardRecord, batch_status: str, **changes: Any) -> ShardRecord:
    """The shard taken the way a run takes it, through the table of transitions, to a batch (`batch_1`) that ended
    with `batch_status`; `changes` are the ended shard's other fields (its result files, say)."""
    for state in (ShardState.UPLOADING, ShardState.UPLOADED, ShardState.CREATING, ShardState.SUBMITTED):
        moved = dataclasses.replace(shard, state=state)
        store.save_shard(shard, moved)
        shard = moved
    ended = dataclasses.replace(shard, state=ShardState.ENDED, batch_id="batch_1", batch_status=batch_status, **changes)
    store.save_shard(shard, ended)
    return ended


def core_for(store: SQLiteJobStore, tmp_path: Path) -> StoreCore:
    record = store.get_job("job")
    assert record is not None
    return StoreCore(store, record, job_folder(tmp_path / "state", "job"), poll_interval=1.0, max_poll_interval=8.0)


def current(store: SQLiteJobStore, tmp_path: Path) -> Job:
    record = store.get_job("job")
    assert record is not None
    return snapshot(store, record, tmp_path / "state")


class FakeService:
    """The Batch and Files API in memory, answering the core's actions."""

    def __init__(
        self,
        folder: Path,
        *,
        answer: Answer = lambda custom_id, attempt: 200,
        end: Callable[[dict[str, Any]], str] = lambda batch: "completed",
        idempotent: bool = True,
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.answer = answer
        self.end = end
        self.idempotent = idempotent
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.uploads = 0
        self.creates = 0
        self.clock = 1000.0
        self.in_flight_peak = 0
        self._ids = 0

    def _new_file(self, filename: str, content: bytes, purpose: str) -> str:
        self._ids += 1
        file_id = f"file-{self._ids}"
        self.files[file_id] = {"filename": filename, "content": content, "purpose": purpose, "created": self.clock}
        return file_id

    def view(self, batch: dict[str, Any]) -> BatchView:
        return BatchView(
            id=batch["id"],
            status=batch["status"],
            created_at=batch["created"],
            output_file_id=batch.get("output"),
            error_file_id=batch.get("error"),
            errors=tuple(batch.get("errors", ())),
            metadata=batch["metadata"],
            input_tokens=batch.get("input_tokens", 0),
        )

    def running(self) -> list[dict[str, Any]]:
        return [b for b in self.batches.values() if b["status"] not in ("completed", "failed", "expired", "cancelled")]

    def execute(self, action: Action) -> Event:
        self.clock += 0.001
        if isinstance(action, Upload):
            key = action.idempotency_key
            if self.idempotent and key in self.keys:
                return Uploaded(action.shard, self.keys[key])
            self.uploads += 1
            file_id = self._new_file(action.filename, action.path.read_bytes(), "batch")
            self.keys[key] = file_id
            return Uploaded(action.shard, file_id)
        if isinstance(action, FindUpload):
            found = [
                i for i, f in self.files.items() if f["filename"] == action.filename and f["created"] >= action.since
            ]
            return UploadsFound(action.shard, tuple(found))
        if isinstance(action, Create):
            key = action.idempotency_key
            if self.idempotent and key in self.keys:
                return Created(action.shard, self.view(self.batches[self.keys[key]]))
            self.creates += 1
            batch_id = f"batch_{len(self.batches) + 1}"
            self.batches[batch_id] = {
                "id": batch_id,
                "status": "validating",
                "created": self.clock,
                "metadata": dict(action.metadata),
                "input": action.file_id,
            }
            self.keys[key] = batch_id
            self.in_flight_peak = max(self.in_flight_peak, len(self.running()))
            return Created(action.shard, self.view(self.batches[batch_id]))
        if isinstance(action, FindBatch):
            found = [
                self.view(b)
                for b in self.batches.values()
                if b["created"] >= action.since and all(b["metadata"].get(k) == v for k, v in action.metadata.items())
            ]
            return BatchesFound(action.shard, tuple(found))
        if isinstance(action, Poll):
            batch = self.batches[action.batch_id]
            if batch["status"] == "validating":
                self._finish(batch, self.end(batch))
            return Polled(action.shard, self.view(batch))
        if isinstance(action, Cancel):
            batch = self.batches[action.batch_id]
            if batch["status"] == "validating":
                self._finish(batch, "cancelled")
            return CancelSent(action.shard, self.view(batch))
        if isinstance(action, Download):
            files = []
            for kind, file_id, path in action.files:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.files[file_id]["content"])
                files.append((kind, path))
            return Downloaded(action.shard, tuple(files))
        if isinstance(action, Reconcile):
            batches = tuple(
                self.view(b)
                for b in self.batches.values()
                if b["created"] >= action.since and b["metadata"].get("job_id") == action.job_uid
            )
            uploads = tuple(
                (i, f["filename"])
                for i, f in self.files.items()
                if f["purpose"] == "batch" and f["filename"].startswith(action.filename_prefix)
            )
            return Reconciled(batches, uploads)
        assert isinstance(action, DeleteUpload)
        self.files.pop(action.file_id, None)
        return UploadDeleted(action.shard, action.file_id)

    def _finish(self, batch: dict[str, Any], status: str) -> None:
        if status == "token_limited":
            batch["status"] = "failed"
            batch["errors"] = [
                {"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "line": None}
            ]
            return
        if status == "invalid":
            batch["status"] = "failed"
            batch["errors"] = [
                {"code": "invalid_url", "message": "bad url", "line": 2},
                {"code": "empty_file", "message": "general problem", "line": None},
            ]
            return
        batch["status"] = status
        attempt = int(batch["metadata"]["attempt"])
        output, errors = [], []
        lines = self.files[batch["input"]]["content"].decode().splitlines()
        for number, raw in enumerate(lines):
            custom_id = json.loads(raw)["custom_id"]
            if status == "cancelled" or (status == "expired" and number >= len(lines) // 2):
                continue
            code = self.answer(custom_id, attempt)
            if code is None:
                continue
            record = {"id": f"req_{custom_id}", "custom_id": custom_id, "error": None}
            record["response"] = {"status_code": code, "request_id": "r", "body": {"echo": custom_id}}
            if code >= 400:
                error = {"message": f"status {code}", "type": "server_error", "code": None}
                record["response"]["body"] = {"error": error}
            (output if code < 400 else errors).append(json.dumps(record))
        for kind, records in (("output", output), ("error", errors)):
            if records:
                batch[kind] = self._new_file(f"{batch['id']}_{kind}.jsonl", "\n".join(records).encode() + b"\n", "out")


def drive(core: StoreCore, service: FakeService, *, steps: int = 2000) -> None:
    now = 2000.0
    for _ in range(steps):
        step = core.decide(now)
        if step.done:
            return
        for action in step.actions:
            core.record(service.execute(action), now)
        now += 0.01 if step.actions else max(step.wait, 0.01)
    raise AssertionError("the job did not finish")


def statuses(job: Job) -> list[tuple[str, int | None, str | None]]:
    return [(r.custom_id, r.status_code, r.error.code if r.error else None) for r in job.results()]
