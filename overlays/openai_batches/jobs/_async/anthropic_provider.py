"""Anthropic's Message Batches as a job's provider: the same job, shards sent as one create with the requests inline.

- *Upload* is local: the shard's lines are translated into Anthropic requests (`anthropic_lines.py`) and written
  beside the shard file, synced before they take their name; its "file id" is that path (`local:` and the path).
  Nothing reaches the service, so an interrupted one is simply done again (`find_upload` finds nothing).
- *Create* sends that file's requests in one `POST /v1/messages/batches`, the lines as bytes (a shard is held as
  its encoded requests, never as objects). A step's creates go one at a time, in
  the order the core asked for them (shard order), each after the one before was answered: so the service's
  batches of a step are created in shard order.
- *Finding a batch again* after a crash between the create's intent and its record: Message Batches carry no
  metadata, so the shard's batch is found by its size. The candidates are the batches created since the intent
  that hold exactly the shard's number of requests and that the job does not hold already; the shards looked for
  in one step (in shard order, one at a time) take them oldest first, each one no other shard took. Creates went
  out in that same order, so when a kill left several shards of one size unrecorded, the first ones are the ones
  that were sent. Requests are matched to results by custom_id, so a batch taken wrongly (another client's, of
  the same size in the same seconds) answers none of the shard's requests: they are sent again, never given
  another's answers.
- *Results* are streamed and written as Batch API result lines (`anthropic_service.py`), in the order the service
  sends them; the merge matches them to the requests by custom_id, so a job's results come in input order.
- *Reconcile* finds nothing: without metadata the service cannot tell a job's batches from others, and no batch is
  cancelled on a guess.

Written once, for `AsyncAnthropicBatchClient`; `jobs/_sync/anthropic_provider.py` (`AnthropicProvider`) is generated
from this file by `make unasync`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

import attrs

from ..._exceptions import ConflictError, NotFoundError
from .._concurrency import AsyncPause, AsyncSerial, offload
from ..actions import (
    BatchesFound,
    Cancel,
    CancelSent,
    Create,
    Created,
    DeleteUpload,
    Download,
    Downloaded,
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
from ..anthropic_lines import to_request
from ..anthropic_service import message_batch_view, result_line
from ..crash import crash_point
from ..creation import Account
from ..files import PartFile
from ..provider_rules import ANTHROPIC_RULES, ProviderRules
from ..settings import account_fingerprint

if TYPE_CHECKING:
    from ...anthropic import AsyncAnthropicBatchClient

LOCAL: Final = "local:"
PAGE: Final = 100


def staged_path(shard_file: Path) -> Path:
    """Where the translated requests of a shard file are kept until its batch's results are merged."""
    return shard_file.with_name(shard_file.stem + ".anthropic.jsonl")


def _stage(shard_file: Path) -> Path:
    """Translate the shard file's lines into Anthropic requests, written (and synced) beside it."""
    target = staged_path(shard_file)
    part = PartFile(target)
    try:
        with shard_file.open("rb") as lines:
            for line in lines:
                if line.strip():
                    part.write(json.dumps(to_request(line), ensure_ascii=False, separators=(",", ":")).encode())
                    part.write(b"\n")
        part.commit()
    finally:
        part.discard()
    return target


class AsyncAnthropicProvider:
    """Jobs on Anthropic's Message Batches through an `AsyncAnthropicBatchClient`."""

    def __init__(
        self,
        client: AsyncAnthropicBatchClient,
        rules: ProviderRules = ANTHROPIC_RULES,
        *,
        _serial: AsyncSerial | None = None,
        _claimed: set[str] | None = None,
    ) -> None:
        self._client = client
        self._rules = rules
        # Shared with the copies `pausing` makes: one run's creates and finds queue in one line, and a batch one
        # shard took is not taken by another.
        self._serial = _serial if _serial is not None else AsyncSerial()
        self._claimed = _claimed if _claimed is not None else set()

    @property
    def rules(self) -> ProviderRules:
        return self._rules

    @property
    def account(self) -> Account:
        # A key belongs to one workspace, whose batches it sees: the job's batches are found with the same key.
        return Account(str(self._client.base_url), account_fingerprint(self._client.api_key))

    @property
    def clock(self) -> Callable[[], float]:
        return self._client._options.retry.clock

    async def sleep(self, seconds: float) -> None:
        await self._client._options.retry.async_sleep(seconds)

    def pausing(self, pause: AsyncPause) -> AsyncAnthropicProvider:
        policy = attrs.evolve(self._client._options.retry, async_sleep=pause)
        client = self._client.with_options(retry_policy=policy)
        return AsyncAnthropicProvider(client, self._rules, _serial=self._serial, _claimed=self._claimed)

    async def upload(self, action: Upload) -> Uploaded:
        staged = await offload(_stage, action.path)
        return Uploaded(action.shard, LOCAL + str(staged))

    async def find_upload(self, action: FindUpload) -> UploadsFound:
        return UploadsFound(action.shard, ())

    async def create(self, action: Create) -> Created:
        lines = await offload(Path(action.file_id.removeprefix(LOCAL)).read_bytes)
        async with self._serial:
            batch = await self._client.messages.batches._create_from_lines(lines)
        view = message_batch_view(batch.to_dict())
        self._claimed.add(view.id)
        return Created(action.shard, view)

    async def find_batch(self, action: FindBatch) -> BatchesFound:
        async with self._serial:
            found = []
            async for batch in self._client.messages.batches.list(limit=PAGE):
                view = message_batch_view(batch.to_dict())
                if view.created_at < action.since:
                    break
                taken = view.id in action.known or view.id in self._claimed
                if view.total == action.requests and not taken:
                    found.append(view)
            if not found:
                return BatchesFound(action.shard, ())
            # Listed newest first: the oldest candidate is the shard's. Only it is returned, so that nothing of
            # another shard (or client) is cancelled as a duplicate.
            oldest = found[-1]
            self._claimed.add(oldest.id)
            return BatchesFound(action.shard, (oldest,))

    async def poll(self, action: Poll) -> Polled:
        batch = await self._client.messages.batches.retrieve(action.batch_id)
        return Polled(action.shard, message_batch_view(batch.to_dict()))

    async def cancel(self, action: Cancel) -> CancelSent:
        try:
            batch = await self._client.messages.batches.cancel(action.batch_id)
        except (ConflictError, NotFoundError):
            return CancelSent(action.shard, None)
        return CancelSent(action.shard, message_batch_view(batch.to_dict()))

    async def download(self, action: Download) -> Downloaded:
        files: list[tuple[str, Path | None]] = []
        for kind, batch_id, path in action.files:
            files.append((kind, await self._download(batch_id, path)))
        return Downloaded(action.shard, tuple(files))

    async def delete_upload(self, action: DeleteUpload) -> UploadDeleted:
        if action.file_id.startswith(LOCAL):
            await offload(Path(action.file_id.removeprefix(LOCAL)).unlink, missing_ok=True)
        else:
            # The job's "result file" at the service is its ended batch: deleting it deletes its results.
            with contextlib.suppress(NotFoundError, ConflictError):
                await self._client.messages.batches.delete(action.file_id)
        return UploadDeleted(action.shard, action.file_id)

    async def reconcile(self, action: Reconcile) -> Reconciled:
        return Reconciled((), ())

    async def _download(self, batch_id: str, path: Path) -> Path | None:
        """The batch's results as Batch API result lines in `path` (synced before it takes the name); None if the
        service no longer has them."""
        try:
            async with await self._client.messages.batches.results(batch_id) as results:
                part = await offload(PartFile, path)
                try:
                    first = True
                    async for result in results:
                        line = result_line(batch_id, result.to_dict())
                        if line is None:
                            continue
                        await offload(part.write, json.dumps(line, ensure_ascii=False).encode() + b"\n")
                        if first:
                            await offload(part.flush)
                            crash_point("download")
                            first = False
                    await offload(part.commit)
                finally:
                    await offload(part.discard)
        except NotFoundError:
            return None
        return path
