"""State under the data directory: SQLite for records, plain files for bytes.

    DIR/state.sqlite3            files, batches, idempotency keys
    DIR/files/<file id>          uploaded bytes
    DIR/batches/<batch id>/      a batch's output.jsonl and errors.jsonl, appended while it runs
    DIR/tmp/                     uploads still arriving (emptied at start)

One connection behind one re-entrant lock: every statement is short (bytes never pass through SQLite), so
serialising them costs nothing measurable and rules out "database is locked" under the threaded HTTP server.
WAL with synchronous=NORMAL survives a killed process, which is the failure a development server meets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from .records import UNFINISHED, BatchRecord, FileRecord

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
    deleted INTEGER NOT NULL DEFAULT 0,
    blob_removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS files_by_owner ON files (owner, seq);
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

_JSON_COLUMNS = frozenset({"metadata", "errors"})
_BATCH_COLUMNS = tuple(f.name for f in dataclasses.fields(BatchRecord))
_FILE_COLUMNS = tuple(f.name for f in dataclasses.fields(FileRecord))


class DataDirBusy(RuntimeError):
    """Another server process holds the data directory; two runners would answer each request line twice."""


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
        self._db = sqlite3.connect(self.root / "state.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(f"BEGIN;\n{_SCHEMA}\nCOMMIT;")

    def _acquire_dir_lock(self) -> Any:
        handle = (self.root / ".lock").open("a+")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise DataDirBusy(f"another server is using {self.root}") from None
        return handle

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
                        self._db.execute("ROLLBACK")
                    raise
                if self._depth == 1:
                    self._db.execute("COMMIT")
            finally:
                self._depth -= 1

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

    # --- files ---

    def add_file(self, record: FileRecord) -> None:
        row = _file_row(record)
        del row["seq"]
        self._execute(f"INSERT INTO files ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", row.values())

    def file_for_owner(self, owner: str, file_id: str, now: float) -> FileRecord | None:
        """The file as its owner may see it: not deleted and not past `expires_at`."""
        rows = self._query(
            "SELECT * FROM files WHERE id = ? AND owner = ? AND deleted = 0 AND (expires_at IS NULL OR expires_at > ?)",
            (file_id, owner, now),
        )
        return _file_from_row(rows[0]) if rows else None

    def file_by_id(self, file_id: str) -> FileRecord | None:
        rows = self._query("SELECT * FROM files WHERE id = ?", (file_id,))
        return _file_from_row(rows[0]) if rows else None

    def list_files(
        self, owner: str, *, now: float, purpose: str | None, limit: int, ascending: bool, after: str | None
    ) -> tuple[list[FileRecord], bool]:
        where = ["owner = ?", "deleted = 0", "(expires_at IS NULL OR expires_at > ?)"]
        params: list[Any] = [owner, now]
        if purpose is not None:
            where.append("purpose = ?")
            params.append(purpose)
        if after is not None:
            # Deleted and expired rows keep their place, so a cursor naming one still marks a position.
            cursor = self._query("SELECT seq FROM files WHERE id = ? AND owner = ?", (after, owner))
            if not cursor:
                return [], False
            where.append("seq > ?" if ascending else "seq < ?")
            params.append(cursor[0]["seq"])
        order = "ASC" if ascending else "DESC"
        rows, more = self._page(f"SELECT * FROM files WHERE {' AND '.join(where)} ORDER BY seq {order}", params, limit)
        return [_file_from_row(row) for row in rows], more

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
        self._execute("UPDATE files SET blob_removed = 1 WHERE id = ?", (file_id,))

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

    def list_batches(self, owner: str, *, limit: int, after: str | None) -> tuple[list[BatchRecord], bool]:
        where = "owner = ?"
        params: list[Any] = [owner]
        if after is not None:
            cursor = self._query("SELECT seq FROM batches WHERE id = ? AND owner = ?", (after, owner))
            if not cursor:
                return [], False
            where += " AND seq < ?"
            params.append(cursor[0]["seq"])
        rows, more = self._page(f"SELECT * FROM batches WHERE {where} ORDER BY seq DESC", params, limit)
        return [_batch_from_row(row) for row in rows], more

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
        self._execute(
            f"UPDATE batches SET phase_mark = ?, progress_mark = ? WHERE status IN ({placeholders})",
            (now, now, *UNFINISHED),
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
