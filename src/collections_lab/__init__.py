"""collections_lab: a research workbench for accounts-receivable collections.

Simulate reminder strategies on a behaviour model, model time-to-payment with survival
analysis, design and analyse A/B tests, and render stakeholder reports.

Example
-------
>>> import collections_lab as cl
>>> sim = cl.simulate(100, cl.example_strategies()["nudge_then_firm"], seed=1,
...                   start="2025-01-01", end="2025-03-31")
>>> frame = sim.portfolio.payment_times(as_of="2025-06-30")
>>> set(frame["outcome"]) <= {"paid", "open", "escalated", "written_off"}
True
"""

from .data.dates import DateError, allow_future_as_of, parse_date
from .data.loading import load_portfolio, load_table
from .data.mapping import ColumnMapping, MappingError, TableMapping, list_presets, load_preset
from .data.payment_times import PaymentTimesError, payment_times
from .data.portfolio import Portfolio
from .data.schema import OUTCOMES, TABLES
from .data.validation import (
    LoadReport,
    TableReport,
    ValidationError,
    ValidationIssue,
    validate_portfolio,
)
from .i18n import (
    ResultMixin,
    current_lang,
    current_locale,
    format_money,
    format_number,
    format_pct,
    options,
)
from .model.behaviour import BehaviourModel
from .model.plans import Experiment, assign
from .model.sample_data import load_sample, sample_experiment, write_sample
from .model.simulation import SimulationResult, Truth, generate_customers, simulate
from .model.strategies import (
    Discount,
    InstallmentOffer,
    Reminder,
    Strategy,
    StrategyError,
    example_strategies,
    load_strategies,
    save_strategies,
)

__version__ = "0.1.0"

# The analysis packages import lifelines, statsmodels or scikit-learn (seconds each), so
# they load on first use (PEP 562): `import collections_lab` stays fast for report kernels.
_SUBPACKAGES = ("analytics", "experiments", "lab", "reporting", "survival")
_LAZY = {
    **dict.fromkeys(
        ("kaplan_meier", "logrank", "rmst", "rmst_difference", "fit_cox", "fit_aft",
         "fit_time_varying_cox", "check_proportional_hazards", "cumulative_incidence",
         "cure_fraction", "PaymentDatePredictor", "expected_cash", "SurvivalInputError",
         "SurvivalWarning", "standardized_prob_paid", "gray_test", "fit_cox_counts",
         "concordance", "SurvivalCurves", "LogRankResult", "RMSTResult", "RMSTDifference",
         "CoxResult", "CumulativeIncidence"),
        "survival"),
    "time_to_payment_report": "survival.report",
    **dict.fromkeys(
        ("kpi_snapshot", "kpi_report", "aging", "dso", "cei", "at_risk_rate",
         "monthly_trends", "payment_discipline", "payer_tiers", "behaviour_alerts",
         "portfolio_health"),
        "analytics"),
    **dict.fromkeys(
        ("analyse_experiment", "analyze_experiment", "ExperimentReadout", "MetricConfig",
         "SequentialPlan", "srm_check", "METRICS", "Metric", "METRIC_REGISTRY"),
        "experiments"),
    **dict.fromkeys(
        ("experiment_readout", "design_experiment", "assign_experiment", "load_experiment",
         "labelled", "readout_table", "portfolio_in_currency"),
        "experiments.workflow"),
    **dict.fromkeys(
        ("run_report", "run_batch", "RunResult", "BatchResult", "ReportError", "show_summary",
         "show_figure", "pseudonymise", "load_report_data"),
        "reporting"),
    "use_report_tables": "reporting.tables",
    "arms_table": "reporting.strategies",
    **dict.fromkeys(("Economics", "annualised_discount_rate", "discount_cost"), "model.economics"),
    **dict.fromkeys(
        ("Calibration", "CalibrationError", "Twin", "TwinError", "check_twin",
         "compare_strategies", "StrategyComparison", "recommend", "Recommendation",
         "StrategySpace", "Constraints", "ConstraintError", "regret",
         "experiment_from_recommendation", "strategy_lab"),
        "lab"),
}


def __getattr__(name: str):
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'collections_lab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBPACKAGES) | set(_LAZY))


#: Every public name: the ones imported above and the lazily loaded analysis functions
#: (tests/test_public_api.py checks it lists both, and nothing else).
__all__ = [
    "METRICS", "METRIC_REGISTRY", "Metric", "OUTCOMES", "TABLES", "aging", "allow_future_as_of", "current_lang",
    "current_locale", "options",
    "analyse_experiment", "analyze_experiment", "annualised_discount_rate",
    "arms_table", "assign", "assign_experiment", "at_risk_rate", "BatchResult",
    "behaviour_alerts", "BehaviourModel", "Calibration", "CalibrationError", "cei",
    "check_proportional_hazards", "check_twin", "ColumnMapping", "compare_strategies",
    "concordance", "ConstraintError", "Constraints", "CoxResult",
    "cumulative_incidence", "CumulativeIncidence", "cure_fraction", "DateError",
    "design_experiment", "Discount", "discount_cost", "dso", "Economics",
    "example_strategies", "expected_cash", "Experiment",
    "experiment_from_recommendation", "experiment_readout", "ExperimentReadout",
    "fit_aft", "fit_cox", "fit_cox_counts", "fit_time_varying_cox", "format_money",
    "format_number", "format_pct", "generate_customers", "gray_test",
    "InstallmentOffer", "kaplan_meier", "kpi_report", "kpi_snapshot", "labelled",
    "list_presets", "load_experiment", "load_portfolio", "load_preset",
    "load_report_data", "load_sample", "load_strategies", "load_table", "LoadReport",
    "logrank", "LogRankResult", "MappingError", "MetricConfig", "monthly_trends",
    "parse_date", "payer_tiers", "payment_discipline", "payment_times",
    "PaymentDatePredictor", "PaymentTimesError", "Portfolio", "portfolio_health",
    "portfolio_in_currency", "pseudonymise", "readout_table", "recommend",
    "Recommendation", "regret", "Reminder", "ReportError", "ResultMixin", "rmst",
    "rmst_difference", "RMSTDifference", "RMSTResult", "run_batch", "run_report",
    "RunResult", "sample_experiment", "save_strategies", "SequentialPlan",
    "show_figure", "show_summary", "simulate", "SimulationResult", "srm_check",
    "standardized_prob_paid", "Strategy", "strategy_lab", "StrategyComparison",
    "StrategyError", "StrategySpace", "SurvivalCurves", "SurvivalInputError",
    "SurvivalWarning", "TableMapping", "TableReport", "time_to_payment_report", "Truth",
    "Twin", "TwinError", "use_report_tables", "validate_portfolio", "ValidationError",
    "ValidationIssue", "write_sample",
]
