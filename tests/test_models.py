"""Parsing what the API sends into the Batch models.

The upstream examples (with their `null`s) must parse with every field right; values this version does not know (a
new status, endpoint, extra field) must be kept, not rejected; and no response body whatsoever may make a call raise
anything but the library's own errors.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import BATCH, DECODERS, RUNNERS, batch, json_response, list_body, sync_client, use_decoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_batches import (
    TERMINAL_STATUSES,
    APIResponseValidationError,
    Batch,
    BatchCompletionWindow,
    BatchEndpoint,
    BatchObjectType,
    BatchStatus,
    OpenAIBatchesError,
    Unset,
    is_terminal,
)

# The `x-oaiMeta` example of the Batch schema in the upstream document (openai/openai-openapi f85dbe2), with the
# trailing comma after "batch_description" removed so that it is JSON.
UPSTREAM_BATCH_EXAMPLE = """
{
  "id": "batch_abc123",
  "object": "batch",
  "endpoint": "/v1/completions",
  "model": "gpt-5-2025-08-07",
  "errors": null,
  "input_file_id": "file-abc123",
  "completion_window": "24h",
  "status": "completed",
  "output_file_id": "file-cvaTdG",
  "error_file_id": "file-HOWS94",
  "created_at": 1711471533,
  "in_progress_at": 1711471538,
  "expires_at": 1711557933,
  "finalizing_at": 1711493133,
  "completed_at": 1711493163,
  "failed_at": null,
  "expired_at": null,
  "cancelling_at": null,
  "cancelled_at": null,
  "request_counts": {
    "total": 100,
    "completed": 95,
    "failed": 5
  },
  "usage": {
    "input_tokens": 1500,
    "input_tokens_details": {
      "cached_tokens": 1024
    },
    "output_tokens": 500,
    "output_tokens_details": {
      "reasoning_tokens": 300
    },
    "total_tokens": 2000
  },
  "metadata": {
    "customer_id": "user_123456789",
    "batch_description": "Nightly eval job"
  }
}
"""

# The upstream "List batches" response example: trailing commas removed, and its `{ ... }` placeholder replaced by a
# second batch so that `last_id` names a real item.
UPSTREAM_LIST_EXAMPLE = """
{
  "object": "list",
  "data": [
    {
      "id": "batch_abc123",
      "object": "batch",
      "endpoint": "/v1/chat/completions",
      "errors": null,
      "input_file_id": "file-abc123",
      "completion_window": "24h",
      "status": "completed",
      "output_file_id": "file-cvaTdG",
      "error_file_id": "file-HOWS94",
      "created_at": 1711471533,
      "in_progress_at": 1711471538,
      "expires_at": 1711557933,
      "finalizing_at": 1711493133,
      "completed_at": 1711493163,
      "failed_at": null,
      "expired_at": null,
      "cancelling_at": null,
      "cancelled_at": null,
      "request_counts": {
        "total": 100,
        "completed": 95,
        "failed": 5
      },
      "metadata": {
        "customer_id": "user_123456789",
        "batch_description": "Nightly job"
      }
    },
    {
      "id": "batch_abc456",
      "object": "batch",
      "endpoint": "/v1/embeddings",
      "errors": null,
      "input_file_id": "file-abc456",
      "completion_window": "24h",
      "status": "in_progress",
      "output_file_id": null,
      "error_file_id": null,
      "created_at": 1711471000,
      "in_progress_at": 1711471010,
      "expires_at": 1711557400,
      "finalizing_at": null,
      "completed_at": null,
      "failed_at": null,
      "expired_at": null,
      "cancelling_at": null,
      "cancelled_at": null,
      "request_counts": {"total": 10, "completed": 2, "failed": 0},
      "metadata": null
    }
  ],
  "first_id": "batch_abc123",
  "last_id": "batch_abc456",
  "has_more": true
}
"""

OPTIONAL_FIELDS = [
    "model",
    "errors",
    "output_file_id",
    "error_file_id",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "request_counts",
    "usage",
    "metadata",
]
REQUIRED_FIELDS = ["id", "object", "endpoint", "input_file_id", "completion_window", "status", "created_at"]


def as_sent(wire: Any, raw: Any) -> Any:
    """`wire` without the nulls `to_dict()` adds for fields `raw` left out (the models read those as None)."""
    if isinstance(wire, dict) and isinstance(raw, dict):
        return {k: as_sent(v, raw.get(k)) for k, v in wire.items() if k in raw or v is not None}
    if isinstance(wire, list) and isinstance(raw, list) and len(wire) == len(raw):
        return [as_sent(w, r) for w, r in zip(wire, raw, strict=True)]
    return wire


@pytest.fixture(params=DECODERS, autouse=True)
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with msgspec and with the standard library alone: the same models either way."""
    use_decoder(request.param, monkeypatch)
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Any:
    return RUNNERS[request.param]


def serving(body: object) -> Any:
    return lambda request: json_response(200, body)


# ---------------------------------------------------------------- the upstream examples


def test_upstream_batch_example_parses_every_field(run: Any) -> None:
    raw = json.loads(UPSTREAM_BATCH_EXAMPLE)
    b = run(serving(raw), "retrieve")

    assert isinstance(b, Batch)
    assert b.id == "batch_abc123"
    assert b.object_ is BatchObjectType.BATCH
    assert b.endpoint is BatchEndpoint.COMPLETIONS
    assert b.model == "gpt-5-2025-08-07"
    assert b.errors is None
    assert b.input_file_id == "file-abc123"
    assert b.completion_window is BatchCompletionWindow.HOURS_24
    assert b.status is BatchStatus.COMPLETED
    assert b.output_file_id == "file-cvaTdG"
    assert b.error_file_id == "file-HOWS94"
    assert (b.created_at, b.in_progress_at, b.expires_at) == (1711471533, 1711471538, 1711557933)
    assert (b.finalizing_at, b.completed_at) == (1711493133, 1711493163)
    assert (b.failed_at, b.expired_at, b.cancelling_at, b.cancelled_at) == (None, None, None, None)

    assert b.request_counts is not None
    assert not isinstance(b.request_counts, Unset)
    assert (b.request_counts.total, b.request_counts.completed, b.request_counts.failed) == (100, 95, 5)

    assert b.usage is not None
    assert not isinstance(b.usage, Unset)
    assert b.usage.input_tokens == 1500
    assert b.usage.input_tokens_details.cached_tokens == 1024
    assert b.usage.output_tokens == 500
    assert b.usage.output_tokens_details.reasoning_tokens == 300
    assert b.usage.total_tokens == 2000

    assert b.metadata is not None
    assert not isinstance(b.metadata, Unset)
    assert b.metadata.additional_properties == {
        "customer_id": "user_123456789",
        "batch_description": "Nightly eval job",
    }
    assert b.metadata["customer_id"] == "user_123456789"

    assert b.additional_properties == {}
    assert is_terminal(b)
    # Nothing lost: the model writes back exactly what came in, nulls included.
    assert as_sent(b.to_dict(), raw) == raw


def test_upstream_cancel_example_parses(run: Any) -> None:
    raw = json.loads(UPSTREAM_BATCH_EXAMPLE)
    raw.update(status="cancelling", cancelling_at=1711475133, usage=None, output_file_id=None)
    b = run(serving(raw), "cancel")
    assert b.status is BatchStatus.CANCELLING
    assert b.cancelling_at == 1711475133
    assert b.usage is None
    assert b.output_file_id is None
    assert not is_terminal(b)


def test_upstream_list_example_parses(run: Any) -> None:
    raw = json.loads(UPSTREAM_LIST_EXAMPLE)
    data = run(serving(raw), "list")
    assert [b.id for b in data] == ["batch_abc123", "batch_abc456"]
    first, second = data
    assert first.status is BatchStatus.COMPLETED
    assert first.endpoint is BatchEndpoint.CHAT_COMPLETIONS
    assert first.model is None  # absent in this example
    assert first.usage is None
    assert first.metadata["batch_description"] == "Nightly job"
    assert second.endpoint is BatchEndpoint.EMBEDDINGS
    assert second.metadata is None
    assert second.output_file_id is None
    # The wire form holds every field: null for those the example leaves out, as the service sends them.
    assert as_sent([b.to_dict() for b in data], raw["data"]) == raw["data"]
    assert {k for b in data for k, v in b.to_dict().items() if v is None} >= {"model", "usage"}


def test_upstream_list_example_page_fields() -> None:
    raw = json.loads(UPSTREAM_LIST_EXAMPLE)
    page = sync_client(serving(raw)).batches.list()
    assert (page.first_id, page.last_id, page.has_more) == ("batch_abc123", "batch_abc456", True)
    assert page.has_next_page()


# ---------------------------------------------------------------- values this version does not know


def test_unknown_enum_values_are_kept_as_strings(run: Any) -> None:
    raw = batch(status="paused", endpoint="/v1/new-thing", object="batch.v2", completion_window="72h")
    b = run(serving(raw), "retrieve")
    for name, value in [
        ("status", "paused"),
        ("endpoint", "/v1/new-thing"),
        ("object_", "batch.v2"),
        ("completion_window", "72h"),
    ]:
        assert getattr(b, name) == value
        assert type(getattr(b, name)) is str
    assert not is_terminal(b)
    assert as_sent(b.to_dict(), raw) == raw


def test_unknown_status_does_not_break_a_list_page(run: Any) -> None:
    raw = list_body(["batch_1", "batch_2", "batch_3"], has_more=False)
    raw["data"][1]["status"] = "paused"
    data = run(serving(raw), "list")
    assert [b.status for b in data] == [BatchStatus.IN_PROGRESS, "paused", BatchStatus.IN_PROGRESS]


def test_extra_fields_are_kept_and_round_trip(run: Any) -> None:
    raw = batch(
        priority="high",
        shard={"region": "eu", "nodes": [1, 2]},
        request_counts={"total": 3, "completed": 1, "failed": 0, "cancelled": 2},
        usage={
            "input_tokens": 1,
            "input_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 3,
            "cost_usd": 0.01,
        },
    )
    b = run(serving(raw), "retrieve")
    assert b.additional_properties == {"priority": "high", "shard": {"region": "eu", "nodes": [1, 2]}}
    assert b["priority"] == "high"
    assert b.request_counts.additional_properties == {"cancelled": 2}
    assert b.usage.additional_properties == {"cost_usd": 0.01}
    assert b.usage.input_tokens_details.additional_properties == {"audio_tokens": 0}
    assert as_sent(b.to_dict(), raw) == raw
    assert as_sent(Batch.from_dict(b.to_dict()).to_dict(), raw) == raw


def test_extra_fields_on_a_list_page_are_kept() -> None:
    raw = list_body(["batch_1"], has_more=False)
    raw["next_cursor"] = "opaque"
    raw["data"][0]["shard"] = "eu-1"
    page = sync_client(serving(raw)).batches.list()
    assert page.data[0].additional_properties == {"shard": "eu-1"}
    assert as_sent(page.data[0].to_dict(), raw["data"][0]) == raw["data"][0]


def test_absent_optional_fields_are_none(run: Any) -> None:
    # As in the official SDK: a field the server left out reads as None, the same as one it sent as null.
    raw = {key: BATCH[key] for key in REQUIRED_FIELDS}
    b = run(serving(raw), "retrieve")
    for name in OPTIONAL_FIELDS:
        assert getattr(b, name) is None, name
    wire = b.to_dict()
    assert {key: wire[key] for key in raw} == raw
    left_out = {key: wire[key] for key in wire.keys() - raw.keys()}
    assert left_out == dict.fromkeys(left_out) and set(OPTIONAL_FIELDS) <= left_out.keys()


def test_null_optional_fields_are_none(run: Any) -> None:
    raw = batch(**dict.fromkeys(OPTIONAL_FIELDS))
    b = run(serving(raw), "retrieve")
    for name in OPTIONAL_FIELDS:
        assert getattr(b, name) is None, name
    assert as_sent(b.to_dict(), raw) == raw


def test_batch_errors_are_parsed() -> None:
    errors = {
        "object": "list",
        "data": [{"code": "invalid_json", "message": "Line 3 is not JSON", "param": None, "line": 3}],
    }
    raw = batch(status="failed", errors=errors, failed_at=1711471600)
    b = sync_client(serving(raw)).batches.retrieve("batch_abc123")
    assert b.errors.data[0].code == "invalid_json"
    assert b.errors.data[0].line == 3
    assert b.errors.data[0].param is None
    assert as_sent(b.to_dict(), raw) == raw


# ---------------------------------------------------------------- is_terminal


TERMINAL = {
    BatchStatus.VALIDATING: False,
    BatchStatus.IN_PROGRESS: False,
    BatchStatus.FINALIZING: False,
    BatchStatus.CANCELLING: False,
    BatchStatus.COMPLETED: True,
    BatchStatus.FAILED: True,
    BatchStatus.EXPIRED: True,
    BatchStatus.CANCELLED: True,
}


def test_terminal_table_covers_every_status() -> None:
    assert set(TERMINAL) == set(BatchStatus)
    assert set(TERMINAL_STATUSES) == {s for s, final in TERMINAL.items() if final}


@pytest.mark.parametrize(("status", "final"), TERMINAL.items(), ids=[s.value for s in TERMINAL])
def test_is_terminal_for_every_status(status: BatchStatus, final: bool) -> None:
    assert is_terminal(status) is final
    assert is_terminal(status.value) is final  # a plain string, as an unparsed value would be
    b = sync_client(serving(batch(status=status.value))).batches.retrieve("batch_abc123")
    assert is_terminal(b) is final


@pytest.mark.parametrize("status", ["paused", "", "COMPLETED", "completed "])
def test_is_terminal_is_false_for_unknown_statuses(status: str) -> None:
    assert is_terminal(status) is False
    b = sync_client(serving(batch(status=status))).batches.retrieve("batch_abc123")
    assert is_terminal(b) is False


@pytest.mark.parametrize(
    ("value", "got"),
    [(["completed"], "array"), ({"state": "completed"}, "object"), (1, "number"), (True, "boolean")],
    ids=["array", "object", "number", "boolean"],
)
@pytest.mark.parametrize("name", ["status", "endpoint", "completion_window", "object"])
def test_an_open_enum_field_that_is_not_a_string_is_refused_naming_it(
    name: str, value: object, got: str, run: Any
) -> None:
    # Kept as it came, a list in `status` would reach is_terminal and the job store: refused as the body's fault.
    with pytest.raises(APIResponseValidationError) as caught:
        run(serving(batch(**{name: value})), "retrieve")
    assert caught.value.field == name
    assert caught.value.message == f"Invalid response body: {name}: expected a string, got {got}"


def test_an_open_enum_field_inside_a_page_is_named_by_its_place(run: Any) -> None:
    raw = list_body(["batch_1", "batch_2"], has_more=False)
    raw["data"][1]["status"] = ["completed"]
    with pytest.raises(APIResponseValidationError) as caught:
        run(serving(raw), "list")
    assert caught.value.field == "data[1].status"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ([BATCH], None, "body: expected an object, got array"),
        (batch(usage="many"), "usage", "usage: expected an object, got string"),
        (batch(id=None), "id", "id: must not be null"),
        (batch(status=None), "status", "status: must not be null"),
    ],
    ids=["array", "usage", "id", "status"],
)
def test_a_body_that_does_not_fit_is_refused_naming_the_place(
    body: object, field: str | None, problem: str, run: Any
) -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        run(serving(body), "retrieve")
    assert caught.value.field == field
    assert caught.value.message == f"Invalid response body: {problem}"


def test_to_json_keeps_text_as_it_reads() -> None:
    b = sync_client(serving(batch(metadata={"note": "café ☕ 東京"}))).batches.retrieve("batch_abc123")
    assert '"note": "café ☕ 東京"' in b.to_json()
    assert json.loads(b.to_json(indent=None))["metadata"] == {"note": "café ☕ 東京"}


# ---------------------------------------------------------------- no body makes anything else escape


class Server:
    """One client for every hypothesis example; the body it serves is swapped per example."""

    def __init__(self) -> None:
        self.content = b"{}"
        self.client = sync_client(self.respond)

    def respond(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=self.content, headers={"content-type": "application/json"})

    def serve(self, body: object) -> None:
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def exercise(self) -> None:
        """retrieve and list (walking at most a few pages); only the library's own errors may come out."""
        try:
            b = self.client.batches.retrieve("batch_abc123")
        except OpenAIBatchesError:
            pass
        else:
            assert isinstance(b, Batch)
            b.to_dict()
        try:
            for item in itertools.islice(self.client.batches.list(limit=10), 50):
                assert isinstance(item, Batch)
                item.to_dict()
        except OpenAIBatchesError:
            pass


SERVER = Server()

FIELD_NAMES = sorted({*BATCH, "data", "has_more", "first_id", "last_id", "usage", "input_tokens_details"})
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["batch", "list", "completed", "paused", "/v1/chat/completions", "24h", ""])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=15,
)

FULL_BATCH = batch(
    errors={"object": "list", "data": [{"code": "invalid_json", "message": "bad", "param": None, "line": 1}]},
    usage=json.loads(UPSTREAM_BATCH_EXAMPLE)["usage"],
)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with a few values anywhere in it deleted or replaced by random JSON."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(body))
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        container: Any = body
        for step in parents:
            container = container[step]
        if draw(st.booleans()):
            del container[last]
        else:
            container[last] = draw(json_values)
    return body


any_body = st.one_of(
    json_values,
    mutated(FULL_BATCH),
    mutated({"object": "list", "data": [FULL_BATCH, batch("batch_2")], "has_more": True, "last_id": "batch_2"}),
    mutated({"object": "list", "data": [FULL_BATCH, batch("batch_2")], "has_more": False}),
    st.binary(max_size=40),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=any_body)
def test_no_body_lets_a_foreign_exception_escape(body: object) -> None:
    SERVER.serve(body)
    SERVER.exercise()
