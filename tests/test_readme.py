"""The README's Python examples run as written, against a small Batch API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _batch(batch_id: str, status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-abc123",
        "completion_window": "24h",
        "status": status,
        "created_at": 1711471533,
        "request_counts": {"total": 3, "completed": 1, "failed": 0},
        "metadata": {"job": "nightly-eval"},
    }


class _BatchAPI(BaseHTTPRequestHandler):
    """Answers the four batch operations; lists three batches over two pages."""

    calls: list[tuple[str, str]]

    def _reply(self, body: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_readme")
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        self.calls.append((method, self.path))
        if self.headers.get("Authorization") != "Bearer sk-readme":
            self._reply(
                {"error": {"message": "bad key", "type": "invalid_request_error", "param": None, "code": None}}, 401
            )
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path, _, query = self.path.partition("?")
        if method == "POST" and path == "/v1/batches":
            self._reply({**_batch("batch_new", "validating"), "input_file_id": body["input_file_id"]})
        elif method == "GET" and path == "/v1/batches":
            if "after=batch_2" in query:
                self._reply({"object": "list", "data": [_batch("batch_3", "completed")], "has_more": False})
            else:
                page = [_batch("batch_1"), _batch("batch_2")]
                self._reply(
                    {"object": "list", "data": page, "first_id": "batch_1", "last_id": "batch_2", "has_more": True}
                )
        elif method == "POST" and path.endswith("/cancel"):
            self._reply(_batch(path.split("/")[3], "cancelling"))
        elif method == "GET" and path.startswith("/v1/batches/"):
            self._reply(_batch(path.split("/")[3]))
        else:
            self._reply(
                {"error": {"message": "no route", "type": "invalid_request_error", "param": None, "code": None}}, 404
            )

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []
    handler = type("Handler", (_BatchAPI,), {"calls": calls})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield calls
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_a_sync_and_an_async_example() -> None:
    blocks = _python_blocks()
    assert any("BatchClient()" in b for b in blocks)
    assert any("AsyncBatchClient()" in b for b in blocks)


def test_sync_quickstart_runs(server: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [b for b in _python_blocks() if "BatchClient()" in b and "is_terminal" in b]
    exec(compile(block, "README.md", "exec"), {})
    assert server == [
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches/batch_new"),
        ("GET", "/v1/batches?limit=100"),
        ("GET", "/v1/batches?after=batch_2&limit=100"),
        ("POST", "/v1/batches/batch_new/cancel"),
    ]
    printed = capsys.readouterr().out.splitlines()
    assert printed[1:] == ["batch_1 in_progress", "batch_2 in_progress", "batch_3 completed"]


def test_async_example_runs(server: list[tuple[str, str]]) -> None:
    (block,) = [b for b in _python_blocks() if "AsyncBatchClient()" in b]
    source = "async def main():\n" + textwrap.indent(block, "    ")
    namespace: dict[str, Any] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    with contextlib.closing(asyncio.new_event_loop()) as loop:
        loop.run_until_complete(namespace["main"]())
    assert server == [
        ("GET", "/v1/batches/batch_abc123"),
        ("GET", "/v1/batches"),
        ("GET", "/v1/batches?after=batch_2"),
        ("GET", "/v1/batches?limit=20"),
        ("GET", "/v1/batches?after=batch_2&limit=20"),
    ]


def test_files_example_runs_against_the_local_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from openai_batches_server import run_server

    (block,) = [b for b in _python_blocks() if "files.content" in b and "await" not in b]
    request = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"messages": []}}
    (tmp_path / "requests.jsonl").write_text(json.dumps(request) + "\n")
    monkeypatch.chdir(tmp_path)
    with run_server(tmp_path / "data", api_keys=["sk-readme"], tick=0) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        exec(compile(block, "README.md", "exec"), {})
