"""Sentences that keep the pages' story together: exchange rates wherever amounts are
converted (the strategy lab, the index brief), from the rates actually used.

Example:
    >>> fx_sentence({"COP": 4000.0, "EUR": 0.92, "USD": 1.0}, ["COP", "EUR", "USD"], "en")
    'Amounts in USD, converted at COP 4,000 and EUR 0.92 per USD (the rates the lab was given).'
    >>> fx_sentence(None, ["COP"], "en")
    ''
"""

from __future__ import annotations

from .. import i18n


def fx_rates_text(fx: dict | None, currencies, lang: str = "en") -> str:
    """``COP 4,000 and EUR 0.92`` — the units per USD of ``currencies`` (USD left out);
    empty when nothing was converted."""
    if not fx:
        return ""
    parts = []
    for cur in sorted({str(c) for c in currencies}):
        if cur == "USD" or cur not in fx:
            continue
        rate = float(fx[cur])
        digits = 0 if rate >= 100 else 2 if rate >= 0.1 else 4
        parts.append(f"{cur} {i18n.format_number(rate, digits, lang)}")
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return i18n.t("fx.and", lang).format(head=", ".join(parts[:-1]), last=parts[-1])


def fx_sentence(fx: dict | None, currencies, lang: str = "en") -> str:
    """The sentence a page shows above converted amounts (empty when none were)."""
    rates = fx_rates_text(fx, currencies, lang)
    return i18n.t("fx.converted", lang).format(rates=rates) if rates else ""
