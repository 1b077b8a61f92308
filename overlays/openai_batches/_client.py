"""`BatchClient` and `AsyncBatchClient`: settings, the owned HTTP client, and the resources hung on them."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

import httpx

from . import _httpx2
from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    QueryValue,
    TimeoutTypes,
    URLTypes,
    check_body,
    check_headers,
    check_max_retries,
    check_query,
    coerce_timeout,
    resolve_options,
)
from ._exceptions import InvalidParameterError
from ._http import AsyncDispatcher, CallContext, Dispatcher, RequestBuilder, RequestExtras
from ._retry import RetryPolicy

if TYPE_CHECKING:
    import httpx2

    from ._parsing import Parse
    from .jobs.api import AsyncJobs, Jobs
    from .jobs.provider_rules import ProviderRules
    from .resources.batches import (
        AsyncBatches,
        AsyncBatchesWithRawResponse,
        AsyncBatchesWithStreamingResponse,
        Batches,
        BatchesWithRawResponse,
        BatchesWithStreamingResponse,
    )
    from .resources.files import (
        AsyncFiles,
        AsyncFilesWithRawResponse,
        AsyncFilesWithStreamingResponse,
        Files,
        FilesWithRawResponse,
        FilesWithStreamingResponse,
    )

__all__ = [
    "AsyncBatchClient",
    "BatchClient",
    "DefaultAsyncHttpx2Client",
    "DefaultAsyncHttpxClient",
    "DefaultHttpx2Client",
    "DefaultHttpxClient",
]

T = TypeVar("T")
C = TypeVar("C", bound="_ClientBase")

_MERGED_SETTINGS = frozenset({"default_headers", "set_default_headers", "default_query", "set_default_query"})


class _SharedPool:
    """A connection pool a client made for itself, shared with its `with_options` copies.

    It is closed by the owner's `close()`, or once the owner and every copy are gone, as the official SDK does, so a
    script that never calls `close()` leaves no socket open. A weakref callback does it: the garbage collector runs
    those before it finalizes anything, so the sockets are closed by their pool, never left to their own finalizers
    (which would warn about them) in whatever order a collection happens to pick.
    """

    def __init__(self, http: httpx.Client | httpx.AsyncClient) -> None:
        self.http = http
        self.users = 0

    def attach(self, client: object) -> None:
        self.users += 1
        weakref.finalize(client, self._release)

    def _release(self) -> None:
        self.users -= 1
        if self.users or self.http.is_closed:
            return
        http = self.http
        with contextlib.suppress(Exception):
            if isinstance(http, httpx.Client):
                http.close()
            else:
                # An async pool closes on an event loop; with none running (the loop has ended) its connections
                # went with the loop.
                import asyncio

                asyncio.get_running_loop().create_task(http.aclose())


# The SDK's `data_residency` names, as the SDK 3.x maps them: honoured, since sending to another region than the
# caller chose would not be safe to ignore.
_DATA_RESIDENCY_BASE_URLS: Final = {
    "global": "https://api.openai.com/v1",
    "us": "https://us.api.openai.com/v1",
    "eu": "https://eu.api.openai.com/v1",
    "ae": "https://ae.api.openai.com/v1",
    "au": "https://au.api.openai.com/v1",
    "in": "https://in.api.openai.com/v1",
    "jp": "https://jp.api.openai.com/v1",
}


def _sdk_settings(
    base_url: URLTypes | NotGiven | None,
    *,
    workload_identity: object,
    provider: object,
    data_residency: str | None,
    enforce_credentials: bool | None,
) -> URLTypes | NotGiven | None:
    """The official SDK's constructor keywords this library has no setting of its own for: the base URL they imply,
    or an error naming the one that cannot be honoured. (`webhook_secret`, `websocket_base_url`, `admin_api_key` and
    `_strict_response_validation` are taken and dropped by the callers: no batch or file request depends on them.)"""
    if workload_identity is not None:
        raise InvalidParameterError(
            "workload_identity",
            "not supported by openai-batches; pass api_key= a callable that returns a token from your identity "
            "provider (it is called for every request)",
        )
    if provider is not None:
        raise InvalidParameterError(
            "provider",
            "not supported by openai-batches; point base_url= at the provider's OpenAI-compatible endpoint and pass "
            "its credentials as api_key= (a string or a callable) or default_headers=",
        )
    if enforce_credentials is False:
        raise InvalidParameterError(
            "_enforce_credentials", "openai-batches always needs a key: pass api_key= or set OPENAI_API_KEY"
        )
    if data_residency is None:
        return base_url
    if base_url is not None and base_url is not NOT_GIVEN:
        raise InvalidParameterError("data_residency", "give data_residency or base_url, not both")
    if not isinstance(data_residency, str) or data_residency not in _DATA_RESIDENCY_BASE_URLS:
        raise InvalidParameterError(
            "data_residency",
            f"expected one of {', '.join(map(repr, _DATA_RESIDENCY_BASE_URLS))}, got {data_residency!r}",
        )
    return _DATA_RESIDENCY_BASE_URLS[data_residency]


def _sync_http(http_client: object) -> httpx.Client | None:
    if http_client is None or isinstance(http_client, httpx.Client):
        return http_client
    if _httpx2.is_instance(http_client, "Client"):
        return _httpx2.sync_client_over(http_client)  # type: ignore[arg-type]
    async_hint = (
        "; an async client goes to AsyncBatchClient"
        if isinstance(http_client, httpx.AsyncClient) or _httpx2.is_instance(http_client, "AsyncClient")
        else ""
    )
    raise InvalidParameterError(
        "http_client",
        "expected an httpx.Client, an httpx2.Client or openai_batches.DefaultHttpxClient(...), got "
        f"{type(http_client).__name__}{async_hint}",
    )


def _async_http(http_client: object) -> httpx.AsyncClient | None:
    if http_client is None or isinstance(http_client, httpx.AsyncClient):
        return http_client
    if _httpx2.is_instance(http_client, "AsyncClient"):
        return _httpx2.async_client_over(http_client)  # type: ignore[arg-type]
    sync_hint = (
        "; a sync client goes to BatchClient"
        if isinstance(http_client, httpx.Client) or _httpx2.is_instance(http_client, "Client")
        else ""
    )
    raise InvalidParameterError(
        "http_client",
        "expected an httpx.AsyncClient, an httpx2.AsyncClient or openai_batches.DefaultAsyncHttpxClient(...), got "
        f"{type(http_client).__name__}{sync_hint}",
    )


def _default_client_settings(kwargs: dict[str, Any], client: str) -> dict[str, Any]:
    timeout = kwargs.get("timeout", DEFAULT_TIMEOUT)
    kwargs["timeout"] = coerce_timeout(timeout) if timeout is not None else None
    for name in ("transport", "mounts"):
        value = kwargs.get(name)
        values = value.values() if isinstance(value, Mapping) else [value]
        if any(type(item).__module__.startswith("httpx2") for item in values):
            raise InvalidParameterError(
                name,
                f"{client} is an httpx client and takes httpx transports; for an httpx2 transport pass "
                f"http_client=httpx2.{client.removeprefix('Default').replace('Httpx', '')}(transport=...)",
            )
    return kwargs


class DefaultHttpxClient(httpx.Client):
    """An `httpx.Client` with this library's defaults, as the SDK's `DefaultHttpxClient` has the SDK's.

    A bare `httpx.Client()` has httpx's 5 s timeout, too short for an upload; this one starts from the library's.
    Pass it as `http_client` to add proxies, event hooks or a transport and keep the rest as the library sets it.

    Args:
        **kwargs: `httpx.Client`'s keyword arguments; `timeout` defaults to the library's (60 s, 5 s to connect).

    Raises:
        InvalidParameterError: A `transport` or `mounts` value is an httpx2 transport.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_default_client_settings(kwargs, "DefaultHttpxClient"))


class DefaultAsyncHttpxClient(httpx.AsyncClient):
    """The `httpx.AsyncClient` twin of `DefaultHttpxClient`.

    Args:
        **kwargs: `httpx.AsyncClient`'s keyword arguments; `timeout` defaults to the library's (60 s, 5 s to connect).

    Raises:
        InvalidParameterError: A `transport` or `mounts` value is an httpx2 transport.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**_default_client_settings(kwargs, "DefaultAsyncHttpxClient"))


def _import_httpx2(name: str) -> Any:
    try:
        import httpx2
    except ImportError:
        raise ImportError(f"{name} needs httpx2, an optional extra: {_httpx2.EXTRA_HINT}") from None
    return httpx2


def DefaultHttpx2Client(**kwargs: Any) -> httpx2.Client:
    """An `httpx2.Client` with this library's timeout, as the SDK's `DefaultHttpx2Client` (needs the httpx2 extra).

    Args:
        **kwargs: `httpx2.Client`'s keyword arguments; `timeout` defaults to the library's.

    Returns:
        The new `httpx2.Client`, to pass as `http_client`.

    Raises:
        ImportError: httpx2 is not installed.
    """
    module = _import_httpx2("DefaultHttpx2Client")
    timeout = kwargs.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, httpx.Timeout):
        kwargs["timeout"] = module.Timeout(**timeout.as_dict())
    client: httpx2.Client = module.Client(**kwargs)
    return client


def DefaultAsyncHttpx2Client(**kwargs: Any) -> httpx2.AsyncClient:
    """The async twin of `DefaultHttpx2Client`.

    Args:
        **kwargs: `httpx2.AsyncClient`'s keyword arguments; `timeout` defaults to the library's.

    Returns:
        The new `httpx2.AsyncClient`, to pass as `http_client`.

    Raises:
        ImportError: httpx2 is not installed.
    """
    module = _import_httpx2("DefaultAsyncHttpx2Client")
    timeout = kwargs.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, httpx.Timeout):
        kwargs["timeout"] = module.Timeout(**timeout.as_dict())
    client: httpx2.AsyncClient = module.AsyncClient(**kwargs)
    return client


class _ClientBase:
    _options: ClientOptions
    _builder: RequestBuilder
    # What `is_closed()` asks: the caller's own client when one was given (an httpx2 one sits behind a wrapper).
    _source: Any
    _pool: _SharedPool | None

    def _adapt_options(self, options: ClientOptions) -> ClientOptions:
        """The resolved settings as this kind of client sends them: a hook for a service that takes its key its own
        way (the Azure clients send `api-key`), so the request path stays one for every client."""
        return options

    def _account_identity(self) -> tuple[str, ...]:
        """What tells one account's batches from another's, for a job to refuse a client of another account: on
        OpenAI the key with its organization and project (hashed by the caller, never stored)."""
        options = self._options
        return (options.api_key, options.organization or "", options.project or "")

    def _job_rules(self) -> ProviderRules:
        """What one batch of this client's service holds, for the shards of its jobs."""
        from .jobs.provider_rules import OPENAI_RULES

        return OPENAI_RULES

    def _share_pool(self, twin: C) -> C:
        """`twin`, a `with_options` copy built over this client's HTTP client, keeping the pool open while in use."""
        if self._pool is not None:
            self._pool.attach(twin)
        twin._pool = self._pool
        twin._source = self._source
        return twin

    @property
    def base_url(self) -> httpx.URL:
        return self._options.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def organization(self) -> str | None:
        return self._options.organization

    @property
    def project(self) -> str | None:
        return self._options.project

    @property
    def api_key(self) -> str:
        """The key this client sends (read-only; never shown in a repr or an error). With an api_key callable, the
        key it last returned ("" before the first request), as the SDK's `api_key` reads."""
        return self._options.api_key or self._builder.last_key

    @property
    def default_query(self) -> dict[str, QueryValue]:
        """Query parameters added to every request."""
        return dict(self._options.default_query)

    @property
    def _plain(self) -> Any:
        # What a listing's later pages are fetched with; a raw or streaming mode answers with the client it wraps.
        return self

    def _call(
        self,
        extra_headers: Mapping[str, str] | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | NotGiven,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
    ) -> CallContext:
        context = CallContext(
            timeout=None if timeout is NOT_GIVEN else coerce_timeout(timeout),
            max_retries=None if max_retries is NOT_GIVEN else check_max_retries(max_retries),
            headers=check_headers(extra_headers, "extra_headers"),
        )
        if extra_query is not None or extra_body is not None:
            query = check_query(extra_query, "extra_query")
            body = check_body(extra_body, "extra_body")
            if query or body:
                context.extras = RequestExtras(query or None, body or None)
        return context

    def _changed(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """The settings of a copy: this client's, with the given ones changed.

        As in the official SDK's `copy()`, `default_headers` and `default_query` are merged over this client's own,
        and `set_default_headers` / `set_default_query` replace them.
        """
        options = self._options
        settings: dict[str, Any] = {
            "api_key": options.api_key_provider or options.api_key,
            "organization": options.organization,
            "project": options.project,
            "base_url": options.base_url,
            "timeout": options.timeout,
            "max_retries": options.max_retries,
            "default_headers": dict(options.default_headers),
            "default_query": dict(options.default_query),
            "retry_policy": options.retry,
        }
        for merged, replacement in (("default_headers", "set_default_headers"), ("default_query", "set_default_query")):
            added, replaced = overrides.get(merged, NOT_GIVEN), overrides.get(replacement, NOT_GIVEN)
            if added is not NOT_GIVEN and replaced is not NOT_GIVEN:
                raise InvalidParameterError(
                    replacement, f"give {merged} (merged) or {replacement} (replaces), not both"
                )
            if added is not NOT_GIVEN and added is not None:
                checker = check_headers if merged == "default_headers" else check_query
                settings[merged] = {**settings[merged], **checker(added, merged)}
            elif replaced is not NOT_GIVEN:
                settings[merged] = replaced
        for name, value in overrides.items():
            if value is not NOT_GIVEN and name not in _MERGED_SETTINGS:
                settings[name] = value
        return settings

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r}, max_retries={self.max_retries})"


class BatchClient(_ClientBase):
    """Synchronous client for the OpenAI Batch API.

    Settings left out come from OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID. Pass
    `http_client` to reuse your own `httpx.Client` (proxies, mTLS, event hooks); settings given here win over its
    own, and it is not closed by `close()`.

    Args:
        api_key: The API key, or a callable returning one, asked before each request; OPENAI_API_KEY when None.
        organization: The `OpenAI-Organization` header; OPENAI_ORG_ID when None.
        project: The `OpenAI-Project` header; OPENAI_PROJECT_ID when None.
        base_url: The API's base URL; OPENAI_BASE_URL, then `https://api.openai.com/v1`, when None.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request.
        default_query: Query parameters added to every request.
        http_client: An `httpx.Client` or `httpx2.Client` to send through (not closed by `close()`); a new one
            when None.
        retry_policy: The backoff, clock and sleep of retries and waits; the library's default when None.
        data_residency: A region whose OpenAI base URL to use, as the official SDK takes it; not with `base_url`.
        workload_identity: The SDK's setting, refused when given: pass an `api_key` callable instead.
        provider: The SDK's setting, refused when given: point `base_url` at the provider instead.
        admin_api_key: Taken for the official SDK's sake and dropped: no batch or file request uses it.
        webhook_secret: Taken for the official SDK's sake and dropped.
        websocket_base_url: Taken for the official SDK's sake and dropped.
        _strict_response_validation: Taken for the official SDK's sake and dropped: responses are always checked.
        _enforce_credentials: The SDK's setting; False is refused, since every request needs a key.

    Raises:
        MissingAPIKeyError: No `api_key` was given and OPENAI_API_KEY is unset or empty.
        InvalidParameterError: A setting was refused (a malformed `base_url`, a wrong `http_client` type, a
            negative `max_retries`, an unsupported SDK keyword, ...).
    """

    def __init__(
        self,
        api_key: str | Callable[[], str] | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        # Taken for the SDK's sake and dropped; the README's "Switching from the official SDK" says why each is safe.
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
    ) -> None:
        base_url = (
            _sdk_settings(
                base_url,
                workload_identity=workload_identity,
                provider=provider,
                data_residency=data_residency,
                enforce_credentials=_enforce_credentials,
            )
            or None
        )
        http = _sync_http(http_client)
        options = resolve_options(
            api_key=api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client_timeout=None if http is None else http.timeout,
            retry_policy=retry_policy,
            default_query=default_query,
        )
        self._options = self._adapt_options(options)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=self._options.timeout)
        self._source = http_client if http_client is not None else self._http
        self._pool: _SharedPool | None = None
        if http is None:
            self._pool = _SharedPool(self._http)
            self._pool.attach(self)
        self._dispatcher = Dispatcher(self._options, self._http)
        self._builder = self._dispatcher._builder

    # The resources load on first use, and with them the generated models they build: importing the client costs
    # only httpx and the request path, and a client that only lists batches never loads the file operations.
    @functools.cached_property
    def batches(self) -> Batches:
        """Batch operations: create, retrieve, cancel, list, wait, results, submit."""
        from .resources.batches import Batches

        return Batches(self)

    @functools.cached_property
    def files(self) -> Files:
        """File operations: upload, list, retrieve, delete, download."""
        from .resources.files import Files

        return Files(self)

    @functools.cached_property
    def jobs(self) -> Jobs:
        """Durable jobs bigger than one batch: create, run (resumable), get, list, cancel, delete."""
        # Imported on first use: the jobs bring sqlite3, which a client that only submits batches never needs.
        from .jobs._sync.openai_provider import OpenAIProvider
        from .jobs.api import Jobs

        return Jobs(OpenAIProvider(self, self._job_rules()))

    def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        return parse(context, self._dispatcher.request(context, **kwargs))

    @functools.cached_property
    def with_raw_response(self) -> BatchClientWithRawResponse:
        """Every method, returning the raw response: `client.with_raw_response.batches.retrieve(id).headers`."""
        return BatchClientWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> BatchClientWithStreamingResponse:
        """Every method, as a context manager over the response whose body is read only when asked."""
        return BatchClientWithStreamingResponse(self)

    def with_options(
        self,
        *,
        api_key: str | Callable[[], str] | NotGiven = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | httpx2.Client | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _enforce_credentials: bool | None = None,
    ) -> BatchClient:
        """A copy with some settings changed. It shares this client's connection pool (which this client closes)
        unless given its own `http_client`. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key, or a callable returning one.
            organization: A new `OpenAI-Organization` header; None falls back to OPENAI_ORG_ID.
            project: A new `OpenAI-Project` header; None falls back to OPENAI_PROJECT_ID.
            base_url: A new base URL.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.
            data_residency: A region whose OpenAI base URL to use; not with `base_url`.
            workload_identity: The SDK's setting, refused when given.
            provider: The SDK's setting, refused when given.
            admin_api_key: Taken for the official SDK's sake and dropped.
            webhook_secret: Taken for the official SDK's sake and dropped.
            websocket_base_url: Taken for the official SDK's sake and dropped.
            _enforce_credentials: The SDK's setting; False is refused.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        new_base_url = _sdk_settings(
            base_url,
            workload_identity=workload_identity,
            provider=provider,
            data_residency=data_residency,
            enforce_credentials=_enforce_credentials,
        )
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": new_base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            }
        )
        if http_client is not None:
            return BatchClient(**settings, http_client=http_client)
        return self._share_pool(BatchClient(**settings, http_client=self._http))

    copy = with_options

    def is_closed(self) -> bool:
        """Whether the connection pool is closed (a method, as in the official SDK).

        Returns:
            True once the pool this client sends through is closed.
        """
        return self._http.is_closed or bool(self._source.is_closed)

    def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller (then closing it is the caller's job)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> BatchClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncBatchClient(_ClientBase):
    """Asynchronous client for the OpenAI Batch API; the same settings as `BatchClient`, with `httpx.AsyncClient`.

    Args:
        api_key: The API key, or a callable returning one (or an awaitable of one), asked before each
            request; OPENAI_API_KEY when None.
        organization: The `OpenAI-Organization` header; OPENAI_ORG_ID when None.
        project: The `OpenAI-Project` header; OPENAI_PROJECT_ID when None.
        base_url: The API's base URL; OPENAI_BASE_URL, then `https://api.openai.com/v1`, when None.
        timeout: Seconds, or an `httpx.Timeout`, for each request; 60 s (5 s to connect) when not given, or the
            given `http_client`'s own.
        max_retries: How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
        default_headers: Headers sent with every request.
        default_query: Query parameters added to every request.
        http_client: An `httpx.AsyncClient` or `httpx2.AsyncClient` to send through (not closed by `close()`); a new one
            when None.
        retry_policy: The backoff, clock and sleep of retries and waits; the library's default when None.
        data_residency: A region whose OpenAI base URL to use, as the official SDK takes it; not with `base_url`.
        workload_identity: The SDK's setting, refused when given: pass an `api_key` callable instead.
        provider: The SDK's setting, refused when given: point `base_url` at the provider instead.
        admin_api_key: Taken for the official SDK's sake and dropped: no batch or file request uses it.
        webhook_secret: Taken for the official SDK's sake and dropped.
        websocket_base_url: Taken for the official SDK's sake and dropped.
        _strict_response_validation: Taken for the official SDK's sake and dropped: responses are always checked.
        _enforce_credentials: The SDK's setting; False is refused, since every request needs a key.

    Raises:
        MissingAPIKeyError: No `api_key` was given and OPENAI_API_KEY is unset or empty.
        InvalidParameterError: A setting was refused (a malformed `base_url`, a wrong `http_client` type, a
            negative `max_retries`, an unsupported SDK keyword, ...).
    """

    def __init__(
        self,
        api_key: str | Callable[[], str | Awaitable[str]] | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        base_url: URLTypes | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        # Taken for the SDK's sake and dropped; the README's "Switching from the official SDK" says why each is safe.
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _strict_response_validation: bool = False,
        _enforce_credentials: bool = True,
    ) -> None:
        base_url = (
            _sdk_settings(
                base_url,
                workload_identity=workload_identity,
                provider=provider,
                data_residency=data_residency,
                enforce_credentials=_enforce_credentials,
            )
            or None
        )
        http = _async_http(http_client)
        options = resolve_options(
            api_key=api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client_timeout=None if http is None else http.timeout,
            retry_policy=retry_policy,
            default_query=default_query,
        )
        self._options = self._adapt_options(options)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=self._options.timeout)
        self._source = http_client if http_client is not None else self._http
        self._pool: _SharedPool | None = None
        if http is None:
            self._pool = _SharedPool(self._http)
            self._pool.attach(self)
        self._dispatcher = AsyncDispatcher(self._options, self._http)
        self._builder = self._dispatcher._builder

    @functools.cached_property
    def batches(self) -> AsyncBatches:
        """Batch operations: create, retrieve, cancel, list, wait, results, submit."""
        from .resources.batches import AsyncBatches

        return AsyncBatches(self)

    @functools.cached_property
    def files(self) -> AsyncFiles:
        """File operations: upload, list, retrieve, delete, download."""
        from .resources.files import AsyncFiles

        return AsyncFiles(self)

    @functools.cached_property
    def jobs(self) -> AsyncJobs:
        """Durable jobs bigger than one batch: create, run (resumable), get, list, cancel, delete."""
        from .jobs._async.openai_provider import AsyncOpenAIProvider
        from .jobs.api import AsyncJobs

        return AsyncJobs(AsyncOpenAIProvider(self, self._job_rules()))

    async def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> T:
        return parse(context, await self._dispatcher.request(context, **kwargs))

    @functools.cached_property
    def with_raw_response(self) -> AsyncBatchClientWithRawResponse:
        """Every method, returning the raw response: `(await client.with_raw_response.batches.retrieve(id)).headers`."""
        return AsyncBatchClientWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> AsyncBatchClientWithStreamingResponse:
        """Every method, as an async context manager over the response whose body is read only when asked."""
        return AsyncBatchClientWithStreamingResponse(self)

    def with_options(
        self,
        *,
        api_key: str | Callable[[], str | Awaitable[str]] | NotGiven = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: URLTypes | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
        data_residency: str | None = None,
        workload_identity: object = None,
        provider: object = None,
        admin_api_key: str | None = None,
        webhook_secret: str | None = None,
        websocket_base_url: URLTypes | None = None,
        _enforce_credentials: bool | None = None,
    ) -> AsyncBatchClient:
        """A copy with some settings changed. It shares this client's connection pool (which this client closes)
        unless given its own `http_client`. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method.

        Args:
            api_key: A new key, or a callable returning one.
            organization: A new `OpenAI-Organization` header; None falls back to OPENAI_ORG_ID.
            project: A new `OpenAI-Project` header; None falls back to OPENAI_PROJECT_ID.
            base_url: A new base URL.
            timeout: A new timeout for each request.
            max_retries: A new retry count.
            default_headers: Headers merged over this client's default headers.
            set_default_headers: Headers that replace this client's default headers.
            default_query: Query parameters merged over this client's.
            set_default_query: Query parameters that replace this client's.
            http_client: Its own HTTP client for the copy; None shares this client's pool.
            retry_policy: A new retry policy.
            data_residency: A region whose OpenAI base URL to use; not with `base_url`.
            workload_identity: The SDK's setting, refused when given.
            provider: The SDK's setting, refused when given.
            admin_api_key: Taken for the official SDK's sake and dropped.
            webhook_secret: Taken for the official SDK's sake and dropped.
            websocket_base_url: Taken for the official SDK's sake and dropped.
            _enforce_credentials: The SDK's setting; False is refused.

        Returns:
            The new client; this one is unchanged.

        Raises:
            InvalidParameterError: A setting was refused, as by the constructor.
        """
        new_base_url = _sdk_settings(
            base_url,
            workload_identity=workload_identity,
            provider=provider,
            data_residency=data_residency,
            enforce_credentials=_enforce_credentials,
        )
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": new_base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "set_default_headers": set_default_headers,
                "default_query": default_query,
                "set_default_query": set_default_query,
                "retry_policy": retry_policy,
            }
        )
        if http_client is not None:
            return AsyncBatchClient(**settings, http_client=http_client)
        return self._share_pool(AsyncBatchClient(**settings, http_client=self._http))

    copy = with_options

    def is_closed(self) -> bool:
        """Whether the connection pool is closed (a method, as in the official SDK).

        Returns:
            True once the pool this client sends through is closed.
        """
        return self._http.is_closed or bool(self._source.is_closed)

    async def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncBatchClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class BatchClientWithRawResponse:
    """`client.with_raw_response`: the client's resources, each method returning a `RawResponse`."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client
        self.batches: BatchesWithRawResponse = client.batches.with_raw_response

    @functools.cached_property
    def files(self) -> FilesWithRawResponse:
        return self._client.files.with_raw_response


class BatchClientWithStreamingResponse:
    """`client.with_streaming_response`: the client's resources, each method returning a response context manager."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client
        self.batches: BatchesWithStreamingResponse = client.batches.with_streaming_response

    @functools.cached_property
    def files(self) -> FilesWithStreamingResponse:
        return self._client.files.with_streaming_response


class AsyncBatchClientWithRawResponse:
    """`client.with_raw_response` of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client
        self.batches: AsyncBatchesWithRawResponse = client.batches.with_raw_response

    @functools.cached_property
    def files(self) -> AsyncFilesWithRawResponse:
        return self._client.files.with_raw_response


class AsyncBatchClientWithStreamingResponse:
    """`client.with_streaming_response` of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client
        self.batches: AsyncBatchesWithStreamingResponse = client.batches.with_streaming_response

    @functools.cached_property
    def files(self) -> AsyncFilesWithStreamingResponse:
        return self._client.files.with_streaming_response
