"""The stalled-runner test: a runner paused past its lease, a second runner taking over, the first one continued.

Runner A is the library (`client.jobs.run(..., lease_seconds=3)`, sync or async) in a child process,
`stalled_runner_child.py`, which logs every HTTP request it sends. Once A has a batch at the service it is stopped
with SIGSTOP (as Ctrl-Z, a sleeping laptop or a paused VM stop it) for longer than its lease; runner B,
`openai-batches job resume --lease-seconds 3`, takes the job over; then A is continued with SIGCONT. The server
ignores `Idempotency-Key` (`ignore_idempotency_key=True`), as the public API does for batches and files, so a stale
runner's create is a real second batch and nothing but the job's own fencing prevents it. Then:

- A stops on its own within seconds, with exit status 9 (`JobLeaseLostError`) and no traceback, and its request
  log holds no POST or DELETE sent after it was continued: it changed nothing at the service once continued;
- B finishes the job (exit 0);
- the server holds, for every shard, attempt and submission of the job, at most one batch that is not cancelled and
  exactly one that completed, no batch still running, and no upload of the job (each is deleted after its batch);
- every custom_id of the input has exactly one line in the merged results (`job results`), in input order, and the
  counts of `job status --json` are those of that file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from openai_batches import BatchClient
from openai_batches_server import LocalServer, run_server

pytestmark = pytest.mark.timeout(240)

KEY = "sk-stalled-runner-0123456789"
NAME = "stalled"
REQUESTS = 2000
SHARD = 100  # 20 shards, two in flight: B has most of the job left when A is continued
LEASE = 3  # seconds: `lease_seconds=3`, `--lease-seconds 3`
PAUSE = LEASE + 2.0  # how long A stays stopped: past its lease, with a margin
TICK = 0.005  # seconds per request line and status step at the server: a batch of 100 lines takes about 0.5 s
EXIT_LEASE_LOST = 9
CHILD = Path(__file__).with_name("stalled_runner_child.py")
CHANGES = ("POST", "DELETE", "PUT", "PATCH")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=TICK, ignore_idempotency_key=True) as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[BatchClient]:
    with BatchClient(api_key=KEY, base_url=server.base_url) as opened:
        yield opened


def environment(server: LocalServer) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url, PYTHONUNBUFFERED="1")
    return env


def write_input(path: Path) -> list[str]:
    ids = [f"q-{i:05d}" for i in range(REQUESTS)]
    with path.open("w") as out:
        for custom_id in ids:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {custom_id}"}]}
            line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
            out.write(json.dumps(line) + "\n")
    return ids


def read_log(path: Path) -> list[tuple[float, str, str]]:
    """A's request log: (time.time() when sent, method, path), in the order sent."""
    if not path.exists():
        return []
    entries = []
    for raw in path.read_text().splitlines():
        parts = raw.split(" ", 2)
        if len(parts) == 3:  # a line cut short by a kill is left out
            entries.append((float(parts[0]), parts[1], parts[2]))
    return entries


def text_of(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def job_batches(client: BatchClient) -> list[dict[str, Any]]:
    batches = [batch.to_dict() for batch in client.batches.list(limit=100)]  # every page
    return [b for b in batches if (b.get("metadata") or {}).get("job") == NAME]


def cli(server: LocalServer, state: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "openai_batches", "job", *argv, "--state-dir", str(state)]
    return subprocess.run(command, env=environment(server), capture_output=True, text=True, timeout=120)


def stop_when_submitted(a: subprocess.Popen[bytes], client: BatchClient, log: Path, a_err: Path) -> float:
    """SIGSTOP A once it has a batch at the service, at a moment it is between requests; the time it was stopped.

    A stopped between checking its lease and sending a request would send that request when continued, which the
    design allows (its holder's reconcile cancels it) but this test's log check would count; stopping A while it
    sleeps between polls keeps that window out of the test.
    """
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if a.poll() is not None:
            pytest.fail(
                f"runner A exited with status {a.returncode} before it had a batch at the service:\n{text_of(a_err)}"
            )
        entries = read_log(log)
        idle = not entries or time.time() - entries[-1][0] > 0.03
        if idle and job_batches(client):
            # Read the log again: A may have sent something while the server was asked.
            entries = read_log(log)
            if not entries or time.time() - entries[-1][0] > 0.03:
                a.send_signal(signal.SIGSTOP)
                return time.time()
        time.sleep(0.01)
    pytest.fail(
        f"runner A had no batch at the service after 90 s; its log holds {len(read_log(log))} requests\n"
        f"{text_of(a_err)}"
    )


def wait_for_takeover(b: subprocess.Popen[bytes], b_err: Path) -> float:
    """Wait until B reports progress (it holds the job: a runner reports only once it holds the lease)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(f" job {NAME} " in line for line in text_of(b_err).splitlines()):
            return time.time()
        if b.poll() is not None:
            pytest.fail(f"runner B exited with status {b.returncode} before it took the job over:\n{text_of(b_err)}")
        time.sleep(0.02)
    pytest.fail(f"runner B did not take the job over within 90 s; its stderr:\n{text_of(b_err)}")


def finish(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()  # SIGKILL ends a stopped process too
        process.wait(30)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stalled_runner_continued_after_a_takeover_changes_nothing(
    mode: str, server: LocalServer, client: BatchClient, tmp_path: Path
) -> None:
    started = time.monotonic()
    ids = write_input(tmp_path / "requests.jsonl")
    state = tmp_path / "state"
    log, a_out, a_err = tmp_path / "a.log", tmp_path / "a.stdout", tmp_path / "a.stderr"
    b_out, b_err = tmp_path / "b.stdout", tmp_path / "b.stderr"
    env = environment(server)
    a: subprocess.Popen[bytes] | None = None
    b: subprocess.Popen[bytes] | None = None
    files: list[IO[bytes]] = []
    try:
        client.jobs.create(
            NAME, tmp_path / "requests.jsonl", max_batch_requests=SHARD, max_in_flight=2, state_dir=state
        )
        files = [a_out.open("wb"), a_err.open("wb"), b_out.open("wb"), b_err.open("wb")]
        a_command = [sys.executable, str(CHILD), mode, server.base_url, KEY, str(state), NAME, str(log), str(LEASE)]
        a = subprocess.Popen(a_command, env=env, stdout=files[0], stderr=files[1])
        t_stop = stop_when_submitted(a, client, log, a_err)
        submitted_by_a = len(job_batches(client))
        time.sleep(PAUSE)
        assert a.poll() is None, f"runner A ended while stopped (status {a.returncode}):\n{text_of(a_err)}"

        b_command = [sys.executable, "-m", "openai_batches", "job", "resume", NAME, "--state-dir", str(state)]
        b_command += ["--lease-seconds", str(LEASE), "--poll-interval", "0.1", "--max-poll-interval", "0.3", "--json"]
        b = subprocess.Popen(b_command, env=env, stdout=files[2], stderr=files[3])
        t_takeover = wait_for_takeover(b, b_err)
        time.sleep(1.0)  # B at work: polling A's batches, submitting the next shards
        assert b.poll() is None, (
            f"runner B ended (status {b.returncode}) before A was continued, so the two never ran at once; "
            f"slow the server down (TICK):\n{text_of(b_err)}"
        )
        t_cont = time.time()
        a.send_signal(signal.SIGCONT)

        try:
            a_status = a.wait(30)
        except subprocess.TimeoutExpired:
            a_status = None
        a_exit_after = time.time() - t_cont
        try:
            b_status = b.wait(150)
        except subprocess.TimeoutExpired:
            pytest.fail(f"runner B did not finish the job within 150 s; its stderr:\n{text_of(b_err)[-3000:]}")
    finally:
        finish(a)
        finish(b)
        for file in files:
            file.close()

    problems: list[str] = []
    entries = read_log(log)
    a_stderr = text_of(a_err)
    timeline = (
        f"[{mode}] A stopped at +0.0 s with {submitted_by_a} batches at the service, B took over at "
        f"+{t_takeover - t_stop:.1f} s, A continued at +{t_cont - t_stop:.1f} s"
    )

    # A stopped by itself, because its lease was lost, and cleanly.
    if a_status is None:
        problems.append(f"runner A was still running 30 s after it was continued (killed); stderr:\n{a_stderr[-3000:]}")
    elif a_status != EXIT_LEASE_LOST:
        problems.append(
            f"runner A exited with status {a_status} {a_exit_after:.1f} s after it was continued, not "
            f"{EXIT_LEASE_LOST} (JobLeaseLostError); stderr:\n{a_stderr[-3000:]}"
        )
    elif a_exit_after > 15:
        problems.append(f"runner A took {a_exit_after:.1f} s after it was continued to notice its lost lease")
    if "Traceback" in a_stderr and a_status == EXIT_LEASE_LOST:
        problems.append(f"runner A printed a traceback:\n{a_stderr[-3000:]}")
    before = [(m, p) for t, m, p in entries if t <= t_stop]
    if ("POST", "/v1/batches") not in before:
        problems.append(f"harness: A's log shows no batch created before it was stopped ({len(before)} requests)")
    changes = [f"+{t - t_cont:.3f} s {m} {p}" for t, m, p in entries if t > t_cont and m in CHANGES]
    if changes:
        problems.append(
            f"runner A sent {len(changes)} requests that change the service after it was continued: "
            + ", ".join(changes[:20])
            + (" ..." if len(changes) > 20 else "")
        )

    # B finished the job.
    b_stderr = text_of(b_err)
    if b_status != 0:
        problems.append(f"runner B exited with status {b_status}, not 0; stderr:\n{b_stderr[-3000:]}")
    elif "Traceback" in b_stderr:
        problems.append(f"runner B printed a traceback:\n{b_stderr[-3000:]}")

    # The service: one batch per shard, attempt and submission, none running, no upload left.
    batches = job_batches(client)
    uploads = [f"{file.filename} ({file.id})" for file in client.files.list(purpose="batch")]
    groups: defaultdict[tuple[int, int, int], list[str]] = defaultdict(list)
    for batch in batches:
        meta = batch["metadata"]
        groups[(int(meta["shard"]), int(meta["attempt"]), int(meta["submission"]))].append(
            f"{batch['id']} {batch['status']}"
        )
    for (shard, attempt, submission), found in sorted(groups.items()):
        live = [entry for entry in found if not entry.endswith(" cancelled")]
        completed = [entry for entry in found if entry.endswith(" completed")]
        if len(live) > 1 or len(completed) != 1:
            problems.append(
                f"shard {shard} attempt {attempt} submission {submission}: {len(live)} batches not cancelled and "
                f"{len(completed)} completed (want at most 1 and exactly 1): {', '.join(found)}"
            )
    shards = {shard for shard, _, _ in groups}
    if len(shards) != REQUESTS // SHARD:
        problems.append(f"batches of {len(shards)} shards at the service, want {REQUESTS // SHARD}")
    running = [f"{b['id']} {b['status']}" for b in batches if b["status"] not in ("completed", "failed", "cancelled")]
    if running:
        problems.append(f"batches of the job still running at the service: {', '.join(running)}")
    if uploads:
        problems.append(f"{len(uploads)} uploads left at the service: {', '.join(uploads[:10])}")

    # The merged results against the input and against `job status`.
    status = cli(server, state, "status", NAME, "--json")
    merged = tmp_path / "merged.jsonl"
    results = cli(server, state, "results", NAME, "-o", str(merged))
    if status.returncode != 0 or results.returncode != 0:
        problems.append(
            f"job status exited {status.returncode}, job results {results.returncode}:\n{status.stderr}{results.stderr}"
        )
    else:
        document = json.loads(status.stdout)
        lines = [json.loads(raw) for raw in merged.read_text().splitlines()]
        seen = Counter(line["custom_id"] for line in lines)
        twice = sorted(custom_id for custom_id, count in seen.items() if count > 1)
        absent = sorted(set(ids) - set(seen))
        unknown = sorted(set(seen) - set(ids))
        if twice or absent or unknown:
            problems.append(
                f"merged results: {len(twice)} custom_ids more than once {twice[:5]}, {len(absent)} missing "
                f"{absent[:5]}, {len(unknown)} not in the input {unknown[:5]}"
            )
        elif [line["custom_id"] for line in lines] != ids:
            problems.append("merged results are not in input order")
        ok = sum(
            1 for line in lines if not line.get("error") and (line.get("response") or {}).get("status_code") == 200
        )
        counts = {key: document["summary"][key] for key in ("requests", "succeeded", "failed", "missing", "cancelled")}
        counts["pending"] = document["pending"]
        file_counts = {
            "requests": len(lines),
            "succeeded": ok,
            "not succeeded": len(lines) - ok,
            "pending": 0,
        }
        status_counts = {
            "requests": counts["requests"],
            "succeeded": counts["succeeded"],
            "not succeeded": counts["failed"] + counts["missing"] + counts["cancelled"],
            "pending": counts["pending"],
        }
        if document["status"] != "completed" or status_counts != file_counts:
            problems.append(f"job status says {document['status']} with {counts}; the merged file holds {file_counts}")
        if ok != REQUESTS:
            problems.append(f"{ok} of {REQUESTS} requests succeeded in the merged results (the server answers all)")

    elapsed = time.monotonic() - started
    print(
        f"{timeline}; A exited {a_status} {a_exit_after:.1f} s after SIGCONT; {len(batches)} batches; {elapsed:.1f} s"
    )
    assert not problems, timeline + "\n- " + "\n- ".join(problems)
