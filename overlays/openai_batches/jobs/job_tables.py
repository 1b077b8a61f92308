"""A job's results as the rows of a results table (`tables`): each request in input order, with the model it asked
for, and the batch and attempt its result came from, all read from the state directory.

The store says per request which downloaded file holds its result line; the file says which batch wrote it, and the
batch which attempt it was. A request without a result line is placed by its last shard's latest batch.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..results import BatchResult, BatchResultError, parse_result_line
from ..tables import ResultSource
from .job_results import _Files, _synthetic
from .records import JobRecord
from .store import SQLiteJobStore


def job_sources(store: SQLiteJobStore, job: JobRecord) -> Iterator[ResultSource]:
    models = store.models(job.id)
    batches = store.batches(job.id)
    attempt_of = {batch.batch_id: batch.attempt for batch in batches}
    # A shard sent again after the service refused it for its token limit has one batch per submission: the last
    # one is the one that ran.
    last_batch: dict[int, tuple[int, str]] = {}
    for batch in batches:
        if batch.shard not in last_batch or batch.submission >= last_batch[batch.shard][0]:
            last_batch[batch.shard] = (batch.submission, batch.batch_id)
    file_batch = {
        number: batch.batch_id for batch in batches for number, _ in store.batch_result_files(job.id, batch.batch_id)
    }
    files = _Files(store.result_files(job.id))
    try:
        for row, model_id, shard in store.placed_results(job.id):
            model = models.get(model_id) or None
            result: BatchResult | None = None
            batch_id: str | None = None
            if row.result_file is not None and row.result_offset is not None and row.result_length is not None:
                result = parse_result_line(files.read(row.result_file, row.result_offset, row.result_length), row.line)
                batch_id = file_batch.get(row.result_file)
            if result is None:
                error = _synthetic(row)["error"]
                result = BatchResult(
                    row.custom_id, None, None, BatchResultError(error["code"], error["message"]), None, None
                )
                if shard is not None and shard in last_batch:
                    batch_id = last_batch[shard][1]
            yield result, row.line, model, batch_id, None if batch_id is None else attempt_of.get(batch_id)
    finally:
        files.close()
