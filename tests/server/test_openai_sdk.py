"""The official `openai` SDK, unchanged but for `base_url`, runs a whole batch against the local server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import Batch
from openai_batches_server import Faults, LocalServer, run_server

from .support import KEY, chat_line, jsonl


@pytest.fixture
def sdk(server: LocalServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0) as client:
        yield client


def run_to_the_end(sdk: openai.OpenAI, input_path: Path) -> tuple[Batch, list[dict[str, Any]]]:
    with input_path.open("rb") as handle:
        uploaded = sdk.files.create(file=handle, purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.filename == input_path.name
    batch = sdk.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "sdk-test"},
    )
    deadline = time.monotonic() + 10
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.01)
        batch = sdk.batches.retrieve(batch.id)
    assert batch.output_file_id is not None
    lines = [json.loads(line) for line in sdk.files.content(batch.output_file_id).text.splitlines()]
    return batch, lines


def test_upload_create_poll_download(sdk: openai.OpenAI, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_bytes(jsonl([chat_line("a", "first"), chat_line("b", "second"), chat_line("fail-c")]))
    batch, lines = run_to_the_end(sdk, path)
    assert batch.status == "completed"
    assert batch.metadata == {"job": "sdk-test"}
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 2, 1)
    assert batch.usage is not None and batch.usage.total_tokens > 0
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "Echo: first"
    assert batch.error_file_id is not None
    errors = sdk.files.content(batch.error_file_id).text.splitlines()
    assert json.loads(errors[0])["response"]["status_code"] == 400


def test_files_resource(sdk: openai.OpenAI) -> None:
    created = sdk.files.create(
        file=("notes.jsonl", b"{}\n"),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600
    assert sdk.files.retrieve(created.id) == created
    assert [f.id for f in sdk.files.list()] == [created.id]
    assert sdk.files.content(created.id).read() == b"{}\n"
    deleted = sdk.files.delete(created.id)
    assert (deleted.id, deleted.deleted) == (created.id, True)
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.files.retrieve(created.id)
    assert caught.value.status_code == 404
    assert caught.value.request_id is not None and caught.value.request_id.startswith("req_")


def test_list_pages_and_cancel(sdk: openai.OpenAI, tmp_path: Path) -> None:
    uploaded = sdk.files.create(file=("in.jsonl", jsonl([chat_line("a")])), purpose="batch")
    ids = [
        sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h").id
        for _ in range(5)
    ]
    # Auto-pagination follows after=last_id until has_more is false.
    assert [b.id for b in sdk.batches.list(limit=2)] == ids[::-1]
    finished = sdk.batches.retrieve(ids[0])
    deadline = time.monotonic() + 20
    while finished.status != "completed":
        assert time.monotonic() < deadline, finished.status
        time.sleep(0.01)
        finished = sdk.batches.retrieve(ids[0])
    with pytest.raises(openai.ConflictError):
        sdk.batches.cancel(ids[0])


def test_errors_map_to_the_sdk_exceptions(server: LocalServer) -> None:
    with (
        openai.OpenAI(api_key="sk-wrong", base_url=server.base_url, max_retries=0) as wrong,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        wrong.batches.list()
    assert caught.value.code == "invalid_api_key"
    with (
        openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0) as sdk,
        pytest.raises(openai.BadRequestError) as bad,
    ):
        sdk.batches.create(input_file_id="file-x", endpoint="/v1/chat/completions", completion_window="24h")
    assert bad.value.param == "input_file_id"


def test_the_sdk_retries_its_way_through_injected_faults(tmp_path: Path) -> None:
    faults = Faults(rate=0.3, statuses=(429,), seed=1, retry_after=0.01)
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0, faults=faults) as server,
        openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=10) as sdk,
    ):
        path = tmp_path / "in.jsonl"
        path.write_bytes(jsonl([chat_line(str(n)) for n in range(5)]))
        batch, lines = run_to_the_end(sdk, path)
    assert batch.status == "completed"
    assert len(lines) == 5
