"""The official SDK 3.x's idioms around httpx2: timeouts, clients, callable keys, reading file content, typed access.

The SDK 3.x is built on httpx2, so its users pass `httpx2.Timeout`, `httpx2.URL`, `httpx2.Client(...)`,
`openai.DefaultHttpxClient(...)` and `api_key=<callable>`. Each snippet below is SDK code that does so; it runs twice
against one local server, as written with the official SDK and with only its import changed
(tests/test_migration.py's `port`), and both runs must print the same thing: the comparison is made on every run,
so the port cannot drift from what the SDK does. Every snippet has a sync and an async version.

What each run prints never depends on ids or timings, only on what the calls return.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import textwrap
import warnings
from pathlib import Path

import pytest
from openai_batches_server import run_server
from test_migration import port

pytest.importorskip("httpx2")

KEY = "sk-sdk3-idioms"

SYNC: dict[str, str] = {}
ASYNC: dict[str, str] = {}

SYNC["timeouts"] = """
import httpx2
from openai import OpenAI

client = OpenAI(timeout=httpx2.Timeout(20.0, connect=3.0), max_retries=1)
page = client.batches.list(limit=2, timeout=httpx2.Timeout(5.0))
print("list", len(page.data), page.has_more)
print("files", len(client.files.list(timeout=httpx2.Timeout(5.0, read=9.0)).data))
print("float", len(client.batches.list(timeout=12.5).data))
print("none", len(client.batches.list(timeout=None).data))
quick = client.with_options(timeout=httpx2.Timeout(4.0), max_retries=0)
print("copy", len(quick.batches.list().data), quick.max_retries)
"""

ASYNC["timeouts"] = """
import asyncio
import httpx2
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI(timeout=httpx2.Timeout(20.0, connect=3.0), max_retries=1) as client:
        page = await client.batches.list(limit=2, timeout=httpx2.Timeout(5.0))
        print("list", len(page.data), page.has_more)
        print("files", len((await client.files.list(timeout=httpx2.Timeout(5.0, read=9.0))).data))
        print("float", len((await client.batches.list(timeout=12.5)).data))
        print("none", len((await client.batches.list(timeout=None)).data))
        quick = client.with_options(timeout=httpx2.Timeout(4.0), max_retries=0)
        print("copy", len((await quick.batches.list()).data), quick.max_retries)

asyncio.run(main())
"""

# The caller's httpx2 client is really the one sending: its transport counts the requests, its event hooks see
# them and their answers, and its own default header reaches the wire.
SYNC["httpx2_client"] = """
import os
import httpx2
from openai import OpenAI

class CountingTransport(httpx2.HTTPTransport):
    calls = 0

    def handle_request(self, request):
        CountingTransport.calls += 1
        return super().handle_request(request)

seen = []
http = httpx2.Client(
    transport=CountingTransport(),
    headers={"X-Trace": "trace-1"},
    event_hooks={
        "request": [lambda request: seen.append((request.method, request.url.path, request.headers["x-trace"]))],
        "response": [lambda response: seen.append(response.status_code)],
    },
)
client = OpenAI(http_client=http, base_url=httpx2.URL(os.environ["OPENAI_BASE_URL"]))
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    uploaded = client.files.create(file=f, purpose="batch")
print(uploaded.object, uploaded.purpose, uploaded.bytes == os.path.getsize(os.path.join(work, "requests.jsonl")))
print(len(client.batches.list(limit=1).data))
print(CountingTransport.calls, seen)
"""

ASYNC["httpx2_client"] = """
import asyncio
import os
import httpx2
from openai import AsyncOpenAI

class CountingTransport(httpx2.AsyncHTTPTransport):
    calls = 0

    async def handle_async_request(self, request):
        CountingTransport.calls += 1
        return await super().handle_async_request(request)

seen = []

async def on_request(request):
    seen.append((request.method, request.url.path, request.headers["x-trace"]))

async def on_response(response):
    seen.append(response.status_code)

async def main():
    http = httpx2.AsyncClient(
        transport=CountingTransport(),
        headers={"X-Trace": "trace-1"},
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    client = AsyncOpenAI(http_client=http, base_url=httpx2.URL(os.environ["OPENAI_BASE_URL"]))
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        uploaded = await client.files.create(file=f, purpose="batch")
    print(uploaded.object, uploaded.purpose, uploaded.bytes == os.path.getsize(os.path.join(work, "requests.jsonl")))
    print(len((await client.batches.list(limit=1)).data))
    print(CountingTransport.calls, seen)
    await http.aclose()

asyncio.run(main())
"""

SYNC["default_httpx_client"] = """
import openai
from openai import OpenAI

seen = []
http = openai.DefaultHttpxClient(event_hooks={"request": [lambda request: seen.append(request.method)]})
client = OpenAI(http_client=http)
print(len(client.batches.list().data), len(client.files.list().data), seen)
http.close()
"""

ASYNC["default_httpx_client"] = """
import asyncio
import openai
from openai import AsyncOpenAI

seen = []

async def hook(request):
    seen.append(request.method)

async def main():
    http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [hook]})
    client = AsyncOpenAI(http_client=http)
    print(len((await client.batches.list()).data), len((await client.files.list()).data), seen)
    await http.aclose()

asyncio.run(main())
"""

# The key comes from a callable (a token service, a vault), asked again for every request.
SYNC["callable_key"] = """
import os
from openai import OpenAI

calls = []

def fetch_key():
    calls.append(len(calls))
    return os.environ["OPENAI_API_KEY"]

client = OpenAI(api_key=fetch_key)
print("before", repr(client.api_key), len(calls))
client.batches.list(limit=1)
client.files.list()
print("after", client.api_key == os.environ["OPENAI_API_KEY"], len(calls))
copy = client.with_options(max_retries=0)
copy.batches.list()
print("copy", len(calls))
"""

ASYNC["callable_key"] = """
import asyncio
import os
from openai import AsyncOpenAI

calls = []

async def fetch_key():
    calls.append(len(calls))
    await asyncio.sleep(0)
    return os.environ["OPENAI_API_KEY"]

async def main():
    async with AsyncOpenAI(api_key=fetch_key) as client:
        print("before", repr(client.api_key), len(calls))
        await client.batches.list(limit=1)
        await client.files.list()
        print("after", client.api_key == os.environ["OPENAI_API_KEY"], len(calls))
        copy = client.with_options(max_retries=0)
        await copy.batches.list()
        print("copy", len(calls))

asyncio.run(main())
"""

SYNC["content_reading"] = """
import json
from openai import OpenAI

client = OpenAI()
document = {"name": "ünïcode", "values": [1, 2, 3]}
uploaded = client.files.create(file=("doc.jsonl", json.dumps(document).encode() + b"\\n"), purpose="batch")
content = client.files.content(uploaded.id)
print(content.encoding, content.charset_encoding)
print(content.json() == document, content.json(parse_int=str)["values"])
print(content.read() == json.dumps(document).encode() + b"\\n", content.text == content.content.decode())
print(list(client.files.content(uploaded.id).iter_lines()) == [json.dumps(document)])
print(b"".join(client.files.content(uploaded.id).iter_bytes()) == content.content)
info = client.files.retrieve(uploaded.id)
print(info.object, info.purpose, info.filename, info.bytes == len(content.content))
"""

ASYNC["content_reading"] = """
import asyncio
import json
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        document = {"name": "ünïcode", "values": [1, 2, 3]}
        uploaded = await client.files.create(
            file=("doc.jsonl", json.dumps(document).encode() + b"\\n"), purpose="batch"
        )
        content = await client.files.content(uploaded.id)
        print(content.encoding, content.charset_encoding)
        print(content.json() == document, content.json(parse_int=str)["values"])
        print(content.read() == json.dumps(document).encode() + b"\\n", content.text == content.content.decode())
        print(list(content.iter_lines()) == [json.dumps(document)])
        print(b"".join(content.iter_bytes()) == content.content)
        info = await client.files.retrieve(uploaded.id)
        print(info.object, info.purpose, info.filename, info.bytes == len(content.content))

asyncio.run(main())
"""

# A whole batch over the caller's httpx2 client with a callable key, results read and the typed fields used.
SYNC["batch_over_httpx2"] = """
import json
import os
import time
import httpx2
from openai import OpenAI

http = httpx2.Client(timeout=httpx2.Timeout(30.0, connect=5.0))
client = OpenAI(api_key=lambda: os.environ["OPENAI_API_KEY"], http_client=http, webhook_secret="whsec_unused")
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    batch_input_file = client.files.create(file=f, purpose="batch", timeout=httpx2.Timeout(10.0))
batch = client.batches.create(
    input_file_id=batch_input_file.id, endpoint="/v1/chat/completions", completion_window="24h",
    metadata={"run": "sdk3"}, timeout=httpx2.Timeout(10.0),
)
print(batch.object, batch.endpoint, batch.completion_window, batch.metadata == {"run": "sdk3"})
deadline = time.monotonic() + 20
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    assert time.monotonic() < deadline, batch.status
    time.sleep(0.05)
    batch = client.batches.retrieve(batch.id, timeout=httpx2.Timeout(5.0))
counts = batch.request_counts
print(batch.status, counts.total, counts.completed, counts.failed)
lines = [json.loads(line) for line in client.files.content(batch.output_file_id).iter_lines()]
print(sorted(line["custom_id"] for line in lines), {line["response"]["status_code"] for line in lines})
print(len(client.files.content(batch.error_file_id).text.splitlines()))
http.close()
"""

ASYNC["batch_over_httpx2"] = """
import asyncio
import json
import os
import time
import httpx2
from openai import AsyncOpenAI

async def fetch_key():
    return os.environ["OPENAI_API_KEY"]

async def main():
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, connect=5.0))
    client = AsyncOpenAI(api_key=fetch_key, http_client=http, webhook_secret="whsec_unused")
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        batch_input_file = await client.files.create(file=f, purpose="batch", timeout=httpx2.Timeout(10.0))
    batch = await client.batches.create(
        input_file_id=batch_input_file.id, endpoint="/v1/chat/completions", completion_window="24h",
        metadata={"run": "sdk3"}, timeout=httpx2.Timeout(10.0),
    )
    print(batch.object, batch.endpoint, batch.completion_window, batch.metadata == {"run": "sdk3"})
    deadline = time.monotonic() + 20
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        assert time.monotonic() < deadline, batch.status
        await asyncio.sleep(0.05)
        batch = await client.batches.retrieve(batch.id, timeout=httpx2.Timeout(5.0))
    counts = batch.request_counts
    print(batch.status, counts.total, counts.completed, counts.failed)
    content = await client.files.content(batch.output_file_id)
    lines = [json.loads(line) for line in content.iter_lines()]
    print(sorted(line["custom_id"] for line in lines), {line["response"]["status_code"] for line in lines})
    print(len((await client.files.content(batch.error_file_id)).text.splitlines()))
    await http.aclose()

asyncio.run(main())
"""

# The SDK's other constructor keywords, at the values a batch script might carry over from elsewhere.
SYNC["sdk_keywords"] = """
import os
from openai import OpenAI

client = OpenAI(
    admin_api_key=None,
    webhook_secret="whsec_unused",
    websocket_base_url="wss://realtime.example.invalid/v1",
    workload_identity=None,
    provider=None,
    data_residency=None,
    _strict_response_validation=True,
)
print(len(client.batches.list().data))
print(len(client.copy(webhook_secret="whsec_other").files.list().data))
"""

ASYNC["sdk_keywords"] = """
import asyncio
from openai import AsyncOpenAI

async def main():
    client = AsyncOpenAI(
        admin_api_key=None,
        webhook_secret="whsec_unused",
        websocket_base_url="wss://realtime.example.invalid/v1",
        workload_identity=None,
        provider=None,
        data_residency=None,
        _strict_response_validation=True,
    )
    print(len((await client.batches.list()).data))
    print(len((await client.copy(webhook_secret="whsec_other").files.list()).data))
    await client.close()

asyncio.run(main())
"""

# What both must print: the same on both is not enough if both printed nothing useful (the hooks and the transport
# saw every request, the callable was asked once per request).
EXPECTED_PREFIX = {
    "timeouts": ["list 0 False", "files 0", "float 0", "none 0", "copy 0 0"],
    "content_reading": [
        "utf-8 None",
        "True ['1', '2', '3']",
        "True True",
        "True",
        "True",
        "file batch doc.jsonl True",
    ],
    "sdk_keywords": ["0", "0"],
    "httpx2_client": [
        "file batch True",
        "0",
        "2 [('POST', '/v1/files', 'trace-1'), 200, ('GET', '/v1/batches', 'trace-1'), 200]",
    ],
    "callable_key": ["before '' 0", "after True 2", "copy 3"],
    "default_httpx_client": ["0 0 ['GET', 'GET']"],
    "batch_over_httpx2": [
        "batch /v1/chat/completions 24h True",
        "completed 4 3 1",
        "['q-0', 'q-1', 'q-2'] {200}",
        "1",
    ],
}

REQUESTS = [
    {
        "custom_id": f"q-{i}" if i < 3 else "fail-q-3",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question {i}"}]},
    }
    for i in range(4)
]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY", "OPENAI_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(line) + "\n" for line in REQUESTS))
    return tmp_path


def run_snippet(name: str, source: str, work: Path) -> list[str]:
    """What the snippet prints."""
    code = compile(textwrap.dedent(source), f"<sdk3 snippet {name}>", "exec")
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        # The official SDK's abandoned pools may warn when collected; that is not what is compared here.
        warnings.simplefilter("ignore", ResourceWarning)
        namespace = {"__name__": "__snippet__", "work": str(work)}
        exec(code, namespace)
        namespace.clear()
        gc.collect()
    return out.getvalue().splitlines()


SNIPPETS = [(name, "sync", source) for name, source in SYNC.items()] + [
    (name, "async", source) for name, source in ASYNC.items()
]


def test_every_snippet_has_a_sync_and_an_async_version() -> None:
    assert SYNC.keys() == ASYNC.keys() and len(SYNC) >= 7


@pytest.mark.parametrize(("name", "mode", "source"), SNIPPETS, ids=[f"{n}-{m}" for n, m, _ in SNIPPETS])
def test_snippet_prints_the_same_on_the_official_sdk_and_ported(
    name: str, mode: str, source: str, work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outputs = []
    for variant in (source, port(source)):
        # A server of its own for each run: listings then count only what this run made.
        with (
            run_server(tmp_path_factory.mktemp("run") / "data", api_keys=[KEY], tick=0) as running,
            pytest.MonkeyPatch.context() as patch,
        ):
            patch.setenv("OPENAI_BASE_URL", running.base_url)
            outputs.append(run_snippet(name, variant, work))
    official, ported = outputs
    assert official, "the snippet printed nothing"
    assert ported == official
    expected = EXPECTED_PREFIX.get(name)
    if expected is not None:
        assert official[: len(expected)] == expected
