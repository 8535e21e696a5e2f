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
from .model.sample_data import sample_experiment, write_sample
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
         "cure_fraction", "PaymentDatePredictor", "expected_cash", "SurvivalInputError"),
        "survival"),
    **dict.fromkeys(
        ("kpi_snapshot", "kpi_report", "aging", "dso", "cei", "at_risk_rate",
         "monthly_trends", "payment_discipline", "payer_tiers", "behaviour_alerts",
         "portfolio_health"),
        "analytics"),
    **dict.fromkeys(
        ("run_report", "run_batch", "RunResult", "BatchResult", "ReportError", "show_summary",
         "show_figure", "pseudonymise", "load_report_data"),
        "reporting"),
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


__all__ = [
    "OUTCOMES",
    "TABLES",
    "BehaviourModel",
    "ColumnMapping",
    "LoadReport",
    "MappingError",
    "TableMapping",
    "TableReport",
    "ValidationError",
    "ValidationIssue",
    "Discount",
    "Experiment",
    "InstallmentOffer",
    "PaymentTimesError",
    "Portfolio",
    "Reminder",
    "ResultMixin",
    "SimulationResult",
    "Strategy",
    "StrategyError",
    "Truth",
    "assign",
    "current_lang",
    "current_locale",
    "example_strategies",
    "format_money",
    "format_number",
    "format_pct",
    "generate_customers",
    "list_presets",
    "load_portfolio",
    "load_preset",
    "load_table",
    "load_strategies",
    "payment_times",
    "sample_experiment",
    "save_strategies",
    "options",
    "simulate",
    "validate_portfolio",
    "write_sample",
]
