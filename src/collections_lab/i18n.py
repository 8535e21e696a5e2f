"""Report language and number formatting: Spanish and English, amounts in COP, MXN, EUR, USD.

Reports are read by managers, often in Spanish, so every label a plot or summary shows goes
through :func:`t`, and every amount through :func:`format_money`. Spanish uses a dot for
thousands and a comma for decimals (``1.234.567,89``); English the reverse.

Example
-------
>>> format_money(1234567.891, "COP", "es")
'COP 1.234.568'
>>> format_money(1234.5, "EUR", "en")
'EUR 1,234.50'
>>> t("paid", "es")
'pagada'
"""

from __future__ import annotations

import math

from .schema import CURRENCY_DECIMALS

LANGUAGES = ("en", "es")

#: Labels shared by plots, tables and summaries. Modules may add their own keys with
#: :func:`register` at import time; a key missing in Spanish falls back to English.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "paid": "paid",
        "open": "open",
        "escalated": "escalated",
        "written_off": "written off",
        "days_since_issue": "Days since issue",
        "days_relative_to_due": "Days relative to due date",
        "share_unpaid": "Share still unpaid",
        "share_paid": "Share paid",
        "cumulative_incidence": "Cumulative incidence",
        "segment": "Segment",
        "arm": "Arm",
        "amount": "Amount",
        "invoices": "Invoices",
        "customers": "Customers",
        "customer": "Customer",
        "estimate": "Estimate",
        "ci_low": "95% CI low",
        "ci_high": "95% CI high",
        "p_value": "p-value",
        "month": "Month",
        "days": "days",
        "current": "current",
        "control": "control",
    },
    "es": {
        "paid": "pagada",
        "open": "abierta",
        "escalated": "escalada",
        "written_off": "castigada",
        "days_since_issue": "Días desde la emisión",
        "days_relative_to_due": "Días respecto al vencimiento",
        "share_unpaid": "Proporción aún sin pagar",
        "share_paid": "Proporción pagada",
        "cumulative_incidence": "Incidencia acumulada",
        "segment": "Segmento",
        "arm": "Brazo",
        "amount": "Importe",
        "invoices": "Facturas",
        "customers": "Clientes",
        "customer": "Cliente",
        "estimate": "Estimación",
        "ci_low": "IC 95% inferior",
        "ci_high": "IC 95% superior",
        "p_value": "valor p",
        "month": "Mes",
        "days": "días",
        "current": "al día",
        "control": "control",
    },
}


def check_language(lang: str) -> str:
    """Return ``lang`` if supported, else raise a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported report language {lang!r}; choose one of {LANGUAGES}")
    return lang


def register(labels: dict[str, dict[str, str]]) -> None:
    """Add labels (``{"en": {...}, "es": {...}}``) for a module's plots and summaries."""
    for lang, entries in labels.items():
        LABELS.setdefault(lang, {}).update(entries)


def t(key: str, lang: str = "en") -> str:
    """Translate a label key; unknown keys come back unchanged (readable, never a crash)."""
    check_language(lang)
    return LABELS[lang].get(key) or LABELS["en"].get(key, key)


def format_number(value: float, decimals: int = 0, lang: str = "en") -> str:
    """Format a number with the language's thousands and decimal separators.

    >>> format_number(1234.5, 1, "es")
    '1.234,5'
    """
    check_language(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_money(amount: float, currency: str, lang: str = "en") -> str:
    """Format an amount in a currency: ISO code first, currency-appropriate decimals.

    The ISO code (not a symbol) is used because ``$`` means USD, MXN and COP alike.
    """
    decimals = CURRENCY_DECIMALS.get(currency, 2)
    return f"{currency} {format_number(amount, decimals, lang)}"


def format_pct(share: float, decimals: int = 1, lang: str = "en") -> str:
    """Format a share (0.123) as a percentage ('12.3%' / '12,3 %')."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    text = format_number(100 * share, decimals, lang)
    return f"{text} %" if lang == "es" else f"{text}%"
