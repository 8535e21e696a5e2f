"""Behaviour-change alerts against simulated truth: figures, trade-off curve, ablations.

Detector: one CUSUM over lateness, order size and part payments (``AlertParams``).
Run by hand (not in CI): ``.venv/bin/python benchmarks/bench_alerts.py``. Simulates
``nudge_then_firm`` portfolios with the default behaviour model (distress ramps up over
150 days), 2025-01-01..2026-06-30, alerts as of 2026-08-31. The defaults of
``AlertParams`` were tuned on seed 3; seeds 11, 12 and 21 are held out. Prints markdown
for ``benchmarks/RESULTS.md``. ``--speed`` also times ``behaviour_alerts`` on 50,000
customers.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from collections_lab.analytics.alerts import (
    AlertParams,
    alert_tradeoff,
    behaviour_alerts,
    evaluate_alerts,
)
from collections_lab.simulate import simulate
from collections_lab.strategies import example_strategies

START, END, AS_OF = "2025-01-01", "2026-06-30", "2026-08-31"
THRESHOLDS = (3, 5, 7, 8, 9, 10, 11, 12, 14)
COLS = ["precision", "recall", "median_lead_days", "n_alerts", "n_true_alerts",
        "n_positives", "n_eligible", "n_with_event", "share_alert_before_event"]


def sim_of(seed: int, n: int = 5000):
    return simulate(n, example_strategies()["nudge_then_firm"], seed=seed, start=START,
                    end=END)


def markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in frame.columns) + "|"
    def cell(v):
        if isinstance(v, float):
            return f"{v:.0f}" if v == int(v) and abs(v) >= 10 else f"{v:.2f}"
        return str(v)

    body = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def figures(seeds) -> None:
    rows, curves, triggers = [], [], []
    variants = {
        "default (episodes >= 60 days old)": dict(),
        "all episodes started by as_of": dict(min_episode_days=0),
        "episodes >= 120 days old": dict(min_episode_days=120),
        "episodes >= 60 days, >= 3 invoices after start": dict(min_post_invoices=3),
    }
    ablations = {
        "lateness only (previous chart, h = 5)": dict(amount_weight=0, partial_weight=0,
                                                      h=5.0),
        "no order-size signal": dict(amount_weight=0),
        "no part-payment signal": dict(partial_weight=0),
        "no open-invoice evidence (report only when paid / at cap)": dict(checkpoints_days=()),
        "one symptom is enough (no persistence)": dict(min_late_invoices=1),
    }
    for seed in seeds:
        sim = sim_of(seed)
        alerts = behaviour_alerts(sim.portfolio, as_of=AS_OF)
        triggers.append(alerts.frame["trigger"].value_counts().rename(seed))
        for label, kw in variants.items():
            ev = evaluate_alerts(alerts, sim.truth, sim.portfolio, **kw)
            rows.append({"seed": seed, "evaluation": label,
                         **ev.to_frame().iloc[0][COLS].to_dict()})
        for label, kw in ablations.items():
            a = behaviour_alerts(sim.portfolio, as_of=AS_OF, **kw)
            ev = evaluate_alerts(a, sim.truth, sim.portfolio)
            rows.append({"seed": seed, "evaluation": f"ablation: {label}",
                         **ev.to_frame().iloc[0][COLS].to_dict()})
        curve = alert_tradeoff(sim.portfolio, sim.truth, as_of=AS_OF, thresholds=THRESHOLDS)
        curves.append(curve.assign(seed=seed))
    table = pd.DataFrame(rows)
    print(f"## Figures at the default h = {AlertParams().h:g}\n")
    print(markdown(table[["seed", "evaluation", "precision", "recall", "median_lead_days",
                          "n_alerts", "n_positives", "n_eligible"]]))
    print("\n## Trade-off over h\n")
    wide = pd.concat(curves).pivot_table(index="h", columns="seed",
                                         values=["precision", "recall", "median_lead_days"])
    wide.columns = [f"{m} s{s}" for m, s in wide.columns]
    print(markdown(wide.reset_index()))
    print("\n## Signal whose report raised the alert (counts)\n")
    print(markdown(pd.concat(triggers, axis=1).fillna(0).astype(int).reset_index()))


def speed() -> None:
    sim = simulate(50_000, example_strategies()["nudge_then_firm"], seed=1,
                   start="2023-11-01", end="2026-03-31")
    pt = sim.portfolio.payment_times(as_of="2026-03-31")
    t0, c0 = time.perf_counter(), time.process_time()
    res = behaviour_alerts(pt, as_of="2026-03-31", params=AlertParams(),
                           payments=sim.portfolio.payments)
    print(f"behaviour_alerts on {len(pt):,} invoices / 50,000 customers (payment times "
          f"and payments given): {time.perf_counter() - t0:.2f} s wall, "
          f"{time.process_time() - c0:.2f} s CPU, {len(res.frame)} alerts")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="3,11,12,21")
    parser.add_argument("--speed", action="store_true")
    args = parser.parse_args()
    figures([int(s) for s in args.seeds.split(",")])
    if args.speed:
        speed()
