"""The twin against the experiment it can be checked against: per arm, the effect the
twin predicts beside the effect the readout observed, both with 95 % intervals.

A randomised experiment in the history is the one clean source of the causal effects the
twin relies on (tone, reminder count, discount take-up). The calibration already uses it
(each invoice under its arm's strategy; :attr:`Calibration.experiment_identified_` says
which parameters only the experiment identifies). This check asks whether the calibrated
twin reproduces what the experiment measured, on the readout's own metrics:

- **observed**: the readout's effect of each arm against control and its 95 % interval
  (:func:`collections_lab.experiments.readout.analyse_experiment`: censoring-aware,
  customer-clustered, adjusted for pre-period behaviour);
- **predicted**: the experiment's own invoices (each under its customer's arm) simulated
  on the twin ``replicates`` times, each replicate with its own draw of the calibrated
  parameters, and measured with **the same estimators**
  (:func:`collections_lab.experiments.metrics.compare_arms`) on the simulated,
  uncensored stories: paid by due + d, days outstanding (restricted mean) and net value
  per unit invoiced. The prediction is the mean over replicates, its interval mean ±
  1.96 sd over replicates (parameter uncertainty and chance: where the readout's
  estimate of this experiment would fall if the twin were right).

Churn is the exception: the twin holds the history's invoices fixed, so it cannot count
customers who place no new invoice (the readout's churn). Its prediction is the
behaviour model's: the expected share of the arm's customers lost by the experiment's
end (the churn model of :func:`~collections_lab.lab.compare.churn_probability` over the
invoices that ended by then). Levels differ (the readout counts customers who simply
order less often); effects against control are comparable.

An arm and metric **agree** when the twin's prediction lies inside the readout's 95 %
interval; the summary says in words where they do not and which way the twin errs.

Example
-------
>>> from collections_lab.lab.scenarios import history_scenario, calibrate_scenario
>>> sc = history_scenario(n_customers=250, seed=2)
>>> cal = calibrate_scenario(sc)
>>> check = twin_versus_experiment(cal, sc.history, replicates=3)
>>> sorted(check.table["metric"].unique())
['churn', 'net_value', 'paid_by_due_d', 'rmst_days']
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..experiments.data import ExperimentData
from ..experiments.metrics import MetricConfig, compare_arms
from ..experiments.readout import analyse_experiment
from ..i18n import ResultMixin, format_number, t
from .calibrate import Calibration, HistoryData, subset_history
from .compare import churn_probability, discounts_given
from .twin import Twin, TwinError

#: The metrics compared (the readout's names).
VERSUS_METRICS = ("paid_by_due_d", "rmst_days", "churn", "net_value")
#: Metrics measured on the simulated stories with the readout's own estimators.
ESTIMATED = ("paid_by_due_d", "rmst_days", "net_value")
Z = 1.959963984540054


@dataclass
class TwinVersusExperiment(ResultMixin):
    """Per arm and metric: the twin's predicted effect against control and the readout's
    observed one (see module docstring).

    ``table`` columns: ``arm``, ``metric``, ``label`` (the metric in words),
    ``twin_effect``, ``twin_low``, ``twin_high``, ``observed_effect``,
    ``observed_low``, ``observed_high``, ``observed_se`` (the readout's standard error),
    ``agrees`` (the prediction inside the observed interval; missing when the readout
    could not estimate it yet, or its interval has no width), ``gap`` (predicted −
    observed). A replicate where an
    estimator returns NaN (an arm without the follow-up it needs) is left out of the
    prediction.
    """

    table: pd.DataFrame
    control: str
    replicates: int
    due_plus_days: int
    experiment_identified: dict = field(default_factory=dict)
    lang: str = "en"
    title = "Twin against the experiment"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def disagreements(self) -> pd.DataFrame:
        """The rows where the twin's prediction lies outside the observed interval."""
        return self.table.loc[self.table["agrees"].eq(False)]

    def coverage(self) -> float:
        """Share of the estimable arm × metric rows that agree."""
        known = self.table["agrees"].dropna()
        return float(known.astype(bool).mean()) if len(known) else float("nan")

    def summary(self, lang: str | None = None) -> str:
        known = self.table["agrees"].dropna()
        text = t("lab.versus_summary", lang, k=int(known.astype(bool).sum()), n=len(known),
                 control=self.control, reps=self.replicates)
        bad = self.disagreements()
        for _, row in bad.head(4).iterrows():
            higher = row["twin_effect"] > row["observed_effect"]
            text += t("lab.versus_disagree", lang, arm=row["arm"],
                      metric=t(f"xp_metric_{row['metric']}", lang),
                      predicted=_fmt(row["twin_effect"], lang),
                      observed=_fmt(row["observed_effect"], lang),
                      lo=_fmt(row["observed_low"], lang),
                      hi=_fmt(row["observed_high"], lang),
                      way=t("lab.versus_higher" if higher else "lab.versus_lower", lang))
        if len(bad) > 4:
            text += t("lab.and_more", lang, n=len(bad) - 4)
        if not len(bad) and len(known):
            text += t("lab.versus_all_agree", lang)
        text += t("lab.versus_churn_note", lang)
        text += t("lab.versus_net_note", lang)
        return text


def _fmt(x: float, lang: str | None) -> str:
    return format_number(float(x), 3, lang) if np.isfinite(x) else "–"


def _arm_codes(calibration: Calibration) -> tuple[list[str], dict]:
    arms = calibration.inputs_.get("arms") if hasattr(calibration, "inputs_") else None
    data = calibration.history_
    if not arms or data.strategies.source != "known":
        raise TwinError(
            "the calibration does not know what each experiment arm did: calibrate with the "
            "arms' strategies (Calibration().fit(portfolio, arms=..., default=...), or the "
            "strategies file beside the data) to compare the twin with the experiment")
    return list(arms), arms


def experiment_twin(calibration: Calibration, rows: np.ndarray, seed: int = 0,
                    parameter_draws: int = 0) -> tuple[Twin, HistoryData]:
    """The twin of the experiment's invoices only (``rows`` of the calibration's
    history), amounts in their own currencies, with the customers' posterior traits; and
    the history of those rows."""
    keep = np.zeros(len(calibration.history_.paid), dtype=bool)
    keep[rows] = True
    data = subset_history(calibration.history_, keep)
    sub = copy.copy(calibration)
    sub.history_ = data
    sub.customers_ = (calibration.customers_.set_index("customer_id")
                      .loc[data.customer_ids].reset_index())
    currencies = sorted(data.frame["currency"].astype(str).unique())
    twin = Twin.from_calibration(sub, fx=dict.fromkeys(currencies, 1.0), seed=seed,
                                 parameter_draws=parameter_draws)
    return twin, data


def simulated_experiment(twin: Twin, data: HistoryData, names: list[str],
                         replicate: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One replicate of the experiment's invoices (``data``, from
    :func:`experiment_twin`) on ``twin``, each under its arm: a payment-times frame the
    readout's estimators take (uncensored stories) and each invoice's churn
    probability."""
    s = data.strategies
    o = twin.outcomes_by_invoice(s.strategies, s.code, replicate=replicate)
    frame = data.frame
    code = s.code
    amount = frame["amount"].to_numpy(dtype=float)
    discount = np.zeros(len(code))
    for c in np.unique(code):
        m = code == c
        part = type(o)(*(np.asarray(getattr(o, f))[m] for f in o.__dataclass_fields__))
        discount[m] = discounts_given(s.strategies[c], amount[m], part)
    out = pd.DataFrame({
        "customer_id": frame["customer_id"].to_numpy(),
        "issue_date": frame["issue_date"].to_numpy(),
        "due_date": frame["due_date"].to_numpy(),
        "duration": o.end_day, "outcome_code": o.outcome.astype(np.int64), "amount": amount,
        "currency": frame["currency"].astype(str).to_numpy(),
        "segment": frame["segment"].astype(str).to_numpy(),
        "arm": np.asarray(names, dtype=object)[code],
        "discount_amount": discount, "n_reminders": o.n_sent.astype(np.int64)})
    model = twin.models[replicate % len(twin.models)] if twin.models else twin.model
    return out, churn_probability(model, data.seg, o)


def _churn_effects(data: HistoryData, end_day: np.ndarray, p: np.ndarray,
                   names: list[str], control: str, start, end) -> dict:
    """Expected share of each arm's customers (invoiced from ``start`` to ``end``) lost by
    ``end``, minus the control's."""
    issue = data.frame["issue_date"]
    ended = (issue + pd.to_timedelta(end_day, unit="D")).to_numpy()
    issue = issue.to_numpy()
    active = (issue >= np.datetime64(start)) & (issue <= np.datetime64(end))
    counts = active & (ended <= np.datetime64(end))
    n = len(data.customer_ids)
    log_stay = np.bincount(data.cust, weights=np.where(counts, np.log1p(-p), 0.0),
                           minlength=n)
    seen = np.bincount(data.cust[active], minlength=n) > 0
    arm = np.zeros(n, dtype=np.int64)
    arm[data.cust] = data.strategies.code
    lost = -np.expm1(log_stay)
    share = {}
    for a, name in enumerate(names):
        m = seen & (arm == a)
        if m.any():
            share[name] = float(lost[m].mean())
    if control not in share:
        return {}
    return {a: v - share[control] for a, v in share.items() if a != control}


def twin_versus_experiment(calibration: Calibration, portfolio, readout=None,
                           config: MetricConfig | None = None, as_of=None, replicates: int = 8,
                           seed: int = 0, parameter_uncertainty: bool = True,
                           lang: str = "en") -> TwinVersusExperiment:
    """Compare the calibrated twin's predicted arm effects with the experiment's readout
    (see module docstring).

    ``calibration`` must know the arms' strategies (fitted with ``arms=`` and
    ``default=``). ``readout``: the experiment readout of ``portfolio`` (page 04's); by
    default computed here with ``config`` on the four metrics, as of ``as_of`` (default
    the data's last date, as page 04). ``replicates``: twin
    simulations of the experiment (each with its own parameter draw when
    ``parameter_uncertainty``).
    """
    names, _ = _arm_codes(calibration)
    cfg = config or (readout.config if readout is not None else MetricConfig())
    if readout is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            readout = analyse_experiment(portfolio, metrics=list(VERSUS_METRICS),
                                         config=cfg, as_of=as_of, segments=False,
                                         factors={}, lang=lang)
    control = readout.control
    data = calibration.history_
    rows = np.flatnonzero(data.strategies.code < len(names))
    if not len(rows):
        raise TwinError("no invoice of the history was issued under an experiment arm")
    twin, sub = experiment_twin(calibration, rows, seed,
                                parameter_draws=replicates if parameter_uncertainty else 0)
    issue = sub.frame["issue_date"].to_numpy()
    start = pd.Timestamp(issue.min())
    as_of = pd.Timestamp(readout.as_of)
    end = (pd.Timestamp(cfg.experiment_end) if cfg.experiment_end is not None
           else as_of - pd.Timedelta(days=cfg.churn_days))
    horizon = pd.Timestamp(issue.max()) + pd.Timedelta(days=twin.model.horizon_days + 1)
    draws: dict[tuple[str, str], list[float]] = {}
    for r in range(replicates):
        frame, churn = simulated_experiment(twin, sub, names, r)
        sim = ExperimentData.from_frame(frame, control=control, start=start, as_of=horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            effects = compare_arms(sim, cfg, metrics=list(ESTIMATED))
        for e in effects:
            draws.setdefault((e.arm, e.metric), []).append(float(e.effect))
        for arm, v in _churn_effects(sub, frame["duration"].to_numpy(), churn, names,
                                     control, start, end).items():
            draws.setdefault((arm, "churn"), []).append(v)
    observed = readout.to_frame().set_index(["arm", "metric"])
    out = []
    for arm in [a for a in readout.arms if a != control]:
        for metric in VERSUS_METRICS:
            values = np.array(draws.get((arm, metric), []), dtype=float)
            values = values[np.isfinite(values)]
            pred = float(np.mean(values)) if len(values) else float("nan")
            sd = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
            if (arm, metric) in observed.index:
                o = observed.loc[(arm, metric)]
                obs, lo, hi = float(o["effect"]), float(o["ci_low"]), float(o["ci_high"])
                se = float(o["se"])
            else:
                obs = lo = hi = se = float("nan")
            # an interval of zero width measures nothing (e.g. churn when no customer
            # could place a new invoice after the experiment's end)
            known = bool(np.isfinite(obs) and np.isfinite(lo) and np.isfinite(hi)
                         and hi > lo and np.isfinite(pred))
            out.append(dict(arm=arm, metric=metric, label=t(f"xp_metric_{metric}", lang),
                            twin_effect=pred, twin_low=pred - Z * sd,
                            twin_high=pred + Z * sd, observed_effect=obs, observed_low=lo,
                            observed_high=hi, observed_se=se,
                            agrees=bool(lo <= pred <= hi) if known else None,
                            gap=pred - obs))
    table = pd.DataFrame(out)
    table["agrees"] = table["agrees"].astype(object)
    return TwinVersusExperiment(table, control, replicates, cfg.due_plus_days,
                                dict(getattr(calibration, "experiment_identified_", {})),
                                lang)


__all__ = ["VERSUS_METRICS", "TwinVersusExperiment", "experiment_twin", "simulated_experiment",
           "twin_versus_experiment"]
