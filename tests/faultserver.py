"""A fault-injecting Batch API server on 127.0.0.1, for the retry and soak tests.

Real sockets, a free port, stdlib only. It speaks enough of the Batch API for the client's four operations:

- `POST /v1/batches` creates a batch (`batch_new_00001`, ...), echoing `input_file_id`, `endpoint`,
  `completion_window` and `metadata` from the body;
- `GET /v1/batches/{id}` and `POST /v1/batches/{id}/cancel` on the fixed batches and the created ones;
- `GET /v1/batches?after=&limit=` walks the fixed batches only (`batch_000`, `batch_001`, ...), so listings stay
  predictable while creates run concurrently.

Each request is answered from a script: first the faults queued with `script(...)` (one per request, `None` for a
normal answer), then, if `random_faults(...)` was called, a seeded random fault, else a normal answer. Every request
is recorded (`requests`), with the fault it was answered with, and every answer carries `x-request-id: req_<n>`,
where n is the request's 1-based position in `requests`.

Creates are not de-duplicated: the server only records the `Idempotency-Key` of each create so a test can count
duplicates.

Random faults are decided per *call*: a request's call is its `X-Call-Id` header (tests pass it through
`extra_headers`), else its `Idempotency-Key`, else its method, path and query. The decision for the n-th request of a
call depends only on the seed, the call and n, so a run is reproducible whatever the thread scheduling, and no call
is failed more than `max_in_a_row` times in a row.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from helpers import batch

FIXED_BATCHES = 25
DEFAULT_LIST_LIMIT = 20
SLOW_SECONDS = 1.0


@dataclass(frozen=True)
class Fault:
    """One way to answer a request badly. Build them with the functions below."""

    kind: str
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.status}" if self.status else self.kind


def status(code: int, headers: dict[str, str] | None = None, body: bytes | None = None) -> Fault:
    """A JSON error answer (the API's error shape) with `code` and extra headers."""
    if body is None:
        body = json.dumps(
            {"error": {"message": f"injected {code}", "type": "injected_error", "param": None, "code": f"e{code}"}}
        ).encode()
    return Fault("status", status=code, headers=tuple((headers or {}).items()), body=body)


def html_page(code: int) -> Fault:
    """An HTML page (a proxy's error page, a captive portal) with status `code`."""
    reason = "Bad Gateway" if code == 502 else "OK"
    page = f"<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1></body></html>"
    return Fault("html", status=code, body=page.encode())


def reset() -> Fault:
    """Read the request, then reset the connection (SO_LINGER 0) without a byte of answer."""
    return Fault("reset")


def reset_mid_body() -> Fault:
    """Send the status line, headers and half of a normal answer's body, then reset the connection."""
    return Fault("reset_mid_body")


def truncated() -> Fault:
    """Send a normal answer with a Content-Length larger than its body, then close the connection cleanly."""
    return Fault("truncated")


def slow(seconds: float = SLOW_SECONDS) -> Fault:
    """Answer normally, but only after `seconds` (cut short when the server stops)."""
    return Fault("slow", seconds=seconds)


def gzip_garbage(code: int = 200) -> Fault:
    """An answer with status `code`, `Content-Encoding: gzip` and a body that is not gzip."""
    return Fault("gzip_garbage", status=code, body=b"this is not gzip at all \x00\xff" * 4)


@dataclass(frozen=True)
class Received:
    """One request as the server read it, and how it was answered (`fault` is None for a normal answer)."""

    number: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names; the last value of a repeated header
    raw_headers: tuple[tuple[str, str], ...]
    body: bytes
    fault: str | None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def call_id(self) -> str | None:
        return self.headers.get("x-call-id")

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.raw_headers if key.lower() == name.lower()]

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path == "/v1/batches"


@dataclass
class _RandomFaults:
    rate: float
    seed: int
    faults: tuple[Fault, ...]
    max_in_a_row: int
    attempts: Counter[str] = field(default_factory=Counter)
    in_a_row: Counter[str] = field(default_factory=Counter)

    def decide(self, call: str) -> Fault | None:
        self.attempts[call] += 1
        if self.in_a_row[call] >= self.max_in_a_row:
            self.in_a_row[call] = 0
            return None
        rng = random.Random(f"{self.seed}/{call}/{self.attempts[call]}")
        if rng.random() >= self.rate:
            self.in_a_row[call] = 0
            return None
        self.in_a_row[call] += 1
        return rng.choice(self.faults)


class FaultServer:
    """`with FaultServer() as server:` runs it on a free port; leaving the block stops it and its connections."""

    def __init__(self, fixed_batches: int = FIXED_BATCHES) -> None:
        self.fixed_ids = [f"batch_{i:03d}" for i in range(fixed_batches)]
        self._fixed = {batch_id: batch(batch_id) for batch_id in self.fixed_ids}
        self._created: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._script: list[Fault | None] = []
        self._random: _RandomFaults | None = None
        self._connections: set[socket.socket] = set()
        self.requests: list[Received] = []
        self.faults_injected = 0
        self.normal_answers = 0
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.005}, name="faultserver", daemon=True
        )

    # ----- lifecycle

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()  # wakes every slow answer
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # unblocks handler threads waiting on idle keep-alive connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    # ----- scripting

    def script(self, *faults: Fault | None) -> None:
        """Answer the next requests with these faults in order (`None`: a normal answer), then normally."""
        with self._lock:
            self._script.extend(faults)

    def random_faults(self, rate: float, *, seed: int, faults: Sequence[Fault], max_in_a_row: int = 3) -> None:
        """After the script runs out, fail a request with probability `rate` with one of `faults` (seeded)."""
        with self._lock:
            self._random = _RandomFaults(rate, seed, tuple(faults), max_in_a_row)

    def always(self, fault: Fault) -> None:
        """Answer every request after the script with `fault`."""
        self.random_faults(1.0, seed=0, faults=[fault], max_in_a_row=2**62)

    def _next_fault(self, received_call: str) -> Fault | None:
        if self._script:
            return self._script.pop(0)
        if self._random is not None:
            return self._random.decide(received_call)
        return None

    # ----- what was received

    @property
    def count(self) -> int:
        return len(self.requests)

    def creates(self) -> list[Received]:
        return [r for r in self.requests if r.is_create]

    def create_keys(self) -> list[str | None]:
        """The Idempotency-Key of every create request received (None where it had none)."""
        return [r.idempotency_key for r in self.creates()]

    def duplicate_creates(self) -> dict[str, int]:
        """Keys whose create was answered in full (a normal answer) more than once.

        Creates answered with a broken body were performed as well (see `created_ids`); they are not counted here.
        """
        performed = Counter(r.idempotency_key or "" for r in self.creates() if r.fault is None)
        return {key: n for key, n in performed.items() if n > 1}

    def fault_names(self) -> Counter[str]:
        return Counter(r.fault for r in self.requests if r.fault is not None)

    def created_ids(self, key: str) -> list[str]:
        """The ids of the batches the server created for creates carrying `key`, oldest first.

        The server is not idempotent: a create answered with a broken body (reset mid-body, truncated) was performed
        all the same, as an ambiguous failure on the real API may have been.
        """
        with self._lock:
            return [bid for bid, body in self._created.items() if body["_key"] == key]

    # ----- the API

    def expected_page(self, after: str | None, limit: int | None) -> list[str]:
        start = 0 if after is None else self.fixed_ids.index(after) + 1
        return self.fixed_ids[start : start + (limit or DEFAULT_LIST_LIMIT)]

    def answer(self, method: str, path: str, query: dict[str, str], body: bytes, key: str | None) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["v1", "batches"]:
            return 404, _error(f"no route {method} {path}")
        rest = parts[2:]
        if method == "POST" and not rest:
            return self._create(body, key)
        if method == "GET" and not rest:
            return self._list(query)
        if len(rest) in (1, 2) and rest[0]:
            found = self._find(rest[0])
            if found is None:
                return 404, _error(f"No batch found with id '{rest[0]}'.")
            if method == "GET" and len(rest) == 1:
                return 200, found
            if method == "POST" and rest[1:] == ["cancel"]:
                return 200, {**found, "status": "cancelling", "cancelling_at": 1711471600}
        return 404, _error(f"no route {method} {path}")

    def _find(self, batch_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._fixed.get(batch_id) or self._created.get(batch_id)
        return None if found is None else {k: v for k, v in found.items() if k != "_key"}

    def _create(self, body: bytes, key: str | None) -> tuple[int, Any]:
        try:
            params = json.loads(body)
        except ValueError:
            return 400, _error("body is not JSON")
        if not isinstance(params, dict) or not all(
            isinstance(params.get(name), str) for name in ("input_file_id", "endpoint", "completion_window")
        ):
            return 400, _error("input_file_id, endpoint and completion_window are required")
        with self._lock:
            batch_id = f"batch_new_{len(self._created) + 1:05d}"
            created = batch(
                batch_id,
                status="validating",
                input_file_id=params["input_file_id"],
                endpoint=params["endpoint"],
                completion_window=params["completion_window"],
                metadata=params.get("metadata"),
                in_progress_at=None,
                request_counts={"total": 0, "completed": 0, "failed": 0},
            )
            self._created[batch_id] = {**created, "_key": key}
        return 200, created

    def _list(self, query: dict[str, str]) -> tuple[int, Any]:
        after = query.get("after")
        try:
            limit = int(query.get("limit", DEFAULT_LIST_LIMIT))
        except ValueError:
            return 400, _error("limit must be an integer")
        if after is not None and after not in self.fixed_ids:
            return 400, _error(f"unknown cursor {after!r}")
        if not 1 <= limit <= 100:
            return 400, _error("limit must be from 1 to 100")
        ids = self.expected_page(after, limit)
        with self._lock:
            data = [self._fixed[i] for i in ids]
        start = 0 if after is None else self.fixed_ids.index(after) + 1
        return 200, {
            "object": "list",
            "data": data,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
            "has_more": start + len(ids) < len(self.fixed_ids),
        }


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: FaultServer) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is dropped after this; stop() drops them at once
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body are two writes: without this, Nagle and delayed ACKs add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        owner = self.server.owner
        with owner._lock:
            owner._connections.add(self.connection)

    def finish(self) -> None:
        owner = self.server.owner
        with owner._lock:
            owner._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        raw_headers = tuple(self.headers.items())
        headers = {k.lower(): v for k, v in raw_headers}
        call = headers.get("x-call-id") or headers.get("idempotency-key") or f"{self.command} {self.path}"
        with owner._lock:
            fault = owner._next_fault(call)
            number = len(owner.requests) + 1
            owner.requests.append(
                Received(
                    number=number,
                    method=self.command,
                    path=split.path,
                    query=query,
                    headers=headers,
                    raw_headers=raw_headers,
                    body=body,
                    fault=None if fault is None else fault.name,
                )
            )
            if fault is None:
                owner.normal_answers += 1
            else:
                owner.faults_injected += 1
        request_id = f"req_{number}"
        try:
            self._respond(
                fault,
                request_id,
                lambda: owner.answer(self.command, split.path, query, body, headers.get("idempotency-key")),
            )
        except OSError:  # the client went away (after a timeout, say): nothing left to tell it
            self.close_connection = True

    def _respond(self, fault: Fault | None, request_id: str, normal: Any) -> None:
        if fault is None:
            self._send(*normal(), request_id=request_id)
            return
        kind = fault.kind
        if kind == "status":
            self._send_raw(fault.status, fault.body, "application/json", request_id, fault.headers)
        elif kind == "html":
            self._send_raw(fault.status, fault.body, "text/html; charset=utf-8", request_id)
        elif kind == "gzip_garbage":
            self._send_raw(fault.status, fault.body, "application/json", request_id, (("Content-Encoding", "gzip"),))
        elif kind == "reset":
            self._abort()
        elif kind == "reset_mid_body":
            code, payload = normal()
            data = json.dumps(payload).encode()
            self._head(code, len(data), "application/json", request_id, first_bytes=data[: len(data) // 2])
            self._abort()
        elif kind == "truncated":
            code, payload = normal()
            data = json.dumps(payload).encode()
            self._head(code, len(data) + 100, "application/json", request_id, first_bytes=data)
            self.close_connection = True
        elif kind == "slow":
            if self.server.owner._stop.wait(fault.seconds):
                self.close_connection = True
                return
            self._send(*normal(), request_id=request_id)
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(f"unknown fault {kind!r}")

    def _send(self, code: int, payload: Any, *, request_id: str) -> None:
        self._send_raw(code, json.dumps(payload).encode(), "application/json", request_id)

    def _send_raw(
        self,
        code: int,
        data: bytes,
        content_type: str,
        request_id: str,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._head(code, len(data), content_type, request_id, extra, first_bytes=data)

    def _head(
        self,
        code: int,
        length: int,
        content_type: str,
        request_id: str,
        extra: Iterable[tuple[str, str]] = (),
        first_bytes: bytes = b"",
    ) -> None:
        """Send the status line and headers, then `first_bytes` of the body."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("x-request-id", request_id)
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if first_bytes:
            self.wfile.write(first_bytes)

    def _abort(self) -> None:
        """Reset the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        sock = self.connection
        self.wfile.flush()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the reader holds a reference that would keep the socket open past close()
        sock.close()
        self.close_connection = True
