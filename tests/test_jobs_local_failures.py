"""Local failures of jobs: a full disk, a read-only state folder, an unreadable input, a damaged database.

Each exits 8 with one line naming the path (and, where the job can go on, the command that goes on and what to fix
first), never 1 as if the network had failed, never a traceback; once the cause is gone, the same job finishes with
every request answered once.

The disk is real where the machine allows it: the state folder is a tmpfs of its own (`mount -t tmpfs`, as root, as
CI runs), filled with a filler file, remounted read-only, then given room or made writable again, and
`openai-batches job run` / `job resume` run as processes against a local server. Where mounting is refused, the
same failures are injected into this process (writes under the folder fail with ENOSPC or EROFS, the state
database is capped at its size or opened read-only, both raising SQLite's own errors) and the commands run through
`cli.main` in it: weaker (no real disk fills) but never skipped. The first tests check `jobs.local_state` itself,
with real SQLite errors.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openai_batches import BatchClient, BatchWaitTimeout
from openai_batches.cli import main
from openai_batches.jobs import JobBusyError, JobStateError
from openai_batches.jobs.local_state import as_state_error, is_local_failure, local_state_errors, restate
from openai_batches_server import LocalServer, run_server

pytestmark = pytest.mark.timeout(180)

KEY = "sk-local-failures-0123456789"
CHAT = "/v1/chat/completions"
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1", "--quiet"]


# --- jobs.local_state -------------------------------------------------------------------------------------------


def converted(exc: BaseException, **kwargs: Any) -> JobStateError:
    options: dict[str, Any] = {"job": "big", "store_path": Path("/state/jobs.sqlite3"), "resumable": True}
    options.update(kwargs)
    with pytest.raises(JobStateError) as caught, local_state_errors(**options):
        raise exc
    assert caught.value.__cause__ is exc, "chained to what the system said"
    return caught.value


def real_sqlite_error(tmp_path: Path, kind: str) -> sqlite3.Error:
    """A SQLite error as SQLite raises it (with its result code), not one made up by hand."""
    path = tmp_path / f"{kind}.sqlite3"
    try:
        if kind == "full":
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE t (x BLOB)")
            db.execute("PRAGMA max_page_count = 3")  # a disk with room for three pages
            db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        elif kind == "readonly":
            sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
            sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")
        elif kind == "cantopen":
            sqlite3.connect(tmp_path / "no such folder" / "jobs.sqlite3")
        elif kind == "notadb":
            path.write_bytes(b"this is not a database" * 100)
            sqlite3.connect(path).execute("SELECT * FROM sqlite_master")
        elif kind == "sql":
            sqlite3.connect(path).execute("SELECT * FROM no_such_table")
        elif kind == "constraint":
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE t (x UNIQUE)")
            db.execute("INSERT INTO t VALUES (1)")
            db.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"SQLite raised nothing for {kind}")


def test_a_full_disk_names_the_file_and_says_the_job_goes_on() -> None:
    error = converted(OSError(errno.ENOSPC, "No space left on device", "/state/jobs/big/shard-3.jsonl"))
    assert (error.job, error.path, error.resumable) == ("big", "/state/jobs/big/shard-3.jsonl", True)
    assert str(error) == (
        "job big: could not write /state/jobs/big/shard-3.jsonl: No space left on device; nothing it recorded was "
        "lost: job big can be resumed by running it again once there is space"
    )


def test_the_callers_next_step_and_what_to_fix() -> None:
    step = "job big can be resumed with `openai-batches job resume big`"
    cases = {
        errno.EROFS: "once the folder can be written again",
        errno.EACCES: "once the permission is fixed",
        errno.EDQUOT: "once there is space",
        errno.EIO: "once the disk works again",
        errno.EMFILE: "once the cause is fixed",
    }
    for number, once in cases.items():
        error = converted(OSError(number, os.strerror(number), "/state/x"), next_step=step)
        assert str(error).endswith(f"; {step} {once}"), str(error)
    error = converted(OSError(errno.EACCES, "Permission denied", "/in.jsonl"), resumable=False, next_step=step)
    assert str(error) == "job big: could not read or write /in.jsonl: Permission denied" and not error.resumable


def test_an_error_that_names_no_file() -> None:
    # A write to a file already open (the usual way a disk fills) names no file: the folder is named, not the
    # database, which the user would otherwise go and look at.
    error = converted(OSError(errno.ENOSPC, "No space left on device"))
    assert error.path == "/state/jobs.sqlite3"
    assert str(error).startswith("job big: could not write a file in /state: No space left on device;")
    error = converted(OSError(errno.ENOSPC, "No space left on device"), file=Path("/out/merged.jsonl"))
    assert error.path == "/out/merged.jsonl" and "could not write /out/merged.jsonl:" in str(error)
    error = converted(OSError(errno.ENOSPC, "No space left on device"), job=None, store_path=None, resumable=False)
    assert (str(error), error.path, error.job) == (
        "could not write the job's local state: No space left on device",
        None,
        "",
    )


def test_real_sqlite_errors(tmp_path: Path) -> None:
    full = converted(real_sqlite_error(tmp_path, "full"))
    assert str(full).startswith(
        "job big: could not write /state/jobs.sqlite3 (the jobs' state database): database or disk is full; "
    ) and str(full).endswith("once there is space")
    readonly = converted(real_sqlite_error(tmp_path, "readonly"))
    assert "could not write /state/jobs.sqlite3 (the jobs' state database): attempt to write a readonly database" in (
        str(readonly)
    ) and str(readonly).endswith("once the state folder can be written again")
    cantopen = converted(real_sqlite_error(tmp_path, "cantopen"))
    assert "could not open /state/jobs.sqlite3 (the jobs' state database): unable to open database file" in str(
        cantopen
    )
    damaged = converted(real_sqlite_error(tmp_path, "notadb"))
    assert not damaged.resumable, "no amount of space makes a damaged database readable"
    assert str(damaged) == (
        "job big: could not read /state/jobs.sqlite3 (the jobs' state database): file is not a database; it cannot "
        "be read as it is (restore it from a backup, or move it away to start afresh)"
    )


def test_what_is_not_a_local_failure_passes_unchanged(tmp_path: Path) -> None:
    # The network's errors, the library's own (some are TimeoutErrors), SQL mistakes (bugs: their traceback is the
    # report) and anything else.
    others: list[BaseException] = [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        BrokenPipeError(errno.EPIPE, "Broken pipe"),
        TimeoutError("timed out"),
        socket.gaierror(-2, "Name or service not known"),
        BatchWaitTimeout("gave up", batch=None, elapsed=3.0),
        JobBusyError("held", job="big"),
        ValueError("not a local failure"),
        real_sqlite_error(tmp_path, "sql"),
        real_sqlite_error(tmp_path, "constraint"),
        sqlite3.ProgrammingError("Cannot operate on a closed database."),
    ]
    for exc in others:
        assert not is_local_failure(exc), exc
        with pytest.raises(type(exc)) as caught, local_state_errors("big", Path("/state/jobs.sqlite3"), True):
            raise exc
        assert caught.value is exc


def test_in_async_code() -> None:
    async def write() -> None:
        with local_state_errors("big", Path("/state/jobs.sqlite3"), True):
            await asyncio.sleep(0)
            raise OSError(errno.ENOSPC, "No space left on device", "/state/jobs/big/results.jsonl")

    with pytest.raises(JobStateError) as caught:
        asyncio.run(write())
    assert "could not write /state/jobs/big/results.jsonl: No space left on device" in str(caught.value)


def test_restated_in_the_callers_words() -> None:
    cause = OSError(errno.ENOSPC, "No space left on device", "/state/jobs/big/shard-1.jsonl")
    error = as_state_error(cause, "big", Path("/state/jobs.sqlite3"), True)
    assert error is not None and error.__cause__ is None  # as_state_error only builds it; `raise from` chains it
    error.__cause__ = cause
    step = "job big can be resumed with `openai-batches job resume big`"
    again = restate(error, step)
    assert str(again) == (
        f"job big: could not write /state/jobs/big/shard-1.jsonl: No space left on device; {step} once there is space"
    )
    assert (again.path, again.resumable, again.__cause__) == (error.path, True, cause)
    stuck = as_state_error(cause, "big", None, False)
    assert stuck is not None
    stuck.__cause__ = cause
    assert (
        str(restate(stuck, step)) == "job big: could not write /state/jobs/big/shard-1.jsonl: No space left on device"
    )
    made_by_hand = JobStateError("its own words", job="big", path=None, resumable=True)
    assert restate(made_by_hand, step) is made_by_hand


# --- the command line on a failing disk --------------------------------------------------------------------------


def request(custom_id: str, text: str) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def write_requests(path: Path, count: int) -> list[str]:
    ids = [f"q-{i:05d}" for i in range(count)]
    with path.open("w") as out:
        for number, custom_id in enumerate(ids):
            out.write(json.dumps(request(custom_id, f"question {number} " + "x" * 100)) + "\n")
    return ids


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        assert "Traceback" not in self.stderr, self.stderr
        (line,) = self.stderr.splitlines()
        assert line.startswith("openai-batches: error: "), line
        return line


def _mount(*options: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *options, str(target)], capture_output=True, text=True, timeout=30)


class StateDisk:
    """The state folder on a disk this test controls: fill it, free it, turn it read-only and back.

    A tmpfs of its own when this process may mount one; otherwise (`mount` refused, as for an unprivileged user)
    the failures are injected into this process, and `cli` runs the command in it instead of in a subprocess.
    """

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self._patch = monkeypatch
        self._full = False
        self._read_only = False
        path.mkdir(parents=True)
        try:
            mounted = _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", target=path)
        except (OSError, subprocess.SubprocessError) as exc:  # no mount command at all
            self.refusal = str(exc)
            self.real = False
        else:
            self.refusal = mounted.stderr.strip()
            self.real = mounted.returncode == 0
        if not self.real:
            self._inject()

    def close(self) -> None:
        if self.real:  # read-only or not; lazily if a process of the test still has a file open there
            done = subprocess.run(["umount", str(self.path)], capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=30, check=True)

    def fill(self, leave: int) -> None:
        """Leave about `leave` bytes free on the disk."""
        if not self.real:
            self._full = True
            return
        stat = os.statvfs(self.path)
        with (self.path / "filler").open("wb") as out:
            out.truncate(0)
            remaining = stat.f_bavail * stat.f_frsize - leave
            block = b"\0" * (1 << 20)
            while remaining > 0:
                remaining -= out.write(block[: min(remaining, len(block))])

    def free(self) -> None:
        self._full = False
        (self.path / "filler").unlink(missing_ok=True)

    def read_only(self) -> None:
        self._read_only = True
        if self.real:
            done = _mount("-o", "remount,ro", target=self.path)
            assert done.returncode == 0, done.stderr

    def writable(self) -> None:
        self._read_only = False
        if self.real:
            done = _mount("-o", "remount,rw", target=self.path)
            assert done.returncode == 0, done.stderr

    def cli(self, server: LocalServer, *argv: str) -> Done:
        if self.real:
            env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
            env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url)
            done = subprocess.run(
                [sys.executable, "-m", "openai_batches", *argv], env=env, capture_output=True, text=True, timeout=120
            )
            return Done(done.returncode, done.stdout, done.stderr)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        return Done(code, out.getvalue(), err.getvalue())

    # --- injected failures, where no disk can be mounted -----------------------------------------------------

    def _inside(self, file: object) -> bool:
        if not isinstance(file, str | os.PathLike):
            return False
        return Path(os.path.abspath(os.fspath(file))).is_relative_to(self.path)

    def _inject(self) -> None:
        opener = builtins.open
        connect = sqlite3.connect
        disk = self

        def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if disk._inside(file) and any(flag in mode for flag in "wax+"):
                if disk._read_only:
                    raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(file))
                if disk._full:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
            return opener(file, mode, *args, **kwargs)

        def guarded_connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            if disk._inside(database) and disk._read_only:
                kwargs["uri"] = True
                return connect(f"file:{os.fspath(database)}?mode=ro", *args, **kwargs)
            db = connect(database, *args, **kwargs)
            if disk._inside(database) and disk._full:
                # SQLite's own "database or disk is full" as soon as the database would grow.
                (pages,) = db.execute("PRAGMA page_count").fetchone()
                db.execute(f"PRAGMA max_page_count = {max(int(pages), 1)}")
            return db

        self._patch.setattr(builtins, "open", guarded_open)
        self._patch.setattr(io, "open", guarded_open)  # what Path.open calls
        self._patch.setattr(sqlite3, "connect", guarded_connect)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.delenv("OPENAI_BATCHES_STATE_DIR", raising=False)
        monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
        monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
        yield running


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateDisk]:
    state = StateDisk(tmp_path / "state", monkeypatch)
    try:
        yield state
    finally:
        state.close()


def run_command(disk: StateDisk, verb: str, name: str, *rest: str) -> list[str]:
    return ["job", verb, name, *rest, "--state-dir", str(disk.path), *FAST]


def check_finished(server: LocalServer, disk: StateDisk, name: str, ids: list[str], shard: int) -> None:
    """Every request answered once, in input order; one batch per shard and attempt; no upload left behind."""
    merged = disk.path.parent / f"{name}-merged.jsonl"
    done = disk.cli(server, "job", "results", name, "-o", str(merged), "--state-dir", str(disk.path))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in merged.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == ids
    assert all(line["response"]["status_code"] == 200 for line in lines)
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batches = [batch.to_dict() for batch in client.batches.list(limit=100)]
        uploads = [file.filename for file in client.files.list(purpose="batch")]
    per_shard = Counter((b["metadata"]["shard"], b["metadata"]["attempt"]) for b in batches)
    assert len(per_shard) == -(-len(ids) // shard) and max(per_shard.values()) == 1, per_shard
    assert uploads == [], f"uploads left on the service: {uploads}"


def test_a_full_disk_mid_run_exits_8_and_the_job_resumes(server: LocalServer, disk: StateDisk, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    ids = write_requests(path, 2000)
    with BatchClient() as client:  # recorded while there is room; nothing is sent yet
        client.jobs.create("full", path, max_batch_requests=200, state_dir=disk.path)
    disk.fill(leave=256 * 1024)  # less than the shard files, downloads and records of the run need

    done = disk.cli(server, *run_command(disk, "run", "full", str(path), "--max-batch-requests", "200"))
    line = done.error_line()
    assert done.returncode == 8, done.stderr
    assert f"{disk.path}/" in line, "names a path inside the state folder"
    resume = (
        f"job full can be resumed with `openai-batches job resume full --state-dir {disk.path}` once there is space"
    )
    assert line.endswith(resume), line

    disk.free()
    done = disk.cli(server, *run_command(disk, "resume", "full"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("job full: completed, 2,000 of 2,000 requests final"), done.stdout
    check_finished(server, disk, "full", ids, 200)


def test_a_full_disk_while_the_input_is_read_keeps_nothing_half_written(
    server: LocalServer, disk: StateDisk, tmp_path: Path
) -> None:
    path = tmp_path / "requests.jsonl"
    ids = write_requests(path, 5000)  # its index alone is bigger than the room left
    disk.fill(leave=64 * 1024)
    done = disk.cli(server, *run_command(disk, "run", "ingest", str(path), "--max-batch-requests", "1000"))
    line = done.error_line()
    assert done.returncode == 8, done.stderr
    assert f"{disk.path}/" in line and line.endswith(
        "run the same `openai-batches job run` again once there is space"
    ), line

    disk.free()
    done = disk.cli(server, "job", "status", "ingest", "--state-dir", str(disk.path))
    assert done.returncode == 2 and "no job named 'ingest'" in done.error_line(), "the job was not half created"
    done = disk.cli(server, *run_command(disk, "run", "ingest", str(path), "--max-batch-requests", "1000"))
    assert done.returncode == 0, done.stderr
    check_finished(server, disk, "ingest", ids, 1000)


def test_a_read_only_state_folder_exits_8_naming_it(server: LocalServer, disk: StateDisk, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    ids = write_requests(path, 300)
    with BatchClient() as client:
        client.jobs.create("frozen", path, max_batch_requests=100, state_dir=disk.path)
    disk.read_only()
    done = disk.cli(server, *run_command(disk, "resume", "frozen"))
    line = done.error_line()
    assert done.returncode == 8, done.stderr
    assert f"{disk.path}/" in line, "names a path inside the state folder"
    assert "job frozen can be resumed with `openai-batches job resume frozen" in line, line

    disk.writable()
    done = disk.cli(server, *run_command(disk, "resume", "frozen"))
    assert done.returncode == 0, done.stderr
    check_finished(server, disk, "frozen", ids, 100)


# --- an input that cannot be read --------------------------------------------------------------------------------


def fail_to_open(monkeypatch: pytest.MonkeyPatch, target: Path) -> Callable[[], int]:
    """Opening `target` fails with EACCES (root reads any file, so a chmod would not stop this test's user)."""
    opener = builtins.open
    attempts = [0]

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and os.path.abspath(os.fspath(file)) == str(target):
            attempts[0] += 1
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return opener(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    return lambda: attempts[0]


def test_an_unreadable_input_exits_8_naming_it(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "requests.jsonl"
    write_requests(path, 10)
    state = tmp_path / "state"
    served = server.requests_served
    attempts = fail_to_open(monkeypatch, path.resolve())
    for endpoint in ([], ["--endpoint", CHAT]):  # the first line read for the endpoint, or the whole file indexed
        code = main(["job", "run", "locked", str(path), *endpoint, "--state-dir", str(state), *FAST])
        err = capsys.readouterr().err
        assert code == 8 and "Traceback" not in err, err
        assert err.strip() == (
            f"openai-batches: error: job locked: could not read or write {path.resolve() if endpoint else path}: "
            "Permission denied; run the same `openai-batches job run` again once the permission is fixed"
        )
    assert attempts() >= 2 and server.requests_served == served, "nothing was sent"


def test_an_input_that_is_a_folder_is_refused(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Refused before anything is read or created, like a missing file: a usage mistake, not a failing disk.
    folder = tmp_path / "requests.jsonl"
    folder.mkdir()
    state = tmp_path / "state"
    code = main(["job", "run", "dir", str(folder), "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"openai-batches: error: not a file: {folder}"
    assert not state.exists()
