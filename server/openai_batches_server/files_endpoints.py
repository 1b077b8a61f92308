"""/v1/files: upload (multipart, already streamed to disk), list, retrieve, delete, and download the raw bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from . import ids
from .context import Context
from .errors import idempotency_conflict, invalid_value, missing_parameter, not_found, unknown_parameter
from .http_types import Request, Response, json_response
from .params import idempotency_key, integer_param, query_choice, query_int, request_hash
from .records import FileRecord, file_object
from .uploads import UploadedFile

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
BATCH_FILE_LIFETIME = 30 * 24 * 3600
MIN_EXPIRY, MAX_EXPIRY = 3600, 2_592_000
# The openai SDK flattens `expires_after={"anchor": ..., "seconds": ...}` into bracketed form fields.
FORM_FIELDS = frozenset({"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"})


def create_file(ctx: Context, request: Request) -> Response:
    # The HTTP layer has already streamed the form to disk (`uploads.receive_form`), refusing what is malformed,
    # repeated or over the size limit; the temporary files it wrote are removed after this returns.
    assert request.form is not None, "the upload route reads its form before the endpoint runs"
    return _store_upload(ctx, request, request.form.fields, request.form.files)


def _store_upload(ctx: Context, request: Request, fields: dict[str, str], files: dict[str, UploadedFile]) -> Response:
    for name in [*fields, *files]:
        if name not in FORM_FIELDS:
            raise unknown_parameter(name)
    upload = files.get("file")
    if upload is None:
        raise missing_parameter("file")
    purpose = fields.get("purpose")
    if purpose is None:
        raise missing_parameter("purpose")
    if purpose not in UPLOAD_PURPOSES:
        raise invalid_value("purpose", purpose, UPLOAD_PURPOSES)
    lifetime = _expires_after(fields)
    if lifetime is None and purpose == "batch":
        lifetime = BATCH_FILE_LIFETIME
    key = None if ctx.config.ignore_idempotency_key else idempotency_key(request.headers)
    fingerprint = request_hash([upload.sha256, upload.filename, purpose, lifetime])
    storage = ctx.storage
    destination: Path | None = None
    # The bytes are moved into place before the row is written; whatever fails after the move, the COMMIT included
    # (where a full disk shows), takes them back out, so no unlisted file is left holding space.
    try:
        with storage.transaction():
            if key is not None:
                earlier = storage.idempotent_request(request.owner, "files", key)
                if earlier is not None:
                    if earlier[0] != fingerprint:
                        raise idempotency_conflict(key)
                    record = storage.file_by_id(earlier[1])
                    assert record is not None
                    return json_response(file_object(record))
            created = int(ctx.now())
            file_id = ids.file_id()
            destination = storage.files_dir / file_id
            os.replace(upload.path, destination)
            record = FileRecord(
                id=file_id,
                owner=request.owner,
                bytes=upload.size,
                created_at=created,
                expires_at=None if lifetime is None else created + lifetime,
                filename=upload.filename,
                purpose=purpose,
                path=storage.relative(destination),
            )
            storage.add_file(record)
            if key is not None:
                storage.remember_request(request.owner, "files", key, fingerprint, file_id, created)
    except BaseException:
        if destination is not None:
            destination.unlink(missing_ok=True)
        raise
    return json_response(file_object(record))


def _expires_after(fields: dict[str, str]) -> int | None:
    anchor = fields.get("expires_after[anchor]")
    seconds = fields.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor is None:
        raise missing_parameter("expires_after.anchor")
    if seconds is None:
        raise missing_parameter("expires_after.seconds")
    if anchor != "created_at":
        raise invalid_value("expires_after.anchor", anchor, ["created_at"])
    try:
        value: Any = int(seconds)
    except ValueError:
        value = seconds
    return integer_param(value, "expires_after.seconds", MIN_EXPIRY, MAX_EXPIRY)


def list_files(ctx: Context, request: Request) -> Response:
    query = request.query
    limit = query_int(query, "limit", 10_000, 1, 10_000)
    order = query_choice(query, "order", "desc", ("asc", "desc"))
    page = ctx.storage.file_page(
        request.owner,
        now=ctx.now(),
        purpose=query.get("purpose"),
        limit=limit,
        ascending=order == "asc",
        after=query.get("after"),
    )
    # The objects come as JSON text from the storage; only the envelope is encoded here.
    body = (
        f'{{"object": "list", "data": [{", ".join(page.objects)}], "first_id": {json.dumps(page.first_id)}, '
        f'"last_id": {json.dumps(page.last_id)}, "has_more": {json.dumps(page.has_more)}}}'
    ).encode()
    return Response(200, {"content-type": "application/json"}, body, length=len(body))


def _visible_file(ctx: Context, request: Request) -> FileRecord:
    file_id = request.path_params["file_id"]
    record = ctx.storage.file_for_owner(request.owner, file_id, ctx.now())
    if record is None:
        raise not_found(f"No such File object: {file_id}", param="id")
    return record


def retrieve_file(ctx: Context, request: Request) -> Response:
    return json_response(file_object(_visible_file(ctx, request)))


def delete_file(ctx: Context, request: Request) -> Response:
    file_id = request.path_params["file_id"]
    if not ctx.storage.remove_file(request.owner, file_id, ctx.now()):
        raise not_found(f"No such File object: {file_id}", param="id")
    return json_response({"id": file_id, "object": "file", "deleted": True})


def file_content(ctx: Context, request: Request) -> Response:
    record = _visible_file(ctx, request)
    try:
        stream = ctx.storage.blob(record.path).open("rb")
    except FileNotFoundError:
        raise not_found(f"No such File object: {record.id}", param="id") from None
    length = os.fstat(stream.fileno()).st_size
    return Response(200, {"Content-Type": "application/octet-stream"}, stream=stream, length=min(length, record.bytes))
