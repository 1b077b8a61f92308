"""Deterministic offline answers for each request line, shaped like the real endpoints' response bodies.

Each answer is derived only from the request body, so the same input file always yields the same output content
(ids and `created` timestamps aside): chat, responses and completions echo the last user text ("Echo: ..."),
embeddings are unit vectors drawn from a hash of model and input, moderations flag a few trigger words. Token usage
counts whitespace-separated words, which is crude but stable and adds up across a batch.

Chat and Responses requests that ask for structure get it (`structured_answers`): a `json_schema` response format
gets JSON content valid against the schema, `json_object` a JSON object, and a `tool_choice` that forces a call gets
a function call with arguments valid against the function's `parameters`; the values are seeded with the custom_id.
JSON output is counted at four characters a token, and tool definitions and formats add to the prompt tokens.

Making a line fail on purpose (so error files can be produced and tested):

- a `custom_id` starting with `fail-` answers 400 with an `invalid_request_error` body;
- a body key `"x_fail"` chooses the failure: `true` for that same 400, or an object
  `{"status_code": 500, "message": "...", "type": "server_error", "code": "..."}` (every key optional).

Either way the line lands in the batch's error file as `{"response": {"status_code": <4xx/5xx>, "body": {"error":
{...}}}}`, and counts as failed. Requests missing what the real endpoint requires (a chat request without `model` or
`messages`, say) fail the same way, with the real API's message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import structured_answers as structured
from .errors import SERVER_ERROR_MESSAGE, json_type_name

logger = logging.getLogger(__name__)

FAIL_PREFIX = "fail-"
# The request-line URL of the internal batches that carry Anthropic Message Batches (see `anthropic_batches`).
MESSAGES_ENDPOINT = "/v1/messages"
FAIL_KEY = "x_fail"

_ERROR_TYPES = {429: "requests", 500: "server_error", 502: "server_error", 503: "server_error"}
_ERROR_CODES = {429: "rate_limit_exceeded"}


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: dict[str, Any]
    input_tokens: int = 0
    output_tokens: int = 0
    model: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class RequestRejected(Exception):
    """The body lacks something the real endpoint requires; becomes a 400 line in the error file."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


Responder = Callable[[Mapping[str, Any], str, int], Reply]


def respond(endpoint: str, custom_id: str, body: Mapping[str, Any], *, now: int) -> Reply:
    forced = _forced_failure(custom_id, body)
    if forced is not None:
        return forced
    # Anthropic's Messages answers serve only the internal batches behind /v1/messages/batches, never /v1/batches.
    responder = _anthropic_message if endpoint == MESSAGES_ENDPOINT else RESPONDERS.get(endpoint, _generic)
    try:
        return responder(body, custom_id, now)
    except (RequestRejected, structured.StructuredRejected) as exc:
        return error_reply(400, exc.message, param=exc.param, code=exc.code)
    except Exception:
        # A body shape no responder foresaw costs that one line a 500, as a server bug would on the real service,
        # instead of failing the whole batch.
        logger.exception("responder for %s failed on %s", endpoint, custom_id)
        return error_reply(500, SERVER_ERROR_MESSAGE)


def error_reply(
    status: int, message: str, *, error_type: str | None = None, param: str | None = None, code: str | None = None
) -> Reply:
    default_type = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    error = {
        "message": message,
        "type": error_type or default_type,
        "param": param,
        "code": code if code is not None else _ERROR_CODES.get(status),
    }
    return Reply(status, {"error": error})


def _forced_failure(custom_id: str, body: Mapping[str, Any]) -> Reply | None:
    spec = body.get(FAIL_KEY)
    if spec is None or spec is False:
        if not custom_id.startswith(FAIL_PREFIX):
            return None
        spec = True
    if not isinstance(spec, Mapping):
        return error_reply(400, f"Failed on purpose: custom_id starts with '{FAIL_PREFIX}' or the body sets x_fail.")
    status = spec.get("status_code", 400)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        return error_reply(400, "x_fail.status_code must be an integer from 400 to 599.", param=FAIL_KEY)
    message = spec.get("message")
    error_type = spec.get("type")
    code = spec.get("code")
    return error_reply(
        status,
        message if isinstance(message, str) else f"Failed on purpose (x_fail, status {status}).",
        error_type=error_type if isinstance(error_type, str) else None,
        code=code if isinstance(code, str) else None,
    )


# --- text helpers ---


def words(text: str) -> int:
    return len(text.split())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _text_of(content: object) -> str:
    """The text in a message `content`: a string, or a list of parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return " ".join(texts)
    return ""


def _echo(text: str) -> str:
    return f"Echo: {text.strip()}" if text.strip() else "Echo: (no text)"


def _truncate(reply: str, limit: object) -> tuple[str, bool]:
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 and words(reply) > limit:
        return " ".join(reply.split()[:limit]), True
    return reply, False


def _model_or(body: Mapping[str, Any], default: str) -> str:
    model = body.get("model")
    return model if isinstance(model, str) and model else default


def _require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestRejected("you must provide a model parameter")
    return model


def _choices_count(body: Mapping[str, Any]) -> int:
    n = body.get("n", 1)
    if n is None:
        return 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        raise RequestRejected(f"Invalid 'n': expected an integer from 1 to 128, got {n!r}.", param="n")
    return n


def _number(body: Mapping[str, Any], name: str, default: float, maximum: float) -> float:
    """A sampling parameter the answer echoes: a number from 0 to `maximum`, refused otherwise as the API does."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestRejected(
            f"Invalid type for '{name}': expected a decimal, but got {json_type_name(value)} instead.",
            name,
            "invalid_type",
        )
    if not 0 <= value <= maximum:
        raise RequestRejected(
            f"Invalid '{name}': expected a number from 0 to {maximum:g}, but got {value} instead.",
            name,
            "invalid_value",
        )
    return float(value)


def _optional_int(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestRejected(f"Invalid '{name}': expected a positive integer, got {value!r}.", name, "invalid_value")
    return value


def _metadata(body: Mapping[str, Any]) -> dict[str, str]:
    """Up to 16 string pairs, keys up to 64 characters and values up to 512, as the API documents."""
    value = body.get("metadata")
    if value is None:
        return {}
    if (
        not isinstance(value, Mapping)
        or len(value) > 16
        or any(not isinstance(v, str) or len(k) > 64 or len(v) > 512 for k, v in value.items())
    ):
        raise RequestRejected(
            "Invalid 'metadata': expected an object of at most 16 string values, keys up to 64 characters and "
            "values up to 512.",
            "metadata",
            "invalid_value",
        )
    return dict(value)


def _choice(body: Mapping[str, Any], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = body.get(name, default)
    if value not in choices:
        supported = ", ".join(f"'{choice}'" for choice in choices)
        raise RequestRejected(f"Invalid value: {value!r}. Supported values are: {supported}.", name, "invalid_value")
    return str(value)


# --- endpoints ---


def _chat_completion(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    model = _require_model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestRejected("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    n = _choices_count(body)
    texts = [_text_of(m.get("content")) for m in messages if isinstance(m, Mapping)]
    last_user = next(
        (_text_of(m.get("content")) for m in reversed(messages) if isinstance(m, Mapping) and m.get("role") == "user"),
        "",
    )
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    prompt_tokens = sum(words(t) for t in texts)
    # A few look-ups decide whether a line wants more than text; only then is anything else read.
    plan = None
    if (
        "response_format" in body
        or "tools" in body
        or "tool_choice" in body
        or "functions" in body
        or "function_call" in body
    ):
        plan = structured.chat_plan(body, texts)
        prompt_tokens += structured.definition_tokens(body, structured.CHAT_DEFINITIONS)
    if plan is None:
        reply, truncated = _truncate(_echo(last_user), limit)
        completion_tokens = words(reply) * n
        choice: dict[str, Any] = {
            "message": {"role": "assistant", "content": reply, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "length" if truncated else "stop",
        }
        choices = [{"index": i, **choice} for i in range(n)]
    else:
        choices = []
        completion_tokens = 0
        for index in range(n):
            answer = plan.answer(f"{custom_id}\x00{index}", _echo(last_user))
            message, finish_reason, tokens = _chat_message(answer, limit, _digest(model, custom_id, str(index)))
            choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": finish_reason})
            completion_tokens += tokens
    response = {
        "id": "chatcmpl-" + _digest(model, custom_id, "chat")[:29],
        "object": "chat.completion",
        "created": now,
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_offline",
    }
    return Reply(200, response, prompt_tokens, completion_tokens, model)


def _chat_message(answer: structured.Answer, limit: object, digest: str) -> tuple[dict[str, Any], str, int]:
    """The assistant message of a structured answer, its finish_reason and its completion tokens."""
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if answer.content is not None:
        content, truncated = _truncate_json(answer.content, limit)
        message["content"] = content
        return message, "length" if truncated else "stop", structured.json_tokens(content)
    tokens = sum(structured.json_tokens(call.name) + structured.json_tokens(call.arguments) for call in answer.calls)
    if answer.legacy:
        call = answer.calls[0]
        message["function_call"] = {"name": call.name, "arguments": call.arguments}
        return message, "function_call", tokens
    message["tool_calls"] = [
        {
            "id": "call_" + _digest(digest, str(number))[:24],
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for number, call in enumerate(answer.calls)
    ]
    return message, "stop" if answer.named else "tool_calls", tokens


def _truncate_json(text: str, limit: object) -> tuple[str, bool]:
    """JSON cut where the token limit falls, as a model stopped mid-answer leaves it (no longer parseable)."""
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 and structured.json_tokens(text) > limit:
        return text[: limit * 4], True
    return text, False


def _response_input_texts(value: object) -> tuple[list[str], str]:
    """All input texts, and the last user text, of a Responses API `input` (a string or a list of items)."""
    if isinstance(value, str):
        return [value], value
    texts: list[str] = []
    last_user = ""
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, Mapping):
                continue
            text = _text_of(item.get("content"))
            texts.append(text)
            if item.get("role", "user") == "user" and text:
                last_user = text
    return texts, last_user


def _response(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    model = _require_model(body)
    if "input" not in body:
        raise RequestRejected("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    texts, last_user = _response_input_texts(body.get("input"))
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        texts.append(instructions)
    temperature = _number(body, "temperature", 1.0, 2)
    top_p = _number(body, "top_p", 1.0, 1)
    max_output_tokens = _optional_int(body, "max_output_tokens")
    metadata = _metadata(body)
    user = body.get("user")
    input_tokens = sum(words(t) for t in texts)
    digest = _digest(model, custom_id, "response")
    answer = None
    text_format: dict[str, Any] = {"type": "text"}
    tool_choice: object = "auto"
    tools: list[Any] = []
    if "text" in body or "tools" in body or "tool_choice" in body:
        request = structured.response_request(body, texts)
        input_tokens += structured.definition_tokens(body, structured.RESPONSE_DEFINITIONS)
        text_format, tool_choice, tools = request.text_format, request.tool_choice, request.tools
        if request.plan is not None:
            answer = request.plan.answer(custom_id, _echo(last_user))
    output: list[dict[str, Any]]
    truncated = False
    if answer is not None and answer.calls:
        output = [
            {
                "type": "function_call",
                "id": "fc_" + _digest(digest, "call", str(number))[:48],
                "call_id": "call_" + _digest(digest, "call_id", str(number))[:24],
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
            for number, call in enumerate(answer.calls)
        ]
        output_tokens = sum(
            structured.json_tokens(call.name) + structured.json_tokens(call.arguments) for call in answer.calls
        )
    else:
        if answer is None or answer.content is None:
            reply, truncated = _truncate(_echo(last_user), max_output_tokens)
            output_tokens = words(reply)
        else:
            reply, truncated = _truncate_json(answer.content, max_output_tokens)
            output_tokens = structured.json_tokens(reply)
        output = [
            {
                "type": "message",
                "id": "msg_" + digest[16:64],
                "status": "incomplete" if truncated else "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply, "annotations": [], "logprobs": []}],
            }
        ]
    response = {
        "id": "resp_" + digest[:48],
        "object": "response",
        "created_at": now,
        "status": "incomplete" if truncated else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if truncated else None,
        "instructions": instructions if isinstance(instructions, str) else None,
        "max_output_tokens": max_output_tokens,
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": temperature,
        "text": {"format": text_format},
        "tool_choice": tool_choice,
        "tools": tools,
        "top_p": top_p,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "metadata": metadata,
    }
    # `user` is a string when present (the schema has no null for it): echoed only when the request set one.
    if isinstance(user, str):
        response["user"] = user
    return Reply(200, response, input_tokens, output_tokens, model)


def embedding_vector(model: str, text: str, dimensions: int) -> list[float]:
    """A unit vector fixed by (model, text): equal inputs embed equally, different inputs almost never do."""
    raw = hashlib.shake_256(f"{model}\x00{text}".encode()).digest(4 * dimensions)
    values = [x / 2**31 - 1.0 for x in struct.unpack(f"<{dimensions}I", raw)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


def _embedding(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    model = _require_model(body)
    value = body.get("input")
    if value is None:
        raise RequestRejected("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, int) for v in value)):
        items: list[object] = [value]
    elif isinstance(value, list) and value:
        items = list(value)
    else:
        raise RequestRejected("'$.input' is invalid. Please check the API reference.", "input")
    dimensions = body.get("dimensions")
    if dimensions is None:
        dimensions = 3072 if "large" in model else 1536
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 3072:
        raise RequestRejected("Invalid 'dimensions': expected an integer from 1 to 3072.", "dimensions")
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, item in enumerate(items):
        if isinstance(item, str):
            key, tokens = item, tokens + words(item)
        elif isinstance(item, list) and all(isinstance(v, int) for v in item):
            key, tokens = ",".join(map(str, item)), tokens + len(item)
        else:
            raise RequestRejected("'$.input' is invalid. Please check the API reference.", "input")
        vector = embedding_vector(model, key, dimensions)
        encoded: object = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode("ascii") if as_base64 else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    response = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return Reply(200, response, tokens, 0, model)


def _completion(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    model = _require_model(body)
    prompt = body.get("prompt", "<|endoftext|>")
    prompts = prompt if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt) else [prompt]
    n = _choices_count(body)
    # The real endpoint's max_tokens defaults to 16.
    limit = body.get("max_tokens", 16)
    choices: list[dict[str, Any]] = []
    prompt_tokens = completion_tokens = 0
    for prompt_text in prompts:
        text = prompt_text if isinstance(prompt_text, str) else ""
        prompt_tokens += words(text)
        reply, truncated = _truncate(_echo(text), limit)
        for _ in range(n):
            completion_tokens += words(reply)
            choices.append(
                {
                    "text": " " + reply,
                    "index": len(choices),
                    "logprobs": None,
                    "finish_reason": "length" if truncated else "stop",
                }
            )
    response = {
        "id": "cmpl-" + _digest(model, custom_id, "completion")[:29],
        "object": "text_completion",
        "created": now,
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_offline",
    }
    return Reply(200, response, prompt_tokens, completion_tokens, model)


MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Small and obvious on purpose: enough to produce flagged results in tests and demos, never a real classifier.
MODERATION_TRIGGERS = {
    "harassment": frozenset({"idiot", "stupid", "loser"}),
    "hate": frozenset({"hate"}),
    "illicit": frozenset({"steal", "smuggle"}),
    "self-harm": frozenset({"self-harm"}),
    "violence": frozenset({"kill", "attack", "murder", "hurt"}),
}


def _moderation(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    value = body.get("input")
    if value is None:
        raise RequestRejected("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    model = _model_or(body, "omni-moderation-latest")
    items = value if isinstance(value, list) else [value]
    results = []
    for item in items:
        text = item if isinstance(item, str) else _text_of([item])
        lowered = {w.strip(".,!?;:\"'").lower() for w in text.split()}
        scores: dict[str, float] = {}
        flags: dict[str, bool] = {}
        for category in MODERATION_CATEGORIES:
            triggered = bool(lowered & MODERATION_TRIGGERS.get(category, frozenset()))
            noise = int(_digest(model, text, category)[:8], 16) / 2**32
            scores[category] = round(0.9 + noise * 0.09, 6) if triggered else round(noise * 0.001, 8)
            flags[category] = triggered
        results.append(
            {
                "flagged": any(flags.values()),
                "categories": flags,
                "category_scores": scores,
                "category_applied_input_types": {category: ["text"] for category in MODERATION_CATEGORIES},
            }
        )
    response = {"id": "modr-" + _digest(model, custom_id, "moderation")[:32], "model": model, "results": results}
    return Reply(200, response, 0, 0, model)


# A 1x1 transparent PNG: a real image body without shipping image data.
_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def _image(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise RequestRejected("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    n = _choices_count(body)
    model = _model_or(body, "gpt-image-1")
    input_tokens = words(prompt)
    response = {
        "created": now,
        "data": [{"b64_json": _PIXEL_PNG, "revised_prompt": prompt} for _ in range(n)],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
            "output_tokens": 0,
            "total_tokens": input_tokens,
        },
    }
    return Reply(200, response, input_tokens, 0, model)


VIDEO_SECONDS = ("4", "8", "12")
VIDEO_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")


def _video(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise RequestRejected("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    model = _model_or(body, "sora-2")
    seconds = _choice(body, "seconds", "4", VIDEO_SECONDS)
    size = _choice(body, "size", "720x1280", VIDEO_SIZES)
    response = {
        "id": "video_" + _digest(model, custom_id, "video")[:32],
        "object": "video",
        "model": model,
        "status": "completed",
        "progress": 100,
        "created_at": now,
        "completed_at": now,
        "expires_at": now + 24 * 3600,
        "prompt": prompt,
        "seconds": seconds,
        "size": size,
        "remixed_from_video_id": None,
        "error": None,
    }
    return Reply(200, response, 0, 0, model)


def _generic(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    model = body.get("model") if isinstance(body.get("model"), str) else None
    response = {"id": "offline-" + _digest(custom_id, "generic")[:24], "object": "offline.response", "created": now}
    return Reply(200, response, 0, 0, model if isinstance(model, str) else None)


def _anthropic_message(body: Mapping[str, Any], custom_id: str, now: int) -> Reply:
    """An Anthropic Messages answer for a Message Batches request (`anthropic_batches` wraps its `params`)."""
    params = body.get("params")
    if not isinstance(params, Mapping):
        raise RequestRejected("params: Input should be a valid dictionary", "params")
    model = params.get("model")
    if not isinstance(model, str) or not model:
        raise RequestRejected("model: Field required", "model")
    max_tokens = params.get("max_tokens")
    if max_tokens is None:
        raise RequestRejected("max_tokens: Field required", "max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise RequestRejected("max_tokens: Input should be a valid integer greater than or equal to 1", "max_tokens")
    messages = params.get("messages")
    if not isinstance(messages, list):
        raise RequestRejected("messages: Field required", "messages")
    if not messages:
        raise RequestRejected("messages: at least one message is required", "messages")
    texts = [_text_of(m.get("content")) for m in messages if isinstance(m, Mapping)]
    texts.append(_text_of(params.get("system")))
    last_user = next(
        (_text_of(m.get("content")) for m in reversed(messages) if isinstance(m, Mapping) and m.get("role") == "user"),
        "",
    )
    reply, truncated = _truncate(_echo(last_user), max_tokens)
    input_tokens = sum(words(t) for t in texts)
    output_tokens = words(reply)
    message = {
        "id": "msg_01" + _digest(model, custom_id, "message")[:22],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply}],
        "stop_reason": "max_tokens" if truncated else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "batch",
        },
    }
    return Reply(200, message, input_tokens, output_tokens, model)


RESPONDERS: dict[str, Responder] = {
    "/v1/chat/completions": _chat_completion,
    "/v1/responses": _response,
    "/v1/embeddings": _embedding,
    "/v1/completions": _completion,
    "/v1/moderations": _moderation,
    "/v1/images/generations": _image,
    "/v1/images/edits": _image,
    "/v1/videos": _video,
}
