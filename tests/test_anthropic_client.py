"""`openai_batches.anthropic`: the Message Batches client, sync and async.

Over `httpx.MockTransport`: the exact request on the wire (method, path, `x-api-key`, `anthropic-version`, no
`Authorization`, the JSON body), the parsed models, retries with an injected sleeper, pagination across pages and its
guards, every error status as its typed error, results streamed line by line, and the key never shown. Then every
method against the local server on loopback, in both clients.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import DECODERS, use_decoder
from openai_batches import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidParameterError,
    MissingAPIKeyError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
)
from openai_batches.anthropic import (
    AnthropicBatchClient,
    AsyncAnthropicBatchClient,
    DeletedMessageBatch,
    GatewayTimeoutError,
    MessageBatch,
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchExpiredResult,
    MessageBatchIndividualResponse,
    MessageBatchResult,
    MessageBatchSucceededResult,
    OverloadedError,
    RequestTooLargeError,
    ServiceUnavailableError,
    SyncPage,
)
from openai_batches.anthropic.types import MessageBatchProcessingStatus
from openai_batches_server import LocalServer, run_server

KEY = "sk-ant-test-SECRET987"
BASE = "https://anthropic.example.test"
MODEL = "claude-3-5-haiku-latest"
MODES = ["sync", "async"]

Handler = Callable[[httpx.Request], httpx.Response]


def batch_body(batch_id: str = "msgbatch_01", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": batch_id,
        "type": "message_batch",
        "processing_status": "in_progress",
        "request_counts": {"processing": 2, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
        "ended_at": None,
        "created_at": "2024-08-20T18:37:24.100435Z",
        "expires_at": "2024-08-21T18:37:24.100435Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": None,
    }
    body.update(fields)
    return body


def page_body(ids: list[str], *, has_more: bool) -> dict[str, Any]:
    return {
        "data": [batch_body(i) for i in ids],
        "has_more": has_more,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def request_items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "custom_id": f"req-{i}",
            "params": {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": f"say {i}"}]},
        }
        for i in range(count)
    ]


class Recorder:
    """A MockTransport handler that keeps every request and answers from a list (the last answer repeats)."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep, random=lambda: 0.0, clock=lambda: 0.0)


def ok(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def run(mode: str, handler: Handler, operation: Callable[[Any], Any], **options: Any) -> Any:
    """`operation(client.messages.batches)` in the sync or the async client over `handler` (awaited if need be)."""
    settings: dict[str, Any] = {"api_key": KEY, "base_url": BASE, "max_retries": 0, **options}
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        with AnthropicBatchClient(http_client=httpx.Client(transport=transport), **settings) as client:
            return operation(client.messages.batches)

    async def main() -> Any:
        async with AsyncAnthropicBatchClient(http_client=httpx.AsyncClient(transport=transport), **settings) as client:
            result = operation(client.messages.batches)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


def listed(mode: str, handler: Handler, **kwargs: Any) -> list[str]:
    """Every id a listing walks through, and the requests it made, in either client."""
    if mode == "sync":
        return run(mode, handler, lambda batches: [b.id for b in batches.list(**kwargs)])

    async def walk(batches: Any) -> list[str]:
        return [b.id async for b in batches.list(**kwargs)]

    return run(mode, handler, walk)


def results_of(mode: str, handler: Handler, batch_id: str = "msgbatch_01") -> list[MessageBatchIndividualResponse]:
    if mode == "sync":
        return run(mode, handler, lambda batches: list(batches.results(batch_id)))

    async def read(batches: Any) -> list[MessageBatchIndividualResponse]:
        stream = await batches.results(batch_id)
        return [item async for item in stream]

    return run(mode, handler, read)


# --- the request on the wire ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_create_sends_the_key_in_x_api_key_the_version_and_the_requests_as_given(mode: str) -> None:
    recorder = Recorder(ok(batch_body()))
    created = run(mode, recorder, lambda batches: batches.create(requests=request_items(2)))
    (request,) = recorder.requests
    assert request.method == "POST"
    assert request.url == httpx.URL(f"{BASE}/v1/messages/batches")
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert not any(name.lower().startswith("openai-") for name in request.headers)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"requests": request_items(2)}
    assert isinstance(created, MessageBatch)
    assert created.id == "msgbatch_01" and created.type == "message_batch"
    assert created.processing_status is MessageBatchProcessingStatus.IN_PROGRESS
    assert created.request_counts.processing == 2
    assert created.created_at == "2024-08-20T18:37:24.100435Z" and created.ended_at is None
    assert created.to_dict() == batch_body()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method_name", "http_method", "path", "answer", "model"),
    [
        ("retrieve", "GET", "/v1/messages/batches/msgbatch%2F1", batch_body(), MessageBatch),
        ("cancel", "POST", "/v1/messages/batches/msgbatch%2F1/cancel", batch_body(), MessageBatch),
        (
            "delete",
            "DELETE",
            "/v1/messages/batches/msgbatch%2F1",
            {"id": "msgbatch/1", "type": "message_batch_deleted"},
            DeletedMessageBatch,
        ),
    ],
)
def test_each_method_sends_its_method_and_path_with_the_id_encoded(
    mode: str, method_name: str, http_method: str, path: str, answer: dict[str, Any], model: type
) -> None:
    recorder = Recorder(ok(answer))
    parsed = run(mode, recorder, lambda batches: getattr(batches, method_name)("msgbatch/1"))
    (request,) = recorder.requests
    assert (request.method, request.url.raw_path.decode()) == (http_method, path)
    assert request.headers["x-api-key"] == KEY and "authorization" not in request.headers
    assert request.content == b""
    assert type(parsed) is model


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_status_or_field_is_kept_not_refused(mode: str) -> None:
    body = batch_body(processing_status="archiving", new_field={"x": 1})
    parsed = run(mode, Recorder(ok(body)), lambda batches: batches.retrieve("msgbatch_01"))
    assert parsed.processing_status == "archiving"
    assert parsed.additional_properties == {"new_field": {"x": 1}}


@pytest.mark.parametrize("decoder", DECODERS)
def test_both_decoders_give_the_same_models(decoder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    use_decoder(decoder, monkeypatch)
    body = batch_body(processing_status="ended", ended_at="2024-08-21T00:00:00Z", extra_field=[1])
    parsed = run("sync", Recorder(ok(body)), lambda batches: batches.retrieve("msgbatch_01"))
    assert type(parsed) is MessageBatch and parsed.to_dict() == body
    assert parsed.processing_status is MessageBatchProcessingStatus.ENDED
    page = run("sync", Recorder(ok(page_body(["b1", "b2"], has_more=False))), lambda batches: batches.list())
    assert [type(b) for b in page.data] == [MessageBatch, MessageBatch]
    assert [b.to_dict() for b in page.data] == page_body(["b1", "b2"], has_more=False)["data"]


@pytest.mark.parametrize("mode", MODES)
def test_a_body_that_is_not_a_batch_names_the_field(mode: str) -> None:
    body = batch_body(request_counts={"processing": "many"})
    with pytest.raises(APIResponseValidationError) as caught:
        run(mode, Recorder(ok(body)), lambda batches: batches.retrieve("msgbatch_01"))
    assert caught.value.field is not None and caught.value.field.startswith("request_counts")


@pytest.mark.parametrize("mode", MODES)
def test_raw_response_gives_headers_and_the_parsed_batch(mode: str) -> None:
    recorder = Recorder(ok(batch_body(), headers={"request-id": "req_42"}))
    settings: dict[str, Any] = {"api_key": KEY, "base_url": BASE, "max_retries": 0}
    transport = httpx.MockTransport(recorder)
    if mode == "sync":
        client = AnthropicBatchClient(http_client=httpx.Client(transport=transport), **settings)
        raw = client.with_raw_response.messages.batches.retrieve("msgbatch_01")
    else:

        async def main() -> Any:
            client = AsyncAnthropicBatchClient(http_client=httpx.AsyncClient(transport=transport), **settings)
            return await client.with_raw_response.messages.batches.retrieve("msgbatch_01")

        raw = asyncio.run(main())
    assert raw.status_code == 200 and raw.headers["request-id"] == "req_42"
    assert raw.parse().id == "msgbatch_01"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda b: b.retrieve(""), "message_batch_id"),
        (lambda b: b.cancel(7), "message_batch_id"),
        (lambda b: b.list(before_id="a", after_id="b"), "before_id"),
        (lambda b: b.list(limit=0), "limit"),
        (lambda b: b.list(limit=101), "limit"),
        (lambda b: b.create(requests=[]), "requests"),
        (lambda b: b.create(requests={"custom_id": "a"}), "requests"),
        (lambda b: b.create(requests=[{"custom_id": "a"}]), "requests[0].params"),
        (lambda b: b.create(requests=[{"custom_id": "a", "params": {}, "extra": 1}]), "requests[0]"),
        (lambda b: b.create(requests=[{"custom_id": 1, "params": {}}]), "requests[0].custom_id"),
        (lambda b: b.create(requests=[{"custom_id": "a", "params": {"t": float("nan")}}]), "requests[0].params"),
    ],
)
def test_arguments_are_refused_before_anything_is_sent(mode: str, call: Callable[[Any], Any], param: str) -> None:
    recorder = Recorder(ok(batch_body()))
    with pytest.raises(InvalidParameterError) as caught:
        run(mode, recorder, call)
    assert caught.value.param == param
    assert recorder.requests == []


# --- settings ---------------------------------------------------------------------------------------------------


def test_the_environment_gives_the_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://proxy.example.test/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-be-used")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-must-not-be-sent")
    recorder = Recorder(ok(batch_body()))
    client = AnthropicBatchClient(http_client=httpx.Client(transport=httpx.MockTransport(recorder)))
    client.messages.batches.retrieve("msgbatch_01")
    (request,) = recorder.requests
    assert request.url == httpx.URL("https://proxy.example.test/v1/messages/batches/msgbatch_01")
    assert request.headers["x-api-key"] == "sk-ant-from-env"
    assert "openai-organization" not in request.headers
    assert client.api_key == "sk-ant-from-env"


def test_the_defaults_are_the_public_api_and_no_key_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-be-used")
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        AnthropicBatchClient()
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        AsyncAnthropicBatchClient()
    client = AnthropicBatchClient(api_key=KEY)
    assert client.base_url == httpx.URL("https://api.anthropic.com")
    assert client.max_retries == 2
    client.close()
    assert client.is_closed()


@pytest.mark.parametrize("mode", MODES)
def test_default_headers_may_replace_the_version_and_call_headers_win(mode: str) -> None:
    recorder = Recorder(ok(batch_body()))
    run(
        mode,
        recorder,
        lambda b: b.retrieve("msgbatch_01", extra_headers={"anthropic-beta": "x"}),
        default_headers={"Anthropic-Version": "2099-01-01"},
    )
    (request,) = recorder.requests
    assert request.headers.get_list("anthropic-version") == ["2099-01-01"]
    assert request.headers["anthropic-beta"] == "x"


@pytest.mark.parametrize("mode", MODES)
def test_with_options_changes_settings_over_the_same_pool(mode: str) -> None:
    recorder = Recorder(ok(batch_body()))
    sleeps = Sleeps()
    transport = httpx.MockTransport(recorder)
    settings: dict[str, Any] = {"api_key": KEY, "base_url": BASE, "default_headers": {"x-team": "a"}}
    changes: dict[str, Any] = {
        "api_key": "sk-ant-other",
        "default_headers": {"x-extra": "b"},
        "max_retries": 4,
        "retry_policy": sleeps.policy(),
    }
    if mode == "sync":
        client = AnthropicBatchClient(http_client=httpx.Client(transport=transport), **settings)
        copy = client.with_options(**changes)
        assert client.copy.__func__ is client.with_options.__func__  # type: ignore[attr-defined]
        copy.messages.batches.retrieve("msgbatch_01")
    else:

        async def main() -> Any:
            client = AsyncAnthropicBatchClient(http_client=httpx.AsyncClient(transport=transport), **settings)
            copy = client.with_options(**changes)
            await copy.messages.batches.retrieve("msgbatch_01")
            return client, copy

        client, copy = asyncio.run(main())
    (request,) = recorder.requests
    assert request.headers["x-api-key"] == "sk-ant-other" and "authorization" not in request.headers
    assert request.headers["x-team"] == "a" and request.headers["x-extra"] == "b"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert copy.max_retries == 4 and client.max_retries == 2 and client.api_key == KEY
    assert copy._http is client._http and copy._options.retry is changes["retry_policy"]
    assert type(copy) is type(client)


def test_the_key_is_in_no_repr_error_or_log_line(caplog: pytest.LogCaptureFixture) -> None:
    echoed = error_body("authentication_error", f"invalid x-api-key {KEY}")
    recorder = Recorder(httpx.Response(401, json=echoed, headers={"request-id": f"req_{KEY}"}))
    client = AnthropicBatchClient(
        api_key=KEY, base_url=BASE, max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    assert KEY not in repr(client) and KEY not in repr(client._options)
    assert KEY not in repr(AsyncAnthropicBatchClient(api_key=KEY, base_url=BASE))
    with caplog.at_level(logging.DEBUG, logger="openai_batches"), pytest.raises(AuthenticationError) as caught:
        client.messages.batches.retrieve("msgbatch_01")
    error = caught.value
    shown = [str(error), repr(error), error.message, str(error.body), str(error.request_id), caplog.text]
    assert not [text for text in shown if KEY in text]
    assert "<redacted>" in error.message
    assert caplog.records, "the debug log was not captured, so the check is vacuous"
    assert recorder.requests[0].headers["x-api-key"] == KEY


# --- errors and retries -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (400, "invalid_request_error", BadRequestError),
        (401, "authentication_error", AuthenticationError),
        (403, "permission_error", PermissionDeniedError),
        (404, "not_found_error", NotFoundError),
        (409, "invalid_request_error", ConflictError),
        (413, "request_too_large", RequestTooLargeError),
        (422, "invalid_request_error", UnprocessableEntityError),
        (429, "rate_limit_error", RateLimitError),
        (500, "api_error", InternalServerError),
        (503, "api_error", ServiceUnavailableError),
        (504, "api_error", GatewayTimeoutError),
        (529, "overloaded_error", OverloadedError),
        (418, "teapot_error", APIStatusError),
    ],
)
def test_every_error_status_is_its_typed_error(mode: str, status: int, kind: str, expected: type) -> None:
    answer = httpx.Response(status, json=error_body(kind, "what went wrong"), headers={"request-id": "req_7"})
    with pytest.raises(APIStatusError) as caught:
        run(mode, Recorder(answer), lambda batches: batches.retrieve("msgbatch_01"))
    error = caught.value
    assert type(error) is expected
    assert error.status_code == status and error.message == "what went wrong"
    assert error.request_id == "req_7" and error.type == kind
    assert error.body == {"type": kind, "message": "what went wrong"}
    assert str(error) == f"Error code: {status} - what went wrong (request id req_7)"
    if status in (503, 504, 529):
        assert isinstance(error, InternalServerError)


@pytest.mark.parametrize("mode", MODES)
def test_overloaded_and_rate_limited_answers_are_retried_after_the_wait_asked(mode: str) -> None:
    sleeps = Sleeps()
    recorder = Recorder(
        httpx.Response(529, json=error_body("overloaded_error", "busy")),
        httpx.Response(429, json=error_body("rate_limit_error", "slow"), headers={"retry-after": "3"}),
        ok(batch_body()),
    )
    parsed = run(mode, recorder, lambda b: b.retrieve("msgbatch_01"), max_retries=2, retry_policy=sleeps.policy())
    assert parsed.id == "msgbatch_01"
    assert len(recorder.requests) == 3
    assert sleeps.waits == [0.5, 3.0]
    assert all(r.headers["x-api-key"] == KEY for r in recorder.requests)


@pytest.mark.parametrize("mode", MODES)
def test_x_should_retry_and_max_retries_decide(mode: str) -> None:
    sleeps = Sleeps()
    refused = httpx.Response(500, json=error_body("api_error", "no"), headers={"x-should-retry": "false"})
    recorder = Recorder(refused)
    with pytest.raises(InternalServerError):
        run(mode, recorder, lambda b: b.retrieve("x"), max_retries=3, retry_policy=sleeps.policy())
    assert len(recorder.requests) == 1 and sleeps.waits == []
    recorder = Recorder(
        httpx.Response(400, json=error_body("invalid_request_error", "bad"), headers={"x-should-retry": "true"})
    )
    with pytest.raises(BadRequestError) as caught:
        run(mode, recorder, lambda b: b.retrieve("x"), max_retries=2, retry_policy=sleeps.policy())
    assert len(recorder.requests) == 3 and caught.value.attempts == 3
    recorder = Recorder(httpx.Response(529, json=error_body("overloaded_error", "busy")))
    with pytest.raises(OverloadedError):
        run(mode, recorder, lambda b: b.retrieve("x", max_retries=0), max_retries=5, retry_policy=sleeps.policy())
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_connection_error_is_retried_then_reported(mode: str) -> None:
    sleeps = Sleeps()
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(APIConnectionError):
        run(mode, handler, lambda b: b.create(requests=request_items(1)), max_retries=1, retry_policy=sleeps.policy())
    assert len(calls) == 2 and len(sleeps.waits) == 1


# --- pagination -------------------------------------------------------------------------------------------------


def _pages(*pages: dict[str, Any]) -> Recorder:
    return Recorder(*(ok(page) for page in pages))


@pytest.mark.parametrize("mode", MODES)
def test_list_walks_forwards_with_after_id(mode: str) -> None:
    recorder = _pages(
        page_body(["b1", "b2"], has_more=True), page_body(["b3"], has_more=True), page_body([], has_more=False)
    )
    assert listed(mode, recorder, limit=2) == ["b1", "b2", "b3"]
    queries = [dict(r.url.params) for r in recorder.requests]
    assert queries == [{"limit": "2"}, {"after_id": "b2", "limit": "2"}, {"after_id": "b3", "limit": "2"}]
    assert all(r.url.path == "/v1/messages/batches" and r.method == "GET" for r in recorder.requests)


@pytest.mark.parametrize("mode", MODES)
def test_list_with_before_id_walks_backwards_from_each_first_item(mode: str) -> None:
    recorder = _pages(page_body(["b5", "b6"], has_more=True), page_body(["b3", "b4"], has_more=False))
    assert listed(mode, recorder, before_id="b7") == ["b5", "b6", "b3", "b4"]
    assert [dict(r.url.params) for r in recorder.requests] == [{"before_id": "b7"}, {"before_id": "b5"}]


@pytest.mark.parametrize("mode", MODES)
def test_a_repeated_cursor_stops_the_walk_instead_of_looping(mode: str) -> None:
    recorder = Recorder(
        ok(page_body(["b1", "b2"], has_more=True)),
        ok(page_body(["b3", "b4"], has_more=True)),
        ok(page_body(["b1", "b2"], has_more=True)),  # back to the first page, forever
    )
    seen: list[str] = []
    if mode == "sync":

        def walk(batches: Any) -> None:
            for b in batches.list():
                seen.append(b.id)

    else:

        async def walk(batches: Any) -> None:  # type: ignore[misc]
            async for b in batches.list():
                seen.append(b.id)

    with pytest.raises(PaginationError, match="repeated the cursor"):
        run(mode, recorder, walk)
    assert seen == ["b1", "b2", "b3", "b4", "b1", "b2"]
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_page_that_says_has_more_stops_the_walk(mode: str) -> None:
    recorder = _pages(page_body(["b1"], has_more=True), page_body([], has_more=True))
    with pytest.raises(PaginationError, match="empty"):
        listed(mode, recorder)
    assert len(recorder.requests) == 2


def test_a_page_says_where_the_next_one_starts() -> None:
    recorder = _pages(page_body(["b1", "b2"], has_more=True), page_body(["b3"], has_more=False))
    client = AnthropicBatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    page = client.messages.batches.list()
    assert isinstance(page, SyncPage) and [b.id for b in page.data] == ["b1", "b2"]
    assert page.has_next_page() and page.next_page_info() is not None
    assert page.next_page_info().params == {"after_id": "b2"}  # type: ignore[union-attr]
    last = page.get_next_page()
    assert [b.id for b in last.data] == ["b3"] and last.next_page_info() is None
    assert "SECRET" not in repr(page)
    backward = AnthropicBatchClient(
        api_key=KEY,
        base_url=BASE,
        http_client=httpx.Client(transport=httpx.MockTransport(_pages(page_body(["b1", "b2"], has_more=True)))),
    ).messages.batches.list(before_id="b9")
    assert backward.next_page_info().params == {"before_id": "b1"}  # type: ignore[union-attr]


# --- results ----------------------------------------------------------------------------------------------------

RESULT_LINES = [
    {
        "custom_id": "req-0",
        "result": {
            "type": "succeeded",
            "message": {"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "hi"}]},
        },
    },
    {"custom_id": "req-1", "result": {"type": "errored", "error": error_body("invalid_request_error", "bad")}},
    {"custom_id": "req-2", "result": {"type": "canceled"}},
    {"custom_id": "req-3", "result": {"type": "expired"}},
    {"custom_id": "req-4", "result": {"type": "postponed", "until": "later"}},
]


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


@pytest.mark.parametrize("mode", MODES)
def test_results_are_typed_by_kind(mode: str) -> None:
    body = jsonl(RESULT_LINES[:2]) + b"\n" + jsonl(RESULT_LINES[2:])
    recorder = Recorder(httpx.Response(200, content=body, headers={"content-type": "application/binary"}))
    items = results_of(mode, recorder, "msgbatch/1")
    (request,) = recorder.requests
    assert request.method == "GET" and request.url.raw_path == b"/v1/messages/batches/msgbatch%2F1/results"
    assert request.headers["x-api-key"] == KEY and request.headers["anthropic-version"] == "2023-06-01"
    assert [item.custom_id for item in items] == ["req-0", "req-1", "req-2", "req-3", "req-4"]
    assert all(isinstance(item, MessageBatchIndividualResponse) for item in items)
    succeeded, errored, canceled, expired, unknown = (item.result for item in items)
    assert isinstance(succeeded, MessageBatchSucceededResult) and succeeded.type == "succeeded"
    assert succeeded.message["content"][0]["text"] == "hi" and succeeded.message.get("id") == "msg_1"
    assert isinstance(errored, MessageBatchErroredResult)
    assert errored.error.error.type == "invalid_request_error" and errored.error.error.message == "bad"
    assert isinstance(canceled, MessageBatchCanceledResult) and canceled.type == "canceled"
    assert isinstance(expired, MessageBatchExpiredResult) and expired.type == "expired"
    assert type(unknown) is MessageBatchResult and unknown.type == "postponed"
    assert unknown.additional_properties == {"until": "later"}
    assert [item.to_dict() for item in items] == RESULT_LINES


def test_results_are_read_as_the_iteration_reaches_them() -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        for number, line in enumerate(RESULT_LINES):
            produced.append(number)
            yield jsonl([line])

    recorder = Recorder(lambda request: httpx.Response(200, content=chunks()))
    client = AnthropicBatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    with client.messages.batches.results("msgbatch_01") as stream:
        iterator = iter(stream)
        first = next(iterator)
        assert first.custom_id == "req-0"
        assert len(produced) < len(RESULT_LINES), "the whole body was read before the first line was handed out"
    assert stream.response.is_closed


def test_a_stream_that_breaks_off_is_a_connection_error_after_the_lines_before() -> None:
    def chunks() -> Iterator[bytes]:
        yield jsonl(RESULT_LINES[:1])
        raise httpx.ReadError("connection reset")

    recorder = Recorder(lambda request: httpx.Response(200, content=chunks()))
    client = AnthropicBatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    )
    seen: list[str] = []
    with pytest.raises(APIConnectionError, match="broke off"):
        for item in client.messages.batches.results("msgbatch_01"):
            seen.append(item.custom_id)
    assert seen == ["req-0"]


@pytest.mark.parametrize("mode", MODES)
def test_a_line_that_is_not_a_result_names_the_line(mode: str) -> None:
    body = jsonl(RESULT_LINES[:1]) + b'{"custom_id": "req-9", "result": {"type": "succeeded"}}\n'
    with pytest.raises(APIResponseValidationError, match="line 2") as caught:
        results_of(mode, Recorder(httpx.Response(200, content=body)))
    assert caught.value.field == "result.message"
    with pytest.raises(APIResponseValidationError, match="line 1: not JSON"):
        results_of(mode, Recorder(httpx.Response(200, content=b"{not json\n")))


@pytest.mark.parametrize("mode", MODES)
def test_results_of_a_batch_still_processing_is_the_api_error(mode: str) -> None:
    answer = httpx.Response(400, json=error_body("invalid_request_error", "not ended"), headers={"request-id": "r1"})
    with pytest.raises(BadRequestError, match="not ended"):
        results_of(mode, Recorder(answer))


# --- against the local server -----------------------------------------------------------------------------------

LOCAL_KEY = "sk-ant-local-0001"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[LOCAL_KEY], tick=0) as running:
        yield running


def root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def test_every_method_against_the_local_server_sync(server: LocalServer) -> None:
    with AnthropicBatchClient(api_key=LOCAL_KEY, base_url=root(server), max_retries=0) as client:
        batches = client.messages.batches
        created = [batches.create(requests=request_items(3)) for _ in range(3)]
        assert all(isinstance(b, MessageBatch) for b in created)
        batch = batches.retrieve(created[0].id)
        deadline = time.monotonic() + 60
        while batch.processing_status != "ended" and time.monotonic() < deadline:
            time.sleep(0.02)
            batch = batches.retrieve(created[0].id)
        assert batch.processing_status == "ended" and batch.request_counts.succeeded == 3
        assert [b.id for b in batches.list(limit=2)] == [b.id for b in reversed(created)]
        assert [b.id for b in batches.list(after_id=created[2].id)] == [created[1].id, created[0].id]
        items = list(batches.results(batch.id))
        assert sorted(item.custom_id for item in items) == ["req-0", "req-1", "req-2"]
        for item in items:
            assert isinstance(item.result, MessageBatchSucceededResult)
            assert item.result.message["content"][0]["text"] == f"Echo: say {item.custom_id.removeprefix('req-')}"
        deleted = batches.delete(batch.id)
        assert isinstance(deleted, DeletedMessageBatch) and deleted.type == "message_batch_deleted"
        with pytest.raises(NotFoundError) as caught:
            batches.retrieve(batch.id)
        assert caught.value.request_id and caught.value.type == "not_found_error"
        raw = client.with_raw_response.messages.batches.retrieve(created[1].id)
        assert raw.headers["request-id"] and raw.parse().id == created[1].id
    with pytest.raises(AuthenticationError):
        AnthropicBatchClient(api_key="wrong", base_url=root(server), max_retries=0).messages.batches.list()


def test_every_method_against_the_local_server_async(server: LocalServer) -> None:
    async def main() -> None:
        async with AsyncAnthropicBatchClient(api_key=LOCAL_KEY, base_url=root(server), max_retries=0) as client:
            batches = client.messages.batches
            created = [await batches.create(requests=request_items(2)) for _ in range(3)]
            batch = await batches.retrieve(created[0].id)
            deadline = time.monotonic() + 60
            while batch.processing_status != "ended" and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
                batch = await batches.retrieve(created[0].id)
            assert batch.request_counts.succeeded == 2
            assert [b.id async for b in batches.list(limit=2)] == [b.id for b in reversed(created)]
            first_page = await batches.list(limit=1)
            assert [b.id for b in first_page.data] == [created[2].id] and first_page.has_more
            stream = await batches.results(batch.id)
            async with stream:
                kinds = sorted([(item.custom_id, item.result.type) async for item in stream])
            assert kinds == [("req-0", "succeeded"), ("req-1", "succeeded")]
            assert (await batches.delete(batch.id)).id == batch.id
            with pytest.raises(NotFoundError):
                await batches.cancel(batch.id)
            raw = await client.with_raw_response.messages.batches.retrieve(created[1].id)
            assert raw.parse().id == created[1].id

    asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_cancel_against_the_local_server(mode: str, tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[LOCAL_KEY], tick=0.05) as slow:
        if mode == "sync":
            batches = AnthropicBatchClient(api_key=LOCAL_KEY, base_url=root(slow), max_retries=0).messages.batches
            batch = batches.create(requests=request_items(100))
            assert batches.cancel(batch.id).processing_status == "canceling"
            with pytest.raises(BadRequestError):
                batches.delete(batch.id)
            deadline = time.monotonic() + 60
            while batches.retrieve(batch.id).processing_status != "ended" and time.monotonic() < deadline:
                time.sleep(0.05)
            ended = batches.retrieve(batch.id)
            kinds = [item.result.type for item in batches.results(batch.id)]
        else:

            async def main() -> tuple[MessageBatch, list[Any]]:
                async with AsyncAnthropicBatchClient(api_key=LOCAL_KEY, base_url=root(slow), max_retries=0) as c:
                    batches = c.messages.batches
                    batch = await batches.create(requests=request_items(100))
                    assert (await batches.cancel(batch.id)).processing_status == "canceling"
                    deadline = time.monotonic() + 60
                    while (await batches.retrieve(batch.id)).processing_status != "ended":
                        assert time.monotonic() < deadline
                        await asyncio.sleep(0.05)
                    ended = await batches.retrieve(batch.id)
                    return ended, [item.result.type async for item in await batches.results(batch.id)]

            ended, kinds = asyncio.run(main())
        assert ended.request_counts.canceled > 0
        assert len(kinds) == 100 and kinds.count("canceled") == ended.request_counts.canceled
        assert all(isinstance(kind, str) for kind in kinds)
