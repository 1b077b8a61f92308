"""A local server that speaks the OpenAI `/v1/files` and `/v1/batches` API, so a whole batch runs offline.

It is the offline default behind `make demo` and the end-to-end tests. Point any client at `server.base_url`
(`http://127.0.0.1:PORT/v1`): this project's client and the official `openai` SDK work unchanged.

    openai-batches serve --host 127.0.0.1 --port 8000 --data-dir DIR [--api-key KEY ...] [--speed 10 | --tick 0]

    with run_server(data_dir=tmp_path, api_keys=["sk-test"], port=0, tick=0) as server:
        ...  # server.base_url

The HTTP stack
--------------
An ASGI application built from Starlette's request and response toolkit (`app.py`), served by uvicorn with
httptools (`http_server.py`), uploads parsed by python-multipart as they arrive and written straight to disk
(`uploads.py`): nothing of HTTP/1.1 framing, chunked decoding or multipart parsing is written here. They come with
the `[server]` extra (`pip install '.[server]'` from the repository folder); without it the package still imports
and starting a server raises `ServerExtraMissing`, which names that command. One event loop serves every connection
(a silent one costs no thread and is closed after `idle_timeout`), endpoints stay plain synchronous functions over
SQLite and files, and one background thread runs the batches. SQLite in WAL mode keeps the state crash-safe: a
restart loses nothing, and batches in flight continue from their last recorded line.

What it does
------------
- Same request and response formats as the real API, errors as `{"error": {"message", "type", "param", "code"}}`,
  and an `x-request-id` header on every answer. Bearer auth: the keys given with `--api-key` or in
  `OPENAI_BATCHES_SERVER_API_KEYS` (comma-separated), or with none configured any non-empty key, on a loopback
  address only unless `--allow-any-key` says so. Each key sees only its own files and batches.
- Azure OpenAI's paths for the same resources (`/openai/v1/...`, and `/openai/...?api-version=...` as
  `AzureOpenAI(azure_endpoint=..., api_version=...)` calls them), with Azure's `api-key` or bearer credentials and
  its 401 and 404 bodies, over the same store (see `azure`).
- Batches run `validating -> in_progress -> finalizing -> completed`, each status step lasting 0.25 s and request
  lines answered as fast as the machine allows (`--tick` or `--speed` pace every line and step instead), with
  `request_counts`, timestamps, `usage` and `model` filled in as the real service does. Input files are validated
  like the service validates them, all of it before any line runs, and a bad file fails the batch with
  line-numbered `errors`. Cancel gives `cancelling -> cancelled` with partial results; a batch past its completion
  window (`--completion-window-seconds`) becomes `expired`, its unanswered requests written to the error file with
  code `batch_expired`. A full disk pauses a batch at its last recorded line until there is room again; a batch
  the server fails on otherwise (an I/O error) ends `failed` with the lines it finished published.
- Each request line gets a deterministic offline answer (see `responders`). To make lines fail on purpose, give them
  a `custom_id` starting with `fail-`, or put `"x_fail": true` or `"x_fail": {"status_code": 500, "message": "..."}`
  in the request body: they land in the error file with that status and an error body.
- `Idempotency-Key` on `POST /v1/batches` (and `POST /v1/files`): the same key and body return the first result;
  the same key with another body answers 409. With `--ignore-idempotency-key` (`run_server(ignore_idempotency_key=
  True)`) the header is ignored, as the public API ignores it: a repeated create makes a second batch.
- Fault injection for resilience tests: `--latency`, `--fault-rate` with `--fault-status` (429 and 500 by default,
  each with the real error body; 429s carry `retry-after`), `--fault-seed` for reproducible runs.

It never imports the client package `openai_batches`. The client library never imports it either; only the command
line's `serve` does (`openai-batches serve` hands its arguments to `openai_batches_server.cli.main`).
"""

from __future__ import annotations

from .config import Faults, Limits, ServerConfig
from .responders import FAIL_KEY, FAIL_PREFIX
from .server import LocalServer, ServerExtraMissing, run_server

__all__ = [
    "FAIL_KEY",
    "FAIL_PREFIX",
    "Faults",
    "Limits",
    "LocalServer",
    "ServerConfig",
    "ServerExtraMissing",
    "run_server",
]
