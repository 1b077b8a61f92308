"""tools/anthropic_spec.py: anthropic-openapi.yaml is exactly what the tool cuts from the vendored Anthropic document.

The fragment is checked for the shaping rules (open response enums, nullable optional fields, only 200 responses, no
header parameters, the free-form request params), for being a valid OpenAPI document, and for being a pure function
of its inputs; the slow test regenerates the package from it and compares the bytes.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import anthropic_spec  # noqa: E402

FRAGMENT = ROOT / "anthropic-openapi.yaml"
VENDORED = ROOT / "spec" / "anthropic"


def fragment() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(FRAGMENT.read_text(encoding="utf-8"))
    return loaded


def walk(node: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(walk(item))
    return found


def test_check_passes_on_the_committed_fragment(capsys: pytest.CaptureFixture[str]) -> None:
    assert anthropic_spec.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_the_fragment_is_what_the_tool_writes_every_time() -> None:
    first, second = anthropic_spec.render(), anthropic_spec.render()
    assert first == second == FRAGMENT.read_text(encoding="utf-8")


def test_check_fails_on_a_hand_edit_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "anthropic-openapi.yaml"
    edited = FRAGMENT.read_text(encoding="utf-8").replace("List Message Batches", "List batches")
    output.write_text(edited, encoding="utf-8")
    assert anthropic_spec.main(["--check", "--output", str(output)]) == 1
    assert output.read_text(encoding="utf-8") == edited
    assert "differs" in capsys.readouterr().out
    assert anthropic_spec.main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == FRAGMENT.read_text(encoding="utf-8")


def test_a_document_that_is_not_the_recorded_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = tmp_path / "hosted_spec.json"
    changed.write_bytes((VENDORED / "hosted_spec.json").read_bytes() + b"\n")
    assert anthropic_spec.main(["--check", "--upstream", str(changed)]) == 2
    assert "SHA-256" in capsys.readouterr().err


def test_the_record_matches_the_vendored_document() -> None:
    source = yaml.safe_load((VENDORED / "source.yaml").read_text(encoding="utf-8"))
    assert source["repository"] == "laszukdawid/anthropic-openapi-spec" and source["path"] == "hosted_spec.json"
    assert len(source["commit"]) == 40
    assert hashlib.sha256((VENDORED / "hosted_spec.json").read_bytes()).hexdigest() == source["sha256"]
    assert source["sha256"] in FRAGMENT.read_text(encoding="utf-8") and source["commit"] in FRAGMENT.read_text()
    assert (VENDORED / "README.md").is_file() and source["licence"]


def test_the_fragment_is_a_valid_openapi_document() -> None:
    validate(fragment())


def test_only_the_message_batches_operations_are_vendored() -> None:
    operations = {
        (method.upper(), path): operation["operationId"]
        for path, item in fragment()["paths"].items()
        for method, operation in item.items()
    }
    assert operations == {
        ("POST", "/v1/messages/batches"): "createMessageBatch",
        ("GET", "/v1/messages/batches"): "listMessageBatches",
        ("GET", "/v1/messages/batches/{message_batch_id}"): "retrieveMessageBatch",
        ("DELETE", "/v1/messages/batches/{message_batch_id}"): "deleteMessageBatch",
        ("POST", "/v1/messages/batches/{message_batch_id}/cancel"): "cancelMessageBatch",
        ("GET", "/v1/messages/batches/{message_batch_id}/results"): "getMessageBatchResults",
    }


def test_only_200_responses_and_no_header_parameters_are_declared() -> None:
    for item in fragment()["paths"].values():
        for operation in item.values():
            assert list(operation["responses"]) == ["200"]
            assert all(p["in"] in ("path", "query") for p in operation.get("parameters", []))
    results = fragment()["paths"]["/v1/messages/batches/{message_batch_id}/results"]["get"]
    assert list(results["responses"]["200"]["content"]) == ["application/x-jsonl"]


def test_response_enums_are_open_and_optional_fields_nullable() -> None:
    schemas = fragment()["components"]["schemas"]
    batch = schemas["MessageBatch"]["properties"]
    assert batch["processing_status"]["anyOf"] == [
        {"$ref": "#/components/schemas/MessageBatchProcessingStatus"},
        {"type": "string"},
    ]
    assert schemas["MessageBatchProcessingStatus"]["enum"] == ["in_progress", "canceling", "ended"]
    for name in ("ended_at", "archived_at", "cancel_initiated_at", "results_url"):
        assert {"type": "null"} in batch[name]["anyOf"] and batch[name]["x-absent-is-null"] is True
        assert name in schemas["MessageBatch"]["required"]
    # Every enum in a response schema is reached only through an open anyOf.
    enums = {name for name, schema in schemas.items() if "enum" in schema}
    for node in walk(schemas):
        if node.get("$ref", "").removeprefix("#/components/schemas/") in enums:
            parents = [p for p in walk(schemas) if node in p.get("anyOf", [])]
            assert parents and all({"type": "string"} in p["anyOf"] for p in parents), node
    # No date-time format (the generator would need python-dateutil).
    assert not [node for node in walk(schemas) if node.get("format") == "date-time"]


def test_the_request_params_and_the_result_message_are_free_form_with_their_reason() -> None:
    schemas = fragment()["components"]["schemas"]
    params = schemas["MessageBatchRequestParams"]["properties"]["params"]
    assert params["type"] == "object" and params["additionalProperties"] is True and "properties" not in params
    message = schemas["MessageBatchSucceededResult"]["properties"]["message"]
    assert message == {"type": "object", "additionalProperties": True}
    overrides = yaml.safe_load((VENDORED / "overrides.yaml").read_text(encoding="utf-8"))
    assert set(overrides["free_form"]) == {
        "BetaMessageBatchIndividualRequestParams.params",
        "BetaSucceededResult.message",
    }
    assert all(entry["reason"] for entry in overrides["free_form"].values())
    assert all(entry["reason"] for entry in overrides["replaced"].values())


def test_upstream_lacks_what_the_overrides_add() -> None:
    import json

    upstream = json.loads((VENDORED / "hosted_spec.json").read_bytes())
    overrides = yaml.safe_load((VENDORED / "overrides.yaml").read_text(encoding="utf-8"))
    for entry in overrides["added_operations"].values():
        assert entry["method"] not in upstream["paths"].get(entry["path"], {})
    assert not set(overrides["added_schemas"]) & set(upstream["components"]["schemas"])


@pytest.mark.slow
def test_regenerating_the_package_gives_the_same_bytes(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    output = tmp_path / "anthropic_batches_generated"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    generator = shutil.which("openapi-python-client", path=env["PATH"])
    assert generator is not None
    completed = subprocess.run(
        [
            generator,
            "generate",
            "--path",
            str(FRAGMENT),
            "--config",
            str(ROOT / "generator-config-anthropic.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(output),
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    committed = ROOT / "generated" / "anthropic_batches_generated"

    def files(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)

    assert files(output) == files(committed)
    _, mismatch, errors = filecmp.cmpfiles(output, committed, files(committed), shallow=False)
    assert not mismatch and not errors


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda o: o["free_form"].update({"BetaMessageBatch.gone": {"reason": "x"}}), "no longer apply"),
        (lambda o: o["replaced"]["BetaErrorResponse.error"].pop("reason"), "needs its reason"),
        (lambda o: o["operations"].update({"x": {"path": "/v1/nothing", "method": "get"}}), "upstream has no GET"),
        (lambda o: o["added_schemas"].update({"BetaMessageBatch": {"reason": "x", "schema": {}}}), "upstream has"),
        (lambda o: o["free_form"].pop("BetaSucceededResult.message"), "expected an object schema"),
    ],
)
def test_an_override_that_no_longer_fits_stops_the_tool(
    edit: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = yaml.safe_load((VENDORED / "overrides.yaml").read_text(encoding="utf-8"))
    edit(overrides)
    path = tmp_path / "overrides.yaml"
    path.write_text(yaml.safe_dump(overrides), encoding="utf-8")
    assert anthropic_spec.main(["--check", "--overrides", str(path), "--output", str(tmp_path / "out.yaml")]) == 2
    assert message in capsys.readouterr().err
