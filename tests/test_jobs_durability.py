"""What a power cut would find: the store's commits and the job's files are on disk before a step counts as done.

A SIGKILL (tests/test_jobs_crash.py) cannot lose what the process wrote; a power cut loses whatever the kernel had
not written out. These tests pin the calls that prevent that: SQLite commits with synchronous=FULL, and each file
the store names is fsynced before it takes its name and its folder after, in that order.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from openai_batches.jobs import files
from openai_batches.jobs.files import PartFile, replacing
from openai_batches.jobs.store import open_store


def test_the_store_syncs_every_commit(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        (mode,) = store._db.execute("PRAGMA synchronous").fetchone()
        (journal,) = store._db.execute("PRAGMA journal_mode").fetchone()
    assert (mode, journal) == (2, "wal"), "FULL (2): a WAL commit is synced before it returns"


def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        target = os.readlink(f"/proc/self/fd/{descriptor}")
        seen.append(("fsync", "folder" if os.path.isdir(target) else Path(target).name))
        real_fsync(descriptor)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        seen.append(("rename", Path(target).name))
        real_replace(source, target)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    return seen


def test_a_file_is_synced_then_named_then_its_folder_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = calls(monkeypatch)
    with replacing(tmp_path / "shard.jsonl") as out:
        out.write(b"{}\n")
    (synced_file, rename, synced_folder) = seen
    assert synced_file[0] == "fsync" and synced_file[1].endswith(".part"), "the data, under its temporary name"
    assert rename == ("rename", "shard.jsonl")
    assert synced_folder == ("fsync", "folder"), "the rename itself"
    assert (tmp_path / "shard.jsonl").read_bytes() == b"{}\n"


def test_a_failed_write_leaves_neither_the_target_nor_a_part_file(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_bytes(b"before\n")
    with pytest.raises(OSError, match="disk full"), replacing(tmp_path / "results.jsonl") as out:
        out.write(b"half")
        raise OSError("disk full")
    assert (tmp_path / "results.jsonl").read_bytes() == b"before\n"
    assert [path.name for path in tmp_path.iterdir()] == ["results.jsonl"]


def test_a_download_part_is_discarded_unless_committed(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "out.jsonl")
    part.write(b"partial")
    part.discard()
    assert list(tmp_path.iterdir()) == []
    part = PartFile(tmp_path / "out.jsonl")
    part.write(b"whole\n")
    part.commit()
    part.discard()  # after commit: nothing to undo
    assert [path.name for path in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_store_opened_from_an_older_version_gets_the_lease_columns(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT, lease_holder TEXT)")
    db.commit()
    db.close()
    with open_store(tmp_path) as store:
        columns = {row[1] for row in store._db.execute("PRAGMA table_info(jobs)")}
    assert {"lease_epoch", "lease_ttl", "lease_contested"} <= columns
