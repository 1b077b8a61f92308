"""The whole workflow with this client against the local server on 127.0.0.1: upload, create, poll, download."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches import (
    AsyncBatchClient,
    Batch,
    BatchClient,
    BatchStatus,
    FilePurpose,
    NotFoundError,
    is_terminal,
)
from openai_batches_server import LocalServer, run_server

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-e2e"


def request_line(custom_id: str, text: str) -> dict[str, object]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def jsonl(lines: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


REQUESTS = [request_line(f"q-{i}", f"question {i}") for i in range(5)] + [request_line("fail-q-5", "doomed")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


def wait_sync(client: BatchClient, batch: Batch, timeout: float = 20.0) -> Batch:
    deadline = time.monotonic() + timeout
    while not is_terminal(batch):
        assert time.monotonic() < deadline, f"batch stuck in {batch.status}"
        time.sleep(0.02)
        batch = client.batches.retrieve(batch.id)
    return batch


def test_sync_workflow(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(jsonl(REQUESTS))
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        upload = client.files.create(file=path, purpose="batch")
        assert (upload.filename, upload.bytes_, upload.purpose) == ("requests.jsonl", path.stat().st_size, "batch")
        assert client.files.retrieve(upload.id).id == upload.id

        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", metadata={"run": "e2e"})
        assert batch.status == BatchStatus.VALIDATING
        assert batch.metadata is not None and batch.metadata["run"] == "e2e"

        batch = wait_sync(client, batch)
        assert batch.status == BatchStatus.COMPLETED
        assert batch.request_counts is not None
        assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (6, 5, 1)
        assert batch.output_file_id and batch.error_file_id

        with client.files.content(batch.output_file_id) as content:
            outputs = [json.loads(line) for line in content.iter_lines()]
        assert sorted(o["custom_id"] for o in outputs) == [f"q-{i}" for i in range(5)]
        assert all(o["response"]["status_code"] == 200 for o in outputs)
        assert all("question" in o["response"]["body"]["choices"][0]["message"]["content"] for o in outputs)

        target = tmp_path / "errors.jsonl"
        written = client.files.content(batch.error_file_id).write_to_file(target)
        errors = [json.loads(line) for line in target.read_text().splitlines()]
        assert written == target.stat().st_size
        assert [e["custom_id"] for e in errors] == ["fail-q-5"]

        output_file = client.files.retrieve(batch.output_file_id)
        assert output_file.purpose == FilePurpose.BATCH_OUTPUT

        assert batch.id in [b.id for b in client.batches.list(limit=1)]
        assert client.files.delete(upload.id).deleted is True
        with pytest.raises(NotFoundError):
            client.files.retrieve(upload.id)


def test_sync_cancel_keeps_partial_results(tmp_path: Path) -> None:
    many = [request_line(f"q-{i}", f"question {i}") for i in range(200)]
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0.01) as server,
        BatchClient(api_key=KEY, base_url=server.base_url) as client,
    ):
        upload = client.files.create(file=jsonl(many))
        batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions")
        deadline = time.monotonic() + 20
        while (batch := client.batches.retrieve(batch.id)).status != BatchStatus.IN_PROGRESS:
            assert batch.status == BatchStatus.VALIDATING and time.monotonic() < deadline, batch.status
            time.sleep(0.01)
        cancelling = client.batches.cancel(batch.id)
        assert cancelling.status in (BatchStatus.CANCELLING, BatchStatus.CANCELLED)
        batch = wait_sync(client, cancelling)
        assert batch.status == BatchStatus.CANCELLED
        assert batch.request_counts is not None
        done = batch.request_counts.completed
        assert 0 <= done < 200
        kept = []
        if batch.output_file_id:
            kept = list(client.files.content(batch.output_file_id).iter_lines())
        assert len(kept) == done


def test_async_workflow(server: LocalServer) -> None:
    async def main() -> None:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            upload = await client.files.create(file=jsonl(REQUESTS), filename="async.jsonl")
            batch = await client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions")
            for _ in range(1000):
                if is_terminal(batch):
                    break
                await asyncio.sleep(0.02)
                batch = await client.batches.retrieve(batch.id)
            assert batch.status == BatchStatus.COMPLETED
            assert batch.output_file_id is not None
            content = await client.files.content(batch.output_file_id)
            lines = [json.loads(line) async for line in content.iter_lines()]
            assert len(lines) == 5
            ids = [b.id async for b in client.batches.list()]
            assert batch.id in ids
            files = [f.id async for f in client.files.list(purpose="batch")]
            assert upload.id in files

    asyncio.run(main())


def test_idempotency_key_gives_back_the_same_batch(server: LocalServer) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        upload = client.files.create(file=jsonl(REQUESTS))
        first = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", idempotency_key="k1")
        again = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", idempotency_key="k1")
        other = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions")
        assert first.id == again.id
        assert other.id != first.id


def test_make_demo_runs_the_quickstart_offline() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py")], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "finished: completed" in run.stdout
    assert "cancelled with" in run.stdout
    # The example's last line, then demo.py's own note that it stops the server.
    assert run.stdout.rstrip().endswith("Done.\n== stopping the local server")
