"""Statistical conformance of the experiment engine, on simulated data where truth is known.

Every check simulates many experiments with the behaviour simulator
(:func:`collections_lab.model.simulation.simulate`: customers with several invoices sharing a
frailty, invoices still open at the readout, escalation as a competing outcome) and
measures what the methods promise:

- :func:`aa_false_positive_rates` — A/A experiments: how often each test rejects at
  ``alpha`` (should be ``alpha``), for our clustered, censoring-aware tests, the covariate-
  adjusted ones, and two naive methods shown failing in the same run (invoice-level variance
  ignoring clustering; dropping open invoices).
- :func:`coverage_rates` — real effects: how often the 95% interval contains the true
  effect (the simulator's analytic truth for P(paid by due + d), RMST and escalation; a
  large-sample reference run for the others).
- :func:`sequential_false_positive_rates` — weekly peeks over 8 weeks: alpha spending keeps
  the overall false-positive rate at or below alpha; naive repeated testing exceeds it.
- :func:`power_check` — power predicted by the design functions versus simulated power
  (P(paid by due + d), hazard ratio by Schoenfeld + design effect, RMST difference).

The CI runs small versions with wide bands (``tests/test_experiments_conformance.py``);
``benchmarks/conformance_full.py`` runs 2,000 experiments per check by hand and writes
``conformance/REPORT.md``.

Example
-------
>>> table = aa_false_positive_rates(n_experiments=4, n_customers=200, seed=1)
>>> set(table["method"]) >= {"clustered", "naive_invoice_level", "naive_drop_open"}
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from ..i18n import ResultMixin
from ..model.plans import Experiment
from ..model.strategies import Discount, Reminder, Strategy
from .adjustment import adjust_effect
from .data import ExperimentData, assigned_units
from .design import (
    estimate_design_effect,
    power_at_se,
    power_hazard_ratio,
    power_rmst,
    units_for_se_power,
    unpaid_and_followed_curves,
)
from .metrics import (
    METRICS,
    MetricConfig,
    compare_arms,
    hazard_ratio_effect,
    naive_drop_open,
    naive_invoice_level_se,
)
from .sequential import group_sequential_test, naive_repeated_test

#: A/A strategy that exercises every metric: a discount, two reminders, escalation.
AA_STRATEGY = Strategy(
    "aa_discount_two_reminders",
    reminders=(Reminder(3, "friendly", "email"), Reminder(17, "firm", "email")),
    discount=Discount(0.02, 10),
    escalation_day=60,
    description="Conformance A/A arm: 2/10 discount, friendly then firm reminder, legal at 60.",
)
#: Control and treatment for coverage and power: one friendly email versus a pre-due nudge
#: and firm follow-ups (both escalate at due + 60, so every metric has a truth).
COVERAGE_ARMS = {
    "control": Strategy("friendly_once", reminders=(Reminder(3, "friendly", "email"),),
                        escalation_day=60),
    "treatment": Strategy(
        "nudge_then_firm",
        reminders=(Reminder(-3, "friendly", "email", personalised=True),
                   Reminder(7, "firm", "email"), Reminder(21, "firm", "sms")),
        discount=Discount(0.02, 10), escalation_day=60),
}
#: Control and treatment for the power checks: a firm follow-up at due + 10 (a modest
#: effect). With the large effect of ``COVERAGE_ARMS`` 70% power needs only 60-180
#: customers per arm, where the design formulas' large-sample premise fails (measured:
#: RMST estimates' SD 1.93 days against 1.69 predicted, bias -0.3 days, at 94 per arm).
POWER_ARMS = {
    "control": COVERAGE_ARMS["control"],
    "treatment": Strategy("friendly_then_firm",
                          reminders=(Reminder(3, "friendly", "email"),
                                     Reminder(10, "firm", "email")), escalation_day=60),
}
#: Metric settings of the conformance runs (reminder cost in each currency).
CONFORMANCE_CONFIG = MetricConfig(
    due_plus_days=15, horizon_days=90, escalation_due_plus_days=90, churn_days=45,
    cost_of_capital=0.12, reminder_cost={"COP": 2000.0, "MXN": 9.0, "EUR": 0.45, "USD": 0.5},
)
#: Metrics with an independent truth from the simulator (column of ``Truth.arm_effects``).
SIMULATOR_TRUTH = {"paid_by_due_d": "p_paid_by_due_15", "rmst_days": "rmst_90",
                   "escalation_rate": "escalation_rate"}
NAIVE_INVOICE_METRICS = ("paid_by_due_d", "rmst_days", "hazard_ratio")


@dataclass(frozen=True)
class SimulationDesign:
    """Calendar of one simulated experiment: pre-period, experiment, readout (= ``end``)."""

    n_customers: int = 2150
    start: str = "2025-01-01"
    assigned_at: str = "2025-05-01"
    end: str = "2025-11-30"
    invoices_per_month: float = 1.0
    #: Fixed seed of the population (customers, traits, invoice schedule) shared by every
    #: run; ``None`` draws a new population with each run's seed.
    population_seed: int | None = None


#: About 19,000–20,000 invoices (about 12,000 in the experiment) from 2,150 customers.
DEFAULT_DESIGN = SimulationDesign()


def simulate_experiment_data(arms: dict[str, Strategy], seed: int,
                             design: SimulationDesign = DEFAULT_DESIGN,
                             as_of=None):
    """Simulate one experiment and return ``(ExperimentData, Truth)``.

    Customers are assigned with the real salted-hash assignment (stratified by segment),
    a new salt per ``seed``; invoices before ``assigned_at`` get the first arm's strategy
    (the pre-period used for covariate adjustment).
    """
    from ..model.simulation import simulate

    experiment = Experiment(f"conformance-{seed}", dict(arms), control="control",
                            salt=f"conformance-{seed}")
    sim = simulate(design.n_customers, experiment, seed=seed, start=design.start,
                   end=design.end, assigned_at=design.assigned_at,
                   before=next(iter(arms.values())), progress=False,
                   invoices_per_month=design.invoices_per_month,
                   population_seed=design.population_seed)
    frame = sim.portfolio.payment_times(as_of=as_of or design.end)
    units = assigned_units(sim.assignments, sim.customers, {experiment.stratify_by})
    data = ExperimentData.from_frame(frame, control="control", start=design.assigned_at,
                                     stratified_by=experiment.stratify_by, assignments=units)
    return data, sim.truth


def _effect_columns(eff) -> dict:
    """Estimate, SE, p-value, t df and (unless ``estimate ± 1.96·se``) the 95% interval."""
    cols = {"estimate": eff.difference, "se": eff.se, "p_value": eff.p_value, "df": eff.df}
    if eff.interval is not None or np.isfinite(eff.df):
        cols["ci_low"], cols["ci_high"] = eff.ci(0.95)
        if eff.spec.is_ratio:  # rows hold the log hazard ratio
            cols["ci_low"], cols["ci_high"] = np.log(cols["ci_low"]), np.log(cols["ci_high"])
    return cols


def _replicate_rows(data: ExperimentData, cfg: MetricConfig, metrics, adjusted: bool,
                    naive: bool) -> list[dict]:
    rows = []
    for eff in compare_arms(data, cfg, metrics=metrics):
        rows.append({"metric": eff.metric, "method": "clustered", **_effect_columns(eff)})
        if adjusted and np.isfinite(eff.se):
            adj = adjust_effect(eff, data)
            if adj.adjusted:
                rows.append({"metric": eff.metric, "method": "clustered_adjusted",
                             **_effect_columns(adj), "se_ratio": adj.se / eff.se})
    if naive:
        for metric in NAIVE_INVOICE_METRICS:
            if metrics is not None and metric not in metrics:
                continue
            diff, se = naive_invoice_level_se(data, metric, 1, cfg)
            rows.append({"metric": metric, "method": "naive_invoice_level", "estimate": diff,
                         "se": se})
        diff, se = naive_drop_open(data, 1, cfg.due_plus_days)
        rows.append({"metric": "paid_by_due_d", "method": "naive_drop_open", "estimate": diff,
                     "se": se})
    return rows


def _replicate_chunk(args) -> list[dict]:
    arms, replicates, seed, design, cfg, metrics, adjusted, naive = args
    rows = []
    for r in replicates:
        t0 = time.perf_counter()
        data, truth = simulate_experiment_data(arms, seed * 100_003 + r, design)
        rep = _replicate_rows(data, cfg, metrics, adjusted, naive)
        effects = truth.arm_effects.set_index("arm")
        for row in rep:
            col = SIMULATOR_TRUTH.get(row["metric"])
            row["truth"] = (float(effects.loc["treatment", col] - effects.loc["control", col])
                            if col else np.nan)
            row["replicate"] = r
            row["seconds"] = time.perf_counter() - t0
        rows.extend(rep)
    return rows


def run_replicates(arms: dict[str, Strategy], n_experiments: int, seed: int = 0,
                   design: SimulationDesign = DEFAULT_DESIGN,
                   cfg: MetricConfig = CONFORMANCE_CONFIG, metrics=None,
                   adjusted: bool = True, naive: bool = True, n_jobs: int = 1,
                   first: int = 0) -> pd.DataFrame:
    """Simulate and analyse ``n_experiments`` experiments; one row per metric × method × run.

    Columns: replicate, metric, method, estimate (difference; log HR for the hazard
    ratio), se, truth (simulator truth where available, else NaN), seconds. ``n_jobs > 1``
    spreads the runs over processes (results do not depend on it: each run has its seed).
    ``first``: number of the first replicate (a long run in chunks: replicates
    ``first .. first + n_experiments − 1`` of ``seed``, the same runs as one long call).
    """
    args = [(arms, list(chunk), seed, design, cfg, metrics, adjusted, naive)
            for chunk in np.array_split(np.arange(first, first + n_experiments),
                                        max(1, n_jobs * 4))
            if len(chunk)]
    if n_jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(n_jobs) as pool:
            parts = list(pool.map(_replicate_chunk, args))
    else:
        parts = [_replicate_chunk(a) for a in args]
    return pd.DataFrame([row for part in parts for row in part])


def run_synthetic_replicates(arm_hr: dict[str, float], n_experiments: int,
                             n_customers: int = 2000, seed: int = 0,
                             cfg: MetricConfig | None = None, metrics=None,
                             adjusted: bool = True, naive: bool = True,
                             reference_customers: int = 0, **model) -> pd.DataFrame:
    """Like :func:`run_replicates` on the lean generator of
    :mod:`~collections_lab.experiments.synthetic` (milliseconds per experiment, so the CI
    can afford hundreds); truth from :func:`~collections_lab.experiments.synthetic.synthetic_truth`
    for P(paid by due + d), RMST, escalation, cash by due + d and discount cost, and —
    when ``reference_customers`` > 0 — from one experiment that many customers strong for
    the other metrics. ``model`` goes to the generator (e.g. ``discount_rate``) and to the
    truth.
    """
    from .synthetic import START, synthetic_payment_times, synthetic_truth

    cfg = cfg or MetricConfig(escalation_due_plus_days=60)
    truth = synthetic_truth(arm_hr, n_customers=200_000, due_plus_days=cfg.due_plus_days,
                            horizon_days=cfg.horizon_days, **model)
    names = list(arm_hr)
    reference = {}
    if reference_customers:
        big = synthetic_payment_times(reference_customers, seed=seed + 987_654_321,
                                      arm_hr=arm_hr, **model)
        big_data = ExperimentData.from_frame(big, control=names[0], start=START)
        reference = {e.metric: e.difference
                     for e in compare_arms(big_data, cfg, metrics=metrics)}
    rows = []
    for r in range(n_experiments):
        frame = synthetic_payment_times(n_customers, seed=seed * 100_003 + r, arm_hr=arm_hr,
                                        **model)
        data = ExperimentData.from_frame(frame, control=names[0], start=START)
        for row in _replicate_rows(data, cfg, metrics, adjusted, naive):
            m = row["metric"]
            if m in truth.columns:
                row["truth"] = float(truth.loc[names[1], m] - truth.loc[names[0], m])
                row["truth_source"] = "synthetic analytic"
            else:
                row["truth"] = reference.get(m, np.nan)
                row["truth_source"] = "synthetic reference run"
            row["replicate"] = r
            rows.append(row)
    return pd.DataFrame(rows)


def _rate_table(frame: pd.DataFrame, hit: pd.Series, name: str) -> pd.DataFrame:
    frame = frame.assign(_hit=hit.astype(float))
    valid = frame.dropna(subset=["se", "_hit"])
    out = valid.groupby(["metric", "method"], sort=False).agg(
        **{name: ("_hit", "mean"), "n_experiments": ("_hit", "size")}).reset_index()
    out["mc_se"] = np.sqrt(out[name] * (1 - out[name]) / out["n_experiments"])
    if "se_ratio" in frame:
        ratio = valid.groupby(["metric", "method"], sort=False)["se_ratio"].mean()
        out["mean_se_ratio"] = out.set_index(["metric", "method"]).index.map(ratio)
    return out


def false_positive_table(replicates: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Share of runs with p < ``alpha`` per metric and method (A/A: should be ``alpha``).

    Uses the row's ``p_value`` where given (the median's pooled test), else ``estimate/se``.
    ``n_experiments`` counts the runs with a test (an estimate and a p-value).
    """
    p = 2 * stats.norm.sf(np.abs(replicates["estimate"] / replicates["se"]))
    if "p_value" in replicates:
        p = replicates["p_value"].where(replicates["p_value"].notna(), p)
    p = pd.Series(p, index=replicates.index)
    # no p-value (both arms at the same boundary, e.g. churn 1.0 and 1.0: SE 0) is no
    # test: such runs are not counted as "not rejected"
    return _rate_table(replicates, (p < alpha).where(p.notna()), "false_positive_rate")


def coverage_table(replicates: pd.DataFrame, truth_col: str = "truth",
                   level: float = 0.95) -> pd.DataFrame:
    """Share of runs whose interval contains the truth, per metric and method.

    Wald intervals ``estimate ± q·se``, except rows with ``ci_low``/``ci_high`` (the
    median's Su–Wei interval, computed at 95%).
    """
    q = stats.norm.ppf(0.5 + level / 2)
    ok = replicates.dropna(subset=[truth_col])
    lo, hi = ok["estimate"] - q * ok["se"], ok["estimate"] + q * ok["se"]
    if "ci_low" in ok:
        if level != 0.95 and ok["ci_low"].notna().any():
            raise ValueError("rows with a stored interval (ci_low/ci_high) are at 95% only")
        lo = ok["ci_low"].where(ok["ci_low"].notna(), lo)
        hi = ok["ci_high"].where(ok["ci_high"].notna(), hi)
    hit = (lo <= ok[truth_col]) & (ok[truth_col] <= hi)
    table = _rate_table(ok, hit, "coverage")
    bias = ok.assign(err=ok["estimate"] - ok[truth_col]).groupby(
        ["metric", "method"], sort=False)["err"].mean()
    table["mean_bias"] = table.set_index(["metric", "method"]).index.map(bias)
    return table


def aa_false_positive_rates(n_experiments: int = 200, n_customers: int = 2150, seed: int = 0,
                            alpha: float = 0.05, metrics=None,
                            design: SimulationDesign | None = None,
                            n_jobs: int = 1) -> pd.DataFrame:
    """A/A runs (same strategy in both arms): false-positive rate of every test."""
    design = design or SimulationDesign(n_customers=n_customers)
    reps = run_replicates({"control": AA_STRATEGY, "treatment": AA_STRATEGY}, n_experiments,
                          seed, design, metrics=metrics, n_jobs=n_jobs)
    return false_positive_table(reps, alpha)


#: Arms of the synthetic coverage run (metrics without an analytic simulator truth).
SYNTHETIC_COVERAGE = {"arm_hr": {"control": 1.0, "treatment": 1.3},
                      "discount_rate": {"treatment": 0.02}}


def coverage_rates(n_experiments: int = 200, n_customers: int = 2150, seed: int = 0,
                   reference_customers: int = 200_000, level: float = 0.95,
                   design: SimulationDesign | None = None,
                   arms: dict[str, Strategy] | None = None, n_jobs: int = 1,
                   synthetic_customers: int = 3000) -> pd.DataFrame:
    """Interval coverage with real effects.

    - P(paid by due + d), RMST and escalation on the behaviour simulator
      (``COVERAGE_ARMS``), against the simulator's analytic truth for the same invoices
      (checks bias and variance), with the two naive methods alongside;
    - every other metric on the synthetic generator: cash by due + d and discount cost
      against the generator's own truth (amounts are drawn independently of payment days,
      so they are P(paid by due + d) and ``rate · P(paid within DISCOUNT_DAYS)``); median,
      hazard ratio, churn and net value against an experiment ``reference_customers``
      strong (its SE is a small fraction of a run's, so this checks the variance). The
      simulator is not used for these because its population-level parameters change with
      the seed (each segment's dominant payment terms are drawn once per simulation), so
      a separate reference run would not share the truth.

    Column ``truth_source`` says which truth each row used.
    """
    design = design or SimulationDesign(n_customers=n_customers)
    arms = arms or COVERAGE_ARMS
    sim = run_replicates(arms, n_experiments, seed, design, metrics=list(SIMULATOR_TRUTH),
                         naive=True, n_jobs=n_jobs)
    sim["truth_source"] = "simulator analytic"
    others = [m for m in METRICS if m not in SIMULATOR_TRUTH]
    syn = run_synthetic_replicates(SYNTHETIC_COVERAGE["arm_hr"], n_experiments,
                                   synthetic_customers, seed,
                                   metrics=others, naive=False,
                                   reference_customers=reference_customers,
                                   discount_rate=SYNTHETIC_COVERAGE["discount_rate"])
    reps = pd.concat([sim, syn], ignore_index=True)
    table = coverage_table(reps, level=level)
    source = reps.groupby(["metric", "method"], sort=False)["truth_source"].first()
    table["truth_source"] = table.set_index(["metric", "method"]).index.map(source)
    return table


#: Sequential design: one pre-period month, then 8 weeks of experiment with a weekly readout
#: (about 15,000 invoices).
SEQUENTIAL_DESIGN = SimulationDesign(n_customers=6000, start="2025-02-01",
                                     assigned_at="2025-03-03", end="2025-04-27")


def _sequential_chunk(args) -> list[dict]:
    replicates, seed, weeks, alpha, design = args
    start = int((np.datetime64(design.assigned_at, "D") - np.datetime64("1970-01-01", "D"))
                .astype(int))
    look_days = [start + 7 * k - 1 for k in range(1, weeks + 1)]
    arms = {"control": AA_STRATEGY, "treatment": AA_STRATEGY}
    rows = []
    for r in replicates:
        data, _ = simulate_experiment_data(arms, seed * 100_003 + r, design)
        z, events = [], []
        for day in look_days:
            try:
                log_hr, _, se, ev = hazard_ratio_effect(data.at(day), 1, 0)
                z.append(log_hr / se)
                events.append(ev)
            except ValueError:  # no events yet in an arm
                z.append(np.nan)
                events.append(0)
        res = group_sequential_test(z, events, planned_events=max(events[-1], 1), alpha=alpha)
        rows.append({"alpha_spending_obrien_fleming": res.decision == "stop_efficacy",
                     "naive_weekly_peeks": naive_repeated_test(z, alpha),
                     "single_final_test": abs(z[-1]) >= stats.norm.isf(alpha / 2)})
    return rows


def sequential_false_positive_rates(n_experiments: int = 200, seed: int = 0, weeks: int = 8,
                                    alpha: float = 0.05,
                                    design: SimulationDesign = SEQUENTIAL_DESIGN,
                                    n_jobs: int = 1) -> pd.DataFrame:
    """A/A with a readout every week: alpha spending versus naive repeated testing.

    The primary statistic is the clustered log hazard ratio of payment, with information
    measured in payment events (planned events = events at the last week).
    """
    args = [(list(chunk), seed, weeks, alpha, design)
            for chunk in np.array_split(np.arange(n_experiments), max(1, n_jobs * 4))
            if len(chunk)]
    if n_jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(n_jobs) as pool:
            parts = list(pool.map(_sequential_chunk, args))
    else:
        parts = [_sequential_chunk(a) for a in args]
    hits = pd.DataFrame([row for part in parts for row in part])
    n = len(hits)
    return pd.DataFrame([{"metric": "hazard_ratio", "method": m,
                          "false_positive_rate": float(hits[m].mean()), "n_experiments": n,
                          "mc_se": float(np.sqrt(hits[m].mean() * (1 - hits[m].mean()) / n)),
                          "looks": weeks} for m in hits.columns])


#: Metrics :func:`power_check` can check, with the design function each one uses.
POWER_METRICS = {
    "paid_by_due_d": "power_at_se (pilot SE rescaled by sqrt(customers))",
    "hazard_ratio": "power_hazard_ratio (Schoenfeld events x design effect)",
    "rmst_days": "power_rmst (analytic RMST variance x design effect)",
}


def predicted_power(metric: str, pilot: ExperimentData, pilot_customers: int,
                    n_customers: int, effect: float, alpha: float = 0.05,
                    cfg: MetricConfig = CONFORMANCE_CONFIG) -> float:
    """Design-function power at ``n_customers`` (both arms) for the true ``effect``.

    ``pilot`` (simulated with ``pilot_customers`` customers, same calendar) gives the
    design effect (against simple randomisation of invoices), events per customer and
    curves; ``effect`` is a difference (log hazard ratio for the hazard ratio).
    """
    share = n_customers / pilot_customers
    if metric == "paid_by_due_d":
        se_pilot = compare_arms(pilot, cfg, metrics=[metric])[0].se
        return power_at_se(effect, se_pilot * np.sqrt(1 / share), alpha)
    de = estimate_design_effect(pilot, metric, cfg, baseline="simple")
    if metric == "hazard_ratio":
        _, _, _, events = hazard_ratio_effect(pilot, 1, 0)
        return power_hazard_ratio(float(np.exp(effect)), events * share, alpha,
                                  design_effect=de)
    if metric == "rmst_days":
        horizon = cfg.horizon_days
        s_c, g_c = unpaid_and_followed_curves(pilot, 0, horizon)
        s_t, g_t = unpaid_and_followed_curves(pilot, 1, horizon)
        invoices_per_arm = len(pilot.customer) * share / 2
        return power_rmst(s_c, effect, invoices_per_arm, horizon, g_c, alpha, de, s_t, g_t)
    raise ValueError(f"power_check supports {sorted(POWER_METRICS)}, not {metric!r}")


def power_check(n_experiments: int = 200, seed: int = 0, target_power: float = 0.7,
                metric: str = "paid_by_due_d", alpha: float = 0.05,
                pilot_customers: int = 20_000,
                design: SimulationDesign = DEFAULT_DESIGN, n_jobs: int = 1,
                arms: dict[str, Strategy] | None = None, fixed_population: bool = True,
                prediction_pilots: int = 4) -> pd.DataFrame:
    """Predicted versus simulated power for ``metric`` on ``arms`` (``POWER_ARMS``).

    A sizing pilot (``pilot_customers``) picks the number of customers expected to give
    ``target_power``: its clustered SE rescaled by ``sqrt(customers)``. Then, as an analyst
    planning an experiment on their own portfolio would, the check fixes **one population**
    of that many customers (``population_seed``) and draws ``n_experiments`` experiments
    over it — a new assignment and new payment behaviour each time — so the true effect is
    that portfolio's, the same in every run. The prediction is the design function of
    :data:`POWER_METRICS` with the inputs it asks for (design effect against simple
    randomisation of invoices, events, curves) measured on ``prediction_pilots`` further
    draws over the same customers (their mean, so one pilot's noise does not decide the
    check), at the true effect: the simulator's analytic truth averaged over the runs
    (P(paid), RMST), or for the hazard ratio — which has no analytic truth — the mean log
    hazard ratio of the runs (Monte-Carlo error ~SE/sqrt(n_experiments)).

    ``fixed_population=False`` draws a new population per run (and predicts from the
    sizing pilot's population): simulated power is then averaged over portfolios whose
    true effects and design effects differ, which the design function for one portfolio
    does not claim to predict (measured: +0.042 for the hazard ratio, conformance run 3).
    """
    if metric not in POWER_METRICS:
        raise ValueError(f"power_check supports {sorted(POWER_METRICS)}, not {metric!r}")
    arms = arms or POWER_ARMS
    sizing_design = replace(design, n_customers=pilot_customers, population_seed=None)
    pilot, _ = simulate_experiment_data(arms, 777_000_001 + seed, sizing_design)
    pilot_eff = compare_arms(pilot, CONFORMANCE_CONFIG, metrics=[metric])[0]
    # SE scales with 1/sqrt(customers): the solver's customers for the target power
    n_customers = int(np.ceil(units_for_se_power(pilot_eff.difference, pilot_eff.se,
                                                 pilot_customers, alpha, target_power)))
    population = (design.population_seed if design.population_seed is not None
                  else 555_000_001 + seed) if fixed_population else None
    run_design = replace(design, n_customers=n_customers, population_seed=population)
    reps = run_replicates(arms, n_experiments, seed, run_design, metrics=[metric],
                          adjusted=False, naive=False, n_jobs=n_jobs)
    if metric in SIMULATOR_TRUTH:
        effect, source = float(reps["truth"].mean()), "simulator analytic, mean over runs"
    else:
        effect, source = float(reps["estimate"].mean()), "mean estimate over runs"
    if fixed_population:
        predictions = [
            predicted_power(metric, simulate_experiment_data(arms, 888_000_001 + seed * 101 + k,
                                                             run_design)[0],
                            n_customers, n_customers, effect, alpha)
            for k in range(max(1, prediction_pilots))]
        predicted = float(np.mean(predictions))
    else:
        predicted = predicted_power(metric, pilot, pilot_customers, n_customers, effect, alpha)
    simulated = float(np.mean(reps["p_value"] < alpha))
    return pd.DataFrame([{
        "metric": metric, "design_function": POWER_METRICS[metric].split(" ")[0],
        "true_effect": float(np.exp(effect)) if metric == "hazard_ratio" else effect,
        "truth_source": source, "customers": n_customers,
        "population": "fixed" if fixed_population else "new per run",
        "predicted_power": predicted, "simulated_power": simulated,
        "difference": simulated - predicted, "n_experiments": n_experiments,
        "mc_se": np.sqrt(simulated * (1 - simulated) / n_experiments),
    }])


def power_checks(n_experiments: int = 200, seed: int = 0, metrics=tuple(POWER_METRICS),
                 n_jobs: int = 1, **kwargs) -> pd.DataFrame:
    """:func:`power_check` for several metrics, one row each."""
    return pd.concat([power_check(n_experiments, seed, metric=m, n_jobs=n_jobs, **kwargs)
                      for m in metrics], ignore_index=True)


#: Mixed payment terms on the synthetic generator: 15- and 60-day customers, payment days
#: counted from issue (so behaviour relative to due depends on the terms, as on real
#: portfolios) and 90 days of follow-up so 60-day invoices reach due + 60.
MIXED_TERMS = {"terms": (15, 60), "follow_days": 90}
#: Metrics the mixed-terms scenario checks (the "by due + d" ones the terms mix biased).
MIXED_TERMS_METRICS = ("paid_by_due_d", "cash_by_due_d", "escalation_rate")


def mixed_terms_power(n_experiments: int = 200, seed: int = 0, target_power: float = 0.7,
                      metrics=MIXED_TERMS_METRICS, arm_hr: dict[str, float] | None = None,
                      pilot_customers: int = 20_000, alpha: float = 0.05,
                      cfg: MetricConfig | None = None) -> pd.DataFrame:
    """Predicted versus simulated power under mixed payment terms (:data:`MIXED_TERMS`).

    Per metric: a sizing pilot of ``pilot_customers`` picks the customers expected to
    give ``target_power`` for the generator's true effect (its clustered SE rescaled by
    ``sqrt(customers)``); ``n_experiments`` experiments of that size are simulated and
    the share significant at ``alpha`` is compared with the design function
    :func:`~collections_lab.experiments.design.power_from_pilot` on a second, independent
    pilot. The true effect is the generator's (:func:`~collections_lab.experiments.synthetic.synthetic_truth`:
    each invoice at its own due + d), so a per-terms estimator biased by the mix would
    show as power off the prediction.
    """
    from .design import power_from_pilot
    from .synthetic import START, synthetic_payment_times, synthetic_truth

    cfg = cfg or MetricConfig(escalation_due_plus_days=60)
    arm_hr = arm_hr or {"control": 1.0, "treatment": 1.15}
    names = list(arm_hr)
    truth = synthetic_truth(arm_hr, n_customers=200_000, due_plus_days=cfg.due_plus_days,
                            horizon_days=cfg.horizon_days, terms=MIXED_TERMS["terms"])

    def pilot(k: int) -> ExperimentData:
        frame = synthetic_payment_times(pilot_customers, seed=seed * 7919 + 424_242 + k,
                                        arm_hr=arm_hr, **MIXED_TERMS)
        return ExperimentData.from_frame(frame, control=names[0], start=START)

    sizing, predicting = pilot(0), pilot(1)
    rows = []
    for metric in metrics:
        effect = float(truth.loc[names[1], metric] - truth.loc[names[0], metric])
        se = compare_arms(sizing, cfg, metrics=[metric])[0].se
        n_customers = int(np.ceil(units_for_se_power(effect, se, pilot_customers, alpha,
                                                     target_power)))
        reps = run_synthetic_replicates(arm_hr, n_experiments, n_customers, seed, cfg,
                                        metrics=[metric], adjusted=False, naive=False,
                                        **MIXED_TERMS)
        simulated = float(np.mean(reps["p_value"] < alpha))
        # power_from_pilot counts customers with experiment invoices (not every drawn one)
        analysed = float(np.sum(predicting.customers_in(0) | predicting.customers_in(1))
                         / pilot_customers)
        predicted = power_from_pilot(predicting, metric, effect,
                                     round(n_customers * analysed / 2), alpha, cfg)
        rows.append({"metric": metric, "true_effect": effect, "customers": n_customers,
                     "predicted_power": predicted, "simulated_power": simulated,
                     "difference": simulated - predicted,
                     "mean_bias": float((reps["estimate"] - effect).mean()),
                     "n_experiments": n_experiments,
                     "mc_se": np.sqrt(simulated * (1 - simulated) / n_experiments)})
    return pd.DataFrame(rows)


def mixed_terms_checks(n_experiments: int = 200, seed: int = 0, n_customers: int = 1500,
                       effect_hr: float = 1.5) -> dict[str, pd.DataFrame]:
    """The mixed-terms scenario (:data:`MIXED_TERMS`): A/A, coverage and power tables.

    A/A false-positive rates and 95% coverage of the generator's truth (hazard ratio
    ``effect_hr``) at ``n_customers``, and :func:`mixed_terms_power`; each table has a
    ``scenario`` column so it can sit beside the simulator's rows in one report.
    """
    kw = dict(metrics=list(MIXED_TERMS_METRICS), adjusted=False, naive=False, **MIXED_TERMS)
    label = "mixed terms 15/60"
    aa = run_synthetic_replicates({"control": 1.0, "treatment": 1.0}, n_experiments,
                                  n_customers, seed, **kw)
    cov = run_synthetic_replicates({"control": 1.0, "treatment": effect_hr}, n_experiments,
                                   n_customers, seed + 1, **kw)
    return {"false_positive": false_positive_table(aa).assign(scenario=label),
            "coverage": coverage_table(cov).assign(scenario=label),
            "power": mixed_terms_power(n_experiments, seed + 2).assign(scenario=label)}


@dataclass
class ConformanceReport(ResultMixin):
    """All conformance tables of one run, with the bands they are judged against."""

    false_positive: pd.DataFrame
    coverage: pd.DataFrame
    sequential: pd.DataFrame
    power: pd.DataFrame
    seconds: dict = field(default_factory=dict)
    title = "Statistical conformance of the experiment engine"

    def to_frame(self) -> pd.DataFrame:
        fp = self.false_positive.assign(check="A/A false-positive rate",
                                        value=self.false_positive["false_positive_rate"])
        cov = self.coverage.assign(check="95% CI coverage", value=self.coverage["coverage"])
        seq = self.sequential.assign(check="sequential false-positive rate",
                                     value=self.sequential["false_positive_rate"])
        pw = self.power.assign(check="power: simulated − predicted",
                               value=self.power["difference"], method="design_function")
        cols = ["check", "metric", "method", "value", "n_experiments"]
        return pd.concat([fp[cols], cov[cols], seq[cols], pw[cols]], ignore_index=True)

    def to_markdown(self) -> str:
        """The report as Markdown tables (for ``conformance/REPORT.md``)."""
        parts = [f"# {self.title}\n"]
        for name, table in (("A/A false-positive rates (alpha = 0.05)", self.false_positive),
                            ("Confidence-interval coverage (95% nominal)", self.coverage),
                            ("Sequential: weekly peeks over 8 weeks", self.sequential),
                            ("Power: design prediction vs simulation", self.power)):
            parts.append(f"## {name}\n\n{markdown_table(table)}\n")
        if self.seconds:
            parts.append("## Run time (s)\n\n" + "\n".join(
                f"- {k}: {v:.1f}" for k, v in self.seconds.items()) + "\n")
        return "\n".join(parts)


def markdown_table(table: pd.DataFrame) -> str:
    """``table`` as a Markdown pipe table, floats to 4 decimals (pandas' ``to_markdown``
    needs ``tabulate``, which is not a dependency).

    >>> print(markdown_table(pd.DataFrame({"metric": ["cash"], "rate": [0.05]})))
    | metric | rate |
    |---|---|
    | cash | 0.0500 |
    """
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in table.iterrows():
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
