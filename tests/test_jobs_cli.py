"""`openai-batches job ...` against the local server, in-process (`cli.main`), as `test_cli.py` does for batches."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches._cli_job import JobProgress, status_table
from openai_batches.cli import main
from openai_batches.jobs import Job
from openai_batches_server import LocalServer, run_server

KEY = "sk-job-cli-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1"]
PLAIN = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d job \S+ \w+ [\d,]+/[\d,]+ final, [\d,]+ failed, \d+ batches "
    r"in flight \(\d+:\d\d\)$"
)


def request(custom_id: str, text: str = "hello") -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
        monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
        yield running


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    path = tmp_path / "requests.jsonl"
    lines = [request(f"q-{i}", f"question {i}") for i in range(9)] + [request("fail-q-9")]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str) -> str:
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("openai-batches: error: ")
    return line


def test_run_status_list_results(server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "job", "run", "eval", str(requests_file), "--max-batch-requests", "4", *FAST)
    assert code == 0, err
    assert out.splitlines()[0] == "job eval: completed, 10 of 10 requests final"
    assert "succeeded 9, failed 1" in out
    progress = err.splitlines()
    assert progress and all(PLAIN.match(line) for line in progress), err
    assert progress[-1].split(" ", 1)[1].startswith("job eval completed 10/10 final, 1 failed")

    code, out, _ = run(capsys, "job", "status", "--price", "gpt-4o-mini=0.075,0.3")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == [
        "NAME",
        "STATUS",
        "SUCCEEDED",
        "FAILED",
        "MISSING",
        "PENDING",
        "BATCHES",
        "IN",
        "FLIGHT",
        "ATTEMPTS",
        "TOKENS",
        "IN/OUT",
        "COST",
    ]
    assert row.split()[:9] == ["eval", "completed", "9", "1", "0", "0", "3", "0", "10"]
    assert row.split()[-1].startswith("$")

    # One job: its row, then its whole headline.
    code, out, _ = run(capsys, "job", "status", "eval", "--price", "gpt-4o-mini=0.075,0.3")
    assert code == 0 and out.splitlines()[1].split()[:3] == ["eval", "completed", "9"]
    assert "succeeded 9, failed 1, no result 0, cancelled 0, pending 0" in out and "batches 3" in out

    code, out, _ = run(capsys, "job", "status", "eval", "--json")
    document = json.loads(out)
    assert (document["name"], document["status"], document["summary"]["batches"]) == ("eval", "completed", 3)
    assert document["summary"]["attempts"] == {"1": 10} and document["pending"] == 0

    code, out, _ = run(capsys, "job", "list")
    assert out.splitlines()[1].split()[:3] == ["eval", "completed", "10"]
    assert json.loads(run(capsys, "job", "list", "--json")[1])[0]["name"] == "eval"

    code, out, _ = run(capsys, "job", "results", "eval")
    assert [json.loads(line)["custom_id"] for line in out.splitlines()] == [f"q-{i}" for i in range(9)] + ["fail-q-9"]
    target = requests_file.parent / "merged.jsonl"
    code, out, _ = run(capsys, "job", "results", "eval", "-o", str(target))
    assert (code, out) == (0, f"wrote 10 results to {target}: 9 succeeded, 1 failed\n")
    assert len(target.read_text().splitlines()) == 10
    code, out, _ = run(capsys, "job", "results", "eval", "-o", str(target), "--json")
    assert json.loads(out)["results"] == 10

    # Running it again: nothing is sent, the same summary comes back.
    code, out, _ = run(capsys, "job", "run", "eval", str(requests_file), "--json", "-q")
    assert code == 0 and json.loads(out)["summary"]["batches"] == 3


def test_refusals_exit_2(
    server: LocalServer, requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "job", "run", "eval", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no such file" in error_line(err)
    code, _, err = run(capsys, "job")
    assert code == 2 and "a job command is required" in error_line(err)
    code, _, err = run(capsys, "job", "run", "eval", str(requests_file), "--endpoint", "/v1/nope")
    assert code == 2 and "unknown endpoint '/v1/nope'" in error_line(err)
    code, _, err = run(capsys, "job", "run", "bad name", str(requests_file))
    assert code == 2 and "job name" in error_line(err)
    code, _, err = run(capsys, "job", "run", "eval", str(requests_file), "--max-attempts", "0")
    assert code == 2 and "at least 1" in err
    code, _, err = run(capsys, "job", "run", "eval", str(requests_file), *FAST, "-q")
    assert code == 0, err
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(request("z")) + "\n")
    code, _, err = run(capsys, "job", "run", "eval", str(other))
    assert code == 2 and "already exists with other input" in error_line(err)
    # An unknown job name: nothing can be sent for it, so it is refused like any other bad argument.
    served = server.requests_served
    for command in (["resume", "nothing"], ["status", "nothing"], ["results", "nothing"], ["cancel", "nothing"]):
        code, _, err = run(capsys, "job", *command)
        assert code == 2 and "no job named 'nothing'" in error_line(err), command
    code, _, err = run(capsys, "job", "delete", "nothing")
    assert code == 2 and "no job named 'nothing'" in error_line(err)
    assert server.requests_served == served, "nothing was sent for an unknown job"


def test_an_unknown_job_in_an_empty_state_folder_leaves_it_empty(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    for command in ("resume", "status", "results", "cancel", "delete"):
        code, _, err = run(capsys, "job", command, "nothing", "--state-dir", str(empty))
        assert code == 2 and "no job named 'nothing'" in error_line(err), command
    assert not empty.exists(), "no store was created for a job that is not there"


def test_results_of_an_unfinished_job_exit_7(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("later", requests_file)
    code, _, err = run(capsys, "job", "results", "later")
    assert code == 7 and "job later is created with 10 requests pending" in error_line(err)


def test_ctrl_c_leaves_the_job_resumable(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(self: JobProgress, job: Job) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(JobProgress, "update", interrupt)
        code, out, err = run(capsys, "job", "run", "stop", str(requests_file), *FAST)
    assert code == 130 and out == ""
    assert err.strip().endswith("resume it with: openai-batches job resume stop")
    code, out, _ = run(capsys, "job", "resume", "stop", *FAST, "-q")
    assert code == 0 and "10 of 10 requests final" in out


def test_cancel_and_delete(server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("gone", requests_file, max_batch_requests=3)
    code, out, err = run(capsys, "job", "cancel", "gone", "--wait", "-q")
    assert code == 0, err
    assert out == "job gone cancelled: 10/10 final, 0 failed, 0 batches in flight\n"
    code, out, _ = run(capsys, "job", "run", "gone", str(requests_file), "-q")
    assert code == 5, "a cancelled job exits 5, like a cancelled batch"
    code, out, _ = run(capsys, "job", "delete", "gone", "--remote-files", "--json")
    assert json.loads(out) == {"name": "gone", "deleted": True, "remote_files": True}
    code, out, _ = run(capsys, "job", "list")
    assert out.startswith("no jobs in ")


def test_the_live_line_redraws_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = JobProgress(stream, clock=lambda: 0.0)
    job = Job(
        name="eval",
        status="in_progress",
        endpoint=CHAT,
        input_path=Path("in.jsonl"),
        state_dir=Path("state"),
        created_at=0.0,
        finished_at=None,
        requests=100,
        succeeded=40,
        failed=10,
        missing=0,
        cancelled=0,
        batches_in_flight=3,
        max_attempts=3,
        max_in_flight=8,
        enqueued_token_limit=None,
        max_batch_requests=None,
        estimated_tokens=0,
        token_estimator="heuristic",
        runner=None,
    )
    progress.update(job)
    progress.finish()
    line = "in_progress [############------------] 50/100 final, 10 failed, 3 batches in flight, 0:00"
    # Cut to the terminal's width (80 columns when it cannot be asked) less one, so it never wraps.
    assert stream.getvalue() == f"\r{line[:79]}\r{line[:79]}\n"


def test_the_status_table_lines_up() -> None:
    assert status_table([], []) == [
        "NAME  STATUS  SUCCEEDED  FAILED  MISSING  PENDING  BATCHES  IN FLIGHT  ATTEMPTS  TOKENS IN/OUT  COST"
    ]


def test_help_lists_the_job_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "job", "--help")
    assert code == 0
    for command in ("run", "resume", "status", "list", "results", "cancel", "delete"):
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), command
    code, out, _ = run(capsys, "job", "run", "--help")
    for option in ("--endpoint", "--max-attempts", "--max-in-flight", "--enqueued-token-limit", "--state-dir"):
        assert option in out
    # The exit statuses of job commands are in the epilog.
    text = " ".join(out.split())
    assert "2 refused before anything was sent" in text and "an unknown job name" in text
    assert "8 job commands: local state could not be read or written (disk full, read-only, permission)" in text
    assert "9 job commands: another runner holds the job or took it over" in text


def test_reading_an_empty_or_broken_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "nowhere"
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(state))
    code, _, err = run(capsys, "job", "status", "eval")
    assert code == 2 and "no job named 'eval'" in error_line(err)
    assert run(capsys, "job", "list")[1] == f"no jobs in {state}\n"
    assert not state.exists(), "reading creates nothing"
    state.mkdir()
    (state / "jobs.sqlite3").write_bytes(b"this is not a database" * 100)
    code, _, err = run(capsys, "job", "list")
    line = error_line(err)
    assert code == 8, "local state that cannot be read"
    assert f"{state / 'jobs.sqlite3'} (the jobs' state database): file is not a database" in line
    assert "cannot be read as it is" in line and "resume" not in line, "no amount of space makes it readable"


def test_cancel_of_a_finished_job_changes_nothing(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches.jobs.api import Jobs

    assert run(capsys, "job", "run", "done", str(requests_file), *FAST, "-q")[0] == 0

    def refuse(*args: object, **kwargs: object) -> Job:
        raise AssertionError("a finished job is not cancelled")

    monkeypatch.setattr(Jobs, "cancel", refuse)
    monkeypatch.setattr(Jobs, "run", refuse)
    served = server.requests_served
    code, out, err = run(capsys, "job", "cancel", "done")
    assert (code, out, err) == (0, "job done has already finished (completed): nothing was changed\n", "")
    code, out, err = run(capsys, "job", "cancel", "done", "--wait", "--json")
    assert code == 0 and json.loads(out)["status"] == "completed" and err == ""
    assert server.requests_served == served, "nothing was sent"
    code, out, _ = run(capsys, "job", "status", "done", "--json")
    assert json.loads(out)["status"] == "completed"


def test_cancel_of_a_cancelled_job_says_so(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("stopped", requests_file)
        client.jobs.cancel("stopped")  # nothing was submitted: the next run only marks it cancelled
    assert run(capsys, "job", "resume", "stopped", *FAST, "-q")[0] == 5
    served = server.requests_served
    code, out, _ = run(capsys, "job", "cancel", "stopped")
    assert (code, out) == (0, "job stopped has already finished (cancelled): nothing was changed\n")
    assert server.requests_served == served


@pytest.mark.parametrize("value", ["0", "0.5", "-3", "abc", "inf", "nan", ""])
def test_lease_seconds_is_at_least_a_second(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run", "eval", "in.jsonl"], ["resume", "eval"], ["cancel", "eval", "--wait"]):
        code, _, err = run(capsys, "job", *command, "--lease-seconds", value)
        assert code == 2, command
        assert "--lease-seconds" in err and ("at least 1" in err or "expected seconds" in err), err


def test_lease_seconds_goes_to_the_library(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches import BatchClient
    from openai_batches.jobs.api import Jobs

    calls: list[tuple[str, float | None]] = []
    real_run, real_cancel = Jobs.run, Jobs.cancel

    def run_spy(self: Jobs, job: Job | str, **kwargs: Any) -> Job:
        calls.append(("run", kwargs["lease_seconds"]))
        return real_run(self, job, **kwargs)

    def cancel_spy(self: Jobs, name: str, **kwargs: Any) -> Job:
        calls.append(("cancel", kwargs["lease_seconds"]))
        return real_cancel(self, name, **kwargs)

    monkeypatch.setattr(Jobs, "run", run_spy)
    monkeypatch.setattr(Jobs, "cancel", cancel_spy)
    assert run(capsys, "job", "run", "leased", str(requests_file), *FAST, "-q", "--lease-seconds", "5")[0] == 0
    assert run(capsys, "job", "resume", "leased", *FAST, "-q")[0] == 0
    assert run(capsys, "job", "resume", "leased", *FAST, "-q", "--lease-seconds", "2.5")[0] == 0
    assert calls == [("run", 5.0), ("run", None), ("run", 2.5)], "None: the library's default"

    calls.clear()
    with BatchClient() as client:
        client.jobs.create("stopping", requests_file)
    assert run(capsys, "job", "cancel", "stopping", "--wait", "-q", "--lease-seconds", "3")[0] == 0
    assert calls == [("cancel", 3.0), ("run", 3.0)], "the cancel holds the lease too, and --wait runs the job"


def test_lease_seconds_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    from openai_batches._cli_job import DEFAULT_LEASE_SECONDS
    from openai_batches.jobs import lease

    assert lease.LEASE_TTL == DEFAULT_LEASE_SECONDS, "the help says the library's default"
    assert lease.MIN_LEASE == 1, "the command line refuses what the library refuses"
    for command in (["run"], ["resume"], ["cancel"]):
        code, out, _ = run(capsys, "job", *command, "--help")
        assert code == 0 and "--lease-seconds S" in out, command
        assert "another runner may take it over (default: 120)" in " ".join(out.split())


def test_another_runner_exits_9(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches.jobs import JobBusyError, JobLeaseLostError
    from openai_batches.jobs.api import Jobs

    def busy(self: Jobs, job: Job | str, **kwargs: Any) -> Job:
        raise JobBusyError(f"job {job} is already being run by process 1 on elsewhere", job=str(job))

    monkeypatch.setattr(Jobs, "run", busy)
    code, out, err = run(capsys, "job", "run", "held", str(requests_file), "-q")
    assert (code, out) == (9, "") and "is already being run by process 1" in error_line(err)

    def taken_over(self: Jobs, job: Job | str, **kwargs: Any) -> Job:
        raise JobLeaseLostError(
            f"job {job} was taken over by process 2 on elsewhere while this runner was paused or could not renew its "
            "lease; this runner stopped without changing anything more, and the job goes on there",
            job=str(job),
        )

    monkeypatch.setattr(Jobs, "run", taken_over)
    code, out, err = run(capsys, "job", "resume", "held", "-q")
    line = error_line(err)
    assert (code, out) == (9, "")
    assert line.startswith("openai-batches: error: job held was taken over by process 2 on elsewhere"), line
    assert line.endswith("the job goes on there; follow it with `openai-batches job status held`"), line
