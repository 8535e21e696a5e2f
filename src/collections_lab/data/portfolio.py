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

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..i18n import ResultMixin, Summary, format_number, resolve, t
from .dates import accepts_allow_future, data_end, resolve_as_of
from .files import write_csv, write_parquet
from .schema import TABLES

FORMATS = ("csv", "parquet")


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the columns of table ``name`` (for tables a source lacks)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES[name].column_names})


@dataclass
class Portfolio(ResultMixin):
    """The five tables of one receivables portfolio (real or simulated).

    Attributes are DataFrames with the columns of :mod:`collections_lab.data.schema`.
    ``source`` says where it came from (a path, a URL or ``"simulation"``);
    ``load_report`` is the :class:`~collections_lab.data.validation.LoadReport` of a loaded
    portfolio (rows read, used and rejected per table), ``None`` for simulated data.
    ``observed_until`` is the date the data describe (an export's date: nothing after it
    is known), the latest ``as_of`` allowed without ``allow_future``; None = the last date
    in the data plus a grace (see :func:`~collections_lab.data.dates.resolve_as_of`). A
    simulation's full record has ``pd.Timestamp.max`` (it holds every outcome).
    ``experiment`` is the design of the experiment in the data, as a plain dict
    (``experiment_id``, ``arms``, ``control``, and when known ``factors``, ``weights``,
    ``stratify_by``, ``assigned_at``, ``source``): read from ``experiment.json`` beside
    the tables, else inferred from the assignments (see :func:`experiment_design`), else
    ``None``. The experiment analysis takes its control arm from it.
    ``strategies`` holds the strategies that came with the data by name (filled by
    :func:`collections_lab.model.sample_data.load_sample`; empty otherwise).

    Example:
        >>> small = cl.Portfolio(portfolio.customers, portfolio.invoices, payments=portfolio.payments)
        >>> print(small.summary())
        300 customers, 1,488 invoices issued 2025-01-01 to 2025-06-28 in COP, EUR, MXN,
        USD.
        >>> small.to_frame()
                 table  rows
        0    customers   300
        1     invoices  1488
        2    reminders     0
        3     payments  1519
        4  assignments     0
    """

    customers: pd.DataFrame
    invoices: pd.DataFrame
    reminders: pd.DataFrame = field(default_factory=lambda: empty_table("reminders"))
    payments: pd.DataFrame = field(default_factory=lambda: empty_table("payments"))
    assignments: pd.DataFrame = field(default_factory=lambda: empty_table("assignments"))
    source: str = ""
    load_report: object = field(default=None, repr=False, compare=False)
    observed_until: pd.Timestamp | None = None
    experiment: dict | None = field(default=None, repr=False, compare=False)
    strategies: dict = field(default_factory=dict, repr=False, compare=False)

    def table(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables are {list(TABLES)}")
        return getattr(self, name)

    @accepts_allow_future
    def payment_times(self, as_of=None, experiment_id: str | None = None) -> pd.DataFrame:
        """The payment-times frame (see :func:`collections_lab.data.payment_times.payment_times`)
        at ``as_of`` (default :attr:`last_date`; a later date is refused unless
        ``allow_future=True``, see :func:`~collections_lab.data.dates.resolve_as_of`).

        With assignments, ``frame.attrs`` carries the experiment's ``start`` (first
        assignment date) and, from :attr:`experiment`, its ``control`` arm, so an
        experiment analysis of the frame knows both.
        """
        from .payment_times import payment_times

        as_of = resolve_as_of(self, as_of)
        assignments = self.assignments if len(self.assignments) else None
        frame = payment_times(
            self.invoices,
            self.payments,
            customers=self.customers,
            reminders=self.reminders,
            as_of=as_of,
            assignments=assignments,
            experiment_id=experiment_id,
        )
        design = self.experiment
        if (assignments is not None and design and design.get("control")
                and frame.attrs.get("experiment_id") == design.get("experiment_id")):
            frame.attrs["control"] = design["control"]
        return frame

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
                write_parquet(frame, target)
            paths.append(target)
        return paths

    title = "portfolio.title"

    def to_frame(self) -> pd.DataFrame:
        """Rows per table (``table``, ``rows``); ``attrs["issue_dates"]`` the first and
        last issue dates."""
        frame = pd.DataFrame([{"table": n, "rows": len(self.table(n))} for n in TABLES])
        inv = self.invoices
        if len(inv):
            frame.attrs["issue_dates"] = (inv["issue_date"].min(), inv["issue_date"].max())
        return frame

    def headline(self, lang: str | None = None) -> str:
        """Size, issue dates, currencies, the experiment and what the load rejected.

        >>> print(portfolio.headline())
        300 customers, 1,488 invoices issued 2025-01-01 to 2025-06-28 in COP, EUR, MXN,
        USD; experiment docs: 2 arms, control control, from 2025-01-01.
        """
        lang, locale = resolve(lang)
        inv = self.invoices

        def n(x):
            return format_number(x, 0, lang, locale)

        if not len(inv):
            text = t("portfolio.empty", lang, customers=n(len(self.customers)))
        else:
            currencies = ", ".join(sorted(inv["currency"].astype(str).unique()))
            text = t("portfolio.headline", lang, customers=n(len(self.customers)),
                     invoices=n(len(inv)), currencies=currencies,
                     start=inv["issue_date"].min().date().isoformat(),
                     end=inv["issue_date"].max().date().isoformat())
        design = self.experiment
        if design:
            control = design.get("control") or t("portfolio.no_control", lang)
            text += t("portfolio.experiment", lang, id=design.get("experiment_id"),
                      arms=len(design.get("arms") or ()), control=control,
                      start=str(design.get("assigned_at") or "")[:10] or "—")
        text += "."
        if self.load_report is not None:
            text += " " + str(self.load_report.summary(lang))
        return text

    def summary(self, lang: str | None = None) -> Summary:
        """The portfolio in one paragraph (:meth:`headline`): a str that a notebook shows
        as text; the rows per table are :meth:`to_frame`."""
        return Summary(self.headline(lang))

    def note_texts(self, lang: str | None = None) -> list[str]:
        """What the loader decided on its own (at most 10 notes; the rest counted)."""
        notes = list(getattr(self.load_report, "notes", []) or [])
        if len(notes) > 10:
            notes = notes[:10] + [t("card.more_notes", lang, n=len(notes) - 10)]
        return notes

    def card_details(self) -> list:
        out = []
        report = self.load_report
        if report is not None:
            out.append((report._title(), report.to_frame()))
            if report.rows_rejected:
                out.append(("load.rejected_rows", report.issues_frame()))
        if self.experiment:
            arms = pd.Series(self.experiment.get("arms") or [], name="arm").to_frame()
            out.append((str(self.experiment.get("experiment_id")), arms))
        return out

    def __repr__(self) -> str:
        return f"<Portfolio {self.source or ''}: {self.headline()}>"


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
    return replace(portfolio, customers=customers, invoices=inv, reminders=keep["reminders"],
                   payments=keep["payments"], assignments=assignments)


def experiment_design(location=None, assignments: pd.DataFrame | None = None) -> dict | None:
    """The design of the experiment in a portfolio's data, as a plain dict.

    From ``<location>/experiment.json`` when that file exists (``source`` is the file);
    else from ``assignments`` holding exactly one experiment (arms sorted, weights
    unknown, ``assigned_at`` the first assignment date, ``control`` only when an arm is
    named ``"control"``: an analysis must then be told which arm is the control);
    else ``None``. A design file that is not JSON, lacks ``experiment_id`` or ``arms``,
    or names a control that is not an arm is an error naming the file.

    >>> asg = pd.DataFrame({"experiment_id": ["e1", "e1"], "customer_id": ["C1", "C2"],
    ...                     "arm": ["b", "a"], "assigned_at": pd.to_datetime(["2025-02-01"] * 2)})
    >>> experiment_design(None, asg)["arms"], experiment_design(None, asg)["control"]
    (['a', 'b'], None)
    """
    if location is not None and isinstance(location, str | Path) and Path(location).is_dir():
        spec = Path(location) / "experiment.json"
        if spec.exists():
            try:
                design = json.loads(spec.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"{spec}: not a JSON experiment design ({exc})") from None
            missing = [k for k in ("experiment_id", "arms") if not design.get(k)]
            if not isinstance(design, dict) or missing:
                raise ValueError(f"{spec}: the experiment design lacks {missing or 'keys'}")
            design["arms"] = [str(a) for a in design["arms"]]
            control = design.get("control")
            if control is not None and control not in design["arms"]:
                raise ValueError(f"{spec}: control {control!r} is not one of the arms "
                                 f"{design['arms']}")
            design["source"] = str(spec)
            return design
    if assignments is None or not len(assignments):
        return None
    ids = assignments["experiment_id"].astype(str).unique()
    if len(ids) != 1:
        return None
    arms = sorted(assignments["arm"].astype(str).unique())
    design = {"experiment_id": str(ids[0]), "arms": arms,
              "control": "control" if "control" in arms else None, "source": "assignments"}
    if "assigned_at" in assignments and assignments["assigned_at"].notna().any():
        design["assigned_at"] = pd.Timestamp(assignments["assigned_at"].min()).date().isoformat()
    return design
