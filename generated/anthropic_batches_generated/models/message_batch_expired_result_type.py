from enum import StrEnum


class MessageBatchExpiredResultType(StrEnum):
    EXPIRED = "expired"

    def __str__(self) -> str:
        return str(self.value)
