"""`openai-batches serve`: run the local Batch API server until Ctrl-C or SIGTERM.

`main` takes the arguments after the program name, with or without the leading `serve`, so the project's console
script can hand over either `sys.argv[1:]` or what follows its own `serve` sub-command.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from .config import (
    API_KEYS_ENV,
    BODY_RATE_WINDOW,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_COMPLETION_WINDOW_SECONDS,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MIN_BODY_RATE,
    DEFAULT_STEP_SECONDS,
    MAX_DEFAULT_CONNECTIONS,
    WATCH_TICK,
    Faults,
    LineFailures,
    ServerConfig,
    keys_from_env,
    split_keys,
)
from .server import LocalServer, ServerExtraMissing
from .storage import DataDirBusy


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openai-batches", description="Tools for the OpenAI Batch API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run a local, offline server speaking the /v1/files and /v1/batches API",
        description=(
            "Run a local server that speaks the OpenAI /v1/files and /v1/batches API and runs batches offline "
            "with deterministic answers. State lives under --data-dir and survives restarts."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)")
    serve.add_argument(
        "--data-dir", type=Path, required=True, metavar="DIR", help="directory for the database and file bytes"
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        dest="api_keys",
        metavar="KEY",
        help=f"accept this bearer key (repeatable; also {API_KEYS_ENV}, comma-separated). "
        "With none, any non-empty key is accepted, on a loopback --host only unless --allow-any-key is given.",
    )
    serve.add_argument(
        "--allow-any-key",
        action="store_true",
        help="with no --api-key, accept any key even on a --host other than loopback (anyone who can reach the "
        "server can use it)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_positive_float,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help="close a connection that sends no request, or stalls mid-body, for this long "
        f"(default: {DEFAULT_IDLE_TIMEOUT:g})",
    )
    serve.add_argument(
        "--body-timeout",
        type=_positive_float,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="SECONDS",
        help="answer 408 and close the connection when a request body has not arrived whole this long after its "
        f"head, however steadily it trickles (default: {DEFAULT_BODY_TIMEOUT:g})",
    )
    serve.add_argument(
        "--min-body-rate",
        type=_non_negative_float,
        default=DEFAULT_MIN_BODY_RATE,
        metavar="BYTES_PER_SECOND",
        help=f"answer 408 and close the connection when a request body brings fewer bytes than this a second over "
        f"the last {BODY_RATE_WINDOW:g} s (the first {BODY_RATE_WINDOW:g} s are grace); 0 = no minimum "
        f"(default: {DEFAULT_MIN_BODY_RATE:g})",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive_int,
        metavar="N",
        help="connections open at once; one more is answered 503 with Retry-After and closed (default: a third of "
        f"the descriptor limit left after 64, at most {MAX_DEFAULT_CONNECTIONS}, so 320 under `ulimit -n 1024`)",
    )
    serve.add_argument(
        "--max-uploads",
        type=_positive_int,
        metavar="N",
        help="uploads read at once; one more is answered 503 with Retry-After before its body is read "
        "(default: half of --max-connections)",
    )
    pace = serve.add_mutually_exclusive_group()
    pace.add_argument(
        "--tick",
        type=_non_negative_float,
        metavar="SECONDS",
        help="pace every request line and every status step at SECONDS, to watch request_counts move "
        f"(0 = everything as fast as possible). Default: each status step takes {DEFAULT_STEP_SECONDS:g} s and "
        "lines run as fast as the machine allows, so a batch of any size finishes in seconds",
    )
    pace.add_argument(
        "--speed",
        type=_positive_float,
        metavar="FACTOR",
        help=f"the same as --tick {WATCH_TICK:g}/FACTOR: --speed 1 answers about {1 / WATCH_TICK:g} lines a second",
    )
    pace.add_argument(
        "--step-seconds",
        type=_non_negative_float,
        metavar="SECONDS",
        help="make each status step (validating, in_progress, finalizing) last SECONDS while lines still run as fast "
        "as the machine allows: a batch of any size stays cancellable for about twice SECONDS",
    )
    serve.add_argument(
        "--completion-window-seconds",
        type=_positive_float,
        metavar="SECONDS",
        default=DEFAULT_COMPLETION_WINDOW_SECONDS,
        help="seconds after creation at which an unfinished batch expires (default: 86400, the real 24h)",
    )
    serve.add_argument(
        "--latency", type=_non_negative_float, default=0.0, metavar="SECONDS", help="seconds added to every answer"
    )
    serve.add_argument(
        "--fault-rate",
        type=_rate,
        default=0.0,
        metavar="SHARE",
        help="share of requests answered with an injected error (0 to 1)",
    )
    serve.add_argument(
        "--fault-status",
        type=int,
        action="append",
        dest="fault_statuses",
        metavar="STATUS",
        help="status of injected errors (repeatable; default: 429 and 500)",
    )
    serve.add_argument(
        "--fault-seed", type=int, metavar="SEED", help="seed for choosing which requests fail (default: random)"
    )
    serve.add_argument(
        "--fault-timing",
        choices=("before", "after"),
        default="before",
        help="inject before the request takes effect, or after (the effect happens, the answer is lost)",
    )
    serve.add_argument(
        "--retry-after",
        type=_non_negative_float,
        default=1.0,
        metavar="SECONDS",
        help="retry-after seconds sent with injected 429s",
    )
    serve.add_argument(
        "--enqueued-token-limit",
        type=_positive_int,
        metavar="N",
        help="per API key and model, the input tokens that batches in progress may hold; a batch that would pass "
        "it fails in validating with token_limit_exceeded, as on the service (default: no limit)",
    )
    serve.add_argument(
        "--line-failure-rate",
        type=_rate,
        default=0.0,
        metavar="SHARE",
        help="share of request lines answered in the error file with --line-failure-status (0 to 1); which lines is "
        "decided by --line-failure-seed, the custom_id and the attempt (the batch's metadata `attempt`)",
    )
    serve.add_argument(
        "--line-failure-status",
        type=int,
        default=500,
        metavar="STATUS",
        help="status of the lines failed by --line-failure-rate (default: 500)",
    )
    serve.add_argument(
        "--line-failure-seed", type=int, default=0, metavar="SEED", help="seed for --line-failure-rate (default: 0)"
    )
    serve.add_argument(
        "--line-failure-attempts",
        type=_positive_int,
        metavar="N",
        help="fail lines only on their first N attempts (default: every attempt)",
    )
    serve.add_argument(
        "--ignore-idempotency-key",
        action="store_true",
        help="ignore the Idempotency-Key header on every endpoint, as the public API does for /v1/batches and "
        "/v1/files: a create repeated with the same key makes a second file or batch, to test a pipeline against "
        "duplicate creates (default: a repeated key answers with the first object, and 409 if the body differs)",
    )
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return parser


def config_from_args(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[ServerConfig, str]:
    """The server configuration and the log level an argument list asks for."""
    parser = build_parser()
    args = parser.parse_args(_with_command(argv))
    given_keys = split_keys(args.api_keys)
    if args.api_keys and not given_keys:
        parser.error("--api-key must not be empty (without --api-key, any non-empty key is accepted on loopback)")
    tick = WATCH_TICK / args.speed if args.speed is not None else args.tick
    pace = {} if tick is None else {"step_seconds": tick, "line_seconds": tick}
    if args.step_seconds is not None:
        pace = {"step_seconds": args.step_seconds}
    try:
        faults = Faults(
            rate=args.fault_rate,
            statuses=tuple(args.fault_statuses or (429, 500)),
            seed=args.fault_seed,
            latency=args.latency,
            timing=args.fault_timing,
            retry_after=args.retry_after,
        )
        line_failures = LineFailures(
            rate=args.line_failure_rate,
            status=args.line_failure_status,
            seed=args.line_failure_seed,
            attempts=args.line_failure_attempts,
        )
        config = ServerConfig(
            data_dir=args.data_dir,
            host=args.host,
            port=args.port,
            api_keys=given_keys or keys_from_env(environ),
            allow_any_key=args.allow_any_key,
            completion_window_seconds=args.completion_window_seconds,
            faults=faults,
            enqueued_token_limit=args.enqueued_token_limit,
            line_failures=line_failures,
            idle_timeout=args.idle_timeout,
            body_timeout=args.body_timeout,
            min_body_rate=args.min_body_rate,
            max_connections=args.max_connections,
            max_uploads=args.max_uploads,
            ignore_idempotency_key=args.ignore_idempotency_key,
            **pace,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return config, str(args.log_level)


def main(argv: list[str] | None = None) -> int:
    try:
        config, log_level = config_from_args(sys.argv[1:] if argv is None else argv, os.environ)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    # Only the server's own logger: the caller's logging setup (and the root logger) stay untouched.
    logger = logging.getLogger("openai_batches_server")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(log_level.upper())
    try:
        return _serve(config)
    finally:
        logger.removeHandler(handler)


def _serve(config: ServerConfig) -> int:
    server = LocalServer(config)
    try:
        server.start()
    except (OSError, DataDirBusy, ServerExtraMissing) as exc:
        print(f"openai-batches serve: cannot start: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Signal handlers can only be installed from the main thread; elsewhere Ctrl-C is the caller's business.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, request_stop) if in_main_thread else None
    try:
        # A timed wait keeps Ctrl-C responsive on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        logging.getLogger("openai_batches_server").info("stopping")
        server.stop()
    return 0


def _with_command(argv: Sequence[str]) -> list[str]:
    args = list(argv)
    if not args or args[0] != "serve":
        args.insert(0, "serve")
    return args


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value
