"""The vocabulary floor: language and locale context, the en/es catalogue, babel formatting,
the one table renderer and the base of result objects. It imports nothing else of the package.

Reports are read by managers, often in Spanish. Computation returns codes and numbers;
what people read is written here: labels and sentences from the catalogue
(``messages/en.yml``, ``messages/es.yml``) by :func:`t`, numbers by :func:`format_number`,
:func:`format_money` and :func:`format_pct` in a real locale, tables by
:func:`~collections_lab.i18n.display.table_html`.

Example
-------
>>> format_money(1234567.891, "COP", "es")
'COP 1.234.568'
>>> format_money(1234.5, "EUR", "en")
'EUR 1,234.50'
>>> t("paid", "es")
'pagada'
>>> with options(lang="es", locale="es_MX"):
...     t("paid"), format_money(41846701.11, "MXN")
('pagada', 'MXN 41,846,701.11')
"""

from __future__ import annotations

from .catalogue import has, messages, t, t_days
from .context import (
    DEFAULT_LOCALES,
    LANGUAGES,
    check_language,
    check_locale,
    current_lang,
    current_locale,
    default_locale,
    options,
    resolve,
)
from .display import (
    MISSING,
    ResultMixin,
    Summary,
    card_html,
    column_label,
    format_frame,
    p_text,
    result_html,
    table_html,
    tables_html,
    value_label,
)
from .figures import plot_style, result_axes, styled
from .numbers import (
    axis_multipliers,
    currency_digits,
    format_axis,
    format_money,
    format_month,
    format_number,
    format_pct,
    localize_figure,
    tick_formatter,
)

__all__ = [
    "DEFAULT_LOCALES",
    "LANGUAGES",
    "MISSING",
    "ResultMixin",
    "Summary",
    "axis_multipliers",
    "card_html",
    "check_language",
    "check_locale",
    "column_label",
    "currency_digits",
    "current_lang",
    "current_locale",
    "default_locale",
    "format_axis",
    "format_frame",
    "format_money",
    "format_month",
    "format_number",
    "format_pct",
    "has",
    "localize_figure",
    "plot_style",
    "result_axes",
    "styled",
    "messages",
    "options",
    "p_text",
    "resolve",
    "result_html",
    "t",
    "t_days",
    "table_html",
    "tables_html",
    "tick_formatter",
    "value_label",
]
