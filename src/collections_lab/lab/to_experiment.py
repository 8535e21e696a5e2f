"""From lab to field: turn a recommendation into an experiment that tests the twin's claim.

For each segment, a two-arm customer-randomised experiment — the current strategy
(control) against the recommended one — sized to detect the change the twin predicts, on
one of three metrics of the experiment engine (:mod:`collections_lab.experiments.metrics`):

- ``"paid_by_due_15"`` (default): share of invoices paid by due + 15 days, two-proportion
  formula × design effect (:func:`~collections_lab.experiments.design.sample_size_proportion`);
- ``"net_value"``: present value of the cash collected within the engine's horizon (90
  days) per unit invoiced, minus discounts (and reminder costs if ``config`` prices them);
- ``"cash"``: share of the amount invoiced collected by due + 15 days
  (the engine's ``cash_by_due_d``).

For net value and cash the twin's prediction is the engine's own estimator applied to the
twin's simulated stories under each strategy (what the experiment would read out if the
twin is right: e.g. a plan paid after the horizon counts as unpaid there), and the sample
size uses the variance per invoice measured on the history
(:func:`~collections_lab.experiments.design.sample_size_from_pilot`).

The **design effect** of several invoices per customer is measured on the portfolio's own
history, split A/A by customer as the engine's design notebook does
(:func:`~collections_lab.experiments.workflow.pilot_split`,
:func:`~collections_lab.experiments.design.estimate_design_effect`), when ``portfolio`` is
given; otherwise it comes from an intra-customer correlation ``icc`` (an assumption, 0.05
unless given, and said so in the table).

The twin's prediction is what the experiment tests: its readout should fall inside the
predicted interval if the twin is right.

Example
-------
>>> plan = size_two_arm(0.85, 0.03, invoices_per_customer=6.0, icc=0.05)
>>> plan["invoices_per_arm"] > 1000
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_number, format_pct, t
from ..model.behaviour import SEGMENTS
from ..model.plans import Experiment
from .recommend import Recommendation
from .twin import Twin

#: Smallest predicted change worth sizing an experiment for (a share: of invoices paid by
#: due + 15, or of the amount invoiced for net value and cash).
MIN_EFFECT = 0.002

#: Metric names of this module → the experiment engine's metric.
ENGINE_METRICS = {"paid_by_due_15": "paid_by_due_d", "net_value": "net_value",
                  "cash": "cash_by_due_d"}

#: Intra-customer correlation assumed when neither ``portfolio`` nor ``icc`` is given.
ASSUMED_ICC = 0.05


def size_two_arm(p_control: float, effect: float, invoices_per_customer: float,
                 icc: float = 0.05, alpha: float = 0.05, power: float = 0.8,
                 design_effect: float | None = None) -> dict:
    """Invoices and customers per arm to detect ``p_control → p_control + effect``.

    The design effect (given, or ``1 + (m - 1)·icc`` with ``m`` invoices per customer)
    inflates the independent-invoices size. Returns a dict with ``invoices_per_arm``,
    ``customers_per_arm``, ``design_effect`` and ``engine`` (which code computed it).
    """
    try:
        from ..experiments.design import design_effect as de_formula
        from ..experiments.design import sample_size_proportion
    except ImportError:  # the experiment engine is optional here
        de_formula = sample_size_proportion = None
    if sample_size_proportion is not None:
        de = design_effect if design_effect is not None else de_formula(
            invoices_per_customer, icc)
        plan = sample_size_proportion(p_control, effect, alpha=alpha, power=power,
                                      design_effect=de,
                                      invoices_per_customer=invoices_per_customer)
        return dict(invoices_per_arm=int(plan.invoices_per_arm),
                    customers_per_arm=int(plan.customers_per_arm), design_effect=float(de),
                    engine="experiments.design.sample_size_proportion")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    de = design_effect if design_effect is not None else 1 + (invoices_per_customer - 1) * icc
    es = abs(proportion_effectsize(p_control + effect, p_control))
    n = NormalIndPower().solve_power(es, alpha=alpha, power=power, ratio=1.0)
    n = math.ceil(n * de)
    return dict(invoices_per_arm=n, customers_per_arm=math.ceil(n / invoices_per_customer),
                design_effect=de, engine="statsmodels NormalIndPower (arcsine)")


@dataclass
class ExperimentProposal(ResultMixin):
    """Experiments that would test a recommendation, one per segment.

    ``table``: per segment — control and treatment strategies, the ``metric``, the twin's
    predicted value under each (``control_value``, ``treatment_value``: shares) and the
    effect, invoices and customers per arm, the design effect and where it comes from
    (``design_effect_source``; ``icc`` the intra-customer correlation it implies or
    assumes), customers available, weeks needed, and whether the segment is large enough.
    ``experiments``: segment → :class:`~collections_lab.model.plans.Experiment` ready for
    :func:`~collections_lab.model.plans.assign`.
    """

    table: pd.DataFrame
    experiments: dict
    alpha: float
    power: float
    metric: str = "paid_by_due_15"
    title = "Experiment to test the recommendation"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str | None = None) -> str:
        table = self.table
        ok = table.loc[table["feasible"]]
        if ok.empty:
            sized = table.loc[table["customers_per_arm"].notna()]
            if sized.empty:
                return t("lab.proposal_none", lang)
            r = sized.loc[(2 * sized["customers_per_arm"] / sized["customers_available"])
                          .idxmin()]
            n = format_number(r["customers_per_arm"], 0, lang)
            have = format_number(r["customers_available"], 0, lang)
            return t("lab.proposal_too_small", lang, segment=r["segment"], n=n, have=have)
        r = ok.sort_values("weeks").iloc[0]
        eff = format_pct(r["predicted_effect"], 1, lang)
        n = format_number(r["customers_per_arm"], 0, lang)
        w = format_number(r["weeks"], 0, lang)
        measured = str(r["design_effect_source"]).startswith("measured")
        de = t("lab.design_effect_measured" if measured else "lab.design_effect_assumed", lang)
        return t("lab.proposal_summary", lang, segment=r["segment"], effect=eff,
                 what=t(f"lab.proposal_what.{self.metric}", lang), n=n, weeks=w,
                 design_effect=de)


def experiment_from_recommendation(recommendation: Recommendation, twin: Twin,
                                   alpha: float = 0.05, power: float = 0.8,
                                   icc: float | None = None,
                                   experiment_id: str = "lab-recommendation",
                                   portfolio=None, as_of=None,
                                   metric: str = "paid_by_due_15", config=None,
                                   replicates: int = 3) -> ExperimentProposal:
    """Design, per segment, the experiment current vs recommended (see module docstring).

    ``portfolio`` (and ``as_of``): the history the twin was calibrated on, to measure the
    design effect per segment (and, for ``metric="net_value"`` or ``"cash"``, the variance
    per invoice). ``icc``: intra-customer correlation to use instead of measuring it
    (without ``portfolio`` and ``icc``, :data:`ASSUMED_ICC`). ``metric``: ``"paid_by_due_15"``,
    ``"net_value"`` or ``"cash"``. ``config``: the engine's
    :class:`~collections_lab.experiments.metrics.MetricConfig` (default due + 15 days,
    a 90-day horizon, no reminder cost). ``replicates``: twin replicates behind the
    net-value and cash predictions.

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> pick = cl.recommend(twin, s["nudge_then_firm"], [s["nudge_then_firm"], s["no_reminders"]],
        ...                     replicates=2, screen_replicates=1, sensitivity_replicates=0, n_jobs=1)
        >>> proposal = cl.experiment_from_recommendation(pick, twin, icc=0.05, replicates=1)
        >>> proposal.metric
        'paid_by_due_15'
    """
    from ..experiments.design import weeks_to_run
    from ..experiments.metrics import MetricConfig

    if metric not in ENGINE_METRICS:
        raise ValueError(f"metric must be one of {list(ENGINE_METRICS)}, got {metric!r}")
    if metric != "paid_by_due_15" and portfolio is None:
        raise ValueError(f"sizing on {metric!r} needs the history's variance per invoice: "
                         "pass portfolio= (the calibrated portfolio)")
    cfg = config or MetricConfig(due_plus_days=15)
    engine_metric = ENGINE_METRICS[metric]
    pilot = _pilot(portfolio, as_of) if portfolio is not None else None
    cand = recommendation.candidates.set_index(["strategy", "segment"])
    current = recommendation.current
    rows, experiments = [], {}
    weeks_history = _weeks_of_history(twin)
    for seg, strat in recommendation.strategies.items():
        g = SEGMENTS.index(seg)
        if metric == "paid_by_due_15":
            v0 = float(cand.loc[(current.name, seg), "paid_by_due_15"])
            v1 = float(cand.loc[(strat.name, seg), "paid_by_due_15"])
        elif strat.name == current.name:
            v0 = v1 = np.nan
        else:
            v0, v1 = _twin_prediction(twin, current, strat, g, engine_metric, cfg, replicates)
        effect = v1 - v0
        n_inv = int((twin.seg == g).sum())
        n_cust = int((twin.customer_seg == g).sum())
        per_cust = n_inv / max(n_cust, 1)
        seg_pilot = _segment(pilot, seg)
        de, source, rho = _design_effect(seg_pilot, engine_metric, cfg, per_cust, icc)
        row = dict(segment=seg, control=current.name, treatment=strat.name, metric=metric,
                   control_value=v0, treatment_value=v1, predicted_effect=effect,
                   customers_available=n_cust, design_effect=de, icc=rho,
                   design_effect_source=source)
        proportion_ok = metric != "paid_by_due_15" or 0 < v1 < 1
        if strat.name == current.name or not abs(effect) >= MIN_EFFECT or not proportion_ok:
            row.update(invoices_per_arm=np.nan, customers_per_arm=np.nan, weeks=np.nan,
                       feasible=False, engine="",
                       note=f"predicted change too small to test on {metric}")
            rows.append(row)
            continue
        if metric == "paid_by_due_15":
            plan = size_two_arm(v0, effect, per_cust, alpha=alpha, power=power,
                                design_effect=de)
            follow = float(np.median(twin.terms[twin.seg == g])) + cfg.due_plus_days
        else:
            plan = _size_from_pilot(seg_pilot, engine_metric, effect, alpha, power, cfg,
                                    per_cust)
            follow = (cfg.horizon_days if metric == "net_value" else
                      float(np.median(twin.terms[twin.seg == g])) + cfg.due_plus_days)
        plan.pop("design_effect", None)
        per_week = n_inv / weeks_history
        weeks = weeks_to_run(2 * plan["invoices_per_arm"], per_week, follow)
        # invoices per customer are those of the whole history: a segment is large
        # enough if the experiment fits in a period as long as the history
        feasible = 2 * plan["customers_per_arm"] <= n_cust
        row.update(plan, weeks=weeks, feasible=bool(feasible),
                   note="" if feasible else
                   "needs more customers than the segment has over a period as long as "
                   "the history")
        experiments[seg] = Experiment(f"{experiment_id}-{seg}",
                                      {current.name: current, strat.name: strat},
                                      control=current.name, stratify_by="segment")
        rows.append(row)
    return ExperimentProposal(pd.DataFrame(rows), experiments, alpha, power, metric)


def _pilot(portfolio, as_of):
    """The history as an A/A experiment (the engine's own split by customer)."""
    from ..experiments.workflow import pilot_split

    return pilot_split(portfolio, as_of)


def _segment(pilot, segment: str):
    """The pilot's customers of ``segment`` (None without a pilot or without them)."""
    if pilot is None:
        return None
    mask = pilot.customer_segment == segment
    return pilot.subset_customers(mask) if mask.any() else None


def _design_effect(pilot, engine_metric: str, cfg, per_customer: float,
                   icc: float | None) -> tuple[float, str, float]:
    """(design effect, where it comes from, intra-customer correlation).

    Measured on the pilot when there is one and no ``icc`` is given: clustered over
    invoice-level variance of the A/A difference, floored at 1 (as the engine's design
    does: a negative measured correlation is noise at these sizes). The correlation is
    backed out of ``1 + (m − 1)·ρ``. For net value and cash the sample size comes from the
    pilot's clustered variance per invoice, which contains the clustering whether or not a
    design effect can be shown separately.
    """
    from ..experiments.design import design_effect, estimate_design_effect

    from_pilot = engine_metric != "paid_by_due_d"
    if icc is not None and not from_pilot:
        return design_effect(per_customer, icc), f"given icc {icc:g}", float(icc)
    if pilot is not None:
        why = "the measured design effect is not a finite number"
        try:
            measured = estimate_design_effect(pilot, engine_metric, cfg)
        except ValueError as err:  # no invoice-level variance for this metric, too few...
            measured, why = float("nan"), str(err)
        if np.isfinite(measured):
            de = max(float(measured), 1.0)
            rho = (de - 1.0) / (per_customer - 1.0) if per_customer > 1 else 0.0
            return de, "measured on the history (A/A split by customer)", float(rho)
        if from_pilot:
            return (float("nan"), "not shown separately (" + why + "); the size uses the "
                    "history's clustered variance per invoice", float("nan"))
        de = design_effect(per_customer, ASSUMED_ICC)
        return de, f"assumed icc {ASSUMED_ICC:g} (history: {why})", ASSUMED_ICC
    return design_effect(per_customer, ASSUMED_ICC), f"assumed icc {ASSUMED_ICC:g}", \
        ASSUMED_ICC


def _size_from_pilot(pilot, engine_metric, effect, alpha, power, cfg, per_customer) -> dict:
    """Invoices and customers per arm from the history's variance per invoice."""
    from ..experiments.design import sample_size_from_pilot

    if pilot is None:
        raise ValueError("the history has no invoice of this segment to measure variances on")
    plan = sample_size_from_pilot(pilot, engine_metric, abs(effect), alpha, power, cfg,
                                  per_customer)
    return dict(invoices_per_arm=int(plan.invoices_per_arm),
                customers_per_arm=int(plan.customers_per_arm),
                engine="experiments.design.sample_size_from_pilot")


def _twin_prediction(twin: Twin, control, treatment, g: int, engine_metric: str, cfg,
                     replicates: int) -> tuple[float, float]:
    """The engine's ``engine_metric`` (per arm) on the twin's stories of segment ``g``
    under ``control`` and ``treatment``: what the experiment would read out if the twin
    is right. The stories are the twin's replicates (common random numbers), every
    invoice followed to the end; each replicate's invoices count as other customers."""
    from ..experiments.data import ExperimentData
    from ..experiments.metrics import estimate_arm
    from .compare import discounts_given

    rows = np.flatnonzero(twin.seg == g)
    issue = pd.Timestamp("2000-01-01")
    parts = []
    for r in range(replicates):
        stories = twin.outcomes([control, treatment], replicate=r)
        for arm, strategy, o in zip(("control", "treatment"), (control, treatment), stories,
                                    strict=True):
            parts.append(pd.DataFrame({
                "customer_id": [f"{arm}:{r}:{c}" for c in twin.cust[rows]],
                "issue_date": issue, "due_date": issue + pd.to_timedelta(twin.terms[rows], "D"),
                "duration": o.end_day[rows], "outcome_code": o.outcome[rows].astype(np.int64),
                "amount": twin.amount[rows], "currency": twin.currency,
                "discount_amount": discounts_given(strategy, twin.amount, o)[rows],
                "n_reminders": o.n_sent[rows], "arm": arm}))
    frame = pd.concat(parts, ignore_index=True)
    data = ExperimentData.from_frame(frame, control="control",
                                     as_of=issue + pd.Timedelta(days=10 * 365))
    return (estimate_arm(data, engine_metric, 0, cfg)[0],
            estimate_arm(data, engine_metric, 1, cfg)[0])


def _weeks_of_history(twin: Twin) -> float:
    """Weeks of invoicing the twin covers, from the monthly billing it was built with."""
    total = float(np.sum(twin.amount))
    monthly = float(np.sum(twin.monthly_billing))
    months = total / monthly if monthly > 0 else 1.0
    return max(1.0, months * 30.44 / 7.0)
