"""Tests for tools/spec_drift.py: clean against the reference, planted differences reported, bad input rejected."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "spec_drift.py"
OURS = ROOT / "openapi.yaml"
REFERENCE = ROOT / "spec" / "upstream"
EXTRACT = REFERENCE / "openai-batch-files-extract.yaml"
FULL = REFERENCE / "openai-openapi.yaml"

_spec = importlib.util.spec_from_file_location("spec_drift", SCRIPT)
assert _spec is not None and _spec.loader is not None
sd: ModuleType = importlib.util.module_from_spec(_spec)
sys.modules["spec_drift"] = sd  # dataclasses look their module up by name
_spec.loader.exec_module(sd)

Spec = dict[str, Any]
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
OPS_WITH_BATCH = ["POST /batches 200: ", "GET /batches/{batch_id} 200: ", "POST /batches/{batch_id}/cancel 200: "]

# Our deliberate shaping that upstream does not share: informational, never drift.
EXPECTED_NOTES = [
    "GET /batches parameter limit (in query): bounds differ: minimum upstream none, ours 1; "
    "maximum upstream none, ours 100",
    *[
        f"{prefix}{field} ours lists known values (open enum); upstream has no enum"
        for prefix, fields in [("GET /batches 200: ", [".data[].endpoint", ".data[].completion_window"])]
        + [(p, [".endpoint", ".completion_window"]) for p in OPS_WITH_BATCH]
        for field in fields
    ],
    "GET /files parameter limit (in query): bounds differ: minimum upstream none, ours 1; "
    "maximum upstream none, ours 10000",
    "GET /files 200: .object ours lists known values (open enum); upstream has no enum",
    "GET /files 200: .first_id ours tolerates null where upstream does not",
    "GET /files 200: .last_id ours tolerates null where upstream does not",
    *[
        f"GET /files/{{file_id}}/content 200: media type {media} (allowed: the upstream document declares the "
        "content as a JSON string; the endpoint returns raw bytes)"
        for media in ("application/json missing (upstream has it)", "application/octet-stream not upstream")
    ],
]


def _load(path: Path) -> Spec:
    with path.open(encoding="utf-8") as fh:
        data: Spec = yaml.load(fh, Loader=_LOADER)
    return data


@pytest.fixture(scope="module")
def pristine() -> tuple[Spec, Spec]:
    return _load(OURS), _load(EXTRACT)


def _findings(tmp_path: Path, ours: Spec, upstream: Spec) -> list[Any]:
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump(ours, sort_keys=False), encoding="utf-8")
    (tmp_path / "upstream.yaml").write_text(yaml.safe_dump(upstream, sort_keys=False), encoding="utf-8")
    _, groups = sd.compare_documents(
        sd.load_document(tmp_path / "ours.yaml", "ours"), sd.load_document(tmp_path / "upstream.yaml", "upstream")
    )
    return [f for fs in groups.values() for f in fs]


def _drift(findings: list[Any]) -> list[str]:
    return [f.line() for f in findings if f.severity == "drift"]


def test_clean_against_extract(tmp_path: Path, pristine: tuple[Spec, Spec]) -> None:
    findings = _findings(tmp_path, *pristine)
    assert _drift(findings) == []
    assert sorted(f.line() for f in findings if f.severity == "note") == sorted(EXPECTED_NOTES)


def test_clean_against_full_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert sd.main(["--ours", str(OURS), "--upstream", str(FULL)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "GET /batches: no drift"
    assert lines[-1] == "spec drift: none; 9 operations of ours compared (15 notes)"


def _schemas(spec: Spec) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _add_pause(ours: Spec, upstream: Spec) -> None:
    ours["paths"]["/batches/{batch_id}/pause"] = copy.deepcopy(ours["paths"]["/batches/{batch_id}/cancel"])


def _upstream_delete(ours: Spec, upstream: Spec) -> None:
    upstream["paths"]["/batches/{batch_id}"]["delete"] = upstream["paths"]["/batches/{batch_id}"]["get"]


Mutation = Callable[[Spec, Spec], None]
CASES: list[tuple[str, Mutation, list[str]]] = [
    (
        "field removed from ours",
        lambda o, u: _schemas(o)["Batch"]["properties"].pop("usage"),
        ["GET /batches 200: .data[].usage missing field (upstream has it)"]
        + [f"{p}.usage missing field (upstream has it)" for p in OPS_WITH_BATCH],
    ),
    (
        "field added to ours",
        lambda o, u: _schemas(o)["BatchRequestCounts"]["properties"].update(cancelled={"type": "integer"}),
        ["GET /batches 200: .data[].request_counts.cancelled extra field (not upstream)"]
        + [f"{p}.request_counts.cancelled extra field (not upstream)" for p in OPS_WITH_BATCH],
    ),
    (
        "enum value added upstream",
        lambda o, u: _schemas(u)["Batch"]["properties"]["status"]["enum"].append("paused"),
        ['GET /batches 200: .data[].status enum missing value "paused"']
        + [f'{p}.status enum missing value "paused"' for p in OPS_WITH_BATCH],
    ),
    (
        "enum value only in ours",
        lambda o, u: _schemas(o)["BatchEndpoint"]["enum"].append("/v1/audio"),
        ['POST /batches request body: .endpoint enum has extra value "/v1/audio" (not upstream)'],
    ),
    (
        "required set changed",
        lambda o, u: _schemas(o)["CreateBatchRequest"]["required"].remove("completion_window"),
        ["POST /batches request body: .completion_window required upstream, optional in ours"],
    ),
    (
        "parameter removed",
        lambda o, u: o["paths"]["/batches"]["get"]["parameters"].pop(1),
        ["GET /batches parameters: missing limit (in query) (upstream has it)"],
    ),
    (
        "parameter required changed",
        lambda o, u: o["paths"]["/batches"]["get"]["parameters"][0].update(required=True),
        ["GET /batches parameter after (in query): required in ours, optional upstream"],
    ),
    (
        "parameter type changed",
        lambda o, u: o["paths"]["/batches"]["get"]["parameters"][0]["schema"].update(type="integer"),
        ["GET /batches parameter after (in query): type changed: upstream string, ours integer"],
    ),
    (
        "field type changed",
        lambda o, u: _schemas(o)["BatchRequestCounts"]["properties"]["total"].update(type="string"),
        ["GET /batches 200: .data[].request_counts.total type changed: upstream integer, ours string"]
        + [f"{p}.request_counts.total type changed: upstream integer, ours string" for p in OPS_WITH_BATCH],
    ),
    (
        "additionalProperties schema changed",
        lambda o, u: _schemas(o)["Metadata"].update(additionalProperties={"type": "integer"}),
        ["POST /batches request body: .metadata{} type changed: upstream string, ours integer"]
        + ["GET /batches 200: .data[].metadata{} type changed: upstream string, ours integer"]
        + [f"{p}.metadata{{}} type changed: upstream string, ours integer" for p in OPS_WITH_BATCH],
    ),
    (
        "upstream field made nullable",
        lambda o, u: _schemas(u)["CreateBatchRequest"]["properties"]["input_file_id"].update(type=["string", "null"]),
        ["POST /batches request body: .input_file_id upstream allows null, ours does not"],
    ),
    (
        "required field nullable in ours",
        lambda o, u: _schemas(o)["CreateBatchRequest"]["properties"].update(
            input_file_id={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        ["POST /batches request body: .input_file_id ours allows null where upstream does not"],
    ),
    ("operation missing upstream", _add_pause, ["POST /batches/{batch_id}/pause: operation missing upstream"]),
    (
        "method missing in ours",
        _upstream_delete,
        ["DELETE /batches/{batch_id}: operation missing in ours (upstream has it)"],
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_planted_difference_is_reported(
    tmp_path: Path, pristine: tuple[Spec, Spec], mutate: Mutation, expected: list[str]
) -> None:
    ours, upstream = copy.deepcopy(pristine)
    mutate(ours, upstream)
    assert sorted(_drift(_findings(tmp_path, ours, upstream))) == sorted(expected)


def test_json_output(tmp_path: Path, pristine: tuple[Spec, Spec], capsys: pytest.CaptureFixture[str]) -> None:
    upstream = copy.deepcopy(pristine[1])
    _schemas(upstream)["BatchFileExpirationAfter"]["properties"]["anchor"]["enum"].append("completed_at")
    (tmp_path / "upstream.yaml").write_text(yaml.safe_dump(upstream), encoding="utf-8")
    assert sd.main(["--ours", str(OURS), "--upstream", str(tmp_path / "upstream.yaml"), "--json"]) == 1
    drift = [f for f in json.loads(capsys.readouterr().out) if f["severity"] == "drift"]
    assert drift == [
        {
            "severity": "drift",
            "kind": "enum-missing",
            "operation": "POST /batches",
            "where": "request body",
            "location": ".output_expires_after.anchor",
            "message": 'enum missing value "completed_at"',
        }
    ]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_command_line_exit_codes_and_report(tmp_path: Path, pristine: tuple[Spec, Spec]) -> None:
    upstream = copy.deepcopy(pristine[1])
    _schemas(upstream)["Batch"]["properties"]["status"]["enum"].append("paused")
    (tmp_path / "upstream.yaml").write_text(yaml.safe_dump(upstream), encoding="utf-8")
    run = _run("--upstream", str(tmp_path / "upstream.yaml"))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert "GET /batches/{batch_id}: 1 difference" in lines
    assert '  GET /batches/{batch_id} 200: .status enum missing value "paused"' in lines
    assert lines[-1] == "spec drift: 4 differences in 4 operations; 9 operations of ours compared (15 notes)"

    missing = _run("--upstream", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert missing.stderr == f"spec_drift: error: upstream: no such file: {tmp_path / 'nope.yaml'}\n"
    assert missing.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("paths: [unclosed\n", "is not valid YAML"),
        ("- just\n- a list\n", "is not an OpenAPI 3.x document"),
        ("swagger: '2.0'\npaths: {}\n", "is not an OpenAPI 3.x document"),
        ("openapi: 3.1.0\ninfo: {}\n", "has no `paths` mapping"),
        ("", "is not an OpenAPI 3.x document"),
    ],
)
def test_bad_upstream_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    assert sd.main(["--ours", str(OURS), "--upstream", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spec_drift: error: upstream: {bad} ")
    assert message in err
    assert "Traceback" not in err


def test_dangling_ref_exits_2(tmp_path: Path, pristine: tuple[Spec, Spec], capsys: pytest.CaptureFixture[str]) -> None:
    ours = copy.deepcopy(pristine[0])
    del _schemas(ours)["BatchUsage"]
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump(ours), encoding="utf-8")
    assert sd.main(["--ours", str(tmp_path / "ours.yaml"), "--upstream", str(EXTRACT)]) == 2
    ref = "'#/components/schemas/BatchUsage'"
    assert capsys.readouterr().err == f"spec_drift: error: ours ({tmp_path / 'ours.yaml'}): cannot resolve $ref {ref}\n"


def test_bracketed_form_fields_match_the_nested_object_and_are_checked(
    tmp_path: Path, pristine: tuple[Spec, Spec]
) -> None:
    ours, upstream = copy.deepcopy(pristine[0]), copy.deepcopy(pristine[1])
    assert _drift(_findings(tmp_path, ours, upstream)) == []
    del _schemas(ours)["CreateFileRequest"]["properties"]["expires_after[seconds]"]
    lines = _drift(_findings(tmp_path, ours, upstream))
    assert lines == ["POST /files request body: .expires_after.seconds missing field (upstream has it, required)"]


def test_drift_allowed_turns_differences_into_notes(tmp_path: Path, pristine: tuple[Spec, Spec]) -> None:
    ours, upstream = copy.deepcopy(pristine[0]), copy.deepcopy(pristine[1])
    del ours["paths"]["/files/{file_id}/content"]["get"]["x-drift-allowed"]
    lines = _drift(_findings(tmp_path, ours, upstream))
    assert lines == [
        "GET /files/{file_id}/content 200: media type application/json missing (upstream has it)",
        "GET /files/{file_id}/content 200: media type application/octet-stream not upstream",
    ]


def test_null_tolerated_in_a_response_but_not_in_a_request(tmp_path: Path, pristine: tuple[Spec, Spec]) -> None:
    ours, upstream = copy.deepcopy(pristine[0]), copy.deepcopy(pristine[1])
    request = _schemas(ours)["CreateBatchRequest"]
    request["properties"]["input_file_id"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    lines = _drift(_findings(tmp_path, ours, upstream))
    assert lines == ["POST /batches request body: .input_file_id ours allows null where upstream does not"]
