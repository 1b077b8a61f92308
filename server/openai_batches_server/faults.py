"""Fault injection: a seeded share of requests answered 429/5xx with the real error bodies, plus fixed latency.

One `random.Random` behind a lock, drawn once per authenticated request in arrival order: with the same seed and the
same sequence of requests, the same requests fail, which keeps resilience tests reproducible.
"""

from __future__ import annotations

import math
import random
import threading

from .config import Faults
from .errors import SERVER_ERROR_MESSAGE, APIError

_MESSAGES = {
    429: ("Rate limit reached for requests (simulated by the local server). Please try again in {s}s.", "requests"),
    500: (SERVER_ERROR_MESSAGE, "server_error"),
    502: ("Bad gateway.", "server_error"),
    503: ("The engine is currently overloaded, please try again later.", "server_error"),
    504: ("Gateway timeout.", "server_error"),
}


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self.config = faults
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()

    def draw(self) -> APIError | None:
        if self.config.rate <= 0:
            return None
        with self._lock:
            hit = self._random.random() < self.config.rate
            status = self._random.choice(self.config.statuses) if hit else 0
        return fault_error(status, self.config.retry_after) if hit else None


def fault_error(status: int, retry_after: float) -> APIError:
    fallback_type = "server_error" if status >= 500 else "invalid_request_error"
    template, error_type = _MESSAGES.get(status, ("Simulated failure from the local server.", fallback_type))
    headers: dict[str, str] = {}
    code = None
    if status == 429:
        code = "rate_limit_exceeded"
        # The openai SDK honours retry-after-ms before retry-after; both keep sub-second test settings exact.
        headers = {"retry-after": str(math.ceil(retry_after)), "retry-after-ms": str(int(retry_after * 1000))}
    return APIError(status, template.format(s=retry_after), error_type=error_type, code=code, headers=headers)
