"""List the structural differences between our OpenAPI fragment and the upstream OpenAI document.

Every operation in ours (method + path) is compared with the same operation upstream; for each path we vendor,
methods only upstream has are reported too. Compared: parameters (by name and `in`: presence, `required`, schema),
the request body (presence, `required`, media types, schema) and the 200 response body schema. Schemas are
compared recursively after resolving local `$ref`s in their own document: type, nullability, enum values,
properties, `required` sets, array items, `additionalProperties`, `allOf` (merged) and remaining unions (by position).

Our deliberate shaping is normalised away before comparing:
- `anyOf`/`oneOf` branches and `type` lists that are `null`, and OpenAPI 3.0 `nullable: true`, make a schema
  nullable; a nullable schema equals its non-null part (so upstream's `Metadata` = `anyOf [object, null]` matches
  ours). Ours may be nullable where upstream is not, but only on properties neither side requires.
- An open enum, `anyOf [<enum>, {type: <same type>}]`, counts as that enum.
- Annotations are ignored: description, title, summary, example(s), default, format, deprecated, readOnly,
  writeOnly, discriminator, x-* extensions, operationId, tags, security, response headers, parameter style.
  Only local `$ref`s are followed (`$recursiveRef` counts as any schema).

An operation may carry `x-drift-allowed: <reason>` for a documented, deliberate departure (the Files content
endpoint returns raw bytes where upstream declares a JSON string): its differences are listed as notes. Form bodies
spelled as bracketed fields (`expires_after[seconds]`) are folded back into the nested object they encode. A
response field that ours makes nullable is a note, since tolerating null breaks nothing; in a request it is drift.

Drift (exit status 1) is every difference above, plus: an operation of ours missing upstream; upstream declaring
a success status other than 200 we do not declare; upstream having no enum where ours has a closed one, or the
reverse. Notes (printed, never drift): different bounds (minimum, maximum, lengths, item counts, pattern), ours
listing known values of an open enum where upstream has no enum, and non-success statuses declared on one side
only (ours declares 200 only; the overlay maps every other status).

Exit status: 0 no drift, 1 drift, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BOUND_KEYS = (
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
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_MISSING = object()

# PyYAML built without libyaml lacks CSafeLoader; SafeLoader gives the same result, several times slower.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecError(Exception):
    """An input that cannot be compared (unreadable, not YAML, not OpenAPI, a bad `$ref`)."""


@dataclass(frozen=True)
class Finding:
    severity: str  # "drift" or "note"
    kind: str
    operation: str
    where: str
    location: str
    message: str

    def line(self) -> str:
        head = f"{self.operation} {self.where}".rstrip()
        body = f"{self.location} {self.message}" if self.location else self.message
        return f"{head}: {body}"


@dataclass(frozen=True)
class Doc:
    name: str
    root: Mapping[str, Any]

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SpecError(f"{self.name}: only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for raw in ref[1:].split("/")[1:]:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SpecError(f"{self.name}: cannot resolve $ref {ref!r}")
        return node

    def deref(self, node: Any) -> tuple[Any, frozenset[str]]:
        """Follow a chain of `$ref`s; also return the refs followed."""
        seen: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise SpecError(f"{self.name}: $ref cycle through {ref!r}")
            seen.append(ref)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            target = self.resolve(ref)
            # 3.1 allows keywords beside $ref; they constrain alongside the target.
            node = {"allOf": [target, siblings]} if _structural(siblings) else target
        return node, frozenset(seen)


def _structural(node: Mapping[str, Any]) -> bool:
    return any(
        not (k.startswith("x-") or k in {"description", "title", "summary", "example", "examples"}) for k in node
    )


@dataclass
class Shape:
    """A schema reduced to what the comparison looks at."""

    types: frozenset[str] | None = None  # None: any type; "null" is kept here until finish()
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    open_enum: bool = False
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Any = None
    additional: Any = None  # None when unstated; True, False or a schema node
    variants: list[Shape] = field(default_factory=list)
    bounds: dict[str, Any] = field(default_factory=dict)
    refs: frozenset[str] = frozenset()

    def bare(self) -> bool:
        structure = (self.enum, self.items, self.additional)
        return all(part is None for part in structure) and not (self.properties or self.variants or self.bounds)


def _conj(a: Shape, b: Shape) -> Shape:
    if a.types is None:
        types = b.types
    elif b.types is None:
        types = a.types
    else:
        types = a.types & b.types
    props = dict(a.properties)
    for name, node in b.properties.items():
        props[name] = {"allOf": [props[name], node]} if name in props else node
    enum = a.enum if b.enum is None else b.enum if a.enum is None else tuple(v for v in a.enum if v in b.enum)
    return Shape(
        types=types,
        enum=enum,
        open_enum=a.open_enum or b.open_enum,
        properties=props,
        required=a.required | b.required,
        items=b.items if b.items is not None else a.items,
        additional=b.additional if b.additional is not None else a.additional,
        variants=a.variants or b.variants,
        bounds={**a.bounds, **b.bounds},
        refs=a.refs | b.refs,
    )


def _union(branches: list[Shape]) -> Shape:
    has_null = any(s.types is not None and "null" in s.types for s in branches)
    rest = [s for s in branches if not (s.types == frozenset({"null"}) and s.bare())]
    refs = frozenset().union(*(s.refs for s in branches))
    null = frozenset({"null"}) if has_null else frozenset()

    def with_null(s: Shape) -> Shape:
        return replace(s, types=None if s.types is None else s.types | null, refs=s.refs | refs)

    if len(rest) == 1:
        return with_null(rest[0])
    if len(rest) == 2:
        enums = [s for s in rest if s.enum is not None]
        plain = [s for s in rest if s.bare()]
        if len(enums) == 1 and len(plain) == 1 and plain[0].types is not None and enums[0].types == plain[0].types:
            return with_null(replace(enums[0], open_enum=True))
    if rest and all(s.bare() and s.types is not None for s in rest):
        types = frozenset().union(*(s.types or frozenset() for s in rest))
        return Shape(types=types | null, refs=refs)
    if any(s.types is None for s in rest):
        return Shape(types=None, variants=rest, refs=refs)
    types = frozenset().union(*(s.types or frozenset() for s in rest))
    return Shape(
        types=types | null, variants=[replace(s, types=(s.types or frozenset()) - {"null"}) for s in rest], refs=refs
    )


def shape_of(doc: Doc, node: Any) -> Shape:
    """Normalise a schema node of `doc` into a Shape."""
    node, refs = doc.deref(node)
    if node is True or node is None or node == {}:
        return Shape(refs=refs)
    if node is False:
        return Shape(types=frozenset(), refs=refs)
    if not isinstance(node, Mapping):
        raise SpecError(f"{doc.name}: a schema is not a mapping: {node!r}")
    own = Shape(refs=refs)
    raw_type = node.get("type")
    if isinstance(raw_type, str):
        own.types = frozenset({raw_type})
    elif isinstance(raw_type, list):
        own.types = frozenset(str(t) for t in raw_type)
    if "enum" in node or "const" in node:
        values = list(node["enum"]) if "enum" in node else [node["const"]]
        own.enum = tuple(v for v in values if v is not None)
        if None in values and own.types is not None:
            own.types |= {"null"}
        if own.types is None and own.enum and all(isinstance(v, str) for v in own.enum):
            own.types = frozenset({"string"})
    if node.get("nullable") is True and own.types is not None:
        own.types |= {"null"}
    if isinstance(node.get("properties"), Mapping):
        own.properties = dict(node["properties"])
    if isinstance(node.get("required"), list):
        own.required = frozenset(str(n) for n in node["required"])
    if "items" in node:
        own.items = node["items"]
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        own.additional = True if extra == {} else extra
    if own.types is None and (own.properties or own.additional is not None):
        own.types = frozenset({"object"})
    if own.types is None and own.items is not None:
        own.types = frozenset({"array"})
    own.bounds = {k: node[k] for k in BOUND_KEYS if k in node}
    result = own
    for part in node.get("allOf") or []:
        result = _conj(result, shape_of(doc, part))
    for key in ("anyOf", "oneOf"):
        if node.get(key):
            result = _conj(result, _union([shape_of(doc, part) for part in node[key]]))
    return result


def _finish(s: Shape) -> Shape:
    if s.types is None:
        return s
    return replace(s, types=s.types - {"null"}, nullable="null" in s.types)


def _fmt_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def _fmt_extra(extra: Any) -> str:
    return "allowed" if extra is None or extra is True else "forbidden" if extra is False else "a schema"


class Comparer:
    """Compares the schemas of one operation part (a parameter, request body or response)."""

    def __init__(self, ours: Doc, upstream: Doc, operation: str, where: str, out: list[Finding]) -> None:
        self.ours, self.upstream = ours, upstream
        self.operation, self.where, self.out = operation, where, out
        self.active: set[tuple[frozenset[str], frozenset[str]]] = set()

    def add(self, kind: str, location: str, message: str, severity: str = "drift") -> None:
        self.out.append(Finding(severity, kind, self.operation, self.where, location, message))

    def compare(self, ours_node: Any, up_node: Any, loc: str = "", optional_property: bool = False) -> None:
        o, u = _finish(shape_of(self.ours, ours_node)), _finish(shape_of(self.upstream, up_node))
        key = (o.refs, u.refs)
        if o.refs and u.refs and key in self.active:
            return  # a recursive schema, already being compared further up
        self.active.add(key)
        try:
            self._compare(o, u, loc, optional_property)
        finally:
            self.active.discard(key)

    def _compare(self, o: Shape, u: Shape, loc: str, optional_property: bool) -> None:
        if o.types != u.types:
            self.add("type", loc, f"type changed: upstream {_fmt_types(u.types)}, ours {_fmt_types(o.types)}")
            if o.types is not None and u.types is not None:
                return  # what lies below a changed type is a different schema, not drift within one
        if u.nullable and not o.nullable:
            self.add("nullable", loc, "upstream allows null, ours does not")
        elif o.nullable and not u.nullable and not optional_property:
            # A null the client tolerates in a response breaks nothing; one it may send in a request can.
            if self.where.startswith("200"):
                self.add("nullable", loc, "ours tolerates null where upstream does not", severity="note")
            else:
                self.add("nullable", loc, "ours allows null where upstream does not")
        self._compare_enum(o, u, loc)
        self._compare_object(o, u, loc)
        if o.items is not None or u.items is not None:
            if o.items is None or u.items is None:
                side = "ours" if o.items is None else "upstream"
                self.add("items", loc, f"array items declared on one side only ({side} has none)")
            else:
                self.compare(o.items, u.items, f"{loc}[]")
        if len(o.variants) != len(u.variants):
            self.add("variants", loc, f"union has {len(u.variants)} branches upstream, {len(o.variants)} in ours")
        else:
            for i, (ov, uv) in enumerate(zip(o.variants, u.variants, strict=True)):
                self._compare(_finish(ov), _finish(uv), f"{loc}<{i}>", optional_property=False)
        if o.bounds != u.bounds:
            changes = [
                f"{k} upstream {u.bounds.get(k, 'none')}, ours {o.bounds.get(k, 'none')}"
                for k in BOUND_KEYS
                if o.bounds.get(k, _MISSING) != u.bounds.get(k, _MISSING)
            ]
            self.add("bounds", loc, "bounds differ: " + "; ".join(changes), severity="note")

    def _compare_enum(self, o: Shape, u: Shape, loc: str) -> None:
        if o.enum is not None and u.enum is not None:
            for value in u.enum:
                if value not in o.enum:
                    self.add("enum-missing", loc, f"enum missing value {json.dumps(value, default=str)}")
            for value in o.enum:
                if value not in u.enum:
                    self.add("enum-extra", loc, f"enum has extra value {json.dumps(value, default=str)} (not upstream)")
        elif u.enum is not None:
            values = ", ".join(json.dumps(v, default=str) for v in u.enum)
            self.add("enum-missing", loc, f"upstream is an enum ({values}), ours is not")
        elif o.enum is not None:
            if o.open_enum:
                self.add("enum-open", loc, "ours lists known values (open enum); upstream has no enum", "note")
            else:
                self.add("enum-extra", loc, "ours is a closed enum, upstream has no enum")

    def _compare_object(self, o: Shape, u: Shape, loc: str) -> None:
        for name in u.properties:
            if name not in o.properties:
                req = ", required" if name in u.required else ""
                self.add("field-missing", f"{loc}.{name}", f"missing field (upstream has it{req})")
        for name, node in o.properties.items():
            if name not in u.properties:
                req = ", required" if name in o.required else ""
                self.add("field-extra", f"{loc}.{name}", f"extra field (not upstream{req})")
            else:
                optional = name not in u.required and name not in o.required
                self.compare(node, u.properties[name], f"{loc}.{name}", optional_property=optional)
        both = o.properties.keys() & u.properties.keys()
        for name in sorted(u.required - o.required):
            if name in both or name not in u.properties:
                self.add("required", f"{loc}.{name}", "required upstream, optional in ours")
        for name in sorted(o.required - u.required):
            if name in both or name not in o.properties:
                self.add("required", f"{loc}.{name}", "required in ours, optional upstream")
        o_extra, u_extra = o.additional, u.additional
        o_schema, u_schema = isinstance(o_extra, Mapping), isinstance(u_extra, Mapping)
        if o_schema and u_schema:
            self.compare(o_extra, u_extra, f"{loc}{{}}")
        elif _fmt_extra(o_extra) != _fmt_extra(u_extra):
            self.add(
                "additional-properties",
                loc,
                f"additionalProperties: upstream {_fmt_extra(u_extra)}, ours {_fmt_extra(o_extra)}",
            )


def _operations(doc: Doc) -> Iterator[tuple[str, str, Mapping[str, Any], list[Any]]]:
    for path, item in doc.root["paths"].items():
        item, _ = doc.deref(item)
        if not isinstance(item, Mapping):
            raise SpecError(f"{doc.name}: path {path!r} is not a mapping")
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                yield str(path), method, op, list(item.get("parameters") or [])


def _parameters(doc: Doc, op: Mapping[str, Any], path_level: list[Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    params: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*path_level, *(op.get("parameters") or [])]:
        param, _ = doc.deref(raw)
        if not isinstance(param, Mapping) or "name" not in param or "in" not in param:
            raise SpecError(f"{doc.name}: a parameter without name or in: {raw!r}")
        params[(str(param["name"]), str(param["in"]))] = param
    return params


def _param_schema(param: Mapping[str, Any]) -> Any:
    if "schema" in param:
        return param["schema"]
    content = param.get("content")
    if isinstance(content, Mapping) and content:
        media = next(iter(content.values()))
        return media.get("schema") if isinstance(media, Mapping) else None
    return None


def _content(doc: Doc, node: Any) -> dict[str, Any]:
    node, _ = doc.deref(node)
    content = node.get("content") if isinstance(node, Mapping) else None
    if not isinstance(content, Mapping):
        return {}
    return {str(mt): (media.get("schema") if isinstance(media, Mapping) else None) for mt, media in content.items()}


def _compare_bodies(c: Comparer, label: str, ours: dict[str, Any], upstream: dict[str, Any]) -> None:
    for mt in upstream:
        if mt not in ours:
            c.add("media-type", "", f"media type {mt} missing (upstream has it)")
    for mt in ours:
        if mt not in upstream:
            c.add("media-type", "", f"media type {mt} not upstream")
    common = [mt for mt in ours if mt in upstream]
    for mt in common:
        c.where = label if len(common) == 1 else f"{label} ({mt})"
        if mt in FORM_MEDIA_TYPES:
            c.compare(_unflatten_form(c.ours, ours[mt]), _unflatten_form(c.upstream, upstream[mt]))
        else:
            c.compare(ours[mt], upstream[mt])
    c.where = label


FORM_MEDIA_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
_FORM_FIELD = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")


def _unflatten_form(doc: Doc, node: Any) -> Any:
    """Fold form fields in bracket notation (`expires_after[seconds]`) back into the object they encode.

    Services read a nested form object as one field per member; a fragment that spells the fields out that way
    describes the same body as upstream's nested object. The members of one such object travel together, so all
    of them count as required within it.
    """
    resolved, _ = doc.deref(node)
    properties = resolved.get("properties") if isinstance(resolved, Mapping) else None
    if not isinstance(properties, Mapping) or not any(_FORM_FIELD.fullmatch(str(k)) for k in properties):
        return node
    flat: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name, schema in properties.items():
        match = _FORM_FIELD.fullmatch(str(name))
        if match:
            nested.setdefault(match[1], {})[match[2]] = schema
        else:
            flat[str(name)] = schema
    for parent, members in nested.items():
        flat[parent] = {"type": "object", "properties": members, "required": sorted(members)}
    required = [r for r in resolved.get("required") or [] if not _FORM_FIELD.fullmatch(str(r))]
    return {**resolved, "properties": flat, "required": required}


def compare_operation(
    ours: Doc, upstream: Doc, path: str, method: str, op: Mapping[str, Any], path_params: list[Any]
) -> list[Finding]:
    """Differences of one operation of ours against the same operation upstream."""
    out: list[Finding] = []
    operation = f"{method.upper()} {path}"
    up_item, _ = upstream.deref(upstream.root["paths"].get(path))
    up_op = up_item.get(method) if isinstance(up_item, Mapping) else None
    if not isinstance(up_op, Mapping):
        out.append(Finding("drift", "operation-missing", operation, "", "", "operation missing upstream"))
        return out
    up_path_params = list(up_item.get("parameters") or [])

    ours_params = _parameters(ours, op, path_params)
    up_params = _parameters(upstream, up_op, up_path_params)
    for key, param in up_params.items():
        if key not in ours_params:
            req = ", required" if param.get("required") else ""
            msg = f"missing {key[0]} (in {key[1]}) (upstream has it{req})"
            out.append(Finding("drift", "parameter-missing", operation, "parameters", "", msg))
    for key, param in ours_params.items():
        if key not in up_params:
            msg = f"extra {key[0]} (in {key[1]}) (not upstream)"
            out.append(Finding("drift", "parameter-extra", operation, "parameters", "", msg))
            continue
        where = f"parameter {key[0]} (in {key[1]})"
        o_req, u_req = bool(param.get("required")), bool(up_params[key].get("required"))
        if o_req != u_req:
            msg = "required upstream, optional in ours" if u_req else "required in ours, optional upstream"
            out.append(Finding("drift", "required", operation, where, "", msg))
        Comparer(ours, upstream, operation, where, out).compare(_param_schema(param), _param_schema(up_params[key]))

    body = Comparer(ours, upstream, operation, "request body", out)
    o_body, u_body = op.get("requestBody"), up_op.get("requestBody")
    if (o_body is None) != (u_body is None):
        body.add("request-body", "", "missing (upstream has one)" if o_body is None else "not upstream")
    elif o_body is not None:
        o_req = bool(ours.deref(o_body)[0].get("required"))
        u_req = bool(upstream.deref(u_body)[0].get("required"))
        if o_req != u_req:
            body.add(
                "required",
                "",
                "required upstream, optional in ours" if u_req else "required in ours, optional upstream",
            )
        _compare_bodies(body, "request body", _content(ours, o_body), _content(upstream, u_body))

    o_resp = {str(k): v for k, v in (op.get("responses") or {}).items()}
    u_resp = {str(k): v for k, v in (up_op.get("responses") or {}).items()}
    for status in sorted(u_resp.keys() - o_resp.keys()):
        if status.startswith("2"):
            msg = f"upstream declares success response {status}, ours does not"
            out.append(Finding("drift", "response-missing", operation, "responses", "", msg))
        else:
            msg = f"upstream declares response {status}; ours maps it in the overlay"
            out.append(Finding("note", "response-missing", operation, "responses", "", msg))
    for status in sorted(o_resp.keys() - u_resp.keys()):
        severity = "drift" if status == "200" else "note"
        msg = f"ours declares response {status}, upstream does not"
        out.append(Finding(severity, "response-extra", operation, "responses", "", msg))
    if "200" in o_resp and "200" in u_resp:
        ok = Comparer(ours, upstream, operation, "200", out)
        _compare_bodies(ok, "200", _content(ours, o_resp["200"]), _content(upstream, u_resp["200"]))
    allowed = op.get("x-drift-allowed")
    if isinstance(allowed, str) and allowed:
        # A deliberate, documented departure from upstream: still listed, no longer counted.
        out = [
            replace(f, severity="note", message=f"{f.message} (allowed: {allowed})") if f.severity == "drift" else f
            for f in out
        ]
    return out


def compare_documents(ours: Doc, upstream: Doc) -> tuple[list[str], dict[str, list[Finding]]]:
    """Findings per operation, in the order of our document; also return the operations of ours."""
    groups: dict[str, list[Finding]] = {}
    compared: list[str] = []
    up_paths = upstream.root["paths"]
    for path, method, op, path_params in _operations(ours):
        operation = f"{method.upper()} {path}"
        compared.append(operation)
        groups[operation] = compare_operation(ours, upstream, path, method, op, path_params)
    for path in dict.fromkeys(path for path, *_ in _operations(ours)):
        up_item, _ = upstream.deref(up_paths.get(path))
        if not isinstance(up_item, Mapping):
            continue
        for method in METHODS:
            if isinstance(up_item.get(method), Mapping) and f"{method.upper()} {path}" not in groups:
                operation = f"{method.upper()} {path}"
                groups[operation] = [
                    Finding("drift", "method-missing", operation, "", "", "operation missing in ours (upstream has it)")
                ]
    return compared, groups


def load_document(path: Path, label: str) -> Doc:
    """Read an OpenAPI 3.x document; raise SpecError with a readable message on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{label}: no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{label}: cannot read {path}: {exc}") from None
    try:
        root = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{label}: {path} is not valid YAML: {exc}") from None
    if not isinstance(root, Mapping) or not str(root.get("openapi", "")).startswith("3."):
        raise SpecError(f"{label}: {path} is not an OpenAPI 3.x document (no `openapi: 3.x` at the top)")
    if not isinstance(root.get("paths"), Mapping):
        raise SpecError(f"{label}: {path} has no `paths` mapping")
    return Doc(f"{label} ({path})", root)


def format_report(compared: list[str], groups: dict[str, list[Finding]]) -> str:
    lines: list[str] = []
    drift_total = notes_total = drifting_ops = 0
    for operation, findings in groups.items():
        drift = [f for f in findings if f.severity == "drift"]
        notes = [f for f in findings if f.severity == "note"]
        drift_total += len(drift)
        notes_total += len(notes)
        drifting_ops += bool(drift)
        status = f"{len(drift)} difference{'s' * (len(drift) != 1)}" if drift else "no drift"
        lines.append(f"{operation}: {status}")
        lines.extend(f"  {f.line()}" for f in drift)
        lines.extend(f"  note: {f.line()}" for f in notes)
    n_ops = len(compared)
    notes_text = f" ({notes_total} note{'s' * (notes_total != 1)})"
    if drift_total:
        summary = f"spec drift: {drift_total} difference{'s' * (drift_total != 1)} in {drifting_ops} operation"
        summary += f"{'s' * (drifting_ops != 1)}; {n_ops} operation{'s' * (n_ops != 1)} of ours compared{notes_text}"
    else:
        summary = f"spec drift: none; {n_ops} operation{'s' * (n_ops != 1)} of ours compared{notes_text}"
    lines.append(summary)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--ours",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "openapi.yaml",
        help="our fragment (default %(default)s)",
    )
    parser.add_argument(
        "--upstream",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "spec" / "upstream" / "openai-openapi.yaml",
        help="the upstream OpenAI document (default %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    args = parser.parse_args(argv)
    try:
        ours = load_document(args.ours, "ours")
        upstream = load_document(args.upstream, "upstream")
        compared, groups = compare_documents(ours, upstream)
    except SpecError as exc:
        print(f"spec_drift: error: {exc}", file=sys.stderr)
        return 2
    findings = [f for fs in groups.values() for f in fs]
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2, default=str))
    else:
        print(format_report(compared, groups))
    return 1 if any(f.severity == "drift" for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
