"""Every failure leaves the server as the real API's error body: `{"error": {"message", "type", "param", "code"}}`.

Handlers raise `APIError` from wherever they notice the problem; the HTTP layer alone turns it into a response, so
the shape (and the `x-request-id` header beside it) cannot drift between endpoints. Messages copy the wording the
real service uses where it is known, because client code and people search for those strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"
# A conflict with the stored state will not go away on a retry; clients that honour the header stop at once.
NO_RETRY = {"x-should-retry": "false"}


class APIError(Exception):
    """An answer other than 2xx, with everything the error body and its headers need."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        close_connection: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})
        # Set when the request body was not read to its end: the connection cannot carry another request.
        self.close_connection = close_connection

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def missing_parameter(param: str) -> APIError:
    return invalid_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def unknown_parameter(param: str) -> APIError:
    return invalid_request(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def invalid_type(param: str, expected: str, value: object) -> APIError:
    return invalid_request(
        f"Invalid type for '{param}': expected {expected}, but got {json_type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def invalid_value(param: str, value: object, supported: Iterable[str]) -> APIError:
    choices = ", ".join(f"'{choice}'" for choice in supported)
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {choices}.", param=param, code="invalid_value"
    )


def integer_out_of_range(param: str, value: int, minimum: int, maximum: int) -> APIError:
    if value < minimum:
        return invalid_request(
            f"Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, but got {value} instead.",
            param=param,
            code="integer_below_min_value",
        )
    return invalid_request(
        f"Invalid '{param}': integer above maximum value. Expected a value <= {maximum}, but got {value} instead.",
        param=param,
        code="integer_above_max_value",
    )


def not_found(message: str, *, param: str | None = None) -> APIError:
    return APIError(404, message, param=param)


def payload_too_large(message: str) -> APIError:
    return APIError(413, message, code="file_too_large", close_connection=True)


def idempotency_conflict(key: str) -> APIError:
    return APIError(
        409,
        f"Idempotency-Key '{key}' was already used with a different request. Use a new key for a new request.",
        param="Idempotency-Key",
        code="idempotency_key_reused",
        headers=NO_RETRY,
    )


def server_error() -> APIError:
    return APIError(500, SERVER_ERROR_MESSAGE, error_type="server_error")


INSUFFICIENT_STORAGE_MESSAGE = (
    "The server's disk is full, so this request could not be stored; nothing stored before was lost. Delete files "
    "you no longer need (DELETE /v1/files/{file_id} works while the disk is full) or free space on the server's "
    "disk, then send the request again."
)


def insufficient_storage() -> APIError:
    """507: a write found the disk full. Not worth an automatic retry: the disk stays full until someone frees it."""
    return APIError(
        507, INSUFFICIENT_STORAGE_MESSAGE, error_type="server_error", code="insufficient_storage", headers=NO_RETRY
    )


def json_type_name(value: object) -> str:
    """The article-and-noun the real API uses for a JSON value's type ("an integer", "a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
