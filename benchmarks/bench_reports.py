"""Benchmark the report runner: per-notebook overhead and the five weekly reports.

Run by hand (not in CI)::

    .venv/bin/python benchmarks/bench_reports.py            # overhead + weekly batch
    .venv/bin/python benchmarks/bench_reports.py --jobs 2   # the batch with 2 kernels

Measures
1. kernel overhead: a notebook with only a parameters cell (kernel start, papermill,
   HTML export) -- the floor every report pays;
2. import overhead: the same plus the imports a report makes (collections_lab, pandas,
   matplotlib, seaborn, lifelines, statsmodels);
3. a proxy report (sample loaded, payment times, summary, one figure, one table), alone
   and as a batch of five with 1 and 2 jobs;
4. the five reports of ``reports/weekly.yml`` on the bundled sample data, each with its
   duration and HTML size (written to ``benchmarks/out/reports``, not ``reports/``).
Target: the five reports in <= 90 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from collections_lab.reporting.batch import run_batch
from collections_lab.reporting.runner import run_report

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
IMPORTS = ("import collections_lab, pandas, matplotlib.pyplot, seaborn, lifelines, "
           "statsmodels.api")
#: A stand-in for a thin report: imports, the sample loaded through the shared helper,
#: payment times, a summary, one figure and one table.
PROXY = """import matplotlib.pyplot as plt
from collections_lab.reporting.notebook import (load_report_data, resolve_as_of,
                                                 show_figure, show_summary)
portfolio = load_report_data(None, None, None, lang=lang)
pt = portfolio.payment_times(as_of=resolve_as_of(portfolio, None))
show_summary([f"{pt.event.mean():.0%} of invoices paid in full"], lang)
fig, ax = plt.subplots(figsize=(6, 3))
pt.days_late.clip(-30, 120).hist(ax=ax, bins=50)
ax.set_title("Days late")
show_figure(fig)
pt.groupby("segment")[["amount", "days_late"]].mean()
"""


def _notebook(folder: Path, name: str, code: str | None) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('lang = "en"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params]
    if code:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, folder / f"{name}.ipynb")
    return name


def overhead(repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = {"empty": _notebook(folder, "empty", None),
                 "imports": _notebook(folder, "imports", IMPORTS),
                 "proxy": _notebook(folder, "proxy", PROXY)}
        times: dict[str, list[float]] = {k: [] for k in names}
        for _ in range(repeat):
            for key, name in names.items():
                run = run_report(name, {}, notebooks_dir=folder, reports_dir=folder / "out")
                assert run.ok, run.error
                times[key].append(run.duration_s)
    return {k: {"median_s": statistics.median(v), "runs_s": v} for k, v in times.items()}


def proxies(jobs: int) -> dict:
    """Five copies of the proxy report as one batch (the floor for the weekly five)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _notebook(folder, "proxy", PROXY)
        batch = folder / "batch.yml"
        batch.write_text("reports_dir: out\nreports:\n" + "".join(
            f"  - {{notebook: proxy, report: proxy{i}}}\n" for i in range(5)))
        start = time.perf_counter()
        result = run_batch(batch, jobs=jobs, notebooks_dir=folder)
        wall = time.perf_counter() - start
        assert result.ok, [r.error for r in result.runs]
        sizes = [r.html_bytes for r in result.runs]
    return {"jobs": jobs, "wall_s": round(wall, 1), "html_kb": round(max(sizes) / 1024, 1)}


def weekly(jobs: int) -> dict:
    out = OUT / f"reports-jobs{jobs}"
    start = time.perf_counter()
    result = run_batch(ROOT / "reports" / "weekly.yml", jobs=jobs, reports_dir=out)
    wall = time.perf_counter() - start
    rows = [
        {"report": r.report, "status": r.status, "duration_s": r.duration_s,
         "html_kb": round((r.html_bytes or 0) / 1024, 1), "error": r.error}
        for r in result.runs
    ]
    return {"jobs": jobs, "wall_s": round(wall, 1), "reports": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-overhead", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"python": sys.version.split()[0]}
    if not args.skip_overhead:
        results["overhead"] = overhead(args.repeat)
        o = results["overhead"]
        print(f"kernel + papermill + export (empty notebook): {o['empty']['median_s']:.2f} s")
        print(f"... plus report imports:                       {o['imports']['median_s']:.2f} s")
        print(f"proxy report (sample load, summary, figure):   {o['proxy']['median_s']:.2f} s")
        results["proxies"] = [proxies(jobs) for jobs in args.jobs]
        for p in results["proxies"]:
            print(f"five proxy reports, jobs={p['jobs']}: {p['wall_s']:.1f} s wall, "
                  f"{p['html_kb']:.0f} KB each")
    results["weekly"] = []
    for jobs in args.jobs:
        w = weekly(jobs)
        results["weekly"].append(w)
        print(f"\nweekly batch, jobs={jobs}: {w['wall_s']:.1f} s wall")
        for row in w["reports"]:
            extra = f"{row['html_kb']:.0f} KB" if row["status"] == "ok" else row["error"]
            print(f"  {row['report']:<24} {row['status']:<7} {row['duration_s']:6.1f} s  {extra}")
    (OUT / "bench_reports.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
