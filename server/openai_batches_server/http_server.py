"""uvicorn serving the ASGI app: on a socket bound up front, in a thread that runs its own event loop.

uvicorn does all of HTTP/1.1 with httptools, the bindings to llhttp (Node.js's parser), in its strict mode: framing,
chunked bodies and keep-alive, and refusing what is malformed or ambiguous with a 400 that closes the connection:
`Content-Length` with `Transfer-Encoding`, conflicting or signed lengths, any transfer coding that does not end in
`chunked`, bad chunk sizes, methods it has never heard of. One event loop holds every connection, so a silent
connection costs a few kilobytes, not a thread.

httptools rather than h11 (uvicorn's pure-Python parser): measured with `make bench`, h11 answered a single client's
retrieves at 0.78x the old `http.server` stack, httptools at 1.00x (and 3.6x at 64 clients).

Two guards sit on top of uvicorn, in `GuardedProtocol`:

- a deadline on each request head: uvicorn's keep-alive timeout starts only after a first answer and restarts on
  every byte, so a connection that never sends a request, or sends its head a byte at a time, would be held forever.
  A connection whose request head has not fully arrived `timeout_keep_alive` seconds after it opened or after its
  last answer is closed.
- a bound on each request head: llhttp collects a header's bytes until the header ends, with no limit of its own; a
  head still incomplete after MAX_HEAD_BYTES is refused (uvicorn's own 400) and the connection closed.

`_Server.main_loop` wakes as soon as `stop()` is called instead of on uvicorn's next 0.1 s tick, so tests that start
and stop many servers do not wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import ApiApp

# Pending connections the kernel queues before accept(): a burst of clients never meets a reset.
BACKLOG = 2048
# Requests in flight when the server stops get this long to finish before their connections are cut.
SHUTDOWN_GRACE = 5
# A request line and headers beyond this are refused, as the old `http.server` refused a line over 64 KiB. Counted
# per read from the start of a head; a client that pipelines (sends the next request before the answer) could see a
# large body's tail counted too, but HTTP clients do not pipeline.
MAX_HEAD_BYTES = 64 * 1024
HEAD_TOO_LARGE = "Request head too large."


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size bound on each request head (see the module docstring)."""

    _deadline: asyncio.TimerHandle | None = None
    _in_head = False
    _head_bytes = 0
    _refusal: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        if len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) > MAX_HEAD_BYTES:
            # Raised inside the parser's callback: uvicorn stops parsing and answers with send_400_response.
            self._refusal = HEAD_TOO_LARGE
            raise ValueError(HEAD_TOO_LARGE)
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._in_head:
            # The head is still arriving; what llhttp has collected of it so far is at most what came since.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self.send_400_response(HEAD_TOO_LARGE)
        elif self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # a request head arrived: its answer is the app's business now

    def send_400_response(self, msg: str) -> None:
        super().send_400_response(self._refusal or msg)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request may already be running; only an idle connection waits for a head again.
        if self.cycle is None or self.cycle.response_complete:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            # uvicorn's own handler for an idle keep-alive connection: a clean close, nothing sent.
            self._deadline = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        await super().startup(sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        # uvicorn's loop (a tick every 0.1 s refreshes the Date header), woken at once by `request_stop`.
        assert self._wakeup is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), 0.1)

    def request_stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing left to wake
                self._loop.call_soon_threadsafe(self._wakeup.set)


class HTTPServer:
    """The app served on `host:port` (port 0 picks a free one, known as soon as this object exists)."""

    def __init__(self, app: ApiApp, host: str, port: int, *, idle_timeout: float) -> None:
        self.app = app
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
            backlog=BACKLOG,
            timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]  # seconds; a float works as well as an int
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
        )
        self._server = _Server(config)
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
