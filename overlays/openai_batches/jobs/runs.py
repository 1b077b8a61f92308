"""What a run does before and after its loop, shared by the sync and async drivers (all of it blocking: the async
driver calls it in a worker thread)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .._exceptions import (
    APIConnectionError,
    InternalServerError,
    OpenAIBatchesError,
    RateLimitError,
)
from .actions import Action, Failed
from .core import JobCore
from .creation import Account
from .errors import JobAccountError, JobNotFoundError
from .ingest import hash_file
from .input_check import change_error, input_gone
from .job import Job, snapshot
from .provider_rules import ProviderRules
from .records import JobRecord
from .settings import job_folder
from .store import JobStore

# A failure the run rides out (the call already retried it): it waits and tries again; anything else stops the run.
TRANSIENT = (APIConnectionError, RateLimitError, InternalServerError)
# The shortest pause of a run with nothing due: a core that is waiting on nothing must not spin.
MIN_PAUSE = 0.01

OnUpdate = Callable[[Job], object]


def load_job(store: JobStore, name: str) -> JobRecord:
    record = store.get_job(name)
    if record is None:
        raise JobNotFoundError(f"no job named {name!r} in {store_location(store)}", job=name)
    return record


def store_location(store: JobStore) -> str:
    path = getattr(store, "path", None)
    return f"the state directory {Path(path).parent}" if path is not None else "the job store"


def check_account(record: JobRecord, account: Account, rules: ProviderRules) -> None:
    """A job resumes only where its batches live: on its service, at its base URL, with its account."""
    if record.provider != rules.name:
        raise JobAccountError(
            f"job {record.name} runs on {record.provider}, not {rules.name}: its batches live there; use a client "
            f"of {record.provider}",
            job=record.name,
        )
    if record.base_url != account.base_url:
        raise JobAccountError(
            f"job {record.name} was created against {record.base_url}, not {account.base_url}: its batches live "
            "there; use a client with that base URL",
            job=record.name,
        )
    if record.account != account.fingerprint:
        raise JobAccountError(
            f"job {record.name} was created with another API key (or organization or project): its batches and "
            "files belong to that account; use the key the job was created with",
            job=record.name,
        )


def check_input(store: JobStore, record: JobRecord) -> None:
    """A resumed job reads its requests from its input by byte offset: the input must be what it was.

    A changed input is reported as a run that found it changed mid-way reports it (the same first line that
    differs), so `job resume` after such a stop says the same thing. A file found identical under a new mtime or
    inode (touched, copied back) has that stat recorded, so the shards of the run do not hash it again.
    """
    path = Path(record.input_path)
    if not path.is_file():
        raise input_gone(record)
    digest, size = hash_file(path)
    if digest != record.input_hash or size != record.input_bytes:
        raise change_error(store, record)
    stat = path.stat()
    if (stat.st_mtime_ns, stat.st_ino) != (record.input_mtime_ns, record.input_inode):
        store.refresh_input_stat(record.id, stat.st_mtime_ns, stat.st_ino)


def new_core(
    record: JobRecord, state_dir: Path, poll_interval: float, max_poll: float, lease_seconds: float
) -> JobCore:
    """The core for a run that holds the job's lease; files a killed run left half-written are removed first."""
    folder = job_folder(state_dir, record.name)
    for leftover in folder.rglob(".*.part"):
        leftover.unlink(missing_ok=True)
    return JobCore(record, folder, poll_interval=poll_interval, max_poll_interval=max_poll, lease_seconds=lease_seconds)


def failure(action: Action, error: OpenAIBatchesError) -> Failed:
    return Failed(action, error, transient=isinstance(error, TRANSIENT))


def news(core: JobCore, store: JobStore, state_dir: Path, wanted: bool) -> Job | None:
    """The job as it stands, for on_update, when something changed since the last call (and a callback wants it)."""
    if not core.changed:
        return None
    core.changed = False
    return snapshot(store, load_job(store, core.job.name), state_dir) if wanted else None
