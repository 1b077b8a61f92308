"""Helpers the server tests share: request lines, uploads, polling, and checks of the error shape."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from openai_batches_server import LocalServer

KEY = "sk-test-alpha-0001"
OTHER_KEY = "sk-test-bravo-0002"
CHAT = "/v1/chat/completions"
TERMINAL = ("completed", "failed", "cancelled", "expired")


# Building an httpx client loads the CA bundle (~20 ms); the servers here are plain HTTP, so one context serves all.
TLS = ssl.create_default_context()


def api_client(server: LocalServer, key: str = KEY) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30, verify=TLS)


def chat_line(custom_id: str, text: str = "hello there", *, model: str = "gpt-4o-mini", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": model, "messages": [{"role": "user", "content": text}], **body},
    }


def jsonl(lines: Iterable[Any]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def upload(
    client: httpx.Client, content: bytes, *, purpose: str = "batch", filename: str = "input.jsonl"
) -> dict[str, Any]:
    response = client.post("/files", files={"file": (filename, content)}, data={"purpose": purpose})
    assert response.status_code == 200, response.text
    return dict(response.json())


def create_batch(client: httpx.Client, file_id: str, endpoint: str = CHAT, **extra: Any) -> dict[str, Any]:
    payload = {"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h", **extra}
    response = client.post("/batches", json=payload)
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_for(
    client: httpx.Client,
    batch_id: str,
    condition: Callable[[dict[str, Any]], bool] = lambda batch: batch["status"] in TERMINAL,
    timeout: float = 10.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/batches/{batch_id}")
        assert response.status_code == 200, response.text
        batch = dict(response.json())
        if condition(batch):
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch never reached the expected state; last seen: {batch}")
        time.sleep(0.005)


def run_batch(client: httpx.Client, lines: Iterable[Any] | bytes, endpoint: str = CHAT, **extra: Any) -> dict[str, Any]:
    content = lines if isinstance(lines, bytes) else jsonl(lines)
    batch = create_batch(client, upload(client, content)["id"], endpoint, **extra)
    return wait_for(client, batch["id"])


def read_lines(client: httpx.Client, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def assert_error(
    response: httpx.Response,
    status: int,
    *,
    code: str | None = None,
    param: str | None = None,
    type_: str | None = None,
) -> dict[str, Any]:
    """The response is the real API's error shape with this status, and carries a request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    if type_ is not None:
        assert error["type"] == type_, error
    return dict(error)
