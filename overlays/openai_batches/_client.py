"""`BatchClient` and `AsyncBatchClient`: settings, the owned HTTP client, and the resources hung on them."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._config import (
    DEFAULT_MAX_RETRIES,
    NOT_GIVEN,
    ClientOptions,
    NotGiven,
    TimeoutTypes,
    check_headers,
    check_max_retries,
    coerce_timeout,
    resolve_options,
)
from ._exceptions import InvalidParameterError
from ._http import AsyncDispatcher, CallContext, Dispatcher
from ._parsing import parse_model
from ._retry import RetryPolicy
from .resources.batches import AsyncBatches, Batches

if TYPE_CHECKING:
    from .jobs.api import AsyncJobs, Jobs
    from .resources.files import AsyncFiles, Files

__all__ = ["AsyncBatchClient", "BatchClient"]

T = TypeVar("T")


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

    def _call(
        self,
        extra_headers: Mapping[str, str] | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | NotGiven,
    ) -> CallContext:
        return CallContext(
            timeout=None if timeout is NOT_GIVEN else coerce_timeout(timeout),
            max_retries=None if max_retries is NOT_GIVEN else check_max_retries(max_retries),
            headers=check_headers(extra_headers, "extra_headers"),
        )

    def _changed(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "api_key": self._options.api_key,
            "organization": self._options.organization,
            "project": self._options.project,
            "base_url": self._options.base_url,
            "timeout": self._options.timeout,
            "max_retries": self._options.max_retries,
            "default_headers": dict(self._options.default_headers),
            "retry_policy": self._options.retry,
        }
        for name, value in overrides.items():
            if value is not NOT_GIVEN:
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
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=self._options.timeout)
        self._dispatcher = Dispatcher(self._options, self._http)
        self.batches = Batches(self)

    @functools.cached_property
    def files(self) -> Files:
        """File operations: upload, list, retrieve, delete, download."""
        # Imported on first use, like the batch workflow: a client that only polls never loads it.
        from .resources.files import Files

        return Files(self)

    @functools.cached_property
    def jobs(self) -> Jobs:
        """Durable jobs bigger than one batch: create, run (resumable), get, list, cancel, delete."""
        # Imported on first use: the jobs bring sqlite3, which a client that only submits batches never needs.
        from .jobs.api import Jobs

        return Jobs(self)

    def _request(self, context: CallContext, kwargs: dict[str, Any], model: type[T]) -> T:
        return parse_model(context, self._dispatcher.request(context, **kwargs), model)

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
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> BatchClient:
        """A copy with some settings changed. It shares this client's connection pool, which this client closes."""
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "retry_policy": retry_policy,
            }
        )
        return BatchClient(**settings, http_client=self._http)

    def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller (then closing it is the caller's job)."""
        if self._owns_http:
            self._http.close()

    @property
    def is_closed(self) -> bool:
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
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient(timeout=self._options.timeout)
        self._dispatcher = AsyncDispatcher(self._options, self._http)
        self.batches = AsyncBatches(self)

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

    async def _request(self, context: CallContext, kwargs: dict[str, Any], model: type[T]) -> T:
        return parse_model(context, await self._dispatcher.request(context, **kwargs), model)

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
        retry_policy: RetryPolicy | NotGiven = NOT_GIVEN,
    ) -> AsyncBatchClient:
        """A copy with some settings changed. It shares this client's connection pool, which this client closes."""
        settings = self._changed(
            {
                "api_key": api_key,
                "organization": organization,
                "project": project,
                "base_url": base_url,
                "timeout": timeout,
                "max_retries": max_retries,
                "default_headers": default_headers,
                "retry_policy": retry_policy,
            }
        )
        return AsyncBatchClient(**settings, http_client=self._http)

    async def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> AsyncBatchClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
