"""Where jobs keep their state, what a job may be called, and the account a job belongs to.

The state directory holds the SQLite store (`jobs.sqlite3`) and one folder per job (spooled input, shard files
waiting to be uploaded, downloaded result files). It is `OPENAI_BATCHES_STATE_DIR` when set, else
`$XDG_STATE_HOME/openai-batches`, else `~/.local/state/openai-batches`; every call also takes `state_dir=`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from .._exceptions import InvalidParameterError

STATE_DIR_ENV: Final = "OPENAI_BATCHES_STATE_DIR"
STATE_DB: Final = "jobs.sqlite3"
JOBS_FOLDER: Final = "jobs"
# Job names become folder names and batch metadata values: keep them short and plain.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get(STATE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    xdg = env.get("XDG_STATE_HOME", "").strip()
    # The XDG spec says a relative path in the variable is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "openai-batches"
    return Path.home() / ".local" / "state" / "openai-batches"


def resolve_state_dir(state_dir: str | os.PathLike[str] | None) -> Path:
    if state_dir is None:
        return default_state_dir()
    if not isinstance(state_dir, str | os.PathLike) or not str(state_dir).strip():
        raise InvalidParameterError("state_dir", f"expected a directory path, got {state_dir!r}")
    return Path(state_dir).expanduser()


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidParameterError(
            "name",
            f"a job name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit; got {name!r}",
        )
    return name


def job_folder(state_dir: Path, name: str) -> Path:
    return state_dir / JOBS_FOLDER / name


def account_fingerprint(*identity: str) -> str:
    """A short one-way hash of what identifies the account (the key, organization and project on OpenAI): enough to
    tell accounts apart, never the key."""
    material = "\x00".join(("openai-batches-job-account", *identity))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]
