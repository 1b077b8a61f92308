from enum import StrEnum


class ListObjectType(StrEnum):
    LIST = "list"

    def __str__(self) -> str:
        return str(self.value)
