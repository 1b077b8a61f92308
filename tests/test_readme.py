"""Every code block in the README runs as pasted, against the local server, each in an empty folder.

A ```python block runs as a script and a ```sh block under bash with errexit and pipefail, with OPENAI_BASE_URL and
OPENAI_API_KEY pointing at a local server this module starts, and the project's console script on PATH. Blocks
without a language are the few commands that make no sense inside a test (installing, running the test suite itself);
a test below pins what they may hold, so that an example cannot hide there.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from openai_batches import BatchClient
from openai_batches_server import LocalServer
from openai_batches_server.cli import config_from_args

README = Path(__file__).resolve().parents[1] / "README.md"
KEY = "sk-readme-0123456789"
FENCE = re.compile(r"^```([\w+-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUN_TIMEOUT = 120
# What a block without a language may hold: commands a test cannot run, one per line.
NOT_RUN = re.compile(r"^(make (demo|test)|pip install \.)(\s+#.*)?$")


class Block(NamedTuple):
    language: str
    code: str
    line: int

    @property
    def name(self) -> str:
        return f"README.md:{self.line} ({self.language or 'no language'})"


def blocks(text: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8") if text is None else text
    return [Block(m[1], m[2], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


def runnable() -> list[Block]:
    return [block for block in blocks() if block.language in ("python", "sh")]


# The command the Quickstart tells a reader to start the local server with, flags and all.
SERVE = re.compile(r"start it in another\s+terminal with `openai-batches serve ([^`]*)`")


def serve_arguments() -> list[str]:
    found = SERVE.search(README.read_text(encoding="utf-8"))
    assert found is not None, "the Quickstart no longer says how to start the local server"
    return found[1].split()


@contextlib.contextmanager
def readme_server(data_dir: Path) -> Iterator[LocalServer]:
    """A server started as the Quickstart says (its --data-dir replaced, a free port, this module's key)."""
    arguments = serve_arguments()
    arguments[arguments.index("--data-dir") + 1] = str(data_dir)
    config, _ = config_from_args([*arguments, "--port", "0", "--api-key", KEY], {})
    with LocalServer(config) as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with readme_server(tmp_path_factory.mktemp("readme-server") / "data") as running:
        yield running


def test_the_readme_server_holds_each_status_long_enough_to_cancel() -> None:
    """The examples that cancel need a batch still running when the cancel comes, two command starts later."""
    config, _ = config_from_args([*serve_arguments(), "--port", "0"], {})
    assert config.step_seconds >= 2


def run_block(block: Block, server: LocalServer, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if block.language == "python":
        script = folder / "example.py"
        script.write_text(block.code, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def test_the_readme_has_examples_of_each_kind() -> None:
    found = runnable()
    assert sum(block.language == "python" for block in found) >= 4
    assert any(block.language == "sh" for block in found)
    assert any("AsyncBatchClient" in block.code and "asyncio.run(main())" in block.code for block in found)


def test_blocks_that_do_not_run_are_only_setup_commands() -> None:
    for block in blocks():
        if block.language in ("python", "sh"):
            continue
        assert block.language == "", f"{block.name}: use ```python or ```sh (run by this test), or no language"
        for line in block.code.splitlines():
            assert NOT_RUN.match(line), f"{block.name}: {line!r} is not a setup command; put it in a ```sh block"


def test_the_fence_parser_sees_every_block() -> None:
    sample = "text\n```python\nprint(1)\n```\n\n```sh\necho hi\n```\n```\nmake demo\n```\n"
    assert blocks(sample) == [
        Block("python", "print(1)\n", 2),
        Block("sh", "echo hi\n", 6),
        Block("", "make demo\n", 9),
    ]


@pytest.mark.parametrize("block", runnable(), ids=lambda block: block.name)
def test_every_block_runs_as_pasted(block: Block, server: LocalServer, tmp_path: Path) -> None:
    done = run_block(block, server, tmp_path)
    assert done.returncode == 0, f"{block.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr


def only(predicate: str) -> Block:
    (block,) = [block for block in runnable() if predicate in block.code]
    return block


def test_the_quickstart_uploads_creates_lists_and_cancels(server: LocalServer, tmp_path: Path) -> None:
    done = run_block(only("is_terminal"), server, tmp_path)
    assert done.returncode == 0, done.stderr
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


def test_the_files_example_reads_the_output_after_the_batch_ends(server: LocalServer, tmp_path: Path) -> None:
    done = run_block(only("files.content"), server, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert printed[0].startswith("completed ")
    # The output branch ran: one printed line per result, and the same results written to a file.
    (result,) = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert result["custom_id"] == "q-0" and result["response"]["status_code"] == 200
    assert printed[1] == (tmp_path / "results.jsonl").read_text().splitlines()[0][:80]


def test_the_async_example_submits_lists_and_reads_results(server: LocalServer, tmp_path: Path) -> None:
    done = run_block(only("AsyncBatchClient"), server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^q-0 \S", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^batch_\w+ ", done.stdout, re.MULTILINE), done.stdout


def test_the_workflow_example_matches_results_to_requests(server: LocalServer, tmp_path: Path) -> None:
    done = run_block(only("results_by_custom_id"), server, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert any(line.startswith("completed ") for line in printed)
    assert {line.split()[0] for line in printed if line.startswith("q-")} == {"q-0", "q-1"}
    assert printed[-1] == "no result for: []"


def test_the_command_line_example(tmp_path: Path) -> None:
    (block,) = [block for block in runnable() if block.language == "sh" and "openai-batches submit" in block.code]
    # The block cancels a batch it has just submitted, two command starts later: the README's pace keeps it
    # cancellable for seconds (see test_the_readme_server_holds_each_status_long_enough_to_cancel).
    with readme_server(tmp_path / "data") as server:
        done = run_block(block, server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "usage: openai-batches" in done.stdout
    assert "exit status 5: cancelled" in done.stdout
    results = (tmp_path / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in results) == ["q-1", "q-2"]


def test_the_structured_output_example_parses_every_answer_into_its_model(server: LocalServer, tmp_path: Path) -> None:
    done = run_block(only("model_validate_json"), server, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = sorted(done.stdout.splitlines())
    assert [line.split()[0] for line in printed] == ["q-0", "q-1"]
    assert all(re.fullmatch(r"q-\d value=-?\d+ explanation='.*'", line) for line in printed), printed
