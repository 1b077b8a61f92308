"""The job store: the interface the runner writes through, and its SQLite implementation.

Everything a runner decides is written here before and after each request to the service, one transaction per
step, so a process killed at any instant leaves a state another process can resume from. The runner sees only the
`JobStore` protocol: a shared database (Postgres, say) can back jobs later without touching the runner.

`SQLiteJobStore` keeps one database per state directory (`jobs.sqlite3`) in WAL mode: readers (`job status` in
another terminal) never block the runner, and a killed process loses at most the transaction it had open, which
SQLite rolls back. Requests are rows of numbers (line, byte offset and length in the input, estimated tokens,
outcome, where the result line is); bodies stay in the input file, so the database grows by about a hundred bytes
per request whatever the requests hold.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from ._breathing import breathe, breathing
from .records import (
    FINAL,
    PENDING,
    QUEUED,
    BatchRecord,
    BudgetRecord,
    JobRecord,
    Lease,
    ModelUsage,
    Outcome,
    ResultRow,
    ShardRecord,
    ShardState,
    check_transition,
)
from .settings import STATE_DB

__all__ = ["DuplicateCustomId", "JobStore", "SQLiteJobStore", "open_store"]

_R = TypeVar("_R")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    input_path TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    input_bytes INTEGER NOT NULL,
    spooled INTEGER NOT NULL,
    base_url TEXT NOT NULL,
    account TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    max_in_flight INTEGER NOT NULL,
    enqueued_token_limit INTEGER,
    max_batch_requests INTEGER,
    token_estimator TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    estimated_tokens INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    finished_at REAL,
    lease_holder TEXT,
    lease_pid INTEGER,
    lease_host TEXT,
    lease_heartbeat REAL,
    lease_epoch INTEGER NOT NULL DEFAULT 0,
    lease_ttl REAL,
    lease_contested INTEGER NOT NULL DEFAULT 0,
    input_mtime_ns INTEGER NOT NULL DEFAULT 0,
    input_inode INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS models (
    job INTEGER NOT NULL,
    id INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (job, id)
);
CREATE TABLE IF NOT EXISTS requests (
    job INTEGER NOT NULL,
    line INTEGER NOT NULL,
    custom_id TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    inputs INTEGER NOT NULL,
    model INTEGER NOT NULL,
    -- The line's bytes as indexed (offset, length), as a 64-bit BLAKE2b: checked before they are sent.
    digest INTEGER,
    state INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    shard INTEGER,
    outcome TEXT,
    result_file INTEGER,
    result_offset INTEGER,
    result_length INTEGER,
    error_code TEXT,
    error_message TEXT,
    PRIMARY KEY (job, line)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS requests_by_custom_id ON requests (job, custom_id);
-- Partial indexes: they hold only the requests still moving, so they shrink as a job finishes.
CREATE INDEX IF NOT EXISTS requests_unplanned ON requests (job, attempts, model, line) WHERE state = 0;
CREATE INDEX IF NOT EXISTS requests_in_shard ON requests (job, shard, line) WHERE state = 1;
CREATE TABLE IF NOT EXISTS shards (
    job INTEGER NOT NULL,
    id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    model INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    state TEXT NOT NULL,
    submission INTEGER NOT NULL,
    filename TEXT,
    file_id TEXT,
    input_deleted INTEGER NOT NULL,
    intent_at REAL,
    tokens_ahead INTEGER NOT NULL,
    batch_id TEXT,
    batch_status TEXT,
    cancel_requested INTEGER NOT NULL,
    wait_ended INTEGER NOT NULL,
    wait_until REAL,
    output_file_id TEXT,
    error_file_id TEXT,
    errors TEXT,
    input_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (job, id)
);
CREATE INDEX IF NOT EXISTS shards_active ON shards (job, id) WHERE state != 'done';
CREATE TABLE IF NOT EXISTS batches (
    job INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    submission INTEGER NOT NULL,
    model INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    output_file_id TEXT,
    error_file_id TEXT,
    input_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (job, batch_id)
);
CREATE TABLE IF NOT EXISTS budgets (
    job INTEGER NOT NULL,
    model INTEGER NOT NULL,
    budget INTEGER,
    refusals INTEGER NOT NULL,
    ended INTEGER NOT NULL,
    PRIMARY KEY (job, model)
);
CREATE TABLE IF NOT EXISTS result_files (
    job INTEGER NOT NULL,
    id INTEGER NOT NULL,
    batch_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (job, id)
);
"""

# Columns added since the first release: a state directory written by an older version gets them on open.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "lease_epoch", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "lease_ttl", "REAL"),
    ("jobs", "lease_contested", "INTEGER NOT NULL DEFAULT 0"),
    # A job read by an older version has no digests (NULL) and no stat (0): its input is hashed whole instead.
    ("jobs", "input_mtime_ns", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "input_inode", "INTEGER NOT NULL DEFAULT 0"),
    ("requests", "digest", "INTEGER"),
    # The HTTP status and error code (the error's code, else its type) of the result line the request keeps (NULL:
    # none, or recorded by an older version): the report groups failures by them in SQL. error_code says why a
    # request has no line; these describe the line it has.
    ("requests", "status_code", "INTEGER"),
    ("requests", "answer_code", "TEXT"),
    # The batch's timeline and request counts as the service reported them (NULL: not seen yet, or an older
    # version), for the report: a batch recorded before these existed draws from created to now.
    ("batches", "in_progress_at", "REAL"),
    ("batches", "finalizing_at", "REAL"),
    ("batches", "ended_at", "REAL"),
    ("batches", "requests_total", "INTEGER NOT NULL DEFAULT 0"),
    ("batches", "requests_completed", "INTEGER NOT NULL DEFAULT 0"),
    ("batches", "requests_failed", "INTEGER NOT NULL DEFAULT 0"),
    # The cost budget (NULL: none) and the caller's prices it is counted at; per request the bound on its output
    # tokens it states (NULL: none, or read by an older version); per shard their sum and how many state none.
    ("jobs", "max_cost", "REAL"),
    ("jobs", "prices", "TEXT"),
    ("requests", "max_output", "INTEGER"),
    ("shards", "max_output", "INTEGER NOT NULL DEFAULT 0"),
    ("shards", "unbounded", "INTEGER NOT NULL DEFAULT 0"),
    # The service the job runs on (provider_rules.py): its limits cut the shards. Jobs of older versions ran on
    # OpenAI's rules.
    ("jobs", "provider", "TEXT NOT NULL DEFAULT 'openai'"),
    # Per model token limits (JSON; NULL: enqueued_token_limit applies to every model).
    ("jobs", "token_limits", "TEXT"),
)

# One request row as ingestion writes it: line, custom_id, offset, length, tokens, embedding inputs, model id,
# digest of the line's bytes, bound on its output tokens (None: it states none).
RequestRow = tuple[int, str, int, int, int, int, int, int, int | None]
# Where a request is in the input and what its bytes were: line, offset, length, digest (None: not recorded).
InputLine = tuple[int, int, int, int | None]
# One request as planning reads it: line, length, tokens, embedding inputs, output bound (None: none stated).
PlanRow = tuple[int, int, int, int, int | None]
# One request as an estimate counts it: model id, length, tokens, embedding inputs, output bound (None: none stated).
SizeRow = tuple[int, int, int, int, int | None]
# One request of a shard: line, custom_id, offset, length, attempts, whether an earlier attempt left a result.
ShardLine = tuple[int, str, int, int, int, int]

_FETCH = 2000


class LeaseLost(Exception):
    """A fenced write found the job held by another runner (or by this holder under an older epoch)."""

    def __init__(self, current: Lease | None) -> None:
        super().__init__("the job's lease is held by another runner")
        self.current = current


class ShardChanged(Exception):
    """A shard's row was not in the state the writer last read: someone else changed it."""


class DuplicateCustomId(Exception):
    """Two requests of a job share a custom_id (the store's unique index found it)."""

    def __init__(self, custom_id: str, line: int, first_line: int) -> None:
        super().__init__(custom_id)
        self.custom_id = custom_id
        self.line = line
        self.first_line = first_line


class JobStore(Protocol):
    """What the runner, planner and merger need from a store. Every method is atomic on its own; `transaction()`
    groups several into one (nested uses join the outer one)."""

    def close(self) -> None: ...
    def transaction(self) -> contextlib.AbstractContextManager[None]: ...

    # jobs
    def insert_job(self, record: JobRecord) -> JobRecord: ...
    def get_job(self, name: str) -> JobRecord | None: ...
    def list_jobs(self) -> list[JobRecord]: ...
    def update_job(self, job: int, changes: Mapping[str, Any]) -> None: ...
    def add_counts(self, job: int, counts: Mapping[str, int]) -> None: ...
    def delete_job(self, job: int) -> None: ...
    def sibling(self) -> JobStore: ...
    def acquire_lease(self, job: int, lease: Lease, *, is_gone: Callable[[Lease], bool]) -> Lease: ...
    def renew_lease(self, job: int, lease: Lease, heartbeat: float) -> bool: ...
    def release_lease(self, job: int, lease: Lease) -> None: ...
    def fenced(self, job: int, lease: Lease) -> contextlib.AbstractContextManager[None]: ...
    def set_job_status(self, job: int, before: str, after: str, finished_at: float | None = None) -> bool: ...

    # requests
    def model_id(self, job: int, name: str) -> int: ...
    def models(self, job: int) -> dict[int, str]: ...
    def add_requests(self, job: int, rows: Sequence[RequestRow]) -> None: ...
    def next_unplanned(self, job: int, limit: int) -> tuple[int, int, list[PlanRow]] | None: ...
    def shard_lines(self, job: int, shard: int) -> Iterator[ShardLine]: ...
    def input_lines(self, job: int) -> Iterator[InputLine]: ...
    def request_sizes(self, job: int) -> Iterator[SizeRow]: ...
    def shard_input(self, job: int, shard: int) -> Iterator[InputLine]: ...
    def refresh_input_stat(self, job: int, mtime_ns: int, inode: int) -> None: ...
    def set_outcomes(self, job: int, outcomes: Iterable[Outcome]) -> None: ...
    def finish_waiting(self, job: int, shard: int | None, outcome: str, code: str, message: str) -> dict[str, int]: ...
    def results(self, job: int) -> Iterator[ResultRow]: ...
    def placed_results(self, job: int) -> Iterator[tuple[ResultRow, int, int | None]]: ...
    def attempt_counts(self, job: int) -> dict[int, int]: ...

    # shards, batches, budgets, result files
    def add_shard(self, record: ShardRecord, lines: Sequence[int]) -> ShardRecord: ...
    def next_shard_id(self, job: int) -> int: ...
    def active_shards(self, job: int) -> list[ShardRecord]: ...
    def shard(self, job: int, shard: int) -> ShardRecord | None: ...
    def save_shard(self, before: ShardRecord, after: ShardRecord) -> None: ...
    def has_pending(self, job: int) -> bool: ...
    def known_remote_ids(self, job: int) -> tuple[frozenset[str], frozenset[str]]: ...
    def add_batch(self, record: BatchRecord) -> None: ...
    def update_batch(self, job: int, batch_id: str, changes: Mapping[str, Any]) -> None: ...
    def batches(self, job: int) -> list[BatchRecord]: ...
    def budgets(self, job: int) -> dict[int, BudgetRecord]: ...
    def usage(self, job: int) -> dict[int, ModelUsage]: ...
    def update_budget(self, job: int, model: int, changes: Mapping[str, Any]) -> None: ...
    def add_result_file(self, job: int, batch_id: str, kind: str, path: str) -> int: ...
    def result_files(self, job: int) -> dict[int, str]: ...
    def batch_result_files(self, job: int, batch_id: str) -> list[tuple[int, str]]: ...

    # reports
    def aggregate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]: ...


def open_store(state_dir: Path) -> SQLiteJobStore:
    state_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteJobStore(state_dir / STATE_DB)


class SQLiteJobStore:
    """`JobStore` on one SQLite file, in WAL mode with synchronous=FULL.

    WAL with NORMAL survives a killed process but not a power cut: the last commits may be in a WAL that was never
    synced. A record of a side effect on the service (an upload or a batch made, a merge counted) must outlive
    both, so every commit is synced before it returns.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._depth = 0
        # isolation_level=None: transactions are exactly the ones `transaction()` opens.
        # Two runs of different jobs share the database: one waits while the other commits (reading a big input
        # is one transaction of several seconds per million requests).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=120)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
        self._add_columns()

    def _add_columns(self) -> None:
        with self.transaction():
            for table, column, declaration in _ADDED_COLUMNS:
                present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def sibling(self) -> SQLiteJobStore:
        """A second connection to the same database, for another thread (a connection serves one at a time)."""
        return SQLiteJobStore(self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SQLiteJobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._depth += 1
        try:
            if self._depth == 1:
                # IMMEDIATE takes the write lock up front: two processes never both read, then both write.
                self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self._depth == 1 and self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            if self._depth == 1:
                try:
                    self._db.execute("COMMIT")
                except BaseException:
                    # A commit that failed (a full disk, an I/O error) leaves the transaction open: closed here, so
                    # that the connection's next transaction can begin.
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
        finally:
            self._depth -= 1

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        cursor = self._db.execute(sql, tuple(params))
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.transaction():
            return self._db.execute(sql, tuple(params)).rowcount

    def _update(self, table: str, record_type: type[Any], keys: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        if not changes:
            return
        unknown = set(changes) - {field.name for field in dataclasses.fields(record_type)}
        if unknown:
            raise ValueError(f"unknown {table} fields: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in changes)
        where = " AND ".join(f"{name} = ?" for name in keys)
        values = [_column(value) for value in changes.values()]
        self._write(f"UPDATE {table} SET {assignments} WHERE {where}", [*values, *keys.values()])

    def _insert(self, table: str, record: Any, skip: Iterable[str] = ()) -> int:
        row = {name: _column(value) for name, value in dataclasses.asdict(record).items() if name not in set(skip)}
        sql = f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        with self.transaction():
            cursor = self._db.execute(sql, tuple(row.values()))
            return int(cursor.lastrowid or 0)

    # --- jobs ---

    def insert_job(self, record: JobRecord) -> JobRecord:
        job_id = self._insert("jobs", record, skip=("id",))
        return dataclasses.replace(record, id=job_id)

    def get_job(self, name: str) -> JobRecord | None:
        rows = self._rows("SELECT * FROM jobs WHERE name = ?", (name,))
        return _record(JobRecord, rows[0]) if rows else None

    def list_jobs(self) -> list[JobRecord]:
        return [_record(JobRecord, row) for row in self._rows("SELECT * FROM jobs ORDER BY created_at, id")]

    def update_job(self, job: int, changes: Mapping[str, Any]) -> None:
        self._update("jobs", JobRecord, {"id": job}, changes)

    def add_counts(self, job: int, counts: Mapping[str, int]) -> None:
        allowed = {"succeeded", "failed", "missing", "cancelled"}
        if set(counts) - allowed:
            raise ValueError(f"unknown counters: {sorted(set(counts) - allowed)}")
        if counts:
            assignments = ", ".join(f"{name} = {name} + ?" for name in counts)
            self._write(f"UPDATE jobs SET {assignments} WHERE id = ?", [*counts.values(), job])

    def delete_job(self, job: int) -> None:
        with self.transaction():
            for table in ("requests", "shards", "batches", "budgets", "result_files", "models"):
                self._db.execute(f"DELETE FROM {table} WHERE job = ?", (job,))
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job,))

    def acquire_lease(self, job: int, lease: Lease, *, is_gone: Callable[[Lease], bool]) -> Lease:
        """Take the job for `lease.holder` unless another live holder has it: the lease now on record (ours, with
        its new epoch, or the other holder's, and then nothing changed).

        A holder's lease lapses when its heartbeat is older than the time-to-live it promised; a holder that is
        gone (`is_gone`: its process exited) frees the job at once. A takeover from a lapsed holder that may still
        be alive marks the job contested: what that holder sends after waking up is for the new one to clean up.
        """
        with self.transaction():
            rows = self._rows(
                "SELECT lease_holder, lease_pid, lease_host, lease_heartbeat, lease_epoch, lease_ttl, lease_contested"
                " FROM jobs WHERE id = ?",
                (job,),
            )
            if not rows:
                raise LookupError(job)
            row = rows[0]
            contested = bool(row["lease_contested"])
            if row["lease_holder"] is not None and row["lease_holder"] != lease.holder:
                current = Lease(
                    row["lease_holder"],
                    row["lease_pid"],
                    row["lease_host"],
                    row["lease_heartbeat"],
                    row["lease_epoch"],
                    row["lease_ttl"],
                )
                ttl = current.ttl if current.ttl is not None else lease.ttl or 0.0
                if not is_gone(current):
                    if lease.heartbeat - current.heartbeat < ttl:
                        return current
                    contested = True
            epoch = int(row["lease_epoch"]) + 1
            self._db.execute(
                "UPDATE jobs SET lease_holder = ?, lease_pid = ?, lease_host = ?, lease_heartbeat = ?,"
                " lease_epoch = ?, lease_ttl = ?, lease_contested = ? WHERE id = ?",
                (lease.holder, lease.pid, lease.host, lease.heartbeat, epoch, lease.ttl, int(contested), job),
            )
        return dataclasses.replace(lease, epoch=epoch)

    def renew_lease(self, job: int, lease: Lease, heartbeat: float) -> bool:
        """False when the lease is no longer this holder's: another runner took the job over."""
        return (
            self._write(
                "UPDATE jobs SET lease_heartbeat = ? WHERE id = ? AND lease_holder = ? AND lease_epoch = ?",
                (heartbeat, job, lease.holder, lease.epoch),
            )
            == 1
        )

    def release_lease(self, job: int, lease: Lease) -> None:
        self._write(
            "UPDATE jobs SET lease_holder = NULL, lease_pid = NULL, lease_host = NULL, lease_heartbeat = NULL"
            " WHERE id = ? AND lease_holder = ? AND lease_epoch = ?",
            (job, lease.holder, lease.epoch),
        )

    @contextlib.contextmanager
    def fenced(self, job: int, lease: Lease) -> Iterator[None]:
        """A transaction that commits only while `lease` is the job's: the check and the writes are one unit, so a
        runner that lost the job (paused past its lease, then continued) writes nothing."""
        with self.transaction():
            rows = self._rows(
                "SELECT lease_holder, lease_pid, lease_host, lease_heartbeat, lease_epoch, lease_ttl FROM jobs"
                " WHERE id = ?",
                (job,),
            )
            if not rows or rows[0]["lease_holder"] != lease.holder or rows[0]["lease_epoch"] != lease.epoch:
                row = rows[0] if rows else None
                current = (
                    Lease(row[0], row[1], row[2], row[3], row[4], row[5])
                    if row is not None and row[0] is not None
                    else None
                )
                raise LeaseLost(current)
            yield

    def set_job_status(self, job: int, before: str, after: str, finished_at: float | None = None) -> bool:
        """Move the job from `before` to `after`; False (nothing changed) when it was no longer `before`."""
        return (
            self._write(
                "UPDATE jobs SET status = ?, finished_at = COALESCE(?, finished_at) WHERE id = ? AND status = ?",
                (after, finished_at, job, before),
            )
            == 1
        )

    # --- requests ---

    def model_id(self, job: int, name: str) -> int:
        with self.transaction():
            rows = self._rows("SELECT id FROM models WHERE job = ? AND name = ?", (job, name))
            if rows:
                return int(rows[0]["id"])
            next_id = self._rows("SELECT COALESCE(MAX(id), -1) + 1 AS id FROM models WHERE job = ?", (job,))[0]["id"]
            self._db.execute("INSERT INTO models (job, id, name) VALUES (?, ?, ?)", (job, next_id, name))
            return int(next_id)

    def models(self, job: int) -> dict[int, str]:
        return {row["id"]: row["name"] for row in self._rows("SELECT id, name FROM models WHERE job = ?", (job,))}

    def add_requests(self, job: int, rows: Sequence[RequestRow]) -> None:
        with self.transaction():
            try:
                self._db.executemany(
                    "INSERT INTO requests (job, line, custom_id, offset, length, tokens, inputs, model, digest,"
                    " max_output) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(job, *row) for row in breathing(rows)],
                )
            except sqlite3.IntegrityError:
                raise self._duplicate(job, rows) from None

    def _duplicate(self, job: int, rows: Sequence[RequestRow]) -> DuplicateCustomId:
        for line, custom_id, *_ in rows:
            found = self._rows(
                "SELECT line FROM requests WHERE job = ? AND custom_id = ? AND line != ?", (job, custom_id, line)
            )
            if found:
                return DuplicateCustomId(custom_id, line, int(found[0]["line"]))
        raise RuntimeError("the store refused requests for a reason other than a repeated custom_id")

    def next_unplanned(self, job: int, limit: int) -> tuple[int, int, list[PlanRow]] | None:
        """The first `limit` waiting requests of the lowest attempt and model group, in input order."""
        head = self._db.execute(
            "SELECT attempts, model FROM requests WHERE job = ? AND state = 0 ORDER BY attempts, model, line LIMIT 1",
            (job,),
        ).fetchone()
        if head is None:
            return None
        attempts, model = head
        rows = self._db.execute(
            "SELECT line, length, tokens, inputs, max_output FROM requests"
            " WHERE job = ? AND state = 0 AND attempts = ? AND model = ? ORDER BY line LIMIT ?",
            (job, attempts, model, limit),
        ).fetchall()
        return int(attempts), int(model), rows

    def shard_lines(self, job: int, shard: int) -> Iterator[ShardLine]:
        cursor = self._db.execute(
            "SELECT line, custom_id, offset, length, attempts, result_file IS NOT NULL FROM requests"
            " WHERE job = ? AND shard = ? AND state = 1 ORDER BY line",
            (job, shard),
        )
        return _fetched(cursor)

    def request_sizes(self, job: int) -> Iterator[SizeRow]:
        """Every request of the job in line order, whatever its state, as `job.estimate()` counts it."""
        cursor = self._db.execute(
            "SELECT model, length, tokens, inputs, max_output FROM requests WHERE job = ? ORDER BY line", (job,)
        )
        return _fetched(cursor)

    def input_lines(self, job: int) -> Iterator[InputLine]:
        """Every request of the job in line order, whatever its state: what the whole input is checked against."""
        cursor = self._db.execute(
            "SELECT line, offset, length, digest FROM requests WHERE job = ? ORDER BY line", (job,)
        )
        return _fetched(cursor)

    def shard_input(self, job: int, shard: int) -> Iterator[InputLine]:
        """The requests of a shard as `shard_lines` gives them, with the digest each is checked against."""
        cursor = self._db.execute(
            "SELECT line, offset, length, digest FROM requests WHERE job = ? AND shard = ? AND state = 1 ORDER BY line",
            (job, shard),
        )
        return _fetched(cursor)

    def refresh_input_stat(self, job: int, mtime_ns: int, inode: int) -> None:
        """Record the input's new mtime and inode once its content was found identical (touched, or copied back):
        later checks trust the stat again instead of hashing the whole file each time."""
        self._write("UPDATE jobs SET input_mtime_ns = ?, input_inode = ? WHERE id = ?", (mtime_ns, inode, job))

    def set_outcomes(self, job: int, outcomes: Iterable[Outcome]) -> None:
        """Apply a merge's verdicts; a verdict without a result line keeps the one an earlier attempt left."""
        sql = (
            "UPDATE requests SET state = ?, outcome = ?, attempts = ?, result_file = COALESCE(?, result_file),"
            " result_offset = COALESCE(?, result_offset), result_length = COALESCE(?, result_length),"
            " error_code = ?, error_message = ?,"
            " status_code = CASE WHEN ? IS NULL THEN status_code ELSE ? END,"
            " answer_code = CASE WHEN ? IS NULL THEN answer_code ELSE ? END WHERE job = ? AND line = ?"
        )
        with self.transaction():
            self._db.executemany(
                sql,
                (
                    (
                        o.state,
                        o.outcome,
                        o.attempts,
                        o.result_file,
                        o.result_offset,
                        o.result_length,
                        o.error_code,
                        o.error_message,
                        o.result_file,
                        o.status_code,
                        o.result_file,
                        o.answer_code,
                        job,
                        o.line,
                    )
                    for o in breathing(outcomes)
                ),
            )

    def finish_waiting(self, job: int, shard: int | None, outcome: str, code: str, message: str) -> dict[str, int]:
        """Make final the requests that wait (all unplanned ones, or those of one shard), as the job stops.

        A request that already has a result from an earlier attempt keeps it and ends `failed`; the others end with
        `outcome`. Returns the counts to add to the job.
        """
        where = "job = ? AND state = 0" if shard is None else "job = ? AND state = 1 AND shard = ?"
        params: tuple[Any, ...] = (job,) if shard is None else (job, shard)
        with self.transaction():
            counts = self._rows(
                f"SELECT result_file IS NOT NULL AS has_result, COUNT(*) AS n FROM requests WHERE {where}"
                " GROUP BY has_result",
                params,
            )
            self._db.execute(
                f"UPDATE requests SET state = {FINAL},"
                " outcome = CASE WHEN result_file IS NULL THEN ? ELSE 'failed' END,"
                " error_code = CASE WHEN result_file IS NULL THEN ? ELSE error_code END,"
                f" error_message = CASE WHEN result_file IS NULL THEN ? ELSE error_message END WHERE {where}",
                (outcome, code, message, *params),
            )
        result: dict[str, int] = {}
        for row in counts:
            key = "failed" if row["has_result"] else outcome
            result[key] = result.get(key, 0) + int(row["n"])
        return result

    def results(self, job: int) -> Iterator[ResultRow]:
        cursor = self._db.execute(
            "SELECT line, custom_id, state, outcome, attempts, result_file, result_offset, result_length, error_code,"
            " error_message FROM requests WHERE job = ? ORDER BY line",
            (job,),
        )
        return (ResultRow(*row) for row in _fetched(cursor))

    def placed_results(self, job: int) -> Iterator[tuple[ResultRow, int, int | None]]:
        """`results` with each request's model id and last shard (None: never planned), for the results tables."""
        cursor = self._db.execute(
            "SELECT line, custom_id, state, outcome, attempts, result_file, result_offset, result_length, error_code,"
            " error_message, model, shard FROM requests WHERE job = ? ORDER BY line",
            (job,),
        )
        return ((ResultRow(*row[:10]), row[10], row[11]) for row in _fetched(cursor))

    def attempt_counts(self, job: int) -> dict[int, int]:
        rows = self._db.execute(
            "SELECT attempts, COUNT(*) FROM requests WHERE job = ? GROUP BY attempts", (job,)
        ).fetchall()
        return {int(attempts): int(count) for attempts, count in rows}

    # --- shards ---

    def next_shard_id(self, job: int) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM shards WHERE job = ?", (job,)).fetchone()
        return int(row[0])

    def add_shard(self, record: ShardRecord, lines: Sequence[int]) -> ShardRecord:
        with self.transaction():
            self._insert("shards", record)
            self._db.executemany(
                f"UPDATE requests SET state = {QUEUED}, shard = ? WHERE job = ? AND line = ? AND state = {PENDING}",
                ((record.id, record.job, line) for line in breathing(lines)),
            )
        return record

    def active_shards(self, job: int) -> list[ShardRecord]:
        rows = self._rows("SELECT * FROM shards WHERE job = ? AND state != ? ORDER BY id", (job, ShardState.DONE))
        return [_record(ShardRecord, row) for row in rows]

    def shard(self, job: int, shard: int) -> ShardRecord | None:
        rows = self._rows("SELECT * FROM shards WHERE job = ? AND id = ?", (job, shard))
        return _record(ShardRecord, rows[0]) if rows else None

    def save_shard(self, before: ShardRecord, after: ShardRecord) -> None:
        """Write what changed from `before` to `after`, only if the row is still `before`'s state (else
        `ShardChanged`); a change the transition table does not allow raises before anything is written."""
        if (before.job, before.id) != (after.job, after.id):
            raise ValueError(f"shard {before.id} of job {before.job} cannot become shard {after.id} of {after.job}")
        check_transition(before.id, before.state, after.state)
        changes = {
            field.name: _column(getattr(after, field.name))
            for field in dataclasses.fields(ShardRecord)
            if getattr(after, field.name) != getattr(before, field.name)
        }
        if not changes:
            return
        assignments = ", ".join(f"{name} = ?" for name in changes)
        count = self._write(
            f"UPDATE shards SET {assignments} WHERE job = ? AND id = ? AND state = ?",
            [*changes.values(), before.job, before.id, before.state.value],
        )
        if count != 1:
            raise ShardChanged(f"shard {before.id} of job {before.job} is no longer {before.state.value}")

    def has_pending(self, job: int) -> bool:
        row = self._db.execute(f"SELECT 1 FROM requests WHERE job = ? AND state = {PENDING} LIMIT 1", (job,))
        return row.fetchone() is not None

    def known_remote_ids(self, job: int) -> tuple[frozenset[str], frozenset[str]]:
        """Every batch id and upload id the job ever recorded: what a reconcile must never cancel or delete."""
        batches = {row[0] for row in self._db.execute("SELECT batch_id FROM batches WHERE job = ?", (job,))}
        batches |= {
            row[0]
            for row in self._db.execute("SELECT batch_id FROM shards WHERE job = ? AND batch_id IS NOT NULL", (job,))
        }
        files = {
            row[0]
            for row in self._db.execute("SELECT file_id FROM shards WHERE job = ? AND file_id IS NOT NULL", (job,))
        }
        return frozenset(batches), frozenset(files)

    # --- batches, budgets, result files ---

    def add_batch(self, record: BatchRecord) -> None:
        row = {name: _column(value) for name, value in dataclasses.asdict(record).items()}
        self._write(
            f"INSERT OR IGNORE INTO batches ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )

    def update_batch(self, job: int, batch_id: str, changes: Mapping[str, Any]) -> None:
        self._update("batches", BatchRecord, {"job": job, "batch_id": batch_id}, changes)

    def batches(self, job: int) -> list[BatchRecord]:
        rows = self._rows("SELECT * FROM batches WHERE job = ? ORDER BY created_at, shard", (job,))
        return [_record(BatchRecord, row) for row in rows]

    def budgets(self, job: int) -> dict[int, BudgetRecord]:
        rows = self._rows("SELECT * FROM budgets WHERE job = ?", (job,))
        return {row["model"]: _record(BudgetRecord, row) for row in rows}

    def usage(self, job: int) -> dict[int, ModelUsage]:
        """Per model, the tokens the job's batches used and, of its completed ones, their requests and output."""
        rows = self._db.execute(
            "SELECT b.model, SUM(b.input_tokens), SUM(b.cached_tokens), SUM(b.output_tokens),"
            " SUM(CASE WHEN b.status = 'completed' THEN s.requests ELSE 0 END),"
            " SUM(CASE WHEN b.status = 'completed' THEN b.output_tokens ELSE 0 END)"
            " FROM batches b LEFT JOIN shards s ON s.job = b.job AND s.id = b.shard WHERE b.job = ? GROUP BY b.model",
            (job,),
        ).fetchall()
        return {int(row[0]): ModelUsage(*(int(value or 0) for value in row)) for row in rows}

    def update_budget(self, job: int, model: int, changes: Mapping[str, Any]) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO budgets (job, model, budget, refusals, ended) VALUES (?, ?, NULL, 0, 0)",
                (job, model),
            )
            self._update("budgets", BudgetRecord, {"job": job, "model": model}, changes)

    def add_result_file(self, job: int, batch_id: str, kind: str, path: str) -> int:
        with self.transaction():
            next_id = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM result_files WHERE job = ?", (job,))
            file_id = int(next_id.fetchone()[0])
            self._db.execute(
                "INSERT INTO result_files (job, id, batch_id, kind, path) VALUES (?, ?, ?, ?, ?)",
                (job, file_id, batch_id, kind, path),
            )
        return file_id

    def result_files(self, job: int) -> dict[int, str]:
        return {row["id"]: row["path"] for row in self._rows("SELECT id, path FROM result_files WHERE job = ?", (job,))}

    def batch_result_files(self, job: int, batch_id: str) -> list[tuple[int, str]]:
        rows = self._rows(
            "SELECT id, path FROM result_files WHERE job = ? AND batch_id = ? ORDER BY id", (job, batch_id)
        )
        return [(int(row["id"]), str(row["path"])) for row in rows]

    # --- reports ---

    def aggregate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of one query (a report's GROUP BY), streamed in chunks: the report's SQL lives with the report,
        and a report of a million requests holds only what its queries return."""
        # SQLite itself says what the statement does, as it compiles it: only reading is allowed (a WITH clause in
        # front of a DELETE is still a DELETE).
        self._db.set_authorizer(_read_only)
        try:
            cursor = self._db.execute(sql, tuple(params))
        except sqlite3.DatabaseError as error:
            if "not authorized" in str(error):
                raise ValueError("aggregate() runs SELECT queries only") from None
            raise
        finally:
            self._db.set_authorizer(None)
        return _fetched(cursor)


# What a query may do as SQLite compiles it: read tables, call functions, recurse in a WITH (SQLITE_RECURSIVE, 33).
_READING: Final = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33})


def _read_only(action: int, *_names: str | None) -> int:
    return sqlite3.SQLITE_OK if action in _READING else sqlite3.SQLITE_DENY


def _column(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


def _record(record_type: type[_R], row: sqlite3.Row) -> _R:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record_type):  # type: ignore[arg-type]
        value = row[field.name]
        if field.type in ("bool", bool):
            value = bool(value)
        elif field.type in ("ShardState", ShardState):
            value = ShardState(value)
        values[field.name] = value
    return record_type(**values)


def _fetched(cursor: sqlite3.Cursor) -> Iterator[Any]:
    # fetchmany keeps a walk over a million rows in flat memory.
    while True:
        chunk = cursor.fetchmany(_FETCH)
        if not chunk:
            return
        breathe()
        yield from chunk
