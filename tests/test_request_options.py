"""`extra_query`, `extra_body` and `extra_headers` on every method, `default_query` on the client, and the client's
SDK-shaped settings (`api_key`, `copy()`, `is_closed()`): the exact request on the wire."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers import (
    API_KEY,
    BASE_URL,
    Recorder,
    async_client,
    batch,
    file_body,
    json_response,
    list_body,
    multipart,
    sync_client,
)
from openai_batches import AsyncBatchClient, BatchClient, InvalidParameterError
from openai_batches.resources.batches import AsyncBatches, Batches
from openai_batches.resources.files import AsyncFiles, Files

FILE = file_body(bytes=3, filename="in.jsonl")


def routes(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/v1/batches" and request.method == "GET":
        return json_response(200, list_body(["b1"], has_more=False))
    if path.startswith("/v1/batches"):
        return json_response(200, batch())
    if path.endswith("/content"):
        return httpx.Response(200, content=b"abc")
    if path == "/v1/files" and request.method == "GET":
        return json_response(
            200, {"object": "list", "data": [FILE], "first_id": "f", "last_id": "f", "has_more": False}
        )
    if request.method == "DELETE":
        return json_response(200, {"id": "file-abc123", "object": "file", "deleted": True})
    return json_response(200, FILE)


Run = Callable[..., Any]


def _run_sync(recorder: Recorder, operation: Callable[[Any], Any], **options: Any) -> Any:
    with sync_client(recorder, **options) as client:
        result = operation(client)
        if hasattr(result, "read") and not isinstance(result, bytes):
            result.read()
        return result


def _run_async(recorder: Recorder, operation: Callable[[Any], Any], **options: Any) -> Any:
    async def main() -> Any:
        async with async_client(recorder, **options) as client:
            result = operation(client)
            result = await result if inspect.isawaitable(result) else result
            if hasattr(result, "read"):
                await result.read()
            return result

    return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    return _run_sync if request.param == "sync" else _run_async


# Every HTTP method of both resources, with its required arguments.
CALLS: dict[str, Callable[..., Any]] = {
    "batches.create": lambda c, **x: c.batches.create(input_file_id="f", endpoint="/v1/embeddings", **x),
    "batches.retrieve": lambda c, **x: c.batches.retrieve("b1", **x),
    "batches.cancel": lambda c, **x: c.batches.cancel("b1", **x),
    "batches.list": lambda c, **x: c.batches.list(**x),
    "files.create": lambda c, **x: c.files.create(file=b"abc", **x),
    "files.retrieve": lambda c, **x: c.files.retrieve("file-abc123", **x),
    "files.delete": lambda c, **x: c.files.delete("file-abc123", **x),
    "files.list": lambda c, **x: c.files.list(**x),
    "files.content": lambda c, **x: c.files.content("file-abc123", **x),
}
GETS = {"batches.retrieve", "batches.list", "files.retrieve", "files.list", "files.content"}


@pytest.mark.parametrize("resource", [Batches, AsyncBatches, Files, AsyncFiles])
def test_every_http_method_takes_the_sdk_request_options(resource: type[Any]) -> None:
    methods = ["create", "retrieve", "list"] + (["cancel"] if "Batches" in resource.__name__ else ["delete", "content"])
    for name in methods:
        parameters = inspect.signature(getattr(resource, name)).parameters
        for option in ("extra_headers", "extra_query", "extra_body", "timeout"):
            assert parameters[option].kind is inspect.Parameter.KEYWORD_ONLY, (resource.__name__, name, option)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_extra_query_and_headers_reach_the_wire_on_every_method(run: Run, call: str) -> None:
    recorder = Recorder(routes)
    run(recorder, lambda c: CALLS[call](c, extra_query={"trace": "t1", "n": 2}, extra_headers={"X-Extra": "yes"}))
    (request,) = recorder.requests
    assert request.url.params["trace"] == "t1" and request.url.params["n"] == "2"
    assert request.headers["x-extra"] == "yes"


@pytest.mark.parametrize("call", sorted(set(CALLS) - GETS - {"files.create"}))
def test_extra_body_joins_the_json_body(run: Run, call: str) -> None:
    recorder = Recorder(routes)
    run(recorder, lambda c: CALLS[call](c, extra_body={"note": {"deep": [1, None]}, "flag": True}))
    (request,) = recorder.requests
    body = json.loads(request.content)
    assert body["note"] == {"deep": [1, None]} and body["flag"] is True
    assert request.headers["content-type"] == "application/json"


def test_extra_body_merges_over_the_methods_own_fields(run: Run) -> None:
    recorder = Recorder(routes)
    run(
        recorder,
        lambda c: c.batches.create(
            input_file_id="file-1",
            endpoint="/v1/embeddings",
            metadata={"job": "a"},
            extra_body={"metadata": {"job": "b"}, "priority": 3},
        ),
    )
    assert json.loads(recorder.only.content) == {
        "input_file_id": "file-1",
        "endpoint": "/v1/embeddings",
        "completion_window": "24h",
        "metadata": {"job": "b"},
        "priority": 3,
    }


def test_extra_body_of_an_upload_becomes_form_fields(run: Run) -> None:
    recorder = Recorder(routes)
    run(
        recorder,
        lambda c: c.files.create(
            file=b"abc",
            purpose="batch",
            expires_after={"anchor": "created_at", "seconds": 3600},
            extra_body={"purpose": "user_data", "expires_after": {"seconds": 7200}, "tags": ["a", "b"], "x": False},
        ),
    )
    (request,) = recorder.requests
    sent = [(part.name, part.data) for part in multipart(request)]
    assert sent[0][0] == "file"
    assert sent[1:] == [
        ("purpose", b"user_data"),
        ("expires_after[seconds]", b"7200"),
        ("tags[]", b"a"),
        ("tags[]", b"b"),
        ("x", b"false"),
    ]


def test_extra_query_wins_over_the_methods_parameters_and_none_removes_one(run: Run) -> None:
    recorder = Recorder(routes)
    run(recorder, lambda c: c.batches.list(limit=5, after="b0", extra_query={"limit": 7, "after": None}))
    assert recorder.queries() == [{"limit": "7"}]


def test_none_in_a_list_value_of_extra_query_is_left_out(run: Run) -> None:
    recorder = Recorder(routes)
    run(recorder, lambda c: c.batches.list(extra_query={"include": ["a", None, "b"], "gone": [None]}))
    (request,) = recorder.requests
    assert request.url.params.multi_items() == [("include", "a"), ("include", "b")]


def test_later_pages_keep_extra_query_but_follow_the_cursor() -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after") == "b2":
            return json_response(200, list_body(["b3"], has_more=False))
        return json_response(200, list_body(["b1", "b2"], has_more=True))

    recorder = Recorder(pages)
    with sync_client(recorder) as client:
        ids = [b.id for b in client.batches.list(extra_query={"after": "start", "tag": "x"})]
    assert ids == ["b1", "b2", "b3"]
    assert recorder.queries() == [{"after": "start", "tag": "x"}, {"after": "b2", "tag": "x"}]


@pytest.mark.parametrize(
    ("options", "param", "text"),
    [
        ({"extra_query": ["a"]}, "extra_query", "mapping"),
        ({"extra_query": {"a": object()}}, "extra_query", "'a'"),
        ({"extra_query": {"": "x"}}, "extra_query", "non-empty"),
        ({"extra_body": "text"}, "extra_body", "mapping"),
        ({"extra_body": {"a": math.nan}}, "extra_body", "JSON"),
        ({"extra_body": {"a": object()}}, "extra_body", "JSON"),
        ({"extra_body": {"a": "\ud800"}}, "extra_body", "JSON"),
        ({"extra_body": {1: "a"}}, "extra_body", "strings"),
    ],
)
def test_bad_extras_are_refused_before_sending(run: Run, options: dict[str, Any], param: str, text: str) -> None:
    recorder = Recorder(routes)
    with pytest.raises(InvalidParameterError) as caught:
        run(recorder, lambda c: c.batches.cancel("b1", **options))
    assert caught.value.param == param and text in str(caught.value)
    assert recorder.count == 0


@pytest.mark.parametrize("call", sorted(GETS))
def test_extra_body_on_a_get_is_refused(run: Run, call: str) -> None:
    recorder = Recorder(routes)
    with pytest.raises(InvalidParameterError, match="extra_query") as caught:
        run(recorder, lambda c: CALLS[call](c, extra_body={"a": 1}))
    assert caught.value.param == "extra_body" and recorder.count == 0


def test_the_file_itself_cannot_come_from_extra_body(run: Run) -> None:
    with pytest.raises(InvalidParameterError, match="file="):
        run(Recorder(routes), lambda c: c.files.create(file=b"abc", extra_body={"file": "x"}))


def test_empty_extras_change_nothing(run: Run) -> None:
    plain, extras = Recorder(routes), Recorder(routes)
    run(plain, lambda c: c.batches.create(input_file_id="f", endpoint="/v1/embeddings", idempotency_key="k"))
    run(
        extras,
        lambda c: c.batches.create(
            input_file_id="f", endpoint="/v1/embeddings", idempotency_key="k", extra_query={}, extra_body={}
        ),
    )
    assert plain.only.url == extras.only.url and plain.only.content == extras.only.content


# ---------------------------------------------------------------------------------------------------- default_query


def test_default_query_goes_on_every_request_and_a_calls_own_wins(run: Run) -> None:
    recorder = Recorder(routes)
    run(recorder, lambda c: c.batches.retrieve("b1"), default_query={"api-version": "2024", "tag": "d"})
    run(recorder, lambda c: c.batches.list(limit=3, extra_query={"tag": "call"}), default_query={"tag": "d"})
    assert recorder.queries() == [{"api-version": "2024", "tag": "d"}, {"tag": "call", "limit": "3"}]


def test_default_query_joins_the_base_urls_own_query_on_every_call() -> None:
    recorder = Recorder(routes)
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    with BatchClient(
        api_key="sk", base_url=f"{BASE_URL}?api-version=1", default_query={"team": "x"}, http_client=http
    ) as client:
        client.batches.retrieve("b1")
        client.batches.list()
        client.batches.list(limit=2, extra_query={"team": "y"})
    assert [str(r.url) for r in recorder.requests] == [
        f"{BASE_URL}/batches/b1?api-version=1&team=x",
        f"{BASE_URL}/batches?api-version=1&team=x",
        f"{BASE_URL}/batches?api-version=1&team=y&limit=2",
    ]


def test_with_options_and_copy_merge_or_replace_the_default_query_and_headers() -> None:
    recorder = Recorder(routes)
    with sync_client(recorder, default_query={"a": "1"}, default_headers={"X-A": "1"}) as client:
        merged = client.with_options(default_query={"b": "2"}, default_headers={"X-B": "2"})
        replaced = client.copy(set_default_query={"c": "3"}, set_default_headers={"X-C": "3"})
        assert merged.default_query == {"a": "1", "b": "2"} and client.default_query == {"a": "1"}
        merged.batches.retrieve("b1")
        replaced.batches.retrieve("b1")
    first, second = recorder.requests
    assert dict(first.url.params) == {"a": "1", "b": "2"} and first.headers["x-a"] == "1"
    assert first.headers["x-b"] == "2"
    assert dict(second.url.params) == {"c": "3"} and "x-a" not in second.headers and second.headers["x-c"] == "3"


def test_merge_and_replace_together_are_refused() -> None:
    client = BatchClient(api_key="sk")
    with pytest.raises(InvalidParameterError) as caught:
        client.copy(default_query={"a": "1"}, set_default_query={"b": "2"})
    assert caught.value.param == "set_default_query"
    with pytest.raises(InvalidParameterError) as caught:
        BatchClient(api_key="sk", default_query={"a": {"nested": 1}})  # type: ignore[dict-item]
    assert caught.value.param == "default_query"


# ---------------------------------------------------------------------------------------------------- client surface


@pytest.mark.parametrize("client_class", [BatchClient, AsyncBatchClient])
def test_api_key_copy_and_is_closed_match_the_sdk(client_class: type[Any]) -> None:
    client = client_class(api_key=API_KEY, base_url=BASE_URL)
    assert client.api_key == API_KEY
    with pytest.raises(AttributeError):
        client.api_key = "other"
    assert API_KEY not in repr(client)
    copied = client.copy(api_key="sk-other", max_retries=0)
    assert isinstance(copied, client_class)
    assert (copied.api_key, copied.max_retries, copied.base_url) == ("sk-other", 0, client.base_url)
    assert type(client).copy is type(client).with_options
    assert client.is_closed() is False
    if client_class is BatchClient:
        client.close()
    else:
        asyncio.run(client.close())
    assert client.is_closed() is True and copied.is_closed() is True  # the copy shares the pool


def test_copy_with_its_own_http_client_leaves_the_pool_alone() -> None:
    client = BatchClient(api_key="sk")
    own = httpx.Client()
    copied = client.copy(http_client=own)
    client.close()
    assert not copied.is_closed()
    own.close()
    assert copied.is_closed()


def test_a_pool_is_closed_once_its_client_and_every_copy_are_gone() -> None:
    client = BatchClient(api_key="sk")
    http = client._http
    copy = client.with_options(max_retries=0)
    del client
    gc.collect()
    assert not http.is_closed  # the copy still uses it
    del copy
    gc.collect()
    assert http.is_closed  # no socket left for its finalizer to warn about


def test_an_async_pool_is_closed_once_its_client_is_gone() -> None:
    async def main() -> httpx.AsyncClient:
        client = AsyncBatchClient(api_key="sk")
        http = client._http
        del client
        gc.collect()
        await asyncio.sleep(0)  # the close runs on the loop
        return http

    assert asyncio.run(main()).is_closed


def test_a_supplied_http_client_outlives_the_clients_that_used_it() -> None:
    own = httpx.Client()
    client = BatchClient(api_key="sk", http_client=own)
    del client
    gc.collect()
    assert not own.is_closed
    own.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_extra_headers_differing_only_in_case_are_all_sent_as_httpx_sends_them(mode: str) -> None:
    recorder = Recorder(routes)
    headers = {"X-Trace": "a", "x-trace": "b", "User-Agent": "mine"}
    if mode == "sync":
        with sync_client(recorder) as client:
            client.batches.retrieve("batch_abc123", extra_headers=headers)
    else:

        async def go() -> None:
            async with async_client(recorder) as client:
                await client.batches.retrieve("batch_abc123", extra_headers=headers)

        asyncio.run(go())
    bare = httpx.Client(headers={"User-Agent": "library"}).build_request("GET", BASE_URL, headers=headers)
    sent = recorder.requests[0].headers
    for name in ("x-trace", "user-agent"):
        assert [v for k, v in sent.raw if k.lower() == name.encode()] == [
            v for k, v in bare.headers.raw if k.lower() == name.encode()
        ]
    assert sent.get_list("x-trace") == ["a", "b"]
