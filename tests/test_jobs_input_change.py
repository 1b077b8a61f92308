"""A job's input changed after the job read it never reaches the service: the check, and whole runs that meet it.

The unit tests build a job in a temporary state directory and call the check where the runner calls it: before a
shard file is written (`write_shard_file`), when a run starts (`check_input`) and when a job is created again
(`jobs.create`). The end-to-end tests run jobs through `client.jobs.run` against the local server (ignoring
idempotency keys, as the public API does), change the input from `on_update` once the first batch is submitted, and
read every file uploaded to the server during the run to show that none holds a changed byte.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches import AsyncBatchClient, BatchClient
from openai_batches.jobs import Job, JobConflictError, JobInputChangedError
from openai_batches.jobs import input_check as input_check_module
from openai_batches.jobs.input_check import Change, first_difference
from openai_batches.jobs.planning import plan_shards, write_shard_file
from openai_batches.jobs.records import JobRecord, ShardRecord
from openai_batches.jobs.runs import check_input
from openai_batches.jobs.store import SQLiteJobStore, open_store
from openai_batches_server import LocalServer, run_server

KEY = "sk-jobs-input-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.2}
COUNT = 12
# One edit keeps the line's length: "question" and "EDITED!!" are both 8 bytes.
EDIT = (b"question 07", b"EDITED!! 07")


def request(custom_id: str, text: str) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def encoded(*requests: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in requests)


ORIGINAL = encoded(*(request(f"q{i:02d}", f"question {i:02d}") for i in range(COUNT)))
LINES = ORIGINAL.splitlines(keepends=True)
APPENDED = encoded(request("appended", "a request added at the end"))
INSERTED = encoded(request("inserted", "a request added at the top"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# How each change is made, the bytes the file holds after it, the line the error names, and bytes that only the
# changed file holds (none of which may reach the service).
CHANGES: dict[str, tuple[bytes, int, Change, bytes]] = {
    "edited": (ORIGINAL.replace(*EDIT), 8, Change.DIFFERS, b"EDITED"),
    "grown": (ORIGINAL + APPENDED, COUNT + 1, Change.GROWN, b"appended"),
    "shifted": (INSERTED + ORIGINAL, 1, Change.DIFFERS, b"inserted"),
}


def create(state: Path, path: Path, name: str = "job", **settings: Any) -> None:
    """A job created through the public API (local work only: the base URL is never called)."""
    with BatchClient(api_key=KEY, base_url="http://127.0.0.1:9/v1") as client:
        client.jobs.create(name, path, state_dir=state, **settings)


@pytest.fixture
def job(tmp_path: Path) -> Iterator[tuple[SQLiteJobStore, JobRecord, Path]]:
    """A job of 12 requests in shards of 3, planned: the store, the job as recorded, its input."""
    path = tmp_path / "requests.jsonl"
    path.write_bytes(ORIGINAL)
    create(tmp_path / "state", path, max_batch_requests=3)
    with open_store(tmp_path / "state") as store:
        record = recorded(store)
        assert len(plan_shards(store, record)) == 4
        yield store, record, path


def recorded(store: SQLiteJobStore, name: str = "job") -> JobRecord:
    record = store.get_job(name)
    assert record is not None
    return record


def shard(store: SQLiteJobStore, record: JobRecord, number: int) -> ShardRecord:
    return next(s for s in store.active_shards(record.id) if s.id == number)


def keep_stat(path: Path, change: Callable[[], object]) -> None:
    """Make a change the stat cannot see: same inode, and the mtime put back (a coarse clock, `touch -r`)."""
    before = path.stat()
    change()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


# --- the first line that differs --------------------------------------------------------------------------------


def test_the_unchanged_input_has_no_difference(job: tuple[SQLiteJobStore, JobRecord, Path]) -> None:
    store, record, _path = job
    assert first_difference(store, record) is None
    assert (record.input_bytes, record.input_hash) == (len(ORIGINAL), sha256(ORIGINAL))
    check_input(store, record)


@pytest.mark.parametrize(
    ("changed", "line", "change"),
    [
        pytest.param(ORIGINAL.replace(*EDIT), 8, Change.DIFFERS, id="edited-same-length"),
        pytest.param(ORIGINAL + APPENDED, COUNT + 1, Change.GROWN, id="grown"),
        pytest.param(b"".join(LINES[:-2]), COUNT - 1, Change.CUT, id="truncated"),
        pytest.param(b"".join(LINES[:-1]) + LINES[-1][:20], COUNT, Change.DIFFERS, id="truncated-mid-line"),
        pytest.param(INSERTED + ORIGINAL, 1, Change.DIFFERS, id="shifted"),
        pytest.param(LINES[0] + b"\n" + b"".join(LINES[1:]), 2, Change.DIFFERS, id="blank-line-inserted"),
    ],
)
def test_the_first_differing_line_is_named(
    job: tuple[SQLiteJobStore, JobRecord, Path], changed: bytes, line: int, change: Change
) -> None:
    store, record, path = job
    path.write_bytes(changed)
    difference = first_difference(store, record)
    assert difference is not None
    assert (difference.line, difference.change) == (line, change)
    assert (difference.size, difference.sha256) == (len(changed), sha256(changed))
    with pytest.raises(JobInputChangedError) as caught:
        check_input(store, record)
    error = caught.value
    assert (error.job, error.path, error.line) == ("job", str(path), line)
    assert (error.old_size, error.old_sha256) == (len(ORIGINAL), sha256(ORIGINAL))
    assert (error.new_size, error.new_sha256) == (len(changed), sha256(changed))
    message = str(error)
    assert message.startswith(f"job job: its input {path} changed since the job was created: ")
    assert f"line {line} " in message
    assert f"it was {len(ORIGINAL):,} bytes with sha256 {sha256(ORIGINAL)}" in message
    assert f"it is {len(changed):,} bytes with sha256 {sha256(changed)}" in message
    assert "Nothing from the changed file was sent" in message
    assert "`openai-batches job resume job`" in message and "create a new job for the new file" in message


def test_a_replaced_file_of_the_same_size_is_a_change(job: tuple[SQLiteJobStore, JobRecord, Path]) -> None:
    store, record, path = job
    other = path.with_name("other.jsonl")
    other.write_bytes(ORIGINAL.replace(b"question 10", b"QUESTION 10"))
    os.replace(other, path)
    assert path.stat().st_ino != record.input_inode
    with pytest.raises(JobInputChangedError, match="line 11 differs") as caught:
        write_shard_file(store, record, shard(store, record, 1), path.with_name("shard1.jsonl"))
    assert caught.value.line == 11 and caught.value.new_size == len(ORIGINAL)
    assert not path.with_name("shard1.jsonl").exists()


def test_only_other_bytes_changed_is_a_change_without_a_line(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(LINES[0] + b"  \n" + LINES[1])
    create(tmp_path / "state", path)
    with open_store(tmp_path / "state") as store:
        record = recorded(store)
        path.write_bytes(LINES[0] + b" \t\n" + LINES[1])
        difference = first_difference(store, record)
        assert difference is not None and (difference.line, difference.change) == (None, Change.OUTSIDE)
        with pytest.raises(JobInputChangedError, match="no request in it differs") as caught:
            check_input(store, record)
        assert caught.value.line is None


def test_a_gone_input_says_so(job: tuple[SQLiteJobStore, JobRecord, Path]) -> None:
    store, record, path = job
    path.unlink()
    for check in (
        lambda: check_input(store, record),
        lambda: write_shard_file(store, record, shard(store, record, 1), path.with_name("shard1.jsonl")),
    ):
        with pytest.raises(JobInputChangedError, match=f"its input {path} is gone") as caught:
            check()
        assert caught.value.path == str(path) and caught.value.line is None


# --- before a shard is written ------------------------------------------------------------------------------------


def test_shards_of_an_unchanged_input_are_its_bytes_and_cost_no_hash(
    job: tuple[SQLiteJobStore, JobRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, record, path = job

    def no_full_read(*args: object) -> None:
        raise AssertionError("the whole input was read although its stat is unchanged")

    monkeypatch.setattr(input_check_module, "_sha256", no_full_read)
    monkeypatch.setattr(input_check_module, "first_difference", no_full_read)
    written = [
        write_shard_file(store, record, shard(store, record, n), path.with_name(f"shard{n}.jsonl")).read_bytes()
        for n in (1, 2, 3, 4)
    ]
    assert written == [b"".join(LINES[i : i + 3]) for i in (0, 3, 6, 9)]


def test_an_edit_the_stat_cannot_see_is_caught_by_the_line_digests(
    job: tuple[SQLiteJobStore, JobRecord, Path],
) -> None:
    store, record, path = job
    keep_stat(path, lambda: path.write_bytes(ORIGINAL.replace(*EDIT)))
    # Shard 2 holds lines 4-6, untouched: it is written, the same bytes as before the edit.
    assert write_shard_file(store, record, shard(store, record, 2), path.with_name("s2")).read_bytes() == b"".join(
        LINES[3:6]
    )
    target = path.with_name("s3")
    with pytest.raises(JobInputChangedError, match="line 8 differs") as caught:
        write_shard_file(store, record, shard(store, record, 3), target)
    assert caught.value.line == 8 and caught.value.new_sha256 == sha256(ORIGINAL.replace(*EDIT))
    assert not target.exists() and not list(path.parent.glob(".s3.*")), "nothing is left at or beside the target"


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_changed_input_stops_every_shard(name: str, job: tuple[SQLiteJobStore, JobRecord, Path]) -> None:
    store, record, path = job
    changed, line, _change, _marker = CHANGES[name]
    path.write_bytes(changed)
    os.utime(path, ns=(path.stat().st_atime_ns, record.input_mtime_ns + 1_000_000_000))  # a clock that moved
    for number in (1, 2, 3, 4):
        target = path.with_name(f"shard{number}.jsonl")
        with pytest.raises(JobInputChangedError) as caught:
            write_shard_file(store, record, shard(store, record, number), target)
        assert caught.value.line == line and not target.exists()
        assert f"line {line} " in str(caught.value)


def test_a_touched_identical_input_is_hashed_once_then_trusted(
    job: tuple[SQLiteJobStore, JobRecord, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, record, path = job
    hashes: list[str] = []
    real = input_check_module._sha256

    def counted(source: Any) -> str:
        hashes.append(digest := real(source))
        return digest

    monkeypatch.setattr(input_check_module, "_sha256", counted)
    os.utime(path, ns=(path.stat().st_atime_ns, record.input_mtime_ns + 1_000_000_000))
    for number in (1, 2):
        # `record` is the job as the run read it before the touch: the store's refreshed stat is what counts.
        write_shard_file(store, record, shard(store, record, number), path.with_name(f"shard{number}.jsonl"))
    assert hashes == [sha256(ORIGINAL)], "one full hash after the touch, none for the next shard"
    assert recorded(store).input_mtime_ns == path.stat().st_mtime_ns

    copy = path.with_name("copy.jsonl")
    copy.write_bytes(ORIGINAL)
    os.replace(copy, path)  # the same bytes under a new inode
    check_input(store, recorded(store))
    now = path.stat()
    assert (recorded(store).input_inode, recorded(store).input_mtime_ns) == (now.st_ino, now.st_mtime_ns)
    write_shard_file(store, recorded(store), shard(store, record, 3), path.with_name("shard3.jsonl"))
    assert len(hashes) == 1, "check_input recorded the new stat: the shard did not hash the file again"


def test_a_job_read_without_digests_or_stat_is_hashed_once_and_still_sent(
    job: tuple[SQLiteJobStore, JobRecord, Path],
) -> None:
    """A state directory from before the digests: its rows have none, its job no stat; the file is trusted once its
    SHA-256 matches, then checked by stat."""
    store, _record, path = job
    db = sqlite3.connect(store.path)
    with db:
        db.execute("UPDATE requests SET digest = NULL")
        db.execute("UPDATE jobs SET input_mtime_ns = 0, input_inode = 0")
    db.close()
    old = recorded(store)
    assert write_shard_file(store, old, shard(store, old, 1), path.with_name("s1")).read_bytes() == b"".join(LINES[:3])
    assert recorded(store).input_inode == path.stat().st_ino
    path.write_bytes(ORIGINAL + APPENDED)
    with pytest.raises(JobInputChangedError, match=f"line {COUNT + 1} is past its original end"):
        write_shard_file(store, old, shard(store, old, 2), path.with_name("s2"))


# --- creating the job again ----------------------------------------------------------------------------------------


def test_creating_again_over_the_changed_file_says_it_changed(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(ORIGINAL)
    state = tmp_path / "state"
    create(state, path)
    path.write_bytes(ORIGINAL.replace(*EDIT))
    with pytest.raises(JobInputChangedError) as caught:
        create(state, path)
    message = str(caught.value)
    assert message.startswith(f"a job named 'job' already exists for {path}, and that file changed since the job was")
    assert "line 8 differs" in message and "other input" not in message
    assert f"it was {len(ORIGINAL):,} bytes with sha256 {sha256(ORIGINAL)}" in message
    assert f"it is {len(ORIGINAL):,} bytes with sha256 {sha256(ORIGINAL.replace(*EDIT))}" in message
    assert caught.value.line == 8

    other = tmp_path / "other.jsonl"
    other.write_bytes(ORIGINAL.replace(*EDIT))
    with pytest.raises(JobConflictError, match=r"already exists with other input") as conflict:
        create(state, other)
    assert not isinstance(conflict.value, JobInputChangedError), "another file is not the job's file changed"

    path.write_bytes(ORIGINAL)
    create(state, path, max_attempts=5)  # the original back: the job again, as before
    with open_store(state) as store:
        assert recorded(store).max_attempts == 5


# --- whole runs against the local server ------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


class Uploads:
    """Every file uploaded for batches during a run, read from the server each time the run reports progress
    (an upload lives from its step until its batch is merged, so no report misses one)."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.contents: dict[str, bytes] = {}

    def collect(self) -> None:
        with BatchClient(api_key=KEY, base_url=self.server.base_url) as client:
            for file in client.files.list(purpose="batch"):
                if file.id not in self.contents:
                    with client.files.content(file.id) as content:
                        self.contents[file.id] = content.read()

    def batch_inputs(self) -> list[str]:
        with BatchClient(api_key=KEY, base_url=self.server.base_url) as client:
            return [batch.input_file_id for batch in client.batches.list(limit=100)]

    def requests_sent(self) -> int:
        with BatchClient(api_key=KEY, base_url=self.server.base_url) as client:
            counts = [batch.to_dict().get("request_counts") or {} for batch in client.batches.list(limit=100)]
            return sum(int(count.get("total", 0)) for count in counts)


def run(mode: str, server: LocalServer, state: Path, on_update: Callable[[Job], object] | None = None) -> Job:
    """`client.jobs.run("job")` on a fresh BatchClient, or awaited on a fresh AsyncBatchClient."""
    if mode == "sync":
        with BatchClient(api_key=KEY, base_url=server.base_url) as client:
            return client.jobs.run("job", on_update=on_update, state_dir=state, **FAST)

    async def main() -> Job:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            return await client.jobs.run("job", on_update=on_update, state_dir=state, **FAST)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", sorted(CHANGES))
def test_an_input_changed_mid_run_never_reaches_the_service(
    name: str, mode: str, server: LocalServer, tmp_path: Path
) -> None:
    changed, line, _change, marker = CHANGES[name]
    path = tmp_path / "requests.jsonl"
    path.write_bytes(ORIGINAL)
    state = tmp_path / "state"
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        client.jobs.create("job", path, max_batch_requests=3, max_in_flight=1, state_dir=state)
    uploads = Uploads(server)
    edits: list[Job] = []

    def on_update(job: Job) -> None:
        uploads.collect()
        if not edits and job.batches_in_flight >= 1:  # the first shard is submitted; three are still to go
            edits.append(job)
            path.write_bytes(changed)

    with pytest.raises(JobInputChangedError) as caught:
        run(mode, server, state, on_update)
    uploads.collect()
    error = caught.value
    assert edits and error.job == "job" and error.path == str(path) and error.line == line
    assert f"job job: its input {path} changed since the job was created" in str(error)
    assert f"line {line} " in str(error)
    assert uploads.contents and set(uploads.batch_inputs()) <= set(uploads.contents), "every batch's upload was read"
    sent = b"".join(uploads.contents.values())
    assert marker not in sent, "no byte of the changed file was uploaded"
    assert all(content in ORIGINAL for content in uploads.contents.values()), "every upload is a run of original lines"

    with pytest.raises(JobInputChangedError) as again:
        run(mode, server, state)
    assert str(again.value) == str(error), "a resumed run says what the stopped one said"

    path.write_bytes(ORIGINAL)
    job = run(mode, server, state, lambda _job: uploads.collect())
    assert (job.status, job.succeeded, job.pending) == ("completed", COUNT, 0)
    results = list(job.results())
    assert [r.custom_id for r in results] == [f"q{i:02d}" for i in range(COUNT)]
    assert [r.text for r in results] == [f"Echo: question {i:02d}" for i in range(COUNT)]
    assert uploads.requests_sent() == COUNT, "every request was sent once, in one batch"
    assert marker not in b"".join(uploads.contents.values())
