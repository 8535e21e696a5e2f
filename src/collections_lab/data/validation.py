"""Validation: bring loaded tables into the schema's shape and say exactly what was wrong.

Every problem becomes a :class:`ValidationIssue` naming the file, the row (the line number a
user sees in a CSV file, header = line 1; ``row N``, 1-based, for Parquet, DuckDB and SQL
tables) and the column. Problems with a whole file (empty file, missing column) raise a
:class:`ValidationError` that lists all of them together. Problems with single rows reject
those rows: nothing is dropped silently, a :class:`LoadReport` counts rows read, used and
rejected per table with every reason, and ``strict=True`` turns any reject into a
:class:`ValidationError`.

The rules are the schema's (:mod:`collections_lab.data.schema`): ids unique and present,
amounts > 0 (discounts and fees >= 0), due date not before issue date, currency codes in
``CURRENCIES``, known tones / channels / methods; and across tables: an invoice's customer
exists, a payment's or reminder's invoice exists, a payment is not before its invoice's
issue date, an assignment's customer exists.

Example
-------
>>> import pandas as pd
>>> from collections_lab.data.portfolio import Portfolio
>>> customers = pd.DataFrame({"customer_id": ["C1"]})
>>> invoices = pd.DataFrame({"invoice_id": ["F1", "F2"], "customer_id": ["C1", "C1"],
...     "issue_date": ["2025-01-01", "2025-01-05"], "due_date": ["2025-01-31", "2025-01-01"],
...     "amount": [100.0, 50.0], "currency": ["EUR", "EUR"]})
>>> portfolio, report = validate_portfolio(Portfolio(customers, invoices))
>>> len(portfolio.invoices), report.rows_rejected
(1, 1)
>>> print(report.issues[0])
invoices, row 2, column 'due_date': due_date 2025-01-01 is before issue_date 2025-01-05
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_number, t
from ..i18n.display import SettingsCard
from .dates import parse_date
from .mapping import ColumnMapping, list_presets, load_preset, normalise_name
from .parsing import (
    cells_as_text,
    coerce_column,
    is_arrow_text,
    missing_cells,
    normalise_id,
    odd_id_mask,
    per_row,
    release_arrow_memory,
    sniff_decimal,
    to_object,
)
from .schema import FULL_PAYMENT_TOLERANCE, MAX_DEADLINE_DAYS, TABLES, Column

#: How many issues a ValidationError prints (all are in ``.issues``).
MAX_PRINTED_ISSUES = 50


# =============================================================================== issues
@dataclass(frozen=True)
class ValidationIssue(SettingsCard):
    """One problem: where it is (file, row, column) and what is wrong.

    ``row`` is the line number in a text file (``unit="line"``, header = line 1) or the
    1-based row number in a Parquet / database table (``unit="row"``); ``None`` for a
    problem with the whole file or column.

    Example:
        >>> issue = cl.ValidationIssue("invoices.csv", 12, "amount", "not a number: 'abc'")
        >>> issue.row, issue.column
        (12, 'amount')
    """

    file: str
    row: int | None
    column: str | None
    message: str
    table: str = ""
    unit: str = "line"

    def location(self) -> str:
        """``"invoices.csv, line 4, column 'Importe'"``."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"{self.unit} {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"

    def to_dict(self) -> dict:
        return {
            "table": self.table,
            "file": self.file,
            "row": self.row,
            "unit": self.unit,
            "column": self.column,
            "message": self.message,
        }


class ValidationError(ValueError):
    """Data that cannot be loaded as it is; ``.issues`` lists every problem found.

    ``.report`` holds the :class:`LoadReport` when the error comes from ``strict=True``.

    Example:
        >>> bad = portfolio.invoices.head(3).assign(amount=-1.0)
        >>> try:
        ...     cl.validate_portfolio(cl.Portfolio(portfolio.customers, bad), strict=True)
        ... except cl.ValidationError as error:
        ...     print(len(error.issues), error.issues[0].column)
        (<Portfolio : 300 customers, no invoices.>, LoadReport(tables={'customers':
        TableReport(table='customers', source='customers', rows_read=300, rows_used=300,
        rejected_rows=[], issues=[], notes=[], unit='row', status='read', credit_notes=[],
        set_aside=0), 'invoices': TableReport(table='invoices', source='invoices',
        rows_read=3, rows_used=3, rejected_rows=[], issues=[], notes=['3 credit note(s)
        (negative amounts or credit-note rows) are not invoices: applied to none; 3 match
        no invoice and are kept out of the receivables (rows 1, 2, 3)'], unit='row',
        status='read', credit_notes=[{'row': 1, 'invoice_id': 'INV000001', 'customer_id':
        'C00001', 'amount': 1.0, 'currency': 'USD', 'applied_to': None, 'how':
        'unmatched'}, {'row': 2, 'invoice_id': 'INV000002', 'customer_id': 'C00001',
        'amount': 1.0, 'currency': 'USD', 'applied_to': None, 'how': 'unmatched'}, {'row':
        3, 'invoice_id': 'INV000003', 'customer_id': 'C00001', 'amount': 1.0, 'currency':
        'USD', 'applied_to': None, 'how': 'unmatched'}], set_aside=3), 'reminders':
        TableReport(table='reminders', source='reminders', rows_read=0, rows_used=0,
        rejected_rows=[], issues=[], notes=[], unit='row', status='read', credit_notes=[],
        set_aside=0), 'payments': TableReport(table='payments', source='payments',
        rows_read=0, rows_used=0, rejected_rows=[], issues=[], notes=[], unit='row',
        status='read', credit_notes=[], set_aside=0), 'assignments':
        TableReport(table='assignments', source='assignments', rows_read=0, rows_used=0,
        rejected_rows=[], issues=[], notes=[], unit='row', status='read', credit_notes=[],
        set_aside=0)}))
    """

    def __init__(self, issues, report: LoadReport | None = None, what: str = "problem"):
        self.issues: list[ValidationIssue] = list(issues)
        self.report = report
        files = sorted({i.file for i in self.issues})
        n = len(self.issues)
        lines = [f"{n} {what}{'s' if n != 1 else ''} in {', '.join(files)}:"]
        lines += [f"  - {issue}" for issue in self.issues[:MAX_PRINTED_ISSUES]]
        if n > MAX_PRINTED_ISSUES:
            lines.append(f"  ... and {n - MAX_PRINTED_ISSUES} more (see the error's .issues)")
        super().__init__("\n".join(lines))

    def to_frame(self) -> pd.DataFrame:
        """All issues as a table (table, file, row, unit, column, message)."""
        return _issues_frame(self.issues)


def _issues_frame(issues) -> pd.DataFrame:
    columns = ["table", "file", "row", "unit", "column", "message"]
    return pd.DataFrame([i.to_dict() for i in issues], columns=columns)


# ============================================================================== reports
@dataclass
class TableReport(SettingsCard):
    """What happened to one table: rows read, used, rejected (with reasons) and notes.

    Example:
        >>> report = cl.TableReport("invoices", "invoices.csv", rows_read=10, rows_used=9,
        ...                         rejected_rows=[4])
        >>> report.rows_rejected
        1
    """

    table: str
    source: str
    rows_read: int = 0
    rows_used: int = 0
    rejected_rows: list[int] = field(default_factory=list)
    issues: list[ValidationIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: str = "line"
    #: ``"read"`` from its own file or table, ``"derived"`` from another table (customers
    #: from invoices, payments from a flat export's settlement dates), ``"absent"``.
    status: str = "read"
    #: Credit notes found among the invoices and what each was applied to (dicts with
    #: row, invoice_id, customer_id, amount, currency, applied_to, how).
    credit_notes: list[dict] = field(default_factory=list)
    #: Rows used but not kept as rows of the table (credit notes, invoices credited in
    #: full): ``rows_read == rows_used + rows_rejected`` still holds.
    set_aside: int = 0

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    def to_dict(self) -> dict:
        """What a report's provenance block shows: source, status, counts, reasons, notes."""
        return {"table": self.table, "source": self.source, "status": self.status,
                "rows_read": self.rows_read, "rows_used": self.rows_used,
                "rows_rejected": self.rows_rejected, "reasons": self.reasons(),
                "notes": list(self.notes), "credit_notes": len(self.credit_notes)}  # fmt: skip

    def reasons(self) -> dict[str, int]:
        """Rejected-row reasons with their counts, each told by its first real message
        (rows whose messages differ only in values, e.g. the amount or the id, count
        together), most frequent first.

        >>> t = TableReport("invoices", "f.csv", 3, 1, [2, 3], [
        ...     ValidationIssue("f.csv", 2, "amount", "amount must be > 0, got -5"),
        ...     ValidationIssue("f.csv", 3, "amount", "amount must be > 0, got -7")])
        >>> t.reasons()
        {'amount must be > 0, got -5 (line 2; 1 more like it: line 3)': 2}
        """
        groups: dict[str, list[ValidationIssue]] = {}
        for issue in self.issues:
            groups.setdefault(_reason_kind(issue.message), []).append(issue)
        out = {}
        for same in sorted(groups.values(), key=lambda g: -len(g)):
            first = same[0]
            where = f"{first.unit} {first.row}" if first.row is not None else first.file
            text = f"{first.message} ({where}"
            rows = [str(i.row) for i in same[1:] if i.row is not None]
            if len(same) > 1:
                shown = ", ".join(rows[:5]) + (", …" if len(rows) > 5 else "")
                text += (f"; {len(same) - 1} more like it"
                         + (f": {first.unit}{'s' if len(rows) > 1 else ''} {shown}"
                            if rows else ""))
            out[text + ")"] = len(same)
        return out


def _reason_kind(message: str) -> str:
    # A grouping key only (never shown): quoted values and dates dropped, so
    # "amount must be > 0, got -5" groups with "... -7".
    text = re.sub(r"'[^']*'", "'…'", message)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "…", text)
    text = re.sub(r"(line|row) \d+", r"\1 …", text)
    text = re.sub(r"\(\S+, \S+\)", "(…)", text)
    return re.sub(r"got \S+", "got …", text)


@dataclass
class LoadReport(ResultMixin):
    """Rows read, used and rejected per table, with every rejected row's reason.

    ``rows_read == rows_used + rows_rejected`` for each table; ``issues`` lists the
    reasons (a row may have several), ``notes`` what the loader decided on its own (the
    separator it sniffed, a BOM removed, a latin-1 fallback, defaults filled, ...).

    Example:
        >>> report = cl.load_portfolio(SAMPLE).load_report
        >>> print(report.summary())
        Read 63,182 rows from 5 tables: 63,182 used, 0 rejected.
    """

    tables: dict[str, TableReport] = field(default_factory=dict)
    title = "Load report"

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def rows_used(self) -> int:
        return sum(t.rows_used for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    @property
    def issues(self) -> list[ValidationIssue]:
        return [i for t in self.tables.values() for i in t.issues]

    @property
    def notes(self) -> list[str]:
        return [f"{t.table}: {n}" for t in self.tables.values() for n in t.notes]

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return self.rows_rejected == 0

    @property
    def absent_tables(self) -> list[str]:
        """Tables the source did not have (analyses see them empty)."""
        return [t.table for t in self.tables.values() if t.status == "absent"]

    @property
    def derived_tables(self) -> list[str]:
        """Tables built from another table (customers from invoices, ...)."""
        return [t.table for t in self.tables.values() if t.status == "derived"]

    def credit_notes_frame(self) -> pd.DataFrame:
        """Every credit note found among the invoices and what it was applied to."""
        columns = ["row", "invoice_id", "customer_id", "amount", "currency", "applied_to", "how"]
        rows = [c for t in self.tables.values() for c in t.credit_notes]
        return pd.DataFrame(rows, columns=columns)

    def provenance(self) -> dict:
        """Structured provenance for a report: per-table status, counts, reasons and notes.

        >>> report = LoadReport({"invoices": TableReport("invoices", "f.csv", 2, 2),
        ...     "reminders": TableReport("reminders", "(absent)", status="absent")})
        >>> p = report.provenance()
        >>> p["absent"], p["rows_read"], p["tables"][0]["status"]
        (['reminders'], 2, 'read')
        """
        return {"rows_read": self.rows_read, "rows_used": self.rows_used,
                "rows_rejected": self.rows_rejected, "absent": self.absent_tables,
                "derived": self.derived_tables, "notes": self.notes,
                "tables": [t.to_dict() for t in self.tables.values()]}  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """One row per table: source, rows read / used / rejected, the main reasons."""
        rows = []
        for table in self.tables.values():
            reasons = "; ".join(f"{n}× {k}" for k, n in list(table.reasons().items())[:3])
            rows.append({
                "table": table.table, "source": table.source, "rows_read": table.rows_read,
                "rows_used": table.rows_used, "rows_rejected": table.rows_rejected,
                "reasons": reasons,
            })  # fmt: skip
        columns = ["table", "source", "rows_read", "rows_used", "rows_rejected", "reasons"]
        return pd.DataFrame(rows, columns=columns)

    def issues_frame(self) -> pd.DataFrame:
        """Every rejected row's reason: table, file, row, unit, column, message."""
        return _issues_frame(self.issues)

    def summary(self, lang: str | None = None) -> str:
        """One plain sentence: rows read, used and rejected.

        >>> LoadReport({"invoices": TableReport("invoices", "f.csv", 10, 9, [3])}).summary()
        'Read 10 rows from 1 table: 9 used, 1 rejected.'
        """
        read, used, rej = (format_number(x, 0, lang) for x in
                           (self.rows_read, self.rows_used, self.rows_rejected))  # fmt: skip
        n = len(self.tables)
        return t("load.summary_one" if n == 1 else "load.summary_many", lang, read=read, n=n,
                 used=used, rejected=rej)

    def raise_if_rejected(self) -> None:
        """Raise :class:`ValidationError` listing every reject (what ``strict=True`` does)."""
        if self.rows_rejected:
            raise ValidationError(self.issues, report=self, what="rejected-row problem")


# ===================================================================== raw → schema
@dataclass
class RawTable:
    """A table as read from its source, before validation (internal to the loaders).

    ``frame`` has the source's own column names; ``rows`` the line / row number of each of
    its rows; ``issues`` row problems already found while reading (e.g. a wrong number of
    fields), whose rows count as read and rejected.
    """

    table: str
    frame: pd.DataFrame
    file: str
    unit: str = "line"
    rows: np.ndarray | None = None
    issues: list[ValidationIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    separator: str | None = None
    #: True when every cell is a ``str`` (CSV): text handling can skip per-cell checks.
    textual: bool = False
    #: A file the workbench wrote itself: read without the user's mapping.
    own: bool = False
    #: Where a derived table comes from (e.g. the flat export), "" when read directly.
    derived: str = ""

    def __post_init__(self):
        if self.rows is None:
            self.rows = np.arange(1, len(self.frame) + 1)


@dataclass
class TableLoad:
    """A validated table: the used rows, their source row numbers, and the report."""

    table: str
    frame: pd.DataFrame
    rows: np.ndarray
    report: TableReport
    #: key value -> where the rejected row was (so dependants can say why they go too).
    rejected_keys: dict[str, str] = field(default_factory=dict)
    #: Credit notes set aside from the invoices (applied by :func:`apply_credit_notes`).
    credits: pd.DataFrame | None = None
    #: invoice id -> where the invoice is, for invoices credited in full.
    credited: dict[str, str] = field(default_factory=dict)
    #: column -> each row's position in the frame of the table that column points at
    #: (set by :func:`check_references`; lets :func:`finish_ids` share that table's ids).
    parents: dict[str, np.ndarray] = field(default_factory=dict)

    def where(self, row: int) -> str:
        return f"{self.report.source}, {self.report.unit} {row}"

    def reject(self, mask: np.ndarray, column: str | None, messages) -> None:
        """Move the rows under ``mask`` from the frame to the rejects, with their reasons."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        messages = per_row(messages, int(mask.sum()))
        for row, msg in zip(self.rows[mask], messages, strict=True):
            self.report.issues.append(
                ValidationIssue(self.report.source, int(row), column, msg, self.table,
                                self.report.unit)  # fmt: skip
            )
        key = TABLES[self.table].key
        if len(key) == 1:
            for value, row in zip(self.frame.loc[mask, key[0]], self.rows[mask], strict=True):
                self.rejected_keys.setdefault(str(value), self.where(int(row)))
        self.report.rejected_rows = sorted(self.report.rejected_rows + self.rows[mask].tolist())
        self.frame = self.frame.loc[~mask]
        self.rows = self.rows[~mask]
        self.parents = {name: at[~mask] for name, at in self.parents.items()}
        self.report.rows_used = len(self.frame) + self.report.set_aside


class _Problems:
    """Row problems found while conforming one table, keyed by position in the raw frame."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.items: list[tuple[int, str | None, str]] = []

    def add(self, mask, column: str | None, messages) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        positions = np.flatnonzero(mask)
        for pos, msg in zip(positions, per_row(messages, len(positions)), strict=True):
            self.items.append((int(pos), column, msg))

    def positions(self) -> np.ndarray:
        return np.array(sorted({p for p, _, _ in self.items}), dtype=int)


def conform(raw: RawTable, mapping: ColumnMapping | None = None, keep_extra: bool = False,
            currency_of: dict | None = None, final: bool = True) -> TableLoad:  # fmt: skip
    """Rename, type and check one raw table against the schema; reject bad rows.

    Raises :class:`ValidationError` for problems with the whole table (a missing required
    column, two columns mapped to the same name). Row problems reject the row and are
    listed in the returned :class:`TableLoad`'s report. ``currency_of`` (invoice id ->
    currency) tells a table without a currency column (payments) each row's currency.
    ``final=False`` leaves id columns read from a CSV as pyarrow text (hashed fast by the
    reference checks; :func:`finish_ids` makes them ``object``).
    """
    mapping = mapping or ColumnMapping()
    if raw.own:  # the workbench's own file: the user's mapping describes their export
        mapping = ColumnMapping()
    spec = TABLES[raw.table]
    columns, display = _match_columns(raw, spec, mapping)
    n = len(raw.frame)
    problems = _Problems(raw)
    notes = list(raw.notes)
    tmap = mapping.table(spec.name)
    dropped = mapping.dropped(spec.name)
    ignored = [c for c in raw.frame.columns if normalise_name(c) in dropped]
    if ignored:
        notes.append(f"columns dropped (mapping): {', '.join(map(str, ignored))}")
    extra = [c for c in raw.frame.columns if c not in display.values() and c not in ignored]
    if extra and not raw.derived:
        what = "kept" if keep_extra else "ignored"
        notes.append(f"columns not in the schema {what}: {', '.join(map(str, extra))}")

    amounts = [columns[c.name] for c in spec.columns if c.kind == "amount" and c.name in columns]
    decimal = mapping.decimal or sniff_decimal(amounts, raw.separator, raw.textual, notes)
    currency = _row_currency(columns, tmap, currency_of, raw.textual)
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        source = columns.get(col.name)
        label = display.get(col.name, col.name)
        default = tmap.defaults.get(col.name)
        if source is None:
            if default is not None:
                source = pd.Series([default] * n, index=raw.frame.index, dtype=object)
                notes.append(f"{col.name}: not in the source, set to {default!r} (mapping)")
            elif not col.fill_if_absent:
                continue
            else:
                out[col.name] = _default_column(col, n, raw.frame.index)
                if col.default is not None or col.kind == "bool":
                    notes.append(f"{col.name}: not in the source, default {col.default!r}")
                continue
        values, bad, messages = coerce_column(source, col, spec.name, mapping, decimal,
                                        raw.textual, default, notes, currency)  # fmt: skip
        out[col.name] = values
        problems.add(bad, label, messages)
    # copy=False: the columns are fresh arrays; pandas would copy same-dtype columns
    # into 2-D blocks (a copy of every column for nothing).
    frame = pd.DataFrame(out, index=raw.frame.index, copy=False)
    if keep_extra:
        for c in extra:
            frame[c] = raw.frame[c]

    credit = _credit_mask(frame, raw, spec.name, tmap) if spec.name == "invoices" else None
    _row_rules(frame, spec.name, problems, display, credit)
    if spec.name == "reminders":
        _derive_sequence(frame, problems, display, notes)
    _duplicates(frame, spec.name, problems, display, raw, credit)

    bad_positions = problems.positions()
    keep = np.ones(n, dtype=bool)
    keep[bad_positions] = False
    report = TableReport(
        table=spec.name, source=raw.file, rows_read=n + _rows_broken(raw),
        rows_used=int(keep.sum()), unit=raw.unit, notes=notes,
        status="derived" if raw.derived else "read",
    )  # fmt: skip
    report.issues = list(raw.issues)
    for pos, column, msg in sorted(problems.items, key=lambda p: p[0]):
        report.issues.append(
            ValidationIssue(raw.file, int(raw.rows[pos]), column, msg, spec.name, raw.unit)
        )
    broken_rows = [i.row for i in raw.issues if i.row is not None]
    report.rejected_rows = sorted(set(broken_rows) | set(raw.rows[bad_positions].tolist()))
    report.issues.sort(key=lambda i: (i.row if i.row is not None else -1))
    credits = None
    if credit is not None and credit.any():
        good = credit & keep
        credits = frame.loc[good].assign(_row=raw.rows[good])
        ref = tmap.credit_notes.get("credits")
        if ref is not None and ref in raw.frame:
            named = cells_as_text(raw.frame.loc[good, ref], raw.textual)
            if mapping.normalise_ids:
                named = named.map(normalise_id)
            credits["_credits"] = named.to_numpy(dtype=object)
        keep = keep & ~credit
    used = _final_dtypes(frame if keep.all() else frame.loc[keep], spec, ids=final)
    load = TableLoad(spec.name, used, raw.rows[keep], report)
    if credits is not None:
        load.credits = credits
    if len(spec.key) == 1:
        key = spec.key[0]
        for pos in bad_positions:
            value = frame[key].iloc[pos]
            if isinstance(value, str) and value:
                load.rejected_keys.setdefault(value, load.where(int(raw.rows[pos])))
    return load


def _row_currency(columns: dict, tmap, currency_of: dict | None, textual: bool):
    """Each row's currency code as text (for reading amounts), or ``None`` if unknown
    (a function giving them, when they take a lookup per row)."""
    if "currency" in columns:
        return cells_as_text(columns["currency"], textual).str.upper()
    if tmap.defaults.get("currency"):
        return str(tmap.defaults["currency"]).upper()
    if currency_of and "invoice_id" in columns:  # looked up only if an amount needs it
        def lookup():
            table = currency_of() if callable(currency_of) else currency_of
            return cells_as_text(columns["invoice_id"], textual).map(table)

        return lookup
    return None


def _currency_by_invoice(invoices: pd.DataFrame) -> dict:
    """Invoice id -> currency (built only when an ambiguous amount needs it)."""
    return dict(zip(invoices["invoice_id"], invoices["currency"], strict=True))


def _final_dtypes(frame: pd.DataFrame, spec, ids: bool = True) -> pd.DataFrame:
    """The schema's dtypes on the kept rows (whole-number columns become int64 when full,
    pandas' nullable Int64 when some values are empty), as a new frame numbered from 0.

    Columns are converted one by one into a new frame (no copy where the dtype is already
    right, no 2-D blocks). ``ids=False`` leaves id columns that are pyarrow text as they are.
    """
    out = {}
    for name in frame.columns:
        values = frame[name]
        col = next((c for c in spec.columns if c.name == name), None)
        if col is None:  # a kept extra column
            if is_arrow_text(values):
                values = to_object(values)
        elif col.kind == "int":
            values = values.astype("Int64" if values.isna().any() else "int64", copy=False)
        elif col.kind == "bool":
            values = values.astype(bool, copy=False)
        elif col.kind == "amount":
            values = values.astype("float64", copy=False)
        elif col.kind == "date":
            values = values.astype("datetime64[ns]", copy=False)
        elif values.dtype != object and (ids or col.kind != "id" or not is_arrow_text(values)):
            values = to_object(values, repeats=None if spec.key != (col.name,) else False)
        out[name] = column_data(values)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)), copy=False)


def column_data(values: pd.Series):
    """A column's data for a new frame without a copy: the NumPy array, or the extension
    array (a wrapped NumPy object array would be scanned for missing values again)."""
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy(copy=False)
    return values.array


def _rows_broken(raw: RawTable) -> int:
    return len({i.row for i in raw.issues if i.row is not None})


def _match_columns(raw: RawTable, spec, mapping: ColumnMapping):
    """Source column for each schema column, or a ValidationError naming what is missing."""
    dropped = mapping.dropped(spec.name)
    found = [str(c) for c in raw.frame.columns if normalise_name(c) not in dropped]
    renames = mapping.renames(spec.name, found)
    by_norm = {normalise_name(c): c for c in spec.column_names}
    targets: dict[str, list[str]] = {}
    for col in found:
        dst = renames.get(col) or by_norm.get(normalise_name(col))
        if dst in spec.column_names:
            targets.setdefault(dst, []).append(col)
    issues = []
    for dst, sources in targets.items():
        if len(sources) > 1:
            issues.append(ValidationIssue(
                raw.file, None, dst,
                f"columns {', '.join(map(repr, sources))} all map to {dst!r}; keep one "
                f"(or rename the others in the mapping, or ignore one: drop: "
                f"[{next((c for c in sources if c not in renames), sources[-1])!r}])",
                spec.name, raw.unit,
            ))  # fmt: skip
    defaults = mapping.table(spec.name).defaults
    for col in spec.required:
        if col in targets or col in defaults:
            continue
        issues.append(ValidationIssue(
            raw.file, None, col, _missing_column_message(spec.name, col, found, mapping),
            spec.name, raw.unit,
        ))  # fmt: skip
    if issues:
        raise ValidationError(issues, what="problem")
    columns = {dst: raw.frame[srcs[0]] for dst, srcs in targets.items()}
    display = {dst: srcs[0] for dst, srcs in targets.items()}
    return columns, display


def _missing_column_message(table: str, col: str, found: list[str], mapping) -> str:
    shown = ", ".join(repr(c) for c in found[:20]) + (", ..." if len(found) > 20 else "")
    text = f"missing required column {col!r} of {table}; columns found: {shown or 'none'}"
    if len(found) == 1 and any(sep in found[0] for sep in ",;\t|"):
        text += " (a single column: is the separator right?)"
    close = difflib.get_close_matches(col, found, n=1, cutoff=0.6)
    if close:
        text += f". Did you mean {close[0]!r}?"
    for name in list_presets():
        preset = load_preset(name)
        mapped = set(preset.renames(table, found).values())
        if col in mapped and set(TABLES[table].required) <= mapped | set(found):
            text += f" These columns look like the {name!r} preset: pass mapping={name!r}."
            break
    else:
        text += (f" If the export names it differently, map it with a column mapping, e.g. "
                 f"mapping={{{table!r}: {{'<your column>': {col!r}}}}}.")  # fmt: skip
    if col == "currency":
        text += (f" If every amount is in one currency, set it instead: tables: {{{table}: "
                 f"{{defaults: {{currency: USD}}}}}} (with your currency's code).")  # fmt: skip
    return text


def _default_column(col: Column, n: int, index) -> pd.Series:
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if col.kind == "bool":
        return pd.Series(bool(col.default), index=index, dtype=bool)
    if col.kind == "amount":
        value = np.nan if col.default is None else float(col.default)
        return pd.Series(value, index=index, dtype="float64")
    if col.kind == "int":
        return pd.Series(pd.NA if col.default is None else col.default, index=index,
                         dtype="Int64")  # fmt: skip
    return pd.Series([col.default] * n, index=index, dtype=object)


# -------------------------------------------------------------------------- row rules
def _credit_mask(frame: pd.DataFrame, raw: RawTable, table: str, tmap) -> np.ndarray:
    """Invoice rows that are credit notes: a negative amount, or the mapping's type values."""
    credit = (frame["amount"] < 0).to_numpy()
    column, kinds = tmap.credit_notes.get("column"), tmap.credit_notes.get("values")
    if column and kinds:
        if column not in raw.frame:
            raise ValidationError([ValidationIssue(
                raw.file, None, column, f"credit_notes: column {column!r} is not in the file",
                table, raw.unit)])  # fmt: skip
        words = {normalise_name(k) for k in kinds}
        typed = cells_as_text(raw.frame[column], raw.textual).map(normalise_name).isin(words)
        credit = credit | typed.to_numpy()
        frame.loc[typed.to_numpy(), "amount"] = -frame.loc[typed.to_numpy(), "amount"].abs()
    return credit


def _row_rules(frame: pd.DataFrame, table: str, problems: _Problems, display,
               credit: np.ndarray | None = None) -> None:  # fmt: skip
    spec = TABLES[table]
    for col in spec.columns:
        if col.kind != "amount" or col.name not in frame:
            continue
        values = frame[col.name]
        if col.name == "amount" and credit is not None and credit.any():
            bad = ((values <= 0) & ~credit).to_numpy() | ((values == 0) & credit)
            problems.add(bad, display.get(col.name, col.name),
                         [f"amount must be greater than 0, got {v:g}" for v in values[bad]])
        elif col.name == "amount":
            bad = (values <= 0).to_numpy()
            problems.add(bad, display.get(col.name, col.name),
                         [f"amount must be greater than 0, got {v:g}" for v in values[bad]])
        else:
            bad = (values < 0).to_numpy()
            problems.add(bad, display.get(col.name, col.name),
                         [f"{col.name} must be 0 or more, got {v:g}" for v in values[bad]])
    if table == "invoices":
        issue = frame["issue_date"]
        for later in ("due_date", "escalated_at", "written_off_at"):
            bad = (frame[later] < issue).to_numpy()
            problems.add(bad, display.get(later, later), [
                f"{later} {a:%Y-%m-%d} is before issue_date {b:%Y-%m-%d}"
                for a, b in zip(frame[later][bad], issue[bad], strict=True)
            ])  # fmt: skip
    if table == "reminders":
        seq = frame["sequence"]
        bad = (seq < 1).fillna(False).to_numpy(dtype=bool)
        problems.add(bad, display.get("sequence", "sequence"),
                     [f"sequence must be 1 or more, got {v}" for v in seq[bad]])
        if "deadline_days" in frame:
            days = frame["deadline_days"]
            bad = ((days < 1) | (days > MAX_DEADLINE_DAYS)).fillna(False).to_numpy(dtype=bool)
            problems.add(bad, display.get("deadline_days", "deadline_days"), [
                f"deadline_days must be 1 to {MAX_DEADLINE_DAYS} days after the reminder "
                f"(empty: none stated), got {v}" for v in days[bad]])


def _derive_sequence(frame: pd.DataFrame, problems: _Problems, display, notes) -> None:
    """Number each invoice's reminders 1, 2, ... by ``sent_at`` where the source has none."""
    seq = frame["sequence"].astype("Int64")
    missing = seq.isna()
    if not missing.any():
        frame["sequence"] = seq
        return
    groups = frame["invoice_id"]
    any_given = (~missing).groupby(groups).transform("any")
    partial = (missing & any_given).to_numpy()
    problems.add(partial, display.get("sequence", "sequence"),
                 [f"sequence missing while other reminders of invoice {i!r} have one"
                  for i in groups[partial]])  # fmt: skip
    derive = (missing & ~any_given).to_numpy()
    order = pd.DataFrame({"inv": groups, "sent": frame["sent_at"],
                          "pos": np.arange(len(frame))})[derive]  # fmt: skip
    order = order.sort_values(["inv", "sent", "pos"])
    ranks = order.groupby("inv", sort=False).cumcount() + 1
    seq[ranks.index] = ranks.astype("Int64")
    frame["sequence"] = seq
    n_invoices = order["inv"].nunique()
    notes.append(f"sequence derived from sent_at order for {n_invoices} invoice(s)")


def _duplicates(frame, table: str, problems: _Problems, display, raw: RawTable,
                credit: np.ndarray | None = None) -> None:  # fmt: skip
    """Reject every repeat of a key but its first row, naming both rows."""
    key = list(TABLES[table].key)
    if not key or _all_distinct(frame, key):
        return
    ok = frame[key].notna().all(axis=1) & (frame[key].astype(str) != "").all(axis=1)
    if credit is not None:  # a credit note may repeat the number of the invoice it credits
        ok = ok & ~credit
    keyed = frame.loc[ok, key]
    dup = keyed.duplicated(keep=False)
    if not dup.any():
        return
    positions = pd.Series(np.arange(len(frame)), index=frame.index)[ok][dup]
    first = {}
    already_bad = set(problems.positions().tolist())
    messages, mask = [], np.zeros(len(frame), dtype=bool)
    for pos in positions:
        value = tuple(v.item() if isinstance(v, np.generic) else v for v in frame[key].iloc[pos])
        if value not in first:
            first[value] = pos
            continue
        mask[pos] = True
        shown = value[0] if len(value) == 1 else value
        fate = "is rejected too" if first[value] in already_bad else "is kept"
        messages.append((pos, f"duplicate {' + '.join(key)} {shown!r}: {raw.unit} "
                              f"{raw.rows[first[value]]} has it too and {fate}"))  # fmt: skip
    by_pos = dict(messages)
    label = display.get(key[-1], key[-1]) if len(key) > 1 else display.get(key[0], key[0])
    problems.add(mask, label, [by_pos[p] for p in np.flatnonzero(mask)])


def _all_distinct(frame: pd.DataFrame, key: list[str]) -> bool:
    """True when no two rows share a key: one hash pass, the usual case's only cost."""
    values = frame[key[0]] if len(key) == 1 else frame[key]
    return not values.duplicated().any()


# ====================================================================== across tables
def check_references(loads: dict[str, TableLoad]) -> None:
    """Reject rows that point at a missing (or rejected) customer or invoice.

    An invoice's customer must exist; a payment's and a reminder's invoice must exist,
    and a payment cannot be before its invoice's issue date; an assignment's customer
    must exist. Changes ``loads`` in place.
    """
    customers, invoices = loads.get("customers"), loads["invoices"]
    if customers is not None:
        _must_exist([loads[name] for name in ("invoices", "assignments") if name in loads],
                    "customer_id", customers)  # fmt: skip
    # One hash pass over the invoice ids and every id pointing at them.
    at = dict(zip(("payments", "reminders"),
                  _must_exist([loads.get("payments"), loads.get("reminders")], "invoice_id",
                              invoices), strict=True))  # fmt: skip
    payments = loads.get("payments")
    if payments is not None and len(payments.frame):
        pay_at = at["payments"]
        issue = invoices.frame["issue_date"].to_numpy()[pay_at]
        bad = payments.frame["paid_at"].to_numpy() < issue
        inv_row = invoices.rows[pay_at[bad]]
        messages = [
            f"paid_at {pd.Timestamp(p):%Y-%m-%d} is before the invoice's issue_date "
            f"{pd.Timestamp(i):%Y-%m-%d} ({invoices.report.source}, {invoices.report.unit} {r})"
            for p, i, r in zip(payments.frame["paid_at"].to_numpy()[bad], issue[bad], inv_row,
                               strict=True)  # fmt: skip
        ]
        payments.reject(bad, "paid_at", messages)
        _note_overpaid(payments, invoices, pay_at[~bad])


def _lookup(parent: pd.Series, children: list[pd.Series]) -> list[np.ndarray]:
    """Each child value's row in ``parent`` (its first row there; -1 where absent).

    One hash pass over all the values (pyarrow's dictionary encoding of the parent's
    values followed by the children's: a code below the number of distinct parent values
    is a parent value, and, the parent's values being unique as they are once duplicates
    are rejected, the code is its row). Values that are not text use pandas' index.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parts = [_large_text_chunks(s) for s in (parent, *children)]
    except (pa.ArrowException, TypeError, ValueError):  # not all text: pandas' way
        index = pd.Index(parent)
        first = None if index.is_unique else np.flatnonzero(~index.duplicated())
        if first is not None:
            index = index[first]
        out = []
        for child in children:
            found = index.get_indexer(child)
            out.append(found if first is None else np.where(found >= 0, first[found], -1))
        return out
    chunks = [chunk for part in parts for chunk in part]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.large_string()))
    codes = np.concatenate([np.asarray(c.indices.fill_null(-1), dtype=np.int64)
                            for c in encoded.chunks] or [np.zeros(0, np.int64)])  # fmt: skip
    n = len(parent)
    own = codes[:n]
    distinct = int(own.max()) + 1 if n else 0
    if distinct == n:  # unique: codes are the rows (first appearances are numbered in order)
        first = np.arange(n)
    else:
        _, where = np.unique(own, return_index=True)
        first = np.full(distinct, -1, dtype=np.int64)
        first[own[where]] = where
    out, start = [], n
    for child in children:
        mine = codes[start:start + len(child)]
        start += len(child)
        valid = (mine >= 0) & (mine < distinct)
        rows = np.full(len(mine), -1, dtype=np.int64)
        rows[valid] = first[mine[valid]]
        out.append(rows)
    return out


def _large_text_chunks(values: pd.Series) -> list:
    """A column of text as pyarrow ``large_string`` chunks (no copy of pyarrow text)."""
    import pyarrow as pa

    if is_arrow_text(values):
        arr = pa.array(values.array)
        chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    else:
        data = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(data, skipna=False) not in ("string", "empty"):
            raise TypeError("not text")
        chunks = [pa.array(data, type=pa.large_string())]
    return [c if c.type == pa.large_string() else c.cast(pa.large_string()) for c in chunks]


def _note_overpaid(payments: TableLoad, invoices: TableLoad, at: np.ndarray) -> None:
    """A note (not a reject) for invoices paid more than their amount: refunds or typos?

    ``at`` is each payment's invoice's position in the invoices frame.
    """
    frame = payments.frame
    if not len(frame):
        return
    credited = (frame["amount"] + frame["discount"] - frame["fee"]).to_numpy()
    n = len(invoices.frame)
    paid = np.bincount(at, weights=credited, minlength=n)
    received = np.bincount(at, minlength=n) > 0
    amount = invoices.frame["amount"].to_numpy()
    over = np.flatnonzero(received & (paid > amount * (1 + FULL_PAYMENT_TOLERANCE)))
    if len(over):
        ids = invoices.frame["invoice_id"].to_numpy()
        examples = ", ".join(repr(i) for i in sorted(ids[over])[:5])
        payments.report.notes.append(
            f"{len(over)} invoice(s) received more than their amount (payments + discounts "
            f"- fees), e.g. {examples}: kept, check for refunds or typing errors"
        )


def _must_exist(children: list[TableLoad | None], column: str, parent: TableLoad) -> list:
    """Reject each child's rows whose ``column`` is not in ``parent`` (one hash pass for
    all children); returns, per child, its kept rows' positions in the parent's frame
    (also kept in the child's ``parents``, for :func:`finish_ids`)."""
    todo = [c for c in children if c is not None and len(c.frame)]
    found = dict(zip(map(id, todo), _lookup(parent.frame[column], [c.frame[column] for c in todo]),
                     strict=True)) if todo else {}  # fmt: skip
    out = []
    for child in children:
        if child is None or not len(child.frame):
            out.append(np.zeros(0, dtype=np.int64))
            continue
        at = found[id(child)]
        _reject_missing(child, column, parent, at < 0)
        child.parents[column] = at[at >= 0]
        out.append(child.parents[column])
    return out


def _reject_missing(child: TableLoad, column: str, parent: TableLoad, bad: np.ndarray) -> None:
    values = child.frame[column]
    messages = []
    forms: dict[str, str] = {}
    if bad.any():  # parent ids that differ from a missing one only by zeros or '.0'
        wanted = {normalise_id(str(v)) for v in values[bad]}
        ids = parent.frame[column]
        near = ids[ids.isin(wanted).to_numpy(dtype=bool) | odd_id_mask(ids)]
        for key in near:  # the first spelling is named
            forms.setdefault(normalise_id(str(key)), key)
    for value in values[bad]:
        twin = forms.get(normalise_id(str(value)))
        if value in parent.rejected_keys:
            messages.append(f"{column} {value!r} was rejected ({parent.rejected_keys[value]})")
        elif value in parent.credited:
            messages.append(f"{column} {value!r} was credited in full by a credit note "
                            f"({parent.credited[value]}): nothing was left to pay")  # fmt: skip
        else:
            messages.append(f"{column} {value!r} is not in {parent.table} "
                            f"({parent.report.source})"
                            + (f"; {twin!r} is, which differs only by leading zeros or a "
                               f"'.0': set normalise_ids: true in the mapping if they are "
                               f"the same" if twin is not None else ""))  # fmt: skip
    child.reject(bad, column, messages)


def finish_ids(loads: dict[str, TableLoad]) -> None:
    """Id columns left as pyarrow text (``conform(final=False)``) become ``object``.

    A column pointing at another table (``TableLoad.parents``) takes that table's string
    objects: a payment's invoice id is the invoice's own ``str`` (no second copy of a
    million ids, and no conversion).
    """
    points_at = {"invoice_id": "invoices", "customer_id": "customers"}
    order = sorted(loads, key=lambda t: ("customers", "invoices").index(t)
                   if t in ("customers", "invoices") else 2)  # fmt: skip
    for name in order:
        load = loads[name]
        spec = TABLES[name]
        done = {}
        for col in spec.columns:
            if col.kind != "id" or col.name not in load.frame:
                continue
            values = load.frame[col.name]
            if not is_arrow_text(values):
                continue
            parent = points_at.get(col.name)
            at = load.parents.get(col.name)
            if (parent != name and parent in loads and at is not None and len(at) == len(values)
                    and loads[parent].frame[col.name].dtype == object):  # fmt: skip
                shared = loads[parent].frame[col.name].to_numpy()[at]
            else:
                shared = to_object(values, repeats=None if spec.key != (col.name,) else False)
                shared = shared.to_numpy()
            done[col.name] = shared
        if done:  # a new frame of the same columns (no copy of the others)
            load.frame = pd.DataFrame({c: done[c] if c in done else column_data(load.frame[c])
                                       for c in load.frame.columns},
                                      index=load.frame.index, copy=False)  # fmt: skip


def derive_customers(invoices: pd.DataFrame, mapping: ColumnMapping | None = None) -> pd.DataFrame:
    """A customers table from the invoices (for exports without one): one row per customer.

    Each customer's currency is its invoices' most frequent currency; other columns get
    the mapping's ``customers: defaults:`` (e.g. ``{segment: retail}``), else the schema's
    defaults.

    >>> inv = pd.DataFrame({"customer_id": ["C1", "C1"], "currency": ["EUR", "EUR"]})
    >>> m = ColumnMapping.from_dict({"customers": {"defaults": {"segment": "retail"}}})
    >>> derive_customers(inv, m)[["customer_id", "segment", "currency"]].values.tolist()
    [['C1', 'retail', 'EUR']]
    """
    raw = pd.DataFrame({"customer_id": pd.unique(invoices["customer_id"])})
    if len(invoices):
        top = (invoices.groupby("customer_id")["currency"]
               .agg(lambda s: s.value_counts().index[0]))  # fmt: skip
        raw["currency"] = raw["customer_id"].map(top)
    defaults = (mapping or ColumnMapping()).table("customers").defaults
    derived = ColumnMapping.from_dict({"customers": {"defaults": defaults}}) if defaults else None
    load = conform(RawTable("customers", raw, "customers (derived from invoices)", unit="row"),
                   derived)  # fmt: skip
    return load.frame


def _currency_from_invoices(customers: TableLoad, invoices: TableLoad) -> None:
    """Customers derived from a flat export without a currency: their invoices' usual one."""
    frame = customers.frame
    missing = frame["currency"].isna()
    if not missing.any() or not len(invoices.frame):
        return
    top = (invoices.frame.groupby("customer_id")["currency"]
           .agg(lambda s: s.value_counts().index[0]))  # fmt: skip
    frame.loc[missing, "currency"] = frame.loc[missing, "customer_id"].map(top)
    customers.report.notes.append(f"currency: {int(missing.sum())} customer(s) given their "
                                  f"invoices' most frequent currency")  # fmt: skip


def _source_column(raw: RawTable, table: str, target: str, mapping: ColumnMapping) -> str | None:
    """The source column that becomes ``table.target`` under the mapping (or by name)."""
    dropped = mapping.dropped(table)
    found = [str(c) for c in raw.frame.columns if normalise_name(c) not in dropped]
    renames = mapping.renames(table, found)
    for col in found:
        if (renames.get(col) or normalise_name(col)) == target:
            return col
    return None


def derive_payments_raw(invoices: RawTable, mapping: ColumnMapping) -> RawTable:
    """Payments from a flat export's rows: each row with a payment date is one payment.

    Rows without a payment date are open invoices, not rejected payments (counted in a
    note). Raises :class:`ValidationError` when no column gives the payment date.
    """
    source = _source_column(invoices, "payments", "paid_at", mapping)
    if source is None:
        raise ValidationError([ValidationIssue(
            invoices.file, None, "paid_at",
            "read as a flat export (one file, one row per invoice), which needs the "
            "payment (settlement) date to derive payments: map its column, e.g. tables: "
            "{payments: {columns: {<your column>: paid_at}}}, or declare that the export "
            "has no payments: absent: [payments]. (A folder of table files is loaded by "
            "passing the folder; load one table file with load_table.)", "payments",
            invoices.unit)])  # fmt: skip
    text = cells_as_text(invoices.frame[source], invoices.textual)
    dated = ~missing_cells(text, "date").to_numpy()
    credit = _credit_rows(invoices, mapping)
    settled = dated & ~credit
    frame = invoices.frame.loc[settled].reset_index(drop=True)
    n_open = int((~dated & ~credit).sum())
    note = (f"derived from {invoices.file}: {int(settled.sum())} row(s) with a payment date "
            f"({source!r}) are payments; {n_open} without one are open invoices, not "
            f"payments")  # fmt: skip
    if credit.any():
        note += f"; {int(credit.sum())} credit-note row(s) are not payments"
    return RawTable("payments", frame, invoices.file, unit=invoices.unit,
                    rows=invoices.rows[settled], notes=[note], separator=invoices.separator,
                    textual=invoices.textual, derived=invoices.file)  # fmt: skip


def _credit_rows(invoices: RawTable, mapping: ColumnMapping) -> np.ndarray:
    """Rows of a flat export that are credit notes (a negative amount or the type column)."""
    frame = invoices.frame
    credit = np.zeros(len(frame), dtype=bool)
    amount = _source_column(invoices, "invoices", "amount", mapping)
    if amount is not None:
        text = cells_as_text(frame[amount], invoices.textual).str.strip()
        credit |= (text.str.startswith("-") | text.str.fullmatch(r"\(.*\)")).to_numpy()
    spec = mapping.table("invoices").credit_notes
    if spec.get("column") in frame and spec.get("values"):
        words = {normalise_name(v) for v in spec["values"]}
        kinds = cells_as_text(frame[spec["column"]], invoices.textual).map(normalise_name)
        credit |= kinds.isin(words).to_numpy()
    return credit


def derive_customers_raw(invoices: RawTable, mapping: ColumnMapping) -> RawTable:
    """Customers from a flat export's rows: one per customer id (its first row).

    Rows repeating an id are not rejects: the count is noted, and so are customers whose
    rows disagree on a customer column (the first row's value is kept).
    """
    source = _source_column(invoices, "customers", "customer_id", mapping)
    frame = invoices.frame
    if source is None:  # conform will say the column is missing
        return RawTable("customers", frame.iloc[:0], invoices.file, unit=invoices.unit,
                        rows=invoices.rows[:0], derived=invoices.file)  # fmt: skip
    ids = cells_as_text(frame[source], invoices.textual)
    if mapping.normalise_ids:
        ids = ids.map(normalise_id)
    first = ~ids.duplicated().to_numpy() & (ids != "").to_numpy()
    notes = [f"derived from {invoices.file}: {int(first.sum())} customer(s), one per "
             f"{source!r} (the first row of each; {int(len(ids) - first.sum())} rows repeat "
             f"a customer)"]  # fmt: skip
    for col in (c for c in frame.columns if c != source):
        dst = mapping.renames("customers", [str(col)]).get(col) or normalise_name(col)
        if dst in TABLES["customers"].column_names and dst != "customer_id":
            values = cells_as_text(frame[col], invoices.textual)
            varied = values[values != ""].groupby(ids[values != ""]).nunique()
            n_varied = int((varied > 1).sum())
            if n_varied:
                notes.append(f"{n_varied} customer(s) have different {col!r} values on "
                             f"different rows: the first row's is kept")  # fmt: skip
    return RawTable("customers", frame.loc[first].reset_index(drop=True), invoices.file,
                    unit=invoices.unit, rows=invoices.rows[first], notes=notes,
                    separator=invoices.separator, textual=invoices.textual,
                    derived=invoices.file)  # fmt: skip


def validate_tables(raws: dict, mapping: ColumnMapping | None = None, strict: bool = False,
                    keep_extra: bool = False, check_raw=None):  # fmt: skip
    """Conform every table, check references between them, report (the loaders' core).

    ``raws`` maps table name to its :class:`RawTable` (``None`` for a table the source
    lacks: customers are then derived from invoices, other tables are empty), or to a
    function of no arguments that reads it: tables are then read and conformed one at a
    time, so only one table's raw text is in memory at once. Problems with whole files of
    several tables are raised together: reading problems first (every table is read even
    after one fails), then ``check_raw(name, raw)``'s (called on each table read), then
    conforming ones. Returns ``(frames, report)``.
    """
    loads: dict[str, TableLoad] = {}
    read: dict[str, RawTable | None] = {}
    read_issues: list[ValidationIssue] = []
    checked: ValidationError | None = None
    file_issues: list[ValidationIssue] = []
    for name in TABLES:
        raw = raws.get(name)
        if callable(raw):
            try:
                raw = raw()
            except ValidationError as exc:
                read_issues.extend(exc.issues)
                continue
        read[name] = raw
        if raw is None:
            continue
        if check_raw is not None and checked is None:
            try:
                check_raw(name, raw)
            except ValidationError as exc:
                checked = exc
        if read_issues or checked is not None:
            continue  # an error will be raised: no need to conform
        currency_of = None
        if name == "payments" and "invoices" in loads:  # amounts read by their currency
            currency_of = functools.partial(_currency_by_invoice, loads["invoices"].frame)
        try:
            loads[name] = conform(raw, mapping, keep_extra=keep_extra, currency_of=currency_of,
                                  final=False)  # fmt: skip
            # Its text is read: free it before the next table. (``Series.str`` keeps a
            # reference cycle to its Series: a big table's text waits for the collector.)
            big = len(raw.frame) >= 200_000
            raw.frame = pd.DataFrame(columns=raw.frame.columns)  # (a 0-row slice keeps buffers)
            release_arrow_memory(collect=big)
        except ValidationError as exc:
            file_issues.extend(exc.issues)
    if read_issues:
        raise ValidationError(read_issues)
    if read.get("invoices") is None:
        raise ValidationError([ValidationIssue("source", None, None,
                                               "no invoices table found", "invoices")])
    if checked is not None:
        raise checked
    if file_issues:
        raise ValidationError(file_issues)
    mapping = mapping or ColumnMapping()
    customers = loads.get("customers")
    if customers is not None and customers.report.status == "derived":
        _currency_from_invoices(customers, loads["invoices"])
    reject_future_dates(loads, mapping.export_date)
    apply_credit_notes(loads["invoices"])
    if read.get("customers") is None:
        frame = derive_customers(loads["invoices"].frame, mapping)
        defaults = mapping.table("customers").defaults
        report = TableReport("customers", "derived from invoices", len(frame), len(frame),
                             unit="row", status="derived",
                             notes=[f"no customers table: {len(frame)} customer(s) derived "
                                    f"from the invoices"
                                    + (f" (mapping defaults: {defaults})" if defaults else "")])  # fmt: skip
        loads["customers"] = TableLoad("customers", frame, np.arange(1, len(frame) + 1), report)
    check_references(loads)
    release_arrow_memory()  # the lookups' hash tables, before the ids become objects
    finish_ids(loads)
    frames, reports = {}, {}
    for name in TABLES:
        if name in loads:
            frame = loads[name].frame
            frame.index = pd.RangeIndex(len(frame))  # in place: a copy would double the peak
            frames[name] = frame
            reports[name] = loads[name].report
        else:
            frames[name] = conform(RawTable(name, _empty_raw(name), name, unit="row")).frame
            note = ("declared absent in the mapping: analyses see no " + name
                    if name in mapping.absent else "not in the source: empty table")
            reports[name] = TableReport(name, "(absent)", unit="row", notes=[note],
                                        status="absent")  # fmt: skip
    del loads
    release_arrow_memory()
    report = LoadReport(reports)
    if strict:
        report.raise_if_rejected()
    return frames, report


#: Columns holding when something happened: none can be after the export was made.
#: (Due dates and an experiment's assignment date may lie ahead.)
EVENT_DATES: dict[str, tuple[str, ...]] = {
    "customers": ("created_at",),
    "invoices": ("issue_date", "escalated_at", "written_off_at"),
    "reminders": ("sent_at",),
    "payments": ("paid_at",),
}


def export_date_from(dates: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The export date the bulk of the data points to, and the latest date accepted.

    The bulk ends at the 99th percentile of the event dates; a date is accepted up to a
    margin after it (the bulk's span, at least a year), so one far-future typo such as
    2099 cannot move the export date, while the last weeks of real data always pass.
    Returns ``(export_date, limit)``: the latest accepted date and the limit.

    >>> d = pd.to_datetime(["2025-01-02", "2025-03-01", "2025-05-31", "2099-02-25"])
    >>> [str(x.date()) for x in export_date_from(pd.Series(d))]
    ['2025-05-31', '2026-06-01']
    """
    values = dates.to_numpy(dtype="datetime64[ns]")
    values = values[~np.isnat(values)]
    if not len(values):
        return None
    # Both quantiles in one partition of the day numbers (as Series.quantile computes them)
    start, end = (pd.Timestamp(np.datetime64(int(v), "ns")) for v in np.percentile(
        values.view("i8"), np.array([0.01, 0.99]) * 100.0, method="lower"))  # fmt: skip
    limit = end + max(pd.Timedelta(days=366), end - start)
    return pd.Timestamp(values[values <= limit.to_datetime64()].max()), limit


def reject_future_dates(loads: dict[str, TableLoad], export_date=None) -> None:
    """Reject rows whose event dates are after the export date (file, line and column).

    ``export_date`` is the mapping's; without it the date is derived from the bulk of
    the data (:func:`export_date_from`), never from its maximum. Changes ``loads``.
    """
    if export_date is not None:
        limit = parse_date(export_date, "export_date")
        why = f"the export date {limit:%Y-%m-%d} (mapping: export_date)"
    else:
        dates = [loads[t].frame[c] for t, cols in EVENT_DATES.items() if t in loads
                 for c in cols if c in loads[t].frame]  # fmt: skip
        found = export_date_from(pd.concat(dates, ignore_index=True)) if dates else None
        if found is None:
            return
        end, limit = found
        why = (f"the export date: the data's dates run to {end:%Y-%m-%d} (derived from the "
               f"bulk of the data; declare export_date: in the mapping if that is wrong)")
    for table, cols in EVENT_DATES.items():
        if table not in loads:
            continue
        load = loads[table]
        for col in cols:
            if col not in load.frame:
                continue
            values = load.frame[col]
            bad = (values > limit).to_numpy()
            if bad.any():
                label = col
                load.reject(bad, label, [f"{col} {v:%Y-%m-%d} is after {why}"
                                         for v in values[bad]])  # fmt: skip


def apply_credit_notes(invoices: TableLoad) -> None:
    """Apply the credit notes found among the invoices to the invoices they credit.

    A credit note names the invoice it credits (the mapping's ``credit_notes.credits``
    column), else it is applied to the same customer's invoice of the same amount and
    currency issued on or before it (the latest such). The invoice's amount is reduced;
    an invoice credited in full leaves the receivables. A credit note matching no
    invoice is kept out of the receivables and listed. All of it goes into the report.
    """
    credits = invoices.credits
    if credits is None or not len(credits):
        return
    frame = invoices.frame.copy()
    report = invoices.report
    position = {v: i for i, v in enumerate(frame["invoice_id"])}
    amounts = frame["amount"].to_numpy(dtype=float).copy()
    # Each credit note is matched among its customer's invoices only (a ledger with a
    # million invoices and thousands of credit notes stays linear).
    by_customer = frame.groupby(frame["customer_id"].astype(object), sort=False).indices
    currency = frame["currency"].to_numpy(dtype=object)
    issued = frame["issue_date"].to_numpy()
    applied = {"named": 0, "matched": 0, "unmatched": 0}
    unmatched_rows = []
    for cn in credits.to_dict("records"):
        value = -float(cn["amount"])
        target, how = None, "unmatched"
        named = cn.get("_credits") or ""
        if named and named in position:
            target, how = position[named], "named"
        else:
            mine = by_customer.get(cn["customer_id"], np.zeros(0, dtype=int))
            same = ((currency[mine] == cn["currency"])
                    & (issued[mine] <= np.datetime64(cn["issue_date"]))
                    & np.isclose(amounts[mine], value))  # fmt: skip
            hits = mine[same]
            if len(hits):
                target = hits[np.argmax(issued[hits])]
                how = "matched"
        applied[how] += 1
        report.credit_notes.append({
            "row": int(cn["_row"]), "invoice_id": cn["invoice_id"],
            "customer_id": cn["customer_id"], "amount": value, "currency": cn["currency"],
            "applied_to": None if target is None else frame["invoice_id"].iloc[target],
            "how": how})  # fmt: skip
        if target is None:
            unmatched_rows.append(int(cn["_row"]))
        else:
            amounts[target] -= value
    full = amounts <= 1e-9 * np.abs(frame["amount"].to_numpy())  # nothing left to collect
    frame["amount"] = amounts
    report.set_aside = len(credits) + int(full.sum())
    for value, row in zip(frame.loc[full, "invoice_id"], invoices.rows[full], strict=True):
        invoices.credited[str(value)] = invoices.where(int(row))
    invoices.frame = frame.loc[~full]
    invoices.rows = invoices.rows[~full]
    report.rows_used = len(invoices.frame) + report.set_aside
    parts = [f"{applied['named']} to the invoice they name"] if applied["named"] else []
    if applied["matched"]:
        parts.append(f"{applied['matched']} to the customer's invoice of the same amount")
    text = (f"{len(credits)} credit note(s) (negative amounts or credit-note rows) are not "
            f"invoices: applied {', '.join(parts) or 'to none'}")
    if full.any():
        text += f"; {int(full.sum())} invoice(s) credited in full left the receivables"
    if unmatched_rows:
        text += (f"; {len(unmatched_rows)} match no invoice and are kept out of the "
                 f"receivables ({report.unit}s {', '.join(map(str, unmatched_rows[:10]))})")
    report.notes.append(text)


def _empty_raw(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES[name].column_names})


def validate_portfolio(portfolio, strict: bool = False, keep_extra: bool = False):
    """Check an in-memory :class:`~collections_lab.data.portfolio.Portfolio` like a file.

    Returns ``(clean_portfolio, report)``; rows are named ``row N`` (1-based) of each
    table. Use it on hand-made frames before analysis.

    Example:
        >>> bad = portfolio.invoices.head(3).assign(amount=[100.0, -1.0, 50.0])
        >>> checked, report = cl.validate_portfolio(cl.Portfolio(portfolio.customers, bad))
        >>> len(checked.invoices), report.tables["invoices"].rows_rejected
        (2, 0)
    """
    from .portfolio import Portfolio

    raws = {}
    for name in TABLES:
        frame = portfolio.table(name)
        raws[name] = RawTable(name, frame.reset_index(drop=True), name, unit="row")
    frames, report = validate_tables(raws, strict=strict, keep_extra=keep_extra)
    return Portfolio(**frames, source=portfolio.source,
                     observed_until=getattr(portfolio, "observed_until", None),
                     experiment=getattr(portfolio, "experiment", None),
                     strategies=dict(getattr(portfolio, "strategies", {}) or {})), report
