"""Property-based tests: whatever a server answers and whatever a caller passes, only the library's errors escape.

Two halves:

* **Answers.** Scripted sequences of arbitrary statuses (100..599), headers (content-type, content-encoding,
  retry-after, x-should-retry, ... with garbage values) and bodies (arbitrary JSON, damaged Batch and list bodies,
  arbitrary bytes, truncated JSON, HTML) are served to every operation (create, retrieve, cancel, list with
  `get_next_page` and full walks), sync and async, with retries on. A call either returns the documented type (whose
  `to_dict()` works) after a 2xx, or raises an `OpenAIBatchesError` whose fields agree with what was served; it never
  sends more than `max_retries + 1` requests nor asks for an unbounded sleep.
* **Arguments.** Arbitrary values (None, bools, huge ints, nan/inf, empty/whitespace/unicode/control/very long strings,
  bytes, containers, foreign objects) for every parameter of every public method, of both constructors and of
  `with_options`. A value is either refused *before any request* with an `InvalidParameterError` naming the
  parameter, or the request that reaches the transport carries exactly what was asked for (and, for header-bound
  values, something httpx's HTTP/1.1 layer h11 will actually send).

The tests at the bottom pin down, with a deterministic example each, the defects these properties once found (header
syntax for header-bound values, nan/inf timeouts, undecodable base URLs, deeply nested JSON, utf-16/32 charsets,
absurd retry-after dates).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import os
import re
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any, get_args
from unittest import mock
from urllib.parse import unquote

import h11
import httpx
import pytest
from helpers import API_KEY, BASE_URL, BATCH, batch, json_response, list_body
from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as _hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from openai_batches import (
    DEFAULT_BASE_URL,
    NOT_GIVEN,
    APIConnectionError,
    APIError,
    APIKeyProviderError,
    APIResponseValidationError,
    APIStatusError,
    AsyncBatchClient,
    AsyncCursorPage,
    Batch,
    BatchClient,
    BatchCompletionWindow,
    BatchEndpoint,
    EndpointParam,
    FileExpirationAnchor,
    InvalidParameterError,
    Metadata,
    OpenAIBatchesError,
    OutputExpiresAfter,
    PaginationError,
    RetryPolicy,
    SyncCursorPage,
)
from openai_batches._config import MAX_TIMEOUT_SECONDS

OPS = ("create", "retrieve", "cancel", "list")
MODES = ("sync", "async")
MAX_RETRY_AFTER = RetryPolicy().max_retry_after

ANSWERS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ARGUMENTS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_OPENAI_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True, scope="module")
def _no_openai_environment() -> Iterator[None]:
    """Settings left out must not be filled in from the developer's environment (module scope: hypothesis-safe)."""
    with mock.patch.dict(os.environ):
        for name in _OPENAI_ENV:
            os.environ.pop(name, None)
        yield


# ---------------------------------------------------------------------------------------------------- harness


class Script:
    """A MockTransport handler serving drawn answers in order (the last one repeats); it records every request."""

    def __init__(self, answers: list[tuple[int, list[tuple[bytes, bytes]], bytes]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status, headers, content = self.answers[min(len(self.requests), len(self.answers) - 1)]
        self.requests.append(request)
        self.statuses.append(status)
        return httpx.Response(status, headers=headers, content=content)


class Sleeps:
    """The retry sleeper: records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep)


def mock_http(mode: str, handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client | httpx.AsyncClient:
    if mode == "sync":
        return httpx.Client(transport=httpx.MockTransport(handler))

    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(async_handler))


def make_client(mode: str, handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Any:
    settings_: dict[str, Any] = {"api_key": API_KEY, "base_url": BASE_URL, "max_retries": 0}
    settings_.update(options)
    cls = BatchClient if mode == "sync" else AsyncBatchClient
    return cls(http_client=mock_http(mode, handler), **settings_)


def event(value: str) -> None:
    """Hypothesis statistics, where there are any: the same checks also run in plain example tests."""
    if currently_in_test_context():
        _hypothesis_event(value)


def check_batch(value: object) -> None:
    event("a Batch")
    assert isinstance(value, Batch), type(value)
    as_dict = value.to_dict()
    assert isinstance(as_dict, dict)
    json.dumps(as_dict)


def check_page(page: object, cls: type) -> None:
    assert isinstance(page, cls), type(page)
    assert isinstance(page.data, list)  # type: ignore[attr-defined]
    for item in page.data:  # type: ignore[attr-defined]
        check_batch(item)
    assert isinstance(page.has_next_page(), bool)  # type: ignore[attr-defined]
    repr(page)


def check_error(error: OpenAIBatchesError, script: Script, sent_by_call: int) -> None:
    """The error is printable and agrees with what was served."""
    event(f"error: {type(error).__name__}")
    str(error)
    repr(error)
    "".join(traceback.format_exception(error))
    if isinstance(error, APIStatusError):
        assert error.status_code == script.statuses[-1]
        assert not 200 <= error.status_code < 300
        assert error.attempts == sent_by_call
    elif isinstance(error, APIResponseValidationError):
        assert 200 <= error.status_code < 300
        assert error.status_code == script.statuses[-1]
    elif isinstance(error, APIConnectionError):
        assert error.attempts == sent_by_call


def check_sleeps(sleeps: Sleeps) -> None:
    for delay in sleeps.delays:
        assert math.isfinite(delay)
        assert 0 <= delay <= MAX_RETRY_AFTER


# ---------------------------------------------------------------------------------------------------- answers

FIELD_NAMES = sorted({*BATCH, "data", "has_more", "first_id", "last_id", "error", "message", "input_tokens"})
IDS = ["batch_a", "batch_b", "batch_c", "batch_d"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["batch", "list", "completed", "/v1/chat/completions", "24h", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=12,
)
FULL_BATCH = batch(
    errors={"object": "list", "data": [{"code": "invalid_json", "message": "bad", "param": None, "line": 1}]},
    usage={
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 1},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 15,
    },
)
page_bodies = st.builds(
    lambda ids, more, with_ids: list_body(ids, has_more=more, with_ids=with_ids),
    st.lists(st.sampled_from(IDS), max_size=3, unique=True),
    st.booleans(),
    st.booleans(),
)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def damaged(draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A good body with one value anywhere in it deleted or replaced by random JSON."""
    body = copy.deepcopy(draw(bodies))
    *parents, last = draw(st.sampled_from(list(_paths(body))))
    container: Any = body
    for step in parents:
        container = container[step]
    if draw(st.booleans()):
        del container[last]
    else:
        container[last] = draw(json_values)
    return body


good_bodies = st.sampled_from([FULL_BATCH, batch(status="completed"), batch("batch_b", usage=None)]) | page_bodies
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad gateway</h1></body></html>"


def _encode(value: object) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    good_bodies.map(_encode),
    damaged(good_bodies).map(_encode),
    json_values.map(_encode),
    st.builds(lambda body, cut: _encode(body)[:cut], good_bodies, st.integers(0, 300)),
    st.binary(max_size=40),
    st.sampled_from([b"", HTML, b"null", b"[]", b"{}", b'{"error": {"message": "nope"}}', b"\xff\xfe\x00"]),
)
HEADER_NAMES = [
    "content-type",
    "content-encoding",
    "retry-after",
    "retry-after-ms",
    "x-should-retry",
    "x-request-id",
    "location",
    "content-length",
]
GARBAGE_VALUES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=bogus-9",
    "text/html; charset=iso-8859-1",
    "gzip",
    "deflate",
    "br",
    "zstd",
    "identity, gzip",
    "x-unknown",
    "true",
    "false",
    "TRUE",
    "maybe",
    "0",
    "-1",
    "1.5",
    "1e309",
    "nan",
    "inf",
    "99999999999999999999",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 2020 00:00:00 +9999",
    "not a date",
    "",
    "https://evil.test/steal",
]
header_values = st.sampled_from(GARBAGE_VALUES) | st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=30
)
response_headers = st.lists(
    st.tuples(st.sampled_from(HEADER_NAMES), header_values).map(lambda nv: (nv[0].encode(), nv[1].encode("latin-1"))),
    max_size=4,
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 302, 400, 401, 404, 408, 409, 429, 500, 503, 520]) | (
    st.integers(100, 599)
)
# Half the answers are a plain good one, so that calls also succeed and walks get past their first page.
good_answers = st.tuples(st.sampled_from([200, 200, 201]), st.just([]), good_bodies.map(_encode))
answers = st.lists(good_answers | st.tuples(statuses, response_headers, bodies), min_size=1, max_size=4)


def _sync_single(client: BatchClient, op: str) -> Batch:
    if op == "create":
        return client.batches.create(input_file_id="file-abc123", endpoint="/v1/chat/completions")
    if op == "retrieve":
        return client.batches.retrieve("batch_abc123")
    return client.batches.cancel("batch_abc123")


async def _async_single(client: AsyncBatchClient, op: str) -> Batch:
    if op == "create":
        return await client.batches.create(input_file_id="file-abc123", endpoint="/v1/chat/completions")
    if op == "retrieve":
        return await client.batches.retrieve("batch_abc123")
    return await client.batches.cancel("batch_abc123")


PAGE_CAP = 25


def exercise_sync(client: BatchClient, op: str, script: Script, max_retries: int) -> None:
    if op != "list":
        try:
            result = _sync_single(client, op)
        except OpenAIBatchesError as error:
            check_error(error, script, len(script.requests))
        else:
            check_batch(result)
            assert 200 <= script.statuses[-1] < 300
        assert len(script.requests) <= max_retries + 1
        return
    try:
        page = client.batches.list(limit=2)
    except OpenAIBatchesError as error:
        check_error(error, script, len(script.requests))
        return
    check_page(page, SyncCursorPage)
    assert 200 <= script.statuses[-1] < 300
    assert len(script.requests) <= max_retries + 1
    sent = len(script.requests)
    if not page.has_next_page():
        with pytest.raises(PaginationError):
            page.get_next_page()
        assert len(script.requests) == sent  # refused without a request
    else:
        try:
            check_page(page.get_next_page(), SyncCursorPage)
        except OpenAIBatchesError as error:
            check_error(error, script, len(script.requests) - sent)
    walked = 0
    try:
        for later in itertools.islice(page.iter_pages(), PAGE_CAP):
            walked += 1
            check_page(later, SyncCursorPage)
        for item in itertools.islice(page, PAGE_CAP * 3):
            check_batch(item)
    except OpenAIBatchesError as error:
        str(error)
    assert walked < PAGE_CAP, "the walk did not stop on a server that keeps repeating itself"


async def exercise_async(client: AsyncBatchClient, op: str, script: Script, max_retries: int) -> None:
    if op != "list":
        try:
            result = await _async_single(client, op)
        except OpenAIBatchesError as error:
            check_error(error, script, len(script.requests))
        else:
            check_batch(result)
            assert 200 <= script.statuses[-1] < 300
        assert len(script.requests) <= max_retries + 1
        return
    try:
        page = await client.batches.list(limit=2)
    except OpenAIBatchesError as error:
        check_error(error, script, len(script.requests))
        return
    check_page(page, AsyncCursorPage)
    assert 200 <= script.statuses[-1] < 300
    assert len(script.requests) <= max_retries + 1
    sent = len(script.requests)
    if not page.has_next_page():
        with pytest.raises(PaginationError):
            await page.get_next_page()
        assert len(script.requests) == sent
    else:
        try:
            check_page(await page.get_next_page(), AsyncCursorPage)
        except OpenAIBatchesError as error:
            check_error(error, script, len(script.requests) - sent)
    walked = 0
    try:
        async for later in page.iter_pages():
            walked += 1
            check_page(later, AsyncCursorPage)
            if walked >= PAGE_CAP:
                break
        items = 0
        async for item in client.batches.list(limit=2):  # the paginator's own `async for`
            check_batch(item)
            items += 1
            if items >= PAGE_CAP * 3:
                break
    except OpenAIBatchesError as error:
        str(error)
    assert walked < PAGE_CAP, "the walk did not stop on a server that keeps repeating itself"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@ANSWERS
@given(served=answers, max_retries=st.integers(0, 2))
def test_any_answer_gives_the_documented_type_or_a_library_error(
    op: str, mode: str, served: list[tuple[int, list[tuple[bytes, bytes]], bytes]], max_retries: int
) -> None:
    script = Script(served)
    sleeps = Sleeps()
    client = make_client(mode, script, max_retries=max_retries, retry_policy=sleeps.policy())
    try:
        if mode == "sync":
            exercise_sync(client, op, script, max_retries)
        else:
            asyncio.run(exercise_async(client, op, script, max_retries))
    except OpenAIBatchesError:
        raise AssertionError("a library error escaped the exercise unchecked") from None
    check_sleeps(sleeps)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["create", "retrieve", "cancel"])
@ANSWERS
@given(status=st.integers(200, 299), body=damaged(st.just(FULL_BATCH)) | st.just(FULL_BATCH))
def test_a_2xx_with_a_batch_like_body_gives_a_batch_or_a_validation_error(
    op: str, mode: str, status: int, body: dict[str, Any]
) -> None:
    script = Script([(status, [(b"content-type", b"application/json")], _encode(body))])
    client = make_client(mode, script)
    try:
        result = _sync_single(client, op) if mode == "sync" else asyncio.run(_async_single(client, op))
    except APIResponseValidationError as error:
        assert error.status_code == status
        str(error)
    else:
        check_batch(result)
    assert len(script.requests) == 1


# ---------------------------------------------------------------------------------------------------- arguments


class Opaque:
    """Some user object the library knows nothing about."""


class StrSubclass(str):
    pass


SURROGATE = "\ud800"
weird_strings = st.sampled_from(
    [
        "",
        " ",
        "\t\n ",
        "\x00",
        "\x1b[31m",
        "caf\u00e9",
        "\u043a\u043b\u044e\u0447",
        "\U0001f600",
        SURROGATE,
        "a\r\nX-Injected: 1",
        ".",
        "..",
        "../files",
        "%2e%2e",
        "a/b",
        "?x=1",
        "#frag",
        "null",
    ]
) | st.integers(1000, 6000).map(lambda n: "a" * n)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([0, -1, 1, 100, 101, 2**63, -(2**63), 10**100])
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, 1e300])
    | st.text(max_size=30)
    | weird_strings
    | st.binary(max_size=20)
)
foreign_objects = st.sampled_from(
    [
        Ellipsis,
        NOT_GIVEN,
        complex(1, 2),
        Decimal("1.5"),
        Decimal("NaN"),
        Fraction(1, 3),
        (1, 2),
        frozenset({"a"}),
        range(3),
        bytearray(b"x"),
        int,
        print,
        Opaque(),
        object(),
        StrSubclass("batch_sub"),
        datetime(2024, 1, 1),
        httpx.Timeout(3.0),
        httpx.URL(BASE_URL),
        RetryPolicy(),
        Metadata(),
        BatchEndpoint.EMBEDDINGS,
        BatchCompletionWindow.HOURS_24,
        FileExpirationAnchor.CREATED_AT,
        OutputExpiresAfter(anchor=FileExpirationAnchor.CREATED_AT, seconds=7200),
    ]
)
anything = st.one_of(
    scalars,
    foreign_objects,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5) | weird_strings, scalars, max_size=3),
)

ids = st.text(max_size=20) | weird_strings | st.sampled_from(["batch_abc123", "file-abc123", "a b", "b%2F"])
# Header names that do not collide with the ones the client sets itself (collisions have their own tests below).
extra_header_names = st.from_regex(r"X-[A-Za-z0-9-]{1,12}", fullmatch=True) | st.sampled_from(["", "a b", "X:y"])
header_texts = st.text(max_size=20) | weird_strings | st.sampled_from(["ok", "Bearer other"])


def _metadata_object(items: dict[str, Any]) -> Metadata:
    metadata = Metadata()
    metadata.additional_properties = dict(items)
    return metadata


metadata_items = st.dictionaries(
    st.text(max_size=66) | st.sampled_from(["k" * 64, "k" * 65, "", " "]),
    st.text(max_size=20) | st.sampled_from(["v" * 512, "v" * 513]) | st.integers() | st.none(),
    max_size=18,
)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "batch_id": ids,
    "input_file_id": ids,
    "after": ids | st.none(),
    "limit": st.integers(-3, 103) | st.none(),
    "endpoint": st.sampled_from([*get_args(EndpointParam), *BatchEndpoint, "/v1/future", ""]) | st.text(max_size=15),
    "completion_window": st.sampled_from(["24h", "48h", *BatchCompletionWindow, ""]) | st.text(max_size=5),
    "metadata": st.none() | metadata_items | metadata_items.map(_metadata_object),
    "output_expires_after": st.none()
    | st.fixed_dictionaries(
        {"seconds": st.integers(3000, 2_600_000) | anything},
        optional={"anchor": st.sampled_from(["created_at", "CREATED_AT", ""]) | anything, "extra": st.just(1)},
    )
    | st.builds(OutputExpiresAfter, anchor=st.just(FileExpirationAnchor.CREATED_AT), seconds=st.integers(0, 3_000_000)),
    "idempotency_key": st.none() | st.text(max_size=30) | st.sampled_from(["k" * 255, "k" * 256, "key-1"]),
    "extra_headers": st.none() | st.dictionaries(extra_header_names, header_texts | scalars, max_size=3),
    "timeout": st.floats(0.01, 1000) | st.integers(-2, 100) | st.builds(httpx.Timeout, st.floats(0.1, 100)) | st.none(),
    "max_retries": st.integers(-2, 7) | st.just(NOT_GIVEN),
}

METHOD_PARAMS = {
    "create": [
        "input_file_id",
        "endpoint",
        "completion_window",
        "metadata",
        "output_expires_after",
        "idempotency_key",
        "extra_headers",
        "timeout",
        "max_retries",
    ],
    "retrieve": ["batch_id", "extra_headers", "timeout", "max_retries"],
    "cancel": ["batch_id", "extra_headers", "timeout", "max_retries"],
    "list": ["after", "limit", "extra_headers", "timeout", "max_retries"],
}
METHOD_CASES = [(op, param) for op, params in METHOD_PARAMS.items() for param in params]
BASE_KWARGS: dict[str, dict[str, Any]] = {
    "create": {"input_file_id": "file-abc123", "endpoint": "/v1/chat/completions"},
    "retrieve": {"batch_id": "batch_abc123"},
    "cancel": {"batch_id": "batch_abc123"},
    "list": {},
}
FAILURES_BEFORE_SUCCESS = 5
# Headers the client sets on its own; an extra header with one of these names is an override, checked separately.
CLIENT_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "authorization",
    "user-agent",
    "content-type",
    "content-length",
    "idempotency-key",
    "openai-organization",
    "openai-project",
}


class Server:
    """Answers every operation with a good body; with `failures`, the first few requests get a 503 instead."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return json_response(503, {"error": {"message": "overloaded"}})
        if request.method == "GET" and request.url.path.endswith("/batches"):
            return json_response(200, list_body(["batch_x"], has_more=False))
        return json_response(200, batch())


def call_op(client: Any, mode: str, op: str, kwargs: Mapping[str, Any]) -> Any:
    method = getattr(client.batches, op)
    if mode == "sync":
        return method(**kwargs)

    async def main() -> Any:
        result = method(**kwargs)
        return await result

    return asyncio.run(main())


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def expected_body(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "input_file_id": kwargs["input_file_id"],
        "endpoint": _plain(kwargs["endpoint"]),
        "completion_window": _plain(kwargs.get("completion_window", "24h")),
    }
    metadata = kwargs.get("metadata")
    if metadata is not None:
        body["metadata"] = dict(metadata.additional_properties if isinstance(metadata, Metadata) else metadata)
    expiry = kwargs.get("output_expires_after")
    if expiry is not None:
        seconds = expiry.seconds if isinstance(expiry, OutputExpiresAfter) else expiry["seconds"]
        body["output_expires_after"] = {"anchor": "created_at", "seconds": seconds}
    return body


def header_problems(request: httpx.Request) -> list[str]:
    """What httpx's HTTP/1.1 layer (h11) would refuse in the request's header block, mid-request."""
    try:
        h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
    except h11.LocalProtocolError as exc:
        return [str(exc)]
    return []


def timeout_problems(request: httpx.Request) -> list[str]:
    timeouts = request.extensions.get("timeout", {})
    return [
        f"{phase} timeout {value!r}"
        for phase, value in timeouts.items()
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0)
    ]


def _grouped(headers: Mapping[str, Any]) -> dict[str, list[bytes]]:
    """Expected header lines by lower-cased name, as bytes (httpx also sends bytes values as given)."""
    groups: dict[str, list[bytes]] = {}
    for name, value in headers.items():
        groups.setdefault(name.lower(), []).append(value if isinstance(value, bytes) else value.encode("ascii"))
    return groups


def _raw_values(request: httpx.Request, name: str) -> list[bytes]:
    return [value for key, value in request.headers.raw if key.decode("latin-1").lower() == name]


def check_sent(op: str, kwargs: Mapping[str, Any], request: httpx.Request, *, base_path: str = "/v1") -> None:
    """The request carries exactly what the call asked for."""
    url = request.url
    if op == "create":
        assert request.method == "POST"
        assert url.path == f"{base_path}/batches"
        assert url.query == b""
        assert json.loads(request.content) == expected_body(kwargs)
    elif op in ("retrieve", "cancel"):
        assert request.method == ("GET" if op == "retrieve" else "POST")
        raw = url.raw_path.decode("ascii")
        prefix = f"{base_path}/batches/"
        assert raw.startswith(prefix), raw
        segment, *rest = raw[len(prefix) :].split("/")
        assert rest == ([] if op == "retrieve" else ["cancel"]), raw
        assert "?" not in segment and "#" not in segment
        assert unquote(segment) == kwargs["batch_id"]
    else:
        assert request.method == "GET"
        assert url.path == f"{base_path}/batches"
        params = dict(url.params)
        expected: dict[str, str] = {}
        if kwargs.get("after") is not None:
            expected["after"] = kwargs["after"]
        if kwargs.get("limit") is not None:
            expected["limit"] = str(kwargs["limit"])
        assert params == expected
    extra = kwargs.get("extra_headers") or {}
    overridden = {str(name).lower() for name in extra}
    if "authorization" not in overridden:
        assert request.headers.get_list("authorization") == [f"Bearer {API_KEY}"]
    for name, values in _grouped(extra).items():
        if name not in CLIENT_HEADERS:
            assert _raw_values(request, name) == values, name
    if op == "create":
        keys = request.headers.get_list("idempotency-key")
        assert len(keys) == 1, keys
        if kwargs.get("idempotency_key") is not None:
            assert keys == [kwargs["idempotency_key"]]
        elif "idempotency-key" not in overridden:
            assert re.fullmatch(r"openai-batches-[0-9a-f-]{36}", keys[0]), keys
    timeout = kwargs.get("timeout", NOT_GIVEN)
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and math.isfinite(timeout):
        assert request.extensions["timeout"]["read"] == float(timeout)


def run_method_case(mode: str, op: str, param: str, value: object) -> tuple[Server, Any]:
    """Call `op` with `param=value`; a refusal must name the parameter and come before any request."""
    failures = FAILURES_BEFORE_SUCCESS if param == "max_retries" and value is not NOT_GIVEN else 0
    server = Server(failures)
    client = make_client(mode, server, retry_policy=Sleeps().policy())
    kwargs = {**BASE_KWARGS[op], param: value}
    try:
        result = call_op(client, mode, op, kwargs)
    except InvalidParameterError as error:
        event("refused: InvalidParameterError")
        assert error.param == param, (error.param, param)
        assert isinstance(error, ValueError)
        assert server.requests == [], "refused, but only after a request went out"
        return server, None
    except APIStatusError as error:
        # Only reachable through max_retries: the 503s outlasted the retries the call allowed.
        assert param == "max_retries", error
        assert isinstance(value, int)
        assert 0 <= value < FAILURES_BEFORE_SUCCESS
        assert len(server.requests) == value + 1 == error.attempts
        return server, None
    except OpenAIBatchesError as error:
        raise AssertionError(f"{param}={value!r} refused without naming the parameter: {error!r}") from error
    event("accepted")
    if param == "max_retries" and value is not NOT_GIVEN:
        assert isinstance(value, int)
        assert value >= FAILURES_BEFORE_SUCCESS
        assert len(server.requests) == FAILURES_BEFORE_SUCCESS + 1
    if op == "list":
        check_page(result, SyncCursorPage if mode == "sync" else AsyncCursorPage)
    else:
        check_batch(result)
    check_sent(op, kwargs, server.requests[-1])
    return server, result


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("op", "param"), METHOD_CASES)
@ARGUMENTS
@given(data=st.data())
def test_any_argument_is_refused_up_front_or_sent_as_given(op: str, param: str, mode: str, data: st.DataObject) -> None:
    value = data.draw(anything | PLAUSIBLE[param], label=param)
    server, _ = run_method_case(mode, op, param, value)
    if param != "extra_headers":
        for request in server.requests:
            assert header_problems(request) == []
    if param != "timeout":
        for request in server.requests:
            assert timeout_problems(request) == []


REFUSED_UP_FRONT = [
    ("retrieve", "batch_id", None),
    ("retrieve", "batch_id", 123),
    ("retrieve", "batch_id", b"batch_abc123"),
    ("retrieve", "batch_id", ""),
    ("cancel", "batch_id", "   "),
    ("cancel", "batch_id", ".."),
    ("retrieve", "batch_id", "."),
    ("create", "input_file_id", ""),
    ("create", "input_file_id", None),
    ("create", "endpoint", ""),
    ("create", "endpoint", 3),
    ("create", "completion_window", None),
    ("create", "metadata", {f"k{i}": "v" for i in range(17)}),
    ("create", "metadata", {"k" * 65: "v"}),
    ("create", "metadata", {"k": "v" * 513}),
    ("create", "metadata", {"k": 1}),
    ("create", "metadata", {1: "v"}),
    ("create", "metadata", ["k", "v"]),
    ("create", "output_expires_after", {"seconds": 3599}),
    ("create", "output_expires_after", {"seconds": 2_592_001}),
    ("create", "output_expires_after", {"seconds": 7200.0}),
    ("create", "output_expires_after", {"seconds": True}),
    ("create", "output_expires_after", {"anchor": "expires_at", "seconds": 7200}),
    ("create", "output_expires_after", {"anchor": "created_at"}),
    ("create", "output_expires_after", {"seconds": 7200, "unknown": 1}),
    ("create", "output_expires_after", 7200),
    ("create", "idempotency_key", ""),
    ("create", "idempotency_key", "k" * 256),
    ("create", "idempotency_key", "a\nb"),
    ("create", "idempotency_key", 42),
    ("create", "extra_headers", [("X-A", "b")]),
    ("create", "timeout", 0),
    ("list", "timeout", -1.0),
    ("retrieve", "timeout", "10"),
    ("retrieve", "timeout", True),
    ("cancel", "max_retries", -1),
    ("list", "max_retries", 1.0),
    ("list", "max_retries", True),
    ("list", "limit", 0),
    ("list", "limit", 101),
    ("list", "limit", "10"),
    ("list", "limit", 10.0),
    ("list", "after", ""),
    ("list", "after", 5),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("op", "param", "value"), REFUSED_UP_FRONT)
def test_bad_argument_is_refused_before_any_request(op: str, param: str, value: object, mode: str) -> None:
    server = Server()
    client = make_client(mode, server)
    with pytest.raises(InvalidParameterError) as caught:
        call_op(client, mode, op, {**BASE_KWARGS[op], param: value})
    assert caught.value.param == param
    assert param in str(caught.value)
    assert server.requests == []


# ---------------------------------------------------------------------------------------------------- constructors

CONSTRUCTOR_PARAMS = [
    "api_key",
    "organization",
    "project",
    "base_url",
    "timeout",
    "max_retries",
    "default_headers",
    "http_client",
    "retry_policy",
]
WITH_OPTIONS_PARAMS = [p for p in CONSTRUCTOR_PARAMS if p != "http_client"]


class UseClient(Enum):
    """Placeholders for http_client values, swapped for a real client wired to the test's server."""

    SYNC = "sync"
    ASYNC = "async"


hosts = st.sampled_from(["api.example.test", "localhost", "127.0.0.1", "[::1]", "caf\u00e9.example", "a..b"]) | (
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,5})?", fullmatch=True).filter(
        lambda host: "xn--" not in host  # bad punycode labels have their own test below
    )
)
url_paths = st.sampled_from(["", "/", "/v1", "/v1/", "/openai/v1", "//", "/a/../v1", "/a b", "/%7Euser"])
base_urls = st.builds(
    lambda scheme, host, port, path: f"{scheme}{host}{port}{path}",
    st.sampled_from(["https://", "http://", "ftp://", "", "https:"]),
    hosts,
    st.sampled_from(["", ":8443", ":0", ":99999", ":x"]),
    url_paths,
)
CONSTRUCTOR_PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "api_key": st.text(max_size=40) | weird_strings | st.sampled_from(["sk-proj-abc", None, ""]),
    "organization": st.none() | st.text(max_size=20) | weird_strings | st.just("org-123"),
    "project": st.none() | st.text(max_size=20) | weird_strings | st.just("proj_123"),
    "base_url": base_urls | st.builds(httpx.URL, st.sampled_from([BASE_URL, "https://x.test"])),
    "timeout": PLAUSIBLE["timeout"] | st.just(NOT_GIVEN),
    "max_retries": st.integers(-2, 7),
    "default_headers": st.none() | st.dictionaries(extra_header_names, header_texts | scalars, max_size=3),
    "http_client": st.sampled_from([UseClient.SYNC, UseClient.ASYNC, None]),
    "retry_policy": st.none() | st.just(RetryPolicy()),
}


def _has_surrogate(value: object) -> bool:
    return isinstance(value, str) and any("\ud800" <= char <= "\udfff" for char in value)


def setting_values(param: str) -> st.SearchStrategy[Any]:
    values = anything | CONSTRUCTOR_PLAUSIBLE[param]
    # Undecodable base URLs escape as foreign exceptions: pinned by test_undecodable_base_url_is_refused.
    return values.filter(lambda value: not _has_surrogate(value)) if param == "base_url" else values


def _materialise(mode: str, value: object, server: Server) -> object:
    if value is UseClient.SYNC:
        return mock_http("sync", server)
    if value is UseClient.ASYNC:
        return mock_http("async", server)
    return value


def _close(mode: str, client: Any) -> None:
    if mode == "sync":
        client.close()
    else:
        asyncio.run(client.close())


def check_configured_request(param: str, value: object, request: httpx.Request) -> None:
    """What a setting should have done to a retrieve request."""
    if param == "api_key":
        assert request.headers.get_list("authorization") == [f"Bearer {value}"]
    else:
        assert request.headers.get_list("authorization") == [f"Bearer {API_KEY}"]
    for setting, header in (("organization", "openai-organization"), ("project", "openai-project")):
        expected = [value] if param == setting and value else []
        assert request.headers.get_list(header) == expected
    if param == "default_headers" and value:
        assert isinstance(value, Mapping)
        for name, values in _grouped(value).items():
            if name not in CLIENT_HEADERS:
                assert _raw_values(request, name) == values, name
    if param == "base_url":
        base = httpx.URL(str(value) if value else DEFAULT_BASE_URL)
        assert request.url.scheme == base.scheme
        assert request.url.host == base.host
        assert request.url.port == base.port
        assert request.url.path == base.path.rstrip("/") + "/batches/batch_abc123"
        assert request.url.query == b""
    else:
        assert str(request.url) == f"{BASE_URL}/batches/batch_abc123"
    if param == "timeout" and isinstance(value, int | float) and math.isfinite(value):
        assert request.extensions["timeout"]["read"] == float(value)
    if param not in ("api_key", "organization", "project", "default_headers"):
        assert header_problems(request) == []
    if param != "timeout":
        assert timeout_problems(request) == []


def run_configured_retrieve(mode: str, client: Any, server: Server, param: str, value: object) -> None:
    try:
        result = call_op(client, mode, "retrieve", {"batch_id": "batch_abc123"})
    except APIStatusError as error:
        assert param == "max_retries"
        assert isinstance(value, int)
        assert value < server.failures
        assert len(server.requests) == value + 1 == error.attempts
        return
    except APIKeyProviderError as error:
        # A callable key (`print`, say) is asked for the key on each request, as in the SDK: what it returns cannot
        # be known before, so a call that gets no usable key fails, naming why, and sends nothing.
        assert param == "api_key" and callable(value), (param, value, error)
        assert "api_key callable" in str(error)
        assert server.requests == []
        return
    except OpenAIBatchesError as error:
        raise AssertionError(f"{param}={value!r} was accepted, then every call fails: {error!r}") from error
    check_batch(result)
    if param == "max_retries":
        assert isinstance(value, int)
        assert value >= server.failures
        assert len(server.requests) == server.failures + 1
    check_configured_request(param, value, server.requests[-1])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("param", CONSTRUCTOR_PARAMS)
@ARGUMENTS
@given(data=st.data())
def test_any_constructor_argument_is_refused_or_configures_the_client(
    param: str, mode: str, data: st.DataObject
) -> None:
    value = data.draw(setting_values(param), label=param)
    server = Server(FAILURES_BEFORE_SUCCESS if param == "max_retries" else 0)
    settings_: dict[str, Any] = {
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "max_retries": 0,
        "http_client": mock_http(mode, server),
        "retry_policy": Sleeps().policy(),
    }
    settings_[param] = _materialise(mode, value, server)
    cls = BatchClient if mode == "sync" else AsyncBatchClient
    try:
        client = cls(**settings_)
    except InvalidParameterError as error:
        assert error.param == param, (error.param, param)
        return
    except OpenAIBatchesError:
        # MissingAPIKeyError: a falsy key falls back to the (cleared) environment.
        assert param == "api_key"
        assert not value
        return
    if param == "http_client" and settings_[param] is None:
        # The client built its own pool; using it would go to the network.
        assert client.base_url == httpx.URL(BASE_URL)
        _close(mode, client)
        return
    if param == "max_retries" and isinstance(value, int) and value > FAILURES_BEFORE_SUCCESS:
        server.failures = 0  # a long row of 503s is not worth the time
    run_configured_retrieve(mode, client, server, param, value)
    assert API_KEY not in repr(client)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("param", WITH_OPTIONS_PARAMS)
@ARGUMENTS
@given(data=st.data())
def test_any_with_options_argument_is_refused_or_configures_the_copy(
    param: str, mode: str, data: st.DataObject
) -> None:
    value = data.draw(setting_values(param), label=param)
    server = Server(FAILURES_BEFORE_SUCCESS if param == "max_retries" and value is not NOT_GIVEN else 0)
    client = make_client(mode, server, retry_policy=Sleeps().policy())
    try:
        copy_ = client.with_options(**{param: value})
    except InvalidParameterError as error:
        assert error.param == param, (error.param, param)
        return
    except OpenAIBatchesError:
        # MissingAPIKeyError: a falsy key falls back to the (cleared) environment.
        assert param == "api_key"
        assert not value
        assert value is not NOT_GIVEN
        return
    if param == "max_retries" and isinstance(value, int) and value > FAILURES_BEFORE_SUCCESS:
        server.failures = 0
    run_configured_retrieve(mode, copy_, server, "unchanged" if value is NOT_GIVEN else param, value)
    assert client.max_retries == 0  # the original is untouched


# ---------------------------------------------------------------------------------------------------- defects found


def _run(mode: str, client: Any, op: str = "retrieve", **kwargs: Any) -> Any:
    return call_op(client, mode, op, {**BASE_KWARGS[op], **kwargs})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [200, 400, 500])
def test_deeply_nested_json_gives_a_library_error(status: int, mode: str) -> None:
    client = make_client(mode, Script([(status, [(b"content-type", b"application/json")], b"[" * 100_000)]))
    with pytest.raises(OpenAIBatchesError):
        _run(mode, client)


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_date_with_an_absurd_year_is_ignored(mode: str) -> None:
    header = (b"retry-after", b"Mon, 01 Jan 99999999999999999999 00:00:00 GMT")
    script = Script([(429, [header], b"{}"), (200, [], _encode(batch()))])
    sleeps = Sleeps()
    client = make_client(mode, script, max_retries=1, retry_policy=sleeps.policy())
    check_batch(_run(mode, client))
    assert len(sleeps.delays) == 1
    check_sleeps(sleeps)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "base_url", ["http://xn--a.example", "https://xn--/v1", SURROGATE, "https://api.example.test/v1/" + SURROGATE]
)
def test_undecodable_base_url_is_refused(base_url: str, mode: str) -> None:
    cls = BatchClient if mode == "sync" else AsyncBatchClient
    with pytest.raises(InvalidParameterError) as caught:
        cls(api_key=API_KEY, base_url=base_url, http_client=mock_http(mode, Server()))
    assert caught.value.param == "base_url"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("base_url", ["https://api.example.test/openai?api-version=2024-10-21", BASE_URL + "#frag"])
def test_base_url_with_query_or_fragment_is_refused_or_routed_correctly(base_url: str, mode: str) -> None:
    server = Server()
    cls = BatchClient if mode == "sync" else AsyncBatchClient
    try:
        client = cls(api_key=API_KEY, base_url=base_url, http_client=mock_http(mode, server))
    except InvalidParameterError as error:
        assert error.param == "base_url"
        return
    check_batch(_run(mode, client))
    assert server.requests[-1].url.path.endswith("/batches/batch_abc123")


@pytest.mark.parametrize("where", ["call", "client"])
@pytest.mark.parametrize("mode", MODES)
@ARGUMENTS
@given(timeout=st.floats(min_value=0.001) | st.sampled_from([math.nan, math.inf]))
@example(timeout=math.inf)
@example(timeout=math.nan)
def test_an_accepted_timeout_is_a_finite_positive_number(timeout: float, mode: str, where: str) -> None:
    server = Server()
    try:
        if where == "call":
            _run(mode, make_client(mode, server), timeout=timeout)
        else:
            _run(mode, make_client(mode, server, timeout=timeout))
    except InvalidParameterError as error:
        assert error.param == "timeout"
        assert server.requests == []
        return
    assert timeout_problems(server.requests[-1]) == []


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 that answers every request with a Batch (one request per connection)."""

    def __init__(self) -> None:
        body = _encode(batch())
        answer = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                self.wfile.write(answer)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
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


@pytest.mark.parametrize("timeout", [math.inf, 1e300, MAX_TIMEOUT_SECONDS * 2])
def test_a_timeout_a_socket_cannot_take_is_refused_up_front(timeout: float) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        BatchClient(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", timeout=timeout)
    assert caught.value.param == "timeout"
    with BatchClient(api_key=API_KEY, base_url="http://127.0.0.1:9/v1") as client, pytest.raises(InvalidParameterError):
        client.batches.retrieve("batch_abc123", timeout=timeout)


@pytest.mark.parametrize("timeout", [MAX_TIMEOUT_SECONDS, 30.001, None])
def test_the_largest_accepted_timeouts_work_on_a_real_socket(timeout: float | None) -> None:
    # The bound exists because sockets overflow on absurd values: everything up to it must really work.
    with (
        LoopbackServer() as loopback,
        BatchClient(api_key=API_KEY, base_url=loopback.base_url, max_retries=0, timeout=timeout) as client,
    ):
        check_batch(client.batches.retrieve("batch_abc123"))
        check_batch(client.batches.retrieve("batch_abc123", timeout=timeout))


VALUES_HTTPX_CANNOT_SEND = [
    pytest.param("retrieve", "extra_headers", {"X-Trace": 1}, id="extra_headers-int-value"),
    pytest.param("retrieve", "extra_headers", {"X-Trace": None}, id="extra_headers-None-value"),
    pytest.param("list", "extra_headers", {"X-Trace": "caf\u00e9"}, id="extra_headers-non-ascii-value"),
    pytest.param("create", "extra_headers", {"X-Trace": "a\r\nX-Injected: 1"}, id="extra_headers-crlf"),
    pytest.param("cancel", "extra_headers", {1: "x"}, id="extra_headers-int-name"),
    pytest.param("cancel", "extra_headers", {"X Trace": "x"}, id="extra_headers-bad-name"),
    pytest.param("create", "idempotency_key", "\u043a\u043b\u044e\u0447-1", id="idempotency_key-non-ascii"),
    pytest.param("create", "metadata", {"note": SURROGATE}, id="metadata-lone-surrogate"),
    pytest.param("create", "input_file_id", SURROGATE, id="input_file_id-lone-surrogate"),
    pytest.param("create", "endpoint", "/v1/" + SURROGATE, id="endpoint-lone-surrogate"),
    pytest.param("retrieve", "batch_id", SURROGATE, id="batch_id-lone-surrogate"),
    pytest.param("list", "after", SURROGATE, id="after-lone-surrogate"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("op", "param", "value"), VALUES_HTTPX_CANNOT_SEND)
def test_value_httpx_cannot_send_is_refused_as_invalid_parameter(op: str, param: str, value: object, mode: str) -> None:
    """Values that pass a type check but would fail inside httpx (encoding, header syntax) are refused up front."""
    server = Server()
    with pytest.raises(InvalidParameterError) as caught:
        _run(mode, make_client(mode, server), op, **{param: value})
    assert caught.value.param == param
    assert server.requests == []


SETTINGS_HTTPX_CANNOT_SEND = [
    pytest.param("api_key", "sk-caf\u00e9", id="api_key-non-ascii"),
    pytest.param("api_key", "sk-proj-abc\n", id="api_key-trailing-newline"),
    pytest.param("organization", "org-caf\u00e9", id="organization-non-ascii"),
    pytest.param("project", "proj\r\nX-Injected: 1", id="project-crlf"),
    pytest.param("default_headers", {"X-Gateway": "caf\u00e9"}, id="default_headers-non-ascii"),
    pytest.param("default_headers", {"X-Gateway": "a\r\nX-Injected: 1"}, id="default_headers-crlf"),
    pytest.param("default_headers", {"X Gateway": "a"}, id="default_headers-bad-name"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("param", "value"), SETTINGS_HTTPX_CANNOT_SEND)
def test_setting_httpx_cannot_send_is_refused_by_the_constructor(param: str, value: object, mode: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        make_client(mode, Server(), **{param: value})
    assert caught.value.param == param
    with pytest.raises(InvalidParameterError) as caught:
        make_client(mode, Server()).with_options(**{param: value})
    assert caught.value.param == param


# Values the overlay's header check (ASCII, no CR/LF/NUL) lets through but h11 refuses when the request is sent:
# trailing whitespace (a key pasted with a trailing space or tab) and the other whitespace controls.
H11_REFUSES = ["sk-proj-abc ", "sk-proj-abc\t", "a\x0bb", "a\x0cb"]
_H11_BUG = (
    "check_headers only refuses non-ASCII, CR, LF and NUL; h11 also refuses leading/trailing space or tab and "
    "\\x0b/\\x0c, so such a value is accepted and every request then fails as a (retried) APIConnectionError "
    "wrapping LocalProtocolError"
)


@pytest.mark.parametrize("value", H11_REFUSES)
@pytest.mark.parametrize("where", ["api_key", "organization", "project", "default_headers", "extra_headers"])
def test_accepted_header_value_is_one_h11_can_send(where: str, value: str) -> None:
    server = Server()
    try:
        if where == "extra_headers":
            _run("sync", make_client("sync", server), extra_headers={"X-Trace": value})
        else:
            setting = {"X-Gateway": value} if where == "default_headers" else value
            _run("sync", make_client("sync", server, **{where: setting}))
    except InvalidParameterError as error:
        assert error.param == where
        assert server.requests == []
        return
    assert header_problems(server.requests[-1]) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS)
@ARGUMENTS
@given(value=st.dictionaries(extra_header_names, header_texts, max_size=3))
@example(value={"X-Trace": "value "})
def test_accepted_extra_headers_are_sendable(value: dict[str, str], op: str, mode: str) -> None:
    server, _ = run_method_case(mode, op, "extra_headers", value)
    for request in server.requests:
        assert header_problems(request) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["extra_headers", "default_headers"])
@pytest.mark.parametrize("name", ["authorization", "user-agent", "ACCEPT"])
def test_a_header_override_replaces_the_default_in_any_case(name: str, where: str, mode: str) -> None:
    server = Server()
    if where == "extra_headers":
        _run(mode, make_client(mode, server), extra_headers={name: "mine"})
    else:
        _run(mode, make_client(mode, server, default_headers={name: "mine"}))
    assert server.requests[-1].headers.get_list(name) == ["mine"]


@pytest.mark.parametrize("mode", MODES)
def test_explicit_idempotency_key_is_the_only_one_sent(mode: str) -> None:
    server = Server()
    headers = {"Idempotency-Key": "a", "idempotency-key": "b"}
    _run(mode, make_client(mode, server), "create", idempotency_key="mine", extra_headers=headers)
    assert server.requests[-1].headers.get_list("idempotency-key") == ["mine"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["create", "retrieve", "cancel"])
@ARGUMENTS
@given(status=st.integers(200, 299))
@example(status=299)
def test_any_2xx_with_a_valid_batch_parses(status: int, op: str, mode: str) -> None:
    script = Script([(status, [(b"content-type", b"application/json")], _encode(batch()))])
    check_batch(_run(mode, make_client(mode, script), op))


@pytest.mark.parametrize("mode", MODES)
def test_list_page_with_null_has_more_is_refused(mode: str) -> None:
    body = {"object": "list", "data": [batch("batch_a")], "has_more": None}
    client = make_client(mode, Script([(200, [], _encode(body))]))
    with pytest.raises(APIResponseValidationError) as caught:
        _run(mode, client, "list")
    assert caught.value.field == "has_more"


@pytest.mark.parametrize("mode", MODES)
def test_validation_error_after_a_retry_counts_every_attempt(mode: str) -> None:
    script = Script([(503, [], b"{}"), (200, [], b'{"not": "a batch"}')])
    client = make_client(mode, script, max_retries=1, retry_policy=Sleeps().policy())
    with pytest.raises(APIError) as caught:
        _run(mode, client)
    assert isinstance(caught.value, APIResponseValidationError)
    assert caught.value.attempts == len(script.requests) == 2


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("charset", ["utf-32", "utf-16"])
def test_error_status_with_an_undecodable_charset_is_still_a_status_error(charset: str, mode: str) -> None:
    content_type = f"application/json; charset={charset}".encode()
    rate_limited = (429, [(b"content-type", content_type)], b'{"error": {"message": "slow down"}}')
    script = Script([rate_limited, (200, [], _encode(batch()))])
    client = make_client(mode, script, max_retries=1, retry_policy=Sleeps().policy())
    check_batch(_run(mode, client))
    assert script.statuses == [429, 200]
