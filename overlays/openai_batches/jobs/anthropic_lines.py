"""A job's lines as Anthropic's Message Batches takes them: Batch API chat lines translated, native lines checked.

A job on Anthropic reads the same JSONL as one on OpenAI: lines of `/v1/chat/completions` requests, translated into
Messages params when their shard is sent, or Anthropic's own `{"custom_id": ..., "params": {...}}` lines, sent as
they are. Both are checked when the job is created, so that a line Anthropic could not take is refused then, by its
line number, and not after half the job has run. The job's checks, token estimate and cost bound read every line as
a chat request (`checked`); `to_request` gives what is sent.

Only what has a counterpart in the Messages API is translated: system and developer messages become `system`,
text and image parts become content blocks, function tools and tool calls become `tools`, `tool_use` and
`tool_result` blocks, `stop` becomes `stop_sequences`, `user` becomes `metadata.user_id`. A field with no
counterpart (`n` above 1, `logprobs`, `response_format`, ...) is refused rather than dropped, since dropping it would
change what the request asks. Anthropic requires `max_tokens`: a chat line gives it as `max_completion_tokens` or
`max_tokens`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ..batch_input import BatchInputError

CHAT: Final = "/v1/chat/completions"
# Anthropic's rule for a request's custom_id.
CUSTOM_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Chat fields carried over under the same name, and Anthropic's own fields a chat line may use.
_SAME: Final = frozenset({"model", "temperature", "top_p", "top_k", "thinking", "stop_sequences"})
# Chat fields with a counterpart of another shape.
_MAPPED: Final = frozenset(
    {"messages", "max_tokens", "max_completion_tokens", "stop", "user", "tools", "tool_choice", "parallel_tool_calls"}
)
# Chat fields that change nothing when they hold these values.
_NEUTRAL: Final = {"n": 1, "stream": False}
_DATA_URL: Final = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)", re.DOTALL)


class _Refusal(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def checked(parsed: object, number: int | None, path: Path | None) -> object:
    """The line as the job's checks read it (a chat request), or BatchInputError naming what Anthropic refuses.

    A native line is read as a chat request whose body is its params; a chat line is translated once here, to find
    what cannot be, and returned as it is.
    """
    if not isinstance(parsed, Mapping):
        return parsed  # refused as the chat line checks refuse it
    custom_id = parsed.get("custom_id")
    shown_id = custom_id if isinstance(custom_id, str) else None
    try:
        if "params" in parsed and "url" not in parsed:
            _check_custom_id(custom_id)
            params = parsed["params"]
            if not isinstance(params, Mapping):
                raise _Refusal("body_not_object", "params must be a JSON object (a dict)")
            _check_native(params)
            return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": params}
        url = parsed.get("url")
        if isinstance(url, str) and url != CHAT:
            raise _Refusal("wrong_endpoint", f"url is {url!r}; a job on Anthropic sends chat requests ({CHAT})")
        body = parsed.get("body")
        if isinstance(custom_id, str):
            _check_custom_id(custom_id)
        if isinstance(body, Mapping):
            params_of(body)
    except _Refusal as refusal:
        raise BatchInputError(refusal.reason, refusal.message, line=number, custom_id=shown_id, path=path) from None
    return parsed


def to_request(line: bytes) -> dict[str, Any]:
    """The `{"custom_id", "params"}` request Anthropic is sent for one input line (checked when the job was
    created: BatchInputError here means the line changed since, which the shard's digest check finds first)."""
    parsed = json.loads(line)
    try:
        if "params" in parsed and "url" not in parsed:
            return {"custom_id": parsed["custom_id"], "params": parsed["params"]}
        return {"custom_id": parsed["custom_id"], "params": params_of(parsed["body"])}
    except _Refusal as refusal:
        raise BatchInputError(refusal.reason, refusal.message, custom_id=parsed.get("custom_id")) from None


def _check_custom_id(custom_id: object) -> None:
    if isinstance(custom_id, str) and not CUSTOM_ID.fullmatch(custom_id):
        raise _Refusal(
            "bad_custom_id",
            f"custom_id {custom_id[:70]!r} is not one Anthropic takes: 1 to 64 letters, digits, '_' or '-'",
        )
    if not isinstance(custom_id, str):
        raise _Refusal("bad_custom_id", "custom_id must be a non-empty string")


def _check_native(params: Mapping[str, Any]) -> None:
    if not isinstance(params.get("model"), str) or not params["model"]:
        raise _Refusal("missing_field", "params needs a model")
    _max_tokens(params.get("max_tokens"), "params.max_tokens")
    if not isinstance(params.get("messages"), list):
        raise _Refusal("missing_field", "params needs messages, a list")


def _max_tokens(value: object, name: str) -> int:
    if value is None:
        raise _Refusal(
            "missing_max_tokens",
            "Anthropic's Messages API requires max_tokens: give max_completion_tokens (or max_tokens) in the body",
        )
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Refusal("bad_max_tokens", f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def params_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Messages params a chat completions body asks for."""
    for key, value in body.items():
        if key in _SAME or key in _MAPPED:
            continue
        if key in _NEUTRAL and value == _NEUTRAL[key]:
            continue
        raise _Refusal("not_translatable", f"body field {key!r} has no counterpart in Anthropic's Messages API")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _Refusal("missing_field", "body needs a model")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    params: dict[str, Any] = {"model": model, "max_tokens": _max_tokens(limit, "max_completion_tokens")}
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Refusal("missing_field", "body needs messages, a non-empty list")
    system, turns = _messages(messages)
    if system:
        params["system"] = system
    params["messages"] = turns
    for key in sorted(_SAME - {"model"}):
        if key in body:
            params[key] = body[key]
    stop = body.get("stop")
    if isinstance(stop, str):
        params["stop_sequences"] = [stop]
    elif isinstance(stop, list):
        params["stop_sequences"] = stop
    elif stop is not None:
        raise _Refusal("not_translatable", "stop must be a string or a list of strings")
    user = body.get("user")
    if user is not None:
        params["metadata"] = {"user_id": user}
    if "tools" in body:
        params["tools"] = _tools(body["tools"])
    choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if choice is not None:
        params["tool_choice"] = choice
    return params


def _messages(messages: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, turns): system and developer messages leave the turns, tool answers join the user's."""
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise _Refusal("bad_message", f"messages[{position}] must be an object")
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system += [{"type": "text", "text": text} for text in _texts(content, position)]
        elif role == "user":
            turns.append({"role": "user", "content": _content(content, position)})
        elif role == "assistant":
            blocks: list[dict[str, Any]] = []
            if content is not None and content != "":
                blocks += _blocks(content, position)
            for call in message.get("tool_calls") or []:
                blocks.append(_tool_use(call, position))
            if not blocks:
                raise _Refusal("bad_message", f"messages[{position}] (assistant) has no content")
            turns.append({"role": "assistant", "content": blocks})
        elif role == "tool":
            result = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": _content(content, position),
            }
            if turns and turns[-1]["role"] == "user" and isinstance(turns[-1]["content"], list):
                turns[-1]["content"].append(result)
            else:
                turns.append({"role": "user", "content": [result]})
        else:
            raise _Refusal("bad_message", f"messages[{position}] has role {role!r}, which the Messages API lacks")
    if not turns:
        raise _Refusal("bad_message", "messages hold no user or assistant message (the Messages API needs one)")
    return system, turns


def _texts(content: object, position: int) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        texts = []
        for part in content:
            if not (isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                raise _Refusal("not_translatable", f"messages[{position}] (system) may hold only text parts")
            texts.append(part["text"])
        return texts
    raise _Refusal("bad_message", f"messages[{position}] content must be a string or a list of parts")


def _content(content: object, position: int) -> str | list[dict[str, Any]]:
    return content if isinstance(content, str) else _blocks(content, position)


def _blocks(content: object, position: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _Refusal("bad_message", f"messages[{position}] content must be a string or a list of parts")
    return [_block(part, position) for part in content]


def _block(part: object, position: int) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if isinstance(part, Mapping) and kind == "text":
        return {"type": "text", "text": part.get("text")}
    if isinstance(part, Mapping) and kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if isinstance(url, str) and (match := _DATA_URL.fullmatch(url)):
            source = {"type": "base64", "media_type": match["type"], "data": match["data"]}
            return {"type": "image", "source": source}
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return {"type": "image", "source": {"type": "url", "url": url}}
        raise _Refusal("not_translatable", f"messages[{position}] has an image that is neither a data: nor an http URL")
    raise _Refusal("not_translatable", f"messages[{position}] has a {kind!r} part, which is not translated")


def _tool_use(call: object, position: int) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(call, Mapping) or call.get("type", "function") != "function" or not isinstance(function, Mapping):
        raise _Refusal("not_translatable", f"messages[{position}] has a tool call that is not a function call")
    arguments = function.get("arguments")
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        raise _Refusal("not_translatable", f"messages[{position}] has tool call arguments that are not JSON") from None
    if not isinstance(parsed, Mapping):
        raise _Refusal("not_translatable", f"messages[{position}] has tool call arguments that are not an object")
    return {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": parsed}


def _tools(tools: object) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise _Refusal("not_translatable", "tools must be a list")
    out = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(function, Mapping):
            raise _Refusal("not_translatable", "only function tools have a counterpart in the Messages API")
        entry = {"name": function.get("name"), "input_schema": function.get("parameters") or {"type": "object"}}
        if function.get("description") is not None:
            entry["description"] = function["description"]
        out.append(entry)
    return out


def _tool_choice(choice: object, parallel: object) -> dict[str, Any] | None:
    result: dict[str, Any] | None
    if choice is None:
        result = None
    elif choice == "auto":
        result = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        result = {"type": "none"}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        result = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise _Refusal("not_translatable", f"tool_choice {choice!r} has no counterpart in the Messages API")
    if parallel is False:
        result = {**(result or {"type": "auto"}), "disable_parallel_tool_use": True}
    return result
