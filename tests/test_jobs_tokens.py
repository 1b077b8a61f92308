"""Estimated input tokens: the documented heuristic, and tiktoken chosen when the `[tokens]` extra is installed.

tiktoken is not a test dependency: a stand-in module in `sys.modules` proves the selection and the counting path.
"""

from __future__ import annotations

import json
import logging
import types
from pathlib import Path
from typing import Any

import pytest
from openai_batches.jobs import HeuristicEstimator, TiktokenEstimator, default_estimator
from openai_batches.jobs.creation import Account, JobSettings, create_job
from openai_batches.jobs.tokens import request_pieces


def test_the_heuristic_counts_four_characters_a_token_plus_the_chat_overheads() -> None:
    estimate = HeuristicEstimator()
    body = {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}
    # 3 per message, 3 to prime the reply, ceil(9/4) + ceil(2/4).
    assert estimate("/v1/chat/completions", body) == 3 + 3 + 3 + 3 + 1
    parts = {
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"}, {"type": "image_url"}]}],
    }
    assert estimate("/v1/chat/completions", parts) == 3 + 3 + 2
    tools = {"model": "m", "messages": [], "tools": [{"type": "function"}]}
    assert estimate("/v1/chat/completions", tools) == 3 + 6  # the tools as JSON, 21 characters
    assert estimate("/v1/responses", {"model": "m", "input": "12345678", "instructions": "abcd"}) == 3
    assert estimate("/v1/embeddings", {"model": "m", "input": ["abcd", "abcdefgh"]}) == 3
    assert estimate("/v1/embeddings", {"model": "m", "input": [1, 2, 3, 4, 5]}) == 5
    assert estimate("/v1/embeddings", {"model": "m", "input": [[1, 2], [3, 4, 5]]}) == 5
    assert estimate("/v1/completions", {"model": "m", "prompt": "abcdefghi"}) == 3
    assert estimate("/v1/moderations", {"input": "abcd"}) == 1
    other = {"model": "m", "prompt": "x"}
    assert estimate("/v1/images/generations", other) == -(-len(json.dumps(other, separators=(",", ":"))) // 4)


def test_the_pieces_are_what_the_model_reads() -> None:
    texts, fixed = request_pieces(
        "/v1/responses", {"input": [{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}]}
    )
    assert (texts, fixed) == (["hello"], 0)


class FakeEncoding:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, Any]] = []

    def encode(self, text: str, *, disallowed_special: Any = "all") -> list[int]:
        self.calls.append((text, disallowed_special))
        return list(range(len(text.split())))  # one token per word, to tell it from the heuristic


def fake_tiktoken(known: dict[str, FakeEncoding], fallback: FakeEncoding | Exception) -> types.ModuleType:
    module = types.ModuleType("tiktoken")

    def encoding_for_model(model: str) -> FakeEncoding:
        return known[model]

    def get_encoding(name: str) -> FakeEncoding:
        assert name == "o200k_base"
        if isinstance(fallback, Exception):
            raise fallback
        return fallback

    module.encoding_for_model = encoding_for_model  # type: ignore[attr-defined]
    module.get_encoding = get_encoding  # type: ignore[attr-defined]
    return module


def test_tiktoken_is_chosen_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    mini = FakeEncoding("mini")
    monkeypatch.setitem(
        __import__("sys").modules, "tiktoken", fake_tiktoken({"gpt-4o-mini": mini}, FakeEncoding("o200k"))
    )
    estimator = default_estimator()
    assert isinstance(estimator, TiktokenEstimator) and estimator.name == "tiktoken"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one two three <|endoftext|>"}]}
    assert estimator("/v1/chat/completions", body) == 3 + 3 + 4
    assert mini.calls == [("one two three <|endoftext|>", ())], "special tokens in user text are counted as text"


def test_without_tiktoken_the_heuristic_is_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "tiktoken", None)  # what an import of a missing module meets
    assert isinstance(default_estimator(), HeuristicEstimator)


def test_unknown_models_use_o200k_and_a_missing_encoding_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fallback = FakeEncoding("o200k")
    estimator = TiktokenEstimator(fake_tiktoken({}, fallback))
    body = {"model": "future-model", "prompt": "a b c d e"}
    assert estimator("/v1/completions", body) == 5 and fallback.calls
    offline = TiktokenEstimator(fake_tiktoken({}, OSError("no network to fetch the encoding")))
    with caplog.at_level(logging.WARNING, logger="openai_batches"):
        assert offline("/v1/completions", body) == 3  # ceil(9 / 4): the heuristic
    assert "estimating its tokens by characters" in caplog.text


def test_a_job_stores_the_estimates_of_the_estimator_it_used(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [
        {"custom_id": f"r{i}", "method": "POST", "url": "/v1/completions", "body": {"model": "m", "prompt": "x"}}
        for i in range(3)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    class Fixed:
        name = "fixed"

        def __call__(self, endpoint: str, body: Any) -> int:
            return 7

    job = create_job(
        tmp_path / "state",
        "est",
        path,
        endpoint=None,
        completion_window="24h",
        settings=JobSettings(),
        account=Account("http://x/v1", "f"),
        estimator=Fixed(),
    )
    assert (job.estimated_tokens, job.token_estimator) == (21, "fixed")
