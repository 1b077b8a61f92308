"""An incremental `multipart/form-data` parser: file parts go straight to disk, memory stays flat.

The standard library's `cgi.FieldStorage` is deprecated (removed in 3.13) and `email.parser` wants the whole body in
memory. Uploads here reach 512 MB, so this parser keeps a buffer of one read plus one boundary: it searches that
buffer for the next delimiter, writes everything that cannot be part of a delimiter to the part's sink, and carries
only the undecided tail into the next read.
"""

from __future__ import annotations

import email.message
import email.utils
import hashlib
import os
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from .request_body import BodyReader

CHUNK_SIZE = 64 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_PARTS = 64


class MultipartError(Exception):
    """The body is not well-formed multipart/form-data."""


class PartTooLarge(MultipartError):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"'{name}' exceeds the limit of {limit} bytes")
        self.name = name
        self.limit = limit


@dataclass
class UploadedFile:
    name: str
    filename: str
    content_type: str | None
    path: Path
    size: int
    sha256: str


@dataclass
class FormData:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove temporary files that were not moved elsewhere."""
        for upload in self.files.values():
            upload.path.unlink(missing_ok=True)


def boundary_from_content_type(content_type: str) -> bytes:
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        raise MultipartError(f"expected Content-Type multipart/form-data, got {content_type or 'none'!r}")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 200:
        raise MultipartError("the multipart/form-data Content-Type has no usable boundary")
    return boundary.encode("latin-1")


def parse_multipart(
    body: BodyReader,
    boundary: bytes,
    *,
    temp_dir: Path,
    max_file_bytes: int,
    file_fields: Collection[str] = ("file",),
    max_field_bytes: int = MAX_FIELD_BYTES,
    chunk_size: int = CHUNK_SIZE,
) -> FormData:
    """Parse the whole body. A part with a filename, or named in `file_fields`, is written to a file in `temp_dir`."""
    parser = _Parser(body, boundary, chunk_size)
    form = FormData()
    try:
        parser.skip_preamble()
        parts = 0
        while parser.next_part():
            parts += 1
            if parts > MAX_PARTS:
                raise MultipartError(f"more than {MAX_PARTS} parts")
            name, filename, content_type = parser.read_part_headers()
            if filename is not None or name in file_fields:
                if name in form.files:
                    raise MultipartError(f"more than one file in '{name}'")
                form.files[name] = _receive_file(parser, temp_dir, name, filename, content_type, max_file_bytes)
            else:
                form.fields[name] = _receive_field(parser, name, max_field_bytes)
        parser.skip_epilogue()
    except BaseException:
        form.discard()
        raise
    return form


def _receive_file(
    parser: _Parser, temp_dir: Path, name: str, filename: str | None, content_type: str | None, limit: int
) -> UploadedFile:
    fd, raw_path = tempfile.mkstemp(prefix="upload-", dir=temp_dir)
    path = Path(raw_path)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as sink:

            def write(data: bytes | bytearray) -> None:
                nonlocal size
                size += len(data)
                if size > limit:
                    raise PartTooLarge(name, limit)
                digest.update(data)
                sink.write(data)

            parser.copy_part(write)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return UploadedFile(name, filename or "file", content_type, path, size, digest.hexdigest())


def _receive_field(parser: _Parser, name: str, limit: int) -> str:
    value = bytearray()

    def write(data: bytes | bytearray) -> None:
        if len(value) + len(data) > limit:
            raise PartTooLarge(name, limit)
        value.extend(data)

    parser.copy_part(write)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise MultipartError(f"field '{name}' is not valid UTF-8") from None


class _Parser:
    def __init__(self, body: BodyReader, boundary: bytes, chunk_size: int) -> None:
        self._body = body
        self._chunk_size = chunk_size
        # Every delimiter after the first is CRLF + "--" + boundary; a CRLF put in front of the body lets the first
        # one (which may open the body directly) be found by the same search.
        self._delimiter = b"\r\n--" + boundary
        self._buffer = bytearray(b"\r\n")
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._body.read(self._chunk_size)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def skip_preamble(self) -> None:
        self.copy_part(lambda _data: None)

    def next_part(self) -> bool:
        """After a delimiter: True if a part follows, False at the closing delimiter."""
        while len(self._buffer) < 2:
            if not self._fill():
                raise MultipartError("body ended after a boundary")
        if self._buffer[:2] == b"--":
            return False
        line = self._line()
        if line.strip(b" \t"):
            raise MultipartError("unexpected data after a boundary")
        return True

    def read_part_headers(self) -> tuple[str, str | None, str | None]:
        message = email.message.Message()
        total = 0
        while line := self._line():
            total += len(line)
            if total > MAX_HEADER_BYTES:
                raise MultipartError("part headers too large")
            key, sep, value = line.decode("utf-8", errors="replace").partition(":")
            if not sep:
                raise MultipartError("malformed part header")
            message[key.strip()] = value.strip()
        if message.get_content_disposition() != "form-data":
            raise MultipartError("a part has no Content-Disposition: form-data header")
        name = message.get_param("name", header="content-disposition")
        if name is None:
            raise MultipartError("a part has no name")
        raw_filename = message.get_param("filename", header="content-disposition")
        filename = None if raw_filename is None else message.get_filename()
        content_type = message.get("content-type")
        return email.utils.collapse_rfc2231_value(name), filename, content_type

    def copy_part(self, write: Callable[[bytes | bytearray], None]) -> None:
        """Hand the part's bytes to `write` up to the next delimiter, and consume the delimiter."""
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        while True:
            index = self._buffer.find(delimiter)
            if index >= 0:
                if index:
                    write(self._buffer[:index])
                del self._buffer[: index + len(delimiter)]
                return
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                write(self._buffer[:cut])
                del self._buffer[:cut]
            if not self._fill():
                raise MultipartError("body ended before the closing boundary")

    def _line(self) -> bytes:
        start = 0
        while True:
            index = self._buffer.find(b"\r\n", start)
            if index >= 0:
                line = bytes(self._buffer[:index])
                del self._buffer[: index + 2]
                return line
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise MultipartError("part header line too long")
            start = max(0, len(self._buffer) - 1)
            if not self._fill():
                raise MultipartError("body ended inside part headers")

    def skip_epilogue(self) -> None:
        # Whatever follows the closing delimiter is ignored, but it must leave the socket for keep-alive to work.
        self._buffer.clear()
        while self._fill():
            self._buffer.clear()
