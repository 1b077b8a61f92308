"""What a run does before and after its loop, shared by the sync and async runners."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .._exceptions import (
    APIConnectionError,
    InternalServerError,
    OpenAIBatchesError,
    RateLimitError,
)
from .core import Action, Failed, JobCore
from .errors import JobAccountError, JobInputChangedError, JobNotFoundError
from .ingest import hash_file
from .job import Job, snapshot
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


def check_account(record: JobRecord, base_url: str, account: str) -> None:
    if record.base_url != base_url:
        raise JobAccountError(
            f"job {record.name} was created against {record.base_url}, not {base_url}: its batches live there; "
            "use a client with that base URL",
            job=record.name,
        )
    if record.account != account:
        raise JobAccountError(
            f"job {record.name} was created with another API key (or organization or project): its batches and "
            "files belong to that account; use the key the job was created with",
            job=record.name,
        )


def check_input(record: JobRecord) -> None:
    """A resumed job reads its requests from its input by byte offset: the input must be what it was."""
    path = Path(record.input_path)
    if not path.is_file():
        raise JobInputChangedError(
            f"job {record.name}: its input {path} is gone; put it back as it was to resume the job", job=record.name
        )
    digest, _ = hash_file(path)
    if digest != record.input_hash:
        raise JobInputChangedError(
            f"job {record.name}: its input {path} changed since the job was created; the job cannot be resumed "
            "with other requests (put the original back, or create a new job for the new file)",
            job=record.name,
        )


def new_core(store: JobStore, record: JobRecord, state_dir: Path, poll_interval: float, max_poll: float) -> JobCore:
    """The core for a run that holds the job's lease; files a killed run left half-written are removed first."""
    for leftover in job_folder(state_dir, record.name).rglob(".*.part"):
        leftover.unlink(missing_ok=True)
    return JobCore(
        store,
        record,
        job_folder(state_dir, record.name),
        poll_interval=poll_interval,
        max_poll_interval=max_poll,
    )


def failure(action: Action, error: OpenAIBatchesError) -> Failed:
    return Failed(action, error, transient=isinstance(error, TRANSIENT))


def report(core: JobCore, store: JobStore, state_dir: Path, on_update: OnUpdate | None) -> None:
    if core.changed:
        core.changed = False
        if on_update is not None:
            on_update(snapshot(store, core.job, state_dir))
