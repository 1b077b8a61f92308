"""What the official SDK 3.x takes, taken here: httpx2 timeouts, URLs and clients, api_key callables, its other
constructor keywords, `DefaultHttpxClient`, and the SDK response's reading methods on file content.

Requests are checked on the wire through mock transports (httpx's, or httpx2's behind an httpx2 client); the module
ends with the library imported and used in a subprocess where httpx2 cannot be imported at all.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL, Chunks, batch, file_body, json_response, list_body
from openai_batches import (
    DEFAULT_TIMEOUT,
    APIConnectionError,
    APIKeyProviderError,
    APITimeoutError,
    AsyncBatchClient,
    BatchClient,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    InvalidParameterError,
    OpenAIBatchesError,
    RetryPolicy,
)
from openai_batches._config import coerce_timeout

httpx2 = pytest.importorskip("httpx2")

MODES = ("sync", "async")
NO_SLEEP = RetryPolicy(sleep=lambda s: None, async_sleep=lambda s: asyncio.sleep(0), random=lambda: 0.0)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def httpx_client(mode: str, handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    if mode == "sync":
        return httpx.Client(transport=httpx.MockTransport(handler))

    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(async_handler))


def httpx2_client(mode: str, handler: Callable[[Any], Any], **options: Any) -> Any:
    if mode == "sync":
        return httpx2.Client(transport=httpx2.MockTransport(handler), **options)

    async def async_handler(request: Any) -> Any:
        return handler(request)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(async_handler), **options)


def make(mode: str, **options: Any) -> Any:
    settings: dict[str, Any] = {"api_key": API_KEY, "base_url": BASE_URL, "max_retries": 0, **options}
    return BatchClient(**settings) if mode == "sync" else AsyncBatchClient(**settings)


def run(mode: str, operation: Callable[[Any], Any], client: Any) -> Any:
    if mode == "sync":
        return operation(client)

    async def main() -> Any:
        return await operation(client)

    return asyncio.run(main())


class Seen:
    """A handler for either library's mock transport: records each request, answers with a batch (or `respond`)."""

    def __init__(self, module: Any = httpx, respond: Callable[[Any], Any] | None = None) -> None:
        self.module = module
        self.requests: list[Any] = []
        self.respond = respond

    def __call__(self, request: Any) -> Any:
        request.read()
        self.requests.append(request)
        if self.respond is not None:
            return self.respond(request)
        return self.module.Response(200, json=batch())


# ---------------------------------------------------------------------------------------------------- timeouts


def test_an_httpx2_timeout_becomes_the_same_httpx_timeout() -> None:
    given = httpx2.Timeout(5.0, connect=1.5, pool=None)
    assert coerce_timeout(given) == httpx.Timeout(5.0, connect=1.5, pool=None)
    assert coerce_timeout(httpx2.Timeout(None)) == httpx.Timeout(None)


@pytest.mark.parametrize("bad", [httpx2.Timeout(-1.0), httpx2.Timeout(5.0, read=float("nan")), "5", True])
def test_a_bad_timeout_names_every_accepted_form(bad: object) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        coerce_timeout(bad)  # type: ignore[arg-type]
    assert caught.value.param == "timeout"
    assert "an httpx.Timeout, an httpx2.Timeout or None" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_httpx2_timeouts_reach_the_wire_from_every_place_one_is_taken(mode: str) -> None:
    seen = Seen()
    client = make(mode, http_client=httpx_client(mode, seen), timeout=httpx2.Timeout(20.0, connect=2.0))
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    run(mode, lambda c: c.batches.retrieve("batch_abc123", timeout=httpx2.Timeout(3.0)), client)
    copy = client.with_options(timeout=httpx2.Timeout(7.0, read=9.0))
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), copy)
    assert [r.extensions["timeout"] for r in seen.requests] == [
        {"connect": 2.0, "read": 20.0, "write": 20.0, "pool": 20.0},
        {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0},
        {"connect": 7.0, "read": 9.0, "write": 7.0, "pool": 7.0},
    ]
    assert client.timeout == httpx.Timeout(20.0, connect=2.0)


@pytest.mark.parametrize("mode", MODES)
def test_an_httpx2_url_is_a_base_url(mode: str) -> None:
    seen = Seen()
    client = make(mode, http_client=httpx_client(mode, seen), base_url=httpx2.URL("https://gw.example.test/v1/?v=2"))
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert str(seen.requests[0].url) == "https://gw.example.test/v1/batches/batch_abc123?v=2"
    assert isinstance(client.base_url, httpx.URL)
    with pytest.raises(InvalidParameterError, match="base_url"):
        make(mode, base_url=httpx2.URL("ftp://example.test/"))


# ---------------------------------------------------------------------------------------------------- api_key callables


@pytest.mark.parametrize("mode", MODES)
def test_a_key_callable_is_asked_for_every_request_and_every_retry(mode: str) -> None:
    tokens = iter(f"sk-token-{n}" for n in range(100))
    answers = iter([503, 200, 200])
    seen = Seen(respond=lambda request: json_response(next(answers), batch()))
    client = make(
        mode, api_key=lambda: next(tokens), http_client=httpx_client(mode, seen), max_retries=2, retry_policy=NO_SLEEP
    )
    assert client.api_key == ""  # as the SDK's, before the callable was first asked
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    run(mode, lambda c: c.batches.cancel("batch_abc123"), client)
    assert [r.headers["authorization"] for r in seen.requests] == [
        "Bearer sk-token-0",
        "Bearer sk-token-1",
        "Bearer sk-token-2",
    ]
    assert client.api_key == "sk-token-2"


def test_the_async_client_awaits_an_async_key_callable() -> None:
    calls = 0

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return f"sk-async-{calls}"

    seen = Seen()
    client = make("async", api_key=fetch, http_client=httpx_client("async", seen))
    run("async", lambda c: c.batches.retrieve("batch_abc123"), client)
    run("async", lambda c: c.batches.retrieve("batch_abc123"), client)
    assert [r.headers["authorization"] for r in seen.requests] == ["Bearer sk-async-1", "Bearer sk-async-2"]


def test_the_sync_client_refuses_an_async_key_callable_without_sending() -> None:
    async def fetch() -> str:
        return "sk-never"

    seen = Seen()
    client = make("sync", api_key=fetch, http_client=httpx_client("sync", seen))
    with pytest.raises(APIKeyProviderError, match="async callable needs AsyncBatchClient"):
        client.batches.retrieve("batch_abc123")
    assert seen.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (None, "The api_key callable returned NoneType, not a string key."),
        (123, "The api_key callable returned int, not a string key."),
        ("", "The api_key callable returned an empty string, not a key."),
        ("sk-line\nbreak", "cannot travel in a header"),
        (" sk-padded", "cannot travel in a header"),
    ],
)
def test_a_key_callable_returning_no_usable_key_is_refused_before_sending(
    returned: object, message: str, mode: str
) -> None:
    seen = Seen()
    client = make(mode, api_key=lambda: returned, http_client=httpx_client(mode, seen))
    with pytest.raises(APIKeyProviderError) as caught:
        run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert message in str(caught.value)
    assert seen.requests == []
    if isinstance(returned, str) and returned:
        assert returned not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_key_callable_that_raises_gives_the_library_error_naming_why(mode: str) -> None:
    def broken() -> str:
        raise ConnectionRefusedError("token service is down")

    seen = Seen()
    client = make(mode, api_key=broken, http_client=httpx_client(mode, seen), max_retries=3)
    with pytest.raises(APIKeyProviderError) as caught:
        run(mode, lambda c: c.batches.list(), client)
    assert str(caught.value) == "The api_key callable raised ConnectionRefusedError: token service is down"
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert seen.requests == []  # not retried: the request never left


@pytest.mark.parametrize("mode", MODES)
def test_an_authorization_header_of_the_callers_own_means_the_callable_is_not_asked(mode: str) -> None:
    calls: list[int] = []
    seen = Seen()
    client = make(mode, api_key=lambda: calls.append(1) or "sk-x", http_client=httpx_client(mode, seen))
    run(mode, lambda c: c.batches.retrieve("batch_abc123", extra_headers={"Authorization": "Bearer gw"}), client)
    assert calls == [] and seen.requests[0].headers["authorization"] == "Bearer gw"


@pytest.mark.parametrize("mode", MODES)
def test_a_key_callable_carries_over_to_copies(mode: str) -> None:
    seen = Seen()
    client = make(mode, api_key=lambda: "sk-from-callable", http_client=httpx_client(mode, seen))
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client.with_options(max_retries=1))
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client.copy(api_key="sk-plain"))
    assert [r.headers["authorization"] for r in seen.requests] == ["Bearer sk-from-callable", "Bearer sk-plain"]


def test_a_key_that_is_neither_a_string_nor_callable_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="expected a string or a callable that returns one, got int"):
        BatchClient(api_key=42)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [int, str, bytes])
def test_a_class_given_as_the_key_is_refused_when_made_not_on_every_request(cls: type) -> None:
    # A class is callable, but what it returns when called is no key.
    with pytest.raises(InvalidParameterError, match=f"got the class {cls.__name__}"):
        BatchClient(api_key=cls)  # type: ignore[arg-type]
    client = BatchClient(api_key="sk-plain")
    with pytest.raises(InvalidParameterError, match=f"got the class {cls.__name__}"):
        client.with_options(api_key=cls)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=f"got the class {cls.__name__}"):
        AsyncBatchClient(api_key=cls)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------- httpx2 clients


@pytest.mark.parametrize("mode", MODES)
def test_an_httpx2_client_sends_every_request_with_its_own_hooks_and_headers(mode: str) -> None:
    seen = Seen(httpx2)
    hooked: list[str] = []
    if mode == "sync":
        hooks: dict[str, list[Any]] = {"request": [lambda r: hooked.append(f"{r.method} {r.url.path}")]}
    else:

        async def hook(r: Any) -> None:
            hooked.append(f"{r.method} {r.url.path}")

        hooks = {"request": [hook]}
    given = httpx2_client(mode, seen, headers={"X-Mine": "1"}, event_hooks=hooks, timeout=httpx2.Timeout(11.0))
    client = make(mode, http_client=given)
    got = run(mode, lambda c: c.batches.retrieve("batch_abc123", timeout=4.0), client)
    assert got.id == "batch_abc123"
    (request,) = seen.requests
    assert isinstance(request, httpx2.Request)
    assert str(request.url) == f"{BASE_URL}/batches/batch_abc123"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["x-mine"] == "1"
    assert request.headers["user-agent"].startswith("openai-batches/")
    assert request.extensions["timeout"] == {"connect": 4.0, "read": 4.0, "write": 4.0, "pool": 4.0}
    assert hooked == ["GET /v1/batches/batch_abc123"]
    # Its own timeout is the client's default, as for an httpx client given as http_client.
    assert client.timeout == httpx.Timeout(11.0)


@pytest.mark.parametrize("mode", MODES)
def test_an_upload_through_an_httpx2_client_arrives_whole(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b'{"custom_id": "a"}\n' * 5000)
    seen = Seen(httpx2, respond=lambda r: httpx2.Response(200, json=file_body()))
    client = make(mode, http_client=httpx2_client(mode, seen))
    run(mode, lambda c: c.files.create(file=path, purpose="batch"), client)
    (request,) = seen.requests
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(request.headers["content-length"]) == len(request.content)
    assert path.read_bytes() in request.content


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("failure", "expected"), [("ConnectError", APIConnectionError), ("ReadTimeout", APITimeoutError)]
)
def test_httpx2_transport_failures_are_retried_and_raised_as_the_library_errors(
    failure: str, expected: type, mode: str
) -> None:
    def fail(request: Any) -> Any:
        raise getattr(httpx2, failure)("down", request=request)

    seen = Seen(httpx2, respond=fail)
    client = make(mode, http_client=httpx2_client(mode, seen), max_retries=2, retry_policy=NO_SLEEP)
    with pytest.raises(expected) as caught:
        run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert type(caught.value) is expected and caught.value.attempts == 3 == len(seen.requests)


@pytest.mark.parametrize("mode", MODES)
def test_a_status_error_through_an_httpx2_client_is_the_library_error(mode: str) -> None:
    seen = Seen(httpx2, respond=lambda r: httpx2.Response(404, json={"error": {"message": "No such batch"}}))
    client = make(mode, http_client=httpx2_client(mode, seen))
    with pytest.raises(OpenAIBatchesError, match="No such batch") as caught:
        run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert caught.value.status_code == 404  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_an_httpx2_client_is_left_open_and_its_closing_is_seen(mode: str) -> None:
    given = httpx2_client(mode, Seen(httpx2))
    client = make(mode, http_client=given)
    run(mode, lambda c: c.close(), client)
    assert not given.is_closed and not client.is_closed()
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    if mode == "sync":
        given.close()
    else:
        asyncio.run(given.aclose())
    assert client.is_closed() and client.with_options(max_retries=1).is_closed()
    with pytest.raises(OpenAIBatchesError, match="httpx2 client given as http_client has been closed"):
        run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)


@pytest.mark.parametrize("mode", MODES)
def test_a_download_through_an_httpx2_client_streams_raw_and_decoded_bytes(mode: str) -> None:
    body = b"".join(json.dumps({"custom_id": f"q-{i}"}).encode() + b"\n" for i in range(200))
    packed = gzip.compress(body)
    seen = Seen(
        httpx2,
        respond=lambda r: httpx2.Response(
            200, content=packed, headers={"content-encoding": "gzip", "content-type": "application/jsonl"}
        ),
    )
    client = make(mode, http_client=httpx2_client(mode, seen))
    if mode == "sync":
        assert b"".join(client.files.content("file-1").iter_raw()) == packed
        assert b"".join(client.files.content("file-1").iter_bytes()) == body
        return

    async def main() -> None:
        async with client.files.content("file-1") as content:
            assert b"".join([chunk async for chunk in content.iter_raw()]) == packed
        assert (await client.files.content("file-1")).content == body

    asyncio.run(main())


@pytest.mark.parametrize(
    ("mode", "given", "message"),
    [
        ("sync", lambda: httpx2.AsyncClient(), "got AsyncClient; an async client goes to AsyncBatchClient"),
        ("sync", lambda: httpx.AsyncClient(), "got AsyncClient; an async client goes to AsyncBatchClient"),
        ("sync", lambda: "http://proxy", "expected an httpx.Client, an httpx2.Client or openai_batches."),
        ("async", lambda: httpx2.Client(), "got Client; a sync client goes to BatchClient"),
        ("async", lambda: object(), "expected an httpx.AsyncClient, an httpx2.AsyncClient or openai_batches."),
    ],
)
def test_an_http_client_that_cannot_be_used_says_what_to_pass(mode: str, given: Any, message: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        make(mode, http_client=given())
    assert caught.value.param == "http_client" and message in str(caught.value)


# ---------------------------------------------------------------------------------------------- DefaultHttpxClient


def test_default_httpx_clients_are_httpx_clients_with_the_library_timeout() -> None:
    with DefaultHttpxClient() as http:
        assert isinstance(http, httpx.Client) and http.timeout == DEFAULT_TIMEOUT
    assert DefaultHttpxClient(timeout=httpx2.Timeout(3.0)).timeout == httpx.Timeout(3.0)
    assert isinstance(DefaultAsyncHttpxClient(), httpx.AsyncClient)
    with pytest.raises(InvalidParameterError, match=r"httpx2\.Client\(transport=\.\.\.\)"):
        DefaultHttpxClient(transport=httpx2.HTTPTransport())


@pytest.mark.parametrize("mode", MODES)
def test_a_default_httpx_client_is_used_as_given(mode: str) -> None:
    seen = Seen()
    if mode == "sync":
        http: Any = DefaultHttpxClient(transport=httpx.MockTransport(seen))
    else:

        async def handler(request: httpx.Request) -> httpx.Response:
            return seen(request)

        http = DefaultAsyncHttpxClient(transport=httpx.MockTransport(handler))
    client = make(mode, http_client=http)
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert len(seen.requests) == 1 and client.timeout == DEFAULT_TIMEOUT


def test_default_httpx2_clients_carry_the_library_timeout() -> None:
    import openai_batches

    http = openai_batches.DefaultHttpx2Client()
    assert isinstance(http, httpx2.Client) and http.timeout == httpx2.Timeout(60.0, connect=5.0)
    assert isinstance(openai_batches.DefaultAsyncHttpx2Client(), httpx2.AsyncClient)


# ---------------------------------------------------------------------------------------------------- SDK keywords


@pytest.mark.parametrize("mode", MODES)
def test_sdk_keywords_with_no_bearing_on_batch_calls_are_accepted(mode: str) -> None:
    seen = Seen()
    client = make(
        mode,
        http_client=httpx_client(mode, seen),
        admin_api_key="sk-admin-unused",
        webhook_secret="whsec_unused",
        websocket_base_url=httpx2.URL("wss://example.test/v1"),
        _strict_response_validation=True,
        _enforce_credentials=True,
    )
    run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    request = seen.requests[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert "sk-admin-unused" not in repr(client) + str(request.headers) + repr(client._options)


@pytest.mark.parametrize("mode", MODES)
def test_data_residency_chooses_the_regional_endpoint(mode: str) -> None:
    client = make(mode, base_url=None, data_residency="eu")
    assert str(client.base_url) == "https://eu.api.openai.com/v1"
    assert str(client.with_options(data_residency="jp").base_url) == "https://jp.api.openai.com/v1"
    with pytest.raises(InvalidParameterError, match="give data_residency or base_url, not both"):
        make(mode, data_residency="eu")
    with pytest.raises(InvalidParameterError, match="expected one of 'global', 'us', 'eu'"):
        make(mode, base_url=None, data_residency="mars")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("keyword", "value", "hint"),
    [
        ("workload_identity", object(), "pass api_key= a callable"),
        ("provider", object(), "point base_url= at the provider's"),
        ("_enforce_credentials", False, "always needs a key"),
    ],
)
def test_sdk_keywords_that_cannot_be_honoured_are_refused_by_name(
    mode: str, keyword: str, value: Any, hint: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        make(mode, **{keyword: value})
    assert caught.value.param == keyword and hint in str(caught.value)
    with pytest.raises(InvalidParameterError, match=keyword):
        make(mode).with_options(**{keyword: value})


def test_a_keyword_the_sdk_does_not_have_either_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no_such_setting"):
        BatchClient(api_key=API_KEY, no_such_setting=1)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------------------------------- file content


def _content_handler(body: bytes, content_type: str) -> Callable[[httpx.Request], httpx.Response]:
    # Streamed in pieces, as from a socket (a body given whole is read before the client sees it).
    pieces = [body[i : i + 4] for i in range(0, len(body), 4)]
    return lambda request: httpx.Response(200, stream=Chunks(pieces), headers={"content-type": content_type})


@pytest.mark.parametrize("mode", MODES)
def test_file_content_has_the_sdk_responses_reading_methods(mode: str) -> None:
    body = json.dumps({"name": "été"}).encode("latin-1")
    client = make(mode, http_client=httpx_client(mode, _content_handler(body, "application/json; charset=latin-1")))
    if mode == "sync":
        content = client.files.content("file-1")
        assert (content.encoding, content.charset_encoding) == ("latin-1", "latin-1")
        assert content.json() == {"name": "été"} and content.json(parse_int=str) == {"name": "été"}
        assert next(client.files.content("file-1").iter_raw(4)) == body[:4]
        return

    async def main() -> None:
        content = await client.files.content("file-1")
        assert (content.encoding, content.charset_encoding) == ("latin-1", "latin-1")
        assert content.json() == {"name": "été"}
        assert b"".join(content.iter_raw()) == body  # in memory and uncompressed: the raw bytes are the body
        assert b"".join([chunk async for chunk in content.iter_raw()]) == body
        async with client.files.content("file-1") as streamed:
            assert b"".join([chunk async for chunk in streamed.aiter_raw(4)]) == body

    asyncio.run(main())


def test_file_content_without_a_charset_reads_as_utf8_and_streams_raw_chunks_lazily() -> None:
    chunks = [b'{"a": ', b"1}", b"\n"]
    produced: list[bytes] = []

    def stream() -> Any:
        for chunk in chunks:
            produced.append(chunk)
            yield chunk

    client = make("sync", http_client=httpx_client("sync", lambda r: httpx.Response(200, content=stream())))
    content = client.files.content("file-1")
    assert (content.encoding, content.charset_encoding) == ("utf-8", None)
    raw = content.iter_raw()
    assert next(raw) == chunks[0] and produced == chunks[:1]  # one chunk read, the rest still on the wire
    assert list(raw) == chunks[1:]


def test_reading_raw_bytes_after_the_body_was_read_is_the_library_error() -> None:
    client = make("sync", http_client=httpx_client("sync", _content_handler(b"x", "text/plain")))
    content = client.files.content("file-1")
    content.read()
    with pytest.raises(OpenAIBatchesError, match="Cannot read the body"):
        list(content.iter_raw())


def test_list_through_an_httpx2_client_walks_every_page() -> None:
    pages = iter([list_body(["batch_1", "batch_2"], has_more=True), list_body(["batch_3"], has_more=False)])
    client = make("sync", http_client=httpx2_client("sync", lambda r: httpx2.Response(200, json=next(pages))))
    assert [b.id for b in client.batches.list(limit=2)] == ["batch_1", "batch_2", "batch_3"]


# ---------------------------------------------------------------------------------------------------- without httpx2

_WITHOUT_HTTPX2 = textwrap.dedent(
    """
    import sys
    sys.modules["httpx2"] = None  # what an environment without the extra sees: the import fails
    try:
        import httpx2
    except ImportError:
        pass
    else:
        raise AssertionError("httpx2 is importable")

    import asyncio
    import openai_batches
    from openai_batches import AsyncBatchClient, BatchClient

    with BatchClient(timeout=5.0) as client:
        uploaded = client.files.create(file=("a.jsonl", b'{"a": 1}\\n'), purpose="batch")
        content = client.files.content(uploaded.id)
        assert content.json() == {"a": 1} and content.encoding == "utf-8"
        assert client.batches.list().data == []
    with BatchClient(api_key=lambda: "sk-no-httpx2", http_client=openai_batches.DefaultHttpxClient()) as client:
        assert client.files.retrieve(uploaded.id).id == uploaded.id

    async def main():
        async with AsyncBatchClient() as client:
            assert (await client.files.content(uploaded.id)).json() == {"a": 1}

    asyncio.run(main())
    try:
        openai_batches.DefaultHttpx2Client()
    except ImportError as exc:
        assert "pip install '.[httpx2]' from the openai-batches repository folder" in str(exc), exc
    else:
        raise AssertionError("DefaultHttpx2Client worked without httpx2")
    try:
        BatchClient(http_client="not a client")
    except openai_batches.InvalidParameterError as exc:
        assert "expected an httpx.Client" in str(exc)
    print("ok")
    """
)

_HTTPX2_NEVER_IMPORTED = textwrap.dedent(
    """
    import sys
    from openai_batches import BatchClient

    with BatchClient(timeout=5.0) as client:
        client.batches.list()
        client.files.list()
    assert "httpx2" not in sys.modules, "the library imported httpx2 by itself"
    print("ok")
    """
)


@pytest.mark.parametrize("script", [_WITHOUT_HTTPX2, _HTTPX2_NEVER_IMPORTED], ids=["blocked", "installed-unused"])
def test_the_library_works_without_httpx2(script: str, tmp_path: Path) -> None:
    from openai_batches_server import run_server

    with run_server(tmp_path / "data", api_keys=["sk-no-httpx2"], tick=0) as server:
        env = {**os.environ, "OPENAI_API_KEY": "sk-no-httpx2", "OPENAI_BASE_URL": server.base_url}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("mode", MODES)
def test_a_callable_that_returns_no_key_fails_each_call_naming_why_and_sends_nothing(mode: str) -> None:
    # `print` is a callable like any other: what it returns (None) is only known when it is asked for the key.
    seen = Seen(httpx)
    client = make(mode, api_key=lambda: None, http_client=httpx_client(mode, seen))
    with pytest.raises(APIKeyProviderError, match="The api_key callable returned NoneType, not a string key"):
        run(mode, lambda c: c.batches.retrieve("batch_abc123"), client)
    assert seen.requests == []
