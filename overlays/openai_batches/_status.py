"""Which batch statuses are final."""

from __future__ import annotations

from typing import Final

from ._generated import Batch, BatchStatus

TERMINAL_STATUSES: Final = frozenset(
    {BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.EXPIRED, BatchStatus.CANCELLED}
)


def is_terminal(status: Batch | BatchStatus | str) -> bool:
    """True once a batch can change no more: completed, failed, expired or cancelled.

    A status this version does not know is not terminal, so a poller keeps waiting rather than stopping early.

    Args:
        status: A batch, a `BatchStatus`, or a status string.

    Returns:
        True for completed, failed, expired or cancelled.
    """
    value = status.status if isinstance(status, Batch) else status
    # A server may send anything as the status; only strings can name a final state.
    return isinstance(value, str) and value in TERMINAL_STATUSES
