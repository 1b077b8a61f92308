"""Anthropic's Message Batches API on the local server (`/v1/messages/batches`): every endpoint, its refusals in
Anthropic's error shape, a run with line failures, cancel, and a restart mid-batch."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server
from openai_batches_server.anthropic_batches import MAX_REQUESTS

from .support import KEY, OTHER_KEY

VERSION = "2023-06-01"


def root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def anthropic_client(server: LocalServer, key: str = KEY, **headers: str) -> httpx.Client:
    sent = {"x-api-key": key, "anthropic-version": VERSION, **headers}
    return httpx.Client(base_url=root(server) + "/v1/messages", headers=sent, timeout=60)


@pytest.fixture
def anth(server: LocalServer) -> Iterator[httpx.Client]:
    with anthropic_client(server) as client:
        yield client


def req(custom_id: str, text: str = "hello there", **params: Any) -> dict[str, Any]:
    body = {"model": "claude-3-5-haiku-latest", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "params": {**body, **params}}


def create(client: httpx.Client, requests: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/batches", json={"requests": requests})
    assert response.status_code == 200, response.text
    assert response.headers["request-id"].startswith("req_")
    return dict(response.json())


def wait_ended(client: httpx.Client, batch_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get(f"/batches/{batch_id}").json()
        if batch["processing_status"] == "ended":
            return dict(batch)
        time.sleep(0.02)
    raise AssertionError(f"batch {batch_id} did not end")


def results(client: httpx.Client, batch: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(batch["results_url"])
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def assert_anthropic_error(response: httpx.Response, status: int, error_type: str, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["request-id"].startswith("req_")
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == error_type, body
    assert fragment in body["error"]["message"], body


def test_create_retrieve_results_delete(anth: httpx.Client) -> None:
    batch = create(anth, [req("a", "first one"), req("b", "second"), req("no-max", max_tokens=None)])
    assert batch["id"].startswith("msgbatch_") and batch["type"] == "message_batch"
    assert batch["processing_status"] == "in_progress" and batch["results_url"] is None
    assert batch["request_counts"] == {"processing": 3, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    assert batch["created_at"].endswith("Z") and batch["ended_at"] is None
    ended = wait_ended(anth, batch["id"])
    assert ended["request_counts"] == {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 0}
    assert ended["results_url"].endswith(f"/v1/messages/batches/{batch['id']}/results")
    assert ended["ended_at"].endswith("Z")
    by_id = {line["custom_id"]: line["result"] for line in results(anth, ended)}
    assert set(by_id) == {"a", "b", "no-max"}
    message = by_id["a"]["message"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": "Echo: first one"}]
    assert message["stop_reason"] == "end_turn" and message["usage"]["input_tokens"] == 2
    assert by_id["no-max"] == {
        "type": "errored",
        "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}},
    }
    deleted = anth.delete(f"/batches/{batch['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"id": batch["id"], "type": "message_batch_deleted"}
    assert_anthropic_error(anth.get(f"/batches/{batch['id']}"), 404, "not_found_error")


def test_auth_and_version_refusals(server: LocalServer) -> None:
    url = root(server) + "/v1/messages/batches"
    body = {"requests": [req("a")]}
    no_key = httpx.post(url, json=body, headers={"anthropic-version": VERSION})
    assert_anthropic_error(no_key, 401, "authentication_error", "x-api-key")
    bad_key = httpx.post(url, json=body, headers={"anthropic-version": VERSION, "x-api-key": "sk-wrong"})
    assert_anthropic_error(bad_key, 401, "authentication_error", "invalid x-api-key")
    bearer = httpx.get(url, headers={"anthropic-version": VERSION, "Authorization": f"Bearer {KEY}"})
    assert bearer.status_code == 200, bearer.text
    no_version = httpx.get(url, headers={"x-api-key": KEY})
    assert_anthropic_error(no_version, 400, "invalid_request_error", "anthropic-version: header is required")
    with anthropic_client(server, **{"anthropic-version": "latest"}) as client:
        assert_anthropic_error(client.get("/batches"), 400, "invalid_request_error", "not a valid version")


def test_create_refusals(anth: httpx.Client) -> None:
    cases: list[tuple[Any, str]] = [
        ({}, "requests: Field required"),
        ({"requests": []}, "at least 1 item"),
        ({"requests": [req("a")], "extra": 1}, "extra: Extra inputs"),
        ({"requests": [req("bad id!")]}, "requests.0.custom_id"),
        ({"requests": [req("x" * 65)]}, "requests.0.custom_id"),
        ({"requests": [req("a"), req("a")]}, "requests.1.custom_id: Duplicate"),
        ({"requests": [{"custom_id": "a"}]}, "requests.0.params: Field required"),
        ({"requests": [{"custom_id": "a", "params": []}]}, "requests.0.params"),
    ]
    for body, fragment in cases:
        assert_anthropic_error(anth.post("/batches", json=body), 400, "invalid_request_error", fragment)
    not_json = anth.post("/batches", content=b"{", headers={"content-type": "application/json"})
    assert_anthropic_error(not_json, 400, "invalid_request_error")


def test_too_many_requests(anth: httpx.Client) -> None:
    body = {"requests": [{"custom_id": f"r{i}", "params": {}} for i in range(MAX_REQUESTS + 1)]}
    assert_anthropic_error(anth.post("/batches", json=body), 400, "invalid_request_error", f"at most {MAX_REQUESTS}")


def test_not_found_and_other_keys_batches(server: LocalServer, anth: httpx.Client) -> None:
    assert_anthropic_error(anth.get("/batches/msgbatch_nope"), 404, "not_found_error")
    assert_anthropic_error(anth.post("/batches/msgbatch_nope/cancel"), 404, "not_found_error")
    assert_anthropic_error(anth.delete("/batches/msgbatch_nope"), 404, "not_found_error")
    assert_anthropic_error(anth.get("/batches/msgbatch_nope/results"), 404, "not_found_error")
    batch = create(anth, [req("a")])
    with anthropic_client(server, OTHER_KEY) as other:
        assert_anthropic_error(other.get(f"/batches/{batch['id']}"), 404, "not_found_error")
        assert other.get("/batches").json()["data"] == []


def test_results_and_delete_before_ended_and_cancel(data_dir: Path) -> None:
    with run_server(data_dir, api_keys=[KEY], tick=0.05) as server, anthropic_client(server) as anth:
        batch = create(anth, [req(f"r{i}") for i in range(200)])
        assert_anthropic_error(anth.get(f"/batches/{batch['id']}/results"), 400, "invalid_request_error", "not ended")
        assert_anthropic_error(anth.delete(f"/batches/{batch['id']}"), 400, "invalid_request_error", "cancel it first")
        time.sleep(0.3)
        canceling = anth.post(f"/batches/{batch['id']}/cancel")
        assert canceling.status_code == 200, canceling.text
        assert canceling.json()["processing_status"] == "canceling"
        assert canceling.json()["cancel_initiated_at"] is not None
        ended = wait_ended(anth, batch["id"])
        counts = ended["request_counts"]
        assert counts["canceled"] > 0 and counts["succeeded"] + counts["canceled"] == 200, counts
        lines = results(anth, ended)
        assert sorted(line["custom_id"] for line in lines) == sorted(f"r{i}" for i in range(200))
        assert sum(line["result"] == {"type": "canceled"} for line in lines) == counts["canceled"]
        assert anth.post(f"/batches/{batch['id']}/cancel").status_code == 200


def test_line_failures_and_shuffled_results(data_dir: Path) -> None:
    with (
        run_server(data_dir, api_keys=[KEY], tick=0, line_failure_rate=0.3, line_failure_status=429) as server,
        anthropic_client(server) as anth,
    ):
        ids = [f"req-{i:04d}" for i in range(300)]
        batch = create(anth, [req(custom_id) for custom_id in ids])
        ended = wait_ended(anth, batch["id"])
        counts = ended["request_counts"]
        assert counts["errored"] > 0 and counts["succeeded"] > 0
        assert counts["succeeded"] + counts["errored"] == 300
        lines = results(anth, ended)
        assert [line["custom_id"] for line in lines] != ids
        assert sorted(line["custom_id"] for line in lines) == ids
        errored = [line["result"] for line in lines if line["result"]["type"] == "errored"]
        assert len(errored) == counts["errored"]
        assert {e["error"]["error"]["type"] for e in errored} == {"rate_limit_error"}


def test_token_limit_refuses_the_create(data_dir: Path) -> None:
    with run_server(data_dir, api_keys=[KEY], tick=0, enqueued_token_limit=5) as server, anthropic_client(server) as a:
        response = a.post("/batches", json={"requests": [req("a", "one two three four five six seven")]})
        assert_anthropic_error(response, 429, "rate_limit_error", "enqueued token limit")


def test_list_pagination(anth: httpx.Client, client: httpx.Client) -> None:
    made = [create(anth, [req("a")])["id"] for _ in range(5)]
    newest_first = list(reversed(made))
    page = anth.get("/batches", params={"limit": 2}).json()
    assert [b["id"] for b in page["data"]] == newest_first[:2] and page["has_more"] is True
    assert page["first_id"] == newest_first[0] and page["last_id"] == newest_first[1]
    page = anth.get("/batches", params={"limit": 2, "after_id": page["last_id"]}).json()
    assert [b["id"] for b in page["data"]] == newest_first[2:4] and page["has_more"] is True
    page = anth.get("/batches", params={"limit": 2, "after_id": page["last_id"]}).json()
    assert [b["id"] for b in page["data"]] == newest_first[4:] and page["has_more"] is False
    before = anth.get("/batches", params={"limit": 2, "before_id": newest_first[4]}).json()
    assert [b["id"] for b in before["data"]] == newest_first[2:4] and before["has_more"] is True
    before = anth.get("/batches", params={"limit": 2, "before_id": newest_first[2]}).json()
    assert [b["id"] for b in before["data"]] == newest_first[:2] and before["has_more"] is False
    assert [b["id"] for b in anth.get("/batches").json()["data"]] == newest_first
    for bad in ("0", "1001", "x"):
        assert_anthropic_error(anth.get("/batches", params={"limit": bad}), 400, "invalid_request_error")
    # The internal batches stay out of the OpenAI listings of the same key.
    assert client.get("/batches").json()["data"] == []
    assert client.get("/files").json()["data"] == []


def test_a_restart_mid_batch_finishes_it(data_dir: Path) -> None:
    ids = [f"r{i}" for i in range(100)]
    with run_server(data_dir, api_keys=[KEY], tick=0.02) as server, anthropic_client(server) as anth:
        batch = create(anth, [req(custom_id) for custom_id in ids])
        time.sleep(0.5)
        assert anth.get(f"/batches/{batch['id']}").json()["processing_status"] == "in_progress"
    with run_server(data_dir, api_keys=[KEY], tick=0) as server, anthropic_client(server) as anth:
        ended = wait_ended(anth, batch["id"])
        assert ended["request_counts"]["succeeded"] == 100
        assert sorted(line["custom_id"] for line in results(anth, ended)) == sorted(ids)
