from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_object_type import FileObjectType

T = TypeVar("T", bound="FileDeleted")


@_attrs_define
class FileDeleted:
    """The answer to a file deletion."""

    id: str
    """ The deleted file's id. """
    object_: FileObjectType | str
    """ Always `file`. """
    deleted: bool
    """ Whether the file was deleted. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_: str
        if isinstance(self.object_, FileObjectType):
            object_ = self.object_.value
        else:
            object_ = self.object_

        deleted = self.deleted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

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

        deleted = d.pop("deleted")

        file_deleted = cls(
            id=id,
            object_=object_,
            deleted=deleted,
        )

        file_deleted.additional_properties = d
        return file_deleted

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
