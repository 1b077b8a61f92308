"""The errors of jobs: each names the job and says what to do next."""

from __future__ import annotations

from .._exceptions import OpenAIBatchesError

__all__ = [
    "JobAccountError",
    "JobBusyError",
    "JobConflictError",
    "JobError",
    "JobInputChangedError",
    "JobLeaseLostError",
    "JobNotFoundError",
    "JobStateError",
]


class JobError(OpenAIBatchesError):
    """Something about a job stops the operation; `job` is the job's name."""

    def __init__(self, message: str, *, job: str) -> None:
        super().__init__(message)
        self.job = job


class JobNotFoundError(JobError):
    """No job of that name in the state directory."""


class JobConflictError(JobError):
    """A job of that name exists with other input (or another endpoint)."""


class JobInputChangedError(JobConflictError):
    """The job's input file changed since the job was created: its requests and offsets no longer match.

    Raised before anything from the changed file is sent. `path` is the input; `line` the first line (1-based)
    that differs from what the job read, None when it is gone or no request line differs; `old_size` /
    `old_sha256` are what the job read, `new_size` / `new_sha256` what the file holds now (None when it is gone).
    """

    def __init__(
        self,
        message: str,
        *,
        job: str,
        path: str | None = None,
        line: int | None = None,
        old_size: int | None = None,
        new_size: int | None = None,
        old_sha256: str | None = None,
        new_sha256: str | None = None,
    ) -> None:
        super().__init__(message, job=job)
        self.path = path
        self.line = line
        self.old_size = old_size
        self.new_size = new_size
        self.old_sha256 = old_sha256
        self.new_sha256 = new_sha256


class JobBusyError(JobError):
    """Another runner (another process, or another `run` in this one) holds the job."""


class JobLeaseLostError(JobBusyError):
    """Another runner took the job over while this one ran (it was paused past its lease, or its heartbeat could
    not be written): this runner stopped before changing anything more, and the job goes on in the other one."""


class JobStateError(JobError):
    """The job's local state (its store, a shard file, a download, its input) could not be read or written: a full
    disk, a read-only folder, a permission. `path` names what failed; `resumable` says whether the job can be run
    again once the cause is fixed (nothing recorded was lost)."""

    def __init__(self, message: str, *, job: str, path: str | None, resumable: bool) -> None:
        super().__init__(message, job=job)
        self.path = path
        self.resumable = resumable


class JobAccountError(JobError):
    """The job was created for another base URL or API key; its batches are not visible from this account."""
