"""A local server that speaks the OpenAI `/v1/files` and `/v1/batches` API, so a whole batch runs offline.

It is the offline default behind `make demo` and the end-to-end tests. Point any client at `server.base_url`
(`http://127.0.0.1:PORT/v1`): this project's client and the official `openai` SDK work unchanged.

    openai-batches serve --host 127.0.0.1 --port 8000 --data-dir DIR [--api-key KEY ...] [--speed 10 | --tick 0]

    with run_server(data_dir=tmp_path, api_keys=["sk-test"], port=0, tick=0) as server:
        ...  # server.base_url

Why the standard library
------------------------
The server runs on `http.server.ThreadingHTTPServer`, `sqlite3` and threads and needs nothing beyond Python, so it
ships in the same wheel with no `[server]` extra, and `make demo` and the tests start it in-process, in milliseconds,
on a fresh clone. A framework (FastAPI or Starlette with uvicorn, Flask with a WSGI server) would bring an ASGI/WSGI
stack, a process model and their release cadence into a tool whose job is to be always there, for a load of one
developer or one test at a time, which a thread per connection serves well. It would also save little: nine routes
fit a table of regular expressions, and the one hard part, 512 MB multipart uploads that must never sit in memory,
needs a streaming parser either way (`cgi` is deprecated and gone in Python 3.13; the frameworks delegate to
python-multipart), so a small incremental one lives in `multipart.py`. SQLite in WAL mode keeps the state crash-safe:
a restart loses nothing, and batches in flight continue from their last recorded line.

What it does
------------
- Same request and response formats as the real API, errors as `{"error": {"message", "type", "param", "code"}}`,
  and an `x-request-id` header on every answer. Bearer auth: the keys given with `--api-key` or in
  `OPENAI_BATCHES_SERVER_API_KEYS` (comma-separated), or with none configured any non-empty key. Each key sees only
  its own files and batches.
- Batches run `validating -> in_progress -> finalizing -> completed` at one tick per request line and per status
  step (`--tick`, or `--speed` as a multiple of the default 0.25 s), with `request_counts`, timestamps, `usage` and
  `model` filled in as the real service does. Input files are validated like the service validates them, and a
  bad file fails the batch with line-numbered `errors`. Cancel gives `cancelling -> cancelled` with partial
  results; a batch past its completion window (`--completion-window-seconds`) becomes `expired`, its unanswered
  requests written to the error file with code `batch_expired`.
- Each request line gets a deterministic offline answer (see `responders`). To make lines fail on purpose, give them
  a `custom_id` starting with `fail-`, or put `"x_fail": true` or `"x_fail": {"status_code": 500, "message": "..."}`
  in the request body: they land in the error file with that status and an error body.
- `Idempotency-Key` on `POST /v1/batches` (and `POST /v1/files`): the same key and body return the first result;
  the same key with another body answers 409.
- Fault injection for resilience tests: `--latency`, `--fault-rate` with `--fault-status` (429 and 500 by default,
  each with the real error body; 429s carry `retry-after`), `--fault-seed` for reproducible runs.

It never imports the client package `openai_batches`; the client never imports it.
"""

from __future__ import annotations

from .config import Faults, Limits, ServerConfig
from .responders import FAIL_KEY, FAIL_PREFIX
from .server import LocalServer, run_server

__all__ = ["FAIL_KEY", "FAIL_PREFIX", "Faults", "Limits", "LocalServer", "ServerConfig", "run_server"]
