"""The streaming multipart parser on its own, fed in pieces small enough to split every delimiter and header."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pytest
from openai_batches_server.multipart import (
    MultipartError,
    PartTooLarge,
    boundary_from_content_type,
    parse_multipart,
)
from openai_batches_server.request_body import ChunkedBody, LengthBody

BOUNDARY = b"----boundary42"


class Pieces:
    """A body reader that never returns more than `size` bytes per read, like a slow socket."""

    def __init__(self, data: bytes, size: int) -> None:
        self._stream = io.BytesIO(data)
        self._size = size
        self.finished = False

    def read(self, size: int) -> bytes:
        data = self._stream.read(min(size, self._size))
        self.finished = not data
        return data


def body(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    out = preamble
    for part in parts:
        out += b"--" + BOUNDARY + b"\r\n" + part + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n" + epilogue


def field(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def file_part(name: str, filename: str, content: bytes) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    return (head + "Content-Type: application/jsonl\r\n\r\n").encode() + content


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
    data = body(field("purpose", b"batch"), file_part("file", "in.jsonl", TRICKY), preamble=b"ignored preamble\r\n")
    form = parse_multipart(Pieces(data, piece), BOUNDARY, temp_dir=tmp_path, max_file_bytes=10**6, chunk_size=piece)
    assert form.fields == {"purpose": "batch"}
    upload = form.files["file"]
    assert upload.filename == "in.jsonl"
    assert upload.content_type == "application/jsonl"
    assert upload.path.read_bytes() == TRICKY
    assert upload.size == len(TRICKY)
    assert upload.sha256 == hashlib.sha256(TRICKY).hexdigest()


def test_empty_file_and_empty_field(tmp_path: Path) -> None:
    form = parse_multipart(
        Pieces(body(field("purpose", b""), file_part("file", "e.jsonl", b"")), 5),
        BOUNDARY,
        temp_dir=tmp_path,
        max_file_bytes=10,
    )
    assert form.fields == {"purpose": ""}
    assert form.files["file"].size == 0


def test_filename_with_quotes_and_unicode(tmp_path: Path) -> None:
    part = 'Content-Disposition: form-data; name="file"; filename="r\\"sum\u00e9 \u6587.jsonl"\r\n\r\n'.encode() + b"x"
    form = parse_multipart(Pieces(body(part), 7), BOUNDARY, temp_dir=tmp_path, max_file_bytes=10)
    assert form.files["file"].filename == 'r"sum\u00e9 \u6587.jsonl'


def test_rfc2231_filename(tmp_path: Path) -> None:
    part = b"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve.jsonl\r\n\r\nx"
    form = parse_multipart(Pieces(body(part), 64), BOUNDARY, temp_dir=tmp_path, max_file_bytes=10)
    assert form.files["file"].filename == "na\u00efve.jsonl"


def test_file_part_named_file_without_filename_is_still_a_file(tmp_path: Path) -> None:
    form = parse_multipart(Pieces(body(field("file", b"abc")), 64), BOUNDARY, temp_dir=tmp_path, max_file_bytes=10)
    assert form.files["file"].path.read_bytes() == b"abc"
    assert form.files["file"].filename == "file"


def test_file_over_the_limit_raises_and_leaves_no_temp_file(tmp_path: Path) -> None:
    with pytest.raises(PartTooLarge):
        parse_multipart(
            Pieces(body(file_part("file", "a", b"x" * 101)), 8), BOUNDARY, temp_dir=tmp_path, max_file_bytes=100
        )
    assert list(tmp_path.iterdir()) == []


def test_field_over_the_limit_raises(tmp_path: Path) -> None:
    with pytest.raises(PartTooLarge):
        parse_multipart(
            Pieces(body(field("purpose", b"x" * 50)), 8),
            BOUNDARY,
            temp_dir=tmp_path,
            max_file_bytes=100,
            max_field_bytes=10,
        )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"--" + BOUNDARY + b"\r\n" + field("purpose", b"batch"),  # no closing delimiter
        b"--" + BOUNDARY + b"\r\nno-colon-header\r\n\r\nx\r\n--" + BOUNDARY + b"--",
        b"--" + BOUNDARY + b"\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + BOUNDARY + b"--",  # no disposition
        b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + BOUNDARY + b"--",  # no name
        b"--" + BOUNDARY + b"garbage\r\n",
    ],
    ids=["empty", "unterminated", "bad-header", "no-disposition", "no-name", "junk-after-boundary"],
)
def test_malformed_bodies_raise(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(MultipartError):
        parse_multipart(Pieces(data, 16), BOUNDARY, temp_dir=tmp_path, max_file_bytes=100)
    assert list(tmp_path.iterdir()) == []


def test_boundary_from_content_type() -> None:
    assert boundary_from_content_type('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_from_content_type("multipart/form-data; charset=utf-8; boundary=xyz") == b"xyz"
    for bad in ("application/json", "multipart/form-data", ""):
        with pytest.raises(MultipartError):
            boundary_from_content_type(bad)


def test_parses_exactly_what_httpx_sends(tmp_path: Path) -> None:
    content = b'{"custom_id": "a"}\n' * 1000
    request = httpx.Request(
        "POST",
        "http://x/v1/files",
        files={"file": ("in.jsonl", content, "application/jsonl")},
        data={"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
    )
    wire = request.read()
    boundary = boundary_from_content_type(request.headers["content-type"])
    form = parse_multipart(LengthBody(io.BytesIO(wire), len(wire)), boundary, temp_dir=tmp_path, max_file_bytes=10**6)
    assert form.fields == {"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"}
    assert form.files["file"].path.read_bytes() == content


def test_chunked_transfer_encoding_is_decoded() -> None:
    wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    reader = ChunkedBody(io.BufferedReader(io.BytesIO(wire)))
    out = b""
    while chunk := reader.read(4):
        out += chunk
    assert out == b"hello world"
    assert reader.finished
