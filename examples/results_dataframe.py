"""Results as a table: a job's results in a pandas DataFrame (`job.to_pandas()`) and a batch's as an Arrow table.

    pip install '.[pandas]'      # from the repository folder: pandas and pyarrow
    OPENAI_BASE_URL=http://127.0.0.1:8000/v1 OPENAI_API_KEY=sk-local python examples/results_dataframe.py

Every results table has the same columns whichever way it is made (`openai_batches.tables.COLUMNS`): custom_id,
input_line, status_code, ok, error_code, error_message, model, text, finish_reason, the token counts, batch_id,
attempt and the whole body as JSON. `to_polars()`, `write_parquet()` and `write_csv()` give the same rows.
"""

from __future__ import annotations

import os
import sys
import tempfile

from openai_batches import BatchClient, BatchRequest, OpenAIBatchesError

MODELS = os.environ.get("EXAMPLE_MODELS", "gpt-4o-mini,gpt-4.1-mini").split(",")
QUESTIONS = ["Name a colour.", "Name an animal.", "Name a planet.", "Name a metal.", "Name a tree."]


def main() -> int:
    requests = [
        BatchRequest.chat(f"{model}-{i}", model=model, messages=[{"role": "user", "content": q}], max_tokens=20)
        for model in MODELS
        for i, q in enumerate(QUESTIONS)
    ]
    with BatchClient() as client, tempfile.TemporaryDirectory(prefix="results-dataframe-") as state_dir:
        job = client.jobs.create("questions", requests, max_batch_requests=4, state_dir=state_dir)
        job = client.jobs.run(job, poll_interval=0.5, state_dir=state_dir)

        frame = job.to_pandas()  # one row per request, in input order
        print(f"{len(frame)} rows, columns: {', '.join(frame.columns[:8])}, ...")
        print(frame[["custom_id", "ok", "text"]].head(3).to_string(index=False))
        per_model = frame.groupby("model").agg(requests=("custom_id", "size"), output_tokens=("output_tokens", "sum"))
        print(per_model.to_string())
        print(f"answered in {frame['batch_id'].nunique()} batches")

        # A single batch's results, without a job: an Arrow table (the `[arrow]` extra), then pandas.
        batch = client.batches.submit(requests[:2], endpoint="/v1/chat/completions")
        batch = client.batches.wait(batch, poll_interval=0.5)
        table = client.batches.results_table(batch)
        print(f"batch table: {table.num_rows} rows, ok: {table.column('ok').to_pylist()}")
        ok = bool(frame["ok"].all()) and table.num_rows == 2
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OpenAIBatchesError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
