"""Where an upstream document came from (its `<name>.source.yaml` beside it), and the header openapi.yaml carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .yaml_io import SpecError, read_yaml

FIELDS = ("repository", "branch", "commit", "date", "licence", "sha256")
REQUIRED = ("repository", "commit", "date", "sha256")


@dataclass(frozen=True)
class Source:
    file_name: str
    sha256: str
    version: str
    record: Mapping[str, str] | None
    """The fields of `<name>.source.yaml`, or None when the document came without one."""

    def lines(self) -> list[str]:
        version = f"info.version {self.version}" if self.version else "no info.version"
        file = f"{version}; file {self.file_name}, SHA-256 {self.sha256}"
        if self.record is None:
            unknown = f"no {source_file_name(self.file_name)} beside it: repository, commit and date unknown"
            return [f"Upstream: {unknown};", file]
        r = self.record
        branch = f", branch {r['branch']}" if r.get("branch") else ""
        return [f"Upstream: {r['repository']}{branch}, commit {r['commit']} ({r['date']}),", file]

    def summary(self) -> str:
        """Where the document comes from, in one line (the description of the vendored extract)."""
        version = f"info.version {self.version}" if self.version else "no info.version"
        if self.record is None:
            return f"file {self.file_name}, SHA-256 {self.sha256}, {version}; repository, commit and date unknown"
        r = self.record
        branch = f", branch {r['branch']}" if r.get("branch") else ""
        return f"{r['repository']}{branch}, commit {r['commit']}, {r['date']}, {version}"


def source_file_name(file_name: str) -> str:
    stem = file_name.removesuffix(".gz").removesuffix(".yaml").removesuffix(".yml").removesuffix(".json")
    return f"{stem}.source.yaml"


def read_source(upstream: Path, sha256: str, root: Mapping[str, Any]) -> Source:
    """The provenance of `upstream`; the record beside it must describe these very bytes."""
    info = root.get("info")
    version = str(info.get("version", "")) if isinstance(info, Mapping) else ""
    record_path = upstream.with_name(source_file_name(upstream.name))
    if not record_path.exists():
        return Source(upstream.name, sha256, version, None)
    data = read_yaml(record_path, "source record")
    if not isinstance(data, Mapping):
        raise SpecError(f"{record_path}: expected a mapping with {', '.join(REQUIRED)}")
    record = {str(k): str(v) for k, v in data.items() if v is not None}
    missing = [k for k in REQUIRED if not record.get(k)]
    unknown = [k for k in record if k not in FIELDS]
    if missing or unknown:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        raise SpecError(f"{record_path}: {detail} (fields: {', '.join(FIELDS)})")
    if record["sha256"] != sha256:
        raise SpecError(
            f"{record_path} describes another file (SHA-256 {record['sha256']}), not {upstream.name} "
            f"(SHA-256 {sha256}); update its commit, date and sha256 for the new document"
        )
    return Source(upstream.name, sha256, version, record)


RULES = """\
# Shaping rules, applied the same way to every operation (tools/spec_update/derive.py):
# - response enums are open (anyOf [enum, string]) so a value the API adds later is kept, not rejected;
#   request-body enums too, except constants; parameter enums stay closed;
# - every optional response field is nullable (the service sends null where upstream says it cannot);
# - only 200 responses are declared; the overlay maps every other status and body to its own errors;
# - bounds upstream states only in prose are added; our short descriptions replace long ones."""


def header(source: Source) -> str:
    return "\n".join(
        [
            "# Derived from the upstream OpenAI document by `make update-spec` (tools/update_spec.py): do not edit;",
            "# `make check-spec` (in `make check` and CI) fails when this file differs from what the tool writes.",
            *(f"#{'   ' if i else ' '}{line}" for i, line in enumerate(source.lines())),
            "#",
            "# Vendored operations: spec/operations.yaml. Departures from upstream, each with its reason:",
            "# spec/overrides.yaml. Our short descriptions: spec/descriptions.yaml.",
            RULES,
        ]
    )
