"""Sentences that keep the pages' story together: exchange rates wherever amounts are
converted (the strategy lab, the index brief), from the rates actually used; the arms of
a new design that the strategy lab predicts to lose money (the lab's last run, read from
the run log the index is built from).

Example:
    >>> fx_sentence({"COP": 4000.0, "EUR": 0.92, "USD": 1.0}, ["COP", "EUR", "USD"], "en")
    'Amounts in USD, converted at COP 4,000 and EUR 0.92 per USD (the rates the lab was given).'
    >>> fx_sentence(None, ["COP"], "en")
    ''
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .. import i18n

#: The report whose comparison says which strategies lose money.
LAB_REPORT = "05_strategy_lab"


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


def losing_strategies(comparison) -> dict:
    """Facts the strategy lab records for other pages: the strategies whose net value is
    below the reference's in 95% of the simulations (``gain_high < 0``), with their gain
    and interval, the reference and the currency."""
    if comparison is None:
        return {}
    frame = comparison.to_frame()
    lose = frame[frame["gain_high"] < 0]
    return {"reference": str(comparison.reference),
            "losing": {str(k): [float(r["gain_vs_reference"]), float(r["gain_low"]),
                                float(r["gain_high"])] for k, r in lose.iterrows()},
            "lab_currency": str(comparison.currency)}


def _reports_dir() -> Path:
    """The reports directory of this run: the runner's staging folder sits in
    ``<reports>/<report>/``; outside the runner, the project's ``reports/``."""
    from .notebook import FILES_ENV
    from .paths import reports_dir

    staging = os.environ.get(FILES_ENV)
    return Path(staging).parent.parent if staging else reports_dir()


def lab_losers(arms, data=None, as_of=None, reports_dir=None) -> tuple[dict, dict]:
    """Of ``arms``, those the last successful strategy-lab run on the same data and date
    predicts to lose money: ``({arm: (gain, low, high)}, run facts)``; ``({}, {})`` when
    the lab has not run on this data (nothing is claimed then).

    >>> lab_losers(["a"], reports_dir="/nonexistent")
    ({}, {})
    """
    from .store import read_runs

    try:
        runs = read_runs(reports_dir if reports_dir is not None else _reports_dir())
    except (OSError, ValueError):
        return {}, {}
    wanted_as_of = None if as_of is None else pd.Timestamp(as_of).date().isoformat()
    for run in reversed(runs):
        params = run.get("parameters") or {}
        if run.get("report") != LAB_REPORT or run.get("status") != "ok":
            continue
        if (params.get("data") or None) != (data or None):
            continue
        if wanted_as_of is not None and run.get("as_of") != wanted_as_of:
            continue
        facts = (run.get("page") or {}).get("facts") or {}
        losing = facts.get("losing") or {}
        found = {a: tuple(losing[a]) for a in arms if a in losing}
        return found, {**facts, "started_at": run.get("started_at"), "as_of": run.get("as_of")}
    return {}, {}


def losing_arm_warnings(arms, lang: str = "en", data=None, as_of=None,
                        reports_dir=None) -> list[str]:
    """One sentence per arm of a new design the strategy lab predicts to lose money."""
    from .page import compact_money

    found, facts = lab_losers(arms, data, as_of, reports_dir)
    cur = facts.get("lab_currency") or facts.get("currency") or ""
    date = str(facts.get("started_at") or "")[:10]
    return [i18n.t("xd_losing_arm", lang).format(
                arm=arm, date=date, reference=facts.get("reference", "–"),
                gain=compact_money(g, cur, lang), low=compact_money(lo, cur, lang),
                high=compact_money(hi, cur, lang))
            for arm, (g, lo, hi) in found.items()]
