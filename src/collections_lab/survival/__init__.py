"""Time-to-payment survival toolkit: curves, RMST, regression, competing outcomes, cure,
payment-date predictions and plots, on the payment-times frame.

Every estimator takes the payment-times frame (one row per invoice) or, for scale, a
counts table from :func:`count_table` / :func:`count_table_duckdb` with ``weight_col="n"``
(same estimates, tested to 1e-8). Durations are whole days (lifelines' fast paths).

Example
-------
``pt`` is the payment-times frame of a small simulated A/B test (arms ``control`` and
``treatment``; see ``conftest.py``):

>>> from collections_lab.survival import kaplan_meier, rmst
>>> km = kaplan_meier(pt, by="arm", axis="due", cluster_col="customer_id")
>>> km.prob_paid_by([0, 15, 30])[["group", "day", "prob_paid"]].round(2)
       group  day  prob_paid
0    control    0       0.59
1    control   15       0.89
2    control   30       0.92
3  treatment    0       0.84
4  treatment   15       0.96
5  treatment   30       0.97
>>> diff = rmst(pt, tau=90, by="arm").difference(reference="control")
>>> diff[["group", "reference", "difference"]].round(1)   # days to payment saved
       group reference  difference
0  treatment   control        -4.3
"""

from ._common import Note, SurvivalInputError, SurvivalWarning
from .aggregated import count_table, count_table_duckdb
from .competing import CumulativeIncidence, GrayTestResult, cumulative_incidence, gray_test
from .cure import CureFractionResult, cure_fraction
from .curves import (
    LogRankResult,
    SurvivalCurves,
    escalated_as_unpaid,
    kaplan_meier,
    logrank,
    prob_paid_by_due,
    standardized_prob_paid,
)
from .prediction import (
    CalibrationResult,
    PaymentDatePredictor,
    PaymentPredictions,
    calibrate_predictions,
    censor_at,
    expected_cash,
)
from .regression import (
    AFTResult,
    CoxResult,
    PHCheck,
    check_proportional_hazards,
    concordance,
    fit_aft,
    fit_cox,
    fit_cox_counts,
    fit_time_varying_cox,
    reminder_intervals,
)
from .rmst import RMSTDifference, RMSTResult, rmst, rmst_difference

__all__ = [
    "AFTResult", "CalibrationResult", "CoxResult", "CumulativeIncidence", "CureFractionResult", "GrayTestResult",
    "LogRankResult", "PHCheck", "PaymentDatePredictor", "PaymentPredictions", "RMSTDifference",
    "RMSTResult",
    "Note", "SurvivalCurves", "SurvivalInputError", "SurvivalWarning", "calibrate_predictions", "censor_at",
    "check_proportional_hazards", "concordance", "count_table", "count_table_duckdb",
    "cumulative_incidence", "cure_fraction", "escalated_as_unpaid", "expected_cash", "fit_aft",
    "fit_cox", "fit_cox_counts", "fit_time_varying_cox", "gray_test", "kaplan_meier", "logrank",
    "prob_paid_by_due",
    "reminder_intervals", "rmst", "rmst_difference", "standardized_prob_paid",
]
