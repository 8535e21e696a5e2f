"""The strategy lab end to end, for the report notebook: calibrate, check, compare,
recommend, and design the experiment — one call, one result.

Example
-------
On the bundled sample (``strategy_lab(load_portfolio("data/sample"), "data/sample",
fx=FX_PER_USD)``) this takes about half a minute; on a small simulated history, with a
small search space and few replicates, about ten seconds (a ``slow`` example: run with
``--runslow``):

>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> sim = simulate(300, example_strategies()["nudge_then_firm"], seed=3,
...                start="2025-01-01", end="2025-08-31", progress=False)
>>> space = StrategySpace(schedules=((3,), (-3, 7)), tones=("friendly", "firm"),
...                       channels=("email",), personalised=(False,), discounts=(None,),
...                       installments=(None,))
>>> lab = strategy_lab(sim.portfolio, fx=FX_PER_USD, space=space, replicates=2,
...                    parameter_uncertainty=False)
>>> [type(item).__name__ for item in lab.summary_items("es")]
['Recommendation', 'StrategyComparison', 'TwinCheck', 'Calibration', 'ExperimentProposal']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..data.portfolio import Portfolio
from ..experiments.data import ExperimentDataError
from ..experiments.metrics import MetricConfig
from ..i18n import ResultMixin, Summary
from ..model.economics import Economics
from ..model.simulation import FX_PER_USD
from ..model.strategies import Strategy, load_strategies
from .calibrate import Calibration
from .compare import StrategyComparison, compare_strategies, default_economics, progress_bar
from .recommend import Constraints, Recommendation, StrategySpace, recommend
from .to_experiment import ExperimentProposal, experiment_from_recommendation
from .twin import Twin, TwinCheck, TwinError, check_twin
from .versus import TwinVersusExperiment, twin_versus_experiment

#: The sample data were simulated with the simulator's exchange rates.
SAMPLE_FX = FX_PER_USD


def history_strategies(location=None, strategies=None
                       ) -> tuple[dict | None, Strategy | None, dict[str, Strategy]]:
    """What the history was under, from the data directory's design files.

    Returns ``(arms, default, named)``: the experiment's arms and the pre-period
    (business-as-usual) strategy when ``experiment.json`` and a strategy file name them
    all, else ``(None, None, named)`` so the calibration reads the recorded reminders.
    ``named`` are all strategies of the file (``strategies`` or ``strategies.yml`` beside
    the data), for the comparison.
    """
    folder = Path(location) if location is not None else None
    path = Path(strategies) if strategies else (
        folder / "strategies.yml" if folder is not None else None)
    named = load_strategies(path) if path is not None and path.exists() else {}
    if folder is None or not (folder / "experiment.json").exists():
        return None, None, named
    design = json.loads((folder / "experiment.json").read_text(encoding="utf-8"))
    missing = [a for a in design.get("arms", []) if a not in named]
    if missing or not named:
        return None, None, named
    arms = {a: named[a] for a in design["arms"]}
    default = named.get(design.get("pre_period_strategy", ""))
    return arms, default, named


@dataclass
class LabReport(ResultMixin):
    """Everything the strategy-lab report shows.

    Its card starts with the recommendation, shows the comparison's table and folds the
    twin check, the calibration and the proposed experiment (each its own card).
    """

    calibration: Calibration
    check: TwinCheck
    comparison: StrategyComparison
    recommendation: Recommendation
    proposal: ExperimentProposal
    currency: str
    #: The twin against the experiment in the history (None without one whose arms'
    #: strategies are known).
    versus: TwinVersusExperiment | None = None

    title = "lab.title"

    def summary_items(self, lang: str = "en") -> list:
        """Results for the executive summary, most important first."""
        items = [self.recommendation, self.comparison, self.check]
        if self.versus is not None:
            items.append(self.versus)
        return items + [self.calibration, self.proposal]

    def summary(self, lang: str | None = None) -> str:
        """The lab in a paragraph: each part's summary, most important first."""
        items = [str(r.summary(lang)) for r in self.summary_items()]
        return Summary(" ".join(items), items=items)

    def to_frame(self) -> pd.DataFrame:
        """The strategy comparison (see :meth:`StrategyComparison.to_frame`)."""
        return self.comparison.to_frame()

    def headline(self, lang: str | None = None) -> str:
        """The recommendation in a sentence or two."""
        return str(self.recommendation.summary(lang))

    def card_tables(self) -> list:
        return [(self.comparison._title(), self.comparison.summary_table())]

    def card_details(self) -> list:
        parts = (self.comparison, self.check, self.versus, self.calibration, self.proposal)
        return [(r._title(), r._repr_html_()) for r in parts if r is not None]

    def __repr__(self) -> str:
        return f"<LabReport: {self.headline()}>"


def strategy_lab(portfolio: Portfolio, location=None, strategies=None, as_of=None,
                 currency: str | None = None, fx: dict | None = None,
                 economics: Economics | None = None, replicates: int = 20,
                 space: StrategySpace | None = None,
                 constraints: Constraints | None = None, n_jobs: int | None = None,
                 seed: int = 0, cost_of_capital: float | None = None,
                 parameter_uncertainty: bool = True, reminders: str = "recorded",
                 experiment_metric: str = "paid_by_due_15",
                 progress: bool | None = None) -> LabReport:
    """Run the lab on ``portfolio`` (see module docstring).

    Money: with ``fx`` (currency → units per USD) every amount is converted to USD; with
    ``currency`` only that currency's invoices are simulated and ``fx[currency]`` (if
    given) converts the USD-denominated fixed costs of :class:`Economics`. A portfolio in
    several currencies needs one of them. ``cost_of_capital`` changes the default
    economics' annual rate (ignored when ``economics`` is given). ``reminders`` is how the
    calibration reads reminders when the design files do not name the strategies
    (:meth:`Calibration.fit`). With
    ``parameter_uncertainty`` each replicate uses its own draw of the calibrated parameters,
    so intervals include what the history does not pin down, not only chance.
    ``experiment_metric``: what the proposed field experiment is sized on
    (``"paid_by_due_15"``, ``"net_value"`` or ``"cash"``, see
    :func:`~collections_lab.lab.to_experiment.experiment_from_recommendation`); its design
    effect is measured on ``portfolio``. ``progress``: a bar of the lab's five steps
    (default: when a person watches, never in report kernels).

    Example:
        >>> lab = cl.strategy_lab(portfolio, currency="EUR", replicates=2, n_jobs=1,
        ...                       space=cl.StrategySpace(schedules=((3, 14),), tones=("friendly",),
        ...                       channels=("email",), personalised=(False,), discounts=(None,)))
        >>> type(lab).__name__, lab.currency
        ('LabReport', 'EUR')
    """
    bar = progress_bar(progress, len(LAB_STEPS), LAB_STEPS[0], unit="step")
    try:
        return _lab(portfolio, location, strategies, as_of, currency, fx, economics,
                    replicates, space, constraints, n_jobs, seed, cost_of_capital,
                    parameter_uncertainty, reminders, experiment_metric, bar)
    finally:
        if bar is not None:
            bar.close()


#: Simulations of the experiment for the twin-against-experiment check (at most): each
#: runs the readout's estimators on the experiment's invoices (~0.08 CPU s on the sample).
VERSUS_REPLICATES = 8

#: The steps :func:`strategy_lab`'s progress bar names.
LAB_STEPS = ("calibrating", "checking the twin", "comparing strategies", "recommending",
             "designing the experiment")


def _step(bar, done: int) -> None:
    if bar is not None:
        bar.update(1)
        if done < len(LAB_STEPS):
            bar.set_description(LAB_STEPS[done])


def _lab(portfolio, location, strategies, as_of, currency, fx, economics, replicates, space,
         constraints, n_jobs, seed, cost_of_capital, parameter_uncertainty, reminders,
         experiment_metric, bar) -> LabReport:
    """The body of :func:`strategy_lab`, one step of ``bar`` at a time."""
    arms, default, named = history_strategies(location, strategies)
    cal = Calibration().fit(portfolio, as_of=as_of, arms=arms, default=default,
                            reminders=reminders)
    current = cal.current_strategy_
    draws = max(replicates, 1) if parameter_uncertainty else 0
    if currency is not None:
        twin = Twin.from_calibration(cal, currency=currency, seed=seed, parameter_draws=draws)
    else:
        twin = Twin.from_calibration(cal, fx=fx, seed=seed, parameter_draws=draws)
    econ = economics
    if econ is None:
        units = 1.0 if twin.currency == "USD" else (fx or {}).get(twin.currency)
        econ = (Economics().in_currency(twin.currency, units) if units is not None
                else default_economics(twin))
        if cost_of_capital is not None:
            econ = replace(econ, cost_of_capital=cost_of_capital)
    _step(bar, 1)
    check = check_twin(cal, replicates=3, seed=seed)
    versus = None
    if arms:
        cfg = MetricConfig(cost_of_capital=cost_of_capital) if cost_of_capital is not None \
            else MetricConfig()
        try:
            versus = twin_versus_experiment(cal, portfolio, config=cfg, as_of=as_of,
                                            replicates=min(max(replicates, 2),
                                                           VERSUS_REPLICATES), seed=seed)
        except (TwinError, ExperimentDataError):
            versus = None  # the page says there is nothing to check against
    _step(bar, 2)
    pool = {current.name: current}
    pool.update({k: v for k, v in named.items() if k != current.name})
    comparison = compare_strategies(twin, list(pool.values()), econ, replicates=replicates,
                                    reference=current.name, n_jobs=n_jobs, progress=False)
    _step(bar, 3)
    rec = recommend(twin, current, space or StrategySpace(
        channels=("email", "sms"), personalised=(False,), discounts=(None, (0.02, 10)),
        tones=("friendly", "firm")), constraints or Constraints(), econ,
        screen_replicates=3, replicates=replicates, keep=4, n_jobs=n_jobs, progress=False)
    _step(bar, 4)
    proposal = experiment_from_recommendation(rec, twin, portfolio=portfolio, as_of=as_of,
                                              metric=experiment_metric)
    _step(bar, 5)
    return LabReport(cal, check, comparison, rec, proposal, twin.currency, versus)


__all__ = ["LabReport", "SAMPLE_FX", "history_strategies", "strategy_lab"]
