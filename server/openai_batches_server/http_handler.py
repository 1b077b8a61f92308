"""The `http.server` side: one thread per connection, HTTP/1.1 keep-alive, and the headers every answer carries.

Every response, including the ones `http.server` produces itself for a malformed request line, gets the JSON error
shape, an `x-request-id` and `openai-processing-ms`. A body an endpoint did not read is drained (up to a limit)
before answering, or the connection is closed; otherwise the unread bytes would be parsed as the next request.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import ids
from .app import App
from .errors import APIError, server_error
from .http_types import Response, error_response
from .request_body import BodyReader, ClientDisconnected, EmptyBody, drain, open_body

logger = logging.getLogger(__name__)

DRAIN_LIMIT = 1024 * 1024
COPY_CHUNK = 1024 * 1024


class APIServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its open connections, so stopping does not wait on idle keep-alives."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, RequestHandler)
        self.app = app
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._state = threading.Condition()

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._state:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._state:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._state:
                self._in_flight -= 1
                self._state.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (`results | head`, Ctrl-C) is routine, not a server fault worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self, grace: float) -> None:
        """Let requests being answered finish (up to `grace` seconds), then cut every connection."""
        with self._state:
            self._state.wait_for(lambda: self._in_flight == 0, timeout=grace)
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "openai-batches-local"
    sys_version = ""
    # Headers and body leave in separate writes; with Nagle on, the client's delayed ACK adds ~40 ms to each answer.
    disable_nagle_algorithm = True
    server: APIServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.monotonic()
        request_id = ids.request_id()
        body: BodyReader = EmptyBody()
        with self.server.in_flight():
            try:
                body = open_body(self.headers, self.rfile)
                response = self.server.app.handle(self.command, self.path, self.headers, body)
            except APIError as exc:
                response = error_response(exc)
            except ClientDisconnected:
                self.close_connection = True
                return
            except Exception:
                logger.exception("unhandled error answering %s %s", self.command, self.path)
                response = error_response(server_error())
            if not response.close_connection and not body.finished and not drain(body, DRAIN_LIMIT):
                response.close_connection = True
            self._send(response, request_id, started)

    def _send(self, response: Response, request_id: str, started: float) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("x-request-id", request_id)
            self.send_header("openai-processing-ms", str(int((time.monotonic() - started) * 1000)))
            self.send_header("Content-Length", str(response.length))
            if response.close_connection:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if response.stream is None:
                self.wfile.write(response.body)
            else:
                self._copy(response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            response.discard()

    def _copy(self, response: Response) -> None:
        assert response.stream is not None
        remaining = response.length
        while remaining > 0:
            chunk = response.stream.read(min(COPY_CHUNK, remaining))
            if not chunk:
                # The file shrank under us; the client sees a short body and must not reuse the connection.
                self.close_connection = True
                return
            self.wfile.write(chunk)
            remaining -= len(chunk)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server calls this for requests it cannot parse; answer those in the API's shape too.
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        error = APIError(code, message or phrase, close_connection=True)
        self._send(error_response(error), ids.request_id(), time.monotonic())

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)
