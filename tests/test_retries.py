"""Retries, backoff, timeouts, hostile answers and duplicate-safe creates, against a real fault-injecting server.

Every test runs with `BatchClient` and `AsyncBatchClient` over real sockets on 127.0.0.1 (tests/faultserver.py).
The retry policy's sleepers, clock and randomness are fakes, so a test records the delays the client chose without
waiting for them; with `random=lambda: 0.5` and the default jitter of 0.25 each backoff step is cut by 12.5 %.
"""

from __future__ import annotations

import email.utils
import inspect
import math
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from faultserver import (
    Fault,
    FaultServer,
    gzip_garbage,
    html_page,
    reset,
    reset_mid_body,
    slow,
    status,
    truncated,
)
from helpers import API_KEY, CREATE_ARGS
from hypothesis import given
from hypothesis import strategies as st
from openai_batches import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBatchClient,
    AuthenticationError,
    BadRequestError,
    BatchClient,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OpenAIBatchesError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
)

FAKE_NOW = 1_750_000_000.0
# min(0.5 * 2 ** (n - 1), 8) * (1 - 0.25 * 0.5) for retries n = 1..6
BACKOFF = [0.4375, 0.875, 1.75, 3.5, 7.0, 7.0]
KEY_PATTERN = re.compile(r"^openai-batches-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class FakeSleeper:
    """Stands in for time.sleep / asyncio.sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.sync_delays: list[float] = []
        self.async_delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sync_delays.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.async_delays.append(seconds)

    @property
    def delays(self) -> list[float]:
        return self.sync_delays + self.async_delays

    def policy(self, **settings: Any) -> RetryPolicy:
        return RetryPolicy(
            sleep=self.sleep, async_sleep=self.async_sleep, clock=lambda: FAKE_NOW, random=lambda: 0.5, **settings
        )


MakeClient = Callable[..., BatchClient | AsyncBatchClient]


@pytest.fixture
def server() -> Any:
    with FaultServer() as running:
        yield running


@pytest.fixture
def sleeper() -> FakeSleeper:
    return FakeSleeper()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(mode: str, server: FaultServer, sleeper: FakeSleeper) -> AsyncIterator[MakeClient]:
    """Builds clients of the test's mode aimed at the server; `own_http=True` supplies the user's own httpx client
    (with `http_timeout`, if given).

    `max_retries=None` or `timeout=None` leaves the setting out, so the default (or the user's client's) applies.
    """
    clients: list[BatchClient | AsyncBatchClient] = []
    user_clients: list[httpx.Client | httpx.AsyncClient] = []

    def factory(
        *, own_http: bool = False, http_timeout: float | None = None, **options: Any
    ) -> BatchClient | AsyncBatchClient:
        settings: dict[str, Any] = {
            "api_key": API_KEY,
            "base_url": server.url,
            "max_retries": 2,
            "timeout": 5.0,
            "retry_policy": sleeper.policy(),
        }
        settings.update(options)
        for name in ("max_retries", "timeout"):
            if settings[name] is None:
                del settings[name]
        if own_http:
            http_settings = {} if http_timeout is None else {"timeout": http_timeout}
            http = httpx.Client(**http_settings) if mode == "sync" else httpx.AsyncClient(**http_settings)
            user_clients.append(http)
            settings["http_client"] = http
        client = BatchClient(**settings) if mode == "sync" else AsyncBatchClient(**settings)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        if isinstance(client, AsyncBatchClient):
            await client.close()
        else:
            client.close()
    for http in user_clients:
        if isinstance(http, httpx.AsyncClient):
            await http.aclose()
        else:
            http.close()


async def settle(result: Any) -> Any:
    """The value of a sync call, or of an async one once awaited (so one test body drives both clients)."""
    return await result if inspect.isawaitable(result) else result


def assert_sleeps(mode: str, sleeper: FakeSleeper, expected: list[float]) -> None:
    """The delays chosen, and that an async client never blocked its event loop with time.sleep."""
    if mode == "sync":
        assert sleeper.async_delays == []
        assert sleeper.sync_delays == pytest.approx(expected)
    else:
        assert sleeper.sync_delays == []
        assert sleeper.async_delays == pytest.approx(expected)


# --------------------------------------------------------------------------------------------- retryable statuses

RETRYABLE: list[tuple[Fault, type[APIStatusError]]] = [
    (status(408), APIStatusError),
    (status(409), ConflictError),
    (status(429), RateLimitError),
    (status(500), InternalServerError),
    (status(502), InternalServerError),
    (status(503), InternalServerError),
    (status(520), InternalServerError),
    (status(529), InternalServerError),
    (html_page(502), InternalServerError),
]
RETRYABLE_IDS = [fault.name for fault, _ in RETRYABLE]


@pytest.mark.parametrize("fault", [fault for fault, _ in RETRYABLE], ids=RETRYABLE_IDS)
async def test_retryable_status_then_success(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, fault: Fault
) -> None:
    server.script(fault, fault, None)
    client = make(max_retries=2)

    batch = await settle(client.batches.retrieve("batch_007"))

    assert batch.id == "batch_007"
    assert server.count == 3
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/v1/batches/batch_007")] * 3
    assert [r.fault for r in server.requests] == [fault.name, fault.name, None]
    assert_sleeps(mode, sleeper, BACKOFF[:2])


@pytest.mark.parametrize(("fault", "error_class"), RETRYABLE, ids=RETRYABLE_IDS)
async def test_retryable_status_exhausted_raises_last_error_with_attempts(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, fault: Fault, error_class: type
) -> None:
    server.always(fault)
    client = make(max_retries=2)

    with pytest.raises(APIStatusError) as caught:
        await settle(client.batches.retrieve("batch_007"))

    error = caught.value
    assert type(error) is error_class
    assert server.count == 3
    assert error.attempts == 3
    assert error.status_code == fault.status
    assert error.request_id == "req_3"  # the last answer's id, not the first
    assert error.response.status_code == fault.status
    if fault.kind == "html":
        assert "502 Bad Gateway" in error.message
        assert isinstance(error.body, str) and "<h1>502 Bad Gateway</h1>" in error.body
    else:
        assert error.message == f"injected {fault.status}"
        assert error.type == "injected_error"
        assert error.code == f"e{fault.status}"
    assert API_KEY not in str(error)
    assert_sleeps(mode, sleeper, BACKOFF[:2])


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (418, APIStatusError),
        (422, UnprocessableEntityError),
    ],
)
async def test_client_errors_are_not_retried(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, code: int, error_class: type
) -> None:
    server.always(status(code))
    client = make(max_retries=5)

    with pytest.raises(APIStatusError) as caught:
        await settle(client.batches.retrieve("batch_007"))

    assert type(caught.value) is error_class
    assert caught.value.attempts == 1
    assert caught.value.status_code == code
    assert caught.value.request_id == "req_1"
    assert server.count == 1
    assert sleeper.delays == []


async def test_real_not_found_is_not_retried(make: MakeClient, server: FaultServer, sleeper: FakeSleeper) -> None:
    client = make(max_retries=5)

    with pytest.raises(NotFoundError) as caught:
        await settle(client.batches.retrieve("batch_missing"))

    assert caught.value.message == "No batch found with id 'batch_missing'."
    assert server.count == 1
    assert sleeper.delays == []


async def test_non_retryable_create_is_sent_once(make: MakeClient, server: FaultServer, sleeper: FakeSleeper) -> None:
    server.always(status(400))
    client = make(max_retries=5)

    with pytest.raises(BadRequestError):
        await settle(client.batches.create(**CREATE_ARGS))

    assert len(server.creates()) == 1
    assert sleeper.delays == []


# --------------------------------------------------------------------------------------------- x-should-retry


async def test_should_retry_false_stops_a_503(make: MakeClient, server: FaultServer, sleeper: FakeSleeper) -> None:
    server.always(status(503, {"x-should-retry": "false"}))
    client = make(max_retries=5)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 1
    assert server.count == 1
    assert sleeper.delays == []


async def test_should_retry_true_makes_a_400_retry(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str
) -> None:
    server.script(status(400, {"x-should-retry": "true"}), None)
    client = make(max_retries=2)

    batch = await settle(client.batches.retrieve("batch_001"))

    assert batch.id == "batch_001"
    assert server.count == 2
    assert_sleeps(mode, sleeper, BACKOFF[:1])


async def test_should_retry_true_still_bounded_by_max_retries(
    make: MakeClient, server: FaultServer, mode: str, sleeper: FakeSleeper
) -> None:
    server.always(status(400, {"x-should-retry": " TRUE "}))
    client = make(max_retries=3)

    with pytest.raises(BadRequestError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 4
    assert server.count == 4
    assert_sleeps(mode, sleeper, BACKOFF[:3])


# --------------------------------------------------------------------------------------------- delays


async def test_backoff_doubles_to_the_cap(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str
) -> None:
    server.always(status(500))
    client = make(max_retries=6)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 7
    assert server.count == 7
    assert_sleeps(mode, sleeper, BACKOFF)


@pytest.mark.parametrize("code", [429, 503])
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": email.utils.formatdate(FAKE_NOW + 3, usegmt=True)}, 3.0),
        ({"retry-after": "100000"}, 60.0),
        ({"retry-after-ms": "99999999"}, 60.0),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after": "soon"}, BACKOFF[0]),
    ],
    ids=["ms", "seconds", "http-date", "huge-seconds", "huge-ms", "ms-wins", "unparsable"],
)
async def test_server_requested_delay(
    make: MakeClient,
    server: FaultServer,
    sleeper: FakeSleeper,
    mode: str,
    code: int,
    headers: dict[str, str],
    expected: float,
) -> None:
    server.script(status(code, headers), None)
    client = make(max_retries=2)

    batch = await settle(client.batches.retrieve("batch_002"))

    assert batch.id == "batch_002"
    assert server.count == 2
    assert_sleeps(mode, sleeper, [expected])


async def test_custom_policy_settings_are_used(make: MakeClient, server: FaultServer, sleeper: FakeSleeper) -> None:
    server.script(status(503), status(503), status(429, {"retry-after": "30"}), None)
    client = make(
        max_retries=3, retry_policy=sleeper.policy(initial_delay=1.0, max_delay=1.5, jitter=0.0, max_retry_after=5.0)
    )

    await settle(client.batches.retrieve("batch_002"))

    assert sleeper.delays == [1.0, 1.5, 5.0]


# --------------------------------------------------------------------------------------------- max_retries sources


async def test_default_max_retries_is_two(make: MakeClient, server: FaultServer) -> None:
    server.always(status(503))
    client = make(max_retries=None)
    assert client.max_retries == 2

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 3
    assert server.count == 3


@pytest.mark.parametrize("own_http", [False, True], ids=["own-pool", "user-http-client"])
async def test_max_retries_zero_on_the_client(make: MakeClient, server: FaultServer, own_http: bool) -> None:
    server.always(status(503))
    client = make(max_retries=0, own_http=own_http)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 1
    assert server.count == 1


@pytest.mark.parametrize("own_http", [False, True], ids=["own-pool", "user-http-client"])
async def test_max_retries_from_the_client(make: MakeClient, server: FaultServer, own_http: bool) -> None:
    server.always(status(503))
    client = make(max_retries=3, own_http=own_http)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))

    assert caught.value.attempts == 4
    assert server.count == 4


@pytest.mark.parametrize("own_http", [False, True], ids=["own-pool", "user-http-client"])
async def test_max_retries_from_with_options(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, own_http: bool
) -> None:
    server.always(status(503))
    client = make(max_retries=0, own_http=own_http)
    patient = client.with_options(max_retries=4)
    assert patient.max_retries == 4
    assert client.max_retries == 0

    with pytest.raises(InternalServerError) as caught:
        await settle(patient.batches.retrieve("batch_001"))
    assert caught.value.attempts == 5
    assert server.count == 5
    assert_sleeps(mode, sleeper, BACKOFF[:4])  # the copy kept the injected policy

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001"))
    assert caught.value.attempts == 1  # the original is unchanged
    assert server.count == 6


@pytest.mark.parametrize("own_http", [False, True], ids=["own-pool", "user-http-client"])
async def test_max_retries_per_call(make: MakeClient, server: FaultServer, own_http: bool) -> None:
    server.always(status(503))
    client = make(max_retries=3, own_http=own_http)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.retrieve("batch_001", max_retries=0))
    assert caught.value.attempts == 1
    assert server.count == 1

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.cancel("batch_001", max_retries=1))
    assert caught.value.attempts == 2
    assert server.count == 3

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.create(**CREATE_ARGS, max_retries=5))
    assert caught.value.attempts == 6
    assert server.count == 9

    with pytest.raises(InternalServerError) as caught:  # the per-call setting did not stick to the client
        await settle(client.batches.retrieve("batch_001"))
    assert caught.value.attempts == 4
    assert server.count == 13


async def test_max_retries_per_call_on_list(make: MakeClient, server: FaultServer) -> None:
    server.always(status(502))
    client = make(max_retries=0)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.list(limit=5, max_retries=2))

    assert caught.value.attempts == 3
    assert server.count == 3


# --------------------------------------------------------------------------------------------- broken connections


BROKEN = [reset(), reset_mid_body(), truncated()]


@pytest.mark.parametrize("fault", BROKEN, ids=[f.name for f in BROKEN])
async def test_broken_connection_then_success(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, fault: Fault
) -> None:
    server.script(fault, None)
    client = make(max_retries=2)

    batch = await settle(client.batches.retrieve("batch_003"))

    assert batch.id == "batch_003"
    assert server.count == 2
    assert_sleeps(mode, sleeper, BACKOFF[:1])


@pytest.mark.parametrize("fault", BROKEN, ids=[f.name for f in BROKEN])
async def test_broken_connection_exhausted_is_a_connection_error(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str, fault: Fault
) -> None:
    server.always(fault)
    client = make(max_retries=2)

    with pytest.raises(APIConnectionError) as caught:
        await settle(client.batches.retrieve("batch_003"))

    error = caught.value
    assert type(error) is APIConnectionError  # not a timeout
    assert error.attempts == 3
    assert server.count == 3
    assert error.request is not None and error.request.url.path == "/v1/batches/batch_003"
    assert API_KEY not in str(error)
    assert_sleeps(mode, sleeper, BACKOFF[:2])


async def test_slow_answer_times_out_after_retries(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str
) -> None:
    server.always(slow(1.0))
    client = make(max_retries=2, timeout=0.1)

    with pytest.raises(APITimeoutError) as caught:
        await settle(client.batches.retrieve("batch_004"))

    assert caught.value.attempts == 3
    assert server.count == 3
    assert_sleeps(mode, sleeper, BACKOFF[:2])


async def test_slow_answer_then_success(make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str) -> None:
    server.script(slow(1.0), None)
    client = make(max_retries=2, timeout=0.25)  # room for the second, prompt answer on a busy machine

    batch = await settle(client.batches.retrieve("batch_004"))

    assert batch.id == "batch_004"
    assert server.count == 2
    assert_sleeps(mode, sleeper, BACKOFF[:1])


@pytest.mark.parametrize("own_http", [False, True], ids=["own-pool", "user-http-client"])
async def test_per_call_timeout(make: MakeClient, server: FaultServer, own_http: bool) -> None:
    server.always(slow(1.0))
    client = make(max_retries=0, timeout=30.0, own_http=own_http)

    with pytest.raises(APITimeoutError) as caught:
        await settle(client.batches.retrieve("batch_004", timeout=0.1))

    assert caught.value.attempts == 1
    assert server.count == 1


async def test_user_http_client_timeout_applies_when_none_is_given(make: MakeClient, server: FaultServer) -> None:
    server.always(slow(1.0))
    client = make(max_retries=1, own_http=True, http_timeout=0.1, timeout=None)

    with pytest.raises(APITimeoutError) as caught:
        await settle(client.batches.retrieve("batch_004"))

    assert caught.value.attempts == 2
    assert server.count == 2


async def test_gzip_garbage_is_a_validation_error_and_not_retried(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper
) -> None:
    # A body that cannot be decoded will not decode better the second time, so it is not retried.
    server.always(gzip_garbage())
    client = make(max_retries=3)

    with pytest.raises(OpenAIBatchesError) as caught:
        await settle(client.batches.retrieve("batch_005"))

    assert type(caught.value) is APIResponseValidationError
    assert "gzip" in str(caught.value)
    assert caught.value.attempts == 1
    assert server.count == 1
    assert sleeper.delays == []


async def test_gzip_garbage_on_a_503_is_still_a_retried_503(make: MakeClient, server: FaultServer) -> None:
    # The status is judged before the body is decoded, so an unreadable body does not hide a retryable 503.
    server.always(gzip_garbage(503))
    client = make(max_retries=3)

    with pytest.raises(OpenAIBatchesError) as caught:
        await settle(client.batches.retrieve("batch_005"))

    assert type(caught.value) is InternalServerError
    assert caught.value.status_code == 503
    assert caught.value.attempts == server.count == 4


async def test_html_page_with_status_200_is_a_validation_error(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper
) -> None:
    server.always(html_page(200))
    client = make(max_retries=3)

    with pytest.raises(APIResponseValidationError) as caught:
        await settle(client.batches.retrieve("batch_005"))

    error = caught.value
    assert error.status_code == 200
    assert error.request_id == "req_1"
    assert "not valid JSON" in error.message
    assert "text/html" in error.message
    assert server.count == 1
    assert sleeper.delays == []


# --------------------------------------------------------------------------------------------- idempotent create


def assert_one_key_per_request(server: FaultServer) -> list[str]:
    """Every create carried exactly one Idempotency-Key header; the keys in order."""
    keys = []
    for received in server.creates():
        values = received.header_values("Idempotency-Key")
        assert len(values) == 1, values
        keys.append(values[0])
    return keys


@pytest.mark.parametrize(
    "fault", [status(500), reset(), reset_mid_body(), truncated(), slow(1.0)], ids=lambda f: f.name
)
async def test_retried_create_repeats_one_idempotency_key(make: MakeClient, server: FaultServer, fault: Fault) -> None:
    server.script(fault, fault, None)
    client = make(max_retries=2, timeout=0.25 if fault.kind == "slow" else 5.0)

    created = await settle(client.batches.create(**CREATE_ARGS, metadata={"job": "retry"}))

    keys = assert_one_key_per_request(server)
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert KEY_PATTERN.match(keys[0])
    assert created.id == server.created_ids(keys[0])[-1]
    answered = [r for r in server.creates() if r.fault is None]
    assert len(answered) == 1  # the server's answer to the last attempt is the batch returned
    assert created.input_file_id == CREATE_ARGS["input_file_id"]
    assert [r.json for r in server.creates()] == [server.creates()[0].json] * 3  # the same body every time


async def test_each_create_call_gets_its_own_key(make: MakeClient, server: FaultServer) -> None:
    server.script(status(503), None, status(503), None)
    client = make(max_retries=2)

    first = await settle(client.batches.create(**CREATE_ARGS))
    second = await settle(client.batches.create(**CREATE_ARGS))

    keys = assert_one_key_per_request(server)
    assert keys[0] == keys[1]
    assert keys[2] == keys[3]
    assert keys[0] != keys[2]
    assert first.id != second.id


async def test_user_idempotency_key_is_used_as_is(make: MakeClient, server: FaultServer) -> None:
    server.script(status(500), reset(), None)
    client = make(max_retries=2)

    await settle(client.batches.create(**CREATE_ARGS, idempotency_key="mine"))

    assert assert_one_key_per_request(server) == ["mine", "mine", "mine"]


async def test_idempotency_key_from_extra_headers_is_kept(make: MakeClient, server: FaultServer) -> None:
    server.script(status(500), None)
    client = make(max_retries=2)

    await settle(client.batches.create(**CREATE_ARGS, extra_headers={"idempotency-key": "from-headers"}))

    assert assert_one_key_per_request(server) == ["from-headers", "from-headers"]


async def test_explicit_idempotency_key_replaces_one_in_extra_headers(make: MakeClient, server: FaultServer) -> None:
    client = make(max_retries=2)

    await settle(client.batches.create(**CREATE_ARGS, idempotency_key="mine", extra_headers={"IDEMPOTENCY-KEY": "x"}))

    assert assert_one_key_per_request(server) == ["mine"]


async def test_failed_create_exposes_its_key_for_a_manual_retry(make: MakeClient, server: FaultServer) -> None:
    # After an ambiguous failure the batch may exist; the key on the error lets the caller retry with the same one.
    server.always(status(502))
    client = make(max_retries=1)

    with pytest.raises(InternalServerError) as caught:
        await settle(client.batches.create(**CREATE_ARGS))

    keys = assert_one_key_per_request(server)
    assert caught.value.attempts == 2
    assert caught.value.request is not None
    assert caught.value.request.headers["Idempotency-Key"] == keys[0] == keys[1]


async def test_only_create_sends_an_idempotency_key(make: MakeClient, server: FaultServer) -> None:
    client = make()

    await settle(client.batches.retrieve("batch_001"))
    await settle(client.batches.cancel("batch_001"))
    await settle(client.batches.list(limit=2))

    assert [r.idempotency_key for r in server.requests] == [None, None, None]


# --------------------------------------------------------------------------------------------- listing


async def test_list_walk_retries_each_page_and_loses_nothing(
    make: MakeClient, server: FaultServer, sleeper: FakeSleeper, mode: str
) -> None:
    server.script(None, status(503), reset(), None, status(429, {"retry-after-ms": "10"}), None)
    client = make(max_retries=2)

    if mode == "sync":
        assert isinstance(client, BatchClient)
        ids = [b.id for b in client.batches.list(limit=10)]
    else:
        assert isinstance(client, AsyncBatchClient)
        ids = [b.id async for b in client.batches.list(limit=10)]

    assert ids == server.fixed_ids
    assert [r.query.get("after") for r in server.requests] == [None, *["batch_009"] * 3, *["batch_019"] * 2]
    assert {r.query.get("limit") for r in server.requests} == {"10"}
    assert_sleeps(mode, sleeper, [BACKOFF[0], BACKOFF[1], 0.01])


# --------------------------------------------------------------------------------------------- RetryPolicy alone


def response(code: int = 503, **headers: str) -> httpx.Response:
    return httpx.Response(code, headers={k.replace("_", "-"): v for k, v in headers.items()})


def policy(**settings: Any) -> RetryPolicy:
    settings.setdefault("random", lambda: 0.5)
    return RetryPolicy(clock=lambda: FAKE_NOW, **settings)


def test_policy_defaults() -> None:
    default = RetryPolicy()
    assert (default.initial_delay, default.max_delay, default.jitter, default.max_retry_after) == (0.5, 8.0, 0.25, 60.0)


@pytest.mark.parametrize("rnd", [0.0, 0.5, 1.0])
def test_backoff_ladder(rnd: float) -> None:
    chosen = [policy(random=lambda: rnd).delay(n, None) for n in range(1, 9)]
    assert chosen == pytest.approx([min(0.5 * 2 ** (n - 1), 8.0) * (1 - 0.25 * rnd) for n in range(1, 9)])


def test_first_delay_with_half_jitter() -> None:
    assert policy().delay(1, None) == pytest.approx(0.4375)
    assert policy().delay(1, response(500)) == pytest.approx(0.4375)


def test_jitter_only_shortens_and_by_at_most_a_quarter() -> None:
    assert policy(random=lambda: 0.0).delay(3, None) == pytest.approx(2.0)
    assert policy(random=lambda: 1.0).delay(3, None) == pytest.approx(1.5)
    # A misbehaving random source is clamped to [0, 1].
    assert policy(random=lambda: -4.0).delay(3, None) == pytest.approx(2.0)
    assert policy(random=lambda: 9.0).delay(3, None) == pytest.approx(1.5)


def test_no_jitter_and_custom_ladder() -> None:
    assert [policy(jitter=0).delay(n, None) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    custom = policy(initial_delay=0.1, max_delay=0.3, jitter=0)
    assert [custom.delay(n, None) for n in range(1, 5)] == pytest.approx([0.1, 0.2, 0.3, 0.3])
    assert [policy(initial_delay=0, jitter=0).delay(n, None) for n in (1, 5)] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "1.5"}, 0.0015),
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": " 2 "}, 2.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": email.utils.formatdate(FAKE_NOW + 3, usegmt=True)}, 3.0),
        ({"retry-after": email.utils.formatdate(FAKE_NOW + 3)}, 3.0),  # "-0000", parsed as naive
        ({"retry-after": email.utils.formatdate(FAKE_NOW + 3, localtime=True)}, 3.0),
        ({"retry-after": email.utils.formatdate(FAKE_NOW - 30, usegmt=True)}, 0.0),  # already past: no wait
        ({"retry-after": "100000"}, 60.0),
        ({"retry-after": email.utils.formatdate(FAKE_NOW + 86400, usegmt=True)}, 60.0),
        ({"retry-after-ms": "99999999"}, 60.0),
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after-ms": "abc", "retry-after": "7"}, 7.0),
        ({"retry-after-ms": "-5", "retry-after": "7"}, 0.4375),
        ({"retry-after": "soon"}, 0.4375),
        ({"retry-after": ""}, 0.4375),
        ({"retry-after": "-5"}, 0.4375),
        ({"retry-after": "nan"}, 0.4375),
        ({"retry-after": "inf"}, 0.4375),
        ({"retry-after": "1e400"}, 0.4375),
        ({"retry-after-ms": "nan"}, 0.4375),
        ({}, 0.4375),
    ],
)
def test_requested_delay_parsing(headers: dict[str, str], expected: float) -> None:
    assert policy().delay(1, httpx.Response(429, headers=headers)) == pytest.approx(expected)


def test_requested_delay_cap_is_configurable() -> None:
    assert policy(max_retry_after=5).delay(1, response(retry_after="30")) == 5.0
    assert policy(max_retry_after=0).delay(1, response(retry_after="30")) == 0.0


def test_requested_delay_does_not_depend_on_the_retry_number() -> None:
    assert [policy().delay(n, response(retry_after="2")) for n in (1, 4, 9)] == [2.0, 2.0, 2.0]


@given(
    value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    header=st.sampled_from(["retry-after", "retry-after-ms"]),
    retry_number=st.integers(min_value=1, max_value=60),
)
def test_any_retry_after_value_gives_a_bounded_delay(value: str, header: str, retry_number: int) -> None:
    chosen = policy().delay(retry_number, httpx.Response(429, headers={header: value}))
    assert math.isfinite(chosen)
    assert 0.0 <= chosen <= 60.0


@pytest.mark.parametrize(
    ("code", "retried"),
    [
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (520, True),
        (529, True),
        (599, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (418, False),
        (422, False),
        (302, False),
    ],
)
def test_should_retry_by_status(code: int, retried: bool) -> None:
    assert RetryPolicy().should_retry(httpx.Response(code)) is retried


@pytest.mark.parametrize(
    ("code", "header", "retried"),
    [
        (503, "false", False),
        (503, "False", False),
        (400, "true", True),
        (404, " TRUE ", True),
        (503, "maybe", True),  # not a verdict: the status decides
        (400, "1", False),
        (429, "", True),
    ],
)
def test_should_retry_header_overrides(code: int, header: str, retried: bool) -> None:
    assert RetryPolicy().should_retry(httpx.Response(code, headers={"x-should-retry": header})) is retried


@pytest.mark.parametrize("setting", ["initial_delay", "max_delay", "jitter", "max_retry_after"])
@pytest.mark.parametrize("value", [-1, -0.001, math.nan, math.inf, -math.inf, True, "1", None])
def test_invalid_policy_settings_raise_value_error(setting: str, value: object) -> None:
    with pytest.raises(ValueError, match=setting):
        RetryPolicy(**{setting: value})


@pytest.mark.parametrize(
    ("setting", "top"), [("initial_delay", 3), ("max_delay", 3), ("jitter", 1), ("max_retry_after", 3)]
)
def test_zero_and_integer_policy_settings_are_accepted(setting: str, top: int) -> None:
    assert getattr(RetryPolicy(**{setting: 0}), setting) == 0
    assert getattr(RetryPolicy(**{setting: top}), setting) == top


def test_jitter_above_one_is_refused() -> None:
    # Jitter takes a share off the delay: above 1 the delay could go negative.
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5, random=lambda: 1.0)
    full = RetryPolicy(jitter=1.0, random=lambda: 1.0)
    assert [full.delay(n, None) for n in range(1, 8)] == [0.0] * 7


def test_delay_for_a_late_retry_is_the_capped_backoff() -> None:
    assert policy().delay(1100, None) == pytest.approx(7.0)


def test_sync_client_with_full_jitter_retries_at_once(server: FaultServer) -> None:
    server.script(status(503), None)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        _checked_sleep(seconds)
        slept.append(seconds)

    retry_policy = RetryPolicy(jitter=1.0, random=lambda: 1.0, sleep=sleep)
    with BatchClient(api_key=API_KEY, base_url=server.url, max_retries=1, retry_policy=retry_policy) as client:
        assert client.batches.retrieve("batch_001").id == "batch_001"
    assert slept == [0.0]


def _checked_sleep(seconds: float) -> None:
    """Behaves like time.sleep for negative values, without sleeping otherwise."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
