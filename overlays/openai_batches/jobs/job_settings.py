"""What `jobs.create` is given besides a name: the input it reads (`JobInput`) and the tunables (`JobSettings`).

A module of its own so that the modules that only read settings or take an input, the cost estimate first, need
not import `creation`, which builds on `Job`; the import then goes one way, from creation to here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .._config import NOT_GIVEN, NotGiven
from .._exceptions import InvalidParameterError
from ..batch_input import BatchInput, BatchRequest
from ..prices import PricesArg
from .budget import check_max_cost, prices_json
from .provider_rules import MAX_BATCH_REQUESTS

__all__ = ["DEFAULT_MAX_ATTEMPTS", "DEFAULT_MAX_IN_FLIGHT", "JobInput", "JobSettings"]

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_IN_FLIGHT = 8

JobInput = str | os.PathLike[str] | BatchInput | Iterable[BatchRequest | Mapping[str, Any]]


@dataclass(frozen=True)
class JobSettings:
    """The tunables of `jobs.create`; NOT_GIVEN keeps an existing job's value (a new job gets the default)."""

    max_attempts: int | NotGiven = NOT_GIVEN
    max_in_flight: int | NotGiven = NOT_GIVEN
    # One limit for every model, or one per model (on Azure OpenAI, per deployment: each has its own quota).
    enqueued_token_limit: int | Mapping[str, int] | NotGiven | None = NOT_GIVEN
    max_batch_requests: int | NotGiven | None = NOT_GIVEN
    # The cost budget in dollars (None: no cap; see `budget.py`) and the caller's prices it is counted at.
    max_cost: float | NotGiven | None = NOT_GIVEN
    prices: PricesArg | NotGiven | None = NOT_GIVEN

    def __post_init__(self) -> None:
        _count("max_attempts", self.max_attempts, maximum=100)
        _count("max_in_flight", self.max_in_flight)
        if isinstance(self.enqueued_token_limit, Mapping):
            object.__setattr__(self, "enqueued_token_limit", _per_model(self.enqueued_token_limit))
        else:
            _count("enqueued_token_limit", self.enqueued_token_limit, optional=True)
        _count("max_batch_requests", self.max_batch_requests, optional=True, maximum=MAX_BATCH_REQUESTS)
        if self.max_cost is not NOT_GIVEN:
            object.__setattr__(self, "max_cost", check_max_cost(self.max_cost))
        if self.prices is not NOT_GIVEN:
            prices_json(self.prices)  # refused now, by name, rather than when the job is written

    def given(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (
                ("max_attempts", self.max_attempts),
                ("max_in_flight", self.max_in_flight),
                *self._token_limits(),
                ("max_batch_requests", self.max_batch_requests),
                ("max_cost", self.max_cost),
                ("prices", NOT_GIVEN if self.prices is NOT_GIVEN else prices_json(self.prices)),
            )
            if value is not NOT_GIVEN
        }

    def _token_limits(self) -> list[tuple[str, object]]:
        """The job's columns for `enqueued_token_limit`: one number for every model, or a JSON mapping per model."""
        value = self.enqueued_token_limit
        if value is NOT_GIVEN:
            return []
        if isinstance(value, Mapping):
            return [("enqueued_token_limit", None), ("token_limits", json.dumps(dict(sorted(value.items()))))]
        return [("enqueued_token_limit", value), ("token_limits", None)]


def _per_model(limits: Mapping[Any, object]) -> dict[str, int]:
    if not limits:
        raise InvalidParameterError("enqueued_token_limit", "expected a limit for at least one model, got {}")
    checked: dict[str, int] = {}
    for model, limit in limits.items():
        if not isinstance(model, str) or not model:
            raise InvalidParameterError("enqueued_token_limit", f"expected model names as keys, got {model!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidParameterError(
                "enqueued_token_limit", f"expected a whole number from 1 for {model!r}, got {limit!r}"
            )
        checked[model] = limit
    return checked


def _count(name: str, value: object, *, optional: bool = False, maximum: int | None = None) -> None:
    if value is NOT_GIVEN or (optional and value is None):
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum is not None and value > maximum):
        upper = f" to {maximum:,}" if maximum is not None else ""
        none = " or None" if optional else ""
        raise InvalidParameterError(name, f"expected a whole number from 1{upper}{none}, got {value!r}")
