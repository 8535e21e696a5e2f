"""Benchmark: KM + log-rank + RMST difference + Cox (3 categorical covariates) on 10M invoices.

Two paths on the same Parquet file, each in its own process (so peak memory is its own):

- ``agg``: the package's aggregated path. DuckDB reduces the Parquet file to counts per
  (arm, segment, channel, day, paid); Kaplan–Meier, log-rank, RMST(90) difference and the
  Efron Cox model run on those counts (``weight_col="n"``). Target: <= 5 s, <= 1 GB peak.
- ``rows``: the fastest row-level lifelines fits of the same models, data loaded in pandas:
  ``KaplanMeierFitter`` per arm, ``multivariate_logrank_test``,
  ``restricted_mean_survival_time`` (point estimate only: its ``return_variance`` is the
  variance of min(T, tau), not of the estimate), ``CoxPHFitter(batch_mode=True)``.

The estimates are compared (max absolute differences) and everything is written to
``benchmarks/out/bench_survival.json``. Run by hand::

    .venv/bin/python benchmarks/bench_survival.py            # 10M invoices
    .venv/bin/python benchmarks/bench_survival.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
COVARIATES = ["arm", "segment", "channel"]
REFERENCE = {"arm": "control", "segment": "small", "channel": "email"}
TAU = 90


def make_data(path: Path, n: int, seed: int = 0, chunk: int = 2_000_000) -> None:
    """Whole-day payment times with proportional effects of arm, segment and channel."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    levels = {"arm": ["control", "t1", "t2"], "segment": ["small", "medium", "large", "public"],
              "channel": ["email", "portal", "mail", "edi"]}
    effects = {"arm": [0.0, 0.25, 0.1], "segment": [0.0, -0.2, -0.35, -0.5],
               "channel": [0.0, 0.1, -0.15, 0.05]}
    writer = None
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        cols, lin = {}, np.zeros(m)
        for name, lv in levels.items():
            code = rng.integers(0, len(lv), m)
            lin += np.asarray(effects[name])[code]
            cols[name] = pa.DictionaryArray.from_arrays(pa.array(code.astype(np.int32)), pa.array(lv))
        t = np.floor(rng.exponential(1 / (0.035 * np.exp(lin)))).astype(np.int32)
        c = rng.integers(100, 200, m).astype(np.int32)
        cols["duration"] = pa.array(np.minimum(t, c))
        cols["event"] = pa.array(t <= c)
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_agg(path: Path) -> dict:
    base = peak_mb()
    t0 = time.perf_counter()
    from collections_lab.survival import (
        count_table_duckdb,
        fit_cox_counts,
        kaplan_meier,
        logrank,
        rmst,
    )

    t_import = time.perf_counter() - t0
    times = {}
    t = time.perf_counter()
    counts = count_table_duckdb(path, [*COVARIATES, "duration", "event"])
    times["duckdb_counts"] = time.perf_counter() - t
    t = time.perf_counter()
    km = kaplan_meier(counts, by="arm", weight_col="n").to_frame()
    times["km"] = time.perf_counter() - t
    t = time.perf_counter()
    lr = logrank(counts, "arm", weight_col="n")
    times["logrank"] = time.perf_counter() - t
    t = time.perf_counter()
    rm = rmst(counts, TAU, by="arm", weight_col="n")
    diff = rm.difference("control")
    times["rmst"] = time.perf_counter() - t
    t = time.perf_counter()
    cox = fit_cox_counts(counts, COVARIATES, reference=REFERENCE).table
    times["cox"] = time.perf_counter() - t
    total = sum(times.values())
    return {
        "path": "aggregated (DuckDB counts)", "rows_in_counts": len(counts), "times": times,
        "total_s": total, "import_s": t_import, "peak_mb": peak_mb(), "peak_mb_before_import": base,
        "km": {g: s["survival"].tolist() for g, s in km.groupby("group")},
        "km_days": {g: s["day"].tolist() for g, s in km.groupby("group")},
        "logrank": lr.statistic, "rmst": rm.table.set_index("group")["rmst"].to_dict(),
        "rmst_diff": diff.set_index("group")[["difference", "se"]].to_dict(),
        "cox": cox.set_index("covariate")["coef"].to_dict(),
        "cox_se": cox.set_index("covariate")["se"].to_dict(),
    }


def run_rows(path: Path) -> dict:
    import warnings

    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test
    from lifelines.utils import restricted_mean_survival_time

    warnings.simplefilter("ignore")
    times = {}
    t = time.perf_counter()
    df = pd.read_parquet(path)
    times["load_pandas"] = time.perf_counter() - t
    t = time.perf_counter()
    fitters = {}
    for g, sub in df.groupby("arm", observed=True):
        fitters[g] = KaplanMeierFitter().fit(sub["duration"], sub["event"])
    times["km"] = time.perf_counter() - t
    t = time.perf_counter()
    lr = multivariate_logrank_test(df["duration"], df["arm"], df["event"])
    times["logrank"] = time.perf_counter() - t
    t = time.perf_counter()
    rm = {g: float(restricted_mean_survival_time(f, TAU)) for g, f in fitters.items()}
    times["rmst_point"] = time.perf_counter() - t
    t = time.perf_counter()
    X = pd.DataFrame({"duration": df["duration"].to_numpy(), "event": df["event"].to_numpy()})
    for c in COVARIATES:
        for lv in df[c].cat.categories:
            if lv != REFERENCE[c]:
                X[f"{c}={lv}"] = (df[c] == lv).to_numpy(dtype=float)
    del df
    times["cox_design"] = time.perf_counter() - t
    t = time.perf_counter()
    cph = CoxPHFitter().fit(X, "duration", "event", batch_mode=True,
                            fit_options={"precision": 1e-12, "r_precision": 1e-14})
    times["cox"] = time.perf_counter() - t
    fit_total = sum(v for k, v in times.items() if k not in ("load_pandas",))
    return {
        "path": "row-level lifelines (pandas)", "times": times, "total_s": fit_total,
        "total_with_load_s": sum(times.values()), "peak_mb": peak_mb(),
        "km": {g: f.survival_function_.iloc[1:, 0].tolist() if f.survival_function_.index[0] == 0
               and 0 not in f.event_table.index[f.event_table["observed"] + f.event_table["censored"] > 0]
               else f.survival_function_.iloc[:, 0].tolist() for g, f in fitters.items()},
        "km_days": {g: f.survival_function_.index.tolist() for g, f in fitters.items()},
        "logrank": float(lr.test_statistic), "rmst": rm,
        "cox": cph.params_.to_dict(), "cox_se": cph.standard_errors_.to_dict(),
    }


def compare(agg: dict, rows: dict) -> dict:
    km = 0.0
    for g, surv in agg["km"].items():
        ref = dict(zip(rows["km_days"][g], rows["km"][g], strict=False))
        if len(rows["km"][g]) != len(rows["km_days"][g]):  # lifelines adds time 0 row
            ref = dict(zip(rows["km_days"][g][1:], rows["km"][g], strict=False))
        km = max(km, max(abs(s - ref[d]) for d, s in zip(agg["km_days"][g], surv, strict=True)))
    return {
        "km_max_abs_diff": km,
        "logrank_abs_diff": abs(agg["logrank"] - rows["logrank"]),
        "rmst_max_abs_diff": max(abs(agg["rmst"][g] - rows["rmst"][g]) for g in agg["rmst"]),
        "cox_coef_max_abs_diff": max(abs(agg["cox"][k] - rows["cox"][k]) for k in agg["cox"]),
        "cox_se_max_abs_diff": max(abs(agg["cox_se"][k] - rows["cox_se"][k]) for k in agg["cox"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--mode", choices=["all", "agg", "rows"], default="all")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--skip-rows", action="store_true", help="only the aggregated path")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = args.data or OUT / f"payment_times_{args.n}.parquet"
    if args.mode == "agg":
        print(json.dumps(run_agg(data)))
        return
    if args.mode == "rows":
        print(json.dumps(run_rows(data)))
        return
    if not data.exists():
        t = time.perf_counter()
        make_data(data, args.n)
        print(f"generated {args.n:,} invoices in {time.perf_counter() - t:.1f} s -> {data}")

    def child(mode):
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--data", str(data)],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    agg = child("agg")
    result = {"n": args.n, "agg": {k: v for k, v in agg.items() if not k.startswith("km")}}
    print(f"aggregated: {agg['total_s']:.2f} s (steps {agg['times']}), peak {agg['peak_mb']:.0f} MB, "
          f"{agg['rows_in_counts']} count rows")
    if not args.skip_rows:
        rows = child("rows")
        cmp = compare(agg, rows)
        result.update(rows={k: v for k, v in rows.items() if not k.startswith("km")}, comparison=cmp,
                      speedup=rows["total_s"] / agg["total_s"])
        print(f"row-level lifelines: {rows['total_s']:.2f} s fits (+{rows['times']['load_pandas']:.1f} s "
              f"load; steps {rows['times']}), peak {rows['peak_mb']:.0f} MB")
        print(f"ratio rows/agg: {result['speedup']:.1f}x; differences: {cmp}")
    (OUT / "bench_survival.json").write_text(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
