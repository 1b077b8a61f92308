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

from . import _json
from ._content import decode_line
from ._exceptions import OpenAIBatchesError

__all__ = [
    "BatchResult",
    "BatchResultError",
    "BatchResults",
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionMessage",
    "CompletionTokensDetails",
    "CompletionUsage",
    "Embedding",
    "EmbeddingUsage",
    "Embeddings",
    "InputTokensDetails",
    "OutputTokensDetails",
    "PromptTokensDetails",
    "ResponseOutput",
    "ResponseOutputContent",
    "ResponseOutputItem",
    "ResponseUsage",
    "ToolCall",
    "ToolCallFunction",
]


@attrs.frozen(slots=True)
class BatchResultError:
    """Why a request of the batch failed: from the line's `error`, or from the error body of its response."""

    code: str | None
    message: str | None


# The typed views below keep the official SDK's names and nesting (`choices[0].message.content`,
# `usage.prompt_tokens`, `data[0].embedding`), so code that read `ChatCompletion` objects reads these unchanged.
# A field the body lacks, or sends with another type, is None; `raw` always holds the whole body.


@attrs.frozen(slots=True)
class PromptTokensDetails:
    cached_tokens: int | None
    audio_tokens: int | None


@attrs.frozen(slots=True)
class CompletionTokensDetails:
    reasoning_tokens: int | None
    audio_tokens: int | None
    accepted_prediction_tokens: int | None
    rejected_prediction_tokens: int | None


@attrs.frozen(slots=True)
class CompletionUsage:
    """Token counts of a chat completion (and of `/v1/completions`)."""

    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


@attrs.frozen(slots=True)
class ToolCallFunction:
    name: str | None
    arguments: str | None
    """The arguments as the model wrote them: JSON text, not checked."""


@attrs.frozen(slots=True)
class ToolCall:
    id: str | None
    type: str | None
    function: ToolCallFunction | None


@attrs.frozen(slots=True)
class ChatCompletionMessage:
    role: str | None
    content: str | None
    refusal: str | None = None
    tool_calls: tuple[ToolCall, ...] | None = None


@attrs.frozen(slots=True)
class ChatChoice:
    index: int | None
    message: ChatCompletionMessage
    finish_reason: str | None


@attrs.frozen(slots=True)
class ChatCompletion:
    """A `/v1/chat/completions` answer; `raw` holds the whole body."""

    id: str | None
    object: str | None
    created: int | None
    model: str | None
    choices: tuple[ChatChoice, ...]
    usage: CompletionUsage | None
    service_tier: str | None
    system_fingerprint: str | None
    raw: Mapping[str, Any] = attrs.field(repr=False)

    @property
    def text(self) -> str | None:
        """The first choice's message content."""
        return self.choices[0].message.content if self.choices else None


@attrs.frozen(slots=True)
class ResponseOutputContent:
    """One part of a message item's `content` (`type` "output_text" with its `text`, or "refusal")."""

    type: str | None
    text: str | None
    refusal: str | None = None


@attrs.frozen(slots=True)
class ResponseOutputItem:
    """One item of a Responses API `output`: a message (`role`, `content`) or a call (`name`, `arguments`); `raw`
    holds the item."""

    type: str | None
    id: str | None
    status: str | None
    role: str | None
    content: tuple[ResponseOutputContent, ...]
    name: str | None
    arguments: str | None
    call_id: str | None
    raw: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen(slots=True)
class InputTokensDetails:
    cached_tokens: int | None


@attrs.frozen(slots=True)
class OutputTokensDetails:
    reasoning_tokens: int | None


@attrs.frozen(slots=True)
class ResponseUsage:
    """Token counts of a Responses API answer."""

    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None


@attrs.frozen(slots=True)
class ResponseOutput:
    """A `/v1/responses` answer (the SDK's `Response`); `output_text` joins the message texts, as the SDK's does."""

    id: str | None
    object: str | None
    created_at: int | None
    model: str | None
    status: str | None
    output: tuple[ResponseOutputItem, ...]
    output_text: str | None
    usage: ResponseUsage | None
    raw: Mapping[str, Any] = attrs.field(repr=False)


@attrs.frozen(slots=True)
class Embedding:
    index: int | None
    embedding: tuple[float, ...]
    object: str | None


@attrs.frozen(slots=True)
class EmbeddingUsage:
    prompt_tokens: int | None
    total_tokens: int | None


@attrs.frozen(slots=True)
class Embeddings:
    """A `/v1/embeddings` answer (the SDK's `CreateEmbeddingResponse`): `data[i].embedding`, in input order."""

    object: str | None
    model: str | None
    data: tuple[Embedding, ...]
    usage: EmbeddingUsage | None
    raw: Mapping[str, Any] = attrs.field(repr=False)

    @property
    def vectors(self) -> tuple[tuple[float, ...], ...]:
        """One vector per input, in input order."""
        return tuple(item.embedding for item in self.data)


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
        """The body as a chat completion, or None when it is not one.

        Returns:
            The typed completion, its `raw` the body; None for a failed request or another kind of body.
        """
        body = self.body
        if not self.ok or body is None or not isinstance(body.get("choices"), list):
            return None
        choices = tuple(
            ChatChoice(
                index=_int(choice.get("index"), position),
                message=_message(choice.get("message")),
                finish_reason=_str(choice.get("finish_reason")),
            )
            for position, choice in enumerate(body["choices"])
            if isinstance(choice, Mapping)
        )
        return ChatCompletion(
            id=_str(body.get("id")),
            object=_str(body.get("object")),
            created=_int(body.get("created")),
            model=_str(body.get("model")),
            choices=choices,
            usage=_completion_usage(body.get("usage")),
            service_tier=_str(body.get("service_tier")),
            system_fingerprint=_str(body.get("system_fingerprint")),
            raw=body,
        )

    def response(self) -> ResponseOutput | None:
        """The body as a Responses API answer, or None when it is not one.

        Returns:
            The typed answer, with `output_text` joined from the message texts when the body lacks it; None
            for a failed request or another kind of body.
        """
        body = self.body
        if not self.ok or body is None or not isinstance(body.get("output"), list):
            return None
        output = tuple(_output_item(item) for item in body["output"] if isinstance(item, Mapping))
        text = body.get("output_text")
        if not isinstance(text, str):
            # The SDKs' `output_text` is a convenience the HTTP body lacks: join the message texts.
            parts = [
                part.text
                for item in output
                if item.type == "message"
                for part in item.content
                if part.type == "output_text" and part.text is not None
            ]
            text = "".join(parts) if parts else None
        return ResponseOutput(
            id=_str(body.get("id")),
            object=_str(body.get("object")),
            created_at=_int(body.get("created_at")),
            model=_str(body.get("model")),
            status=_str(body.get("status")),
            output=output,
            output_text=text,
            usage=_response_usage(body.get("usage")),
            raw=body,
        )

    def embeddings(self) -> Embeddings | None:
        """The body as an embeddings answer, or None when it is not one.

        Returns:
            The typed answer, its vectors sorted by `index`; None for a failed request or another kind of body.
        """
        body = self.body
        data = body.get("data") if body is not None else None
        if not self.ok or body is None or not isinstance(data, list):
            return None
        items = sorted(
            (item for item in data if isinstance(item, Mapping) and isinstance(item.get("embedding"), list)),
            key=lambda item: _int(item.get("index"), 0) or 0,
        )
        usage = body.get("usage")
        return Embeddings(
            object=_str(body.get("object")),
            model=_str(body.get("model")),
            data=tuple(
                Embedding(
                    index=_int(item.get("index")), embedding=tuple(item["embedding"]), object=_str(item.get("object"))
                )
                for item in items
            ),
            usage=EmbeddingUsage(_int(usage.get("prompt_tokens")), _int(usage.get("total_tokens")))
            if isinstance(usage, Mapping)
            else None,
            raw=body,
        )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _message(value: object) -> ChatCompletionMessage:
    message = _mapping(value)
    calls = message.get("tool_calls")
    tool_calls = None
    if isinstance(calls, list):
        tool_calls = tuple(
            ToolCall(
                id=_str(call.get("id")),
                type=_str(call.get("type")),
                function=ToolCallFunction(
                    name=_str(_mapping(call.get("function")).get("name")),
                    arguments=_str(_mapping(call.get("function")).get("arguments")),
                )
                if isinstance(call.get("function"), Mapping)
                else None,
            )
            for call in calls
            if isinstance(call, Mapping)
        )
    return ChatCompletionMessage(
        role=_str(message.get("role")),
        content=_str(message.get("content")),
        refusal=_str(message.get("refusal")),
        tool_calls=tool_calls,
    )


def _completion_usage(value: object) -> CompletionUsage | None:
    if not isinstance(value, Mapping):
        return None
    prompt = value.get("prompt_tokens_details")
    completion = value.get("completion_tokens_details")
    return CompletionUsage(
        prompt_tokens=_int(value.get("prompt_tokens")),
        completion_tokens=_int(value.get("completion_tokens")),
        total_tokens=_int(value.get("total_tokens")),
        prompt_tokens_details=PromptTokensDetails(
            cached_tokens=_int(prompt.get("cached_tokens")), audio_tokens=_int(prompt.get("audio_tokens"))
        )
        if isinstance(prompt, Mapping)
        else None,
        completion_tokens_details=CompletionTokensDetails(
            reasoning_tokens=_int(completion.get("reasoning_tokens")),
            audio_tokens=_int(completion.get("audio_tokens")),
            accepted_prediction_tokens=_int(completion.get("accepted_prediction_tokens")),
            rejected_prediction_tokens=_int(completion.get("rejected_prediction_tokens")),
        )
        if isinstance(completion, Mapping)
        else None,
    )


def _response_usage(value: object) -> ResponseUsage | None:
    if not isinstance(value, Mapping):
        return None
    inputs = value.get("input_tokens_details")
    outputs = value.get("output_tokens_details")
    return ResponseUsage(
        input_tokens=_int(value.get("input_tokens")),
        output_tokens=_int(value.get("output_tokens")),
        total_tokens=_int(value.get("total_tokens")),
        input_tokens_details=InputTokensDetails(_int(inputs.get("cached_tokens")))
        if isinstance(inputs, Mapping)
        else None,
        output_tokens_details=OutputTokensDetails(_int(outputs.get("reasoning_tokens")))
        if isinstance(outputs, Mapping)
        else None,
    )


def _output_item(item: Mapping[str, Any]) -> ResponseOutputItem:
    content = item.get("content")
    return ResponseOutputItem(
        type=_str(item.get("type")),
        id=_str(item.get("id")),
        status=_str(item.get("status")),
        role=_str(item.get("role")),
        content=tuple(
            ResponseOutputContent(
                type=_str(part.get("type")), text=_str(part.get("text")), refusal=_str(part.get("refusal"))
            )
            for part in (content if isinstance(content, list) else [])
            if isinstance(part, Mapping)
        ),
        name=_str(item.get("name")),
        arguments=_str(item.get("arguments")),
        call_id=_str(item.get("call_id")),
        raw=item,
    )


_UNREAD: Any = object()


def parse_result_line(line: str | bytes, number: int) -> BatchResult | None:
    """One line of an output or error file, as text or as the UTF-8 bytes read; None for a blank line.

    Args:
    line: The line, without its line ending.
    number: Its line number in the file, named in an error.

    Returns:
        The result, or None for a blank line.

    Raises:
    OpenAIBatchesError: The line is not JSON (or not UTF-8), or has no custom_id.
    """
    record: object = _UNREAD
    if isinstance(line, bytes):
        fast = _json.fast
        if fast is not None:
            # Strict UTF-8 JSON in one pass, without decoding the line first; anything else is read as text below,
            # so a result or an error never depends on the decoder. (try, not contextlib.suppress: this runs per line.)
            try:  # noqa: SIM105
                record = fast(line)
            except _json.REFUSED:
                pass
        if record is _UNREAD:
            line = decode_line(line, number)
    if record is _UNREAD:
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
