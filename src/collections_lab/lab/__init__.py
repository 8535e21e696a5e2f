"""The strategy lab: a digital twin of a portfolio and decisions made on it.

- :mod:`.calibrate`: fit the behaviour model to the history (with standard errors and
  visible priors for what the history cannot identify);
- :mod:`.twin`: the portfolio's own invoices and customers simulated under any strategy
  (common random numbers), and the check of the twin against history;
- :mod:`.compare`: Monte Carlo comparison of strategies with money consequences
  (:mod:`collections_lab.model.economics`);
- :mod:`.recommend`: search a strategy space per segment under constraints, and the regret
  against known truth;
- :mod:`.priors`: which documented priors (parameters the history cannot identify) a
  strategy's value rests on, and the twin with one of them changed (the recommendation's
  sensitivity check, :mod:`.sensitivity`);
- :mod:`.to_experiment`: turn a recommendation into an experiment design;
- :mod:`.versus`: the twin against the experiment in the history (each arm's predicted
  effect beside the readout's observed one, both with intervals);
- :mod:`.report`: all of it in one call for the report notebook;
- :mod:`.plots`: figures for the report (imported on demand: matplotlib);
- :mod:`.scenarios`: simulated histories with known truth for recovery and regret runs.

Example
-------
>>> from collections_lab.lab import StrategySpace
>>> len(StrategySpace().strategies()) > 100
True
"""

from .calibrate import Calibration, CalibrationError, recovery_table
from .compare import METRICS, StrategyComparison, compare_strategies
from .history import infer_strategy
from .recommend import (
    ConstraintError,
    Constraints,
    Recommendation,
    Regret,
    StrategySpace,
    recommend,
    regret,
)
from .report import LabReport, strategy_lab
from .to_experiment import ExperimentProposal, experiment_from_recommendation
from .twin import Twin, TwinCheck, TwinError, check_twin
from .versus import TwinVersusExperiment, twin_versus_experiment

__all__ = [
    "METRICS",
    "Calibration",
    "CalibrationError",
    "ConstraintError",
    "Constraints",
    "ExperimentProposal",
    "LabReport",
    "Recommendation",
    "Regret",
    "StrategyComparison",
    "StrategySpace",
    "Twin",
    "TwinCheck",
    "TwinError",
    "TwinVersusExperiment",
    "check_twin",
    "compare_strategies",
    "experiment_from_recommendation",
    "infer_strategy",
    "recommend",
    "recovery_table",
    "regret",
    "strategy_lab",
    "twin_versus_experiment",
]
