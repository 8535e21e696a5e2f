"""Stakeholder tables: every DataFrame a report shows, formatted for a manager to read.

A report notebook calls :func:`use_report_tables` once in its setup cell; from then on
every DataFrame, Series and result object the notebook displays renders as a table that

- hides a default 0..N index (a meaningful index is kept as the first columns);
- writes numbers in the report language (``1.234.567,8`` in Spanish): integer values
  as integers, shares (``share``, ``*_rate``, ...) as percentages, amounts with the
  currency's decimals and ISO code when the row (a ``currency`` column) or the column
  (a currency code as header) says which, other numbers to four significant digits;
- shows dates as dates (no ``00:00:00``) and missing values as an em dash;
- translates headers through :data:`collections_lab.i18n.COLUMN_LABELS`;
- escapes every cell and header (a customer called ``<script>`` is shown as text);
- shows at most ``max_rows`` rows and says so ("first 20 of 1,234 rows").

Only the HTML changes: the plain-text repr (JupyterLab's text view, logs) is pandas'
own. Formatting touches only the rows shown, so it costs milliseconds.

This module is imported inside the report kernel: keep it cheap (pandas and IPython only).

Example
-------
>>> import pandas as pd
>>> page = table_html(pd.DataFrame({"customer_id": ["<b>A</b>"], "receivables": [25254.0]}),
...                   lang="es")
>>> "&lt;b&gt;A&lt;/b&gt;" in page and "25.254" in page and "Cartera" in page
True
"""

from __future__ import annotations

import html
import math
import numbers

import pandas as pd

from .. import i18n
from ..data.schema import CURRENCIES, CURRENCY_DECIMALS

#: Shown for a missing value (NaN, None, NaT).
MISSING = "—"
#: Default number of rows a report table shows.
MAX_ROWS = 100

#: Columns holding a share of 1 (shown as a percentage); also ``share_*``, ``*_share``
#: and ``*_rate``.
SHARE_COLUMNS = frozenset({
    "share", "incidence", "churn_probability", "churn_risk", "paid_by_due",
    "paid_by_due_15", "power", "mean_predicted", "mean_predicted_raw", "churn",
})
#: Columns holding an amount of money (the currency comes from the row or the header).
MONEY_COLUMNS = frozenset({
    "receivables", "overdue", "sales_period", "open_amount", "overdue_amount", "amount",
    "begin_ar", "end_ar", "end_current_ar", "sales", "invoiced", "collected",
    "unpaid_after", "before_amount", "after_amount", "expected_amount",
    # the strategy lab's money (its result carries one currency: shown in the header)
    "cash_pv", "discount_cost", "fee_income", "reminder_cost", "relationship_cost",
    "net_value", "net_value_low", "net_value_high", "gain_vs_reference", "gain", "gain_low",
    "gain_high", "current_net_value", "recommended_net_value",
})
#: Columns holding codes shown in words (their labels are catalogue keys).
CODE_COLUMNS = frozenset({"outcome"})
#: Interval columns, formatted like the estimate column beside them.
_INTERVALS = frozenset({"ci_low", "ci_high"})
_ESTIMATES = frozenset({"estimate", "incidence", "share"})
#: Columns of p-values: tiny ones are shown as "< 0.0001" rather than 0.
P_VALUE_COLUMNS = frozenset({"p_value", "p_holm", "p_bh"})

i18n.register({
    "en": {"tables.first_rows": "first {shown} of {total} rows", "tables.yes": "yes",
           "tables.no": "no"},
    "es": {"tables.first_rows": "primeras {shown} de {total} filas", "tables.yes": "sí",
           "tables.no": "no",
           # titles of the result objects the reports show
           "Churn model, time-based validation": "Modelo de abandono, validación temporal",
           "Recommended strategy per segment": "Estrategia recomendada por segmento",
           "Sensitivity of the picks to the priors they rest on (each halved and doubled)":
               "Sensibilidad de las elecciones a los supuestos previos en que se basan "
               "(cada uno a la mitad y al doble)",
           "Strategy comparison on the twin": "Comparación de estrategias en el gemelo",
           "Twin check: simulated vs observed history":
               "Verificación del gemelo: historial simulado frente a observado",
           "Behaviour model calibration": "Calibración del modelo de comportamiento",
           "Experiment to test the recommendation":
               "Experimento para poner a prueba la recomendación",
           "Power curve (simulation)": "Curva de potencia (simulación)"},
})


def _is_missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def _kind(name) -> str:
    key = str(name)
    if key in P_VALUE_COLUMNS:
        return "p"
    if (key in SHARE_COLUMNS or key.startswith("share_") or key.endswith("_share")
            or key.endswith("_rate")):
        return "share"
    if key in MONEY_COLUMNS:
        return "money"
    if key in CURRENCIES:
        return "currency"  # a pivot with one column per currency
    return "number"


def _decimals(x: float) -> int:
    """Four significant digits, at most four decimals, no trailing zeros (0.02 stays
    0.02), none for integer values or values of 1,000 and more."""
    if x == round(x) or abs(x) >= 1000:
        return 0
    decimals = min(4, max(0, 3 - math.floor(math.log10(abs(x)))))
    while decimals > 0 and round(x, decimals - 1) == round(x, decimals):
        decimals -= 1
    return decimals


def format_value(value, kind: str = "number", lang: str = "en",
                 currency: str | None = None) -> str:
    """One table cell as text in ``lang`` (not yet escaped).

    ``kind`` is ``"number"``, ``"share"`` (0.123 → 12.3%), ``"money"`` (in
    ``currency`` when given), ``"currency"`` (decimals of ``currency``, no code) or
    ``"p"`` (p-value). Non-numbers are returned as text; missing values as :data:`MISSING`.

    >>> format_value(25254.0, lang="es"), format_value(0.1234, "share"), format_value(None)
    ('25.254', '12.3%', '—')
    >>> format_value(1234.5, "money", "es", "EUR")
    'EUR 1.234,50'
    """
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return i18n.t("tables.yes" if value else "tables.no", lang)
    if isinstance(value, pd.Timestamp):
        same_day = value == value.normalize()
        return value.strftime("%Y-%m-%d" if same_day else "%Y-%m-%d %H:%M")
    if not isinstance(value, numbers.Real):
        text = str(value)
        return MISSING if text in ("–", "NaN", "nan", "NaT", "None") else text
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "share":
        return i18n.format_pct(x, 1, lang)
    if kind in ("money", "currency") and currency in CURRENCIES:
        if kind == "money":
            return i18n.format_money(x, currency, lang)
        # a column per currency (a forecast pivot): cents only where there are any
        decimals = 0 if x == round(x) else CURRENCY_DECIMALS.get(currency, 2)
        return i18n.format_number(x, decimals, lang)
    if kind == "p" and 0 < x < 0.0001:
        return "< " + i18n.format_number(0.0001, 4, lang)
    if x != 0 and abs(x) < 0.0001:  # keep tiny values visible (never shown as 0)
        mantissa, exponent = f"{x:.1e}".split("e")
        return f"{i18n.format_number(float(mantissa), 1, lang)}e{int(exponent)}"
    return i18n.format_number(x, _decimals(x), lang)


def _header(name, lang: str) -> str:
    if isinstance(name, tuple):  # MultiIndex columns
        return " · ".join(i18n.column_label(n, lang) for n in name if str(n) != "")
    return i18n.column_label(name, lang)


def _meaningful_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return False
    return not (index.names == [None] and pd.api.types.is_integer_dtype(index)
                and index.equals(pd.RangeIndex(len(index))))


def format_frame(frame: pd.DataFrame, lang: str = "en",
                 currency: str | None = None) -> pd.DataFrame:
    """A copy of ``frame`` as text for a stakeholder: cells formatted with
    :func:`format_value`, headers translated, a meaningful index turned into columns.

    ``currency``: the one currency of a table without a currency column; its money
    columns then say it in the header ("Net value (USD)"), not in every cell.

    >>> format_frame(pd.DataFrame({"net_value": [1234.5]}), currency="USD").columns[0]
    'Net value (USD)'
    """
    i18n.check_language(lang)
    if _meaningful_index(frame):
        index_names = [n if n is not None else (frame.columns.name or "")
                       for n in frame.index.names]
        frame = frame.copy()
        frame.index.names = [f"\0index{i}" for i in range(frame.index.nlevels)]
        frame = frame.reset_index()
        renamed = {f"\0index{i}": name for i, name in enumerate(index_names)}
    else:
        renamed = {}
    row_currency = (frame["currency"].astype(str).tolist()
                    if "currency" in frame.columns and frame.columns.is_unique else None)
    names = [renamed.get(c, c) for c in frame.columns]
    kinds = [_kind(n[-1] if isinstance(n, tuple) else n) for n in names]
    # an interval (and its standard error) is a share when the estimate beside it is
    estimate_kinds = {k for n, k in zip(names, kinds, strict=True) if n in _ESTIMATES}
    interval_kind = "share" if estimate_kinds == {"share"} else "number"
    columns = {}
    for position, name in enumerate(names):
        kind = interval_kind if name in _INTERVALS else kinds[position]
        values = frame.iloc[:, position].tolist()
        if name in CODE_COLUMNS:  # codes (written_off, ...) in words where a label exists
            values = [i18n.t(v, lang) if isinstance(v, str) and v in i18n.LABELS["en"] else v
                      for v in values]
        if kind == "currency":
            currencies = [str(name)] * len(values)
        elif kind == "money" and row_currency is None and currency in CURRENCIES:
            kind, currencies = "currency", [currency] * len(values)  # code in the header
        else:
            currencies = row_currency or [None] * len(values)
        columns[position] = [format_value(v, kind, lang, c)
                             for v, c in zip(values, currencies, strict=True)]
    out = pd.DataFrame(columns)
    in_header = row_currency is None and currency in CURRENCIES
    out.columns = [_header(n, lang) + (f" ({currency})" if in_header and k == "money" else "")
                   for n, k in zip(names, kinds, strict=True)]
    return out


def table_html(data, lang: str = "en", max_rows: int | None = MAX_ROWS,
               title: str | None = None, currency: str | None = None) -> str:
    """The HTML of a report table for a DataFrame or Series (everything escaped).

    Args:
        data: the table; a Series is shown as one column (its index kept if meaningful).
        lang: ``"en"`` or ``"es"``: headers, number and date formats.
        max_rows: rows shown at most (``None`` = all); a note says how many were left out.
        title: an optional caption above the table (translated if a label exists).

    Example:
        >>> table_html(pd.Series([0.5], name="share"))
        '<div class="cl-table"><table><thead><tr><th>Share</th></tr></thead><tbody><tr><td>50.0%</td></tr></tbody></table></div>'
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table_html expects a DataFrame or Series, got {type(data).__name__}")
    total = len(frame)
    shown = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
    text = format_frame(shown, lang, currency)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in text.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in text.itertuples(index=False, name=None)
    )
    parts = ['<div class="cl-table">']
    if title:
        parts.append(f"<strong>{html.escape(i18n.t(title, lang))}</strong>")
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if len(shown) < total:
        note = i18n.t("tables.first_rows", lang).format(
            shown=i18n.format_number(len(shown), 0, lang),
            total=i18n.format_number(total, 0, lang))
        parts.append(f'<p class="cl-table-note">{html.escape(note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def result_html(result, lang: str = "en", max_rows: int | None = MAX_ROWS) -> str:
    """The HTML of a result object (:class:`~collections_lab.results.ResultMixin`): each of
    its ``report_tables()`` under its title, then its notes (cautions) if it has any.

    A result whose class writes its own ``_repr_html_`` (beyond the shared ones) keeps it.
    """
    # the shared reprs: tables only (ResultMixin) or tables and notes (survival's
    # NotedResult, matched by name so this module need not import the survival package)
    own = getattr(type(result)._repr_html_, "__qualname__", "")
    if own not in ("ResultMixin._repr_html_", "NotedResult._repr_html_"):
        return result._repr_html_()
    currency = getattr(result, "currency", None)
    currency = currency if isinstance(currency, str) else None
    page = "".join(table_html(frame, lang, max_rows, title=title, currency=currency)
                   for title, frame in result.report_tables())
    notes = getattr(result, "notes", None) or []
    page += "".join(f'<p class="cl-note">&#9888; {html.escape(n.text(lang))}</p>'
                    for n in notes if hasattr(n, "text"))
    return page


def use_report_tables(lang: str = "en", max_rows: int | None = MAX_ROWS) -> bool:
    """Show every DataFrame, Series and result object of this kernel as a report table.

    Call it once in a report notebook's setup cell, after the ``parameters`` cell:
    ``use_report_tables(lang)``. It registers IPython HTML formatters only (the plain
    text repr is unchanged). Returns False outside IPython (nothing to register).
    """
    i18n.check_language(lang)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the reports
        return False
    shell = get_ipython()
    if shell is None:
        return False
    from ..results import ResultMixin

    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, lambda frame: table_html(frame, lang, max_rows))
    formatter.for_type(pd.Series, lambda series: table_html(series, lang, max_rows))
    formatter.for_type(ResultMixin, lambda result: result_html(result, lang, max_rows))
    return True
