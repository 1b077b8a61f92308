"""The job's decisions, written once: given the store and what the service last said, what to do next.

`JobCore` never touches the network, never sleeps and never reads a clock: `decide(now)` returns the actions to run
(upload this shard, create that batch, poll, download, cancel, delete an upload), and `record(event, now)` takes
what came of one. Local work (planning shards, writing a shard's file, merging downloaded results) happens inside
`decide`, against the store and the state directory. The sync and async runners are thin loops that run the actions
with `BatchClient` or `AsyncBatchClient`, so both share every rule here, and a test can drive the core by feeding
it events.

Exactly once: before an upload or a create is sent, its intent is committed (state UPLOADING / CREATING, with the
moment it was made); its outcome is committed after. A shard found in either state when a run decides was left by a
run that stopped in between (or its request failed on the way), so the core first looks for what may have been made
(an upload by its unique filename, a batch by the job, shard, attempt and submission in its metadata) and adopts it;
only when nothing is found does it send again, with the same Idempotency-Key. Extra uploads found are deleted, extra
batches cancelled.

The runners record what came of every action of a step before they ask for the next one, so a shard never has two
requests out at once.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from .crash import crash_point
from .merge import merge_shard
from .planning import plan_shards, shard_filename, write_shard_file
from .records import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    CREATED,
    FINISHED_STATUSES,
    IN_PROGRESS,
    REQUEST_CANCELLED,
    BatchRecord,
    BudgetRecord,
    JobRecord,
    ShardRecord,
    ShardState,
)
from .service import META_ATTEMPT, META_JOB, META_JOB_ID, META_SHARD, META_SUBMISSION, BatchView
from .store import JobStore

# How far back a resumed run looks for an upload or a batch it may have made: clocks of client and service differ.
CLOCK_SLACK: Final = 300.0
FAILURE_BACKOFF_MAX: Final = 60.0
# A shard refused for the token limit while none of the job's batches of its model run waits this long, doubling.
TOKEN_WAIT_FIRST: Final = 30.0
TOKEN_WAIT_MAX: Final = 900.0
POLL_BACKOFF: Final = 1.5
IDLE: Final = 60.0


# --- actions: what the core asks a runner to do -------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    shard: int
    path: Path
    filename: str
    idempotency_key: str


@dataclass(frozen=True)
class FindUpload:
    shard: int
    filename: str
    since: float


@dataclass(frozen=True)
class Create:
    shard: int
    file_id: str
    endpoint: str
    completion_window: str
    metadata: Mapping[str, str]
    idempotency_key: str


@dataclass(frozen=True)
class FindBatch:
    shard: int
    metadata: Mapping[str, str]
    since: float


@dataclass(frozen=True)
class Poll:
    shard: int
    batch_id: str


@dataclass(frozen=True)
class Cancel:
    shard: int | None  # None: an extra batch found while recovering, not a shard's own
    batch_id: str


@dataclass(frozen=True)
class Download:
    shard: int
    batch_id: str
    # (kind, file id, where to write it)
    files: tuple[tuple[str, str, Path], ...]


@dataclass(frozen=True)
class DeleteUpload:
    shard: int | None  # None: an extra upload found while recovering, not a shard's own
    file_id: str


Action = Upload | FindUpload | Create | FindBatch | Poll | Cancel | Download | DeleteUpload


# --- events: what came of an action -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    shard: int
    file_id: str


@dataclass(frozen=True)
class UploadsFound:
    shard: int
    file_ids: tuple[str, ...]  # oldest first


@dataclass(frozen=True)
class Created:
    shard: int
    batch: BatchView


@dataclass(frozen=True)
class BatchesFound:
    shard: int
    batches: tuple[BatchView, ...]  # oldest first


@dataclass(frozen=True)
class Polled:
    shard: int
    batch: BatchView


@dataclass(frozen=True)
class CancelSent:
    shard: int | None
    batch: BatchView | None  # None: the service would not cancel it (already final); the next poll tells


@dataclass(frozen=True)
class Downloaded:
    shard: int
    # (kind, path); path None: the service no longer has the file
    files: tuple[tuple[str, Path | None], ...]


@dataclass(frozen=True)
class UploadDeleted:
    shard: int | None
    file_id: str


@dataclass(frozen=True)
class Failed:
    action: Action
    error: Exception
    transient: bool


Event = Uploaded | UploadsFound | Created | BatchesFound | Polled | CancelSent | Downloaded | UploadDeleted | Failed


@dataclass(frozen=True)
class Step:
    actions: list[Action]
    done: bool = False
    wait: float = 0.0  # when there are no actions: seconds until something is due


@dataclass
class _PollClock:
    due: float
    interval: float
    last: tuple[str, int, int, int] | None = None


@dataclass
class _Tally:
    """The job's batches committed to the service per model: counted against max_in_flight and the token budget."""

    count: int = 0
    tokens: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class JobCore:
    def __init__(
        self,
        store: JobStore,
        job: JobRecord,
        folder: Path,
        *,
        poll_interval: float,
        max_poll_interval: float,
    ) -> None:
        self.store = store
        self.job = job
        self.folder = folder
        self.poll_interval = poll_interval
        self.max_poll_interval = max(max_poll_interval, poll_interval)
        self.changed = True
        self._polls: dict[int, _PollClock] = {}
        # (shard, UPLOADING or CREATING) looked for at the service and not found: sent now without looking again.
        # A shard in either state otherwise is looked for first: a run stopped, or the request failed, after its
        # intent was committed, and what it asked for may be there.
        self._checked: set[tuple[int, str]] = set()
        self._retry_at: dict[int, float] = {}
        # Failures in a row, per shard (None: the clean-up of extras found while recovering).
        self._failures: dict[int | None, int] = defaultdict(int)
        # Clean-up found while recovering (extra uploads to delete, extra batches to cancel), with when it is due.
        self._extra: list[tuple[float, Action]] = []

    # --- deciding --------------------------------------------------------------------------------------------

    def decide(self, now: float) -> Step:
        job = self._reload()
        if job.status in FINISHED_STATUSES:
            return Step([], done=True)
        if job.status == CREATED:
            self.store.update_job(job.id, {"status": IN_PROGRESS})
            job = self._reload()
        cancelling = job.status == CANCELLING
        actions: list[Action] = [action for due, action in self._extra if due <= now]
        self._extra = [(due, action) for due, action in self._extra if due > now]

        shards = self._local_work(job, cancelling)
        if cancelling:
            shards = self._stop_waiting_shards(job, shards)
        elif not any(shard.state == ShardState.PLANNED for shard in shards) and plan_shards(self.store, job):
            # Retries wait until the shards planned before them have all started, so they gather into few batches.
            # (Planning is no news for on_update: a job's snapshot counts requests and batches in flight.)
            shards = self.store.active_shards(job.id)

        tally = _Tally()
        waits: list[float] = []
        candidates: list[ShardRecord] = []
        for shard in shards:
            if shard.state in (ShardState.UPLOADING, ShardState.UPLOADED, ShardState.CREATING, ShardState.SUBMITTED):
                tally.count += 1
                tally.tokens[shard.model] += shard.tokens
            retry_at = self._retry_at.get(shard.id, 0.0)
            if retry_at > now:
                waits.append(retry_at - now)
                continue
            action = self._next_for(job, shard, now, cancelling)
            if action is not None:
                actions.append(action)
            elif shard.state == ShardState.SUBMITTED:
                waits.append(self._polls[shard.id].due - now)
            elif shard.state in (ShardState.PLANNED, ShardState.UPLOADED, ShardState.TOKEN_WAIT):
                candidates.append(shard)

        if not cancelling:
            actions += self._submit(job, candidates, tally, now, waits)

        waits += [due - now for due, _ in self._extra]
        if not actions and not self.store.active_shards(job.id) and not waits:
            self._finish(job, cancelling, now)
            return Step([], done=True)
        wait = max(min(waits, default=IDLE), 0.0)
        return Step(actions, wait=wait)

    def _reload(self) -> JobRecord:
        job = self.store.get_job(self.job.name)
        if job is None or job.id != self.job.id:
            raise LookupError(f"job {self.job.name} was deleted while it ran")
        self.job = job
        return job

    def _local_work(self, job: JobRecord, cancelling: bool) -> list[ShardRecord]:
        """Merge what was downloaded; the shards as they are after it."""
        shards = self.store.active_shards(job.id)
        merged = False
        for shard in shards:
            if shard.state == ShardState.DOWNLOADED or (
                shard.state == ShardState.ENDED and not (shard.output_file_id or shard.error_file_id)
            ):
                files = [
                    (number, Path(path)) for number, path in self.store.batch_result_files(job.id, shard.batch_id or "")
                ]
                merge_shard(self.store, job, shard, files, cancelling=cancelling)
                crash_point("merged")
                merged = True
        if merged:
            self.changed = True
            shards = self.store.active_shards(job.id)
        return shards

    def _stop_waiting_shards(self, job: JobRecord, shards: list[ShardRecord]) -> list[ShardRecord]:
        """The job is cancelling: requests the service has not got end `cancelled`; their shards end as merged
        (their uploads, if any, are deleted next)."""
        message = "the job was cancelled before this request ran"
        counts = self.store.finish_waiting(job.id, None, REQUEST_CANCELLED, "cancelled", message)
        changed = bool(counts)
        with self.store.transaction():
            self.store.add_counts(job.id, counts)
            for shard in shards:
                if self._unsent(shard):
                    shard_counts = self.store.finish_waiting(job.id, shard.id, REQUEST_CANCELLED, "cancelled", message)
                    self.store.add_counts(job.id, shard_counts)
                    self.store.update_shard(job.id, shard.id, {"state": ShardState.MERGED})
                    changed = True
        if changed:
            self.changed = True
            return self.store.active_shards(job.id)
        return shards

    def _unsent(self, shard: ShardRecord) -> bool:
        """Whether the service has no batch of the shard and none is on its way."""
        if shard.state in (ShardState.PLANNED, ShardState.UPLOADED, ShardState.TOKEN_WAIT):
            return True
        # An upload or a create looked for and not found: nothing was made, and while cancelling nothing will be.
        return (shard.id, shard.state) in self._checked

    def _next_for(self, job: JobRecord, shard: ShardRecord, now: float, cancelling: bool) -> Action | None:
        """The action a shard needs by its own state; None for a shard waiting its turn or its next poll."""
        state = shard.state
        if state == ShardState.UPLOADING:
            if (shard.id, state) in self._checked:
                return self._upload(job, shard)
            return FindUpload(
                shard.id, shard.filename or shard_filename(job, shard), (shard.intent_at or now) - CLOCK_SLACK
            )
        if state == ShardState.CREATING:
            if (shard.id, state) in self._checked:
                return self._create(job, shard)
            return FindBatch(shard.id, self._metadata(job, shard), (shard.intent_at or now) - CLOCK_SLACK)
        if state == ShardState.SUBMITTED:
            assert shard.batch_id is not None
            if cancelling and not shard.cancel_requested:
                return Cancel(shard.id, shard.batch_id)
            clock = self._polls.setdefault(shard.id, _PollClock(due=now, interval=self.poll_interval))
            return Poll(shard.id, shard.batch_id) if clock.due <= now else None
        if state == ShardState.ENDED:
            assert shard.batch_id is not None
            files = tuple(
                (kind, file_id, self.folder / "results" / f"{shard.batch_id}.{kind}.jsonl")
                for kind, file_id in (("output", shard.output_file_id), ("error", shard.error_file_id))
                if file_id
            )
            return Download(shard.id, shard.batch_id, files)
        if state == ShardState.MERGED:
            if shard.file_id and not shard.input_deleted:
                return DeleteUpload(shard.id, shard.file_id)
            self._set_shard(shard, {"state": ShardState.DONE})
            self._shard_path(shard).unlink(missing_ok=True)
        return None

    def _submit(
        self, job: JobRecord, candidates: list[ShardRecord], tally: _Tally, now: float, waits: list[float]
    ) -> list[Action]:
        """Start shards while max_in_flight and each model's token budget allow: uploaded ones first."""
        order = (ShardState.UPLOADED, ShardState.TOKEN_WAIT, ShardState.PLANNED)
        budgets = self.store.budgets(job.id)
        actions: list[Action] = []
        for shard in sorted(candidates, key=lambda s: (order.index(s.state), s.id)):
            in_flight = tally.tokens[shard.model]
            budget = self._budget(budgets, job, shard.model)
            if shard.state == ShardState.UPLOADED:
                # Admitted when its upload began (and counted in the tally since): it goes on to its batch.
                actions.append(self._start_batch(job, shard, in_flight - shard.tokens, now))
                continue
            if tally.count >= job.max_in_flight:
                continue
            if shard.state == ShardState.TOKEN_WAIT:
                assert shard.wait_until is not None
                # It waits for one of the job's batches of its model to end, or, with none running, for a while.
                if not (budget.ended > shard.wait_ended or (in_flight == 0 and now >= shard.wait_until)):
                    if in_flight == 0:
                        waits.append(shard.wait_until - now)
                    continue
            if not self._fits(job, shard, in_flight, budget):
                continue
            if shard.state == ShardState.PLANNED:
                filename = shard_filename(job, shard)
                self._set_shard(shard, {"state": ShardState.UPLOADING, "filename": filename, "intent_at": now})
                actions.append(self._upload(job, self._with(shard, filename=filename)))
            else:
                actions.append(self._start_batch(job, shard, in_flight, now))
            tally.count += 1
            tally.tokens[shard.model] += shard.tokens
        return actions

    def _start_batch(self, job: JobRecord, shard: ShardRecord, tokens_ahead: int, now: float) -> Create:
        """Record the intent to create the shard's batch (a new submission after a token-limit refusal)."""
        submission = shard.submission + (1 if shard.state == ShardState.TOKEN_WAIT else 0)
        changes = {
            "state": ShardState.CREATING,
            "submission": submission,
            "intent_at": now,
            "tokens_ahead": tokens_ahead,
        }
        self._set_shard(shard, changes)
        return self._create(job, self._with(shard, submission=submission))

    @staticmethod
    def _budget(budgets: Mapping[int, BudgetRecord], job: JobRecord, model: int) -> BudgetRecord:
        """The model's budget record; one that has learned nothing yet if the store holds none."""
        return budgets.get(model) or BudgetRecord(job=job.id, model=model)

    @staticmethod
    def _fits(job: JobRecord, shard: ShardRecord, in_flight: int, budget: BudgetRecord) -> bool:
        limits = [job.enqueued_token_limit, budget.budget]
        limit = min((value for value in limits if value is not None), default=None)
        # One shard alone always goes: planning keeps it under the job's limit, and nothing else would move.
        return limit is None or in_flight == 0 or in_flight + shard.tokens <= limit

    def _upload(self, job: JobRecord, shard: ShardRecord) -> Upload:
        path = self._shard_path(shard)
        if not path.exists():  # written once per shard and attempt, from the store: the same bytes every time
            write_shard_file(self.store, job, shard, path)
        filename = shard.filename or shard_filename(job, shard)
        return Upload(shard.id, path, filename, f"openai-batches-job:{job.uid}:{shard.id}:{shard.attempt}:upload")

    def _create(self, job: JobRecord, shard: ShardRecord) -> Create:
        assert shard.file_id is not None
        return Create(
            shard=shard.id,
            file_id=shard.file_id,
            endpoint=job.endpoint,
            completion_window=job.completion_window,
            metadata=self._metadata(job, shard),
            idempotency_key=f"openai-batches-job:{job.uid}:{shard.id}:{shard.attempt}:{shard.submission}",
        )

    @staticmethod
    def _metadata(job: JobRecord, shard: ShardRecord) -> dict[str, str]:
        return {
            META_JOB: job.name,
            META_JOB_ID: job.uid,
            META_SHARD: str(shard.id),
            META_ATTEMPT: str(shard.attempt),
            META_SUBMISSION: str(shard.submission),
        }

    def _shard_path(self, shard: ShardRecord) -> Path:
        return self.folder / "shards" / f"shard{shard.id}.attempt{shard.attempt}.jsonl"

    def _finish(self, job: JobRecord, cancelling: bool, now: float) -> None:
        self.store.update_job(job.id, {"status": CANCELLED if cancelling else COMPLETED, "finished_at": now})
        self._reload()
        self.changed = True

    # --- recording -------------------------------------------------------------------------------------------

    def record(self, event: Event, now: float) -> None:
        self.changed = True
        job = self.job
        if isinstance(event, Failed):
            self._failed(event, now)
            return
        self._failures.pop(event.shard, None)
        if isinstance(event, Uploaded):
            self.store.update_shard(job.id, event.shard, {"state": ShardState.UPLOADED, "file_id": event.file_id})
        elif isinstance(event, UploadsFound):
            if event.file_ids:
                first, *extra = event.file_ids
                self.store.update_shard(job.id, event.shard, {"state": ShardState.UPLOADED, "file_id": first})
                self._extra += [(now, DeleteUpload(None, file_id)) for file_id in extra]
            else:
                self._checked.add((event.shard, ShardState.UPLOADING))
        elif isinstance(event, Created):
            self._submitted(event.shard, event.batch, now)
        elif isinstance(event, BatchesFound):
            if event.batches:
                adopted, *duplicates = event.batches
                self._submitted(event.shard, adopted, now)
                self._extra += [(now, Cancel(None, batch.id)) for batch in duplicates if not batch.terminal]
            else:
                self._checked.add((event.shard, ShardState.CREATING))
        elif isinstance(event, Polled):
            self._polled(event.shard, event.batch, now)
        elif isinstance(event, CancelSent):
            if event.shard is not None:  # None: an extra batch, cancelled and forgotten
                self.store.update_shard(job.id, event.shard, {"cancel_requested": True})
                if event.batch is not None:
                    self._polled(event.shard, event.batch, now)
        elif isinstance(event, Downloaded):
            self._downloaded(event)
        elif isinstance(event, UploadDeleted) and event.shard is not None:  # None: an extra upload, now forgotten
            self._set_shard(self._shard(event.shard), {"input_deleted": True})

    def _failed(self, event: Failed, now: float) -> None:
        action = event.action
        shard = action.shard
        # The request may have reached the service before it failed: look before sending it again.
        if isinstance(action, Upload):
            self._checked.discard((shard, ShardState.UPLOADING))
        elif isinstance(action, Create):
            self._checked.discard((shard, ShardState.CREATING))
        if not event.transient:
            raise event.error
        self._failures[shard] += 1
        delay = min(2.0 ** self._failures[shard], FAILURE_BACKOFF_MAX)
        if shard is None:
            self._extra.append((now + delay, action))
        else:
            self._retry_at[shard] = now + delay

    def _submitted(self, shard_id: int, batch: BatchView, now: float) -> None:
        job = self.job
        shard = self._shard(shard_id)
        with self.store.transaction():
            self.store.update_shard(
                job.id, shard_id, {"state": ShardState.SUBMITTED, "batch_id": batch.id, "batch_status": batch.status}
            )
            self.store.add_batch(
                BatchRecord(
                    job=job.id,
                    batch_id=batch.id,
                    shard=shard_id,
                    attempt=shard.attempt,
                    submission=shard.submission,
                    model=shard.model,
                    status=batch.status,
                    created_at=batch.created_at or now,
                )
            )
        self._polls[shard_id] = _PollClock(now + self.poll_interval, self.poll_interval, batch.progress)
        if batch.terminal:
            self._polled(shard_id, batch, now)

    def _polled(self, shard_id: int, batch: BatchView, now: float) -> None:
        job = self.job
        shard = self._shard(shard_id)
        if shard.state != ShardState.SUBMITTED or shard.batch_id != batch.id:
            return  # an answer about an extra batch, or one already handled
        if not batch.terminal:
            clock = self._polls.setdefault(shard_id, _PollClock(due=now, interval=self.poll_interval))
            if clock.last is None or batch.status != clock.last[0]:
                # A new status: the next may follow quickly (a small batch runs in seconds), so look again soon.
                clock.interval = self.poll_interval
            else:
                # The same status: back off, since a batch may take up to 24 hours.
                clock.interval = min(clock.interval * POLL_BACKOFF, self.max_poll_interval)
            # Only a change of status or counts is news for on_update.
            self.changed = batch.progress != clock.last
            clock.last = batch.progress
            clock.due = now + clock.interval
            if batch.status != shard.batch_status:
                self.store.update_shard(job.id, shard_id, {"batch_status": batch.status})
            return
        self._polls.pop(shard_id, None)
        budget = self._budget(self.store.budgets(job.id), job, shard.model)
        with self.store.transaction():
            self.store.update_batch(
                job.id,
                batch.id,
                {
                    "status": batch.status,
                    "output_file_id": batch.output_file_id,
                    "error_file_id": batch.error_file_id,
                    "input_tokens": batch.input_tokens,
                    "cached_tokens": batch.cached_tokens,
                    "output_tokens": batch.output_tokens,
                },
            )
            if batch.token_limited:
                self._token_refused(job, shard, budget, now)
                return
            self.store.update_budget(job.id, shard.model, {"ended": budget.ended + 1})
            self.store.update_shard(
                job.id,
                shard_id,
                {
                    "state": ShardState.ENDED,
                    "batch_status": batch.status,
                    "output_file_id": batch.output_file_id,
                    "error_file_id": batch.error_file_id,
                    "errors": json.dumps([dict(error) for error in batch.errors]) if batch.errors else None,
                    "input_tokens": batch.input_tokens,
                    "cached_tokens": batch.cached_tokens,
                    "output_tokens": batch.output_tokens,
                },
            )

    def _token_refused(self, job: JobRecord, shard: ShardRecord, budget: BudgetRecord, now: float) -> None:
        """The service refused the batch for its enqueued-token limit: not an attempt. The shard waits, and the
        budget for its model drops to what the service had accepted alongside it."""
        refusals = budget.refusals + 1
        learned = budget.budget
        changes: dict[str, object] = {"refusals": refusals}
        if shard.tokens_ahead > 0:
            changes["budget"] = shard.tokens_ahead if learned is None else min(learned, shard.tokens_ahead)
        self.store.update_budget(job.id, shard.model, changes)
        self.store.update_shard(
            job.id,
            shard.id,
            {
                "state": ShardState.TOKEN_WAIT,
                "batch_status": "failed",
                "wait_ended": budget.ended,
                "wait_until": now + min(TOKEN_WAIT_FIRST * 2.0 ** (refusals - 1), TOKEN_WAIT_MAX),
            },
        )

    def _downloaded(self, event: Downloaded) -> None:
        job = self.job
        shard = self._shard(event.shard)
        with self.store.transaction():
            for kind, path in event.files:
                if path is not None:
                    self.store.add_result_file(job.id, shard.batch_id or "", kind, str(path))
            self.store.update_shard(job.id, shard.id, {"state": ShardState.DOWNLOADED})

    # --- helpers ---------------------------------------------------------------------------------------------

    def _shard(self, shard_id: int) -> ShardRecord:
        for shard in self.store.active_shards(self.job.id):
            if shard.id == shard_id:
                return shard
        raise LookupError(f"shard {shard_id} of job {self.job.name} is not active")

    def _set_shard(self, shard: ShardRecord, changes: Mapping[str, object]) -> None:
        self.store.update_shard(shard.job, shard.id, changes)
        self.changed = True

    @staticmethod
    def _with(shard: ShardRecord, **changes: object) -> ShardRecord:
        return dataclasses.replace(shard, **changes)  # type: ignore[arg-type]
