"""A job's cost budget (`max_cost=`): what a job has spent or may yet spend, as the core counts it before a shard goes.

The estimate, in dollars at the job's batch prices (the shipped table with the caller's `prices=` on top, stored
with the job so every run counts the same):

- a batch that ended costs its real `usage` (input, cached and output tokens, as the batches table records them);
- a shard whose batch is in flight, or on its way (uploading, uploaded, creating, refused for the token limit and
  waiting to go again), or about to be sent costs its estimated input tokens (the job's token estimator, the shard's
  `tokens`) at the input price, plus its output bound at the output price. The bound is the sum of what its requests
  allow (`max_completion_tokens`, else `max_tokens`, else `max_output_tokens`, times `n` choices; embeddings and
  moderations answer with no output tokens, and a legacy completion without one has that endpoint's default of 16);
  a request that states none is counted at the mean output per request of the job's completed batches of that
  model so far, and at 0 before any has completed: nothing else about an unbounded answer is known before one
  comes back, and a guess would either stop a cheap job or let a dear one through. So the first shards of a job
  without bounds are counted by their input alone, and the gate tightens as it learns; state a bound in each
  request for a cap that holds from the first batch. No input is counted as cached: a cache hit only costs less.

A shard is submitted only while done plus in flight plus the shard stays within the budget; the gate stands before
the shard's upload intent, so a shard held back has sent nothing. Retries are shards like any other and count the
same. Everything here is pure (no store, no clock): the core calls it with what the driver read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .._exceptions import InvalidParameterError
from ..prices import ModelPrice, PricesArg, PriceTable, price_table
from .records import PAUSED, JobRecord, ModelUsage, ShardRecord, ShardState

# The endpoints whose answers use no output tokens.
_NO_OUTPUT: Final = ("/v1/embeddings", "/v1/moderations")
# The legacy completions endpoint's default max_tokens, when a request states none.
_COMPLETIONS_DEFAULT: Final = 16
# Shard states whose batch has ended: its cost is the batch's `usage`, no longer an estimate.
_ENDED: Final = (ShardState.ENDED, ShardState.DOWNLOADED, ShardState.MERGED, ShardState.DONE)


def check_max_cost(value: object) -> float | None:
    """`max_cost=`: dollars, a positive finite number, or None for no cap."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(
            "max_cost", f"expected dollars, a positive finite number (or None for no cap), got {value!r}"
        )
    return float(value)


def prices_json(prices: PricesArg | None) -> str | None:
    """The caller's prices as stored with the job (checked first); None when none were given."""
    if prices is None:
        return None
    table = price_table(prices)
    given = {}
    for model in sorted(table.overridden):
        price = table.models[model]
        given[model] = {"input": price.input, "output": price.output, "cached_input": price.cached_input}
    return json.dumps(given, sort_keys=True)


def job_prices(job: JobRecord) -> PriceTable:
    """The prices the job's budget is counted at."""
    given: dict[str, Any] | None = json.loads(job.prices) if job.prices else None
    return price_table(given)


def check_priced(job: JobRecord, models: Iterable[str]) -> None:
    """A job with a budget must know the price of each of its models: one it cannot price would run uncapped."""
    if job.max_cost is None:
        return
    table = job_prices(job)
    unknown = sorted({model or "(no model)" for model in models if table.lookup(model) is None})
    if unknown:
        example = unknown[0]
        raise InvalidParameterError(
            "max_cost",
            f"no batch price known for {', '.join(unknown)}, so a cost budget cannot be counted: give one with "
            f"prices={{{example!r}: {{'input': ..., 'output': ...}}}} (or --price {example}=IN,OUT), dollars per "
            "million tokens",
        )


def output_bound(url: str, body: Mapping[str, Any]) -> int | None:
    """The most output tokens a request may use, as it states it; None when it states none."""
    if url in _NO_OUTPUT:
        return 0
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            choices = body.get("n")
            n = choices if isinstance(choices, int) and not isinstance(choices, bool) and choices > 1 else 1
            return value * n
    if url == "/v1/completions":
        return _COMPLETIONS_DEFAULT
    return None


class Spend:
    """What a job has spent and has in flight, in dollars, counted as the module says."""

    def __init__(self, models: Mapping[int, str], usage: Mapping[int, ModelUsage], table: PriceTable) -> None:
        self.models = models
        self.usage = usage
        self.table = table
        self.done = sum(
            self._price(model).cost(u.input_tokens, u.cached_tokens, u.output_tokens) for model, u in usage.items()
        )
        self.in_flight = 0.0

    def _price(self, model: int) -> ModelPrice:
        price = self.table.lookup(self.models.get(model, ""))
        # Every model was priced when the budget was set: one without a price (prices changed since) counts as free
        # rather than stopping a running job; check_priced refuses it again on the next create.
        return price or ModelPrice(input=0.0, output=0.0)

    def shard(self, shard: ShardRecord) -> float:
        """The estimate of a shard not yet ended."""
        usage = self.usage.get(shard.model)
        mean = usage.completed_output / usage.completed_requests if usage and usage.completed_requests else 0.0
        output = shard.max_output + round(shard.unbounded * mean)
        return self._price(shard.model).cost(shard.tokens, 0, output)

    @staticmethod
    def counts(shard: ShardRecord) -> bool:
        """Whether a shard's estimate is in flight: it left planning and its batch has not ended."""
        return shard.state != ShardState.PLANNED and shard.state not in _ENDED

    @property
    def total(self) -> float:
        return self.done + self.in_flight


def spend_of(
    models: Mapping[int, str], usage: Mapping[int, ModelUsage], table: PriceTable, shards: Iterable[ShardRecord]
) -> Spend:
    """The spend of a job whose active shards are `shards`: what its ended batches used, and the rest in flight."""
    spend = Spend(models, usage, table)
    spend.in_flight = sum(spend.shard(shard) for shard in shards if Spend.counts(shard))
    return spend


def dollars(value: float) -> str:
    """An amount as a budget note shows it: cents once it reaches a dollar, finer below."""
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def budget_note(job: JobRecord, spend: Spend) -> str:
    """What a summary says of a job's budget."""
    assert job.max_cost is not None
    spent = f"{dollars(spend.total)} spent or in flight"
    if job.status == PAUSED:
        return f"paused at its cost budget of {dollars(job.max_cost)}: {spent}; resume with a higher max_cost"
    return f"cost budget {dollars(job.max_cost)}: {spent}"
