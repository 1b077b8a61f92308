"""A batch from creation to completion: statuses in order, timestamps, moving counts, and the result files."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server

from .support import (
    CHAT,
    KEY,
    TERMINAL,
    api_client,
    chat_line,
    create_batch,
    jsonl,
    read_lines,
    run_batch,
    upload,
    wait_for,
)

ORDER = ["validating", "in_progress", "finalizing", "completed"]
TICK = 0.02


@pytest.fixture
def paced_server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=TICK) as server:
        yield server


def poll_until_done(client: httpx.Client, batch_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    snapshots = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = client.get(f"/batches/{batch_id}").json()
        snapshots.append(snapshot)
        if snapshot["status"] in TERMINAL:
            return snapshots
        time.sleep(0.002)
    raise AssertionError(f"not done after {timeout}s: {snapshots[-1]}")


def test_statuses_timestamps_and_counts_move_in_order(paced_server: LocalServer) -> None:
    lines = [chat_line(f"req-{n}", f"question number {n}") for n in range(10)] + [chat_line("fail-1")]
    with api_client(paced_server) as client:
        batch = create_batch(client, upload(client, jsonl(lines))["id"])
        started = time.monotonic()
        snapshots = poll_until_done(client, batch["id"])
        elapsed = time.monotonic() - started
    # 11 lines plus the validating and finalizing steps, one tick each.
    assert elapsed >= 12 * TICK * 0.9
    statuses = [s["status"] for s in snapshots]
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)
    assert {"in_progress", "completed"} <= set(statuses)
    done = [s["request_counts"]["completed"] + s["request_counts"]["failed"] for s in snapshots]
    assert done == sorted(done)
    assert any(0 < d < 11 for d in done), "request_counts never seen part-way"
    for snapshot in snapshots:
        if snapshot["status"] == "validating":
            assert snapshot["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
            assert snapshot["in_progress_at"] is None
        else:
            assert snapshot["request_counts"]["total"] == 11
            assert snapshot["in_progress_at"] is not None

    final = snapshots[-1]
    assert final["status"] == "completed"
    assert final["request_counts"] == {"total": 11, "completed": 10, "failed": 1}
    assert final["created_at"] <= final["in_progress_at"] <= final["finalizing_at"] <= final["completed_at"]
    assert final["expires_at"] == final["created_at"] + 86_400
    for field in ("failed_at", "expired_at", "cancelling_at", "cancelled_at", "errors"):
        assert final[field] is None
    assert final["model"] == "gpt-4o-mini"


def test_output_and_error_files_have_the_real_line_format(client: httpx.Client) -> None:
    lines = [
        chat_line("ok-1", "first question"),
        chat_line("boom", "x", x_fail={"status_code": 500, "message": "exploded"}),
        chat_line("ok-2", "second question"),
        chat_line("fail-me"),
        {"custom_id": "no-messages", "method": "POST", "url": CHAT, "body": {"model": "gpt-4o-mini"}},
    ]
    batch = run_batch(client, lines)
    assert batch["request_counts"] == {"total": 5, "completed": 2, "failed": 3}

    output = read_lines(client, batch["output_file_id"])
    errors = read_lines(client, batch["error_file_id"])
    assert [line["custom_id"] for line in output] == ["ok-1", "ok-2"]
    assert [line["custom_id"] for line in errors] == ["boom", "fail-me", "no-messages"]
    request_ids = set()
    for line in output + errors:
        assert set(line) == {"id", "custom_id", "response", "error"}
        assert re.fullmatch(r"batch_req_[0-9a-f]{32}", line["id"])
        assert line["error"] is None
        assert set(line["response"]) == {"status_code", "request_id", "body"}
        assert re.fullmatch(r"req_[0-9a-f]{32}", line["response"]["request_id"])
        request_ids.add(line["response"]["request_id"])
    assert len(request_ids) == 5
    assert {line["response"]["status_code"] for line in output} == {200}
    assert output[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: first question"

    boom, fail_me, no_messages = (line["response"] for line in errors)
    assert boom["status_code"] == 500
    assert boom["body"] == {"error": {"message": "exploded", "type": "server_error", "param": None, "code": None}}
    assert fail_me["status_code"] == 400
    assert fail_me["body"]["error"]["type"] == "invalid_request_error"
    assert no_messages["status_code"] == 400
    assert no_messages["body"]["error"]["param"] == "messages"


def test_result_files_are_batch_output_files(client: httpx.Client) -> None:
    batch = run_batch(client, [chat_line("a"), chat_line("fail-b")])
    for kind, file_id in (("output", batch["output_file_id"]), ("error", batch["error_file_id"])):
        file = client.get(f"/files/{file_id}").json()
        assert file["purpose"] == "batch_output"
        assert file["filename"] == f"{batch['id']}_{kind}.jsonl"
        assert file["expires_at"] is None
        content = client.get(f"/files/{file_id}/content")
        assert file["bytes"] == len(content.content)
        assert content.content.endswith(b"\n")
    listed = client.get("/files", params={"purpose": "batch_output"}).json()["data"]
    assert {file["id"] for file in listed} == {batch["output_file_id"], batch["error_file_id"]}


def test_no_error_file_when_nothing_failed_and_no_output_file_when_everything_did(client: httpx.Client) -> None:
    clean = run_batch(client, [chat_line("a")])
    assert clean["output_file_id"] is not None and clean["error_file_id"] is None
    broken = run_batch(client, [chat_line("fail-a")])
    assert broken["status"] == "completed"
    assert broken["output_file_id"] is None and broken["error_file_id"] is not None


def test_usage_and_model_add_up_from_the_responses(client: httpx.Client) -> None:
    lines = [chat_line("a", "one two three"), chat_line("b", "four five"), chat_line("fail-c", "not counted at all")]
    batch = run_batch(client, lines)
    output = read_lines(client, batch["output_file_id"])
    prompt = sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in output)
    completion = sum(line["response"]["body"]["usage"]["completion_tokens"] for line in output)
    assert (prompt, completion) == (5, 7)
    assert batch["usage"] == {
        "input_tokens": 5,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 7,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 12,
    }
    assert batch["model"] == "gpt-4o-mini"


def test_output_expires_after_sets_the_result_files_expiry(client: httpx.Client) -> None:
    batch = run_batch(
        client,
        [chat_line("a"), chat_line("fail-b")],
        output_expires_after={"anchor": "created_at", "seconds": 7200},
    )
    for file_id in (batch["output_file_id"], batch["error_file_id"]):
        file = client.get(f"/files/{file_id}").json()
        assert file["expires_at"] == file["created_at"] + 7200


def test_batches_run_side_by_side(client: httpx.Client) -> None:
    files = [upload(client, jsonl([chat_line(f"{n}-{i}") for i in range(30)]))["id"] for n in range(3)]
    ids = [create_batch(client, file_id)["id"] for file_id in files]
    for batch_id in ids:
        batch = wait_for(client, batch_id)
        assert batch["request_counts"] == {"total": 30, "completed": 30, "failed": 0}
        assert len(read_lines(client, batch["output_file_id"])) == 30
