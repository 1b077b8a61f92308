"""The seam between the job runner and a service: what a job needs of the place its batches run.

The decision core asks for actions (`actions.py`) and learns from events; a provider carries out each action on its
service and answers with the event, in the core's terms. How a shard becomes a submission (an upload and a create,
or one create with the requests inline), how a submission is found again after a crash, how results are read and
normalised to the Batch API's result lines, and what one batch may hold (`rules`) are the provider's; the core, the
store, the merge, the estimate, the tables and the report are the same for every provider.

A provider raises the library's errors (`OpenAIBatchesError` and its subclasses) for what the service answered; the
runner decides from them. It writes nothing to the job's store: the runner records every event, fenced by its lease.

Written once, for async code; `jobs/_sync/provider.py` (`JobProvider`) is generated from this file by
`make unasync`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .._concurrency import AsyncPause
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
from ..creation import Account
from ..provider_rules import ProviderRules


class AsyncJobProvider(Protocol):
    """What a job runner needs of a service. OpenAI and Azure OpenAI (`AsyncOpenAIProvider`) and Anthropic's
    Message Batches are implementations."""

    @property
    def rules(self) -> ProviderRules:
        """What one batch of this service holds; the name kept with the job."""
        ...

    @property
    def account(self) -> Account:
        """Where the job's batches live and whose they are: a job resumes only with the same."""
        ...

    @property
    def clock(self) -> Callable[[], float]:
        """The runner's clock (the client's retry clock, so that tests inject one for both)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """The runner's pause between steps with nothing to do."""
        ...

    def pausing(self, pause: AsyncPause) -> AsyncJobProvider:
        """This provider with its retry pauses taken by `pause` (which checks the runner's lease after sleeping)."""
        ...

    async def upload(self, action: Upload) -> Uploaded:
        """Put the shard's lines where a create can name them."""
        ...

    async def find_upload(self, action: FindUpload) -> UploadsFound:
        """The uploads an interrupted `upload` of the shard may have made, oldest first."""
        ...

    async def create(self, action: Create) -> Created:
        """Start the shard's batch."""
        ...

    async def find_batch(self, action: FindBatch) -> BatchesFound:
        """The batches an interrupted `create` of the shard may have started, oldest first (the core adopts the
        first and cancels the others: return only batches known to be this shard's)."""
        ...

    async def poll(self, action: Poll) -> Polled:
        """The batch as it stands."""
        ...

    async def cancel(self, action: Cancel) -> CancelSent:
        """Ask the service to cancel the batch; `CancelSent(shard, None)` when it is final or gone."""
        ...

    async def download(self, action: Download) -> Downloaded:
        """Write the batch's result files, as Batch API result lines, where the action says (None: gone)."""
        ...

    async def delete_upload(self, action: DeleteUpload) -> UploadDeleted:
        """Delete an upload or a result file the job made; one already gone counts as deleted."""
        ...

    async def reconcile(self, action: Reconcile) -> Reconciled:
        """What the service holds of the job since `action.since`: its batches and uploads, as far as the service
        lets them be told apart from others."""
        ...
