"""What the `openai-batches` commands print: batches for people, JSON for scripts, one-line errors.

stdout carries the command's result only (text, or JSON with `--json`); progress and errors go to stderr. Every
string that came from the server is cleaned of control characters before it reaches a terminal in text mode.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any, TextIO

from ._cli_progress import counts_of
from ._generated import Batch, BatchErrors, Metadata
from .results import BatchResult

PROG = "openai-batches"


def clean(text: object) -> str:
    """Text safe to show on a terminal: control characters (escape sequences, line breaks) shown as escapes."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in str(text))


def batch_json(batch: Batch) -> dict[str, Any]:
    return batch.to_dict()


def result_json(result: BatchResult) -> dict[str, Any]:
    """One result line: the request's id, the endpoint's status and body, the error, and the request id."""
    error = None if result.error is None else {"code": result.error.code, "message": result.error.message}
    return {
        "custom_id": result.custom_id,
        "status_code": result.status_code,
        "body": None if result.body is None else dict(result.body),
        "error": error,
        "request_id": result.request_id,
    }


def json_line(value: object) -> str:
    """Compact JSON on one line, ASCII only (safe for any terminal encoding and any consumer)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def json_document(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=True, allow_nan=False)


def _when(timestamp: object) -> str | None:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return None
    try:
        moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def counts_text(batch: Batch) -> str:
    completed, failed, total = counts_of(batch)
    return f"{completed}/{total} completed, {failed} failed"


def error_lines(batch: Batch, limit: int = 5) -> list[str]:
    """The batch's own errors (why it failed validation), one per line, at most `limit` of them."""
    errors = batch.errors
    data = errors.data if isinstance(errors, BatchErrors) else None
    if not isinstance(data, list):
        return []
    lines = []
    for error in data[:limit]:
        line = error.line
        code = error.code
        message = error.message or "no message"
        where = f"line {line}: " if line is not None else ""
        suffix = f" ({code})" if code else ""
        lines.append(clean(f"{where}{message}{suffix}"))
    if len(data) > limit:
        lines.append(f"... and {len(data) - limit} more")
    return lines


def describe(batch: Batch) -> list[str]:
    """`openai-batches status`: the batch's fields that matter, aligned."""
    rows: list[tuple[str, object | None]] = [
        ("id", batch.id),
        ("status", batch.status),
        ("endpoint", batch.endpoint),
        ("model", batch.model),
        ("requests", counts_text(batch)),
        ("created", _when(batch.created_at)),
    ]
    for name in ("in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"):
        rows.append((name.replace("_", " "), _when(getattr(batch, f"{name}_at"))))
    rows += [
        ("expires", _when(batch.expires_at)),
        ("input file", batch.input_file_id),
        ("output file", batch.output_file_id),
        ("error file", batch.error_file_id),
    ]
    metadata = batch.metadata
    if isinstance(metadata, Metadata):
        pairs = metadata.additional_properties
        rows.append(("metadata", ", ".join(f"{key}={value}" for key, value in pairs.items()) or None))
    lines = [f"{name:<12} {clean(value)}" for name, value in rows if value is not None]
    lines += [f"{'error':<12} {line}" for line in error_lines(batch)]
    return lines


def table(batches: Iterable[Batch]) -> list[str]:
    """`openai-batches list`: one row per batch."""
    rows = [("ID", "STATUS", "ENDPOINT", "COMPLETED/FAILED/TOTAL", "CREATED")]
    for batch in batches:
        completed, failed, total = counts_of(batch)
        rows.append(
            (
                clean(batch.id),
                clean(batch.status),
                clean(batch.endpoint),
                f"{completed}/{failed}/{total}",
                _when(batch.created_at) or "",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]) for row in rows
    ]


def summary(batch: Batch) -> list[str]:
    """What `wait` prints at the end: the final status, the counts, the result files, and why it failed."""
    lines = [f"batch {clean(batch.id)} {clean(batch.status)}: {counts_text(batch)}"]
    for label, file_id in (("output file", batch.output_file_id), ("error file", batch.error_file_id)):
        value = file_id
        if value:
            lines.append(f"  {label}: {clean(value)}")
    lines += [f"  error: {line}" for line in error_lines(batch)]
    return lines


class Output:
    """stdout for results, stderr for errors; `--json` decides the format of the results."""

    def __init__(self, stdout: TextIO, stderr: TextIO, *, as_json: bool, secrets: Iterable[str] = ()) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.as_json = as_json
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def line(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def json(self, value: object) -> None:
        print(json_document(value), file=self.stdout)

    def batch(self, batch: Batch) -> None:
        self.json(batch_json(batch))

    def error(self, message: str) -> None:
        """One line on stderr, with any secret the command knows of blanked out."""
        self.stderr.write(f"{PROG}: error: {self.redact(message)}\n")
        self.stderr.flush()

    def note(self, message: str) -> None:
        """An aside for a person (stderr, so stdout stays the result)."""
        self.stderr.write(f"{PROG}: {self.redact(message)}\n")
        self.stderr.flush()

    def redact(self, message: str) -> str:
        text = " ".join(clean(part) for part in str(message).split())
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text
