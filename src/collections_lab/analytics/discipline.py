"""Payment discipline per customer: on-time rate, days late (mean, spread, trend), weighted.

Computed from the payment-times frame (:func:`collections_lab.data.payment_times.payment_times`)
at ``as_of``. An invoice is *assessable* when its due date is on or before ``as_of`` or it
was already paid; invoices still open and not yet due say nothing about discipline yet.

Per assessable invoice, ``days_late`` is ``end_date - due_date``: the payment day for
paid invoices, the escalation / write-off day for those, and ``as_of`` for invoices still
open (a lower bound: they are at least that late). ``on_time`` means paid in full no more
than ``grace_days`` after due.

Per customer (vectorised group sums, no per-customer Python loop):

- ``on_time_rate`` = on-time invoices / assessable invoices;
- ``mean_days_late`` (signed: negative = early), ``std_days_late`` (sample SD, ddof=1),
  ``iqr_days_late`` (interquartile range, linear interpolation: a spread one disputed
  invoice does not blow up), ``mean_days_overdue`` = mean of max(days_late, 0);
- ``trend_days_per_month``: OLS slope of days_late on due date, in days per 30 days
  (positive = getting later), NaN with fewer than 3 invoices or one due date;
- amount-weighted versions (``weighted_on_time_rate``, ``weighted_mean_days_late``,
  ``weighted_std_days_late`` = sqrt(Σw(x − x̄_w)² / Σw), a population SD) with
  weights ``amount / mean amount of the customer's invoices in that currency``: unitless,
  so a customer billed in two currencies is never summed across them.

Example
-------
>>> import pandas as pd
>>> pt = pd.DataFrame({"customer_id": ["c", "c"], "invoice_id": ["a", "b"],
...     "currency": ["EUR", "EUR"], "amount": [100.0, 300.0],
...     "due_date": pd.to_datetime(["2025-01-31", "2025-02-28"]),
...     "days_late": [0, 10], "event": [True, True], "outcome": ["paid", "paid"]})
>>> pt.attrs["as_of"] = pd.Timestamp("2025-06-30")
>>> d = payment_discipline(pt).to_frame().iloc[0]
>>> float(d["on_time_rate"]), float(d["weighted_on_time_rate"])
(0.5, 0.25)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..i18n import ResultMixin, format_number, format_pct, resolve, t

__all__ = ["Discipline", "assessable_invoices", "discipline_over_time", "payment_discipline",
           "payment_times_of"]

_NEEDED = ("customer_id", "currency", "amount", "due_date", "days_late", "event", "outcome")


def payment_times_of(source, as_of=None, needed: tuple[str, ...] = _NEEDED) -> pd.DataFrame:
    """The payment-times frame from a Portfolio (at ``as_of``) or the frame itself.

    Checks that the columns in ``needed`` are there, so a hand-made frame fails with a
    message naming what is missing rather than a KeyError deep inside an analysis.
    """
    if isinstance(source, pd.DataFrame):
        frame = source
    elif hasattr(source, "payment_times"):
        frame = source.payment_times(as_of=as_of)
    else:
        raise TypeError("give a Portfolio or a payment-times DataFrame, got "
                        f"{type(source).__name__}")
    missing = [c for c in needed if c not in frame]
    if missing:
        raise ValueError(f"payment-times frame lacks column(s) {missing}; build it with "
                         "collections_lab.data.payment_times.payment_times")
    return frame


def assessable_invoices(source, as_of=None, grace_days: int = 0,
                        due_only: bool = False) -> pd.DataFrame:
    """Invoices that say something about discipline at ``as_of``, with ``on_time`` and ``weight``.

    Adds columns ``on_time`` (bool), ``weight`` (amount relative to the customer's mean in
    that currency) and ``due_day`` (days since 1970-01-01) to the payment-times rows due on
    or before ``as_of`` or already paid (only the former with ``due_only=True``).
    """
    frame = payment_times_of(source, as_of)
    as_of_ts = parse_date(as_of, "as_of") if as_of is not None else frame.attrs.get("as_of")
    if as_of_ts is None:
        as_of_ts = frame["due_date"].max()
    keep = (frame["due_date"] <= as_of_ts).to_numpy()
    if not due_only:
        keep |= frame["event"].to_numpy(dtype=bool)
    inv = frame.loc[keep].copy()
    inv["days_late"] = inv["days_late"].astype(float)
    inv["on_time"] = inv["event"].to_numpy(dtype=bool) & (inv["days_late"] <= grace_days)
    mean_amount = inv.groupby(["customer_id", "currency"], sort=False)["amount"].transform("mean")
    inv["weight"] = (inv["amount"] / mean_amount.where(mean_amount > 0)).fillna(1.0)
    inv["due_day"] = inv["due_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    inv.attrs["as_of"] = as_of_ts
    return inv


@dataclass
class Discipline(ResultMixin):
    """Payment discipline per customer (one row each, see the module docstring)."""

    frame: pd.DataFrame
    as_of: pd.Timestamp
    grace_days: int = 0
    title = "Payment discipline"

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        f = self.frame
        n = len(f)
        rate = f["n_on_time"].sum() / max(f["n_due"].sum(), 1)
        consistent = int((f["on_time_rate"] >= 0.9).sum())
        return t("discipline.summary", lang, n=format_number(n, 0, lang),
                 rate=format_pct(rate, 1, lang), consistent=format_number(consistent, 0, lang),
                 threshold=format_pct(0.9, 0, lang))


def _grouped_stats(inv: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sums per group turned into discipline statistics (vectorised)."""
    x = inv["days_late"].to_numpy(dtype=float)
    w = inv["weight"].to_numpy(dtype=float)
    tday = inv["due_day"].to_numpy(dtype=float)
    t0 = tday - tday.min() if len(tday) else tday
    parts = pd.DataFrame({
        "n": 1.0, "on": inv["on_time"].to_numpy(dtype=float), "x": x, "x2": x * x,
        "xpos": np.maximum(x, 0.0), "t": t0, "t2": t0 * t0, "tx": t0 * x,
        "w": w, "w_on": w * inv["on_time"].to_numpy(dtype=float), "wx": w * x,
        "wx2": w * x * x,
        "open": (inv["outcome"] == "open").to_numpy(dtype=float),
    })
    for k in keys:
        parts[k] = inv[k].to_numpy()
    s = parts.groupby(keys, sort=True).sum()
    n = s["n"]
    mean = s["x"] / n
    var = (s["x2"] - n * mean**2) / (n - 1)
    sxx = s["t2"] - s["t"] ** 2 / n
    sxy = s["tx"] - s["t"] * s["x"] / n
    slope = (sxy / sxx.where(sxx > 1e-9)).where(n >= 3)
    out = pd.DataFrame({
        "n_due": n.astype(int),
        "n_on_time": s["on"].astype(int),
        "on_time_rate": s["on"] / n,
        "mean_days_late": mean,
        "std_days_late": np.sqrt(var.clip(lower=0)).where(n >= 2),
        "mean_days_overdue": s["xpos"] / n,
        "trend_days_per_month": slope * 30.0,
        "weighted_on_time_rate": s["w_on"] / s["w"],
        "weighted_mean_days_late": s["wx"] / s["w"],
        "weighted_std_days_late": np.sqrt((s["wx2"] / s["w"] - (s["wx"] / s["w"]) ** 2)
                                          .clip(lower=0)).where(n >= 2),
        "n_open_overdue": s["open"].astype(int),
    })
    return out.reset_index()


def payment_discipline(source, as_of=None, grace_days: int = 0) -> Discipline:
    """Payment discipline per customer at ``as_of`` (see the module docstring for formulas).

    ``source`` is a Portfolio or a payment-times frame. Columns: customer_id, segment (when
    known), n_due, n_on_time, on_time_rate, mean_days_late, std_days_late, iqr_days_late,
    mean_days_overdue, trend_days_per_month, weighted_on_time_rate,
    weighted_mean_days_late, weighted_std_days_late, n_open_overdue, first_due, last_due.
    A customer with a single assessable invoice gets a rate and a mean but NaN spread and
    trend (nothing to estimate them from).

    Example: invoices paid 0 and 10 days late, amounts 100 and 300 -> on_time_rate 0.5,
    weighted 100/400 = 0.25, mean 5, SD 7.07 days.

    Example:
        >>> discipline = cl.payment_discipline(portfolio, "2025-09-30")
        >>> print(discipline.summary())
        300 customers; 70.2% of due invoices were paid on time; 108 customers pay on
        time at least 90% of the time.
        >>> discipline.to_frame()[["customer_id", "on_time_rate", "mean_days_overdue"]].shape
        (300, 3)
    """
    inv = assessable_invoices(source, as_of, grace_days)
    if inv.empty:
        raise ValueError("no invoice is due or paid on or before as_of: no discipline to "
                         "measure (choose a later as_of)")
    stats = _grouped_stats(inv, ["customer_id"])
    quart = inv.groupby("customer_id", sort=True)["days_late"].quantile([0.25, 0.75]).unstack()
    stats.insert(stats.columns.get_loc("std_days_late") + 1, "iqr_days_late",
                 (quart[0.75] - quart[0.25]).reindex(stats["customer_id"]).to_numpy())
    span = inv.groupby("customer_id", sort=True)["due_date"].agg(["min", "max"])
    stats["first_due"] = span["min"].to_numpy()
    stats["last_due"] = span["max"].to_numpy()
    if "segment" in inv:
        seg = inv.drop_duplicates("customer_id").set_index("customer_id")["segment"]
        stats.insert(1, "segment", stats["customer_id"].map(seg).to_numpy())
    return Discipline(stats, pd.Timestamp(inv.attrs["as_of"]), grace_days)


#: Days after a due period ends before its days late are read as settled: an invoice due
#: a week before the data end cannot be more than a week late yet, so the latest periods
#: hold the early payers and the open invoices' lateness so far (page 01's trend fell to
#: -1 day late in its last month for that reason alone).
MATURITY_DAYS = 60


def discipline_over_time(source, as_of=None, freq: str = "Q", by_customer: bool = True,
                         grace_days: int = 0) -> pd.DataFrame:
    """Discipline statistics per due period (``freq`` "M" or "Q"), per customer or overall.

    Same columns as :func:`payment_discipline` (without first/last due), with ``period``
    (start of the due month / quarter) and ``mature``: the period ended at least
    :data:`MATURITY_DAYS` days before ``as_of`` (else its lateness is still growing).
    ``by_customer=False`` gives the portfolio's trend per period (one row per period and
    currency-free statistics, since days are unitless).

    Example:
        >>> trend = discipline_over_time(portfolio, "2025-09-30", "M", by_customer=False)
        >>> trend.loc[~trend["mature"], "period"].dt.strftime("%Y-%m").tolist()
        ['2025-08']
    """
    # only invoices due by as_of: a period of future due dates would hold only the early
    # payers and look perfectly punctual
    inv = assessable_invoices(source, as_of, grace_days, due_only=True)
    if inv.empty:
        raise ValueError("no invoice is due on or before as_of")
    inv["period"] = inv["due_date"].dt.to_period(freq).dt.to_timestamp()
    keys = ["customer_id", "period"] if by_customer else ["period"]
    out = _grouped_stats(inv, keys)
    period = pd.PeriodIndex(pd.to_datetime(out["period"]), freq=freq)
    out["mature"] = np.asarray(period.end_time.normalize() + pd.Timedelta(days=MATURITY_DAYS)
                               <= pd.Timestamp(inv.attrs["as_of"]))
    return out
