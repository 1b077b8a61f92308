"""The three small files that say what openapi.yaml vendors and where it departs from upstream (under spec/).

- operations.yaml: the operations vendored, `METHOD /path`, nothing else;
- overrides.yaml: each deliberate departure from the upstream document, with its reason;
- descriptions.yaml: our short descriptions, used where upstream has none or a long one.

Locations name a place in the fragment: `Schema`, `Schema.property`, `Schema.property[]` (array items),
`Schema{}` (map values), `METHOD /path` (an operation), `METHOD /path?name` (a parameter), `METHOD /path 200` (the
response). Schemas go by the names they have in openapi.yaml: upstream's, or the name given to an inline schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .yaml_io import SpecError, read_yaml

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_OPERATION = re.compile(r"(?P<method>[A-Za-z]+) (?P<path>/\S*)")
# Keywords a bounds override may set: limits only, never the shape of a value.
BOUND_KEYWORDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
)
NESTED_BOUND_KEYWORDS = frozenset({"propertyNames", "additionalProperties", "items"})


@dataclass(frozen=True, order=True)
class Operation:
    path: str
    method: str  # lower case

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def parse_operation(text: object, where: str) -> Operation:
    match = _OPERATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or match["method"].lower() not in METHODS:
        raise SpecError(f"{where}: {text!r} is not an operation; write it as `METHOD /path`, e.g. `GET /batches`")
    return Operation(match["path"], match["method"].lower())


@dataclass(frozen=True)
class Override:
    section: str
    location: str
    value: Any
    reason: str


# section -> (the key holding its value, or None for an entry with a reason only; what the value must be)
SECTIONS: dict[str, tuple[str | None, str]] = {
    "schema_names": ("name", "a schema name"),
    "known_values": ("enum", "the name of an enum schema"),
    "enum_member_names": ("names", "a mapping of enum value to member name"),
    "dropped_values": ("values", "a list of enum values"),
    "nullable": (None, ""),
    "bounds": ("bounds", "a mapping of bound keywords"),
    "binary_responses": ("media_type", "a media type"),
    "form_brackets": (None, ""),
}


@dataclass(frozen=True)
class Overrides:
    entries: tuple[Override, ...] = ()

    def section(self, name: str) -> dict[str, Override]:
        return {e.location: e for e in self.entries if e.section == name}


@dataclass(frozen=True)
class Config:
    operations: tuple[Operation, ...]
    overrides: Overrides = field(default_factory=Overrides)
    descriptions: Mapping[str, str] = field(default_factory=dict)


def _check_bounds(value: object, where: str) -> None:
    if not isinstance(value, Mapping) or not value:
        raise SpecError(f"{where}: `bounds` must be a mapping of bound keywords")
    for key, inner in value.items():
        if key in NESTED_BOUND_KEYWORDS:
            _check_bounds(inner, f"{where} {key}")
        elif key not in BOUND_KEYWORDS:
            allowed = ", ".join([*BOUND_KEYWORDS, *sorted(NESTED_BOUND_KEYWORDS)])
            raise SpecError(f"{where}: {key!r} is not a bound keyword (allowed: {allowed})")


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _check_value(section: str, value: object, where: str) -> None:
    if section == "bounds":
        _check_bounds(value, where)
    elif section == "enum_member_names":
        names = list(value.values()) if isinstance(value, Mapping) else []
        if not names or not all(isinstance(v, str) and re.fullmatch(r"[A-Z][A-Z0-9_]*", v) for v in names):
            raise SpecError(f"{where}: `names` must map each enum value to an UPPER_CASE member name")
    elif section == "dropped_values":
        if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
            raise SpecError(f"{where}: `values` must list the enum values to leave out, e.g. [/v1/videos]")
    elif not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: the value must be {SECTIONS[section][1]}")


def parse_overrides(data: object, source: str) -> Overrides:
    if data is None:
        return Overrides()
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: expected a mapping of sections ({', '.join(SECTIONS)})")
    entries: list[Override] = []
    for section, items in data.items():
        if section not in SECTIONS:
            raise SpecError(f"{source}: unknown section {section!r} (known: {', '.join(SECTIONS)})")
        if not isinstance(items, Mapping):
            raise SpecError(f"{source}: section {section} must map locations to entries")
        value_key, _ = SECTIONS[section]
        for location, entry in items.items():
            where = f"{source}: {section}: {location}"
            if not isinstance(entry, Mapping):
                raise SpecError(f"{where}: an entry is a mapping with a `reason`")
            reason = entry.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise SpecError(f"{where}: every override needs a `reason` saying why we depart from upstream")
            expected = {"reason"} | ({value_key} if value_key else set())
            if set(entry) != expected:
                want = " and ".join(f"`{k}`" for k in sorted(expected))
                raise SpecError(f"{where}: expected exactly {want}, got {', '.join(map(str, entry))}")
            value = entry[value_key] if value_key else True
            if value_key:
                _check_value(section, value, where)
            entries.append(Override(section, str(location), value, reason.strip()))
    return Overrides(tuple(entries))


def parse_operations(data: object, source: str) -> tuple[Operation, ...]:
    items = data.get("operations") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not items:
        raise SpecError(f"{source}: expected `operations:` with a list of `METHOD /path` entries")
    operations = [parse_operation(item, source) for item in items]
    seen: set[Operation] = set()
    for op in operations:
        if op in seen:
            raise SpecError(f"{source}: {op.label} is listed twice")
        seen.add(op)
    return tuple(operations)


def parse_descriptions(data: object, source: str) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise SpecError(f"{source}: expected a mapping of locations to one-line descriptions")
    return {str(k): " ".join(str(v).split()) for k, v in data.items()}


def load_config(spec_dir: Path) -> Config:
    """Read operations.yaml, overrides.yaml and descriptions.yaml from `spec_dir`."""
    operations = spec_dir / "operations.yaml"
    overrides = spec_dir / "overrides.yaml"
    descriptions = spec_dir / "descriptions.yaml"
    return Config(
        parse_operations(read_yaml(operations, "operations"), str(operations)),
        parse_overrides(read_yaml(overrides, "overrides"), str(overrides)),
        parse_descriptions(read_yaml(descriptions, "descriptions"), str(descriptions)),
    )
