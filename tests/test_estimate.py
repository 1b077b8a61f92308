"""`client.jobs.estimate()` and `job.estimate()`: what a job would send and cost, counted before anything is sent.

Every estimate here is made through clients whose transport records requests: none may reach it. The numbers are
checked against tokens counted by hand (a token estimator that returns known counts), against the estimator jobs
use, against the shards a created job actually plans, and against the shipped batch prices.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import test_readme as readme
from helpers import Recorder, async_client, sync_client
from openai_batches import (
    BATCH_PRICES,
    AsyncBatchClient,
    BatchClient,
    BatchInputError,
    InvalidParameterError,
    Job,
    JobEstimate,
    ModelEstimate,
    ModelPrice,
    PriceTable,
)
from openai_batches import jobs as jobs_module
from openai_batches.jobs import estimate as estimate_module
from openai_batches.jobs.planning import ShardLimits, plan_shards
from openai_batches.jobs.store import open_store
from openai_batches.jobs.tokens import HeuristicEstimator, TiktokenEstimator, default_estimator
from openai_batches_server import LocalServer, run_server

CHAT = "/v1/chat/completions"
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.2}
MODES = ["sync", "async"]
MINI = BATCH_PRICES.lookup("gpt-4o-mini")
assert MINI is not None


def chat(custom_id: str, text: str = "one two three four", model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"an estimate sent {request.method} {request.url}")


def estimate(mode: str, *args: Any, **kwargs: Any) -> JobEstimate:
    """`client.jobs.estimate(...)` on a BatchClient or an AsyncBatchClient whose transport must see nothing."""
    recorder = Recorder(refuse)
    if mode == "sync":
        with sync_client(recorder) as client:
            result = client.jobs.estimate(*args, **kwargs)
    else:

        async def main() -> JobEstimate:
            async with async_client(recorder) as client:
                return await client.jobs.estimate(*args, **kwargs)

        result = asyncio.run(main())
    assert recorder.count == 0
    return result


class Counted:
    """Known token counts: the number in the request's first message ("tokens=12")."""

    name = "counted"

    def __call__(self, endpoint: str, body: Mapping[str, Any]) -> int:
        return int(body["messages"][0]["content"].split("=")[1])


# --- tokens ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_input_tokens_are_what_the_estimator_counts_per_model(mode: str, tmp_path: Path) -> None:
    lines = [chat(f"a-{i}", f"tokens={10 + i}") for i in range(5)]
    lines += [chat(f"b-{i}", f"tokens={100 * i}", model="gpt-4.1") for i in range(3)]
    result = estimate(mode, write(tmp_path / "in.jsonl", lines), token_estimator=Counted())
    assert result.token_estimator == "counted"
    assert result.requests == 8 and result.endpoint == CHAT
    assert {m: (e.requests, e.input_tokens) for m, e in result.models.items()} == {
        "gpt-4o-mini": (5, 10 + 11 + 12 + 13 + 14),
        "gpt-4.1": (3, 0 + 100 + 200),
    }
    assert result.input_tokens == 60 + 300


def test_the_default_estimator_is_the_one_jobs_use(tmp_path: Path) -> None:
    texts = ["Say the number 7.", "A longer question about " * 20, "ünïcödé " * 9]
    lines = [chat(f"q-{i}", text) for i, text in enumerate(texts)]
    result = estimate("sync", write(tmp_path / "in.jsonl", lines))
    used = default_estimator()
    assert result.token_estimator == used.name
    assert result.models["gpt-4o-mini"].input_tokens == sum(used(CHAT, line["body"]) for line in lines)
    heuristic = estimate("sync", tmp_path / "in.jsonl", token_estimator=HeuristicEstimator())
    assert heuristic.token_estimator == "heuristic"
    assert heuristic.input_tokens == sum(HeuristicEstimator()(CHAT, line["body"]) for line in lines)


def test_tiktoken_counts_with_the_tokens_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # tiktoken fetches its encodings from the network, which tests do not have: a stand-in module counts one
    # token per word, so the estimate is known exactly and differs from the heuristic.
    from test_jobs_tokens import FakeEncoding, fake_tiktoken

    monkeypatch.setitem(
        sys.modules, "tiktoken", fake_tiktoken({"gpt-4o-mini": FakeEncoding("mini")}, FakeEncoding("o"))
    )
    lines = [chat("q-0", "Say the number 7."), chat("q-1", "hello " * 50)]
    result = estimate("sync", write(tmp_path / "in.jsonl", lines))
    assert result.token_estimator == "tiktoken"
    counter = TiktokenEstimator()
    assert result.input_tokens == sum(counter(CHAT, line["body"]) for line in lines)
    assert result.input_tokens != sum(HeuristicEstimator()(CHAT, line["body"]) for line in lines)


# --- batches --------------------------------------------------------------------------------------------------------


def planned_batches(tmp_path: Path, path: Path, **settings: Any) -> int:
    """The shards a job created over `path` with these settings plans (created locally, nothing sent)."""
    state = tmp_path / "state"
    recorder = Recorder(refuse)
    with sync_client(recorder) as client:
        client.jobs.create("planned", path, state_dir=state, **settings)
    with open_store(state) as store:
        record = store.get_job("planned")
        assert record is not None
        count = len(plan_shards(store, record))
    assert recorder.count == 0
    return count


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, 2),  # one batch per model
        ({"max_batch_requests": 4}, 3 + 2),  # 10 of one model, 7 of the other
        ({"max_batch_requests": 1}, 17),
        ({"enqueued_token_limit": 25}, 5 + 4),  # 10 tokens a request: two per batch
        ({"enqueued_token_limit": 35, "max_batch_requests": 2}, 5 + 4),
    ],
)
def test_the_batch_count_is_the_plan_of_a_job_with_the_same_settings(
    tmp_path: Path, settings: dict[str, Any], expected: int
) -> None:
    lines = [chat(f"q-{i}", "tokens=10", model="gpt-4o-mini" if i % 5 < 3 else "gpt-4.1") for i in range(17)]
    path = write(tmp_path / "in.jsonl", lines)
    result = estimate("sync", path, token_estimator=Counted(), **settings)
    assert result.batches == expected
    assert sum(model.batches for model in result.models.values()) == expected
    assert planned_batches(tmp_path, path, token_estimator=Counted(), **settings) == expected


def test_the_byte_limit_cuts_as_planning_cuts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The service's 200 MB, made small: each line here is 169 bytes with its newline, so 520 bytes hold three.
    limits = ShardLimits(max_bytes=520)
    monkeypatch.setattr(estimate_module, "shard_limits", lambda *_: limits)
    path = write(tmp_path / "in.jsonl", [chat(f"q-{i}") for i in range(10)])
    result = estimate("sync", path)
    state = tmp_path / "state"
    with sync_client(Recorder(refuse)) as client:
        client.jobs.create("bytes", path, state_dir=state)
    with open_store(state) as store:
        record = store.get_job("bytes")
        assert record is not None
        assert result.batches == len(plan_shards(store, record, limits)) == 4


# --- output bounds and cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_the_cost_range_is_input_alone_to_input_and_every_output_bound(mode: str, tmp_path: Path) -> None:
    lines = [
        chat("a", "tokens=1000", max_tokens=50),
        chat("b", "tokens=2000", max_completion_tokens=70),
        chat("c", "tokens=3000", max_completion_tokens=10, n=3),  # the bound is per choice
    ]
    result = estimate(mode, write(tmp_path / "in.jsonl", lines), token_estimator=Counted())
    model = result.models["gpt-4o-mini"]
    assert model.max_output_tokens == 50 + 70 + 30 == result.max_output_tokens
    assert result.cost_low == pytest.approx(6000 * MINI.input / 1e6)
    assert result.cost_high == pytest.approx((6000 * MINI.input + 150 * MINI.output) / 1e6)
    assert (model.cost_low, model.cost_high) == (result.cost_low, result.cost_high)
    assert result.currency == "USD" and result.notes == ()
    assert (result.prices_source, result.prices_read_on) == (BATCH_PRICES.source, BATCH_PRICES.read_on)


def test_a_request_without_a_bound_leaves_its_model_without_a_high_cost(tmp_path: Path) -> None:
    lines = [
        chat("a", "tokens=100", max_tokens=10),
        chat("b", "tokens=100"),  # no bound: its answer may be as long as the model allows
        chat("c", "tokens=100", model="gpt-4.1", max_tokens=10),
    ]
    result = estimate("sync", write(tmp_path / "in.jsonl", lines), token_estimator=Counted())
    mini, other = result.models["gpt-4o-mini"], result.models["gpt-4.1"]
    assert (mini.max_output_tokens, mini.unbounded, mini.cost_high) == (None, 1, None)
    assert mini.cost_low == pytest.approx(200 * MINI.input / 1e6)
    assert other.max_output_tokens == 10 and other.cost_high is not None
    assert result.max_output_tokens is None and result.cost_high is None
    assert result.cost_low == pytest.approx(mini.cost_low + (other.cost_low or 0))
    (note,) = result.notes
    assert "gpt-4o-mini: 1 of 2 requests state no bound" in note


def test_responses_and_embeddings_bounds(tmp_path: Path) -> None:
    responses = [
        {"custom_id": "r-0", "method": "POST", "url": "/v1/responses", "body": {"model": "gpt-4.1", "input": "hi"}},
        {
            "custom_id": "r-1",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": "gpt-4.1", "input": "hi", "max_output_tokens": 64},
        },
    ]
    result = estimate("sync", write(tmp_path / "r.jsonl", responses[1:]))
    assert result.models["gpt-4.1"].max_output_tokens == 64
    assert estimate("sync", write(tmp_path / "r2.jsonl", responses)).max_output_tokens is None
    embeddings = [
        {
            "custom_id": f"e-{i}",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": ["one", "two"]},
        }
        for i in range(3)
    ]
    result = estimate("sync", write(tmp_path / "e.jsonl", embeddings))
    model = result.models["text-embedding-3-small"]
    assert model.max_output_tokens == 0  # an embedding has no output tokens: its cost is its input
    assert model.cost_low is not None and model.cost_low > 0 and model.cost_high == model.cost_low


def test_a_model_without_a_price_has_no_cost_and_a_note_never_zero(tmp_path: Path) -> None:
    lines = [chat("a", "tokens=1000", max_tokens=5), chat("b", "tokens=1000", model="house-model-7", max_tokens=5)]
    result = estimate("sync", write(tmp_path / "in.jsonl", lines), token_estimator=Counted())
    unknown = result.models["house-model-7"]
    assert (unknown.cost_low, unknown.cost_high) == (None, None)
    assert result.models["gpt-4o-mini"].cost_low == pytest.approx(1000 * MINI.input / 1e6)
    assert (result.cost_low, result.cost_high) == (None, None)
    assert result.notes == (BATCH_PRICES.unknown_note(["house-model-7"]),)
    assert "house-model-7" in result.notes[0] and "cost: no total" in str(result)


def test_given_prices_override_the_shipped_ones_model_by_model(tmp_path: Path) -> None:
    lines = [chat("a", "tokens=1000000", max_tokens=1000000), chat("b", "tokens=1000000", model="house-model-7")]
    path = write(tmp_path / "in.jsonl", lines)
    prices = {"house-model-7": {"input": 2.0, "output": 8.0}, "gpt-4o-mini": ModelPrice(input=1.0, output=3.0)}
    result = estimate("sync", path, token_estimator=Counted(), prices=prices)
    assert result.models["gpt-4o-mini"].cost_high == pytest.approx(1.0 + 3.0)
    assert result.models["house-model-7"].cost_low == pytest.approx(2.0)
    assert result.cost_low == pytest.approx(3.0) and result.cost_high is None  # house-model-7 states no bound
    assert result.prices_overridden == ("gpt-4o-mini", "house-model-7")
    dated = estimate("sync", write(tmp_path / "d.jsonl", [chat("a", model="gpt-4o-mini-2024-07-18", max_tokens=1)]))
    assert dated.cost_low is not None and dated.notes == ()  # a dated snapshot is priced as its model


def test_the_dict_has_the_documented_shape(tmp_path: Path) -> None:
    lines = [chat("a", "tokens=10", max_tokens=5), chat("b", "tokens=20", model="gpt-4.1")]
    result = estimate("sync", write(tmp_path / "in.jsonl", lines), token_estimator=Counted())
    data = json.loads(json.dumps(result.to_dict()))
    assert {"requests", "batches", "models", "cost"} <= set(data)
    assert (data["requests"], data["batches"]) == (2, 2)
    assert set(data["cost"]) == {"low", "high", "currency"} and data["cost"]["high"] is None
    assert data["cost"]["low"] == pytest.approx(result.cost_low)
    assert set(data["models"]) == {"gpt-4o-mini", "gpt-4.1"}
    for model in data["models"].values():
        assert {"requests", "input_tokens", "max_output_tokens"} <= set(model)
    assert data["models"]["gpt-4o-mini"]["max_output_tokens"] == 5
    assert data["models"]["gpt-4.1"]["max_output_tokens"] is None
    assert data["prices"] == {"source": BATCH_PRICES.source, "read_on": BATCH_PRICES.read_on, "overridden": []}


def test_an_iterable_is_estimated_as_the_same_lines_in_a_file(tmp_path: Path) -> None:
    lines = [chat(f"q-{i}", f"question {i}", max_tokens=i + 1) for i in range(12)]
    from_file = estimate("sync", write(tmp_path / "in.jsonl", lines), max_batch_requests=5)
    from_iterable = estimate("async", iter(lines), endpoint=CHAT, max_batch_requests=5)
    assert from_iterable == from_file


# --- refusals -------------------------------------------------------------------------------------------------------


def test_bad_lines_are_refused_naming_the_line_as_job_creation_does(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(chat("a")) + "\n{not json\n")
    with pytest.raises(BatchInputError) as caught:
        estimate("sync", bad)
    assert (caught.value.reason, caught.value.line) == ("invalid_json", 2)
    duplicate = write(tmp_path / "dup.jsonl", [chat("a"), chat("b"), chat("a")])
    with pytest.raises(BatchInputError, match="already used on line 1") as caught:
        estimate("async", duplicate)
    assert (caught.value.reason, caught.value.line, caught.value.custom_id) == ("duplicate_custom_id", 3, "a")
    other = write(tmp_path / "other.jsonl", [chat("a"), {**chat("b"), "url": "/v1/embeddings"}])
    with pytest.raises(BatchInputError, match="url is '/v1/embeddings'") as caught:
        estimate("sync", other)
    assert caught.value.line == 2
    with pytest.raises(BatchInputError, match="no batch could hold it") as caught:
        estimate(
            "sync",
            write(tmp_path / "t.jsonl", [chat("a", "tokens=50")]),
            token_estimator=Counted(),
            enqueued_token_limit=10,
        )


def test_a_duplicate_in_a_later_chunk_names_its_first_line(tmp_path: Path) -> None:
    lines = [chat(f"q-{i}") for i in range(12_000)] + [chat("q-11")]
    with pytest.raises(BatchInputError, match="already used on line 12") as caught:
        estimate("sync", write(tmp_path / "in.jsonl", lines))
    assert caught.value.line == 12_001


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"max_batch_requests": 0}, "max_batch_requests"),
        ({"max_batch_requests": 50_001}, "max_batch_requests"),
        ({"enqueued_token_limit": -1}, "enqueued_token_limit"),
        ({"prices": {"gpt-4o-mini": {"input": "cheap"}}}, "prices"),
        ({"prices": [("gpt-4o-mini", 1.0)]}, "prices"),
        ({"token_estimator": 4}, "token_estimator"),
        ({"endpoint": 7}, "endpoint"),
    ],
)
def test_bad_settings_are_refused_by_name(tmp_path: Path, kwargs: dict[str, Any], parameter: str) -> None:
    path = write(tmp_path / "in.jsonl", [chat("a")])
    with pytest.raises(InvalidParameterError) as caught:
        estimate("sync", path, **kwargs)
    assert caught.value.param == parameter


def test_a_missing_or_empty_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="no such file"):
        estimate("sync", tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InvalidParameterError, match="holds no requests"):
        estimate("sync", tmp_path / "empty.jsonl")
    with pytest.raises(InvalidParameterError, match="expected a JSONL path or an iterable"):
        estimate("sync", b"{}")


# --- a created job --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_created_job_estimates_as_its_input_does(mode: str, tmp_path: Path) -> None:
    lines = [chat(f"q-{i}", f"tokens={i}", model="gpt-4o-mini" if i % 2 else "gpt-4.1", max_tokens=i) for i in range(9)]
    lines.append(chat("q-9", "tokens=9", model="house-model-7"))
    path = write(tmp_path / "in.jsonl", lines)
    settings = {"max_batch_requests": 2, "enqueued_token_limit": 9}
    recorder = Recorder(refuse)
    with sync_client(recorder) as client:
        job = client.jobs.create("priced", path, state_dir=tmp_path / "state", token_estimator=Counted(), **settings)
    expected = estimate(mode, path, token_estimator=Counted(), **settings)
    assert job.estimate() == expected
    prices = {"house-model-7": {"input": 1.0, "output": 1.0}}
    assert job.estimate(prices) == estimate(mode, path, token_estimator=Counted(), prices=prices, **settings)
    assert recorder.count == 0


# --- summary() at the shipped prices -------------------------------------------------------------------------------


KEY = "sk-estimate-0123456789abcdef"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with run_server(tmp_path / "data", api_keys=[KEY], tick=0, ignore_idempotency_key=True) as running:
        yield running


def run_job(mode: str, server: LocalServer, name: str, path: Path, state: Path) -> Job:
    if mode == "sync":
        with BatchClient(api_key=KEY, base_url=server.base_url) as client:
            return client.jobs.run(client.jobs.create(name, path, state_dir=state, max_batch_requests=3), **FAST)

    async def main() -> Job:
        async with AsyncBatchClient(api_key=KEY, base_url=server.base_url) as client:
            job = await client.jobs.create(name, path, state_dir=state, max_batch_requests=3)
            return await client.jobs.run(job, **FAST)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
def test_summary_costs_the_real_usage_at_the_shipped_prices(mode: str, server: LocalServer, tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [chat(f"q-{i}", f"question {i}") for i in range(7)])
    job = run_job(mode, server, "mini", path, tmp_path / "state")
    summary = job.summary()
    assert summary.input_tokens > 0 and summary.output_tokens > 0
    expected = MINI.cost(summary.input_tokens, summary.cached_tokens, summary.output_tokens)
    assert summary.cost is not None and summary.cost > 0
    assert summary.cost == pytest.approx(expected) and summary.cost_by_model == {"gpt-4o-mini": pytest.approx(expected)}
    assert f"cost ${expected:,.4f}" in str(summary)
    given = job.summary(prices={"gpt-4o-mini": {"input": 1.0, "output": 2.0}})
    assert given.cost == pytest.approx((summary.input_tokens * 1.0 + summary.output_tokens * 2.0) / 1e6)


def test_summary_of_a_model_without_a_price_has_no_cost_and_says_so(server: LocalServer, tmp_path: Path) -> None:
    lines = [chat("a", "question"), chat("b", "question", model="house-model-7")]
    job = run_job("sync", server, "house", write(tmp_path / "in.jsonl", lines), tmp_path / "state")
    summary = job.summary()
    assert summary.cost is None and set(summary.cost_by_model) == {"gpt-4o-mini"}
    assert BATCH_PRICES.unknown_note(["house-model-7"]) in summary.notes
    assert "cost $" not in str(summary)
    priced = job.summary(prices={"house-model-7": ModelPrice(input=1.0, output=1.0)})
    assert priced.cost is not None and priced.cost > summary.cost_by_model["gpt-4o-mini"]
    assert not any("no batch price" in note for note in priced.notes)


def test_the_readme_example_prices_a_file_before_sending_it(server: LocalServer, tmp_path: Path) -> None:
    (block,) = [b for b in readme.runnable() if b.language == "python" and "client.jobs.estimate" in b.code]
    done = readme.run_block(block, server, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert printed[0].startswith("1,000 requests to /v1/chat/completions in 4 batches")
    assert "4 12500 None" in printed
    assert printed[-1].endswith(f"{BATCH_PRICES.read_on} {BATCH_PRICES.source}")
    assert not (tmp_path / "job-state").exists()


def test_the_estimate_is_exported_where_the_jobs_are() -> None:
    assert jobs_module.JobEstimate is JobEstimate and jobs_module.ModelEstimate is ModelEstimate
    assert isinstance(BATCH_PRICES, PriceTable) and BATCH_PRICES.read_on and BATCH_PRICES.source


def test_the_summary_of_a_job_not_sent_yet_gives_its_estimated_cost_not_only_zero(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [chat(f"q-{i}", max_tokens=10) for i in range(20)])
    with sync_client(Recorder(refuse)) as client:
        job = client.jobs.create("unsent", path, state_dir=tmp_path / "state")
        expected = client.jobs.estimate(path)
    summary = job.summary()
    assert summary.cost == 0  # nothing has been spent
    assert expected.cost_low is not None and expected.cost_high is not None
    assert f"estimated cost at batch prices ${expected.cost_low:,.4f} to ${expected.cost_high:,.4f}" in str(summary)
    unbounded = write(tmp_path / "open.jsonl", [chat("q-0")])
    with sync_client(Recorder(refuse)) as client:
        open_job = client.jobs.create("open", unbounded, state_dir=tmp_path / "state")
    assert "to no upper bound (a request states no output limit)" in str(open_job.summary())
