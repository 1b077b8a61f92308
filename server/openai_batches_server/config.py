"""Everything that makes one server instance differ from another, in one frozen value.

The command line and `run_server` both build a `ServerConfig`; nothing below reads the environment or the clock
directly, so a test can state the whole setup (a fast tick, a short completion window, a clock it moves by hand).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

API_KEYS_ENV = "OPENAI_BATCHES_SERVER_API_KEYS"

# The default pace does not depend on a batch's size: each status step (validating, in_progress, finalizing) lasts
# DEFAULT_STEP_SECONDS and request lines are answered as fast as the machine allows, so any batch up to the service's
# 50,000 lines finishes in seconds, while each status still lasts long enough to be seen.
DEFAULT_STEP_SECONDS = 0.5
# `--speed 1`: a pace to watch request_counts move, one tick per request line and per status step (about four lines
# a second); `--speed F` divides it by F, `--tick S` sets it directly.
WATCH_TICK = 0.25
DEFAULT_COMPLETION_WINDOW_SECONDS = 24 * 60 * 60
# A connection must deliver each request's head within this many seconds of opening or of its previous answer, and
# a request body may stall no longer than this; then the connection is closed. Above the 5 s for which HTTP clients
# (httpx, the openai SDK) keep an idle connection for reuse, so the server never closes one a client is reusing.
DEFAULT_IDLE_TIMEOUT = 20.0
# The idle timeout alone lets a body that trickles in a byte at a time hold its connection (and upload file) forever.
# So a whole body must also arrive within DEFAULT_BODY_TIMEOUT, and at DEFAULT_MIN_BODY_RATE bytes/s or more over
# each BODY_RATE_WINDOW (the first window is grace: a body is never too slow before it has been arriving that long).
DEFAULT_BODY_TIMEOUT = 300.0
DEFAULT_MIN_BODY_RATE = 1024.0
BODY_RATE_WINDOW = 10.0
# Connections are capped below the descriptor limit, so that the server answers 503 before accept() and open()
# fail: each connection may hold a second descriptor (an upload's temporary file, a download's file), and a third of
# what is left after the server's own files stays free for the connections it refuses, which it must accept first.
MAX_DEFAULT_CONNECTIONS = 1024
MIN_DEFAULT_CONNECTIONS = 8
RESERVED_DESCRIPTORS = 64

MIB = 1024 * 1024
# The limits the real service states in prose (files up to 512 MB; a batch input file up to 200 MB and 50,000
# requests; embeddings batches up to 50,000 inputs in total).
MAX_UPLOAD_BYTES = 512 * MIB
MAX_INPUT_FILE_BYTES = 200 * MIB
MAX_INPUT_REQUESTS = 50_000
MAX_EMBEDDING_INPUTS = 50_000


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = MAX_UPLOAD_BYTES
    input_file_bytes: int = MAX_INPUT_FILE_BYTES
    input_requests: int = MAX_INPUT_REQUESTS
    embedding_inputs: int = MAX_EMBEDDING_INPUTS


@dataclass(frozen=True)
class Faults:
    """Deliberate misbehaviour for resilience tests: added latency and a seeded share of error answers."""

    rate: float = 0.0
    statuses: tuple[int, ...] = (429, 500)
    seed: int | None = None
    latency: float = 0.0
    # "before": the request has no effect. "after": it takes effect and only the answer is lost, which is what
    # makes a client's retry create a second batch unless it sends an Idempotency-Key.
    timing: str = "before"
    retry_after: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        if self.rate and not self.statuses:
            raise ValueError("a fault rate needs at least one fault status")
        if any(not 400 <= status <= 599 for status in self.statuses):
            raise ValueError(f"fault statuses must be 4xx or 5xx, got {self.statuses}")
        if self.latency < 0 or self.retry_after < 0:
            raise ValueError("latency and retry-after must not be negative")
        if self.timing not in ("before", "after"):
            raise ValueError(f"fault timing must be 'before' or 'after', got {self.timing!r}")


@dataclass(frozen=True)
class LineFailures:
    """A seeded share of request lines answered with an error status, for testing clients that retry lines.

    Whether a line fails depends only on the seed, its custom_id and its attempt (the batch's metadata `attempt`,
    which openai-batches jobs set; 1 when absent), so a run is reproducible and a retried line gets a fresh draw.
    `attempts` limits failures to the first N attempts (None: every attempt).
    """

    rate: float = 0.0
    status: int = 500
    seed: int = 0
    attempts: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"line failure rate must be between 0 and 1, got {self.rate}")
        if not 400 <= self.status <= 599:
            raise ValueError(f"line failure status must be 4xx or 5xx, got {self.status}")
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"line failure attempts must be at least 1, got {self.attempts}")


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    # Empty: any non-empty key is accepted (each key still sees only its own objects) - on a loopback address only,
    # unless `allow_any_key` says that is wanted on a network address too.
    api_keys: tuple[str, ...] = ()
    allow_any_key: bool = False
    # Seconds each status step lasts at least, and seconds per request line (0: as fast as the machine allows).
    step_seconds: float = DEFAULT_STEP_SECONDS
    line_seconds: float = 0.0
    completion_window_seconds: float = DEFAULT_COMPLETION_WINDOW_SECONDS
    limits: Limits = field(default_factory=Limits)
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], float] = time.time
    # Per API key and model: a batch whose input tokens would push the tokens enqueued for its model past this
    # fails in validating with `token_limit_exceeded`, as the service does (None: no limit).
    enqueued_token_limit: int | None = None
    line_failures: LineFailures = field(default_factory=LineFailures)
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    # True: the `Idempotency-Key` header is ignored on every endpoint (not even checked), as the public API does for
    # /v1/batches and /v1/files, so a repeated create makes a second object. False: a repeated key answers with the
    # first object, a repeated key with another body is a 409.
    ignore_idempotency_key: bool = False
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    # Bytes per second, over each `body_rate_window` seconds the server waits for the body; 0: no minimum.
    min_body_rate: float = DEFAULT_MIN_BODY_RATE
    body_rate_window: float = BODY_RATE_WINDOW
    # None: derived from the descriptor limit at start (`default_max_connections`); uploads: half the connections.
    max_connections: int | None = None
    max_uploads: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "api_keys", tuple(self.api_keys))
        for name in ("step_seconds", "line_seconds"):
            value = getattr(self, name)
            if not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number of seconds, not negative: got {value}")
        if self.completion_window_seconds <= 0:
            raise ValueError(f"completion window must be positive, got {self.completion_window_seconds}")
        if any(not key for key in self.api_keys):
            raise ValueError("API keys must not be empty")
        if self.enqueued_token_limit is not None and self.enqueued_token_limit < 1:
            raise ValueError(f"enqueued token limit must be at least 1, got {self.enqueued_token_limit}")
        if not 0 < self.idle_timeout < float("inf"):
            raise ValueError(f"idle timeout must be a positive number of seconds, got {self.idle_timeout}")
        for name in ("body_timeout", "body_rate_window"):
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        if not 0 <= self.min_body_rate < float("inf"):
            raise ValueError(f"min_body_rate must be a finite number of bytes per second, got {self.min_body_rate}")
        for name in ("max_connections", "max_uploads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if not self.api_keys and not self.allow_any_key and not is_loopback(self.host):
            raise ValueError(
                f"refusing to serve {self.host!r} without an API key: anyone who can reach it could use the server. "
                "Give --api-key (or OPENAI_BATCHES_SERVER_API_KEYS), or --allow-any-key to accept any key on purpose"
            )


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_max_connections(descriptor_limit: int | None) -> int:
    """The connection cap when none is given, for a process that may open `descriptor_limit` files (None: no limit)."""
    if descriptor_limit is None:
        return MAX_DEFAULT_CONNECTIONS
    share = (descriptor_limit - RESERVED_DESCRIPTORS) // 3
    return max(MIN_DEFAULT_CONNECTIONS, min(MAX_DEFAULT_CONNECTIONS, share))


def connection_caps(config: ServerConfig, descriptor_limit: int | None) -> tuple[int, int]:
    """How many connections, and how many uploads among them, the server takes at once."""
    connections = config.max_connections or default_max_connections(descriptor_limit)
    uploads = config.max_uploads or max(1, connections // 2)
    return connections, uploads


def describe_pace(config: ServerConfig) -> str:
    step, line = config.step_seconds, config.line_seconds
    lines = f"{line:g} s per request line" if line else "request lines as fast as the machine allows"
    return f"pace: {step:g} s per status step, {lines}"


def keys_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    return split_keys([environ.get(API_KEYS_ENV, "")])


def split_keys(values: Iterable[str]) -> tuple[str, ...]:
    keys: list[str] = []
    for value in values:
        keys.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(keys))
