"""Parameter checks shared by the endpoints, answering with the real API's error codes and wording."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from .errors import integer_out_of_range, invalid_request, invalid_type, invalid_value

MAX_IDEMPOTENCY_KEY_LENGTH = 255
_DECIMAL = re.compile(r"-?[0-9]+")


def query_int(query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    # Plain ASCII decimal only: int() alone would also take "+5", "1_0", " 5 " and digits of other scripts. int()
    # itself refuses more digits than sys.get_int_max_str_digits() with a ValueError, answered the same way.
    try:
        if _DECIMAL.fullmatch(raw) is None:
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise invalid_request(
            f"Invalid '{name}': expected an integer, but got '{shown}' instead.", param=name, code="invalid_type"
        ) from None
    if not minimum <= value <= maximum:
        raise integer_out_of_range(name, value, minimum, maximum)
    return value


def query_choice(query: Mapping[str, str], name: str, default: str, choices: Collection[str]) -> str:
    value = query.get(name, default)
    if value not in choices:
        raise invalid_value(name, value, choices)
    return value


def integer_param(value: object, name: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(name, "an integer", value)
    if not minimum <= value <= maximum:
        raise integer_out_of_range(name, value, minimum, maximum)
    return value


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise invalid_request(
            f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters long.",
            param="Idempotency-Key",
            code="invalid_idempotency_key",
        )
    return key


def request_hash(payload: Any) -> str:
    """The same request, however its JSON keys were ordered or spaced, hashes the same."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
