"""The shaping rules, as code: from the upstream document and the config (spec/), the fragment openapi.yaml holds.

Applied the same way to every upstream document, whatever its date:

- only the operations in spec/operations.yaml, with every schema they reference, named as upstream names it; an
  inline enum or object gets a schema of its own, named as the generator would name it (`Batch.status` ->
  `BatchStatus`) unless overrides.yaml names it;
- response enums are open (`anyOf [<enum>, {type: string}]`), so a value the API adds later is kept, not rejected;
  request-body enums too (a caller can send a value the API accepts before the next update), except constants;
  parameter enums stay closed;
- every optional field of a response schema is nullable (the service sends null where upstream says it cannot);
  OpenAPI 3.0 `nullable: true`, `type: [x, "null"]` and null branches all become `anyOf [<schema>, {type: "null"}]`,
  and a named schema that is itself nullable is made nullable where it is used, so it stays one model class;
- and required, marked `x-absent-is-null: true`: the client reads a field the body leaves out as null, so the models
  type it `X | None` as the official SDK does, never with the generator's `Unset`; the changelog still calls such a
  field optional, as upstream does. Request fields keep upstream's required list: there absent and null differ;
- only the 200 response is declared: the overlay maps every other status and body to its own errors;
- annotations the generator does not need (examples, defaults, titles, `x-` extensions, formats other than
  `binary`) are dropped; bounds are kept, and overrides.yaml adds those upstream states only in prose;
- descriptions: upstream's when short, ours (spec/descriptions.yaml) where upstream's is long or missing.

Upstream reshapes its document now and then without changing the API: an enum moves between a property and a named
schema, an enum is spelled open (`anyOf [<enum>, {type: string}]`), a field moves behind `allOf`. The last two give
the fragment the plain spelling gives, and an enum overrides.yaml names by where it is used keeps that name wherever
upstream now keeps it, so the generated classes the overlay uses stay put. An override or description that cannot
apply to a document is a note, never an error: the update goes through, shaped as upstream wrote it there, and the
note says what to look at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from .changes import ABSENT_IS_NULL
from .config import BOUND_KEYWORDS, NESTED_BOUND_KEYWORDS, Config, Operation, Override
from .yaml_io import SpecError

REQUEST, RESPONSE = "request", "response"
SCHEMA_REF = "#/components/schemas/"
TITLE = "OpenAI Batch API (openai-batches fragment)"
DESCRIPTION = "The Batch endpoints of the OpenAI API and the Files endpoints a batch needs, shaped for openai-batches."
# A description longer than this, or with more than one line or a link, is replaced by ours.
SHORT_DESCRIPTION = 100
# Keywords that describe a schema without constraining it: an allOf part made only of these adds no shape.
ANNOTATIONS = frozenset(
    {"description", "title", "example", "examples", "default", "deprecated", "readOnly", "writeOnly", "$comment"}
)


@dataclass(frozen=True)
class Where:
    """A place a schema is used: its location (for overrides and descriptions) and what the context implies."""

    location: str
    name: str  # the name a schema made from an inline one here gets, unless overrides.yaml names it
    direction: str
    optional: bool = False
    parameter: bool = False

    def items(self) -> Where:
        return replace(self, location=f"{self.location}[]", name=f"{self.name}Item", optional=False)

    def branch(self, index: int) -> Where:
        return replace(self, location=f"{self.location}<{index}>", name=f"{self.name}Type{index}", optional=False)


@dataclass
class Derivation:
    fragment: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    not_vendored: list[str] = field(default_factory=list)
    """Upstream operations under the paths we vendor from (`/batches...`, `/files...`) that we do not vendor."""


def pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def member_name(value: str) -> str:
    """The generated enum member for a value the generator cannot name itself (`/v1/chat/completions`)."""
    text = re.sub(r"^/v\d+/", "", value)
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    return name if name[:1].isalpha() else f"VALUE_{name}".rstrip("_")


def _short(text: str) -> bool:
    return len(text) <= SHORT_DESCRIPTION and "\n" not in text and "](" not in text


def _first_sentence(text: str) -> str:
    plain = " ".join(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).split())
    match = re.match(r"(.+?[.!?])(\s|$)", plain)
    return match[1] if match else plain


def _is_null(node: object) -> bool:
    return isinstance(node, Mapping) and (node.get("type") == "null" or node.get("enum") == [None])


def _is_enum(node: Mapping[str, Any]) -> bool:
    return "enum" in node or "const" in node


def _annotation_only(node: object) -> bool:
    return isinstance(node, Mapping) and all(k in ANNOTATIONS or str(k).startswith("x-") for k in node)


def _plain_string(node: object) -> bool:
    return (
        isinstance(node, Mapping)
        and node.get("type") == "string"
        and _annotation_only({k: v for k, v in node.items() if k != "type"})
    )


def _values(values: list[Any]) -> str:
    return ", ".join(json.dumps(v) for v in values)


def _is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (kind is None and ("properties" in node or "additionalProperties" in node))


def mapping(value: object, where: str, what: str) -> Mapping[str, Any]:
    """`value` as a mapping (None as an empty one); anything else is an error that names the place."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"upstream: {where}: {what} is not a mapping: {value!r}")
    return value


def sequence(value: object, where: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SpecError(f"upstream: {where}: {what} is not a list: {value!r}")
    return value


def names(value: object, where: str, what: str) -> list[str]:
    items = sequence(value, where, what)
    if not all(isinstance(item, str) for item in items):
        raise SpecError(f"upstream: {where}: {what} must list names (strings): {items!r}")
    return items


def _bounds(node: Mapping[str, Any]) -> dict[str, Any]:
    return {k: node[k] for k in BOUND_KEYWORDS if k in node and not isinstance(node[k], bool)}


class Deriver:
    def __init__(
        self, upstream: Mapping[str, Any], config: Config, withdrawn: Mapping[tuple[str, str], str] | None = None
    ) -> None:
        self.root = upstream
        components = upstream.get("components") or {}
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        self.schemas: Mapping[str, Any] = schemas if isinstance(schemas, Mapping) else {}
        self.config = config
        # Overrides an earlier pass found cannot apply to this document, each with the note that says why.
        self.withdrawn: Mapping[tuple[str, str], str] = withdrawn or {}
        self.overrides = {
            name: {loc: e for loc, e in config.overrides.section(name).items() if (name, loc) not in self.withdrawn}
            for name in _SECTIONS
        }
        self.applied: set[tuple[str, str]] = set()
        self.described: set[str] = set()
        self.components: dict[str, dict[str, Any]] = {}
        self.origins: dict[str, str] = {}
        self.building: set[str] = set()
        self.known_values: dict[str, str] = {}  # location -> enum it lists
        self.directions: dict[str, str] = {}
        self.notes: list[str] = []
        self.unresolved: dict[tuple[str, str], str] = {}
        self.constants: set[str] = set()  # enums upstream marks as constants, wherever it keeps them
        self.resolving: set[str] = set()

    # --- overrides and descriptions ---

    def override(self, section: str, location: str) -> Override | None:
        entry = self.overrides[section].get(location)
        if entry is not None:
            self.applied.add((section, location))
        return entry

    def describe(self, location: str, upstream: object) -> str | None:
        raw = upstream.strip() if isinstance(upstream, str) else ""
        text = " ".join(raw.split())
        ours = self.config.descriptions.get(location)
        if text and _short(raw):
            return text
        if ours is not None:
            self.described.add(location)
            return ours
        if text:
            self.notes.append(
                f"{location}: upstream's description is long and spec/descriptions.yaml has no short one; "
                "its first sentence is used"
            )
            return _first_sentence(text)
        return None

    # --- references ---

    def resolve(self, ref: object, where: str) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SpecError(f"upstream: {where}: only local $refs are supported, got {ref!r}")
        node: Any = self.root
        for raw in ref[2:].split("/"):
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise SpecError(f"upstream: {where}: $ref {ref!r} points to nothing")
            node = node[part]
        return node

    def deref(self, node: Any, where: str) -> Any:
        seen: set[str] = set()
        while isinstance(node, Mapping) and "$ref" in node:
            if not isinstance(node["$ref"], str):
                raise SpecError(f"upstream: {where}: $ref must be a string, got {node['$ref']!r}")
            if node["$ref"] in seen:
                raise SpecError(f"upstream: {where}: $ref cycle through {node['$ref']!r}")
            seen.add(node["$ref"])
            node = self.resolve(node["$ref"], where)
        return node

    def _refs(self, node: Any, where: str) -> Iterator[str]:
        """The schema names `node` references, following references to other component kinds."""
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref.startswith(SCHEMA_REF):
                    yield ref[len(SCHEMA_REF) :]
                else:
                    yield from self._refs(self.resolve(ref, where), where)
            for key, value in node.items():
                if key != "$ref" and not str(key).startswith("x-"):
                    yield from self._refs(value, where)
        elif isinstance(node, list):
            for item in node:
                yield from self._refs(item, where)

    def mark_directions(self, node: Any, direction: str, where: str) -> None:
        pending = list(self._refs(node, where))
        while pending:
            name = pending.pop()
            if self.directions.get(name) in (direction, RESPONSE):
                continue
            self.directions[name] = direction
            if name not in self.schemas:
                raise SpecError(f"upstream: {where}: $ref {SCHEMA_REF}{name} points to nothing")
            pending.extend(self._refs(self.schemas[name], f"{SCHEMA_REF}{name}"))

    # --- schemas ---

    def split_null(self, node: Any, where: str) -> tuple[Mapping[str, Any], bool]:
        """The schema without its null alternative, and whether it had one (3.0 and 3.1 spellings alike)."""
        if node is True or node is None:
            return {}, False
        if not isinstance(node, Mapping):
            raise SpecError(f"upstream: {where}: a schema is not a mapping: {node!r}")
        out = dict(node)
        nullable = out.pop("nullable", False) is True
        kind = out.get("type")
        if isinstance(kind, list):
            rest = [t for t in kind if t != "null"]
            nullable |= len(rest) < len(kind)
            out["type"] = rest[0] if len(rest) == 1 else rest
        if "enum" in out and isinstance(out["enum"], list) and None in out["enum"]:
            nullable = True
            out["enum"] = [v for v in out["enum"] if v is not None]
        for key in ("anyOf", "oneOf"):
            branches = out.get(key)
            if isinstance(branches, list) and any(_is_null(b) for b in branches):
                nullable = True
                rest = [b for b in branches if not _is_null(b)]
                del out[key]
                if len(rest) == 1:
                    inner, inner_null = self.split_null(rest[0], where)
                    nullable |= inner_null
                    description = out.get("description", inner.get("description"))
                    out = {**out, **inner}
                    if description is not None:
                        out["description"] = description
                else:
                    out[key] = rest
        parts = out.get("allOf")
        substantive = [p for p in parts if not _annotation_only(p)] if isinstance(parts, list) else []
        if (
            isinstance(parts, list)
            and len(substantive) == 1
            and isinstance(substantive[0], Mapping)
            and _annotation_only({k: v for k, v in out.items() if k != "allOf"})
        ):
            # `allOf [<schema>, {description: ...}]` is upstream's way to annotate a schema beside a $ref: the schema.
            annotations: dict[str, Any] = {}
            for part in parts:
                if part is not substantive[0] and isinstance(part, Mapping):
                    annotations.update(part)
            inner, inner_null = self.split_null(substantive[0], where)
            nullable |= inner_null
            del out["allOf"]
            description = out.get("description", annotations.get("description", inner.get("description")))
            out = {**annotations, **out, **inner}
            if description is not None:
                out["description"] = description
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
            # A named schema that admits null is made nullable where it is used; it stays one model.
            _, target_null = self.split_null(self.deref(out, where), ref)
            nullable |= target_null
        return out, nullable

    def clashes(self, name: str, schema: Mapping[str, Any]) -> bool:
        """Whether `name` is already made from something else than `schema` (descriptions aside)."""
        existing = self.components.get(name)
        if existing is None or name in self.building:
            return False

        def shape(s: Mapping[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in s.items() if k != "description"}

        return shape(existing) != shape(schema)

    def register(self, name: str, schema: dict[str, Any], origin: str) -> None:
        if self.clashes(name, schema):
            raise SpecError(
                f"the schema {name} would be made from both {self.origins[name]} and {origin}, which differ "
                f"upstream; give one of them another name in spec/overrides.yaml (schema_names)"
            )
        if name in self.components and name not in self.building:
            return
        self.components[name] = schema
        self.origins.setdefault(name, origin)

    def enum_schema(self, node: Mapping[str, Any], name: str, origin: str) -> dict[str, Any]:
        values = sequence(node["enum"], origin, "enum") if "enum" in node else [node["const"]]
        if not values or not all(isinstance(v, str | int | float | bool) for v in values):
            raise SpecError(f"upstream: {origin}: an enum lists no values, or values that are not scalars: {values!r}")
        if node.get("x-stainless-const") is True or "const" in node:
            self.constants.add(name)
        values = self.drop_values(name, values)
        kind = node.get("type") or ("string" if all(isinstance(v, str) for v in values) else None)
        schema: dict[str, Any] = {"type": kind} if kind else {}
        description = self.describe(name, node.get("description") if name == origin else None)
        if description:
            schema["description"] = description
        schema["enum"] = values
        strings = [v for v in values if isinstance(v, str)]
        custom = self.override("enum_member_names", name)
        unknown = [v for v in custom.value if v not in strings] if custom is not None else []
        if unknown:
            self.notes.append(
                f"spec/overrides.yaml: enum_member_names: {name}: this document does not list {_values(unknown)}; "
                "those member names are unused"
            )
        if strings and (custom is not None or not all(v[:1].isalpha() for v in strings)):
            names = [custom.value.get(v) if custom and v in custom.value else member_name(v) for v in strings]
            if len(set(names)) != len(names):
                raise SpecError(
                    f"the enum {name} ({origin}) gets duplicate member names {names}; "
                    "name its members in spec/overrides.yaml (enum_member_names)"
                )
            schema["x-enum-varnames"] = names
        return schema

    def drop_values(self, name: str, values: list[Any]) -> list[Any]:
        """The enum's values without those overrides.yaml leaves out; an entry with nothing to drop is a note."""
        entry = self.overrides["dropped_values"].get(name)
        if entry is None:
            return values
        self.applied.add(("dropped_values", name))
        absent = [v for v in entry.value if v not in values]
        if absent:
            self.notes.append(
                f"spec/overrides.yaml: dropped_values: {name}: this document does not list {_values(absent)}, so "
                "the entry drops nothing there (remove it once upstream no longer lists the value)"
            )
        kept = [v for v in values if v not in entry.value]
        if not kept:
            self.notes.append(
                f"spec/overrides.yaml: dropped_values: {name}: dropping {_values(entry.value)} would leave no value; "
                "the enum keeps upstream's values"
            )
            return values
        return kept

    def object_schema(self, node: Mapping[str, Any], name: str, direction: str) -> dict[str, Any]:
        node = self.merge_all_of(node, name)
        schema: dict[str, Any] = {"type": "object"}
        description = self.describe(name, node.get("description"))
        if description:
            schema["description"] = description
        properties = mapping(node.get("properties"), name, "properties")
        required = [r for r in names(node.get("required"), name, "required") if r in properties]
        shaped: dict[str, Any] = {}
        out_required: list[str] = []
        filled: list[str] = []
        for prop, sub in properties.items():
            location = f"{name}.{prop}"
            members = (
                self.form_members(sub, location, f"{name}{pascal(str(prop))}", direction)
                if self.override("form_brackets", location)
                else None
            )
            if members is not None:
                for member, (member_schema, member_required) in members.items():
                    key = f"{prop}[{member}]"
                    shaped[key] = member_schema
                    if member_required and prop in required:
                        out_required.append(key)
                continue
            where = Where(location, f"{name}{pascal(str(prop))}", direction, optional=prop not in required)
            shaped[str(prop)] = self.use(sub, where)
            if where.optional and direction == RESPONSE:
                shaped[str(prop)] = {**shaped[str(prop)], ABSENT_IS_NULL: True}
                filled.append(str(prop))
        # Upstream's order of the required list; bracketed members where their parent stood.
        out_required = [
            key
            for r in required
            for key in ([r] if r in shaped else [k for k in out_required if k.startswith(f"{r}[")])
        ]
        out_required.extend(filled)
        if out_required:
            schema["required"] = out_required
        if shaped:
            schema["properties"] = shaped
        extra = node.get("additionalProperties")
        if extra is False:
            schema["additionalProperties"] = False
        elif isinstance(extra, Mapping) and extra:
            schema["additionalProperties"] = self.use(extra, Where(f"{name}{{}}", f"{name}Value", direction))
        schema.update(_bounds(node))
        return self.with_bounds(schema, name)

    def merge_all_of(self, node: Mapping[str, Any], where: str) -> Mapping[str, Any]:
        if "allOf" not in node:
            return node
        parts = sequence(node["allOf"], where, "allOf")
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        properties = dict(mapping(merged.get("properties"), where, "properties"))
        required = names(merged.get("required"), where, "required")
        for part in parts:
            part = self.merge_all_of(mapping(self.deref(part, where), where, "an allOf part"), where)
            properties.update(mapping(part.get("properties"), where, "properties"))
            required.extend(r for r in names(part.get("required"), where, "required") if r not in required)
            for key in ("additionalProperties", "description", "type"):
                if key in part and key not in merged:
                    merged[key] = part[key]
        merged.update(properties=properties, required=required)
        return merged

    def form_members(
        self, node: Any, location: str, inline_name: str, direction: str
    ) -> dict[str, tuple[dict[str, Any], bool]] | None:
        """The members of a nested object of a form body, each sent as its own `parent[member]` field.

        None, with a note, when upstream's field is no object with properties: it is then sent as upstream declares.
        """
        owner = inline_name
        folded, _ = self.split_null(node, location)
        if isinstance(folded.get("$ref"), str) and folded["$ref"].startswith(SCHEMA_REF):
            owner = folded["$ref"][len(SCHEMA_REF) :]
        target, _ = self.split_null(self.deref(folded, location), location)
        target = self.merge_all_of(target, location)
        properties = target.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            self.notes.append(
                f"spec/overrides.yaml: form_brackets: {location} is not an object with properties in this document; "
                "it is sent as upstream declares it"
            )
            return None
        required = set(names(target.get("required"), location, "required"))
        return {
            str(member): (
                self.use(sub, Where(f"{owner}.{member}", f"{owner}{pascal(str(member))}", direction, True)),
                member in required,
            )
            for member, sub in properties.items()
        }

    def with_bounds(self, schema: dict[str, Any], location: str) -> dict[str, Any]:
        entry = self.override("bounds", location)
        if entry is None:
            return schema

        def merge(target: dict[str, Any], bounds: Mapping[str, Any], where: str) -> None:
            for key, value in bounds.items():
                if key in NESTED_BOUND_KEYWORDS:
                    inner = target.get(key)
                    inner = dict(inner) if isinstance(inner, Mapping) else {}
                    merge(inner, value, f"{where} {key}")
                    target[key] = inner
                    continue
                if key in target and target[key] != value:
                    self.notes.append(f"{where}: upstream states {key} {target[key]}; the override sets {value}")
                target[key] = value

        merge(schema, entry.value, location)
        return schema

    def component(self, name: str, where: str) -> str:
        """Pull in the upstream schema `name`; return the name it has in the fragment."""
        if name in self.components or name in self.building:
            return name
        if name not in self.schemas:
            raise SpecError(f"upstream: {where}: $ref {SCHEMA_REF}{name} points to nothing")
        node, _ = self.split_null(self.schemas[name], f"{SCHEMA_REF}{name}")
        spelled_open = self.open_enum(node, f"{SCHEMA_REF}{name}")
        if spelled_open is not None and _is_enum(spelled_open):
            node = spelled_open
        direction = self.directions.get(name, REQUEST)
        self.building.add(name)
        self.components[name] = {}  # claims the name while its fields are shaped
        try:
            if _is_enum(node):
                schema = self.enum_schema(node, name, name)
            elif _is_object(node) or "allOf" in node:
                schema = self.object_schema(node, name, direction)
            else:
                schema = self.use(node, Where(name, name, direction))
        finally:
            self.building.discard(name)
        self.components[name] = schema
        self.origins[name] = f"{SCHEMA_REF}{name}"
        return name

    def open_enum(self, node: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
        """The enum of an enum upstream spells open (`anyOf [<enum>, {type: string}]`), else None.

        The rules open enums themselves, so this spelling and the plain enum give the same fragment.
        """
        for key in ("anyOf", "oneOf"):
            branches = node.get(key)
            if not isinstance(branches, list) or len(branches) != 2:
                continue
            others = [b for b in branches if not _plain_string(b)]
            if len(others) != 1 or not isinstance(others[0], Mapping):
                continue
            candidate: Mapping[str, Any] = others[0]
            if not _is_enum(candidate) and not (
                isinstance(candidate.get("$ref"), str) and self.enum_target(candidate["$ref"], where) is not None
            ):
                continue
            outer = {k: v for k, v in node.items() if k != key}
            return {**candidate, **outer} if _annotation_only(outer) else None
        return None

    def enum_target(self, ref: str, where: str) -> str | None:
        """The name of the upstream schema `ref` points to, if that schema is an enum."""
        if not ref.startswith(SCHEMA_REF):
            return None
        name = ref[len(SCHEMA_REF) :]
        if name not in self.schemas:
            raise SpecError(f"upstream: {where}: $ref {ref} points to nothing")
        if name in self.resolving:
            return None  # a schema whose open spelling refers to itself is no enum
        self.resolving.add(name)
        try:
            node, _ = self.split_null(self.schemas[name], ref)
            spelled_open = self.open_enum(node, ref) if not _is_enum(node) else None
        finally:
            self.resolving.discard(name)
        return name if _is_enum(node) or (spelled_open is not None and _is_enum(spelled_open)) else None

    def enum_name(self, location: str) -> Override | None:
        """The override that names the enum used at `location`, if any."""
        return self.override("schema_names", location) or self.override("known_values", location)

    def hoist_enum(self, node: Mapping[str, Any], where: Where, upstream_name: str | None = None) -> str:
        """The fragment's name for the enum used at `where`: the one overrides.yaml gives the place, else the default.

        The default is upstream's own name for a named enum (`upstream_name`), the generator's for an inline one.
        The name overrides.yaml gives follows the enum between the two spellings; when that name is already made
        from an enum with other values, the enum keeps its default name and a note says so.
        """
        named = self.enum_name(where.location)
        if upstream_name is not None and (named is None or str(named.value) == upstream_name):
            return self.component(upstream_name, where.location)
        name = str(named.value) if named else where.name
        notes, constant = len(self.notes), name in self.constants
        schema = self.enum_schema(node, name, where.location)
        if named is not None and self.clashes(name, schema):
            # What enum_schema noted or marked was about another enum than the one that has the name.
            del self.notes[notes:]
            if not constant:
                self.constants.discard(name)
            default = upstream_name or where.name
            self.notes.append(
                f"spec/overrides.yaml: {named.section}: {where.location} names its enum {name}, but {name} is made "
                f"from {self.origins[name]}, whose values differ in this document; this one is named {default}"
            )
            if upstream_name is not None:
                return self.component(upstream_name, where.location)
            name, schema = default, self.enum_schema(node, default, where.location)
        self.register(name, schema, where.location)
        return name

    def hoist(self, node: Mapping[str, Any], where: Where) -> str:
        """Give an inline enum or object a schema of its own; return its name."""
        if _is_enum(node):
            return self.hoist_enum(node, where)
        named = self.override("schema_names", where.location) or self.override("known_values", where.location)
        name = str(named.value) if named else where.name
        if name not in self.building:
            self.building.add(name)
            try:
                schema = self.object_schema(node, name, where.direction)
            finally:
                self.building.discard(name)
            self.register(name, schema, where.location)
        return name

    def core(self, node: Mapping[str, Any], where: Where) -> tuple[dict[str, Any], str | None]:
        """The schema used at `where` before nullability and openness; and the enum it names, if any."""
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith(SCHEMA_REF):
                return self.core(self.split_null(self.deref(node, where.location), where.location)[0], where)
            target = self.enum_target(ref, where.location)
            if target is not None:
                # An enum upstream keeps in a schema of its own: named as overrides.yaml names the place, if it does.
                upstream, _ = self.split_null(self.schemas[target], ref)
                spelled_open = self.open_enum(upstream, ref)
                enum = self.hoist_enum(spelled_open if spelled_open is not None else upstream, where, target)
                return {"$ref": SCHEMA_REF + enum}, enum
            name = self.component(ref[len(SCHEMA_REF) :], where.location)
            renamed = self.overrides["schema_names"].get(where.location)
            if renamed is not None and ("schema_names", where.location) not in self.applied:
                # An object upstream now names itself keeps upstream's name: its fields' locations follow it.
                self.applied.add(("schema_names", where.location))
                if str(renamed.value) != name:
                    self.notes.append(
                        f"spec/overrides.yaml: schema_names: {where.location}: upstream now uses its own schema "
                        f"{name} here, which keeps upstream's name, not {renamed.value}"
                    )
            return {"$ref": SCHEMA_REF + name}, None
        if _is_enum(node):
            name = self.hoist(node, where)
            return {"$ref": SCHEMA_REF + name}, name
        if _is_object(node):
            return {"$ref": SCHEMA_REF + self.hoist(node, where)}, None
        if "allOf" in node:
            parts = node["allOf"]
            if isinstance(parts, list) and len(parts) == 1:
                inner, _ = self.split_null(parts[0], where.location)
                return self.core(inner, where)
            return {"$ref": SCHEMA_REF + self.hoist(node, where)}, None
        spelled_open = self.open_enum(node, where.location)
        if spelled_open is not None:
            return self.core(spelled_open, where)
        for key in ("anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                return {"anyOf": [self.use(b, where.branch(i)) for i, b in enumerate(node[key])]}, None
        schema: dict[str, Any] = {}
        kind = node.get("type")
        if kind is not None:
            schema["type"] = kind
        if kind == "array" or "items" in node:
            schema["type"] = "array"
            schema["items"] = self.use(node.get("items", {}), where.items())
        if node.get("format") == "binary":
            schema["format"] = "binary"
        schema.update(_bounds(node))
        return self.with_bounds(schema, where.location), None

    def use(self, node: Any, where: Where) -> dict[str, Any]:
        """The schema for the place `where`, shaped by the rules."""
        node, nullable = self.split_null(node, where.location)
        core, enum = self.core(node, where)
        listed = self.overrides["known_values"].get(where.location)
        if listed is not None and enum is None and core.get("type") == "string" and set(core) == {"type"}:
            self.applied.add(("known_values", where.location))
            self.known_values[where.location] = enum = str(listed.value)
            core = {"$ref": SCHEMA_REF + enum}
        const = node.get("x-stainless-const") is True or "const" in node or enum in self.constants
        open_enum = enum is not None and (
            where.direction == RESPONSE or listed is not None or not (where.parameter or const)
        )
        if self.override("nullable", where.location):
            nullable = True
        nullable = nullable or (where.direction == RESPONSE and where.optional)
        if not open_enum and not nullable and "$ref" in core:
            return core  # a description beside a bare $ref would be lost on the generator
        # A parameter's description is the parameter's own, not its schema's.
        description = None if where.parameter else self.describe(where.location, node.get("description"))
        if not open_enum and not nullable:
            return {**({"description": description} if description else {}), **core}
        parts = [core]
        if open_enum:
            enum_type = self.components.get(enum or "", {}).get("type") or "string"
            parts.append({"type": enum_type})
        if nullable:
            parts.append({"type": "null"})
        return {**({"description": description} if description else {}), "anyOf": parts}

    # --- operations ---

    def parameters(self, op: Operation, item: Mapping[str, Any], up: Mapping[str, Any], op_name: str) -> list[Any]:
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        path_level = sequence(item.get("parameters"), op.path, "parameters")
        for raw in [*path_level, *sequence(up.get("parameters"), op.label, "parameters")]:
            param = self.deref(raw, op.label)
            if not isinstance(param, Mapping) or "name" not in param or "in" not in param:
                raise SpecError(f"upstream: {op.label}: a parameter without `name` or `in`: {raw!r}")
            merged[(str(param["name"]), str(param["in"]))] = param
        out = []
        for (name, where_in), param in merged.items():
            schema = param.get("schema")
            content = mapping(param.get("content"), op.label, "a parameter's content")
            if schema is None and content:
                schema = mapping(next(iter(content.values())), op.label, "a parameter's media type").get("schema")
            location = f"{op.label}?{name}"
            shaped: dict[str, Any] = {"name": name, "in": where_in}
            shaped["required"] = bool(param.get("required")) or where_in == "path"
            description = self.describe(location, param.get("description"))
            if description:
                shaped["description"] = description
            where = Where(location, f"{op_name}{pascal(name)}", REQUEST, parameter=True)
            shaped["schema"] = self.use(schema if schema is not None else {}, where)
            out.append(shaped)
        return out

    def content(self, node: Any, where: Where) -> dict[str, Any]:
        content = mapping(mapping(node, where.location, "a body").get("content"), where.location, "content")
        return {
            str(media): {"schema": self.use(spec.get("schema", {}) if isinstance(spec, Mapping) else {}, where)}
            for media, spec in content.items()
        }

    def operation(self, op: Operation) -> dict[str, Any]:
        item = self.deref(mapping(self.root.get("paths"), "the document", "paths").get(op.path), op.label)
        up = item.get(op.method) if isinstance(item, Mapping) else None
        if not isinstance(up, Mapping):
            raise SpecError(
                f"{op.label} is listed in spec/operations.yaml but the upstream document has no such operation; "
                "if upstream removed it, remove it from the list (and the overlay's use of it)"
            )
        op_id = up.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            raise SpecError(f"upstream: {op.label} has no operationId (the generator names its function after it)")
        op_name = pascal(op_id)
        responses = {str(k): v for k, v in mapping(up.get("responses"), op.label, "responses").items()}
        if "200" not in responses:
            declared = ", ".join(responses) or "none"
            raise SpecError(f"upstream: {op.label} declares no 200 response (it declares: {declared})")
        for status in responses:
            if status.startswith("2") and status != "200":
                self.notes.append(f"{op.label}: upstream also declares success status {status}; only 200 is kept")

        shaped: dict[str, Any] = {"operationId": op_id}
        tags = names(up.get("tags"), op.label, "tags")
        if tags:
            shaped["tags"] = tags
        summary = self.describe(op.label, up.get("summary") or up.get("description"))
        if summary:
            shaped["summary"] = summary
        parameters = self.parameters(op, item, up, op_name)
        if parameters:
            shaped["parameters"] = parameters
        if up.get("requestBody") is not None:
            body = mapping(self.deref(up["requestBody"], op.label), op.label, "requestBody")
            where = Where(f"{op.label} request", f"{op_name}Request", REQUEST)
            shaped["requestBody"] = {"required": bool(body.get("required")), "content": self.content(body, where)}
        ok = mapping(self.deref(responses["200"], op.label), op.label, "the 200 response")
        location = f"{op.label} 200"
        binary = self.override("binary_responses", op.label)
        if binary is not None:
            content = {str(binary.value): {"schema": {"type": "string", "format": "binary"}}}
        else:
            content = self.content(ok, Where(location, f"{op_name}Response", RESPONSE))
        response: dict[str, Any] = {"description": self.describe(location, ok.get("description")) or "OK"}
        if content:
            response["content"] = content
        shaped["responses"] = {"200": response}
        return shaped

    # --- the whole document ---

    def derive(self) -> Derivation:
        paths = mapping(self.root.get("paths"), "the document", "paths")
        for op in self.config.operations:
            item = self.deref(paths.get(op.path), op.label)
            up = item.get(op.method) if isinstance(item, Mapping) else None
            if isinstance(up, Mapping):
                params = [
                    *sequence(item.get("parameters"), op.path, "parameters"),
                    *sequence(up.get("parameters"), op.label, "parameters"),
                ]
                self.mark_directions(params, REQUEST, op.label)
                self.mark_directions(up.get("requestBody"), REQUEST, op.label)
                ok = {str(k): v for k, v in mapping(up.get("responses"), op.label, "responses").items()}.get("200")
                if self.overrides["binary_responses"].get(op.label) is None:
                    self.mark_directions(ok, RESPONSE, op.label)
        fragment_paths: dict[str, dict[str, Any]] = {}
        tags: list[str] = []
        for op in self.config.operations:
            shaped = self.operation(op)
            fragment_paths.setdefault(op.path, {})[op.method] = shaped
            tags.extend(t for t in shaped.get("tags", []) if t not in tags)
        for location, enum in self.known_values.items():
            if "enum" not in self.components.get(enum, {}):
                self.unresolved[("known_values", location)] = (
                    f"spec/overrides.yaml: known_values: {location} lists the values of {enum}, which this document "
                    f"does not define as an enum, so {location} stays a plain string (if upstream renamed or moved "
                    "that enum, name it anew in schema_names)"
                )
        if self.unresolved:
            return Derivation({}, [], [])  # derive() runs again without these overrides

        fragment: dict[str, Any] = {"openapi": "3.1.0", "info": self.info()}
        servers = sequence(self.root.get("servers"), "the document", "servers")
        urls = [{"url": server["url"]} for server in servers if isinstance(server, Mapping) and "url" in server]
        if urls:
            fragment["servers"] = urls
        security = sequence(self.root.get("security"), "the document", "security")
        if security:
            fragment["security"] = security
        if tags:
            fragment["tags"] = [self.tag(name) for name in tags]
        fragment["paths"] = fragment_paths
        components: dict[str, Any] = {}
        schemes = self.security_schemes(security)
        if schemes:
            components["securitySchemes"] = schemes
        components["schemas"] = {name: self.components[name] for name in sorted(self.components)}
        fragment["components"] = components
        notes = [*self.withdrawn.values(), *self.notes, *self.unused()]
        return Derivation(fragment, list(dict.fromkeys(notes)), self.not_vendored())

    def info(self) -> dict[str, Any]:
        up = self.root.get("info")
        up = up if isinstance(up, Mapping) else {}
        info: dict[str, Any] = {"title": TITLE, "description": DESCRIPTION, "version": str(up.get("version", ""))}
        if isinstance(up.get("license"), Mapping):
            info["license"] = dict(up["license"])
        return info

    def tag(self, name: str) -> dict[str, Any]:
        for tag in sequence(self.root.get("tags"), "the document", "tags"):
            if isinstance(tag, Mapping) and tag.get("name") == name:
                description = self.describe(f"tag {name}", tag.get("description"))
                return {"name": name, **({"description": description} if description else {})}
        return {"name": name}

    def security_schemes(self, security: object) -> dict[str, Any]:
        requirements = security if isinstance(security, list) else []
        names = [name for req in requirements if isinstance(req, Mapping) for name in req]
        components = mapping(self.root.get("components"), "the document", "components")
        up = mapping(components.get("securitySchemes"), "components", "securitySchemes")
        return {name: up[name] for name in dict.fromkeys(names) if name in up}

    def unused(self) -> list[str]:
        notes = [
            f"spec/overrides.yaml: {e.section}: {e.location} does not apply to this document{self.hint(e.location)}"
            for e in self.config.overrides.entries
            if (e.section, e.location) not in self.applied and (e.section, e.location) not in self.withdrawn
        ]
        notes.extend(
            f"spec/descriptions.yaml: {location} is not used (upstream's own is short, or there is no such place)"
            f"{self.hint(location)}"
            for location in self.config.descriptions
            if location not in self.described
        )
        return notes

    def hint(self, location: str) -> str:
        """Why a `Schema.field` location found nothing, when the schema or its field is missing (renamed upstream?)."""
        if " " in location:
            return ""  # an operation, a parameter or a response
        schema, _, rest = location.partition(".")
        schema = re.split(r"[\[{<]", schema, maxsplit=1)[0]
        if schema not in self.components:
            return f"; this document has no schema {schema}"
        field = re.split(r"[.\[{<]", rest, maxsplit=1)[0]
        if field and field not in self.components[schema].get("properties", {}):
            return f"; {schema} has no field {field}"
        return ""

    def not_vendored(self) -> list[str]:
        roots = {op.path.split("/")[1] for op in self.config.operations}
        vendored = {op.label for op in self.config.operations}
        found = []
        for path, item in mapping(self.root.get("paths"), "the document", "paths").items():
            if str(path).split("/")[1:2] and str(path).split("/")[1] in roots and isinstance(item, Mapping):
                for method in ("get", "put", "post", "delete", "patch", "options", "head", "trace"):
                    label = f"{method.upper()} {path}"
                    if isinstance(item.get(method), Mapping) and label not in vendored:
                        found.append(label)
        return found


_SECTIONS = (
    "schema_names",
    "known_values",
    "enum_member_names",
    "dropped_values",
    "nullable",
    "bounds",
    "binary_responses",
    "form_brackets",
)


def derive(upstream: Mapping[str, Any], config: Config) -> Derivation:
    """The fragment for `config`'s operations, shaped by the rules, from the upstream document.

    An override found to name an enum this document lacks is only known once every schema is made; the document is
    derived again without it, so the places it names keep upstream's shape, and its note says why.
    """
    withdrawn: dict[tuple[str, str], str] = {}
    while True:
        deriver = Deriver(upstream, config, withdrawn)
        result = deriver.derive()
        if not deriver.unresolved:
            return result
        withdrawn.update(deriver.unresolved)
