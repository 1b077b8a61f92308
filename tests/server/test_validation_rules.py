"""The input-file rules checked directly on a file, at their limits: no server, milliseconds per test.

test_input_validation.py shows the same rules end to end, through the API; these pin the boundaries and the exact
messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_batches_server.config import Limits
from openai_batches_server.input_validation import ValidationResult, count_embedding_inputs, validate_input_file

from .support import CHAT, chat_line, jsonl

BOM = b"\xef\xbb\xbf"
EMBEDDINGS = "/v1/embeddings"


def validate(
    tmp_path: Path, content: bytes, endpoint: str = CHAT, *, limits: Limits | None = None, count_tokens: bool = False
) -> ValidationResult:
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    return validate_input_file(path, endpoint, limits or Limits(), count_tokens=count_tokens)


def codes(result: ValidationResult) -> list[tuple[str, int | None]]:
    return [(error["code"], error["line"]) for error in result.errors]


def embedding_line(custom_id: str, **body: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": {"model": "m", **body}}


def test_a_file_of_exactly_the_byte_limit_passes_and_one_byte_more_does_not(tmp_path: Path) -> None:
    content = jsonl([chat_line("a"), chat_line("b")])
    assert validate(tmp_path, content, limits=Limits(input_file_bytes=len(content))).errors == []
    (error,) = validate(tmp_path, content, limits=Limits(input_file_bytes=len(content) - 1)).errors
    assert error == {
        "code": "file_too_large",
        "message": f"The batch input file is larger than the {len(content) - 1} byte limit ({len(content)} bytes).",
        "param": "input_file_id",
        "line": None,
    }


def test_too_many_requests_replaces_every_other_error(tmp_path: Path) -> None:
    content = b"{broken\n" + jsonl([chat_line("a"), chat_line("b")])
    result = validate(tmp_path, content, limits=Limits(input_requests=2))
    assert codes(result) == [("too_many_requests", None)]
    assert result.errors[0]["message"] == "The batch input file contains more than the maximum of 2 requests."
    assert codes(validate(tmp_path, content, limits=Limits(input_requests=3))) == [("invalid_json_line", 1)]


def test_a_bom_ahead_of_the_first_line_is_not_a_line_of_its_own(tmp_path: Path) -> None:
    result = validate(tmp_path, BOM + b"\n" + jsonl([chat_line("a")]))
    assert (result.errors, result.requests) == ([], 1)
    result = validate(tmp_path, BOM + b"  " + jsonl([chat_line("a")]))
    assert (result.errors, result.requests) == ([], 1)


def test_unparseable_lines_get_the_services_message_and_why_when_it_is_subtle(tmp_path: Path) -> None:
    content = b'{not json\n{"custom_id": "a", "value": NaN}\n'
    first, second = validate(tmp_path, content).errors
    assert first["message"] == "This line is not parseable as valid JSON."
    assert second["message"] == "This line is not parseable as valid JSON: NaN is not a JSON value."


def test_input_tokens_are_counted_only_when_asked(tmp_path: Path) -> None:
    content = jsonl([chat_line("a", "one two three"), chat_line("b", "four five")])
    assert validate(tmp_path, content, count_tokens=True).input_tokens == 5
    assert validate(tmp_path, content).input_tokens == 0


def test_embedding_inputs_count_one_per_string_or_token_array_and_none_for_no_input(tmp_path: Path) -> None:
    values = ("x", [1, 2], ["x", "y"], [[1], [2], [3]], None)
    assert [count_embedding_inputs(value) for value in values] == [1, 1, 2, 3, 0]
    lines = [embedding_line("a", input=["x", "y"]), embedding_line("b", input=[1, 2, 3]), embedding_line("c")]
    content = jsonl(lines)
    assert validate(tmp_path, content, EMBEDDINGS, limits=Limits(embedding_inputs=3)).errors == []
    (error,) = validate(tmp_path, content, EMBEDDINGS, limits=Limits(embedding_inputs=2)).errors
    assert error["code"] == "too_many_embedding_inputs"
    assert error["message"] == "The batch contains 3 embedding inputs across all requests; the maximum is 2."


def test_a_mismatched_model_names_both(tmp_path: Path) -> None:
    result = validate(tmp_path, jsonl([chat_line("a"), chat_line("b"), chat_line("c", model="gpt-4o")]))
    assert result.model == "gpt-4o-mini"
    (error,) = result.errors
    assert (error["code"], error["line"], error["param"]) == ("mismatched_model", 3, "body.model")
    assert "'gpt-4o'" in error["message"] and "('gpt-4o-mini')" in error["message"]


@pytest.mark.parametrize("count", [99, 100, 101, 250])
def test_at_most_a_hundred_errors_are_kept(tmp_path: Path, count: int) -> None:
    result = validate(tmp_path, b"{bad}\n" * count)
    assert [line for _code, line in codes(result)] == list(range(1, min(count, 100) + 1))
    assert result.requests == count


def test_request_lines_skip_blank_lines_but_count_them(tmp_path: Path) -> None:
    content = jsonl([chat_line("a")]) + b"\n \t \n" + json.dumps(chat_line("b")).encode()
    result = validate(tmp_path, content)
    assert (result.errors, result.requests) == ([], 2)
    result = validate(tmp_path, content + b"\n{bad")
    assert codes(result) == [("invalid_json_line", 5)]
