"""`python -m openai_batches ...` runs the same command line as the `openai-batches` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
