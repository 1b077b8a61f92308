"""Reading real OpenAPI documents (messy ones included) and writing ours byte for byte the same every time."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent

# PyYAML built without libyaml lacks CSafeLoader; SafeLoader gives the same result, several times slower.
_FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecError(Exception):
    """An input the tool cannot use: unreadable, not YAML, not OpenAPI, or a configuration mistake."""


class TolerantLoader(yaml.SafeLoader):
    """A safe loader that accepts an anchor defined twice, the later definition winning.

    YAML 1.2 allows redefining an anchor (an alias refers to the closest preceding definition); PyYAML refuses it, and
    the upstream document of 2024-05-09 defines `run_temperature_description` twice.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.check_event(AliasEvent):
            anchor = getattr(self.peek_event(), "anchor", None)  # type: ignore[no-untyped-call]
            if anchor is not None:
                self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


def parse_yaml(text: str, label: str) -> Any:
    try:
        return yaml.load(text, Loader=_FastLoader)
    except ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            raise SpecError(f"{label} is not valid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{label} is not valid YAML: {exc}") from None
    try:
        return yaml.load(text, Loader=TolerantLoader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{label} is not valid YAML: {exc}") from None


def read_stored(path: Path, what: str) -> bytes:
    """The file's bytes as stored (what its SHA-256 is taken of)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{what}: no such file: {path}") from None
    except OSError as exc:
        raise SpecError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


def _text(path: Path, stored: bytes, what: str) -> str:
    data = stored
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise SpecError(f"{what}: {path} is not a readable gzip file: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{what}: {path} is not UTF-8 text: {exc}") from None


def read_yaml(path: Path, what: str) -> Any:
    """A YAML file (gzipped if its name ends in .gz)."""
    return parse_yaml(_text(path, read_stored(path, what), what), f"{what}: {path}")


def load_openapi(path: Path, what: str = "upstream") -> tuple[Mapping[str, Any], str]:
    """An OpenAPI 3.x document and the SHA-256 of the file as stored."""
    stored = read_stored(path, what)
    root = parse_yaml(_text(path, stored, what), f"{what}: {path}")
    if not isinstance(root, Mapping) or not str(root.get("openapi", "")).startswith("3."):
        raise SpecError(f"{what}: {path} is not an OpenAPI 3.x document (no `openapi: 3.x` at the top)")
    if not isinstance(root.get("paths"), Mapping):
        raise SpecError(f"{what}: {path} has no `paths` mapping")
    return root, hashlib.sha256(stored).hexdigest()


class _Dumper(yaml.SafeDumper):
    """The pure-Python dumper: the same bytes whether or not PyYAML was built with libyaml."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        # Lists indented under their key, as people write them.
        return super().increase_indent(flow, False)


def dump_yaml(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False
    )
    return text
