"""What every command of `openai-batches` shares: exit statuses, errors, option parsers, one invocation's state.

The batch commands (`cli`), the job commands (`_cli_job`) and the estimate (`_cli_estimate`) all import this module
and none of them imports another for these, so the command line has no import cycle and each piece has one home:
an exit status means the same thing in every command, a usage mistake is refused the same way, and every command
makes its client the same way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from ._azure import AzureBatchClient
from ._cli_output import Output, clean
from ._cli_progress import WaitProgress
from ._client import BatchClient
from ._generated import BatchEndpoint
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from .jobs import ModelPrice

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_FAILED: Final = 3
EXIT_EXPIRED: Final = 4
EXIT_CANCELLED: Final = 5
EXIT_TIMEOUT: Final = 6
EXIT_NOT_FINISHED: Final = 7
EXIT_LOCAL_STATE: Final = 8
EXIT_BUSY: Final = 9
# `job run`/`resume` of a job that paused at its cost budget: the status another runner's job exits with too, since
# in both this command can do nothing more for the job as it stands.
EXIT_PAUSED: Final = EXIT_BUSY
EXIT_INTERRUPTED: Final = 130

# The exit status of a command that waited for a batch, by the batch's final status.
EXIT_CODES: Final = {"completed": EXIT_OK, "failed": EXIT_FAILED, "expired": EXIT_EXPIRED, "cancelled": EXIT_CANCELLED}

KNOWN_ENDPOINTS: Final = tuple(endpoint.value for endpoint in BatchEndpoint)


class UsageError(Exception):
    """A command line the program refuses before sending anything (exit status 2)."""


class CommandError(Exception):
    """A command that cannot go on, for a reason that is not a usage mistake (exit status 1 unless `code` says)."""

    def __init__(self, message: str, *, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# --- option parsers (argparse `type=` functions) ----------------------------------------------------------------


def seconds(text: str) -> float:
    """A number of seconds above 0 (poll intervals, timeouts)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def positive(text: str) -> int:
    """A whole number of at least 1 (attempts, batches in flight, requests per batch, token limits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def token_limit_option(text: str) -> int | tuple[str, int]:
    """`N` for every model, or `MODEL=N` for one model (on Azure OpenAI, one deployment)."""
    model, equals, number = text.rpartition("=")
    if not equals:
        return positive(text)
    if not model:
        raise argparse.ArgumentTypeError(f"expected N or MODEL=N, got {text!r}")
    return model, positive(number)


def token_limits(values: list[int | tuple[str, int]] | None) -> int | dict[str, int] | None:
    """What the repeated `--enqueued-token-limit` options give: one limit, or one per model."""
    if not values:
        return None
    numbers = [value for value in values if isinstance(value, int)]
    per_model = dict(value for value in values if isinstance(value, tuple))
    if numbers and per_model:
        raise UsageError("--enqueued-token-limit takes N (for every model) or MODEL=N (for each), not both")
    if len(numbers) > 1:
        raise UsageError("--enqueued-token-limit N was given more than once")
    return numbers[0] if numbers else per_model


def price_option(text: str) -> tuple[str, dict[str, float]]:
    """`MODEL=INPUT,OUTPUT[,CACHED_INPUT]`, dollars per million tokens, as (model, price mapping)."""
    model, sep, numbers = text.partition("=")
    parts = numbers.split(",") if sep else []
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if not model or len(values) not in (2, 3) or any(value < 0 for value in values):
        raise argparse.ArgumentTypeError(
            f"expected MODEL=INPUT,OUTPUT[,CACHED_INPUT] in dollars per million tokens, got {text!r}"
        )
    found = {"input": values[0], "output": values[1]}
    if len(values) == 3:
        found["cached_input"] = values[2]
    return model, found


def given_prices(run: Run) -> dict[str, ModelPrice | Mapping[str, float]] | None:
    """The `--price` options of a command, by model; None when there are none."""
    given = dict(getattr(run.args, "price", []) or [])
    return given or None


def known_endpoints(azure: bool = False) -> tuple[str, ...]:
    """The endpoints a batch may name; Azure OpenAI takes each also without its `/v1` (`/chat/completions`)."""
    if not azure:
        return KNOWN_ENDPOINTS
    return KNOWN_ENDPOINTS + tuple(endpoint.removeprefix("/v1") for endpoint in KNOWN_ENDPOINTS)


def unknown_endpoint(endpoint: str, source: str, azure: bool) -> UsageError:
    known = ", ".join(known_endpoints(azure))
    return UsageError(f"unknown endpoint {clean(endpoint)!r}{source}; valid endpoints: {known}")


def input_endpoint(path: Path, given: str | None, azure: bool = False) -> str | None:
    """The endpoint named, or else the first request's url, checked against the endpoints the service knows."""
    endpoint = given
    source = ""
    if endpoint is None:
        with path.open("rb") as file:
            for raw in file:
                if raw.strip():
                    try:
                        url = json.loads(raw).get("url")
                    except (ValueError, AttributeError):
                        return None  # the input check names the line and the problem
                    endpoint, source = (url, f" (the url of the first request in {clean(str(path))})")
                    break
    if isinstance(endpoint, str) and endpoint not in known_endpoints(azure):
        raise unknown_endpoint(endpoint, source, azure)
    return endpoint if isinstance(endpoint, str) else None


# --- one invocation ---------------------------------------------------------------------------------------------


class Sleeper(Protocol):
    """A progress display that draws while the client waits between retries."""

    def sleep(self, seconds: float) -> None: ...


class Run:
    """What one invocation shares between its parts: the arguments, the output, and the batch being waited on."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.progress: WaitProgress | None = None
        self.waiting_for: str | None = None
        self.base_url: str | None = None

    @property
    def azure(self) -> bool:
        """Whether the commands talk to Azure OpenAI: `--azure-endpoint`, or AZURE_OPENAI_ENDPOINT without a
        `--base-url` (which names a service outright)."""
        if self.args.azure_endpoint:
            if self.args.base_url:
                raise UsageError("give --azure-endpoint or --base-url, not both")
            return True
        return not self.args.base_url and bool(os.environ.get("AZURE_OPENAI_ENDPOINT"))

    def client(self, progress: Sleeper | None = None) -> BatchClient:
        """The client every command uses: `--api-key` and `--base-url` (or the Azure options) over the environment;
        retries wait through `progress` (else the batch progress display, if one is shown) so that it keeps
        drawing."""
        sleeper = progress if progress is not None else self.progress
        policy = None if sleeper is None else RetryPolicy(sleep=sleeper.sleep)
        client: BatchClient
        if self.azure:
            client = AzureBatchClient(
                api_key=self.args.api_key or None,
                azure_endpoint=self.args.azure_endpoint or None,
                api_version=self.args.api_version or None,
                retry_policy=policy,
            )
        else:
            if self.args.api_version:
                raise UsageError("--api-version is for Azure OpenAI: give --azure-endpoint (or AZURE_OPENAI_ENDPOINT)")
            client = BatchClient(
                api_key=self.args.api_key or None, base_url=self.args.base_url or None, retry_policy=policy
            )
        self.base_url = str(client.base_url)
        return client

    def start_progress(self) -> WaitProgress:
        self.progress = WaitProgress(self.out.stderr, enabled=not self.args.quiet)
        return self.progress

    def finish_progress(self) -> None:
        if self.progress is not None:
            self.progress.finish()
