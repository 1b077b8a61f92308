"""Cancel with partial results, batches that outlive their completion window, and files past expires_at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai_batches_server import LocalServer, run_server

from .support import (
    KEY,
    api_client,
    assert_error,
    chat_line,
    create_batch,
    jsonl,
    read_lines,
    run_batch,
    upload,
    wait_for,
)

DAY = 24 * 3600


class Clock:
    """Wall-clock time plus an offset a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slow_server(tmp_path: Path, clock: Clock) -> Iterator[LocalServer]:
    # 0.01 s per line: 200 lines take two seconds, long enough to act in the middle.
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0.01, clock=clock) as server:
        yield server


@pytest.fixture
def slow_client(slow_server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(slow_server) as http:
        yield http


LINES = [chat_line(f"req-{n:03d}", f"question {n}") for n in range(200)]


def started(client: httpx.Client, lines: list[dict[str, object]] = LINES) -> str:
    batch = create_batch(client, upload(client, jsonl(lines))["id"])
    wait_for(client, batch["id"], lambda b: b["request_counts"]["completed"] >= 5)
    return str(batch["id"])


def test_cancel_keeps_the_lines_answered_so_far(slow_client: httpx.Client) -> None:
    batch_id = started(slow_client)
    response = slow_client.post(f"/batches/{batch_id}/cancel")
    assert response.status_code == 200
    cancelling = response.json()
    assert cancelling["status"] == "cancelling"
    assert cancelling["cancelling_at"] is not None
    assert cancelling["cancelled_at"] is None

    batch = wait_for(slow_client, batch_id)
    assert batch["status"] == "cancelled"
    assert batch["cancelled_at"] >= batch["cancelling_at"] >= batch["in_progress_at"]
    assert batch["completed_at"] is None and batch["finalizing_at"] is None
    counts = batch["request_counts"]
    assert counts["total"] == 200
    assert 5 <= counts["completed"] < 200
    output = read_lines(slow_client, batch["output_file_id"])
    # Partial output: exactly the lines answered before the cancel, in input order.
    assert [line["custom_id"] for line in output] == [f"req-{n:03d}" for n in range(counts["completed"])]
    assert batch["error_file_id"] is None
    # That the runner never touches a cancelled batch again is pinned step by step in test_runner_guards.py.


def test_cancel_twice_answers_the_batch_again(slow_client: httpx.Client) -> None:
    batch_id = started(slow_client)
    assert slow_client.post(f"/batches/{batch_id}/cancel").json()["status"] == "cancelling"
    assert slow_client.post(f"/batches/{batch_id}/cancel").json()["status"] in ("cancelling", "cancelled")
    wait_for(slow_client, batch_id)
    assert slow_client.post(f"/batches/{batch_id}/cancel").json()["status"] == "cancelled"


def test_cancel_while_validating_has_no_results(tmp_path: Path) -> None:
    with run_server(tmp_path, api_keys=[KEY], tick=0.3) as server, api_client(server) as client:
        batch = create_batch(client, upload(client, jsonl([chat_line("a")]))["id"])
        assert client.post(f"/batches/{batch['id']}/cancel").json()["status"] == "cancelling"
        final = wait_for(client, batch["id"])
    assert final["status"] == "cancelled"
    assert final["in_progress_at"] is None
    assert final["output_file_id"] is None and final["error_file_id"] is None


def test_a_finished_batch_cannot_be_cancelled(client: httpx.Client) -> None:
    batch = run_batch(client, [chat_line("a")])
    error = assert_error(client.post(f"/batches/{batch['id']}/cancel"), 409)
    assert error["message"] == "Cannot cancel a batch with status 'completed'."
    failed = run_batch(client, b"{bad\n")
    assert_error(client.post(f"/batches/{failed['id']}/cancel"), 409)


def test_a_batch_past_its_window_expires_with_partial_results(slow_client: httpx.Client, clock: Clock) -> None:
    lines = [*LINES[:100], chat_line("fail-x"), *LINES[100:]]
    batch_id = started(slow_client, lines)
    clock.offset += DAY + 1
    batch = wait_for(slow_client, batch_id)
    assert batch["status"] == "expired"
    assert batch["expired_at"] >= batch["expires_at"]
    assert batch["completed_at"] is None
    counts = batch["request_counts"]
    answered = counts["completed"] + counts["failed"]
    assert 5 <= answered < 201

    output = read_lines(slow_client, batch["output_file_id"])
    assert len(output) == counts["completed"]
    errors = read_lines(slow_client, batch["error_file_id"])
    expired = [line for line in errors if line["response"] is None]
    # Every request not answered in time is in the error file, with the service's batch_expired error.
    assert len(expired) == 201 - answered
    assert {line["custom_id"] for line in output + errors} == {line["custom_id"] for line in lines}
    for line in expired:
        assert line["id"].startswith("batch_req_")
        assert line["error"] == {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        }


def test_completion_window_is_configurable(tmp_path: Path) -> None:
    with (
        run_server(tmp_path, api_keys=[KEY], tick=0.05, completion_window_seconds=2) as server,
        api_client(server) as client,
    ):
        batch = create_batch(client, upload(client, jsonl(LINES))["id"])
        # Timestamps are whole seconds, so the window really lasts between one and two seconds here.
        assert batch["expires_at"] == batch["created_at"] + 2
        final = wait_for(client, batch["id"], timeout=5)
    assert final["status"] == "expired"
    assert 0 < final["request_counts"]["completed"] < 200


def test_files_past_expires_at_are_gone(slow_server: LocalServer, slow_client: httpx.Client, clock: Clock) -> None:
    input_file = upload(slow_client, jsonl([chat_line("a"), chat_line("fail-b")]))
    short = slow_client.post(
        "/files",
        files={"file": ("short.txt", b"brief")},
        data={"purpose": "user_data", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
    ).json()
    batch = create_batch(
        slow_client, input_file["id"], output_expires_after={"anchor": "created_at", "seconds": 2 * 3600}
    )
    batch = wait_for(slow_client, batch["id"])
    result_ids = [batch["output_file_id"], batch["error_file_id"]]

    def visible() -> set[str]:
        return {file["id"] for file in slow_client.get("/files").json()["data"]}

    assert visible() == {input_file["id"], short["id"], *result_ids}
    clock.offset += 3600
    assert visible() == {input_file["id"], *result_ids}
    assert_error(slow_client.get(f"/files/{short['id']}"), 404)
    assert_error(slow_client.get(f"/files/{short['id']}/content"), 404)
    assert_error(slow_client.delete(f"/files/{short['id']}"), 404)
    clock.offset += 3600
    assert visible() == {input_file["id"]}
    for file_id in result_ids:
        assert_error(slow_client.get(f"/files/{file_id}/content"), 404)
    # Batch input files expire 30 days after upload unless told otherwise.
    clock.offset += 30 * DAY
    assert visible() == set()
    assert_error(slow_client.post("/batches", json={
        "input_file_id": input_file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"
    }), 400)  # fmt: skip
    # The sweep then frees the bytes.
    slow_server.sweep()
    root = slow_server.storage.root
    assert not (root / "files" / input_file["id"]).exists()
    assert not (root / "batches" / batch["id"] / "output.jsonl").exists()
