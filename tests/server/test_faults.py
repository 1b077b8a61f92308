"""Injected faults: real error bodies, reproducible with a seed, with or without the request taking effect."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from openai_batches_server import Faults, run_server

from .support import CHAT, KEY, api_client, assert_error, chat_line, jsonl, upload


def test_injected_429_has_the_rate_limit_body_and_retry_after(tmp_path: Path) -> None:
    faults = Faults(rate=1.0, statuses=(429,), retry_after=0.25)
    with run_server(tmp_path, api_keys=[KEY], tick=0, faults=faults) as server, api_client(server) as client:
        response = client.get("/files")
        assert_error(response, 429, code="rate_limit_exceeded", type_="requests")
        assert response.headers["retry-after"] == "1"
        assert response.headers["retry-after-ms"] == "250"
        # Authentication comes first: a bad key is still told so.
        assert_error(httpx.get(server.base_url + "/files", headers={"Authorization": "Bearer nope"}), 401)


def test_injected_500_has_the_server_error_body(tmp_path: Path) -> None:
    faults = Faults(rate=1.0, statuses=(500,))
    with run_server(tmp_path, api_keys=[KEY], tick=0, faults=faults) as server, api_client(server) as client:
        error = assert_error(client.post("/files", files={"file": ("a", b"x")}, data={"purpose": "batch"}), 500)
        assert error == {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
        # The upload body was consumed: the same connection serves the next request.
        assert_error(client.get("/batches"), 500)


def statuses(tmp_path: Path, seed: int) -> list[int]:
    faults = Faults(rate=0.5, statuses=(429, 500, 503), seed=seed, retry_after=0)
    with run_server(tmp_path, api_keys=[KEY], tick=0, faults=faults) as server, api_client(server) as client:
        return [client.get("/files").status_code for _ in range(40)]


def test_the_same_seed_fails_the_same_requests(tmp_path: Path) -> None:
    first = statuses(tmp_path / "a", seed=7)
    assert first == statuses(tmp_path / "b", seed=7)
    assert first != statuses(tmp_path / "c", seed=8)
    assert {200, 429, 500, 503} <= set(first)
    assert 8 < first.count(200) < 32


def batches_in(data_dir: Path) -> list[str]:
    with run_server(data_dir, api_keys=[KEY], tick=0) as server, api_client(server) as client:
        return [batch["id"] for batch in client.get("/batches").json()["data"]]


def create_with_faults(data_dir: Path, timing: str, headers: dict[str, str]) -> None:
    with run_server(data_dir, api_keys=[KEY], tick=0) as server, api_client(server) as client:
        file_id = upload(client, jsonl([chat_line("a")]))["id"]
    body = {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h"}
    faults = Faults(rate=1.0, statuses=(500,), timing=timing)
    with run_server(data_dir, api_keys=[KEY], tick=0, faults=faults) as server, api_client(server) as client:
        for _ in range(2):
            assert_error(client.post("/batches", json=body, headers=headers), 500)


def test_a_fault_before_the_effect_creates_nothing(tmp_path: Path) -> None:
    create_with_faults(tmp_path, "before", {})
    assert batches_in(tmp_path) == []


def test_a_fault_after_the_effect_creates_the_batch_and_loses_the_answer(tmp_path: Path) -> None:
    create_with_faults(tmp_path / "plain", "after", {})
    assert len(batches_in(tmp_path / "plain")) == 2
    # With an Idempotency-Key, the retry finds the first batch instead of creating a second.
    create_with_faults(tmp_path / "keyed", "after", {"Idempotency-Key": "retry-me"})
    assert len(batches_in(tmp_path / "keyed")) == 1


def test_latency_is_added_to_every_answer(tmp_path: Path) -> None:
    with (
        run_server(tmp_path, api_keys=[KEY], tick=0, faults=Faults(latency=0.2)) as server,
        api_client(server) as client,
    ):
        started = time.monotonic()
        client.get("/files")
        assert_error(client.get("/files/file-none"), 404)
        assert time.monotonic() - started >= 0.4
