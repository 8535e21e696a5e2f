"""Loading portfolios from CSV, Parquet, DuckDB and any SQLAlchemy database.

:func:`load_table` reads one table of the schema, :func:`load_portfolio` all five. A
source is

- a CSV file (``,`` or ``;`` separated, decimal point or comma, ISO or day-first dates,
  UTF-8 with or without BOM, latin-1 / Windows-1252 as a reported fallback), ``.csv.gz``
  too; or a Parquet file;
- a directory holding ``<table>.csv`` / ``<table>.parquet`` files (what
  :meth:`Portfolio.save <collections_lab.data.portfolio.Portfolio.save>` writes);
- a DuckDB database file (``.duckdb``) or a SQLAlchemy URL (``sqlite:///ar.db``,
  ``postgresql://...``), tables by name;
- a pandas DataFrame (``load_table`` only).

A column mapping (:mod:`collections_lab.data.mapping`: a dict, a YAML path or a preset name
such as ``"es_contable"``) renames an export's columns and tables and says how its dates
and numbers are written. Rows that break the schema's rules are rejected and reported
(:class:`~collections_lab.data.validation.LoadReport`), never dropped silently;
``strict=True`` raises :class:`~collections_lab.data.validation.ValidationError` instead.

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "facturas.csv").write_text(
...     "Nº Factura;Cliente;Fecha emisión;Fecha vencimiento;Importe;Moneda\\n"
...     "F-1;C-1;01/02/2025;03/03/2025;1.234,50;COP\\n", encoding="utf-8")
>>> invoices, report = load_table(folder / "facturas.csv", "invoices", mapping="es_contable")
>>> float(invoices.loc[0, "amount"]), str(invoices.loc[0, "issue_date"].date())
(1234.5, '2025-02-01')
>>> report.summary()
'Read 1 rows from 1 table: 1 used, 0 rejected.'
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .csv_reader import read_csv
from .mapping import ColumnMapping
from .portfolio import Portfolio
from .schema import TABLES
from .validation import (
    LoadReport,
    RawTable,
    ValidationError,
    ValidationIssue,
    conform,
    validate_tables,
)

#: File suffixes read as CSV and as Parquet.
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
_SQLITE_MAGIC = b"SQLite format 3\x00"


# ================================================================= public functions
def load_table(source, table: str, mapping=None, strict: bool = False,
               keep_extra: bool = False, **dialect) -> tuple[pd.DataFrame, LoadReport]:  # fmt: skip
    """Load one table of the schema and validate it; returns ``(frame, report)``.

    Args:
        source: a CSV / Parquet file, a directory of table files, a ``.duckdb`` file, a
            SQLAlchemy URL or engine, or a DataFrame.
        table: schema table name (``"invoices"``, ``"payments"``, ...).
        mapping: column mapping (ColumnMapping, dict, YAML path or preset name).
        strict: raise :class:`ValidationError` if any row is rejected.
        keep_extra: keep columns the schema does not know (after the schema's columns).
        **dialect: overrides of the mapping's dialect: ``separator``, ``decimal``,
            ``dayfirst``, ``date_formats``, ``encoding``.

    Rows are rejected (and listed in the report) rather than dropped; problems with the
    whole file raise :class:`ValidationError` naming the file and column. Amounts come
    back as float64 in the file's currency, dates as datetime64[ns] at midnight.

    >>> import pandas as pd
    >>> frame, report = load_table(pd.DataFrame({"invoice_id": ["F1", "F1"],
    ...     "paid_at": ["2025-01-03", "2025-01-04"], "amount": ["10", "-2"]}), "payments")
    >>> len(frame), report.rows_rejected
    (1, 1)
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; tables are {list(TABLES)}")
    mapping = ColumnMapping.coerce(mapping).with_options(**dialect)
    raw = read_raw(source, table, mapping, required=True)
    load = conform(raw, mapping, keep_extra=keep_extra)
    report = LoadReport({table: load.report})
    if strict:
        report.raise_if_rejected()
    return load.frame, report


def load_portfolio(source, mapping=None, strict: bool = False, keep_extra: bool = False,
                   **dialect) -> Portfolio:  # fmt: skip
    """Load and cross-check the five tables of a portfolio; returns a :class:`Portfolio`.

    ``source`` is a directory of ``<table>.csv`` / ``<table>.parquet`` files (the names
    the mapping gives, e.g. ``facturas.csv`` with the ``es_contable`` preset), a
    ``.duckdb`` file or a SQLAlchemy URL. An invoices table is required; without a
    customers table the customers are derived from the invoices; other missing tables
    are empty. Besides each table's own rules, rows pointing at a missing customer or
    invoice, and payments before their invoice's issue date, are rejected.

    The :class:`~collections_lab.data.validation.LoadReport` (rows read / used / rejected per
    table, with reasons) is attached as ``portfolio.load_report``. With ``strict=True``
    any reject raises :class:`ValidationError` listing all of them.

    >>> from collections_lab.data.portfolio import Portfolio
    >>> import pandas as pd, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> inv = pd.DataFrame({"invoice_id": ["F1"], "customer_id": ["C1"],
    ...     "issue_date": pd.to_datetime(["2025-01-01"]),
    ...     "due_date": pd.to_datetime(["2025-01-31"]), "amount": [99.5], "currency": ["EUR"]})
    >>> _ = Portfolio(pd.DataFrame({"customer_id": ["C1"]}), inv).save(folder)
    >>> load_portfolio(folder).invoices.loc[0, "amount"]
    np.float64(99.5)
    """
    mapping = ColumnMapping.coerce(mapping).with_options(**dialect)
    if isinstance(source, str | Path) and Path(source).is_file():
        if _file_kind(Path(source)) in ("csv", "parquet"):
            raise _file_error(str(source), "invoices",
                              "load_portfolio reads a directory of table files, a DuckDB / "
                              "SQLite file or a database URL; load one file with load_table")  # fmt: skip
    raws: dict[str, RawTable | None] = {}
    file_issues: list[ValidationIssue] = []
    for name in TABLES:
        try:
            raws[name] = read_raw(source, name, mapping, required=(name == "invoices"))
        except ValidationError as exc:
            file_issues.extend(exc.issues)
    if file_issues:
        raise ValidationError(file_issues)
    frames, report = validate_tables(raws, mapping, strict=strict, keep_extra=keep_extra)
    return Portfolio(**frames, source=_describe(source), load_report=report)


# ===================================================================== dispatching
def read_raw(source, table: str, mapping: ColumnMapping, required: bool = True) -> RawTable | None:
    """Read one table from any source, unvalidated (``None`` if absent and not required)."""
    if isinstance(source, pd.DataFrame):
        return RawTable(table, source.reset_index(drop=True), "<DataFrame>", unit="row")
    if _is_sqlalchemy(source):
        return _read_sql(source, table, mapping, required)
    if _is_duckdb_connection(source):
        return _read_duckdb(source, table, mapping, required, label="<duckdb>")
    text = str(source)
    if "://" in text and not Path(text).exists():
        return _read_sql(text, table, mapping, required)
    path = Path(text)
    if not path.exists():
        raise _file_error(text, table, "file or directory not found")
    if path.is_dir():
        found = _find_table_file(path, table, mapping)
        if found is None:
            if required:
                raise _file_error(str(path), table, _absent_message(path, table, mapping))
            return None
        path, note = found
        raw = read_file(path, table, mapping)
        if note:
            raw.notes.append(note)
        return raw
    kind = _file_kind(path)
    if kind == "duckdb":
        return _read_duckdb(path, table, mapping, required, label=str(path))
    if kind == "sqlite":
        return _read_sql(f"sqlite:///{path}", table, mapping, required, label=str(path))
    return read_file(path, table, mapping)


def read_file(path: Path, table: str, mapping: ColumnMapping) -> RawTable:
    """Read a CSV or Parquet file (chosen by suffix, then by content) as a raw table."""
    kind = _file_kind(path)
    if kind == "parquet":
        return _read_parquet(path, table)
    return read_csv(path, table, mapping)


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return "csv"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    return "csv"


def _find_table_file(folder: Path, table: str, mapping: ColumnMapping):
    """The file holding ``table`` in ``folder`` (and a note if several candidates exist)."""
    names = [mapping.source_name(table), table]
    by_lower = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    found = []
    for name in dict.fromkeys(names):
        for suffix in PARQUET_SUFFIXES + CSV_SUFFIXES:
            hit = by_lower.get(f"{name}{suffix}".lower())
            if hit is not None:
                found.append(hit)
    if not found:
        return None
    note = None
    if len(found) > 1:  # Parquet first: it keeps the types exactly
        note = (f"several files for {table}: {', '.join(p.name for p in found)}; "
                f"read {found[0].name}")  # fmt: skip
    return found[0], note


def _absent_message(folder: Path, table: str, mapping: ColumnMapping) -> str:
    names = sorted({mapping.source_name(table), table})
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    return (f"no file for table {table!r} (looked for {' / '.join(names)} with suffix "
            f".csv or .parquet); files found: {', '.join(files) or 'none'}. "
            f"Name the file in the mapping: tables: {{{table}: {{source: <file name>}}}}")  # fmt: skip


def _file_error(file: str, table: str, message: str, column=None) -> ValidationError:
    return ValidationError([ValidationIssue(file, None, column, message, table)])


def _describe(source) -> str:
    if isinstance(source, str | Path):
        return _hide_password(str(source))
    return type(source).__name__


# ========================================================================== Parquet
def _read_parquet(path: Path, table: str) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise _file_error(str(path), table, f"cannot read as Parquet: {exc}") from None
    if frame.shape[1] == 0:
        raise _file_error(str(path), table, "the file is empty: no columns")
    return RawTable(table, frame.reset_index(drop=True), str(path), unit="row")


# =========================================================================== DuckDB
def _is_duckdb_connection(source) -> bool:
    return type(source).__module__.startswith("duckdb") and hasattr(source, "execute")


def _read_duckdb(source, table: str, mapping: ColumnMapping, required: bool,
                 label: str) -> RawTable | None:  # fmt: skip
    import duckdb

    tmap = mapping.table(table)
    own = not _is_duckdb_connection(source)
    try:
        con = duckdb.connect(str(source), read_only=True) if own else source
    except duckdb.Error as exc:
        raise _file_error(label, table, f"cannot open DuckDB database: {exc}") from None
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()]  # fmt: skip
        file = f"{label}:{tmap.source or table}"
        if tmap.query:
            sql, file = tmap.query, f"{label}:query for {table}"
        else:
            name = _pick_table(names, mapping.source_name(table), table)
            if name is None:
                if not required:
                    return None
                raise _file_error(label, table, _no_table_message(table, names, mapping))
            sql, file = f'SELECT * FROM "{name}"', f"{label}:{name}"
        try:
            frame = con.execute(sql).df()
        except duckdb.Error as exc:
            raise _file_error(file, table, f"query failed: {exc}") from None
    finally:
        if own:
            con.close()
    return RawTable(table, frame, file, unit="row")


def _pick_table(names: list[str], wanted: str, table: str) -> str | None:
    lower = {n.lower(): n for n in names}
    for candidate in (wanted, table):
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


def _no_table_message(table: str, names: list[str], mapping: ColumnMapping) -> str:
    wanted = mapping.source_name(table)
    return (f"no table {wanted!r} for {table}; tables found: {', '.join(names) or 'none'}. "
            f"Name it in the mapping: tables: {{{table}: {{source: <table name>}}}}")  # fmt: skip


# ======================================================================= SQLAlchemy
def _is_sqlalchemy(source) -> bool:
    return type(source).__module__.startswith("sqlalchemy")


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


def _read_sql(source, table: str, mapping: ColumnMapping, required: bool,
              label: str | None = None) -> RawTable | None:  # fmt: skip
    import sqlalchemy as sa

    engine = source
    label = label or _hide_password(str(source.url if hasattr(source, "url") else source))
    if isinstance(source, str):
        try:
            engine = sa.create_engine(source)
        except Exception as exc:  # bad URL, missing driver: say which URL
            raise _file_error(label, table, f"cannot open database URL: {exc}") from None
    tmap = mapping.table(table)
    try:
        with engine.connect() as con:
            if tmap.query:
                sql, file = sa.text(tmap.query), f"{label}:query for {table}"
            else:
                names = sa.inspect(con).get_table_names()
                name = _pick_table(names, mapping.source_name(table), table)
                if name is None:
                    if not required:
                        return None
                    raise _file_error(label, table, _no_table_message(table, names, mapping))
                quoted = con.dialect.identifier_preparer.quote(name)
                sql, file = sa.text(f"SELECT * FROM {quoted}"), f"{label}:{name}"
            frame = pd.read_sql_query(sql, con)
    except sa.exc.SQLAlchemyError as exc:
        raise _file_error(label, table, f"database error: {exc}") from None
    finally:
        if isinstance(source, str):
            engine.dispose()
    return RawTable(table, frame, file, unit="row")
