"""Portfolio analytics: KPIs as of any date, payment discipline, segments, alerts, churn.

Modules
-------
- :mod:`.kpis`: aging, DSO (standard, countback), CEI, ADD, at-risk rate, monthly trends.
- :mod:`.discipline`: payment discipline per customer (on-time rate, days late, trend).
- :mod:`.segments`: rule-based payer tiers, k-means clusters, suggested treatments.
- :mod:`.alerts`: behaviour-change alerts (CUSUM on each customer's own history).
- :mod:`.churn`: probability of no new invoice in the next 90 days.
- :mod:`.engagement`: exportable thank-you and call lists.
- :mod:`.plots`: seaborn figures for all of the above, labels in en/es.
"""

from importlib import import_module

#: Public name -> submodule. Loaded on first use (PEP 562), so importing the KPIs does not
#: pay for scikit-learn or seaborn.
_EXPORTS = {
    "AlertEvaluation": "alerts", "AlertParams": "alerts", "Alerts": "alerts",
    "alert_tradeoff": "alerts", "behaviour_alerts": "alerts", "evaluate_alerts": "alerts",
    "ChurnModel": "churn", "ChurnValidation": "churn", "churn_features": "churn",
    "churn_validation": "churn",
    "Discipline": "discipline", "discipline_over_time": "discipline",
    "payment_discipline": "discipline",
    "EngagementList": "engagement", "call_list": "engagement", "open_balances": "engagement",
    "thank_list": "engagement",
    "PortfolioHealth": "health", "portfolio_health": "health",
    "BUCKETS": "kpis", "KPITable": "kpis", "MixedCurrencyError": "kpis",
    "NoInvoicesError": "kpis", "aging": "kpis", "at_risk_rate": "kpis", "cei": "kpis",
    "dso": "kpis", "kpi_report": "kpis", "kpi_snapshot": "kpis", "monthly_trends": "kpis",
    "Ledger": "ledger",
    "Clusters": "segments", "TierRules": "segments",
    "Tiers": "segments", "payer_clusters": "segments", "payer_tiers": "segments",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
