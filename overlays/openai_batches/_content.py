"""Streamed file downloads: a batch's output file can be hundreds of MB, so it is never held in memory whole.

The body is read from the open response chunk by chunk; a connection that breaks mid-body becomes an
`APIConnectionError`. Reading the whole body (`iter_*` to the end, `read`, `content`, `write_to_file`) closes the
response; otherwise close it yourself or use the object as a context manager. The names follow the official SDK's
`HttpxBinaryResponseContent` (sync) and streamed binary responses (async: `await content.read()`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._exceptions import APIConnectionError, APITimeoutError, OpenAIBatchesError

_T = TypeVar("_T")


Redact = Callable[[str], str]


def _unchanged(text: str) -> str:
    return text


def _stream_error(
    exc: Exception, response: httpx.Response, redact: Redact
) -> tuple[OpenAIBatchesError, Exception | None]:
    """The library's error for a body that could not be read, and the cause to chain to it."""
    request = response.request
    if isinstance(exc, httpx.TimeoutException):
        error: OpenAIBatchesError = APITimeoutError(
            f"Timed out reading the body of {request.method} {request.url}", request=request
        )
    elif isinstance(exc, httpx.HTTPError):
        error = APIConnectionError(
            f"The connection broke while reading the body of {request.method} {request.url}: {redact(str(exc))}",
            request=request,
        )
    else:
        error = OpenAIBatchesError(f"Cannot read the body of {request.method} {request.url}: {redact(str(exc))}")
    # The cause is kept for debugging unless its own text shows the key (a traceback would print it).
    text = f"{exc!s} {exc!r}"
    return error, exc if redact(text) == text else None


# httpx.StreamError covers a body read twice or after close.
_READ_ERRORS = (httpx.HTTPError, httpx.StreamError)


class _ContentBase:
    def __init__(self, response: httpx.Response, redact: Redact = _unchanged) -> None:
        self.response = response
        # Hides the API key in errors raised while the body is read (the client passes its redaction).
        self._redact = redact

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def content_type(self) -> str | None:
        value: str | None = self.response.headers.get("content-type")
        return value

    @property
    def content_length(self) -> int | None:
        """The size the server announced, if it did."""
        value = self.response.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={str(self.response.request.url)!r}, content_length={self.content_length})"


def _temporary_beside(path: Path) -> Path:
    # Written beside the target and renamed at the end, so a broken download never leaves a truncated file there.
    # Opened with open(), not mkstemp, so the file gets the usual permissions from the umask rather than 0600.
    return path.parent / f".{path.name}.{uuid.uuid4().hex}.part"


class _LineSplitter:
    """Splits a byte stream at b"\n" only.

    httpx's iter_lines uses str.splitlines, which also breaks at U+2028, U+2029 and U+0085; JSON allows those raw
    inside strings, so one output record would come out as several broken lines.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._number = 0

    def feed(self, chunk: bytes) -> list[str]:
        *complete, self._pending = (self._pending + chunk).split(b"\n")
        return [self._decode(line) for line in complete]

    def finish(self) -> list[str]:
        rest, self._pending = self._pending, b""
        return [self._decode(rest)] if rest else []

    def _decode(self, line: bytes) -> str:
        self._number += 1
        try:
            return line.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OpenAIBatchesError(f"Line {self._number} of the file is not valid UTF-8: {exc}") from None


class FileContent(_ContentBase):
    """The body of `files.content(...)`, read lazily from the network."""

    def _guard(self, produce: Callable[[], _T]) -> _T:
        try:
            return produce()
        except _READ_ERRORS as exc:
            self.close()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in chunks (decoded if the server compressed it)."""
        iterator = self.response.iter_bytes(chunk_size)
        while True:
            chunk = self._guard(lambda: next(iterator, None))
            if chunk is None:
                return
            yield chunk

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        iterator = self.response.iter_text(chunk_size)
        while True:
            chunk = self._guard(lambda: next(iterator, None))
            if chunk is None:
                return
            yield chunk

    def iter_lines(self) -> Iterator[str]:
        """The body line by line without line endings: one JSON document per line for batch output files."""
        splitter = _LineSplitter()
        for chunk in self.iter_bytes():
            yield from splitter.feed(chunk)
        yield from splitter.finish()

    def read(self) -> bytes:
        """The whole body. Prefer `iter_lines` or `write_to_file` for large files."""
        return self._guard(self.response.read)

    @property
    def content(self) -> bytes:
        """The whole body, read on first use."""
        return self.read()

    @property
    def text(self) -> str:
        self.read()
        return self.response.text

    def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into `path` (replaced only once complete); returns the number of bytes written."""
        return self.stream_to_file(path)

    def stream_to_file(self, path: str | os.PathLike[str], *, chunk_size: int | None = None) -> int:
        """`write_to_file` with a chunk size of your choice; returns the number of bytes written."""
        target = Path(path)
        temporary = _temporary_beside(target)
        written = 0
        try:
            with temporary.open("xb") as out:
                for chunk in self.iter_bytes(chunk_size):
                    out.write(chunk)
                    written += len(chunk)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        finally:
            self.close()
        return written

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> FileContent:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncFileContent(_ContentBase):
    """The body of async `files.content(...)`, read lazily from the network."""

    async def _next(self, iterator: AsyncIterator[_T]) -> _T | None:
        try:
            return await anext(iterator, None)
        except _READ_ERRORS as exc:
            await self.close()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        iterator = self.response.aiter_bytes(chunk_size)
        while (chunk := await self._next(iterator)) is not None:
            yield chunk

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        iterator = self.response.aiter_text(chunk_size)
        while (chunk := await self._next(iterator)) is not None:
            yield chunk

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body line by line without line endings: one JSON document per line for batch output files."""
        splitter = _LineSplitter()
        async for chunk in self.iter_bytes():
            for line in splitter.feed(chunk):
                yield line
        for line in splitter.finish():
            yield line

    async def read(self) -> bytes:
        try:
            return await self.response.aread()
        except _READ_ERRORS as exc:
            await self.close()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    async def text(self) -> str:
        await self.read()
        return self.response.text

    @property
    def content(self) -> bytes:
        """The body, once `await content.read()` has read it (an async body cannot be read from a property)."""
        try:
            return self.response.content
        except httpx.ResponseNotRead:
            raise OpenAIBatchesError(
                "The body has not been read yet: `await content.read()` first, or stream it with `iter_bytes()`, "
                "`iter_lines()` or `await content.write_to_file(path)`."
            ) from None

    async def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into `path` (replaced only once complete); returns the number of bytes written."""
        return await self.stream_to_file(path)

    async def stream_to_file(self, path: str | os.PathLike[str], *, chunk_size: int | None = None) -> int:
        """`write_to_file` with a chunk size of your choice; returns the number of bytes written."""
        target = Path(path)
        temporary = _temporary_beside(target)
        written = 0
        try:
            with temporary.open("xb") as out:
                async for chunk in self.iter_bytes(chunk_size):
                    out.write(chunk)
                    written += len(chunk)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        finally:
            await self.close()
        return written

    async def close(self) -> None:
        await self.response.aclose()

    # The names the official SDK's async download object has for the same operations.
    aread = read
    aclose = close

    async def __aenter__(self) -> AsyncFileContent:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AsyncContentCall:
    """What async `files.content(...)` returns: `await` it for the content, or use it directly as `async with`.

    The request is sent when awaited or entered; `async with` closes the response at the end of the block.
    """

    def __init__(self, fetch: Callable[[], Awaitable[AsyncFileContent]]) -> None:
        self._fetch = fetch
        self._content: AsyncFileContent | None = None

    def __await__(self) -> Generator[Any, None, AsyncFileContent]:
        return self._fetch().__await__()

    async def __aenter__(self) -> AsyncFileContent:
        self._content = await self._fetch()
        return self._content

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._content is not None:
            await self._content.close()
