"""/v1/batches: create (with Idempotency-Key, unless the server ignores it), list newest first, retrieve, cancel.

Through an Azure path the endpoint may also be written without `/v1` (`/chat/completions`), and is kept so (see
`azure`); through `/v1` it must be one of ENDPOINTS exactly.
"""

from __future__ import annotations

from typing import Any

from . import ids
from .azure import azure_endpoint, openai_endpoint
from .context import Context
from .errors import (
    NO_RETRY,
    APIError,
    idempotency_conflict,
    invalid_request,
    invalid_type,
    invalid_value,
    missing_parameter,
    not_found,
    unknown_parameter,
)
from .http_types import Request, Response, json_response
from .params import idempotency_key, integer_param, query_int, request_hash
from .records import BatchRecord, batch_object
from .strict_json import NOT_JSON, JSONRejected, loads

ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
)
# Endpoints the service took batches for once and now refuses, with the date it stopped (the official SDK's 3.63
# documentation states it for /v1/videos).
RETIRED_ENDPOINTS = {"/v1/videos": "2026-09-24"}
COMPLETION_WINDOWS = ("24h",)
CREATE_PARAMS = ("input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after")
MAX_METADATA_KEYS, MAX_METADATA_KEY_LENGTH, MAX_METADATA_VALUE_LENGTH = 16, 64, 512
MIN_OUTPUT_EXPIRY, MAX_OUTPUT_EXPIRY = 3600, 2_592_000

_UNPARSEABLE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library "
    "correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble "
    "figuring out how to fix this, please contact us through our help center at help.openai.com.)"
)


def create_batch(ctx: Context, request: Request) -> Response:
    payload = _json_body(request)
    key = None if ctx.config.ignore_idempotency_key else idempotency_key(request.headers)
    fingerprint = request_hash(payload)
    storage = ctx.storage
    # One transaction around look-up, checks and insert: two concurrent retries with one key create one batch.
    with storage.transaction():
        if key is not None:
            earlier = storage.idempotent_request(request.owner, "batches", key)
            if earlier is not None:
                if earlier[0] != fingerprint:
                    raise idempotency_conflict(key)
                record = storage.batch_by_id(earlier[1])
                assert record is not None
                return json_response(batch_object(record))
        record = _new_batch(ctx, request.owner, payload, azure=request.dialect == "azure")
        storage.add_batch(record)
        if key is not None:
            storage.remember_request(request.owner, "batches", key, fingerprint, record.id, record.created_at)
    ctx.wake_runner()
    return json_response(batch_object(record))


def _json_body(request: Request) -> dict[str, Any]:
    # Strict: a lone surrogate, NaN or absurd nesting is refused here, not met later as a 500 while echoing it.
    try:
        payload = loads(request.body)
    except JSONRejected as exc:
        if str(exc) == NOT_JSON:
            raise invalid_request(_UNPARSEABLE) from None
        # Parseable, but not as UTF-8 JSON the service can store: say what and where instead of the generic hint.
        raise invalid_request(
            f"We could not parse the JSON body of your request: {exc}.", param=exc.place, code="invalid_json"
        ) from None
    if not isinstance(payload, dict):
        raise invalid_request(_UNPARSEABLE)
    return payload


def _new_batch(ctx: Context, owner: str, payload: dict[str, Any], *, azure: bool = False) -> BatchRecord:
    for name in payload:
        if name not in CREATE_PARAMS:
            raise unknown_parameter(name)
    for name in ("input_file_id", "endpoint", "completion_window"):
        if payload.get(name) is None:
            raise missing_parameter(name)
        if not isinstance(payload[name], str):
            raise invalid_type(name, "a string", payload[name])
    endpoint = payload["endpoint"]
    # Azure takes either form and names its own; /v1 takes only the /v1 forms.
    known = openai_endpoint(endpoint) if azure else endpoint
    supported = tuple(azure_endpoint(choice) for choice in ENDPOINTS) if azure else ENDPOINTS
    if known in RETIRED_ENDPOINTS:
        raise invalid_request(
            f"Invalid value: '{endpoint}'. Batches no longer accept this endpoint "
            f"(since {RETIRED_ENDPOINTS[known]}). Supported values are: "
            + ", ".join(f"'{choice}'" for choice in supported)
            + ".",
            param="endpoint",
            code="invalid_value",
        )
    if known not in ENDPOINTS:
        raise invalid_value("endpoint", endpoint, supported)
    if azure:
        endpoint = azure_endpoint(endpoint)
    if payload["completion_window"] not in COMPLETION_WINDOWS:
        raise invalid_value("completion_window", payload["completion_window"], COMPLETION_WINDOWS)
    metadata = _metadata(payload.get("metadata"))
    output_expiry = _output_expires_after(payload.get("output_expires_after"))
    now = ctx.now()
    input_file_id = payload["input_file_id"]
    input_file = ctx.storage.file_for_owner(owner, input_file_id, now)
    if input_file is None:
        raise invalid_request(f"Invalid 'input_file_id': no such file '{input_file_id}'.", param="input_file_id")
    if input_file.purpose != "batch":
        raise invalid_request(
            f"Invalid 'input_file_id': file '{input_file_id}' has purpose '{input_file.purpose}'; "
            "a batch input file must be uploaded with purpose 'batch'.",
            param="input_file_id",
            code="invalid_file_purpose",
        )
    created = int(now)
    return BatchRecord(
        id=ids.batch_id(),
        owner=owner,
        endpoint=endpoint,
        input_file_id=input_file_id,
        completion_window=payload["completion_window"],
        status="validating",
        created_at=created,
        expires_at=int(created + ctx.config.completion_window_seconds),
        metadata=metadata,
        output_expires_after_seconds=output_expiry,
        phase_mark=now,
        progress_mark=now,
    )


def _metadata(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type("metadata", "an object", value)
    if len(value) > MAX_METADATA_KEYS:
        raise invalid_request(
            f"Invalid 'metadata': too many properties. Expected an object with at most {MAX_METADATA_KEYS} "
            f"properties, but got an object with {len(value)} properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY_LENGTH:
            raise invalid_request(
                f"Invalid 'metadata': key too long. Expected a key with maximum length {MAX_METADATA_KEY_LENGTH}, "
                f"but got a key with length {len(key)} instead.",
                param="metadata",
                code="string_above_max_length",
            )
        if not isinstance(item, str):
            raise invalid_type(f"metadata.{key}", "a string", item)
        if len(item) > MAX_METADATA_VALUE_LENGTH:
            raise invalid_request(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum length "
                f"{MAX_METADATA_VALUE_LENGTH}, but got a string with length {len(item)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return dict(value)


def _output_expires_after(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type("output_expires_after", "an object", value)
    for name in value:
        if name not in ("anchor", "seconds"):
            raise unknown_parameter(f"output_expires_after.{name}")
    if "anchor" not in value:
        raise missing_parameter("output_expires_after.anchor")
    if "seconds" not in value:
        raise missing_parameter("output_expires_after.seconds")
    if value["anchor"] != "created_at":
        raise invalid_value("output_expires_after.anchor", value["anchor"], ["created_at"])
    return integer_param(value["seconds"], "output_expires_after.seconds", MIN_OUTPUT_EXPIRY, MAX_OUTPUT_EXPIRY)


def list_batches(ctx: Context, request: Request) -> Response:
    limit = query_int(request.query, "limit", 20, 1, 100)
    records, has_more = ctx.storage.list_batches(request.owner, limit=limit, after=request.query.get("after"))
    data = [batch_object(record) for record in records]
    return json_response(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }
    )


def _owned_batch(ctx: Context, request: Request) -> BatchRecord:
    batch_id = request.path_params["batch_id"]
    record = ctx.storage.batch_for_owner(request.owner, batch_id)
    if record is None:
        raise not_found(f"No batch found with id '{batch_id}'.", param="batch_id")
    return record


def retrieve_batch(ctx: Context, request: Request) -> Response:
    return json_response(batch_object(_owned_batch(ctx, request)))


def cancel_batch(ctx: Context, request: Request) -> Response:
    record = _owned_batch(ctx, request)
    now = ctx.now()
    if record.status in ("validating", "in_progress"):
        changes = {"status": "cancelling", "cancelling_at": int(now), "phase_mark": now}
        if ctx.storage.update_batch(record.id, changes, only_if_status=("validating", "in_progress")):
            ctx.wake_runner()
        record = _owned_batch(ctx, request)
    # Cancelling twice is harmless: the second call answers with the batch as it now is.
    if record.status not in ("cancelling", "cancelled"):
        raise APIError(409, f"Cannot cancel a batch with status '{record.status}'.", headers=NO_RETRY)
    return json_response(batch_object(record))
