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
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol

if TYPE_CHECKING:
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

__all__ = [
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
    "ListObjectType",
    "ListOrder",
    "Metadata",
    "OutputExpiresAfter",
    "Unset",
    "cancel_batch",
    "create_batch",
    "create_file",
    "delete_file",
    "download_file",
    "list_batches",
    "list_files",
    "models",
    "retrieve_batch",
    "retrieve_file",
]

# Names that are generated modules themselves: the models package, and one module per API operation.
MODULES: dict[str, str] = {
    "models": f"{GENERATED_PACKAGE}.models",
    **{name: f"{_BATCH_API}.{name}" for name in ("cancel_batch", "create_batch", "list_batches", "retrieve_batch")},
    **{
        name: f"{_FILES_API}.{name}"
        for name in ("create_file", "delete_file", "download_file", "list_files", "retrieve_file")
    },
}
_TYPES = frozenset({"UNSET", "File", "Unset"})
# Every other name is defined in the generated `types` module or the models package.
NAMES: dict[str, str] = {
    name: f"{GENERATED_PACKAGE}.types" if name in _TYPES else f"{GENERATED_PACKAGE}.models"
    for name in __all__
    if name not in MODULES
}


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


def __getattr__(name: str) -> Any:
    if name in MODULES:
        value = importlib.import_module(MODULES[name])
    elif name in NAMES:
        value = getattr(importlib.import_module(NAMES[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
