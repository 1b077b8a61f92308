"""Models read like the official SDK's: `batch.object`, `file.bytes`, a `metadata` mapping, `to_dict()` / `to_json()`
in the wire form, typed result views with the SDK's nesting, and `e.body` as the inner error object.

The public classes are thin subclasses of the generated models (`test_regeneration.py` proves they survive a
regenerated spec); here: what they add, and that they add nothing else.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import attrs
import httpx
import pytest
from helpers import BATCH, RUNNERS, Recorder, batch, file_body, json_response, list_body, sync_client
from openai_batches import (
    APIStatusError,
    Batch,
    BatchClient,
    BatchErrors,
    BatchObjectType,
    BatchRequestCounts,
    BatchResult,
    ChatCompletion,
    Embeddings,
    FileDeleted,
    FileObject,
    Metadata,
    ResponseOutput,
)
from openai_batches import types as public
from openai_batches._models import generated_class, overlay_class
from openai_batches_generated import models as generated

FILE = file_body(bytes=120000, expires_at=None)
FULL_BATCH = batch(
    errors={"object": "list", "data": [{"code": "bad", "message": "line 3", "param": None, "line": 3, "hint": "x"}]},
    usage={
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 2},
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 1},
        "total_tokens": 15,
    },
    priority="high",  # a field this version does not know
)


def client_for(body: object) -> BatchClient:
    return sync_client(Recorder(lambda request: json_response(200, body)))


# ---------------------------------------------------------------------------------------------------- aliases


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_batch_reads_like_the_sdks(mode: str) -> None:
    got = RUNNERS[mode](lambda request: json_response(200, FULL_BATCH))
    assert isinstance(got, Batch) and isinstance(got, generated.Batch)
    assert got.object == got.object_ == "batch" and got.object is BatchObjectType.BATCH
    assert isinstance(got.request_counts, BatchRequestCounts)
    assert isinstance(got.errors, BatchErrors) and got.errors.data and got.errors.data[0].line == 3
    assert isinstance(got.errors.data[0], public.BatchError)
    assert got.usage and got.usage.input_tokens_details.cached_tokens == 2
    assert isinstance(got.usage.input_tokens_details, public.BatchUsageInputTokensDetails)
    assert got.additional_properties == {"priority": "high"}


def test_file_objects_have_bytes_and_object() -> None:
    with client_for(FILE) as client:
        file = client.files.retrieve("file-abc123")
    assert isinstance(file, FileObject) and isinstance(file, generated.FileObject)
    assert file.bytes == file.bytes_ == 120000
    assert file.object == "file"
    with client_for({"id": "file-abc123", "object": "file", "deleted": True}) as client:
        deleted = client.files.delete("file-abc123")
    assert isinstance(deleted, FileDeleted) and deleted.object == "file" and deleted.deleted is True


def test_aliases_are_read_only() -> None:
    with client_for(FILE) as client:
        file = client.files.retrieve("file-abc123")
    with pytest.raises(AttributeError):
        file.bytes = 1  # type: ignore[misc]
    file.bytes_ = 7  # the generated field stays writable, as before
    assert file.bytes == 7


def test_public_models_add_no_fields_and_no_memory() -> None:
    for cls in (public.Batch, public.FileObject, public.Metadata, public.BatchUsage, public.ListBatchesResponse):
        base = generated_class(cls)
        assert base is getattr(generated, cls.__name__)
        assert attrs.fields(cls) == attrs.fields(base)
        assert not hasattr(cls(**_required(base)), "__dict__")  # slots only: no per-object dict


def _required(model: type[Any]) -> dict[str, Any]:
    return {a.name: None for a in attrs.fields(model) if a.init and a.default is attrs.NOTHING}


# ---------------------------------------------------------------------------------------------------- metadata


def test_metadata_is_a_read_only_mapping_of_strings() -> None:
    with client_for(batch(metadata={"job": "nightly", "team": "search"})) as client:
        metadata = client.batches.retrieve("b").metadata
    assert isinstance(metadata, Metadata)
    assert metadata.get("job") == "nightly" and metadata.get("missing") is None and metadata.get("x", "d") == "d"
    assert "job" in metadata and "nope" not in metadata
    assert list(metadata) == ["job", "team"] and len(metadata) == 2
    assert dict(metadata) == {"job": "nightly", "team": "search"}
    assert dict(metadata.items()) == {"job": "nightly", "team": "search"} and list(metadata.keys()) == ["job", "team"]
    assert metadata == {"job": "nightly", "team": "search"} and metadata != {"job": "other"}
    assert metadata["team"] == "search"
    with pytest.raises(KeyError):
        metadata["nope"]
    with pytest.raises(TypeError, match="read-only"):
        metadata["job"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        del metadata["job"]  # type: ignore[attr-defined]
    assert repr(metadata) == "Metadata({'job': 'nightly', 'team': 'search'})"


def test_metadata_can_be_built_and_sent_back() -> None:
    recorder = Recorder(lambda request: json_response(200, batch()))
    with sync_client(recorder) as client:
        previous = client.batches.retrieve("b")
        assert previous.metadata is not None
        client.batches.create(input_file_id="f", endpoint="/v1/embeddings", metadata=previous.metadata)
        client.batches.create(input_file_id="f", endpoint="/v1/embeddings", metadata=Metadata({"k": "v"}))
    assert json.loads(recorder.requests[1].content)["metadata"] == {"job": "nightly"}
    assert json.loads(recorder.requests[2].content)["metadata"] == {"k": "v"}


# ---------------------------------------------------------------------------------------------------- wire form


def test_to_dict_and_to_json_give_what_the_api_sent() -> None:
    with client_for(FULL_BATCH) as client:
        got = client.batches.retrieve("b")
    assert got.to_dict() == FULL_BATCH
    assert json.loads(got.to_json()) == FULL_BATCH
    assert got.to_json().startswith('{\n  "')  # indented by 2, as the SDK's default
    assert "\n" not in got.to_json(indent=None)
    assert json.loads(got.request_counts.to_json()) == FULL_BATCH["request_counts"]  # type: ignore[union-attr]


def test_fields_the_server_left_out_read_and_serialise_as_null() -> None:
    # The SDK's `Optional[...] = None`: one None check for a field left out or sent as null, and the wire form says
    # null for both, as the service itself sends such a field.
    sparse = {k: v for k, v in BATCH.items() if v is not None or k == "errors"}
    assert "usage" not in sparse
    with client_for(sparse) as client:
        got = client.batches.retrieve("b")
    assert got.usage is None and got.errors is None
    wire = got.to_dict()
    assert {k: wire[k] for k in sparse} == sparse
    assert {k: v for k, v in wire.items() if k not in sparse} == dict.fromkeys(wire.keys() - sparse.keys())
    assert "usage" in wire


def test_every_page_item_has_the_wire_form() -> None:
    with client_for(list_body(["b1", "b2"], has_more=False)) as client:
        page = client.batches.list()
    assert [json.loads(b.to_json())["id"] for b in page.data] == ["b1", "b2"]
    assert all(isinstance(b, Batch) for b in page.data)


def test_from_dict_of_a_public_model_builds_public_models_throughout() -> None:
    got = Batch.from_dict(copy.deepcopy(FULL_BATCH))
    assert isinstance(got.errors, BatchErrors) and isinstance(got.metadata, Metadata)
    with client_for(FULL_BATCH) as client:
        assert client.batches.retrieve("b") == got
    assert Batch.from_dict(got.to_dict()) == got
    with pytest.raises(ValueError, match="request_counts"):
        Batch.from_dict(batch(request_counts="many"))


def test_a_model_the_overlay_does_not_name_gets_to_json_and_aliases() -> None:
    @attrs.define
    class Future:
        id: str
        object_: str
        additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)

        def to_dict(self) -> dict[str, Any]:
            return {"id": self.id, "object": self.object_, **self.additional_properties}

    cls = overlay_class(Future)
    assert overlay_class(Future) is cls and issubclass(cls, Future)
    item = cls("x", "thing")
    assert item.object == "thing" and json.loads(item.to_json()) == {"id": "x", "object": "thing"}


# ---------------------------------------------------------------------------------------------------- errors


def test_error_body_is_the_inner_error_object_and_the_envelope_stays_on_the_response() -> None:
    envelope = {"error": {"message": "Bad id", "type": "invalid_request_error", "param": "batch_id", "code": "bad"}}
    recorder = Recorder(lambda request: json_response(400, envelope, {"x-request-id": "req_1"}))
    with sync_client(recorder) as client, pytest.raises(APIStatusError) as caught:
        client.batches.retrieve("b")
    error = caught.value
    assert error.body == envelope["error"]
    assert isinstance(error.body, dict) and error.body["code"] == "bad"
    assert (error.status_code, error.code, error.param, error.type, error.request_id) == (
        400,
        "bad",
        "batch_id",
        "invalid_request_error",
        "req_1",
    )
    assert error.response.json() == envelope


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (b'{"message": "no envelope", "code": "c"}', {"message": "no envelope", "code": "c"}),
        (b'{"error": "just text"}', "just text"),
        (b"<html>down</html>", "<html>down</html>"),
        (b"", None),
    ],
)
def test_error_body_without_an_envelope(content: bytes, body: object) -> None:
    recorder = Recorder(lambda request: httpx.Response(500, content=content))
    with sync_client(recorder) as client, pytest.raises(APIStatusError) as caught:
        client.batches.retrieve("b")
    assert caught.value.body == body


# ---------------------------------------------------------------------------------------------------- result views

CHAT_BODY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1711471533,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello",
                "refusal": None,
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 1,
        "total_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}


def result_with(body: dict[str, Any]) -> BatchResult:
    return BatchResult("c-1", 200, body, None, "req_1", "batch_req_1")


def test_chat_completion_view_keeps_the_sdks_nesting() -> None:
    chat = result_with(CHAT_BODY).chat_completion()
    assert isinstance(chat, ChatCompletion)
    assert chat.choices[0].message.content == "Hello" and chat.choices[0].message.role == "assistant"
    assert chat.choices[0].finish_reason == "stop" and chat.choices[0].index == 0
    call = chat.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert (call.id, call.type, call.function.name, call.function.arguments) == ("call_1", "function", "f", "{}")  # type: ignore[union-attr]
    assert chat.usage is not None
    assert (chat.usage.prompt_tokens, chat.usage.completion_tokens, chat.usage.total_tokens) == (9, 1, 10)
    assert chat.usage.prompt_tokens_details and chat.usage.prompt_tokens_details.cached_tokens == 4
    assert chat.usage.completion_tokens_details and chat.usage.completion_tokens_details.reasoning_tokens == 0
    assert (chat.id, chat.object, chat.created, chat.model) == (
        "chatcmpl-1",
        "chat.completion",
        1711471533,
        "gpt-4o-mini",
    )
    assert chat.system_fingerprint == "fp_1" and chat.raw is CHAT_BODY
    assert chat.text == "Hello" == result_with(CHAT_BODY).text


def test_response_view_keeps_the_sdks_nesting() -> None:
    body = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-5",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Hi ", "annotations": []},
                    {"type": "output_text", "text": "there"},
                ],
            },
            {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "lookup", "arguments": '{"q": 1}'},
        ],
        "usage": {
            "input_tokens": 3,
            "input_tokens_details": {"cached_tokens": 1},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 5,
        },
    }
    response = result_with(body).response()
    assert isinstance(response, ResponseOutput)
    assert response.output_text == "Hi there"
    assert response.output[1].content[0].text == "Hi " and response.output[1].role == "assistant"
    assert (response.output[2].name, response.output[2].arguments, response.output[2].call_id) == (
        "lookup",
        '{"q": 1}',
        "call_9",
    )
    assert response.usage is not None and (response.usage.input_tokens, response.usage.output_tokens) == (3, 2)
    assert response.usage.input_tokens_details and response.usage.input_tokens_details.cached_tokens == 1
    assert (response.id, response.object, response.created_at, response.status) == (
        "resp_1",
        "response",
        1,
        "completed",
    )


def test_embeddings_view_keeps_the_sdks_nesting() -> None:
    body = {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0.5, 0.25]},
            {"object": "embedding", "index": 0, "embedding": [1.0, 0.0]},
        ],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    embeddings = result_with(body).embeddings()
    assert isinstance(embeddings, Embeddings)
    assert [item.index for item in embeddings.data] == [0, 1]
    assert embeddings.data[0].embedding == (1.0, 0.0) and embeddings.data[0].object == "embedding"
    assert embeddings.vectors == ((1.0, 0.0), (0.5, 0.25))
    assert embeddings.usage is not None and (embeddings.usage.prompt_tokens, embeddings.usage.total_tokens) == (4, 4)


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": "not an object", "index": "0"}], "usage": {"prompt_tokens": "9"}},
        {"choices": [None, {"message": {"tool_calls": [None, {"function": "f"}]}}]},
        {"choices": []},
    ],
)
def test_odd_chat_bodies_give_nones_never_errors(body: dict[str, Any]) -> None:
    chat = result_with(body).chat_completion()
    assert chat is not None
    for choice in chat.choices:
        assert choice.message.content is None
    assert chat.text is None
