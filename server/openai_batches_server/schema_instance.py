"""A small JSON value that satisfies a JSON Schema: what the offline server answers where a model would fill a
`json_schema` response format or a function's `parameters`.

The local server has no model, yet a pipeline that parses structured answers (pydantic, instructor) is only tested
offline if each answer fits the schema the request sent. So this builds an instance instead of guessing one:

- `type` (one or a list, `null` included), `enum`, `const`;
- objects: `properties`, `required`, `additionalProperties`, `patternProperties`, `propertyNames`,
  `minProperties`/`maxProperties`, `dependentRequired`; optional properties are filled too (a parser meets every
  field it declares), except deep down or in recursion, where only what is required is built;
- arrays: `items` (or the older tuple form with `additionalItems`), `prefixItems`, `minItems`/`maxItems`,
  `uniqueItems`, `contains` with `minContains`/`maxContains`;
- strings: `minLength`/`maxLength`, `pattern` (see `pattern_sample`), and `format` for the common formats;
- numbers: `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum` (both the number and the older boolean form),
  `multipleOf`, checked the way `jsonschema` checks it, float division included;
- `allOf` (merged), `anyOf`, `oneOf` (a branch whose value matches no other branch), `not`, `if`/`then`/`else`;
- `$ref` to `#`, `#/$defs/...`, `#/definitions/...` or any other pointer inside the schema.

Keywords not listed (title, description, default, examples, ...) are annotations and are ignored.

The same schema and seed always give the same value; the seed only moves free choices (string text, which enum
member, a number within its bounds), so lines with different custom_ids get different but equally valid answers.

A schema no value satisfies, or one that is malformed, raises a `SchemaProblem` whose `context` is the schema
location in the form the real API reports it (`In context=('properties', 'age'), ...`). Work is bounded (steps,
nesting, the answer's size), so a hostile schema costs its line an error, never the server its time.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeGuard
from urllib.parse import unquote

from . import pattern_sample

Context = tuple[str | int, ...]

TYPE_NAMES = ("null", "boolean", "object", "array", "number", "string", "integer")
# Where a schema says nothing about the type, the first kind its keywords allow is built, a string if none.
_KEYWORD_TYPES = (
    ("object", ("properties", "required", "additionalProperties", "patternProperties", "minProperties")),
    ("object", ("maxProperties", "propertyNames", "dependentRequired")),
    ("array", ("items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains")),
    ("string", ("minLength", "maxLength", "pattern", "format")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
)
_LOWER_BOUNDS = frozenset(("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"))
_UPPER_BOUNDS = frozenset(("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"))
_SUBSCHEMAS = frozenset(("items", "additionalProperties", "contains", "propertyNames", "additionalItems"))
_ANNOTATIONS = frozenset(
    ("title", "description", "default", "examples", "$schema", "$id", "$comment", "$defs", "definitions")
)
# Merged parts whose keywords cannot be folded into one schema are checked on the value built for the rest.
_CHECKS = "\x00checks"

# Past this nesting (or once the answer has this many values) only what the schema requires is built.
SOFT_DEPTH = 8
SOFT_NODES = 1_000
# Hard limits: a schema needing more than this gets an error line rather than an answer.
MAX_DEPTH = 64
MAX_NODES = 50_000
MAX_CHARS = 1_000_000
MAX_STEPS = 100_000
# A $ref met this many times on one path is taken to recurse without end (each repetition already builds only
# what is required).
MAX_REF_REPEATS = 12
_UNIQUE_TRIES = 16
_CARTESIAN_LIMIT = 64


class SchemaProblem(Exception):
    """A schema that gets no answer; `context` locates the problem inside it."""

    def __init__(self, context: Context, message: str) -> None:
        super().__init__(message)
        self.context = context
        self.message = message

    def describe(self) -> str:
        return f"In context={self.context!r}, {self.message}"


class MalformedSchema(SchemaProblem):
    """The schema breaks JSON Schema's own rules (a `type` that is no type, a `required` that is no list, ...)."""


class UnsatisfiableSchema(SchemaProblem):
    """No value satisfies the schema, or none that this builder can find (an exotic `pattern`, say)."""


class SchemaTooComplex(SchemaProblem):
    """An answer would take more work or be larger than one line of a batch should cost."""


def instance_of(schema: object, seed: str, *, hint: str = "value") -> Any:
    """A value valid against `schema`; `hint` names the answer and shows in its strings."""
    return _Builder(schema, seed).build(hint)


@dataclass(frozen=True)
class _At:
    """Where the builder is: the schema location (for messages), the property being filled (for readable text),
    the `$ref`s being expanded above it (for recursion), and how deep in the value it is."""

    where: Context
    hint: str
    refs: tuple[str, ...]
    depth: int
    shallow: bool

    def key(self, *parts: str | int) -> _At:
        return _At(self.where + parts, self.hint, self.refs, self.depth, self.shallow)


class _Builder:
    def __init__(self, root: object, seed: str) -> None:
        self.root = root
        # A str seed is hashed with SHA-512 by `random`, so answers do not depend on PYTHONHASHSEED.
        self.rng = random.Random(seed)
        self.steps = 0
        self.nodes = 0
        self.chars = 0

    def build(self, hint: str) -> Any:
        return self.value(self.root, _At((), hint, (), 0, False))

    # --- bookkeeping ---

    def _tick(self, where: Context) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise SchemaTooComplex(where, "the schema needs more work than the offline server spends on one answer")

    def _emitted(self, where: Context, chars: int = 0) -> None:
        self.nodes += 1
        self.chars += chars
        if self.nodes > MAX_NODES or self.chars > MAX_CHARS:
            raise SchemaTooComplex(
                where, "the smallest answer the schema allows is larger than the offline server builds"
            )

    # --- resolving ---

    def value(self, schema: object, at: _At, avoid: Sequence[object] = ()) -> Any:
        self._tick(at.where)
        if schema is True:
            schema = {}
        if schema is False:
            raise UnsatisfiableSchema(at.where, "the schema is false, which no value satisfies")
        if not isinstance(schema, Mapping):
            raise MalformedSchema(at.where, f"a schema must be an object or a boolean, not {_kind(schema)}")
        flat, at = self._flatten(schema, at)
        return self._combined(flat, at, avoid)

    def _flatten(self, schema: Mapping[str, Any], at: _At) -> tuple[dict[str, Any], _At]:
        """The schema with its `$ref` and `allOf` folded in, so what is left applies to the value directly."""
        flat = dict(schema)
        while True:
            self._tick(at.where)
            if "$ref" in flat:
                ref = flat.pop("$ref")
                if not isinstance(ref, str):
                    raise MalformedSchema(at.where, f"'$ref' must be a string, not {_kind(ref)}")
                if at.refs.count(ref) >= MAX_REF_REPEATS:
                    raise UnsatisfiableSchema(
                        at.where,
                        f"'$ref' {ref!r} recurses through required values without end, so no finite value satisfies it",
                    )
                target, target_where = self._lookup(ref, at.where)
                if target is False:
                    raise UnsatisfiableSchema(target_where, "the schema is false, which no value satisfies")
                if target is True:
                    target = {}
                if not isinstance(target, Mapping):
                    raise MalformedSchema(target_where, f"a schema must be an object or a boolean, not {_kind(target)}")
                at = _At(target_where, at.hint, (*at.refs, ref), at.depth, at.shallow or ref in at.refs)
                flat = self._merge(dict(target), flat, at)
                continue
            if "allOf" in flat:
                parts = _schema_list(flat.pop("allOf"), "allOf", at.where)
                for index, part in enumerate(parts):
                    if part is True:
                        continue
                    if part is False:
                        raise UnsatisfiableSchema((*at.where, "allOf", index), "the schema is false")
                    if not isinstance(part, Mapping):
                        raise MalformedSchema(
                            (*at.where, "allOf", index), f"a schema must be an object or a boolean, not {_kind(part)}"
                        )
                    flat = self._merge(flat, part, at.key("allOf", index))
                continue
            return flat, at

    def _lookup(self, ref: str, where: Context) -> tuple[object, Context]:
        if ref == "#":
            return self.root, ()
        if not ref.startswith("#/"):
            raise UnsatisfiableSchema(
                where,
                f"'$ref' {ref!r} is not supported offline: only references inside the schema, such as "
                "'#/$defs/Name', are resolved",
            )
        node: object = self.root
        path: list[str | int] = []
        for raw in ref[2:].split("/"):
            token = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and token in node:
                node = node[token]
                path.append(token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
                path.append(int(token))
            else:
                raise MalformedSchema(where, f"'$ref' {ref!r} points to nothing in this schema")
        return node, tuple(path)

    def _merge(self, first: Mapping[str, Any], second: Mapping[str, Any], at: _At) -> dict[str, Any]:
        """One schema that means both (as `allOf` does): bounds tightened, properties and requirements combined;
        whatever cannot be combined is kept as a check on the value built from the rest."""
        first, second = _closed_to_each_other(first, second, at.where)
        out = dict(first)
        checks: list[Any] = list(out.pop(_CHECKS, ()))
        for key, theirs in second.items():
            if key == _CHECKS:
                checks.extend(theirs)
                continue
            if key not in out:
                out[key] = theirs
                continue
            mine = out[key]
            if _json_equal(mine, theirs) or key in _ANNOTATIONS:
                continue
            if key == "type":
                out[key] = _intersect_types(mine, theirs, at.where)
            elif key == "required":
                out[key] = [*_names(mine, key, at.where), *_names(theirs, key, at.where)]
            elif key in ("properties", "patternProperties"):
                out[key] = _merge_maps(mine, theirs, key, at.where)
            elif key == "dependentRequired":
                both = _mapping(mine, key, at.where), _mapping(theirs, key, at.where)
                out[key] = {
                    name: [*_names(both[0].get(name, []), key, at.where), *_names(both[1].get(name, []), key, at.where)]
                    for name in {**both[0], **both[1]}
                }
            elif key == "enum":
                allowed = _enum(theirs, at.where)
                common = [item for item in _enum(mine, at.where) if any(_json_equal(item, o) for o in allowed)]
                if not common:
                    raise UnsatisfiableSchema(at.where, "the enums of its allOf parts have no value in common")
                out[key] = common
            elif key == "const":
                raise UnsatisfiableSchema(
                    at.where, f"its allOf parts require different constants, {mine!r} and {theirs!r}"
                )
            elif key in _LOWER_BOUNDS and _is_number(mine) and _is_number(theirs):
                out[key] = max(mine, theirs)
            elif key in _UPPER_BOUNDS and _is_number(mine) and _is_number(theirs):
                out[key] = min(mine, theirs)
            elif key == "uniqueItems":
                out[key] = mine is True or theirs is True
            elif key in _SUBSCHEMAS:
                if mine is False or theirs is False:
                    out[key] = False
                else:
                    out[key] = theirs if mine is True else mine if theirs is True else {"allOf": [mine, theirs]}
            elif key == "allOf":
                out[key] = [*_schema_list(mine, key, at.where), *_schema_list(theirs, key, at.where)]
            elif key == "$ref":
                out.setdefault("allOf", [])
                out["allOf"] = [*out["allOf"], {"$ref": theirs}]
            elif key == "anyOf":
                mine_list, theirs_list = _schema_list(mine, key, at.where), _schema_list(theirs, key, at.where)
                if len(mine_list) * len(theirs_list) <= _CARTESIAN_LIMIT:
                    out[key] = [{"allOf": [a, b]} for a in mine_list for b in theirs_list]
                else:
                    checks.append({key: theirs})
            elif key == "oneOf":
                # Building from one of their branches and checking "exactly one" afterwards keeps both meanings.
                checks.append({key: theirs})
                out = self._merge(out, {"anyOf": theirs}, at)
            elif key == "not":
                out[key] = {"anyOf": [mine, theirs]}
            else:
                checks.append({key: theirs})
        if checks:
            out[_CHECKS] = checks
        return out

    # --- combinators ---

    def _combined(self, flat: dict[str, Any], at: _At, avoid: Sequence[object]) -> Any:
        checks = flat.pop(_CHECKS, None)
        if checks:
            rejected = list(avoid)
            for _ in range(4):
                built = self._combined(dict(flat), at, rejected)
                if all(self.conforms(built, check) for check in checks):
                    return built
                rejected.append(built)
            raise UnsatisfiableSchema(
                at.where, "the parts of its allOf constrain the same keyword in ways no value built here satisfies"
            )
        if "anyOf" in flat:
            branches = _schema_list(flat.pop("anyOf"), "anyOf", at.where)
            failure: SchemaProblem = UnsatisfiableSchema((*at.where, "anyOf"), "no branch of its anyOf can be met")
            for index in self._order(branches, at):
                try:
                    return self.value(self._with(flat, branches[index], at), at.key("anyOf", index), avoid)
                except UnsatisfiableSchema as exc:
                    failure = exc
            raise failure
        if "oneOf" in flat:
            branches = _schema_list(flat.pop("oneOf"), "oneOf", at.where)
            failure = UnsatisfiableSchema((*at.where, "oneOf"), "no branch of its oneOf can be met")
            for index in self._order(branches, at):
                try:
                    built = self.value(self._with(flat, branches[index], at), at.key("oneOf", index), avoid)
                except UnsatisfiableSchema as exc:
                    failure = exc
                    continue
                others = [branch for number, branch in enumerate(branches) if number != index]
                if not any(self.conforms(built, branch) for branch in others):
                    return built
                failure = UnsatisfiableSchema(
                    (*at.where, "oneOf"), "every value built for a branch of its oneOf also matches another branch"
                )
                # The first value fell in an overlap: once more, steering clear of the other branches.
                apart = {"allOf": [branches[index]], "not": {"anyOf": others}}
                try:
                    return self.value(self._with(flat, apart, at), at.key("oneOf", index), avoid)
                except UnsatisfiableSchema:
                    continue
            raise failure
        if "if" in flat:
            condition = flat.pop("if")
            then, otherwise = flat.pop("then", True), flat.pop("else", True)
            try:
                return self.value(self._with(flat, {"allOf": [condition, then]}, at), at.key("then"), avoid)
            except UnsatisfiableSchema:
                pass
            built = self.value(self._with(flat, otherwise, at), at.key("else"), avoid)
            if self.conforms(built, condition):
                raise UnsatisfiableSchema((*at.where, "if"), "neither its 'then' nor its 'else' branch can be met")
            return built
        if "not" in flat:
            forbidden = flat.pop("not")
            if isinstance(forbidden, Mapping) and forbidden.keys() == {"not"}:
                return self.value(self._with(flat, forbidden["not"], at), at.key("not", "not"), avoid)
            return self._excluding(flat, forbidden, at, avoid)
        if "const" in flat or "enum" in flat:
            return self._member(flat, at, avoid)
        failure = UnsatisfiableSchema(at.where, "no type it allows can be met")
        for kind in self._types(flat, at):
            try:
                return self._typed(kind, flat, at, avoid)
            except UnsatisfiableSchema as exc:
                failure = exc
        raise failure

    def _with(self, flat: Mapping[str, Any], branch: object, at: _At) -> object:
        if branch is True:
            return dict(flat)
        if branch is False or not isinstance(branch, Mapping):
            return branch
        return self._merge(flat, branch, at)

    def _order(self, branches: Sequence[object], at: _At) -> list[int]:
        """Branches in their written order, except where recursion must end: then the ones that build least first."""
        if not at.shallow:
            return list(range(len(branches)))

        def weight(index: int) -> int:
            branch = branches[index]
            if isinstance(branch, Mapping):
                if branch.get("type") == "null":
                    return 0
                return 2 if "$ref" in branch else 1
            return 1

        return sorted(range(len(branches)), key=weight)

    def _excluding(self, flat: dict[str, Any], forbidden: object, at: _At, avoid: Sequence[object]) -> Any:
        """A value for the rest that the `not` schema rejects: the first try, then each allowed type on its own,
        each tried a few times with the rejected values kept out."""
        attempts: list[dict[str, Any]] = [flat]
        if "enum" not in flat and "const" not in flat:
            kinds = _type_list(flat["type"], at.where) if "type" in flat else list(TYPE_NAMES)
            attempts += [{**flat, "type": kind} for kind in kinds]
        rejected = list(avoid)
        for attempt in attempts:
            for _ in range(4):
                try:
                    built = self._combined(dict(attempt), at, rejected)
                except UnsatisfiableSchema:
                    break
                if not self.conforms(built, forbidden):
                    return built
                rejected.append(built)
        raise UnsatisfiableSchema((*at.where, "not"), "every value built for it also matches its 'not' schema")

    def _member(self, flat: dict[str, Any], at: _At, avoid: Sequence[object]) -> Any:
        if "const" in flat:
            candidates = [flat["const"]]
            if "enum" in flat and not any(_json_equal(flat["const"], item) for item in _enum(flat["enum"], at.where)):
                raise UnsatisfiableSchema(at.where, "its 'const' is not one of its 'enum' values")
        else:
            candidates = _enum(flat["enum"], at.where)
        rest = {key: value for key, value in flat.items() if key not in ("const", "enum")}
        if candidates:
            start = self.rng.randrange(len(candidates))
            for offset in range(len(candidates)):
                candidate = candidates[(start + offset) % len(candidates)]
                if any(_json_equal(candidate, used) for used in avoid):
                    continue
                if self.conforms(candidate, rest):
                    self._emitted(at.where)
                    return candidate
        what = "its 'const'" if "const" in flat else "none of its 'enum' values"
        raise UnsatisfiableSchema(at.where, f"{what} also satisfies its other keywords")

    def _types(self, flat: Mapping[str, Any], at: _At) -> list[str]:
        declared = flat.get("type")
        if declared is None:
            kinds = [kind for kind, keys in _KEYWORD_TYPES if any(key in flat for key in keys)]
            kinds = list(dict.fromkeys(kinds)) or ["string"]
        else:
            kinds = _type_list(declared, at.where)
            if not kinds:
                raise UnsatisfiableSchema(at.where, "its 'type' list is empty, which no value satisfies")
        if "null" in kinds:
            kinds.remove("null")
            # Deep in a recursion null ends it; elsewhere the richer value shows a parser more of the schema.
            kinds = ["null", *kinds] if at.shallow else [*kinds, "null"]
        return kinds

    # --- values ---

    def _typed(self, kind: str, flat: Mapping[str, Any], at: _At, avoid: Sequence[object]) -> Any:
        if kind == "null":
            if any(used is None for used in avoid):
                raise UnsatisfiableSchema(at.where, "null is its only value and is already used")
            self._emitted(at.where)
            return None
        if kind == "boolean":
            coin = self.rng.random() < 0.5
            options = [flag for flag in (coin, not coin) if not any(_json_equal(flag, used) for used in avoid)]
            if not options:
                raise UnsatisfiableSchema(at.where, "both booleans are already used")
            self._emitted(at.where)
            return options[0]
        if kind in ("integer", "number"):
            return self._number(flat, at, avoid, integer=kind == "integer")
        if kind == "string":
            return self._string(flat, at, avoid)
        if kind == "object":
            return self._object(flat, at)
        return self._array(flat, at, avoid)

    def _child(self, at: _At, where: Context, hint: str) -> _At:
        depth = at.depth + 1
        if depth > MAX_DEPTH:
            raise SchemaTooComplex(at.where, f"the value nests deeper than {MAX_DEPTH} levels")
        shallow = at.shallow or depth >= SOFT_DEPTH or self.nodes >= SOFT_NODES
        return _At((*at.where, *where), hint, at.refs, depth, shallow)

    def _object(self, flat: Mapping[str, Any], at: _At) -> dict[str, Any]:
        properties = _mapping(flat.get("properties", {}), "properties", at.where)
        required = list(dict.fromkeys(_names(flat.get("required", []), "required", at.where)))
        additional = flat.get("additionalProperties", True)
        patterns = _mapping(flat.get("patternProperties", {}), "patternProperties", at.where)
        for pattern in patterns:
            _compile(pattern, (*at.where, "patternProperties"))
        dependent = _mapping(flat.get("dependentRequired", {}), "dependentRequired", at.where)
        low = _count(flat, "minProperties", at.where) or 0
        high = _count(flat, "maxProperties", at.where)
        if high is not None and (len(required) > high or low > high):
            raise UnsatisfiableSchema(at.where, "it requires more properties than its 'maxProperties' allows")
        out: dict[str, Any] = {}

        def schema_for(name: str) -> tuple[object, Context] | None:
            parts: list[tuple[object, Context]] = []
            if name in properties:
                parts.append((properties[name], ("properties", name)))
            parts += [(sub, ("patternProperties", p)) for p, sub in patterns.items() if _searches(p, name)]
            if not parts:
                if additional is False:
                    return None
                parts.append((additional, ("additionalProperties",)))
            if len(parts) == 1:
                return parts[0]
            return {"allOf": [schema for schema, _ in parts]}, parts[0][1]

        def fill(name: str) -> None:
            """The property and whatever `dependentRequired` makes it bring, or an error leaving `out` as it was."""
            pending, added = [name], []
            try:
                while pending:
                    current = pending.pop(0)
                    if current in out:
                        continue
                    found = schema_for(current)
                    if found is None:
                        raise UnsatisfiableSchema(
                            (*at.where, "required"),
                            f"property {current!r} is required but not in 'properties', and 'additionalProperties' "
                            "is false",
                        )
                    schema, where = found
                    out[current] = self.value(schema, self._child(at, where, current))
                    added.append(current)
                    pending += _names(dependent.get(current, []), "dependentRequired", at.where)
            except UnsatisfiableSchema:
                for done in added:
                    del out[done]
                raise

        for name in required:
            fill(name)
        shallow = at.shallow or at.depth + 1 >= SOFT_DEPTH or self.nodes >= SOFT_NODES
        for name in properties:
            if name in out or (shallow and len(out) >= low):
                continue
            if high is not None and len(out) >= high:
                break
            try:
                fill(name)
            except UnsatisfiableSchema:
                continue
        extra = 0
        while len(out) < low:
            extra += 1
            name = f"{at.hint}_{extra}"
            if extra > low + _UNIQUE_TRIES or schema_for(name) is None:
                raise UnsatisfiableSchema(
                    (*at.where, "minProperties"),
                    "it needs more properties than its 'properties' and 'additionalProperties' allow",
                )
            if name not in out:
                fill(name)
        if high is not None and len(out) > high:
            raise UnsatisfiableSchema(
                (*at.where, "dependentRequired"), "its required properties bring more than 'maxProperties'"
            )
        if "propertyNames" in flat and not all(self.conforms(name, flat["propertyNames"]) for name in out):
            raise UnsatisfiableSchema(
                (*at.where, "propertyNames"), "a property it needs has a name that 'propertyNames' forbids"
            )
        self._emitted(at.where)
        # In the order the schema declares them, as a model writes them; required ones were only built first.
        ordered = {name: out[name] for name in properties if name in out}
        ordered.update(out)
        return ordered

    def _array(self, flat: Mapping[str, Any], at: _At, avoid: Sequence[object]) -> list[Any]:
        items = flat.get("items")
        if isinstance(items, list):
            prefix: list[Any] = items
            rest: object = flat.get("additionalItems", True)
        else:
            prefix = _schema_list(flat.get("prefixItems", []), "prefixItems", at.where, allow_empty=True)
            rest = True if items is None else items
        low = _count(flat, "minItems", at.where) or 0
        high = _count(flat, "maxItems", at.where)
        unique = flat.get("uniqueItems") is True
        contains = flat.get("contains")
        need = 0
        if contains is not None:
            least = _count(flat, "minContains", at.where)
            need = 1 if least is None else least
        most_contained = _count(flat, "maxContains", at.where) if contains is not None else None
        shallow = at.shallow or at.depth + 1 >= SOFT_DEPTH or self.nodes >= SOFT_NODES
        size = low if shallow else max(low, len(prefix) or 1)
        size = max(size, need)
        if high is not None:
            size = min(size, high)
        if rest is False:
            size = min(size, len(prefix))
        if size < low or size < need:
            raise UnsatisfiableSchema(at.where, "its 'minItems' or 'minContains' asks for more items than it allows")
        if size > MAX_NODES:
            raise SchemaTooComplex(at.where, f"'minItems' {size} is more items than the offline server builds")
        out: list[Any] = []
        for index in range(size):
            schema, where = (prefix[index], ("prefixItems", index)) if index < len(prefix) else (rest, ("items",))
            if index < need:
                schema = {"allOf": [schema, contains]}
            elif most_contained is not None:
                # Items past those that must match `contains` stay clear of it, so `maxContains` holds.
                schema = {"allOf": [schema], "not": contains}
            child = self._child(at, where, at.hint)
            if index < max(low, need):
                out.append(self._item(schema, child, out, unique, size))
                continue
            # Items beyond what the schema asks for show a parser more, but are left out when none can be built.
            try:
                out.append(self._item(schema, child, out, unique, size))
            except UnsatisfiableSchema:
                break
        if most_contained is not None and sum(self.conforms(item, contains) for item in out) > most_contained:
            raise UnsatisfiableSchema((*at.where, "maxContains"), "more of its items match 'contains' than allowed")
        self._emitted(at.where)
        return out

    def _item(self, schema: object, child: _At, done: list[Any], unique: bool, size: int) -> Any:
        if not unique:
            return self.value(schema, child)
        distinct = UnsatisfiableSchema((*child.where[:-1], "uniqueItems"), f"no {size} distinct items satisfy it")
        for _ in range(_UNIQUE_TRIES):
            try:
                built = self.value(schema, child, done)
            except UnsatisfiableSchema:
                # Only a lack of distinct values once others exist; the first item failing is the items' own fault.
                if done:
                    raise distinct from None
                raise
            if not any(_json_equal(built, other) for other in done):
                return built
        raise distinct

    def _string(self, flat: Mapping[str, Any], at: _At, avoid: Sequence[object]) -> str:
        low = _count(flat, "minLength", at.where) or 0
        high = _count(flat, "maxLength", at.where)
        if high is not None and low > high:
            raise UnsatisfiableSchema(at.where, f"'minLength' {low} is greater than 'maxLength' {high}")
        if low > MAX_CHARS:
            raise SchemaTooComplex(at.where, f"'minLength' {low} is longer than the offline server builds")
        pattern = flat.get("pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise MalformedSchema(at.where, f"'pattern' must be a string, not {_kind(pattern)}")
        form = flat.get("format")
        for _ in range(_UNIQUE_TRIES if avoid else 1):
            if pattern is not None:
                text = self._patterned(pattern, low, high, at)
            else:
                text = self._plain(form if isinstance(form, str) else None, low, high, at.hint)
            if text not in avoid:
                break
        else:
            raise UnsatisfiableSchema(at.where, "no further distinct string satisfies it")
        self._emitted(at.where, len(text))
        return text

    def _token(self, length: int = 4) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    def _plain(self, form: str | None, low: int, high: int | None, hint: str) -> str:
        maker = _FORMATS.get(form) if form else None
        if maker is not None:
            text = maker(self.rng, _slug(hint))
            if low <= len(text) and (high is None or len(text) <= high):
                return text
        text = f"{hint or 'text'} {self._token()}"
        if len(text) < low:
            text += self._token(low - len(text))
        return text if high is None else text[:high]

    def _patterned(self, pattern: str, low: int, high: int | None, at: _At) -> str:
        compiled = _compile(pattern, (*at.where, "pattern"))
        for text in self._pattern_candidates(pattern, low, high):
            if low <= len(text) and (high is None or len(text) <= high) and compiled.search(text):
                return text
        bounds = (
            f" with a length from {low} to {high if high is not None else 'any'}" if low or high is not None else ""
        )
        raise UnsatisfiableSchema(
            at.where,
            f"the offline server found no string matching 'pattern' {pattern!r}{bounds} (it builds strings "
            "for simple patterns only: no lookarounds or back-references)",
        )

    def _pattern_candidates(self, pattern: str, low: int, high: int | None) -> Iterator[str]:
        """A short match first (each quantifier once beyond its minimum, then not at all); while `minLength` needs
        more, the fewest repetitions that reach it, found by doubling then halving; each candidate also padded where
        padding cannot break the match; last, a few plain strings."""

        def at(extra: int) -> str:
            return pattern_sample.sample(pattern, self.rng, extra)

        def padded(text: str) -> Iterator[str]:
            yield text
            if len(text) < low:
                padding = self._token(low - len(text))
                if not pattern_sample.anchored_at_end(pattern):
                    yield text + padding
                if not pattern.startswith("^"):
                    yield padding + text

        try:
            short = at(1)
            yield from padded(short)
            yield from padded(at(0))
            if len(short) < low:
                below, above = 1, 2
                while len(longer := at(above)) < low:
                    if len(longer) <= len(short) or above > 2 * low:
                        break
                    below, above, short = above, above * 2, longer
                else:
                    while above - below > 1:
                        middle = (below + above) // 2
                        below, above = (middle, above) if len(at(middle)) < low else (below, middle)
                    longer = at(above)
                yield from padded(longer)
        except pattern_sample.PatternUnsupported:
            pass
        yield self._token()
        yield self._token(max(low, 1))
        yield ""

    def _number(self, flat: Mapping[str, Any], at: _At, avoid: Sequence[object], *, integer: bool) -> int | float:
        low, low_open, high, high_open = _bounds(flat, at.where)
        step = flat.get("multipleOf")
        if step is not None and (not _is_number(step) or step <= 0):
            raise MalformedSchema(at.where, f"'multipleOf' must be a number greater than 0, not {step!r}")
        if low is not None and high is not None and (low > high or (low == high and (low_open or high_open))):
            raise UnsatisfiableSchema(at.where, f"no number lies between its lower bound {low} and upper bound {high}")

        def fits(value: int | float) -> bool:
            if low is not None and (value < low or (low_open and value == low)):
                return False
            if high is not None and (value > high or (high_open and value == high)):
                return False
            if step is not None and not _is_multiple(value, step):
                return False
            return math.isfinite(value) and not any(_json_equal(value, used) for used in avoid)

        for value in self._number_candidates(low, high, step, integer=integer):
            if fits(value):
                self._emitted(at.where)
                return value
        kind = "integer" if integer else "number"
        multiple = f" that is a multiple of {step}" if step is not None else ""
        bounds = f" ({low} to {high})" if low is not None or high is not None else ""
        raise UnsatisfiableSchema(at.where, f"the offline server found no {kind} within its bounds{bounds}{multiple}")

    def _number_candidates(
        self, low: float | None, high: float | None, step: float | None, *, integer: bool
    ) -> Iterator[int | float]:
        """Numbers to try, the seeded choice first; the caller keeps the first that fits every bound."""
        start: float | None = low
        end: float | None = high
        if integer:
            start = None if low is None else math.ceil(low)
            end = None if high is None else math.floor(high)
        if start is None and end is None:
            preferred: float = self.rng.randint(1, 100) if integer else self.rng.randint(100, 10_000) / 100
        elif end is None:
            assert start is not None
            preferred = start + self.rng.randint(0, 99)
        elif start is None:
            preferred = end - self.rng.randint(0, 99)
        else:
            span = max(0, end - start) if math.isfinite(end - start) else float(2**62)
            preferred = start + self.rng.randint(0, int(min(span, 99)))
            if not integer and span < 1:
                preferred = start / 2 + end / 2
        if step is not None:
            exact = Fraction(step)
            base = math.floor(Fraction(preferred) / exact)
            for offset in range(64):
                for k in (base + offset, base - offset):
                    product = k * exact
                    if integer:
                        if product.denominator == 1:
                            yield int(product)
                    elif isinstance(step, float):
                        yield k * step
                        yield float(product)
                    else:
                        yield int(product)
        if integer:
            anchor = int(preferred)
            for offset in range(64):
                yield anchor + offset
                yield anchor - offset
            for bound in (start, end):
                if bound is not None:
                    yield int(bound)
            yield 0
            return
        yield round(preferred, 2)
        yield preferred
        if start is not None and end is not None:
            yield start / 2 + end / 2
        for bound in (start, end):
            if bound is not None:
                yield float(bound)
                yield float(bound) + 1
                yield float(bound) - 1
        yield 0.0

    # --- validating (for oneOf, not, if, enum members and merged parts) ---

    def conforms(self, value: object, schema: object, hops: int = 0) -> bool:
        self._tick(())
        if schema is True:
            return True
        if schema is False or not isinstance(schema, Mapping):
            return False
        if "$ref" in schema:
            if hops > MAX_REF_REPEATS * 4:
                raise SchemaTooComplex((), "its '$ref's point at each other without end")
            target, _ = self._lookup(schema["$ref"], ()) if isinstance(schema["$ref"], str) else (False, ())
            if not self.conforms(value, target, hops + 1):
                return False
        return all(self._keyword(value, key, rule, schema, hops) for key, rule in schema.items())

    def _keyword(self, value: object, key: str, rule: Any, schema: Mapping[str, Any], hops: int) -> bool:
        ok = self.conforms
        if key == "type":
            try:
                return any(_has_type(value, kind) for kind in _type_list(rule, ()))
            except MalformedSchema:
                return False
        if key == "enum":
            return isinstance(rule, list) and any(_json_equal(value, item) for item in rule)
        if key == "const":
            return _json_equal(value, rule)
        if key == _CHECKS:
            return all(ok(value, check) for check in rule)
        if key in ("allOf", "anyOf", "oneOf"):
            if not isinstance(rule, list):
                return False
            matches = (ok(value, branch, hops) for branch in rule)
            if key == "allOf":
                return all(matches)
            if key == "anyOf":
                return any(matches)
            return sum(matches) == 1
        if key == "not":
            return not ok(value, rule, hops)
        if key == "if":
            branch = schema.get("then", True) if ok(value, rule, hops) else schema.get("else", True)
            return ok(value, branch, hops)
        if isinstance(value, str):
            return self._string_keyword(value, key, rule)
        if _is_number(value):
            assert isinstance(value, int | float)
            return self._number_keyword(value, key, rule, schema)
        if isinstance(value, list):
            return self._array_keyword(value, key, rule, schema)
        if isinstance(value, Mapping):
            return self._object_keyword(value, key, rule, schema)
        return True

    def _string_keyword(self, value: str, key: str, rule: Any) -> bool:
        if key == "minLength":
            return not _is_number(rule) or len(value) >= rule
        if key == "maxLength":
            return not _is_number(rule) or len(value) <= rule
        if key == "pattern":
            return _searches(rule, value)
        return True

    def _number_keyword(self, value: float, key: str, rule: Any, schema: Mapping[str, Any]) -> bool:
        if not _is_number(rule):
            if isinstance(rule, bool) and rule and key in ("exclusiveMinimum", "exclusiveMaximum"):
                bound = schema.get("minimum" if key == "exclusiveMinimum" else "maximum")
                if _is_number(bound):
                    return value > bound if key == "exclusiveMinimum" else value < bound
            return True
        if key == "minimum":
            return bool(value >= rule)
        if key == "maximum":
            return bool(value <= rule)
        if key == "exclusiveMinimum":
            return bool(value > rule)
        if key == "exclusiveMaximum":
            return bool(value < rule)
        if key == "multipleOf":
            return bool(rule > 0) and _is_multiple(value, rule)
        return True

    def _array_keyword(self, value: list[Any], key: str, rule: Any, schema: Mapping[str, Any]) -> bool:
        ok = self.conforms
        if key == "items":
            if isinstance(rule, list):
                return all(ok(item, sub) for item, sub in zip(value, rule, strict=False))
            start = len(schema.get("prefixItems", ())) if isinstance(schema.get("prefixItems"), list) else 0
            return all(ok(item, rule) for item in value[start:])
        if key == "prefixItems":
            return isinstance(rule, list) and all(ok(item, sub) for item, sub in zip(value, rule, strict=False))
        if key == "additionalItems" and isinstance(schema.get("items"), list):
            return all(ok(item, rule) for item in value[len(schema["items"]) :])
        if key == "minItems":
            return not _is_number(rule) or len(value) >= rule
        if key == "maxItems":
            return not _is_number(rule) or len(value) <= rule
        if key == "uniqueItems":
            return rule is not True or all(not _json_equal(a, b) for i, a in enumerate(value) for b in value[i + 1 :])
        if key == "contains":
            count = sum(ok(item, rule) for item in value)
            least, most = schema.get("minContains", 1), schema.get("maxContains")
            return count >= (least if _is_number(least) else 1) and (not _is_number(most) or count <= most)
        return True

    def _object_keyword(self, value: Mapping[str, Any], key: str, rule: Any, schema: Mapping[str, Any]) -> bool:
        ok = self.conforms
        if key == "properties":
            return isinstance(rule, Mapping) and all(
                ok(value[name], sub) for name, sub in rule.items() if name in value
            )
        if key == "required":
            return isinstance(rule, list) and all(isinstance(name, str) and name in value for name in rule)
        if key == "patternProperties":
            return isinstance(rule, Mapping) and all(
                ok(item, sub)
                for pattern, sub in rule.items()
                for name, item in value.items()
                if _searches(pattern, name)
            )
        if key == "additionalProperties":
            declared = schema.get("properties", {})
            patterns = schema.get("patternProperties", {})
            if not isinstance(declared, Mapping) or not isinstance(patterns, Mapping):
                return False
            return all(
                ok(item, rule)
                for name, item in value.items()
                if name not in declared and not any(_searches(pattern, name) for pattern in patterns)
            )
        if key == "propertyNames":
            return all(ok(name, rule) for name in value)
        if key == "minProperties":
            return not _is_number(rule) or len(value) >= rule
        if key == "maxProperties":
            return not _is_number(rule) or len(value) <= rule
        if key == "dependentRequired" and isinstance(rule, Mapping):
            return all(
                isinstance(rule[name], list) and all(isinstance(n, str) and n in value for n in rule[name])
                for name in value
                if name in rule
            )
        return True


# --- helpers ---


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _has_type(value: object, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return _is_number(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, Mapping)


def _is_multiple(value: float, step: float) -> bool:
    """`multipleOf` as the `jsonschema` package decides it: float division for a float step, so an answer that
    package accepts is what is built."""
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(step)).denominator == 1
    return value % step == 0


def _type_list(declared: object, where: Context) -> list[str]:
    kinds = [declared] if isinstance(declared, str) else declared
    if not isinstance(kinds, list) or not all(isinstance(kind, str) and kind in TYPE_NAMES for kind in kinds):
        allowed = ", ".join(repr(name) for name in TYPE_NAMES)
        raise MalformedSchema(where, f"'type' must be one of {allowed} or a list of them, not {declared!r}")
    return list(dict.fromkeys(kinds))


def _intersect_types(first: object, second: object, where: Context) -> str | list[str]:
    mine, theirs = _type_list(first, where), _type_list(second, where)
    common = [kind for kind in mine if kind in theirs or (kind == "integer" and "number" in theirs)]
    if "number" in mine and "integer" in theirs and "integer" not in common:
        common.append("integer")
    if not common:
        raise UnsatisfiableSchema(where, f"its allOf parts allow no common type ({first!r} and {second!r})")
    return common[0] if len(common) == 1 else common


def _schema_list(value: object, key: str, where: Context, *, allow_empty: bool = False) -> list[Any]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise MalformedSchema(where, f"'{key}' must be a non-empty array of schemas, not {value!r}")
    return value


def _mapping(value: object, key: str, where: Context) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedSchema(where, f"'{key}' must be an object, not {_kind(value)}")
    return value


def _names(value: object, key: str, where: Context) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise MalformedSchema(where, f"'{key}' must be an array of property names, not {value!r}")
    return value


def _merge_maps(first: object, second: object, key: str, where: Context) -> dict[str, Any]:
    mine, theirs = _mapping(first, key, where), _mapping(second, key, where)
    out = dict(mine)
    for name, schema in theirs.items():
        out[name] = {"allOf": [out[name], schema]} if name in out else schema
    return out


def _closed_to_each_other(
    first: Mapping[str, Any], second: Mapping[str, Any], where: Context
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """Both parts with each property the other does not declare also held to the other's `additionalProperties`:
    in `allOf`, a property one part declares is an additional one to the other part."""
    closed = [part.get("additionalProperties", True) for part in (first, second)]
    if closed[0] is True and closed[1] is True:
        return first, second
    parts = [first, second]
    for me, other in ((0, 1), (1, 0)):
        extra = closed[other]
        if extra is True:
            continue
        mine = _mapping(parts[me].get("properties", {}), "properties", where)
        declared = _mapping(parts[other].get("properties", {}), "properties", where)
        patterns = _mapping(parts[other].get("patternProperties", {}), "patternProperties", where)
        held = {
            name: schema
            if name in declared or any(_searches(pattern, name) for pattern in patterns)
            else {"allOf": [schema, extra]}
            for name, schema in mine.items()
        }
        if held != mine:
            parts[me] = {**parts[me], "properties": held}
    return parts[0], parts[1]


def _enum(value: object, where: Context) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedSchema(where, f"'enum' must be an array, not {_kind(value)}")
    return value


def _count(flat: Mapping[str, Any], key: str, where: Context) -> int | None:
    value = flat.get(key)
    if value is None:
        return None
    if not _is_number(value) or value < 0 or not float(value).is_integer():
        raise MalformedSchema(where, f"'{key}' must be a non-negative integer, not {value!r}")
    return int(value)


def _bounds(flat: Mapping[str, Any], where: Context) -> tuple[float | None, bool, float | None, bool]:
    """(lower, lower is exclusive, upper, upper is exclusive), from both the current and the draft-4 spelling."""
    found: dict[str, float | None] = {}
    for key in ("minimum", "maximum"):
        value = flat.get(key)
        if value is not None and not _is_number(value):
            raise MalformedSchema(where, f"'{key}' must be a number, not {value!r}")
        found[key] = value
    low, high = found["minimum"], found["maximum"]
    low_open = high_open = False
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        value = flat.get(key)
        lower = key == "exclusiveMinimum"
        if value is None or value is False:
            continue
        if value is True:
            # Draft 4: a boolean that makes `minimum` or `maximum` itself exclusive.
            if lower:
                low_open = low is not None
            else:
                high_open = high is not None
            continue
        if not _is_number(value):
            raise MalformedSchema(where, f"'{key}' must be a number, not {value!r}")
        if lower and (low is None or value >= low):
            low, low_open = value, True
        elif not lower and (high is None or value <= high):
            high, high_open = value, True
    return low, low_open, high, high_open


def _compile(pattern: str, where: Context) -> re.Pattern[str]:
    try:
        return re.compile(_python_pattern(pattern))
    except re.error as exc:
        raise MalformedSchema(where, f"{pattern!r} is not a regular expression this server can read ({exc})") from None


def _searches(pattern: object, name: str) -> bool:
    try:
        return isinstance(pattern, str) and re.search(_python_pattern(pattern), name) is not None
    except re.error:
        return False


_ECMA_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


def _python_pattern(pattern: str) -> str:
    """The pattern in Python's syntax where ECMA-262, which JSON Schema patterns are written in, spells it
    differently: named groups are `(?<name>...)` there and `(?P<name>...)` here."""
    return _ECMA_NAMED_GROUP.sub("(?P<", pattern) if "(?<" in pattern else pattern


def _slug(hint: str) -> str:
    text = "".join(c if c.isascii() and c.isalnum() else "-" for c in hint.lower()).strip("-")
    return text or "value"


def _date(rng: random.Random) -> str:
    return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


_FORMATS: dict[str, Callable[[random.Random, str], str]] = {
    "date-time": lambda rng, hint: f"{_date(rng)}T{_time(rng)}",
    "date": lambda rng, hint: _date(rng),
    "time": lambda rng, hint: _time(rng),
    "duration": lambda rng, hint: f"P{rng.randint(1, 30)}DT{rng.randint(1, 23)}H",
    "email": lambda rng, hint: f"{hint}.{rng.randint(100, 999)}@example.com",
    "idn-email": lambda rng, hint: f"{hint}.{rng.randint(100, 999)}@example.com",
    "hostname": lambda rng, hint: f"{hint}-{rng.randint(100, 999)}.example.com",
    "idn-hostname": lambda rng, hint: f"{hint}-{rng.randint(100, 999)}.example.com",
    "ipv4": lambda rng, hint: f"192.0.2.{rng.randint(1, 254)}",
    "ipv6": lambda rng, hint: f"2001:db8::{rng.randint(1, 0xFFFF):x}",
    "uri": lambda rng, hint: f"https://example.com/{hint}/{rng.randint(100, 999)}",
    "iri": lambda rng, hint: f"https://example.com/{hint}/{rng.randint(100, 999)}",
    "uri-reference": lambda rng, hint: f"/{hint}/{rng.randint(100, 999)}",
    "iri-reference": lambda rng, hint: f"/{hint}/{rng.randint(100, 999)}",
    "uri-template": lambda rng, hint: f"https://example.com/{hint}/{{id}}",
    "uuid": lambda rng, hint: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "json-pointer": lambda rng, hint: f"/{hint}/{rng.randint(0, 9)}",
    "relative-json-pointer": lambda rng, hint: f"{rng.randint(0, 3)}/{hint}",
    "regex": lambda rng, hint: "^[a-z]+$",
}
