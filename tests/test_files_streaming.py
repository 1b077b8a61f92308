"""Files too large for memory: uploads stream from disk, downloads stream to the caller, broken bodies fail cleanly.

Memory is measured with `tracemalloc` (peak growth of Python allocations while the body passes through), which is
deterministic; nothing here is timed. The large bodies are generated chunk by chunk and never held whole by the test
either: they are checked by size, a running sha256 and, for lines, a counter embedded in every line.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import API_KEY, BASE_URL, Recorder, async_client, sync_client
from openai_batches import (
    APIConnectionError,
    APITimeoutError,
    AsyncBatchClient,
    BatchClient,
    FileObject,
)

KIB = 1024
MIB = 1024 * KIB
CHUNK = 64 * KIB
LINE_LENGTH = 5000  # bytes, newline included; not a divisor of CHUNK, so lines straddle chunk boundaries

DOWNLOAD_LINES = 40_000  # 200 MB
UPLOAD_LINES = 6_000  # 30 MB
MEMORY_LIMIT = 20 * MIB

FILE: dict[str, Any] = {
    "id": "file-big",
    "object": "file",
    "bytes": UPLOAD_LINES * LINE_LENGTH,
    "created_at": 1677610602,
    "filename": "big.jsonl",
    "purpose": "batch",
    "status": "processed",
}


def numbered_lines(count: int) -> Iterator[bytes]:
    """`count` JSONL-ish lines of LINE_LENGTH bytes, each starting with its own 9-digit number."""
    pad = b"x" * (LINE_LENGTH - 10)
    for number in range(count):
        yield b"%09d" % number + pad + b"\n"


def rechunked(pieces: Iterator[bytes], size: int = CHUNK) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


@functools.cache
def expected_digest(lines: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in rechunked(numbered_lines(lines)):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


class GeneratedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body produced chunk by chunk from a generator, for either client."""

    def __init__(self, produce: Callable[[], Iterator[bytes]]) -> None:
        self.produce = produce

    def __iter__(self) -> Iterator[bytes]:
        yield from self.produce()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.produce():
            yield chunk


def big_download(lines: int = DOWNLOAD_LINES) -> Recorder:
    size = lines * LINE_LENGTH
    return Recorder(
        lambda request: httpx.Response(
            200,
            stream=GeneratedBody(lambda: rechunked(numbered_lines(lines))),
            headers={"content-type": "application/octet-stream", "content-length": str(size)},
        )
    )


@contextlib.contextmanager
def peak_growth() -> Iterator[list[int]]:
    """Yields a list that receives, on exit, the peak growth in traced Python memory inside the block."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result: list[int] = []
        yield result
        _, peak = tracemalloc.get_traced_memory()
        result.append(peak - base)
    finally:
        if not already:
            tracemalloc.stop()


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class LineChecker:
    """Checks lines from `numbered_lines` one at a time, in order, without keeping them."""

    def __init__(self) -> None:
        self.count = 0

    def take(self, line: str) -> None:
        assert len(line) == LINE_LENGTH - 1, (self.count, len(line))
        assert int(line[:9]) == self.count, (self.count, line[:9])
        self.count += 1


# --- downloads: flat memory ---------------------------------------------------------------------------------------


def test_the_memory_probe_sees_a_body_read_whole() -> None:
    """Control: the same measurement catches a download that is held in memory (so the tests below can fail)."""
    lines = 6_400  # 32 MB
    with sync_client(big_download(lines)) as client, peak_growth() as growth:
        data = client.files.content("file-big").read()
        assert len(data) == lines * LINE_LENGTH
        del data
    assert growth[0] >= lines * LINE_LENGTH


def test_sync_iter_bytes_streams_a_large_file_with_flat_memory() -> None:
    digest = hashlib.sha256()
    size = 0
    largest = 0
    with sync_client(big_download()) as client, peak_growth() as growth:
        content = client.files.content("file-big")
        assert content.content_length == DOWNLOAD_LINES * LINE_LENGTH
        for chunk in content.iter_bytes():
            digest.update(chunk)
            size += len(chunk)
            largest = max(largest, len(chunk))
    assert (size, digest.hexdigest()) == expected_digest(DOWNLOAD_LINES)
    assert largest <= MIB
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"
    assert content.response.is_closed


async def test_async_iter_bytes_streams_a_large_file_with_flat_memory() -> None:
    digest = hashlib.sha256()
    size = 0
    async with async_client(big_download()) as client:
        with peak_growth() as growth:
            async with client.files.content("file-big") as content:
                async for chunk in content.iter_bytes():
                    digest.update(chunk)
                    size += len(chunk)
    assert (size, digest.hexdigest()) == expected_digest(DOWNLOAD_LINES)
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"
    assert content.response.is_closed


def test_sync_iter_lines_streams_a_large_file_with_flat_memory() -> None:
    checker = LineChecker()
    with sync_client(big_download()) as client, peak_growth() as growth:
        for line in client.files.content("file-big").iter_lines():
            checker.take(line)
    assert checker.count == DOWNLOAD_LINES
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"


async def test_async_iter_lines_streams_a_large_file_with_flat_memory() -> None:
    checker = LineChecker()
    async with async_client(big_download()) as client:
        with peak_growth() as growth:
            async with client.files.content("file-big") as content:
                async for line in content.iter_lines():
                    checker.take(line)
    assert checker.count == DOWNLOAD_LINES
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"


def test_sync_write_to_file_streams_a_large_file_with_flat_memory(tmp_path: Path) -> None:
    target = tmp_path / "output.jsonl"
    with sync_client(big_download()) as client, peak_growth() as growth:
        written = client.files.content("file-big").write_to_file(target)
    assert written == DOWNLOAD_LINES * LINE_LENGTH
    assert file_digest(target) == expected_digest(DOWNLOAD_LINES)
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"
    assert [p.name for p in tmp_path.iterdir()] == ["output.jsonl"]


async def test_async_write_to_file_streams_a_large_file_with_flat_memory(tmp_path: Path) -> None:
    target = tmp_path / "output.jsonl"
    async with async_client(big_download()) as client:
        with peak_growth() as growth:
            async with client.files.content("file-big") as content:
                written = await content.write_to_file(target)
    assert written == DOWNLOAD_LINES * LINE_LENGTH
    assert file_digest(target) == expected_digest(DOWNLOAD_LINES)
    assert growth[0] < MEMORY_LIMIT, f"peak growth {growth[0] / MIB:.1f} MiB"
    assert [p.name for p in tmp_path.iterdir()] == ["output.jsonl"]


# --- uploads: streamed from disk ----------------------------------------------------------------------------------


class FilePartDigest:
    """Follows a multipart body as it streams past, keeping only a small window.

    Collects the first part's headers, a sha256 and size of the first part's data, and the (small) rest of the body
    after it. The first part must be the file; the random boundary cannot occur inside it.
    """

    HOLD = 8 * KIB

    def __init__(self, boundary: bytes) -> None:
        self.boundary = boundary
        self.head = bytearray()
        self.in_file = False
        self.held = bytearray()
        self.digest = hashlib.sha256()
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if not self.in_file:
            self.head += chunk
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            chunk = bytes(self.head[end + 4 :])
            del self.head[end + 4 :]
            self.in_file = True
        self.held += chunk
        if len(self.held) > self.HOLD:
            cut = len(self.held) - self.HOLD
            self.digest.update(self.held[:cut])
            self.size += cut
            del self.held[:cut]

    def finish(self) -> bytes:
        """The body after the file's data."""
        index = self.held.find(b"\r\n--" + self.boundary + b"\r\n")
        assert index >= 0, bytes(self.held[-200:])
        self.digest.update(self.held[:index])
        self.size += index
        return bytes(self.held[index:])


class UploadSink(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that reads each request body chunk by chunk, as a socket would, without keeping it.

    (httpx.MockTransport cannot be used here: it reads the whole request body into memory before its handler runs.)
    """

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def _start(self, request: httpx.Request, stream_type: type) -> tuple[dict[str, Any], FilePartDigest]:
        content_type = request.headers["content-type"]
        boundary = content_type.partition("boundary=")[2]
        try:
            request.content  # noqa: B018 - only to see whether the body was materialised
            materialised = True
        except httpx.RequestNotRead:
            materialised = False
        record: dict[str, Any] = {
            "request": request,
            "content_type": content_type,
            "is_stream": isinstance(request.stream, stream_type),
            "materialised": materialised,
            "chunks": 0,
            "largest_chunk": 0,
            "total": 0,
        }
        self.seen.append(record)
        return record, FilePartDigest(boundary.encode())

    @staticmethod
    def _take(record: dict[str, Any], parser: FilePartDigest, chunk: bytes) -> None:
        record["chunks"] += 1
        record["largest_chunk"] = max(record["largest_chunk"], len(chunk))
        record["total"] += len(chunk)
        parser.feed(chunk)

    @staticmethod
    def _finish(record: dict[str, Any], parser: FilePartDigest) -> httpx.Response:
        record["file_headers"] = bytes(parser.head)
        record["rest"] = parser.finish()
        record["file"] = (parser.size, parser.digest.hexdigest())
        return httpx.Response(200, content=json.dumps(FILE).encode(), headers={"content-type": "application/json"})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        record, parser = self._start(request, httpx.SyncByteStream)
        assert isinstance(request.stream, httpx.SyncByteStream)
        for chunk in request.stream:
            self._take(record, parser, chunk)
        return self._finish(record, parser)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record, parser = self._start(request, httpx.AsyncByteStream)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            self._take(record, parser, chunk)
        return self._finish(record, parser)


def write_big_file(path: Path, lines: int) -> None:
    with path.open("wb") as out:
        for chunk in rechunked(numbered_lines(lines)):
            out.write(chunk)


def check_streamed_upload(record: dict[str, Any]) -> None:
    size = UPLOAD_LINES * LINE_LENGTH
    request = record["request"]
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/files")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    boundary = record["content_type"].partition("boundary=")[2]
    assert record["content_type"].startswith("multipart/form-data; boundary=")
    assert boundary and boundary != "+++"
    # The body went out as a stream of small chunks, never as one bytes object.
    assert record["is_stream"]
    assert not record["materialised"]
    assert record["largest_chunk"] <= MIB
    assert record["chunks"] >= size // MIB
    # A file of known size is announced with an exact Content-Length (no chunked encoding needed).
    assert int(request.headers["content-length"]) == record["total"]
    # And the file part carried exactly the file.
    assert record["file_headers"].startswith(f"--{boundary}\r\n".encode())
    assert b'name="file"; filename="big.jsonl"' in record["file_headers"]
    assert record["file"] == expected_digest(UPLOAD_LINES)
    rest = record["rest"]
    assert rest.startswith(f"\r\n--{boundary}\r\n".encode())
    assert b'name="purpose"' in rest
    assert rest.endswith(f"\r\n\r\nbatch\r\n--{boundary}--\r\n".encode())


@pytest.mark.parametrize("source", ["path", "file object"])
def test_sync_upload_streams_a_large_file_from_disk(tmp_path: Path, source: str) -> None:
    path = tmp_path / "big.jsonl"
    write_big_file(path, UPLOAD_LINES)
    sink = UploadSink()
    with (
        BatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=sink), max_retries=0) as c,
        path.open("rb") as handle,
        peak_growth() as growth,
    ):
        created = c.files.create(file=path if source == "path" else handle)
    assert isinstance(created, FileObject) and created.id == "file-big"
    (record,) = sink.seen
    check_streamed_upload(record)
    assert growth[0] < 8 * MIB, f"peak growth {growth[0] / MIB:.1f} MiB"


@pytest.mark.parametrize("source", ["path", "file object"])
async def test_async_upload_streams_a_large_file_from_disk(tmp_path: Path, source: str) -> None:
    path = tmp_path / "big.jsonl"
    write_big_file(path, UPLOAD_LINES)
    sink = UploadSink()
    http = httpx.AsyncClient(transport=sink)
    async with AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=http, max_retries=0) as c:
        with path.open("rb") as handle, peak_growth() as growth:
            created = await c.files.create(file=path if source == "path" else handle)
    await http.aclose()
    assert isinstance(created, FileObject) and created.id == "file-big"
    (record,) = sink.seen
    check_streamed_upload(record)
    assert growth[0] < 8 * MIB, f"peak growth {growth[0] / MIB:.1f} MiB"


# --- downloads: a connection that breaks mid-body -----------------------------------------------------------------

BEFORE_BREAK = [b'{"custom_id": "r1"}\n', b'{"custom_id": "r2"}\n{"cus', b'tom_id": "r3"}\n']


class BreaksMidBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Serves some chunks, then fails the way a dropped connection does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from BEFORE_BREAK
        raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in BEFORE_BREAK:
            yield chunk
        raise self.error


BREAKS = {
    "reset": (lambda: httpx.ReadError("Connection reset by peer"), APIConnectionError),
    "truncated": (
        lambda: httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        APIConnectionError,
    ),
    "timeout": (lambda: httpx.ReadTimeout("The read operation timed out"), APITimeoutError),
}


def broken_download(kind: str = "reset") -> Recorder:
    make_error = BREAKS[kind][0]
    return Recorder(
        lambda request: httpx.Response(
            200, stream=BreaksMidBody(make_error()), headers={"content-type": "application/octet-stream"}
        )
    )


@pytest.mark.parametrize("kind", sorted(BREAKS))
@pytest.mark.parametrize("method", ["iter_bytes", "iter_lines", "iter_text", "read", "text"])
def test_sync_a_body_broken_mid_way_raises_a_connection_error(method: str, kind: str) -> None:
    received: list[Any] = []
    with sync_client(broken_download(kind)) as client:
        content = client.files.content("file-out")
        with pytest.raises(APIConnectionError) as info:
            if method == "read":
                content.read()
            elif method == "text":
                _ = content.text
            else:
                for item in getattr(content, method)():
                    received.append(item)
    assert isinstance(info.value, BREAKS[kind][1])
    assert info.value.request is not None
    assert info.value.request.url.path == "/v1/files/file-out/content"
    assert isinstance(info.value.__cause__, httpx.TransportError)
    assert content.response.is_closed
    if method == "iter_bytes":
        assert received == BEFORE_BREAK  # what arrived before the break was delivered
    if method == "iter_lines":
        assert received == ['{"custom_id": "r1"}', '{"custom_id": "r2"}', '{"custom_id": "r3"}']


@pytest.mark.parametrize("kind", sorted(BREAKS))
@pytest.mark.parametrize("method", ["iter_bytes", "iter_lines", "iter_text", "read", "await"])
async def test_async_a_body_broken_mid_way_raises_a_connection_error(method: str, kind: str) -> None:
    received: list[Any] = []
    async with async_client(broken_download(kind)) as client:
        call = client.files.content("file-out")
        with pytest.raises(APIConnectionError) as info:
            if method == "await":  # `await` reads the whole body, as the official SDK does
                await call
            async with call as content:
                if method == "read":
                    await content.read()
                else:
                    async for item in getattr(content, method)():
                        received.append(item)
    assert isinstance(info.value, BREAKS[kind][1])
    assert info.value.request is not None
    assert info.value.request.url.path == "/v1/files/file-out/content"
    assert isinstance(info.value.__cause__, httpx.TransportError)
    if method != "await":  # awaited, the call never handed out a content object
        assert content.response.is_closed
    if method == "iter_bytes":
        assert received == BEFORE_BREAK
    if method == "iter_lines":
        assert received == ['{"custom_id": "r1"}', '{"custom_id": "r2"}', '{"custom_id": "r3"}']


OLD = b"the previous download, complete\n"


@pytest.mark.parametrize("existing", [False, True])
def test_sync_write_to_file_leaves_nothing_partial_when_the_body_breaks(tmp_path: Path, existing: bool) -> None:
    target = tmp_path / "output.jsonl"
    if existing:
        target.write_bytes(OLD)
    with sync_client(broken_download()) as client:
        content = client.files.content("file-out")
        with pytest.raises(APIConnectionError):
            content.write_to_file(target)
    assert content.response.is_closed
    if existing:
        assert target.read_bytes() == OLD
    else:
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["output.jsonl"] if existing else [])


@pytest.mark.parametrize("existing", [False, True])
async def test_async_write_to_file_leaves_nothing_partial_when_the_body_breaks(tmp_path: Path, existing: bool) -> None:
    target = tmp_path / "output.jsonl"
    if existing:
        target.write_bytes(OLD)
    async with async_client(broken_download()) as client:
        with pytest.raises(APIConnectionError):
            async with client.files.content("file-out") as content:
                await content.write_to_file(target)
    assert content.response.is_closed
    if existing:
        assert target.read_bytes() == OLD
    else:
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["output.jsonl"] if existing else [])


def test_a_broken_download_is_not_silently_retried() -> None:
    """The request itself succeeded; a body that breaks half-way is reported, not re-downloaded behind the caller."""
    recorder = broken_download()
    with sync_client(recorder) as client:
        content = client.files.content("file-out", max_retries=3)
        with pytest.raises(APIConnectionError):
            content.read()
    assert recorder.count == 1
