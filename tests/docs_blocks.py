"""The code blocks of the README and of docs/, found, keyed by page and line, and run as pasted against a local server.

A ```python block runs as a script and a ```sh block under bash with errexit and pipefail, each in an empty folder,
with OPENAI_BASE_URL and OPENAI_API_KEY pointing at a local server started with the flags the pages tell a reader to
start it with, and the project's console script on PATH. A block that is not meant to run says so with its fence:
```console for commands a test cannot run (installing, starting the server, running the test suite itself; a test
pins what they may hold, so that an example cannot hide there) and ```text for output and signatures.

tests/test_readme.py and tests/test_docs.py run every block; the tests beside them check what a block prints.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from openai_batches_server import LocalServer
from openai_batches_server.cli import config_from_args

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
KEY = "sk-readme-0123456789"
FENCE = re.compile(r"^```([\w+-]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUN_TIMEOUT = 120
RUN = ("python", "sh")
NOT_RUN = ("console", "text")
# What a ```console block may hold: commands a test cannot run, one per line.
SETUP_COMMAND = re.compile(
    r"^(make (demo|test|docs)|pip install (\.|'\.\[server\]'|openai-batches|'openai-batches\[server\]')"
    r"|openai-batches serve( --[\w-]+( \S+)?)*|export OPENAI_BASE_URL=\S+ OPENAI_API_KEY=\S+)(\s+#.*)?$"
)
# The command the pages tell a reader to start the local server with, flags and all.
SERVE = re.compile(r"start\s+it\s+in\s+another\s+terminal\s+with\s+`openai-batches serve ([^`]*)`")


class Block(NamedTuple):
    page: str
    language: str
    code: str
    line: int

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line} ({self.language or 'no language'})"


def pages() -> list[Path]:
    """The README and every page of the docs site."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def page_name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def blocks(text: str | None = None, page: str = "README.md") -> list[Block]:
    """The fenced blocks of one page (the README unless told), with the line each starts on."""
    text = (ROOT / page).read_text(encoding="utf-8") if text is None else text
    return [Block(page, m[1], m[2], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


def all_blocks() -> list[Block]:
    return [block for path in pages() for block in blocks(page=page_name(path))]


def runnable(page: str | None = None) -> list[Block]:
    """The blocks the tests run: of one page when told (`README.md`, `docs/jobs.md`), else of every page."""
    return [block for block in all_blocks() if block.language in RUN and page in (None, block.page)]


def matching(predicate: str, page: str | None = None, language: str | None = None) -> list[Block]:
    found = [b for b in runnable(page) if predicate in b.code and language in (None, b.language)]
    assert found, f"no runnable block holds {predicate!r}"
    return found


def only(predicate: str, page: str | None = None, language: str | None = None) -> Block:
    (block,) = matching(predicate, page, language)
    return block


def serve_arguments() -> list[str]:
    """The flags of every `openai-batches serve` a page tells a reader to start; all pages must agree."""
    found = {match[1] for path in pages() for match in SERVE.finditer(path.read_text(encoding="utf-8"))}
    assert found, "no page says any more how to start the local server"
    assert len(found) == 1, f"the pages start the local server in different ways: {sorted(found)}"
    return found.pop().split()


@contextlib.contextmanager
def readme_server(data_dir: Path) -> Iterator[LocalServer]:
    """A server started as the pages say (its --data-dir replaced, a free port, this module's key)."""
    arguments = serve_arguments()
    arguments[arguments.index("--data-dir") + 1] = str(data_dir)
    config, _ = config_from_args([*arguments, "--port", "0", "--api-key", KEY], {})
    with LocalServer(config) as running:
        yield running


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


def run_ok(block: Block, server: LocalServer, folder: Path) -> subprocess.CompletedProcess[str]:
    done = run_block(block, server, folder)
    assert done.returncode == 0, f"{block.name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def printed_after(block: Block) -> list[str]:
    """The lines of the ```text block that follows `block` on its page: what the page says it prints."""
    later = [b for b in blocks(page=block.page) if b.line > block.line]
    assert later and later[0].language == "text", f"{block.name}: no ```text block of its output follows it"
    return later[0].code.splitlines()
