"""The request on the wire is what `httpx.Client.build_request` would build (issue 14).

To cost no more than a bare httpx call, the dispatcher builds `httpx.Request` itself from what it merged once (this
client's headers over the httpx client's, the timeout, a plain query written into the URL). These tests hold it to
httpx's own result: every call is sent once through the direct path and once through a client that makes the
dispatcher use `build_request`, and the two requests must match; the httpx client's own params, cookies and later
header changes must still reach the wire.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai_batches_generated
import pytest
from helpers import API_KEY, BASE_URL, batch, list_body
from openai_batches import AsyncBatchClient, BatchClient
from openai_batches._http import _plain_query

Call = Callable[[Any], Any]

# Sync and async clients have the same methods: an async call returns the awaitable the runner awaits.
CREATE = {
    "input_file_id": "file-1",
    "endpoint": "/v1/chat/completions",
    "metadata": {"job": "nightly", "owner": "é"},
    "idempotency_key": "key-1",
    "extra_headers": {"X-Trace": "t1", "Accept": "application/x-mine"},
    "timeout": 7.5,
}
CALLS: dict[str, Call] = {
    "retrieve": lambda c: c.batches.retrieve("batch_abc123"),
    "retrieve-odd-id": lambda c: c.batches.retrieve("batch/a b?"),
    "cancel": lambda c: c.batches.cancel("batch_abc123"),
    "create": lambda c: c.batches.create(**CREATE),
    "list": lambda c: c.batches.list(limit=20, after="batch_9"),
    "list-odd-cursor": lambda c: c.batches.list(limit=5, after="batch 9/ü&x=1"),
    "list-extra-query": lambda c: c.batches.list(extra_query={"order": "asc", "flag": True}),
    "retrieve-file": lambda c: c.files.retrieve("file-abc"),
}


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/batches") and request.method == "GET":
        return httpx.Response(200, json=list_body(["batch_1"], has_more=False))
    if "/files/" in request.url.path:
        body = {"id": "file-abc", "object": "file", "bytes": 1, "created_at": 1, "filename": "f", "purpose": "batch"}
        return httpx.Response(200, json={**body, "status": "processed"})
    return httpx.Response(200, json=batch())


class _Built(httpx.Client):
    """An httpx client that builds requests itself: the dispatcher must ask it, so this is httpx's own result."""

    built = 0

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        type(self).built += 1
        return super().build_request(*args, **kwargs)


class _AsyncBuilt(httpx.AsyncClient):
    built = 0

    def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
        type(self).built += 1
        return super().build_request(*args, **kwargs)


def _wire(request: httpx.Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": str(request.url),
        "headers": sorted(request.headers.multi_items()),
        "body": request.read(),
        "timeout": request.extensions.get("timeout"),
    }


def _sent_sync(call: Call, http_class: type[httpx.Client], **http: Any) -> dict[str, Any]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    with http_class(transport=httpx.MockTransport(handler), **http) as client:
        call(BatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=client, max_retries=0))
    (request,) = seen
    return _wire(request)


def _sent_async(call: Call, http_class: type[httpx.AsyncClient], **http: Any) -> dict[str, Any]:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    async def main() -> None:
        async with http_class(transport=httpx.MockTransport(handler), **http) as client:
            result = call(AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=client, max_retries=0))
            await result

    asyncio.run(main())
    (request,) = seen
    return _wire(request)


HTTP_SETTINGS = [
    {},
    {"headers": {"User-Agent": "theirs/1", "X-Team": "search", "Accept": "text/plain"}},
    {"timeout": 3.0, "cookies": {"session": "abc"}},
]


@pytest.mark.parametrize("http", HTTP_SETTINGS, ids=["plain", "own-headers", "cookies-and-timeout"])
@pytest.mark.parametrize("name", list(CALLS))
def test_the_direct_request_is_what_build_request_builds(name: str, http: dict[str, Any]) -> None:
    call = CALLS[name]
    before = _Built.built
    assert _sent_sync(call, httpx.Client, **http) == _sent_sync(call, _Built, **http)
    assert _Built.built == before + 1
    before = _AsyncBuilt.built
    assert _sent_async(call, httpx.AsyncClient, **http) == _sent_async(call, _AsyncBuilt, **http)
    assert _AsyncBuilt.built == before + 1


def test_what_the_direct_request_sends() -> None:
    sent = _sent_sync(CALLS["create"], httpx.Client, cookies={"session": "abc"})
    headers = dict(sent["headers"])
    assert sent["url"] == f"{BASE_URL}/batches"
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["idempotency-key"] == "key-1" and headers["x-trace"] == "t1"
    assert headers["accept"] == "application/x-mine" and headers["content-type"] == "application/json"
    assert headers["cookie"] == "session=abc"
    assert sent["timeout"]["read"] == 7.5  # the per-call timeout, not the client's
    assert json.loads(sent["body"])["metadata"] == {"job": "nightly", "owner": "é"}
    listed = _sent_sync(CALLS["list"], httpx.Client)
    assert listed["url"] == f"{BASE_URL}/batches?after=batch_9&limit=20"
    odd = _sent_sync(CALLS["list-odd-cursor"], httpx.Client)
    assert dict(httpx.URL(odd["url"]).params) == {"after": "batch 9/ü&x=1", "limit": "5"}


def test_a_client_that_builds_requests_its_own_way_is_asked_every_time() -> None:
    class Stamping(httpx.Client):
        def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
            request = super().build_request(*args, **kwargs)
            request.headers["X-Stamped"] = "yes"
            return request

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    client = BatchClient(
        api_key=API_KEY, base_url=BASE_URL, http_client=Stamping(transport=httpx.MockTransport(handler))
    )
    client.batches.retrieve("batch_abc123")
    client.batches.list()
    assert [request.headers.get("x-stamped") for request in seen] == ["yes", "yes"]


def test_the_http_clients_params_cookies_and_later_header_changes_reach_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    http = httpx.Client(transport=httpx.MockTransport(handler), headers={"X-First": "1"})
    client = BatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http)
    client.batches.retrieve("batch_abc123")
    http.headers["X-Later"] = "2"  # changed in place after the client was made
    http.cookies.set("session", "s1")
    client.batches.retrieve("batch_abc123")
    http.headers = {"X-Replaced": "3"}  # replaced outright
    http.params = {"api-version": "2025-01"}
    client.batches.list(limit=3)
    first, second, third = seen
    assert first.headers["x-first"] == "1" and "x-later" not in first.headers and "cookie" not in first.headers
    assert second.headers["x-later"] == "2" and second.headers["cookie"] == "session=s1"
    assert "x-first" not in third.headers and third.headers["x-replaced"] == "3"
    assert dict(third.url.params) == {"api-version": "2025-01", "limit": "3"}
    assert all(request.headers["authorization"] == f"Bearer {API_KEY}" for request in seen)


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"after": "batch_abc-1.2~x", "limit": 100}, "after=batch_abc-1.2~x&limit=100"),
        ({"limit": 7}, "limit=7"),
        ({"after": "a b"}, None),
        ({"after": "ü"}, None),
        ({"after": ""}, None),
        ({"flag": True}, None),
        ({"n": 1.5}, None),
        ({"ids": ["a", "b"]}, None),
        ({"a b": "x"}, None),
    ],
)
def test_only_a_plain_query_is_written_as_text(params: dict[str, Any], text: str | None) -> None:
    assert _plain_query(params) == text


@pytest.mark.parametrize("http_params", [None, {"tenant": "t1"}], ids=["direct", "through-build-request"])
def test_every_query_reaches_the_wire(http_params: dict[str, str] | None) -> None:
    # A gateway's base URL with a query of its own, the client's default query, the httpx client's params (which
    # send the request through build_request) and the call's own: all of them, the call's winning.
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    http = httpx.Client(transport=httpx.MockTransport(handler), params=http_params)
    client = BatchClient(
        api_key=API_KEY,
        base_url="https://gw.example.test/v1?api-version=3",
        default_query={"region": "eu"},
        http_client=http,
    )
    client.batches.retrieve("batch_abc123")
    client.batches.list(limit=2, after="batch_1", extra_query={"region": "us"})
    own = http_params or {}
    assert [dict(request.url.params) for request in seen] == [
        {**own, "api-version": "3", "region": "eu"},
        {**own, "api-version": "3", "region": "us", "after": "batch_1", "limit": "2"},
    ]
    assert all(request.url.path == "/v1/batches" or request.url.path.startswith("/v1/batches/") for request in seen)


def test_the_generated_code_sets_no_header_but_a_content_type() -> None:
    # The dispatcher does not send the headers the generated `_get_kwargs` describe, since they are only ever a
    # Content-Type that httpx writes itself (see _http.py). A header parameter in a future spec or generator would
    # be lost: this fails first.
    api = Path(openai_batches_generated.__file__).parent / "api"
    set_here = {
        (path.name, name)
        for path in sorted(api.rglob("*.py"))
        for name in re.findall(r"headers\[\s*[\"']([^\"']+)[\"']\s*\]\s*=", path.read_text(encoding="utf-8"))
    }
    assert set_here == {("create_batch.py", "Content-Type"), ("create_file.py", "Content-Type")}
