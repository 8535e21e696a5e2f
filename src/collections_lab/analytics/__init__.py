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

from .kpis import (
    BUCKETS,
    KPITable,
    MixedCurrencyError,
    NoInvoicesError,
    aging,
    at_risk_rate,
    cei,
    dso,
    kpi_snapshot,
    monthly_trends,
)

__all__ = [
    "BUCKETS",
    "KPITable",
    "MixedCurrencyError",
    "NoInvoicesError",
    "aging",
    "at_risk_rate",
    "cei",
    "dso",
    "kpi_snapshot",
    "monthly_trends",
]
