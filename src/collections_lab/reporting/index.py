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

from .. import i18n
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
.cl-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .6em; margin: .8em 0; }
.cl-tile { border: 1px solid #d9e2ec; border-radius: 6px; padding: .5em .8em; overflow-wrap: anywhere; }
.cl-tile-label { color: #52606d; font-size: 12px; } .cl-tile-value { font-size: 15px; font-weight: 600; white-space: pre-line; }
.cl-tile-change { font-size: 12px; color: #52606d; white-space: pre-line; }
.cl-decision { border: 2px solid #0b7a3b; background: #effaf3; border-radius: 6px; padding: .4em 1em; margin: .5em 0; }
.cl-decision p { margin: .3em 0; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _params(parameters: dict | None, lang: str = "en") -> str:
    """The parameters a run set: a default left unset (None or "") is not listed, except
    the data, shown as "bundled sample"; nothing set reads "defaults"."""
    shown = []
    for key, value in (parameters or {}).items():
        if value is None or (isinstance(value, str) and not value.strip()):
            if key != "data":
                continue  # the notebook's default (e.g. as_of: the data's last date)
            shown.append(f'<code>{_e(key)}=</code><span class="muted">'
                         f'{_e(i18n.t("ix.sample", lang))}</span>')
        else:
            shown.append(f"<code>{_e(key)}={_e(value)}</code>")
    if not shown:
        return f'<span class="muted">{_e(i18n.t("ix.defaults", lang))}</span>'
    return "<br>".join(shown)


def _when(stamp: str | None) -> str:
    return _e((stamp or "").replace("T", " ").replace("+00:00", " UTC"))


def _size(nbytes, lang: str = "en") -> str:
    return "" if not nbytes else f"{i18n.format_number(nbytes / 1024, 0, lang)} KB"


def _status(status, lang: str) -> str:
    # the class stays the machine value (ok / failed); the text follows the language
    return f'<span class="{_e(status)}">{_e(i18n.t(f"ix.{status}", lang))}</span>'


def index_language(runs: list[dict]) -> str:
    """The index language: ``index_lang`` of the latest run that set one, else English."""
    for run in reversed(runs):
        if run.get("index_lang") in i18n.LANGUAGES:
            return run["index_lang"]
    return "en"


def _link(href: str | None, text: str) -> str:
    return f'<a href="{_e(href)}">{_e(text)}</a>' if href else ""


def _brief(last_good: dict[str, dict], lang: str) -> str:
    """The headline figures and current decisions, from the page tops the reports recorded
    (see :mod:`collections_lab.reporting.page`); empty when no report recorded any."""
    from .page import Tile, compact_money, tiles_html

    tiles, decisions = [], []
    for report in sorted(last_good):
        run = last_good[report]
        page = run.get("page") or {}
        facts = page.get("facts") or {}
        name = run.get("title") or report

        def money(key, facts=facts):
            return "\n".join(compact_money(v, c, lang) for c, v in facts[key].items())

        if facts.get("open"):
            tiles.append(Tile(i18n.t("pg.open", lang), money("open")))
            tiles.append(Tile(i18n.t("pg.overdue", lang), money("overdue")))
            if facts.get("over90"):
                tiles.append(Tile(i18n.t("pg.over90", lang), money("over90")))
            before = facts.get("dso_before") or {}
            month = facts.get("month_before")
            dso = "\n".join(
                f"{c} {i18n.format_number(v, 0, lang)}"
                + (f" ({month}: {i18n.format_number(before[c], 0, lang)})"
                   if c in before and month else "")
                for c, v in (facts.get("dso") or {}).items())
            tiles.append(Tile(i18n.t("pg.dso", lang), dso))
        if facts.get("cash_4w"):
            tiles.append(Tile(i18n.t("pg.cash4w", lang), money("cash_4w")))
        if page.get("decision") and ("decision" in facts or "gain" in facts):
            from .story import fx_rates_text

            rates = fx_rates_text(facts.get("fx"), facts.get("fx") or (), lang)
            rates = f" ({i18n.t('fx.brief', lang).format(rates=rates)})" if rates else ""
            decisions.append(f"<li><b>{_e(name)}:</b> {_e(page['decision'] + rates)}</li>")
    if not tiles and not decisions:
        return ""
    out = f"<h2>{_e(i18n.t('ix.brief', lang))}</h2>" + (tiles_html(tiles, lang) if tiles else "")
    if decisions:
        out += (f'<div class="cl-decision"><p><b>{_e(i18n.t("ix.decisions", lang))}</b></p>'
                f"<ul>{''.join(decisions)}</ul></div>")
    return out


def _freshness(run: dict, lang: str) -> str:
    from .page import freshness

    if not run.get("as_of") or not run.get("started_at"):
        return "–"
    try:
        return _e(freshness(run["as_of"], lang, today=run["started_at"][:10]))
    except ValueError:
        return _e(run.get("as_of"))


def render_index(runs: list[dict], title: str | None = None, lang: str | None = None) -> str:
    """The HTML of the index page for the given run records (oldest first).

    ``lang`` (``"en"``/``"es"``) sets the labels and ``<html lang>``; by default the
    language of the latest batch (see :func:`index_language`).
    """
    lang = i18n.check_language(lang or index_language(runs))
    title = title or i18n.t("ix.title", lang)

    def tr(key):
        return _e(i18n.t(key, lang))

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
        links = []
        if good and good.get("ipynb"):
            links.append(_link(good.get("ipynb"), i18n.t("ix.notebook", lang)))
        if good:
            links += [_link(href, fname) for fname, href in (good.get("files") or {}).items()]
        cells = [
            (_link(good.get("html"), name) if good else _e(name))
            + f'<br><span class="muted">{_e(report)}</span>'
            + "".join(f' <span class="muted">·</span> {link}' for link in links),
            _params(shown.get("parameters"), lang),
            _freshness(shown, lang),
            _when(shown.get("started_at")),
            f"{i18n.format_number(shown.get('duration_s', 0), 1, lang)} s",
            _size(good.get("html_bytes") if good else None, lang),
        ]
        status_cell = _status(run.get("status"), lang)
        if run.get("status") != "ok":
            status_cell += f' <span class="muted">{_when(run.get("started_at"))}</span>'
            status_cell += f'<div class="err">{_e(run.get("error"))}</div>'
            status_cell += _link(run.get("failed_ipynb"), i18n.t("ix.failed_notebook", lang))
            key = "ix.last_good" if good else "ix.no_success"
            status_cell += f'<div class="muted">{tr(key)}</div>'
        cells.insert(5, status_cell)
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    history = []
    for run in reversed(runs[-HISTORY_ROWS:]):
        history.append(
            "<tr>"
            f"<td>{_when(run.get('started_at'))}</td><td>{_e(run.get('report'))}</td>"
            f"<td>{_params(run.get('parameters'), lang)}</td>"
            f"<td>{_e(run.get('as_of') or '–')}</td>"
            f"<td>{i18n.format_number(run.get('duration_s', 0), 1, lang)} s</td>"
            f"<td>{_status(run.get('status'), lang)}"
            f'<div class="err">{_e(run.get("error") or "")}</div></td>'
            "</tr>"
        )
    head = "".join(f"<th>{tr(k)}</th>" for k in (
        "ix.report", "ix.parameters", "ix.as_of", "ix.run_at", "ix.duration", "ix.status",
        "ix.size"))
    body = (f"<table><tr>{head}</tr>{''.join(rows)}</table>" if rows
            else f"<p>{tr('ix.none')}</p>")
    history_head = "".join(f"<th>{tr(k)}</th>" for k in (
        "ix.run_at", "ix.report", "ix.parameters", "ix.as_of", "ix.duration", "ix.status"))
    history_html = (
        f"<h2>{tr('ix.history')}</h2><table><tr>{history_head}</tr>{''.join(history)}</table>"
        if history else ""
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>{_brief(last_good, lang)}{body}{history_html}"
        "</main></body></html>\n"
    )


def write_index(reports_dir: str | Path, runs: list[dict] | None = None) -> Path:
    """(Re)write ``<reports_dir>/index.html`` atomically from the run log."""
    reports_dir = Path(reports_dir)
    if runs is None:
        runs = read_runs(reports_dir)
    return atomic_write_text(reports_dir / INDEX, render_index(runs))
