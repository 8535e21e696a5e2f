"""Small-sample A/A false-positive rates (issue 15): 40 and 80 customers per arm.

The lean synthetic generator (:mod:`collections_lab.experiments.synthetic`, 2% discount
in both arms, as the CI test ``test_small_sample_aa_with_cr2_and_t_reference``) read out in
two designs:

- ``--follow-days 30``: the readout 30 days after the last experiment invoice (the CI
  test's design). Metrics whose horizon is 90 days (RMST, escalation at due + 60, net
  value) are then "not followed yet" in nearly every run: the readout says so instead of
  reading a tail of a few customers' invoices.
- ``--follow-days 150``: every invoice followed past every horizon, so every metric is
  estimated in every run (churn excepted: the generator issues no invoice after the
  experiment, so with 150 days every customer has "churned" in both arms and its test is
  degenerate -- its A/A comes from the 30-day design).

Writes ``conformance/REPORT_small_aa_seed{seed}.md`` with rate, runs and Monte Carlo SE
per metric (band [0.035, 0.065]).

Usage::

    .venv/bin/python benchmarks/small_sample_aa.py --customers 80 --runs 4000 --seed 8240 --follow-days 30
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from collections_lab.experiments.conformance import (
    false_positive_table,
    markdown_table,
    run_synthetic_replicates,
)
from collections_lab.experiments.metrics import SmallSampleWarning

OUT = Path(__file__).resolve().parent.parent / "conformance"
BAND = (0.035, 0.065)


def main() -> None:
    parser = argparse.ArgumentParser(description="small-sample A/A (synthetic generator)")
    parser.add_argument("--customers", type=int, default=80, help="both arms together")
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--follow-days", type=int, default=30)
    args = parser.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        reps = run_synthetic_replicates(
            {"control": 1.0, "treatment": 1.0}, args.runs, n_customers=args.customers,
            seed=args.seed, adjusted=False, naive=False,
            discount_rate={"control": 0.02, "treatment": 0.02},
            follow_days=args.follow_days)
    table = false_positive_table(reps)
    df = reps.groupby("metric")["df"].median()
    table["median_df"] = table["metric"].map(df)
    table["in_band"] = table["false_positive_rate"].between(*BAND)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    lines = [
        f"# Small-sample A/A, {args.customers // 2} customers per arm, seed {args.seed}, "
        f"{args.runs:,} runs, {args.follow_days} days of follow-up",
        "",
        "`benchmarks/small_sample_aa.py "
        f"--customers {args.customers} --runs {args.runs} --seed {args.seed} "
        f"--follow-days {args.follow_days}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f", {cpu:.0f} CPU s, {wall:.0f} s wall). Band {list(BAND)}; runs = experiments where "
        "the metric was estimable (the others say \"not followed yet\").",
        "",
        markdown_table(table),
        "",
    ]
    path = OUT / f"REPORT_small_aa_seed{args.seed}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
