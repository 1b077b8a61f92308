"""The library's exceptions; names follow the official `openai` SDK so `except` clauses port over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._generated import Batch

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIKeyProviderError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchWaitTimeout",
    "ConflictError",
    "FileWaitTimeout",
    "InternalServerError",
    "InvalidParameterError",
    "MissingAPIKeyError",
    "MissingDependencyError",
    "NotFoundError",
    "OpenAIBatchesError",
    "OpenAIError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class OpenAIBatchesError(Exception):
    """Base class of every exception this library raises."""


# The official SDK's base class name, so `except openai.OpenAIError` ports with an import change only.
OpenAIError = OpenAIBatchesError


class MissingAPIKeyError(OpenAIBatchesError):
    """No API key was given and OPENAI_API_KEY is unset or empty."""


def install_hint(extra: str) -> str:
    """The command that installs an optional extra, as it works today: the package is on no index yet, so from the
    repository folder of a clone (once it is published, `pip install 'openai-batches[EXTRA]'` does the same)."""
    return f"pip install '.[{extra}]' from the openai-batches repository folder"


class MissingDependencyError(OpenAIBatchesError, ImportError):
    """An optional library a call needs is not installed; `extra` names the extra that installs it
    (`pip install '.[EXTRA]'` from the repository folder, as the message says). Also an ImportError, which is what it
    is."""

    def __init__(self, message: str, *, extra: str, name: str | None = None) -> None:
        super().__init__(message, name=name)
        self.extra = extra


class APIKeyProviderError(OpenAIBatchesError):
    """The `api_key` callable raised, or returned no usable key; raised before the request is sent.

    Its own class, not an `AuthenticationError`: the server never saw the request, so retrying or re-checking the
    key with the API would not help, the callable (a token service, a vault) needs fixing.
    """


class InvalidParameterError(OpenAIBatchesError, ValueError):
    """A call argument was refused before any request was sent; `param` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class APIError(OpenAIBatchesError):
    """A request reached (or tried to reach) the API and did not give a usable answer."""

    message: str
    request: httpx.Request | None
    body: object | None
    attempts: int
    """How many times the request was sent, retries included."""

    def __init__(self, message: str, *, request: httpx.Request | None = None, body: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.attempts = 1


class APIStatusError(APIError):
    """The API answered with a status that is not a success."""

    response: httpx.Response
    status_code: int
    request_id: str | None
    type: str | None
    code: str | None
    param: str | None

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        # As in the official SDK, `body` is the error object inside the `{"error": {...}}` envelope (the whole
        # decoded body when there is no envelope, the text when it is not JSON); `response` keeps the envelope.
        inner = body.get("error", body) if isinstance(body, dict) else body
        super().__init__(message, request=request_of(response), body=inner)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")
        fields: dict[str, Any] = inner if isinstance(inner, dict) else {}
        self.type = _optional_str(fields.get("type"))
        self.code = _optional_str(fields.get("code"))
        self.param = _optional_str(fields.get("param"))

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"Error code: {self.status_code} - {self.message}{suffix}"


class BadRequestError(APIStatusError):
    """400: the API refused the request as malformed."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such batch (or file), or not visible to this key."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the object's current state."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but its values were refused."""


class RateLimitError(APIStatusError):
    """429: too many requests, or the organisation's batch queue limit was reached."""


class InternalServerError(APIStatusError):
    """Any 5xx, including codes Python's HTTPStatus does not know (520 to 529)."""


class APIConnectionError(APIError):
    """The request did not get a complete answer: DNS, refused connection, reset, broken body."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APIResponseValidationError(APIError):
    """A success status came with a body that is not the object the API promises."""

    response: httpx.Response
    status_code: int
    request_id: str | None
    field: str | None

    def __init__(
        self, message: str, *, response: httpx.Response, body: object | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, request=request_of(response), body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")
        self.field = field


class PaginationError(APIError):
    """A list endpoint answered with pages that cannot be walked safely (a repeated cursor, an empty page)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for a non-success status; unknown codes fall back by range."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


def _optional_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def request_of(response: httpx.Response) -> httpx.Request | None:
    """The request behind a response, or None for a response built by hand (httpx raises instead)."""
    try:
        return response.request
    except RuntimeError:
        return None


class BatchWaitTimeout(OpenAIBatchesError, TimeoutError):
    """`batches.wait` gave up before the batch finished; `batch` is the last state seen."""

    def __init__(self, message: str, *, batch: Batch | None, elapsed: float) -> None:
        super().__init__(message)
        self.batch = batch
        self.elapsed = elapsed


class FileWaitTimeout(OpenAIBatchesError, TimeoutError, RuntimeError):
    """`files.wait_for_processing` gave up before the file was processed; `file` is the last state seen.

    Also a RuntimeError, which is what the official SDK raises there.
    """

    def __init__(self, message: str, *, file: object) -> None:
        super().__init__(message)
        self.file = file
