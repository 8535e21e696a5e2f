"""The figures several report pages show, defined and computed once.

Open invoices, aging over 90 days, DSO and churn appear on the portfolio-health page
(01), the time-to-payment page (02), the data check heading every page, the strategy lab
(05) and the index. Each page takes them from :func:`shared_figures`, so the same figure
shows the same value everywhere (``tests/test_cross_page.py`` checks it on the sample).

Definitions, per currency at ``as_of`` (see :mod:`~collections_lab.analytics.kpis`):

- **open invoices**: invoices with a balance still owed, those handed to legal collection
  included (they are still owed); ``at_legal_collection`` counts those, and
  ``in_reminders`` the rest, the invoices reminders still work on. ``in_reminders`` is
  the payment-times frame's ``outcome == "open"`` count (the data check's "open"), and
  the open invoices the strategy lab's twin compares (its story ends at escalation).
- **receivables**, **overdue**, **over 90 days**: the open amount, the part past its due
  date, the part more than 90 days past due (escalated balances included);
  ``over_90_share`` = over 90 days / receivables.
- **DSO**: receivables / sales of the last 90 days × 90 (standard DSO).
- **churn (90 days)**: of the customers invoiced in the 90 days before ``as_of − 90``,
  the share with no invoice in ``(as_of − 90, as_of]`` — the latest window whose label
  is observed (the churn model's label, :mod:`~collections_lab.analytics.churn`).
  The strategy lab's churn is another figure: customers lost over its simulated period
  under each strategy, a prediction; its page says so and points here.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> sim = simulate(200, example_strategies()["nudge_then_firm"], seed=3,
...                start="2025-01-01", end="2025-09-30")
>>> f = shared_figures(sim.portfolio)
>>> row = f.frame.iloc[0]
>>> int(row["open_invoices"]) == int(row["in_reminders"] + row["at_legal_collection"])
True
>>> 0 <= f.churn_90 <= 1
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.dates import resolve_as_of
from ..i18n import ResultMixin, format_number, format_pct, resolve, t
from .kpis import aging, kpi_snapshot

__all__ = ["CHURN_DAYS", "SharedFigures", "observed_churn", "open_counts", "shared_figures"]

#: Days of the churn window: no invoice within them after being active = churned.
CHURN_DAYS = 90


@dataclass
class SharedFigures(ResultMixin):
    """The cross-page figures at ``as_of`` (see the module docstring).

    ``frame``: one row per currency with open_invoices, at_legal_collection,
    in_reminders, receivables, at_legal_amount (the part of receivables at legal
    collection), overdue, over_90, over_90_share, dso.
    ``churn_90``: the latest observed 90-day churn (NaN when the history is too short),
    of ``churn_customers`` active customers, window ``churn_window`` (start, end).
    """

    as_of: pd.Timestamp
    frame: pd.DataFrame
    churn_90: float = float("nan")
    churn_customers: int = 0
    churn_window: tuple | None = None
    title = "Figures shared across pages"

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def row(self, currency: str) -> pd.Series:
        """The figures of one currency."""
        return self.frame.set_index("currency").loc[currency]

    def totals(self) -> dict:
        """Invoice counts over all currencies (counts add up; amounts never do)."""
        return {k: int(self.frame[k].sum())
                for k in ("open_invoices", "at_legal_collection", "in_reminders")}

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        n = self.totals()
        text = t("fig.open_summary", lang, open=format_number(n["open_invoices"], 0, lang),
                 legal=format_number(n["at_legal_collection"], 0, lang),
                 reminders=format_number(n["in_reminders"], 0, lang))
        if np.isfinite(self.churn_90):
            text += " " + t("fig.churn_summary", lang, rate=format_pct(self.churn_90, 1, lang),
                            n=format_number(self.churn_customers, 0, lang))
        return text

    def health_note(self, lang: str | None = None) -> str:
        """The portfolio page's pointer to the strategy lab (another question)."""
        return t("fig.health_vs_lab", resolve(lang)[0])

    def lab_note(self, lang: str | None = None) -> str:
        """The strategy lab's pointer to today's measured DSO and churn (page 01)."""
        lang, _ = resolve(lang)
        dso = ", ".join(f"{c} {format_number(v, 0, lang)}" for c, v in
                        zip(self.frame["currency"], self.frame["dso"], strict=True)
                        if np.isfinite(v)) or "–"
        churn = format_pct(self.churn_90, 1, lang) if np.isfinite(self.churn_90) else "–"
        return t("fig.lab_vs_health", lang, dso=dso, churn=churn)


def observed_churn(portfolio, as_of=None, days: int = CHURN_DAYS) -> tuple[float, int, tuple]:
    """Latest observed churn: ``(rate, active customers, (window start, end))``.

    Customers invoiced in the ``days`` before ``start = as_of − days`` are active; the
    churned ones have no invoice in ``(start, end]``, ``end`` = ``as_of`` or the last
    issue date if earlier (a late export does not make everyone look churned). NaN and 0
    customers when the history is shorter than two windows.

    >>> import pandas as pd
    >>> from collections_lab.data.portfolio import Portfolio
    >>> inv = pd.DataFrame({"invoice_id": list("abcd"), "customer_id": ["x", "x", "y", "x"],
    ...     "issue_date": pd.to_datetime(["2024-09-01", "2024-11-15", "2024-11-20",
    ...                                   "2025-03-01"]),
    ...     "amount": [1.0] * 4, "currency": "EUR"})
    >>> inv["due_date"] = inv["issue_date"] + pd.Timedelta(days=30)
    >>> rate, n, _ = observed_churn(Portfolio(pd.DataFrame({"customer_id": ["x", "y"]}), inv),
    ...                             "2025-03-01")
    >>> rate, n
    (0.5, 2)
    """
    from .churn import label_end

    inv = portfolio.invoices
    as_of = resolve_as_of(portfolio, as_of)
    end = label_end(portfolio, as_of)
    start = end - pd.Timedelta(days=days)
    issued = inv["issue_date"]
    if issued.min() + pd.Timedelta(days=days) > start:  # as the churn model's first cutoff
        return float("nan"), 0, (start, end)
    active = set(inv.loc[(issued > start - pd.Timedelta(days=days)) & (issued <= start),
                         "customer_id"])
    if not active:
        return float("nan"), 0, (start, end)
    back = set(inv.loc[(issued > start) & (issued <= end), "customer_id"])
    return len(active - back) / len(active), len(active), (start, end)


def open_counts(portfolio, as_of=None) -> pd.DataFrame:
    """Open invoices per currency: ``open_invoices`` (still owed), of which
    ``at_legal_collection`` and ``in_reminders`` (see the module docstring).

    >>> from collections_lab.model.simulation import simulate
    >>> from collections_lab.model.strategies import example_strategies
    >>> sim = simulate(100, example_strategies()["nudge_then_firm"], seed=1,
    ...                start="2025-01-01", end="2025-06-30")
    >>> list(open_counts(sim.portfolio).columns)
    ['currency', 'open_invoices', 'at_legal_collection', 'in_reminders']
    """
    return _open_counts(portfolio, resolve_as_of(portfolio, as_of))[0]


def _open_counts(portfolio, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    owed = kpi_snapshot(portfolio, as_of).frame.set_index("currency")
    working = kpi_snapshot(portfolio, as_of, include_escalated=False).frame.set_index(
        "currency")[["open_invoices", "receivables"]].reindex(owed.index).fillna(0)
    counts = pd.DataFrame({
        "currency": owed.index,
        "open_invoices": owed["open_invoices"].to_numpy(dtype=int),
        "at_legal_collection": (owed["open_invoices"] - working["open_invoices"]
                                ).to_numpy(dtype=int),
        "in_reminders": working["open_invoices"].to_numpy(dtype=int)})
    owed = owed.assign(at_legal_amount=owed["receivables"] - working["receivables"])
    return counts, owed


def shared_figures(portfolio, as_of=None) -> SharedFigures:
    """Open invoices, aging, DSO and churn at ``as_of`` as every page shows them."""
    as_of = resolve_as_of(portfolio, as_of)
    frame, owed = _open_counts(portfolio, as_of)
    ages = aging(portfolio, as_of).frame
    over90 = ages[ages["bucket"] == "90+"].set_index("currency")["amount"]
    frame = frame.assign(
        receivables=owed["receivables"].to_numpy(dtype=float),
        at_legal_amount=owed["at_legal_amount"].to_numpy(dtype=float),
        overdue=owed["overdue"].to_numpy(dtype=float),
        over_90=over90.reindex(owed.index).fillna(0.0).to_numpy(dtype=float))
    rec = frame["receivables"].where(frame["receivables"] > 0)
    frame["over_90_share"] = frame["over_90"] / rec
    frame["dso"] = owed["dso"].to_numpy(dtype=float)
    rate, n, window = observed_churn(portfolio, as_of)
    return SharedFigures(as_of, frame, rate, n, window)
