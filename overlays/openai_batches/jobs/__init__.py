"""Jobs: work bigger than one batch, run durably.

    with BatchClient() as client:
        job = client.jobs.create("eval", "requests.jsonl", endpoint="/v1/chat/completions")
        job = client.jobs.run(job, on_update=print)
        job.write_results("merged.jsonl")

A job splits its requests into shards that fit the service's limits (and an enqueued-token budget), submits them a
few at a time, retries the lines that failed for a retryable reason, and merges one final result per request, in
input order. Its state lives in a SQLite store in the state directory, written before and after every request to the
service, so a run killed at any moment resumes without a duplicate batch. See `client.jobs` (`Jobs`, `AsyncJobs`).
"""

from .errors import (
    JobAccountError,
    JobBusyError,
    JobConflictError,
    JobError,
    JobInputChangedError,
    JobLeaseLostError,
    JobNotFoundError,
    JobStateError,
)
from .estimate import JobEstimate, ModelEstimate
from .job import Job, ModelPrice
from .settings import STATE_DIR_ENV, default_state_dir
from .summary import JobSummary
from .tokens import HeuristicEstimator, TiktokenEstimator, TokenEstimator, default_estimator

__all__ = [
    "STATE_DIR_ENV",
    "HeuristicEstimator",
    "Job",
    "JobAccountError",
    "JobBusyError",
    "JobConflictError",
    "JobError",
    "JobEstimate",
    "JobInputChangedError",
    "JobLeaseLostError",
    "JobNotFoundError",
    "JobStateError",
    "JobSummary",
    "ModelEstimate",
    "ModelPrice",
    "TiktokenEstimator",
    "TokenEstimator",
    "default_estimator",
    "default_state_dir",
]
