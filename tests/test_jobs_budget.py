"""A job's cost budget (`max_cost=`): the core's gate with data, then whole jobs against the local server.

The core holds a planned shard back when the estimate of what is done, in flight and the shard would pass the
budget; lets what is in flight end; pauses the job once nothing is in flight and nothing left fits; and resumes a
paused job once its budget admits a shard. Against the local server, sync and async: a small budget pauses with
requests pending and spend within it, a run of the paused job sends nothing, a higher budget finishes the job with
one result per request and no second batch for any shard; the command line exits 9 saying so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobs_support import line, new_job
from openai_batches import AsyncBatchClient, BatchClient, InvalidParameterError
from openai_batches.cli import EXIT_BUSY, main
from openai_batches.jobs.actions import Create, Poll, Upload
from openai_batches.jobs.budget import Spend, check_max_cost, output_bound, spend_of
from openai_batches.jobs.core import JobCore, JobView
from openai_batches.jobs.effects import SetJobStatus
from openai_batches.jobs.planning import plan_shards
from openai_batches.jobs.records import JobRecord, ModelUsage, ShardRecord, ShardState
from openai_batches.jobs.store import SQLiteJobStore
from openai_batches.prices import price_table
from openai_batches_server import LocalServer, run_server
from test_jobs_decide import job as decided_job

# $0.001 a token, in and out: a shard of 50 estimated input tokens and an output bound of 50 costs $0.10.
PRICE = {"input": 1000.0, "output": 1000.0}
PRICES = json.dumps({"m": {**PRICE, "cached_input": None}})
FOLDER = Path("/nonexistent/state/jobs/eval")


def job(**changes: Any) -> JobRecord:
    """The decision tests' job, with room for eight batches, twenty requests and a $0.25 budget."""
    return decided_job(**{"max_in_flight": 8, "requests": 20, "max_cost": 0.25, "prices": PRICES, **changes})


def shard(shard_id: int, **changes: Any) -> ShardRecord:
    record = ShardRecord(job=1, id=shard_id, attempt=1, model=0, requests=5, bytes=500, tokens=50, max_output=50)
    return dataclasses.replace(record, **changes)


def view(*shards: ShardRecord, **fields: Any) -> JobView:
    return JobView(job=fields.pop("job", job()), shards=shards, models={0: "m"}, **fields)


def core() -> JobCore:
    return JobCore(job(), FOLDER, poll_interval=1.0, max_poll_interval=8.0)


def submitted(shard_id: int) -> ShardRecord:
    return shard(shard_id, state=ShardState.SUBMITTED, file_id=f"file-{shard_id}", batch_id=f"batch_{shard_id}")


# --- the estimate ---------------------------------------------------------------------------------------------------


def test_a_shard_costs_its_input_estimate_and_output_bound_and_a_batch_its_usage() -> None:
    table = price_table({"m": PRICE})
    usage = {0: ModelUsage(0, input_tokens=100, cached_tokens=0, output_tokens=20)}
    spend = spend_of({0: "m"}, usage, table, [submitted(1), shard(2), shard(3, state=ShardState.ENDED)])
    assert spend.done == pytest.approx(0.12), "the batches' real usage"
    assert spend.in_flight == pytest.approx(0.10), "the submitted shard alone: planned and ended ones are not"
    assert spend.shard(shard(2)) == pytest.approx(0.10)


def test_requests_without_a_bound_count_the_mean_output_of_completed_batches() -> None:
    table = price_table({"m": PRICE})
    unbounded = shard(1, max_output=0, unbounded=5)
    assert Spend({0: "m"}, {}, table).shard(unbounded) == pytest.approx(0.05), "nothing learned yet: input alone"
    learned = {0: ModelUsage(0, completed_requests=10, completed_output=80)}
    assert Spend({0: "m"}, learned, table).shard(unbounded) == pytest.approx(0.05 + 5 * 8 / 1000)


def test_the_output_bound_a_request_states() -> None:
    chat = "/v1/chat/completions"
    assert output_bound(chat, {"max_tokens": 30}) == 30
    assert output_bound(chat, {"max_completion_tokens": 40, "max_tokens": 30, "n": 2}) == 80
    assert output_bound("/v1/responses", {"max_output_tokens": 12}) == 12
    assert output_bound(chat, {"max_tokens": True}) is None and output_bound(chat, {}) is None
    assert output_bound("/v1/embeddings", {"input": "x"}) == 0
    assert output_bound("/v1/completions", {"prompt": "x"}) == 16, "that endpoint's default"


@pytest.mark.parametrize("value", [0, -1, 0.0, math.nan, math.inf, -math.inf, "5", True, [1]])
def test_max_cost_must_be_a_positive_finite_number(value: object) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        check_max_cost(value)
    assert raised.value.param == "max_cost" and "max_cost" in str(raised.value)


def test_max_cost_none_is_no_cap() -> None:
    assert check_max_cost(None) is None and check_max_cost(2) == 2.0


# --- the gate in the core -------------------------------------------------------------------------------------------


def test_planned_shards_go_while_the_budget_admits_them_and_the_rest_wait() -> None:
    step = core().decide(view(shard(1), shard(2), shard(3)), 2000.0)
    uploads = [action.shard for action in step.actions if isinstance(action, Upload)]
    assert uploads == [1, 2], "$0.10 + $0.10 fit within $0.25; a third would not"
    assert not step.done and not any(isinstance(effect, SetJobStatus) for effect in step.effects)


def test_what_is_in_flight_is_polled_while_the_budget_holds_back_what_is_planned() -> None:
    step = core().decide(view(submitted(1), submitted(2), shard(3)), 2000.0)
    assert sorted(a.shard for a in step.actions if isinstance(a, Poll)) == [1, 2]
    assert not any(isinstance(action, Upload) for action in step.actions) and not step.done


def test_a_shard_admitted_before_goes_on_to_its_batch_whatever_the_budget() -> None:
    """Exactly once: an uploaded shard is past the gate; stopping it there would leave an upload half-used."""
    uploaded = shard(1, state=ShardState.UPLOADED, file_id="file-1")
    step = core().decide(view(uploaded, job=job(max_cost=0.01)), 2000.0)
    assert [type(action) for action in step.actions] == [Create]


def test_a_retry_shard_counts_against_the_budget_too() -> None:
    done = {0: ModelUsage(0, input_tokens=150, output_tokens=50)}  # $0.20 spent
    step = core().decide(view(shard(4, attempt=2), usage=done), 2000.0)
    assert SetJobStatus("in_progress", "paused") in step.effects and step.done


def test_with_nothing_in_flight_and_nothing_affordable_the_job_pauses() -> None:
    done = {0: ModelUsage(0, input_tokens=100, output_tokens=100)}  # $0.20 spent: a $0.10 shard passes $0.25
    step = core().decide(view(shard(3), shard(4), usage=done), 2000.0)
    assert step.actions == [] and step.effects == [SetJobStatus("in_progress", "paused")] and step.done


def test_a_paused_job_stays_paused_until_its_budget_admits_a_shard() -> None:
    done = {0: ModelUsage(0, input_tokens=100, output_tokens=100)}
    paused = job(status="paused")
    assert core().decide(view(shard(3), job=paused, usage=done), 2000.0).effects == []
    assert core().decide(view(shard(3), job=paused, usage=done), 2000.0).done
    raised = core().decide(view(shard(3), job=dataclasses.replace(paused, max_cost=1.0), usage=done), 2000.0)
    assert raised.effects == [SetJobStatus("paused", "in_progress")] and raised.local
    uncapped = core().decide(view(shard(3), job=dataclasses.replace(paused, max_cost=None), usage=done), 2000.0)
    assert uncapped.effects == [SetJobStatus("paused", "in_progress")]


def test_a_job_without_a_budget_is_not_gated() -> None:
    step = core().decide(view(*(shard(i) for i in range(1, 6)), job=job(max_cost=None)), 2000.0)
    assert len([action for action in step.actions if isinstance(action, Upload)]) == 5


# --- whole jobs against the local server ----------------------------------------------------------------------------

KEY = "sk-jobs-budget-0123456789abcdef"
CHAT = "/v1/chat/completions"
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.2}
MODES = ["sync", "async"]
SERVER_PRICES = {"gpt-4o-mini": PRICE}


def request(custom_id: str, model: str = "gpt-4o-mini") -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": f"say {custom_id}"}], "max_tokens": 10}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def write_input(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def call(mode: str, server: LocalServer, method: str, *args: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        with BatchClient(api_key=KEY, base_url=server.base_url) as client:
            return getattr(client.jobs, method)(*args, **kwargs)

    async def main() -> Any:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            return await getattr(client.jobs, method)(*args, **kwargs)

    return asyncio.run(main())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


def server_batches(server: LocalServer) -> list[dict[str, Any]]:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        return [batch.to_dict() for batch in client.batches.list(limit=100)]


@pytest.mark.parametrize("mode", MODES)
def test_a_job_pauses_at_its_budget_and_goes_on_with_a_higher_one(
    mode: str, server: LocalServer, tmp_path: Path
) -> None:
    lines = [request(f"q-{i}") for i in range(20)]
    path = write_input(tmp_path / "requests.jsonl", lines)
    state = tmp_path / "state"
    created = call(
        mode,
        server,
        "create",
        "capped",
        path,
        max_batch_requests=5,
        max_cost=0.15,
        prices=SERVER_PRICES,
        state_dir=state,
    )
    assert created.max_cost == 0.15

    job = call(mode, server, "run", created, **FAST)
    assert job.status == "paused" and not job.finished
    assert 0 < job.pending < 20 and job.batches_in_flight == 0
    summary = job.summary(prices=SERVER_PRICES)
    assert summary.cost is not None and summary.cost <= 0.15, "what was spent stays within the budget"
    assert summary.budget_spent is not None and summary.budget_spent <= 0.15 and summary.max_cost == 0.15
    assert "paused at its cost budget of $0.1500" in str(summary)
    assert "resume with a higher max_cost" in str(summary)
    first = server_batches(server)

    # Run again with the same budget: nothing is sent, it is paused still.
    again = call(mode, server, "run", "capped", state_dir=state, **FAST)
    assert again.status == "paused" and again.pending == job.pending
    assert len(server_batches(server)) == len(first)

    # The same input, created again with a higher budget: the job goes on to the end.
    raised = call(mode, server, "create", "capped", path, max_cost=10, state_dir=state)
    assert raised.status == "paused" and raised.max_cost == 10.0
    done = call(mode, server, "run", raised, **FAST)
    assert (done.status, done.succeeded, done.pending) == ("completed", 20, 0)
    assert [result.custom_id for result in done.results()] == [line["custom_id"] for line in lines]
    keys = [
        (b["metadata"]["shard"], b["metadata"]["attempt"], b["metadata"]["submission"]) for b in server_batches(server)
    ]
    assert len(keys) == len(set(keys)) == 4, "one batch per shard, none sent twice"
    assert "cost budget $10.00" in str(done.summary())


@pytest.mark.parametrize("mode", MODES)
def test_a_budget_smaller_than_one_shard_sends_nothing(mode: str, server: LocalServer, tmp_path: Path) -> None:
    path = write_input(tmp_path / "requests.jsonl", [request(f"q-{i}") for i in range(5)])
    job = call(mode, server, "create", "tiny", path, max_cost=0.0001, prices=SERVER_PRICES, state_dir=tmp_path / "s")
    job = call(mode, server, "run", job, **FAST)
    assert (job.status, job.pending) == ("paused", 5) and server_batches(server) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", [0, -2.5, math.nan, math.inf, "1.00"])
def test_bad_budgets_are_refused_by_name(mode: str, value: object, server: LocalServer, tmp_path: Path) -> None:
    path = write_input(tmp_path / "requests.jsonl", [request("q-0")])
    with pytest.raises(InvalidParameterError) as raised:
        call(mode, server, "create", "bad", path, max_cost=value, state_dir=tmp_path / "state")
    assert raised.value.param == "max_cost"
    assert call(mode, server, "list", state_dir=tmp_path / "state") == [], "refused before anything was written"


@pytest.mark.parametrize("mode", MODES)
def test_a_model_without_a_price_is_refused_when_a_budget_is_set(
    mode: str, server: LocalServer, tmp_path: Path
) -> None:
    path = write_input(tmp_path / "requests.jsonl", [request("q-0", model="house-model-7")])
    state = tmp_path / "state"
    with pytest.raises(InvalidParameterError) as raised:
        call(mode, server, "create", "house", path, max_cost=5, state_dir=state)
    assert raised.value.param == "max_cost"
    message = str(raised.value)
    assert "house-model-7" in message and "prices=" in message and "--price house-model-7=IN,OUT" in message
    assert call(mode, server, "list", state_dir=state) == [], "the job was not created"

    # Without a budget it is created; a budget set later is refused the same way; with a price it is accepted.
    call(mode, server, "create", "house", path, state_dir=state)
    with pytest.raises(InvalidParameterError, match="house-model-7"):
        call(mode, server, "create", "house", path, max_cost=5, state_dir=state)
    assert call(mode, server, "get", "house", state_dir=state).max_cost is None
    priced = call(mode, server, "create", "house", path, max_cost=5, prices={"house-model-7": PRICE}, state_dir=state)
    assert priced.max_cost == 5.0
    assert call(mode, server, "run", priced, **FAST).status == "completed"


@pytest.mark.parametrize("mode", MODES)
def test_a_paused_job_can_be_cancelled(mode: str, server: LocalServer, tmp_path: Path) -> None:
    path = write_input(tmp_path / "requests.jsonl", [request(f"q-{i}") for i in range(20)])
    state = tmp_path / "state"
    job = call(
        mode,
        server,
        "create",
        "capped",
        path,
        max_batch_requests=5,
        max_cost=0.15,
        prices=SERVER_PRICES,
        state_dir=state,
    )
    paused = call(mode, server, "run", job, **FAST)
    assert paused.status == "paused"
    cancelled = call(mode, server, "cancel", "capped", wait=True, state_dir=state)
    assert (cancelled.status, cancelled.cancelled, cancelled.succeeded) == (
        "cancelled",
        paused.pending,
        20 - paused.pending,
    )


def test_a_state_directory_from_before_budgets_opens_and_runs(tmp_path: Path) -> None:
    """Old rows get the new columns on open: no budget, and requests whose output bound was never read."""
    store, _ = new_job(tmp_path, [line(f"q-{i}") for i in range(4)])
    path = store.path
    store.close()
    db = sqlite3.connect(path)
    for table, column in (("jobs", "max_cost"), ("jobs", "prices"), ("requests", "max_output")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for column in ("max_output", "unbounded"):
        db.execute(f"ALTER TABLE shards DROP COLUMN {column}")
    db.commit()
    db.close()
    with SQLiteJobStore(path) as reopened:
        old = reopened.get_job("job")
        assert old is not None and (old.max_cost, old.prices) == (None, None)
        (planned,) = plan_shards(reopened, old)
        assert (planned.max_output, planned.unbounded) == (0, 4)


# --- the command line -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_BATCHES_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
    return write_input(tmp_path / "requests.jsonl", [request(f"q-{i}") for i in range(20)])


CLI_FAST = ["--poll-interval", "0.02", "--max-poll-interval", "0.1", "-q"]


def test_the_command_line_exits_9_at_the_budget_and_resume_raises_it(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["job", "run", "capped", str(cli_env), "--max-batch-requests", "5", "--max-cost", "0.15"]
    code = main([*argv, "--price", "gpt-4o-mini=1000,1000", *CLI_FAST])
    captured = capsys.readouterr()
    assert code == EXIT_BUSY == 9, captured.err
    (line,) = captured.err.splitlines()
    assert "paused at its cost budget of $0.1500" in line and "job resume capped --max-cost" in line
    assert captured.out.startswith("job capped: paused, ")

    code = main(["job", "resume", "capped", *CLI_FAST])
    captured = capsys.readouterr()
    assert code == 9 and "paused at its cost budget" in captured.err, "the same budget: still paused"

    code = main(["job", "status", "capped"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[0].split()[-1] == "BUDGET" and "/$0.1500" in out.splitlines()[1]
    assert "paused at its cost budget of $0.1500" in out

    code = main(["job", "resume", "capped", "--max-cost", "20", *CLI_FAST])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("job capped: completed, 20 of 20 requests final")


def test_the_command_line_refuses_a_bad_budget(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "-1", "nan", "inf", "lots"):
        assert main(["job", "run", "capped", str(cli_env), "--max-cost", value]) == 2
        assert "--max-cost" in capsys.readouterr().err


def test_the_help_names_both_meanings_of_exit_status_9(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["job", "run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "another runner holds the job" in text and "paused at its cost budget" in text
