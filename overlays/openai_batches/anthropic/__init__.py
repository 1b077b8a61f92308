"""A typed client for Anthropic's Message Batches API, on the same request path as the OpenAI client.

    from openai_batches.anthropic import AnthropicBatchClient

    client = AnthropicBatchClient()  # ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
    batch = client.messages.batches.create(requests=[{"custom_id": "a", "params": {...}}])
    for item in client.messages.batches.results(batch.id): ...

The client is generated, like the OpenAI one, from a vendored OpenAPI fragment (anthropic-openapi.yaml, derived from
spec/anthropic/ by tools/anthropic_spec.py); the names follow the official `anthropic` SDK's `messages.batches`.
Errors are the library's own (`NotFoundError`, `RateLimitError`, ...), plus the subclasses for statuses only
Anthropic uses (`OverloadedError` for 529, `RequestTooLargeError` for 413).
"""

from __future__ import annotations

from ._client import DEFAULT_BASE_URL, AnthropicBatchClient, AsyncAnthropicBatchClient
from ._errors import (
    ContentTooLargeError,
    GatewayTimeoutError,
    OverloadedError,
    RequestTooLargeError,
    ServiceUnavailableError,
)
from .batches import AsyncPage, AsyncResultStream, ResultStream, SyncPage
from .types import (
    DeletedMessageBatch,
    ErrorObject,
    ErrorResponse,
    MessageBatch,
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchExpiredResult,
    MessageBatchIndividualResponse,
    MessageBatchRequestCounts,
    MessageBatchResult,
    MessageBatchSucceededResult,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AnthropicBatchClient",
    "AsyncAnthropicBatchClient",
    "AsyncPage",
    "AsyncResultStream",
    "ContentTooLargeError",
    "DeletedMessageBatch",
    "ErrorObject",
    "ErrorResponse",
    "GatewayTimeoutError",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "OverloadedError",
    "RequestTooLargeError",
    "ResultStream",
    "ServiceUnavailableError",
    "SyncPage",
]
