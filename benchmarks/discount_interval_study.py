"""Which interval for the discount cost? Four candidates on the same simulated experiments.

By hand (results in benchmarks/RESULTS.md, "Statistical conformance, run 5"). For every
run it stores each arm's estimate, clustered SE and Satterthwaite df, then scores:

- ``wald``: difference ± 1.96 SE;
- ``log_normal``: log-scale arm intervals combined by MOVER, normal quantiles;
- ``log_t_arm_df``: the same with Student t on each arm's own df;
- ``log_t_welch``: Student t on the Welch–Satterthwaite df of the difference (the one
  :func:`~collections_lab.experiments.metrics.discount_cost_effect` uses).

Scenarios: ``one-arm`` (2% discount in the treatment only, synthetic generator, coverage
of the closed-form truth), ``both-arms`` (1% vs 2%), and ``aa`` (the behaviour simulator's
A/A arm with a 2/10 discount in both arms: false-positive rate = 1 − coverage of 0).

Usage: ``.venv/bin/python benchmarks/discount_interval_study.py one-arm --n 3000
--customers 3000 --seed 11`` (``aa`` ignores ``--customers``: the conformance design).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats

from collections_lab.experiments.conformance import (
    AA_STRATEGY,
    CONFORMANCE_CONFIG,
    DEFAULT_DESIGN,
    simulate_experiment_data,
)
from collections_lab.experiments.data import ExperimentData
from collections_lab.experiments.metrics import (
    discount_cost_arm,
    log_t_interval,
    log_t_mover_interval,
    mover_interval,
)
from collections_lab.experiments.synthetic import (
    DISCOUNT_DAYS,
    START,
    paid_within_closed_form,
    synthetic_payment_times,
)

RATES = {"one-arm": {"treatment": 0.02}, "both-arms": {"control": 0.01, "treatment": 0.02}}
HR = 1.3


def _truth(scenario: str) -> float:
    if scenario == "aa":
        return 0.0
    rates = RATES[scenario]
    return (rates["treatment"] * paid_within_closed_form(DISCOUNT_DAYS, hr=HR)
            - rates.get("control", 0.0) * paid_within_closed_form(DISCOUNT_DAYS))


def _data(scenario: str, seed: int, customers: int) -> ExperimentData:
    if scenario == "aa":
        return simulate_experiment_data({"control": AA_STRATEGY, "treatment": AA_STRATEGY},
                                        seed, DEFAULT_DESIGN)[0]
    frame = synthetic_payment_times(customers, seed=seed, arm_hr={"control": 1.0, "treatment": HR},
                                    discount_rate=RATES[scenario])
    return ExperimentData.from_frame(frame, control="control", start=START)


def _chunk(args) -> list[dict]:
    scenario, seed, runs, customers = args
    rows = []
    for r in runs:
        data = _data(scenario, seed * 100_003 + r, customers)
        row = {}
        for arm, name in ((1, "a"), (0, "c")):
            est, _, se, df = discount_cost_arm(data, arm, CONFORMANCE_CONFIG)
            row.update({f"est_{name}": est, f"se_{name}": se, f"df_{name}": df})
        rows.append(row)
    return rows


def score(parts: pd.DataFrame, truth: float) -> pd.DataFrame:
    """Coverage and misses above/below of each candidate interval."""
    out = []
    for name in ("wald", "log_normal", "log_t_arm_df", "log_t_welch"):
        lo, hi = [], []
        for row in parts.itertuples():
            d = row.est_a - row.est_c
            if name == "wald":
                half = stats.norm.ppf(0.975) * np.hypot(row.se_a, row.se_c)
                lo.append(d - half)
                hi.append(d + half)
                continue
            if name == "log_t_welch":  # the engine's own interval
                low, high = log_t_mover_interval(row.est_a, row.se_a, row.df_a,
                                                 row.est_c, row.se_c, row.df_c)
            else:
                df_a, df_c = ((np.inf, np.inf) if name == "log_normal"
                              else (row.df_a, row.df_c))
                low, high = mover_interval(
                    row.est_a, log_t_interval(row.est_a, row.se_a, df_a),
                    row.est_c, log_t_interval(row.est_c, row.se_c, df_c))
            lo.append(low)
            hi.append(high)
        lo, hi = np.asarray(lo), np.asarray(hi)
        out.append({"interval": name, "coverage": float(np.mean((lo <= truth) & (truth <= hi))),
                    "truth_above": float(np.mean(truth > hi)),
                    "truth_below": float(np.mean(truth < lo)), "runs": len(parts)})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["one-arm", "both-arms", "aa"])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    chunks = [(args.scenario, args.seed, list(c), args.customers)
              for c in np.array_split(np.arange(args.n), args.jobs * 4) if len(c)]
    with ProcessPoolExecutor(args.jobs) as pool:
        parts = pd.DataFrame([row for chunk in pool.map(_chunk, chunks) for row in chunk])
    print(f"{args.scenario}, seed {args.seed}, {args.n} runs"
          + ("" if args.scenario == "aa" else f", {args.customers} customers")
          + f"; median df treatment {parts['df_a'].median():.1f}")
    print(score(parts, _truth(args.scenario)).to_string(index=False))


if __name__ == "__main__":
    main()
