"""A full disk (issue 20, finding 4): 507 with the API's error shape, deletes that still work, nothing lost.

Before, uploads and creates answered a generic 500; while the disk was full `DELETE /v1/files/{id}` failed too
(SQLite needs room to record a deletion), so no space could be freed through the API; a batch whose result lines
found no room failed, and its finished lines were lost when publishing them found no room either.

The disk is real where the machine allows it: the data directory is a tmpfs of its own (`mount -t tmpfs`, as root,
as CI runs) filled with a filler file. Where mounting is refused, the same failures are injected into this process
with the system's own errors (writes under the folder fail with ENOSPC, SQLite's database is capped at its size and
raises its own SQLITE_FULL): weaker, since SQLite's log can still grow there, but never skipped. The tests after the
first two need no disk of their own: each makes one write fail with a real error and checks one consequence.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import logging
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.disk_space import RESERVE_BYTES, SpaceReserve, is_disk_full
from openai_batches_server.records import FileRecord
from openai_batches_server.runner import NO_SPACE_RETRY
from openai_batches_server.storage import UNRECORDED_RETRY, Storage

from .harness import BATCH_ID, Harness
from .support import CHAT, KEY, api_client, assert_error, chat_line, create_batch, jsonl, read_lines, upload, wait_for

pytestmark = pytest.mark.timeout(180)

MAX_PAGES = 1_073_741_823  # SQLite's own ceiling for max_page_count: no cap


def real_sqlite_full(tmp_path: Path) -> sqlite3.OperationalError:
    """SQLite's "database or disk is full" as SQLite raises it (SQLITE_FULL), not one made up by hand."""
    db = sqlite3.connect(tmp_path / f"full-{time.monotonic_ns()}.sqlite3")
    try:
        db.execute("CREATE TABLE t (x BLOB)")
        db.execute("PRAGMA max_page_count = 3")
        db.execute("INSERT INTO t VALUES (zeroblob(100000))")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        db.close()
    raise AssertionError("SQLite raised nothing")


def _mount(*options: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *options, str(target)], capture_output=True, text=True, timeout=30)


class DataDisk:
    """The server's data directory on a disk this test fills and frees (see the module docstring)."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.data = path / "data"
        self._patch = monkeypatch
        self._full = False
        self._databases: list[sqlite3.Connection] = []
        path.mkdir(parents=True)
        try:
            mounted = _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", target=path)
        except (OSError, subprocess.SubprocessError) as exc:
            self.refusal, self.real = str(exc), False
        else:
            self.refusal, self.real = mounted.stderr.strip(), mounted.returncode == 0
        if not self.real:
            self._inject()

    def close(self) -> None:
        if self.real:
            done = subprocess.run(["umount", str(self.path)], capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=30, check=True)

    def fill(self) -> None:
        """Leave no room at all: a filler file grows until the disk refuses another byte."""
        self._full = True
        if not self.real:
            for db in self._databases:
                (pages,) = db.execute("PRAGMA page_count").fetchone()
                db.execute(f"PRAGMA max_page_count = {max(int(pages), 1)}")
            return
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for block in (1 << 20, 1 << 12, 1 << 9, 1):
                try:
                    while True:
                        os.write(fd, b"\xa5" * block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    def free(self) -> None:
        self._full = False
        for db in self._databases:
            db.execute(f"PRAGMA max_page_count = {MAX_PAGES}")
        (self.path / "filler").unlink(missing_ok=True)

    def _inside(self, file: object) -> bool:
        if not isinstance(file, str | os.PathLike):
            return False
        return Path(os.path.abspath(os.fspath(file))).is_relative_to(self.path)

    def _inject(self) -> None:
        opener, connect, mkstemp = builtins.open, sqlite3.connect, tempfile.mkstemp
        disk = self

        def no_space(file: object) -> OSError:
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))  # type: ignore[arg-type]

        def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if disk._full and disk._inside(file) and any(flag in mode for flag in "wax+"):
                raise no_space(file)
            return opener(file, mode, *args, **kwargs)

        def guarded_mkstemp(*args: Any, **kwargs: Any) -> Any:
            folder = kwargs.get("dir")
            if disk._full and folder is not None and disk._inside(folder):
                raise no_space(folder)
            return mkstemp(*args, **kwargs)

        def guarded_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            db = connect(database, *args, **kwargs)
            if disk._inside(database):
                disk._databases.append(db)
            return db

        self._patch.setattr(builtins, "open", guarded_open)
        self._patch.setattr(io, "open", guarded_open)
        self._patch.setattr(tempfile, "mkstemp", guarded_mkstemp)
        self._patch.setattr(sqlite3, "connect", guarded_connect)


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataDisk]:
    made = DataDisk(tmp_path / "disk", monkeypatch)
    try:
        yield made
    finally:
        made.close()


def listed(client: httpx.Client) -> list[str]:
    response = client.get("/files", params={"limit": 100, "order": "asc"})
    assert response.status_code == 200, response.text
    return [file["id"] for file in response.json()["data"]]


def content(client: httpx.Client, file_id: str) -> bytes:
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 200, response.text
    return response.content


def assert_insufficient_storage(response: httpx.Response) -> None:
    error = assert_error(response, 507, code="insufficient_storage", type_="server_error")
    assert "disk is full" in error["message"] and "DELETE /v1/files/{file_id}" in error["message"], error
    assert response.headers["x-should-retry"] == "false"


def test_a_full_disk_answers_507_every_file_can_be_deleted_and_nothing_stored_is_lost(disk: DataDisk) -> None:
    lines = [chat_line(f"q{number}", "x" * 200) for number in range(40)]
    with run_server(disk.data, api_keys=[KEY], tick=0) as server, api_client(server) as client:
        kept_input = upload(client, jsonl(lines))["id"]
        kept_other = upload(client, os.urandom(30_000), purpose="user_data", filename="kept.bin")["id"]
        done = wait_for(client, create_batch(client, kept_input)["id"])
        assert done["status"] == "completed"
        doomed = [
            upload(client, os.urandom(size), purpose="user_data", filename=f"doomed-{n}.bin")["id"]
            for n, size in enumerate((1, 100, 4095, 4096, 4097, 9000, 20_000, 50_000, 1, 300, 65_536))
        ]
        kept = [kept_input, done["output_file_id"], kept_other]
        stored = {file_id: content(client, file_id) for file_id in kept}
        batches_before = client.get("/batches").json()

        disk.fill()
        refused = client.post("/files", files={"file": ("more.jsonl", jsonl(lines))}, data={"purpose": "batch"})
        assert_insufficient_storage(refused)
        assert list((disk.data / "tmp").iterdir()) == [], "the refused upload left its bytes behind"
        assert {path.name for path in (disk.data / "files").iterdir()} == {kept_input, kept_other, *doomed}
        # A create needs a row; on a disk with no room it is refused the same way (or, with room, it is made).
        created = client.post(
            "/batches", json={"input_file_id": kept_input, "endpoint": CHAT, "completion_window": "24h"}
        )
        if created.status_code != 200:
            assert_insufficient_storage(created)

        for file_id in doomed:
            disk.fill()  # whatever the last deletion freed is taken again: each one meets a disk with no room
            response = client.delete(f"/files/{file_id}")
            assert response.status_code == 200, response.text
            assert response.json() == {"id": file_id, "object": "file", "deleted": True}
            assert_error(client.get(f"/files/{file_id}"), 404)
            assert not (disk.data / "files" / file_id).exists(), "the bytes were freed at once"
        assert [file_id for file_id in listed(client) if file_id in doomed] == []
        assert {file_id: content(client, file_id) for file_id in kept} == stored

    # A start on the full disk works too, and shows what the deletions left.
    with run_server(disk.data, api_keys=[KEY], tick=0) as server, api_client(server) as client:
        assert [file_id for file_id in listed(client) if file_id in doomed] == []
        assert_error(client.delete(f"/files/{doomed[0]}"), 404)

        disk.free()
        new_input = upload(client, jsonl(lines))["id"]
        again = wait_for(client, create_batch(client, new_input)["id"])
        assert again["status"] == "completed" and again["request_counts"]["completed"] == len(lines)
        assert [line["custom_id"] for line in read_lines(client, again["output_file_id"])] == [
            f"q{n}" for n in range(40)
        ]
        if created.status_code == 200:
            assert wait_for(client, created.json()["id"])["status"] == "completed"
        assert {file_id: content(client, file_id) for file_id in kept} == stored
        for batch in batches_before["data"]:
            assert client.get(f"/batches/{batch['id']}").json() == batch
        for file_id in doomed:
            record = server.storage.file_by_id(file_id)
            assert record is not None and record.deleted and record.blob_removed, "recorded once there was room"
        assert set(listed(client)) >= {*kept, new_input} and not set(listed(client)) & set(doomed)


def test_a_batch_that_meets_a_full_disk_waits_and_then_answers_every_line_once(
    disk: DataDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(disk.data, step_seconds=0.0, line_seconds=0.0)
    try:
        harness.batch([chat_line(f"r{number}", "y" * 300) for number in range(1000)])
        assert harness.step().status == "in_progress"
        first = harness.step()
        assert (first.status, first.completed) == ("in_progress", 200)

        disk.fill()
        advanced = 0
        advance = harness.runner._advance

        def counted(*args: Any) -> bool:
            nonlocal advanced
            advanced += 1
            return advance(*args)

        monkeypatch.setattr(harness.runner, "_advance", counted)
        stuck = harness.step()
        assert (stuck.status, stuck.completed, stuck.failed, stuck.errors) == ("in_progress", 200, 0, None)
        output = harness.storage.batch_dir(BATCH_ID) / "output.jsonl"
        assert output.stat().st_size == stuck.output_bytes, "what the failed attempt wrote was given back"
        for _ in range(5):  # no retry before its time: each would answer a chunk only to find no room again
            assert harness.runner.step() is False
        assert advanced == 1
        harness.monotonic.now += NO_SPACE_RETRY
        assert harness.step() == stuck and advanced == 2, "tried again, and waits again"

        disk.free()
        harness.monotonic.now += NO_SPACE_RETRY
        done = harness.run_until_idle()
        assert (done.status, done.completed, done.failed) == ("completed", 1000, 0)
        answered = [json.loads(line)["custom_id"] for line in harness.published(done.output_file_id).splitlines()]
        assert answered == [f"r{number}" for number in range(1000)]
    finally:
        harness.close()


# --- one write failing at a time, on any machine ---------------------------------------------------------------


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(tmp_path / "data", step_seconds=1.0, line_seconds=0.0)
    yield made
    made.close()


def test_a_full_database_when_a_batch_finishes_delays_it_and_loses_no_line(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.batch(3)
    harness.clock.now += 1.0
    assert harness.step().status == "in_progress"
    harness.clock.now += 1.0
    update_batch = harness.storage.update_batch
    full = real_sqlite_full(tmp_path)
    refusals = [1]

    def full_once(batch_id: str, changes: dict[str, Any], **guard: Any) -> bool:
        if changes.get("status") == "finalizing" and refusals:
            refusals.pop()
            raise full
        return update_batch(batch_id, changes, **guard)

    monkeypatch.setattr(harness.storage, "update_batch", full_once)
    # The step answers and records all three lines, then finds no room to move on to finalizing.
    waiting = harness.step()
    assert (waiting.status, waiting.completed, waiting.errors) == ("in_progress", 3, None)
    harness.monotonic.now += NO_SPACE_RETRY
    assert harness.step().status == "finalizing"
    harness.clock.now += 1.0
    done = harness.step()
    assert (done.status, done.completed) == ("completed", 3)
    assert [json.loads(line)["custom_id"] for line in harness.published(done.output_file_id).splitlines()] == [
        "r0",
        "r1",
        "r2",
    ]


def test_a_fault_that_is_not_a_full_disk_still_fails_the_batch_and_publishes_its_lines(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a full disk used to do; any other fault of the server's own still does it.
    harness.batch(3)
    harness.clock.now += 1.0
    assert harness.step().status == "in_progress"
    harness.clock.now += 1.0
    update_batch = harness.storage.update_batch

    def broken_disk(batch_id: str, changes: dict[str, Any], **guard: Any) -> bool:
        if changes.get("status") == "finalizing":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return update_batch(batch_id, changes, **guard)

    monkeypatch.setattr(harness.storage, "update_batch", broken_disk)
    record = harness.step()
    assert (record.status, record.completed) == ("failed", 3)
    assert record.errors is not None and [error["code"] for error in record.errors] == ["server_error"]
    assert [json.loads(line)["custom_id"] for line in harness.published(record.output_file_id).splitlines()] == [
        "r0",
        "r1",
        "r2",
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(server) as http:
        yield http


def test_a_create_that_finds_sqlite_full_is_507_and_reads_go_on(
    server: LocalServer, client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = upload(client, jsonl([chat_line("a")]))["id"]
    full = real_sqlite_full(tmp_path)

    def no_room(*args: Any) -> None:
        raise full

    monkeypatch.setattr(server.storage, "add_batch", no_room)
    response = client.post("/batches", json={"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h"})
    assert_insufficient_storage(response)
    assert client.get("/batches").json()["data"] == []
    assert client.get(f"/files/{file_id}").status_code == 200


class FailingCommit:
    """The storage's connection, with its COMMITs failing as a full disk fails them (SQLite rolls back first)."""

    def __init__(self, db: sqlite3.Connection, error: sqlite3.Error) -> None:
        self._db = db
        self._error = error

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            self._db.execute("ROLLBACK")
            raise self._error
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_an_upload_whose_record_finds_no_room_leaves_no_bytes_behind(
    server: LocalServer, client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = upload(client, b"kept\n", purpose="user_data")["id"]
    monkeypatch.setattr(server.storage, "_db", FailingCommit(server.storage._db, real_sqlite_full(tmp_path)))
    response = client.post("/files", files={"file": ("x.bin", os.urandom(5000))}, data={"purpose": "user_data"})
    assert_insufficient_storage(response)
    monkeypatch.undo()
    files = server.storage.files_dir
    assert [path.name for path in files.iterdir()] == [kept], "an unlisted file was left holding space"
    assert list(server.storage.tmp_dir.iterdir()) == []
    assert listed(client) == [kept]


def test_a_removal_the_disk_does_not_let_be_recorded_is_hidden_until_it_is(
    server: LocalServer, client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, kept = (upload(client, f"{n}\n".encode(), purpose="user_data")["id"] for n in range(2))
    storage = server.storage
    execute = storage._execute
    full = real_sqlite_full(tmp_path)
    room = [False]

    def no_room_for_removals(sql: str, params: Any = ()) -> int:
        if sql.startswith("UPDATE files SET deleted = 1") and not room[0]:
            raise full
        return execute(sql, params)

    monkeypatch.setattr(storage, "_execute", no_room_for_removals)
    response = client.delete(f"/files/{gone}")
    assert response.status_code == 200, response.text
    assert not (storage.files_dir / gone).exists(), "the bytes went first"
    record = storage.file_by_id(gone)
    assert record is not None and not record.deleted, "the disk did not let the removal be recorded"
    # It does not show as present meanwhile: not listed, not retrievable, not downloadable, not deletable twice.
    assert listed(client) == [kept]
    assert_error(client.get(f"/files/{gone}"), 404)
    assert_error(client.get(f"/files/{gone}/content"), 404)
    assert_error(client.delete(f"/files/{gone}"), 404)

    room[0] = True
    time.sleep(UNRECORDED_RETRY + 0.05)  # the next try: this long after the last, or once the disk has more room
    assert listed(client) == [kept]
    record = storage.file_by_id(gone)
    assert record is not None and record.deleted and record.blob_removed


def test_a_removal_cut_short_by_a_stop_is_recorded_at_the_next_start(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    for file_id in ("file-gone", "file-kept"):
        storage.blob(f"files/{file_id}").write_bytes(b"bytes")
        storage.add_file(FileRecord(file_id, "owner", 5, 1, None, "x", "user_data", f"files/{file_id}"))
    storage.blob("files/file-gone").unlink()  # the bytes went; the process stopped before recording it
    storage.close()
    again = Storage(tmp_path / "data")
    try:
        record = again.file_by_id("file-gone")
        assert record is not None and record.deleted and record.blob_removed
        page = again.file_page("owner", now=2, purpose=None, limit=10, ascending=True, after=None)
        assert (page.first_id, page.last_id) == ("file-kept", "file-kept")
    finally:
        again.close()


def test_a_failed_statement_inside_a_transaction_surfaces_as_itself(tmp_path: Path) -> None:
    # SQLite rolls the transaction back itself on a full disk; a second ROLLBACK used to raise "cannot rollback -
    # no transaction is active", which hid the cause and made the answer a plain 500.
    storage = Storage(tmp_path / "data")
    try:
        (pages,) = storage._db.execute("PRAGMA page_count").fetchone()
        storage._db.execute(f"PRAGMA max_page_count = {pages}")
        record = FileRecord("file-big", "owner", 1, 1, None, "x" * 200_000, "user_data", "files/file-big")
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full") as caught, storage.transaction():
            storage.add_file(record)
        assert is_disk_full(caught.value) and not storage._db.in_transaction
        storage._db.execute(f"PRAGMA max_page_count = {MAX_PAGES}")
        with storage.transaction():
            storage.add_file(record)
        assert storage.file_by_id("file-big") is not None
    finally:
        storage.close()


def test_an_old_data_directory_opens_on_a_full_disk_and_takes_its_update_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from .test_listing import OWNER, indexes, old_data_dir

    data = tmp_path / "data"
    old_data_dir(data)
    connect = sqlite3.connect

    def capped(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(database, *args, **kwargs)
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        db.execute(f"PRAGMA max_page_count = {pages}")  # no room for an index
        return db

    monkeypatch.setattr(sqlite3, "connect", capped)
    with caplog.at_level(logging.WARNING):
        storage = Storage(data)
    try:
        assert "data directory update 1 waits for the next start" in caplog.text
        assert storage._query("PRAGMA user_version")[0][0] == 0 and "files_live" not in indexes(storage)
        page = storage.file_page(OWNER, now=2_000_000_000, purpose="batch", limit=100, ascending=True, after=None)
        assert page.objects, "listings work without the indexes"
    finally:
        storage.close()
    monkeypatch.undo()
    again = Storage(data)
    try:
        assert "files_live" in indexes(again)
    finally:
        again.close()


# --- the pieces --------------------------------------------------------------------------------------------------


def test_what_counts_as_a_full_disk(tmp_path: Path) -> None:
    full = real_sqlite_full(tmp_path)
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert is_disk_full(full)
    try:
        try:
            raise full
        except sqlite3.Error:
            raise RuntimeError("raised while handling it") from None
    except RuntimeError as exc:
        assert not is_disk_full(exc), "`from None` says the cause is not the full disk"
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as cause:
            raise RuntimeError("wrapped") from cause
    except RuntimeError as exc:
        assert is_disk_full(exc)
    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorcode = 778  # SQLITE_IOERR_WRITE, as a failed write() reports it
    assert not is_disk_full(io_error, tmp_path), "an I/O error on a disk with room is not a full disk"
    for other in (OSError(errno.EIO, "Input/output error"), sqlite3.OperationalError("no such table"), ValueError()):
        assert not is_disk_full(other, tmp_path)


def test_the_reserve_is_given_up_and_taken_back_only_with_room_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reserve = SpaceReserve(tmp_path / "space-reserve")
    assert not reserve.release(), "nothing to give up yet"
    assert reserve.restore() and reserve.held and (tmp_path / "space-reserve").stat().st_size == RESERVE_BYTES
    assert reserve.release() and not reserve.held
    monkeypatch.setattr("openai_batches_server.disk_space.free_bytes", lambda directory: 2 * RESERVE_BYTES - 1)
    assert not reserve.restore() and not reserve.held, "taking it back must not fill the disk itself"
    monkeypatch.setattr("openai_batches_server.disk_space.free_bytes", lambda directory: 2 * RESERVE_BYTES)
    assert reserve.restore() and reserve.held
    assert sorted(path.name for path in tmp_path.iterdir()) == ["space-reserve"]
