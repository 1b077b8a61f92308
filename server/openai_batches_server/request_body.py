"""A request's body as the ASGI server hands it over: chunk by chunk, never whole in memory unless asked, bounded.

uvicorn frames the body (Content-Length or chunked) and pauses reading the socket while the app has not taken the
last chunk, so a client can push no faster than an endpoint consumes. What is left to this module: a size limit for
bodies read whole, and a limit on how long a body may stall, so a client that stops sending mid-body does not hold
the request open forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import anyio
from starlette.types import Receive

from .errors import APIError


class ClientDisconnected(Exception):
    """The client closed the connection before sending the whole body; there is no one left to answer."""


class RequestBody:
    def __init__(self, headers: Mapping[str, str], receive: Receive, idle_timeout: float) -> None:
        self._receive = receive
        self._idle_timeout = idle_timeout
        length = headers.get("content-length")
        # A body is expected when the request frames one; uvicorn has already refused malformed framing.
        self.expected = "transfer-encoding" in headers or (length is not None and length != "0")
        self.finished = not self.expected

    @property
    def unread(self) -> bool:
        """True while part of a body is still on the connection: then the connection cannot serve another request."""
        return not self.finished

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.finished:
            with anyio.move_on_after(self._idle_timeout) as scope:
                message = await self._receive()
            if scope.cancelled_caught:
                raise APIError(
                    408,
                    f"The request body stopped arriving (nothing for {self._idle_timeout:g} s).",
                    close_connection=True,
                )
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            self.finished = not message.get("more_body", False)
            chunk = message.get("body", b"")
            if chunk:
                yield chunk

    async def read(self, limit: int) -> bytes:
        """The whole body (a JSON request), refused past `limit` so no client can make the server buffer more."""
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            parts.append(chunk)
        return b"".join(parts)


def too_large(limit: int) -> APIError:
    return APIError(413, f"Request body too large (limit {limit} bytes).", close_connection=True)
