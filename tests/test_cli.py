"""`openai-batches`: every command against the local server, in-process and through the real console script.

In-process runs call `cli.main([...])` with the environment set by monkeypatch and read stdout/stderr with capsys
(not a terminal, so progress comes as plain timestamped lines). A few runs go through `.venv/bin/openai-batches` in a
subprocess to prove what a user sees: the exit status, one line on stderr, no traceback. The pseudo-terminal and
Ctrl-C runs are in test_cli_pty.py.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from openai_batches import Batch, BatchClient, BatchStatus
from openai_batches._cli_output import Output
from openai_batches._cli_progress import WaitProgress, format_elapsed, live_line, render_bar
from openai_batches.cli import main
from openai_batches_server import LocalServer, run_server

ROOT = Path(__file__).resolve().parents[1]
# The console script installed beside the interpreter running the tests (the project's .venv under `make test`).
SCRIPT = Path(sys.executable).parent / "openai-batches"
KEY = "sk-cli-test-0123456789abcdef"
CHAT: Final = "/v1/chat/completions"
PLAIN_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d batch_\w+ \w+ \d+/\d+ completed, \d+ failed \(\d+:\d\d\)$"
)
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1"]


def request(custom_id: str, text: str = "hello", url: str = CHAT) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


def point_at(monkeypatch: pytest.MonkeyPatch, server: LocalServer, key: str = KEY) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)


@pytest.fixture
def env(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    point_at(monkeypatch, server)
    return server


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    lines = [request(f"q-{i}", f"question {i}") for i in range(4)] + [request("fail-q-4", "doomed")]
    return write_jsonl(tmp_path / "requests.jsonl", lines)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    """The single line an expected error prints; fails on a traceback or anything more."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("openai-batches: error: ")
    return lines[0]


def client_for(server: LocalServer) -> BatchClient:
    return BatchClient(api_key=KEY, base_url=server.base_url)


def finished_batch(server: LocalServer, path: Path) -> Batch:
    with client_for(server) as client:
        batch = client.batches.submit(path, endpoint=CHAT)
        return client.batches.wait(batch, poll_interval=0.02, max_poll_interval=0.1, timeout=20)


def failing_batch(server: LocalServer, tmp_path: Path) -> str:
    """A batch the server fails at validation: a line for another endpoint (submit would refuse it locally)."""
    path = write_jsonl(tmp_path / "bad.jsonl", [request("ok"), request("wrong", url="/v1/embeddings")])
    with client_for(server) as client:
        upload = client.files.create(file=path, purpose="batch")
        return client.batches.create(input_file_id=upload.id, endpoint=CHAT).id


# --- help and usage -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["submit", "status", "list", "wait", "cancel", "results"])
def test_help_for_every_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, err = run(capsys, command, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: openai-batches {command}")
    assert "--json" in out
    # The exit status table is in every command's epilog.
    for line in ("0    success", "1    error from the API", "2    refused before", "3    the batch failed"):
        assert line in out
    assert "4    the batch expired" in out and "5    the batch was cancelled" in out and "130  interrupted" in out
    assert "6    --timeout ran out" in out and "7    results: the batch has not finished yet" in out


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("submit", "status", "list", "wait", "cancel", "results", "serve"):
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), command
    assert "OPENAI_API_KEY" in out


def test_serve_help_is_the_servers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "serve", "--help")
    assert code == 0
    assert "--data-dir" in out and "--tick" in out


def test_serve_forwards_its_arguments_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai_batches_server.cli as server_cli

    seen: list[list[str]] = []

    def fake_serve(argv: list[str] | None = None) -> int:
        seen.append(list(argv or []))
        return 7

    monkeypatch.setattr(server_cli, "main", fake_serve)
    assert main(["serve", "--port", "0", "--data-dir", "d", "--json"]) == 7
    assert seen == [["--port", "0", "--data-dir", "d", "--json"]]


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2
    assert out == "" and "usage: openai-batches" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["--json"],
        ["status"],
        ["submit", "requests.jsonl"],
        ["submit", "requests.jsonl", "--endpoint", CHAT, "--metadata", "no-equals-sign"],
        ["list", "--limit", "0"],
        ["list", "--limit", "many"],
        ["wait", "batch_x", "--poll-interval", "0"],
        ["wait", "batch_x", "--timeout", "nan"],
        ["--json", "serve"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err and "error:" in err


# --- submit -------------------------------------------------------------------------------------------------------


def test_submit_json(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    code, out, err = run(
        capsys,
        "submit",
        str(requests_file),
        "--endpoint",
        CHAT,
        "--metadata",
        "job=nightly",
        "--metadata",
        "n=1",
        "--json",
    )
    assert code == 0, err
    batch = json.loads(out)
    assert batch["id"].startswith("batch_") and batch["object"] == "batch"
    assert batch["endpoint"] == CHAT
    assert batch["metadata"] == {"job": "nightly", "n": "1"}
    with client_for(env) as client:
        assert client.batches.retrieve(batch["id"]).input_file_id == batch["input_file_id"]


def test_submit_text_names_the_batch(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    code, out, err = run(capsys, "submit", str(requests_file), "--endpoint", CHAT)
    assert code == 0, err
    match = re.match(r"submitted (batch_\w+) \(validating, /v1/chat/completions\)", out)
    assert match, out
    assert f"openai-batches wait {match.group(1)}" in out


def test_submit_wait_completes_with_exit_0(
    env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    code, out, err = run(capsys, "submit", str(requests_file), "--endpoint", CHAT, "--wait", *FAST, "--json")
    assert code == 0, err
    final = json.loads(out)  # the final batch and nothing else on stdout
    assert final["status"] == "completed"
    assert final["request_counts"] == {"total": 5, "completed": 4, "failed": 1}
    # Progress went to stderr, as plain timestamped lines (capsys is not a terminal), the last one the final state.
    progress = err.splitlines()
    assert progress and all(PLAIN_LINE.match(line) for line in progress), err
    assert " completed 4/5 completed, 1 failed " in progress[-1]
    assert "\r" not in out + err


def test_submit_wait_text(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    code, out, _ = run(capsys, "submit", str(requests_file), "--endpoint", CHAT, "--wait", "--quiet", *FAST)
    assert code == 0
    lines = out.splitlines()
    assert re.fullmatch(r"submitted batch_\w+", lines[0])
    assert re.fullmatch(r"batch batch_\w+ completed: 4/5 completed, 1 failed", lines[1])
    assert any(line.startswith("  output file: file-") for line in lines)


def test_submit_refuses_a_bad_file_before_uploading(
    env: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "dupes.jsonl", [request("a"), request("b"), request("a")])
    code, out, err = run(capsys, "submit", str(path), "--endpoint", CHAT, "--json")
    assert code == 2
    assert out == ""
    line = one_error_line(err)
    assert "line 3" in line and "dupes.jsonl" in line
    with client_for(env) as client:
        assert list(client.files.list()) == []  # nothing was uploaded


def test_submit_missing_file(env: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "submit", str(tmp_path / "nope.jsonl"), "--endpoint", CHAT)
    assert code == 2
    assert "no such file" in one_error_line(err) and out == ""


def test_missing_api_key(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    point_at(monkeypatch, server)
    monkeypatch.delenv("OPENAI_API_KEY")
    code, _, err = run(capsys, "list")
    assert code == 2
    assert "OPENAI_API_KEY" in one_error_line(err)


def test_global_options_before_or_after_the_command(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    options = ["--api-key", KEY, "--base-url", server.base_url]
    code, out, err = run(capsys, *options, "--json", "list")
    assert code == 0, err
    assert json.loads(out) == []
    code, out, err = run(capsys, "list", *options, "--json")
    assert code == 0, err
    assert json.loads(out) == []


# --- status, list, cancel -------------------------------------------------------------------------------------------


def test_status(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    batch = finished_batch(env, requests_file)
    code, out, err = run(capsys, "status", batch.id, "--json")
    assert code == 0, err
    assert json.loads(out) == batch.to_dict()

    code, out, _ = run(capsys, "status", batch.id)
    assert code == 0
    fields = {line[:12].strip(): line[13:] for line in out.splitlines()}
    assert fields["id"] == batch.id
    assert fields["status"] == "completed"
    assert fields["requests"] == "4/5 completed, 1 failed"
    assert fields["output file"] == batch.output_file_id


def test_status_of_a_failed_batch_shows_why(
    env: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch_id = failing_batch(env, tmp_path)
    assert run(capsys, "wait", batch_id, *FAST, "--quiet")[0] == 3
    code, out, _ = run(capsys, "status", batch_id)
    assert code == 0  # status reports; only wait turns the final status into the exit status
    assert re.search(r"^error\s+line 2: .*prefix-match", out, re.MULTILINE), out


def test_list_one_page_or_all(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    with client_for(env) as client:
        ids = [client.batches.submit(requests_file, endpoint=CHAT).id for _ in range(3)]
    code, out, err = run(capsys, "list", "--limit", "2", "--json")
    assert code == 0, err
    page = json.loads(out)
    assert [batch["id"] for batch in page] == ids[::-1][:2]  # newest first, one page
    assert err == ""  # --json: no hint about further pages

    code, out, _ = run(capsys, "list", "--limit", "2", "--all", "--json")
    assert code == 0
    assert [batch["id"] for batch in json.loads(out)] == ids[::-1]

    code, out, err = run(capsys, "list", "--limit", "2")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split()[:4] == ["ID", "STATUS", "ENDPOINT", "COMPLETED/FAILED/TOTAL"]
    assert [row.split()[0] for row in rows[1:]] == ids[::-1][:2]
    assert f"--after {ids[1]}" in err

    code, out, err = run(capsys, "list", "--after", ids[1])
    assert code == 0 and [row.split()[0] for row in out.splitlines()[1:]] == [ids[0]]


def test_list_empty(env: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list") == (0, "no batches\n", "")


def test_cancel_then_wait_exits_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    with run_server(tmp_path / "slow", api_keys=[KEY], tick=0.05) as slow:
        point_at(monkeypatch, slow)
        code, out, err = run(capsys, "submit", str(requests_file), "--endpoint", CHAT, "--json")
        assert code == 0, err
        batch_id = json.loads(out)["id"]
        code, out, err = run(capsys, "cancel", batch_id)
        assert code == 0, err
        assert re.fullmatch(rf"batch {batch_id} (cancelling|cancelled)\n", out)
        code, out, err = run(capsys, "wait", batch_id, *FAST, "--json")
        assert code == 5, err
        assert json.loads(out)["status"] == "cancelled"
        code, out, err = run(capsys, "cancel", batch_id, "--json")  # cancelling again is harmless
        assert code == 0, err
        assert json.loads(out)["status"] == "cancelled"


def test_cancel_a_finished_batch_is_refused(
    env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    batch = finished_batch(env, requests_file)
    code, out, err = run(capsys, "cancel", batch.id)
    assert code == 1 and out == ""
    assert "HTTP 409" in one_error_line(err) and "completed" in err


# --- wait -----------------------------------------------------------------------------------------------------------


def test_wait_completed(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    with client_for(env) as client:
        batch_id = client.batches.submit(requests_file, endpoint=CHAT).id
    code, out, err = run(capsys, "wait", batch_id, *FAST)
    assert code == 0, err
    assert out.splitlines()[0] == f"batch {batch_id} completed: 4/5 completed, 1 failed"
    statuses = [line.split()[2] for line in err.splitlines()]
    assert statuses[-1] == "completed"
    assert len(statuses) == len(set(err.splitlines()))  # one line per change, never repeated


def test_wait_failed_batch_exits_3(env: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch_id = failing_batch(env, tmp_path)
    code, out, err = run(capsys, "wait", batch_id, *FAST, "--json")
    assert code == 3, err
    final = json.loads(out)
    assert final["status"] == "failed"
    assert final["errors"]["data"][0]["line"] == 2
    code, out, _ = run(capsys, "wait", batch_id, *FAST, "--quiet")
    assert code == 3
    assert out.splitlines()[0] == f"batch {batch_id} failed: 0/0 completed, 0 failed"
    assert "  error: line 2: " in out


def test_wait_expired_batch_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    with run_server(tmp_path / "expiring", api_keys=[KEY], tick=0.5, completion_window_seconds=0.5) as expiring:
        point_at(monkeypatch, expiring)
        with client_for(expiring) as client:
            batch_id = client.batches.submit(requests_file, endpoint=CHAT).id
        code, out, err = run(capsys, "wait", batch_id, *FAST, "--json")
    assert code == 4, err
    assert json.loads(out)["status"] == "expired"


def test_wait_timeout_exits_6_with_the_last_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    with run_server(tmp_path / "slow", api_keys=[KEY], tick=5) as slow:
        point_at(monkeypatch, slow)
        with client_for(slow) as client:
            batch_id = client.batches.submit(requests_file, endpoint=CHAT).id
        started = time.monotonic()
        code, out, err = run(capsys, "wait", batch_id, *FAST, "--timeout", "0.3", "--json")
        assert time.monotonic() - started < 5
    assert code == 6
    assert json.loads(out)["id"] == batch_id  # the last batch seen, for scripts
    *progress, message = err.splitlines()
    assert all(PLAIN_LINE.match(line) for line in progress)
    assert re.fullmatch(rf"openai-batches: error: timed out after [\d.]+ s: batch {batch_id} is still \w+ .*", message)


def test_wait_unknown_batch(env: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "wait", "batch_doesnotexist", *FAST)
    assert code == 1
    assert out == ""
    line = one_error_line(err)
    assert "not found (HTTP 404" in line and "batch_doesnotexist" in line


# --- results --------------------------------------------------------------------------------------------------------


def test_results_to_stdout(env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    batch = finished_batch(env, requests_file)
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "results", batch.id, *extra)
        assert code == 0, err
        assert err == ""
        records = [json.loads(line) for line in out.splitlines()]
        assert all(set(record) == {"custom_id", "status_code", "body", "error", "request_id"} for record in records)
        by_id = {record["custom_id"]: record for record in records}
        assert set(by_id) == {"q-0", "q-1", "q-2", "q-3", "fail-q-4"}
        assert by_id["q-1"]["status_code"] == 200 and by_id["q-1"]["error"] is None
        assert "question 1" in by_id["q-1"]["body"]["choices"][0]["message"]["content"]
        assert by_id["q-1"]["request_id"].startswith("req_")
        assert by_id["fail-q-4"]["status_code"] >= 400
        assert by_id["fail-q-4"]["error"]["message"]


def test_results_to_a_file(
    env: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path, tmp_path: Path
) -> None:
    batch = finished_batch(env, requests_file)
    target = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "results", batch.id, "-o", str(target))
    assert code == 0, err
    assert out == f"wrote 5 results to {target}: 4 succeeded, 1 failed\n"
    assert sorted(json.loads(line)["custom_id"] for line in target.read_text().splitlines()) == [
        "fail-q-4",
        "q-0",
        "q-1",
        "q-2",
        "q-3",
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of the temporary file
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []

    code, out, _ = run(capsys, "results", batch.id, "--output", str(target), "--json")
    assert code == 0
    assert json.loads(out) == {
        "batch_id": batch.id,
        "path": str(target),
        "results": 5,
        "succeeded": 4,
        "failed": 1,
        "without_result": 0,
    }


def test_results_of_a_failed_batch_are_empty(
    env: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch_id = failing_batch(env, tmp_path)
    assert run(capsys, "wait", batch_id, *FAST, "--quiet")[0] == 3
    assert run(capsys, "results", batch_id) == (0, "", "")


def test_results_of_an_unfinished_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    with run_server(tmp_path / "slow", api_keys=[KEY], tick=5) as slow:
        point_at(monkeypatch, slow)
        with client_for(slow) as client:
            batch_id = client.batches.submit(requests_file, endpoint=CHAT).id
        code, out, err = run(capsys, "results", batch_id, "-o", str(tmp_path / "never.jsonl"))
    # Its own status, not the one network and API errors share: a script can tell "come back later" apart.
    assert code == 7
    assert out == ""
    assert f"openai-batches wait {batch_id}" in one_error_line(err)
    assert not (tmp_path / "never.jsonl").exists()


# --- expected errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status", "batch_doesnotexist"], ["cancel", "batch_doesnotexist"]])
def test_unknown_batch_id(env: LocalServer, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, err = run(capsys, *command)
    assert code == 1
    assert out == ""
    assert "not found (HTTP 404" in one_error_line(err)


def test_bad_key(server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "sk-wrong-key-that-must-never-be-printed"
    point_at(monkeypatch, server, key=wrong)
    for argv in (["list"], ["status", "batch_x", "--json"], ["wait", "batch_x", *FAST]):
        code, out, err = run(capsys, *argv)
        assert code == 1
        assert out == ""
        assert "authentication failed (HTTP 401" in one_error_line(err)
        assert wrong not in err


def test_connection_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    code, out, err = run(capsys, "status", "batch_x")
    assert code == 1
    assert out == ""
    line = one_error_line(err)
    assert "cannot reach the API" in line and f"127.0.0.1:{port}" in line
    assert KEY not in err


def test_an_error_message_never_shows_the_key() -> None:
    stderr = io.StringIO()
    output = Output(io.StringIO(), stderr, as_json=False, secrets=[KEY, ""])
    output.error(f"the server echoed {KEY} back\nover two lines")
    assert stderr.getvalue() == "openai-batches: error: the server echoed [redacted] back over two lines\n"


# --- the real console script ----------------------------------------------------------------------------------------


def script(server: LocalServer, *argv: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": key, "OPENAI_BASE_URL": server.base_url}
    return subprocess.run([str(SCRIPT), *argv], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_console_script_exit_statuses(server: LocalServer, requests_file: Path, tmp_path: Path) -> None:
    assert SCRIPT.exists(), "run `make setup`: the console script is missing"
    done = script(server, "submit", str(requests_file), "--endpoint", CHAT, "--wait", *FAST)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout + done.stderr  # not a terminal: plain lines only
    assert all(PLAIN_LINE.match(line) for line in done.stderr.splitlines()), done.stderr

    bad_key = script(server, "list", key="sk-not-the-right-one")
    unknown = script(server, "status", "batch_doesnotexist")
    usage = script(server, "submit", str(requests_file), "--endpoint", "/v1/nowhere")
    failed = script(server, "wait", failing_batch(server, tmp_path), *FAST, "--json")
    assert (bad_key.returncode, unknown.returncode, usage.returncode, failed.returncode) == (1, 1, 2, 3)
    for process in (bad_key, unknown):
        assert process.stdout == ""
        one_error_line(process.stderr)
    assert "sk-not-the-right-one" not in bad_key.stderr
    assert "Traceback" not in usage.stderr + failed.stderr
    assert json.loads(failed.stdout)["status"] == "failed"


# --- the progress display, unit by unit -------------------------------------------------------------------------------


def batch_model(status: str, completed: int, failed: int, total: int) -> Batch:
    return Batch.from_dict(
        {
            "id": "batch_abc",
            "object": "batch",
            "endpoint": CHAT,
            "input_file_id": "file-x",
            "completion_window": "24h",
            "status": status,
            "created_at": 1_700_000_000,
            "request_counts": {"total": total, "completed": completed, "failed": failed},
        }
    )


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bar_and_elapsed_formats() -> None:
    assert render_bar(0, 0, 10) == "-" * 10
    assert render_bar(5, 10, 10) == "#####-----"
    assert render_bar(12, 10, 10) == "#" * 10
    assert (format_elapsed(0), format_elapsed(65.9), format_elapsed(3725)) == ("0:00", "1:05", "1:02:05")
    line = live_line(batch_model("in_progress", 6, 2, 16), 65)
    assert line == "in_progress [############------------] 6/16 completed, 2 failed, 1:05"


def test_live_display_redraws_in_place() -> None:
    fake = FakeTime()
    stream = io.StringIO()
    progress = WaitProgress(stream, live=True, clock=fake.clock, sleeper=fake.sleep, columns=lambda: 200)
    progress.update(batch_model("in_progress", 1, 0, 4))
    progress.sleep(1.0)  # redraws as time passes, so the elapsed time moves between polls
    progress.update(batch_model("completed", 3, 1, 4))
    progress.finish()
    progress.finish()  # idempotent
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    assert len(frames) >= 6  # the first update, five redraws in one second of sleep, the final state
    assert frames[0] == "in_progress [######------------------] 1/4 completed, 0 failed, 0:00"
    assert frames[-3] == "in_progress [######------------------] 1/4 completed, 0 failed, 0:01"
    # The shorter final line is padded over the longer one before it, so no stale characters remain; `finish`
    # draws it once more and moves to a fresh line.
    assert frames[-2] == "completed [########################] 3/4 completed, 1 failed, 0:01  "
    assert frames[-1] == "completed [########################] 3/4 completed, 1 failed, 0:01\n"
    assert all(step <= 0.2 + 1e-9 for step in fake.slept)


def test_live_display_fits_the_terminal() -> None:
    stream = io.StringIO()
    progress = WaitProgress(stream, live=True, clock=FakeTime().clock, columns=lambda: 40)
    progress.update(batch_model("in_progress", 1, 0, 4))
    assert len(stream.getvalue().lstrip("\r")) == 39


def test_plain_display_is_one_timestamped_line_per_change() -> None:
    fake = FakeTime()
    stream = io.StringIO()
    moment = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    progress = WaitProgress(stream, live=False, clock=fake.clock, sleeper=fake.sleep, now=lambda: moment)
    progress.update(batch_model("validating", 0, 0, 0))
    progress.sleep(3)
    progress.update(batch_model("in_progress", 2, 1, 4))
    progress.finish()
    assert stream.getvalue() == (
        "2025-01-02T03:04:05+00:00 batch_abc validating 0/0 completed, 0 failed (0:00)\n"
        "2025-01-02T03:04:05+00:00 batch_abc in_progress 2/4 completed, 1 failed (0:03)\n"
    )
    assert fake.slept == [3]  # no redraw loop when not live


def test_quiet_display_writes_nothing() -> None:
    stream = io.StringIO()
    progress = WaitProgress(stream, live=True, enabled=False)
    progress.update(batch_model("in_progress", 1, 0, 4))
    progress.finish()
    assert stream.getvalue() == ""


def test_server_text_cannot_reach_the_terminal_raw() -> None:
    stream = io.StringIO()
    WaitProgress(stream, live=False).update(batch_model("in_progress\x1b[2J", 0, 0, 1))
    assert "\x1b" not in stream.getvalue() and "in_progress\\x1b[2J" in stream.getvalue()


def test_status_enum_prints_its_value() -> None:
    assert live_line(batch_model(BatchStatus.FINALIZING.value, 1, 0, 1), 0).startswith("finalizing [")
