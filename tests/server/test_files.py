"""/v1/files over HTTP: multipart uploads as clients send them, the File object, delete, and raw content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openai_batches_server import Limits, LocalServer, run_server

from .support import KEY, api_client, assert_error, upload

THIRTY_DAYS = 30 * 24 * 3600


def test_upload_returns_the_file_object(client: httpx.Client) -> None:
    content = b'{"a": 1}\n{"b": 2}\n'
    file = upload(client, content, filename="requests.jsonl")
    assert set(file) == {
        "id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "status_details"
    }  # fmt: skip
    assert file["id"].startswith("file-")
    assert file["object"] == "file"
    assert file["bytes"] == len(content)
    assert file["filename"] == "requests.jsonl"
    assert file["purpose"] == "batch"
    assert file["status"] == "processed"
    # Batch files expire after 30 days unless told otherwise.
    assert file["expires_at"] == file["created_at"] + THIRTY_DAYS
    assert client.get(f"/files/{file['id']}").json() == file


def test_content_is_the_exact_bytes_with_a_content_length(client: httpx.Client) -> None:
    content = bytes(range(256)) * 1000 + b"\r\n--not-a-boundary\r\n"
    file = upload(client, content, purpose="user_data", filename="blob.bin")
    response = client.get(f"/files/{file['id']}/content")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(content))
    assert response.content == content


@pytest.mark.parametrize("purpose", ["assistants", "fine-tune", "vision", "user_data", "evals"])
def test_other_purposes_do_not_expire_by_default(client: httpx.Client, purpose: str) -> None:
    file = upload(client, b"x", purpose=purpose)
    assert file["purpose"] == purpose
    assert file["expires_at"] is None


def test_expires_after_in_the_bracketed_form_fields_the_openai_sdk_sends(client: httpx.Client) -> None:
    response = client.post(
        "/files",
        files={"file": ("a.jsonl", b"{}\n")},
        data={"purpose": "user_data", "expires_after[anchor]": "created_at", "expires_after[seconds]": "7200"},
    )
    file = response.json()
    assert file["expires_at"] == file["created_at"] + 7200


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "3599"}, None, "integer_below_min_value"),
        ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "2592001"}, None, "integer_above_max_value"),
        ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "soon"}, None, "invalid_type"),
        ({"expires_after[anchor]": "last_active_at", "expires_after[seconds]": "3600"}, None, "invalid_value"),
        ({"expires_after[seconds]": "3600"}, "expires_after.anchor", "missing_required_parameter"),
        ({"expires_after[anchor]": "created_at"}, "expires_after.seconds", "missing_required_parameter"),
    ],
)
def test_bad_expires_after_is_400(client: httpx.Client, fields: dict[str, str], param: str | None, code: str) -> None:
    response = client.post("/files", files={"file": ("a", b"x")}, data={"purpose": "batch", **fields})
    error = assert_error(response, 400, code=code)
    assert error["param"].startswith("expires_after.")
    if param:
        assert error["param"] == param


def test_missing_file_missing_purpose_bad_purpose_and_unknown_field(client: httpx.Client) -> None:
    assert_error(
        client.post("/files", data={"purpose": "batch"}, files={"other": ("a", b"x")}), 400, code="unknown_parameter"
    )
    assert_error(
        client.post("/files", data={"purpose": "batch", "x": "1"}, files={"file": ("a", b"x")}),
        400,
        code="unknown_parameter",
        param="x",
    )
    # A form with only a field: httpx sends it as multipart when files= is given, so build one by hand.
    boundary = "b0undary"
    only_purpose = f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--{boundary}--\r\n'
    response = client.post(
        "/files", content=only_purpose.encode(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_error(response, 400, code="missing_required_parameter", param="file")
    assert_error(
        client.post("/files", files={"file": ("a", b"x")}), 400, code="missing_required_parameter", param="purpose"
    )
    assert_error(
        client.post("/files", files={"file": ("a", b"x")}, data={"purpose": "batch_output"}),
        400,
        code="invalid_value",
        param="purpose",
    )


def test_not_multipart_is_400(client: httpx.Client) -> None:
    assert_error(client.post("/files", json={"purpose": "batch"}), 400)
    truncated = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch'
    response = client.post("/files", content=truncated, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert_error(response, 400)


def test_chunked_upload_streams_like_a_sized_one(client: httpx.Client) -> None:
    request = httpx.Request(
        "POST", "http://x/", files={"file": ("c.jsonl", b"chunked!\n" * 5000)}, data={"purpose": "batch"}
    )
    wire = request.read()

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(wire), 1000):
            yield wire[start : start + 1000]

    response = client.post("/files", content=pieces(), headers={"Content-Type": request.headers["content-type"]})
    assert response.status_code == 200, response.text
    assert response.json()["bytes"] == 9 * 5000
    assert client.get(f"/files/{response.json()['id']}/content").content == b"chunked!\n" * 5000


def test_upload_over_the_size_limit_is_413_and_leaves_nothing_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with (
        run_server(data_dir, api_keys=[KEY], tick=0, limits=Limits(upload_bytes=1000)) as server,
        api_client(server) as http,
    ):

        def body() -> Iterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n\r\n'
            yield b"x" * 1001
            yield b'\r\n--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b--\r\n'

        # Chunked, so the size is only found out while streaming.
        response = http.post("/files", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert_error(response, 413, code="file_too_large")
        # Declared up front: refused before reading the body.
        response = http.post("/files", files={"file": ("big", b"x" * 100_000)}, data={"purpose": "batch"})
        assert_error(response, 413, code="file_too_large")
        assert response.headers["connection"] == "close"
        assert http.get("/files").json()["data"] == []
    assert list((data_dir / "tmp").iterdir()) == []
    assert list((data_dir / "files").iterdir()) == []


def test_delete_answers_the_deleted_object_then_404(client: httpx.Client) -> None:
    file = upload(client, b"x")
    response = client.delete(f"/files/{file['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": file["id"], "object": "file", "deleted": True}
    assert_error(client.get(f"/files/{file['id']}"), 404)
    assert_error(client.get(f"/files/{file['id']}/content"), 404)
    assert_error(client.delete(f"/files/{file['id']}"), 404)
    assert client.get("/files").json()["data"] == []


def test_deleted_file_bytes_are_removed_from_disk(server: LocalServer, client: httpx.Client, data_dir: Path) -> None:
    file = upload(client, b"to be removed")
    blob = data_dir / "files" / file["id"]
    assert blob.is_file()
    client.delete(f"/files/{file['id']}")
    server.sweep()
    assert not blob.exists()


def test_idempotency_key_on_upload(client: httpx.Client) -> None:
    def post(content: bytes) -> httpx.Response:
        return client.post(
            "/files",
            files={"file": ("a.jsonl", content)},
            data={"purpose": "batch"},
            headers={"Idempotency-Key": "upload-1"},
        )

    first = post(b"same bytes")
    again = post(b"same bytes")
    assert again.json() == first.json()
    assert_error(post(b"other bytes"), 409, code="idempotency_key_reused")
    assert len(client.get("/files").json()["data"]) == 1


def test_list_shows_the_same_objects_as_retrieve(client: httpx.Client) -> None:
    ids = [upload(client, json.dumps({"n": n}).encode())["id"] for n in range(3)]
    listed = client.get("/files").json()
    assert [file["id"] for file in listed["data"]] == ids[::-1]
    for file in listed["data"]:
        assert client.get(f"/files/{file['id']}").json() == file
