"""The job's decisions, written once and free of I/O: given the job as the store holds it and what the service last
said, what to do next.

`JobCore.decide(view, now)` takes a `JobView` (plain records read by the driver) and returns a `Step`: actions on
the service (upload this shard, create that batch, poll, download, cancel, delete an upload, reconcile) and local
effects (save this shard, plan shards, write a shard file, merge these results). `record(event, now)` takes what
came of one action and returns the effects that record it. The core never touches the network, the disk or a
clock; a driver (`_async/driver.py`, and the sync twin generated from it) carries the effects out through
`local_work.py` and runs the actions, so both clients share every rule here, and a test drives the core with data.

Exactly once: before an upload or a create is sent, its intent is an effect of the step that sends it (state
UPLOADING / CREATING, with the moment it was made), committed before the request; its outcome is committed after.
A shard found in either state when a run decides was left by a run that stopped in between (or its request failed
on the way), so the core first looks for what may have been made (an upload by its unique filename, a batch by the
job, shard, attempt and submission in its metadata) and adopts it; only when nothing is found does it send again,
with the same Idempotency-Key. Extra uploads found are deleted, extra batches cancelled. A job taken over from a
runner that may still be alive is reconciled now and then (every batch and upload of the job at the service
compared with the store), and every job once before it finishes.

A job with a cost budget (`max_cost`) holds a planned shard back, before its upload intent, when done plus in
flight plus the shard would pass it (`budget.py` says how that is estimated); once nothing is in flight and nothing
left fits, the job pauses, and a paused job goes on as soon as its budget admits a shard again.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..prices import PriceTable
from .actions import (
    Action,
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    DeleteUpload,
    Download,
    Downloaded,
    Event,
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
from .budget import Spend, job_prices, spend_of
from .effects import (
    AddBatch,
    AddResultFiles,
    Effect,
    EndBatch,
    MergeShard,
    MoveBatch,
    PlanShards,
    RemoveShardFile,
    SaveBudget,
    SaveShard,
    SetJobStatus,
    StopWaiting,
    WriteShardFile,
)
from .planning import shard_filename
from .records import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    CREATED,
    FINISHED_STATUSES,
    IN_PROGRESS,
    PAUSED,
    BatchRecord,
    BudgetRecord,
    JobRecord,
    ModelUsage,
    ShardRecord,
    ShardState,
)
from .service import META_ATTEMPT, META_JOB, META_JOB_ID, META_SHARD, META_SUBMISSION, BatchView

# How far back a resumed run looks for an upload or a batch it may have made: clocks of client and service differ.
CLOCK_SLACK: Final = 300.0
FAILURE_BACKOFF_MAX: Final = 60.0
# A shard refused for the token limit while none of the job's batches of its model run waits this long, doubling.
TOKEN_WAIT_FIRST: Final = 30.0
TOKEN_WAIT_MAX: Final = 900.0
POLL_BACKOFF: Final = 1.5
IDLE: Final = 60.0
# A contested job is reconciled at most this often (and at least once per lease).
RECONCILE_MIN: Final = 5.0

# The shard states whose batch counts against max_in_flight and the token budget.
IN_FLIGHT: Final = (ShardState.UPLOADING, ShardState.UPLOADED, ShardState.CREATING, ShardState.SUBMITTED)


@dataclass(frozen=True)
class JobView:
    """The job as the driver read it from the store before a decision."""

    job: JobRecord
    shards: tuple[ShardRecord, ...]  # the active ones (not done), by id
    budgets: Mapping[int, BudgetRecord] = field(default_factory=dict)
    has_pending: bool = False  # requests wait for a shard
    known_batches: frozenset[str] = frozenset()  # every batch id the job ever recorded
    known_files: frozenset[str] = frozenset()  # every upload id the job ever recorded
    # Read only for a job with a cost budget or per-model token limits: its models' names (to price them, to find
    # their limits), and for a budget its batches' usage.
    models: Mapping[int, str] = field(default_factory=dict)
    usage: Mapping[int, ModelUsage] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    actions: list[Action] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    done: bool = False
    wait: float = 0.0  # when there are no actions: seconds until something is due
    # Local work only (merging, planning, stopping waiting requests): carry out the effects and decide again at once.
    local: bool = False


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
        job: JobRecord,
        folder: Path,
        *,
        poll_interval: float,
        max_poll_interval: float,
        lease_seconds: float = 120.0,
    ) -> None:
        self.job = job
        self.folder = folder
        self.poll_interval = poll_interval
        self.max_poll_interval = max(max_poll_interval, poll_interval)
        self.reconcile_every = max(lease_seconds, RECONCILE_MIN)
        self.changed = True
        self._shards: dict[int, ShardRecord] = {}
        self._budgets: dict[int, BudgetRecord] = {}
        self._known: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self._names: Mapping[int, str] = {}
        self._effects: list[Effect] = []
        self._polls: dict[int, _PollClock] = {}
        # (shard, UPLOADING or CREATING) looked for at the service and not found: sent now without looking again.
        # A shard in either state otherwise is looked for first: a run stopped, or the request failed, after its
        # intent was committed, and what it asked for may be there.
        self._checked: set[tuple[int, ShardState]] = set()
        self._retry_at: dict[int, float] = {}
        # Failures in a row, per shard (None: the clean-up of extras found while recovering).
        self._failures: dict[int | None, int] = defaultdict(int)
        # Clean-up found while recovering (extra uploads to delete, extra batches to cancel), with when it is due.
        self._extra: list[tuple[float, Action]] = []
        self._reconcile_due: float | None = None  # set on the first decision of a contested job
        self._reconciled_before_finish = False
        # The job's cost budget as counted for this decision (None: no budget), and whether it held a shard back.
        self._spend: Spend | None = None
        self._held = False
        self._prices: tuple[str | None, PriceTable] | None = None

    # --- deciding --------------------------------------------------------------------------------------------

    def decide(self, view: JobView, now: float) -> Step:
        job = view.job
        self.job = job
        self._shards = {shard.id: shard for shard in view.shards}
        self._budgets = dict(view.budgets)
        self._known = (view.known_batches, view.known_files)
        self._names = view.models
        self._effects = []
        if job.status in FINISHED_STATUSES:
            return Step(done=True)
        self._spend = self._spending(view)
        self._held = False
        if job.status == PAUSED:
            # Paused at its budget: it stays paused (the run returns at once) until the budget admits a shard.
            if self._over_budget(view.shards):
                return Step(done=True)
            self.changed = True
            return Step(effects=[SetJobStatus(PAUSED, IN_PROGRESS)], local=True)
        if job.status == CREATED:
            return Step(effects=[SetJobStatus(CREATED, IN_PROGRESS)], local=True)
        cancelling = job.status == CANCELLING
        shards = list(view.shards)

        merges: list[Effect] = [
            MergeShard(shard, cancelling)
            for shard in shards
            if shard.state == ShardState.DOWNLOADED
            or (shard.state == ShardState.ENDED and not (shard.output_file_id or shard.error_file_id))
        ]
        if merges:
            self.changed = True
            return Step(effects=merges, local=True)
        if cancelling:
            unsent = tuple(shard for shard in shards if self._unsent(shard))
            if unsent or view.has_pending:
                self.changed = True
                return Step(effects=[StopWaiting(unsent)], local=True)
        elif view.has_pending and not any(shard.state == ShardState.PLANNED for shard in shards):
            # Retries wait until the shards planned before them have all started, so they gather into few batches.
            # (Planning is no news for on_update: a job's snapshot counts requests and batches in flight.)
            return Step(effects=[PlanShards()], local=True)

        if job.lease_contested and (self._reconcile_due is None or self._reconcile_due <= now):
            # Alone in its step: nothing this runner sends can be listed before it is recorded.
            self._reconcile_due = now + self.reconcile_every
            return Step(actions=[self._reconcile(job)])

        actions: list[Action] = [action for due, action in self._extra if due <= now]
        self._extra = [(due, action) for due, action in self._extra if due > now]
        tally = _Tally()
        waits: list[float] = []
        candidates: list[ShardRecord] = []
        for shard in shards:
            if shard.state in IN_FLIGHT:
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
        effects = self._take_effects()
        if self._held and not actions and not effects and not waits and self._over_budget(shards):
            # Nothing in flight, and the budget admits none of what is left: pause (resumable with a higher one).
            self.changed = True
            return Step(effects=[SetJobStatus(job.status, PAUSED)], done=True)
        if not actions and not effects and not waits and not shards:
            if not self._reconciled_before_finish and any(self._known):
                return Step(actions=[self._reconcile(job)])
            self.changed = True
            status = CANCELLED if cancelling else COMPLETED
            return Step(effects=[SetJobStatus(job.status, status, now)], done=True)
        if effects and not actions:
            return Step(effects=effects, local=True)  # shards done: look again at once, the job may be finished
        if job.lease_contested and self._reconcile_due is not None:
            waits.append(self._reconcile_due - now)
        wait = max(min(waits, default=IDLE), 0.0)
        return Step(actions, effects, wait=wait)

    def _reconcile(self, job: JobRecord) -> Reconcile:
        return Reconcile(job.created_at - CLOCK_SLACK, job.uid, f"{job.name}.{job.uid}.")

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
            since = (shard.intent_at or now) - CLOCK_SLACK
            known = self._known[0]
            return FindBatch(shard.id, self._metadata(job, shard), since, requests=shard.requests, known=known)
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
            self._save(shard, dataclasses.replace(shard, state=ShardState.DONE))
            self._effects.append(RemoveShardFile(self._shard_path(shard)))
        return None

    def _submit(
        self, job: JobRecord, candidates: list[ShardRecord], tally: _Tally, now: float, waits: list[float]
    ) -> list[Action]:
        """Start shards while max_in_flight and each model's token budget allow: uploaded ones first."""
        order = (ShardState.UPLOADED, ShardState.TOKEN_WAIT, ShardState.PLANNED)
        actions: list[Action] = []
        for shard in sorted(candidates, key=lambda s: (order.index(s.state), s.id)):
            in_flight = tally.tokens[shard.model]
            budget = self._budget(shard.model)
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
            if not self._fits(job.token_limit(self._names.get(shard.model, "")), shard, in_flight, budget):
                continue
            if shard.state == ShardState.PLANNED and not self._affordable(shard):
                # Held back before its upload intent: nothing of it was sent, and nothing will be while it waits.
                self._held = True
                continue
            if self._spend is not None and shard.state == ShardState.PLANNED:
                self._spend.in_flight += self._spend.shard(shard)
            if shard.state == ShardState.PLANNED:
                uploading = dataclasses.replace(
                    shard, state=ShardState.UPLOADING, filename=shard_filename(job, shard), intent_at=now
                )
                self._save(shard, uploading)
                actions.append(self._upload(job, uploading))
            else:
                actions.append(self._start_batch(job, shard, in_flight, now))
            tally.count += 1
            tally.tokens[shard.model] += shard.tokens
        return actions

    def _start_batch(self, job: JobRecord, shard: ShardRecord, tokens_ahead: int, now: float) -> Create:
        """Record the intent to create the shard's batch (a new submission after a token-limit refusal)."""
        creating = dataclasses.replace(
            shard,
            state=ShardState.CREATING,
            submission=shard.submission + (1 if shard.state == ShardState.TOKEN_WAIT else 0),
            intent_at=now,
            tokens_ahead=tokens_ahead,
        )
        self._save(shard, creating)
        return self._create(job, creating)

    def _spending(self, view: JobView) -> Spend | None:
        """The job's spend as the budget counts it (see `budget.py`): None for a job without a budget."""
        job = view.job
        if job.max_cost is None:
            return None
        if self._prices is None or self._prices[0] != job.prices:
            self._prices = (job.prices, job_prices(job))
        return spend_of(view.models, view.usage, self._prices[1], view.shards)

    def _affordable(self, shard: ShardRecord) -> bool:
        """Whether the budget admits the shard beside what is done and in flight."""
        spend, limit = self._spend, self.job.max_cost
        return spend is None or limit is None or spend.total + spend.shard(shard) <= limit

    def _over_budget(self, shards: tuple[ShardRecord, ...] | list[ShardRecord]) -> bool:
        """Every shard left is planned, none is affordable: the state a job pauses in (and stays paused in)."""
        return (
            self._spend is not None
            and bool(shards)
            and all(shard.state == ShardState.PLANNED for shard in shards)
            and not any(self._affordable(shard) for shard in shards)
        )

    def _budget(self, model: int) -> BudgetRecord:
        """The model's budget record; one that has learned nothing yet if the store holds none."""
        return self._budgets.get(model) or BudgetRecord(job=self.job.id, model=model)

    @staticmethod
    def _fits(job_limit: int | None, shard: ShardRecord, in_flight: int, budget: BudgetRecord) -> bool:
        limits = [job_limit, budget.budget]
        limit = min((value for value in limits if value is not None), default=None)
        # One shard alone always goes: planning keeps it under the job's limit, and nothing else would move.
        return limit is None or in_flight == 0 or in_flight + shard.tokens <= limit

    def _upload(self, job: JobRecord, shard: ShardRecord) -> Upload:
        path = self._shard_path(shard)
        self._effects.append(WriteShardFile(shard, path))
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

    # --- recording -------------------------------------------------------------------------------------------

    def record(self, event: Event, now: float) -> list[Effect]:
        """The effects that record `event`; the core's own picture of the shards moves with them."""
        self.changed = True
        self._effects = []
        if isinstance(event, Failed):
            self._failed(event, now)
            return self._take_effects()
        self._failures.pop(event.shard, None)
        if isinstance(event, Uploaded):
            shard = self._shard(event.shard)
            self._save(shard, dataclasses.replace(shard, state=ShardState.UPLOADED, file_id=event.file_id))
        elif isinstance(event, UploadsFound):
            if event.file_ids:
                first, *extra = event.file_ids
                shard = self._shard(event.shard)
                self._save(shard, dataclasses.replace(shard, state=ShardState.UPLOADED, file_id=first))
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
                shard = self._shard(event.shard)
                self._save(shard, dataclasses.replace(shard, cancel_requested=True))
                if event.batch is not None:
                    self._polled(event.shard, event.batch, now)
        elif isinstance(event, Downloaded):
            shard = self._shard(event.shard)
            files = tuple((kind, path) for kind, path in event.files if path is not None)
            self._effects.append(AddResultFiles(shard.batch_id or "", files))
            self._save(shard, dataclasses.replace(shard, state=ShardState.DOWNLOADED))
        elif isinstance(event, UploadDeleted):
            if event.shard is not None:  # None: an extra upload, now forgotten
                shard = self._shard(event.shard)
                self._save(shard, dataclasses.replace(shard, input_deleted=True))
        elif isinstance(event, Reconciled):
            self._reconciled(event, now)
        return self._take_effects()

    def _reconciled(self, event: Reconciled, now: float) -> None:
        """Cancel the job's batches and delete its uploads that no record names, except what a shard in flight
        may yet adopt (its FindUpload / FindBatch looks for exactly that)."""
        self._reconciled_before_finish = True
        known_batches, known_files = self._known
        creating = {
            (str(shard.id), str(shard.attempt), str(shard.submission))
            for shard in self._shards.values()
            if shard.state == ShardState.CREATING
        }
        uploading = {shard.filename for shard in self._shards.values() if shard.state == ShardState.UPLOADING}
        for batch in event.batches:
            if batch.id in known_batches or batch.terminal:
                continue
            key = tuple(batch.metadata.get(name, "") for name in (META_SHARD, META_ATTEMPT, META_SUBMISSION))
            if key not in creating:
                self._extra.append((now, Cancel(None, batch.id)))
        for file_id, filename in event.files:
            if file_id not in known_files and filename not in uploading:
                self._extra.append((now, DeleteUpload(None, file_id)))

    def _failed(self, event: Failed, now: float) -> None:
        action = event.action
        shard = action.shard
        # The request may have reached the service before it failed: look before sending it again.
        if isinstance(action, Upload):
            self._checked.discard((action.shard, ShardState.UPLOADING))
        elif isinstance(action, Create):
            self._checked.discard((action.shard, ShardState.CREATING))
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
        self._save(
            shard,
            dataclasses.replace(shard, state=ShardState.SUBMITTED, batch_id=batch.id, batch_status=batch.status),
        )
        self._effects.append(
            AddBatch(
                BatchRecord(
                    job=job.id,
                    batch_id=batch.id,
                    shard=shard_id,
                    attempt=shard.attempt,
                    submission=shard.submission,
                    model=shard.model,
                    status=batch.status,
                    created_at=batch.created_at or now,
                    in_progress_at=batch.in_progress_at,
                    finalizing_at=batch.finalizing_at,
                    requests_total=batch.total,
                    requests_completed=batch.completed,
                    requests_failed=batch.failed,
                )
            )
        )
        self._polls[shard_id] = _PollClock(now + self.poll_interval, self.poll_interval, batch.progress)
        if batch.terminal:
            self._polled(shard_id, batch, now)

    def _polled(self, shard_id: int, batch: BatchView, now: float) -> None:
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
                self._save(shard, dataclasses.replace(shard, batch_status=batch.status))
                # A service that leaves out a timestamp: the batch moved no later than this answer.
                started = batch.in_progress_at or (now if batch.status == "in_progress" else None)
                finalizing = batch.finalizing_at or (now if batch.status == "finalizing" else None)
                counts = (batch.total, batch.completed, batch.failed)
                self._effects.append(MoveBatch(batch.id, batch.status, started, finalizing, counts))
            return
        self._polls.pop(shard_id, None)
        budget = self._budget(shard.model)
        self._effects.append(
            EndBatch(
                batch.id,
                batch.status,
                batch.output_file_id,
                batch.error_file_id,
                batch.input_tokens,
                batch.cached_tokens,
                batch.output_tokens,
                batch.in_progress_at,
                batch.finalizing_at,
                batch.ended_at or now,
                (batch.total, batch.completed, batch.failed),
            )
        )
        if batch.token_limited:
            self._token_refused(shard, budget, now)
            return
        self._save_budget(dataclasses.replace(budget, ended=budget.ended + 1))
        self._save(
            shard,
            dataclasses.replace(
                shard,
                state=ShardState.ENDED,
                batch_status=batch.status,
                output_file_id=batch.output_file_id,
                error_file_id=batch.error_file_id,
                errors=json.dumps([dict(error) for error in batch.errors]) if batch.errors else None,
                input_tokens=batch.input_tokens,
                cached_tokens=batch.cached_tokens,
                output_tokens=batch.output_tokens,
            ),
        )

    def _token_refused(self, shard: ShardRecord, budget: BudgetRecord, now: float) -> None:
        """The service refused the batch for its enqueued-token limit: not an attempt. The shard waits, and the
        budget for its model drops to what the service had accepted alongside it."""
        refusals = budget.refusals + 1
        learned = budget.budget
        if shard.tokens_ahead > 0:
            learned = shard.tokens_ahead if learned is None else min(learned, shard.tokens_ahead)
        self._save_budget(dataclasses.replace(budget, refusals=refusals, budget=learned))
        self._save(
            shard,
            dataclasses.replace(
                shard,
                state=ShardState.TOKEN_WAIT,
                batch_status="failed",
                wait_ended=budget.ended,
                wait_until=now + min(TOKEN_WAIT_FIRST * 2.0 ** (refusals - 1), TOKEN_WAIT_MAX),
            ),
        )

    # --- helpers ---------------------------------------------------------------------------------------------

    def _shard(self, shard_id: int) -> ShardRecord:
        shard = self._shards.get(shard_id)
        if shard is None:
            raise LookupError(f"shard {shard_id} of job {self.job.name} is not active")
        return shard

    def _save(self, before: ShardRecord, after: ShardRecord) -> None:
        """An effect that saves the shard, and the core's picture of it updated to match."""
        self._effects.append(SaveShard(before, after))
        if after.state == ShardState.DONE:
            self._shards.pop(after.id, None)  # no longer active: an event about it is refused by name
        else:
            self._shards[after.id] = after
        self.changed = True

    def _save_budget(self, budget: BudgetRecord) -> None:
        self._effects.append(SaveBudget(budget))
        self._budgets[budget.model] = budget

    def _take_effects(self) -> list[Effect]:
        effects, self._effects = self._effects, []
        return effects
