"""Start and stop a whole server (HTTP + batch runner + storage), from the command line or from a test.

    with run_server(data_dir=tmp_path, api_keys=["sk-test"], port=0, tick=0) as server:
        httpx.get(server.base_url + "/batches", headers={"Authorization": "Bearer sk-test"})

The HTTP side (Starlette and uvicorn) comes with the `[server]` extra and is imported only when a server starts, so
`import openai_batches_server` works without it and starting fails with `ServerExtraMissing`, which says what to
install. Connections and uploads are capped below the process's descriptor limit (`capacity`), and request bodies
have deadlines (`request_body`). Stopping is orderly: no new connections, requests being answered get a few seconds
to finish, idle connections are closed, the runner finishes its current step (which always ends in a commit), then
SQLite closes.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

from .auth import Authenticator
from .capacity import RefusalLog, UploadSlots
from .config import (
    DEFAULT_COMPLETION_WINDOW_SECONDS,
    Faults,
    Limits,
    LineFailures,
    ServerConfig,
    connection_caps,
    describe_pace,
    is_loopback,
)
from .context import Context
from .faults import FaultInjector
from .runner import BatchRunner
from .storage import Storage

if TYPE_CHECKING:
    from .app import ApiApp
    from .http_server import HTTPServer
    from .request_body import BodyLimits

logger = logging.getLogger("openai_batches_server")

# The package is on no index yet, so the command that works is the one run in a clone (once it is published,
# `pip install 'openai-batches[server]'` does the same).
INSTALL_HINT = "pip install '.[server]' from the openai-batches repository folder"
# The distributions of the `[server]` extra, by the name they are imported as.
SERVER_EXTRA = ("starlette", "uvicorn", "httptools", "python_multipart", "anyio")


class ServerExtraMissing(ImportError):
    """The local server's HTTP stack is not installed."""


def load_http_stack() -> ModuleType:
    """The module that serves the app (`http_server`), or ServerExtraMissing naming what to install."""
    try:
        return importlib.import_module(".http_server", __package__)
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in SERVER_EXTRA:
            raise
        raise ServerExtraMissing(
            f"the local server needs its HTTP stack ({missing} is not installed): {INSTALL_HINT}", name=missing
        ) from exc


class LocalServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._storage: Storage | None = None
        self._runner: BatchRunner | None = None
        self._http: HTTPServer | None = None

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the server is not running")
        return self._http.port

    @property
    def base_url(self) -> str:
        """The URL a client is given as its base URL, `/v1` included."""
        host = self.config.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/v1"

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            raise RuntimeError("the server is not running")
        return self._storage

    @property
    def app(self) -> ApiApp:
        """The ASGI app, to drive in process (`httpx.ASGITransport(app=server.app)`) where no socket is needed."""
        if self._http is None:
            raise RuntimeError("the server is not running")
        return self._http.app

    @property
    def requests_served(self) -> int:
        """HTTP requests answered since start, errors included (a fuzzing run counts what it sent with it)."""
        if self._http is None:
            raise RuntimeError("the server is not running")
        return self._http.requests_served

    def sweep(self) -> None:
        """Free the bytes of deleted and expired files now instead of at the runner's next sweep (every second)."""
        if self._runner is None:
            raise RuntimeError("the server is not running")
        self._runner.sweep()

    def start(self) -> None:
        if self._http is not None:
            raise RuntimeError("the server is already running")
        stack = load_http_stack()
        storage = Storage(self.config.data_dir)
        try:
            runner = BatchRunner(storage, self.config)
            authenticator = Authenticator(self.config.api_keys)
            context = Context(self.config, storage, runner.wake)
            descriptors = descriptor_limit()
            max_connections, max_uploads = connection_caps(self.config, descriptors)
            refusals = RefusalLog()
            app = stack.ApiApp(
                context,
                authenticator,
                FaultInjector(self.config.faults),
                body_limits=body_limits(self.config),
                uploads=UploadSlots(max_uploads, refusals),
            )
            http: HTTPServer = stack.HTTPServer(
                app,
                self.config.host,
                self.config.port,
                idle_timeout=self.config.idle_timeout,
                max_connections=max_connections,
                refusals=refusals,
            )
        except BaseException:
            storage.close()
            raise
        runner.start()
        try:
            http.start()
        except BaseException:
            runner.stop()
            storage.close()
            raise
        self._storage, self._runner, self._http = storage, runner, http
        logger.info("listening on %s", self.base_url)
        if not authenticator.accepts_any_key:
            logger.info("accepting %d API key(s)", len(self.config.api_keys))
        elif is_loopback(self.config.host):
            logger.info("no API keys configured: accepting any non-empty key (each key sees only its own objects)")
        else:
            logger.warning(
                "no API keys configured and --allow-any-key given: accepting any non-empty key from anyone who can "
                "reach %s (each key sees only its own objects)",
                self.config.host,
            )
        if self.config.ignore_idempotency_key:
            logger.info(
                "ignoring Idempotency-Key headers: a repeated create makes a new object, as the public API does"
            )
        logger.info("data directory %s; %s", storage.root, describe_pace(self.config))
        logger.info("%s", describe_caps(self.config, max_connections, max_uploads))
        # Each connection may hold a second descriptor; the refused ones need some too.
        if descriptors is not None and 2 * max_connections > descriptors:
            logger.warning(
                "--max-connections %d may use more descriptors than this process may open (%d): past that, "
                "uploads are refused with 503 and connections wait to be accepted (raise `ulimit -n`)",
                max_connections,
                descriptors,
            )

    def stop(self) -> None:
        http, runner, storage = self._http, self._runner, self._storage
        self._http = self._runner = self._storage = None
        if http is not None:
            http.stop()
        if runner is not None:
            runner.stop()
        if storage is not None:
            storage.close()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def descriptor_limit() -> int | None:
    """How many files this process may have open (its soft RLIMIT_NOFILE), or None where there is no such limit."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def body_limits(config: ServerConfig) -> BodyLimits:
    from .request_body import BodyLimits  # part of the HTTP stack, like everything that imports starlette

    return BodyLimits(
        idle_timeout=config.idle_timeout,
        body_timeout=config.body_timeout,
        min_rate=config.min_body_rate,
        rate_window=config.body_rate_window,
    )


def describe_caps(config: ServerConfig, max_connections: int, max_uploads: int) -> str:
    rate = f", at {config.min_body_rate:g} bytes/s or more" if config.min_body_rate else ""
    return (
        f"at most {max_connections} connections and {max_uploads} uploads at once; request bodies within "
        f"{config.body_timeout:g} s{rate}"
    )


@contextmanager
def run_server(
    data_dir: str | os.PathLike[str],
    *,
    api_keys: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    tick: float | None = None,
    step_seconds: float | None = None,
    completion_window_seconds: float = DEFAULT_COMPLETION_WINDOW_SECONDS,
    limits: Limits | None = None,
    faults: Faults | None = None,
    clock: Callable[[], float] | None = None,
    enqueued_token_limit: int | None = None,
    line_failure_rate: float = 0.0,
    line_failure_status: int = 500,
    line_failure_seed: int = 0,
    line_failure_attempts: int | None = None,
    idle_timeout: float | None = None,
    body_timeout: float | None = None,
    min_body_rate: float | None = None,
    max_connections: int | None = None,
    max_uploads: int | None = None,
    allow_any_key: bool = False,
    ignore_idempotency_key: bool = False,
) -> Iterator[LocalServer]:
    """A running server for the duration of the `with` block; port 0 picks a free port (see `server.base_url`).

    `tick` paces every request line and status step at that many seconds (0: everything at once); by default each
    status step takes half a second and lines run as fast as the machine allows. `step_seconds` (instead of `tick`)
    sets only the status steps' length. `enqueued_token_limit` and the
    `line_failure_*` arguments are the `serve` options of the same names. `idle_timeout` closes connections that
    send nothing for that long (default 20 s); a request body must also arrive whole within `body_timeout` (300 s)
    and at `min_body_rate` bytes/s or more (1024; 0: no minimum), or it is answered 408. `max_connections` and
    `max_uploads` cap what the server takes at once (default: derived from the descriptor limit, uploads half the
    connections); beyond them it answers 503 with Retry-After. Without `api_keys`, a host other than loopback needs
    `allow_any_key=True`. `ignore_idempotency_key=True` (the `serve` option `--ignore-idempotency-key`) ignores the
    `Idempotency-Key` header on every endpoint, as the public API does for /v1/batches and /v1/files, so a create
    repeated with the same key makes a second file or batch; by default a repeated key answers with the first object
    (409 if the body differs). Raises ServerExtraMissing if the `[server]` extra is not installed.
    """
    config = ServerConfig(
        data_dir=Path(data_dir),
        host=host,
        port=port,
        api_keys=tuple(api_keys),
        allow_any_key=allow_any_key,
        ignore_idempotency_key=ignore_idempotency_key,
        completion_window_seconds=completion_window_seconds,
        limits=limits or Limits(),
        faults=faults or Faults(),
        clock=clock or time.time,
        enqueued_token_limit=enqueued_token_limit,
        line_failures=LineFailures(
            rate=line_failure_rate, status=line_failure_status, seed=line_failure_seed, attempts=line_failure_attempts
        ),
        **_pace(tick, step_seconds),
        **({} if idle_timeout is None else {"idle_timeout": idle_timeout}),
        **({} if body_timeout is None else {"body_timeout": body_timeout}),
        **({} if min_body_rate is None else {"min_body_rate": min_body_rate}),
        max_connections=max_connections,
        max_uploads=max_uploads,
    )
    with LocalServer(config) as server:
        yield server


def _pace(tick: float | None, step_seconds: float | None) -> dict[str, float]:
    if tick is not None and step_seconds is not None:
        raise ValueError("give tick (every line and step) or step_seconds (the steps only), not both")
    if tick is not None:
        return {"step_seconds": tick, "line_seconds": tick}
    return {} if step_seconds is None else {"step_seconds": step_seconds}
