from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MessageBatchRequestCounts")


@_attrs_define
class MessageBatchRequestCounts:
    processing: int
    """ Number of requests in the Message Batch that are processing. """
    succeeded: int
    """ Number of requests in the Message Batch that have completed successfully. """
    errored: int
    """ Number of requests in the Message Batch that encountered an error. """
    canceled: int
    """ Number of requests in the Message Batch that have been canceled. """
    expired: int
    """ Number of requests in the Message Batch that have expired. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        processing = self.processing

        succeeded = self.succeeded

        errored = self.errored

        canceled = self.canceled

        expired = self.expired

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "processing": processing,
                "succeeded": succeeded,
                "errored": errored,
                "canceled": canceled,
                "expired": expired,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        processing = d.pop("processing")

        succeeded = d.pop("succeeded")

        errored = d.pop("errored")

        canceled = d.pop("canceled")

        expired = d.pop("expired")

        message_batch_request_counts = cls(
            processing=processing,
            succeeded=succeeded,
            errored=errored,
            canceled=canceled,
            expired=expired,
        )

        message_batch_request_counts.additional_properties = d
        return message_batch_request_counts

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
