"""State lives in the data directory: a new server on it sees everything, and batches in flight carry on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai_batches_server import run_server
from openai_batches_server.storage import DataDirBusy

from .support import KEY, api_client, chat_line, create_batch, jsonl, read_lines, upload, wait_for

LINES = [chat_line(f"req-{n:03d}", f"question {n}") for n in range(60)] + [chat_line("fail-last")]


def test_a_batch_stopped_mid_way_completes_after_restart_with_every_line_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with run_server(data_dir, api_keys=[KEY], tick=0.01) as first, api_client(first) as client:
        input_file = upload(client, jsonl(LINES))
        batch = create_batch(client, input_file["id"], metadata={"run": "1"})
        seen = wait_for(client, batch["id"], lambda b: b["request_counts"]["completed"] >= 10)
        assert seen["status"] == "in_progress"
    # Simulate a process killed after writing a line but before recording it: the next run must not keep it.
    partial = data_dir / "batches" / batch["id"] / "output.jsonl"
    with partial.open("ab") as handle:
        handle.write(b'{"custom_id": "req-999", "leftover": true}\n')

    with run_server(data_dir, api_keys=[KEY], tick=0) as second, api_client(second) as client:
        resumed = client.get(f"/batches/{batch['id']}").json()
        assert resumed["request_counts"]["completed"] >= seen["request_counts"]["completed"]
        assert resumed["metadata"] == {"run": "1"}
        final = wait_for(client, batch["id"])
        assert final["status"] == "completed"
        assert final["request_counts"] == {"total": 61, "completed": 60, "failed": 1}
        assert final["in_progress_at"] == seen["in_progress_at"]
        output = read_lines(client, final["output_file_id"])
        assert [line["custom_id"] for line in output] == [f"req-{n:03d}" for n in range(60)]
        assert [line["custom_id"] for line in read_lines(client, final["error_file_id"])] == ["fail-last"]
        assert client.get(f"/files/{input_file['id']}").json() == input_file


def same_request(batch: dict[str, Any]) -> dict[str, Any]:
    return {"input_file_id": batch["input_file_id"], "endpoint": batch["endpoint"], "completion_window": "24h"}


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with run_server(data_dir, api_keys=[KEY], tick=0) as first, api_client(first) as client:
        batch = wait_for(client, create_batch(client, upload(client, jsonl(LINES[:3]))["id"])["id"])
        deleted = upload(client, b"gone")
        client.delete(f"/files/{deleted['id']}")
        keyed = client.post("/batches", json=same_request(batch), headers={"Idempotency-Key": "k1"}).json()
        wait_for(client, keyed["id"])
        files_before = client.get("/files").json()
        batches_before = client.get("/batches").json()
    with run_server(data_dir, api_keys=[KEY], tick=0) as second, api_client(second) as client:
        assert client.get("/files").json() == files_before
        assert client.get("/batches").json() == batches_before
        assert client.get(f"/batches/{batch['id']}").json() == batch
        assert client.get(f"/files/{deleted['id']}").status_code == 404
        replay = client.post("/batches", json=same_request(batch), headers={"Idempotency-Key": "k1"})
        assert replay.json()["id"] == keyed["id"]


def test_two_servers_cannot_share_a_data_directory(tmp_path: Path) -> None:
    with run_server(tmp_path, tick=0), pytest.raises(DataDirBusy), run_server(tmp_path, tick=0):
        pass
