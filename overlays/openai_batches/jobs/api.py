"""`client.jobs`: `Jobs` for `BatchClient`, `AsyncJobs` for `AsyncBatchClient`.

Both come from one source, `_async/api.py`; `_sync/api.py` is generated from it (`make unasync`).
"""

from __future__ import annotations

from ._async.api import AsyncJobs
from ._sync.api import Jobs
from .operations import DEFAULT_MAX_POLL_INTERVAL, DEFAULT_POLL_INTERVAL, read_job, read_jobs

__all__ = ["DEFAULT_MAX_POLL_INTERVAL", "DEFAULT_POLL_INTERVAL", "AsyncJobs", "Jobs", "read_job", "read_jobs"]
