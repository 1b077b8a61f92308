"""What changed between two versions of the fragment, in API terms: operations, parameters, fields, enum values.

The one comparison of the project: `make update-spec` prints it as the changelog of an update, `make check-spec`
and `make spec-drift` print it for the difference between the committed openapi.yaml and what the tool would write.
Both sides are fragments shaped by the same rules, so schemas compare by name and structure, not by spelling.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import BOUND_KEYWORDS

SCHEMA_REF = "#/components/schemas/"
# A response field the fragment requires only because the client reads its absence as null (derive.py).
ABSENT_IS_NULL = "x-absent-is-null"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@dataclass(frozen=True)
class Change:
    where: str
    sign: str  # "+" added, "-" removed, "~" changed
    what: str

    def line(self) -> str:
        return f"{self.where}: {self.sign} {self.what}"


def _map(value: object) -> Mapping[str, Any]:
    # Either side may be a hand-edited file: a part of the wrong kind compares as absent, never as a crash.
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: object) -> set[str]:
    return {item for item in _list(value) if isinstance(item, str)}


def _required(schema: Mapping[str, Any]) -> set[str]:
    """The fields the API promises to send: listed as required and not only filled by the client."""
    properties = _map(schema.get("properties"))
    return {p for p in _names(schema.get("required")) if _map(properties.get(p)).get(ABSENT_IS_NULL) is not True}


def summarize(schema: object) -> str:
    """A schema as a short type expression: `BatchStatus | string | null`, `array of Batch`, `binary`."""
    if not isinstance(schema, Mapping):
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return ref.removeprefix(SCHEMA_REF)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list):
            glue = " & " if key == "allOf" else " | "
            return glue.join(summarize(part) for part in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {summarize(schema.get('items'))}"
    if "enum" in schema:
        return "enum of " + ", ".join(json.dumps(v, default=str) for v in _list(schema["enum"]))
    if schema.get("format") == "binary":
        return "binary"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    return str(kind) if kind else "any"


def _bounds(schema: object) -> str:
    if not isinstance(schema, Mapping):
        return ""
    parts = [f"{k} {schema[k]}" for k in BOUND_KEYWORDS if k in schema]
    for key in ("propertyNames", "additionalProperties", "items"):
        inner = _bounds(schema.get(key))
        if inner:
            parts.append(f"{key} ({inner})")
    return ", ".join(parts)


def _operations(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for path, item in _map(doc.get("paths")).items():
        if isinstance(item, Mapping):
            for method in METHODS:
                if isinstance(item.get(method), Mapping):
                    found[f"{method.upper()} {path}"] = item[method]
    return found


def _schemas(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    schemas = _map(_map(doc.get("components")).get("schemas"))
    return {str(k): v for k, v in schemas.items() if isinstance(v, Mapping)}


class _Comparison:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.descriptions: list[str] = []

    def add(self, where: str, sign: str, what: str) -> None:
        self.changes.append(Change(where, sign, what))

    def value(self, where: str, label: str, old: object, new: object) -> None:
        """A schema used somewhere (a field, a parameter, a body): its type and bounds."""
        before, after = summarize(old), summarize(new)
        if before != after:
            self.add(where, "~", f"{label}: {before} -> {after}")
        before, after = _bounds(old), _bounds(new)
        if before != after:
            self.add(where, "~", f"{label} bounds: {before or 'none'} -> {after or 'none'}")
        if isinstance(old, Mapping) and isinstance(new, Mapping) and old.get("description") != new.get("description"):
            self.descriptions.append(f"{where} {label}".strip())

    def schema(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        if ("enum" in old) != ("enum" in new) or old.get("type") != new.get("type"):
            self.add(name, "~", f"{summarize(old)} -> {summarize(new)}")
            return
        old_values, new_values = _list(old.get("enum")), _list(new.get("enum"))
        self.changes.extend(
            Change(name, "+", f"value {json.dumps(v, default=str)}") for v in new_values if v not in old_values
        )
        self.changes.extend(
            Change(name, "-", f"value {json.dumps(v, default=str)}") for v in old_values if v not in new_values
        )
        old_props, new_props = _map(old.get("properties")), _map(new.get("properties"))
        old_req, new_req = _required(old), _required(new)
        for prop, schema in new_props.items():
            if prop not in old_props:
                need = "required" if prop in new_req else "optional"
                self.add(name, "+", f"field {prop} ({need}, {summarize(schema)})")
        for prop, schema in old_props.items():
            if prop not in new_props:
                self.add(name, "-", f"field {prop} ({summarize(schema)})")
        for prop in (p for p in new_props if p in old_props):
            self.value(name, f"field {prop}", old_props[prop], new_props[prop])
            if (prop in old_req) != (prop in new_req):
                now = "required" if prop in new_req else "optional"
                self.add(name, "~", f"field {prop} is now {now}")
        if "additionalProperties" in old or "additionalProperties" in new:
            self.value(name, "map values", old.get("additionalProperties"), new.get("additionalProperties"))
        before, after = (
            _bounds({k: v for k, v in old.items() if k != "additionalProperties"}),
            _bounds({k: v for k, v in new.items() if k != "additionalProperties"}),
        )
        if before != after:
            self.add(name, "~", f"bounds: {before or 'none'} -> {after or 'none'}")
        if old.get("description") != new.get("description"):
            self.descriptions.append(name)

    def operation(self, label: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        def params(op: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
            return {
                f"{p.get('name')} ({p.get('in')})": p for p in _list(op.get("parameters")) if isinstance(p, Mapping)
            }

        old_params, new_params = params(old), params(new)
        for key, param in new_params.items():
            if key not in old_params:
                need = "required" if param.get("required") else "optional"
                self.add(label, "+", f"parameter {key}, {need}, {summarize(param.get('schema'))}")
        for key in old_params.keys() - new_params.keys():
            self.add(label, "-", f"parameter {key}")
        for key in (k for k in new_params if k in old_params):
            self.value(label, f"parameter {key}", old_params[key].get("schema"), new_params[key].get("schema"))
            if bool(old_params[key].get("required")) != bool(new_params[key].get("required")):
                now = "required" if new_params[key].get("required") else "optional"
                self.add(label, "~", f"parameter {key} is now {now}")
        self.content(label, "request body", old.get("requestBody"), new.get("requestBody"))
        self.content(
            label, "200 response", _map(old.get("responses")).get("200"), _map(new.get("responses")).get("200")
        )
        if old.get("summary") != new.get("summary"):
            self.descriptions.append(label)

    def content(self, label: str, what: str, old: object, new: object) -> None:
        def media(node: object) -> dict[str, object]:
            content = node.get("content") if isinstance(node, Mapping) else None
            if not isinstance(content, Mapping):
                return {}
            return {str(k): v.get("schema") if isinstance(v, Mapping) else None for k, v in content.items()}

        if (old is None) != (new is None):
            self.add(label, "+" if old is None else "-", what)
            return
        old_media, new_media = media(old), media(new)
        for mt in new_media.keys() - old_media.keys():
            self.add(label, "+", f"{what} as {mt} ({summarize(new_media[mt])})")
        for mt in old_media.keys() - new_media.keys():
            self.add(label, "-", f"{what} as {mt}")
        for mt in (m for m in new_media if m in old_media):
            self.value(label, f"{what} ({mt})", old_media[mt], new_media[mt])
        if isinstance(old, Mapping) and isinstance(new, Mapping) and old.get("required") != new.get("required"):
            self.add(label, "~", f"{what} is now {'required' if new.get('required') else 'optional'}")


@dataclass(frozen=True)
class Changelog:
    changes: tuple[Change, ...]
    descriptions: tuple[str, ...]
    """Places whose description changed (not an API change; listed so a text-only difference is explained)."""

    def lines(self) -> list[str]:
        lines = [change.line() for change in self.changes]
        if self.descriptions:
            shown = ", ".join(self.descriptions[:8]) + (", ..." if len(self.descriptions) > 8 else "")
            lines.append(f"descriptions changed ({len(self.descriptions)}): {shown}")
        return lines


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changelog:
    """The changes that turn fragment `old` into fragment `new`, operations first, then schemas by name."""
    comparison = _Comparison()
    old_ops, new_ops = _operations(old), _operations(new)
    for label in new_ops:
        if label not in old_ops:
            comparison.add(label, "+", "operation")
    for label in old_ops:
        if label not in new_ops:
            comparison.add(label, "-", "operation")
    for label in (label for label in new_ops if label in old_ops):
        comparison.operation(label, old_ops[label], new_ops[label])
    old_schemas, new_schemas = _schemas(old), _schemas(new)
    for name in sorted(old_schemas.keys() | new_schemas.keys()):
        if name not in old_schemas:
            comparison.add(name, "+", f"schema ({summarize(new_schemas[name])})")
        elif name not in new_schemas:
            comparison.add(name, "-", "schema")
        else:
            comparison.schema(name, old_schemas[name], new_schemas[name])
    return Changelog(tuple(comparison.changes), tuple(comparison.descriptions))
