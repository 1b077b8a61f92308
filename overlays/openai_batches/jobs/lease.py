"""One runner per job: a lease in the store, taken over only when its holder is gone.

A holder is gone when its heartbeat is older than `LEASE_TTL` (a runner renews it while it runs, even while it
sleeps between polls), or at once when it ran on this host and its process no longer exists (a killed run frees
its job for the next one without a wait).
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Final

from .errors import JobBusyError
from .records import JobRecord, Lease
from .store import JobStore

LEASE_TTL: Final = 120.0
RENEW_EVERY: Final = 20.0


def holder_gone(lease: Lease) -> bool:
    if lease.host != socket.gethostname():
        return False
    if lease.pid == os.getpid():
        return False  # this process: another runner in it (a thread, a task) is alive by definition
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


class JobLease:
    def __init__(self, store: JobStore, job: JobRecord, now: float) -> None:
        self.store = store
        self.job = job
        self.lease = Lease(uuid.uuid4().hex, os.getpid(), socket.gethostname(), now)
        self._renewed = now

    def acquire(self) -> None:
        current = self.store.acquire_lease(self.job.id, self.lease, ttl=LEASE_TTL, is_gone=holder_gone)
        if current is not None:
            where = (
                "this process"
                if current.pid == os.getpid() and current.host == self.lease.host
                else (f"process {current.pid} on {current.host}")
            )
            raise JobBusyError(
                f"job {self.job.name} is already being run by {where}; wait for it to finish, or stop it "
                "(the job stays resumable) and run it again",
                job=self.job.name,
            )

    def renew(self, now: float) -> None:
        if now - self._renewed >= RENEW_EVERY:
            self.store.renew_lease(self.job.id, self.lease.holder, now)
            self._renewed = now

    def release(self) -> None:
        self.store.release_lease(self.job.id, self.lease.holder)
