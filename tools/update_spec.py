"""Write openapi.yaml from the upstream OpenAI document, and print what the update changed in API terms.

    python tools/update_spec.py [--upstream PATH] [--output openapi.yaml] [--check] [--extract PATH | --no-extract]

Reads the operations to vendor, the departures from upstream and our short descriptions from spec/ (see
tools/spec_update/config.py), applies the shaping rules (tools/spec_update/derive.py) and writes the fragment: the
same input always gives the same bytes. Prints the changes against the previous openapi.yaml (operations, fields,
enum values, parameters added or removed), the upstream operations under the vendored paths that are not vendored,
and notes (an override that no longer applies, a long description with no short one of ours). A note never stops
the update: upstream reshapes its document now and then, and the fragment is still derived.

When the upstream document is the vendored one (spec/upstream/openai-openapi.yaml), the tool also re-cuts the
extract beside it (openai-batch-files-extract.yaml, which the Prism and server tests read), so that replacing the
vendored document and running `make update-spec` leaves nothing stale. --extract writes it elsewhere.

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
from spec_update.extract import batch_files_extract
from spec_update.provenance import Source, header, read_source
from spec_update.yaml_io import SpecError, dump_yaml, load_openapi, parse_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[1]
VENDORED = Path("upstream") / "openai-openapi.yaml"
EXTRACT = Path("upstream") / "openai-batch-files-extract.yaml"
SUPPLEMENT = Path("upstream") / "batch-jsonl-schemas.yaml"
EXTRACT_HEADER = """\
# Cut from openai-openapi.yaml beside it by `make update-spec` (tools/update_spec.py): do not edit. `make check-spec`
# fails when it differs from what the tool cuts; README.md beside it says what it holds.
"""


def _load(upstream: Path) -> tuple[Mapping[str, Any], Source]:
    root, sha256 = load_openapi(upstream)
    return root, read_source(upstream, sha256, root)


def _fragment(root: Mapping[str, Any], source: Source, spec_dir: Path) -> tuple[str, list[str], list[str]]:
    result = derive(root, load_config(spec_dir))
    text = header(source) + "\n" + dump_yaml(result.fragment)
    return text, result.not_vendored, result.notes


def _extract(root: Mapping[str, Any], source: Source, spec_dir: Path) -> str:
    path = spec_dir / SUPPLEMENT
    supplement = read_yaml(path, "the batch line formats")
    schemas = supplement.get("schemas") if isinstance(supplement, Mapping) else None
    origin = supplement.get("source") if isinstance(supplement, Mapping) else None
    if not isinstance(schemas, Mapping) or not isinstance(origin, str):
        raise SpecError(f"{path}: expected `source:` (where the schemas come from) and `schemas:` (name -> schema)")
    return EXTRACT_HEADER + dump_yaml(batch_files_extract(root, source.summary(), schemas, origin))


def render(upstream: Path, spec_dir: Path) -> tuple[str, list[str], list[str]]:
    """The fragment's text, the upstream operations not vendored, and notes."""
    root, source = _load(upstream)
    return _fragment(root, source, spec_dir)


def render_extract(upstream: Path, spec_dir: Path) -> str:
    """The text of the extract `make update-spec` cuts from `upstream`."""
    root, source = _load(upstream)
    return _extract(root, source, spec_dir)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from None


def _previous(output: Path) -> tuple[str | None, Mapping[str, Any]]:
    text = _read(output)
    if text is None:
        return None, {}
    try:
        data = parse_yaml(text, str(output))
    except SpecError:
        return text, {}  # unreadable: every change counts as new
    return text, data if isinstance(data, Mapping) else {}


def _write(output: Path, text: str) -> None:
    # Beside the target and renamed, so an interrupted run never leaves half a spec.
    fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); the spec is an ordinary file, readable as the umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
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
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--extract",
        type=Path,
        help="where to write the extract cut from --upstream (default: beside it, if it is the vendored document)",
    )
    where.add_argument("--no-extract", action="store_true", help="cut no extract")
    args = parser.parse_args(argv)
    output: Path = args.output
    extract: Path | None = args.extract
    if extract is None and not args.no_extract and args.upstream.resolve() == (args.spec_dir / VENDORED).resolve():
        extract = args.spec_dir / EXTRACT
    try:
        root, source = _load(args.upstream)
        text, not_vendored, notes = _fragment(root, source, args.spec_dir)
        before, previous = _previous(output)
        extract_text = _extract(root, source, args.spec_dir) if extract is not None else None
        extract_before = _read(extract) if extract is not None else None
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
    extract_changed = extract is not None and extract_before != extract_text
    cut = display_path(extract) if extract is not None else ""
    if extract is not None:
        if not extract_changed:
            print(f"{cut} is up to date with {display_path(args.upstream)}")
        elif args.check:
            print(f"{cut} differs from what `make update-spec` cuts from {display_path(args.upstream)}")
        else:
            print(f"{cut} re-cut from {display_path(args.upstream)}")
    if (changed or extract_changed) and args.check:
        stale = " and ".join([*([name] if changed else []), *([cut] if extract_changed else [])])
        print(f"run `make update-spec` to rewrite {stale} (hand edits belong in spec/overrides.yaml)", file=sys.stderr)
        return 1
    writes = [(output, text)] if changed else []
    if extract is not None and extract_changed and extract_text is not None:
        writes.append((extract, extract_text))
    for path, content in writes:
        try:
            _write(path, content)
        except OSError as exc:
            print(f"update_spec: error: cannot write {path}: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
