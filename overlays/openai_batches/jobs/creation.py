"""Creating a job: its settings checked, its input read once into the store (local work only, no network).

`JobSettings` and `JobInput` are defined in `job_settings` (so that the cost estimate can take them without
importing this module, which builds on `Job`) and importable from here too.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import InvalidParameterError
from ..batch_input import check_endpoint
from .budget import check_priced
from .errors import JobConflictError
from .files import sync_folder
from .ingest import Scan, hash_file, spooled, store_requests
from .input_check import first_difference, input_changed_since_created
from .job import Job, snapshot
from .job_settings import DEFAULT_MAX_ATTEMPTS as DEFAULT_MAX_ATTEMPTS
from .job_settings import DEFAULT_MAX_IN_FLIGHT as DEFAULT_MAX_IN_FLIGHT
from .job_settings import JobInput as JobInput
from .job_settings import JobSettings as JobSettings
from .provider_rules import OPENAI_RULES, ProviderRules, check_batch_requests, check_job_endpoint, rules_named
from .records import CREATED, JobRecord
from .settings import check_name, job_folder
from .store import SQLiteJobStore, open_store
from .tokens import TokenEstimator, default_estimator

COMPLETION_WINDOWS = ("24h",)


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
    rules: ProviderRules = OPENAI_RULES,
) -> Job:
    check_name(name)
    check_batch_requests(settings.given().get("max_batch_requests"), rules)
    target = check_job_endpoint(None if endpoint is None else check_endpoint(endpoint), rules)
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
            record = _new_record(name, path, False, target, completion_window, settings, account, estimate, rules)
            return _ingest(store, record, path, estimate, state_dir, shown=path, rules=rules)
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
                name, final, True, target or first_endpoint, completion_window, settings, account, estimate, rules
            )
            try:
                return _ingest(store, record, final, estimate, state_dir, shown=None, rules=rules)
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
    rules: ProviderRules,
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
        token_limits=given.get("token_limits"),
        max_batch_requests=given.get("max_batch_requests"),
        token_estimator=getattr(estimator, "name", type(estimator).__name__),
        max_cost=given.get("max_cost"),
        prices=given.get("prices"),
        provider=rules.name,
    )


def _ingest(
    store: SQLiteJobStore,
    record: JobRecord,
    path: Path,
    estimator: TokenEstimator,
    state_dir: Path,
    *,
    shown: Path | None,
    rules: ProviderRules,
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
                token_limit=record.token_limit,
                shown_path=shown,
                line_check=rules.line_check,
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
    check_batch_requests(changes.get("max_batch_requests"), rules_named(record.provider))
    check_priced(dataclasses.replace(record, **changes), store.models(record.id).values())
    if changes:
        store.update_job(record.id, changes)
    updated = store.get_job(record.name)
    assert updated is not None
    return snapshot(store, updated, state_dir)
