"""The changelog of a spec update (tools/spec_update/changes.py): each kind of API change, said in API terms.

The same comparison serves `make update-spec` (old fragment -> new), `make check-spec` and `make spec-drift`
(committed fragment -> what the tool would write), so these planted changes cover all three.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

from spec_update.changes import compare, summarize  # noqa: E402

Doc = dict[str, Any]
REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def fragment() -> Doc:
    data: Doc = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return data


def _schemas(doc: Doc) -> dict[str, Any]:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    return schemas


def _param(doc: Doc, path: str, name: str) -> dict[str, Any]:
    (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    return param  # type: ignore[no-any-return]


def _pause(doc: Doc) -> None:
    doc["paths"]["/batches/{batch_id}/pause"] = {
        "post": copy.deepcopy(doc["paths"]["/batches/{batch_id}/cancel"]["post"])
    }


CASES: list[tuple[str, Callable[[Doc], object], list[str]]] = [
    ("operation added", _pause, ["POST /batches/{batch_id}/pause: + operation"]),
    (
        "operation removed",
        lambda d: d["paths"]["/files/{file_id}"].pop("delete"),
        ["DELETE /files/{file_id}: - operation"],
    ),
    (
        "field added",
        lambda d: _schemas(d)["Batch"]["properties"].update(
            priority={"anyOf": [{"type": "integer"}, {"type": "null"}]}
        ),
        ["Batch: + field priority (optional, integer | null)"],
    ),
    (
        # As update-spec writes an optional response field: required so the models have no Unset, yet optional.
        "optional response field added",
        lambda d: (
            _schemas(d)["Batch"]["properties"].update(
                priority={"anyOf": [{"type": "integer"}, {"type": "null"}], "x-absent-is-null": True}
            ),
            _schemas(d)["Batch"]["required"].append("priority"),
        ),
        ["Batch: + field priority (optional, integer | null)"],
    ),
    (
        "field removed",
        lambda d: _schemas(d)["Batch"]["properties"].pop("usage"),
        ["Batch: - field usage (BatchUsage | null)"],
    ),
    (
        "field type changed",
        lambda d: _schemas(d)["BatchRequestCounts"]["properties"]["total"].update(type="string"),
        ["BatchRequestCounts: ~ field total: integer -> string"],
    ),
    (
        "field now required",
        lambda d: _schemas(d)["CreateBatchRequest"]["required"].append("metadata"),
        ["CreateBatchRequest: ~ field metadata is now required"],
    ),
    (
        "enum value added",
        lambda d: _schemas(d)["BatchStatus"]["enum"].append("paused"),
        ['BatchStatus: + value "paused"'],
    ),
    (
        "enum value removed",
        lambda d: _schemas(d)["FileStatus"]["enum"].remove("error"),
        ['FileStatus: - value "error"'],
    ),
    (
        "enum opened",
        lambda d: _schemas(d)["BatchFileExpirationAfter"]["properties"].update(
            anchor={"anyOf": [{"$ref": REF + "FileExpirationAnchor"}, {"type": "string"}]}
        ),
        ["BatchFileExpirationAfter: ~ field anchor: FileExpirationAnchor -> FileExpirationAnchor | string"],
    ),
    ("schema added", lambda d: _schemas(d).update(Pause={"type": "object"}), ["Pause: + schema (object)"]),
    (
        "parameter added",
        lambda d: d["paths"]["/batches"]["get"]["parameters"].append(
            {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}}
        ),
        ["GET /batches: + parameter status (query), optional, string"],
    ),
    (
        "parameter removed",
        lambda d: d["paths"]["/files"]["get"]["parameters"].pop(0),
        ["GET /files: - parameter purpose (query)"],
    ),
    (
        "parameter bounds changed",
        lambda d: _param(d, "/batches", "limit")["schema"].update(maximum=1000),
        ["GET /batches: ~ parameter limit (query) bounds: minimum 1, maximum 100 -> minimum 1, maximum 1000"],
    ),
    (
        "map value bounds changed",
        lambda d: _schemas(d)["Metadata"]["additionalProperties"].pop("maxLength"),
        ["Metadata: ~ map values bounds: maxLength 512 -> none"],
    ),
    (
        "response media type changed",
        lambda d: d["paths"]["/files/{file_id}/content"]["get"]["responses"]["200"].update(
            content={"application/json": {"schema": {"type": "string"}}}
        ),
        [
            "GET /files/{file_id}/content: + 200 response as application/json (string)",
            "GET /files/{file_id}/content: - 200 response as application/octet-stream",
        ],
    ),
    (
        "request body schema changed",
        lambda d: d["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"].update(
            schema={"$ref": REF + "Batch"}
        ),
        ["POST /batches: ~ request body (application/json): CreateBatchRequest -> Batch"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_change_is_reported_in_api_terms(
    fragment: Doc, change: Callable[[Doc], object], expected: list[str]
) -> None:
    new = copy.deepcopy(fragment)
    change(new)
    changelog = compare(fragment, new)
    assert [c.line() for c in changelog.changes] == expected
    assert changelog.descriptions == ()


def test_the_reverse_change_reads_the_other_way(fragment: Doc) -> None:
    new = copy.deepcopy(fragment)
    _schemas(new)["BatchStatus"]["enum"].append("paused")
    assert [c.line() for c in compare(new, fragment).changes] == ['BatchStatus: - value "paused"']


def test_no_change_is_no_change(fragment: Doc) -> None:
    assert compare(fragment, copy.deepcopy(fragment)).lines() == []


def test_description_changes_are_listed_apart_from_api_changes(fragment: Doc) -> None:
    new = copy.deepcopy(fragment)
    _schemas(new)["Batch"]["properties"]["model"]["description"] = "Another text."
    new["paths"]["/batches"]["get"]["summary"] = "Another summary."
    changelog = compare(fragment, new)
    assert changelog.changes == ()
    assert changelog.lines() == ["descriptions changed (2): GET /batches, Batch field model"]


def test_against_an_empty_document_everything_is_new(fragment: Doc) -> None:
    lines = compare({}, fragment).lines()
    assert "POST /batches: + operation" in lines
    assert 'BatchCompletionWindow: + schema (enum of "24h")' in lines
    assert len(lines) == 9 + len(_schemas(fragment))


@pytest.mark.parametrize(
    ("schema", "text"),
    [
        (
            {"anyOf": [{"$ref": REF + "BatchStatus"}, {"type": "string"}, {"type": "null"}]},
            "BatchStatus | string | null",
        ),
        ({"type": "array", "items": {"$ref": REF + "Batch"}}, "array of Batch"),
        ({"type": "string", "format": "binary"}, "binary"),
        ({"enum": ["a", "b"]}, 'enum of "a", "b"'),
        ({}, "any"),
    ],
)
def test_summaries(schema: Doc, text: str) -> None:
    assert summarize(schema) == text
