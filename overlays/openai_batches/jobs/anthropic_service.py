"""Anthropic's Message Batches in the job runner's terms: a batch as a `BatchView`, a result as a Batch API line.

The core, the merge and the job's results read the Batch API's shapes; the Anthropic provider reads its service's
answers into them here (nothing here does I/O):

- `processing_status` `in_progress` and `canceling` are `in_progress` and `cancelling`; `ended` is `cancelled` when a
  cancel was asked for, `expired` when requests expired, else `completed`.
- `request_counts` become the completed (succeeded), failed (errored) and total counts; the batch's results are its
  one "output file", named by the batch id, which is also what deleting the job's files at the service deletes.
- A `succeeded` result is a 200 answer whose body is the Message; an `errored` one the status of its error type
  with Anthropic's error as the body (so 429, 500 and 529 are retried, 400 is final); `expired` is the Batch API's
  retryable `batch_expired` line error; `canceled` has no line, so the merge judges it as a request the batch did not
  answer (cancelled when the job cancelled it, else sent again).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from .service import BatchView

# The HTTP status of each error type of Anthropic's errors page; an unknown type is taken as a final refusal.
ERROR_STATUS: Final = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
UNKNOWN_ERROR_STATUS: Final = 400
EXPIRED_CODE: Final = "batch_expired"


def _time(value: object) -> float | None:
    """An RFC 3339 time as epoch seconds; None for none (or one that is not a time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _count(counts: Mapping[str, Any], name: str) -> int:
    value = counts.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def message_batch_view(data: Mapping[str, Any]) -> BatchView:
    """A Message Batch (its JSON object) as the runner sees a batch."""
    raw = data.get("request_counts")
    counts: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    succeeded, errored = _count(counts, "succeeded"), _count(counts, "errored")
    expired = _count(counts, "expired")
    total = succeeded + errored + expired + _count(counts, "processing") + _count(counts, "canceled")
    processing = data.get("processing_status")
    cancel_asked = _time(data.get("cancel_initiated_at")) is not None
    if processing == "ended":
        status = "cancelled" if cancel_asked else "expired" if expired else "completed"
    elif processing == "canceling":
        status = "cancelling"
    else:
        status = "in_progress"
    batch_id = str(data.get("id"))
    created = _time(data.get("created_at")) or 0.0
    ended = _time(data.get("ended_at")) if status in ("completed", "expired", "cancelled") else None
    results = status != "in_progress" and status != "cancelling" and bool(data.get("results_url"))
    return BatchView(
        id=batch_id,
        status=status,
        created_at=created,
        output_file_id=batch_id if results else None,
        completed=succeeded,
        failed=errored,
        total=total,
        in_progress_at=created or None,
        ended_at=ended,
    )


def result_line(batch_id: str, record: Mapping[str, Any]) -> dict[str, Any] | None:
    """One result of the batch as the Batch API's result line; None for a request that did not run (canceled) or
    a record that is not a result."""
    custom_id = record.get("custom_id")
    result = record.get("result")
    if not isinstance(custom_id, str) or not isinstance(result, Mapping):
        return None
    kind = result.get("type")
    line: dict[str, Any] = {"id": f"{batch_id}:{custom_id}", "custom_id": custom_id, "response": None, "error": None}
    if kind == "succeeded":
        line["response"] = {"status_code": 200, "request_id": None, "body": result.get("message")}
    elif kind == "errored":
        error = result.get("error")
        inner = error.get("error") if isinstance(error, Mapping) else None
        error_type = inner.get("type") if isinstance(inner, Mapping) else None
        status = ERROR_STATUS.get(error_type, UNKNOWN_ERROR_STATUS) if isinstance(error_type, str) else 400
        line["response"] = {"status_code": status, "request_id": None, "body": error}
    elif kind == "expired":
        line["error"] = {"code": EXPIRED_CODE, "message": f"batch {batch_id} expired before this request ran"}
    else:
        return None
    return line
