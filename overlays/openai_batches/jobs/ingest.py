"""Reading a job's input once: every request checked as the service would, indexed in the store, never kept whole.

A JSONL path is read line by line while it is hashed; an iterable of requests is first spooled (encoded as
`BatchInput` would) into the job's folder, then read the same way. Per request the store gets its line number,
custom_id, byte offset and length, a digest of those bytes (checked again before they are sent, see
`input_check`), estimated input tokens, embedding inputs, model and the bound on its output tokens it states
(for a cost budget, see `budget`); the body stays in the file.
Duplicate custom_ids are found by the store's unique index, so memory does not grow with the number of requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..batch_input import (
    DEFAULT_LIMITS,
    BatchInputError,
    BatchRequest,
    _check_fields,
    _embedding_inputs,
    _iterable,
    _model_of,
    _prepare,
    check_endpoint,
)
from ._breathing import breathe
from .budget import output_bound
from .crash import crash_point
from .provider_rules import LineCheck
from .store import DuplicateCustomId, JobStore, RequestRow
from .tokens import TokenEstimator

CHUNK_ROWS = 5000
READ_CHUNK = 1024 * 1024


def line_digest(content: bytes) -> int:
    """A request's bytes as a 64-bit BLAKE2b, signed so that SQLite stores it as an INTEGER.

    Kept per request so that a shard's bytes can be checked as they are copied, without hashing the whole input.
    """
    return int.from_bytes(hashlib.blake2b(content, digest_size=8).digest(), "little", signed=True)


def hash_file(path: Path) -> tuple[str, int]:
    """The SHA-256 of a file and its size, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(READ_CHUNK):
            breathe()
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@contextlib.contextmanager
def spooled(requests: Iterable[Any], endpoint: str | None, folder: Path) -> Iterator[tuple[Path, str, str | None]]:
    """Requests written as JSONL to a temporary file in `folder`: (path, sha256, endpoint of the first request).

    Each request is checked as `BatchInput.add` checks it (BatchInputError names its position). The file is removed
    on leaving unless the caller moved it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".input-{secrets.token_hex(8)}.tmp"
    digest = hashlib.sha256()
    target = endpoint
    try:
        with temp.open("wb") as out:
            for number, request in enumerate(_iterable(requests), start=1):
                if target is None:
                    url = request.url if isinstance(request, BatchRequest) else _url_of(request)
                    target = url if isinstance(url, str) and url else None
                line = _prepare(request, number, target or "")
                out.write(line.data)
                digest.update(line.data)
            out.flush()
            os.fsync(out.fileno())
        yield temp, digest.hexdigest(), target
    finally:
        temp.unlink(missing_ok=True)


def _url_of(request: object) -> object:
    return request.get("url") if isinstance(request, Mapping) else None


class Scan:
    """One pass over a JSONL file: the request rows for the store, and the totals once the pass is done."""

    def __init__(
        self,
        path: Path,
        endpoint: str | None,
        estimator: TokenEstimator,
        model_id: Callable[[str], int],
        *,
        token_limit: int | Callable[[str], int | None] | None,
        shown_path: Path | None,
        line_check: LineCheck | None = None,
    ) -> None:
        self.path = path
        self.line_check = line_check
        self.endpoint = None if endpoint is None else check_endpoint(endpoint)
        self.estimator = estimator
        self.model_id = model_id
        self.token_limit = token_limit
        self.shown = shown_path
        self.digest = hashlib.sha256()
        self.size = 0
        self.requests = 0
        self.tokens = 0
        self._models: dict[str, int] = {}

    def rows(self) -> Iterator[RequestRow]:
        limits = DEFAULT_LIMITS
        with self.path.open("rb") as file:
            number = 0
            while True:
                offset = self.size
                # A line longer than one batch may hold is refused without reading it whole.
                raw = file.readline(limits.max_bytes + 1)
                if not raw:
                    return
                breathe()
                number += 1
                self.size += len(raw)
                self.digest.update(raw)
                if len(raw) > limits.max_bytes:
                    raise self._error("too_large", f"the line is longer than {limits.max_bytes:,} bytes", number)
                if raw.isspace():
                    continue
                content = raw.rstrip(b"\r\n")
                yield self._row(content, number, offset)

    def _row(self, content: bytes, number: int, offset: int) -> RequestRow:
        parsed = self._parse(content, number)
        if self.line_check is not None:
            parsed = self.line_check(parsed, number, self.shown)
        if self.endpoint is None and isinstance(parsed, dict) and isinstance(parsed.get("url"), str):
            self.endpoint = check_endpoint(parsed["url"])
        request = BatchRequest._build(parsed, number, self.shown)
        _check_fields(request, number, self.endpoint, self.shown)
        body = request.body
        inputs = _embedding_inputs(body) if request.url == "/v1/embeddings" else 0
        if inputs > DEFAULT_LIMITS.max_embedding_inputs:
            raise self._error(
                "too_many_embedding_inputs",
                f"the request has {inputs:,} embedding inputs; one batch holds at most "
                f"{DEFAULT_LIMITS.max_embedding_inputs:,}",
                number,
                request.custom_id,
            )
        tokens = int(self.estimator(request.url, body))
        model = _model_of(body) or ""
        limit = self.token_limit(model) if callable(self.token_limit) else self.token_limit
        if limit is not None and tokens > limit:
            of = f" for {model}" if callable(self.token_limit) else ""
            raise self._error(
                "too_many_tokens",
                f"the request alone is estimated at {tokens:,} input tokens, more than enqueued_token_limit{of} "
                f"({limit:,}): no batch could hold it",
                number,
                request.custom_id,
            )
        model_id = self._models.get(model)
        if model_id is None:
            model_id = self._models[model] = self.model_id(model)
        self.requests += 1
        self.tokens += tokens
        bound = output_bound(request.url, body)
        return (number, request.custom_id, offset, len(content), tokens, inputs, model_id, line_digest(content), bound)

    def _parse(self, content: bytes, number: int) -> object:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as error:
            raise self._error("invalid_json", f"not valid UTF-8 (byte {error.start + 1} of the line)", number) from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise self._error("invalid_json", f"not valid JSON: {error.msg} (column {error.colno})", number) from None
        except (ValueError, RecursionError) as error:
            raise self._error("invalid_json", f"not valid JSON: {error}", number) from None

    def _error(self, reason: str, message: str, number: int, custom_id: str | None = None) -> BatchInputError:
        return BatchInputError(reason, message, line=number, custom_id=custom_id, path=self.shown)


def store_requests(store: JobStore, job: int, scan: Scan) -> None:
    """Write every row of the scan into the store, in chunks (the caller holds the transaction)."""
    chunk: list[RequestRow] = []
    half_way_crash = True
    for row in scan.rows():
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            _add(store, job, chunk, scan)
            chunk = []
            if half_way_crash:
                half_way_crash = False
                crash_point("ingest")
    if chunk:
        _add(store, job, chunk, scan)


def _add(store: JobStore, job: int, rows: list[RequestRow], scan: Scan) -> None:
    try:
        store.add_requests(job, rows)
    except DuplicateCustomId as duplicate:
        raise BatchInputError(
            "duplicate_custom_id",
            f"custom_id {duplicate.custom_id!r} is already used on line {duplicate.first_line}; "
            "custom_ids must be unique in a job",
            line=duplicate.line,
            custom_id=duplicate.custom_id,
            path=scan.shown,
        ) from None
