"""What the server sends matches the reference API description, and the package keeps to its side of the seams.

Shapes are checked two ways: against the property lists of the vendored reference extract (every property the real
API documents is present), and by parsing with the project's generated models (nothing left unparsed).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from typing import Any

import httpx
import pytest
import yaml

from .conftest import PROJECT
from .support import chat_line, read_lines, run_batch, upload

SERVER_PACKAGE = PROJECT / "server" / "openai_batches_server"
REFERENCE = PROJECT / "spec" / "upstream" / "openai-batch-files-extract.yaml"


def server_extra_imports() -> set[str]:
    """The import names of the distributions the `[server]` extra declares (python-multipart -> python_multipart)."""
    extra = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["server"]
    distributions = {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower() for requirement in extra}
    provided = importlib.metadata.packages_distributions()
    return {name for name, owners in provided.items() if any(owner.lower() in distributions for owner in owners)}


def test_the_server_extra_is_what_the_server_imports() -> None:
    assert server_extra_imports() >= {"starlette", "uvicorn", "httptools", "python_multipart", "anyio"}


def test_the_server_imports_only_the_standard_library_its_extra_and_never_the_client() -> None:
    allowed = (
        set(sys.stdlib_module_names) | server_extra_imports() | {"openai_batches_server", "openai_batches_generated"}
    )
    assert "openai_batches" not in allowed
    offenders = []
    for path in sorted(SERVER_PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [str(node.module)]
            offenders += [f"{path.name}: {name}" for name in names if name.partition(".")[0] not in allowed]
    assert not offenders, offenders


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    return dict(yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["components"]["schemas"])


@pytest.fixture
def samples(client: httpx.Client) -> dict[str, Any]:
    batch = run_batch(client, [chat_line("a"), chat_line("fail-b")], metadata={"k": "v"})
    failed = run_batch(client, b"{bad\n")
    file_id = batch["input_file_id"]
    spare = upload(client, b"x", purpose="user_data")
    return {
        "Batch": batch,
        "BatchError": failed["errors"]["data"][0],
        "OpenAIFile": client.get(f"/files/{file_id}").json(),
        "ListFilesResponse": client.get("/files").json(),
        "ListBatchesResponse": client.get("/batches").json(),
        "DeleteFileResponse": client.delete(f"/files/{spare['id']}").json(),
        "BatchRequestOutput": read_lines(client, batch["output_file_id"])[0],
    }


@pytest.mark.parametrize(
    "name",
    [
        "Batch",
        "BatchError",
        "OpenAIFile",
        "ListFilesResponse",
        "ListBatchesResponse",
        "DeleteFileResponse",
        "BatchRequestOutput",
    ],
)
def test_every_documented_property_is_sent(schemas: dict[str, Any], samples: dict[str, Any], name: str) -> None:
    schema = schemas[name]
    sample = samples[name]
    missing = set(schema.get("properties", {})) - set(sample)
    assert not missing, f"{name} lacks {missing}"
    assert set(schema.get("required", [])) <= set(sample)


def test_generated_models_parse_everything_without_leftovers(samples: dict[str, Any]) -> None:
    from openai_batches_generated import models

    pairs = [
        ("Batch", "Batch"),
        ("FileObject", "OpenAIFile"),
        ("ListFilesResponse", "ListFilesResponse"),
        ("ListBatchesResponse", "ListBatchesResponse"),
        ("FileDeleted", "DeleteFileResponse"),
    ]
    for model_name, sample_name in pairs:
        model = getattr(models, model_name)
        parsed = model.from_dict(samples[sample_name])
        assert parsed.additional_properties == {}, (model_name, parsed.additional_properties)
