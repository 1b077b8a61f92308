"""What the decision core asks the driver to do locally: store writes and state-directory files, as values.

The core (`core.py`) returns these beside its actions on the service; `local_work.py` carries them out, all of one
step in one transaction fenced by the runner's lease, so a step is recorded whole or not at all, and never by a
runner that lost the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .records import BatchRecord, BudgetRecord, ShardRecord


@dataclass(frozen=True)
class SaveShard:
    """The shard goes from `before` (as the core saw it) to `after`; refused if the row is no longer `before`."""

    before: ShardRecord
    after: ShardRecord


@dataclass(frozen=True)
class SetJobStatus:
    before: str
    after: str
    finished_at: float | None = None


@dataclass(frozen=True)
class AddBatch:
    batch: BatchRecord


@dataclass(frozen=True)
class EndBatch:
    """A batch of the job reached a final status: what it used and where its results are."""

    batch_id: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    # Its timeline and request counts (total, completed, failed) as the service reported them, for the report.
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    ended_at: float | None = None
    requests: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class MoveBatch:
    """A batch of the job reached a new status short of final: recorded so that a report of a running job shows
    where each batch is, not only where the finished ones went."""

    batch_id: str
    status: str
    in_progress_at: float | None
    finalizing_at: float | None
    requests: tuple[int, int, int]


@dataclass(frozen=True)
class SaveBudget:
    budget: BudgetRecord


@dataclass(frozen=True)
class AddResultFiles:
    batch_id: str
    files: tuple[tuple[str, Path], ...]  # (kind, path)


@dataclass(frozen=True)
class WriteShardFile:
    """Cut the shard's upload file from the input, unless it is there already (the same bytes every time)."""

    shard: ShardRecord
    path: Path


@dataclass(frozen=True)
class RemoveShardFile:
    path: Path


@dataclass(frozen=True)
class PlanShards:
    """Cut every waiting request into new shards."""


@dataclass(frozen=True)
class MergeShard:
    """Merge the shard's downloaded result files; a no-op when it was merged already."""

    shard: ShardRecord
    cancelling: bool


@dataclass(frozen=True)
class StopWaiting:
    """The job is cancelling: waiting requests, and those of `shards` (which the service never got), end
    `cancelled`, and those shards end merged."""

    shards: tuple[ShardRecord, ...]


Effect = (
    SaveShard
    | SetJobStatus
    | AddBatch
    | EndBatch
    | MoveBatch
    | SaveBudget
    | AddResultFiles
    | WriteShardFile
    | RemoveShardFile
    | PlanShards
    | MergeShard
    | StopWaiting
)
