"""Every batch operation, sync and async: the exact request on the wire and the parsed result."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from openai_batches import (
    AsyncBatchClient,
    Batch,
    BatchClient,
    BatchEndpoint,
    BatchStatus,
    InvalidParameterError,
    Metadata,
    OutputExpiresAfter,
    SyncCursorPage,
)

BASE = "https://api.example.test/v1"
KEY = "sk-test-key"

BATCH = {
    "id": "batch_abc123",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "model": "gpt-5-2025-08-07",
    "errors": None,
    "input_file_id": "file-abc123",
    "completion_window": "24h",
    "status": "validating",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": 1711471533,
    "in_progress_at": None,
    "expires_at": 1711557933,
    "request_counts": {"total": 0, "completed": 0, "failed": 0},
    "metadata": {"job": "nightly"},
}


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request it saw."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies) or [BATCH]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self.bodies[min(len(self.requests), len(self.bodies)) - 1]
        return httpx.Response(200, json=body, headers={"x-request-id": "req_1"})

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


Run = Callable[[Recorder, Callable[[Any], Any]], Any]


def _sync_run(recorder: Recorder, operation: Callable[[Any], Any]) -> Any:
    with BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    ) as c:
        return operation(c)


def _async_run(recorder: Recorder, operation: Callable[[Any], Any]) -> Any:
    import asyncio

    async def main() -> Any:
        transport = httpx.MockTransport(recorder)
        async with AsyncBatchClient(
            api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=transport)
        ) as c:
            result = operation(c)
            return await result if isinstance(result, Awaitable) else result

    return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    return _sync_run if request.param == "sync" else _async_run


def _assert_common_headers(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"].startswith("openai-batches/")
    assert request.headers["accept"] == "application/json"


def test_create_sends_the_documented_body(run: Run) -> None:
    recorder = Recorder()
    batch = run(
        recorder,
        lambda c: c.batches.create(
            input_file_id="file-abc123",
            endpoint="/v1/chat/completions",
            metadata={"job": "nightly"},
            output_expires_after={"anchor": "created_at", "seconds": 7200},
        ),
    )
    request = recorder.only
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/batches"
    assert request.headers["content-type"] == "application/json"
    _assert_common_headers(request)
    assert json.loads(request.content) == {
        "input_file_id": "file-abc123",
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": {"job": "nightly"},
        "output_expires_after": {"anchor": "created_at", "seconds": 7200},
    }
    assert isinstance(batch, Batch)
    assert batch.id == "batch_abc123"
    assert batch.status == BatchStatus.VALIDATING
    assert batch.endpoint == BatchEndpoint.CHAT_COMPLETIONS
    assert batch.metadata is not None and batch.metadata["job"] == "nightly"


def test_create_leaves_out_unset_options_and_accepts_models(run: Run) -> None:
    recorder = Recorder()
    run(recorder, lambda c: c.batches.create(input_file_id="file-1", endpoint=BatchEndpoint.EMBEDDINGS))
    assert json.loads(recorder.only.content) == {
        "input_file_id": "file-1",
        "endpoint": "/v1/embeddings",
        "completion_window": "24h",
    }

    metadata = Metadata({"a": "b"})
    recorder = Recorder()
    run(
        recorder,
        lambda c: c.batches.create(
            input_file_id="file-1",
            endpoint="/v1/responses",
            metadata=metadata,
            output_expires_after=OutputExpiresAfter.from_dict({"anchor": "created_at", "seconds": 3600}),
        ),
    )
    body = json.loads(recorder.only.content)
    assert body["metadata"] == {"a": "b"}
    assert body["output_expires_after"] == {"anchor": "created_at", "seconds": 3600}


def test_create_passes_an_endpoint_this_version_does_not_know(run: Run) -> None:
    recorder = Recorder()
    run(recorder, lambda c: c.batches.create(input_file_id="file-1", endpoint="/v1/audio/speech"))
    assert json.loads(recorder.only.content)["endpoint"] == "/v1/audio/speech"


def test_retrieve(run: Run) -> None:
    recorder = Recorder({**BATCH, "status": "completed", "output_file_id": "file-out"})
    batch = run(recorder, lambda c: c.batches.retrieve("batch_abc123"))
    request = recorder.only
    assert (request.method, str(request.url), request.content) == ("GET", f"{BASE}/batches/batch_abc123", b"")
    _assert_common_headers(request)
    assert batch.status == BatchStatus.COMPLETED
    assert batch.output_file_id == "file-out"
    assert batch.request_counts.total == 0


def test_cancel(run: Run) -> None:
    recorder = Recorder({**BATCH, "status": "cancelling", "cancelling_at": 1711471600})
    batch = run(recorder, lambda c: c.batches.cancel("batch_abc123"))
    request = recorder.only
    assert (request.method, str(request.url)) == ("POST", f"{BASE}/batches/batch_abc123/cancel")
    assert request.content == b""
    _assert_common_headers(request)
    assert batch.status == BatchStatus.CANCELLING
    assert batch.cancelling_at == 1711471600


def test_list_first_page(run: Run) -> None:
    page_body = {
        "object": "list",
        "data": [BATCH],
        "first_id": "batch_abc123",
        "last_id": "batch_abc123",
        "has_more": False,
    }
    recorder = Recorder(page_body)

    def first_page(c: Any) -> Any:
        result = c.batches.list(limit=10, after="batch_prev")
        return result

    page = run(recorder, first_page)
    request = recorder.only
    assert request.method == "GET"
    assert request.url.path == "/v1/batches"
    assert dict(request.url.params) == {"limit": "10", "after": "batch_prev"}
    _assert_common_headers(request)
    assert [b.id for b in page.data] == ["batch_abc123"]
    assert (page.has_more, page.first_id, page.last_id, page.has_next_page()) == (
        False,
        "batch_abc123",
        "batch_abc123",
        False,
    )


def test_list_without_arguments_sends_no_query() -> None:
    recorder = Recorder({"object": "list", "data": [], "has_more": False})
    page = _sync_run(recorder, lambda c: c.batches.list())
    assert isinstance(page, SyncCursorPage)
    assert recorder.only.url.query == b""
    assert page.data == [] and page.first_id is None


@pytest.mark.parametrize(
    ("batch_id", "path"),
    [
        ("../files/x", "/v1/batches/..%2Ffiles%2Fx"),
        ("batch?x=1#y", "/v1/batches/batch%3Fx%3D1%23y"),
        ("a b", "/v1/batches/a%20b"),
    ],
)
def test_path_ids_are_percent_encoded(run: Run, batch_id: str, path: str) -> None:
    recorder = Recorder()
    run(recorder, lambda c: c.batches.retrieve(batch_id))
    assert recorder.only.url.raw_path.decode() == path


@pytest.mark.parametrize("batch_id", ["", "   ", ".", "..", None, 7])
@pytest.mark.parametrize("operation", ["retrieve", "cancel"])
def test_bad_ids_are_refused_before_sending(run: Run, batch_id: Any, operation: str) -> None:
    recorder = Recorder()
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: getattr(c.batches, operation)(batch_id))
    assert info.value.param == "batch_id"
    assert isinstance(info.value, ValueError)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"input_file_id": ""}, "input_file_id"),
        ({"endpoint": ""}, "endpoint"),
        ({"endpoint": 3}, "endpoint"),
        ({"completion_window": None}, "completion_window"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"metadata": ["k"]}, "metadata"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 3599}}, "output_expires_after"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 2_592_001}}, "output_expires_after"),
        ({"output_expires_after": {"anchor": "updated_at", "seconds": 3600}}, "output_expires_after"),
        ({"output_expires_after": {"seconds": "3600"}}, "output_expires_after"),
        ({"output_expires_after": {"anchor": "created_at"}}, "output_expires_after"),
        ({"output_expires_after": 3600}, "output_expires_after"),
    ],
)
def test_bad_create_arguments_are_refused_before_sending(run: Run, kwargs: dict[str, Any], param: str) -> None:
    recorder = Recorder()
    arguments = {"input_file_id": "file-1", "endpoint": "/v1/chat/completions", **kwargs}
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.batches.create(**arguments))
    assert info.value.param == param
    assert param in str(info.value)
    assert recorder.requests == []


def test_limits_at_the_edge_are_accepted(run: Run) -> None:
    recorder = Recorder()
    run(
        recorder,
        lambda c: c.batches.create(
            input_file_id="file-1",
            endpoint="/v1/chat/completions",
            metadata={f"{i:064d}": "v" * 512 for i in range(16)},
            output_expires_after={"anchor": "created_at", "seconds": 2_592_000},
        ),
    )
    assert len(json.loads(recorder.only.content)["metadata"]) == 16


def test_per_call_headers_and_timeout_reach_the_request(run: Run) -> None:
    recorder = Recorder()
    run(recorder, lambda c: c.batches.retrieve("batch_1", extra_headers={"X-Trace": "t1"}, timeout=3.5))
    request = recorder.only
    assert request.headers["x-trace"] == "t1"
    assert request.extensions["timeout"]["read"] == 3.5
