"""When to retry a request and how long to wait first.

Retried: connection failures and timeouts, 408, 409, 429 and every 5xx (520 to 529 included). A server's
`x-should-retry: true|false` overrides that decision. The wait is exponential backoff with jitter (0.5 s doubling to
8 s, each cut by up to a quarter at random so clients that failed together do not return together), unless the
server asks for a wait with `retry-after-ms` or `retry-after` (seconds or an HTTP date); a requested wait is honoured
up to `max_retry_after`.
"""

from __future__ import annotations

import datetime
import email.utils
import math
import time
from collections.abc import Awaitable, Callable

import attrs
import httpx

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def _random_fraction() -> float:
    # Imported on first retry, like asyncio below: most clients never back off, and the import is not free.
    import random

    return random.random()


async def _asyncio_sleep(seconds: float) -> None:
    # Imported here: asyncio costs a tenth of the library's import time, and only async clients sleep this way.
    import asyncio

    await asyncio.sleep(seconds)


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """Backoff settings, plus the clock, sleepers and randomness, which tests replace to run in milliseconds.

    Attributes:
        initial_delay: Seconds before the first retry; doubled for each later one.
        max_delay: The longest backoff, in seconds.
        jitter: The share of each backoff taken off at random, from 0 to 1.
        max_retry_after: The longest `Retry-After` obeyed, in seconds; a longer one is cut to it.
        sleep: Sleeps the sync client's pauses.
        async_sleep: Sleeps the async client's pauses.
        clock: The time in seconds, for waits and `Retry-After` dates.
        random: A number from 0 to 1, for the jitter.

    Raises:
        ValueError: A delay is negative or not finite, or `jitter` is above 1.
    """

    initial_delay: float = attrs.field(default=0.5, validator=_positive)
    max_delay: float = attrs.field(default=8.0, validator=_positive)
    jitter: float = attrs.field(default=0.25, validator=[_positive, attrs.validators.le(1.0)])
    max_retry_after: float = attrs.field(default=60.0, validator=_positive)
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = _random_fraction

    def should_retry(self, response: httpx.Response) -> bool:
        """Whether a failed response is worth retrying: 408, 409, 429 and 5xx, unless `x-should-retry` says.

        Args:
            response: The response that came back with a non-success status.

        Returns:
            True to retry it.
        """
        override = response.headers.get("x-should-retry", "").strip().lower()
        if override == "true":
            return True
        if override == "false":
            return False
        return response.status_code in RETRYABLE_STATUSES or response.status_code >= 500

    def delay(self, retry_number: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number `retry_number` (1 for the first retry).

        Args:
            retry_number: Which retry this is, counted from 1.
            response: The failed response, whose `Retry-After` wins when it is sane; None after a connection
                error.

        Returns:
            Seconds: the server's wish when given (up to `max_retry_after`), else jittered exponential backoff.
        """
        requested = self._requested_delay(response) if response is not None else None
        if requested is not None:
            return requested
        # The exponent is capped first: 2.0 ** 1024 overflows long before any sane max_retries runs out.
        backoff = min(self.initial_delay * 2.0 ** min(max(retry_number - 1, 0), 64), self.max_delay)
        return backoff * (1 - self.jitter * min(max(self.random(), 0.0), 1.0))

    def _requested_delay(self, response: httpx.Response) -> float | None:
        headers = response.headers
        seconds: float | None = None
        if "retry-after-ms" in headers:
            seconds = _number(headers["retry-after-ms"])
            seconds = None if seconds is None else seconds / 1000
        if seconds is None and "retry-after" in headers:
            value = headers["retry-after"]
            seconds = _number(value)
            if seconds is None:
                seconds = self._seconds_until(value)
        if seconds is None or seconds < 0:
            return None
        return min(seconds, self.max_retry_after)

    def _seconds_until(self, http_date: str) -> float | None:
        try:
            when = email.utils.parsedate_to_datetime(http_date)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; "-0000" parses as naive
            when = when.replace(tzinfo=datetime.UTC)
        return max(when.timestamp() - self.clock(), 0.0)


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
