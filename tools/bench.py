"""Benchmark: this client against the floor (bare httpx + json.loads) and the official `openai` SDK (issues 6, 14).

    python tools/bench.py                  # the full run (`make bench`), about three minutes
    python tools/bench.py --smoke          # seconds long, for CI (`make bench-smoke` runs it from a test)
    python tools/bench.py --json out.json  # also write every number
    python tools/bench.py --profile list_100   # cProfile of this client's path for one operation, then exit
    python tools/bench.py --decoders       # only the JSON decoders on the fixtures (json, msgspec, orjson if there)
    python tools/bench.py --without-speed  # as installed without the `speed` extra: msgspec hidden, stdlib JSON
    python tools/bench.py --jobs-only      # only the jobs section (planning and merging a million requests)
    python tools/bench.py --jobs-loop      # only the event loop's lag while an async job merges 50,000 lines
    python tools/bench.py --tables-only    # only the tables section (a finished job exported as Parquet, Arrow, ...)
    python tools/bench.py --server-only --baseline-server OLD/server   # the local server against another tree's

The last section measures the local server itself (`bench_server.py`): uploads/s and retrieves/s at 1 and 64
concurrent clients, and with `--baseline-server` the same against another checkout's server, interleaved; then how
file listings grow from 1,000 to 20,000 files (`bench_server_listing.py`, issue 20).

The floor is the leanest correct use of httpx (issue 14): URLs built once as text, one status check
(`status_code == 200`), `json.loads` of the bytes. The floor before issue 14 (a `base_url` client, query `params=`,
`raise_for_status()`) runs beside it as "old floor" for one release, so both ratios can be read; every ratio is to
the lean floor unless a column says otherwise.

All contenders run in one process, interleaved: each round runs every contender once per operation, in an order that
rotates from round to round, so a change in machine load hits all of them alike. Ratios to the floor are taken per
round (contender time / floor time of the same round) and summarised as median (min-max). Each contender's turn in a
round is a block of calls long enough to time reliably; its time per operation is the block's time divided by its
calls. Two transports: an in-process `httpx.MockTransport` (client cost only) and a threaded stdlib HTTP/1.1 server
on 127.0.0.1 in a child process (real sockets and connection reuse, without the server competing for this process's
GIL). Both answer from prebuilt bytes of realistic fixtures, so the server's cost is the same for every contender.

The jobs section (issue 11) runs a job's local work in a child process per size, 100,000 and 1,000,000 small
requests: reading and indexing the input, planning shards, writing their upload files, merging a result file per
shard, and writing the merged results. It reports lines per second for each phase and the child's peak RSS; the
ratio of the two sizes' peaks shows whether memory stays flat in the size of a job (target: at most 1.2).

The event-loop section (issue 19, `bench_jobs_loop.py`) runs one `AsyncBatchClient` job of 50,000 requests in one
batch against the local server, with a 5 ms ticker on the same event loop: the worst lag of the loop (how late the
ticker woke) over the whole run and per phase, the merge of the batch's results among them (target: under 50 ms),
and the run's wall time beside the same job run with the sync `BatchClient`.

The tables section (issue 22, `bench_tables.py`) exports a finished job of 100,000 and of 1,000,000 requests with
`write_parquet`, `write_csv`, `to_arrow` and `write_report`, each in a child process: rows per second and peak RSS,
and the peak ratio of the two sizes (target for the streamed writers: within 1.2x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import gc
import http.client
import json
import os
import platform
import random
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_jobs_loop
import bench_server
import bench_server_listing
import bench_tables
import httpx

API_KEY = "sk-bench-0000000000000000000000000000000000000000"
API_PATH = "/v1"
MOCK_BASE_URL = "https://api.openai.com/v1"
BATCH_ID = "batch_68f7c2b1c5d88190a1e1d4e2a9f1b2c3"
RESULTS_BATCH_ID = "batch_68f7c2b1c5d88190ffee00112233aabb"
RESULTS_FILE_ID = "file-Rk7Ts2HqVw9LmXc4NbP8Ea"
# The first tenth of the results file, to show that parsing memory does not grow with the file.
RESULTS_SMALL_BATCH_ID = "batch_68f7c2b1c5d88190ffee00112233cc00"
RESULTS_SMALL_FILE_ID = "file-Sm4llR3sultsPr3f1xOnly0"
INPUT_FILE_ID = "file-9GhKq2Lr7TmWc4XnZpB1sD"
SEED = 20_251_006
PAGE_SIZE = 100
CHUNK = 64 * 1024
STATS_PATH = "/__bench/connections"

CREATE_ARGS: dict[str, Any] = {
    "input_file_id": INPUT_FILE_ID,
    "endpoint": "/v1/chat/completions",
    "completion_window": "24h",
    "metadata": {"customer_id": "user_123456789", "job": "nightly-eval"},
}

FLOOR, OLD_FLOOR, OPENAI, CLIENT = "floor", "old_floor", "openai", "client"
CONTENDERS = (FLOOR, OLD_FLOOR, OPENAI, CLIENT)
# The memory section compares the floor's dicts, the SDK's and this client's models; the old floor's are the same.
MEMORY_CONTENDERS = (FLOOR, OPENAI, CLIENT)
LABELS = {
    FLOOR: "floor: httpx + json.loads",
    OLD_FLOOR: "old floor (before issue 14)",
    OPENAI: "openai SDK",
    CLIENT: "openai_batches",
}
ASYNC_LABELS = {
    FLOOR: "floor: httpx.AsyncClient + json.loads",
    OLD_FLOOR: "old floor (before issue 14)",
    OPENAI: "openai.AsyncOpenAI",
    CLIENT: "AsyncBatchClient",
}
RESULTS_LABELS = {FLOOR: "floor: httpx stream + json.loads per line", CLIENT: "client.batches.results"}

SYNC_OPS = ("retrieve", "create", "cancel", "list_100", "walk_pages")
ASYNC_OP = "async_retrieve_64"
OPS = (*SYNC_OPS, ASYNC_OP)
TRANSPORTS = ("mock", "loopback")
TRANSPORT_TITLES = {
    "mock": "mock transport: httpx.MockTransport, in process",
    "loopback": "loopback: threaded stdlib HTTP/1.1 server on 127.0.0.1 (child process), keep-alive",
}


@dataclass(frozen=True)
class Params:
    rounds: int
    walk_pages: int
    walk_pages_small: int
    block_seconds: float
    results_mb: float
    results_rounds: int
    import_runs: int
    jobs_sizes: tuple[int, int] = (100_000, 1_000_000)
    page_size: int = PAGE_SIZE
    concurrency: int = 64
    smoke: bool = False
    server_rounds: int = 7
    server_block_seconds: float = 0.5
    jobs_loop_requests: int = 50_000
    tables_sizes: tuple[int, int] = (100_000, 1_000_000)


FULL = Params(
    rounds=15, walk_pages=50, walk_pages_small=5, block_seconds=0.04, results_mb=20, results_rounds=5, import_runs=7
)
SMOKE = Params(
    rounds=3,
    walk_pages=5,
    walk_pages_small=2,
    block_seconds=0.002,
    results_mb=1,
    results_rounds=2,
    import_runs=2,
    jobs_sizes=(2_000, 20_000),
    smoke=True,
    server_rounds=2,
    server_block_seconds=0.1,
    jobs_loop_requests=2_000,
    tables_sizes=(2_000, 20_000),
)


# --------------------------------------------------------------------------------------------------------- fixtures


def _token(rng: random.Random, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _batch(rng: random.Random, batch_id: str, created_at: int, status: str = "completed") -> dict[str, Any]:
    """A Batch with every field the API returns today; about 820 bytes as compact JSON."""
    total = rng.randint(200, 5000)
    failed = rng.randint(0, 12)
    input_tokens = total * rng.randint(150, 900)
    output_tokens = total * rng.randint(40, 400)
    done = status == "completed"
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "model": "gpt-4o-mini-2024-07-18",
        "errors": None,
        "input_file_id": "file-" + _token(rng, 22),
        "completion_window": "24h",
        "status": status,
        "output_file_id": "file-" + _token(rng, 22) if done else None,
        "error_file_id": "file-" + _token(rng, 22) if done and failed else None,
        "created_at": created_at,
        "in_progress_at": created_at + rng.randint(5, 60) if status != "validating" else None,
        "expires_at": created_at + 86400,
        "finalizing_at": created_at + rng.randint(600, 20000) if done else None,
        "completed_at": created_at + rng.randint(20001, 40000) if done else None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": created_at + 90 if status == "cancelling" else None,
        "cancelled_at": None,
        "request_counts": {
            "total": total,
            "completed": total - failed if done else 0,
            "failed": failed if done else 0,
        },
        "usage": {
            "input_tokens": input_tokens if done else 0,
            "input_tokens_details": {"cached_tokens": input_tokens // 3 if done else 0},
            "output_tokens": output_tokens if done else 0,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens if done else 0,
        },
        "metadata": {"customer_id": f"user_{rng.randint(10**8, 10**9 - 1)}", "job": "nightly-eval"},
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


_TEXT = (
    "the model answered each request with a short summary of the ticket, naming the product, the customer's "
    "problem and the next step; où l'équipe a noté déjà une réponse — and the batch kept every line in order "
    "so that the results can be joined back to their custom ids without loading the file"
)


def _result_line(rng: random.Random, number: int, paragraphs: Sequence[str]) -> bytes:
    content = paragraphs[rng.randrange(len(paragraphs))]
    prompt_tokens = rng.randint(80, 900)
    completion_tokens = len(content) // 4
    line = {
        "id": f"batch_req_{rng.getrandbits(128):032x}",
        "custom_id": f"request-{number:07d}",
        "response": {
            "status_code": 200,
            "request_id": f"{rng.getrandbits(128):032x}",
            "body": {
                "id": "chatcmpl-" + _token(rng, 29),
                "object": "chat.completion",
                "created": 1_760_000_000 + number,
                "model": "gpt-4o-mini-2024-07-18",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {
                        "reasoning_tokens": 0,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                },
                "service_tier": "default",
                "system_fingerprint": "fp_560af6e559",
            },
        },
        "error": None,
    }
    # The output file uses json.dumps' default separators, like the service's files.
    return json.dumps(line, ensure_ascii=False).encode()


@dataclass
class Fixtures:
    """Every body both transports serve, built deterministically so the server process builds the same bytes."""

    batch: bytes
    created: bytes
    cancelled: bytes
    pages: list[bytes]
    page_after: dict[str, int]
    results_batch: bytes
    results_file: bytes
    results_file_object: bytes
    results_lines: int
    batch_size: int
    results_small_batch: bytes
    results_small_file: bytes

    @classmethod
    def build(cls, pages: int, page_size: int, results_mb: float) -> Fixtures:
        rng = random.Random(SEED)
        batch = _batch(rng, BATCH_ID, 1_760_000_000)
        created = _batch(rng, BATCH_ID, 1_760_000_000, status="validating")
        cancelled = _batch(rng, BATCH_ID, 1_760_000_000, status="cancelling")
        page_bodies: list[bytes] = []
        page_after: dict[str, int] = {}
        created_at = 1_760_000_000
        for number in range(pages):
            data = []
            for _ in range(page_size):
                created_at -= rng.randint(30, 3600)
                data.append(_batch(rng, f"batch_{rng.getrandbits(128):032x}", created_at))
            page_bodies.append(
                _dumps(
                    {
                        "object": "list",
                        "data": data,
                        "first_id": data[0]["id"],
                        "last_id": data[-1]["id"],
                        "has_more": number < pages - 1,
                    }
                )
            )
            if number < pages - 1:
                page_after[data[-1]["id"]] = number + 1
        words = _TEXT.split()
        paragraphs = [
            " ".join(rng.choice(words) for _ in range(rng.randint(30, 160))).capitalize() + "." for _ in range(97)
        ]
        lines: list[bytes] = []
        size = 0
        while size < results_mb * 1_000_000:
            lines.append(_result_line(rng, len(lines) + 1, paragraphs))
            size += len(lines[-1]) + 1
        results_file = b"\n".join(lines) + b"\n"
        results_batch = _batch(rng, RESULTS_BATCH_ID, 1_760_000_000)
        counts = {"total": len(lines), "completed": len(lines), "failed": 0}
        results_batch.update(output_file_id=RESULTS_FILE_ID, error_file_id=None, request_counts=counts)
        small_lines = lines[: max(1, len(lines) // 10)]
        small_batch = dict(results_batch, id=RESULTS_SMALL_BATCH_ID, output_file_id=RESULTS_SMALL_FILE_ID)
        file_object = {
            "id": RESULTS_FILE_ID,
            "object": "file",
            "bytes": len(results_file),
            "created_at": 1_760_040_000,
            "expires_at": None,
            "filename": "batch_output.jsonl",
            "purpose": "batch_output",
            "status": "processed",
            "status_details": None,
        }
        return cls(
            batch=_dumps(batch),
            created=_dumps(created),
            cancelled=_dumps(cancelled),
            pages=page_bodies,
            page_after=page_after,
            results_batch=_dumps(results_batch),
            results_file=results_file,
            results_file_object=_dumps(file_object),
            results_lines=len(lines),
            batch_size=len(_dumps(batch)),
            results_small_batch=_dumps(small_batch),
            results_small_file=b"\n".join(small_lines) + b"\n",
        )

    def route(self, method: str, path: str, query: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request; both transports answer through this."""
        json_type = "application/json"
        if path.startswith(API_PATH):
            path = path[len(API_PATH) :]
        if method == "GET" and path == "/batches":
            after = _query_value(query, "after")
            index = 0 if after is None else self.page_after.get(after)
            if index is not None and _query_value(query, "limit") == "100":
                return 200, json_type, self.pages[index]
        elif method == "GET" and path == f"/batches/{BATCH_ID}":
            return 200, json_type, self.batch
        elif method == "GET" and path == f"/batches/{RESULTS_BATCH_ID}":
            return 200, json_type, self.results_batch
        elif method == "POST" and path == "/batches":
            return 200, json_type, self.created
        elif method == "POST" and path == f"/batches/{BATCH_ID}/cancel":
            return 200, json_type, self.cancelled
        elif method == "GET" and path == f"/files/{RESULTS_FILE_ID}":
            return 200, json_type, self.results_file_object
        elif method == "GET" and path == f"/files/{RESULTS_FILE_ID}/content":
            return 200, "application/octet-stream", self.results_file
        elif method == "GET" and path == f"/batches/{RESULTS_SMALL_BATCH_ID}":
            return 200, json_type, self.results_small_batch
        elif method == "GET" and path == f"/files/{RESULTS_SMALL_FILE_ID}/content":
            return 200, "application/octet-stream", self.results_small_file
        error = {"error": {"message": f"bench fixture has no {method} {path}?{query}", "type": "invalid_request_error"}}
        return 404, json_type, _dumps(error)


def _query_value(query: str, name: str) -> str | None:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return None


# Headers the real API sends with every answer, so header parsing costs what it costs in production.
_EXTRA_HEADERS = [
    ("date", "Mon, 06 Oct 2025 12:00:00 GMT"),
    ("openai-version", "2020-10-01"),
    ("openai-organization", "org-bench"),
    ("openai-processing-ms", "42"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
    ("cf-cache-status", "DYNAMIC"),
    ("x-content-type-options", "nosniff"),
    ("server", "cloudflare"),
    ("cf-ray", "98a1b2c3d4e5f607-AMS"),
    ("alt-svc", 'h3=":443"; ma=86400'),
]


# -------------------------------------------------------------------------------------------------- mock transport


class _ChunkedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A large body handed over in chunks, as a socket would, so a streaming parser can keep its memory flat."""

    def __init__(self, body: bytes) -> None:
        self._body = memoryview(body)

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._body), CHUNK):
            yield bytes(self._body[start : start + CHUNK])

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.__iter__():
            yield chunk

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def mock_handler(fixtures: Fixtures) -> Callable[[httpx.Request], httpx.Response]:
    cache: dict[tuple[str, bytes], tuple[int, list[tuple[str, str]], bytes]] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        # Routing once per distinct request keeps the transport's own cost tiny and equal for every contender.
        key = (request.method, request.url.raw_path)
        hit = cache.get(key)
        if hit is None:
            status, content_type, body = fixtures.route(request.method, request.url.path, request.url.query.decode())
            hit = cache[key] = (status, [("content-type", content_type), *_EXTRA_HEADERS], body)
        status, headers, body = hit
        if len(body) > CHUNK:
            headers = [*headers, ("content-length", str(len(body)))]
            return httpx.Response(status, headers=headers, stream=_ChunkedBody(body))
        return httpx.Response(status, headers=headers, content=body)

    return handle


# ------------------------------------------------------------------------------------------------ loopback server


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # 64 concurrent connects would overflow the default backlog of 5, and a dropped SYN costs a one-second retry.
    request_queue_size = 256

    def __init__(self, fixtures: Fixtures) -> None:
        self.fixtures = fixtures
        self.connections = 0
        self.answers: dict[tuple[bytes, bytes], bytes] = {}
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def answer(self, method: bytes, target: bytes) -> bytes:
        key = (method, target)
        cached = self.answers.get(key)
        if cached is not None:
            return cached
        path, _, query = target.decode().partition("?")
        if path == STATS_PATH:
            status, content_type, body = 200, "application/json", _dumps({"connections": self.connections})
        else:
            status, content_type, body = self.fixtures.route(method.decode(), path, query)
        reason = http.client.responses.get(status, "Unknown")
        head = [f"HTTP/1.1 {status} {reason}", f"content-type: {content_type}", f"content-length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in _EXTRA_HEADERS]
        head.append("connection: keep-alive")
        response = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        if path != STATS_PATH:
            with self.lock:
                self.answers[key] = response
        return response


class _Handler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True
    server: _Server

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            if not line.strip():
                continue
            method, target, _version = line.split()
            length = 0
            close = False
            while True:
                header = self.rfile.readline(65537)
                if header in (b"\r\n", b"\n", b""):
                    break
                name, _, value = header.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection":
                    close = value.strip().lower() == b"close"
            if length:
                self.rfile.read(length)
            self.wfile.write(self.server.answer(method, target))
            if close:
                return


def serve(params: Params) -> None:
    """The child process: build the fixtures, print the port, serve until the parent closes our stdin."""
    fixtures = Fixtures.build(params.walk_pages, params.page_size, params.results_mb)
    server = _Server(fixtures)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


class LoopbackServer:
    def __init__(self, args: Sequence[str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--serve", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        port_line = self._process.stdout.readline()
        if not port_line.strip().isdigit():
            self.close()
            raise RuntimeError(f"the loopback server did not start (said {port_line!r})")
        self.port = int(port_line)
        self.base_url = f"http://127.0.0.1:{self.port}{API_PATH}"
        self._stats = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def connections(self) -> int:
        """Connections the server has accepted so far (one of them is this counter's own)."""
        self._stats.request("GET", STATS_PATH)
        response = self._stats.getresponse()
        count: int = json.loads(response.read())["connections"]
        return count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stats.close()
        with contextlib.suppress(Exception):
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# ------------------------------------------------------------------------------------------------------ contenders


@dataclass(frozen=True)
class FloorURLs:
    """The lean floor's URLs, built once as text; only a walk's cursor is appended per page."""

    retrieve: str
    create: str
    cancel: str
    first_page: str
    next_page: str
    results: str

    @classmethod
    def of(cls, base_url: str) -> FloorURLs:
        batches = f"{base_url}/batches"
        return cls(
            retrieve=f"{batches}/{BATCH_ID}",
            create=batches,
            cancel=f"{batches}/{BATCH_ID}/cancel",
            first_page=f"{batches}?limit={PAGE_SIZE}",
            next_page=f"{batches}?limit={PAGE_SIZE}&after=",
            results=f"{base_url}/files/{RESULTS_FILE_ID}/content",
        )


@dataclass
class Contenders:
    """The eight clients of one transport; each has its own connection pool."""

    transport: str
    urls: FloorURLs
    sync: dict[str, Any]
    asynchronous: dict[str, Any]
    pools: list[httpx.Client] = field(default_factory=list)
    async_pools: list[httpx.AsyncClient] = field(default_factory=list)

    def close(self, runner: asyncio.Runner) -> None:
        for pool in self.pools:
            pool.close()
        for async_pool in self.async_pools:
            runner.run(async_pool.aclose())


def make_contenders(transport: str, base_url: str, fixtures: Fixtures, concurrency: int) -> Contenders:
    import openai
    from openai_batches import AsyncBatchClient, BatchClient

    handler = mock_handler(fixtures)
    # Enough kept-alive connections for the concurrent test, so every contender reuses its pool the same way. With 64
    # pooled connections, httpcore's own pool bookkeeping (quadratic in the connections, encode/httpcore#1035) takes
    # most of a loopback gather's time for every contender alike; the mock transport shows the clients' own cost.
    limits = httpx.Limits(
        max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2, keepalive_expiry=3600
    )
    pools: list[httpx.Client] = []
    async_pools: list[httpx.AsyncClient] = []

    def sync_http(**kwargs: Any) -> httpx.Client:
        # An explicit transport also keeps proxy variables from the environment out of the way.
        t = httpx.MockTransport(handler) if transport == "mock" else httpx.HTTPTransport(limits=limits)
        pools.append(httpx.Client(transport=t, **kwargs))
        return pools[-1]

    def async_http(**kwargs: Any) -> httpx.AsyncClient:
        t = httpx.MockTransport(handler) if transport == "mock" else httpx.AsyncHTTPTransport(limits=limits)
        async_pools.append(httpx.AsyncClient(transport=t, **kwargs))
        return async_pools[-1]

    auth = {"Authorization": f"Bearer {API_KEY}"}
    # The SDK's annotations name its own httpx2 fork, but it takes httpx clients as they are (it checks for both and
    # sends through the given client), so every contender runs on the same HTTP stack.
    return Contenders(
        transport=transport,
        urls=FloorURLs.of(base_url),
        sync={
            FLOOR: sync_http(headers=auth),
            OLD_FLOOR: sync_http(base_url=base_url, headers=auth),
            OPENAI: openai.OpenAI(
                api_key=API_KEY,
                base_url=base_url,
                http_client=sync_http(),  # type: ignore[arg-type]
                max_retries=0,
            ),
            CLIENT: BatchClient(api_key=API_KEY, base_url=base_url, http_client=sync_http(), max_retries=0),
        },
        asynchronous={
            FLOOR: async_http(headers=auth),
            OLD_FLOOR: async_http(base_url=base_url, headers=auth),
            OPENAI: openai.AsyncOpenAI(
                api_key=API_KEY,
                base_url=base_url,
                http_client=async_http(),  # type: ignore[arg-type]
                max_retries=0,
            ),
            CLIENT: AsyncBatchClient(api_key=API_KEY, base_url=base_url, http_client=async_http(), max_retries=0),
        },
        pools=pools,
        async_pools=async_pools,
    )


# Every operation returns how many objects it handled, checked equal across contenders before timing starts. Each
# reads `id` and `status` of what it got, so a client that parses lazily still pays for what a caller looks at.


def _floor_json(response: httpx.Response) -> Any:
    """The lean floor's check and decode: one status comparison, `json.loads` of the bytes."""
    if response.status_code != 200:
        raise RuntimeError(f"floor: status {response.status_code} for {response.request.url}")
    return json.loads(response.content)


def _old_floor_json(response: httpx.Response) -> Any:
    """The floor before issue 14: `raise_for_status()` (several checks and a property per call), then decode."""
    response.raise_for_status()
    return json.loads(response.content)


def _touch(items: Iterator[Any] | Sequence[Any]) -> int:
    return sum(1 for item in items if item.id and item.status)


def _touch_dicts(items: Sequence[dict[str, Any]]) -> int:
    return sum(1 for item in items if item["id"] and item["status"])


def walkers(c: Contenders, params: Params) -> dict[str, Callable[[int], int]]:
    """Walk up to a number of pages, reading every item without keeping it; returns the items seen."""
    floor, old_floor, sdk, client = c.sync[FLOOR], c.sync[OLD_FLOOR], c.sync[OPENAI], c.sync[CLIENT]
    size, urls = params.page_size, c.urls

    def floor_walk(pages: int) -> int:
        count, url = 0, urls.first_page
        for _ in range(pages):
            page = _floor_json(floor.get(url))
            count += _touch_dicts(page["data"])
            if not page["has_more"]:
                break
            url = urls.next_page + page["data"][-1]["id"]
        return count

    def old_floor_walk(pages: int) -> int:
        count, after = 0, None
        for _ in range(pages):
            query: dict[str, Any] = {"limit": size} if after is None else {"limit": size, "after": after}
            page = _old_floor_json(old_floor.get("/batches", params=query))
            count += _touch_dicts(page["data"])
            if not page["has_more"]:
                break
            after = page["data"][-1]["id"]
        return count

    def sdk_walk(lister: Callable[..., Any], pages: int) -> int:
        # Both SDKs fetch the next page only when iteration reaches it, so stopping at the last item needed stops
        # the requests there too.
        count = 0
        for item in lister(limit=size):
            if item.id and item.status:
                count += 1
            if count >= pages * size:
                break
        return count

    return {
        FLOOR: floor_walk,
        OLD_FLOOR: old_floor_walk,
        OPENAI: functools.partial(sdk_walk, sdk.batches.list),
        CLIENT: functools.partial(sdk_walk, client.batches.list),
    }


def sync_operations(c: Contenders, params: Params) -> dict[str, dict[str, Callable[[], int]]]:
    floor, old_floor, sdk, client = c.sync[FLOOR], c.sync[OLD_FLOOR], c.sync[OPENAI], c.sync[CLIENT]
    size, urls = params.page_size, c.urls
    walk = walkers(c, params)
    return {
        "retrieve": {
            FLOOR: lambda: _touch_dicts([_floor_json(floor.get(urls.retrieve))]),
            OLD_FLOOR: lambda: _touch_dicts([_old_floor_json(old_floor.get(f"/batches/{BATCH_ID}"))]),
            OPENAI: lambda: _touch([sdk.batches.retrieve(BATCH_ID)]),
            CLIENT: lambda: _touch([client.batches.retrieve(BATCH_ID)]),
        },
        "create": {
            FLOOR: lambda: _touch_dicts([_floor_json(floor.post(urls.create, json=CREATE_ARGS))]),
            OLD_FLOOR: lambda: _touch_dicts([_old_floor_json(old_floor.post("/batches", json=CREATE_ARGS))]),
            OPENAI: lambda: _touch([sdk.batches.create(**CREATE_ARGS)]),
            CLIENT: lambda: _touch([client.batches.create(**CREATE_ARGS)]),
        },
        "cancel": {
            FLOOR: lambda: _touch_dicts([_floor_json(floor.post(urls.cancel))]),
            OLD_FLOOR: lambda: _touch_dicts([_old_floor_json(old_floor.post(f"/batches/{BATCH_ID}/cancel"))]),
            OPENAI: lambda: _touch([sdk.batches.cancel(BATCH_ID)]),
            CLIENT: lambda: _touch([client.batches.cancel(BATCH_ID)]),
        },
        "list_100": {
            FLOOR: lambda: _touch_dicts(_floor_json(floor.get(urls.first_page))["data"]),
            OLD_FLOOR: lambda: _touch_dicts(_old_floor_json(old_floor.get("/batches", params={"limit": size}))["data"]),
            OPENAI: lambda: _touch(sdk.batches.list(limit=size).data),
            CLIENT: lambda: _touch(client.batches.list(limit=size).data),
        },
        "walk_pages": {name: functools.partial(fn, params.walk_pages) for name, fn in walk.items()},
    }


def retainers(c: Contenders, params: Params) -> dict[str, Callable[[], list[Any]]]:
    """Fetch one page of batches and hand back only its items (for the memory-per-Batch measurement)."""
    floor, sdk, client = c.sync[FLOOR], c.sync[OPENAI], c.sync[CLIENT]
    size, urls = params.page_size, c.urls

    def kept(items: Sequence[Any], touch: Callable[[Sequence[Any]], int]) -> list[Any]:
        touch(items)  # read like the timed operations do, so what lazy parsing builds on access is counted
        return list(items)

    return {
        FLOOR: lambda: kept(_floor_json(floor.get(urls.first_page))["data"], _touch_dicts),
        OPENAI: lambda: kept(sdk.batches.list(limit=size).data, _touch),
        CLIENT: lambda: kept(client.batches.list(limit=size).data, _touch),
    }


def async_operations(c: Contenders, params: Params) -> dict[str, Callable[[], Awaitable[int]]]:
    floor, old_floor = c.asynchronous[FLOOR], c.asynchronous[OLD_FLOOR]
    sdk, client = c.asynchronous[OPENAI], c.asynchronous[CLIENT]
    n, url = params.concurrency, c.urls.retrieve

    async def floor_many() -> int:
        responses = await asyncio.gather(*(floor.get(url) for _ in range(n)))
        return _touch_dicts([_floor_json(response) for response in responses])

    async def old_floor_many() -> int:
        responses = await asyncio.gather(*(old_floor.get(f"/batches/{BATCH_ID}") for _ in range(n)))
        return _touch_dicts([_old_floor_json(response) for response in responses])

    async def sdk_many(retrieve: Callable[[str], Awaitable[Any]]) -> int:
        return _touch(await asyncio.gather(*(retrieve(BATCH_ID) for _ in range(n))))

    return {
        FLOOR: floor_many,
        OLD_FLOOR: old_floor_many,
        OPENAI: functools.partial(sdk_many, sdk.batches.retrieve),
        CLIENT: functools.partial(sdk_many, client.batches.retrieve),
    }


def results_available(c: Contenders) -> bool:
    return hasattr(c.sync[CLIENT].batches, "results")


def results_operations(c: Contenders, small: bool = False) -> dict[str, Callable[[], int]]:
    """Parse the results file (or its first tenth): the floor streams it with httpx and `json.loads` each line."""
    floor, client = c.sync[FLOOR], c.sync[CLIENT]
    batch = client.batches.retrieve(RESULTS_SMALL_BATCH_ID if small else RESULTS_BATCH_ID)
    url = c.urls.results.replace(RESULTS_FILE_ID, RESULTS_SMALL_FILE_ID) if small else c.urls.results

    def floor_parse() -> int:
        count = 0
        with floor.stream("GET", url) as response:
            if response.status_code != 200:
                raise RuntimeError(f"floor: status {response.status_code} for {url}")
            for line in response.iter_lines():
                if line and json.loads(line)["custom_id"]:
                    count += 1
        return count

    def client_parse() -> int:
        count = 0
        with contextlib.ExitStack() as stack:
            results = client.batches.results(batch)
            if hasattr(results, "__enter__"):
                results = stack.enter_context(results)
            for result in results:
                if result.custom_id:
                    count += 1
        return count

    return {FLOOR: floor_parse, CLIENT: client_parse}


# ----------------------------------------------------------------------------------------------------------- timing


@dataclass
class Series:
    """One contender's seconds per operation, one value per round."""

    seconds: list[float] = field(default_factory=list)
    calls: int = 0
    connections: int = 0
    requests: int = 0


def _timed(fn: Callable[[], int], n: int) -> float:
    # Collect first, so a contender does not pay for the garbage the previous one left behind.
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - start) / n / 1e9


async def _timed_async(fn: Callable[[], Awaitable[int]], n: int) -> float:
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(n):
        await fn()
    return (time.perf_counter_ns() - start) / n / 1e9


def _calls_for(seconds_per_call: float, params: Params) -> int:
    return max(1, min(5000, round(params.block_seconds / max(seconds_per_call, 1e-9))))


def _check_counts(what: str, counts: dict[str, int]) -> None:
    if len(set(counts.values())) != 1 or 0 in counts.values():
        raise RuntimeError(f"{what}: the contenders handled different numbers of objects: {counts}")


def _rotated(names: Sequence[str], shift: int) -> list[str]:
    shift %= len(names)
    return [*names[shift:], *names[:shift]]


def _requests_per_call(op: str, params: Params) -> int:
    return {"walk_pages": params.walk_pages, ASYNC_OP: params.concurrency}.get(op, 1)


def run_rounds(
    all_contenders: list[Contenders],
    servers: dict[str, LoopbackServer],
    runner: asyncio.Runner,
    params: Params,
) -> dict[str, dict[str, dict[str, Series]]]:
    """Warm up and size every block, then the interleaved rounds. Returns transport -> op -> contender -> Series."""
    plans: list[tuple[str, str, dict[str, Callable[[], Any]], bool]] = []
    for c in all_contenders:
        ops: dict[str, dict[str, Callable[[], Any]]] = dict(sync_operations(c, params))
        ops[ASYNC_OP] = dict(async_operations(c, params))
        plans += [(c.transport, op, ops[op], op == ASYNC_OP) for op in OPS]

    def once(fn: Callable[[], Any], is_async: bool) -> int:
        result: int = runner.run(fn()) if is_async else fn()
        return result

    def block(fn: Callable[[], Any], is_async: bool, n: int) -> float:
        return runner.run(_timed_async(fn, n)) if is_async else _timed(fn, n)

    calls: dict[tuple[str, str, str], int] = {}
    for transport, op, fns, is_async in plans:
        counts = {}
        for name, fn in fns.items():
            counts[name] = once(fn, is_async)
            once(fn, is_async)
            # Doubling until a block is a quarter of the target: one timed call is too noisy to size a block by.
            n = 1
            while (per_call := block(fn, is_async, n)) * n < params.block_seconds / 4 and n < 5000:
                n *= 2
            calls[transport, op, name] = _calls_for(per_call, params)
        _check_counts(f"{transport} {op}", counts)
        print(f"  warmed up {transport:8s} {op}", file=sys.stderr, flush=True)

    series: dict[str, dict[str, dict[str, Series]]] = {}
    for transport, op, fns, _ in plans:
        series.setdefault(transport, {})[op] = {name: Series() for name in fns}
    for round_number in range(params.rounds):
        started = time.perf_counter()
        for index, (transport, op, fns, is_async) in enumerate(plans):
            server = servers.get(transport)
            for name in _rotated(list(fns), round_number + index):
                n = calls[transport, op, name]
                before = server.connections() if server else 0
                seconds = block(fns[name], is_async, n)
                entry = series[transport][op][name]
                entry.seconds.append(seconds)
                entry.calls += n
                entry.requests += n * _requests_per_call(op, params)
                if server:
                    entry.connections += server.connections() - before
        print(
            f"  round {round_number + 1}/{params.rounds} took {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    return series


def run_results_rounds(all_contenders: list[Contenders], params: Params) -> dict[str, dict[str, Series]]:
    plans = [(c.transport, results_operations(c)) for c in all_contenders]
    for transport, fns in plans:
        _check_counts(f"{transport} results", {name: fn() for name, fn in fns.items()})
    series = {transport: {name: Series() for name in fns} for transport, fns in plans}
    for round_number in range(params.results_rounds):
        for index, (transport, fns) in enumerate(plans):
            for name in _rotated(list(fns), round_number + index):
                series[transport][name].seconds.append(_timed(fns[name], 1))
                series[transport][name].calls += 1
        print(f"  results round {round_number + 1}/{params.results_rounds}", file=sys.stderr, flush=True)
    return series


# ----------------------------------------------------------------------------------------------------------- memory


def _traced(fn: Callable[[], Any]) -> tuple[Any, int, int]:
    """(result, bytes still held after fn returned, peak bytes while it ran), both above the starting point."""
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, current - start, peak - start


def measure_memory(c: Contenders, params: Params, with_results: bool) -> dict[str, Any]:
    retain = retainers(c, params)
    walk = walkers(c, params)
    per_batch: dict[str, float] = {}
    for name, fetch in retain.items():
        fetch()  # caches a first call fills are not what a retained Batch costs
        kept, held, _ = _traced(fetch)
        per_batch[name] = held / len(kept)
        del kept
    peaks: dict[str, dict[str, int]] = {}
    for name, walk_pages in walk.items():
        if name not in MEMORY_CONTENDERS:
            continue
        walk_pages(params.walk_pages)  # first visits fill caches (routing, URLs) that a steady walk does not grow
        peaks[name] = {}
        for pages in (params.walk_pages_small, params.walk_pages):
            count, _, peak = _traced(functools.partial(walk_pages, pages))
            if count != pages * params.page_size:
                raise RuntimeError(f"memory walk of {name} saw {count} items over {pages} pages")
            peaks[name][str(pages)] = peak
    memory: dict[str, Any] = {"bytes_per_batch": per_batch, "walk_peak_bytes": peaks}
    if with_results:
        results_peak: dict[str, dict[str, int]] = {}
        for size, small in (("small", True), ("large", False)):
            for name, parse in results_operations(c, small).items():
                parse()
                _, _, peak = _traced(parse)
                results_peak.setdefault(name, {})[size] = peak
        memory["results_peak_bytes"] = results_peak
    return memory


# ------------------------------------------------------------------------------------------------------ import time


def measure_imports(runs: int) -> dict[str, Any]:
    """Fresh interpreters, interleaved; each run's import time is `python -c "import x"` minus `python -c pass`.

    `import openai_batches` alone loads almost nothing (its exports load on first use). The target is judged on
    `from openai_batches import BatchClient` (httpx and the request path); the generated models load when a resource
    is first used, so the import of the batches resource is shown too: every module a first call needs.
    """
    commands = {
        "pass": "pass",
        "openai_batches": "import openai_batches",
        "openai_batches_client": "from openai_batches import BatchClient",
        # What `client.batches` loads on first use; constructing a client is left out, as `import openai` leaves it.
        "openai_batches_first_use": "from openai_batches import BatchClient; import openai_batches.resources.batches",
        "openai": "import openai",
    }

    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    for code in commands.values():  # the first run compiles bytecode and warms the file cache
        wall(code)
    samples: dict[str, list[float]] = {name: [] for name in commands if name != "pass"}
    ratios: dict[str, list[float]] = {"ratio": [], "client_ratio": [], "first_use_ratio": []}
    measured = {
        "ratio": "openai_batches",
        "client_ratio": "openai_batches_client",
        "first_use_ratio": "openai_batches_first_use",
    }
    for run in range(runs):
        times = {name: wall(commands[name]) for name in _rotated(list(commands), run)}
        for name in samples:
            samples[name].append(max(times[name] - times["pass"], 1e-6))
        for ratio, name in measured.items():
            ratios[ratio].append(samples[name][-1] / samples["openai"][-1])
    return {
        "seconds": samples,
        "median_seconds": {name: statistics.median(values) for name, values in samples.items()},
        **{ratio: _summary(values) for ratio, values in ratios.items()},
    }


# ---------------------------------------------------------------------------------------------------- JSON decoders


def measure_decoders(params: Params) -> dict[str, Any]:
    """json.loads, msgspec and orjson (each if installed) on the fixtures: a Batch, a page of 100, a results file
    line by line; and the client's whole parse into typed models, with msgspec shapes (the `speed` extra), with the
    standard library, and with orjson in msgspec's place (if installed), for the choice of decoder. Interleaved
    rounds, ratios to json.loads per round, medians."""
    import importlib

    from openai_batches import _models
    from openai_batches import types as public
    from openai_batches._models import build

    fixtures = Fixtures.build(1, params.page_size, params.results_mb / 4)
    lines = [line for line in fixtures.results_file.split(b"\n") if line]
    bodies = {"batch": [fixtures.batch], "page": [fixtures.pages[0]], "results_lines": lines}
    models = {"batch": public.Batch, "page": public.ListBatchesResponse}
    found: dict[str, Callable[[bytes], Any] | None] = {}
    for name, module, attribute in (("msgspec", "msgspec.json", "Decoder"), ("orjson", "orjson", "loads")):
        try:
            value = getattr(importlib.import_module(module), attribute)
        except ImportError:
            found[name] = None
        else:
            found[name] = value().decode if attribute == "Decoder" else value

    def typed(decode: Callable[[bytes], Any] | None) -> dict[str, Callable[[bytes], Any] | None]:
        if decode is None:
            return {body: None for body in models}
        return {
            body: functools.partial(lambda m, d, b: build(m, d(b)), model, decode) for body, model in models.items()
        }

    contenders: dict[str, dict[str, Callable[[bytes], Any] | None]] = {
        "json.loads": {body: json.loads for body in bodies},
        "msgspec": {body: found["msgspec"] for body in bodies},
        "orjson": {body: found["orjson"] for body in bodies},
        "client, speed extra (msgspec shapes)": {body: _models.decoder(model) for body, model in models.items()},
        "client, standard library": typed(json.loads),
        "client with orjson instead": typed(found["orjson"]),
    }

    def per_document(decode: Callable[[bytes], Any], items: list[bytes], n: int) -> float:
        def run() -> int:
            for item in items:
                decode(item)
            return 0

        return _timed(run, n) / len(items)

    plans = [(name, body, fn) for name, row in contenders.items() for body, fn in row.items() if fn is not None]
    calls = {}
    for name, body, fn in plans:
        once = per_document(fn, bodies[body], 1) * len(bodies[body])
        calls[name, body] = max(1, round(params.block_seconds / max(once, 1e-9)))
    samples: dict[tuple[str, str], list[float]] = {(name, body): [] for name, body, _ in plans}
    for round_number in range(params.rounds):
        for name, body, fn in _rotated(plans, round_number):
            samples[name, body].append(per_document(fn, bodies[body], calls[name, body]))
    seconds: dict[str, dict[str, Any]] = {}
    for name, row in contenders.items():
        seconds[name] = {}
        for body, fn in row.items():
            if fn is None:
                seconds[name][body] = None
                continue
            base = samples["json.loads", body]
            ratios = [mine / floor for mine, floor in zip(samples[name, body], base, strict=True)]
            seconds[name][body] = {"seconds": _summary(samples[name, body]), "ratio": _summary(ratios)}
    return {"bytes": {name: sum(map(len, items)) // len(items) for name, items in bodies.items()}, "seconds": seconds}


def print_decoders(report: dict[str, Any]) -> None:
    decoders = report["decoders"]
    sizes = decoders["bytes"]
    titles = {
        "batch": f"a Batch ({sizes['batch']:,} B)",
        "page": f"a page of 100 ({sizes['page'] / 1000:,.0f} kB)",
        "results_lines": f"a results line (~{sizes['results_lines'] / 1000:,.1f} kB)",
    }
    print("=== JSON decoders on the fixtures: time per document, median of per-round ratios to json.loads ===")
    print(f"  {'decoder':38s}" + "".join(f"{title:>28s}" for title in titles.values()))
    for name, row in decoders["seconds"].items():
        cells = []
        for body in titles:
            if body not in row:
                cells.append("")
            elif row[body] is None:
                cells.append("not installed")
            else:
                cells.append(f"{_duration(row[body]['seconds']['median'])} ({row[body]['ratio']['median']:.2f}x)")
        print(f"  {name:38s}" + "".join(f"{cell:>28s}" for cell in cells))
    print()


# ------------------------------------------------------------------------------------------------------------- jobs

JOB_PHASES = ("ingest", "plan", "shard_files", "merge", "write_results")
JOB_PHASE_TITLES = {
    "ingest": "read, check and index the input (jobs.create)",
    "plan": "plan shards",
    "shard_files": "write the shards' upload files",
    "merge": "merge one result file per shard",
    "write_results": "write the merged results in input order",
}


def _job_request(number: int) -> bytes:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Say the number {number}."}]}
    line = {"custom_id": f"r{number:07d}", "method": "POST", "url": "/v1/chat/completions", "body": body}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def _job_result(custom_id: str) -> bytes:
    body = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
    }
    line = {
        "id": "batch_req_x",
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": "r", "body": body},
        "error": None,
    }
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def _peak_rss() -> int:
    """This process's peak resident memory. Linux's getrusage keeps the high-water mark of the process that forked
    this one across exec, so a child of a big benchmark would report its parent's peak: read VmHWM instead."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def jobs_child(requests: int, out: Path) -> None:
    """One job's local work over `requests` small requests, timed phase by phase; writes the numbers to `out`."""
    import tempfile

    from openai_batches.jobs.creation import Account, JobSettings, create_job
    from openai_batches.jobs.job_results import write_results
    from openai_batches.jobs.merge import merge_shard
    from openai_batches.jobs.planning import plan_shards, write_shard_file
    from openai_batches.jobs.records import ShardState
    from openai_batches.jobs.store import open_store
    from openai_batches.jobs.tokens import HeuristicEstimator

    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as temp:
        root = Path(temp)
        source = root / "requests.jsonl"
        with source.open("wb") as file:
            for number in range(requests):
                file.write(_job_request(number))
        state = root / "state"
        start = time.perf_counter()
        create_job(
            state,
            "bench",
            source,
            endpoint=None,
            completion_window="24h",
            settings=JobSettings(),
            account=Account("https://api.openai.com/v1", "bench"),
            estimator=HeuristicEstimator(),
        )
        seconds["ingest"] = time.perf_counter() - start
        with open_store(state) as store:
            job = store.get_job("bench")
            assert job is not None
            start = time.perf_counter()
            shards = plan_shards(store, job)
            seconds["plan"] = time.perf_counter() - start
            start = time.perf_counter()
            for shard in shards:
                write_shard_file(store, job, shard, root / "shards" / f"{shard.id}.jsonl")
            seconds["shard_files"] = time.perf_counter() - start
            # The service's part, not timed: one output file per shard, answering every request.
            files: dict[int, list[tuple[int, Path]]] = {}
            for shard in shards:
                output = root / "results" / f"{shard.id}.jsonl"
                output.parent.mkdir(exist_ok=True)
                with (root / "shards" / f"{shard.id}.jsonl").open("rb") as lines, output.open("wb") as answers:
                    for line in lines:
                        answers.write(_job_result(json.loads(line)["custom_id"]))
                number = store.add_result_file(job.id, f"batch_{shard.id}", "output", str(output))
                # The shard's way through the service, as a run records it, to a batch whose results are here.
                current = shard
                for state in ("uploading", "uploaded", "creating", "submitted", "ended", "downloaded"):
                    moved = dataclasses.replace(
                        current, state=ShardState(state), batch_id=f"batch_{shard.id}", batch_status="completed"
                    )
                    store.save_shard(current, moved)
                    current = moved
                files[shard.id] = [(number, output)]
            start = time.perf_counter()
            for shard in store.active_shards(job.id):
                merge_shard(store, job, shard, files[shard.id], cancelling=False)
            seconds["merge"] = time.perf_counter() - start
            done = store.get_job("bench")
            assert done is not None and done.succeeded == requests, done
            start = time.perf_counter()
            written = write_results(store, done, root / "merged.jsonl")
            seconds["write_results"] = time.perf_counter() - start
            assert written == requests
    out.write_text(
        json.dumps({"requests": requests, "shards": len(shards), "seconds": seconds, "peak_rss_bytes": _peak_rss()})
    )


def measure_jobs(params: Params) -> dict[str, Any]:
    """Each size in a fresh child process, so each peak RSS is that size's alone."""
    import tempfile

    sizes: dict[str, Any] = {}
    for requests in params.jobs_sizes:
        print(f"  jobs: {requests:,} requests", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-jobs-out-") as temp:
            out = Path(temp) / "jobs.json"
            subprocess.run(
                [sys.executable, __file__, "--jobs-child", str(requests), "--jobs-out", str(out)], check=True
            )
            result = json.loads(out.read_text())
        result["lines_per_second"] = {phase: requests / result["seconds"][phase] for phase in JOB_PHASES}
        sizes[str(requests)] = result
    small, large = (sizes[str(size)] for size in params.jobs_sizes)
    return {"sizes": sizes, "rss_ratio": large["peak_rss_bytes"] / small["peak_rss_bytes"]}


def print_jobs(report: dict[str, Any], params: Params) -> None:
    jobs = report["jobs"]
    small, large = (str(size) for size in params.jobs_sizes)
    print(f"=== jobs: a job's local work, {int(small):,} and {int(large):,} small requests (child process each) ===")
    print(f"  {'phase':52s} {'lines/s at ' + f'{int(small):,}':>22s} {'lines/s at ' + f'{int(large):,}':>24s}")
    for phase in JOB_PHASES:
        rates = [jobs["sizes"][size]["lines_per_second"][phase] for size in (small, large)]
        print(f"  {JOB_PHASE_TITLES[phase]:52s} {rates[0]:22,.0f} {rates[1]:24,.0f}")
    peaks = [jobs["sizes"][size]["peak_rss_bytes"] for size in (small, large)]
    print(
        f"  peak RSS: {peaks[0] / 2**20:,.1f} MiB at {int(small):,}, {peaks[1] / 2**20:,.1f} MiB at {int(large):,}: "
        f"{jobs['rss_ratio']:.2f}x"
    )
    print()


# ---------------------------------------------------------------------------------------------------------- summary


def _summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": list(values)}


def summarise(series: dict[str, Series], floor: str = FLOOR) -> dict[str, Any]:
    """Per contender: seconds, per-round ratio to the floor, and (where the old floor ran) to the old floor."""
    out: dict[str, Any] = {}
    for name, entry in series.items():
        out[name] = {
            "seconds": _summary(entry.seconds),
            "ratio": _summary(_ratios(entry, series[floor])),
            "calls": entry.calls,
            "connections_opened": entry.connections,
            "requests": entry.requests,
        }
        if OLD_FLOOR in series:
            out[name]["ratio_old_floor"] = _summary(_ratios(entry, series[OLD_FLOOR]))
    return out


def _ratios(entry: Series, base: Series) -> list[float]:
    return [mine / floor for mine, floor in zip(entry.seconds, base.seconds, strict=True)]


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _ratio(summary: dict[str, Any]) -> str:
    return f"{summary['median']:.2f}x ({summary['min']:.2f}-{summary['max']:.2f})"


def _inverse(summary: dict[str, Any]) -> str:
    return f"{1 / summary['median']:.2f}x ({1 / summary['max']:.2f}-{1 / summary['min']:.2f})"


def _kib(value: float) -> str:
    return f"{value / 1024:,.1f} KiB"


OP_TITLES = {
    "retrieve": "retrieve, per call",
    "create": "create, per call",
    "cancel": "cancel, per call",
    "list_100": "list, one page of 100, per call",
    "walk_pages": "walking {pages} pages of 100 (cursor `after`), per walk",
    ASYNC_OP: "{concurrency} concurrent async retrieves (asyncio.gather), per gather",
}


def print_tables(report: dict[str, Any], params: Params) -> None:
    print()
    for transport in TRANSPORTS:
        if transport not in report["timings"]:
            continue
        print(f"=== {TRANSPORT_TITLES[transport]} ===")
        for op in OPS:
            rows = report["timings"][transport][op]
            title = OP_TITLES[op].format(pages=params.walk_pages, concurrency=params.concurrency)
            print(f"\n{title}")
            extra = "throughput (vs floor)" if op == ASYNC_OP else ""
            if transport == "loopback":
                extra += ("   " if extra else "") + "conns opened / requests"
            header = (
                f"  {'contender':38s} {'median':>10s}  {'min - max':23s} {'vs floor, per round':22s} "
                f"{'vs old floor':22s} {extra}"
            )
            print(header.rstrip())
            labels = ASYNC_LABELS if op == ASYNC_OP else LABELS
            for name in CONTENDERS:
                row = rows[name]
                sec = row["seconds"]
                spread = f"{_duration(sec['min'])} - {_duration(sec['max'])}"
                line = (
                    f"  {labels[name]:38s} {_duration(sec['median']):>10s}  {spread:23s} {_ratio(row['ratio']):22s} "
                    f"{_ratio(row['ratio_old_floor']):22s}"
                )
                if op == ASYNC_OP:
                    rate = params.concurrency / sec["median"]
                    line += f" {rate:9,.0f} req/s ({_inverse(row['ratio'])})"
                if transport == "loopback":
                    line += f"   {row['connections_opened']} / {row['requests']}"
                print(line.rstrip())
        print()

    imports = report["import"]
    print("=== import time (fresh interpreter; `python -c 'import x'` minus `python -c pass`) ===")
    labels = {
        "openai_batches": "import openai_batches",
        "openai_batches_client": "from openai_batches import BatchClient",
        "openai_batches_first_use": "... and the batches resource",
        "openai": "import openai",
    }
    for name, label in labels.items():
        values = imports["seconds"][name]
        print(
            f"  {label:40s} {_duration(statistics.median(values)):>10s}  "
            f"({_duration(min(values))} - {_duration(max(values))}), {len(values)} runs"
        )
    print(f"  import openai_batches / import openai: {_ratio(imports['ratio'])}")
    print(f"  from openai_batches import BatchClient / import openai: {_ratio(imports['client_ratio'])}")
    first_use = _ratio(imports["first_use_ratio"])
    print(f"  ... and the batches resource (client.batches, first use) / import openai: {first_use}\n")

    memory = report["memory"]
    print("=== memory (tracemalloc, mock transport) ===")
    print(f"  retained per Batch after parsing a page of {params.page_size} and keeping the items:")
    for name in MEMORY_CONTENDERS:
        per = memory["bytes_per_batch"][name]
        ratio = per / memory["bytes_per_batch"][FLOOR]
        print(f"    {LABELS[name]:38s} {per:8,.0f} bytes   {ratio:.2f}x the floor's dicts")
    small, large = str(params.walk_pages_small), str(params.walk_pages)
    print(f"  peak while walking pages of {params.page_size} (items not kept): {small} pages vs {large} pages")
    for name in MEMORY_CONTENDERS:
        peaks = memory["walk_peak_bytes"][name]
        print(
            f"    {LABELS[name]:38s} {_kib(peaks[small]):>12s}  {_kib(peaks[large]):>12s}   "
            f"{large}/{small} pages: {peaks[large] / peaks[small]:.2f}x"
        )
    print()

    results = report["results"]
    print("=== results file parsing ===")
    if "skipped" in results:
        print(f"  skipped: {results['skipped']}\n")
        return
    megabytes = results["file_bytes"] / 1e6
    print(f"  {results['lines']:,} result lines, {megabytes:.1f} MB, served in {CHUNK // 1024} KiB chunks")
    for transport in TRANSPORTS:
        rows = results["timings"].get(transport)
        if rows is None:
            continue
        print(f"\n  {transport}")
        print(f"    {'contender':42s} {'median':>10s}  {'MB/s':>7s}  {'throughput vs floor, per round':32s}")
        for name, row in rows.items():
            sec = row["seconds"]
            print(
                f"    {RESULTS_LABELS[name]:42s} {_duration(sec['median']):>10s}  {megabytes / sec['median']:7.1f}  "
                f"{_inverse(row['ratio'])}"
            )
    print("\n  peak memory while parsing (mock transport): the first tenth of the file, the whole file")
    for name, peaks in results["peak_bytes"].items():
        growth = peaks["large"] / peaks["small"]
        print(
            f"    {RESULTS_LABELS[name]:42s} {_kib(peaks['small']):>12s} {_kib(peaks['large']):>12s}   "
            f"whole/tenth: {growth:.2f}x"
        )
    print()


def print_targets(report: dict[str, Any], params: Params) -> None:
    """Where the client stands against issue 14's targets, from the medians above (informative, never a gate)."""
    print("=== against the targets of issue 14 (this client, medians of per-round ratios to the lean floor) ===")
    timings = report["timings"]

    def row(what: str, values: str, target: str, met: bool) -> None:
        print(f"  {what:34s} {values:40s} {target:22s} {'met' if met else 'NOT met'}")

    for ops, limit in ((("retrieve", "create", "cancel"), 1.1), (("list_100", "walk_pages"), 1.0)):
        for op in ops:
            ratios = {t: timings[t][op][CLIENT]["ratio"]["median"] for t in timings}
            values = "  ".join(f"{t} {r:.2f}x" for t, r in ratios.items())
            row(op, values, f"<= {limit}x floor", all(r <= limit for r in ratios.values()))
    throughput = {t: 1 / timings[t][ASYNC_OP][CLIENT]["ratio"]["median"] for t in timings}
    values = "  ".join(f"{t} {r:.2f}x" for t, r in throughput.items())
    row(
        f"{params.concurrency} async retrieves, throughput",
        values,
        ">= 0.8x floor",
        all(r >= 0.8 for r in throughput.values()),
    )
    results = report["results"]
    if "skipped" in results:
        print(f"  {'results parsing throughput':34s} skipped: {results['skipped']}")
    else:
        rates = {t: 1 / rows[CLIENT]["ratio"]["median"] for t, rows in results["timings"].items()}
        values = "  ".join(f"{t} {r:.2f}x" for t, r in rates.items())
        row("results parsing throughput", values, ">= 1.0x floor", all(r >= 1.0 for r in rates.values()))
        peaks = results["peak_bytes"][CLIENT]
        growth = peaks["large"] / peaks["small"]
        row("results parsing peak, whole/tenth", f"{growth:.2f}x", "flat (<= 1.25x)", growth <= 1.25)
    ratio = report["import"]["ratio"]["median"]
    client_ratio = report["import"]["client_ratio"]["median"]
    # Judged on the import a first call needs, not on the lazy package alone.
    row("import (BatchClient) vs openai", f"{client_ratio:.2f} (bare {ratio:.2f})", "<= 0.25", client_ratio <= 0.25)
    per_batch = report["memory"]["bytes_per_batch"]
    share = per_batch[CLIENT] / per_batch[FLOOR]
    row(
        "memory per retained Batch",
        f"{per_batch[CLIENT]:,.0f} bytes ({share:.2f}x dicts)",
        "<= 0.7x dicts",
        share <= 0.7,
    )

    def growth_of(name: str) -> float:
        peaks = report["memory"]["walk_peak_bytes"][name]
        return float(peaks[str(params.walk_pages)] / peaks[str(params.walk_pages_small)])

    # httpx responses sit in reference cycles until the next collection, so even the floor's peak grows a little
    # with the number of pages; its growth is shown as the reference.
    row(
        f"walk peak, {params.walk_pages} vs {params.walk_pages_small} pages",
        f"{growth_of(CLIENT):.2f}x (floor {growth_of(FLOOR):.2f}x)",
        "flat (<= 1.25x)",
        growth_of(CLIENT) <= 1.25,
    )
    print()


def print_jobs_target(report: dict[str, Any]) -> None:
    ratio = report["jobs"]["rss_ratio"]
    sizes = list(report["jobs"]["sizes"])
    what = f"jobs peak RSS, {int(sizes[1]):,} vs {int(sizes[0]):,}"
    print(f"  {what:34s} {f'{ratio:.2f}x':34s} {'<= 1.2x':18s} {'met' if ratio <= 1.2 else 'NOT met'}")
    if "jobs_loop" in report:
        print(bench_jobs_loop.target_row(report["jobs_loop"]))
    if "tables" in report:
        print("\n".join(bench_tables.target_rows(report["tables"])))
    print()


# ------------------------------------------------------------------------------------------------------------- main


def run_server_section(params: Params, baseline: Path | None) -> dict[str, Any]:
    print("  measuring the local server" + (f" against {baseline}" if baseline else ""), file=sys.stderr, flush=True)
    report = bench_server.run(params.server_rounds, params.server_block_seconds, baseline, smoke=params.smoke)
    bench_server.print_report(report)
    report["listing"] = bench_server_listing.run(params.smoke, baseline)
    bench_server_listing.print_report(report["listing"])
    return report


def machine_facts() -> dict[str, Any]:
    import openai
    import openai_batches
    from openai_batches import _json

    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "overlays", "generated", "openapi.yaml"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    ).stdout.split("\n")
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "httpx": httpx.__version__,
        "openai": openai.__version__,
        "openai_batches": openai_batches.__version__,
        # The `speed` extra installed (msgspec) or not (the standard library): the numbers differ a lot.
        "json_decoder": _json.DECODER,
        "commit": commit or None,
        # A number measured on uncommitted client code cannot be reproduced from the commit alone.
        "uncommitted_client_files": sorted(line[3:] for line in dirty if line.strip()),
    }


def _serve_args(params: Params) -> list[str]:
    return ["--smoke"] if params.smoke else []


def profile(op: str, params: Params) -> None:
    import cProfile
    import pstats

    fixtures = Fixtures.build(params.walk_pages, params.page_size, 0.01)
    c = make_contenders("mock", MOCK_BASE_URL, fixtures, params.concurrency)
    fn = sync_operations(c, params)[op][CLIENT]
    for _ in range(5):
        fn()
    n = max(1, round(2.0 / max(min(_timed(fn, 1) for _ in range(3)), 1e-9)))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    print(f"cProfile of openai_batches, {op}, mock transport, {n} calls; top 15 by cumulative time")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a seconds-long run: few rounds, fewer pages")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every number to PATH")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--profile", choices=SYNC_OPS, help="profile this client's path for one operation and exit")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--decoders", action="store_true", help="only the JSON decoders on the fixtures")
    parser.add_argument(
        "--without-speed", action="store_true", help="hide msgspec, as an install without the speed extra"
    )
    parser.add_argument("--jobs-only", action="store_true", help="run only the jobs section")
    parser.add_argument(
        "--jobs-loop", action="store_true", help="only the event loop's worst lag while an async job runs one batch"
    )
    parser.add_argument(
        "--tables-only", action="store_true", help="only a finished job's results exported as tables (issue 22)"
    )
    parser.add_argument("--jobs-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jobs-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server-only", action="store_true", help="only the local server's section")
    parser.add_argument(
        "--baseline-server",
        type=Path,
        metavar="DIR",
        help="also measure the local server from DIR (another checkout's server/ folder) and report the ratios",
    )
    args = parser.parse_args(argv)
    if args.without_speed:
        # Before anything imports the client: its decoder is chosen at import.
        sys.modules["msgspec"] = None  # type: ignore[assignment]
    if args.jobs_child is not None:
        jobs_child(args.jobs_child, args.jobs_out)
        return 0
    params = SMOKE if args.smoke else FULL
    if args.rounds:
        params = dataclasses.replace(params, rounds=args.rounds)
    if args.serve:
        serve(params)
        return 0
    if args.profile:
        profile(args.profile, params)
        return 0
    if args.decoders:
        report = {"params": dataclasses.asdict(params), "decoders": measure_decoders(params)}
        print_decoders(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return 0
    if args.jobs_only:
        report = {"params": dataclasses.asdict(params), "jobs": measure_jobs(params)}
        print_jobs(report, params)
        print_jobs_target(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return 0
    if args.tables_only:
        report = {"params": dataclasses.asdict(params), "tables": bench_tables.run(params.tables_sizes)}
        bench_tables.print_report(report["tables"])
        print("\n".join(bench_tables.target_rows(report["tables"])))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return 0
    if args.jobs_loop:
        report = {"params": dataclasses.asdict(params), "jobs_loop": bench_jobs_loop.run(params.jobs_loop_requests)}
        bench_jobs_loop.print_report(report["jobs_loop"])
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
        return 0
    if args.server_only:
        server_report = run_server_section(params, args.baseline_server)
        if args.json:
            args.json.write_text(json.dumps({"server": server_report}, indent=2, allow_nan=False) + "\n")
        return 0

    wall_start = time.perf_counter()
    facts = machine_facts()
    print("openai_batches benchmark (issues 6, 14)" + (" -- smoke mode" if params.smoke else ""))
    print(
        f"  python {facts['python']} ({facts['implementation']}), {facts['platform']}, cpus {facts['cpu_count']}, "
        f"load {facts['load_average']}"
    )
    print(
        f"  httpx {facts['httpx']}, openai {facts['openai']}, openai_batches {facts['openai_batches']} "
        f"(decoding with {facts['json_decoder']}), commit {facts['commit']}"
    )
    if facts["uncommitted_client_files"]:
        print(f"  uncommitted client files: {', '.join(facts['uncommitted_client_files'])}")
    print(
        f"  rounds {params.rounds}, ~{params.block_seconds * 1e3:g} ms per contender block, page size "
        f"{params.page_size}, walk {params.walk_pages} pages, concurrency {params.concurrency}, results file "
        f"~{params.results_mb:g} MB x {params.results_rounds} rounds, import runs {params.import_runs}"
    )
    sys.stdout.flush()

    fixtures = Fixtures.build(params.walk_pages, params.page_size, params.results_mb)
    print(
        f"  fixtures: Batch {fixtures.batch_size} bytes, page of {params.page_size} {len(fixtures.pages[0]):,} bytes",
        flush=True,
    )
    server = LoopbackServer(_serve_args(params))
    runner = asyncio.Runner()
    report: dict[str, Any] = {"machine": facts, "params": dataclasses.asdict(params) | {"chunk_bytes": CHUNK}}
    all_contenders: list[Contenders] = []
    try:
        all_contenders = [
            make_contenders("mock", MOCK_BASE_URL, fixtures, params.concurrency),
            make_contenders("loopback", server.base_url, fixtures, params.concurrency),
        ]
        # Everything alive now (the SDKs' modules, the fixtures) is moved out of the collector's way, so a full
        # collection costs the same whichever contender triggers it.
        gc.collect()
        gc.freeze()
        series = run_rounds(all_contenders, {"loopback": server}, runner, params)
        report["timings"] = {
            transport: {op: summarise(by_op) for op, by_op in ops.items()} for transport, ops in series.items()
        }
        with_results = results_available(all_contenders[0])
        if with_results:
            results_series = run_results_rounds(all_contenders, params)
            report["results"] = {
                "lines": fixtures.results_lines,
                "file_bytes": len(fixtures.results_file),
                "timings": {transport: summarise(rows) for transport, rows in results_series.items()},
            }
        else:
            print("  results: skipped: results API not available", file=sys.stderr, flush=True)
            report["results"] = {"skipped": "results API not available"}
        print("  measuring memory", file=sys.stderr, flush=True)
        report["memory"] = measure_memory(all_contenders[0], params, with_results)
        if with_results:
            report["results"]["peak_bytes"] = report["memory"].pop("results_peak_bytes")
    finally:
        for c in all_contenders:
            c.close(runner)
        runner.close()
        server.close()
    print("  measuring import time", file=sys.stderr, flush=True)
    report["import"] = measure_imports(params.import_runs)
    print("  measuring JSON decoders", file=sys.stderr, flush=True)
    report["decoders"] = measure_decoders(params)
    report["jobs"] = measure_jobs(params)
    report["jobs_loop"] = bench_jobs_loop.run(params.jobs_loop_requests)
    report["tables"] = bench_tables.run(params.tables_sizes)

    print_tables(report, params)
    print_decoders(report)
    print_jobs(report, params)
    bench_jobs_loop.print_report(report["jobs_loop"])
    bench_tables.print_report(report["tables"])
    print_targets(report, params)
    print_jobs_target(report)
    report["server"] = run_server_section(params, args.baseline_server)
    report["wall_seconds"] = time.perf_counter() - wall_start
    print(f"total wall time {report['wall_seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
        print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
