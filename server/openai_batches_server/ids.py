"""Identifiers in the real API's formats, so clients that pattern-match ids (or log them) see nothing unusual."""

from __future__ import annotations

import secrets
import string

_BASE62 = string.ascii_letters + string.digits


def file_id() -> str:
    return "file-" + "".join(secrets.choice(_BASE62) for _ in range(22))


def batch_id() -> str:
    return "batch_" + secrets.token_hex(16)


def batch_request_id() -> str:
    return "batch_req_" + secrets.token_hex(16)


def request_id() -> str:
    return "req_" + secrets.token_hex(16)
