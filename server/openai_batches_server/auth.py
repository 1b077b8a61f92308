"""Bearer-token authentication, and the owner every stored object is filed under.

The owner is a SHA-256 of the key, so the data directory never holds a key in clear and two keys never see each
other's files or batches (another key's id answers 404, as it would on the real service across organisations).
Azure paths take Azure's credentials instead (`azure_owner`): an `api-key` header, or a Microsoft Entra ID token as
`Authorization: Bearer`. A token is held to the same rule as a key (any non-empty one when the server accepts any
key, else one of the configured keys) and owns what it creates the same way, so a key sent either way, or through
`/v1`, sees the same objects.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .azure import access_denied
from .errors import APIError

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY)."
)


class Authenticator:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = tuple(keys)

    @property
    def accepts_any_key(self) -> bool:
        return not self._keys

    def owner(self, authorization: str | None) -> str:
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise APIError(401, _NO_KEY)
        if not self._known(key):
            raise APIError(
                401,
                f"Incorrect API key provided: {mask(key)}. The local server accepts only the keys it was started with.",
                code="invalid_api_key",
            )
        return _owner(key)

    def azure_owner(self, api_key: str | None, authorization: str | None) -> str:
        """The owner for an Azure path: the `api-key` header if sent, else a bearer token.

        Refusals are Azure's 401, whose message names no key, so nothing a client sent is echoed.
        """
        key = (api_key or "").strip()
        if not key:
            scheme, _, token = (authorization or "").strip().partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else ""
        if not key or not self._known(key):
            raise access_denied()
        return _owner(key)

    def key_owner(self, key: str) -> str | None:
        """The owner of a key this server accepts, None for one it refuses (the caller answers in its API's shape)."""
        return _owner(key) if key and self._known(key) else None

    def _known(self, key: str) -> bool:
        # compare_digest on every configured key: the time taken does not reveal how much of a key matched.
        return not self._keys or any(hmac.compare_digest(key.encode(), known.encode()) for known in self._keys)


def _owner(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# However long the key a client sent, the error that refuses it stays short.
MAX_MASK_STARS = 32


def mask(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * min(len(key) - 7, MAX_MASK_STARS)}{key[-4:]}"
