from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_object_type import FileObjectType
from ..models.file_purpose import FilePurpose
from ..models.file_status import FileStatus

T = TypeVar("T", bound="FileObject")


@_attrs_define
class FileObject:
    """The `File` object represents a document that has been uploaded to OpenAI."""

    id: str
    """ The file identifier, which can be referenced in the API endpoints. """
    bytes_: int
    """ The size of the file, in bytes. """
    created_at: int
    """ The Unix timestamp (in seconds) for when the file was created. """
    expires_at: int | None
    """ The Unix timestamp (in seconds) for when the file will expire. """
    filename: str
    """ The name of the file. """
    object_: FileObjectType | str
    """ The object type, which is always `file`. """
    purpose: FilePurpose | str
    """ What the file is for. """
    status: FileStatus | str
    """ Deprecated. The current status of the file, which can be either `uploaded`, `processed`, or `error`. """
    status_details: None | str
    """ Deprecated details of a failed upload. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        bytes_ = self.bytes_

        created_at = self.created_at

        expires_at: int | None
        expires_at = self.expires_at

        filename = self.filename

        object_: str
        if isinstance(self.object_, FileObjectType):
            object_ = self.object_.value
        else:
            object_ = self.object_

        purpose: str
        if isinstance(self.purpose, FilePurpose):
            purpose = self.purpose.value
        else:
            purpose = self.purpose

        status: str
        if isinstance(self.status, FileStatus):
            status = self.status.value
        else:
            status = self.status

        status_details: None | str
        status_details = self.status_details

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "bytes": bytes_,
                "created_at": created_at,
                "expires_at": expires_at,
                "filename": filename,
                "object": object_,
                "purpose": purpose,
                "status": status,
                "status_details": status_details,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        bytes_ = d.pop("bytes")

        created_at = d.pop("created_at")

        def _parse_expires_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        filename = d.pop("filename")

        def _parse_object_(data: object) -> FileObjectType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                object_type_0 = FileObjectType(data)

                return object_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileObjectType | str, data)

        object_ = _parse_object_(d.pop("object"))

        def _parse_purpose(data: object) -> FilePurpose | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                purpose_type_0 = FilePurpose(data)

                return purpose_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FilePurpose | str, data)

        purpose = _parse_purpose(d.pop("purpose"))

        def _parse_status(data: object) -> FileStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = FileStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileStatus | str, data)

        status = _parse_status(d.pop("status"))

        def _parse_status_details(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status_details = _parse_status_details(d.pop("status_details"))

        file_object = cls(
            id=id,
            bytes_=bytes_,
            created_at=created_at,
            expires_at=expires_at,
            filename=filename,
            object_=object_,
            purpose=purpose,
            status=status,
            status_details=status_details,
        )

        file_object.additional_properties = d
        return file_object

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
