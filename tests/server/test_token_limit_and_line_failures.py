"""The local server's `--enqueued-token-limit` and `--line-failure-rate`: what clients that shard and retry meet."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai_batches_server import LocalServer, ServerConfig, run_server
from openai_batches_server.cli import config_from_args, main
from openai_batches_server.config import LineFailures
from openai_batches_server.line_failures import LineFailurePlan, attempt_of

from .support import (
    KEY,
    OTHER_KEY,
    api_client,
    chat_line,
    create_batch,
    jsonl,
    read_lines,
    run_batch,
    upload,
    wait_for,
)

LIMIT = 100
# Four words per request: the input tokens the local server counts (and reports in usage) are words.
TEXT = "one two three four"
MESSAGE = re.compile(
    r"^Enqueued token limit reached for gpt-4o-mini in organization org-[0-9a-f]{24}\. Limit: 100 enqueued tokens\. "
    r"Please try again once some in_progress batches have been completed\.$"
)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[LocalServer]:
    # Each status step lasts a while, so batches stay in progress long enough to hold their tokens.
    config = ServerConfig(
        data_dir=tmp_path / "data", port=0, api_keys=(KEY, OTHER_KEY), step_seconds=0.3, enqueued_token_limit=LIMIT
    )
    with LocalServer(config) as server:
        yield server


def ten(prefix: str, model: str = "gpt-4o-mini") -> list[dict[str, object]]:
    return [chat_line(f"{prefix}-{i}", TEXT, model=model) for i in range(10)]


def submit(client: httpx.Client, lines: list[dict[str, object]]) -> str:
    return str(create_batch(client, upload(client, jsonl(lines))["id"])["id"])


def started(client: httpx.Client, batch_id: str) -> dict[str, object]:
    return wait_for(client, batch_id, lambda b: b["status"] != "validating")


def test_a_batch_past_the_limit_fails_in_validating_with_the_real_error(limited: LocalServer) -> None:
    with api_client(limited) as client:
        first, second, third = (submit(client, ten(name)) for name in ("a", "b", "c"))
        assert started(client, first)["status"] == "in_progress"
        assert started(client, second)["status"] == "in_progress"
        refused = started(client, third)
        assert refused["status"] == "failed" and refused["failed_at"] is not None
        (error,) = refused["errors"]["data"]
        assert error["code"] == "token_limit_exceeded" and error["line"] is None and error["param"] is None
        assert MESSAGE.match(error["message"]), error["message"]
        # Once the first two end, the same file goes through.
        wait_for(client, second)
        again = create_batch(client, refused["input_file_id"])
        assert wait_for(client, again["id"])["status"] == "completed"
    owner = hashlib.sha256(KEY.encode()).hexdigest()
    assert limited.storage.enqueued_token_peak(owner, "gpt-4o-mini") == 80


def test_the_limit_counts_per_key_and_per_model(limited: LocalServer) -> None:
    with api_client(limited) as client, api_client(limited, OTHER_KEY) as other:
        ours = [submit(client, ten(name)) for name in ("a", "b")]
        theirs = submit(other, ten("x"))
        other_model = submit(client, ten("m", model="gpt-4o"))
        for batch_id in [*ours, other_model]:
            assert started(client, batch_id)["status"] == "in_progress"
        assert started(other, theirs)["status"] == "in_progress"


def test_a_batch_bigger_than_the_limit_alone_fails(limited: LocalServer) -> None:
    with api_client(limited) as client:
        lines = [chat_line(f"big-{i}", TEXT) for i in range(30)]
        batch = started(client, submit(client, lines))
        assert batch["errors"]["data"][0]["code"] == "token_limit_exceeded"


def test_without_a_limit_nothing_is_counted(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as server, api_client(server) as client:
        assert run_batch(client, [chat_line(f"r{i}", TEXT) for i in range(50)])["status"] == "completed"
        assert server.storage.enqueued_token_peak(hashlib.sha256(KEY.encode()).hexdigest(), "gpt-4o-mini") == 0


# --- line failures ------------------------------------------------------------------------------------------------


def failed_ids(client: httpx.Client, batch: dict[str, object]) -> set[str]:
    if batch["error_file_id"] is None:
        return set()
    return {line["custom_id"] for line in read_lines(client, str(batch["error_file_id"]))}


def test_line_failures_are_a_seeded_share_answered_with_the_status(tmp_path: Path) -> None:
    lines = [chat_line(f"r{i}") for i in range(400)]
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0, line_failure_rate=0.1, line_failure_status=503) as srv,
        api_client(srv) as client,
    ):
        first = run_batch(client, lines, metadata={"attempt": "1"})
        again = run_batch(client, lines, metadata={"attempt": "1"})
        retried = run_batch(client, lines, metadata={"attempt": "2"})
        failed = failed_ids(client, first)
        assert 20 <= len(failed) <= 60
        assert failed_ids(client, again) == failed, "the same lines fail for the same attempt"
        assert failed_ids(client, retried) != failed, "another attempt draws again"
        assert first["request_counts"] == {"total": 400, "completed": 400 - len(failed), "failed": len(failed)}
        error_line = read_lines(client, str(first["error_file_id"]))[0]
        assert error_line["response"]["status_code"] == 503
        assert error_line["response"]["body"]["error"]["type"] == "server_error"


def test_line_failures_can_spare_later_attempts(tmp_path: Path) -> None:
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0, line_failure_rate=1.0, line_failure_attempts=1) as srv,
        api_client(srv) as client,
    ):
        lines = [chat_line(f"r{i}") for i in range(5)]
        assert run_batch(client, lines)["request_counts"]["failed"] == 5
        assert run_batch(client, lines, metadata={"attempt": "2"})["request_counts"]["failed"] == 0


def test_the_plan_reads_the_attempt_from_metadata() -> None:
    assert attempt_of(None) == 1 and attempt_of({"attempt": "3"}) == 3
    assert attempt_of({"attempt": "zero"}) == 1 and attempt_of({"attempt": "0"}) == 1
    plan = LineFailurePlan(LineFailures(rate=0.5, status=429, seed=7))
    draws = [plan.fails(f"id-{i}", 1) for i in range(1000)]
    assert 400 < sum(draws) < 600
    assert draws == [plan.fails(f"id-{i}", 1) for i in range(1000)]
    reply = next(plan.reply(f"id-{i}", 1) for i in range(1000) if plan.fails(f"id-{i}", 1))
    assert reply is not None and reply.status_code == 429 and reply.body["error"]["code"] == "rate_limit_exceeded"
    assert LineFailurePlan(LineFailures()).reply("id-0", 1) is None


def test_the_command_line_takes_the_options() -> None:
    config, _ = config_from_args(
        [
            "--data-dir",
            "d",
            "--enqueued-token-limit",
            "2000000",
            "--line-failure-rate",
            "0.05",
            "--line-failure-status",
            "500",
            "--line-failure-seed",
            "3",
            "--line-failure-attempts",
            "1",
        ],
        {},
    )
    assert config.enqueued_token_limit == 2_000_000
    assert config.line_failures == LineFailures(rate=0.05, status=500, seed=3, attempts=1)
    assert config_from_args(["--data-dir", "d"], {})[0].enqueued_token_limit is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--enqueued-token-limit", "0"],
        ["--enqueued-token-limit", "many"],
        ["--line-failure-rate", "1.5"],
        ["--line-failure-status", "200"],
        ["--line-failure-attempts", "0"],
    ],
)
def test_bad_values_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", "d", *argv]) == 2
    assert "error" in capsys.readouterr().err
