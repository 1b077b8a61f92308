"""Anthropic's batches and results in the job runner's terms: statuses, counts and times of a Message Batch as a
`BatchView`, and each kind of result as the Batch API result line the merge judges."""

from __future__ import annotations

from typing import Any

import pytest
from openai_batches.jobs.anthropic_service import message_batch_view, result_line
from openai_batches.jobs.merge import answer_of, verdict

CREATED = "2026-12-08T10:00:00Z"
ENDED = "2026-12-08T10:05:30.5Z"


def batch(status: str = "in_progress", **fields: Any) -> dict[str, Any]:
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    counts.update(fields.pop("counts", {}))
    return {
        "id": "msgbatch_01",
        "type": "message_batch",
        "processing_status": status,
        "request_counts": counts,
        "created_at": CREATED,
        "ended_at": None,
        "cancel_initiated_at": None,
        "results_url": None,
        **fields,
    }


def test_a_batch_in_progress_counts_every_request_and_has_no_results_yet() -> None:
    view = message_batch_view(batch(counts={"processing": 7}))
    assert (view.id, view.status, view.total, view.completed, view.failed) == ("msgbatch_01", "in_progress", 7, 0, 0)
    assert view.created_at == 1796724000.0 and view.in_progress_at == view.created_at
    assert (view.output_file_id, view.ended_at, view.terminal) == (None, None, False)


def test_an_ended_batch_is_completed_with_its_results_as_its_output() -> None:
    ended = batch("ended", counts={"succeeded": 5, "errored": 2}, ended_at=ENDED, results_url="https://x/results")
    view = message_batch_view(ended)
    assert (view.status, view.completed, view.failed, view.total) == ("completed", 5, 2, 7)
    assert (view.output_file_id, view.error_file_id, view.ended_at) == ("msgbatch_01", None, 1796724330.5)
    assert view.terminal


def test_an_ended_batch_with_expired_requests_is_expired_and_a_cancelled_one_cancelled() -> None:
    expired = batch("ended", counts={"succeeded": 1, "expired": 3}, ended_at=ENDED, results_url="u")
    assert (message_batch_view(expired).status, message_batch_view(expired).total) == ("expired", 4)
    asked = {"cancel_initiated_at": CREATED, "ended_at": ENDED, "results_url": "u"}
    cancelled = batch("ended", counts={"succeeded": 1, "canceled": 3, "expired": 1}, **asked)
    assert message_batch_view(cancelled).status == "cancelled"
    canceling = message_batch_view(batch("canceling", cancel_initiated_at=CREATED, results_url="u"))
    assert (canceling.status, canceling.output_file_id, canceling.terminal) == ("cancelling", None, False)


def test_odd_values_read_as_nothing() -> None:
    view = message_batch_view(
        {"id": "b", "processing_status": "ended", "request_counts": {"succeeded": True, "errored": -2}, "created_at": 5}
    )
    assert (view.status, view.total, view.created_at, view.output_file_id) == ("completed", 0, 0.0, None)
    assert message_batch_view({"id": "b", "created_at": "not a time"}).status == "in_progress"
    assert message_batch_view({"id": "b", "request_counts": [1]}).total == 0


def test_a_succeeded_result_is_a_200_answer_with_the_message() -> None:
    message = {"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "4"}]}
    line = result_line("msgbatch_01", {"custom_id": "q-1", "result": {"type": "succeeded", "message": message}})
    assert line == {
        "id": "msgbatch_01:q-1",
        "custom_id": "q-1",
        "response": {"status_code": 200, "request_id": None, "body": message},
        "error": None,
    }
    assert line is not None and verdict(line) == (True, False)


@pytest.mark.parametrize(
    ("error_type", "status", "retryable"),
    [
        ("invalid_request_error", 400, False),
        ("authentication_error", 401, False),
        ("permission_error", 403, False),
        ("not_found_error", 404, False),
        ("request_too_large", 413, False),
        ("rate_limit_error", 429, True),
        ("api_error", 500, True),
        ("timeout_error", 504, True),
        ("overloaded_error", 529, True),
        ("something_new", 400, False),
    ],
)
def test_an_errored_result_has_the_status_of_its_error_type(error_type: str, status: int, retryable: bool) -> None:
    error = {"type": "error", "error": {"type": error_type, "message": "no"}}
    line = result_line("b", {"custom_id": "q-1", "result": {"type": "errored", "error": error}})
    assert line is not None and line["response"] == {"status_code": status, "request_id": None, "body": error}
    assert verdict(line) == (False, retryable)
    assert answer_of(line) == (status, error_type)


def test_an_expired_result_is_retryable_and_a_canceled_one_has_no_line() -> None:
    line = result_line("b", {"custom_id": "q-1", "result": {"type": "expired"}})
    assert line is not None and line["error"] == {
        "code": "batch_expired",
        "message": "batch b expired before this request ran",
    }
    assert verdict(line) == (False, True)
    assert result_line("b", {"custom_id": "q-1", "result": {"type": "canceled"}}) is None
    assert result_line("b", {"custom_id": 3, "result": {"type": "succeeded"}}) is None
    assert result_line("b", {"custom_id": "q", "result": "succeeded"}) is None
    errored = result_line("b", {"custom_id": "q", "result": {"type": "errored", "error": "boom"}})
    assert errored is not None and errored["response"]["status_code"] == 400
