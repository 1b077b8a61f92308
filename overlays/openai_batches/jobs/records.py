"""What a job store holds: a job, its shards, the batches it created, its per-model token budgets.

Plain dataclasses, so the store's interface does not depend on SQLite; a request is a row of numbers (where its line
is in the input, how long it is, its estimated tokens) and never its body.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# A job's status: created (nothing submitted yet), in_progress (runs, or waits to be resumed), paused (at its cost
# budget: nothing in flight, work left; a higher max_cost resumes it), cancelling, cancelled, completed (every
# request has its final result). A paused job is not finished: it holds no results for what it has not sent.
CREATED: Final = "created"
IN_PROGRESS: Final = "in_progress"
PAUSED: Final = "paused"
CANCELLING: Final = "cancelling"
CANCELLED: Final = "cancelled"
COMPLETED: Final = "completed"
FINISHED_STATUSES: Final = (CANCELLED, COMPLETED)

# A request's state: waiting for a shard, in a shard, final.
PENDING: Final = 0
QUEUED: Final = 1
FINAL: Final = 2

# A final request's outcome.
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
MISSING: Final = "missing"  # no result line from the service, after every attempt
REQUEST_CANCELLED: Final = "cancelled"  # the job was cancelled before the request ran
OUTCOMES: Final = (SUCCEEDED, FAILED, MISSING, REQUEST_CANCELLED)


class ShardState(enum.StrEnum):
    """A shard's way through the service; each step is recorded before and after its request."""

    PLANNED = "planned"  # requests chosen, nothing sent
    UPLOADING = "uploading"  # upload intended; on resume, look for it before uploading again
    UPLOADED = "uploaded"  # the input file is on the service
    CREATING = "creating"  # create intended; on resume, look for the batch before creating again
    SUBMITTED = "submitted"  # the batch runs
    TOKEN_WAIT = "token_wait"  # refused for the enqueued-token limit: waits, then the same upload again
    ENDED = "ended"  # the batch is final; its result files are to be downloaded
    DOWNLOADED = "downloaded"  # the result files are in the state directory; to be merged
    MERGED = "merged"  # every line has its outcome or is requeued; the upload is to be deleted
    DONE = "done"


# Every change of state a shard may make. A change to the same state (a new batch status, a cancel requested) is
# always allowed; anything not listed is a bug in the caller and raises `IllegalTransition` before it is written.
TRANSITIONS: Final[Mapping[ShardState, frozenset[ShardState]]] = {
    ShardState.PLANNED: frozenset({ShardState.UPLOADING, ShardState.MERGED}),
    # MERGED: the job was cancelled and the upload was looked for and not found.
    ShardState.UPLOADING: frozenset({ShardState.UPLOADED, ShardState.MERGED}),
    ShardState.UPLOADED: frozenset({ShardState.CREATING, ShardState.MERGED}),
    ShardState.CREATING: frozenset({ShardState.SUBMITTED, ShardState.MERGED}),
    ShardState.SUBMITTED: frozenset({ShardState.ENDED, ShardState.TOKEN_WAIT}),
    ShardState.TOKEN_WAIT: frozenset({ShardState.CREATING, ShardState.MERGED}),
    ShardState.ENDED: frozenset({ShardState.DOWNLOADED, ShardState.MERGED}),
    ShardState.DOWNLOADED: frozenset({ShardState.MERGED}),
    ShardState.MERGED: frozenset({ShardState.DONE}),
    ShardState.DONE: frozenset(),
}


class IllegalTransition(ValueError):
    """A shard was asked to move between two states the table does not connect."""


def check_transition(shard: int, before: ShardState, after: ShardState) -> None:
    if after != before and after not in TRANSITIONS[before]:
        raise IllegalTransition(f"shard {shard} cannot go from {before.value} to {after.value}")


@dataclass(frozen=True)
class JobRecord:
    id: int
    name: str
    uid: str
    endpoint: str
    completion_window: str
    input_path: str
    input_hash: str
    input_bytes: int
    spooled: bool
    base_url: str
    account: str
    created_at: float
    status: str
    max_attempts: int
    max_in_flight: int
    enqueued_token_limit: int | None
    max_batch_requests: int | None
    token_estimator: str
    requests: int = 0
    estimated_tokens: int = 0
    succeeded: int = 0
    failed: int = 0
    missing: int = 0
    cancelled: int = 0
    finished_at: float | None = None
    lease_holder: str | None = None
    lease_pid: int | None = None
    lease_host: str | None = None
    lease_heartbeat: float | None = None
    # The fencing token: grows by one each time a runner takes the lease, so a runner that lost it (paused past
    # its lease, then continued) is refused by every write it tries.
    lease_epoch: int = 0
    lease_ttl: float | None = None  # the holder's promise: it renews the heartbeat well within this many seconds
    # Taken over from a holder that may still be alive (its heartbeat went stale; it was not seen to exit): what
    # that holder sent after losing the lease is looked for at the service and cancelled or deleted.
    lease_contested: bool = False
    # The input's st_mtime_ns and st_ino when it was read (its size is input_bytes): while all three still hold, the
    # check before a shard is written trusts the per-request digests alone instead of hashing the whole file again.
    input_mtime_ns: int = 0
    input_inode: int = 0
    # The cost budget in dollars (None: no cap), and the caller's batch prices (JSON, per model) it is counted at
    # over the shipped table: stored with the job, so that every later run counts the same.
    max_cost: float | None = None
    prices: str | None = None
    # The service the job runs on, by the name of its rules (`provider_rules.py`).
    provider: str = "openai"
    # Per model (on Azure OpenAI, per deployment), the most input tokens the job keeps enqueued, as JSON
    # ({"model": tokens}): when set it stands instead of enqueued_token_limit, and a model it leaves out has none.
    token_limits: str | None = None

    def token_limit(self, model: str) -> int | None:
        """The most input tokens of `model` the job keeps enqueued at once (None: no limit)."""
        if self.token_limits is None:
            return self.enqueued_token_limit
        return model_limits(self.token_limits).get(model)

    @property
    def final(self) -> int:
        return self.succeeded + self.failed + self.missing + self.cancelled

    @property
    def pending(self) -> int:
        return self.requests - self.final


@functools.lru_cache(maxsize=32)
def model_limits(text: str) -> Mapping[str, int]:
    """A job's per-model token limits as stored (read once per distinct value)."""
    return MappingProxyType(json.loads(text))


@dataclass(frozen=True)
class ShardRecord:
    job: int
    id: int
    attempt: int
    model: int
    requests: int
    bytes: int
    tokens: int
    state: ShardState = ShardState.PLANNED
    submission: int = 1
    filename: str | None = None
    file_id: str | None = None
    input_deleted: bool = False
    intent_at: float | None = None
    # Tokens of the job's other batches of this model in flight when this one was created: what the service
    # accepted, learned from when it refuses this one for the enqueued-token limit.
    tokens_ahead: int = 0
    batch_id: str | None = None
    batch_status: str | None = None
    cancel_requested: bool = False
    wait_ended: int = 0
    wait_until: float | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: str | None = None  # the batch's `errors.data` as JSON, when it failed
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    # The bound on its output tokens: the sum of the bounds its requests state, and how many state none.
    max_output: int = 0
    unbounded: int = 0


@dataclass(frozen=True)
class BudgetRecord:
    """Per job and model: the in-flight token budget the service taught the runner, and how it learned it."""

    job: int
    model: int
    budget: int | None = None
    refusals: int = 0
    ended: int = 0  # batches of this model that ended: a shard refused for tokens waits for this to move


@dataclass(frozen=True)
class BatchRecord:
    """Every batch a job created, refused ones included (for the summary and for deleting the job's files)."""

    job: int
    batch_id: str
    shard: int
    attempt: int
    submission: int
    model: int
    status: str
    created_at: float
    output_file_id: str | None = None
    error_file_id: str | None = None
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    # When the service said the batch started, began finalizing and ended (None: not reported yet), and its
    # request counts when last seen: the report's timeline.
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    ended_at: float | None = None
    requests_total: int = 0
    requests_completed: int = 0
    requests_failed: int = 0


@dataclass(frozen=True)
class ModelUsage:
    """Per job and model: the tokens its batches used (from their `usage`), and, of its completed batches alone,
    the requests they held and the output tokens they used (what a request stating no output bound is costed by)."""

    model: int
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    completed_requests: int = 0
    completed_output: int = 0


@dataclass(frozen=True)
class Lease:
    """Who runs a job: a random holder id, and the process and host it runs in."""

    holder: str
    pid: int
    host: str
    heartbeat: float
    epoch: int = 0
    ttl: float | None = None


@dataclass(frozen=True)
class ResultRow:
    """Where a request's final result is, in input order."""

    line: int
    custom_id: str
    state: int
    outcome: str | None
    attempts: int
    result_file: int | None
    result_offset: int | None
    result_length: int | None
    error_code: str | None
    error_message: str | None


@dataclass(frozen=True)
class Outcome:
    """A merge's verdict on one request: final (with its outcome) or back to pending for another attempt."""

    line: int
    state: int
    outcome: str | None
    attempts: int
    result_file: int | None = None
    result_offset: int | None = None
    result_length: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    # The result line's HTTP status and error code (its error's code, else its type), when there is a line.
    status_code: int | None = None
    answer_code: str | None = None
