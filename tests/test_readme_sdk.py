"""The README's examples of the SDK-shaped surface (raw and streamed responses, switching from the official SDK) run
as pasted against the local server, in an empty folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches_server import LocalServer, run_server

README = Path(__file__).resolve().parents[1] / "README.md"
KEY = "sk-readme-sdk"


def python_block(marker: str) -> str:
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL) if marker in b]
    return block


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0) as running:
        for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        work = tmp_path / "work"
        work.mkdir()
        monkeypatch.chdir(work)
        yield running


def test_raw_and_streamed_response_example(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(python_block("with_raw_response"), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    status, request_id, url = printed[0].split()
    assert (status, url) == ("200", f"{server.base_url}/batches") and request_id.startswith("req_")
    assert printed[1].startswith("application/json")


def test_switching_example(server: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(python_block("was: from openai import OpenAI"), "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("404 ")


@pytest.mark.parametrize("library", ["openai_batches", "openai"])
def test_httpx2_example_runs_here_and_on_the_official_sdk(
    library: str, server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("httpx2")
    source = python_block("the SDK's: from openai import OpenAI")
    if library == "openai":
        source = source.replace("from openai_batches import BatchClient as OpenAI", "from openai import OpenAI")
        source = source.replace("import openai_batches as openai", "import openai")
        assert "openai_batches" not in source
    exec(compile(source, "README.md", "exec"), {})
    assert capsys.readouterr().out == "['/v1/batches'] 0\n"
