from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.message_batch_processing_status import MessageBatchProcessingStatus
from ..models.message_batch_type import MessageBatchType

if TYPE_CHECKING:
    from ..models.message_batch_request_counts import MessageBatchRequestCounts


T = TypeVar("T", bound="MessageBatch")


@_attrs_define
class MessageBatch:
    id: str
    """ Unique object identifier. """
    type_: MessageBatchType | str
    """ Object type. """
    processing_status: MessageBatchProcessingStatus | str
    """ Processing status of the Message Batch. """
    request_counts: MessageBatchRequestCounts
    ended_at: None | str
    """ RFC 3339 datetime string representing the time at which processing for the Message Batch ended. Specified
    only once processing ends. """
    created_at: str
    """ RFC 3339 datetime string representing the time at which the Message Batch was created. """
    expires_at: str
    """ RFC 3339 datetime string representing the time at which the Message Batch will expire and end processing,
    which is 24 hours after creation. """
    archived_at: None | str
    """ RFC 3339 datetime string representing the time at which the Message Batch was archived and its results
    became unavailable. """
    cancel_initiated_at: None | str
    """ RFC 3339 datetime string representing the time at which cancellation was initiated for the Message Batch.
    Specified only if cancellation was initiated. """
    results_url: None | str
    """ URL to a `.jsonl` file containing the results of the Message Batch requests. Specified only once processing
    ends. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        type_: str
        if isinstance(self.type_, MessageBatchType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        processing_status: str
        if isinstance(self.processing_status, MessageBatchProcessingStatus):
            processing_status = self.processing_status.value
        else:
            processing_status = self.processing_status

        request_counts = self.request_counts.to_dict()

        ended_at: None | str
        ended_at = self.ended_at

        created_at = self.created_at

        expires_at = self.expires_at

        archived_at: None | str
        archived_at = self.archived_at

        cancel_initiated_at: None | str
        cancel_initiated_at = self.cancel_initiated_at

        results_url: None | str
        results_url = self.results_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "processing_status": processing_status,
                "request_counts": request_counts,
                "ended_at": ended_at,
                "created_at": created_at,
                "expires_at": expires_at,
                "archived_at": archived_at,
                "cancel_initiated_at": cancel_initiated_at,
                "results_url": results_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_batch_request_counts import MessageBatchRequestCounts  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_type_(data: object) -> MessageBatchType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = MessageBatchType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MessageBatchType | str, data)

        type_ = _parse_type_(d.pop("type"))

        def _parse_processing_status(data: object) -> MessageBatchProcessingStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                processing_status_type_0 = MessageBatchProcessingStatus(data)

                return processing_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MessageBatchProcessingStatus | str, data)

        processing_status = _parse_processing_status(d.pop("processing_status"))

        request_counts = MessageBatchRequestCounts.from_dict(d.pop("request_counts"))

        def _parse_ended_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ended_at = _parse_ended_at(d.pop("ended_at"))

        created_at = d.pop("created_at")

        expires_at = d.pop("expires_at")

        def _parse_archived_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        archived_at = _parse_archived_at(d.pop("archived_at"))

        def _parse_cancel_initiated_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cancel_initiated_at = _parse_cancel_initiated_at(d.pop("cancel_initiated_at"))

        def _parse_results_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        results_url = _parse_results_url(d.pop("results_url"))

        message_batch = cls(
            id=id,
            type_=type_,
            processing_status=processing_status,
            request_counts=request_counts,
            ended_at=ended_at,
            created_at=created_at,
            expires_at=expires_at,
            archived_at=archived_at,
            cancel_initiated_at=cancel_initiated_at,
            results_url=results_url,
        )

        message_batch.additional_properties = d
        return message_batch

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
