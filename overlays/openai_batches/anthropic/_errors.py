"""Anthropic's error statuses as the library's typed errors, with the request id from Anthropic's `request-id`.

Every error is one of `openai_batches`' own (`BadRequestError` for 400, `AuthenticationError` 401,
`PermissionDeniedError` 403, `NotFoundError` 404, `RateLimitError` 429, `InternalServerError` for 5xx, ...), so an
`except` clause written for the OpenAI client catches the Anthropic client's errors too. The statuses Anthropic
documents that the OpenAI API does not use get a subclass named as in the official `anthropic` SDK: 413
`RequestTooLargeError`, 503 `ServiceUnavailableError`, 504 `GatewayTimeoutError`, 529 `OverloadedError` (the last
three are `InternalServerError`s). The message is the body's `error.message`; `type` is `error.type`
(`invalid_request_error`, `overloaded_error`, ...).
"""

from __future__ import annotations

from typing import Final

import httpx

from .._exceptions import APIStatusError, InternalServerError, status_error_class
from .._http import RequestBuilder

__all__ = [
    "GatewayTimeoutError",
    "OverloadedError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "anthropic_error_class",
]


class RequestTooLargeError(APIStatusError):
    """413: the request is larger than the API takes (256 MB for a batch)."""


class ServiceUnavailableError(InternalServerError):
    """503: the API is unavailable for now."""


class GatewayTimeoutError(InternalServerError):
    """504: the API did not answer in time."""


class OverloadedError(InternalServerError):
    """529: the API is overloaded; retried like any 5xx."""


# The SDK 2.x name of the 413 error.
ContentTooLargeError = RequestTooLargeError

_CLASSES: Final[dict[int, type[APIStatusError]]] = {
    413: RequestTooLargeError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
    529: OverloadedError,
}


def anthropic_error_class(status_code: int) -> type[APIStatusError]:
    """The error class for a status of the Anthropic API.

    Args:
        status_code: The response's status.

    Returns:
        The class the library raises for it.
    """
    return _CLASSES.get(status_code) or status_error_class(status_code)


class AnthropicRequestBuilder(RequestBuilder):
    """The request path's builder with Anthropic's error classes and request id; everything else is the library's."""

    def status_error(self, response: httpx.Response) -> APIStatusError:
        error = super().status_error(response)
        cls = anthropic_error_class(response.status_code)
        if type(error) is not cls:
            # Built again from what the library built (the message and body already redacted), as the other class.
            error = cls(error.message, response=response, body=error.body)
        request_id = response.headers.get("request-id") or response.headers.get("x-request-id")
        error.request_id = self.redact(request_id) if request_id else None
        return error
