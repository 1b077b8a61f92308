from enum import StrEnum


class MessageBatchSucceededResultType(StrEnum):
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
