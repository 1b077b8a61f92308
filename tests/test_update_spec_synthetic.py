"""A synthetic upstream change, taken through the whole loop: update-spec, make generate, the overlay's tests.

Upstream grows the five ways it does over time: a new Batch field, a new status, a new endpoint value, a new optional
create parameter, and a new operation under /batches. `tools/update_spec.py` picks up the first four, reports the
fifth without vendoring it, and prints each in API terms. After `make generate` (in a temporary copy of the project)
the generated package has them, and the overlay, unedited, serves them and passes its own tests.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from test_regeneration import GENERATED_PACKAGE, Tree, _copy_project, _make_generate, _run_with, _tree

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import update_spec  # noqa: E402

SPEC = ROOT / "spec"
# The extract derives the same fragment as the whole document (test_update_spec.py checks it) and loads in
# milliseconds.
BASE = SPEC / "upstream" / "openai-batch-files-extract.yaml"
NEW_ENDPOINT = "/v1/audio/transcriptions"
# The overlay's own tests: everything that runs against the generated models without a server or a console script.
# One is left out on purpose: it fails on any new status until someone records whether that status is final (the
# overlay itself needs no edit: `is_terminal` treats a status it does not know as not final).
DESELECTED = ["tests/test_models.py::test_terminal_table_covers_every_status"]
OVERLAY_TESTS = [
    "test_batches.py",
    "test_batch_input.py",
    "test_client.py",
    "test_errors.py",
    "test_files.py",
    "test_files_streaming.py",
    "test_model_builder.py",
    "test_models.py",
    "test_pagination.py",
    "test_properties.py",
    "test_retries.py",
    "test_secrets.py",
    "test_workflow.py",
]
EXPECTED_CHANGES = [
    "  Batch: + field queue_position (optional, integer | null)",
    '  BatchEndpoint: + value "/v1/audio/transcriptions"',
    '  BatchStatus: + value "on_hold"',
    "  CreateBatchRequest: + field service_tier (optional, string)",
]


def grow(upstream: dict[str, Any]) -> dict[str, Any]:
    grown = copy.deepcopy(upstream)
    schemas = grown["components"]["schemas"]
    schemas["Batch"]["properties"]["queue_position"] = {"type": "integer", "description": "Place in the queue."}
    schemas["Batch"]["properties"]["status"]["enum"].append("on_hold")
    schemas["CreateBatchRequest"]["properties"]["endpoint"]["enum"].append(NEW_ENDPOINT)
    schemas["CreateBatchRequest"]["properties"]["service_tier"] = {"type": "string", "description": "The tier."}
    pause = copy.deepcopy(grown["paths"]["/batches/{batch_id}/cancel"]["post"])
    pause["operationId"] = "pauseBatch"
    grown["paths"]["/batches/{batch_id}/pause"] = {"post": pause}
    return grown


@dataclass(frozen=True)
class Grown:
    root: Path
    report: str
    fragment: dict[str, Any]
    overlays: Tree


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Grown:
    root = tmp_path_factory.mktemp("grown")
    _copy_project(root)
    overlays = _tree(root / "overlays")
    upstream = root / "upstream-openapi.yaml"
    grown_upstream = grow(yaml.safe_load(BASE.read_text(encoding="utf-8")))
    upstream.write_text(yaml.safe_dump(grown_upstream, sort_keys=False), encoding="utf-8")
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        args = ["--upstream", str(upstream), "--output", str(root / "openapi.yaml"), "--spec-dir", str(SPEC)]
        status = update_spec.main(args)
    assert status == 0, report.getvalue()
    _make_generate(root)
    fragment = yaml.safe_load((root / "openapi.yaml").read_text(encoding="utf-8"))
    return Grown(root, report.getvalue(), fragment, overlays)


def test_the_update_reports_the_four_changes_in_api_terms(grown: Grown) -> None:
    lines = grown.report.splitlines()
    (title,) = [i for i, line in enumerate(lines) if " updated from " in line]
    assert lines[title].endswith("openapi.yaml updated from " + str(grown.root / "upstream-openapi.yaml:"))
    start = title + 1
    changes = [line for line in lines[start:] if line.startswith("  ") and not line.startswith("  descriptions")]
    assert changes[: len(EXPECTED_CHANGES)] == EXPECTED_CHANGES
    assert lines[start + len(EXPECTED_CHANGES)].startswith("upstream operations under the vendored paths")


def test_the_new_operation_is_reported_but_not_vendored(grown: Grown) -> None:
    lines = grown.report.splitlines()
    heading = lines.index(
        "upstream operations under the vendored paths that are not vendored (add to spec/operations.yaml):"
    )
    assert lines[heading + 1] == "  POST /batches/{batch_id}/pause"
    assert "/batches/{batch_id}/pause" not in grown.fragment["paths"]
    assert not (grown.root / GENERATED_PACKAGE / "api" / "batch" / "pause_batch.py").exists()


def test_the_fragment_takes_the_changes_shaped_by_the_rules(grown: Grown) -> None:
    validate(grown.fragment)
    schemas = grown.fragment["components"]["schemas"]
    assert schemas["Batch"]["properties"]["queue_position"] == {
        "description": "Place in the queue.",
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "x-absent-is-null": True,
    }
    assert "queue_position" in schemas["Batch"]["required"]
    assert schemas["BatchStatus"]["enum"][-1] == "on_hold"
    assert schemas["BatchEndpoint"]["x-enum-varnames"][-1] == "AUDIO_TRANSCRIPTIONS"
    assert schemas["CreateBatchRequest"]["properties"]["service_tier"] == {"description": "The tier.", "type": "string"}


def test_the_regenerated_package_has_them(grown: Grown) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import openai_batches_generated
        from openai_batches_generated.models import Batch, BatchCreateParams, BatchEndpoint, BatchStatus

        assert Path(openai_batches_generated.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve())
        assert "queue_position" in {{a.name for a in Batch.__attrs_attrs__}}
        assert BatchStatus("on_hold") is BatchStatus.ON_HOLD
        assert BatchEndpoint("{NEW_ENDPOINT}") is BatchEndpoint.AUDIO_TRANSCRIPTIONS
        params = BatchCreateParams(input_file_id="f", endpoint="/v1/chat/completions", completion_window="24h",
                                   service_tier="flex")
        assert params.to_dict()["service_tier"] == "flex"
        """
    )
    completed = _run_with([grown.root / "generated"], script, str(grown.root))
    assert completed.returncode == 0, completed.stderr


CLIENT_SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import httpx

    import openai_batches
    import openai_batches_generated
    from openai_batches import Batch, BatchClient, BatchEndpoint, BatchStatus

    root = Path(sys.argv[1]).resolve()
    for module in (openai_batches, openai_batches_generated):
        assert Path(module.__file__).resolve().is_relative_to(root), f"{module.__name__} from {module.__file__}"

    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content) if request.content else None)
        return httpx.Response(200, json={
            "id": "batch_1", "object": "batch", "endpoint": "/v1/audio/transcriptions", "input_file_id": "file-1",
            "completion_window": "24h", "status": "on_hold", "created_at": 1711471533, "queue_position": 7,
        })

    with httpx.Client(transport=httpx.MockTransport(handler)) as http_client:
        client = BatchClient(api_key="k", base_url="https://api.example.test/v1", http_client=http_client)
        created = client.batches.create(input_file_id="file-1", endpoint="/v1/audio/transcriptions")
        batch = client.batches.retrieve("batch_1")

    assert sent[0] == {"input_file_id": "file-1", "endpoint": "/v1/audio/transcriptions", "completion_window": "24h"}
    for b in (created, batch):
        assert isinstance(b, Batch), type(b)
        assert b.queue_position == 7, b
        assert "queue_position" not in b.additional_properties, b.additional_properties
        assert b.status is BatchStatus.ON_HOLD, repr(b.status)
        assert b.endpoint is BatchEndpoint.AUDIO_TRANSCRIPTIONS, repr(b.endpoint)
    """
)


def test_the_unedited_overlay_serves_them(grown: Grown) -> None:
    assert _tree(grown.root / "overlays") == grown.overlays, "the overlay was edited"
    completed = _run_with([grown.root / "generated", grown.root / "overlays"], CLIENT_SCRIPT, str(grown.root))
    assert completed.returncode == 0, completed.stderr


# Run in the copy, so they import the regenerated package; this file proves they did.
PROOF = textwrap.dedent(
    """
    from pathlib import Path

    import openai_batches
    import openai_batches_generated
    from openai_batches_generated.models import Batch


    def test_runs_against_the_regenerated_package() -> None:
        root = Path(__file__).resolve().parents[1]
        for module in (openai_batches, openai_batches_generated):
            assert Path(module.__file__).resolve().is_relative_to(root), module.__file__
        assert "queue_position" in {a.name for a in Batch.__attrs_attrs__}
    """
)


def test_the_overlays_own_tests_pass_unedited(grown: Grown) -> None:
    tests = grown.root / "tests"
    shutil.copytree(
        ROOT / "tests", tests, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "test_update_spec*")
    )
    (tests / "test_zz_regenerated.py").write_text(PROOF, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(grown.root / p) for p in ("generated", "overlays")),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    # A fixed seed: the property tests explore the same examples on every run, so this test cannot flake on them.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
    completed = subprocess.run(
        [*command, *OVERLAY_TESTS, "test_zz_regenerated.py", *(f"--deselect={t}" for t in DESELECTED)],
        cwd=tests,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout.splitlines()[-1]


def test_the_new_create_parameter_is_reachable_through_extra_body(grown: Grown) -> None:
    script = textwrap.dedent(
        """
        import json

        import httpx

        from openai_batches import BatchClient

        sent = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(json.loads(request.content))
            return httpx.Response(200, json={
                "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-1",
                "completion_window": "24h", "status": "validating", "created_at": 1711471533,
            })

        with httpx.Client(transport=httpx.MockTransport(handler)) as http_client:
            client = BatchClient(api_key="k", base_url="https://api.example.test/v1", http_client=http_client)
            client.batches.create(
                input_file_id="file-1", endpoint="/v1/chat/completions", extra_body={"service_tier": "flex"}
            )

        assert sent == [{
            "input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h",
            "service_tier": "flex",
        }], sent
        """
    )
    completed = _run_with([grown.root / "generated", grown.root / "overlays"], script)
    assert completed.returncode == 0, completed.stderr
