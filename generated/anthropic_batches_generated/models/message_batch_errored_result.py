from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.message_batch_errored_result_type import MessageBatchErroredResultType

if TYPE_CHECKING:
    from ..models.error_response import ErrorResponse


T = TypeVar("T", bound="MessageBatchErroredResult")


@_attrs_define
class MessageBatchErroredResult:
    type_: MessageBatchErroredResultType | str
    error: ErrorResponse
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_: str
        if isinstance(self.type_, MessageBatchErroredResultType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        error = self.error.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "error": error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_response import ErrorResponse  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_type_(data: object) -> MessageBatchErroredResultType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = MessageBatchErroredResultType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MessageBatchErroredResultType | str, data)

        type_ = _parse_type_(d.pop("type"))

        error = ErrorResponse.from_dict(d.pop("error"))

        message_batch_errored_result = cls(
            type_=type_,
            error=error,
        )

        message_batch_errored_result.additional_properties = d
        return message_batch_errored_result

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
