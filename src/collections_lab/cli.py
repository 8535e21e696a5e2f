"""The ``collections-lab`` command: run report notebooks, batches, list them, sample data.

Examples
--------
::

    collections-lab list
    collections-lab report 01_portfolio_health -p lang es -p as_of 2025-06-30
    collections-lab run-batch reports/weekly.yml --jobs 2
    collections-lab sample-data --out data/sample --seed 7
    collections-lab mapping draft export.csv --out mapping.yml
    collections-lab check export.csv -p mapping mapping.yml

Exit status: 0 when every report succeeded, 1 when any failed (details in
``reports/index.html`` and on stderr), 2 for a usage error, 130 when interrupted
(Ctrl-C) and 143 when stopped by SIGTERM (both recorded as failed runs).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collections-lab",
        description="Run collections_lab report notebooks and publish offline HTML reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def dirs(p, reports=True):
        p.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                       help="notebooks directory (default: the project's notebooks/)")
        if reports:
            p.add_argument("--reports-dir", type=Path, default=None, metavar="DIR",
                           help="output directory (default: the project's reports/)")

    rep = sub.add_parser("report", help="run one report notebook and publish its HTML")
    rep.add_argument("name", help="notebook name (e.g. 01_portfolio_health) or .ipynb path")
    rep.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("KEY", "VALUE"),
                     help="a parameter the notebook declares; VALUE is read as YAML "
                          "(12, true, null, [a, b]); repeatable")
    rep.add_argument("--report", default=None, metavar="NAME",
                     help="output name under the reports directory (default: notebook name)")
    rep.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                     help="seconds one cell may run (default 600)")
    dirs(rep)

    bat = sub.add_parser("run-batch", help="run the reports listed in a YAML batch file")
    bat.add_argument("file", type=Path, help="batch file, e.g. reports/weekly.yml")
    bat.add_argument("--jobs", type=int, default=None, help="reports run at once")
    bat.add_argument("--only", nargs="+", default=None, metavar="REPORT",
                     help="run only these reports of the batch")
    dirs(bat)

    lst = sub.add_parser("list", help="list report notebooks and their declared parameters")
    dirs(lst, reports=False)

    mp = sub.add_parser("mapping", help="draft a column mapping for a new export")
    mp_sub = mp.add_subparsers(dest="mapping_command", required=True, metavar="ACTION")
    dr = mp_sub.add_parser("draft", help="propose a mapping from column names and values")
    dr.add_argument("export", type=Path, help="a flat file (CSV, Excel, Parquet) or a folder "
                                              "of tables")
    dr.add_argument("--out", type=Path, default=None, metavar="FILE",
                    help="write the mapping here (default: print it)")

    chk = sub.add_parser("check", help="load an export and say which reports it can feed")
    chk.add_argument("data", help="folder, flat file, DuckDB file or database URL")
    chk.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("KEY", "VALUE"), help="mapping FILE_OR_PRESET, as_of DATE")

    sam = sub.add_parser("sample-data", help="write the simulated sample portfolio")
    sam.add_argument("--out", type=Path, required=True, metavar="DIR")
    sam.add_argument("--seed", type=int, default=None)
    return parser


def _print_run(run) -> None:
    if run.ok:
        size = f"{run.html_bytes / 1024:,.0f} KB" if run.html_bytes else ""
        print(f"ok      {run.report:<28} {run.duration_s:6.1f} s  {run.html_path}  {size}",
              flush=True)
    else:
        where = (f" (kept {Path(run.reports_dir) / run.failed_ipynb})"
                 if run.failed_ipynb else "")
        print(f"FAILED  {run.report:<28} {run.duration_s:6.1f} s  {run.error}{where}",
              file=sys.stderr, flush=True)


def _cmd_report(args) -> int:
    from .reporting.parameters import parse_value
    from .reporting.runner import DEFAULT_TIMEOUT, run_report

    params: dict = {}
    for key, value in args.parameter:
        if key in params:
            raise SystemExit(f"collections-lab: parameter {key!r} given twice")
        params[key] = parse_value(value)
    run = run_report(args.name, params, report=args.report, notebooks_dir=args.notebooks,
                     reports_dir=args.reports_dir,
                     timeout=args.timeout or DEFAULT_TIMEOUT)
    _print_run(run)
    return 0 if run.ok else 1


def _cmd_batch(args) -> int:
    from .reporting.batch import run_batch

    result = run_batch(args.file, jobs=args.jobs, only=args.only,
                       notebooks_dir=args.notebooks, reports_dir=args.reports_dir,
                       on_result=_print_run)
    failed = [r.report for r in result.runs if not r.ok]
    total = sum(r.duration_s for r in result.runs)
    print(f"{len(result.runs) - len(failed)} of {len(result.runs)} reports ok "
          f"({total:.1f} s of runs)" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 0 if result.ok else 1


def _cmd_list(args) -> int:
    from .reporting.runner import list_notebooks

    frame = list_notebooks(args.notebooks)
    if frame.empty:
        print("no notebooks found")
        return 0
    for row in frame.itertuples():
        print(f"{row.notebook}  —  {row.title}\n    {row.parameters or '(no parameters)'}")
    return 0


def _cmd_sample(args) -> int:
    from .model.sample_data import write_sample  # lazy: the simulator is only needed here

    kwargs = {} if args.seed is None else {"seed": args.seed}
    written = write_sample(args.out, **kwargs)
    print(f"sample data written to {args.out}" + (f" ({len(written)} files)"
          if isinstance(written, list | tuple) else ""))
    return 0


def _cmd_mapping(args) -> int:
    from .data.drafting import draft_mapping

    draft = draft_mapping(args.export)
    if args.out is None:
        print(draft.to_yaml(), end="")
    else:
        draft.write(args.out)
        print(f"mapping drafted to {args.out}: {len(draft.confirm)} line(s) to confirm")
        for line in draft.confirm:
            print(f"  CONFIRM: {line}")
    return 0


def _cmd_check(args) -> int:
    from .reporting.check import check_data

    params = dict(args.parameter)
    unknown = set(params) - {"mapping", "as_of"}
    if unknown:
        raise SystemExit(f"collections-lab check: unknown parameter(s) {sorted(unknown)}; "
                         "use mapping and as_of")
    check = check_data(args.data, mapping=params.get("mapping"), as_of=params.get("as_of"))
    print("\n".join(check.lines()))
    return 0 if check.any_report else 1


#: Environment variable: set to 1 to see the traceback of an unexpected error.
DEBUG_ENV = "COLLECTIONS_LAB_DEBUG"


def _not_started(exc: BaseException) -> str:
    names = getattr(exc, "not_started", None)
    return f"; not started: {', '.join(names)}" if names else ""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``collections-lab`` console script; returns the exit status."""
    from .reporting.runner import ReportError, ReportTerminated

    args = _parser().parse_args(argv)
    commands = {"report": _cmd_report, "run-batch": _cmd_batch, "list": _cmd_list,
                "sample-data": _cmd_sample, "mapping": _cmd_mapping, "check": _cmd_check}
    try:
        return commands[args.command](args)
    except (ReportError, FileNotFoundError) as exc:
        print(f"collections-lab: {exc}", file=sys.stderr)
        return 1
    except ReportTerminated as exc:
        print("collections-lab: stopped by SIGTERM; the run is recorded as failed and "
              "the last good report kept" + _not_started(exc), file=sys.stderr)
        return 143  # 128 + SIGTERM, what a shell reports for a terminated command
    except KeyboardInterrupt as exc:
        print("collections-lab: interrupted; the run is recorded as failed and the last "
              "good report kept" + _not_started(exc), file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, not a traceback (set DEBUG_ENV for one)
        if os.environ.get(DEBUG_ENV):
            raise
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"collections-lab: {type(exc).__name__}: {text} (set {DEBUG_ENV}=1 for the "
              "traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
