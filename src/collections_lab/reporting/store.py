"""Atomic file writes and the run log (``reports/runs.json``) the index page is built from.

Every file the runner publishes is written with the data floor's atomic writers
(:mod:`collections_lab.data.files`, re-exported here): a temporary file in the same
directory moved into place with :func:`os.replace`, so a reader (a browser, a file sync,
a crashed run) sees either the old file or the new one, never half of one. The run log is updated
under an exclusive lock, so overlapping runs (two cron jobs, ``run-batch --jobs 2``) do
not lose each other's records.

Example
-------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = atomic_write_text(d / "a.txt", "hello")
>>> (d / "a.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from ..data.files import atomic_write_bytes, atomic_write_text

try:  # POSIX; on other systems runs are simply not protected against overlap
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["append_run", "atomic_write_bytes", "atomic_write_text", "locked", "read_runs"]

RUN_LOG = "runs.json"
#: Runs kept in the history; older records are dropped from the log (not the reports).
MAX_RUNS = 500


@contextlib.contextmanager
def locked(reports_dir: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<reports_dir>/.lock`` while updating shared files."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with open(reports_dir / ".lock", "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def read_runs(reports_dir: str | Path) -> list[dict]:
    """The run records in ``<reports_dir>/runs.json``, oldest first ([] if none yet).

    A corrupt log is an error naming the file (it is never silently reset).
    """
    path = Path(reports_dir) / RUN_LOG
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: run log is not valid JSON ({exc}); fix or remove it") from exc
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ValueError(f"{path}: expected an object with a 'runs' list")
    return data["runs"]


def append_run(reports_dir: str | Path, record: dict) -> list[dict]:
    """Append one run record to the log; returns the updated runs (oldest first).

    Callers that also rebuild the index should hold :func:`locked` themselves; this
    function takes no lock of its own so it can be used inside one.
    """
    runs = read_runs(reports_dir) + [record]
    runs = runs[-MAX_RUNS:]
    text = json.dumps({"version": 1, "runs": runs}, indent=2, ensure_ascii=False, default=str)
    atomic_write_text(Path(reports_dir) / RUN_LOG, text + "\n")
    return runs
