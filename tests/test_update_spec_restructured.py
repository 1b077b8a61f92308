"""Upstream reshapes its document without changing the API, or changes it in ways overrides.yaml did not foresee.

Each case is made here from the vendored document (its extract, which derives the same fragment):

- an inline enum moved into a named schema (under names of upstream's choosing, a shared one, an open spelling), and
  the reverse: the fragment is the committed one, because an override that names the enum by where it is used
  follows it wherever it now lives;
- the same with overrides.yaml written for the named spelling (`known_values` naming upstream's schema), which
  cannot follow a schema that is gone: a note, and the field stays a plain string (the error of issue 20, item 10);
- a schema renamed, fields moved behind `allOf`, one of two enums sharing a name growing a value of its own.

Nothing stops the update: `tools/update_spec.py` exits 0 and prints a note for each override or description that
no longer applies. Where the fragment differs from the committed one, `make generate` (once per document, in a
temporary copy of the project) builds a package that passes mypy --strict and imports.
"""

from __future__ import annotations

import contextlib
import copy
import io
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from test_regeneration import _copy_project, _make_generate, _run_with

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import update_spec  # noqa: E402
from spec_update.changes import compare  # noqa: E402
from spec_update.config import Config, Overrides, load_config, parse_overrides  # noqa: E402
from spec_update.derive import Derivation, derive  # noqa: E402
from spec_update.yaml_io import load_openapi  # noqa: E402

SPEC = ROOT / "spec"
EXTRACT = SPEC / "upstream" / "openai-batch-files-extract.yaml"
REF = "#/components/schemas/"

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def base() -> Mapping[str, Any]:
    root, _ = load_openapi(EXTRACT)
    return root


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SPEC)


@pytest.fixture(scope="module")
def committed() -> Doc:
    data: Doc = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return data


def _schemas(doc: Mapping[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    return schemas


def _name(doc: Doc, owner: str, prop: str, name: str) -> None:
    """Move the inline enum of `owner.prop` into the schema `name`, the description staying with the field."""
    schemas = _schemas(doc)
    inline = schemas[owner]["properties"][prop]
    schemas.setdefault(name, {k: v for k, v in inline.items() if k != "description"})
    schemas[owner]["properties"][prop] = {"$ref": REF + name, "description": inline["description"]}


def enums_named(upstream: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Doc:
    """Upstream's enums moved into named schemas: the names upstream might choose, two places sharing one."""
    names = {"endpoint": "BatchEndpointType", "window": "CompletionWindow", "order": "OrderEnum", **(names or {})}
    doc = copy.deepcopy(dict(upstream))
    _name(doc, "CreateBatchRequest", "endpoint", names["endpoint"])
    # `allOf [<ref>]` with the description beside it: how OpenAPI 3.0 documents annotate a reference.
    window = _schemas(doc)["CreateBatchRequest"]["properties"]["completion_window"]
    _schemas(doc)[names["window"]] = {k: v for k, v in window.items() if k != "description"}
    _schemas(doc)["CreateBatchRequest"]["properties"]["completion_window"] = {
        "allOf": [{"$ref": REF + names["window"]}],
        "description": window["description"],
    }
    _name(doc, "Batch", "status", "BatchStatus")  # upstream's name is the one the fragment has
    _name(doc, "FileExpirationAfter", "anchor", "ExpirationAnchor")  # a constant, shared by two objects
    _name(doc, "BatchFileExpirationAfter", "anchor", "ExpirationAnchor")
    (order,) = [p for p in doc["paths"]["/files"]["get"]["parameters"] if p["name"] == "order"]
    _schemas(doc)[names["order"]] = order["schema"]
    order["schema"] = {"$ref": REF + names["order"]}
    return doc


def spelled_open(upstream: Mapping[str, Any]) -> Doc:
    """Enums spelled open upstream, `anyOf [<enum>, {type: string}]`, inline and named."""
    doc = copy.deepcopy(dict(upstream))
    schemas = _schemas(doc)
    status = schemas["Batch"]["properties"]["status"]
    schemas["Batch"]["properties"]["status"] = {
        "description": status["description"],
        "anyOf": [{"type": "string"}, {"type": "string", "enum": status["enum"]}],
    }
    purpose = schemas["OpenAIFile"]["properties"]["purpose"]
    schemas["FilePurposes"] = {"type": "string", "enum": purpose["enum"]}
    schemas["OpenAIFile"]["properties"]["purpose"] = {
        "description": purpose["description"],
        "anyOf": [{"$ref": REF + "FilePurposes"}, {"type": "string"}],
    }
    endpoint = schemas["CreateBatchRequest"]["properties"]["endpoint"]
    schemas["Endpoints"] = {"anyOf": [{"type": "string"}, {"type": "string", "enum": endpoint["enum"]}]}
    schemas["CreateBatchRequest"]["properties"]["endpoint"] = {"$ref": REF + "Endpoints", **_described(endpoint)}
    return doc


def _described(node: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": node["description"]} if "description" in node else {}


def renamed(upstream: Mapping[str, Any]) -> Doc:
    """CreateBatchRequest renamed BatchCreateRequest: every override and description naming it finds nothing."""
    doc = copy.deepcopy(dict(upstream))
    _schemas(doc)["BatchCreateRequest"] = _schemas(doc).pop("CreateBatchRequest")
    body = doc["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"$ref": REF + "BatchCreateRequest"}
    return doc


def behind_all_of(upstream: Mapping[str, Any]) -> Doc:
    """Batch's first fields moved into a base schema it extends; two fields' references wrapped in `allOf`."""
    doc = copy.deepcopy(dict(upstream))
    schemas = _schemas(doc)
    batch = schemas["Batch"]
    moved = ["id", "object", "endpoint", "status"]
    schemas["BatchCore"] = {
        "type": "object",
        "properties": {k: batch["properties"][k] for k in moved},
        "required": [r for r in batch["required"] if r in moved],
    }
    rest = {k: v for k, v in batch["properties"].items() if k not in moved}
    counts = rest["request_counts"]
    rest["request_counts"] = {"allOf": [{"$ref": counts["$ref"]}, {"description": counts.get("description", "")}]}
    schemas["Batch"] = {
        "type": "object",
        "allOf": [
            {"$ref": REF + "BatchCore"},
            {"type": "object", "properties": rest, "required": [r for r in batch["required"] if r not in moved]},
        ],
    }
    expires = schemas["CreateFileRequest"]["properties"]["expires_after"]
    schemas["CreateFileRequest"]["properties"]["expires_after"] = {"allOf": [expires], "description": "Expiry."}
    return doc


def anchors_apart(upstream: Mapping[str, Any]) -> Doc:
    """Uploaded files gain an anchor batch output files lack: the two enums overrides.yaml names alike now differ."""
    doc = copy.deepcopy(dict(upstream))
    anchor = _schemas(doc)["FileExpirationAfter"]["properties"]["anchor"]
    anchor["enum"] = [*anchor["enum"], "last_accessed_at"]
    anchor.pop("x-stainless-const", None)
    return doc


def _without_order(doc: Doc) -> Doc:
    """The fragment with each schema's required list as a set: allOf merges parts in their order, not upstream's."""
    out = copy.deepcopy(doc)
    for schema in _schemas(out).values():
        if "required" in schema:
            schema["required"] = sorted(schema["required"])
    return out


# --- the same API, spelled another way: the same fragment ---


@pytest.mark.parametrize(
    "names",
    [
        {},
        {"endpoint": "BatchEndpoint", "window": "BatchCompletionWindow", "order": "ListOrder"},  # the fragment's
        {"endpoint": "Endpoint", "window": "Window", "order": "SortOrder"},  # renamed again later
    ],
    ids=["upstream-names", "our-names", "renamed-again"],
)
def test_an_enum_moved_into_a_named_schema_keeps_its_name(
    base: Mapping[str, Any], config: Config, committed: Doc, names: dict[str, str]
) -> None:
    result = derive(enums_named(base, names), config)
    # Before this rule: `known_values: Batch.endpoint lists the values of BatchEndpoint, which this document does
    # not define as an enum`, and no update at all.
    assert result.fragment == committed, _difference(result.fragment, committed)
    assert result.notes == []


def test_an_enum_moved_back_inline_is_no_change(base: Mapping[str, Any], config: Config) -> None:
    named = derive(enums_named(base), config)
    inline = derive(base, config)
    assert compare(named.fragment, inline.fragment).lines() == []
    assert inline.notes == []


def test_an_enum_spelled_open_gives_the_same_fragment(base: Mapping[str, Any], config: Config, committed: Doc) -> None:
    result = derive(spelled_open(base), config)
    assert result.fragment == committed, _difference(result.fragment, committed)


def test_fields_behind_all_of_are_the_same_fields(base: Mapping[str, Any], config: Config, committed: Doc) -> None:
    result = derive(behind_all_of(base), config)
    # The file upload's bracketed expiry members keep the names of the schema behind the allOf.
    assert _without_order(result.fragment) == _without_order(committed)
    assert list(_schemas(result.fragment)["Batch"]["properties"])[:4] == ["id", "object", "endpoint", "status"]


# --- overrides that cannot follow: notes, and the fragment as upstream wrote it ---


def test_a_known_values_enum_upstream_no_longer_defines_is_a_note_and_a_plain_string(
    base: Mapping[str, Any], config: Config
) -> None:
    # overrides.yaml as it would read had it been written for a document that named the enum BatchEndpointType.
    written_for_named = [
        e
        for e in config.overrides.entries
        if (e.section, e.location) != ("schema_names", "CreateBatchRequest.endpoint")
    ]
    reason = {"reason": "a batch reports the endpoint it was created with"}
    (known,) = parse_overrides(
        {"known_values": {"Batch.endpoint": {"enum": "BatchEndpointType", **reason}}}, "overrides.yaml"
    ).entries
    entries = [known if (e.section, e.location) == ("known_values", "Batch.endpoint") else e for e in written_for_named]
    config = Config(config.operations, Overrides(tuple(entries)), config.descriptions)
    before = derive(enums_named(base), config)
    assert _schemas(before.fragment)["Batch"]["properties"]["endpoint"]["anyOf"][0] == {
        "$ref": REF + "BatchEndpointType"
    }

    after = derive(base, config)  # upstream moved the enum back inline
    endpoint = _schemas(after.fragment)["Batch"]["properties"]["endpoint"]
    assert endpoint == {"description": "The OpenAI API endpoint used by the batch.", "type": "string"}
    assert _schemas(after.fragment)["CreateBatchRequest"]["properties"]["endpoint"]["anyOf"][0] == {
        "$ref": REF + "CreateBatchRequestEndpoint"
    }
    assert (
        "spec/overrides.yaml: known_values: Batch.endpoint lists the values of BatchEndpointType, which this "
        "document does not define as an enum, so Batch.endpoint stays a plain string" in after.notes[0]
    )
    validate(after.fragment)


def test_a_renamed_schema_leaves_notes_for_every_entry_that_named_it(base: Mapping[str, Any], config: Config) -> None:
    result = derive(renamed(base), config)
    notes = "\n".join(result.notes)
    for section, location in [
        ("schema_names", "CreateBatchRequest.endpoint"),
        ("schema_names", "CreateBatchRequest.completion_window"),
    ]:
        assert (
            f"spec/overrides.yaml: {section}: {location} does not apply to this document; "
            "this document has no schema CreateBatchRequest" in notes
        )
    assert "spec/overrides.yaml: known_values: Batch.endpoint lists the values of BatchEndpoint" in notes
    assert "spec/descriptions.yaml: CreateBatchRequest.input_file_id is not used" in notes
    schemas = _schemas(result.fragment)
    assert "BatchCreateRequest" in schemas and "CreateBatchRequest" not in schemas
    assert schemas["BatchCreateRequestEndpoint"]["enum"][0] == "/v1/responses"
    validate(result.fragment)


def test_enums_sharing_a_name_that_grow_apart_keep_both_with_a_note(base: Mapping[str, Any], config: Config) -> None:
    result = derive(anchors_apart(base), config)
    schemas = _schemas(result.fragment)
    assert schemas["FileExpirationAnchor"]["enum"] == ["created_at"]
    assert schemas["FileExpirationAfterAnchor"]["enum"] == ["created_at", "last_accessed_at"]
    assert any(
        n.startswith(
            "spec/overrides.yaml: schema_names: FileExpirationAfter.anchor names its enum FileExpirationAnchor"
        )
        for n in result.notes
    )
    validate(result.fragment)


def _difference(left: Doc, right: Doc) -> str:
    a, b = _schemas(left), _schemas(right)
    differing = sorted(n for n in a.keys() & b.keys() if a[n] != b[n])
    return f"only left: {sorted(a.keys() - b.keys())}; only right: {sorted(b.keys() - a.keys())}; differ: {differing}"


# --- through the command line, generated, type-checked, imported ---

GENERATED_NAME = "openai_batches_generated"
GENERATED: dict[str, Callable[[Mapping[str, Any]], Doc]] = {
    "renamed": renamed,
    "behind-allOf": behind_all_of,
    "anchors-apart": anchors_apart,
}
# Those that leave the reviewer something to look at; fields behind allOf are the same fields, nothing to note.
NOTED = {"renamed", "anchors-apart"}


@dataclass(frozen=True)
class Update:
    name: str
    root: Path
    status: int
    report: str
    derivation: Derivation


@pytest.fixture(scope="module", params=list(GENERATED))
def update(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, base: Mapping[str, Any], config: Config
) -> Update:
    root = tmp_path_factory.mktemp(f"restructured-{request.param}")
    _copy_project(root)
    doc = GENERATED[request.param](base)
    upstream = root / "upstream.yaml"
    upstream.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        args = ["--upstream", str(upstream), "--output", str(root / "openapi.yaml"), "--spec-dir", str(SPEC)]
        status = update_spec.main([*args, "--no-extract"])
    if status == 0:
        _make_generate(root)
    return Update(request.param, root, status, report.getvalue(), derive(doc, config))


@pytest.mark.slow
def test_the_update_goes_through_and_prints_its_notes(update: Update) -> None:
    assert update.status == 0, update.report
    lines = update.report.splitlines()
    assert " updated from " in lines[0]
    notes = lines[lines.index("notes:") + 1 :] if "notes:" in lines else []
    assert [line.strip() for line in notes] == update.derivation.notes
    assert bool(update.derivation.notes) == (update.name in NOTED), update.derivation.notes


@pytest.mark.slow
def test_the_package_type_checks_and_imports(update: Update) -> None:
    assert update.status == 0, update.report
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(update.root / ".mypy_cache"), GENERATED_NAME],
        cwd=update.root / "generated",
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        from pathlib import Path
        import openai_batches_generated as package

        assert Path(package.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), package.__file__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
        from openai_batches_generated.models import Batch, BatchStatus
        import attrs
        body = {
            "id": "b", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "f",
            "completion_window": "24h", "status": "completed", "created_at": 1,
        }
        # The generated parser wants every field the fragment requires; the service sends each, null if unset.
        for field in attrs.fields(Batch):
            if field.init and field.default is attrs.NOTHING:
                body.setdefault(field.name.removesuffix("_"), None)
        batch = Batch.from_dict(body)
        assert batch.status is BatchStatus.COMPLETED, batch
        """
    )
    completed = _run_with([update.root / "generated"], script, str(update.root))
    assert completed.returncode == 0, completed.stderr
