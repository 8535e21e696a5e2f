"""Engagement lists: whom to thank (reliable payers) and whom to call (customers at risk).

Both lists are plain tables an analyst can export (:meth:`EngagementList.to_csv`), one
row per customer (per customer and currency when a customer is billed in several), with
the evidence that put the customer on the list.

- **Thank list**: tier ``on_time`` (see :mod:`~collections_lab.analytics.segments`), at
  least ``min_invoices`` assessable invoices, nothing overdue now, no behaviour-change
  alert, churn risk (when given) below ``max_churn_probability``. Sorted by invoices
  then on-time rate: the long, reliable relationships first. Suggested action: thank them,
  and offer better terms or an upsell conversation.
- **Call list**: any of a behaviour-change alert, churn risk ≥ ``churn_threshold``, or a
  ``chronically_late`` / ``irregular`` tier with an overdue balance. ``priority`` counts
  the reasons (alert 2, churn risk 1, tier with overdue 1); ties break on the number of
  overdue invoices, then mean days late (not on amounts, which may be in different
  currencies): a call rather than another email.

Example
-------
>>> import pandas as pd
>>> tiers = pd.DataFrame({"customer_id": ["a", "b"], "tier": ["on_time", "chronically_late"],
...     "n_due": [12, 12], "on_time_rate": [1.0, 0.1], "mean_days_late": [-2.0, 25.0],
...     "n_open_overdue": [0, 2]})
>>> thank_list(tiers).to_frame()["customer_id"].tolist()
['a']
>>> call_list(tiers).to_frame()["customer_id"].tolist()
['b']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.files import write_csv
from ..i18n import ResultMixin, check_language, format_number, resolve, t
from .ledger import Ledger, from_day, to_day

__all__ = ["EngagementList", "call_list", "open_balances", "thank_list"]


@dataclass
class EngagementList(ResultMixin):
    """An exportable list of customers with the reason and the suggested action.

    ``frame`` holds codes: ``action`` is ``"thank"`` or ``"call"``, ``reason`` the reason
    codes joined by ``"; "`` (``behaviour_shifted``, ``high_churn_risk``,
    ``late_with_overdue``); :meth:`to_frame` and :meth:`to_csv` write them in words.
    """

    frame: pd.DataFrame
    kind: str  # "thank" or "call"
    lang: str | None = None  # language of to_frame() / to_csv() when none is given

    @property
    def title(self) -> str:  # type: ignore[override]
        return "thank_list" if self.kind == "thank" else "call_list"

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        """The list with its action and reasons in ``lang`` (the list's, else the context's)."""
        lang, _ = resolve(lang or self.lang)
        out = self.frame.copy()
        if "action" in out:
            out["action"] = [t(f"engagement.action.{a}", lang) for a in out["action"]]
        if "reason" in out:
            out["reason"] = ["; ".join(t(f"engagement.reason.{r}", lang)
                                       for r in str(codes).split("; ") if r)
                             for codes in out["reason"]]
        return out

    def to_csv(self, path: str | Path, lang: str | None = None) -> Path:
        """Write the list as CSV (UTF-8, ISO dates, actions and reasons in ``lang``,
        formula-like text neutralised: see :func:`collections_lab.data.files.write_csv`) and
        return the path."""
        return write_csv(self.to_frame(lang), path)

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        n = format_number(len(self.frame), 0, lang)
        key = "engagement.thank_summary" if self.kind == "thank" else "engagement.call_summary"
        return t(key, lang, n=n)


def open_balances(portfolio, as_of) -> pd.DataFrame:
    """Open and overdue amount per customer and currency at ``as_of`` (invoice currency)."""
    led = Ledger.build(portfolio, by=["customer_id"])
    day = to_day(as_of)
    bal = led.balance_at(day)
    overdue = np.where(led.due < day, bal, 0.0)
    out = led.groups.copy()
    out["open_amount"] = led.group_sum(bal)
    out["overdue_amount"] = led.group_sum(overdue)
    out.attrs["as_of"] = from_day(day)
    return out[["customer_id", "currency", "open_amount", "overdue_amount"]]


def _base(tiers) -> pd.DataFrame:
    frame = tiers.frame.copy() if hasattr(tiers, "frame") else tiers.copy()
    if "tier" not in frame:
        raise ValueError("give payer tiers (payer_tiers(...)): the frame has no 'tier' column")
    return frame


def _merge(frame, alerts, churn, balances) -> pd.DataFrame:
    out = frame.copy()
    if alerts is not None:
        a = alerts.to_frame() if hasattr(alerts, "to_frame") else alerts
        out = out.merge(a[["customer_id", "alert_date", "before_mean", "after_mean"]],
                        on="customer_id", how="left")
    else:
        out["alert_date"] = pd.NaT
    if churn is not None:
        out = out.merge(churn[["customer_id", "churn_probability"]], on="customer_id",
                        how="left")
    else:
        out["churn_probability"] = np.nan
    if balances is not None:
        out = out.merge(balances, on="customer_id", how="left")
    return out


_COLS = ["customer_id", "segment", "tier", "n_due", "on_time_rate", "mean_days_late",
         "n_open_overdue", "currency", "open_amount", "overdue_amount", "alert_date",
         "before_mean", "after_mean", "churn_probability"]


def thank_list(tiers, alerts=None, churn: pd.DataFrame | None = None,
               balances: pd.DataFrame | None = None, min_invoices: int = 6,
               max_churn_probability: float = 0.2, lang: str | None = None) -> EngagementList:
    """Reliable payers to thank (rules in the module docstring).

    ``tiers`` from :func:`~collections_lab.analytics.segments.payer_tiers`; optional
    ``alerts`` (:func:`behaviour_alerts`), ``churn`` (``ChurnModel.predict`` output) and
    ``balances`` (:func:`open_balances`) add evidence and filters.
    """
    if lang is not None:  # the language the list is shown in (default: the context's)
        check_language(lang)
    out = _merge(_base(tiers), alerts, churn, balances)
    keep = ((out["tier"] == "on_time") & (out["n_due"] >= min_invoices)
            & (out["n_open_overdue"] == 0) & out["alert_date"].isna()
            & ~(out["churn_probability"] >= max_churn_probability))
    out = out.loc[keep].sort_values(["n_due", "on_time_rate"], ascending=False)
    out["action"] = "thank"
    cols = [c for c in _COLS if c in out] + ["action"]
    return EngagementList(out[cols].reset_index(drop=True), "thank", lang)


def call_list(tiers, alerts=None, churn: pd.DataFrame | None = None,
              balances: pd.DataFrame | None = None, churn_threshold: float = 0.3,
              lang: str | None = None) -> EngagementList:
    """Customers at risk to call, with the reasons and a priority (module docstring)."""
    if lang is not None:  # the language the list is shown in (default: the context's)
        check_language(lang)
    out = _merge(_base(tiers), alerts, churn, balances)
    alert = out["alert_date"].notna()
    risky = out["churn_probability"].to_numpy(dtype=float) >= churn_threshold
    bad_tier = out["tier"].isin(["chronically_late", "irregular"]) & (out["n_open_overdue"] > 0)
    out["priority"] = 2 * alert.astype(int) + risky.astype(int) + bad_tier.astype(int)
    reasons = np.where(alert, "behaviour_shifted; ", "").astype(object)
    reasons = reasons + np.where(risky, "high_churn_risk; ", "")
    reasons = reasons + np.where(bad_tier, "late_with_overdue; ", "")
    out["reason"] = pd.Series(reasons, index=out.index).str.rstrip("; ")
    out["action"] = "call"
    out = out.loc[out["priority"] > 0]
    # ties break on counts and days, never on amounts: those are in different currencies
    out = out.sort_values(["priority", "n_open_overdue", "mean_days_late"], ascending=False)
    cols = [c for c in _COLS if c in out] + ["priority", "reason", "action"]
    return EngagementList(out[cols].reset_index(drop=True), "call", lang)
