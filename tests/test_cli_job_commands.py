"""`openai-batches job ...` command by command: exit statuses, the exact text and `--json` fields, usage errors,
settings and their defaults, local failures, and the progress display (live on a terminal, plain elsewhere).

In-process (`cli.main`), against the local server where a command needs a service.
"""

from __future__ import annotations

import datetime
import errno
import io
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches import _cli_job
from openai_batches.cli import main
from openai_batches.jobs import Job
from openai_batches_server import LocalServer, run_server

KEY = "sk-job-commands-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1"]
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def request(custom_id: str, text: str = "hello", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **body},
    }


def write_requests(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str) -> str:
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("openai-batches: error: "), line
    return line.removeprefix("openai-batches: error: ")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, and counts its flushes."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def isatty(self) -> bool:
        return True

    def flush(self) -> None:
        self.flushes += 1


class Clock:
    """A clock that moves only when told (or when `sleep` sleeps), and refuses to be read forever."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.reads = 0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        self.reads += 1
        assert self.reads < 200, "the clock was read in an endless loop"
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        assert len(self.sleeps) < 50, "slept in an endless loop"
        self.now += seconds


def make_job(**changes: Any) -> Job:
    fields: dict[str, Any] = {
        "name": "eval",
        "status": "in_progress",
        "endpoint": CHAT,
        "input_path": Path("in.jsonl"),
        "state_dir": Path("state"),
        "created_at": 0.0,
        "finished_at": None,
        "requests": 100,
        "succeeded": 40,
        "failed": 10,
        "missing": 5,
        "cancelled": 0,
        "batches_in_flight": 3,
        "max_attempts": 3,
        "max_in_flight": 8,
        "enqueued_token_limit": None,
        "max_batch_requests": None,
        "estimated_tokens": 0,
        "token_estimator": "heuristic",
        "runner": None,
    }
    fields.update(changes)
    return Job(**fields)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
        monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
        monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
        monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
        yield running


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    lines = [request(f"q-{i}", f"question {i}") for i in range(9)] + [request("fail-q-9")]
    return write_requests(tmp_path / "requests.jsonl", lines)


@pytest.fixture
def no_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No API key, no service: only what needs neither can work. The state directory it points at."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "untouched"
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(state))
    return state


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One job run to its end (9 succeeded, 1 failed, 3 batches) in a state directory of its own, for the commands
    that only read it; no service is left behind it."""
    tmp = tmp_path_factory.mktemp("finished")
    lines = [request(f"q-{i}", f"question {i}") for i in range(9)] + [request("fail-q-9")]
    source = write_requests(tmp / "requests.jsonl", lines)
    state = tmp / "state"
    with pytest.MonkeyPatch.context() as patch, run_server(tmp / "data", api_keys=[KEY], tick=0) as running:
        patch.setenv("OPENAI_API_KEY", KEY)
        patch.setenv("OPENAI_BASE_URL", running.base_url)
        argv = ["job", "run", "eval", str(source), "--max-batch-requests", "4", "-q", "--json", *FAST]
        out = io.StringIO()
        patch.setattr(sys, "stdout", out)
        assert main([*argv, "--state-dir", str(state)]) == 0
    document = json.loads(out.getvalue())
    yield {"state": state, "input": source, "tmp": tmp, "job": document}


# --- refused before anything runs -----------------------------------------------------------------------------


def test_job_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "job")
    assert (code, out) == (2, "")
    assert error_line(err) == (
        "a job command is required: run, resume, status, list, results, report, cancel or delete "
        "(see openai-batches job -h)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "expected seconds, got 'abc'"),
        ("0.5", "expected seconds of at least 1, got '0.5'"),
        ("0", "expected seconds of at least 1, got '0'"),
        ("inf", "expected seconds of at least 1, got 'inf'"),
        ("nan", "expected seconds of at least 1, got 'nan'"),
    ],
)
def test_lease_seconds_refused(value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run", "eval", "in.jsonl"], ["resume", "eval"], ["cancel", "eval"]):
        code, out, err = run(capsys, "job", *command, "--lease-seconds", value)
        assert (code, out) == (2, ""), command
        assert err.splitlines()[-1].endswith(f"error: argument --lease-seconds: {message}"), err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "expected dollars, got 'abc'"),
        ("0", "expected dollars, a positive number, got '0'"),
        ("-1", "expected dollars, a positive number, got '-1'"),
        ("inf", "expected dollars, a positive number, got 'inf'"),
        ("nan", "expected dollars, a positive number, got 'nan'"),
    ],
)
def test_max_cost_refused(value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run", "eval", "in.jsonl"], ["resume", "eval"]):
        code, out, err = run(capsys, "job", *command, f"--max-cost={value}")
        assert (code, out) == (2, ""), command
        assert err.splitlines()[-1].endswith(f"error: argument --max-cost: {message}"), err


def test_smallest_lease_and_budget_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Accepted by the options: the command goes on and stops at the missing input instead.
    missing = tmp_path / "none.jsonl"
    for option in (["--lease-seconds", "1"], ["--lease-seconds", "1.5"], ["--max-cost", "0.5"], ["--max-cost", "1"]):
        code, out, err = run(capsys, "job", "run", "eval", str(missing), *option)
        assert (code, out) == (2, "")
        assert error_line(err) == f"no such file: {missing}", option


def test_run_needs_an_input_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "job", "run", "eval", str(tmp_path / "none.jsonl"))
    assert code == 2 and error_line(err) == f"no such file: {tmp_path / 'none.jsonl'}"
    code, _, err = run(capsys, "job", "run", "eval", str(tmp_path))
    assert code == 2 and error_line(err) == f"not a file: {tmp_path}"


def test_report_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "job", "report", "eval")
    assert (code, out) == (2, "")
    assert "the following arguments are required: -o/--output" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--enqueued-token-limit", "5", "--enqueued-token-limit", "gpt-4o-mini=3"], "not both"),
        (["--enqueued-token-limit", "5", "--enqueued-token-limit", "6"], "was given more than once"),
        (["--enqueued-token-limit", "=5"], "expected N or MODEL=N, got '=5'"),
        (["--enqueued-token-limit", "m=0"], "at least 1"),
        (["--price", "gpt-4o-mini=1"], "expected MODEL=INPUT,OUTPUT[,CACHED_INPUT]"),
        (["--max-attempts", "0"], "expected a whole number of at least 1, got '0'"),
        (["--max-in-flight", "x"], "expected a whole number, got 'x'"),
        (["--max-batch-requests", "0"], "at least 1"),
        (["--poll-interval", "0"], "expected seconds > 0"),
        (["--max-poll-interval", "-1"], "expected seconds > 0"),
    ],
)
def test_run_options_refused(
    argv: list[str], message: str, requests_file: Path, no_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "job", "run", "eval", str(requests_file), *argv)
    assert (code, out) == (2, "")
    assert message in err.splitlines()[-1]
    assert not no_service.exists()


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    options = {
        "run": [
            "--endpoint E",
            "--max-attempts N",
            "--max-in-flight N",
            "--enqueued-token-limit N|MODEL=N",
            "--max-batch-requests N",
            "--dry-run",
            "--state-dir DIR",
            "--poll-interval S",
            "--max-poll-interval S",
            "-q, --quiet",
            "--price MODEL=IN,OUT[,CACHED]",
            "--max-cost DOLLARS",
            "--lease-seconds S",
        ],
        "resume": ["--poll-interval S", "-q, --quiet", "--max-cost DOLLARS", "--lease-seconds S", "--state-dir DIR"],
        "status": ["--price MODEL=IN,OUT[,CACHED]", "--state-dir DIR"],
        "list": ["--state-dir DIR"],
        "results": ["-o FILE, --output FILE", "--format {jsonl,csv,parquet}", "--state-dir DIR"],
        "report": ["-o FILE, --output FILE", "--price MODEL=IN,OUT[,CACHED]", "--state-dir DIR"],
        "cancel": ["--wait", "-q, --quiet", "--lease-seconds S", "--state-dir DIR"],
        "delete": ["--remote-files", "--state-dir DIR"],
    }
    for command, names in options.items():
        code, out, _ = run(capsys, "job", command, "--help")
        assert code == 0
        for option in names:
            assert option in out, (command, option)
    text = " ".join(run(capsys, "job", "run", "--help")[1].split())
    assert "another runner may take it over (default: 120)" in text
    assert "at the budget the job pauses (exit status 9)" in text


# --- dry run --------------------------------------------------------------------------------------------------


def test_dry_run_prints_the_estimate_and_sends_nothing(
    tmp_path: Path, no_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_requests(tmp_path / "in.jsonl", [request(f"c-{i}", f"Say {i}.", max_tokens=5) for i in range(30)])
    code, out, err = run(capsys, "job", "run", "priced", str(path), "--dry-run", "--max-batch-requests", "10")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "dry run of job priced: nothing was sent and no job was recorded"
    assert lines[1] == "30 requests to /v1/chat/completions in 3 batches; input tokens estimated by heuristic"
    assert lines[3].split()[:5] == ["gpt-4o-mini", "30", "3", "240", "150"]

    state = tmp_path / "elsewhere"
    argv = ["job", "run", "priced", str(path), "--dry-run", "--json", "--state-dir", str(state)]
    code, out, err = run(capsys, *argv, "--price", "gpt-4o-mini=1,2", "--enqueued-token-limit", "gpt-4o-mini=100")
    assert code == 0
    document = json.loads(out)
    assert (document["requests"], document["batches"], document["input_tokens"]) == (30, 3, 240)
    assert document["cost"]["low"] == pytest.approx(240 / 1e6)
    assert document["cost"]["high"] == pytest.approx((240 + 2 * 150) / 1e6)
    assert not state.exists() and not no_service.exists(), "the state directory is not touched"

    code, out, err = run(capsys, "job", "run", "bad name", str(path), "--dry-run")
    assert (code, out) == (2, "") and "a job name is 1 to 64 letters" in error_line(err)


# --- the progress display ---------------------------------------------------------------------------------------


def test_progress_text_counts_final_and_failed() -> None:
    job = make_job(requests=100, succeeded=40, failed=10, missing=5, cancelled=2)
    assert _cli_job.progress_text(job) == "57/100 final, 15 failed, 3 batches in flight"
    assert _cli_job.progress_text(make_job(requests=1234, succeeded=1000, failed=0, missing=0)).startswith(
        "1,000/1,234 final, 0 failed"
    )


def test_live_line_redraws_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cli_job, "terminal_columns", lambda stream: 200)
    stream, clock = Terminal(), Clock(100.0)
    progress = _cli_job.JobProgress(stream, clock=clock)
    assert progress.enabled and progress.live
    progress.finish()
    assert stream.getvalue() == "", "nothing drawn: nothing to end"
    clock.now = 165.0
    progress.update(make_job())
    first = "in_progress [#############-----------] 55/100 final, 15 failed, 3 batches in flight, 1:05"
    assert stream.getvalue() == "\r" + first
    assert stream.flushes == 1
    done = make_job(status="completed", succeeded=90, failed=10, missing=0, batches_in_flight=0)
    progress.update(done)
    second = "completed [########################] 100/100 final, 10 failed, 0 batches in flight, 1:05"
    padding = " " * (len(first) - len(second))
    assert stream.getvalue() == "\r" + first + "\r" + second + padding
    progress.finish()
    progress.finish()
    assert stream.getvalue() == "\r" + first + "\r" + second + padding + "\r" + second + "\n"


@pytest.mark.parametrize(("columns", "width"), [(30, 29), (5, 10)])
def test_live_line_fits_the_terminal(columns: int, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cli_job, "terminal_columns", lambda stream: columns)
    stream = Terminal()
    progress = _cli_job.JobProgress(stream, clock=Clock())
    progress.update(make_job())
    line = "in_progress [#############-----------] 55/100 final, 15 failed, 3 batches in flight, 0:00"
    assert stream.getvalue() == "\r" + line[:width]


def test_plain_lines_elsewhere_one_per_change() -> None:
    stream, clock = io.StringIO(), Clock(10.0)
    progress = _cli_job.JobProgress(stream, clock=clock)
    assert not progress.live
    clock.now = 75.0
    progress.update(make_job())
    progress.update(make_job())
    progress.update(make_job(succeeded=45))
    progress.finish()
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and "\r" not in stream.getvalue()
    assert len(lines) == 3
    assert re.fullmatch(
        rf"{STAMP} job eval in_progress 55/100 final, 15 failed, 3 batches in flight \(1:05\)", lines[0]
    )
    assert re.fullmatch(
        rf"{STAMP} job eval in_progress 60/100 final, 15 failed, 3 batches in flight \(1:05\)", lines[1]
    )


@pytest.mark.parametrize("stream", [io.StringIO(), Terminal()])
def test_disabled_progress_writes_nothing(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    progress = _cli_job.JobProgress(stream, enabled=False, clock=clock)
    progress.update(make_job())
    progress.sleep(0.4)
    progress.finish()
    assert stream.getvalue() == ""
    assert clock.sleeps == [0.4], "one plain sleep"


def test_sleep_redraws_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    stream = Terminal()
    progress = _cli_job.JobProgress(stream, clock=clock)
    progress.sleep(0.4)
    assert (clock.sleeps, stream.getvalue()) == ([0.4], ""), "nothing to draw yet: one plain sleep"
    clock.sleeps.clear()
    clock.now = 0.0
    progress.update(make_job())
    progress.sleep(0.4)
    assert clock.sleeps == [0.2, 0.2]
    assert stream.getvalue().count("\r") == 3, "drawn once by the update, then after each short sleep"


def test_sleep_elsewhere_is_one_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    stream = io.StringIO()
    progress = _cli_job.JobProgress(stream, clock=clock)
    progress.update(make_job())
    written = stream.getvalue()
    progress.sleep(0.4)
    assert clock.sleeps == [0.4] and stream.getvalue() == written


@pytest.mark.parametrize("failure", [OSError(errno.EIO, "I/O error"), ValueError("I/O operation on closed file")])
def test_a_broken_progress_stream_turns_it_off(failure: Exception) -> None:
    class Broken(Terminal):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            raise failure

    stream = Broken()
    progress = _cli_job.JobProgress(stream, clock=Clock())
    progress.update(make_job())
    assert progress.enabled is False
    progress.update(make_job(succeeded=41))
    progress.finish()
    assert stream.writes == 1


# --- run, resume, status, list ----------------------------------------------------------------------------------


def test_run_prints_the_summary_and_progress(
    server: LocalServer, requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "mine"
    argv = ["job", "run", "eval", str(requests_file), "--max-batch-requests", "4", "--state-dir", str(state), *FAST]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.splitlines() == [
        "job eval: completed, 10 of 10 requests final",
        "  succeeded 9, failed 1, no result 0, cancelled 0, pending 0",
        "  attempts 10 (0 requests retried), batches 3 (0 in flight)",
        "  tokens: input 18 (cached 0), output 27; estimated input 89",
        "  cost $0.0000",
    ]
    progress = err.splitlines()
    assert progress and "\r" not in err
    assert all(re.fullmatch(rf"{STAMP} job eval \w+ \d+/10 final, \d+ failed, \d batches in flight \(0:0\d\)", line)
               for line in progress), err  # fmt: skip
    assert progress[-1].split(" ", 1)[1].startswith("job eval completed 10/10 final, 1 failed, 0 batches in flight")
    assert (state / "jobs.sqlite3").is_file(), "--state-dir holds the job"

    code, out, err = run(capsys, "job", "resume", "eval", "--state-dir", str(state), "-q", "--json", *FAST)
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["name"], document["status"], document["pending"]) == ("eval", "completed", 0)
    assert (document["summary"]["succeeded"], document["summary"]["failed"]) == (9, 1)
    assert document["summary"]["batches"] == 3


def test_run_on_a_terminal_draws_one_live_line(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(_cli_job, "terminal_columns", lambda stream: 200)
    code, out, _ = run(capsys, "job", "run", "live", str(requests_file), *FAST)
    assert code == 0 and out.startswith("job live: completed")
    drawn = terminal.getvalue()
    assert drawn.startswith("\r") and drawn.endswith("\n") and drawn.count("\n") == 1, repr(drawn)
    last = drawn.rstrip("\n").split("\r")[-1].rstrip()
    assert re.fullmatch(r"completed \[#{24}\] 10/10 final, 1 failed, 0 batches in flight, 0:0\d", last), last


def test_quiet_shows_no_progress(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = run(capsys, "job", "run", "hush", str(requests_file), "-q", *FAST)
    assert code == 0 and out.startswith("job hush: completed")
    assert terminal.getvalue() == ""


def test_run_settings_reach_the_job_and_stay(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "job", "run", "plain", str(requests_file), "--json", "-q", *FAST)
    assert code == 0, err
    document = json.loads(out)
    assert (document["max_attempts"], document["max_in_flight"]) == (3, 8), "the library's defaults"
    assert (document["max_batch_requests"], document["enqueued_token_limit"], document["max_cost"]) == (None,) * 3

    given = [
        "--max-attempts", "2", "--max-in-flight", "3", "--max-batch-requests", "4",
        "--enqueued-token-limit", "1000", "--price", "gpt-4o-mini=1000,2000", "--max-cost", "50",
    ]  # fmt: skip
    code, out, err = run(capsys, "job", "run", "set", str(requests_file), "--json", "-q", *given, *FAST)
    assert code == 0, err
    first = json.loads(out)
    settings = ("max_attempts", "max_in_flight", "max_batch_requests", "enqueued_token_limit", "max_cost")
    assert [first[key] for key in settings] == [2, 3, 4, 1000, 50.0]
    usage = first["summary"]
    assert usage["cost"] == pytest.approx((usage["input_tokens"] * 1000 + usage["output_tokens"] * 2000) / 1e6)

    # The same run again without the options: the job keeps its settings, its prices among them.
    code, out, err = run(capsys, "job", "run", "set", str(requests_file), "--json", "-q", *FAST)
    assert code == 0, err
    again = json.loads(out)
    assert [again[key] for key in settings] == [2, 3, 4, 1000, 50.0]
    assert again["summary"]["cost"] == pytest.approx(usage["cost"])
    code, out, _ = run(capsys, "job", "status", "set", "--json")
    assert json.loads(out)["summary"]["cost"] == pytest.approx(usage["cost"])


def test_a_token_limit_per_model(server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    limits = ["--enqueued-token-limit", "gpt-4o-mini=500", "--enqueued-token-limit", "other=7"]
    code, out, err = run(capsys, "job", "run", "per-model", str(requests_file), "--json", "-q", *limits, *FAST)
    assert code == 0, err
    assert json.loads(out)["enqueued_token_limit"] == {"gpt-4o-mini": 500, "other": 7}


def test_default_poll_intervals(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches.jobs.api import Jobs

    seen: list[dict[str, Any]] = []
    real = Jobs.run

    def spy(self: Jobs, job: Job | str, **kwargs: Any) -> Job:
        seen.append(kwargs)
        return real(self, job, **{**kwargs, "poll_interval": 0.02, "max_poll_interval": 0.1})

    monkeypatch.setattr(Jobs, "run", spy)
    assert run(capsys, "job", "run", "polls", str(requests_file), "-q")[0] == 0
    assert run(capsys, "job", "resume", "polls", "-q", "--poll-interval", "5", "--max-poll-interval", "2")[0] == 0
    assert [(k["poll_interval"], k["max_poll_interval"]) for k in seen] == [(1.0, 60.0), (5.0, 5.0)]


def test_a_cost_budget_pauses_the_job_exit_9(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches.jobs.budget import dollars

    # Three batches of 10; the third would go past the budget, so the job pauses with 10 requests pending.
    path = write_requests(tmp_path / "capped.jsonl", [request(f"c-{i}", f"Say {i}.", max_tokens=5) for i in range(30)])
    state = tmp_path / "budget-state"
    where = ["--state-dir", str(state)]
    argv = ["job", "run", "capped", str(path), "--max-batch-requests", "10", "--max-in-flight", "1"]
    priced = ["--price", "gpt-4o-mini=0.15,0.6"]
    code, out, err = run(capsys, *argv, "--max-cost", "0.00007", *priced, "-q", "--json", *where, *FAST)
    assert code == 9
    document = json.loads(out)
    summary = document["summary"]
    assert (document["status"], document["pending"], summary["max_cost"]) == ("paused", 10, 0.00007)
    spent = summary["budget_spent"]
    assert spent > 0
    assert err == (
        f"openai-batches: job capped paused at its cost budget of $0.000070: {dollars(spent)} spent or in flight; "
        f"resume it with a higher one: openai-batches job resume capped --max-cost DOLLARS --state-dir {state}\n"
    )

    code, out, _ = run(capsys, "job", "status", *where)
    header, row = out.splitlines()
    assert header.split()[-2:] == ["COST", "BUDGET"]
    assert row.split()[:2] == ["capped", "paused"] and row.split()[-1] == f"{dollars(spent)}/$0.000070"

    # Without a higher budget it stays paused; with one it goes on.
    code, out, err = run(capsys, "job", "resume", "capped", "-q", *where, *FAST)
    assert code == 9 and "paused at its cost budget of $0.000070" in err
    assert out.splitlines()[0] == "job capped: paused, 20 of 30 requests final"
    code, out, err = run(capsys, "job", "resume", "capped", "-q", "--max-cost", "1", "--json", *where, *FAST)
    assert (code, err) == (0, "")
    done = json.loads(out)
    assert (done["status"], done["max_cost"], done["pending"]) == ("completed", 1.0, 0)
    usage = done["summary"]
    assert usage["cost"] == pytest.approx((usage["input_tokens"] * 0.15 + usage["output_tokens"] * 0.6) / 1e6), (
        "the prices the job was created with are kept when the budget is raised"
    )
    code, out, _ = run(capsys, "job", "status", *where)
    assert out.splitlines()[1].split()[-1] == f"{dollars(done['summary']['budget_spent'])}/$1.00"


def test_a_new_budget_with_new_prices(server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A model the shipped table does not price: its budget needs --price, and a resume that raises the budget keeps
    # the prices the job has unless it gives new ones.
    lines = [request(f"u-{i}", f"Say {i}.", max_tokens=5) for i in range(10)]
    for line in lines:
        line["body"]["model"] = "my-own-model"
    path = write_requests(tmp_path / "own.jsonl", lines)
    code, _, err = run(capsys, "job", "run", "own", str(path), "--max-cost", "0.0000001", "-q", *FAST)
    assert code == 2 and "my-own-model" in error_line(err)
    argv = ["job", "run", "own", str(path), "--max-cost", "0.0000001", "--price", "my-own-model=1,1", "-q", *FAST]
    assert run(capsys, *argv)[0] == 9
    code, out, err = run(
        capsys, "job", "resume", "own", "--max-cost", "5", "--price", "my-own-model=2,3", "--json", *FAST
    )
    assert code == 0, err
    usage = json.loads(out)["summary"]
    assert usage["cost"] == pytest.approx((usage["input_tokens"] * 2 + usage["output_tokens"] * 3) / 1e6)
    code, out, _ = run(capsys, "job", "status", "own", "--json")
    assert json.loads(out)["summary"]["cost"] == pytest.approx(usage["cost"]), "the new prices are the job's"


def test_status_and_list(finished: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--state-dir", str(finished["state"])]
    code, out, err = run(capsys, "job", "status", *where)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME  STATUS     SUCCEEDED  FAILED  MISSING  PENDING  BATCHES  IN FLIGHT  ATTEMPTS  TOKENS IN/OUT  COST",
        "eval  completed  9          1       0        0        3        0          10        18/27          $0.0000",
    ]
    code, out, _ = run(capsys, "job", "status", *where, "--price", "gpt-4o-mini=1000,2000")
    assert out.splitlines()[1].split()[-1] == "$0.0720"
    code, out, _ = run(capsys, "job", "status", "eval", *where)
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["eval", "completed", "9"]
    assert lines[2:] == [
        "",
        "job eval: completed, 10 of 10 requests final",
        "  succeeded 9, failed 1, no result 0, cancelled 0, pending 0",
        "  attempts 10 (0 requests retried), batches 3 (0 in flight)",
        "  tokens: input 18 (cached 0), output 27; estimated input 89",
        "  cost $0.0000",
    ]
    code, out, _ = run(capsys, "job", "status", "eval", "--json", *where)
    document = json.loads(out)
    assert (document["name"], document["pending"], document["summary"]["attempts"]) == ("eval", 0, {"1": 10})
    code, out, _ = run(capsys, "job", "status", "--json", *where)
    (listed,) = json.loads(out)
    assert (listed["name"], listed["summary"]["batches"]) == ("eval", 3)

    job = finished["job"]
    created = datetime.datetime.fromtimestamp(job["created_at"], tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    code, out, err = run(capsys, "job", "list", *where)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME  STATUS     REQUESTS  CREATED                  INPUT",
        f"eval  completed  10        {created}  {finished['input']}",
    ]
    code, out, _ = run(capsys, "job", "list", "--json", *where)
    (listed,) = json.loads(out)
    assert (listed["name"], listed["status"], listed["requests"], listed["input_path"]) == (
        "eval",
        "completed",
        10,
        str(finished["input"]),
    )
    assert "summary" not in listed


def test_an_empty_state_directory(tmp_path: Path, no_service: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "job", "status") == (0, f"no jobs in {no_service}\n", "")
    assert run(capsys, "job", "list") == (0, f"no jobs in {no_service}\n", "")
    assert run(capsys, "job", "status", "--json") == (0, "[]\n", "")
    assert run(capsys, "job", "list", "--json") == (0, "[]\n", "")
    other = tmp_path / "other"
    assert run(capsys, "job", "list", "--state-dir", str(other)) == (0, f"no jobs in {other}\n", "")
    assert not no_service.exists() and not other.exists()


def test_the_status_table_of_no_jobs() -> None:
    assert _cli_job.status_table([], []) == [
        "NAME  STATUS  SUCCEEDED  FAILED  MISSING  PENDING  BATCHES  IN FLIGHT  ATTEMPTS  TOKENS IN/OUT  COST"
    ]


# --- results and report -----------------------------------------------------------------------------------------


def test_results_on_stdout(finished: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--state-dir", str(finished["state"])]
    code, out, err = run(capsys, "job", "results", "eval", *where)
    assert (code, err) == (0, "")
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["custom_id"] for r in results] == [f"q-{i}" for i in range(9)] + ["fail-q-9"]
    assert results[0]["status_code"] == 200 and results[-1]["status_code"] == 400
    code, out, err = run(capsys, "job", "results", "eval", "--format", "csv", *where)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("custom_id,input_line,status_code,ok,") and len(lines) == 11
    assert lines[1].startswith("q-0,1,200,")


def test_results_to_a_file(finished: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--state-dir", str(finished["state"])]
    target = tmp_path / "merged.jsonl"
    code, out, err = run(capsys, "job", "results", "eval", "-o", str(target), *where)
    assert (code, out, err) == (0, f"wrote 10 results to {target}: 9 succeeded, 1 failed\n", "")
    assert json.loads(target.read_text().splitlines()[9])["custom_id"] == "fail-q-9"
    table = tmp_path / "merged.csv"
    code, out, _ = run(capsys, "job", "results", "eval", "--format", "csv", "-o", str(table), "--json", *where)
    assert json.loads(out) == {
        "name": "eval",
        "path": str(table),
        "format": "csv",
        "results": 10,
        "succeeded": 9,
        "failed": 1,
        "without_result": 0,
    }
    assert table.read_text().startswith("custom_id,input_line,")
    parquet = tmp_path / "merged.parquet"
    code, out, _ = run(capsys, "job", "results", "eval", "--format", "parquet", "-o", str(parquet), *where)
    assert (code, out) == (0, f"wrote 10 results to {parquet}: 9 succeeded, 1 failed\n")
    assert parquet.read_bytes()[:4] == b"PAR1"

    code, out, err = run(capsys, "job", "results", "eval", "-o", str(tmp_path / "no" / "r.jsonl"), *where)
    assert (code, out) == (2, "") and error_line(err) == f"no such directory: {tmp_path / 'no'}"
    code, out, err = run(capsys, "job", "results", "eval", "--format", "parquet", *where)
    assert (code, out) == (2, "") and error_line(err) == "--format parquet writes a file: give it with -o FILE"


def test_parquet_without_pyarrow(
    finished: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches import tables
    from openai_batches._exceptions import MissingDependencyError

    def missing(module: str, extra: str | None = None) -> None:
        raise MissingDependencyError(f"results as tables need pyarrow ({extra})", extra="arrow", name=module)

    monkeypatch.setattr(tables, "require", missing)
    target = tmp_path / "r.parquet"
    argv = ["job", "results", "eval", "--format", "parquet", "-o", str(target), "--state-dir", str(finished["state"])]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "") and error_line(err) == "results as tables need pyarrow (arrow)"
    assert not target.exists()


def test_results_of_an_unfinished_or_cancelled_job(
    server: LocalServer, requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("later", requests_file)
    code, out, err = run(capsys, "job", "results", "later")
    assert (code, out) == (7, "")
    assert error_line(err) == (
        "job later is created with 10 requests pending: its results are complete once it ends "
        "(run `openai-batches job resume later` first)"
    )
    assert run(capsys, "job", "cancel", "later", "--wait", "-q")[0] == 0
    target = tmp_path / "r.jsonl"
    code, out, _ = run(capsys, "job", "results", "later", "-o", str(target))
    assert (code, out) == (
        0,
        f"wrote 10 results to {target}: 0 succeeded, 0 failed, 10 without a result from the service\n",
    )
    code, out, _ = run(capsys, "job", "results", "later", "-o", str(target), "--json")
    assert json.loads(out)["without_result"] == 10


def test_csv_of_a_job_deleted_meanwhile(finished: dict[str, Any]) -> None:
    from openai_batches.jobs import JobNotFoundError

    ghost = make_job(name="ghost", state_dir=finished["state"])
    with pytest.raises(JobNotFoundError, match=r"no job named 'ghost' \(it was deleted\)"):
        _cli_job._csv_to(io.StringIO(), ghost)


def test_report(finished: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--state-dir", str(finished["state"])]
    page = tmp_path / "report.html"
    code, out, err = run(capsys, "job", "report", "eval", "-o", str(page), *where)
    assert (code, out, err) == (0, f"wrote the report of job eval (completed) to {page}\n", "")
    assert "<html" in page.read_text()[:200].lower()
    code, out, _ = run(capsys, "job", "report", "eval", "-o", str(page), "--json", *where)
    assert json.loads(out) == {"name": "eval", "path": str(page), "status": "completed", "bytes": page.stat().st_size}
    code, out, err = run(capsys, "job", "report", "eval", "-o", str(tmp_path / "no" / "r.html"), *where)
    assert (code, out) == (2, "") and error_line(err) == f"no such directory: {tmp_path / 'no'}"
    code, out, err = run(capsys, "job", "report", "nothing", "-o", str(page), *where)
    assert code == 2 and error_line(err).startswith("no job named 'nothing'")


# --- cancel and delete ------------------------------------------------------------------------------------------


def test_cancel_without_and_with_wait(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("gone", requests_file)
        client.jobs.create("other", requests_file)
    code, out, err = run(capsys, "job", "cancel", "gone")
    assert (code, err) == (0, "")
    assert out == (
        "job gone cancelling: its batches are being cancelled; what they finished is collected by its runner, "
        "or by `openai-batches job resume gone`\n"
    )
    code, out, err = run(capsys, "job", "cancel", "gone", "--json")
    assert (code, json.loads(out)["status"]) == (0, "cancelling")
    code, out, err = run(capsys, "job", "cancel", "gone", "--wait")
    assert (code, out) == (0, "job gone cancelled: 10/10 final, 0 failed, 0 batches in flight\n")
    assert err and all(re.fullmatch(rf"{STAMP} job gone \w+ 10/10 final, 0 failed, 0 batches in flight \(0:0\d\)", line)
                       for line in err.splitlines()), err  # fmt: skip
    code, out, err = run(capsys, "job", "cancel", "gone", "--json")
    assert (code, json.loads(out)["status"], err) == (0, "cancelled", "")
    code, out, err = run(capsys, "job", "cancel", "gone")
    assert (code, out, err) == (0, "job gone has already finished (cancelled): nothing was changed\n", "")
    code, out, err = run(capsys, "job", "cancel", "other", "--wait", "-q", "--json")
    assert (code, json.loads(out)["status"], err) == (0, "cancelled", "")
    assert run(capsys, "job", "resume", "other", "-q", *FAST)[0] == 5, "a cancelled job exits 5"


def test_cancel_wait_on_a_terminal_ends_its_line(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("gone", requests_file)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = run(capsys, "job", "cancel", "gone", "--wait")
    assert (code, out) == (0, "job gone cancelled: 10/10 final, 0 failed, 0 batches in flight\n")
    drawn = terminal.getvalue()
    assert drawn.startswith("\r") and drawn.endswith("\n") and drawn.count("\n") == 1, repr(drawn)


def test_delete(server: LocalServer, requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openai_batches import BatchClient

    state = tmp_path / "deleting"
    where = ["--state-dir", str(state)]
    for name in ("one", "two"):
        assert (
            run(capsys, "job", "run", name, str(requests_file), "--max-batch-requests", "5", "-q", *where, *FAST)[0]
            == 0
        )
    with BatchClient() as client:
        before = len(list(client.files.list()))
    code, out, err = run(capsys, "job", "delete", "one", *where)
    assert (code, out, err) == (0, "deleted job one\n", "")
    with BatchClient() as client:
        assert len(list(client.files.list())) == before, "the files on the service stay"
    code, out, err = run(capsys, "job", "delete", "two", "--remote-files", *where)
    assert (code, out, err) == (0, "deleted job two and its files on the service\n", "")
    with BatchClient() as client:
        assert len(list(client.files.list())) < before
    assert run(capsys, "job", "list", *where)[1] == f"no jobs in {state}\n"
    assert run(capsys, "job", "run", "three", str(requests_file), "-q", *where, *FAST)[0] == 0
    code, out, _ = run(capsys, "job", "delete", "three", "--json", *where)
    assert json.loads(out) == {"name": "three", "deleted": True, "remote_files": False}
    code, out, err = run(capsys, "job", "delete", "three", *where)
    assert code == 2 and error_line(err).startswith("no job named 'three'")


# --- errors of the library, as exit statuses --------------------------------------------------------------------


def test_errors_of_the_library(
    server: LocalServer,
    requests_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openai_batches import BatchClient

    with BatchClient() as client:
        client.jobs.create("held", requests_file)
    # Another base URL or key: the job's batches are not visible from there (2, nothing sent).
    served = server.requests_served
    code, out, err = run(capsys, "job", "resume", "held", "-q", "--base-url", "http://127.0.0.1:9/v1")
    assert (code, out) == (2, "")
    assert error_line(err) == (
        f"job held was created against {server.base_url}, not http://127.0.0.1:9/v1: its batches live there; use a "
        "client with that base URL"
    )
    code, out, err = run(capsys, "job", "run", "held", str(requests_file), "-q", "--api-key", "sk-other-0123456789")
    assert (code, out) == (2, "") and error_line(err).startswith("job held was created with another API key")
    assert server.requests_served == served

    # Another input under the same name, and an input changed since the job was created.
    other = write_requests(tmp_path / "other.jsonl", [request("z")])
    code, out, err = run(capsys, "job", "run", "held", str(other), "-q")
    assert (code, out) == (2, "") and "already exists with other input" in error_line(err)
    requests_file.write_text(requests_file.read_text().replace("question 3", "question 4"))
    code, out, err = run(capsys, "job", "resume", "held", "-q", *FAST)
    assert (code, out) == (2, "")
    line = error_line(err)
    assert line.startswith(f"job held: its input {requests_file} changed since the job was created: line 4 differs")
    assert "Nothing from the changed file was sent." in line
    assert server.requests_served == served


def test_another_runner_exits_9(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches.jobs import JobBusyError
    from openai_batches.jobs.api import Jobs

    def busy(self: Jobs, job: Job | str, **kwargs: Any) -> Job:
        raise JobBusyError(f"job {job} is already being run by process 1 on elsewhere", job=str(job))

    monkeypatch.setattr(Jobs, "run", busy)
    code, out, err = run(capsys, "job", "run", "held", str(requests_file), "-q")
    assert (code, out) == (9, "") and error_line(err) == "job held is already being run by process 1 on elsewhere"
    code, out, err = run(capsys, "job", "resume", "held", "-q")
    assert (code, out) == (9, "") and error_line(err) == "job held is already being run by process 1 on elsewhere"


def test_ctrl_c_ends_the_live_line_then_says_how_to_resume(
    server: LocalServer,
    requests_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = _cli_job.JobProgress.update

    def interrupt(self: _cli_job.JobProgress, job: Job) -> None:
        real(self, job)
        raise KeyboardInterrupt

    state = tmp_path / "stopped"
    terminal = Terminal()
    with monkeypatch.context() as patch:
        patch.setattr(_cli_job.JobProgress, "update", interrupt)
        patch.setattr(sys, "stderr", terminal)
        code, out, _ = run(capsys, "job", "run", "stop", str(requests_file), "--state-dir", str(state), *FAST)
    assert (code, out) == (130, "")
    drawn, note = terminal.getvalue().rstrip("\n").rsplit("\n", 1)
    assert drawn.startswith("\r") and "\n" not in drawn
    assert note == (
        "openai-batches: interrupted; job stop keeps its state and its batches keep running at the service; "
        f"resume it with: openai-batches job resume stop --state-dir {state}"
    )
    code, out, _ = run(capsys, "job", "resume", "stop", "--state-dir", str(state), "-q", *FAST)
    assert code == 0 and out.startswith("job stop: completed, 10 of 10 requests final")


# --- local failures: exit 8, the path, and the command that goes on ---------------------------------------------


def _library_failure(name: str, directory: Path) -> Callable[..., Job]:
    """A Jobs method that fails as the library does when the disk is full: a JobStateError of its own."""
    from openai_batches.jobs.local_state import local_state_errors

    def failing(self: object, *args: object, **kwargs: object) -> Job:
        with local_state_errors(name, directory / "jobs.sqlite3", True):
            raise OSError(errno.ENOSPC, "No space left on device")

    return failing


def test_a_full_disk_while_the_job_runs(
    server: LocalServer,
    requests_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openai_batches.jobs.api import Jobs

    state = tmp_path / "full"
    monkeypatch.setattr(Jobs, "run", _library_failure("big", state))
    code, out, err = run(capsys, "job", "run", "big", str(requests_file), "-q", "--state-dir", str(state))
    assert (code, out) == (8, "")
    assert error_line(err) == (
        f"job big: could not write a file in {state}: No space left on device; job big can be resumed with "
        f"`openai-batches job resume big --state-dir {state}` once there is space"
    )


def test_a_full_disk_while_the_job_is_recorded(
    server: LocalServer,
    requests_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from openai_batches.jobs.api import Jobs

    def full(self: Jobs, *args: object, **kwargs: object) -> Job:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Jobs, "create", full)
    state = server_state = Path(str(tmp_path / "state"))
    code, out, err = run(capsys, "job", "run", "big", str(requests_file), "-q")
    assert (code, out) == (8, "")
    assert error_line(err) == (
        f"job big: could not write a file in {server_state}: No space left on device; run the same "
        "`openai-batches job run` again once there is space"
    )
    assert not (state / "jobs.sqlite3").exists()


def test_a_full_disk_while_reading_names_no_next_step(
    finished: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openai_batches.jobs import api

    def full(*args: object, **kwargs: object) -> Job:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(api, "read_job", full)
    code, out, err = run(capsys, "job", "status", "eval", "--state-dir", str(finished["state"]))
    assert (code, out) == (8, "")
    assert error_line(err) == f"job eval: could not write a file in {finished['state']}: No space left on device"


def test_a_full_disk_while_writing_results_or_report(
    finished: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    where = ["--state-dir", str(finished["state"])]

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "merged.jsonl"
    with monkeypatch.context() as patch:
        patch.setattr(Job, "write_results", full)
        code, out, err = run(capsys, "job", "results", "eval", "-o", str(target), *where)
    assert (code, out) == (8, "")
    assert error_line(err) == f"job eval: could not write {target}: No space left on device"
    page = tmp_path / "report.html"
    with monkeypatch.context() as patch:
        patch.setattr(Job, "write_report", full)
        code, out, err = run(capsys, "job", "report", "eval", "-o", str(page), *where)
    assert (code, out) == (8, "")
    assert error_line(err) == f"job eval: could not write {page}: No space left on device"

    class FullStdout(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", FullStdout())
        code = main(["job", "results", "eval", *where])
    err = capsys.readouterr().err
    assert code == 8
    assert error_line(err) == "job eval: could not write the standard output: No space left on device"


def test_resume_with_new_prices_keeps_them_with_the_job(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    priced = ["--price", "gpt-4o-mini=1000,2000", "--max-cost", "50"]
    code, out, err = run(capsys, "job", "run", "repriced", str(requests_file), "--json", "-q", *priced, *FAST)
    assert code == 0, err
    usage = json.loads(out)["summary"]
    code, out, err = run(capsys, "job", "resume", "repriced", "--price", "gpt-4o-mini=3000,4000", "--json", "-q", *FAST)
    assert code == 0, err
    expected = (usage["input_tokens"] * 3000 + usage["output_tokens"] * 4000) / 1e6
    assert json.loads(out)["summary"]["cost"] == pytest.approx(expected)
    assert json.loads(out)["max_cost"] == 50.0, "the budget stays as it was"
    code, out, _ = run(capsys, "job", "status", "repriced", "--json")
    assert json.loads(out)["summary"]["cost"] == pytest.approx(expected), "the new prices are the job's now"
