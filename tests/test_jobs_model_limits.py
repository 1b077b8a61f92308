"""`enqueued_token_limit` per model (on Azure OpenAI, per deployment, each with its own quota): checked, kept with
the job, cutting each model's shards at its own limit, holding back each model's batches by its own, and given on
the command line as MODEL=N."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import line, new_job
from openai_batches import AzureBatchClient, BatchInputError, InvalidParameterError
from openai_batches.cli import main
from openai_batches.jobs.core import JobCore, JobView
from openai_batches.jobs.creation import JobSettings
from openai_batches.jobs.planning import ShardLimits, plan_shards
from openai_batches.jobs.records import ShardRecord, ShardState

LIMITS = {"dep-small": 30, "dep-large": 300}


def lines(count: int, model: str, text: str = "hello there friend") -> list[dict[str, Any]]:
    return [line(f"{model}-{i}", text, model=model) for i in range(count)]


def test_a_mapping_is_checked_and_kept_as_json_beside_no_single_limit() -> None:
    settings = JobSettings(enqueued_token_limit={"b": 2, "a": 1})
    assert settings.given() == {"enqueued_token_limit": None, "token_limits": '{"a": 1, "b": 2}'}
    assert JobSettings(enqueued_token_limit=5).given() == {"enqueued_token_limit": 5, "token_limits": None}
    assert JobSettings().given() == {}
    for bad, message in [
        ({}, "a limit for at least one model"),
        ({"": 5}, "model names as keys, got ''"),
        ({3: 5}, "model names as keys, got 3"),
        ({"a": 0}, "from 1 for 'a', got 0"),
        ({"a": True}, "got True"),
        ({"a": "5"}, "got '5'"),
    ]:
        with pytest.raises(InvalidParameterError, match=message):
            JobSettings(enqueued_token_limit=bad)


def test_each_models_shards_are_cut_at_its_own_limit(tmp_path: Path) -> None:
    store, record = new_job(
        tmp_path, lines(12, "dep-small") + lines(12, "dep-large") + lines(4, "other"), enqueued_token_limit=LIMITS
    )
    assert json.loads(record.token_limits or "") == LIMITS and record.enqueued_token_limit is None
    assert (record.token_limit("dep-small"), record.token_limit("dep-large"), record.token_limit("other")) == (
        30,
        300,
        None,
    )
    limits = ShardLimits.of(record)
    assert limits.model_tokens == LIMITS and limits.tokens_for("nope") is None
    shards = plan_shards(store, record)
    names = store.models(record.id)
    by_model: dict[str, list[ShardRecord]] = {}
    for shard in shards:
        by_model.setdefault(names[shard.model], []).append(shard)
    assert all(s.tokens <= 30 for s in by_model["dep-small"]) and len(by_model["dep-small"]) > 1
    assert len(by_model["dep-large"]) == 1 and by_model["dep-large"][0].requests == 12
    assert len(by_model["other"]) == 1, "a model the mapping leaves out has no limit"


def test_a_request_over_its_models_limit_is_refused_by_model(tmp_path: Path) -> None:
    long = "word " * 200
    with pytest.raises(BatchInputError, match=r"more than enqueued_token_limit for dep-small \(30\)"):
        new_job(tmp_path, [*lines(1, "dep-large", long), *lines(1, "dep-small", long)], enqueued_token_limit=LIMITS)


def test_the_job_shows_its_limits_and_taking_one_number_again_replaces_them(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in lines(3, "dep-small") + lines(3, "dep-large")))
    client = AzureBatchClient(azure_endpoint="https://example.openai.azure.com", api_key="k")
    job = client.jobs.create("per", path, enqueued_token_limit=LIMITS, state_dir=tmp_path)
    assert job.enqueued_token_limit == LIMITS
    job = client.jobs.create("per", path, enqueued_token_limit=1000, state_dir=tmp_path)
    assert job.enqueued_token_limit == 1000
    estimate = client.jobs.estimate(path, enqueued_token_limit={"dep-small": 15})
    batches = {model.model: model.batches for model in estimate.models.values()}
    assert batches["dep-small"] > 1 and batches["dep-large"] == 1


def shard(shard_id: int, model: int, tokens: int, state: ShardState = ShardState.PLANNED) -> ShardRecord:
    return ShardRecord(job=1, id=shard_id, attempt=1, model=model, requests=1, bytes=10, tokens=tokens, state=state)


def test_each_models_batches_are_held_back_by_its_own_limit(tmp_path: Path) -> None:
    _store, record = new_job(tmp_path, lines(1, "dep-small"), enqueued_token_limit=LIMITS)
    record = dataclasses.replace(record, max_in_flight=10, status="in_progress")
    core = JobCore(record, tmp_path / "job", poll_interval=1.0, max_poll_interval=8.0)
    running = [
        dataclasses.replace(shard(1, 0, 20, ShardState.SUBMITTED), batch_id="b1"),
        dataclasses.replace(shard(2, 1, 200, ShardState.SUBMITTED), batch_id="b2"),
    ]
    waiting = [shard(3, 0, 20), shard(4, 1, 90), shard(5, 1, 20)]
    view = JobView(job=record, shards=(*running, *waiting), models={0: "dep-small", 1: "dep-large"})
    step = core.decide(view, 2000.0)
    started = sorted({action.shard for action in step.actions if type(action).__name__ == "Upload"})
    # dep-small: 20 in flight + 20 > 30, held; dep-large: 200 + 90 fits 300, and then 290 + 20 does not.
    assert started == [4]


def test_the_command_line_takes_model_equals_n_repeated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in lines(6, "dep-small") + lines(2, "dep-large")))
    argv = ["estimate", str(path), "--json"]
    limits = ["--enqueued-token-limit", "dep-small=15", "--enqueued-token-limit", "dep-large=300"]
    assert main([*argv, *limits]) == 0
    report = json.loads(capsys.readouterr().out)
    batches = {name: model["batches"] for name, model in report["models"].items()}
    assert batches["dep-small"] > 1 and batches["dep-large"] == 1
    assert main([*argv, "--enqueued-token-limit", "20", "--enqueued-token-limit", "a=5"]) == 2
    assert "takes N (for every model) or MODEL=N (for each), not both" in capsys.readouterr().err
    assert main([*argv, "--enqueued-token-limit", "=5"]) == 2
    assert "expected N or MODEL=N, got '=5'" in capsys.readouterr().err
