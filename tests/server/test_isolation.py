"""Each API key sees only its own files and batches; another key's ids answer 404 as if they did not exist."""

from __future__ import annotations

from pathlib import Path

import httpx
from openai_batches_server import LocalServer, run_server

from .support import CHAT, KEY, assert_error, chat_line, create_batch, jsonl, upload, wait_for


def test_another_keys_objects_are_invisible(client: httpx.Client, other_client: httpx.Client) -> None:
    file = upload(client, jsonl([chat_line("a"), chat_line("fail-b")]))
    batch = wait_for(client, create_batch(client, file["id"])["id"])
    owned_files = [file["id"], batch["output_file_id"], batch["error_file_id"]]

    for file_id in owned_files:
        assert_error(other_client.get(f"/files/{file_id}"), 404)
        assert_error(other_client.get(f"/files/{file_id}/content"), 404)
        assert_error(other_client.delete(f"/files/{file_id}"), 404)
    assert_error(other_client.get(f"/batches/{batch['id']}"), 404)
    assert_error(other_client.post(f"/batches/{batch['id']}/cancel"), 404)
    assert other_client.get("/files").json()["data"] == []
    assert other_client.get("/batches").json()["data"] == []
    # Nor can another key run a batch on this key's file.
    response = other_client.post(
        "/batches", json={"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "24h"}
    )
    assert_error(response, 400, param="input_file_id")

    # A cursor naming another key's object reveals nothing either.
    assert other_client.get("/files", params={"after": file["id"]}).json()["data"] == []
    assert other_client.get("/batches", params={"after": batch["id"]}).json()["data"] == []

    # The owner still has everything.
    assert {f["id"] for f in client.get("/files").json()["data"]} == set(owned_files)
    assert client.get(f"/batches/{batch['id']}").json() == batch


def test_isolation_holds_when_any_key_is_accepted(tmp_path: Path) -> None:
    with run_server(tmp_path, tick=0) as server:
        alice = httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer alice"})
        bob = httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer bob"})
        with alice, bob:
            file = upload(alice, b"{}\n")
            assert_error(bob.get(f"/files/{file['id']}"), 404)
            assert bob.get("/files").json()["data"] == []
            assert alice.get(f"/files/{file['id']}").status_code == 200


def test_keys_are_not_stored_in_clear(client: httpx.Client, server: LocalServer) -> None:
    upload(client, b"x")
    database = (server.storage.root / "state.sqlite3").read_bytes()
    wal = server.storage.root / "state.sqlite3-wal"
    contents = database + (wal.read_bytes() if wal.exists() else b"")
    assert KEY.encode() not in contents
