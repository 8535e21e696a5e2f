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

from .alerts import (
    AlertEvaluation,
    AlertParams,
    Alerts,
    alert_tradeoff,
    behaviour_alerts,
    evaluate_alerts,
)
from .churn import ChurnModel, ChurnValidation, churn_features, churn_validation
from .discipline import Discipline, discipline_over_time, payment_discipline
from .engagement import EngagementList, call_list, open_balances, thank_list
from .kpis import (
    BUCKETS,
    KPITable,
    MixedCurrencyError,
    NoInvoicesError,
    aging,
    at_risk_rate,
    cei,
    dso,
    kpi_report,
    kpi_snapshot,
    monthly_trends,
)
from .segments import TREATMENTS, Clusters, TierRules, Tiers, payer_clusters, payer_tiers

__all__ = [
    "BUCKETS",
    "TREATMENTS",
    "AlertEvaluation",
    "AlertParams",
    "Alerts",
    "ChurnModel",
    "ChurnValidation",
    "Clusters",
    "Discipline",
    "EngagementList",
    "KPITable",
    "MixedCurrencyError",
    "NoInvoicesError",
    "TierRules",
    "Tiers",
    "aging",
    "alert_tradeoff",
    "at_risk_rate",
    "behaviour_alerts",
    "call_list",
    "cei",
    "churn_features",
    "churn_validation",
    "discipline_over_time",
    "dso",
    "evaluate_alerts",
    "kpi_report",
    "kpi_snapshot",
    "monthly_trends",
    "open_balances",
    "payer_clusters",
    "payer_tiers",
    "payment_discipline",
    "thank_list",
]
