from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.message_batch_succeeded_result_type import MessageBatchSucceededResultType

if TYPE_CHECKING:
    from ..models.message_batch_succeeded_result_message import (
        MessageBatchSucceededResultMessage,
    )


T = TypeVar("T", bound="MessageBatchSucceededResult")


@_attrs_define
class MessageBatchSucceededResult:
    type_: MessageBatchSucceededResultType | str
    message: MessageBatchSucceededResultMessage
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str
        if isinstance(self.type_, MessageBatchSucceededResultType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        message = self.message.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_batch_succeeded_result_message import (
            MessageBatchSucceededResultMessage,  # noqa: PLC0415
        )

        d = dict(src_dict)

        def _parse_type_(data: object) -> MessageBatchSucceededResultType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = MessageBatchSucceededResultType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MessageBatchSucceededResultType | str, data)

        type_ = _parse_type_(d.pop("type"))

        message = MessageBatchSucceededResultMessage.from_dict(d.pop("message"))

        message_batch_succeeded_result = cls(
            type_=type_,
            message=message,
        )

        message_batch_succeeded_result.additional_properties = d
        return message_batch_succeeded_result

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
