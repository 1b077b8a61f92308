"""What a chat or Responses request asks the model to produce beyond plain text, and the fake answer that fits it.

A request that sets a `json_schema` response format gets content valid against its schema; `json_object` gets a
JSON object; tools with a `tool_choice` that forces a call (`"required"`, a named function, or `allowed_tools` in
`required` mode) get a function call whose arguments are valid against the function's `parameters`; the legacy
`functions`/`function_call` pair likewise. Everything else (no tools, `tool_choice` auto or none, custom and hosted
tools, which cannot be run offline) keeps the plain text answer.

A line that sets none of `response_format`, `tools`, `tool_choice`, `functions` and `function_call` (for
Responses: `text`, `tools`, `tool_choice`) never gets here: `responders` checks those keys first, so no schema or
tool list is read for plain lines. The values come from `schema_instance`, seeded with the custom_id, so
the same line always gets the same bytes.

What the real API refuses here is refused the same way, as a 400 for that line: a malformed or unsatisfiable schema
(with the API's "Invalid schema for response_format 'name': In context=(...), ..." wording), a function name that
is not among the tools, `json_object` without the word "json" in the messages, malformed tool and format objects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import json_type_name
from .schema_instance import SchemaProblem, instance_of

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NAME_PATTERN = "^[a-zA-Z0-9_-]+$"
_FUNCTION_ROOT = {"type": "object"}


class StructuredRejected(Exception):
    """What the real endpoint answers 400 to; `responders` turns it into that line's error."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str


@dataclass(frozen=True)
class Answer:
    """JSON content, or calls (and then no content); `legacy` marks a `function_call` rather than `tool_calls`,
    `named` a call the request named (the API then ends the choice with `stop`, not `tool_calls`)."""

    content: str | None = None
    calls: tuple[ToolCall, ...] = ()
    legacy: bool = False
    named: bool = False


@dataclass(frozen=True)
class JsonPlan:
    """Content in JSON: valid against `schema`, or any JSON object when there is none (`json_object`)."""

    schema: Mapping[str, Any] | None
    name: str
    param: str
    code: str | None

    def answer(self, seed: str, text: str) -> Answer:
        if self.schema is None:
            return Answer(content=compact({"answer": text}))
        value = _instance(self.schema, seed, self.name, "response_format", self.param, self.code)
        return Answer(content=compact(value))


@dataclass(frozen=True)
class CallPlan:
    name: str
    parameters: Mapping[str, Any] | None
    param: str
    legacy: bool = False
    named: bool = False

    def answer(self, seed: str, text: str) -> Answer:
        arguments = "{}"
        if self.parameters:
            # `parameters` describes an object even where it leaves `type` out, as the API reads it.
            schema = self.parameters if "type" in self.parameters else {**_FUNCTION_ROOT, **self.parameters}
            arguments = compact(
                _instance(schema, seed, self.name, "function", self.param, "invalid_function_parameters")
            )
        return Answer(calls=(ToolCall(self.name, arguments),), legacy=self.legacy, named=self.named)


Plan = JsonPlan | CallPlan


def compact(value: object) -> str:
    """JSON as the API writes model output: no spaces between tokens, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_tokens(text: str) -> int:
    """Tokens of JSON text: about four characters each, the usual rate for English and JSON in OpenAI's encodings
    (a word count would call a whole compact object one token)."""
    return max(1, math.ceil(len(text) / 4))


def definition_tokens(body: Mapping[str, Any], keys: Sequence[str]) -> int:
    """The prompt tokens that tool definitions and response formats add, which the real API counts as input."""
    total = 0
    for key in keys:
        value = body.get(key)
        if value is not None:
            total += json_tokens(compact(value))
    return total


def _instance(schema: Mapping[str, Any], seed: str, name: str, what: str, param: str, code: str | None) -> object:
    try:
        return instance_of(schema, seed, hint=name)
    except SchemaProblem as exc:
        raise StructuredRejected(f"Invalid schema for {what} '{name}': {exc.describe()}", param, code) from None
    except RecursionError:
        raise StructuredRejected(
            f"Invalid schema for {what} '{name}': In context=(), it nests or refers to itself too deeply to answer "
            "offline.",
            param,
            code,
        ) from None


# --- chat completions ---

# What of a chat request the prompt token count includes besides the messages.
CHAT_DEFINITIONS = ("response_format", "tools", "functions")


def chat_plan(body: Mapping[str, Any], texts: Sequence[str]) -> Plan | None:
    """None for a plain text answer. A forced tool call wins over a response format, as it does for the model."""
    call = _chat_call(body)
    if call is not None:
        return call
    return _chat_format(body.get("response_format"), texts)


def _chat_call(body: Mapping[str, Any]) -> CallPlan | None:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    functions: dict[str, tuple[Mapping[str, Any] | None, str]] = {}
    if tools is not None:
        for index, tool in enumerate(_list(tools, "tools")):
            where = f"tools[{index}]"
            tool = _object(tool, where)
            kind = tool.get("type")
            if kind == "function":
                function = _object(tool.get("function"), f"{where}.function", required=True)
                name = _name(function.get("name"), f"{where}.function.name")
                parameters = _parameters(function.get("parameters"), f"{where}.function.parameters")
                functions.setdefault(name, (parameters, f"{where}.function.parameters"))
            elif kind != "custom":
                raise _invalid_value(kind, f"{where}.type", ("function", "custom"))
    if choice is not None and choice not in ("none", "auto"):
        if not tools:
            raise StructuredRejected(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
            )
        chosen = _chat_choice(choice, functions)
        if chosen is not None:
            parameters, param = functions[chosen]
            named = isinstance(choice, Mapping) and choice.get("type") == "function"
            return CallPlan(chosen, parameters, param, named=named)
    legacy = body.get("functions")
    forced = body.get("function_call")
    if legacy is not None:
        declared: dict[str, Mapping[str, Any] | None] = {}
        for index, function in enumerate(_list(legacy, "functions")):
            function = _object(function, f"functions[{index}]")
            name = _name(function.get("name"), f"functions[{index}].name")
            declared.setdefault(name, _parameters(function.get("parameters"), f"functions[{index}].parameters"))
        if isinstance(forced, Mapping):
            wanted = forced.get("name")
            if not isinstance(wanted, str) or wanted not in declared:
                raise StructuredRejected(
                    f"Invalid value for 'function_call': function {wanted!r} is not among 'functions'.", "function_call"
                )
            index = list(declared).index(wanted)
            return CallPlan(wanted, declared[wanted], f"functions[{index}].parameters", legacy=True)
    return None


def _chat_choice(choice: object, functions: Mapping[str, object]) -> str | None:
    """The function a chat `tool_choice` forces, or None where the model may answer in text."""
    if choice == "required":
        return next(iter(functions), None)
    if isinstance(choice, str):
        raise _invalid_value(choice, "tool_choice", ("none", "auto", "required"))
    choice = _object(choice, "tool_choice")
    kind = choice.get("type")
    if kind == "function":
        function = _object(choice.get("function"), "tool_choice.function", required=True)
        return _known(function.get("name"), functions, "tool_choice.function.name")
    if kind == "allowed_tools":
        allowed = _object(choice.get("allowed_tools"), "tool_choice.allowed_tools", required=True)
        mode = allowed.get("mode")
        if mode not in ("auto", "required"):
            raise _invalid_value(mode, "tool_choice.allowed_tools.mode", ("auto", "required"))
        names = [
            entry["function"].get("name")
            for entry in _list(allowed.get("tools"), "tool_choice.allowed_tools.tools")
            if isinstance(entry, Mapping)
            and entry.get("type") == "function"
            and isinstance(entry.get("function"), Mapping)
        ]
        return next((name for name in names if name in functions), None) if mode == "required" else None
    if kind == "custom":
        return None
    raise _invalid_value(kind, "tool_choice.type", ("function", "allowed_tools", "custom"))


def _chat_format(value: object, texts: Sequence[str]) -> JsonPlan | None:
    if value is None:
        return None
    value = _object(value, "response_format")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        if not _mentions_json(texts):
            raise StructuredRejected(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                "messages",
            )
        return JsonPlan(None, "json_object", "response_format", None)
    if kind == "json_schema":
        spec = _object(value.get("json_schema"), "response_format.json_schema", required=True)
        name = _name(spec.get("name"), "response_format.json_schema.name")
        schema = _parameters(spec.get("schema"), "response_format.json_schema.schema")
        return JsonPlan(schema, name, "response_format", None)
    raise _invalid_value(kind, "response_format.type", ("text", "json_object", "json_schema"))


# --- responses ---

# The built-in tools a Responses `tool_choice` may name by type alone.
_HOSTED_CHOICES = (
    "file_search",
    "web_search_preview",
    "web_search_preview_2025_03_11",
    "computer",
    "computer_use",
    "computer_use_preview",
    "image_generation",
    "code_interpreter",
    "programmatic_tool_calling",
    "apply_patch",
    "shell",
)
# What of a Responses request the input token count includes besides the input and instructions.
RESPONSE_DEFINITIONS = ("text", "tools")


@dataclass(frozen=True)
class ResponseRequest:
    """The plan, and what the response object echoes of the request (`text`, `tools`, `tool_choice`)."""

    plan: Plan | None
    text_format: dict[str, Any]
    tools: list[Any]
    tool_choice: object


def response_request(body: Mapping[str, Any], texts: Sequence[str]) -> ResponseRequest:
    tools: list[Any] = []
    functions: dict[str, tuple[Mapping[str, Any] | None, str]] = {}
    raw_tools = body.get("tools")
    if raw_tools is not None:
        for index, tool in enumerate(_list(raw_tools, "tools")):
            where = f"tools[{index}]"
            tool = _object(tool, where)
            kind = tool.get("type")
            if not isinstance(kind, str):
                raise StructuredRejected(
                    f"Missing required parameter: '{where}.type'.", f"{where}.type", "missing_required_parameter"
                )
            if kind == "function":
                name = _name(tool.get("name"), f"{where}.name")
                parameters = _parameters(tool.get("parameters"), f"{where}.parameters")
                description = tool.get("description")
                strict = tool.get("strict")
                functions.setdefault(name, (parameters, f"{where}.parameters"))
                tools.append(
                    {
                        "type": "function",
                        "name": name,
                        "description": description if isinstance(description, str) else None,
                        "parameters": parameters,
                        # The Responses API makes function tools strict unless told otherwise.
                        "strict": strict if isinstance(strict, bool) else True,
                    }
                )
            else:
                tools.append(dict(tool))
    choice = body.get("tool_choice", "auto")
    if choice is None:
        choice = "auto"
    chosen = _response_choice(choice, functions, bool(raw_tools))
    text_format, json_plan = _response_format(body.get("text"), texts)
    plan: Plan | None = json_plan
    if chosen is not None:
        parameters, param = functions[chosen]
        plan = CallPlan(chosen, parameters, param)
    echoed_choice = choice if isinstance(choice, str) else dict(_object(choice, "tool_choice"))
    return ResponseRequest(plan, text_format, tools, echoed_choice)


def _response_choice(choice: object, functions: Mapping[str, object], any_tools: bool) -> str | None:
    if choice in ("none", "auto"):
        return None
    if choice == "required":
        if not any_tools:
            raise StructuredRejected(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
            )
        return next(iter(functions), None)
    if isinstance(choice, str):
        raise _invalid_value(choice, "tool_choice", ("none", "auto", "required"))
    choice = _object(choice, "tool_choice")
    kind = choice.get("type")
    if kind == "function":
        return _known(choice.get("name"), functions, "tool_choice.name")
    if kind == "allowed_tools":
        mode = choice.get("mode")
        if mode not in ("auto", "required"):
            raise _invalid_value(mode, "tool_choice.mode", ("auto", "required"))
        names = [
            entry.get("name")
            for entry in _list(choice.get("tools"), "tool_choice.tools")
            if isinstance(entry, Mapping) and entry.get("type") == "function"
        ]
        return next((name for name in names if name in functions), None) if mode == "required" else None
    required_string = {"mcp": "server_label", "custom": "name"}.get(kind) if isinstance(kind, str) else None
    if kind not in _HOSTED_CHOICES and required_string is None:
        raise _invalid_value(kind, "tool_choice.type", ("function", "allowed_tools", "mcp", "custom", *_HOSTED_CHOICES))
    if required_string is not None and not isinstance(choice.get(required_string), str):
        param = f"tool_choice.{required_string}"
        raise StructuredRejected(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    # Hosted tools, MCP and custom tools have no offline stand-in: the answer stays text.
    return None


def _response_format(text: object, texts: Sequence[str]) -> tuple[dict[str, Any], JsonPlan | None]:
    if text is None:
        return {"type": "text"}, None
    text = _object(text, "text")
    value = text.get("format")
    if value is None:
        return {"type": "text"}, None
    value = _object(value, "text.format")
    kind = value.get("type")
    if kind == "text":
        return {"type": "text"}, None
    if kind == "json_object":
        if not _mentions_json(texts):
            raise StructuredRejected(
                "Response input messages must contain the word 'json' in some form to use 'text.format' of type "
                "'json_object'.",
                "input",
            )
        return {"type": "json_object"}, JsonPlan(None, "json_object", "text.format", None)
    if kind == "json_schema":
        name = _name(value.get("name"), "text.format.name")
        if value.get("schema") is None:
            raise StructuredRejected(
                "Missing required parameter: 'text.format.schema'.", "text.format.schema", "missing_required_parameter"
            )
        schema = _parameters(value.get("schema"), "text.format.schema")
        description = value.get("description")
        strict = value.get("strict")
        echoed: dict[str, Any] = {"type": "json_schema", "name": name, "schema": schema}
        if isinstance(description, str):
            echoed["description"] = description
        echoed["strict"] = strict if isinstance(strict, bool) else False
        return echoed, JsonPlan(schema, name, "text.format.schema", None)
    raise _invalid_value(kind, "text.format.type", ("text", "json_object", "json_schema"))


# --- checks shared by both ---


def _mentions_json(texts: Sequence[str]) -> bool:
    return any("json" in text.lower() for text in texts)


def _list(value: object, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise StructuredRejected(
            f"Invalid type for '{param}': expected an array, but got {json_type_name(value)} instead.",
            param,
            "invalid_type",
        )
    return value


def _object(value: object, param: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and required:
        raise StructuredRejected(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if not isinstance(value, Mapping):
        raise StructuredRejected(
            f"Invalid type for '{param}': expected an object, but got {json_type_name(value)} instead.",
            param,
            "invalid_type",
        )
    return value


def _name(value: object, param: str) -> str:
    if value is None:
        raise StructuredRejected(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if not isinstance(value, str) or not _NAME.match(value):
        raise StructuredRejected(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern "
            f"'{_NAME_PATTERN}' and is at most 64 characters long.",
            param,
            "invalid_value",
        )
    return value


def _parameters(value: object, param: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    return _object(value, param)


def _known(name: object, functions: Mapping[str, object], param: str) -> str:
    if not isinstance(name, str) or name not in functions:
        raise StructuredRejected(f"Invalid value for '{param}': no function named {name!r} is among 'tools'.", param)
    return name


def _invalid_value(value: object, param: str, choices: Sequence[str]) -> StructuredRejected:
    supported = ", ".join(f"'{choice}'" for choice in choices)
    return StructuredRejected(f"Invalid value: {value!r}. Supported values are: {supported}.", param, "invalid_value")
