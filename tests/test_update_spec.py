"""tools/update_spec.py: openapi.yaml is exactly what the tool derives from the vendored upstream document.

The shaping rules are checked twice: on the committed fragment (what the generated package is built from) and on
small documents made here, one rule at a time. Bad input gets an error that names the problem, never a traceback.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import os
import random
import re
import shutil
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import update_spec  # noqa: E402
from spec_update.changes import ABSENT_IS_NULL, compare  # noqa: E402
from spec_update.config import Config, Operation, load_config, parse_operations, parse_overrides  # noqa: E402
from spec_update.derive import derive, member_name  # noqa: E402
from spec_update.yaml_io import SpecError, load_openapi, parse_yaml  # noqa: E402

SPEC = ROOT / "spec"
FULL = SPEC / "upstream" / "openai-openapi.yaml"
EXTRACT = SPEC / "upstream" / "openai-batch-files-extract.yaml"
OURS = ROOT / "openapi.yaml"
REF = "#/components/schemas/"

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def full() -> Mapping[str, Any]:
    root, _ = load_openapi(FULL)
    return root


@pytest.fixture(scope="module")
def fragment() -> Doc:
    data: Doc = yaml.safe_load(OURS.read_text(encoding="utf-8"))
    return data


def _schema(doc: Mapping[str, Any], name: str) -> Any:
    return doc["components"]["schemas"][name]


def upstream_enum(doc: Mapping[str, Any], schema: str, prop: str) -> list[Any]:
    """The values upstream lists for `schema.prop`, however it spells the enum (inline, $ref, allOf, open anyOf).

    `schema` is a schema name, or `POST /batches` for that operation's JSON body, named or not.
    """

    def deref(node: Any) -> Any:
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            node = _schema(doc, node["$ref"].removeprefix(REF))
        return node

    def values(node: Any) -> list[Any] | None:
        node = deref(node)
        if not isinstance(node, Mapping):
            return None
        if "enum" in node:
            return [v for v in node["enum"] if v is not None]
        for key in ("allOf", "anyOf", "oneOf"):
            found = [v for v in map(values, node.get(key) or []) if v is not None]
            if len(found) == 1:
                return found[0]
        return None

    if " " in schema:
        method, path = schema.split(" ", 1)
        body = doc["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
        owner = deref(body)
    else:
        owner = _schema(doc, schema)
    parts = [deref(p) for p in owner.get("allOf", [])]
    sub = next(p["properties"][prop] for p in [owner, *parts] if prop in p.get("properties", {}))
    found = values(sub)
    assert found is not None, f"upstream's {schema} {prop} is no enum"
    return found


# --- the committed fragment is the tool's output ---


def test_committed_openapi_yaml_is_what_the_tool_writes_from_the_vendored_upstream() -> None:
    # Notes are for the reviewer of an update and never fail it: an override that stops applying to a newer
    # document (a dropped value upstream has dropped too) must not turn `make check` red.
    text, _, _ = update_spec.render(FULL, SPEC)
    assert text == OURS.read_text(encoding="utf-8"), "openapi.yaml differs from `make update-spec`; run it"


def test_the_committed_extract_is_what_the_tool_cuts_from_the_vendored_upstream() -> None:
    assert update_spec.render_extract(FULL, SPEC) == EXTRACT.read_text(encoding="utf-8"), (
        "spec/upstream/openai-batch-files-extract.yaml is stale; run `make update-spec`"
    )


def test_same_input_gives_the_same_bytes() -> None:
    first = update_spec.render(EXTRACT, SPEC)[0]
    assert update_spec.render(EXTRACT, SPEC)[0] == first


def test_the_extract_and_the_whole_document_give_the_same_fragment() -> None:
    def body(text: str) -> str:
        return "\n".join(line for line in text.splitlines() if not line.startswith("#"))

    assert body(update_spec.render(EXTRACT, SPEC)[0]) == body(OURS.read_text(encoding="utf-8"))


def test_header_records_the_upstream_source(full: Mapping[str, Any]) -> None:
    # Whatever document is vendored: the header says what its source record and its bytes say.
    record = yaml.safe_load((SPEC / "upstream" / "openai-openapi.source.yaml").read_text(encoding="utf-8"))
    sha256 = hashlib.sha256(FULL.read_bytes()).hexdigest()
    assert record["sha256"] == sha256
    header = "".join(line for line in OURS.read_text(encoding="utf-8").splitlines(keepends=True) if line[:1] == "#")
    branch = f", branch {record['branch']}" if record.get("branch") else ""
    assert f"{record['repository']}{branch}, commit {record['commit']} ({record['date']})," in header
    assert f"#   info.version {full['info']['version']}; file openai-openapi.yaml, SHA-256 {sha256}" in header
    assert "do not edit" in header
    description = yaml.safe_load(EXTRACT.read_text(encoding="utf-8"))["info"]["description"]
    assert f"commit {record['commit']}, {record['date']}, info.version {full['info']['version']})" in description


def test_the_fragment_is_a_valid_openapi_document(fragment: Doc) -> None:
    validate(fragment)


def _field_changes(old: Doc, new: Doc) -> tuple[set[str], set[str]]:
    """`Schema.field` added and removed between two fragments, read from the fragments themselves."""

    def fields(doc: Doc) -> set[str]:
        schemas = doc["components"]["schemas"]
        return {f"{name}.{prop}" for name, schema in schemas.items() for prop in schema.get("properties", {})}

    return fields(new) - fields(old), fields(old) - fields(new)


def _changelog_says(lines: list[str], old: Doc, new: Doc) -> None:
    """The changelog lists every field added or removed, and nothing the fragments do not show."""
    added, removed = _field_changes(old, new)
    said_added = {f"{m[1]}.{m[2]}" for m in (re.match(r"(\w+): \+ field (\S+)", line) for line in lines) if m}
    said_removed = {f"{m[1]}.{m[2]}" for m in (re.match(r"(\w+): - field (\S+)", line) for line in lines) if m}
    new_schemas = set(new["components"]["schemas"])
    old_schemas = set(old["components"]["schemas"])
    # A field of a new schema shows as the schema's `+ schema` line, not field by field.
    assert said_added == {f for f in added if f.split(".")[0] in old_schemas}
    assert said_removed == {f for f in removed if f.split(".")[0] in new_schemas}
    operations = [i for i, line in enumerate(lines) if line.split(":")[0].split(" ")[0].isupper()]
    assert operations == list(range(len(operations))), "operations come first"
    names = [line.split(":")[0] for line in lines[len(operations) :]]
    assert names == sorted(names), "then schemas, by name"


def test_real_history_reads_as_a_changelog() -> None:
    """2024 -> 2025 -> 2026 -> now, as a reviewer of each update would have read it."""
    documents = [
        SPEC / "history" / "openai-openapi-2024-05-09-14138f3.yaml",
        SPEC / "history" / "openai-openapi-2025-04-29-498c71d.yaml",
        SPEC / "history" / "openai-openapi-2026-05-13-5162af9.yaml",
        FULL,
    ]
    config = load_config(SPEC)
    fragments = [derive(load_openapi(path)[0], config).fragment for path in documents]
    to_2025 = [c.line() for c in compare(fragments[0], fragments[1]).changes]
    # What the Batch and Files API gained in its first year, as upstream's own documents say.
    assert {
        "GET /files: + parameter limit (query), optional, integer",
        "GET /files: + parameter order (query), optional, ListOrder",
        "GET /files: + parameter after (query), optional, string",
        'BatchEndpoint: + value "/v1/responses"',
        "ListFilesResponse: + field has_more (required, boolean)",
    } <= set(to_2025)
    assert not any(line.endswith("- operation") or ": - field" in line for line in to_2025)
    _changelog_says(to_2025, fragments[0], fragments[1])
    # On to whatever document is vendored now: each changelog agrees with its two fragments.
    for old, new in itertools.pairwise(fragments[1:]):
        _changelog_says([c.line() for c in compare(old, new).changes], old, new)


# --- the shaping rules, on the committed fragment ---


def _response_schemas(doc: Doc) -> set[str]:
    """Schema names reachable from a 200 response."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.removeprefix(REF) not in found:
                found.add(ref.removeprefix(REF))
                walk(_schema(doc, ref.removeprefix(REF)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for item in doc["paths"].values():
        for op in item.values():
            walk(op["responses"]["200"])
    return found


def _properties(doc: Doc, names: set[str]) -> Iterator[tuple[str, str, Any, bool]]:
    """Each field with whether upstream requires it (a field the client reads as null when absent it does not)."""
    for name in sorted(names):
        schema = _schema(doc, name)
        for prop, sub in (schema.get("properties") or {}).items():
            yield name, prop, sub, prop in (schema.get("required") or []) and ABSENT_IS_NULL not in sub


def _upstream_required(schema: Mapping[str, Any]) -> list[str]:
    properties = schema.get("properties") or {}
    return [r for r in schema.get("required") or [] if ABSENT_IS_NULL not in properties.get(r, {})]


def test_only_200_responses_are_declared(fragment: Doc) -> None:
    assert {status for item in fragment["paths"].values() for op in item.values() for status in op["responses"]} == {
        "200"
    }


def test_every_enum_in_a_response_is_open(fragment: Doc) -> None:
    responses = _response_schemas(fragment)
    open_fields = []
    for name, prop, sub, _ in _properties(fragment, responses):
        refs = [b["$ref"].removeprefix(REF) for b in sub.get("anyOf", [sub]) if "$ref" in b]
        if any("enum" in _schema(fragment, ref) for ref in refs):
            assert {"type": "string"} in sub["anyOf"], f"{name}.{prop} is a closed enum in a response"
            open_fields.append(f"{name}.{prop}")
    assert {"Batch.status", "Batch.endpoint", "Batch.object", "OpenAIFile.purpose"} <= set(open_fields)


def test_every_optional_response_field_is_nullable(fragment: Doc) -> None:
    optional = [(n, p, s) for n, p, s, required in _properties(fragment, _response_schemas(fragment)) if not required]
    assert len(optional) > 15
    for name, prop, sub in optional:
        assert {"type": "null"} in sub.get("anyOf", []), f"{name}.{prop} is optional but not nullable"
        # Required in the fragment, so the models type it `X | None` with no `Unset`; the client fills a null.
        assert sub.get(ABSENT_IS_NULL) is True, f"{name}.{prop} is optional but not marked {ABSENT_IS_NULL}"
        assert prop in _schema(fragment, name)["required"], f"{name}.{prop} is optional but not listed as required"
    # Required fields stay non-null, except where overrides.yaml says the service sends null.
    assert "anyOf" not in _schema(fragment, "Batch")["properties"]["id"]
    assert {"type": "null"} in _schema(fragment, "ListFilesResponse")["properties"]["first_id"]["anyOf"]


def test_every_upstream_field_and_value_is_vendored(fragment: Doc, full: Mapping[str, Any]) -> None:
    up = full["components"]["schemas"]
    for name in ("Batch", "CreateBatchRequest", "OpenAIFile", "ListBatchesResponse", "BatchRequestCounts"):
        assert list(_schema(fragment, name)["properties"]) == list(up[name]["properties"]), name
        assert _upstream_required(_schema(fragment, name)) == up[name].get("required"), name
    assert _schema(fragment, "BatchStatus")["enum"] == upstream_enum(full, "Batch", "status")
    # Every value but those spec/overrides.yaml drops (each with its reason there).
    dropped = load_config(SPEC).overrides.section("dropped_values")
    gone = dropped["BatchEndpoint"].value if "BatchEndpoint" in dropped else []
    upstream_endpoints = upstream_enum(full, "POST /batches", "endpoint")
    assert _schema(fragment, "BatchEndpoint")["enum"] == [v for v in upstream_endpoints if v not in gone]


def test_request_enums_are_open_except_constants_and_parameters(fragment: Doc) -> None:
    create = _schema(fragment, "CreateBatchRequest")["properties"]
    assert create["endpoint"]["anyOf"] == [{"$ref": REF + "BatchEndpoint"}, {"type": "string"}]
    assert _schema(fragment, "BatchFileExpirationAfter")["properties"]["anchor"] == {
        "$ref": REF + "FileExpirationAnchor"
    }
    (order,) = [p for p in fragment["paths"]["/files"]["get"]["parameters"] if p["name"] == "order"]
    assert order["schema"] == {"$ref": REF + "ListOrder"}


def test_prose_bounds_and_departures_are_applied(fragment: Doc) -> None:
    def limit(path: str) -> Any:
        (param,) = [p for p in fragment["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
        return param["schema"]

    assert limit("/batches") == {"type": "integer", "minimum": 1, "maximum": 100}
    assert limit("/files") == {"type": "integer", "minimum": 1, "maximum": 10000}
    metadata = _schema(fragment, "Metadata")
    assert (metadata["maxProperties"], metadata["propertyNames"], metadata["additionalProperties"]) == (
        16,
        {"maxLength": 64},
        {"type": "string", "maxLength": 512},
    )
    seconds = _schema(fragment, "BatchFileExpirationAfter")["properties"]["seconds"]
    assert (seconds["minimum"], seconds["maximum"]) == (3600, 2592000)
    content = fragment["paths"]["/files/{file_id}/content"]["get"]["responses"]["200"]["content"]
    assert content == {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    upload = _schema(fragment, "CreateFileRequest")["properties"]
    assert list(upload) == ["file", "purpose", "expires_after[anchor]", "expires_after[seconds]"]
    assert _schema(fragment, "BatchCompletionWindow")["x-enum-varnames"] == ["HOURS_24"]
    assert _schema(fragment, "BatchEndpoint")["x-enum-varnames"][:2] == ["RESPONSES", "CHAT_COMPLETIONS"]


def test_every_override_has_a_reason() -> None:
    config = load_config(SPEC)
    assert len(config.overrides.entries) >= 20
    assert all(len(entry.reason) > 20 for entry in config.overrides.entries)


# --- the rules, one at a time, on small documents ---


def _doc(batch: Doc, create: Doc | None = None, extra_paths: Doc | None = None) -> Doc:
    ok = {"description": "OK", "content": {"application/json": {"schema": {"$ref": REF + "Thing"}}}}
    paths: Doc = {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [{"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"]}}],
                "responses": {"200": ok, "404": {"description": "missing"}},
            },
            "post": {
                "operationId": "createThing",
                "requestBody": {"required": True, "content": {"application/json": {"schema": create or {}}}},
                "responses": {"200": ok},
            },
        },
        **(extra_paths or {}),
    }
    return {"openapi": "3.0.0", "info": {"version": "1"}, "paths": paths, "components": {"schemas": {"Thing": batch}}}


def _config(overrides: object = None, descriptions: Mapping[str, str] | None = None) -> Config:
    ops = (Operation("/things", "get"), Operation("/things", "post"))
    return Config(ops, parse_overrides(overrides, "overrides"), dict(descriptions or {}))


THING: Doc = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["new", "done"]},
        "note": {"type": "string", "nullable": True},
        "count": {"type": "integer"},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "meta": {"$ref": REF + "Meta"},
    },
}
CREATE: Doc = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["/v1/a", "/v1/b-c"]},
        "object": {"type": "string", "enum": ["thing"], "x-stainless-const": True},
        "meta": {"$ref": REF + "Meta"},
    },
}


def _derive(doc: Doc, config: Config | None = None) -> Any:
    doc["components"]["schemas"]["Meta"] = {"anyOf": [{"type": "object"}, {"type": "null"}]}
    return derive(doc, config or _config())


def test_rules_on_a_small_document() -> None:
    result = _derive(_doc(copy.deepcopy(THING), copy.deepcopy(CREATE)))
    schemas = result.fragment["components"]["schemas"]
    thing = schemas["Thing"]["properties"]
    # Response: enums open, optional fields nullable (3.0 and 3.1 spellings alike), required ones not.
    assert thing["id"] == {"type": "string"}
    assert thing["status"] == {"anyOf": [{"$ref": REF + "ThingStatus"}, {"type": "string"}]}
    filled = {ABSENT_IS_NULL: True}
    assert thing["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}], **filled}
    assert thing["count"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], **filled}
    assert thing["tags"] == {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], **filled}
    # ...and required, so that the generated model has no `Unset`: the client reads an absent one as null.
    assert schemas["Thing"]["required"] == ["id", "status", "note", "count", "tags", "meta"]
    # A named schema that admits null stays one object schema; the null moves to where it is used.
    assert schemas["Meta"] == {"type": "object"}
    assert thing["meta"] == {"anyOf": [{"$ref": REF + "Meta"}, {"type": "null"}], **filled}
    # Request: enums open except constants, optional fields as upstream (absent and null differ); parameters closed.
    assert "required" not in schemas["CreateThingRequest"]
    create = schemas["CreateThingRequest"]["properties"]
    assert create["kind"] == {"anyOf": [{"$ref": REF + "CreateThingRequestKind"}, {"type": "string"}]}
    assert schemas["CreateThingRequestKind"]["x-enum-varnames"] == ["A", "B_C"]
    assert create["object"] == {"$ref": REF + "CreateThingRequestObject"}
    assert create["meta"] == {"anyOf": [{"$ref": REF + "Meta"}, {"type": "null"}]}
    list_op = result.fragment["paths"]["/things"]["get"]
    assert list_op["parameters"][0]["schema"] == {"$ref": REF + "ListThingsOrder"}
    assert list(list_op["responses"]) == ["200"]
    assert result.fragment["openapi"] == "3.1.0"
    validate(result.fragment)


def test_overrides_name_share_and_bound_schemas() -> None:
    thing = copy.deepcopy(THING)
    thing["properties"]["kind"] = {"type": "string"}
    overrides = {
        "schema_names": {"Thing.status": {"name": "Progress", "reason": "the public name of the status enum"}},
        "known_values": {"Thing.kind": {"enum": "Kind", "reason": "a thing reports the kind it was made with"}},
        "bounds": {"Thing.id": {"bounds": {"maxLength": 64}, "reason": "a bound stated in prose only"}},
    }
    overrides["schema_names"]["CreateThingRequest.kind"] = {"name": "Kind", "reason": "one enum for both"}
    schemas = _derive(_doc(thing, copy.deepcopy(CREATE)), _config(overrides)).fragment["components"]["schemas"]
    assert "Progress" in schemas and "ThingStatus" not in schemas
    kind = [{"$ref": REF + "Kind"}, {"type": "string"}, {"type": "null"}]
    assert schemas["Thing"]["properties"]["kind"] == {"anyOf": kind, ABSENT_IS_NULL: True}
    assert schemas["Thing"]["properties"]["status"]["anyOf"][0] == {"$ref": REF + "Progress"}
    assert schemas["Kind"]["enum"] == ["/v1/a", "/v1/b-c"]
    assert schemas["Thing"]["properties"]["id"] == {"type": "string", "maxLength": 64}


def test_an_override_that_does_not_apply_is_noted() -> None:
    overrides = {
        "nullable": {
            "Thing.gone": {"reason": "the service sends null for it"},
            "Renamed.id": {"reason": "the service sends null for it"},
        }
    }
    notes = _derive(_doc(copy.deepcopy(THING)), _config(overrides)).notes
    assert "spec/overrides.yaml: nullable: Thing.gone does not apply to this document; Thing has no field gone" in notes
    assert (
        "spec/overrides.yaml: nullable: Renamed.id does not apply to this document; "
        "this document has no schema Renamed" in notes
    )


def test_descriptions_upstream_when_short_ours_when_long() -> None:
    thing = copy.deepcopy(THING)
    thing["properties"]["id"]["description"] = "The id."
    thing["properties"]["count"]["description"] = "How many. " + "A long explanation with [a link](/docs). " * 3
    thing["properties"]["note"]["description"] = "First sentence. " + "More words follow here. " * 6
    ours = {"Thing.id": "Ours, unused.", "Thing.count": "How many there are."}
    result = _derive(_doc(thing), _config(descriptions=ours))
    props = result.fragment["components"]["schemas"]["Thing"]["properties"]
    assert props["id"]["description"] == "The id."
    assert props["count"]["description"] == "How many there are."
    assert props["note"]["description"] == "First sentence."
    assert any(n.startswith("Thing.note: upstream's description is long") for n in result.notes)
    assert any(n.startswith("spec/descriptions.yaml: Thing.id is not used") for n in result.notes)


def test_member_names_for_values_the_generator_cannot_name() -> None:
    assert [member_name(v) for v in ("/v1/chat/completions", "/v1/images/edits", "24h", "a.b")] == [
        "CHAT_COMPLETIONS",
        "IMAGES_EDITS",
        "VALUE_24H",
        "A_B",
    ]


def test_upstream_operations_under_vendored_paths_are_reported_not_vendored() -> None:
    pause = {"/things/{id}/pause": {"post": {"operationId": "pauseThing", "responses": {"200": {"description": "OK"}}}}}
    other = {"/others": {"get": {"operationId": "listOthers", "responses": {"200": {"description": "OK"}}}}}
    result = _derive(_doc(copy.deepcopy(THING), extra_paths={**pause, **other}))
    assert result.not_vendored == ["POST /things/{id}/pause"]
    assert "/things/{id}/pause" not in result.fragment["paths"]


def test_a_duplicate_anchor_loads_with_the_later_definition_winning() -> None:
    text = "a: &x 1\nb: *x\nc: &x 2\nd: *x\n"
    assert parse_yaml(text, "doc") == {"a": 1, "b": 1, "c": 2, "d": 2}


# --- errors name the problem ---


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["paths"].pop("/things"), "GET /things is listed in spec/operations.yaml but the upstream"),
        (lambda d: d["paths"]["/things"]["get"]["responses"].pop("200"), "declares no 200 response (it declares: 404)"),
        (lambda d: d["paths"]["/things"]["get"].pop("operationId"), "GET /things has no operationId"),
        (lambda d: d["components"]["schemas"].pop("Thing"), "$ref #/components/schemas/Thing points to nothing"),
    ],
)
def test_upstream_problems_are_named(change: Any, message: str) -> None:
    doc = _doc(copy.deepcopy(THING), copy.deepcopy(CREATE))
    change(doc)
    with pytest.raises(SpecError) as info:
        _derive(doc)
    assert message in str(info.value)


def test_an_enum_name_already_made_from_other_values_is_a_note_and_the_default_name() -> None:
    # Two places overrides.yaml gives one enum name, whose values upstream has made differ: the update goes on.
    overrides = {
        "schema_names": {
            "Thing.status": {"name": "Kind", "reason": "a reason long enough"},
            "CreateThingRequest.kind": {"name": "Kind", "reason": "a reason long enough"},
        }
    }
    result = _derive(_doc(copy.deepcopy(THING), copy.deepcopy(CREATE)), _config(overrides))
    schemas = result.fragment["components"]["schemas"]
    assert schemas["Kind"]["enum"] == ["new", "done"]
    assert schemas["CreateThingRequestKind"]["enum"] == ["/v1/a", "/v1/b-c"]
    kind = schemas["CreateThingRequest"]["properties"]["kind"]
    assert kind == {"anyOf": [{"$ref": REF + "CreateThingRequestKind"}, {"type": "string"}]}
    assert (
        "spec/overrides.yaml: schema_names: CreateThingRequest.kind names its enum Kind, but Kind is made from "
        "Thing.status, whose values differ in this document; this one is named CreateThingRequestKind" in result.notes
    )
    validate(result.fragment)


def test_two_different_objects_given_one_name_is_an_error() -> None:
    thing = copy.deepcopy(THING)
    thing["properties"]["box"] = {"type": "object", "properties": {"size": {"type": "integer"}}}
    create = copy.deepcopy(CREATE)
    create["properties"]["box"] = {"type": "object", "properties": {"label": {"type": "string"}}}
    overrides = {
        "schema_names": {
            "Thing.box": {"name": "Box", "reason": "a reason long enough"},
            "CreateThingRequest.box": {"name": "Box", "reason": "a reason long enough"},
        }
    }
    with pytest.raises(SpecError, match=r"the schema Box would be made from both Thing\.box and "):
        _derive(_doc(thing, create), _config(overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"renames": {}}, "unknown section 'renames'"),
        ({"nullable": {"Thing.id": {}}}, "every override needs a `reason`"),
        ({"nullable": {"Thing.id": "because"}}, "an entry is a mapping with a `reason`"),
        ({"schema_names": {"Thing.status": {"reason": "why"}}}, "expected exactly `name` and `reason`"),
        ({"bounds": {"Thing": {"bounds": {"type": "integer"}, "reason": "why"}}}, "'type' is not a bound keyword"),
        ({"enum_member_names": {"E": {"names": {"a": "lower"}, "reason": "why"}}}, "UPPER_CASE member name"),
    ],
)
def test_bad_overrides_are_refused(overrides: object, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_overrides(overrides, "overrides.yaml")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"operations": ["FETCH /batches"]}, "'FETCH /batches' is not an operation"),
        ({"operations": ["GET /batches", "get /batches"]}, "GET /batches is listed twice"),
        ({"operation": []}, "expected `operations:`"),
    ],
)
def test_bad_operation_lists_are_refused(data: object, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_operations(data, "operations.yaml")
    assert message in str(info.value)


JUNK: list[Any] = [None, 1, "x", True, [], {}, [1], {"a": 1}, {"$ref": "#/nope"}, {"$ref": {}}, {"enum": None}]


def test_junk_anywhere_upstream_is_a_named_error_never_a_crash() -> None:
    """Any node of a real document replaced by junk: the tool derives a fragment or raises SpecError."""
    base, _ = load_openapi(EXTRACT)
    config = load_config(SPEC)
    good = derive(base, config).fragment

    def places(node: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        if path:
            yield path
        items = node.items() if isinstance(node, Mapping) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            yield from places(value, (*path, key))

    rng = random.Random(12)
    everywhere = list(places(base))
    for path in rng.sample(everywhere, 400):
        doc = copy.deepcopy(base)
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        try:
            fragment = derive(doc, config).fragment
        except SpecError:
            continue
        compare(good, fragment)
        compare(doc, good)  # a hand-edited file of any shape compares too


# --- the command line ---


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = update_spec.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_check_passes_on_the_committed_fragment(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "--check")
    assert status == 0
    assert out.splitlines()[0].endswith("openapi.yaml is up to date with " + update_spec.display_path(FULL))
    extract = update_spec.display_path(EXTRACT)
    assert f"{extract} is up to date with {update_spec.display_path(FULL)}" in out.splitlines()


def test_a_hand_edit_fails_the_check_and_the_update_restores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "openapi.yaml"
    spec = yaml.safe_load(OURS.read_text(encoding="utf-8"))
    del spec["components"]["schemas"]["Batch"]["properties"]["model"]
    spec["components"]["schemas"]["BatchStatus"]["enum"].remove("expired")
    edited.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")

    status, out, err = _run(capsys, "--check", "--output", str(edited))
    assert status == 1
    assert "  Batch: + field model (optional, string | null)\n" in out
    assert '  BatchStatus: + value "expired"\n' in out
    assert "run `make update-spec`" in err
    assert yaml.safe_load(edited.read_text(encoding="utf-8")) == spec, "--check must write nothing"

    assert _run(capsys, "--output", str(edited), "--no-extract")[0] == 0
    assert edited.read_text(encoding="utf-8") == OURS.read_text(encoding="utf-8")
    status, out, _ = _run(capsys, "--output", str(edited), "--no-extract")
    assert (status, "is up to date" in out) == (0, True)


def test_without_a_source_record_the_header_keeps_the_file_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = tmp_path / "new.yaml"
    shutil.copy(EXTRACT, upstream)
    output = tmp_path / "openapi.yaml"
    assert _run(capsys, "--upstream", str(upstream), "--output", str(output))[0] == 0
    sha256 = hashlib.sha256(EXTRACT.read_bytes()).hexdigest()
    text = output.read_text(encoding="utf-8")
    assert f"file new.yaml, SHA-256 {sha256}" in text
    assert "no new.source.yaml beside it: repository, commit and date unknown" in text


def test_a_source_record_for_another_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upstream = tmp_path / "new.yaml"
    shutil.copy(EXTRACT, upstream)
    shutil.copy(SPEC / "upstream" / "openai-openapi.source.yaml", tmp_path / "new.source.yaml")
    status, out, err = _run(capsys, "--upstream", str(upstream), "--output", str(tmp_path / "o.yaml"))
    assert (status, out) == (2, "")
    assert "new.source.yaml describes another file" in err
    assert "update its commit, date and sha256" in err
    assert not (tmp_path / "o.yaml").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("paths: [unclosed\n", "is not valid YAML"),
        ("- a list\n", "is not an OpenAPI 3.x document"),
        ("swagger: '2.0'\npaths: {}\n", "is not an OpenAPI 3.x document"),
        ("openapi: 3.1.0\ninfo: {}\n", "has no `paths` mapping"),
        (None, "no such file"),
    ],
)
def test_bad_upstream_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    upstream = tmp_path / "upstream.yaml"
    if content is not None:
        upstream.write_text(content, encoding="utf-8")
    status, out, err = _run(capsys, "--upstream", str(upstream), "--output", str(tmp_path / "o.yaml"))
    assert (status, out) == (2, "")
    assert err.startswith("update_spec: error: upstream: ")
    assert message in err
    assert "Traceback" not in err


def test_a_written_spec_is_readable_as_the_umask_allows_not_private(tmp_path: Path) -> None:
    target = tmp_path / "openapi.yaml"
    umask = os.umask(0o022)
    try:
        update_spec._write(target, "openapi: 3.1.0\n")
    finally:
        os.umask(umask)
    assert target.read_text(encoding="utf-8") == "openapi: 3.1.0\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert list(tmp_path.iterdir()) == [target]
