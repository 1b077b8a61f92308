from enum import StrEnum


class FileObjectType(StrEnum):
    FILE = "file"

    def __str__(self) -> str:
        return str(self.value)
