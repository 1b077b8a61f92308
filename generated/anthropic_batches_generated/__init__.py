"""A client library for accessing Anthropic Message Batches API (openai-batches fragment)"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
