"""The README's Python examples (the workflow and the jobs) run on Azure OpenAI's paths with `AzureBatchClient` in
place of `BatchClient` and nothing else changed: the client reads AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY as
`BatchClient` reads OPENAI_BASE_URL and OPENAI_API_KEY, and the local server answers Azure's paths."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import KEY, Block, readme_server, runnable
from openai_batches_server import LocalServer

CLIENT_BLOCKS = [block for block in runnable("README.md") if block.language == "python" and "BatchClient" in block.code]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("azure-readme") / "data") as running:
        yield running


def on_azure(code: str) -> str:
    """The example with the Azure client in place of the OpenAI one, and nothing else changed."""
    swapped = code.replace("AsyncBatchClient", "AsyncAzureBatchClient").replace(" BatchClient", " AzureBatchClient")
    return swapped.replace("(BatchClient", "(AzureBatchClient").replace("\nBatchClient", "\nAzureBatchClient")


def test_the_readme_has_workflow_and_jobs_examples_that_make_a_client() -> None:
    assert any("client.batches.submit" in block.code or "batches.results" in block.code for block in CLIENT_BLOCKS)
    assert any("client.jobs" in block.code for block in CLIENT_BLOCKS)


def test_the_swap_changes_only_the_clients_name() -> None:
    code = "from openai_batches import BatchClient, BatchRequest\nwith BatchClient() as client:\n    pass\n"
    assert on_azure(code) == (
        "from openai_batches import AzureBatchClient, BatchRequest\nwith AzureBatchClient() as client:\n    pass\n"
    )


@pytest.mark.parametrize("block", CLIENT_BLOCKS, ids=lambda block: block.name)
def test_each_readme_example_runs_on_azure_with_the_azure_client(
    block: Block, server: LocalServer, tmp_path: Path
) -> None:
    code = on_azure(block.code)
    assert "AzureBatchClient" in code and "BatchClient(" not in code.replace("AzureBatchClient(", "")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "AZURE_"))}
    env.update(AZURE_OPENAI_ENDPOINT=server.base_url.removesuffix("/v1"), AZURE_OPENAI_API_KEY=KEY)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{block.name} on Azure exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
