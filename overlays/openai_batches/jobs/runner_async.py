"""The async runner: `JobCore`'s actions of each step run concurrently with an `AsyncBatchClient`."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .._exceptions import ConflictError, NotFoundError, OpenAIBatchesError
from .._types import CompletionWindowParam, EndpointParam
from .core import (
    Action,
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    Download,
    Downloaded,
    Event,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from .crash import crash_point
from .files import replacing
from .lease import JobLease
from .records import FINISHED_STATUSES
from .runs import MIN_PAUSE, OnUpdate, check_account, check_input, failure, load_job, new_core, report
from .service import batch_view
from .store import JobStore

if TYPE_CHECKING:
    from .._client import AsyncBatchClient


async def run_job(
    client: AsyncBatchClient,
    store: JobStore,
    name: str,
    state_dir: Path,
    account: str,
    *,
    on_update: OnUpdate | None,
    poll_interval: float,
    max_poll_interval: float,
) -> None:
    policy = client._options.retry
    record = load_job(store, name)
    if record.status in FINISHED_STATUSES:
        return  # nothing left to send or read: its results stand, whatever became of its input since
    check_account(record, str(client.base_url), account)
    check_input(record)
    lease = JobLease(store, record, policy.clock())
    lease.acquire()
    try:
        core = new_core(store, record, state_dir, poll_interval, max_poll_interval)
        while True:
            step = core.decide(policy.clock())
            report(core, store, state_dir, on_update)
            if step.done:
                return
            events = await asyncio.gather(*(execute(client, action) for action in step.actions))
            for event in events:
                core.record(event, policy.clock())
            report(core, store, state_dir, on_update)
            if not step.actions:
                await policy.async_sleep(max(min(step.wait, 10.0), MIN_PAUSE))
            lease.renew(policy.clock())
    finally:
        lease.release()


async def execute(client: AsyncBatchClient, action: Action) -> Event:
    try:
        return await _execute(client, action)
    except OpenAIBatchesError as error:
        return failure(action, error)


async def _execute(client: AsyncBatchClient, action: Action) -> Event:
    if isinstance(action, Upload):
        upload = await client.files.create(
            file=action.path, purpose="batch", filename=action.filename, idempotency_key=action.idempotency_key
        )
        crash_point("upload")
        return Uploaded(action.shard, upload.id)
    if isinstance(action, FindUpload):
        found = []
        async for file in client.files.list(purpose="batch", order="desc", limit=100):
            if file.created_at < action.since:
                break
            if file.filename == action.filename:
                found.append(file.id)
        return UploadsFound(action.shard, tuple(reversed(found)))
    if isinstance(action, Create):
        crash_point("create-intent")
        batch = await client.batches.create(
            input_file_id=action.file_id,
            endpoint=cast("EndpointParam", action.endpoint),
            completion_window=cast("CompletionWindowParam", action.completion_window),
            metadata=dict(action.metadata),
            idempotency_key=action.idempotency_key,
        )
        crash_point("create")
        return Created(action.shard, batch_view(batch))
    if isinstance(action, FindBatch):
        views = []
        async for batch in client.batches.list(limit=100):
            if batch.created_at < action.since:
                break
            view = batch_view(batch)
            if all(view.metadata.get(key) == value for key, value in action.metadata.items()):
                views.append(view)
        return BatchesFound(action.shard, tuple(reversed(views)))
    if isinstance(action, Poll):
        view = batch_view(await client.batches.retrieve(action.batch_id))
        crash_point("poll")
        return Polled(action.shard, view)
    if isinstance(action, Cancel):
        try:
            return CancelSent(action.shard, batch_view(await client.batches.cancel(action.batch_id)))
        except (ConflictError, NotFoundError):
            return CancelSent(action.shard, None)
    if isinstance(action, Download):
        files: list[tuple[str, Path | None]] = []
        for kind, file_id, path in action.files:
            files.append((kind, await _download(client, file_id, path)))
        crash_point("downloaded")
        return Downloaded(action.shard, tuple(files))
    with contextlib.suppress(NotFoundError):
        await client.files.delete(action.file_id)
    crash_point("delete")
    return UploadDeleted(action.shard, action.file_id)


async def _download(client: AsyncBatchClient, file_id: str, path: Path) -> Path | None:
    """Stream a file into `path`; None if the service no longer has it."""
    try:
        async with client.files.content(file_id) as content:
            with replacing(path) as out:
                number = 0
                async for chunk in content.iter_bytes():
                    out.write(chunk)
                    if number == 0:
                        out.flush()
                        crash_point("download")
                    number += 1
    except NotFoundError:
        return None
    return path
