"""What the experiment notebooks call: a design from a portfolio's history, a readout.

- :func:`load_experiment` finds an experiment's design (arms, control, factors, weights)
  in ``experiment.json`` + ``strategies.yml`` beside the data (the bundled sample has
  both), or infers it from the assignments table.
- :func:`design_experiment` uses the portfolio's own history as a pilot (an A/A split by
  salted hash) to plan sample sizes for every primary metric — analytic formulas with the
  measured design effect, pilot variances where no formula exists — and, optionally, a
  power curve simulated on the behaviour model.
- :func:`assign_experiment` assigns the portfolio's customers to the arms of a designed
  experiment (weights, stratification, salt, date) and writes the assignments table.
- :func:`experiment_readout` runs :func:`~collections_lab.experiments.readout.analyze_experiment`
  with a weekly sequential plan.
- :func:`portfolio_in_currency` restricts a portfolio (assignments included) to the
  invoices of one currency (what each arm does, in business words, is
  :func:`collections_lab.reporting.strategies.arms_table`).

Example
-------
``portfolio`` is a small simulated A/B test (see ``conftest.py``); the bundled sample is
``load_portfolio("data/sample")``.

>>> design = design_experiment(portfolio)
>>> print(design.summary("es"))
Para detectar 3 facturas más de cada 100 pagadas al vencimiento + 15 días ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.dates import parse_date, resolve_as_of
from ..data.portfolio import experiment_design, restrict_currency
from ..i18n import (
    ResultMixin,
    column_label,
    format_number,
    format_pct,
    has,
    resolve,
    t,
    t_days,
    value_label,
)
from ..model.plans import Experiment, assign
from ..model.strategies import (
    MIN_REMINDERS_BEFORE_ESCALATION,
    Strategy,
    load_strategies,
    policy_problems,
)
from .data import ExperimentData
from .design import (
    PowerCurve,
    arm_sizes,
    arm_weights,
    estimate_design_effect,
    power_by_simulation,
    rmst_variance_per_invoice,
    sample_size_from_pilot,
    sample_size_hazard_ratio,
    sample_size_proportion,
    sample_size_rmst,
    weeks_to_run,
)
from .metric_registry import METRIC_REGISTRY, metric_label
from .metrics import MetricConfig, estimate_arm
from .readout import ExperimentReadout, SequentialPlan, analyze_experiment


def load_experiment(location=None, portfolio=None, experiment_id: str | None = None,
                    strategies=None) -> Experiment | None:
    """The experiment's design: ``experiment.json`` (+ ``strategies.yml``) or assignments.

    ``location`` is a data directory; without a design file there, the portfolio's own
    ``experiment`` (what :func:`~collections_lab.data.loading.load_portfolio` found), else
    its assignments (equal weights). The control comes from the design, or is an arm
    named ``"control"``; assignments that name no control give a ValueError asking for
    the design file or ``control=`` (never the alphabetically first arm).
    ``strategies`` is a YAML file defining the arms' strategies (what each arm does),
    instead of the ``strategies.yml`` beside the data; arms it does not define keep
    their name only.

    Example:
        >>> experiment = cl.load_experiment(SAMPLE)
        >>> experiment.experiment_id, experiment.control_arm, len(experiment.arms)
        ('tone-count-discount-2025', 'friendly-1-none', 8)
    """
    design = experiment_design(location, None)
    if design is None and portfolio is not None:
        design = getattr(portfolio, "experiment", None)
        if design is not None and experiment_id not in (None, design["experiment_id"]):
            design = None  # another experiment of the assignments: built below
        if design is None and len(portfolio.assignments):
            asg = portfolio.assignments
            chosen = asg if experiment_id is None else asg[asg["experiment_id"] == experiment_id]
            design = experiment_design(None, chosen) if len(chosen) else None
    if design is None or experiment_id not in (None, design["experiment_id"]):
        return None
    if design.get("control") is None:
        raise ValueError(
            f"experiment {design['experiment_id']!r}: which arm is the control? The "
            f"assignments do not say (arms: {design['arms']}); put an experiment.json with "
            "\"control\" beside the data or pass the control to the analysis")
    catalogue = {}
    if strategies:
        catalogue = load_strategies(strategies)
    elif location is not None and (Path(location) / "strategies.yml").exists():
        catalogue = load_strategies(Path(location) / "strategies.yml")
    elif portfolio is not None and getattr(portfolio, "strategies", None):
        catalogue = portfolio.strategies
    arms = {a: catalogue.get(a, Strategy(a)) for a in design["arms"]}
    from_file = design.get("source") not in (None, "assignments")
    return Experiment(design["experiment_id"], arms, weights=design.get("weights"),
                      control=design["control"],
                      stratify_by=design.get("stratify_by") if from_file else None,
                      factors=design.get("factors") or {})


def load_strategy_set(strategies=None, location=None) -> dict[str, Strategy]:
    """Strategies by name: a YAML file, else ``strategies.yml`` beside the data, else the
    bundled examples."""
    from ..model.strategies import example_strategies

    if strategies:
        return load_strategies(strategies)
    if location is not None and (Path(location) / "strategies.yml").exists():
        return {**example_strategies(), **load_strategies(Path(location) / "strategies.yml")}
    return example_strategies()


def portfolio_in_currency(portfolio, currency: str | None):
    """The portfolio restricted to invoices in ``currency`` (None: unchanged).

    Customers, payments, reminders and assignments follow the invoices kept, so an
    experiment read out or designed in one currency counts only that currency's
    customers. An unknown currency is an error naming the currencies in the data.

    Example:
        >>> eur = cl.portfolio_in_currency(portfolio, "EUR")
        >>> set(eur.invoices["currency"])
        {'EUR'}
    """
    if currency is None or str(currency).strip() == "":
        return portfolio
    return restrict_currency(portfolio, str(currency))


@dataclass
class RunningExperiment(ResultMixin):
    """Customers of the experiment in the data that is still running when a new one
    would start (see :func:`outside_running_experiment`)."""

    experiment_id: str
    customers: int
    free: int
    starts: pd.Timestamp
    ends: pd.Timestamp | None = None
    included: bool = False
    title = "Running experiment"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"experiment_id": self.experiment_id, "customers": self.customers,
                              "free": self.free, "starts": self.starts.date(),
                              "ends": None if self.ends is None else self.ends.date()}])

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        key = "xd_running_included" if self.included else "xd_running_excluded"
        return t(key, lang).format(n=format_number(self.customers, 0, lang),
                                   id=self.experiment_id,
                                   free=format_number(self.free, 0, lang))


def outside_running_experiment(portfolio, assigned_at=None, as_of=None,
                               include_running: bool = False):
    """The portfolio a new experiment may assign, and the running experiment it avoids.

    A customer in the data's assignments is in a running experiment unless its design
    (``experiment.json``) gives an ``ends_at`` date before ``assigned_at`` (default: the
    day after ``as_of``). Assigning such a customer again would mix two tests on the same
    customers, so by default they are left out; ``include_running=True`` keeps them (the
    summary says so). Returns ``(portfolio, RunningExperiment | None)``; None when no
    experiment runs.

    >>> from collections_lab.data.portfolio import Portfolio
    >>> cust = pd.DataFrame({"customer_id": ["a", "b", "c"]})
    >>> inv = pd.DataFrame({"invoice_id": ["i"], "customer_id": ["a"],
    ...     "issue_date": pd.to_datetime(["2025-01-01"]), "due_date": pd.to_datetime(["2025-01-31"]),
    ...     "amount": [1.0], "currency": ["EUR"]})
    >>> asg = pd.DataFrame({"experiment_id": ["x", "x"], "customer_id": ["a", "b"],
    ...     "arm": ["c", "t"], "assigned_at": pd.to_datetime(["2024-12-01"] * 2)})
    >>> free, running = outside_running_experiment(Portfolio(cust, inv, assignments=asg))
    >>> list(free.customers["customer_id"]), running.customers, running.free
    (['c'], 2, 1)
    """
    from dataclasses import replace

    asg = portfolio.assignments
    if asg is None or not len(asg):
        return portfolio, None
    if assigned_at is None or str(assigned_at).strip() == "":
        assigned_at = resolve_as_of(portfolio, as_of) + pd.Timedelta(days=1)
    starts = parse_date(assigned_at, "assigned_at")
    design = portfolio.experiment or {}
    ends = design.get("ends_at")
    ends = parse_date(str(ends), "ends_at") if ends else None
    if ends is not None and ends < starts:
        return portfolio, None
    busy = set(asg["customer_id"].astype(str))
    ids = portfolio.customers["customer_id"].astype(str)
    in_it = ids.isin(busy)
    ident = str(design.get("experiment_id") or asg["experiment_id"].iloc[0])
    running = RunningExperiment(ident, int(in_it.sum()), int((~in_it).sum()), starts, ends,
                                included=include_running)
    if include_running:
        return portfolio, running
    return replace(portfolio, customers=portfolio.customers.loc[~in_it.to_numpy()]), running


def factorial_term_label(term, lang: str = "en"):
    """A factorial regression term in words: ``tone[firm]:count[3]`` → ``Tone firm ×
    Count 3``; anything else unchanged.

    >>> factorial_term_label("tone[firm]:count[3]:discount[2/10]")
    'Tone firm × Reminders 3 × Discount 2/10'
    """
    if not isinstance(term, str) or "[" not in term:
        return term
    parts = re.findall(r"(\w+)\[([^\]]+)\]", term)
    return " × ".join(
        f"{t(f'xf_{name}', lang) if has(f'xf_{name}') else column_label(name, lang)}"
        f" {t(f'sd_{name}[{level}]', lang) if has(f'sd_{name}[{level}]') else level}"
        for name, level in parts) or term


def labelled(frame: pd.DataFrame, lang: str = "en", decimals: int = 4,
             due_plus_days: int | None = None) -> pd.DataFrame:
    """A report copy of a design or readout table: headers (and the baseline's
    quantity names) in ``lang``, numbers rounded to ``decimals`` (the baseline's values
    each to its own precision: counts whole, days to one decimal, shares as percentages,
    the measured-design-effect flag as yes / no). Columns without a label keep their name;
    nothing is dropped. ``due_plus_days``: the readout's d, written into the labels
    ("paid by due + 15 days") instead of a bare "d" the page does not define.

    Example:
        >>> import pandas as pd
        >>> cl.labelled(pd.DataFrame({"metric": ["rmst_days"], "effect": [-1.23456]}), "es")
                                       métrica  efecto
        0  Días pendientes (media restringida) -1.2346
    """
    out = frame.copy()
    if "quantity" in out:
        out["quantity"] = [t_days(f"xt_{q}", lang, due_plus_days) for q in out["quantity"]]
    for col in ("metric", "model"):  # metric codes (paid_by_due_d, ...) in words
        if col in out:
            out[col] = [metric_label(m, lang, due_plus_days) for m in out[col]]
    if "term" in out:
        out["term"] = [factorial_term_label(x, lang) for x in out["term"]]
    if "method" in out:  # how a sample size was computed, in words
        out["method"] = [t(f"xt_method[{m}]", lang) if has(f"xt_method[{m}]") else m
                         for m in out["method"]]
    for col in ("power", "alpha"):  # probabilities in percent, as in the power table
        if col in out:
            # unbreakable: a narrow alpha column wrapped "2,5" above "%"
            out[col] = [format_pct(v, None, lang).replace(" ", "\u00a0") if pd.notna(v) else v
                        for v in out[col]]
    if "segment" in out:  # segment codes (small, all, ...) in words where the catalogue has them
        out["segment"] = [value_label(v, "segment", lang) for v in out["segment"]]
    numeric = out.select_dtypes("number").columns
    out[numeric] = out[numeric].round(decimals)
    if {"metric", "effect"} <= set(frame.columns) and (  # a sizing table, even or not
            {"invoices_per_arm", "invoices_total"} & set(frame.columns)):
        out["effect"] = [_effect_text(m, e, lang) for m, e in
                         zip(frame["metric"], frame["effect"], strict=True)]
    if "design_effect" in out:  # the same figure as the baseline's, at its precision
        out["design_effect"] = out["design_effect"].round(BASELINE_DECIMALS["design_effect"])
    if "quantity" in frame and "value" in out:  # each baseline value at its own precision
        out["value"] = [_baseline_value(q, v, decimals, lang)
                        for q, v in zip(frame["quantity"], frame["value"], strict=True)]
    return out.rename(columns={c: t(f"xt_{c}", lang) for c in out.columns
                               if has(f"xt_{c}")})


#: Baseline quantities that are shares of invoices (shown as percentages).
BASELINE_SHARES = ("p_paid_by_due_d", "p_paid_by_horizon", "resolved_share")
#: Decimals of the other baseline quantities on a page: counts whole, days and invoices per
#: customer to one decimal, the design effect to two (as the sizing sentence quotes it).
BASELINE_DECIMALS = {"invoices": 0, "customers": 0, "invoices_per_customer": 1,
                     "invoices_per_week": 0, "rmst_days": 1, "design_effect": 2,
                     "rmst_variance_per_invoice": 0}


def _effect_text(metric: str, effect, lang: str):
    """A sizing table's effect in its metric's unit: shares in percentage points
    ("2 pp", the column read 0,02 beside 1 day and a ratio of 1,1), days and ratios as
    numbers."""
    if pd.isna(effect):
        return effect
    spec = METRIC_REGISTRY.get(metric)
    if spec is not None and spec.kind == "share":
        return format_number(effect * 100, None, lang) + "\u00a0pp"
    return format_number(float(effect), None, lang)


def _baseline_value(quantity: str, value, decimals: int, lang: str):
    """One baseline value as the page shows it (see :func:`labelled`)."""
    if pd.isna(value):
        return value
    if quantity in BASELINE_SHARES:
        return format_pct(value, 1, lang)
    if quantity == "design_effect_measured":
        return t("tables.yes" if value else "tables.no", lang)
    return format_number(float(value), BASELINE_DECIMALS.get(quantity, decimals), lang)


READOUT_COLUMNS = ["label", "arm", "estimate", "control_estimate", "effect", "ci_low",
                   "ci_high", "relative", "relative_low", "relative_high", "p_value", "p_holm",
                   "p_bh", "ci_narrowing", "n_customers", "n_invoices"]


def readout_table(readout: ExperimentReadout, lang: str = "en") -> pd.DataFrame:
    """The readout's effects for the report: metric label first, headers in ``lang``.

    Example:
        >>> readout = cl.analyse_experiment(portfolio, segments=False)
        >>> cl.readout_table(readout, "es").columns[:3].tolist()
        ['métrica', 'brazo', 'estimación']
    """
    frame = readout.to_frame().copy()
    frame["label"] = [metric_label(m, lang, readout.config.due_plus_days)
                      for m in frame["metric"]]
    # an effect counts the customers of the arm and of control: said in the header, so
    # it is not read as customers per arm (the sample-ratio table's count)
    frame = frame[[c for c in READOUT_COLUMNS if c in frame]].rename(
        columns={"n_customers": "customers_arm_control", "n_invoices": "invoices_arm_control"})
    return labelled(frame, lang, due_plus_days=readout.config.due_plus_days)


@dataclass
class AssignmentPlan(ResultMixin):
    """Customers assigned to the arms of a designed experiment, and where the table went.

    ``assignments`` has the schema's ``assignments`` columns (real customer ids);
    ``path`` is the CSV written (None if not written).
    """

    experiment: Experiment
    assignments: pd.DataFrame
    segments: pd.Series | None
    assigned_at: pd.Timestamp
    path: Path | None = None
    title = "Assignment"

    def counts(self) -> pd.DataFrame:
        """Customers per arm, their share and the planned share (shares of 1; the report's
        table renderer labels the columns and shows the shares as percentages)."""
        n = self.assignments["arm"].value_counts().reindex(self.experiment.arm_names,
                                                           fill_value=0)
        return pd.DataFrame({
            "arm": n.index,
            "customers": n.to_numpy(),
            "share": (n / max(n.sum(), 1)).round(4).to_numpy(),
            "planned_share": np.round(self.experiment.normalised_weights, 4),
        })

    def by_segment(self) -> pd.DataFrame:
        """Customers per segment (rows) and arm (columns); empty without segments."""
        if self.segments is None:
            return pd.DataFrame()
        seg = self.assignments["customer_id"].map(self.segments).fillna("–")
        table = pd.crosstab(seg, self.assignments["arm"]).reindex(
            columns=self.experiment.arm_names, fill_value=0)
        table.index.name = "segment"
        table.columns.name = "arm"
        return table

    def to_frame(self) -> pd.DataFrame:
        return self.counts()

    def preview(self, rows: int = 5, pseudonymise: bool = False) -> pd.DataFrame:
        """The first rows of the table as written (ids pseudonymised if asked, for a
        stakeholder report; the file itself keeps the real ids)."""
        head = self.assignments.head(rows).copy()
        head["assigned_at"] = head["assigned_at"].dt.date.astype(str)
        if pseudonymise:
            from ..data.privacy import pseudonymise as pseudonymise_frame

            head = pseudonymise_frame(head, "customer_id")
        return head

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        n = self.assignments["arm"].value_counts()
        total = int(n.sum())
        counts = ", ".join(
            f"{arm} {format_number(int(n.get(arm, 0)), 0, lang)} "
            f"({format_pct(n.get(arm, 0) / max(total, 1), 1, lang)})"
            for arm in self.experiment.arm_names)
        strat = (t("xa_stratified", lang).format(
                     col=column_label(self.experiment.stratify_by, lang).lower())
                 if self.experiment.stratify_by else "")
        return t("xa_summary", lang).format(
            n=format_number(total, 0, lang), k=len(self.experiment.arm_names), strat=strat,
            exp=self.experiment.experiment_id, date=self.assigned_at.date().isoformat(),
            counts=counts)

    def file_note(self, lang: str | None = None) -> str:
        """What the written file is, for the link under the report's counts."""
        lang, _ = resolve(lang)
        return t("xa_file", lang).format(n=format_number(len(self.assignments), 0, lang))


def assign_experiment(portfolio, arms, *, weights=None, experiment_id: str | None = None,
                      strategies=None, location=None, stratify_by: str | None = "segment",
                      salt: str = "collections-lab", assigned_at=None, as_of=None,
                      path=None,
                      min_reminders_before_escalation: int = MIN_REMINDERS_BEFORE_ESCALATION
                      ) -> AssignmentPlan:
    """Assign the portfolio's customers to the arms of a new experiment; write the table.

    Args:
        portfolio: the portfolio whose customers are assigned (all of them; restrict it
            first, e.g. with :func:`portfolio_in_currency`). Use real ids: the table is
            an operational file.
        arms: strategy names, control first; each must be defined in ``strategies``
            (or ``strategies.yml`` beside ``location``, or the bundled examples).
        weights: planned shares, a list in the order of ``arms`` or ``{arm: weight}``;
            None = equal.
        experiment_id: the new experiment's id (default ``design-<assigned_at>``).
        stratify_by: customers column to balance the arms within (None = simple hashing).
        salt: hashing salt; the same salt, id and customers give the same assignment.
        assigned_at: date the assignment takes effect (default: the day after ``as_of``,
            itself by default the last date in the data).
        path: CSV to write atomically (None = do not write).
        min_reminders_before_escalation: collection policy: an arm that escalates to legal
            collection after fewer reminders is refused (a :class:`StrategyError` naming
            it), see :func:`~collections_lab.model.strategies.policy_problems`; lower it
            (0 lifts the rule) to test such an arm on purpose.

    Returns:
        :class:`AssignmentPlan` (counts per arm and segment, the table, the path).

    Example:
        >>> plan = assign_experiment(portfolio, ["one_friendly_after_due", "nudge_then_firm"])
        >>> plan.counts()[["arm", "customers", "planned_share"]]
                              arm  customers  planned_share
        0  one_friendly_after_due        149            0.5
        1         nudge_then_firm        151            0.5

        With ``path="assignments.csv"`` the table is also written (atomically).
    """
    from ..data.files import write_csv
    from ..model.strategies import StrategyError

    if isinstance(arms, str):
        arms = [arms]
    arms = [str(a) for a in (arms or [])]
    if len(arms) < 2 or len(set(arms)) != len(arms):
        raise ValueError(f"an experiment needs at least two different arms, got {arms}")
    catalogue = load_strategy_set(strategies, location)
    unknown = [a for a in arms if a not in catalogue]
    if unknown:
        raise StrategyError(f"arms {unknown} are not defined in the strategies "
                            f"({strategies or 'default set'}); available: {sorted(catalogue)}")
    refused = {a: policy_problems(catalogue[a], min_reminders_before_escalation)
               for a in arms}
    refused = {a: why for a, why in refused.items() if why}
    if refused:
        fewest = min(catalogue[a].reminders_before_escalation for a in refused)
        raise StrategyError(
            "arm(s) break the collection policy: "
            + "; ".join(f"{a!r} {'; '.join(why)}" for a, why in refused.items())
            + f". Pass min_reminders_before_escalation={fewest} (or 0) to assign them "
            "anyway")
    if weights is not None and not isinstance(weights, dict):
        weights = list(weights)
        if len(weights) != len(arms):
            raise ValueError(f"weights {weights} must give one weight per arm {arms}")
        weights = dict(zip(arms, map(float, weights), strict=True))
    if assigned_at is None or str(assigned_at).strip() == "":
        assigned_at = resolve_as_of(portfolio, as_of) + pd.Timedelta(days=1)
    assigned_at = parse_date(assigned_at, "assigned_at")
    experiment = Experiment(experiment_id or f"design-{assigned_at.date().isoformat()}",
                            {a: catalogue[a] for a in arms}, weights=weights,
                            control=arms[0], stratify_by=stratify_by or None, salt=str(salt))
    customers = portfolio.customers
    table = assign(customers, experiment, assigned_at)
    segments = None
    if "segment" in customers:
        segments = customers.set_index(customers["customer_id"].astype(str))["segment"]
    plan = AssignmentPlan(experiment, table, segments, assigned_at)
    if path is not None:
        plan.path = write_csv(table, path)
    return plan


def pilot_split(portfolio, as_of=None, salt: str = "pilot-aa") -> ExperimentData:
    """The portfolio's history as an A/A experiment (two arms by salted hash of customer).

    Every invoice is "in the experiment" (no pre-period); the split only serves to measure
    variances, design effects and baselines as an experiment would see them.
    """
    pilot = Experiment(salt, {"control": Strategy("history"), "treatment": Strategy("history")},
                       control="control", stratify_by=None, salt=salt)
    frame = portfolio.payment_times(as_of=as_of)
    arms = assign(portfolio.customers, pilot, "2000-01-01").set_index("customer_id")["arm"]
    frame = frame.drop(columns=["arm"], errors="ignore")
    frame["arm"] = frame["customer_id"].astype(str).map(arms)
    # not the data's own experiment: its start and control do not apply to the A/A split
    for key in ("start", "control", "experiment_id"):
        frame.attrs.pop(key, None)
    return ExperimentData.from_frame(frame, control="control")


@dataclass
class ExperimentDesign(ResultMixin):
    """Baselines of the pilot and sample sizes for each metric and effect size."""

    baseline: pd.DataFrame
    plans: pd.DataFrame
    config: MetricConfig
    power: float
    power_curve: PowerCurve | None = None
    #: Changes in the share paid by due + d that cannot be sized: the control share plus
    #: the change leaves (0, 1) (nearly every invoice is paid by then already), or the
    #: history cannot estimate the share yet (all of them; the summary says which).
    skipped_mdes: tuple[float, ...] = ()
    #: The arms' planned shares, control first (:func:`~.design.arm_weights`).
    weights: tuple[float, ...] = (1.0, 1.0)
    title = "Experiment design"

    @property
    def equal_arms(self) -> bool:
        """Whether every arm has the same weight (then the plans give one size per arm)."""
        return len(set(self.weights)) == 1

    def to_frame(self) -> pd.DataFrame:
        return self.plans

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        b = self.baseline.set_index("quantity")["value"]
        rows = self.plans[self.plans["metric"] == "paid_by_due_d"]
        d = self.config.due_plus_days
        if not np.isfinite(b["p_paid_by_due_d"]):
            skipped = " " + t("xd_not_estimable", lang).format(d=d)
        elif self.skipped_mdes:
            skipped = " " + t("xd_mde_skipped", lang).format(
                mdes=", ".join(format_number(m * 100, 0, lang) for m in self.skipped_mdes),
                d=d, base=format_number(b["p_paid_by_due_d"] * 100, 0, lang))
        else:
            skipped = ""
        if rows.empty:
            return skipped.strip()
        row = rows.iloc[len(rows) // 2]
        common = dict(mde=format_number(row["effect"] * 100, 0, lang), d=self.config.due_plus_days,
                      base=format_number(b["p_paid_by_due_d"] * 100, 0, lang),
                      power=format_number(self.power * 100, 0, lang),
                      weeks=(t("xd_weeks", lang).format(w=format_number(row["weeks"], 0, lang))
                             if pd.notna(row["weeks"]) else t("xd_weeks_unknown", lang)),
                      de=format_number(b["design_effect"], 2, lang))
        if self.equal_arms:
            text = t("xd_summary", lang).format(
                n=format_number(row["invoices_per_arm"], 0, lang),
                c=format_number(row["customers_per_arm"], 0, lang), **common)
        else:
            text = t("xd_summary_unequal", lang).format(
                n=format_number(row["invoices_total"], 0, lang),
                c=format_number(row["customers_total"], 0, lang),
                nc=format_number(row["invoices_control"], 0, lang),
                nt=format_number(row["invoices_treatment"], 0, lang), **common)
        if len(self.weights) > 2:
            text += " " + t("xd_alpha_split", lang).format(
                k=len(self.weights), m=len(self.weights) - 1,
                alpha=format_pct(row["alpha"], None, lang))
        return text + skipped


def design_experiment(portfolio, as_of=None, config: MetricConfig | None = None,
                      mdes=(0.02, 0.03, 0.05), days_saved=(1.0, 2.0, 3.0),
                      hazard_ratios=(1.10, 1.15, 1.25), cash_mdes=(0.02, 0.03, 0.05),
                      alpha: float = 0.05, power: float = 0.8,
                      weights=None) -> ExperimentDesign:
    """Plan an experiment on this portfolio (see module docstring); sizes per arm.

    ``weights``: the arms' planned shares, control first, as :func:`assign_experiment`
    takes them (``[2, 1]``: twice as many customers in control; ``[1, 1, 1]``: three equal
    arms); None = two equal arms. Each treatment is sized against control at its
    allocation ``w_t / (w_c + w_t)``, and the test (every arm at its weight) is the
    smallest that gives each comparison its size (:func:`arm_sizes`). With unequal weights
    the table gives control, the smallest treatment arm and the total instead of one size
    per arm; with more than two arms it adds the total, and each of the ``k − 1``
    comparisons with control is sized at ``alpha / (k − 1)``: the readout adjusts them for
    their number (Holm), whose first step is that threshold.

    Weeks = invoices needed in all arms / invoices issued per week over the last 12 weeks
    of history, plus the follow-up until due + d of the last invoice (median terms + d).

    Example:
        >>> design = cl.design_experiment(portfolio, "2025-09-30")
        >>> print(design.summary())
        To detect 3 more invoices in 100 paid by due + 15 days (now 92 in 100) with 80%
        power you need about 1,572 invoices per arm (317 customers), about 62 weeks of
        invoicing plus follow-up. Several invoices per customer inflate the sample size
        by a design effect of 1.47.
    """
    cfg = config or MetricConfig()
    shares = arm_weights(weights)
    pilot = pilot_split(portfolio, as_of)
    n_inv = len(pilot.customer)
    per_customer = n_inv / max(len(np.unique(pilot.customer)), 1)
    p_base, _ = estimate_arm(pilot, "paid_by_due_d", 0, cfg)
    de = estimate_design_effect(pilot, "paid_by_due_d", cfg)
    measured = bool(np.isfinite(de))  # too few customers with resolved invoices: NaN
    de = max(de, 1.0) if measured else 1.0
    # invoices a week over the 12 weeks up to the last invoice issued by as_of: a design
    # date months after the invoicing stopped (a snapshot, a finished simulation) had no
    # invoices in its last 12 weeks, and a floor of 1 a week planned 3,150 weeks
    issued = pilot.issue_day[pilot.issue_day <= pilot.as_of_day]
    per_week = (float((issued > issued.max() - 84).sum()) / 12.0 if len(issued)
                else np.nan)
    follow = float(np.median(pilot.terms)) + cfg.due_plus_days
    resolved = float(np.mean(pilot.issue_day + pilot.terms + cfg.due_plus_days
                             <= pilot.as_of_day))
    # control-arm unpaid curve on the issue axis for the RMST formula
    from ..survival.influence import AalenJohansen

    aj = AalenJohansen().fit(np.zeros(n_inv, np.int64), pilot.duration, pilot.cause)
    days = np.arange(cfg.horizon_days)
    unpaid = 1.0 - aj.cif_on(days)
    event_prob = aj.cif_at(cfg.horizon_days)

    skipped = tuple(m for m in mdes if not (0 < p_base < 1 and 0 < p_base + m < 1))
    cash_estimable = bool(np.isfinite(estimate_arm(pilot, "cash_by_due_d", 0, cfg)[0]))

    # the readout adjusts each metric's comparisons with control for their number (Holm,
    # experiments.multiple): each is sized at alpha / comparisons (Holm's first step)
    alpha = alpha / (len(shares) - 1)

    def plans_at(allocation):
        # a change the share cannot make (0.97 paid on time + 0.05) is skipped and said; so
        # is every change when too few invoices of some terms are followed to due + d (NaN)
        rows = []
        for mde in (m for m in mdes if m not in skipped):
            plan = sample_size_proportion(p_base, mde, alpha, power, de, per_customer,
                                          allocation=allocation)
            rows.append((plan, "two proportions × DE"))
        for saved in days_saved:
            plan = sample_size_rmst(unpaid, saved, cfg.horizon_days, alpha=alpha, power=power,
                                    design_effect=de, invoices_per_customer=per_customer,
                                    allocation=allocation)
            rows.append((plan, "RMST variance × DE"))
        for hr in hazard_ratios:
            plan = sample_size_hazard_ratio(hr, event_prob, alpha, power, de, per_customer,
                                            allocation=allocation)
            rows.append((plan, "Schoenfeld events × DE"))
        for mde in cash_mdes if cash_estimable else ():
            plan = sample_size_from_pilot(pilot, "cash_by_due_d", mde, alpha, power, cfg,
                                          per_customer, allocation=allocation)
            rows.append((plan, "pilot variance"))
        return rows

    # one sizing per distinct treatment weight; per row the comparison needing most invoices
    sized = [[(plan, method, arm_sizes(plan.invoices_by_arm, shares, w, per_customer))
              for plan, method in plans_at(w / (shares[0] + w))] for w in sorted(set(shares[1:]))]
    equal = len(set(shares)) == 1  # as ExperimentDesign.equal_arms
    rows = []
    for options in zip(*sized, strict=True):
        plan, method, arms = max(options, key=lambda o: o[2]["invoices_total"])
        row = {**plan.to_frame().iloc[0].to_dict(), "method": method}
        row["weeks"] = (round(weeks_to_run(arms["invoices_total"], per_week, follow), 1)
                        if np.isfinite(per_week) else np.nan)
        if not equal:  # no one size per arm: control, smallest treatment, total
            del row["invoices_per_arm"], row["customers_per_arm"]
            row.update(arms)
        elif len(shares) > 2:
            row.update(invoices_total=arms["invoices_total"],
                       customers_total=arms["customers_total"])
        rows.append(row)
    plans = pd.DataFrame(rows)
    # the sizes where the per-arm sizes stand in SampleSizePlan's frame, after the effect
    head = ["metric", "effect", "alpha", "power"]
    head += [c for c in plans if c.startswith(("invoices_", "customers_"))]
    plans = plans[head + [c for c in plans if c not in head]]
    baseline = pd.DataFrame({
        "quantity": ["invoices", "customers", "invoices_per_customer", "invoices_per_week",
                     "p_paid_by_due_d", "rmst_days", "p_paid_by_horizon", "design_effect",
                     "resolved_share", "rmst_variance_per_invoice", "design_effect_measured"],
        "value": [n_inv, len(np.unique(pilot.customer)), per_customer, per_week, p_base,
                  float(unpaid.sum()), event_prob, de, resolved,
                  rmst_variance_per_invoice(unpaid, cfg.horizon_days), float(measured)],
    })
    return ExperimentDesign(baseline, plans, cfg, power, skipped_mdes=skipped, weights=shares)


def simulated_power_curve(control: Strategy, treatment: Strategy, sizes, n_sims: int = 20,
                          metric: str = "cash_by_due_d", months: int = 4, seed: int = 0,
                          config: MetricConfig | None = None) -> PowerCurve:
    """Power by simulation on the behaviour model: ``sizes`` customers per arm.

    Each simulated experiment invoices monthly for ``months`` and is read out one month
    after the last invoice — the calendar a real test would follow.
    """
    from ..model.simulation import simulate

    end = pd.Timestamp("2025-01-01") + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    as_of = end + pd.Timedelta(days=30)
    exp = Experiment("power", {"control": control, "treatment": treatment}, control="control")

    def make(size: int, sim_seed: int) -> ExperimentData:
        sim = simulate(2 * size, exp, seed=sim_seed, start="2025-01-01", end=end,
                       progress=False, truth_replicates=1)
        frame = sim.portfolio.payment_times(as_of=as_of)
        return ExperimentData.from_frame(frame, control="control", stratified_by="segment")

    return power_by_simulation(make, sizes, metric=metric, n_sims=n_sims,
                               cfg=config or MetricConfig(), seed=seed)


def experiment_readout(portfolio, experiment: Experiment | None = None,
                       experiment_id: str | None = None, as_of=None,
                       config: MetricConfig | None = None, planned_events: float | None = None,
                       minimum_hazard_ratio: float = 1.15, lang: str = "en"
                       ) -> ExperimentReadout:
    """The weekly readout: :func:`analyze_experiment` with an alpha-spending plan.

    Without ``planned_events`` the plan is Schoenfeld's events for
    ``minimum_hazard_ratio`` at 80% power, times the measured design effect.

    Example:
        >>> readout = cl.experiment_readout(portfolio)
        >>> readout.sequential is not None, readout.control
        (True, 'control')
    """
    from .design import schoenfeld_events

    if planned_events is None:
        planned_events = schoenfeld_events(minimum_hazard_ratio, design_effect=2.0)
    plan = SequentialPlan(planned_events=planned_events)
    return analyze_experiment(portfolio, experiment, experiment_id=experiment_id, as_of=as_of,
                              config=config, sequential=plan, lang=lang)
