"""The API key never leaves the client except in the Authorization header to the configured host.

It must not show in `repr()`/`str()` of clients (and their `with_options` copies), in any error's text, `repr`,
formatted traceback (chained causes included) or `.body`, in any record of the `openai_batches` logger, nor travel to
another host through a redirect. Servers here are hostile: they echo the key in JSON error messages, HTML pages,
plain text and escaped JSON, and they redirect to other hosts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socketserver
import threading
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx
import pytest
from helpers import batch, json_response, list_body
from openai_batches import (
    APIConnectionError,
    APIError,
    APIKeyProviderError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBatchClient,
    AuthenticationError,
    BatchClient,
    InternalServerError,
    InvalidParameterError,
    MissingAPIKeyError,
    OpenAIBatchesError,
    PaginationError,
    RateLimitError,
    RetryPolicy,
)

SECRET = "sk-proj-SECRET-9f8e7d"
# What must never show up: the key's distinctive part, so a key cut or re-prefixed on the way is caught too.
NEEDLE = SECRET.removeprefix("sk-proj-")
OTHER_KEY = "sk-proj-OTHER-1a2b3c"
API_HOST = "api.example.test"
BASE_URL = f"https://{API_HOST}/v1"
EVIL_HOST = "evil.test"
MODES = ("sync", "async")

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------------------------------------------- harness


class Hosts:
    """A MockTransport handler that records every request per host and answers with that host's handler."""

    def __init__(self, **routes: Handler) -> None:
        self.routes = {host.replace("_", "."): handler for host, handler in routes.items()}
        self.seen: dict[str, list[httpx.Request]] = defaultdict(list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen[request.url.host].append(request)
        route = self.routes.get(request.url.host)
        return route(request) if route is not None else json_response(200, batch())

    def count(self, host: str) -> int:
        return len(self.seen.get(host, []))


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep, random=lambda: 0.0)


def make_client(mode: str, handler: Handler, *, follow_redirects: bool = False, **options: Any) -> Any:
    settings: dict[str, Any] = {"api_key": SECRET, "base_url": BASE_URL, "max_retries": 0}
    settings.update(options)
    if mode == "sync":
        return BatchClient(
            http_client=httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=follow_redirects),
            **settings,
        )

    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return AsyncBatchClient(
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(async_handler), follow_redirects=follow_redirects),
        **settings,
    )


def call(mode: str, client: Any, op: str = "retrieve") -> Any:
    """Run one operation; `list` returns the first page."""

    def sync() -> Any:
        if op == "create":
            return client.batches.create(input_file_id="file-abc123", endpoint="/v1/chat/completions")
        if op == "list":
            return client.batches.list()
        return getattr(client.batches, op)("batch_abc123")

    async def main() -> Any:
        if op == "create":
            return await client.batches.create(input_file_id="file-abc123", endpoint="/v1/chat/completions")
        if op == "list":
            return await client.batches.list()
        return await getattr(client.batches, op)("batch_abc123")

    return sync() if mode == "sync" else asyncio.run(main())


def error_texts(error: BaseException) -> dict[str, str]:
    """Every rendering of an error a user may print or log."""
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
    }
    if isinstance(error, APIError):
        texts["message"] = error.message
    return texts


def assert_clean(texts: dict[str, str]) -> None:
    leaks = [where for where, text in texts.items() if NEEDLE in text]
    assert leaks == [], f"the API key shows in: {leaks}"


def raised(mode: str, client: Any, op: str = "retrieve") -> OpenAIBatchesError:
    with pytest.raises(OpenAIBatchesError) as caught:
        call(mode, client, op)
    return caught.value


def log_texts(records: list[logging.LogRecord]) -> dict[str, str]:
    texts = {}
    for index, record in enumerate(records):
        texts[f"record {index} ({record.name})"] = record.getMessage()
        texts[f"record {index} args"] = repr(record.args)
        if record.exc_info:
            texts[f"record {index} exc"] = "".join(traceback.format_exception(*record.exc_info))
    return texts


def library_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "openai_batches" or r.name.startswith("openai_batches.")]


class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1 answering every request with a Batch; it records raw request heads."""

    def __init__(self) -> None:
        body = json.dumps(batch()).encode()
        answer = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_loop\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        )
        heads = self.heads = []

        class Handle(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                lines = []
                while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                    lines.append(line)
                heads.append(b"".join(lines))
                self.wfile.write(answer)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


# ---------------------------------------------------------------------------------------------------- reprs


@pytest.mark.parametrize("mode", MODES)
def test_client_repr_and_str_never_show_the_key(mode: str) -> None:
    client = make_client(mode, Hosts())
    copies = {
        "client": client,
        "with_options()": client.with_options(),
        "with_options(max_retries=5)": client.with_options(max_retries=5),
        "with_options(api_key=other)": client.with_options(api_key=OTHER_KEY),
    }
    for name, each in copies.items():
        texts = {f"{name} repr": repr(each), f"{name} str": str(each), f"{name} vars": repr(vars(each))}
        assert_clean(texts)
        assert API_HOST in repr(each)  # the repr still says which endpoint the client talks to
    assert "OTHER-1a2b3c" not in repr(vars(copies["with_options(api_key=other)"]))


def test_key_from_the_environment_stays_out_of_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    hosts = Hosts()
    client = BatchClient(base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(hosts)))
    assert_clean({"repr": repr(client), "vars": repr(vars(client))})
    client.batches.retrieve("batch_abc123")
    assert hosts.seen[API_HOST][0].headers["authorization"] == f"Bearer {SECRET}"  # it is the key in use


# ---------------------------------------------------------------------------------------------------- status errors

ECHO_MESSAGE = "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com."


def _json_echo(status: int) -> httpx.Response:
    return json_response(status, {"error": {"message": ECHO_MESSAGE.format(key=SECRET), "type": "invalid_request"}})


def _json_fields_echo(status: int) -> httpx.Response:
    body = {
        "error": {"message": f"bad key {SECRET}", "type": SECRET, "code": SECRET, "param": SECRET},
        "detail": [SECRET, {"nested": {SECRET: SECRET}}],
    }
    return json_response(status, body)


def _html_echo(status: int) -> httpx.Response:
    page = f"<html><body><h1>Denied</h1><p>Authorization: Bearer {SECRET}</p></body></html>"
    return httpx.Response(status, content=page.encode(), headers={"content-type": "text/html"})


def _text_echo(status: int) -> httpx.Response:
    return httpx.Response(status, content=f"key={SECRET}".encode(), headers={"content-type": "text/plain"})


def _escaped_json_echo(status: int) -> httpx.Response:
    # The key written with JSON escapes: only the decoded body shows it.
    escaped = "".join(f"\\u{ord(char):04x}" for char in SECRET)
    content = f'{{"error": {{"message": "Incorrect API key provided: {escaped}"}}}}'.encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


ECHOES = {
    "json-message": _json_echo,
    "json-every-field": _json_fields_echo,
    "html": _html_echo,
    "plain-text": _text_echo,
    "escaped-json": _escaped_json_echo,
}
KEPT_TEXT = {
    "json-message": "Incorrect API key provided",
    "json-every-field": "bad key",
    "html": "Denied",
    "plain-text": "key=",
    "escaped-json": "Incorrect API key provided",
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("echo", sorted(ECHOES))
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 503, 520])
def test_status_error_never_shows_a_key_the_server_echoes(status: int, echo: str, mode: str) -> None:
    hosts = Hosts(api_example_test=lambda request: ECHOES[echo](status))
    error = raised(mode, make_client(mode, hosts))
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert_clean(error_texts(error))
    assert_clean({"body": json.dumps(error.body, default=str)})
    for field in ("type", "code", "param"):
        assert_clean({field: str(getattr(error, field))})
    assert KEPT_TEXT[echo] in str(error)  # redacted, not thrown away


@pytest.mark.parametrize("mode", MODES)
def test_status_error_after_retries_never_shows_the_key(mode: str) -> None:
    hosts = Hosts(api_example_test=lambda request: _json_echo(500))
    error = raised(mode, make_client(mode, hosts, max_retries=2, retry_policy=Sleeps().policy()))
    assert isinstance(error, InternalServerError)
    assert error.attempts == hosts.count(API_HOST) == 3
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
def test_status_line_echoing_the_key_is_redacted(mode: str) -> None:
    phrase = f"Invalid key {SECRET}".encode()
    hosts = Hosts(api_example_test=lambda request: httpx.Response(401, extensions={"reason_phrase": phrase}))
    error = raised(mode, make_client(mode, hosts))
    assert isinstance(error, AuthenticationError)
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
def test_request_id_echoing_the_key_is_redacted(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    hosts = Hosts(api_example_test=lambda request: json_response(401, {}, {"x-request-id": SECRET}))
    error = raised(mode, make_client(mode, hosts))
    assert_clean(error_texts(error))
    assert_clean(log_texts(library_records(caplog)))


# ---------------------------------------------------------------------------------------------------- connection errors


def _raise(exc_type: type[httpx.HTTPError], text: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(text.format(auth=request.headers["authorization"]), request=request)  # type: ignore[call-arg]

    return handler


TRANSPORT_FAILURES = {
    "connect-error": (httpx.ConnectError, "connection refused", APIConnectionError),
    "read-error": (httpx.ReadError, "connection reset by peer", APIConnectionError),
    "remote-protocol-error": (httpx.RemoteProtocolError, "peer closed connection mid-body", APIConnectionError),
    "connect-timeout": (httpx.ConnectTimeout, "timed out", APITimeoutError),
    "read-timeout": (httpx.ReadTimeout, "timed out", APITimeoutError),
    "write-timeout": (httpx.WriteTimeout, "timed out", APITimeoutError),
    "pool-timeout": (httpx.PoolTimeout, "timed out", APITimeoutError),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("failure", sorted(TRANSPORT_FAILURES))
def test_connection_errors_and_timeouts_never_show_the_key(failure: str, mode: str) -> None:
    exc_type, text, expected = TRANSPORT_FAILURES[failure]
    hosts = Hosts(api_example_test=_raise(exc_type, text))
    error = raised(mode, make_client(mode, hosts, max_retries=1, retry_policy=Sleeps().policy()))
    assert type(error) is expected
    assert error.attempts == hosts.count(API_HOST) == 2
    assert isinstance(error.__cause__, exc_type)  # the cause stays available for debugging
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
def test_transport_text_quoting_the_key_is_redacted_in_the_message(mode: str) -> None:
    hosts = Hosts(api_example_test=_raise(httpx.ConnectError, "proxy refused the request with {auth}"))
    error = raised(mode, make_client(mode, hosts))
    assert isinstance(error, APIConnectionError)
    assert_clean({"str": str(error), "repr": repr(error), "message": error.message})
    assert "proxy refused the request" in str(error)


@pytest.mark.parametrize("mode", MODES)
def test_traceback_of_a_connection_error_does_not_show_a_key_quoted_by_the_transport(mode: str) -> None:
    hosts = Hosts(api_example_test=_raise(httpx.ConnectError, "proxy refused the request with {auth}"))
    error = raised(mode, make_client(mode, hosts))
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("\n", id="newline"),
        pytest.param("\r\n", id="crlf"),
        pytest.param(" ", id="space"),
        pytest.param("\t", id="tab"),
    ],
)
def test_key_pasted_with_trailing_whitespace_never_leaks(
    suffix: str, mode: str, loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A real socket, so that httpx's own HTTP/1.1 layer judges the header."""
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    settings = {"api_key": SECRET + suffix, "base_url": loopback.base_url, "max_retries": 1}
    try:
        client: Any = (BatchClient if mode == "sync" else AsyncBatchClient)(**settings, retry_policy=Sleeps().policy())
    except InvalidParameterError as error:
        assert error.param == "api_key"
        assert_clean(error_texts(error))
        return
    try:
        call(mode, client)
    except OpenAIBatchesError as error:
        assert_clean(error_texts(error))
    assert_clean(log_texts(caplog.records))


# ---------------------------------------------------------------------------------------------------- other errors

BAD_BODIES = {
    "html-page-200": (b"<html><body>Logged in as " + SECRET.encode() + b"</body></html>", "text/html"),
    "key-as-object": (json.dumps(batch(object=SECRET, request_counts=SECRET)).encode(), "application/json"),
    "key-in-missing-id-body": (json.dumps({"echo": SECRET, "object": "batch"}).encode(), "application/json"),
    "array": (json.dumps([SECRET]).encode(), "application/json"),
    "truncated": (json.dumps(batch(model=SECRET)).encode()[:-20], "application/json"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["retrieve", "create", "cancel", "list"])
@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
def test_validation_error_never_shows_the_key(bad: str, op: str, mode: str) -> None:
    content, content_type = BAD_BODIES[bad]
    hosts = Hosts(
        api_example_test=lambda request: httpx.Response(200, content=content, headers={"content-type": content_type})
    )
    error = raised(mode, make_client(mode, hosts), op)
    assert isinstance(error, APIResponseValidationError)
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
def test_validation_error_body_is_redacted_like_a_status_error_body(mode: str) -> None:
    body = json.dumps(batch(request_counts=SECRET)).encode()
    hosts = Hosts(api_example_test=lambda request: httpx.Response(200, content=body))
    error = raised(mode, make_client(mode, hosts))
    assert isinstance(error, APIResponseValidationError)
    assert_clean({"body": json.dumps(error.body, default=str)})


BAD_CALLS: dict[str, dict[str, Any]] = {
    "empty-id": {"batch_id": ""},
    "int-id": {"batch_id": 7},
    "bad-timeout": {"batch_id": "b", "timeout": -1},
    "bad-retries": {"batch_id": "b", "max_retries": -1},
    "bad-extra-headers": {"batch_id": "b", "extra_headers": ["Authorization", SECRET]},
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bad", sorted(BAD_CALLS))
def test_argument_errors_never_show_the_key(bad: str, mode: str) -> None:
    hosts = Hosts()
    client = make_client(mode, hosts)

    async def async_call() -> Any:
        return await client.batches.retrieve(**BAD_CALLS[bad])

    with pytest.raises(InvalidParameterError) as caught:
        if mode == "sync":
            client.batches.retrieve(**BAD_CALLS[bad])
        else:
            asyncio.run(async_call())
    assert_clean(error_texts(caught.value))
    assert hosts.count(API_HOST) == 0


BAD_SETTINGS: dict[str, dict[str, Any]] = {
    "key-as-bytes": {"api_key": SECRET.encode()},
    "key-in-a-list": {"api_key": [SECRET]},
    "key-in-a-dict": {"api_key": {"key": SECRET}},
    "bytes-auth-header": {"default_headers": {"Authorization": b"Bearer " + SECRET.encode()}},
    "bad-base-url": {"base_url": "ftp://example.test"},
    "bad-timeout": {"timeout": "60"},
}


@pytest.mark.parametrize("cls", [BatchClient, AsyncBatchClient])
@pytest.mark.parametrize("bad", sorted(BAD_SETTINGS))
def test_settings_errors_never_show_the_key(bad: str, cls: type) -> None:
    settings: dict[str, Any] = {"api_key": SECRET, "base_url": BASE_URL, **BAD_SETTINGS[bad]}
    with pytest.raises(InvalidParameterError) as caught:
        cls(**settings)
    assert_clean(error_texts(caught.value))


@pytest.mark.parametrize("mode", MODES)
def test_refusing_a_non_ascii_key_never_shows_the_key(mode: str) -> None:
    hosts = Hosts()
    with pytest.raises(InvalidParameterError) as caught:
        make_client(mode, hosts, api_key=SECRET + "\u00e9")
    assert caught.value.param == "api_key"
    assert_clean(error_texts(caught.value))
    assert hosts.count(API_HOST) == 0


@pytest.mark.parametrize("mode", MODES)
def test_missing_key_error_never_shows_the_previous_key(mode: str) -> None:
    client = make_client(mode, Hosts())
    with pytest.raises(MissingAPIKeyError) as caught:
        client.with_options(api_key="")
    assert_clean(error_texts(caught.value))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "pages",
    [
        pytest.param([list_body(["batch_a"], has_more=True)], id="repeated-cursor"),
        pytest.param([list_body([], has_more=True)], id="empty-page-with-more"),
        pytest.param([list_body(["batch_a"], has_more=False)], id="no-next-page"),
    ],
)
def test_pagination_errors_never_show_the_key(pages: list[dict[str, Any]], mode: str) -> None:
    served = iter(pages)
    last = pages[-1]
    hosts = Hosts(api_example_test=lambda request: json_response(200, next(served, last)))
    client = make_client(mode, hosts)

    async def walk_async() -> None:
        page = await client.batches.list()
        while True:
            page = await page.get_next_page()

    with pytest.raises(PaginationError) as caught:
        if mode == "sync":
            page = client.batches.list()
            while True:
                page = page.get_next_page()
        else:
            asyncio.run(walk_async())
    assert_clean(error_texts(caught.value))


# ---------------------------------------------------------------------------------------------------- logs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["retrieve", "create", "cancel", "list"])
def test_debug_log_names_method_url_status_and_request_id_but_not_the_key(
    op: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    body = list_body(["batch_a"], has_more=False) if op == "list" else batch()
    hosts = Hosts(api_example_test=lambda request: json_response(200, body, {"x-request-id": "req_8f7e6d"}))
    call(mode, make_client(mode, hosts), op)
    (request,) = hosts.seen[API_HOST]
    assert request.headers["authorization"] == f"Bearer {SECRET}"  # the key does go where it belongs
    records = library_records(caplog)
    outcome = [
        r
        for r in records
        if r.levelno == logging.DEBUG and str(request.url) in r.getMessage() and "req_8f7e6d" in r.getMessage()
    ]
    assert outcome, [r.getMessage() for r in records]
    message = outcome[0].getMessage()
    assert request.method in message
    assert "200" in message
    # Before it goes out, the request is logged with its attempt and headers, the key's header hidden.
    (sending,) = [r.getMessage() for r in records if r.getMessage().startswith(f"Sending {request.method} ")]
    assert f"{request.url} (attempt 1) headers=" in sending
    assert "'authorization': '<redacted>'" in sending
    assert_clean(log_texts(records))
    for record in records:
        assert f"Bearer {SECRET}" not in record.getMessage()
        if "authorization" in record.getMessage().lower():
            assert re.search(r"authorization['\"]?\s*[:=]\s*['\"]?<redacted>", record.getMessage(), re.IGNORECASE)


@pytest.mark.parametrize("mode", MODES)
def test_retry_logs_name_the_attempt_and_delay_but_not_the_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    answers = iter(
        [
            json_response(429, {"error": {"message": f"slow down, {SECRET}"}}, {"retry-after-ms": "250"}),
            _html_echo(503),
            json_response(200, batch(), {"x-request-id": "req_ok"}),
        ]
    )
    hosts = Hosts(api_example_test=lambda request: next(answers))
    sleeps = Sleeps()
    result = call(mode, make_client(mode, hosts, max_retries=2, retry_policy=sleeps.policy()))
    assert result.id == "batch_abc123"
    assert sleeps.delays == [0.25, 1.0]  # the server's 250 ms, then the second backoff step without jitter
    records = library_records(caplog)
    retries = [r for r in records if r.levelno == logging.INFO]
    assert len(retries) == 2, [r.getMessage() for r in records]
    for number, (record, delay) in enumerate(zip(retries, ("0.25", "1.0"), strict=True), start=1):
        message = record.getMessage()
        assert "GET" in message
        assert f"{BASE_URL}/batches/batch_abc123" in message
        assert delay in message
        assert re.search(rf"\b{number}\b", message)
    statuses = [r.getMessage() for r in records if r.levelno == logging.DEBUG and "->" in r.getMessage()]
    assert (
        [s for s in statuses if "429" in s]
        and [s for s in statuses if "503" in s]
        and [s for s in statuses if "200" in s]
    )
    assert_clean(log_texts(records))


@pytest.mark.parametrize("mode", MODES)
def test_connection_retry_logs_never_show_the_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    hosts = Hosts(api_example_test=_raise(httpx.ConnectError, "refused; sent {auth}"))
    error = raised(mode, make_client(mode, hosts, max_retries=2, retry_policy=Sleeps().policy()))
    assert isinstance(error, APIConnectionError)
    records = library_records(caplog)
    assert len([r for r in records if r.levelno == logging.INFO]) == 2
    assert_clean(log_texts(records))


@pytest.mark.parametrize("mode", MODES)
def test_no_logger_in_the_stack_logs_the_key_on_a_real_socket(
    mode: str, loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    client: Any = (BatchClient if mode == "sync" else AsyncBatchClient)(
        api_key=SECRET, base_url=loopback.base_url, max_retries=0
    )
    if mode == "sync":
        with client:
            client.batches.retrieve("batch_abc123")
    else:

        async def main() -> None:
            async with client:
                await client.batches.retrieve("batch_abc123")

        asyncio.run(main())
    assert any(f"Bearer {SECRET}".encode() in head for head in loopback.heads)  # it did go over the wire
    assert library_records(caplog)
    assert_clean(log_texts(caplog.records))


# ---------------------------------------------------------------------------------------------------- redirects


def _redirect(status: int, location: str, **headers: str) -> Handler:
    return lambda request: httpx.Response(status, headers={"location": location, **headers})


LOCATIONS = {
    "other-host": f"https://{EVIL_HOST}/steal",
    "protocol-relative": f"//{EVIL_HOST}/steal",
    "other-port": f"https://{API_HOST}:8443/v1/batches/batch_abc123",
    "plain-http": f"http://{API_HOST}/v1/batches/batch_abc123",
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["retrieve", "create"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("where", sorted(LOCATIONS))
def test_redirect_elsewhere_is_not_followed_with_the_key(where: str, status: int, op: str, mode: str) -> None:
    hosts = Hosts(api_example_test=_redirect(status, LOCATIONS[where]))
    # The user's own client would follow redirects; the library must not let it for API calls.
    client = make_client(mode, hosts, follow_redirects=True, max_retries=2, retry_policy=Sleeps().policy())
    error = raised(mode, client, op)
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert error.response.headers["location"] == LOCATIONS[where]
    assert hosts.count(EVIL_HOST) == 0
    assert hosts.count(API_HOST) == 1  # not followed, and a 3xx is not retried
    assert hosts.seen[API_HOST][0].url.port is None
    assert hosts.seen[API_HOST][0].url.scheme == "https"
    assert_clean(error_texts(error))


@pytest.mark.parametrize("mode", MODES)
def test_same_origin_redirect_is_not_followed_either(mode: str) -> None:
    hosts = Hosts(api_example_test=_redirect(307, f"{BASE_URL}/batches/batch_other"))
    error = raised(mode, make_client(mode, hosts, follow_redirects=True))
    assert isinstance(error, APIStatusError)
    assert error.status_code == 307
    assert [r.url.path for r in hosts.seen[API_HOST]] == ["/v1/batches/batch_abc123"]


@pytest.mark.parametrize("mode", MODES)
def test_redirect_marked_retryable_is_retried_at_the_original_url_only(mode: str) -> None:
    hosts = Hosts(api_example_test=_redirect(307, f"https://{EVIL_HOST}/steal", **{"x-should-retry": "true"}))
    client = make_client(mode, hosts, follow_redirects=True, max_retries=2, retry_policy=Sleeps().policy())
    error = raised(mode, client)
    assert isinstance(error, APIStatusError)
    assert error.attempts == 3
    assert [r.url.path for r in hosts.seen[API_HOST]] == ["/v1/batches/batch_abc123"] * 3
    assert hosts.count(EVIL_HOST) == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "authorization",
        "AUTHORIZATION",
    ],
)
def test_gateway_auth_header_replaces_the_key(name: str, mode: str) -> None:
    hosts = Hosts()
    call(mode, make_client(mode, hosts, default_headers={name: "Basic Z2F0ZXdheQ=="}))
    (request,) = hosts.seen[API_HOST]
    assert request.headers.get_list("authorization") == ["Basic Z2F0ZXdheQ=="]
    assert NEEDLE not in repr(request.headers.raw)


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_error_with_the_key_in_every_place_stays_clean(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    """A worst case that the library handles: key in body message, type, HTML-ish text and retried twice."""
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    hosts = Hosts(api_example_test=lambda request: _json_fields_echo(429))
    error = raised(mode, make_client(mode, hosts, max_retries=2, retry_policy=Sleeps().policy()))
    assert isinstance(error, RateLimitError)
    assert error.attempts == 3
    assert_clean(error_texts(error))
    assert_clean(log_texts(library_records(caplog)))


# ---------------------------------------------------------------------------------------------------- raw and streamed


def call_wrapped(mode: str, client: Any, form: str, op: str = "retrieve") -> Any:
    """One call through `with_raw_response` (the parsed result) or `with_streaming_response` (read in the block)."""

    def arguments() -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        if op == "content":
            return "files", ("file-abc123",), {}
        if op == "create":
            return "batches", (), {"input_file_id": "file-abc123", "endpoint": "/v1/chat/completions"}
        return "batches", ("batch_abc123",), {}

    resource, args, kwargs = arguments()
    method = "retrieve" if op == "retrieve" else op

    def sync() -> Any:
        wrapper = getattr(getattr(client, resource), f"with_{form}_response")
        if form == "raw":
            return getattr(wrapper, method)(*args, **kwargs).parse()
        with getattr(wrapper, method)(*args, **kwargs) as response:
            return response.read() if op == "content" else response.parse()

    async def main() -> Any:
        wrapper = getattr(getattr(client, resource), f"with_{form}_response")
        if form == "raw":
            return (await getattr(wrapper, method)(*args, **kwargs)).parse()
        async with getattr(wrapper, method)(*args, **kwargs) as response:
            return await response.read() if op == "content" else await response.parse()

    return sync() if mode == "sync" else asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["raw", "streaming"])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_wrapped_status_errors_never_show_a_key_the_server_echoes(echo: str, form: str, mode: str) -> None:
    hosts = Hosts(api_example_test=lambda request: ECHOES[echo](401))
    with pytest.raises(APIStatusError) as caught:
        call_wrapped(mode, make_client(mode, hosts), form)
    assert_clean(error_texts(caught.value))
    assert_clean({"body": json.dumps(caught.value.body, default=str)})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["raw", "streaming"])
@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
def test_wrapped_validation_errors_never_show_the_key(bad: str, form: str, mode: str) -> None:
    content, content_type = BAD_BODIES[bad]
    hosts = Hosts(
        api_example_test=lambda request: httpx.Response(200, content=content, headers={"content-type": content_type})
    )
    with pytest.raises(APIResponseValidationError) as caught:
        call_wrapped(mode, make_client(mode, hosts), form, "create")
    assert_clean(error_texts(caught.value))
    assert_clean({"body": json.dumps(caught.value.body, default=str)})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["raw", "streaming"])
def test_wrapped_responses_and_their_reprs_never_show_the_key(form: str, mode: str) -> None:
    hosts = Hosts()
    client = make_client(mode, hosts)
    seen: dict[str, str] = {}

    def record(response: Any) -> None:
        seen[f"{form} repr"] = repr(response)
        seen[f"{form} vars"] = repr(vars(response))
        seen[f"{form} request"] = repr(response.http_request) + repr(response.http_request.headers)
        seen["wrappers"] = repr(vars(client.batches.with_raw_response)) + repr(client.with_streaming_response)

    async def main() -> None:
        if form == "raw":
            record(await client.batches.with_raw_response.retrieve("batch_abc123"))
        else:
            async with client.batches.with_streaming_response.retrieve("batch_abc123") as response:
                record(response)

    if mode == "async":
        asyncio.run(main())
    elif form == "raw":
        record(client.batches.with_raw_response.retrieve("batch_abc123"))
    else:
        with client.batches.with_streaming_response.retrieve("batch_abc123") as response:
            record(response)
    assert hosts.seen[API_HOST][0].headers["authorization"] == f"Bearer {SECRET}"  # the key was sent
    assert_clean(seen)


class _BreaksMidBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that breaks after its first bytes with a transport error quoting the Authorization header."""

    def __init__(self, auth: str) -> None:
        self.auth = auth

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"id": "file'
        raise httpx.ReadError(f"proxy dropped the stream for {self.auth}")

    async def __aiter__(self) -> Any:
        yield b'{"id": "file'
        raise httpx.ReadError(f"proxy dropped the stream for {self.auth}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["plain", "streaming"])
def test_a_body_broken_mid_stream_never_shows_the_key(form: str, mode: str) -> None:
    hosts = Hosts(
        api_example_test=lambda request: httpx.Response(200, stream=_BreaksMidBody(request.headers["authorization"]))
    )
    client = make_client(mode, hosts)

    async def main() -> None:
        if form == "plain":
            await (await client.files.content("file-abc123")).read()
        else:
            async with client.files.with_streaming_response.content("file-abc123") as response:
                await response.read()

    with pytest.raises(APIConnectionError) as caught:
        if mode == "async":
            asyncio.run(main())
        elif form == "plain":
            client.files.content("file-abc123").read()
        else:
            with client.files.with_streaming_response.content("file-abc123") as response:
                response.read()
    assert "proxy dropped the stream" in str(caught.value)  # redacted, not thrown away
    assert_clean(error_texts(caught.value))


# ---------------------------------------------------------------------------------------------------- api_key callables


class Keys:
    """An api_key callable that hands out the keys it is given in turn (a token service rotating them)."""

    def __init__(self, *keys: str) -> None:
        self.keys = list(keys)
        self.calls = 0

    def __call__(self) -> str:
        key = self.keys[min(self.calls, len(self.keys) - 1)]
        self.calls += 1
        return key


def _echo_authorization(status: int) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "")
        return json_response(status, {"error": {"message": f"Incorrect key {sent}", "code": sent}}, {"x-echo": sent})

    return respond


@pytest.mark.parametrize("mode", MODES)
def test_key_from_a_callable_is_redacted_like_a_given_key(mode: str) -> None:
    keys = Keys(SECRET, OTHER_KEY)
    hosts = Hosts(api_example_test=_echo_authorization(500))
    error = raised(mode, make_client(mode, hosts, api_key=keys, max_retries=1, retry_policy=Sleeps().policy()))
    # Both attempts asked the callable; the error of the second shows neither key, nor does the first's.
    assert keys.calls == 2
    assert [r.headers["authorization"] for r in hosts.seen[API_HOST]] == [f"Bearer {SECRET}", f"Bearer {OTHER_KEY}"]
    texts = error_texts(error)
    assert_clean(texts)
    assert "OTHER-1a2b3c" not in "".join(texts.values())
    assert "<redacted>" in str(error)


@pytest.mark.parametrize("mode", MODES)
def test_a_key_callable_stays_out_of_reprs(mode: str) -> None:
    client = make_client(mode, Hosts(), api_key=Keys(SECRET))
    call(mode, client)
    assert client.api_key == SECRET  # what the SDK's `api_key` reads too, after a request
    for text in (repr(client), str(client), repr(client._options), repr(client.with_options(max_retries=1))):
        assert NEEDLE not in text


@pytest.mark.parametrize("mode", MODES)
def test_a_key_callable_that_fails_names_the_failure_but_no_key(mode: str) -> None:
    def broken() -> str:
        raise RuntimeError(f"vault refused the renewal of {SECRET}")

    hosts = Hosts()
    client = make_client(mode, hosts, api_key=Keys(SECRET))
    call(mode, client)  # the key it gave first is one to hide from now on
    client._options = attrs.evolve(client._options, api_key_provider=broken)
    client._builder.options = client._options
    error = raised(mode, client)
    assert isinstance(error, APIKeyProviderError) and not isinstance(error, APIStatusError)
    assert str(error) == "The api_key callable raised RuntimeError: vault refused the renewal of <redacted>"
    assert_clean(error_texts(error))
    assert hosts.count(API_HOST) == 1  # nothing was sent without a key


@pytest.mark.parametrize("mode", MODES)
def test_debug_log_of_a_request_keyed_by_a_callable_hides_the_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    hosts = Hosts(api_example_test=lambda request: json_response(200, batch(), {"x-request-id": SECRET}))
    call(mode, make_client(mode, hosts, api_key=Keys(SECRET)))
    records = library_records(caplog)
    assert records and any("Sending GET" in record.getMessage() for record in records)
    assert_clean(log_texts(records))
