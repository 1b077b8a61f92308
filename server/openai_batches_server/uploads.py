"""multipart/form-data uploads, parsed by python-multipart as the bytes arrive and written straight to disk.

Memory stays flat whatever the upload's size: python-multipart hands over each part's bytes as slices of the chunk
just received, file parts go to a temporary file in the data directory (moved into place, never copied, once the
upload is accepted), and plain fields are held only up to a small limit. What the parser leaves to its caller is
checked here: part count, header and field sizes, the file size limit, and that a field comes at most once (the
last of two `purpose` fields must not silently win).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .errors import APIError, invalid_request, payload_too_large

MAX_FIELD_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_PARTS = 64
# Room for the part headers and boundaries around a file at the size limit.
MULTIPART_OVERHEAD = 64 * 1024


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
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise _invalid(f"expected Content-Type multipart/form-data, got {content_type or 'none'!r}")
    boundary = options.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 200:
        raise _invalid("the multipart/form-data Content-Type has no usable boundary")
    return boundary


async def receive_form(
    chunks: AsyncIterator[bytes],
    headers: Mapping[str, str],
    *,
    temp_dir: Path,
    max_file_bytes: int,
    file_fields: Collection[str] = ("file",),
    max_field_bytes: int = MAX_FIELD_BYTES,
) -> FormData:
    """The whole form. A part with a filename, or named in `file_fields`, is written to a file in `temp_dir`.

    Refusals are the API's errors: 413 (closing the connection) for a file over `max_file_bytes`, 400 for anything
    malformed, oversized or repeated.
    """
    boundary = boundary_from_content_type(headers.get("content-type", ""))
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_file_bytes + MULTIPART_OVERHEAD:
        raise file_too_large(max_file_bytes)
    collector = _Collector(temp_dir, max_file_bytes, file_fields, max_field_bytes)
    parser = MultipartParser(boundary, callbacks=collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
        if not collector.ended:
            raise _invalid("the body ended before the closing boundary")
    except MultipartParseError as exc:
        collector.discard()
        raise _invalid(str(exc).rstrip(".")) from None
    except BaseException:
        collector.discard()
        raise
    return collector.form


def file_too_large(limit: int) -> APIError:
    return payload_too_large(f"File is too large. The maximum file size is {limit} bytes.")


def _invalid(reason: str) -> APIError:
    return invalid_request(f"Invalid multipart request: {reason}.")


class _Collector:
    """python-multipart's callbacks: builds the form part by part, enforcing the limits as bytes arrive."""

    def __init__(self, temp_dir: Path, max_file_bytes: int, file_fields: Collection[str], max_field_bytes: int):
        self.form = FormData()
        self.ended = False
        self._temp_dir = temp_dir
        self._max_file_bytes = max_file_bytes
        self._file_fields = file_fields
        self._max_field_bytes = max_field_bytes
        self._parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._name = ""
        self._filename: str | None = None
        self._value = bytearray()
        self._sink: BinaryIO | None = None
        self._sink_path: Path | None = None
        self._size = 0
        self._digest = hashlib.sha256()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise _invalid(f"more than {MAX_PARTS} parts")
        self._headers = {}
        self._header_bytes = 0

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _invalid("part headers too large")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b"").decode("latin-1"))
        if disposition != b"form-data":
            raise _invalid("a part has no Content-Disposition: form-data header")
        raw_name = options.get(b"name")
        if raw_name is None:
            raise _invalid("a part has no name")
        # Header bytes arrive as latin-1; browsers and HTTP clients send names and filenames as UTF-8.
        self._name = raw_name.decode("utf-8", "replace")
        if self._name in self.form.fields or self._name in self.form.files:
            raise invalid_request(
                f"Invalid multipart request: the field '{self._name}' is given more than once.",
                param=self._name,
                code="duplicate_parameter",
            )
        raw_filename = options.get(b"filename")
        self._filename = None if raw_filename is None else raw_filename.decode("utf-8", "replace")
        self._value.clear()
        if self._filename is not None or self._name in self._file_fields:
            fd, raw_path = tempfile.mkstemp(prefix="upload-", dir=self._temp_dir)
            self._sink = os.fdopen(fd, "wb")
            self._sink_path = Path(raw_path)
            self._size = 0
            self._digest = hashlib.sha256()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        piece = memoryview(data)[start:end]
        if self._sink is None:
            if len(self._value) + len(piece) > self._max_field_bytes:
                raise invalid_request(f"Field '{self._name}' is too long.")
            self._value += piece
            return
        self._size += len(piece)
        if self._size > self._max_file_bytes:
            raise file_too_large(self._max_file_bytes)
        self._digest.update(piece)
        self._sink.write(piece)

    def on_part_end(self) -> None:
        if self._sink is None:
            try:
                self.form.fields[self._name] = self._value.decode("utf-8")
            except UnicodeDecodeError:
                raise _invalid(f"field '{self._name}' is not valid UTF-8") from None
            return
        assert self._sink_path is not None
        self._sink.close()
        content_type = self._headers.get(b"content-type")
        self.form.files[self._name] = UploadedFile(
            self._name,
            self._filename or "file",
            None if content_type is None else content_type.decode("latin-1"),
            self._sink_path,
            self._size,
            self._digest.hexdigest(),
        )
        self._sink = self._sink_path = None

    def on_end(self) -> None:
        self.ended = True

    def discard(self) -> None:
        if self._sink is not None:
            self._sink.close()
        if self._sink_path is not None:
            self._sink_path.unlink(missing_ok=True)
        self.form.discard()
