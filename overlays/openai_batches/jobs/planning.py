"""Shards: the waiting requests of a job cut, in input order, into batches the service accepts.

A shard holds requests of one model and one attempt number (the service refuses mixed models; a retry shard
carries its attempt in the batch metadata). It is cut greedily at the limits of the job's service (`provider_rules.py`:
OpenAI's 50,000 requests, 200 MB and 50,000 embedding inputs, for one), at `max_batch_requests`, and at
`enqueued_token_limit` when one is set, so that no shard
alone is more than the service would ever admit. Each query reads at most one shard's requests: memory is flat in
the size of the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..batch_input import DEFAULT_LIMITS
from .crash import crash_point
from .files import replacing
from .ingest import line_digest
from .input_check import change_error, check_stat, open_input
from .provider_rules import rules_named
from .records import JobRecord, ShardRecord, model_limits
from .store import JobStore


@dataclass(frozen=True)
class ShardLimits:
    max_requests: int = DEFAULT_LIMITS.max_requests
    max_bytes: int = DEFAULT_LIMITS.max_bytes
    max_embedding_inputs: int = DEFAULT_LIMITS.max_embedding_inputs
    max_tokens: int | None = None
    # Per model, instead of max_tokens (a model it leaves out has no limit).
    model_tokens: Mapping[str, int] | None = None

    def tokens_for(self, model: str) -> int | None:
        """The token limit a shard of `model` is cut at."""
        return self.max_tokens if self.model_tokens is None else self.model_tokens.get(model)

    @classmethod
    def of(cls, job: JobRecord) -> ShardLimits:
        """The limits of the job's provider, with the job's own caps."""
        rules = rules_named(job.provider)
        requests = rules.max_requests
        if job.max_batch_requests is not None:
            requests = min(requests, job.max_batch_requests)
        return cls(
            max_requests=requests,
            max_bytes=rules.max_bytes,
            max_embedding_inputs=rules.max_embedding_inputs,
            max_tokens=job.enqueued_token_limit,
            model_tokens=None if job.token_limits is None else model_limits(job.token_limits),
        )


def plan_shards(store: JobStore, job: JobRecord, limits: ShardLimits | None = None) -> list[ShardRecord]:
    """Cut every waiting request of the job into new shards; returns them (each recorded in its own transaction)."""
    limits = limits or ShardLimits.of(job)
    planned: list[ShardRecord] = []
    names = store.models(job.id) if limits.model_tokens is not None else {}
    while (group := store.next_unplanned(job.id, limits.max_requests)) is not None:
        attempts, model, rows = group
        max_tokens = limits.tokens_for(names.get(model, ""))
        lines: list[int] = []
        size = tokens = inputs = max_output = unbounded = 0
        for line, length, line_tokens, line_inputs, line_max_output in rows:
            if lines and (
                size + length + 1 > limits.max_bytes
                or inputs + line_inputs > limits.max_embedding_inputs
                or (max_tokens is not None and tokens + line_tokens > max_tokens)
            ):
                break
            lines.append(line)
            size += length + 1
            tokens += line_tokens
            inputs += line_inputs
            if line_max_output is None:
                unbounded += 1
            else:
                max_output += line_max_output
        with store.transaction():
            shard = ShardRecord(
                job=job.id,
                id=store.next_shard_id(job.id),
                attempt=attempts + 1,
                model=model,
                requests=len(lines),
                bytes=size,
                tokens=tokens,
                max_output=max_output,
                unbounded=unbounded,
            )
            store.add_shard(shard, lines)
        crash_point("plan")
        planned.append(shard)
    return planned


def shard_filename(job: JobRecord, shard: ShardRecord) -> str:
    """The upload's filename: unique per job, shard and attempt, so a resumed run can find an upload it lost."""
    return f"{job.name}.{job.uid}.shard{shard.id}.attempt{shard.attempt}.jsonl"


def write_shard_file(store: JobStore, job: JobRecord, shard: ShardRecord, target: Path) -> Path:
    """The shard's requests as a JSONL file, copied byte for byte from the job's input.

    The input is checked first by its stat, and every request against its digest from ingest as it is copied: an
    input changed since the job read it raises `JobInputChangedError` (naming the first line that differs) and
    leaves nothing at `target`, so no changed byte is uploaded.
    """
    with open_input(job) as source, replacing(target) as out:
        check_stat(store, job, source)
        for _line, offset, length, digest in store.shard_input(job.id, shard.id):
            source.seek(offset)
            data = source.read(length)
            if len(data) != length or (digest is not None and line_digest(data) != digest):
                raise change_error(store, job)
            out.write(data)
            out.write(b"\n")
    return target
