from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from .. import types
from ..models.file_expiration_anchor import FileExpirationAnchor
from ..models.file_upload_purpose import FileUploadPurpose
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="FileCreateParams")


@_attrs_define
class FileCreateParams:
    """A file upload. The service reads `expires_after` as form fields in bracket notation."""

    file: File
    """ The File object (not file name) to be uploaded. """
    purpose: FileUploadPurpose | str
    """ What the file is for. """
    expires_afteranchor: FileExpirationAnchor | Unset = UNSET
    """ The time an expiration is counted from (the file's creation). """
    expires_afterseconds: int | Unset = UNSET
    """ Seconds after the anchor, 3600 to 2592000. """

    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()

        purpose: str
        if isinstance(self.purpose, FileUploadPurpose):
            purpose = self.purpose.value
        else:
            purpose = self.purpose

        expires_afteranchor: str | Unset = UNSET
        if not isinstance(self.expires_afteranchor, Unset):
            expires_afteranchor = self.expires_afteranchor.value

        expires_afterseconds = self.expires_afterseconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "file": file,
                "purpose": purpose,
            }
        )
        if expires_afteranchor is not UNSET:
            field_dict["expires_after[anchor]"] = expires_afteranchor
        if expires_afterseconds is not UNSET:
            field_dict["expires_after[seconds]"] = expires_afterseconds

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))

        if isinstance(self.purpose, FileUploadPurpose):
            files.append(("purpose", (None, str(self.purpose.value).encode(), "text/plain")))
        else:
            files.append(("purpose", (None, str(self.purpose).encode(), "text/plain")))

        if not isinstance(self.expires_afteranchor, Unset):
            files.append(("expires_after[anchor]", (None, str(self.expires_afteranchor.value).encode(), "text/plain")))

        if not isinstance(self.expires_afterseconds, Unset):
            files.append(("expires_after[seconds]", (None, str(self.expires_afterseconds).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(payload=BytesIO(d.pop("file")))

        def _parse_purpose(data: object) -> FileUploadPurpose | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                purpose_type_0 = FileUploadPurpose(data)

                return purpose_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileUploadPurpose | str, data)

        purpose = _parse_purpose(d.pop("purpose"))

        _expires_afteranchor = d.pop("expires_after[anchor]", UNSET)
        expires_afteranchor: FileExpirationAnchor | Unset
        if isinstance(_expires_afteranchor, Unset):
            expires_afteranchor = UNSET
        else:
            expires_afteranchor = FileExpirationAnchor(_expires_afteranchor)

        expires_afterseconds = d.pop("expires_after[seconds]", UNSET)

        file_create_params = cls(
            file=file,
            purpose=purpose,
            expires_afteranchor=expires_afteranchor,
            expires_afterseconds=expires_afterseconds,
        )

        return file_create_params
