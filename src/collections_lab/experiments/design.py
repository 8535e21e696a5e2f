"""Experiment design: sample size, minimum detectable effect (MDE), power and duration.

Analytic where a formula exists —

- probability paid by due + d: two proportions, inflated by the design effect;
- RMST difference (days saved): the asymptotic variance of the restricted mean from a
  reference payment curve and a censoring curve (:func:`unpaid_and_followed_curves`
  measures both on history);
- hazard ratio: Schoenfeld's events formula (sample size, power, MDE);
- any metric from a **pilot** (historical data or an earlier experiment): the
  cluster-robust variance per invoice measured there, which already contains the design
  effect and the censoring of that data (used for amount-weighted cash by day d, net
  value, escalation);

and by simulation on the behaviour model otherwise (:func:`power_by_simulation`: power
curves over sample sizes). Customers, not invoices, are randomised, so invoices of one
customer are correlated: the **design effect** ``1 + ((cv² + 1)·m − 1)·ρ`` (mean invoices
per customer ``m``, their coefficient of variation ``cv``, intra-customer correlation ``ρ``)
multiplies the independent-invoices sample size; :func:`estimate_design_effect` measures
it directly as clustered over naive variance.

Sizes are per arm, in invoices and customers; durations in weeks.

Example
-------
>>> plan = sample_size_proportion(0.60, 0.05, design_effect=1.8, invoices_per_customer=4)
>>> plan.invoices_per_arm, plan.customers_per_arm
(2642, 661)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from ..i18n import ResultMixin
from .data import ExperimentData
from .metrics import METRICS, MetricConfig, compare_arms, estimate_arm, naive_invoice_level_se


def _z(alpha: float, power: float) -> tuple[float, float]:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be in (0, 1)")
    return stats.norm.isf(alpha / 2), stats.norm.ppf(power)


@dataclass
class SampleSizePlan(ResultMixin):
    """Sample size for one metric: invoices and customers per arm, events, duration."""

    metric: str
    effect: float
    alpha: float
    power: float
    invoices_per_arm: int
    customers_per_arm: int
    design_effect: float
    events: int | None = None
    weeks: float | None = None
    notes: list[str] = field(default_factory=list)
    title = "Sample size"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "metric": self.metric, "effect": self.effect, "alpha": self.alpha,
            "power": self.power, "invoices_per_arm": self.invoices_per_arm,
            "customers_per_arm": self.customers_per_arm,
            "design_effect": self.design_effect, "events": self.events, "weeks": self.weeks,
        }])


def design_effect(invoices_per_customer: float, icc: float, cv: float = 0.0) -> float:
    """Variance inflation from randomising customers with several invoices each.

    ``1 + ((cv² + 1)·m − 1)·ρ`` (Eldridge et al. 2006 for unequal cluster sizes).

    >>> design_effect(4, 0.2)
    1.6
    """
    if invoices_per_customer < 1:
        raise ValueError("invoices_per_customer must be >= 1")
    if not -1 < icc <= 1:
        raise ValueError("icc must be in (-1, 1]")
    return round(1.0 + ((cv**2 + 1.0) * invoices_per_customer - 1.0) * icc, 12)


def estimate_design_effect(data: ExperimentData, metric: str = "paid_by_due_d",
                           cfg: MetricConfig | None = None,
                           baseline: str = "stratified") -> float:
    """Measured design effect: clustered over invoice-level variance on (pilot) data.

    Uses the first non-control arm against control, so the data needs two arms (for
    history, an A/A split: assign a hash-based fake arm). ``baseline="stratified"``
    compares with the invoice-level variance under the same stratification (the pure
    clustering effect); ``baseline="simple"`` with independent invoices under simple
    randomisation — what the analytic formulas here (:func:`rmst_variance_per_invoice`,
    Schoenfeld, two proportions) assume, so this DE also carries the stratification
    gain and is the one to multiply them by.
    """
    if len(data.arm_names) < 2:
        raise ValueError("estimate_design_effect needs two arms (an A/A split works)")
    if baseline not in ("stratified", "simple"):
        raise ValueError("baseline must be 'stratified' or 'simple'")
    cfg = cfg or MetricConfig()
    eff = compare_arms(data, cfg, metrics=[metric], arms=[data.arm_names[1]])[0]
    naive_data = data if baseline == "stratified" else replace(data, customer_stratum=None)
    _, naive_se = naive_invoice_level_se(naive_data, metric, 1, cfg)
    return float((eff.se / naive_se) ** 2)


def _customers(invoices: float, invoices_per_customer: float) -> int:
    return int(math.ceil(invoices / invoices_per_customer))


def sample_size_proportion(p_control: float, mde: float, alpha: float = 0.05,
                           power: float = 0.8, design_effect: float = 1.0,
                           invoices_per_customer: float = 1.0,
                           resolved_share: float = 1.0) -> SampleSizePlan:
    """Invoices per arm to detect ``p_control`` → ``p_control + mde`` (P(paid by due + d)).

    ``resolved_share`` is the share of invoices whose due + d day will have passed at the
    readout (open invoices earlier than that add little information). The variance is the
    unpooled one of the readout's Wald test, as in :func:`power_proportion` and
    :func:`mde_proportion`, so the three invert each other (the pooled null variance made
    the round trip off by 0.1–0.4%).
    """
    p1, p2 = p_control, p_control + mde
    if not (0 < p1 < 1 and 0 < p2 < 1) or mde == 0:
        raise ValueError("need 0 < p_control, p_control + mde < 1 and mde != 0")
    za, zb = _z(alpha, power)
    n = (za + zb) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / mde**2
    n = math.ceil(n * design_effect / resolved_share)
    return SampleSizePlan("paid_by_due_d", mde, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect)


def power_proportion(p_control: float, mde: float, invoices_per_arm: int, alpha: float = 0.05,
                     design_effect: float = 1.0, resolved_share: float = 1.0) -> float:
    """Power of the two-arm test of P(paid by due + d) with clustered invoices."""
    p1, p2 = p_control, p_control + mde
    n_eff = invoices_per_arm * resolved_share / design_effect
    se = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n_eff)
    za = stats.norm.isf(alpha / 2)
    return float(stats.norm.sf(za - abs(mde) / se) + stats.norm.cdf(-za - abs(mde) / se))


def mde_proportion(p_control: float, invoices_per_arm: int, alpha: float = 0.05,
                   power: float = 0.8, design_effect: float = 1.0,
                   resolved_share: float = 1.0) -> float:
    """Smallest detectable change in P(paid by due + d) with ``invoices_per_arm``."""
    za, zb = _z(alpha, power)
    n_eff = invoices_per_arm * resolved_share / design_effect
    delta = (za + zb) * math.sqrt(2 * p_control * (1 - p_control) / n_eff)
    for _ in range(50):  # refine with the arm's own variance
        p2 = min(max(p_control + delta, 1e-6), 1 - 1e-6)
        delta = (za + zb) * math.sqrt((p_control * (1 - p_control) + p2 * (1 - p2)) / n_eff)
    return float(delta)


def schoenfeld_events(hazard_ratio: float, alpha: float = 0.05, power: float = 0.8,
                      allocation: float = 0.5, design_effect: float = 1.0) -> int:
    """Payment events needed to detect ``hazard_ratio`` (Schoenfeld 1983), times DE.

    ``D = (z_{1-α/2} + z_{power})² / (p(1-p) · log(HR)²)``, ``p`` the share in the arm.

    >>> schoenfeld_events(0.8)
    631
    """
    if hazard_ratio <= 0 or hazard_ratio == 1:
        raise ValueError("hazard_ratio must be positive and different from 1")
    za, zb = _z(alpha, power)
    d = (za + zb) ** 2 / (allocation * (1 - allocation) * math.log(hazard_ratio) ** 2)
    return int(math.ceil(d * design_effect))


def sample_size_hazard_ratio(hazard_ratio: float, event_probability: float,
                             alpha: float = 0.05, power: float = 0.8,
                             design_effect: float = 1.0,
                             invoices_per_customer: float = 1.0) -> SampleSizePlan:
    """Invoices per arm for a hazard ratio, from Schoenfeld's events and P(paid by readout)."""
    if not 0 < event_probability <= 1:
        raise ValueError("event_probability must be in (0, 1]")
    events = schoenfeld_events(hazard_ratio, alpha, power, 0.5, design_effect)
    n = math.ceil(events / event_probability / 2)
    return SampleSizePlan("hazard_ratio", hazard_ratio, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect, events=events)


def power_hazard_ratio(hazard_ratio: float, events: float, alpha: float = 0.05,
                       allocation: float = 0.5, design_effect: float = 1.0) -> float:
    """Power of the clustered log-hazard-ratio test with ``events`` payment events (all arms).

    Schoenfeld's approximation ``SE(log HR) = sqrt(DE / (p(1-p) D))`` inverted.

    >>> round(power_hazard_ratio(0.8, 631), 2)
    0.8
    """
    if hazard_ratio <= 0 or events <= 0:
        raise ValueError("hazard_ratio and events must be > 0")
    se = math.sqrt(design_effect / (allocation * (1 - allocation) * events))
    return power_at_se(math.log(hazard_ratio), se, alpha)


def mde_hazard_ratio(events: float, alpha: float = 0.05, power: float = 0.8,
                     allocation: float = 0.5, design_effect: float = 1.0) -> float:
    """Smallest hazard ratio (> 1, faster payment) detectable with ``events`` events.

    A slowing effect of the same size is its reciprocal.

    >>> round(mde_hazard_ratio(631), 3)
    1.25
    """
    if events <= 0:
        raise ValueError("events must be > 0")
    za, zb = _z(alpha, power)
    return float(math.exp((za + zb) * math.sqrt(
        design_effect / (allocation * (1 - allocation) * events))))


def rmst_variance_per_invoice(survival: Sequence[float], horizon_days: int,
                              censoring_survival: Sequence[float] | None = None) -> float:
    """Asymptotic variance × n of the RMST (days outstanding) up to ``horizon_days``.

    ``survival[t]`` is the share still unpaid at the end of day ``t`` (t = 0, 1, …),
    ``censoring_survival[t]`` the share still under observation (default 1: everything
    followed to the horizon). Uses ``Σ_u A(u)² h(u) / ((1 - h(u)) π(u))`` (Greenwood-type,
    whole days) with ``A(u)`` the area under the unpaid curve from day ``u`` to the horizon,
    ``h`` the daily payment hazard and ``π(u)`` the share at risk.
    """
    s = np.asarray(survival, dtype=float)[: horizon_days]
    if len(s) < horizon_days:
        raise ValueError(f"survival curve must cover {horizon_days} days")
    g = np.ones(horizon_days) if censoring_survival is None else np.asarray(
        censoring_survival, dtype=float)[:horizon_days]
    s_before = np.concatenate(([1.0], s[:-1]))
    g_before = np.concatenate(([1.0], g[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(s_before > 0, 1 - s / s_before, 0.0)
        at_risk = s_before * g_before
        area = np.cumsum(s[::-1])[::-1]  # A(u) = sum_{t>=u} S(t)
        terms = np.where((at_risk > 0) & (h < 1), area**2 * h / ((1 - h) * at_risk), 0.0)
    return float(terms.sum())


def sample_size_rmst(survival: Sequence[float], days_saved: float, horizon_days: int,
                     censoring_survival: Sequence[float] | None = None, alpha: float = 0.05,
                     power: float = 0.8, design_effect: float = 1.0,
                     invoices_per_customer: float = 1.0) -> SampleSizePlan:
    """Invoices per arm to detect ``days_saved`` in RMST (days outstanding to the horizon).

    ``survival`` is the control arm's unpaid curve (e.g. Kaplan–Meier of history); the
    treatment arm is assumed to have about the same variance.
    """
    if days_saved == 0:
        raise ValueError("days_saved must be non-zero")
    za, zb = _z(alpha, power)
    var = rmst_variance_per_invoice(survival, horizon_days, censoring_survival)
    n = math.ceil((za + zb) ** 2 * 2 * var * design_effect / days_saved**2)
    return SampleSizePlan("rmst_days", days_saved, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect)


def power_rmst(survival: Sequence[float], days_saved: float, invoices_per_arm: int,
               horizon_days: int, censoring_survival: Sequence[float] | None = None,
               alpha: float = 0.05, design_effect: float = 1.0,
               survival_treatment: Sequence[float] | None = None,
               censoring_treatment: Sequence[float] | None = None) -> float:
    """Power to detect ``days_saved`` in RMST (days outstanding) with ``invoices_per_arm``.

    Variance from :func:`rmst_variance_per_invoice` of each arm's unpaid curve (the
    treatment arm's defaults to the control's), times the design effect.
    """
    var_c = rmst_variance_per_invoice(survival, horizon_days, censoring_survival)
    var_t = var_c if survival_treatment is None else rmst_variance_per_invoice(
        survival_treatment, horizon_days,
        censoring_treatment if censoring_treatment is not None else censoring_survival)
    return power_at_se(days_saved, math.sqrt((var_c + var_t) * design_effect
                                             / invoices_per_arm), alpha)


def mde_rmst(survival: Sequence[float], invoices_per_arm: int, horizon_days: int,
             censoring_survival: Sequence[float] | None = None, alpha: float = 0.05,
             power: float = 0.8, design_effect: float = 1.0) -> float:
    """Smallest RMST difference (days outstanding to the horizon) detectable per arm size.

    Both arms assumed to have the control curve's variance (as :func:`sample_size_rmst`).
    """
    za, zb = _z(alpha, power)
    var = rmst_variance_per_invoice(survival, horizon_days, censoring_survival)
    return float((za + zb) * math.sqrt(2 * var * design_effect / invoices_per_arm))


def unpaid_and_followed_curves(data: ExperimentData, arm: int = 0,
                               horizon_days: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """From history (or a pilot), the curves :func:`sample_size_rmst` needs.

    Returns ``(survival, censoring_survival)`` for days 0..horizon−1 from issue: the share
    still unpaid (1 − cumulative incidence of payment; escalated invoices stay unpaid, as
    in the RMST metric) and the share still followed (Kaplan–Meier of censoring, i.e. of
    invoices still open at the readout).
    """
    from ..survival.influence import AalenJohansen

    mask = data.invoice_arm == arm
    n = int(mask.sum())
    if n == 0:
        raise ValueError(f"arm {data.arm_names[arm]!r} has no invoices")
    zero = np.zeros(n, np.int64)
    paid = AalenJohansen().fit(zero, data.duration[mask], data.cause[mask])
    cens = AalenJohansen().fit(zero, data.duration[mask], (data.cause[mask] == 0).astype(int))
    days = np.arange(horizon_days)
    survival = 1.0 - paid.cif_on(days)
    idx = np.minimum(days, len(cens.survival_) - 1)
    return survival, cens.survival_[idx]


def mde_from_pilot(data: ExperimentData, metric: str, invoices_per_arm: int,
                   alpha: float = 0.05, power: float = 0.8,
                   cfg: MetricConfig | None = None) -> float:
    """Smallest detectable difference in ``metric`` with ``invoices_per_arm``, from a pilot.

    Uses :func:`pilot_variance_per_invoice` (clustering and censoring of the pilot
    included); for metrics without a textbook formula (cash by due + d, net value, …).
    """
    za, zb = _z(alpha, power)
    var = pilot_variance_per_invoice(data, metric, cfg)
    return float((za + zb) * math.sqrt(2 * var / invoices_per_arm))


def mde_cash(data: ExperimentData, invoices_per_arm: int, alpha: float = 0.05,
             power: float = 0.8, cfg: MetricConfig | None = None) -> float:
    """Smallest detectable change in the share of amount collected by due + d (a pilot's).

    Amount-weighted cash has no closed form (amounts vary and correlate with speed), so
    the variance comes from pilot data: :func:`mde_from_pilot` for ``cash_by_due_d``.
    """
    return mde_from_pilot(data, "cash_by_due_d", invoices_per_arm, alpha, power, cfg)


def pilot_variance_per_invoice(data: ExperimentData, metric: str,
                               cfg: MetricConfig | None = None, arm: int = 0) -> float:
    """Cluster-robust variance × invoices of ``metric`` in one arm of pilot data.

    This per-invoice variance includes the design effect and the censoring pattern of the
    pilot, so it answers "how many invoices" for metrics without a textbook formula.
    """
    if metric == "hazard_ratio":
        raise ValueError("use schoenfeld_events for the hazard ratio")
    cfg = cfg or MetricConfig()
    _, psi_c = estimate_arm(data, metric, arm, cfg)
    n_inv = int(np.sum(data.invoice_arm == arm))
    return float(np.sum(psi_c**2) * n_inv)


def sample_size_from_pilot(data: ExperimentData, metric: str, mde: float, alpha: float = 0.05,
                           power: float = 0.8, cfg: MetricConfig | None = None,
                           invoices_per_customer: float | None = None) -> SampleSizePlan:
    """Invoices per arm for ``metric`` using the variance measured on pilot ``data``."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    za, zb = _z(alpha, power)
    var = pilot_variance_per_invoice(data, metric, cfg)
    n = math.ceil((za + zb) ** 2 * 2 * var / mde**2)
    m = invoices_per_customer or len(data.customer) / max(len(np.unique(data.customer)), 1)
    plan = SampleSizePlan(metric, mde, alpha, power, n, _customers(n, m), float("nan"))
    plan.notes.append("variance per invoice measured on pilot data (clustering and "
                      "censoring included)")
    return plan


def power_at_se(effect: float, se: float, alpha: float = 0.05) -> float:
    """Power of a two-sided z test when the estimate's standard error is ``se``.

    >>> round(power_at_se(0.05, 0.0178), 2)
    0.8
    """
    if se <= 0:
        raise ValueError("se must be > 0")
    za = stats.norm.isf(alpha / 2)
    return float(stats.norm.sf(za - abs(effect) / se) + stats.norm.cdf(-za - abs(effect) / se))


def power_from_pilot(data: ExperimentData, metric: str, mde: float, customers_per_arm: int,
                     alpha: float = 0.05, cfg: MetricConfig | None = None) -> float:
    """Predicted power for ``metric`` with ``customers_per_arm`` from a pilot experiment.

    The pilot's clustered SE of the arm difference (first arm vs control) is rescaled by
    ``sqrt(pilot customers per arm / customers_per_arm)``: it carries the pilot's design
    effect and censoring pattern, so keep the same calendar (enrolment and readout).
    """
    cfg = cfg or MetricConfig()
    eff = compare_arms(data, cfg, metrics=[metric], arms=[data.arm_names[1]])[0]
    pilot_per_arm = eff.n_customers / 2
    se = eff.se * math.sqrt(pilot_per_arm / customers_per_arm)
    return power_at_se(mde, se, alpha)


def duration_weeks(customers_needed: int, new_customers_per_week: float,
                   follow_up_days: int) -> float:
    """Weeks to enrol ``customers_needed`` (all arms) plus the follow-up until due + d.

    >>> duration_weeks(2000, 500, 45)
    10.4
    """
    if new_customers_per_week <= 0:
        raise ValueError("new_customers_per_week must be > 0")
    return round(customers_needed / new_customers_per_week + follow_up_days / 7.0, 1)


@dataclass
class PowerCurve(ResultMixin):
    """Simulated power (rejection rate) by sample size, with Monte-Carlo SE."""

    metric: str
    table: pd.DataFrame
    title = "Power curve (simulation)"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def size_for(self, power: float = 0.8) -> float:
        """Smallest simulated size whose power reaches ``power`` (NaN if none)."""
        ok = self.table.loc[self.table["power"] >= power, "size"]
        return float(ok.min()) if len(ok) else float("nan")


def power_by_simulation(make_data: Callable[[int, int], ExperimentData], sizes: Sequence[int],
                        metric: str = "cash_by_due_d", n_sims: int = 200, alpha: float = 0.05,
                        cfg: MetricConfig | None = None, seed: int = 0) -> PowerCurve:
    """Power curve over sample sizes by simulating experiments on the behaviour model.

    ``make_data(size, seed)`` must return :class:`ExperimentData` for an experiment of that
    size (e.g. simulate customers with the planned arms and cut the readout at the planned
    date). For each size, ``n_sims`` experiments are analysed and the share with
    p < ``alpha`` is the power.
    """
    cfg = cfg or MetricConfig()
    rows = []
    rng = np.random.default_rng(seed)
    for size in sizes:
        hits, effects = [], []
        for _ in range(n_sims):
            data = make_data(int(size), int(rng.integers(2**31)))
            eff = compare_arms(data, cfg, metrics=[metric], arms=[data.arm_names[1]])[0]
            hits.append(eff.p_value < alpha)
            effects.append(eff.effect)
        p = float(np.mean(hits))
        rows.append({"size": size, "power": p, "mc_se": math.sqrt(p * (1 - p) / n_sims),
                     "mean_effect": float(np.mean(effects)), "n_sims": n_sims})
    return PowerCurve(metric, pd.DataFrame(rows))
