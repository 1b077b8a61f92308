"""The job driver: reads the job, asks the core what to do, carries out its effects and runs its actions.

Written once, for async code; `jobs/_sync/driver.py` is generated from this file by `make unasync`
(`tools/unasync_jobs.py`) and checked by `make check`, so the two runners cannot drift apart. In async code every
store and file operation runs in a worker thread (`offload`) and a step's actions run concurrently (`gather_all`);
in the sync twin they run inline, one after another. The service is reached through a provider (`provider.py`),
whichever it is: nothing here knows which.

Around every request that changes the service the lease is checked (`JobLease.check`), including after each retry
pause the provider's client takes, and every record is written in a transaction fenced by the lease: a runner that
lost the job stops with `JobLeaseLostError` before it sends or records anything more.
"""

from __future__ import annotations

from pathlib import Path

from ..._exceptions import OpenAIBatchesError
from .._concurrency import gather_all, offload
from ..actions import (
    MUTATING,
    Action,
    Cancel,
    Create,
    Download,
    Event,
    FindBatch,
    FindUpload,
    Poll,
    Reconcile,
    Upload,
)
from ..core import JobCore
from ..crash import crash_point
from ..errors import JobLeaseLostError
from ..lease import JobLease
from ..local_work import LocalWork
from ..records import CANCELLING, FINISHED_STATUSES
from ..runs import MIN_PAUSE, OnUpdate, check_account, check_input, failure, load_job, new_core, news
from ..store import JobStore
from .provider import AsyncJobProvider

# The longest a run sleeps at once with nothing due: a cancel from another process is seen within this.
MAX_PAUSE = 10.0


async def run_job(
    provider: AsyncJobProvider,
    store: JobStore,
    name: str,
    state_dir: Path,
    *,
    on_update: OnUpdate | None,
    poll_interval: float,
    max_poll_interval: float,
    lease_seconds: float,
) -> None:
    clock = provider.clock
    record = await offload(load_job, store, name)
    if record.status in FINISHED_STATUSES:
        return  # nothing left to send or read: its results stand, whatever became of its input since
    check_account(record, provider.account, provider.rules)
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
        fenced = _checking_after_pauses(provider, lease)
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
                await provider.sleep(max(min(step.wait, MAX_PAUSE, lease_seconds / 4), MIN_PAUSE))
                # The renewing thread keeps the lease meanwhile; this also renews it when that thread could not.
                await offload(lease.check)
    finally:
        await offload(lease.release)


def _checking_after_pauses(provider: AsyncJobProvider, lease: JobLease) -> AsyncJobProvider:
    """The provider with a retry pause that checks the lease after it: a request retried after the runner slept
    past its lease is not sent."""

    async def pause(seconds: float) -> None:
        await provider.sleep(seconds)
        await offload(lease.check)

    return provider.pausing(pause)


async def _report(core: JobCore, store: JobStore, state_dir: Path, on_update: OnUpdate | None) -> None:
    """on_update runs here, in the caller's thread (on the event loop in async code); the snapshot is read off it."""
    job = await offload(news, core, store, state_dir, on_update is not None)
    if job is not None and on_update is not None:
        on_update(job)


async def execute(provider: AsyncJobProvider, lease: JobLease, action: Action) -> Event:
    try:
        if isinstance(action, MUTATING):
            await offload(lease.check)
        return await _execute(provider, action)
    except JobLeaseLostError:
        raise
    except OpenAIBatchesError as error:
        return failure(action, error)


async def _execute(provider: AsyncJobProvider, action: Action) -> Event:
    """One action by its kind; the crash points name the moments between a request and its record."""
    if isinstance(action, Upload):
        uploaded = await provider.upload(action)
        crash_point("upload")
        return uploaded
    if isinstance(action, FindUpload):
        return await provider.find_upload(action)
    if isinstance(action, Create):
        crash_point("create-intent")
        created = await provider.create(action)
        crash_point("create")
        return created
    if isinstance(action, FindBatch):
        return await provider.find_batch(action)
    if isinstance(action, Poll):
        polled = await provider.poll(action)
        crash_point("poll")
        return polled
    if isinstance(action, Cancel):
        return await provider.cancel(action)
    if isinstance(action, Download):
        downloaded = await provider.download(action)
        crash_point("downloaded")
        return downloaded
    if isinstance(action, Reconcile):
        return await provider.reconcile(action)
    deleted = await provider.delete_upload(action)
    crash_point("delete")
    return deleted
