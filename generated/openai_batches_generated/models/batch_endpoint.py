from enum import StrEnum


class BatchEndpoint(StrEnum):
    VALUE_0 = "/v1/responses"
    VALUE_1 = "/v1/chat/completions"
    VALUE_2 = "/v1/embeddings"
    VALUE_3 = "/v1/completions"
    VALUE_4 = "/v1/moderations"
    VALUE_5 = "/v1/images/generations"
    VALUE_6 = "/v1/images/edits"
    VALUE_7 = "/v1/videos"

    def __str__(self) -> str:
        return str(self.value)
