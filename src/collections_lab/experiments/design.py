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

Every formula above is one call of the one solver, :func:`solve_design` (statsmodels'
``NormalIndPower``: effect over the standard deviation per unit, any allocation, two- or
one-sided), with the variance per unit of the metric's
:class:`~collections_lab.experiments.metric_registry.Metric` (:func:`solve_metric`), so
sample size, power and MDE invert each other exactly.

Sizes are per arm, in invoices and customers (with an unequal ``allocation``, the share
of units in the treatment arm, "per arm" is the mean arm: half the total); durations in
weeks.

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
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower

from ..i18n import ResultMixin
from .data import ExperimentData
from .metric_registry import Metric, get_metric
from .metric_registry import (
    rmst_variance_per_invoice as rmst_variance_per_invoice,  # re-exported: a design input
)
from .metrics import MetricConfig, compare_arms, naive_invoice_level_se


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
    #: Share of the units in the treatment arm (the per-arm sizes are the mean arm).
    allocation: float = 0.5
    title = "Sample size"

    @property
    def invoices_by_arm(self) -> tuple[int, int]:
        """Invoices in (control, treatment): ``2·(1 − allocation)`` and ``2·allocation``
        times :attr:`invoices_per_arm`, rounded up.

        Example:
            >>> sample_size_proportion(0.6, 0.05, allocation=0.3).invoices_by_arm
            (2421, 1038)
        """
        n = self.invoices_per_arm
        return (math.ceil(2 * (1 - self.allocation) * n), math.ceil(2 * self.allocation * n))

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


def _round_up(units: float) -> int:
    """A solved size rounded up, float noise aside (1500.0000000002 invoices is 1500)."""
    return int(math.ceil(units - 1e-9 * abs(units)))


# -- the one solver ------------------------------------------------------------------------

#: The solver's alternatives (statsmodels' names): two-sided, or one-sided for an arm
#: value ``"larger"`` or ``"smaller"`` than control's.
ALTERNATIVES = ("two-sided", "larger", "smaller")

#: Where statsmodels is asked (its root finders start from sizes of a few units; the
#: z test depends on ``effect_size² · nobs`` only, so any point serves and is rescaled).
_REF_EFFECT_SIZE, _REF_NOBS = 0.1, 100.0


@lru_cache(maxsize=512)
def _standard_solution(unknown: str, alpha: float, power: float, ratio: float,
                       alternative: str) -> float:
    """statsmodels' ``NormalIndPower().solve_power`` at the reference point (cached):
    ``nobs1`` at effect size ±0.1, or the effect size at ``nobs1 = 100``.

    Its root finders stop about 1e-6 (relative) from the root, so the answer is polished
    by Brent's method on statsmodels' own power function to machine precision (sample
    size, power and MDE then invert each other to 1e-12).
    """
    sign = -1.0 if alternative == "smaller" else 1.0
    solver = NormalIndPower()
    kwargs = {"effect_size": sign * _REF_EFFECT_SIZE, "nobs1": None} if unknown == "nobs1" \
        else {"effect_size": None, "nobs1": _REF_NOBS}
    import warnings

    with warnings.catch_warnings():  # statsmodels warns and returns NaN when it fails
        warnings.simplefilter("ignore")
        got = float(np.squeeze(solver.solve_power(alpha=alpha, power=power, ratio=ratio,
                                                  alternative=alternative, **kwargs)))
    if not np.isfinite(got):
        raise ValueError(f"no {unknown} gives power {power} at alpha {alpha} "
                         f"({alternative}); is power close to alpha?")

    def gap(x: float) -> float:
        size, nobs = (sign * _REF_EFFECT_SIZE, x) if unknown == "nobs1" else (x, _REF_NOBS)
        return float(solver.power(size, nobs, alpha, ratio=ratio,
                                  alternative=alternative)) - power

    lo, hi = sorted((got * 0.99, got * 1.01))
    if gap(lo) * gap(hi) < 0:
        got = brentq(gap, lo, hi, xtol=1e-15 * abs(got), rtol=4 * np.finfo(float).eps)
    return float(got)


def solve_design(effect: float | None = None, sd: float | Callable[[float], float] = 1.0,
                 nobs1: float | None = None, alpha: float = 0.05, power: float | None = None,
                 ratio: float = 1.0, alternative: str = "two-sided") -> float:
    """The one power / MDE / sample-size solver: returns whichever of ``effect``,
    ``nobs1`` and ``power`` is None.

    A z test of an effect whose variance is ``sd² · (1/nobs1 + 1/nobs2)`` with
    ``nobs2 = ratio · nobs1`` (``ratio = 0``: one sample, variance ``sd² / nobs1``):
    statsmodels' ``NormalIndPower().solve_power`` with ``effect_size = effect / sd``
    (asked at a reference size and rescaled, exact since the test depends on
    ``effect_size² · nobs`` only, so no effect is too large or sample too small for
    its root finder; polished to machine precision on its power function). ``sd`` is the standard deviation per unit (the square root of
    :meth:`Metric.variance_per_unit
    <collections_lab.experiments.metric_registry.Metric.variance_per_unit>`), or a
    function of the effect when the variance depends on it (two proportions: the
    effect is then a fixed point). ``alternative`` is ``"two-sided"`` (power counts both
    tails, as statsmodels, so sizes sit about 3e-6 relative below the textbook
    ``(z_{1−α/2} + z_β)²`` that ignores the far one), ``"larger"`` or ``"smaller"``.
    Solved effects are positive, negative for ``"smaller"``.

    Example:
        >>> round(solve_design(effect=0.1, sd=1.0, power=0.8), 1)  # per arm
        1569.8
        >>> round(solve_design(effect=0.1, sd=1.0, nobs1=1569.8), 3)
        0.8
        >>> round(solve_design(sd=1.0, nobs1=1569.8, power=0.8), 4)
        0.1
    """
    missing = [name for name, v in (("effect", effect), ("nobs1", nobs1), ("power", power))
               if v is None]
    if len(missing) != 1:
        raise ValueError("give exactly two of effect, nobs1 and power: the third is solved")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be in (0, 1)")
    if power is not None and not alpha < power < 1:
        raise ValueError("power must be in (alpha, 1)")
    if not ratio >= 0:
        raise ValueError("ratio (nobs2 / nobs1) must be >= 0")
    if nobs1 is not None and not nobs1 > 0:
        raise ValueError("nobs1 must be > 0")
    sd_at = sd if callable(sd) else (lambda _effect: sd)

    def checked_sd(value: float) -> float:
        s = float(sd_at(value))
        if not (np.isfinite(s) and s > 0):
            raise ValueError(f"sd must be a positive number, got {s}")
        return s

    if effect is None:
        size = _standard_solution("effect", alpha, power, ratio, alternative) * math.sqrt(
            _REF_NOBS / nobs1)
        guess = 0.0
        for _ in range(200):  # effect = size · sd(effect); one step when sd is constant
            new = size * checked_sd(guess)
            if abs(new - guess) <= 1e-13 * max(1.0, abs(new)):
                return float(new)
            guess = new
        raise ValueError("the minimum detectable effect did not converge")
    size = effect / checked_sd(effect)
    if alternative == "two-sided":
        size = abs(size)
    if nobs1 is None:
        if size == 0 or (alternative == "larger" and size < 0) or (
                alternative == "smaller" and size > 0):
            raise ValueError(f"effect {effect} cannot be detected by a {alternative} test")
        return float(_standard_solution("nobs1", alpha, power, ratio, alternative)
                     * (_REF_EFFECT_SIZE / size) ** 2)
    return float(NormalIndPower().power(size, nobs1, alpha, ratio=ratio,
                                        alternative=alternative))


def weeks_to_run(invoices: float, invoices_per_week: float, follow_days: float) -> float:
    """Weeks a test takes: its ``invoices`` (all arms) issued at ``invoices_per_week``, plus
    ``follow_days`` to follow the last one (its terms and the days after due it is read at).

    >>> round(weeks_to_run(1000, 100, 45), 2)  # 10 weeks of invoicing, 45 days of follow-up
    16.43
    """
    return invoices / max(invoices_per_week, 1e-9) + follow_days / 7.0


def arm_weights(weights=None) -> tuple[float, ...]:
    """The arms' planned shares, control first, as floats; None = two equal arms.

    Accepts what :func:`~collections_lab.experiments.workflow.assign_experiment` takes: a
    list in the order of the arms or ``{arm: weight}`` (in its order).

    >>> arm_weights([2, 1])
    (2.0, 1.0)
    >>> arm_weights([1, 0])
    Traceback (most recent call last):
    ...
    ValueError: weights [1, 0]: give each arm a positive number, control first, at least two arms
    """
    if weights is None:
        return (1.0, 1.0)
    values = list(weights.values()) if isinstance(weights, dict) else list(weights)
    try:
        shares = tuple(float(w) for w in values)
    except (TypeError, ValueError):
        shares = ()
    if len(shares) < 2 or not all(math.isfinite(w) and w > 0 for w in shares):
        raise ValueError(f"weights {values}: give each arm a positive number, control first, "
                         "at least two arms")
    return shares


def arm_sizes(invoices_by_arm: tuple[int, int], weights: Sequence[float],
              treatment_weight: float, invoices_per_customer: float = 1.0) -> dict:
    """Invoices and customers of a whole test whose arms follow ``weights`` (control first),
    sized so that control against the arm of ``treatment_weight`` has ``invoices_by_arm``
    (:attr:`SampleSizePlan.invoices_by_arm`, at allocation ``w_t / (w_c + w_t)``).

    Every arm gets the same number of invoices per unit of weight, the largest either side
    of that comparison needs; customers are invoices over ``invoices_per_customer``, rounded
    up. Returns control's, the smallest treatment arm's and the total sizes.

    >>> sizes = arm_sizes((2421, 1038), [7, 3], 3)  # sample_size_proportion(0.6, 0.05, allocation=0.3)
    >>> sizes["invoices_control"], sizes["invoices_treatment"], sizes["invoices_total"]
    (2422, 1038, 3460)
    >>> arm_sizes((1000, 1000), [1, 1, 1], 1, invoices_per_customer=4)["customers_total"]
    750
    """
    control, treated = invoices_by_arm
    per_weight = max(control / weights[0], treated / treatment_weight)
    invoices = [math.ceil(round(per_weight * w, 9)) for w in weights]
    customers = [math.ceil(round(n / invoices_per_customer, 9)) for n in invoices]
    smallest = 1 + int(np.argmin(weights[1:]))
    return {"invoices_control": invoices[0], "customers_control": customers[0],
            "invoices_treatment": invoices[smallest], "customers_treatment": customers[smallest],
            "invoices_total": sum(invoices), "customers_total": sum(customers)}


def _arms(allocation: float) -> tuple[float, float]:
    """(control units per unit "per arm", ratio treatment / control) for a treatment share.

    Sizes "per arm" are the mean arm (half the total): the control arm holds
    ``2·(1 − allocation)`` of them, the treatment arm ``2·allocation``.
    """
    if not 0 < allocation < 1:
        raise ValueError("allocation (share of units in the treatment arm) must be in (0, 1)")
    return 2.0 * (1.0 - allocation), allocation / (1.0 - allocation)


def solve_metric(metric: str | Metric, *, effect: float | None = None,
                 units_per_arm: float | None = None, power: float | None = None,
                 alpha: float = 0.05, allocation: float = 0.5,
                 alternative: str = "two-sided", **variance_inputs) -> float:
    """Power, minimum detectable effect or units per arm of one metric: the missing one.

    ``effect`` on the metric's test scale (log of a ratio, as ``Effect.difference``);
    ``units_per_arm`` in the metric's :attr:`~Metric.unit` (invoices; payment events for
    the hazard ratio), the mean arm: ``allocation`` is the share of units in the
    treatment arm, so control has ``2·(1 − allocation)·units_per_arm``. The variance is
    the metric's :meth:`~Metric.variance_per_unit` with ``variance_inputs``
    (``p_control``, ``survival``, ``pilot``, ``design_effect``, …), the solver
    :func:`solve_design`. Sizes come back unrounded.

    Example:
        >>> round(solve_metric("paid_by_due_d", effect=0.05, power=0.8, p_control=0.6), 1)
        1467.7
        >>> events = solve_metric("hazard_ratio", effect=math.log(0.8), power=0.8) * 2
        >>> round(events, 1)
        630.5
    """
    spec = get_metric(metric)
    control_share, ratio = _arms(allocation)

    def sd(value: float) -> float:
        if effect is None:
            value = spec.feasible_effect(value, **variance_inputs)
        return math.sqrt(spec.variance_per_unit(effect=value, allocation=allocation,
                                                **variance_inputs))

    nobs1 = None if units_per_arm is None else units_per_arm * control_share
    got = solve_design(effect, sd if spec.variance_depends_on_effect else sd(0.0), nobs1,
                       alpha, power, ratio, alternative)
    return got / control_share if units_per_arm is None else got


# -- the design functions: thin wrappers over the solver -----------------------------------


def sample_size_proportion(p_control: float, mde: float, alpha: float = 0.05,
                           power: float = 0.8, design_effect: float = 1.0,
                           invoices_per_customer: float = 1.0,
                           resolved_share: float = 1.0,
                           allocation: float = 0.5) -> SampleSizePlan:
    """Invoices per arm to detect ``p_control`` → ``p_control + mde`` (P(paid by due + d)).

    ``resolved_share`` is the share of invoices whose due + d day will have passed at the
    readout (open invoices earlier than that add little information). The variance is the
    unpooled one of the readout's Wald test, as in :func:`power_proportion` and
    :func:`mde_proportion`, so the three invert each other (the pooled null variance made
    the round trip off by 0.1–0.4%). ``allocation``: share of invoices in the treatment
    arm (sizes per arm are the mean arm; :attr:`SampleSizePlan.invoices_by_arm` splits).
    """
    p1, p2 = p_control, p_control + mde
    if not (0 < p1 < 1 and 0 < p2 < 1) or mde == 0:
        raise ValueError("need 0 < p_control, p_control + mde < 1 and mde != 0")
    n = _round_up(solve_metric("paid_by_due_d", effect=mde, power=power, alpha=alpha,
                               allocation=allocation, p_control=p_control,
                               design_effect=design_effect, resolved_share=resolved_share))
    return SampleSizePlan("paid_by_due_d", mde, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect,
                          allocation=allocation)


def power_proportion(p_control: float, mde: float, invoices_per_arm: int, alpha: float = 0.05,
                     design_effect: float = 1.0, resolved_share: float = 1.0,
                     allocation: float = 0.5) -> float:
    """Power of the two-arm test of P(paid by due + d) with clustered invoices.

    Example:
        >>> round(power_proportion(0.6, 0.05, 1468), 3)
        0.8
    """
    return solve_metric("paid_by_due_d", effect=mde, units_per_arm=invoices_per_arm,
                        alpha=alpha, allocation=allocation, p_control=p_control,
                        design_effect=design_effect, resolved_share=resolved_share)


def mde_proportion(p_control: float, invoices_per_arm: int, alpha: float = 0.05,
                   power: float = 0.8, design_effect: float = 1.0,
                   resolved_share: float = 1.0, allocation: float = 0.5) -> float:
    """Smallest detectable increase in P(paid by due + d) with ``invoices_per_arm``.

    The variance is the arms' own at that increase (a fixed point of the solver).
    """
    return solve_metric("paid_by_due_d", units_per_arm=invoices_per_arm, power=power,
                        alpha=alpha, allocation=allocation, p_control=p_control,
                        design_effect=design_effect, resolved_share=resolved_share)


def schoenfeld_events(hazard_ratio: float, alpha: float = 0.05, power: float = 0.8,
                      allocation: float = 0.5, design_effect: float = 1.0) -> int:
    """Payment events needed to detect ``hazard_ratio`` (Schoenfeld 1983), times DE.

    ``D = (z_{1-α/2} + z_{power})² / (p(1-p) · log(HR)²)``, ``p`` the share in the arm.

    >>> schoenfeld_events(0.8)
    631
    """
    if hazard_ratio <= 0 or hazard_ratio == 1:
        raise ValueError("hazard_ratio must be positive and different from 1")
    per_arm = solve_metric("hazard_ratio", effect=math.log(hazard_ratio), power=power,
                           alpha=alpha, allocation=allocation, design_effect=design_effect)
    return _round_up(2 * per_arm)


def sample_size_hazard_ratio(hazard_ratio: float, event_probability: float,
                             alpha: float = 0.05, power: float = 0.8,
                             design_effect: float = 1.0,
                             invoices_per_customer: float = 1.0,
                             allocation: float = 0.5) -> SampleSizePlan:
    """Invoices per arm for a hazard ratio, from Schoenfeld's events and P(paid by readout)."""
    if not 0 < event_probability <= 1:
        raise ValueError("event_probability must be in (0, 1]")
    events = schoenfeld_events(hazard_ratio, alpha, power, allocation, design_effect)
    n = math.ceil(events / event_probability / 2)
    return SampleSizePlan("hazard_ratio", hazard_ratio, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect, events=events,
                          allocation=allocation)


def power_hazard_ratio(hazard_ratio: float, events: float, alpha: float = 0.05,
                       allocation: float = 0.5, design_effect: float = 1.0) -> float:
    """Power of the clustered log-hazard-ratio test with ``events`` payment events (all arms).

    Schoenfeld's approximation ``SE(log HR) = sqrt(DE / (p(1-p) D))`` inverted.

    >>> round(power_hazard_ratio(0.8, 631), 2)
    0.8
    """
    if hazard_ratio <= 0 or events <= 0:
        raise ValueError("hazard_ratio and events must be > 0")
    return solve_metric("hazard_ratio", effect=math.log(hazard_ratio), units_per_arm=events / 2,
                        alpha=alpha, allocation=allocation, design_effect=design_effect)


def mde_hazard_ratio(events: float, alpha: float = 0.05, power: float = 0.8,
                     allocation: float = 0.5, design_effect: float = 1.0) -> float:
    """Smallest hazard ratio (> 1, faster payment) detectable with ``events`` events.

    A slowing effect of the same size is its reciprocal.

    >>> round(mde_hazard_ratio(631), 3)
    1.25
    """
    if events <= 0:
        raise ValueError("events must be > 0")
    return math.exp(solve_metric("hazard_ratio", units_per_arm=events / 2, power=power,
                                 alpha=alpha, allocation=allocation,
                                 design_effect=design_effect))


def sample_size_rmst(survival: Sequence[float], days_saved: float, horizon_days: int,
                     censoring_survival: Sequence[float] | None = None, alpha: float = 0.05,
                     power: float = 0.8, design_effect: float = 1.0,
                     invoices_per_customer: float = 1.0,
                     allocation: float = 0.5) -> SampleSizePlan:
    """Invoices per arm to detect ``days_saved`` in RMST (days outstanding to the horizon).

    ``survival`` is the control arm's unpaid curve (e.g. Kaplan–Meier of history); the
    treatment arm is assumed to have about the same variance.
    """
    if days_saved == 0:
        raise ValueError("days_saved must be non-zero")
    n = _round_up(solve_metric("rmst_days", effect=days_saved, power=power, alpha=alpha,
                               allocation=allocation, survival=survival,
                               horizon_days=horizon_days,
                               censoring_survival=censoring_survival,
                               design_effect=design_effect))
    return SampleSizePlan("rmst_days", days_saved, alpha, power, n,
                          _customers(n, invoices_per_customer), design_effect,
                          allocation=allocation)


def power_rmst(survival: Sequence[float], days_saved: float, invoices_per_arm: int,
               horizon_days: int, censoring_survival: Sequence[float] | None = None,
               alpha: float = 0.05, design_effect: float = 1.0,
               survival_treatment: Sequence[float] | None = None,
               censoring_treatment: Sequence[float] | None = None,
               allocation: float = 0.5) -> float:
    """Power to detect ``days_saved`` in RMST (days outstanding) with ``invoices_per_arm``.

    Variance from :func:`rmst_variance_per_invoice` of each arm's unpaid curve (the
    treatment arm's defaults to the control's), times the design effect.
    """
    return solve_metric("rmst_days", effect=days_saved, units_per_arm=invoices_per_arm,
                        alpha=alpha, allocation=allocation, survival=survival,
                        horizon_days=horizon_days, censoring_survival=censoring_survival,
                        survival_treatment=survival_treatment,
                        censoring_treatment=censoring_treatment, design_effect=design_effect)


def mde_rmst(survival: Sequence[float], invoices_per_arm: int, horizon_days: int,
             censoring_survival: Sequence[float] | None = None, alpha: float = 0.05,
             power: float = 0.8, design_effect: float = 1.0, allocation: float = 0.5) -> float:
    """Smallest RMST difference (days outstanding to the horizon) detectable per arm size.

    Both arms assumed to have the control curve's variance (as :func:`sample_size_rmst`).
    """
    return solve_metric("rmst_days", units_per_arm=invoices_per_arm, power=power, alpha=alpha,
                        allocation=allocation, survival=survival, horizon_days=horizon_days,
                        censoring_survival=censoring_survival, design_effect=design_effect)


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
                   cfg: MetricConfig | None = None, allocation: float = 0.5) -> float:
    """Smallest detectable difference in ``metric`` with ``invoices_per_arm``, from a pilot.

    Uses :func:`pilot_variance_per_invoice` (clustering and censoring of the pilot
    included); for metrics without a textbook formula (cash by due + d, net value, …).
    """
    return solve_metric(metric, units_per_arm=invoices_per_arm, power=power, alpha=alpha,
                        allocation=allocation, pilot=data, cfg=cfg)


def mde_cash(data: ExperimentData, invoices_per_arm: int, alpha: float = 0.05,
             power: float = 0.8, cfg: MetricConfig | None = None,
             allocation: float = 0.5) -> float:
    """Smallest detectable change in the share of amount collected by due + d (a pilot's).

    Amount-weighted cash has no closed form (amounts vary and correlate with speed), so
    the variance comes from pilot data: :func:`mde_from_pilot` for ``cash_by_due_d``.
    """
    return mde_from_pilot(data, "cash_by_due_d", invoices_per_arm, alpha, power, cfg,
                          allocation)


def pilot_variance_per_invoice(data: ExperimentData, metric: str,
                               cfg: MetricConfig | None = None, arm: int = 0) -> float:
    """Cluster-robust variance × invoices of ``metric`` in one arm of pilot data.

    This per-invoice variance includes the design effect and the censoring pattern of the
    pilot, so it answers "how many invoices" for metrics without a textbook formula
    (the metric's :meth:`~collections_lab.experiments.metric_registry.Metric.variance_per_unit`
    with ``pilot=data``).
    """
    return get_metric(metric).variance_per_unit(pilot=data, cfg=cfg, pilot_arm=arm)


def sample_size_from_pilot(data: ExperimentData, metric: str, mde: float, alpha: float = 0.05,
                           power: float = 0.8, cfg: MetricConfig | None = None,
                           invoices_per_customer: float | None = None,
                           allocation: float = 0.5) -> SampleSizePlan:
    """Invoices per arm for ``metric`` using the variance measured on pilot ``data``."""
    n = _round_up(solve_metric(metric, effect=mde, power=power, alpha=alpha,
                               allocation=allocation, pilot=data, cfg=cfg))
    m = invoices_per_customer or len(data.customer) / max(len(np.unique(data.customer)), 1)
    plan = SampleSizePlan(metric, mde, alpha, power, n, _customers(n, m), float("nan"),
                          allocation=allocation)
    plan.notes.append("variance per invoice measured on pilot data (clustering and "
                      "censoring included)")
    return plan


def power_at_se(effect: float, se: float, alpha: float = 0.05,
                alternative: str = "two-sided") -> float:
    """Power of a z test when the estimate's standard error is ``se``.

    The solver with one unit of standard deviation ``se`` (one sample).

    >>> round(power_at_se(0.05, 0.0178), 2)
    0.8
    """
    if se <= 0:
        raise ValueError("se must be > 0")
    return solve_design(effect, se, 1.0, alpha, None, 0.0, alternative)


def units_for_se_power(effect: float, se: float, units: float, alpha: float = 0.05,
                       power: float = 0.8) -> float:
    """Units giving ``power`` for ``effect`` when ``units`` of them give standard error ``se``.

    The SE scales with ``1/sqrt(units)`` (a pilot's SE rescaled): the solver with a
    standard deviation ``se·sqrt(units)`` per unit, one sample. Unrounded.

    Example:
        >>> round(units_for_se_power(0.05, 0.0356, 400))
        1592
    """
    if se <= 0 or units <= 0:
        raise ValueError("se and units must be > 0")
    return solve_design(effect, se * math.sqrt(units), None, alpha, power, 0.0)


def power_from_pilot(data: ExperimentData, metric: str, mde: float, customers_per_arm: int,
                     alpha: float = 0.05, cfg: MetricConfig | None = None,
                     allocation: float = 0.5) -> float:
    """Predicted power for ``metric`` with ``customers_per_arm`` from a pilot experiment.

    The pilot's clustered SE of the arm difference (first arm vs control) is rescaled by
    ``sqrt(pilot customers per arm / customers_per_arm)``: it carries the pilot's design
    effect and censoring pattern, so keep the same calendar (enrolment and readout).
    With ``allocation`` (share of customers in the treatment arm) the SE is rescaled as a
    difference of two arms of ``2·(1 − allocation)`` and ``2·allocation`` times
    ``customers_per_arm`` (the pilot's arms taken as equal).
    """
    cfg = cfg or MetricConfig()
    eff = compare_arms(data, cfg, metrics=[metric], arms=[data.arm_names[1]])[0]
    pilot_per_arm = eff.n_customers / 2
    control_share, ratio = _arms(allocation)
    sd = eff.se * math.sqrt(pilot_per_arm / 2)  # Var = sd² (1/n + 1/n) at the pilot
    return solve_design(mde, sd, customers_per_arm * control_share, alpha, None, ratio)


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
