"""Shared test helpers: clients wired to an in-memory `httpx.MockTransport`, and canonical response bodies.

A test writes one *sync* handler (`httpx.Request -> httpx.Response`). `sync_client` / `async_client` wrap it so the
same handler drives `BatchClient` and `AsyncBatchClient`, and `Recorder` keeps every request that reached it, so a
test can assert what went over the wire and how many requests were made.
"""

from __future__ import annotations

import asyncio
import copy
import email
import email.policy
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openai_batches import AsyncBatchClient, BatchClient, _json

API_KEY = "sk-test-SECRET123"
BASE_URL = "https://api.example.test/v1"

Handler = Callable[[httpx.Request], httpx.Response]

# A complete Batch as the API sends it, with every optional field present (some null).
BATCH: dict[str, Any] = {
    "id": "batch_abc123",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "model": "gpt-4o-mini",
    "errors": None,
    "input_file_id": "file-abc123",
    "completion_window": "24h",
    "status": "in_progress",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": 1711471533,
    "in_progress_at": 1711471538,
    "expires_at": 1711557933,
    "finalizing_at": None,
    "completed_at": None,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {"total": 10, "completed": 3, "failed": 0},
    "usage": None,
    "metadata": {"job": "nightly"},
}


def batch(batch_id: str = "batch_abc123", **fields: Any) -> dict[str, Any]:
    """A fresh copy of `BATCH` with another id and any fields replaced."""
    body = copy.deepcopy(BATCH)
    body["id"] = batch_id
    body.update(fields)
    return body


def list_body(ids: list[str], *, has_more: bool, with_ids: bool = True) -> dict[str, Any]:
    """A list page holding one batch per id."""
    body: dict[str, Any] = {"object": "list", "data": [batch(i) for i in ids], "has_more": has_more}
    if with_ids:
        body["first_id"] = ids[0] if ids else None
        body["last_id"] = ids[-1] if ids else None
    return body


# A complete file object as the API sends it.
FILE: dict[str, Any] = {
    "id": "file-abc123",
    "object": "file",
    "bytes": 120000,
    "created_at": 1677610602,
    "filename": "requests.jsonl",
    "purpose": "batch",
    "status": "processed",
    "expires_at": 1680202602,
    "status_details": None,
}


def file_body(file_id: str = "file-abc123", **fields: Any) -> dict[str, Any]:
    return {**FILE, "id": file_id, **fields}


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that arrives in the given pieces, as from a socket, for a sync or an async client."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


class Recorder:
    """A handler that records every request, then answers with `respond(request)`."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def count(self) -> int:
        return len(self.requests)

    def queries(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests]

    @property
    def only(self) -> httpx.Request:
        """The one request that was made (fails if there were more or none)."""
        (request,) = self.requests
        return request


def sync_client(handler: Handler, **options: Any) -> BatchClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return BatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0, **options)


def async_client(handler: Handler, **options: Any) -> AsyncBatchClient:
    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(async_handler))
    return AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0, **options)


# The two ways the library decodes JSON: msgspec (the `speed` extra, in the dev install) and the standard library
# alone. Results and errors must be the same on both.
DECODERS = ("msgspec", "json")


def use_decoder(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the library decode with `name` until the test ends (the stdlib path, as without the `speed` extra)."""
    if name == "json":
        monkeypatch.setattr(_json, "fast", None)
        monkeypatch.setattr(_json, "loads", _json.stdlib_loads)
    elif _json.fast is None:
        pytest.skip("msgspec is not installed (pip install '.[speed]' from the repository folder)")


CREATE_ARGS: dict[str, Any] = {"input_file_id": "file-abc123", "endpoint": "/v1/chat/completions"}
OPERATIONS = ("retrieve", "cancel", "create", "list")


def run_sync(handler: Handler, operation: str = "retrieve") -> Any:
    """Run one operation through `BatchClient`; `list` returns the first page's data."""
    client = sync_client(handler)
    if operation == "retrieve":
        return client.batches.retrieve("batch_abc123")
    if operation == "cancel":
        return client.batches.cancel("batch_abc123")
    if operation == "create":
        return client.batches.create(**CREATE_ARGS)
    if operation == "list":
        return client.batches.list().data
    raise AssertionError(operation)


def run_async(handler: Handler, operation: str = "retrieve") -> Any:
    """The same as `run_sync` through `AsyncBatchClient`, on a fresh event loop (call it from a sync test)."""

    async def main() -> Any:
        client = async_client(handler)
        if operation == "retrieve":
            return await client.batches.retrieve("batch_abc123")
        if operation == "cancel":
            return await client.batches.cancel("batch_abc123")
        if operation == "create":
            return await client.batches.create(**CREATE_ARGS)
        if operation == "list":
            return (await client.batches.list()).data
        raise AssertionError(operation)

    return asyncio.run(main())


RUNNERS = {"sync": run_sync, "async": run_async}


def call_in_sync_client(handler: Handler, operation: Callable[[Any], Any], **options: Any) -> Any:
    """`operation(client)` with a `BatchClient` over `handler`."""
    with sync_client(handler, **options) as client:
        return operation(client)


def call_in_async_client(handler: Handler, operation: Callable[[Any], Any], **options: Any) -> Any:
    """`operation(client)` with an `AsyncBatchClient` over `handler`, awaited if it returns an awaitable."""

    async def main() -> Any:
        async with async_client(handler, **options) as client:
            result = operation(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


CALL_IN = {"sync": call_in_sync_client, "async": call_in_async_client}


# --- reading a multipart body -------------------------------------------------------------------------------------


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def boundary_of(request: httpx.Request) -> str:
    content_type = request.headers["content-type"]
    prefix = "multipart/form-data; boundary="
    assert content_type.startswith(prefix), content_type
    return content_type[len(prefix) :]


def multipart(request: httpx.Request) -> list[Part]:
    """The parts of a multipart/form-data request body, parsed by hand (bytes kept exact)."""
    boundary = boundary_of(request).encode()
    body = request.content
    if "content-length" in request.headers:
        assert int(request.headers["content-length"]) == len(body)
    opening = b"--" + boundary + b"\r\n"
    closing = b"\r\n--" + boundary + b"--\r\n"
    assert body.startswith(opening), body[:200]
    assert body.endswith(closing), body[-200:]
    parts = []
    for raw in body[len(opening) : -len(closing)].split(b"\r\n--" + boundary + b"\r\n"):
        head, separator, data = raw.partition(b"\r\n\r\n")
        assert separator, raw[:200]
        headers = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.HTTP)
        assert headers.get_content_disposition() == "form-data"
        name = headers.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        content_type = headers.get("content-type")
        parts.append(Part(name, headers.get_filename(), None if content_type is None else str(content_type), data))
    return parts


def fields(request: httpx.Request) -> dict[str, bytes]:
    parts = multipart(request)
    names = [part.name for part in parts]
    assert len(names) == len(set(names)), names
    return {part.name: part.data for part in parts}


def file_part(request: httpx.Request) -> Part:
    (part,) = [part for part in multipart(request) if part.name == "file"]
    return part
