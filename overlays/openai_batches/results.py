"""Typed batch results: one `BatchResult` per line of a batch's output or error file.

A result line is `{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`. Parsing keeps the
body as the dict it is and builds the typed views (`chat_completion()`, `response()`, `embeddings()`) only when
asked, so reading a 200 MB output file costs little more than `json.loads` per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ._exceptions import OpenAIBatchesError

__all__ = [
    "BatchResult",
    "BatchResultError",
    "BatchResults",
    "ChatChoice",
    "ChatCompletion",
    "Embeddings",
    "ResponseOutput",
    "TokenUsage",
]


@attrs.frozen(slots=True)
class BatchResultError:
    """Why a request of the batch failed: from the line's `error`, or from the error body of its response."""

    code: str | None
    message: str | None


@attrs.frozen(slots=True)
class TokenUsage:
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None


@attrs.frozen(slots=True)
class ChatChoice:
    index: int | None
    role: str | None
    content: str | None
    finish_reason: str | None
    refusal: str | None = None


@attrs.frozen(slots=True)
class ChatCompletion:
    """The parts of a `/v1/chat/completions` answer most batch jobs read; `raw` holds the whole body."""

    id: str | None
    model: str | None
    choices: tuple[ChatChoice, ...]
    usage: TokenUsage | None
    raw: Mapping[str, Any] = attrs.field(repr=False)

    @property
    def text(self) -> str | None:
        """The first choice's message content."""
        return self.choices[0].content if self.choices else None


@attrs.frozen(slots=True)
class ResponseOutput:
    """The parts of a `/v1/responses` answer most batch jobs read; `raw` holds the whole body."""

    id: str | None
    model: str | None
    status: str | None
    output_text: str | None
    usage: TokenUsage | None
    raw: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen(slots=True)
class Embeddings:
    """A `/v1/embeddings` answer: one vector per input, in input order."""

    model: str | None
    vectors: tuple[tuple[float, ...], ...]
    usage: TokenUsage | None
    raw: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen(slots=True)
class BatchResult:
    """The outcome of one request of a batch."""

    custom_id: str
    status_code: int | None
    body: Mapping[str, Any] | None
    error: BatchResultError | None
    request_id: str | None
    id: str | None

    @property
    def ok(self) -> bool:
        """The request ran and its endpoint answered with a success status."""
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    @property
    def text(self) -> str | None:
        """The generated text of a chat completion or a response; None for other bodies and for failures."""
        if not self.ok:
            return None
        chat = self.chat_completion()
        if chat is not None:
            return chat.text
        response = self.response()
        return response.output_text if response is not None else None

    def chat_completion(self) -> ChatCompletion | None:
        """The body as a chat completion, or None when it is not one."""
        body = self.body
        if not self.ok or body is None or not isinstance(body.get("choices"), list):
            return None
        choices = []
        for position, choice in enumerate(body["choices"]):
            if not isinstance(choice, Mapping):
                continue
            message = choice.get("message")
            message = message if isinstance(message, Mapping) else {}
            choices.append(
                ChatChoice(
                    index=_int(choice.get("index"), position),
                    role=_str(message.get("role")),
                    content=_str(message.get("content")),
                    finish_reason=_str(choice.get("finish_reason")),
                    refusal=_str(message.get("refusal")),
                )
            )
        return ChatCompletion(
            id=_str(body.get("id")),
            model=_str(body.get("model")),
            choices=tuple(choices),
            usage=_usage(body.get("usage")),
            raw=body,
        )

    def response(self) -> ResponseOutput | None:
        """The body as a Responses API answer, or None when it is not one."""
        body = self.body
        if not self.ok or body is None or not isinstance(body.get("output"), list):
            return None
        text = body.get("output_text")
        if not isinstance(text, str):
            # The SDKs' `output_text` is a convenience the HTTP body lacks: join the message texts.
            parts: list[str] = []
            for item in body["output"]:
                contents = item.get("content") if isinstance(item, Mapping) and item.get("type") == "message" else None
                for content in contents if isinstance(contents, list) else []:
                    if isinstance(content, Mapping) and isinstance(content.get("text"), str):
                        parts.append(content["text"])
            text = "".join(parts) if parts else None
        return ResponseOutput(
            id=_str(body.get("id")),
            model=_str(body.get("model")),
            status=_str(body.get("status")),
            output_text=text,
            usage=_usage(body.get("usage")),
            raw=body,
        )

    def embeddings(self) -> Embeddings | None:
        """The body as an embeddings answer, or None when it is not one."""
        body = self.body
        data = body.get("data") if body is not None else None
        if not self.ok or body is None or not isinstance(data, list):
            return None
        items = sorted(
            (item for item in data if isinstance(item, Mapping) and isinstance(item.get("embedding"), list)),
            key=lambda item: _int(item.get("index"), 0) or 0,
        )
        return Embeddings(
            model=_str(body.get("model")),
            vectors=tuple(tuple(item["embedding"]) for item in items),
            usage=_usage(body.get("usage")),
            raw=body,
        )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _usage(value: object) -> TokenUsage | None:
    if not isinstance(value, Mapping):
        return None
    # Chat completions count prompt/completion tokens, the Responses API input/output tokens.
    return TokenUsage(
        input_tokens=_int(value.get("input_tokens", value.get("prompt_tokens"))),
        output_tokens=_int(value.get("output_tokens", value.get("completion_tokens"))),
        total_tokens=_int(value.get("total_tokens")),
    )


def parse_result_line(line: str | bytes, number: int) -> BatchResult | None:
    """One line of an output or error file; None for a blank line."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise OpenAIBatchesError(f"Line {number} of the result file is not JSON: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        raise OpenAIBatchesError(f"Line {number} of the result file has no custom_id")
    response = record.get("response")
    status_code = request_id = body = None
    if isinstance(response, dict):
        status_code = _int(response.get("status_code"))
        request_id = _str(response.get("request_id"))
        raw_body = response.get("body")
        body = raw_body if isinstance(raw_body, dict) else None
    error = _error(record.get("error"), body, status_code)
    return BatchResult(record["custom_id"], status_code, body, error, request_id, _str(record.get("id")))


def _error(line_error: object, body: Mapping[str, Any] | None, status_code: int | None) -> BatchResultError | None:
    if isinstance(line_error, dict):
        return BatchResultError(code=_str(line_error.get("code")), message=_str(line_error.get("message")))
    if status_code is not None and 200 <= status_code < 300:
        return None
    detail = body.get("error") if body is not None else None
    if isinstance(detail, dict):
        return BatchResultError(
            code=_str(detail.get("code")) or _str(detail.get("type")), message=_str(detail.get("message"))
        )
    if status_code is None:
        return BatchResultError(code=None, message="the line has neither a response nor an error")
    return BatchResultError(code=None, message=f"status {status_code}")


class BatchResults(Mapping[str, BatchResult]):
    """Results keyed by `custom_id`, with the ids that were submitted but came back with no result."""

    def __init__(self, results: dict[str, BatchResult], missing: frozenset[str], expected_known: bool) -> None:
        self._results = results
        self.missing = missing
        """Submitted custom_ids with no line in the output or error file (empty when `expected_known` is False)."""
        self.expected_known = expected_known
        """Whether the submitted ids were known (from `expected=` or the batch's input file)."""

    def __getitem__(self, custom_id: str) -> BatchResult:
        return self._results[custom_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def succeeded(self) -> dict[str, BatchResult]:
        return {key: result for key, result in self._results.items() if result.ok}

    @property
    def failed(self) -> dict[str, BatchResult]:
        return {key: result for key, result in self._results.items() if not result.ok}

    def __repr__(self) -> str:
        return (
            f"BatchResults(results={len(self._results)}, succeeded={len(self.succeeded)}, "
            f"failed={len(self.failed)}, missing={len(self.missing)})"
        )
