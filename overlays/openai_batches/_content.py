"""Streamed file downloads: a batch's output file can be hundreds of MB, so it is never held in memory whole.

The body is read from the open response chunk by chunk; a connection that breaks mid-body becomes an
`APIConnectionError`. Reading the whole body (`iter_*` to the end, `read`, `content`, `write_to_file`) closes the
response; otherwise close it yourself or use the object as a context manager. The names follow the official SDK's
`HttpxBinaryResponseContent`. On the async client, `async with client.files.content(id)` streams, while
`await client.files.content(id)` reads the body into memory first, as the SDK does.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

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

    @property
    def encoding(self) -> str | None:
        """The encoding `text` decodes with: the charset the server named, else UTF-8. Needs no body."""
        return self.response.encoding

    @property
    def charset_encoding(self) -> str | None:
        """The charset named in the Content-Type, or None."""
        return self.response.charset_encoding

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={str(self.response.request.url)!r}, content_length={self.content_length})"


def _temporary_beside(path: Path) -> Path:
    # Written beside the target and renamed at the end, so a broken download never leaves a truncated file there.
    # Opened with open(), not mkstemp, so the file gets the usual permissions from the umask rather than 0600.
    return path.parent / f".{path.name}.{uuid.uuid4().hex}.part"


def decode_line(line: bytes, number: int) -> str:
    """A line of a downloaded file as text; the library's error, naming the line, for one that is not UTF-8."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OpenAIBatchesError(f"Line {number} of the file is not valid UTF-8: {exc}") from None


class _LineSplitter:
    """Splits a byte stream at b"\n" only.

    httpx's iter_lines uses str.splitlines, which also breaks at U+2028, U+2029 and U+0085; JSON allows those raw
    inside strings, so one output record would come out as several broken lines. `split` and `rest` give the lines
    as bytes (the results parser decodes them with the JSON, in one pass); `feed` and `finish` as text.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._number = 0

    def split(self, chunk: bytes) -> list[bytes]:
        *complete, self._pending = (self._pending + chunk).split(b"\n")
        return [line.removesuffix(b"\r") for line in complete]

    def rest(self) -> list[bytes]:
        rest, self._pending = self._pending, b""
        return [rest.removesuffix(b"\r")] if rest else []

    def feed(self, chunk: bytes) -> list[str]:
        return [self._decode(line) for line in self.split(chunk)]

    def finish(self) -> list[str]:
        return [self._decode(line) for line in self.rest()]

    def _decode(self, line: bytes) -> str:
        self._number += 1
        return decode_line(line, self._number)


class FileContent(_ContentBase):
    """The body of `files.content(...)`, read lazily from the network."""

    def _guard(self, produce: Callable[[], _T]) -> _T:
        try:
            return produce()
        except _READ_ERRORS as exc:
            self.close()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    def _pieces(self, iterator: Iterator[_T]) -> Iterator[_T]:
        while True:
            piece = self._guard(lambda: next(iterator, None))
            if piece is None:
                return
            yield piece

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body in chunks (decoded if the server compressed it).

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's bytes, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._pieces(self.response.iter_bytes(chunk_size))

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body in chunks of text, decoded with `encoding`.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's text, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._pieces(self.response.iter_text(chunk_size))

    def iter_raw(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body as it came over the wire: still compressed if the server compressed it.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's bytes as sent, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._pieces(self.response.iter_raw(chunk_size))

    def iter_lines(self) -> Iterator[str]:
        """The body line by line without line endings: one JSON document per line for batch output files.

        Yields:
            Each line, split at line feeds only.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OpenAIBatchesError: A line is not valid UTF-8 (the error names it).
        """
        splitter = _LineSplitter()
        for chunk in self.iter_bytes():
            yield from splitter.feed(chunk)
        yield from splitter.finish()

    def _raw_lines(self) -> Iterator[bytes]:
        """`iter_lines()` as bytes, undecoded: what `batches.results` parses."""
        splitter = _LineSplitter()
        for chunk in self.iter_bytes():
            yield from splitter.split(chunk)
        yield from splitter.rest()

    def read(self) -> bytes:
        """The whole body. Prefer `iter_lines` or `write_to_file` for large files.

        Returns:
            The body's bytes.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        return self._guard(self.response.read)

    @property
    def content(self) -> bytes:
        """The whole body, read on first use."""
        return self.read()

    @property
    def text(self) -> str:
        self.read()
        return self.response.text

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as one JSON document (a batch output file is JSON lines: use `iter_lines`).

        Args:
            **kwargs: Passed to `json.loads`.

        Returns:
            The parsed document.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            ValueError: The body is not one JSON document (`json.JSONDecodeError`).
        """
        return json.loads(self.read(), **kwargs)

    def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into `path` (replaced only once complete); returns the number of bytes written.

        Args:
            path: The file to write; replaced only once the whole body has arrived.

        Returns:
            The number of bytes written.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        return self.stream_to_file(path)

    def stream_to_file(self, path: str | os.PathLike[str], *, chunk_size: int | None = None) -> int:
        """`write_to_file` with a chunk size of your choice; returns the number of bytes written.

        Args:
            path: The file to write; replaced only once the whole body has arrived.
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            The number of bytes written.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
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
        """Close the response, read or not; closing twice is harmless."""
        self.response.close()

    def __enter__(self) -> FileContent:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _ReadyBytes(bytes):
    """A body already in memory, usable both ways: as bytes (the official SDK's `content.read()`) or awaited."""

    def __await__(self) -> Generator[Any, None, bytes]:
        yield from ()
        return bytes(self)


class _ReadyCount(int):
    """A count of bytes already written, usable both ways: as an int (the SDK's sync call) or awaited."""

    def __await__(self) -> Generator[Any, None, int]:
        yield from ()
        return int(self)


class _Pieces(Generic[_T]):
    """Pieces of a body: `async for` always; plain `for` too once the body is in memory, as the SDK allows."""

    def __init__(self, stream: Callable[[], AsyncIterator[_T]], buffered: Callable[[], Iterator[_T]] | None) -> None:
        self._stream = stream
        self._buffered = buffered

    def __aiter__(self) -> AsyncIterator[_T]:
        return self._stream()

    def __iter__(self) -> Iterator[_T]:
        if self._buffered is None:
            raise TypeError("this body is streamed from the network: iterate it with `async for`")
        return self._buffered()


class AsyncFileContent(_ContentBase):
    """The body of async `files.content(...)`.

    Streamed from the network under `async with client.files.content(id) as content:`; read into memory first by
    `content = await client.files.content(id)`, as the official SDK does, so that `.content`, `.text`, `read()`,
    `write_to_file()` and plain `for` loops work without `await` too (awaiting them works as well).
    """

    def _buffered(self) -> bytes | None:
        try:
            return self.response.content
        except httpx.ResponseNotRead:
            return None

    def _not_read(self) -> OpenAIBatchesError:
        return OpenAIBatchesError(
            "The body is being streamed and has not been read: `await content.read()` first, or stream it with "
            "`async for` over `iter_bytes()` / `iter_lines()`, or `await content.write_to_file(path)`."
        )

    async def _next(self, iterator: AsyncIterator[_T]) -> _T | None:
        try:
            return await anext(iterator, None)
        except _READ_ERRORS as exc:
            await self.aclose()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body in chunks (decoded if the server compressed it), streamed.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's bytes, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        iterator = self.response.aiter_bytes(chunk_size)
        while (chunk := await self._next(iterator)) is not None:
            yield chunk

    async def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body in chunks of text, decoded with `encoding`, streamed.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's text, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        iterator = self.response.aiter_text(chunk_size)
        while (chunk := await self._next(iterator)) is not None:
            yield chunk

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body as it came over the wire: still compressed if the server compressed it.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Yields:
            The body's bytes as sent, chunk by chunk.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        if self._raw_in_memory():
            for piece in self.response.iter_bytes(chunk_size):
                yield piece
            return
        iterator = self.response.aiter_raw(chunk_size)
        while (chunk := await self._next(iterator)) is not None:
            yield chunk

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body line by line without line endings: one JSON document per line for batch output files.

        Yields:
            Each line, split at line feeds only.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OpenAIBatchesError: A line is not valid UTF-8 (the error names it).
        """
        splitter = _LineSplitter()
        async for chunk in self.aiter_bytes():
            for line in splitter.feed(chunk):
                yield line
        for line in splitter.finish():
            yield line

    async def _araw_lines(self) -> AsyncIterator[bytes]:
        """`aiter_lines()` as bytes, undecoded: what `batches.results` parses."""
        splitter = _LineSplitter()
        async for chunk in self.aiter_bytes():
            for line in splitter.split(chunk):
                yield line
        for line in splitter.rest():
            yield line

    def _lines_in_memory(self) -> Iterator[str]:
        splitter = _LineSplitter()
        yield from splitter.feed(self.response.content)
        yield from splitter.finish()

    def iter_bytes(self, chunk_size: int | None = None) -> _Pieces[bytes]:
        """The body in chunks: `async for` always, plain `for` once the body is in memory.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An iterable of the body's byte chunks.
        """
        buffered = None if self._buffered() is None else (lambda: self.response.iter_bytes(chunk_size))
        return _Pieces(lambda: self.aiter_bytes(chunk_size), buffered)

    def iter_text(self, chunk_size: int | None = None) -> _Pieces[str]:
        """The body in chunks of text: `async for` always, plain `for` once the body is in memory.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An iterable of the body's text chunks.
        """
        buffered = None if self._buffered() is None else (lambda: self.response.iter_text(chunk_size))
        return _Pieces(lambda: self.aiter_text(chunk_size), buffered)

    def iter_lines(self) -> _Pieces[str]:
        """The body line by line: `async for` always, plain `for` once the body is in memory.

        Returns:
            An iterable of the lines, split at line feeds only, without line endings.
        """
        buffered = None if self._buffered() is None else self._lines_in_memory
        return _Pieces(self.aiter_lines, buffered)

    def _raw_in_memory(self) -> bool:
        # Once read, httpx keeps only the decoded body; an uncompressed one is its own raw bytes.
        return self._buffered() is not None and self.response.headers.get("content-encoding", "identity") == "identity"

    def iter_raw(self, chunk_size: int | None = None) -> _Pieces[bytes]:
        """The body as sent: `async for` always, plain `for` once an uncompressed body is in memory.

        Args:
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            An iterable of the body's byte chunks as sent.
        """
        buffered = (lambda: self.response.iter_bytes(chunk_size)) if self._raw_in_memory() else None
        return _Pieces(lambda: self.aiter_raw(chunk_size), buffered)

    async def aread(self) -> bytes:
        """Read the whole body into memory.

        Returns:
            The body's bytes.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        try:
            return await self.response.aread()
        except _READ_ERRORS as exc:
            await self.aclose()
            error, cause = _stream_error(exc, self.response, self._redact)
            raise error from cause

    def read(self) -> Awaitable[bytes]:
        """The whole body: `await content.read()`; once it is in memory, plain `content.read()` as in the SDK.

        Returns:
            The body's bytes, to await (or as they are, once in memory).

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
        """
        body = self._buffered()
        return self.aread() if body is None else _ReadyBytes(body)

    @property
    def content(self) -> bytes:
        """The body, once in memory (`await client.files.content(id)` or `await content.read()` put it there)."""
        body = self._buffered()
        if body is None:
            raise self._not_read()
        return body

    @property
    def text(self) -> str:
        if self._buffered() is None:
            raise self._not_read()
        return self.response.text

    def json(self, **kwargs: Any) -> Any:
        """The body, once in memory, parsed as one JSON document.

        Args:
            **kwargs: Passed to `json.loads`.

        Returns:
            The parsed document.

        Raises:
            OpenAIBatchesError: The body is being streamed and has not been read.
            ValueError: The body is not one JSON document (`json.JSONDecodeError`).
        """
        return json.loads(self.content, **kwargs)

    def write_to_file(self, path: str | os.PathLike[str]) -> Awaitable[int]:
        """Write the body into `path` (replaced only once complete); the number of bytes written.

        Streamed from the network: `await content.write_to_file(path)`. Already in memory: written at once, and the
        result can be awaited or used as it is.

        Args:
            path: The file to write; replaced only once the whole body has arrived.

        Returns:
            The number of bytes written (to await when streamed).

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        return self.stream_to_file(path)

    def stream_to_file(self, path: str | os.PathLike[str], *, chunk_size: int | None = None) -> Awaitable[int]:
        """`write_to_file` with a chunk size of your choice.

        Args:
            path: The file to write; replaced only once the whole body has arrived.
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            The number of bytes written (to await when streamed).

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        body = self._buffered()
        if body is None:
            return self.astream_to_file(path, chunk_size=chunk_size)
        target = Path(path)
        temporary = _temporary_beside(target)
        try:
            temporary.write_bytes(body)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return _ReadyCount(len(body))

    async def astream_to_file(self, path: str | os.PathLike[str], *, chunk_size: int | None = None) -> int:
        """Stream the body into `path` (replaced only once complete); returns the number of bytes written.

        Args:
            path: The file to write; replaced only once the whole body has arrived.
            chunk_size: Bytes per chunk; as they arrive when None.

        Returns:
            The number of bytes written.

        Raises:
            APIConnectionError: The connection broke while the body was read; `APITimeoutError` when it timed out.
            OSError: The file could not be written.
        """
        target = Path(path)
        temporary = _temporary_beside(target)
        written = 0
        try:
            with temporary.open("xb") as out:
                async for chunk in self.aiter_bytes(chunk_size):
                    out.write(chunk)
                    written += len(chunk)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        finally:
            await self.aclose()
        return written

    async def aclose(self) -> None:
        """Close the response, read or not (`close` is the same method)."""
        await self.response.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncFileContent:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class AsyncContentCall:
    """What async `files.content(...)` returns: `await` it for the content, or use it directly as `async with`.

    The request is sent when awaited or entered; `async with` closes the response at the end of the block.
    """

    def __init__(self, fetch: Callable[[], Awaitable[AsyncFileContent]]) -> None:
        self._fetch = fetch
        self._content: AsyncFileContent | None = None

    def __await__(self) -> Generator[Any, None, AsyncFileContent]:
        return self._read_whole().__await__()

    async def _read_whole(self) -> AsyncFileContent:
        # `await` gives what the official SDK gives: the body in memory. `async with` streams it instead.
        content = await self._fetch()
        # Under with_raw_response / with_streaming_response the call gives their response object, read as they say.
        if isinstance(content, AsyncFileContent):
            await content.aread()
        return content

    async def __aenter__(self) -> AsyncFileContent:
        self._content = await self._fetch()
        return self._content

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._content is not None:
            await self._content.close()
