"""submit, wait and results: against the local server, with a fake clock and sleeper where time matters."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches import (
    AsyncBatchClient,
    Batch,
    BatchClient,
    BatchInput,
    BatchInputError,
    BatchRequest,
    BatchStatus,
    BatchWaitTimeout,
    InputLimits,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    PartialSubmitError,
    RetryPolicy,
)
from openai_batches_server import run_server

KEY = "sk-workflow"
BASE = "https://api.example.test/v1"
CHAT = "/v1/chat/completions"


def chat(custom_id: str, text: str = "hello") -> BatchRequest:
    return BatchRequest.chat(custom_id, model="gpt-4o-mini", messages=[{"role": "user", "content": text}])


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(sleep=self.sleep, async_sleep=self.async_sleep, clock=self.clock, random=lambda: 0.0)


def batch_body(status: str, completed: int = 0, failed: int = 0, total: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "id": "batch_1",
        "object": "batch",
        "endpoint": CHAT,
        "input_file_id": "file-in",
        "completion_window": "24h",
        "status": status,
        "created_at": 1,
        "request_counts": {"total": total, "completed": completed, "failed": failed},
        **extra,
    }


def scripted(*bodies: dict[str, Any] | int) -> tuple[list[httpx.Request], httpx.MockTransport]:
    """Answers the n-th request with the n-th entry (an int is an error status); the last repeats."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        entry = bodies[min(len(seen), len(bodies)) - 1]
        if isinstance(entry, int):
            return httpx.Response(entry, json={"error": {"message": "busy", "type": "server_error"}})
        return httpx.Response(200, json=entry)

    return seen, httpx.MockTransport(handler)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


# ---- wait ---------------------------------------------------------------------------------------------------------


def test_wait_reports_each_change_once_and_backs_off_while_nothing_moves() -> None:
    time = FakeTime()
    seen, transport = scripted(
        batch_body("validating"),
        batch_body("validating"),
        batch_body("validating"),
        batch_body("in_progress", 1),
        batch_body("in_progress", 1),
        batch_body("in_progress", 3, 1),
        batch_body("completed", 3, 1, output_file_id="file-out"),
    )
    updates: list[tuple[str, int]] = []
    client = BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport), retry_policy=time.policy()
    )
    final = client.batches.wait(
        "batch_1",
        poll_interval=2,
        max_poll_interval=3,
        on_update=lambda b: updates.append((b.status, b.request_counts.completed)),
    )
    assert final.status == BatchStatus.COMPLETED
    assert updates == [("validating", 0), ("in_progress", 1), ("in_progress", 3), ("completed", 3)]
    assert len(seen) == 7
    assert all(r.url.path == "/v1/batches/batch_1" for r in seen)
    # Unchanged polls back off by 1.5x up to the cap; a change resets to the poll interval.
    assert time.sleeps == [2.0, 3.0, 3.0, 2.0, 3.0, 2.0]


def test_wait_backs_off_while_a_batch_moves_but_not_past_its_expected_end() -> None:
    time = FakeTime()
    steady = [batch_body("in_progress", done, total=1000) for done in range(0, 1001, 100)]
    seen, transport = scripted(*steady, batch_body("completed", 1000, total=1000))
    client = BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport), retry_policy=time.policy()
    )
    final = client.batches.wait("batch_1", poll_interval=1, max_poll_interval=60)
    assert final.status == BatchStatus.COMPLETED
    assert len(seen) == 12
    # Moving at a steady pace, the pause grows by half each poll (a day-long batch is not polled every second) ...
    assert time.sleeps[:9] == pytest.approx(
        [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 11.390625, 17.0859375, 25.62890625]
    )
    # ... but never past the moment the batch should be done at that pace: 100 left at 100 per 25.6 s.
    assert time.sleeps[9] == pytest.approx(25.62890625)
    # Every request done while still in_progress: finalizing is near, look again after the shortest pause.
    assert time.sleeps[10] == 1.0


def test_wait_uses_a_short_first_pause_by_default() -> None:
    time = FakeTime()
    _, transport = scripted(batch_body("validating"), batch_body("completed", 4))
    client = BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport), retry_policy=time.policy()
    )
    assert client.batches.wait("batch_1").status == BatchStatus.COMPLETED
    assert time.sleeps == [1.0]


def test_wait_times_out_with_the_last_batch_seen() -> None:
    time = FakeTime()
    _, transport = scripted(batch_body("in_progress", 1))
    client = BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport), retry_policy=time.policy()
    )
    with pytest.raises(BatchWaitTimeout) as caught:
        client.batches.wait("batch_1", poll_interval=4, max_poll_interval=4, timeout=10)
    assert caught.value.batch is not None and caught.value.batch.status == BatchStatus.IN_PROGRESS
    assert caught.value.elapsed == pytest.approx(10)
    assert "batch_1" in str(caught.value) and "in_progress" in str(caught.value)
    assert time.sleeps == [4.0, 4.0, 2.0]  # never sleeps past the deadline
    assert isinstance(caught.value, TimeoutError)


def test_wait_rides_out_a_few_failed_polls_then_gives_up() -> None:
    time = FakeTime()
    _, transport = scripted(500, 500, batch_body("completed", 4))
    client = BatchClient(
        api_key=KEY,
        base_url=BASE,
        http_client=httpx.Client(transport=transport),
        retry_policy=time.policy(),
        max_retries=0,
    )
    assert client.batches.wait("batch_1", poll_interval=1).status == BatchStatus.COMPLETED

    _, failing = scripted(500)
    client = BatchClient(
        api_key=KEY,
        base_url=BASE,
        http_client=httpx.Client(transport=failing),
        retry_policy=time.policy(),
        max_retries=0,
    )
    with pytest.raises(InternalServerError):
        client.batches.wait("batch_1", poll_interval=1)


def test_wait_does_not_ride_out_a_missing_batch() -> None:
    _, transport = scripted(404)
    client = BatchClient(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport), retry_policy=FakeTime().policy()
    )
    with pytest.raises(NotFoundError):
        client.batches.wait("batch_1")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"poll_interval": 10, "max_poll_interval": 5}, "max_poll_interval"),
        ({"timeout": -1}, "timeout"),
        ({"on_update": "print"}, "on_update"),
    ],
)
def test_wait_refuses_bad_settings_before_polling(kwargs: dict[str, Any], param: str) -> None:
    seen, transport = scripted(batch_body("completed"))
    client = BatchClient(api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport))
    with pytest.raises(InvalidParameterError) as caught:
        client.batches.wait("batch_1", **kwargs)
    assert caught.value.param == param
    assert seen == []


def test_async_wait_reports_changes_and_times_out() -> None:
    time = FakeTime()
    _, transport = scripted(batch_body("validating"), batch_body("in_progress", 2), batch_body("completed", 4))

    async def main() -> None:
        updates: list[str] = []
        async with AsyncBatchClient(
            api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=transport), retry_policy=time.policy()
        ) as client:
            final = await client.batches.wait("batch_1", poll_interval=1, on_update=lambda b: updates.append(b.status))
            assert final.status == BatchStatus.COMPLETED
            assert updates == ["validating", "in_progress", "completed"]

    _, stuck = scripted(batch_body("in_progress"))
    asyncio.run(main())
    assert time.sleeps == [1.0, 1.0]
    time.sleeps.clear()

    async def stuck_main() -> None:
        async with AsyncBatchClient(
            api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=stuck), retry_policy=time.policy()
        ) as client:
            with pytest.raises(BatchWaitTimeout):
                await client.batches.wait("batch_1", poll_interval=1, timeout=3)

    asyncio.run(stuck_main())
    assert time.sleeps == [1.0, 1.5, 0.5]


def test_async_wait_paces_its_polls_like_the_sync_one() -> None:
    time = FakeTime()
    steady = [batch_body("in_progress", done, total=300) for done in range(0, 301, 100)]
    _, transport = scripted(*steady, batch_body("completed", 300, total=300))

    async def main() -> None:
        async with AsyncBatchClient(
            api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=transport), retry_policy=time.policy()
        ) as client:
            assert (await client.batches.wait("batch_1")).status == BatchStatus.COMPLETED

    asyncio.run(main())
    # 1 s first, then growing by half while moving, but capped where the batch should end (100 left at 100 per
    # 1.5 s: 1.5 s, not 2.25 s), and short again once every request is done.
    assert time.sleeps == pytest.approx([1.0, 1.5, 1.5, 1.0])


def test_wait_against_the_local_server(server: Any) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batch = client.batches.submit([chat(f"q-{i}") for i in range(3)], endpoint=CHAT)
        statuses: list[str] = []
        final = client.batches.wait(batch, poll_interval=0.01, on_update=lambda b: statuses.append(b.status))
        assert final.status == BatchStatus.COMPLETED
        assert statuses[-1] == "completed"
        assert len(statuses) == len({(s, i) for i, s in enumerate(statuses)})


# ---- submit -------------------------------------------------------------------------------------------------------


def test_submit_from_requests_path_and_builder(server: Any, tmp_path: Path) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        from_list = client.batches.submit(
            [
                chat("a"),
                {
                    "custom_id": "b",
                    "method": "POST",
                    "url": CHAT,
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                },
            ],
            endpoint=CHAT,
            metadata={"k": "v"},
        )
        assert from_list.metadata is not None and from_list.metadata["k"] == "v"
        built = BatchInput(CHAT)
        built.add(chat("c"))
        path = built.write(tmp_path / "in.jsonl")
        from_path = client.batches.submit(path, endpoint=CHAT)
        from_builder = client.batches.submit(built, endpoint=CHAT)
        uploaded = client.files.retrieve(from_path.input_file_id)
        assert uploaded.filename == "in.jsonl" and uploaded.purpose == "batch"
        for batch in (from_list, from_path, from_builder):
            final = client.batches.wait(batch, poll_interval=0.01)
            assert final.status == BatchStatus.COMPLETED, final.errors


def test_submit_refuses_bad_requests_before_uploading(server: Any, tmp_path: Path) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(BatchInputError) as caught:
            client.batches.submit([chat("a"), chat("a")], endpoint=CHAT)
        assert caught.value.reason == "duplicate_custom_id"
        with pytest.raises(BatchInputError):
            client.batches.submit([chat("a")], endpoint="/v1/embeddings")
        with pytest.raises(BatchInputError) as too_many:
            client.batches.submit([chat(str(i)) for i in range(3)], endpoint=CHAT, limits=InputLimits(max_requests=2))
        assert too_many.value.reason == "too_many_requests"
        with pytest.raises(InvalidParameterError) as bad_metadata:
            client.batches.submit([chat("a")], endpoint=CHAT, metadata={"k": 1})  # type: ignore[dict-item]
        assert bad_metadata.value.param == "metadata"
        (tmp_path / "empty.jsonl").write_text("")
        with pytest.raises(InvalidParameterError):
            client.batches.submit(tmp_path / "empty.jsonl", endpoint=CHAT)
        assert [f.id for f in client.files.list()] == []


def test_submit_many_shards_and_reports_partial_failure(server: Any) -> None:
    requests = [chat(f"q-{i}") for i in range(5)]
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batches = client.batches.submit_many(
            requests, endpoint=CHAT, limits=InputLimits(max_requests=2), idempotency_key="run-1"
        )
        assert len(batches) == 3
        assert [b.request_counts.total for b in (client.batches.wait(b, poll_interval=0.01) for b in batches)] == [
            2,
            2,
            1,
        ]
        again = client.batches.submit_many(
            requests, endpoint=CHAT, limits=InputLimits(max_requests=2), idempotency_key="run-1"
        )
        assert [b.id for b in again] == [b.id for b in batches]

    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/files"):
            return httpx.Response(
                200,
                json={
                    "id": f"file-{calls['n']}",
                    "object": "file",
                    "bytes": 1,
                    "created_at": 1,
                    "filename": "x",
                    "purpose": "batch",
                    "status": "processed",
                },
            )
        calls["n"] += 1
        if calls["n"] == 2:
            return httpx.Response(400, json={"error": {"message": "quota", "type": "invalid_request_error"}})
        return httpx.Response(200, json={**batch_body("validating"), "id": f"batch_{calls['n']}"})

    client = BatchClient(api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(flaky)))
    with pytest.raises(PartialSubmitError) as caught:
        client.batches.submit_many(requests, endpoint=CHAT, limits=InputLimits(max_requests=2))
    assert [b.id for b in caught.value.batches] == ["batch_1"]


# ---- results ------------------------------------------------------------------------------------------------------


def test_results_merge_output_and_error_files_and_report_missing_ids(server: Any) -> None:
    requests = [chat("q-0", "one"), chat("fail-1"), chat("q-2", "three")]
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batch = client.batches.wait(client.batches.submit(requests, endpoint=CHAT), poll_interval=0.01)
        streamed = list(client.batches.results(batch))
        assert sorted(r.custom_id for r in streamed) == ["fail-1", "q-0", "q-2"]
        assert [r.custom_id for r in streamed][-1] == "fail-1"  # output file first, then the error file
        by_id = client.batches.results_by_custom_id(batch.id)
        assert by_id.expected_known and by_id.missing == frozenset()
        assert by_id["q-0"].ok and by_id["q-0"].text is not None and "one" in by_id["q-0"].text
        assert by_id["q-0"].chat_completion() is not None and by_id["q-0"].request_id
        failed = by_id["fail-1"]
        assert not failed.ok and failed.error is not None and failed.status_code == 400 and failed.text is None
        assert set(by_id.succeeded) == {"q-0", "q-2"} and set(by_id.failed) == {"fail-1"}
        extra = client.batches.results_by_custom_id(batch, expected=["q-0", "q-2", "fail-1", "never-sent"])
        assert extra.missing == frozenset({"never-sent"})


def test_results_of_a_failed_batch_without_output_file(server: Any) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        bad = json.dumps({"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {}}) + "\n"
        upload = client.files.create(file=bad.encode())
        batch = client.batches.wait(client.batches.create(input_file_id=upload.id, endpoint=CHAT), poll_interval=0.01)
        assert batch.status == BatchStatus.FAILED
        assert list(client.batches.results(batch)) == []
        report = client.batches.results_by_custom_id(batch)
        assert len(report) == 0 and report.missing == frozenset({"x"})


def test_results_of_a_cancelled_batch_are_partial(tmp_path: Path) -> None:
    requests = [chat(f"q-{i}") for i in range(100)]
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0.01) as slow,
        BatchClient(api_key=KEY, base_url=slow.base_url) as client,
    ):
        batch = client.batches.submit(requests, endpoint=CHAT)
        deadline = time.monotonic() + 20
        while (status := client.batches.retrieve(batch.id).status) != BatchStatus.IN_PROGRESS:
            assert status == BatchStatus.VALIDATING and time.monotonic() < deadline, status
        batch = client.batches.wait(client.batches.cancel(batch.id), poll_interval=0.01)
        assert batch.status == BatchStatus.CANCELLED
        report = client.batches.results_by_custom_id(batch)
        done = batch.request_counts.completed
        assert len(report.succeeded) == done < 100
        assert len(report.missing) + len(report) == 100


def test_results_of_an_expired_batch_are_partial(tmp_path: Path) -> None:
    requests = [chat(f"q-{i}") for i in range(200)]
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0.02, completion_window_seconds=2) as short,
        BatchClient(api_key=KEY, base_url=short.base_url) as client,
    ):
        batch = client.batches.wait(client.batches.submit(requests, endpoint=CHAT), poll_interval=0.05)
        assert batch.status == BatchStatus.EXPIRED
        report = client.batches.results_by_custom_id(batch)
        assert 0 < len(report.succeeded) < 200
        assert report.missing == frozenset(f"q-{i}" for i in range(200)) - set(report.succeeded) - set(report.failed)


def _result_line(i: int) -> bytes:
    body = {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x" * 200}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60},
    }
    record = {
        "id": f"batch_req_{i}",
        "custom_id": f"r-{i}",
        "response": {"status_code": 200, "request_id": f"req_{i}", "body": body},
        "error": None,
    }
    return json.dumps(record).encode() + b"\n"


def test_results_of_a_large_file_stream_with_flat_memory() -> None:
    lines = 120_000  # about 60 MB

    def body() -> Iterator[bytes]:
        chunk: list[bytes] = []
        for i in range(lines):
            chunk.append(_result_line(i))
            if len(chunk) == 200:
                yield b"".join(chunk)
                chunk = []
        yield b"".join(chunk)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/content"):
            return httpx.Response(200, stream=httpx.ByteStream(b"") if False else _Stream(body()))
        return httpx.Response(200, json=batch_body("completed", lines, total=lines, output_file_id="file-out"))

    client = BatchClient(api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    tracemalloc.start()
    try:
        count = 0
        for result in client.batches.results("batch_1"):
            count += result.ok
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines
    assert peak < 20 * 1024 * 1024, peak


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def test_async_results_and_submit(server: Any) -> None:
    async def main() -> None:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            batch = await client.batches.submit([chat("a"), chat("fail-b")], endpoint=CHAT)
            batch = await client.batches.wait(batch, poll_interval=0.01)
            ids = [r.custom_id async for r in client.batches.results(batch)]
            assert sorted(ids) == ["a", "fail-b"]
            report = await client.batches.results_by_custom_id(batch.id)
            assert set(report.succeeded) == {"a"} and report.missing == frozenset()
            many = await client.batches.submit_many(
                [chat(f"m-{i}") for i in range(3)], endpoint=CHAT, limits=InputLimits(max_requests=2)
            )
            assert len(many) == 2

    asyncio.run(main())


def test_typed_bodies_for_responses_and_embeddings(server: Any) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        responses = client.batches.submit(
            [BatchRequest.responses("r", model="m", input="say hi")], endpoint="/v1/responses"
        )
        (result,) = client.batches.results(client.batches.wait(responses, poll_interval=0.01))
        typed = result.response()
        assert typed is not None and typed.output_text and result.text == typed.output_text
        assert result.chat_completion() is None and result.embeddings() is None
        embeddings = client.batches.submit(
            [BatchRequest.embeddings("e", model="m", input=["a", "b"])], endpoint="/v1/embeddings"
        )
        (vectors,) = client.batches.results(client.batches.wait(embeddings, poll_interval=0.01))
        typed_vectors = vectors.embeddings()
        assert typed_vectors is not None and len(typed_vectors.vectors) == 2
        assert all(isinstance(x, float) for x in typed_vectors.vectors[0])
        assert vectors.text is None and isinstance(vectors.body, dict)


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


def test_batch_type_is_returned(server: Any) -> None:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        assert isinstance(client.batches.submit([chat("a")], endpoint=CHAT), Batch)
