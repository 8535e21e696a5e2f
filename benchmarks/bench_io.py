"""Benchmark: loading and validating, from each kind of source and as a whole portfolio.

Run by hand (not in CI)::

    .venv/bin/python benchmarks/bench_io.py            # 100k and 1M invoices, each source
    .venv/bin/python benchmarks/bench_io.py --quick    # 100k only
    .venv/bin/python benchmarks/bench_io.py --portfolio 1000000 [10000000 ...]

Sources: for each size a synthetic invoices table (11 columns, 5% disputed, a few
escalations) is written as: a plain CSV (``,``, ISO dates, decimal point), a Spanish-style
export (``;``, decimal comma with dot thousands, DD/MM/YYYY, Spanish column names, read
with the ``es_contable`` preset), Parquet, a DuckDB file and a SQLite database (via
SQLAlchemy), and read with ``load_table(..., "invoices", strict=True)``.

Portfolio (issue 14's target): a simulated portfolio of five CSV tables (about one
payment per invoice, 15% of invoices reminded, an experiment's assignments), streamed to
disk by :func:`write_portfolio_csv`, loaded and cross-validated by
``load_portfolio(folder, strict=True)``; in the same run, as the reference, pyarrow's
CSV reader reads the same five files as text (``pyarrow.csv.read_csv`` with every column
a string). The two alternate, three times each; the median of each is reported.

Each measurement runs in a fresh subprocess, so its peak memory (max RSS, including
Python and the imported libraries, read from ``VmHWM``) is its own. Times are wall-clock
(CPU seconds of the process are given too: on a shared machine they vary less).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SOURCES = ("csv", "csv_es", "parquet", "duckdb", "sqlite")


def make_invoices(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    issue = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), "D")
    escalated = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    esc = rng.random(n) < 0.03
    escalated[esc] = issue[esc] + pd.Timedelta(days=120)
    return pd.DataFrame({
        "invoice_id": [f"FV-{i:08d}" for i in range(n)],
        "customer_id": [f"C-{i % 20000:06d}" for i in range(n)],
        "issue_date": issue, "due_date": issue + pd.Timedelta(days=30),
        "amount": rng.gamma(2.0, 600_000.0, n).round(2), "currency": "COP",
        "disputed": rng.random(n) < 0.05, "channel": "email", "payment_link": rng.random(n) < 0.3,
        "escalated_at": escalated, "written_off_at": pd.Series(pd.NaT, index=range(n)),
    })  # fmt: skip


def write_sources(frame: pd.DataFrame, folder: Path) -> None:
    import duckdb
    import sqlalchemy as sa

    out = frame.copy()
    for col in ("issue_date", "due_date", "escalated_at", "written_off_at"):
        out[col] = frame[col].dt.strftime("%Y-%m-%d")
    out.to_csv(folder / "invoices.csv", index=False)
    es = pd.DataFrame({
        "Nº Factura": frame["invoice_id"], "Cliente": frame["customer_id"],
        "Fecha emisión": frame["issue_date"].dt.strftime("%d/%m/%Y"),
        "Fecha vencimiento": frame["due_date"].dt.strftime("%d/%m/%Y"),
        "Importe": [f"{a:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
                    for a in frame["amount"]],
        "Moneda": frame["currency"], "En disputa": np.where(frame["disputed"], "sí", "no"),
    })  # fmt: skip
    es.to_csv(folder / "facturas.csv", index=False, sep=";")
    frame.to_parquet(folder / "invoices.parquet", index=False)
    with duckdb.connect(str(folder / "ar.duckdb")) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE invoices AS SELECT * FROM frame")
    engine = sa.create_engine(f"sqlite:///{folder / 'ar.sqlite'}")
    frame.to_sql("invoices", engine, index=False, chunksize=50_000)
    engine.dispose()


def write_portfolio_csv(n_invoices: int, folder: Path, seed: int = 7) -> dict[str, int]:
    """A simulated portfolio of about ``n_invoices`` invoices as five CSV tables.

    One simulated block of ~10,000 invoices (with an experiment's assignments) is written
    once and repeated with fresh ids (``C0001`` -> ``C0003-0001`` in repeat 3), streamed to
    disk, so 10M invoices need no more memory than 10,000. Returns the data rows per table.
    """
    from collections_lab.model.plans import Experiment
    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import example_strategies

    strategies = example_strategies()
    names = list(strategies)[:2]
    plan = Experiment("bench", {n: strategies[n] for n in names})
    sim = simulate(850, plan, seed=seed, start="2025-01-01", end="2025-12-31")
    block = Path(tempfile.mkdtemp())
    sim.portfolio.save(block, fmt="csv")
    per_block = len(sim.portfolio.invoices)
    repeats = max(1, round(n_invoices / per_block))
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for path in sorted(block.glob("*.csv")):
        header, _, body = path.read_text(encoding="utf-8").partition("\n")
        with open(folder / path.name, "w", encoding="utf-8") as out:
            out.write(header + "\n")
            for r in range(repeats):
                out.write(body.replace("INV", f"I{r:04d}-").replace("C0", f"C{r:04d}-0"))
        counts[path.stem] = body.count("\n") * repeats
        path.unlink()
    block.rmdir()
    return counts


def load_one(folder: str, source: str) -> dict:
    from collections_lab.data.loading import load_table

    folder = Path(folder)
    args = {
        "csv": (folder / "invoices.csv", {}),
        "csv_es": (folder / "facturas.csv", {"mapping": "es_contable"}),
        "parquet": (folder / "invoices.parquet", {}),
        "duckdb": (folder / "ar.duckdb", {}),
        "sqlite": (f"sqlite:///{folder / 'ar.sqlite'}", {}),
    }[source]
    start = time.perf_counter()
    frame, report = load_table(args[0], "invoices", strict=True, **args[1])
    seconds = time.perf_counter() - start
    rss_mb = _peak_rss_mb()
    return {"source": source, "rows": len(frame), "seconds": round(seconds, 2),
            "max_rss_mb": round(rss_mb)}  # fmt: skip


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024


def portfolio_one(folder: str, what: str) -> dict:
    """One measurement in this (fresh) process: ``what`` is "pyarrow" or "load"."""
    folder = Path(folder)
    wall, cpu = time.perf_counter(), time.process_time()
    if what == "pyarrow":
        import pyarrow as pa
        import pyarrow.csv as pacsv

        rows = 0
        for path in sorted(folder.glob("*.csv")):
            names = path.open(encoding="utf-8").readline().rstrip("\n").split(",")
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string())))  # fmt: skip
            rows += table.num_rows
    else:
        from collections_lab.data.loading import load_portfolio

        portfolio = load_portfolio(folder, strict=True)
        rows = portfolio.load_report.rows_used
    return {"what": what, "rows": rows, "seconds": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "max_rss_mb": _peak_rss_mb()}  # fmt: skip


def bench_portfolio(sizes, repeats: int = 3) -> None:
    print("| invoices | rows (5 tables) | CSV MB | pyarrow read (s) | load + validate (s) | "
          "ratio | CPU s (pyarrow / load) | max RSS MB (pyarrow / load) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            counts = write_portfolio_csv(n, Path(tmp))
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob("*.csv")) / 2**20
            runs: dict[str, list[dict]] = {"pyarrow": [], "load": []}
            for _ in range(repeats):
                for what in ("pyarrow", "load"):
                    out = subprocess.run([sys.executable, __file__, "--child-portfolio", tmp,
                                          what], check=True, capture_output=True, text=True)  # fmt: skip
                    runs[what].append(json.loads(out.stdout.strip().splitlines()[-1]))
            assert all(r["rows"] == sum(counts.values()) for rs in runs.values() for r in rs)
            med = {w: {k: float(np.median([r[k] for r in rs])) for k in ("seconds", "cpu",
                                                                         "max_rss_mb")}
                   for w, rs in runs.items()}  # fmt: skip
            ref, load = med["pyarrow"], med["load"]
            print(f"| {counts['invoices']:,} | {sum(counts.values()):,} | {size_mb:,.0f} | "
                  f"{ref['seconds']:.2f} | {load['seconds']:.2f} | "
                  f"{load['seconds'] / ref['seconds']:.1f}x | {ref['cpu']:.2f} / "
                  f"{load['cpu']:.2f} | {ref['max_rss_mb']:,.0f} / {load['max_rss_mb']:,.0f} |",
                  flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--portfolio", nargs="+", type=int, metavar="INVOICES",
                        help="load a five-table CSV portfolio of about this many invoices")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-portfolio", nargs=2, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(load_one(*opts.child)))
        return
    if opts.child_portfolio:
        print(json.dumps(portfolio_one(*opts.child_portfolio)))
        return
    if opts.portfolio:
        bench_portfolio(opts.portfolio, opts.repeats)
        return
    sizes = (100_000,) if opts.quick else (100_000, 1_000_000)
    print("| invoices | source | load + validate (s) | rows/s | max RSS (MB) |")
    print("|---:|---|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            write_sources(make_invoices(n), Path(tmp))
            for source in SOURCES:
                out = subprocess.run([sys.executable, __file__, "--child", tmp, source],
                                     check=True, capture_output=True, text=True)  # fmt: skip
                r = json.loads(out.stdout.strip().splitlines()[-1])
                assert r["rows"] == n, r
                rate = n / r["seconds"]
                print(f"| {n:,} | {source} | {r['seconds']:.2f} | {rate:,.0f} | "
                      f"{r['max_rss_mb']:,} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
