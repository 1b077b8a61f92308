"""`python -m openai_batches_server serve ...`: the same as `openai-batches serve ...`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
