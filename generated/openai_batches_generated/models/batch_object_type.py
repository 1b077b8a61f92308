from enum import StrEnum


class BatchObjectType(StrEnum):
    BATCH = "batch"

    def __str__(self) -> str:
        return str(self.value)
