"""What happened in a job, as one HTML file: outcome counts and cost, every batch on a timeline per model with the
token budget in flight, failures grouped by code with examples, retries, tokens per model, the slowest batches.

The page is self-contained (inline CSS and SVG drawn here, no script, nothing fetched), so it opens from a mail
attachment or an archive years later. Everything on it is an aggregate the store computes in SQL: the timeline
draws a bounded number of lanes (consecutive batches share a lane when there are more), the in-flight chart a
bounded number of time buckets, and failure groups and examples are capped, so the page and the memory that writes
it stay the same size for a job of a thousand requests or of a million. Every string that came from the job or the
service (names, custom_ids, messages, statuses) is escaped.
"""

from __future__ import annotations

import datetime
import itertools
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Final

from ..prices import PricesArg
from .files import replacing
from .job_results import _Files
from .records import FINAL, JobRecord
from .service import TERMINAL
from .store import JobStore
from .summary import JobSummary, summarize

__all__ = ["write_report"]

LANES: Final = 120  # timeline lanes in all, shared out between the models
MODEL_LANES: Final = 40  # at most per model
MIN_MODEL_LANES: Final = 3
BUCKETS: Final = 160  # points of the in-flight chart
FAILURE_GROUPS: Final = 40
EXAMPLES: Final = 5
SLOWEST: Final = 10
TEXT_LIMIT: Final = 200  # characters of a message shown (the rest is cut, with an ellipsis)
ID_LIMIT: Final = 64  # characters of an example custom_id shown (all of it in its tooltip)

WIDTH: Final = 960
LEFT: Final = 190  # room for lane labels
LANE_HEIGHT: Final = 14
COLOURS: Final = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")
STATUS_COLOURS: Final = {"completed": "#38a169", "failed": "#e53e3e", "expired": "#dd6b20", "cancelled": "#718096"}
NO_MODEL: Final = "(no model)"


def write_report(
    store: JobStore, record: JobRecord, target: Path, prices: PricesArg | None = None, *, now: float | None = None
) -> None:
    """Write the job's report to `target` (beside it first, then renamed: a reader never sees half a page)."""
    moment = time.time() if now is None else now
    summary = summarize(store, record, prices)
    with replacing(target) as out:
        for chunk in _page(store, record, summary, moment):
            out.write(chunk.encode("utf-8"))


# --- the page ---------------------------------------------------------------------------------------------------


def _page(store: JobStore, record: JobRecord, summary: JobSummary, now: float) -> Iterator[str]:
    models = {number: name or NO_MODEL for number, name in store.models(record.id).items()}
    name = escape(record.name)
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Job {name}: report</title><style>{_CSS}</style></head><body>\n"
        f'<h1>Job <span id="job-name">{name}</span> <span class="status" id="status" data-value="'
        f'{escape(summary.status)}">{escape(summary.status)}</span></h1>\n'
        f'<p class="meta">{escape(record.endpoint)}, created {_when(record.created_at)}'
        + (f", finished {_when(record.finished_at)}" if record.finished_at else "")
        + f"; report written {_when(now)}.</p>\n"
    )
    yield _headline(summary)
    yield _section("Timeline", _timeline(store, record, models, now))
    yield _section("Token budget in flight", _in_flight(store, record, models, now))
    yield _section("Failures", _failures(store, record))
    yield _section("Attempts", _attempts(store, record))
    yield _section("Tokens and cost per model", _per_model(store, record, models, summary))
    yield _section("Slowest batches", _slowest(store, record, models, now))
    yield "</body></html>\n"


_CSS: Final = (
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1a202c;margin:24px auto;"
    "max-width:1000px;padding:0 16px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
    "border-bottom:1px solid #e2e8f0;padding-bottom:4px}.meta,.note{color:#4a5568}.status{font-size:14px;"
    "background:#edf2f7;border-radius:4px;padding:2px 8px;vertical-align:middle}"
    ".cards{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0}.card{border:1px solid #e2e8f0;border-radius:6px;"
    "padding:8px 12px;min-width:96px}.card b{display:block;font-size:20px}.card span.label{color:#4a5568;"
    "font-size:12px}table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;"
    "border-bottom:1px solid #edf2f7;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:"
    "tabular-nums}code{font-size:12px;word-break:break-all}svg{display:block;max-width:100%;height:auto}"
    ".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;"
    "margin-right:4px;border-radius:2px}#failures code{display:block;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis;max-width:440px}"
)


def _section(title: str, body: Iterable[str]) -> str:
    return f"<h2>{escape(title)}</h2>\n" + "".join(body) + "\n"


def _headline(summary: JobSummary) -> str:
    cost = summary.cost
    cards = [
        ("requests", "requests", summary.requests),
        ("succeeded", "succeeded", summary.succeeded),
        ("failed", "failed", summary.failed),
        ("missing", "no result", summary.missing),
        ("cancelled", "cancelled", summary.cancelled),
        ("pending", "pending", summary.pending),
        ("batches", "batches", summary.batches),
        ("input-tokens", "input tokens", summary.input_tokens),
        ("output-tokens", "output tokens", summary.output_tokens),
    ]
    parts = [
        f'<div class="card"><b><span id="{key}" data-value="{value}">{value:,}</span></b>'
        f'<span class="label">{label}</span></div>'
        for key, label, value in cards
    ]
    shown = "no price" if cost is None else f"${cost:,.4f}"
    data = "" if cost is None else repr(cost)
    parts.append(
        f'<div class="card"><b><span id="cost" data-value="{data}">{shown}</span></b>'
        '<span class="label">cost at batch prices</span></div>'
    )
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in summary.notes)
    cached = f'<p class="note">cached input tokens {summary.cached_tokens:,}; estimated input tokens '
    cached += f"{summary.estimated_input_tokens:,}; attempts used {summary.attempts_used:,}, "
    cached += f"{summary.retried:,} requests retried.</p>"
    return f'<div class="cards" id="headline">{"".join(parts)}</div>{cached}{notes}\n'


# --- the timeline -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lane:
    model: int
    batches: int
    first: int  # 1-based number of the lane's first batch among its model's
    created: float
    in_progress: float | None
    finalizing: float | None
    ended: float
    running: int
    status: str
    batch_id: str


def _ended(record: JobRecord, now: float, table: str = "") -> str:
    """SQL for when a batch ended: as recorded; else now for one still running, and for a final one recorded by a
    version that kept no end time, when its job finished (or now)."""
    finished = min(record.finished_at or now, now)
    return f"COALESCE({table}ended_at, CASE WHEN {table}status IN {_FINAL_SQL} THEN {finished!r} ELSE {now!r} END)"


_FINAL_SQL: Final = "('completed', 'failed', 'expired', 'cancelled')"


def _lanes(store: JobStore, record: JobRecord, per_model: int, now: float) -> Iterator[_Lane]:
    sql = f"""
        WITH b AS (
            SELECT model, batch_id, status, created_at, in_progress_at, finalizing_at,
                   {_ended(record, now)} AS ended, ended_at IS NULL AND status NOT IN {_FINAL_SQL} AS running,
                   ROW_NUMBER() OVER (PARTITION BY model ORDER BY created_at, batch_id) - 1 AS n,
                   COUNT(*) OVER (PARTITION BY model) AS total
            FROM batches WHERE job = ?
        )
        SELECT model, n * ? / total AS lane, COUNT(*), MIN(n) + 1, MIN(created_at), MIN(in_progress_at),
               MAX(finalizing_at), MAX(ended), SUM(running),
               CASE WHEN COUNT(DISTINCT status) = 1 THEN MIN(status) ELSE 'mixed' END, MIN(batch_id)
        FROM b GROUP BY model, lane ORDER BY model, lane
    """
    for row in store.aggregate(sql, (record.id, per_model)):
        model, _lane, count, first, created, started, finalizing, ended, running, status, batch_id = row
        yield _Lane(model, count, first, created, started, finalizing, max(ended, created), running, status, batch_id)


def _span(store: JobStore, record: JobRecord, now: float) -> tuple[float, float, int, int] | None:
    row = next(
        store.aggregate(
            f"SELECT MIN(created_at), MAX({_ended(record, now)}), COUNT(*), COUNT(DISTINCT model) FROM batches"
            " WHERE job = ?",
            (record.id,),
        )
    )
    if not row[2]:
        return None
    start, end, count, models = row
    return float(start), max(float(end), float(start) + 1.0), int(count), int(models)


def _timeline(store: JobStore, record: JobRecord, models: Mapping[int, str], now: float) -> Iterator[str]:
    span = _span(store, record, now)
    if span is None:
        yield '<p class="note">No batch has been created yet.</p>'
        return
    start, end, count, model_count = span
    per_model = max(MIN_MODEL_LANES, min(MODEL_LANES, LANES // max(model_count, 1)))
    lanes = list(_lanes(store, record, per_model, now))  # at most per_model lanes per model: bounded
    grouped = any(lane.batches > 1 for lane in lanes)
    x = _scale(start, end)
    top = 24
    height = top + len(lanes) * LANE_HEIGHT + _model_gaps(lanes) * 8 + 28
    svg = [_svg_open(height, "timeline", f"{count} batches from created to ended, per model"), _axis(start, end, top)]
    y = top
    previous: int | None = None
    for lane in lanes:
        if previous is not None and lane.model != previous:
            y += 8
        previous = lane.model
        label = models.get(lane.model, NO_MODEL)
        if lane.batches == 1:
            who = f"batch {lane.first}"
        else:
            who = f"batches {lane.first:,}-{lane.first + lane.batches - 1:,}"
        colour = STATUS_COLOURS.get(lane.status, "#a0aec0")
        started = lane.in_progress if lane.in_progress is not None else lane.created
        finalizing = lane.finalizing if lane.finalizing is not None else lane.ended
        finalizing = min(max(finalizing, started), lane.ended)
        title = (
            f"{label}, {who}: created {_offset(lane.created - start)}, in progress {_maybe(lane.in_progress, start)}"
            f", finalizing {_maybe(lane.finalizing, start)}, "
            + (f"{lane.running} still running" if lane.running else f"ended {_offset(lane.ended - start)}")
            + f" ({lane.status}; first {lane.batch_id})"
        )
        svg.append(
            f'<g class="lane" data-model="{escape(label)}" data-batches="{lane.batches}" data-running="{lane.running}">'
            f"<title>{escape(title)}</title>"
        )
        svg.append(
            f'<text x="{LEFT - 6}" y="{y + 11}" text-anchor="end" font-size="10">{escape(_cut(label, 18))} '
            f"{escape(who)}</text>"
        )
        svg.append(_bar(x(lane.created), x(started), y + 3, "#cbd5e0"))
        svg.append(_bar(x(started), x(finalizing), y + 3, "#63b3ed"))
        svg.append(_bar(x(finalizing), x(lane.ended), y + 3, "#9f7aea"))
        svg.append(f'<rect x="{x(lane.ended) - 2:.1f}" y="{y + 2}" width="3" height="11" fill="{colour}"/>')
        svg.append("</g>")
        y += LANE_HEIGHT
    svg.append("</svg>")
    yield "".join(svg)
    yield (
        '<p class="legend"><span><i style="background:#cbd5e0"></i>validating</span>'
        '<span><i style="background:#63b3ed"></i>in progress</span>'
        '<span><i style="background:#9f7aea"></i>finalizing</span>'
        + "".join(f'<span><i style="background:{c}"></i>{s}</span>' for s, c in STATUS_COLOURS.items())
        + "</p>"
    )
    if grouped:
        yield (
            f'<p class="note">{count:,} batches: consecutive batches of a model share a lane (from the first one '
            "created to the last one ended).</p>"
        )


def _model_gaps(lanes: list[_Lane]) -> int:
    return sum(1 for a, b in itertools.pairwise(lanes) if a.model != b.model)


def _bar(x0: float, x1: float, y: int, colour: str) -> str:
    width = max(x1 - x0, 0.0)
    if width <= 0:
        return ""
    return f'<rect x="{x0:.1f}" y="{y}" width="{max(width, 0.5):.1f}" height="9" fill="{colour}"/>'


# --- tokens in flight ----------------------------------------------------------------------------------------------


def _in_flight(store: JobStore, record: JobRecord, models: Mapping[int, str], now: float) -> Iterator[str]:
    span = _span(store, record, now)
    if span is None:
        yield '<p class="note">Nothing has been in flight yet.</p>'
        return
    start, end, _count, _models = span
    step = (end - start) / BUCKETS
    # A batch holds its shard's estimated input tokens from when it was created until it ended. The service's times
    # are whole seconds: within one, the batches that ended go first (the runner creates the next one after it sees
    # one end), then those created, then the ends of batches created and ended in that same second.
    ended = _ended(record, now, "b.")
    sql = f"""
        SELECT t, delta, model FROM (
            SELECT b.created_at AS t, s.tokens AS delta, b.model AS model, 1 AS phase
            FROM batches b JOIN shards s ON s.job = b.job AND s.id = b.shard WHERE b.job = ?
            UNION ALL
            SELECT MAX({ended}, b.created_at), -s.tokens, b.model, CASE WHEN {ended} > b.created_at THEN 0 ELSE 2 END
            FROM batches b JOIN shards s ON s.job = b.job AND s.id = b.shard WHERE b.job = ?
        ) ORDER BY t, phase
    """
    peaks: dict[int, _Series] = {}
    everything = _Series()
    for t, delta, model in store.aggregate(sql, (record.id, record.id)):
        bucket = min(max(int((t - start) / step), 0), BUCKETS - 1) if step > 0 else 0
        peaks.setdefault(model, _Series()).add(bucket, int(delta))
        everything.add(bucket, int(delta))
    total_peaks = everything.done()
    series_by_model = {model: series.done() for model, series in peaks.items()}
    highest = max([*total_peaks, record.enqueued_token_limit or 0, 1])
    height, top, bottom = 220, 16, 190
    x = _scale(start, end)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / highest

    svg = [_svg_open(height, "in-flight", "estimated input tokens in flight over time, per model")]
    svg.append(_axis(start, end, bottom + 4, below=True))
    svg.append(f'<text x="{LEFT - 6}" y="{top + 8}" text-anchor="end" font-size="10">{highest:,}</text>')
    svg.append(f'<text x="{LEFT - 6}" y="{bottom}" text-anchor="end" font-size="10">0</text>')
    svg.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#a0aec0"/>')
    if len(peaks) > 1:
        svg.append(_area(total_peaks, x, y, start, step, "#e2e8f0", "#a0aec0", "all models"))
    for index, (model, series) in enumerate(sorted(series_by_model.items())):
        colour = COLOURS[index % len(COLOURS)]
        svg.append(_area(series, x, y, start, step, "none", colour, models.get(model, NO_MODEL)))
    if record.enqueued_token_limit:
        limit_y = y(record.enqueued_token_limit)
        svg.append(
            f'<line x1="{LEFT}" y1="{limit_y:.1f}" x2="{WIDTH - 10}" y2="{limit_y:.1f}" stroke="#e53e3e" '
            'stroke-dasharray="4 3"><title>the job\'s enqueued-token limit per model</title></line>'
        )
    svg.append("</svg>")
    yield "".join(svg)
    legend = "".join(
        f'<span><i style="background:{COLOURS[i % len(COLOURS)]}"></i>{escape(models.get(m, NO_MODEL))}</span>'
        for i, m in enumerate(sorted(peaks))
    )
    if record.enqueued_token_limit:
        legend += f'<span><i style="background:#e53e3e"></i>limit {record.enqueued_token_limit:,}</span>'
    yield f'<p class="legend">{legend}</p>'
    yield (
        f'<p class="note">Peak {max(total_peaks):,} estimated input tokens in flight (each bucket of '
        f"{_duration(step)} shows its highest).</p>"
    )


class _Series:
    """The highest level per time bucket of a step function fed its changes in time order."""

    def __init__(self) -> None:
        self.values = [0] * BUCKETS
        self.bucket = 0
        self.level = 0

    def add(self, bucket: int, delta: int) -> None:
        # The buckets since the last change held the level it left.
        for held in range(self.bucket, bucket + 1):
            self.values[held] = max(self.values[held], self.level)
        self.bucket = bucket
        self.level += delta
        self.values[bucket] = max(self.values[bucket], self.level)

    def done(self) -> list[int]:
        for held in range(self.bucket, BUCKETS):
            self.values[held] = max(self.values[held], self.level)
        return self.values


def _area(series: list[int], x: Any, y: Any, start: float, step: float, fill: str, stroke: str, label: str) -> str:
    points = []
    for bucket, value in enumerate(series):
        x0, x1 = x(start + bucket * step), x(start + (bucket + 1) * step)
        points += [f"{x0:.1f},{y(value):.1f}", f"{x1:.1f},{y(value):.1f}"]
    line = " ".join(points)
    base = f"{x(start + len(series) * step):.1f},{y(0):.1f} {x(start):.1f},{y(0):.1f}"
    title = f"<title>{escape(label)}: peak {max(series, default=0):,}</title>"
    if fill == "none":
        return f'<polyline points="{line}" fill="none" stroke="{stroke}" stroke-width="1.5">{title}</polyline>'
    return f'<polygon points="{line} {base}" fill="{fill}" stroke="{stroke}" stroke-width="0.5">{title}</polygon>'


# --- failures, attempts, models, slow batches --------------------------------------------------------------------


def _failures(store: JobStore, record: JobRecord) -> Iterator[str]:
    where = f"job = ? AND state = {FINAL} AND outcome != 'succeeded'"
    # A request's result is its kept line when it has one (results() gives that line), else the store's reason.
    code = "CASE WHEN result_file IS NULL THEN error_code ELSE answer_code END"
    status = "CASE WHEN result_file IS NULL THEN NULL ELSE status_code END"
    groups = list(
        store.aggregate(
            f"SELECT outcome, {status} AS s, {code} AS c, COUNT(*) AS n FROM requests WHERE {where}"
            " GROUP BY outcome, s, c ORDER BY n DESC, outcome, s, c LIMIT ?",
            (record.id, FAILURE_GROUPS + 1),
        )
    )
    if not groups:
        yield '<p class="note">No request failed.</p>'
        return
    more = len(groups) > FAILURE_GROUPS
    groups = groups[:FAILURE_GROUPS]
    keys = {(outcome, status, code) for outcome, status, code, _ in groups}
    examples: dict[tuple[Any, Any, Any], list[tuple[Any, ...]]] = {}
    sql = f"""
        SELECT outcome, s, c, custom_id, result_file, result_offset, result_length, error_message
        FROM (
            SELECT outcome, {status} AS s, {code} AS c, custom_id, result_file, result_offset, result_length,
                   error_message, ROW_NUMBER() OVER (PARTITION BY outcome, {status}, {code} ORDER BY line) AS rank
            FROM requests WHERE {where}
        ) WHERE rank <= ?
    """
    for outcome, status, code, *rest in store.aggregate(sql, (record.id, EXAMPLES)):
        if (outcome, status, code) in keys:
            examples.setdefault((outcome, status, code), []).append(tuple(rest))
    files = _Files(store.result_files(record.id))
    try:
        rows = []
        for outcome, status, code, count in groups:
            found = examples.get((outcome, status, code), [])
            message = _message(files, found[0]) if found else ""
            ids = " ".join(_example(str(example[0])) for example in found)
            data = (
                f'data-outcome="{escape(str(outcome))}" data-status="{"" if status is None else int(status)}" '
                f'data-code="{escape(str(code or ""))}" data-value="{int(count)}" data-examples="{len(found)}"'
            )
            rows.append(
                f'<tr {data}><td>{escape(str(outcome))}</td><td class="n">{"" if status is None else int(status)}</td>'
                f'<td>{escape(str(code or ""))}</td><td class="n">{int(count):,}</td>'
                f"<td>{escape(_cut(message, TEXT_LIMIT))}</td><td>{ids}</td></tr>"
            )
    finally:
        files.close()
    yield (
        '<table id="failures"><thead><tr><th>outcome</th><th class="n">status</th><th>error code</th>'
        '<th class="n">requests</th><th>message (first example)</th><th>examples (custom_id)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    if more:
        yield f'<p class="note">Only the {FAILURE_GROUPS} largest groups are shown.</p>'


def _example(custom_id: str) -> str:
    shown, whole = _cut(custom_id, ID_LIMIT), _cut(custom_id, 10 * ID_LIMIT)
    return f'<code title="{escape(whole)}">{escape(shown)}</code>'


def _message(files: _Files, example: tuple[Any, ...]) -> str:
    """The first example's message: the error in its result line, else the store's reason for having none."""
    _custom_id, number, offset, length, stored = example
    if number is None or offset is None or length is None:
        return str(stored or "")
    try:
        record = json.loads(files.read(number, offset, length))
    except (OSError, KeyError, ValueError):
        return ""
    error = record.get("error") if isinstance(record, Mapping) else None
    if not (isinstance(error, Mapping) and error):
        response = record.get("response") if isinstance(record, Mapping) else None
        body = response.get("body") if isinstance(response, Mapping) else None
        error = body.get("error") if isinstance(body, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    return message if isinstance(message, str) else ""


def _attempts(store: JobStore, record: JobRecord) -> Iterator[str]:
    rows = list(
        store.aggregate(
            "SELECT attempts, COALESCE(outcome, 'pending'), COUNT(*) FROM requests WHERE job = ?"
            " GROUP BY attempts, COALESCE(outcome, 'pending') ORDER BY attempts",
            (record.id,),
        )
    )
    if not rows:
        yield '<p class="note">The job holds no requests.</p>'
        return
    outcomes = ["succeeded", "failed", "missing", "cancelled", "pending"]
    table: dict[int, dict[str, int]] = {}
    for attempts, outcome, count in rows:
        table.setdefault(int(attempts), {})[str(outcome)] = int(count)
    head = "".join(f'<th class="n">{escape(o)}</th>' for o in outcomes)
    biggest = max(sum(v.values()) for v in table.values()) or 1
    body = []
    for attempts, counts in sorted(table.items()):
        total = sum(counts.values())
        width = 160 * total / biggest
        bar = f'<svg width="164" height="10"><rect width="{width:.1f}" height="10" fill="#63b3ed"/></svg>'
        cells = "".join(f'<td class="n">{counts.get(o, 0):,}</td>' for o in outcomes)
        label = "not sent yet" if attempts == 0 else f"{attempts}"
        body.append(
            f'<tr data-attempts="{attempts}" data-value="{total}"><td>{label}</td><td class="n">{total:,}</td>'
            f"{cells}<td>{bar}</td></tr>"
        )
    yield (
        '<table id="attempts"><thead><tr><th>attempts</th><th class="n">requests</th>'
        f"{head}<th></th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _per_model(store: JobStore, record: JobRecord, models: Mapping[int, str], summary: JobSummary) -> Iterator[str]:
    requests = {
        int(model): row
        for model, *row in store.aggregate(
            "SELECT model, COUNT(*), SUM(outcome = 'succeeded'), SUM(outcome IS NOT NULL AND outcome != 'succeeded'),"
            " SUM(tokens) FROM requests WHERE job = ? GROUP BY model",
            (record.id,),
        )
    }
    batches = {
        int(model): row
        for model, *row in store.aggregate(
            "SELECT model, COUNT(*), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens) FROM batches"
            " WHERE job = ? GROUP BY model",
            (record.id,),
        )
    }
    body = []
    for model in sorted(set(requests) | set(batches)):
        name = models.get(model, NO_MODEL)
        count, succeeded, failed, estimated = requests.get(model, [0, 0, 0, 0])
        made, input_tokens, cached, output = batches.get(model, [0, 0, 0, 0])
        cost = summary.cost_by_model.get(name)
        body.append(
            f'<tr data-model="{escape(name)}" data-value="{int(count or 0)}" '
            f'data-input-tokens="{int(input_tokens or 0)}" data-output-tokens="{int(output or 0)}">'
            f'<td>{escape(name)}</td><td class="n">{int(count or 0):,}</td>'
            f'<td class="n">{int(succeeded or 0):,}</td><td class="n">{int(failed or 0):,}</td>'
            f'<td class="n">{int(made or 0):,}</td><td class="n">{int(estimated or 0):,}</td>'
            f'<td class="n">{int(input_tokens or 0):,}</td><td class="n">{int(cached or 0):,}</td>'
            f'<td class="n">{int(output or 0):,}</td>'
            f'<td class="n">{"-" if cost is None else f"${cost:,.4f}"}</td></tr>'
        )
    yield (
        '<table id="models"><thead><tr><th>model</th><th class="n">requests</th><th class="n">succeeded</th>'
        '<th class="n">not succeeded</th><th class="n">batches</th><th class="n">estimated input</th>'
        '<th class="n">input tokens</th><th class="n">cached</th><th class="n">output tokens</th>'
        f'<th class="n">cost</th></tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _slowest(store: JobStore, record: JobRecord, models: Mapping[int, str], now: float) -> Iterator[str]:
    rows = list(
        store.aggregate(
            "SELECT batch_id, model, status, attempt, submission, created_at, in_progress_at, finalizing_at, ended_at,"
            f" requests_total, requests_completed, requests_failed, {_ended(record, now)} - created_at AS took"
            " FROM batches WHERE job = ? ORDER BY took DESC, batch_id LIMIT ?",
            (record.id, SLOWEST),
        )
    )
    if not rows:
        yield '<p class="note">No batch has been created yet.</p>'
        return
    body = []
    for row in rows:
        batch_id, model, status, attempt, submission, created, started, finalizing, ended, total, done, failed, took = (
            row
        )
        phases = (
            f"validating {_between(created, started)}, in progress {_between(started, finalizing)}, "
            f"finalizing {_between(finalizing, ended)}"
        )
        body.append(
            f'<tr data-batch="{escape(str(batch_id))}" data-value="{float(took)!r}">'
            f"<td><code>{escape(str(batch_id))}</code></td><td>{escape(models.get(model, NO_MODEL))}</td>"
            f"<td>{escape(str(status))}{'' if ended is not None or status in TERMINAL else ' (running)'}</td>"
            f'<td class="n">{int(attempt)}{"" if submission == 1 else f" ({int(submission)})"}</td>'
            f'<td class="n">{int(done):,}/{int(total):,}{f", {int(failed):,} failed" if failed else ""}</td>'
            f'<td class="n">{_duration(float(took))}</td><td>{escape(phases)}</td></tr>'
        )
    yield (
        '<table id="slowest"><thead><tr><th>batch</th><th>model</th><th>status</th><th class="n">attempt</th>'
        '<th class="n">requests done</th><th class="n">took</th><th>phases</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


# --- drawing and formatting helpers -------------------------------------------------------------------------------


def _svg_open(height: int, ident: str, label: str) -> str:
    return (
        f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" font-family="system-ui,sans-serif">'
    )


def _scale(start: float, end: float) -> Any:
    span = max(end - start, 1e-9)

    def x(t: float) -> float:
        return LEFT + (WIDTH - 10 - LEFT) * (t - start) / span

    return x


def _axis(start: float, end: float, y: int, *, below: bool = False) -> str:
    x = _scale(start, end)
    parts = []
    for tick in range(6):
        t = start + (end - start) * tick / 5
        text_y = y + 12 if below else y - 8
        anchor = "start" if tick == 0 else "end" if tick == 5 else "middle"  # the ends stay inside the chart
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{y - (0 if below else 4)}" x2="{x(t):.1f}" y2="{y + (4 if below else 0)}" '
            f'stroke="#a0aec0"/><text x="{x(t):.1f}" y="{text_y}" text-anchor="{anchor}" font-size="10">'
            f"{_offset(t - start)}</text>"
        )
    return "".join(parts)


def _when(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.datetime.fromtimestamp(moment, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _offset(seconds: float) -> str:
    return f"+{_duration(seconds)}"


def _maybe(moment: float | None, start: float) -> str:
    return "-" if moment is None else _offset(moment - start)


def _between(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else _duration(b - a)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
