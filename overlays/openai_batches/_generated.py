"""The seam: the one overlay module that names the generated package, `openai_batches_generated`.

Every other module of the overlay (resources, types, the model builder, the command line, jobs) reaches generated
code through this one, as `from ._generated import Batch, retrieve_batch`, so a generator upgrade that moves or
renames something is answered here, in one file. A test (tests/test_layout.py) keeps it that way.

Importing this module loads nothing: each name is imported from its generated module the first time it is asked for,
then kept. The models package loads every model at once (its `__init__` imports them all), and an API module loads
the models it returns, so `from openai_batches import BatchClient` pays for neither until a resource is first used.
Type checkers read the imports in the TYPE_CHECKING block; `__all__` names the same things (a test compares
them, and checks that each name is the generated object itself).

Requests are built by `request_kwargs(operation, *args, **kwargs)`, the one place that calls a generated operation
module's private request builder: the resources pass the operation (`retrieve_batch`) and its arguments, and send
the method, path, query and body it describes. A generator that renames the builder or changes its shape is
answered in that function (tests/test_layout.py checks that no other overlay file names it).

The Anthropic Message Batches client (`openai_batches.anthropic`) reaches its own generated package,
`anthropic_batches_generated` (from anthropic-openapi.yaml), through this module too: its operations and models are
served here under their generated names, and its `UNSET` as `ANTHROPIC_UNSET` (its request builders compare to their
own sentinel). `models_namespace` tells the model builder in which package a model's type hints resolve.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol

if TYPE_CHECKING:
    # The Anthropic Message Batches package (anthropic-openapi.yaml); its own UNSET, which its builders compare to.
    from anthropic_batches_generated.api.message_batches import (
        cancel_message_batch,
        create_message_batch,
        delete_message_batch,
        get_message_batch_results,
        list_message_batches,
        retrieve_message_batch,
    )
    from anthropic_batches_generated.models import (
        DeletedMessageBatch,
        DeletedMessageBatchType,
        ErrorObject,
        ErrorObjectType,
        ErrorResponse,
        ErrorResponseType,
        ListMessageBatchesResponse,
        MessageBatch,
        MessageBatchCanceledResult,
        MessageBatchCanceledResultType,
        MessageBatchCreateParams,
        MessageBatchErroredResult,
        MessageBatchErroredResultType,
        MessageBatchExpiredResult,
        MessageBatchExpiredResultType,
        MessageBatchIndividualResponse,
        MessageBatchProcessingStatus,
        MessageBatchRequestCounts,
        MessageBatchRequestParams,
        MessageBatchRequestParamsParams,
        MessageBatchResult,
        MessageBatchSucceededResult,
        MessageBatchSucceededResultMessage,
        MessageBatchSucceededResultType,
        MessageBatchType,
    )
    from anthropic_batches_generated.types import UNSET as ANTHROPIC_UNSET
    from openai_batches_generated import models
    from openai_batches_generated.api.batch import cancel_batch, create_batch, list_batches, retrieve_batch
    from openai_batches_generated.api.files import (
        create_file,
        delete_file,
        download_file,
        list_files,
        retrieve_file,
    )
    from openai_batches_generated.models import (
        Batch,
        BatchCompletionWindow,
        BatchCreateParams,
        BatchEndpoint,
        BatchError,
        BatchErrors,
        BatchObjectType,
        BatchRequestCounts,
        BatchStatus,
        BatchUsage,
        BatchUsageInputTokensDetails,
        BatchUsageOutputTokensDetails,
        FileCreateParams,
        FileDeleted,
        FileExpirationAnchor,
        FileObject,
        FileObjectType,
        FilePurpose,
        FileStatus,
        FileUploadPurpose,
        ListBatchesResponse,
        ListFilesResponse,
        ListObjectType,
        ListOrder,
        Metadata,
        OutputExpiresAfter,
    )
    from openai_batches_generated.types import UNSET, File, Unset

GENERATED_PACKAGE = "openai_batches_generated"
_BATCH_API = f"{GENERATED_PACKAGE}.api.batch"
_FILES_API = f"{GENERATED_PACKAGE}.api.files"
ANTHROPIC_PACKAGE = "anthropic_batches_generated"
_ANTHROPIC_API = f"{ANTHROPIC_PACKAGE}.api.message_batches"
_ANTHROPIC_MODELS = (
    "DeletedMessageBatch",
    "DeletedMessageBatchType",
    "ErrorObject",
    "ErrorObjectType",
    "ErrorResponse",
    "ErrorResponseType",
    "ListMessageBatchesResponse",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchCanceledResultType",
    "MessageBatchCreateParams",
    "MessageBatchErroredResult",
    "MessageBatchErroredResultType",
    "MessageBatchExpiredResult",
    "MessageBatchExpiredResultType",
    "MessageBatchIndividualResponse",
    "MessageBatchProcessingStatus",
    "MessageBatchRequestCounts",
    "MessageBatchRequestParams",
    "MessageBatchRequestParamsParams",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "MessageBatchSucceededResultMessage",
    "MessageBatchSucceededResultType",
    "MessageBatchType",
)
_ANTHROPIC_OPERATIONS = (
    "cancel_message_batch",
    "create_message_batch",
    "delete_message_batch",
    "get_message_batch_results",
    "list_message_batches",
    "retrieve_message_batch",
)

__all__ = [
    "ANTHROPIC_UNSET",
    "UNSET",
    "Batch",
    "BatchCompletionWindow",
    "BatchCreateParams",
    "BatchEndpoint",
    "BatchError",
    "BatchErrors",
    "BatchObjectType",
    "BatchRequestCounts",
    "BatchStatus",
    "BatchUsage",
    "BatchUsageInputTokensDetails",
    "BatchUsageOutputTokensDetails",
    "DeletedMessageBatch",
    "DeletedMessageBatchType",
    "ErrorObject",
    "ErrorObjectType",
    "ErrorResponse",
    "ErrorResponseType",
    "File",
    "FileCreateParams",
    "FileDeleted",
    "FileExpirationAnchor",
    "FileObject",
    "FileObjectType",
    "FilePurpose",
    "FileStatus",
    "FileUploadPurpose",
    "ListBatchesResponse",
    "ListFilesResponse",
    "ListMessageBatchesResponse",
    "ListObjectType",
    "ListOrder",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchCanceledResultType",
    "MessageBatchCreateParams",
    "MessageBatchErroredResult",
    "MessageBatchErroredResultType",
    "MessageBatchExpiredResult",
    "MessageBatchExpiredResultType",
    "MessageBatchIndividualResponse",
    "MessageBatchProcessingStatus",
    "MessageBatchRequestCounts",
    "MessageBatchRequestParams",
    "MessageBatchRequestParamsParams",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "MessageBatchSucceededResultMessage",
    "MessageBatchSucceededResultType",
    "MessageBatchType",
    "Metadata",
    "OutputExpiresAfter",
    "Unset",
    "cancel_batch",
    "cancel_message_batch",
    "create_batch",
    "create_file",
    "create_message_batch",
    "delete_file",
    "delete_message_batch",
    "download_file",
    "get_message_batch_results",
    "list_batches",
    "list_files",
    "list_message_batches",
    "models",
    "retrieve_batch",
    "retrieve_file",
    "retrieve_message_batch",
]

# Names that are generated modules themselves: the models package, and one module per API operation.
MODULES: dict[str, str] = {
    "models": f"{GENERATED_PACKAGE}.models",
    **{name: f"{_BATCH_API}.{name}" for name in ("cancel_batch", "create_batch", "list_batches", "retrieve_batch")},
    **{
        name: f"{_FILES_API}.{name}"
        for name in ("create_file", "delete_file", "download_file", "list_files", "retrieve_file")
    },
    **{name: f"{_ANTHROPIC_API}.{name}" for name in _ANTHROPIC_OPERATIONS},
}
_TYPES = frozenset({"UNSET", "File", "Unset"})
# Every other name is defined in the generated `types` module or the models package.
NAMES: dict[str, str] = {
    name: f"{GENERATED_PACKAGE}.types" if name in _TYPES else f"{GENERATED_PACKAGE}.models"
    for name in __all__
    if name not in MODULES and name not in _ANTHROPIC_MODELS and name != "ANTHROPIC_UNSET"
}
NAMES.update({name: f"{ANTHROPIC_PACKAGE}.models" for name in _ANTHROPIC_MODELS})
# Exported under another name than its own: the generated name, for `__getattr__`.
_RENAMED: dict[str, str] = {"ANTHROPIC_UNSET": "UNSET"}
NAMES["ANTHROPIC_UNSET"] = f"{ANTHROPIC_PACKAGE}.types"


_P = ParamSpec("_P")


class Operation(Protocol[_P]):
    """A generated operation module (`retrieve_batch`, `list_files`, ...), as far as building its request goes.

    Type checkers match a module against this protocol, so `request_kwargs(retrieve_batch, 3)` is an error where
    the generated builder takes a `str`.
    """

    def _get_kwargs(self, *args: _P.args, **kwargs: _P.kwargs) -> dict[str, Any]: ...


def request_kwargs(operation: Operation[_P], /, *args: _P.args, **kwargs: _P.kwargs) -> dict[str, Any]:
    """The request a generated operation describes for these arguments, as keyword arguments of `httpx.Request`.

    Args:
        operation: The generated operation module, such as `retrieve_batch` or `list_files` from this module.
        *args: The operation's positional arguments (path parameters such as a batch id).
        **kwargs: The operation's keyword arguments (`body=`, query parameters, `UNSET` for one left out).

    Returns:
        A new dict with `method`, `url` (the path, ids percent-encoded) and whichever of `params`, `json`, `files`
        the operation sends; the caller may change it.
    """
    return operation._get_kwargs(*args, **kwargs)


def models_namespace(model: type) -> dict[str, Any]:
    """The names a generated model's type hints refer to: those of the models package it belongs to.

    Generated modules import their nested models only for type checking, so the model builder resolves the hints in
    the models package (`openai_batches_generated.models`, or the Anthropic package's own for its models).

    Args:
        model: A generated attrs model.

    Returns:
        The namespace of its package's `models` module.
    """
    package = ANTHROPIC_PACKAGE if model.__module__.startswith(ANTHROPIC_PACKAGE + ".") else GENERATED_PACKAGE
    return vars(importlib.import_module(f"{package}.models"))


def __getattr__(name: str) -> Any:
    if name in MODULES:
        value = importlib.import_module(MODULES[name])
    elif name in NAMES:
        value = getattr(importlib.import_module(NAMES[name]), _RENAMED.get(name, name))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
