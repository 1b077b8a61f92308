"""POST /v1/batches: the batch as created, every parameter check, and Idempotency-Key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .support import CHAT, assert_error, chat_line, create_batch, jsonl, upload, wait_for

ENDPOINTS = [
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
]
BATCH_FIELDS = {
    "id", "object", "endpoint", "model", "errors", "input_file_id", "completion_window", "status", "output_file_id",
    "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at",
    "expired_at", "cancelling_at", "cancelled_at", "request_counts", "usage", "metadata",
}  # fmt: skip


@pytest.fixture
def input_file(client: httpx.Client) -> str:
    return str(upload(client, jsonl([chat_line("a"), chat_line("b")]))["id"])


def payload(file_id: str, **changes: Any) -> dict[str, Any]:
    return {"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h", **changes}


def test_a_new_batch_is_validating_with_every_field_present(client: httpx.Client, input_file: str) -> None:
    metadata = {"customer_id": "user_123", "batch_description": "Nightly eval job"}
    batch = create_batch(client, input_file, metadata=metadata)
    assert set(batch) == BATCH_FIELDS
    assert batch["id"].startswith("batch_")
    assert batch["object"] == "batch"
    assert batch["status"] == "validating"
    assert batch["endpoint"] == CHAT
    assert batch["input_file_id"] == input_file
    assert batch["completion_window"] == "24h"
    assert batch["expires_at"] == batch["created_at"] + 24 * 3600
    assert batch["metadata"] == metadata
    assert batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    for field in ("errors", "output_file_id", "error_file_id", "in_progress_at", "completed_at", "failed_at"):
        assert batch[field] is None


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_all_seven_endpoints_are_accepted(client: httpx.Client, endpoint: str) -> None:
    line = {"custom_id": "x", "method": "POST", "url": endpoint, "body": {"model": "m", "input": "hi", "prompt": "p"}}
    batch = create_batch(client, upload(client, jsonl([line]))["id"], endpoint)
    assert batch["endpoint"] == endpoint
    assert wait_for(client, batch["id"])["status"] == "completed"


def test_video_batches_are_refused_since_the_service_stopped_taking_them(client: httpx.Client) -> None:
    line = {"custom_id": "v", "method": "POST", "url": "/v1/videos", "body": {"model": "sora-2", "prompt": "waves"}}
    file_id = upload(client, jsonl([line]))["id"]
    response = client.post("/batches", json=payload(file_id, endpoint="/v1/videos"))
    error = assert_error(response, 400, code="invalid_value", param="endpoint")
    assert "'/v1/videos'" in error["message"] and "no longer" in error["message"] and "2026-09-24" in error["message"]
    assert "'/v1/chat/completions'" in error["message"]
    assert client.get("/batches").json()["data"] == []


@pytest.mark.parametrize("name", ["input_file_id", "endpoint", "completion_window"])
def test_missing_required_parameter(client: httpx.Client, input_file: str, name: str) -> None:
    body = payload(input_file)
    del body[name]
    error = assert_error(client.post("/batches", json=body), 400, code="missing_required_parameter", param=name)
    assert error["message"] == f"Missing required parameter: '{name}'."


@pytest.mark.parametrize(
    ("changes", "param", "code"),
    [
        ({"endpoint": "/v1/audio/speech"}, "endpoint", "invalid_value"),
        ({"endpoint": "v1/chat/completions"}, "endpoint", "invalid_value"),
        ({"completion_window": "48h"}, "completion_window", "invalid_value"),
        ({"input_file_id": 42}, "input_file_id", "invalid_type"),
        ({"unexpected": True}, "unexpected", "unknown_parameter"),
        ({"metadata": "not an object"}, "metadata", "invalid_type"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "object_above_max_properties"),
        ({"metadata": {"k" * 65: "v"}}, "metadata", "string_above_max_length"),
        ({"metadata": {"k": "v" * 513}}, "metadata.k", "string_above_max_length"),
        ({"metadata": {"k": 1}}, "metadata.k", "invalid_type"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 3599}}, None, "integer_below_min_value"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": 2592001}}, None, "integer_above_max_value"),
        ({"output_expires_after": {"anchor": "created_at", "seconds": "3600"}}, None, "invalid_type"),
        ({"output_expires_after": {"anchor": "completed_at", "seconds": 3600}}, None, "invalid_value"),
        ({"output_expires_after": {"seconds": 3600}}, None, "missing_required_parameter"),
    ],
)
def test_bad_parameters_are_400(
    client: httpx.Client, input_file: str, changes: dict[str, Any], param: str | None, code: str
) -> None:
    error = assert_error(client.post("/batches", json=payload(input_file, **changes)), 400, code=code)
    if param is not None:
        assert error["param"] == param
    else:
        assert error["param"].startswith("output_expires_after.")
    assert client.get("/batches").json()["data"] == []


def test_metadata_at_the_limits_is_accepted(client: httpx.Client, input_file: str) -> None:
    metadata = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    assert create_batch(client, input_file, metadata=metadata)["metadata"] == metadata


def test_unknown_input_file_is_400(client: httpx.Client) -> None:
    error = assert_error(client.post("/batches", json=payload("file-nope")), 400, param="input_file_id")
    assert "file-nope" in error["message"]


def test_input_file_with_another_purpose_is_400(client: httpx.Client) -> None:
    file = upload(client, jsonl([chat_line("a")]), purpose="user_data")
    error = assert_error(
        client.post("/batches", json=payload(file["id"])), 400, param="input_file_id", code="invalid_file_purpose"
    )
    assert "purpose 'batch'" in error["message"]


def test_deleted_input_file_is_400(client: httpx.Client, input_file: str) -> None:
    client.delete(f"/files/{input_file}")
    assert_error(client.post("/batches", json=payload(input_file)), 400, param="input_file_id")


# --- Idempotency-Key ---


def test_same_key_and_body_returns_the_same_batch_without_creating_another(
    client: httpx.Client, input_file: str
) -> None:
    headers = {"Idempotency-Key": "create-1"}
    first = client.post("/batches", json=payload(input_file, metadata={"a": "b"}), headers=headers)
    # Same body with keys in another order and other spacing: still the same request.
    again = client.post(
        "/batches",
        content=f'{{"metadata": {{"a": "b"}}, "completion_window": "24h", "endpoint": "{CHAT}", '
        f'"input_file_id": "{input_file}"}}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert [batch["id"] for batch in client.get("/batches").json()["data"]] == [first.json()["id"]]


def test_replay_answers_the_batch_as_it_is_now(client: httpx.Client, input_file: str) -> None:
    headers = {"Idempotency-Key": "create-2"}
    first = client.post("/batches", json=payload(input_file), headers=headers).json()
    wait_for(client, first["id"])
    replay = client.post("/batches", json=payload(input_file), headers=headers).json()
    assert replay["id"] == first["id"]
    assert replay["status"] == "completed"


def test_same_key_with_another_body_is_409(client: httpx.Client, input_file: str) -> None:
    headers = {"Idempotency-Key": "create-3"}
    client.post("/batches", json=payload(input_file), headers=headers)
    response = client.post("/batches", json=payload(input_file, metadata={"x": "y"}), headers=headers)
    error = assert_error(response, 409, code="idempotency_key_reused", param="Idempotency-Key")
    assert "create-3" in error["message"]
    assert len(client.get("/batches").json()["data"]) == 1


def test_keys_are_per_api_key(client: httpx.Client, other_client: httpx.Client, input_file: str) -> None:
    other_file = upload(other_client, jsonl([chat_line("a")]))["id"]
    headers = {"Idempotency-Key": "shared-name"}
    mine = client.post("/batches", json=payload(input_file), headers=headers).json()
    theirs = other_client.post("/batches", json=payload(other_file), headers=headers).json()
    assert mine["id"] != theirs["id"]


def test_a_rejected_request_does_not_use_up_the_key(client: httpx.Client, input_file: str) -> None:
    headers = {"Idempotency-Key": "create-4"}
    assert_error(client.post("/batches", json=payload(input_file, endpoint="/v1/nope"), headers=headers), 400)
    assert client.post("/batches", json=payload(input_file), headers=headers).status_code == 200


def test_overlong_idempotency_key_is_400(client: httpx.Client, input_file: str) -> None:
    response = client.post("/batches", json=payload(input_file), headers={"Idempotency-Key": "k" * 256})
    assert_error(response, 400, param="Idempotency-Key")


def test_without_a_key_each_post_creates_a_batch(client: httpx.Client, input_file: str) -> None:
    client.post("/batches", json=payload(input_file))
    client.post("/batches", json=payload(input_file))
    assert len(client.get("/batches").json()["data"]) == 2
