"""Benchmark and full conformance runs of the strategy lab (run by hand, not in CI).

    .venv/bin/python benchmarks/bench_lab.py             # everything (~10 minutes)
    .venv/bin/python benchmarks/bench_lab.py --only speed

Parts:

- ``speed``: 20 strategies × 50 replicates on a 100,000-invoice twin (true traits of a
  simulated portfolio, every amount in USD) with both cores, and the same on one core for
  10 replicates (per-replicate cost); plus the calibration time on a ~100k-invoice
  history.
- ``recovery``: calibrate :func:`collections_lab.lab.scenarios.history_scenario`
  (1,500 customers, ~15k invoices, true parameters away from the defaults) for several
  seeds; coverage of the 95 % intervals and the largest |z|.
- ``regret``: calibrate, recommend on the calibrated twin, measure the true regret on the
  true twin, for several seeds and two spaces (with and without installment offers).

Results are printed as markdown and written to ``benchmarks/out/bench_lab.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import pandas as pd

from collections_lab.lab.calibrate import Calibration, recovery_table
from collections_lab.lab.compare import compare_strategies
from collections_lab.lab.recommend import Constraints, StrategySpace
from collections_lab.lab.scenarios import (
    AMOUNT_REFERENCE,
    calibrate_scenario,
    history_scenario,
    run_regret,
    small_space,
)
from collections_lab.lab.twin import Twin
from collections_lab.model.sample_data import BUSINESS_AS_USUAL, sample_experiment
from collections_lab.model.simulation import FX_PER_USD, simulate
from collections_lab.model.strategies import Reminder, Strategy, example_strategies

OUT = Path(__file__).parent / "out" / "bench_lab.json"


def twenty_strategies() -> list[Strategy]:
    out = list(example_strategies().values())
    for days, tone in itertools.product([(3,), (-3, 7), (3, 14, 28), (1, 10, 20, 30),
                                         (5, 15), (-5, 5, 15)], ["friendly", "firm"]):
        out.append(Strategy(f"{tone} {days}", reminders=tuple(Reminder(d, tone) for d in days),
                            escalation_day=75))
    out += [Strategy("neutral sms", reminders=(Reminder(2, "neutral", "sms"),)),
            Strategy("neutral email", reminders=(Reminder(2, "neutral"),))]
    return out[:20]


def speed() -> dict:
    t0 = time.perf_counter()
    sim = simulate(10_200, BUSINESS_AS_USUAL, seed=1, start="2025-01-01", end="2025-12-31",
                   progress=False)
    twin = Twin.from_simulation(sim, fx=FX_PER_USD)
    build = time.perf_counter() - t0
    strategies = twenty_strategies()
    t0 = time.perf_counter()
    compare_strategies(twin, strategies, replicates=10, n_jobs=1)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu0 = os.times()
    res = compare_strategies(twin, strategies, replicates=50, n_jobs=2)
    two = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = (cpu1.children_user + cpu1.children_system) - (cpu0.children_user
                                                         + cpu0.children_system)
    # calibration on a ~100k-invoice history
    exp = sample_experiment()
    big = simulate(8_500, exp, seed=3, start="2025-01-01", end="2025-12-31",
                   assigned_at="2025-05-01", before=BUSINESS_AS_USUAL, progress=False)
    t0 = time.perf_counter()
    cal = Calibration(amount_reference=AMOUNT_REFERENCE).fit(
        big.snapshot("2026-01-31"), arms=exp.arms, default=BUSINESS_AS_USUAL)
    calib = time.perf_counter() - t0
    return dict(invoices=twin.n_invoices, customers=twin.n_customers, strategies=len(strategies),
                replicates=50, seconds_two_cores=round(two, 1),
                worker_cpu_seconds=round(cpu, 1),
                seconds_per_replicate_one_core=round(one / 10, 2), build_twin_seconds=round(
                    build, 1), load_average=os.getloadavg()[0],
                best=res.best(), calibration_invoices=len(cal.history_.paid),
                calibration_seconds=round(calib, 1),
                calibration_iterations=int(cal.optimizer_.nit))


def recovery(seeds=(1, 2, 3, 4, 5), n_customers=1500) -> dict:
    tables = []
    for seed in seeds:
        sc = history_scenario(n_customers, seed)
        t0 = time.perf_counter()
        cal = calibrate_scenario(sc)
        secs = time.perf_counter() - t0
        r = recovery_table(cal, sc.truth).assign(seed=seed, seconds=secs)
        tables.append(r)
    allr = pd.concat(tables)
    hazard = allr.loc[allr["note"] != "churn GLM"]
    churn = allr.loc[allr["note"] == "churn GLM"]
    per_param = hazard.groupby(level=0)["covered"].mean()
    return dict(seeds=list(seeds), customers=n_customers,
                parameters=int(hazard.index.nunique()),
                coverage_hazard=round(float(hazard["covered"].mean()), 3),
                coverage_churn=round(float(churn["covered"].mean()), 3),
                max_abs_z_hazard=round(float(hazard["z"].abs().max()), 2),
                worst_parameter=str(hazard["z"].abs().idxmax()),
                least_covered=per_param.sort_values().head(3).round(2).to_dict(),
                seconds_mean=round(float(allr.groupby("seed")["seconds"].first().mean()), 1))


def regret_runs(seeds=(1, 2, 3), n_customers=1500) -> list[dict]:
    no_plan = StrategySpace(schedules=((3,), (-3, 7), (3, 14, 28), (-3, 7, 21)),
                            tones=("friendly", "firm", "escalating"), channels=("email",),
                            personalised=(False,), discounts=(None, (0.01, 10), (0.02, 10)),
                            installments=(None,))
    out = []
    for name, space in (("with installment offers", small_space()),
                        ("without installment offers", no_plan)):
        for seed in seeds:
            t0 = time.perf_counter()
            rec, reg = run_regret(n_customers, seed, space=space,
                                  constraints=Constraints(max_churn_increase=0.01),
                                  replicates=30, truth_replicates=60, n_jobs=2)
            row = reg.table.set_index("segment").loc["all"]
            segs = reg.table.loc[reg.table["segment"] != "all"]
            out.append(dict(space=name, strategies=len(space.strategies()), seed=seed,
                            regret_share=float(row["regret_share"]),
                            regret_of_gain=float(row["regret_of_gain"]),
                            segments_best_found=int((segs["regret"] <= 0).sum()),
                            predicted_gain=float(rec.table.set_index("segment")
                                                 .loc["all", "gain"]),
                            true_gain=float(row["true_recommended"] - row["true_current"]),
                            seconds=round(time.perf_counter() - t0, 1)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["speed", "recovery", "regret"])
    args = ap.parse_args()
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    if args.only in (None, "speed"):
        results["speed"] = speed()
        print(json.dumps(results["speed"], indent=2))
    if args.only in (None, "recovery"):
        results["recovery"] = recovery()
        print(json.dumps(results["recovery"], indent=2))
    if args.only in (None, "regret"):
        results["regret"] = regret_runs()
        print(pd.DataFrame(results["regret"]).round(5).to_string(index=False))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
