"""Start and stop a whole server (HTTP threads + batch runner + storage), from the command line or from a test.

    with run_server(data_dir=tmp_path, api_keys=["sk-test"], port=0, tick=0) as server:
        httpx.get(server.base_url + "/batches", headers={"Authorization": "Bearer sk-test"})

Stopping is orderly: no new connections, requests being answered get a few seconds to finish, idle keep-alive
connections are cut, the runner finishes its current step (which always ends in a commit), then SQLite closes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from .app import App
from .auth import Authenticator
from .config import DEFAULT_COMPLETION_WINDOW_SECONDS, Faults, Limits, LineFailures, ServerConfig, describe_pace
from .context import Context
from .faults import FaultInjector
from .http_handler import APIServer
from .runner import BatchRunner
from .storage import Storage

logger = logging.getLogger("openai_batches_server")

SHUTDOWN_GRACE = 5.0
# How often the accept loop checks for a stop request: the longest `stop()` waits before connections are closed.
POLL_INTERVAL = 0.02


class LocalServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._storage: Storage | None = None
        self._runner: BatchRunner | None = None
        self._httpd: APIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

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

    def sweep(self) -> None:
        """Free the bytes of deleted and expired files now instead of at the runner's next sweep (every second)."""
        if self._runner is None:
            raise RuntimeError("the server is not running")
        self._runner.sweep()

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        storage = Storage(self.config.data_dir)
        try:
            runner = BatchRunner(storage, self.config)
            authenticator = Authenticator(self.config.api_keys)
            context = Context(self.config, storage, runner.wake)
            app = App(context, authenticator, FaultInjector(self.config.faults))
            httpd = APIServer((self.config.host, self.config.port), app)
        except BaseException:
            storage.close()
            raise
        runner.start()
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name="openai-batches-http", daemon=True
        )
        thread.start()
        self._storage, self._runner, self._httpd, self._thread = storage, runner, httpd, thread
        logger.info("listening on %s", self.base_url)
        if authenticator.accepts_any_key:
            logger.info("no API keys configured: accepting any non-empty key (each key sees only its own objects)")
        else:
            logger.info("accepting %d API key(s)", len(self.config.api_keys))
        logger.info("data directory %s; %s", storage.root, describe_pace(self.config))

    def stop(self) -> None:
        httpd, thread, runner, storage = self._httpd, self._thread, self._runner, self._storage
        self._httpd = self._thread = self._runner = self._storage = None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections(SHUTDOWN_GRACE)
            httpd.server_close()
        if thread is not None:
            thread.join()
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


@contextmanager
def run_server(
    data_dir: str | os.PathLike[str],
    *,
    api_keys: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    tick: float | None = None,
    completion_window_seconds: float = DEFAULT_COMPLETION_WINDOW_SECONDS,
    limits: Limits | None = None,
    faults: Faults | None = None,
    clock: Callable[[], float] | None = None,
    enqueued_token_limit: int | None = None,
    line_failure_rate: float = 0.0,
    line_failure_status: int = 500,
    line_failure_seed: int = 0,
    line_failure_attempts: int | None = None,
) -> Iterator[LocalServer]:
    """A running server for the duration of the `with` block; port 0 picks a free port (see `server.base_url`).

    `tick` paces every request line and status step at that many seconds (0: everything at once); by default each
    status step takes half a second and lines run as fast as the machine allows. `enqueued_token_limit` and the
    `line_failure_*` arguments are the `serve` options of the same names.
    """
    config = ServerConfig(
        data_dir=Path(data_dir),
        host=host,
        port=port,
        api_keys=tuple(api_keys),
        completion_window_seconds=completion_window_seconds,
        limits=limits or Limits(),
        faults=faults or Faults(),
        clock=clock or time.time,
        enqueued_token_limit=enqueued_token_limit,
        line_failures=LineFailures(
            rate=line_failure_rate, status=line_failure_status, seed=line_failure_seed, attempts=line_failure_attempts
        ),
        **({} if tick is None else {"step_seconds": tick, "line_seconds": tick}),
    )
    with LocalServer(config) as server:
        yield server
