"""The models the client returns: the generated attrs models, with the official SDK's attribute names added.

Each class here is a thin subclass of the generated model of the same name (`isinstance` against either works) that
adds only read-only aliases and protocols, never fields: `object` for `object_`, `bytes` for `bytes_`, a `Metadata`
that reads as a `Mapping[str, str]`, and `to_dict()` / `to_json()` for the wire form. The fields, their parsing and
any field a later spec adds come from the generated base, so regeneration needs no change here; a model the spec adds
later gets the same treatment from the model builder (`_models.overlay_class`) until it is named here.
`from openai_batches.types import Batch` mirrors `from openai.types import Batch`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NoReturn

from . import _generated as generated
from ._generated import BatchObjectType, FileObjectType, ListObjectType
from ._models import WireModel

__all__ = [
    "Batch",
    "BatchCreateParams",
    "BatchError",
    "BatchErrors",
    "BatchRequestCounts",
    "BatchUsage",
    "BatchUsageInputTokensDetails",
    "BatchUsageOutputTokensDetails",
    "FileDeleted",
    "FileObject",
    "ListBatchesResponse",
    "ListFilesResponse",
    "Metadata",
    "OutputExpiresAfter",
]

_READ_ONLY = "metadata is read-only; build a new mapping instead, e.g. {**batch.metadata, 'key': 'value'}"


class Metadata(WireModel, generated.Metadata, Mapping[str, str]):
    """A batch's metadata: a read-only `Mapping[str, str]` (`.get`, `in`, iteration, `dict(...)`, `==` a dict).

    To send metadata, pass a plain dict (or `Metadata({"key": "value"})`) to `batches.create`.

    Args:
        items: The string pairs; none when None.
    """

    __slots__ = ()

    def __init__(self, items: Mapping[str, str] | None = None, /) -> None:
        super().__init__()
        if items:
            self.additional_properties = dict(items)

    def __getitem__(self, key: str) -> str:
        return self.additional_properties[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.additional_properties)

    def __len__(self) -> int:
        return len(self.additional_properties)

    def __contains__(self, key: object) -> bool:
        return key in self.additional_properties

    def __eq__(self, other: object) -> bool:
        if isinstance(other, generated.Metadata):
            return self.additional_properties == other.additional_properties
        if isinstance(other, Mapping):
            return self.additional_properties == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a dict, so unhashable like one

    def __setitem__(self, key: str, value: str) -> NoReturn:
        raise TypeError(_READ_ONLY)

    def __delitem__(self, key: str) -> NoReturn:
        raise TypeError(_READ_ONLY)

    def __repr__(self) -> str:
        return f"Metadata({self.additional_properties!r})"


class BatchRequestCounts(WireModel, generated.BatchRequestCounts):
    __slots__ = ()


class BatchError(WireModel, generated.BatchError):
    __slots__ = ()


class BatchErrors(WireModel, generated.BatchErrors):
    __slots__ = ()

    if TYPE_CHECKING:
        data: builtins.list[BatchError] | None  # type: ignore[assignment]

    @property
    def object(self) -> str | None:
        return self.object_


class BatchUsageInputTokensDetails(WireModel, generated.BatchUsageInputTokensDetails):
    __slots__ = ()


class BatchUsageOutputTokensDetails(WireModel, generated.BatchUsageOutputTokensDetails):
    __slots__ = ()


class BatchUsage(WireModel, generated.BatchUsage):
    __slots__ = ()

    if TYPE_CHECKING:
        input_tokens_details: BatchUsageInputTokensDetails
        output_tokens_details: BatchUsageOutputTokensDetails


class OutputExpiresAfter(WireModel, generated.OutputExpiresAfter):
    __slots__ = ()


class Batch(WireModel, generated.Batch):
    """A batch of API requests and its progress."""

    __slots__ = ()

    if TYPE_CHECKING:
        errors: BatchErrors | None
        request_counts: BatchRequestCounts | None
        usage: BatchUsage | None
        metadata: Metadata | None

    @property
    def object(self) -> BatchObjectType | str:
        """Always `batch` (the field `object_` of the generated model)."""
        return self.object_


class BatchCreateParams(WireModel, generated.BatchCreateParams):
    __slots__ = ()


class FileObject(WireModel, generated.FileObject):
    """A stored file."""

    __slots__ = ()

    @property
    def object(self) -> FileObjectType | str:
        """Always `file` (the field `object_` of the generated model)."""
        return self.object_

    @property
    def bytes(self) -> int:
        """Size in bytes (the field `bytes_` of the generated model)."""
        return self.bytes_


class FileDeleted(WireModel, generated.FileDeleted):
    __slots__ = ()

    @property
    def object(self) -> FileObjectType | str:
        return self.object_


class ListBatchesResponse(WireModel, generated.ListBatchesResponse):
    __slots__ = ()

    if TYPE_CHECKING:
        data: builtins.list[Batch]  # type: ignore[assignment]

    @property
    def object(self) -> ListObjectType | str:
        return self.object_


class ListFilesResponse(WireModel, generated.ListFilesResponse):
    __slots__ = ()

    if TYPE_CHECKING:
        data: builtins.list[FileObject]  # type: ignore[assignment]

    @property
    def object(self) -> ListObjectType | str:
        return self.object_
