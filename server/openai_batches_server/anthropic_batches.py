"""Anthropic's Message Batches API (`/v1/messages/batches`), so the `anthropic` SDK's `messages.batches` runs here.

An Anthropic batch is carried by an ordinary internal batch, so the pace, injected faults, line failures, the
enqueued-token limit, expiry and restart safety are the ones every other batch has. Creating one writes its requests
as an internal JSONL input file (one line per request, url `/v1/messages`, body `{"params": ...}`: the params stay
out of the body's top level so that requests naming different models do not trip the one-model rule of `/v1/batches`)
and stores a batch record under the id `msgbatch_...`. Both are filed under an owner of their own (`anthropic:` and
the key's hash), so they never show in `/v1/files` or `/v1/batches` listings. Every answer is rendered from that
record: the statuses fold into `in_progress`/`canceling`/`ended`, the request counts stay `processing` until the
batch ends (as Anthropic's are), and the results are built from the internal output and error files, in an order
drawn from a hash of the batch id and custom_id so that no client comes to rely on input order.

Requests are refused whole at create only for what the batch body itself gets wrong (its shape, custom_ids, their
count or the body size); a problem inside one request's `params` (no `max_tokens`, no `messages`) becomes that
request's `errored` result, as Anthropic validates params asynchronously. With `--enqueued-token-limit`, a create
that would pass the limit is answered 429 `rate_limit_error`: Anthropic has no failed-batch state to put it in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .config import Limits
from .context import Context
from .enqueued_tokens import ENQUEUED_STATUSES
from .errors import APIError
from .http_types import Request, Response, json_response
from .input_validation import request_lines
from .line_failures import ATTEMPT_KEY
from .params import query_int
from .records import BatchRecord, FileRecord, dumps
from .responders import MESSAGES_ENDPOINT, respond
from .strict_json import JSONRejected, loads

PREFIX = "/v1/messages"
MAX_REQUESTS = 100_000
MAX_BODY_BYTES = 256 * 1024 * 1024
MAX_LIST_LIMIT = 1000
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
# Anthropic's versions are dates (2023-06-01; newer SDKs send later ones): any date is taken, one behaviour for all.
VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
OWNER_PREFIX = "anthropic:"

_BASE62 = string.ascii_letters + string.digits
# Anthropic's error types by HTTP status (its errors page); anything else is the generic one of its class.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_ANTHROPIC_TYPES = frozenset(ERROR_TYPES.values())


class AnthropicError(APIError):
    """An error in Anthropic's shape: `{"type": "error", "error": {"type", "message"}}`."""

    def __init__(self, status: int, message: str, error_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(status, message, error_type=error_type or error_type_for(status), **kwargs)

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}


def error_type_for(status: int) -> str:
    return ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")


def as_anthropic(exc: APIError) -> APIError:
    """Any error met on an Anthropic path (a fault, a body too large, an unknown route) in Anthropic's shape."""
    if isinstance(exc, AnthropicError):
        return exc
    converted = AnthropicError(exc.status, exc.message, headers=exc.headers, close_connection=exc.close_connection)
    return converted


def is_anthropic_path(raw_path: str) -> bool:
    return raw_path == PREFIX or raw_path.startswith(PREFIX + "/")


def request_id() -> str:
    return "req_01" + "".join(secrets.choice(_BASE62) for _ in range(22))


def _batch_id() -> str:
    return "msgbatch_01" + "".join(secrets.choice(_BASE62) for _ in range(22))


def owner(key_owner: Any, headers: Mapping[str, str]) -> str:
    """The internal owner for the request's key (checked by `key_owner`, the authenticator's), then the version.

    The key comes as `x-api-key`, or as `Authorization: Bearer`, which is how the installed SDK sends `api_key`.
    """
    key = (headers.get("x-api-key") or "").strip()
    if not key:
        scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    if not key:
        raise AnthropicError(401, "x-api-key header is required")
    found = key_owner(key)
    if found is None:
        raise AnthropicError(401, "invalid x-api-key")
    version = (headers.get("anthropic-version") or "").strip()
    if not version:
        raise AnthropicError(400, "anthropic-version: header is required")
    if VERSION.fullmatch(version) is None:
        raise AnthropicError(400, f'anthropic-version: "{version}" is not a valid version')
    return OWNER_PREFIX + str(found)


def internal_limits(limits: Limits) -> Limits:
    """The runner's input limits for an internal Anthropic batch: Anthropic's, whatever `/v1/batches` allows."""
    return dataclasses.replace(limits, input_requests=MAX_REQUESTS, input_file_bytes=2 * MAX_BODY_BYTES)


def _invalid(message: str) -> AnthropicError:
    return AnthropicError(400, message)


# --- create ---


def create_batch(ctx: Context, request: Request) -> Response:
    try:
        payload = loads(request.body)
    except JSONRejected as exc:
        raise _invalid(f"There was an issue with your request body: {exc}") from None
    if not isinstance(payload, dict):
        raise _invalid("Input should be a valid dictionary")
    for name in payload:
        if name != "requests":
            raise _invalid(f"{name}: Extra inputs are not permitted")
    requests = payload.get("requests")
    if requests is None:
        raise _invalid("requests: Field required")
    if not isinstance(requests, list):
        raise _invalid("requests: Input should be a valid list")
    if not requests:
        raise _invalid("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_REQUESTS:
        raise _invalid(f"requests: List should have at most {MAX_REQUESTS} items after validation, not {len(requests)}")
    seen: set[str] = set()
    lines: list[bytes] = []
    for index, item in enumerate(requests):
        where = f"requests.{index}"
        if not isinstance(item, dict):
            raise _invalid(f"{where}: Input should be a valid dictionary")
        for name in item:
            if name not in ("custom_id", "params"):
                raise _invalid(f"{where}.{name}: Extra inputs are not permitted")
        custom_id, params = item.get("custom_id"), item.get("params")
        if custom_id is None:
            raise _invalid(f"{where}.custom_id: Field required")
        if not isinstance(custom_id, str) or CUSTOM_ID.fullmatch(custom_id) is None:
            raise _invalid(f"{where}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        if custom_id in seen:
            raise _invalid(f"{where}.custom_id: Duplicate custom_id '{custom_id}': custom_ids must be unique.")
        seen.add(custom_id)
        if params is None:
            raise _invalid(f"{where}.params: Field required")
        if not isinstance(params, dict):
            raise _invalid(f"{where}.params: Input should be a valid dictionary")
        body: dict[str, Any] = {"params": params}
        if "x_fail" in params:
            body["x_fail"] = params["x_fail"]
        line = {"custom_id": custom_id, "method": "POST", "url": MESSAGES_ENDPOINT, "body": body}
        lines.append((dumps(line) + "\n").encode("utf-8"))
    internal_owner = request.owner
    _check_token_limit(ctx, internal_owner, lines)
    return json_response(batch_view(_store(ctx, internal_owner, lines), request))


def _check_token_limit(ctx: Context, internal_owner: str, lines: list[bytes]) -> None:
    limit = ctx.config.enqueued_token_limit
    if limit is None:
        return
    tokens = 0
    for line in lines:
        request = json.loads(line)
        tokens += respond(MESSAGES_ENDPOINT, request["custom_id"], request["body"], now=0).input_tokens
    # The runner checks the same sum for the model "" (the internal lines name none at their top level).
    enqueued = ctx.storage.enqueued_tokens(internal_owner, "", ENQUEUED_STATUSES)
    if enqueued + tokens > limit:
        raise AnthropicError(
            429,
            f"This batch's {tokens:,} input tokens would pass the enqueued token limit of {limit:,} "
            f"({enqueued:,} already enqueued). Try again once some batches have ended.",
        )


def _store(ctx: Context, internal_owner: str, lines: list[bytes]) -> BatchRecord:
    storage = ctx.storage
    batch_id = _batch_id()
    file_id = "file-" + "".join(secrets.choice(_BASE62) for _ in range(22))
    path = storage.files_dir / file_id
    data = b"".join(lines)
    now = ctx.now()
    created = int(now)
    try:
        path.write_bytes(data)
        with storage.transaction():
            storage.add_file(
                FileRecord(
                    id=file_id,
                    owner=internal_owner,
                    bytes=len(data),
                    created_at=created,
                    expires_at=None,
                    filename=f"{batch_id}_requests.jsonl",
                    purpose="batch",
                    path=storage.relative(path),
                )
            )
            record = BatchRecord(
                id=batch_id,
                owner=internal_owner,
                endpoint=MESSAGES_ENDPOINT,
                input_file_id=file_id,
                completion_window="24h",
                status="validating",
                created_at=created,
                expires_at=int(created + ctx.config.completion_window_seconds),
                total=len(lines),
                phase_mark=now,
                progress_mark=now,
                # Message Batches carry no attempt: each draws its own line failures, as a retry on the real
                # service gets a fresh chance (`line_failures.py`).
                metadata={ATTEMPT_KEY: str(storage.batches_made() + 1)},
            )
            storage.add_batch(record)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    ctx.wake_runner()
    return record


# --- the view of a batch ---


def _rfc3339(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def processing_status(record: BatchRecord) -> str:
    if record.status == "cancelling":
        return "canceling"
    if record.status in ("completed", "failed", "expired", "cancelled"):
        return "ended"
    return "in_progress"


def ended_at(record: BatchRecord) -> int | None:
    return {
        "completed": record.completed_at,
        "failed": record.failed_at,
        "expired": record.expired_at,
        "cancelled": record.cancelled_at,
    }.get(record.status)


def request_counts(record: BatchRecord) -> dict[str, int]:
    counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    if processing_status(record) != "ended":
        counts["processing"] = record.total
        return counts
    counts["succeeded"] = record.completed
    counts["errored"] = record.failed
    not_run = record.total - record.completed - record.failed
    if record.status == "cancelled":
        counts["canceled"] = not_run
    elif record.status == "expired":
        counts["expired"] = not_run
    elif record.status == "failed":
        counts["errored"] += not_run
    return counts


def batch_view(record: BatchRecord, request: Request) -> dict[str, Any]:
    ended = processing_status(record) == "ended"
    host = request.headers.get("host") or "localhost"
    return {
        "id": record.id,
        "type": "message_batch",
        "processing_status": processing_status(record),
        "request_counts": request_counts(record),
        "ended_at": _rfc3339(ended_at(record)),
        "created_at": _rfc3339(record.created_at),
        "expires_at": _rfc3339(record.expires_at),
        "archived_at": None,
        "cancel_initiated_at": _rfc3339(record.cancelling_at),
        "results_url": f"http://{host}{PREFIX}/batches/{record.id}/results" if ended else None,
    }


# --- list, retrieve, cancel, delete ---


def list_batches(ctx: Context, request: Request) -> Response:
    limit = _limit(request.query)
    before, after = request.query.get("before_id"), request.query.get("after_id")
    if before is not None and after is not None:
        raise _invalid("Only one of before_id and after_id may be given.")
    records, has_more = ctx.storage.list_batches(request.owner, limit=limit, after=after, before=before)
    data = [batch_view(record, request) for record in records]
    return json_response(
        {
            "data": data,
            "has_more": has_more,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }
    )


def _limit(query: Mapping[str, str]) -> int:
    try:
        return query_int(query, "limit", 20, 1, MAX_LIST_LIMIT)
    except APIError as exc:
        raise _invalid(f"limit: {exc.message}") from None


def _owned(ctx: Context, request: Request) -> BatchRecord:
    batch_id = request.path_params["batch_id"]
    record = ctx.storage.batch_for_owner(request.owner, batch_id)
    if record is None:
        raise AnthropicError(404, f"No message batch found with id '{batch_id}'.")
    return record


def retrieve_batch(ctx: Context, request: Request) -> Response:
    return json_response(batch_view(_owned(ctx, request), request))


def cancel_batch(ctx: Context, request: Request) -> Response:
    record = _owned(ctx, request)
    if record.status in ("validating", "in_progress", "finalizing"):
        now = ctx.now()
        changes = {"status": "cancelling", "cancelling_at": int(now), "phase_mark": now}
        if ctx.storage.update_batch(record.id, changes, only_if_status=("validating", "in_progress", "finalizing")):
            ctx.wake_runner()
        record = _owned(ctx, request)
    # A second cancel answers with the batch as it now is; an ended batch that was not canceled cannot be.
    if processing_status(record) == "ended" and record.status != "cancelled":
        raise _invalid(f"Message batch '{record.id}' has already ended and cannot be canceled.")
    return json_response(batch_view(record, request))


def delete_batch(ctx: Context, request: Request) -> Response:
    record = _owned(ctx, request)
    if processing_status(record) != "ended":
        raise _invalid(f"Message batch '{record.id}' cannot be deleted while it is still processing; cancel it first.")
    ctx.storage.remove_batch(request.owner, record.id)
    return json_response({"id": record.id, "type": "message_batch_deleted"})


# --- results ---


def results(ctx: Context, request: Request) -> Response:
    record = _owned(ctx, request)
    if processing_status(record) != "ended":
        raise _invalid(f"Message batch '{record.id}' has not ended yet; its results are not available.")
    entries = [*_published_results(ctx, record), *_unrun_results(ctx, record)]
    entries.sort(key=lambda entry: hashlib.sha256(f"{record.id}\x00{entry[0]}".encode()).digest())
    body = b"".join(
        (dumps({"custom_id": custom_id, "result": result}) + "\n").encode("utf-8") for custom_id, result in entries
    )
    return Response(200, {"content-type": "application/binary"}, body, length=len(body))


def _published_results(ctx: Context, record: BatchRecord) -> list[tuple[str, dict[str, Any]]]:
    entries: list[tuple[str, dict[str, Any]]] = []
    for file_id in (record.output_file_id, record.error_file_id):
        if file_id is None:
            continue
        stored = ctx.storage.file_by_id(file_id)
        if stored is None:
            continue
        with ctx.storage.blob(stored.path).open("rb") as stream:
            for _number, _offset, content in request_lines(stream):
                line = json.loads(content)
                entries.append((str(line.get("custom_id")), _result_of(line)))
    return entries


def _result_of(line: Mapping[str, Any]) -> dict[str, Any]:
    response = line.get("response")
    if response is None:
        error = line.get("error") or {}
        if error.get("code") == "batch_expired":
            return {"type": "expired"}
        return _errored(500, str(error.get("message", "")), None)
    status = int(response.get("status_code", 500))
    if 200 <= status < 300:
        return {"type": "succeeded", "message": response.get("body")}
    error = (response.get("body") or {}).get("error") or {}
    return _errored(status, str(error.get("message", "")), error.get("type"))


def _errored(status: int, message: str, error_type: object) -> dict[str, Any]:
    kind = error_type if isinstance(error_type, str) and error_type in _ANTHROPIC_TYPES else error_type_for(status)
    return {"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": message}}}


def _unrun_results(ctx: Context, record: BatchRecord) -> list[tuple[str, dict[str, Any]]]:
    """The requests no line was written for: canceled ones, or every one of a batch the runner failed."""
    if record.status not in ("cancelled", "failed"):
        return []
    if record.status == "cancelled":
        result: dict[str, Any] = {"type": "canceled"}
    else:
        message = ((record.errors or [{}])[0]).get("message") or "The batch failed."
        code = ((record.errors or [{}])[0]).get("code")
        result = _errored(429 if code == "token_limit_exceeded" else 500, str(message), None)
    stored = ctx.storage.file_by_id(record.input_file_id)
    if stored is None:
        return []
    entries = []
    with ctx.storage.blob(stored.path).open("rb") as stream:
        stream.seek(record.input_offset)
        for _number, _offset, content in request_lines(stream):
            entries.append((str(json.loads(content)["custom_id"]), result))
    return entries
