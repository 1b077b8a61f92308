"""Merging a finished batch's result files into the job: each request of the shard gets its verdict.

- a 2xx answer: `succeeded`, final;
- a retryable answer (status 408, 409, 429 or 5xx in the error file, or the line error `batch_expired`), or no line
  at all from a batch that expired (or ended without answering it): back to waiting for the next attempt while
  attempts remain, else final (`failed` with its last answer, or `missing` when no attempt ever answered);
- any other answer (400, 401, 404, ...): `failed`, final at once;
- every request of a batch that failed validation: `failed`, with the batch's error for its line (or the batch's
  first error);
- requests of a batch the job's cancel stopped, unanswered: `cancelled`.

One transaction per shard: a process killed half-way leaves the shard unmerged, and the next run merges it again
from the downloaded files. The shard's requests are read into a dict (at most one batch, 50,000 entries), never
the job's.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ._breathing import breathing
from .crash import crash_point
from .records import (
    FAILED,
    FINAL,
    MISSING,
    PENDING,
    REQUEST_CANCELLED,
    SUCCEEDED,
    JobRecord,
    Outcome,
    ShardRecord,
    ShardState,
)
from .store import JobStore

logger = logging.getLogger("openai_batches")

# The states a shard is merged from: its files downloaded, or its batch ended with none to download.
MERGEABLE: Final = (ShardState.ENDED, ShardState.DOWNLOADED)
RETRYABLE_CODES: Final = frozenset({"batch_expired"})
NO_RESULT: Final = "no_result"
CANCELLED_CODE: Final = "cancelled"


def retryable_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


def verdict(record: Mapping[str, Any]) -> tuple[bool, bool]:
    """(succeeded, retryable) for one result line."""
    error = record.get("error")
    if isinstance(error, Mapping) and error:
        return False, error.get("code") in RETRYABLE_CODES
    response = record.get("response")
    status = response.get("status_code") if isinstance(response, Mapping) else None
    if isinstance(status, int) and not isinstance(status, bool):
        return 200 <= status < 300, retryable_status(status)
    return False, False


def answer_of(record: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(HTTP status, error code) of one result line, kept per request so that a report groups failures in SQL
    instead of reading every failed line: the code is the error's `code`, else its `type` (None for a success)."""
    response = record.get("response")
    status = response.get("status_code") if isinstance(response, Mapping) else None
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    error = record.get("error")
    if not (isinstance(error, Mapping) and error):
        body = response.get("body") if isinstance(response, Mapping) else None
        error = body.get("error") if isinstance(body, Mapping) else None
    code = None
    if isinstance(error, Mapping):
        code = next((value for key in ("code", "type") if isinstance(value := error.get(key), str) and value), None)
    return status, code


def merge_shard(
    store: JobStore,
    job: JobRecord,
    shard: ShardRecord,
    files: Sequence[tuple[int, Path]],
    *,
    cancelling: bool,
) -> Counter[str]:
    """Merge the downloaded files of the shard's batch; returns the final outcomes it counted."""
    waiting = {
        custom_id: (line, earlier) for line, custom_id, _o, _l, _a, earlier in store.shard_lines(job.id, shard.id)
    }
    attempt = shard.attempt
    retry_allowed = attempt < job.max_attempts and not cancelling
    outcomes: list[Outcome] = []
    counts: Counter[str] = Counter()

    def final(
        line: int,
        outcome: str,
        where: tuple[int, int, int] | None = None,
        error: tuple[str, str] | None = None,
        answer: tuple[int | None, str | None] = (None, None),
    ) -> None:
        file_no, offset, length = where if where is not None else (None, None, None)
        code, message = error if error is not None else (None, None)
        outcomes.append(Outcome(line, FINAL, outcome, attempt, file_no, offset, length, code, message, *answer))
        counts[outcome] += 1

    for file_no, path in files:
        for offset, length, record in _result_lines(path):
            custom_id = record.get("custom_id")
            entry = waiting.pop(custom_id, None) if isinstance(custom_id, str) else None
            if entry is None:
                continue  # not this shard's (or a repeated line): the first answer counts
            line = entry[0]
            where = (file_no, offset, length)
            ok, retryable = verdict(record)
            answer = answer_of(record)
            if ok:
                final(line, SUCCEEDED, where, answer=answer)
            elif retryable and retry_allowed:
                outcomes.append(Outcome(line, PENDING, None, attempt, file_no, offset, length, None, None, *answer))
            else:
                # Its message stays in the result file: the store keeps a few bytes per request, whatever it says.
                final(line, FAILED, where, answer=answer)

    unanswered = _unanswered(shard, waiting)
    for custom_id, (line, earlier) in waiting.items():
        code, message, kind = unanswered(custom_id, line)
        if kind == "failed":
            final(line, FAILED, error=(code, message))
        elif kind == "cancelled":
            final(line, FAILED if earlier else REQUEST_CANCELLED, error=(code, message))
        elif retry_allowed:
            outcomes.append(Outcome(line, PENDING, None, attempt))
        else:
            final(line, FAILED if earlier else MISSING, error=(code, message))

    with store.transaction():
        # Checked where it is written: a shard merged already (by this run or another) is not counted again.
        current = store.shard(job.id, shard.id)
        if current is None or current.state not in MERGEABLE:
            return Counter()
        store.set_outcomes(job.id, outcomes)
        crash_point("merge")  # the verdicts written, the counts and the shard's state not: all roll back together
        store.add_counts(job.id, counts)
        store.save_shard(current, dataclasses.replace(current, state=ShardState.MERGED))
    return counts


# How to judge a request the batch's files did not answer: (custom_id, line) -> (error code, message, kind).
Judge = Callable[[str, int], tuple[str, str, str]]


def _unanswered(shard: ShardRecord, waiting: Mapping[str, tuple[int, int]]) -> Judge:
    status = shard.batch_status
    batch = shard.batch_id
    if status == "failed":
        errors: list[Mapping[str, Any]] = json.loads(shard.errors) if shard.errors else []
        by_line = {e.get("line"): e for e in errors if isinstance(e.get("line"), int)}
        general = next((e for e in errors if not isinstance(e.get("line"), int)), errors[0] if errors else {})
        # The batch's error lines count lines of the uploaded shard file, which holds the requests in line order.
        position = {line: number for number, line in enumerate(sorted(line for line, _ in waiting.values()), 1)}

        def failed(custom_id: str, line: int) -> tuple[str, str, str]:
            error = by_line.get(position[line], general)
            message, code = error.get("message"), error.get("code")
            code = code if isinstance(code, str) else "batch_failed"
            reason = message if isinstance(message, str) else "no reason given"
            return code, f"batch {batch} failed validation: {reason}", "failed"

        return failed
    if status == "cancelled" and shard.cancel_requested:

        def cancelled(custom_id: str, line: int) -> tuple[str, str, str]:
            return CANCELLED_CODE, "the job was cancelled before this request ran", "cancelled"

        return cancelled

    def missing(custom_id: str, line: int) -> tuple[str, str, str]:
        return NO_RESULT, f"batch {batch} ended {status} without a result for this request", "retry"

    return missing


def _result_lines(path: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(offset, length, parsed record) of each line of a result file; lines that are not JSON objects are skipped."""
    offset = 0
    with path.open("rb") as file:
        for number, raw in enumerate(breathing(file), start=1):
            content = raw.rstrip(b"\r\n")
            start, offset = offset, offset + len(raw)
            if not content.strip():
                continue
            try:
                record = json.loads(content)
            except (ValueError, RecursionError):
                logger.warning("%s line %d is not JSON; its request is treated as unanswered", path.name, number)
                continue
            if isinstance(record, dict):
                yield start, len(content), record
