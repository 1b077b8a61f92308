"""`openai-batches job ...`: durable multi-batch jobs from the command line.

    openai-batches job run NAME INPUT [--endpoint E] [--max-attempts N] [--max-in-flight N]
                                      [--enqueued-token-limit N] [--max-batch-requests N] [--state-dir DIR]
                                      [--lease-seconds S] [--max-cost DOLLARS] [--price MODEL=IN,OUT[,CACHED]]
                                      [--dry-run]
    openai-batches job resume NAME [--lease-seconds S] [--max-cost DOLLARS]
    openai-batches job status [NAME] [--price MODEL=INPUT,OUTPUT[,CACHED]]
    openai-batches job list
    openai-batches job results NAME [--format jsonl|csv|parquet] [-o merged.jsonl]
    openai-batches job report NAME -o report.html [--price MODEL=INPUT,OUTPUT[,CACHED]]
    openai-batches job cancel NAME [--wait] [--lease-seconds S]
    openai-batches job delete NAME [--remote-files]

The conventions of the other commands hold: `--json` on every command, one-line errors on stderr, the same exit
statuses (a job that ends cancelled exits 5, `job results` of an unfinished job exits 7), live progress on a terminal.
Job commands add their own: an unknown job name is refused (2) since nothing can be sent for it; local state that
cannot be read or written (a full disk, a read-only folder, a permission) exits 8 with the path and, where the job
can go on, the command that resumes it; a job held or taken over by another runner exits 9, and so does a `run` or
`resume` whose job paused at its cost budget (`--max-cost`; stderr says "paused at its cost budget"), since in both
the job is not done and this command can do nothing more for it. Ctrl-C stops the run and leaves the job resumable;
its batches keep running at the service.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ._cli_common import (
    EXIT_CANCELLED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FINISHED,
    EXIT_OK,
    EXIT_PAUSED,
    CommandError,
    Run,
    UsageError,
    given_prices,
    input_endpoint,
    positive,
    price_option,
    seconds,
    token_limit_option,
    token_limits,
)
from ._cli_estimate import estimate_file, print_estimate
from ._cli_output import PROG, clean, json_line, result_json
from ._cli_progress import REDRAW_EVERY, format_elapsed, is_terminal, render_bar, terminal_columns

if TYPE_CHECKING:
    from .jobs import Job, JobSummary

RESULT_FORMATS = ("jsonl", "csv", "parquet")

# The lease a runner holds unless --lease-seconds says otherwise (jobs.lease.LEASE_TTL; a test checks), written
# here so that `--help` needs no import of the jobs.
DEFAULT_LEASE_SECONDS = 120


# --- arguments --------------------------------------------------------------------------------------------------


def _lease_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    # The library's minimum (jobs.lease.MIN_LEASE; a test checks), refused here as a usage error before anything runs.
    if not math.isfinite(value) or value < 1:
        raise argparse.ArgumentTypeError(f"expected seconds of at least 1, got {text!r}")
    return value


def _dollars(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected dollars, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected dollars, a positive number, got {text!r}")
    return value


def _add_lease_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lease-seconds",
        type=_lease_seconds,
        default=None,
        metavar="S",
        help="how long a runner that stopped renewing its hold on the job (paused, suspended, its machine asleep) "
        f"keeps it before another runner may take it over (default: {DEFAULT_LEASE_SECONDS}); a runner that was "
        "taken over stops with exit status 9",
    )


def add_job_parser(
    commands: Any, common: argparse.ArgumentParser, formatter: type[argparse.HelpFormatter], epilog: str
) -> None:
    """The `job` command and its sub-commands, on the main parser's sub-command list."""
    job = commands.add_parser(
        "job",
        parents=[common],
        help="run work bigger than one batch, durably (run, resume, status, list, results, report, cancel, delete)",
        description="Durable multi-batch jobs: a JSONL file of any size is split into batches that fit the "
        "service's limits, submitted a few at a time, its failed lines retried, its results merged into one file "
        "in input order. State lives in a state directory (--state-dir, $OPENAI_BATCHES_STATE_DIR, or "
        "~/.local/state/openai-batches): a run stopped or killed at any point resumes without a duplicate batch.",
        epilog=epilog,
        formatter_class=formatter,
    )
    job.set_defaults(handler=_no_job_command)
    sub = job.add_subparsers(dest="job_command", metavar="JOB_COMMAND", title="job commands")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(
            name, parents=[common], help=summary, description=description, epilog=epilog, formatter_class=formatter
        )
        parser.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help="where jobs keep their state (default: $OPENAI_BATCHES_STATE_DIR, else $XDG_STATE_HOME/openai-batches"
            " or ~/.local/state/openai-batches)",
        )
        return parser

    def run_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--poll-interval",
            type=seconds,
            default=1.0,
            metavar="S",
            help="seconds between polls of a batch that moves (default: 1); polling backs off while it does not",
        )
        parser.add_argument(
            "--max-poll-interval", type=seconds, default=60.0, metavar="S", help="longest pause between polls"
        )
        parser.add_argument("-q", "--quiet", action="store_true", help="no progress display on stderr")
        parser.add_argument(
            "--price",
            type=price_option,
            action="append",
            default=[],
            metavar="MODEL=IN,OUT[,CACHED]",
            help="batch prices of a model in dollars per million tokens, for the cost in the summary and the job's "
            "cost budget (repeatable)",
        )
        parser.add_argument(
            "--max-cost",
            type=_dollars,
            default=None,
            metavar="DOLLARS",
            help="the job's cost budget: a batch is sent only while the estimated cost of what is done and in flight "
            f"stays within it; at the budget the job pauses (exit status {EXIT_PAUSED}) until it is resumed with a "
            "higher one",
        )
        _add_lease_option(parser)

    run = command(
        "run",
        "create a job from a JSONL file and run it until every request has its result",
        "Check INPUT as the service would, record the job NAME, and run it: shards submitted a few at a time, "
        "failed lines retried, results downloaded as each batch ends. Running it again (or `job resume NAME`) "
        "goes on where it stopped; running it with the same NAME and another INPUT is refused.",
    )
    run.add_argument("name", metavar="NAME", help="the job's name: letters, digits, '.', '_', '-'")
    run.add_argument("input", metavar="INPUT.jsonl", help="the requests, one JSON object per line")
    run.add_argument("--endpoint", default=None, metavar="E", help="the endpoint (default: the lines' url)")
    run.add_argument("--max-attempts", type=positive, default=None, metavar="N", help="tries per request (3)")
    run.add_argument("--max-in-flight", type=positive, default=None, metavar="N", help="batches at once (8)")
    run.add_argument(
        "--enqueued-token-limit",
        type=token_limit_option,
        action="append",
        default=None,
        metavar="N|MODEL=N",
        help="estimated input tokens the job may have in flight per model (your organisation's batch queue "
        "limit); MODEL=N, repeated, gives each model (on Azure, each deployment) its own",
    )
    run.add_argument(
        "--max-batch-requests", type=positive, default=None, metavar="N", help="requests per batch (50,000)"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check INPUT and print what the job would send and cost (requests, batches, tokens, the cost range "
        f"at batch prices, as `{PROG} estimate` does), then stop: nothing is sent, no job is recorded, the state "
        "directory is not touched, no API key is needed",
    )
    run_options(run)
    run.set_defaults(handler=_local_failures(_run))

    resume = command(
        "resume",
        "go on with a job",
        "Run the job NAME on from where it stopped; --max-cost sets a new cost budget first (a job paused at its "
        "budget goes on with a higher one).",
    )
    resume.add_argument("name", metavar="NAME")
    run_options(resume)
    resume.set_defaults(handler=_local_failures(_resume))

    status = command(
        "status",
        "show jobs: requests done / failed / pending, batches in flight, attempts, tokens, cost",
        "A table of the jobs (or of job NAME, with its notes): requests final, failed and pending, batches in "
        "flight, attempts used, tokens from the batches' usage, and the cost when --price is given.",
    )
    status.add_argument("name", metavar="NAME", nargs="?")
    status.add_argument(
        "--price", type=price_option, action="append", default=[], metavar="MODEL=IN,OUT[,CACHED]", help="as for run"
    )
    status.set_defaults(handler=_local_failures(_status))

    listing = command("list", "list jobs", "Every job in the state directory, oldest first.")
    listing.set_defaults(handler=_local_failures(_list))

    results = command(
        "results",
        "print or save a job's merged results",
        "One result per request, in input order, in the service's line format; a request without a result from "
        "the service has a line with `error` saying why. With -o, write them to a file and print a summary. "
        "--format csv or parquet writes them as a table instead, one row per request with its status, error, text, "
        "tokens, batch and attempt (parquet needs the [arrow] extra, and -o).",
    )
    results.add_argument("name", metavar="NAME")
    results.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="write the results here")
    results.add_argument(
        "--format",
        choices=RESULT_FORMATS,
        default="jsonl",
        help="jsonl (default): the service's line format; csv or parquet: a table of the results",
    )
    results.set_defaults(handler=_local_failures(_results))

    report = command(
        "report",
        "write what happened in a job as one HTML page",
        "One self-contained HTML file (no script, nothing fetched; it opens in any browser, offline): outcome "
        "counts and cost, every batch on a timeline per model with the token budget in flight, failures by code "
        "and status with example custom_ids, retries per attempt, tokens and cost per model, the slowest batches. "
        "Reads the state directory only, finished job or not.",
    )
    report.add_argument("name", metavar="NAME")
    report.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="write the page here")
    report.add_argument(
        "--price", type=price_option, action="append", default=[], metavar="MODEL=IN,OUT[,CACHED]", help="as for run"
    )
    report.set_defaults(handler=_local_failures(_report))

    cancel = command(
        "cancel",
        "cancel a job",
        "Cancel the job's batches at the service and send nothing more; what finished stays in the results. "
        "With --wait, wait for the cancelled batches and collect what they finished.",
    )
    cancel.add_argument("name", metavar="NAME")
    cancel.add_argument("--wait", action="store_true", help="wait until the job is cancelled, collecting results")
    cancel.add_argument("-q", "--quiet", action="store_true", help="no progress display on stderr")
    _add_lease_option(cancel)
    cancel.set_defaults(handler=_local_failures(_cancel))

    delete = command(
        "delete",
        "forget a job",
        "Delete the job's state (batches still running are cancelled); with --remote-files, also its uploads "
        "and result files on the service.",
    )
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--remote-files", action="store_true", help="also delete the job's files on the service")
    delete.set_defaults(handler=_local_failures(_delete))


# --- progress ---------------------------------------------------------------------------------------------------


def progress_text(job: Job) -> str:
    final = job.requests - job.pending
    return (
        f"{final:,}/{job.requests:,} final, {job.failed + job.missing:,} failed, "
        f"{job.batches_in_flight} batches in flight"
    )


class JobProgress:
    """A job's progress on stderr: one line redrawn in place on a terminal, one line per change elsewhere."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self.enabled = enabled
        self.live = is_terminal(stream)
        self._clock = clock
        self._start = clock()
        self._job: Job | None = None
        self._last = ""
        self._drawn = 0

    def update(self, job: Job) -> None:
        self._job = job
        if not self.enabled:
            return
        if self.live:
            self._redraw()
            return
        text = f"job {clean(job.name)} {job.status} {progress_text(job)}"
        if text != self._last:
            self._last = text
            stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
            self._write(f"{stamp} {text} ({format_elapsed(self._clock() - self._start)})\n")

    def sleep(self, seconds: float) -> None:
        if not (self.enabled and self.live and self._job is not None):
            time.sleep(seconds)
            return
        deadline = self._clock() + seconds
        while (remaining := deadline - self._clock()) > 0:
            time.sleep(min(remaining, REDRAW_EVERY))
            self._redraw()

    def finish(self) -> None:
        if self.enabled and self.live and self._drawn:
            self._redraw()
            self._write("\n")
            self._drawn = 0

    def _redraw(self) -> None:
        job = self._job
        if job is None:
            return
        bar = render_bar(job.requests - job.pending, job.requests)
        line = f"{job.status} [{bar}] {progress_text(job)}, {format_elapsed(self._clock() - self._start)}"
        line = line[: max(terminal_columns(self._stream) - 1, 10)]
        padding = " " * max(self._drawn - len(line), 0)
        self._drawn = max(len(line), 1)
        self._write("\r" + line + padding)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self.enabled = False


# --- the commands -----------------------------------------------------------------------------------------------


def _local_failures(handler: Callable[[Run], int]) -> Callable[[Run], int]:
    """Every job command: a local failure anywhere in it (a full disk, a read-only state folder, a permission, a
    damaged database) is `JobStateError`, exit status 8, naming the path, instead of an OS message that reads as a
    network failure. Where the job can go on, the command's own `_local_state` blocks say how."""

    def guarded(run: Run) -> int:
        from .jobs.local_state import local_state_errors

        with local_state_errors(getattr(run.args, "name", None), _store_path(run), False):
            return handler(run)

    return guarded


@contextlib.contextmanager
def _local_state(run: Run, next_step: str) -> Iterator[None]:
    """A local failure inside says `next_step` (the command that goes on) and what to fix first, in the CLI's words:
    a `JobStateError` the library raised itself is restated with this command, keeping its path and whether the job
    can go on."""
    from .jobs.errors import JobStateError
    from .jobs.local_state import local_state_errors, restate

    try:
        with local_state_errors(getattr(run.args, "name", None), _store_path(run), True, next_step=next_step):
            yield
    except JobStateError as exc:
        raise restate(exc, next_step) from exc.__cause__


def _store_path(run: Run) -> Path:
    from .jobs.settings import STATE_DB

    return _state_dir(run) / STATE_DB


def _state_dir_option(run: Run) -> str:
    return f" --state-dir {run.args.state_dir}" if run.args.state_dir else ""


def _resume_step(run: Run, name: str) -> str:
    return f"job {name} can be resumed with `{PROG} job resume {name}{_state_dir_option(run)}`"


def _no_job_command(run: Run) -> int:
    raise UsageError(
        f"a job command is required: run, resume, status, list, results, report, cancel or delete (see {PROG} job -h)"
    )


def _run(run: Run) -> int:
    args = run.args
    path = Path(args.input)
    if not path.is_file():
        raise UsageError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    if args.dry_run:
        return _dry_run(run, path)
    settings: dict[str, Any] = {
        key: value
        for key in ("max_attempts", "max_in_flight", "max_batch_requests", "max_cost")
        if (value := getattr(args, key)) is not None
    }
    if (limit := token_limits(args.enqueued_token_limit)) is not None:
        settings["enqueued_token_limit"] = limit
    if given_prices(run) is not None:
        settings["prices"] = given_prices(run)  # kept with the job: its cost budget is counted at them
    # A failure while the input is read or the job recorded leaves the job as it was (its input is read in one
    # transaction): the same command goes on, whether the job existed before or not.
    with _local_state(run, f"run the same `{PROG} job run` again"):
        endpoint = input_endpoint(path, args.endpoint, run.azure)
        with run.client() as client:
            job = _conflicts_are_usage(
                lambda: client.jobs.create(args.name, path, endpoint=endpoint, state_dir=args.state_dir, **settings)
            )
    return _drive(run, job.name)


def _dry_run(run: Run, path: Path) -> int:
    from .jobs.settings import check_name

    name = check_name(run.args.name)  # a name the real run would refuse is refused here too
    estimate = estimate_file(run, path)
    heading = f"dry run of job {name}: nothing was sent and no job was recorded"
    print_estimate(run, estimate, heading)
    return EXIT_OK


def _resume(run: Run) -> int:
    args = run.args
    if args.max_cost is not None or given_prices(run) is not None:
        # A new budget, or new prices to count it at, are settings of the job: set as creating it again with its own
        # input sets them.
        from .jobs.api import read_job

        with _local_state(run, f"run the same `{PROG} job resume` again"):
            job = read_job(args.name, _state_dir(run))
            settings: dict[str, Any] = {} if args.max_cost is None else {"max_cost": args.max_cost}
            if given_prices(run) is not None:
                settings["prices"] = given_prices(run)
            with run.client() as client:
                _conflicts_are_usage(
                    lambda: client.jobs.create(args.name, job.input_path, state_dir=args.state_dir, **settings)
                )
    return _drive(run, args.name)


def _conflicts_are_usage(create: Callable[[], Job]) -> Job:
    from .jobs import JobAccountError, JobConflictError

    try:
        return create()
    except (JobConflictError, JobAccountError) as exc:
        raise UsageError(str(exc)) from None


def _drive(run: Run, name: str) -> int:
    args, out = run.args, run.out
    progress = JobProgress(out.stderr, enabled=not args.quiet)
    try:
        with _local_state(run, _resume_step(run, name)), run.client(progress) as client:
            job = _conflicts_are_usage(
                lambda: client.jobs.run(
                    name,
                    on_update=progress.update,
                    poll_interval=args.poll_interval,
                    max_poll_interval=max(args.max_poll_interval, args.poll_interval),
                    state_dir=args.state_dir,
                    lease_seconds=args.lease_seconds,
                )
            )
    except KeyboardInterrupt:
        progress.finish()
        out.note(
            f"interrupted; job {name} keeps its state and its batches keep running at the service; "
            f"resume it with: {PROG} job resume {name}{_state_dir_option(run)}"
        )
        return EXIT_INTERRUPTED
    finally:
        progress.finish()
    summary = job.summary(given_prices(run))
    _print_job(run, job, summary)
    if job.status == "paused":
        from .jobs.budget import dollars

        budget = f" of {dollars(summary.max_cost)}" if summary.max_cost is not None else ""
        spent = f": {dollars(summary.budget_spent)} spent or in flight" if summary.budget_spent is not None else ""
        out.note(
            f"job {clean(name)} paused at its cost budget{budget}{spent}; resume it with a higher one: "
            f"{PROG} job resume {clean(name)} --max-cost DOLLARS{_state_dir_option(run)}"
        )
        return EXIT_PAUSED
    return EXIT_CANCELLED if job.status == "cancelled" else EXIT_OK


def _print_job(run: Run, job: Job, summary: JobSummary) -> None:
    if run.out.as_json:
        run.out.json({**job.to_dict(), "summary": summary.to_dict()})
    else:
        run.out.lines(clean(line) for line in str(summary).splitlines())


def _state_dir(run: Run) -> Path:
    from .jobs.settings import resolve_state_dir

    return resolve_state_dir(run.args.state_dir)


def _status(run: Run) -> int:
    # status, list and results read the state directory only: they need no API key and send nothing.
    from .jobs.api import read_job, read_jobs

    directory = _state_dir(run)
    jobs = [read_job(run.args.name, directory)] if run.args.name else read_jobs(directory)
    prices = given_prices(run)
    summaries = [job.summary(prices) for job in jobs]
    if run.out.as_json:
        documents = [{**job.to_dict(), "summary": s.to_dict()} for job, s in zip(jobs, summaries, strict=True)]
        run.out.json(documents[0] if run.args.name else documents)
        return EXIT_OK
    if not jobs:
        run.out.line(f"no jobs in {clean(str(directory))}")
        return EXIT_OK
    run.out.lines(status_table(summaries, [job.batches_in_flight for job in jobs]))
    if run.args.name:
        # One job: its whole headline (cancelled, attempts, cached tokens, estimate, notes) below its row.
        run.out.line("")
        run.out.lines(clean(line) for line in str(summaries[0]).splitlines())
    return EXIT_OK


def status_table(summaries: list[JobSummary], in_flight: list[int]) -> list[str]:
    # The report's headline numbers (`job report`), one job a row.
    rows = [
        (
            "NAME",
            "STATUS",
            "SUCCEEDED",
            "FAILED",
            "MISSING",
            "PENDING",
            "BATCHES",
            "IN FLIGHT",
            "ATTEMPTS",
            "TOKENS IN/OUT",
            "COST",
        )
    ]
    for summary, batches in zip(summaries, in_flight, strict=True):
        rows.append(
            (
                clean(summary.name),
                clean(summary.status),
                f"{summary.succeeded:,}",
                f"{summary.failed:,}",
                f"{summary.missing:,}",
                f"{summary.pending:,}",
                f"{summary.batches:,}",
                str(batches),
                f"{summary.attempts_used:,}",
                f"{summary.input_tokens:,}/{summary.output_tokens:,}",
                "-" if summary.cost is None else f"${summary.cost:,.4f}",
            )
        )
    if any(summary.max_cost is not None for summary in summaries):
        from .jobs.budget import dollars

        # Spent or in flight / the budget, as the budget counts it (a job without one shows "-").
        budgets = ["BUDGET"] + [
            "-" if summary.max_cost is None else f"{dollars(summary.budget_spent or 0.0)}/{dollars(summary.max_cost)}"
            for summary in summaries
        ]
        return _table([(*row, budget) for row, budget in zip(rows, budgets, strict=True)])
    return _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _list(run: Run) -> int:
    from .jobs.api import read_jobs

    directory = _state_dir(run)
    jobs = read_jobs(directory)
    if run.out.as_json:
        run.out.json([job.to_dict() for job in jobs])
        return EXIT_OK
    if not jobs:
        run.out.line(f"no jobs in {clean(str(directory))}")
        return EXIT_OK
    rows = [("NAME", "STATUS", "REQUESTS", "CREATED", "INPUT")]
    for job in jobs:
        created = datetime.datetime.fromtimestamp(job.created_at, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        rows.append((clean(job.name), clean(job.status), f"{job.requests:,}", created, clean(str(job.input_path))))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    run.out.lines(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]) for row in rows
    )
    return EXIT_OK


def _results(run: Run) -> int:
    args, out = run.args, run.out
    from .jobs.api import read_job

    if args.format == "parquet":
        if args.output is None:
            raise UsageError("--format parquet writes a file: give it with -o FILE")
        from ._exceptions import MissingDependencyError
        from .tables import require

        try:
            require("pyarrow.parquet", "arrow")
        except MissingDependencyError as exc:
            raise UsageError(str(exc)) from None
    job = read_job(args.name, _state_dir(run))
    if not job.finished:
        raise CommandError(
            f"job {clean(job.name)} is {clean(job.status)} with {job.pending:,} requests pending: its results are "
            f"complete once it ends (run `{PROG} job resume {clean(job.name)}` first)",
            code=EXIT_NOT_FINISHED,
        )
    from .jobs.local_state import local_state_errors

    # A write that fails on the output's disk names no file: name the output, not the state folder.
    if args.output is None:
        with local_state_errors(job.name, _store_path(run), False, file="the standard output"):
            if args.format == "csv":
                _csv_to(out.stdout, job)
            else:
                for result in job.results():
                    out.line(json_line(result_json(result)))
        return EXIT_OK
    directory_of_output = args.output.parent if str(args.output.parent) else Path(".")
    if not directory_of_output.is_dir():
        raise UsageError(f"no such directory: {directory_of_output}")
    with local_state_errors(job.name, _store_path(run), False, file=args.output):
        if args.format == "csv":
            written = job.write_csv(args.output)
        elif args.format == "parquet":
            written = job.write_parquet(args.output)
        else:
            written = job.write_results(args.output)
    without = job.missing + job.cancelled
    if out.as_json:
        out.json(
            {
                "name": job.name,
                "path": str(args.output),
                "format": args.format,
                "results": written,
                "succeeded": job.succeeded,
                "failed": job.failed,
                "without_result": without,
            }
        )
    else:
        note = f", {without:,} without a result from the service" if without else ""
        out.line(
            f"wrote {written:,} results to {clean(args.output)}: {job.succeeded:,} succeeded, "
            f"{job.failed:,} failed{note}"
        )
    return EXIT_OK


def _csv_to(stream: TextIO, job: Job) -> None:
    from .jobs.job_tables import job_sources
    from .jobs.store import open_store
    from .tables import write_csv_to

    with open_store(job.state_dir) as store:
        record = store.get_job(job.name)
        if record is None:
            from .jobs.errors import JobNotFoundError

            raise JobNotFoundError(f"no job named {job.name!r} (it was deleted)", job=job.name)
        write_csv_to(job_sources(store, record), stream)


def _report(run: Run) -> int:
    args, out = run.args, run.out
    from .jobs.api import read_job
    from .jobs.local_state import local_state_errors

    job = read_job(args.name, _state_dir(run))
    directory_of_output = args.output.parent if str(args.output.parent) else Path(".")
    if not directory_of_output.is_dir():
        raise UsageError(f"no such directory: {directory_of_output}")
    with local_state_errors(job.name, _store_path(run), False, file=args.output):
        path = job.write_report(args.output, given_prices(run))
    if out.as_json:
        out.json({"name": job.name, "path": str(path), "status": job.status, "bytes": path.stat().st_size})
    else:
        out.line(f"wrote the report of job {clean(job.name)} ({clean(job.status)}) to {clean(path)}")
    return EXIT_OK


def _cancel(run: Run) -> int:
    args, out = run.args, run.out
    progress = JobProgress(out.stderr, enabled=not args.quiet) if args.wait else None
    again = f"run `{PROG} job cancel {args.name}{' --wait' if args.wait else ''}{_state_dir_option(run)}` again"
    try:
        with _local_state(run, again), run.client(progress) as client:
            # A finished job has nothing to cancel: say so, and send nothing (the library would return it as it is).
            current = client.jobs.get(args.name, state_dir=args.state_dir)
            if current.finished:
                return _already_finished(run, current)
            # The cancel holds the job's lease while it cancels the batches, and with --wait runs the job: both
            # take --lease-seconds.
            job = client.jobs.cancel(args.name, lease_seconds=args.lease_seconds, state_dir=args.state_dir)
            if progress is not None:
                job = client.jobs.run(
                    args.name, on_update=progress.update, lease_seconds=args.lease_seconds, state_dir=args.state_dir
                )
    finally:
        if progress is not None:
            progress.finish()
    if out.as_json:
        out.json(job.to_dict())
    elif job.status == "cancelled":
        out.line(f"job {clean(job.name)} cancelled: {progress_text(job)}")
    else:
        out.line(
            f"job {clean(job.name)} {clean(job.status)}: its batches are being cancelled; what they finished is "
            f"collected by its runner, or by `{PROG} job resume {clean(job.name)}`"
        )
    return EXIT_OK


def _already_finished(run: Run, job: Job) -> int:
    if run.out.as_json:
        run.out.json(job.to_dict())
    else:
        run.out.line(f"job {clean(job.name)} has already finished ({clean(job.status)}): nothing was changed")
    return EXIT_OK


def _delete(run: Run) -> int:
    args, out = run.args, run.out
    again = f"run `{PROG} job delete {args.name}{' --remote-files' if args.remote_files else ''}"
    with _local_state(run, f"{again}{_state_dir_option(run)}` again"), run.client() as client:
        client.jobs.delete(args.name, remote_files=args.remote_files, state_dir=args.state_dir)
    if out.as_json:
        out.json({"name": args.name, "deleted": True, "remote_files": bool(args.remote_files)})
    else:
        files = " and its files on the service" if args.remote_files else ""
        out.line(f"deleted job {clean(args.name)}{files}")
    return EXIT_OK
