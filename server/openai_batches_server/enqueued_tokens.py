"""The service's enqueued-token limit (`--enqueued-token-limit`): per API key and model, the input tokens of the
batches in progress may not pass a limit; a batch that would pass it fails in `validating`.

The tokens of a batch are the input tokens its answers report in `usage` (the responders' word count), summed over
its requests when it is validated; they count from then until the batch leaves in_progress/finalizing/cancelling.
The error has the code and the message shape of the real service's.
"""

from __future__ import annotations

from typing import Any

TOKEN_LIMIT_CODE = "token_limit_exceeded"
# Statuses whose tokens count as enqueued: the batch holds them from validation until it ends.
ENQUEUED_STATUSES = ("in_progress", "finalizing", "cancelling")


def organization_of(owner: str) -> str:
    """A stable organization id per API key (the owner is already a hash of the key)."""
    return f"org-{owner[:24]}"


def token_limit_error(model: str | None, owner: str, limit: int) -> dict[str, Any]:
    message = (
        f"Enqueued token limit reached for {model or 'this model'} in organization {organization_of(owner)}. "
        f"Limit: {limit:,} enqueued tokens. Please try again once some in_progress batches have been completed."
    )
    return {"code": TOKEN_LIMIT_CODE, "message": message, "param": None, "line": None}
