"""`JobSummary`, what a job's `summary()` returns, and `summarize`, which reads it from the store.

They live apart from `Job` because `Job`'s methods call into the modules that build on the summary (the HTML
report) and that it builds on (the cost estimate, for a job with nothing sent yet); kept here, the imports go one
way: from `job` and `report` to here, and from here to `estimate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._exceptions import InvalidParameterError
from ..prices import ModelPrice
from .budget import budget_note, job_prices, spend_of
from .estimate import JobEstimate, estimate_job
from .records import CANCELLED, JobRecord, ShardState
from .store import JobStore

__all__ = ["IN_FLIGHT", "JobSummary", "summarize"]

# Shard states in which a batch is at the service (or about to be): "batches in flight".
IN_FLIGHT = (ShardState.CREATING, ShardState.SUBMITTED)


@attrs.frozen(kw_only=True)
class JobSummary:
    """Counts by outcome, attempts, batches, tokens and cost of one job."""

    name: str
    status: str
    requests: int
    succeeded: int
    failed: int
    missing: int
    """Requests the service returned no result for, after every attempt."""
    cancelled: int
    pending: int
    attempts: Mapping[int, int]
    """How many requests used how many attempts (0: not sent yet)."""
    batches: int
    """Batches created, those the service refused for its token limit included."""
    batches_in_flight: int
    token_limit_refusals: int
    token_budgets: Mapping[str, int]
    """Per model, the in-flight token budget lowered after the service refused batches for its token limit."""
    estimated_input_tokens: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    cost: float | None
    """Dollars for the batches' `usage` at batch prices (the shipped table, the prices given on top, model by
    model); None when a model used has no price (a note says which), never $0 for it."""
    cost_by_model: Mapping[str, float]
    notes: tuple[str, ...]
    max_cost: float | None = None
    """The job's cost budget in dollars (None: no cap)."""
    budget_spent: float | None = None
    """With a budget: dollars spent or in flight as the budget counts them (see `openai_batches.jobs.budget`)."""

    @property
    def attempts_used(self) -> int:
        """Request attempts sent in all (a request retried twice counts three)."""
        return sum(attempts * count for attempts, count in self.attempts.items())

    @property
    def retried(self) -> int:
        return sum(count for attempts, count in self.attempts.items() if attempts > 1)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values, with `attempts_used` and `retried` added.

        Returns:
            A dict of the summary's fields; the `attempts` keys are strings.
        """
        data = attrs.asdict(self)
        data["attempts"] = {str(key): value for key, value in self.attempts.items()}
        data["attempts_used"] = self.attempts_used
        data["retried"] = self.retried
        data["notes"] = list(self.notes)
        return data

    def __str__(self) -> str:
        done = self.requests - self.pending
        lines = [
            f"job {self.name}: {self.status}, {done:,} of {self.requests:,} requests final",
            f"  succeeded {self.succeeded:,}, failed {self.failed:,}, no result {self.missing:,}, "
            f"cancelled {self.cancelled:,}, pending {self.pending:,}",
            f"  attempts {self.attempts_used:,} ({self.retried:,} requests retried), batches {self.batches:,} "
            f"({self.batches_in_flight} in flight)",
            f"  tokens: input {self.input_tokens:,} (cached {self.cached_tokens:,}), output {self.output_tokens:,}; "
            f"estimated input {self.estimated_input_tokens:,}",
        ]
        if self.cost is not None:
            lines.append(f"  cost ${self.cost:,.4f}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def summarize(
    store: JobStore, record: JobRecord, prices: Mapping[str, ModelPrice | Mapping[str, float]] | None
) -> JobSummary:
    if prices is not None and not isinstance(prices, Mapping):
        raise InvalidParameterError("prices", f"expected a mapping of model to price, got {type(prices).__name__}")
    models = store.models(record.id)
    batches = store.batches(record.id)
    budgets = store.budgets(record.id)
    usage: dict[str, list[int]] = {}
    for batch in batches:
        totals = usage.setdefault(models.get(batch.model, "") or "(no model)", [0, 0, 0])
        totals[0] += batch.input_tokens
        totals[1] += batch.cached_tokens
        totals[2] += batch.output_tokens
    notes: list[str] = []
    refusals = sum(budget.refusals for budget in budgets.values())
    lowered = {models.get(b.model, "") or "(no model)": b.budget for b in budgets.values() if b.budget is not None}
    for model, budget in lowered.items():
        refused = sum(b.refusals for b in budgets.values() if (models.get(b.model, "") or "(no model)") == model)
        notes.append(
            f"the service refused {refused} batch(es) of {model} for its enqueued-token limit; the in-flight budget "
            f"for {model} was lowered to {budget:,} estimated tokens"
        )
    if refusals and not lowered:
        notes.append(f"the service refused {refusals} batch(es) for its enqueued-token limit; they were sent again")
    # The shipped batch prices, the job's own (given when it was created) on top, the caller's on top of those.
    table = job_prices(record).with_overrides(prices)
    cost: float | None = None
    cost_by_model: dict[str, float] = {}
    unpriced: list[str] = []
    for model, (input_tokens, cached, output) in usage.items():
        price = table.lookup(model) if model != "(no model)" else None
        if price is not None:
            cost_by_model[model] = price.cost(input_tokens, cached, output)
        elif input_tokens or output:  # a batch that used no tokens costs nothing at any price
            unpriced.append(model)
    if unpriced:
        notes.append(table.unknown_note(unpriced))
    else:
        cost = sum(cost_by_model.values())
    in_flight = sum(shard.state in IN_FLIGHT for shard in store.active_shards(record.id))
    status = record.status
    if status == CANCELLED and record.pending:
        notes.append(f"{record.pending} requests were left without a result by the cancel")
    if not batches and record.pending:
        # Nothing sent yet, so nothing spent: say what the job is expected to cost instead of only "$0".
        notes.append(_expected_cost(estimate_job(store, record, prices)))
    spent: float | None = None
    if record.max_cost is not None:
        spend = spend_of(models, store.usage(record.id), job_prices(record), store.active_shards(record.id))
        spent = spend.total
        notes.append(budget_note(record, spend))
    return JobSummary(
        name=record.name,
        status=status,
        requests=record.requests,
        succeeded=record.succeeded,
        failed=record.failed,
        missing=record.missing,
        cancelled=record.cancelled,
        pending=record.pending,
        attempts=dict(sorted(store.attempt_counts(record.id).items())),
        batches=len(batches),
        batches_in_flight=in_flight,
        token_limit_refusals=refusals,
        token_budgets=lowered,
        estimated_input_tokens=record.estimated_tokens,
        input_tokens=sum(totals[0] for totals in usage.values()),
        cached_tokens=sum(totals[1] for totals in usage.values()),
        output_tokens=sum(totals[2] for totals in usage.values()),
        cost=cost,
        cost_by_model=cost_by_model,
        notes=tuple(notes),
        max_cost=record.max_cost,
        budget_spent=spent,
    )


def _expected_cost(estimate: JobEstimate) -> str:
    if estimate.cost_low is None:
        return "nothing sent yet; its cost cannot be estimated (a model has no price; job.estimate() says which)"
    high = (
        "no upper bound (a request states no output limit)"
        if estimate.cost_high is None
        else f"${estimate.cost_high:,.4f}"
    )
    return f"nothing sent yet: estimated cost at batch prices ${estimate.cost_low:,.4f} to {high}"
