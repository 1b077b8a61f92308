from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_completion_window import BatchCompletionWindow
from ..models.batch_endpoint import BatchEndpoint
from ..models.batch_object_type import BatchObjectType
from ..models.batch_status import BatchStatus

if TYPE_CHECKING:
    from ..models.batch_errors import BatchErrors
    from ..models.batch_request_counts import BatchRequestCounts
    from ..models.batch_usage import BatchUsage
    from ..models.metadata import Metadata


T = TypeVar("T", bound="Batch")


@_attrs_define
class Batch:
    """A batch of API requests and its progress."""

    id: str
    """ The batch id. """
    object_: BatchObjectType | str
    """ The object type, which is always `batch`. """
    endpoint: BatchEndpoint | str
    """ The OpenAI API endpoint used by the batch. """
    model: None | str
    """ The model that ran the batch. """
    errors: BatchErrors | None
    """ Why the batch failed validation, if it did. """
    input_file_id: str
    """ The ID of the input file for the batch. """
    completion_window: BatchCompletionWindow | str
    """ The time frame within which the batch should be processed. """
    status: BatchStatus | str
    """ The current status of the batch. """
    output_file_id: None | str
    """ The ID of the file containing the outputs of successfully executed requests. """
    error_file_id: None | str
    """ The ID of the file containing the outputs of requests with errors. """
    created_at: int
    """ The Unix timestamp (in seconds) for when the batch was created. """
    in_progress_at: int | None
    """ The Unix timestamp (in seconds) for when the batch started processing. """
    expires_at: int | None
    """ The Unix timestamp (in seconds) for when the batch will expire. """
    finalizing_at: int | None
    """ The Unix timestamp (in seconds) for when the batch started finalizing. """
    completed_at: int | None
    """ The Unix timestamp (in seconds) for when the batch was completed. """
    failed_at: int | None
    """ The Unix timestamp (in seconds) for when the batch failed. """
    expired_at: int | None
    """ The Unix timestamp (in seconds) for when the batch expired. """
    cancelling_at: int | None
    """ The Unix timestamp (in seconds) for when the batch started cancelling. """
    cancelled_at: int | None
    """ The Unix timestamp (in seconds) for when the batch was cancelled. """
    request_counts: BatchRequestCounts | None
    """ How many requests ran, succeeded and failed. """
    usage: BatchUsage | None
    """ Tokens used by the batch (batches created after 2025-09-07). """
    metadata: Metadata | None
    """ The caller's own key-value pairs. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_errors import BatchErrors  # noqa: PLC0415
        from ..models.batch_request_counts import BatchRequestCounts  # noqa: PLC0415
        from ..models.batch_usage import BatchUsage  # noqa: PLC0415
        from ..models.metadata import Metadata  # noqa: PLC0415

        id = self.id

        object_: str
        if isinstance(self.object_, BatchObjectType):
            object_ = self.object_.value
        else:
            object_ = self.object_

        endpoint: str
        if isinstance(self.endpoint, BatchEndpoint):
            endpoint = self.endpoint.value
        else:
            endpoint = self.endpoint

        model: None | str
        model = self.model

        errors: dict[str, Any] | None
        if isinstance(self.errors, BatchErrors):
            errors = self.errors.to_dict()
        else:
            errors = self.errors

        input_file_id = self.input_file_id

        completion_window: str
        if isinstance(self.completion_window, BatchCompletionWindow):
            completion_window = self.completion_window.value
        else:
            completion_window = self.completion_window

        status: str
        if isinstance(self.status, BatchStatus):
            status = self.status.value
        else:
            status = self.status

        output_file_id: None | str
        output_file_id = self.output_file_id

        error_file_id: None | str
        error_file_id = self.error_file_id

        created_at = self.created_at

        in_progress_at: int | None
        in_progress_at = self.in_progress_at

        expires_at: int | None
        expires_at = self.expires_at

        finalizing_at: int | None
        finalizing_at = self.finalizing_at

        completed_at: int | None
        completed_at = self.completed_at

        failed_at: int | None
        failed_at = self.failed_at

        expired_at: int | None
        expired_at = self.expired_at

        cancelling_at: int | None
        cancelling_at = self.cancelling_at

        cancelled_at: int | None
        cancelled_at = self.cancelled_at

        request_counts: dict[str, Any] | None
        if isinstance(self.request_counts, BatchRequestCounts):
            request_counts = self.request_counts.to_dict()
        else:
            request_counts = self.request_counts

        usage: dict[str, Any] | None
        if isinstance(self.usage, BatchUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        metadata: dict[str, Any] | None
        if isinstance(self.metadata, Metadata):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "endpoint": endpoint,
                "model": model,
                "errors": errors,
                "input_file_id": input_file_id,
                "completion_window": completion_window,
                "status": status,
                "output_file_id": output_file_id,
                "error_file_id": error_file_id,
                "created_at": created_at,
                "in_progress_at": in_progress_at,
                "expires_at": expires_at,
                "finalizing_at": finalizing_at,
                "completed_at": completed_at,
                "failed_at": failed_at,
                "expired_at": expired_at,
                "cancelling_at": cancelling_at,
                "cancelled_at": cancelled_at,
                "request_counts": request_counts,
                "usage": usage,
                "metadata": metadata,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_errors import BatchErrors  # noqa: PLC0415
        from ..models.batch_request_counts import BatchRequestCounts  # noqa: PLC0415
        from ..models.batch_usage import BatchUsage  # noqa: PLC0415
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_object_(data: object) -> BatchObjectType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                object_type_0 = BatchObjectType(data)

                return object_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchObjectType | str, data)

        object_ = _parse_object_(d.pop("object"))

        def _parse_endpoint(data: object) -> BatchEndpoint | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                endpoint_type_0 = BatchEndpoint(data)

                return endpoint_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchEndpoint | str, data)

        endpoint = _parse_endpoint(d.pop("endpoint"))

        def _parse_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model = _parse_model(d.pop("model"))

        def _parse_errors(data: object) -> BatchErrors | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                errors_type_0 = BatchErrors.from_dict(data)

                return errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchErrors | None, data)

        errors = _parse_errors(d.pop("errors"))

        input_file_id = d.pop("input_file_id")

        def _parse_completion_window(data: object) -> BatchCompletionWindow | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completion_window_type_0 = BatchCompletionWindow(data)

                return completion_window_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchCompletionWindow | str, data)

        completion_window = _parse_completion_window(d.pop("completion_window"))

        def _parse_status(data: object) -> BatchStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = BatchStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchStatus | str, data)

        status = _parse_status(d.pop("status"))

        def _parse_output_file_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        output_file_id = _parse_output_file_id(d.pop("output_file_id"))

        def _parse_error_file_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_file_id = _parse_error_file_id(d.pop("error_file_id"))

        created_at = d.pop("created_at")

        def _parse_in_progress_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        in_progress_at = _parse_in_progress_at(d.pop("in_progress_at"))

        def _parse_expires_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        def _parse_finalizing_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        finalizing_at = _parse_finalizing_at(d.pop("finalizing_at"))

        def _parse_completed_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        completed_at = _parse_completed_at(d.pop("completed_at"))

        def _parse_failed_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        failed_at = _parse_failed_at(d.pop("failed_at"))

        def _parse_expired_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        expired_at = _parse_expired_at(d.pop("expired_at"))

        def _parse_cancelling_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cancelling_at = _parse_cancelling_at(d.pop("cancelling_at"))

        def _parse_cancelled_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cancelled_at = _parse_cancelled_at(d.pop("cancelled_at"))

        def _parse_request_counts(data: object) -> BatchRequestCounts | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                request_counts_type_0 = BatchRequestCounts.from_dict(data)

                return request_counts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchRequestCounts | None, data)

        request_counts = _parse_request_counts(d.pop("request_counts"))

        def _parse_usage(data: object) -> BatchUsage | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = BatchUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchUsage | None, data)

        usage = _parse_usage(d.pop("usage"))

        def _parse_metadata(data: object) -> Metadata | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = Metadata.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Metadata | None, data)

        metadata = _parse_metadata(d.pop("metadata"))

        batch = cls(
            id=id,
            object_=object_,
            endpoint=endpoint,
            model=model,
            errors=errors,
            input_file_id=input_file_id,
            completion_window=completion_window,
            status=status,
            output_file_id=output_file_id,
            error_file_id=error_file_id,
            created_at=created_at,
            in_progress_at=in_progress_at,
            expires_at=expires_at,
            finalizing_at=finalizing_at,
            completed_at=completed_at,
            failed_at=failed_at,
            expired_at=expired_at,
            cancelling_at=cancelling_at,
            cancelled_at=cancelled_at,
            request_counts=request_counts,
            usage=usage,
            metadata=metadata,
        )

        batch.additional_properties = d
        return batch

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
