"""Uploads on their own: python-multipart fed in pieces small enough to split every delimiter and header, the form
written to disk, and every refusal an API error that leaves no temporary file behind."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openai_batches_server.errors import APIError
from openai_batches_server.uploads import FormData, boundary_from_content_type, receive_form

BOUNDARY = b"----boundary42"
HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY.decode()}"}


def body(*parts: bytes, epilogue: bytes = b"") -> bytes:
    out = b""
    for part in parts:
        out += b"--" + BOUNDARY + b"\r\n" + part + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n" + epilogue


def field(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def file_part(name: str, filename: str, content: bytes) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return (head + "Content-Type: application/jsonl\r\n\r\n").encode() + content


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    """The body as a slow socket delivers it: never more than `size` bytes at a time."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def parse(
    data: bytes, tmp_path: Path, *, piece: int = 64 * 1024, headers: dict[str, str] | None = None, **limits: int
) -> FormData:
    limits.setdefault("max_file_bytes", 10**6)
    return asyncio.run(receive_form(pieces(data, piece), headers or HEADERS, temp_dir=tmp_path, **limits))


def refused(data: bytes, tmp_path: Path, status: int = 400, **kwargs: int) -> APIError:
    with pytest.raises(APIError) as caught:
        parse(data, tmp_path, **kwargs)
    assert caught.value.status == status, caught.value.message
    assert list(tmp_path.iterdir()) == [], "a refused upload left a temporary file"
    return caught.value


# Content that looks like delimiters but is not: a delimiter needs CRLF, "--" and the whole boundary.
TRICKY = (
    b"line one\r\n--"
    + BOUNDARY[:-1]
    + b"\r\nx--"
    + BOUNDARY
    + b"\n--"
    + BOUNDARY
    + b"\r\n\r\n--\r\n"
    + bytes(range(256)) * 50
)


@pytest.mark.parametrize("piece", [1, 3, 17, 64 * 1024])
def test_fields_and_file_survive_any_read_size(tmp_path: Path, piece: int) -> None:
    data = body(field("purpose", b"batch"), file_part("file", "in.jsonl", TRICKY), epilogue=b"ignored epilogue\r\n")
    form = parse(data, tmp_path, piece=piece)
    assert form.fields == {"purpose": "batch"}
    upload = form.files["file"]
    assert upload.filename == "in.jsonl"
    assert upload.content_type == "application/jsonl"
    assert upload.path.read_bytes() == TRICKY
    assert upload.path.parent == tmp_path
    assert upload.size == len(TRICKY)
    assert upload.sha256 == hashlib.sha256(TRICKY).hexdigest()


def test_empty_file_and_empty_field(tmp_path: Path) -> None:
    form = parse(body(field("purpose", b""), file_part("file", "e.jsonl", b"")), tmp_path, piece=5)
    assert form.fields == {"purpose": ""}
    assert form.files["file"].size == 0


def test_filename_with_quotes_and_unicode(tmp_path: Path) -> None:
    part = 'Content-Disposition: form-data; name="file"; filename="r\\"sum\u00e9 \u6587.jsonl"\r\n\r\n'.encode() + b"x"
    form = parse(body(part), tmp_path, piece=7)
    assert form.files["file"].filename == 'r"sum\u00e9 \u6587.jsonl'


def test_the_extended_filename_form_gives_a_filename_or_the_default(tmp_path: Path) -> None:
    # RFC 7578 forbids `filename*` in forms: recent python-multipart ignores it (the default name), older releases
    # decoded it. Either way the upload is kept under a sensible name.
    part = b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve.jsonl\r\n\r\nx"
    assert parse(body(part), tmp_path).files["file"].filename in ("file", "na\u00efve.jsonl")


def test_file_part_named_file_without_filename_is_still_a_file(tmp_path: Path) -> None:
    form = parse(body(field("file", b"abc")), tmp_path)
    assert form.files["file"].path.read_bytes() == b"abc"
    assert form.files["file"].filename == "file"


def test_a_file_over_the_limit_is_413_and_closes_the_connection(tmp_path: Path) -> None:
    error = refused(body(file_part("file", "a", b"x" * 101)), tmp_path, 413, piece=8, max_file_bytes=100)
    assert error.code == "file_too_large" and error.close_connection


def test_a_declared_length_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    headers = {**HEADERS, "content-length": str(10**9)}
    with pytest.raises(APIError) as caught:
        parse(b"never read", tmp_path, headers=headers, max_file_bytes=1000)
    assert caught.value.status == 413


def test_a_field_over_the_limit_is_refused(tmp_path: Path) -> None:
    error = refused(body(field("purpose", b"x" * 50)), tmp_path, piece=8, max_field_bytes=10)
    assert error.message == "Field 'purpose' is too long."


def test_a_field_given_twice_is_refused_not_overwritten(tmp_path: Path) -> None:
    error = refused(body(field("purpose", b"batch"), field("purpose", b"user_data")), tmp_path)
    assert (error.param, error.code) == ("purpose", "duplicate_parameter")
    refused(body(file_part("file", "a", b"1"), file_part("file", "b", b"2")), tmp_path)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"--" + BOUNDARY + b"\r\n" + field("purpose", b"batch"),  # no closing delimiter
        b"--" + BOUNDARY + b"\r\n" + file_part("file", "a", b"partial"),  # a file cut off
        b"--" + BOUNDARY + b"\r\nno-colon-header\r\n\r\nx\r\n--" + BOUNDARY + b"--",
        b"--" + BOUNDARY + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + BOUNDARY + b"--",  # no disposition
        b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + BOUNDARY + b"--",  # no name
        b"--" + BOUNDARY + b"garbage\r\n",
        body(field("purpose", b"\xff\xfe")),  # a field that is not UTF-8
        body(*[field(f"f{n}", b"x") for n in range(65)]),  # too many parts
        b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=a\r\nX: " + b"h" * 20_000 + b"\r\n\r\nx\r\n",
    ],
    ids=[
        "empty",
        "unterminated",
        "file-cut-off",
        "bad-header",
        "no-disposition",
        "no-name",
        "junk-after-boundary",
        "not-utf8",
        "too-many-parts",
        "huge-part-header",
    ],
)
def test_malformed_bodies_are_400_and_leave_nothing(tmp_path: Path, data: bytes) -> None:
    error = refused(data, tmp_path, piece=16)
    assert error.message.startswith("Invalid multipart request: ")


def test_boundary_from_content_type() -> None:
    assert boundary_from_content_type('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_from_content_type("multipart/form-data; charset=utf-8; boundary=xyz") == b"xyz"
    for bad in ("application/json", "multipart/form-data", "", "multipart/form-data; boundary=" + "x" * 201):
        with pytest.raises(APIError):
            boundary_from_content_type(bad)


def test_parses_exactly_what_httpx_sends(tmp_path: Path) -> None:
    content = b'{"custom_id": "a"}\n' * 1000
    request = httpx.Request(
        "POST",
        "http://x/v1/files",
        files={"file": ("in.jsonl", content, "application/jsonl")},
        data={"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
    )
    form = parse(request.read(), tmp_path, headers=dict(request.headers))
    assert form.fields == {"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}
    assert form.files["file"].path.read_bytes() == content
