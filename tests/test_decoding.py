"""JSON decoding (issue 14): msgspec when the `speed` extra is installed, the standard library otherwise.

What a call returns, and every error it raises, must not depend on which decoder is installed; only the time may.
These tests compare the two paths directly (`_json.fast_loads` against `json.loads`, the shape decoder against the
general `build`), run the results parser and the client on both, and check that without msgspec the library still
imports and works on the standard library alone.
"""

from __future__ import annotations

import asyncio
import copy
import enum
import json
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import httpx
import pytest
from helpers import API_KEY, BASE_URL, BATCH, DECODERS, FILE, Chunks, batch, list_body, use_decoder
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openai_batches import UNSET, AsyncBatchClient, BatchClient, OpenAIBatchesError, Unset, _json, _models
from openai_batches import types as public
from openai_batches._models import InvalidShape, WireModel, build
from openai_batches.results import BatchResult, parse_result_line
from test_model_builder import Counted, Frozen, Node
from test_model_builder import batch as batch_bodies
from test_model_builder import file_object as file_bodies
from test_model_builder import page as page_bodies

msgspec = pytest.importorskip("msgspec", reason="the fast path needs the speed extra")

# --------------------------------------------------------------------------------------------- the two decoders


def same(a: object, b: object) -> bool:
    """Equal and of the same types all the way down (1 and 1.0, or -0.0 and 0.0, are told apart)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def outcome(decode: Callable[[Any], Any], data: bytes | str) -> tuple[str, Any]:
    try:
        return "value", decode(data)
    except (ValueError, RecursionError) as exc:
        return "error", (type(exc), str(exc))


def assert_same_outcome(data: bytes | str) -> None:
    fast, slow = outcome(_json.fast_loads, data), outcome(_json.stdlib_loads, data)
    assert fast[0] == slow[0], (data, fast, slow)
    if fast[0] == "value":
        assert same(fast[1], slow[1]), (data, fast, slow)
    else:
        assert fast[1] == slow[1], data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=25,
)
number_literals = st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?\Z")


@settings(max_examples=400, deadline=None)
@given(value=json_values, ascii_only=st.booleans(), as_bytes=st.booleans())
def test_fast_loads_gives_what_json_loads_gives(value: object, ascii_only: bool, as_bytes: bool) -> None:
    # allow_nan: NaN and Infinity are not JSON; msgspec refuses them, and json.loads reads them as it always did.
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert_same_outcome(text.encode("utf-8", "surrogatepass") if as_bytes else text)


@settings(max_examples=400, deadline=None)
@given(literal=number_literals)
def test_numbers_read_the_same(literal: str) -> None:
    # Integers past 64 bits stay exact, 1e400 is inf as json.loads has it, floats round the same way.
    assert_same_outcome(literal.encode())
    assert_same_outcome(f'{{"n": [{literal}]}}')


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 123456789012345678901234567890, "b": -18446744073709551617}',
        b'{"a": NaN, "b": Infinity, "c": -Infinity}',
        b'{"a": 1e400}',
        b'{"a": "\\ud800"}',
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": "é"}'.encode("utf-16"),
        b'{"a": 1, "a": 2, "b": 3}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": "\xff"}',
        b'{"a": 1} x',
        b"",
        b"   ",
        b'{"a": "\x01"}',
        '{"a": "ok"}',
        "\u00a0",
    ],
    ids=[
        "big-ints",
        "nan",
        "overflow",
        "lone-surrogate",
        "bom",
        "utf-16",
        "duplicate-keys",
        "too-deep",
        "not-utf-8",
        "trailing-junk",
        "empty",
        "blank",
        "control-character",
        "text",
        "nbsp",
    ],
)
def test_documents_strict_json_leaves_out_read_as_json_loads_reads_them(data: bytes | str) -> None:
    assert_same_outcome(data)


def test_the_library_decodes_with_msgspec_when_it_is_installed() -> None:
    assert _json.fast is not None
    assert _json.loads is _json.fast_loads
    assert _json.DECODER == "msgspec"


def test_without_msgspec_the_standard_library_does_everything() -> None:
    # A fresh interpreter in which msgspec cannot be imported, as after `pip install openai-batches`.
    script = textwrap.dedent(
        """
        import json, sys
        sys.modules["msgspec"] = None
        import httpx
        from openai_batches import BatchClient, _json, _models, types
        assert _json.fast is None and _json.loads is _json.stdlib_loads and _json.DECODER == "json"
        assert _models.decoder(types.Batch) is None
        body = {BATCH}
        body["status"] = "paused"
        body["surprise"] = 1
        lines = [json.dumps({"custom_id": "a", "response": {"status_code": 200, "body": {}}}), "", "x"]
        def answer(request):
            if request.url.path.endswith("/content"):
                return httpx.Response(200, content="\\n".join(lines).encode())
            return httpx.Response(200, json=body)
        client = BatchClient(api_key="sk-x", base_url="http://test/v1",
                             http_client=httpx.Client(transport=httpx.MockTransport(answer)))
        got = client.batches.retrieve("batch_abc123")
        results = client.batches.results("batch_abc123")
        first = next(results)
        try:
            next(results)
        except Exception as error:
            problem = str(error)
        print(json.dumps([got.status, got.additional_properties, first.custom_id, problem,
                          "msgspec" in sys.modules and sys.modules["msgspec"] is not None]))
        """
    ).replace("{BATCH}", repr({**BATCH, "output_file_id": "file-out"}))
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=os.environ
    )
    assert completed.returncode == 0, completed.stderr
    status, extra, custom_id, problem, loaded = json.loads(completed.stdout)
    assert status == "paused" and extra == {"surprise": 1} and custom_id == "a"
    assert problem.startswith("Line 3 of the result file is not JSON: Expecting value")
    assert loaded is False


# ------------------------------------------------------------------------- shapes against the general builder


def structure(value: object) -> object:
    """A model as nested tuples of classes and values, so that equal means built alike (an enum member is not the
    string it equals, a public class is not its generated base)."""
    if attrs.has(type(value)):
        fields = {a.name: structure(getattr(value, a.name)) for a in attrs.fields(type(value))}
        return (type(value), fields)
    if isinstance(value, list):
        return (list, [structure(item) for item in value])
    if isinstance(value, dict):
        return (dict, {key: structure(item) for key, item in value.items()})
    if isinstance(value, enum.Enum):
        return (type(value), value.value)
    return (type(value), value)


def general(model: Any, content: bytes) -> tuple[str, object]:
    try:
        return "model", structure(build(model, json.loads(content)))
    except (InvalidShape, ValueError, RecursionError) as exc:
        return "error", type(exc)


def shaped(model: Any, content: bytes) -> tuple[str, object]:
    decode = _models.decoder(model)
    assert decode is not None
    try:
        return "model", structure(decode(content))
    except _models.Refused:
        return "refused", None


# Fresh objects every time: a shared {} filled by one change and placed inside itself by the next would loop.
FULL_BATCH = batch(
    usage={
        "input_tokens": 1,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 2,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 3,
    },
    errors={"object": "list", "data": [{"code": "c", "message": "m", "line": 2, "param": None}]},
)
# Valid bodies of each response model, drawn as test_model_builder draws them.
GENERATED_BODIES = [
    (public.Batch, batch_bodies),
    (public.ListBatchesResponse, page_bodies),
    (public.FileObject, file_bodies),
]
WRONG_VALUES = st.sampled_from([None, "x", 0, 1.5, True, [], {}, [{}], {"x": 1}, ["a"]]).map(copy.deepcopy)


def _objects_in(value: object) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(found for item in value.values() for found in _objects_in(item))]
    if isinstance(value, list):
        return [found for item in value for found in _objects_in(item)]
    return []


@st.composite
def disturbed(draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A valid body, then up to three changes anywhere in it: a key dropped, a value replaced, a key added."""
    body = draw(bodies)
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(_objects_in(body)))
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "add" or not target:
            target[draw(st.sampled_from(["status", "usage", "data", "id", "extra", "has_more", "object"]))] = draw(
                WRONG_VALUES
            )
        elif action == "drop":
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.sampled_from(sorted(target)))] = draw(WRONG_VALUES)
    return body


@pytest.mark.parametrize(
    ("model", "bodies"),
    GENERATED_BODIES,
    ids=["batch", "page", "file"],
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_shape_builds_what_the_general_path_builds_or_steps_aside(
    model: Any, bodies: st.SearchStrategy[dict[str, Any]], data: st.DataObject
) -> None:
    body = data.draw(disturbed(bodies))
    content = json.dumps(body).encode()
    fast, slow = shaped(model, content), general(model, content)
    if fast[0] == "model":
        assert fast == slow
    else:
        assert fast[0] == "refused"


REAL_BODIES = [
    (public.Batch, FULL_BATCH),
    (public.ListBatchesResponse, {**list_body(["batch_1"], has_more=True), "data": [FULL_BATCH]}),
    (public.FileObject, FILE),
]


def _single_changes(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every body that differs from `body` in one place: each key of each object dropped, set to each odd value, or
    joined by an unknown key."""
    odd = [None, "x", 0, 1.5, True, [], {}, [{}], {"x": 1}, ["a"]]
    changes = []
    for index, target in enumerate(_objects_in(body)):
        for key in [*target, None]:
            variants = ["add"] if key is None else ["drop", *range(len(odd))]
            for variant in variants:
                changed = copy.deepcopy(body)
                where = _objects_in(changed)[index]
                if variant == "add":
                    where["unknown"] = 1
                elif variant == "drop":
                    del where[key]
                else:
                    where[key] = copy.deepcopy(odd[int(variant)])
                changes.append((f"object {index} {key} {variant}", changed))
    return changes


@pytest.mark.parametrize(("model", "body"), REAL_BODIES, ids=["batch", "page", "file"])
def test_every_single_change_to_a_real_body_is_built_alike_or_left_to_the_general_path(
    model: Any, body: dict[str, Any]
) -> None:
    outcomes = set()
    for what, changed in _single_changes(body):
        content = json.dumps(changed).encode()
        fast, slow = shaped(model, content), general(model, content)
        outcomes.add((fast[0], slow[0]))
        if fast[0] == "model":
            assert fast == slow, what
    # Each kind of outcome happened, so the comparison above was not vacuous.
    assert outcomes == {("model", "model"), ("refused", "model"), ("refused", "error")}


@pytest.mark.parametrize(
    ("model", "bodies"),
    GENERATED_BODIES,
    ids=["batch", "page", "file"],
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_ordinary_bodies_take_the_fast_path(
    model: Any, bodies: st.SearchStrategy[dict[str, Any]], data: st.DataObject
) -> None:
    body = data.draw(bodies)

    def known_keys_only(value: object) -> bool:
        if isinstance(value, dict):
            return not any(str(key).startswith("x_") for key in value) and all(map(known_keys_only, value.values()))
        return not isinstance(value, list) or all(map(known_keys_only, value))

    assume(known_keys_only(body))
    content = json.dumps(body).encode()
    assert shaped(model, content) == general(model, content)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (public.Batch, BATCH),
        (public.Batch, FULL_BATCH),
        (public.ListBatchesResponse, list_body(["batch_1", "batch_2"], has_more=True)),
        (public.FileObject, FILE),
        (public.FileDeleted, {"id": "file-abc123", "object": "file", "deleted": True}),
        (
            public.ListFilesResponse,
            {"object": "list", "data": [FILE], "has_more": False, "first_id": "file-abc123", "last_id": "file-abc123"},
        ),
    ],
    ids=["batch", "batch-with-usage-and-errors", "page", "file", "deleted", "file-page"],
)
def test_every_response_model_has_a_shape_that_reads_the_apis_answers(model: Any, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    fast = shaped(model, content)
    assert fast[0] == "model"
    assert fast == general(model, content)


def test_a_shape_keeps_unknown_values_and_leaves_unknown_fields_to_the_general_path() -> None:
    paused = json.dumps(batch(status="paused", endpoint="/v1/new")).encode()
    decode = _models.decoder(public.Batch)
    assert decode is not None
    model = decode(paused)
    assert model.status == "paused" and type(model.status) is str and model.endpoint == "/v1/new"
    with pytest.raises(_models.Refused):
        decode(json.dumps(batch(priority="high")).encode())
    with pytest.raises(_models.Refused):
        decode(json.dumps(batch(request_counts={"total": 1, "completed": 1, "failed": 0, "cancelled": 0})).encode())


def test_metadata_from_a_shape_is_a_fresh_read_only_mapping() -> None:
    decode = _models.decoder(public.Batch)
    assert decode is not None
    first = decode(json.dumps(batch(metadata={"a": "1"})).encode())
    second = decode(json.dumps(batch(metadata={"a": "1"})).encode())
    assert isinstance(first.metadata, public.Metadata) and first.metadata == {"a": "1"}
    assert first.metadata.additional_properties is not second.metadata.additional_properties
    with pytest.raises(TypeError, match="read-only"):
        first.metadata["a"] = "2"  # type: ignore[index]


@attrs.define
class Tally:
    name: str


class CountedTally(WireModel, Tally):
    """A public class with its own __new__, which a copier (filling an empty object) would pass by."""

    __slots__ = ()
    made: ClassVar[int] = 0

    def __new__(cls, *args: Any, **kwargs: Any) -> CountedTally:
        cls.made += 1
        return super().__new__(cls)


def test_models_a_shape_cannot_describe_take_the_general_path() -> None:
    # One with an __init__ that does more than store, a frozen one, one that contains itself, and a public class
    # over a plain generated one whose own __new__ must run.
    for model in (Counted, Frozen, Node, CountedTally):
        assert _models.decoder(model) is None, model
    before = CountedTally.made
    assert build(CountedTally, {"name": "a"}).name == "a" and CountedTally.made == before + 1


@attrs.define
class Inner:
    count: int


@attrs.define(kw_only=True)
class Holder:
    """Optional fields that are not nullable (as in request bodies), the required one after them."""

    inner: Inner | Unset = UNSET
    note: str | Unset = UNSET
    name: str


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a"},
        {"name": "a", "inner": {"count": 1}, "note": "n"},
        {"name": "a", "inner": None},
        {"name": "a", "note": None},
        {"name": None},
        {"inner": {"count": 1}},
    ],
)
def test_a_shape_of_a_model_with_optional_fields_that_refuse_null_builds_alike_or_steps_aside(
    body: dict[str, Any],
) -> None:
    content = json.dumps(body).encode()
    fast = shaped(Holder, content)
    assert fast in [("refused", None), general(Holder, content)]
    if body == {"name": "a"}:
        assert fast == ("model", structure(Holder(name="a")))
    if "inner" in body and body["inner"] is None:
        assert general(Holder, content) == ("error", InvalidShape)


def test_no_shape_without_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    use_decoder("json", monkeypatch)
    assert _models.decoder(public.Batch) is None


# ------------------------------------------------------------------------------------------- result lines


RESULT = {
    "id": "batch_req_1",
    "custom_id": "r-1",
    "response": {"status_code": 200, "request_id": "req_1", "body": {"id": "chatcmpl-1", "choices": []}},
    "error": None,
}
RESULT_LINES = [
    json.dumps(RESULT).encode(),
    json.dumps(RESULT, ensure_ascii=False).encode() + b"   ",
    json.dumps({**RESULT, "custom_id": "é\u2028ü"}, ensure_ascii=False).encode(),
    b'{"custom_id": "big", "response": {"status_code": 200, "body": {"n": 123456789012345678901234567890}}}',
    b'{"custom_id": "nan", "response": {"status_code": 200, "body": {"score": NaN}}}',
    b"",
    b"  \t",
    "\u00a0".encode(),
    b'{"custom_id": "x", "response": {"status_code": 200, "body": {"a": "\xff"}}}',
    b"\xef\xbb\xbf" + json.dumps(RESULT).encode(),
    b'{"custom_id": "trunc',
    b'["not", "an", "object"]',
    b'{"custom_id": 5}',
    b"[" * 50_000,
]


def _parsed(line: bytes | str) -> tuple[str, object]:
    try:
        result = parse_result_line(line, 7)
    except OpenAIBatchesError as exc:
        return "error", str(exc)
    return "result", None if result is None else (attrs.astuple(result, recurse=False), repr(result.body))


@pytest.mark.parametrize("line", RESULT_LINES, ids=range(len(RESULT_LINES)))
def test_a_result_line_reads_the_same_with_either_decoder_as_bytes_or_text(
    line: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _parsed(line)
    use_decoder("json", monkeypatch)
    slow = _parsed(line)
    assert fast == slow
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        assert slow == ("error", "Line 7 of the file is not valid UTF-8: " + _utf8_problem(line))
    else:
        assert _parsed(text) == slow


def _utf8_problem(line: bytes) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return str(exc)
    raise AssertionError("valid UTF-8")


def test_result_line_outcomes() -> None:
    assert _parsed(b"") == ("result", None)
    assert _parsed("\u00a0".encode()) == ("result", None)
    kind, value = _parsed(RESULT_LINES[3])
    assert kind == "result" and "123456789012345678901234567890" in str(value)
    kind, value = _parsed(RESULT_LINES[4])
    assert kind == "result" and "nan" in str(value)
    assert (
        _parsed(RESULT_LINES[10])[1] == "Line 7 of the result file is not JSON: Unterminated string starting at: "
        "line 1 column 15 (char 14)"
    )
    assert _parsed(RESULT_LINES[11]) == ("error", "Line 7 of the result file has no custom_id")


def _results_client(lines: list[bytes], asynchronous: bool) -> BatchClient | AsyncBatchClient:
    content = b"\r\n".join(lines) + b"\n"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/content"):
            # Split mid-line and mid-character, as a socket may deliver it.
            chunks = [content[i : i + 7] for i in range(0, len(content), 7)]
            return httpx.Response(200, stream=Chunks(chunks))
        return httpx.Response(200, json=batch(output_file_id="file-out", status="completed"))

    if asynchronous:

        async def async_answer(request: httpx.Request) -> httpx.Response:
            return answer(request)

        transport: Any = httpx.MockTransport(async_answer)
        return AsyncBatchClient(api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport))
    return BatchClient(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )


def _all_results(lines: list[bytes], asynchronous: bool) -> tuple[list[BatchResult], str | None]:
    client = _results_client(lines, asynchronous)
    got: list[BatchResult] = []

    async def collect_async() -> None:
        assert isinstance(client, AsyncBatchClient)
        async for result in client.batches.results("batch_abc123"):
            got.append(result)

    try:
        if asynchronous:
            asyncio.run(collect_async())
        else:
            assert isinstance(client, BatchClient)
            got.extend(client.batches.results("batch_abc123"))
    except OpenAIBatchesError as exc:
        return got, str(exc)
    return got, None


GOOD_LINES = [
    json.dumps(
        {**RESULT, "custom_id": f"r-{i}", "response": {**RESULT["response"], "body": {"text": "é" * i}}},
        ensure_ascii=False,
    ).encode()
    for i in range(20)
]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    "lines",
    [
        GOOD_LINES,
        [*GOOD_LINES[:3], b"", *GOOD_LINES[3:]],
        [*GOOD_LINES[:5], b'{"custom_id": "x", "response": {"body": {"a": "\xff"}}}', *GOOD_LINES[5:]],
        [*GOOD_LINES[:5], b"{not json", *GOOD_LINES[5:]],
    ],
    ids=["good", "blank-line", "not-utf-8", "not-json"],
)
@pytest.mark.parametrize("decoder", DECODERS)
def test_batches_results_read_the_same_with_either_decoder(
    lines: list[bytes], asynchronous: bool, decoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_decoder(decoder, monkeypatch)
    got, problem = _all_results(lines, asynchronous)
    good = [line for line in lines if line in GOOD_LINES]
    if problem is None:
        assert [r.custom_id for r in got] == [json.loads(line)["custom_id"] for line in good]
        assert [r.body for r in got] == [json.loads(line)["response"]["body"] for line in good]
    else:
        assert [r.custom_id for r in got] == [f"r-{i}" for i in range(5)]
        assert problem.startswith(("Line 6 of the file is not valid UTF-8", "Line 6 of the result file is not JSON"))
