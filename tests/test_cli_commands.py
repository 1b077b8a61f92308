"""`openai-batches`, command by command and option by option: what each prints on stdout and stderr, its exit status,
the usage errors and their messages, the environment it reads, and the progress display on a terminal or not.

Commands run in-process (`cli.main([...])`) against the local server in 127.0.0.1 (`tick=0` unless a test needs a
batch that stays unfinished); stdout and stderr are read with capsys, or replaced by streams that say they are a
terminal (or that buffer like a pipe) where that is what the test is about.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from openai_batches import BatchClient
from openai_batches._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    MissingAPIKeyError,
    NotFoundError,
)
from openai_batches.cli import EXIT_CODES, _explain, main
from openai_batches.jobs.errors import JobBusyError, JobLeaseLostError, JobNotFoundError, JobStateError
from openai_batches_server import Faults, LocalServer, run_server

KEY: Final = "sk-cli-commands-0123456789abcdef"
CHAT: Final = "/v1/chat/completions"
EMBEDDINGS: Final = "/v1/embeddings"
FAST: Final = ["--poll-interval", "0.02", "--max-poll-interval", "0.05"]
VARIABLES: Final = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
)
PLAIN_LINE: Final = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d batch_\w+ \w+ \d+/\d+ completed, \d+ failed \(\d+:\d\d\)$"
)


def request(custom_id: str, text: str = "hello", url: str = CHAT) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def embedding(custom_id: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": {"model": "e", "input": "hi"}}


def write_jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    lines = [request(f"q-{i}", f"question {i}") for i in range(4)] + [request("fail-q-4", "doomed")]
    return write_jsonl(tmp_path / "requests.jsonl", lines)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def client_for(server: LocalServer) -> BatchClient:
    return BatchClient(api_key=KEY, base_url=server.base_url)


def submitted(server: LocalServer, path: Path, endpoint: str = CHAT) -> str:
    with client_for(server) as client:
        return client.batches.submit(path, endpoint=endpoint).id


def finished(server: LocalServer, path: Path) -> str:
    with client_for(server) as client:
        batch = client.batches.submit(path, endpoint=CHAT)
        return client.batches.wait(batch, poll_interval=0.02, max_poll_interval=0.05, timeout=20).id


class Terminal(io.StringIO):
    """A stderr that says it is a terminal (80 columns, no UTF-8: the bar is drawn in ASCII)."""

    def isatty(self) -> bool:
        return True


def frames(text: str) -> list[str]:
    """The live lines drawn, in order (each begins with a carriage return)."""
    return [frame.rstrip("\n").rstrip() for frame in text.split("\r")[1:]]


# --- help, usage errors ---------------------------------------------------------------------------------------------


def test_no_arguments_prints_the_help_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    assert err.startswith("usage: openai-batches [-h]")
    assert "exit status:" in err


def test_help_goes_to_stdout_with_status_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--help")
    assert (code, err) == (0, "")
    assert out.startswith("usage: openai-batches [-h] [--json] [--api-key KEY] [--base-url URL]")
    for command in ("submit", "status", "list", "wait", "cancel", "results", "estimate", "job", "serve"):
        assert re.search(rf"^    {command}\s", out, re.MULTILINE), command


def test_main_reads_sys_argv_without_arguments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["openai-batches", "--help"])
    assert main() == 0
    assert capsys.readouterr().out.startswith("usage: openai-batches")


@pytest.mark.parametrize(
    "command",
    [
        ["submit", "--help"],
        ["status", "--help"],
        ["list", "--help"],
        ["wait", "--help"],
        ["cancel", "--help"],
        ["results", "--help"],
        ["estimate", "--help"],
        ["job", "--help"],
    ],
)
def test_each_command_has_its_help(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, err = run(capsys, *command)
    assert (code, err) == (0, "")
    assert out.startswith(f"usage: openai-batches {command[0]} ")
    assert "  --json " in out


def test_the_options_of_each_command_are_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        "submit": ["FILE.jsonl", "--endpoint E", "--metadata KEY=VALUE", "--wait", "--poll-interval S"],
        "wait": ["ID", "--poll-interval S", "--max-poll-interval S", "--timeout S", "-q, --quiet"],
        "list": ["--limit N", "--after ID", "--all"],
        "status": ["ID"],
        "cancel": ["ID"],
        "results": ["ID", "-o FILE, --output FILE"],
    }
    for command, options in expected.items():
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        for option in (*options, "--api-key KEY", "--base-url URL", "--azure-endpoint URL", "--api-version VERSION"):
            assert option in out, (command, option)
    assert "--max-poll-interval S" in run(capsys, "submit", "--help")[1]
    assert "--timeout S" in run(capsys, "submit", "--help")[1]
    assert "-q, --quiet" in run(capsys, "submit", "--help")[1]


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == "openai-batches: error: a command is required"
    assert err.startswith("usage: openai-batches")


def test_serve_after_options_is_refused_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--json", "serve")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "openai-batches: error: `serve` takes its own options: run `openai-batches serve ...` with serve first"
    )
    # The `serve` entry only names the command: it has no options (not even --help) of its own there.
    code, out, err = run(capsys, "--json", "serve", "--help")
    assert (code, out) == (2, "")
    assert "unrecognized arguments: --help" in err


def test_serve_first_hands_the_rest_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import openai_batches_server.cli as server_cli

    seen: list[list[str]] = []

    def fake_serve(argv: list[str] | None = None) -> int:
        seen.append(list(argv or []))
        return 11

    monkeypatch.setattr(server_cli, "main", fake_serve)
    assert main(["serve", "--port", "0", "--tick", "0"]) == 11
    assert main(["serve"]) == 11
    assert seen == [["--port", "0", "--tick", "0"], []]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "--limit", "0"], "argument --limit: expected 1 to 100, got '0'"),
        (["list", "--limit", "101"], "argument --limit: expected 1 to 100, got '101'"),
        (["list", "--limit", "many"], "argument --limit: expected a whole number, got 'many'"),
        (["submit", "f.jsonl", "--metadata", "novalue"], "argument --metadata: expected KEY=VALUE, got 'novalue'"),
        (["submit", "f.jsonl", "--metadata", "=v"], "argument --metadata: expected KEY=VALUE, got '=v'"),
        (["wait", "b", "--poll-interval", "0"], "argument --poll-interval: expected seconds > 0, got '0'"),
        (["wait", "b", "--timeout", "soon"], "argument --timeout: expected seconds, got 'soon'"),
    ],
)
def test_bad_option_values_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"openai-batches {argv[0]}: error: {message}"


# --- the environment and the common options -------------------------------------------------------------------------


def test_no_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list") == (2, "", "openai-batches: error: no API key: set OPENAI_API_KEY (or pass --api-key)\n")


def test_no_api_key_for_azure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--azure-endpoint", "http://127.0.0.1:9")
    assert (code, out) == (2, "")
    assert err == (
        "openai-batches: error: no API key: set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN (or pass --api-key)\n"
    )


def test_azure_endpoint_and_base_url_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "b", "--azure-endpoint", "http://a", "--base-url", "http://b/v1")
    assert (code, out) == (2, "")
    assert err == "openai-batches: error: give --azure-endpoint or --base-url, not both\n"


def test_api_version_needs_azure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--api-key", KEY, "--api-version", "2024-10-21")
    assert (code, out) == (2, "")
    assert err == (
        "openai-batches: error: --api-version is for Azure OpenAI: give --azure-endpoint (or AZURE_OPENAI_ENDPOINT)\n"
    )


def test_the_options_before_the_command_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    with run_server(tmp_path / "opts", api_keys=[KEY], tick=0) as running:
        code, out, err = run(capsys, "--json", "--api-key", KEY, "--base-url", running.base_url, "list")
        assert (code, out, err) == (0, "[]\n", "")
        code, out, err = run(capsys, "list", "--api-key", KEY, "--base-url", running.base_url)
        assert (code, out, err) == (0, "no batches\n", "")


def test_the_base_url_and_key_from_the_environment(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    batch_id = submitted(server, requests_file)
    code, out, err = run(capsys, "list", "--json")
    assert (code, err) == (0, "")
    assert [batch["id"] for batch in json.loads(out)] == [batch_id]


def test_the_keys_known_are_never_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given, variable, azure, token = "sk-given-0123456789", "sk-variable-0123456789", "az-key-0123456", "ad-token-0123"
    monkeypatch.setenv("OPENAI_API_KEY", variable)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", azure)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", token)
    missing = tmp_path / f"{given}-{variable}-{azure}-{token}.jsonl"
    code, out, err = run(capsys, "submit", str(missing), "--api-key", given)
    assert (code, out) == (2, "")
    assert err == f"openai-batches: error: no such file: {tmp_path}/[redacted]-[redacted]-[redacted]-[redacted].jsonl\n"


# --- submit -----------------------------------------------------------------------------------------------------------


def test_submit_prints_the_batch_and_how_to_follow_it(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    code, out, err = run(capsys, "submit", str(requests_file), "--endpoint", CHAT)
    assert (code, err) == (0, "")
    match = re.fullmatch(
        r"submitted (batch_\w+) \(validating, /v1/chat/completions\)\nfollow it with: openai-batches wait (\1)\n", out
    )
    assert match, out
    with client_for(server) as client:
        batch = client.batches.retrieve(match.group(1))
    assert batch.metadata is None


def test_submit_json_with_metadata(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    code, out, err = run(
        capsys, "submit", str(requests_file), "--metadata", "job=nightly", "--metadata", "empty=", "--json"
    )
    assert (code, err) == (0, "")
    batch = json.loads(out)
    assert batch["status"] == "validating" and batch["endpoint"] == CHAT
    assert batch["metadata"] == {"job": "nightly", "empty": ""}
    assert out.startswith('{\n  "id": "batch_')


def test_submit_reads_the_endpoint_from_the_lines(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "embed.jsonl", [embedding("e-1"), embedding("e-2")])
    code, out, err = run(capsys, "submit", str(path), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["endpoint"] == EMBEDDINGS


def test_submit_of_a_missing_file_or_a_directory(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.jsonl"
    assert run(capsys, "submit", str(missing)) == (2, "", f"openai-batches: error: no such file: {missing}\n")
    assert run(capsys, "submit", str(tmp_path)) == (2, "", f"openai-batches: error: not a file: {tmp_path}\n")


def test_submit_with_lines_for_two_endpoints(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", [request("c-1"), embedding("e-1")])
    code, out, err = run(capsys, "submit", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"openai-batches: error: the lines of {path} do not all target one endpoint (")
    assert err.endswith(
        "); a batch runs a single endpoint: fix the lines, or pass --endpoint to name the one they should use\n"
    )


def test_submit_of_a_file_the_service_would_reject(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "dupes.jsonl", [request("a"), request("b"), request("a")])
    for extra in ([], ["--endpoint", CHAT]):
        code, out, err = run(capsys, "submit", str(path), *extra)
        assert (code, out) == (2, "")
        assert err.startswith("openai-batches: error: the input file would be rejected: ")
        assert "line 3" in err and err.count("\n") == 1
    with client_for(server) as client:
        assert list(client.files.list()) == []


def test_submit_of_an_empty_file(server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    code, out, err = run(capsys, "submit", str(path))
    assert (code, out) == (2, "")
    assert err == f"openai-batches: error: {path} holds no requests, so there is no endpoint to read from it\n"
    # With the endpoint named, the library's own check refuses it (an invalid parameter: still a usage error).
    code, out, err = run(capsys, "submit", str(path), "--endpoint", CHAT)
    assert (code, out) == (2, "")
    assert err == f"openai-batches: error: requests: {str(path)!r} holds no requests\n"


@pytest.mark.parametrize("flag", [True, False])
def test_submit_of_an_unknown_endpoint(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: bool
) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [request("x-1", url="/v1/chat/complete")])
    code, out, err = run(capsys, "submit", str(path), *(["--endpoint", "/v1/chat/complete"] if flag else []))
    assert (code, out) == (2, "")
    source = "" if flag else f" (the url of the lines in {path})"
    assert err.startswith(f"openai-batches: error: unknown endpoint '/v1/chat/complete'{source}; valid endpoints: ")
    assert "/v1/chat/completions, " in err


def test_submit_without_v1_is_refused_outside_azure(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "azure.jsonl", [request("x-1", url="/chat/completions")])
    code, out, err = run(capsys, "submit", str(path), "--endpoint", "/chat/completions")
    assert (code, out) == (2, "")
    assert err.startswith("openai-batches: error: unknown endpoint '/chat/completions'; valid endpoints: ")


def test_submit_to_azure_keeps_the_endpoint_without_v1(
    server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "azure.jsonl", [request("x-1", url="/chat/completions")])
    azure = ["--azure-endpoint", server.base_url.removesuffix("/v1"), "--api-key", KEY]
    os.environ.pop("OPENAI_BASE_URL")
    for extra in ([], ["--endpoint", "/chat/completions"]):
        code, out, err = run(capsys, "submit", str(path), "--json", *azure, *extra)
        assert (code, err) == (0, "")
        assert json.loads(out)["endpoint"] == "/chat/completions"


def test_submit_wait_text(server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    code, out, err = run(capsys, "submit", str(requests_file), "--wait", "--quiet", *FAST)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    batch_id = lines[0].removeprefix("submitted ")
    assert re.fullmatch(r"batch_\w+", batch_id)
    assert lines[1] == f"batch {batch_id} completed: 4/5 completed, 1 failed"
    assert re.fullmatch(r"  output file: file-\w+", lines[2])
    assert re.fullmatch(r"  error file: file-\w+", lines[3])
    assert len(lines) == 4


def test_submit_wait_json_is_the_final_batch_only(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    code, out, err = run(capsys, "submit", str(requests_file), "--wait", "--json", *FAST)
    assert code == 0
    final = json.loads(out)
    assert final["status"] == "completed"
    assert final["request_counts"] == {"total": 5, "completed": 4, "failed": 1}
    progress = err.splitlines()
    assert progress and all(PLAIN_LINE.match(line) for line in progress), err
    assert f"{final['id']} completed 4/5 completed, 1 failed (" in progress[-1]


class Pipe:
    """A stdout that, like a pipe, hands its text to the reader (`log`) only when flushed; stderr writes go to the
    same log at once, so the log holds what a reader of both sees, in order."""

    encoding = "utf-8"

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.log.append(self.pending)
        self.pending = ""

    def isatty(self) -> bool:
        return False


class Log(io.StringIO):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def write(self, text: str) -> int:
        self.log.append(text)
        return len(text)


def test_submit_wait_names_the_batch_before_waiting(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, requests_file: Path
) -> None:
    log: list[str] = []
    stdout = Pipe(log)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", Log(log))
    code = main(["submit", str(requests_file), "--wait", *FAST])
    stdout.flush()
    assert code == 0
    assert re.fullmatch(r"submitted batch_\w+\n", log[0]), log
    assert PLAIN_LINE.match(log[1].rstrip("\n")), log


def slow_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tick: float, count: int = 3) -> Iterator[str]:
    with run_server(tmp_path / f"slow-{tick}", api_keys=[KEY], tick=tick) as slow:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", slow.base_url)
        path = write_jsonl(tmp_path / "slow.jsonl", [request(f"s-{i}") for i in range(count)])
        yield submitted(slow, path)


@pytest.fixture
def unfinished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A batch that stays `validating` for the whole test."""
    yield from slow_batch(tmp_path, monkeypatch, tick=30)


def test_submit_wait_on_a_terminal_redraws_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_server(tmp_path / "paced", api_keys=[KEY], tick=0.05) as paced:
        path = write_jsonl(tmp_path / "paced.jsonl", [request(f"p-{i}") for i in range(3)])
        stderr = Terminal()
        monkeypatch.setattr(sys, "stderr", stderr)
        code = main(["submit", str(path), "--wait", "--api-key", KEY, "--base-url", paced.base_url, *FAST])
    out = capsys.readouterr().out
    assert code == 0
    assert re.fullmatch(r"submitted (batch_\w+)\nbatch \1 completed: 3/3 completed, 0 failed\n  output file: .*\n", out)
    text = stderr.getvalue()
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    drawn = frames(text)
    assert re.fullmatch(rf"completed \[{'#' * 24}\] 3/3 completed, 0 failed, \d+:\d\d", drawn[-1]), drawn
    # The line is redrawn while the wait sleeps between polls, not only when the batch changes.
    repeats = sum(1 for before, after in itertools.pairwise(drawn) if before == after)
    assert repeats >= 2, drawn


# --- wait ---------------------------------------------------------------------------------------------------------


def test_wait_on_a_terminal_times_out_on_a_fresh_line(
    unfinished: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(["wait", unfinished, "--poll-interval", "0.3", "--timeout", "0.8"])
    assert code == 6
    assert capsys.readouterr().out == ""
    text = stderr.getvalue()
    live, message = text.rsplit("\n", 2)[:2]
    assert re.fullmatch(
        rf"openai-batches: error: timed out after \d+\.\d s: batch {unfinished} is still validating "
        r"\(it keeps running\)",
        message,
    ), text
    drawn = frames(live + "\n")
    assert all(re.fullmatch(r"validating \[-{24}\] 0/0 completed, 0 failed, \d+:\d\d", frame) for frame in drawn)
    assert len(drawn) >= 4, drawn  # redrawn during the sleeps between polls, then once more to end it


def test_wait_timeout_json_prints_the_last_batch(
    unfinished: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "wait", unfinished, "--timeout", "0.2", "--json", *FAST)
    assert code == 6
    assert json.loads(out)["id"] == unfinished and json.loads(out)["status"] == "validating"
    *progress, message = err.splitlines()
    assert len(progress) == 1 and PLAIN_LINE.match(progress[0])
    assert message.startswith("openai-batches: error: timed out after ")


def test_wait_timeout_text_prints_nothing_on_stdout(unfinished: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "wait", unfinished, "--timeout", "0.2", "-q", *FAST)
    assert (code, out) == (6, "")
    assert re.fullmatch(
        rf"openai-batches: error: timed out after \d+\.\d s: batch {unfinished} is still validating "
        r"\(it keeps running\)\n",
        err,
    )


def test_wait_timeout_before_the_batch_was_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    faults = Faults(rate=1.0, statuses=(429,), retry_after=0.01)
    with run_server(tmp_path / "limited", api_keys=[KEY], tick=0, faults=faults) as limited:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        code, out, err = run(capsys, "wait", "batch_x", "--timeout", "0.01", "--json", "--base-url", limited.base_url)
    assert (code, out) == (6, "")
    assert re.fullmatch(
        r"openai-batches: error: timed out after \d+\.\d s: batch batch_x is not seen yet \(it keeps running\)\n", err
    )


def test_wait_completed_text_and_plain_progress(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    batch_id = submitted(server, requests_file)
    code, out, err = run(capsys, "wait", batch_id, *FAST)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"batch {batch_id} completed: 4/5 completed, 1 failed"
    assert [line.split(":")[0] for line in lines[1:]] == ["  output file", "  error file"]
    assert err and all(PLAIN_LINE.match(line) for line in err.splitlines()), err
    assert "\r" not in err


def test_wait_quiet_on_a_terminal_draws_nothing(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    batch_id = submitted(server, requests_file)
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["wait", batch_id, "--quiet", *FAST]) == 0
    assert stderr.getvalue() == ""
    assert capsys.readouterr().out.startswith(f"batch {batch_id} completed: ")


def test_wait_on_a_terminal_ends_its_line(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], requests_file: Path
) -> None:
    batch_id = submitted(server, requests_file)
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["wait", batch_id, "--json", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
    text = stderr.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    assert re.fullmatch(rf"completed \[{'#' * 24}\] 4/5 completed, 1 failed, \d+:\d\d", frames(text)[-1])


def failing_batch(server: LocalServer, tmp_path: Path) -> str:
    """A batch the server fails at validation: a line for another endpoint (submit would refuse it locally)."""
    path = write_jsonl(tmp_path / "bad.jsonl", [request("ok"), request("wrong", url=EMBEDDINGS)])
    with client_for(server) as client:
        upload = client.files.create(file=path, purpose="batch")
        return client.batches.create(input_file_id=upload.id, endpoint=CHAT).id


def test_wait_for_a_failed_batch(server: LocalServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch_id = failing_batch(server, tmp_path)
    code, out, _ = run(capsys, "wait", batch_id, "-q", *FAST)
    assert code == 3
    lines = out.splitlines()
    assert lines[0] == f"batch {batch_id} failed: 0/0 completed, 0 failed"
    assert lines[1].startswith("  error: line 2: ")
    code, out, _ = run(capsys, "wait", batch_id, "-q", "--json", *FAST)
    assert code == 3 and json.loads(out)["status"] == "failed"


def test_wait_exit_statuses_by_final_status() -> None:
    assert EXIT_CODES == {"completed": 0, "failed": 3, "expired": 4, "cancelled": 5}


def test_wait_for_an_unknown_batch(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "wait", "batch_nope", "-q", *FAST)
    assert (code, out) == (1, "")
    assert re.fullmatch(r"openai-batches: error: not found \(HTTP 404, request id req_\w+\): .*batch_nope.*\n", err), (
        err
    )
    assert "did you mean" not in err


# --- status, list, cancel -------------------------------------------------------------------------------------------


def test_status_text_and_json(server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    batch_id = finished(server, requests_file)
    code, out, err = run(capsys, "status", batch_id)
    assert (code, err) == (0, "")
    fields = {line[:12].strip(): line[13:] for line in out.splitlines()}
    assert fields["id"] == batch_id and fields["status"] == "completed"
    assert fields["requests"] == "4/5 completed, 1 failed"
    code, out, err = run(capsys, "status", batch_id, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["id"] == batch_id


def test_list_text_json_and_pages(server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    ids = [submitted(server, requests_file) for _ in range(3)][::-1]  # newest first
    code, out, err = run(capsys, "list", "--limit", "2")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split() == ["ID", "STATUS", "ENDPOINT", "COMPLETED/FAILED/TOTAL", "CREATED"]
    assert [row.split()[0] for row in rows[1:]] == ids[:2]
    assert err == f"openai-batches: more batches: use --all, or --after {ids[1]} for the next page\n"

    code, out, err = run(capsys, "list", "--limit", "2", "--all")
    assert (code, err) == (0, "")
    assert [row.split()[0] for row in out.splitlines()[1:]] == ids

    code, out, err = run(capsys, "list", "--limit", "2", "--json")
    assert (code, err) == (0, "")
    assert [batch["id"] for batch in json.loads(out)] == ids[:2]

    code, out, err = run(capsys, "list", "--limit", "100", "--all", "--json")
    assert (code, err) == (0, "")
    assert [batch["id"] for batch in json.loads(out)] == ids

    code, out, err = run(capsys, "list", "--limit", "1", "--after", ids[1])
    assert (code, err) == (0, "")
    assert [row.split()[0] for row in out.splitlines()[1:]] == ids[2:]

    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 4


def test_list_empty(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list") == (0, "no batches\n", "")
    assert run(capsys, "list", "--json") == (0, "[]\n", "")


def test_cancel_text_and_json(
    unfinished: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "cancel", unfinished)
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"batch {unfinished} (cancelling|cancelled)\n", out), out
    code, out, err = run(capsys, "cancel", unfinished, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["id"] == unfinished
    assert json.loads(out)["status"] in ("cancelling", "cancelled")


# --- results --------------------------------------------------------------------------------------------------------


def test_results_to_stdout(server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path) -> None:
    batch_id = finished(server, requests_file)
    code, out, err = run(capsys, "results", batch_id)
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert sorted(record["custom_id"] for record in records) == ["fail-q-4", "q-0", "q-1", "q-2", "q-3"]
    assert all(line.startswith('{"custom_id":') for line in out.splitlines())


def test_results_to_a_file(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path, tmp_path: Path
) -> None:
    batch_id = finished(server, requests_file)
    target = tmp_path / "out.jsonl"
    old = os.umask(0o022)
    try:
        code, out, err = run(capsys, "results", batch_id, "-o", str(target))
        assert os.umask(0o022) == 0o022  # the command leaves the process's umask as it found it
    finally:
        os.umask(old)
    assert (code, err) == (0, "")
    assert out == f"wrote 5 results to {target}: 4 succeeded, 1 failed\n"
    lines = target.read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in lines) == ["fail-q-4", "q-0", "q-1", "q-2", "q-3"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".part")] == []

    target.chmod(0o640)  # an existing file keeps its mode
    code, out, err = run(capsys, "results", batch_id, "--output", str(target), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "batch_id": batch_id,
        "path": str(target),
        "results": 5,
        "succeeded": 4,
        "failed": 1,
        "without_result": 0,
    }
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert len(target.read_text().splitlines()) == 5


def test_results_to_a_file_in_the_current_directory(
    server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    requests_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch_id = finished(server, requests_file)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "results", batch_id, "-o", "here.jsonl")
    assert (code, out, err) == (0, "wrote 5 results to here.jsonl: 4 succeeded, 1 failed\n", "")
    assert len((tmp_path / "here.jsonl").read_text().splitlines()) == 5


def test_results_into_a_missing_directory(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path, tmp_path: Path
) -> None:
    batch_id = finished(server, requests_file)
    target = tmp_path / "no" / "out.jsonl"
    code, out, err = run(capsys, "results", batch_id, "-o", str(target))
    assert (code, out, err) == (2, "", f"openai-batches: error: no such directory: {tmp_path / 'no'}\n")


def test_results_onto_a_directory_leave_no_temporary_file(
    server: LocalServer, capsys: pytest.CaptureFixture[str], requests_file: Path, tmp_path: Path
) -> None:
    batch_id = finished(server, requests_file)
    target = tmp_path / "taken"
    target.mkdir()
    code, out, err = run(capsys, "results", batch_id, "-o", str(target))
    assert (code, out) == (1, "")
    assert err == f"openai-batches: error: {target}: Is a directory\n", "named by the path given, not a temporary one"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".taken")) == []
    assert list(target.iterdir()) == []


def test_results_of_an_unfinished_batch(unfinished: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "results", unfinished)
    assert (code, out) == (7, "")
    assert err == (
        f"openai-batches: error: batch {unfinished} is still validating: its results are ready once it ends "
        f"(run `openai-batches wait {unfinished}` first)\n"
    )


# --- errors -------------------------------------------------------------------------------------------------------


def test_a_base_url_without_v1_gets_a_hint(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    root = server.base_url.removesuffix("/v1")
    code, out, err = run(capsys, "list", "--base-url", root)
    assert (code, out) == (1, "")
    assert err.startswith("openai-batches: error: not found (HTTP 404")
    assert err.endswith(f"; the base URL {root} does not end in /v1: did you mean --base-url {root}/v1?\n")
    code, _, err = run(capsys, "status", "batch_nope", "--base-url", server.base_url + "/")
    assert code == 1
    assert "did you mean" not in err and "batch_nope" in err


def test_a_bad_key(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "sk-wrong-key-that-must-never-be-printed"
    code, out, err = run(capsys, "list", "--api-key", wrong, "--base-url", server.base_url.removesuffix("/v1"))
    assert (code, out) == (1, "")
    assert err.startswith("openai-batches: error: authentication failed (HTTP 401")
    assert err.endswith(" (check OPENAI_API_KEY or --api-key)\n")
    assert wrong not in err and "did you mean" not in err


def test_connection_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run(capsys, "status", "batch_x", "--api-key", KEY, "--base-url", f"http://127.0.0.1:{port}/v1")
    assert (code, out) == (1, "")
    assert re.fullmatch(r"openai-batches: error: cannot reach the API: .* \(after \d+ attempts\)\n", err), err


def status_error(cls: type[Any], status: int) -> Any:
    request = httpx.Request("GET", "http://example.test/v1/batches")
    response = httpx.Response(status, request=request, headers={"x-request-id": "req_1"})
    return cls("the message", response=response, body=None)


def attempted(error: APIError, attempts: int) -> APIError:
    error.attempts = attempts
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (MissingAPIKeyError("none"), (2, "no API key: set OPENAI_API_KEY (or pass --api-key)")),
        (APITimeoutError(), (1, "the API did not answer in time: Request timed out.")),
        (attempted(APITimeoutError(), 2), (1, "the API did not answer in time: Request timed out. (after 2 attempts)")),
        (APIConnectionError(), (1, "cannot reach the API: Connection error.")),
        (attempted(APIConnectionError(), 2), (1, "cannot reach the API: Connection error. (after 2 attempts)")),
        (APIError("no usable answer"), (1, "no usable answer")),
        (JobStateError("disk full", job="j", path=None, resumable=True), (8, "disk full")),
        (
            JobLeaseLostError("taken over by 12 on h", job="n\x1bj"),
            (9, "taken over by 12 on h; follow it with `openai-batches job status n\\x1bj`"),
        ),
        (JobBusyError("held by 12", job="j"), (9, "held by 12")),
        (JobNotFoundError("no job named 'j'", job="j"), (2, "no job named 'j'")),
        (OSError(28, "No space left on device"), (1, "No space left on device")),
        (OSError("plain"), (1, "plain")),
        (PermissionError(13, "Permission denied", "/x"), (1, "/x: Permission denied")),
        (
            status_error(AuthenticationError, 401),
            (1, "authentication failed (HTTP 401, request id req_1): the message (check OPENAI_API_KEY or --api-key)"),
        ),
    ],
)
def test_expected_errors_and_their_exit_statuses(error: Exception, expected: tuple[int, str]) -> None:
    assert _explain(error, "http://example.test") == expected


def test_a_404_hint_only_for_a_base_url_without_v1() -> None:
    error = status_error(NotFoundError, 404)
    plain = "not found (HTTP 404, request id req_1): the message"
    assert _explain(error) == (1, plain)
    assert _explain(error, "http://h/v1/") == (1, plain)
    assert _explain(error, "http://h/v1", azure=True) == (1, plain)
    assert _explain(error, "http://h/") == (
        1,
        f"{plain}; the base URL http://h/ does not end in /v1: did you mean --base-url http://h/v1?",
    )
    assert _explain(error, "http://h", azure=True) == (1, plain)


def test_an_unexpected_error_is_raised(monkeypatch: pytest.MonkeyPatch, server: LocalServer, tmp_path: Path) -> None:
    import openai_batches.cli as cli

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "table", broken)
    submitted(server, write_jsonl(tmp_path / "one.jsonl", [request("a")]))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["list"])


def test_ctrl_c_while_waiting_names_the_batch(
    unfinished: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches._cli_progress import WaitProgress

    def interrupted(self: WaitProgress, batch: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(WaitProgress, "update", interrupted)
    code, out, err = run(capsys, "wait", unfinished, *FAST)
    assert (code, out) == (130, "")
    assert err == (
        f"openai-batches: interrupted; batch {unfinished} keeps running "
        f"(follow it with: openai-batches wait {unfinished})\n"
    )


def test_ctrl_c_outside_a_wait(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import openai_batches.cli as cli

    def interrupted(*args: object, **kwargs: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "table", interrupted)
    submitted(server, write_jsonl(tmp_path / "one.jsonl", [request("a")]))
    assert run(capsys, "list") == (130, "", "openai-batches: interrupted\n")


class ClosedPipe:
    """A stdout whose reader has gone: every write raises BrokenPipeError; `fileno` is a real descriptor."""

    encoding = "utf-8"

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return self.descriptor

    def isatty(self) -> bool:
        return False


def test_a_closed_stdout_exits_quietly(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    descriptor = os.open(tmp_path / "stdout", os.O_WRONLY | os.O_CREAT)
    try:
        monkeypatch.setattr(sys, "stdout", ClosedPipe(descriptor))
        assert main(["list"]) == 0
        # stdout now points at the null device, so the interpreter's last flush has nowhere to fail.
        now, null = os.fstat(descriptor), os.stat(os.devnull)
        assert (now.st_dev, now.st_ino) == (null.st_dev, null.st_ino)
    finally:
        os.close(descriptor)
    assert capsys.readouterr().err == ""


def test_python_dash_m_cli_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "openai_batches.cli", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: openai-batches")


def test_the_umask_is_read_without_being_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_batches import cli

    def never(mask: int) -> int:
        raise AssertionError("the umask was set")

    previous = os.umask(0o027)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(os, "umask", never)
            assert cli._umask() == 0o027
            assert cli._new_file_mode(Path("/nonexistent/file")) == 0o640
    finally:
        os.umask(previous)


def test_list_over_an_empty_page_that_says_more_follow_prints_no_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import threading

    class EmptyButMore(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmptyButMore)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/v1")
        code = main(["list"])
    finally:
        httpd.shutdown()
        httpd.server_close()
    captured = capsys.readouterr()
    assert (code, captured.out, captured.err) == (0, "no batches\n", "")


def test_where_the_system_does_not_tell_the_umask_it_is_set_and_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from openai_batches import cli

    real_read = Path.read_text

    def no_proc(self: Path, *args: Any, **kwargs: Any) -> str:
        if str(self) == "/proc/self/status":
            raise FileNotFoundError(str(self))
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", no_proc)
    previous = os.umask(0o077)
    try:
        assert cli._umask() == 0o077
        assert os.umask(0o077) == 0o077, "put back as it was"
    finally:
        os.umask(previous)
