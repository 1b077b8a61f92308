"""The offline answers: shaped like the real bodies, derived only from the request, and failing on request."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import pytest
from openai_batches_server.responders import respond

from .support import read_lines, run_batch

NOW = 1_711_471_533


def ok(endpoint: str, body: dict[str, Any], custom_id: str = "req-1") -> dict[str, Any]:
    reply = respond(endpoint, custom_id, body, now=NOW)
    assert reply.status_code == 200, reply.body
    return reply.body


def test_chat_completion_echoes_the_last_user_message_and_counts_words() -> None:
    body = ok(
        "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "What is 2+2?"},
                {"role": "assistant", "content": "4"},
                {"role": "user", "content": [{"type": "text", "text": "And 3+3?"}, {"type": "image_url"}]},
            ],
        },
    )
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["created"] == NOW
    assert body["model"] == "gpt-4o-mini"
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Echo: And 3+3?"
    usage = body["usage"]
    assert usage["prompt_tokens"] == 3 + 3 + 1 + 2
    assert usage["completion_tokens"] == 3
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_completion_honours_n_and_max_tokens() -> None:
    body = ok(
        "/v1/chat/completions",
        {"model": "m", "n": 2, "max_completion_tokens": 2, "messages": [{"role": "user", "content": "a b c d"}]},
    )
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert {c["message"]["content"] for c in body["choices"]} == {"Echo: a"}
    assert {c["finish_reason"] for c in body["choices"]} == {"length"}
    assert body["usage"]["completion_tokens"] == 4


def test_same_request_same_answer() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert ok("/v1/chat/completions", body) == ok("/v1/chat/completions", body)
    assert ok("/v1/chat/completions", body)["id"] != ok("/v1/chat/completions", body, "req-2")["id"]


def test_responses_endpoint() -> None:
    body = ok(
        "/v1/responses",
        {"model": "gpt-4.1", "instructions": "Be brief.", "input": [{"role": "user", "content": "Tell me a joke"}]},
    )
    assert body["object"] == "response"
    assert body["id"].startswith("resp_")
    assert body["status"] == "completed"
    [message] = body["output"]
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"][0] == {
        "type": "output_text",
        "text": "Echo: Tell me a joke",
        "annotations": [],
        "logprobs": [],
    }
    assert body["usage"]["input_tokens"] == 4 + 2
    assert body["usage"]["output_tokens"] == 5
    assert ok("/v1/responses", {"model": "m", "input": "plain string"})["output"][0]["content"][0]["text"] == (
        "Echo: plain string"
    )


def test_embeddings_are_deterministic_unit_vectors() -> None:
    body = ok("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["hello world", "other", "hello world"]})
    assert body["object"] == "list"
    assert body["model"] == "text-embedding-3-small"
    vectors = [item["embedding"] for item in body["data"]]
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    assert all(item["object"] == "embedding" for item in body["data"])
    assert all(len(vector) == 1536 for vector in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(math.sqrt(sum(v * v for v in vectors[0])), 1.0, abs_tol=1e-6)
    assert body["usage"] == {"prompt_tokens": 2 + 1 + 2, "total_tokens": 5}
    again = ok("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello world"})
    assert again["data"][0]["embedding"] == vectors[0]
    other_model = ok("/v1/embeddings", {"model": "text-embedding-ada-002", "input": "hello world"})
    assert other_model["data"][0]["embedding"] != vectors[0]


def test_embedding_dimensions_base64_and_token_inputs() -> None:
    assert len(ok("/v1/embeddings", {"model": "text-embedding-3-large", "input": "x"})["data"][0]["embedding"]) == 3072
    small = ok("/v1/embeddings", {"model": "m", "input": "x", "dimensions": 8})["data"][0]["embedding"]
    packed = ok("/v1/embeddings", {"model": "m", "input": "x", "dimensions": 8, "encoding_format": "base64"})
    decoded = struct.unpack("<8f", base64.b64decode(packed["data"][0]["embedding"]))
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(decoded, small, strict=True))
    tokens = ok("/v1/embeddings", {"model": "m", "input": [[1, 2, 3], [4]], "dimensions": 4})
    assert len(tokens["data"]) == 2
    assert tokens["usage"]["prompt_tokens"] == 4
    assert len(ok("/v1/embeddings", {"model": "m", "input": [1, 2, 3], "dimensions": 4})["data"]) == 1


def test_completions() -> None:
    body = ok("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["Say this", "And that"], "n": 2})
    assert body["object"] == "text_completion"
    assert body["id"].startswith("cmpl-")
    assert [c["index"] for c in body["choices"]] == [0, 1, 2, 3]
    assert body["choices"][0]["text"] == " Echo: Say this"
    assert body["choices"][2]["text"] == " Echo: And that"
    assert body["usage"]["prompt_tokens"] == 4
    # The real endpoint's default max_tokens is 16.
    long = ok("/v1/completions", {"model": "m", "prompt": "w " * 40})
    assert long["choices"][0]["finish_reason"] == "length"
    assert len(long["choices"][0]["text"].split()) == 16


def test_moderations_flag_trigger_words_only() -> None:
    body = ok("/v1/moderations", {"input": ["I will kill the process", "a lovely day"]})
    assert body["id"].startswith("modr-")
    assert body["model"] == "omni-moderation-latest"
    flagged, calm = body["results"]
    assert flagged["flagged"] is True and flagged["categories"]["violence"] is True
    assert flagged["category_scores"]["violence"] > 0.9
    assert calm["flagged"] is False and not any(calm["categories"].values())
    assert set(calm["categories"]) == set(calm["category_scores"]) == set(calm["category_applied_input_types"])
    assert ok("/v1/moderations", {"input": "a lovely day"})["results"][0] == calm


@pytest.mark.parametrize("endpoint", ["/v1/images/generations", "/v1/images/edits", "/v1/videos"])
def test_other_endpoints_get_a_plausible_body(endpoint: str) -> None:
    body = ok(endpoint, {"model": "m", "prompt": "a red square"})
    assert body["created" if endpoint.startswith("/v1/images") else "created_at"] == NOW


@pytest.mark.parametrize(
    ("endpoint", "body", "param"),
    [
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}]}, None),
        ("/v1/chat/completions", {"model": "m"}, "messages"),
        ("/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 0}, "n"),
        ("/v1/embeddings", {"model": "m"}, "input"),
        ("/v1/embeddings", {"model": "m", "input": []}, "input"),
        ("/v1/embeddings", {"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ("/v1/responses", {"model": "m"}, "input"),
        ("/v1/moderations", {}, "input"),
        ("/v1/images/generations", {"model": "m"}, "prompt"),
    ],
)
def test_requests_the_real_endpoint_would_reject_get_a_400(
    endpoint: str, body: dict[str, Any], param: str | None
) -> None:
    reply = respond(endpoint, "x", body, now=NOW)
    assert reply.status_code == 400
    assert set(reply.body["error"]) == {"message", "type", "param", "code"}
    assert reply.body["error"]["type"] == "invalid_request_error"
    assert reply.body["error"]["param"] == param


def test_failing_on_purpose() -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert respond("/v1/chat/completions", "fail-anything", chat, now=NOW).status_code == 400
    assert respond("/v1/chat/completions", "x", {**chat, "x_fail": True}, now=NOW).status_code == 400
    assert respond("/v1/chat/completions", "x", {**chat, "x_fail": False}, now=NOW).status_code == 200
    reply = respond(
        "/v1/embeddings",
        "x",
        {"x_fail": {"status_code": 429, "message": "slow down"}},
        now=NOW,
    )
    assert reply.status_code == 429
    assert reply.body == {
        "error": {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    }
    custom = respond("/v1/chat/completions", "x", {"x_fail": {"status_code": 404, "type": "t", "code": "c"}}, now=NOW)
    assert custom.status_code == 404
    assert (custom.body["error"]["type"], custom.body["error"]["code"]) == ("t", "c")
    invalid = respond("/v1/chat/completions", "x", {"x_fail": {"status_code": 200}}, now=NOW)
    assert invalid.status_code == 400 and invalid.body["error"]["param"] == "x_fail"


def test_the_same_input_file_gives_the_same_output_content(client: httpx.Client) -> None:
    lines = [
        {"custom_id": f"e{n}", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": f"t{n}"}}
        for n in range(3)
    ]

    def contents() -> list[Any]:
        batch = run_batch(client, lines, "/v1/embeddings")
        return [(line["custom_id"], line["response"]["body"]) for line in read_lines(client, batch["output_file_id"])]

    assert contents() == contents()
