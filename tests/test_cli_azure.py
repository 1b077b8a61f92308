"""`openai-batches` on Azure OpenAI: `--azure-endpoint` / `--api-version` or the Azure variables, against the local
server's Azure paths (`/openai/v1/...`, and `/openai/...?api-version=`), with the key sent as `api-key`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches.cli import main
from openai_batches_server import LocalServer, run_server

KEY = "sk-azure-cli-0123456789abcdef"
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1"]
VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


def root(server: LocalServer) -> str:
    """The resource endpoint, as an Azure user writes it: the server's address without any path."""
    return server.base_url.removesuffix("/v1")


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    # Azure's own form: the url without /v1, the model a deployment name.
    lines = [
        {
            "custom_id": f"q-{i}",
            "method": "POST",
            "url": "/chat/completions",
            "body": {"model": "gpt-4o-mini-batch", "messages": [{"role": "user", "content": f"question {i}"}]},
        }
        for i in range(3)
    ]
    path = tmp_path / "requests.jsonl"
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


@pytest.mark.parametrize("version", [None, "2024-10-21"], ids=["v1", "dated"])
def test_submit_wait_and_results_with_the_options(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], version: str | None
) -> None:
    azure = ["--azure-endpoint", root(server), "--api-key", KEY, *(["--api-version", version] if version else [])]
    code, out, err = run(capsys, "submit", str(requests_file), "--wait", "--json", "-q", *FAST, *azure)
    assert code == 0, err
    batch = json.loads(out)
    assert batch["status"] == "completed" and batch["request_counts"]["completed"] == 3
    assert KEY not in out + err

    code, out, err = run(capsys, "results", batch["id"], "--json", *azure)
    assert code == 0, err
    ids = sorted(json.loads(line)["custom_id"] for line in out.splitlines())
    assert ids == ["q-0", "q-1", "q-2"]


def test_the_azure_variables_choose_azure(
    server: LocalServer, requests_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", root(server))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    code, out, err = run(capsys, "job", "run", "azure-eval", str(requests_file), "-q", *FAST)
    assert code == 0, err
    assert out.splitlines()[0] == "job azure-eval: completed, 3 of 3 requests final"
    code, out, err = run(capsys, "job", "results", "azure-eval")
    assert code == 0, err
    assert [json.loads(line)["custom_id"] for line in out.splitlines()] == ["q-0", "q-1", "q-2"]


def test_a_missing_azure_key_names_the_azure_variables(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "list", "--azure-endpoint", root(server))
    assert code == 2
    line = error_line(err)
    assert "AZURE_OPENAI_API_KEY" in line and "--api-key" in line


def test_a_wrong_azure_key_is_refused_without_being_shown(
    server: LocalServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "sk-azure-wrong-key-9876543210"
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", wrong)
    code, _, err = run(capsys, "list", "--azure-endpoint", root(server))
    assert code == 1
    line = error_line(err)
    assert "authentication failed (HTTP 401" in line and "AZURE_OPENAI_API_KEY" in line
    assert wrong not in err and wrong[-10:] not in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--azure-endpoint", "http://127.0.0.1:9", "--base-url", "http://127.0.0.1:9/v1"], "not both"),
        (["--api-version", "2024-10-21", "--api-key", KEY], "--api-version is for Azure OpenAI"),
    ],
    ids=["endpoint-and-base-url", "version-without-azure"],
)
def test_options_that_contradict_each_other_are_usage_errors(
    server: LocalServer, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, _, err = run(capsys, "list", *argv)
    assert code == 2
    assert words in error_line(err)


def test_a_base_url_wins_over_the_azure_endpoint_variable(
    server: LocalServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The variable names a resource that does not answer; --base-url names the service outright.
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    code, out, err = run(capsys, "list", "--json", "--base-url", server.base_url, "--api-key", KEY)
    assert code == 0, err
    assert json.loads(out) == []
