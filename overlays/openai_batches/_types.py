"""Argument types for type checkers. At run time values pass through, so a value the API adds later works today."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict

# Values of BatchEndpoint (upstream's, less those spec/overrides.yaml drops: /v1/videos, which the service stopped
# taking); tests/test_update_spec_dropped.py fails on one the spec does not offer.
EndpointParam: TypeAlias = Literal[
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
]
CompletionWindowParam: TypeAlias = Literal["24h"]
FilePurposeParam: TypeAlias = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
MetadataParam: TypeAlias = Mapping[str, str]


class OutputExpiresAfterParam(TypedDict):
    """When a batch's output and error files expire: `seconds` (3600 to 2592000) after their creation."""

    anchor: Literal["created_at"]
    seconds: int


# What `batches.results_table` returns: a `pyarrow.Table`. pyarrow is an optional extra, so at run time the name
# stands for Any and importing the client never imports pyarrow.
if TYPE_CHECKING:
    import pyarrow

    ArrowTable: TypeAlias = pyarrow.Table
else:
    ArrowTable = Any
