"""Decoding JSON from the wire: msgspec when it is installed (the `speed` extra), else the standard library.

Both give the same values and the same errors; only the time differs. msgspec reads a page of batches, a Batch or a
line of a results file faster than `json.loads`, which is why it is used when present (`python tools/bench.py
--decoders` measures it; the performance documentation has the figures and why not orjson). It reads strict UTF-8
JSON only, and for every document it reads it gives what `json.loads` gives (a property test checks this). A document it
refuses (NaN, a byte-order mark, UTF-16, an escaped lone surrogate, a number too large for a float, or plain
malformed JSON) goes on to `json.loads`, which reads it as it always did or raises its own error, so an error message
never depends on which decoder is installed.

Callers use `_json.loads(...)` through the module, so a test can swap the decoder for the whole library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Decode = Callable[[bytes | str], Any]

fast: Decode | None
"""msgspec's decoder, or None without the `speed` extra: for callers that handle a refused document themselves
(catching `REFUSED`)."""

try:
    from msgspec import DecodeError as _Refused
    from msgspec.json import Decoder as _Decoder
except ImportError:  # the runtime needs only httpx and attrs
    fast = None
    REFUSED: tuple[type[BaseException], ...] = (ValueError, RecursionError)
else:
    fast = _Decoder().decode
    # What msgspec raises for a document it does not read. Releases before 0.19 raise UnicodeDecodeError for some bad
    # bytes, and their DecodeError is no ValueError.
    REFUSED = (_Refused, ValueError, RecursionError)


def stdlib_loads(data: bytes | str) -> Any:
    """`json.loads`, the fallback and the decoder without the `speed` extra."""
    return json.loads(data)


def fast_loads(data: bytes | str) -> Any:
    """msgspec first; a document it refuses (or nests past the recursion limit) goes to `json.loads`."""
    assert fast is not None
    try:
        return fast(data)
    except REFUSED:
        return json.loads(data)


loads: Decode = stdlib_loads if fast is None else fast_loads
"""What the library decodes response bodies with."""

DECODER = "json" if fast is None else "msgspec"
"""The name of the decoder in use, as the benchmark reports it."""
