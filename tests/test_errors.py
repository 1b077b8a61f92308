"""Every way a call can fail maps to one of the library's own exceptions, sync and async.

A user writes `except RateLimitError` or `except APIStatusError` and reads `.status_code`, `.message`, `.request_id`;
whatever the server sends (any status, HTML, empty or truncated bodies, broken connections), nothing from httpx,
json or the generated code may reach them, and the API key must never show up in an error's text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from helpers import (
    API_KEY,
    DECODERS,
    OPERATIONS,
    RUNNERS,
    async_client,
    batch,
    json_response,
    list_body,
    sync_client,
    use_decoder,
)
from openai_batches import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Batch,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OpenAIBatchesError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

REQUEST_ID = "req_0123456789abcdef"
ERROR_BODY = {
    "error": {
        "message": "Invalid 'limit': integer above maximum value.",
        "type": "invalid_request_error",
        "param": "limit",
        "code": None,
    }
}


@pytest.fixture(params=DECODERS, autouse=True)
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with msgspec and with the standard library alone: the same errors either way."""
    use_decoder(request.param, monkeypatch)
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Any:
    """Runs one operation through `BatchClient` or `AsyncBatchClient` against a handler."""
    return RUNNERS[request.param]


def raised(run: Any, handler: Any, operation: str = "retrieve") -> OpenAIBatchesError:
    # pytest.raises(OpenAIBatchesError) lets anything else (httpx, json, KeyError...) fail the test as it is.
    with pytest.raises(OpenAIBatchesError) as info:
        run(handler, operation)
    return info.value


def answer(status: int, content: bytes | str, content_type: str = "application/json", **headers: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type, **headers})

    return handler


# ---------------------------------------------------------------- status code -> class


STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
    (504, InternalServerError),
    # Codes Python's HTTPStatus does not know: the generated code would raise ValueError on them.
    (520, InternalServerError),
    (529, InternalServerError),
    (499, APIStatusError),
    (418, APIStatusError),
    (405, APIStatusError),
    # Redirects are not followed: the API never redirects, so one is an answer the caller must see.
    (300, APIStatusError),
    (301, APIStatusError),
    (302, APIStatusError),
    (307, APIStatusError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES, ids=[str(s) for s, _ in STATUS_CLASSES])
def test_status_maps_to_class_with_every_detail(run: Any, status: int, cls: type[APIStatusError]) -> None:
    handler = answer(
        status, json.dumps(ERROR_BODY), **{"x-request-id": REQUEST_ID, "location": "https://elsewhere.test/"}
    )
    exc = raised(run, handler)

    assert type(exc) is cls
    assert isinstance(exc, APIStatusError)
    assert isinstance(exc, APIError)
    assert isinstance(exc, OpenAIBatchesError)
    assert exc.status_code == status
    assert exc.message == "Invalid 'limit': integer above maximum value."
    assert exc.type == "invalid_request_error"
    assert exc.param == "limit"
    assert exc.code is None
    assert exc.body == ERROR_BODY["error"]  # the inner error object, as in the official SDK
    assert exc.request_id == REQUEST_ID
    assert isinstance(exc.response, httpx.Response)
    assert exc.response.status_code == status
    assert exc.response.json() == ERROR_BODY  # the envelope stays reachable
    assert exc.request is not None
    assert exc.request.method == "GET"
    assert exc.request.url == "https://api.example.test/v1/batches/batch_abc123"
    assert str(status) in str(exc)
    assert "Invalid 'limit': integer above maximum value." in str(exc)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(("status", "cls"), [(404, NotFoundError), (429, RateLimitError), (529, InternalServerError)])
def test_every_operation_maps_errors(run: Any, operation: str, status: int, cls: type[APIStatusError]) -> None:
    exc = raised(run, answer(status, json.dumps(ERROR_BODY), **{"x-request-id": REQUEST_ID}), operation)
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.request_id == REQUEST_ID


def test_code_is_read_from_the_body(run: Any) -> None:
    body = {"error": {"message": "Slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    exc = raised(run, answer(429, json.dumps(body)))
    assert isinstance(exc, RateLimitError)
    assert exc.code == "rate_limit_exceeded"
    assert exc.param is None
    assert exc.request_id is None  # no x-request-id header


# ---------------------------------------------------------------- odd bodies on error statuses


def test_html_502_page(run: Any) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    exc = raised(run, answer(502, page, "text/html", **{"x-request-id": REQUEST_ID}))
    assert type(exc) is InternalServerError
    assert exc.status_code == 502
    assert "Bad Gateway" in exc.message
    assert exc.type is None
    assert exc.code is None
    assert exc.param is None
    assert exc.request_id == REQUEST_ID
    assert "502" in str(exc)


@pytest.mark.parametrize(("status", "message"), [(500, "Internal Server Error"), (520, "no response body")])
def test_empty_error_body(run: Any, status: int, message: str) -> None:
    exc = raised(run, answer(status, b""))
    assert type(exc) is InternalServerError
    assert exc.status_code == status
    assert exc.body is None
    assert exc.message == message  # the status's reason, or something to read when it has none
    assert str(status) in str(exc)


@pytest.mark.parametrize(
    "content",
    [
        b'{"error": {"message": "trunc',  # truncated JSON
        b'["not", "an", "object"]',
        b'{"detail": "some other shape"}',
        b'{"error": ["a", "list"]}',
        b"\xff\xfe\x00\x81 not utf-8",
    ],
    ids=["truncated", "array", "other-shape", "error-list", "non-utf8"],
)
def test_unusual_error_bodies_still_map_by_status(run: Any, content: bytes) -> None:
    exc = raised(run, answer(400, content))
    assert type(exc) is BadRequestError
    assert exc.status_code == 400
    assert isinstance(exc.message, str)
    assert exc.message
    assert exc.type is None


def test_error_given_as_a_plain_string(run: Any) -> None:
    exc = raised(run, answer(403, json.dumps({"error": "Project is archived"})))
    assert type(exc) is PermissionDeniedError
    assert exc.message == "Project is archived"


# ---------------------------------------------------------------- the message when the body gives none


def test_a_text_error_body_is_the_message_and_the_body(run: Any) -> None:
    exc = raised(run, answer(503, "upstream overloaded,\n\n   try again later", "text/plain"))
    assert isinstance(exc, InternalServerError)
    assert exc.body == "upstream overloaded,\n\n   try again later"
    assert exc.message == "upstream overloaded, try again later"  # runs of whitespace read as one space


@pytest.mark.parametrize(("length", "message"), [(300, "a" * 300), (301, "a" * 300 + "...")])
def test_a_long_text_body_is_cut_at_300_characters_in_the_message(run: Any, length: int, message: str) -> None:
    exc = raised(run, answer(500, "a" * length, "text/plain"))
    assert isinstance(exc, InternalServerError)
    assert exc.message == message
    assert exc.body == "a" * length  # the body itself is kept whole


@pytest.mark.parametrize(
    "body",
    [{"error": {"message": 42}}, {"error": {"message": ""}}, {"error": 42}, {"error": ""}, {"detail": "x"}],
    ids=["number", "empty-message", "error-number", "error-empty", "no-error"],
)
def test_an_error_without_a_usable_message_shows_the_body(run: Any, body: dict[str, Any]) -> None:
    content = json.dumps(body)
    exc = raised(run, answer(400, content))
    assert isinstance(exc, BadRequestError)
    assert exc.message == content


# ---------------------------------------------------------------- success statuses with unusable bodies


BAD_SUCCESS_BODIES = [
    pytest.param(200, b"<html><body>Welcome to our portal</body></html>", "text/html", id="html-200"),
    pytest.param(200, b"", "application/json", id="empty-200"),
    pytest.param(200, b'{"id": "batch_abc123", "object": "ba', "application/json", id="truncated-200"),
    pytest.param(200, b'[{"id": "batch_abc123"}]', "application/json", id="array-200"),
    pytest.param(200, b"null", "application/json", id="null-200"),
    pytest.param(200, b'"a string"', "application/json", id="string-200"),
    pytest.param(200, b"\xff\xfe\xfa\x00{", "application/json", id="non-utf8-200"),
    pytest.param(204, b"", "application/json", id="no-content-204"),
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(("status", "content", "content_type"), BAD_SUCCESS_BODIES)
def test_unusable_success_body_is_a_validation_error(
    run: Any, operation: str, status: int, content: bytes, content_type: str
) -> None:
    exc = raised(run, answer(status, content, content_type, **{"x-request-id": REQUEST_ID}), operation)
    assert type(exc) is APIResponseValidationError
    assert isinstance(exc, APIError)
    assert exc.status_code == status
    assert exc.response.status_code == status
    assert exc.request_id == REQUEST_ID
    assert exc.request is not None


@pytest.mark.parametrize("operation", ["create", "retrieve"])
def test_201_with_a_valid_batch_is_a_success(run: Any, operation: str) -> None:
    result = run(lambda request: json_response(201, batch()), operation)
    assert isinstance(result, Batch)
    assert result.id == "batch_abc123"


def test_missing_required_field_names_it(run: Any) -> None:
    body = batch()
    del body["id"]
    exc = raised(run, lambda request: json_response(200, body))
    assert type(exc) is APIResponseValidationError
    assert exc.field == "id"
    assert "id" in str(exc)


def test_nested_object_of_the_wrong_type_names_it(run: Any) -> None:
    exc = raised(run, lambda request: json_response(200, batch(request_counts="10 of 12")))
    assert type(exc) is APIResponseValidationError
    assert exc.field == "request_counts"


@pytest.mark.parametrize("data", [5, "batch_abc123", True, {"id": "batch_abc123"}])
def test_list_data_not_a_list_names_it(run: Any, data: object) -> None:
    body = {"object": "list", "data": data, "has_more": False}
    exc = raised(run, lambda request: json_response(200, body), "list")
    assert type(exc) is APIResponseValidationError
    assert exc.field == "data"


@pytest.mark.parametrize("data", [{}, ""], ids=["empty-object", "empty-string"])
def test_list_data_empty_non_list_names_it(run: Any, data: object) -> None:
    body = {"object": "list", "data": data, "has_more": False}
    exc = raised(run, lambda request: json_response(200, body), "list")
    assert type(exc) is APIResponseValidationError
    assert exc.field == "data"


def test_list_item_missing_a_field_names_its_path(run: Any) -> None:
    body = list_body(["batch_1", "batch_2", "batch_3"], has_more=False)
    del body["data"][1]["status"]
    exc = raised(run, lambda request: json_response(200, body), "list")
    assert type(exc) is APIResponseValidationError
    assert exc.field == "data[1].status"


def test_nested_object_missing_a_key_names_the_key(run: Any) -> None:
    exc = raised(run, lambda request: json_response(200, batch(request_counts={"total": 3, "completed": 1})))
    assert type(exc) is APIResponseValidationError
    assert exc.field == "request_counts.failed"
    assert "expected an object, got object" not in str(exc)


# ---------------------------------------------------------------- connection failures


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_transport_failure_is_a_connection_error(run: Any, operation: str, error: httpx.HTTPError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    exc = raised(run, handler, operation)
    assert type(exc) is APIConnectionError
    assert isinstance(exc, APIError)
    assert exc.request is not None
    assert exc.request.url.host == "api.example.test"


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.WriteTimeout("timed out"),
        httpx.PoolTimeout("timed out"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_timeout_is_a_timeout_error(run: Any, operation: str, error: httpx.HTTPError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    exc = raised(run, handler, operation)
    assert type(exc) is APITimeoutError
    assert isinstance(exc, APIConnectionError)
    assert exc.request is not None


# ---------------------------------------------------------------- the API key stays secret


def assert_no_key(exc: BaseException) -> None:
    assert API_KEY not in str(exc)
    assert API_KEY not in repr(exc)
    if isinstance(exc, APIError):
        assert API_KEY not in exc.message


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (401, json.dumps({"error": {"message": f"Incorrect API key provided: {API_KEY}.", "type": "invalid"}})),
        (401, json.dumps({"error": {"message": f"Bearer {API_KEY} refused", "param": API_KEY, "code": API_KEY}})),
        (502, f"<html><body>upstream rejected Authorization: Bearer {API_KEY}</body></html>"),
        (418, f"key={API_KEY}"),
        (500, json.dumps({"error": f"bad key {API_KEY}"})),
    ],
    ids=["json-message", "json-every-field", "html", "plain-text", "error-string"],
)
def test_key_echoed_in_an_error_body_is_not_shown(run: Any, status: int, content: str) -> None:
    exc = raised(run, answer(status, content))
    assert isinstance(exc, APIStatusError)
    assert_no_key(exc)
    assert API_KEY not in repr(exc.body)
    for detail in (exc.type, exc.code, exc.param):
        assert detail is None or API_KEY not in detail


def test_key_echoed_with_json_escapes_is_not_shown(run: Any) -> None:
    escaped = API_KEY.replace("-", "\\u002d")
    content = '{"error": {"message": "Incorrect API key provided: ' + escaped + '"}}'
    exc = raised(run, answer(401, content))
    assert isinstance(exc, AuthenticationError)
    assert_no_key(exc)


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"id": API_KEY}),  # required fields missing
        '{"note": "' + API_KEY + '", "trunc',  # not valid JSON
        f"<html>{API_KEY}</html>",
    ],
    ids=["missing-fields", "truncated", "html"],
)
def test_key_in_a_bad_success_body_is_not_shown(run: Any, content: str) -> None:
    exc = raised(run, answer(200, content))
    assert type(exc) is APIResponseValidationError
    assert_no_key(exc)


class _TrackedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that may break off, and records whether the client closed it (gave the connection back)."""

    def __init__(self, content: bytes, failure: Exception | None) -> None:
        self.content = content
        self.failure = failure
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.content
        if self.failure is not None:
            raise self.failure

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("status", "encoding", "failure", "cls"),
    [
        (200, "gzip", None, APIResponseValidationError),
        (400, "gzip", None, BadRequestError),
        (200, None, httpx.ReadError("connection reset mid-body"), APIConnectionError),
        (400, None, httpx.ReadError("connection reset mid-body"), APIConnectionError),
    ],
    ids=["undecodable-200", "undecodable-400", "broken-off-200", "broken-off-400"],
)
def test_a_body_that_cannot_be_read_is_closed_so_its_connection_is_released(
    run: Any, status: int, encoding: str | None, failure: Exception | None, cls: type[OpenAIBatchesError]
) -> None:
    bodies: list[_TrackedBody] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(_TrackedBody(b"this is not gzip" if encoding else b'{"id": "batch_', failure))
        headers = {"content-type": "application/json", **({"content-encoding": encoding} if encoding else {})}
        return httpx.Response(status, headers=headers, stream=bodies[-1])

    assert type(raised(run, handler)) is cls
    assert [body.closed for body in bodies] == [True]


def test_key_in_a_transport_error_is_not_shown(run: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused request with Authorization: Bearer {API_KEY}")

    exc = raised(run, handler)
    assert type(exc) is APIConnectionError
    assert_no_key(exc)


def test_client_repr_hides_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    clients = [sync_client(handler), async_client(handler)]
    clients += [c.with_options(max_retries=1) for c in clients]
    for client in clients:
        assert API_KEY not in repr(client)
        assert API_KEY not in str(client)
        assert "api.example.test" in repr(client)
