"""The progress display of `openai-batches wait` and `submit --wait`.

It writes to one stream (the command line gives it stderr, so stdout carries only the result). On a terminal it is
one line redrawn in place with a carriage return: status, a bar, completed/total, failed, elapsed time; the elapsed
time keeps moving between polls because the wait's sleeps go through `sleep`, which redraws every fraction of a
second. Anywhere else (a pipe, a log file) it writes one timestamped line per change and never a carriage return.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable
from typing import TextIO

from ._generated import Batch

BAR_WIDTH = 24
REDRAW_EVERY = 0.2
DEFAULT_COLUMNS = 80


def counts_of(batch: Batch) -> tuple[int, int, int]:
    """(completed, failed, total) of a batch; zeros while the service has not counted yet."""
    counts = batch.request_counts
    if counts is None:
        return 0, 0, 0
    return counts.completed, counts.failed, counts.total


def format_elapsed(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour on."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_bar(done: int, total: int, width: int = BAR_WIDTH, *, fill: str = "#", empty: str = "-") -> str:
    share = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
    filled = int(share * width)
    return fill * filled + empty * (width - filled)


def _clean(text: str) -> str:
    # Values come from the server: a control character (an escape sequence) must not reach the terminal.
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _status(batch: Batch) -> str:
    return _clean(str(batch.status))


def live_line(batch: Batch, elapsed: float, *, unicode: bool = False) -> str:
    """`in_progress [#######-----] 7/20 completed, 1 failed, 0:04`."""
    completed, failed, total = counts_of(batch)
    fill, empty = ("\u2588", "\u2591") if unicode else ("#", "-")
    bar = render_bar(completed + failed, total, fill=fill, empty=empty)
    return f"{_status(batch)} [{bar}] {completed}/{total} completed, {failed} failed, {format_elapsed(elapsed)}"


def plain_line(batch: Batch, now: datetime.datetime, elapsed: float) -> str:
    """`2025-01-01T12:00:03+00:00 batch_abc in_progress 7/20 completed, 1 failed (0:04)`."""
    completed, failed, total = counts_of(batch)
    stamp = now.isoformat(timespec="seconds")
    return (
        f"{stamp} {_clean(batch.id)} {_status(batch)} {completed}/{total} completed, {failed} failed "
        f"({format_elapsed(elapsed)})"
    )


class WaitProgress:
    """Shows a batch's progress while `batches.wait` polls it.

    Pass `update` as the wait's `on_update` and `sleep` as its retry policy's sleep; call `finish()` when the wait
    ends (also after an error or Ctrl-C) so the terminal's cursor is left at the start of a fresh line.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool | None = None,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime.datetime] | None = None,
        columns: Callable[[], int] | None = None,
    ) -> None:
        self._stream = stream
        self.enabled = enabled
        self.live = is_terminal(stream) if live is None else live
        self._clock = clock
        self._sleeper = sleeper
        self._now = now or (lambda: datetime.datetime.now().astimezone())
        self._columns = columns or (lambda: terminal_columns(stream))
        self._unicode = "utf" in (getattr(stream, "encoding", None) or "").lower()
        self._start = clock()
        self._batch: Batch | None = None
        self._drawn = 0  # width of the live line on screen; 0: the cursor is at the start of a clean line

    @property
    def batch(self) -> Batch | None:
        """The last batch reported."""
        return self._batch

    def update(self, batch: Batch) -> None:
        """A change of status or counts."""
        self._batch = batch
        if not self.enabled:
            return
        if self.live:
            self._redraw()
        else:
            self._write(plain_line(batch, self._now(), self._clock() - self._start) + "\n")

    def sleep(self, seconds: float) -> None:
        """Sleep as the wait asks, redrawing the live line (its elapsed time) every fraction of a second."""
        if not (self.enabled and self.live and self._batch is not None):
            self._sleeper(seconds)
            return
        deadline = self._clock() + seconds
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            self._sleeper(min(remaining, REDRAW_EVERY))
            self._redraw()

    def finish(self) -> None:
        """End the live line (idempotent); plain output needs nothing."""
        if self.enabled and self.live and self._drawn:
            self._redraw()
            self._write("\n")
            self._drawn = 0

    def _redraw(self) -> None:
        if self._batch is None:
            return
        line = live_line(self._batch, self._clock() - self._start, unicode=self._unicode)
        # A line as wide as the terminal wraps, and `\r` then only returns to the start of the last row.
        line = line[: max(self._columns() - 1, 10)]
        padding = " " * max(self._drawn - len(line), 0)
        # Recorded before writing: a Ctrl-C can land right after the write, and `finish` must still end the line.
        self._drawn = max(len(line), 1)
        self._write("\r" + line + padding)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # A closed or broken progress stream must not end the wait: the progress is only decoration.
            self.enabled = False


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def terminal_columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or DEFAULT_COLUMNS
    except (AttributeError, ValueError, OSError):
        return DEFAULT_COLUMNS
