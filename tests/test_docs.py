"""Every code block of the docs site (docs/*.md) runs as pasted against the local server, and does what its page says.

The machinery is tests/docs_blocks.py, shared with the README's tests. Blocks are keyed by page and line
(`docs/jobs.md:123 (python)`); the tests below find a block by what it holds, on its page. The jobs page's examples
are checked in tests/test_docs_jobs.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import (
    DOCS,
    KEY,
    NOT_RUN,
    ROOT,
    RUN,
    SETUP_COMMAND,
    Block,
    all_blocks,
    blocks,
    only,
    page_name,
    pages,
    printed_after,
    readme_server,
    run_block,
    run_ok,
    runnable,
)
from openai_batches import BatchClient
from openai_batches_server import LocalServer, run_server

DOCS_BLOCKS = [block for block in runnable() if block.page.startswith("docs/")]
# The guide's pages, each with at least one example that runs.
GUIDE = [
    "getting-started",
    "batches-and-files",
    "workflow",
    "jobs",
    "command-line",
    "local-server",
    "migrating",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("docs-server") / "data") as running:
        yield running


# --- every block ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", DOCS_BLOCKS, ids=lambda block: block.name)
def test_every_block_runs_as_pasted(block: Block, server: LocalServer, tmp_path: Path) -> None:
    run_ok(block, server, tmp_path)


def test_every_python_and_shell_block_of_every_page_is_run() -> None:
    """The README's blocks run in tests/test_readme.py, the docs' here: together, every one of every page."""
    import test_readme

    run = {block.name for block in test_readme.README_BLOCKS} | {block.name for block in DOCS_BLOCKS}
    every = {block.name for block in all_blocks() if block.language in RUN}
    assert every == run
    assert {name for name in every if "(python)" in name} == {b.name for b in all_blocks() if b.language == "python"}


def test_every_block_is_run_or_marked_as_not_run() -> None:
    for block in all_blocks():
        assert block.language in (*RUN, *NOT_RUN), (
            f"{block.name}: use ```python or ```sh (run by the tests), ```console (setup commands) or ```text"
        )


def test_console_blocks_hold_only_setup_commands() -> None:
    for block in all_blocks():
        if block.language == "console":
            for line in block.code.splitlines():
                assert SETUP_COMMAND.match(line), f"{block.name}: {line!r} is not a setup command; use ```sh"


def test_the_docs_have_examples_of_each_kind_on_every_guide_page() -> None:
    assert {page_name(path) for path in pages()} >= {f"docs/{name}.md" for name in GUIDE}
    for name in GUIDE:
        assert runnable(f"docs/{name}.md"), f"docs/{name}.md has no example that runs"
    assert any(block.language == "sh" for block in DOCS_BLOCKS)
    assert any("AsyncBatchClient" in block.code and "asyncio.run(main())" in block.code for block in DOCS_BLOCKS)


def test_the_block_finder_reads_the_docs_pages() -> None:
    sample = DOCS / "getting-started.md"
    found = blocks(page=page_name(sample))
    assert found and all(block.page == "docs/getting-started.md" for block in found)
    assert sample.read_text(encoding="utf-8").splitlines()[found[0].line - 1].startswith("```")


def test_the_reference_pages_name_only_the_public_package() -> None:
    for path in sorted((DOCS / "reference").glob("*.md")):
        for target in re.findall(r"^::: (\S+)$", path.read_text(encoding="utf-8"), re.MULTILINE):
            assert target.startswith("openai_batches."), f"{path.name}: {target}"
            assert not any(part.startswith("_") for part in target.split(".")), f"{path.name}: {target} is private"


def test_no_code_block_shows_the_generated_package() -> None:
    offending = [block.name for block in all_blocks() if "openai_batches_generated" in block.code]
    assert not offending, f"code blocks show openai_batches_generated; users import openai_batches only: {offending}"


def test_the_site_builds_strict(tmp_path: Path) -> None:
    """`make docs` in short: every link, anchor and reference resolves, and every docstring reads (CI runs it too)."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reference = (tmp_path / "site" / "reference" / "batches" / "index.html").read_text(encoding="utf-8")
    assert 'id="openai_batches.resources.batches.Batches.create"' in reference


# --- what the blocks do ---------------------------------------------------------------------------------------------


def test_the_quickstart_uploads_creates_lists_and_cancels(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("is_terminal", page="docs/batches-and-files.md"), server, tmp_path)
    printed = done.stdout.splitlines()
    status, _, rest = printed[0].partition(" ")
    assert status in ("validating", "in_progress", "finalizing", "completed")
    assert rest.endswith(("True", "False"))
    assert printed[-1] == "cancelling"
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == ["q-0", "q-1"]
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        listed = {batch.id for batch in client.batches.list()}
    assert {line.split()[0] for line in printed[1:-1]} <= listed


def test_the_first_batch_reads_the_output_after_the_batch_ends(server: LocalServer, tmp_path: Path) -> None:
    block = only("files.content", page="docs/getting-started.md")
    printed = run_ok(block, server, tmp_path).stdout.splitlines()
    ids = re.compile(r"[0-9a-f]{32}")
    assert [ids.sub("ID", line) for line in printed] == [ids.sub("ID", line) for line in printed_after(block)]
    assert printed[0].startswith("completed ")
    # The output branch ran: one printed line per result, and the same results written to a file.
    (result,) = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert result["custom_id"] == "q-0" and result["response"]["status_code"] == 200
    assert printed[1] == (tmp_path / "results.jsonl").read_text().splitlines()[0][:80]


def test_the_async_example_submits_lists_and_reads_results(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("AsyncBatchClient", page="docs/batches-and-files.md"), server, tmp_path)
    assert re.search(r"^q-0 \S", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^batch_\w+ ", done.stdout, re.MULTILINE), done.stdout


def test_the_command_line_example(tmp_path: Path) -> None:
    block = only("openai-batches submit", page="docs/command-line.md", language="sh")
    # The block cancels a batch it has just submitted, two command starts later: the pages' pace keeps it
    # cancellable for seconds (test_readme.py: test_the_readme_server_holds_each_status_long_enough_to_cancel).
    with readme_server(tmp_path / "data") as server:
        done = run_block(block, server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "usage: openai-batches" in done.stdout
    assert "exit status 5: cancelled" in done.stdout
    results = (tmp_path / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in results) == ["q-1", "q-2"]


def test_the_structured_output_example_parses_every_answer_into_its_model(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("model_validate_json", page="docs/local-server.md"), server, tmp_path)
    printed = sorted(done.stdout.splitlines())
    assert [line.split()[0] for line in printed] == ["q-0", "q-1"]
    assert all(re.fullmatch(r"q-\d value=-?\d+ explanation='.*'", line) for line in printed), printed


def test_the_testing_example_runs_its_own_tests_against_its_own_server(server: LocalServer, tmp_path: Path) -> None:
    done = run_ok(only("def test_every_question_gets_an_answer", page="docs/local-server.md"), server, tmp_path)
    assert re.search(r"^2 passed", done.stdout, re.MULTILINE), done.stdout


# --- switching from the official SDK: run in this process, against a server of its own ----------------------------

SDK_KEY = "sk-readme-sdk"


def python_block(marker: str) -> str:
    return only(marker, page="docs/migrating.md", language="python").code


def raw_block() -> str:
    return only("with_raw_response", page="docs/batches-and-files.md", language="python").code


@pytest.fixture
def sdk_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[SDK_KEY], tick=0) as running:
        for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", SDK_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        yield running


def test_raw_and_streamed_response_example(sdk_server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(raw_block(), "docs/batches-and-files.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    status, request_id, url = printed[0].split()
    assert (status, url) == ("200", f"{sdk_server.base_url}/batches") and request_id.startswith("req_")
    assert printed[1].startswith("application/json")


def test_switching_example(sdk_server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(python_block("was: from openai import OpenAI"), "docs/migrating.md", "exec"), {})
    assert capsys.readouterr().out.startswith("404 ")


@pytest.mark.parametrize("library", ["openai_batches", "openai"])
def test_httpx2_example_runs_here_and_on_the_official_sdk(
    library: str, sdk_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("httpx2")
    source = python_block("the SDK's: from openai import OpenAI")
    if library == "openai":
        source = source.replace("from openai_batches import BatchClient as OpenAI", "from openai import OpenAI")
        source = source.replace("import openai_batches as openai", "import openai")
        assert "openai_batches" not in source
    exec(compile(source, "docs/migrating.md", "exec"), {})
    assert capsys.readouterr().out == "['/v1/batches'] 0\n"
