"""uvicorn serving the ASGI app: on a socket bound up front, in a thread that runs its own event loop.

uvicorn does all of HTTP/1.1 with httptools, the bindings to llhttp (Node.js's parser), in its strict mode: framing,
chunked bodies and keep-alive, and refusing what is malformed or ambiguous with a 400 that closes the connection:
`Content-Length` with `Transfer-Encoding`, conflicting or signed lengths, any transfer coding that does not end in
`chunked`, bad chunk sizes, methods it has never heard of. One event loop holds every connection, so a silent
connection costs a few kilobytes, not a thread.

httptools rather than h11 (uvicorn's pure-Python parser): h11 answered a single client's retrieves more slowly than
the old `http.server` stack did, httptools at least as fast, and far faster with many clients (`make bench`
measures it; the figures are in the performance documentation).

Guards on top of uvicorn, in `GuardedProtocol`:

- a deadline on each request head: uvicorn's keep-alive timeout starts only after a first answer and restarts on
  every byte, so a connection that never sends a request, or sends its head a byte at a time, would be held forever.
  A connection whose request head has not fully arrived `timeout_keep_alive` seconds after it opened or after its
  last answer is closed.
- a bound on each request head: llhttp collects a header's bytes until the header ends, with no limit of its own; a
  head still incomplete after MAX_HEAD_BYTES is refused (uvicorn's own 400) and the connection closed. Only the
  current head's bytes count, so requests pipelined behind one another in one read are each measured on their own:
  each read is fed to the parser in pieces that end where a head can end (CRLF CRLF), so the bytes before a head
  that begins in a piece can only be the end of the previous request's body, which the parser reports. (A read that
  is all body by the request's Content-Length is fed whole.)
- a cap on connections: one over `max_connections` is answered 503 with Retry-After (the API's error shape, see
  `capacity`) as soon as its head arrives, or closed if none comes within OVER_CAPACITY_GRACE, so descriptors run
  out later, if ever. uvicorn's own `limit_concurrency` does not fit: it refuses requests, not connections, counts
  every open connection (refused ones included) and answers in plain text. Connections are accepted ACCEPT_BATCH at
  a time, so a burst waits in the kernel's queue instead of taking every free descriptor before any is answered.
  accept() failing anyway (EMFILE) is logged as a line when it starts and a count after, not a traceback per
  attempt; asyncio tries again a second later.
- bounded reading: each read takes at most READ_SIZE bytes into one buffer the server's connections share (asyncio's
  BufferedProtocol), and reading pauses once a read's worth of body waits for the app, so a connection in the middle
  of a body holds at most two reads of it, where uvicorn alone takes 256 KiB a read and reads on until 64 KiB wait.
  Besides what a burst of uploads holds at once, the smaller allocations are ones the allocator reuses, so memory
  comes back down to near where it was once the burst is over.

`_Server.main_loop` wakes as soon as `stop()` is called instead of on uvicorn's next 0.1 s tick, so tests that start
and stop many servers do not wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from typing import Any

import anyio
import uvicorn
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from . import ids
from .app import ApiApp
from .capacity import OUT_OF_DESCRIPTORS, RETRY_AFTER_SECONDS, RefusalLog, service_unavailable
from .http_types import error_response

logger = logging.getLogger(__name__)

# Pending connections the kernel queues before accept(): a burst of clients never meets a reset.
BACKLOG = 2048
# asyncio accepts up to its `backlog` argument's worth of connections per wakeup of the listening socket, all before
# any of them is looked at, and passes the same number to listen(). Given this much, with the kernel's queue set back
# to BACKLOG after, a burst waits in the kernel instead of taking every free descriptor at once.
ACCEPT_BATCH = 64
# Requests in flight when the server stops get this long to finish before their connections are cut.
SHUTDOWN_GRACE = 5
# A request line and headers beyond this are refused, as the old `http.server` refused a line over 64 KiB.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TOO_LARGE = "Request head too large."
HEAD_END = b"\r\n\r\n"
# Bytes taken from a socket per read: every read costs the event loop the same (a wakeup of the app, the parser's
# callbacks), every waiting read costs memory in each connection in the middle of a body; this size weighs the two.
READ_SIZE = 32 * 1024
# A connection over the cap is given this long to send the head its 503 answers.
OVER_CAPACITY_GRACE = 1.0
# What asyncio's accept loop reports through the loop's exception handler when it cannot accept for want of resources.
ACCEPT_FAILURES = OUT_OF_DESCRIPTORS | {errno.ENOBUFS, errno.ENOMEM}


class _State(ServerState):
    """uvicorn's state shared by a server's connections, with what the guards share."""

    def __init__(self, max_connections: int, refusals: RefusalLog) -> None:
        super().__init__()
        self.max_connections = max_connections
        self.admitted = 0
        self.refusals = refusals
        self.over_capacity = OverCapacity(max_connections)
        # One buffer serves every read: asyncio hands it to a protocol, which copies out what arrived at once.
        self.read_buffer = memoryview(bytearray(READ_SIZE))


class OverCapacity:
    """The ASGI app for a connection over the cap: a 503 that closes it."""

    def __init__(self, limit: int) -> None:
        error = service_unavailable(
            f"The server has as many connections open as it takes ({limit}). Retry after {RETRY_AFTER_SECONDS} s."
        )
        self._response = error_response(error)

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        response = self._response
        headers = [(name.lower().encode(), value.encode()) for name, value in response.headers.items()]
        headers += [
            (b"content-length", str(len(response.body)).encode()),
            (b"x-request-id", ids.request_id().encode()),
            (b"openai-processing-ms", b"0"),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": False})


class GuardedProtocol(HttpToolsProtocol, asyncio.BufferedProtocol):
    """uvicorn's httptools protocol with the guards the module docstring describes."""

    _deadline: asyncio.TimerHandle | None = None
    _in_head = False
    _head_bytes = 0
    _messages = 0
    _body_bytes = 0
    # What remains of a body framed by Content-Length (0 for chunked bodies and between requests).
    _body_left = 0
    _admitted = False
    _refusal: str | None = None

    def __init__(self, config: uvicorn.Config, server_state: ServerState, app_state: dict[str, Any], **kwargs: Any):
        super().__init__(config, server_state, app_state, **kwargs)
        assert isinstance(server_state, _State), "GuardedProtocol runs under HTTPServer, which gives it its state"
        self._state = server_state

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        state = self._state
        if state.admitted < state.max_connections:
            state.admitted += 1
            self._admitted = True
        else:
            self.app = state.over_capacity
            state.refusals.note(
                "connections",
                f"refusing connections beyond {state.max_connections} at once with 503 (--max-connections)",
            )
        self._arm()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._state.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self._state.read_buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self._body_left >= len(data):
            # All of it is body (Content-Length says so): no head can begin in it.
            self._feed(data)
            return
        start, end = 0, len(data)
        while start < end and not self.transport.is_closing():
            stop = data.find(HEAD_END, start)
            stop = end if stop < 0 else stop + len(HEAD_END)
            self._feed(data if stop - start == end else data[start:stop])
            start = stop

    def _feed(self, piece: bytes) -> None:
        messages, body_bytes = self._messages, self._body_bytes
        super().data_received(piece)
        if self.transport.is_closing():
            return
        if self._in_head:
            if self._messages != messages:
                # The head began in this piece, after whatever was left of the previous request's body.
                self._head_bytes = len(piece) - (self._body_bytes - body_bytes)
            else:
                self._head_bytes += len(piece)
            if self._head_bytes > MAX_HEAD_BYTES:
                self.send_400_response(HEAD_TOO_LARGE)
        elif self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a request head arrived: its answer is the app's business now

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._messages += 1

    def on_headers_complete(self) -> None:
        self._in_head = False
        # llhttp has checked the framing: one Content-Length, digits only, or chunked (whose length is unknown).
        lengths = [value for name, value in self.headers if name == b"content-length"]
        self._body_left = int(lengths[0]) if lengths else 0
        if len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_HEAD_BYTES:
            # Raised inside the parser's callback: uvicorn stops parsing and answers with send_400_response.
            self._refusal = HEAD_TOO_LARGE
            raise ValueError(HEAD_TOO_LARGE)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_left:
            self._body_left -= len(body)
        super().on_body(body)
        if len(self.cycle.body) >= READ_SIZE:
            # uvicorn resumes reading when the app asks for the next chunk.
            self.flow.pause_reading()

    def send_400_response(self, msg: str) -> None:
        super().send_400_response(self._refusal or msg)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request may already be running; only an idle connection waits for a head again.
        if self.cycle is None or self.cycle.response_complete:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._admitted:
            self._admitted = False
            self._state.admitted -= 1
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            timeout = self.timeout_keep_alive if self._admitted else min(self.timeout_keep_alive, OVER_CAPACITY_GRACE)
            # uvicorn's own handler for an idle keep-alive connection: a clean close, nothing sent.
            self._deadline = self.loop.call_later(timeout, self.timeout_keep_alive_handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: _State) -> None:
        super().__init__(config)
        self.server_state = state
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(self._loop_error)
        # anyio imports its event-loop backend on first use; done here, the first request cannot be the one that
        # fails to import it because the process has no descriptor left.
        anyio.get_cancelled_exc_class()
        self._wakeup = asyncio.Event()
        await super().startup(sockets)
        for sock in sockets or ():
            sock.listen(BACKLOG)
        self.ready.set()

    async def main_loop(self) -> None:
        # uvicorn's loop (a tick every 0.1 s refreshes the Date header), woken at once by `request_stop`.
        assert self._wakeup is not None
        refusals = self._state.refusals
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            refusals.flush()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), 0.1)

    def request_stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to wake
                self._loop.call_soon_threadsafe(self._wakeup.set)

    @property
    def _state(self) -> _State:
        state = self.server_state
        assert isinstance(state, _State)
        return state

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if "socket" in context and isinstance(exc, OSError) and exc.errno in ACCEPT_FAILURES:
            self._state.refusals.note(
                "accept",
                f"cannot accept connections: {exc.strerror}; asyncio tries again each second "
                "(raise `ulimit -n` or lower --max-connections)",
            )
            return
        loop.default_exception_handler(context)


class HTTPServer:
    """The app served on `host:port` (port 0 picks a free one, known as soon as this object exists)."""

    def __init__(
        self,
        app: ApiApp,
        host: str,
        port: int,
        *,
        idle_timeout: float,
        max_connections: int,
        refusals: RefusalLog | None = None,
    ) -> None:
        self.app = app
        self.refusals = refusals or RefusalLog()
        self.socket = bind(host, port)
        config = uvicorn.Config(
            app,
            http=GuardedProtocol,
            ws="none",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            backlog=ACCEPT_BATCH,
            timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]  # seconds; a float works as well as an int
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
        )
        self._server = _Server(config, _State(max_connections, self.refusals))
        self._thread = threading.Thread(target=self._run, name="openai-batches-http", daemon=True)
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    @property
    def requests_served(self) -> int:
        return self._server.server_state.total_requests

    def start(self) -> None:
        self._thread.start()
        while not self._server.ready.wait(0.01):
            if not self._thread.is_alive():
                self.socket.close()
                raise RuntimeError(f"the HTTP server did not start: {self._failure!r}")

    def stop(self) -> None:
        self._server.request_stop()
        if self._thread.is_alive():
            self._thread.join()
        self.socket.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self.socket]))
        except BaseException as exc:  # reported by start(); a stop after start ends here without one
            self._failure = exc
        finally:
            self.refusals.flush(final=True)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError (a busy port, an address this machine lacks) before any thread starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say IPPROTO_TCP, and with
    # Nagle on, an answer sent as headers then body waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.set_inheritable(False)
    except BaseException:
        sock.close()
        raise
    return sock
