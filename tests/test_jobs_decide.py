"""The decision core as a pure function: plain records in, actions and effects out. No folder, no database.

Each test builds the `JobView` a driver would have read, calls `decide` or `record` with an instant of its own, and
checks the values that come back; the folder is a path that does not exist, and nothing here could open it.
tests/test_jobs_decisions.py drives the same core through the real store, one decision at a time.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from openai_batches.jobs.actions import (
    Cancel,
    Create,
    Created,
    DeleteUpload,
    Download,
    Failed,
    FindBatch,
    FindUpload,
    Poll,
    Polled,
    Reconcile,
    Reconciled,
    Upload,
    Uploaded,
)
from openai_batches.jobs.core import CLOCK_SLACK, JobCore, JobView
from openai_batches.jobs.effects import (
    AddBatch,
    EndBatch,
    MergeShard,
    PlanShards,
    RemoveShardFile,
    SaveBudget,
    SaveShard,
    SetJobStatus,
    StopWaiting,
    WriteShardFile,
)
from openai_batches.jobs.records import (
    TRANSITIONS,
    BatchRecord,
    BudgetRecord,
    IllegalTransition,
    JobRecord,
    ShardRecord,
    ShardState,
    check_transition,
)
from openai_batches.jobs.service import BatchView

FOLDER = Path("/nonexistent/state/jobs/eval")
UID = "0123456789abcdef"


def job(**changes: Any) -> JobRecord:
    record = JobRecord(
        id=1,
        name="eval",
        uid=UID,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        input_path="/nonexistent/requests.jsonl",
        input_hash="0" * 64,
        input_bytes=1000,
        spooled=False,
        base_url="https://api.openai.com/v1",
        account="acct",
        created_at=1000.0,
        status="in_progress",
        max_attempts=3,
        max_in_flight=2,
        enqueued_token_limit=None,
        max_batch_requests=None,
        token_estimator="heuristic",
        requests=10,
    )
    return dataclasses.replace(record, **changes)


def shard(shard_id: int = 1, **changes: Any) -> ShardRecord:
    return dataclasses.replace(
        ShardRecord(job=1, id=shard_id, attempt=1, model=0, requests=5, bytes=500, tokens=50), **changes
    )


def view(*shards: ShardRecord, **fields: Any) -> JobView:
    return JobView(job=fields.pop("job", job()), shards=shards, **fields)


def core(**settings: float) -> JobCore:
    return JobCore(job(), FOLDER, poll_interval=1.0, max_poll_interval=8.0, **settings)


def batch(batch_id: str, status: str, **fields: Any) -> BatchView:
    return BatchView(id=batch_id, status=status, created_at=1500.0, **fields)


# --- the job's own state ------------------------------------------------------------------------------------------


def test_a_created_job_is_first_marked_in_progress_as_local_work_alone() -> None:
    step = core().decide(view(job=job(status="created")), 2000.0)
    assert step.effects == [SetJobStatus("created", "in_progress")] and step.local and step.actions == []


def test_waiting_requests_are_planned_once_no_planned_shard_is_left() -> None:
    assert core().decide(view(has_pending=True), 2000.0).effects == [PlanShards()]
    planned = core().decide(view(shard(state=ShardState.PLANNED), has_pending=True), 2000.0)
    assert PlanShards() not in planned.effects, "retries wait until the shards planned before them have started"


def test_a_planned_shard_records_its_upload_intent_and_file_before_the_upload() -> None:
    step = core().decide(view(shard()), 2000.0)
    filename = f"eval.{UID}.shard1.attempt1.jsonl"
    path = FOLDER / "shards" / "shard1.attempt1.jsonl"
    uploading = shard(state=ShardState.UPLOADING, filename=filename, intent_at=2000.0)
    assert step.effects == [SaveShard(shard(), uploading), WriteShardFile(uploading, path)]
    assert step.actions == [Upload(1, path, filename, f"openai-batches-job:{UID}:1:1:upload")]
    assert not step.local and not step.done, "a step with requests to send is not for local work alone"


def test_a_shard_left_uploading_or_creating_is_looked_for_since_its_intent_before_anything_is_sent_again() -> None:
    uploading = shard(1, state=ShardState.UPLOADING, filename="f1", intent_at=2000.0)
    creating = shard(2, state=ShardState.CREATING, file_id="file-2", intent_at=2100.0)
    metadata = {"job": "eval", "job_id": UID, "shard": "2", "attempt": "1", "submission": "1"}
    assert core().decide(view(uploading, creating), 3000.0).actions == [
        FindUpload(1, "f1", 2000.0 - CLOCK_SLACK),
        FindBatch(2, metadata, 2100.0 - CLOCK_SLACK, requests=5, known=frozenset()),
    ]


def test_a_permanent_failure_stops_the_run_with_its_error() -> None:
    c = core()
    (upload,) = c.decide(view(shard()), 2000.0).actions
    refused = ValueError("400: invalid file")
    with pytest.raises(ValueError, match="400: invalid file") as raised:
        c.record(Failed(upload, refused, transient=False), 2001.0)
    assert raised.value is refused


def test_max_in_flight_holds_back_the_third_shard() -> None:
    step = core().decide(view(shard(1), shard(2), shard(3)), 2000.0)
    assert [action.shard for action in step.actions] == [1, 2]


def test_an_upload_then_a_create_each_recorded_from_the_state_before() -> None:
    c = core()
    uploading = shard(state=ShardState.UPLOADING, filename="f", intent_at=2000.0)
    c.decide(view(uploading), 2000.0)
    (save,) = c.record(Uploaded(1, "file-1"), 2001.0)
    uploaded = dataclasses.replace(uploading, state=ShardState.UPLOADED, file_id="file-1")
    assert save == SaveShard(uploading, uploaded)

    step = c.decide(view(uploaded), 2002.0)
    creating = dataclasses.replace(uploaded, state=ShardState.CREATING, intent_at=2002.0)
    metadata = {"job": "eval", "job_id": UID, "shard": "1", "attempt": "1", "submission": "1"}
    assert step.effects == [SaveShard(uploaded, creating)]
    assert step.actions == [
        Create(1, "file-1", "/v1/chat/completions", "24h", metadata, f"openai-batches-job:{UID}:1:1:1")
    ]

    effects = c.record(Created(1, batch("batch_1", "validating")), 2003.0)
    submitted = dataclasses.replace(creating, state=ShardState.SUBMITTED, batch_id="batch_1", batch_status="validating")
    record = BatchRecord(1, "batch_1", 1, 1, 1, 0, "validating", 1500.0)
    assert effects == [SaveShard(creating, submitted), AddBatch(record)]


def test_an_ended_batch_counts_for_its_model_and_is_downloaded_next() -> None:
    c = core()
    submitted = shard(state=ShardState.SUBMITTED, batch_id="batch_1", batch_status="in_progress", file_id="file-1")
    assert c.decide(view(submitted), 2000.0).actions == [Poll(1, "batch_1")]
    effects = c.record(Polled(1, batch("batch_1", "completed", output_file_id="out-1", input_tokens=7)), 2001.0)
    ended = dataclasses.replace(
        submitted, state=ShardState.ENDED, batch_status="completed", output_file_id="out-1", input_tokens=7
    )
    assert effects == [
        # The service gave no end time: the batch ended no later than the answer that said so.
        EndBatch("batch_1", "completed", "out-1", None, 7, 0, 0, ended_at=2001.0),
        SaveBudget(BudgetRecord(job=1, model=0, ended=1)),
        SaveShard(submitted, ended),
    ]
    (download,) = c.decide(view(ended), 2002.0).actions
    assert download == Download(1, "batch_1", (("output", "out-1", FOLDER / "results" / "batch_1.output.jsonl"),))


def test_a_downloaded_shard_is_merged_as_local_work_before_anything_is_sent() -> None:
    downloaded = shard(state=ShardState.DOWNLOADED, batch_id="batch_1")
    step = core().decide(view(downloaded, shard(2)), 2000.0)
    assert step.effects == [MergeShard(downloaded, False)] and step.local and step.actions == []


def test_a_token_limit_refusal_waits_and_teaches_the_budget_what_was_accepted_alongside() -> None:
    c = core()
    submitted = shard(state=ShardState.SUBMITTED, batch_id="batch_1", tokens_ahead=120)
    c.decide(view(submitted), 2000.0)
    errors = ({"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "line": None},)
    effects = c.record(Polled(1, batch("batch_1", "failed", errors=errors)), 2001.0)
    waiting = dataclasses.replace(
        submitted, state=ShardState.TOKEN_WAIT, batch_status="failed", wait_ended=0, wait_until=2031.0
    )
    assert effects[1:] == [
        SaveBudget(BudgetRecord(job=1, model=0, budget=120, refusals=1)),
        SaveShard(submitted, waiting),
    ]


def test_a_merged_shard_deletes_its_upload_then_ends_done_and_leaves_the_core() -> None:
    c = core()
    merged = shard(state=ShardState.MERGED, file_id="file-1")
    assert c.decide(view(merged), 2000.0).actions == [DeleteUpload(1, "file-1")]
    deleted = dataclasses.replace(merged, input_deleted=True)
    step = c.decide(view(deleted), 2001.0)
    done = dataclasses.replace(deleted, state=ShardState.DONE)
    assert step.effects == [SaveShard(deleted, done), RemoveShardFile(FOLDER / "shards" / "shard1.attempt1.jsonl")]
    assert step.local, "nothing to send: the driver decides again at once"
    with pytest.raises(LookupError, match="shard 1 of job eval is not active"):
        c.record(Polled(1, batch("batch_1", "completed")), 2002.0)


# --- finishing and reconciling ----------------------------------------------------------------------------------


def test_a_job_with_nothing_left_reconciles_once_then_finishes() -> None:
    c = core()
    known = view(known_batches=frozenset({"batch_1"}), known_files=frozenset({"file-1"}))
    (reconcile,) = c.decide(known, 3000.0).actions
    assert reconcile == Reconcile(1000.0 - CLOCK_SLACK, UID, f"eval.{UID}.")
    assert (
        c.record(
            Reconciled((batch("batch_1", "completed"),), (("file-1", f"eval.{UID}.shard1.attempt1.jsonl"),)), 3001.0
        )
        == []
    )
    step = c.decide(known, 3002.0)
    assert step.done and step.effects == [SetJobStatus("in_progress", "completed", 3002.0)]


def test_a_job_that_never_sent_anything_finishes_without_a_reconcile() -> None:
    step = core().decide(view(), 3000.0)
    assert step.done and step.actions == [] and step.effects == [SetJobStatus("in_progress", "completed", 3000.0)]


def test_a_reconcile_cancels_and_deletes_only_what_no_record_names_and_no_shard_may_adopt() -> None:
    c = core()
    creating = shard(1, state=ShardState.CREATING, file_id="file-1", submission=2)
    uploading = shard(2, state=ShardState.UPLOADING, filename=f"eval.{UID}.shard2.attempt1.jsonl")
    contested = view(
        creating,
        uploading,
        job=job(lease_contested=True),
        known_batches=frozenset({"batch_known"}),
        known_files=frozenset({"file-1"}),
    )
    assert [type(a) for a in c.decide(contested, 2000.0).actions] == [Reconcile], "alone in its step, first"
    meta = {"job": "eval", "job_id": UID, "attempt": "1"}
    found = (
        batch("batch_known", "in_progress", metadata={**meta, "shard": "9", "submission": "1"}),
        batch("batch_stray", "validating", metadata={**meta, "shard": "3", "submission": "1"}),
        batch("batch_adoptable", "validating", metadata={**meta, "shard": "1", "submission": "2"}),
        batch("batch_paid", "completed", metadata={**meta, "shard": "4", "submission": "1"}),
    )
    uploads = (
        ("file-1", f"eval.{UID}.shard1.attempt1.jsonl"),
        ("file-stray", f"eval.{UID}.shard3.attempt1.jsonl"),
        ("file-adoptable", f"eval.{UID}.shard2.attempt1.jsonl"),
    )
    c.record(Reconciled(found, uploads), 2000.0)
    actions = c.decide(contested, 2000.0).actions
    assert Cancel(None, "batch_stray") in actions and DeleteUpload(None, "file-stray") in actions
    extras = [a for a in actions if getattr(a, "shard", 0) is None]
    assert extras == [Cancel(None, "batch_stray"), DeleteUpload(None, "file-stray")]


def test_a_contested_job_is_reconciled_again_after_a_lease() -> None:
    c = core(lease_seconds=30.0)
    contested = view(shard(state=ShardState.SUBMITTED, batch_id="b"), job=job(lease_contested=True))
    assert [type(a) for a in c.decide(contested, 2000.0).actions] == [Reconcile]
    c.record(Reconciled((), ()), 2000.0)
    assert [type(a) for a in c.decide(contested, 2001.0).actions] == [Poll]
    assert Reconcile not in [type(a) for a in c.decide(contested, 2029.0).actions]
    assert [type(a) for a in c.decide(contested, 2030.0).actions] == [Reconcile]


@pytest.mark.parametrize(("lease_seconds", "every"), [(None, 120.0), (1.0, 5.0)])
def test_a_contested_job_is_reconciled_once_a_lease_and_at_most_every_five_seconds(
    lease_seconds: float | None, every: float
) -> None:
    settings = {} if lease_seconds is None else {"lease_seconds": lease_seconds}  # None: the default two minutes
    c = core(**settings)
    contested = view(shard(state=ShardState.SUBMITTED, batch_id="b"), job=job(lease_contested=True))
    assert [type(a) for a in c.decide(contested, 2000.0).actions] == [Reconcile]
    c.record(Reconciled((), ()), 2000.0)
    assert Reconcile not in [type(a) for a in c.decide(contested, 2000.0 + every - 0.1).actions]
    assert [type(a) for a in c.decide(contested, 2000.0 + every).actions] == [Reconcile]


def test_a_contested_job_waits_no_longer_than_its_next_reconcile() -> None:
    c = JobCore(job(), FOLDER, poll_interval=100.0, max_poll_interval=100.0, lease_seconds=30.0)
    submitted = shard(state=ShardState.SUBMITTED, batch_id="b")
    contested = view(submitted, job=job(lease_contested=True))
    assert [type(a) for a in c.decide(contested, 2000.0).actions] == [Reconcile]
    c.record(Reconciled((), ()), 2000.0)
    assert c.decide(contested, 2001.0).actions == [Poll(1, "b")]
    c.record(Polled(1, batch("b", "in_progress")), 2001.0)
    step = c.decide(contested, 2002.0)
    assert (step.actions, step.wait) == ([], 28.0), "the next reconcile (at 2030) comes before the next poll (2101)"
    assert c.decide(view(submitted), 2002.0).wait == 99.0, "uncontested, only the poll is waited for"


def test_a_failed_reconcile_is_retried_after_a_backoff() -> None:
    c = core()
    known = view(known_batches=frozenset({"batch_1"}))
    (reconcile,) = c.decide(known, 3000.0).actions
    assert c.record(Failed(reconcile, ConnectionError("down"), transient=True), 3000.0) == []
    assert c.decide(known, 3001.0).actions == [] and c.decide(known, 3002.0).actions == [reconcile]


# --- cancelling -------------------------------------------------------------------------------------------------


def test_cancelling_ends_what_the_service_never_got_as_local_work() -> None:
    planned, submitted = shard(1), shard(2, state=ShardState.SUBMITTED, batch_id="batch_2")
    step = core().decide(view(planned, submitted, job=job(status="cancelling"), has_pending=True), 2000.0)
    assert step.effects == [StopWaiting((planned,))] and step.local
    step = core().decide(view(submitted, job=job(status="cancelling")), 2001.0)
    assert step.actions == [Cancel(2, "batch_2")]


# --- the table of transitions -----------------------------------------------------------------------------------


def test_every_state_but_done_leads_somewhere_and_a_jump_is_refused() -> None:
    assert all(TRANSITIONS[state] for state in ShardState if state != ShardState.DONE)
    check_transition(1, ShardState.SUBMITTED, ShardState.SUBMITTED)  # a new batch status: same state
    with pytest.raises(IllegalTransition, match="shard 7 cannot go from planned to submitted"):
        check_transition(7, ShardState.PLANNED, ShardState.SUBMITTED)
    with pytest.raises(IllegalTransition, match="from done to planned"):
        check_transition(7, ShardState.DONE, ShardState.PLANNED)
