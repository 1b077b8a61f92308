"""Batch input building: request lines, the builder's refusals, sharding at the limits, and reading JSONL files.

Every refusal is one the service would otherwise make after the upload (or after the batch started), so each test
pins the reason code and the line number a user would be pointed at.
"""

from __future__ import annotations

import gc
import json
import os
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from openai_batches import InvalidParameterError, OpenAIBatchesError
from openai_batches.batch_input import (
    BatchInput,
    BatchInputError,
    BatchRequest,
    FileSummary,
    InputLimits,
    read_requests,
    shard_requests,
    validate_file,
)
from openai_batches_generated.models import BatchEndpoint

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"


def chat(custom_id: str, content: str = "hi") -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]},
    }


def embed(custom_id: str, input: object) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": EMBEDDINGS, "body": {"model": "e", "input": input}}


def line_size(request: dict[str, Any]) -> int:
    return len(BatchRequest.from_dict(request).to_json_line())


def write_lines(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"".join(line if isinstance(line, bytes) else line.encode() for line in lines))
    return path


# --- BatchRequest -------------------------------------------------------------------------------------------------


def test_json_line_is_compact_utf8_in_documented_order_and_newline_terminated() -> None:
    request = BatchRequest(custom_id="r-1", url=CHAT, body={"model": "m", "messages": [{"content": "héllo ✓ 日本"}]})
    assert (
        request.to_json_line()
        == (
            '{"custom_id":"r-1","method":"POST","url":"/v1/chat/completions",'
            '"body":{"model":"m","messages":[{"content":"héllo ✓ 日本"}]}}\n'
        ).encode()
    )
    assert list(request.to_dict()) == ["custom_id", "method", "url", "body"]


def test_from_dict_round_trips_and_ignores_fields_it_does_not_know() -> None:
    line = chat("a") | {"extra": 1}
    request = BatchRequest.from_dict(line)
    assert request == BatchRequest(custom_id="a", url=CHAT, body=chat("a")["body"])
    assert BatchRequest.from_dict(request.to_dict()) == request


@pytest.mark.parametrize(
    ("line", "reason", "words"),
    [
        ({"custom_id": "a", "url": CHAT, "body": {}}, "missing_field", "'method'"),
        ({"method": "POST", "body": {}}, "missing_field", "'custom_id', 'url'"),
        (chat("a") | {"custom_id": ""}, "bad_custom_id", "empty"),
        (chat("a") | {"custom_id": 7}, "bad_custom_id", "int 7"),
        (chat("a") | {"method": "GET"}, "bad_method", "'GET'"),
        (chat("a") | {"url": None}, "wrong_endpoint", "null"),
        (chat("a") | {"body": [1]}, "body_not_object", "list"),
    ],
)
def test_from_dict_refuses_bad_shapes(line: dict[str, Any], reason: str, words: str) -> None:
    with pytest.raises(BatchInputError) as caught:
        BatchRequest.from_dict(line)
    assert caught.value.reason == reason
    assert words in str(caught.value)
    assert caught.value.line is None


def test_from_dict_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(BatchInputError, match="expected a JSON object") as caught:
        BatchRequest.from_dict([("custom_id", "a")])  # type: ignore[arg-type]
    assert caught.value.reason == "invalid_json"


def test_to_json_line_raises_batch_input_error_never_type_error() -> None:
    with pytest.raises(BatchInputError) as caught:
        BatchRequest(custom_id="a", url=CHAT, body={"tags": {"x"}}).to_json_line()
    assert caught.value.reason == "invalid_json"
    assert "set" in str(caught.value)


def test_chat_constructor() -> None:
    messages = ({"role": "user", "content": str(n)} for n in range(2))  # a generator is read once, into a list
    request = BatchRequest.chat("c1", model="gpt-4o-mini", messages=messages, temperature=0, max_completion_tokens=5)
    assert request.url == CHAT
    assert request.method == "POST"
    assert request.body == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "0"}, {"role": "user", "content": "1"}],
        "temperature": 0,
        "max_completion_tokens": 5,
    }
    assert BatchRequest.from_dict(json.loads(request.to_json_line())) == request


def test_responses_constructor() -> None:
    request = BatchRequest.responses("r1", model="gpt-5", input="Say hi", instructions="Be brief")
    assert request.url == "/v1/responses"
    assert request.body == {"model": "gpt-5", "input": "Say hi", "instructions": "Be brief"}
    items = BatchRequest.responses("r2", model="gpt-5", input=({"role": "user", "content": "x"},))
    assert items.body["input"] == [{"role": "user", "content": "x"}]


def test_embeddings_constructor() -> None:
    request = BatchRequest.embeddings("e1", model="text-embedding-3-small", input=("a", "b"), dimensions=256)
    assert request.url == EMBEDDINGS
    assert request.body == {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 256}
    assert BatchRequest.embeddings("e2", model="m", input="one").body["input"] == "one"


# --- the builder's refusals ---------------------------------------------------------------------------------------


class Opaque:
    pass


def circular() -> dict[str, Any]:
    body: dict[str, Any] = {"model": "m"}
    body["self"] = body
    return body


BAD_LINES: list[tuple[str, Callable[[], object], str, str]] = [
    ("duplicate", lambda: chat("first"), "duplicate_custom_id", "already used on line 1"),
    ("empty id", lambda: chat("x") | {"custom_id": ""}, "bad_custom_id", "non-empty string"),
    ("int id", lambda: chat("x") | {"custom_id": 3}, "bad_custom_id", "int 3"),
    ("surrogate id", lambda: chat("x") | {"custom_id": "a\ud800"}, "bad_custom_id", "UTF-8"),
    ("GET", lambda: chat("x") | {"method": "GET"}, "bad_method", "'GET'"),
    ("lowercase post", lambda: chat("x") | {"method": "post"}, "bad_method", "'post'"),
    ("other endpoint", lambda: chat("x") | {"url": EMBEDDINGS}, "wrong_endpoint", "'/v1/embeddings'"),
    ("url not str", lambda: chat("x") | {"url": 5}, "wrong_endpoint", "int 5"),
    ("body list", lambda: chat("x") | {"body": [1, 2]}, "body_not_object", "list"),
    ("body str", lambda: chat("x") | {"body": '{"model": "m"}'}, "body_not_object", "str"),
    ("body set", lambda: chat("x") | {"body": {"model"}}, "body_not_object", "set"),
    ("body None", lambda: chat("x") | {"body": None}, "body_not_object", "null"),
    ("body int key", lambda: chat("x") | {"body": {1: "m"}}, "body_not_object", "keys must be strings"),
    ("set inside", lambda: chat("x") | {"body": {"stop": {"a"}}}, "invalid_json", "set"),
    ("object inside", lambda: chat("x") | {"body": {"model": Opaque()}}, "invalid_json", "Opaque"),
    ("bytes inside", lambda: chat("x") | {"body": {"model": b"m"}}, "invalid_json", "bytes"),
    ("NaN", lambda: chat("x") | {"body": {"temperature": float("nan")}}, "invalid_json", "not JSON compliant"),
    ("inf", lambda: chat("x") | {"body": {"temperature": float("inf")}}, "invalid_json", "not JSON compliant"),
    ("surrogate", lambda: chat("x") | {"body": {"model": "\udc80"}}, "invalid_json", "UTF-8"),
    ("circular", lambda: chat("x") | {"body": circular()}, "invalid_json", "ircular"),
    ("missing body", lambda: {"custom_id": "x", "method": "POST", "url": CHAT}, "missing_field", "'body'"),
    ("not a mapping", lambda: 42, "invalid_json", "int 42"),
]


@pytest.mark.parametrize(("case", "make", "reason", "words"), BAD_LINES, ids=[case[0] for case in BAD_LINES])
def test_builder_refuses_bad_line_with_its_number_and_stays_unchanged(
    case: str, make: Callable[[], Any], reason: str, words: str
) -> None:
    builder = BatchInput(CHAT)
    builder.add(chat("first"))
    builder.add(BatchRequest.chat("second", model="gpt-4o-mini", messages=[]))
    before = builder.to_bytes()
    with pytest.raises(BatchInputError) as caught:
        builder.add(make())
    error = caught.value
    assert (error.reason, error.line) == (reason, 3)
    assert str(error).startswith("line 3: ")
    assert words in str(error)
    assert isinstance(error, InvalidParameterError)
    assert isinstance(error, ValueError)
    assert isinstance(error, OpenAIBatchesError)
    assert len(builder) == 2
    assert builder.to_bytes() == before
    assert set(builder.custom_ids) == {"first", "second"}


def test_error_carries_the_custom_id_when_there_is_one() -> None:
    builder = BatchInput(CHAT)
    with pytest.raises(BatchInputError) as caught:
        builder.add(chat("abc") | {"url": "/v1/responses"})
    assert caught.value.custom_id == "abc"
    with pytest.raises(BatchInputError) as caught:
        builder.add(chat("abc") | {"custom_id": ""})
    assert caught.value.custom_id is None


def test_body_may_be_any_mapping_and_nested_int_keys_become_strings_as_json_does() -> None:
    builder = BatchInput(CHAT)
    builder.add(BatchRequest(custom_id="a", url=CHAT, body=MappingProxyType({"logit_bias": {50256: -100}})))
    assert builder.to_bytes().endswith(b'"body":{"logit_bias":{"50256":-100}}}\n')
    assert next(iter(builder)).body == {"logit_bias": {"50256": -100}}


def test_mutating_a_body_after_add_does_not_change_the_line() -> None:
    builder = BatchInput(CHAT)
    line = chat("a")
    builder.add(line)
    line["body"]["model"] = "changed"
    assert b"changed" not in builder.to_bytes()


def test_builder_accepts_the_generated_enum_as_endpoint_and_refuses_non_strings() -> None:
    assert BatchInput(BatchEndpoint.EMBEDDINGS).endpoint == EMBEDDINGS
    with pytest.raises(InvalidParameterError, match="endpoint"):
        BatchInput(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="endpoint"):
        BatchInput("")


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_limits_must_be_positive_integers(value: object) -> None:
    with pytest.raises(InvalidParameterError, match="max_requests"):
        InputLimits(max_requests=value)  # type: ignore[arg-type]


def test_service_limits_are_the_defaults() -> None:
    assert InputLimits() == InputLimits(max_requests=50_000, max_bytes=200 * 1024 * 1024, max_embedding_inputs=50_000)


def test_extend_refuses_a_single_dict_or_string() -> None:
    builder = BatchInput(CHAT)
    with pytest.raises(InvalidParameterError, match="iterable"):
        builder.extend(chat("a"))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="iterable"):
        builder.extend("abc")  # type: ignore[arg-type]


def test_extend_stops_at_the_first_bad_request() -> None:
    builder = BatchInput(CHAT)
    with pytest.raises(BatchInputError) as caught:
        builder.extend([chat("a"), chat("b"), chat("a"), chat("c")])
    assert (caught.value.reason, caught.value.line) == ("duplicate_custom_id", 3)
    assert list(builder.custom_ids) == ["a", "b"]


def test_builder_reports_size_ids_and_iterates_its_requests() -> None:
    requests = [BatchRequest.from_dict(chat(f"r{n}", "é" * n)) for n in range(3)]
    builder = BatchInput(CHAT)
    ids = builder.custom_ids
    builder.extend(requests)
    assert len(builder) == 3
    assert builder.size_bytes == sum(len(r.to_json_line()) for r in requests) == len(builder.to_bytes())
    assert "r2" in ids and "r9" not in ids  # a live view
    assert list(builder) == requests
    assert builder.embedding_inputs == 0
    assert repr(builder) == f"BatchInput('{CHAT}', requests=3, size_bytes={builder.size_bytes})"


# --- limits, in the builder and when sharding ---------------------------------------------------------------------


def test_builder_max_requests() -> None:
    builder = BatchInput(CHAT, limits=InputLimits(max_requests=3))
    builder.extend(chat(f"r{n}") for n in range(3))
    with pytest.raises(BatchInputError) as caught:
        builder.add(chat("r3"))
    assert (caught.value.reason, caught.value.line, caught.value.custom_id) == ("too_many_requests", 4, "r3")
    assert "3 requests" in str(caught.value)


def test_builder_max_bytes_counts_every_byte_including_newlines() -> None:
    size = line_size(chat("r0"))
    builder = BatchInput(CHAT, limits=InputLimits(max_bytes=2 * size))
    builder.extend([chat("r0"), chat("r1")])
    assert builder.size_bytes == 2 * size
    with pytest.raises(BatchInputError) as caught:
        builder.add(chat("r2"))
    assert (caught.value.reason, caught.value.line) == ("too_large", 3)


def test_one_line_larger_than_max_bytes_is_refused_even_in_an_empty_builder() -> None:
    builder = BatchInput(CHAT, limits=InputLimits(max_bytes=100))
    with pytest.raises(BatchInputError, match="this line alone") as caught:
        builder.add(chat("big", "x" * 100))
    assert (caught.value.reason, caught.value.line) == ("too_large", 1)


@pytest.mark.parametrize(
    ("input", "count"),
    [
        ("one text", 1),
        (["a", "b", "c"], 3),
        ([], 0),
        ([101, 102, 103], 1),  # one token array is one input
        ([[101, 102], [103], [104]], 3),  # a list of token arrays
        (("a", "b"), 2),
    ],
)
def test_embedding_inputs_are_counted_as_the_service_counts_them(input: object, count: int) -> None:
    builder = BatchInput(EMBEDDINGS)
    builder.add(embed("e", input))
    assert builder.embedding_inputs == count


def test_embedding_inputs_count_only_for_the_embeddings_endpoint() -> None:
    builder = BatchInput("/v1/responses")
    builder.add(BatchRequest(custom_id="r", url="/v1/responses", body={"model": "m", "input": ["a", "b"]}))
    assert builder.embedding_inputs == 0


def test_builder_max_embedding_inputs_is_a_total_over_requests() -> None:
    builder = BatchInput(EMBEDDINGS, limits=InputLimits(max_embedding_inputs=5))
    builder.add(embed("a", ["x", "y", "z"]))
    builder.add(embed("b", [[1], [2]]))
    assert builder.embedding_inputs == 5
    with pytest.raises(BatchInputError) as caught:
        builder.add(embed("c", "one more"))
    assert (caught.value.reason, caught.value.line, caught.value.custom_id) == ("too_many_embedding_inputs", 3, "c")


def shard_sizes(shards: Iterator[BatchInput]) -> list[int]:
    return [len(shard) for shard in shards]


def test_shard_at_max_requests() -> None:
    limits = InputLimits(max_requests=3)
    assert shard_sizes(shard_requests([chat(f"r{n}") for n in range(3)], CHAT, limits=limits)) == [3]
    assert shard_sizes(shard_requests([chat(f"r{n}") for n in range(4)], CHAT, limits=limits)) == [3, 1]
    assert shard_sizes(shard_requests([chat(f"r{n}") for n in range(7)], CHAT, limits=limits)) == [3, 3, 1]


def test_shard_at_max_bytes() -> None:
    requests = [chat(f"r{n}") for n in range(4)]
    size = line_size(requests[0])
    assert all(line_size(r) == size for r in requests)
    limits = InputLimits(max_bytes=3 * size)
    assert shard_sizes(shard_requests(requests[:3], CHAT, limits=limits)) == [3]
    shards = list(shard_requests(requests, CHAT, limits=limits))
    assert [len(s) for s in shards] == [3, 1]
    assert [s.size_bytes for s in shards] == [3 * size, size]
    # One byte less and the third line no longer fits.
    limits = InputLimits(max_bytes=3 * size - 1)
    assert shard_sizes(shard_requests(requests[:3], CHAT, limits=limits)) == [2, 1]


def test_shard_at_max_embedding_inputs() -> None:
    limits = InputLimits(max_embedding_inputs=4)
    at_limit = [embed("a", ["1", "2"]), embed("b", [[1, 2], [3]])]
    shards = list(shard_requests(at_limit, EMBEDDINGS, limits=limits))
    assert [(len(s), s.embedding_inputs) for s in shards] == [(2, 4)]
    over = [*at_limit, embed("c", [7, 8, 9])]  # a token array: one more input
    shards = list(shard_requests(over, EMBEDDINGS, limits=limits))
    assert [(len(s), s.embedding_inputs) for s in shards] == [(2, 4), (1, 1)]
    # Greedy and in order: a request that does not fit closes the shard, even if a later small one would have fitted.
    mixed = [embed("a", ["1", "2", "3"]), embed("b", ["1", "2"]), embed("c", "1")]
    shards = list(shard_requests(mixed, EMBEDDINGS, limits=limits))
    assert [list(s.custom_ids) for s in shards] == [["a"], ["b", "c"]]


def test_shards_keep_order_and_concatenate_to_the_whole() -> None:
    requests = [chat(f"r{n}", "x" * (n % 5) * 10) for n in range(40)]
    limits = InputLimits(max_requests=7, max_bytes=5 * line_size(requests[4]))
    shards = list(shard_requests(requests, CHAT, limits=limits))
    assert len(shards) > 40 // 7
    whole = BatchInput(CHAT)
    whole.extend(requests)
    assert b"".join(s.to_bytes() for s in shards) == whole.to_bytes()
    for shard in shards:
        assert len(shard) <= 7
        assert shard.size_bytes <= limits.max_bytes
        assert shard.limits == limits


def test_duplicates_across_shards_are_refused_before_any_shard_is_handed_out() -> None:
    requests = [chat("a"), chat("b"), chat("c"), chat("a")]
    with pytest.raises(BatchInputError) as caught:
        shard_requests(requests, CHAT, limits=InputLimits(max_requests=2))  # not iterated: refused on the call
    assert (caught.value.reason, caught.value.line, caught.value.custom_id) == ("duplicate_custom_id", 4, "a")
    assert "already used on line 1" in str(caught.value)


def test_a_bad_request_anywhere_refuses_the_whole_set() -> None:
    requests = [chat("a"), chat("b"), chat("c") | {"url": EMBEDDINGS}]
    with pytest.raises(BatchInputError) as caught:
        shard_requests(requests, CHAT, limits=InputLimits(max_requests=1))
    assert (caught.value.reason, caught.value.line) == ("wrong_endpoint", 3)


def test_one_request_with_more_embedding_inputs_than_a_batch_holds_cannot_be_sharded() -> None:
    requests = [embed("a", "x"), embed("b", ["x"] * 6)]
    with pytest.raises(BatchInputError, match="this request alone has 6") as caught:
        shard_requests(requests, EMBEDDINGS, limits=InputLimits(max_embedding_inputs=5))
    assert (caught.value.reason, caught.value.line, caught.value.custom_id) == ("too_many_embedding_inputs", 2, "b")


def test_one_line_larger_than_max_bytes_cannot_be_sharded() -> None:
    requests = [chat("a"), chat("b"), chat("big", "x" * 500)]
    with pytest.raises(BatchInputError, match="this line alone") as caught:
        shard_requests(requests, CHAT, limits=InputLimits(max_bytes=300))
    assert (caught.value.reason, caught.value.line) == ("too_large", 3)


def test_shard_requests_of_nothing_is_no_shard_and_a_dict_is_refused() -> None:
    assert list(shard_requests([], CHAT)) == []
    with pytest.raises(InvalidParameterError, match="iterable"):
        shard_requests(chat("a"), CHAT)  # type: ignore[arg-type]


def test_the_real_50000_request_limit() -> None:
    def tiny(count: int) -> Iterator[dict[str, Any]]:
        return (
            {"custom_id": str(n), "method": "POST", "url": EMBEDDINGS, "body": {"input": "x"}} for n in range(count)
        )

    assert shard_sizes(shard_requests(tiny(50_000), EMBEDDINGS)) == [50_000]
    shards = list(shard_requests(tiny(50_001), EMBEDDINGS))
    assert [(len(s), s.embedding_inputs) for s in shards] == [(50_000, 50_000), (1, 1)]
    full = shards[0]
    with pytest.raises(BatchInputError) as caught:
        full.add({"custom_id": "extra", "method": "POST", "url": EMBEDDINGS, "body": {"input": "x"}})
    assert (caught.value.reason, caught.value.line) == ("too_many_requests", 50_001)


# --- writing ------------------------------------------------------------------------------------------------------


def test_write_is_byte_exact_and_round_trips_through_read_requests(tmp_path: Path) -> None:
    requests = [
        BatchRequest.chat("ü-1", model="m", messages=[{"role": "user", "content": "naïve 日本 🙂"}]),
        BatchRequest.chat("2", model="m", messages=[], temperature=0.5, stop=None),
    ]
    builder = BatchInput(CHAT)
    builder.extend(requests)
    path = builder.write(tmp_path / "in.jsonl")
    assert path == tmp_path / "in.jsonl"
    assert (
        path.read_bytes()
        == (
            '{"custom_id":"ü-1","method":"POST","url":"/v1/chat/completions","body":{"model":"m",'
            '"messages":[{"role":"user","content":"naïve 日本 🙂"}]}}\n'
            '{"custom_id":"2","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[],'
            '"temperature":0.5,"stop":null}}\n'
        ).encode()
    )
    assert list(read_requests(path)) == requests
    again = BatchInput(CHAT)
    again.extend(read_requests(path))
    assert again.to_bytes() == path.read_bytes()
    assert os.listdir(tmp_path) == ["in.jsonl"]


def test_write_replaces_a_file_atomically_and_cleans_up_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "in.jsonl"
    target.write_bytes(b"old\n")
    builder = BatchInput(CHAT)
    builder.add(chat("a"))

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        builder.write(target)
    assert target.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["in.jsonl"]
    monkeypatch.undo()
    builder.write(str(target))
    assert target.read_bytes() == builder.to_bytes()
    assert os.listdir(tmp_path) == ["in.jsonl"]


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_written_file_gets_the_usual_mode_not_a_private_temp_file_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = BatchInput(CHAT).write(tmp_path / "in.jsonl")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_bytes() == b""


# --- reading and validating files ---------------------------------------------------------------------------------


def jl(request: dict[str, Any]) -> str:
    return json.dumps(request) + "\n"


def test_validate_file_summarises_a_good_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", jl(embed("a", ["x", "y"])), "\n", jl(embed("b", "z")).rstrip("\n"))
    summary = validate_file(path)
    assert summary == FileSummary(
        path=path,
        endpoint=EMBEDDINGS,
        requests=2,
        size_bytes=path.stat().st_size,
        embedding_inputs=3,
        custom_ids=frozenset({"a", "b"}),
    )


def test_read_requests_skips_blank_lines_and_accepts_crlf(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", "\n", jl(chat("a")).replace("\n", "\r\n"), "  \t\r\n", jl(chat("b")))
    assert [r.custom_id for r in read_requests(path)] == ["a", "b"]


BAD_FILES: list[tuple[str, bytes, str, int]] = [
    ("invalid json", b'{"custom_id": "c", "method": \n', "invalid_json", 3),
    ("array line", b"[1, 2]\n", "invalid_json", 3),
    ("NaN", jl(chat("c") | {"body": {"t": 1}}).replace("1", "NaN").encode(), "invalid_json", 3),
    ("non utf-8", json.dumps(chat("c", "caf\xe9"), ensure_ascii=False).encode("latin-1") + b"\n", "invalid_json", 3),
    ("bom", b"\xef\xbb\xbf" + jl(chat("c")).encode(), "invalid_json", 3),
    ("missing field", jl({"custom_id": "c", "method": "POST", "url": CHAT}).encode(), "missing_field", 3),
    ("duplicate", jl(chat("a")).encode(), "duplicate_custom_id", 3),
    ("other endpoint", jl(chat("c") | {"url": EMBEDDINGS}).encode(), "wrong_endpoint", 3),
    ("bad method", jl(chat("c") | {"method": "PUT"}).encode(), "bad_method", 3),
    ("null body", jl(chat("c") | {"body": None}).encode(), "body_not_object", 3),
    ("empty id", jl(chat("c") | {"custom_id": ""}).encode(), "bad_custom_id", 3),
]


@pytest.mark.parametrize(("case", "bad", "reason", "line"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_file_line_is_named_by_number_and_reason(
    tmp_path: Path, case: str, bad: bytes, reason: str, line: int
) -> None:
    # A blank line 2 must still count: editors show physical line numbers.
    path = write_lines(tmp_path / "in.jsonl", jl(chat("a")), "\n", bad, jl(chat("z")))
    with pytest.raises(BatchInputError) as caught:
        validate_file(path)
    error = caught.value
    assert (error.reason, error.line, error.path) == (reason, line, path)
    assert str(error).startswith(f"{path}, line {line}: ")
    # Streaming reads hand out the good lines before the bad one.
    requests = read_requests(path)
    assert next(requests).custom_id == "a"
    with pytest.raises(BatchInputError) as again:
        next(requests)
    assert (again.value.reason, again.value.line) == (reason, line)


def test_endpoint_given_must_match_the_first_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", jl(chat("a")))
    assert validate_file(path, endpoint=CHAT).endpoint == CHAT
    with pytest.raises(BatchInputError) as caught:
        validate_file(path, endpoint=EMBEDDINGS)
    assert (caught.value.reason, caught.value.line) == ("wrong_endpoint", 1)


def test_file_limits(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", *(jl(embed(f"e{n}", ["a", "b"])) for n in range(3)))
    size = path.stat().st_size
    assert validate_file(path, limits=InputLimits(max_requests=3, max_bytes=size, max_embedding_inputs=6)).requests == 3
    for limits, reason in [
        (InputLimits(max_requests=2), "too_many_requests"),
        (InputLimits(max_bytes=size - 1), "too_large"),
        (InputLimits(max_embedding_inputs=5), "too_many_embedding_inputs"),
    ]:
        with pytest.raises(BatchInputError) as caught:
            validate_file(path, limits=limits)
        assert (caught.value.reason, caught.value.line) == (reason, 3)


def test_blank_lines_count_toward_the_size_limit(tmp_path: Path) -> None:
    line = jl(chat("a"))
    path = write_lines(tmp_path / "in.jsonl", line, "\n")
    with pytest.raises(BatchInputError) as caught:
        validate_file(path, limits=InputLimits(max_bytes=len(line)))
    assert (caught.value.reason, caught.value.line) == ("too_large", 2)


def test_empty_file_has_no_requests_and_no_endpoint(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", "\n\n")
    summary = validate_file(path)
    assert (summary.requests, summary.endpoint, summary.size_bytes) == (0, None, 2)


def big_file(path: Path, target_bytes: int) -> int:
    """A valid chat JSONL file of about `target_bytes`, written in chunks so the test itself stays small."""
    filler = "lorem ipsum " * 350  # ~4 KB a line: about 25,000 lines for 100 MB, under both real limits
    count = 0
    with path.open("wb") as file:
        while file.tell() < target_bytes:
            chunk = "".join(jl(chat(f"req-{count + n}", filler)) for n in range(500))
            file.write(chunk.encode())
            count += 500
    return count


def test_reading_a_100_mb_file_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    count = big_file(path, 100 * 1024 * 1024)
    size = path.stat().st_size
    gc.collect()
    tracemalloc.start()
    try:
        summary = validate_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (summary.requests, summary.size_bytes) == (count, size)
    # The custom_ids (about 2 MB here) are all it keeps; holding the lines would cost 100 MB.
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes for a {size:,}-byte file"
    tracemalloc.start()
    try:
        streamed = sum(1 for _ in read_requests(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert streamed == count
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes streaming a {size:,}-byte file"


def test_one_huge_line_is_not_read_whole(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", jl(chat("a", "x" * 20 * 1024 * 1024)))
    tracemalloc.start()
    try:
        with pytest.raises(BatchInputError) as caught:
            validate_file(path, limits=InputLimits(max_bytes=1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (caught.value.reason, caught.value.line) == ("too_large", 1)
    assert peak < 4 * 1024 * 1024


def test_requests_naming_different_models_are_refused_everywhere(tmp_path: Path) -> None:
    first, other = chat("a"), chat("b") | {"body": {"model": "gpt-5", "messages": []}}
    builder = BatchInput(CHAT)
    builder.add(first)
    with pytest.raises(BatchInputError) as in_builder:
        builder.add(other)
    assert (in_builder.value.reason, in_builder.value.line) == ("mismatched_model", 2)
    assert "gpt-5" in str(in_builder.value) and "gpt-4o-mini" in str(in_builder.value)
    with pytest.raises(BatchInputError) as in_shards:
        list(shard_requests([first, chat("c"), other], CHAT))
    assert (in_shards.value.reason, in_shards.value.line) == ("mismatched_model", 3)
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(other) + "\n")
    with pytest.raises(BatchInputError) as in_file:
        validate_file(path)
    assert (in_file.value.reason, in_file.value.line) == ("mismatched_model", 2)


# ------------------------------------------------------------------------------ what a refused file says, exactly


def jsonl_file(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def refusal(path: Path) -> BatchInputError:
    with pytest.raises(BatchInputError) as caught:
        validate_file(path)
    return caught.value


def test_an_error_in_a_file_names_the_path_parameter_and_one_in_memory_the_requests(tmp_path: Path) -> None:
    path = jsonl_file(tmp_path, b"not json")
    in_file = refusal(path)
    assert in_file.param == "path" and str(in_file).startswith(f"{path}, line 1: ")
    with pytest.raises(BatchInputError) as caught:
        BatchInput("/v1/chat/completions").extend([{"custom_id": "", "method": "POST", "url": "/v1/x", "body": {}}])
    assert caught.value.param == "requests" and str(caught.value).startswith("line 1: ")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "not valid JSON: Expecting value (column 1)"),
        (b'{"custom_id": NaN}', "not valid JSON: NaN is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON: nested too deeply"),
        (b'{"custom_id": "a\xff"}', "not valid UTF-8 (byte 17 of the line)"),
    ],
    ids=["syntax", "constant", "nesting", "utf8"],
)
def test_a_line_that_is_not_json_is_refused_with_where_and_why(tmp_path: Path, line: bytes, message: str) -> None:
    error = refusal(jsonl_file(tmp_path, line))
    assert error.reason == "invalid_json" and error.line == 1
    assert str(error).endswith(message), str(error)


@pytest.mark.parametrize(("size", "cut"), [(56, False), (57, True)], ids=["60-shown-whole", "61-cut"])
def test_a_bad_value_is_shown_cut_to_sixty_characters(tmp_path: Path, size: int, cut: bool) -> None:
    value = ["x" * size]  # its repr is 4 characters longer: 60, then 61
    line = json.dumps({"custom_id": value, "method": "POST", "url": "/v1/chat/completions", "body": {}})
    error = refusal(jsonl_file(tmp_path, line.encode()))
    expected = repr(value)[:57] + "..." if cut else repr(value)
    assert str(error).endswith(f"custom_id must be a non-empty string, got list {expected}")


def test_refused_arguments_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        validate_file(123)  # type: ignore[arg-type]
    assert caught.value.param == "path"
    with pytest.raises(InvalidParameterError) as caught:
        validate_file(jsonl_file(tmp_path, b""), limits={"max_requests": 1})  # type: ignore[arg-type]
    assert caught.value.param == "limits"
    with pytest.raises(InvalidParameterError) as caught:
        BatchInput("/v1/chat/completions", limits=50_000)  # type: ignore[arg-type]
    assert caught.value.param == "limits"


def test_an_embeddings_line_without_input_counts_no_input(tmp_path: Path) -> None:
    lines = [
        {"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m"}},
        {"custom_id": "b", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": ["x", "y"]}},
    ]
    path = jsonl_file(tmp_path, *(json.dumps(line).encode() for line in lines))
    assert validate_file(path).embedding_inputs == 2
