"""Stakeholder tables in a report kernel: every DataFrame, Series and result object a
report notebook displays is written by the one table renderer,
:func:`collections_lab.i18n.display.table_html` (numbers in the report's locale, headers
from the catalogue, everything escaped, at most ``max_rows`` rows).

A report notebook calls :func:`use_report_tables` once in its setup cell, after the
``parameters`` cell; it also sets the report's language and locale
(:func:`collections_lab.i18n.options`) for every summary, table and chart of the kernel.
Only the HTML changes: the plain-text repr (JupyterLab's text view, logs) is pandas' own.

This module is imported inside the report kernel: keep it cheap (pandas and IPython only).
"""

from __future__ import annotations

import pandas as pd

from ..i18n import MISSING, ResultMixin, options, result_html, table_html
from ..i18n.display import MAX_ROWS, format_frame, format_value

__all__ = ["MAX_ROWS", "MISSING", "format_frame", "format_value", "result_html",
           "table_html", "use_report_tables"]


def use_report_tables(lang: str = "en", max_rows: int | None = MAX_ROWS,
                      locale: str | None = None, currency: str | None = None) -> bool:
    """Set the report's language and locale, and show every DataFrame, Series and result
    object of this kernel as a report table.

    Call it once in a report notebook's setup cell, after the ``parameters`` cell:
    ``use_report_tables(lang, locale=locale, currency=currency)``. ``locale`` defaults to
    the country of the report's one ``currency`` (COP → ``es_CO``), else to the
    language's default (:data:`collections_lab.i18n.DEFAULT_LOCALES`). It registers
    IPython HTML formatters only (the plain text repr is unchanged). Returns False outside
    IPython (the language and locale are still set).

    Example:
        >>> cl.use_report_tables("es")  # outside IPython: only the language is set
        False
        >>> cl.current_lang()
        'es'
        >>> _ = cl.options(lang="en")
    """
    options(lang=lang, locale=locale, currency=currency)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the reports
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, lambda frame: table_html(frame, max_rows=max_rows))
    formatter.for_type(pd.Series, lambda series: table_html(series, max_rows=max_rows))
    formatter.for_type(ResultMixin, lambda result: result_html(result, max_rows=max_rows))
    return True
