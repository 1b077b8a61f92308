"""JSON as the service accepts it: UTF-8 text that can be written back as valid JSON, or a refusal saying why.

Python's parser accepts several things a client can send that break the server later, far from the request:

- bytes in another encoding: `json.loads(bytes)` guesses UTF-16 and UTF-32 from the first bytes and skips a byte
  order mark, while the service reads request bodies and input lines as UTF-8 only;
- a lone surrogate (U+D800 to U+DFFF), escaped (`"\\udc00"`) or as raw bytes (`ED B0 80`, which `json.loads(bytes)`
  decodes with `surrogatepass`): it parses into a `str` that cannot be encoded as UTF-8, so hashing, storing or
  echoing it fails;
- `NaN`, `Infinity`, `-Infinity` and numbers too large for a float (`1e400` parses as infinity): they would be
  written back as bare `NaN` / `Infinity`, which no JSON parser reads;
- nesting deeper than the interpreter's recursion limit (a `RecursionError`), or deep enough to exhaust it later.

`loads` refuses all of them with `JSONRejected`, whose message says which and where (a byte offset, or the path of
the string that holds a surrogate); every other input parses as `json.loads` parses it. The checks cost next to
nothing on ordinary input: the surrogate and depth walks run only when a cheap scan of the raw bytes says they could
find something.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Deeper than any real request (a structured-output schema nests a few dozen levels at most), far below the
# recursion limit that the parser, the responders and the encoder share.
MAX_DEPTH = 128

# A JSON escape that may encode half of a surrogate pair; false positives (an escaped backslash before "ud8") only
# cost the exact check below.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
NOT_JSON = "it is not valid JSON"
# Byte order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


class JSONRejected(ValueError):
    """The text is not JSON the server can store and echo; the message says why, `place` where (when it can)."""

    def __init__(self, reason: str, place: str | None = None) -> None:
        super().__init__(reason)
        self.place = place


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRejected(f"the number {text[:40]} is too large to represent")
    return value


def _no_constant(name: str) -> Any:
    raise JSONRejected(f"{name} is not a JSON value")


def loads(data: bytes | str) -> Any:
    if isinstance(data, str):
        raw, text, raw_surrogate = data.encode("utf-8", "surrogatepass"), data, False
    else:
        raw = data
        text, raw_surrogate = _utf8_text(data)
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except JSONRejected:
        raise
    except RecursionError:
        raise JSONRejected(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        raise JSONRejected(NOT_JSON) from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise JSONRejected(f"it is nested more than {MAX_DEPTH} levels deep")
    if raw_surrogate or _SURROGATE_ESCAPE.search(raw):
        found = lone_surrogate(value)
        if found is not None:
            where, place = found
            raise JSONRejected(
                f"{where} contains a lone surrogate (U+D800 to U+DFFF, escaped or as raw bytes), "
                "which is not valid Unicode",
                place,
            )
    return value


def _utf8_text(data: bytes) -> tuple[str, bool]:
    """The bytes as UTF-8 text, and whether raw surrogates were let through (to be refused with their place)."""
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            raise JSONRejected(f"it starts with a {encoding} byte order mark; send UTF-8 without one")
    encoding = json.detect_encoding(data)
    if encoding != "utf-8":
        raise JSONRejected(f"it is encoded as {encoding.upper()}; JSON must be sent as UTF-8")
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        try:
            return data.decode("utf-8", "surrogatepass"), True
        except UnicodeDecodeError:
            raise JSONRejected(f"it is not valid UTF-8 (at byte {exc.start})") from None


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def lone_surrogate(value: Any) -> tuple[str, str | None] | None:
    """The first string that cannot be encoded as UTF-8: how to name it ("the string at metadata.note") and its
    path ("metadata.note", None at the top), or None when every string can be."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return (f"the string at {path}", path) if path else ("the string", None)
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if not _encodable(key):
                    return (f"a key in {path}", path) if path else ("a key", None)
                # The key is known to be encodable here, so the place can be shown in a message.
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in reversed(list(enumerate(item))))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
