"""Report runner: execute report notebooks with papermill, publish static HTML, index them.

Public names (imported lazily, so ``collections_lab.reporting.notebook`` stays cheap to
import inside a report kernel):

- :func:`run_report`, :func:`run_batch`, :func:`load_batch`, :func:`list_notebooks`
- :class:`RunResult`, :class:`BatchResult`, :class:`ReportError`, :class:`ParameterError`,
  :class:`ReportTerminated` (SIGTERM during a run)
- :func:`export_html`, :func:`check_static`, :func:`write_index`
- notebook helpers: :func:`show_summary`, :func:`show_figure`, :func:`pseudonymise`,
  :func:`load_report_data`, :func:`report_file` and :func:`show_file_link` (a file
  published beside the report)
- stakeholder tables: :func:`use_report_tables`, :func:`table_html`, :func:`format_frame`

Example
-------
``run_report("01_portfolio_health", {"lang": "es"})`` runs the notebook and publishes its
HTML under ``reports/``; a parameter the notebook does not declare fails before any kernel
starts:

>>> import tempfile
>>> from collections_lab.reporting import run_report
>>> result = run_report("01_portfolio_health", {"lnag": "es"}, reports_dir=tempfile.mkdtemp())
>>> result.status, result.error_kind
('failed', 'bad_request')
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "run_report": "runner",
    "list_notebooks": "runner",
    "find_notebook": "runner",
    "RunResult": "runner",
    "ReportError": "runner",
    "ReportTerminated": "runner",
    "run_batch": "batch",
    "load_batch": "batch",
    "BatchResult": "batch",
    "ParameterError": "parameters",
    "export_html": "export",
    "check_static": "export",
    "write_index": "index",
    "show_summary": "notebook",
    "show_figure": "notebook",
    "pseudonymise": "notebook",
    "pseudonymise_portfolio": "notebook",
    "load_report_data": "notebook",
    "report_file": "notebook",
    "show_file_link": "notebook",
    "use_report_tables": "tables",
    "table_html": "tables",
    "format_frame": "tables",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
