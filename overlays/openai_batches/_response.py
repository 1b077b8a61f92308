"""`with_raw_response` and `with_streaming_response`: the HTTP response behind any call, in the official SDK's shape.

`client.batches.with_raw_response.retrieve(id)` sends the same request as `client.batches.retrieve(id)` (same
retries, errors and redaction) and returns a `RawResponse`: status, headers, the request sent, the body already read,
and `parse()` for what the plain method returns. `with_streaming_response` returns a context manager instead; the
body is read only when asked (`parse()`, `read()`, `iter_bytes()`, `stream_to_file()`) and the connection is
released when the block ends.

The plain methods pay nothing for this: a wrapper is a second resource object over a *mode*, a stand-in for the
client whose request methods hand back the response object instead of the parsed model. The resource code itself is
shared, so the request is described and checked exactly as on the plain path.
"""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar, cast

import httpx

from ._content import AsyncFileContent, FileContent
from ._http import CallContext
from ._parsing import Parse

if TYPE_CHECKING:
    from ._client import AsyncBatchClient, BatchClient

__all__ = [
    "APIResponse",
    "AsyncAPIResponse",
    "AsyncResponseContextManager",
    "RawResponse",
    "ResponseContextManager",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_UNPARSED: Any = object()


class _ResponseBase(Generic[R]):
    def __init__(self, response: httpx.Response, context: CallContext, parse: Parse[R]) -> None:
        self.http_response = response
        self._context = context
        self._parse = parse
        self._parsed: R = _UNPARSED

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def http_request(self) -> httpx.Request:
        return self.http_response.request

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_request.method

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from sending the request to the end of the body (or to now, while it is being read)."""
        return self.http_response.elapsed

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    @property
    def request_id(self) -> str | None:
        value: str | None = self.http_response.headers.get("x-request-id")
        return value

    @property
    def retries_taken(self) -> int:
        """How many times the request was retried before this response (0 when the first attempt answered)."""
        return max(self._context.attempts - 1, 0)

    def _parse_read(self) -> R:
        if self._parsed is _UNPARSED:
            self._parsed = self._parse(self._context, self.http_response)
        return self._parsed

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.method} {self.url}>"


class RawResponse(_ResponseBase[R]):
    """What a `with_raw_response` method returns: the response with its body read (the SDK's `LegacyAPIResponse`).

    `parse()` gives what the plain method returns (the same object on every call), `content` and `text` the body.
    For the async client too, everything here is synchronous: the body has already arrived.
    """

    def parse(self) -> R:
        """What the plain method returns, parsed from the body once (the same object on every call).

        Returns:
            The parsed result.

        Raises:
            APIResponseValidationError: The body is not the object the API promises.
        """
        return self._parse_read()

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def read(self) -> bytes:
        """The body (already read).

        Returns:
            The body's bytes.
        """
        return self.http_response.content

    def json(self) -> Any:
        """The body parsed as JSON.

        Returns:
            The parsed document.

        Raises:
            ValueError: The body is not JSON (`json.JSONDecodeError`).
        """
        return self.http_response.json()


class APIResponse(_ResponseBase[R]):
    """What a `with_streaming_response` method yields: the response before its body is read.

    The body is read on demand, once: `parse()` (what the plain method returns), `read()`, `text()`, `json()`, or
    streamed with `iter_bytes()`, `iter_text()`, `iter_lines()`, `stream_to_file(path)`. Leaving the `with` block
    closes the response, read or not.
    """

    def __init__(self, response: httpx.Response, context: CallContext, parse: Parse[R]) -> None:
        super().__init__(response, context, parse)
        self._body = FileContent(response, context.redact)

    def parse(self) -> R:
        """Read the body and parse it into what the plain method returns (once; later calls give the same object).

        Returns:
            The parsed result.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            APIResponseValidationError: The body is not the object the API promises.
        """
        self.read()
        return self._parse_read()

    def read(self) -> bytes:
        """Read the whole body.

        Returns:
            The body's bytes.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.read()

    def text(self) -> str:
        """Read the whole body as text.

        Returns:
            The body decoded with the response's encoding.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.text

    def json(self) -> Any:
        """Read the whole body and parse it as JSON.

        Returns:
            The parsed document.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            ValueError: The body is not JSON (`json.JSONDecodeError`).
        """
        self.read()
        return self.http_response.json()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """Stream the body in chunks (decoded if the server compressed it).

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An Iterator of the body's byte chunks.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """Stream the body in chunks of text.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An Iterator of the body's text chunks.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        """Stream the body line by line, without line endings (split at line feeds only).

        Returns:
            An Iterator of the lines.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OpenAIBatchesError: A line is not valid UTF-8.
        """
        return self._body.iter_lines()

    def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Stream the body into `file`, which is replaced only once the whole body has arrived.

        Args:
            file: The file to write.
            chunk_size: Bytes per chunk; as they arrive when None.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        self._body.stream_to_file(file, chunk_size=chunk_size)

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Stream the body into `file`, which is replaced only once the whole body has arrived.

        Args:
            file: The file to write.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        self._body.stream_to_file(file)

    def close(self) -> None:
        """Close the response, read or not; leaving the `with` block does it too."""
        self._body.close()


class AsyncAPIResponse(_ResponseBase[R]):
    """The async twin of `APIResponse`: `await response.parse()`, `await response.read()`, `async for` ..."""

    def __init__(self, response: httpx.Response, context: CallContext, parse: Parse[R]) -> None:
        super().__init__(response, context, parse)
        self._body = AsyncFileContent(response, context.redact)

    async def parse(self) -> R:
        """Read the body and parse it into what the plain method returns (once; later calls give the same object).

        Returns:
            The parsed result.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            APIResponseValidationError: The body is not the object the API promises.
        """
        await self.read()
        return self._parse_read()

    async def read(self) -> bytes:
        """Read the whole body.

        Returns:
            The body's bytes.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return await self._body.aread()

    async def text(self) -> str:
        """Read the whole body as text.

        Returns:
            The body decoded with the response's encoding.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        await self._body.aread()
        return self._body.text

    async def json(self) -> Any:
        """Read the whole body and parse it as JSON.

        Returns:
            The parsed document.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            ValueError: The body is not JSON (`json.JSONDecodeError`).
        """
        await self.read()
        return self.http_response.json()

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Stream the body in chunks (decoded if the server compressed it).

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An async iterator of the body's byte chunks.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.aiter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """Stream the body in chunks of text.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An async iterator of the body's text chunks.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._body.aiter_text(chunk_size)

    def iter_lines(self) -> AsyncIterator[str]:
        """Stream the body line by line, without line endings (split at line feeds only).

        Returns:
            An async iterator of the lines.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OpenAIBatchesError: A line is not valid UTF-8.
        """
        return self._body.aiter_lines()

    async def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Stream the body into `file`, which is replaced only once the whole body has arrived.

        Args:
            file: The file to write.
            chunk_size: Bytes per chunk; as they arrive when None.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        await self._body.astream_to_file(file, chunk_size=chunk_size)

    async def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Stream the body into `file`, which is replaced only once the whole body has arrived.

        Args:
            file: The file to write.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        await self._body.astream_to_file(file)

    async def close(self) -> None:
        """Close the response, read or not; leaving the `with` block does it too."""
        await self._body.aclose()


class _Closeable(Protocol):
    def close(self) -> object: ...


class _AsyncCloseable(Protocol):
    def close(self) -> Awaitable[object]: ...


C = TypeVar("C", bound=_Closeable)
AC = TypeVar("AC", bound=_AsyncCloseable)


class ResponseContextManager(Generic[C]):
    """Sends the request when the `with` block starts, and closes the response when it ends."""

    def __init__(self, request: Callable[[], C]) -> None:
        self._request = request
        self._response: C | None = None

    def __enter__(self) -> C:
        self._response = self._request()
        return self._response

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            self._response.close()


class AsyncResponseContextManager(Generic[AC]):
    """Sends the request when the `async with` block starts, and closes the response when it ends."""

    def __init__(self, request: Awaitable[AC]) -> None:
        self._request = request
        self._response: AC | None = None

    async def __aenter__(self) -> AC:
        self._response = await self._request
        return self._response

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            await self._response.close()


# ---------------------------------------------------------------------------------------------------- modes
# A mode stands in for the client inside a second resource object: requests are checked, described and sent by the
# same resource code, and only the last step differs. Everything else (settings, `_call`) is the client's own.


class _Mode:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._dispatcher = client._dispatcher
        # Later pages of a listing are fetched by the page itself, as plain calls (the SDK does the same).
        self._plain = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class SyncRawMode(_Mode):
    def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> RawResponse[T]:
        context.stream = False  # a raw response carries its body, as the SDK's does
        return RawResponse(self._dispatcher.request(context, **kwargs), context, parse)


class SyncStreamMode(_Mode):
    def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> APIResponse[T]:
        context.stream = True
        return APIResponse(self._dispatcher.request(context, **kwargs), context, parse)


class AsyncRawMode(_Mode):
    async def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> RawResponse[T]:
        context.stream = False
        return RawResponse(await self._dispatcher.request(context, **kwargs), context, parse)


class AsyncStreamMode(_Mode):
    async def _request_as(self, context: CallContext, kwargs: dict[str, Any], parse: Parse[T]) -> AsyncAPIResponse[T]:
        context.stream = True
        return AsyncAPIResponse(await self._dispatcher.request(context, **kwargs), context, parse)


def sync_mode(client: BatchClient, mode: type[SyncRawMode | SyncStreamMode]) -> BatchClient:
    """A stand-in for `client` whose requests return responses; typed as the client for the resource code."""
    return cast("BatchClient", mode(client))


def async_mode(client: AsyncBatchClient, mode: type[AsyncRawMode | AsyncStreamMode]) -> AsyncBatchClient:
    return cast("AsyncBatchClient", mode(client))


# ---------------------------------------------------------------------------------------------------- wrappers
# The method of a resource over a mode already returns the response object; these give it the right type and, for
# streaming, defer the request to the start of the `with` block.


def to_raw_response_wrapper(method: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    return cast("Callable[P, RawResponse[R]]", method)


def async_to_raw_response_wrapper(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[RawResponse[R]]]:
    return cast("Callable[P, Awaitable[RawResponse[R]]]", method)


def to_streamed_response_wrapper(method: Callable[P, R]) -> Callable[P, ResponseContextManager[APIResponse[R]]]:
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseContextManager[APIResponse[R]]:
        return ResponseContextManager(cast("Callable[[], APIResponse[R]]", functools.partial(method, *args, **kwargs)))

    return wrapped


def async_to_streamed_response_wrapper(
    method: Callable[P, Awaitable[R]],
) -> Callable[P, AsyncResponseContextManager[AsyncAPIResponse[R]]]:
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncResponseContextManager[AsyncAPIResponse[R]]:
        return AsyncResponseContextManager(cast("Awaitable[AsyncAPIResponse[R]]", method(*args, **kwargs)))

    return wrapped
