from enum import StrEnum


class DeletedMessageBatchType(StrEnum):
    MESSAGE_BATCH_DELETED = "message_batch_deleted"

    def __str__(self) -> str:
        return str(self.value)
