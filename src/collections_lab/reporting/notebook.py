"""Helpers every report notebook calls: load data, show the executive summary, figures.

They keep notebooks thin (no logic that lives only in a notebook) and make every report
safe to hand to a stakeholder: text derived from data is HTML-escaped, customer ids can
be pseudonymised, and the data source and as-of date are recorded in the output so the
runner can list them in ``reports/index.html``.

This module is imported inside the report kernel, so it must stay cheap to import (no
papermill or nbconvert here).

Example
-------
In a report notebook, after the ``parameters`` cell::

    from collections_lab.reporting.notebook import load_report_data, show_summary
    portfolio = load_report_data(data, mapping, as_of, pseudonymise=pseudonymise)
    show_summary(["Cash collected rose 4%.", "Customer <b>X</b> pays late."], lang)
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path

from .. import i18n
from ..data import privacy as _privacy
from ..data.dates import (  # resolve_as_of re-exported for the report notebooks
    DateError,
    allow_future_in_session,
    parse_date,
    resolve_as_of,  # noqa: F401
)
from .check import check_portfolio
from .paths import sample_data_dir

# The pseudonym rules live on the data floor (collections_lab.data.privacy); notebooks
# reach them here as before.
SECRET_ENV = _privacy.SECRET_ENV
pseudonym = _privacy.pseudonym
pseudonymise = _privacy.pseudonymise
pseudonymise_portfolio = _privacy.pseudonymise_portfolio

#: Output-metadata key under which :func:`load_report_data` records the data it used;
#: the runner reads it from the executed notebook (see ``notebooks/README.md``).
METADATA_KEY = "collections_lab"
#: Output metadata of each figure :func:`show_figure` shows: ``{"axis_multipliers": [...]}``
#: (see :func:`collections_lab.i18n.axis_multipliers`; empty when every axis is plain).
FIGURE_KEY = "collections_lab_figure"


def display_html(html_text: str, plain: str, metadata: dict | None = None) -> None:
    """Show HTML in the notebook's output (``plain`` for text front ends), with metadata
    the report runner reads back (e.g. the as-of date)."""
    from IPython.display import display

    display({"text/html": html_text, "text/plain": plain}, raw=True, metadata=metadata or {})


def _markdown_to_html(text: str) -> str:
    # mistune (already needed by nbconvert) with escape=True turns any raw HTML in the
    # text into visible text and neutralises javascript: links.
    import mistune

    return mistune.create_markdown(escape=True, plugins=["strikethrough", "table"])(text)


def summary_html(lines_or_markdown, lang: str | None = None, title: str | None = None,
                 folded: bool = False) -> str:
    """The HTML of an executive-summary box (see :func:`show_summary`); ``folded``: in a
    closed ``<details>`` (the page's decision box and tiles come first)."""
    lang, _ = i18n.resolve(lang)
    if isinstance(title, str) and i18n.has(title):  # a catalogue key: "title.cox_model"
        title = i18n.t(title, lang)
    elif isinstance(title, dict):  # a user's own notebook: {"en": ..., "es": ...}  # {"en": "Cox model", "es": "Modelo de Cox"}
        title = title.get(lang) or title.get("en") or next(iter(title.values()), None)
    heading = html.escape(title if title is not None else i18n.t("report.summary_title", lang))
    if isinstance(lines_or_markdown, str):
        body = _markdown_to_html(lines_or_markdown)
    elif isinstance(lines_or_markdown, Iterable):
        items = [s for item in lines_or_markdown for s in _sentences(item, lang)]
        body = "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in items) + "</ul>"
    else:
        raise TypeError(
            "show_summary expects a markdown string or a list of sentences/results, "
            f"got {type(lines_or_markdown).__name__}"
        )
    if folded:
        return (f'<div class="cl-summary" lang="{lang}"><details class="cl-fold"><summary>{heading}'
                f"</summary>{body}</details></div>")
    return f'<div class="cl-summary" lang="{lang}"><h2>{heading}</h2>{body}</div>'


def _sentences(item, lang: str) -> list[str]:
    """The bullets of one summary item: a result with ``summary_lines(lang)`` (a readout
    with a sentence per arm) gives one bullet per line, anything else one bullet."""
    lines = getattr(item, "summary_lines", None)
    if callable(lines):
        return [str(line) for line in lines(lang=lang)]
    return [_as_sentence(item, lang)]


def _as_sentence(item, lang: str) -> str:
    summary = getattr(item, "summary", None)
    if callable(summary):
        return str(summary(lang=lang))
    return str(item)


def show_summary(lines_or_markdown, lang: str | None = None, title: str | None = None,
                 folded: bool = False) -> None:
    """Display the executive summary of a report, with all data-derived text escaped.

    Args:
        lines_or_markdown: either a markdown string (raw HTML in it is shown as text), or
            a list whose items are sentences or result objects with a
            ``summary(lang=...)`` method (one bullet each).
        lang: ``"en"`` or ``"es"`` (heading language; results summarise in it); the
            report's language (:func:`collections_lab.i18n.options`) by default.
        title: heading to use instead of "Executive summary" / "Resumen ejecutivo": a
            catalogue key (``"title.cox_model"``) gives it in the report's language (a
            ``{lang: text}`` mapping, for a notebook's own title, also works).
        folded: show it folded in a ``<details>`` appendix (opens without script).

    Example:
        Outside a notebook the display bundle is printed; the HTML is escaped:

        >>> show_summary(["Customer <script>alert(1)</script> paid 12 days late."])
        {'text/html': '<div class="cl-summary" lang="en"><h2>Executive summary</h2><ul><li>Customer &lt;script&gt;alert(1)&lt;/script&gt; paid 12 days late.</li></ul></div>', ...}
    """
    lang, _ = i18n.resolve(lang)
    page = summary_html(lines_or_markdown, lang=lang, title=title, folded=folded)
    if isinstance(lines_or_markdown, str):
        plain = lines_or_markdown
    else:
        plain = "\n".join(f"- {s}" for i in lines_or_markdown for s in _sentences(i, lang))
    display_html(page, plain)


def figure_alt_text(fig, lang: str | None = None) -> str:
    """A figure's description for screen readers, in the figure's own words.

    Its suptitle, then for each panel its title, or else what it plots ("y by x", from
    the axis labels), and the legend's series; "Figure"/"Figura" only if a figure has
    no text at all.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], label="control"); _ = ax.set_ylabel("Share unpaid")
    >>> _ = ax.set_xlabel("Days"); _ = ax.legend()
    >>> figure_alt_text(fig)
    'Share unpaid by Days (control)'
    >>> plt.close(fig)
    """
    by = i18n.t("summary.by", lang)
    suptitle = getattr(fig, "_suptitle", None)
    parts = [suptitle.get_text()] if suptitle is not None and suptitle.get_text() else []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.has_data() and not ax.get_title():
            continue  # colour bars, empty panels
        text = ax.get_title()
        if not text:
            y, x = ax.get_ylabel(), ax.get_xlabel()
            text = by.join(v for v in (y, x) if v)
        legend = ax.get_legend()
        if legend is not None:
            labels = [t.get_text() for t in legend.get_texts() if t.get_text()]
            if labels:
                text = f"{text} ({', '.join(labels[:8])})" if text else ", ".join(labels[:8])
        if text:
            parts.append(text)
    return "; ".join(dict.fromkeys(parts)) or i18n.t("summary.figure_default", lang)


def show_figure(fig, alt: str | None = None, close: bool = True,
                lang: str | None = None) -> None:
    """Display a matplotlib figure once (as an embedded PNG with alt text) and close it.

    Returning a pyplot figure as a cell's last expression shows it twice with the
    inline backend (once as the value, once when the cell's figures are flushed);
    this helper shows it exactly once. ``alt`` defaults to :func:`figure_alt_text`.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> km = cl.kaplan_meier(pt, by="arm")
        >>> cl.show_figure(km.plot().figure)  # outside a notebook the figure's repr is printed
        Figure(700x420)
    """
    from IPython.display import display

    # axes a reader would have to decode (1e9 offsets, 10^0 ticks), recorded for the tests
    multipliers = i18n.axis_multipliers(fig)
    display(fig, metadata={"image/png": {"alt": alt or figure_alt_text(fig, lang)},
                           FIGURE_KEY: {"axis_multipliers": multipliers}})
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)


def _is_url(data: str) -> bool:
    return "://" in data


def resolve_data(data=None) -> str:
    """The data location a report reads: ``data`` or the bundled sample directory.

    Local paths must exist (FileNotFoundError naming the path otherwise); URLs
    (``sqlite:///...``, ``postgresql://...``) are passed through unchecked.
    """
    if data is None or str(data).strip() == "":
        path = sample_data_dir()
        if not path.exists() or not any(path.iterdir()):
            raise FileNotFoundError(
                f"the bundled sample data is missing at {path}; create it with "
                "`collections-lab sample-data --out data/sample`"
            )
        return str(path)
    data = str(data)
    if _is_url(data):
        return data
    path = Path(data).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"data not found: {path.resolve()} (parameter `data`)")
    return str(path)


class ReportCannotRun(Exception):  # noqa: N818 - a stop, not an error: the page says why
    """The data cannot feed this report (the data check says what it needs).

    Raised by :func:`load_report_data` (given ``report=``) after the page opened with a
    decision box saying why; the runner publishes that page instead of failing the run
    (see :mod:`.runner`). In IPython it shows as its one sentence, without a traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def load_report_data(data=None, mapping=None, as_of=None, pseudonymise: bool = False,
                     salt: str | None = None, lang: str = "en", show: bool = True,
                     allow_future: bool = False, report: str | None = None,
                     satisfied: Iterable[str] = ()):
    """Load the portfolio a report analyses and record where it came from.

    Args:
        data: a file, directory or database URL understood by
            :func:`collections_lab.data.loading.load_portfolio`; ``None`` = the bundled sample.
        mapping: a column-mapping preset name or YAML path (``None`` = the schema's names).
        as_of: ISO date the report describes; ``None`` = the last date in the data (see
            :func:`~collections_lab.data.dates.resolve_as_of`: a date after it is refused
            unless ``allow_future=True``).
        pseudonymise: replace customer ids and names by stable pseudonyms.
        salt: key for the pseudonyms (default: ``COLLECTIONS_LAB_SECRET``, else the
            installation's key file; see :mod:`collections_lab.data.privacy`).
        lang: language of the provenance line.
        show: display a one-line provenance note (data, as-of date, row counts); its
            output metadata is what the runner reads the as-of date from.
        allow_future: accept an ``as_of`` after the data's last date, for this call and
            the rest of the session (the report's later calls); a report's
            ``-p allow_future true``.
        report: the report loading the data (``"04_experiment_readout"``): when the data
            check (:func:`~collections_lab.reporting.check.check_portfolio`) says the data
            cannot feed it, the page opens with a decision box naming what it needs and
            :class:`ReportCannotRun` stops the report (the runner publishes that page).
        satisfied: codes of needs the report's parameters already meet (the strategy
            lab given ``fx_rates`` or ``currency`` meets ``"one_currency"``).

    Returns:
        The :class:`~collections_lab.data.portfolio.Portfolio`.

    Example:
        >>> p = cl.load_report_data(SAMPLE, as_of="2026-05-31", show=False)
        >>> len(p.customers)
        2000
    """
    from ..data.loading import load_portfolio

    location = resolve_data(data)
    portfolio = load_portfolio(location, mapping=mapping)
    if pseudonymise:
        portfolio = pseudonymise_portfolio(portfolio, salt)
    if allow_future:  # for the whole report: its later calls take as_of again
        allow_future_in_session(True)
    try:
        resolved = resolve_as_of(portfolio, as_of)
    except DateError as exc:
        raise DateError(f"{exc}; in a report: -p allow_future true") from None
    if show:
        label = i18n.t("report.sample", lang) if data in (None, "") else str(data)
        parts = [
            f"{i18n.t('report.data', lang)}: {label}",
            f"{i18n.t('report.as_of', lang)} {resolved.date().isoformat()}",
            f"{i18n.format_number(len(portfolio.invoices), 0, lang)} {i18n.t('invoices', lang).lower()}",
            f"{i18n.format_number(len(portfolio.customers), 0, lang)} {i18n.t('customers', lang).lower()}",
        ]
        load_report = getattr(portfolio, "load_report", None)
        rejected = int(getattr(load_report, "rows_rejected", 0) or 0)
        if rejected:
            parts.append(f"{i18n.format_number(rejected, 0, lang)} {i18n.t('report.rejected', lang)}")
        if pseudonymise:
            parts.append(i18n.t("report.pseudonymised", lang))
        plain = " · ".join(parts)
        provenance = load_report.provenance() if hasattr(load_report, "provenance") else {}
        record = {
            "as_of": resolved.date().isoformat(),
            "data": "sample" if data in (None, "") else str(data),
            "n_invoices": int(len(portfolio.invoices)),
            "n_customers": int(len(portfolio.customers)),
            "pseudonymised": bool(pseudonymise),
            "rows_rejected": rejected,
            "absent_tables": provenance.get("absent", []),
            "derived_tables": provenance.get("derived", []),
            "load_notes": provenance.get("notes", []),
        }
        notes_html, notes_plain = load_notes_block(provenance, lang)
        check = check_portfolio(portfolio, "" if data in (None, "") else str(data), mapping)
        record["can_run"] = check.can_run
        check_html, check_plain = data_check_block(check, lang)
        display_html(f'<p class="cl-provenance">{html.escape(plain)}</p>{notes_html}'
                     f"{check_html}", plain + notes_plain + check_plain, {METADATA_KEY: record})
        if report is not None:
            _stop_unless_can_run(check, report, resolved, lang, set(satisfied))
    return portfolio


def _stop_unless_can_run(check, report: str, as_of, lang: str, satisfied: set) -> None:
    """Open the page with what the data lacks for ``report`` and stop it, if it does."""
    from .page import Decision, PageTop, show_page_top

    if check.can_run.get(report, True) or check.needs[report][0] in satisfied:
        return
    need = check.need(report, lang)
    show_page_top(PageTop(Decision(i18n.t("report.cannot_run", lang, need=need)),
                          facts={"cannot_run": check.needs[report][0]}), as_of, lang)
    raise ReportCannotRun(i18n.t("report.cannot_run", lang, need=need))


def data_check_block(check, lang: str = "en") -> tuple[str, str]:
    """The provenance block's data check (what the data holds, which reports it can
    feed: :func:`~collections_lab.reporting.check.check_portfolio`), folded in a
    ``<details>`` element; returns ``(html, plain)``."""
    lines = [line.strip() for line in check.lines(lang)[1:]]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    block = (f'<details class="cl-data-check"><summary>'
             f"{html.escape(i18n.t('report.data_check', lang))}</summary><ul>{items}</ul>"
             "</details>")
    return block, "\n" + "\n".join(lines)


def load_notes_block(provenance: dict, lang: str = "en") -> tuple[str, str]:
    """The provenance block's loading details: absent and derived tables, every note.

    ``provenance`` is :meth:`LoadReport.provenance()
    <collections_lab.data.validation.LoadReport.provenance>`; returns ``(html, plain)``,
    all text escaped, folded in a ``<details>`` element.

    >>> html_text, plain = load_notes_block({"absent": ["reminders"], "derived": [],
    ...                                      "notes": ["payments: 3 <b>open</b>"]})
    >>> "&lt;b&gt;" in html_text, plain.splitlines()[1]
    (True, 'reminders: tables not in the data (analyses see none)')
    """
    lines = []
    if provenance.get("absent"):
        lines.append(f"{', '.join(provenance['absent'])}: {i18n.t('report.absent_tables', lang)}")
    if provenance.get("derived"):
        lines.append(f"{', '.join(provenance['derived'])}: "
                     f"{i18n.t('report.derived_tables', lang)}")  # fmt: skip
    lines += list(provenance.get("notes", []))
    if not lines:
        return "", ""
    title = i18n.t("report.load_notes", lang)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    block = (f'<details class="cl-load-notes"><summary>{html.escape(title)} ({len(lines)})'
             f"</summary><ul>{items}</ul></details>")
    return block, "\n" + "\n".join(lines)


#: Environment variable the runner sets in the report kernel: the directory whose files
#: it publishes beside the HTML (the runner reads this name from here; this module is
#: imported in the kernel and must not import the runner's papermill).
FILES_ENV = "COLLECTIONS_LAB_REPORT_FILES"


def report_file(name: str) -> Path:
    """Where a report writes a file it hands over with its HTML (e.g. ``assignments.csv``).

    Under the runner this is a staging directory: the file is published in
    ``reports/<report>/`` beside the HTML only if the whole run succeeds (a failed run
    keeps the previous file) and the index links it. In JupyterLab (no runner) it is
    ``name`` in the current directory. ``name`` must be a plain file name.

    >>> report_file("assignments.csv").name
    'assignments.csv'
    """
    if not name or Path(name).name != name or name.startswith("."):
        raise ValueError(f"report_file: {name!r} must be a plain file name like 'out.csv'")
    folder = os.environ.get(FILES_ENV)
    return (Path(folder) if folder else Path.cwd()) / name


def show_file_link(path, text: str, lang: str = "en") -> None:
    """Show a link to a file written with :func:`report_file` (relative: it sits beside
    the report's HTML), with its description; all text is escaped."""
    name = Path(path).name
    label = f"{i18n.t('report.download', lang)}: "
    display_html(f'<p class="cl-file">{html.escape(label)}<a href="{html.escape(name)}">'
             f"{html.escape(name)}</a> — {html.escape(text)}</p>",
             f"{label}{name} — {text}")


def report_record(as_of, **extra) -> None:
    """Record report facts for the runner without displaying anything visible.

    For notebooks that do not call :func:`load_report_data` (e.g. a design notebook
    working from simulation): ``report_record(as_of="2025-06-30")``.
    """
    record = {"as_of": None if as_of is None else parse_date(as_of, "as_of").date().isoformat()}
    record.update(extra)
    display_html("", "", {METADATA_KEY: record})
