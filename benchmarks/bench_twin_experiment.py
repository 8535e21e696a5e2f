"""Benchmark: does the calibrated twin agree with the field experiment, and does the lab
pick the truly best arm? (issue 18; run by hand, not in CI).

    nice -n 10 .venv/bin/python benchmarks/bench_twin_experiment.py            # 50 scenarios
    nice -n 10 .venv/bin/python benchmarks/bench_twin_experiment.py --scenarios 5

For each scenario (seed ``FIRST_SEED + i``), :func:`collections_lab.lab.scenarios.
run_versus_scenario` draws true effects of tone, reminder count, discount and firm-reminder
churn at random (:func:`~collections_lab.lab.scenarios.varied_truth`, including friendly
beating firm, discounts doing almost nothing and later reminders working better than the
first), simulates a history (business as usual, then the 2×2×2 experiment from month 5),
calibrates the twin on the pre-period plus the experiment, and measures

- **coverage**: how often the twin's predicted effect of an arm against control lies
  inside the experiment readout's 95 % interval (per metric: paid by due + 15, days
  outstanding, churn, net value; target ≥ 90 %);
- **pick accuracy**: how often the lab's pick among the arms (paid by due + 15 on the
  calibrated twin) is the truly best arm (true twin), over the scenarios where the best
  arm leads the second by more than the experiment's minimum detectable difference
  (target ≥ 90 %), and over all scenarios how often the pick falls short of the best by
  less than that difference.

Results: printed as markdown and written to ``benchmarks/out/bench_twin_experiment.json``
(per scenario and per row).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from pathlib import Path

import pandas as pd

from collections_lab.lab.scenarios import run_versus_scenario

OUT = Path(__file__).parent / "out" / "bench_twin_experiment.json"
FIRST_SEED = 7000


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def summarise(results: list[dict]) -> dict:
    rows = pd.concat([r["rows"] for r in results], ignore_index=True)
    known = rows.loc[rows["agrees"].notna()].assign(agrees=lambda f: f["agrees"].astype(bool))
    per_metric = known.groupby("metric")["agrees"].agg(["mean", "size"])
    scen = pd.DataFrame([{k: v for k, v in r.items() if k not in ("rows", "truth")}
                         for r in results])
    clear = scen.loc[scen["lead"] > scen["mde"]]
    return dict(
        scenarios=len(results),
        coverage=float(known["agrees"].mean()), rows=int(len(known)),
        not_estimable=int(rows["agrees"].isna().sum()),
        coverage_by_metric={m: dict(share=float(v["mean"]), rows=int(v["size"]))
                            for m, v in per_metric.iterrows()},
        clear_scenarios=int(len(clear)),
        pick_accuracy_clear=float((clear["pick"] == clear["best"]).mean()) if len(clear)
        else float("nan"),
        pick_accuracy_all=float((scen["pick"] == scen["best"]).mean()),
        pick_within_mde=float((scen["pick_shortfall"] <= scen["mde"]).mean()),
        median_mde=float(scen["mde"].median()),
        median_lead=float(scen["lead"].median()))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=50)
    ap.add_argument("--customers", type=int, default=1200)
    ap.add_argument("--replicates", type=int, default=6)
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    results = []
    t0, w0 = cpu_seconds(), time.time()
    for i in range(args.scenarios):
        seed = args.first_seed + i
        r = run_versus_scenario(seed, n_customers=args.customers, replicates=args.replicates)
        results.append(r)
        known = r["rows"]["agrees"].dropna().astype(bool)
        print(f"seed {seed}: coverage {known.mean():.2f} ({len(known)} rows), pick {r['pick']}"
              f" best {r['best']} lead {r['lead']:.4f} mde {r['mde']:.4f}", flush=True)
    summary = summarise(results)
    summary.update(cpu_seconds=cpu_seconds() - t0, wall_seconds=time.time() - w0,
                   seeds=[args.first_seed, args.first_seed + args.scenarios - 1],
                   customers=args.customers, replicates=args.replicates)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dict(
        summary=summary,
        scenarios=[{k: v for k, v in r.items() if k != "rows"} for r in results],
        rows=pd.concat([r["rows"] for r in results]).drop(columns="label").to_dict("records")),
        indent=1, default=str), encoding="utf-8")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
