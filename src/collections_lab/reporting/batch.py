"""Run a list of reports from a YAML batch file (the weekly schedule).

A batch file names the reports, their parameters and where notebooks and reports live
(relative to the batch file)::

    notebooks_dir: ../notebooks     # default: the project's notebooks/
    reports_dir: .                  # default: the project's reports/
    timeout: 900                    # seconds per cell (default 600)
    jobs: 1                         # reports run at once (kernels in parallel)
    lang: en                        # language of index.html: en (default) or es
    parameters: {lang: en}          # given to every report
    reports:
      - 01_portfolio_health
      - notebook: 04_experiment_readout
        report: readout_es          # output name (default: the notebook name)
        parameters: {lang: es, experiment_id: exp-2025-tone}

Relative paths in parameters are relative to the batch file. Every report runs even if
an earlier one failed; the batch fails if any report failed.

Example
-------
``run_batch("reports/weekly.yml")`` runs the file's reports; an entry whose parameters
are wrong fails on its own, before its kernel starts:

>>> import tempfile
>>> from pathlib import Path
>>> reports = Path(tempfile.mkdtemp())
>>> _ = (reports / "weekly.yml").write_text(
...     "reports: [{notebook: 01_portfolio_health, parameters: {as_of: 01/05/2026}}]")
>>> result = run_batch(reports / "weekly.yml", reports_dir=reports)
>>> result.ok, "ambiguous" in result.runs[0].error
(False, True)
"""

from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..i18n import LANGUAGES, ResultMixin, t
from . import paths
from .parameters import load_yaml, normalise_value
from .runner import (
    DEFAULT_TIMEOUT,
    ReportError,
    ReportTerminated,
    RunResult,
    check_writable,
    run_report,
    sigterm_as_interrupt,
)

_TOP_KEYS = {"notebooks_dir", "reports_dir", "timeout", "jobs", "lang", "parameters",
             "reports"}
_ENTRY_KEYS = {"notebook", "report", "parameters", "timeout"}


@dataclass
class BatchEntry:
    """One report of a batch: notebook, output name, parameters, per-cell timeout (s)."""

    notebook: str
    report: str
    parameters: dict = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT


@dataclass
class Batch:
    """A parsed batch file."""

    path: Path
    entries: list[BatchEntry]
    notebooks_dir: Path | None = None
    reports_dir: Path | None = None
    jobs: int = 1
    lang: str = "en"


@dataclass
class BatchResult(ResultMixin):
    """The runs of one batch; ``ok`` only if every report succeeded.

    Example:
        >>> ok = cl.RunResult("01_portfolio_health", "01.ipynb", "ok")
        >>> failed = cl.RunResult("02_time_to_payment", "02.ipynb", "failed", error="no data")
        >>> batch = cl.BatchResult([ok, failed])
        >>> batch.to_frame()[["report", "status"]].values.tolist()
        [['01_portfolio_health', 'ok'], ['02_time_to_payment', 'failed']]
    """

    runs: list[RunResult]
    title = "Batch run"

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    def headline(self, lang: str | None = None) -> str:
        """How many reports ran, succeeded and failed, and how long they took."""
        ok = sum(run.ok for run in self.runs)
        return t("batch.card", lang, n=len(self.runs), ok=ok, failed=len(self.runs) - ok,
                 seconds=f"{sum(r.duration_s for r in self.runs):.0f}")

    def to_frame(self) -> pd.DataFrame:
        cols = ["report", "status", "duration_s", "as_of", "html", "html_bytes", "error"]
        return pd.DataFrame([{c: getattr(r, c) for c in cols} for r in self.runs], columns=cols)


def _fail(path: Path, where: str, message: str) -> ReportError:
    return ReportError(f"{path}: {where}: {message}")


def load_batch(path: str | Path) -> Batch:
    """Parse and check a batch file; errors name the file and the entry."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"batch file not found: {path}")
    try:
        spec = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # a value YAML reads as an impossible date: 2025-02-30
        raise ReportError(f"{path}: a value cannot be read ({exc}); write dates as "
                          "YYYY-MM-DD with a real day") from None
    if not isinstance(spec, dict):
        raise _fail(path, "top level", "expected a mapping with a 'reports' list")
    unknown = set(spec) - _TOP_KEYS
    if unknown:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown)}; allowed {sorted(_TOP_KEYS)}")
    if not isinstance(spec.get("reports"), list) or not spec["reports"]:
        raise _fail(path, "reports", "expected a non-empty list of reports")
    base = path.parent
    defaults = spec.get("parameters") or {}
    if not isinstance(defaults, dict):
        raise _fail(path, "parameters", "expected a mapping of name: value")
    timeout = float(spec.get("timeout", DEFAULT_TIMEOUT))
    lang = str(spec.get("lang") or "en")
    if lang not in LANGUAGES:
        raise _fail(path, "lang", f"{lang!r} is not a report language; choose one of "
                                  f"{list(LANGUAGES)}")
    entries: list[BatchEntry] = []
    for i, item in enumerate(spec["reports"], start=1):
        where = f"reports[{i}]"
        if isinstance(item, str):
            item = {"notebook": item}
        if not isinstance(item, dict) or "notebook" not in item:
            raise _fail(path, where, "expected a notebook name or a mapping with 'notebook'")
        bad = set(item) - _ENTRY_KEYS
        if bad:
            raise _fail(path, where, f"unknown keys {sorted(bad)}; allowed {sorted(_ENTRY_KEYS)}")
        params = item.get("parameters") or {}
        if not isinstance(params, dict):
            raise _fail(path, where, "parameters: expected a mapping of name: value")
        notebook = str(item["notebook"])
        entries.append(
            BatchEntry(
                notebook=notebook,
                report=str(item.get("report") or Path(notebook).name.removesuffix(".ipynb")),
                parameters=normalise_value({**defaults, **params}),
                timeout=float(item.get("timeout", timeout)),
            )
        )
    names = [e.report for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(path, "reports", f"report names used twice: {duplicates} (set 'report:')")

    def folder(key):
        return (base / spec[key]).resolve() if spec.get(key) else None

    return Batch(path=path, entries=entries, notebooks_dir=folder("notebooks_dir"),
                 reports_dir=folder("reports_dir"), jobs=int(spec.get("jobs", 1)), lang=lang)


def run_batch(path: str | Path, *, jobs: int | None = None, only: list[str] | None = None,
              notebooks_dir: str | Path | None = None, reports_dir: str | Path | None = None,
              on_result=None) -> BatchResult:
    """Run every report of a batch file; returns all runs (failures included).

    Args:
        path: the YAML batch file.
        jobs: reports run at once (default: the file's ``jobs``, else 1). Each report
            has its own kernel; on 2 cores, 2 jobs roughly halve the wall time.
        only: run just these report names.
        notebooks_dir, reports_dir: override the file's directories.
        on_result: called with each :class:`RunResult` as it finishes (progress output).

    Example:
        >>> cl.run_batch("no/such/batch.yml")
        Traceback (most recent call last):
            ...
        collections_lab.reporting.runner.ReportError: batch file not found: no/such/batch.yml
    """
    batch = load_batch(path)
    entries = batch.entries
    if only:
        missing = sorted(set(only) - {e.report for e in entries})
        if missing:
            raise ReportError(f"{batch.path}: no report named {missing} in this batch")
        entries = [e for e in entries if e.report in only]
    nb_dir = notebooks_dir or batch.notebooks_dir
    rep_dir = reports_dir or batch.reports_dir
    jobs = max(1, jobs or batch.jobs)
    # One clear line before anything runs, rather than the same failure once per report.
    check_writable(Path(rep_dir) if rep_dir else paths.reports_dir())
    kwargs = [
        dict(name=e.notebook, parameters=e.parameters, report=e.report, notebooks_dir=nb_dir,
             reports_dir=rep_dir, timeout=e.timeout, base_dir=batch.path.parent,
             index_lang=batch.lang)
        for e in entries
    ]
    runs: list[RunResult] = []
    if jobs == 1 or len(kwargs) == 1:
        with sigterm_as_interrupt():  # also between two reports: stop, do not die
            try:
                for kw in kwargs:
                    runs.append(run_report(**kw))
                    if on_result:
                        on_result(runs[-1])
            except KeyboardInterrupt as stop:
                stop.not_started = [kw["report"] for kw in kwargs[len(runs) + 1:]]
                raise
    else:
        with sigterm_as_interrupt():
            runs = _run_parallel(kwargs, jobs, on_result)
    return BatchResult(runs=runs)


#: Seconds the stopped workers get to record their runs and remove their files before
#: they are killed (a stopped batch exits within about this time plus a second).
STOP_GRACE = 3.0


def _worker(kwargs: dict, conn) -> None:
    """One report in its own process; sends back ("ok" | "stopped", RunResult)."""
    try:
        conn.send(("ok", run_report(**kwargs)))
    except KeyboardInterrupt as exc:  # SIGTERM/SIGINT: run_report recorded the run
        conn.send(("stopped", getattr(exc, "run_result", None)))
    finally:
        conn.close()


def _run_parallel(kwargs: list[dict], jobs: int, on_result) -> list[RunResult]:
    """Run the reports ``jobs`` at a time, one spawned process per report.

    Each process owns its papermill event loop and kernel; the run log is shared under a
    file lock. A stop (SIGTERM, Ctrl-C) starts nothing more: queued reports are not run,
    running ones are asked to stop (SIGTERM: they record the run as failed and clean up),
    and a worker still alive after :data:`STOP_GRACE` seconds is killed and its run
    recorded here. The stop is then re-raised with ``not_started`` naming the queue.
    """
    import os
    import signal
    import time
    from multiprocessing.connection import wait

    from .runner import clean_stale_files, record_run

    context = multiprocessing.get_context("spawn")
    queue = list(enumerate(kwargs))
    running: dict = {}  # connection -> (index, process)
    results: dict[int, RunResult] = {}

    deadline = None  # set when stopping: no wait may pass it

    def finish(conn) -> None:
        index, process = running.pop(conn)
        try:
            _, result = conn.recv()
        except (EOFError, OSError):  # the worker died without a word: record it here
            result = None
        process.join(None if deadline is None else max(0.2, deadline - time.monotonic()))
        if process.is_alive():  # reported back but slow to exit (kernel shutdown): enough
            process.kill()
            process.join()
        if result is None:
            result = _lost_run(kwargs[index], process.exitcode)
            record_run(Path(result.reports_dir), result, True)
            clean_stale_files(result.reports_dir)
        results[index] = result
        if on_result:
            on_result(result)

    try:
        while queue or running:
            while queue and len(running) < jobs:
                index, kw = queue.pop(0)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(kw, sender), daemon=True)
                process.start()
                sender.close()
                running[receiver] = (index, process)
            for conn in wait(list(running)):
                finish(conn)
    except KeyboardInterrupt as stop:
        not_started = [kwargs[i].get("report") or str(kwargs[i]["name"]) for i, _ in queue]
        queue.clear()
        deadline = time.monotonic() + STOP_GRACE
        with _ignoring_stops():
            if isinstance(stop, ReportTerminated):
                signum = signal.SIGTERM
            else:  # Ctrl-C reached the workers too (same process group): give them a moment
                signum = signal.SIGINT
                for conn in wait(list(running), timeout=1.0):
                    finish(conn)
            for _, process in running.values():
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signum)
            while running and time.monotonic() < deadline:
                for conn in wait(list(running), timeout=max(0.0, deadline - time.monotonic())):
                    finish(conn)
            for conn, (_, process) in list(running.items()):
                process.kill()
                finish(conn)
        stop.not_started = not_started
        stop.runs = [results[i] for i in sorted(results)]
        raise
    return [results[i] for i in sorted(results)]


@contextlib.contextmanager
def _ignoring_stops():
    """While a stopped batch waits for its workers, a second SIGTERM or Ctrl-C does not
    cut the cleanup short (the workers are killed after the grace period anyway)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTERM,
                                                                      signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _lost_run(kwargs: dict, exitcode) -> RunResult:
    """The record of a report whose worker ended without reporting back."""
    from .runner import utc_now

    reports_dir = Path(kwargs.get("reports_dir") or paths.reports_dir()).resolve()
    name = str(kwargs["name"])
    report = str(kwargs.get("report") or Path(name).name.removesuffix(".ipynb"))
    stopped = exitcode is not None and exitcode < 0
    return RunResult(
        report=report, notebook=name, status="failed",
        parameters=dict(kwargs.get("parameters") or {}), started_at=utc_now(),
        error_kind="terminated" if stopped else "dead_worker",
        error=("the run did not stop within the grace period after SIGTERM and was killed"
               if stopped else f"the report's worker process ended unexpectedly "
               f"(exit code {exitcode})"),
        reports_dir=str(reports_dir), index_lang=kwargs.get("index_lang"),
    )
