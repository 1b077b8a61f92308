from enum import StrEnum


class FileStatus(StrEnum):
    ERROR = "error"
    PROCESSED = "processed"
    UPLOADED = "uploaded"

    def __str__(self) -> str:
        return str(self.value)
