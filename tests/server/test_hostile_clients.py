"""What an API fuzzer and about 200 hand-written hostile probes found in the local server (issue 13), one test (or a
few) per numbered finding, each failing on the old `http.server` stack and passing now; plus 50 parallel uploads and
200 parallel reads with zero connection errors.

Most probes speak raw HTTP/1.1 over a socket, since what they send is exactly what a well-behaved client never would.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai.types.responses as sdk_responses
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.cli import config_from_args, main
from openai_batches_server.runner import BatchRunner

from .conftest import PROJECT
from .support import (
    KEY,
    TLS,
    api_client,
    assert_error,
    chat_line,
    jsonl,
    read_lines,
    run_batch,
    upload,
)

AUTH = f"Authorization: Bearer {KEY}\r\n".encode()
# The server closes what it must; a probe that sees no close within this long has found a hang.
PATIENCE = 10.0


def exchange(port: int, data: bytes, *, patience: float = PATIENCE) -> bytes:
    """Send `data`, then read until the server closes the connection; a connection left open fails the probe."""
    with socket.create_connection(("127.0.0.1", port), timeout=patience) as sock:
        sock.sendall(data)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            raise AssertionError(f"the server kept the connection open; it answered {reply[:300]!r}") from None
    return reply


def statuses(reply: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]


def closed_by_server(sock: socket.socket, patience: float = PATIENCE) -> bool:
    sock.settimeout(patience)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`openai-batches serve` in its own process, so its memory can be measured apart from the test's."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT / "server"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "openai_batches_server", "serve", "--port", "0", "--data-dir", str(tmp_path)]
    process = subprocess.Popen([*command, "--api-key", KEY, "--tick", "0"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.fullmatch(r"listening on http://127\.0\.0\.1:(\d+)/v1\n", first)
        assert match, first
        yield process, int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=15)


# --- 1. unauthenticated memory growth


def test_1_a_negative_chunk_size_is_refused_at_once_without_buffering_the_stream(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = served
    before = rss_kib(process.pid)
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(b"POST /v1/files HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n")
        sent = 0
        with pytest.raises(OSError):  # the server refused and closed: sending more fails
            for _ in range(64):
                sock.sendall(b"x" * 1024 * 1024)
                sent += 1
        assert sent < 64
    assert rss_kib(process.pid) - before < 16 * 1024


def test_1_an_unauthenticated_upload_is_refused_without_reading_its_body(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    _, port = served
    head = b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(head + b"Content-Length: 300000000\r\n\r\n" + b"x" * 65536)
        reply = sock.recv(65536)
        assert statuses(reply) == [401]
        assert b"connection: close" in reply.lower()
        assert closed_by_server(sock)


# --- 2. connection resets under modest load


def test_2_fifty_parallel_uploads_from_fifty_connections_all_succeed(server: LocalServer) -> None:
    start = threading.Barrier(50)

    def one(number: int) -> int:
        content = jsonl([chat_line(f"u{number}-{line}") for line in range(20)])
        start.wait()
        with api_client(server) as client:  # a connection of its own, opened at the same moment as the others
            response = client.post("/files", files={"file": ("in.jsonl", content)}, data={"purpose": "batch"})
        return response.status_code

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))  # any connection error is raised here
    assert results == [200] * 50


def test_2_two_hundred_parallel_reads_from_two_hundred_connections_all_succeed(
    server: LocalServer, client: httpx.Client
) -> None:
    file_id = upload(client, jsonl([chat_line("a")]))["id"]
    start = threading.Barrier(200)

    def one(_: int) -> int:
        start.wait()
        with api_client(server) as reader:
            return reader.get(f"/files/{file_id}").status_code

    with ThreadPoolExecutor(200) as pool:
        results = list(pool.map(one, range(200)))
    assert results == [200] * 200


# --- 3. one bad line throws away finished work


def test_3_a_lone_surrogate_on_line_900_fails_the_file_in_validation_before_any_line_runs(
    client: httpx.Client,
) -> None:
    lines = [json.dumps(chat_line(f"r{number}")).encode() for number in range(1, 1001)]
    lines[899] = json.dumps(chat_line("r900", "\udc00")).encode()  # json.dumps writes it as the escape \udc00
    assert b"\\udc00" in lines[899]
    batch = run_batch(client, b"\n".join(lines) + b"\n")
    assert batch["status"] == "failed"
    assert batch["in_progress_at"] is None, "lines ran before the file was validated"
    assert batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    [error] = batch["errors"]["data"]
    assert (error["code"], error["line"]) == ("invalid_json_line", 900)
    assert "surrogate" in error["message"]


def test_3_a_batch_that_stops_unexpectedly_still_publishes_the_lines_it_finished(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer_lines = BatchRunner._answer_lines
    calls = 0

    def crash_on_the_second_chunk(self: BatchRunner, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.EIO, "Input/output error")  # a server fault (a full disk waits)
        return answer_lines(self, *args, **kwargs)

    monkeypatch.setattr(BatchRunner, "_answer_lines", crash_on_the_second_chunk)
    batch = run_batch(client, [chat_line(f"r{number}") for number in range(500)])
    assert batch["status"] == "failed"
    assert batch["errors"]["data"][0]["code"] == "server_error"
    finished = read_lines(client, batch["output_file_id"])
    assert len(finished) == batch["request_counts"]["completed"] == 200
    assert [line["custom_id"] for line in finished] == [f"r{number}" for number in range(200)]


# --- 4. 500s and server_error from what a client sends


@pytest.mark.parametrize(
    "body",
    [
        b'{"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "completion_window": "24h",'
        b' "metadata": {"k": "\\udc00"}}',
        b'{"input_file_id": "\\ud800", "endpoint": "/v1/chat/completions", "completion_window": "24h"}',
        b'{"metadata": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        b'{"metadata": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}",
        b'{"input_file_id": NaN}',
        b'{"input_file_id": 1e400}',
    ],
    ids=["surrogate-in-metadata", "surrogate-in-id", "2000-deep-array", "2000-deep-object", "NaN", "1e400"],
)
def test_4_a_batch_body_the_server_cannot_echo_is_400_not_500(client: httpx.Client, body: bytes) -> None:
    response = client.post("/batches", content=body, headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, type_="invalid_request_error", code="invalid_json")
    # Parseable by Python but not storable: the message says why, after the service's opening words.
    assert error["message"].startswith("We could not parse the JSON body of your request: ")
    assert any(why in error["message"] for why in ("lone surrogate", "nested", "NaN", "too large"))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": '
            + b'{"x":' * 2000
            + b"1"
            + b"}" * 2000
            + b"}",
            "nested",
        ),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": '
            + b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": '
            + b"[" * 300
            + b"]" * 300
            + b"}}",
            "nested",
        ),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", '
            b'"messages": [{"role": "user", "content": "x"}], "temperature": NaN}}',
            "NaN",
        ),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", '
            b'"messages": [{"role": "user", "content": "x"}], "top_p": Infinity}}',
            "Infinity",
        ),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", '
            b'"messages": [{"role": "user", "content": "x"}], "top_p": -Infinity}}',
            "-Infinity",
        ),
        (
            b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", '
            b'"messages": [{"role": "user", "content": "x"}], "seed": 1e999}}',
            "too large",
        ),
    ],
    ids=["2000-deep", "300-deep", "NaN", "Infinity", "-Infinity", "1e999"],
)
def test_4_a_line_the_server_cannot_echo_is_a_line_error_in_validating(
    client: httpx.Client, line: bytes, reason: str
) -> None:
    batch = run_batch(client, jsonl([chat_line("before")]) + line + b"\n" + jsonl([chat_line("after")]))
    assert batch["status"] == "failed" and batch["in_progress_at"] is None
    [error] = batch["errors"]["data"]
    assert (error["code"], error["line"]) == ("invalid_json_line", 2)
    assert reason in error["message"]


# --- 5. request smuggling


def _post(headers: bytes, body: bytes) -> bytes:
    return b"POST /v1/batches HTTP/1.1\r\nHost: x\r\n" + AUTH + b"Content-Type: application/json\r\n" + headers + body


SMUGGLED = b"GET /v1/files HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n"


@pytest.mark.parametrize(
    "request_bytes",
    [
        _post(f"Content-Length: {5 + len(SMUGGLED)}\r\nTransfer-Encoding: chunked\r\n\r\n".encode(), b"0\r\n\r\n"),
        _post(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", b"0\r\n\r\n"),
        _post(b"Transfer-Encoding: gzip\r\n\r\n", b""),
        _post(b"Transfer-Encoding: xchunked\r\n\r\n", b"0\r\n\r\n"),
        _post(b"Transfer-Encoding: chunked, gzip\r\n\r\n", b"0\r\n\r\n"),
        _post(b"Content-Length: 2\r\nContent-Length: 81\r\n\r\n", b"{}"),
        _post(b"Content-Length: +2\r\n\r\n", b"{}"),
        _post(b"Content-Length: 0_2\r\n\r\n", b"{}"),
        _post(b"Content-Length: -2\r\n\r\n", b"{}"),
        _post(b"Transfer-Encoding: chunked\r\n\r\n", b"0x5_1\r\n" + b"a" * 81 + b"\r\n0\r\n\r\n"),
        _post(b"Transfer-Encoding: chunked\r\n\r\n", b"-1\r\n"),
    ],
    ids=[
        "CL-then-TE",
        "TE-then-CL",
        "TE-gzip-alone",
        "TE-xchunked",
        "TE-chunked-not-last",
        "conflicting-CL",
        "CL-plus-sign",
        "CL-underscore",
        "CL-negative",
        "chunk-size-0x5_1",
        "chunk-size-minus-1",
    ],
)
def test_5_ambiguous_framing_is_refused_and_nothing_after_it_is_served(
    server: LocalServer, request_bytes: bytes
) -> None:
    reply = exchange(server.port, request_bytes + SMUGGLED)
    assert statuses(reply) == [400], reply[:500]


def test_5_a_well_framed_request_still_gets_its_pipelined_follower_answered(server: LocalServer) -> None:
    # The control for the probes above: one clean POST (a 400 for its empty body) and the GET after it are both
    # answered, so a single 400 above means the follower was refused, not lost.
    reply = exchange(
        server.port,
        _post(b"Content-Length: 2\r\n\r\n", b"{}") + SMUGGLED + b"GET /v1/files HTTP/1.1\r\n"
        b"Host: x\r\n" + AUTH + b"Connection: close\r\n\r\n",
    )
    assert statuses(reply) == [400, 200, 200]


# --- 6. no idle timeout, a thread per connection


def test_6_silent_connections_cost_no_thread_and_are_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    with run_server(tmp_path, api_keys=[KEY], tick=0, idle_timeout=1.0) as server:
        threads = threading.active_count()
        sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) for _ in range(300)]
        try:
            # Once the server has accepted them (an answer on a fresh connection proves the backlog is drained)...
            with api_client(server) as client:
                assert client.get("/files").status_code == 200
            assert threading.active_count() - threads < 10
            # ...each is closed by the server, none left waiting for a request that never comes.
            assert all(closed_by_server(sock) for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()


def test_6_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_idle_timeout(tmp_path: Path) -> None:
    with (
        run_server(tmp_path, api_keys=[KEY], tick=0, idle_timeout=1.0) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock,
    ):
        sock.sendall(b"GET /v1/files HTTP/1.1\r\n")
        deadline = time.monotonic() + PATIENCE
        with pytest.raises(OSError):  # the server closed the connection while the client was still trickling
            while time.monotonic() < deadline:
                sock.sendall(b"X")
                time.sleep(0.1)
        assert time.monotonic() < deadline


def test_6_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(tmp_path: Path) -> None:
    with run_server(tmp_path, api_keys=[KEY], tick=0, idle_timeout=1.0) as server:
        reply = exchange(server.port, _post(b"Content-Length: 1000\r\n\r\n", b'{"input_file_id": '))
    assert statuses(reply) == [408]
    assert b'"error"' in reply


# --- 7. accepting any key from the network


def test_7_a_network_host_without_an_api_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--data-dir", "d"]) == 2
    assert "--allow-any-key" in capsys.readouterr().err
    with pytest.raises(ValueError, match="allow-any-key"), run_server("d", host="0.0.0.0"):
        pass


def test_7_allow_any_key_is_needed_and_said_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config, _ = config_from_args(["--host", "0.0.0.0", "--data-dir", "d", "--allow-any-key"], {})
    assert config.allow_any_key and config.api_keys == ()
    assert config_from_args(["--host", "::1", "--data-dir", "d"], {})[0].api_keys == ()  # loopback needs no flag
    caplog.set_level("INFO", logger="openai_batches_server")
    with run_server(tmp_path, host="0.0.0.0", allow_any_key=True, tick=0) as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/v1/files", headers={"Authorization": "Bearer x"})
        assert response.status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("accepting any non-empty key from anyone who can reach 0.0.0.0" in line for line in warnings), warnings


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_7_an_empty_api_key_is_refused(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["serve", "--data-dir", "d", "--api-key", value]) == 2
    assert "--api-key must not be empty" in capsys.readouterr().err


# --- 8. small ones


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "PUT", "PATCH", "PURGE", "PROPFIND"])
def test_8_other_methods_on_a_known_path_are_405_with_allow(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/files")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert_error(response, 405)
    assert client.request(method, "/batches/batch_x/cancel").headers["allow"] == "POST"


def test_8_a_method_the_http_parser_does_not_know_is_refused_as_malformed(server: LocalServer) -> None:
    reply = exchange(server.port, b"FROBNICATE /v1/files HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n")
    assert statuses(reply) == [400]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/files?limit=", "limit"),
        ("/files?order=", "order"),
        ("/batches?limit=", "limit"),
        ("/files?limit=1&limit=2", "limit"),
    ],
)
def test_8_a_blank_or_repeated_query_parameter_is_refused(client: httpx.Client, path: str, param: str) -> None:
    assert_error(client.get(path), 400, param=param)


def test_8_two_purpose_fields_are_refused_not_last_one_wins(client: httpx.Client) -> None:
    response = client.post(
        "/files", files=[("file", ("a.jsonl", b"x")), ("purpose", (None, b"batch")), ("purpose", (None, b"user_data"))]
    )
    assert_error(response, 400, param="purpose", code="duplicate_parameter")
    assert client.get("/files").json()["data"] == []


def test_8_an_encoded_slash_in_an_id_is_part_of_the_id(client: httpx.Client) -> None:
    file_id = upload(client, b"secret bytes", purpose="user_data")["id"]
    response = client.get(f"/files/{file_id}%2Fcontent")
    error = assert_error(response, 404, param="id")
    assert error["message"] == f"No such File object: {file_id}/content"
    assert client.get(f"/files/{file_id}/content").content == b"secret bytes"


def test_8_a_rejected_long_key_is_not_echoed_back(server: LocalServer) -> None:
    key = "sk-" + "k" * 60_000 + "tail"
    response = httpx.get(server.base_url + "/files", headers={"Authorization": f"Bearer {key}"}, verify=TLS)
    error = assert_error(response, 401, code="invalid_api_key")
    assert len(response.content) < 1024
    assert "k" * 100 not in error["message"] and error["message"].count("*") <= 32


# --- 9. responder bodies the official SDK refuses


def test_9_responses_results_parse_as_the_official_sdks_response(client: httpx.Client) -> None:
    lines = [
        {
            "custom_id": f"r{n}",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": "gpt-4.1-mini", "input": f"hi {n}"},
        }
        for n in range(3)
    ]
    batch = run_batch(client, lines, "/v1/responses")
    assert batch["status"] == "completed"
    for line in read_lines(client, batch["output_file_id"]):
        body = line["response"]["body"]
        assert body["usage"]["input_tokens_details"]["cache_write_tokens"] == 0
        parsed = sdk_responses.Response.model_validate(body)
        assert parsed.output_text.startswith("Echo: hi ")
