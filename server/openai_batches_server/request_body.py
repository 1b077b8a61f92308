"""Request bodies as readers, never as bytes in memory: a 512 MB upload passes through in fixed-size pieces.

`http.server` leaves the body on the socket; this module bounds it by Content-Length or decodes
`Transfer-Encoding: chunked` (which httpx uses for generator bodies), and can drain what a handler did not read so
a keep-alive connection stays usable after an early error.
"""

from __future__ import annotations

import email.message
from io import BufferedIOBase
from typing import Protocol

from .errors import APIError, invalid_request

_MAX_CHUNK_LINE = 4096


class BodyReader(Protocol):
    def read(self, size: int) -> bytes:
        """Up to `size` bytes; b"" once the body has ended."""
        ...

    @property
    def finished(self) -> bool: ...


class ClientDisconnected(Exception):
    """The client closed the connection before sending the whole body."""


class EmptyBody:
    finished = True

    def read(self, size: int) -> bytes:
        return b""


class LengthBody:
    def __init__(self, stream: BufferedIOBase, length: int) -> None:
        self._stream = stream
        self._remaining = length

    @property
    def finished(self) -> bool:
        return self._remaining == 0

    def read(self, size: int) -> bytes:
        if self._remaining == 0:
            return b""
        data = self._stream.read(min(size, self._remaining))
        if not data:
            raise ClientDisconnected(f"body ended {self._remaining} bytes early")
        self._remaining -= len(data)
        return data


class ChunkedBody:
    def __init__(self, stream: BufferedIOBase) -> None:
        self._stream = stream
        self._chunk_left = 0
        self._done = False

    @property
    def finished(self) -> bool:
        return self._done

    def read(self, size: int) -> bytes:
        if self._done:
            return b""
        if self._chunk_left == 0:
            self._chunk_left = self._next_chunk_size()
            if self._chunk_left == 0:
                self._skip_trailers()
                self._done = True
                return b""
        data = self._stream.read(min(size, self._chunk_left))
        if not data:
            raise ClientDisconnected("chunked body ended early")
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and self._line() != b"":
            raise invalid_request("Malformed chunked request body.")
        return data

    def _next_chunk_size(self) -> int:
        line = self._line().split(b";", 1)[0].strip()
        try:
            return int(line, 16)
        except ValueError:
            raise invalid_request("Malformed chunked request body.") from None

    def _skip_trailers(self) -> None:
        while self._line():
            pass

    def _line(self) -> bytes:
        line = self._stream.readline(_MAX_CHUNK_LINE + 1)
        if not line.endswith(b"\n"):
            raise ClientDisconnected("chunked body ended early") if not line else invalid_request("Malformed chunk.")
        return line.rstrip(b"\r\n")


def open_body(headers: email.message.Message, stream: BufferedIOBase) -> BodyReader:
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return ChunkedBody(stream)
    raw_length = headers.get("Content-Length")
    if raw_length is None:
        return EmptyBody()
    try:
        length = int(raw_length)
    except ValueError:
        length = -1
    if length < 0:
        raise APIError(400, f"Invalid Content-Length header: {raw_length!r}.", close_connection=True)
    return LengthBody(stream, length) if length else EmptyBody()


def read_all(body: BodyReader, limit: int) -> bytes:
    """A small body (JSON), refused past `limit` so a client cannot make the server buffer an upload by mistake."""
    parts: list[bytes] = []
    size = 0
    while chunk := body.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise APIError(413, f"Request body too large (limit {limit} bytes).", close_connection=True)
        parts.append(chunk)
    return b"".join(parts)


def drain(body: BodyReader, limit: int) -> bool:
    """Read and drop what is left of the body; False when more than `limit` remains (then close the connection)."""
    dropped = 0
    try:
        while not body.finished:
            chunk = body.read(64 * 1024)
            if not chunk:
                return True
            dropped += len(chunk)
            if dropped > limit:
                return False
    except (ClientDisconnected, APIError, OSError):
        return False
    return True
