"""The parts of submit, wait and results that the sync and async clients share."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ._exceptions import (
    APIConnectionError,
    BatchWaitTimeout,
    InternalServerError,
    InvalidParameterError,
    OpenAIBatchesError,
    RateLimitError,
)
from ._generated import Batch
from ._retry import RetryPolicy
from ._status import is_terminal
from ._validation import check_id
from .batch_input import BatchInput, BatchRequest, InputLimits, validate_file
from .types import Batch as PublicBatch

# Errors that a long wait rides out (the call itself already retried them); anything else ends the wait.
TRANSIENT_ERRORS = (APIConnectionError, RateLimitError, InternalServerError)
MAX_CONSECUTIVE_POLL_ERRORS = 5
POLL_BACKOFF = 1.5

RequestsInput = str | os.PathLike[str] | BatchInput | Iterable[BatchRequest | Mapping[str, Any]]


class PartialSubmitError(OpenAIBatchesError):
    """`submit_many` failed part way; `batches` were created before the failure (the cause is chained).

    Args:
        message: What failed, and after how many batches.
        batches: The batches created before the failure, in order.
    """

    def __init__(self, message: str, *, batches: list[PublicBatch]) -> None:
        super().__init__(message)
        self.batches = batches


def batch_id_of(batch: Batch | str) -> str:
    return batch.id if isinstance(batch, Batch) else check_id(batch, "batch_id")


def file_id(value: object) -> str | None:
    """A file id the batch names, or None for null or an empty value."""
    return value if isinstance(value, str) and value else None


class PollState:
    """When to report a change, how long to sleep next, and when to give up."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        poll_interval: float,
        max_poll_interval: float,
        timeout: float | None,
        on_update: Callable[[PublicBatch], object] | None,
    ) -> None:
        for name, value in (("poll_interval", poll_interval), ("max_poll_interval", max_poll_interval)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise InvalidParameterError(name, f"expected seconds > 0, got {value!r}")
        if max_poll_interval < poll_interval:
            raise InvalidParameterError("max_poll_interval", "must not be shorter than poll_interval")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or math.isnan(timeout) or timeout <= 0
        ):
            raise InvalidParameterError("timeout", f"expected seconds > 0 or None, got {timeout!r}")
        if on_update is not None and not callable(on_update):
            raise InvalidParameterError("on_update", "expected a callable taking the batch")
        self._clock = policy.clock
        self._start = self._clock()
        self._poll_interval = float(poll_interval)
        self._max_poll_interval = float(max_poll_interval)
        self._interval = float(poll_interval)
        self._timeout = timeout
        self._on_update = on_update
        self._seen: tuple[object, tuple[int, int, int] | None] | None = None
        # When the request counts last moved, and how many requests were done then: the pace of the batch.
        self._moved_at = self._start
        self._done_then = 0
        self._errors = 0
        self.last: PublicBatch | None = None

    def observe(self, batch: PublicBatch) -> bool:
        """Record a fresh batch; True once it is final."""
        self.last = batch
        self._errors = 0
        counts = batch.request_counts
        numbers = None if counts is None else (counts.total, counts.completed, counts.failed)
        key = (batch.status, numbers)
        previous, self._seen = self._seen, key
        if previous is None or key[0] != previous[0]:
            # A new status: the next one may follow quickly (a small batch runs in seconds), so look again soon.
            self._interval = self._poll_interval
            self._mark_progress(numbers)
        elif key != previous:
            self._interval = self._paced(numbers)
        else:
            # Nothing moved: back off, since a batch may take up to 24 hours.
            self._interval = min(self._interval * POLL_BACKOFF, self._max_poll_interval)
        if key != previous and self._on_update is not None:
            self._on_update(batch)
        return is_terminal(batch)

    def _mark_progress(self, numbers: tuple[int, int, int] | None) -> None:
        self._moved_at = self._clock()
        self._done_then = 0 if numbers is None else numbers[1] + numbers[2]

    def _paced(self, numbers: tuple[int, int, int] | None) -> float:
        """The counts moved: back off as usual, but not past the moment the batch should be done at this pace."""
        interval = min(self._interval * POLL_BACKOFF, self._max_poll_interval)
        if numbers is not None:
            total, done = numbers[0], numbers[1] + numbers[2]
            elapsed = self._clock() - self._moved_at
            if done > self._done_then and elapsed > 0:
                finish_in = (total - done) * elapsed / (done - self._done_then)
                interval = min(interval, max(finish_in, self._poll_interval))
        self._mark_progress(numbers)
        return interval

    def failed(self, error: OpenAIBatchesError) -> None:
        """A poll failed even after the call's own retries: ride it out a few times, then give up."""
        self._errors += 1
        if self._errors >= MAX_CONSECUTIVE_POLL_ERRORS:
            raise error

    def next_sleep(self, batch_id: str) -> float:
        elapsed = self._clock() - self._start
        if self._timeout is not None and elapsed >= self._timeout:
            status = self.last.status if self.last is not None else "unknown"
            raise BatchWaitTimeout(
                f"Batch {batch_id} is still {status} after {elapsed:.1f} s (timeout {self._timeout} s).",
                batch=self.last,
                elapsed=elapsed,
            )
        wait = self._interval
        if self._timeout is not None:
            wait = min(wait, max(self._timeout - elapsed, 0.0))
        return wait


@contextlib.contextmanager
def prepared_input(requests: RequestsInput, endpoint: str, limits: InputLimits | None) -> Iterator[Path]:
    """A JSONL file on disk, checked against the service's rules, ready to upload (streamed, never in memory)."""
    limits = limits or InputLimits()
    if isinstance(requests, str | os.PathLike):
        path = Path(requests)
        if not path.is_file():
            raise InvalidParameterError("requests", f"no such file: {str(path)!r}")
        summary = validate_file(path, endpoint=endpoint, limits=limits)
        if summary.requests == 0:
            raise InvalidParameterError("requests", f"{str(path)!r} holds no requests")
        yield path
        return
    if isinstance(requests, BatchInput):
        if requests.endpoint != endpoint:
            raise InvalidParameterError(
                "endpoint", f"the requests were built for {requests.endpoint}, not for {endpoint}"
            )
        built = requests
    elif isinstance(requests, Iterable) and not isinstance(requests, bytes | bytearray | Mapping):
        built = BatchInput(endpoint, limits=limits)
        built.extend(requests)
    else:
        raise InvalidParameterError(
            "requests", f"expected a JSONL path, a BatchInput or requests, got {type(requests).__name__}"
        )
    if len(built) == 0:
        raise InvalidParameterError("requests", "there are no requests to submit")
    with tempfile.TemporaryDirectory(prefix="openai-batches-") as directory:
        yield built.write(Path(directory) / "batch_input.jsonl")
