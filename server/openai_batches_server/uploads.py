"""multipart/form-data uploads, parsed by python-multipart as the bytes arrive and written straight to disk.

Memory stays flat whatever the upload's size: python-multipart hands over each part's bytes as slices of the chunk
just received, file parts go to a temporary file in the data directory (moved into place, never copied, once the
upload is accepted), and plain fields are held only up to a small limit. What the parser leaves to its caller is
checked here: part count, header and field sizes, that a field comes at most once (the last of two `purpose`
fields must not silently win), and the size limit, which holds for the whole request: the file bytes of all its
parts together, and the body with its multipart framing (so an epilogue or a pile of fields cannot stand in for
file bytes). When the endpoint names the parts it takes, any other part is refused at its headers, before a byte
of it reaches the disk.

An upload holds a slot (`capacity.UploadSlots`) from before its body is read until the form is complete, so the
number of temporary files open at once is bounded; an upload beyond the cap is answered 503 at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .capacity import UploadSlots, out_of_descriptors, service_unavailable
from .errors import APIError, invalid_request, payload_too_large, unknown_parameter

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
    accepted: Collection[str] | None = None,
    max_field_bytes: int = MAX_FIELD_BYTES,
    slots: UploadSlots | None = None,
) -> FormData:
    """The whole form. A part named in `file_fields` is written to a file in `temp_dir`, and so is any part with a
    filename unless `accepted` is given: then only the names in `accepted` are taken, and only `file_fields` as files.

    Refusals are the API's errors: 413 (closing the connection) past `max_file_bytes` of file bytes in all, or of
    body beyond the framing allowance; 400 for anything malformed, oversized, repeated or not accepted; 503 when
    `slots` has none free, before any of the body is read.
    """
    boundary = boundary_from_content_type(headers.get("content-type", ""))
    body_limit = max_file_bytes + MULTIPART_OVERHEAD
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise file_too_large(max_file_bytes)
    with contextlib.ExitStack() as stack:
        if slots is not None:
            stack.enter_context(slots.hold())
        collector = _Collector(temp_dir, max_file_bytes, file_fields, accepted, max_field_bytes, slots)
        parser = MultipartParser(boundary, callbacks=collector.callbacks())  # type: ignore[arg-type]
        received = 0
        try:
            async for chunk in chunks:
                received += len(chunk)
                if received > body_limit:
                    raise file_too_large(max_file_bytes)
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

    def __init__(
        self,
        temp_dir: Path,
        max_file_bytes: int,
        file_fields: Collection[str],
        accepted: Collection[str] | None,
        max_field_bytes: int,
        slots: UploadSlots | None,
    ):
        self.form = FormData()
        self.ended = False
        self._temp_dir = temp_dir
        self._max_file_bytes = max_file_bytes
        self._file_fields = file_fields
        self._accepted = accepted
        self._max_field_bytes = max_field_bytes
        self._slots = slots
        # File bytes of every part so far: the size limit is the request's, not each part's.
        self._file_bytes = 0
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
        as_file = self._name in self._file_fields
        if self._accepted is not None:
            if self._name not in self._accepted:
                raise unknown_parameter(self._name)
            if self._filename is not None and not as_file:
                raise invalid_request(
                    f"Invalid multipart request: '{self._name}' must be a form field, not a file.", param=self._name
                )
        if as_file or (self._filename is not None and self._accepted is None):
            try:
                fd, raw_path = tempfile.mkstemp(prefix="upload-", dir=self._temp_dir)
            except OSError as exc:
                if not out_of_descriptors(exc):
                    raise
                if self._slots is None:
                    raise service_unavailable("The server has run out of open files.") from None
                raise self._slots.no_descriptor("uploads", exc) from None
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
        self._file_bytes += len(piece)
        if self._file_bytes > self._max_file_bytes:
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
