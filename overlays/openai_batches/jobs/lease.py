"""One runner per job: a lease in the store with a fencing epoch, renewed by a thread, checked before every change.

A holder promises to renew its heartbeat within `lease_seconds` (a thread renews it every sixth of that, on its own
connection, even while the runner sleeps between polls or waits on a slow request). Another runner takes the job
over when that promise lapses, or at once when the holder ran on this host and its process no longer exists; each
takeover raises the job's epoch. A holder that was paused past its lease (Ctrl-Z, a sleeping laptop, a paused VM)
wakes up to find every store write refused (`JobStore.fenced`) and, before any request that changes the service,
`check()` refusing too: it stops with `JobLeaseLostError`. What it may still have sent in the instant between its
last check and the pause is found by the new holder's reconcile (the job is marked contested).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Final

from .errors import JobBusyError, JobLeaseLostError
from .records import JobRecord, Lease
from .store import JobStore

LEASE_TTL: Final = 120.0
# The shortest lease: renewals every sixth of it must stay well apart from the requests they guard.
MIN_LEASE: Final = 1.0


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
    """The lease of one run. Its own store connection serves the renewing thread and `check()` under one lock."""

    def __init__(
        self, store: JobStore, job: JobRecord, *, ttl: float = LEASE_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self.job = job
        self.ttl = ttl
        self._clock = clock
        self._store = store.sibling()
        self._lock = threading.Lock()
        self.lease = Lease(uuid.uuid4().hex, os.getpid(), socket.gethostname(), clock(), ttl=ttl)
        self._renewed = self.lease.heartbeat
        self._lost: Lease | bool | None = False  # False while held; the new holder (or None) once lost
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._abandoned = False
        self._closed = False

    def acquire(self) -> Lease:
        """Take the job (`JobBusyError` if another live runner holds it) and start renewing."""
        with self._lock:
            if self._abandoned:
                raise JobBusyError(f"job {self.job.name}: the run stopped before it took the job", job=self.job.name)
            current = self._store.acquire_lease(self.job.id, self.lease, is_gone=holder_gone)
            if current.holder == self.lease.holder:
                self.lease = current
                name = f"openai-batches-lease-{self.job.name}"
                self._thread = threading.Thread(target=self._keep, name=name, daemon=True)
                self._thread.start()
                return current
        self.close()
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

    def check(self) -> None:
        """Right before a request that changes the service: the lease is still this runner's (read from the store,
        not assumed: another host's clock may have judged it lapsed early), with at least half of it to run."""
        with self._lock:
            if self._lost is False:
                if self._clock() - self._renewed >= self.ttl / 2:
                    self._renew()
                else:
                    self._verify()
            if self._lost is not False:
                raise self._error()

    def abandon(self) -> None:
        """The run stopped while `acquire` may still be running (in async code, in a worker thread that goes on):
        a lease it took already is released now, and one it has yet to take is never taken."""
        with self._lock:
            self._abandoned = True
        self.release()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self._lost is False and not self._closed:
                self._store.release_lease(self.job.id, self.lease)
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._store.close()

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 6):
            with self._lock:
                if self._lost is not False:
                    return
                try:
                    self._renew()
                except Exception:
                    continue

    def _renew(self) -> None:
        now = self._clock()
        if self._store.renew_lease(self.job.id, self.lease, now):
            self._renewed = now
            return
        self._note_holder()

    def _verify(self) -> None:
        job = self._store.get_job(self.job.name)
        if job is None or job.lease_holder != self.lease.holder or job.lease_epoch != self.lease.epoch:
            self._note_holder()

    def _note_holder(self) -> None:
        job = self._store.get_job(self.job.name)
        self._lost = (
            Lease(job.lease_holder, job.lease_pid or 0, job.lease_host or "?", job.lease_heartbeat or 0.0)
            if job is not None and job.lease_holder is not None
            else None
        )

    def _error(self) -> JobLeaseLostError:
        return lease_lost(self.job.name, self._lost if isinstance(self._lost, Lease) else None)


def lease_lost(job: str, current: Lease | None) -> JobLeaseLostError:
    """The error of a runner that found its job held by another (`current`, when known)."""
    where = f"process {current.pid} on {current.host}" if current is not None else "another runner"
    return JobLeaseLostError(
        f"job {job} was taken over by {where} while this runner was paused or could not renew its lease; this "
        "runner stopped without changing anything more, and the job goes on there",
        job=job,
    )
