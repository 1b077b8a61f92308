"""The crash test: a 5,000-request job run as a real process, killed with SIGKILL again and again, then finished.

Each run is `openai-batches job run` in a subprocess against a local server in this process that ignores
`Idempotency-Key`, as the public API does, so a request sent twice would be made twice. Most runs kill
themselves at a named point (`OPENAI_BATCHES_JOBS_CRASH=POINT:N`): between an upload and its record, before and
after a create, mid-download, mid-merge, after a merge, after deleting an upload, after a poll, while planning and
while reading the input; the points cycle so that the kills spread over the whole run. A few more runs are killed
from outside at random moments. At the end one run finishes the job, and then:

- every custom_id has exactly one result, in input order, and every request succeeded;
- the server holds exactly one batch per shard and attempt (no duplicate from a replayed create);
- no upload is left on the server (none leaked by a run that died between uploading and recording).

What it proves is survival of a killed process: SIGKILL drops what the process held, not what the kernel had
accepted. A power cut also drops what was written but not yet on disk; that the store and the job's files are
synced before a step counts as done (SQLite synchronous=FULL, fsync before each rename and of its folder after) is
checked by reading the code and `tests/test_jobs_durability.py`, not by this test.
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
from openai_batches import BatchClient
from openai_batches_server import LocalServer, run_server

pytestmark = [pytest.mark.crash, pytest.mark.timeout(240)]

KEY = "sk-crash-test-0123456789"
REQUESTS = 5000
SHARD = 50  # 100 shards, two in flight: each run gets only a little way before it is killed
# Points in the order a shard meets them, passed again and again; "ingest" and "plan" only by the first runs.
POINTS = ["upload", "create-intent", "create", "poll", "download", "downloaded", "merge", "merged", "delete"]
KILLS = 36


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    # As the public API does: a replayed upload or create makes a second one, so only the job's own records and
    # its look-before-resend keep it exactly once.
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


def job_command(state: Path, path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "openai_batches",
        "job",
        "run",
        "crash",
        str(path),
        "--state-dir",
        str(state),
        "--max-batch-requests",
        str(SHARD),
        "--max-in-flight",
        "2",
        "--poll-interval",
        "0.02",
        "--max-poll-interval",
        "0.1",
        "--quiet",
        "--json",
    ]


def environment(server: LocalServer, crash: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url)
    if crash is not None:
        env["OPENAI_BATCHES_JOBS_CRASH"] = crash
    return env


def test_a_job_killed_at_every_point_resumes_without_loss_or_duplicate(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with path.open("w") as out:
        for i in range(REQUESTS):
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}]}
            out.write(
                json.dumps({"custom_id": f"q-{i:05d}", "method": "POST", "url": "/v1/chat/completions", "body": body})
            )
            out.write("\n")
    state = tmp_path / "state"
    command = job_command(state, path)
    rng = random.Random(20251201)

    schedule = ["ingest:1", "plan:3"] + [f"{point}:{1 + round % 2}" for round in range(6) for point in POINTS]
    killed: Counter[str] = Counter()
    for number, crash in enumerate(schedule):
        if sum(killed.values()) >= KILLS:
            break
        if number % 8 == 4:
            # Now and then a kill from outside, at a random moment of a run.
            process = subprocess.Popen(command, env=environment(server, None), stdout=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 0.8))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            if process.wait(60) == -signal.SIGKILL:
                killed["outside"] += 1
        done = subprocess.run(command, env=environment(server, crash), capture_output=True, text=True, timeout=60)
        assert done.returncode in (0, -signal.SIGKILL), f"{crash}: exit {done.returncode}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode == -signal.SIGKILL:
            killed[crash.partition(":")[0]] += 1

    finished = subprocess.run(command, env=environment(server, None), capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)

    assert sum(killed.values()) >= 30, f"only {sum(killed.values())} kills: {dict(killed)}"
    assert set(killed) >= {"ingest", "plan", "upload", "create-intent", "create", "download", "merge", "merged"}, dict(
        killed
    )
    assert killed["outside"] >= 1

    # Every request has exactly one result, in input order.
    assert report["status"] == "completed" and report["summary"]["succeeded"] == REQUESTS
    merged = tmp_path / "merged.jsonl"
    results = subprocess.run(
        [
            sys.executable,
            "-m",
            "openai_batches",
            "job",
            "results",
            "crash",
            "-o",
            str(merged),
            "--state-dir",
            str(state),
        ],
        env=environment(server, None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert results.returncode == 0, results.stderr
    lines = [json.loads(line) for line in merged.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == [f"q-{i:05d}" for i in range(REQUESTS)]
    assert all(line["response"]["status_code"] == 200 for line in lines)

    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        batches = [batch.to_dict() for batch in client.batches.list(limit=100)]  # every page
        uploads = [file.filename for file in client.files.list(purpose="batch")]
    per_shard = Counter((b["metadata"]["shard"], b["metadata"]["attempt"]) for b in batches)
    assert len(per_shard) == REQUESTS // SHARD
    assert len(batches) == REQUESTS // SHARD
    assert max(per_shard.values()) == 1, [key for key, count in per_shard.items() if count > 1]
    assert uploads == [], f"leaked uploads: {uploads}"
    assert report["summary"]["batches"] == len(batches)
