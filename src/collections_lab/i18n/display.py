"""The one table renderer and the base of every result object.

Every table a person reads -- a result's ``_repr_html_`` in a notebook, a report table, a
DataFrame shown in a report kernel -- is written by :func:`table_html`, which

- hides a default 0..N index (a meaningful index is kept as the first columns);
- writes numbers in the locale (``1.234.567,8`` in es_CO / es_ES, ``1,234,567.8`` in
  es_MX / en_US): integer values as integers, shares (``share``, ``*_rate``, ...) as
  percentages, amounts with the currency's CLDR digits and ISO code when the row (a
  ``currency`` column) or the column (a currency code as header) says which, other
  numbers to four significant digits;
- shows dates as dates (no ``00:00:00``) and missing values as an em dash;
- translates headers through the catalogue (``column.<name>`` keys) and category codes
  (segments, outcomes, ...) through :func:`value_label`; a cross table's columns (a
  named columns axis, e.g. one column per arm) are values, shown as they are;
- escapes every cell and header (a customer called ``<script>`` is shown as text);
- shows at most ``max_rows`` rows and says so ("first 20 of 1,234 rows").

Language and locale default to the context (:func:`collections_lab.i18n.options`).

Example
-------
>>> import pandas as pd
>>> page = table_html(pd.DataFrame({"customer_id": ["<b>A</b>"], "receivables": [25254.0]}),
...                   lang="es")
>>> "&lt;b&gt;A&lt;/b&gt;" in page and "25.254" in page and "Cartera" in page
True
>>> from dataclasses import dataclass
>>> @dataclass
... class Mean(ResultMixin):
...     value: float
...     def to_frame(self):
...         return pd.DataFrame({"mean": [self.value]})
>>> "<table" in Mean(2.0)._repr_html_()
True
"""

from __future__ import annotations

import functools
import html
import math
import numbers

import pandas as pd

from .catalogue import has, t
from .context import resolve
from .numbers import (
    currency_digits,
    format_money,
    format_month,
    format_number,
    format_pct,
    is_currency,
)

#: Shown for a missing value (NaN, None, NaT).
MISSING = "—"
#: Default number of rows a report table shows.
MAX_ROWS = 100
#: A column with a cell longer than this is prose: left-aligned (class ``cl-text``).
PROSE_CHARS = 40
_PROSE = ' class="cl-text"'

#: Columns holding a share of 1 (shown as a percentage); also ``share_*``, ``*_share``
#: and ``*_rate``.
SHARE_COLUMNS = frozenset({
    "share", "incidence", "churn_probability", "churn_risk", "paid_by_due",
    "paid_by_due_15", "power", "mean_predicted", "mean_predicted_raw", "churn",
    "base_rate_train", "base_rate_test", "base_rate_window",
})
#: Columns holding an amount of money (the currency comes from the row or the header).
MONEY_COLUMNS = frozenset({
    "receivables", "overdue", "sales_period", "open_amount", "overdue_amount", "amount",
    "begin_ar", "end_ar", "end_current_ar", "sales", "invoiced", "collected",
    "unpaid_after", "before_amount", "after_amount", "expected_amount",
    # the strategy lab's money (its result carries one currency: shown in the header)
    "cash_pv", "discount_cost", "fee_income", "reminder_cost", "relationship_cost",
    "net_value", "net_value_low", "net_value_high", "gain_vs_reference", "gain", "gain_low",
    "gain_high", "current_net_value", "recommended_net_value", "cost_if_kept", "max_cost_if_kept",
})
#: Columns of days and index points read to one decimal (a best possible DSO of 0.8724
#: days beside a DSO of 19.57 read as false precision).
ONE_DECIMAL_COLUMNS = frozenset({
    "dso", "dso_countback", "bpdso", "add", "weighted_days_past_due", "cei", "dso_change",
})
#: Columns holding codes shown in words where the catalogue has them (see
#: :func:`value_label`): outcomes (``written_off``), segments (``segment.small``), ...
CODE_COLUMNS = frozenset({"outcome", "segment", "recalibration", "model", "channel", "group"})
#: Interval columns, formatted like the estimate column beside them.
_INTERVALS = frozenset({"ci_low", "ci_high"})
_ESTIMATES = frozenset({"estimate", "incidence", "share"})
#: Columns of p-values: tiny ones are shown as "< 0.0001" rather than 0.
P_VALUE_COLUMNS = frozenset({"p_value", "p_holm", "p_bh"})


def column_label(name, lang: str | None = None) -> str:
    """The header of a table column in ``lang`` (the context's by default).

    Known columns are the catalogue's ``column.<name>`` keys; any other name is shown
    with underscores as spaces and a capital first letter (a header already translated
    by its table stays as it is, capitalised).

    >>> column_label("open_amount", "es")
    'Importe abierto'
    >>> column_label("my_column")
    'My column'
    """
    lang, _ = resolve(lang)
    text = str(name)
    if has(f"column.{text}"):
        return t(f"column.{text}", lang)
    text = text.replace("_", " ").strip()
    if len(text) > 1 and not text[1].isalpha():  # "p-value", "p (Holm)": a symbol
        return text
    return text[:1].upper() + text[1:]


def value_label(value, column: str | None = None, lang: str | None = None):
    """A category code in words: the catalogue's ``<column>.<value>`` key
    (``segment.small``; outcomes have bare keys: ``written_off``); anything else (a
    segment name of the user's own data, a number) comes back unchanged.

    >>> value_label("small", "segment", "es"), value_label("written_off", "outcome", "es")
    ('pequeñas', 'castigada')
    >>> value_label("retail", "segment", "es")
    'retail'
    """
    if not isinstance(value, str):
        return value
    if column is not None and has(f"{column}.{value}"):
        return t(f"{column}.{value}", lang)
    if column == "group" and has(f"segment.{value}"):  # groups are segments by default
        return t(f"segment.{value}", lang)
    return t(value, lang) if column in (None, "outcome") and has(value) else value


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
    if is_currency(key):
        return "currency"  # a pivot with one column per currency
    if key in ONE_DECIMAL_COLUMNS:
        return "one_decimal"
    if key.endswith("_month"):
        return "month"
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


def format_value(value, kind: str = "number", lang: str | None = None,
                 currency: str | None = None, locale: str | None = None) -> str:
    """One table cell as text in ``lang`` (not yet escaped).

    ``kind`` is ``"number"``, ``"share"`` (0.123 → 12.3%), ``"money"`` (in
    ``currency`` when given), ``"currency"`` (decimals of ``currency``, no code),
    ``"one_decimal"`` (days), ``"month"`` (a date as ``Feb 2026``) or ``"p"`` (p-value). Non-numbers are returned as text; missing values as :data:`MISSING`.

    >>> format_value(25254.0, lang="es"), format_value(0.1234, "share"), format_value(None)
    ('25.254', '12.3%', '—')
    >>> format_value(1234.5, "money", "es", "EUR")  # a no-break space after the code
    'EUR\xa01.234,50'
    """
    if _is_missing(value):
        return MISSING
    lang, locale = resolve(lang, locale)
    if isinstance(value, bool):
        return t("tables.yes" if value else "tables.no", lang)
    if isinstance(value, pd.Timestamp):
        if kind == "month":  # as a reader writes it: "Feb 2026", "feb 2026"
            return format_month(value, lang, locale)
        same_day = value == value.normalize()
        return value.strftime("%Y-%m-%d" if same_day else "%Y-%m-%d %H:%M")
    if not isinstance(value, numbers.Real):
        text = str(value)
        return MISSING if text in ("–", "NaN", "nan", "NaT", "None") else text
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "share":
        return format_pct(x, 1, lang, locale)
    if kind in ("money", "currency") and currency is not None and is_currency(currency):
        if kind == "money":  # one unbreakable cell: "COP" never wraps above its amount
            return format_money(x, currency, lang, locale).replace(" ", "\u00a0")
        # a column per currency (a forecast pivot) or the code in the header (the lab's
        # simulated money): cents only below 1,000 and where there are any (an estimate
        # of USD 391.427,00 read as if it were known to the cent)
        decimals = 0 if x == round(x) or abs(x) >= 1000 else currency_digits(currency)
        return format_number(x, decimals, lang, locale)
    if kind == "one_decimal":
        return format_number(x, 1, lang, locale)
    if kind == "p" and 0 < x < 0.0001:
        return "< " + format_number(0.0001, 4, lang, locale)
    if x != 0 and abs(x) < 0.0001:  # keep tiny values visible (never shown as 0)
        mantissa, exponent = f"{x:.1e}".split("e")
        return f"{format_number(float(mantissa), 1, lang, locale)}e{int(exponent)}"
    return format_number(x, _decimals(x), lang, locale)


def p_text(p: float, lang: str | None = None, locale: str | None = None) -> str:
    """A p-value for a sentence, with its relation: ``"= 0.0312"``, ``"< 0.0001"``
    (never ``"= 0.0000"``); catalogue sentences write ``p {p}``.

    >>> p_text(0.03124), p_text(1e-9), p_text(0.5, "es")
    ('= 0.0312', '< 0.0001', '= 0,5')
    """
    if _is_missing(p):
        return "= " + MISSING
    lang, locale = resolve(lang, locale)
    if 0 <= float(p) < 0.0001:
        return "< " + format_number(0.0001, 4, lang, locale)
    return "= " + format_number(float(p), min(4, _decimals(float(p)) or 4) if p < 1 else 0,
                                lang, locale)


def _header(name, lang: str, values_of: str | None = None) -> str:
    if isinstance(name, tuple):  # MultiIndex columns
        return " · ".join(column_label(n, lang) for n in name if str(n) != "")
    if values_of is not None and not has(f"column.{name}"):
        # a cross table's columns are values of ``values_of`` (arm names, segments)
        return str(value_label(name, values_of, lang))
    return column_label(name, lang)


def _meaningful_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return False
    return not (index.names == [None] and pd.api.types.is_integer_dtype(index)
                and index.equals(pd.RangeIndex(len(index))))


def format_frame(frame: pd.DataFrame, lang: str | None = None,
                 locale: str | None = None, currency: str | None = None) -> pd.DataFrame:
    """A copy of ``frame`` as text for a stakeholder: cells formatted with
    :func:`format_value`, headers translated, a meaningful index turned into columns.

    ``currency``: the one currency of a table without a currency column; its money
    columns then say it in the header ("Net value (USD)"), not in every cell.

    >>> format_frame(pd.DataFrame({"net_value": [1234.5]}), "en", currency="USD").columns[0]
    'Net value (USD)'
    """
    lang, locale = resolve(lang, locale)
    values_of = frame.columns.name if isinstance(frame.columns.name, str) else None
    positions = frame.shape[1]  # the columns that are values (before an index is added)
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
        if name in CODE_COLUMNS:  # codes (written_off, small, ...) in words where known
            values = [value_label(v, name, lang) for v in values]
        if kind == "currency":
            currencies = [str(name)] * len(values)
        elif kind == "money" and row_currency is None and currency and is_currency(currency):
            kind, currencies = "currency", [currency] * len(values)  # code in the header
        elif kind == "money" and row_currency is not None:
            # the row's code is in its currency column: repeating it in every amount made
            # page 01's call list (two amounts a row) wider than the page
            kind, currencies = "currency", row_currency
        else:
            currencies = row_currency or [None] * len(values)
        columns[position] = [format_value(v, kind, lang, c, locale)
                             for v, c in zip(values, currencies, strict=True)]
    out = pd.DataFrame(columns)
    in_header = row_currency is None and bool(currency) and is_currency(currency)
    first_value = len(names) - positions  # index columns come first
    out.columns = [_header(n, lang, values_of if i >= first_value else None)
                   + (f" ({currency})" if in_header and k == "money" else "")
                   for i, (n, k) in enumerate(zip(names, kinds, strict=True))]
    return out


def table_html(data, lang: str | None = None, max_rows: int | None = MAX_ROWS,
               title: str | None = None, locale: str | None = None,
               currency: str | None = None) -> str:
    """The HTML of a report table for a DataFrame or Series (everything escaped).

    Args:
        data: the table; a Series is shown as one column (its index kept if meaningful).
        lang: ``"en"`` or ``"es"``: headers (the context's language by default).
        max_rows: rows shown at most (``None`` = all); a note says how many were left out.
        title: an optional caption above the table (translated if a label exists).
        locale: number formats (``"es_CO"``); the context's, or ``lang``'s default.

    Example:
        >>> table_html(pd.Series([0.5], name="share"))
        '<div class="cl-table"><table><thead><tr><th>Share</th></tr></thead><tbody><tr><td>50.0%</td></tr></tbody></table></div>'
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table_html expects a DataFrame or Series, got {type(data).__name__}")
    lang, locale = resolve(lang, locale)
    total = len(frame)
    shown = frame if max_rows is None or total <= max_rows else frame.head(max_rows)
    text = format_frame(shown, lang, locale, currency)
    # a column of sentences (what a strategy does, a treatment) reads from the left
    prose = [i > 0 and any(len(v) > PROSE_CHARS for v in text.iloc[:, i])
             for i in range(text.shape[1])]
    head = "".join(f"<th{_PROSE if p else ''}>{html.escape(str(c))}</th>"
                   for c, p in zip(text.columns, prose, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{_PROSE if p else ''}>{html.escape(v)}</td>"
                         for v, p in zip(row, prose, strict=True)) + "</tr>"
        for row in text.itertuples(index=False, name=None)
    )
    parts = ['<div class="cl-table">']
    if title:
        parts.append(f"<strong>{html.escape(t(title, lang))}</strong>")
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if len(shown) < total:
        note = t("tables.first_rows", lang, shown=format_number(len(shown), 0, lang, locale),
                 total=format_number(total, 0, lang, locale))
        parts.append(f'<p class="cl-table-note">{html.escape(note)}</p>')
    parts.append("</div>")
    return "".join(parts)


def card_rows(total: int) -> int | None:
    """Rows a card shows of a table of ``total`` rows, as pandas shows a DataFrame: all
    of them up to ``display.max_rows`` (``None`` or 0 = no limit), else the first
    ``display.min_rows`` (``pd.set_option("display.max_rows", 200)`` lengthens every
    card as it does a DataFrame's).

    >>> with pd.option_context("display.max_rows", 60, "display.min_rows", 10):
    ...     card_rows(50), card_rows(233)
    (None, 10)
    """
    limit = pd.get_option("display.max_rows")
    if not limit or total <= limit:
        return None
    return int(pd.get_option("display.min_rows") or limit)


#: The red box of an alarm (a sample ratio mismatch): loud in any notebook theme.
ALARM_STYLE = "border:3px solid #c00;background:#fee;color:#000;padding:8px;font-weight:bold"


#: A card's tables: scroll sideways when wider than the notebook, cells on one line.
TABLES_STYLE = "overflow-x:auto;white-space:nowrap"


class Summary(str):
    """What a result's ``summary()`` returns: the text itself (a ``str``: reports join,
    escape and compare it as before), shown in a notebook as a paragraph (or one bullet
    per item) and printed as plain text, without quotes.

    >>> s = Summary("Paid sooner.", items=["Arm A: 2 days sooner.", "Arm B: same."])
    >>> s == "Paid sooner." and s.upper() == "PAID SOONER."
    True
    >>> s._repr_html_()
    '<div class="cl-summary-text"><p>Paid sooner.</p><ul><li>Arm A: 2 days sooner.</li><li>Arm B: same.</li></ul></div>'
    """

    items: tuple = ()

    def __new__(cls, text: str = "", items=None):
        obj = super().__new__(cls, text)
        obj.items = tuple(str(i) for i in items or ())
        return obj

    def _repr_html_(self) -> str:
        head = f"<p>{html.escape(str(self))}</p>" if str(self) and not self.items else ""
        if self.items:
            body = "".join(f"<li>{html.escape(i)}</li>" for i in self.items)
            head = f"<ul>{body}</ul>"
            if str(self) and str(self) != " ".join(self.items):
                head = f"<p>{html.escape(str(self))}</p>" + head
        return f'<div class="cl-summary-text">{head}</div>'

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's text view: no quotes
        printer.text("\n".join(f"- {i}" for i in self.items) if self.items
                     and str(self) == " ".join(self.items) else str(self))


def rich_summary(method):
    """Wrap a ``summary`` method so it returns a :class:`Summary` (its text unchanged)."""
    if getattr(method, "_returns_summary", False):
        return method

    @functools.wraps(method)
    def summary(self, *args, **kwargs):
        out = method(self, *args, **kwargs)
        return Summary(out) if isinstance(out, str) and not isinstance(out, Summary) else out

    summary._returns_summary = True
    return summary


def card_html(headline: str, title: str | None = None,
              tables: list | tuple = (), details: list | tuple = (),
              notes: list | tuple = (), lang: str | None = None,
              locale: str | None = None, currency: str | None = None,
              max_rows: int | None | str = "display", alarms: list | tuple = ()) -> str:
    """The HTML card of a public object: its headline first, then its main table(s) and
    cautions, and everything else folded in a ``<details>`` block.

    Args:
        headline: the sentence the card starts with (a result's summary, a portfolio's
            size and dates); shown after the bold ``title``.
        tables: ``[(title, DataFrame)]`` shown open (each at most ``max_rows`` rows).
        details: ``[(title, DataFrame or HTML text)]`` folded under "Details".
        notes: cautions, one sentence each, shown under the open tables.
        alarms: what makes the result untrustworthy (a sample ratio mismatch), in a red
            box right under the headline.
        max_rows: rows per table; ``"display"`` (default): as pandas shows a DataFrame
            (:func:`card_rows`).

    Example:
        >>> page = card_html("2 arms, p = 0.03.", "Log-rank test",
        ...                  tables=[("", pd.DataFrame({"group": ["a", "b"]}))],
        ...                  details=[("More", pd.DataFrame({"x": range(100)}))])
        >>> page.startswith('<div class="cl-card"><p class="cl-headline"><strong>Log-rank')
        True
        >>> "<details>" in page and "first 10 of 100 rows" in page
        True
    """
    lang, locale = resolve(lang, locale)
    title = title_text = t(title, lang) if title else ""
    headline = str(headline)
    if title and headline.startswith(title):  # "Log-rank test: chi² = ..." says it
        head = (f"<strong>{html.escape(title)}</strong>"
                f"{html.escape(headline[len(title):])}")
    else:
        heading = f"<strong>{html.escape(title)}</strong>" if title else ""
        sep = " — " if title and headline else ""
        head = f"{heading}{sep}{html.escape(headline)}"
    parts = ['<div class="cl-card">', f'<p class="cl-headline">{head}</p>']
    parts += [f'<div class="cl-alarm" style="{ALARM_STYLE}">{html.escape(a)}</div>'
              for a in alarms]

    def block(name, body):
        if name and t(name, lang) == title_text:  # the card already says it
            name = ""
        if isinstance(body, str):
            caption = f"<strong>{html.escape(t(name, lang))}</strong>" if name else ""
            return f'<div class="cl-table">{caption}{body}</div>'
        rows = card_rows(len(body)) if max_rows == "display" else max_rows
        return table_html(body, lang, rows, title=name or None, locale=locale,
                          currency=currency)

    if tables:  # wide tables scroll sideways; a number never breaks across lines
        parts.append(f'<div class="cl-card-tables" style="{TABLES_STYLE}">')
        parts += [block(name, body) for name, body in tables]
        parts.append("</div>")
    parts += [f'<p class="cl-note">&#9888; {html.escape(text)}</p>' for text in notes]
    if details:
        parts.append(f"<details><summary>{html.escape(t('card.details', lang))}</summary>")
        parts.append(f'<div style="{TABLES_STYLE}">')
        parts += [block(name, body) for name, body in details]
        parts.append("</div></details>")
    parts.append("</div>")
    return "".join(parts)


def text_card(headline: str, title: str | None = None, tables: list | tuple = (),
              notes: list | tuple = ()) -> str:
    """The plain-text twin of :func:`card_html` (``print(result)``): title, headline,
    the open tables at most pandas' ``display.max_rows`` rows, the notes."""
    shown = None if title and str(headline).startswith(title) else title
    lines = [f"{shown}: {headline}" if shown and headline else (shown or str(headline))]
    for name, frame in tables:
        if isinstance(frame, pd.DataFrame | pd.Series):
            if name and name != title:
                lines.append(f"\n{name}")
            lines.append(frame.to_string(max_rows=pd.get_option("display.max_rows"),
                                         min_rows=pd.get_option("display.min_rows")))
    lines += [f"! {n}" for n in notes]
    return "\n".join(lines)


def result_html(result, lang: str | None = None, max_rows: int | None = MAX_ROWS,
                locale: str | None = None) -> str:
    """The HTML of a result object (:class:`ResultMixin`) in a report: its
    ``report_html()`` when it has one, else each of its ``report_tables()`` under its
    title, then its notes (cautions) if it has any. (A notebook shows the result's
    card, ``_repr_html_``.)
    """
    own = getattr(result, "report_html", None)
    if callable(own):
        return own()
    return tables_html(result, lang, max_rows, locale)


def tables_html(result, lang: str | None = None, max_rows: int | None = MAX_ROWS,
                locale: str | None = None) -> str:
    """The tables and notes of a result object, whatever its own ``_repr_html_`` adds."""
    lang, locale = resolve(lang, locale)
    currency = getattr(result, "currency", None)  # one currency: said in the headers
    currency = currency if isinstance(currency, str) else None
    page = "".join(table_html(frame, lang, max_rows, title=title, locale=locale,
                              currency=currency)
                   for title, frame in result.report_tables())
    page += "".join(f'<p class="cl-note">&#9888; {html.escape(text)}</p>'
                    for text in result.note_texts(lang))
    return page


class ResultMixin:
    """Base of result dataclasses: a card in a notebook, text in a console.

    ``_repr_html_`` is the result's card (:func:`card_html`): :meth:`headline` first,
    then :meth:`card_tables` (a long table cut as pandas cuts a DataFrame), the
    notes, and :meth:`card_details` folded. ``__str__`` is the same as text. A report
    shows :meth:`report_tables` in full (:func:`result_html`). A subclass's
    ``summary()`` returns a :class:`Summary` (a ``str`` that renders in a notebook).

    Example:
        >>> import pandas as pd
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Mean(cl.ResultMixin):
        ...     value: float
        ...     title = "Mean"
        ...     def to_frame(self):
        ...         return pd.DataFrame({"mean": [self.value]})
        ...     def summary(self, lang=None):
        ...         return f"The mean is {self.value}."
        >>> Mean(2.0)._repr_html_()[:75]
        '<div class="cl-card"><p class="cl-headline"><strong>Mean</strong> — The mea'
        >>> print(Mean(2.0))
        Mean: The mean is 2.0.
           mean
        0   2.0
    """

    #: Title shown above the table (a catalogue key or plain text); subclasses may override.
    title: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if callable(cls.__dict__.get("summary")):
            cls.summary = rich_summary(cls.__dict__["summary"])
        if "_repr_pretty_" not in cls.__dict__:  # IPython prefers it to the class's own
            cls._repr_pretty_ = ResultMixin._repr_pretty_  # (dataclass) __repr__

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _title(self) -> str:
        return self.title or type(self).__name__

    def report_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables this result shows, each with its title: ``[(title, to_frame())]``;
        a result with more tables extends the list (reports format each the same way)."""
        return [(self._title(), self.to_frame())]

    def note_texts(self, lang: str | None = None) -> list[str]:
        """Cautions shown under the tables (none by default)."""
        return []

    def headline(self, lang: str | None = None) -> str:
        """The sentence a card starts with: ``summary(lang)`` where the result has one,
        else the size of its table."""
        summary = getattr(self, "summary", None)
        if callable(summary):
            try:
                return str(summary(lang=lang))
            except TypeError:  # a summary() without a language
                return str(summary())
        frame = self.to_frame()
        return t("card.rows", lang, rows=format_number(len(frame), 0, lang))

    def card_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables a card shows open: the first of :meth:`report_tables`."""
        return self.report_tables()[:1]

    def card_details(self) -> list[tuple[str, object]]:
        """What a card folds under "Details": the other :meth:`report_tables`."""
        return self.report_tables()[1:]

    def _card_notes(self, lang) -> list[str]:
        headline = self.headline(lang)  # notes already in the headline are not repeated
        return [n for n in self.note_texts(lang) if n not in headline]

    def card_alarms(self, lang: str | None = None) -> list[str]:
        """What makes this result untrustworthy, shown in red under the headline (none
        by default; a readout with a sample ratio mismatch has one)."""
        return []

    def _repr_html_(self) -> str:
        lang, locale = resolve(None)
        currency = getattr(self, "currency", None)
        return card_html(self.headline(lang), self._title(), self.card_tables(),
                         self.card_details(), self._card_notes(lang), lang, locale,
                         currency if isinstance(currency, str) else None,
                         alarms=self.card_alarms(lang))

    def _repr_pretty_(self, printer, cycle) -> None:
        """IPython's text view (a console, the text/plain of a saved notebook): the card
        as text, not the dataclass repr with every table in it."""
        printer.text(str(self))

    def __str__(self) -> str:
        lang, _ = resolve(None)
        return text_card(self.headline(lang), t(self._title(), lang), self.card_tables(),
                         self._card_notes(lang))


def _setting_text(value) -> str:
    """A setting's value in a few characters (nested settings by their class name)."""
    if hasattr(value, "__dataclass_fields__"):
        return f"{type(value).__name__}(…)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


class SettingsCard:
    """The card of a settings object (a dataclass such as a behaviour model, economics,
    a reminder or a column mapping): a headline saying how many settings differ from
    their defaults, then one row per setting (its name as you pass it, its value and
    whether it is the default). The names stay as written because they are the
    keyword arguments an analyst types.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Costs(SettingsCard):
        ...     rate: float = 0.1
        ...     fee: float = 5.0
        >>> card = Costs(rate=0.2)._repr_html_()
        >>> card.startswith('<div class="cl-card"><p class="cl-headline"><strong>Costs')
        True
        >>> "1 of 2 settings differ from their defaults" in card
        True
    """

    def settings_frame(self) -> pd.DataFrame:
        """One row per setting: ``setting``, ``value`` (short text), ``default`` (bool)."""
        import dataclasses

        rows = []
        for f in dataclasses.fields(self):
            if f.name.startswith("_") or not f.repr:
                continue
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = dataclasses.MISSING
            try:
                same = default is not dataclasses.MISSING and bool(value == default)
            except (TypeError, ValueError):  # arrays, frames: compare by their text
                same = repr(value) == repr(default)
            rows.append({"setting": f.name, "value": _setting_text(value), "default": same})
        return pd.DataFrame(rows, columns=["setting", "value", "default"])

    def _repr_html_(self) -> str:
        lang, _ = resolve(None, None)
        frame = self.settings_frame().set_index("setting")
        changed = ~frame["default"].astype(bool)
        headline = t("card.settings", lang, changed=int(changed.sum()), n=len(frame))
        frame["default"] = frame["default"].map(
            {True: t("card.default_yes", lang), False: t("card.default_no", lang)})
        return card_html(headline, type(self).__name__,
                         tables=[("", frame[changed])] if changed.any() else [],
                         details=[("", frame)], lang=lang)
