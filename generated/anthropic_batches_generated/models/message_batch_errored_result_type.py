from enum import StrEnum


class MessageBatchErroredResultType(StrEnum):
    ERRORED = "errored"

    def __str__(self) -> str:
        return str(self.value)
