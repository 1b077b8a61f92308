"""Results as tables: the rows and types of `job.to_arrow()` and its kin, `client.batches.results_table()`, the CLI's
`job results --format`, and the error naming the extra when a library is missing.

pyarrow, pandas and polars are imported here unguarded: the dev install has them, so a missing one fails this
module instead of skipping it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from jobs_support import FakeService, core_for, current, drive, line, new_job
from openai_batches import AsyncBatchClient, BatchClient, MissingDependencyError
from openai_batches.cli import main
from openai_batches.jobs import Job
from openai_batches.results import parse_result_line
from openai_batches.tables import COLUMNS, record_batches, to_table
from openai_batches_server import LocalServer, run_server

KEY = "sk-tables-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.2}
ROOT = Path(__file__).resolve().parent.parent

SCHEMA = [
    ("custom_id", pa.string()),
    ("input_line", pa.int64()),
    ("status_code", pa.int64()),
    ("ok", pa.bool_()),
    ("error_code", pa.string()),
    ("error_message", pa.string()),
    ("model", pa.string()),
    ("text", pa.string()),
    ("finish_reason", pa.string()),
    ("input_tokens", pa.int64()),
    ("cached_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("reasoning_tokens", pa.int64()),
    ("batch_id", pa.string()),
    ("attempt", pa.int64()),
    ("body", pa.string()),
]


def result_line(custom_id: str, status: int | None, body: dict[str, Any] | None, error: Any = None) -> bytes:
    response = None if status is None else {"status_code": status, "request_id": "req_1", "body": body}
    record = {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": response, "error": error}
    return json.dumps(record).encode()


def rows_of(*lines: bytes) -> list[dict[str, Any]]:
    results = [parse_result_line(raw, number) for number, raw in enumerate(lines, start=1)]
    table = to_table((result, number, None, "batch_x", 1) for number, result in enumerate(results, start=1) if result)
    assert [(field.name, field.type) for field in table.schema] == SCHEMA
    return table.to_pylist()


# --- one row per kind of body -------------------------------------------------------------------------------------


def test_the_schema_is_fixed_and_typed() -> None:
    assert [name for name, _ in COLUMNS] == [name for name, _ in SCHEMA]
    table = to_table([])
    assert table.num_rows == 0 and [(f.name, f.type) for f in table.schema] == SCHEMA
    assert {f.name for f in table.schema if not f.nullable} == {"custom_id", "ok"}


def test_a_chat_completion_row() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 20,
            "completion_tokens": 3,
            "total_tokens": 23,
            "prompt_tokens_details": {"cached_tokens": 16},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
    (row,) = rows_of(result_line("a", 200, body))
    assert row == {
        "custom_id": "a",
        "input_line": 1,
        "status_code": 200,
        "ok": True,
        "error_code": None,
        "error_message": None,
        "model": "gpt-4o-mini-2024-07-18",  # no input known here: the body's model
        "text": "Paris.",
        "finish_reason": "stop",
        "input_tokens": 20,
        "cached_tokens": 16,
        "output_tokens": 3,
        "reasoning_tokens": 0,
        "batch_id": "batch_x",
        "attempt": 1,
        "body": row["body"],
    }
    assert json.loads(row["body"]) == body


def test_a_refusal_and_a_tool_call_have_no_text() -> None:
    refusal = {"choices": [{"message": {"content": None, "refusal": "I can't."}, "finish_reason": "stop"}]}
    call = {
        "choices": [
            {
                "message": {"content": None, "tool_calls": [{"id": "c", "type": "function", "function": {}}]},
                "finish_reason": "tool_calls",
            }
        ]
    }
    rows = rows_of(result_line("r", 200, refusal), result_line("t", 200, call))
    assert [(row["text"], row["finish_reason"], row["ok"]) for row in rows] == [
        (None, "stop", True),
        (None, "tool_calls", True),
    ]


def test_a_response_row_joins_its_output_text_and_reads_why_it_stopped() -> None:
    usage = {
        "input_tokens": 30,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 50,
        "output_tokens_details": {"reasoning_tokens": 40},
        "total_tokens": 80,
    }
    complete = {
        "object": "response",
        "model": "o4-mini",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hello, "}, {"type": "output_text", "text": "world."}],
            },
        ],
        "usage": usage,
    }
    cut = {
        "object": "response",
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hel"}]}],
    }
    refused = {
        "object": "response",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}],
    }
    called = {"status": "completed", "output": [{"type": "function_call", "name": "f", "arguments": "{}"}]}
    rows = rows_of(*(result_line(name, 200, body) for name, body in (("c", complete), ("i", cut), ("r", refused))))
    rows += rows_of(result_line("f", 200, called))
    assert [(row["text"], row["finish_reason"]) for row in rows] == [
        ("Hello, world.", "completed"),
        ("Hel", "max_output_tokens"),
        (None, "completed"),
        (None, "completed"),
    ]
    assert [rows[0][name] for name in ("input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens")] == [
        30,
        4,
        50,
        40,
    ]
    assert rows[0]["model"] == "o4-mini"


def test_an_embeddings_row_has_input_tokens_and_no_text() -> None:
    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}],
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    }
    (row,) = rows_of(result_line("e", 200, body))
    assert (row["text"], row["finish_reason"], row["input_tokens"], row["output_tokens"]) == (None, None, 7, None)
    assert json.loads(row["body"])["data"][0]["embedding"] == [0.1, -0.2]


def test_failed_lines_a_status_400_and_an_error_file_line() -> None:
    error_body = {"error": {"message": "Invalid model", "type": "invalid_request_error", "code": "model_not_found"}}
    expired = {"code": "batch_expired", "message": "This request could not be executed before the batch expired."}
    rows = rows_of(result_line("bad", 400, error_body), result_line("late", None, None, expired))
    assert [(row["status_code"], row["ok"], row["error_code"], row["error_message"], row["text"]) for row in rows] == [
        (400, False, "model_not_found", "Invalid model", None),
        (None, False, "batch_expired", expired["message"], None),
    ]
    assert json.loads(rows[0]["body"]) == error_body and rows[1]["body"] is None


def test_rows_come_in_record_batches_of_bounded_size() -> None:
    body = {"choices": [{"message": {"content": "x"}}]}
    results = [parse_result_line(result_line(f"r{i}", 200, body), i) for i in range(10)]
    sources = ((result, i, None, None, None) for i, result in enumerate(results) if result is not None)
    assert [batch.num_rows for batch in record_batches(sources, rows_per_batch=3)] == [3, 3, 3, 1]


# --- a job -------------------------------------------------------------------------------------------------------


def answer(custom_id: str, attempt: int) -> int | None:
    """r1 fails with 500 on its first attempt only; r2 is refused with 400 (final); r3 never gets a result."""
    return {"r1": 500 if attempt == 1 else 200, "r2": 400, "r3": None}.get(custom_id, 200)


@pytest.fixture
def finished_job(tmp_path: Path) -> Job:
    store, _ = new_job(tmp_path, [line(f"r{i}", model="gpt-4o-mini" if i % 2 else "gpt-4.1") for i in range(5)])
    drive(core_for(store, tmp_path), FakeService(tmp_path / "service", answer=answer))
    job = current(store, tmp_path)
    store.close()
    assert (job.status, job.succeeded, job.failed, job.missing) == ("completed", 3, 1, 1)
    return job


def test_a_jobs_rows_say_which_batch_and_attempt_each_result_came_from(finished_job: Job) -> None:
    table = finished_job.to_arrow()
    assert [(field.name, field.type) for field in table.schema] == SCHEMA
    rows = {row["custom_id"]: row for row in table.to_pylist()}
    assert list(rows) == ["r0", "r1", "r2", "r3", "r4"], "input order"
    assert [row["input_line"] for row in rows.values()] == [1, 2, 3, 4, 5]
    assert [row["model"] for row in rows.values()] == ["gpt-4.1", "gpt-4o-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4.1"]
    assert (rows["r0"]["ok"], rows["r0"]["status_code"], rows["r0"]["attempt"]) == (True, 200, 1)
    # Retried: the 500 of attempt 1 gave way to the 200 of attempt 2, from a batch of its own.
    assert (rows["r1"]["ok"], rows["r1"]["status_code"], rows["r1"]["attempt"]) == (True, 200, 2)
    assert rows["r1"]["batch_id"] not in (rows["r0"]["batch_id"], rows["r3"]["batch_id"], None)
    assert (rows["r2"]["ok"], rows["r2"]["status_code"], rows["r2"]["error_message"]) == (False, 400, "status 400")
    assert rows["r2"]["attempt"] == 1 and json.loads(rows["r2"]["body"])["error"]["message"] == "status 400"
    # No result after every attempt (3): the row says so, placed in the last batch that held the request.
    missing = rows["r3"]
    assert (missing["ok"], missing["status_code"], missing["error_code"], missing["body"]) == (
        False,
        None,
        "no_result",
        None,
    )
    assert missing["attempt"] == 3 and missing["batch_id"] is not None
    assert [r.custom_id for r in finished_job.results()] == table.column("custom_id").to_pylist()


def test_pending_and_cancelled_requests_are_rows_with_their_code(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(3)])
    pending = current(store, tmp_path).to_arrow().to_pylist()
    assert [(row["error_code"], row["ok"], row["batch_id"], row["attempt"]) for row in pending] == [
        ("pending", False, None, None)
    ] * 3
    assert {row["model"] for row in pending} == {"gpt-4o-mini"}
    with (
        run_server(tmp_path / "data", api_keys=[KEY], tick=0) as server,
        BatchClient(api_key=KEY, base_url=server.base_url) as client,
    ):
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(line(f"c{i}")) + "\n" for i in range(3)))
        client.jobs.create("stopped", path, state_dir=tmp_path / "s")
        job = client.jobs.cancel("stopped", wait=True, state_dir=tmp_path / "s")
    assert job.status == "cancelled"
    rows = job.to_arrow().to_pylist()
    assert [(row["custom_id"], row["error_code"], row["ok"]) for row in rows] == [
        (f"c{i}", "cancelled", False) for i in range(3)
    ]
    store.close()


def test_pandas_and_polars_frames_keep_the_types(finished_job: Job) -> None:
    frame = finished_job.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == [name for name, _ in SCHEMA]
    dtypes = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert dtypes["custom_id"] == dtypes["text"] == dtypes["body"] == "string"
    assert dtypes["status_code"] == dtypes["input_tokens"] == dtypes["attempt"] == "Int64"
    assert dtypes["ok"] == "boolean"
    assert frame["status_code"].isna().sum() == 1 and frame.loc[3, "status_code"] is pd.NA
    assert frame["ok"].tolist() == [True, True, False, False, True]

    polars = finished_job.to_polars()
    assert isinstance(polars, pl.DataFrame) and polars.columns == [name for name, _ in SCHEMA]
    assert polars.schema["custom_id"] == pl.String and polars.schema["status_code"] == pl.Int64
    assert polars.schema["ok"] == pl.Boolean and polars["status_code"].null_count() == 1
    assert polars.filter(pl.col("attempt") == 2)["custom_id"].to_list() == ["r1"]


def test_parquet_and_csv_round_trip(finished_job: Job, tmp_path: Path) -> None:
    target = tmp_path / "out" / "results.parquet"
    target.parent.mkdir()
    assert finished_job.write_parquet(target) == 5
    assert pq.read_table(target).equals(finished_job.to_arrow())
    assert pq.read_schema(target).equals(finished_job.to_arrow().schema)
    written = tmp_path / "out" / "results.csv"
    assert finished_job.write_csv(written) == 5
    assert sorted(path.name for path in target.parent.iterdir()) == ["results.csv", "results.parquet"], "renamed"
    with written.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [name for name, _ in SCHEMA]
    assert [(row["custom_id"], row["ok"], row["status_code"], row["attempt"]) for row in rows] == [
        ("r0", "true", "200", "1"),
        ("r1", "true", "200", "2"),
        ("r2", "false", "400", "1"),
        ("r3", "false", "", "3"),
        ("r4", "true", "200", "1"),
    ]
    assert json.loads(rows[0]["body"]) == {"echo": "r0"}


# --- a job against the local server, run from sync and async code -------------------------------------------------


def chat_line(custom_id: str, text: str) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def run_job(mode: str, server: LocalServer, name: str, path: Path, state: Path, **settings: Any) -> Job:
    if mode == "sync":
        with BatchClient(api_key=KEY, base_url=server.base_url) as client:
            return client.jobs.run(client.jobs.create(name, path, state_dir=state, **settings), **FAST)

    async def go() -> Job:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            return await client.jobs.run(await client.jobs.create(name, path, state_dir=state, **settings), **FAST)

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_job_against_the_local_server(mode: str, tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data",
        api_keys=[KEY],
        tick=0,
        ignore_idempotency_key=True,
        line_failure_rate=0.2,
        line_failure_status=500,
        line_failure_attempts=1,
    ) as server:
        lines = [chat_line(f"q{i}", f"question number {i}") for i in range(60)] + [chat_line("fail-x", "no")]
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(item) + "\n" for item in lines))
        job = run_job(mode, server, "eval", path, tmp_path / "state", max_batch_requests=20, max_attempts=3)
        with BatchClient(api_key=KEY, base_url=server.base_url) as client:
            attempt_of = {batch.id: int(batch.metadata["attempt"]) for batch in client.batches.list(limit=100)}
    assert (job.succeeded, job.failed) == (60, 1)
    rows = job.to_arrow().to_pylist()
    assert [row["custom_id"] for row in rows] == [item["custom_id"] for item in lines]
    assert [row["input_line"] for row in rows] == list(range(1, 62))
    retried = [row for row in rows if row["attempt"] == 2]
    assert 3 <= len(retried) <= 30, "about a fifth of the lines failed on their first attempt"
    assert job.summary().retried == len(retried)
    assert all(attempt_of[row["batch_id"]] == row["attempt"] for row in rows), "each row's batch made that attempt"
    ok = rows[0]
    assert (ok["ok"], ok["status_code"], ok["text"], ok["finish_reason"]) == (
        True,
        200,
        "Echo: question number 0",
        "stop",
    )
    assert ok["model"] == "gpt-4o-mini" and ok["input_tokens"] > 0 and ok["output_tokens"] > 0
    failed = rows[-1]
    assert (failed["ok"], failed["status_code"], failed["text"], failed["attempt"]) == (False, 400, None, 1)
    assert "Failed on purpose" in failed["error_message"]


@pytest.mark.parametrize(("endpoint", "body"), [("/v1/responses", {"input": "hi there"}), ("/v1/embeddings", {})])
def test_responses_and_embeddings_jobs(endpoint: str, body: dict[str, Any], tmp_path: Path) -> None:
    model = "text-embedding-3-small" if endpoint == "/v1/embeddings" else "gpt-4o-mini"
    lines = [
        {"custom_id": f"x{i}", "method": "POST", "url": endpoint, "body": {"model": model, "input": f"hi {i}", **body}}
        for i in range(3)
    ]
    lines[2]["body"]["max_output_tokens"] = 1
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as server:
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(item) + "\n" for item in lines))
        job = run_job("sync", server, "shapes", path, tmp_path / "state")
    rows = job.to_arrow().to_pylist()
    assert all(row["ok"] and row["model"] == model and row["input_tokens"] for row in rows)
    if endpoint == "/v1/embeddings":
        assert [(row["text"], row["finish_reason"], row["output_tokens"]) for row in rows] == [(None, None, None)] * 3
        assert len(json.loads(rows[0]["body"])["data"][0]["embedding"]) > 0
    else:
        assert [row["text"] for row in rows[:2]] == ["Echo: hi there", "Echo: hi there"]
        assert [row["finish_reason"] for row in rows] == ["completed", "completed", "max_output_tokens"]
        assert rows[2]["text"] == "Echo:"
        assert all(row["reasoning_tokens"] == 0 and row["cached_tokens"] == 0 for row in rows)


# --- the command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(finished_job: Job, monkeypatch: pytest.MonkeyPatch) -> Job:
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(finished_job.state_dir))
    return finished_job


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_job_results_as_csv_and_parquet(cli_env: Job, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "job", "results", "job")
    assert code == 0 and [json.loads(item)["custom_id"] for item in out.splitlines()] == [f"r{i}" for i in range(5)]

    target = tmp_path / "results.parquet"
    code, out, err = cli(capsys, "job", "results", "job", "--format", "parquet", "-o", str(target))
    assert (code, err) == (0, "")
    assert out == f"wrote 5 results to {target}: 3 succeeded, 1 failed, 1 without a result from the service\n"
    assert pq.read_table(target).equals(cli_env.to_arrow())

    target = tmp_path / "results.csv"
    code, out, _ = cli(capsys, "job", "results", "job", "--format", "csv", "-o", str(target), "--json")
    assert code == 0 and json.loads(out) == {
        "name": "job",
        "path": str(target),
        "format": "csv",
        "results": 5,
        "succeeded": 3,
        "failed": 1,
        "without_result": 1,
    }
    written = target.read_text(encoding="utf-8")
    code, out, _ = cli(capsys, "job", "results", "job", "--format", "csv")
    assert code == 0 and out == written and out.splitlines()[0].startswith("custom_id,input_line,status_code,ok,")

    code, _, err = cli(capsys, "job", "results", "job", "--format", "parquet")
    assert code == 2 and "-o FILE" in err
    code, _, err = cli(capsys, "job", "results", "job", "--format", "xml")
    assert code == 2 and "invalid choice" in err


def test_job_results_of_an_unfinished_job_exit_7_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store, _ = new_job(tmp_path, [line("r0")])
    store.close()
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
    for form in ("jsonl", "csv", "parquet"):
        code, _, err = cli(capsys, "job", "results", "job", "--format", form, "-o", str(tmp_path / f"x.{form}"))
        assert code == 7 and "requests pending" in err, form
        assert not (tmp_path / f"x.{form}").exists()


# --- one batch ---------------------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        yield running


def check_batch_table(table: pa.Table, batch_id: str) -> None:
    assert [(field.name, field.type) for field in table.schema] == SCHEMA
    rows = table.to_pylist()
    # Sorted by input line although the error file (fail-1) comes after the output file.
    assert [(row["custom_id"], row["input_line"]) for row in rows] == [("q-0", 1), ("fail-1", 2), ("q-2", 3)]
    assert {(row["batch_id"], row["attempt"], row["model"]) for row in rows} == {(batch_id, 1, "gpt-4o-mini")}
    assert [(row["ok"], row["status_code"]) for row in rows] == [(True, 200), (False, 400), (True, 200)]
    assert rows[0]["text"] == "Echo: one" and rows[1]["text"] is None and rows[1]["error_message"]


def test_results_table_of_one_batch_sync_and_async(server: LocalServer) -> None:
    requests = [chat_line("q-0", "one"), chat_line("fail-1", "two"), chat_line("q-2", "three")]
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batch = client.batches.wait(client.batches.submit(requests, endpoint=CHAT), poll_interval=0.01)
        check_batch_table(client.batches.results_table(batch), batch.id)
        check_batch_table(client.batches.results_table(batch.id), batch.id)

    async def go() -> None:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            check_batch_table(await client.batches.results_table(batch.id), batch.id)
            check_batch_table(await client.batches.results_table(batch), batch.id)

    asyncio.run(go())


def scripted_batch(status: str, *, input_gone: bool) -> httpx.MockTransport:
    """A batch of three requests of which only b has a result so far (c's input line is blank-separated)."""
    inputs = (json.dumps(chat_line("a", "x")) + "\n\n" + json.dumps(chat_line("c", "z")) + "\n").encode()
    inputs = json.dumps(chat_line("b", "y")).encode() + b"\n" + inputs
    output = result_line("b", 200, {"model": "gpt-4o-mini-2024", "choices": [{"message": {"content": "B"}}]}) + b"\n"
    batch = {
        "id": "batch_1",
        "object": "batch",
        "endpoint": CHAT,
        "input_file_id": "file-in",
        "completion_window": "24h",
        "status": status,
        "output_file_id": "file-out",
        "created_at": 1,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batches/batch_1"):
            return httpx.Response(200, json=batch)
        if request.url.path.endswith("/files/file-out/content"):
            return httpx.Response(200, content=output)
        if request.url.path.endswith("/files/file-in/content"):
            if input_gone:
                return httpx.Response(404, json={"error": {"message": "No such file", "type": "invalid_request_error"}})
            return httpx.Response(200, content=inputs)
        return httpx.Response(500)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_results_table_adds_the_requests_without_a_result(mode: str) -> None:
    def table_of(status: str, input_gone: bool = False) -> list[dict[str, Any]]:
        transport = scripted_batch(status, input_gone=input_gone)
        if mode == "sync":
            with BatchClient(api_key=KEY, http_client=httpx.Client(transport=transport)) as client:
                return client.batches.results_table("batch_1").to_pylist()

        async def go() -> list[dict[str, Any]]:
            async with AsyncBatchClient(api_key=KEY, http_client=httpx.AsyncClient(transport=transport)) as client:
                return (await client.batches.results_table("batch_1")).to_pylist()

        return asyncio.run(go())

    running = table_of("in_progress")
    assert [(row["custom_id"], row["input_line"], row["error_code"], row["model"]) for row in running] == [
        ("b", 1, None, "gpt-4o-mini"),
        ("a", 2, "pending", "gpt-4o-mini"),
        ("c", 4, "pending", "gpt-4o-mini"),
    ]
    assert [row["error_code"] for row in table_of("completed")] == [None, "no_result", "no_result"]
    assert [row["error_code"] for row in table_of("cancelled")] == [None, "cancelled", "cancelled"]
    # Without its input file: the rows the files hold, with the body's model and no input line.
    assert [(row["custom_id"], row["input_line"], row["model"]) for row in table_of("completed", True)] == [
        ("b", None, "gpt-4o-mini-2024")
    ]


# --- a library missing -------------------------------------------------------------------------------------------


BLOCKER = """
import importlib.abc
import sys


class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Blocked())
"""


def run_without(blocked: str, code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter where importing `blocked` fails as it does when it is not installed."""
    script = tmp_path / "without.py"
    script.write_text(f"BLOCKED = {blocked!r}\n" + BLOCKER + textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


CALLS = """
    from pathlib import Path
    from openai_batches import APIConnectionError, BatchClient, MissingDependencyError
    from openai_batches.jobs.api import read_job

    job = read_job("job", Path(sys.argv[0]).parent / "state")
    for name in ("to_arrow", "to_pandas", "to_polars", "write_parquet", "write_csv"):
        try:
            getattr(job, name)(*([str(Path(sys.argv[0]).parent / name)] if name.startswith("write") else []))
        except MissingDependencyError as exc:
            assert isinstance(exc, ImportError)
            print(name, exc.extra, exc)
        else:
            print(name, "ok")
    with BatchClient(api_key="sk-x", base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        try:
            client.batches.results_table("batch_1")
        except MissingDependencyError as exc:
            print("results_table", exc.extra, exc)
        except APIConnectionError:
            print("results_table sent")
"""


@pytest.mark.parametrize(
    ("blocked", "extras"),
    [
        ("pyarrow", {"to_arrow": "arrow", "to_pandas": "pandas", "to_polars": "polars", "write_parquet": "arrow"}),
        ("pandas", {"to_pandas": "pandas"}),
        ("polars", {"to_polars": "polars"}),
    ],
)
def test_a_missing_library_names_its_extra(blocked: str, extras: dict[str, str], finished_job: Job) -> None:
    done = run_without(blocked, CALLS, finished_job.state_dir.parent)
    assert done.returncode == 0, done.stderr
    printed = {item.split()[0]: item for item in done.stdout.splitlines()}
    for name in ("to_arrow", "to_pandas", "to_polars", "write_parquet", "write_csv"):
        if name in extras:
            extra = extras[name]
            assert printed[name].startswith(f"{name} {extra} "), printed[name]
            assert f"pip install '.[{extra}]' from the openai-batches repository folder" in printed[name]
            assert blocked in printed[name]
        else:
            assert printed[name] == f"{name} ok"
    if blocked == "pyarrow":
        # Refused before anything is sent: the base URL answers nothing, so a request would have failed otherwise.
        assert printed["results_table"].startswith("results_table arrow "), printed
    else:
        assert printed["results_table"] == "results_table sent"


def test_the_cli_without_pyarrow(finished_job: Job, tmp_path: Path) -> None:
    code = f"""
    from openai_batches.cli import main
    state = {str(finished_job.state_dir)!r}
    print(main(["job", "results", "job", "--state-dir", state, "--format", "parquet", "-o", "x.parquet"]))
    print(main(["job", "results", "job", "--state-dir", state, "--format", "csv", "-o", {str(tmp_path / "x.csv")!r}]))
    """
    done = run_without("pyarrow", code, tmp_path)
    assert done.stdout.splitlines()[0] == "2" and done.stdout.splitlines()[-1] == "0", done.stderr
    assert "pip install '.[arrow]' from the openai-batches repository folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "x.csv").read_text().startswith("custom_id,")


def test_missing_dependency_error_is_exported() -> None:
    assert issubclass(MissingDependencyError, ImportError)


# --- the jobs page's example (docs/jobs.md) ---------------------------------------------------------------------------


def test_the_readme_example_prints_what_it_says(tmp_path: Path) -> None:
    import test_readme as readme

    (block,) = [b for b in readme.runnable() if b.language == "python" and "results_table" in b.code]
    with readme.readme_server(tmp_path / "data") as running:
        done = readme.run_block(block, running, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["20 int64", "Echo: Say 0. Int64", "20", "True 20"]
    assert pq.read_table(tmp_path / "questions.parquet").num_rows == 20
