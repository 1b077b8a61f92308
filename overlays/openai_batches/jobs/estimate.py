"""What a job would cost before anything of it is sent: requests, batches, tokens per model, and a cost range.

`estimate_input` reads an input the way `jobs.create` does (the same `Scan`: every line checked as the service would
check it, the same token estimator, the same bound on output tokens the cost budget counts), and keeps per-model
totals only, so memory stays flat in the size of the input. Duplicate custom_ids are found as creation finds them,
by a unique index on disk (a temporary SQLite file here), not by a set that grows with the input.

The batch count follows the planning rules of `planning.plan_shards` without a store: a new job's first shards hold
one model each, cut greedily in input order at the service's limits, `max_batch_requests` and
`enqueued_token_limit`. Each model's requests are cut apart from the others', so counting per model while reading
gives the number a job plans.

The cost is a range at batch prices (the shipped table, the caller's prices on top): low is the input tokens at the
input price with no output; high adds every request's output bound at the output price, and is None when a request
states no bound, since its answer could then be as long as the model allows. A model without a price has no cost
(None, with a note), never $0.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .._exceptions import InvalidParameterError
from ..batch_input import BatchInputError, check_endpoint
from ..prices import PricesArg, PriceTable, price_table
from .ingest import Scan, spooled
from .job_settings import JobInput, JobSettings
from .planning import ShardLimits
from .provider_rules import OPENAI_RULES, LineCheck, ProviderRules, check_batch_requests, check_job_endpoint
from .records import JobRecord
from .store import JobStore
from .tokens import TokenEstimator, default_estimator

__all__ = ["JobEstimate", "ModelEstimate", "estimate_input", "estimate_job"]

NO_MODEL = "(no model)"
_CHUNK = 5000


@attrs.frozen(kw_only=True)
class ModelEstimate:
    """The requests of one model: how many, in how many batches, their input tokens and their output bound."""

    model: str
    requests: int
    batches: int
    input_tokens: int
    max_output_tokens: int | None
    """The sum of the output bounds the requests state; None when one of them states none."""
    unbounded: int
    """Requests that state no bound on their output tokens."""
    cost_low: float | None
    """Dollars for the input tokens alone; None when the model has no price."""
    cost_high: float | None
    """Dollars for the input tokens and every output bound; None without a price or without a bound."""

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready values, as `openai-batches estimate --json` shows a model.

        Returns:
            A dict with `requests`, `input_tokens`, `max_output_tokens`, `batches`, `unbounded_requests`, `cost`.
        """
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "max_output_tokens": self.max_output_tokens,
            "batches": self.batches,
            "unbounded_requests": self.unbounded,
            "cost": {"low": self.cost_low, "high": self.cost_high},
        }


@attrs.frozen(kw_only=True)
class JobEstimate:
    """What a job over an input would send and cost, counted before anything is sent.

    `str()` is a short table; `to_dict()` the JSON of `openai-batches estimate --json`.
    """

    endpoint: str
    requests: int
    batches: int
    models: Mapping[str, ModelEstimate]
    input_tokens: int
    max_output_tokens: int | None
    cost_low: float | None
    """Dollars at batch prices with no output at all; None when a model has no price."""
    cost_high: float | None
    """Dollars with every request's output bound; None when a model has no price or a request states no bound."""
    currency: str
    token_estimator: str
    """The estimator that counted the input tokens (heuristic, tiktoken, or the name of the one given)."""
    prices_source: str | None
    prices_read_on: str | None
    prices_overridden: tuple[str, ...]
    """Models whose price the caller gave."""
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-ready values: the JSON of `openai-batches estimate --json`.

        Returns:
            A dict with the totals, `models`, `cost`, `prices` and `notes`.
        """
        return {
            "requests": self.requests,
            "batches": self.batches,
            "models": {model: estimate.to_dict() for model, estimate in self.models.items()},
            "cost": {"low": self.cost_low, "high": self.cost_high, "currency": self.currency},
            "endpoint": self.endpoint,
            "input_tokens": self.input_tokens,
            "max_output_tokens": self.max_output_tokens,
            "token_estimator": self.token_estimator,
            "prices": {
                "source": self.prices_source,
                "read_on": self.prices_read_on,
                "overridden": list(self.prices_overridden),
            },
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """The estimate as a table, one string per line.

        Returns:
            The heading, the table's rows, the cost and prices lines, then the notes.
        """
        head = (
            f"{self.requests:,} requests to {self.endpoint} in {self.batches:,} "
            f"batch{'es' if self.batches != 1 else ''}; input tokens estimated by {self.token_estimator}"
        )
        rows = [("MODEL", "REQUESTS", "BATCHES", "INPUT TOKENS", "MAX OUTPUT TOKENS", "COST LOW", "COST HIGH")]
        for estimate in self.models.values():
            rows.append(
                (
                    estimate.model,
                    f"{estimate.requests:,}",
                    f"{estimate.batches:,}",
                    f"{estimate.input_tokens:,}",
                    _count(estimate.max_output_tokens),
                    _dollars(estimate.cost_low),
                    _dollars(estimate.cost_high),
                )
            )
        if len(self.models) > 1:
            rows.append(
                (
                    "total",
                    f"{self.requests:,}",
                    f"{self.batches:,}",
                    f"{self.input_tokens:,}",
                    _count(self.max_output_tokens),
                    _dollars(self.cost_low),
                    _dollars(self.cost_high),
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        table = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        if self.cost_low is None:
            cost = "cost: no total, a model has no price"
        elif self.cost_high is None:
            cost = f"cost: at least {_dollars(self.cost_low)} {self.currency}, no upper bound"
        else:
            cost = f"cost: {_dollars(self.cost_low)} to {_dollars(self.cost_high)} {self.currency}"
        prices = "prices: the batch tier"
        if self.prices_read_on and self.prices_source:
            prices += f", read {self.prices_read_on} from {self.prices_source}"
        if self.prices_overridden:
            prices += f"; given for {', '.join(self.prices_overridden)}"
        return [head, *table, cost, prices, *self.notes]


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _dollars(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


class _Model:
    """One model's totals, and the shard being filled as planning would fill it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests = self.tokens = self.bound = self.unbounded = self.batches = 0
        self._requests = self._bytes = self._tokens = self._inputs = 0

    def add(self, limits: ShardLimits, length: int, tokens: int, inputs: int, bound: int | None) -> None:
        # plan_shards' cut: a shard takes a request unless it is full by count, bytes, embedding inputs or tokens.
        if self._requests and (
            self._requests >= limits.max_requests
            or self._bytes + length + 1 > limits.max_bytes
            or self._inputs + inputs > limits.max_embedding_inputs
            or ((limit := limits.tokens_for(self.name)) is not None and self._tokens + tokens > limit)
        ):
            self.batches += 1
            self._requests = self._bytes = self._tokens = self._inputs = 0
        self._requests += 1
        self._bytes += length + 1
        self._tokens += tokens
        self._inputs += inputs
        self.requests += 1
        self.tokens += tokens
        if bound is None:
            self.unbounded += 1
        else:
            self.bound += bound

    def estimate(self, table: PriceTable) -> ModelEstimate:
        bound = None if self.unbounded else self.bound
        price = table.lookup(self.name) if self.name != NO_MODEL else None
        low = high = None
        if price is not None:
            low = price.cost(self.tokens, 0, 0)
            high = None if bound is None else price.cost(self.tokens, 0, bound)
        return ModelEstimate(
            model=self.name,
            requests=self.requests,
            batches=self.batches + (1 if self._requests else 0),
            input_tokens=self.tokens,
            max_output_tokens=bound,
            unbounded=self.unbounded,
            cost_low=low,
            cost_high=high,
        )


class _Tally:
    def __init__(self, limits: ShardLimits) -> None:
        self.limits = limits
        self.models: dict[str, _Model] = {}

    def add(self, model: str, length: int, tokens: int, inputs: int, bound: int | None) -> None:
        name = model or NO_MODEL
        entry = self.models.get(name)
        if entry is None:
            entry = self.models[name] = _Model(name)
        entry.add(self.limits, length, tokens, inputs, bound)

    def result(self, endpoint: str, estimator: str, table: PriceTable) -> JobEstimate:
        models = {name: model.estimate(table) for name, model in self.models.items()}
        notes: list[str] = []
        unpriced = [name for name, model in models.items() if model.cost_low is None]
        if unpriced:
            notes.append(table.unknown_note(unpriced))
        for model in models.values():
            if model.unbounded:
                notes.append(
                    f"{model.model}: {model.unbounded:,} of {model.requests:,} requests state no bound on their "
                    "output (max_completion_tokens, max_tokens or max_output_tokens), so there is no upper cost"
                )
        bounds = [model.max_output_tokens for model in models.values()]
        lows = [model.cost_low for model in models.values()]
        highs = [model.cost_high for model in models.values()]
        return JobEstimate(
            endpoint=endpoint,
            requests=sum(model.requests for model in models.values()),
            batches=sum(model.batches for model in models.values()),
            models=models,
            input_tokens=sum(model.input_tokens for model in models.values()),
            max_output_tokens=None if None in bounds else sum(b or 0 for b in bounds),
            cost_low=None if None in lows else sum(low or 0.0 for low in lows),
            cost_high=None if None in highs else sum(high or 0.0 for high in highs),
            currency=table.currency,
            token_estimator=estimator,
            prices_source=table.source,
            prices_read_on=table.read_on,
            prices_overridden=tuple(sorted(table.overridden)),
            notes=tuple(notes),
        )


class _CustomIds:
    """Every custom_id seen so far, in a SQLite file: a duplicate is found as the job's store would find it."""

    def __init__(self, folder: Path, shown: Path | None) -> None:
        self._db = sqlite3.connect(folder / "custom_ids.sqlite3", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE ids (custom_id TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        self._shown = shown
        self._chunk: list[tuple[str, int]] = []

    def add(self, custom_id: str, line: int) -> None:
        self._chunk.append((custom_id, line))
        if len(self._chunk) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        chunk, self._chunk = self._chunk, []
        try:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO ids (custom_id, line) VALUES (?, ?)", chunk)
            self._db.execute("COMMIT")
        except sqlite3.IntegrityError:
            self._db.execute("ROLLBACK")
            self._duplicate(chunk)

    def _duplicate(self, chunk: list[tuple[str, int]]) -> None:
        # Again one by one, to name the first line that repeats a custom_id and the line that used it first.
        for custom_id, line in chunk:
            first = self._db.execute("SELECT line FROM ids WHERE custom_id = ?", (custom_id,)).fetchone()
            if first is not None:
                raise BatchInputError(
                    "duplicate_custom_id",
                    f"custom_id {custom_id!r} is already used on line {first[0]}; custom_ids must be unique in a job",
                    line=line,
                    custom_id=custom_id,
                    path=self._shown,
                )
            self._db.execute("INSERT INTO ids (custom_id, line) VALUES (?, ?)", (custom_id, line))

    def close(self) -> None:
        self._db.close()


def shard_limits(
    max_batch_requests: int | None,
    enqueued_token_limit: int | Mapping[str, int] | None,
    rules: ProviderRules = OPENAI_RULES,
) -> ShardLimits:
    """The shard limits of a job created with these settings on the service of `rules`, checked as `jobs.create`
    checks them."""
    settings = JobSettings(enqueued_token_limit=enqueued_token_limit, max_batch_requests=max_batch_requests)
    check_batch_requests(max_batch_requests, rules)
    limit = settings.enqueued_token_limit
    limits = ShardLimits(
        max_requests=rules.max_requests,
        max_bytes=rules.max_bytes,
        max_embedding_inputs=rules.max_embedding_inputs,
        max_tokens=limit if isinstance(limit, int) else None,
        model_tokens=limit if isinstance(limit, Mapping) else None,
    )
    if max_batch_requests is not None:
        limits = dataclasses.replace(limits, max_requests=min(limits.max_requests, max_batch_requests))
    return limits


def estimate_input(
    requests: JobInput,
    *,
    endpoint: object = None,
    prices: PricesArg | None = None,
    token_estimator: TokenEstimator | None = None,
    max_batch_requests: int | None = None,
    enqueued_token_limit: int | Mapping[str, int] | None = None,
    rules: ProviderRules = OPENAI_RULES,
) -> JobEstimate:
    """The estimate of the job `jobs.create` would make of `requests` with these settings; nothing is sent.

    Refuses what creation refuses (BatchInputError naming the line, InvalidParameterError naming the setting), so
    a job that can be estimated can be created.

    Args:
        requests: A JSONL path, or an iterable of `BatchRequest`s or request dicts.
        endpoint: The endpoint every request calls; read from the requests when None.
        prices: Prices per model over the shipped batch prices.
        token_estimator: Counts a request's input tokens, as `(endpoint, body) -> tokens`.
        max_batch_requests: The most requests in one batch.
        enqueued_token_limit: The most input tokens enqueued at once, for every model or per model.
        rules: The limits of the service the job would run on (a client's jobs pass their own).

    Returns:
        The estimate.

    Raises:
        InvalidParameterError: An argument was refused.
        BatchInputError: A request breaks the service's rules.
    """
    target = check_job_endpoint(None if endpoint is None else check_endpoint(endpoint), rules)
    if token_estimator is not None and not callable(token_estimator):
        raise InvalidParameterError("token_estimator", "expected a callable (endpoint, body) -> tokens")
    limits = shard_limits(max_batch_requests, enqueued_token_limit, rules)
    table = price_table(prices)
    estimator = token_estimator or default_estimator()
    with tempfile.TemporaryDirectory(prefix="openai-batches-estimate-") as temporary:
        folder = Path(temporary)
        if isinstance(requests, str | os.PathLike):
            path = Path(requests).expanduser().resolve()
            if not path.is_file():
                raise InvalidParameterError("requests", f"no such file: {str(path)!r}")
            return _estimate_file(path, target, estimator, limits, table, folder, shown=path, check=rules.line_check)
        if isinstance(requests, bytes | bytearray | Mapping) or not isinstance(requests, Iterable):
            raise InvalidParameterError(
                "requests", f"expected a JSONL path or an iterable of requests, got {type(requests).__name__}"
            )
        with spooled(requests, target, folder) as (temp, _digest, first_endpoint):
            return _estimate_file(
                temp, target or first_endpoint, estimator, limits, table, folder, shown=None, check=rules.line_check
            )


def _estimate_file(
    path: Path,
    endpoint: str | None,
    estimator: TokenEstimator,
    limits: ShardLimits,
    table: PriceTable,
    folder: Path,
    *,
    shown: Path | None,
    check: LineCheck | None = None,
) -> JobEstimate:
    names: list[str] = []

    def model_id(name: str) -> int:
        names.append(name)
        return len(names) - 1

    scan = Scan(path, endpoint, estimator, model_id, token_limit=limits.tokens_for, shown_path=shown, line_check=check)
    tally = _Tally(limits)
    ids = _CustomIds(folder, shown)
    try:
        for number, custom_id, _offset, length, tokens, inputs, model, _digest, bound in scan.rows():
            ids.add(custom_id, number)
            tally.add(names[model], length, tokens, inputs, bound)
        ids.flush()
    finally:
        ids.close()
    if scan.requests == 0:
        raise InvalidParameterError("requests", f"{str(shown or 'the input')!r} holds no requests")
    return tally.result(scan.endpoint or "", getattr(estimator, "name", type(estimator).__name__), table)


def estimate_job(store: JobStore, job: JobRecord, prices: PricesArg | None) -> JobEstimate:
    """The estimate of a created job, whole, from what its store holds: the tokens its estimator counted and the
    output bounds its requests state, read when it was created (its input is not read again).

    Args:
        store: The open job store.
        job: The job's record in it.
        prices: Prices per model over the shipped batch prices.

    Returns:
        The estimate of the whole job.

    Raises:
        InvalidParameterError: `prices` was refused.
    """
    table = price_table(prices)
    names = store.models(job.id)
    tally = _Tally(ShardLimits.of(job))
    for model, length, tokens, inputs, bound in store.request_sizes(job.id):
        tally.add(names.get(model, ""), length, tokens, inputs, bound)
    return tally.result(job.endpoint, job.token_estimator, table)
