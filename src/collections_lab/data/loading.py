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

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .csv_reader import clean_header, line_ranges, read_csv
from .dates import parse_date
from .files import restore_text_column
from .mapping import ColumnMapping
from .parsing import fullmatch_text, is_arrow_text
from .portfolio import Portfolio, experiment_design
from .schema import TABLES
from .validation import (
    LoadReport,
    RawTable,
    ValidationError,
    ValidationIssue,
    apply_credit_notes,
    conform,
    derive_customers_raw,
    derive_payments_raw,
    validate_tables,
)
from .warehouse import WarehouseError, engine_table, is_engine_source

#: File suffixes read as CSV and as Parquet.
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
#: Files an error message may name when a table is missing from a directory.
_TABLE_LIKE = (*CSV_SUFFIXES, *PARQUET_SUFFIXES, *EXCEL_SUFFIXES)
#: Tables every analysis needs: a missing one is an error unless the mapping declares
#: it ``absent`` (customers are derived from the invoices; reminders and assignments may
#: be absent, which the load report says).
NEEDED_TABLES = ("invoices", "payments")
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

    Example:
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
    if table == "invoices":
        apply_credit_notes(load)
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
    any reject raises :class:`ValidationError` listing all of them. The experiment in the
    data (``experiment.json`` beside the tables, else the assignments) is attached as
    ``portfolio.experiment`` (see :func:`~collections_lab.data.portfolio.experiment_design`).

    Example:
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
    flat = (isinstance(source, str | Path) and Path(source).is_file()
            and _file_kind(Path(source)) in ("csv", "parquet", "excel"))  # fmt: skip
    if flat:  # the other tables derive from the invoices' rows: read them all first
        raws: dict = {}
        file_issues: list[ValidationIssue] = []
        for name in ["invoices", *(t for t in TABLES if t != "invoices")]:
            if name in mapping.absent:
                raws[name] = None
                continue
            try:
                raws[name] = read_flat(Path(source), name, mapping, raws.get("invoices"))
            except ValidationError as exc:
                file_issues.extend(exc.issues)
        if file_issues:
            raise ValidationError(file_issues)
        if raws.get("invoices") is not None:
            _refuse_empty_invoices("invoices", raws["invoices"])
    else:  # each table read when validated: one table's text in memory at a time
        raws = {name: None if name in mapping.absent else functools.partial(
                    read_raw, source, name, mapping, required=name in NEEDED_TABLES)
                for name in TABLES}  # fmt: skip
    frames, report = validate_tables(raws, mapping, strict=strict, keep_extra=keep_extra,
                                     check_raw=_refuse_empty_invoices)  # fmt: skip
    design = experiment_design(source if isinstance(source, str | Path) else None,
                               frames.get("assignments"))
    observed = None if mapping.export_date is None else parse_date(mapping.export_date,
                                                                     "export_date")
    return Portfolio(**frames, source=_describe(source), load_report=report, experiment=design,
                     observed_until=observed)


def _refuse_empty_invoices(name: str, raw: RawTable) -> None:
    if name == "invoices" and not len(raw.frame) and not raw.issues:
        raise _file_error(raw.file, "invoices",
                          "the invoices table has a header but no data rows: there is no "
                          "portfolio to analyse. Export the invoices again (or check the "
                          "file, sheet or table it was read from)")  # fmt: skip


# ====================================================================== flat exports
def read_flat(path: Path, table: str, mapping: ColumnMapping,
              invoices: RawTable | None = None) -> RawTable | None:  # fmt: skip
    """One table of a flat export: one file, one row per invoice (the loaders' flat path).

    Invoices are the file's rows. Payments come from the same rows (those with a payment
    date; the others are open invoices, not rejected payments) and customers too, one per
    customer id. Reminders and assignments are read from a file beside the export when
    one is named ``<table>.csv`` (or as the mapping's ``source`` says), else absent. A
    table whose mapping names another ``source`` file is read from that file.
    """
    tmap = mapping.table(table)
    folder = path.parent
    if tmap.source or table in ("reminders", "assignments"):
        found = _find_table_file(folder, table, mapping)
        if found is not None and found[0].resolve() != path.resolve():
            return _mark_own(read_file(found[0], table, mapping), table)
        if tmap.source:
            raise _file_error(str(folder), table, _absent_message(folder, table, mapping))
        return None
    if table == "invoices":
        return read_file(path, table, mapping)
    if invoices is None:
        return None
    if table == "payments":
        return derive_payments_raw(invoices, mapping)
    return derive_customers_raw(invoices, mapping)


def _mark_own(raw: RawTable, table: str) -> RawTable:
    """Flag a file the workbench wrote itself (schema columns, ISO dates): such files
    never go through the user's mapping (its date formats would reject ISO dates)."""
    names = TABLES[table].column_names
    columns = [str(c) for c in raw.frame.columns]
    if columns[: len(names)] != names or not raw.textual:
        return raw
    for col in TABLES[table].columns:
        if col.kind == "date":
            values = raw.frame[col.name]  # pyarrow text (CSV): RE2 per distinct date
            values = values if is_arrow_text(values) else values.astype(str)
            if not fullmatch_text(values, r"\s*(?:\d{4}-\d{2}-\d{2})?\s*").all():
                return raw
    raw.own = True
    raw.notes.append("the workbench's own file (schema columns, ISO dates): read without "
                     "the column mapping")  # fmt: skip
    for name in raw.frame.columns:  # undo write_csv's formula neutralising ('=id -> =id)
        if pd.api.types.is_string_dtype(raw.frame[name]):
            restored = restore_text_column(raw.frame[name])
            if restored is not raw.frame[name]:  # (unchanged columns stay the same object)
                raw.frame[name] = restored
    return raw


# ===================================================================== dispatching
def read_raw(source, table: str, mapping: ColumnMapping, required: bool = True) -> RawTable | None:
    """Read one table from any source, unvalidated (``None`` if absent and not required)."""
    if isinstance(source, pd.DataFrame):
        return RawTable(table, source.reset_index(drop=True), "<DataFrame>", unit="row")
    if _is_sqlalchemy(source):
        return _read_sql(source, table, mapping, required)
    if _is_duckdb_connection(source):
        return _read_duckdb(source, table, mapping, required, label="<duckdb>")
    if is_engine_source(source):  # Spark, Spark Connect, Ibis URLs, partitioned lakes
        return _read_engine(source, table, mapping, required)
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
            near = _lookalike(path, table, mapping)
            if near is not None:  # a misnamed file must not pass as an absent table
                raise _file_error(str(path), table,
                                  f"no file named {table}.csv, but {near.name} looks like the "
                                  f"{table} table: rename it, or name it in the mapping: "
                                  f"tables: {{{table}: {{source: {_stem(near)}}}}}; if it is "
                                  f"not, declare the table absent: absent: [{table}]")  # fmt: skip
            return None
        path, note = found
        raw = read_file(path, table, mapping)
        if note:
            raw.notes.append(note)
        return _mark_own(raw, table)
    kind = _file_kind(path)
    if kind == "duckdb":
        return _read_duckdb(path, table, mapping, required, label=str(path))
    if kind == "sqlite":
        return _read_sql(f"sqlite:///{path}", table, mapping, required, label=str(path))
    return read_file(path, table, mapping)


def read_file(path: Path, table: str, mapping: ColumnMapping) -> RawTable:
    """Read a CSV, Excel or Parquet file (chosen by suffix, then by content) as a raw table."""
    kind = _file_kind(path)
    if kind == "parquet":
        return _read_parquet(path, table)
    if kind == "excel":
        return read_excel(path, table, mapping)
    return read_csv(path, table, mapping)


def _file_kind(path: Path) -> str:
    return data_file_kind(path) or "csv"


def data_file_kind(path: str | Path) -> str | None:
    """How a file is read, from its suffix or its first bytes: ``"csv"``, ``"parquet"``,
    ``"excel"``, ``"duckdb"`` or ``"sqlite"``; ``None`` when nothing marks it as data
    (the loader then tries it as CSV; the report runner refuses it, so that
    ``-p data /etc/shadow`` cannot put a line of that file into a published error).

    >>> data_file_kind("invoices.csv.gz"), data_file_kind("export.XLSX")
    ('csv', 'excel')
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(DUCKDB_SUFFIXES):
        return "duckdb"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(EXCEL_SUFFIXES):
        return "excel"
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return "csv"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx, ods) / OLE (xls)
        return "excel"
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    return None


def _find_table_file(folder: Path, table: str, mapping: ColumnMapping):
    """The file holding ``table`` in ``folder`` (and a note if several candidates exist)."""
    names = [mapping.source_name(table), table]
    by_lower = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    found = []
    for name in dict.fromkeys(names):
        for suffix in PARQUET_SUFFIXES + CSV_SUFFIXES + EXCEL_SUFFIXES:
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
    # Only table-like files are named: the message may reach a published page, and a
    # mistyped `data` (``../../etc``) must not put a directory listing there.
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    tables = [f for f in files if f.lower().endswith(_TABLE_LIKE)]
    others = len(files) - len(tables)
    found = ", ".join(tables) or "none"
    if others:
        found += f" (and {others} other file{'s' if others > 1 else ''} not named here)"
    text = (f"no file for table {table!r} (looked for {' / '.join(names)} with suffix "
            f".csv, .parquet or .xlsx); table files found: {found}. "
            f"Name the file in the mapping: tables: {{{table}: {{source: <file name>}}}}")  # fmt: skip
    if table != "invoices":
        text += (f", or, if the export has no {table}, declare it: absent: [{table}] "
                 f"(analyses then see no {table} at all)")  # fmt: skip
    return text


def _lookalike(folder: Path, table: str, mapping: ColumnMapping) -> Path | None:
    """A data file whose name starts like the table's (``payments_2026-05.csv``)."""
    prefixes = {mapping.source_name(table).lower(), table.lower()}
    for path in sorted(folder.iterdir()):
        name = path.name.lower()
        if (path.is_file() and any(name.startswith(p) for p in prefixes)
                and name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES)):  # fmt: skip
            return path
    return None


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _file_error(file: str, table: str, message: str, column=None) -> ValidationError:
    return ValidationError([ValidationIssue(file, None, column, message, table)])


def _describe(source) -> str:
    if isinstance(source, str | Path):
        return _hide_password(str(source))
    return type(source).__name__


# ============================================================================ Excel
def read_excel(path: str | Path, table: str, mapping: ColumnMapping | None = None) -> RawTable:
    """Read one sheet of an Excel workbook (python-calamine) as a raw table.

    The sheet is the mapping's ``sheet`` (a name or a 0-based position), else the first.
    Rows are numbered as Excel shows them (header row = row 1 when it is the first);
    title rows above the header and blank rows are skipped and noted, rows with cells
    beyond the header are rejected with their row. Columns holding only dates or only
    numbers keep their type; other cells are read as text.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    mapping = mapping or ColumnMapping()
    path = Path(path)
    file = str(path)
    try:
        book = CalamineWorkbook.from_path(file)
    except (CalamineError, OSError, ValueError) as exc:
        raise _file_error(file, table, f"cannot read as an Excel workbook: {exc}") from None
    names = list(book.sheet_names)
    wanted = mapping.sheet_for(table)
    if wanted is None:
        name = names[0] if names else None
    elif isinstance(wanted, int) and not isinstance(wanted, bool):
        name = names[wanted] if 0 <= wanted < len(names) else None
    else:
        name = next((n for n in names if n.casefold() == str(wanted).casefold()), None)
    if name is None:
        raise _file_error(file, table, f"no sheet {wanted!r} in the workbook; sheets: "
                                       f"{', '.join(names) or 'none'} (set sheet: in the mapping)")  # fmt: skip
    cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    label = f"{file} [{name}]" if len(names) > 1 else file
    notes = [f"sheet {name!r} of {len(names)}"] if len(names) > 1 else []
    filled = [[c for c in row if c not in ("", None)] for row in cells]
    start = mapping.skip_rows or 0
    header_at = None
    several = max((len(f) for f in filled), default=0) >= 2
    for i in range(start, len(cells)):
        if not filled[i] or (mapping.skip_rows is None and several and len(filled[i]) == 1):
            continue
        header_at = i
        break
    if header_at is None:
        raise _file_error(label, table, "the sheet is empty: no header row and no rows")
    if header_at > 0:
        notes.append(f"{header_at} row(s) before the header skipped")
    header = [_cell_str(c) for c in cells[header_at]]
    header, renamed = clean_header(header, label, table, header_at + 1)
    notes.extend(renamed)
    width = len(header)
    records, rows, blank, issues = [], [], [], []
    for i in range(header_at + 1, len(cells)):
        row = list(cells[i])
        if not filled[i]:
            blank.append(i + 1)
            continue
        if len(row) > width:
            if any(c not in ("", None) for c in row[width:]):
                issues.append(ValidationIssue(label, i + 1, None,
                                              f"cells beyond the header's {width} columns",
                                              table, "row"))  # fmt: skip
                continue
            row = row[:width]
        records.append(row + [""] * (width - len(row)))
        rows.append(i + 1)
    if blank:
        notes.append(f"{len(blank)} blank row(s) skipped (rows {line_ranges(blank)})")
    columns = list(zip(*records, strict=True)) if records else [() for _ in header]
    frame = pd.DataFrame({h: _excel_column(col) for h, col in zip(header, columns, strict=True)})
    return RawTable(table, frame, label, unit="row", rows=np.array(rows, dtype=int),
                    issues=issues, notes=notes)  # fmt: skip


def _cell_str(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _excel_column(cells) -> pd.Series:
    """A column as typed as its cells allow: dates, numbers, else text."""
    import datetime as dt

    present = [c for c in cells if c not in ("", None)]
    if present and all(isinstance(c, dt.date) for c in present):
        return pd.Series(pd.to_datetime([c if c not in ("", None) else None for c in cells]))
    if present and all(isinstance(c, int | float) and not isinstance(c, bool) for c in present):
        return pd.Series([float(c) if c not in ("", None) else np.nan for c in cells],
                         dtype="float64")  # fmt: skip
    out = []
    for c in cells:
        if isinstance(c, dt.datetime | dt.date):
            out.append(c.strftime("%Y-%m-%d"))
        elif isinstance(c, bool):
            out.append("true" if c else "false")
        else:
            out.append(_cell_str(c))
    return pd.Series(out, dtype=object)


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


def _read_engine(source, table: str, mapping: ColumnMapping, required: bool
                 ) -> RawTable | None:  # fmt: skip
    """One table through Ibis (:func:`~collections_lab.data.warehouse.engine_table`)."""
    label = (_hide_password(str(source)) if isinstance(source, str | Path)
             else f"<{type(source).__name__}>")
    try:
        frame = None
        for name in dict.fromkeys([mapping.source_name(table), table]):
            frame = engine_table(source, name)
            if frame is not None:
                break
    except WarehouseError as exc:
        raise _file_error(label, table, str(exc)) from None
    if frame is None:
        if not required:
            return None
        raise _file_error(label, table, _no_table_message(table, [], mapping))
    return RawTable(table, frame, f"{label}:{mapping.source_name(table)}", unit="row")


def _pick_table(names: list[str], wanted: str, table: str) -> str | None:
    lower = {n.lower(): n for n in names}
    for candidate in (wanted, table):
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    return None


def _no_table_message(table: str, names: list[str], mapping: ColumnMapping) -> str:
    wanted = mapping.source_name(table)
    text = (f"no table {wanted!r} for {table}; tables found: {', '.join(names) or 'none'}. "
            f"Name it in the mapping: tables: {{{table}: {{source: <table name>}}}}")  # fmt: skip
    if table != "invoices":
        text += f", or, if the database has no {table}, declare it: absent: [{table}]"
    return text


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
