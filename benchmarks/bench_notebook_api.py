"""What an analyst waits for in a notebook on the bundled sample (issue 17; run by hand).

Usage: ``.venv/bin/python benchmarks/bench_notebook_api.py [--repeat 3] [--lab]``

Times the calls of the getting-started path on ``data/sample`` (2,000 customers, 25k
invoices) in one warm process, as a notebook kernel would run them after
``import collections_lab as cl``: ``load_sample`` / ``load_portfolio``,
``portfolio_health``, ``kaplan_meier`` and ``fit_cox`` by arm, the experiment readout
and (with ``--lab``) ``strategy_lab``. Targets: ``load_portfolio`` ≤ 1 s,
``portfolio_health`` ≤ 2 s, ``strategy_lab`` ≤ 10 s (issue 18's). The best of
``--repeat`` runs is reported (the machine is shared: the minimum is the least disturbed),
with the median beside it and the best run's CPU seconds (what a quiet machine would
take, for single-threaded code). Record the table in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("COLLECTIONS_LAB_REPORT", "1")  # no progress bars in the timings

import warnings  # noqa: E402

import collections_lab as cl  # noqa: E402

warnings.simplefilter("ignore")  # timings only: the small-sample notes are not the point

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
TARGETS = {"load_portfolio": 1.0, "portfolio_health": 2.0, "strategy_lab": 10.0}


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """Best and median wall seconds, and the CPU seconds of the best run (this process's
    own CPU time and its workers': on a machine shared with other work, the wait for a core is left out,
    so it approximates the wall time on a quiet machine for single-threaded code)."""
    def cpu_now() -> float:  # this process and its finished children (the lab's workers)
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), cpu_now()
        fn()
        runs.append((time.perf_counter() - start, cpu_now() - cpu))
    best = min(runs)
    return best[0], statistics.median(r[0] for r in runs), best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lab", action="store_true", help="also time strategy_lab")
    args = parser.parse_args()

    start = time.perf_counter()
    portfolio = cl.load_portfolio(SAMPLE)
    cl.portfolio_health  # noqa: B018  (imports the analysis packages once, untimed)
    cl.kaplan_meier  # noqa: B018
    cl.experiment_readout  # noqa: B018
    print(f"first load + imports: {time.perf_counter() - start:.2f} s")
    pt = portfolio.payment_times()
    calls = {
        "load_portfolio": lambda: cl.load_portfolio(SAMPLE),
        "load_sample": cl.load_sample,
        "payment_times": portfolio.payment_times,
        "kpi_snapshot": lambda: cl.kpi_snapshot(portfolio, "2026-05-31"),
        "portfolio_health": lambda: cl.portfolio_health(portfolio),
        "kaplan_meier by arm (clustered)": lambda: cl.kaplan_meier(pt, by="arm"),
        "fit_cox by arm (clustered)": lambda: cl.fit_cox(pt, ["arm"]),
        "analyse_experiment": lambda: cl.analyse_experiment(portfolio),
    }
    if args.lab:
        calls["strategy_lab"] = lambda: cl.strategy_lab(portfolio, SAMPLE, currency="EUR")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'call':34} {'best s':>7} {'median s':>9} {'CPU s':>6}  target (on best wall)")
    for name, fn in calls.items():
        best, median, cpu = timed(fn, 1 if name == "strategy_lab" else args.repeat)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"≤ {target:g} s {'ok' if best <= target else 'MISSED'}"
        print(f"{name:34} {best:7.2f} {median:9.2f} {cpu:6.2f}  {verdict}")


if __name__ == "__main__":
    main()
