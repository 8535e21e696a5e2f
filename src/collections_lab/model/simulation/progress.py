"""Progress bars for long simulations: on when a person watches, off in scheduled reports."""

from __future__ import annotations

import os
import sys

from .engine import BLOCK

REPORT_ENV = "COLLECTIONS_LAB_REPORT"  # set by the report runner for its kernels


def interactive() -> bool:
    """A person is watching: a terminal, or a Jupyter kernel that is not a scheduled
    report run (the report runner sets ``COLLECTIONS_LAB_REPORT`` for its kernels, so
    reports and cron logs stay free of progress bars)."""
    if os.environ.get(REPORT_ENV):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def progress_bar(progress: bool | None, total: int):
    """A tqdm bar for long runs (``progress=None``: only when :func:`interactive`)."""
    if progress is None:
        progress = total > 10 * BLOCK and interactive()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="invoice", desc="simulating")
