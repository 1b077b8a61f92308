"""Jobs against the local server, sync and async: results, retries, the token budget, cancel, delete, the lease.

Each test states its server: `tick=0` makes every batch instant; a server built from a `ServerConfig` with a
`step_seconds` keeps batches in progress long enough to hold tokens or to be cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_batches import AsyncBatchClient, BatchClient, BatchInputError, BatchRequest, InvalidParameterError
from openai_batches.jobs import (
    Job,
    JobAccountError,
    JobBusyError,
    JobConflictError,
    JobInputChangedError,
    JobNotFoundError,
    ModelPrice,
    default_state_dir,
)
from openai_batches.jobs.store import open_store
from openai_batches_server import LocalServer, ServerConfig, run_server

KEY = "sk-jobs-test-0123456789abcdef"
OTHER_KEY = "sk-jobs-other-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.2}
MODES = ["sync", "async"]


def request(custom_id: str, text: str = "one two three four", model: str = "gpt-4o-mini") -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def write_input(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def call(mode: str, server: LocalServer, method: str, *args: Any, key: str = KEY, **kwargs: Any) -> Any:
    """`client.jobs.<method>(...)` on a fresh BatchClient, or awaited on a fresh AsyncBatchClient."""
    if mode == "sync":
        with BatchClient(api_key=key, base_url=server.base_url) as client:
            return getattr(client.jobs, method)(*args, **kwargs)

    async def main() -> Any:
        async with AsyncBatchClient(api_key=key, base_url=server.base_url) as client:
            return await getattr(client.jobs, method)(*args, **kwargs)

    return asyncio.run(main())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY, OTHER_KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def batch_uploads(server: LocalServer, key: str = KEY) -> list[str]:
    with BatchClient(api_key=key, base_url=server.base_url) as client:
        return [file.filename for file in client.files.list(purpose="batch")]


def server_batches(server: LocalServer) -> list[dict[str, Any]]:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        return [batch.to_dict() for batch in client.batches.list(limit=100)]


# --- a whole job ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_job_runs_to_one_merged_result_per_request(mode: str, server: LocalServer, state: Path) -> None:
    lines = [request(f"q-{i}", f"question {i}") for i in range(30)]
    lines[4]["custom_id"] = "fail-q-4"  # the local server answers it 400: final at once, reported
    path = write_input(state.parent / "requests.jsonl", lines)
    updates: list[Job] = []
    job = call(mode, server, "create", "eval", path, max_batch_requests=7, state_dir=state)
    assert (job.status, job.requests, job.endpoint, job.pending) == ("created", 30, CHAT, 30)
    job = call(mode, server, "run", job, on_update=updates.append, **FAST)
    assert (job.status, job.succeeded, job.failed, job.pending, job.batches_in_flight) == ("completed", 29, 1, 0, 0)
    assert updates and all(isinstance(update, Job) for update in updates)
    assert updates[-1].status == "completed" and updates[0].succeeded <= updates[-1].succeeded

    results = list(job.results())
    assert [r.custom_id for r in results] == [line["custom_id"] for line in lines]
    assert results[0].ok and results[0].text == "Echo: question 0"
    assert results[4].status_code == 400 and results[4].error is not None
    assert job.write_results(state.parent / "merged.jsonl") == 30
    merged = [json.loads(line) for line in (state.parent / "merged.jsonl").read_text().splitlines()]
    assert [line["custom_id"] for line in merged] == [line["custom_id"] for line in lines]
    assert merged[4]["response"]["status_code"] == 400

    summary = job.summary(prices={"gpt-4o-mini": ModelPrice(input=0.075, output=0.30)})
    assert (summary.batches, summary.attempts, summary.retried) == (5, {1: 30}, 0)
    assert summary.input_tokens > 0 and summary.output_tokens > 0
    expected = (summary.input_tokens * 0.075 + summary.output_tokens * 0.30) / 1e6
    assert summary.cost == pytest.approx(expected) and summary.cost_by_model == {"gpt-4o-mini": pytest.approx(expected)}
    assert "succeeded 29, failed 1" in str(summary)
    assert batch_uploads(server) == [], "every upload is deleted once its batch has ended"
    metadata = sorted((b["metadata"]["shard"], b["metadata"]["attempt"]) for b in server_batches(server))
    assert metadata == sorted((str(shard), "1") for shard in range(1, 6))

    again = call(mode, server, "run", "eval", state_dir=state, **FAST)
    assert again.succeeded == 29 and len(server_batches(server)) == 5, "running a finished job sends nothing"


@pytest.mark.parametrize("mode", MODES)
def test_iterable_input_is_spooled_once_and_matches_on_the_second_create(
    mode: str, server: LocalServer, state: Path
) -> None:
    requests = [
        BatchRequest.chat(f"r{i}", model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]) for i in range(5)
    ]
    job = call(mode, server, "create", "spooled", requests, state_dir=state)
    assert job.input_path == state / "jobs" / "spooled" / "input.jsonl" and job.input_path.is_file()
    same = call(mode, server, "create", "spooled", iter(requests), max_attempts=5, state_dir=state)
    assert (same.requests, same.max_attempts) == (5, 5), "the same input returns the job, with settings updated"
    with pytest.raises(JobConflictError, match="already exists with other input"):
        call(mode, server, "create", "spooled", requests[:4], state_dir=state)
    assert not list((state / "jobs" / "spooled").glob(".input-*")), "a refused spool leaves nothing behind"
    done = call(mode, server, "run", "spooled", state_dir=state, **FAST)
    assert done.succeeded == 5


def test_a_job_of_two_models_shards_per_model(server: LocalServer, state: Path) -> None:
    lines = [request(f"r{i}", model=("gpt-4o-mini", "gpt-4o")[i % 2]) for i in range(10)]
    path = write_input(state.parent / "in.jsonl", lines)
    job = call("sync", server, "create", "mixed", path, state_dir=state)
    job = call("sync", server, "run", job, **FAST)
    assert job.succeeded == 10
    assert sorted(b["model"] for b in server_batches(server)) == ["gpt-4o", "gpt-4o-mini"]
    assert [r.custom_id for r in job.results()] == [f"r{i}" for i in range(10)]


# --- retries -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_five_percent_of_lines_failing_with_500_on_the_first_attempt_all_end_succeeded(
    mode: str, tmp_path: Path
) -> None:
    with run_server(
        tmp_path / "data",
        api_keys=[KEY],
        tick=0,
        ignore_idempotency_key=True,
        line_failure_rate=0.05,
        line_failure_status=500,
        line_failure_attempts=1,
    ) as server:
        path = write_input(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(600)])
        job = call(
            mode, server, "create", "retry", path, max_batch_requests=100, max_attempts=3, state_dir=tmp_path / "s"
        )
        job = call(mode, server, "run", job, **FAST)
        assert (job.succeeded, job.failed, job.missing) == (600, 0, 0)
        summary = job.summary()
        assert 10 <= summary.retried <= 60 and summary.attempts == {1: 600 - summary.retried, 2: summary.retried}
        attempts = {b["metadata"]["attempt"] for b in server_batches(server)}
        assert attempts == {"1", "2"}
        assert all(r.ok for r in job.results())


def test_lines_failing_with_400_are_final_after_one_attempt_and_reported(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data",
        api_keys=[KEY],
        tick=0,
        ignore_idempotency_key=True,
        line_failure_rate=0.1,
        line_failure_status=400,
    ) as server:
        path = write_input(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(300)])
        job = call("sync", server, "create", "final", path, max_batch_requests=100, state_dir=tmp_path / "s")
        job = call("sync", server, "run", job, **FAST)
        assert job.failed > 10 and job.succeeded + job.failed == 300
        assert job.summary().attempts == {1: 300}
        failed = [r for r in job.results() if not r.ok]
        assert len(failed) == job.failed and all(r.status_code == 400 for r in failed)
        assert len(server_batches(server)) == 3


# --- the enqueued-token limit --------------------------------------------------------------------------------------

# Ten requests of four words: 40 tokens by the local server's count. A limit of 100 admits two such batches at once.
SERVER_LIMIT = 100


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[LocalServer]:
    config = ServerConfig(
        data_dir=tmp_path / "data", port=0, api_keys=(KEY,), step_seconds=0.15, enqueued_token_limit=SERVER_LIMIT
    )
    with LocalServer(config) as running:
        yield running


def enqueued_peak(server: LocalServer) -> int:
    return server.storage.enqueued_token_peak(hashlib.sha256(KEY.encode()).hexdigest(), "gpt-4o-mini")


def refused(server: LocalServer) -> int:
    return sum(
        1
        for batch in server_batches(server)
        if batch["status"] == "failed" and batch["errors"]["data"][0]["code"] == "token_limit_exceeded"
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_client_budget_keeps_a_ten_shard_job_under_the_service_limit(
    mode: str, limited: LocalServer, tmp_path: Path
) -> None:
    path = write_input(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(100)])
    job = call(mode, limited, "create", "budget", path, max_batch_requests=10, state_dir=tmp_path / "s")
    per_shard = job.estimated_tokens // 10
    # The client's estimate (characters) is above the server's count (words): a budget of two shards by the
    # client's count keeps the server at two shards at most.
    job = call(mode, limited, "create", "budget", path, enqueued_token_limit=2 * per_shard, state_dir=tmp_path / "s")
    job = call(mode, limited, "run", job, **FAST)
    assert (job.succeeded, job.failed) == (100, 0)
    assert refused(limited) == 0 and job.summary().token_limit_refusals == 0
    assert len(server_batches(limited)) == 10
    assert enqueued_peak(limited) == 80 <= SERVER_LIMIT, "two shards at once, never more"


@pytest.mark.parametrize("mode", MODES)
def test_without_a_budget_the_job_recovers_from_the_services_refusals(
    mode: str, limited: LocalServer, tmp_path: Path
) -> None:
    path = write_input(tmp_path / "in.jsonl", [request(f"r{i}") for i in range(100)])
    job = call(mode, limited, "create", "nobudget", path, max_batch_requests=10, state_dir=tmp_path / "s")
    job = call(mode, limited, "run", job, **FAST)
    assert (job.succeeded, job.failed, job.missing) == (100, 0, 0), "a refusal never fails a request"
    summary = job.summary()
    assert summary.attempts == {1: 100}, "a refused batch is not an attempt"
    assert summary.token_limit_refusals == refused(limited) > 0
    assert summary.batches == 10 + summary.token_limit_refusals
    assert summary.token_budgets["gpt-4o-mini"] > 0 and summary.notes
    assert enqueued_peak(limited) <= SERVER_LIMIT


# --- create: what is refused -------------------------------------------------------------------------------------


def test_bad_input_is_refused_before_anything_is_recorded(server: LocalServer, state: Path) -> None:
    lines = [request(f"r{i}") for i in range(6000)]
    lines[5500]["custom_id"] = "r10"
    path = write_input(state.parent / "dup.jsonl", lines)
    with pytest.raises(BatchInputError, match=r"line 5501: custom_id 'r10' is already used on line 11") as caught:
        call("sync", server, "create", "dup", path, state_dir=state)
    assert caught.value.reason == "duplicate_custom_id"
    with pytest.raises(JobNotFoundError):
        call("sync", server, "get", "dup", state_dir=state)
    bad = write_input(
        state.parent / "bad.jsonl", [request("a"), {"custom_id": "b", "method": "GET", "url": CHAT, "body": {}}]
    )
    with pytest.raises(BatchInputError, match="line 2: method must be 'POST'"):
        call("sync", server, "create", "bad", bad, state_dir=state)
    (state.parent / "empty.jsonl").write_text("\n")
    with pytest.raises(InvalidParameterError, match="holds no requests"):
        call("sync", server, "create", "empty", state.parent / "empty.jsonl", state_dir=state)
    with pytest.raises(InvalidParameterError, match="no such file"):
        call("sync", server, "create", "missing", state.parent / "nope.jsonl", state_dir=state)
    for name in ("", "a b", "../x", "x" * 65, 5):
        with pytest.raises(InvalidParameterError, match="job name"):
            call("sync", server, "create", name, path, state_dir=state)
    with pytest.raises(InvalidParameterError, match="max_attempts"):
        call("sync", server, "create", "x", path, max_attempts=0, state_dir=state)
    with pytest.raises(BatchInputError, match="more than enqueued_token_limit"):
        call("sync", server, "create", "x", path, enqueued_token_limit=3, state_dir=state)
    assert call("sync", server, "list", state_dir=state) == []


def test_a_job_runs_only_under_its_own_account_and_input(server: LocalServer, state: Path) -> None:
    path = write_input(state.parent / "in.jsonl", [request(f"r{i}") for i in range(3)])
    call("sync", server, "create", "mine", path, state_dir=state)
    with pytest.raises(JobAccountError, match="another API key") as caught:
        call("sync", server, "run", "mine", key=OTHER_KEY, state_dir=state)
    assert KEY not in str(caught.value) and OTHER_KEY not in str(caught.value)
    elsewhere = server.base_url.replace("127.0.0.1", "localhost")
    with (
        BatchClient(api_key=KEY, base_url=elsewhere) as client,
        pytest.raises(JobAccountError, match="created against"),
    ):
        client.jobs.run("mine", state_dir=state)
    assert KEY.encode() not in (state / "jobs.sqlite3").read_bytes(), "the store keeps a fingerprint, never the key"
    path.write_text(path.read_text().replace("r2", "r9"))
    with pytest.raises(JobInputChangedError, match=r"job mine: its input .* changed"):
        call("sync", server, "run", "mine", state_dir=state)


# --- one runner per job ----------------------------------------------------------------------------------------------


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[LocalServer]:
    config = ServerConfig(data_dir=tmp_path / "slow", port=0, api_keys=(KEY,), step_seconds=0.4)
    with LocalServer(config) as running:
        yield running


@pytest.mark.parametrize("mode", MODES)
def test_a_second_run_of_a_running_job_stops_at_once(mode: str, slow: LocalServer, state: Path) -> None:
    path = write_input(state.parent / "in.jsonl", [request(f"r{i}") for i in range(4)])
    call("sync", slow, "create", "busy", path, state_dir=state)
    started = threading.Event()
    done: list[Job] = []
    runner = threading.Thread(
        target=lambda: done.append(
            call("sync", slow, "run", "busy", on_update=lambda job: started.set(), state_dir=state, **FAST)
        )
    )
    runner.start()
    assert started.wait(10)
    begun = time.monotonic()
    with pytest.raises(JobBusyError, match="job busy is already being run by this process"):
        call(mode, slow, "run", "busy", state_dir=state)
    assert time.monotonic() - begun < 2
    runner.join(20)
    assert done and done[0].succeeded == 4


def test_the_lease_of_a_process_that_died_is_taken_over(server: LocalServer, state: Path) -> None:
    path = write_input(state.parent / "in.jsonl", [request("r0")])
    call("sync", server, "create", "orphan", path, state_dir=state)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with open_store(state) as store:
        record = store.get_job("orphan")
        assert record is not None
        store.update_job(
            record.id,
            {
                "lease_holder": "gone",
                "lease_pid": int(dead.stdout),
                "lease_host": socket.gethostname(),
                "lease_heartbeat": time.time(),
            },
        )
    assert call("sync", server, "run", "orphan", state_dir=state, **FAST).succeeded == 1


# --- stop, cancel, delete ------------------------------------------------------------------------------------------


class Stop(BaseException):
    pass


@pytest.mark.parametrize("mode", MODES)
def test_an_interrupted_run_resumes_and_cancel_keeps_what_finished(mode: str, slow: LocalServer, state: Path) -> None:
    path = write_input(state.parent / "in.jsonl", [request(f"r{i}") for i in range(20)])
    call(mode, slow, "create", "stop", path, max_batch_requests=4, max_in_flight=2, state_dir=state)

    def interrupt(job: Job) -> None:
        if job.succeeded >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        call(mode, slow, "run", "stop", on_update=interrupt, state_dir=state, **FAST)
    stopped = call(mode, slow, "get", "stop", state_dir=state)
    assert stopped.status == "in_progress" and stopped.runner is None, "an interrupted run frees the job"
    assert 4 <= stopped.succeeded < 20
    cancelled = call(mode, slow, "cancel", "stop", wait=True, state_dir=state)
    assert cancelled.status == "cancelled" and cancelled.pending == 0
    assert cancelled.succeeded >= stopped.succeeded and cancelled.cancelled > 0
    assert cancelled.succeeded + cancelled.cancelled == 20
    codes = {r.error.code for r in cancelled.results() if r.error is not None}
    assert codes == {"cancelled"}
    assert batch_uploads(slow) == []
    statuses = {b["status"] for b in server_batches(slow)}
    assert statuses <= {"completed", "cancelled"}
    assert call(mode, slow, "cancel", "stop", state_dir=state).status == "cancelled", "cancelling twice is harmless"


@pytest.mark.parametrize("mode", MODES)
def test_delete_forgets_the_job_and_with_remote_files_its_files(mode: str, server: LocalServer, state: Path) -> None:
    path = write_input(state.parent / "in.jsonl", [request(f"r{i}") for i in range(6)] + [request("fail-x")])
    for name in ("keep", "wipe"):
        call(mode, server, "create", name, path, max_batch_requests=4, state_dir=state)
        call(mode, server, "run", name, state_dir=state, **FAST)
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        outputs = {file.id for file in client.files.list(purpose="batch_output")}
    assert len(outputs) == 6  # two batches per job, each with an output and an error file
    call(mode, server, "delete", "wipe", remote_files=True, state_dir=state)
    call(mode, server, "delete", "keep", state_dir=state)
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        left = {file.id for file in client.files.list(purpose="batch_output")}
    assert len(left) == 3 and left < outputs
    assert call(mode, server, "list", state_dir=state) == []
    assert not (state / "jobs" / "wipe").exists()
    with pytest.raises(JobNotFoundError, match="no job named 'wipe'"):
        call(mode, server, "get", "wipe", state_dir=state)


def test_get_and_list_read_the_state_directory(
    server: LocalServer, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(state))
    path = write_input(state.parent / "in.jsonl", [request("r0"), request("r1")])
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        first = client.jobs.create("first", path)
        second = client.jobs.create("second", path, max_in_flight=2)
        assert [job.name for job in client.jobs.list()] == ["first", "second"]
        assert first.state_dir == state and second.max_in_flight == 2
        pending = client.jobs.get("second")
        assert pending.pending == 2 and not pending.finished
        assert [(r.custom_id, r.error.code if r.error else None) for r in pending.results()] == [
            ("r0", "pending"),
            ("r1", "pending"),
        ]
        assert "0 of 2 requests final" in str(pending)


def test_the_default_state_directory() -> None:
    home = Path.home()
    assert default_state_dir({}) == home / ".local" / "state" / "openai-batches"
    assert default_state_dir({"XDG_STATE_HOME": "/var/state"}) == Path("/var/state/openai-batches")
    assert default_state_dir({"XDG_STATE_HOME": "relative"}) == home / ".local" / "state" / "openai-batches"
    assert default_state_dir({"OPENAI_BATCHES_STATE_DIR": "/tmp/jobs", "XDG_STATE_HOME": "/x"}) == Path("/tmp/jobs")


def test_importing_the_client_does_not_load_the_jobs(tmp_path: Path) -> None:
    code = (
        "import sys; from openai_batches import BatchClient; "
        "print(any(m.startswith('openai_batches.jobs') for m in sys.modules), 'sqlite3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.split() == ["False", "False"]
