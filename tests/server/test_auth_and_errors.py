"""Bearer auth, the error body shape and the request id on every answer, and routing errors."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from openai_batches_server import LocalServer, run_server

from .support import KEY, assert_error


def test_missing_authorization_is_401_with_the_real_message(server: LocalServer) -> None:
    response = httpx.get(server.base_url + "/files")
    error = assert_error(response, 401, type_="invalid_request_error")
    assert error["message"].startswith("You didn't provide an API key.")


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", KEY, "Token x y"])
def test_malformed_authorization_is_401(server: LocalServer, header: str) -> None:
    assert_error(httpx.get(server.base_url + "/files", headers={"Authorization": header}), 401)


def test_unknown_key_is_401_invalid_api_key_and_the_key_is_masked(server: LocalServer) -> None:
    response = httpx.get(server.base_url + "/batches", headers={"Authorization": "Bearer sk-wrong-key-12345"})
    error = assert_error(response, 401, code="invalid_api_key")
    assert "sk-wrong-key-12345" not in error["message"]
    assert "2345" in error["message"]


def test_bearer_scheme_is_case_insensitive(server: LocalServer) -> None:
    assert httpx.get(server.base_url + "/files", headers={"Authorization": f"bearer {KEY}"}).status_code == 200


def test_without_configured_keys_any_non_empty_key_is_accepted(tmp_path: Path) -> None:
    with run_server(tmp_path, tick=0) as server:
        assert httpx.get(server.base_url + "/files", headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert_error(httpx.get(server.base_url + "/files", headers={"Authorization": "Bearer"}), 401)


def test_every_answer_has_a_distinct_request_id(client: httpx.Client) -> None:
    responses = [client.get("/files"), client.get("/batches"), client.get("/files/file-nope"), client.get("/nope")]
    ids = [response.headers["x-request-id"] for response in responses]
    assert all(request_id.startswith("req_") for request_id in ids)
    assert len(set(ids)) == len(ids)
    assert all("openai-processing-ms" in response.headers for response in responses)


def test_unknown_path_is_404_invalid_url(client: httpx.Client) -> None:
    error = assert_error(client.get("/models"), 404, type_="invalid_request_error")
    assert error["message"] == "Invalid URL (GET /v1/models)"


def test_wrong_method_on_a_known_path_is_405_with_allow(client: httpx.Client) -> None:
    response = client.put("/files")
    assert_error(response, 405)
    assert response.headers["allow"] == "GET, POST"


def test_unknown_ids_are_404_with_the_real_messages(client: httpx.Client) -> None:
    error = assert_error(client.get("/files/file-missing"), 404, param="id")
    assert error["message"] == "No such File object: file-missing"
    assert_error(client.get("/files/file-missing/content"), 404)
    assert_error(client.delete("/files/file-missing"), 404)
    error = assert_error(client.get("/batches/batch_missing"), 404)
    assert "batch_missing" in error["message"]
    assert_error(client.post("/batches/batch_missing/cancel"), 404)


def test_unparseable_json_body_is_400_with_the_real_hint(client: httpx.Client) -> None:
    response = client.post("/batches", content=b"{not json", headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, type_="invalid_request_error")
    assert error["message"].startswith("We could not parse the JSON body of your request.")
    assert_error(client.post("/batches", json=["a", "list"]), 400)


def test_an_error_before_the_body_is_read_keeps_the_connection_usable(client: httpx.Client) -> None:
    # A 404 for a POST with a body: the server must drain the body, or it would parse it as the next request.
    for _ in range(3):
        assert_error(client.post("/nothing-here", content=b"x" * 100_000), 404)
    assert client.get("/files").status_code == 200


def test_a_request_head_over_64_kib_is_refused_and_the_connection_closed(server: LocalServer) -> None:
    # The HTTP layer (uvicorn) refuses it before the API sees it: its own plain 400, then the connection closes.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /v1/files HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"connection: close" in head.lower()
    assert body == b"Request head too large."


async def test_the_app_answers_in_process_through_asgi_transport(server: LocalServer) -> None:
    # The same ASGI app uvicorn serves, driven without a socket: what a test needs when HTTP framing is not the point.
    transport = httpx.ASGITransport(app=server.app)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://local/v1", headers=headers) as client:
        upload = await client.post("/files", files={"file": ("in.jsonl", b"{}\n")}, data={"purpose": "batch"})
        assert upload.status_code == 200, upload.text
        listed = await client.get("/files")
        assert [item["id"] for item in listed.json()["data"]] == [upload.json()["id"]]
        assert_error(await client.get("/files/nope"), 404, param="id")
        assert_error(await client.get("/files", headers={"Authorization": "Bearer wrong"}), 401)
        assert (await client.request("OPTIONS", "/files")).headers["allow"] == "GET, POST"
