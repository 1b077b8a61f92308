"""Whose jobs an OpenAI or Azure OpenAI client runs: the account its batches and files belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .creation import Account
from .settings import account_fingerprint

if TYPE_CHECKING:
    from .._client import AsyncBatchClient, BatchClient


def account_of(client: BatchClient | AsyncBatchClient) -> Account:
    """The client's base URL and a fingerprint of what identifies its account (`_account_identity`), never the key
    itself."""
    return Account(str(client.base_url), account_fingerprint(*client._account_identity()))
