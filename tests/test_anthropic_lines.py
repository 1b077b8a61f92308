"""Batch API chat lines as Anthropic's Messages params, and Anthropic's native lines, as a job on Anthropic reads
them: what is translated to what, and what is refused at creation (by line, with the reason)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_batches import BatchInputError
from openai_batches.jobs.anthropic_lines import CHAT, checked, params_of, to_request


def chat(custom_id: str = "q-1", **body: Any) -> dict[str, Any]:
    full = {"model": "claude-3-5-haiku-latest", "max_completion_tokens": 64, **body}
    full.setdefault("messages", [{"role": "user", "content": "hi"}])
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": full}


def sent(line: dict[str, Any]) -> dict[str, Any]:
    return to_request(json.dumps(line).encode())


def test_a_plain_chat_line_becomes_messages_params() -> None:
    line = chat(temperature=0.2, top_p=0.9, stop="END", user="u-7")
    assert sent(line) == {
        "custom_id": "q-1",
        "params": {
            "model": "claude-3-5-haiku-latest",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.2,
            "top_p": 0.9,
            "stop_sequences": ["END"],
            "metadata": {"user_id": "u-7"},
        },
    }
    assert checked(line, 1, None) is line, "a chat line is checked and read as it is"


def test_system_and_developer_messages_become_the_system_blocks() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "No lists."}]},
        {"role": "user", "content": "hi"},
    ]
    params = sent(chat(messages=messages))["params"]
    assert params["system"] == [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "No lists."}]
    assert params["messages"] == [{"role": "user", "content": "hi"}]


def test_max_tokens_is_read_from_either_name_and_max_completion_tokens_wins() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert params_of({**body, "max_tokens": 10})["max_tokens"] == 10
    assert params_of({**body, "max_tokens": 10, "max_completion_tokens": 20})["max_tokens"] == 20


def test_images_become_image_blocks_from_data_and_http_urls() -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg"}},
    ]
    params = sent(chat(messages=[{"role": "user", "content": content}]))["params"]
    assert params["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.test/cat.jpg"}},
    ]


def test_tools_tool_calls_and_tool_answers_are_translated() -> None:
    tools = [{"type": "function", "function": {"name": "add", "description": "Adds", "parameters": {"type": "object"}}}]
    messages = [
        {"role": "user", "content": "1+2?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "3"},
    ]
    params = sent(chat(messages=messages, tools=tools, tool_choice="required", parallel_tool_calls=False))["params"]
    assert params["tools"] == [{"name": "add", "input_schema": {"type": "object"}, "description": "Adds"}]
    assert params["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert params["messages"][1:] == [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "add", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "3"}]},
    ]
    named = params_of({**chat()["body"], "tool_choice": {"type": "function", "function": {"name": "add"}}})
    assert named["tool_choice"] == {"type": "tool", "name": "add"}
    assert params_of({**chat()["body"], "tool_choice": "none"})["tool_choice"] == {"type": "none"}
    assert params_of({**chat()["body"], "tool_choice": "auto"})["tool_choice"] == {"type": "auto"}


def test_neutral_values_pass_and_anthropic_fields_are_kept() -> None:
    params = params_of({**chat()["body"], "n": 1, "stream": False, "top_k": 5, "thinking": {"type": "disabled"}})
    assert (params["top_k"], params["thinking"]) == (5, {"type": "disabled"})
    assert "n" not in params and "stream" not in params


def test_a_native_line_is_sent_as_it_is_and_checked_as_a_chat_request() -> None:
    params = {"model": "claude-3-5-haiku-latest", "max_tokens": 16, "messages": [{"role": "user", "content": "x"}]}
    line = {"custom_id": "n-1", "params": params}
    assert sent(line) == line
    assert checked(line, 4, None) == {"custom_id": "n-1", "method": "POST", "url": CHAT, "body": params}


@pytest.mark.parametrize(
    ("line", "reason", "message"),
    [
        (chat(max_completion_tokens=0), "bad_max_tokens", "max_completion_tokens must be a whole number of at least 1"),
        (chat(max_completion_tokens=True), "bad_max_tokens", "got True"),
        (
            {**chat(), "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}},
            "missing_max_tokens",
            "requires max_tokens: give max_completion_tokens",
        ),
        (chat(n=2), "not_translatable", "body field 'n' has no counterpart"),
        (chat(logprobs=True), "not_translatable", "body field 'logprobs' has no counterpart"),
        (chat(response_format={"type": "json_object"}), "not_translatable", "'response_format'"),
        (chat("has space"), "bad_custom_id", "custom_id 'has space' is not one Anthropic takes"),
        (chat("x" * 65), "bad_custom_id", "1 to 64 letters"),
        ({**chat(), "url": "/v1/embeddings"}, "wrong_endpoint", "a job on Anthropic sends chat requests"),
        (chat(messages=[{"role": "system", "content": "only"}]), "bad_message", "no user or assistant message"),
        (chat(messages=[{"role": "critic", "content": "x"}]), "bad_message", "role 'critic'"),
        (
            chat(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]),
            "not_translatable",
            "'input_audio' part",
        ),
        (
            chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]),
            "not_translatable",
            "neither a data: nor an http URL",
        ),
        (chat(tools=[{"type": "web_search"}]), "not_translatable", "only function tools"),
        (chat(tool_choice="sometimes"), "not_translatable", "tool_choice 'sometimes'"),
        (chat(stop=3), "not_translatable", "stop must be a string or a list"),
        ({"custom_id": "n-1", "params": []}, "body_not_object", "params must be a JSON object"),
        ({"custom_id": "n-1", "params": {"max_tokens": 5, "messages": []}}, "missing_field", "params needs a model"),
        (
            {"custom_id": "n-1", "params": {"model": "m", "messages": []}},
            "missing_max_tokens",
            "requires max_tokens",
        ),
        ({"custom_id": "n-1", "params": {"model": "m", "max_tokens": 5}}, "missing_field", "needs messages"),
        ({"custom_id": 7, "params": {}}, "bad_custom_id", "custom_id must be a non-empty string"),
    ],
)
def test_what_anthropic_cannot_take_is_refused_by_line_and_reason(
    line: dict[str, Any], reason: str, message: str
) -> None:
    with pytest.raises(BatchInputError, match=message) as caught:
        checked(line, 7, Path("in.jsonl"))
    assert (caught.value.reason, caught.value.line, caught.value.path) == (reason, 7, Path("in.jsonl"))
    assert str(caught.value).startswith("in.jsonl, line 7: ")


def test_a_line_that_is_not_an_object_is_left_to_the_batch_line_checks() -> None:
    assert checked([1, 2], 1, None) == [1, 2]
