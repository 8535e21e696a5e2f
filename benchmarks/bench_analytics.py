"""Benchmark and validation figures for portfolio analytics (run by hand, not in CI).

Usage: ``.venv/bin/python benchmarks/bench_analytics.py [--customers 50000]``

1. Speed: every KPI and segment on a simulated portfolio of ~1,000,000 invoices from
   50,000 customers (target: all of them in ≤ 20 s on 2 cores).
2. Alerts against simulated truth (default distress and a strong-distress model):
   precision, recall, median lead time, and the trade-off curve over the threshold.
3. Churn model: time-split AUC, Brier score and calibration, before and after
   recalibration on the latest labelled months.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd

from collections_lab.analytics import (
    aging,
    alert_tradeoff,
    at_risk_rate,
    behaviour_alerts,
    churn_features,
    churn_validation,
    evaluate_alerts,
    kpi_report,
    kpi_snapshot,
    monthly_trends,
    payer_clusters,
    payer_tiers,
    payment_discipline,
)
from collections_lab.analytics.churn import all_snapshots
from collections_lab.model.behaviour import BehaviourModel
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies

STRATEGY = "nudge_then_firm"


def markdown(frame: pd.DataFrame) -> str:
    """A small Markdown table (no tabulate dependency)."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row)
            + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


class Timer:
    def __init__(self):
        self.rows = []

    def __call__(self, name, fn, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.rows.append((name, wall))
        print(f"  {name:<48s} {wall:7.2f} s wall {cpu:7.2f} s cpu", flush=True)
        return out


def speed(n_customers: int) -> None:
    print(f"## Speed: {n_customers:,} customers (load average {os.getloadavg()[0]:.1f})")
    t0 = time.perf_counter()
    sim = simulate(n_customers, example_strategies()[STRATEGY], seed=42, start="2023-11-01",
                   end="2026-03-31", truth_replicates=1)
    p = sim.portfolio
    print(f"  simulated {len(p.invoices):,} invoices, {len(p.payments):,} payments, "
          f"{p.invoices['customer_id'].nunique():,} invoiced customers "
          f"in {time.perf_counter() - t0:.1f} s (not counted)")
    as_of = "2026-03-31"
    tm = Timer()
    tm("kpi_snapshot by currency", kpi_snapshot, p, as_of)
    tm("kpi_snapshot by currency x segment", kpi_snapshot, p, as_of, by="segment")
    tm("aging by currency x segment", aging, p, as_of, by="segment")
    tm("at_risk_rate by currency x segment", at_risk_rate, p, as_of, by="segment")
    tm("monthly_trends (29 months) by currency x segment", monthly_trends, p, as_of=as_of,
       by="segment")
    disc = tm("payment_discipline (incl. payment_times)", payment_discipline, p, as_of=as_of)
    tm("payer_tiers", payer_tiers, disc)
    tm("payer_clusters (k-means, k=4)", payer_clusters, disc)
    total = sum(s for _, s in tm.rows)
    print(f"  TOTAL, each KPI call on its own: {total:.2f} s")
    print("  one ledger for all KPI tables (kpi_report):")
    tm2 = Timer()
    tm2("kpi_report by currency x segment", kpi_report, p, as_of, by="segment")
    disc = tm2("payment_discipline (incl. payment_times)", payment_discipline, p, as_of=as_of)
    tm2("payer_tiers", payer_tiers, disc)
    tm2("payer_clusters (k-means, k=4)", payer_clusters, disc)
    print(f"  TOTAL KPIs + segments via kpi_report: {sum(s for _, s in tm2.rows):.2f} s")
    tm2 = Timer()
    tm2("behaviour_alerts", behaviour_alerts, p, as_of=as_of)
    tm2("churn_features at one cutoff (scoring input)", churn_features, p, as_of)
    print()


def alerts(n_customers: int) -> None:
    print(f"## Alerts vs simulated truth ({n_customers:,} customers, 2024-01..2025-12, "
          "as_of 2026-02-28)")
    models = {
        "default distress (frailty -1.3, never-pay +1.8)": BehaviourModel(),
        "strong distress (frailty -3.0, never-pay +3.0)": BehaviourModel(
            distress_frailty_shift=-3.0, distress_never_pay_shift=3.0),
    }
    for label, model in models.items():
        for seed in (11, 12):
            sim = simulate(n_customers, example_strategies()[STRATEGY], model=model,
                           seed=seed, start="2024-01-01", end="2025-12-31")
            a = behaviour_alerts(sim.portfolio, as_of="2026-02-28")
            for post in (1, 3):
                ev = evaluate_alerts(a, sim.truth, sim.portfolio, min_post_invoices=post)
                print(f"- {label}, seed {seed}, episodes of >= {post} invoices: precision "
                      f"{ev.precision:.2f}, recall {ev.recall:.2f}, median lead "
                      f"{ev.median_lead_days:.0f} days ({ev.n_positives} distressed of "
                      f"{ev.n_eligible} eligible, {ev.n_alerts} alerts)")
        curve = alert_tradeoff(sim.portfolio, sim.truth, as_of="2026-02-28",
                               thresholds=(1, 1.5, 2, 3, 4, 5, 6, 8))
        print(markdown(curve[["h", "precision", "recall", "median_lead_days", "n_alerts"]]))
        print()


def churn(n_customers: int) -> None:
    print(f"## Churn ({n_customers:,} customers, 2024-01..2025-12, split 2025-03-31)")
    sim = simulate(n_customers, example_strategies()[STRATEGY], seed=5, start="2024-01-01",
                   end="2025-12-31")
    t0 = time.perf_counter()
    snaps = all_snapshots(sim.portfolio, "2025-12-31")
    print(f"- snapshots: {time.perf_counter() - t0:.1f} s")
    first = None
    for model in ("logistic", "gbm"):
        for recal in ("intercept", "platt", None):
            t0 = time.perf_counter()
            v = churn_validation(sim.portfolio, split_date="2025-03-31", as_of="2025-12-31",
                                 model=model, recalibrate=recal, snapshots=snaps)
            first = first or v
            print(f"- {model}, recalibrate={recal}: AUC {v.auc:.3f}, Brier {v.brier:.4f} "
                  f"(raw {v.brier_raw:.4f}), log loss {v.log_loss:.3f} (raw "
                  f"{v.log_loss_raw:.3f}), churn rate train {v.base_rate_train:.4f} / "
                  f"window {v.base_rate_window:.4f} / test {v.base_rate_test:.4f}, mean "
                  f"predicted {v.mean_predicted:.4f} (raw {v.mean_predicted_raw:.4f}), "
                  f"n_train {v.n_train:,}, n_test {v.n_test:,} "
                  f"({time.perf_counter() - t0:.1f} s)")
    print(markdown(first.reliability()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--truth-customers", type=int, default=5_000)
    parser.add_argument("--only", choices=["speed", "alerts", "churn"], default=None)
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    if args.only in (None, "speed"):
        speed(args.customers)
    if args.only in (None, "alerts"):
        alerts(args.truth_customers)
    if args.only in (None, "churn"):
        churn(args.truth_customers)


if __name__ == "__main__":
    main()
