"""Switching from the official `openai` SDK: typical SDK code runs with nothing changed but its import.

Each snippet below is a script written against the official SDK (upload, create, poll, list all, raw response
headers, streamed download, download to a file, error handling, ...). It runs twice against the local server:
as written, with the official SDK, which proves it is genuine SDK code and that the server answers like the API; and
ported, with the one edit a migrating user makes:

    from openai import OpenAI       ->  from openai_batches import BatchClient as OpenAI
    from openai import AsyncOpenAI  ->  from openai_batches import AsyncBatchClient as AsyncOpenAI
    import openai                   ->  import openai_batches as openai

Both clients read OPENAI_API_KEY and OPENAI_BASE_URL, so the scripts build their client as `OpenAI()`. Every script
has a sync and an async version. The only thing a script is given is `work`, a directory holding `requests.jsonl`.
"""

from __future__ import annotations

import gc
import json
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches_server import LocalServer, run_server

KEY = "sk-migration"
PORTED_IMPORTS = {
    "from openai import OpenAI": "from openai_batches import BatchClient as OpenAI",
    "from openai import AsyncOpenAI": "from openai_batches import AsyncBatchClient as AsyncOpenAI",
    "import openai": "import openai_batches as openai",
}
REQUESTS = [
    {
        "custom_id": f"q-{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question {i}"}]},
    }
    for i in range(3)
] + [
    {
        "custom_id": "fail-q-3",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "doomed"}]},
    }
]


def port(source: str) -> str:
    """The migration: the import lines change, nothing else."""
    lines = []
    for line in source.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(indent + PORTED_IMPORTS.get(line.strip(), line.strip()) if line.strip() else line)
    ported = "\n".join(lines)
    changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines(), strict=True) if a != b]
    assert changed and all(a.strip() in PORTED_IMPORTS for a, _ in changed), changed
    return ported


# ---------------------------------------------------------------------------------------------------- the snippets

SYNC: dict[str, str] = {}
ASYNC: dict[str, str] = {}

SYNC["upload"] = """
import os
from pathlib import Path
from openai import OpenAI

client = OpenAI()
path = os.path.join(work, "requests.jsonl")
size = os.path.getsize(path)

with open(path, "rb") as f:
    uploaded = client.files.create(file=f, purpose="batch")
assert uploaded.object == "file" and uploaded.purpose == "batch"
assert uploaded.bytes == size and uploaded.filename == "requests.jsonl"

data = Path(path).read_bytes()
named = client.files.create(file=("input.jsonl", data), purpose="batch")
typed = client.files.create(file=("typed.jsonl", data, "application/jsonl"), purpose="batch")
from_path = client.files.create(file=Path(path), purpose="batch")
assert (named.filename, typed.filename, from_path.filename) == ("input.jsonl", "typed.jsonl", "requests.jsonl")
assert named.bytes == typed.bytes == from_path.bytes == size

assert client.files.retrieve(named.id).id == named.id
processed = client.files.wait_for_processing(named.id)
assert processed.status == "processed"
deleted = client.files.delete(named.id)
assert deleted.deleted and deleted.id == named.id and deleted.object == "file"
"""

ASYNC["upload"] = """
import asyncio
import os
from pathlib import Path
from openai import AsyncOpenAI

async def main():
    path = os.path.join(work, "requests.jsonl")
    size = os.path.getsize(path)
    async with AsyncOpenAI() as client:
        with open(path, "rb") as f:
            uploaded = await client.files.create(file=f, purpose="batch")
        assert uploaded.object == "file" and uploaded.bytes == size
        data = Path(path).read_bytes()
        named = await client.files.create(file=("input.jsonl", data), purpose="batch")
        typed = await client.files.create(file=("typed.jsonl", data, "application/jsonl"), purpose="batch")
        assert (named.filename, typed.filename) == ("input.jsonl", "typed.jsonl")
        processed = await client.files.wait_for_processing(named.id)
        assert processed.status == "processed"
        deleted = await client.files.delete(named.id)
        assert deleted.deleted

asyncio.run(main())
"""

SYNC["create_and_poll"] = """
import os
import time
from openai import OpenAI

client = OpenAI()
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    batch_input_file = client.files.create(file=f, purpose="batch")

batch = client.batches.create(
    input_file_id=batch_input_file.id,
    endpoint="/v1/chat/completions",
    completion_window="24h",
    metadata={"description": "nightly eval job"},
)
assert batch.object == "batch" and batch.status == "validating"
assert batch.metadata.get("description") == "nightly eval job"
assert dict(batch.metadata) == {"description": "nightly eval job"}
assert batch.metadata == {"description": "nightly eval job"}

deadline = time.monotonic() + 20
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    assert time.monotonic() < deadline, batch.status
    time.sleep(0.05)
    batch = client.batches.retrieve(batch.id)

assert batch.status == "completed"
assert batch.request_counts.total == 4
assert batch.request_counts.completed == 3 and batch.request_counts.failed == 1
assert batch.output_file_id and batch.error_file_id
assert batch.completed_at >= batch.created_at
"""

ASYNC["create_and_poll"] = """
import asyncio
import os
import time
from openai import AsyncOpenAI

async def main():
    client = AsyncOpenAI()
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        batch_input_file = await client.files.create(file=f, purpose="batch")
    batch = await client.batches.create(
        input_file_id=batch_input_file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"description": "nightly eval job"},
    )
    assert batch.metadata.get("description") == "nightly eval job"
    deadline = time.monotonic() + 20
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        assert time.monotonic() < deadline, batch.status
        await asyncio.sleep(0.05)
        batch = await client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (3, 1)
    await client.close()

asyncio.run(main())
"""

# The body of a script that needs a finished batch: upload, create, poll.
_RUN_BATCH = """
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    batch_input_file = client.files.create(file=f, purpose="batch")
batch = client.batches.create(
    input_file_id=batch_input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
)
deadline = time.monotonic() + 20
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    assert time.monotonic() < deadline, batch.status
    time.sleep(0.05)
    batch = client.batches.retrieve(batch.id)
"""
_ASYNC_RUN_BATCH = """
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        batch_input_file = await client.files.create(file=f, purpose="batch")
    batch = await client.batches.create(
        input_file_id=batch_input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    deadline = time.monotonic() + 20
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        assert time.monotonic() < deadline, batch.status
        await asyncio.sleep(0.05)
        batch = await client.batches.retrieve(batch.id)
"""

SYNC["download_results"] = (
    """
import json
import os
import time
from openai import OpenAI

client = OpenAI()
"""
    + _RUN_BATCH
    + """
file_response = client.files.content(batch.output_file_id)
results = [json.loads(line) for line in file_response.text.splitlines()]
answers = {r["custom_id"]: r["response"]["body"]["choices"][0]["message"]["content"] for r in results}
assert answers == {"q-0": "Echo: Question 0", "q-1": "Echo: Question 1", "q-2": "Echo: Question 2"}

assert client.files.content(batch.output_file_id).content == file_response.text.encode()
errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
assert [e["custom_id"] for e in errors] == ["fail-q-3"]
assert errors[0]["response"]["status_code"] >= 400

client.files.content(batch.output_file_id).write_to_file(os.path.join(work, "results.jsonl"))
with open(os.path.join(work, "results.jsonl")) as f:
    assert f.read() == file_response.text
"""
)

ASYNC["download_results"] = (
    """
import asyncio
import json
import os
import time
from openai import AsyncOpenAI

async def main():
  async with AsyncOpenAI() as client:
"""
    + textwrap.indent(textwrap.dedent(_ASYNC_RUN_BATCH), "    ")
    + """
    content = await client.files.content(batch.output_file_id)
    data = await content.aread()
    assert content.content == data and content.text == data.decode() and content.read() == data
    content.write_to_file(os.path.join(work, "async-results.jsonl"))
    with open(os.path.join(work, "async-results.jsonl"), "rb") as f:
        assert f.read() == data
    results = [json.loads(line) for line in data.decode().splitlines()]
    assert sorted(r["custom_id"] for r in results) == ["q-0", "q-1", "q-2"]
    assert results[0]["response"]["body"]["choices"][0]["message"]["content"].startswith("Echo: Question")

asyncio.run(main())
"""
)

SYNC["stream_to_file"] = (
    """
import os
import time
from openai import OpenAI

client = OpenAI()
"""
    + _RUN_BATCH
    + """
target = os.path.join(work, "streamed.jsonl")
with client.files.with_streaming_response.content(batch.output_file_id) as response:
    assert response.status_code == 200
    response.stream_to_file(target)
with client.files.with_streaming_response.content(batch.output_file_id) as response:
    lines = list(response.iter_lines())
with open(target) as f:
    assert f.read().splitlines() == lines and len(lines) == 3
"""
)

ASYNC["stream_to_file"] = (
    """
import asyncio
import os
import time
from openai import AsyncOpenAI

async def main():
  async with AsyncOpenAI() as client:
"""
    + textwrap.indent(textwrap.dedent(_ASYNC_RUN_BATCH), "    ")
    + """
    target = os.path.join(work, "streamed.jsonl")
    async with client.files.with_streaming_response.content(batch.output_file_id) as response:
        await response.stream_to_file(target)
    async with client.files.with_streaming_response.content(batch.output_file_id) as response:
        text = await response.text()
    with open(target) as f:
        assert f.read() == text and len(text.splitlines()) == 3

asyncio.run(main())
"""
)

SYNC["list_all"] = """
import os
from openai import OpenAI

client = OpenAI()
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch")
created = [
    client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h").id
    for _ in range(3)
]

all_ids = [batch.id for batch in client.batches.list(limit=2)]
assert set(created) <= set(all_ids) and len(all_ids) == len(set(all_ids))

first_page = client.batches.list(limit=1)
assert len(first_page.data) == 1 and first_page.has_next_page()
assert first_page.next_page_info().params["after"] == first_page.data[-1].id
second_page = first_page.get_next_page()
assert second_page.data[0].id != first_page.data[0].id
pages = 0
for page in first_page.iter_pages():
    pages += 1
assert pages == len(all_ids)

files = [f.id for f in client.files.list(purpose="batch")]
assert input_file.id in files
"""

ASYNC["list_all"] = """
import asyncio
import os
from openai import AsyncOpenAI

async def main():
    client = AsyncOpenAI()
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        input_file = await client.files.create(file=f, purpose="batch")
    created = []
    for _ in range(3):
        batch = await client.batches.create(
            input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        created.append(batch.id)
    all_ids = [batch.id async for batch in client.batches.list(limit=2)]
    assert set(created) <= set(all_ids)
    page = await client.batches.list(limit=1)
    assert page.has_next_page() and page.next_page_info().params["after"] == page.data[0].id
    next_page = await page.get_next_page()
    assert next_page.data[0].id != page.data[0].id
    assert input_file.id in [f.id async for f in client.files.list(purpose="batch")]
    await client.close()

asyncio.run(main())
"""

SYNC["raw_response_headers"] = """
import os
from openai import OpenAI

client = OpenAI()
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch")

raw = client.batches.with_raw_response.create(
    input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
)
assert raw.status_code == 200 and raw.http_request.method == "POST"
request_id = raw.headers.get("x-request-id")
assert request_id
batch = raw.parse()
assert batch.object == "batch"

raw = client.batches.with_raw_response.retrieve(batch.id)
assert raw.headers.get("x-request-id") and raw.headers.get("x-request-id") != request_id
assert raw.http_request.url.path.endswith("/batches/" + batch.id)
assert raw.parse().id == batch.id

with client.batches.with_streaming_response.retrieve(batch.id) as response:
    assert response.headers.get("content-type", "").startswith("application/json")
    assert response.parse().id == batch.id

page = client.batches.with_raw_response.list(limit=1).parse()
assert len(page.data) == 1
"""

ASYNC["raw_response_headers"] = """
import asyncio
import os
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        with open(os.path.join(work, "requests.jsonl"), "rb") as f:
            raw = await client.files.with_raw_response.create(file=f, purpose="batch")
        assert raw.status_code == 200 and raw.headers.get("x-request-id")
        input_file = raw.parse()
        raw = await client.batches.with_raw_response.create(
            input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        batch = raw.parse()
        assert raw.http_request.method == "POST" and batch.object == "batch"
        async with client.batches.with_streaming_response.retrieve(batch.id) as response:
            assert response.headers.get("x-request-id")
            assert (await response.parse()).id == batch.id

asyncio.run(main())
"""

SYNC["error_handling"] = """
import os
import openai
from openai import OpenAI

client = OpenAI()
try:
    client.batches.retrieve("batch_does_not_exist")
except openai.NotFoundError as e:
    assert e.status_code == 404
    assert "batch_does_not_exist" in e.body["message"] and e.body["type"] == "invalid_request_error"
    assert e.request_id and e.response.status_code == 404
else:
    raise AssertionError("no error")

with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch")
try:
    client.batches.create(
        input_file_id=input_file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_body={"priority": "high"},
    )
except openai.BadRequestError as e:
    assert e.code == "unknown_parameter" and e.param == "priority"
    assert e.body["code"] == "unknown_parameter" and e.body["param"] == "priority"
    assert e.type == "invalid_request_error"

try:
    OpenAI(api_key="sk-wrong").batches.list()
except openai.AuthenticationError as e:
    assert e.status_code == 401
try:
    client.files.retrieve("file-missing")
except openai.APIStatusError as e:
    assert isinstance(e, openai.APIError) and isinstance(e, openai.OpenAIError)
"""

ASYNC["error_handling"] = """
import asyncio
import os
import openai
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        try:
            await client.batches.retrieve("batch_does_not_exist")
        except openai.NotFoundError as e:
            assert e.status_code == 404 and "batch_does_not_exist" in e.body["message"]
        else:
            raise AssertionError("no error")
        with open(os.path.join(work, "requests.jsonl"), "rb") as f:
            input_file = await client.files.create(file=f, purpose="batch")
        try:
            await client.batches.create(
                input_file_id=input_file.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                extra_body={"priority": "high"},
            )
        except openai.BadRequestError as e:
            assert e.body["code"] == "unknown_parameter" and e.param == "priority"
        async with AsyncOpenAI(api_key="sk-wrong") as wrong:
            try:
                await wrong.batches.retrieve("batch_x")
            except openai.AuthenticationError as e:
                assert e.status_code == 401

asyncio.run(main())
"""

SYNC["request_options"] = """
import os
from openai import OpenAI

client = OpenAI(default_query={"trace": "migration"}, max_retries=1)
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch", extra_headers={"X-Team": "evals"})

batch = client.batches.create(
    input_file_id=input_file.id,
    endpoint="/v1/chat/completions",
    completion_window="24h",
    metadata={"job": "a"},
    extra_body={"metadata": {"job": "from extra_body"}},
)
assert batch.metadata["job"] == "from extra_body"

raw = client.batches.with_raw_response.list(limit=1, extra_query={"limit": 2})
assert raw.http_request.url.params["limit"] == "2" and raw.http_request.url.params["trace"] == "migration"

fast = client.with_options(timeout=20.0, max_retries=0)
assert fast.max_retries == 0 and client.max_retries == 1
assert fast.batches.retrieve(batch.id, timeout=10).id == batch.id
other = client.copy(api_key=client.api_key)
assert other.api_key == client.api_key
assert other.batches.retrieve(batch.id, extra_headers={"X-Request-Tag": "t"}).id == batch.id
"""

ASYNC["request_options"] = """
import asyncio
import os
from openai import AsyncOpenAI

async def main():
    client = AsyncOpenAI(default_query={"trace": "migration"})
    with open(os.path.join(work, "requests.jsonl"), "rb") as f:
        input_file = await client.files.create(file=f, purpose="batch")
    batch = await client.batches.create(
        input_file_id=input_file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_body={"metadata": {"job": "from extra_body"}},
    )
    assert batch.metadata["job"] == "from extra_body"
    raw = await client.batches.with_raw_response.list(extra_query={"limit": 1})
    assert raw.http_request.url.params["limit"] == "1" and len(raw.parse().data) == 1
    fast = client.with_options(max_retries=0)
    assert (await fast.batches.retrieve(batch.id, timeout=10)).id == batch.id
    await client.close()

asyncio.run(main())
"""

SYNC["cancel"] = """
import os
import openai
from openai import OpenAI

client = OpenAI()
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch")
batch = client.batches.create(input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h")
try:
    batch = client.batches.cancel(batch.id)
    assert batch.status in ("cancelling", "cancelled")
except openai.ConflictError as e:
    # It was finishing, or had finished, before the cancel arrived.
    assert e.status_code == 409
    assert client.batches.retrieve(batch.id).status in ("finalizing", "completed", "failed")
"""

ASYNC["cancel"] = """
import asyncio
import os
import openai
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        with open(os.path.join(work, "requests.jsonl"), "rb") as f:
            input_file = await client.files.create(file=f, purpose="batch")
        batch = await client.batches.create(
            input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        try:
            batch = await client.batches.cancel(batch.id)
            assert batch.status in ("cancelling", "cancelled")
        except openai.ConflictError:
            assert (await client.batches.retrieve(batch.id)).status in ("finalizing", "completed", "failed")

asyncio.run(main())
"""

SYNC["serialize"] = """
import json
import os
from openai import OpenAI

client = OpenAI()
with open(os.path.join(work, "requests.jsonl"), "rb") as f:
    input_file = client.files.create(file=f, purpose="batch")
batch = client.batches.create(
    input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={"k": "v"}
)

stored = json.loads(batch.to_json())
assert stored["id"] == batch.id and stored["object"] == "batch" and stored["metadata"] == {"k": "v"}
assert stored["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
as_dict = batch.to_dict()
assert as_dict["input_file_id"] == input_file.id and as_dict["endpoint"] == "/v1/chat/completions"
assert json.loads(input_file.to_json())["bytes"] == input_file.bytes
with open(os.path.join(work, "batch.json"), "w") as f:
    f.write(batch.to_json())
"""

ASYNC["serialize"] = """
import asyncio
import json
import os
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        with open(os.path.join(work, "requests.jsonl"), "rb") as f:
            input_file = await client.files.create(file=f, purpose="batch")
        batch = await client.batches.create(
            input_file_id=input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert json.loads(batch.to_json())["id"] == batch.id
        assert batch.to_dict()["object"] == "batch"

asyncio.run(main())
"""

SYNC["client_lifecycle"] = """
from openai import OpenAI

with OpenAI() as client:
    assert client.api_key.startswith("sk-")
    assert not client.is_closed()
    client.batches.list(limit=1)
assert client.is_closed()

client = OpenAI(timeout=30.0, max_retries=3)
assert client.max_retries == 3
client.close()
assert client.is_closed()
"""

ASYNC["client_lifecycle"] = """
import asyncio
from openai import AsyncOpenAI

async def main():
    async with AsyncOpenAI() as client:
        assert client.api_key.startswith("sk-") and not client.is_closed()
        await client.batches.list(limit=1)
    assert client.is_closed()

asyncio.run(main())
"""

SYNC["retrieve_content"] = (
    """
import os
import time
import warnings
from openai import OpenAI

client = OpenAI()
"""
    + _RUN_BATCH
    + """
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    text = client.files.retrieve_content(batch.output_file_id)
assert text == client.files.content(batch.output_file_id).text
"""
)

ASYNC["retrieve_content"] = (
    """
import asyncio
import os
import time
import warnings
from openai import AsyncOpenAI

async def main():
  async with AsyncOpenAI() as client:
"""
    + textwrap.indent(textwrap.dedent(_ASYNC_RUN_BATCH), "    ")
    + """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        text = await client.files.retrieve_content(batch.output_file_id)
    assert len(text.splitlines()) == 3

asyncio.run(main())
"""
)

# ---------------------------------------------------------------------------------------------------- running them


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with run_server(tmp_path_factory.mktemp("migration") / "data", api_keys=[KEY], tick=0) as running:
        yield running


@pytest.fixture
def work(tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(line) + "\n" for line in REQUESTS))
    return tmp_path


def run_script(name: str, source: str, work: Path, *, sockets_must_close: bool = True) -> None:
    """Run a script; with sockets_must_close, a socket it leaves open is an error. Scripts need not close their clients
    (SDK code rarely does), but our client must close its connections once the script lets go of it."""
    code = compile(textwrap.dedent(source), f"<migration snippet {name}>", "exec")
    gc.collect()  # what earlier tests left behind is theirs, not this script's
    with warnings.catch_warnings():
        warnings.simplefilter("error" if sockets_must_close else "ignore", ResourceWarning)
        namespace = {"__name__": "__snippet__", "work": str(work)}
        exec(code, namespace)
        namespace.clear()
        gc.collect()


SNIPPETS = [(name, "sync", source) for name, source in SYNC.items()] + [
    (name, "async", source) for name, source in ASYNC.items()
]


def test_every_snippet_has_a_sync_and_an_async_version() -> None:
    assert SYNC.keys() == ASYNC.keys() and len(SYNC) >= 12


@pytest.mark.parametrize(("name", "mode", "source"), SNIPPETS, ids=[f"{n}-{m}" for n, m, _ in SNIPPETS])
def test_snippet_runs_ported_to_openai_batches(name: str, mode: str, source: str, work: Path) -> None:
    run_script(name, port(source), work)


@pytest.mark.parametrize(("name", "mode", "source"), SNIPPETS, ids=[f"{n}-{m}" for n, m, _ in SNIPPETS])
def test_snippet_is_genuine_official_sdk_code(name: str, mode: str, source: str, work: Path) -> None:
    # The official SDK closes an abandoned client's pool in __del__, which the garbage collector may run after the
    # sockets' own finalizers when they sit in one cycle: it can leave a socket to warn, and that is not ours to judge.
    run_script(name, source, work, sockets_must_close=False)


def test_porting_changes_only_the_imports() -> None:
    source = "import openai\nfrom openai import OpenAI\nclient = OpenAI()  # openai stays here\n"
    assert port(source) == (
        "import openai_batches as openai\nfrom openai_batches import BatchClient as OpenAI\n"
        "client = OpenAI()  # openai stays here"
    )
