"""A/B experiments on collections: design, censoring-aware clustered analysis, readouts.

General A/B engines assume every unit's outcome is known at analysis time and that units
are independent. In collections neither holds: invoices are still open when the weekly
readout runs, and one customer has many invoices. This package is built for that:

- :mod:`.metric_registry` — one :class:`Metric` per metric code: its estimator, influence
  function, customer weight, direction, scale and the variance design uses;
- :mod:`.design` — sample size, MDE, power and duration (analytic with a design effect,
  from pilot variances, or simulated on the behaviour model), all through one solver
  (:func:`solve_design`, statsmodels' ``NormalIndPower``);
- :mod:`.srm` — sample-ratio-mismatch check, overall and per segment;
- :mod:`.metrics` — censoring-aware metrics with variance clustered by customer
  (influence functions summed per customer), built on the survival engine
  (:mod:`collections_lab.survival.influence` for Aalen–Johansen functionals,
  :mod:`collections_lab.survival.regression` for the Cox fit);
- :mod:`.adjustment` — CUPED-type covariate adjustment with pre-experiment behaviour;
- :mod:`.multiple`, :mod:`.factorial`, :mod:`.sequential` — several arms, factorial
  designs, weekly looks with Lan–DeMets alpha spending;
- :mod:`.readout` — :func:`analyze_experiment` and its result object;
- :mod:`.conformance` — A/A error rates, coverage, naive methods, sequential and power
  checks on simulated data with known truth.

Example
-------
>>> from collections_lab.experiments import analyze_experiment
>>> from collections_lab.experiments.synthetic import synthetic_payment_times
>>> r = analyze_experiment(synthetic_payment_times(800, seed=2), start="2025-03-01",
...                        segments=False, metrics=["paid_by_due_d"])
>>> list(r.to_frame()["metric"])
['paid_by_due_d']
"""

from .adjustment import adjust_effect
from .data import ExperimentData, ExperimentDataError
from .design import (
    PowerCurve,
    SampleSizePlan,
    design_effect,
    duration_weeks,
    estimate_design_effect,
    mde_cash,
    mde_from_pilot,
    mde_hazard_ratio,
    mde_proportion,
    mde_rmst,
    power_at_se,
    power_by_simulation,
    power_from_pilot,
    power_hazard_ratio,
    power_proportion,
    power_rmst,
    sample_size_from_pilot,
    sample_size_hazard_ratio,
    sample_size_proportion,
    sample_size_rmst,
    schoenfeld_events,
    solve_design,
    solve_metric,
    units_for_se_power,
    unpaid_and_followed_curves,
)
from .factorial import FactorialResult, factorial_analysis
from .metric_registry import METRIC_REGISTRY, Metric, get_metric
from .metrics import METRICS, Effect, MetricConfig, compare_arms
from .multiple import benjamini_hochberg, holm
from .readout import ExperimentReadout, SequentialPlan, analyse_experiment, analyze_experiment
from .sequential import SequentialResult, group_sequential_test, lan_demets_boundaries
from .srm import SRMResult, srm_check

__all__ = [
    "METRICS", "METRIC_REGISTRY", "Effect", "Metric", "ExperimentData", "ExperimentDataError", "ExperimentReadout",
    "FactorialResult", "MetricConfig", "PowerCurve", "SRMResult", "SampleSizePlan",
    "SequentialPlan", "SequentialResult", "adjust_effect", "analyse_experiment",
    "analyze_experiment",
    "benjamini_hochberg", "compare_arms", "design_effect", "duration_weeks",
    "estimate_design_effect", "factorial_analysis", "get_metric", "group_sequential_test",
    "holm",
    "lan_demets_boundaries", "mde_cash", "mde_from_pilot", "mde_hazard_ratio",
    "mde_proportion", "mde_rmst", "power_at_se", "power_by_simulation", "power_from_pilot",
    "power_hazard_ratio", "power_proportion", "power_rmst", "sample_size_from_pilot",
    "sample_size_hazard_ratio", "sample_size_proportion", "sample_size_rmst",
    "schoenfeld_events", "solve_design", "solve_metric", "srm_check",
    "units_for_se_power", "unpaid_and_followed_curves",
]
