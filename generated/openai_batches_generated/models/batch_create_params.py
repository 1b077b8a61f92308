from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_completion_window import BatchCompletionWindow
from ..models.batch_endpoint import BatchEndpoint
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadata import Metadata
    from ..models.output_expires_after import OutputExpiresAfter


T = TypeVar("T", bound="BatchCreateParams")


@_attrs_define
class BatchCreateParams:
    """What a new batch runs and how."""

    input_file_id: str
    """ An uploaded file (purpose `batch`) of JSONL requests; at most 50,000 lines and 200 MB. """
    endpoint: BatchEndpoint | str
    """ The endpoint every request goes to; an embeddings batch holds at most 50,000 inputs in all. """
    completion_window: BatchCompletionWindow | str
    """ The time frame within which the batch should be processed. Currently only `24h` is supported. """
    metadata: Metadata | None | Unset = UNSET
    """ Your own key-value pairs for the batch. """
    output_expires_after: OutputExpiresAfter | Unset = UNSET
    """ The expiration policy for the output and/or error file that are generated for a batch. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.metadata import Metadata  # noqa: PLC0415

        input_file_id = self.input_file_id

        endpoint: str
        if isinstance(self.endpoint, BatchEndpoint):
            endpoint = self.endpoint.value
        else:
            endpoint = self.endpoint

        completion_window: str
        if isinstance(self.completion_window, BatchCompletionWindow):
            completion_window = self.completion_window.value
        else:
            completion_window = self.completion_window

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, Metadata):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        output_expires_after: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output_expires_after, Unset):
            output_expires_after = self.output_expires_after.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input_file_id": input_file_id,
                "endpoint": endpoint,
                "completion_window": completion_window,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if output_expires_after is not UNSET:
            field_dict["output_expires_after"] = output_expires_after

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415
        from ..models.output_expires_after import OutputExpiresAfter  # noqa: PLC0415

        d = dict(src_dict)
        input_file_id = d.pop("input_file_id")

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

        def _parse_metadata(data: object) -> Metadata | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = Metadata.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Metadata | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        _output_expires_after = d.pop("output_expires_after", UNSET)
        output_expires_after: OutputExpiresAfter | Unset
        if isinstance(_output_expires_after, Unset):
            output_expires_after = UNSET
        else:
            output_expires_after = OutputExpiresAfter.from_dict(_output_expires_after)

        batch_create_params = cls(
            input_file_id=input_file_id,
            endpoint=endpoint,
            completion_window=completion_window,
            metadata=metadata,
            output_expires_after=output_expires_after,
        )

        batch_create_params.additional_properties = d
        return batch_create_params

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
