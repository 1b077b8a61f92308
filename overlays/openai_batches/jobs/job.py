"""What a user holds: `Job`, a snapshot of one job, with its summary and its merged results.

A `Job` is a value read from the state directory at one moment (`client.jobs.get(name)` reads a fresh one). Its
`summary()`, `results()` and `write_results()` read the state directory only, never the network, so they work the
same from sync and async code, and after the client is closed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._exceptions import InvalidParameterError
from ..prices import ModelPrice
from ..results import BatchResult
from .records import CANCELLED, COMPLETED, FINISHED_STATUSES, JobRecord, ShardState
from .settings import job_folder
from .store import JobStore, open_store

__all__ = ["Job", "JobSummary", "ModelPrice"]

# Shard states in which a batch is at the service (or about to be): "batches in flight".
_IN_FLIGHT = (ShardState.CREATING, ShardState.SUBMITTED)


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
    """Dollars, from the prices given; None when no price was given or a model used has none."""
    cost_by_model: Mapping[str, float]
    notes: tuple[str, ...]

    @property
    def attempts_used(self) -> int:
        """Request attempts sent in all (a request retried twice counts three)."""
        return sum(attempts * count for attempts, count in self.attempts.items())

    @property
    def retried(self) -> int:
        return sum(count for attempts, count in self.attempts.items() if attempts > 1)

    def to_dict(self) -> dict[str, Any]:
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


@attrs.frozen(kw_only=True)
class Job:
    """One job as it stood when read. `client.jobs.get(name)` reads it again."""

    name: str
    status: str
    """created, in_progress, cancelling, cancelled or completed (every request has its final result)."""
    endpoint: str
    input_path: Path
    state_dir: Path
    created_at: float
    finished_at: float | None
    requests: int
    succeeded: int
    failed: int
    missing: int
    cancelled: int
    batches_in_flight: int
    max_attempts: int
    max_in_flight: int
    enqueued_token_limit: int | None
    max_batch_requests: int | None
    estimated_tokens: int
    token_estimator: str
    runner: str | None
    """Who runs the job right now ("pid 123 on host"), or None."""

    @property
    def pending(self) -> int:
        """Requests without a final result yet."""
        return self.requests - self.succeeded - self.failed - self.missing - self.cancelled

    @property
    def finished(self) -> bool:
        """Completed or cancelled: nothing more will change."""
        return self.status in FINISHED_STATUSES

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    @property
    def folder(self) -> Path:
        """Where the job keeps its files inside the state directory."""
        return job_folder(self.state_dir, self.name)

    def summary(self, prices: Mapping[str, ModelPrice | Mapping[str, float]] | None = None) -> JobSummary:
        """Counts, attempts, batches, tokens from the batches' `usage`, and cost when `prices` (per model, batch
        prices in dollars per million tokens) are given."""
        with open_store(self.state_dir) as store:
            return summarize(store, _record(store, self.name), prices)

    def results(self) -> Iterator[BatchResult]:
        """One `BatchResult` per request, in input order, read from the state directory with flat memory.

        A request's result is its latest attempt's. Requests with no result from the service come with an `error`
        that says why: `no_result` (no attempt was answered), `cancelled`, or `pending` (the job has not finished).
        """
        from .job_results import iter_results

        with open_store(self.state_dir) as store:
            yield from iter_results(store, _record(store, self.name))

    def write_results(self, path: str | os.PathLike[str]) -> int:
        """Write every result as one JSON line in the service's format, in input order (written beside `path`, then
        renamed); returns the number of lines. Requests without a service result get a line with `error` set."""
        from .job_results import write_results

        with open_store(self.state_dir) as store:
            return write_results(store, _record(store, self.name), Path(path))

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["input_path"] = str(self.input_path)
        data["state_dir"] = str(self.state_dir)
        data["pending"] = self.pending
        return data

    def __str__(self) -> str:
        final = self.requests - self.pending
        text = (
            f"job {self.name} {self.status}: {final:,} of {self.requests:,} requests final "
            f"({self.succeeded:,} succeeded, {self.failed:,} failed"
        )
        if self.missing:
            text += f", {self.missing:,} without result"
        if self.cancelled:
            text += f", {self.cancelled:,} cancelled"
        text += f"), {self.batches_in_flight} batches in flight"
        return text


def _record(store: JobStore, name: str) -> JobRecord:
    from .errors import JobNotFoundError

    record = store.get_job(name)
    if record is None:
        raise JobNotFoundError(f"no job named {name!r} (it was deleted)", job=name)
    return record


def snapshot(store: JobStore, record: JobRecord, state_dir: Path, *, now: float | None = None) -> Job:
    shards = store.active_shards(record.id)
    runner = None
    if record.lease_holder is not None:
        runner = f"pid {record.lease_pid} on {record.lease_host}"
    return Job(
        name=record.name,
        status=record.status,
        endpoint=record.endpoint,
        input_path=Path(record.input_path),
        state_dir=state_dir,
        created_at=record.created_at,
        finished_at=record.finished_at,
        requests=record.requests,
        succeeded=record.succeeded,
        failed=record.failed,
        missing=record.missing,
        cancelled=record.cancelled,
        batches_in_flight=sum(shard.state in _IN_FLIGHT for shard in shards),
        max_attempts=record.max_attempts,
        max_in_flight=record.max_in_flight,
        enqueued_token_limit=record.enqueued_token_limit,
        max_batch_requests=record.max_batch_requests,
        estimated_tokens=record.estimated_tokens,
        token_estimator=record.token_estimator,
        runner=runner,
    )


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
    cost: float | None = None
    cost_by_model: dict[str, float] = {}
    if prices is not None:
        priced = {model: ModelPrice.of(value, model) for model, value in prices.items()}
        unpriced = sorted(model for model in usage if model not in priced)
        for model, (input_tokens, cached, output) in usage.items():
            if model in priced:
                cost_by_model[model] = priced[model].cost(input_tokens, cached, output)
        if unpriced:
            notes.append(f"no price given for {', '.join(unpriced)}: no total cost")
        else:
            cost = sum(cost_by_model.values())
    in_flight = sum(shard.state in _IN_FLIGHT for shard in store.active_shards(record.id))
    status = record.status
    if status == CANCELLED and record.pending:
        notes.append(f"{record.pending} requests were left without a result by the cancel")
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
    )
