from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.message_batch_request_params_params import (
        MessageBatchRequestParamsParams,
    )


T = TypeVar("T", bound="MessageBatchRequestParams")


@_attrs_define
class MessageBatchRequestParams:
    custom_id: str
    """ Developer-provided ID created for each request in a Message Batch. Useful for matching results to requests,
    as results may be given out of request order. """
    params: MessageBatchRequestParamsParams
    """ Messages API creation parameters for the individual request. """

    def to_dict(self) -> dict[str, Any]:
        custom_id = self.custom_id

        params = self.params.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "custom_id": custom_id,
                "params": params,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_batch_request_params_params import (
            MessageBatchRequestParamsParams,  # noqa: PLC0415
        )

        d = dict(src_dict)
        custom_id = d.pop("custom_id")

        params = MessageBatchRequestParamsParams.from_dict(d.pop("params"))

        message_batch_request_params = cls(
            custom_id=custom_id,
            params=params,
        )

        return message_batch_request_params
