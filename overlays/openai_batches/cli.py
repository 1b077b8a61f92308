"""The `openai-batches` command line.

    openai-batches submit requests.jsonl [--endpoint /v1/chat/completions] --metadata job=nightly --wait
    openai-batches status BATCH_ID
    openai-batches list [--limit N] [--all]
    openai-batches wait BATCH_ID [--poll-interval S] [--timeout S]
    openai-batches cancel BATCH_ID
    openai-batches results BATCH_ID [-o results.jsonl]
    openai-batches estimate requests.jsonl       # requests, batches, tokens and cost range; sends nothing
    openai-batches job run NAME requests.jsonl   # a durable job of any size (job resume/status/list/results/...)
    openai-batches serve --port 8000 --data-dir ./batches-data   # the local Batch API server

Settings come from the same environment variables as the library (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID,
OPENAI_PROJECT_ID), or from `--api-key` / `--base-url`; with `--azure-endpoint` or AZURE_OPENAI_ENDPOINT (and no
`--base-url`), Azure OpenAI's (AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN, OPENAI_API_VERSION). stdout carries
only the command's result (text, or JSON with `--json`); progress and errors go to stderr, an error as one line and
never a traceback.

The server is a separate package in the same wheel; only `serve` imports it, the client library never does.
Standard-library argparse only: the command line adds no dependency to the package.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, TextIO

from ._cli_common import (
    EXIT_BUSY,
    EXIT_CANCELLED,
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_EXPIRED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCAL_STATE,
    EXIT_NOT_FINISHED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    KNOWN_ENDPOINTS,
    CommandError,
    Run,
    UsageError,
    known_endpoints,
    seconds,
    unknown_endpoint,
)
from ._cli_estimate import add_estimate_parser
from ._cli_job import add_job_parser
from ._cli_output import PROG, Output, clean, describe, json_line, result_json, summary, table
from ._cli_progress import counts_of
from ._client import BatchClient
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BatchWaitTimeout,
    InvalidParameterError,
    MissingAPIKeyError,
    NotFoundError,
    OpenAIBatchesError,
    PermissionDeniedError,
    RateLimitError,
)
from ._generated import Batch, BatchEndpoint
from ._status import is_terminal
from .batch_input import BatchInputError, validate_file
from .resources.batches import DEFAULT_MAX_POLL_INTERVAL, DEFAULT_POLL_INTERVAL

__all__ = ["EXIT_CODES", "main"]

EPILOG: Final = f"""\
exit status:
  {EXIT_OK}    success (wait, submit --wait: the batch completed; job run/resume: every request
       has its final result; requests that failed inside are results, not the exit status)
  {EXIT_ERROR}    error from the API or the network (bad key, unknown id, connection refused, ...)
  {EXIT_USAGE}    refused before anything was sent: bad options or arguments, no API key, a missing
       input file, an input file the service would reject (the message names the line), or
       an unknown job name
  {EXIT_FAILED}    the batch failed (its input file did not validate)
  {EXIT_EXPIRED}    the batch expired (its completion window ran out)
  {EXIT_CANCELLED}    the batch was cancelled (job run/resume: the job was cancelled)
  {EXIT_TIMEOUT}    --timeout ran out before the batch finished (it keeps running)
  {EXIT_NOT_FINISHED}    results: the batch has not finished yet (wait for it first; job results: the job)
  {EXIT_LOCAL_STATE}    job commands: local state could not be read or written (disk full, read-only,
       permission); the message names the path and says whether the job can be resumed
  {EXIT_BUSY}    job commands: another runner holds the job or took it over (this one stopped; the
       job goes on there); job run/resume: the job paused at its cost budget (--max-cost):
       stderr says "paused at its cost budget"; resume it with a higher --max-cost
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C (a batch being waited for keeps running; a job stays
       resumable with `job resume`)

environment:
  OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID, as in the library.

output:
  stdout carries only the result: text, or with --json JSON only (a batch as an object, list as an
  array, results as JSON lines). Progress and errors go to stderr. While waiting, progress is one
  line redrawn in place when stderr is a terminal, one timestamped line per change otherwise.
"""


# --- argument types -------------------------------------------------------------------------------------------


def _page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected 1 to 100, got {text!r}")
    return value


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


# --- the parser -----------------------------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Accepted before or after the command name. On the sub-commands the defaults are SUPPRESS, so an option given
    # before the command is not overwritten by the sub-command's default.
    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print machine-readable JSON only on stdout",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(None),
        help="API key (default: $OPENAI_API_KEY; the variable keeps the key out of the process list)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        default=default(None),
        help="API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1)",
    )
    parser.add_argument(
        "--azure-endpoint",
        metavar="URL",
        default=default(None),
        help="an Azure OpenAI resource, https://NAME.openai.azure.com (default: $AZURE_OPENAI_ENDPOINT); the key is "
        "then --api-key or $AZURE_OPENAI_API_KEY (or an Entra ID token in $AZURE_OPENAI_AD_TOKEN)",
    )
    parser.add_argument(
        "--api-version",
        metavar="VERSION",
        default=default(None),
        help="with Azure: a dated API version such as 2024-10-21 for the /openai/...?api-version= paths "
        "(default: $OPENAI_API_VERSION, else the v1 API)",
    )


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll-interval",
        type=seconds,
        default=DEFAULT_POLL_INTERVAL,
        metavar="S",
        help=f"seconds between polls while the batch moves (default: {DEFAULT_POLL_INTERVAL:g}); "
        "polling backs off while it does not",
    )
    parser.add_argument(
        "--max-poll-interval",
        type=seconds,
        default=DEFAULT_MAX_POLL_INTERVAL,
        metavar="S",
        help=f"longest pause between polls when backing off (default: {DEFAULT_MAX_POLL_INTERVAL:g})",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=None,
        metavar="S",
        help=f"give up after S seconds (exit status {EXIT_TIMEOUT}; the batch keeps running); default: no limit",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display on stderr")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, suppress=True)
    formatter = argparse.RawDescriptionHelpFormatter

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tools for the OpenAI Batch API: submit a JSONL file of requests, follow it, fetch its results.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, parents=[common], help=summary, description=description, epilog=EPILOG, formatter_class=formatter
        )

    submit = command(
        "submit",
        "upload a JSONL file of requests and start a batch",
        "Check FILE the way the service would (duplicate custom_ids, lines for another endpoint, size limits), "
        "upload it and start a batch over it. With --wait, follow the batch until it ends; the exit status then "
        "tells how it ended.",
    )
    submit.add_argument("file", metavar="FILE.jsonl", help="the requests, one JSON object per line")
    submit.add_argument(
        "--endpoint",
        default=None,
        metavar="E",
        help="the endpoint every line targets (default: the lines' url, when they all agree), one of: "
        + ", ".join(KNOWN_ENDPOINTS),
    )
    submit.add_argument(
        "--metadata",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a metadata pair for the batch (repeatable)",
    )
    submit.add_argument("--wait", action="store_true", help="wait for the batch to end, showing progress")
    _add_wait_options(submit)
    submit.set_defaults(handler=_submit)

    status = command("status", "show a batch", "Show a batch's status, request counts, timestamps and files.")
    status.add_argument("batch_id", metavar="ID")
    status.set_defaults(handler=_status)

    listing = command(
        "list",
        "list batches, newest first",
        "List batches, newest first: one page, or every page with --all.",
    )
    listing.add_argument("--limit", type=_page_size, default=None, metavar="N", help="batches per page (1 to 100)")
    listing.add_argument("--after", metavar="ID", default=None, help="start after this batch id (a page cursor)")
    listing.add_argument("--all", action="store_true", help="walk every page, not just the first")
    listing.set_defaults(handler=_list)

    wait = command(
        "wait",
        "wait for a batch to end, showing progress",
        "Poll a batch until it is completed, failed, expired or cancelled, showing progress on stderr. The exit "
        "status tells how it ended.",
    )
    wait.add_argument("batch_id", metavar="ID")
    _add_wait_options(wait)
    wait.set_defaults(handler=_wait)

    cancel = command(
        "cancel",
        "cancel a batch",
        "Ask the service to cancel a batch. It turns `cancelling`, then `cancelled` (follow it with `wait`); "
        "results finished before that are kept.",
    )
    cancel.add_argument("batch_id", metavar="ID")
    cancel.set_defaults(handler=_cancel)

    results = command(
        "results",
        "print or save a batch's results",
        "Print one JSON line per result (custom_id, status_code, body, error, request_id), from the output file "
        "and then the error file; with -o, write them to a file and print a summary. A request that failed inside "
        "the batch is a result with an error, not an error of this command.",
    )
    results.add_argument("batch_id", metavar="ID")
    results.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="write the results here")
    results.set_defaults(handler=_results)

    add_estimate_parser(commands, common, formatter, EPILOG)
    add_job_parser(commands, common, formatter, EPILOG)

    commands.add_parser(
        "serve",
        help="run the local Batch and Files API server (see `openai-batches serve --help`)",
        add_help=False,
    )
    return parser


# --- running ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """The console script `openai-batches`; returns the exit status."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list and args_list[0] == "serve":
        # Imported here so that the client library never loads the server.
        from openai_batches_server.cli import main as serve

        return serve(args_list[1:])

    stdout, stderr = sys.stdout, sys.stderr
    parser = build_parser()
    if not args_list:
        parser.print_help(stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        return _usage(parser, "a command is required")
    if args.command == "serve":
        return _usage(parser, "`serve` takes its own options: run `openai-batches serve ...` with serve first")

    secrets = [
        args.api_key or "",
        *(os.environ.get(name, "") for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")),
    ]
    out = Output(stdout, stderr, as_json=args.json, secrets=secrets)
    run = Run(args, out)
    handler: Callable[[Run], int] = args.handler
    try:
        return handler(run)
    except KeyboardInterrupt:
        run.finish_progress()
        message = "interrupted"
        if run.waiting_for is not None:
            message += f"; batch {run.waiting_for} keeps running (follow it with: {PROG} wait {run.waiting_for})"
        out.note(message)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `openai-batches results ID | head -1`: the reader has all it wanted, which is not an error. Point stdout at
        # devnull so the interpreter's final flush does not fail again, and exit quietly as other Unix tools do.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        run.finish_progress()
        code, explanation = _explain(exc, run.base_url, azure=_is_azure(run))
        if explanation is None:
            raise  # not an expected error: a bug, and its traceback is the useful report
        out.error(explanation)
        return code


def _usage(parser: argparse.ArgumentParser, message: str) -> int:
    try:
        parser.error(message)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return EXIT_USAGE


def _is_azure(run: Run) -> bool:
    try:
        return run.azure
    except UsageError:
        return False


def _explain(exc: Exception, base_url: str | None = None, *, azure: bool = False) -> tuple[int, str | None]:
    """The exit status and the one-line message for an expected error; (1, None) for anything unexpected."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, CommandError):
        return exc.code, str(exc)
    if isinstance(exc, MissingAPIKeyError):
        if azure:
            return EXIT_USAGE, "no API key: set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN (or pass --api-key)"
        return EXIT_USAGE, "no API key: set OPENAI_API_KEY (or pass --api-key)"
    if isinstance(exc, BatchInputError):
        return EXIT_USAGE, f"the input file would be rejected: {exc}"
    if isinstance(exc, InvalidParameterError):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, APIStatusError):
        return EXIT_ERROR, _status_message(exc, azure) + ("" if azure else _base_url_hint(exc, base_url))
    if isinstance(exc, APITimeoutError):
        return EXIT_ERROR, f"the API did not answer in time: {exc.message}{_attempts(exc)}"
    if isinstance(exc, APIConnectionError):
        return EXIT_ERROR, f"cannot reach the API: {exc.message}{_attempts(exc)}"
    if isinstance(exc, APIError):
        return EXIT_ERROR, exc.message
    if isinstance(exc, OpenAIBatchesError):
        return _explain_library(exc)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_ERROR, f"{where}{exc.strerror or exc}"
    return EXIT_ERROR, None


def _explain_library(exc: OpenAIBatchesError) -> tuple[int, str]:
    """The library's own errors that are not the API's: the jobs' have exit statuses of their own."""
    from .jobs.errors import JobBusyError, JobLeaseLostError, JobNotFoundError, JobStateError

    if isinstance(exc, JobStateError):
        return EXIT_LOCAL_STATE, str(exc)
    if isinstance(exc, JobLeaseLostError):  # the library names who took the job over; where to follow it:
        return EXIT_BUSY, f"{exc}; follow it with `{PROG} job status {clean(exc.job)}`"
    if isinstance(exc, JobBusyError):
        return EXIT_BUSY, str(exc)
    if isinstance(exc, JobNotFoundError):
        return EXIT_USAGE, str(exc)
    return EXIT_ERROR, str(exc)


def _base_url_hint(exc: APIStatusError, base_url: str | None) -> str:
    """A 404 from a base URL without the API's version prefix: the usual cause is `--base-url http://host:port`."""
    if not isinstance(exc, NotFoundError) or base_url is None:
        return ""
    path = base_url.rstrip("/")
    if path.endswith("/v1"):
        return ""
    return f"; the base URL {clean(base_url)} does not end in /v1: did you mean --base-url {clean(path)}/v1?"


def _attempts(exc: APIError) -> str:
    return f" (after {exc.attempts} attempts)" if exc.attempts > 1 else ""


def _status_message(exc: APIStatusError, azure: bool) -> str:
    kinds: list[tuple[type[APIStatusError], str]] = [
        (AuthenticationError, "authentication failed"),
        (PermissionDeniedError, "permission denied"),
        (NotFoundError, "not found"),
        (RateLimitError, "rate limited"),
    ]
    kind = next((label for cls, label in kinds if isinstance(exc, cls)), "the API refused the request")
    request = f", request id {exc.request_id}" if exc.request_id else ""
    variable = "AZURE_OPENAI_API_KEY" if azure else "OPENAI_API_KEY"
    hint = f" (check {variable} or --api-key)" if isinstance(exc, AuthenticationError) else ""
    return f"{kind} (HTTP {exc.status_code}{request}): {exc.message}{hint}"


# --- the commands -----------------------------------------------------------------------------------------------


def _submit(run: Run) -> int:
    args, out = run.args, run.out
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    azure = run.azure
    endpoint = _known_endpoint(args.endpoint, "", azure) if args.endpoint is not None else _endpoint_of(path, azure)
    metadata = dict(args.metadata) or None
    if args.wait:
        run.start_progress()
    with run.client() as client:
        batch = client.batches.submit(path, endpoint=endpoint, metadata=metadata)
        if not args.wait:
            if out.as_json:
                out.batch(batch)
            else:
                out.line(f"submitted {clean(batch.id)} ({clean(batch.status)}, {clean(batch.endpoint)})")
                out.line(f"follow it with: {PROG} wait {clean(batch.id)}")
            return EXIT_OK
        if not out.as_json:
            out.line(f"submitted {clean(batch.id)}")
            out.stdout.flush()
        return _wait_for(run, client, batch)


def _known_endpoint(endpoint: str, source: str, azure: bool) -> BatchEndpoint:
    if endpoint not in known_endpoints(azure):
        raise unknown_endpoint(endpoint, source, azure)
    if endpoint not in KNOWN_ENDPOINTS:
        # Azure's form without /v1, sent as written: the lines name it so too.
        return typing.cast(BatchEndpoint, endpoint)
    return BatchEndpoint(endpoint)


def _endpoint_of(path: Path, azure: bool) -> BatchEndpoint:
    """The endpoint every line of the file names in its `url` (the file is checked as the service would)."""
    try:
        summary = validate_file(path)
    except BatchInputError as exc:
        if exc.reason != "wrong_endpoint":
            raise
        raise UsageError(
            f"the lines of {clean(str(path))} do not all target one endpoint ({exc}); "
            "a batch runs a single endpoint: fix the lines, or pass --endpoint to name the one they should use"
        ) from None
    if summary.endpoint is None:
        raise UsageError(f"{clean(str(path))} holds no requests, so there is no endpoint to read from it")
    return _known_endpoint(summary.endpoint, f" (the url of the lines in {clean(str(path))})", azure)


def _wait(run: Run) -> int:
    run.start_progress()
    with run.client() as client:
        return _wait_for(run, client, run.args.batch_id)


def _wait_for(run: Run, client: BatchClient, batch: Batch | str) -> int:
    args, out = run.args, run.out
    progress = run.progress if run.progress is not None else run.start_progress()
    run.waiting_for = batch.id if isinstance(batch, Batch) else batch
    try:
        final = client.batches.wait(
            batch,
            poll_interval=args.poll_interval,
            max_poll_interval=max(args.max_poll_interval, args.poll_interval),
            timeout=args.timeout,
            on_update=progress.update,
        )
    except BatchWaitTimeout as exc:
        progress.finish()
        last = exc.batch if isinstance(exc.batch, Batch) else None
        if last is not None and out.as_json:
            out.batch(last)
        state = f"still {clean(last.status)}" if last is not None else "not seen yet"
        out.error(f"timed out after {exc.elapsed:.1f} s: batch {run.waiting_for} is {state} (it keeps running)")
        return EXIT_TIMEOUT
    finally:
        progress.finish()
    run.waiting_for = None
    if out.as_json:
        out.batch(final)
    else:
        out.lines(summary(final))
    return EXIT_CODES.get(str(final.status), EXIT_ERROR)


def _status(run: Run) -> int:
    with run.client() as client:
        batch = client.batches.retrieve(run.args.batch_id)
    if run.out.as_json:
        run.out.batch(batch)
    else:
        run.out.lines(describe(batch))
    return EXIT_OK


def _list(run: Run) -> int:
    args, out = run.args, run.out
    with run.client() as client:
        page = client.batches.list(limit=args.limit, after=args.after)
        batches = list(page) if args.all else list(page.data)
    if out.as_json:
        out.json([batch.to_dict() for batch in batches])
        return EXIT_OK
    if batches:
        out.lines(table(batches))
    else:
        out.line("no batches")
    if not args.all and page.has_next_page() and batches:
        out.note(f"more batches: use --all, or --after {clean(batches[-1].id)} for the next page")
    return EXIT_OK


def _cancel(run: Run) -> int:
    with run.client() as client:
        batch = client.batches.cancel(run.args.batch_id)
    if run.out.as_json:
        run.out.batch(batch)
    else:
        run.out.line(f"batch {clean(batch.id)} {clean(batch.status)}")
    return EXIT_OK


def _results(run: Run) -> int:
    args, out = run.args, run.out
    with run.client() as client:
        batch = client.batches.retrieve(args.batch_id)
        if not is_terminal(batch):
            raise CommandError(
                f"batch {clean(batch.id)} is still {clean(batch.status)}: its results are ready once it ends "
                f"(run `{PROG} wait {clean(batch.id)}` first)",
                code=EXIT_NOT_FINISHED,
            )
        if args.output is None:
            for result in client.batches.results(batch):
                out.line(json_line(result_json(result)))
            return EXIT_OK
        written, succeeded = _write_results(args.output, client, batch)
    failed = written - succeeded
    total = counts_of(batch)[2]
    missing = max(total - written, 0)
    if out.as_json:
        out.json(
            {
                "batch_id": batch.id,
                "path": str(args.output),
                "results": written,
                "succeeded": succeeded,
                "failed": failed,
                "without_result": missing,
            }
        )
    else:
        note = f", {missing} requests without a result" if missing else ""
        out.line(f"wrote {written} results to {clean(args.output)}: {succeeded} succeeded, {failed} failed{note}")
    return EXIT_OK


def _write_results(target: Path, client: BatchClient, batch: Batch) -> tuple[int, int]:
    """Stream the results into `target` through a temporary file beside it: an error leaves no half-written file."""
    written = succeeded = 0
    with _replacing(target) as handle:
        for result in client.batches.results(batch):
            handle.write(json_line(result_json(result)) + "\n")
            written += 1
            succeeded += result.ok
    return written, succeeded


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[TextIO]:
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"no such directory: {directory}")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        # mkstemp makes the file private (0600); the results get the mode any new file would get.
        os.chmod(temporary, _new_file_mode(target))
        try:
            os.replace(temporary, target)
        except OSError as error:
            # Named by what the user asked for: the temporary file is gone once this is reported.
            raise OSError(error.errno, error.strerror, str(target)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _new_file_mode(target: Path) -> int:
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o777
    return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux); elsewhere set and put back
    at once (a file another thread creates in between would miss the umask)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    umask = os.umask(0)
    os.umask(umask)
    return umask


if __name__ == "__main__":
    sys.exit(main())
