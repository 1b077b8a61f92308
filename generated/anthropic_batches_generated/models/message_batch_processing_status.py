from enum import StrEnum


class MessageBatchProcessingStatus(StrEnum):
    CANCELING = "canceling"
    ENDED = "ended"
    IN_PROGRESS = "in_progress"

    def __str__(self) -> str:
        return str(self.value)
