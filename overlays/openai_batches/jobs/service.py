"""What the runner needs to know of a batch, whichever service runs it, as plain values.

The core decides from these, so it can be fed events in a test without a network or a client's models; each provider
reads its service's answers into them (`openai_batch_view.py` for the Batch API).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

TERMINAL: Final = frozenset({"completed", "failed", "expired", "cancelled"})
TOKEN_LIMIT_CODE: Final = "token_limit_exceeded"

# The metadata a job puts on every batch it creates: which job, shard, attempt and submission it is.
META_JOB: Final = "job"
META_JOB_ID: Final = "job_id"
META_SHARD: Final = "shard"
META_ATTEMPT: Final = "attempt"
META_SUBMISSION: Final = "submission"


@dataclass(frozen=True)
class BatchView:
    id: str
    status: str
    created_at: float = 0.0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: tuple[Mapping[str, Any], ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    completed: int = 0
    failed: int = 0
    total: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    ended_at: float | None = None  # completed_at, failed_at, expired_at or cancelled_at: whichever it ended with

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def token_limited(self) -> bool:
        """Failed because the organisation's enqueued tokens for the model were at their limit: not an attempt."""
        return self.status == "failed" and any(error.get("code") == TOKEN_LIMIT_CODE for error in self.errors)

    @property
    def progress(self) -> tuple[str, int, int, int]:
        return self.status, self.completed, self.failed, self.total
