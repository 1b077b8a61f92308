"""Write openapi.yaml from the upstream OpenAI document, and print what the update changed in API terms.

    python tools/update_spec.py [--upstream PATH] [--output openapi.yaml] [--check]

Reads the operations to vendor, the departures from upstream and our short descriptions from spec/ (see
tools/spec_update/config.py), applies the shaping rules (tools/spec_update/derive.py) and writes the fragment: the
same input always gives the same bytes. Prints the changes against the previous openapi.yaml (operations, fields,
enum values, parameters added or removed), the upstream operations under the vendored paths that are not vendored,
and notes (an override that no longer applies, a long description with no short one of ours).

--check writes nothing and exits 1 if the output would change (`make check-spec`, `make spec-drift`).
Exit status: 0 written or up to date, 1 --check found a difference, 2 an input error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spec_update.changes import compare
from spec_update.config import load_config
from spec_update.derive import derive
from spec_update.provenance import header, read_source
from spec_update.yaml_io import SpecError, dump_yaml, load_openapi, parse_yaml

ROOT = Path(__file__).resolve().parents[1]


def render(upstream: Path, spec_dir: Path) -> tuple[str, list[str], list[str]]:
    """The fragment's text, the upstream operations not vendored, and notes."""
    root, sha256 = load_openapi(upstream)
    result = derive(root, load_config(spec_dir))
    text = header(read_source(upstream, sha256, root)) + "\n" + dump_yaml(result.fragment)
    return text, result.not_vendored, result.notes


def _previous(output: Path) -> tuple[str | None, Mapping[str, Any]]:
    try:
        text = output.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {output}: {exc}") from None
    try:
        data = parse_yaml(text, str(output))
    except SpecError:
        return text, {}  # unreadable: every change counts as new
    return text, data if isinstance(data, Mapping) else {}


def _write(output: Path, text: str) -> None:
    # Beside the target and renamed, so an interrupted run never leaves half a spec.
    fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument(
        "--upstream",
        type=Path,
        default=ROOT / "spec" / "upstream" / "openai-openapi.yaml",
        help="the upstream OpenAI document (default: the vendored copy)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "openapi.yaml", help="the fragment to write")
    parser.add_argument("--spec-dir", type=Path, default=ROOT / "spec", help="where operations.yaml etc. live")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output would change")
    args = parser.parse_args(argv)
    output: Path = args.output
    try:
        text, not_vendored, notes = render(args.upstream, args.spec_dir)
        before, previous = _previous(output)
    except SpecError as exc:
        print(f"update_spec: error: {exc}", file=sys.stderr)
        return 2

    changelog = compare(previous, parse_yaml(text, "the derived fragment"))
    changed = before != text
    name = display_path(output)
    if not changed:
        print(f"{name} is up to date with {display_path(args.upstream)}")
    elif args.check:
        print(f"{name} differs from what `make update-spec` writes from {display_path(args.upstream)}:")
    else:
        print(f"{name} updated from {display_path(args.upstream)}:")
    if changed:
        lines = changelog.lines() or ["no API change (the header or layout differs)"]
        print("\n".join(f"  {line}" for line in lines))
    if not_vendored:
        print("upstream operations under the vendored paths that are not vendored (add to spec/operations.yaml):")
        print("\n".join(f"  {label}" for label in not_vendored))
    if notes:
        print("notes:")
        print("\n".join(f"  {note}" for note in notes))
    if changed and args.check:
        print(f"run `make update-spec` to rewrite {name} (hand edits belong in spec/overrides.yaml)", file=sys.stderr)
        return 1
    if changed:
        try:
            _write(output, text)
        except OSError as exc:
            print(f"update_spec: error: cannot write {output}: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
