"""`client.jobs` of an async client: create, run, get, list, cancel and delete durable multi-batch jobs.

The source of both clients' `jobs`: `jobs/_sync/api.py` (`Jobs`, for `BatchClient`) is generated from this file by
`make unasync`. Store and file work runs in a worker thread here and inline there.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from ..._config import NOT_GIVEN, NotGiven
from ...prices import PricesArg
from .._concurrency import offload
from ..actions import Cancel, DeleteUpload
from ..creation import JobInput, JobSettings, create_job
from ..effects import SaveShard
from ..errors import JobBusyError
from ..estimate import JobEstimate, estimate_input
from ..job import Job, snapshot
from ..lease import JobLease
from ..local_state import local_state_errors
from ..local_work import LocalWork
from ..operations import (
    DEFAULT_MAX_POLL_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    StateDir,
    batches_to_cancel,
    check_lease_seconds,
    check_run_args,
    forget,
    mark_cancelling,
    read_job,
    read_jobs,
    require_jobs,
    target,
)
from ..operations import remote_files as files_of
from ..records import FINISHED_STATUSES
from ..runs import check_account, load_job
from ..settings import STATE_DB, resolve_state_dir
from ..store import JobStore, open_store
from ..tokens import TokenEstimator
from .driver import run_job
from .provider import AsyncJobProvider

__all__ = ["AsyncJobs"]


@contextlib.asynccontextmanager
async def opened_store(directory: Path) -> AsyncIterator[JobStore]:
    store = await offload(open_store, directory)
    try:
        yield store
    finally:
        await offload(store.close)


class AsyncJobs:
    """Durable jobs: work bigger than one batch, resumable after a crash, never sent twice.

    State lives in a SQLite store in the state directory: `state_dir=` on each call, else
    `$OPENAI_BATCHES_STATE_DIR`, else `$XDG_STATE_HOME/openai-batches` or `~/.local/state/openai-batches`.
    """

    def __init__(self, provider: AsyncJobProvider) -> None:
        self._provider = provider

    async def create(
        self,
        name: str,
        requests: JobInput,
        *,
        endpoint: str | None = None,
        max_attempts: int | NotGiven = NOT_GIVEN,
        max_in_flight: int | NotGiven = NOT_GIVEN,
        enqueued_token_limit: int | Mapping[str, int] | NotGiven | None = NOT_GIVEN,
        max_batch_requests: int | NotGiven | None = NOT_GIVEN,
        max_cost: float | NotGiven | None = NOT_GIVEN,
        prices: PricesArg | NotGiven | None = NOT_GIVEN,
        completion_window: str = "24h",
        token_estimator: TokenEstimator | None = None,
        state_dir: StateDir = None,
    ) -> Job:
        """Record a job over `requests` (a JSONL path, read in place, or an iterable of requests, spooled once).

        Every request is checked as the service would check it, and indexed; nothing is sent yet (`run` does).
        Creating a job again with the same name and the same input returns it, with any setting given here updated;
        other input raises `JobConflictError`, a changed input `JobInputChangedError`. Defaults: `max_attempts=3`,
        `max_in_flight=8`, no token limit, shards up to the service's 50,000 requests (`max_batch_requests` lowers
        that), no cost budget.

        `max_cost` (dollars) caps what the job may spend: a batch is sent only while the estimated cost of what is
        done and in flight stays within it (`openai_batches.jobs.budget` says how it is counted), at the shipped
        batch prices with `prices` (per model, dollars per million tokens, kept with the job) on top; a model
        without a known price is refused here. At the cap the job lets its batches end, collects their results and
        pauses (`status == "paused"`); creating it again with a higher `max_cost` (or None) and running it goes on.

        Args:
            name: The job's name, unique in the state directory.
            requests: A JSONL path (read in place), or an iterable of `BatchRequest`s or request dicts (spooled).
            endpoint: The endpoint every request calls; read from the requests when None.
            max_attempts: How many batches a request may go through before its error is final.
            max_in_flight: How many of the job's batches may run at the service at once.
            enqueued_token_limit: The most input tokens the job keeps enqueued at once; a mapping gives each model its
                own (on Azure OpenAI, each deployment, whose quota is its own), models it leaves out having none;
                None for no limit.
            max_batch_requests: The most requests in one batch; None for the service's 50,000.
            max_cost: The job's budget in dollars; None for no budget.
            prices: Prices per model (dollars per million tokens) over the shipped batch prices; None for none.
            completion_window: Each batch's completion window.
            token_estimator: Counts a request's input tokens, as `(endpoint, body) -> tokens`; a built-in estimate
                when None.
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Returns:
            The job, `created` if new.

        Raises:
            InvalidParameterError: An argument was refused (a missing file, no requests, a setting out of range, a
                model without a price under `max_cost`).
            BatchInputError: A request breaks the service's rules (a repeated custom_id, another endpoint, ...).
            JobConflictError: A job of that name exists with other input or another endpoint.
            JobInputChangedError: The job's input file changed since that job was created.
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
        """
        settings = JobSettings(
            max_attempts, max_in_flight, enqueued_token_limit, max_batch_requests, max_cost=max_cost, prices=prices
        )
        directory = resolve_state_dir(state_dir)
        # Created in one transaction: a failure leaves no job behind, and the same call can be made again.
        with local_state_errors(
            name, directory / STATE_DB, True, next_step=f"job {name} was not created: create it again"
        ):
            return await offload(
                create_job,
                directory,
                name,
                requests,
                endpoint=endpoint,
                completion_window=completion_window,
                settings=settings,
                account=self._provider.account,
                estimator=token_estimator,
                rules=self._provider.rules,
            )

    async def estimate(
        self,
        input: JobInput,
        *,
        endpoint: str | None = None,
        prices: PricesArg | None = None,
        token_estimator: TokenEstimator | None = None,
        max_batch_requests: int | None = None,
        enqueued_token_limit: int | Mapping[str, int] | None = None,
    ) -> JobEstimate:
        """What a job over `input` (a JSONL path or an iterable of requests, as `create` takes) would send and
        cost, before anything is sent: a price check of a file of any size (read once, line by line), with nothing
        recorded and no request to the service.

        The lines are checked as `create` checks them, and counted as a job with these settings would plan and
        estimate them: requests and batches, input tokens per model (the same token estimator), the output bound
        the requests state, and the cost range at batch prices (the shipped table with `prices` on top). See
        `JobEstimate`; a created job's own is `job.estimate()`.

        Args:
            input: A JSONL path, or an iterable of `BatchRequest`s or request dicts.
            endpoint: The endpoint every request calls; read from the requests when None.
            prices: Prices per model (dollars per million tokens) over the shipped batch prices.
            token_estimator: Counts a request's input tokens, as `create` takes it.
            max_batch_requests: The most requests in one batch, as `create` takes it.
            enqueued_token_limit: The most input tokens enqueued at once, as `create` takes it.

        Returns:
            The estimate: requests, batches, tokens and the cost range per model and in total.

        Raises:
            InvalidParameterError: An argument was refused (a missing file, no requests, a setting out of range).
            BatchInputError: A request breaks the service's rules.
        """
        return await offload(
            estimate_input,
            input,
            endpoint=endpoint,
            prices=prices,
            token_estimator=token_estimator,
            max_batch_requests=max_batch_requests,
            enqueued_token_limit=enqueued_token_limit,
            rules=self._provider.rules,
        )

    async def run(
        self,
        job: Job | str,
        *,
        on_update: Callable[[Job], object] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        lease_seconds: float | None = None,
        state_dir: StateDir = None,
    ) -> Job:
        """Run the job until every request has its final result (or it pauses at its cost budget, `max_cost`),
        and return it; safe to call again at any time (a job paused at its budget returns at once, still paused).

        A run resumes where any earlier one stopped, crashed or was killed, adopting what that one left at the
        service instead of sending it twice. `on_update(job)` is called on every change. One runner holds a job at
        a time: `JobBusyError` if another does. It renews its lease while it runs; `lease_seconds` (default 120)
        is how long a runner that stopped renewing (paused, frozen) keeps the job before another may take it
        over, and a runner that lost it that way stops with `JobLeaseLostError` without changing anything more.
        Ctrl-C (KeyboardInterrupt) leaves the job resumable, its batches running.

        Args:
            job: The job, or its name.
            on_update: Called with the job on every change.
            poll_interval: Seconds between polls of running batches at first; more than 0.
            max_poll_interval: The longest pause between polls, in seconds.
            lease_seconds: How long this call's lease on the job lasts without renewal; 120 s when None.
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Returns:
            The job: `completed` or `cancelled`, or `paused` at its cost budget.

        Raises:
            InvalidParameterError: An argument was refused before the run started.
            JobNotFoundError: No job of that name.
            JobBusyError: Another runner holds the job.
            JobLeaseLostError: Another runner took the job over while this one ran.
            JobInputChangedError: The job's input file changed or went away since the job was created.
            JobAccountError: The job was created for another base URL or API key.
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
            APIError: A request failed in a way the run does not ride out (e.g. `AuthenticationError`); the job
                stays resumable.
        """
        check_run_args(on_update, poll_interval, max_poll_interval)
        lease = check_lease_seconds(lease_seconds)
        name, directory = target(job, state_dir)
        with local_state_errors(name, directory / STATE_DB, True):
            return await self._run(name, directory, on_update, poll_interval, max_poll_interval, lease)

    async def _run(
        self,
        name: str,
        directory: Path,
        on_update: Callable[[Job], object] | None,
        poll_interval: float,
        max_poll_interval: float,
        lease: float,
    ) -> Job:
        require_jobs(name, directory)
        async with opened_store(directory) as store:
            await run_job(
                self._provider,
                store,
                name,
                directory,
                on_update=on_update,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                lease_seconds=lease,
            )
            return await offload(_current, store, name, directory)

    async def get(self, name: str, *, state_dir: StateDir = None) -> Job:
        """The job as it stands (`JobNotFoundError` if there is none of that name).

        Args:
            name: The job's name.
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Returns:
            The job as its state says, read without a request to the service.

        Raises:
            JobNotFoundError: No job of that name.
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
        """
        directory = resolve_state_dir(state_dir)
        with local_state_errors(name, directory / STATE_DB, True):
            return await offload(read_job, name, directory)

    async def list(self, *, state_dir: StateDir = None) -> builtins.list[Job]:
        """Every job in the state directory, oldest first.

        Args:
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Returns:
            The jobs, oldest first; empty when the directory holds none.

        Raises:
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
        """
        directory = resolve_state_dir(state_dir)
        with local_state_errors(None, directory / STATE_DB, False):
            return await offload(read_jobs, directory)

    async def cancel(
        self, name: str, *, wait: bool = False, lease_seconds: float | None = None, state_dir: StateDir = None
    ) -> Job:
        """Cancel the job: its batches at the service are cancelled, nothing new is sent. What finished stays.

        A finished job is returned as it is. While a runner holds the job, this only marks it cancelling and that
        runner cancels its batches; otherwise this call does, holding the job's lease meanwhile. The results of the
        cancelled batches (what they finished first) are collected by a runner: with `wait=True` this call (it
        returns once the job is `cancelled`), or a later `run`.

        Args:
            name: The job's name.
            wait: Also collect the cancelled batches' results, returning once the job is `cancelled`.
            lease_seconds: How long this call's lease on the job lasts without renewal; 120 s when None.
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Returns:
            The job: `cancelling`, or `cancelled` with `wait=True`, or as it was if it had finished.

        Raises:
            InvalidParameterError: `lease_seconds` was refused.
            JobNotFoundError: No job of that name.
            JobBusyError: With `wait=True`, another runner holds the job.
            JobAccountError: The job was created for another base URL or API key.
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
            APIError: A cancel request failed after its retries (other than the batch being final or gone).
        """
        lease_ttl = check_lease_seconds(lease_seconds)
        directory = resolve_state_dir(state_dir)
        with local_state_errors(name, directory / STATE_DB, True, next_step=f"cancel job {name} again"):
            finished = await self._cancel(name, directory, lease_ttl)
        if finished is not None:
            return finished
        if wait:
            return await self.run(name, lease_seconds=lease_seconds, state_dir=directory)
        return await self.get(name, state_dir=directory)

    async def _cancel(self, name: str, directory: Path, lease_ttl: float) -> Job | None:
        """Mark the job cancelling and cancel its batches unless a runner holds it; the job if it had finished."""
        require_jobs(name, directory)
        async with opened_store(directory) as store:
            record = await offload(load_job, store, name)
            if record.status in FINISHED_STATUSES:
                return await offload(snapshot, store, record, directory)
            check_account(record, self._provider.account, self._provider.rules)
            await offload(mark_cancelling, store, record)
            lease = await offload(JobLease, store, record, ttl=lease_ttl, clock=self._provider.clock)
            try:
                await offload(lease.acquire)
            except JobBusyError:
                pass  # its runner cancels the batches at its next step
            else:
                try:
                    work = LocalWork(store, record, lease.lease)
                    for shard in await offload(batches_to_cancel, store, record):
                        await offload(lease.check)
                        # Final already, or gone (CancelSent without a batch): the runner's next poll says which.
                        await self._provider.cancel(Cancel(shard.id, shard.batch_id or ""))
                        await offload(work.apply, [SaveShard(shard, dataclasses.replace(shard, cancel_requested=True))])
                finally:
                    await offload(lease.release)
        return None

    async def delete(
        self, name: str, *, remote_files: bool = False, lease_seconds: float | None = None, state_dir: StateDir = None
    ) -> None:
        """Forget the job: its state and folder go, batches still running are cancelled; with `remote_files`, its
        uploads and result files on the service are deleted too. Refused (`JobBusyError`) while a runner holds it.

        Args:
            name: The job's name.
            remote_files: Also delete the job's uploads and result files at the service.
            lease_seconds: How long this call's lease on the job lasts without renewal; 120 s when None.
            state_dir: The state directory; None for `$OPENAI_BATCHES_STATE_DIR` or the default.

        Raises:
            InvalidParameterError: `lease_seconds` was refused.
            JobNotFoundError: No job of that name.
            JobBusyError: A runner holds the job.
            JobAccountError: Batches or files at the service would need another base URL or API key.
            JobStateError: The job's local state could not be read or written (a full disk, a locked store).
            APIError: A cancel or delete request failed after its retries (other than the object being gone).
        """
        lease_ttl = check_lease_seconds(lease_seconds)
        directory = resolve_state_dir(state_dir)
        with local_state_errors(name, directory / STATE_DB, True, next_step=f"delete job {name} again"):
            await self._delete(name, directory, lease_ttl, remote_files)

    async def _delete(self, name: str, directory: Path, lease_ttl: float, remote_files: bool) -> None:
        require_jobs(name, directory)
        async with opened_store(directory) as store:
            record = await offload(load_job, store, name)
            lease = await offload(JobLease, store, record, ttl=lease_ttl, clock=self._provider.clock)
            await offload(lease.acquire)
            try:
                running = []
                if record.status not in FINISHED_STATUSES:
                    await offload(mark_cancelling, store, record)
                    running = await offload(batches_to_cancel, store, record)
                if running or remote_files:
                    check_account(record, self._provider.account, self._provider.rules)
                for shard in running:
                    await offload(lease.check)
                    await self._provider.cancel(Cancel(shard.id, shard.batch_id or ""))
                for file_id in await offload(files_of, store, record) if remote_files else []:
                    await offload(lease.check)
                    await self._provider.delete_upload(DeleteUpload(None, file_id))
                await offload(forget, store, record, directory)
            finally:
                await offload(lease.release)


def _current(store: JobStore, name: str, directory: Path) -> Job:
    return snapshot(store, load_job(store, name), directory)
