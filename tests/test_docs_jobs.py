"""The jobs page's examples (docs/jobs.md) do what the page says, run as pasted against a local server started as the
pages say. Its estimate example is checked in tests/test_estimate.py, its tables example in tests/test_tables.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import only, readme_server, run_ok
from openai_batches_server import LocalServer

PAGE = "docs/jobs.md"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("docs-jobs") / "data") as running:
        yield running


def test_the_python_example_merges_one_result_per_request(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only('client.jobs.create(\n        "numbers"', page=PAGE, language="python"), server, tmp_path)
    printed = done.stdout.splitlines()
    assert "job numbers: completed, 250 of 250 requests final" in printed
    assert printed[-1] == "['numbers']"
    assert any(line.startswith("  cost $") for line in printed)
    merged = [json.loads(line) for line in (tmp_path / "merged.jsonl").read_text().splitlines()]
    assert [line["custom_id"] for line in merged] == [f"n-{i}" for i in range(250)]
    assert {line["response"]["status_code"] for line in merged} == {200}
    assert (tmp_path / "job-state" / "jobs.sqlite3").is_file()


def test_the_command_line_example(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("openai-batches job run", page=PAGE, language="sh"), server, tmp_path)
    assert "job numbers: completed, 120 of 120 requests final" in done.stdout
    assert "wrote 120 results to merged.jsonl: 120 succeeded, 0 failed" in done.stdout
    assert done.stdout.rstrip().endswith("deleted job numbers and its files on the service")
    assert len((tmp_path / "merged.jsonl").read_text().splitlines()) == 120


def test_the_budget_example_pauses_at_the_cap_then_finishes(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("max_cost=", page=PAGE, language="python"), server, tmp_path)
    paused, note, completed = done.stdout.splitlines()
    assert paused == "paused 10" and completed == "completed 0"
    assert note.startswith("paused at its cost budget of $0.000050: $") and "resume with a higher max_cost" in note


def test_the_report_example_writes_one_page_with_the_jobs_numbers(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("write_report(", page=PAGE, language="python"), server, tmp_path)
    assert done.stdout.splitlines() == ["report.html 36 4"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for key, value in (("requests", 40), ("succeeded", 36), ("failed", 4), ("batches", 2)):
        assert f'id="{key}" data-value="{value}"' in page
    assert "<script" not in page and "fail-3" in page
