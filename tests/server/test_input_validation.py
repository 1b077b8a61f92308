"""A bad input file fails the batch during `validating`, with errors naming the 1-based line, as the service does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai_batches_server import Limits, LocalServer, run_server

from .support import CHAT, KEY, api_client, chat_line, create_batch, jsonl, run_batch, upload, wait_for


def errors_of(batch: dict[str, Any]) -> list[dict[str, Any]]:
    assert batch["status"] == "failed", batch
    assert batch["failed_at"] is not None and batch["failed_at"] >= batch["created_at"]
    assert batch["in_progress_at"] is None
    assert batch["output_file_id"] is None and batch["error_file_id"] is None
    assert batch["errors"]["object"] == "list"
    for error in batch["errors"]["data"]:
        assert set(error) == {"code", "message", "param", "line"}
    return list(batch["errors"]["data"])


def only_error(batch: dict[str, Any]) -> dict[str, Any]:
    errors = errors_of(batch)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_valid_file_passes(client: httpx.Client) -> None:
    assert run_batch(client, [chat_line("a"), chat_line("b")])["status"] == "completed"


@pytest.mark.parametrize(
    ("bad_line", "code", "param"),
    [
        (b"{not json", "invalid_json_line", None),
        (b'{"custom_id": "x", "method": "POST"', "invalid_json_line", None),
        (b"\xff\xfe not utf-8", "invalid_json_line", None),
        (b'["a", "list"]', "invalid_json_line", None),
        (b'"just a string"', "invalid_json_line", None),
        (json.dumps({"method": "POST", "url": CHAT, "body": {}}).encode(), "missing_required_parameter", "custom_id"),
        (json.dumps({"custom_id": "x", "url": CHAT, "body": {}}).encode(), "missing_required_parameter", "method"),
        (json.dumps({"custom_id": "x", "method": "POST", "body": {}}).encode(), "missing_required_parameter", "url"),
        (json.dumps({"custom_id": "x", "method": "POST", "url": CHAT}).encode(), "missing_required_parameter", "body"),
        (json.dumps({**chat_line("x"), "custom_id": 7}).encode(), "invalid_type", "custom_id"),
        (json.dumps({**chat_line("x"), "method": "GET"}).encode(), "invalid_method", "method"),
        (json.dumps({**chat_line("x"), "url": "/v1/embeddings"}).encode(), "invalid_url", "url"),
        (json.dumps({**chat_line("x"), "url": "/v1/chat/completions/"}).encode(), "invalid_url", "url"),
        (json.dumps({**chat_line("x"), "body": "text"}).encode(), "invalid_type", "body"),
        (json.dumps({**chat_line("x"), "body": None}).encode(), "invalid_type", "body"),
    ],
)
def test_each_kind_of_bad_line_is_reported_with_its_line_number(
    client: httpx.Client, bad_line: bytes, code: str, param: str | None
) -> None:
    content = jsonl([chat_line("a"), chat_line("b")]) + bad_line + b"\n" + jsonl([chat_line("c")])
    error = only_error(run_batch(client, content))
    assert error["code"] == code
    assert error["param"] == param
    assert error["line"] == 3
    assert error["message"]


def test_url_mismatch_uses_the_services_message(client: httpx.Client) -> None:
    error = only_error(run_batch(client, [{**chat_line("a"), "url": "/v1/completions"}]))
    assert error["message"] == "The URL provided for this request does not prefix-match the batch endpoint."


def test_duplicate_custom_id_names_the_second_occurrence(client: httpx.Client) -> None:
    error = only_error(run_batch(client, [chat_line("a"), chat_line("b"), chat_line("a")]))
    assert error == {
        "code": "duplicate_custom_id",
        "message": "The custom_id for this request is a duplicate of another request. "
        "The custom_id parameter must be unique for each request in a batch.",
        "param": "custom_id",
        "line": 3,
    }


def test_every_bad_line_is_reported_in_order(client: httpx.Client) -> None:
    content = b"\n".join(
        [
            json.dumps(chat_line("ok-1")).encode(),
            b"{broken",
            json.dumps({**chat_line("x"), "method": "PUT"}).encode(),
            json.dumps(chat_line("ok-1")).encode(),
            json.dumps(chat_line("ok-2")).encode(),
        ]
    )
    errors = errors_of(run_batch(client, content))
    assert [(e["line"], e["code"]) for e in errors] == [
        (2, "invalid_json_line"),
        (3, "invalid_method"),
        (4, "duplicate_custom_id"),
    ]


def test_blank_lines_are_skipped_but_counted_in_line_numbers(client: httpx.Client) -> None:
    content = jsonl([chat_line("a")]) + b"\n   \n" + b"{bad}\n\n"
    assert only_error(run_batch(client, content))["line"] == 4
    ok = run_batch(client, jsonl([chat_line("a")]) + b"\n\n" + jsonl([chat_line("b")]) + b"\n")
    assert ok["status"] == "completed"
    assert ok["request_counts"]["total"] == 2


def test_a_utf8_bom_and_crlf_line_ends_are_accepted(client: httpx.Client) -> None:
    content = b"\xef\xbb\xbf" + jsonl([chat_line("a")]).replace(b"\n", b"\r\n") + jsonl([chat_line("b")])
    assert run_batch(client, content)["request_counts"]["total"] == 2


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"], ids=["empty", "blank"])
def test_an_empty_file_fails(client: httpx.Client, content: bytes) -> None:
    error = only_error(run_batch(client, content))
    assert error["code"] == "empty_file"
    assert error["line"] is None


def test_all_requests_must_use_the_same_model(client: httpx.Client) -> None:
    error = only_error(run_batch(client, [chat_line("a"), chat_line("b", model="gpt-4o")]))
    assert (error["code"], error["line"], error["param"]) == ("mismatched_model", 2, "body.model")


def test_at_most_50000_requests(client: httpx.Client) -> None:
    line = {"custom_id": "", "method": "POST", "url": CHAT, "body": {}}
    lines = [{**line, "custom_id": str(n)} for n in range(50_001)]
    error = only_error(run_batch(client, lines))
    assert error["code"] == "too_many_requests"
    assert "50000" in error["message"]


def test_exactly_50000_requests_pass_validation(client: httpx.Client) -> None:
    line = {"custom_id": "", "method": "POST", "url": CHAT, "body": {}}
    batch = create_batch(client, upload(client, jsonl({**line, "custom_id": str(n)} for n in range(50_000)))["id"])
    # Answering all 50,000 lines is not the point; passing validation is.
    seen = wait_for(client, batch["id"], lambda b: b["status"] != "validating")
    assert seen["status"] in ("in_progress", "finalizing", "completed")
    assert seen["request_counts"]["total"] == 50_000


def embedding_line(custom_id: str, value: object) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": "text-embedding-3-small", "input": value, "dimensions": 2},
    }


def test_embedding_batches_allow_50000_inputs_in_total(client: httpx.Client) -> None:
    lines = [embedding_line("a", ["x"] * 30_000), embedding_line("b", ["y"] * 20_000), embedding_line("c", [1, 2, 3])]
    error = only_error(run_batch(client, lines, "/v1/embeddings"))
    assert error["code"] == "too_many_embedding_inputs"
    assert "50001" in error["message"]
    lines = [embedding_line("a", ["x"] * 30_000), embedding_line("b", ["y"] * 19_999), embedding_line("c", "z")]
    assert run_batch(client, lines, "/v1/embeddings")["status"] == "completed"


@pytest.fixture
def small_limits_server(tmp_path: Path) -> Iterator[LocalServer]:
    limits = Limits(input_file_bytes=2_000, input_requests=5)
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, limits=limits) as server:
        yield server


def test_input_file_over_the_byte_limit_fails(small_limits_server: LocalServer) -> None:
    # The real limit is 200 MB; a server started with a small one shows the same failure quickly.
    with api_client(small_limits_server) as http:
        lines = [chat_line(str(n), "word " * 100) for n in range(4)]
        error = only_error(run_batch(http, lines))
    assert error["code"] == "file_too_large"
    assert error["line"] is None


def test_request_limit_is_configurable(small_limits_server: LocalServer) -> None:
    with api_client(small_limits_server) as http:
        assert only_error(run_batch(http, [chat_line(str(n), "") for n in range(6)]))["code"] == "too_many_requests"
        assert run_batch(http, [chat_line(str(n), "") for n in range(5)])["status"] == "completed"


def test_errors_are_capped(client: httpx.Client) -> None:
    errors = errors_of(run_batch(client, b"{bad}\n" * 500))
    assert len(errors) == 100
    assert [e["line"] for e in errors] == list(range(1, 101))
