"""`client.files`: upload, retrieve, delete, list and download files (sync and async).

Downloads go around the generated `download_file` functions, which read the whole body into memory: the overlay
builds the request from the generated `_get_kwargs` (so path and encoding stay generated) and streams the answer.
Removable when the generator can return a streamed response.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from openai_batches_generated.api.files import create_file, delete_file, download_file, list_files, retrieve_file
from openai_batches_generated.models import (
    FileCreateParams,
    FileDeleted,
    FileObject,
    FileUploadPurpose,
    ListFilesResponse,
    ListOrder,
    OutputExpiresAfter,
)
from openai_batches_generated.types import UNSET, File

from .._config import NOT_GIVEN, NotGiven, TimeoutTypes
from .._content import AsyncFileContent, FileContent
from .._exceptions import InvalidParameterError
from .._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage, new_async_walk, new_walk
from .._types import FilePurposeParam, OutputExpiresAfterParam
from .._validation import (
    check_cursor,
    check_id,
    check_limit,
    check_output_expires_after,
    check_text,
    open_enum,
    with_idempotency_key,
)

if TYPE_CHECKING:
    from .._client import AsyncBatchClient, BatchClient

__all__ = ["AsyncFiles", "FileInput", "Files"]

FileInput = str | os.PathLike[str] | bytes | IO[bytes]
"""A path to a file on disk, the bytes themselves, or a binary file object."""

LIST_FILES_LIMIT_MAX = 10_000


@contextlib.contextmanager
def _opened(file: object, filename: str | None) -> Iterator[tuple[File, bool]]:
    """The upload as a generated `File`, opened for streaming, and whether it can be re-sent on a retry."""
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise InvalidParameterError("filename", "expected a non-empty string")
    if filename is not None:
        check_text(filename, "filename")
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise InvalidParameterError("file", f"no such file: {str(path)!r}")
        with path.open("rb") as handle:
            yield File(payload=handle, file_name=filename or path.name), True
    elif isinstance(file, bytes | bytearray | memoryview):
        yield File(payload=io.BytesIO(bytes(file)), file_name=filename or "upload.jsonl"), True
    elif _is_text_mode(file):
        raise InvalidParameterError("file", "open the file in binary mode ('rb'), not text mode")
    elif hasattr(file, "read"):
        # A name that is a descriptor number (TemporaryFile, os.fdopen) would reach the service as "12".
        raw_name = getattr(file, "name", None)
        name = filename or (os.path.basename(raw_name) if isinstance(raw_name, str) else "") or "upload.jsonl"
        if _seekable(file):
            yield File(payload=file, file_name=name), True  # type: ignore[arg-type]
        else:
            yield File(payload=_UnsizedReader(file), file_name=name), False  # type: ignore[arg-type]
    else:
        raise InvalidParameterError(
            "file", f"expected a path, bytes or a binary file object, got {type(file).__name__}"
        )


def _is_text_mode(file: object) -> bool:
    if isinstance(file, io.TextIOBase) or isinstance(getattr(file, "file", None), io.TextIOBase):
        return True  # the latter: tempfile's wrappers around a text file
    mode = getattr(file, "mode", None)
    return isinstance(mode, str) and "b" not in mode


def _seekable(file: object) -> bool:
    try:
        return bool(file.seekable())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


class _UnsizedReader:
    """Hides a pipe's descriptor from httpx, which would size it with fstat (0 for a pipe) and send a wrong
    Content-Length; without a size the upload goes out chunked."""

    def __init__(self, raw: object) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)  # type: ignore[attr-defined]
        if not isinstance(data, bytes | bytearray):
            raise InvalidParameterError("file", f"read() gave {type(data).__name__}; open the file in binary mode")
        return bytes(data)


def _create_params(file: File, purpose: object, expires_after: object) -> FileCreateParams:
    expiry = check_output_expires_after(expires_after, param="expires_after")
    params = FileCreateParams(file=file, purpose=open_enum(purpose, FileUploadPurpose, "purpose"))
    if expiry is not None:
        params.expires_afteranchor = expiry.anchor
        params.expires_afterseconds = expiry.seconds
    return params


def _check_list_args(purpose: object, limit: object, order: object) -> tuple[str | None, int | None, ListOrder | None]:
    if purpose is not None and (not isinstance(purpose, str) or not purpose):
        raise InvalidParameterError("purpose", f"expected a non-empty string, got {purpose!r}")
    if purpose is not None:
        check_text(purpose, "purpose")
    checked_limit = check_limit(limit, LIST_FILES_LIMIT_MAX)
    checked_order = None
    if order is not None:
        try:
            checked_order = ListOrder(order if isinstance(order, str) else repr(order))
        except ValueError:
            raise InvalidParameterError("order", f"must be 'asc' or 'desc', got {order!r}") from None
    return purpose, checked_limit, checked_order


def _page_fields(response: ListFilesResponse, position: int) -> dict[str, object]:
    return {
        "data": response.data,
        "has_more": response.has_more,
        "first_id": response.first_id,
        "last_id": response.last_id,
        "object": response.object_,
        "what": "files",
        "position": position,
    }


class Files:
    """File operations of a `BatchClient`."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client

    def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurposeParam | FileUploadPurpose = "batch",
        expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file, streamed from disk or a file object. A non-seekable stream is sent once, never retried.

        Every attempt carries the same `Idempotency-Key` (yours, or a fresh random one), as for `batches.create`.
        """
        with _opened(file, filename) as (upload, seekable):
            body = _create_params(upload, purpose, expires_after)
            headers = with_idempotency_key(extra_headers, idempotency_key)
            context = self._client._call(headers, timeout, 0 if not seekable else max_retries)
            return self._client._request(context, create_file._get_kwargs(body=body), FileObject)

    def retrieve(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Fetch a file's metadata by id."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        return self._client._request(context, retrieve_file._get_kwargs(file_id), FileObject)

    def delete(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        """Delete a file."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        return self._client._request(context, delete_file._get_kwargs(file_id), FileDeleted)

    def content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileContent:
        """A file's bytes as a stream: iterate `iter_lines()` / `iter_bytes()`, or `write_to_file(path)`."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        context.stream = True
        response = self._client._dispatcher.request(context, **download_file._get_kwargs(file_id))
        return FileContent(response)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | ListOrder | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncCursorPage[FileObject]:
        """The first page of files; iterate the page to walk every later page lazily."""
        purpose, limit, checked_order = _check_list_args(purpose, limit, order)
        first_cursor = check_cursor(after)

        def fetch(cursor: str | None, position: int) -> SyncCursorPage[FileObject]:
            context = self._client._call(extra_headers, timeout, max_retries)
            response = self._client._request(
                context,
                list_files._get_kwargs(
                    purpose=UNSET if purpose is None else purpose,
                    limit=UNSET if limit is None else limit,
                    order=UNSET if checked_order is None else checked_order,
                    after=UNSET if cursor is None else cursor,
                ),
                ListFilesResponse,
            )
            return SyncCursorPage(walk=walk, **_page_fields(response, position))

        walk = new_walk(fetch, first_cursor)
        return fetch(first_cursor, 0)


class AsyncFiles:
    """File operations of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurposeParam | FileUploadPurpose = "batch",
        expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file, streamed from disk or a file object. A non-seekable stream is sent once, never retried.

        Every attempt carries the same `Idempotency-Key` (yours, or a fresh random one), as for `batches.create`.
        """
        with _opened(file, filename) as (upload, seekable):
            body = _create_params(upload, purpose, expires_after)
            headers = with_idempotency_key(extra_headers, idempotency_key)
            context = self._client._call(headers, timeout, 0 if not seekable else max_retries)
            return await self._client._request(context, create_file._get_kwargs(body=body), FileObject)

    async def retrieve(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Fetch a file's metadata by id."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        return await self._client._request(context, retrieve_file._get_kwargs(file_id), FileObject)

    async def delete(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        """Delete a file."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        return await self._client._request(context, delete_file._get_kwargs(file_id), FileDeleted)

    async def content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncFileContent:
        """A file's bytes as a stream: `async for line in content.iter_lines()`, or `await write_to_file(path)`."""
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries)
        context.stream = True
        response = await self._client._dispatcher.request(context, **download_file._get_kwargs(file_id))
        return AsyncFileContent(response)

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | ListOrder | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[FileObject]:
        """`await` it for the first page, or `async for` over every file; arguments are checked right away."""
        purpose, limit, checked_order = _check_list_args(purpose, limit, order)
        first_cursor = check_cursor(after)

        async def fetch(cursor: str | None, position: int) -> AsyncCursorPage[FileObject]:
            context = self._client._call(extra_headers, timeout, max_retries)
            response = await self._client._request(
                context,
                list_files._get_kwargs(
                    purpose=UNSET if purpose is None else purpose,
                    limit=UNSET if limit is None else limit,
                    order=UNSET if checked_order is None else checked_order,
                    after=UNSET if cursor is None else cursor,
                ),
                ListFilesResponse,
            )
            return AsyncCursorPage(walk=walk, **_page_fields(response, position))

        walk = new_async_walk(fetch, first_cursor)
        return AsyncPaginator(lambda: fetch(first_cursor, 0))
