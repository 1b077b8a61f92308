from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.message_batch_request_params import MessageBatchRequestParams


T = TypeVar("T", bound="MessageBatchCreateParams")


@_attrs_define
class MessageBatchCreateParams:
    requests: list[MessageBatchRequestParams]
    """ List of requests for prompt completion. Each is an individual request to create a Message. """

    def to_dict(self) -> dict[str, Any]:
        requests = []
        for requests_item_data in self.requests:
            requests_item = requests_item_data.to_dict()
            requests.append(requests_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "requests": requests,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_batch_request_params import MessageBatchRequestParams  # noqa: PLC0415

        d = dict(src_dict)
        requests = []
        _requests = d.pop("requests")
        for requests_item_data in _requests:
            requests_item = MessageBatchRequestParams.from_dict(requests_item_data)

            requests.append(requests_item)

        message_batch_create_params = cls(
            requests=requests,
        )

        return message_batch_create_params
