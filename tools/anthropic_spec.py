"""Cut anthropic-openapi.yaml, the fragment the Anthropic Message Batches client is generated from.

    python tools/anthropic_spec.py [--upstream spec/anthropic/hosted_spec.json] [--output anthropic-openapi.yaml]
        [--check]

The input is the vendored upstream document (spec/anthropic/hosted_spec.json, where it comes from in
spec/anthropic/source.yaml) and the departures from it, each with its reason (spec/anthropic/overrides.yaml). The
output keeps only the Message Batches operations (create, list, retrieve, cancel, delete, results) and the schemas
they use, shaped by the rules tools/spec_update applies to the OpenAI document:

- header parameters are left out (`x-api-key`, `anthropic-version`, `anthropic-beta`): the client sends them on
  every request, as its settings, and the generated request builders would only duplicate them;
- response enums are open (`anyOf [<enum>, {type: string}]`), hoisted to a named schema, so a status or type the API
  adds later is kept, not rejected; request enums stay closed;
- every optional field of a response schema is nullable and required with `x-absent-is-null: true`, as is every
  field upstream declares nullable; the client reads a field the body leaves out as null;
- only 200 responses are declared (the overlay maps every other status and body to its own errors);
- `title`, `examples`, `const` and `default` of response fields are left out, descriptions keep their first
  paragraph;
- the results endpoint is declared with its `application/x-jsonl` body as a binary string, so the generator emits
  its request builder; the overlay streams and decodes the lines itself (their schema,
  MessageBatchIndividualResponse, is declared as a component).

--check writes nothing and exits 1 if the output would differ from the file (`make check-spec`). The output is a
pure function of the inputs: the same bytes on every run. Exit status: 0 written or up to date, 1 --check found a
difference, 2 an input error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spec_update.yaml_io import SpecError, dump_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "spec" / "anthropic" / "hosted_spec.json"
SOURCE = ROOT / "spec" / "anthropic" / "source.yaml"
OVERRIDES = ROOT / "spec" / "anthropic" / "overrides.yaml"
OUTPUT = ROOT / "anthropic-openapi.yaml"

UPSTREAM_REF = "#/components/schemas/"
TITLE = "Anthropic Message Batches API (openai-batches fragment)"
DESCRIPTION = "The Message Batches endpoints of the Anthropic API, shaped for openai-batches."
REQUEST, RESPONSE = "request", "response"
_DROPPED_KEYS = frozenset({"title", "examples", "const", "default", "x-stainless-override-schema"})
_BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems")
_SOURCE_FIELDS = ("repository", "path", "commit", "commit_date", "fetched", "sha256")


def pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def first_paragraph(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return " ".join(text.strip().split("\n\n")[0].split())


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


class Cutter:
    """Walks the vendored operations and the schemas they reach, writing each in the fragment's shape."""

    def __init__(self, upstream: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
        self.upstream = upstream
        self.overrides = overrides
        self.upstream_schemas = dict(_mapping(upstream.get("components", {}).get("schemas"), "upstream schemas"))
        for name, entry in _mapping(overrides.get("added_schemas", {}), "added_schemas").items():
            if name in self.upstream_schemas:
                raise SpecError(f"added_schemas: upstream has {name} now; drop the entry")
            self.upstream_schemas[name] = _mapping(entry, f"added_schemas.{name}")["schema"]
        self.names: Mapping[str, str] = _mapping(overrides.get("schema_names", {}), "schema_names")
        self.free_form: Mapping[str, Any] = _mapping(overrides.get("free_form", {}), "free_form")
        self.replaced: Mapping[str, Any] = _mapping(overrides.get("replaced", {}), "replaced")
        self.merged: Mapping[str, Any] = _mapping(overrides.get("merged_one_of", {}), "merged_one_of")
        self.dropped_formats = frozenset(_mapping(overrides.get("dropped_formats", {}), "dropped_formats"))
        self.schemas: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.applied: set[str] = set()
        for section in (
            "added_operations",
            "added_schemas",
            "free_form",
            "replaced",
            "merged_one_of",
            "dropped_formats",
        ):
            for location, entry in _mapping(overrides.get(section, {}), section).items():
                if not str(_mapping(entry, f"{section}.{location}").get("reason") or "").strip():
                    raise SpecError(f"{section}.{location}: every departure needs its reason")

    # --- names and references ---

    def name(self, upstream_name: str) -> str:
        return str(self.names.get(upstream_name, upstream_name))

    def ref(self, upstream_name: str, direction: str) -> dict[str, Any]:
        if upstream_name not in self.upstream_schemas:
            raise SpecError(f"upstream has no schema {upstream_name}")
        name = self.name(upstream_name)
        if name not in self.schemas and name not in self.used:
            self.used.add(name)
            self.schemas[name] = self.object_schema(self.upstream_schemas[upstream_name], upstream_name, direction)
        return {"$ref": f"{UPSTREAM_REF}{name}"}

    def _target(self, node: Mapping[str, Any]) -> str | None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith(UPSTREAM_REF):
                raise SpecError(f"unsupported reference {ref}")
            return ref.removeprefix(UPSTREAM_REF)
        return None

    # --- schemas ---

    def object_schema(self, node: Mapping[str, Any], upstream_name: str, direction: str) -> dict[str, Any]:
        node = _mapping(node, upstream_name)
        if node.get("type") != "object" and "properties" not in node:
            raise SpecError(f"{upstream_name}: expected an object schema")
        out: dict[str, Any] = {"type": "object"}
        description = first_paragraph(node.get("description"))
        if description:
            out["description"] = description
        properties = _mapping(node.get("properties", {}), f"{upstream_name}.properties")
        required = set(node.get("required", []))
        fields: dict[str, Any] = {}
        nullable_fields: list[str] = []
        for key, field in properties.items():
            location = f"{upstream_name}.{key}"
            schema, nullable = self.field(_mapping(field, location), location, direction)
            optional = key not in required
            if direction == RESPONSE and (nullable or optional):
                schema = {**_described(schema), "anyOf": [_bare(schema), {"type": "null"}], "x-absent-is-null": True}
                nullable_fields.append(key)
            elif nullable:
                schema = {**_described(schema), "anyOf": [_bare(schema), {"type": "null"}]}
            fields[key] = schema
        if direction == RESPONSE:
            out["required"] = [k for k in properties if k not in nullable_fields] + nullable_fields
        elif required:
            out["required"] = [k for k in properties if k in required]
        out["properties"] = fields
        if direction == REQUEST and node.get("additionalProperties") is False:
            out["additionalProperties"] = False
        return out

    def field(self, node: Mapping[str, Any], location: str, direction: str) -> tuple[dict[str, Any], bool]:
        """The schema of one field, and whether upstream lets it be null."""
        description = first_paragraph(node.get("description"))
        if location in self.free_form:
            self.applied.add(location)
            schema: dict[str, Any] = {"type": "object", "additionalProperties": True}
            return ({"description": description, **schema} if description else schema), False
        if location in self.replaced:
            self.applied.add(location)
            target = str(_mapping(self.replaced[location], location)["with"])
            ref = self.merged_schema(target, direction) if target in self.merged else self.ref(target, direction)
            return ({"description": description, **ref} if description else ref), False
        schema, nullable = self.inner(node, location, direction)
        if description and "description" not in schema:
            schema = {"description": description, **schema}
        return schema, nullable

    def inner(self, node: Mapping[str, Any], location: str, direction: str) -> tuple[dict[str, Any], bool]:
        target = self._target(node)
        if target is not None:
            return self.ref(target, direction), False
        for combinator in ("allOf", "anyOf"):
            branches = node.get(combinator)
            if isinstance(branches, list):
                kept = [b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")]
                if len(kept) != 1:
                    raise SpecError(f"{location}: unsupported {combinator} of {len(kept)} non-null schemas")
                schema, nullable = self.inner(_mapping(kept[0], location), location, direction)
                return schema, nullable or len(kept) < len(branches)
        if "oneOf" in node:
            raise SpecError(f"{location}: a oneOf needs an entry in replaced (spec/anthropic/overrides.yaml)")
        kind = node.get("type")
        if isinstance(kind, list):
            rest = [k for k in kind if k != "null"]
            if len(rest) != 1:
                raise SpecError(f"{location}: unsupported type {kind}")
            schema, _ = self.inner({**node, "type": rest[0]}, location, direction)
            return schema, True
        if kind == "string" and isinstance(node.get("enum"), list):
            return self.enum(node, location, direction), False
        if kind in ("string", "integer", "number", "boolean"):
            out: dict[str, Any] = {"type": kind}
            fmt = node.get("format")
            if isinstance(fmt, str) and fmt not in self.dropped_formats:
                out["format"] = fmt
            if direction == REQUEST:
                out.update({bound: node[bound] for bound in _BOUNDS if bound in node})
            return out, False
        if kind == "array":
            items, _ = self.inner(_mapping(node.get("items"), f"{location}[]"), f"{location}[]", direction)
            return {"type": "array", "items": items}, False
        raise SpecError(f"{location}: unsupported schema {json.dumps(node, sort_keys=True)[:200]}")

    def enum(self, node: Mapping[str, Any], location: str, direction: str) -> dict[str, Any]:
        """An enum hoisted to a schema named after its place (`MessageBatch.processing_status` ->
        `MessageBatchProcessingStatus`): closed in a request, open in a response."""
        schema_name, _, key = location.partition(".")
        name = self.name(schema_name) + pascal(key)
        values = [str(v) for v in node["enum"]]
        existing = self.schemas.get(name)
        if existing is not None and existing["enum"] != values:
            raise SpecError(f"{location}: two enums named {name}")
        self.schemas[name] = {"type": "string", "enum": values}
        ref = {"$ref": f"{UPSTREAM_REF}{name}"}
        return ref if direction == REQUEST else {"anyOf": [ref, {"type": "string"}]}

    def merged_schema(self, name: str, direction: str) -> dict[str, Any]:
        """One object schema for a oneOf whose members differ only in the constant of `type`."""
        entry = _mapping(self.merged[name], f"merged_one_of.{name}")
        schema_name, _, key = str(entry["from"]).partition(".")
        node = _mapping(
            _mapping(self.upstream_schemas[schema_name]["properties"], schema_name)[key], str(entry["from"])
        )
        members = [self.upstream_schemas[str(self._target(_mapping(m, name)))] for m in node["oneOf"]]
        shapes = {tuple(sorted(_mapping(m["properties"], name))) for m in members}
        if len(shapes) != 1:
            raise SpecError(f"merged_one_of.{name}: the members of {entry['from']} no longer share their fields")
        constants = [str(m["properties"]["type"]["enum"][0]) for m in members]
        if name not in self.schemas:
            merged = {
                **members[0],
                "description": first_paragraph(entry.get("description")) or name,
                "properties": {**members[0]["properties"], "type": {"type": "string", "enum": constants}},
            }
            self.used.add(name)
            self.schemas[name] = self.object_schema(merged, name, direction)
        return {"$ref": f"{UPSTREAM_REF}{name}"}

    # --- operations ---

    def parameter(self, node: Mapping[str, Any], where: str) -> dict[str, Any] | None:
        if node.get("in") not in ("path", "query"):
            return None  # headers are the client's settings
        schema = _mapping(node.get("schema"), where)
        out: dict[str, Any] = {"name": node["name"], "in": node["in"], "required": bool(node.get("required"))}
        description = first_paragraph(node.get("description") or schema.get("description"))
        if description:
            out["description"] = description
        typed: dict[str, Any] = {"type": schema["type"]}
        typed.update({bound: schema[bound] for bound in _BOUNDS if bound in schema})
        if "default" in schema and node["in"] == "query":
            typed["default"] = schema["default"]
        out["schema"] = typed
        return out

    def operation(self, operation_id: str, node: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": operation_id, "tags": ["Message Batches"]}
        summary = first_paragraph(node.get("summary"))
        if summary:
            out["summary"] = summary
        parameters = [self.parameter(_mapping(p, where), where) for p in node.get("parameters", [])]
        if any(p is not None for p in parameters):
            out["parameters"] = [p for p in parameters if p is not None]
        body = node.get("requestBody")
        if body is not None:
            schema = _mapping(_mapping(body, where)["content"], where)["application/json"]["schema"]
            target = self._target(_mapping(schema, where))
            if target is None:
                raise SpecError(f"{where}: the request body must refer to a schema")
            out["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self.ref(target, REQUEST)}},
            }
        ok = _mapping(_mapping(node.get("responses"), where).get("200"), f"{where} 200")
        content = _mapping(ok.get("content"), f"{where} 200")
        response: dict[str, Any] = {"description": first_paragraph(ok.get("description")) or "Successful Response"}
        if "application/json" in content:
            target = self._target(_mapping(content["application/json"]["schema"], where))
            if target is None:
                raise SpecError(f"{where}: the 200 response must refer to a schema")
            response["content"] = {"application/json": {"schema": self.ref(target, RESPONSE)}}
        elif "application/x-jsonl" in content:
            schema = _mapping(content["application/x-jsonl"]["schema"], where)
            line = self._target(_mapping(schema.get("x-line-schema"), where))
            if line is None:
                raise SpecError(f"{where}: a JSONL response needs its x-line-schema")
            line_ref = self.ref(line, RESPONSE)
            response["content"] = {
                "application/x-jsonl": {
                    "schema": {"type": "string", "format": "binary", "x-line-schema": line_ref},
                }
            }
        else:
            raise SpecError(f"{where}: unsupported 200 content {sorted(content)}")
        out["responses"] = {"200": response}
        return out

    def paths(self) -> dict[str, dict[str, Any]]:
        upstream_paths = _mapping(self.upstream.get("paths"), "upstream paths")
        found: list[tuple[str, str, dict[str, Any]]] = []
        for operation_id, entry in _mapping(self.overrides.get("operations"), "operations").items():
            path, method = str(entry["path"]), str(entry["method"])
            node = _mapping(upstream_paths.get(path, {}), path).get(method)
            if node is None:
                raise SpecError(f"operations.{operation_id}: upstream has no {method.upper()} {path}")
            found.append((path, method, self.operation(operation_id, node, f"{method.upper()} {path}")))
        for operation_id, entry in _mapping(self.overrides.get("added_operations", {}), "added_operations").items():
            path, method = str(entry["path"]), str(entry["method"])
            if method in _mapping(upstream_paths.get(path, {}), path):
                raise SpecError(f"added_operations.{operation_id}: upstream has {method.upper()} {path} now")
            found.append((path, method, self.operation(operation_id, entry["operation"], f"{method.upper()} {path}")))
        order = ("get", "post", "delete")
        paths: dict[str, dict[str, Any]] = {}
        for path, method, operation in sorted(found, key=lambda f: (f[0], order.index(f[1]))):
            paths.setdefault(path, {})[method] = operation
        return paths

    def fragment(self) -> dict[str, Any]:
        paths = self.paths()
        for upstream_name in self.overrides.get("extra_schemas", []):
            self.ref(str(upstream_name), RESPONSE)
        stale = sorted({*self.free_form, *self.replaced} - self.applied)
        if stale:
            raise SpecError(f"overrides: {', '.join(stale)} no longer apply to upstream; drop or move them")
        info = _mapping(self.upstream.get("info"), "upstream info")
        servers = self.upstream.get("servers") or [{"url": "https://api.anthropic.com"}]
        return {
            "openapi": "3.1.0",
            "info": {"title": TITLE, "description": DESCRIPTION, "version": str(info.get("version", "0.0.0"))},
            "servers": servers,
            "security": [{"ApiKeyAuth": []}],
            "tags": [{"name": "Message Batches", "description": "Process many Messages API requests at once."}],
            "paths": paths,
            "components": {
                "securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
                "schemas": dict(sorted(self.schemas.items())),
            },
        }


def _described(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": schema["description"]} if "description" in schema else {}


def _bare(schema: Mapping[str, Any]) -> dict[str, Any]:
    # The description moves to the field; an open enum's `anyOf [ref, string]` is flattened into the null's later.
    return {k: v for k, v in schema.items() if k != "description"}


def _flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf [anyOf [ref, string], null]` -> `anyOf [ref, string, null]`, the spelling the OpenAI fragment uses."""
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        flat: list[Any] = []
        for branch in branches:
            if isinstance(branch, dict) and list(branch) == ["anyOf"]:
                flat.extend(branch["anyOf"])
            else:
                flat.append(branch)
        schema["anyOf"] = flat
    for value in schema.values():
        if isinstance(value, dict):
            _flatten(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _flatten(item)
    return schema


def header(source: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            "# Derived from the vendored Anthropic document by tools/anthropic_spec.py: do not edit; `make check-spec`",
            "# fails when this file differs from what the tool writes.",
            f"# Upstream: {source['repository']}, commit {source['commit']} ({source['commit_date']}),",
            f"#   file {source['path']}, SHA-256 {source['sha256']}",
            "#",
            "# Vendored operations and every departure from upstream, with its reason: spec/anthropic/overrides.yaml.",
            "# Shaping rules (tools/anthropic_spec.py): header parameters left out (the client sends them); response",
            "# enums open (anyOf [enum, string]); optional and nullable response fields nullable and x-absent-is-null;",
            "# only 200 responses declared; the request params and the result message free-form objects.",
            "",
        ]
    )


def render(upstream_path: Path = UPSTREAM, source_path: Path = SOURCE, overrides_path: Path = OVERRIDES) -> str:
    """The fragment's text for these inputs."""
    try:
        stored = upstream_path.read_bytes()
    except OSError as exc:
        raise SpecError(f"upstream: cannot read {upstream_path}: {exc}") from None
    source = _mapping(read_yaml(source_path, "source"), str(source_path))
    missing = [name for name in _SOURCE_FIELDS if not source.get(name)]
    if missing:
        raise SpecError(f"{source_path}: missing {', '.join(missing)}")
    digest = hashlib.sha256(stored).hexdigest()
    if digest != source["sha256"]:
        raise SpecError(f"{upstream_path}: SHA-256 {digest} is not the {source['sha256']} {source_path} records")
    try:
        upstream = json.loads(stored)
    except ValueError as exc:
        raise SpecError(f"{upstream_path} is not JSON: {exc}") from None
    overrides = _mapping(read_yaml(overrides_path, "overrides"), str(overrides_path))
    fragment = _flatten(Cutter(_mapping(upstream, str(upstream_path)), overrides).fragment())
    return header(source) + dump_yaml(fragment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--upstream", type=Path, default=UPSTREAM)
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--overrides", type=Path, default=OVERRIDES)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output would change")
    args = parser.parse_args(argv)
    try:
        text = render(args.upstream, args.source, args.overrides)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output: Path = args.output
    current = output.read_text(encoding="utf-8") if output.is_file() else None
    if current == text:
        print(f"{output.name} is up to date")
        return 0
    if args.check:
        print(f"{output.name} differs from what tools/anthropic_spec.py writes; run it and commit the result")
        return 1
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
