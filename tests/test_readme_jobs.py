"""The README's jobs example does what the README says, run as pasted against a local server started as it says.

The jobs page's examples (docs/jobs.md) are checked in tests/test_docs_jobs.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import only, printed_after, readme_server, run_ok
from openai_batches_server import LocalServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("readme-jobs") / "data") as running:
        yield running


def test_the_jobs_example_prints_what_the_readme_shows(server: LocalServer, tmp_path: Path) -> None:
    block = only("client.jobs.run", page="README.md")
    done = run_ok(block, server, tmp_path)
    assert done.stdout.splitlines() == printed_after(block)
    merged = [json.loads(line) for line in (tmp_path / "merged.jsonl").read_text().splitlines()]
    assert [line["custom_id"] for line in merged] == [f"n-{i}" for i in range(250)]
    assert {line["response"]["status_code"] for line in merged} == {200}
    assert (tmp_path / "job-state" / "jobs.sqlite3").is_file()
