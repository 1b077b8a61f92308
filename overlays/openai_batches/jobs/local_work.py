"""The driver's hands on the store and the state directory: reading a `JobView`, carrying out the core's effects.

Every batch of effects is one transaction fenced by the runner's lease (`JobStore.fenced`): the lease check and the
writes commit together or not at all, so a runner that lost the job (paused past its lease, then continued) records
nothing, and a step is never half-recorded. Everything here blocks (SQLite, file copies, merges): the async driver
runs it in a worker thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from .core import JobView
from .crash import crash_point
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
from .errors import JobLeaseLostError
from .lease import lease_lost
from .merge import merge_shard
from .planning import plan_shards, write_shard_file
from .records import REQUEST_CANCELLED, JobRecord, Lease, ShardState
from .store import JobStore, LeaseLost, ShardChanged


class LocalWork:
    def __init__(self, store: JobStore, job: JobRecord, lease: Lease) -> None:
        self.store = store
        self.job = job
        self.lease = lease

    def view(self) -> JobView:
        store = self.store
        job = store.get_job(self.job.name)
        if job is None or job.id != self.job.id:
            raise LookupError(f"job {self.job.name} was deleted while it ran")
        self.job = job
        batches, files = store.known_remote_ids(job.id)
        capped = job.max_cost is not None  # what the cost budget is counted from, read only for a job with one
        return JobView(
            job=job,
            shards=tuple(store.active_shards(job.id)),
            budgets=store.budgets(job.id),
            has_pending=store.has_pending(job.id),
            known_batches=batches,
            known_files=files,
            models=store.models(job.id) if capped or job.token_limits is not None else {},
            usage=store.usage(job.id) if capped else {},
        )

    def apply(self, effects: Sequence[Effect]) -> None:
        if not effects:
            return
        try:
            with self.store.fenced(self.job.id, self.lease):
                for effect in effects:
                    self._apply(effect)
        except LeaseLost as lost:
            raise lease_lost(self.job.name, lost.current) from None
        except ShardChanged as changed:
            raise JobLeaseLostError(
                f"job {self.job.name}: {changed}; another runner is changing the job, so this one stopped",
                job=self.job.name,
            ) from None
        if any(isinstance(effect, MergeShard) for effect in effects):
            crash_point("merged")

    def _apply(self, effect: Effect) -> None:
        store, job = self.store, self.job
        if isinstance(effect, SaveShard):
            store.save_shard(effect.before, effect.after)
        elif isinstance(effect, SetJobStatus):
            # A cancel may have moved the job on meanwhile: then nothing changes, and the next decision sees it.
            store.set_job_status(job.id, effect.before, effect.after, effect.finished_at)
        elif isinstance(effect, AddBatch):
            store.add_batch(effect.batch)
        elif isinstance(effect, EndBatch):
            store.update_batch(
                job.id,
                effect.batch_id,
                {
                    "status": effect.status,
                    "output_file_id": effect.output_file_id,
                    "error_file_id": effect.error_file_id,
                    "input_tokens": effect.input_tokens,
                    "cached_tokens": effect.cached_tokens,
                    "output_tokens": effect.output_tokens,
                    **_timeline(effect.in_progress_at, effect.finalizing_at, effect.requests),
                    "ended_at": effect.ended_at,
                },
            )
        elif isinstance(effect, MoveBatch):
            changes = _timeline(effect.in_progress_at, effect.finalizing_at, effect.requests)
            store.update_batch(job.id, effect.batch_id, {"status": effect.status, **changes})
        elif isinstance(effect, SaveBudget):
            budget = effect.budget
            store.update_budget(
                job.id, budget.model, {"budget": budget.budget, "refusals": budget.refusals, "ended": budget.ended}
            )
        elif isinstance(effect, AddResultFiles):
            for kind, path in effect.files:
                store.add_result_file(job.id, effect.batch_id, kind, str(path))
        elif isinstance(effect, WriteShardFile):
            if not effect.path.exists():  # written once per shard and attempt: the same bytes every time
                write_shard_file(store, job, effect.shard, effect.path)
        elif isinstance(effect, RemoveShardFile):
            effect.path.unlink(missing_ok=True)
        elif isinstance(effect, PlanShards):
            plan_shards(store, job)
        elif isinstance(effect, MergeShard):
            shard = effect.shard
            files = [(number, Path(path)) for number, path in store.batch_result_files(job.id, shard.batch_id or "")]
            merge_shard(store, job, shard, files, cancelling=effect.cancelling)
        elif isinstance(effect, StopWaiting):
            self._stop_waiting(effect)

    def _stop_waiting(self, effect: StopWaiting) -> None:
        store, job = self.store, self.job
        message = "the job was cancelled before this request ran"
        store.add_counts(job.id, store.finish_waiting(job.id, None, REQUEST_CANCELLED, "cancelled", message))
        for shard in effect.shards:
            counts = store.finish_waiting(job.id, shard.id, REQUEST_CANCELLED, "cancelled", message)
            store.add_counts(job.id, counts)
            store.save_shard(shard, dataclasses.replace(shard, state=ShardState.MERGED))


def _timeline(
    in_progress_at: float | None, finalizing_at: float | None, requests: tuple[int, int, int]
) -> dict[str, object]:
    """The batch's times and counts to record: a time the service did not report keeps the one recorded before."""
    total, completed, failed = requests
    changes: dict[str, object] = {"requests_total": total, "requests_completed": completed, "requests_failed": failed}
    if in_progress_at is not None:
        changes["in_progress_at"] = in_progress_at
    if finalizing_at is not None:
        changes["finalizing_at"] = finalizing_at
    return changes
