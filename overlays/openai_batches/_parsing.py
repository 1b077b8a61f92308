"""Turning a successful response into a generated model, or into an `APIResponseValidationError` naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx

from . import _json
from ._exceptions import APIResponseValidationError
from ._http import CallContext
from ._models import InvalidShape, Refused, build, decoder

T = TypeVar("T")

Parse = Callable[[CallContext, httpx.Response], T]
"""Turns a successful response into what a plain method returns."""


def model_parser(model: type[T]) -> Parse[T]:
    """The parse step of a call that returns `model` (what `parse()` of its raw response gives too)."""

    def parse(context: CallContext, response: httpx.Response) -> T:
        return parse_model(context, response, model)

    return parse


def parse_model(context: CallContext, response: httpx.Response, model: type[T]) -> T:
    """The body of a 2xx response as `model`; any other body is the server's error, reported as ours."""
    decode = decoder(model)
    if decode is not None:
        try:
            built: T = decode(response.content)
        except Refused:
            pass  # not the usual shape: the general path below gives the value or the error
        else:
            return built
    body = _json_body(context, response)
    try:
        return build(model, body)
    except InvalidShape as problem:
        raise _invalid(context, response, body, problem.field, problem.message) from None
    except RecursionError:
        raise _invalid(context, response, None, "", "the body is nested too deeply") from None


def _json_body(context: CallContext, response: httpx.Response) -> object:
    try:
        return _json.loads(response.content)
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
    context: CallContext, response: httpx.Response, body: object, field: str, message: str
) -> APIResponseValidationError:
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
