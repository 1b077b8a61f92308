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
from .file_create_params import FileCreateParams
from .file_deleted import FileDeleted
from .file_expiration_anchor import FileExpirationAnchor
from .file_object import FileObject
from .file_object_type import FileObjectType
from .file_purpose import FilePurpose
from .file_status import FileStatus
from .file_upload_purpose import FileUploadPurpose
from .list_batches_response import ListBatchesResponse
from .list_files_response import ListFilesResponse
from .list_object_type import ListObjectType
from .list_order import ListOrder
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
)
