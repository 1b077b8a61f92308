"""A client library for accessing OpenAI Batch API (openai-batches fragment)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
