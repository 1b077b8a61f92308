"""Issue 20, finding 2: a body that trickles in never timed out, and enough of them ran the process out of descriptors.

Now a body must arrive whole within the body timeout and at the minimum rate over a sliding window, besides the idle
timeout; connections and uploads have caps answered 503 with Retry-After before descriptors run out; and when they
run out anyway, the log gets a line per kind of refusal instead of a traceback per connection. The limits are set to
fractions of a second here, so each slow client is cut off in well under a second.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.config import ServerConfig

from .conftest import PROJECT
from .support import KEY, api_client, assert_error

PATIENCE = 10.0
UPLOAD_HEAD = (
    b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n"
    b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="slow.jsonl"\r\n\r\n'
)


def slow_server(data_dir: Path, **limits: Any) -> LocalServer:
    config = ServerConfig(data_dir=data_dir, port=0, api_keys=(KEY,), step_seconds=0, idle_timeout=5.0, **limits)
    return LocalServer(config)


def trickle(port: int, head: bytes, piece: bytes, every: float, *, first: bytes = b"") -> tuple[float, bytes]:
    """Send the head (and `first`), then `piece` every `every` seconds until the server answers and closes."""
    started = time.monotonic()
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(head + first)
        sock.settimeout(every)
        while time.monotonic() - started < PATIENCE:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(piece)
                except OSError:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            reply += chunk
    return time.monotonic() - started, reply


def error_of(reply: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"connection: close" in head.lower()
    return status, json.loads(body)["error"]


def test_2_a_body_that_trickles_steadily_is_cut_off_at_the_body_timeout(data_dir: Path) -> None:
    # A byte every 50 ms: the 5 s idle timeout alone would never fire.
    with slow_server(data_dir, body_timeout=0.5, min_body_rate=0) as server:
        elapsed, reply = trickle(server.port, UPLOAD_HEAD, b"x", 0.05)
    status, error = error_of(reply)
    assert (status, error["type"]) == (408, "invalid_request_error")
    assert "within 0.5 s" in error["message"]
    assert elapsed < 3
    assert list((data_dir / "tmp").iterdir()) == []  # the upload's temporary file went with it


def test_2_a_body_under_the_minimum_rate_is_cut_off_after_the_window(data_dir: Path) -> None:
    # 20 bytes every 50 ms is 400 bytes/s, under the 1,000 asked for.
    with slow_server(data_dir, min_body_rate=1000, body_rate_window=0.4) as server:
        elapsed, reply = trickle(server.port, UPLOAD_HEAD, b"x" * 20, 0.05)
    status, error = error_of(reply)
    assert status == 408 and "too slowly" in error["message"] and "1000 bytes/s" in error["message"]
    assert 0.4 <= elapsed < 3
    assert list((data_dir / "tmp").iterdir()) == []


def test_2_the_rate_is_over_the_last_window_so_a_fast_start_buys_no_slack(data_dir: Path) -> None:
    # 200 KB at once, then a trickle: averaged since the start it would stay above 1,000 bytes/s for minutes.
    with slow_server(data_dir, min_body_rate=1000, body_rate_window=0.4) as server:
        elapsed, reply = trickle(server.port, UPLOAD_HEAD, b"x", 0.05, first=b"x" * 200_000)
    status, error = error_of(reply)
    assert status == 408 and "too slowly" in error["message"]
    assert elapsed < 3


def test_2_a_slow_json_body_is_cut_off_too(data_dir: Path) -> None:
    head = (
        b"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    with slow_server(data_dir, body_timeout=0.5) as server:
        _, reply = trickle(server.port, head, b"1\r\n \r\n", 0.05)
    assert error_of(reply)[0] == 408


def test_2_a_body_that_keeps_up_with_the_rate_is_accepted(data_dir: Path) -> None:
    content = b'{"custom_id": "a"}\n' * 1000

    def steady() -> Iterator[bytes]:
        # About 20 KB/s for a second: two windows long, and far enough over the rate that only a client stalled for a
        # whole window could fall under it.
        for start in range(0, len(content), 1000):
            time.sleep(0.05)
            yield content[start : start + 1000]

    request = httpx.Request("POST", "http://x/", files={"file": ("a.jsonl", b"")}, data={"purpose": "batch"})
    boundary = request.headers["content-type"].split("boundary=")[1]
    prefix = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:
        yield prefix
        yield from steady()
        yield f"\r\n--{boundary}--\r\n".encode()

    with slow_server(data_dir, min_body_rate=200, body_rate_window=0.5) as server, api_client(server) as client:
        response = client.post("/files", content=body(), headers={"Content-Type": request.headers["content-type"]})
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == len(content)


@pytest.fixture
def capped(data_dir: Path) -> Iterator[LocalServer]:
    with run_server(data_dir, api_keys=[KEY], tick=0, max_connections=6, max_uploads=2) as running:
        yield running


def test_2_an_upload_over_the_cap_is_503_before_its_body_is_read_and_reads_still_work(
    capped: LocalServer, data_dir: Path
) -> None:
    holders = [socket.create_connection(("127.0.0.1", capped.port), timeout=PATIENCE) for _ in range(2)]
    try:
        for sock in holders:
            sock.sendall(UPLOAD_HEAD + b"x")  # two uploads in progress, slow ones: the cap is taken
        deadline = time.monotonic() + PATIENCE
        while len(list((data_dir / "tmp").iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        with api_client(capped) as client:
            response = client.post("/files", files={"file": ("a.jsonl", b"x" * 2_000_000)}, data={"purpose": "batch"})
            error = assert_error(response, 503, type_="server_error")
            assert "(2)" in error["message"]
            assert response.headers["retry-after"] == "1"
            assert response.headers["connection"] == "close"
            assert len(list((data_dir / "tmp").iterdir())) == 2  # the third upload opened no file
            # A fresh client's plain read is answered while the uploads hold their cap.
            with api_client(capped) as reader:
                assert reader.get("/files").status_code == 200
    finally:
        for sock in holders:
            sock.close()


def test_2_a_connection_over_the_cap_is_answered_503_and_closed(capped: LocalServer) -> None:
    idle = [socket.create_connection(("127.0.0.1", capped.port), timeout=PATIENCE) for _ in range(6)]
    try:
        with api_client(capped) as client:
            # The idle connections are accepted asynchronously: wait until the cap is full.
            deadline = time.monotonic() + PATIENCE
            while (response := client.get("/files")).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            error = assert_error(response, 503, type_="server_error")
            assert "(6)" in error["message"]
            assert response.headers["retry-after"] == "1"
            assert response.headers["connection"] == "close"
        # One that sends nothing at all is closed soon, not held for the idle timeout (20 s).
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", capped.port), timeout=PATIENCE) as silent:
            assert silent.recv(100) == b""
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()
    with api_client(capped) as client:
        deadline = time.monotonic() + PATIENCE
        while (status := client.get("/files").status_code) == 503 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert status == 200  # the cap freed up with the connections


def test_2_out_of_descriptors_the_log_gets_a_line_per_kind_not_a_traceback_each(tmp_path: Path) -> None:
    import resource  # POSIX only, as is /proc

    # Caps far above what 64 descriptors allow, so that accept() and the uploads' files really fail with EMFILE.
    def lower_the_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT / "server"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "openai_batches_server", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    command += ["--api-key", KEY, "--tick", "0", "--max-connections", "500", "--max-uploads", "500"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, preexec_fn=lower_the_limit
    )
    assert process.stdout is not None
    match = re.search(r":(\d+)/v1", process.stdout.readline())
    assert match
    port = int(match.group(1))
    clients: list[socket.socket] = []
    try:
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
            sock.sendall(UPLOAD_HEAD + b"x")
            clients.append(sock)
        time.sleep(0.5)
        answers = []
        for sock in clients:
            sock.setblocking(False)
            try:
                answers.append(sock.recv(12)[9:12])
            except OSError:
                answers.append(b"")
        assert b"500" not in answers
        assert b"503" in answers
    finally:
        for sock in clients:
            sock.close()
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/files", headers={"Authorization": f"Bearer {KEY}"}).is_success:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    else:
        raise AssertionError("the server did not recover once the clients had gone")
    process.terminate()
    log = process.communicate(timeout=30)[0]
    assert "Traceback" not in log, log
    lines = [line for line in log.splitlines() if "Too many open files" in line]
    # A line as each kind starts (accept, uploads' files) and a count for each at the stop, nothing per connection.
    assert 2 <= len(lines) <= 4, lines
    assert any("cannot accept connections" in line for line in lines), lines
    assert any(re.search(r"\([\d,]+ more in the last \d+ s\)", line) for line in lines), lines
