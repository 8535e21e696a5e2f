"""The engine path at scale (issue 19): a Parquet lake through DuckDB (and Spark).

    .venv/bin/python benchmarks/bench_engine.py                      # 1M and 10M, DuckDB
    .venv/bin/python benchmarks/bench_engine.py --sizes 100000 --check  # small, + pandas check
    .venv/bin/python benchmarks/bench_engine.py --sizes 10000000 --spark  # + Spark local[2]
    .venv/bin/python benchmarks/bench_engine.py --sizes 100000000      # by hand, idle machine

For each size a lake is written with :func:`simulate_to_parquet` (a two-arm experiment,
about 12 invoices per customer over 2025; kept in ``--lake-dir`` and reused), then each
step runs in a fresh subprocess (so its peak memory, max RSS including DuckDB's, is its
own) through :mod:`collections_lab.data.warehouse`:

- ``payment_times``: the payment-times expression counted in the engine (every join,
  running sum and censoring evaluated, nothing fetched);
- ``survival``: one count table (arm, segment, channel, duration, event) fetched, then
  Kaplan–Meier, stratified log-rank, RMST (90 days) and Cox on three categorical
  covariates from it (:func:`~collections_lab.survival.warehouse.survival_suite`);
- ``kpis``: :func:`~collections_lab.analytics.warehouse.kpi_snapshot_engine` by segment
  and :func:`~collections_lab.analytics.warehouse.monthly_trends_engine` (one query per
  month end);
- ``readout``: the experiment's readout from engine aggregates
  (:func:`~collections_lab.experiments.warehouse.compare_arms_engine`: paid and cash by
  due + 15 per terms group, escalation, RMST, median, hazard ratio, discount cost, churn
  and net value with CR2 standard errors, stratified by segment as randomised): a counts table
  per (arm, terms, day, outcome) and a customer table of summed influence values come
  back, never the invoices.

``--check`` also runs the pandas path on the same lake and reports the largest relative
difference (targets 1e-10); use it up to ~1M invoices. Record results in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

AS_OF = "2026-01-31"
INVOICES_PER_CUSTOMER = 12
STEPS = ("payment_times", "survival", "kpis", "readout")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_lake(folder: Path, n_invoices: int) -> Path:
    """The simulated lake for ``n_invoices`` (reused when already written)."""
    import collections_lab as cl
    from collections_lab.model.simulation import simulate_to_parquet

    lake = folder / f"lake_{n_invoices}"
    if (lake / "invoices.parquet").exists():
        return lake
    strategies = cl.example_strategies()
    experiment = cl.Experiment(
        "bench", {"control": strategies["one_friendly_after_due"],
                  "treatment": strategies["nudge_then_firm"]},
        control="control", stratify_by="segment")
    t0 = time.perf_counter()
    simulate_to_parquet(lake, n_invoices // INVOICES_PER_CUSTOMER, experiment, seed=1,
                        start="2025-01-01", end="2025-12-31", progress=False,
                        assigned_at="2025-01-01")
    print(f"  lake of ~{n_invoices:,} invoices written in {time.perf_counter() - t0:.1f} s",
          flush=True)
    return lake


def _source(lake: Path, engine: str):
    if engine == "spark":
        from collections_lab.data.warehouse import spark_session

        session = spark_session("local[2]", "bench_engine", spark_driver_memory="3g")
        for name in ("customers", "invoices", "reminders", "payments", "assignments"):
            session.read.parquet(str(lake / f"{name}.parquet")).createOrReplaceTempView(name)
        return session
    return lake


def run_step(lake: Path, step: str, engine: str, threads: int | None) -> dict:
    """One step in this process; returns seconds, peak memory and a result digest."""
    import ibis

    from collections_lab.data.warehouse import connect

    ibis.duckdb  # noqa: B018 - load the backend (and its imports) before the clock starts
    source = _source(lake, engine)
    t0 = time.perf_counter()
    wh = connect(source)
    if engine == "duckdb" and threads:
        wh.con.raw_sql(f"SET threads = {int(threads)}")
    digest: dict = {}
    if step == "payment_times":
        digest["rows"] = int(wh.con.execute(wh.payment_times(AS_OF).count()))
    elif step == "survival":
        from collections_lab.survival.warehouse import survival_suite

        suite = survival_suite(wh, as_of=AS_OF, by="arm", tau=90,
                               covariates=["arm", "segment", "channel"], strata="segment",
                               reference={"arm": "control"})
        digest = {"count_rows": len(suite["counts"]),
                  "invoices": int(suite["counts"]["n"].sum()),
                  "logrank": float(suite["logrank"].statistic),
                  "rmst": suite["rmst"].to_frame()["rmst"].round(10).tolist(),
                  "cox": suite["cox"].table["coef"].round(10).tolist()}
    elif step == "kpis":
        from collections_lab.analytics.warehouse import (
            kpi_snapshot_engine,
            monthly_trends_engine,
        )

        snap = kpi_snapshot_engine(wh, AS_OF, by="segment").to_frame()
        trends = monthly_trends_engine(wh, AS_OF, by="segment").to_frame()
        digest = {"groups": len(snap), "trend_rows": len(trends),
                  "dso": snap["dso"].round(10).tolist(),
                  "cei": snap["cei"].round(10).tolist()}
    elif step == "readout":
        import warnings

        from collections_lab.experiments.warehouse import compare_arms_engine

        with warnings.catch_warnings():  # a 100k lake has < 300 customers in no arm
            warnings.simplefilter("ignore", UserWarning)
            effects = compare_arms_engine(wh, as_of=AS_OF, stratified_by="segment")
        digest = {"customers": effects[0].n_customers,
                  "effects": {e.metric: [round(e.estimate, 10), round(e.se, 10)]
                              for e in effects}}
    seconds = time.perf_counter() - t0
    return {"step": step, "engine": engine, "seconds": round(seconds, 2),
            "peak_mb": round(peak_mb()), **digest}


def check_pandas(lake: Path) -> dict:
    """Largest relative differences engine vs pandas on the same lake (small lakes)."""
    import numpy as np

    from collections_lab.analytics.kpis import kpi_snapshot
    from collections_lab.analytics.warehouse import kpi_snapshot_engine
    from collections_lab.data.loading import load_portfolio
    from collections_lab.data.warehouse import connect
    from collections_lab.survival.aggregated import count_table
    from collections_lab.survival.warehouse import engine_counts

    portfolio = load_portfolio(lake)
    wh = connect(lake)
    ref = portfolio.payment_times(AS_OF).sort_values("invoice_id").reset_index(drop=True)
    got = wh.payment_times_frame(AS_OF)
    out = {}
    for col in ("duration", "days_late", "outcome_code", "paid_amount", "n_reminders"):
        a, b = got[col].to_numpy(float), ref[col].to_numpy(float)
        out[f"payment_times.{col}"] = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1)))
    cols = ["arm", "segment", "channel", "duration", "event"]
    out["counts_equal"] = bool(engine_counts(wh, cols, AS_OF).equals(count_table(ref, cols)))
    a = kpi_snapshot_engine(wh, AS_OF, by="segment").to_frame()
    b = kpi_snapshot(portfolio, AS_OF, by="segment").to_frame()
    for col in ("receivables", "dso", "dso_countback", "cei", "at_risk_rate"):
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        out[f"kpi.{col}"] = float(np.nanmax(np.abs(x - y) / np.maximum(np.abs(y), 1e-300)))
    out.update(check_readout(wh, portfolio))
    return out


def check_readout(wh, portfolio) -> dict:
    """Largest relative difference of the engine readout's figures from compare_arms'."""
    import warnings

    import numpy as np

    from collections_lab.experiments.data import ExperimentData, assigned_units
    from collections_lab.experiments.metrics import compare_arms
    from collections_lab.experiments.warehouse import ENGINE_METRICS, compare_arms_engine

    units = assigned_units(portfolio.assignments, portfolio.customers, {"segment"})
    frame = portfolio.payment_times(AS_OF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = compare_arms(ExperimentData.from_frame(frame, stratified_by="segment",
                                                     assignments=units),
                           metrics=list(ENGINE_METRICS))
        got = compare_arms_engine(wh, as_of=AS_OF, stratified_by="segment")
    worst = {}
    for field in ("estimate", "se", "df", "p_value"):
        x = np.array([getattr(e, field) for e in got], float)
        y = np.array([getattr(e, field) for e in ref], float)
        both = np.isfinite(x) & np.isfinite(y)
        same_nan = bool(np.array_equal(np.isnan(x), np.isnan(y)))
        rel = np.abs(x[both] - y[both]) / np.maximum(np.abs(y[both]), 1e-300)
        worst[f"readout.{field}"] = float(rel.max()) if same_nan and both.any() else float("nan")
    return worst


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--lake-dir", type=Path, default=Path("/tmp/collections_lab_lakes"))
    parser.add_argument("--spark", action="store_true", help="also run every step on Spark")
    parser.add_argument("--check", action="store_true", help="compare with the pandas path")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads")
    parser.add_argument("--one", nargs=4, metavar=("LAKE", "STEP", "ENGINE", "THREADS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        lake, step, engine, threads = args.one
        print(json.dumps(run_step(Path(lake), step, engine, int(threads) or None)))
        return
    args.lake_dir.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        print(f"== {size:,} invoices", flush=True)
        lake = write_lake(args.lake_dir, size)
        engines = ["duckdb", "spark"] if args.spark else ["duckdb"]
        for engine in engines:
            total = 0.0
            for step in STEPS:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", str(lake), step, engine,
                     str(args.threads or 0)], capture_output=True, text=True, check=False)
                if proc.returncode:
                    print(f"  {engine} {step}: FAILED\n{proc.stderr[-2000:]}", flush=True)
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                total += row["seconds"]
                print(f"  {json.dumps(row)}", flush=True)
            print(f"  {engine} total {total:.1f} s", flush=True)
        if args.check:
            print(f"  pandas check: {json.dumps(check_pandas(lake))}", flush=True)


if __name__ == "__main__":
    main()
