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
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_number, t
from .mapping import ColumnMapping, list_presets, load_preset, normalise_name
from .parsing import coerce_column, per_row, sniff_decimal
from .schema import FULL_PAYMENT_TOLERANCE, TABLES, Column

#: How many issues a ValidationError prints (all are in ``.issues``).
MAX_PRINTED_ISSUES = 50


# =============================================================================== issues
@dataclass(frozen=True)
class ValidationIssue:
    """One problem: where it is (file, row, column) and what is wrong.

    ``row`` is the line number in a text file (``unit="line"``, header = line 1) or the
    1-based row number in a Parquet / database table (``unit="row"``); ``None`` for a
    problem with the whole file or column.
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
class TableReport:
    """What happened to one table: rows read, used, rejected (with reasons) and notes."""

    table: str
    source: str
    rows_read: int = 0
    rows_used: int = 0
    rejected_rows: list[int] = field(default_factory=list)
    issues: list[ValidationIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: str = "line"

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    def reasons(self) -> dict[str, int]:
        """Rejected-row reasons with their counts (the message's kind, not its values)."""
        counts: dict[str, int] = {}
        for issue in self.issues:
            key = _reason_kind(issue.message)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _reason_kind(message: str) -> str:
    # Drop quoted values and dates so "amount must be > 0, got -5" groups with "... -7".
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
        self.report.rows_used = len(self.frame)


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


def conform(raw: RawTable, mapping: ColumnMapping | None = None,
            keep_extra: bool = False) -> TableLoad:  # fmt: skip
    """Rename, type and check one raw table against the schema; reject bad rows.

    Raises :class:`ValidationError` for problems with the whole table (a missing required
    column, two columns mapped to the same name). Row problems reject the row and are
    listed in the returned :class:`TableLoad`'s report.
    """
    mapping = mapping or ColumnMapping()
    spec = TABLES[raw.table]
    columns, display = _match_columns(raw, spec, mapping)
    n = len(raw.frame)
    problems = _Problems(raw)
    notes = list(raw.notes)
    tmap = mapping.table(spec.name)
    extra = [c for c in raw.frame.columns if c not in display.values()]
    if extra:
        what = "kept" if keep_extra else "ignored"
        notes.append(f"columns not in the schema {what}: {', '.join(map(str, extra))}")

    amounts = [columns[c.name] for c in spec.columns if c.kind == "amount" and c.name in columns]
    decimal = mapping.decimal or sniff_decimal(amounts, raw.separator, raw.textual, notes)
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        source = columns.get(col.name)
        label = display.get(col.name, col.name)
        default = tmap.defaults.get(col.name)
        if source is None:
            if default is not None:
                source = pd.Series([default] * n, index=raw.frame.index, dtype=object)
                notes.append(f"{col.name}: not in the source, set to {default!r} (mapping)")
            else:
                out[col.name] = _default_column(col, n, raw.frame.index)
                if col.default is not None or col.kind == "bool":
                    notes.append(f"{col.name}: not in the source, default {col.default!r}")
                continue
        values, bad, messages = coerce_column(source, col, spec.name, mapping, decimal,
                                        raw.textual, default, notes)  # fmt: skip
        out[col.name] = values
        problems.add(bad, label, messages)
    frame = pd.DataFrame(out, index=raw.frame.index)
    if keep_extra:
        for c in extra:
            frame[c] = raw.frame[c]

    _row_rules(frame, spec.name, problems, display)
    if spec.name == "reminders":
        _derive_sequence(frame, problems, display, notes)
    _duplicates(frame, spec.name, problems, display, raw)

    bad_positions = problems.positions()
    keep = np.ones(n, dtype=bool)
    keep[bad_positions] = False
    report = TableReport(
        table=spec.name, source=raw.file, rows_read=n + _rows_broken(raw),
        rows_used=int(keep.sum()), unit=raw.unit, notes=notes,
    )  # fmt: skip
    report.issues = list(raw.issues)
    for pos, column, msg in sorted(problems.items, key=lambda p: p[0]):
        report.issues.append(
            ValidationIssue(raw.file, int(raw.rows[pos]), column, msg, spec.name, raw.unit)
        )
    broken_rows = [i.row for i in raw.issues if i.row is not None]
    report.rejected_rows = sorted(set(broken_rows) | set(raw.rows[bad_positions].tolist()))
    report.issues.sort(key=lambda i: (i.row if i.row is not None else -1))
    used = _final_dtypes(frame.loc[keep].reset_index(drop=True), spec)
    load = TableLoad(spec.name, used, raw.rows[keep], report)
    if len(spec.key) == 1:
        key = spec.key[0]
        for pos in bad_positions:
            value = frame[key].iloc[pos]
            if isinstance(value, str) and value:
                load.rejected_keys.setdefault(value, load.where(int(raw.rows[pos])))
    return load


def _final_dtypes(frame: pd.DataFrame, spec) -> pd.DataFrame:
    """The schema's dtypes on the kept rows (whole-number columns become int64 when full)."""
    for col in spec.columns:
        values = frame[col.name]
        if col.kind == "int" and not values.isna().any():
            frame[col.name] = values.astype("int64")
        elif col.kind == "bool":
            frame[col.name] = values.astype(bool)
        elif col.kind == "amount":
            frame[col.name] = values.astype("float64")
        elif col.kind == "date":
            frame[col.name] = values.astype("datetime64[ns]")
        elif values.dtype != object:
            frame[col.name] = values.astype(object)
    return frame


def _rows_broken(raw: RawTable) -> int:
    return len({i.row for i in raw.issues if i.row is not None})


def _match_columns(raw: RawTable, spec, mapping: ColumnMapping):
    """Source column for each schema column, or a ValidationError naming what is missing."""
    found = [str(c) for c in raw.frame.columns]
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
                f"(or rename the others in the mapping)", spec.name, raw.unit,
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
def _row_rules(frame: pd.DataFrame, table: str, problems: _Problems, display) -> None:
    spec = TABLES[table]
    for col in spec.columns:
        if col.kind != "amount" or col.name not in frame:
            continue
        values = frame[col.name]
        if col.name == "amount":
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


def _duplicates(frame, table: str, problems: _Problems, display, raw: RawTable) -> None:
    """Reject every repeat of a key but its first row, naming both rows."""
    key = list(TABLES[table].key)
    if not key:
        return
    ok = frame[key].notna().all(axis=1) & (frame[key].astype(str) != "").all(axis=1)
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


# ====================================================================== across tables
def check_references(loads: dict[str, TableLoad]) -> None:
    """Reject rows that point at a missing (or rejected) customer or invoice.

    An invoice's customer must exist; a payment's and a reminder's invoice must exist,
    and a payment cannot be before its invoice's issue date; an assignment's customer
    must exist. Changes ``loads`` in place.
    """
    customers, invoices = loads.get("customers"), loads["invoices"]
    if customers is not None:
        _must_exist(invoices, "customer_id", customers)
        if "assignments" in loads:
            _must_exist(loads["assignments"], "customer_id", customers)
    for name in ("payments", "reminders"):
        if name in loads:
            _must_exist(loads[name], "invoice_id", invoices)
    payments = loads.get("payments")
    if payments is not None and len(payments.frame):
        inv = invoices.frame.set_index("invoice_id")
        issue = payments.frame["invoice_id"].map(inv["issue_date"])
        inv_row = payments.frame["invoice_id"].map(
            pd.Series(invoices.rows, index=invoices.frame["invoice_id"]))
        bad = (payments.frame["paid_at"] < issue).to_numpy()
        messages = [
            f"paid_at {p:%Y-%m-%d} is before the invoice's issue_date {i:%Y-%m-%d} "
            f"({invoices.report.source}, {invoices.report.unit} {r})"
            for p, i, r in zip(payments.frame["paid_at"][bad], issue[bad], inv_row[bad],
                               strict=True)  # fmt: skip
        ]
        payments.reject(bad, "paid_at", messages)
        _note_overpaid(payments, invoices)


def _note_overpaid(payments: TableLoad, invoices: TableLoad) -> None:
    """A note (not a reject) for invoices paid more than their amount: refunds or typos?"""
    frame = payments.frame
    if not len(frame):
        return
    credited = frame["amount"] + frame["discount"] - frame["fee"]
    paid = credited.groupby(frame["invoice_id"]).sum()
    amount = invoices.frame.set_index("invoice_id")["amount"].reindex(paid.index)
    over = paid[paid > amount * (1 + FULL_PAYMENT_TOLERANCE)]
    if len(over):
        examples = ", ".join(repr(i) for i in over.index[:5])
        payments.report.notes.append(
            f"{len(over)} invoice(s) received more than their amount (payments + discounts "
            f"- fees), e.g. {examples}: kept, check for refunds or typing errors"
        )


def _must_exist(child: TableLoad, column: str, parent: TableLoad) -> None:
    if not len(child.frame):
        return
    ids = set(parent.frame[column])
    values = child.frame[column]
    bad = ~values.isin(ids).to_numpy()
    messages = []
    for value in values[bad]:
        if value in parent.rejected_keys:
            messages.append(f"{column} {value!r} was rejected ({parent.rejected_keys[value]})")
        else:
            messages.append(f"{column} {value!r} is not in {parent.table} "
                            f"({parent.report.source})")  # fmt: skip
    child.reject(bad, column, messages)


def derive_customers(invoices: pd.DataFrame) -> pd.DataFrame:
    """A customers table from the invoices (for exports without one): one row per customer.

    Each customer's currency is its invoices' most frequent currency; other columns get
    the schema's defaults.
    """
    raw = pd.DataFrame({"customer_id": pd.unique(invoices["customer_id"])})
    if len(invoices):
        top = (invoices.groupby("customer_id")["currency"]
               .agg(lambda s: s.value_counts().index[0]))  # fmt: skip
        raw["currency"] = raw["customer_id"].map(top)
    load = conform(RawTable("customers", raw, "customers (derived from invoices)", unit="row"))
    return load.frame


def validate_tables(raws: dict[str, RawTable | None], mapping: ColumnMapping | None = None,
                    strict: bool = False, keep_extra: bool = False):  # fmt: skip
    """Conform every table, check references between them, report (the loaders' core).

    ``raws`` maps table name to its :class:`RawTable` (``None`` for a table the source
    lacks: customers are then derived from invoices, other tables are empty). Returns
    ``(frames, report)``. Problems with whole files of several tables are raised together.
    """
    if raws.get("invoices") is None:
        raise ValidationError([ValidationIssue("source", None, None,
                                               "no invoices table found", "invoices")])
    loads: dict[str, TableLoad] = {}
    file_issues: list[ValidationIssue] = []
    for name in TABLES:
        raw = raws.get(name)
        if raw is None:
            continue
        try:
            loads[name] = conform(raw, mapping, keep_extra=keep_extra)
        except ValidationError as exc:
            file_issues.extend(exc.issues)
    if file_issues:
        raise ValidationError(file_issues)
    if raws.get("customers") is None:
        frame = derive_customers(loads["invoices"].frame)
        report = TableReport("customers", "derived from invoices", len(frame), len(frame),
                             unit="row",
                             notes=[f"no customers table: {len(frame)} customer(s) derived "
                                    f"from the invoices"])  # fmt: skip
        loads["customers"] = TableLoad("customers", frame, np.arange(1, len(frame) + 1), report)
    check_references(loads)
    frames, reports = {}, {}
    for name in TABLES:
        if name in loads:
            frames[name] = loads[name].frame.reset_index(drop=True)
            reports[name] = loads[name].report
        else:
            frames[name] = conform(RawTable(name, _empty_raw(name), name, unit="row")).frame
            reports[name] = TableReport(name, "(absent)", unit="row",
                                        notes=["not in the source: empty table"])
    report = LoadReport(reports)
    if strict:
        report.raise_if_rejected()
    return frames, report


def _empty_raw(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES[name].column_names})


def validate_portfolio(portfolio, strict: bool = False, keep_extra: bool = False):
    """Check an in-memory :class:`~collections_lab.data.portfolio.Portfolio` like a file.

    Returns ``(clean_portfolio, report)``; rows are named ``row N`` (1-based) of each
    table. Use it on hand-made frames before analysis.
    """
    from .portfolio import Portfolio

    raws = {}
    for name in TABLES:
        frame = portfolio.table(name)
        raws[name] = RawTable(name, frame.reset_index(drop=True), name, unit="row")
    frames, report = validate_tables(raws, strict=strict, keep_extra=keep_extra)
    return Portfolio(**frames, source=portfolio.source), report
