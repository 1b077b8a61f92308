"""`openai-batches estimate FILE` and `job run ... --dry-run`: what a job would send and cost, with nothing sent.

    openai-batches estimate requests.jsonl [--endpoint E] [--price MODEL=IN,OUT[,CACHED]]... [--max-batch-requests N]
                                           [--enqueued-token-limit N] [--json]

Both read the input once and print a `JobEstimate`: a short table, or with `--json` one object (`JobEstimate.to_dict`).
Neither needs an API key, since neither talks to the service; neither records a job.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cli_common import (
    EXIT_OK,
    Run,
    UsageError,
    given_prices,
    input_endpoint,
    positive,
    price_option,
    token_limit_option,
    token_limits,
)
from ._cli_output import clean

if TYPE_CHECKING:
    from .jobs import JobEstimate

PRICE_HELP = (
    "the batch prices of a model in dollars per million tokens, input, output and optionally cached input, over the "
    "table shipped with the package (repeatable)"
)


def add_estimate_parser(
    commands: Any, common: argparse.ArgumentParser, formatter: type[argparse.HelpFormatter], epilog: str
) -> None:
    """The `estimate` command, on the main parser's sub-command list."""
    estimate = commands.add_parser(
        "estimate",
        parents=[common],
        help="count the requests, batches, tokens and cost of a JSONL file before sending it (sends nothing)",
        description="Check FILE as `job run` would and print what a job over it would send: requests, the "
        "batches it would make, input tokens per model (estimated as jobs estimate them), the bound on output "
        "tokens the requests state (max_tokens, max_completion_tokens, max_output_tokens), and the cost range at "
        "batch prices: low with no output, high with every bound (none when a request states no bound). The "
        "prices are the table shipped with the package (its date and source are printed), --price overrides it; "
        "a model without a price has no cost, not $0. Nothing is sent, no job is recorded, no API key is needed.",
        epilog=epilog,
        formatter_class=formatter,
    )
    estimate.add_argument("file", metavar="FILE.jsonl", help="the requests, one JSON object per line")
    estimate.add_argument("--endpoint", default=None, metavar="E", help="the endpoint (default: the lines' url)")
    estimate.add_argument(
        "--price", type=price_option, action="append", default=[], metavar="MODEL=IN,OUT[,CACHED]", help=PRICE_HELP
    )
    estimate.add_argument(
        "--max-batch-requests", type=positive, default=None, metavar="N", help="requests per batch (50,000)"
    )
    estimate.add_argument(
        "--enqueued-token-limit",
        type=token_limit_option,
        action="append",
        default=None,
        metavar="N|MODEL=N",
        help="estimated input tokens per batch at most, as a job with this limit cuts its batches; MODEL=N, "
        "repeated, for each model",
    )
    estimate.set_defaults(handler=_estimate)


def estimate_file(run: Run, path: Path) -> JobEstimate:
    """The estimate of a job over `path` with the command's settings (--endpoint, --price, batch limits)."""
    from .jobs.estimate import estimate_input
    from .jobs.provider_rules import AZURE_RULES, OPENAI_RULES

    args = run.args
    if not path.is_file():
        raise UsageError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    return estimate_input(
        path,
        endpoint=input_endpoint(path, args.endpoint, run.azure),
        prices=given_prices(run),
        max_batch_requests=args.max_batch_requests,
        enqueued_token_limit=token_limits(args.enqueued_token_limit),
        rules=AZURE_RULES if run.azure else OPENAI_RULES,
    )


def print_estimate(run: Run, estimate: JobEstimate, heading: str | None = None) -> None:
    """The estimate on stdout: the table (after `heading`), or the JSON object alone with the notes on stderr."""
    out = run.out
    if out.as_json:
        out.json(estimate.to_dict())
        for note in estimate.notes:
            out.note(note)
        return
    if heading is not None:
        out.line(clean(heading))
    out.lines(clean(line) for line in estimate.lines())


def _estimate(run: Run) -> int:
    print_estimate(run, estimate_file(run, Path(run.args.file)))
    return EXIT_OK
