"""The jobs' sans-I/O core, driven by hand: a real store in a temporary folder, a fake service in memory, no network.

A "crash" is an action the service carried out whose event never reached the core; the next run is a new `StoreCore`
over the same store. The fake service and the helpers are in jobs_support.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import CHAT, FakeService, StoreCore, core_for, current, drive, line, new_job, statuses
from openai_batches._exceptions import APIConnectionError, InvalidParameterError, OpenAIBatchesError
from openai_batches.jobs.actions import (
    Action,
    Cancel,
    Create,
    Event,
    Failed,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Upload,
    Uploaded,
)
from openai_batches.jobs.job import ModelPrice
from openai_batches.jobs.planning import ShardLimits, plan_shards
from openai_batches.jobs.records import CANCELLING

# --- planning ------------------------------------------------------------------------------------------------


def test_shards_respect_max_batch_requests_bytes_and_tokens(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i:02d}") for i in range(25)], max_batch_requests=10)
    shards = plan_shards(store, job)
    assert [s.requests for s in shards] == [10, 10, 5]
    assert sum(s.bytes for s in shards) == (tmp_path / "input.jsonl").stat().st_size
    store.close()

    store, job = new_job(tmp_path / "b", [line(f"r{i:02d}") for i in range(25)])
    per_request = shards[0].tokens // 10
    bytes_per_line = shards[0].bytes // 10
    cut = plan_shards(store, job, ShardLimits(max_tokens=per_request * 4, max_bytes=bytes_per_line * 3))
    assert [s.requests for s in cut] == [3] * 8 + [1]
    assert all(s.tokens <= per_request * 4 for s in cut)


def test_a_shard_holds_one_model(tmp_path: Path) -> None:
    lines = [line(f"r{i}", model="gpt-4o-mini" if i % 2 else "gpt-4o") for i in range(6)]
    store, job = new_job(tmp_path, lines)
    shards = plan_shards(store, job)
    models = store.models(job.id)
    assert sorted((models[s.model], s.requests) for s in shards) == [("gpt-4o", 3), ("gpt-4o-mini", 3)]


# --- the protocol ------------------------------------------------------------------------------------------------


def test_uploads_up_to_max_in_flight_then_creates_with_metadata_and_a_stable_key(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(6)], max_batch_requests=2, max_in_flight=2)
    core = core_for(store, tmp_path)
    step = core.decide(100.0)
    assert [type(a) for a in step.actions] == [Upload, Upload]
    uploads = [a for a in step.actions if isinstance(a, Upload)]
    assert uploads[0].path.read_text().splitlines() == [json.dumps(line("r0")), json.dumps(line("r1"))]
    for number, action in enumerate(uploads):
        core.record(Uploaded(action.shard, f"file-{number}"), 100.0)
    creates = core.decide(101.0).actions
    assert [type(a) for a in creates] == [Create, Create]
    first = creates[0]
    assert isinstance(first, Create)
    assert first.file_id == "file-0" and first.endpoint == CHAT and first.completion_window == "24h"
    assert first.metadata == {"job": "job", "job_id": job.uid, "shard": "1", "attempt": "1", "submission": "1"}
    assert first.idempotency_key == f"openai-batches-job:{job.uid}:1:1:1"


def test_a_job_ends_with_one_result_per_request_in_input_order(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(7)], max_batch_requests=3)
    service = FakeService(tmp_path / "service")
    drive(core_for(store, tmp_path), service)
    job = current(store, tmp_path)
    assert job.status == "completed" and job.succeeded == 7 and job.pending == 0
    assert [r.custom_id for r in job.results()] == [f"r{i}" for i in range(7)]
    assert all(r.ok and r.body == {"echo": r.custom_id} for r in job.results())
    assert service.creates == 3 and service.uploads == 3
    assert not [f for f in service.files.values() if f["purpose"] == "batch"], "every upload is deleted once used"


def lost(core: StoreCore, service: FakeService, kind: type) -> None:
    """Run the job until the first action of `kind` is carried out by the service, then drop its event (a crash)."""
    now = 500.0
    for _ in range(100):
        for action in core.decide(now).actions:
            event = service.execute(action)
            if isinstance(action, kind):
                return
            core.record(event, now)
        now += 1.0
    raise AssertionError(f"no {kind.__name__} action came")


def test_an_upload_whose_record_was_lost_is_found_and_adopted(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(4)], max_batch_requests=2, max_in_flight=1)
    service = FakeService(tmp_path / "service", idempotent=False)
    lost(core_for(store, tmp_path), service, Upload)
    resumed = core_for(store, tmp_path)
    first = resumed.decide(600.0).actions
    assert [type(a) for a in first] == [FindUpload], "a resumed run looks before it uploads again"
    drive(resumed, service)
    assert service.uploads == 2, "one upload per shard, the lost one adopted"
    assert current(store, tmp_path).succeeded == 4


def test_duplicate_uploads_found_on_resume_are_deleted(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(2)], max_batch_requests=2)
    service = FakeService(tmp_path / "service", idempotent=False)
    core = core_for(store, tmp_path)
    (upload,) = core.decide(10.0).actions
    service.execute(upload)
    service.execute(upload)  # a retried request the service took twice; neither answer was recorded
    drive(core_for(store, tmp_path), service)
    assert not [f for f in service.files.values() if f["purpose"] == "batch"]
    assert service.creates == 1


def test_a_batch_whose_create_was_lost_is_found_by_its_metadata(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(6)], max_batch_requests=2)
    # Without idempotency keys honoured, only the search by metadata prevents a second batch.
    service = FakeService(tmp_path / "service", idempotent=False)
    lost(core_for(store, tmp_path), service, Create)
    resumed = core_for(store, tmp_path)
    assert any(isinstance(a, FindBatch) for a in resumed.decide(600.0).actions)
    drive(resumed, service)
    assert service.creates == 3
    shards = {(b["metadata"]["shard"], b["metadata"]["attempt"]) for b in service.batches.values()}
    assert len(shards) == len(service.batches) == 3


def test_an_intended_create_that_never_left_is_sent_after_looking(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line("r0")])
    service = FakeService(tmp_path / "service")
    core = core_for(store, tmp_path)
    (upload,) = core.decide(1.0).actions
    core.record(service.execute(upload), 1.0)
    (create,) = core.decide(2.0).actions
    assert isinstance(create, Create)  # the intent is committed; the process dies before sending it
    resumed = core_for(store, tmp_path)
    (find,) = resumed.decide(3.0).actions
    assert isinstance(find, FindBatch) and find.since == pytest.approx(2.0 - 300.0)
    resumed.record(service.execute(find), 3.0)
    (again,) = resumed.decide(4.0).actions
    assert again == create
    drive(resumed, service)
    assert service.creates == 1


# --- retries --------------------------------------------------------------------------------------------------


def test_retryable_lines_are_retried_and_others_are_final_at_once(tmp_path: Path) -> None:
    def answer(custom_id: str, attempt: int) -> int:
        if custom_id.startswith("bad"):
            return 400
        if custom_id.startswith("flaky") and attempt == 1:
            return {"flaky0": 500, "flaky1": 429, "flaky2": 408}.get(custom_id, 503)
        return 200

    lines = [line(f"ok{i}") for i in range(3)] + [line(f"flaky{i}") for i in range(4)] + [line("bad0")]
    store, job = new_job(tmp_path, lines, max_batch_requests=3, max_attempts=3)
    drive(core_for(store, tmp_path), FakeService(tmp_path / "service", answer=answer))
    finished = current(store, tmp_path)
    assert (finished.succeeded, finished.failed) == (7, 1)
    assert store.attempt_counts(job.id) == {1: 4, 2: 4}
    by_id = {r.custom_id: r for r in finished.results()}
    assert by_id["bad0"].status_code == 400 and by_id["flaky3"].ok


def test_a_line_failing_on_every_attempt_keeps_its_last_answer(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line("always"), line("fine")], max_attempts=3)
    service = FakeService(tmp_path / "service", answer=lambda c, a: 500 if c == "always" else 200)
    drive(core_for(store, tmp_path), service)
    finished = current(store, tmp_path)
    assert (finished.succeeded, finished.failed) == (1, 1)
    assert store.attempt_counts(job.id) == {1: 1, 3: 1}
    assert [b["metadata"]["attempt"] for b in service.batches.values()] == ["1", "2", "3"]
    assert statuses(finished)[0] == ("always", 500, "server_error")


def test_requests_an_expired_batch_left_unanswered_are_retried_then_reported_missing(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(4)], max_attempts=2)
    drive(core_for(store, tmp_path), FakeService(tmp_path / "service", end=lambda b: "expired"))
    finished = current(store, tmp_path)
    # Attempt 1 answers r0, r1; attempt 2 (r2, r3) answers r2; r3 never gets an answer.
    assert (finished.succeeded, finished.missing) == (3, 1)
    assert statuses(finished)[3][0] == "r3" and statuses(finished)[3][2] == "no_result"
    summary = finished.summary()
    assert summary.missing == 1 and summary.attempts == {1: 2, 2: 2}


def test_a_batch_that_fails_validation_fails_its_lines_with_its_errors(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line(f"r{i}") for i in range(3)], max_attempts=3)
    service = FakeService(tmp_path / "service", end=lambda b: "invalid")
    drive(core_for(store, tmp_path), service)
    finished = current(store, tmp_path)
    assert finished.failed == 3 and len(service.batches) == 1, "a validation failure is not retried"
    results = list(finished.results())
    assert [r.error.code for r in results if r.error] == ["empty_file", "invalid_url", "empty_file"]
    assert results[1].error is not None and "bad url" in (results[1].error.message or "")


# --- the enqueued-token limit -------------------------------------------------------------------------------------


def test_a_token_limit_refusal_is_not_an_attempt_and_lowers_the_budget(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(12)], max_batch_requests=2, max_attempts=1)
    service = FakeService(tmp_path / "service")
    # The service takes two batches at once; a third is refused until one ends.
    service.end = lambda batch: "token_limited" if len(service.running()) > 2 else "completed"
    original = service.execute

    def slow(action: Action) -> Event:
        if isinstance(action, Poll) and service.batches[action.batch_id]["status"] == "validating":
            # Judged at the first poll, while every batch created so far still counts as enqueued.
            batch = service.batches[action.batch_id]
            status = service.end(batch)
            service._finish(batch, status)
            return Polled(action.shard, service.view(batch))
        return original(action)

    service.execute = slow  # type: ignore[method-assign]
    drive(core_for(store, tmp_path), service)
    finished = current(store, tmp_path)
    assert finished.succeeded == 12 and finished.failed == 0
    assert store.attempt_counts(job.id) == {1: 12}, "a refusal is not an attempt, even with max_attempts=1"
    summary = finished.summary()
    assert summary.token_limit_refusals >= 1
    assert summary.batches == 6 + summary.token_limit_refusals
    assert summary.token_budgets["gpt-4o-mini"] > 0
    assert any("enqueued-token limit" in note for note in summary.notes)
    refused = [b for b in service.batches.values() if b.get("errors")]
    assert all(b["metadata"]["submission"] == "1" for b in refused[:1])
    assert {b["metadata"]["submission"] for b in service.batches.values()} >= {"1", "2"}


def test_a_job_budget_keeps_its_in_flight_tokens_under_the_limit(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(20)], max_batch_requests=2)
    shard_tokens = plan_shards(store, job)[0].tokens
    store.close()
    store, job = new_job(tmp_path / "b", [line(f"r{i}") for i in range(20)], max_batch_requests=2)
    store.update_job(job.id, {"enqueued_token_limit": 2 * shard_tokens})
    service = FakeService(tmp_path / "service")
    drive(core_for(store, tmp_path / "b"), service)
    assert service.in_flight_peak == 2
    assert current(store, tmp_path / "b").succeeded == 20


# --- cancel, failures -----------------------------------------------------------------------------------------------


def test_cancel_stops_the_batches_in_flight_and_keeps_what_finished(tmp_path: Path) -> None:
    store, job = new_job(tmp_path, [line(f"r{i}") for i in range(8)], max_batch_requests=2, max_in_flight=2)
    service = FakeService(tmp_path / "service")
    core = core_for(store, tmp_path)
    now = 10.0
    while not service.batches or any(b["status"] == "validating" for b in service.batches.values()):
        for action in core.decide(now).actions:
            if isinstance(action, Poll) and action.batch_id == "batch_2":
                continue  # batch_2 stays running
            core.record(service.execute(action), now)
        now += 1.0
        if len(service.batches) >= 2 and service.batches["batch_1"]["status"] == "completed":
            break
    store.update_job(job.id, {"status": CANCELLING})
    actions = core.decide(now).actions
    assert Cancel(2, "batch_2") in actions
    for action in actions:
        core.record(service.execute(action), now)
    drive(core, service)
    finished = current(store, tmp_path)
    assert finished.status == "cancelled"
    assert (finished.succeeded, finished.cancelled) == (2, 6)
    codes = [code for _, _, code in statuses(finished)]
    assert codes == [None, None] + ["cancelled"] * 6
    assert not [f for f in service.files.values() if f["purpose"] == "batch"]


def test_a_transient_failure_waits_and_retries_a_permanent_one_raises(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line("r0")])
    core = core_for(store, tmp_path)
    (upload,) = core.decide(0.0).actions
    core.record(Failed(upload, APIConnectionError("reset"), transient=True), 0.0)
    step = core.decide(0.5)
    assert step.actions == [] and 1.0 <= step.wait <= 2.0
    (look,) = core.decide(2.5).actions
    assert isinstance(look, FindUpload), "a failed upload may have arrived: look before sending again"
    with pytest.raises(OpenAIBatchesError, match="refused for good"):
        core.record(Failed(look, OpenAIBatchesError("refused for good"), transient=False), 3.0)


def test_the_core_reports_changes_only_when_something_moved(tmp_path: Path) -> None:
    store, _ = new_job(tmp_path, [line("r0")])
    core = core_for(store, tmp_path)
    service = FakeService(tmp_path / "service", end=lambda b: "validating")
    for now in (1.0, 2.0):
        for action in core.decide(now).actions:
            core.record(service.execute(action), now)
    core.changed = False
    (poll,) = core.decide(10.0).actions
    core.record(Polled(poll.shard, service.view(service.batches["batch_1"])), 10.0)
    assert core.changed is False


def test_prices_are_dollars_per_million_tokens_with_cached_input_apart() -> None:
    price = ModelPrice.of({"input": 1.0, "output": 2.0, "cached_input": 0.5}, "m")
    assert price.cost(1_000_000, 400_000, 1_000_000) == pytest.approx(0.6 + 0.2 + 2.0)
    assert ModelPrice(input=1.0, output=2.0).cost(1_000_000, 400_000, 0) == pytest.approx(1.0)
    for bad in ({"input": 1.0}, {"input": -1, "output": 1}, {"input": "1", "output": 1}, 3.0):
        with pytest.raises(InvalidParameterError, match="the price of 'm'"):
            ModelPrice.of(bad, "m")
