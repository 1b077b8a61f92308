"""Client construction: settings from arguments and the environment, headers, timeouts, copies and lifetime."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from openai_batches import (
    DEFAULT_TIMEOUT,
    AsyncBatchClient,
    BatchClient,
    InvalidParameterError,
    MissingAPIKeyError,
    OpenAIBatchesError,
)

BATCH = {
    "id": "batch_1",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "input_file_id": "file-1",
    "completion_window": "24h",
    "status": "validating",
    "created_at": 1,
}
ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def recording_client(**kwargs: object) -> tuple[BatchClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=BATCH)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return BatchClient(http_client=http, **kwargs), seen  # type: ignore[arg-type]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example.test/openai/v1/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    client, seen = recording_client()
    client.batches.retrieve("batch_1")
    request = seen[0]
    assert str(request.url) == "https://proxy.example.test/openai/v1/batches/batch_1"
    assert request.headers["authorization"] == "Bearer sk-env"
    assert request.headers["openai-organization"] == "org-env"
    assert request.headers["openai-project"] == "proj-env"
    assert (client.organization, client.project) == ("org-env", "proj-env")


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    client, seen = recording_client(
        api_key="sk-arg", organization="org-arg", project="proj-arg", base_url="http://127.0.0.1:9/v1"
    )
    client.batches.retrieve("batch_1")
    request = seen[0]
    assert str(request.url) == "http://127.0.0.1:9/v1/batches/batch_1"
    assert request.headers["authorization"] == "Bearer sk-arg"
    assert request.headers["openai-organization"] == "org-arg"
    assert request.headers["openai-project"] == "proj-arg"


def test_defaults_without_environment() -> None:
    client, seen = recording_client(api_key="sk-arg")
    client.batches.retrieve("batch_1")
    request = seen[0]
    assert str(request.url) == "https://api.openai.com/v1/batches/batch_1"
    assert "openai-organization" not in request.headers
    assert "openai-project" not in request.headers


@pytest.mark.parametrize("value", [None, ""])
def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is not None:
        monkeypatch.setenv("OPENAI_API_KEY", value)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY") as info:
        BatchClient()
    assert isinstance(info.value, OpenAIBatchesError)
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        AsyncBatchClient()


def test_empty_environment_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    monkeypatch.setenv("OPENAI_ORG_ID", "")
    client, seen = recording_client(api_key="sk")
    client.batches.retrieve("batch_1")
    assert seen[0].url.host == "api.openai.com"
    assert "openai-organization" not in seen[0].headers


def test_default_headers_are_sent_and_may_override() -> None:
    client, seen = recording_client(api_key="sk", default_headers={"X-Team": "search", "User-Agent": "mine/1"})
    client.batches.retrieve("batch_1")
    assert seen[0].headers["x-team"] == "search"
    assert seen[0].headers["user-agent"] == "mine/1"


def test_user_agent_names_package_and_version() -> None:
    from openai_batches import __version__

    client, seen = recording_client(api_key="sk")
    client.batches.retrieve("batch_1")
    assert seen[0].headers["user-agent"].startswith(f"openai-batches/{__version__}")


def test_key_is_not_in_repr() -> None:
    client = BatchClient(api_key="sk-very-secret-123")
    assert "sk-very-secret-123" not in repr(client)
    assert "sk-very-secret-123" not in repr(client._options)
    assert "sk-very-secret-123" not in repr(vars(client))
    client.close()


def test_default_timeout_is_real() -> None:
    with BatchClient(api_key="sk") as client:
        assert client.timeout == DEFAULT_TIMEOUT
        assert client.timeout.read is not None and client.timeout.connect is not None
        assert client.timeout.connect < client.timeout.read
        assert client._http.timeout == DEFAULT_TIMEOUT


def test_timeout_on_the_wire() -> None:
    client, seen = recording_client(api_key="sk", timeout=12.0)
    client.batches.retrieve("batch_1")
    assert seen[0].extensions["timeout"]["read"] == 12.0
    client.batches.retrieve("batch_1", timeout=httpx.Timeout(2.0))
    assert seen[1].extensions["timeout"] == httpx.Timeout(2.0).as_dict()


def test_explicit_settings_win_over_the_supplied_http_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=BATCH)

    http = httpx.Client(
        transport=httpx.MockTransport(handler),
        base_url="https://elsewhere.test",
        timeout=99.0,
        headers={"Authorization": "Bearer wrong", "X-Keep": "1"},
    )
    client = BatchClient(api_key="sk-right", base_url="https://api.example.test/v1", timeout=7.0, http_client=http)
    client.batches.retrieve("batch_1")
    request = seen[0]
    assert str(request.url) == "https://api.example.test/v1/batches/batch_1"
    assert request.headers["authorization"] == "Bearer sk-right"
    assert request.headers["x-keep"] == "1"
    assert request.extensions["timeout"]["read"] == 7.0

    # Left unset, the supplied client's own timeout applies.
    untimed = BatchClient(api_key="sk", base_url="https://api.example.test/v1", http_client=http)
    untimed.batches.retrieve("batch_1")
    assert seen[1].extensions["timeout"]["read"] == 99.0


def test_with_options_copies_and_changes_settings() -> None:
    client, seen = recording_client(api_key="sk-1", organization="org-1", base_url="https://a.test/v1")
    copy = client.with_options(api_key="sk-2", base_url="https://b.test/v1", max_retries=5, timeout=3.0)
    assert copy is not client
    assert (copy.max_retries, client.max_retries) == (5, 2)
    assert copy.organization == "org-1"
    copy.batches.retrieve("batch_1")
    client.batches.retrieve("batch_1")
    assert str(seen[0].url) == "https://b.test/v1/batches/batch_1"
    assert seen[0].headers["authorization"] == "Bearer sk-2"
    assert seen[0].extensions["timeout"]["read"] == 3.0
    assert str(seen[1].url) == "https://a.test/v1/batches/batch_1"
    assert seen[1].headers["authorization"] == "Bearer sk-1"


def test_with_options_can_clear_organization() -> None:
    client, seen = recording_client(api_key="sk", organization="org-1")
    client.with_options(organization=None).batches.retrieve("batch_1")
    assert "openai-organization" not in seen[0].headers


def test_close_and_context_manager() -> None:
    with BatchClient(api_key="sk") as client:
        assert not client.is_closed()
    assert client.is_closed()
    with pytest.raises(OpenAIBatchesError, match="closed"):
        client.batches.retrieve("batch_1")


def test_a_supplied_http_client_is_not_closed() -> None:
    http = httpx.Client()
    with BatchClient(api_key="sk", http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_copies_share_the_pool_and_the_original_owns_it() -> None:
    client = BatchClient(api_key="sk")
    copy = client.with_options(max_retries=0)
    copy.close()
    assert not client.is_closed()
    client.close()
    assert copy.is_closed()


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "ftp://x.test"}, "base_url"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": "2"}, "max_retries"),
        ({"default_headers": {"X": 1}}, "default_headers"),
        ({"http_client": httpx.AsyncClient()}, "http_client"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        BatchClient(api_key="sk", **kwargs)  # type: ignore[arg-type]
    assert info.value.param == param


def test_async_client_settings_headers_and_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=BATCH)

    async def main() -> None:
        owned = AsyncBatchClient()
        assert owned.timeout == DEFAULT_TIMEOUT
        async with owned:
            pass
        assert owned.is_closed()
        with pytest.raises(OpenAIBatchesError, match="closed"):
            await owned.batches.retrieve("batch_1")

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncBatchClient(base_url="https://api.example.test/v1", http_client=http) as client:
            batch = await client.batches.retrieve("batch_1")
            await client.with_options(api_key="sk-2", timeout=4.0).batches.retrieve("batch_1")
        assert not http.is_closed
        await http.aclose()
        assert batch.id == "batch_1"
        assert seen[0].headers["authorization"] == "Bearer sk-env"
        assert seen[0].headers["openai-project"] == "proj-env"
        assert seen[1].headers["authorization"] == "Bearer sk-2"
        assert seen[1].extensions["timeout"]["read"] == 4.0
        assert json.loads(json.dumps(BATCH)) == BATCH

    asyncio.run(main())
