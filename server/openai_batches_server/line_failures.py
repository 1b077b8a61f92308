"""Request lines that fail on purpose at a seeded rate (`--line-failure-rate`), for clients that retry lines.

A line fails when a hash of (seed, custom_id, attempt) falls under the rate: the same line of the same attempt always
gets the same answer, and a retried line (a later attempt) gets a fresh draw. The attempt is read from the batch's
metadata `attempt`, which openai-batches jobs set on every batch they create; a batch without it is attempt 1. A
Message Batch (Anthropic's API, which has no metadata) is given the number of batches made so far as its attempt, so
each draws afresh and `attempts` counts batches made on the server rather than a line's tries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from .config import LineFailures
from .responders import Reply, error_reply

ATTEMPT_KEY = "attempt"

_MESSAGES = {
    400: "Failed on purpose by the local server (--line-failure-rate).",
    408: "Request timed out (simulated by the local server, --line-failure-rate).",
    429: "Rate limit reached for requests (simulated by the local server, --line-failure-rate).",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}


def attempt_of(metadata: Mapping[str, str] | None) -> int:
    """The attempt a batch's metadata names; 1 when it names none (or something that is not a positive number)."""
    value = (metadata or {}).get(ATTEMPT_KEY)
    if isinstance(value, str) and value.isdigit() and int(value) >= 1:
        return int(value)
    return 1


class LineFailurePlan:
    def __init__(self, config: LineFailures) -> None:
        self.config = config

    def fails(self, custom_id: str, attempt: int) -> bool:
        config = self.config
        if config.rate <= 0 or (config.attempts is not None and attempt > config.attempts):
            return False
        digest = hashlib.sha256(f"{config.seed}\x00{custom_id}\x00{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < config.rate

    def reply(self, custom_id: str, attempt: int) -> Reply | None:
        """The error answer for this line, or None when it is answered normally."""
        if not self.fails(custom_id, attempt):
            return None
        status = self.config.status
        message = _MESSAGES.get(status, f"Failed on purpose by the local server (status {status}).")
        return error_reply(status, message)
