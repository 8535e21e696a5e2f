"""The engine path at scale (issue 19): a Parquet lake through DuckDB (and Spark).

    .venv/bin/python benchmarks/bench_engine.py                      # 1M and 10M, DuckDB
    .venv/bin/python benchmarks/bench_engine.py --sizes 100000 --check  # small, + pandas check
    .venv/bin/python benchmarks/bench_engine.py --sizes 10000000 --spark  # + Spark local[2]
    .venv/bin/python benchmarks/bench_engine.py --sizes 100000000 --materialize --floor

For each size a lake is written with :func:`simulate_to_parquet` (a two-arm experiment,
about 12 invoices per customer over 2025; kept in ``--lake-dir`` and reused), then all
steps run in ONE fresh subprocess (a user's session: one DuckDB connection with
``--threads`` (2), ``--memory-limit`` (2GB), a spill folder and insertion order off),
each timed in wall and CPU seconds (every thread of the process) with the load average
and the process's peak RSS so far, through :mod:`collections_lab.data.warehouse`:

- ``connect``: open the lake, read the data's last date;
- ``payment_times``: the payment-times expression counted in the engine (every join,
  running sum and censoring evaluated, nothing fetched); with ``--materialize`` the
  frame's analysis columns stored once as a DuckDB temporary table that the later steps
  read (:meth:`~collections_lab.data.warehouse.Warehouse.materialize`);
- ``survival``: one count table (arm, segment, channel, duration, event) fetched, then
  Kaplan–Meier, stratified log-rank, RMST (90 days) and Cox on three categorical
  covariates from it (:func:`~collections_lab.survival.warehouse.survival_suite`);
- ``kpi_snapshot``, ``monthly_trends``:
  :func:`~collections_lab.analytics.warehouse.kpi_snapshot_engine` and
  :func:`~collections_lab.analytics.warehouse.monthly_trends_engine` by segment (the
  balances at every month end in one query; sales, settlements and at-risk sums shared);
- ``readout``: the experiment's readout from engine aggregates
  (:func:`~collections_lab.experiments.warehouse.compare_arms_engine`: paid and cash by
  due + 15 per terms group, escalation, RMST, median, hazard ratio, discount cost, churn
  and net value with CR2 standard errors, stratified by segment as randomised): a counts table
  per (arm, terms, day, outcome) and a customer table of summed influence values come
  back, never the invoices.

``--floor`` first times the bare DuckDB join (invoices to payments, summed per invoice).
``--check`` also runs the pandas path on the same lake and reports the largest relative
difference (targets 1e-10); use it up to ~1M invoices. Record results in
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2026-01-31"
INVOICES_PER_CUSTOMER = 12


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


#: Columns of the payment-times frame the survival suite and the readout read (kept when
#: ``--materialize`` stores the frame once in the engine).
KEPT = ["customer_id", "arm", "segment", "channel", "issue_day", "due_day", "amount",
        "duration", "days_late", "event", "paid_amount", "discount_amount",
        "outcome_code", "currency"]  # the readout's too (READOUT_COLUMNS; no reminder cost)


def _clock():
    return time.perf_counter(), time.process_time()


def _since(start, **digest) -> dict:
    wall, cpu = time.perf_counter() - start[0], time.process_time() - start[1]
    return {"seconds": round(wall, 2), "cpu_s": round(cpu, 2),
            "load": round(os.getloadavg()[0], 1), "peak_mb": round(peak_mb()), **digest}


def run_steps(lake: Path, engine: str, threads: int | None, memory_limit: str | None,
              materialize: bool) -> list[dict]:
    """Every step in this one process (a user's session: one connection, the payment-times
    frame optionally computed once); per step wall and CPU seconds (all threads of the
    process, DuckDB's included), the 1-minute load average and the process's peak so far."""
    import ibis

    from collections_lab.data.warehouse import connect

    ibis.duckdb  # noqa: B018 - load the backend (and its imports) before the clock starts
    source = _source(lake, engine)
    rows = []
    start = _clock()
    wh = connect(source)
    if engine == "duckdb":
        spill = Path(tempfile.mkdtemp(prefix="cl_spill_"))
        atexit.register(shutil.rmtree, spill, True)
        settings = {"preserve_insertion_order": False, "temp_directory": str(spill)}
        if threads:
            settings["threads"] = int(threads)
        if memory_limit:
            settings["memory_limit"] = memory_limit
        wh.configure(**settings)
    wh.data_end()
    rows.append({"step": "connect", **_since(start)})

    start = _clock()
    if materialize:
        table = wh.materialize(AS_OF, columns=KEPT)
        n_rows = int(wh.con.execute(table.count()))
    else:
        n_rows = int(wh.con.execute(wh.payment_times(AS_OF).count()))
    rows.append({"step": "payment_times", **_since(start, rows=n_rows)})

    from collections_lab.survival.warehouse import survival_suite

    start = _clock()
    suite = survival_suite(wh, as_of=AS_OF, by="arm", tau=90,
                           covariates=["arm", "segment", "channel"], strata="segment",
                           reference={"arm": "control"})
    rows.append({"step": "survival", **_since(
        start, count_rows=len(suite["counts"]), invoices=int(suite["counts"]["n"].sum()),
        logrank=float(suite["logrank"].statistic),
        rmst=suite["rmst"].to_frame()["rmst"].round(10).tolist(),
        cox=suite["cox"].table["coef"].round(10).tolist())})

    from collections_lab.analytics.warehouse import kpi_snapshot_engine, monthly_trends_engine

    start = _clock()
    snap = kpi_snapshot_engine(wh, AS_OF, by="segment").to_frame()
    rows.append({"step": "kpi_snapshot", **_since(
        start, groups=len(snap), dso=snap["dso"].round(10).tolist(),
        cei=snap["cei"].round(10).tolist())})
    start = _clock()
    trends = monthly_trends_engine(wh, AS_OF, by="segment").to_frame()
    rows.append({"step": "monthly_trends", **_since(
        start, trend_rows=len(trends), receivables=float(trends["receivables"].sum()))})

    import warnings

    from collections_lab.experiments.warehouse import compare_arms_engine

    start = _clock()
    with warnings.catch_warnings():  # a 100k lake has < 300 customers in no arm
        warnings.simplefilter("ignore", UserWarning)
        effects = compare_arms_engine(wh, as_of=AS_OF, stratified_by="segment")
    rows.append({"step": "readout", **_since(
        start, customers=effects[0].n_customers,
        effects={e.metric: [round(e.estimate, 10), round(e.se, 10)] for e in effects})})
    return [{"engine": engine, **row} for row in rows]


def floor(lake: Path, threads: int | None, memory_limit: str | None) -> dict:
    """The bare DuckDB floor: invoices joined to their payments on invoice_id and summed
    per invoice, counted (no window, no reminders, no customers): the least any
    payment-times frame costs on this machine."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    start = _clock()
    con.execute(f"""SELECT count(*), sum(s) FROM (
        SELECT i.invoice_id, sum(p.amount) AS s
        FROM read_parquet('{lake}/invoices.parquet') i
        LEFT JOIN read_parquet('{lake}/payments.parquet') p USING (invoice_id)
        GROUP BY i.invoice_id)""").fetchall()
    return {"engine": "duckdb", "step": "floor_join_sum", **_since(start)}


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
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit")
    parser.add_argument("--materialize", action="store_true",
                        help="compute the payment-times frame once (a DuckDB temp table)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the bare DuckDB invoices-payments join")
    parser.add_argument("--one", nargs=5, metavar=("LAKE", "ENGINE", "THREADS", "MEMORY",
                                                   "MATERIALIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--floor-one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        lake, engine, threads, memory, mat = args.one
        print(json.dumps(run_steps(Path(lake), engine, int(threads) or None,
                                   None if memory == "-" else memory, mat == "1")))
        return
    if args.floor_one:
        lake, threads, memory = args.floor_one
        print(json.dumps(floor(Path(lake), int(threads) or None,
                               None if memory == "-" else memory)))
        return
    args.lake_dir.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        print(f"== {size:,} invoices", flush=True)
        lake = write_lake(args.lake_dir, size)
        memory = args.memory_limit or "-"
        if args.floor:
            proc = subprocess.run([sys.executable, __file__, "--floor-one", str(lake),
                                   str(args.threads or 0), memory],
                                  capture_output=True, text=True, check=False)
            print(f"  {proc.stdout.strip() or proc.stderr[-2000:]}", flush=True)
        engines = ["duckdb", "spark"] if args.spark else ["duckdb"]
        for engine in engines:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--one", str(lake), engine, str(args.threads or 0),
                 memory, "1" if args.materialize else "0"],
                capture_output=True, text=True, check=False)
            if proc.returncode:
                print(f"  {engine}: FAILED\n{proc.stderr[-3000:]}", flush=True)
                continue
            rows = json.loads(proc.stdout.strip().splitlines()[-1])
            for row in rows:
                print(f"  {json.dumps(row)}", flush=True)
            print(f"  {engine} total {sum(r['seconds'] for r in rows):.1f} s wall, "
                  f"{sum(r['cpu_s'] for r in rows):.1f} CPU s, peak "
                  f"{max(r['peak_mb'] for r in rows):,} MB (process incl. imports "
                  f"{time.perf_counter() - t0:.1f} s)", flush=True)
        if args.check:
            print(f"  pandas check: {json.dumps(check_pandas(lake))}", flush=True)


if __name__ == "__main__":
    main()
