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
>>> result = run_batch("reports/weekly.yml")  # doctest: +SKIP
>>> result.ok  # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..i18n import LANGUAGES, ResultMixin
from .parameters import normalise_value
from .runner import DEFAULT_TIMEOUT, ReportError, RunResult, run_report, sigterm_as_interrupt

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
    """The runs of one batch; ``ok`` only if every report succeeded."""

    runs: list[RunResult]
    title = "Batch run"

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

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
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReportError(f"{path}: not valid YAML: {exc}") from exc
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
    kwargs = [
        dict(name=e.notebook, parameters=e.parameters, report=e.report, notebooks_dir=nb_dir,
             reports_dir=rep_dir, timeout=e.timeout, base_dir=batch.path.parent,
             index_lang=batch.lang)
        for e in entries
    ]
    runs: list[RunResult] = []
    if jobs == 1 or len(kwargs) == 1:
        with sigterm_as_interrupt():  # also between two reports: stop, do not die
            for kw in kwargs:
                runs.append(run_report(**kw))
                if on_result:
                    on_result(runs[-1])
    else:
        # Separate processes (spawned, not forked): each papermill run owns its event loop
        # and kernel; the run log is shared under a file lock.
        context = multiprocessing.get_context("spawn")
        with sigterm_as_interrupt(), ProcessPoolExecutor(
                max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(_run_one, kw) for kw in kwargs]
            try:
                for future in futures:
                    runs.append(future.result())
                    if on_result:
                        on_result(runs[-1])
            except KeyboardInterrupt:
                # Pass the stop on: each worker records its run as failed and cleans up
                # (SIGTERM is a ReportTerminated there too). ``_processes`` is the pool's
                # own table of workers; there is no public way to reach them.
                for future in futures:
                    future.cancel()
                for process in list(getattr(pool, "_processes", {}).values()):
                    with contextlib.suppress(Exception):
                        process.terminate()
                raise
    return BatchResult(runs=runs)


def _run_one(kwargs: dict) -> RunResult:
    return run_report(**kwargs)
