"""The official SDK's upload and download idioms: `(filename, content[, content_type])` tuples, `.content`, `.text`,
`stream_to_file`, `async with client.files.content(id)`, `files.wait_for_processing`, `files.retrieve_content`, and
`page.next_page_info()`."""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import (
    CALL_IN,
    Recorder,
    async_client,
    file_body,
    file_part,
    json_response,
    list_body,
    multipart,
    sync_client,
)
from openai_batches import (
    AsyncFileContent,
    FileContent,
    FileWaitTimeout,
    InvalidParameterError,
    OpenAIBatchesError,
    PageInfo,
    RetryPolicy,
)
from openai_batches.resources.files import _opened

BODY = b'{"custom_id": "a"}\n{"custom_id": "b"}\n'
FILE = file_body(bytes=3, filename="in.jsonl")

Run = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    return CALL_IN[request.param]


def uploaded() -> Recorder:
    return Recorder(lambda request: json_response(200, FILE))


# ---------------------------------------------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    ("make", "filename", "content_type"),
    [
        (lambda path: ("named.jsonl", BODY), "named.jsonl", "application/octet-stream"),
        (lambda path: ("named.jsonl", BODY, "application/jsonl"), "named.jsonl", "application/jsonl"),
        (lambda path: ("named.jsonl", path, "application/jsonl"), "named.jsonl", "application/jsonl"),
        (lambda path: ("named.jsonl", io.BytesIO(BODY)), "named.jsonl", "application/octet-stream"),
        (lambda path: (None, path), "source.jsonl", "application/octet-stream"),
        (lambda path: (None, BODY, None), "upload.jsonl", "application/octet-stream"),
    ],
    ids=["name-bytes", "name-bytes-type", "name-path-type", "name-fileobj", "none-path", "none-bytes-none"],
)
def test_upload_tuples_send_the_name_type_and_bytes(
    run: Run, tmp_path: Path, make: Callable[[Path], Any], filename: str, content_type: str
) -> None:
    path = tmp_path / "source.jsonl"
    path.write_bytes(BODY)
    recorder = uploaded()
    created = run(recorder, lambda c: c.files.create(file=make(path), purpose="batch"))
    part = file_part(recorder.requests[0])
    assert (part.filename, part.data) == (filename, BODY)
    if content_type != "application/octet-stream":
        assert part.content_type == content_type
    assert created.bytes == 3


def test_upload_tuple_with_part_headers(run: Run) -> None:
    recorder = uploaded()
    run(recorder, lambda c: c.files.create(file=("a.jsonl", BODY, "application/jsonl", {"X-Part": "1"})))
    raw = recorder.requests[0].content
    assert b"X-Part: 1" in raw or b"x-part: 1" in raw.lower()
    assert [part.name for part in multipart(recorder.requests[0])] == ["file", "purpose"]


def test_a_path_in_a_tuple_is_streamed_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(BODY)
    with _opened(("renamed.jsonl", path, "application/jsonl"), None) as upload:
        assert isinstance(upload.file.payload, io.BufferedReader)  # an open file, read as it is sent
        assert (upload.file.file_name, upload.file.mime_type, upload.seekable) == (
            "renamed.jsonl",
            "application/jsonl",
            True,
        )
    assert upload.file.payload.closed


class Pipe(io.RawIOBase):
    def __init__(self) -> None:
        self.left = [BODY]

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.left.pop() if self.left else b""


def test_a_tuple_with_an_unseekable_stream_is_sent_once(run: Run) -> None:
    recorder = Recorder(lambda request: json_response(503, {"error": {"message": "busy"}}))
    policy = RetryPolicy(sleep=lambda s: None)
    with pytest.raises(OpenAIBatchesError):
        run(
            recorder,
            lambda c: c.with_options(max_retries=3).files.create(file=("p.jsonl", Pipe())),
            retry_policy=policy,
        )
    assert recorder.count == 1


@pytest.mark.parametrize(
    ("file", "filename", "text"),
    [
        (("only",), None, "tuple is"),
        (("a", BODY, None, {}, "extra"), None, "tuple is"),
        ((7, BODY), None, "filename"),
        (("", BODY), None, "filename"),
        (("a.jsonl", "text, not bytes"), None, "encode text"),
        (("a.jsonl", BODY, 5), None, "content type"),
        (("a.jsonl", BODY, "bad\ntype"), None, "file"),
        (("a.jsonl", BODY, None, {"X": 1}), None, "file"),
        (("a.jsonl", BODY), "b.jsonl", "given twice"),
        (("a.jsonl", 42), None, "expected a path"),
    ],
)
def test_bad_upload_tuples_are_refused_before_sending(run: Run, file: Any, filename: str | None, text: str) -> None:
    recorder = uploaded()
    with pytest.raises(InvalidParameterError, match=text):
        run(recorder, lambda c: c.files.create(file=file, filename=filename))
    assert recorder.count == 0


def test_the_same_name_twice_is_fine(run: Run) -> None:
    recorder = uploaded()
    run(recorder, lambda c: c.files.create(file=("a.jsonl", BODY), filename="a.jsonl"))
    assert file_part(recorder.requests[0]).filename == "a.jsonl"


# ---------------------------------------------------------------------------------------------------- downloads


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __iter__(self) -> Any:
        yield BODY[:7]
        yield BODY[7:]

    async def __aiter__(self) -> Any:
        yield BODY[:7]
        yield BODY[7:]


def download() -> Recorder:
    return Recorder(lambda request: httpx.Response(200, stream=Chunks(), headers={"content-length": str(len(BODY))}))


def test_sync_content_has_the_sdks_names(tmp_path: Path) -> None:
    with sync_client(download()) as client:
        content = client.files.content("file-abc123")
        assert isinstance(content, FileContent) and not content.response.is_closed
        assert content.content == BODY and content.read() == BODY and content.text == BODY.decode()
        assert content.response.is_closed
        assert b"".join(client.files.content("file-abc123").iter_bytes()) == BODY
        client.files.content("file-abc123").write_to_file(tmp_path / "w.jsonl")
        client.files.content("file-abc123").stream_to_file(tmp_path / "s.jsonl", chunk_size=5)
    assert (tmp_path / "w.jsonl").read_bytes() == (tmp_path / "s.jsonl").read_bytes() == BODY


def test_async_content_works_with_async_with_and_with_await(tmp_path: Path) -> None:
    async def main() -> None:
        async with async_client(download()) as client:
            async with client.files.content("file-abc123") as content:
                assert isinstance(content, AsyncFileContent)
                assert [line async for line in content.iter_lines()] == ['{"custom_id": "a"}', '{"custom_id": "b"}']
            assert content.response.is_closed

            async with client.files.content("file-abc123") as unread:
                pass
            assert unread.response.is_closed  # the block closes a body left unread

            async with client.files.content("file-abc123") as streamed:
                with pytest.raises(OpenAIBatchesError, match=r"await content\.read\(\)"):
                    _ = streamed.content
                assert await streamed.read() == BODY and streamed.content == BODY and streamed.text == BODY.decode()

            # `await` reads the body into memory, as the official SDK does: its sync accessors work as they are.
            awaited = await client.files.content("file-abc123")
            assert awaited.content == BODY and awaited.text == BODY.decode() and awaited.read() == BODY
            (await client.files.content("file-abc123")).write_to_file(tmp_path / "sdk.jsonl")
            await (await client.files.content("file-abc123")).stream_to_file(tmp_path / "a.jsonl", chunk_size=4)
            async with await client.files.content("file-abc123") as older_style:  # still works
                assert await older_style.read() == BODY

    asyncio.run(main())
    assert (tmp_path / "a.jsonl").read_bytes() == BODY
    assert (tmp_path / "sdk.jsonl").read_bytes() == BODY


def test_async_content_checks_its_arguments_right_away() -> None:
    client = async_client(download())
    with pytest.raises(InvalidParameterError):
        client.files.content("")


def test_retrieve_content_is_a_deprecated_alias_for_the_text(run: Run) -> None:
    recorder = download()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = run(recorder, lambda c: c.files.retrieve_content("file-abc123"))
    assert text == BODY.decode()
    assert [w.category for w in caught] == [DeprecationWarning] and "content(" in str(caught[0].message)
    assert recorder.requests[0].url.path == "/v1/files/file-abc123/content"


# ---------------------------------------------------------------------------------------------------- processing


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep, clock=lambda: self.now)


def statuses(*sequence: str) -> Recorder:
    left = list(sequence)

    def respond(request: httpx.Request) -> httpx.Response:
        status = left.pop(0) if len(left) > 1 else left[0]
        return json_response(200, {**FILE, "status": status})

    return Recorder(respond)


@pytest.mark.parametrize("final", ["processed", "error", "deleted"])
def test_wait_for_processing_polls_until_a_final_status(run: Run, final: str) -> None:
    clock = Clock()
    recorder = statuses("uploaded", "uploaded", final)
    got = run(
        recorder, lambda c: c.files.wait_for_processing("file-abc123", poll_interval=2), retry_policy=clock.policy()
    )
    assert got.status == final and recorder.count == 3
    assert clock.sleeps == [2, 2]
    assert all(r.url.path == "/v1/files/file-abc123" for r in recorder.requests)


def test_wait_for_processing_gives_up_after_max_wait_seconds(run: Run) -> None:
    clock = Clock()
    recorder = statuses("uploaded")
    with pytest.raises(FileWaitTimeout) as caught:
        run(
            recorder,
            lambda c: c.files.wait_for_processing("file-abc123", poll_interval=4, max_wait_seconds=10),
            retry_policy=clock.policy(),
        )
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, TimeoutError)  # as the SDK raises
    assert caught.value.file.status == "uploaded" and "file-abc123" in str(caught.value)
    assert clock.sleeps == [4, 4, 2] and recorder.count == 4


@pytest.mark.parametrize(
    ("arguments", "param"),
    [({"poll_interval": 0}, "poll_interval"), ({"max_wait_seconds": -1}, "max_wait_seconds"), ({"id": ""}, "id")],
)
def test_wait_for_processing_refuses_bad_arguments(run: Run, arguments: dict[str, Any], param: str) -> None:
    recorder = statuses("processed")
    call = {"id": "file-abc123", **arguments}
    with pytest.raises(InvalidParameterError) as caught:
        run(recorder, lambda c: c.files.wait_for_processing(**call))
    assert caught.value.param == param and recorder.count == 0


# ---------------------------------------------------------------------------------------------------- pages


def test_next_page_info_names_the_cursor_of_the_next_page(run: Run) -> None:
    more = run(
        Recorder(lambda r: json_response(200, list_body(["b1", "b2"], has_more=True))), lambda c: c.batches.list()
    )
    assert more.next_page_info() == PageInfo(params={"after": "b2"})
    last = run(Recorder(lambda r: json_response(200, list_body(["b3"], has_more=False))), lambda c: c.batches.list())
    assert last.next_page_info() is None
    empty = run(Recorder(lambda r: json_response(200, list_body([], has_more=True))), lambda c: c.batches.list())
    assert empty.next_page_info() is None
