"""`client.batches`: create, retrieve, cancel and list batches (sync and async)."""

from __future__ import annotations

import builtins
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .. import _json
from .. import types as public
from .._config import NOT_GIVEN, NotGiven, QueryValue, TimeoutTypes
from .._exceptions import APIStatusError, InvalidParameterError, NotFoundError, OpenAIBatchesError
from .._generated import (
    UNSET,
    Batch,
    BatchCompletionWindow,
    BatchCreateParams,
    BatchEndpoint,
    Metadata,
    OutputExpiresAfter,
    cancel_batch,
    create_batch,
    list_batches,
    request_kwargs,
    retrieve_batch,
)
from .._http import CallContext
from .._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage, new_async_walk, new_walk, page_query
from .._parsing import model_parser, parse_model
from .._types import ArrowTable, CompletionWindowParam, EndpointParam, MetadataParam, OutputExpiresAfterParam
from .._validation import (
    check_cursor,
    check_id,
    check_limit,
    check_metadata,
    check_output_expires_after,
    open_enum,
    with_idempotency_key,
)

if TYPE_CHECKING:
    from .._client import AsyncBatchClient, BatchClient
    from .._workflow import RequestsInput
    from ..batch_input import BatchRequest, InputLimits
    from ..results import BatchResult, BatchResults

__all__ = [
    "AsyncBatches",
    "AsyncBatchesWithRawResponse",
    "AsyncBatchesWithStreamingResponse",
    "Batches",
    "BatchesWithRawResponse",
    "BatchesWithStreamingResponse",
]

# The first and shortest pause between polls: a small batch can finish in seconds. Polling backs off from here to the
# maximum while a batch does not move, and never waits past the moment a moving batch should finish at its pace.
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_POLL_INTERVAL = 60.0


def expected_ids(expected: Iterable[str]) -> set[str]:
    if isinstance(expected, str | bytes):
        raise InvalidParameterError("expected", "expected an iterable of custom_ids, not a single string")
    ids = set()
    for item in expected:
        if not isinstance(item, str):
            raise InvalidParameterError("expected", f"custom_ids are strings, got {type(item).__name__}")
        ids.add(item)
    return ids


def custom_id_of(line: str) -> str | None:
    """The custom_id of an input file line; None for a line that is not a request object."""
    if not line.strip():
        return None
    try:
        record = _json.loads(line)
    except (ValueError, RecursionError):
        return None
    custom_id = record.get("custom_id") if isinstance(record, dict) else None
    return custom_id if isinstance(custom_id, str) else None


def _create_params(
    input_file_id: object,
    endpoint: object,
    completion_window: object,
    metadata: object,
    output_expires_after: object,
) -> BatchCreateParams:
    checked_metadata = check_metadata(metadata)
    checked_expiry = check_output_expires_after(output_expires_after)
    return BatchCreateParams(
        input_file_id=check_id(input_file_id, "input_file_id"),
        endpoint=open_enum(endpoint, BatchEndpoint, "endpoint"),
        completion_window=open_enum(completion_window, BatchCompletionWindow, "completion_window"),
        metadata=UNSET if checked_metadata is None else checked_metadata,
        output_expires_after=UNSET if checked_expiry is None else checked_expiry,
    )


_parse_batch = model_parser(public.Batch)


def _page(page_class: Any, walk: Any, position: int, context: CallContext, response: httpx.Response) -> Any:
    """A page of batches from a list response (the parse step, shared by plain, raw and streamed calls)."""
    listing = parse_model(context, response, public.ListBatchesResponse)
    return page_class(
        walk=walk,
        data=listing.data,
        has_more=listing.has_more,
        first_id=listing.first_id,
        last_id=listing.last_id,
        object=listing.object_,
        what="batches",
        position=position,
    )


class Batches:
    """Batch operations of a `BatchClient`."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> BatchesWithRawResponse:
        """These methods returning a `RawResponse` (headers, status, `parse()`) instead of the parsed object."""
        return BatchesWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> BatchesWithStreamingResponse:
        """These methods as context managers over an `APIResponse` whose body is read only when asked."""
        return BatchesWithStreamingResponse(self)

    def create(
        self,
        *,
        input_file_id: str,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Start a batch over an uploaded JSONL file (purpose `batch`) of requests to `endpoint`.

        Every attempt of one call carries the same `Idempotency-Key` (yours, or a fresh random one).

        Args:
            input_file_id: The uploaded input file (purpose `batch`), e.g. `file-abc`.
            endpoint: The endpoint every request of the file calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch (keys up to 64 characters, values up to 512).
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: The `Idempotency-Key` header; a fresh random one when None.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The new batch, usually `validating`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        body = _create_params(input_file_id, endpoint, completion_window, metadata, output_expires_after)
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        context.headers = with_idempotency_key(context.headers, idempotency_key)
        return self._client._request_as(context, request_kwargs(create_batch, body=body), _parse_batch)

    def retrieve(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Fetch a batch by id.

        Args:
            batch_id: The batch's id, e.g. `batch_abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch as the service holds it now.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(retrieve_batch, batch_id), _parse_batch)

    def cancel(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Ask the service to cancel a batch; it reports `cancelling`, then `cancelled` within about 10 minutes.

        Args:
            batch_id: The batch's id, e.g. `batch_abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch, usually `cancelling`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(cancel_batch, batch_id), _parse_batch)

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncCursorPage[public.Batch]:
        """The first page of batches, newest first; iterate the page to walk every later page lazily.

        Args:
            after: A batch id: start the listing after it; None for the newest.
            limit: Batches per page, 1 to 100; the service's default (20) when None.
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
            APIResponseValidationError: A success status came with a body that is not a page of batches.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        first_cursor = check_cursor(after)
        page_size = check_limit(limit)

        client = self._client
        plain: BatchClient = client._plain

        def fetch(cursor: str | None, position: int) -> SyncCursorPage[public.Batch]:
            requester = client if position == 0 else plain
            query = page_query(extra_query, position)
            context = requester._call(extra_headers, timeout, max_retries, query, extra_body)
            kwargs = request_kwargs(
                list_batches,
                after=UNSET if cursor is None else cursor,
                limit=UNSET if page_size is None else page_size,
            )
            return requester._request_as(context, kwargs, functools.partial(_page, SyncCursorPage, walk, position))

        walk = new_walk(fetch, first_cursor)
        return fetch(first_cursor, 0)

    def wait(
        self,
        batch: Batch | str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: Callable[[public.Batch], object] | None = None,
    ) -> public.Batch:
        """Poll until the batch is final (completed, failed, expired or cancelled) and return it.

        Polls `poll_interval` seconds after each change of status, backing off by half again per poll up to
        `max_poll_interval` while nothing changes; while the counts move, it backs off too but never past the moment
        the batch should finish at its current pace. `on_update(batch)` is called once per change of status or
        counts. Each poll retries like any call, and a
        few polls in a row may fail before the wait gives up. Raises `BatchWaitTimeout` (with the last batch seen)
        after `timeout` seconds.

        Args:
            batch: The batch, or its id.
            poll_interval: Seconds before the first poll after each change of status; more than 0.
            max_poll_interval: The longest pause between polls, in seconds; not shorter than `poll_interval`.
            timeout: Give up after this many seconds; None waits as long as the batch takes.
            on_update: Called with the batch on each change of status or request counts.

        Returns:
            The batch in its final status.

        Raises:
            InvalidParameterError: An argument was refused before the first poll.
            BatchWaitTimeout: `timeout` passed first; its `batch` is the last state seen.
            APIStatusError: A poll got an error status that waiting does not ride out (e.g. `NotFoundError`), or a
                rate limit or server error five polls in a row.
            APIConnectionError: Five polls in a row got no complete answer.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import TRANSIENT_ERRORS, PollState, batch_id_of

        batch_id = batch_id_of(batch)
        policy = self._client._options.retry
        state = PollState(
            policy,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            timeout=timeout,
            on_update=on_update,
        )
        while True:
            try:
                current = self.retrieve(batch_id)
            except TRANSIENT_ERRORS as error:
                state.failed(error)
            else:
                if state.observe(current):
                    return current
            policy.sleep(state.next_sleep(batch_id))

    def results(self, batch: Batch | str) -> Iterator[BatchResult]:
        """Every result of a batch, streamed from its output file and then its error file (flat memory).

        Works on any batch: a failed one may have no output file, a cancelled or expired one holds the results
        finished before it stopped.

        Args:
            batch: The batch, or its id (then retrieved first).

        Yields:
            Each result, output file lines first, then error file lines.

        Raises:
            InvalidParameterError: `batch` is not a batch or a batch id.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of, file_id
        from ..results import parse_result_line

        current = batch if isinstance(batch, Batch) else self.retrieve(batch_id_of(batch))
        for source in (file_id(current.output_file_id), file_id(current.error_file_id)):
            if source is None:
                continue
            with self._client.files.content(source) as content:
                for number, line in enumerate(content._raw_lines(), start=1):
                    result = parse_result_line(line, number)
                    if result is not None:
                        yield result

    def results_by_custom_id(self, batch: Batch | str, *, expected: Iterable[str] | None = None) -> BatchResults:
        """All results keyed by `custom_id`, and `missing`: the submitted ids that have no result.

        The submitted ids come from `expected`, or else from the batch's input file (read as a stream).

        Args:
            batch: The batch, or its id (then retrieved first).
            expected: The submitted custom_ids; None reads them from the batch's input file (none missing, and
                `expected_known` False, when that file is gone).

        Returns:
            The results by `custom_id`, with the submitted ids that have none in `missing`.

        Raises:
            InvalidParameterError: `batch` is not a batch or a batch id, or `expected` is not an
                iterable of strings.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of
        from ..results import BatchResults

        current = batch if isinstance(batch, Batch) else self.retrieve(batch_id_of(batch))
        found = {result.custom_id: result for result in self.results(current)}
        if expected is not None:
            return BatchResults(found, frozenset(expected_ids(expected)) - found.keys(), expected_known=True)
        try:
            with self._client.files.content(current.input_file_id) as content:
                submitted = {custom_id for line in content.iter_lines() if (custom_id := custom_id_of(line))}
        except NotFoundError:
            return BatchResults(found, frozenset(), expected_known=False)
        return BatchResults(found, frozenset(submitted - found.keys()), expected_known=True)

    def results_table(self, batch: Batch | str) -> ArrowTable:
        """Every result of a batch as a row of a `pyarrow.Table`, with the columns `openai_batches.tables` describes
        (`batch_id` the batch's, `attempt` 1), sorted by input line, and a row with an error code for each request
        of the input that has no result (`no_result`, `cancelled`, or `pending` while the batch runs).

        Reads the batch's input file (for each request's line and model) and its output and error files, as
        streams; without the input file (deleted), the rows come in the files' order with no input line. Needs the
        `[arrow]` extra, checked before anything is sent.

        Args:
            batch: The batch, or its id (then retrieved first).

        Returns:
            A `pyarrow.Table`, one row per request.

        Raises:
            MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
            InvalidParameterError: `batch` is not a batch or a batch id.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of, file_id
        from ..tables import BatchTable, InputIndex, index_input_line, require

        require("pyarrow")
        current = batch if isinstance(batch, Batch) else self.retrieve(batch_id_of(batch))
        inputs: InputIndex | None = None
        source = file_id(current.input_file_id)
        if source is not None:
            inputs = {}
            try:
                with self._client.files.content(source) as content:
                    for number, line in enumerate(content._raw_lines(), start=1):
                        index_input_line(inputs, number, line)
            except NotFoundError:
                inputs = None
        table = BatchTable(current.id, current.status, inputs)
        for result in self.results(current):
            table.add(result)
        return table.table()

    def submit(
        self,
        requests: RequestsInput,
        *,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        limits: InputLimits | None = None,
    ) -> public.Batch:
        """Check the requests, upload them (purpose `batch`) and create one batch over them.

        `requests` is a JSONL path, a `BatchInput`, or an iterable of `BatchRequest`s or dicts. Anything the
        service would refuse (duplicate ids, another endpoint, more than one batch holds) raises `BatchInputError`
        before any upload; use `submit_many` for more requests than one batch takes.

        Args:
            requests: A JSONL path, a `BatchInput`, or an iterable of `BatchRequest`s or request dicts.
            endpoint: The endpoint every request calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch.
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: Makes a retried submit safe: the upload sends `<key>:input`, the batch `<key>`.
            limits: The service's input limits to check against; the Batch API's own when None.

        Returns:
            The new batch.

        Raises:
            BatchInputError: A request breaks the service's rules; nothing was uploaded.
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The upload or the create got an error status (a refused create deletes the upload).
            APIConnectionError: The upload or the create got no complete answer after the retries.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import prepared_input
        from ..batch_input import check_endpoint

        target = check_endpoint(endpoint)
        _create_params("file-pending", endpoint, completion_window, metadata, output_expires_after)
        with prepared_input(requests, target, limits) as path:
            upload = self._client.files.create(
                file=path,
                purpose="batch",
                idempotency_key=None if idempotency_key is None else f"{idempotency_key}:input",
            )
        try:
            return self.create(
                input_file_id=upload.id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=metadata,
                output_expires_after=output_expires_after,
                idempotency_key=idempotency_key,
            )
        except APIStatusError as error:
            if error.status_code < 500:
                # Refused outright, so no batch uses the file: do not leave it behind.
                with contextlib.suppress(OpenAIBatchesError):
                    self._client.files.delete(upload.id)
            raise

    def submit_many(
        self,
        requests: Iterable[BatchRequest | Mapping[str, Any]],
        *,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        limits: InputLimits | None = None,
    ) -> builtins.list[public.Batch]:
        """Split the requests into shards that each fit one batch, and submit every shard; the batches in order.

        If a shard fails, `PartialSubmitError.batches` holds the batches created before it.

        Args:
            requests: An iterable of `BatchRequest`s or request dicts, read once.
            endpoint: The endpoint every request calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch.
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: Makes a retried submit safe: shard i uses `<key>-i` (see `submit`).
            limits: The service's input limits to check against; the Batch API's own when None.

        Returns:
            The batches, one per shard, in order.

        Raises:
            BatchInputError: A request breaks the service's rules; nothing was uploaded.
            InvalidParameterError: An argument was refused before anything was sent.
            PartialSubmitError: A later shard failed; `batches` holds those created before it.
            APIStatusError: The first shard's upload or create got an error status.
            APIConnectionError: The first shard's upload or create got no complete answer.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import PartialSubmitError
        from ..batch_input import InputLimits, check_endpoint, shard_requests

        target = check_endpoint(endpoint)
        created: builtins.list[public.Batch] = []
        for index, shard in enumerate(shard_requests(requests, target, limits=limits or InputLimits())):
            try:
                created.append(
                    self.submit(
                        shard,
                        endpoint=endpoint,
                        completion_window=completion_window,
                        metadata=metadata,
                        output_expires_after=output_expires_after,
                        idempotency_key=None if idempotency_key is None else f"{idempotency_key}-{index}",
                        limits=limits,
                    )
                )
            except OpenAIBatchesError as error:
                if not created:
                    raise
                raise PartialSubmitError(
                    f"Shard {index + 1} failed after {len(created)} batches were created: {error}", batches=[*created]
                ) from error
        return created


class AsyncBatches:
    """Batch operations of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> AsyncBatchesWithRawResponse:
        """These methods returning a `RawResponse` (headers, status, `parse()`) instead of the parsed object."""
        return AsyncBatchesWithRawResponse(self)

    @functools.cached_property
    def with_streaming_response(self) -> AsyncBatchesWithStreamingResponse:
        """These methods as async context managers over an `AsyncAPIResponse` whose body is read only when asked."""
        return AsyncBatchesWithStreamingResponse(self)

    async def create(
        self,
        *,
        input_file_id: str,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Start a batch over an uploaded JSONL file (purpose `batch`) of requests to `endpoint`.

        Every attempt of one call carries the same `Idempotency-Key` (yours, or a fresh random one).

        Args:
            input_file_id: The uploaded input file (purpose `batch`), e.g. `file-abc`.
            endpoint: The endpoint every request of the file calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch (keys up to 64 characters, values up to 512).
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: The `Idempotency-Key` header; a fresh random one when None.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The new batch, usually `validating`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        body = _create_params(input_file_id, endpoint, completion_window, metadata, output_expires_after)
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        context.headers = with_idempotency_key(context.headers, idempotency_key)
        return await self._client._request_as(context, request_kwargs(create_batch, body=body), _parse_batch)

    async def retrieve(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Fetch a batch by id.

        Args:
            batch_id: The batch's id, e.g. `batch_abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch as the service holds it now.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(retrieve_batch, batch_id), _parse_batch)

    async def cancel(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> public.Batch:
        """Ask the service to cancel a batch; it reports `cancelling`, then `cancelled` within about 10 minutes.

        Args:
            batch_id: The batch's id, e.g. `batch_abc`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch, usually `cancelling`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a batch.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(cancel_batch, batch_id), _parse_batch)

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[public.Batch]:
        """`await` it for the first page, or `async for` over every batch; arguments are checked right away.

        Args:
            after: A batch id: start the listing after it; None for the newest.
            limit: Batches per page, 1 to 100; the service's default (20) when None.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body (refused on a GET, which has no body).
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            A paginator: awaited, the first page; iterated with `async for`, every batch.

        Raises:
            InvalidParameterError: An argument was refused, at the call.
            PaginationError: The pages cannot be walked safely (a repeated cursor, an empty page).
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `NotFoundError` (404), `RateLimitError` (429), `InternalServerError` (5xx).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a page of batches.
            APIKeyProviderError: The client's `api_key` callable raised or returned no usable key.
        """
        first_cursor = check_cursor(after)
        page_size = check_limit(limit)

        client = self._client
        plain: AsyncBatchClient = client._plain

        async def fetch(cursor: str | None, position: int) -> AsyncCursorPage[public.Batch]:
            requester = client if position == 0 else plain
            query = page_query(extra_query, position)
            context = requester._call(extra_headers, timeout, max_retries, query, extra_body)
            kwargs = request_kwargs(
                list_batches,
                after=UNSET if cursor is None else cursor,
                limit=UNSET if page_size is None else page_size,
            )
            return await requester._request_as(
                context, kwargs, functools.partial(_page, AsyncCursorPage, walk, position)
            )

        walk = new_async_walk(fetch, first_cursor)
        return AsyncPaginator(lambda: fetch(first_cursor, 0))

    async def wait(
        self,
        batch: Batch | str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: Callable[[public.Batch], object] | None = None,
    ) -> public.Batch:
        """Poll until the batch is final and return it; see `Batches.wait`.

        Args:
            batch: The batch, or its id.
            poll_interval: Seconds before the first poll after each change of status; more than 0.
            max_poll_interval: The longest pause between polls, in seconds; not shorter than `poll_interval`.
            timeout: Give up after this many seconds; None waits as long as the batch takes.
            on_update: Called with the batch on each change of status or request counts.

        Returns:
            The batch in its final status.

        Raises:
            InvalidParameterError: An argument was refused before the first poll.
            BatchWaitTimeout: `timeout` passed first; its `batch` is the last state seen.
            APIStatusError: A poll got an error status that waiting does not ride out (e.g. `NotFoundError`), or a
                rate limit or server error five polls in a row.
            APIConnectionError: Five polls in a row got no complete answer.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import TRANSIENT_ERRORS, PollState, batch_id_of

        batch_id = batch_id_of(batch)
        policy = self._client._options.retry
        state = PollState(
            policy,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            timeout=timeout,
            on_update=on_update,
        )
        while True:
            try:
                current = await self.retrieve(batch_id)
            except TRANSIENT_ERRORS as error:
                state.failed(error)
            else:
                if state.observe(current):
                    return current
            await policy.async_sleep(state.next_sleep(batch_id))

    async def results(self, batch: Batch | str) -> AsyncIterator[BatchResult]:
        """Every result of a batch, streamed from its output file and then its error file; see `Batches.results`.

        Args:
            batch: The batch, or its id (then retrieved first).

        Yields:
            Each result, output file lines first, then error file lines.

        Raises:
            InvalidParameterError: `batch` is not a batch or a batch id.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of, file_id
        from ..results import parse_result_line

        current = batch if isinstance(batch, Batch) else await self.retrieve(batch_id_of(batch))
        for source in (file_id(current.output_file_id), file_id(current.error_file_id)):
            if source is None:
                continue
            async with self._client.files.content(source) as content:
                number = 0
                async for line in content._araw_lines():
                    number += 1
                    result = parse_result_line(line, number)
                    if result is not None:
                        yield result

    async def results_by_custom_id(self, batch: Batch | str, *, expected: Iterable[str] | None = None) -> BatchResults:
        """Results by `custom_id` and the submitted ids with no result; see `Batches.results_by_custom_id`.

        Args:
            batch: The batch, or its id (then retrieved first).
            expected: The submitted custom_ids; None reads them from the batch's input file (none missing, and
                `expected_known` False, when that file is gone).

        Returns:
            The results by `custom_id`, with the submitted ids that have none in `missing`.

        Raises:
            InvalidParameterError: `batch` is not a batch or a batch id, or `expected` is not an
                iterable of strings.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of
        from ..results import BatchResults

        current = batch if isinstance(batch, Batch) else await self.retrieve(batch_id_of(batch))
        found = {result.custom_id: result async for result in self.results(current)}
        if expected is not None:
            return BatchResults(found, frozenset(expected_ids(expected)) - found.keys(), expected_known=True)
        try:
            async with self._client.files.content(current.input_file_id) as content:
                submitted = {custom_id async for line in content.iter_lines() if (custom_id := custom_id_of(line))}
        except NotFoundError:
            return BatchResults(found, frozenset(), expected_known=False)
        return BatchResults(found, frozenset(submitted - found.keys()), expected_known=True)

    async def results_table(self, batch: Batch | str) -> ArrowTable:
        """Every result of a batch as a row of a `pyarrow.Table`; see `Batches.results_table`.

        Args:
            batch: The batch, or its id (then retrieved first).

        Returns:
            A `pyarrow.Table`, one row per request.

        Raises:
            MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
            InvalidParameterError: `batch` is not a batch or a batch id.
            APIStatusError: Retrieving the batch or reading a file failed with an error status, e.g. `NotFoundError`.
            APIConnectionError: Retrieving the batch or reading a file got no complete answer.
            OpenAIBatchesError: A line of the output or error file is not a result record.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import batch_id_of, file_id
        from ..tables import BatchTable, InputIndex, index_input_line, require

        require("pyarrow")
        current = batch if isinstance(batch, Batch) else await self.retrieve(batch_id_of(batch))
        inputs: InputIndex | None = None
        source = file_id(current.input_file_id)
        if source is not None:
            inputs = {}
            try:
                async with self._client.files.content(source) as content:
                    number = 0
                    async for line in content._araw_lines():
                        number += 1
                        index_input_line(inputs, number, line)
            except NotFoundError:
                inputs = None
        table = BatchTable(current.id, current.status, inputs)
        async for result in self.results(current):
            table.add(result)
        return table.table()

    async def submit(
        self,
        requests: RequestsInput,
        *,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        limits: InputLimits | None = None,
    ) -> public.Batch:
        """Check the requests, upload them and create one batch; see `Batches.submit`.

        Args:
            requests: A JSONL path, a `BatchInput`, or an iterable of `BatchRequest`s or request dicts.
            endpoint: The endpoint every request calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch.
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: Makes a retried submit safe: the upload sends `<key>:input`, the batch `<key>`.
            limits: The service's input limits to check against; the Batch API's own when None.

        Returns:
            The new batch.

        Raises:
            BatchInputError: A request breaks the service's rules; nothing was uploaded.
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The upload or the create got an error status (a refused create deletes the upload).
            APIConnectionError: The upload or the create got no complete answer after the retries.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import prepared_input
        from ..batch_input import check_endpoint

        target = check_endpoint(endpoint)
        _create_params("file-pending", endpoint, completion_window, metadata, output_expires_after)
        with prepared_input(requests, target, limits) as path:
            upload = await self._client.files.create(
                file=path,
                purpose="batch",
                idempotency_key=None if idempotency_key is None else f"{idempotency_key}:input",
            )
        try:
            return await self.create(
                input_file_id=upload.id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=metadata,
                output_expires_after=output_expires_after,
                idempotency_key=idempotency_key,
            )
        except APIStatusError as error:
            if error.status_code < 500:
                with contextlib.suppress(OpenAIBatchesError):
                    await self._client.files.delete(upload.id)
            raise

    async def submit_many(
        self,
        requests: Iterable[BatchRequest | Mapping[str, Any]],
        *,
        endpoint: EndpointParam | BatchEndpoint,
        completion_window: CompletionWindowParam | BatchCompletionWindow = "24h",
        metadata: MetadataParam | Metadata | None = None,
        output_expires_after: OutputExpiresAfterParam | OutputExpiresAfter | None = None,
        idempotency_key: str | None = None,
        limits: InputLimits | None = None,
    ) -> builtins.list[public.Batch]:
        """Split the requests into shards that each fit one batch and submit every shard; see `Batches.submit_many`.

        Args:
            requests: An iterable of `BatchRequest`s or request dicts, read once.
            endpoint: The endpoint every request calls, e.g. `/v1/chat/completions`.
            completion_window: How long the batch may run; `24h` is the value the API offers.
            metadata: Up to 16 string pairs stored with the batch.
            output_expires_after: When the output and error files expire, counted from their creation.
            idempotency_key: Makes a retried submit safe: shard i uses `<key>-i` (see `submit`).
            limits: The service's input limits to check against; the Batch API's own when None.

        Returns:
            The batches, one per shard, in order.

        Raises:
            BatchInputError: A request breaks the service's rules; nothing was uploaded.
            InvalidParameterError: An argument was refused before anything was sent.
            PartialSubmitError: A later shard failed; `batches` holds those created before it.
            APIStatusError: The first shard's upload or create got an error status.
            APIConnectionError: The first shard's upload or create got no complete answer.
        """
        # Imported on first use: the workflow's modules add a tenth to the library's import time.
        from .._workflow import PartialSubmitError
        from ..batch_input import InputLimits, check_endpoint, shard_requests

        target = check_endpoint(endpoint)
        created: builtins.list[public.Batch] = []
        for index, shard in enumerate(shard_requests(requests, target, limits=limits or InputLimits())):
            try:
                created.append(
                    await self.submit(
                        shard,
                        endpoint=endpoint,
                        completion_window=completion_window,
                        metadata=metadata,
                        output_expires_after=output_expires_after,
                        idempotency_key=None if idempotency_key is None else f"{idempotency_key}-{index}",
                        limits=limits,
                    )
                )
            except OpenAIBatchesError as error:
                if not created:
                    raise
                raise PartialSubmitError(
                    f"Shard {index + 1} failed after {len(created)} batches were created: {error}", batches=[*created]
                ) from error
        return created


class BatchesWithRawResponse:
    """`client.batches.with_raw_response`: each method returns a `RawResponse` whose `parse()` gives its result."""

    def __init__(self, batches: Batches) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import SyncRawMode, sync_mode, to_raw_response_wrapper

        raw = Batches(sync_mode(batches._client, SyncRawMode))
        self.create = to_raw_response_wrapper(raw.create)
        self.retrieve = to_raw_response_wrapper(raw.retrieve)
        self.cancel = to_raw_response_wrapper(raw.cancel)
        self.list = to_raw_response_wrapper(raw.list)


class BatchesWithStreamingResponse:
    """`client.batches.with_streaming_response`: each method returns a context manager over an `APIResponse`."""

    def __init__(self, batches: Batches) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import SyncStreamMode, sync_mode, to_streamed_response_wrapper

        streamed = Batches(sync_mode(batches._client, SyncStreamMode))
        self.create = to_streamed_response_wrapper(streamed.create)
        self.retrieve = to_streamed_response_wrapper(streamed.retrieve)
        self.cancel = to_streamed_response_wrapper(streamed.cancel)
        self.list = to_streamed_response_wrapper(streamed.list)


class AsyncBatchesWithRawResponse:
    """The async `with_raw_response`: `await` a method for its `RawResponse`."""

    def __init__(self, batches: AsyncBatches) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import AsyncRawMode, async_mode, async_to_raw_response_wrapper

        raw = AsyncBatches(async_mode(batches._client, AsyncRawMode))
        self.create = async_to_raw_response_wrapper(raw.create)
        self.retrieve = async_to_raw_response_wrapper(raw.retrieve)
        self.cancel = async_to_raw_response_wrapper(raw.cancel)
        self.list = async_to_raw_response_wrapper(raw.list)


class AsyncBatchesWithStreamingResponse:
    """The async `with_streaming_response`: `async with` a method for its `AsyncAPIResponse`."""

    def __init__(self, batches: AsyncBatches) -> None:
        # Loaded on first use: the plain methods never need it.
        from .._response import AsyncStreamMode, async_mode, async_to_streamed_response_wrapper

        streamed = AsyncBatches(async_mode(batches._client, AsyncStreamMode))
        self.create = async_to_streamed_response_wrapper(streamed.create)
        self.retrieve = async_to_streamed_response_wrapper(streamed.retrieve)
        self.cancel = async_to_streamed_response_wrapper(streamed.cancel)
        self.list = async_to_streamed_response_wrapper(streamed.list)
