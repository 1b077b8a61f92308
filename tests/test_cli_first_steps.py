"""What a newcomer meets first on the command line: the endpoint read from the file, a hint for a base URL without
/v1, a quiet exit into a closed pipe, a wait that reports as soon as the batch is done, and `python -m openai_batches`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches import BatchClient
from openai_batches.cli import KNOWN_ENDPOINTS, main
from openai_batches_server import LocalServer, run_server
from test_cli import CHAT, KEY, SCRIPT, one_error_line, point_at, request, run, write_jsonl

EMBEDDINGS = "/v1/embeddings"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        point_at(monkeypatch, running)
        yield running


def embedding_line(custom_id: str) -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": {"model": "e", "input": "hi"}}


# --- submit reads the endpoint from the lines ---------------------------------------------------------------------


def test_submit_reads_the_endpoint_from_the_lines(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "embed.jsonl", [embedding_line("e-1"), embedding_line("e-2")])
    code, out, err = run(capsys, "submit", str(path), "--json")
    assert code == 0, err
    batch = json.loads(out)
    assert batch["endpoint"] == EMBEDDINGS
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        assert client.batches.retrieve(batch["id"]).endpoint == EMBEDDINGS


def test_submit_with_lines_for_two_endpoints_asks_for_one(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", [request("c-1"), embedding_line("e-1")])
    code, out, err = run(capsys, "submit", str(path))
    assert (code, out) == (2, "")
    message = one_error_line(err)
    assert "do not all target one endpoint" in message and "line 2" in message and "--endpoint" in message
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        assert client.files.list().data == []  # refused before anything was uploaded


def test_submit_of_an_empty_file_without_endpoint_says_so(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    code, _, err = run(capsys, "submit", str(path))
    assert code == 2
    assert "holds no requests" in one_error_line(err)


@pytest.mark.parametrize("flag", [True, False])
def test_an_unknown_endpoint_lists_the_valid_ones(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: bool
) -> None:
    path = write_jsonl(tmp_path / "odd.jsonl", [request("x-1", url="/v1/chat/complete")])
    argv = ["submit", str(path), *(["--endpoint", "/v1/chat/complete"] if flag else [])]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    message = one_error_line(err)
    assert "unknown endpoint '/v1/chat/complete'" in message
    assert all(endpoint in message for endpoint in KNOWN_ENDPOINTS)
    assert CHAT in KNOWN_ENDPOINTS and EMBEDDINGS in KNOWN_ENDPOINTS


def test_the_endpoint_flag_still_wins(server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(tmp_path / "chat.jsonl", [request("c-1")])
    code, _, err = run(capsys, "submit", str(path), "--endpoint", EMBEDDINGS)
    assert code == 2
    assert "url is '/v1/chat/completions' but the batch is for '/v1/embeddings'" in one_error_line(err)


# --- a base URL without /v1 -----------------------------------------------------------------------------------------


def test_a_base_url_without_v1_gets_a_hint(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    root = server.base_url.removesuffix("/v1")
    code, out, err = run(capsys, "list", "--base-url", root)
    assert (code, out) == (1, "")
    message = one_error_line(err)
    assert "not found (HTTP 404" in message
    assert f"did you mean --base-url {root}/v1?" in message


def test_a_404_from_a_v1_base_url_has_no_such_hint(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "status", "batch_doesnotexist")
    assert code == 1
    assert "did you mean" not in one_error_line(err)


# --- pipes, waiting, python -m ---------------------------------------------------------------------------------------


def script_env(server: LocalServer) -> dict[str, str]:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url}
    env["PATH"] = f"{SCRIPT.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_results_into_a_closed_pipe_exit_quietly(server: LocalServer, tmp_path: Path) -> None:
    # Far more than a pipe buffer holds, so the writer meets the closed pipe while it still has results to write.
    lines = [request(f"q-{i}", "x" * 200) for i in range(3_000)]
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batch = client.batches.submit(write_jsonl(tmp_path / "many.jsonl", lines), endpoint=CHAT)
        batch_id = client.batches.wait(batch, poll_interval=0.02, max_poll_interval=0.1, timeout=60).id
    done = subprocess.run(
        ["bash", "-c", 'set -o pipefail; openai-batches results "$1" | head -1', "bash", batch_id],
        env=script_env(server),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["custom_id"] == "q-0"


def test_wait_reports_a_small_batch_about_when_it_finishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The server's default pace: a 2-request batch ends in under a second. The old first pause alone was 5 s.
    with (
        run_server(tmp_path / "paced", api_keys=[KEY]) as paced,
        BatchClient(api_key=KEY, base_url=paced.base_url) as c,
    ):
        batch_id = c.batches.submit([request("a"), request("b")], endpoint=CHAT).id
        started = time.monotonic()
        code = main(["--api-key", KEY, "--base-url", paced.base_url, "wait", batch_id, "--quiet"])
        elapsed = time.monotonic() - started
    assert code == 0, capsys.readouterr().err
    assert elapsed < 4.5, f"wait took {elapsed:.1f} s to report a batch that ran for under a second"


def test_python_dash_m_runs_the_same_command_line(server: LocalServer, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", [request("only")])
    env = script_env(server)
    submitted = subprocess.run(
        [sys.executable, "-m", "openai_batches", "submit", str(path), "--wait", "--json", "--poll-interval", "0.05"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert submitted.returncode == 0, submitted.stderr
    assert json.loads(submitted.stdout)["status"] == "completed"
    helped = subprocess.run(
        [sys.executable, "-m", "openai_batches", "--help"], env=env, capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: openai-batches")
