"""A job's merged results, in input order, read from the store's index and the downloaded result files.

The store says, per request in input order, which downloaded file holds its latest result line and where; the line
is read from there (a few files stay open at a time), so memory stays flat however many requests the job holds.
A request with no line from the service gets one written here, in the same shape, with an `error` saying why.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from ..results import BatchResult, BatchResultError, parse_result_line
from .files import replacing
from .records import FINAL, JobRecord, ResultRow
from .store import JobStore

OPEN_FILES: Final = 16
PENDING_CODE: Final = "pending"


class _Files:
    """The downloaded result files, a few open at a time."""

    def __init__(self, paths: dict[int, str]) -> None:
        self._paths = paths
        self._open: OrderedDict[int, IO[bytes]] = OrderedDict()

    def read(self, number: int, offset: int, length: int) -> bytes:
        handle = self._open.pop(number, None)
        if handle is None:
            if len(self._open) >= OPEN_FILES:
                self._open.popitem(last=False)[1].close()
            handle = open(self._paths[number], "rb")  # noqa: SIM115 - kept open across calls, closed in close()
        self._open[number] = handle
        handle.seek(offset)
        return handle.read(length)

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()


def _synthetic(row: ResultRow) -> dict[str, Any]:
    if row.state != FINAL:
        code, message = PENDING_CODE, "no result yet: the job has not finished (run it to finish)"
    else:
        code = row.error_code or "no_result"
        message = row.error_message or "the service returned no result for this request"
    return {"id": None, "custom_id": row.custom_id, "response": None, "error": {"code": code, "message": message}}


def raw_results(store: JobStore, job: JobRecord) -> Iterator[tuple[ResultRow, bytes | None]]:
    """Each request in input order with its latest result line as the service wrote it (None: no line)."""
    files = _Files(store.result_files(job.id))
    try:
        for row in store.results(job.id):
            if row.result_file is not None and row.result_offset is not None and row.result_length is not None:
                yield row, files.read(row.result_file, row.result_offset, row.result_length)
            else:
                yield row, None
    finally:
        files.close()


def iter_results(store: JobStore, job: JobRecord) -> Iterator[BatchResult]:
    for row, line in raw_results(store, job):
        if line is not None:
            result = parse_result_line(line, row.line)
            if result is not None:
                yield result
                continue
        error = _synthetic(row)["error"]
        yield BatchResult(row.custom_id, None, None, BatchResultError(error["code"], error["message"]), None, None)


def write_results(store: JobStore, job: JobRecord, target: Path) -> int:
    written = 0
    with replacing(target) as out:
        for row, line in raw_results(store, job):
            if line is None:
                line = json.dumps(_synthetic(row), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            out.write(line)
            out.write(b"\n")
            written += 1
    return written
