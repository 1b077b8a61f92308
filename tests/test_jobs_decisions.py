"""The job core's decisions one by one: events fed by hand at chosen instants, the actions and waits it returns checked.

No service and no clock: each test builds the answers it needs (`BatchView`s, file ids) and passes `now` itself, so
the boundaries (a poll due exactly now, a token-limit wait ending exactly now, failures backing off up to a minute)
are pinned to the second. tests/test_jobs_core.py runs whole jobs against a fake service; this file takes one
decision at a time.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import StoreCore, line, new_job
from openai_batches._exceptions import APIConnectionError
from openai_batches.jobs.actions import (
    Action,
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    DeleteUpload,
    Download,
    Downloaded,
    Failed,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Reconcile,
    Reconciled,
    Upload,
    UploadDeleted,
    Uploaded,
    UploadsFound,
)
from openai_batches.jobs.core import Step
from openai_batches.jobs.records import CANCELLING, JobRecord, ShardRecord
from openai_batches.jobs.service import BatchView
from openai_batches.jobs.settings import job_folder

TOKEN_LIMITED = ({"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "line": None},)


class Harness:
    """A job's store and a core over it (a new one for each `resume()`: a run that stopped and started again)."""

    def __init__(self, tmp_path: Path, requests: int = 1, **settings: Any) -> None:
        self.tmp_path = tmp_path
        self.store, self.record = new_job(tmp_path, [line(f"r{i}") for i in range(requests)], **settings)
        self.core = self.resume()

    def resume(self) -> StoreCore:
        record = self.store.get_job("job")
        assert record is not None
        self.core = StoreCore(
            self.store, record, job_folder(self.tmp_path / "state", "job"), poll_interval=1.0, max_poll_interval=8.0
        )
        return self.core

    def decide(self, now: float) -> Step:
        return self.core.decide(now)

    def finish(self, now: float) -> Step:
        """The next decision, with the reconcile a job makes before it finishes answered: nothing unknown found."""
        step = self.core.decide(now)
        if [type(action) for action in step.actions] == [Reconcile]:
            self.core.record(Reconciled((), ()), now)
            step = self.core.decide(now)
        return step

    def actions(self, now: float) -> list[Action]:
        return self.core.decide(now).actions

    def shard(self, shard_id: int) -> ShardRecord:
        return next(s for s in self.store.active_shards(self.record.id) if s.id == shard_id)

    def job(self) -> JobRecord:
        record = self.store.get_job("job")
        assert record is not None
        return record

    def submit(self, now: float, shards: int = 1) -> None:
        """Upload and create the next `shards` shards; their batches are `batch_<shard>`, validating."""
        uploads = self.actions(now)
        assert [type(a) for a in uploads] == [Upload] * shards
        for action in uploads:
            self.core.record(Uploaded(action.shard, f"file-{action.shard}"), now)
        creates = self.actions(now)
        assert [type(a) for a in creates] == [Create] * shards
        for action in creates:
            self.core.record(Created(action.shard, view(f"batch_{action.shard}", "validating", now)), now)

    def end(self, shard: int, now: float, status: str = "completed", **fields: Any) -> None:
        self.core.record(Polled(shard, view(f"batch_{shard}", status, now, **fields)), now)


def view(batch_id: str, status: str, created_at: float = 0.0, **fields: Any) -> BatchView:
    return BatchView(id=batch_id, status=status, created_at=created_at, **fields)


def result_file(tmp_path: Path, name: str, answers: dict[str, int]) -> Path:
    path = tmp_path / name
    lines = [
        {"id": f"req_{cid}", "custom_id": cid, "response": {"status_code": code, "body": {}}, "error": None}
        for cid, code in answers.items()
    ]
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))
    return path


# --- starting and finishing ---------------------------------------------------------------------------------------


def test_the_first_decision_marks_the_job_in_progress(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    assert h.job().status == "created"
    h.decide(1.0)
    assert h.job().status == "in_progress"


def test_a_resumed_run_has_news_before_anything_comes_back(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    core = h.resume()
    assert h.actions(2.0) == [Poll(1, "batch_1")], "a resumed run polls what runs at once"
    assert core.changed, "so that on_update shows the job as the run finds it"


def test_the_step_that_finishes_a_job_says_done_and_so_does_every_later_one(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=1)
    h.submit(1.0)
    h.end(1, 2.0, output_file_id="out-1")
    (download,) = h.actions(2.0)
    assert isinstance(download, Download)
    path = result_file(tmp_path, "out.jsonl", {"r0": 200})
    h.core.record(Downloaded(1, (("output", path),)), 2.0)
    assert h.actions(3.0) == [DeleteUpload(1, "file-1")]
    h.core.record(UploadDeleted(1, "file-1"), 3.0)
    h.core.changed = False
    finishing = h.finish(4.0)
    assert finishing.done and finishing.actions == []
    assert h.job().status == "completed" and h.job().finished_at == 4.0
    assert h.core.changed
    assert h.decide(5.0).done and h.actions(5.0) == []
    shards = job_folder(tmp_path / "state", "job") / "shards"
    assert list(shards.glob("*.jsonl")) == [], "the shard's copy of its requests goes with its upload"


def test_a_job_deleted_or_replaced_while_it_runs_stops_its_core(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.decide(1.0)
    h.store.delete_job(h.record.id)
    with pytest.raises(LookupError, match="job job was deleted while it ran"):
        h.decide(2.0)
    # Another job of the same name is not this one.
    assert h.store.insert_job(h.record).id != h.record.id
    with pytest.raises(LookupError, match="job job was deleted while it ran"):
        h.decide(3.0)


# --- polling ----------------------------------------------------------------------------------------------------


def test_polls_come_at_the_interval_then_back_off_while_nothing_changes(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(10.0)
    assert h.decide(10.25) == Step([], wait=0.75), "the first poll is one interval after the create"
    assert h.actions(11.0) == [Poll(1, "batch_1")], "a poll due exactly now is sent now"
    now, intervals = 11.0, []
    for _ in range(7):
        h.end(1, now, status="validating")
        step = h.decide(now)
        assert step.actions == []
        intervals.append(step.wait)
        now += step.wait
        assert h.actions(now) == [Poll(1, "batch_1")]
    assert intervals == pytest.approx([1.5, 2.25, 3.375, 5.0625, 7.59375, 8.0, 8.0])
    h.end(1, now, status="in_progress")
    assert h.decide(now).wait == 1.0, "a new status: the next may follow soon"
    assert h.shard(1).batch_status == "in_progress"


def test_only_a_change_of_status_or_counts_is_news(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    h.core.changed = False
    h.decide(1.5)
    assert not h.core.changed, "a step with nothing due changes nothing"
    for now, counts, news in [(2.0, 0, True), (4.0, 0, False), (7.0, 5, True), (11.0, 5, False)]:
        h.core.record(Polled(1, view("batch_1", "in_progress", completed=counts, total=10)), now)
        assert h.core.changed is news
        h.core.changed = False


def test_an_upload_done_and_a_batch_created_are_news(tmp_path: Path) -> None:
    # on_update shows the batches in flight: the step a batch was created in must reach it.
    h = Harness(tmp_path)
    (upload,) = h.actions(1.0)
    h.core.changed = False
    h.core.record(Uploaded(upload.shard, "file-1"), 1.0)
    assert h.core.changed
    (create,) = h.actions(1.0)
    h.core.changed = False
    h.core.record(Created(create.shard, view("batch_1", "validating", 1.0)), 1.0)
    assert h.core.changed
    assert h.shard(1).batch_id == "batch_1"


def test_a_resumed_run_polls_at_once_and_then_at_the_first_interval(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    h.resume()
    assert h.actions(100.0) == [Poll(1, "batch_1")]
    h.end(1, 100.0, status="validating")
    assert h.decide(100.0).wait == 1.0


def test_answers_about_another_batch_or_an_ended_shard_change_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    h.core.record(Polled(1, view("batch_other", "completed", output_file_id="x")), 2.0)
    assert h.shard(1).state == "submitted"
    h.end(1, 3.0, output_file_id="out-1")
    h.core.record(Polled(1, view("batch_1", "failed", errors=TOKEN_LIMITED)), 4.0)
    shard = h.shard(1)
    assert (shard.state, shard.batch_status, shard.output_file_id) == ("ended", "completed", "out-1")


def test_an_event_about_a_shard_that_is_done_is_refused_by_name(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    h.end(1, 2.0)  # no files: merged at the next step
    h.actions(3.0)
    h.core.record(UploadDeleted(1, "file-1"), 3.0)
    h.decide(4.0)
    with pytest.raises(LookupError, match="shard 1 of job job is not active"):
        h.core.record(Polled(1, view("batch_1", "completed")), 5.0)


def test_an_ended_batch_records_its_status_files_errors_and_usage(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(1.0)
    errors = ({"code": "invalid_url", "message": "bad", "line": 1},)
    usage = {"input_tokens": 100, "cached_tokens": 40, "output_tokens": 7}
    h.end(1, 2.0, status="failed", errors=errors, error_file_id="err-1", **usage)
    (batch,) = h.store.batches(h.record.id)
    assert (batch.status, batch.output_file_id, batch.error_file_id) == ("failed", None, "err-1")
    assert (batch.input_tokens, batch.cached_tokens, batch.output_tokens) == (100, 40, 7)
    shard = h.shard(1)
    assert (shard.state, shard.batch_status, shard.error_file_id) == ("ended", "failed", "err-1")
    assert json.loads(shard.errors or "") == [dict(errors[0])]
    assert (shard.input_tokens, shard.cached_tokens, shard.output_tokens) == (100, 40, 7)
    assert h.store.budgets(h.record.id)[shard.model].ended == 1


def test_a_batch_keeps_the_services_creation_time_else_the_moment_it_was_recorded(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, f"file-{action.shard}"), 1.0)
    first, second = h.actions(2.0)
    h.core.record(Created(first.shard, view("batch_1", "validating", created_at=1234.0)), 3.0)
    h.core.record(Created(second.shard, view("batch_2", "validating", created_at=0.0)), 3.0)
    assert [(b.batch_id, b.created_at) for b in h.store.batches(h.record.id)] == [("batch_2", 3.0), ("batch_1", 1234.0)]


# --- merging --------------------------------------------------------------------------------------------------------


def test_a_download_is_merged_and_its_upload_deleted_in_one_step(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2)
    h.submit(1.0)
    h.end(1, 2.0, output_file_id="out-1")
    assert h.actions(2.0) == [
        Download(
            1,
            "batch_1",
            (("output", "out-1", job_folder(tmp_path / "state", "job") / "results" / "batch_1.output.jsonl"),),
        )
    ]
    path = result_file(tmp_path, "out.jsonl", {"r0": 200, "r1": 200})
    h.core.record(Downloaded(1, (("output", path), ("error", None))), 2.0)
    assert h.store.batch_result_files(h.record.id, "batch_1") == [(1, str(path))], (
        "a file gone from the service is skipped"
    )
    h.core.changed = False
    assert h.actions(3.0) == [DeleteUpload(1, "file-1")]
    assert h.core.changed and h.job().succeeded == 2


def test_a_shard_starts_as_soon_as_one_of_max_in_flight_ends(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=3, max_batch_requests=1, max_in_flight=2, max_attempts=1)
    h.submit(1.0, shards=2)
    assert h.actions(1.5) == [], "two in flight: shard 3 waits"
    h.end(1, 2.0)  # no files: merged at the next step
    actions = h.actions(2.0)
    assert [(type(a), a.shard) for a in actions] == [(DeleteUpload, 1), (Poll, 2), (Upload, 3)], "one ended: one more"


def test_retries_are_planned_once_no_earlier_shard_waits_even_while_others_run(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1, max_attempts=2)
    h.submit(1.0, shards=2)
    h.end(1, 2.0, output_file_id="out-1")
    h.actions(2.0)
    h.core.record(Downloaded(1, (("output", result_file(tmp_path, "out.jsonl", {"r0": 500})),)), 2.0)
    actions = h.actions(3.0)
    assert DeleteUpload(1, "file-1") in actions
    (upload,) = [a for a in actions if isinstance(a, Upload)]
    assert (upload.shard, h.shard(upload.shard).attempt) == (3, 2), "the retry goes while shard 2 still runs"


# --- failures -----------------------------------------------------------------------------------------------------


def fail(h: Harness, action: Action, now: float) -> None:
    h.core.record(Failed(action, APIConnectionError("connection reset"), transient=True), now)


def test_failures_in_a_row_back_off_doubling_up_to_a_minute_and_a_success_starts_over(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    now = 0.0
    (action,) = h.actions(now)
    waits = []
    for _ in range(7):
        fail(h, action, now)
        step = h.decide(now)
        assert step.actions == []
        waits.append(step.wait)
        now += step.wait
        (action,) = h.actions(now)
        assert isinstance(action, FindUpload), "a failed upload may have arrived: it is looked for first"
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    h.core.record(UploadsFound(1, ()), now)
    (upload,) = h.actions(now)
    assert isinstance(upload, Upload), "looked for and not found: sent without looking again"
    fail(h, upload, now)
    assert h.decide(now).wait == 2.0, "the success in between started the count over"
    assert isinstance(h.actions(now + 2.0)[0], FindUpload), "and the failed upload is looked for again"


def test_clean_up_of_extras_found_on_resume_is_retried_and_the_job_waits_for_it(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_attempts=1)
    h.decide(1.0)  # the upload's intent is committed; the run stops before its answer
    h.resume()
    (find,) = h.actions(2.0)
    assert isinstance(find, FindUpload)
    h.core.record(UploadsFound(1, ("file-a", "file-b")), 5.0)
    assert h.actions(5.0) == [DeleteUpload(None, "file-b"), Create(**create_fields(h, "file-a"))]
    fail(h, DeleteUpload(None, "file-b"), 5.0)
    h.core.record(Created(1, view("batch_1", "validating", 5.0)), 5.0)
    h.end(1, 6.0)  # ended without files: merged at the next step, which deletes the upload
    assert h.actions(6.0) == [DeleteUpload(1, "file-a")]
    h.core.record(UploadDeleted(1, "file-a"), 6.0)
    assert h.decide(6.0) == Step([], wait=1.0), "the job is not done while the extra upload is still there"
    assert h.actions(7.0) == [DeleteUpload(None, "file-b")], "due two seconds after it failed"
    h.core.record(UploadDeleted(None, "file-b"), 7.0)
    h.core.changed = False
    assert h.finish(7.0).done
    assert h.core.changed, "finishing is news"


def create_fields(h: Harness, file_id: str) -> dict[str, Any]:
    job = h.job()
    metadata = {"job": "job", "job_id": job.uid, "shard": "1", "attempt": "1", "submission": "1"}
    return {
        "shard": 1,
        "file_id": file_id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": metadata,
        "idempotency_key": f"openai-batches-job:{job.uid}:1:1:1",
    }


def test_a_failed_create_is_looked_for_before_it_is_sent_again(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, "file-1"), 1.0)
    (create,) = h.actions(2.0)
    fail(h, create, 2.0)
    (find,) = h.actions(4.0)
    assert isinstance(find, FindBatch)
    h.core.record(BatchesFound(1, ()), 4.0)
    assert h.actions(4.0) == [create], "looked for and not found: sent again, with the same key"
    fail(h, create, 4.0)
    assert [type(a) for a in h.actions(6.0)] == [FindBatch], "and after failing again, looked for again"


# --- recovery -------------------------------------------------------------------------------------------------------


def test_a_resumed_run_looks_for_the_upload_by_its_recorded_name_from_before_its_intent(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    (upload,) = h.actions(100.0)
    assert isinstance(upload, Upload)
    # A run of an earlier version named its uploads otherwise; the name it recorded is the one to look for.
    h.store.save_shard(h.shard(1), dataclasses.replace(h.shard(1), filename="named-by-an-earlier-run.jsonl"))
    upload.path.unlink()  # and the run stopped before its shard file was complete
    h.resume()
    assert h.actions(150.0) == [FindUpload(1, "named-by-an-earlier-run.jsonl", 100.0 - 300.0)]
    h.core.record(UploadsFound(1, ()), 150.0)
    (again,) = h.actions(151.0)
    assert again == Upload(1, upload.path, "named-by-an-earlier-run.jsonl", upload.idempotency_key)
    assert again.path.read_text() == json.dumps(line("r0")) + "\n"


def test_extra_batches_found_are_cancelled_unless_they_ended_and_the_adopted_one_stays_the_jobs(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, "file-1"), 1.0)
    h.actions(2.0)  # the create's intent is committed; the run stops before its answer
    h.resume()
    (find,) = h.actions(3.0)
    assert isinstance(find, FindBatch)
    found = (view("batch_a", "in_progress"), view("batch_b", "validating"), view("batch_c", "completed"))
    h.core.record(BatchesFound(1, found), 4.0)
    assert h.actions(4.0) == [Cancel(None, "batch_b")], "batch_a is polled a second after it was found"
    h.core.record(CancelSent(None, view("batch_b", "cancelled")), 4.0)
    assert (h.shard(1).batch_id, h.shard(1).cancel_requested) == ("batch_a", False)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    assert h.actions(4.5) == [Cancel(1, "batch_a")], "cancelling the job cancels the batch it adopted"


def test_a_found_batch_that_already_ended_is_downloaded_without_a_poll(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, "file-1"), 1.0)
    h.actions(2.0)
    h.resume()
    h.actions(3.0)
    h.core.record(BatchesFound(1, (view("batch_a", "completed", output_file_id="out-a"),)), 3.0)
    (download,) = h.actions(3.0)
    assert isinstance(download, Download) and download.batch_id == "batch_a"


# --- cancelling -----------------------------------------------------------------------------------------------------


def test_cancelling_ends_what_the_service_never_got_and_deletes_its_uploads(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=4, max_batch_requests=1, max_in_flight=2)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, f"file-{action.shard}"), 1.0)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    h.core.changed = False
    actions = h.actions(2.0)
    assert actions == [DeleteUpload(1, "file-1"), DeleteUpload(2, "file-2")], "nothing is created"
    assert h.core.changed and h.job().cancelled == 4
    for action in actions:
        h.core.record(UploadDeleted(action.shard, "x"), 2.0)
    assert h.finish(3.0).done and h.job().status == "cancelled"
    rows = list(h.store.results(h.record.id))
    assert {(r.outcome, r.error_code) for r in rows} == {("cancelled", "cancelled")}


def test_cancelling_is_news_even_when_only_uploads_are_left_to_delete(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1)
    for action in h.actions(1.0):
        h.core.record(Uploaded(action.shard, f"file-{action.shard}"), 1.0)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    h.core.changed = False
    assert h.actions(2.0) == [DeleteUpload(1, "file-1"), DeleteUpload(2, "file-2")]
    assert h.core.changed and h.job().cancelled == 2


def test_a_job_cancelled_before_it_ran_ends_every_request_cancelled(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=3)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    assert h.decide(1.0).done
    assert (h.job().status, h.job().cancelled) == ("cancelled", 3)


def test_cancelling_drops_an_upload_or_a_create_looked_for_and_not_found(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1)
    uploads = h.actions(1.0)
    h.core.record(Uploaded(uploads[0].shard, "file-1"), 1.0)
    h.actions(2.0)  # shard 1: create intended; shard 2: upload intended; the run stops
    h.resume()
    finds = h.actions(3.0)
    assert [type(a) for a in finds] == [FindBatch, FindUpload]
    h.core.record(BatchesFound(1, ()), 3.0)
    h.core.record(UploadsFound(2, ()), 3.0)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    assert h.actions(4.0) == [DeleteUpload(1, "file-1")], "neither is sent; shard 1's upload is deleted"
    assert h.job().cancelled == 2
    h.core.record(UploadDeleted(1, "file-1"), 4.0)
    assert h.finish(5.0).done


def test_a_running_batch_is_cancelled_once_and_the_answer_taken_as_a_poll(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1)
    h.submit(1.0, shards=2)
    h.store.update_job(h.record.id, {"status": CANCELLING})
    assert h.actions(1.5) == [Cancel(1, "batch_1"), Cancel(2, "batch_2")]
    h.core.record(CancelSent(1, view("batch_1", "cancelled")), 1.5)
    h.core.record(CancelSent(2, None), 1.5)  # the service would not cancel it: the next poll tells
    assert h.actions(1.5) == [DeleteUpload(1, "file-1")], "batch 1 ended cancelled: merged at once"
    assert h.job().cancelled == 1
    assert h.actions(2.0) == [DeleteUpload(1, "file-1"), Poll(2, "batch_2")], "no second cancel"


# --- the enqueued-token limit -----------------------------------------------------------------------------------------


def test_a_refused_shard_alone_waits_doubling_from_thirty_seconds_up_to_fifteen_minutes(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(0.0)
    now, waits = 0.0, []
    for submission in range(2, 9):
        h.end(1, now, status="failed", errors=TOKEN_LIMITED)
        step = h.decide(now)
        assert step.actions == []
        waits.append(step.wait)
        assert h.actions(now + step.wait - 0.5) == []
        now += step.wait
        (create,) = h.actions(now)
        assert isinstance(create, Create) and create.metadata["submission"] == str(submission)
        h.core.record(Created(1, view("batch_1", "validating")), now)
    assert waits == [30.0, 60.0, 120.0, 240.0, 480.0, 900.0, 900.0]
    job = h.job()
    assert h.store.budgets(job.id)[h.shard(1).model].budget is None, "refused alone: nothing learned of the limit"


def test_a_refused_shard_waits_for_a_batch_of_its_model_to_end_and_learns_the_budget(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=3, max_batch_requests=1, max_in_flight=3)
    h.submit(0.0, shards=3)
    tokens = h.shard(1).tokens
    assert [h.shard(i).tokens_ahead for i in (1, 2, 3)] == [2 * tokens] * 3, "the others in flight, not itself"
    h.end(3, 0.0, status="failed", errors=TOKEN_LIMITED)
    model = h.shard(3).model
    assert h.store.budgets(h.record.id)[model].budget == 2 * tokens
    # Long past its wait, it still waits while batches of its model run and none has ended.
    h.end(1, 100.0, status="in_progress")
    h.end(2, 100.0, status="in_progress")
    step = h.decide(100.0)
    assert step == Step([], wait=1.0), "and its own wait is not what the run sleeps on"
    h.end(1, 101.0, output_file_id="out-1")
    assert h.store.budgets(h.record.id)[model].ended == 1
    actions = h.actions(101.0)
    (create,) = [a for a in actions if isinstance(a, Create)]
    assert create.shard == 3 and create.metadata["submission"] == "2"
    assert h.shard(3).tokens_ahead == tokens, "shard 2 runs beside it now"
    h.core.record(Created(3, view("batch_3b", "validating")), 101.0)
    h.core.record(Polled(3, view("batch_3b", "failed", errors=TOKEN_LIMITED)), 101.0)
    assert h.store.budgets(h.record.id)[model].budget == tokens, "the budget only comes down"


def test_a_refusal_with_a_single_token_ahead_still_teaches_the_budget(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.submit(0.0)
    h.store.save_shard(h.shard(1), dataclasses.replace(h.shard(1), tokens_ahead=1))
    h.decide(0.0)  # the core reads the store when it decides
    h.end(1, 0.0, status="failed", errors=TOKEN_LIMITED)
    assert h.store.budgets(h.record.id)[h.shard(1).model].budget == 1


def test_a_shard_over_the_budget_goes_alone_and_the_next_waits_for_room(tmp_path: Path) -> None:
    h = Harness(tmp_path, requests=2, max_batch_requests=1)
    model = h.store.model_id(h.record.id, "gpt-4o-mini")
    h.store.update_budget(h.record.id, model, {"budget": 1})  # learned from a refusal, below any shard
    h.submit(0.0)
    assert h.shard(1).tokens > 1, "nothing else in flight: it goes all the same"
    assert h.decide(0.5) == Step([], wait=0.5), "the second would pass the budget beside it"
    h.end(1, 1.0)
    assert [type(a) for a in h.actions(1.0)] == [DeleteUpload, Upload], "room again"
