"""What the decision core asks of the service (actions) and what came of it (events), as plain values.

A driver turns each action into requests with `BatchClient` or `AsyncBatchClient` and hands the core the event;
nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .service import BatchView

# --- actions: what the core asks a runner to do -------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    shard: int
    path: Path
    filename: str
    idempotency_key: str


@dataclass(frozen=True)
class FindUpload:
    shard: int
    filename: str
    since: float


@dataclass(frozen=True)
class Create:
    shard: int
    file_id: str
    endpoint: str
    completion_window: str
    metadata: Mapping[str, str]
    idempotency_key: str


@dataclass(frozen=True)
class FindBatch:
    shard: int
    metadata: Mapping[str, str]
    since: float
    # How many requests the shard's batch holds, and the batches the job already holds: a service whose batches
    # carry no metadata finds the shard's by its size among the others.
    requests: int = 0
    known: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Poll:
    shard: int
    batch_id: str


@dataclass(frozen=True)
class Cancel:
    shard: int | None  # None: an extra batch found while recovering, not a shard's own
    batch_id: str


@dataclass(frozen=True)
class Download:
    shard: int
    batch_id: str
    # (kind, file id, where to write it)
    files: tuple[tuple[str, str, Path], ...]


@dataclass(frozen=True)
class DeleteUpload:
    shard: int | None  # None: an extra upload found while recovering, not a shard's own
    file_id: str


@dataclass(frozen=True)
class Reconcile:
    """List what the service holds of the job (batches by their metadata, uploads by their filename) since `since`,
    to find what a runner sent without recording it: one that lost its lease, or a request that raced a takeover."""

    since: float
    job_uid: str
    filename_prefix: str
    shard: None = None


Action = Upload | FindUpload | Create | FindBatch | Poll | Cancel | Download | DeleteUpload | Reconcile

# The actions that change the service: a runner checks its lease right before each.
MUTATING: Final = (Upload, Create, Cancel, DeleteUpload)


# --- events: what came of an action -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    shard: int
    file_id: str


@dataclass(frozen=True)
class UploadsFound:
    shard: int
    file_ids: tuple[str, ...]  # oldest first


@dataclass(frozen=True)
class Created:
    shard: int
    batch: BatchView


@dataclass(frozen=True)
class BatchesFound:
    shard: int
    batches: tuple[BatchView, ...]  # oldest first


@dataclass(frozen=True)
class Polled:
    shard: int
    batch: BatchView


@dataclass(frozen=True)
class CancelSent:
    shard: int | None
    batch: BatchView | None  # None: the service would not cancel it (already final); the next poll tells


@dataclass(frozen=True)
class Downloaded:
    shard: int
    # (kind, path); path None: the service no longer has the file
    files: tuple[tuple[str, Path | None], ...]


@dataclass(frozen=True)
class UploadDeleted:
    shard: int | None
    file_id: str


@dataclass(frozen=True)
class Failed:
    action: Action
    error: Exception
    transient: bool


@dataclass(frozen=True)
class Reconciled:
    batches: tuple[BatchView, ...]  # the job's batches, by metadata
    files: tuple[tuple[str, str], ...]  # (file id, filename) of uploads named for the job
    shard: None = None


Event = (
    Uploaded
    | UploadsFound
    | Created
    | BatchesFound
    | Polled
    | CancelSent
    | Downloaded
    | UploadDeleted
    | Reconciled
    | Failed
)
