"""`client.files`: upload, retrieve, delete, list and download files (sync and async).

Downloads go around the generated `download_file` functions, which read the whole body into memory: the overlay
builds the request with the generated request builder (so path and encoding stay generated) and streams the answer.
Removable when the generator can return a streamed response.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple

import httpx

from .._config import NOT_GIVEN, NotGiven, QueryValue, TimeoutTypes, check_headers, check_text
from .._content import AsyncContentCall, AsyncFileContent, FileContent
from .._exceptions import FileWaitTimeout, InvalidParameterError
from .._generated import (
    UNSET,
    File,
    FileCreateParams,
    FileUploadPurpose,
    ListOrder,
    OutputExpiresAfter,
    create_file,
    delete_file,
    download_file,
    list_files,
    request_kwargs,
    retrieve_file,
)
from .._http import CallContext
from .._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage, new_async_walk, new_walk, page_query
from .._parsing import model_parser, parse_model
from .._types import FilePurposeParam, OutputExpiresAfterParam
from .._validation import (
    check_cursor,
    check_id,
    check_limit,
    check_output_expires_after,
    open_enum,
    with_idempotency_key,
)
from ..types import FileDeleted, FileObject, ListFilesResponse

if TYPE_CHECKING:
    from .._client import AsyncBatchClient, BatchClient

__all__ = [
    "AsyncFiles",
    "AsyncFilesWithRawResponse",
    "AsyncFilesWithStreamingResponse",
    "FileContentInput",
    "FileInput",
    "Files",
    "FilesWithRawResponse",
    "FilesWithStreamingResponse",
]

FileContentInput = os.PathLike[str] | bytes | IO[bytes]
"""The bytes of an upload: a path (`pathlib.Path`), the bytes themselves, or a binary file object."""

FileInput = (
    str
    | FileContentInput
    | tuple[str | None, FileContentInput]
    | tuple[str | None, FileContentInput, str | None]
    | tuple[str | None, FileContentInput, str | None, Mapping[str, str]]
)
"""An upload as the official SDK takes it: a path (also as a string), bytes, a binary file object, or a tuple
`(filename, content)`, `(filename, content, content_type)` or `(filename, content, content_type, headers)`."""

LIST_FILES_LIMIT_MAX = 10_000

_parse_file = model_parser(FileObject)
_parse_deleted = model_parser(FileDeleted)


class _Upload(NamedTuple):
    file: File
    seekable: bool  # whether the body can be sent again on a retry
    part_headers: dict[str, str] | None = None


@contextlib.contextmanager
def _opened(file: object, filename: str | None) -> Iterator[_Upload]:
    """The upload as a generated `File`, opened for streaming (never read into memory)."""
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise InvalidParameterError("filename", "expected a non-empty string")
    if filename is not None:
        check_text(filename, "filename")
    if isinstance(file, tuple):
        with _opened_tuple(file, filename) as upload:
            yield upload
    elif isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise InvalidParameterError("file", f"no such file: {str(path)!r}")
        with path.open("rb") as handle:
            yield _Upload(File(payload=handle, file_name=filename or path.name), True)
    elif isinstance(file, bytes | bytearray | memoryview):
        yield _Upload(File(payload=io.BytesIO(bytes(file)), file_name=filename or "upload.jsonl"), True)
    elif _is_text_mode(file):
        raise InvalidParameterError("file", "open the file in binary mode ('rb'), not text mode")
    elif hasattr(file, "read"):
        # A name that is a descriptor number (TemporaryFile, os.fdopen) would reach the service as "12".
        raw_name = getattr(file, "name", None)
        name = filename or (os.path.basename(raw_name) if isinstance(raw_name, str) else "") or "upload.jsonl"
        if _seekable(file):
            yield _Upload(File(payload=file, file_name=name), True)  # type: ignore[arg-type]
        else:
            yield _Upload(File(payload=_UnsizedReader(file), file_name=name), False)  # type: ignore[arg-type]
    else:
        raise InvalidParameterError(
            "file",
            f"expected a path, bytes, a binary file object or a (filename, content[, content_type]) tuple, "
            f"got {type(file).__name__}",
        )


@contextlib.contextmanager
def _opened_tuple(file: tuple[Any, ...], filename: str | None) -> Iterator[_Upload]:
    """The SDK's `(filename, content[, content_type[, headers]])` form; the content is streamed like any other."""
    if not 2 <= len(file) <= 4:
        raise InvalidParameterError(
            "file",
            f"a tuple is (filename, content), (filename, content, content_type) or with headers; got {len(file)} items",
        )
    name, content, content_type, part_headers = (*file, None, None)[:4]
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidParameterError(
            "file", f"the filename in the tuple must be a non-empty string or None, got {name!r}"
        )
    if filename is not None and name is not None and filename != name:
        raise InvalidParameterError("filename", f"given twice, as {filename!r} and as {name!r} in the file tuple")
    if isinstance(content, str | tuple):
        raise InvalidParameterError(
            "file", "the content in a tuple is bytes, a binary file object or a pathlib.Path (encode text first)"
        )
    if content_type is not None:
        if not isinstance(content_type, str):
            raise InvalidParameterError("file", f"the content type must be a string or None, got {content_type!r}")
        check_headers({"Content-Type": content_type}, "file")
    headers = None if part_headers is None else check_headers(part_headers, "file")
    with _opened(content, filename or name) as upload:
        upload.file.mime_type = content_type
        yield upload._replace(part_headers=headers)


def _upload_kwargs(body: FileCreateParams, upload: _Upload) -> dict[str, Any]:
    kwargs = request_kwargs(create_file, body=body)
    if upload.part_headers:
        # The generated `File` has no per-part headers (the SDK's 4-tuple): add them to the file part httpx sends.
        kwargs["files"] = [
            (name, (*part, upload.part_headers) if name == "file" else part) for name, part in kwargs["files"]
        ]
    return kwargs


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


def _page(page_class: Any, walk: Any, position: int, context: CallContext, response: httpx.Response) -> Any:
    """A page of files from a list response (the parse step, shared by plain, raw and streamed calls)."""
    listing = parse_model(context, response, ListFilesResponse)
    return page_class(
        walk=walk,
        data=listing.data,
        has_more=listing.has_more,
        first_id=listing.first_id,
        last_id=listing.last_id,
        object=listing.object_,
        what="files",
        position=position,
    )


def _file_content(context: CallContext, response: httpx.Response) -> FileContent:
    return FileContent(response, context.redact)


def _async_file_content(context: CallContext, response: httpx.Response) -> AsyncFileContent:
    return AsyncFileContent(response, context.redact)


def _text(context: CallContext, response: httpx.Response) -> str:
    return response.text


_PROCESSING_DONE = ("processed", "error", "deleted")
DEFAULT_FILE_POLL_INTERVAL = 5.0
DEFAULT_FILE_MAX_WAIT = 30 * 60.0


def _check_wait(poll_interval: object, max_wait_seconds: object) -> tuple[float, float]:
    for param, value in (("poll_interval", poll_interval), ("max_wait_seconds", max_wait_seconds)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InvalidParameterError(param, f"expected a number of seconds above 0, got {value!r}")
    return float(poll_interval), float(max_wait_seconds)  # type: ignore[arg-type]


def _wait_timeout(file_id: str, waited: float, file: FileObject) -> FileWaitTimeout:
    return FileWaitTimeout(
        f"Giving up on file {file_id} after {waited:g} seconds: still {file.status!s} (not processed).", file=file
    )


def _retrieve_content_deprecated() -> None:
    warnings.warn(
        "files.retrieve_content() is deprecated (as in the official SDK); use files.content(file_id).text",
        DeprecationWarning,
        stacklevel=3,
    )


class Files:
    """File operations of a `BatchClient`."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> FilesWithRawResponse:
        """These methods returning a `RawResponse` (headers, status, `parse()`) instead of the parsed object."""
        return FilesWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> FilesWithStreamingResponse:
        """These methods as context managers over an `APIResponse` whose body is read only when asked."""
        return FilesWithStreamingResponse(self)

    def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurposeParam | FileUploadPurpose = "batch",
        expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file, streamed from disk or a file object. A non-seekable stream is sent once, never retried.

        Every attempt carries the same `Idempotency-Key` (yours, or a fresh random one), as for `batches.create`.

        Args:
            file: A path, bytes, a binary file object, or the SDK's `(filename, content[, content_type[,
                headers]])` tuple.
            purpose: What the file is for; `batch` for a batch input file.
            expires_after: When the file expires, counted from its creation.
            filename: The name sent with the upload; by default the path's name or the tuple's.
            idempotency_key: The `Idempotency-Key` header; a fresh random one when None.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The uploaded file, usually `uploaded` or `processed`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a file object.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        with _opened(file, filename) as upload:
            body = _create_params(upload.file, purpose, expires_after)
            retries = max_retries if upload.seekable else 0
            context = self._client._call(extra_headers, timeout, retries, extra_query, extra_body)
            context.headers = with_idempotency_key(context.headers, idempotency_key)
            return self._client._request_as(context, _upload_kwargs(body, upload), _parse_file)

    def retrieve(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Fetch a file's metadata by id.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The file's metadata.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a file object.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(retrieve_file, file_id), _parse_file)

    def delete(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        """Delete a file.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The service's confirmation, with `deleted` True.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a deletion confirmation.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(delete_file, file_id), _parse_deleted)

    def content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileContent:
        """A file's bytes as a stream: `iter_lines()`, `iter_bytes()`, `write_to_file(path)`, or `.content` and
        `.text` for the whole body.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The open body; close it (or use it in a `with` block) when done.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        context.stream = True
        return self._client._request_as(context, request_kwargs(download_file, file_id), _file_content)

    def retrieve_content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> str:
        """Deprecated (as upstream): a file's whole body as text. Use `content(file_id).text`.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The file's body decoded as text.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        _retrieve_content_deprecated()
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(download_file, file_id), _text)

    def wait_for_processing(
        self,
        id: str,
        *,
        poll_interval: float = DEFAULT_FILE_POLL_INTERVAL,
        max_wait_seconds: float = DEFAULT_FILE_MAX_WAIT,
    ) -> FileObject:
        """Poll the file until its status is `processed`, `error` or `deleted`, and return it.

        Raises `FileWaitTimeout` (with `.file`, the last state seen) after `max_wait_seconds`. The sleeps and the
        clock are the client's `RetryPolicy` ones, so tests can replace them.

        Args:
            id: The file's id.
            poll_interval: Seconds between polls; more than 0.
            max_wait_seconds: Give up after this many seconds; more than 0.

        Returns:
            The file in a final processing status.

        Raises:
            InvalidParameterError: An argument was refused before the first poll.
            FileWaitTimeout: `max_wait_seconds` passed first; its `file` is the last state seen.
            APIStatusError: A poll got an error status, e.g. `NotFoundError`.
            APIConnectionError: A poll got no complete answer after the retries.
        """
        file_id = check_id(id, "id")
        interval, limit = _check_wait(poll_interval, max_wait_seconds)
        policy = self._client._options.retry
        started = policy.clock()
        file = self.retrieve(file_id)
        while file.status not in _PROCESSING_DONE:
            waited = policy.clock() - started
            if waited >= limit:
                raise _wait_timeout(file_id, waited, file)
            policy.sleep(min(interval, limit - waited))
            file = self.retrieve(file_id)
        return file

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | ListOrder | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncCursorPage[FileObject]:
        """The first page of files; iterate the page to walk every later page lazily.

        Args:
            purpose: Only files with this purpose, e.g. `batch`; None for all.
            limit: Files per page, 1 to 10,000; the service's default when None.
            order: `asc` or `desc` by creation time; the service's default (`desc`) when None.
            after: A file id: start the listing after it; None for the first.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The first page; iterating it fetches the later pages on demand.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            PaginationError: The pages cannot be walked safely (a repeated cursor, an empty page).
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a page of files.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        purpose, limit, checked_order = _check_list_args(purpose, limit, order)
        first_cursor = check_cursor(after)
        client = self._client
        plain: BatchClient = client._plain

        def fetch(cursor: str | None, position: int) -> SyncCursorPage[FileObject]:
            requester = client if position == 0 else plain
            query = page_query(extra_query, position)
            context = requester._call(extra_headers, timeout, max_retries, query, extra_body)
            kwargs = request_kwargs(
                list_files,
                purpose=UNSET if purpose is None else purpose,
                limit=UNSET if limit is None else limit,
                order=UNSET if checked_order is None else checked_order,
                after=UNSET if cursor is None else cursor,
            )
            return requester._request_as(context, kwargs, functools.partial(_page, SyncCursorPage, walk, position))

        walk = new_walk(fetch, first_cursor)
        return fetch(first_cursor, 0)


class AsyncFiles:
    """File operations of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> AsyncFilesWithRawResponse:
        """These methods returning a `RawResponse` (headers, status, `parse()`) instead of the parsed object."""
        return AsyncFilesWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> AsyncFilesWithStreamingResponse:
        """These methods as async context managers over an `AsyncAPIResponse` whose body is read only when asked."""
        return AsyncFilesWithStreamingResponse(self)

    async def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurposeParam | FileUploadPurpose = "batch",
        expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file, streamed from disk or a file object. A non-seekable stream is sent once, never retried.

        Every attempt carries the same `Idempotency-Key` (yours, or a fresh random one), as for `batches.create`.

        Args:
            file: A path, bytes, a binary file object, or the SDK's `(filename, content[, content_type[,
                headers]])` tuple.
            purpose: What the file is for; `batch` for a batch input file.
            expires_after: When the file expires, counted from its creation.
            filename: The name sent with the upload; by default the path's name or the tuple's.
            idempotency_key: The `Idempotency-Key` header; a fresh random one when None.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The uploaded file, usually `uploaded` or `processed`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a file object.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        with _opened(file, filename) as upload:
            body = _create_params(upload.file, purpose, expires_after)
            retries = max_retries if upload.seekable else 0
            context = self._client._call(extra_headers, timeout, retries, extra_query, extra_body)
            context.headers = with_idempotency_key(context.headers, idempotency_key)
            return await self._client._request_as(context, _upload_kwargs(body, upload), _parse_file)

    async def retrieve(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Fetch a file's metadata by id.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The file's metadata.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a file object.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(retrieve_file, file_id), _parse_file)

    async def delete(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> FileDeleted:
        """Delete a file.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The service's confirmation, with `deleted` True.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a deletion confirmation.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(delete_file, file_id), _parse_deleted)

    def content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncContentCall:
        """A file's bytes. Streamed, with flat memory: `async with client.files.content(id) as content:` then
        `async for line in content.iter_lines()` or `await content.write_to_file(path)` (closed at the end of the
        block). In memory, as the official SDK does: `content = await client.files.content(id)` then `.content`,
        `.text`, `content.write_to_file(path)`. Arguments are checked right away.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            A call to await (the body read into memory) or to use in `async with` (the body streamed).

        Raises:
            InvalidParameterError: An argument was refused, at the call.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        context.stream = True
        kwargs = request_kwargs(download_file, file_id)
        return AsyncContentCall(lambda: self._client._request_as(context, kwargs, _async_file_content))

    async def retrieve_content(
        self,
        file_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> str:
        """Deprecated (as upstream): a file's whole body as text. Use `(await content(file_id)).text`.

        Args:
            file_id: The file's id, e.g. `file-abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The file's body decoded as text.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        _retrieve_content_deprecated()
        file_id = check_id(file_id, "file_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(download_file, file_id), _text)

    async def wait_for_processing(
        self,
        id: str,
        *,
        poll_interval: float = DEFAULT_FILE_POLL_INTERVAL,
        max_wait_seconds: float = DEFAULT_FILE_MAX_WAIT,
    ) -> FileObject:
        """Poll the file until its status is `processed`, `error` or `deleted`; see `Files.wait_for_processing`.

        Args:
            id: The file's id.
            poll_interval: Seconds between polls; more than 0.
            max_wait_seconds: Give up after this many seconds; more than 0.

        Returns:
            The file in a final processing status.

        Raises:
            InvalidParameterError: An argument was refused before the first poll.
            FileWaitTimeout: `max_wait_seconds` passed first; its `file` is the last state seen.
            APIStatusError: A poll got an error status, e.g. `NotFoundError`.
            APIConnectionError: A poll got no complete answer after the retries.
        """
        file_id = check_id(id, "id")
        interval, limit = _check_wait(poll_interval, max_wait_seconds)
        policy = self._client._options.retry
        started = policy.clock()
        file = await self.retrieve(file_id)
        while file.status not in _PROCESSING_DONE:
            waited = policy.clock() - started
            if waited >= limit:
                raise _wait_timeout(file_id, waited, file)
            await policy.async_sleep(min(interval, limit - waited))
            file = await self.retrieve(file_id)
        return file

    def list(
        self,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | ListOrder | None = None,
        after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[FileObject]:
        """`await` it for the first page, or `async for` over every file; arguments are checked right away.

        Args:
            purpose: Only files with this purpose, e.g. `batch`; None for all.
            limit: Files per page, 1 to 10,000; the service's default when None.
            order: `asc` or `desc` by creation time; the service's default (`desc`) when None.
            after: A file id: start the listing after it; None for the first.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            A paginator: awaited, the first page; iterated with `async for`, every file.

        Raises:
            InvalidParameterError: An argument was refused at the call.
            PaginationError: The pages cannot be walked safely (a repeated cursor, an empty page).
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a page of files.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        purpose, limit, checked_order = _check_list_args(purpose, limit, order)
        first_cursor = check_cursor(after)
        client = self._client
        plain: AsyncBatchClient = client._plain

        async def fetch(cursor: str | None, position: int) -> AsyncCursorPage[FileObject]:
            requester = client if position == 0 else plain
            query = page_query(extra_query, position)
            context = requester._call(extra_headers, timeout, max_retries, query, extra_body)
            kwargs = request_kwargs(
                list_files,
                purpose=UNSET if purpose is None else purpose,
                limit=UNSET if limit is None else limit,
                order=UNSET if checked_order is None else checked_order,
                after=UNSET if cursor is None else cursor,
            )
            return await requester._request_as(
                context, kwargs, functools.partial(_page, AsyncCursorPage, walk, position)
            )

        walk = new_async_walk(fetch, first_cursor)
        return AsyncPaginator(lambda: fetch(first_cursor, 0))


class FilesWithRawResponse:
    """`client.files.with_raw_response`: each method returns a `RawResponse` whose `parse()` gives its result."""

    def __init__(self, files: Files) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import SyncRawMode, sync_mode, to_raw_response_wrapper

        raw = Files(sync_mode(files._client, SyncRawMode))
        self.create = to_raw_response_wrapper(raw.create)
        self.retrieve = to_raw_response_wrapper(raw.retrieve)
        self.delete = to_raw_response_wrapper(raw.delete)
        self.list = to_raw_response_wrapper(raw.list)
        self.content = to_raw_response_wrapper(raw.content)
        self.retrieve_content = to_raw_response_wrapper(raw.retrieve_content)


class FilesWithStreamingResponse:
    """`client.files.with_streaming_response`: each method returns a context manager over an `APIResponse`;
    `content(...)` is the way to stream a download to disk (`response.stream_to_file(path)`)."""

    def __init__(self, files: Files) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import SyncStreamMode, sync_mode, to_streamed_response_wrapper

        streamed = Files(sync_mode(files._client, SyncStreamMode))
        self.create = to_streamed_response_wrapper(streamed.create)
        self.retrieve = to_streamed_response_wrapper(streamed.retrieve)
        self.delete = to_streamed_response_wrapper(streamed.delete)
        self.list = to_streamed_response_wrapper(streamed.list)
        self.content = to_streamed_response_wrapper(streamed.content)
        self.retrieve_content = to_streamed_response_wrapper(streamed.retrieve_content)


class AsyncFilesWithRawResponse:
    """The async `with_raw_response`: `await` a method for its `RawResponse`."""

    def __init__(self, files: AsyncFiles) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import AsyncRawMode, async_mode, async_to_raw_response_wrapper

        raw = AsyncFiles(async_mode(files._client, AsyncRawMode))
        self.create = async_to_raw_response_wrapper(raw.create)
        self.retrieve = async_to_raw_response_wrapper(raw.retrieve)
        self.delete = async_to_raw_response_wrapper(raw.delete)
        self.list = async_to_raw_response_wrapper(raw.list)
        self.content = async_to_raw_response_wrapper(raw.content)
        self.retrieve_content = async_to_raw_response_wrapper(raw.retrieve_content)


class AsyncFilesWithStreamingResponse:
    """The async `with_streaming_response`: `async with` a method for its `AsyncAPIResponse`."""

    def __init__(self, files: AsyncFiles) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import AsyncStreamMode, async_mode, async_to_streamed_response_wrapper

        streamed = AsyncFiles(async_mode(files._client, AsyncStreamMode))
        self.create = async_to_streamed_response_wrapper(streamed.create)
        self.retrieve = async_to_streamed_response_wrapper(streamed.retrieve)
        self.delete = async_to_streamed_response_wrapper(streamed.delete)
        self.list = async_to_streamed_response_wrapper(streamed.list)
        self.content = async_to_streamed_response_wrapper(streamed.content)
        self.retrieve_content = async_to_streamed_response_wrapper(streamed.retrieve_content)
