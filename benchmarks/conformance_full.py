"""Long statistical conformance run of the experiment engine (by hand, not in CI).

Runs on the behaviour simulator, with censoring and clustered invoices:

- 2,000 A/A experiments (~20,000 invoices each): false-positive rate of every test at
  alpha 0.05 (band [0.04, 0.06]), the naive invoice-level and drop-open tests alongside;
- 2,000 experiments with a real effect: 95% interval coverage (band [0.935, 0.965]);
- 2,000 A/A experiments with weekly peeks over 8 weeks: alpha spending <= 0.05, naive
  repeated testing above it;
- mixed 15/60-day payment terms (synthetic generator, behaviour depending on the terms):
  A/A, coverage and power of the "by due + d" metrics;
- for P(paid by due + 15), the hazard ratio (Schoenfeld + design effect) and the RMST
  difference: 2,000 experiments at the size a pilot says gives 70% power; simulated
  power within 3 points of the design function's prediction.

Writes ``conformance/REPORT.md`` (each section as soon as it is done, so a partial run
still leaves its results) and prints the tables.

Usage: ``.venv/bin/python benchmarks/conformance_full.py [--n 2000] [--jobs 2] [--only aa]``
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import pandas as pd

from collections_lab.experiments.conformance import (
    ConformanceReport,
    aa_false_positive_rates,
    coverage_rates,
    mixed_terms_checks,
    power_checks,
    sequential_false_positive_rates,
)

OUT = Path(__file__).resolve().parent.parent / "conformance" / "REPORT.md"
BANDS = {"aa": (0.04, 0.06), "coverage": (0.935, 0.965)}


def _write(report: ConformanceReport, n: int, header: str, out: Path = OUT) -> None:
    out.parent.mkdir(exist_ok=True)
    text = report.to_markdown().replace(f"# {report.title}\n",
                                        f"# {report.title}\n\n{header}\n", 1)
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description="long conformance run")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", choices=["aa", "coverage", "sequential", "power", "mixed"],
                        nargs="*")
    parser.add_argument("--out", type=Path, default=OUT, help="Markdown report to write")
    args = parser.parse_args()
    parts = set(args.only or ["aa", "coverage", "sequential", "power", "mixed"])
    empty = pd.DataFrame()
    report = ConformanceReport(empty, empty, empty, empty)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=OUT.parent,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    header = (f"Run {pd.Timestamp.now('UTC'):%Y-%m-%d %H:%M} UTC on commit {commit}, "
              f"parts {sorted(parts)}, {args.n} simulated "
              f"experiments per check, seed {args.seed}, machine: 2 cores / 24 GB. Bands: "
              f"A/A false-positive rate {BANDS['aa']}, coverage {BANDS['coverage']}, "
              "sequential <= 0.05, power within 0.03 of the design prediction. "
              "mc_se is the Monte-Carlo standard error of each rate.")
    steps = [("aa", "false_positive", lambda: aa_false_positive_rates(
                 args.n, seed=args.seed, n_jobs=args.jobs)),
             ("coverage", "coverage", lambda: coverage_rates(
                 args.n, seed=args.seed, n_jobs=args.jobs)),
             ("sequential", "sequential", lambda: sequential_false_positive_rates(
                 args.n, seed=args.seed, n_jobs=args.jobs)),
             ("power", "power", lambda: power_checks(args.n, seed=args.seed,
                                                     n_jobs=args.jobs))]
    for key, attr, run in steps:
        if key not in parts:
            continue
        t0 = time.perf_counter()
        table = run()
        report.seconds[key] = time.perf_counter() - t0
        setattr(report, attr, table)
        print(f"== {key} ({report.seconds[key]:.0f} s)\n{table.to_string()}", flush=True)
        _write(report, args.n, header, args.out)
    if "mixed" in parts:  # mixed payment terms (synthetic generator): rows appended
        t0 = time.perf_counter()
        mixed = mixed_terms_checks(args.n, seed=args.seed)
        report.seconds["mixed"] = time.perf_counter() - t0
        for attr, table in mixed.items():
            setattr(report, attr, pd.concat([getattr(report, attr), table], ignore_index=True))
            print(f"== mixed terms: {attr}\n{table.to_string()}", flush=True)
        _write(report, args.n, header, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
