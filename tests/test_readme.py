"""Every code block in the README runs as pasted, against the local server, each in an empty folder.

The machinery (finding blocks, the server the pages say to start, running a block) is tests/docs_blocks.py, shared
with tests/test_docs.py, which runs the blocks of docs/; its names are re-exported here for the tests that import
this module. The README's blocks that do not run are ```console (setup commands) and ```text (what an example
prints); tests/test_docs.py pins what those may hold, on every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import (
    FENCE,
    KEY,
    README,
    RUN_TIMEOUT,
    SERVE,
    Block,
    blocks,
    matching,
    only,
    printed_after,
    readme_server,
    run_block,
    run_ok,
    runnable,
    serve_arguments,
)
from openai_batches_server import LocalServer
from openai_batches_server.cli import config_from_args

__all__ = [
    "FENCE",
    "KEY",
    "README",
    "RUN_TIMEOUT",
    "SERVE",
    "Block",
    "blocks",
    "matching",
    "only",
    "printed_after",
    "readme_server",
    "run_block",
    "run_ok",
    "runnable",
    "serve_arguments",
]

README_BLOCKS = runnable("README.md")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("readme-server") / "data") as running:
        yield running


def test_the_readme_server_holds_each_status_long_enough_to_cancel() -> None:
    """The examples that cancel need a batch still running when the cancel comes, two command starts later."""
    config, _ = config_from_args([*serve_arguments(), "--port", "0"], {})
    assert config.step_seconds >= 2


def test_the_readme_says_how_to_start_the_server_the_tests_start() -> None:
    assert SERVE.search(README.read_text(encoding="utf-8")), "the README's Quickstart no longer starts the server"


def test_the_readme_has_a_complete_example_and_a_jobs_example() -> None:
    assert [block.language for block in README_BLOCKS] == ["python", "python"]
    assert any("results_by_custom_id" in block.code for block in README_BLOCKS)
    assert any("client.jobs.run" in block.code for block in README_BLOCKS)


def test_the_readme_stays_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) < 250


def test_the_fence_parser_sees_every_block() -> None:
    sample = "text\n```python\nprint(1)\n```\n\n```sh\necho hi\n```\n```console\nmake demo\n```\n"
    assert blocks(sample, page="docs/x.md") == [
        Block("docs/x.md", "python", "print(1)\n", 2),
        Block("docs/x.md", "sh", "echo hi\n", 6),
        Block("docs/x.md", "console", "make demo\n", 9),
    ]


@pytest.mark.parametrize("block", README_BLOCKS, ids=lambda block: block.name)
def test_every_block_runs_as_pasted(block: Block, server: LocalServer, tmp_path: Path) -> None:
    run_ok(block, server, tmp_path)


def test_the_complete_example_prints_what_the_readme_shows(server: LocalServer, tmp_path: Path) -> None:
    block = only("results_by_custom_id", page="README.md")
    printed = run_ok(block, server, tmp_path).stdout.splitlines()
    shown = printed_after(block)
    # The progress lines depend on when each poll lands; the statuses are seen in order, ending completed.
    statuses = [line.split()[0] for line in printed[:-3]]
    assert statuses == sorted(statuses, key=["validating", "in_progress", "finalizing", "completed"].index)
    assert printed[-4:] == shown[-4:]


def test_the_workflow_example_matches_results_to_requests(server: LocalServer, tmp_path: Path) -> None:
    for block in matching('print("no result for:"'):
        printed = run_ok(block, server, tmp_path).stdout.splitlines()
        assert any(line.startswith("completed ") for line in printed)
        assert {line.split()[0] for line in printed if line.startswith("q-")} == {"q-0", "q-1"}
        assert printed[-1] == "no result for: []"
