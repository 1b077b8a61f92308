"""State under the data directory: SQLite for records, plain files for bytes.

    DIR/state.sqlite3            files, batches, idempotency keys
    DIR/files/<file id>          uploaded bytes
    DIR/batches/<batch id>/      a batch's output.jsonl and errors.jsonl, appended while it runs
    DIR/tmp/                     uploads still arriving (emptied at start)
    DIR/space-reserve            room given up when the disk is full, so that deleting files still works

One connection behind one re-entrant lock: every statement is short (bytes never pass through SQLite), so
serialising them costs nothing measurable and rules out "database is locked" under the threaded HTTP server.
WAL with synchronous=NORMAL survives a killed process, which is the failure a development server meets.

Listings read only the rows they show: each page is one keyset query on a partial index of the files still present
(`after` becomes `seq < ?` or `seq > ?`), so a page costs the same with a thousand files or a million, and the File
objects are built inside SQLite. Endpoints run on the event loop; a listing that grew with the table would stall
every other request.

A full disk: removing a file frees its bytes first and records that second, and a write that records freed space may
fold SQLite's log back into the database and give up the space reserve to find room (`disk_space`). A removal whose
row still cannot be written is remembered and hidden until it can; a removal cut short by a stop is found at the next
start, by the file's bytes being gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .disk_space import SpaceReserve, free_bytes, is_disk_full
from .records import FILE_OBJECT_SHAPE, UNFINISHED, BatchRecord, Column, FileRecord, file_object

logger = logging.getLogger(__name__)

# Seconds after which a removal a full disk kept from being recorded is tried again, even with no more room.
UNRECORDED_RETRY = 1.0

try:
    import fcntl
except ImportError:  # Windows: no advisory lock, the data directory is simply not guarded.
    fcntl = None  # type: ignore[assignment]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    filename TEXT NOT NULL,
    purpose TEXT NOT NULL,
    path TEXT NOT NULL,
    -- 1 once the file is gone for its owner: deleted, or expired and its bytes freed (indexes are in _MIGRATIONS).
    deleted INTEGER NOT NULL DEFAULT 0,
    blob_removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    input_file_id TEXT NOT NULL,
    completion_window TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    metadata TEXT,
    output_expires_after_seconds INTEGER,
    model TEXT,
    errors TEXT,
    output_file_id TEXT,
    error_file_id TEXT,
    in_progress_at INTEGER,
    finalizing_at INTEGER,
    completed_at INTEGER,
    failed_at INTEGER,
    expired_at INTEGER,
    cancelling_at INTEGER,
    cancelled_at INTEGER,
    total INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    input_offset INTEGER NOT NULL DEFAULT 0,
    output_bytes INTEGER NOT NULL DEFAULT 0,
    error_bytes INTEGER NOT NULL DEFAULT 0,
    phase_mark REAL NOT NULL DEFAULT 0,
    progress_mark REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS batches_by_owner ON batches (owner, seq);
CREATE INDEX IF NOT EXISTS batches_by_status ON batches (status);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    object_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, scope, key)
);
-- Input tokens a batch holds against its owner's enqueued-token limit for its model, from validation on.
CREATE TABLE IF NOT EXISTS enqueued_tokens (
    batch_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS enqueued_by_owner ON enqueued_tokens (owner, model);
-- The most ever enqueued at once, per owner and model: what a test reads to prove the limit held.
CREATE TABLE IF NOT EXISTS enqueued_peaks (
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    peak INTEGER NOT NULL,
    PRIMARY KEY (owner, model)
);
"""

# Steps that bring a data directory written by an older server up to date, in order; `PRAGMA user_version` counts
# those done. A new directory takes them too (on empty tables they cost nothing).
_MIGRATIONS = (
    # Keyset pages on indexes of the files still present, one per filter a listing has. Files whose bytes a sweep
    # freed after they expired leave those indexes, as the sweep now does; the owner index they replace goes.
    """
    UPDATE files SET deleted = 1 WHERE blob_removed = 1 AND deleted = 0;
    CREATE INDEX IF NOT EXISTS files_live ON files (owner, seq) WHERE deleted = 0;
    CREATE INDEX IF NOT EXISTS files_live_by_purpose ON files (owner, purpose, seq) WHERE deleted = 0;
    DROP INDEX IF EXISTS files_by_owner;
    """,
)

_JSON_COLUMNS = frozenset({"metadata", "errors"})
_BATCH_COLUMNS = tuple(f.name for f in dataclasses.fields(BatchRecord))
_FILE_COLUMNS = tuple(f.name for f in dataclasses.fields(FileRecord))


class DataDirBusy(RuntimeError):
    """Another server process holds the data directory; two runners would answer each request line twice."""


@dataclass
class FilePage:
    """One page of a file listing, each File object already as JSON text."""

    objects: list[str]
    first_id: str | None
    last_id: str | None
    has_more: bool


def _json_object_sql(shape: tuple[tuple[str, Column | str | None], ...]) -> tuple[str, tuple[Any, ...]]:
    """SQLite's `json_object(...)` for `shape`, with its names and constant values as parameters."""
    terms: list[str] = []
    params: list[Any] = []
    for name, source in shape:
        terms.append("?")
        params.append(name)
        if isinstance(source, Column):
            terms.append(source.name)
        else:
            # A bound text or NULL is what JSON shows it as; a bool or a number would need json() around it.
            assert source is None or isinstance(source, str), source
            terms.append("?")
            params.append(source)
    return f"json_object({', '.join(terms)})", tuple(params)


_FILE_JSON, _FILE_JSON_PARAMS = _json_object_sql(FILE_OBJECT_SHAPE)


class Storage:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir.resolve()
        self.files_dir = self.root / "files"
        self.batches_dir = self.root / "batches"
        self.tmp_dir = self.root / "tmp"
        for directory in (self.files_dir, self.batches_dir, self.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._acquire_dir_lock()
        # Uploads cut off by a previous stop never became files; nothing refers to them. (Uploads write only files;
        # a directory here came from elsewhere and goes too.)
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        self._lock = threading.RLock()
        self._depth = 0
        self._reserve = SpaceReserve(self.root / "space-reserve")
        # Files whose bytes are gone but whose removal could not be recorded yet (a full disk): hidden until it is.
        self._unrecorded: set[str] = set()
        # After a failed try: the free space then, and when (monotonic) to try again whatever the free space.
        self._free_when_unrecorded = -1
        self._retry_unrecorded_at = -math.inf
        self._db = sqlite3.connect(self.root / "state.sqlite3", check_same_thread=False, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(f"BEGIN;\n{_SCHEMA}\nCOMMIT;")
            self._migrate()
            self._json_in_sql = _has_json_functions(self._db)
            self._reconcile_removed_bytes()
            self._reserve.restore()
        except BaseException:
            # The directory lock goes with the failed start: a second try must not find it held.
            self._db.close()
            self._lock_file.close()
            raise

    def _acquire_dir_lock(self) -> Any:
        handle = (self.root / ".lock").open("a+")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise DataDirBusy(f"another server is using {self.root}") from None
        return handle

    def _migrate(self) -> None:
        (done,) = self._db.execute("PRAGMA user_version").fetchone()
        for number, step in enumerate(_MIGRATIONS[done:], start=done + 1):
            try:
                self._db.executescript(f"BEGIN IMMEDIATE;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
            except sqlite3.Error as exc:
                self._rollback()
                if not is_disk_full(exc, self.root):
                    raise
                # Every step only speeds things up: the server works without it and the next start tries again.
                logger.warning(
                    "the disk of %s is full: data directory update %d waits for the next start", self.root, number
                )
                return

    def _reconcile_removed_bytes(self) -> None:
        """Record as removed every file whose bytes are gone: a stop between freeing them and recording it."""
        rows = self._query("SELECT id, path FROM files WHERE deleted = 0 AND blob_removed = 0")
        # One listing of files/ instead of a stat per upload: this runs at every start, over every file.
        uploads = {f"files/{name}" for name in os.listdir(self.files_dir)}
        gone = [
            row["id"]
            for row in rows
            if row["path"] not in uploads and (row["path"].startswith("files/") or not self.blob(row["path"]).exists())
        ]
        if gone:
            self._unrecorded.update(gone)
            self._record_unrecorded()

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._lock_file.close()

    def blob(self, relative: str) -> Path:
        return self.root / relative

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def batch_dir(self, batch_id: str) -> Path:
        return self.batches_dir / batch_id

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together; nested use joins the outer transaction."""
        with self._lock:
            self._depth += 1
            try:
                if self._depth == 1:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    if self._depth == 1:
                        self._rollback()
                    raise
                if self._depth == 1:
                    try:
                        self._db.execute("COMMIT")
                    except BaseException:
                        # A COMMIT that failed otherwise than by a full disk can leave the transaction open, and
                        # every later BEGIN would fail.
                        self._rollback()
                        raise
            finally:
                self._depth -= 1

    def _rollback(self) -> None:
        # SQLite may have rolled back already (it does on a full disk): a second ROLLBACK would raise and hide why.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _query(self, sql: str, params: Collection[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _page(self, sql: str, params: list[Any], limit: int) -> tuple[list[sqlite3.Row], bool]:
        """The first `limit` rows of `sql`, and whether more follow (one row more is fetched to tell)."""
        rows = self._query(f"{sql} LIMIT ?", [*params, limit + 1])
        return rows[:limit], len(rows) > limit

    def _execute(self, sql: str, params: Collection[Any] = ()) -> int:
        with self.transaction():
            return self._db.execute(sql, tuple(params)).rowcount

    def _execute_to_free(self, sql: str, params: Collection[Any] = ()) -> int:
        """`_execute` for a write that frees space or records freed space: on a full disk it makes room and retries.

        First SQLite's log is folded back into the database, so the write reuses the log's room instead of growing
        it; then the space reserve goes. Inside an outer transaction nothing can be retried.
        """
        with self._lock:
            for make_room in (self._restart_log, self._reserve.release, None):
                try:
                    return self._execute(sql, params)
                except sqlite3.Error as exc:
                    if make_room is None or self._depth or not is_disk_full(exc, self.root):
                        raise
                make_room()
        raise AssertionError("unreachable")

    def _restart_log(self) -> None:
        # Fails too when the log holds pages the database file would have to grow for: then the reserve is next.
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    # --- files ---

    def add_file(self, record: FileRecord) -> None:
        row = _file_row(record)
        del row["seq"]
        self._execute(f"INSERT INTO files ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", row.values())

    def file_for_owner(self, owner: str, file_id: str, now: float) -> FileRecord | None:
        """The file as its owner may see it: not deleted and not past `expires_at`."""
        with self._lock:
            self._record_unrecorded()
            if file_id in self._unrecorded:
                return None
            rows = self._query(
                "SELECT * FROM files WHERE id = ? AND owner = ? AND deleted = 0"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (file_id, owner, now),
            )
        return _file_from_row(rows[0]) if rows else None

    def file_by_id(self, file_id: str) -> FileRecord | None:
        rows = self._query("SELECT * FROM files WHERE id = ?", (file_id,))
        return _file_from_row(rows[0]) if rows else None

    def list_files(
        self, owner: str, *, now: float, purpose: str | None, limit: int, ascending: bool, after: str | None
    ) -> tuple[list[FileRecord], bool]:
        with self._lock:
            query = self._file_page_query(owner, now, purpose, ascending, after)
            if query is None:
                return [], False
            rows, more = self._page(f"SELECT * {query[0]}", query[1], limit)
        return [_file_from_row(row) for row in rows], more

    def file_page(
        self, owner: str, *, now: float, purpose: str | None, limit: int, ascending: bool, after: str | None
    ) -> FilePage:
        """A page of the owner's files as the list endpoint shows them: `list_files` with the objects built in SQL."""
        if not self._json_in_sql:
            records, more = self.list_files(
                owner, now=now, purpose=purpose, limit=limit, ascending=ascending, after=after
            )
            objects = [json.dumps(file_object(record), ensure_ascii=False) for record in records]
            return FilePage(objects, records[0].id if records else None, records[-1].id if records else None, more)
        with self._lock:
            query = self._file_page_query(owner, now, purpose, ascending, after)
            if query is None:
                return FilePage([], None, None, False)
            rows, more = self._page(f"SELECT id, {_FILE_JSON} {query[0]}", [*_FILE_JSON_PARAMS, *query[1]], limit)
        return FilePage([row[1] for row in rows], rows[0][0] if rows else None, rows[-1][0] if rows else None, more)

    def _file_page_query(
        self, owner: str, now: float, purpose: str | None, ascending: bool, after: str | None
    ) -> tuple[str, list[Any]] | None:
        """The FROM ... ORDER BY of a listing page and its parameters; None if `after` names no file of the owner.

        Every condition but the expiry is a column of the index the page walks (`deleted = 0` is what puts a row in
        it), so the page reads the rows it shows and one more; the only rows it steps over are files that expired
        in the last moments, before the sweep took them out of the index.
        """
        self._record_unrecorded()
        where = ["owner = ?", "deleted = 0", "(expires_at IS NULL OR expires_at > ?)"]
        params: list[Any] = [owner, now]
        if purpose is not None:
            where.append("purpose = ?")
            params.append(purpose)
        if after is not None:
            # Deleted and expired rows keep their place, so a cursor naming one still marks a position.
            cursor = self._query("SELECT seq FROM files WHERE id = ? AND owner = ?", (after, owner))
            if not cursor:
                return None
            where.append("seq > ?" if ascending else "seq < ?")
            params.append(cursor[0]["seq"])
        if self._unrecorded:
            where.append(f"id NOT IN ({', '.join('?' * len(self._unrecorded))})")
            params.extend(sorted(self._unrecorded))
        return f"FROM files WHERE {' AND '.join(where)} ORDER BY seq {'ASC' if ascending else 'DESC'}", params

    def remove_file(self, owner: str, file_id: str, now: float) -> bool:
        """Delete the owner's file and free its bytes at once; False if the owner has no such file.

        The bytes go first and the record second, so that a full disk can always be emptied through the API: the
        freed room (or the room `_execute_to_free` finds) is what the record is written in. The input of a batch
        still running keeps its bytes until the batch ends; the sweep frees them then.
        """
        with self._lock:
            record = self.file_for_owner(owner, file_id, now)
            if record is None:
                return False
            freed = False
            if not self._read_by_unfinished_batch(file_id):
                try:
                    self.blob(record.path).unlink(missing_ok=True)
                    freed = True
                except OSError:
                    # Windows refuses while a download holds the file open: the sweep frees it later.
                    logger.warning("could not remove the bytes of %s yet; the sweep will", file_id, exc_info=True)
            try:
                self._execute_to_free(
                    "UPDATE files SET deleted = 1, blob_removed = ? WHERE id = ?", (int(freed), file_id)
                )
            except sqlite3.Error as exc:
                if not freed:
                    raise
                # The bytes are gone whatever happens next: the file must not show as present meanwhile.
                logger.warning("the removal of %s is recorded once the disk lets it (%s)", file_id, exc)
                self._unrecorded.add(file_id)
                self._unrecorded_failed()
            self._reserve.restore()
            return True

    def _read_by_unfinished_batch(self, file_id: str) -> bool:
        placeholders = ", ".join("?" * len(UNFINISHED))
        rows = self._query(
            f"SELECT 1 FROM batches WHERE status IN ({placeholders}) AND input_file_id = ? LIMIT 1",
            (*UNFINISHED, file_id),
        )
        return bool(rows)

    def _record_unrecorded(self) -> None:
        """Record the removals that a full disk kept from being recorded, once it lets them (outside a transaction).

        Tried again once the disk has more room than when the last try failed, or a while after it: sooner it
        would fail the same way, and each try on a full disk costs a checkpoint attempt.
        """
        with self._lock:
            if not self._unrecorded or self._depth:
                return
            if time.monotonic() < self._retry_unrecorded_at and free_bytes(self.root) <= self._free_when_unrecorded:
                return
            pending = sorted(self._unrecorded)
            try:
                self._execute_to_free(
                    f"UPDATE files SET deleted = 1, blob_removed = 1 WHERE id IN ({', '.join('?' * len(pending))})",
                    pending,
                )
            except sqlite3.Error as exc:
                self._unrecorded_failed()
                if not is_disk_full(exc, self.root):
                    logger.exception("recording the removal of %d file(s) failed", len(pending))
                return
            self._unrecorded.difference_update(pending)

    def _unrecorded_failed(self) -> None:
        self._free_when_unrecorded = free_bytes(self.root)
        self._retry_unrecorded_at = time.monotonic() + UNRECORDED_RETRY

    def delete_file(self, owner: str, file_id: str, now: float) -> bool:
        return (
            self._execute(
                "UPDATE files SET deleted = 1 WHERE id = ? AND owner = ? AND deleted = 0 "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (file_id, owner, now),
            )
            == 1
        )

    def files_to_sweep(self, now: float) -> list[FileRecord]:
        """Deleted or expired files whose bytes are still on disk and that no unfinished batch still reads."""
        placeholders = ", ".join("?" * len(UNFINISHED))
        rows = self._query(
            "SELECT * FROM files WHERE blob_removed = 0"
            " AND (deleted = 1 OR (expires_at IS NOT NULL AND expires_at <= ?))"
            f" AND id NOT IN (SELECT input_file_id FROM batches WHERE status IN ({placeholders}))",
            (now, *UNFINISHED),
        )
        return [_file_from_row(row) for row in rows]

    def mark_blob_removed(self, file_id: str) -> None:
        # A file whose bytes are gone is gone for good (an expired one too): out of the live indexes, a listing
        # never steps over it.
        try:
            self._execute_to_free("UPDATE files SET deleted = 1, blob_removed = 1 WHERE id = ?", (file_id,))
        except sqlite3.Error as exc:
            if not is_disk_full(exc, self.root):
                raise
            # Already invisible (deleted or expired): the next sweep finds it again and records it then.
            logger.debug("the disk is full: recording that the bytes of %s are gone waits for the next sweep", file_id)
            return
        self._reserve.restore()

    # --- batches ---

    def add_batch(self, record: BatchRecord) -> None:
        row = _batch_row(record)
        del row["seq"]
        self._execute(f"INSERT INTO batches ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", row.values())

    def batch_for_owner(self, owner: str, batch_id: str) -> BatchRecord | None:
        rows = self._query("SELECT * FROM batches WHERE id = ? AND owner = ?", (batch_id, owner))
        return _batch_from_row(rows[0]) if rows else None

    def batch_by_id(self, batch_id: str) -> BatchRecord | None:
        rows = self._query("SELECT * FROM batches WHERE id = ?", (batch_id,))
        return _batch_from_row(rows[0]) if rows else None

    def list_batches(
        self, owner: str, *, limit: int, after: str | None, before: str | None = None
    ) -> tuple[list[BatchRecord], bool]:
        """A page newest first: older than `after`, or (`before`) the page just newer than `before`."""
        where = "owner = ?"
        params: list[Any] = [owner]
        cursor_id = before if before is not None else after
        if cursor_id is not None:
            cursor = self._query("SELECT seq FROM batches WHERE id = ? AND owner = ?", (cursor_id, owner))
            if not cursor:
                return [], False
            where += " AND seq > ?" if before is not None else " AND seq < ?"
            params.append(cursor[0]["seq"])
        order = "ASC" if before is not None else "DESC"
        rows, more = self._page(f"SELECT * FROM batches WHERE {where} ORDER BY seq {order}", params, limit)
        if before is not None:
            rows.reverse()
        return [_batch_from_row(row) for row in rows], more

    def batches_made(self) -> int:
        """How many batches were ever made here, deleted ones too (the batches' own sequence, which never goes
        back)."""
        rows = self._query("SELECT seq FROM sqlite_sequence WHERE name = 'batches'", ())
        return int(rows[0]["seq"]) if rows else 0

    def remove_batch(self, owner: str, batch_id: str) -> bool:
        """Forget an ended batch and mark its input and result files deleted (the sweep frees their bytes)."""
        with self.transaction():
            record = self.batch_for_owner(owner, batch_id)
            if record is None:
                return False
            file_ids = [f for f in (record.input_file_id, record.output_file_id, record.error_file_id) if f]
            self._db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))
            self._db.execute("DELETE FROM enqueued_tokens WHERE batch_id = ?", (batch_id,))
            self._db.execute(
                f"UPDATE files SET deleted = 1 WHERE id IN ({', '.join('?' * len(file_ids))})", tuple(file_ids)
            )
        return True

    def unfinished_batches(self) -> list[BatchRecord]:
        placeholders = ", ".join("?" * len(UNFINISHED))
        rows = self._query(f"SELECT * FROM batches WHERE status IN ({placeholders}) ORDER BY seq", UNFINISHED)
        return [_batch_from_row(row) for row in rows]

    def update_batch(
        self, batch_id: str, changes: Mapping[str, Any], *, only_if_status: Collection[str] | None = None
    ) -> bool:
        """Apply `changes`; with `only_if_status`, only while the batch still has one of those statuses.

        The guard is how the runner and the HTTP handlers share a batch without a lock held across requests: a
        cancel that lands while the runner is working makes the runner's status change a no-op, not an overwrite.
        """
        unknown = set(changes) - set(_BATCH_COLUMNS)
        if unknown:
            raise ValueError(f"unknown batch fields: {sorted(unknown)}")
        values = [_to_column(name, value) for name, value in changes.items()]
        sql = f"UPDATE batches SET {', '.join(f'{name} = ?' for name in changes)} WHERE id = ?"
        values.append(batch_id)
        if only_if_status is not None:
            sql += f" AND status IN ({', '.join('?' * len(only_if_status))})"
            values.extend(only_if_status)
        return self._execute(sql, values) == 1

    def restart_pacing(self, now: float) -> None:
        """After a restart, unfinished batches go on at the configured pace instead of catching up on the downtime."""
        placeholders = ", ".join("?" * len(UNFINISHED))
        try:
            self._execute(
                f"UPDATE batches SET phase_mark = ?, progress_mark = ? WHERE status IN ({placeholders})",
                (now, now, *UNFINISHED),
            )
        except sqlite3.Error as exc:
            if not is_disk_full(exc, self.root):
                raise
            # Not worth refusing to start over: a server that starts can be asked to delete files.
            logger.warning(
                "the disk of %s is full: batches in flight catch up on the time the server was stopped", self.root
            )

    # --- enqueued tokens ---

    def enqueued_tokens(self, owner: str, model: str, statuses: Collection[str]) -> int:
        """The tokens held by the owner's batches of this model that have one of `statuses`."""
        rows = self._query(
            "SELECT COALESCE(SUM(e.tokens), 0) AS total FROM enqueued_tokens e JOIN batches b ON b.id = e.batch_id"
            f" WHERE e.owner = ? AND e.model = ? AND b.status IN ({', '.join('?' * len(statuses))})",
            (owner, model, *statuses),
        )
        return int(rows[0]["total"])

    def reserve_tokens(self, batch_id: str, owner: str, model: str, tokens: int, enqueued_after: int) -> None:
        """Record a batch's tokens and raise the owner's peak for the model to `enqueued_after` if it is higher."""
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO enqueued_tokens (batch_id, owner, model, tokens) VALUES (?, ?, ?, ?)",
                (batch_id, owner, model, tokens),
            )
            self._db.execute(
                "INSERT INTO enqueued_peaks (owner, model, peak) VALUES (?, ?, ?)"
                " ON CONFLICT (owner, model) DO UPDATE SET peak = MAX(peak, excluded.peak)",
                (owner, model, enqueued_after),
            )

    def enqueued_token_peak(self, owner: str, model: str) -> int:
        """The most tokens the owner ever had enqueued at once for the model (0 if none)."""
        rows = self._query("SELECT peak FROM enqueued_peaks WHERE owner = ? AND model = ?", (owner, model))
        return int(rows[0]["peak"]) if rows else 0

    # --- idempotency keys ---

    def idempotent_request(self, owner: str, scope: str, key: str) -> tuple[str, str] | None:
        """(request hash, object id) stored for this key, if any."""
        rows = self._query(
            "SELECT request_hash, object_id FROM idempotency_keys WHERE owner = ? AND scope = ? AND key = ?",
            (owner, scope, key),
        )
        return (rows[0]["request_hash"], rows[0]["object_id"]) if rows else None

    def remember_request(self, owner: str, scope: str, key: str, request_hash: str, object_id: str, now: int) -> None:
        self._execute(
            "INSERT INTO idempotency_keys (owner, scope, key, request_hash, object_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (owner, scope, key, request_hash, object_id, now),
        )


def _has_json_functions(db: sqlite3.Connection) -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, an option before): else listings use Python."""
    try:
        db.execute("SELECT json_object('a', 1)").fetchone()
    except sqlite3.OperationalError:
        return False
    return True


def _to_column(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS and value is not None:
        return json.dumps(value)
    return value


def _file_row(record: FileRecord) -> dict[str, Any]:
    row = dataclasses.asdict(record)
    row["deleted"] = int(record.deleted)
    row["blob_removed"] = int(record.blob_removed)
    return row


def _file_from_row(row: sqlite3.Row) -> FileRecord:
    values = {name: row[name] for name in _FILE_COLUMNS}
    values["deleted"] = bool(values["deleted"])
    values["blob_removed"] = bool(values["blob_removed"])
    return FileRecord(**values)


def _batch_row(record: BatchRecord) -> dict[str, Any]:
    return {name: _to_column(name, value) for name, value in dataclasses.asdict(record).items()}


def _batch_from_row(row: sqlite3.Row) -> BatchRecord:
    values = {name: row[name] for name in _BATCH_COLUMNS}
    for name in _JSON_COLUMNS:
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return BatchRecord(**values)
