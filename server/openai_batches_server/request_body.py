"""A request's body as the ASGI server hands it over: chunk by chunk, never whole in memory unless asked, bounded.

uvicorn frames the body (Content-Length or chunked) and pauses reading the socket while the app has not taken the
last chunk, so a client can push no faster than an endpoint consumes. What is left to this module: a size limit for
bodies read whole, and three limits on time, each answered 408 (closing the connection) when missed:

- idle: no byte of the body for `idle_timeout` seconds;
- whole: the body not complete `body_timeout` seconds after its head, however steadily it trickles (the idle limit
  restarts on every chunk, so a byte a second would pass it forever);
- rate: fewer than `min_rate` bytes a second over the last `rate_window` seconds, once the body has been arriving
  for that long. Only time spent waiting for the client counts: while the endpoint is busy with a chunk, uvicorn
  stops reading, and the client cannot be blamed for bytes the server did not take.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

# Imported by name, not as `anyio.move_on_after`: anyio loads it lazily, and a first upload arriving when the process
# has no descriptor left would fail to import it.
from anyio import move_on_after
from starlette.types import Receive

from .errors import APIError


class ClientDisconnected(Exception):
    """The client closed the connection before sending the whole body; there is no one left to answer."""


@dataclass(frozen=True)
class BodyLimits:
    idle_timeout: float
    body_timeout: float = math.inf
    min_rate: float = 0.0
    rate_window: float = 10.0


class _Pace:
    """Bytes received against the time waited for them, over a sliding window.

    Marks are (opened, last, total bytes by `last`), a new one at most every sixteenth of the window, so a body of
    any length keeps a few dozen; bytes coalesced into a mark count as arrived with its last chunk, which errs
    toward the client by at most that sixteenth.
    """

    def __init__(self, min_rate: float, window: float) -> None:
        self._need = min_rate * window
        self._window = window
        self._step = window / 16
        self._total = 0
        self._marks: deque[tuple[float, float, int]] = deque([(0.0, 0.0, 0)])

    def received(self, waited: float, size: int) -> None:
        self._total += size
        marks = self._marks
        while len(marks) > 1 and marks[1][1] <= waited - self._window:
            marks.popleft()
        if len(marks) > 1 and waited - marks[-1][0] < self._step:
            marks[-1] = (marks[-1][0], waited, self._total)
        else:
            marks.append((waited, waited, self._total))

    def deadline(self) -> float:
        """The waited time at which, if nothing more arrives, the last window holds too few bytes."""
        if not self._need:
            return math.inf
        # Too slow at t once the bytes received by t - window are more than total - need.
        floor = self._total - self._need
        for _, at, count in self._marks:
            if count > floor:
                return max(self._window, at + self._window)
        return math.inf  # not reached: the last mark holds the total, which is above the floor


class RequestBody:
    def __init__(self, headers: Mapping[str, str], receive: Receive, limits: BodyLimits) -> None:
        self._receive = receive
        self._limits = limits
        self._started = time.monotonic()
        length = headers.get("content-length")
        # A body is expected when the request frames one; uvicorn has already refused malformed framing.
        self.expected = "transfer-encoding" in headers or (length is not None and length != "0")
        self.finished = not self.expected

    @property
    def unread(self) -> bool:
        """True while part of a body is still on the connection: then the connection cannot serve another request."""
        return not self.finished

    async def chunks(self) -> AsyncIterator[bytes]:
        limits = self._limits
        pace = _Pace(limits.min_rate, limits.rate_window)
        whole_deadline = self._started + limits.body_timeout
        waited = 0.0
        while not self.finished:
            now = time.monotonic()
            budgets = {
                "idle": limits.idle_timeout,
                "whole": whole_deadline - now,
                "rate": pace.deadline() - waited,
            }
            limit = min(budgets, key=budgets.__getitem__)
            if budgets[limit] <= 0:
                raise self._timeout(limit)
            with move_on_after(budgets[limit]) as scope:
                message = await self._receive()
            waited += time.monotonic() - now
            if scope.cancelled_caught:
                raise self._timeout(limit)
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            self.finished = not message.get("more_body", False)
            chunk = message.get("body", b"")
            if chunk:
                pace.received(waited, len(chunk))
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

    def _timeout(self, limit: str) -> APIError:
        limits = self._limits
        if limit == "whole":
            message = (
                f"The request body did not arrive in time (the whole body must arrive within "
                f"{limits.body_timeout:g} s of the request's head)."
            )
        elif limit == "rate":
            message = (
                f"The request body arrived too slowly (under {limits.min_rate:g} bytes/s over the last "
                f"{limits.rate_window:g} s)."
            )
        else:
            message = f"The request body stopped arriving (nothing for {limits.idle_timeout:g} s)."
        return APIError(408, message, close_connection=True)


def too_large(limit: int) -> APIError:
    return APIError(413, f"Request body too large (limit {limit} bytes).", close_connection=True)
