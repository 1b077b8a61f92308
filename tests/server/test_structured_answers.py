"""Structured answers offline: content valid against a `json_schema` response format, function calls whose
arguments are valid against the function's `parameters`, and a 400 naming the problem for a schema no value fits.

Validity is judged by the `jsonschema` package (the draft each schema is written in, formats checked where the
schema's formats are satisfiable) and by pydantic parsing the answers into the models the schemas came from, as
instructor and the SDK's `parse` helpers do.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import os
import subprocess
import sys
import uuid
from typing import Annotated, Any, Literal

import httpx
import openai
import openai.types.chat as sdk_chat
import openai.types.responses as sdk_responses
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from openai_batches_server.responders import respond
from openai_batches_server.schema_instance import instance_of

from .support import CHAT, read_lines, run_batch
from .test_responder_schemas import JSON_VALUES, check_body

NOW = 1_711_471_533
RESPONSES = "/v1/responses"
SEEDS = ("line-1", "line-2", "line-3", "x", "a much longer custom id 0042")


# --- models an instructor or SDK user would send ---


class Colour(enum.StrEnum):
    red = "red"
    green = "green"
    blue = "blue"


class Priority(enum.IntEnum):
    low = 1
    normal = 2
    urgent = 3


class Address(pydantic.BaseModel):
    street: str
    city: str = pydantic.Field(min_length=2, max_length=40)
    postcode: str = pydantic.Field(pattern=r"^\d{5}(-\d{4})?$")
    country: Literal["US", "CA", "MX"] = "US"


class LineItem(pydantic.BaseModel):
    sku: str = pydantic.Field(pattern=r"^[A-Z]{3}-\d{4}$")
    quantity: int = pydantic.Field(ge=1, le=99)
    unit_price: float = pydantic.Field(gt=0, multiple_of=0.01)
    colour: Colour | None = None
    tags: list[str] = pydantic.Field(default_factory=list, max_length=4)


class Card(pydantic.BaseModel):
    method: Literal["card"]
    last4: str = pydantic.Field(min_length=4, max_length=4, pattern=r"^\d+$")


class Transfer(pydantic.BaseModel):
    method: Literal["transfer"]
    iban: str


class Category(pydantic.BaseModel):
    """Recursive, as category trees are: recursion must end in a finite answer."""

    name: str
    children: list[Category] = pydantic.Field(default_factory=list)
    parent: Category | None = None


class Order(pydantic.BaseModel):
    order_id: uuid.UUID
    placed_at: datetime.datetime
    deliver_on: datetime.date | None = None
    priority: Priority = Priority.normal
    customer: str
    shipping: Address
    billing: Address | None = None
    items: list[LineItem] = pydantic.Field(min_length=1, max_length=5)
    payment: Annotated[Card | Transfer, pydantic.Field(discriminator="method")]
    category: Category
    discount: float | None = pydantic.Field(default=None, ge=0, le=0.5)
    notes: dict[str, str] = pydantic.Field(default_factory=dict)
    gift: bool = False


class Weather(pydantic.BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]
    days: int = pydantic.Field(ge=1, le=14)


MODELS: list[type[pydantic.BaseModel]] = [Order, Address, LineItem, Category, Weather]


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Extract the order."}], **extra}


def schema_format(name: str, schema: Any, *, strict: bool = False) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}


def function_tool(name: str, parameters: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "description": f"Record a {name}.", "parameters": parameters},
    }


def answer(endpoint: str, body: dict[str, Any], custom_id: str = "req-1") -> dict[str, Any]:
    reply = respond(endpoint, custom_id, body, now=NOW)
    assert reply.status_code == 200, reply.body
    check_body(endpoint, 200, reply.body)
    return reply.body


def content_of(body: dict[str, Any]) -> str:
    content = body["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def assert_valid(validator: type[Validator], schema: Any, value: Any, *, formats: bool = True) -> None:
    # The draft's own checker: a FormatChecker() of all drafts reads "time" the draft-3 way, without an offset.
    checker = validator.FORMAT_CHECKER if formats else None
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator(schema, format_checker=checker).iter_errors(value)
    ]
    assert errors == [], (schema, value)


# --- a broad set of schemas, each answered for several custom_ids ---

TREE = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
            "required": ["label", "children"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/Node",
}

SCHEMAS_2020: dict[str, Any] = {
    "flat object, closed": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "ok": {"type": "boolean"}},
        "required": ["name", "age", "ok"],
        "additionalProperties": False,
    },
    "optional and nullable fields": {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "c": {"type": "null"},
        },
        "required": ["c"],
    },
    "enums and consts": {
        "type": "object",
        "properties": {
            "colour": {"enum": ["red", "green", "blue"]},
            "mixed": {"enum": [1, "one", None, True, [1], {"k": 1}]},
            "fixed": {"const": "v1"},
            "typed": {"type": "integer", "enum": ["x", 2, 3.5]},
        },
        "required": ["colour", "mixed", "fixed", "typed"],
    },
    "strings with bounds": {
        "type": "array",
        "prefixItems": [
            {"type": "string", "minLength": 30},
            {"type": "string", "maxLength": 2},
            {"type": "string", "minLength": 0, "maxLength": 0},
            {"type": "string", "minLength": 7, "maxLength": 7},
        ],
        "items": False,
        "minItems": 4,
    },
    "patterns": {
        "type": "object",
        "properties": {
            "ssn": {"type": "string", "pattern": r"^\d{3}-\d{2}-\d{4}$"},
            "title": {"type": "string", "pattern": r"^[A-Z][a-z]+( [A-Z][a-z]+)*$"},
            "code": {"type": "string", "pattern": r"^(foo|bar)_\d+$"},
            "mail": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"},
            "vowels": {"type": "string", "pattern": "[aeiou]{3}", "minLength": 10},
            "word": {"type": "string", "pattern": r"^\w+$", "minLength": 20, "maxLength": 21},
            "hex": {"type": "string", "pattern": r"^#?[0-9a-fA-F]{6}$"},
            "semver": {"type": "string", "pattern": r"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$"},
            "escaped": {"type": "string", "pattern": r"^\(\d{3}\) \d{3}\.\d{4}$"},
            "boundary": {"type": "string", "pattern": r"\bok\b"},
        },
        "required": ["ssn", "title", "code", "mail", "vowels", "word", "hex", "semver", "escaped", "boundary"],
    },
    "formats": {
        "type": "object",
        "properties": {
            name: {"type": "string", "format": name}
            for name in ("date-time", "date", "time", "email", "uuid", "ipv4", "ipv6", "uri", "hostname", "duration")
        },
        "required": ["date-time", "date", "time", "email", "uuid", "ipv4", "ipv6", "uri", "hostname", "duration"],
    },
    "numbers": {
        "type": "object",
        "properties": {
            "small": {"type": "integer", "minimum": 3, "maximum": 3},
            "open": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "negative": {"type": "integer", "maximum": -1000},
            "sevens": {"type": "integer", "multipleOf": 7, "minimum": 100},
            "cents": {"type": "number", "multipleOf": 0.01, "minimum": 10, "maximum": 11},
            "quarters": {"type": "number", "multipleOf": 0.25, "exclusiveMinimum": 2},
            "tenths": {"type": "number", "multipleOf": 0.1, "minimum": 3.05, "maximum": 3.4},
            "huge": {"type": "integer", "minimum": 10**18},
            "wide": {"type": "number", "minimum": -1.7e308, "maximum": 1.7e308},
            "int_from_float_bounds": {"type": "integer", "minimum": 1.5, "maximum": 2.5},
            "half_steps": {"type": "integer", "multipleOf": 0.5, "minimum": 1},
        },
        "required": [
            "small",
            "open",
            "negative",
            "sevens",
            "cents",
            "quarters",
            "tenths",
            "huge",
            "wide",
            "int_from_float_bounds",
            "half_steps",
        ],
    },
    "arrays": {
        "type": "object",
        "properties": {
            "exactly_three": {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
            "none_allowed": {"type": "array", "maxItems": 0},
            "distinct_enum": {
                "type": "array",
                "items": {"enum": ["a", "b", "c", "d"]},
                "minItems": 4,
                "uniqueItems": True,
            },
            "distinct_bools": {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": True},
            "distinct_ints": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 9},
                "minItems": 6,
                "uniqueItems": True,
            },
            "tuple": {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "number"}],
                "items": {"type": "boolean"},
            },
            "with_contains": {
                "type": "array",
                "items": {"type": "integer"},
                "contains": {"const": 42},
                "minContains": 2,
            },
            "few_contained": {
                "type": "array",
                "contains": {"type": "string"},
                "maxContains": 1,
                "minItems": 3,
                "items": {"type": ["string", "integer"]},
            },
        },
        "required": [
            "exactly_three",
            "none_allowed",
            "distinct_enum",
            "distinct_bools",
            "distinct_ints",
            "tuple",
            "with_contains",
            "few_contained",
        ],
    },
    "combinators": {
        "type": "object",
        "properties": {
            "all": {"allOf": [{"type": "integer", "minimum": 5}, {"maximum": 6}, {"multipleOf": 3}]},
            "merged": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "integer"}, "a": {"maxLength": 3}}, "required": ["b"]},
                ]
            },
            "any": {"anyOf": [{"type": "string", "minLength": 5, "maxLength": 2}, {"type": "integer"}]},
            "one_by_type": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "one_by_const": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
                        "required": ["kind", "x"],
                    },
                    {
                        "type": "object",
                        "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
                        "required": ["kind", "y"],
                    },
                ]
            },
            "not_string": {"not": {"type": "string"}},
            "not_zero": {"type": "integer", "minimum": 0, "maximum": 1, "not": {"const": 0}},
            "conditional": {
                "type": "object",
                "properties": {"country": {"enum": ["US", "CA"]}, "zip": {"type": "string"}},
                "required": ["country"],
                "if": {"properties": {"country": {"const": "US"}}},
                "then": {"required": ["zip"], "properties": {"zip": {"pattern": r"^\d{5}$"}}},
                "else": {"required": ["zip"], "properties": {"zip": {"pattern": r"^[A-Z]\d[A-Z] \d[A-Z]\d$"}}},
            },
        },
        "required": ["all", "merged", "any", "one_by_type", "one_by_const", "not_string", "not_zero", "conditional"],
    },
    "refs": {
        "$defs": {
            "Point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            },
            "Name": {"type": "string", "minLength": 3},
            "a/b~c": {"type": "integer", "const": 7},
        },
        "type": "object",
        "properties": {
            "start": {"$ref": "#/$defs/Point"},
            "end": {"$ref": "#/$defs/Point", "description": "sibling keywords apply too", "required": ["x", "y"]},
            "path": {"type": "array", "items": {"$ref": "#/$defs/Point"}, "minItems": 2},
            "label": {"$ref": "#/$defs/Name", "maxLength": 3},
            "escaped": {"$ref": "#/$defs/a~1b~0c"},
            "via_pointer": {"$ref": "#/properties/start"},
        },
        "required": ["start", "end", "path", "label", "escaped", "via_pointer"],
    },
    "recursive tree": TREE,
    "linked list": {
        "$defs": {
            "Cell": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "next": {"anyOf": [{"$ref": "#/$defs/Cell"}, {"type": "null"}]},
                },
                "required": ["v", "next"],
            }
        },
        "$ref": "#/$defs/Cell",
    },
    "root recursion": {"type": "object", "properties": {"self": {"$ref": "#"}}, "required": []},
    "objects": {
        "type": "object",
        "properties": {
            "map": {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 2},
            "by_pattern": {
                "type": "object",
                "patternProperties": {"^x_": {"type": "boolean"}},
                "required": ["x_one"],
                "additionalProperties": False,
            },
            "names": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-z]+$"},
                "properties": {"ab": {"type": "integer"}},
                "required": ["ab"],
            },
            "capped": {"type": "object", "properties": {"p": {}, "q": {}, "r": {}}, "maxProperties": 1},
            "dependent": {
                "type": "object",
                "properties": {"card": {"type": "string"}, "cvv": {"type": "string"}},
                "dependentRequired": {"card": ["cvv"]},
            },
            "anything": True,
            "empty_schema": {},
            "untyped": {"properties": {"k": {"type": "string"}}, "required": ["k"]},
        },
        "required": ["map", "by_pattern", "names", "capped", "dependent", "anything", "empty_schema", "untyped"],
    },
}

# The older drafts' spellings: `definitions`, tuple `items` with `additionalItems`, boolean exclusive bounds.
SCHEMAS_DRAFT7: dict[str, Any] = {
    "definitions and tuples": {
        "definitions": {"Id": {"type": "string", "pattern": "^id_[0-9]{4}$"}},
        "type": "object",
        "properties": {
            "id": {"$ref": "#/definitions/Id"},
            "pair": {
                "type": "array",
                "items": [{"type": "integer"}, {"type": "string"}],
                "additionalItems": False,
                "minItems": 2,
            },
            "positive": {"type": "number", "exclusiveMinimum": 0},
        },
        "required": ["id", "pair", "positive"],
    }
}
SCHEMAS_DRAFT4: dict[str, Any] = {
    "boolean exclusive bounds": {
        "type": "object",
        "properties": {
            "above": {"type": "integer", "minimum": 10, "exclusiveMinimum": True, "maximum": 11},
            "below": {"type": "number", "maximum": 0, "exclusiveMaximum": True},
        },
        "required": ["above", "below"],
    }
}

CASES = [
    *[(name, schema, Draft202012Validator) for name, schema in SCHEMAS_2020.items()],
    *[(name, schema, Draft7Validator) for name, schema in SCHEMAS_DRAFT7.items()],
    *[(name, schema, Draft4Validator) for name, schema in SCHEMAS_DRAFT4.items()],
    *[(model.__name__, model.model_json_schema(), Draft202012Validator) for model in MODELS],
    # What the official SDK sends for `response_format=Model` or `pydantic_function_tool(Model)`: the strict form.
    *[
        (
            f"strict {model.__name__}",
            openai.pydantic_function_tool(model)["function"]["parameters"],
            Draft202012Validator,
        )
        for model in (Order, Weather)
    ],
]


@pytest.mark.parametrize(("name", "schema", "validator"), CASES, ids=[case[0] for case in CASES])
def test_chat_content_validates_against_the_schema(name: str, schema: Any, validator: type[Validator]) -> None:
    validator.check_schema(schema)
    contents = []
    for seed in SEEDS:
        body = answer(CHAT, chat_body(response_format=schema_format("Thing", schema)), seed)
        [choice] = body["choices"]
        assert choice["finish_reason"] == "stop"
        assert choice["message"]["refusal"] is None and "tool_calls" not in choice["message"]
        content = content_of(body)
        assert_valid(validator, schema, json.loads(content))
        contents.append(content)
    # Free choices move with the custom_id (strings at least), the schema still holds for each.
    if name not in ("root recursion", "boolean exclusive bounds"):
        assert len(set(contents)) > 1


# Function parameters describe an object: the cases whose root is something else do not apply.
OBJECT_CASES = [case for case in CASES if case[1].get("type", "object") == "object"]


@pytest.mark.parametrize(("name", "schema", "validator"), OBJECT_CASES, ids=[case[0] for case in OBJECT_CASES])
def test_forced_function_call_arguments_validate_against_parameters(
    name: str, schema: Any, validator: type[Validator]
) -> None:
    tools = [function_tool("other", {"type": "object"}), function_tool("record", schema)]
    body = answer(CHAT, chat_body(tools=tools, tool_choice={"type": "function", "function": {"name": "record"}}))
    [choice] = body["choices"]
    # A call the request names ends with "stop", as the API ends it; "required" ends with "tool_calls" (below).
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "record"
    assert_valid(validator, schema, json.loads(call["function"]["arguments"]))


def test_the_same_line_gets_the_same_bytes_and_other_lines_other_values() -> None:
    body = chat_body(response_format=schema_format("Order", Order.model_json_schema()))
    first = respond(CHAT, "order-1", body, now=NOW).body
    assert respond(CHAT, "order-1", json.loads(json.dumps(body)), now=NOW).body == first
    assert json.dumps(respond(CHAT, "order-1", body, now=NOW).body) == json.dumps(first)
    orders = [Order.model_validate_json(content_of(respond(CHAT, f"order-{n}", body, now=NOW).body)) for n in range(8)]
    assert len({order.customer for order in orders}) == 8
    assert len({order.order_id for order in orders}) == 8


def test_answers_do_not_depend_on_the_process_that_makes_them() -> None:
    """A restarted server, or another machine, writes the same bytes: nothing hangs on Python's per-process hash."""
    body = chat_body(response_format=schema_format("Order", Order.model_json_schema()))
    script = (
        "import json, sys; from openai_batches_server.responders import respond; "
        "print(json.dumps(respond('/v1/chat/completions', 'order-7', json.load(sys.stdin), now=1).body))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(body),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {json.dumps(respond(CHAT, "order-7", body, now=1).body) + "\n"}


def test_instance_of_is_a_pure_function_of_schema_and_seed() -> None:
    schema = Order.model_json_schema()
    assert json.dumps(instance_of(schema, "s")) == json.dumps(instance_of(schema, "s"))
    assert instance_of(schema, "s") != instance_of(schema, "t")


@pytest.mark.parametrize("model", MODELS, ids=[model.__name__ for model in MODELS])
def test_pydantic_parses_every_answer_into_its_model(model: type[pydantic.BaseModel]) -> None:
    schema = model.model_json_schema()
    strict = openai.pydantic_function_tool(model)["function"]["parameters"]
    for seed in SEEDS:
        for sent in (schema, strict):
            model.model_validate_json(
                content_of(answer(CHAT, chat_body(response_format=schema_format("M", sent)), seed))
            )
            response = answer(
                RESPONSES,
                {
                    "model": "gpt-4.1-mini",
                    "input": "x",
                    "text": {"format": {"type": "json_schema", "name": "M", "schema": sent}},
                },
                seed,
            )
            model.model_validate_json(sdk_responses.Response.model_validate(response).output_text)


def test_recursion_ends_and_optional_fields_are_filled() -> None:
    order = Order.model_validate_json(
        content_of(answer(CHAT, chat_body(response_format=schema_format("Order", Order.model_json_schema()))))
    )
    # Optional fields are filled, so a parser meets them; deep down only what is required.
    assert order.billing is not None and order.discount is not None and order.deliver_on is not None
    assert order.category.parent is not None
    assert order.category.parent.parent is None
    tree = instance_of(TREE, "t")
    depth = 0
    while tree["children"]:
        tree, depth = tree["children"][0], depth + 1
    assert depth < 3


def test_n_choices_each_get_a_valid_answer() -> None:
    body = answer(CHAT, chat_body(n=3, response_format=schema_format("Weather", Weather.model_json_schema())))
    weathers = [Weather.model_validate_json(choice["message"]["content"]) for choice in body["choices"]]
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert len({weather.city for weather in weathers}) == 3


def test_usage_counts_json_at_four_characters_a_token_and_the_schema_as_prompt() -> None:
    plain = answer(CHAT, chat_body())["usage"]
    body = answer(CHAT, chat_body(response_format=schema_format("Order", Order.model_json_schema())))
    usage = body["usage"]
    assert usage["completion_tokens"] == math.ceil(len(content_of(body)) / 4)
    schema_text = json.dumps(schema_format("Order", Order.model_json_schema()), separators=(",", ":"))
    assert usage["prompt_tokens"] == plain["prompt_tokens"] + math.ceil(len(schema_text) / 4)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_a_token_limit_cuts_the_json_as_the_real_model_is_cut() -> None:
    body = answer(
        CHAT, chat_body(max_completion_tokens=5, response_format=schema_format("Order", Order.model_json_schema()))
    )
    [choice] = body["choices"]
    assert choice["finish_reason"] == "length"
    assert len(choice["message"]["content"]) == 20
    with pytest.raises(pydantic.ValidationError):
        Order.model_validate_json(choice["message"]["content"])


def test_json_object_mode_answers_an_object_and_needs_the_word_json() -> None:
    body = chat_body(response_format={"type": "json_object"})
    body["messages"] = [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "hi there"}]
    assert json.loads(content_of(answer(CHAT, body))) == {"answer": "Echo: hi there"}
    refused = respond(CHAT, "r", chat_body(response_format={"type": "json_object"}), now=NOW)
    assert refused.status_code == 400
    assert refused.body["error"]["param"] == "messages"
    assert "must contain the word 'json'" in refused.body["error"]["message"]
    # Without a schema a json_schema format is any JSON object too.
    assert json.loads(
        content_of(answer(CHAT, chat_body(response_format={"type": "json_schema", "json_schema": {"name": "free"}})))
    )


def test_text_format_and_tool_choice_auto_keep_the_echo() -> None:
    tools = [function_tool("record", Weather.model_json_schema())]
    for extra in (
        {"response_format": {"type": "text"}},
        {"tools": tools},
        {"tools": tools, "tool_choice": "auto"},
        {"tools": tools, "tool_choice": "none"},
    ):
        body = answer(CHAT, chat_body(**extra))
        assert content_of(body) == "Echo: Extract the order."
        assert body["choices"][0]["finish_reason"] == "stop"


def test_tool_choice_required_and_allowed_tools_call_a_function() -> None:
    tools = [
        function_tool("weather", Weather.model_json_schema()),
        function_tool("address", Address.model_json_schema()),
    ]
    required = answer(CHAT, chat_body(tools=tools, tool_choice="required"))
    [call] = required["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "weather"
    Weather.model_validate_json(call["function"]["arguments"])
    allowed = {
        "type": "allowed_tools",
        "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "address"}}]},
    }
    [call] = answer(CHAT, chat_body(tools=tools, tool_choice=allowed))["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "address"
    Address.model_validate_json(call["function"]["arguments"])
    # A function without parameters is called with an empty object.
    [call] = answer(
        CHAT, chat_body(tools=[{"type": "function", "function": {"name": "ping"}}], tool_choice="required")
    )["choices"][0]["message"]["tool_calls"]
    assert call["function"]["arguments"] == "{}"
    # The SDK's own parsed tool type reads the call.
    completion = sdk_chat.ChatCompletion.model_validate(required)
    tool_call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert isinstance(tool_call, sdk_chat.ChatCompletionMessageFunctionToolCall)


def test_tool_calls_win_over_a_response_format() -> None:
    body = answer(
        CHAT,
        chat_body(
            tools=[function_tool("weather", Weather.model_json_schema())],
            tool_choice="required",
            response_format=schema_format("Order", Order.model_json_schema()),
        ),
    )
    assert body["choices"][0]["finish_reason"] == "tool_calls"


def test_legacy_function_call() -> None:
    functions = [{"name": "weather", "parameters": Weather.model_json_schema()}]
    body = answer(CHAT, chat_body(functions=functions, function_call={"name": "weather"}))
    [choice] = body["choices"]
    assert choice["finish_reason"] == "function_call"
    assert choice["message"]["content"] is None
    assert choice["message"]["function_call"]["name"] == "weather"
    Weather.model_validate_json(choice["message"]["function_call"]["arguments"])
    assert content_of(answer(CHAT, chat_body(functions=functions, function_call="auto"))) == "Echo: Extract the order."


def test_responses_structured_text_and_function_calls() -> None:
    schema = Order.model_json_schema()
    fmt = {"type": "json_schema", "name": "Order", "schema": schema, "strict": False}
    body = answer(RESPONSES, {"model": "gpt-4.1-mini", "input": "order please", "text": {"format": fmt}})
    assert body["text"] == {"format": fmt}
    parsed = sdk_responses.Response.model_validate(body)
    Order.model_validate_json(parsed.output_text)
    assert body["usage"]["output_tokens"] == math.ceil(len(parsed.output_text) / 4)

    tools = [{"type": "function", "name": "weather", "parameters": Weather.model_json_schema()}]
    for choice in ("required", {"type": "function", "name": "weather"}):
        body = answer(RESPONSES, {"model": "gpt-4.1-mini", "input": "weather?", "tools": tools, "tool_choice": choice})
        [item] = body["output"]
        assert item["type"] == "function_call" and item["status"] == "completed"
        assert item["call_id"].startswith("call_") and item["id"].startswith("fc_")
        assert item["name"] == "weather"
        Weather.model_validate_json(item["arguments"])
        assert body["tool_choice"] == choice
        assert body["tools"] == [{**tools[0], "description": None, "strict": True}]
        call = sdk_responses.Response.model_validate(body).output[0]
        assert isinstance(call, sdk_responses.ResponseFunctionToolCall)
    auto = answer(RESPONSES, {"model": "gpt-4.1-mini", "input": "weather?", "tools": tools})
    assert auto["output"][0]["content"][0]["text"] == "Echo: weather?"
    json_mode = answer(
        RESPONSES, {"model": "m", "input": "answer in json", "text": {"format": {"type": "json_object"}}}
    )
    assert json.loads(json_mode["output"][0]["content"][0]["text"]) == {"answer": "Echo: answer in json"}


# --- schemas no value fits, or that are not schemas: a 400 for that line naming the problem ---

UNANSWERABLE = [
    (
        {
            "type": "object",
            "properties": {"age": {"type": "integer", "minimum": 10, "maximum": 5}},
            "required": ["age"],
        },
        "In context=('properties', 'age'), no number lies between its lower bound 10 and upper bound 5",
    ),
    ({"type": "string", "minLength": 5, "maxLength": 3}, "'minLength' 5 is greater than 'maxLength' 3"),
    (
        {"type": "object", "properties": {"a": {"type": "strnig"}}},
        "In context=('properties', 'a'), 'type' must be one of",
    ),
    (
        {"type": "object", "required": ["x"], "additionalProperties": False},
        "property 'x' is required but not in 'properties'",
    ),
    ({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}, "required": ["a"]}, "points to nothing"),
    (
        {
            "$defs": {"A": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "required": ["a"]}},
            "$ref": "#/$defs/A",
        },
        "recurses through required values without end",
    ),
    (
        {"type": "object", "properties": {"a": {"type": "string", "enum": [1, 2]}}, "required": ["a"]},
        "none of its 'enum' values",
    ),
    ({"allOf": [{"const": 1}, {"const": 2}]}, "different constants"),
    (
        {"type": "object", "properties": {"a": False}, "required": ["a"]},
        "In context=('properties', 'a'), the schema is false",
    ),
    (
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}, "required": ["a"]},
        "is not a regular expression",
    ),
    ({"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True}, "no 3 distinct items"),
    ({"type": "array", "minItems": 4, "maxItems": 2}, "asks for more items than it allows"),
    ({"type": "array", "minItems": 10**9}, "more items than the offline server builds"),
    ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "no integer within its bounds (1.2 to 1.8)"),
    (
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(?=x)y$"}}, "required": ["a"]},
        "no lookarounds",
    ),
    (
        {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}, "required": ["a"]},
        "only references inside",
    ),
    ({"type": "object", "required": "a"}, "'required' must be an array"),
    ({"type": "object", "maxProperties": 1, "required": ["a", "b"]}, "more properties than its 'maxProperties'"),
    ({"oneOf": [{"type": "integer"}, {"type": "integer", "minimum": 0}], "minimum": 0}, "also matches another branch"),
    ({"type": "integer", "minimum": 1, "maximum": 5, "multipleOf": 7}, "multiple of 7"),
    (
        {"$defs": {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}]} for i in range(3000)}, "$ref": "#/$defs/d0"},
        "too",
    ),
]


@pytest.mark.parametrize(("schema", "message"), UNANSWERABLE, ids=[case[1][:40] for case in UNANSWERABLE])
def test_unanswerable_schemas_get_a_400_naming_the_problem(schema: Any, message: str) -> None:
    reply = respond(CHAT, "r", chat_body(response_format=schema_format("Thing", schema)), now=NOW)
    assert reply.status_code == 400, reply.body
    check_body(CHAT, 400, reply.body)
    error = reply.body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "response_format"
    assert error["message"].startswith("Invalid schema for response_format 'Thing': In context=")
    assert message in error["message"]

    tools = [function_tool("record", {"type": "object", "properties": {"value": schema}, "required": ["value"]})]
    call = respond(CHAT, "r", chat_body(tools=tools, tool_choice="required"), now=NOW)
    assert call.status_code == 400, call.body
    assert call.body["error"]["message"].startswith("Invalid schema for function 'record': In context=")
    assert call.body["error"]["param"] == "tools[0].function.parameters"
    assert call.body["error"]["code"] == "invalid_function_parameters"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"response_format": "json"}, "response_format"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "has space"}}},
            "response_format.json_schema.name",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": []}}},
            "response_format.json_schema.schema",
        ),
        ({"tools": {"type": "function"}}, "tools"),
        ({"tools": [{"type": "function"}]}, "tools[0].function"),
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ({"tools": [function_tool("a", {})], "tool_choice": "always"}, "tool_choice"),
        (
            {"tools": [function_tool("a", {})], "tool_choice": {"type": "function", "function": {"name": "b"}}},
            "tool_choice.function.name",
        ),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [function_tool("a", 5)], "tool_choice": "required"}, "tools[0].function.parameters"),
        ({"functions": [{"name": "a"}], "function_call": {"name": "b"}}, "function_call"),
    ],
)
def test_malformed_formats_and_tools_are_refused_as_the_api_does(extra: dict[str, Any], param: str) -> None:
    reply = respond(CHAT, "r", chat_body(**extra), now=NOW)
    assert reply.status_code == 400, reply.body
    check_body(CHAT, 400, reply.body)
    assert reply.body["error"]["param"] == param


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"text": {"format": {"type": "json_schema", "name": "n"}}}, "text.format.schema"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
        ({"text": {"format": {"type": "json_object"}}}, "input"),
        (
            {
                "text": {
                    "format": {
                        "type": "json_schema",
                        "name": "n",
                        "schema": {"type": "string", "minLength": 3, "maxLength": 1},
                    }
                }
            },
            "text.format.schema",
        ),
        (
            {"tools": [{"type": "function", "name": "f"}], "tool_choice": {"type": "function", "name": "g"}},
            "tool_choice.name",
        ),
        ({"tool_choice": "required"}, "tool_choice"),
    ],
)
def test_responses_refusals(extra: dict[str, Any], param: str) -> None:
    reply = respond(RESPONSES, "r", {"model": "m", "input": "hi", **extra}, now=NOW)
    assert reply.status_code == 400, reply.body
    assert reply.body["error"]["param"] == param


# --- any schema at all: a valid answer or a 400, never a 500 ---

NAMES = ("a", "b", "c", "d")
PATTERNS = (r"^\d+$", r"^[a-z]{2,5}$", "x", r"^(ab|cd)*$", r"^\w+@\w+\.com$", r"^[^0-9]*$", "^$")
NUMBERS = st.integers(-50, 50) | st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2))
LEAVES = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "minLength": st.integers(0, 12),
            "maxLength": st.integers(0, 12),
            "pattern": st.sampled_from(PATTERNS),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={
            "minimum": NUMBERS,
            "maximum": NUMBERS,
            "exclusiveMinimum": NUMBERS,
            "exclusiveMaximum": NUMBERS,
            "multipleOf": st.sampled_from([1, 2, 3, 7, 0.5, 0.25, 0.1, 0.01]),
        },
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["boolean", "null"])}),
    st.fixed_dictionaries(
        {
            "enum": st.lists(
                st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["x", "y"]), min_size=1, max_size=4
            )
        }
    ),
    # Text a line can hold: validation refuses lone surrogates before any line runs.
    st.fixed_dictionaries(
        {"const": st.none() | st.integers(-3, 3) | st.text(st.characters(exclude_categories=["Cs"]), max_size=3)}
    ),
    st.booleans(),
)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(st.sampled_from(NAMES), children, max_size=3)},
            optional={
                "required": st.lists(st.sampled_from(NAMES), unique=True, max_size=3),
                "additionalProperties": st.booleans() | children,
                "minProperties": st.integers(0, 4),
                "maxProperties": st.integers(0, 4),
            },
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": children},
            optional={"minItems": st.integers(0, 4), "maxItems": st.integers(0, 4), "uniqueItems": st.booleans()},
        ),
        st.fixed_dictionaries({"anyOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"oneOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"allOf": st.lists(children, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"not": children}),
        st.fixed_dictionaries({"type": st.just(["string", "null"]), "maxLength": st.integers(0, 3)}),
    )


SCHEMAS = st.recursive(LEAVES, _compound, max_leaves=10)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(schema=SCHEMAS, seed=st.sampled_from(SEEDS))
def test_any_schema_gets_a_valid_answer_or_a_400(schema: Any, seed: str) -> None:
    # The API wants an object at the root; what is drawn goes one level down.
    schema = {"type": "object", "properties": {"v": schema}, "required": ["v"]}
    reply = respond(CHAT, seed, chat_body(response_format=schema_format("S", schema)), now=NOW)
    assert reply.status_code in (200, 400), reply.body
    if reply.status_code == 200:
        assert_valid(Draft202012Validator, schema, json.loads(content_of(reply.body)), formats=False)
        assert respond(CHAT, seed, chat_body(response_format=schema_format("S", schema)), now=NOW).body == reply.body
    else:
        assert reply.body["error"]["message"].startswith("Invalid schema for response_format 'S': In context=")


# --- end to end: a batch through the local server, parsed as a pipeline would ---


def structured_lines() -> list[dict[str, Any]]:
    order_format = schema_format("Order", Order.model_json_schema())
    strict_order = schema_format("Order", openai.pydantic_function_tool(Order)["function"]["parameters"], strict=True)
    weather_tool = function_tool("Weather", Weather.model_json_schema())
    lines: list[dict[str, Any]] = []
    for n in range(3):
        lines.append(
            {"custom_id": f"order-{n}", "method": "POST", "url": CHAT, "body": chat_body(response_format=order_format)}
        )
        lines.append(
            {"custom_id": f"strict-{n}", "method": "POST", "url": CHAT, "body": chat_body(response_format=strict_order)}
        )
        lines.append(
            {
                "custom_id": f"tool-{n}",
                "method": "POST",
                "url": CHAT,
                "body": chat_body(
                    tools=[weather_tool], tool_choice={"type": "function", "function": {"name": "Weather"}}
                ),
            }
        )
    lines.append({"custom_id": "plain", "method": "POST", "url": CHAT, "body": chat_body()})
    impossible = schema_format("Thing", {"type": "string", "minLength": 4, "maxLength": 1})
    lines.append(
        {"custom_id": "impossible", "method": "POST", "url": CHAT, "body": chat_body(response_format=impossible)}
    )
    return lines


def bodies(
    client: httpx.Client, lines: list[dict[str, Any]], endpoint: str = CHAT
) -> tuple[dict[str, Any], dict[str, Any]]:
    batch = run_batch(client, lines, endpoint)
    assert batch["status"] == "completed", batch
    out = {line["custom_id"]: line["response"] for line in read_lines(client, batch["output_file_id"])}
    errors = (
        {line["custom_id"]: line["response"] for line in read_lines(client, batch.get("error_file_id"))}
        if batch.get("error_file_id")
        else {}
    )
    return out, errors


def without_created(body: dict[str, Any]) -> str:
    return json.dumps(
        {key: value for key, value in body.items() if key not in ("created", "created_at")}, sort_keys=True
    )


def test_a_batch_of_structured_lines_parses_and_repeats_byte_for_byte(client: httpx.Client) -> None:
    lines = structured_lines()
    out, errors = bodies(client, lines)
    assert set(out) == {line["custom_id"] for line in lines} - {"impossible"}
    assert errors["impossible"]["status_code"] == 400
    assert errors["impossible"]["body"]["error"]["message"].startswith("Invalid schema for response_format 'Thing'")
    parsed = 0
    for custom_id, response in out.items():
        assert response["status_code"] == 200
        body = response["body"]
        check_body(CHAT, 200, body)
        message = body["choices"][0]["message"]
        if custom_id.startswith(("order-", "strict-")):
            Order.model_validate_json(message["content"])
            parsed += 1
        elif custom_id.startswith("tool-"):
            [call] = message["tool_calls"]
            assert_valid(Draft202012Validator, Weather.model_json_schema(), json.loads(call["function"]["arguments"]))
            Weather.model_validate_json(call["function"]["arguments"])
            parsed += 1
        else:
            assert message["content"] == "Echo: Extract the order."
    assert parsed == 9

    again, _ = bodies(client, lines)
    assert {k: without_created(v["body"]) for k, v in again.items()} == {
        k: without_created(v["body"]) for k, v in out.items()
    }
    for custom_id in out:
        first, second = (
            out[custom_id]["body"]["choices"][0]["message"],
            again[custom_id]["body"]["choices"][0]["message"],
        )
        assert json.dumps(first) == json.dumps(second)


def test_a_responses_batch_of_structured_lines(client: httpx.Client) -> None:
    fmt = {"type": "json_schema", "name": "Order", "schema": Order.model_json_schema()}
    tools = [{"type": "function", "name": "Weather", "parameters": Weather.model_json_schema(), "strict": False}]
    lines = [
        {
            "custom_id": f"text-{n}",
            "method": "POST",
            "url": RESPONSES,
            "body": {"model": "gpt-4.1-mini", "input": "order", "text": {"format": fmt}},
        }
        for n in range(3)
    ] + [
        {
            "custom_id": f"call-{n}",
            "method": "POST",
            "url": RESPONSES,
            "body": {"model": "gpt-4.1-mini", "input": "weather", "tools": tools, "tool_choice": "required"},
        }
        for n in range(3)
    ]
    out, errors = bodies(client, lines, RESPONSES)
    assert errors == {}
    for custom_id, response in out.items():
        body = response["body"]
        check_body(RESPONSES, 200, body)
        parsed = sdk_responses.Response.model_validate(body)
        if custom_id.startswith("text-"):
            Order.model_validate_json(parsed.output_text)
        else:
            [item] = body["output"]
            Weather.model_validate_json(item["arguments"])
    again, _ = bodies(client, lines, RESPONSES)
    assert {k: without_created(v["body"]) for k, v in again.items()} == {
        k: without_created(v["body"]) for k, v in out.items()
    }


# --- any value in the fields these answers read: a valid body or a 400, never a 500 ---

WEATHER_TOOL = function_tool("w", Weather.model_json_schema())
CHAT_FIELDS = {
    "response_format": st.sampled_from(
        [
            {"type": "text"},
            {"type": "json_object"},
            schema_format("W", Weather.model_json_schema()),
            {"type": "json_schema", "json_schema": {"name": "free"}},
            {"type": "json_schema", "json_schema": {"name": "W", "schema": {"type": "string", "maxLength": -1}}},
        ]
    ),
    "tools": st.sampled_from(
        [[WEATHER_TOOL], [], [{"type": "custom", "custom": {"name": "c"}}], [{"type": "function"}]]
    ),
    "tool_choice": st.sampled_from(
        [
            "auto",
            "none",
            "required",
            {"type": "function", "function": {"name": "w"}},
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "w"}}]},
            },
            {"type": "custom", "custom": {"name": "c"}},
        ]
    ),
    "functions": st.sampled_from([[{"name": "w", "parameters": Weather.model_json_schema()}], [{"name": 3}]]),
    "function_call": st.sampled_from(["auto", "none", {"name": "w"}, {"name": "x"}]),
    "n": st.integers(1, 3),
    "max_completion_tokens": st.integers(1, 200),
}
RESPONSE_FIELDS = {
    "text": st.sampled_from(
        [
            {"format": {"type": "text"}},
            {"format": {"type": "json_object"}},
            {"format": {"type": "json_schema", "name": "W", "schema": Weather.model_json_schema(), "strict": True}},
            {"format": {"type": "json_schema", "name": "W", "description": "d", "schema": {"type": "object"}}},
            {"verbosity": "low"},
        ]
    ),
    "tools": st.sampled_from(
        [
            [{"type": "function", "name": "w", "parameters": Weather.model_json_schema(), "strict": False}],
            [{"type": "function", "name": "bare"}],
            [{"type": "web_search_preview"}],
            [{"name": "no type"}],
            [],
        ]
    ),
    "tool_choice": st.sampled_from(
        [
            "auto",
            "none",
            "required",
            {"type": "function", "name": "w"},
            {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "w"}]},
            {"type": "web_search_preview"},
        ]
    ),
    "parallel_tool_calls": st.booleans(),
    "max_output_tokens": st.integers(1, 200),
}


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.fixed_dictionaries(
        {"model": st.just("gpt-4o-mini"), "messages": st.just([{"role": "user", "content": "json please"}])},
        optional={name: strategy | JSON_VALUES for name, strategy in CHAT_FIELDS.items()},
    )
)
def test_any_chat_structure_fields_get_a_valid_body_or_a_400(body: dict[str, Any]) -> None:
    reply = respond(CHAT, "r", body, now=NOW)
    assert reply.status_code in (200, 400), reply.body
    check_body(CHAT, reply.status_code, reply.body)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.fixed_dictionaries(
        {"model": st.just("gpt-4.1-mini"), "input": st.just("json please")},
        optional={name: strategy | JSON_VALUES for name, strategy in RESPONSE_FIELDS.items()},
    )
)
def test_any_responses_structure_fields_get_a_valid_body_or_a_400(body: dict[str, Any]) -> None:
    reply = respond(RESPONSES, "r", body, now=NOW)
    assert reply.status_code in (200, 400), reply.body
    check_body(RESPONSES, reply.status_code, reply.body)


# Every keyword the builder reads, each given any JSON at all: malformed schemas must cost a 400, never a 500.
KEYWORDS = (
    "type", "properties", "required", "additionalProperties", "patternProperties", "propertyNames", "minProperties",
    "maxProperties", "dependentRequired", "items", "prefixItems", "additionalItems", "minItems", "maxItems",
    "uniqueItems", "contains", "minContains", "maxContains", "minLength", "maxLength", "pattern", "format", "minimum",
    "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum", "const", "allOf", "anyOf", "oneOf", "not",
    "if", "then", "else", "$ref", "$defs",
)  # fmt: skip
MALFORMED = st.recursive(
    st.dictionaries(st.sampled_from(KEYWORDS), JSON_VALUES, max_size=4),
    lambda children: st.dictionaries(
        st.sampled_from(KEYWORDS),
        children | JSON_VALUES | st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(NAMES), children),
        max_size=4,
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(schema=MALFORMED)
def test_malformed_schemas_get_a_400_or_a_valid_answer_never_a_500(schema: dict[str, Any]) -> None:
    for body in (
        chat_body(response_format=schema_format("S", schema)),
        chat_body(tools=[function_tool("f", schema)], tool_choice="required"),
    ):
        reply = respond(CHAT, "r", body, now=NOW)
        assert reply.status_code in (200, 400), reply.body
        check_body(CHAT, reply.status_code, reply.body)
