"""Regeneration survives spec changes.

`generated/` is a pure function of the spec, the generator config and the pinned tools, and the overlay sits on it by
composition only. So: generating twice gives the same bytes, the checked-in tree is what the spec generates, and when
the API grows a field and a status, regenerating picks both up with the overlay untouched.

Everything runs `make generate` in temporary copies of the project, so the working tree is never written.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1]
VENV = PROJECT / ".venv"
GENERATED_PACKAGE = Path("generated/openai_batches_generated")
COPIED = [
    "openapi.yaml",
    "generator-config.yaml",
    "anthropic-openapi.yaml",
    "generator-config-anthropic.yaml",
    "Makefile",
    "pyproject.toml",
    "README.md",
    "overlays",
    "generated",
]
NEW_FIELD = "priority"
NEW_STATUS = "paused"
NEW_OBJECT_FIELD = "schedule"  # an object the overlay has never heard of: a new generated model

Tree = dict[str, bytes]


@dataclass(frozen=True)
class Generation:
    root: Path
    before: Tree = field(repr=False)
    """The generated tree as copied from the working tree, before `make generate` ran in the copy."""
    after: Tree = field(repr=False)
    overlays: Tree = field(repr=False)
    """The overlay tree as copied, to compare against what the copy holds once generation has run."""


def _tree(root: Path) -> Tree:
    # Bytecode caches are not generator output; anything else in the folder is.
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _tree_difference(left: Tree, right: Tree) -> str:
    only_left = sorted(left.keys() - right.keys())
    only_right = sorted(right.keys() - left.keys())
    changed = sorted(name for name in left.keys() & right.keys() if left[name] != right[name])
    return f"only in first: {only_left}; only in second: {only_right}; differing: {changed}"


def _copy_project(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)


def _make_generate(root: Path) -> None:
    # The Makefile puts `$(CURDIR)/$(BIN)` on PATH for the ruff post-hooks, which only names the venv when VENV is
    # relative; an absolute VENV leaves ruff off PATH and --fail-on-warning stops the run.
    venv = os.path.relpath(VENV, root)
    # `generate` depends on the venv stamp, and the stamp on the copy's pyproject.toml: when that file is newer, make
    # would `pip install -e` the temporary copy into the real venv and repoint the project's editable install.
    command = ["make", "--no-print-directory", "-C", str(root), f"VENV={venv}", f"--assume-old={venv}/.installed"]
    planned = subprocess.run([*command, "-n", "generate"], capture_output=True, text=True, check=True).stdout
    assert "pip install" not in planned and "-m venv" not in planned, f"make generate would modify the venv:\n{planned}"
    completed = subprocess.run([*command, "generate"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"make generate failed:\n{completed.stdout}\n{completed.stderr}"


def _generate_copy(destination: Path, change_spec: bool = False) -> Generation:
    _copy_project(destination)
    before = _tree(destination / GENERATED_PACKAGE)
    overlays = _tree(destination / "overlays")
    if change_spec:
        _grow_spec(destination / "openapi.yaml")
    _make_generate(destination)
    return Generation(destination, before, _tree(destination / GENERATED_PACKAGE), overlays)


def _grow_spec(path: Path) -> None:
    """What the API does over time: a new optional field on Batch, a new value of an open enum.

    The field is shaped as `make update-spec` shapes an optional response field (required, nullable, marked
    `x-absent-is-null`); the object is left optional as a hand-written spec could have it, which the overlay reads too.
    """
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    assert NEW_FIELD not in schemas["Batch"]["properties"], "the spec already has the field this test adds"
    assert NEW_STATUS not in schemas["BatchStatus"]["enum"], "the spec already has the status this test adds"
    schemas["Batch"]["properties"][NEW_FIELD] = {
        "description": "Scheduling priority of the batch.",
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "x-absent-is-null": True,
    }
    schemas["Batch"]["required"].append(NEW_FIELD)
    schemas["Batch"]["properties"][NEW_OBJECT_FIELD] = {
        "description": "When the batch may run.",
        "type": "object",
        "properties": {"object": {"type": "string"}, "window": {"type": "integer"}},
    }
    schemas["BatchStatus"]["enum"].append(NEW_STATUS)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Generation:
    return _generate_copy(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def fresh_again(tmp_path_factory: pytest.TempPathFactory) -> Generation:
    return _generate_copy(tmp_path_factory.mktemp("fresh_again"))


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Generation:
    return _generate_copy(tmp_path_factory.mktemp("grown"), change_spec=True)


def _run_with(paths: list[Path], script: str, *args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH comes before site-packages, so these trees win over the editable install's .pth entries.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        # Keeps the original project's working tree free of __pycache__ written by the child.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=paths[0], capture_output=True, text=True, check=False
    )


def _class(source: str, name: str) -> ast.ClassDef:
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError(f"class {name} not found")


def _annotated_fields(cls: ast.ClassDef) -> dict[str, str]:
    return {
        node.target.id: ast.unparse(node.annotation)
        for node in cls.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }


def _enum_values(cls: ast.ClassDef) -> dict[str, object]:
    return {
        node.targets[0].id: node.value.value
        for node in cls.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }


# --- generation is a pure function ---


def test_generation_makes_a_nonempty_package(fresh: Generation) -> None:
    # Guards the comparisons below against two empty trees being equal.
    assert "models/batch.py" in fresh.after
    assert "py.typed" in fresh.after


def test_regenerating_twice_gives_byte_identical_trees(fresh: Generation, fresh_again: Generation) -> None:
    assert fresh.after == fresh_again.after, _tree_difference(fresh.after, fresh_again.after)


def test_checked_in_generated_tree_is_what_the_spec_generates(fresh: Generation) -> None:
    # The same question `make check-generated` asks, asked of the working tree's files in a copy.
    assert fresh.before == fresh.after, (
        f"generated/ is stale; run `make generate`. {_tree_difference(fresh.before, fresh.after)}"
    )


# --- a spec change reaches the generated package ---


def test_spec_change_rewrites_only_the_models_it_touches(fresh: Generation, grown: Generation) -> None:
    changed = {
        name for name in fresh.after.keys() | grown.after.keys() if fresh.after.get(name) != grown.after.get(name)
    }
    assert changed == {"models/batch.py", "models/batch_status.py", "models/batch_schedule.py", "models/__init__.py"}


def test_regenerated_batch_model_declares_the_new_field(grown: Generation) -> None:
    original = _annotated_fields(_class((PROJECT / GENERATED_PACKAGE / "models/batch.py").read_text(), "Batch"))
    fields = _annotated_fields(_class(grown.after["models/batch.py"].decode(), "Batch"))
    assert NEW_FIELD not in original
    assert fields[NEW_FIELD] == "int | None"


def test_regenerated_status_enum_has_the_new_member(grown: Generation) -> None:
    original = _enum_values(_class((PROJECT / GENERATED_PACKAGE / "models/batch_status.py").read_text(), "BatchStatus"))
    members = _enum_values(_class(grown.after["models/batch_status.py"].decode(), "BatchStatus"))
    assert NEW_STATUS not in original.values()
    assert members["PAUSED"] == NEW_STATUS


def test_regenerated_models_parse_the_new_response(grown: Generation) -> None:
    # The generated package alone, so this holds whatever state the overlay is in.
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        import attrs
        import openai_batches_generated
        from openai_batches_generated.models import Batch, BatchStatus

        assert Path(openai_batches_generated.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve())
        body = {
            "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-1",
            "completion_window": "24h", "status": "paused", "created_at": 1711471533, "priority": 7,
        }
        # The generated parser wants every field the spec requires; the service sends each, null if unset.
        keys = [a.name.removesuffix("_") for a in attrs.fields(Batch) if a.init and a.default is attrs.NOTHING]
        batch = Batch.from_dict({**dict.fromkeys(keys), **body})
        assert batch.priority == 7, batch
        assert "priority" not in batch.additional_properties, batch.additional_properties
        assert batch.status is BatchStatus.PAUSED, repr(batch.status)
        assert {k: v for k, v in batch.to_dict().items() if v is not None} == body, batch.to_dict()
        """
    )
    completed = _run_with([grown.root / "generated"], script, str(grown.root))
    assert completed.returncode == 0, completed.stderr


# --- the overlay survives it unchanged ---

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    from pathlib import Path

    import httpx

    import openai_batches
    import openai_batches_generated
    from openai_batches import Batch, BatchClient, BatchStatus

    root, expect = Path(sys.argv[1]).resolve(), sys.argv[2]
    for module in (openai_batches, openai_batches_generated):
        assert Path(module.__file__).resolve().is_relative_to(root), f"{module.__name__} from {module.__file__}"

    requests = []
    BATCH = {
        "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-1",
        "completion_window": "24h", "status": "paused", "created_at": 1711471533, "priority": 7,
        "schedule": {"object": "schedule", "window": 3}, "metadata": {"job": "nightly"},
    }
    FILE = {
        "id": "file-1", "object": "file", "bytes": 42, "created_at": 1711471533, "filename": "in.jsonl",
        "purpose": "batch", "status": "processed",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append((request.method, request.url.path))
        return httpx.Response(200, json=BATCH if "batches" in request.url.path else FILE)

    with httpx.Client(transport=httpx.MockTransport(handler)) as http_client:
        client = BatchClient(api_key="k", base_url="https://api.example.test/v1", http_client=http_client)
        batch = client.batches.retrieve("batch_1")
        file = client.files.retrieve("file-1")

    assert requests == [("GET", "/v1/batches/batch_1"), ("GET", "/v1/files/file-1")], requests
    assert isinstance(batch, Batch), type(batch)
    assert isinstance(batch, openai_batches_generated.models.Batch), type(batch).__mro__
    assert type(batch).__module__ == "openai_batches.types", type(batch).__module__

    # What the overlay adds, whatever the spec grew: the SDK's names, a metadata mapping, the wire form.
    assert batch.object == "batch" and file.object == "file" and file.bytes == 42
    assert batch.metadata.get("job") == "nightly" and dict(batch.metadata) == {"job": "nightly"}
    # The wire form: what the server sent, and null for each field it left out.
    wire = batch.to_dict()
    assert json.loads(batch.to_json()) == wire
    assert {k: wire[k] for k in BATCH} == BATCH, wire
    assert all(wire[k] is None for k in wire.keys() - BATCH.keys()), wire

    if expect == "grown":
        assert batch.priority == 7, batch
        assert "priority" not in batch.additional_properties, batch.additional_properties
        assert BatchStatus("paused") is BatchStatus.PAUSED
        assert batch.status is BatchStatus.PAUSED, repr(batch.status)
        # A model the overlay has never named is built as a public class too: its alias and to_json work.
        schedule = batch.schedule
        assert isinstance(schedule, openai_batches_generated.models.BatchSchedule), type(schedule)
        assert schedule.object == "schedule" and schedule.window == 3
        assert json.loads(schedule.to_json()) == {"object": "schedule", "window": 3}
    else:
        assert "priority" not in {a.name for a in type(batch).__attrs_attrs__}, "the model already declares priority"
        assert batch.additional_properties == {"priority": 7, "schedule": {"object": "schedule", "window": 3}}
        assert type(batch.status) is str and batch.status == "paused", repr(batch.status)
        assert "paused" not in {s.value for s in BatchStatus}, "BatchStatus already knows paused"
    """
)


def test_overlay_files_are_untouched_by_regeneration(grown: Generation) -> None:
    assert grown.overlays, "no overlay files were copied"
    assert _tree(grown.root / "overlays") == grown.overlays


def test_unchanged_overlay_serves_the_new_field_and_status(grown: Generation) -> None:
    completed = _run_with([grown.root / "generated", grown.root / "overlays"], CLIENT_SCRIPT, str(grown.root), "grown")
    assert completed.returncode == 0, completed.stderr


def test_original_client_keeps_unknown_field_and_status() -> None:
    # The control: before regeneration the same response still parses, the field as extra data, the status open.
    completed = _run_with([PROJECT / "generated", PROJECT / "overlays"], CLIENT_SCRIPT, str(PROJECT), "original")
    assert completed.returncode == 0, completed.stderr
