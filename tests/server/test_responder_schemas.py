"""Every responder's bodies are what the real endpoints promise: valid against the upstream OpenAPI schemas and
parsed by the official SDK's own types, for ordinary requests and for whatever values a client puts in the fields
a responder echoes back.

The upstream document (spec/upstream/openai-openapi.yaml) is OpenAPI 3.1, but a few of its schemas still mark
nullability the 3.0 way (`nullable: true`); those are read as the 3.1 form they mean before validating.
"""

from __future__ import annotations

import base64
import functools
import struct
from typing import Any

import openai.types as sdk
import openai.types.chat as sdk_chat
import openai.types.responses as sdk_responses
import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openai_batches_server.records import dumps
from openai_batches_server.responders import RESPONDERS, respond
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .conftest import PROJECT

UPSTREAM = PROJECT / "spec" / "upstream" / "openai-openapi.yaml"
NOW = 1_711_471_533

# endpoint -> (upstream schema of a 200 body, the official SDK's type for it)
SUCCESS: dict[str, tuple[str, type[pydantic.BaseModel]]] = {
    "/v1/chat/completions": ("CreateChatCompletionResponse", sdk_chat.ChatCompletion),
    "/v1/responses": ("Response", sdk_responses.Response),
    "/v1/embeddings": ("CreateEmbeddingResponse", sdk.CreateEmbeddingResponse),
    "/v1/completions": ("CreateCompletionResponse", sdk.Completion),
    "/v1/moderations": ("CreateModerationResponse", sdk.ModerationCreateResponse),
    "/v1/images/generations": ("ImagesResponse", sdk.ImagesResponse),
    "/v1/images/edits": ("ImagesResponse", sdk.ImagesResponse),
    "/v1/videos": ("VideoResource", sdk.Video),
}

# Requests a user would send, a few per endpoint, covering each responder's branches.
REQUESTS: dict[str, list[dict[str, Any]]] = {
    "/v1/chat/completions": [
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is 2+2?"}]},
        {
            "model": "gpt-4o-mini",
            "n": 3,
            "max_completion_tokens": 1,
            "messages": [
                {"role": "system", "content": "terse"},
                {"role": "user", "content": [{"type": "text", "text": "a b c"}, {"type": "image_url"}]},
            ],
        },
    ],
    "/v1/responses": [
        {"model": "gpt-4.1-mini", "input": "Say hi"},
        {
            "model": "gpt-4.1-mini",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "one two three"}]}],
            "instructions": "Be brief.",
            "max_output_tokens": 16,
            "temperature": 0.2,
            "top_p": 0.5,
            "metadata": {"job": "eval"},
        },
        {"model": "gpt-4.1-mini", "input": " ".join(["word"] * 40), "max_output_tokens": 16},
    ],
    "/v1/embeddings": [
        {"model": "text-embedding-3-small", "input": "hello", "dimensions": 8},
        {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4, "encoding_format": "base64"},
        {"model": "text-embedding-3-large", "input": [[1, 2, 3], [4]], "dimensions": 2},
    ],
    "/v1/completions": [
        {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon"},
        {"model": "gpt-3.5-turbo-instruct", "prompt": ["a b c", "d"], "n": 2, "max_tokens": 2},
    ],
    "/v1/moderations": [
        {"input": "I will hurt you"},
        {"model": "omni-moderation-latest", "input": ["fine", "you idiot"]},
        {"input": [{"type": "text", "text": "steal it"}]},
    ],
    "/v1/images/generations": [{"prompt": "a cat"}, {"model": "gpt-image-1", "prompt": "two dogs", "n": 2}],
    "/v1/images/edits": [{"prompt": "make it blue"}],
    "/v1/videos": [{"prompt": "waves"}, {"model": "sora-2", "prompt": "a city", "seconds": "8", "size": "1280x720"}],
}


def _nullable_as_31(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        for child in node.values():
            _nullable_as_31(child)
    elif isinstance(node, list):
        for child in node:
            _nullable_as_31(child)


@functools.cache
def _registry() -> Registry[Any]:
    document = yaml.load(UPSTREAM.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    _nullable_as_31(document)
    return Registry().with_resource("urn:openai", Resource.from_contents(document, default_specification=DRAFT202012))


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"urn:openai#/components/schemas/{schema_name}"}, registry=_registry())


def schema_errors(schema_name: str, body: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message[:300]}" for error in validator(schema_name).iter_errors(body)]


def as_floats(body: dict[str, Any]) -> dict[str, Any]:
    """An embeddings body with base64 vectors decoded, as the SDK decodes them.

    The upstream schema describes only the float form; with `encoding_format: "base64"` the real API sends each
    vector as base64 of little-endian float32s, and so does the local server.
    """
    data = []
    for item in body["data"]:
        if isinstance(item["embedding"], str):
            raw = base64.b64decode(item["embedding"])
            item = {**item, "embedding": list(struct.unpack(f"<{len(raw) // 4}f", raw))}
        data.append(item)
    return {**body, "data": data}


def check_body(endpoint: str, status: int, body: dict[str, Any]) -> None:
    """A 200 body against the endpoint's schema and SDK type, an error body against ErrorResponse."""
    dumps(body)  # what the runner writes: valid JSON, no NaN
    if status == 200:
        schema_name, model = SUCCESS[endpoint]
        if endpoint == "/v1/embeddings":
            body = as_floats(body)
        assert schema_errors(schema_name, body) == [], body
        model.model_validate(body)
    else:
        assert 400 <= status <= 599
        assert schema_errors("ErrorResponse", body) == [], body
        sdk.ErrorObject.model_validate(body["error"])


def test_every_endpoint_has_a_schema_and_requests() -> None:
    assert set(SUCCESS) == set(RESPONDERS) == set(REQUESTS)


@pytest.mark.parametrize(
    ("endpoint", "body"), [(endpoint, body) for endpoint, bodies in REQUESTS.items() for body in bodies]
)
def test_ordinary_requests_get_bodies_valid_against_the_upstream_schema_and_the_sdk(
    endpoint: str, body: dict[str, Any]
) -> None:
    reply = respond(endpoint, "req-1", body, now=NOW)
    assert reply.status_code == 200, reply.body
    check_body(endpoint, 200, reply.body)


def test_responses_usage_has_every_field_the_sdk_requires() -> None:
    body = respond("/v1/responses", "r", {"model": "m", "input": "hi"}, now=NOW).body
    assert body["usage"]["input_tokens_details"] == {"cached_tokens": 0, "cache_write_tokens": 0}
    parsed = sdk_responses.Response.model_validate(body)
    assert parsed.output_text == "Echo: hi"


@pytest.mark.parametrize("endpoint", sorted(SUCCESS))
@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_forced_failures_are_valid_error_bodies(endpoint: str, status: int) -> None:
    reply = respond(endpoint, "r", {"x_fail": {"status_code": status}}, now=NOW)
    assert reply.status_code == status
    check_body(endpoint, status, reply.body)


# Any JSON a line's body may hold (validation has already refused NaN, lone surrogates and deep nesting).
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    # Text the runner can write: no lone surrogates, which validation refuses before any line runs.
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
# The fields any responder reads or echoes; each gets either a plausible value or any JSON at all.
FIELDS = {
    "model": st.sampled_from(["gpt-4o-mini", "text-embedding-3-large", ""]),
    "messages": st.just([{"role": "user", "content": "hi there"}]),
    "input": st.sampled_from(["hello world", ["a", "b"], [[1, 2]], [{"role": "user", "content": "x"}]]),
    "prompt": st.sampled_from(["a prompt", ["p1", "p2"]]),
    "n": st.integers(0, 4),
    "max_tokens": st.integers(-1, 5),
    "max_completion_tokens": st.integers(0, 5),
    "max_output_tokens": st.integers(0, 40),
    "temperature": st.floats(-1, 3, allow_nan=False),
    "top_p": st.floats(-1, 2, allow_nan=False),
    "instructions": st.text(max_size=10),
    "metadata": st.dictionaries(st.text(max_size=70), st.text(max_size=10), max_size=20),
    "dimensions": st.integers(0, 5),
    "encoding_format": st.sampled_from(["float", "base64"]),
    "seconds": st.sampled_from(["4", "8", "12", 4]),
    "size": st.sampled_from(["720x1280", "1280x720", "1x1"]),
    "user": st.text(max_size=5),
}
REQUEST_BODIES = st.fixed_dictionaries(
    {},
    optional={name: strategy | JSON_VALUES for name, strategy in FIELDS.items()},
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(endpoint=st.sampled_from(sorted(SUCCESS)), body=REQUEST_BODIES)
def test_any_request_body_gets_a_valid_answer_or_a_valid_error(endpoint: str, body: dict[str, Any]) -> None:
    reply = respond(endpoint, "req-1", body, now=NOW)
    check_body(endpoint, reply.status_code, reply.body)
    # A body the responder could not handle would be a 500: every odd value must be refused as the API does, 400.
    assert reply.status_code != 500, reply.body
