"""The job driver: reads the job, asks the core what to do, carries out its effects and runs its actions.

Written once, for `AsyncBatchClient`; `jobs/_sync/driver.py` is generated from this file by `make unasync`
(`tools/unasync_jobs.py`) and checked by `make check`, so the two runners cannot drift apart. In async code every
store and file operation runs in a worker thread (`offload`) and a step's actions run concurrently (`gather_all`);
in the sync twin they run inline, one after another.

Around every request that changes the service the lease is checked (`JobLease.check`), including after each retry
pause the client takes, and every record is written in a transaction fenced by the lease: a runner that lost the
job stops with `JobLeaseLostError` before it sends or records anything more.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from ..._exceptions import ConflictError, NotFoundError, OpenAIBatchesError
from ..._types import CompletionWindowParam, EndpointParam
from .._concurrency import gather_all, offload
from ..actions import (
    MUTATING,
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
    Reconcile,
    Reconciled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from ..core import JobCore
from ..crash import crash_point
from ..errors import JobLeaseLostError
from ..files import PartFile
from ..lease import JobLease
from ..local_work import LocalWork
from ..records import CANCELLING, FINISHED_STATUSES
from ..runs import MIN_PAUSE, OnUpdate, check_account, check_input, failure, load_job, new_core, news
from ..service import META_JOB_ID, batch_view
from ..store import JobStore

if TYPE_CHECKING:
    from ..._client import AsyncBatchClient

# The longest a run sleeps at once with nothing due: a cancel from another process is seen within this.
MAX_PAUSE = 10.0


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
    lease_seconds: float,
) -> None:
    policy = client._options.retry
    clock = policy.clock
    record = await offload(load_job, store, name)
    if record.status in FINISHED_STATUSES:
        return  # nothing left to send or read: its results stand, whatever became of its input since
    check_account(record, str(client.base_url), account)
    if record.status != CANCELLING:  # a cancelling job sends no request of its input: a changed file cannot matter
        await offload(check_input, store, record)
    lease = await offload(JobLease, store, record, ttl=lease_seconds, clock=clock)
    try:
        await offload(lease.acquire)
    except BaseException:
        # Cancelled or interrupted while the lease was being taken (in async code the thread goes on): let go of it.
        await offload(lease.abandon)
        raise
    try:
        fenced = _checking_after_pauses(client, lease)
        work = LocalWork(store, record, lease.lease)
        core = await offload(new_core, record, state_dir, poll_interval, max_poll_interval, lease_seconds)
        while True:
            view = await offload(work.view)
            step = core.decide(view, clock())
            await offload(work.apply, step.effects)
            await _report(core, store, state_dir, on_update)
            if step.done and not step.effects:
                return
            if step.done or step.local:
                continue
            events = await gather_all([execute(fenced, lease, action) for action in step.actions])
            for event in events:
                await offload(work.apply, core.record(event, clock()))
            await _report(core, store, state_dir, on_update)
            if not step.actions:
                await policy.async_sleep(max(min(step.wait, MAX_PAUSE, lease_seconds / 4), MIN_PAUSE))
                # The renewing thread keeps the lease meanwhile; this also renews it when that thread could not.
                await offload(lease.check)
    finally:
        await offload(lease.release)


def _checking_after_pauses(client: AsyncBatchClient, lease: JobLease) -> AsyncBatchClient:
    """The client with a retry pause that checks the lease after it: a request retried after the runner slept
    past its lease is not sent."""
    policy = client._options.retry

    async def pause(seconds: float) -> None:
        await policy.async_sleep(seconds)
        await offload(lease.check)

    return client.with_options(retry_policy=attrs.evolve(policy, async_sleep=pause))


async def _report(core: JobCore, store: JobStore, state_dir: Path, on_update: OnUpdate | None) -> None:
    """on_update runs here, in the caller's thread (on the event loop in async code); the snapshot is read off it."""
    job = await offload(news, core, store, state_dir, on_update is not None)
    if job is not None and on_update is not None:
        on_update(job)


async def execute(client: AsyncBatchClient, lease: JobLease, action: Action) -> Event:
    try:
        if isinstance(action, MUTATING):
            await offload(lease.check)
        return await _execute(client, action)
    except JobLeaseLostError:
        raise
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
    if isinstance(action, Reconcile):
        return await _reconcile(client, action)
    with contextlib.suppress(NotFoundError):
        await client.files.delete(action.file_id)
    crash_point("delete")
    return UploadDeleted(action.shard, action.file_id)


async def _reconcile(client: AsyncBatchClient, action: Reconcile) -> Reconciled:
    batches = []
    async for batch in client.batches.list(limit=100):
        if batch.created_at < action.since:
            break
        view = batch_view(batch)
        if view.metadata.get(META_JOB_ID) == action.job_uid:
            batches.append(view)
    uploads = []
    async for file in client.files.list(purpose="batch", order="desc", limit=100):
        if file.created_at < action.since:
            break
        if file.filename.startswith(action.filename_prefix):
            uploads.append((file.id, file.filename))
    return Reconciled(tuple(batches), tuple(uploads))


async def _download(client: AsyncBatchClient, file_id: str, path: Path) -> Path | None:
    """Stream a file into `path` (synced before it takes the name); None if the service no longer has it."""
    try:
        async with client.files.content(file_id) as content:
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
