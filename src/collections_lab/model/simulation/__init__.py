"""Simulate a receivables portfolio under a strategy or an experiment, with known truth.

:func:`simulate` generates (or takes) customers, issues them monthly invoices, lets them
pay according to :class:`~collections_lab.model.behaviour.BehaviourModel` under the strategy of
their arm, and returns exactly the five tables a real export gives, plus a
:class:`Truth` record (parameters, every customer's latent traits, distress episodes,
churn dates and the true per-arm effects computed from the model itself).

How the draw works (and why it is fast): every factor of the daily hazard except the
invoice's multiplier ``m_i`` is shared by all invoices with the same arm, segment, terms
and discount-taking trait, so their cumulative hazard is ``m_i · G(t)``. The payment day is
the first ``t`` with ``m_i · G(t) >= E_i``, ``E_i ~ Exp(1)`` — exactly the day-by-day
Bernoulli process ``hazard = 1 - exp(-λ)``, found by one binary search per invoice instead
of evaluating every day of every invoice. Random numbers come in fixed blocks of
``BLOCK`` invoices, each from its own seed, so results do not depend on ``chunk_size``.

Example
-------
>>> from collections_lab.model.strategies import example_strategies
>>> sim = simulate(200, example_strategies()["nudge_then_firm"], seed=7,
...                start="2025-01-01", end="2025-06-30")
>>> frame = sim.portfolio.payment_times(as_of="2025-07-31")
>>> frame["outcome"].value_counts().index.tolist()
['paid', 'escalated', 'open']

The package is split by job: :mod:`.population` (customers, traits, invoice schedule),
:mod:`.engine` (hazard curves and each invoice's drawn story: the public engine interface
the strategy lab uses), :mod:`.tables` (the five tables), :mod:`.truth` (the truth record
and true arm effects), :mod:`.run` (:func:`simulate`), :mod:`.streaming`
(:func:`simulate_to_parquet`) and :mod:`.progress`.
"""

from .engine import (
    BLOCK,
    FIRM_TONES,
    N_UNIFORMS,
    HazardCurves,
    Outcomes,
    draw_outcomes,
    escalation_day,
    hazard_curve,
    reminder_days,
    reminder_stop_day,
    uniforms,
)
from .population import FX_PER_USD, generate_customers
from .progress import REPORT_ENV, interactive, progress_bar
from .run import SimulationResult, prepare, simulate
from .streaming import simulate_to_parquet
from .truth import TRUTH_DAYS, TRUTH_TAUS, Truth, true_arm_effects

__all__ = [
    "BLOCK", "FIRM_TONES", "FX_PER_USD", "N_UNIFORMS", "REPORT_ENV", "TRUTH_DAYS", "TRUTH_TAUS",
    "HazardCurves", "Outcomes", "SimulationResult", "Truth", "draw_outcomes", "escalation_day",
    "generate_customers", "hazard_curve", "interactive", "prepare", "progress_bar", "reminder_days", "reminder_stop_day",
    "simulate", "simulate_to_parquet", "true_arm_effects", "uniforms",
]
