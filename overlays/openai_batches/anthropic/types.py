"""The models the Anthropic client returns: the generated attrs models, with the official SDK's attribute names.

As `openai_batches.types` does for the OpenAI models, each class is a thin subclass of the generated model of the same
name (built from anthropic-openapi.yaml) that adds only read-only aliases: `type` for the generated `type_`, and
`to_dict()` / `to_json()` for the wire form. `from openai_batches.anthropic.types import MessageBatch` mirrors
`from anthropic.types.messages import MessageBatch`.

Timestamps (`created_at`, `ended_at`, ...) are RFC 3339 strings as the API sends them (the SDK parses them into
datetimes; spec/anthropic/overrides.yaml says why the fragment does not). A request's `params` and a succeeded
result's `message` are free-form: mappings exactly as written or received (`result.message["content"]`).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import _generated as generated
from .._generated import (
    DeletedMessageBatchType,
    ErrorObjectType,
    ErrorResponseType,
    MessageBatchCanceledResultType,
    MessageBatchErroredResultType,
    MessageBatchExpiredResultType,
    MessageBatchProcessingStatus,
    MessageBatchSucceededResultType,
    MessageBatchType,
)
from .._models import WireModel

__all__ = [
    "DeletedMessageBatch",
    "ErrorObject",
    "ErrorResponse",
    "ListMessageBatchesResponse",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchProcessingStatus",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchResultVariant",
    "MessageBatchSucceededResult",
    "SucceededMessage",
]


class MessageBatchRequestCounts(WireModel, generated.MessageBatchRequestCounts):
    """How many requests of a batch are processing, succeeded, errored, were canceled or expired."""

    __slots__ = ()


class MessageBatch(WireModel, generated.MessageBatch):
    """A Message Batch and its progress (`processing_status`: `in_progress`, `canceling`, `ended`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        request_counts: MessageBatchRequestCounts

    @property
    def type(self) -> MessageBatchType | str:
        """Always `message_batch` (the field `type_` of the generated model)."""
        return self.type_


class DeletedMessageBatch(WireModel, generated.DeletedMessageBatch):
    """What `delete` returns: the id and `type` `message_batch_deleted`."""

    __slots__ = ()

    @property
    def type(self) -> DeletedMessageBatchType | str:
        """Always `message_batch_deleted` (the field `type_` of the generated model)."""
        return self.type_


class ListMessageBatchesResponse(WireModel, generated.ListMessageBatchesResponse):
    """One page of a listing as the API sends it; `list()` hands out pages that walk on (`SyncPage`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        data: builtins.list[MessageBatch]  # type: ignore[assignment]


class ErrorObject(WireModel, generated.ErrorObject):
    """An error: its kind in `type` (`invalid_request_error`, `overloaded_error`, ...) and its `message`."""

    __slots__ = ()

    @property
    def type(self) -> ErrorObjectType | str:
        return self.type_


class ErrorResponse(WireModel, generated.ErrorResponse):
    """The error envelope: `type` `error` and the `error` itself."""

    __slots__ = ()

    if TYPE_CHECKING:
        error: ErrorObject

    @property
    def type(self) -> ErrorResponseType | str:
        return self.type_


class SucceededMessage(WireModel, generated.MessageBatchSucceededResultMessage):
    """The Message a succeeded request produced, as a mapping: `message["content"][0]["text"]`."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        """The field `key`, or `default` when the message has none.

        Args:
            key: A field of the Message (`id`, `content`, `usage`, ...).
            default: What to return when it is absent.

        Returns:
            The field's JSON value, or `default`.
        """
        return self.additional_properties.get(key, default)


class MessageBatchSucceededResult(WireModel, generated.MessageBatchSucceededResult):
    """The request succeeded: `message` is the Message it produced."""

    __slots__ = ()

    if TYPE_CHECKING:
        message: SucceededMessage

    @property
    def type(self) -> MessageBatchSucceededResultType | str:
        """Always `succeeded`."""
        return self.type_


class MessageBatchErroredResult(WireModel, generated.MessageBatchErroredResult):
    """The request failed: `error.error.type` and `error.error.message` say why."""

    __slots__ = ()

    if TYPE_CHECKING:
        error: ErrorResponse

    @property
    def type(self) -> MessageBatchErroredResultType | str:
        """Always `errored`."""
        return self.type_


class MessageBatchCanceledResult(WireModel, generated.MessageBatchCanceledResult):
    """The batch was canceled before the request ran."""

    __slots__ = ()

    @property
    def type(self) -> MessageBatchCanceledResultType | str:
        """Always `canceled`."""
        return self.type_


class MessageBatchExpiredResult(WireModel, generated.MessageBatchExpiredResult):
    """The batch reached its 24-hour expiry before the request ran."""

    __slots__ = ()

    @property
    def type(self) -> MessageBatchExpiredResultType | str:
        """Always `expired`."""
        return self.type_


class MessageBatchResult(WireModel, generated.MessageBatchResult):
    """A result of a kind this client does not know yet: its `type`, and its other fields as received."""

    __slots__ = ()

    @property
    def type(self) -> str:
        """The kind of result."""
        return self.type_


MessageBatchResultVariant: TypeAlias = (
    MessageBatchSucceededResult
    | MessageBatchErroredResult
    | MessageBatchCanceledResult
    | MessageBatchExpiredResult
    | MessageBatchResult
)
"""What `MessageBatchIndividualResponse.result` holds: one class per `type`, `MessageBatchResult` for another."""


class MessageBatchIndividualResponse(WireModel, generated.MessageBatchIndividualResponse):
    """One line of a batch's results: the request's `custom_id` and its `result`, typed by kind."""

    __slots__ = ()

    if TYPE_CHECKING:
        result: MessageBatchResultVariant  # type: ignore[assignment]
