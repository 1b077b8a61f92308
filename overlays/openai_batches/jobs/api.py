"""`client.jobs`: create, run, get, list, cancel and delete durable multi-batch jobs (sync and async)."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .._config import NOT_GIVEN, NotGiven
from .._exceptions import ConflictError, InvalidParameterError, NotFoundError
from .creation import Account, JobInput, JobSettings, create_job
from .errors import JobNotFoundError
from .job import Job, snapshot
from .lease import JobLease
from .records import CANCELLING, FINISHED_STATUSES, JobRecord, ShardState
from .runs import check_account, load_job
from .settings import STATE_DB, account_fingerprint, job_folder, resolve_state_dir
from .store import JobStore, open_store
from .tokens import TokenEstimator

if TYPE_CHECKING:
    from .._client import AsyncBatchClient, BatchClient

__all__ = ["AsyncJobs", "Jobs"]

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_POLL_INTERVAL = 60.0

StateDir = str | os.PathLike[str] | None


def _account(client: BatchClient | AsyncBatchClient) -> Account:
    options = client._options
    return Account(str(client.base_url), account_fingerprint(options.api_key, options.organization, options.project))


def _check_run_args(on_update: object, poll_interval: object, max_poll_interval: object) -> None:
    if on_update is not None and not callable(on_update):
        raise InvalidParameterError("on_update", "expected a callable taking the job")
    for name, value in (("poll_interval", poll_interval), ("max_poll_interval", max_poll_interval)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InvalidParameterError(name, f"expected seconds > 0, got {value!r}")


def _target(job: Job | str, state_dir: StateDir) -> tuple[str, Path]:
    if isinstance(job, Job):
        return job.name, job.state_dir if state_dir is None else resolve_state_dir(state_dir)
    if not isinstance(job, str):
        raise InvalidParameterError("job", f"expected a Job or a job name, got {type(job).__name__}")
    return job, resolve_state_dir(state_dir)


def read_job(name: str, state_dir: Path) -> Job:
    """A job as it stands in the state directory (no client needed: nothing is sent)."""
    if not (state_dir / STATE_DB).exists():
        raise JobNotFoundError(f"no job named {name!r}: {state_dir} holds no jobs", job=name)
    with open_store(state_dir) as store:
        return snapshot(store, load_job(store, name), state_dir)


def read_jobs(state_dir: Path) -> list[Job]:
    """Every job in the state directory, oldest first (no client needed)."""
    if not (state_dir / STATE_DB).exists():
        return []
    with open_store(state_dir) as store:
        return [snapshot(store, record, state_dir) for record in store.list_jobs()]


def _mark_cancelling(store: JobStore, record: JobRecord) -> list[tuple[int, str]]:
    """Set the job cancelling; the batches at the service to cancel, as (shard, batch id)."""
    store.update_job(record.id, {"status": CANCELLING})
    return [
        (shard.id, shard.batch_id)
        for shard in store.active_shards(record.id)
        if shard.state == ShardState.SUBMITTED and shard.batch_id and not shard.cancel_requested
    ]


def _remote_files(store: JobStore, record: JobRecord) -> list[str]:
    """Every file the job made on the service that may still be there: uploads not deleted, result files."""
    files = [s.file_id for s in store.active_shards(record.id) if s.file_id and not s.input_deleted]
    for batch in store.batches(record.id):
        files += [file_id for file_id in (batch.output_file_id, batch.error_file_id) if file_id]
    return list(dict.fromkeys(files))


def _forget(store: JobStore, record: JobRecord, state_dir: Path) -> None:
    store.delete_job(record.id)
    shutil.rmtree(job_folder(state_dir, record.name), ignore_errors=True)


class Jobs:
    """Durable jobs of a `BatchClient`: work bigger than one batch, resumable after a crash.

    State lives in a SQLite store in the state directory: `state_dir=` on each call, else
    `$OPENAI_BATCHES_STATE_DIR`, else `$XDG_STATE_HOME/openai-batches` or `~/.local/state/openai-batches`.
    """

    def __init__(self, client: BatchClient) -> None:
        self._client = client

    def create(
        self,
        name: str,
        requests: JobInput,
        *,
        endpoint: str | None = None,
        max_attempts: int | NotGiven = NOT_GIVEN,
        max_in_flight: int | NotGiven = NOT_GIVEN,
        enqueued_token_limit: int | NotGiven | None = NOT_GIVEN,
        max_batch_requests: int | NotGiven | None = NOT_GIVEN,
        completion_window: str = "24h",
        token_estimator: TokenEstimator | None = None,
        state_dir: StateDir = None,
    ) -> Job:
        """Record a job over `requests` (a JSONL path, read in place, or an iterable of requests, spooled once).

        Every request is checked as the service would check it, and indexed; nothing is sent yet (`run` does).
        Creating a job again with the same name and the same input returns it, with any setting given here updated;
        other input raises `JobConflictError`. Defaults: `max_attempts=3`, `max_in_flight=8`, no token limit, shards
        up to the service's 50,000 requests (`max_batch_requests` lowers that).
        """
        settings = JobSettings(max_attempts, max_in_flight, enqueued_token_limit, max_batch_requests)
        return create_job(
            resolve_state_dir(state_dir),
            name,
            requests,
            endpoint=endpoint,
            completion_window=completion_window,
            settings=settings,
            account=_account(self._client),
            estimator=token_estimator,
        )

    def run(
        self,
        job: Job | str,
        *,
        on_update: Callable[[Job], object] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        state_dir: StateDir = None,
    ) -> Job:
        """Run the job until every request has its final result, and return it; safe to call again at any time.

        A run resumes where any earlier one stopped, crashed or was killed, adopting what that one left at the
        service instead of sending it twice. `on_update(job)` is called on every change. Raises `JobBusyError` if
        another runner holds the job. Ctrl-C (KeyboardInterrupt) leaves it resumable, its batches running.
        """
        from .runner_sync import run_job

        _check_run_args(on_update, poll_interval, max_poll_interval)
        name, directory = _target(job, state_dir)
        with open_store(directory) as store:
            run_job(
                self._client,
                store,
                name,
                directory,
                _account(self._client).fingerprint,
                on_update=on_update,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
            )
            return snapshot(store, load_job(store, name), directory)

    def get(self, name: str, *, state_dir: StateDir = None) -> Job:
        """The job as it stands (`JobNotFoundError` if there is none of that name)."""
        return read_job(name, resolve_state_dir(state_dir))

    def list(self, *, state_dir: StateDir = None) -> builtins.list[Job]:
        """Every job in the state directory, oldest first."""
        return read_jobs(resolve_state_dir(state_dir))

    def cancel(self, name: str, *, wait: bool = False, state_dir: StateDir = None) -> Job:
        """Cancel the job: its batches at the service are cancelled, nothing new is sent. What finished stays.

        The results of the cancelled batches (what they finished first) are collected by the job's runner: the one
        running now, or with `wait=True` this call (it returns once the job is `cancelled`), or a later `run`.
        """
        directory = resolve_state_dir(state_dir)
        with open_store(directory) as store:
            record = load_job(store, name)
            if record.status in FINISHED_STATUSES:
                return snapshot(store, record, directory)
            check_account(record, str(self._client.base_url), _account(self._client).fingerprint)
            for shard, batch_id in _mark_cancelling(store, record):
                with contextlib.suppress(ConflictError, NotFoundError):
                    self._client.batches.cancel(batch_id)
                store.update_shard(record.id, shard, {"cancel_requested": True})
        if wait:
            return self.run(name, state_dir=directory)
        return read_job(name, directory)

    def delete(self, name: str, *, remote_files: bool = False, state_dir: StateDir = None) -> None:
        """Forget the job: its state and folder go, batches still running are cancelled; with `remote_files`, its
        uploads and result files on the service are deleted too. Refused (`JobBusyError`) while a runner holds it."""
        directory = resolve_state_dir(state_dir)
        with open_store(directory) as store:
            record = load_job(store, name)
            lease = JobLease(store, record, self._client._options.retry.clock())
            lease.acquire()
            try:
                running = _mark_cancelling(store, record) if record.status not in FINISHED_STATUSES else []
                if running or remote_files:
                    check_account(record, str(self._client.base_url), _account(self._client).fingerprint)
                for _shard, batch_id in running:
                    with contextlib.suppress(ConflictError, NotFoundError):
                        self._client.batches.cancel(batch_id)
                for file_id in _remote_files(store, record) if remote_files else []:
                    with contextlib.suppress(NotFoundError):
                        self._client.files.delete(file_id)
            except BaseException:
                lease.release()
                raise
            _forget(store, record, directory)


class AsyncJobs:
    """Durable jobs of an `AsyncBatchClient`; the same operations as `Jobs`, awaited."""

    def __init__(self, client: AsyncBatchClient) -> None:
        self._client = client

    async def create(
        self,
        name: str,
        requests: JobInput,
        *,
        endpoint: str | None = None,
        max_attempts: int | NotGiven = NOT_GIVEN,
        max_in_flight: int | NotGiven = NOT_GIVEN,
        enqueued_token_limit: int | NotGiven | None = NOT_GIVEN,
        max_batch_requests: int | NotGiven | None = NOT_GIVEN,
        completion_window: str = "24h",
        token_estimator: TokenEstimator | None = None,
        state_dir: StateDir = None,
    ) -> Job:
        """Record a job over `requests`; see `Jobs.create`. Reading the input runs in a worker thread."""
        settings = JobSettings(max_attempts, max_in_flight, enqueued_token_limit, max_batch_requests)
        return await asyncio.to_thread(
            create_job,
            resolve_state_dir(state_dir),
            name,
            requests,
            endpoint=endpoint,
            completion_window=completion_window,
            settings=settings,
            account=_account(self._client),
            estimator=token_estimator,
        )

    async def run(
        self,
        job: Job | str,
        *,
        on_update: Callable[[Job], object] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        state_dir: StateDir = None,
    ) -> Job:
        """Run the job until every request has its final result; see `Jobs.run`. The actions of each step (polls,
        uploads, downloads) run concurrently."""
        from .runner_async import run_job

        _check_run_args(on_update, poll_interval, max_poll_interval)
        name, directory = _target(job, state_dir)
        with open_store(directory) as store:
            await run_job(
                self._client,
                store,
                name,
                directory,
                _account(self._client).fingerprint,
                on_update=on_update,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
            )
            return snapshot(store, load_job(store, name), directory)

    async def get(self, name: str, *, state_dir: StateDir = None) -> Job:
        return read_job(name, resolve_state_dir(state_dir))

    async def list(self, *, state_dir: StateDir = None) -> builtins.list[Job]:
        return read_jobs(resolve_state_dir(state_dir))

    async def cancel(self, name: str, *, wait: bool = False, state_dir: StateDir = None) -> Job:
        """Cancel the job; see `Jobs.cancel`."""
        directory = resolve_state_dir(state_dir)
        with open_store(directory) as store:
            record = load_job(store, name)
            if record.status in FINISHED_STATUSES:
                return snapshot(store, record, directory)
            check_account(record, str(self._client.base_url), _account(self._client).fingerprint)
            for shard, batch_id in _mark_cancelling(store, record):
                with contextlib.suppress(ConflictError, NotFoundError):
                    await self._client.batches.cancel(batch_id)
                store.update_shard(record.id, shard, {"cancel_requested": True})
        if wait:
            return await self.run(name, state_dir=directory)
        return read_job(name, directory)

    async def delete(self, name: str, *, remote_files: bool = False, state_dir: StateDir = None) -> None:
        """Forget the job; see `Jobs.delete`."""
        directory = resolve_state_dir(state_dir)
        with open_store(directory) as store:
            record = load_job(store, name)
            lease = JobLease(store, record, self._client._options.retry.clock())
            lease.acquire()
            try:
                running = _mark_cancelling(store, record) if record.status not in FINISHED_STATUSES else []
                if running or remote_files:
                    check_account(record, str(self._client.base_url), _account(self._client).fingerprint)
                for _shard, batch_id in running:
                    with contextlib.suppress(ConflictError, NotFoundError):
                        await self._client.batches.cancel(batch_id)
                for file_id in _remote_files(store, record) if remote_files else []:
                    with contextlib.suppress(NotFoundError):
                        await self._client.files.delete(file_id)
            except BaseException:
                lease.release()
                raise
            _forget(store, record, directory)
