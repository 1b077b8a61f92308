"""One line of a results file read into a `BatchResult`, and the typed views of its body: the boundaries a user's
code branches on (what counts as success, where a failure's code comes from) and what the views keep or leave out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai_batches.results import BatchResult, BatchResultError, parse_result_line


def line(response: dict[str, Any] | None = None, error: dict[str, Any] | None = None, **extra: Any) -> str:
    return json.dumps({"id": "batch_req_1", "custom_id": "r-1", "response": response, "error": error, **extra})


def answered(status_code: object, body: object = None) -> BatchResult:
    result = parse_result_line(line({"status_code": status_code, "request_id": "req_1", "body": body}), 1)
    assert result is not None
    return result


@pytest.mark.parametrize(("status", "ok"), [(199, False), (200, True), (204, True), (299, True), (300, False)])
def test_success_is_a_2xx_status(status: int, ok: bool) -> None:
    result = answered(status, {})
    assert result.ok is ok
    assert (result.error is None) is ok
    if not ok:
        assert result.error == BatchResultError(code=None, message=f"status {status}")


@pytest.mark.parametrize(("status", "ok"), [(None, False), (199, False), (200, True), (299, True), (300, False)])
def test_ok_is_a_2xx_status_without_an_error(status: int | None, ok: bool) -> None:
    # As a user's own code or test builds one: `ok` reads the status itself.
    assert BatchResult("r", status, {}, None, None, None).ok is ok
    assert not BatchResult("r", 200, {}, BatchResultError("c", "m"), None, None).ok


def test_a_failure_takes_its_code_and_message_from_the_error_body() -> None:
    result = answered(400, {"error": {"code": "bad_param", "type": "invalid_request_error", "message": "no"}})
    assert result.error == BatchResultError(code="bad_param", message="no")
    assert not result.ok


def test_a_failure_without_a_code_takes_the_error_type() -> None:
    result = answered(429, {"error": {"code": None, "type": "rate_limit_error", "message": "slow down"}})
    assert result.error == BatchResultError(code="rate_limit_error", message="slow down")


def test_an_error_body_that_is_not_an_object_gives_the_status() -> None:
    assert answered(500, {"error": "boom"}).error == BatchResultError(code=None, message="status 500")
    assert answered(502).error == BatchResultError(code=None, message="status 502")


def test_the_lines_own_error_wins_and_a_line_with_neither_says_so() -> None:
    expired = parse_result_line(line(None, {"code": "batch_expired", "message": "expired"}), 3)
    assert expired is not None and expired.error == BatchResultError(code="batch_expired", message="expired")
    assert expired.status_code is None and expired.body is None
    empty = parse_result_line(line(None, None), 4)
    assert empty is not None
    assert empty.error == BatchResultError(code=None, message="the line has neither a response nor an error")


@pytest.mark.parametrize("status", ["200", True, 200.0, None])
def test_a_status_that_is_not_a_whole_number_is_none(status: object) -> None:
    result = answered(status, {})
    assert result.status_code is None and not result.ok


def test_reprs_leave_the_raw_bodies_out() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "RAW-CHAT"}, "finish_reason": "stop"}],
    }
    completion = answered(200, body).chat_completion()
    assert completion is not None and completion.raw == body
    assert "raw=" not in repr(completion)

    response_body = {
        "id": "resp_1",
        "object": "response",
        "output": [{"type": "message", "id": "msg_1", "content": [{"type": "output_text", "text": "RAW-RESP"}]}],
    }
    response = answered(200, response_body).response()
    assert response is not None and response.raw == response_body
    assert "raw=" not in repr(response) and "raw=" not in repr(response.output[0])
    assert response.output[0].raw == response_body["output"][0]

    embeddings = answered(200, {"object": "list", "data": [{"index": 0, "embedding": [0.5]}]}).embeddings()
    assert embeddings is not None and "raw=" not in repr(embeddings)


def test_a_responses_text_joins_only_the_output_text_parts() -> None:
    body = {
        "output": [
            {
                "type": "message",
                "content": [
                    {"type": "output_text", "text": "Hello, "},
                    {"type": "refusal", "refusal": "no", "text": "NOT-TEXT"},
                    {"type": "output_text", "text": None},
                    {"type": "output_text", "text": "world"},
                ],
            },
            {"type": "reasoning", "content": [{"type": "output_text", "text": "NOT-A-MESSAGE"}]},
        ]
    }
    response = answered(200, body).response()
    assert response is not None and response.output_text == "Hello, world"


def test_embeddings_keep_only_vectors_and_sort_them_by_index() -> None:
    body = {
        "object": "list",
        "data": [
            {"index": 2, "embedding": [2.0]},
            {"index": 1, "embedding": "c29tZSBiYXNlNjQ="},  # base64 encoding: not a vector
            "not an object",
            {"index": 1, "embedding": [1.0]},
            {"embedding": [0.0]},  # no index: first, though it comes last
        ],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    embeddings = answered(200, body).embeddings()
    assert embeddings is not None
    assert embeddings.vectors == ((0.0,), (1.0,), (2.0,))
    assert [item.index for item in embeddings.data] == [None, 1, 2]
    assert embeddings.usage is not None and embeddings.usage.prompt_tokens == 3
