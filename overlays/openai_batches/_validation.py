"""Checks on call arguments, run before any request so a mistake costs no round trip (and no paid batch)."""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from ._config import check_text
from ._exceptions import InvalidParameterError
from ._generated import FileExpirationAnchor, Metadata, OutputExpiresAfter

# Limits the API states only in prose (see openapi.yaml); the service refuses more.
METADATA_MAX_KEYS = 16
METADATA_MAX_KEY_LENGTH = 64
METADATA_MAX_VALUE_LENGTH = 512
OUTPUT_EXPIRES_MIN_SECONDS = 3600
OUTPUT_EXPIRES_MAX_SECONDS = 2_592_000
LIST_LIMIT_MIN = 1
LIST_LIMIT_MAX = 100

E = TypeVar("E", bound=Enum)


def check_id(value: object, param: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterError(param, f"expected a string id, got {type(value).__name__}")
    if not value.strip():
        raise InvalidParameterError(param, "must not be empty")
    check_text(value, param)
    # Path ids are percent-encoded, but "." and ".." are legal path segments that URL normalisation would resolve
    # to another endpoint; no real id looks like that.
    if value in (".", ".."):
        raise InvalidParameterError(param, f"{value!r} is not an id")
    return value


def check_limit(value: object, maximum: int = LIST_LIMIT_MAX) -> int | None:
    """A page size from 1 to `maximum` (100 for batches, 10,000 for files), or None for the service's default."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError("limit", f"expected an integer from {LIST_LIMIT_MIN} to {maximum}, got {value!r}")
    if not LIST_LIMIT_MIN <= value <= maximum:
        raise InvalidParameterError("limit", f"must be from {LIST_LIMIT_MIN} to {maximum}, got {value}")
    return value


def check_cursor(value: object, param: str = "after") -> str | None:
    if value is None:
        return None
    return check_id(value, param)


def open_enum(value: object, enum: type[E], param: str) -> E | str:
    """A known value becomes the enum member; an unknown string passes through for the server to judge."""
    if isinstance(value, enum):
        return value
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(param, f"expected a non-empty string, got {value!r}")
    check_text(value, param)
    member = enum._value2member_map_.get(value)  # what enum(value) looks up first, without its call
    return value if member is None else typing.cast(E, member)


def check_metadata(value: object) -> Metadata | None:
    if value is None:
        return None
    if isinstance(value, Metadata):
        items: Mapping[Any, Any] = value.additional_properties
    elif isinstance(value, Mapping):
        items = value
    else:
        raise InvalidParameterError("metadata", f"expected a mapping of strings to strings, got {type(value).__name__}")
    if len(items) > METADATA_MAX_KEYS:
        raise InvalidParameterError("metadata", f"at most {METADATA_MAX_KEYS} keys are allowed, got {len(items)}")
    for key, val in items.items():
        if not isinstance(key, str):
            raise InvalidParameterError("metadata", f"keys must be strings, got {key!r}")
        check_text(key, "metadata")
        if len(key) > METADATA_MAX_KEY_LENGTH:
            raise InvalidParameterError(
                "metadata", f"key {key[:20]!r}... is {len(key)} characters; the limit is {METADATA_MAX_KEY_LENGTH}"
            )
        if not isinstance(val, str):
            raise InvalidParameterError("metadata", f"value of {key!r} must be a string, got {type(val).__name__}")
        check_text(val, "metadata")
        if len(val) > METADATA_MAX_VALUE_LENGTH:
            raise InvalidParameterError(
                "metadata", f"value of {key!r} is {len(val)} characters; the limit is {METADATA_MAX_VALUE_LENGTH}"
            )
    metadata = Metadata()
    metadata.additional_properties = dict(items)
    return metadata


def check_output_expires_after(value: object, param: str = "output_expires_after") -> OutputExpiresAfter | None:
    if value is None:
        return None
    if isinstance(value, OutputExpiresAfter):
        anchor: object = value.anchor
        seconds: object = value.seconds
    elif isinstance(value, Mapping):
        unknown = set(value) - {"anchor", "seconds"}
        if unknown:
            raise InvalidParameterError(param, f"unknown keys {sorted(map(str, unknown))}; expected anchor and seconds")
        anchor = value.get("anchor", FileExpirationAnchor.CREATED_AT.value)
        if "seconds" not in value:
            raise InvalidParameterError(param, "'seconds' is required")
        seconds = value["seconds"]
    else:
        raise InvalidParameterError(param, f"expected a mapping or OutputExpiresAfter, got {type(value).__name__}")
    try:
        anchor_value = FileExpirationAnchor(anchor if isinstance(anchor, str) else repr(anchor))
    except ValueError:
        raise InvalidParameterError(param, f"anchor must be 'created_at', got {anchor!r}") from None
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InvalidParameterError(param, f"seconds must be an integer, got {seconds!r}")
    if not OUTPUT_EXPIRES_MIN_SECONDS <= seconds <= OUTPUT_EXPIRES_MAX_SECONDS:
        raise InvalidParameterError(
            param,
            f"seconds must be from {OUTPUT_EXPIRES_MIN_SECONDS} (1 hour) to {OUTPUT_EXPIRES_MAX_SECONDS} (30 days), "
            f"got {seconds}",
        )
    return OutputExpiresAfter(anchor=anchor_value, seconds=seconds)


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def with_idempotency_key(extra_headers: Mapping[str, str], idempotency_key: object) -> dict[str, str]:
    """A call's extra headers (already checked, as `_call` leaves them) with an Idempotency-Key, chosen once per
    call so every retry repeats it.

    An explicit `idempotency_key` wins, then one already in the extra headers, then a random one.
    """
    headers = dict(extra_headers)
    present = [name for name in headers if name.lower() == IDEMPOTENCY_HEADER.lower()]
    if idempotency_key is not None:
        if not isinstance(idempotency_key, str) or not idempotency_key.strip():
            raise InvalidParameterError("idempotency_key", "expected a non-empty string")
        too_long = len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH
        if too_long or not idempotency_key.isascii() or not idempotency_key.isprintable():
            raise InvalidParameterError(
                "idempotency_key", f"expected at most {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters"
            )
        for name in present:
            del headers[name]
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    elif not present:
        headers[IDEMPOTENCY_HEADER] = f"openai-batches-{random_uuid()}"
    return headers


def random_uuid() -> str:
    """A random (version 4) UUID as text, the same as `str(uuid.uuid4())` at half its cost, paid on every create."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
