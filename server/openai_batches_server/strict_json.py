"""JSON as the service accepts it: what `json.loads` lets through but cannot be written back as valid JSON is refused.

Python's parser accepts three things a client can send that break the server later, far from the request:

- a lone surrogate escape (`"\\udc00"`): it parses into a `str` that cannot be encoded as UTF-8, so writing an
  answer that echoes it fails;
- `NaN`, `Infinity`, `-Infinity` and numbers too large for a float (`1e400` parses as infinity): they would be
  written back as bare `NaN` / `Infinity`, which no JSON parser reads;
- nesting deeper than the interpreter's recursion limit (a `RecursionError`), or deep enough to exhaust it later.

`loads` refuses all of them with `JSONRejected`, whose message says which; every other input parses as
`json.loads` parses it. The checks cost next to nothing on ordinary input: the surrogate and depth walks run only
when a cheap scan of the raw bytes says they could find something.
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


class JSONRejected(ValueError):
    """The text is not JSON the server can store and echo; the message says why."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRejected(f"the number {text[:40]} is too large to represent")
    return value


def _no_constant(name: str) -> Any:
    raise JSONRejected(f"{name} is not a JSON value")


def loads(data: bytes | str) -> Any:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = json.loads(data, parse_float=_finite_float, parse_constant=_no_constant)
    except JSONRejected:
        raise
    except RecursionError:
        raise JSONRejected(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise JSONRejected("it is not valid JSON") from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise JSONRejected(f"it is nested more than {MAX_DEPTH} levels deep")
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise JSONRejected("it contains a lone surrogate escape (\\ud800 to \\udfff), which is not valid Unicode")
    return value


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


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
