"""`openai-batches estimate` and `job run --dry-run`, in-process (`cli.main`), with a base URL that records requests.

Neither may send anything or need an API key; a dry run records no job. `job status` prices jobs at the shipped
batch prices when no --price is given.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from openai_batches import BATCH_PRICES
from openai_batches.cli import main
from openai_batches_server import LocalServer, run_server

KEY = "sk-estimate-cli-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1", "-q"]


def chat(custom_id: str, text: str = "hello there", model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


class Recording(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _any(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A base URL that records every request made to it; no API key in the environment; a state dir not yet made."""
    Recording.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
    try:
        yield Recording.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def requests_file(tmp_path: Path) -> Path:
    lines = [chat(f"q-{i}", f"question {i}", max_tokens=20) for i in range(7)]
    lines += [chat(f"h-{i}", f"question {i}", model="house-model-7", max_tokens=20) for i in range(2)]
    return write(tmp_path / "requests.jsonl", lines)


def test_estimate_json_is_one_object_of_the_documented_shape(
    recorder: list[str], requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "estimate", str(requests_file), "--json", "--max-batch-requests", "3")
    assert code == 0, err
    data = json.loads(out)  # one JSON document, nothing else on stdout
    assert {"requests", "batches", "models", "cost"} <= set(data)
    assert (data["requests"], data["batches"]) == (9, 3 + 1)
    assert set(data["models"]) == {"gpt-4o-mini", "house-model-7"}
    mini = data["models"]["gpt-4o-mini"]
    assert (mini["requests"], mini["max_output_tokens"]) == (7, 140) and mini["input_tokens"] > 0
    # house-model-7 has no price: the total has none either, and stderr says which model lacks one
    assert data["cost"] == {"low": None, "high": None, "currency": "USD"}
    assert data["models"]["house-model-7"]["cost"] == {"low": None, "high": None}
    assert data["prices"]["read_on"] == BATCH_PRICES.read_on and data["prices"]["source"] == BATCH_PRICES.source
    assert "no batch price known for house-model-7" in err
    assert recorder == []


def test_estimate_price_overrides_and_the_text_table(
    recorder: list[str], requests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "estimate", str(requests_file), "--price", "house-model-7=1,2", "--price", "gpt-4o-mini=10,20,5"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"9 requests to {CHAT} in 2 batches; input tokens estimated by ")
    header = "MODEL REQUESTS BATCHES INPUT TOKENS MAX OUTPUT TOKENS COST LOW COST HIGH"
    assert lines[1].split() == header.split()
    assert lines[2].split()[:3] == ["gpt-4o-mini", "7", "1"] and lines[4].split()[0] == "total"
    assert any(line.startswith("cost: $") and " to $" in line for line in lines)
    assert f"read {BATCH_PRICES.read_on} from {BATCH_PRICES.source}" in out
    assert "given for gpt-4o-mini, house-model-7" in out
    code, out, _ = run(capsys, "estimate", str(requests_file), "--json", "--price", "house-model-7=1,2")
    data = json.loads(out)
    tokens = data["models"]["house-model-7"]["input_tokens"]
    assert data["models"]["house-model-7"]["cost"]["low"] == pytest.approx(tokens * 1.0 / 1e6)
    assert data["models"]["house-model-7"]["cost"]["high"] == pytest.approx((tokens * 1.0 + 40 * 2.0) / 1e6)
    assert data["prices"]["overridden"] == ["house-model-7"]
    assert recorder == []


def test_estimate_refusals_exit_2(
    recorder: list[str], requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "estimate", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "estimate", str(requests_file), "--price", "gpt-4o-mini=cheap")
    assert code == 2 and "MODEL=INPUT,OUTPUT" in err
    bad = write(tmp_path / "bad.jsonl", [chat("a"), chat("a")])
    code, _, err = run(capsys, "estimate", str(bad))
    assert code == 2 and "line 2: custom_id 'a' is already used on line 1" in err
    code, _, err = run(capsys, "estimate", str(requests_file), "--endpoint", "/v1/nowhere")
    assert code == 2 and "unknown endpoint" in err
    assert recorder == []


def test_a_dry_run_sends_nothing_and_records_no_job(
    recorder: list[str], requests_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "job", "run", "eval", str(requests_file), "--dry-run", "--max-batch-requests", "3")
    assert code == 0, err
    assert out.splitlines()[0] == "dry run of job eval: nothing was sent and no job was recorded"
    assert out.splitlines()[1].startswith("9 requests to /v1/chat/completions in 4 batches")
    assert recorder == []
    assert not (tmp_path / "state").exists()
    # The same object as `estimate --json` with the same settings.
    options = ["--max-batch-requests", "3", "--price", "house-model-7=1,2"]
    code, dry, _ = run(capsys, "job", "run", "eval", str(requests_file), "--dry-run", "--json", *options)
    _, estimated, _ = run(capsys, "estimate", str(requests_file), "--json", *options)
    assert code == 0 and json.loads(dry) == json.loads(estimated)
    code, _, err = run(capsys, "job", "run", "bad name", str(requests_file), "--dry-run")
    assert code == 2 and "a job name is" in err
    assert recorder == [] and not (tmp_path / "state").exists()


def test_the_help_says_what_a_dry_run_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "job", "run", "--help")
    text = " ".join(out.split())
    assert code == 0 and "--dry-run" in text and "nothing is sent, no job is recorded" in text
    code, out, _ = run(capsys, "estimate", "-h")
    assert code == 0 and "--price MODEL=IN,OUT[,CACHED]" in out
    code, out, _ = run(capsys, "-h")
    assert "estimate" in out


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
        yield running


def test_job_status_costs_at_the_shipped_prices_without_price(
    server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "in.jsonl", [chat(f"q-{i}") for i in range(4)])
    code, _, err = run(capsys, "job", "run", "mini", str(path), *FAST)
    assert code == 0, err
    code, out, _ = run(capsys, "job", "status")
    assert code == 0 and out.splitlines()[1].split()[-1].startswith("$")
    code, out, _ = run(capsys, "job", "status", "mini", "--json")
    summary = json.loads(out)["summary"]
    price = BATCH_PRICES.lookup("gpt-4o-mini")
    assert price is not None
    expected = price.cost(summary["input_tokens"], summary["cached_tokens"], summary["output_tokens"])
    assert summary["cost"] == pytest.approx(expected) and summary["cost"] > 0
