"""Simulator scenarios with known truth, for checking the lab end to end.

:func:`history_scenario` simulates a history like the bundled sample's (a business-as-usual
pre-period, then the 2×2×2 tone × count × discount experiment) from a behaviour model
whose parameters differ from the documented defaults (so a calibration that merely
returned its priors would fail). :func:`run_recovery` calibrates on it and compares with
the truth; :func:`run_regret` calibrates, recommends on the calibrated twin and measures
the regret on the true twin. The tests run them small; ``benchmarks/bench_lab.py`` runs
them full size.

Example
-------
>>> sc = history_scenario(n_customers=80, seed=1)
>>> sc.truth.tone_effect["firm"]
4.0
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..model.behaviour import BehaviourModel
from ..model.sample_data import BUSINESS_AS_USUAL, sample_experiment
from ..model.simulation import FX_PER_USD, SimulationResult, simulate
from ..model.strategies import Strategy
from .calibrate import Calibration, recovery_table
from .recommend import Constraints, StrategySpace, recommend, regret
from .twin import Twin

#: The scenario's true model: the defaults with a different tone response, baseline,
#: payment-link effect and discount response; no distress episodes (the twin does not
#: model them, so they would bias the recovery: see the calibration's notes).
TRUE_CHANGES = dict(
    tone_effect={"friendly": 2.0, "neutral": 3.5, "firm": 4.0, "final": 6.0},
    due_peak=0.13, post_due_level=0.07, beta_payment_link=0.5,
    discount_boost_per_point=3.5, distress_share=0.0,
)

#: Amounts enter the simulator as log(amount in USD / 1000): the same reference in the
#: calibration makes the baseline levels comparable with the truth.
AMOUNT_REFERENCE = {k: 1000.0 * v for k, v in FX_PER_USD.items()}


@dataclass
class Scenario:
    """A simulated history with its truth."""

    sim: SimulationResult
    truth: BehaviourModel
    arms: dict
    default: Strategy
    as_of: str

    @property
    def history(self):
        return self.sim.snapshot(self.as_of)


def history_scenario(n_customers: int = 1500, seed: int = 5,
                     start: str = "2025-01-01", end: str = "2025-12-31",
                     assigned_at: str = "2025-05-01", as_of: str = "2026-01-31",
                     truth: BehaviourModel | None = None) -> Scenario:
    """Simulate the scenario (see module docstring)."""
    truth = truth or BehaviourModel().with_params(**TRUE_CHANGES)
    exp = sample_experiment()
    sim = simulate(n_customers, exp, model=truth, seed=seed, start=start, end=end,
                   assigned_at=assigned_at, before=BUSINESS_AS_USUAL, progress=False)
    return Scenario(sim, truth, exp.arms, BUSINESS_AS_USUAL, as_of)


def calibrate_scenario(sc: Scenario, **kwargs) -> Calibration:
    """Calibrate on the scenario's history with its known strategies."""
    return Calibration(amount_reference=AMOUNT_REFERENCE, **kwargs).fit(
        sc.history, arms=sc.arms, default=sc.default)


def run_recovery(n_customers: int = 1500, seed: int = 5) -> pd.DataFrame:
    """Recovery table (estimate, interval, truth, covered, z) of one scenario."""
    sc = history_scenario(n_customers, seed)
    return recovery_table(calibrate_scenario(sc), sc.truth)


def small_space() -> StrategySpace:
    """A compact space (schedules × tone patterns × discounts × installment offers)."""
    return StrategySpace(schedules=((3,), (-3, 7), (3, 14, 28), (-3, 7, 21)),
                         tones=("friendly", "firm", "escalating"), channels=("email",),
                         personalised=(False,), discounts=(None, (0.01, 10), (0.02, 10)),
                         installments=(None, 2))


def run_regret(n_customers: int = 1500, seed: int = 5, space: StrategySpace | None = None,
               constraints: Constraints | None = None, replicates: int = 30,
               truth_replicates: int = 60, n_jobs: int | None = None):
    """Calibrate, recommend on the calibrated twin, and measure the regret on the true
    twin. Returns ``(recommendation, regret)``; money in USD at the simulator's rates."""
    sc = history_scenario(n_customers, seed)
    cal = calibrate_scenario(sc)
    space = space or small_space()
    twin = Twin.from_calibration(cal, fx=FX_PER_USD)
    true_twin = Twin.from_simulation(sc.sim, fx=FX_PER_USD)
    rec = recommend(twin, sc.default, space, constraints or Constraints(),
                    replicates=replicates, n_jobs=n_jobs)
    return rec, regret(rec, true_twin, space, replicates=truth_replicates, n_jobs=n_jobs)
