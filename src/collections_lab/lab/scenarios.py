"""Simulator scenarios with known truth, for checking the lab end to end.

:func:`history_scenario` simulates a history like the bundled sample's (a business-as-usual
pre-period, then the 2×2×2 tone × count × discount experiment) from a behaviour model
whose parameters differ from the documented defaults (so a calibration that merely
returned its priors would fail). :func:`run_recovery` calibrates on it and compares with
the truth; :func:`run_regret` calibrates, recommends on the calibrated twin and measures
the regret on the true twin. :func:`run_versus_scenario` draws the true effects of tone, reminder count,
discount and firm-reminder churn at random (:func:`varied_truth`: friendly may beat firm,
discounts may do nothing), calibrates the twin on the pre-period plus the experiment and
compares its predicted arm effects with the experiment's readout and its pick with the
truly best arm. The tests run them small; ``benchmarks/bench_lab.py`` and
``benchmarks/bench_twin_experiment.py`` run them full size.

Example
-------
>>> sc = history_scenario(n_customers=80, seed=1)
>>> sc.truth.tone_effect["firm"]
4.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..model.behaviour import SEGMENTS, BehaviourModel
from ..model.sample_data import BUSINESS_AS_USUAL, sample_experiment
from ..model.simulation import FX_PER_USD, SimulationResult, simulate
from ..model.strategies import Strategy
from .calibrate import Calibration, recovery_table
from .compare import compare_strategies
from .recommend import Constraints, StrategySpace, recommend, regret
from .twin import Twin
from .versus import twin_versus_experiment

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
                     truth: BehaviourModel | None = None,
                     arms: tuple | None = None) -> Scenario:
    """Simulate the scenario (see module docstring); ``arms``: a subset of the sample
    experiment's arm names (its control ``friendly-1-none`` is always one of them)."""
    truth = truth or BehaviourModel().with_params(**TRUE_CHANGES)
    exp = sample_experiment()
    if arms is not None:
        keep = [exp.control_arm] + [a for a in arms if a != exp.control_arm]
        exp = replace(exp, arms={a: exp.arms[a] for a in keep},
                      factors={a: exp.factors[a] for a in keep})
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


def varied_truth(seed: int) -> BehaviourModel:
    """A true behaviour model with randomly drawn effects of what the sample's experiment
    varies (log-uniform or uniform, seeded): tone responses (friendly 0.5–4, firm
    0.5–12, so friendly beats firm in about a third of draws), the effect of later
    reminders (0.15–1.3: a later reminder may work better than the first, which the
    defaults never assume), the discount response (0.3–12 per point) and take-up share
    per segment (0.05–0.6), and the churn caused by a firm reminder (0–0.9); the rest as
    :data:`TRUE_CHANGES`.

    >>> m = varied_truth(3)
    >>> 0.5 <= m.tone_effect["friendly"] <= 4 and 0.15 <= m.later_reminder_decay <= 1.3
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 181]))
    base = BehaviourModel().with_params(**TRUE_CHANGES)

    def log_uniform(lo: float, hi: float) -> float:
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    tone = dict(base.tone_effect)
    tone["friendly"] = log_uniform(0.5, 4.0)
    tone["firm"] = log_uniform(0.5, 12.0)
    return base.with_params(
        tone_effect=tone, later_reminder_decay=float(rng.uniform(0.15, 1.3)),
        discount_boost_per_point=log_uniform(0.3, 12.0),
        discount_taker_share={sg: float(rng.uniform(0.05, 0.6)) for sg in SEGMENTS},
        churn_firm_reminder=float(rng.uniform(0.0, 0.9)))


#: Power of the experiment's minimum detectable effect (two-sided 5 %, 80 % power).
MDE_Z = 1.959963984540054 + 0.8416212335729143


#: The experiments of the benchmark scenarios, by seed modulo 3: the sample's 2×2×2
#: factorial, tone × count without discounts, and one treatment against the control.
DESIGNS = (None, ("friendly-3-none", "firm-1-none", "firm-3-none"), ("firm-3-none",))


def run_versus_scenario(seed: int, n_customers: int = 1200, replicates: int = 6,
                        truth_replicates: int = 20) -> dict:
    """One benchmark scenario of the twin against the experiment (known truth).

    Simulates :func:`history_scenario` under :func:`varied_truth` (seed ``seed``; the
    experiment is one of :data:`DESIGNS`, by seed),
    calibrates on the pre-period plus the experiment, and returns

    - ``rows``: the :class:`~collections_lab.lab.versus.TwinVersusExperiment` table
      (twin's predicted vs observed effect per arm and metric; ``agrees`` = inside the
      readout's 95 % interval);
    - ``pick``: the lab's pick among the arms (highest paid by due + 15 on the calibrated
      twin, ``replicates`` replicates), ``best`` / ``lead``: the truly best arm and its
      lead over the second on the true twin (``truth_replicates``, the simulation's own
      parameters and traits), ``mde``: the experiment's minimum detectable difference on
      that metric (:data:`MDE_Z` × the readout's median standard error);
    - ``arms``: how many arms the experiment had; ``truth``: the drawn effects.
    """
    truth = varied_truth(seed)
    sc = history_scenario(n_customers, seed, truth=truth, arms=DESIGNS[seed % len(DESIGNS)])
    cal = calibrate_scenario(sc)
    versus = twin_versus_experiment(cal, sc.history, replicates=replicates, seed=seed)
    arms = [s for s in sc.arms.values()]
    twin = Twin.from_calibration(cal, fx=FX_PER_USD, seed=seed)
    lab = compare_strategies(twin, arms, replicates=replicates, n_jobs=1, progress=False)
    true_twin = Twin.from_simulation(sc.sim, fx=FX_PER_USD, seed=seed + 1)
    true = compare_strategies(true_twin, arms, replicates=truth_replicates, n_jobs=1,
                              progress=False)

    def speed(result) -> pd.Series:
        table = result.summary_table()
        return table.loc[table["metric"] == "paid_by_due_15"].set_index("strategy")["mean"]

    picked, real = speed(lab), speed(true).sort_values(ascending=False)
    rows = versus.table.assign(seed=seed)
    se = rows.loc[rows["metric"] == "paid_by_due_d", "observed_se"]
    return dict(seed=seed, arms=len(sc.arms), rows=rows, pick=str(picked.idxmax()), best=str(real.index[0]),
                lead=float(real.iloc[0] - real.iloc[1]),
                pick_shortfall=float(real.iloc[0] - real[picked.idxmax()]),
                mde=float(MDE_Z * se.median()) if se.notna().any() else float("nan"),
                truth=dict(tone_friendly=truth.tone_effect["friendly"],
                           tone_firm=truth.tone_effect["firm"],
                           later_reminder_decay=truth.later_reminder_decay,
                           discount_boost_per_point=truth.discount_boost_per_point,
                           churn_firm_reminder=truth.churn_firm_reminder))
