from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.message_batch_result import MessageBatchResult


T = TypeVar("T", bound="MessageBatchIndividualResponse")


@_attrs_define
class MessageBatchIndividualResponse:
    custom_id: str
    """ Developer-provided ID created for each request in a Message Batch. Useful for matching results to requests,
    as results may be given out of request order. """
    result: MessageBatchResult
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        custom_id = self.custom_id

        result = self.result.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "custom_id": custom_id,
                "result": result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_batch_result import MessageBatchResult  # noqa: PLC0415

        d = dict(src_dict)
        custom_id = d.pop("custom_id")

        result = MessageBatchResult.from_dict(d.pop("result"))

        message_batch_individual_response = cls(
            custom_id=custom_id,
            result=result,
        )

        message_batch_individual_response.additional_properties = d
        return message_batch_individual_response

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
