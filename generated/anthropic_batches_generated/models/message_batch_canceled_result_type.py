from enum import StrEnum


class MessageBatchCanceledResultType(StrEnum):
    CANCELED = "canceled"

    def __str__(self) -> str:
        return str(self.value)
