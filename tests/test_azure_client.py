"""`AzureBatchClient` and `AsyncAzureBatchClient`: Azure's paths, credentials, environment and errors on the wire.

Every test drives both clients (`mode`) through an `httpx.MockTransport` playing an Azure OpenAI resource, and asserts
the exact requests sent: the URL (`/openai/v1/...`, or `/openai/...?api-version=`), the credential header (`api-key`
alone, or an Entra ID token as `Authorization: Bearer`), and that neither the key nor the token leaks anywhere.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import batch, file_body, json_response
from openai_batches import (
    APIKeyProviderError,
    AsyncAzureBatchClient,
    AsyncBatchClient,
    AuthenticationError,
    AzureBatchClient,
    BatchClient,
    InvalidParameterError,
    MissingAPIKeyError,
    NotFoundError,
    OpenAIBatchesError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
)
from openai_batches_server import LocalServer, run_server

ENDPOINT = "https://myres.openai.azure.com"
KEY = "azkey-SECRET-5c4b3a"
TOKEN = "eyJ0eXAi.SECRET-TOKEN.9z8y"
VERSION = "2024-10-21"
MODES = ("sync", "async")
ENV = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
)
AZURE_401 = {
    "error": {
        "code": "401",
        "message": f"Access denied due to invalid subscription key {KEY} or wrong API endpoint (token {TOKEN}).",
    }
}
OUTPUT = b'{"id": "r1", "custom_id": "a", "response": {"status_code": 200, "request_id": "q", "body": {}}}\n'


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class FakeAzure:
    """An Azure OpenAI resource's Batch and Files API, recording every request; `fail` answers the first ones."""

    def __init__(self, *fail: httpx.Response) -> None:
        self.requests: list[httpx.Request] = []
        self.fail = list(fail)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return self.fail.pop(0)
        path = request.url.path.split("/openai", 1)[1].removeprefix("/v1")
        method = request.method
        if path == "/files" and method == "POST":
            return json_response(200, file_body("file-in"))
        if path == "/files":
            return json_response(200, {"object": "list", "data": [file_body()], "has_more": False})
        if path.endswith("/content"):
            return httpx.Response(200, content=OUTPUT)
        if path.startswith("/files/") and method == "DELETE":
            return json_response(200, {"id": path.rsplit("/", 1)[1], "object": "file", "deleted": True})
        if path.startswith("/files/"):
            return json_response(200, file_body(path.rsplit("/", 1)[1]))
        if path == "/batches" and method == "POST":
            return json_response(200, batch("batch_new", status="validating"))
        if path == "/batches":
            after = request.url.params.get("after")
            ids, more = (["b3"], False) if after == "b2" else (["b1", "b2"], True)
            return json_response(200, {"object": "list", "data": [batch(i) for i in ids], "has_more": more})
        if path.endswith("/cancel"):
            return json_response(200, batch(path.split("/")[2], status="cancelling"))
        batch_id = path.rsplit("/", 1)[1]
        return json_response(200, batch(batch_id, status="completed", output_file_id="file-out"))

    @property
    def only(self) -> httpx.Request:
        (request,) = self.requests
        return request


def make(mode: str, handler: Callable[[httpx.Request], httpx.Response], **settings: Any) -> Any:
    """An Azure client of the test's mode over `handler`; `settings` default to the endpoint and the key."""
    settings.setdefault("max_retries", 0)
    if not {"azure_endpoint", "base_url"} & settings.keys():
        settings["azure_endpoint"] = ENDPOINT
    if not {"api_key", "azure_ad_token", "azure_ad_token_provider"} & settings.keys():
        settings["api_key"] = KEY
    if mode == "sync":
        return AzureBatchClient(http_client=httpx.Client(transport=httpx.MockTransport(handler)), **settings)

    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return AsyncAzureBatchClient(
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(async_handler)), **settings
    )


async def settle(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


async def close(client: Any) -> None:
    await settle(client.close())


def assert_key_header(request: httpx.Request) -> None:
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers


def assert_token_header(request: httpx.Request, token: str = TOKEN) -> None:
    assert request.headers["authorization"] == f"Bearer {token}"
    assert "api-key" not in request.headers


# ---------------------------------------------------------------------------------------------------- the wire

OPERATIONS: dict[str, tuple[Callable[[Any], Any], str, str]] = {
    "files.create": (lambda c: c.files.create(file=("in.jsonl", b"{}\n"), purpose="batch"), "POST", "/files"),
    "files.retrieve": (lambda c: c.files.retrieve("file-abc123"), "GET", "/files/file-abc123"),
    "files.list": (lambda c: c.files.list(), "GET", "/files"),
    "files.delete": (lambda c: c.files.delete("file-abc123"), "DELETE", "/files/file-abc123"),
    "files.content": (lambda c: c.files.content("file-out"), "GET", "/files/file-out/content"),
    "batches.create": (
        lambda c: c.batches.create(input_file_id="file-in", endpoint="/v1/chat/completions"),
        "POST",
        "/batches",
    ),
    "batches.retrieve": (lambda c: c.batches.retrieve("batch_1"), "GET", "/batches/batch_1"),
    "batches.cancel": (lambda c: c.batches.cancel("batch_1"), "POST", "/batches/batch_1/cancel"),
    "batches.list": (lambda c: c.batches.list(), "GET", "/batches"),
}

# (settings, URL prefix, query every request carries, the credential check)
FLAVOURS: dict[str, tuple[dict[str, Any], str, str, Callable[[httpx.Request], None]]] = {
    "v1-key": ({}, f"{ENDPOINT}/openai/v1", "", assert_key_header),
    "v1-token": ({"azure_ad_token": TOKEN}, f"{ENDPOINT}/openai/v1", "", assert_token_header),
    "dated-key": ({"api_version": VERSION}, f"{ENDPOINT}/openai", f"?api-version={VERSION}", assert_key_header),
    "dated-provider": (
        {"api_version": VERSION, "azure_ad_token_provider": lambda: TOKEN},
        f"{ENDPOINT}/openai",
        f"?api-version={VERSION}",
        assert_token_header,
    ),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_each_operation_sends_azures_url_and_credential(mode: str, flavour: str, operation: str) -> None:
    settings, prefix, query, check_credential = FLAVOURS[flavour]
    call, method, path = OPERATIONS[operation]
    server = FakeAzure()
    client = make(mode, server, **settings)
    await settle(call(client))
    request = server.only
    assert request.method == method
    assert str(request.url) == prefix + path + query
    check_credential(request)
    if operation == "files.create":
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    if operation == "batches.create":
        assert json.loads(request.content) == {
            "input_file_id": "file-in",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        }
    await close(client)


@pytest.mark.parametrize(
    ("api_version", "url"),
    [
        (None, f"{ENDPOINT}/openai/v1/batches/b"),
        ("v1", f"{ENDPOINT}/openai/v1/batches/b"),
        ("preview", f"{ENDPOINT}/openai/v1/batches/b?api-version=preview"),
        ("latest", f"{ENDPOINT}/openai/v1/batches/b?api-version=latest"),
        (VERSION, f"{ENDPOINT}/openai/batches/b?api-version={VERSION}"),
        ("2025-04-01-preview", f"{ENDPOINT}/openai/batches/b?api-version=2025-04-01-preview"),
    ],
)
async def test_the_api_version_picks_the_v1_or_the_dated_paths(mode: str, api_version: str | None, url: str) -> None:
    server = FakeAzure()
    client = make(mode, server, api_version=api_version, azure_endpoint=ENDPOINT + "/")
    await settle(client.batches.retrieve("b"))
    assert str(server.only.url) == url
    assert client.api_version == api_version
    await close(client)


async def test_the_api_version_joins_the_default_query_and_a_calls_own_query_wins(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, api_version=VERSION, default_query={"tenant": "t1", "api-version": "stale"})
    assert client.default_query == {"tenant": "t1", "api-version": VERSION}
    await settle(client.batches.list(limit=2, extra_query={"tenant": "t2"}))
    await settle(client.batches.retrieve("b", extra_query={"api-version": "2025-01-01"}))
    listed, retrieved = server.requests
    assert dict(listed.url.params) == {"tenant": "t2", "api-version": VERSION, "limit": "2"}
    assert dict(retrieved.url.params) == {"tenant": "t1", "api-version": "2025-01-01"}
    await close(client)


async def test_the_v1_api_sends_no_api_version_even_from_the_default_query(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, default_query={"api-version": VERSION, "tenant": "t1"})
    await settle(client.batches.retrieve("b"))
    assert str(server.only.url) == f"{ENDPOINT}/openai/v1/batches/b?tenant=t1"
    await close(client)


async def test_a_base_url_is_used_as_given_with_the_api_version_added(mode: str) -> None:
    server = FakeAzure()
    gateway = "https://gateway.example.test/azure/openai/"
    client = make(mode, server, base_url=gateway, api_version=VERSION)
    await settle(client.files.retrieve("file-1"))
    assert str(server.only.url) == f"https://gateway.example.test/azure/openai/files/file-1?api-version={VERSION}"
    assert client.azure_endpoint is None
    await close(client)


async def test_pages_keep_the_path_the_query_and_the_credential(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, api_version=VERSION)
    if mode == "sync":
        ids = [b.id for b in client.batches.list(limit=2)]
    else:
        ids = [b.id async for b in client.batches.list(limit=2)]
    assert ids == ["b1", "b2", "b3"]
    assert [str(r.url) for r in server.requests] == [
        f"{ENDPOINT}/openai/batches?api-version={VERSION}&limit=2",
        f"{ENDPOINT}/openai/batches?api-version={VERSION}&after=b2&limit=2",
    ]
    for request in server.requests:
        assert_key_header(request)
    await close(client)


async def test_raw_and_streaming_responses_go_the_same_way(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server)
    raw = await settle(client.with_raw_response.batches.retrieve("b"))
    assert raw.parse().id == "b"
    assert str(raw.http_request.url) == f"{ENDPOINT}/openai/v1/batches/b"
    if mode == "sync":
        with client.with_streaming_response.files.content("file-out") as response:
            assert response.read() == OUTPUT
    else:
        async with client.with_streaming_response.files.content("file-out") as response:
            assert await response.read() == OUTPUT
    assert str(server.requests[1].url) == f"{ENDPOINT}/openai/v1/files/file-out/content"
    for request in server.requests:
        assert_key_header(request)
    await close(client)


async def test_the_workflow_helpers_submit_wait_and_read_results(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, azure_ad_token=TOKEN)
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "my-deployment"}}
    submitted = await settle(client.batches.submit([line], endpoint="/v1/chat/completions"))
    done = await settle(client.batches.wait(submitted, poll_interval=0.01))
    if mode == "sync":
        results = list(client.batches.results(done))
    else:
        results = [result async for result in client.batches.results(done)]
    assert [result.custom_id for result in results] == ["a"]
    assert [(r.method, r.url.path) for r in server.requests] == [
        ("POST", "/openai/v1/files"),
        ("POST", "/openai/v1/batches"),
        ("GET", "/openai/v1/batches/batch_new"),
        ("GET", "/openai/v1/files/file-out/content"),
    ]
    for request in server.requests:
        assert_token_header(request)
    await close(client)


# ---------------------------------------------------------------------------------------------------- settings


def test_the_clients_are_batch_clients_with_azures_settings() -> None:
    assert issubclass(AzureBatchClient, BatchClient)
    assert issubclass(AsyncAzureBatchClient, AsyncBatchClient)
    client = AzureBatchClient(azure_endpoint=ENDPOINT, api_key=KEY, azure_deployment="gpt-4o-mini-batch")
    assert client.azure_deployment == "gpt-4o-mini-batch"
    assert client.azure_endpoint == ENDPOINT
    assert str(client.base_url) == f"{ENDPOINT}/openai/v1"
    assert client.api_key == KEY
    with pytest.raises(AttributeError):
        client.azure_deployment = "other"  # type: ignore[misc]
    client.close()
    assert AzureBatchClient(azure_endpoint=ENDPOINT, azure_ad_token=TOKEN).api_key == ""


async def test_the_deployment_is_in_no_path(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, azure_deployment="my-deployment", api_version=VERSION)
    await settle(client.batches.retrieve("b"))
    await settle(client.files.list())
    assert [r.url.path for r in server.requests] == ["/openai/batches/b", "/openai/files"]
    await close(client)


async def test_settings_come_from_azures_environment_variables(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env-res.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://not-used.example.test/v1")
    server = FakeAzure()
    http: Any = httpx.Client if mode == "sync" else httpx.AsyncClient
    handler: Any = server if mode == "sync" else _async(server)
    cls = AzureBatchClient if mode == "sync" else AsyncAzureBatchClient
    client = cls(http_client=http(transport=httpx.MockTransport(handler)))
    await settle(client.batches.retrieve("b"))
    assert str(server.only.url) == f"https://env-res.openai.azure.com/openai/batches/b?api-version={VERSION}"
    assert_key_header(server.only)
    await close(client)


def _async(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    async def async_handler(request: httpx.Request) -> httpx.Response:
        return handler(request)

    return async_handler


async def test_arguments_win_over_the_environment(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env-res.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "env-token")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2023-01-01")
    server = FakeAzure()
    client = make(mode, server, api_key=KEY, api_version="v1")
    await settle(client.batches.retrieve("b"))
    assert str(server.only.url) == f"{ENDPOINT}/openai/v1/batches/b"
    assert_key_header(server.only)
    await close(client)


async def test_an_entra_token_in_the_environment_wins_over_a_key(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", TOKEN)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    server = FakeAzure()
    http: Any = httpx.Client if mode == "sync" else httpx.AsyncClient
    handler: Any = server if mode == "sync" else _async(server)
    cls = AzureBatchClient if mode == "sync" else AsyncAzureBatchClient
    client = cls(azure_endpoint=ENDPOINT, http_client=http(transport=httpx.MockTransport(handler)))
    await settle(client.batches.retrieve("b"))
    assert_token_header(server.only)
    await close(client)


def test_a_base_url_does_not_read_the_endpoint_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env-res.openai.azure.com")
    client = AzureBatchClient(base_url="https://gateway.example.test/openai/v1", api_key=KEY)
    assert str(client.base_url) == "https://gateway.example.test/openai/v1"
    client.close()


@pytest.mark.parametrize("cls", [AzureBatchClient, AsyncAzureBatchClient])
@pytest.mark.parametrize(
    "credentials",
    [
        {"api_key": KEY, "azure_ad_token": TOKEN},
        {"api_key": KEY, "azure_ad_token_provider": lambda: TOKEN},
        {"azure_ad_token": TOKEN, "azure_ad_token_provider": lambda: TOKEN},
        {"api_key": KEY, "azure_ad_token": TOKEN, "azure_ad_token_provider": lambda: TOKEN},
    ],
)
def test_the_credentials_are_mutually_exclusive(cls: type, credentials: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        cls(azure_endpoint=ENDPOINT, **credentials)
    message = str(caught.value)
    assert "api_key, azure_ad_token and azure_ad_token_provider are mutually exclusive" in message
    assert " and ".join(credentials) in message
    assert KEY not in message and TOKEN not in message


@pytest.mark.parametrize("cls", [AzureBatchClient, AsyncAzureBatchClient])
def test_missing_credentials_name_the_arguments_and_the_variables(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-is-not-azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "")
    with pytest.raises(MissingAPIKeyError) as caught:
        cls(azure_endpoint=ENDPOINT)
    assert isinstance(caught.value, OpenAIBatchesError)
    for name in (
        "api_key",
        "azure_ad_token",
        "azure_ad_token_provider",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
    ):
        assert name in str(caught.value)


@pytest.mark.parametrize("cls", [AzureBatchClient, AsyncAzureBatchClient])
def test_a_missing_endpoint_names_the_argument_and_the_variable(cls: type) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        cls(api_key=KEY)
    assert caught.value.param == "azure_endpoint"
    assert "base_url" in str(caught.value) and "AZURE_OPENAI_ENDPOINT" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "param"),
    [
        ({"azure_endpoint": ENDPOINT, "base_url": f"{ENDPOINT}/openai/v1"}, "base_url"),
        ({"azure_endpoint": "myres.openai.azure.com"}, "azure_endpoint"),
        ({"azure_endpoint": ENDPOINT, "azure_ad_token": 42}, "azure_ad_token"),
        ({"azure_endpoint": ENDPOINT, "azure_ad_token_provider": "not callable"}, "azure_ad_token_provider"),
        ({"azure_endpoint": ENDPOINT, "_enforce_credentials": False}, "_enforce_credentials"),
        ({"azure_endpoint": ENDPOINT, "workload_identity": object()}, "workload_identity"),
    ],
)
def test_refused_settings_name_their_argument(settings: dict[str, Any], param: str) -> None:
    settings.setdefault("api_key", KEY)
    if "azure_ad_token" in settings or "azure_ad_token_provider" in settings:
        del settings["api_key"]
    with pytest.raises(InvalidParameterError) as caught:
        AzureBatchClient(**settings)
    assert caught.value.param == param


async def test_copies_keep_azures_settings(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, api_version=VERSION, azure_deployment="dep", default_query={"tenant": "t1"})
    for copy in (client.with_options(max_retries=1), client.copy(timeout=9.0)):
        assert type(copy) is type(client)
        assert (copy.api_version, copy.azure_deployment, copy.azure_endpoint) == (VERSION, "dep", ENDPOINT)
        await settle(copy.batches.retrieve("b"))
    assert [str(r.url) for r in server.requests] == [f"{ENDPOINT}/openai/batches/b?tenant=t1&api-version={VERSION}"] * 2
    for request in server.requests:
        assert_key_header(request)
    await close(client)


async def test_a_copy_changes_what_it_is_given(mode: str) -> None:
    server = FakeAzure()
    client = make(mode, server, api_version=VERSION)
    to_v1 = client.with_options(api_version="v1", azure_ad_token=TOKEN)
    await settle(to_v1.batches.retrieve("b"))
    assert str(server.requests[-1].url) == f"{ENDPOINT}/openai/v1/batches/b"
    assert_token_header(server.requests[-1])
    moved = to_v1.with_options(azure_endpoint="https://other.openai.azure.com/", api_key=KEY, api_version=VERSION)
    await settle(moved.batches.retrieve("b"))
    assert str(server.requests[-1].url) == f"https://other.openai.azure.com/openai/batches/b?api-version={VERSION}"
    assert_key_header(server.requests[-1])
    with pytest.raises(InvalidParameterError, match="mutually exclusive"):
        client.with_options(api_key=KEY, azure_ad_token=TOKEN)
    with pytest.raises(InvalidParameterError) as caught:
        client.with_options(data_residency="eu")
    assert caught.value.param == "data_residency"
    await close(client)


def test_a_copy_shares_the_pool_the_client_made() -> None:
    client = AzureBatchClient(azure_endpoint=ENDPOINT, api_key=KEY)
    copy = client.with_options(max_retries=5)
    assert copy._http is client._http and copy.max_retries == 5
    client.close()
    assert copy.is_closed()


# ---------------------------------------------------------------------------------------------------- credentials


def _counter(prefix: str) -> Callable[[], str]:
    calls = iter(range(1, 100))
    return lambda: f"{prefix}-{next(calls)}"


def _async_counter(prefix: str) -> Callable[[], Any]:
    sync = _counter(prefix)

    async def provider() -> str:
        return sync()

    return provider


@pytest.mark.parametrize(
    ("param", "header", "value"),
    [
        ("azure_ad_token_provider", "authorization", "Bearer tok-{}"),
        ("api_key", "api-key", "tok-{}"),
    ],
)
# The sync client takes sync callables only (test_the_sync_client_refuses_an_async_provider); the async one both.
@pytest.mark.parametrize(
    ("mode", "kind"), [("sync", "sync-callable"), ("async", "sync-callable"), ("async", "async-callable")]
)
async def test_a_provider_is_asked_for_every_request_and_every_retry(
    mode: str, kind: str, param: str, header: str, value: str
) -> None:
    delays: list[float] = []

    async def async_sleep(seconds: float) -> None:
        delays.append(seconds)

    policy = RetryPolicy(sleep=delays.append, async_sleep=async_sleep, clock=lambda: 0.0, random=lambda: 0.5)
    busy = json_response(429, {"error": {"code": "429", "message": "Rate limit is exceeded."}})
    server = FakeAzure(busy, busy)
    provider = _counter("tok") if kind == "sync-callable" else _async_counter("tok")
    client = make(mode, server, max_retries=2, retry_policy=policy, **{param: provider})
    await settle(client.batches.retrieve("b"))
    await settle(client.files.retrieve("file-1"))
    assert [r.headers[header] for r in server.requests] == [value.format(n) for n in (1, 2, 3, 4)]
    other = "api-key" if header == "authorization" else "authorization"
    assert all(other not in r.headers for r in server.requests)
    assert len(delays) == 2  # the two retries slept through the injected sleeper
    await close(client)


def test_the_sync_client_refuses_an_async_provider() -> None:
    server = FakeAzure()
    client = make("sync", server, azure_ad_token_provider=_async_counter("tok"))
    with pytest.raises(APIKeyProviderError, match="The azure_ad_token_provider callable returned an awaitable"):
        client.batches.retrieve("b")
    assert server.requests == []


async def test_a_failing_provider_is_named_and_hides_the_token(mode: str) -> None:
    def provider() -> str:
        raise RuntimeError(f"token service refused to renew {TOKEN}")

    server = FakeAzure()
    client = make(mode, server, azure_ad_token_provider=provider)
    with pytest.raises(APIKeyProviderError) as caught:
        await settle(client.batches.retrieve("b"))
    assert str(caught.value).startswith("The azure_ad_token_provider callable raised RuntimeError")
    assert server.requests == []
    await close(client)


# ---------------------------------------------------------------------------------------------------- errors and leaks


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError), (429, RateLimitError)],
)
async def test_azure_error_bodies_map_to_the_typed_errors(mode: str, status: int, error_class: type) -> None:
    body = {"error": {"code": str(status), "message": "Resource not found" if status == 404 else "No."}}
    server = FakeAzure(json_response(status, body, {"apim-request-id": "apim-1"}))
    client = make(mode, server)
    with pytest.raises(error_class) as caught:
        await settle(client.batches.retrieve("b"))
    error = caught.value
    assert error.status_code == status
    assert error.code == str(status) and error.type is None and error.param is None
    assert error.message == body["error"]["message"]
    assert error.body == body["error"]
    await close(client)


@pytest.mark.parametrize("credential", ["api_key", "azure_ad_token", "azure_ad_token_provider", "api_key_provider"])
async def test_the_key_and_the_token_never_leak(mode: str, credential: str, caplog: pytest.LogCaptureFixture) -> None:
    settings: dict[str, Any] = {
        "api_key": {"api_key": KEY},
        "azure_ad_token": {"azure_ad_token": TOKEN},
        "azure_ad_token_provider": {"azure_ad_token_provider": lambda: TOKEN},
        "api_key_provider": {"api_key": lambda: KEY},
    }[credential]
    secret = TOKEN if "token" in credential else KEY
    server = FakeAzure(json_response(401, AZURE_401), json_response(401, AZURE_401))
    client = make(mode, server, api_version=VERSION, **settings)
    caplog.set_level(logging.DEBUG, logger="openai_batches")
    for shown in (repr(client), str(client), repr(client.with_options(max_retries=1)), repr(client._options)):
        assert secret not in shown
    with pytest.raises(AuthenticationError) as caught:
        await settle(client.batches.retrieve("b"))
    with pytest.raises(AuthenticationError) as raw_caught:
        await settle(client.with_raw_response.files.list())
    for error in (caught.value, raw_caught.value):
        assert error.code == "401"
        for text in (str(error), repr(error), error.message, json.dumps(error.body)):
            assert secret not in text
        assert "<redacted>" in error.message
    records = [record.getMessage() for record in caplog.records]
    assert any("Sending GET" in record for record in records)
    assert all(secret not in record for record in records)
    sent = server.requests[0].headers["api-key" if "api_key" in credential else "authorization"]
    assert secret in sent  # it did travel, in its header only
    await close(client)


# ---------------------------------------------------------------------------------------------------- end to end


def chat_request(custom_id: str) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one two three four"}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


@pytest.mark.parametrize(
    ("api_version", "credential"), [(None, {"api_key": KEY}), (VERSION, {"azure_ad_token_provider": lambda: KEY})]
)
async def test_a_batch_and_a_job_run_against_the_local_servers_azure_paths(
    mode: str, api_version: str | None, credential: dict[str, Any], local_server: LocalServer, tmp_path: Path
) -> None:
    endpoint = local_server.base_url.removesuffix("/v1")
    cls = AzureBatchClient if mode == "sync" else AsyncAzureBatchClient
    client = cls(azure_endpoint=endpoint, api_version=api_version, **credential)
    fast = {"poll_interval": 0.02, "max_poll_interval": 0.2}
    submitted = await settle(
        client.batches.submit([chat_request("a"), chat_request("b")], endpoint="/v1/chat/completions")
    )
    done = await settle(client.batches.wait(submitted, **fast))
    results = await settle(client.batches.results_by_custom_id(done, expected=["a", "b"]))
    assert done.status == "completed" and sorted(results) == ["a", "b"]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(chat_request(f"r{i}")) + "\n" for i in range(3)))
    await settle(client.jobs.create("azure", path, state_dir=tmp_path / "state"))
    job = await settle(client.jobs.run("azure", state_dir=tmp_path / "state", **fast))
    assert (job.status, job.succeeded) == ("completed", 3)
    wrong = client.with_options(api_key="azkey-WRONG-000", max_retries=0)
    with pytest.raises(AuthenticationError) as caught:
        await settle(wrong.batches.retrieve(done.id))
    assert caught.value.code == "401" and "azkey-WRONG-000" not in str(caught.value)
    await close(client)


# --------------------------------------------------------------------------------------------------------- jobs


def test_a_job_belongs_to_the_resource_so_it_resumes_with_a_fresh_token_or_the_other_key() -> None:
    from openai_batches.jobs.openai_account import account_of

    endpoint = "https://myres.openai.azure.com"
    clients = [
        AzureBatchClient(azure_endpoint=endpoint, azure_ad_token="token-of-monday"),
        AzureBatchClient(azure_endpoint=endpoint, azure_ad_token="token-of-tuesday"),
        AzureBatchClient(azure_endpoint=endpoint, api_key="key-1-0123456789"),
        AsyncAzureBatchClient(azure_endpoint=endpoint, azure_ad_token_provider=lambda: "fresh"),
    ]
    accounts = {account_of(client) for client in clients}
    assert len(accounts) == 1
    (account,) = accounts
    assert account.base_url == "https://myres.openai.azure.com/openai/v1"
    assert "token-of" not in repr(account) and "key-1" not in repr(account)
    # Another resource is another account, by its URL; on OpenAI, another key is another account.
    other = account_of(AzureBatchClient(azure_endpoint="https://other.openai.azure.com", api_key="key-1-0123456789"))
    assert other.base_url != account.base_url
    assert account_of(BatchClient(api_key="sk-a")).fingerprint != account_of(BatchClient(api_key="sk-b")).fingerprint
