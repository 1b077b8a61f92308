"""Batch-tier prices: the table shipped with the package, and the caller's overrides on top of it.

The shipped table is data (`data/batch_prices.json`), with the date it was read and the page it was read from, so a
price change is a one-line edit that says where it came from. A model the table does not know has no price: callers
say so instead of costing it at $0.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import attrs

from ._exceptions import InvalidParameterError

__all__ = ["BATCH_PRICES", "ModelPrice", "PriceTable", "PricesArg", "price_table"]


@attrs.frozen(kw_only=True)
class ModelPrice:
    """Batch prices of one model in dollars per million tokens; cached input defaults to the input price."""

    input: float
    output: float
    cached_input: float | None = None

    @classmethod
    def of(cls, value: object, model: str) -> ModelPrice:
        """A `ModelPrice` from what `prices=` takes for one model.

        Args:
            value: A `ModelPrice`, or a mapping with `input`, `output` and optionally `cached_input`.
            model: The model the price is for, named in the error.

        Returns:
            The price.

        Raises:
            InvalidParameterError: `value` is neither, or a price is negative or not finite.
        """
        if isinstance(value, ModelPrice):
            return value
        if isinstance(value, Mapping) and {"input", "output"} <= set(value):
            numbers = {key: value[key] for key in ("input", "output", "cached_input") if value.get(key) is not None}
            if all(_is_price(n) for n in numbers.values()):
                return cls(**{key: float(n) for key, n in numbers.items()})
        raise InvalidParameterError(
            "prices",
            f"the price of {model!r} must be a ModelPrice or a mapping with 'input', 'output' (and optionally "
            f"'cached_input'), dollars per million tokens; got {value!r}",
        )

    def cost(self, input_tokens: int, cached_tokens: int, output_tokens: int) -> float:
        """Dollars for these tokens; `cached_tokens` are part of `input_tokens`, as the service's `usage` counts.

        Args:
            input_tokens: Input tokens, cached ones included.
            cached_tokens: The cached part of `input_tokens`.
            output_tokens: Output tokens.

        Returns:
            The cost in dollars.
        """
        cached_price = self.input if self.cached_input is None else self.cached_input
        uncached = max(input_tokens - cached_tokens, 0)
        return (uncached * self.input + cached_tokens * cached_price + output_tokens * self.output) / 1_000_000


def _is_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < math.inf


PricesArg = Mapping[str, ModelPrice | Mapping[str, float]]
"""What `prices=` takes: per model, a `ModelPrice` or a mapping with `input`, `output` and optionally
`cached_input`, in dollars per million batch tokens."""

# A dated snapshot ("gpt-4o-mini-2024-07-18") is priced as its model unless the table names it.
_SNAPSHOT = re.compile(r"^(?P<model>.+?)-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


@attrs.frozen(kw_only=True)
class PriceTable:
    """Per-model batch prices, with where they came from. `lookup` is None for a model it does not know."""

    models: Mapping[str, ModelPrice]
    currency: str = "USD"
    read_on: str | None = None
    """When the shipped prices were read from `source` (None for prices the caller gave)."""
    source: str | None = None
    overridden: frozenset[str] = frozenset()
    """Models whose price the caller gave."""

    def lookup(self, model: str) -> ModelPrice | None:
        """The price of a model; a dated snapshot (`gpt-4o-mini-2024-07-18`) has its model's unless listed.

        Args:
            model: The model name, as a request names it.

        Returns:
            The price, or None for a model the table does not know.
        """
        price = self.models.get(model)
        if price is None:
            snapshot = _SNAPSHOT.match(model)
            if snapshot is not None:
                price = self.models.get(snapshot["model"])
        return price

    def with_overrides(self, prices: PricesArg | None) -> PriceTable:
        """This table with the caller's prices on top (they win, model by model).

        Args:
            prices: Per model, a `ModelPrice` or a mapping with `input`, `output` and optionally `cached_input`;
                None for none.

        Returns:
            A new table; this one is unchanged.

        Raises:
            InvalidParameterError: `prices` is not such a mapping.
        """
        if prices is None:
            return self
        if not isinstance(prices, Mapping):
            raise InvalidParameterError("prices", f"expected a mapping of model to price, got {type(prices).__name__}")
        given: dict[str, ModelPrice] = {}
        for model, value in prices.items():
            if not isinstance(model, str) or not model:
                raise InvalidParameterError("prices", f"a model name must be a non-empty string, got {model!r}")
            given[model] = ModelPrice.of(value, model)
        return attrs.evolve(self, models={**self.models, **given}, overridden=self.overridden | frozenset(given))

    def unknown_note(self, models: list[str]) -> str:
        """What to tell a caller about models without a price: which, and how to give one.

        Args:
            models: The models without a price; at least one.

        Returns:
            The note, one line.
        """
        names = ", ".join(sorted(models))
        example = sorted(models)[0]
        return (
            f"no batch price known for {names}: no total cost (give one with prices={{{example!r}: "
            f"{{'input': ..., 'output': ...}}}} or --price {example}=IN,OUT, dollars per million tokens)"
        )

    def describe(self) -> str:
        """Where the prices came from, for a report line.

        Returns:
            "batch prices read <date> from <source>", or that the caller gave them.
        """
        if self.read_on and self.source:
            return f"batch prices read {self.read_on} from {self.source}"
        return "batch prices given by the caller"


@cache
def _shipped() -> PriceTable:
    document: dict[str, Any] = json.loads(
        resources.files(__package__).joinpath("data", "batch_prices.json").read_text(encoding="utf-8")
    )
    return PriceTable(
        models={model: ModelPrice.of(value, model) for model, value in document["models"].items()},
        currency=document["currency"],
        read_on=document["read_on"],
        source=document["source"],
    )


def price_table(prices: PricesArg | None = None) -> PriceTable:
    """The shipped batch prices with `prices` (the caller's, per model) on top.

    Args:
        prices: Per model, a `ModelPrice` or a mapping with `input`, `output` and optionally `cached_input`.

    Returns:
        The table.

    Raises:
        InvalidParameterError: `prices` was refused.
    """
    return _shipped().with_overrides(prices)


BATCH_PRICES: PriceTable = _shipped()
"""The batch-tier prices shipped with this version of the package."""
