"""The Batch API's provider: OpenAI, and Azure OpenAI (the same files and batches on a resource's paths).

A shard becomes a submission in two requests, an upload and a create. Both are found again after a crash by what
the job writes on them: an upload by its filename (unique to the job, shard and attempt), a batch by its metadata
(job, shard, attempt, submission). Result files are the service's own result lines, streamed to disk.

Written once, for `AsyncBatchClient`; `jobs/_sync/openai_provider.py` (`OpenAIProvider`) is generated from this
file by `make unasync`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from ..._exceptions import ConflictError, NotFoundError
from ..._types import CompletionWindowParam, EndpointParam
from .._concurrency import AsyncPause, offload
from ..actions import (
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    DeleteUpload,
    Download,
    Downloaded,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Reconcile,
    Reconciled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from ..crash import crash_point
from ..creation import Account
from ..files import PartFile
from ..openai_account import account_of
from ..openai_batch_view import batch_view
from ..provider_rules import ProviderRules
from ..service import META_JOB_ID

if TYPE_CHECKING:
    from ..._client import AsyncBatchClient

# How many objects one list request asks for while looking for a job's uploads and batches.
PAGE = 100


class AsyncOpenAIProvider:
    """Jobs on the Batch API through an `AsyncBatchClient` (or `AsyncAzureBatchClient`)."""

    def __init__(self, client: AsyncBatchClient, rules: ProviderRules) -> None:
        self._client = client
        self._rules = rules

    @property
    def rules(self) -> ProviderRules:
        return self._rules

    @property
    def account(self) -> Account:
        return account_of(self._client)

    @property
    def clock(self) -> Callable[[], float]:
        return self._client._options.retry.clock

    async def sleep(self, seconds: float) -> None:
        await self._client._options.retry.async_sleep(seconds)

    def pausing(self, pause: AsyncPause) -> AsyncOpenAIProvider:
        policy = attrs.evolve(self._client._options.retry, async_sleep=pause)
        return AsyncOpenAIProvider(self._client.with_options(retry_policy=policy), self._rules)

    async def upload(self, action: Upload) -> Uploaded:
        upload = await self._client.files.create(
            file=action.path, purpose="batch", filename=action.filename, idempotency_key=action.idempotency_key
        )
        return Uploaded(action.shard, upload.id)

    async def find_upload(self, action: FindUpload) -> UploadsFound:
        found = []
        async for file in self._client.files.list(purpose="batch", order="desc", limit=PAGE):
            if file.created_at < action.since:
                break
            if file.filename == action.filename:
                found.append(file.id)
        return UploadsFound(action.shard, tuple(reversed(found)))

    async def create(self, action: Create) -> Created:
        batch = await self._client.batches.create(
            input_file_id=action.file_id,
            endpoint=cast("EndpointParam", action.endpoint),
            completion_window=cast("CompletionWindowParam", action.completion_window),
            metadata=dict(action.metadata),
            idempotency_key=action.idempotency_key,
        )
        return Created(action.shard, batch_view(batch))

    async def find_batch(self, action: FindBatch) -> BatchesFound:
        views = []
        async for batch in self._client.batches.list(limit=PAGE):
            if batch.created_at < action.since:
                break
            view = batch_view(batch)
            if all(view.metadata.get(key) == value for key, value in action.metadata.items()):
                views.append(view)
        return BatchesFound(action.shard, tuple(reversed(views)))

    async def poll(self, action: Poll) -> Polled:
        return Polled(action.shard, batch_view(await self._client.batches.retrieve(action.batch_id)))

    async def cancel(self, action: Cancel) -> CancelSent:
        try:
            return CancelSent(action.shard, batch_view(await self._client.batches.cancel(action.batch_id)))
        except (ConflictError, NotFoundError):
            return CancelSent(action.shard, None)

    async def download(self, action: Download) -> Downloaded:
        files: list[tuple[str, Path | None]] = []
        for kind, file_id, path in action.files:
            files.append((kind, await self._download(file_id, path)))
        return Downloaded(action.shard, tuple(files))

    async def delete_upload(self, action: DeleteUpload) -> UploadDeleted:
        with contextlib.suppress(NotFoundError):
            await self._client.files.delete(action.file_id)
        return UploadDeleted(action.shard, action.file_id)

    async def reconcile(self, action: Reconcile) -> Reconciled:
        batches = []
        async for batch in self._client.batches.list(limit=PAGE):
            if batch.created_at < action.since:
                break
            view = batch_view(batch)
            if view.metadata.get(META_JOB_ID) == action.job_uid:
                batches.append(view)
        uploads = []
        async for file in self._client.files.list(purpose="batch", order="desc", limit=PAGE):
            if file.created_at < action.since:
                break
            if file.filename.startswith(action.filename_prefix):
                uploads.append((file.id, file.filename))
        return Reconciled(tuple(batches), tuple(uploads))

    async def _download(self, file_id: str, path: Path) -> Path | None:
        """Stream a file into `path` (synced before it takes the name); None if the service no longer has it."""
        try:
            async with self._client.files.content(file_id) as content:
                part = await offload(PartFile, path)
                try:
                    first = True
                    async for chunk in content.iter_bytes():
                        await offload(part.write, chunk)
                        if first:
                            await offload(part.flush)
                            crash_point("download")
                            first = False
                    await offload(part.commit)
                finally:
                    await offload(part.discard)
        except NotFoundError:
            return None
        return path
