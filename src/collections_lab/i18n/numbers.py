"""Numbers, money and percentages in a real locale (babel / CLDR), for tables, text and axes.

The ISO code (not a symbol) precedes every amount because ``$`` means USD, MXN and COP
alike; a currency has CLDR's digits (COP and CLP none, EUR, MXN and USD two). Separators
are the locale's: ``es_CO`` and ``es_ES`` write ``1.234,5``, ``es_MX`` and ``en_US``
``1,234.5``. Values are rounded by Python's ``round`` before babel writes them, so a
figure's digits do not depend on the locale. A no-break space of the locale's pattern is
written as a plain space (``12,3 %``).

>>> format_money(12542457, "COP", locale="es_CO")
'COP 12.542.457'
>>> format_money(41846701.11, "MXN", locale="es_MX")
'MXN 41,846,701.11'
>>> format_money(1234.5, "EUR", "es"), format_pct(0.123, 1, "es"), format_pct(0.123)
('EUR 1.234,50', '12,3 %', '12.3%')
>>> format_number(1234.5, 1, "es"), format_number(1234.5, 1, locale="es_MX")
('1.234,5', '1,234.5')
"""

from __future__ import annotations

import functools
import math

from .context import resolve

#: Shown for a missing number by :func:`format_number` and friends.
MISSING_NUMBER = "–"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def _plain_spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


@functools.cache
def currency_digits(currency: str) -> int:
    """CLDR's number of decimals of a currency (``COP`` 0, ``EUR`` 2).

    >>> currency_digits("COP"), currency_digits("MXN")
    (0, 2)
    """
    from babel.numbers import get_currency_precision

    return get_currency_precision(str(currency))


def is_currency(code) -> bool:
    """Whether ``code`` is an ISO 4217 currency code CLDR knows (``"EUR"``).

    >>> is_currency("COP"), is_currency("segment")
    (True, False)
    """
    from babel.numbers import is_currency as _is

    text = str(code)
    return len(text) == 3 and text.isupper() and _is(text)


@functools.cache
def _separators(locale: str) -> tuple[str, str] | None:
    """The locale's (decimal, group) symbols from CLDR when it groups by thousands with
    Latin digits (every locale of the reports), else None (babel formats those)."""
    from babel import Locale

    loc = Locale.parse(locale)
    if loc.decimal_formats[None].pattern != "#,##0.###":
        return None
    symbols = loc.number_symbols
    symbols = symbols.get("latn", symbols)
    return symbols["decimal"], symbols["group"]


@functools.cache
def _percent_affixes(locale: str) -> tuple[str, str]:
    """Text before and after the number in the locale's percent pattern (``"", " %"``)."""
    from babel import Locale

    pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    start = min(i for i in (pattern.find("#"), pattern.find("0")) if i >= 0)
    return (_plain_spaces(pattern[:start]),
            _plain_spaces(pattern[pattern.rfind("0") + 1:]))


def _decimal_text(value, decimals: int, locale: str) -> str:
    rounded = round(value, decimals) if decimals > 0 else round(value)
    separators = _separators(locale)
    if separators is None:
        from babel.numbers import format_decimal

        return _plain_spaces(format_decimal(rounded, format=_pattern(decimals), locale=locale,
                                            decimal_quantization=True))
    # CLDR's symbols on Python's digits (the same text as babel's, ten times faster)
    decimal, group = separators
    text = f"{rounded:,.{decimals}f}"
    return _plain_spaces(text.replace(",", "\0").replace(".", decimal).replace("\0", group))


def format_number(value, decimals: int | None = 0, lang: str | None = None,
                  locale: str | None = None) -> str:
    """A number with ``decimals`` decimals and the locale's separators; ``decimals=None``
    writes as many as the value has (at most six: a level such as ``0.01``).

    ``lang`` and ``locale`` default to the context (:func:`~collections_lab.i18n.options`).

    Example:
        >>> format_number(1234567.891, 2, locale="es_CO")
        '1.234.567,89'
        >>> format_number(0.01, None, "es"), format_number(float("nan"))
        ('0,01', '–')
    """
    if _missing(value):
        return MISSING_NUMBER
    _, locale = resolve(lang, locale)
    if decimals is None:
        from babel.numbers import format_decimal

        return _plain_spaces(format_decimal(round(value, 6), format="#,##0.######",
                                            locale=locale))
    return _decimal_text(value, decimals, locale)


def format_money(amount, currency: str, lang: str | None = None, locale: str | None = None,
                 decimals: int | None = None) -> str:
    """An amount with its ISO code first and the currency's CLDR digits.

    ``decimals`` overrides the currency's digits (axis ticks of round amounts use 0).

    Example:
        >>> format_money(1234567.891, "COP", "es")
        'COP 1.234.568'
        >>> format_money(-1234.5, "EUR", locale="en_US")
        'EUR -1,234.50'
    """
    if decimals is None:
        decimals = currency_digits(currency)
    return f"{currency} {format_number(amount, decimals, lang, locale)}"


def format_month(day, lang: str | None = None, locale: str | None = None) -> str:
    """A month as a reader writes it in ``lang``: ``Feb 2026`` (en), ``feb 2026`` (es).

    >>> format_month("2026-02-01"), format_month("2026-02-01", "es")
    ('Feb 2026', 'feb 2026')
    """
    import datetime as _dt

    from babel.dates import format_date

    _, locale = resolve(lang, locale)
    day = _dt.date.fromisoformat(str(day)[:10])
    return format_date(day, "MMM yyyy", locale=locale)


def format_pct(share, decimals: int | None = 1, lang: str | None = None,
               locale: str | None = None) -> str:
    """A share (0.123) as a percentage in the locale's pattern (``12.3%``, ``12,3 %``).

    ``decimals=None``: a whole percentage without decimals, any other with one (a
    significance level of 5 % or, split between two comparisons, 2.5 %).

    Example:
        >>> format_pct(0.5, 0, locale="es_CO"), format_pct(None)
        ('50%', '–')
        >>> format_pct(0.05, None), format_pct(0.025, None), format_pct(0.025, None, "es")[:3]
        ('5%', '2.5%', '2,5')
    """
    if _missing(share):
        return MISSING_NUMBER
    if decimals is None:
        decimals = 0 if abs(100 * share - round(100 * share)) < 1e-9 else 1
    _, locale = resolve(lang, locale)
    before, after = _percent_affixes(locale)
    return before + _decimal_text(100 * share, decimals, locale) + after


# ---------------------------------------------------------------- chart axes


def _tick_decimals(value: float, most: int = 2) -> int:
    """Just enough decimals for a tick value (0.25 → 2, 1500 → 0)."""
    for decimals in range(most + 1):
        if abs(round(value, decimals) - value) <= 1e-12 * max(1000.0, abs(value)):
            return decimals
    return most


def tick_formatter(kind: str = "number", currency: str | None = None,
                   lang: str | None = None, locale: str | None = None):
    """A matplotlib ``FuncFormatter`` writing tick labels in the report's locale.

    ``kind`` is ``"number"``, ``"share"`` (0.25 → ``25%``) or ``"money"`` (with the
    ``currency`` code: ``COP 12.000.000``). The language and locale are taken when the
    formatter is made (the report's, by default).

    >>> tick_formatter("money", "COP", locale="es_CO")(12000000, 0)
    'COP 12.000.000'
    >>> tick_formatter("share", locale="es_ES")(0.25, 0)
    '25 %'
    """
    from matplotlib.ticker import FuncFormatter

    lang, locale = resolve(lang, locale)

    def label(value, _position=None):
        if not math.isfinite(value):
            return ""
        if kind == "share":
            return format_pct(value, _tick_decimals(100 * value, 1), lang, locale)
        if kind == "money" and currency:
            digits = min(_tick_decimals(value), currency_digits(currency))
            return format_money(value, currency, lang, locale, decimals=digits)
        return format_number(value, _tick_decimals(value, 3), lang, locale)

    return FuncFormatter(label)


def format_axis(ax, axis: str = "y", kind: str = "number", currency: str | None = None,
                lang: str | None = None, locale: str | None = None):
    """Write one axis's tick labels with :func:`tick_formatter` (no offset, no ``1e6``).

    Returns ``ax``. ``axis`` is ``"x"``, ``"y"`` or ``"both"``.
    """
    formatter = tick_formatter(kind, currency, lang, locale)
    axes = [ax.xaxis, ax.yaxis] if axis == "both" else [getattr(ax, f"{axis}axis")]
    for one in axes:
        one.set_major_formatter(formatter)
    return ax


def localize_figure(fig, lang: str | None = None, locale: str | None = None):
    """Write every plain numeric axis of ``fig`` in the locale (:func:`tick_formatter`
    ``"number"``: separators of the locale, no offset or ``1e6`` multiplier).

    Axes that already have their own formatter (money, dates, categories, log scales)
    keep it. Returns ``fig``.
    """
    from matplotlib.ticker import ScalarFormatter

    lang, locale = resolve(lang, locale)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(tick_formatter("number", None, lang, locale))
    return fig


def axis_multipliers(fig) -> list[str]:
    """Axes of ``fig`` whose ticks a reader would have to decode: an offset or multiplier
    beside the axis (``1e9``, ``+3.2e4``) or tick labels in powers of ten (``10^0``,
    ``4×10^-1``, ``2e6``). Empty when every axis writes plain numbers.

    Reads each axis's formatter at its current ticks (what drawing would show), without
    drawing the figure.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [3e9, 4e9])
    >>> axis_multipliers(fig)
    ['y axis: 1e9']
    >>> axis_multipliers(localize_figure(fig))
    []
    >>> plt.close(fig)
    """
    import re

    powers = re.compile(r"10\^|\\times|×\s*10|\d[eE][+-]?\d")
    found = []
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            formatter = axis.get_major_formatter()
            locs = [v for v in axis.get_majorticklocs() if math.isfinite(v)]
            lo, hi = axis.get_view_interval()
            locs = [v for v in locs if min(lo, hi) <= v <= max(lo, hi)]
            if not locs:
                continue
            formatter.set_locs(locs)
            offset = formatter.get_offset() if hasattr(formatter, "get_offset") else ""
            offset = offset.strip().replace("$", "").replace("\\mathdefault", "")
            labels = [str(formatter(v, i)) for i, v in enumerate(locs)]
            where = f"{ax.get_title() or ax.get_ylabel() or ax.get_xlabel()} " \
                if (ax.get_title() or ax.get_ylabel() or ax.get_xlabel()) else ""
            if offset:
                found.append(f"{where}{name} axis: {offset}")
            bad = [x for x in labels if powers.search(x)]
            if bad:
                found.append(f"{where}{name} axis ticks: {', '.join(bad[:3])}")
    return found
