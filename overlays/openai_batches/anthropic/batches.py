"""`client.messages.batches`: create, retrieve, list, cancel, delete and results, sync and async.

Each request is described by the generated operation (through the seam, `_generated.request_kwargs`) and sent by the
client's dispatcher; each response becomes a public model (`openai_batches.anthropic.types`) through the library's
model builder. Listing walks pages with the guards of `_pagination` (a repeated cursor or a page that says `has_more`
with nothing in it raises `PaginationError` instead of looping). Results are streamed: the lines are read from the
response as the iteration reaches them, so a file of any size is never held in memory.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import httpx

from .. import _json
from .._config import NOT_GIVEN, NotGiven, QueryValue, TimeoutTypes, check_body
from .._exceptions import APIConnectionError, APIResponseValidationError, InvalidParameterError
from .._generated import (
    ANTHROPIC_UNSET,
    MessageBatchCreateParams,
    MessageBatchRequestParams,
    MessageBatchRequestParamsParams,
    cancel_message_batch,
    create_message_batch,
    delete_message_batch,
    get_message_batch_results,
    list_message_batches,
    request_kwargs,
    retrieve_message_batch,
)
from .._http import CallContext
from .._models import InvalidShape, build
from .._pagination import (
    AsyncCursorPage,
    AsyncPaginator,
    ItemT,
    PageInfo,
    SyncCursorPage,
    new_async_walk,
    new_walk,
)
from .._parsing import model_parser, parse_model
from .._validation import check_cursor, check_id, check_limit
from . import types

if TYPE_CHECKING:
    from ._client import AnthropicBatchClient, AsyncAnthropicBatchClient

__all__ = [
    "AsyncBatches",
    "AsyncMessages",
    "AsyncPage",
    "AsyncResultStream",
    "Batches",
    "Messages",
    "ResultStream",
    "SyncPage",
]

_parse_batch = model_parser(types.MessageBatch)
_parse_deleted = model_parser(types.DeletedMessageBatch)

_VARIANTS: dict[str, type[types.MessageBatchResultVariant]] = {
    "succeeded": types.MessageBatchSucceededResult,
    "errored": types.MessageBatchErroredResult,
    "canceled": types.MessageBatchCanceledResult,
    "expired": types.MessageBatchExpiredResult,
}
_CURSORS = ("before_id", "after_id")


# --- requests ---------------------------------------------------------------------------------------------------


def create_params(requests: object) -> MessageBatchCreateParams:
    """The body of a create call, each request checked before anything is sent."""
    if isinstance(requests, str | bytes | Mapping) or not isinstance(requests, Iterable):
        raise InvalidParameterError("requests", f"expected a list of requests, got {type(requests).__name__}")
    items = []
    for index, request in enumerate(requests):
        where = f"requests[{index}]"
        if not isinstance(request, Mapping):
            raise InvalidParameterError(where, f"expected a mapping with custom_id and params, got {type(request)}")
        unknown = sorted(str(key) for key in request if key not in ("custom_id", "params"))
        if unknown:
            raise InvalidParameterError(where, f"unknown fields {unknown}; a request has custom_id and params")
        custom_id = check_id(request.get("custom_id"), f"{where}.custom_id")
        params = request.get("params")
        if not isinstance(params, Mapping):
            raise InvalidParameterError(f"{where}.params", "expected a mapping of Messages API parameters")
        free_form = MessageBatchRequestParamsParams()
        free_form.additional_properties = check_body(params, f"{where}.params")
        items.append(MessageBatchRequestParams(custom_id=custom_id, params=free_form))
    if not items:
        raise InvalidParameterError("requests", "a batch needs at least one request")
    return MessageBatchCreateParams(requests=items)


def raw_create_kwargs(lines: bytes) -> dict[str, Any]:
    """The create request (its method and path from the generated operation) with a body made of encoded request
    lines: `{"requests": [line, line, ...]}`, byte for byte."""
    kwargs = request_kwargs(create_message_batch, body=MessageBatchCreateParams(requests=[]))
    kwargs.pop("json", None)
    items = b",".join(line for line in lines.splitlines() if line.strip())
    kwargs["content"] = b'{"requests":[' + items + b"]}"
    return kwargs


def list_cursor(before_id: object, after_id: object) -> tuple[str | None, bool]:
    """The first cursor of a listing and whether it walks backwards (`before_id`), as the SDK's pages do."""
    before = None if before_id is NOT_GIVEN else check_cursor(before_id, "before_id")
    after = None if after_id is NOT_GIVEN else check_cursor(after_id, "after_id")
    if before is not None and after is not None:
        raise InvalidParameterError("before_id", "give before_id or after_id, not both")
    return (before, True) if before is not None else (after, False)


def list_kwargs(cursor: str | None, backward: bool, limit: int | None) -> dict[str, Any]:
    return request_kwargs(
        list_message_batches,
        before_id=cursor if backward and cursor is not None else ANTHROPIC_UNSET,
        after_id=cursor if not backward and cursor is not None else ANTHROPIC_UNSET,
        limit=ANTHROPIC_UNSET if limit is None else limit,
    )


def page_query(extra_query: Mapping[str, QueryValue] | None, position: int) -> Mapping[str, QueryValue] | None:
    """A call's extra_query for one page: on later pages the page's cursor wins over one given there."""
    if position == 0 or not extra_query:
        return extra_query
    return {name: value for name, value in extra_query.items() if name not in _CURSORS}


# --- pages ------------------------------------------------------------------------------------------------------


def _walked(data: builtins.list[ItemT], backward: bool) -> builtins.list[ItemT]:
    # The walk continues from the last item it is shown: the first one of the page when walking backwards.
    return data[::-1] if backward else data


def _page_info(page: SyncPage[Any] | AsyncPage[Any]) -> PageInfo | None:
    cursor = page.first_id if page._backward else page.last_id
    if page.has_more is not True or not cursor:
        return None
    return PageInfo(params={"before_id" if page._backward else "after_id": cursor})


class SyncPage(SyncCursorPage[ItemT]):
    """One page of message batches; `for batch in page` walks this page and every later one, a request per page.

    A listing with `before_id` walks backwards (`before_id` of each page's first item), any other forwards
    (`after_id` of its last), as the official SDK's pages do.
    """

    def __init__(self, *, backward: bool, **fields: Any) -> None:
        super().__init__(**fields)
        self._backward = backward

    def next_page_info(self) -> PageInfo | None:
        """The cursor of the next page (`PageInfo(params={"after_id": ...})`, or `before_id`), or None at the end.

        Returns:
            The next page's cursor, or None.
        """
        return _page_info(self)

    def get_next_page(self) -> SyncPage[ItemT]:
        """Fetch the page after this one.

        Returns:
            The next page.

        Raises:
            PaginationError: There is no next page, or it cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        page = self._walk.next_page(_walked(self.data, self._backward), self.has_more, self._position, self._what)
        return cast("SyncPage[ItemT]", page)


class AsyncPage(AsyncCursorPage[ItemT]):
    """One page of message batches; `async for batch in page` walks this page and every later one."""

    def __init__(self, *, backward: bool, **fields: Any) -> None:
        super().__init__(**fields)
        self._backward = backward

    def next_page_info(self) -> PageInfo | None:
        """The cursor of the next page (`PageInfo(params={"after_id": ...})`, or `before_id`), or None at the end.

        Returns:
            The next page's cursor, or None.
        """
        return _page_info(self)

    async def get_next_page(self) -> AsyncPage[ItemT]:
        """Fetch the page after this one.

        Returns:
            The next page.

        Raises:
            PaginationError: There is no next page, or it cannot be reached safely (an empty page that says
                has_more, an item with no id, a repeated cursor).
            APIStatusError: The API answered the request with an error status after the retries.
            APIConnectionError: The request got no complete answer after the retries.
        """
        page = await self._walk.next_page(_walked(self.data, self._backward), self.has_more, self._position, self._what)
        return cast("AsyncPage[ItemT]", page)


def _page(
    page_class: Any, walk: Any, position: int, backward: bool, context: CallContext, response: httpx.Response
) -> Any:
    """A page of batches from a list response (the parse step, shared by plain and raw calls)."""
    listing = parse_model(context, response, types.ListMessageBatchesResponse)
    return page_class(
        walk=walk,
        backward=backward,
        data=listing.data,
        has_more=listing.has_more,
        first_id=listing.first_id,
        last_id=listing.last_id,
        object="list",
        what="message batches",
        position=position,
    )


# --- results ----------------------------------------------------------------------------------------------------


def _invalid_line(
    context: CallContext, response: httpx.Response, number: int, field: str, message: str, body: object
) -> APIResponseValidationError:
    error = APIResponseValidationError(
        context.redact(f"Invalid results line {number}: {message}"),
        response=response,
        body=context.redact_json(body) if context.redact_json is not None else body,
        field=field or None,
    )
    error.attempts = max(context.attempts, 1)
    return error


def decode_result(
    line: str, number: int, context: CallContext, response: httpx.Response
) -> types.MessageBatchIndividualResponse:
    """One line of a results file as its typed result; the error names the line and the field of a problem."""
    try:
        data = _json.loads(line)
    except (ValueError, RecursionError):
        raise _invalid_line(context, response, number, "", "not JSON", None) from None
    try:
        if not isinstance(data, dict):
            raise InvalidShape("", f"expected an object, got {type(data).__name__}")
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str):
            raise InvalidShape("custom_id", f"custom_id: expected a string, got {custom_id!r}")
        result = data.get("result")
        kind = result.get("type") if isinstance(result, dict) else None
        variant = _VARIANTS.get(kind, types.MessageBatchResult) if isinstance(kind, str) else types.MessageBatchResult
        built = build(variant, result, "result")
    except InvalidShape as problem:
        raise _invalid_line(context, response, number, problem.field, problem.message, data) from None
    item = types.MessageBatchIndividualResponse(custom_id=custom_id, result=built)  # type: ignore[arg-type]
    item.additional_properties = {k: v for k, v in data.items() if k not in ("custom_id", "result")}
    return item


def _stream_failure(exc: httpx.HTTPError, response: httpx.Response, context: CallContext) -> APIConnectionError:
    request = response.request
    return APIConnectionError(
        context.redact(f"The results stream of {request.method} {request.url} broke off: {exc or type(exc).__name__}"),
        request=request,
    )


class ResultStream:
    """The lines of a batch's results, decoded as the iteration reaches them (`for item in stream`), once.

    Use it as a context manager, or call `close()`, to release the connection when not reading to the end.
    """

    def __init__(self, response: httpx.Response, context: CallContext) -> None:
        self._response = response
        self._context = context

    @property
    def response(self) -> httpx.Response:
        """The HTTP response the lines are read from."""
        return self._response

    def __iter__(self) -> Iterator[types.MessageBatchIndividualResponse]:
        number = 0
        try:
            for line in self._response.iter_lines():
                number += 1
                if line.strip():
                    yield decode_result(line, number, self._context, self._response)
        except httpx.HTTPError as exc:
            raise _stream_failure(exc, self._response, self._context) from None
        finally:
            self._response.close()

    def close(self) -> None:
        """Release the connection; the lines not yet read are dropped."""
        self._response.close()

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncResultStream:
    """The async twin of `ResultStream`: `async for item in stream`, once; `async with` or `close()` to release."""

    def __init__(self, response: httpx.Response, context: CallContext) -> None:
        self._response = response
        self._context = context

    @property
    def response(self) -> httpx.Response:
        """The HTTP response the lines are read from."""
        return self._response

    async def __aiter__(self) -> AsyncIterator[types.MessageBatchIndividualResponse]:
        number = 0
        try:
            async for line in self._response.aiter_lines():
                number += 1
                if line.strip():
                    yield decode_result(line, number, self._context, self._response)
        except httpx.HTTPError as exc:
            raise _stream_failure(exc, self._response, self._context) from None
        finally:
            await self._response.aclose()

    async def close(self) -> None:
        """Release the connection; the lines not yet read are dropped."""
        await self._response.aclose()

    async def __aenter__(self) -> AsyncResultStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _streamed(stream_class: Any, context: CallContext, response: httpx.Response) -> Any:
    return stream_class(response, context)


# --- resources --------------------------------------------------------------------------------------------------


class Messages:
    """`client.messages`: only its `batches` here (this library sends no single Messages API request)."""

    def __init__(self, client: AnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def batches(self) -> Batches:
        """Message Batches: create, retrieve, list, cancel, delete, results."""
        return Batches(self._client)


class AsyncMessages:
    """`client.messages` of the async client: only its `batches`."""

    def __init__(self, client: AsyncAnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def batches(self) -> AsyncBatches:
        """Message Batches: create, retrieve, list, cancel, delete, results."""
        return AsyncBatches(self._client)


class Batches:
    """`client.messages.batches` of `AnthropicBatchClient`."""

    def __init__(self, client: AnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> BatchesWithRawResponse:
        """Every method but `results`, returning a `RawResponse` whose `parse()` gives its result."""
        return BatchesWithRawResponse(self)

    def create(
        self,
        *,
        requests: Iterable[Mapping[str, Any]],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Send a batch of Messages API requests; it starts processing at once and ends within 24 hours.

        Args:
            requests: Each `{"custom_id": ..., "params": {...}}`, the params those of a Messages API request
                (`model`, `max_tokens`, `messages`, ...), sent as given.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The new batch, `processing_status` `in_progress`.

        Raises:
            InvalidParameterError: A request was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `BadRequestError` (400), `RequestTooLargeError` (413), `RateLimitError` (429).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        body = create_params(requests)
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(create_message_batch, body=body), _parse_batch)

    def _create_from_lines(self, lines: bytes) -> types.MessageBatch:
        """A batch of requests already checked and encoded, one JSON object per line, sent as they are: the job
        runner's create, which holds a shard's requests as bytes rather than as objects."""
        context = self._client._call({"Content-Type": "application/json"}, NOT_GIVEN, NOT_GIVEN, None)
        return self._client._request_as(context, raw_create_kwargs(lines), _parse_batch)

    def retrieve(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Fetch a message batch by id.

        Args:
            message_batch_id: The batch's id, e.g. `msgbatch_013Zva2CMHLNnXjNJJKqJ2EF`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch as the API holds it now.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        return self._client._request_as(context, request_kwargs(retrieve_message_batch, batch_id), _parse_batch)

    def list(
        self,
        *,
        before_id: str | NotGiven = NOT_GIVEN,
        after_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncPage[types.MessageBatch]:
        """The first page of the workspace's message batches, most recent first; iterate it for every batch.

        Args:
            before_id: Start from the page just before this batch (newer ones), and walk on backwards.
            after_id: Start from the page just after this batch (older ones).
            limit: Batches per page, from 1 to 100; the API's default (20) when not given.
            extra_headers: Headers sent with each request of the walk, over the client's.
            extra_query: Query parameters added to each request of the walk.
            timeout: Each request's timeout, over the client's.
            max_retries: Each request's retry budget, over the client's.

        Returns:
            The first page; `for batch in page` fetches the later ones as it reaches them.

        Raises:
            InvalidParameterError: An argument was refused (both cursors given, a limit out of range).
            PaginationError: While iterating: a page cannot be walked on safely (a repeated cursor, an empty page
                that says has_more).
            APIStatusError: The API answered with an error status after the retries.
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a page of message batches.
        """
        first_cursor, backward = list_cursor(before_id, after_id)
        page_size = None if limit is NOT_GIVEN else check_limit(limit)
        client = self._client
        plain: AnthropicBatchClient = client._plain

        def fetch(cursor: str | None, position: int) -> SyncCursorPage[types.MessageBatch]:
            requester = client if position == 0 else plain
            context = requester._call(extra_headers, timeout, max_retries, page_query(extra_query, position))
            kwargs = list_kwargs(cursor, backward, page_size)
            parse = functools.partial(_page, SyncPage, walk, position, backward)
            page: SyncCursorPage[types.MessageBatch] = requester._request_as(context, kwargs, parse)
            return page

        walk = new_walk(fetch, first_cursor)
        return cast("SyncPage[types.MessageBatch]", fetch(first_cursor, 0))

    def cancel(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Ask the API to cancel a batch; it reports `canceling`, then `ended` with the unrun requests canceled.

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields sent as this request's JSON body.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch, `processing_status` `canceling` (or `ended`).

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return self._client._request_as(context, request_kwargs(cancel_message_batch, batch_id), _parse_batch)

    def delete(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.DeletedMessageBatch:
        """Delete an ended batch and its results (cancel one in progress first).

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The id and `type` `message_batch_deleted`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `BadRequestError` (400)
                for a batch still processing, `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a deleted batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        return self._client._request_as(context, request_kwargs(delete_message_batch, batch_id), _parse_deleted)

    def results(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> ResultStream:
        """Stream an ended batch's results, one typed line per request, in no particular order (match `custom_id`).

        The request is sent now and its status checked; the lines are read as the iteration reaches them.

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's (for each read of the stream too).
            max_retries: This call's retry budget, over the client's (the request, not a broken stream).

        Returns:
            The lines: `for item in stream`, each a `MessageBatchIndividualResponse` whose `result` is a
            `MessageBatchSucceededResult`, `...ErroredResult`, `...CanceledResult` or `...ExpiredResult`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `BadRequestError`
                (400) for a batch still processing, `NotFoundError` (404).
            APIConnectionError: No answer came after the retries, or the stream broke off while read.
            APIResponseValidationError: While iterating: a line is not a result (the error names the line).
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        context.stream = True
        kwargs = request_kwargs(get_message_batch_results, batch_id)
        stream: ResultStream = self._client._request_as(context, kwargs, functools.partial(_streamed, ResultStream))
        return stream


class AsyncBatches:
    """`client.messages.batches` of `AsyncAnthropicBatchClient`."""

    def __init__(self, client: AsyncAnthropicBatchClient) -> None:
        self._client = client

    @functools.cached_property
    def with_raw_response(self) -> AsyncBatchesWithRawResponse:
        """Every method but `results`, returning a `RawResponse` whose `parse()` gives its result."""
        return AsyncBatchesWithRawResponse(self)

    async def create(
        self,
        *,
        requests: Iterable[Mapping[str, Any]],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Send a batch of Messages API requests; it starts processing at once and ends within 24 hours.

        Args:
            requests: Each `{"custom_id": ..., "params": {...}}`, the params those of a Messages API request
                (`model`, `max_tokens`, `messages`, ...), sent as given.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields merged into this request's JSON body.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The new batch, `processing_status` `in_progress`.

        Raises:
            InvalidParameterError: A request was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries; the subclass names the
                status, e.g. `BadRequestError` (400), `RequestTooLargeError` (413), `RateLimitError` (429).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        body = create_params(requests)
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(create_message_batch, body=body), _parse_batch)

    async def _create_from_lines(self, lines: bytes) -> types.MessageBatch:
        """A batch of requests already checked and encoded, one JSON object per line, sent as they are: the job
        runner's create, which holds a shard's requests as bytes rather than as objects."""
        context = self._client._call({"Content-Type": "application/json"}, NOT_GIVEN, NOT_GIVEN, None)
        return await self._client._request_as(context, raw_create_kwargs(lines), _parse_batch)

    async def retrieve(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Fetch a message batch by id.

        Args:
            message_batch_id: The batch's id, e.g. `msgbatch_013Zva2CMHLNnXjNJJKqJ2EF`.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch as the API holds it now.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        return await self._client._request_as(context, request_kwargs(retrieve_message_batch, batch_id), _parse_batch)

    def list(
        self,
        *,
        before_id: str | NotGiven = NOT_GIVEN,
        after_id: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[types.MessageBatch]:
        """The workspace's message batches, most recent first: `await` it for the first page, or `async for` every
        batch.

        Args:
            before_id: Start from the page just before this batch (newer ones), and walk on backwards.
            after_id: Start from the page just after this batch (older ones).
            limit: Batches per page, from 1 to 100; the API's default (20) when not given.
            extra_headers: Headers sent with each request of the walk, over the client's.
            extra_query: Query parameters added to each request of the walk.
            timeout: Each request's timeout, over the client's.
            max_retries: Each request's retry budget, over the client's.

        Returns:
            Awaitable for the first page (an `AsyncPage`), async-iterable over every batch.

        Raises:
            InvalidParameterError: An argument was refused (both cursors given, a limit out of range).
            PaginationError: While iterating: a page cannot be walked on safely (a repeated cursor, an empty page
                that says has_more).
            APIStatusError: The API answered with an error status after the retries.
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a page of message batches.
        """
        first_cursor, backward = list_cursor(before_id, after_id)
        page_size = None if limit is NOT_GIVEN else check_limit(limit)
        client = self._client
        plain: AsyncAnthropicBatchClient = client._plain

        async def fetch(cursor: str | None, position: int) -> AsyncCursorPage[types.MessageBatch]:
            requester = client if position == 0 else plain
            context = requester._call(extra_headers, timeout, max_retries, page_query(extra_query, position))
            kwargs = list_kwargs(cursor, backward, page_size)
            parse = functools.partial(_page, AsyncPage, walk, position, backward)
            page: AsyncCursorPage[types.MessageBatch] = await requester._request_as(context, kwargs, parse)
            return page

        walk = new_async_walk(fetch, first_cursor)
        return AsyncPaginator(lambda: fetch(first_cursor, 0))

    async def cancel(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.MessageBatch:
        """Ask the API to cancel a batch; it reports `canceling`, then `ended` with the unrun requests canceled.

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            extra_body: Fields sent as this request's JSON body.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The batch, `processing_status` `canceling` (or `ended`).

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a message batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query, extra_body)
        return await self._client._request_as(context, request_kwargs(cancel_message_batch, batch_id), _parse_batch)

    async def delete(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> types.DeletedMessageBatch:
        """Delete an ended batch and its results (cancel one in progress first).

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's.
            max_retries: This call's retry budget, over the client's.

        Returns:
            The id and `type` `message_batch_deleted`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `BadRequestError` (400)
                for a batch still processing, `NotFoundError` (404).
            APIConnectionError: No complete answer came after the retries; `APITimeoutError` when it timed out.
            APIResponseValidationError: A success status came with a body that is not a deleted batch.
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        return await self._client._request_as(context, request_kwargs(delete_message_batch, batch_id), _parse_deleted)

    async def results(
        self,
        message_batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, QueryValue] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncResultStream:
        """Stream an ended batch's results, one typed line per request, in no particular order (match `custom_id`).

        As in the SDK, `await` sends the request and checks its status; `async for` reads the lines.

        Args:
            message_batch_id: The batch's id.
            extra_headers: Headers sent with this request only, over the client's.
            extra_query: Query parameters added to this request only.
            timeout: This call's timeout, over the client's (for each read of the stream too).
            max_retries: This call's retry budget, over the client's (the request, not a broken stream).

        Returns:
            The lines: `async for item in stream`, each a `MessageBatchIndividualResponse` whose `result` is a
            `MessageBatchSucceededResult`, `...ErroredResult`, `...CanceledResult` or `...ExpiredResult`.

        Raises:
            InvalidParameterError: An argument was refused before anything was sent.
            APIStatusError: The API answered with an error status after the retries, e.g. `BadRequestError`
                (400) for a batch still processing, `NotFoundError` (404).
            APIConnectionError: No answer came after the retries, or the stream broke off while read.
            APIResponseValidationError: While iterating: a line is not a result (the error names the line).
        """
        batch_id = check_id(message_batch_id, "message_batch_id")
        context = self._client._call(extra_headers, timeout, max_retries, extra_query)
        context.stream = True
        kwargs = request_kwargs(get_message_batch_results, batch_id)
        parse = functools.partial(_streamed, AsyncResultStream)
        stream: AsyncResultStream = await self._client._request_as(context, kwargs, parse)
        return stream


# --- raw responses ----------------------------------------------------------------------------------------------


class MessagesWithRawResponse:
    """`client.with_raw_response.messages`."""

    def __init__(self, messages: Messages) -> None:
        self.batches = messages.batches.with_raw_response


class AsyncMessagesWithRawResponse:
    """`client.with_raw_response.messages` of the async client."""

    def __init__(self, messages: AsyncMessages) -> None:
        self.batches = messages.batches.with_raw_response


class BatchesWithRawResponse:
    """`client.messages.batches.with_raw_response`: each method returns a `RawResponse` whose `parse()` gives its
    result (`results` streams, so it has none)."""

    def __init__(self, batches: Batches) -> None:
        from .._response import SyncRawMode, sync_mode, to_raw_response_wrapper

        raw = Batches(cast("AnthropicBatchClient", sync_mode(cast(Any, batches._client), SyncRawMode)))
        self.create = to_raw_response_wrapper(raw.create)
        self.retrieve = to_raw_response_wrapper(raw.retrieve)
        self.list = to_raw_response_wrapper(raw.list)
        self.cancel = to_raw_response_wrapper(raw.cancel)
        self.delete = to_raw_response_wrapper(raw.delete)


class AsyncBatchesWithRawResponse:
    """The async `with_raw_response`: `await` a method for its `RawResponse`."""

    def __init__(self, batches: AsyncBatches) -> None:
        from .._response import AsyncRawMode, async_mode, async_to_raw_response_wrapper

        raw = AsyncBatches(cast("AsyncAnthropicBatchClient", async_mode(cast(Any, batches._client), AsyncRawMode)))
        self.create = async_to_raw_response_wrapper(raw.create)
        self.retrieve = async_to_raw_response_wrapper(raw.retrieve)
        self.list = async_to_raw_response_wrapper(raw.list)
        self.cancel = async_to_raw_response_wrapper(raw.cancel)
        self.delete = async_to_raw_response_wrapper(raw.delete)
