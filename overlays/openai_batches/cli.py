"""The `openai-batches` command line.

    openai-batches serve --port 8000 --data-dir ./batches-data   # the local Batch API server

The server is a separate package in the same wheel; only this command imports it, the client library never does.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="openai-batches", description="Tools for the OpenAI Batch API.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "serve", help="run the local Batch and Files API server (see `openai-batches serve --help`)", add_help=False
    )
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if args else 2
    if args[0] == "serve":
        # Imported here so that the client library never loads the server.
        from openai_batches_server.cli import main as serve

        return serve(args[1:])
    parser.error(f"unknown command {args[0]!r}")
    return 2  # parser.error exits; this satisfies the type checker


if __name__ == "__main__":
    sys.exit(main())
