"""Testing your own code against the local server, with pytest: no network, no key, no cost, seconds per test.

    pytest examples/test_against_local_server.py

`run_server` (from `openai_batches_server`, the `[server]` extra) starts a real HTTP server on 127.0.0.1 for the
duration of a `with` block; `tick=0` runs every batch at once instead of pacing its statuses, so a test does not wait.
Point the code under test at `server.base_url`: this client and the official `openai` SDK both work against it. The
server's answers are deterministic (a chat completion echoes the question), and a request line whose custom_id
starts with `fail-` (`FAIL_PREFIX`), or whose body holds `"x_fail": {...}`, lands in the error file, so the code's
failure paths can be tested too. Unlike the other examples this file starts its own server: it reads no
OPENAI_BASE_URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_batches import AuthenticationError, BatchClient, BatchRequest
from openai_batches_server import FAIL_PREFIX, LocalServer, run_server

KEY = "sk-test-key"


# --- the code under test: yours, written against the client as usual --------------------------------------------


def answer_all(client: BatchClient, questions: dict[str, str]) -> dict[str, str]:
    """Each question's answer, or `error: ...` for a request that failed, by the question's key."""
    requests = [
        BatchRequest.chat(key, model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        for key, question in questions.items()
    ]
    batch = client.batches.submit(requests, endpoint="/v1/chat/completions")
    batch = client.batches.wait(batch, poll_interval=0.05)
    results = client.batches.results_by_custom_id(batch)
    return {key: (r.text or "") if r.ok else f"error: {r.status_code}" for key, r in results.items()}


# --- the fixtures: one server per test module, one client per test ----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data_dir = tmp_path_factory.mktemp("batch-server")
    with run_server(data_dir, api_keys=[KEY], port=0, tick=0) as running:
        yield running


@pytest.fixture
def client(server: LocalServer) -> Iterator[BatchClient]:
    with BatchClient(api_key=KEY, base_url=server.base_url) as client:
        yield client


# --- the tests --------------------------------------------------------------------------------------------------


def test_every_question_gets_its_answer(client: BatchClient) -> None:
    answers = answer_all(client, {"a": "What is 2+2?", "b": "Name a prime."})
    assert answers == {"a": "Echo: What is 2+2?", "b": "Echo: Name a prime."}


def test_a_failed_request_is_reported_not_raised(client: BatchClient) -> None:
    answers = answer_all(client, {"ok": "Hello?", f"{FAIL_PREFIX}boom": "This line fails."})
    assert answers["ok"] == "Echo: Hello?"
    assert answers[f"{FAIL_PREFIX}boom"].startswith("error: ")


def test_a_wrong_key_is_refused(server: LocalServer) -> None:
    with BatchClient(api_key="sk-wrong", base_url=server.base_url) as wrong, pytest.raises(AuthenticationError):
        wrong.batches.list()
