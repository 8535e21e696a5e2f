"""Behaviour-change alerts: a customer paying later than its own history says it should.

Method: a one-sided **CUSUM control chart** per customer on days late, against the
customer's own baseline (a change-point method; Page 1954, Montgomery's *Statistical
Quality Control* ch. 9). Written here, vectorised with group cumulative sums, because
neither statsmodels nor scipy offer a grouped CUSUM and a per-customer loop would not
scale to 50,000 customers.

1. **Observations.** Each invoice gives one observation ``x = min(days_late, cap)``,
   dated when it becomes known: the payment date if paid within ``cap_days`` of due,
   else ``due + cap_days`` (an invoice still unpaid then, escalated or written off,
   counts as ``cap``). Invoices not yet ``cap_days`` overdue at ``as_of`` and unpaid are
   pending, not observed. Values below ``floor_days`` are raised to it (very early payers
   would otherwise make every ordinary payment look like a shift).
2. **Baseline.** The customer's first ``baseline_n`` observations give its mean ``μ`` and
   SD ``s``; the SD is shrunk towards the portfolio's pooled within-customer SD ``σ`` with
   ``prior_weight`` pseudo-observations and floored at ``sd_floor_days``.
3. **Chart.** For later observations ``z = clip((x − μ) / s, −z_max, z_max)`` and
   ``S_j = max(0, S_{j−1} + z_j − k)`` (computed as ``C_j − min(0, min_{l≤j} C_l)`` with
   ``C`` the cumulative sum of ``z − k``). Clipping ``z`` means one extreme invoice (a
   single dispute) cannot raise an alert alone.
4. **Alert.** The first observation with ``S > h`` whose mean since the chart last left
   zero (the estimated change point) exceeds ``μ`` by at least ``min_shift_days``. The
   evidence: baseline mean/SD ("before"), mean and count since the change point
   ("after"), the change date and the alert date.

Example
-------
>>> import pandas as pd
>>> due = pd.date_range("2025-01-31", periods=8, freq="30D")
>>> late = [0, 1, -1, 0, 25, 30, 28, 30]
>>> pt = pd.DataFrame({"customer_id": "c", "invoice_id": [f"i{k}" for k in range(8)],
...     "due_date": due, "days_late": late, "event": True, "outcome": "paid"})
>>> pt["end_date"] = pt["due_date"] + pd.to_timedelta(pt["days_late"], unit="D")
>>> pt.attrs["as_of"] = pd.Timestamp("2025-12-31")
>>> a = behaviour_alerts(pt, baseline_n=4).to_frame()
>>> a[["customer_id", "before_mean", "n_after"]].values.tolist()
[['c', 0.0, 3]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..i18n import check_language, format_number
from ..results import ResultMixin
from . import labels as _labels  # noqa: F401  (registers the labels)
from .discipline import payment_times_of

__all__ = [
    "AlertEvaluation",
    "AlertParams",
    "Alerts",
    "alert_tradeoff",
    "behaviour_alerts",
    "evaluate_alerts",
    "observations",
]

_NEEDED = ("customer_id", "due_date", "end_date", "days_late", "event", "outcome")


@dataclass(frozen=True)
class AlertParams:
    """Tuning of the CUSUM alerts (days are calendar days late; see the module docstring).

    Defaults were chosen on simulated portfolios with known distress episodes (a grid
    over cap, k, z_max, SD floor and baseline length; ``benchmarks/bench_analytics.py``
    prints the trade-off curve). A short cap (10 days) makes an unpaid invoice count as
    soon as it is 10 days overdue, which is what gives alerts a lead over escalation.
    """

    baseline_n: int = 6
    cap_days: int = 10
    floor_days: int = -10
    k: float = 1.0
    h: float = 3.0
    z_max: float = 3.0
    sd_floor_days: float = 4.0
    prior_weight: float = 3.0
    min_shift_days: float = 3.0


def observations(source, as_of=None, params: AlertParams | None = None) -> pd.DataFrame:
    """One observation per invoice whose lateness is known at ``as_of`` (step 1).

    Columns: customer_id, invoice_id, due_date, obs_date, x (days late, capped and
    floored), sorted by customer and observation date.
    """
    p = params or AlertParams()
    pt = payment_times_of(source, as_of, _NEEDED)
    as_of_ts = pd.Timestamp(as_of) if as_of is not None else pt.attrs.get("as_of")
    if as_of_ts is None:
        as_of_ts = pt["end_date"].max()
    cap = pd.Timedelta(days=p.cap_days)
    paid = pt["event"].to_numpy(dtype=bool)
    late = pt["days_late"].to_numpy(dtype=float)
    due = pt["due_date"]
    closed_bad = pt["outcome"].isin(["escalated", "written_off"]).to_numpy()
    cap_date = due + cap
    known_paid = paid & (late <= p.cap_days)
    overdue_long = (~known_paid) & ((cap_date <= as_of_ts).to_numpy() | closed_bad)
    keep = known_paid | overdue_long
    obs_date = np.where(known_paid, pt["end_date"].to_numpy(),
                        np.minimum(cap_date.to_numpy(), pt["end_date"].to_numpy()))
    x = np.where(known_paid, late, p.cap_days)
    obs = pd.DataFrame({
        "customer_id": pt["customer_id"].to_numpy()[keep],
        "invoice_id": pt["invoice_id"].to_numpy()[keep] if "invoice_id" in pt else
        np.arange(len(pt))[keep],
        "due_date": due.to_numpy()[keep],
        "obs_date": obs_date[keep],
        "x": np.clip(x[keep], p.floor_days, p.cap_days),
    })
    obs = obs.sort_values(["customer_id", "obs_date", "due_date"], kind="stable")
    obs.attrs["as_of"] = as_of_ts
    return obs.reset_index(drop=True)


def _chart(obs: pd.DataFrame, p: AlertParams) -> pd.DataFrame:
    """Add baseline, z, CUSUM ``S`` and the running mean since the change point."""
    g = obs.groupby("customer_id", sort=False)
    j = g.cumcount().to_numpy()
    obs = obs.assign(j=j)
    base = obs.loc[j < p.baseline_n]
    bstats = base.groupby("customer_id", sort=False)["x"].agg(["mean", "var", "size"])
    bstats = bstats.loc[bstats["size"] >= p.baseline_n]
    pooled = float(np.nanmean(bstats["var"])) if len(bstats) else p.sd_floor_days ** 2
    if not np.isfinite(pooled):
        pooled = p.sd_floor_days ** 2
    df = p.baseline_n - 1
    sd = np.sqrt((df * bstats["var"].fillna(pooled) + p.prior_weight * pooled)
                 / (df + p.prior_weight))
    bstats["sd"] = np.maximum(sd, p.sd_floor_days)
    mon = obs.loc[j >= p.baseline_n]
    mon = mon.assign(mean=mon["customer_id"].map(bstats["mean"]),
                     sd=mon["customer_id"].map(bstats["sd"]))
    mon = mon.loc[mon["mean"].notna()]
    z = np.clip((mon["x"].to_numpy() - mon["mean"].to_numpy()) / mon["sd"].to_numpy(),
                -p.z_max, p.z_max)
    mon = mon.assign(z=z)
    gm = mon.groupby("customer_id", sort=False)
    c = gm["z"].cumsum().to_numpy() - p.k * (gm.cumcount().to_numpy() + 1)
    mon["C"] = c
    cmin = np.minimum(mon.groupby("customer_id", sort=False)["C"].cummin().to_numpy(), 0.0)
    s = c - cmin
    mon["S"] = s
    # running mean of x since the chart last stood at zero (the change-point estimate)
    pos = np.arange(len(mon))
    mon["cx"] = gm["x"].cumsum().to_numpy()
    zero_pos = pd.Series(np.where(s <= 0, pos, np.nan), index=mon.index)
    last_zero = zero_pos.groupby(mon["customer_id"].to_numpy(), sort=False).ffill()
    first_pos = gm.cumcount().to_numpy()
    first_pos = pos - first_pos  # position of the customer's first monitored row
    start = np.where(last_zero.isna(), first_pos, last_zero.to_numpy() + 1).astype(np.int64)
    start = np.minimum(start, pos)
    cx = mon["cx"].to_numpy()
    before_start = np.where(start > first_pos, cx[np.maximum(start - 1, 0)], 0.0)
    mon["n_after"] = pos - start + 1
    mon["after_mean"] = (cx - before_start) / mon["n_after"]
    mon["change_row"] = start
    mon.attrs["pooled_sd"] = float(np.sqrt(pooled))
    return mon


def _first_alerts(mon: pd.DataFrame, h: float, min_shift: float) -> pd.DataFrame:
    hit = (mon["S"].to_numpy() > h) & (
        mon["after_mean"].to_numpy() - mon["mean"].to_numpy() >= min_shift)
    rows = mon.loc[hit].drop_duplicates("customer_id", keep="first")
    change = mon.iloc[rows["change_row"].to_numpy()]
    return pd.DataFrame({
        "customer_id": rows["customer_id"].to_numpy(),
        "alert_date": rows["obs_date"].to_numpy(),
        "change_date": change["due_date"].to_numpy(),
        "before_mean": rows["mean"].to_numpy(),
        "before_sd": rows["sd"].to_numpy(),
        "after_mean": rows["after_mean"].to_numpy(),
        "n_after": rows["n_after"].to_numpy().astype(int),
        "shift_days": rows["after_mean"].to_numpy() - rows["mean"].to_numpy(),
        "cusum": rows["S"].to_numpy(),
        "invoice_id": rows["invoice_id"].to_numpy(),
    })


@dataclass
class Alerts(ResultMixin):
    """Customers whose payment behaviour shifted, one row each with the evidence.

    Columns: customer_id, alert_date, change_date (due date of the first invoice after the
    estimated change point), before_mean / before_sd (baseline days late), after_mean and
    n_after (days late since the change), shift_days, cusum, invoice_id (the invoice that
    triggered it). ``n_monitored`` customers had enough history to be charted;
    ``n_unmonitored`` did not (fewer than ``baseline_n + 1`` known invoices).
    """

    frame: pd.DataFrame
    params: AlertParams
    as_of: pd.Timestamp
    n_monitored: int
    n_unmonitored: int
    chart: pd.DataFrame | None = field(default=None, repr=False)
    title = "Behaviour-change alerts"

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self, lang: str = "en") -> str:
        check_language(lang)
        n = len(self.frame)
        shift = float(self.frame["shift_days"].median()) if n else float("nan")
        if lang == "es":
            return (f"{n} de {self.n_monitored} clientes monitoreados empezaron a pagar más tarde "
                    f"que en su propio historial (cambio mediano "
                    f"{format_number(shift, 1, lang)} días); {self.n_unmonitored} clientes "
                    "tienen muy poco historial para evaluarlos.")
        return (f"{n} of {self.n_monitored} monitored customers started paying later than "
                f"their own history (median shift {format_number(shift, 1, lang)} days); "
                f"{self.n_unmonitored} customers have too little history to judge.")


def behaviour_alerts(source, as_of=None, params: AlertParams | None = None,
                     keep_chart: bool = False, **overrides) -> Alerts:
    """Flag customers whose days late shifted upwards relative to their own history.

    ``source`` is a Portfolio or a payment-times frame; ``params`` an
    :class:`AlertParams` (keyword ``overrides`` such as ``h=5`` replace single fields).
    ``keep_chart=True`` keeps the per-observation chart (for plots of the evidence).
    """
    p = params or AlertParams()
    if overrides:
        p = AlertParams(**{**asdict(p), **overrides})
    obs = observations(source, as_of, p)
    mon = _chart(obs, p)
    alerts = _first_alerts(mon, p.h, p.min_shift_days)
    n_cust = obs["customer_id"].nunique()
    n_mon = mon["customer_id"].nunique()
    return Alerts(alerts, p, pd.Timestamp(obs.attrs["as_of"]), n_mon, n_cust - n_mon,
                  chart=obs.merge(mon[["invoice_id", "S"]], on="invoice_id", how="left")
                  if keep_chart else None)


# -- validation against simulated truth -------------------------------------------------
@dataclass
class AlertEvaluation(ResultMixin):
    """Alerts scored against known distress episodes (simulator truth).

    ``precision`` = alerted customers whose alert came on or after their distress start /
    all alerted eligible customers; ``recall`` = distressed eligible customers alerted on
    or after the distress start / all distressed eligible customers; ``lead_days`` =
    event date − alert date for true alerts whose customer later churned or defaulted
    (first escalation or write-off after the distress start), negative when the alert came
    too late. ``eligible`` customers had ``baseline_n`` known invoices before their
    distress start (before ``as_of`` for the others) and, if distressed, at least one
    invoice issued after it: only those can be judged against their own history.
    """

    precision: float
    recall: float
    median_lead_days: float
    n_alerts: int
    n_true_alerts: int
    n_positives: int
    n_eligible: int
    n_with_event: int
    share_alert_before_event: float
    detail: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    title = "Alert evaluation against truth"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in (
            "precision", "recall", "median_lead_days", "n_alerts", "n_true_alerts",
            "n_positives", "n_eligible", "n_with_event", "share_alert_before_event")}])

    def summary(self, lang: str = "en") -> str:
        check_language(lang)
        if lang == "es":
            return (f"Precisión {self.precision:.2f}, sensibilidad {self.recall:.2f}; la alerta "
                    f"llega con una mediana de {self.median_lead_days:.0f} días antes del "
                    "abandono o impago.")
        return (f"Precision {self.precision:.2f}, recall {self.recall:.2f}; alerts come a "
                f"median {self.median_lead_days:.0f} days before churn or default.")


def _truth_frame(truth, portfolio, obs: pd.DataFrame, p: AlertParams,
                 min_post_invoices: int = 1) -> pd.DataFrame:
    tc = truth.customers if hasattr(truth, "customers") else truth
    tc = tc[["customer_id", "distress_start", "churned_at"]].copy()
    inv = portfolio.invoices
    bad = inv["escalated_at"].combine_first(inv["written_off_at"]) if "escalated_at" in inv \
        else pd.Series(pd.NaT, index=inv.index)
    info = pd.DataFrame({"customer_id": inv["customer_id"], "issue": inv["issue_date"],
                         "bad": bad}).merge(tc[["customer_id", "distress_start"]],
                                            on="customer_id")
    after = info["issue"] >= info["distress_start"]
    tc = tc.set_index("customer_id")
    tc["n_after_start"] = info.loc[after].groupby("customer_id").size()
    tc["default_at"] = info.loc[after & info["bad"].notna()].groupby("customer_id")["bad"].min()
    tc["n_after_start"] = tc["n_after_start"].fillna(0)
    tc["distressed"] = tc["distress_start"].notna() & (tc["distress_start"]
                                                       <= obs.attrs["as_of"])
    ob = obs.merge(tc[["distress_start"]], left_on="customer_id", right_index=True)
    pre = ob["distress_start"].isna() | (ob["obs_date"] < ob["distress_start"])
    tc["n_known_before"] = ob.loc[pre].groupby("customer_id").size()
    tc["n_known_before"] = tc["n_known_before"].fillna(0)
    tc["n_known"] = obs.groupby("customer_id").size()
    tc["n_known"] = tc["n_known"].fillna(0)
    distressed = tc["distressed"]
    tc["positive"] = distressed & (tc["n_after_start"] >= max(min_post_invoices, 1))
    tc["eligible"] = np.where(distressed, tc["positive"] & (tc["n_known_before"]
                                                              >= p.baseline_n),
                              tc["n_known"] > p.baseline_n)
    tc["event_at"] = tc[["churned_at", "default_at"]].min(axis=1)
    return tc


def _score(tc: pd.DataFrame, alerts: pd.DataFrame) -> dict:
    d = tc.loc[tc["eligible"]].join(alerts.set_index("customer_id")[["alert_date"]], how="left")
    alerted = d["alert_date"].notna()
    true_alert = alerted & d["positive"] & (d["alert_date"] >= d["distress_start"])
    n_pos = int(d["positive"].sum())
    lead = (d["event_at"] - d["alert_date"]).dt.days.where(true_alert & d["event_at"].notna()
                                                           & (d["event_at"]
                                                              >= d["distress_start"]))
    lead = lead.dropna()
    return dict(
        precision=float(true_alert.sum() / alerted.sum()) if alerted.any() else float("nan"),
        recall=float(true_alert.sum() / n_pos) if n_pos else float("nan"),
        median_lead_days=float(lead.median()) if len(lead) else float("nan"),
        n_alerts=int(alerted.sum()), n_true_alerts=int(true_alert.sum()), n_positives=n_pos,
        n_eligible=int(len(d)), n_with_event=int(len(lead)),
        share_alert_before_event=float((lead > 0).mean()) if len(lead) else float("nan"),
        detail=d.assign(true_alert=true_alert).reset_index(),
    )


def evaluate_alerts(alerts: Alerts, truth, portfolio,
                    min_post_invoices: int = 1) -> AlertEvaluation:
    """Score alerts against a simulation's truth (see :class:`AlertEvaluation`).

    ``truth`` is the simulator's :class:`~collections_lab.simulate.Truth` (or its
    ``customers`` frame with distress_start and churned_at), ``portfolio`` the simulated
    Portfolio (for default dates). ``min_post_invoices`` > 1 judges only the distress
    episodes that lasted that many invoices (an episode starting a week before ``as_of``
    cannot be seen yet); distressed customers with fewer are left out, not counted as
    negatives.
    """
    obs = observations(portfolio, alerts.as_of, alerts.params)
    tc = _truth_frame(truth, portfolio, obs, alerts.params, min_post_invoices)
    return AlertEvaluation(**_score(tc, alerts.frame))


def alert_tradeoff(portfolio, truth, as_of=None, thresholds: Sequence[float] = (
        2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0), params: AlertParams | None = None,
        min_post_invoices: int = 1) -> pd.DataFrame:
    """Precision, recall and median lead time for each CUSUM threshold ``h`` (one chart).

    The chart is computed once; only the decision threshold varies. Returns a frame with
    columns h, precision, recall, median_lead_days, n_alerts.
    """
    p = params or AlertParams()
    obs = observations(portfolio, as_of, p)
    mon = _chart(obs, p)
    tc = _truth_frame(truth, portfolio, obs, p, min_post_invoices)
    rows = []
    for h in thresholds:
        scores = _score(tc, _first_alerts(mon, h, p.min_shift_days))
        scores.pop("detail")
        rows.append({"h": h, **scores})
    return pd.DataFrame(rows)
