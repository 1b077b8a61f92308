"""A 20,000-request job on Azure OpenAI's paths and on Anthropic's Message Batches, run as real processes against
the local server, with line failures, killed with SIGKILL at the runner's named points and from outside, then
finished: every request answered once, in input order, and nothing sent twice.

The server ignores `Idempotency-Key`, as the public services do, so a replayed upload or create would make a second
one. On Azure a batch carries the job's metadata, so the check is the Batch API's: one batch per shard and attempt,
no upload left. Message Batches carry none, so the check is what Anthropic bills: across every batch the server
holds, each request succeeded exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_batches import AzureBatchClient
from openai_batches.anthropic import AnthropicBatchClient
from openai_batches_server import LocalServer, run_server

pytestmark = [pytest.mark.crash, pytest.mark.timeout(600)]

KEY = "sk-provider-crash-0001"
REQUESTS = 20_000
SHARD = 1000
POINTS = ["upload", "create-intent", "create", "poll", "download", "downloaded", "merge", "merged", "delete"]

# One run of the job, in a process of its own: the client named by argv[1], the rest from the environment.
RUNNER = """
import os, sys
from openai_batches import AzureBatchClient
from openai_batches.anthropic import AnthropicBatchClient

kind, name, path, state = sys.argv[1:5]
url, key = os.environ["CRASH_URL"], os.environ["CRASH_KEY"]
if kind == "azure":
    client = AzureBatchClient(azure_endpoint=url, api_key=key, max_retries=2)
else:
    client = AnthropicBatchClient(base_url=url, api_key=key, max_retries=2)
with client:
    client.jobs.create(name, path, state_dir=state, max_batch_requests=SHARD, max_in_flight=3, max_attempts=5)
    job = client.jobs.run(name, state_dir=state, poll_interval=0.02, max_poll_interval=0.1)
print(job.status, job.succeeded, job.failed, job.missing)
""".replace("SHARD", str(SHARD))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(
        tmp_path / "data",
        api_keys=[KEY],
        tick=0,
        ignore_idempotency_key=True,
        line_failure_rate=0.01,
        line_failure_status=500,
    ) as running:
        yield running


def write_input(path: Path, kind: str) -> Path:
    with path.open("w") as out:
        for i in range(REQUESTS):
            model = "gpt-4o-mini-batch" if kind == "azure" else "claude-3-5-haiku-latest"
            body = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": f"question {i}"}]}
            url = "/chat/completions" if kind == "azure" else "/v1/chat/completions"
            out.write(json.dumps({"custom_id": f"q-{i:05d}", "method": "POST", "url": url, "body": body}) + "\n")
    return path


def environment(server: LocalServer, crash: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_", "ANTHROPIC_"))}
    env.update(CRASH_URL=server.base_url.removesuffix("/v1"), CRASH_KEY=KEY)
    if crash is not None:
        env["OPENAI_BATCHES_JOBS_CRASH"] = crash
    return env


def run_with_kills(server: LocalServer, kind: str, tmp_path: Path) -> tuple[Counter[str], str]:
    path = write_input(tmp_path / "requests.jsonl", kind)
    command = [sys.executable, "-c", RUNNER, kind, "crash", str(path), str(tmp_path / "state")]
    rng = random.Random(20261208)
    killed: Counter[str] = Counter()
    schedule = [f"{point}:{1 + round}" for round in range(2) for point in POINTS]
    for number, crash in enumerate(schedule):
        if number % 6 == 3:
            process = subprocess.Popen(command, env=environment(server, None), stdout=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 1.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            if process.wait(120) == -signal.SIGKILL:
                killed["outside"] += 1
        done = subprocess.run(command, env=environment(server, crash), capture_output=True, text=True, timeout=180)
        assert done.returncode in (0, -signal.SIGKILL), f"{crash}: exit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode == -signal.SIGKILL:
            killed[crash.partition(":")[0]] += 1
    finished = subprocess.run(command, env=environment(server, None), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    return killed, finished.stdout.strip()


def check_results(tmp_path: Path, client: AzureBatchClient | AnthropicBatchClient) -> None:
    job = client.jobs.get("crash", state_dir=tmp_path / "state")
    assert (job.status, job.succeeded, job.failed, job.missing) == ("completed", REQUESTS, 0, 0)
    results = list(job.results())
    assert [r.custom_id for r in results] == [f"q-{i:05d}" for i in range(REQUESTS)]
    assert all(r.ok for r in results)


def test_a_job_on_azure_killed_again_and_again_ends_with_every_request_once(
    server: LocalServer, tmp_path: Path
) -> None:
    killed, last = run_with_kills(server, "azure", tmp_path)
    assert sum(killed.values()) >= 12, dict(killed)
    assert set(killed) >= {"upload", "create", "create-intent", "download", "merge", "outside"}, dict(killed)
    assert last == f"completed {REQUESTS} 0 0"
    with AzureBatchClient(azure_endpoint=server.base_url.removesuffix("/v1"), api_key=KEY) as client:
        check_results(tmp_path, client)
        batches = [batch.to_dict() for batch in client.batches.list(limit=100)]
        uploads = [file.filename for file in client.files.list(purpose="batch")]
    per_shard = Counter((b["metadata"]["shard"], b["metadata"]["attempt"]) for b in batches)
    assert max(per_shard.values()) == 1, [key for key, count in per_shard.items() if count > 1]
    assert len([key for key in per_shard if key[1] == "1"]) == REQUESTS // SHARD
    assert len(per_shard) > REQUESTS // SHARD, "the line failures were sent again, in later attempts"
    assert uploads == [], f"leaked uploads: {uploads}"


def test_a_job_on_message_batches_killed_again_and_again_ends_with_every_request_once(
    server: LocalServer, tmp_path: Path
) -> None:
    killed, last = run_with_kills(server, "anthropic", tmp_path)
    assert sum(killed.values()) >= 12, dict(killed)
    assert set(killed) >= {"create", "create-intent", "download", "merge", "outside"}, dict(killed)
    assert last == f"completed {REQUESTS} 0 0"
    with AnthropicBatchClient(base_url=server.base_url.removesuffix("/v1"), api_key=KEY) as client:
        check_results(tmp_path, client)
        succeeded: Counter[str] = Counter()
        errored = 0
        for batch in client.messages.batches.list(limit=100):
            with client.messages.batches.results(batch.id) as results:
                for result in results:
                    if result.result.type == "succeeded":
                        succeeded[result.custom_id] += 1
                    else:
                        errored += 1
    assert errored > 0, "some lines failed and were sent again"
    twice = [custom_id for custom_id, count in succeeded.items() if count > 1]
    assert twice == [], f"{len(twice)} requests ran twice, e.g. {twice[:5]}"
    assert len(succeeded) == REQUESTS
