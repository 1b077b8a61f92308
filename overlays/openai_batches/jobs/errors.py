"""The errors of jobs: each names the job and says what to do next."""

from __future__ import annotations

from .._exceptions import OpenAIBatchesError

__all__ = [
    "JobAccountError",
    "JobBusyError",
    "JobConflictError",
    "JobError",
    "JobInputChangedError",
    "JobNotFoundError",
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
    """The job's input file changed since the job was created: its requests and offsets no longer match."""


class JobBusyError(JobError):
    """Another runner (another process, or another `run` in this one) holds the job."""


class JobAccountError(JobError):
    """The job was created for another base URL or API key; its batches are not visible from this account."""
