"""The official `anthropic` SDK's `messages.batches`, unchanged, against the local server: create, retrieve, list
across pages, cancel, results and delete, in its sync and its async client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from openai_batches_server import LocalServer, run_server

KEY = "sk-ant-local-0001"
MODEL = "claude-3-5-haiku-latest"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


def root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def requests(count: int) -> list[anthropic.types.messages.batch_create_params.Request]:
    return [
        {
            "custom_id": f"req-{i}",
            "params": {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": f"say {i}"}]},
        }
        for i in range(count)
    ]


def test_sync_client(server: LocalServer) -> None:
    client = anthropic.Anthropic(api_key=KEY, base_url=root(server), max_retries=0)
    batches = client.messages.batches
    created = [batches.create(requests=requests(3)) for _ in range(3)]
    assert all(batch.processing_status == "in_progress" for batch in created)
    deadline = time.monotonic() + 60
    batch = batches.retrieve(created[0].id)
    while batch.processing_status != "ended" and time.monotonic() < deadline:
        time.sleep(0.05)
        batch = batches.retrieve(created[0].id)
    assert batch.processing_status == "ended" and batch.request_counts.succeeded == 3
    listed = [item.id for item in batches.list(limit=2)]
    assert listed == [b.id for b in reversed(created)]
    decoded = list(batches.results(batch.id))
    assert sorted(item.custom_id for item in decoded) == ["req-0", "req-1", "req-2"]
    for item in decoded:
        assert item.result.type == "succeeded"
        assert item.result.message.content[0].type == "text"
        assert item.result.message.content[0].text == f"Echo: say {item.custom_id.removeprefix('req-')}"
    assert batches.delete(batch.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        batches.retrieve(batch.id)
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(api_key="wrong", base_url=root(server), max_retries=0).messages.batches.list()


def test_cancel_with_the_sync_client(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0.05) as server:
        batches = anthropic.Anthropic(api_key=KEY, base_url=root(server), max_retries=0).messages.batches
        batch = batches.create(requests=requests(100))
        canceling = batches.cancel(batch.id)
        assert canceling.processing_status == "canceling"
        with pytest.raises(anthropic.BadRequestError):
            batches.delete(batch.id)
        deadline = time.monotonic() + 60
        while batches.retrieve(batch.id).processing_status != "ended" and time.monotonic() < deadline:
            time.sleep(0.05)
        ended = batches.retrieve(batch.id)
        assert ended.request_counts.canceled > 0
        kinds = [item.result.type for item in batches.results(batch.id)]
        assert len(kinds) == 100 and kinds.count("canceled") == ended.request_counts.canceled


def test_async_client(server: LocalServer) -> None:
    async def main() -> None:
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=root(server), max_retries=0)
        batches = client.messages.batches
        created = [await batches.create(requests=requests(2)) for _ in range(3)]
        batch = await batches.retrieve(created[-1].id)
        deadline = time.monotonic() + 60
        while batch.processing_status != "ended" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            batch = await batches.retrieve(batch.id)
        assert batch.request_counts.succeeded == 2
        listed = [item.id async for item in batches.list(limit=1)]
        assert listed == [b.id for b in reversed(created)]
        decoded = [item async for item in await batches.results(batch.id)]
        assert sorted(item.custom_id for item in decoded) == ["req-0", "req-1"]
        assert all(item.result.type == "succeeded" for item in decoded)
        assert (await batches.delete(batch.id)).id == batch.id
        await client.close()

    asyncio.run(main())
