"""Checks a batch input file the way the service does before it runs a single line.

The file is read as a stream of lines (it may be 200 MB); only the set of custom_ids is kept, which the uniqueness
rule needs anyway. Each bad line yields one entry `{"code", "message", "param", "line"}` with the 1-based physical
line number, the number an editor shows. Whitespace-only lines are skipped but still counted, so numbers stay true.
A line is parsed as strictly as it will later be written back (`strict_json`): a lone surrogate escape, `NaN` or
nesting past the depth limit makes it an `invalid_json_line` here, before any line runs, instead of breaking the run.
At most MAX_REPORTED_ERRORS entries are kept: a file broken on every line would otherwise make every poll of the
batch enormous. A batch created through an Azure path (its endpoint kept without `/v1`) takes line URLs with or
without `/v1`; any other batch takes only its endpoint exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .azure import openai_endpoint, url_matches
from .config import Limits
from .responders import respond
from .strict_json import NOT_JSON, JSONRejected, loads

MAX_REPORTED_ERRORS = 100

_URL_MESSAGE = "The URL provided for this request does not prefix-match the batch endpoint."
_DUPLICATE_MESSAGE = (
    "The custom_id for this request is a duplicate of another request. "
    "The custom_id parameter must be unique for each request in a batch."
)


@dataclass
class ValidationResult:
    requests: int = 0
    model: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    # The input tokens the answers will report in `usage`, summed (counted only when asked: it costs an answer).
    input_tokens: int = 0

    def add(self, code: str, message: str, *, param: str | None = None, line: int | None = None) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"code": code, "message": message, "param": param, "line": line})


def request_lines(stream: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(1-based line number, byte offset after the line, stripped content) for each non-blank line."""
    offset = stream.tell()
    for number, raw in enumerate(stream, start=1):
        offset += len(raw)
        content = raw.strip()
        if number == 1 and content.startswith(b"\xef\xbb\xbf"):
            content = content[3:].strip()
        if content:
            yield number, offset, content


def validate_input_file(path: Path, endpoint: str, limits: Limits, *, count_tokens: bool) -> ValidationResult:
    """Check the file; with `count_tokens`, also sum the input tokens of its requests (for the enqueued limit)."""
    result = ValidationResult()
    size = path.stat().st_size
    if size > limits.input_file_bytes:
        result.add(
            "file_too_large",
            f"The batch input file is larger than the {limits.input_file_bytes} byte limit ({size} bytes).",
            param="input_file_id",
        )
        return result
    seen: set[str] = set()
    embedding_inputs = 0
    answered_as = openai_endpoint(endpoint)
    with path.open("rb") as stream:
        for number, _offset, content in request_lines(stream):
            result.requests += 1
            if result.requests > limits.input_requests:
                result.errors.clear()
                result.add(
                    "too_many_requests",
                    f"The batch input file contains more than the maximum of {limits.input_requests} requests.",
                    param="input_file_id",
                )
                return result
            request = _check_line(content, number, endpoint, seen, result)
            if request is None:
                continue
            model = request["body"].get("model")
            if isinstance(model, str):
                if result.model is None:
                    result.model = model
                elif model != result.model:
                    result.add(
                        "mismatched_model",
                        f"The provided model '{model}' does not match the model of other requests in the batch "
                        f"('{result.model}'). All requests in a batch must use the same model.",
                        param="body.model",
                        line=number,
                    )
            if answered_as == "/v1/embeddings":
                embedding_inputs += count_embedding_inputs(request["body"].get("input"))
            if count_tokens:
                result.input_tokens += respond(answered_as, request["custom_id"], request["body"], now=0).input_tokens
    if result.requests == 0:
        result.add("empty_file", "The batch input file is empty.", param="input_file_id")
    elif embedding_inputs > limits.embedding_inputs:
        result.add(
            "too_many_embedding_inputs",
            f"The batch contains {embedding_inputs} embedding inputs across all requests; "
            f"the maximum is {limits.embedding_inputs}.",
            param="input_file_id",
        )
    return result


def _check_line(
    content: bytes, number: int, endpoint: str, seen: set[str], result: ValidationResult
) -> dict[str, Any] | None:
    """The parsed request if the line is valid, else None with one error recorded for it."""
    try:
        request = loads(content)
    except JSONRejected as exc:
        result.add("invalid_json_line", _unparseable(exc), line=number)
        return None
    if not isinstance(request, dict):
        result.add("invalid_json_line", "Each line must be a JSON object describing one request.", line=number)
        return None
    for name in ("custom_id", "method", "url", "body"):
        if name not in request:
            result.add("missing_required_parameter", f"Missing required parameter: '{name}'.", param=name, line=number)
            return None
    custom_id = request["custom_id"]
    if not isinstance(custom_id, str):
        result.add("invalid_type", "The custom_id must be a string.", param="custom_id", line=number)
        return None
    if request["method"] != "POST":
        result.add(
            "invalid_method",
            f"Invalid value: '{request['method']}'. The only supported method is 'POST'.",
            param="method",
            line=number,
        )
        return None
    if not url_matches(request["url"], endpoint):
        result.add("invalid_url", _URL_MESSAGE, param="url", line=number)
        return None
    if not isinstance(request["body"], dict):
        result.add("invalid_type", "The body must be a JSON object.", param="body", line=number)
        return None
    if custom_id in seen:
        result.add("duplicate_custom_id", _DUPLICATE_MESSAGE, param="custom_id", line=number)
        return None
    seen.add(custom_id)
    return request


def _unparseable(exc: JSONRejected) -> str:
    # The service's wording for a line that is not JSON, and why when the cause is subtler than a syntax error.
    reason = str(exc)
    if reason == NOT_JSON:
        return "This line is not parseable as valid JSON."
    return f"This line is not parseable as valid JSON: {reason}."


def count_embedding_inputs(value: object) -> int:
    """A string or one token array is one input; a list of strings or of token arrays is one per element."""
    if isinstance(value, list) and value and not all(isinstance(item, int) for item in value):
        return len(value)
    return 1 if value is not None else 0
