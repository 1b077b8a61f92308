"""Jobs on Anthropic's Message Batches, against the local server: the same JSONL as on OpenAI (chat lines,
translated) or Anthropic's own lines, shards sent inline, results merged in input order though the service returns
them in any order, retryable errored results sent again, cancel and delete; sync and async alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches import BatchInputError, InvalidParameterError
from openai_batches.anthropic import AnthropicBatchClient, AsyncAnthropicBatchClient
from openai_batches.jobs import Job
from openai_batches.jobs._async.anthropic_provider import AsyncAnthropicProvider
from openai_batches.jobs._sync.anthropic_provider import AnthropicProvider, staged_path
from openai_batches.jobs.actions import FindBatch
from openai_batches.jobs.errors import JobAccountError
from openai_batches.jobs.store import open_store
from openai_batches_server import LocalServer, run_server

KEY = "sk-ant-jobs-0001"
MODEL = "claude-3-5-haiku-latest"
MODES = ("sync", "async")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


def root(server: LocalServer) -> str:
    return server.base_url.removesuffix("/v1")


def chat_line(i: int) -> dict[str, Any]:
    body = {
        "model": MODEL,
        "max_completion_tokens": 32,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"say {i}"}],
    }
    return {"custom_id": f"q-{i:03d}", "method": "POST", "url": "/v1/chat/completions", "body": body}


def native_line(i: int) -> dict[str, Any]:
    params = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": f"native {i}"}]}
    return {"custom_id": f"q-{i:03d}", "params": params}


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def mixed(count: int) -> list[dict[str, Any]]:
    return [native_line(i) if i % 3 == 0 else chat_line(i) for i in range(count)]


def run(mode: str, server: LocalServer, name: str, path: Path, state: Path, **settings: Any) -> Job:
    options = {"max_batch_requests": 7, "max_in_flight": 2, **settings}
    if mode == "sync":
        with AnthropicBatchClient(api_key=KEY, base_url=root(server), max_retries=0) as client:
            client.jobs.create(name, path, state_dir=state, **options)
            return client.jobs.run(name, state_dir=state, poll_interval=0.01, max_poll_interval=0.05)

    async def main() -> Job:
        async with AsyncAnthropicBatchClient(api_key=KEY, base_url=root(server), max_retries=0) as client:
            await client.jobs.create(name, path, state_dir=state, **options)
            return await client.jobs.run(name, state_dir=state, poll_interval=0.01, max_poll_interval=0.05)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_a_job_of_chat_and_native_lines_runs_on_message_batches_with_results_in_input_order(
    mode: str, server: LocalServer, tmp_path: Path
) -> None:
    path = write(tmp_path / "in.jsonl", mixed(30))
    job = run(mode, server, "mixed", path, tmp_path / "state")
    assert (job.status, job.requests, job.succeeded, job.failed) == ("completed", 30, 30, 0)
    results = list(job.results())
    assert [r.custom_id for r in results] == [f"q-{i:03d}" for i in range(30)]
    assert all(r.ok and r.status_code == 200 for r in results)
    first = results[1].body
    assert first is not None and first["type"] == "message" and first["model"] == MODEL
    with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
        batches = list(client.messages.batches.list(limit=100))
    assert sorted(b.request_counts.succeeded for b in batches) == [2, 7, 7, 7, 7], "30 requests in shards of 7"
    assert not list((tmp_path / "state").rglob("*.anthropic.jsonl")), "the translated requests go once merged"


@pytest.mark.parametrize("mode", MODES)
def test_errored_results_that_may_pass_are_sent_again_and_final_ones_kept(mode: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Each Message Batch draws its own failures (the server's batch count is its attempt): 500s in the first six.
    with run_server(data, api_keys=[KEY], tick=0, line_failure_rate=0.3, line_failure_attempts=6) as server:
        path = write(tmp_path / "in.jsonl", mixed(40))
        job = run(mode, server, "retry", path, tmp_path / "state", max_attempts=3)
        with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
            counts = [b.request_counts for b in client.messages.batches.list(limit=100)]
    assert (job.status, job.succeeded, job.failed) == ("completed", 40, 0)
    errored = sum(c.errored for c in counts)
    assert errored > 0 and len(counts) > 6, "the first batches' 500s were sent again in batches of their own"
    assert sum(c.succeeded for c in counts) == 40, "every request succeeded once"
    assert sum(c.succeeded + c.errored for c in counts) == 40 + errored


def test_a_request_anthropic_refuses_is_refused_when_the_job_is_created(server: LocalServer, tmp_path: Path) -> None:
    lines = mixed(3)
    lines[2]["body"].pop("max_completion_tokens")
    path = write(tmp_path / "in.jsonl", lines)
    with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
        with pytest.raises(BatchInputError, match=r"line 3: Anthropic's Messages API requires max_tokens") as caught:
            client.jobs.create("bad", path, state_dir=tmp_path / "state")
        assert caught.value.custom_id == "q-002"
        with pytest.raises(InvalidParameterError, match=r"a job on anthropic sends /v1/chat/completions requests"):
            client.jobs.create("bad", write(tmp_path / "ok.jsonl", mixed(2)), endpoint="/v1/embeddings")
        with pytest.raises(InvalidParameterError, match=r"1 to 100,000"):
            client.jobs.create("bad", tmp_path / "ok.jsonl", max_batch_requests=100_001, state_dir=tmp_path / "s")
        assert client.jobs.list(state_dir=tmp_path / "state") == []


def test_a_job_on_anthropic_runs_only_with_a_key_of_its_workspace(server: LocalServer, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", mixed(3))
    with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
        client.jobs.create("mine", path, state_dir=tmp_path / "state")
    other = AnthropicBatchClient(api_key="sk-ant-other", base_url=root(server))
    with other, pytest.raises(JobAccountError, match="another API key"):
        other.jobs.run("mine", state_dir=tmp_path / "state")


def test_cancel_stops_the_batches_and_keeps_what_finished(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0.01) as server:
        path = write(tmp_path / "in.jsonl", mixed(40))
        state = tmp_path / "state"
        with AnthropicBatchClient(api_key=KEY, base_url=root(server), max_retries=0) as client:
            client.jobs.create("stop", path, state_dir=state, max_batch_requests=20)

            def cancel_once_sent(job: Job) -> None:
                if job.batches_in_flight and job.status == "in_progress":
                    client.jobs.cancel("stop", state_dir=state)

            job = client.jobs.run("stop", state_dir=state, on_update=cancel_once_sent, poll_interval=0.01)
            assert job.status == "cancelled"
            assert job.cancelled + job.succeeded == 40
            statuses = {b.processing_status for b in client.messages.batches.list(limit=100)}
            assert statuses == {"ended"}
            client.jobs.delete("stop", remote_files=True, state_dir=state)
            assert list(client.messages.batches.list(limit=100)) == [], "deleting its files deletes its batches"


def requests_of(count: int) -> list[dict[str, Any]]:
    return [native_line(i) for i in range(count)]


def test_a_shards_batch_is_found_again_by_its_size_oldest_first_each_taken_once(
    server: LocalServer, tmp_path: Path
) -> None:
    with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
        older = client.messages.batches.create(requests=requests_of(3))
        newer = client.messages.batches.create(requests=requests_of(3))
        client.messages.batches.create(requests=requests_of(2))
        since = 0.0
        provider = AnthropicProvider(client)
        first = provider.find_batch(FindBatch(1, {}, since, requests=3))
        second = provider.find_batch(FindBatch(2, {}, since, requests=3))
        third = provider.find_batch(FindBatch(3, {}, since, requests=3))
        assert [v.id for v in first.batches] == [older.id]
        assert [v.id for v in second.batches] == [newer.id]
        assert third.batches == (), "no batch is taken twice"
        fresh = AnthropicProvider(client)
        known = fresh.find_batch(FindBatch(1, {}, since, requests=3, known=frozenset({older.id})))
        assert [v.id for v in known.batches] == [newer.id], "what the job holds already is not a candidate"
        later = fresh.find_batch(FindBatch(4, {}, 4e9, requests=2))
        assert later.batches == (), "only batches created since the intent"


def test_the_async_provider_finds_the_same(server: LocalServer) -> None:
    async def main() -> list[list[str]]:
        async with AsyncAnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
            made = await client.messages.batches.create(requests=requests_of(4))
            provider = AsyncAnthropicProvider(client)
            found = await asyncio.gather(
                provider.find_batch(FindBatch(1, {}, 0.0, requests=4)),
                provider.find_batch(FindBatch(2, {}, 0.0, requests=4)),
            )
            return [[made.id], *[[v.id for v in f.batches] for f in found]]

    made, first, second = asyncio.run(main())
    assert (first, second) == (made, [])


def test_staged_requests_are_written_beside_the_shard_file(tmp_path: Path) -> None:
    shard = write(tmp_path / "shard1.attempt1.jsonl", [chat_line(1), native_line(2)])
    assert staged_path(shard) == tmp_path / "shard1.attempt1.anthropic.jsonl"


def test_an_anthropic_job_keeps_its_provider(server: LocalServer, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", mixed(2))
    with AnthropicBatchClient(api_key=KEY, base_url=root(server)) as client:
        client.jobs.create("kept", path, state_dir=tmp_path)
    with open_store(tmp_path) as store:
        record = store.get_job("kept")
    assert record is not None and (record.provider, record.endpoint) == ("anthropic", "/v1/chat/completions")


def test_a_shard_is_created_from_its_encoded_lines_byte_for_byte() -> None:
    seen: list[httpx.Request] = []
    batch = {
        "id": "msgbatch_01",
        "type": "message_batch",
        "processing_status": "in_progress",
        "request_counts": {"processing": 2, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
        "ended_at": None,
        "created_at": "2026-12-08T10:00:00Z",
        "expires_at": "2026-12-09T10:00:00Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": None,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=batch)

    lines = b'{"custom_id":"a","params":{"model":"m"}}\n\n{"custom_id":"b","params":{}}\n'
    http = httpx.Client(transport=httpx.MockTransport(answer))
    with AnthropicBatchClient(api_key=KEY, base_url="https://api.anthropic.test", http_client=http) as client:
        made = client.messages.batches._create_from_lines(lines)
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.anthropic.test/v1/messages/batches")
    assert request.headers["content-type"] == "application/json" and request.headers["x-api-key"] == KEY
    assert request.content == b'{"requests":[{"custom_id":"a","params":{"model":"m"}},{"custom_id":"b","params":{}}]}'
    assert (made.id, made.processing_status) == ("msgbatch_01", "in_progress")
