"""The batch lifecycle, run by one background thread: validating -> in_progress -> finalizing -> completed.

Side branches: failed (the input file did not validate), cancelling -> cancelled, and expired (the completion window
ran out). Each status step lasts at least `step_seconds` (in_progress included, so a poller sees it); request lines
take `line_seconds` each, 0 by default: as fast as the machine allows, whatever the batch's size.

Crash safety rests on write order. A step appends result lines to DIR/batches/<id>/{output,errors}.jsonl first
and records the new sizes and the input offset in SQLite second. On resume the runner writes on from the recorded
sizes, and publishing cuts each file back to its recorded size, so a line written by a process that died before its
commit ends up in the result exactly once. Result files become File objects by pointing rows at those same paths, so
finishing a batch is one transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import ids
from .anthropic_batches import internal_limits
from .azure import openai_endpoint
from .config import ServerConfig
from .disk_space import is_disk_full
from .enqueued_tokens import ENQUEUED_STATUSES, token_limit_error
from .errors import SERVER_ERROR_MESSAGE
from .input_validation import ValidationResult, request_lines, validate_input_file
from .line_failures import LineFailurePlan, attempt_of
from .records import UNFINISHED, BatchRecord, FileRecord, dumps
from .responders import MESSAGES_ENDPOINT, Reply, error_reply, respond
from .storage import Storage
from .strict_json import loads

logger = logging.getLogger(__name__)

# Lines answered per transaction: bounds the work lost to a crash and how long a cancel waits for the runner.
CHUNK_LINES = 200
SWEEP_INTERVAL = 1.0
# With no batch in flight the runner looks again after this long; creating or cancelling a batch wakes it at once.
IDLE_WAIT = 0.5
# A batch that met a full disk tries again after this long (monotonic seconds): the disk stays full until a user
# frees it, and every attempt answers a chunk of lines only to find no room for them.
NO_SPACE_RETRY = 1.0
# The status a batch in a closing status ends in once that status has lasted its step.
_CLOSED = {"finalizing": "completed", "cancelling": "cancelled"}

EXPIRED_ERROR = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}


@dataclass
class _Progress:
    input_offset: int
    output_bytes: int
    error_bytes: int
    completed: int
    failed: int
    input_tokens: int
    output_tokens: int
    model: str | None


class BatchRunner:
    def __init__(
        self, storage: Storage, config: ServerConfig, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._storage = storage
        self._config = config
        self._clock: Callable[[], float] = config.clock
        # Times the sweep; the wall clock (`config.clock`) may jump, and tests move it by days.
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._wake = threading.Event()
        # A daemon: a program that never stops its server still exits.
        self._thread = threading.Thread(target=self._loop, name="openai-batches-runner", daemon=True)
        self._last_sweep = -math.inf
        self._line_failures = LineFailurePlan(config.line_failures)
        # Batch id -> when (monotonic) a batch that met a full disk tries again.
        self._waiting_for_space: dict[str, float] = {}

    def start(self) -> None:
        self._storage.restart_pacing(self._clock())
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after its current step (which always ends in a commit); at once if it is waiting."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        """Look at the batches now instead of after the idle wait (a batch was created or cancelled)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.run_once())
            # A wake() that came during the pass is spent too: the pass after this wait looks at everything anyway.
            self._wake.clear()

    def run_once(self) -> float:
        """One pass of the runner thread: advance the batches, free swept files once a second.

        Returns how long to wait for a `wake()` before the next pass: 0 while some batch can go on at once.
        """
        try:
            busy = self.step()
            if self._monotonic() - self._last_sweep >= SWEEP_INTERVAL:
                self.sweep()
            return 0.0 if busy else self._idle_wait()
        except Exception:
            # The runner outlives any one bad pass: one broken batch, or a moment of a broken disk, must not stop it.
            logger.exception("batch runner pass failed")
            return IDLE_WAIT

    def _idle_wait(self) -> float:
        """Half the pace, within [5 ms, 50 ms], while a batch is in flight: a step is due at most that late."""
        if not self._storage.unfinished_batches():
            return IDLE_WAIT
        paces = [pace for pace in (self._config.step_seconds, self._config.line_seconds) if pace > 0]
        return min(max(min(paces, default=0.0) / 2, 0.005), 0.05)

    def step(self) -> bool:
        """Advance every unfinished batch once.

        True if some batch changed status or answered a whole chunk of lines (the next step may have work at once);
        False if every batch is waiting for its time (the next line, or the end of its status step).
        """
        busy = False
        started = self._monotonic()
        for batch in self._storage.unfinished_batches():
            if self._stop.is_set():
                break
            if self._waiting_for_space.get(batch.id, -math.inf) > started:
                continue
            try:
                busy = self._advance(batch) or busy
            except Exception as exc:
                if is_disk_full(exc, self._storage.root):
                    self._wait_for_space(batch, exc)
                    continue
                # Only a fault of the server's own (a bug) lands here: input was validated up front and every line
                # answers on its own. The lines finished so far are committed; they are published.
                logger.exception("batch %s failed inside the local server", batch.id)
                self._fail(batch, "server_error", "The local server failed while processing this batch.")
            else:
                self._waiting_for_space.pop(batch.id, None)
        return busy

    def _wait_for_space(self, batch: BatchRecord, exc: BaseException) -> None:
        """A full disk does not fail the batch: it stays as its last commit left it and tries again later.

        Whatever this attempt wrote went beyond the sizes recorded (result lines are written before the progress
        that counts them, and publishing cuts files to the recorded sizes), so the next attempt answers the same
        lines from the same place and each line is still answered once. Those bytes are cut off now: left until the
        next attempt, they would hold the room a user frees by deleting files.
        """
        if batch.id not in self._waiting_for_space:
            logger.warning(
                "batch %s waits for room on the disk (%s); it goes on from its last recorded line", batch.id, exc
            )
        self._waiting_for_space[batch.id] = self._monotonic() + NO_SPACE_RETRY
        # The recorded sizes as committed now: this attempt may have committed some progress before it failed.
        recorded = self._storage.batch_by_id(batch.id) or batch
        for path, size in (
            (self._output_path(batch), recorded.output_bytes),
            (self._errors_path(batch), recorded.error_bytes),
        ):
            with contextlib.suppress(OSError):
                if path.stat().st_size > size:
                    os.truncate(path, size)

    def sweep(self) -> None:
        """Free the bytes of deleted and expired files (they are already invisible through the API)."""
        self._last_sweep = self._monotonic()
        for record in self._storage.files_to_sweep(self._clock()):
            # missing_ok: a stop between the unlink and the mark below leaves a record whose bytes are gone already.
            self._storage.blob(record.path).unlink(missing_ok=True)
            self._storage.mark_blob_removed(record.id)

    def _advance(self, batch: BatchRecord) -> bool:
        now = self._clock()
        if batch.status in ("validating", "in_progress") and now >= batch.expires_at:
            return self._expire(batch, now)
        phase_done = now - batch.phase_mark >= self._config.step_seconds
        if batch.status == "validating":
            return phase_done and self._validate(batch, now)
        if batch.status == "in_progress":
            return self._process(batch, now, phase_done)
        return phase_done and self._finish(batch, _CLOSED[batch.status], now)

    def _validate(self, batch: BatchRecord, now: float) -> bool:
        path = self._input_path(batch)
        if not path.is_file():
            return self._fail(batch, "file_not_found", "The input file is no longer available.", param="input_file_id")
        limit = self._config.enqueued_token_limit
        limits = self._config.limits
        if batch.endpoint == MESSAGES_ENDPOINT:
            limits = internal_limits(limits)
        result = validate_input_file(path, batch.endpoint, limits, count_tokens=limit is not None)
        if result.errors:
            return self._storage.update_batch(
                batch.id,
                {"status": "failed", "failed_at": int(now), "errors": result.errors},
                only_if_status=("validating",),
            )
        # The check and the reservation share one transaction with the move to in_progress, so no other batch of the
        # owner can be admitted between them (the runner is one thread, but cancels arrive from HTTP threads).
        with self._storage.transaction():
            if limit is None:
                return self._start(batch, result, now)
            model = result.model or ""
            enqueued = self._storage.enqueued_tokens(batch.owner, model, ENQUEUED_STATUSES)
            tokens = result.input_tokens
            if enqueued + tokens > limit:
                return self._storage.update_batch(
                    batch.id,
                    {
                        "status": "failed",
                        "failed_at": int(now),
                        "errors": [token_limit_error(result.model, batch.owner, limit)],
                    },
                    only_if_status=("validating",),
                )
            started = self._start(batch, result, now)
            if started:
                self._storage.reserve_tokens(batch.id, batch.owner, model, tokens, enqueued_after=enqueued + tokens)
            return started

    def _start(self, batch: BatchRecord, result: ValidationResult, now: float) -> bool:
        return self._storage.update_batch(
            batch.id,
            {
                "status": "in_progress",
                "in_progress_at": int(now),
                "total": result.requests,
                "model": result.model,
                "phase_mark": now,
                "progress_mark": now,
            },
            only_if_status=("validating",),
        )

    def _process(self, batch: BatchRecord, now: float, phase_done: bool) -> bool:
        pace = self._config.line_seconds
        remaining = batch.total - batch.completed - batch.failed
        due = int((now - batch.progress_mark) / pace) if pace > 0 else CHUNK_LINES
        budget = min(due, CHUNK_LINES, remaining)
        if budget > 0:
            progress = self._answer_lines(batch, budget, int(now))
            answered = progress.completed + progress.failed - batch.completed - batch.failed
            # Lines are paced from when the previous ones were due, not from when they ran, so the pace holds on
            # average however late a step comes. At pace 0 the mark never moves (and nothing reads it).
            mark = batch.progress_mark + answered * pace
            # Progress is recorded whatever the status became meanwhile: these lines were answered and written.
            self._storage.update_batch(batch.id, {**dataclasses.asdict(progress), "progress_mark": mark})
            remaining -= answered
        if remaining > 0:
            # Busy after a whole chunk (more lines may be due at once); otherwise the next line is not due yet.
            return budget == CHUNK_LINES
        if not phase_done:
            return False
        return self._storage.update_batch(
            batch.id,
            {"status": "finalizing", "finalizing_at": int(now), "phase_mark": now},
            only_if_status=("in_progress",),
        )

    def _answer_lines(self, batch: BatchRecord, budget: int, now: int) -> _Progress:
        progress = _Progress(
            batch.input_offset,
            batch.output_bytes,
            batch.error_bytes,
            batch.completed,
            batch.failed,
            batch.input_tokens,
            batch.output_tokens,
            batch.model,
        )
        input_path = self._input_path(batch)
        attempt = attempt_of(batch.metadata)
        # A batch created through an Azure path keeps its endpoint without /v1; the responders know the /v1 form.
        answered_as = openai_endpoint(batch.endpoint)

        def planned_failure(custom_id: str) -> Reply | None:
            return self._line_failures.reply(custom_id, attempt)

        with (
            input_path.open("rb") as source,
            _open_partial(self._output_path(batch), batch.output_bytes) as output,
            _open_partial(self._errors_path(batch), batch.error_bytes) as errors,
        ):
            source.seek(batch.input_offset)
            for _number, offset, content in request_lines(source):
                reply, data = _answer(answered_as, content, now, planned_failure)
                if reply.ok:
                    output.write(data)
                    progress.output_bytes += len(data)
                    progress.completed += 1
                    progress.input_tokens += reply.input_tokens
                    progress.output_tokens += reply.output_tokens
                    progress.model = progress.model or reply.model
                else:
                    errors.write(data)
                    progress.error_bytes += len(data)
                    progress.failed += 1
                progress.input_offset = offset
                budget -= 1
                if budget == 0:
                    break
        return progress

    def _expire(self, batch: BatchRecord, now: float) -> bool:
        """Unanswered requests go to the error file with code batch_expired, as the service writes them."""
        error_bytes = batch.error_bytes
        if batch.status == "in_progress":
            with (
                self._input_path(batch).open("rb") as source,
                _open_partial(self._errors_path(batch), batch.error_bytes) as errors,
            ):
                source.seek(batch.input_offset)
                for _number, _offset, content in request_lines(source):
                    custom_id = json.loads(content).get("custom_id")
                    line = {
                        "id": ids.batch_request_id(),
                        "custom_id": custom_id,
                        "response": None,
                        "error": EXPIRED_ERROR,
                    }
                    data = (dumps(line) + "\n").encode("utf-8")
                    errors.write(data)
                    error_bytes += len(data)
        return self._finish(batch, "expired", now, error_bytes=error_bytes)

    def _finish(self, batch: BatchRecord, status: str, now: float, *, error_bytes: int | None = None) -> bool:
        changes: dict[str, Any] = {"status": status, f"{status}_at": int(now)}
        if error_bytes is not None:
            changes["error_bytes"] = error_bytes
        return self._publish(batch, changes, now)

    def _publish(self, batch: BatchRecord, changes: dict[str, Any], now: float) -> bool:
        """Publish the result files written so far and apply `changes` (a final status), in one transaction.

        Only while the batch still has the status `batch` says (a cancel may have landed meanwhile). Only bytes
        recorded as committed are published: whatever a crash left beyond them is cut off first.
        """
        created = int(now)
        error_bytes = changes.get("error_bytes", batch.error_bytes)
        changes = {**changes, "error_bytes": error_bytes}
        files = []
        for kind, path, size in (
            ("output", self._output_path(batch), batch.output_bytes),
            ("error", self._errors_path(batch), error_bytes),
        ):
            if size == 0:
                continue
            _truncate(path, size)
            expires = batch.output_expires_after_seconds
            record = FileRecord(
                id=ids.file_id(),
                owner=batch.owner,
                bytes=size,
                created_at=created,
                expires_at=None if expires is None else created + expires,
                filename=f"{batch.id}_{kind}.jsonl",
                purpose="batch_output",
                path=self._storage.relative(path),
            )
            files.append(record)
            changes[f"{kind}_file_id"] = record.id
        with self._storage.transaction():
            if not self._storage.update_batch(batch.id, changes, only_if_status=(batch.status,)):
                return False
            for record in files:
                self._storage.add_file(record)
        logger.info("batch %s %s", batch.id, changes["status"])
        return True

    def _fail(self, batch: BatchRecord, code: str, message: str, *, param: str | None = None) -> bool:
        """Stop the batch as `failed`, publishing the lines it finished, as the service does."""
        error = {"code": code, "message": message, "param": param, "line": None}
        current = self._storage.batch_by_id(batch.id) or batch
        if current.status not in UNFINISHED:
            return False
        now = self._clock()
        changes = {"status": "failed", "failed_at": int(now), "errors": [error]}
        try:
            return self._publish(current, changes, now)
        except Exception:
            # Publishing is what failed (the disk, say): the batch still ends, without its files.
            logger.exception("publishing the finished lines of batch %s failed", batch.id)
            return self._storage.update_batch(batch.id, changes, only_if_status=UNFINISHED)

    def _input_path(self, batch: BatchRecord) -> Path:
        record = self._storage.file_by_id(batch.input_file_id)
        # A batch is created only for an existing file, and file rows are never removed (a delete only marks them).
        assert record is not None, batch.input_file_id
        return self._storage.blob(record.path)

    def _output_path(self, batch: BatchRecord) -> Path:
        return self._storage.batch_dir(batch.id) / "output.jsonl"

    def _errors_path(self, batch: BatchRecord) -> Path:
        return self._storage.batch_dir(batch.id) / "errors.jsonl"


def _answer(
    endpoint: str, content: bytes, now: int, planned_failure: Callable[[str], Reply | None]
) -> tuple[Reply, bytes]:
    """One request line's answer (a planned failure, see `--line-failure-rate`, or the responder's) and its result line.

    The input was validated before the first line ran, so this cannot fail on what a client sent; should it fail
    anyway (a server bug), that one line gets a 500 in the error file instead of the whole batch failing.
    """
    custom_id = None
    try:
        request = loads(content)
        custom_id = request["custom_id"]
        reply = planned_failure(custom_id) or respond(endpoint, custom_id, request["body"], now=now)
        return reply, _result_line(custom_id, reply)
    except Exception:
        logger.exception("answering a request line (custom_id %r) failed", custom_id)
        reply = error_reply(500, SERVER_ERROR_MESSAGE)
        return reply, _result_line(_writable_id(custom_id), reply)


def _writable_id(custom_id: object) -> str | None:
    """The custom_id as it can go into an error line: the line must be written whatever the id holds, or the
    lines answered before it in the same step would be lost with it."""
    if not isinstance(custom_id, str):
        return None
    return custom_id.encode("utf-8", "backslashreplace").decode("utf-8")


def _result_line(custom_id: str | None, reply: Reply) -> bytes:
    line = {
        "id": ids.batch_request_id(),
        "custom_id": custom_id,
        "response": {"status_code": reply.status_code, "request_id": ids.request_id(), "body": reply.body},
        "error": None,
    }
    return (dumps(line) + "\n").encode("utf-8")


def _open_partial(path: Path, size: int) -> BinaryIO:
    """A result file opened for writing after its last committed line.

    Whatever a crash left beyond that line is written over, and `_publish` cuts off any of it that remains.
    """
    path.parent.mkdir(exist_ok=True)
    handle = path.open("r+b" if path.exists() else "w+b")
    handle.seek(size)
    return handle


def _truncate(path: Path, size: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(size)
