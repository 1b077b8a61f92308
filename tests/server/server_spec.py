"""The local server's own view of the API, derived from the client's `openapi.yaml` when the fuzz test runs.

The client's document is shaped for a client that must survive what the real API sends: only 200 responses, open
request enums (`anyOf: [Enum, string]`) so that a value the API adds later is not refused before sending. A fuzzer
reading it as it is would flag every correct refusal by the server. This view keeps every path, parameter and 200
schema as they are and changes only what the server really does differently, so that a status or body outside it
is a real finding:

- the error answers the server sends, per operation, each with the API's error body (`{"error": {"message", "type",
  "param", "code"}}`, nothing else);
- request enums closed to today's values, which is what the server (and the service) accepts;
- request objects closed (`additionalProperties: false`): the server refuses unknown parameters, as the service does;
- the documented limits the server enforces written into the request schemas: metadata (16 pairs, keys up to 64
  characters, values up to 512), and `expires_after[anchor]` / `[seconds]` given together or not at all.

`openapi.yaml` itself is never edited: `build()` returns a new document.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ERROR_SCHEMA = "ServerError"
ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": "Every error the local server answers with: the API's error shape, nothing more.",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
WHY = {
    400: "The request is malformed or a parameter is invalid (the error names it).",
    401: "No API key, or one the server was not started with.",
    404: "No such object for this API key.",
    409: "The batch can no longer be cancelled, or an Idempotency-Key was reused with another request.",
    413: "The body is over its size limit.",
    408: "The request body stopped arriving, arrived too slowly, or did not arrive whole in time.",
    503: "The server has as many connections, or uploads, as it takes at once; retry after Retry-After.",
}
# The errors each operation can answer with, by operationId. Any request may meet the connection cap (503); those
# that send a body may be too slow with it (408); an upload may also meet the upload cap (503).
ERRORS: dict[str, tuple[int, ...]] = {
    "createBatch": (400, 401, 408, 409, 413, 503),
    "listBatches": (400, 401, 503),
    "retrieveBatch": (401, 404, 503),
    "cancelBatch": (401, 404, 409, 503),
    "createFile": (400, 401, 408, 409, 413, 503),
    "listFiles": (400, 401, 503),
    "retrieveFile": (401, 404, 503),
    "deleteFile": (401, 404, 503),
    "downloadFile": (401, 404, 503),
}
METADATA_LIMITS: dict[str, Any] = {
    "type": "object",
    "maxProperties": 16,
    "propertyNames": {"maxLength": 64},
    "additionalProperties": {"type": "string", "maxLength": 512},
}
PAIRED_FORM_FIELDS = ("expires_after[anchor]", "expires_after[seconds]")


def build(client_spec: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(client_spec.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    schemas[ERROR_SCHEMA] = ERROR_COMPONENT
    declared = set()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            operation_id = operation["operationId"]
            assert operation_id in ERRORS, f"openapi.yaml has an operation the server view lacks: {operation_id}"
            declared.add(operation_id)
            for status in ERRORS[operation_id]:
                operation["responses"][str(status)] = {
                    "description": WHY[status],
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}},
                }
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _closed(parameter["schema"], schemas)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                media["schema"] = _closed(media["schema"], schemas)
    missing = set(ERRORS) - declared
    assert not missing, f"operations the server view expects but openapi.yaml lacks: {missing}"
    return document


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return dict(schemas[ref.rsplit("/", 1)[1]]) if ref.startswith("#/components/schemas/") else schema


def _closed(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """A request schema as the server reads it: enums closed, objects closed, documented limits written in.

    Component references are inlined on the way, so the 200 schemas that share a component keep the client's shape.
    """
    schema = copy.deepcopy(_resolve(schema, schemas))
    options = schema.get("anyOf")
    if options:
        enums = [option for option in options if "enum" in _resolve(option, schemas)]
        open_strings = [option for option in options if option == {"type": "string"}]
        if enums and open_strings:
            # anyOf [Enum, string]: open for the client, closed for the server.
            options = [option for option in options if option not in open_strings]
        schema["anyOf"] = [_closed(option, schemas) for option in options]
        if len(schema["anyOf"]) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **schema["anyOf"][0]}
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
        properties = schema["properties"]
        for name, child in list(properties.items()):
            properties[name] = _metadata(child, schemas) if name == "metadata" else _closed(child, schemas)
        if all(name in properties for name in PAIRED_FORM_FIELDS):
            first, second = PAIRED_FORM_FIELDS
            schema["dependentRequired"] = {first: [second], second: [first]}
    return schema


def _metadata(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    closed = _closed(schema, schemas)
    if "anyOf" in closed:
        closed["anyOf"] = [METADATA_LIMITS if option.get("type") == "object" else option for option in closed["anyOf"]]
        return closed
    return {**closed, **METADATA_LIMITS}
