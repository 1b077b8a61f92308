"""What a user holds: `Job`, a snapshot of one job, with its summary and its merged results.

A `Job` is a value read from the state directory at one moment (`client.jobs.get(name)` reads a fresh one). Its
`summary()`, `results()`, `write_results()`, `write_report()` and its tables (`to_arrow()`, `write_parquet()`, ...)
read the state directory only, never the network, so they work the same from sync and async code, and after the
client is closed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..prices import ModelPrice
from ..results import BatchResult
from .estimate import JobEstimate, estimate_job
from .records import COMPLETED, FINISHED_STATUSES, JobRecord, model_limits
from .settings import job_folder
from .store import JobStore, SQLiteJobStore, open_store
from .summary import IN_FLIGHT, summarize
from .summary import JobSummary as JobSummary

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

    from ..tables import ResultSource

__all__ = ["Job", "JobSummary", "ModelPrice"]


@attrs.frozen(kw_only=True)
class Job:
    """One job as it stood when read. `client.jobs.get(name)` reads it again."""

    name: str
    status: str
    """created, in_progress, paused (at its cost budget; resumable with a higher `max_cost`), cancelling,
    cancelled or completed (every request has its final result)."""
    endpoint: str
    input_path: Path
    state_dir: Path
    created_at: float
    finished_at: float | None
    requests: int
    succeeded: int
    failed: int
    missing: int
    cancelled: int
    batches_in_flight: int
    max_attempts: int
    max_in_flight: int
    enqueued_token_limit: int | Mapping[str, int] | None
    """The most input tokens enqueued at once: for every model, or per model (a mapping); None for no limit."""
    max_batch_requests: int | None
    estimated_tokens: int
    token_estimator: str
    runner: str | None
    """Who runs the job right now ("pid 123 on host"), or None."""
    max_cost: float | None = None
    """The cost budget in dollars (None: no cap)."""

    @property
    def pending(self) -> int:
        """Requests without a final result yet."""
        return self.requests - self.succeeded - self.failed - self.missing - self.cancelled

    @property
    def finished(self) -> bool:
        """Completed or cancelled: nothing more will change."""
        return self.status in FINISHED_STATUSES

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    @property
    def folder(self) -> Path:
        """Where the job keeps its files inside the state directory."""
        return job_folder(self.state_dir, self.name)

    def summary(self, prices: Mapping[str, ModelPrice | Mapping[str, float]] | None = None) -> JobSummary:
        """Counts, attempts, batches, tokens from the batches' `usage`, and their cost at batch prices: the table
        shipped with the package (`BATCH_PRICES`), with `prices` (per model, dollars per million tokens) on top.

        Args:
            prices: Prices per model (a `ModelPrice`, or `{'input': ..., 'output': ...}` in dollars per million
                tokens) over the shipped batch prices.

        Returns:
            The summary, read from the state directory.

        Raises:
            InvalidParameterError: `prices` was refused.
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        with open_store(self.state_dir) as store:
            return summarize(store, _record(store, self.name), prices)

    def estimate(self, prices: Mapping[str, ModelPrice | Mapping[str, float]] | None = None) -> JobEstimate:
        """What the whole job sends and may cost, as if none of it had been sent: the same numbers as
        `client.jobs.estimate()` of its input with its settings. Read from the state directory (the tokens its
        estimator counted when it was created), so a job whose estimator was a callable of your own is counted
        by it too, and its input is not read again. A job recorded by a version that kept no output bounds has
        none to add: its high cost is None.

        Args:
            prices: Prices per model (a `ModelPrice`, or `{'input': ..., 'output': ...}` in dollars per million
                tokens) over the shipped batch prices.

        Returns:
            The estimate of the whole job.

        Raises:
            InvalidParameterError: `prices` was refused.
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        with open_store(self.state_dir) as store:
            return estimate_job(store, _record(store, self.name), prices)

    def results(self) -> Iterator[BatchResult]:
        """One `BatchResult` per request, in input order, read from the state directory with flat memory.

        A request's result is its latest attempt's. Requests with no result from the service come with an `error`
        that says why: `no_result` (no attempt was answered), `cancelled`, or `pending` (the job has not finished).

        Yields:
            One result per request, in input order.

        Raises:
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        from .job_results import iter_results

        with open_store(self.state_dir) as store:
            yield from iter_results(store, _record(store, self.name))

    def write_results(self, path: str | os.PathLike[str]) -> int:
        """Write every result as one JSON line in the service's format, in input order (written beside `path`, then
        renamed); returns the number of lines. Requests without a service result get a line with `error` set.

        Args:
            path: The JSONL file to write; replaced whole, never left half-written.

        Returns:
            The number of lines written.

        Raises:
            JobNotFoundError: The job was deleted since this snapshot was read.
            OSError: The file could not be written.
        """
        from .job_results import write_results

        with open_store(self.state_dir) as store:
            return write_results(store, _record(store, self.name), Path(path))

    def write_report(
        self, path: str | os.PathLike[str], prices: Mapping[str, ModelPrice | Mapping[str, float]] | None = None
    ) -> Path:
        """Write what happened in the job as one self-contained HTML page (no script, nothing fetched): its counts
        and cost, every batch on a timeline, failures by code with examples, retries, tokens per model, the
        slowest batches. Aggregates only, so the page and the memory stay small for any job; returns the path.

        Args:
            path: The HTML file to write; replaced whole, never left half-written.
            prices: Prices per model (a `ModelPrice`, or `{'input': ..., 'output': ...}` in dollars per million
                tokens) over the shipped batch prices.

        Returns:
            `path`, as a `Path`.

        Raises:
            InvalidParameterError: `prices` was refused.
            JobNotFoundError: The job was deleted since this snapshot was read.
            OSError: The file could not be written.
        """
        from .report import write_report

        target = Path(path)
        with open_store(self.state_dir) as store:
            write_report(store, _record(store, self.name), target, prices)
        return target

    def to_arrow(self) -> pyarrow.Table:
        """Every result as a row of a `pyarrow.Table`, in input order, with the columns `openai_batches.tables`
        describes (a request without a service result is a row with its error code). Built one record batch at a
        time, so only the table itself grows with the job. Needs the `[arrow]` extra.

        Returns:
            The table, one row per request.

        Raises:
            MissingDependencyError: pyarrow (the `[arrow]` extra) is not installed.
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        from .. import tables

        tables.require("pyarrow")
        with open_store(self.state_dir) as store:
            return tables.to_table(self._sources(store))

    def to_pandas(self) -> pandas.DataFrame:
        """`to_arrow()` as a pandas DataFrame with nullable dtypes (`string`, `Int64`, `boolean`). Needs the
        `[pandas]` extra.

        Returns:
            The DataFrame, one row per request.

        Raises:
            MissingDependencyError: pandas or pyarrow (the `[pandas]` extra) is not installed.
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        from .. import tables

        tables.require("pandas")
        tables.require("pyarrow", "pandas")
        return tables.to_pandas(self.to_arrow())

    def to_polars(self) -> polars.DataFrame:
        """`to_arrow()` as a polars DataFrame. Needs the `[polars]` extra.

        Returns:
            The DataFrame, one row per request.

        Raises:
            MissingDependencyError: polars or pyarrow (the `[polars]` extra) is not installed.
            JobNotFoundError: The job was deleted since this snapshot was read.
        """
        from .. import tables

        tables.require("polars")
        tables.require("pyarrow", "polars")
        frame: polars.DataFrame = tables.to_polars(self.to_arrow())
        return frame

    def write_parquet(self, path: str | os.PathLike[str]) -> int:
        """Write the rows of `to_arrow()` to a Parquet file, one record batch at a time, so memory stays flat
        however many requests the job holds (written beside `path`, then renamed); returns the number of rows.
        Needs the `[arrow]` extra.

        Args:
            path: The Parquet file to write; replaced whole, never left half-written.

        Returns:
            The number of rows written.

        Raises:
            MissingDependencyError: pyarrow (the `[arrow]` extra) is not installed.
            JobNotFoundError: The job was deleted since this snapshot was read.
            OSError: The file could not be written.
        """
        from .. import tables

        tables.require("pyarrow.parquet", "arrow")
        with open_store(self.state_dir) as store:
            return tables.write_parquet(self._sources(store), path)

    def write_csv(self, path: str | os.PathLike[str]) -> int:
        """Write the rows of `to_arrow()` to a CSV file with a header, streamed (written beside `path`, then
        renamed); returns the number of rows. A null is an empty field. Needs no extra.

        Args:
            path: The CSV file to write; replaced whole, never left half-written.

        Returns:
            The number of rows written.

        Raises:
            JobNotFoundError: The job was deleted since this snapshot was read.
            OSError: The file could not be written.
        """
        from .. import tables

        with open_store(self.state_dir) as store:
            return tables.write_csv(self._sources(store), path)

    def _sources(self, store: SQLiteJobStore) -> Iterator[ResultSource]:
        from .job_tables import job_sources

        yield from job_sources(store, _record(store, self.name))

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON-ready values, with `pending` added.

        Returns:
            A dict of the job's fields; paths as strings.
        """
        data = attrs.asdict(self)
        data["input_path"] = str(self.input_path)
        data["state_dir"] = str(self.state_dir)
        data["pending"] = self.pending
        return data

    def __str__(self) -> str:
        final = self.requests - self.pending
        text = (
            f"job {self.name} {self.status}: {final:,} of {self.requests:,} requests final "
            f"({self.succeeded:,} succeeded, {self.failed:,} failed"
        )
        if self.missing:
            text += f", {self.missing:,} without result"
        if self.cancelled:
            text += f", {self.cancelled:,} cancelled"
        text += f"), {self.batches_in_flight} batches in flight"
        return text


def _record(store: JobStore, name: str) -> JobRecord:
    from .errors import JobNotFoundError

    record = store.get_job(name)
    if record is None:
        raise JobNotFoundError(f"no job named {name!r} (it was deleted)", job=name)
    return record


def snapshot(store: JobStore, record: JobRecord, state_dir: Path, *, now: float | None = None) -> Job:
    shards = store.active_shards(record.id)
    runner = None
    if record.lease_holder is not None:
        runner = f"pid {record.lease_pid} on {record.lease_host}"
    return Job(
        name=record.name,
        status=record.status,
        endpoint=record.endpoint,
        input_path=Path(record.input_path),
        state_dir=state_dir,
        created_at=record.created_at,
        finished_at=record.finished_at,
        requests=record.requests,
        succeeded=record.succeeded,
        failed=record.failed,
        missing=record.missing,
        cancelled=record.cancelled,
        batches_in_flight=sum(shard.state in IN_FLIGHT for shard in shards),
        max_attempts=record.max_attempts,
        max_in_flight=record.max_in_flight,
        enqueued_token_limit=(
            record.enqueued_token_limit if record.token_limits is None else dict(model_limits(record.token_limits))
        ),
        max_batch_requests=record.max_batch_requests,
        estimated_tokens=record.estimated_tokens,
        token_estimator=record.token_estimator,
        runner=runner,
        max_cost=record.max_cost,
    )
