"""Creating a job: its settings checked, its input read once into the store (local work only, no network)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._config import NOT_GIVEN, NotGiven
from .._exceptions import InvalidParameterError
from ..batch_input import DEFAULT_LIMITS, BatchInput, BatchRequest, check_endpoint
from ..prices import PricesArg
from .budget import check_max_cost, check_priced, prices_json
from .errors import JobConflictError
from .files import sync_folder
from .ingest import Scan, hash_file, spooled, store_requests
from .input_check import first_difference, input_changed_since_created
from .job import Job, snapshot
from .records import CREATED, JobRecord
from .settings import check_name, job_folder
from .store import SQLiteJobStore, open_store
from .tokens import TokenEstimator, default_estimator

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_IN_FLIGHT = 8
COMPLETION_WINDOWS = ("24h",)

JobInput = str | os.PathLike[str] | BatchInput | Iterable[BatchRequest | Mapping[str, Any]]


@dataclass(frozen=True)
class JobSettings:
    """The tunables of `jobs.create`; NOT_GIVEN keeps an existing job's value (a new job gets the default)."""

    max_attempts: int | NotGiven = NOT_GIVEN
    max_in_flight: int | NotGiven = NOT_GIVEN
    enqueued_token_limit: int | NotGiven | None = NOT_GIVEN
    max_batch_requests: int | NotGiven | None = NOT_GIVEN
    # The cost budget in dollars (None: no cap; see `budget.py`) and the caller's prices it is counted at.
    max_cost: float | NotGiven | None = NOT_GIVEN
    prices: PricesArg | NotGiven | None = NOT_GIVEN

    def __post_init__(self) -> None:
        _count("max_attempts", self.max_attempts, maximum=100)
        _count("max_in_flight", self.max_in_flight)
        _count("enqueued_token_limit", self.enqueued_token_limit, optional=True)
        _count("max_batch_requests", self.max_batch_requests, optional=True, maximum=DEFAULT_LIMITS.max_requests)
        if self.max_cost is not NOT_GIVEN:
            object.__setattr__(self, "max_cost", check_max_cost(self.max_cost))
        if self.prices is not NOT_GIVEN:
            prices_json(self.prices)  # refused now, by name, rather than when the job is written

    def given(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (
                ("max_attempts", self.max_attempts),
                ("max_in_flight", self.max_in_flight),
                ("enqueued_token_limit", self.enqueued_token_limit),
                ("max_batch_requests", self.max_batch_requests),
                ("max_cost", self.max_cost),
                ("prices", NOT_GIVEN if self.prices is NOT_GIVEN else prices_json(self.prices)),
            )
            if value is not NOT_GIVEN
        }


def _count(name: str, value: object, *, optional: bool = False, maximum: int | None = None) -> None:
    if value is NOT_GIVEN or (optional and value is None):
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum is not None and value > maximum):
        upper = f" to {maximum:,}" if maximum is not None else ""
        none = " or None" if optional else ""
        raise InvalidParameterError(name, f"expected a whole number from 1{upper}{none}, got {value!r}")


@dataclass(frozen=True)
class Account:
    base_url: str
    fingerprint: str


def create_job(
    state_dir: Path,
    name: str,
    requests: JobInput,
    *,
    endpoint: object,
    completion_window: str,
    settings: JobSettings,
    account: Account,
    estimator: TokenEstimator | None,
) -> Job:
    check_name(name)
    target = None if endpoint is None else check_endpoint(endpoint)
    if completion_window not in COMPLETION_WINDOWS:
        raise InvalidParameterError(
            "completion_window", f"must be one of {COMPLETION_WINDOWS}, got {completion_window!r}"
        )
    if estimator is not None and not callable(estimator):
        raise InvalidParameterError("token_estimator", "expected a callable (endpoint, body) -> tokens")
    estimate = estimator or default_estimator()
    with open_store(state_dir) as store:
        existing = store.get_job(name)
        if isinstance(requests, str | os.PathLike):
            path = Path(requests).expanduser().resolve()
            if not path.is_file():
                raise InvalidParameterError("requests", f"no such file: {str(path)!r}")
            if existing is not None:
                return _existing(store, existing, hash_file(path)[0], target, settings, state_dir, path=path)
            record = _new_record(name, path, False, target, completion_window, settings, account, estimate)
            return _ingest(store, record, path, estimate, state_dir, shown=path)
        if isinstance(requests, bytes | bytearray | Mapping) or not isinstance(requests, Iterable):
            raise InvalidParameterError(
                "requests", f"expected a JSONL path or an iterable of requests, got {type(requests).__name__}"
            )
        folder = job_folder(state_dir, name)
        with spooled(requests, target, folder) as (temp, digest, first_endpoint):
            if existing is not None:
                return _existing(store, existing, digest, target, settings, state_dir)
            final = folder / "input.jsonl"
            os.replace(temp, final)
            sync_folder(folder)  # the job's record names this file: its name must outlive a power cut too
            record = _new_record(
                name, final, True, target or first_endpoint, completion_window, settings, account, estimate
            )
            try:
                return _ingest(store, record, final, estimate, state_dir, shown=None)
            except BaseException:
                final.unlink(missing_ok=True)  # no job holds it
                raise


def _new_record(
    name: str,
    path: Path,
    spooled: bool,
    endpoint: str | None,
    completion_window: str,
    settings: JobSettings,
    account: Account,
    estimator: TokenEstimator,
) -> JobRecord:
    given = settings.given()
    return JobRecord(
        id=0,
        name=name,
        uid=secrets.token_hex(8),
        endpoint=endpoint or "",
        completion_window=completion_window,
        input_path=str(path),
        input_hash="",
        input_bytes=0,
        spooled=spooled,
        base_url=account.base_url,
        account=account.fingerprint,
        created_at=time.time(),
        status=CREATED,
        max_attempts=given.get("max_attempts", DEFAULT_MAX_ATTEMPTS),
        max_in_flight=given.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT),
        enqueued_token_limit=given.get("enqueued_token_limit"),
        max_batch_requests=given.get("max_batch_requests"),
        token_estimator=getattr(estimator, "name", type(estimator).__name__),
        max_cost=given.get("max_cost"),
        prices=given.get("prices"),
    )


def _ingest(
    store: SQLiteJobStore,
    record: JobRecord,
    path: Path,
    estimator: TokenEstimator,
    state_dir: Path,
    *,
    shown: Path | None,
) -> Job:
    # Before the read: a change while it reads then shows as another mtime, and the next check hashes the file.
    stat = path.stat()
    # One transaction: a job whose input fails half-way (or whose process dies) is not created at all.
    try:
        with store.transaction():
            job = store.insert_job(record)
            scan = Scan(
                path,
                record.endpoint or None,
                estimator,
                lambda model: store.model_id(job.id, model),
                token_limit=record.enqueued_token_limit,
                shown_path=shown,
            )
            store_requests(store, job.id, scan)
            if scan.requests == 0:
                raise InvalidParameterError("requests", f"{str(shown or 'the input')!r} holds no requests")
            check_priced(record, store.models(job.id).values())
            store.update_job(
                job.id,
                {
                    "endpoint": scan.endpoint,
                    "requests": scan.requests,
                    "estimated_tokens": scan.tokens,
                    "input_hash": scan.digest.hexdigest(),
                    "input_bytes": scan.size,
                    "input_mtime_ns": stat.st_mtime_ns,
                    "input_inode": stat.st_ino,
                },
            )
    except sqlite3.IntegrityError:
        raise JobConflictError(f"a job named {record.name!r} was created meanwhile", job=record.name) from None
    created = store.get_job(record.name)
    assert created is not None
    return snapshot(store, created, state_dir)


def _existing(
    store: SQLiteJobStore,
    record: JobRecord,
    digest: str,
    endpoint: str | None,
    settings: JobSettings,
    state_dir: Path,
    *,
    path: Path | None = None,
) -> Job:
    """Creating a job again with the same input returns it (with any setting given updated); other input is refused.

    The job's own path with other content is the file edited since: said so (with the first line that differs and
    old and new size and hash), not mistaken for another file under the job's name.
    """
    if digest != record.input_hash and path is not None and str(path) == record.input_path:
        difference = first_difference(store, record)
        if difference is not None:
            raise input_changed_since_created(record, difference)
    elif digest != record.input_hash:
        raise JobConflictError(
            f"a job named {record.name!r} already exists with other input ({record.input_path}); choose another "
            "name, or delete the job first",
            job=record.name,
        )
    if endpoint is not None and endpoint != record.endpoint:
        raise JobConflictError(
            f"a job named {record.name!r} already exists for {record.endpoint}, not {endpoint}", job=record.name
        )
    changes = {key: value for key, value in settings.given().items() if getattr(record, key) != value}
    check_priced(dataclasses.replace(record, **changes), store.models(record.id).values())
    if changes:
        store.update_job(record.id, changes)
    updated = store.get_job(record.name)
    assert updated is not None
    return snapshot(store, updated, state_dir)
