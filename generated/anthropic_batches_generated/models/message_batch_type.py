from enum import StrEnum


class MessageBatchType(StrEnum):
    MESSAGE_BATCH = "message_batch"

    def __str__(self) -> str:
        return str(self.value)
