"""`with_raw_response` and `with_streaming_response`: the official SDK's shapes over the same request path.

The raw form returns the response with its body read and `parse()` for what the plain method returns; the streaming
form is a context manager whose body is read only when asked and which closes the response at the end of the block.
Retries, status errors and validation errors behave exactly as on the plain methods, and the plain methods never
build any of this.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import BASE_URL, BATCH, Recorder, async_client, batch, file_body, json_response, list_body, sync_client
from openai_batches import (
    APIConnectionError,
    APIResponse,
    APIResponseValidationError,
    AsyncAPIResponse,
    AsyncBatchClient,
    AsyncCursorPage,
    AsyncFileContent,
    Batch,
    BatchClient,
    FileContent,
    FileObject,
    NotFoundError,
    RawResponse,
    RetryPolicy,
    SyncCursorPage,
)

FILE = file_body(bytes=12)
CONTENT = b'{"a": 1}\n{"b": 2}\n'


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that arrives in pieces, as from a socket (a `content=` body would be read before the client sees it)."""

    def __init__(self, body: bytes) -> None:
        self.chunks = [body[i : i + 5] for i in range(0, len(body), 5)]

    def __iter__(self) -> Any:
        yield from self.chunks

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk


def streamed(body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(200, stream=Chunks(body), headers={"x-request-id": "req_raw", "content-type": content_type})


def routes(request: httpx.Request) -> httpx.Response:
    """A tiny API: batches, a listing of two pages, a file and its content; bodies arrive as streams."""
    path = request.url.path
    if path == "/v1/batches" and request.method == "GET":
        after = request.url.params.get("after")
        if after is None:
            return streamed(json.dumps(list_body(["b1", "b2"], has_more=True)).encode())
        return streamed(json.dumps(list_body(["b3"], has_more=False)).encode())
    if path.startswith("/v1/batches"):
        return streamed(json.dumps(batch()).encode())
    if path == "/v1/files/file-abc123/content":
        return streamed(CONTENT, "application/octet-stream")
    if path.startswith("/v1/files"):
        return streamed(json.dumps(FILE).encode())
    return json_response(404, {"error": {"message": "no route"}})


def no_sleep() -> RetryPolicy:
    async def async_sleep(seconds: float) -> None:
        return None

    return RetryPolicy(sleep=lambda seconds: None, async_sleep=async_sleep)


# ---------------------------------------------------------------------------------------------------- raw, sync


def test_raw_retrieve_gives_headers_status_request_and_the_parsed_batch() -> None:
    recorder = Recorder(routes)
    with sync_client(recorder) as client:
        raw = client.batches.with_raw_response.retrieve("batch_abc123")
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == raw.request_id == "req_raw"
    assert raw.http_request.method == raw.method == "GET"
    assert str(raw.http_request.url) == str(raw.url) == f"{BASE_URL}/batches/batch_abc123"
    assert raw.retries_taken == 0
    assert json.loads(raw.content) == json.loads(raw.text) == raw.json() == BATCH
    parsed = raw.parse()
    assert isinstance(parsed, Batch) and parsed.id == "batch_abc123"
    assert raw.parse() is parsed  # parsed once
    assert recorder.count == 1
    assert repr(raw) == f"<RawResponse [200] GET {BASE_URL}/batches/batch_abc123>"


def test_raw_sends_exactly_what_the_plain_method_sends() -> None:
    plain, raw = Recorder(routes), Recorder(routes)
    arguments: dict[str, Any] = {
        "input_file_id": "file-1",
        "endpoint": "/v1/chat/completions",
        "metadata": {"job": "x"},
        "idempotency_key": "key-1",
        "extra_headers": {"X-Trace": "t"},
        "extra_query": {"q": "1"},
        "extra_body": {"extra": True},
    }
    with sync_client(plain) as client:
        client.batches.create(**arguments)
    with sync_client(raw) as client:
        client.batches.with_raw_response.create(**arguments).parse()
    (sent_plain,), (sent_raw,) = plain.requests, raw.requests
    assert (sent_raw.method, sent_raw.url, sent_raw.content) == (sent_plain.method, sent_plain.url, sent_plain.content)
    assert sent_raw.headers["idempotency-key"] == sent_plain.headers["idempotency-key"] == "key-1"
    assert sent_raw.headers["x-trace"] == "t"


def test_every_batch_and_file_method_has_a_raw_form(tmp_path: Path) -> None:
    recorder = Recorder(routes)
    upload = tmp_path / "in.jsonl"
    upload.write_bytes(CONTENT)
    with sync_client(recorder) as client:
        raws = {
            "batches.create": client.batches.with_raw_response.create(input_file_id="f", endpoint="/v1/embeddings"),
            "batches.retrieve": client.batches.with_raw_response.retrieve("b"),
            "batches.cancel": client.batches.with_raw_response.cancel("b"),
            "batches.list": client.batches.with_raw_response.list(),
            "files.create": client.files.with_raw_response.create(file=upload, purpose="batch"),
            "files.retrieve": client.files.with_raw_response.retrieve("file-abc123"),
            "files.delete": client.files.with_raw_response.delete("file-abc123"),
            "files.list": client.files.with_raw_response.list(),
            "files.content": client.files.with_raw_response.content("file-abc123"),
        }
        assert all(isinstance(raw, RawResponse) and raw.status_code == 200 for raw in raws.values())
        assert [(r.method, r.url.path) for r in recorder.requests] == [
            ("POST", "/v1/batches"),
            ("GET", "/v1/batches/b"),
            ("POST", "/v1/batches/b/cancel"),
            ("GET", "/v1/batches"),
            ("POST", "/v1/files"),
            ("GET", "/v1/files/file-abc123"),
            ("DELETE", "/v1/files/file-abc123"),
            ("GET", "/v1/files"),
            ("GET", "/v1/files/file-abc123/content"),
        ]
        assert isinstance(raws["files.create"].parse(), FileObject)
        content = raws["files.content"].parse()
        assert isinstance(content, FileContent) and content.content == CONTENT  # the body came with the response


def test_raw_list_parses_to_a_page_that_walks_on_with_plain_calls() -> None:
    recorder = Recorder(routes)
    with sync_client(recorder) as client:
        raw = client.batches.with_raw_response.list(limit=2)
        page = raw.parse()
        assert isinstance(page, SyncCursorPage)
        assert [b.id for b in page] == ["b1", "b2", "b3"]
    assert [r.url.params.get("after") for r in recorder.requests] == [None, "b2"]


def test_client_level_wrappers_reach_every_resource() -> None:
    with sync_client(Recorder(routes)) as client:
        assert client.with_raw_response.batches.retrieve("b").parse().id == "batch_abc123"
        assert client.with_raw_response.files.retrieve("file-abc123").parse().bytes == 12
        with client.with_streaming_response.files.content("file-abc123") as response:
            assert response.read() == CONTENT
        with client.with_streaming_response.batches.cancel("b") as response:
            assert response.parse().id == "batch_abc123"


def test_raw_responses_retry_like_the_plain_methods() -> None:
    def flaky(request: httpx.Request) -> httpx.Response:
        if recorder.count < 3:
            return json_response(503, {"error": {"message": "busy"}})
        return json_response(200, batch())

    recorder = Recorder(flaky)
    with sync_client(recorder, retry_policy=no_sleep()).with_options(max_retries=2) as client:
        raw = client.batches.with_raw_response.retrieve("b")
    assert recorder.count == 3
    assert raw.retries_taken == 2


def test_raw_and_streaming_responses_raise_the_plain_status_errors() -> None:
    missing = Recorder(lambda request: json_response(404, {"error": {"message": "No batch", "code": "nf"}}))
    with sync_client(missing) as client:
        with pytest.raises(NotFoundError) as raw_error:
            client.batches.with_raw_response.retrieve("b")
        with pytest.raises(NotFoundError) as streamed_error, client.batches.with_streaming_response.retrieve("b"):
            pytest.fail("the block must not run on an error status")
    for error in (raw_error.value, streamed_error.value):
        assert error.status_code == 404 and error.code == "nf" and error.body == {"message": "No batch", "code": "nf"}


def test_parse_raises_the_validation_error_of_the_plain_method() -> None:
    broken = Recorder(lambda request: json_response(200, {"id": "b", "object": "batch"}))
    with sync_client(broken) as client:
        raw = client.batches.with_raw_response.retrieve("b")  # the response itself is fine to look at
        assert raw.status_code == 200
        with pytest.raises(APIResponseValidationError) as caught:
            raw.parse()
    assert caught.value.field == "endpoint"


# ---------------------------------------------------------------------------------------------------- streaming, sync


def test_streaming_reads_the_body_only_when_asked_and_closes_it() -> None:
    with sync_client(Recorder(routes)) as client:
        with client.batches.with_streaming_response.retrieve("b") as response:
            assert isinstance(response, APIResponse)
            assert not response.is_closed
            assert response.headers["x-request-id"] == "req_raw"
            parsed = response.parse()
            assert isinstance(parsed, Batch) and parsed.id == "batch_abc123"
            assert response.json() == BATCH and json.loads(response.text()) == BATCH
        assert response.is_closed


def test_streaming_response_left_unread_is_closed_by_the_block() -> None:
    with sync_client(Recorder(routes)) as client:
        with client.files.with_streaming_response.content("file-abc123") as response:
            assert not response.is_closed
        assert response.is_closed


def test_streaming_download_to_a_file_and_by_lines(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with sync_client(Recorder(routes)) as client:
        with client.files.with_streaming_response.content("file-abc123") as response:
            response.stream_to_file(target, chunk_size=4)
        assert target.read_bytes() == CONTENT
        with client.files.with_streaming_response.content("file-abc123") as response:
            assert list(response.iter_lines()) == ['{"a": 1}', '{"b": 2}']
        with client.files.with_streaming_response.content("file-abc123") as response:
            assert b"".join(response.iter_bytes(3)) == CONTENT
        with client.files.with_streaming_response.content("file-abc123") as response:
            content = response.parse()
            assert isinstance(content, FileContent) and content.text == CONTENT.decode()


def test_streaming_the_request_waits_for_the_block() -> None:
    recorder = Recorder(routes)
    with sync_client(recorder) as client:
        manager = client.batches.with_streaming_response.retrieve("b")
        assert recorder.count == 0
        with manager:
            assert recorder.count == 1


def test_a_body_broken_mid_stream_is_a_connection_error() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Any:
            yield b'{"id": '
            raise httpx.ReadError("connection reset")

    client = sync_client(lambda request: httpx.Response(200, stream=Broken()))
    with client, client.batches.with_streaming_response.retrieve("b") as response, pytest.raises(APIConnectionError):
        response.parse()


# ---------------------------------------------------------------------------------------------------- async


def run_async(main: Callable[[AsyncBatchClient], Any], handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    async def runner() -> Any:
        async with async_client(handler) as client:
            return await main(client)

    return asyncio.run(runner())


def test_async_raw_responses_parse_without_await() -> None:
    recorder = Recorder(routes)

    async def main(client: AsyncBatchClient) -> None:
        raw = await client.batches.with_raw_response.retrieve("b")
        assert isinstance(raw, RawResponse) and raw.status_code == 200
        assert raw.headers["x-request-id"] == "req_raw"
        assert raw.parse().id == "batch_abc123"  # synchronous, as the SDK's
        page = (await client.batches.with_raw_response.list()).parse()
        assert isinstance(page, AsyncCursorPage)
        assert [b.id async for b in page] == ["b1", "b2", "b3"]
        content = (await client.files.with_raw_response.content("file-abc123")).parse()
        assert isinstance(content, AsyncFileContent) and content.content == CONTENT
        raw_file = await client.with_raw_response.files.create(file=("a.jsonl", CONTENT))
        assert raw_file.parse().filename == "requests.jsonl"

    run_async(main, recorder)
    assert [r.url.params.get("after") for r in recorder.requests if r.url.path == "/v1/batches"] == [None, "b2"]


def test_async_streaming_responses_read_on_demand_and_close() -> None:
    async def main(client: AsyncBatchClient) -> None:
        async with client.batches.with_streaming_response.retrieve("b") as response:
            assert isinstance(response, AsyncAPIResponse) and not response.is_closed
            assert (await response.parse()).id == "batch_abc123"
            assert await response.json() == BATCH
        assert response.is_closed
        async with client.files.with_streaming_response.content("file-abc123") as streamed:
            assert [line async for line in streamed.iter_lines()] == ['{"a": 1}', '{"b": 2}']
        assert streamed.is_closed
        async with client.with_streaming_response.files.content("file-abc123") as streamed:
            assert await streamed.read() == CONTENT and await streamed.text() == CONTENT.decode()

    run_async(main, Recorder(routes))


def test_async_streaming_download_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"

    async def main(client: AsyncBatchClient) -> None:
        async with client.files.with_streaming_response.content("file-abc123") as response:
            await response.stream_to_file(target)

    run_async(main, Recorder(routes))
    assert target.read_bytes() == CONTENT


def test_async_wrappers_raise_the_plain_errors() -> None:
    missing = Recorder(lambda request: json_response(404, {"error": {"message": "No batch"}}))

    async def main(client: AsyncBatchClient) -> None:
        with pytest.raises(NotFoundError):
            await client.batches.with_raw_response.retrieve("b")
        with pytest.raises(NotFoundError):
            async with client.batches.with_streaming_response.list():
                pytest.fail("the block must not run on an error status")

    run_async(main, missing)


# ---------------------------------------------------------------------------------------------------- cost


@pytest.mark.parametrize("client_class", [BatchClient, AsyncBatchClient])
def test_plain_clients_build_no_wrapper_until_asked(client_class: type[Any]) -> None:
    client = client_class(api_key="sk", base_url=BASE_URL)
    # Nothing is built for the wrappers until first used: the plain path carries no extra objects.
    assert "with_raw_response" not in vars(client) and "with_streaming_response" not in vars(client)
    assert "with_raw_response" not in vars(client.batches)
    first = client.batches.with_raw_response
    assert client.batches.with_raw_response is first
