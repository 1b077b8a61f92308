"""Contains all the data models used in inputs/outputs"""

from .batch import Batch
from .batch_completion_window import BatchCompletionWindow
from .batch_create_params import BatchCreateParams
from .batch_endpoint import BatchEndpoint
from .batch_error import BatchError
from .batch_errors import BatchErrors
from .batch_object_type import BatchObjectType
from .batch_request_counts import BatchRequestCounts
from .batch_status import BatchStatus
from .batch_usage import BatchUsage
from .batch_usage_input_tokens_details import BatchUsageInputTokensDetails
from .batch_usage_output_tokens_details import BatchUsageOutputTokensDetails
from .file_expiration_anchor import FileExpirationAnchor
from .list_batches_response import ListBatchesResponse
from .list_object_type import ListObjectType
from .metadata import Metadata
from .output_expires_after import OutputExpiresAfter

__all__ = (
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
    "FileExpirationAnchor",
    "ListBatchesResponse",
    "ListObjectType",
    "Metadata",
    "OutputExpiresAfter",
)
