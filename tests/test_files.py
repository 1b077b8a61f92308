"""`client.files`, sync and async: the exact requests on the wire (multipart uploads included) and the parsed results.

Large-body streaming (uploads from disk, downloads with flat memory, broken connections) is in test_files_streaming.py.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import (
    API_KEY,
    BASE_URL,
    CALL_IN,
    FILE,
    Chunks,
    Recorder,
    async_client,
    boundary_of,
    fields,
    file_body,
    file_part,
    json_response,
    multipart,
    sync_client,
)
from openai_batches import (
    AsyncFileContent,
    FileContent,
    FileDeleted,
    FileObject,
    FilePurpose,
    InvalidParameterError,
    NotFoundError,
    OpenAIBatchesError,
    OutputExpiresAfter,
    RetryPolicy,
)
from openai_batches_generated.models import FileExpirationAnchor, FileUploadPurpose, ListOrder

# Bytes that break a naive multipart encoder: the generated fixed boundary "+++" after a line break, CRLFs, a NUL,
# bytes that are not UTF-8, and no trailing newline.
TRICKY = b'{"custom_id": "r1"}\r\n--+++\r\n--+++--\r\n\x00\xff\xfe binary \xe2\x82\r\n\r\nlast line'


def files_page(ids: list[str], *, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [file_body(i) for i in ids],
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
        "has_more": has_more,
    }


def answer(body: object) -> Recorder:
    return Recorder(lambda request: json_response(200, body, {"x-request-id": "req_files"}))


def no_sleep_policy() -> RetryPolicy:
    async def async_sleep(seconds: float) -> None:
        return None

    return RetryPolicy(sleep=lambda seconds: None, async_sleep=async_sleep)


def fail_first(status: int, body: object) -> Recorder:
    """Answers `status` to the first request and 200 with `body` afterwards."""

    def respond(request: httpx.Request) -> httpx.Response:
        if recorder.count == 1:
            return json_response(status, {"error": {"message": "try again", "type": "server_error"}})
        return json_response(200, body)

    recorder = Recorder(respond)
    return recorder


# --- running one call in either mode ------------------------------------------------------------------------------

Run = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    """`run(recorder, lambda client: client.files.<op>(...), **client_options)` through either client class."""
    return CALL_IN[request.param]


# --- create -------------------------------------------------------------------------------------------------------


def test_create_from_a_path_sends_the_file_and_purpose_as_multipart(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(TRICKY)
    recorder = answer(file_body(bytes=len(TRICKY)))

    created = run(recorder, lambda c: c.files.create(file=path))

    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/files")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    boundary = boundary_of(request)
    assert boundary and boundary != "+++"
    assert request.headers["content-length"] == str(len(request.content))
    parts = multipart(request)
    assert [(p.name, p.filename, p.data) for p in parts] == [
        ("file", "requests.jsonl", TRICKY),
        ("purpose", None, b"batch"),
    ]
    assert parts[0].content_type  # the file part says what it is
    assert isinstance(created, FileObject)
    assert (created.id, created.bytes_, created.filename) == ("file-abc123", len(TRICKY), "requests.jsonl")
    assert created.purpose == FilePurpose.BATCH


def test_an_upload_is_multipart_whatever_the_clients_default_headers_say(run: Run) -> None:
    # A gateway client may send a Content-Type on every request; an upload's must still be the multipart one.
    recorder = answer(FILE)
    headers = {"Content-Type": "application/json", "X-Team": "search"}
    run(recorder, lambda c: c.files.create(file=("r.jsonl", b"{}\n")), default_headers=headers)
    (request,) = recorder.requests
    assert boundary_of(request) != "+++"
    assert request.headers["x-team"] == "search"
    assert [(p.name, p.data) for p in multipart(request)] == [("file", b"{}\n"), ("purpose", b"batch")]


def test_create_accepts_a_str_path(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "nested.name.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=str(path)))
    part = file_part(recorder.requests[0])
    assert (part.filename, part.data) == ("nested.name.jsonl", b'{"a": 1}\n')


def test_create_from_bytes_uses_a_jsonl_default_filename(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=TRICKY))
    request = recorder.requests[0]
    part = file_part(request)
    assert part.data == TRICKY
    # The service refuses batch input files without the .jsonl extension.
    assert part.filename and part.filename.endswith(".jsonl")
    assert fields(request)["purpose"] == b"batch"


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_create_from_other_bytes_like_objects(run: Run, kind: Callable[[bytes], Any]) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=kind(TRICKY)))
    assert file_part(recorder.requests[0]).data == TRICKY


def test_create_from_a_binary_file_object_uses_its_name(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "from_handle.jsonl"
    path.write_bytes(TRICKY)
    recorder = answer(FILE)
    with path.open("rb") as handle:
        run(recorder, lambda c: c.files.create(file=handle))
    part = file_part(recorder.requests[0])
    assert (part.filename, part.data) == ("from_handle.jsonl", TRICKY)


def test_create_from_an_unnamed_file_object_uses_the_default_filename(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=io.BytesIO(TRICKY)))
    part = file_part(recorder.requests[0])
    assert part.data == TRICKY
    assert part.filename and part.filename.endswith(".jsonl")


def test_a_file_object_named_by_a_descriptor_number_gets_the_default_filename(run: Run) -> None:
    recorder = answer(FILE)
    with tempfile.TemporaryFile() as handle:
        handle.write(TRICKY)
        handle.flush()
        assert isinstance(handle.name, int)
        run(recorder, lambda c: c.files.create(file=handle))
    part = file_part(recorder.requests[0])
    assert part.data == TRICKY
    assert part.filename and part.filename.endswith(".jsonl"), part.filename


@pytest.mark.parametrize("source", ["path", "bytes", "file object"])
def test_create_filename_overrides_the_derived_one(run: Run, tmp_path: Path, source: str) -> None:
    path = tmp_path / "derived.jsonl"
    path.write_bytes(TRICKY)
    recorder = answer(FILE)
    with path.open("rb") as handle:
        file: Any = {"path": path, "bytes": TRICKY, "file object": handle}[source]
        run(recorder, lambda c: c.files.create(file=file, filename="chosen.jsonl"))
    part = file_part(recorder.requests[0])
    assert (part.filename, part.data) == ("chosen.jsonl", TRICKY)


def test_each_upload_gets_a_fresh_random_boundary(run: Run) -> None:
    recorder = answer(FILE)

    def upload_twice(c: Any) -> Any:
        first = c.files.create(file=b"x")
        if not inspect.isawaitable(first):
            return c.files.create(file=b"y")

        async def rest() -> Any:
            await first
            return await c.files.create(file=b"y")

        return rest()

    run(recorder, upload_twice)
    boundaries = [boundary_of(request) for request in recorder.requests]
    assert len(boundaries) == 2
    assert boundaries[0] != boundaries[1]
    assert "+++" not in boundaries
    assert all(len(b) >= 16 for b in boundaries)


def test_create_purpose_can_be_an_enum_member(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=b"{}", purpose=FileUploadPurpose.FINE_TUNE))
    assert fields(recorder.requests[0])["purpose"] == b"fine-tune"


def test_create_passes_a_purpose_this_version_does_not_know(run: Run) -> None:
    recorder = answer(file_body(purpose="future_purpose"))
    created = run(recorder, lambda c: c.files.create(file=b"{}", purpose="future_purpose"))
    assert fields(recorder.requests[0])["purpose"] == b"future_purpose"
    assert created.purpose == "future_purpose"


def test_create_sends_expires_after_as_bracketed_form_fields(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=b"{}", expires_after={"anchor": "created_at", "seconds": 3600}))
    parts = multipart(recorder.requests[0])
    assert [(p.name, p.data) for p in parts[1:]] == [
        ("purpose", b"batch"),
        ("expires_after[anchor]", b"created_at"),
        ("expires_after[seconds]", b"3600"),
    ]
    assert parts[0].name == "file"


def test_create_accepts_expires_after_as_a_model_and_without_anchor(run: Run) -> None:
    recorder = answer(FILE)
    expiry = OutputExpiresAfter(anchor=FileExpirationAnchor.CREATED_AT, seconds=2_592_000)
    run(recorder, lambda c: c.files.create(file=b"{}", expires_after=expiry))
    sent = fields(recorder.requests[0])
    assert (sent["expires_after[anchor]"], sent["expires_after[seconds]"]) == (b"created_at", b"2592000")

    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=b"{}", expires_after={"seconds": 86400}))
    sent = fields(recorder.requests[0])
    assert (sent["expires_after[anchor]"], sent["expires_after[seconds]"]) == (b"created_at", b"86400")


def test_create_without_expires_after_sends_no_expiry_fields(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=b"{}", expires_after=None))
    assert set(fields(recorder.requests[0])) == {"file", "purpose"}


@pytest.mark.parametrize(
    "expires_after",
    [
        {"anchor": "created_at", "seconds": 3599},
        {"anchor": "created_at", "seconds": 2_592_001},
        {"anchor": "created_at", "seconds": 0},
        {"anchor": "created_at", "seconds": "3600"},
        {"anchor": "created_at", "seconds": True},
        {"anchor": "created_at", "seconds": 3600.0},
        {"anchor": "updated_at", "seconds": 3600},
        {"anchor": "created_at"},
        {"anchor": "created_at", "seconds": 3600, "extra": 1},
        3600,
        "1h",
    ],
)
def test_bad_expires_after_is_refused_before_sending(run: Run, expires_after: Any) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.create(file=b"{}", expires_after=expires_after))
    assert info.value.param == "expires_after"
    assert recorder.requests == []


@pytest.mark.parametrize("purpose", ["", None, 3])
def test_bad_purpose_is_refused_before_sending(run: Run, purpose: Any) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.create(file=b"{}", purpose=purpose))
    assert info.value.param == "purpose"
    assert recorder.requests == []


@pytest.mark.parametrize("filename", ["", "   ", 5])
def test_bad_filename_is_refused_before_sending(run: Run, filename: Any) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.create(file=b"{}", filename=filename))
    assert info.value.param == "filename"
    assert recorder.requests == []


def test_a_text_mode_file_is_refused(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "text.jsonl"
    path.write_text('{"a": 1}\n')
    recorder = answer(FILE)
    with path.open("r") as handle, pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.create(file=handle))
    assert info.value.param == "file"
    assert "binary" in str(info.value)
    with pytest.raises(InvalidParameterError):
        run(recorder, lambda c: c.files.create(file=io.StringIO('{"a": 1}\n')))
    assert recorder.requests == []


def test_a_text_mode_temporary_file_wrapper_is_refused(run: Run) -> None:
    recorder = answer(FILE)
    with tempfile.NamedTemporaryFile("w+", newline="") as handle:
        handle.write('{"a": 1}\r\n')
        handle.flush()
        handle.seek(0)
        with pytest.raises(InvalidParameterError) as info:
            run(recorder, lambda c: c.files.create(file=handle))
    assert info.value.param == "file"
    assert recorder.requests == []


def test_a_missing_path_or_a_directory_is_refused(run: Run, tmp_path: Path) -> None:
    recorder = answer(FILE)
    for missing in (tmp_path / "nope.jsonl", str(tmp_path / "nope.jsonl"), tmp_path):
        with pytest.raises(InvalidParameterError) as info:
            run(recorder, lambda c, missing=missing: c.files.create(file=missing))
        assert info.value.param == "file"
    assert recorder.requests == []


def test_the_missing_path_is_named_in_the_error(run: Run, tmp_path: Path) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError, match=r"nope\.jsonl"):
        run(recorder, lambda c: c.files.create(file=tmp_path / "nope.jsonl"))


@pytest.mark.parametrize("file", [None, 12, ["a"], {"file": b"x"}])
def test_an_unsupported_file_value_is_refused(run: Run, file: Any) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.create(file=file))
    assert info.value.param == "file"
    assert recorder.requests == []


# --- create: retries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["path", "bytes", "file object"])
def test_a_retried_upload_resends_the_whole_file(run: Run, tmp_path: Path, source: str) -> None:
    path = tmp_path / "retry.jsonl"
    content = TRICKY * 50_000  # ~3.8 MB: more than one read chunk
    path.write_bytes(content)
    recorder = fail_first(500, file_body(bytes=len(content)))
    with path.open("rb") as handle:
        file: Any = {"path": path, "bytes": content, "file object": handle}[source]
        created = run(recorder, lambda c: c.files.create(file=file, max_retries=2), retry_policy=no_sleep_policy())
    assert created.bytes_ == len(content)
    assert recorder.count == 2
    first, second = (multipart(request) for request in recorder.requests)
    assert [(p.name, p.filename, p.data) for p in second] == [(p.name, p.filename, p.data) for p in first]
    assert second[0].data == content


class PipeLike:
    """A readable, non-seekable stream (think a socket or a subprocess's stdout) without a file descriptor."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return self._data.read(size)

    def seekable(self) -> bool:
        return False


def test_a_non_seekable_stream_is_sent_once_and_never_retried(run: Run) -> None:
    recorder = fail_first(500, FILE)
    stream = PipeLike(TRICKY)
    with pytest.raises(OpenAIBatchesError) as info:
        run(recorder, lambda c: c.files.create(file=stream, max_retries=3), retry_policy=no_sleep_policy())
    assert getattr(info.value, "status_code", None) == 500
    assert recorder.count == 1
    assert file_part(recorder.requests[0]).data == TRICKY


def test_a_non_seekable_stream_uploads_when_the_first_answer_is_good(run: Run) -> None:
    recorder = answer(FILE)
    run(recorder, lambda c: c.files.create(file=PipeLike(TRICKY), filename="piped.jsonl"))
    part = file_part(recorder.requests[0])
    assert (part.filename, part.data) == ("piped.jsonl", TRICKY)


def test_a_real_pipe_is_sent_with_a_correct_length(run: Run) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, TRICKY)
    os.close(write_end)
    recorder = answer(FILE)
    with os.fdopen(read_end, "rb") as pipe:
        run(recorder, lambda c: c.files.create(file=pipe, filename="piped.jsonl"))
    request = recorder.requests[0]
    declared = request.headers.get("content-length")
    assert declared is None or int(declared) == len(request.content)
    assert file_part(request).data == TRICKY


# --- retrieve and delete ------------------------------------------------------------------------------------------


def test_retrieve(run: Run) -> None:
    recorder = answer(file_body("file-xyz", purpose="batch_output", filename="batch_out.jsonl"))
    got = run(recorder, lambda c: c.files.retrieve("file-xyz"))
    (request,) = recorder.requests
    assert (request.method, str(request.url), request.content) == ("GET", f"{BASE_URL}/files/file-xyz", b"")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert isinstance(got, FileObject)
    assert (got.id, got.filename, got.bytes_, got.created_at) == ("file-xyz", "batch_out.jsonl", 120000, 1677610602)
    assert got.purpose == FilePurpose.BATCH_OUTPUT
    assert got.expires_at == 1680202602


def test_delete(run: Run) -> None:
    recorder = answer({"id": "file-xyz", "object": "file", "deleted": True})
    deleted = run(recorder, lambda c: c.files.delete("file-xyz"))
    (request,) = recorder.requests
    assert (request.method, str(request.url), request.content) == ("DELETE", f"{BASE_URL}/files/file-xyz", b"")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert isinstance(deleted, FileDeleted)
    assert (deleted.id, deleted.deleted) == ("file-xyz", True)


def test_retrieve_of_an_unknown_file_raises_not_found(run: Run) -> None:
    error_body = {
        "error": {"message": "No such File object: file-nope", "type": "invalid_request_error", "param": "id"}
    }
    recorder = Recorder(lambda request: json_response(404, error_body, {"x-request-id": "req_404"}))
    with pytest.raises(NotFoundError) as info:
        run(recorder, lambda c: c.files.retrieve("file-nope"))
    assert info.value.status_code == 404
    assert info.value.body == error_body["error"]
    assert info.value.request_id == "req_404"
    assert "No such File object" in str(info.value)


def _read_all(content: Any) -> Any:
    if isinstance(content, FileContent):
        return content.read()

    async def read() -> bytes:
        return await (await content).read()

    return read()


@pytest.mark.parametrize(
    ("file_id", "raw_path"),
    [
        ("../batches/x", "/v1/files/..%2Fbatches%2Fx"),
        ("file?x=1#y", "/v1/files/file%3Fx%3D1%23y"),
        ("a b/c", "/v1/files/a%20b%2Fc"),
        ("fïle", "/v1/files/f%C3%AFle"),
    ],
)
@pytest.mark.parametrize("operation", ["retrieve", "delete", "content"])
def test_path_ids_are_percent_encoded(run: Run, file_id: str, raw_path: str, operation: str) -> None:
    body: object = {"retrieve": FILE, "delete": {"id": "x", "object": "file", "deleted": True}, "content": "x"}[
        operation
    ]
    recorder = answer(body)

    def call(c: Any) -> Any:
        result = getattr(c.files, operation)(file_id)
        return _read_all(result) if operation == "content" else result

    run(recorder, call)
    expected = raw_path + ("/content" if operation == "content" else "")
    assert recorder.requests[0].url.raw_path.decode() == expected


@pytest.mark.parametrize("file_id", ["", "   ", ".", "..", None, 7, b"file-1"])
@pytest.mark.parametrize("operation", ["retrieve", "delete", "content"])
def test_bad_ids_are_refused_before_sending(run: Run, file_id: Any, operation: str) -> None:
    recorder = answer(FILE)
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: getattr(c.files, operation)(file_id))
    assert info.value.param == "file_id"
    assert recorder.requests == []


# --- list ---------------------------------------------------------------------------------------------------------


def test_list_sends_its_query_and_parses_the_page(run: Run) -> None:
    recorder = answer(files_page(["file-1", "file-2"], has_more=True))
    page = run(recorder, lambda c: c.files.list(purpose="batch", limit=2, order="asc", after="file-0"))
    (request,) = recorder.requests
    assert (request.method, request.url.path) == ("GET", "/v1/files")
    assert dict(request.url.params) == {"purpose": "batch", "limit": "2", "order": "asc", "after": "file-0"}
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert [f.id for f in page.data] == ["file-1", "file-2"]
    assert all(isinstance(f, FileObject) for f in page.data)
    assert (page.has_more, page.first_id, page.last_id) == (True, "file-1", "file-2")
    assert recorder.count == 1  # the first page alone costs one request


def test_list_without_arguments_sends_no_query(run: Run) -> None:
    recorder = answer(files_page([], has_more=False))
    page = run(recorder, lambda c: c.files.list())
    assert recorder.requests[0].url.query == b""
    assert page.data == []
    assert page.has_more is False


@pytest.mark.parametrize(("limit", "order"), [(1, ListOrder.DESC), (10_000, "desc"), (10_000, ListOrder.ASC)])
def test_list_accepts_limits_at_the_edges_and_order_enums(run: Run, limit: int, order: Any) -> None:
    recorder = answer(files_page([], has_more=False))
    run(recorder, lambda c: c.files.list(limit=limit, order=order))
    assert dict(recorder.requests[0].url.params) == {"limit": str(limit), "order": str(ListOrder(order).value)}


def test_list_passes_a_purpose_this_version_does_not_know(run: Run) -> None:
    recorder = answer(files_page([], has_more=False))
    run(recorder, lambda c: c.files.list(purpose="future_purpose"))
    assert dict(recorder.requests[0].url.params) == {"purpose": "future_purpose"}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"limit": 2.0}, "limit"),
        ({"order": "up"}, "order"),
        ({"order": "ASC"}, "order"),
        ({"order": ""}, "order"),
        ({"order": 1}, "order"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": 5}, "purpose"),
        ({"after": ""}, "after"),
        ({"after": 5}, "after"),
    ],
)
def test_bad_list_arguments_are_refused_before_any_request(run: Run, kwargs: dict[str, Any], param: str) -> None:
    recorder = answer(files_page(["file-1"], has_more=False))
    # Refused at the call itself, before anything is awaited or iterated.
    with pytest.raises(InvalidParameterError) as info:
        run(recorder, lambda c: c.files.list(**kwargs) and None)
    assert info.value.param == param
    assert recorder.requests == []


def paged_server(pages: dict[str | None, tuple[list[str], bool]]) -> Recorder:
    """Answers `GET /files` from `pages`, keyed by the `after` cursor."""

    def respond(request: httpx.Request) -> httpx.Response:
        ids, has_more = pages[request.url.params.get("after")]
        return json_response(200, files_page(ids, has_more=has_more))

    return Recorder(respond)


PAGES: dict[str | None, tuple[list[str], bool]] = {
    None: (["file-1", "file-2"], True),
    "file-2": (["file-3", "file-4"], True),
    "file-4": (["file-5"], False),
}


def test_sync_list_walks_pages_lazily_with_the_last_id_as_cursor() -> None:
    recorder = paged_server(PAGES)
    with sync_client(recorder) as client:
        page = client.files.list(purpose="batch", limit=2, order="desc")
        assert recorder.count == 1
        items = iter(page)
        assert [next(items).id, next(items).id] == ["file-1", "file-2"]
        assert recorder.count == 1  # the second page is not fetched before it is needed
        assert next(items).id == "file-3"
        assert recorder.count == 2
        assert [f.id for f in items] == ["file-4", "file-5"]
    assert recorder.count == 3
    assert recorder.queries() == [
        {"purpose": "batch", "limit": "2", "order": "desc"},
        {"purpose": "batch", "limit": "2", "order": "desc", "after": "file-2"},
        {"purpose": "batch", "limit": "2", "order": "desc", "after": "file-4"},
    ]


def test_sync_list_pages_one_by_one() -> None:
    recorder = paged_server(PAGES)
    with sync_client(recorder) as client:
        pages = list(client.files.list(limit=2).iter_pages())
    assert [[f.id for f in p.data] for p in pages] == [["file-1", "file-2"], ["file-3", "file-4"], ["file-5"]]
    assert [q.get("after") for q in recorder.queries()] == [None, "file-2", "file-4"]


async def test_async_list_await_gives_the_first_page_and_walks_on_lazily() -> None:
    recorder = paged_server(PAGES)
    async with async_client(recorder) as client:
        paginator = client.files.list(purpose="batch", limit=2, order="asc")
        assert recorder.count == 0  # nothing is sent before it is awaited or iterated
        page = await paginator
        assert [f.id for f in page.data] == ["file-1", "file-2"]
        assert recorder.count == 1
        seen = []
        async for item in page:
            seen.append(item.id)
            if item.id == "file-2":
                assert recorder.count == 1
        assert seen == ["file-1", "file-2", "file-3", "file-4", "file-5"]
    assert recorder.queries() == [
        {"purpose": "batch", "limit": "2", "order": "asc"},
        {"purpose": "batch", "limit": "2", "order": "asc", "after": "file-2"},
        {"purpose": "batch", "limit": "2", "order": "asc", "after": "file-4"},
    ]


async def test_async_list_async_for_walks_every_file() -> None:
    recorder = paged_server(PAGES)
    async with async_client(recorder) as client:
        seen = [item.id async for item in client.files.list(limit=2)]
    assert seen == ["file-1", "file-2", "file-3", "file-4", "file-5"]
    assert [q.get("after") for q in recorder.queries()] == [None, "file-2", "file-4"]


async def test_async_list_starts_after_the_given_cursor() -> None:
    recorder = paged_server(PAGES)
    async with async_client(recorder) as client:
        seen = [item.id async for item in client.files.list(after="file-2")]
    assert seen == ["file-3", "file-4", "file-5"]
    assert [q.get("after") for q in recorder.queries()] == ["file-2", "file-4"]


# --- content ------------------------------------------------------------------------------------------------------

JSONL = '{"id": "batch_req_1", "custom_id": "r1", "text": "caf\u00e9 \u2603"}\r\n{"id": "batch_req_2"}\n\n{"x": 3}\n'
JSONL_BYTES = JSONL.encode()


def split_everywhere(data: bytes, size: int = 3) -> list[bytes]:
    """`data` in small chunks, so multi-byte characters and CRLFs are cut across chunk boundaries."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def content_server(data: bytes = JSONL_BYTES) -> Recorder:
    return Recorder(
        lambda request: httpx.Response(
            200,
            stream=Chunks(split_everywhere(data)),
            headers={"content-type": "application/octet-stream", "x-request-id": "req_dl"},
        )
    )


EXPECTED_LINES = ['{"id": "batch_req_1", "custom_id": "r1", "text": "café ☃"}', '{"id": "batch_req_2"}', "", '{"x": 3}']


def test_sync_content_request_and_every_way_to_read_it(tmp_path: Path) -> None:
    recorder = content_server()
    with sync_client(recorder) as client:
        content = client.files.content("file-out")
        assert isinstance(content, FileContent)
        assert content.request_id == "req_dl"
        assert b"".join(content.iter_bytes()) == JSONL_BYTES
        assert content.response.is_closed  # reading to the end closes the response

        assert list(client.files.content("file-out").iter_lines()) == EXPECTED_LINES
        assert client.files.content("file-out").read() == JSONL_BYTES
        assert client.files.content("file-out").text == JSONL

        target = tmp_path / "out.jsonl"
        written = client.files.content("file-out").write_to_file(target)
        assert written == len(JSONL_BYTES)
        assert target.read_bytes() == JSONL_BYTES
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]

        written = client.files.content("file-out").write_to_file(str(tmp_path / "again.jsonl"))
        assert (tmp_path / "again.jsonl").read_bytes() == JSONL_BYTES
        assert written == len(JSONL_BYTES)

    assert recorder.count == 6
    for request in recorder.requests:
        assert (request.method, str(request.url)) == ("GET", f"{BASE_URL}/files/file-out/content")
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.content == b""


async def test_async_content_request_and_every_way_to_read_it(tmp_path: Path) -> None:
    recorder = content_server()
    async with async_client(recorder) as client:
        # `await` reads the body into memory, as the official SDK does: its sync accessors work, awaiting works too.
        content = await client.files.content("file-out")
        assert isinstance(content, AsyncFileContent)
        assert content.request_id == "req_dl"
        assert content.response.is_closed
        assert content.content == JSONL_BYTES and content.text == JSONL
        assert content.read() == JSONL_BYTES and await content.read() == JSONL_BYTES
        assert b"".join(content.iter_bytes()) == JSONL_BYTES
        assert [line for line in content.iter_lines()] == EXPECTED_LINES
        assert [line async for line in content.iter_lines()] == EXPECTED_LINES
        target = tmp_path / "out.jsonl"
        assert content.write_to_file(target) == len(JSONL_BYTES)  # the SDK's sync call
        assert target.read_bytes() == JSONL_BYTES
        assert await content.write_to_file(tmp_path / "again.jsonl") == len(JSONL_BYTES)

        # `async with` streams: nothing is read until asked, and the sync accessors say how to read it.
        async with client.files.content("file-out") as streamed:
            assert not streamed.response.is_closed
            with pytest.raises(OpenAIBatchesError, match="has not been read"):
                _ = streamed.text
            with pytest.raises(TypeError, match="async for"):
                list(streamed.iter_lines())
            assert [line async for line in streamed.iter_lines()] == EXPECTED_LINES
        assert streamed.response.is_closed

        async with client.files.content("file-out") as streamed:
            assert await streamed.write_to_file(tmp_path / "streamed.jsonl") == len(JSONL_BYTES)
        assert (tmp_path / "streamed.jsonl").read_bytes() == JSONL_BYTES
        assert sorted(p.name for p in tmp_path.iterdir()) == ["again.jsonl", "out.jsonl", "streamed.jsonl"]

    assert recorder.count == 3
    for request in recorder.requests:
        assert (request.method, str(request.url)) == ("GET", f"{BASE_URL}/files/file-out/content")
        assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_write_to_file_replaces_an_existing_file(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old content that is longer than the new one " * 100)

    def call(c: Any) -> Any:
        result = c.files.content("file-out")
        if isinstance(result, FileContent):
            return result.write_to_file(target)

        async def write() -> int:
            return await (await result).write_to_file(target)

        return write()

    assert run(content_server(), call) == len(JSONL_BYTES)
    assert target.read_bytes() == JSONL_BYTES
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_write_to_file_gives_the_file_ordinary_permissions(run: Run, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    target = tmp_path / "out.jsonl"

    def call(c: Any) -> Any:
        result = c.files.content("file-out")
        if isinstance(result, FileContent):
            return result.write_to_file(target)

        async def write() -> int:
            return await (await result).write_to_file(target)

        return write()

    run(content_server(), call)
    assert target.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_write_to_file_into_a_missing_directory_closes_the_response(run: Run, tmp_path: Path) -> None:
    contents: list[Any] = []

    def call(c: Any) -> Any:
        result = c.files.content("file-out")
        if isinstance(result, FileContent):
            contents.append(result)
            return result.write_to_file(tmp_path / "missing" / "out.jsonl")

        async def write() -> int:
            content = await result
            contents.append(content)
            return await content.write_to_file(tmp_path / "missing" / "out.jsonl")

        return write()

    with pytest.raises(OSError):
        run(content_server(), call)
    assert contents[0].response.is_closed


def test_iter_lines_splits_multibyte_characters_and_crlf_across_chunks_correctly() -> None:
    data = "".join(f'{{"n": {i}, "s": "\u00e9\u4e2d\U0001f600"}}\r\n' for i in range(50)).encode()
    with sync_client(content_server(data)) as client:
        lines = list(client.files.content("file-out").iter_lines())
    assert [json.loads(line)["n"] for line in lines] == list(range(50))
    assert {json.loads(line)["s"] for line in lines} == {"\u00e9\u4e2d\U0001f600"}


def test_iter_lines_yields_one_json_document_per_jsonl_line(run: Run) -> None:
    records = [{"custom_id": f"r{i}", "text": "a\u2028b\u2029c\x85d"} for i in range(3)]
    data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()

    def call(c: Any) -> Any:
        result = c.files.content("file-out")
        if isinstance(result, FileContent):
            return list(result.iter_lines())

        async def lines() -> list[str]:
            return [line async for line in (await result).iter_lines()]

        return lines()

    lines = run(content_server(data), call)
    assert [json.loads(line) for line in lines] == records


def test_content_of_an_unknown_file_raises_not_found_with_the_error_body(run: Run) -> None:
    error_body = {
        "error": {
            "message": "No such File object: file-nope",
            "type": "invalid_request_error",
            "param": "id",
            "code": None,
        }
    }
    recorder = Recorder(lambda request: json_response(404, error_body, {"x-request-id": "req_404"}))
    with pytest.raises(NotFoundError) as info:
        run(recorder, lambda c: c.files.content("file-nope"))
    assert info.value.status_code == 404
    assert info.value.body == error_body["error"]
    assert info.value.request_id == "req_404"
    assert info.value.type == "invalid_request_error"
    assert "No such File object: file-nope" in str(info.value)
    assert recorder.count == 1


def test_content_is_retried_after_a_server_error(run: Run) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if recorder.count == 1:
            return json_response(503, {"error": {"message": "busy", "type": "server_error"}})
        return httpx.Response(200, stream=Chunks(split_everywhere(JSONL_BYTES)))

    recorder = Recorder(respond)
    data = run(
        recorder, lambda c: _read_all(c.files.content("file-out", max_retries=1)), retry_policy=no_sleep_policy()
    )
    assert data == JSONL_BYTES
    assert recorder.count == 2


def test_content_read_returns_the_exact_bytes_after_a_retry(run: Run) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if recorder.count == 1:
            return json_response(500, {"error": {"message": "oops", "type": "server_error"}})
        return httpx.Response(200, stream=Chunks(split_everywhere(TRICKY)))

    recorder = Recorder(respond)
    data = run(
        recorder, lambda c: _read_all(c.files.content("file-out", max_retries=2)), retry_policy=no_sleep_policy()
    )
    assert data == TRICKY


def test_sync_content_consumed_twice_raises_instead_of_returning_nothing() -> None:
    with sync_client(content_server()) as client:
        content = client.files.content("file-out")
        assert b"".join(content.iter_bytes()) == JSONL_BYTES
        with pytest.raises(OpenAIBatchesError):
            list(content.iter_bytes())


async def test_async_content_consumed_twice_raises_instead_of_returning_nothing() -> None:
    async with async_client(content_server()) as client:
        async with client.files.content("file-out") as content:
            assert [line async for line in content.iter_lines()] == EXPECTED_LINES
            with pytest.raises(OpenAIBatchesError):
                [line async for line in content.iter_lines()]
        # A body read into memory by `await` can be read as often as wanted.
        in_memory = await client.files.content("file-out")
        assert [line async for line in in_memory.iter_lines()] == EXPECTED_LINES
        assert [line async for line in in_memory.iter_lines()] == EXPECTED_LINES


def test_content_used_as_a_context_manager_closes_the_response() -> None:
    with sync_client(content_server()) as client:
        with client.files.content("file-out") as content:
            first = next(content.iter_bytes())
            assert first
            assert not content.response.is_closed
        assert content.response.is_closed


async def test_async_content_used_as_a_context_manager_closes_the_response() -> None:
    async with async_client(content_server()) as client:
        async with await client.files.content("file-out") as content:
            assert [chunk async for chunk in content.iter_bytes()][:1]
        assert content.response.is_closed
