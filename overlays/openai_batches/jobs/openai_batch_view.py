"""A Batch API batch as the job runner sees it: a `BatchView` read from the service's answer and nothing else.

`batch_view` reads a `Batch` through `to_dict()`, which keeps working whatever shape the models' metadata takes
(attrs object today, a mapping tomorrow).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._generated import Batch
from .service import TERMINAL, BatchView


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _time(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


# The timestamp of each final status; a batch that ended some other way is read for any of them.
_ENDED_AT: Final = {
    "completed": "completed_at",
    "failed": "failed_at",
    "expired": "expired_at",
    "cancelled": "cancelled_at",
}


def batch_view(batch: Batch) -> BatchView:
    data = batch.to_dict()
    return view_from_dict(data)


def view_from_dict(data: Mapping[str, Any]) -> BatchView:
    errors = data.get("errors")
    error_list = errors.get("data") if isinstance(errors, Mapping) else None
    metadata = data.get("metadata")
    counts = data.get("request_counts")
    counts = counts if isinstance(counts, Mapping) else {}
    usage = data.get("usage")
    usage = usage if isinstance(usage, Mapping) else {}
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    created = data.get("created_at")
    status = str(data.get("status"))
    ended = _time(data.get(_ENDED_AT.get(status, ""))) if status in TERMINAL else None
    if ended is None and status in TERMINAL:
        ended = next((t for key in _ENDED_AT.values() if (t := _time(data.get(key))) is not None), None)
    return BatchView(
        id=str(data.get("id")),
        status=status,
        created_at=float(created) if isinstance(created, int | float) and not isinstance(created, bool) else 0.0,
        output_file_id=_str(data.get("output_file_id")),
        error_file_id=_str(data.get("error_file_id")),
        errors=tuple(e for e in error_list if isinstance(e, Mapping)) if isinstance(error_list, list) else (),
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {},
        completed=_int(counts.get("completed")),
        failed=_int(counts.get("failed")),
        total=_int(counts.get("total")),
        input_tokens=_int(usage.get("input_tokens")),
        cached_tokens=_int(details.get("cached_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        in_progress_at=_time(data.get("in_progress_at")),
        finalizing_at=_time(data.get("finalizing_at")),
        ended_at=ended,
    )
