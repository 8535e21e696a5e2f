"""The :class:`Portfolio`: the five tables of the data model travelling together.

Loaders (:mod:`collections_lab.data.loading`) and the simulator both return a Portfolio, so every
analysis takes one object whatever the data's origin.

Example
-------
>>> from collections_lab import simulate, example_strategies
>>> sim = simulate(50, example_strategies()["one_friendly_after_due"], seed=1,
...                start="2025-01-01", end="2025-03-31")
>>> frame = sim.portfolio.payment_times(as_of="2025-06-30")
>>> int(frame["invoice_id"].is_unique)
1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .files import atomic_write, write_csv
from .schema import TABLES

FORMATS = ("csv", "parquet")


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the columns of table ``name`` (for tables a source lacks)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES[name].column_names})


@dataclass
class Portfolio:
    """The five tables of one receivables portfolio (real or simulated).

    Attributes are DataFrames with the columns of :mod:`collections_lab.data.schema`.
    ``source`` says where it came from (a path, a URL or ``"simulation"``);
    ``load_report`` is the :class:`~collections_lab.data.validation.LoadReport` of a loaded
    portfolio (rows read, used and rejected per table), ``None`` for simulated data.
    """

    customers: pd.DataFrame
    invoices: pd.DataFrame
    reminders: pd.DataFrame = field(default_factory=lambda: empty_table("reminders"))
    payments: pd.DataFrame = field(default_factory=lambda: empty_table("payments"))
    assignments: pd.DataFrame = field(default_factory=lambda: empty_table("assignments"))
    source: str = ""
    load_report: object = field(default=None, repr=False, compare=False)

    def table(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables are {list(TABLES)}")
        return getattr(self, name)

    def payment_times(self, as_of=None, experiment_id: str | None = None) -> pd.DataFrame:
        """The payment-times frame (see :func:`collections_lab.data.payment_times.payment_times`)."""
        from .payment_times import payment_times

        assignments = self.assignments if len(self.assignments) else None
        return payment_times(
            self.invoices,
            self.payments,
            customers=self.customers,
            reminders=self.reminders,
            as_of=as_of,
            assignments=assignments,
            experiment_id=experiment_id,
        )

    @property
    def last_date(self) -> pd.Timestamp:
        """The latest date seen in any table: the natural default ``as_of``."""
        dates = [self.invoices["issue_date"].max()]
        if len(self.payments):
            dates.append(self.payments["paid_at"].max())
        if len(self.reminders):
            dates.append(self.reminders["sent_at"].max())
        for col in ("escalated_at", "written_off_at"):
            if col in self.invoices and self.invoices[col].notna().any():
                dates.append(self.invoices[col].max())
        return pd.Timestamp(max(d for d in dates if pd.notna(d)))

    def save(self, directory: str | Path, fmt: str = "csv") -> list[Path]:
        """Write each table as ``<directory>/<table>.<fmt>`` (csv or parquet); returns paths.

        Files are written to a temporary name and renamed
        (:func:`collections_lab.data.files.atomic_write`), so a failure never leaves a
        half-written table behind. CSV goes through
        :func:`~collections_lab.data.files.write_csv`: ISO dates, and text cells a
        spreadsheet would run as a formula neutralised with a leading quote.
        """
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in TABLES:
            frame = self.table(name)
            target = directory / f"{name}.{fmt}"
            if fmt == "csv":
                write_csv(frame, target)
            else:
                atomic_write(target, lambda handle, frame=frame: frame.to_parquet(
                    handle, index=False))
            paths.append(target)
        return paths

    def summary(self) -> pd.DataFrame:
        """Row counts per table and the date span: a first look at any portfolio."""
        rows = [{"table": n, "rows": len(self.table(n))} for n in TABLES]
        frame = pd.DataFrame(rows)
        inv = self.invoices
        if len(inv):
            frame.attrs["issue_dates"] = (inv["issue_date"].min(), inv["issue_date"].max())
        return frame


def restrict_currency(portfolio: Portfolio, currency: str) -> Portfolio:
    """The portfolio's invoices in one currency, with their payments and reminders, the
    customers they belong to and those customers' experiment assignments (the load report
    stays the original one: it describes what was read)."""
    inv = portfolio.invoices
    if currency not in set(inv["currency"]):
        raise ValueError(f"no invoice in {currency!r}; currencies in the data: "
                         f"{sorted(inv['currency'].unique())}")
    inv = inv.loc[inv["currency"] == currency]
    ids = set(inv["invoice_id"])
    keep = {name: getattr(portfolio, name) for name in ("payments", "reminders")}
    keep = {k: v.loc[v["invoice_id"].isin(ids)] if len(v) else v for k, v in keep.items()}
    customers = portfolio.customers.loc[portfolio.customers["customer_id"].isin(
        inv["customer_id"])]
    assignments = portfolio.assignments
    if len(assignments):
        assignments = assignments.loc[assignments["customer_id"].isin(
            customers["customer_id"])]
    return Portfolio(customers, inv, keep["reminders"], keep["payments"], assignments,
                     source=portfolio.source, load_report=portfolio.load_report)
