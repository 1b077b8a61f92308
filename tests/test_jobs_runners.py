"""The job runners, sync and async, against a Batch and Files API in memory behind `httpx.MockTransport`.

`execute` is checked action by action: the exact request each one sends and the event that comes back, including the
answers a runner must tolerate (a cancel refused, a result file gone, an upload already deleted). `run_job` runs
whole jobs through a real `BatchClient` / `AsyncBatchClient` whose `RetryPolicy` has an injected clock and sleeper,
so a job that waits minutes between polls runs in milliseconds, and its pauses, updates and lease are pinned.
tests/test_jobs.py runs the same runners end to end against the local server.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL, Chunks, batch, file_body, json_response, multipart
from jobs_support import ACCOUNT, async_provider, current, line, new_job, provider
from openai_batches import AsyncBatchClient, BatchClient
from openai_batches._exceptions import APIConnectionError, BadRequestError, InternalServerError, RateLimitError
from openai_batches._retry import RetryPolicy
from openai_batches.jobs._async import driver as runner_async
from openai_batches.jobs._async import openai_provider as provider_async
from openai_batches.jobs._sync import driver as runner_sync
from openai_batches.jobs._sync import openai_provider as provider_sync
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
    Failed,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from openai_batches.jobs.errors import JobAccountError, JobBusyError, JobInputChangedError
from openai_batches.jobs.job import Job
from openai_batches.jobs.lease import LEASE_TTL, JobLease
from openai_batches.jobs.records import JobRecord
from openai_batches.jobs.runs import MIN_PAUSE
from openai_batches.jobs.store import SQLiteJobStore

MODES = ("sync", "async")
START = 1_700_000_000.0


class Clock:
    """The run's clock: time moves only when the run sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = START
        self.reads = 0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], object] = lambda: None

    def __call__(self) -> float:
        self.reads += 1
        if self.reads > 10_000:
            raise AssertionError("the run never ends: its clock was read 10,000 times")
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep()

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class FakeAPI:
    """Files and batches in memory, as the service keeps them; every request recorded. A batch ends `completed` the
    first time it is retrieved, with one 200 answer per input line in its output file."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.requests: list[httpx.Request] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, list[bytes]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        # (method, path) -> the statuses of the next answers there, given instead of the usual (errors of the service;
        # 0: the connection fails)
        self.refuse: dict[tuple[str, str], list[int]] = {}
        self._ids = 0

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def add_file(self, filename: str, chunks: list[bytes], created_at: int | None = None) -> str:
        file_id = self.new_id("file-")
        created = int(self.clock.now) if created_at is None else created_at
        self.files[file_id] = file_body(file_id, filename=filename, created_at=created, bytes=sum(map(len, chunks)))
        self.contents[file_id] = chunks
        return file_id

    def add_batch(self, metadata: dict[str, str], created_at: int, **fields: Any) -> str:
        batch_id = self.new_id("batch_")
        self.batches[batch_id] = batch(batch_id, metadata=metadata, created_at=created_at, **fields)
        return batch_id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        statuses = self.refuse.get((request.method, path))
        if statuses:
            status = statuses.pop(0)
            if status == 0:
                raise httpx.ConnectError("connection refused", request=request)
            body = {"error": {"message": f"refused with {status}", "type": "invalid_request_error", "code": None}}
            return json_response(status, body)
        return self._answer(request, path)

    def _answer(self, request: httpx.Request, path: str) -> httpx.Response:
        method = request.method
        if (method, path) == ("POST", "/files"):
            part = next(p for p in multipart(request) if p.name == "file")
            assert part.filename is not None
            return json_response(200, self.files[self.add_file(part.filename, [part.data])])
        if (method, path) == ("GET", "/files"):
            newest = sorted(self.files.values(), key=lambda f: f["created_at"], reverse=True)
            return self._page(newest, request)
        if (method, path) == ("POST", "/batches"):
            body = json.loads(request.content)
            batch_id = self.add_batch(
                body["metadata"], int(self.clock.now), status="validating", input_file_id=body["input_file_id"]
            )
            return json_response(200, self.batches[batch_id])
        if (method, path) == ("GET", "/batches"):
            newest = sorted(self.batches.values(), key=lambda b: b["created_at"], reverse=True)
            return self._page(newest, request)
        if match := re.fullmatch(r"/batches/([^/]+)", path):
            found = self.batches[match[1]]
            if found["status"] == "validating":
                self._complete(found)
            return json_response(200, found)
        if match := re.fullmatch(r"/batches/([^/]+)/cancel", path):
            found = self.batches[match[1]]
            found["status"] = "cancelling"
            return json_response(200, found)
        if match := re.fullmatch(r"/files/([^/]+)/content", path):
            return httpx.Response(200, stream=Chunks(self.contents[match[1]]))
        if match := re.fullmatch(r"/files/([^/]+)", path):
            assert method == "DELETE"
            self.files.pop(match[1])
            return json_response(200, {"id": match[1], "object": "file", "deleted": True})
        raise AssertionError(f"unexpected request {method} {path}")

    def _page(self, items: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
        """One page of a list, newest first, from the `after` cursor on."""
        after = request.url.params.get("after")
        if after is not None:
            items = items[[item["id"] for item in items].index(after) + 1 :]
        limit = int(request.url.params.get("limit", "20"))
        page = items[:limit]
        body = {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
        return json_response(200, body)

    def _complete(self, found: dict[str, Any]) -> None:
        requests = b"".join(self.contents[found["input_file_id"]]).decode().splitlines()
        answers = []
        for raw in requests:
            custom_id = json.loads(raw)["custom_id"]
            response = {"status_code": 200, "request_id": "r", "body": {"echo": custom_id}}
            answers.append(json.dumps({"id": f"req_{custom_id}", "custom_id": custom_id, "response": response}))
        output = "".join(answer + "\n" for answer in answers).encode()
        total = len(requests)
        found["status"] = "completed"
        found["output_file_id"] = self.add_file(f"{found['id']}_output.jsonl", [output])
        found["request_counts"] = {"total": total, "completed": total, "failed": 0}

    @property
    def only(self) -> httpx.Request:
        (request,) = self.requests
        return request


def policy(clock: Clock) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, async_sleep=clock.async_sleep, clock=clock)


def sync_client(api: FakeAPI) -> BatchClient:
    http = httpx.Client(transport=httpx.MockTransport(api))
    return BatchClient(
        api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0, retry_policy=policy(api.clock)
    )


def async_client(api: FakeAPI) -> AsyncBatchClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        return api(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncBatchClient(
        api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0, retry_policy=policy(api.clock)
    )


class HeldLease:
    """A lease that is always held: `execute` checks it before each request that changes the service."""

    def __init__(self) -> None:
        self.checks = 0

    def check(self) -> None:
        self.checks += 1


def execute(mode: str, api: FakeAPI, action: Action) -> Event:
    """What `action` comes to, run by the runner of `mode`."""
    lease: Any = HeldLease()
    if mode == "sync":
        with sync_client(api) as client:
            return runner_sync.execute(provider(client), lease, action)

    async def main() -> Event:
        async with async_client(api) as client:
            return await runner_async.execute(async_provider(client), lease, action)

    return asyncio.run(main())


def run_job(mode: str, api: FakeAPI, store: SQLiteJobStore, tmp_path: Path, **options: Any) -> None:
    """Run the job "job" of `store` to its end with the runner of `mode`."""
    arguments: dict[str, Any] = {
        "on_update": None,
        "poll_interval": 1.0,
        "max_poll_interval": 8.0,
        "lease_seconds": LEASE_TTL,
    }
    arguments.update(options)
    account = arguments.pop("account", ACCOUNT.fingerprint)
    if mode == "sync":
        with sync_client(api) as client:
            runner_sync.run_job(provider(client, account), store, "job", tmp_path / "state", **arguments)
            return

    async def main() -> None:
        async with async_client(api) as client:
            await runner_async.run_job(async_provider(client, account), store, "job", tmp_path / "state", **arguments)

    asyncio.run(main())


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI(Clock())


def calls_of(api: FakeAPI) -> list[str]:
    return [f"{r.method} {r.url.path.removeprefix('/v1')}" for r in api.requests]


# --- execute: one action, its request and its event ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_an_upload_sends_the_shard_file_under_its_filename_with_its_idempotency_key(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    path = tmp_path / "shard.jsonl"
    path.write_bytes(json.dumps(line("a")).encode() + b"\n")
    event = execute(mode, api, Upload(3, path, "job-7-shard-3.jsonl", "upload-key-3"))
    request = api.only
    assert (request.method, request.url.path) == ("POST", "/v1/files")
    assert request.headers["idempotency-key"] == "upload-key-3"
    parts = {part.name: part for part in multipart(request)}
    assert parts["purpose"].data == b"batch"
    assert (parts["file"].filename, parts["file"].data) == ("job-7-shard-3.jsonl", path.read_bytes())
    (file_id,) = api.files
    assert event == Uploaded(3, file_id)


@pytest.mark.parametrize("mode", MODES)
def test_a_lost_upload_is_looked_for_among_the_files_since_its_intent_oldest_first(mode: str, api: FakeAPI) -> None:
    since = 1_000_000
    # More than a page of older files: the search stops at the first file older than `since`, without paging on.
    for number in range(120):
        api.add_file("shard.jsonl", [b"x"], created_at=since - 200 + number)
    at_since = api.add_file("shard.jsonl", [b"x"], created_at=since)
    api.add_file("other.jsonl", [b"x"], created_at=since + 5)
    newest = api.add_file("shard.jsonl", [b"x"], created_at=since + 10)
    event = execute(mode, api, FindUpload(2, "shard.jsonl", float(since)))
    assert event == UploadsFound(2, (at_since, newest))
    request = api.only
    assert (request.method, request.url.path) == ("GET", "/v1/files")
    assert dict(request.url.params) == {"purpose": "batch", "order": "desc", "limit": "100"}


@pytest.mark.parametrize("mode", MODES)
def test_a_create_sends_the_upload_endpoint_window_metadata_and_idempotency_key(mode: str, api: FakeAPI) -> None:
    metadata = {"job": "job", "job_id": "1", "shard": "2", "attempt": "1", "submission": "1"}
    action = Create(2, "file-9", "/v1/chat/completions", "24h", metadata, "create-key-2")
    event = execute(mode, api, action)
    request = api.only
    assert (request.method, request.url.path) == ("POST", "/v1/batches")
    assert request.headers["idempotency-key"] == "create-key-2"
    assert json.loads(request.content) == {
        "input_file_id": "file-9",
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": metadata,
    }
    (batch_id,) = api.batches
    assert isinstance(event, Created)
    assert (event.shard, event.batch.id, event.batch.status, event.batch.metadata) == (
        2,
        batch_id,
        "validating",
        metadata,
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_lost_batch_is_looked_for_by_its_metadata_among_the_batches_since_its_intent(mode: str, api: FakeAPI) -> None:
    since = 1_000_000
    wanted = {"job": "job", "shard": "2", "attempt": "1"}
    for number in range(120):
        api.add_batch(wanted, created_at=since - 200 + number)
    at_since = api.add_batch({**wanted, "submission": "1"}, created_at=since)
    api.add_batch({**wanted, "shard": "3"}, created_at=since + 1)
    api.add_batch({"job": "job"}, created_at=since + 2)
    newest = api.add_batch(wanted, created_at=since + 10)
    event = execute(mode, api, FindBatch(2, wanted, float(since)))
    assert isinstance(event, BatchesFound)
    assert event.shard == 2
    assert [view.id for view in event.batches] == [at_since, newest]
    assert event.batches[0].metadata == {**wanted, "submission": "1"}
    request = api.only
    assert (request.method, request.url.path) == ("GET", "/v1/batches")
    assert dict(request.url.params) == {"limit": "100"}


@pytest.mark.parametrize("mode", MODES)
def test_a_poll_retrieves_the_batch(mode: str, api: FakeAPI) -> None:
    api.add_file("input.jsonl", [json.dumps(line("a")).encode() + b"\n"])
    batch_id = api.add_batch({"job": "job"}, created_at=1, status="validating", input_file_id="file-1")
    event = execute(mode, api, Poll(4, batch_id))
    assert calls_of(api) == [f"GET /batches/{batch_id}"]
    assert isinstance(event, Polled)
    assert (event.shard, event.batch.id, event.batch.status, event.batch.completed) == (4, batch_id, "completed", 1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shard", [5, None])
def test_a_cancel_gives_the_batch_as_the_service_answered(mode: str, shard: int | None, api: FakeAPI) -> None:
    batch_id = api.add_batch({"job": "job"}, created_at=1, status="in_progress")
    event = execute(mode, api, Cancel(shard, batch_id))
    assert calls_of(api) == [f"POST /batches/{batch_id}/cancel"]
    assert isinstance(event, CancelSent)
    assert event.shard == shard
    assert event.batch is not None
    assert (event.batch.id, event.batch.status) == (batch_id, "cancelling")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [404, 409])
def test_a_cancel_the_service_refuses_as_final_or_gone_is_sent_with_no_batch(
    mode: str, status: int, api: FakeAPI
) -> None:
    batch_id = api.add_batch({"job": "job"}, created_at=1, status="completed")
    api.refuse[("POST", f"/batches/{batch_id}/cancel")] = [status]
    assert execute(mode, api, Cancel(5, batch_id)) == CancelSent(5, None)
    assert calls_of(api) == [f"POST /batches/{batch_id}/cancel"]


@pytest.mark.parametrize("mode", MODES)
def test_a_download_streams_each_file_to_its_path_and_a_vanished_file_gives_none(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    chunks = [b'{"custom_id": "a"}\n', b'{"custom_id": "b"}\n', b'{"custom_id": "c"}\n']
    output = api.add_file("batch_1_output.jsonl", chunks)
    gone = api.add_file("batch_1_error.jsonl", [b"{}\n"])
    api.refuse[("GET", f"/files/{gone}/content")] = [404]
    out_path, error_path = tmp_path / "results" / "output.jsonl", tmp_path / "results" / "error.jsonl"
    event = execute(mode, api, Download(6, "batch_1", (("output", output, out_path), ("error", gone, error_path))))
    assert event == Downloaded(6, (("output", out_path), ("error", None)))
    assert calls_of(api) == [f"GET /files/{output}/content", f"GET /files/{gone}/content"]
    assert out_path.read_bytes() == b"".join(chunks)
    assert sorted(p.name for p in out_path.parent.iterdir()) == ["output.jsonl"]  # nothing half-written left


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shard", [7, None])
def test_an_upload_is_deleted_and_one_already_gone_counts_as_deleted(
    mode: str, shard: int | None, api: FakeAPI
) -> None:
    file_id = api.add_file("shard.jsonl", [b"x"])
    assert execute(mode, api, DeleteUpload(shard, file_id)) == UploadDeleted(shard, file_id)
    assert api.files == {}
    api.refuse[("DELETE", f"/files/{file_id}")] = [404]
    assert execute(mode, api, DeleteUpload(shard, file_id)) == UploadDeleted(shard, file_id)
    assert calls_of(api) == [f"DELETE /files/{file_id}"] * 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "error", "transient"),
    [
        (500, InternalServerError, True),
        (429, RateLimitError, True),
        (0, APIConnectionError, True),
        (400, BadRequestError, False),
    ],
)
def test_an_api_error_becomes_a_failure_transient_only_for_what_a_wait_may_cure(
    mode: str, status: int, error: type[Exception], transient: bool, api: FakeAPI
) -> None:
    batch_id = api.add_batch({"job": "job"}, created_at=1)
    api.refuse[("GET", f"/batches/{batch_id}")] = [status]
    action = Poll(1, batch_id)
    event = execute(mode, api, action)
    assert isinstance(event, Failed)
    assert (event.action, type(event.error), event.transient) == (action, error, transient)


# --- execute: where a kill leaves what (the crash test's points) --------------------------------------------------


def observe(monkeypatch: pytest.MonkeyPatch, api: FakeAPI, folder: Path) -> list[tuple[str, list[str], list[bytes]]]:
    """Each crash point the runner passes, with the requests sent and the half-written files on disk by then: what a
    kill at that instant would leave (tests/test_jobs_crash.py kills a real process at each)."""
    seen: list[tuple[str, list[str], list[bytes]]] = []

    def point(name: str) -> None:
        parts = [path.read_bytes() for path in sorted(folder.rglob(".*.part"))]
        seen.append((name, calls_of(api), parts))

    for module in (runner_sync, runner_async, provider_sync, provider_async):
        monkeypatch.setattr(module, "crash_point", point)
    return seen


@pytest.mark.parametrize("mode", MODES)
def test_the_upload_point_comes_after_the_upload_was_sent(
    mode: str, api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shard.jsonl"
    path.write_bytes(b"{}\n")
    seen = observe(monkeypatch, api, tmp_path)
    execute(mode, api, Upload(1, path, "shard.jsonl", "key"))
    assert seen == [("upload", ["POST /files"], [])]


@pytest.mark.parametrize("mode", MODES)
def test_the_create_points_come_before_and_after_the_create_was_sent(
    mode: str, api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = observe(monkeypatch, api, tmp_path)
    execute(mode, api, Create(1, "file-1", "/v1/chat/completions", "24h", {"job": "job"}, "key"))
    assert seen == [("create-intent", [], []), ("create", ["POST /batches"], [])]


@pytest.mark.parametrize("mode", MODES)
def test_the_poll_point_comes_after_the_answer(
    mode: str, api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = api.add_batch({"job": "job"}, created_at=1)
    seen = observe(monkeypatch, api, tmp_path)
    execute(mode, api, Poll(1, batch_id))
    assert seen == [("poll", [f"GET /batches/{batch_id}"], [])]


@pytest.mark.parametrize("mode", MODES)
def test_the_download_point_finds_the_first_piece_on_disk_and_downloaded_the_whole_file(
    mode: str, api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = api.add_file("out.jsonl", [b"first\n", b"second\n", b"third\n"])
    seen = observe(monkeypatch, api, tmp_path)
    path = tmp_path / "results" / "out.jsonl"
    event = execute(mode, api, Download(1, "batch_1", (("output", output, path),)))
    assert seen == [
        ("download", [f"GET /files/{output}/content"], [b"first\n"]),
        ("downloaded", [f"GET /files/{output}/content"], []),
    ]
    assert event == Downloaded(1, (("output", path),))
    assert path.read_bytes() == b"first\nsecond\nthird\n"


@pytest.mark.parametrize("mode", MODES)
def test_the_delete_point_comes_after_the_delete(
    mode: str, api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = api.add_file("shard.jsonl", [b"x"])
    seen = observe(monkeypatch, api, tmp_path)
    execute(mode, api, DeleteUpload(1, file_id))
    assert seen == [("delete", [f"DELETE /files/{file_id}"], [])]


# --- run_job: the loop -------------------------------------------------------------------------------------------


def a_job(tmp_path: Path, requests: int = 2) -> SQLiteJobStore:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(requests)])
    return store


def results(store: SQLiteJobStore, tmp_path: Path) -> list[tuple[str, int | None]]:
    return [(r.custom_id, r.status_code) for r in current(store, tmp_path).results()]


@pytest.mark.parametrize("mode", MODES)
def test_a_run_sends_each_step_once_and_sleeps_only_while_nothing_is_due_at_most_ten_seconds(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    store = a_job(tmp_path)
    updates: list[Job] = []
    run_job(mode, api, store, tmp_path, on_update=updates.append, poll_interval=25.0, max_poll_interval=60.0)
    upload, output = "file-1", "file-3"
    assert calls_of(api) == [
        "POST /files",
        "POST /batches",
        "GET /batches/batch_2",
        f"GET /files/{output}/content",
        f"DELETE /files/{upload}",
        "GET /batches",  # before it finishes, the run lists the job's batches and uploads: nothing unrecorded
        "GET /files",
    ]
    # The first poll is due 25 s after the create: the run waits in pieces of at most 10 s, and never between steps
    # that have something to send.
    assert api.clock.sleeps == [10.0, 10.0, 5.0]
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]
    assert any(update.batches_in_flight == 1 for update in updates)
    assert (updates[-1].status, updates[-1].succeeded) == ("completed", 2)


@pytest.mark.parametrize("mode", MODES)
def test_a_run_with_a_poll_due_almost_at_once_still_pauses(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store = a_job(tmp_path)
    run_job(mode, api, store, tmp_path, poll_interval=0.001, max_poll_interval=0.001)
    assert api.clock.sleeps == [MIN_PAUSE]
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]


@pytest.mark.parametrize("mode", MODES)
def test_a_finished_job_returns_at_once_whatever_became_of_its_input(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store = a_job(tmp_path)
    run_job(mode, api, store, tmp_path)
    api.requests.clear()
    (tmp_path / "input.jsonl").unlink()
    updates: list[Job] = []
    run_job(mode, api, store, tmp_path, on_update=updates.append)
    assert (api.requests, updates) == ([], [])
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]


@pytest.mark.parametrize("mode", MODES)
def test_a_run_with_another_account_sends_nothing(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store = a_job(tmp_path)
    with pytest.raises(JobAccountError, match="another API key"):
        run_job(mode, api, store, tmp_path, account="fedcba9876543210")
    assert api.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_a_run_over_a_changed_input_sends_nothing(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store = a_job(tmp_path)
    with (tmp_path / "input.jsonl").open("a") as out:
        out.write(json.dumps(line("extra")) + "\n")
    with pytest.raises(JobInputChangedError, match="changed since the job was created"):
        run_job(mode, api, store, tmp_path)
    assert api.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_a_job_another_runner_holds_is_not_run(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    store = a_job(tmp_path)
    other = JobLease(store, job_record(store), clock=lambda: START)
    other.acquire()
    with pytest.raises(JobBusyError, match="already being run"):
        run_job(mode, api, store, tmp_path)
    assert api.requests == []
    other.release()
    run_job(mode, api, store, tmp_path)
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]


@pytest.mark.parametrize("mode", MODES)
def test_a_run_keeps_its_lease_through_long_waits_and_frees_it_at_the_end(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    store = a_job(tmp_path)
    takeovers: list[str] = []

    def try_to_take_over() -> None:
        # Well past the lease's time to live since the run started: only a renewed lease keeps another runner out.
        if api.clock.now - START >= 2 * LEASE_TTL:
            try:
                JobLease(store, job_record(store), clock=lambda: api.clock.now).acquire()
                takeovers.append("taken over")
            except JobBusyError:
                takeovers.append("busy")

    api.clock.on_sleep = try_to_take_over
    run_job(mode, api, store, tmp_path, poll_interval=3 * LEASE_TTL, max_poll_interval=3 * LEASE_TTL)
    assert takeovers and set(takeovers) == {"busy"}
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]
    JobLease(
        store, job_record(store), clock=lambda: api.clock.now
    ).acquire()  # free at once, not after the time to live


class Stop(Exception):
    pass


@pytest.mark.parametrize("mode", MODES)
def test_on_update_hears_of_an_upload_before_the_run_decides_anything_more(
    mode: str, api: FakeAPI, tmp_path: Path
) -> None:
    # A program that stops the run on the news of the upload (Ctrl-C, an exception) leaves the shard uploaded and
    # nothing more: the next run creates its batch at once, with no search for a batch that may have been made.
    store = a_job(tmp_path)

    def stop_after_the_upload(job: Job) -> None:
        if api.requests:
            raise Stop

    with pytest.raises(Stop):
        run_job(mode, api, store, tmp_path, on_update=stop_after_the_upload)
    assert calls_of(api) == ["POST /files"]
    api.requests.clear()
    run_job(mode, api, store, tmp_path)
    assert calls_of(api)[:2] == ["POST /batches", "GET /batches/batch_2"]
    assert results(store, tmp_path) == [("r0", 200), ("r1", 200)]


def job_record(store: SQLiteJobStore) -> JobRecord:
    record = store.get_job("job")
    assert record is not None
    return record
