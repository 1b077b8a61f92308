"""Cut a small, self-contained extract of an upstream document: some paths and everything they reference."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from .yaml_io import SpecError

# The request and response examples of the API reference: the bulk of each operation, and nothing a client uses.
DROPPED_OPERATION_KEYS = frozenset({"x-oaiMeta"})
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _pointer(ref: str) -> tuple[str, ...]:
    if not ref.startswith("#/"):
        raise SpecError(f"only local $refs can be extracted, got {ref!r}")
    return tuple(unquote(p).replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))


def _path_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: {k: v for k, v in value.items() if k not in DROPPED_OPERATION_KEYS}
        if key in METHODS and isinstance(value, Mapping)
        else value
        for key, value in item.items()
    }


def _close(root: Mapping[str, Any], pending: list[str], components: dict[str, dict[str, Any]]) -> None:
    """Add to `components` every component the refs in `pending` reach, transitively."""
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        parts = _pointer(ref)
        if len(parts) != 3 or parts[0] != "components":
            raise SpecError(f"cannot extract $ref {ref!r}: only `#/components/<kind>/<name>` is supported")
        node: Any = root.get("components", {}).get(parts[1], {}).get(parts[2])
        if node is None:
            node = components.get(parts[1], {}).get(parts[2])
            if node is None:
                raise SpecError(f"$ref {ref!r} points to nothing")
        components.setdefault(parts[1], {})[parts[2]] = node
        pending.extend(_refs(node))


def cut(
    root: Mapping[str, Any],
    resources: Iterable[str],
    schemas: Iterable[str] = (),
    keep_examples: bool = False,
) -> dict[str, Any]:
    """The paths whose first segment is one of `resources`, with every component they reference (transitively).

    `schemas` names more schemas to keep with what they reference, those the document has; `keep_examples` keeps
    the operation examples (`x-oaiMeta`).
    """
    wanted = set(resources)
    paths = {
        str(path): _path_item(item) if not keep_examples else dict(item)
        for path, item in root["paths"].items()
        if str(path).split("/")[1:2] and str(path).split("/")[1] in wanted and isinstance(item, Mapping)
    }
    if not paths:
        raise SpecError(f"the document has no path under {', '.join('/' + r for r in sorted(wanted))}")
    components: dict[str, dict[str, Any]] = {}
    available = (root.get("components") or {}).get("schemas") or {}
    extra = [f"#/components/schemas/{name}" for name in schemas if name in available]
    _close(root, [*_refs(paths), *extra], components)

    security = root.get("security")
    schemes = (root.get("components") or {}).get("securitySchemes") or {}
    used_schemes = {name for requirement in security or [] for name in requirement}
    if used_schemes:
        components["securitySchemes"] = {name: schemes[name] for name in sorted(used_schemes) if name in schemes}
    used_tags = {
        tag
        for item in paths.values()
        for op in item.values()
        if isinstance(op, Mapping)
        for tag in op.get("tags") or []
    }

    extract: dict[str, Any] = {"openapi": root["openapi"]}
    for key in ("info", "servers", "security"):
        if key in root:
            extract[key] = root[key]
    tags = [t for t in root.get("tags") or [] if isinstance(t, Mapping) and t.get("name") in used_tags]
    if tags:
        extract["tags"] = tags
    extract["paths"] = paths
    extract["components"] = {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())}
    return extract


# The schemas of the vendored extract besides those the paths reference: the error body every failed call returns.
ERROR_SCHEMAS = ("Error", "ErrorResponse")
EXTRACT_TITLE = "OpenAI API - Batch and Files extract"


def batch_files_extract(
    root: Mapping[str, Any], provenance: str, supplement: Mapping[str, Any], supplement_source: str
) -> dict[str, Any]:
    """The extract of the vendored document the Prism and server tests read (spec/upstream/README.md).

    The /batches and /files paths, examples kept, with what they reference and the error schemas; then each schema
    of `supplement` the document lacks (the batch JSONL line formats, which the document on main dropped), so that
    a newer document that defines them again is taken as upstream wrote it.
    """
    extract = cut(root, ["batches", "files"], ERROR_SCHEMAS, keep_examples=True)
    components: dict[str, dict[str, Any]] = {k: dict(v) for k, v in extract["components"].items()}
    schemas = components.setdefault("schemas", {})
    carried = [name for name in supplement if name not in schemas]
    for name in carried:
        schemas[name] = supplement[name]
    _close(root, [ref for name in carried for ref in _refs(supplement[name])], components)
    extract["components"] = {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())}
    description = (
        f"Extract of the OpenAI OpenAPI spec ({provenance}) limited to the Batch and Files paths plus every "
        f"component they reference, and {' / '.join(ERROR_SCHEMAS)}."
    )
    if carried:
        verb, pronoun = ("is", "it is") if len(carried) == 1 else ("are", "they are")
        description += f" {' and '.join(carried)} {verb} not in that spec; {pronoun} copied from {supplement_source}."
    info = root.get("info")
    extract["info"] = {
        "title": EXTRACT_TITLE,
        "description": description,
        **{k: v for k, v in (info if isinstance(info, Mapping) else {}).items() if k not in ("title", "description")},
    }
    return extract
