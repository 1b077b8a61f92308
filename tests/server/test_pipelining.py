"""Issue 20, finding 5: the 64 KiB bound on a request head counts that head's bytes only, so pipelined requests are
each measured on their own, while one head over the bound (sent whole or a piece at a time) is still refused.

Raw sockets, since pipelining is what HTTP clients never do; one test feeds the protocol by hand, so that where a read
ends (in a body, in a head) is exactly what it says rather than whatever the kernel made of the writes.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from typing import Any

import uvicorn
from openai_batches_server import LocalServer
from openai_batches_server.capacity import RefusalLog
from openai_batches_server.http_server import HEAD_TOO_LARGE, MAX_HEAD_BYTES, GuardedProtocol, _State

from .support import KEY

PATIENCE = 10.0
AUTH = f"Authorization: Bearer {KEY}\r\n".encode()


def conversation(port: int, pieces: list[bytes], pause: float = 0.0) -> bytes:
    """Send each piece (a pause between them), then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for piece in pieces:
                sock.sendall(piece)
                time.sleep(pause)
        except OSError:
            pass  # refused and closed while the client was still sending: the answer is already on its way
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except ConnectionResetError:
            pass
    return reply


def statuses(reply: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]


def get(path: str, *, last: bool = False, size: int = 0) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + AUTH + (b"Connection: close\r\n" if last else b"")
    padding = max(0, size - len(head) - len(b"X-Pad: \r\n\r\n"))
    return head + b"X-Pad: " + b"p" * padding + b"\r\n\r\n"


def test_5_a_thousand_pipelined_gets_on_one_connection_are_all_answered_in_order(server: LocalServer) -> None:
    requests = [get(f"/v1/files/file-{number:04d}", last=number == 999, size=387) for number in range(1000)]
    assert {len(request) for request in requests} == {387}
    reply = conversation(server.port, [b"".join(requests)])
    assert statuses(reply) == [404] * 1000
    answered = re.findall(rb"No such File object: (file-\d{4})", reply)
    assert answered == [f"file-{number:04d}".encode() for number in range(1000)]


def test_5_a_head_over_the_bound_is_refused_whole_or_trickled(server: LocalServer) -> None:
    one_big_header = b"GET /v1/files HTTP/1.1\r\nHost: x\r\n" + AUTH + b"X-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    many_headers = (
        b"GET /v1/files HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b"".join(b"X-H%d: %s\r\n" % (number, b"v" * 90) for number in range(MAX_HEAD_BYTES // 90))
        + b"\r\n"
    )
    for head in (one_big_header, many_headers):
        whole = conversation(server.port, [head])
        assert statuses(whole) == [400] and whole.endswith(HEAD_TOO_LARGE.encode())
        # In 700-byte pieces: many reads, none of them over the bound on its own.
        trickled = conversation(server.port, [head[start : start + 700] for start in range(0, len(head), 700)], 0.001)
        assert statuses(trickled) == [400] and trickled.endswith(HEAD_TOO_LARGE.encode())


def test_5_pipelined_requests_are_answered_up_to_one_with_a_head_over_the_bound(server: LocalServer) -> None:
    big = b"GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    reply = conversation(server.port, [get("/v1/files") * 3 + big + get("/v1/files", last=True)])
    assert statuses(reply) == [200, 200, 200, 400]


def test_5_requests_pipelined_after_a_large_body_are_answered(server: LocalServer) -> None:
    body = b" " * 100_000 + b"{}"
    post = b"POST /v1/batches HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n"
    post += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    reply = conversation(server.port, [post + get("/v1/files") + get("/v1/files", last=True)])
    assert statuses(reply) == [400, 200, 200]  # the batch lacks its parameters; the reads after it are served


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _ignore_the_body(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _feed(reads: list[bytes]) -> FakeTransport:
    config = uvicorn.Config(_ignore_the_body, http=GuardedProtocol, log_config=None, lifespan="off")
    protocol = GuardedProtocol(config, _State(10, RefusalLog()), {})
    transport = FakeTransport()
    protocol.connection_made(transport)
    for data in reads:
        if transport.is_closing():
            break
        protocol.data_received(data)
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport


def test_5_a_head_that_begins_in_the_read_ending_a_body_counts_only_its_own_bytes() -> None:
    body = b"b" * 60_000
    post = f"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    start = b"GET /y HTTP/1.1\r\nHost: x\r\nX-Long: "

    def reads(header_bytes: int) -> list[bytes]:
        # One read holds the POST's head, its body, and the start of the next head; the header trickles in after.
        return [post + body + start] + [b"v" * 1000] * (header_bytes // 1000) + [b"\r\n\r\n"]

    # The body's 60,000 bytes are not the next head's: a header well under the bound is read to its end...
    served = asyncio.run(_feed(reads(30_000)))
    assert statuses(served.written) == [204, 204]
    # ...and one over the bound is refused, counted from where its head began.
    refused = asyncio.run(_feed(reads(MAX_HEAD_BYTES + 1000)))
    assert refused.written.endswith(HEAD_TOO_LARGE.encode())
