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

from .dates import accepts_allow_future, data_end, resolve_as_of
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
    ``observed_until`` is the date the data describe (an export's date: nothing after it
    is known), the latest ``as_of`` allowed without ``allow_future``; None = the last date
    in the data plus a grace (see :func:`~collections_lab.data.dates.resolve_as_of`). A
    simulation's full record has ``pd.Timestamp.max`` (it holds every outcome).
    """

    customers: pd.DataFrame
    invoices: pd.DataFrame
    reminders: pd.DataFrame = field(default_factory=lambda: empty_table("reminders"))
    payments: pd.DataFrame = field(default_factory=lambda: empty_table("payments"))
    assignments: pd.DataFrame = field(default_factory=lambda: empty_table("assignments"))
    source: str = ""
    load_report: object = field(default=None, repr=False, compare=False)
    observed_until: pd.Timestamp | None = None

    def table(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables are {list(TABLES)}")
        return getattr(self, name)

    @accepts_allow_future
    def payment_times(self, as_of=None, experiment_id: str | None = None) -> pd.DataFrame:
        """The payment-times frame (see :func:`collections_lab.data.payment_times.payment_times`)
        at ``as_of`` (default :attr:`last_date`; a later date is refused unless
        ``allow_future=True``, see :func:`~collections_lab.data.dates.resolve_as_of`)."""
        from .payment_times import payment_times

        as_of = resolve_as_of(self, as_of)
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
        """The data's last date (issue, payment, reminder, escalation or write-off; see
        :func:`~collections_lab.data.dates.data_end`): the default ``as_of`` everywhere."""
        return data_end(self.invoices, self.payments, self.reminders)

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
                     source=portfolio.source, load_report=portfolio.load_report,
                     observed_until=portfolio.observed_until)
