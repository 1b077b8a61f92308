from enum import StrEnum


class BatchCompletionWindow(StrEnum):
    HOURS_24 = "24h"

    def __str__(self) -> str:
        return str(self.value)
