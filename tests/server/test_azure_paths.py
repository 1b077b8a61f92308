"""Azure OpenAI's paths (`/openai/v1/...`, `/openai/...?api-version=`) beside `/v1`: the same resources, with
Azure's credentials (`api-key`, or an Entra ID token as a bearer), its 401 and 404 bodies, and batch endpoints and
request-line URLs written without `/v1`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import LocalServer, run_server

from .support import KEY, OTHER_KEY, TLS, api_client, chat_line, jsonl, read_lines, upload, wait_for

DENIED = {
    "error": {
        "code": "401",
        "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
        "valid key for an active subscription and use a correct regional API endpoint for your resource.",
    }
}
NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}
VERSION = "2024-10-21"
DEPLOYMENT = "my-gpt-4o-mini-batch"

# (path prefix, query every request carries, credential header)
FLAVOURS = {
    "v1-api-key": ("/openai/v1", {}, {"api-key": KEY}),
    "v1-bearer": ("/openai/v1", {}, {"Authorization": f"Bearer {KEY}"}),
    "dated-api-key": ("/openai", {"api-version": VERSION}, {"api-key": KEY}),
    "dated-bearer": ("/openai", {"api-version": "2025-04-01-preview"}, {"Authorization": f"Bearer {KEY}"}),
}


def root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def azure_client(
    server: LocalServer, prefix: str = "/openai/v1", query: dict[str, str] | None = None, **headers: str
) -> httpx.Client:
    return httpx.Client(base_url=root(server) + prefix, params=query or {}, headers=headers, timeout=30, verify=TLS)


@pytest.fixture(params=sorted(FLAVOURS))
def azure(request: pytest.FixtureRequest, server: LocalServer) -> Iterator[httpx.Client]:
    prefix, query, headers = FLAVOURS[request.param]
    with httpx.Client(base_url=root(server) + prefix, params=query, headers=headers, timeout=30, verify=TLS) as client:
        yield client


def azure_line(custom_id: str, text: str = "hello there", *, url: str = "/chat/completions") -> dict[str, Any]:
    return {**chat_line(custom_id, text, model=DEPLOYMENT), "url": url}


def create(client: httpx.Client, file_id: str, endpoint: str = "/chat/completions") -> dict[str, Any]:
    response = client.post(
        "/batches", json={"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_azure_error(response: httpx.Response, status: int, body: dict[str, Any]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json() == body


def test_every_files_and_batches_operation(azure: httpx.Client) -> None:
    content = jsonl([azure_line("a", "first"), azure_line("b", "second"), azure_line("fail-c")])
    uploaded = upload(azure, content, filename="azure.jsonl")
    assert uploaded["object"] == "file" and uploaded["purpose"] == "batch" and uploaded["filename"] == "azure.jsonl"

    retrieved = azure.get(f"/files/{uploaded['id']}")
    assert retrieved.status_code == 200 and retrieved.json() == uploaded
    listed = azure.get("/files", params={"purpose": "batch"})
    assert listed.status_code == 200 and [item["id"] for item in listed.json()["data"]] == [uploaded["id"]]
    assert azure.get(f"/files/{uploaded['id']}/content").content == content

    batch = create(azure, uploaded["id"])
    assert batch["endpoint"] == "/chat/completions"
    done = wait_for(azure, batch["id"])
    assert done["status"] == "completed", done
    assert done["model"] == DEPLOYMENT
    assert done["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    lines = read_lines(azure, done["output_file_id"])
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert lines[0]["response"]["status_code"] == 200
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: first"
    assert lines[0]["response"]["body"]["model"] == DEPLOYMENT
    assert [line["custom_id"] for line in read_lines(azure, done["error_file_id"])] == ["fail-c"]

    batches = azure.get("/batches", params={"limit": 10})
    assert batches.status_code == 200 and [item["id"] for item in batches.json()["data"]] == [batch["id"]]
    assert azure.get(f"/batches/{batch['id']}").json()["status"] == "completed"
    # Cancelling a finished batch is the same 409 as through /v1.
    assert azure.post(f"/batches/{batch['id']}/cancel").status_code == 409

    deleted = azure.delete(f"/files/{uploaded['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"id": uploaded["id"], "object": "file", "deleted": True}
    assert azure.get(f"/files/{uploaded['id']}").status_code == 404


def test_cancel_through_an_azure_path(tmp_path: Path) -> None:
    with (
        run_server(tmp_path / "data", api_keys=[KEY], step_seconds=1.0) as server,
        azure_client(server, "/openai", {"api-version": VERSION}, **{"api-key": KEY}) as client,
    ):
        batch = create(client, upload(client, jsonl([azure_line("a")]))["id"])
        cancelled = client.post(f"/batches/{batch['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] in ("cancelling", "cancelled")
        assert wait_for(client, batch["id"])["status"] == "cancelled"


def test_one_store_whichever_path_and_credential_form(server: LocalServer) -> None:
    with (
        azure_client(server, **{"api-key": KEY}) as by_key,
        azure_client(server, "/openai", {"api-version": VERSION}, Authorization=f"Bearer {KEY}") as by_token,
        api_client(server, KEY) as openai_path,
        api_client(server, OTHER_KEY) as other,
    ):
        uploaded = upload(by_key, jsonl([azure_line("a")]))
        for client in (by_token, openai_path):
            assert client.get(f"/files/{uploaded['id']}").json() == uploaded
        batch = create(by_token, uploaded["id"])
        assert openai_path.get(f"/batches/{batch['id']}").json()["endpoint"] == "/chat/completions"
        # Another key owns nothing of this one's, as through /v1.
        assert other.get(f"/files/{uploaded['id']}").status_code == 404


def test_lines_may_use_either_url_form_when_the_batch_came_through_azure(server: LocalServer) -> None:
    lines = [azure_line("short"), azure_line("long", url="/v1/chat/completions")]
    with azure_client(server, **{"api-key": KEY}) as client:
        file_id = upload(client, jsonl(lines))["id"]
        for endpoint in ("/chat/completions", "/v1/chat/completions"):
            batch = create(client, file_id, endpoint)
            assert batch["endpoint"] == "/chat/completions"
            done = wait_for(client, batch["id"])
            assert done["status"] == "completed" and done["request_counts"]["completed"] == 2, done
            assert {line["custom_id"] for line in read_lines(client, done["output_file_id"])} == {"short", "long"}


def test_embeddings_without_v1_are_answered_by_the_embeddings_responder(server: LocalServer) -> None:
    line = {"custom_id": "e", "method": "POST", "url": "/embeddings", "body": {"model": "emb", "input": "hi"}}
    with azure_client(server, **{"api-key": KEY}) as client:
        done = wait_for(client, create(client, upload(client, jsonl([line]))["id"], "/embeddings")["id"])
        assert done["status"] == "completed", done
        (answer,) = read_lines(client, done["output_file_id"])
        assert answer["response"]["body"]["object"] == "list"
        assert answer["response"]["body"]["data"][0]["object"] == "embedding"


def test_an_openai_path_batch_still_refuses_urls_without_v1(client: httpx.Client) -> None:
    file_id = upload(client, jsonl([azure_line("a")]))["id"]
    refused = client.post(
        "/batches", json={"input_file_id": file_id, "endpoint": "/chat/completions", "completion_window": "24h"}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_value"
    assert "'/v1/chat/completions'" in refused.json()["error"]["message"]
    batch = create(client, file_id, "/v1/chat/completions")
    done = wait_for(client, batch["id"])
    assert done["status"] == "failed"
    assert done["errors"]["data"][0]["code"] == "invalid_url"


def test_an_unknown_endpoint_through_azure_names_the_azure_forms(server: LocalServer) -> None:
    with azure_client(server, **{"api-key": KEY}) as client:
        file_id = upload(client, jsonl([azure_line("a")]))["id"]
        response = client.post(
            "/batches", json={"input_file_id": file_id, "endpoint": "/chat/nope", "completion_window": "24h"}
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_value" and "'/chat/completions'" in error["message"]
        assert "'/v1/chat/completions'" not in error["message"]


@pytest.mark.parametrize("prefix, query", [("/openai/v1", {}), ("/openai", {"api-version": VERSION})])
def test_no_credential_is_azures_401(server: LocalServer, prefix: str, query: dict[str, str]) -> None:
    with azure_client(server, prefix, query) as client:
        assert_azure_error(client.get("/files"), 401, DENIED)
        # An OpenAI-style header with another scheme is no credential either.
        assert_azure_error(client.get("/batches", headers={"Authorization": f"Basic {KEY}"}), 401, DENIED)
        assert_azure_error(client.get("/batches", headers={"api-key": ""}), 401, DENIED)


@pytest.mark.parametrize("header", ["api-key", "Authorization"])
def test_a_wrong_key_is_azures_401_and_is_never_echoed_or_logged(
    server: LocalServer, header: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "azure-wrong-key-0123456789abcdef"
    value = wrong if header == "api-key" else f"Bearer {wrong}"
    with caplog.at_level(logging.DEBUG), azure_client(server, **{header: value}) as client:
        for response in (client.get("/files"), client.post("/batches", json={})):
            assert_azure_error(response, 401, DENIED)
            assert wrong not in response.text and wrong[-4:] not in response.text
    assert wrong not in caplog.text


def test_api_key_wins_over_a_bearer_token(server: LocalServer) -> None:
    with azure_client(server, **{"api-key": KEY, "Authorization": "Bearer not-a-configured-key"}) as client:
        assert client.get("/files").status_code == 200
    with azure_client(server, **{"api-key": "not-a-configured-key", "Authorization": f"Bearer {KEY}"}) as client:
        assert_azure_error(client.get("/files"), 401, DENIED)


def test_the_openai_paths_keep_openai_auth(server: LocalServer) -> None:
    # An api-key header is Azure's credential; /v1 still asks for a bearer key and answers in its own shape.
    response = httpx.get(server.base_url + "/files", headers={"api-key": KEY})
    assert response.status_code == 401 and response.json()["error"]["message"].startswith("You didn't provide")


def test_without_configured_keys_any_token_or_key_is_accepted(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", tick=0) as server:
        with azure_client(server, Authorization="Bearer eyJ0eXAiOiJKV1Qi.any.entra-token") as client:
            uploaded = upload(client, b'{"x": 1}\n', purpose="batch")
            assert client.get(f"/files/{uploaded['id']}").status_code == 200
        # The owner is the credential's hash: the same string sent as an api-key sees the same file.
        with azure_client(server, **{"api-key": "eyJ0eXAiOiJKV1Qi.any.entra-token"}) as client:
            assert client.get(f"/files/{uploaded['id']}").status_code == 200
        with azure_client(server, Authorization="Bearer") as client:
            assert_azure_error(client.get("/files"), 401, DENIED)


def test_a_dated_path_without_api_version_is_azures_404(server: LocalServer) -> None:
    with azure_client(server, "/openai", **{"api-key": KEY}) as client:
        for response in (client.get("/files"), client.post("/batches", json={}), client.get("/batches/batch_x")):
            assert_azure_error(response, 404, NOT_FOUND)


@pytest.mark.parametrize("version", ["", "v1", "2024-10-21x", "2024-10", "latest", "2024-10-21-beta"])
def test_a_malformed_api_version_is_azures_400(server: LocalServer, version: str) -> None:
    with azure_client(server, "/openai", {"api-version": version}, **{"api-key": KEY}) as client:
        assert_azure_error(
            client.get("/files"), 400, {"error": {"code": "BadRequest", "message": "API version not supported"}}
        )


@pytest.mark.parametrize("version", ["2024-10-21", "2025-04-01-preview", "preview", "latest"])
def test_the_v1_paths_accept_any_api_version(server: LocalServer, version: str) -> None:
    with azure_client(server, query={"api-version": version}, **{"api-key": KEY}) as client:
        assert client.get("/files").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/models",
        "/openai/v1",
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
        "/openai/files/file-1/nope?api-version=2024-10-21",
        "/openai?api-version=2024-10-21",
    ],
)
def test_an_unknown_azure_path_is_azures_404(server: LocalServer, path: str) -> None:
    response = httpx.get(root(server) + path, headers={"api-key": KEY})
    assert_azure_error(response, 404, NOT_FOUND)


def test_a_known_azure_path_with_another_method_is_405_naming_the_path_asked(server: LocalServer) -> None:
    response = httpx.put(root(server) + "/openai/v1/files", headers={"api-key": KEY})
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    assert "/openai/v1/files" in response.json()["error"]["message"]


def test_an_unknown_id_keeps_the_openai_shaped_404(server: LocalServer) -> None:
    with azure_client(server, **{"api-key": KEY}) as client, api_client(server, KEY) as openai_path:
        for path in ("/files/file-nope", "/batches/batch_nope"):
            through_azure = client.get(path)
            assert through_azure.status_code == 404
            assert through_azure.json() == openai_path.get(path).json()
