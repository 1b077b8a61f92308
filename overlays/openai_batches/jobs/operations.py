"""The blocking pieces of `client.jobs` operations, shared by `Jobs` and `AsyncJobs` (which run them in a worker
thread): argument checks, reading jobs, the lists of what a cancel or a delete touches."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from .._exceptions import InvalidParameterError
from .errors import JobNotFoundError
from .job import Job, snapshot
from .lease import LEASE_TTL, MIN_LEASE
from .records import CANCELLING, JobRecord, ShardRecord, ShardState
from .runs import load_job
from .settings import STATE_DB, job_folder, resolve_state_dir
from .store import JobStore, open_store

DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_POLL_INTERVAL = 60.0

StateDir = str | os.PathLike[str] | None


def check_run_args(on_update: object, poll_interval: object, max_poll_interval: object) -> None:
    if on_update is not None and not callable(on_update):
        raise InvalidParameterError("on_update", "expected a callable taking the job")
    for name, value in (("poll_interval", poll_interval), ("max_poll_interval", max_poll_interval)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InvalidParameterError(name, f"expected seconds > 0, got {value!r}")


def target(job: Job | str, state_dir: StateDir) -> tuple[str, Path]:
    if isinstance(job, Job):
        return job.name, job.state_dir if state_dir is None else resolve_state_dir(state_dir)
    if not isinstance(job, str):
        raise InvalidParameterError("job", f"expected a Job or a job name, got {type(job).__name__}")
    return job, resolve_state_dir(state_dir)


def require_jobs(name: str, state_dir: Path) -> None:
    """A state directory with no store holds no job: said so, without creating the store (nothing to resume)."""
    if not (state_dir / STATE_DB).exists():
        raise JobNotFoundError(f"no job named {name!r}: {state_dir} holds no jobs", job=name)


def read_job(name: str, state_dir: Path) -> Job:
    """A job as it stands in the state directory (no client needed: nothing is sent)."""
    require_jobs(name, state_dir)
    with open_store(state_dir) as store:
        return snapshot(store, load_job(store, name), state_dir)


def read_jobs(state_dir: Path) -> list[Job]:
    """Every job in the state directory, oldest first (no client needed)."""
    if not (state_dir / STATE_DB).exists():
        return []
    with open_store(state_dir) as store:
        return [snapshot(store, record, state_dir) for record in store.list_jobs()]


def mark_cancelling(store: JobStore, record: JobRecord) -> None:
    """Set the job cancelling (a runner holding it sees that at its next step and cancels its batches)."""
    store.set_job_status(record.id, record.status, CANCELLING)


def batches_to_cancel(store: JobStore, record: JobRecord) -> list[ShardRecord]:
    """The job's shards whose batches run at the service and were not asked to cancel yet."""
    return [
        shard
        for shard in store.active_shards(record.id)
        if shard.state == ShardState.SUBMITTED and shard.batch_id and not shard.cancel_requested
    ]


def remote_files(store: JobStore, record: JobRecord) -> list[str]:
    """Every file the job made on the service that may still be there: uploads not deleted, result files."""
    files = [s.file_id for s in store.active_shards(record.id) if s.file_id and not s.input_deleted]
    for batch in store.batches(record.id):
        files += [file_id for file_id in (batch.output_file_id, batch.error_file_id) if file_id]
    return list(dict.fromkeys(files))


def forget(store: JobStore, record: JobRecord, state_dir: Path) -> None:
    store.delete_job(record.id)
    shutil.rmtree(job_folder(state_dir, record.name), ignore_errors=True)


def check_lease_seconds(value: object) -> float:
    """`lease_seconds=`: None for the default; a finite number of seconds, at least `MIN_LEASE`."""
    if value is None:
        return LEASE_TTL
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < MIN_LEASE:
        raise InvalidParameterError("lease_seconds", f"expected seconds >= {MIN_LEASE:g}, got {value!r}")
    return float(value)
