"""Cut a small extract of an upstream OpenAI document (the /batches and /files paths and what they reference).

    python tools/cut_spec_extract.py SOURCE.yaml[.gz] --output spec/history/NAME.yaml \\
        --repository openai/openai-openapi --commit SHA --date YYYY-MM-DD [--resource batches --resource files]

Writes the extract and, beside it, `NAME.source.yaml` (repository, commit, date, licence, SHA-256 of the extract),
which `make update-spec` copies into the header of openapi.yaml. The same source always gives the same bytes, so a
vendored extract can be re-cut and compared. Operation examples (`x-oaiMeta`) are left out; everything else is kept
as upstream wrote it, OpenAPI 3.0 `nullable` included. A source that defines a YAML anchor twice is read with the
later definition winning.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from spec_update.extract import cut
from spec_update.provenance import source_file_name
from spec_update.yaml_io import SpecError, dump_yaml, load_openapi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("source", type=Path, help="the whole upstream document (.yaml or .yaml.gz)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--date", required=True)
    parser.add_argument("--licence", default="MIT")
    parser.add_argument("--resource", action="append", help="first path segment to keep (default: batches, files)")
    args = parser.parse_args(argv)
    try:
        root, source_sha = load_openapi(args.source, "source")
        extract = cut(root, args.resource or ["batches", "files"])
    except SpecError as exc:
        print(f"cut_spec_extract: error: {exc}", file=sys.stderr)
        return 2
    comment = (
        f"# An extract of the OpenAI API description, {args.repository} at commit {args.commit} ({args.date}),\n"
        f"# licence {args.licence}: the paths under {', '.join('/' + r for r in args.resource or ['batches', 'files'])}"
        " and every component they reference,\n"
        "# operation examples (x-oaiMeta) left out. Cut by tools/cut_spec_extract.py; see README.md beside it.\n"
    )
    data = (comment + dump_yaml(extract)).encode("utf-8")
    args.output.write_bytes(data)
    record = {
        "repository": args.repository,
        "commit": args.commit,
        "date": args.date,
        "licence": args.licence,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    note = f"# Where {args.output.name} comes from (cut from a file with SHA-256 {source_sha}).\n"
    args.output.with_name(source_file_name(args.output.name)).write_text(note + dump_yaml(record), encoding="utf-8")
    print(f"wrote {args.output} ({len(data)} bytes, {len(extract['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
