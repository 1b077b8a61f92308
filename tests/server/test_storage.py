"""The storage on its own: transactions, the database's crash-safety settings, list pages, the token ledger, sweeping.

Each test drives a Storage directly; the HTTP side and the runner are not involved.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches_server.records import BatchRecord, FileRecord
from openai_batches_server.storage import DataDirBusy, Storage

OWNER = "owner"
NOW = 1_700_000_000


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    made = Storage(tmp_path / "data")
    yield made
    made.close()


def file_record(file_id: str, *, owner: str = OWNER, expires_at: int | None = None) -> FileRecord:
    return FileRecord(file_id, owner, 5, NOW, expires_at, f"{file_id}.txt", "user_data", f"files/{file_id}")


def batch_record(batch_id: str, *, status: str = "in_progress", input_file_id: str = "file-in") -> BatchRecord:
    return BatchRecord(batch_id, OWNER, "/v1/chat/completions", input_file_id, "24h", status, NOW, NOW + 86_400)


# --- transactions ---------------------------------------------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing_behind_and_the_next_one_commits(storage: Storage) -> None:
    storage.add_file(file_record("file-before"))
    with pytest.raises(RuntimeError), storage.transaction():
        storage.add_batch(batch_record("batch_lost"))
        storage.add_file(file_record("file-lost"))
        raise RuntimeError("the disk is full")
    assert storage.batch_by_id("batch_lost") is None and storage.file_by_id("file-lost") is None
    with storage.transaction():
        storage.add_file(file_record("file-after"))
    assert storage.file_by_id("file-before") is not None and storage.file_by_id("file-after") is not None


def test_a_nested_transaction_joins_the_outer_one(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.transaction():
        storage.add_file(file_record("file-outer"))
        with storage.transaction():
            storage.add_file(file_record("file-inner"))
        # The inner block has ended, but nothing is committed until the outer one ends.
        raise RuntimeError("the outer block fails")
    assert storage.file_by_id("file-outer") is None and storage.file_by_id("file-inner") is None
    with storage.transaction(), storage.transaction():
        storage.add_file(file_record("file-kept"))
    assert storage.file_by_id("file-kept") is not None


# --- the database file ----------------------------------------------------------------------------------------------


def test_the_database_runs_in_wal_mode_with_normal_sync(storage: Storage) -> None:
    # WAL with synchronous=NORMAL: a killed process loses no committed transaction, at one fsync per checkpoint.
    assert storage._db.execute("PRAGMA synchronous").fetchone()[0] == 1
    with contextlib.closing(sqlite3.connect(storage.root / "state.sqlite3")) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_close_folds_the_log_into_the_database_and_ends_the_storage(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    storage.add_file(file_record("file-a"))
    assert (storage.root / "state.sqlite3-wal").exists()
    storage.close()
    # A stopped server's data directory is one database file, safe to copy.
    assert not (storage.root / "state.sqlite3-wal").exists()
    with pytest.raises(sqlite3.ProgrammingError):
        storage.file_by_id("file-a")
    again = Storage(tmp_path / "data")
    try:
        record = again.file_by_id("file-a")
        assert record is not None and record.filename == "file-a.txt"
    finally:
        again.close()


def test_a_second_storage_on_a_busy_directory_is_refused_without_leaking_its_handle(storage: Storage) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(DataDirBusy, match="another server is using"):
            Storage(storage.root)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# --- list pages -----------------------------------------------------------------------------------------------------


def test_a_list_after_an_unknown_id_is_empty_with_nothing_more(storage: Storage) -> None:
    storage.add_file(file_record("file-a"))
    storage.add_batch(batch_record("batch_a"))
    page = storage.list_files(OWNER, now=NOW, purpose=None, limit=10, ascending=True, after="file-unknown")
    assert page == ([], False)
    assert storage.list_batches(OWNER, limit=10, after="batch_unknown") == ([], False)


def test_has_more_says_whether_a_row_follows_the_page(storage: Storage) -> None:
    for n in range(3):
        storage.add_file(file_record(f"file-{n}"))
        storage.add_batch(batch_record(f"batch_{n}"))

    def files(limit: int) -> tuple[list[str], bool]:
        rows, more = storage.list_files(OWNER, now=NOW, purpose=None, limit=limit, ascending=True, after=None)
        return [row.id for row in rows], more

    def batches(limit: int) -> tuple[list[str], bool]:
        rows, more = storage.list_batches(OWNER, limit=limit, after=None)
        return [row.id for row in rows], more

    assert files(2) == (["file-0", "file-1"], True)
    assert files(3) == (["file-0", "file-1", "file-2"], False)
    assert batches(2) == (["batch_2", "batch_1"], True)
    assert batches(3) == (["batch_2", "batch_1", "batch_0"], False)


# --- the enqueued-token ledger --------------------------------------------------------------------------------------


def test_enqueued_tokens_sum_the_batches_in_the_given_statuses(storage: Storage) -> None:
    assert storage.enqueued_tokens(OWNER, "gpt-4o-mini", ("in_progress",)) == 0
    storage.add_batch(batch_record("batch_a"))
    storage.add_batch(batch_record("batch_b", status="completed"))
    storage.add_batch(batch_record("batch_c"))
    storage.reserve_tokens("batch_a", OWNER, "gpt-4o-mini", 30, enqueued_after=30)
    storage.reserve_tokens("batch_b", OWNER, "gpt-4o-mini", 50, enqueued_after=80)
    storage.reserve_tokens("batch_c", OWNER, "gpt-4o", 7, enqueued_after=7)
    assert storage.enqueued_tokens(OWNER, "gpt-4o-mini", ("in_progress",)) == 30
    assert storage.enqueued_tokens(OWNER, "gpt-4o-mini", ("in_progress", "completed")) == 80
    assert storage.enqueued_tokens(OWNER, "gpt-4o", ("in_progress",)) == 7
    assert storage.enqueued_tokens("someone-else", "gpt-4o-mini", ("in_progress",)) == 0


def test_the_peak_only_rises(storage: Storage) -> None:
    assert storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 0
    storage.add_batch(batch_record("batch_a"))
    storage.add_batch(batch_record("batch_b"))
    storage.reserve_tokens("batch_a", OWNER, "gpt-4o-mini", 40, enqueued_after=40)
    assert storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 40
    storage.reserve_tokens("batch_b", OWNER, "gpt-4o-mini", 10, enqueued_after=25)
    assert storage.enqueued_token_peak(OWNER, "gpt-4o-mini") == 40
    assert storage.enqueued_token_peak(OWNER, "gpt-4o") == 0


# --- sweeping -------------------------------------------------------------------------------------------------------


def test_files_to_sweep_are_deleted_or_expired_and_read_by_no_unfinished_batch(storage: Storage) -> None:
    storage.add_file(file_record("file-kept"))
    storage.add_file(file_record("file-deleted"))
    storage.add_file(file_record("file-expired", expires_at=NOW + 10))
    storage.add_file(file_record("file-in"))  # deleted, but an unfinished batch still reads it
    storage.add_batch(batch_record("batch_a", status="validating", input_file_id="file-in"))
    for file_id in ("file-deleted", "file-in"):
        assert storage.delete_file(OWNER, file_id, NOW)

    def swept(now: int) -> set[str]:
        return {record.id for record in storage.files_to_sweep(now)}

    assert swept(NOW + 9) == {"file-deleted"}
    assert swept(NOW + 10) == {"file-deleted", "file-expired"}
    storage.update_batch("batch_a", {"status": "completed"})
    assert swept(NOW + 10) == {"file-deleted", "file-expired", "file-in"}
    storage.mark_blob_removed("file-deleted")
    assert swept(NOW + 10) == {"file-expired", "file-in"}
