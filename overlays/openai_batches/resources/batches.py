"""`client.batches`: create, retrieve, cancel and list batches (sync and async)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from openai_batches_generated.api.batch import cancel_batch, create_batch, list_batches, retrieve_batch
from openai_batches_generated.models import (
    Batch,
    BatchCompletionWindow,
    BatchCreateParams,
    BatchEndpoint,
    ListBatchesResponse,
    Metadata,
    OutputExpiresAfter,
)
from openai_batches_generated.types import UNSET

from .._config import NOT_GIVEN, NotGiven, TimeoutTypes
from .._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage, new_async_walk, new_walk
from .._parsing import parse_async, parse_sync
from .._types import CompletionWindowParam, EndpointParam, MetadataParam, OutputExpiresAfterParam
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

__all__ = ["AsyncBatches", "Batches"]


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


def _page_fields(response: ListBatchesResponse, position: int) -> dict[str, object]:
    return {
        "data": response.data,
        "has_more": response.has_more,
        "first_id": None if response.first_id is UNSET else response.first_id,
        "last_id": None if response.last_id is UNSET else response.last_id,
        "object": response.object_,
        "what": "batches",
        "position": position,
    }


class Batches:
    """Batch operations of a `BatchClient`."""

    def __init__(self, client: BatchClient) -> None:
        self._client = client

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
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Start a batch over an uploaded JSONL file (purpose `batch`) of requests to `endpoint`.

        Every attempt of one call carries the same `Idempotency-Key` (yours, or a fresh random one).
        """
        body = _create_params(input_file_id, endpoint, completion_window, metadata, output_expires_after)
        headers = with_idempotency_key(extra_headers, idempotency_key)
        context = self._client._call(Batch, headers, timeout, max_retries)
        return parse_sync(context, lambda: create_batch.sync_detailed(client=self._client._generated, body=body))

    def retrieve(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Fetch a batch by id."""
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(Batch, extra_headers, timeout, max_retries)
        return parse_sync(context, lambda: retrieve_batch.sync_detailed(batch_id, client=self._client._generated))

    def cancel(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Ask the service to cancel a batch; it reports `cancelling`, then `cancelled` within about 10 minutes."""
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(Batch, extra_headers, timeout, max_retries)
        return parse_sync(context, lambda: cancel_batch.sync_detailed(batch_id, client=self._client._generated))

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncCursorPage[Batch]:
        """The first page of batches, newest first; iterate the page to walk every later page lazily."""
        first_cursor = check_cursor(after)
        page_size = check_limit(limit)

        def fetch(cursor: str | None, position: int) -> SyncCursorPage[Batch]:
            context = self._client._call(ListBatchesResponse, extra_headers, timeout, max_retries)
            response = parse_sync(
                context,
                lambda: list_batches.sync_detailed(
                    client=self._client._generated,
                    after=UNSET if cursor is None else cursor,
                    limit=UNSET if page_size is None else page_size,
                ),
            )
            return SyncCursorPage(walk=walk, **_page_fields(response, position))

        walk = new_walk(fetch, first_cursor)
        return fetch(first_cursor, 0)


class AsyncBatches:
    """Batch operations of an `AsyncBatchClient`."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client

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
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Start a batch over an uploaded JSONL file (purpose `batch`) of requests to `endpoint`.

        Every attempt of one call carries the same `Idempotency-Key` (yours, or a fresh random one).
        """
        body = _create_params(input_file_id, endpoint, completion_window, metadata, output_expires_after)
        headers = with_idempotency_key(extra_headers, idempotency_key)
        context = self._client._call(Batch, headers, timeout, max_retries)
        return await parse_async(
            context, lambda: create_batch.asyncio_detailed(client=self._client._generated, body=body)
        )

    async def retrieve(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Fetch a batch by id."""
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(Batch, extra_headers, timeout, max_retries)
        return await parse_async(
            context, lambda: retrieve_batch.asyncio_detailed(batch_id, client=self._client._generated)
        )

    async def cancel(
        self,
        batch_id: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Ask the service to cancel a batch; it reports `cancelling`, then `cancelled` within about 10 minutes."""
        batch_id = check_id(batch_id, "batch_id")
        context = self._client._call(Batch, extra_headers, timeout, max_retries)
        return await parse_async(
            context, lambda: cancel_batch.asyncio_detailed(batch_id, client=self._client._generated)
        )

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Batch]:
        """`await` it for the first page, or `async for` over every batch; arguments are checked right away."""
        first_cursor = check_cursor(after)
        page_size = check_limit(limit)

        async def fetch(cursor: str | None, position: int) -> AsyncCursorPage[Batch]:
            context = self._client._call(ListBatchesResponse, extra_headers, timeout, max_retries)
            response = await parse_async(
                context,
                lambda: list_batches.asyncio_detailed(
                    client=self._client._generated,
                    after=UNSET if cursor is None else cursor,
                    limit=UNSET if page_size is None else page_size,
                ),
            )
            return AsyncCursorPage(walk=walk, **_page_fields(response, position))

        walk = new_async_walk(fetch, first_cursor)
        return AsyncPaginator(lambda: fetch(first_cursor, 0))
