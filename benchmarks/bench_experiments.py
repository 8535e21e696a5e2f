"""Speed of the experiment engine (run by hand; results go to benchmarks/RESULTS.md).

1. The whole readout (SRM, nine metrics, covariate adjustment, Holm/BH, segments,
   weekly sequential replay) of a simulated two-arm experiment with about 1,000,000
   invoices in the experiment (plus a two-month pre-period): target <= 30 s.
2. 1,000 simulated A/A experiments of about 20,000 invoices each (simulation, payment
   times, primary metrics with adjustment and the naive tests): target <= 5 minutes,
   using both cores.

Usage: ``.venv/bin/python benchmarks/bench_experiments.py [--skip-readout] [--skip-aa]``
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from collections_lab.experiments.conformance import aa_false_positive_rates
from collections_lab.experiments.readout import SequentialPlan, analyze_experiment
from collections_lab.model.plans import Experiment
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies


def bench_readout(n_customers: int = 130_000) -> dict:
    s = example_strategies()
    exp = Experiment("bench-1m", {"control": s["one_friendly_after_due"],
                                  "treatment": s["nudge_then_firm"]}, control="control")
    t0 = time.perf_counter()
    sim = simulate(n_customers, exp, seed=1, start="2025-01-01", end="2025-12-31",
                   assigned_at="2025-03-01", before=s["one_friendly_after_due"],
                   progress=False)
    t_sim = time.perf_counter() - t0
    portfolio = sim.portfolio
    t0 = time.perf_counter()
    frame = portfolio.payment_times(as_of="2025-12-31", experiment_id="bench-1m")
    t_pt = time.perf_counter() - t0
    n_exp = int((frame["issue_date"] >= "2025-03-01").sum())
    t0, c0 = time.perf_counter(), time.process_time()
    readout = analyze_experiment(frame, exp, start="2025-03-01",
                                 sequential=SequentialPlan(planned_events=900_000))
    t_readout, c_readout = time.perf_counter() - t0, time.process_time() - c0
    # CPU seconds: what a quiet machine's wall time approaches (single-threaded code)
    return {"invoices_in_frame": len(frame), "experiment_invoices": n_exp,
            "simulate_s": t_sim, "payment_times_s": t_pt, "readout_s": t_readout,
            "readout_cpu_s": c_readout,
            "looks": len(readout.sequential.looks),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_aa(n: int = 1000, n_jobs: int = 2) -> dict:
    t0, before = time.perf_counter(), os.times()
    table = aa_false_positive_rates(n_experiments=n, seed=7, n_jobs=n_jobs,
                                    metrics=["paid_by_due_d", "rmst_days", "hazard_ratio"])
    elapsed, after = time.perf_counter() - t0, os.times()
    # CPU of this process and its workers (what both cores of a quiet machine would share)
    cpu = sum(after[:4]) - sum(before[:4])
    ours = table[table["method"] == "clustered"].set_index("metric")["false_positive_rate"]
    return {"experiments": n, "n_jobs": n_jobs, "seconds": elapsed, "cpu_s": cpu,
            "fpr": {k: round(float(v), 4) for k, v in ours.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-readout", action="store_true")
    parser.add_argument("--skip-aa", action="store_true")
    parser.add_argument("--aa", type=int, default=1000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    if not args.skip_readout:
        print("readout 1M:", bench_readout())
    if not args.skip_aa:
        print("A/A:", bench_aa(args.aa))


if __name__ == "__main__":
    main()
