"""Turning a generated call's outcome into a model or one of our errors.

The generated `from_dict` methods trust the body: a missing key raises KeyError, an array where an object belongs
raises TypeError or ValueError, HTML raises JSONDecodeError, and a nested object of the wrong shape is kept as the raw
value. Here every such failure becomes an `APIResponseValidationError` that names the field, found by walking the
body along the model's own type hints, so the check follows the spec when it is regenerated.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import attrs
import httpx
from openai_batches_generated import models as generated_models
from openai_batches_generated.types import Response, Unset

from ._exceptions import APIResponseValidationError, OpenAIBatchesError
from ._http import CallContext, bind_call

T = TypeVar("T")

# RecursionError: a deeply nested body overflows the JSON parser.
_PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)


def parse_sync(context: CallContext, call: Callable[[], Response[T]]) -> T:
    with bind_call(context):
        try:
            result = call()
        except _PARSE_ERRORS as exc:
            if isinstance(exc, OpenAIBatchesError) or not context.delivered:
                raise  # ours, or from a user hook or sleeper before any body arrived: not about the body
            return cast(T, _recover(context, exc))
    return _checked(context, result)


async def parse_async(context: CallContext, call: Callable[[], Awaitable[Response[T]]]) -> T:
    with bind_call(context):
        try:
            result = await call()
        except _PARSE_ERRORS as exc:
            if isinstance(exc, OpenAIBatchesError) or not context.delivered:
                raise  # ours, or from a user hook or sleeper before any body arrived: not about the body
            return cast(T, _recover(context, exc))
    return _checked(context, result)


def _checked(context: CallContext, result: Response[T]) -> T:
    response = context.response
    assert response is not None  # the dispatcher records every response it returns
    body = _json_body(context, response)
    model = context.expected
    # The generated parser keeps a nested object of the wrong shape as the raw value and reads `"data": {}` as an
    # empty list, so the raw body is checked against the model too.
    problem = _find_in_json(model, body, "") if model is not None else None
    if problem is not None:
        raise _invalid(context, response, body, problem)
    parsed = result.parsed
    if parsed is None:
        # The generated parser only knows the declared 200; another 2xx with the right body is as good.
        return cast(T, _from_body(context, response, body))
    return parsed


def _from_body(context: CallContext, response: httpx.Response, body: object) -> object:
    model = context.expected
    if model is None or not hasattr(model, "from_dict"):
        raise _invalid(context, response, body, ("", f"unexpected success status {response.status_code}"))
    try:
        return model.from_dict(body)
    except _PARSE_ERRORS as exc:
        raise _invalid(context, response, body, ("", f"{type(exc).__name__}: {exc}")) from exc


def _recover(context: CallContext, exc: Exception) -> object:
    """After the generated parser failed: a body that fits the model still parses (the generated code also fails
    on a 2xx that Python's HTTPStatus does not know, like 299); anything else is explained field by field."""
    response = context.response
    if response is None:
        raise OpenAIBatchesError(f"Could not build the request: {type(exc).__name__}: {exc}") from exc
    body = _json_body(context, response)
    model = context.expected
    problem = _find_in_json(model, body, "") if model is not None else None
    if problem is not None:
        raise _invalid(context, response, body, problem) from exc
    return _from_body(context, response, body)


def _json_body(context: CallContext, response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        content_type = response.headers.get("content-type", "none")
        error = APIResponseValidationError(
            f"Response body is not valid JSON (status {response.status_code}, content-type {content_type}, "
            f"{len(response.content)} bytes).",
            response=response,
        )
        error.attempts = max(context.attempts, 1)
        raise error from None


def _invalid(
    context: CallContext, response: httpx.Response, body: object, problem: tuple[str, str]
) -> APIResponseValidationError:
    field, message = problem
    redact = context.redact_json
    error = APIResponseValidationError(
        f"Invalid response body: {message}",
        response=response,
        body=redact(body) if redact is not None else body,
        field=field or None,
    )
    if redact is not None:
        error.message = str(redact(error.message))
        error.args = (error.message,)
        if error.request_id:
            error.request_id = str(redact(error.request_id))
    error.attempts = max(context.attempts, 1)
    return error


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


@functools.cache
def _field_specs(model: type) -> tuple[tuple[str, str, bool, tuple[Any, ...]], ...]:
    """(attribute, JSON key, required, allowed types) for each field of a generated model."""
    # Generated modules import their nested models only for type checking; resolve the names from the package.
    hints = typing.get_type_hints(model, localns=vars(generated_models))
    specs = []
    for field in attrs.fields(model):
        if not field.init:
            continue
        # The generator appends "_" to names that shadow builtins (`object` becomes `object_`).
        key = field.name[:-1] if field.name.endswith("_") else field.name
        required = field.default is attrs.NOTHING
        specs.append((field.name, key, required, _union_args(hints[field.name])))
    return tuple(specs)


def _union_args(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def _nested(allowed: tuple[Any, ...]) -> tuple[type | None, type | None]:
    """The attrs model a field may hold, and the attrs model its list items may hold."""
    model = next((a for a in allowed if attrs.has(a)), None)
    item = None
    for a in allowed:
        if typing.get_origin(a) is list:
            (arg,) = typing.get_args(a)
            if attrs.has(arg):
                item = arg
    return model, item


def _only_bool(allowed: tuple[Any, ...]) -> bool:
    return bool in allowed and all(a in (bool, type(None), Unset) for a in allowed)


def _find_in_json(model: type, data: object, path: str) -> tuple[str, str] | None:
    """The first place where raw JSON does not fit the model, as (field path, message)."""
    where = path or "body"
    if not isinstance(data, dict):
        return path, f"{where}: expected an object, got {_json_type(data)}"
    for _, key, required, allowed in _field_specs(model):
        field_path = f"{path}.{key}" if path else key
        if key not in data:
            if required:
                return field_path, f"{field_path}: required field is missing"
            continue
        value = data[key]
        if value is None:
            if required and type(None) not in allowed:
                return field_path, f"{field_path}: required field is null"
            continue
        # Booleans steer the client (`has_more` ends a walk), so "yes" or 1 is refused; other scalars are kept.
        if _only_bool(allowed) and not isinstance(value, bool):
            return field_path, f"{field_path}: expected a boolean, got {_json_type(value)}"
        sub_model, item_model = _nested(allowed)
        if sub_model is not None and isinstance(value, dict):
            problem = _find_in_json(sub_model, value, field_path)
            if problem is not None:
                return problem
        elif item_model is not None:
            if not isinstance(value, list):
                return field_path, f"{field_path}: expected an array, got {_json_type(value)}"
            for index, item in enumerate(value):
                problem = _find_in_json(item_model, item, f"{field_path}[{index}]")
                if problem is not None:
                    return problem
        elif sub_model is not None:
            return field_path, f"{field_path}: expected an object, got {_json_type(value)}"
    return None
