"""`AnthropicBatchClient` and `AsyncAnthropicBatchClient`: Anthropic's Message Batches over the library's request path.

The arguments are those of the official SDK's `anthropic.Anthropic` that a batch client needs, read from the same
environment variables (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL). The key travels in `x-api-key` (never
`Authorization`) with `anthropic-version: 2023-06-01`; a `default_headers` entry of either name wins, as in the SDK.
Every request goes through the library's dispatcher (`_http`), so retries (408, 409, 429, 5xx, `x-should-retry`,
`retry-after`), timeouts, redaction of the key and error mapping are those of `BatchClient`; only the error classes
and the request id header differ (`_errors`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import httpx

from .._client import _async_http, _ClientBase, _sync_http
from .._config import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    QueryValue,
    TimeoutTypes,
    URLTypes,
    resolve_options,
)
from .._exceptions import MissingAPIKeyError
from .._http import AsyncDispatcher, CallContext, Dispatcher
from .._retry import RetryPolicy
from ._errors import AnthropicRequestBuilder

if TYPE_CHECKING:
    import httpx2

    from .._parsing import Parse
    from ..jobs.api import AsyncJobs, Jobs
    from ..jobs.provider_rules import ProviderRules
    from .batches import AsyncMessages, AsyncMessagesWithRawResponse, Messages, MessagesWithRawResponse

__all__ = ["DEFAULT_BASE_URL", "AnthropicBatchClient", "AsyncAnthropicBatchClient"]

T = TypeVar("T")

DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
API_VERSION: Final = "2023-06-01"
KEY_HEADER: Final = "x-api-key"


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def anthropic_options(
    *,
    api_key: str | None,
    base_url: URLTypes | None,
    timeout: TimeoutTypes | NotGiven,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
    default_query: Mapping[str, QueryValue] | None,
    http_client_timeout: httpx.Timeout | None,
    retry_policy: RetryPolicy | None,
) -> ClientOptions:
    """The settings of an Anthropic client: explicit arguments, then ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL."""
    key = api_key if api_key else _env("ANTHROPIC_API_KEY")
    if key is None:
        raise MissingAPIKeyError(
            "No API key: pass api_key=... or set the ANTHROPIC_API_KEY environment variable to a non-empty value."
        )
    headers = {"anthropic-version": API_VERSION}
    if default_headers:
        # As in the SDK, a caller's header of another spelling replaces ours rather than joining it.
        lowered = {name.lower() for name in default_headers}
        headers = {name: value for name, value in headers.items() if name not in lowered}
        headers.update(default_headers)
    options = resolve_options(
        api_key=key,
        organization=None,
        project=None,
        base_url=base_url or _env("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL,
        timeout=timeout,
        max_retries=max_retries,
        default_headers=headers,
        http_client_timeout=http_client_timeout,
        retry_policy=retry_policy,
        default_query=default_query,
    )
    # No OpenAI-Organization / OpenAI-Project from the OpenAI variables; the key in x-api-key, bare.
    return attrs.evolve(options, organization=None, project=None, key_header=KEY_HEADER)


def _copy_settings(client: _ClientBase, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments of a `with_options` copy: the client's settings with `overrides` over them."""
    settings = client._changed(overrides)
    # The OpenAI settings `_changed` carries are not this client's.
    settings.pop("organization", None)
    settings.pop("project", None)
    return settings


class AnthropicBatchClient(_ClientBase):
    """Synchronous client for Anthropic's Message Batches API: `client.messages.batches`.

    Settings left out come from ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. Pass `http_client` to reuse your own
    `httpx.Client` (proxies, mTLS, event hooks); it is not closed by `close()`.

    Args:
        api_key: The API key, sent in `x-api-key`; ANTHROPIC_API_KEY when None.
        base_url: The API's base URL, without `/v1`; ANTHROPIC_BASE_URL, then `https://api.anthropic.com`, when
            None.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request (an `anthropic-version` here replaces the default).
        default_query: Query parameters added to every request.
        http_client: An `httpx.Client` or `httpx2.Client` to send through (not closed by `close()`); a new one
            when None.
        retry_policy: The backoff, clock and sleep of retries; the library's default when None.

    Raises:
        MissingAPIKeyError: No `api_key` was given and ANTHROPIC_API_KEY is unset or empty.
        InvalidParameterError: A setting was refused (a malformed `base_url`, a wrong `http_client` type, a
            negative `max_retries`, ...).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        http = _sync_http(http_client)
        self._options = anthropic_options(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client_timeout=None if http is None else http.timeout,
            retry_policy=retry_policy,
        )
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=self._options.timeout)
        self._source = http_client if http_client is not None else self._http
        self._pool = None
        self._dispatcher = Dispatcher(self._options, self._http)
        self._builder = self._dispatcher._builder = AnthropicRequestBuilder(self._options, self._http)

    @functools.cached_property
    def messages(self) -> Messages:
        """The Messages API's batch operations, as `client.messages.batches`."""
        from .batches import Messages

        return Messages(self)

    @functools.cached_property
    def jobs(self) -> Jobs:
        """Durable jobs bigger than one batch, on Message Batches: create, run (resumable), get, list, cancel,
        delete. The same JSONL as a job on OpenAI (chat lines, translated), or Anthropic's own request lines."""
        from ..jobs._sync.anthropic_provider import AnthropicProvider
        from ..jobs.api import Jobs

        return Jobs(AnthropicProvider(self))

    def _job_rules(self) -> ProviderRules:
        from ..jobs.provider_rules import ANTHROPIC_RULES

        return ANTHROPIC_RULES

    def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        return parse(context, self._dispatcher.request(context, **kwargs))

    @functools.cached_property
    def with_raw_response(self) -> AnthropicBatchClientWithRawResponse:
        """Every method but `results`, returning the raw response: `.messages.batches.retrieve(id).headers`."""
        return AnthropicBatchClientWithRawResponse(self)

    def with_options(
        self,
        *,
        api_key: str | NotGiven = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> AnthropicBatchClient:
        """A copy with some settings changed, sending through this client's connection pool (which this client
        closes) unless given its own `http_client`. `default_headers` and `default_query` are merged over this
        client's; `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key.
            base_url: A new base URL.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        settings = _copy_settings(
            self,
            {
                "api_key": api_key,
                "base_url": base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            },
        )
        if http_client is not None:
            return AnthropicBatchClient(**settings, http_client=http_client)
        return self._share_pool(AnthropicBatchClient(**settings, http_client=self._http))

    copy = with_options

    def is_closed(self) -> bool:
        """Whether the HTTP client requests go through is closed.

        Returns:
            True once closed.
        """
        return self._http.is_closed

    def close(self) -> None:
        """Close the HTTP client this client made (one passed as `http_client` is left open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AnthropicBatchClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncAnthropicBatchClient(_ClientBase):
    """Asynchronous client for Anthropic's Message Batches API: `client.messages.batches`, awaited.

    Args:
        api_key: The API key, sent in `x-api-key`; ANTHROPIC_API_KEY when None.
        base_url: The API's base URL, without `/v1`; ANTHROPIC_BASE_URL, then `https://api.anthropic.com`, when
            None.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request (an `anthropic-version` here replaces the default).
        default_query: Query parameters added to every request.
        http_client: An `httpx.AsyncClient` or `httpx2.AsyncClient` to send through (not closed by `close()`); a
            new one when None.
        retry_policy: The backoff, clock and sleep of retries; the library's default when None.

    Raises:
        MissingAPIKeyError: No `api_key` was given and ANTHROPIC_API_KEY is unset or empty.
        InvalidParameterError: A setting was refused (a malformed `base_url`, a wrong `http_client` type, a
            negative `max_retries`, ...).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        http = _async_http(http_client)
        self._options = anthropic_options(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client_timeout=None if http is None else http.timeout,
            retry_policy=retry_policy,
        )
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=self._options.timeout)
        self._source = http_client if http_client is not None else self._http
        self._pool = None
        self._dispatcher = AsyncDispatcher(self._options, self._http)
        self._builder = self._dispatcher._builder = AnthropicRequestBuilder(self._options, self._http)

    @functools.cached_property
    def messages(self) -> AsyncMessages:
        """The Messages API's batch operations, as `client.messages.batches`."""
        from .batches import AsyncMessages

        return AsyncMessages(self)

    @functools.cached_property
    def jobs(self) -> AsyncJobs:
        """Durable jobs bigger than one batch, on Message Batches: create, run (resumable), get, list, cancel,
        delete. The same JSONL as a job on OpenAI (chat lines, translated), or Anthropic's own request lines."""
        from ..jobs._async.anthropic_provider import AsyncAnthropicProvider
        from ..jobs.api import AsyncJobs

        return AsyncJobs(AsyncAnthropicProvider(self))

    def _job_rules(self) -> ProviderRules:
        from ..jobs.provider_rules import ANTHROPIC_RULES

        return ANTHROPIC_RULES

    async def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        return parse(context, await self._dispatcher.request(context, **kwargs))

    @functools.cached_property
    def with_raw_response(self) -> AsyncAnthropicBatchClientWithRawResponse:
        """Every method but `results`, returning the raw response: `.messages.batches.retrieve(id).headers`."""
        return AsyncAnthropicBatchClientWithRawResponse(self)

    def with_options(
        self,
        *,
        api_key: str | NotGiven = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> AsyncAnthropicBatchClient:
        """A copy with some settings changed, sending through this client's connection pool (which this client
        closes) unless given its own `http_client`. `default_headers` and `default_query` are merged over this
        client's; `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key.
            base_url: A new base URL.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        settings = _copy_settings(
            self,
            {
                "api_key": api_key,
                "base_url": base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            },
        )
        if http_client is not None:
            return AsyncAnthropicBatchClient(**settings, http_client=http_client)
        return self._share_pool(AsyncAnthropicBatchClient(**settings, http_client=self._http))

    copy = with_options

    def is_closed(self) -> bool:
        """Whether the HTTP client requests go through is closed.

        Returns:
            True once closed.
        """
        return self._http.is_closed

    async def close(self) -> None:
        """Close the HTTP client this client made (one passed as `http_client` is left open)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncAnthropicBatchClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AnthropicBatchClientWithRawResponse:
    """`client.with_raw_response`: `.messages.batches.<method>(...)` returns a `RawResponse`."""

    def __init__(self, client: AnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def messages(self) -> MessagesWithRawResponse:
        from .batches import MessagesWithRawResponse

        return MessagesWithRawResponse(self._client.messages)


class AsyncAnthropicBatchClientWithRawResponse:
    """The async `with_raw_response`: `await` a method for its `RawResponse`."""

    def __init__(self, client: AsyncAnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def messages(self) -> AsyncMessagesWithRawResponse:
        from .batches import AsyncMessagesWithRawResponse

        return AsyncMessagesWithRawResponse(self._client.messages)
