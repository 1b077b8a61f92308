"""What the server refuses when it is full, and how it says so without burying its log.

Descriptors run out first under load: one per connection, one more per upload (its temporary file) or download (the
file it reads). Past the process's RLIMIT_NOFILE, accept() fails and so does every open(), and a server that logs a
traceback for each failure floods its log while answering 500s. So connections and uploads have caps well below the
limit, and what goes over a cap is answered 503 with Retry-After in the API's error shape, which clients retry on
their own; the connection is closed, since what the client sends next would otherwise be read as a request.

Each kind of refusal is logged once, without a traceback, when it starts; while it goes on, a count follows at most
every REPORT_INTERVAL seconds (`RefusalLog.flush`, which the HTTP server calls on its tick).
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import APIError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
REPORT_INTERVAL = 10.0
# What accept() and open() fail with when the process or the system has no descriptor (or buffer) left.
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


def service_unavailable(message: str) -> APIError:
    return APIError(
        503,
        message,
        error_type="server_error",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        close_connection=True,
    )


def out_of_descriptors(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in OUT_OF_DESCRIPTORS


@dataclass
class _Episode:
    message: str
    started: float
    reported: float
    count: int = 0


class RefusalLog:
    """Warnings for refusals, one line per kind when it starts and then a count per REPORT_INTERVAL at most."""

    def __init__(self, interval: float = REPORT_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._episodes: dict[str, _Episode] = {}
        # Refusals are noted on the event loop, but an app driven in process (ASGITransport) may run elsewhere.
        self._lock = threading.Lock()

    def note(self, kind: str, message: str) -> None:
        with self._lock:
            episode = self._episodes.get(kind)
            if episode is not None:
                episode.count += 1
                return
            now = self._clock()
            self._episodes[kind] = _Episode(message, now, now)
        logger.warning("%s", message)

    def flush(self, *, final: bool = False) -> None:
        """Report what was counted; a kind quiet for a whole interval ends, and its next refusal is logged anew."""
        now = self._clock()
        lines: list[str] = []
        with self._lock:
            for kind, episode in list(self._episodes.items()):
                if not final and now - episode.reported < self._interval:
                    continue
                if episode.count:
                    since = now - episode.reported
                    lines.append(f"{episode.message} ({episode.count:,} more in the last {since:.0f} s)")
                    episode.count = 0
                    episode.reported = now
                else:
                    del self._episodes[kind]
        for line in lines:
            logger.warning("%s", line)


class UploadSlots:
    """At most `limit` uploads read at once; one more is refused with a 503 before any of its body is read."""

    def __init__(self, limit: int, refusals: RefusalLog) -> None:
        if limit < 1:
            raise ValueError(f"the upload cap must be at least 1, got {limit}")
        self.limit = limit
        self.refusals = refusals
        self._in_use = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        return self._in_use

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._lock:
            full = self._in_use >= self.limit
            if not full:
                self._in_use += 1
        if full:
            self.refusals.note("uploads", f"refusing uploads beyond {self.limit} at once with 503 (--max-uploads)")
            raise service_unavailable(
                f"The server is reading as many uploads as it takes at once ({self.limit}). "
                f"Retry after {RETRY_AFTER_SECONDS} s."
            )
        try:
            yield
        finally:
            with self._lock:
                self._in_use -= 1

    def no_descriptor(self, what: str, exc: OSError) -> APIError:
        """The 503 for a file that could not be opened because the process has no descriptor left."""
        self.refusals.note(
            "descriptors", f"refusing {what} with 503: {exc.strerror} (raise `ulimit -n` or lower --max-connections)"
        )
        return service_unavailable(f"The server has run out of open files. Retry after {RETRY_AFTER_SECONDS} s.")
