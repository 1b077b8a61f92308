"""Real spec history replayed: the upstream documents of 2024-05-09, 2025-04-29, 2026-05-13 and the current one.

For each, `tools/update_spec.py` writes a fragment in a temporary copy of the project, the fragment is a valid OpenAPI
document, and `make generate` turns it into a package that imports and passes mypy --strict. For the current one,
the fragment is the committed openapi.yaml, the extract it cuts is the committed one, and the package is the committed
generated/ tree, which the rest of the suite runs against. The older extracts are vendored under spec/history/ (see its
README); the one of 2026-05-13 keeps BatchError inline, where the document of 2026-08-21 names it. spec/ is the one
of today for every date: overrides written for a later document are notes on an earlier one, never a stop, just as
they are once a newer document makes them moot.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from test_regeneration import GENERATED_PACKAGE, Tree, _copy_project, _make_generate, _run_with, _tree
from test_update_spec import upstream_enum

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import update_spec  # noqa: E402
from spec_update.config import load_config  # noqa: E402
from spec_update.yaml_io import load_openapi  # noqa: E402

SPEC = ROOT / "spec"
REF = "#/components/schemas/"
HISTORY = {
    "2024-05-09": SPEC / "history" / "openai-openapi-2024-05-09-14138f3.yaml",
    "2025-04-29": SPEC / "history" / "openai-openapi-2025-04-29-498c71d.yaml",
    "2026-05-13": SPEC / "history" / "openai-openapi-2026-05-13-5162af9.yaml",
    "current": SPEC / "upstream" / "openai-openapi.yaml",
}


@dataclass(frozen=True)
class Replay:
    date: str
    root: Path
    text: str
    report: str
    generated: Tree = field(repr=False)
    extract: str | None = None

    @property
    def fragment(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.text)
        return data


@pytest.fixture(scope="module", params=list(HISTORY), ids=list(HISTORY))
def replay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Replay:
    date: str = request.param
    root = tmp_path_factory.mktemp(f"history-{date}")
    _copy_project(root)
    output = root / "openapi.yaml"
    extract = root / "extract.yaml"
    report = io.StringIO()
    args = ["--upstream", str(HISTORY[date]), "--output", str(output), "--spec-dir", str(SPEC)]
    with contextlib.redirect_stdout(report):
        # Never the working tree's extract: for the vendored document the tool would re-cut that one.
        status = update_spec.main([*args, "--extract", str(extract)])
    assert status == 0, report.getvalue()
    _make_generate(root)
    text = output.read_text(encoding="utf-8")
    cut = extract.read_text(encoding="utf-8")
    return Replay(date, root, text, report.getvalue(), _tree(root / GENERATED_PACKAGE), cut)


def test_the_fragment_is_valid_openapi(replay: Replay) -> None:
    validate(replay.fragment)
    ops = {f"{m.upper()} {p}" for p, item in replay.fragment["paths"].items() for m in item}
    assert len(ops) == 9, ops


def test_the_generated_package_imports(replay: Replay) -> None:
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        from pathlib import Path
        import openai_batches_generated as package

        assert Path(package.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), package.__file__
        names = [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
        for name in names:
            importlib.import_module(name)
        assert "openai_batches_generated.api.batch.create_batch" in names, names
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
        assert Batch.from_dict(body).status is BatchStatus.COMPLETED
        """
    )
    completed = _run_with([replay.root / "generated"], script, str(replay.root))
    assert completed.returncode == 0, completed.stderr


def test_the_generated_package_type_checks(replay: Replay) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(replay.root / ".mypy_cache"),
            "openai_batches_generated",
        ],
        cwd=replay.root / "generated",
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _fields(replay: Replay, schema: str) -> list[str]:
    return list(replay.fragment["components"]["schemas"][schema]["properties"])


def test_each_date_has_the_api_of_its_day(replay: Replay) -> None:
    schemas = replay.fragment["components"]["schemas"]
    endpoints = schemas["BatchEndpoint"]["enum"]
    if replay.date == "2024-05-09":
        assert endpoints == ["/v1/chat/completions", "/v1/embeddings"]
        assert "model" not in _fields(replay, "Batch") and "usage" not in _fields(replay, "Batch")
        assert "ListOrder" not in schemas
    elif replay.date == "2025-04-29":
        assert endpoints == ["/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions"]
        assert "model" not in _fields(replay, "Batch") and "usage" not in _fields(replay, "Batch")
        assert "output_expires_after" not in _fields(replay, "CreateBatchRequest")
    elif replay.date == "2026-05-13":
        # Upstream kept a batch's errors inline then; overrides.yaml keeps the name BatchError all the same.
        assert {"model", "usage"} <= set(_fields(replay, "Batch"))
        assert schemas["BatchErrors"]["properties"]["data"]["anyOf"][0]["items"] == {"$ref": REF + "BatchError"}
        assert list(schemas["BatchError"]["properties"]) == ["code", "message", "param", "line"]
        assert "BatchErrorsDataItem" not in schemas
    else:
        # Whatever document is vendored: its endpoints less those overrides.yaml drops.
        upstream = load_openapi(HISTORY["current"])[0]
        dropped = load_config(SPEC).overrides.section("dropped_values")
        gone = dropped["BatchEndpoint"].value if "BatchEndpoint" in dropped else []
        assert endpoints == [v for v in upstream_enum(upstream, "POST /batches", "endpoint") if v not in gone]
        # What the rest of the suite runs against is exactly this.
        assert replay.text == (ROOT / "openapi.yaml").read_text(encoding="utf-8")
        assert replay.extract == (SPEC / "upstream" / "openai-batch-files-extract.yaml").read_text(encoding="utf-8")
        assert replay.generated == _tree(ROOT / GENERATED_PACKAGE), "generated/ is stale; run `make generate`"
        assert "openapi.yaml is up to date" in replay.report


def test_a_dropped_value_upstream_does_not_list_is_a_note_not_a_stop(replay: Replay) -> None:
    """An endpoint value overrides.yaml drops never reaches the fragment; where upstream lacks it, a note says so.

    The 2024 and 2025 documents predate /v1/videos, as a newer document will postdate it: the update goes through.
    """
    dropped = load_config(SPEC).overrides.section("dropped_values").get("BatchEndpoint")
    if dropped is None:
        pytest.skip("spec/overrides.yaml drops no endpoint value")
    listed = upstream_enum(load_openapi(HISTORY[replay.date])[0], "POST /batches", "endpoint")
    for value in dropped.value:
        assert value not in replay.fragment["components"]["schemas"]["BatchEndpoint"]["enum"]
        note = f'spec/overrides.yaml: dropped_values: BatchEndpoint: this document does not list "{value}"'
        assert (note in replay.report) == (value not in listed), replay.report
