"""The official SDK's Azure clients, unchanged, run every Files and Batch call against the local server.

`AzureOpenAI(azure_endpoint=..., api_key=..., api_version=...)` calls the dated paths (`/openai/files?api-version=`)
with an `api-key` header; `OpenAI(base_url=".../openai/v1")` calls Azure's v1 API with a bearer key, or with an
`api-key` header beside it; `azure_ad_token` sends an Entra ID token as a bearer. Each runs upload, retrieve, list,
download, create, poll to `completed`, list batches, cancel and delete, in its sync and its async form, with request
lines written the Azure way (`/chat/completions`, a deployment name as the model).
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai_batches_server import LocalServer, run_server

KEY = "sk-azure-sdk-0001"
VERSION = "2024-10-21"
DEPLOYMENT = "gpt-4o-mini-batch"
TERMINAL = ("completed", "failed", "expired", "cancelled")

Sync = Callable[[str], openai.OpenAI]
Async = Callable[[str], openai.AsyncOpenAI]

SYNC: dict[str, Sync] = {
    "azure-api-key": lambda root: openai.AzureOpenAI(
        azure_endpoint=root, api_key=KEY, api_version=VERSION, max_retries=0
    ),
    "azure-entra-token": lambda root: openai.AzureOpenAI(
        azure_endpoint=root, azure_ad_token=KEY, api_version=VERSION, max_retries=0
    ),
    "v1-bearer": lambda root: openai.OpenAI(base_url=root + "/openai/v1", api_key=KEY, max_retries=0),
    "v1-api-key": lambda root: openai.OpenAI(
        base_url=root + "/openai/v1", api_key=KEY, default_headers={"api-key": KEY}, max_retries=0
    ),
}
ASYNC: dict[str, Async] = {
    "azure-api-key": lambda root: openai.AsyncAzureOpenAI(
        azure_endpoint=root, api_key=KEY, api_version=VERSION, max_retries=0
    ),
    "azure-entra-token": lambda root: openai.AsyncAzureOpenAI(
        azure_endpoint=root, azure_ad_token=KEY, api_version=VERSION, max_retries=0
    ),
    "v1-bearer": lambda root: openai.AsyncOpenAI(base_url=root + "/openai/v1", api_key=KEY, max_retries=0),
    "v1-api-key": lambda root: openai.AsyncOpenAI(
        base_url=root + "/openai/v1", api_key=KEY, default_headers={"api-key": KEY}, max_retries=0
    ),
}


@pytest.fixture
def root(tmp_path: Path) -> Iterator[str]:
    """The server's root URL, what Azure calls the endpoint (`https://NAME.openai.azure.com`)."""
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as server:
        yield server_root(server)


def server_root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def input_file() -> io.BytesIO:
    lines = [
        {
            "custom_id": custom_id,
            "method": "POST",
            "url": "/chat/completions",
            "body": {"model": DEPLOYMENT, "messages": [{"role": "user", "content": text}]},
        }
        for custom_id, text in (("a", "first"), ("b", "second"))
    ]
    handle = io.BytesIO("".join(json.dumps(line) + "\n" for line in lines).encode())
    handle.name = "azure-input.jsonl"
    return handle


def check_output(text: str) -> None:
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: first"
    assert lines[0]["response"]["body"]["model"] == DEPLOYMENT


@pytest.mark.parametrize("flavour", sorted(SYNC))
def test_every_call_sync(root: str, flavour: str) -> None:
    with SYNC[flavour](root) as client:
        uploaded = client.files.create(file=input_file(), purpose="batch")
        assert uploaded.purpose == "batch" and uploaded.filename == "azure-input.jsonl"
        assert client.files.retrieve(uploaded.id).id == uploaded.id
        assert [item.id for item in client.files.list(purpose="batch")] == [uploaded.id]
        assert b'"url": "/chat/completions"' in client.files.content(uploaded.id).content

        batch = client.batches.create(input_file_id=uploaded.id, endpoint="/chat/completions", completion_window="24h")
        assert batch.endpoint == "/chat/completions"
        deadline = time.monotonic() + 10
        while batch.status not in TERMINAL:
            assert time.monotonic() < deadline, batch
            time.sleep(0.01)
            batch = client.batches.retrieve(batch.id)
        assert batch.status == "completed", batch
        assert batch.model == DEPLOYMENT
        assert batch.request_counts is not None and batch.request_counts.completed == 2
        assert batch.output_file_id is not None
        check_output(client.files.content(batch.output_file_id).text)
        assert [item.id for item in client.batches.list(limit=5)] == [batch.id]

        # A batch still running is cancelled; one that finished answers 409, as through /v1.
        with pytest.raises(openai.ConflictError):
            client.batches.cancel(batch.id)
        assert client.files.delete(uploaded.id).deleted is True
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(uploaded.id)


@pytest.mark.parametrize("flavour", sorted(ASYNC))
async def test_every_call_async(root: str, flavour: str) -> None:
    async with ASYNC[flavour](root) as client:
        uploaded = await client.files.create(file=input_file(), purpose="batch")
        assert (await client.files.retrieve(uploaded.id)).id == uploaded.id
        assert [item.id async for item in client.files.list(purpose="batch")] == [uploaded.id]
        assert b'"url": "/chat/completions"' in (await client.files.content(uploaded.id)).content

        batch = await client.batches.create(
            input_file_id=uploaded.id, endpoint="/chat/completions", completion_window="24h"
        )
        deadline = time.monotonic() + 10
        while batch.status not in TERMINAL:
            assert time.monotonic() < deadline, batch
            await asyncio.sleep(0.01)
            batch = await client.batches.retrieve(batch.id)
        assert batch.status == "completed", batch
        assert batch.output_file_id is not None
        check_output((await client.files.content(batch.output_file_id)).text)
        assert [item.id async for item in client.batches.list(limit=5)] == [batch.id]
        with pytest.raises(openai.ConflictError):
            await client.batches.cancel(batch.id)
        assert (await client.files.delete(uploaded.id)).deleted is True


def test_cancel_sync_and_async(tmp_path: Path) -> None:
    # Status steps of a second: the batch is still validating when the cancel arrives.
    with run_server(tmp_path / "data", api_keys=[KEY], step_seconds=1.0) as server:
        root = server_root(server)
        with SYNC["azure-api-key"](root) as client:
            uploaded = client.files.create(file=input_file(), purpose="batch")
            batch = client.batches.create(
                input_file_id=uploaded.id, endpoint="/chat/completions", completion_window="24h"
            )
            assert client.batches.cancel(batch.id).status in ("cancelling", "cancelled")

        async def cancel() -> Any:
            async with ASYNC["v1-bearer"](root) as client:
                batch = await client.batches.create(
                    input_file_id=uploaded.id, endpoint="/chat/completions", completion_window="24h"
                )
                return await client.batches.cancel(batch.id)

        assert asyncio.run(cancel()).status in ("cancelling", "cancelled")


def test_a_wrong_key_is_an_authentication_error_naming_no_key(root: str) -> None:
    with (
        openai.AzureOpenAI(
            azure_endpoint=root, api_key="sk-not-this-one-9876", api_version=VERSION, max_retries=0
        ) as client,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        client.files.list()
    assert caught.value.code == "401"
    assert "Access denied due to invalid subscription key" in caught.value.message
    assert "9876" not in str(caught.value)
