"""Contains all the data models used in inputs/outputs"""

from .deleted_message_batch import DeletedMessageBatch
from .deleted_message_batch_type import DeletedMessageBatchType
from .error_object import ErrorObject
from .error_object_type import ErrorObjectType
from .error_response import ErrorResponse
from .error_response_type import ErrorResponseType
from .list_message_batches_response import ListMessageBatchesResponse
from .message_batch import MessageBatch
from .message_batch_canceled_result import MessageBatchCanceledResult
from .message_batch_canceled_result_type import MessageBatchCanceledResultType
from .message_batch_create_params import MessageBatchCreateParams
from .message_batch_errored_result import MessageBatchErroredResult
from .message_batch_errored_result_type import MessageBatchErroredResultType
from .message_batch_expired_result import MessageBatchExpiredResult
from .message_batch_expired_result_type import MessageBatchExpiredResultType
from .message_batch_individual_response import MessageBatchIndividualResponse
from .message_batch_processing_status import MessageBatchProcessingStatus
from .message_batch_request_counts import MessageBatchRequestCounts
from .message_batch_request_params import MessageBatchRequestParams
from .message_batch_request_params_params import MessageBatchRequestParamsParams
from .message_batch_result import MessageBatchResult
from .message_batch_succeeded_result import MessageBatchSucceededResult
from .message_batch_succeeded_result_message import MessageBatchSucceededResultMessage
from .message_batch_succeeded_result_type import MessageBatchSucceededResultType
from .message_batch_type import MessageBatchType

__all__ = (
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
