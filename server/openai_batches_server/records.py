"""The stored shape of files and batches, and how each is shown on the wire.

Rows hold a little more than the API shows: the owner (a hash of the API key), where the bytes live, and the batch
runner's bookmarks (how far into the input it got, how many bytes of output it has written). The `*_object`
functions (and `FILE_OBJECT_SHAPE`, which file listings build their objects from) are the only place the public JSON
is assembled, so every endpoint answers with the same fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

UNFINISHED = ("validating", "in_progress", "finalizing", "cancelling")


@dataclass
class FileRecord:
    id: str
    owner: str
    bytes: int
    created_at: int
    expires_at: int | None
    filename: str
    purpose: str
    # Relative to the data directory: uploads live in files/, batch results where the runner wrote them.
    path: str
    deleted: bool = False
    blob_removed: bool = False
    seq: int = 0


@dataclass
class BatchRecord:
    id: str
    owner: str
    endpoint: str
    input_file_id: str
    completion_window: str
    status: str
    created_at: int
    expires_at: int
    metadata: dict[str, str] | None = None
    output_expires_after_seconds: int | None = None
    model: str | None = None
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    in_progress_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    # Runner bookmarks: a restart truncates the partial result files to these sizes and reads on from input_offset,
    # so every request line is answered exactly once however the previous process ended.
    input_offset: int = 0
    output_bytes: int = 0
    error_bytes: int = 0
    # Wall-clock seconds (float): when the current status began, and up to when lines have been paced.
    phase_mark: float = 0.0
    progress_mark: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class Column:
    """A File object field read from the files table's column of this name."""

    name: str


# The File object, field by field in wire order: a column, or a value every file shows. Listings build the same
# object inside SQLite from this table (`storage.file_page`), so the two cannot drift apart.
FILE_OBJECT_SHAPE: tuple[tuple[str, Column | str | None], ...] = (
    ("id", Column("id")),
    ("object", "file"),
    ("bytes", Column("bytes")),
    ("created_at", Column("created_at")),
    ("expires_at", Column("expires_at")),
    ("filename", Column("filename")),
    ("purpose", Column("purpose")),
    ("status", "processed"),
    ("status_details", None),
)


def file_object(record: FileRecord) -> dict[str, Any]:
    return {
        name: getattr(record, source.name) if isinstance(source, Column) else source
        for name, source in FILE_OBJECT_SHAPE
    }


def batch_object(record: BatchRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "object": "batch",
        "endpoint": record.endpoint,
        "model": record.model,
        "errors": None if record.errors is None else {"object": "list", "data": record.errors},
        "input_file_id": record.input_file_id,
        "completion_window": record.completion_window,
        "status": record.status,
        "output_file_id": record.output_file_id,
        "error_file_id": record.error_file_id,
        "created_at": record.created_at,
        "in_progress_at": record.in_progress_at,
        "expires_at": record.expires_at,
        "finalizing_at": record.finalizing_at,
        "completed_at": record.completed_at,
        "failed_at": record.failed_at,
        "expired_at": record.expired_at,
        "cancelling_at": record.cancelling_at,
        "cancelled_at": record.cancelled_at,
        "request_counts": {"total": record.total, "completed": record.completed, "failed": record.failed},
        "usage": {
            "input_tokens": record.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": record.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": record.input_tokens + record.output_tokens,
        },
        "metadata": record.metadata,
    }


def dumps(value: Any) -> str:
    # allow_nan=False: a bare NaN is not JSON; such a value is refused here rather than written into a result file.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
