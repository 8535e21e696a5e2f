"""The cash forecast as page 02 shows it: dated weeks, a band, a total, the remainder.

:func:`cash_forecast_table` turns :func:`~collections_lab.survival.prediction.expected_cash`
into a table a CFO reads: one row per week, labelled by its first day in the report's
locale, the expected amount per currency with its band (the model's predictive
distribution, simulated: see ``expected_cash``), the total of the forecast weeks and
what is not expected within them. :func:`cash_remainder` says in words why part of the
open receivables is not in the forecast, from the figures every page shares
(:func:`~collections_lab.analytics.figures.shared_figures`).

Example:
    >>> import pandas as pd
    >>> cash = pd.DataFrame({"currency": ["EUR", "EUR"], "week": [1, None],
    ...     "period": ["week", "later/never"],
    ...     "period_start": [pd.Timestamp("2026-06-01"), pd.NaT],
    ...     "expected_amount": [600.0, 400.0], "low": [500.0, 300.0], "high": [700.0, 500.0],
    ...     "cumulative": [600.0, None], "cumulative_low": [500.0, None],
    ...     "cumulative_high": [700.0, None]})
    >>> cash_forecast_table(cash, "en").iloc[0].tolist()
    ['Jun 1, 2026', '600', '500 – 700']
    >>> "banda del 80" in cash_forecast_table(cash, "es").columns[-1]
    True
"""

from __future__ import annotations

import pandas as pd

from .. import i18n


def _week_label(day, lang: str) -> str:
    from babel.dates import format_date

    return format_date(pd.Timestamp(day).date(), "medium", locale=i18n.resolve(lang)[1])


def _money(v: float, lang: str) -> str:
    return i18n.format_number(v, 0, lang) if pd.notna(v) else "–"


def _range(low: float, high: float, lang: str) -> str:
    """A band short enough for a table cell: ``1.2B – 2.2B`` (the header says the
    currency)."""
    from .page import compact_number  # (es: 6.800 M, not 6800,1 M)

    return f"{compact_number(low, lang)} – {compact_number(high, lang)}"


def cash_forecast_table(cash: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Weeks (by their first day) × currencies: expected amount and band, then the total
    of the forecast weeks and the amount not expected within them. Empty when nothing is
    open. Amounts are never added across currencies."""
    if cash is None or cash.empty or "low" not in cash:
        return pd.DataFrame()
    weekly = cash[cash["period"] == "week"]
    level = i18n.format_pct(cash.attrs.get("level", 0.8), 0, lang)
    week_col = i18n.t("cash.week_starting", lang)
    band = i18n.t("cash.band", lang)
    rows: dict = {}
    for cur, sub in weekly.groupby("currency", sort=True):
        for _, r in sub.iterrows():
            key = _week_label(r["period_start"], lang)
            rows.setdefault(key, {week_col: key})
            rows[key][cur] = _money(r["expected_amount"], lang)
            rows[key][f"{cur}, {band.format(level=level)}"] = _range(r["low"], r["high"], lang)
        last = sub.iloc[-1]
        total = i18n.t("cash.total", lang).format(n=len(sub))
        rows.setdefault(total, {week_col: total})
        rows[total][cur] = _money(last["cumulative"], lang)
        rows[total][f"{cur}, {band.format(level=level)}"] = _range(
            last["cumulative_low"], last["cumulative_high"], lang)
        rest = cash[(cash["currency"] == cur) & (cash["period"] != "week")]
        if len(rest):
            later = i18n.t("cash.later", lang).format(n=len(sub))
            rows.setdefault(later, {week_col: later})
            rows[later][cur] = _money(rest["expected_amount"].iloc[0], lang)
            rows[later][f"{cur}, {band.format(level=level)}"] = _range(
                rest["low"].iloc[0], rest["high"].iloc[0], lang)
    return pd.DataFrame(list(rows.values())).fillna("–")


def cash_remainder(cash: pd.DataFrame, figures, lang: str = "en") -> list[str]:
    """One sentence per currency: how much of the open receivables the forecast weeks do
    not expect, split into what is at legal collection (not forecast: the collection
    agency works on it) and what the payment curves expect later or never.

    ``figures`` is :func:`~collections_lab.analytics.figures.shared_figures` at the
    report's date (the receivables page 01 shows). Expected + legal + later adds up to
    the receivables.
    """
    from .page import compact_money

    if cash is None or cash.empty or figures is None:
        return []
    weekly = cash[cash["period"] == "week"]
    n = int(weekly["week"].max()) if len(weekly) else 0
    out = []
    for _, row in figures.frame.iterrows():
        cur = row["currency"]
        if cur not in set(cash["currency"]):  # a report restricted to one currency
            continue
        expected = float(weekly.loc[weekly["currency"] == cur, "expected_amount"].sum())
        later = cash.loc[(cash["currency"] == cur) & (cash["period"] != "week"),
                         "expected_amount"].sum()
        legal = float(row["at_legal_amount"])
        missing = row["receivables"] - expected
        if row["receivables"] <= 0:
            continue
        out.append(i18n.t("cash.remainder", lang).format(
            missing=compact_money(missing, cur, lang),
            open=compact_money(row["receivables"], cur, lang), n=n,
            legal=compact_money(legal, cur, lang),
            k=i18n.format_number(int(row["at_legal_collection"]), 0, lang),
            later=compact_money(later, cur, lang)))
    return out


def cash_band_note(cash: pd.DataFrame, lang: str = "en") -> list[str]:
    """How the band was made, in one sentence (empty when there is no band)."""
    if cash is None or cash.empty or "low" not in cash:
        return []
    level = i18n.format_pct(cash.attrs.get("level", 0.8), 0, lang)
    draws = i18n.format_number(cash.attrs.get("draws", 1000), 0, lang)
    return [i18n.t("cash.band_note", lang).format(level=level, draws=draws)]
