"""A/A conformance on the behaviour simulator in chunks (a long run on a shared machine).

Each chunk simulates replicates ``first .. first + size − 1`` of ``--seed`` (the same runs
:func:`~collections_lab.experiments.conformance.aa_false_positive_rates` would draw in one
call) and saves its rows to ``conformance/aa_seed{seed}/chunk_{first}.csv.gz``, so an
interrupted run keeps what it finished; ``--report`` pools the saved chunks into the
false-positive table (rate and Monte-Carlo SE per metric and method).

Usage::

    nice -n 15 .venv/bin/python benchmarks/aa_chunks.py --seed 4151 --runs 4000 --chunk 250 --jobs 2
    .venv/bin/python benchmarks/aa_chunks.py --seed 4151 --report
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from collections_lab.experiments.conformance import (
    AA_STRATEGY,
    SimulationDesign,
    false_positive_table,
    run_replicates,
)

OUT = Path(__file__).resolve().parent.parent / "conformance"


def main() -> None:
    parser = argparse.ArgumentParser(description="A/A conformance in chunks")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--customers", type=int, default=2150)
    parser.add_argument("--report", action="store_true", help="pool the saved chunks")
    parser.add_argument("--reverse", action="store_true",
                        help="last chunk first (a second process sharing the run)")
    args = parser.parse_args()
    folder = OUT / f"aa_seed{args.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    if not args.report:
        arms = {"control": AA_STRATEGY, "treatment": AA_STRATEGY}
        firsts = list(range(0, args.runs, args.chunk))
        for first in reversed(firsts) if args.reverse else firsts:
            path = folder / f"chunk_{first:05d}.csv.gz"
            if path.exists() or path.with_suffix(".running").exists():
                continue
            path.with_suffix(".running").touch()
            t0, c0 = time.perf_counter(), time.process_time()
            rows = run_replicates(arms, min(args.chunk, args.runs - first), args.seed,
                                  SimulationDesign(n_customers=args.customers),
                                  n_jobs=args.jobs, first=first)
            rows.to_csv(path, index=False)
            path.with_suffix(".running").unlink()
            print(f"chunk {first}: {time.perf_counter() - t0:.0f} s wall, "
                  f"{time.process_time() - c0:.0f} s CPU (main process)", flush=True)
    parts = sorted(folder.glob("chunk_*.csv.gz"))
    rows = pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)
    table = false_positive_table(rows)
    print(f"seed {args.seed}: {rows['replicate'].nunique()} runs from {len(parts)} chunks")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
