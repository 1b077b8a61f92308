"""`BatchClient` and `AsyncBatchClient`: settings, the owned HTTP client, and the resources hung on them."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._config import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    QueryValue,
    TimeoutTypes,
    check_body,
    check_headers,
    check_max_retries,
    check_query,
    coerce_timeout,
    resolve_options,
)
from ._exceptions import InvalidParameterError
from ._http import AsyncDispatcher, CallContext, Dispatcher, RequestExtras
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._parsing import Parse
    from .jobs.api import AsyncJobs, Jobs
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

__all__ = ["AsyncBatchClient", "BatchClient"]

T = TypeVar("T")

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


class _ClientBase:
    _options: ClientOptions

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
        """The key this client sends (read-only; never shown in a repr or an error)."""
        return self._options.api_key

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
            "api_key": options.api_key,
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
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise InvalidParameterError("http_client", f"expected an httpx.Client, got {type(http_client).__name__}")
        self._options = resolve_options(
            api_key=api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client_timeout=None if http_client is None else http_client.timeout,
            retry_policy=retry_policy,
            default_query=default_query,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=self._options.timeout)
        self._pool: _SharedPool | None = None
        if http_client is None:
            self._pool = _SharedPool(self._http)
            self._pool.attach(self)
        self._dispatcher = Dispatcher(self._options, self._http)

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
        from .jobs.api import Jobs

        return Jobs(self)

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
        api_key: str | NotGiven = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: str | httpx.URL | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> BatchClient:
        """A copy with some settings changed. It shares this client's connection pool (which this client closes)
        unless given its own `http_client`. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method."""
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": base_url,
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
        twin = BatchClient(**settings, http_client=self._http)
        if self._pool is not None:
            self._pool.attach(twin)  # the pool stays open while the copy is in use
        twin._pool = self._pool
        return twin

    copy = with_options

    def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller (then closing it is the caller's job)."""
        if self._owns_http:
            self._http.close()

    def is_closed(self) -> bool:
        """Whether the connection pool is closed (a method, as in the official SDK)."""
        return self._http.is_closed

    def __enter__(self) -> BatchClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncBatchClient(_ClientBase):
    """Asynchronous client for the OpenAI Batch API; the same settings as `BatchClient`, with `httpx.AsyncClient`."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise InvalidParameterError(
                "http_client", f"expected an httpx.AsyncClient, got {type(http_client).__name__}"
            )
        self._options = resolve_options(
            api_key=api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client_timeout=None if http_client is None else http_client.timeout,
            retry_policy=retry_policy,
            default_query=default_query,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=self._options.timeout)
        self._pool: _SharedPool | None = None
        if http_client is None:
            self._pool = _SharedPool(self._http)
            self._pool.attach(self)
        self._dispatcher = AsyncDispatcher(self._options, self._http)

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
        from .jobs.api import AsyncJobs

        return AsyncJobs(self)

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
        api_key: str | NotGiven = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: str | httpx.URL | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        set_default_query: Mapping[str, QueryValue] | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> AsyncBatchClient:
        """A copy with some settings changed. It shares this client's connection pool (which this client closes)
        unless given its own `http_client`. `default_headers` and `default_query` are merged over this client's;
        `set_default_headers` and `set_default_query` replace them. `copy()` is the same method."""
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": base_url,
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
        twin = AsyncBatchClient(**settings, http_client=self._http)
        if self._pool is not None:
            self._pool.attach(twin)  # the pool stays open while the copy is in use
        twin._pool = self._pool
        return twin

    copy = with_options

    async def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller."""
        if self._owns_http:
            await self._http.aclose()

    def is_closed(self) -> bool:
        """Whether the connection pool is closed (a method, as in the official SDK)."""
        return self._http.is_closed

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
