"""Behaviour-change alerts: a customer paying later, in parts, or ordering less than its
own history says it should.

Method: a one-sided **CUSUM control chart** per customer (a change-point method; Page
1954, Montgomery's *Statistical Quality Control* ch. 9), run over time on the evidence
known at each date, against the customer's own baseline. Written here, vectorised with
group cumulative sums, because neither statsmodels nor scipy offer a grouped CUSUM and a
per-customer loop would not scale to 50,000 customers.

1. **Lateness score.** Days late ``x`` (floored at ``floor_days``, capped at
   ``cap_days``; an escalated or written-off invoice counts as ``cap_days``) becomes
   ``y = asinh(x / scale_days)``: linear near the due date, logarithmic in the tail, so a
   few days late already counts for a customer who always pays on time while one
   escalation (heavy tail) cannot dominate.
2. **Baseline, the customer's own history.** For each later invoice: the customer's
   invoices before it except the last ``guard_n`` (at least its first ``baseline_n``
   resolved ones). Their mean is shrunk towards the segment's mean with
   ``prior_weight`` pseudo-invoices (``m = (n·ȳ + w·μ_segment) / (n + w)``) and their SD
   towards the portfolio's pooled within-customer SD the same way: few invoices,
   little trust; a long history, a tight personal baseline.
3. **Evidence over time.** A later invoice reports as soon as it is paid, and while it
   stays unpaid it reports again at each of ``checkpoints_days`` after due (and at
   ``cap_days``): an invoice 30 days overdue is evidence before it is paid. Each report
   adds ``Δz`` = the change of ``clip((y(level) − m)/s, −z_max, z_max)``, and an
   invoice's first report also subtracts the reference ``k``. Summed over an invoice's
   reports this is its score ``z − k``.
4. **Chart.** ``S = max(0, S_prev + Δz)`` over the reports in date order (computed as
   ``C − min(0, cummin C)`` with ``C`` the cumulative sum per customer).
5. **Two more symptoms in the same chart** (firms in trouble also pay in parts and
   order less; lateness alone cannot tell them from ordinary slow payers):

   * *Order size*, known at the issue date (the earliest signal): each invoice reports
     ``amount_weight·(z − amount_k)`` with ``z`` how far its log amount falls below the
     customer's own baseline (earlier invoices in the same currency but the last
     ``amount_guard_n``), over the SD shrunk to the pooled within-customer SD.
   * *Part payments* (needs the payments table: a Portfolio, or ``payments=``): an
     invoice whose first payment did not settle it reports 1 that day, before it
     closes; one settled by a single payment reports 0 when paid. The increment is the
     Bernoulli log-likelihood ratio of a rate ``p0 + partial_shift`` against the
     customer's own rate ``p0`` (shrunk to the portfolio's with
     ``partial_prior_weight`` pseudo-invoices), times ``partial_weight``.

   A frame without ``amount``/``issue_date`` or without payments simply leaves that
   signal out.
6. **Alert.** The first report with ``S > h`` once at least ``min_late_invoices``
   reports since the chart last stood at zero (the estimated change point) scored above
   their reference (a late invoice, a small order, a part payment; persistence: one bad
   invoice is not a change of behaviour). The evidence, before (baseline) and after
   (since the change point, up to the alert) for each signal: mean days late (open
   invoices at their current lateness), geometric mean amount, share paid in parts; the
   change date, the alert date and the signal that triggered it.

Example
-------
>>> import pandas as pd
>>> due = pd.date_range("2025-01-31", periods=9, freq="30D")
>>> pt = pd.DataFrame({"customer_id": [c for c in "ab" for _ in range(9)],
...     "invoice_id": [f"i{k}" for k in range(18)], "due_date": list(due) * 2,
...     "days_late": [0, -1, 1, 0, 25, 30, 28, 30, 40] + [0, -1, 1, 0, 0, 1, -1, 0, 0],
...     "event": True, "outcome": "paid"})
>>> pt["end_date"] = pt["due_date"] + pd.to_timedelta(pt["days_late"], unit="D")
>>> pt.attrs["as_of"] = pd.Timestamp("2025-12-31")
>>> a = behaviour_alerts(pt, h=5).to_frame()
>>> a[["customer_id", "before_mean", "n_after", "trigger"]].values.tolist()
[['a', 0.0, 3, 'lateness']]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..i18n import ResultMixin, format_number, resolve, t
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

    Lateness: ``baseline_n`` … ``min_late_invoices``; order size: ``amount_weight``
    (0 switches it off), ``amount_k`` (reference in SDs), ``amount_guard_n``; part
    payments: ``partial_weight`` (0 switches it off), ``partial_shift`` (rise of the
    part-paid share to detect), ``partial_prior_weight`` (pseudo-invoices at the
    portfolio's share).

    Defaults were tuned on one simulated portfolio with known distress episodes (seed 3)
    and checked on others (``benchmarks/bench_alerts.py`` prints the figures and the
    trade-off curve over ``h``): on held-out seeds h = 9 gave precision ≈ 0.79–0.81,
    recall ≈ 0.53–0.60 and a median 40–50 days of warning before churn or default; a
    lower ``h`` flags more customers (h = 7: precision ≈ 0.5–0.57, recall ≈ 0.62–0.67,
    ≈ 50 days), a higher one is surer and later (h = 11: precision ≈ 0.9, recall ≈
    0.46–0.52, 18–32 days). With one signal only (no amounts, no payments) the chart
    grows more slowly: h ≈ 5 is the comparable threshold.

    Example: ``AlertParams(h=8)`` or ``behaviour_alerts(portfolio, as_of=d, h=8)``.
    """

    baseline_n: int = 3
    guard_n: int = 1
    prior_weight: float = 2.0
    cap_days: int = 60
    floor_days: int = -10
    scale_days: float = 3.0
    checkpoints_days: tuple = (10, 20, 30, 45)
    k: float = 0.5
    h: float = 9.0
    z_max: float = 3.0
    min_late_invoices: int = 3
    amount_weight: float = 1.5
    amount_k: float = 0.5
    amount_guard_n: int = 1
    partial_weight: float = 1.0
    partial_shift: float = 0.2
    partial_prior_weight: float = 10.0

    def __post_init__(self):
        if self.baseline_n < 1:
            raise ValueError(f"AlertParams.baseline_n must be at least 1, got {self.baseline_n}")
        if self.cap_days <= self.floor_days:
            raise ValueError(f"AlertParams.cap_days ({self.cap_days}) must exceed floor_days "
                             f"({self.floor_days})")
        if self.scale_days <= 0:
            raise ValueError(f"AlertParams.scale_days must be positive, got {self.scale_days}")
        if self.amount_weight < 0 or self.partial_weight < 0:
            raise ValueError("AlertParams.amount_weight and partial_weight must be >= 0, got "
                             f"{self.amount_weight}, {self.partial_weight}")
        if not 0 < self.partial_shift < 1:
            raise ValueError("AlertParams.partial_shift must be a share between 0 and 1, "
                             f"got {self.partial_shift}")
        if any(c <= 0 for c in self.checkpoints_days):
            raise ValueError("AlertParams.checkpoints_days must be positive days after due, "
                             f"got {self.checkpoints_days}")


def observations(source, as_of=None, params: AlertParams | None = None) -> pd.DataFrame:
    """One row per invoice with evidence about its lateness at ``as_of`` (step 1).

    Columns: customer_id, invoice_id, segment (when known), due_date, x (days late so far,
    floored and capped; an open invoice at its current lateness), final (its value will
    not change: paid, escalated, written off or already ``cap_days`` overdue), obs_date
    (when the current value became known). Open invoices not yet overdue say nothing
    and are left out. Sorted by customer and due date.
    """
    p = params or AlertParams()
    pt = payment_times_of(source, as_of, _NEEDED)
    as_of_ts = parse_date(as_of, "as_of") if as_of is not None else pt.attrs.get("as_of")
    if as_of_ts is None:
        as_of_ts = pt["end_date"].max()
    open_ = (pt["outcome"] == "open").to_numpy()
    late = pt["days_late"].to_numpy(dtype=float)
    x = np.clip(late, p.floor_days, p.cap_days)
    closed_bad = pt["outcome"].isin(["escalated", "written_off"]).to_numpy()
    x = np.where(closed_bad, p.cap_days, x)
    final = ~open_ | (late >= p.cap_days)
    keep = final | (late > 0)
    due = pt["due_date"].to_numpy()
    cap_date = due + np.timedelta64(p.cap_days, "D")
    end = pt["end_date"].to_numpy()
    obs_date = np.where(closed_bad | (late >= p.cap_days), np.minimum(cap_date, end), end)
    ids = pt["invoice_id"].to_numpy() if "invoice_id" in pt else np.arange(len(pt))
    obs = pd.DataFrame({"customer_id": pt["customer_id"].to_numpy()[keep],
                        "invoice_id": ids[keep]})
    if "segment" in pt:
        obs["segment"] = pt["segment"].to_numpy()[keep]
    obs = obs.assign(due_date=due[keep], x=x[keep], final=final[keep],
                     obs_date=obs_date[keep])
    obs = obs.sort_values(["customer_id", "due_date", "obs_date"], kind="stable")
    obs.attrs["as_of"] = pd.Timestamp(as_of_ts)
    return obs.reset_index(drop=True)


def _lateness_scale(p: AlertParams) -> np.ndarray:
    """``y = asinh(x / scale_days)`` for each whole day from floor to cap (step 1), as a
    lookup table indexed by ``x − floor_days``."""
    return np.arcsinh(np.arange(p.floor_days, p.cap_days + 1) / p.scale_days)


def _baselines(obs: pd.DataFrame, p: AlertParams, scale: np.ndarray):
    """Per-invoice baseline (step 2): the customer's invoices before it (all but the last
    ``guard_n``, at least its first ``baseline_n``), mean shrunk to the segment's, SD
    shrunk to the pooled SD. Returns the monitored invoices with ``m``, ``s`` and
    ``before_mean``, and the pooled SD."""
    obs = obs.assign(y=scale[(np.rint(obs["x"].to_numpy()) - p.floor_days).astype(np.int64)])
    g = obs.groupby("customer_id", sort=False)
    j = g.cumcount().to_numpy()
    obs["j"] = j
    base = obs.loc[j < p.baseline_n]
    b = base.groupby("customer_id", sort=False).agg(
        n=("y", "size"), n_final=("final", "sum"), y_mean=("y", "mean"), y_var=("y", "var"))
    b = b.loc[(b["n"] >= p.baseline_n) & (b["n_final"] >= p.baseline_n)]
    if "segment" in obs:
        seg = base.drop_duplicates("customer_id").set_index("customer_id")["segment"]
        b["prior"] = b.groupby(seg.reindex(b.index).to_numpy())["y_mean"].transform("mean")
    else:
        b["prior"] = b["y_mean"].mean()
    sigma = float(np.sqrt(b["y_var"].mean())) if len(b) else 1.0
    if not np.isfinite(sigma) or sigma <= 0:
        sigma = 1.0
    # cumulative sums give the stats of the first n_b invoices for any n_b
    y = obs["y"].to_numpy()
    cy = g["y"].cumsum().to_numpy()
    cy2 = pd.Series(y * y).groupby(obs["customer_id"].to_numpy(), sort=False).cumsum().to_numpy()
    cx = g["x"].cumsum().to_numpy()
    first = np.arange(len(obs)) - j
    nb = np.maximum(p.baseline_n, j - p.guard_n)
    at = first + nb - 1
    keep = (j >= p.baseline_n) & obs["customer_id"].isin(b.index).to_numpy()
    at = at[keep]
    nb = nb[keep].astype(float)
    mon = obs.loc[keep].copy()
    ybar = cy[at] / nb
    var = np.maximum(cy2[at] - nb * ybar ** 2, 0.0) / np.maximum(nb - 1, 1)
    prior = b["prior"].reindex(mon["customer_id"]).to_numpy()
    w = p.prior_weight
    mon["m"] = (nb * ybar + w * prior) / (nb + w)
    mon["s"] = np.sqrt(((nb - 1) * var + w * sigma ** 2) / (nb - 1 + w))
    mon["before_mean"] = cx[at] / nb
    return mon, sigma


def _reports(mon: pd.DataFrame, p: AlertParams, scale: np.ndarray) -> pd.DataFrame:
    """Expand monitored invoices into dated reports (step 3), with Δz per report."""
    cps = np.array(sorted({c for c in p.checkpoints_days if c < p.cap_days} | {p.cap_days}),
                   dtype=float)
    x = mon["x"].to_numpy()
    final = mon["final"].to_numpy()
    # an open invoice reports at each checkpoint it reached; a resolved one also reports
    # the day it was resolved (if between checkpoints)
    reached = (x[:, None] >= cps[None, :]).sum(axis=1)
    passed = (x[:, None] > cps[None, :]).sum(axis=1)
    n_rep = np.where(final, 1 + passed, reached)
    n_rep = np.minimum(n_rep, len(cps))
    rows = np.repeat(np.arange(len(mon)), n_rep)
    first = np.cumsum(n_rep) - n_rep
    i = np.arange(len(rows)) - np.repeat(first, n_rep)
    xr = x[rows]
    level = np.minimum(xr, cps[i])
    prev = np.where(i > 0, np.minimum(xr, cps[np.maximum(i - 1, 0)]), np.nan)
    due = mon["due_date"].to_numpy()[rows]
    at_cp = xr >= cps[i]
    # an invoice escalated before a checkpoint reports everything when it is escalated
    known = mon["obs_date"].to_numpy()[rows]
    date = np.where(at_cp, np.minimum(due + (cps[i] * 86400e9).astype("timedelta64[ns]"),
                                      known), known)
    cust = mon["customer_id"].to_numpy()[rows]
    m = mon["m"].to_numpy()[rows]
    sd = mon["s"].to_numpy()[rows]

    def z(level_days):
        idx = (np.rint(np.nan_to_num(level_days, nan=p.floor_days)) - p.floor_days)
        return np.clip((scale[idx.astype(np.int64)] - m) / sd, -p.z_max, p.z_max)

    z_now = z(level)
    z_prev = np.where(i > 0, z(prev), 0.0)
    dz = np.where(i > 0, z_now - z_prev, z_now - p.k)
    # an invoice turns 'late' (scores above k) at most once: the persistence counter
    late_now = (z_now > p.k) & ((i == 0) | (z_prev <= p.k))
    rep = pd.DataFrame({"customer_id": cust, "invoice_id": mon["invoice_id"].to_numpy()[rows],
                        "due_date": due, "date": date, "level": level, "dz": dz,
                        "late": late_now.astype(np.int64),
                        "before_mean": mon["before_mean"].to_numpy()[rows]})
    return rep.sort_values(["customer_id", "date", "due_date"], kind="stable",
                           ignore_index=True)


def _chart(rep: pd.DataFrame) -> pd.DataFrame:
    """CUSUM ``S`` per customer over its reports (step 4), the run start and late count."""
    g = rep.groupby("customer_id", sort=False)
    c = g["dz"].cumsum().to_numpy()
    cmin = np.minimum(pd.Series(c).groupby(rep["customer_id"].to_numpy(), sort=False)
                      .cummin().to_numpy(), 0.0)
    s = c - cmin
    pos = np.arange(len(rep))
    first_pos = pos - g.cumcount().to_numpy()
    zero = pd.Series(np.where(s <= 0, pos, np.nan))
    last_zero = zero.groupby(rep["customer_id"].to_numpy(), sort=False).ffill().to_numpy()
    start = np.where(np.isnan(last_zero), first_pos,
                     np.nan_to_num(last_zero, nan=0).astype(np.int64) + 1)
    start = np.minimum(start, pos)
    late_cum = g["late"].cumsum().to_numpy()
    late_before = np.where(start > first_pos, late_cum[np.maximum(start - 1, 0)], 0)
    return rep.assign(S=s, run_start=start, n_late=late_cum - late_before)


def _baseline_rows(keys: np.ndarray, baseline_n: int, guard_n: int):
    """Positions for an expanding baseline within groups of consecutive equal ``keys``:
    ``j`` (rank in the group), ``nb`` (baseline size: all earlier rows but the last
    ``guard_n``, at least ``baseline_n``) and ``at`` (position of the baseline's last row).
    Rows with ``j < baseline_n`` are baseline only."""
    j = pd.Series(keys).groupby(keys, sort=False).cumcount().to_numpy()
    nb = np.maximum(baseline_n, j - guard_n)
    at = np.arange(len(keys)) - j + nb - 1
    return j, nb, at


def _amount_reports(pt: pd.DataFrame, monitored, p: AlertParams) -> pd.DataFrame | None:
    """Order-size reports: each invoice reports at its issue date how far its log amount
    fell below the customer's own baseline (same currency), standardised with the SD
    shrunk to the pooled within-customer SD; ``dz = amount_weight·(z − amount_k)``."""
    if p.amount_weight == 0 or not {"amount", "issue_date", "invoice_id"} <= set(pt.columns):
        return None
    amount = pt["amount"].to_numpy(dtype=float)
    ok = np.isfinite(amount) & (amount > 0) & pt["customer_id"].isin(monitored).to_numpy()
    key = pt["customer_id"].astype(str)
    if "currency" in pt:  # a new currency starts a new baseline: never mix currencies
        key = key + "|" + pt["currency"].astype(str)
    d = pd.DataFrame({"key": key.to_numpy()[ok], "customer_id": pt["customer_id"].to_numpy()[ok],
                      "invoice_id": pt["invoice_id"].to_numpy()[ok],
                      "due_date": pt["due_date"].to_numpy()[ok],
                      "date": pt["issue_date"].to_numpy()[ok], "y": np.log(amount[ok])})
    d = d.sort_values(["key", "date", "due_date"], kind="stable", ignore_index=True)
    keys = d["key"].to_numpy()
    j, nb, at = _baseline_rows(keys, p.baseline_n, p.amount_guard_n)
    y = d["y"].to_numpy()
    cy = pd.Series(y).groupby(keys, sort=False).cumsum().to_numpy()
    cy2 = pd.Series(y * y).groupby(keys, sort=False).cumsum().to_numpy()
    keep = j >= p.baseline_n
    at, nbk = at[keep], nb[keep].astype(float)
    ybar = cy[at] / nbk
    var = np.maximum(cy2[at] - nbk * ybar ** 2, 0.0) / np.maximum(nbk - 1, 1)
    first_base = j[keep] == p.baseline_n
    sigma2 = float(var[first_base].mean()) if first_base.any() else 1.0
    if not np.isfinite(sigma2) or sigma2 <= 0:
        sigma2 = 1.0
    w = p.prior_weight
    sd = np.sqrt(((nbk - 1) * var + w * sigma2) / (nbk - 1 + w)) * np.sqrt(1 + 1 / nbk)
    z = np.clip((ybar - y[keep]) / sd, -p.z_max, p.z_max)
    out = d.loc[keep, ["customer_id", "invoice_id", "due_date", "date"]].reset_index(drop=True)
    return out.assign(signal="amount", level=np.nan, value=np.exp(y[keep]),
                      before=np.exp(ybar), dz=p.amount_weight * (z - p.amount_k),
                      late=(z > p.amount_k).astype(np.int64))


def _partial_reports(pt: pd.DataFrame, payments, monitored, p: AlertParams,
                     as_of: pd.Timestamp) -> pd.DataFrame | None:
    """Part-payment reports: an invoice paid in parts reports 1 the day its first payment
    arrived without settling it (before the invoice closes); one paid in a single payment
    reports 0 when paid. Bernoulli CUSUM increment (log-likelihood ratio) of a rate
    ``p0 + partial_shift`` against the customer's own rate ``p0``, shrunk to the
    portfolio's with ``partial_prior_weight`` pseudo-invoices."""
    if (payments is None or p.partial_weight == 0 or "invoice_id" not in pt
            or not {"invoice_id", "paid_at"} <= set(payments.columns)):
        return None
    pay = payments.loc[payments["paid_at"] <= as_of, ["invoice_id", "paid_at"]]
    agg = pay.groupby("invoice_id").agg(first_at=("paid_at", "min"), n=("paid_at", "size"))
    inv = pt.loc[pt["customer_id"].isin(monitored),
                 ["customer_id", "invoice_id", "due_date", "outcome", "end_date"]]
    inv = inv.join(agg, on="invoice_id")
    n = inv["n"].fillna(0).to_numpy()
    paid = (inv["outcome"] == "paid").to_numpy()
    partial = (n >= 2) | ((n == 1) & ~paid)
    single = paid & (n == 1)
    use = partial | single
    d = pd.DataFrame({"customer_id": inv["customer_id"].to_numpy()[use],
                      "invoice_id": inv["invoice_id"].to_numpy()[use],
                      "due_date": inv["due_date"].to_numpy()[use],
                      "date": np.where(partial, inv["first_at"].to_numpy(),
                                       inv["end_date"].to_numpy())[use],
                      "value": partial[use].astype(float)})
    d = d.sort_values(["customer_id", "date", "due_date"], kind="stable", ignore_index=True)
    keys = d["customer_id"].to_numpy()
    j, nb, at = _baseline_rows(keys, p.baseline_n, p.guard_n)
    v = d["value"].to_numpy()
    c1 = pd.Series(v).groupby(keys, sort=False).cumsum().to_numpy()
    keep = j >= p.baseline_n
    base_rate = float(v[j < p.baseline_n].mean()) if (j < p.baseline_n).any() else 0.05
    base_rate = min(max(base_rate, 0.01), 0.5)
    w = p.partial_prior_weight
    p0 = (c1[at[keep]] + w * base_rate) / (nb[keep] + w)
    p1 = np.minimum(p0 + p.partial_shift, 0.99)
    vk = v[keep]
    llr = np.where(vk == 1, np.log(p1 / p0), np.log((1 - p1) / (1 - p0)))
    out = d.loc[keep].reset_index(drop=True)
    return out.assign(signal="partial", level=np.nan, before=p0,
                      dz=p.partial_weight * llr, late=(vk == 1).astype(np.int64))


def _first_alerts(chart: pd.DataFrame, h: float, min_late: int) -> pd.DataFrame:
    """The first report per customer crossing ``h`` with enough symptoms (step 5), with
    the before/after evidence of each signal."""
    hit = (chart["S"].to_numpy() > h) & (chart["n_late"].to_numpy() >= min_late)
    rows = chart.loc[hit].drop_duplicates("customer_id", keep="first")
    change = chart.iloc[rows["run_start"].to_numpy()]
    out = pd.DataFrame({
        "customer_id": rows["customer_id"].to_numpy(),
        "alert_date": rows["date"].to_numpy(),
        "change_date": change["due_date"].to_numpy(),
        "change_at": change["date"].to_numpy(),
        "cusum": rows["S"].to_numpy(),
        "invoice_id": rows["invoice_id"].to_numpy(),
        "trigger": rows["signal"].to_numpy(),
    })
    # after: each report in the run up to the alert; before: the signal's baseline at the
    # first report of the run (else its last report before the alert)
    until = chart.merge(out[["customer_id", "change_at", "alert_date"]], on="customer_id")
    until = until.loc[until["date"] <= until["alert_date"]]
    in_run = until["date"] >= until["change_at"]
    run = until.loc[in_run]
    cust = out["customer_id"]

    def before_of(signal):
        first = run.loc[run["signal"] == signal].groupby("customer_id", sort=False)[
            "before"].first()
        last = until.loc[until["signal"] == signal].groupby("customer_id", sort=False)[
            "before"].last()
        return first.combine_first(last).reindex(cust).to_numpy()

    late = run.loc[run["signal"] == "lateness"]
    inv = late.groupby(["customer_id", "invoice_id"], sort=False)["level"].max()
    after = inv.groupby(level=0, sort=False).agg(["mean", "size"])
    out["before_mean"] = before_of("lateness")
    out["after_mean"] = after["mean"].reindex(cust).to_numpy()
    out["n_after"] = after["size"].reindex(cust).fillna(0).to_numpy(dtype=int)
    out["shift_days"] = out["after_mean"] - out["before_mean"]
    amt = run.loc[run["signal"] == "amount"]
    amt_after = np.exp(np.log(amt["value"]).groupby(amt["customer_id"], sort=False).mean())
    out["before_amount"] = before_of("amount")
    out["after_amount"] = amt_after.reindex(cust).to_numpy()
    part = run.loc[run["signal"] == "partial"]
    out["before_partial_share"] = before_of("partial")
    out["after_partial_share"] = part.groupby("customer_id", sort=False)["value"].mean(
    ).reindex(cust).to_numpy()
    out["n_partial_after"] = part.groupby("customer_id", sort=False).size().reindex(
        cust).fillna(0).to_numpy(dtype=int)
    return out[["customer_id", "alert_date", "change_date", "before_mean", "after_mean",
                "n_after", "shift_days", "before_amount", "after_amount",
                "before_partial_share", "after_partial_share", "n_partial_after", "cusum",
                "invoice_id", "trigger"]]


def _run(obs: pd.DataFrame, p: AlertParams, pt: pd.DataFrame | None = None, payments=None):
    scale = _lateness_scale(p)
    mon, sigma = _baselines(obs, p, scale)
    rep = _reports(mon, p, scale).assign(signal="lateness")
    rep["value"] = rep["level"]
    rep = rep.rename(columns={"before_mean": "before"})
    parts = [rep]
    if pt is not None and len(rep):
        monitored = pd.unique(mon["customer_id"])
        parts.append(_amount_reports(pt, monitored, p))
        parts.append(_partial_reports(pt, payments, monitored, p, obs.attrs["as_of"]))
    parts = [x for x in parts if x is not None and len(x)]
    if len(parts) > 1:
        rep = pd.concat(parts, ignore_index=True).sort_values(
            ["customer_id", "date", "due_date"], kind="stable", ignore_index=True)
    chart = _chart(rep)
    chart.attrs["pooled_sd"] = sigma
    return chart


@dataclass
class Alerts(ResultMixin):
    """Customers whose payment behaviour shifted, one row each with the evidence.

    Columns: customer_id, alert_date, change_date (due date of the first invoice after the
    estimated change point), before_mean (baseline mean days late, capped), after_mean and
    n_after (mean days late so far of the invoices since the change, open ones at their
    current lateness, and how many), shift_days, before_amount / after_amount (geometric
    mean invoice amount, customer's currency, baseline vs since the change),
    before_partial_share / after_partial_share / n_partial_after (share of invoices paid
    in parts: the customer's shrunk baseline rate vs since the change, and on how many
    invoices), cusum, invoice_id and trigger (the invoice and signal, "lateness",
    "amount" or "partial", whose report raised it). Evidence of a signal the data
    lack is NaN. ``n_monitored`` customers had a baseline and something to
    judge; ``n_unmonitored`` did not (fewer than ``baseline_n`` resolved invoices, or none
    after them).
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

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        n = len(self.frame)
        shift = float(self.frame["shift_days"].median()) if n else float("nan")
        return t("alerts.summary", lang, n=n, monitored=self.n_monitored,
                 shift=format_number(shift, 1, lang), unmonitored=self.n_unmonitored)


def _inputs(source, as_of, payments):
    """The payment-times frame and the payments table (from a Portfolio, or given)."""
    pt = payment_times_of(source, as_of, _NEEDED)
    if payments is None and not isinstance(source, pd.DataFrame):
        payments = getattr(source, "payments", None)
    if payments is not None:
        missing = [c for c in ("invoice_id", "paid_at") if c not in payments]
        if missing:
            raise ValueError(f"payments table lacks column(s) {missing} (see "
                             "collections_lab.data.schema.PAYMENTS)")
    return pt, payments


def behaviour_alerts(source, as_of=None, params: AlertParams | None = None,
                     keep_chart: bool = False, payments: pd.DataFrame | None = None,
                     **overrides) -> Alerts:
    """Flag customers who pay later, pay in parts or order less than their own history.

    ``source`` is a Portfolio or a payment-times frame (with ``as_of`` in its attrs or
    given); ``params`` an :class:`AlertParams` (keyword ``overrides`` such as ``h=5``
    replace single fields). ``keep_chart=True`` keeps one row per invoice with its days
    late ``x`` and the chart value ``S`` after its last report (for plots of the
    evidence). Example: ``behaviour_alerts(portfolio, as_of="2026-03-31", h=4)``.

    Example:
        >>> alerts = cl.behaviour_alerts(portfolio, "2025-09-30")
        >>> print(alerts.summary())
        0 of 274 monitored customers changed against their own history (paying later, in
        parts, or ordering less; median lateness shift – days); 26 customers have too
        little history to judge.
    """
    p = params or AlertParams()
    if overrides:
        p = AlertParams(**{**asdict(p), **overrides})
    pt, payments = _inputs(source, as_of, payments)
    obs = observations(pt, as_of, p)
    chart = _run(obs, p, pt, payments)
    alerts = _first_alerts(chart, p.h, p.min_late_invoices)
    n_cust = obs["customer_id"].nunique()
    n_mon = chart["customer_id"].nunique()
    kept = None
    if keep_chart:
        last_s = chart.drop_duplicates("invoice_id", keep="last")[["invoice_id", "S"]]
        kept = obs.merge(last_s, on="invoice_id", how="left")
    return Alerts(alerts, p, pd.Timestamp(obs.attrs["as_of"]), n_mon, n_cust - n_mon,
                  chart=kept)


# -- validation against simulated truth -------------------------------------------------
@dataclass
class AlertEvaluation(ResultMixin):
    """Alerts scored against known distress episodes (simulator truth).

    Judged customers (``eligible``): distressed ones whose episode started at least
    ``min_episode_days`` before ``as_of``, with ``baseline_n`` resolved invoices before
    it and at least ``min_post_invoices`` invoices issued after it (positives); and
    customers not distressed by ``as_of`` with more than ``baseline_n`` invoices
    (negatives). Episodes younger than ``min_episode_days`` are left out, not counted as
    negatives (nothing could be seen yet). ``precision`` = alerted positives alerted on
    or after their distress start / all alerted judged customers; ``recall`` = those true
    alerts / positives; ``lead_days`` = event date − alert date for true alerts whose
    customer later churned or defaulted (first escalation or write-off of an invoice
    issued after the distress start; the event may fall after ``as_of``), negative when
    the alert came too late.
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

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        return t("alerts.evaluation_summary", lang,
                 precision=format_number(self.precision, 2, lang),
                 recall=format_number(self.recall, 2, lang),
                 lead=format_number(self.median_lead_days, 0, lang))


def _truth_frame(truth, portfolio, obs: pd.DataFrame, p: AlertParams,
                 min_post_invoices: int = 1, min_episode_days: int = 0) -> pd.DataFrame:
    tc = truth.customers if hasattr(truth, "customers") else truth
    missing = [c for c in ("customer_id", "distress_start", "churned_at") if c not in tc]
    if missing:
        raise ValueError(f"truth lacks column(s) {missing}: give the simulator's Truth")
    tc = tc[["customer_id", "distress_start", "churned_at"]].copy()
    inv = portfolio.invoices
    bad = inv["escalated_at"].combine_first(inv["written_off_at"]) if "escalated_at" in inv \
        else pd.Series(pd.NaT, index=inv.index)
    info = pd.DataFrame({"customer_id": inv["customer_id"], "issue": inv["issue_date"],
                         "bad": bad}).merge(tc[["customer_id", "distress_start"]],
                                            on="customer_id")
    after = info["issue"] >= info["distress_start"]
    as_of = obs.attrs["as_of"]
    tc = tc.set_index("customer_id")
    tc["n_after_start"] = info.loc[after & (info["issue"] <= as_of)].groupby(
        "customer_id").size()
    tc["default_at"] = info.loc[after & info["bad"].notna()].groupby("customer_id")["bad"].min()
    tc["n_after_start"] = tc["n_after_start"].fillna(0)
    tc["distressed"] = tc["distress_start"].notna() & (tc["distress_start"] <= as_of)
    too_young = tc["distressed"] & (tc["distress_start"]
                                    > as_of - pd.Timedelta(days=min_episode_days))
    ob = obs.merge(tc[["distress_start"]], left_on="customer_id", right_index=True)
    pre = ob["final"] & (ob["distress_start"].isna() | (ob["obs_date"] < ob["distress_start"]))
    tc["n_known_before"] = ob.loc[pre].groupby("customer_id").size()
    tc["n_known_before"] = tc["n_known_before"].fillna(0)
    tc["n_known"] = obs.groupby("customer_id").size()
    tc["n_known"] = tc["n_known"].fillna(0)
    distressed = tc["distressed"]
    tc["positive"] = distressed & ~too_young & (tc["n_after_start"]
                                                >= max(min_post_invoices, 1))
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


def evaluate_alerts(alerts: Alerts, truth, portfolio, min_post_invoices: int = 1,
                    min_episode_days: int = 60) -> AlertEvaluation:
    """Score alerts against a simulation's truth (see :class:`AlertEvaluation`).

    ``truth`` is the simulator's :class:`~collections_lab.model.simulation.Truth` (or its
    ``customers`` frame with distress_start and churned_at), ``portfolio`` the simulated
    Portfolio (for default dates). Distress episodes that started less than
    ``min_episode_days`` before ``as_of``, or with fewer than ``min_post_invoices``
    invoices issued after the start, are left out, not counted as negatives. The detector
    never sees the truth: it is used here only. Example:
    ``evaluate_alerts(behaviour_alerts(sim.portfolio, as_of=d), sim.truth, sim.portfolio)``.
    """
    obs = observations(portfolio, alerts.as_of, alerts.params)
    tc = _truth_frame(truth, portfolio, obs, alerts.params, min_post_invoices,
                      min_episode_days)
    return AlertEvaluation(**_score(tc, alerts.frame))


def alert_tradeoff(portfolio, truth, as_of=None, thresholds: Sequence[float] = (
        2.0, 3.0, 4.0, 5.0, 6.0, 8.0), params: AlertParams | None = None,
        min_post_invoices: int = 1, min_episode_days: int = 60) -> pd.DataFrame:
    """Precision, recall and median lead time (days) for each CUSUM threshold ``h``.

    The chart is computed once; only the decision threshold varies. Returns a frame with
    columns h, precision, recall, median_lead_days, n_alerts and the counts of
    :class:`AlertEvaluation`. Example: ``alert_tradeoff(sim.portfolio, sim.truth,
    as_of="2026-08-31", thresholds=(2, 3, 4))``.
    """
    p = params or AlertParams()
    pt, payments = _inputs(portfolio, as_of, None)
    obs = observations(pt, as_of, p)
    chart = _run(obs, p, pt, payments)
    tc = _truth_frame(truth, portfolio, obs, p, min_post_invoices, min_episode_days)
    rows = []
    for h in thresholds:
        scores = _score(tc, _first_alerts(chart, h, p.min_late_invoices))
        scores.pop("detail")
        rows.append({"h": h, **scores})
    return pd.DataFrame(rows)
