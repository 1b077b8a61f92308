"""Results as tables: one row per request, with the same columns for a job (`job.to_arrow()`) and for one batch
(`client.batches.results_table(batch)`).

Rows are turned into Arrow record batches of at most `ROWS_PER_BATCH` rows (fewer when the bodies are big), so
building a table, or streaming one into a Parquet or CSV file, holds one record batch of Python values at a time
whatever the number of requests. The Parquet writer keeps only the record batch it writes: a file of any size is
written with flat memory. A `pyarrow.Table` holds its data, so its size is the results' size, in Arrow's compact form.

The columns, in order (`COLUMNS` has their Arrow types; a value the result lacks is null):

- `custom_id`, `input_line` (the request's line in the input file, counted from 1 as an editor and `BatchInputError`
  count them; null for one batch whose input file is gone), `status_code`, `ok` (the request ran and its endpoint
  answered with a success status), `error_code`, `error_message` (from the line's `error` or the error body; a request
  the service returned nothing for has code `no_result`, `cancelled` or `pending`, as `job.results()` says);
- `model`: the model the request asked for, as the input names it (the body's model when the input is not known);
- `text`: a chat completion's `choices[0].message.content`, a response's `output_text` parts joined; null for other
  bodies, a refusal, a tool call and a failure;
- `finish_reason`: a chat completion's `choices[0].finish_reason`, a response's `incomplete_details.reason` when it
  stopped early, else its `status`;
- `input_tokens`, `cached_tokens`, `output_tokens`, `reasoning_tokens`: from the body's `usage`, in the chat names
  (`prompt_tokens`, ...) or the Responses names (`input_tokens`, ...);
- `batch_id`, `attempt`: the batch, and the job's attempt at the request (1 for one batch), whose result the row
  holds; for a request without a result line, the batch and attempt that last held it (null when none was sent);
- `body`: the response body as JSON text, for anything the columns leave out.

pyarrow, pandas and polars are optional extras (`[arrow]`, `[pandas]`, `[polars]`): they are imported when a table is
first asked for, and a missing one raises `MissingDependencyError` naming the extra to install. CSV needs none.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from ._exceptions import MissingDependencyError, install_hint
from .results import BatchResult, BatchResultError

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "COLUMNS",
    "ROWS_PER_BATCH",
    "ResultSource",
    "arrow_schema",
    "record_batches",
    "to_pandas",
    "to_polars",
    "to_table",
    "write_csv",
    "write_parquet",
]

# One row's name and Arrow type; only custom_id and ok are never null.
COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("custom_id", "string"),
    ("input_line", "int64"),
    ("status_code", "int64"),
    ("ok", "bool"),
    ("error_code", "string"),
    ("error_message", "string"),
    ("model", "string"),
    ("text", "string"),
    ("finish_reason", "string"),
    ("input_tokens", "int64"),
    ("cached_tokens", "int64"),
    ("output_tokens", "int64"),
    ("reasoning_tokens", "int64"),
    ("batch_id", "string"),
    ("attempt", "int64"),
    ("body", "string"),
)
_NOT_NULL: Final = frozenset({"custom_id", "ok"})
NAMES: Final = tuple(name for name, _ in COLUMNS)

ROWS_PER_BATCH: Final = 16_384
# Text held before a record batch is cut early: a few huge bodies must not hold a whole batch's worth of rows.
_BYTES_PER_BATCH: Final = 16 * 2**20

ResultSource = tuple[BatchResult, int | None, str | None, str | None, int | None]
"""What a row is made of: the result, its input line, the model asked for, its batch id and attempt."""

_EXTRA_OF: Final = {"pyarrow": "arrow", "pandas": "pandas", "polars": "polars"}


def require(module: str, extra: str | None = None) -> ModuleType:
    """The optional library `module`, or `MissingDependencyError` naming the extra that installs it."""
    extra = extra or _EXTRA_OF[module]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"results as tables need {module.partition('.')[0]}, an optional extra: {install_hint(extra)}",
            extra=extra,
            name=module,
        ) from exc


def arrow_schema() -> pyarrow.Schema:
    """The fixed schema of every results table: the columns of `COLUMNS`, in order.

    Returns:
        The Arrow schema; `custom_id` and `ok` are not nullable.

    Raises:
        MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
    """
    pa = require("pyarrow")
    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_()}
    return pa.schema([pa.field(name, types[kind], nullable=name not in _NOT_NULL) for name, kind in COLUMNS])


# --- one row -----------------------------------------------------------------------------------------------------


def _int(value: object) -> int | None:
    return value if type(value) is int else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _get(value: object, key: str) -> object:
    # dict, not Mapping: what JSON decodes to, and a check that costs a tenth of an ABC's per row.
    return value.get(key) if isinstance(value, dict) else None


def _encoder() -> Callable[[Mapping[str, Any]], str]:
    """The body as compact JSON text: msgspec when it is installed (the `speed` extra), else the standard library;
    both write non-ASCII characters as they are."""
    try:
        from msgspec.json import Encoder
    except ImportError:
        return lambda body: json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    encode = Encoder().encode

    def fast(body: Mapping[str, Any]) -> str:
        try:
            return encode(body).decode("utf-8")
        except (TypeError, ValueError, OverflowError):
            return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    return fast


_to_json: Callable[[Mapping[str, Any]], str] | None = None


def _answer(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The text and the finish reason of a chat completion or a response body."""
    choices = body.get("choices")
    if isinstance(choices, list):
        first = choices[0] if choices else None
        return _str(_get(_get(first, "message"), "content")), _str(_get(first, "finish_reason"))
    output = body.get("output")
    if not isinstance(output, list):
        return None, None
    parts = [
        part["text"]
        for item in output
        if _get(item, "type") == "message" and isinstance(item.get("content"), list)
        for part in item["content"]
        if _get(part, "type") == "output_text" and isinstance(part.get("text"), str)
    ]
    reason = _str(_get(body.get("incomplete_details"), "reason")) or _str(body.get("status"))
    return ("".join(parts) if parts else None), reason


def row_values(source: ResultSource) -> tuple[Any, ...]:
    """One row's values, in the order of `COLUMNS`."""
    global _to_json
    result, input_line, model, batch_id, attempt = source
    body = result.body
    error = result.error
    ok = result.ok
    text = finish = input_tokens = cached = output_tokens = reasoning = raw = None
    if body is not None:
        if ok:
            text, finish = _answer(body)
        usage = body.get("usage")
        if isinstance(usage, dict):
            input_tokens = _int(usage.get("prompt_tokens"))
            if input_tokens is None:
                input_tokens = _int(usage.get("input_tokens"))
            cached = _int(
                _get(usage.get("prompt_tokens_details") or usage.get("input_tokens_details"), "cached_tokens")
            )
            output_tokens = _int(usage.get("completion_tokens"))
            if output_tokens is None:
                output_tokens = _int(usage.get("output_tokens"))
            reasoning = _int(
                _get(usage.get("completion_tokens_details") or usage.get("output_tokens_details"), "reasoning_tokens")
            )
        if model is None:
            model = _str(body.get("model"))
        if _to_json is None:
            _to_json = _encoder()
        raw = _to_json(body)
    return (
        result.custom_id,
        input_line,
        result.status_code,
        ok,
        None if error is None else error.code,
        None if error is None else error.message,
        model or None,
        text,
        finish,
        input_tokens,
        cached,
        output_tokens,
        reasoning,
        batch_id,
        attempt,
        raw,
    )


_TEXT: Final = NAMES.index("text")
_BODY: Final = NAMES.index("body")


def _row_batches(sources: Iterable[ResultSource], rows_per_batch: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows' values by column, cut every `rows_per_batch` rows or once their text is large."""
    rows: list[tuple[Any, ...]] = []
    held = 0
    for source in sources:
        values = row_values(source)
        rows.append(values)
        held += len(values[_BODY] or "") + len(values[_TEXT] or "")
        if len(rows) >= rows_per_batch or held >= _BYTES_PER_BATCH:
            columns = list(zip(*rows, strict=True))
            rows = []  # before the consumer converts the columns: one batch's values alive, not two
            held = 0
            yield columns
            del columns
    if rows:
        yield list(zip(*rows, strict=True))


# --- tables and files --------------------------------------------------------------------------------------------


def record_batches(
    sources: Iterable[ResultSource], *, rows_per_batch: int = ROWS_PER_BATCH
) -> Iterator[pyarrow.RecordBatch]:
    """The rows as Arrow record batches of the fixed schema, built one at a time.

    Args:
        sources: The rows' sources, `(result, input_line, model, batch_id, attempt)` each, read once.
        rows_per_batch: Rows per record batch: the most Python values alive at once.

    Yields:
        Record batches of `arrow_schema()`.

    Raises:
        MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
    """
    pa = require("pyarrow")
    schema = arrow_schema()
    for columns in _row_batches(sources, rows_per_batch):
        arrays = [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)]
        # The Python values go before the next batch is read: while it is, only its own values are alive.
        del columns
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        del arrays


def to_table(sources: Iterable[ResultSource], *, rows_per_batch: int = ROWS_PER_BATCH) -> pyarrow.Table:
    """The rows as one `pyarrow.Table`, built one record batch at a time.

    Args:
        sources: The rows' sources, `(result, input_line, model, batch_id, attempt)` each, read once.
        rows_per_batch: Rows per record batch: the most Python values alive at once.

    Returns:
        The table, of `arrow_schema()`.

    Raises:
        MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
    """
    pa = require("pyarrow")
    return pa.Table.from_batches(record_batches(sources, rows_per_batch=rows_per_batch), schema=arrow_schema())


def to_pandas(table: pyarrow.Table) -> Any:
    """A pandas DataFrame with nullable dtypes (`string`, `Int64`, `boolean`): a null stays `pd.NA`, and a token
    count stays an integer instead of becoming a float beside a null.

    Args:
        table: A results table, as `to_table` builds it.

    Returns:
        The DataFrame.

    Raises:
        MissingDependencyError: pandas or pyarrow is not installed (the `[pandas]` extra).
    """
    pd = require("pandas")
    pa = require("pyarrow", "pandas")
    mapping = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get)


def to_polars(table: pyarrow.Table) -> Any:
    """A polars DataFrame of a results table.

    Args:
        table: A results table, as `to_table` builds it.

    Returns:
        The DataFrame.

    Raises:
        MissingDependencyError: polars is not installed (the `[polars]` extra).
    """
    pl = require("polars")
    return pl.from_arrow(table)


def write_parquet(
    sources: Iterable[ResultSource], path: str | os.PathLike[str], *, rows_per_batch: int = ROWS_PER_BATCH
) -> int:
    """Stream the rows into a Parquet file, one row group per record batch (written beside `path`, then renamed);
    returns the number of rows.

    Args:
        sources: The rows' sources, `(result, input_line, model, batch_id, attempt)` each, read once.
        path: The Parquet file to write.
        rows_per_batch: Rows per record batch: the most Python values alive at once.

    Returns:
        The number of rows written.

    Raises:
        MissingDependencyError: pyarrow is not installed (the `[arrow]` extra).
        OSError: The file could not be written.
    """
    from .jobs.files import replacing

    pq = require("pyarrow.parquet", "arrow")
    schema = arrow_schema()
    written = 0
    with replacing(Path(path)) as out:
        writer = pq.ParquetWriter(out, schema)
        try:
            for batch in record_batches(sources, rows_per_batch=rows_per_batch):
                writer.write_batch(batch)
                written += batch.num_rows
        finally:
            writer.close()
    return written


def write_csv(sources: Iterable[ResultSource], path: str | os.PathLike[str]) -> int:
    """Stream the rows into a CSV file with a header row (written beside `path`, then renamed); returns the number
    of rows. A null is an empty field, `ok` is `true` or `false`, and rows end with a bare newline.

    Args:
        sources: The rows' sources, `(result, input_line, model, batch_id, attempt)` each, read once.
        path: The CSV file to write.

    Returns:
        The number of rows written.

    Raises:
        OSError: The file could not be written.
    """
    from .jobs.files import replacing

    with replacing(Path(path)) as out:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        try:
            written = write_csv_to(sources, text)
            text.flush()
        finally:
            text.detach()
    return written


def write_csv_to(sources: Iterable[ResultSource], stream: io.TextIOBase | Any) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(NAMES)
    written = 0
    for source in sources:
        writer.writerow(_csv_cell(value) for value in row_values(source))
        written += 1
    return written


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# --- one batch ---------------------------------------------------------------------------------------------------

InputIndex = dict[str, tuple[int, str | None]]
"""A batch's input file by custom_id: its line (from 1) and the model it asks for."""


def index_input_line(index: InputIndex, number: int, line: bytes) -> None:
    """Note one line of a batch's input file; a line that is not a request object is left out."""
    from . import _json

    if not line.strip():
        return
    try:
        record = _json.loads(line)
    except (ValueError, RecursionError):
        return
    custom_id = record.get("custom_id") if isinstance(record, dict) else None
    if isinstance(custom_id, str):
        index.setdefault(custom_id, (number, _str(_get(record.get("body"), "model"))))


class BatchTable:
    """One batch's results gathered into a table a record batch at a time, from a sync or an async stream alike.

    Rows come in the order of the output file, then the error file; `table()` adds a row for each request of the
    input that has no result, and sorts the rows by input line when the input was read.
    """

    def __init__(self, batch_id: str, status: object, inputs: InputIndex | None) -> None:
        self._pa = require("pyarrow")
        self._batch_id = batch_id
        self._status = status
        self._inputs = inputs
        self._seen: set[str] = set()
        self._held: list[ResultSource] = []
        self._batches: list[Any] = []

    def add(self, result: BatchResult) -> None:
        line, model = (self._inputs or {}).get(result.custom_id, (None, None))
        self._seen.add(result.custom_id)
        self._held.append((result, line, model, self._batch_id, 1))
        if len(self._held) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        self._batches.extend(record_batches(self._held))
        self._held = []

    def table(self) -> pyarrow.Table:
        from ._status import is_terminal

        if self._inputs is not None:
            if not is_terminal(self._status):  # type: ignore[arg-type]
                code, message = "pending", "no result yet: the batch has not finished"
            elif self._status == "cancelled":
                code, message = "cancelled", "the batch was cancelled before this request ran"
            else:
                code, message = "no_result", "the service returned no result for this request"
            for custom_id, (line, model) in self._inputs.items():
                if custom_id not in self._seen:
                    result = BatchResult(custom_id, None, None, BatchResultError(code, message), None, None)
                    self._held.append((result, line, model, self._batch_id, 1))
                    if len(self._held) >= ROWS_PER_BATCH:
                        self._flush()
        self._flush()
        table = self._pa.Table.from_batches(self._batches, schema=arrow_schema())
        self._batches = []
        if self._inputs is not None:
            table = table.sort_by([("input_line", "ascending")])
        return table
