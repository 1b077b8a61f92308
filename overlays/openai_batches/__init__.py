"""openai-batches: a typed, resilient client for the OpenAI Batch API.

from openai_batches import BatchClient
client = BatchClient()  # OPENAI_API_KEY from the environment
batch = client.batches.create(input_file_id="file-abc", endpoint="/v1/chat/completions")
"""

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
    FileExpirationAnchor,
    ListBatchesResponse,
    ListObjectType,
    Metadata,
    OutputExpiresAfter,
)
from openai_batches_generated.types import UNSET, Unset

from ._client import AsyncBatchClient, BatchClient
from ._config import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, NOT_GIVEN, NotGiven
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidParameterError,
    MissingAPIKeyError,
    NotFoundError,
    OpenAIBatchesError,
    OpenAIError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
from ._retry import RetryPolicy
from ._status import TERMINAL_STATUSES, is_terminal
from ._types import CompletionWindowParam, EndpointParam, MetadataParam, OutputExpiresAfterParam
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "TERMINAL_STATUSES",
    "UNSET",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBatchClient",
    "AsyncCursorPage",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchClient",
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
    "CompletionWindowParam",
    "ConflictError",
    "EndpointParam",
    "FileExpirationAnchor",
    "InternalServerError",
    "InvalidParameterError",
    "ListBatchesResponse",
    "ListObjectType",
    "Metadata",
    "MetadataParam",
    "MissingAPIKeyError",
    "NotFoundError",
    "NotGiven",
    "OpenAIBatchesError",
    "OpenAIError",
    "OutputExpiresAfter",
    "OutputExpiresAfterParam",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "SyncCursorPage",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "is_terminal",
]
