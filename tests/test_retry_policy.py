"""RetryPolicy edges the client-level retry tests (tests/test_retries.py) do not reach: no server, no sleeping.

The clock and the randomness are injected, so each case states the exact delay a user's client would wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from openai_batches import RetryPolicy

FAKE_NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC


def policy(**settings: float) -> RetryPolicy:
    return RetryPolicy(clock=lambda: FAKE_NOW, random=lambda: 0.0, **settings)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in a zone five hours behind UTC (as a laptop in New York does in winter)."""
    monkeypatch.setenv("TZ", "EST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "date",
    [
        "Sun, 15 Jun 2025 15:06:43 -0000",  # what email.utils.formatdate writes by default; parsed without a zone
        "Sun, 15 Jun 2025 15:06:43 GMT",
        "Sun, 15 Jun 2025 15:06:43 +0000",
        "Sun, 15 Jun 2025 10:06:43 -0500",
        "Sun, 15 Jun 2025 17:06:43 +0200",
    ],
)
def test_an_http_date_is_read_in_its_own_zone_not_the_machines(new_york: None, date: str) -> None:
    # Three seconds after FAKE_NOW, however it is written; a zoneless date is GMT, as HTTP dates always are.
    assert policy().delay(1, httpx.Response(429, headers={"retry-after": date})) == 3.0


def test_the_ladder_stops_doubling_at_two_to_the_sixty_fourth() -> None:
    # The exponent is capped so that a client with a huge max_retries never computes 2.0 ** 1024 (an OverflowError).
    # Below a max_delay of 2 ** 63 seconds the cap is invisible; past it, it is where the doubling stops.
    unbounded = policy(initial_delay=0.5, max_delay=1e300, jitter=0)
    assert unbounded.delay(65, None) == 0.5 * 2.0**64
    assert unbounded.delay(66, None) == 0.5 * 2.0**64
    assert unbounded.delay(10_000, None) == 0.5 * 2.0**64
    assert unbounded.delay(64, None) == 0.5 * 2.0**63
