"""``reports/index.html``: every report with its last good page and its latest run.

Generated from the run log (``reports/runs.json``) after every run, so it always lists
each report once, with its title, parameters, data as-of date, run time, duration,
status and a link to the last good HTML; a failed latest run shows its error and a link
to the failed notebook while still linking the last good page. A run history follows.
The page is static (no scripts) and every value is HTML-escaped.

Example
-------
>>> page = render_index([])
>>> "No reports yet" in page
True
"""

from __future__ import annotations

import html
from pathlib import Path

from .store import atomic_write_text, read_runs

INDEX = "index.html"
HISTORY_ROWS = 50

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1f2933; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1.6em; }
th, td { border-bottom: 1px solid #d9e2ec; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
.ok { color: #0b7a3b; font-weight: 600; } .failed { color: #b42318; font-weight: 600; }
.err { color: #b42318; font-size: 12px; white-space: pre-wrap; }
code { font-size: 12px; } .muted { color: #52606d; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _params(parameters: dict | None) -> str:
    if not parameters:
        return '<span class="muted">defaults</span>'
    return "<br>".join(f"<code>{_e(k)}={_e(v)}</code>" for k, v in parameters.items())


def _when(stamp: str | None) -> str:
    return _e((stamp or "").replace("T", " ").replace("+00:00", " UTC"))


def _size(nbytes) -> str:
    return "" if not nbytes else f"{nbytes / 1024:,.0f} KB"


def _link(href: str | None, text: str) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>' if href else ""


def render_index(runs: list[dict], title: str = "Collections reports") -> str:
    """The HTML of the index page for the given run records (oldest first)."""
    latest: dict[str, dict] = {}
    last_good: dict[str, dict] = {}
    for run in runs:
        latest[run["report"]] = run
        if run.get("status") == "ok":
            last_good[run["report"]] = run
    rows = []
    for report in sorted(latest):
        run, good = latest[report], last_good.get(report)
        shown = good or run  # facts of the page a reader gets: the last good one
        name = shown.get("title") or report
        status = _e(run.get("status"))
        cells = [
            (_link(good.get("html"), name) if good else _e(name))
            + f'<br><span class="muted">{_e(report)}</span>'
            + (f' <span class="muted">·</span> {_link(good.get("ipynb"), "notebook")}'
               if good and good.get("ipynb") else ""),
            _params(shown.get("parameters")),
            _e(shown.get("as_of") or "–"),
            _when(shown.get("started_at")),
            f"{shown.get('duration_s', 0):.1f} s",
            _size(good.get("html_bytes") if good else None),
        ]
        status_cell = f'<span class="{status}">{status}</span>'
        if run.get("status") != "ok":
            status_cell += f' <span class="muted">{_when(run.get("started_at"))}</span>'
            status_cell += f'<div class="err">{_e(run.get("error"))}</div>'
            status_cell += _link(run.get("failed_ipynb"), "failed notebook")
            if good:
                status_cell += '<div class="muted">showing the last good report</div>'
            else:
                status_cell += '<div class="muted">no successful run yet</div>'
        cells.insert(5, status_cell)
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    history = []
    for run in reversed(runs[-HISTORY_ROWS:]):
        status = _e(run.get("status"))
        history.append(
            "<tr>"
            f"<td>{_when(run.get('started_at'))}</td><td>{_e(run.get('report'))}</td>"
            f"<td>{_params(run.get('parameters'))}</td><td>{_e(run.get('as_of') or '–')}</td>"
            f"<td>{run.get('duration_s', 0):.1f} s</td>"
            f'<td><span class="{status}">{status}</span>'
            f'<div class="err">{_e(run.get("error") or "")}</div></td>'
            "</tr>"
        )
    head = ("<tr><th>Report</th><th>Parameters</th><th>Data as of</th><th>Run at</th>"
            "<th>Duration</th><th>Status</th><th>Size</th></tr>")
    body = (
        f"<table>{head}{''.join(rows)}</table>" if rows else "<p>No reports yet.</p>"
    )
    history_html = (
        "<h2>Run history</h2><table><tr><th>Run at</th><th>Report</th><th>Parameters</th>"
        f"<th>Data as of</th><th>Duration</th><th>Status</th></tr>{''.join(history)}</table>"
        if history else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{body}{history_html}</main></body></html>\n"
    )


def write_index(reports_dir: str | Path, runs: list[dict] | None = None) -> Path:
    """(Re)write ``<reports_dir>/index.html`` atomically from the run log."""
    reports_dir = Path(reports_dir)
    if runs is None:
        runs = read_runs(reports_dir)
    return atomic_write_text(reports_dir / INDEX, render_index(runs))
