from enum import StrEnum


class BatchEndpoint(StrEnum):
    CHAT_COMPLETIONS = "/v1/chat/completions"
    COMPLETIONS = "/v1/completions"
    EMBEDDINGS = "/v1/embeddings"
    IMAGES_EDITS = "/v1/images/edits"
    IMAGES_GENERATIONS = "/v1/images/generations"
    MODERATIONS = "/v1/moderations"
    RESPONSES = "/v1/responses"

    def __str__(self) -> str:
        return str(self.value)
