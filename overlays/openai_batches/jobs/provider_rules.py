"""What each service a job can run on allows one batch: the limits shards are cut at, by the provider's name.

A job records the name of its provider when it is created, so that planning, the estimate and every later run cut
shards by the same rules whichever client resumes it (a job still refuses a client of another service: its account
check compares where the job's batches live).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .._exceptions import InvalidParameterError
from . import anthropic_lines

_MIB: Final = 1024 * 1024

LineCheck = Callable[[object, "int | None", "Path | None"], object]


@dataclass(frozen=True)
class ProviderRules:
    """One service's batch limits.

    Attributes:
        name: The provider's name, kept with the job (`openai`, `azure`, `anthropic`).
        max_requests: The most requests one batch holds.
        max_bytes: The most bytes of input lines one batch holds (what a shard's lines may add up to).
        max_embedding_inputs: The most embedding inputs one batch holds, over all its requests.
        endpoint: The one endpoint a job on this service may name (None: any the Batch API has).
        line_check: Reads each parsed input line before the Batch API line checks (line, its number, the file),
            returning the line as those checks read it, or raising `BatchInputError` for what the service refuses;
            None for lines that are Batch API lines and nothing else.
    """

    name: str
    max_requests: int
    max_bytes: int
    max_embedding_inputs: int
    endpoint: str | None = None
    line_check: LineCheck | None = None


# OpenAI: 50,000 requests and 200 MB per input file, 50,000 embedding inputs per batch.
OPENAI_RULES: Final = ProviderRules("openai", max_requests=50_000, max_bytes=200 * _MIB, max_embedding_inputs=50_000)
# Azure OpenAI's global batch: 100,000 requests and 200 MB per input file.
AZURE_RULES: Final = ProviderRules("azure", max_requests=100_000, max_bytes=200 * _MIB, max_embedding_inputs=50_000)
# Anthropic's Message Batches: 100,000 requests or 256 MB per create request. Lines are cut at 200 MiB, which leaves
# room for what translating an OpenAI line into Messages params adds (the request's envelope, a system prompt
# moved out of the messages).
ANTHROPIC_RULES: Final = ProviderRules(
    "anthropic",
    max_requests=100_000,
    max_bytes=200 * _MIB,
    max_embedding_inputs=50_000,
    endpoint=anthropic_lines.CHAT,
    line_check=anthropic_lines.checked,
)

PROVIDERS: Final = {rules.name: rules for rules in (OPENAI_RULES, AZURE_RULES, ANTHROPIC_RULES)}
# The most requests any provider's batch holds: what `max_batch_requests` may be before the provider is known.
MAX_BATCH_REQUESTS: Final = max(rules.max_requests for rules in PROVIDERS.values())


def rules_named(name: str) -> ProviderRules:
    """The rules of a job's recorded provider."""
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise InvalidParameterError("provider", f"unknown provider {name!r}; known: {known}") from None


def check_batch_requests(value: int | None, rules: ProviderRules) -> None:
    """`max_batch_requests` within what one batch of the provider holds (its type is checked by `JobSettings`)."""
    if value is not None and value > rules.max_requests:
        raise InvalidParameterError(
            "max_batch_requests",
            f"expected a whole number from 1 to {rules.max_requests:,} (what one {rules.name} batch holds), or "
            f"None; got {value!r}",
        )


def check_job_endpoint(endpoint: str | None, rules: ProviderRules) -> str | None:
    """The endpoint a job on the provider reads its lines as: the provider's own when it has one."""
    if rules.endpoint is None or endpoint in (None, rules.endpoint):
        return rules.endpoint or endpoint
    raise InvalidParameterError("endpoint", f"a job on {rules.name} sends {rules.endpoint} requests, not {endpoint!r}")
