"""One object per experiment metric: its estimator, influence function, direction, scale,
customer weight and the variance that design and power use.

The readout (:func:`~collections_lab.experiments.metrics.compare_arms` and its
:class:`~collections_lab.experiments.metrics.Effect`) and the design functions
(:mod:`~collections_lab.experiments.design`) read a metric's direction and scale from
its :class:`Metric` here, so the two can never disagree on which way is better or on
which scale a hazard ratio is tested.

``METRIC_REGISTRY`` maps each code of :data:`METRICS` to its :class:`Metric`:

=============== ====== ========== ========= ======= ==========
code            better scale      weighting unit    variance
=============== ====== ========== ========= ======= ==========
paid_by_due_d   higher difference invoice   invoice proportion
rmst_days       lower  difference invoice   invoice rmst
median_days     lower  difference invoice   invoice simulation
hazard_ratio    higher ratio      invoice   event   schoenfeld
escalation_rate lower  difference invoice   invoice proportion
cash_by_due_d   higher difference amount    invoice pilot
discount_cost   lower  difference amount    invoice pilot
churn           lower  difference customer  invoice pilot
net_value       higher difference amount    invoice pilot
=============== ====== ========== ========= ======= ==========

``scale="ratio"``: the effect is a ratio estimated and tested on the log scale (the
readout's ``Effect.difference`` is the log hazard ratio). ``weighting``: each customer's
weight in the estimate (the leverage of the CR2 variance): invoices, invoiced amounts or
one per active customer. ``variance``: where :meth:`Metric.variance_per_unit` takes the
variance design needs from — a closed form (two proportions, the RMST's Greenwood-type
variance, Schoenfeld's events), a pilot (historical data or an earlier experiment:
clustering and censoring included), or nothing short of simulation (the median).

Example:
    >>> m = METRIC_REGISTRY["paid_by_due_d"]
    >>> m.higher_is_better, m.scale
    (True, 'difference')
    >>> round(m.variance_per_unit(p_control=0.6, effect=0.05), 5)  # (.6·.4 + .65·.35) / 2
    0.23375
    >>> METRIC_REGISTRY["hazard_ratio"].natural(0.0)
    1.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..i18n import has, t_days
from .data import ExperimentData

#: How design gets a metric's variance (see :meth:`Metric.variance_per_unit`).
VARIANCE_SOURCES = ("proportion", "rmst", "schoenfeld", "pilot", "simulation")


@dataclass(frozen=True)
class Metric:
    """One experiment metric: what it estimates, which way is better, its variance.

    ``code`` is the metric's name in :data:`METRICS`; ``direction`` ``"higher"`` or
    ``"lower"`` (is better for the business); ``scale`` ``"difference"`` (arm − control)
    or ``"ratio"`` (tested on the log scale); ``kind`` what the effect is read in
    (``"share"``, ``"days"`` or ``"ratio"``); ``weighting`` and ``unit`` as in the module
    docstring; ``variance`` one of :data:`VARIANCE_SOURCES`. ``estimator_name`` names the
    function of :mod:`~collections_lab.experiments.metrics` that computes the effect
    (``estimate_arm`` for the metrics the readout differences arm by arm);
    :attr:`estimator` is that function itself.

    Example:
        >>> m = METRIC_REGISTRY["rmst_days"]
        >>> m.higher_is_better, m.estimator.__name__
        (False, 'estimate_arm')
        >>> METRIC_REGISTRY["hazard_ratio"].estimator.__name__
        'hazard_ratio_effect'
    """

    code: str
    direction: Literal["higher", "lower"]
    scale: Literal["difference", "ratio"]
    kind: Literal["share", "days", "ratio"]
    weighting: Literal["invoice", "amount", "customer"]
    unit: Literal["invoice", "event"]
    variance: str
    estimator_name: str = "estimate_arm"

    def __post_init__(self):
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"{self.code}: direction must be 'higher' or 'lower'")
        if self.scale not in ("difference", "ratio"):
            raise ValueError(f"{self.code}: scale must be 'difference' or 'ratio'")
        if self.variance not in VARIANCE_SOURCES:
            raise ValueError(f"{self.code}: variance must be one of {VARIANCE_SOURCES}")

    # -- direction and scale -----------------------------------------------------------

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value is better for the business (more paid, less churn...)."""
        return self.direction == "higher"

    @property
    def is_ratio(self) -> bool:
        """Whether the effect is a ratio (estimated and tested on the log scale)."""
        return self.scale == "ratio"

    def natural(self, difference: float) -> float:
        """The effect on its natural scale from the test scale (``exp`` for a ratio)."""
        return float(np.exp(difference)) if self.is_ratio else float(difference)

    def test_scale(self, effect: float) -> float:
        """The effect on the scale it is tested on (``log`` of a ratio), from natural."""
        if self.is_ratio:
            if not effect > 0:
                raise ValueError(f"{self.code}: a ratio effect must be > 0, got {effect}")
            return float(np.log(effect))
        return float(effect)

    # -- estimator, influence function, customer weight ---------------------------------

    @property
    def estimator(self) -> Callable:
        """The readout's function for this metric (the existing one, not a copy)."""
        from . import metrics

        return getattr(metrics, self.estimator_name)

    @property
    def has_arm_estimate(self) -> bool:
        """Whether the metric is estimated arm by arm (all but the hazard ratio, estimated
        from one Cox fit of two arms, and the median, which has no influence function)."""
        return self.code not in ("hazard_ratio", "median_days")

    def estimate(self, data: ExperimentData, arm: int, cfg=None) -> tuple[float, np.ndarray]:
        """One arm's estimate and per-customer influence function (zero outside the arm).

        :func:`~collections_lab.experiments.metrics.estimate_arm`; NaN estimate when the
        metric's horizon is beyond the follow-up so far.
        """
        from . import metrics

        if not self.has_arm_estimate:
            raise ValueError(f"{self.code} has no per-arm estimate: its estimator "
                             f"{self.estimator_name} compares two arms (use influence())")
        return metrics.estimate_arm(data, self.code, arm, cfg or metrics.MetricConfig())

    def influence(self, data: ExperimentData, arm: int, cfg=None,
                  control: int = 0) -> np.ndarray:
        """Per-customer influence values (one per customer of ``data``).

        Of the arm's estimate for per-arm metrics; of the log hazard ratio of ``arm``
        versus ``control`` for the hazard ratio (its score residuals over the information,
        :func:`~collections_lab.experiments.metrics.hazard_ratio_effect`). The median has
        none (its interval is a test inversion).
        """
        from . import metrics

        if self.code == "hazard_ratio":
            return metrics.hazard_ratio_effect(data, arm, control)[1]
        return self.estimate(data, arm, cfg)[1]

    def customer_weight(self, data: ExperimentData, arm: int, cfg=None) -> np.ndarray:
        """Each customer's weight in the arm's estimate (the CR2 leverage):
        :func:`~collections_lab.experiments.metrics.customer_weight`."""
        from . import metrics

        return metrics.customer_weight(data, self.code, arm, cfg)

    # -- the variance design and power use ---------------------------------------------

    def variance_per_unit(self, *, effect: float = 0.0, allocation: float = 0.5,
                          design_effect: float = 1.0, pilot: ExperimentData | None = None,
                          cfg=None, pilot_arm: int = 0, p_control: float | None = None,
                          resolved_share: float = 1.0,
                          survival: Sequence[float] | None = None,
                          horizon_days: int | None = None,
                          censoring_survival: Sequence[float] | None = None,
                          survival_treatment: Sequence[float] | None = None,
                          censoring_treatment: Sequence[float] | None = None) -> float:
        """Variance per unit ``σ²`` of the arm − control effect, on the test scale.

        ``Var(effect) = σ² · (1/n_control + 1/n_treatment)`` with ``n`` counted in
        :attr:`unit` (invoices; payment events for the hazard ratio); ``sqrt(σ²)`` is the
        standard deviation :func:`~collections_lab.experiments.design.solve_design`
        standardises the effect by. When the arms' variances differ, ``σ²`` is their mean
        weighted by the *other* arm's share: ``a·v_control + (1 − a)·v_treatment`` for a
        share ``allocation = a`` of units in treatment. Times ``design_effect``.

        - ``pilot`` given: the cluster-robust variance × invoices of one arm of the pilot
          (``pilot_arm``), the same in both arms (clustering, stratification gain and
          censoring of the pilot included, so leave ``design_effect`` at 1);
        - ``variance="proportion"``: ``p(1 − p)`` of ``p_control`` and of
          ``p_control + effect``, over ``resolved_share`` (the share of invoices whose
          due + d day will have passed at the readout);
        - ``variance="rmst"``: :func:`rmst_variance_per_invoice` of the control's unpaid
          curve ``survival`` (and of ``survival_treatment`` when given) to
          ``horizon_days``, with their ``censoring_*`` curves;
        - ``variance="schoenfeld"``: 1 per payment event and arm on the log hazard ratio
          (Schoenfeld: ``Var(log HR) = DE / (p(1 − p)·D)`` for ``D`` events in all, i.e. a
          standard deviation ``1/sqrt(p(1 − p))`` per event of the total);
        - otherwise a pilot is needed (``ValueError``); the median has no variance short
          of simulation (:func:`~collections_lab.experiments.design.power_by_simulation`).

        Example:
            >>> METRIC_REGISTRY["hazard_ratio"].variance_per_unit(design_effect=1.5)
            1.5
        """
        if not 0 < allocation < 1:
            raise ValueError("allocation (share of units in the treatment arm) must be in (0, 1)")
        if not design_effect > 0:
            raise ValueError("design_effect must be > 0")
        if pilot is not None:
            if self.variance in ("schoenfeld", "simulation") or not self.has_arm_estimate:
                hint = ("use schoenfeld_events for the hazard ratio" if self.code == "hazard_ratio"
                        else "use power_by_simulation")
                raise ValueError(f"{self.code} has no pilot variance per invoice: {hint}")
            _, psi_c = self.estimate(pilot, pilot_arm, cfg)
            n_inv = int(np.sum(pilot.invoice_arm == pilot_arm))
            return float(np.sum(psi_c**2) * n_inv) * design_effect
        a = allocation
        if self.variance == "proportion":
            if p_control is None:
                raise ValueError(f"{self.code}: the two-proportion variance needs p_control")
            p_t = p_control + effect
            if not (0 < p_control < 1 and 0 < p_t < 1):
                raise ValueError("need 0 < p_control, p_control + effect < 1")
            if not 0 < resolved_share <= 1:
                raise ValueError("resolved_share must be in (0, 1]")
            var = a * p_control * (1 - p_control) + (1 - a) * p_t * (1 - p_t)
            return var * design_effect / resolved_share
        if self.variance == "rmst":
            if survival is None or horizon_days is None:
                raise ValueError(f"{self.code}: the RMST variance needs survival and "
                                 "horizon_days")
            v_c = rmst_variance_per_invoice(survival, horizon_days, censoring_survival)
            v_t = v_c if survival_treatment is None else rmst_variance_per_invoice(
                survival_treatment, horizon_days,
                censoring_treatment if censoring_treatment is not None else censoring_survival)
            return (a * v_c + (1 - a) * v_t) * design_effect
        if self.variance == "schoenfeld":
            return float(design_effect)
        if self.variance == "pilot":
            raise ValueError(f"{self.code} has no closed-form variance: give pilot= (data "
                             "of history or an earlier experiment)")
        raise ValueError(f"{self.code} has no closed-form or pilot variance: use "
                         "power_by_simulation")

    @property
    def variance_depends_on_effect(self) -> bool:
        """Whether :meth:`variance_per_unit` changes with the effect (two proportions)."""
        return self.variance == "proportion"

    def feasible_effect(self, effect: float, p_control: float | None = None, **_) -> float:
        """``effect`` moved inside the metric's range (a share stays in (0, 1)), for the
        variance at a trial value while solving for the minimum detectable effect."""
        if self.variance == "proportion" and p_control is not None:
            return float(min(max(p_control + effect, 1e-6), 1 - 1e-6) - p_control)
        return float(effect)


def rmst_variance_per_invoice(survival: Sequence[float], horizon_days: int,
                              censoring_survival: Sequence[float] | None = None) -> float:
    """Asymptotic variance × n of the RMST (days outstanding) up to ``horizon_days``.

    ``survival[t]`` is the share still unpaid at the end of day ``t`` (t = 0, 1, …),
    ``censoring_survival[t]`` the share still under observation (default 1: everything
    followed to the horizon). Uses ``Σ_u A(u)² h(u) / ((1 - h(u)) π(u))`` (Greenwood-type,
    whole days) with ``A(u)`` the area under the unpaid curve from day ``u`` to the horizon,
    ``h`` the daily payment hazard and ``π(u)`` the share at risk.

    Example:
        >>> rmst_variance_per_invoice([0.5, 0.5], 2)  # half pay on day 0: Var(2 × Bernoulli)
        1.0
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


#: Every experiment metric, keyed by its code (the order of :data:`METRICS`).
METRIC_REGISTRY: dict[str, Metric] = {m.code: m for m in (
    Metric("paid_by_due_d", "higher", "difference", "share", "invoice", "invoice",
           "proportion"),
    Metric("rmst_days", "lower", "difference", "days", "invoice", "invoice", "rmst"),
    Metric("median_days", "lower", "difference", "days", "invoice", "invoice", "simulation",
           "median_effect"),
    Metric("hazard_ratio", "higher", "ratio", "ratio", "invoice", "event", "schoenfeld",
           "hazard_ratio_effect"),
    Metric("escalation_rate", "lower", "difference", "share", "invoice", "invoice",
           "proportion"),
    Metric("cash_by_due_d", "higher", "difference", "share", "amount", "invoice", "pilot"),
    Metric("discount_cost", "lower", "difference", "share", "amount", "invoice", "pilot",
           "discount_cost_effect"),
    Metric("churn", "lower", "difference", "share", "customer", "invoice", "pilot"),
    Metric("net_value", "higher", "difference", "share", "amount", "invoice", "pilot"),
)}

#: The experiment metrics' codes, in the readout's order.
METRICS: tuple[str, ...] = tuple(METRIC_REGISTRY)


def get_metric(metric: str | Metric) -> Metric:
    """The :class:`Metric` of a code (a :class:`Metric` is returned as it is).

    Example:
        >>> get_metric("churn").direction
        'lower'
    """
    if isinstance(metric, Metric):
        return metric
    try:
        return METRIC_REGISTRY[metric]
    except KeyError:
        raise ValueError(f"unknown metric {metric!r}; choose from {METRICS}") from None


def metric_label(metric: str, lang: str = "en", due_plus_days: int | None = None) -> str:
    """A metric's name in ``lang`` for tables, charts and sentences (the code itself when
    the catalogue has no name for it). With ``due_plus_days`` the metrics read at due + d
    name their d in days, so a page never shows a "d" it does not define.

    Example:
        >>> metric_label("paid_by_due_d", "es", 15)
        'Pagadas al vencimiento + 15 días (proporción)'
        >>> metric_label("cox")
        'Hazard ratio of payment'
    """
    key = f"xp_metric_{'hazard_ratio' if metric == 'cox' else metric}"
    return t_days(key, lang, due_plus_days) if has(key) else metric
