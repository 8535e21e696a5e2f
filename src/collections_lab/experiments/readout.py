"""The experiment readout: every check and effect of one experiment in one result object.

:func:`analyze_experiment` takes a :class:`~collections_lab.data.portfolio.Portfolio`
(or a payment-times frame with an ``arm`` column) and returns an
:class:`ExperimentReadout` with

- the sample-ratio-mismatch check (overall and per segment) on the assignments and on the
  customers actually seen in the analysed data (a loud warning first in the summary and
  the HTML when either fails),
- every metric for every arm versus control, censoring-aware with customer-clustered
  variance, covariate-adjusted with pre-experiment behaviour (and how much that narrowed
  the intervals), with Holm and Benjamini–Hochberg p-values across arms,
- effects by segment with the multiple-testing caveat,
- main effects and interactions for factorial designs,
- a group-sequential decision (can the experiment stop?) for scheduled weekly readouts,
- a plain-language summary in English or Spanish.

Example
-------
>>> from collections_lab.experiments.synthetic import synthetic_payment_times
>>> frame = synthetic_payment_times(1500, seed=4, arm_hr={"control": 1.0, "treatment": 1.3})
>>> r = analyze_experiment(frame, start="2025-03-01", segments=False)
>>> "more invoices in 100 paid by due + 15 days" in r.summary()
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..i18n import ResultMixin, format_number, resolve, result_axes, t
from ..i18n.display import SettingsCard
from .adjustment import adjust_effect
from .data import ExperimentData, ExperimentDataError, assigned_units
from .factorial import FactorialResult, factorial_analysis
from .metric_registry import METRIC_REGISTRY, metric_label
from .metrics import (
    METRICS,
    MetricConfig,
    churn_available,
    churn_end_day,
    compare_arms,
    hazard_ratio_effect,
)
from .multiple import add_adjusted_p_values, benjamini_hochberg
from .sequential import SequentialResult, group_sequential_test
from .srm import SRMResult, srm_check

EFFECT_COLUMNS = ["arm", "metric", "estimate", "control_estimate", "effect", "ci_low",
                  "ci_high", "relative", "relative_low", "relative_high", "p_value", "p_holm",
                  "p_bh", "se", "adjusted", "ci_narrowing", "n_customers", "n_invoices"]


@dataclass(frozen=True)
class SequentialPlan(SettingsCard):
    """How the weekly readouts spend alpha.

    ``planned_events``: payment events expected at the final analysis (from the design,
    e.g. :func:`~collections_lab.experiments.design.schoenfeld_events`); ``look_dates``:
    dates of the readouts so far (default: weekly from the start to ``as_of``);
    ``metric``: the primary metric tested at each look (default the hazard ratio, whose
    information is proportional to events); ``arm``: the arm tested against control
    (default the first other arm). With several arms each arm's test gets
    ``alpha / (arms - 1)`` (Bonferroni) unless ``split_alpha=False``.

    Example:
        >>> plan = cl.SequentialPlan(planned_events=800, every_days=14)
        >>> readout = cl.analyse_experiment(portfolio, sequential=plan, segments=False)
        >>> readout.sequential.looks.columns[:3].tolist()
        ['look', 'label', 'events']
    """

    planned_events: float
    look_dates: tuple = ()
    metric: str = "hazard_ratio"
    alpha: float = 0.05
    spending: str = "obrien_fleming"
    every_days: int = 7
    arm: str | None = None
    split_alpha: bool = True


@dataclass
class ExperimentReadout(ResultMixin):
    """Everything one readout says about an experiment (see module docstring).

    Example:
        >>> readout = cl.analyse_experiment(portfolio, segments=False)
        >>> readout.arm_metric_table().columns[:2].tolist()
        ['Paid by due + 15 days (share)', 'Days outstanding (restricted mean)']
        >>> round(float(readout.effect("treatment", "rmst_days")["effect"]), 1)
        -4.2
    """

    experiment_id: str
    arms: list[str]
    control: str
    as_of: pd.Timestamp
    effects: pd.DataFrame
    srm: SRMResult
    config: MetricConfig
    sequential: SequentialResult | None = None
    segments: pd.DataFrame | None = None
    factorial: FactorialResult | None = None
    notes: list[str] = field(default_factory=list)
    alpha: float = 0.05
    #: SRM of the customers seen in the analysed data (``srm`` is then the assignments').
    srm_data: SRMResult | None = None
    #: Which invoices were counted (see :func:`invoices_used`): start, as_of, counts.
    invoices: dict = field(default_factory=dict)
    title = "Experiment readout"

    @property
    def srm_checks(self) -> list[SRMResult]:
        """The SRM checks run: on the assignments and on the customers in the data."""
        return [c for c in (self.srm, self.srm_data) if c is not None]

    def to_frame(self) -> pd.DataFrame:
        """Effects of every arm on every metric versus control (one row each)."""
        return self.effects

    def plot(self, metric: str = "paid_by_due_d", ax=None, lang: str = "en"):
        """Each arm's effect on ``metric`` versus control with its 95% interval, on ``ax``
        (default a new figure); returns the matplotlib Axes."""
        from .plots import plot_effects

        return result_axes(lambda ax: plot_effects(self, metric, lang, ax=ax), ax)

    def effect(self, arm: str, metric: str) -> pd.Series:
        """The row of ``to_frame()`` for one arm and metric."""
        rows = self.effects[(self.effects["arm"] == arm) & (self.effects["metric"] == metric)]
        if rows.empty:
            raise KeyError(f"no effect for arm {arm!r} and metric {metric!r}")
        return rows.iloc[0]

    # -- language ----------------------------------------------------------------------
    def _ci(self, lo, hi, scale, decimals, lang) -> str:
        return t("xp_ci", lang).format(lo=format_number(lo * scale, decimals, lang),
                                       hi=format_number(hi * scale, decimals, lang))

    def arm_sentence(self, arm: str, lang: str = "en") -> str:
        """One sentence on an arm versus control: paid by due + d, days, churn, net value."""
        parts = []
        by = self.effects[self.effects["arm"] == arm].set_index("metric")
        d, h = self.config.due_plus_days, self.config.horizon_days
        if "paid_by_due_d" in by.index and np.isfinite(by.loc["paid_by_due_d", "effect"]):
            r = by.loc["paid_by_due_d"]
            key = "xp_paid_more" if r["effect"] >= 0 else "xp_paid_fewer"
            parts.append(t(key, lang).format(x=format_number(abs(r["effect"]) * 100, 1, lang),
                                             d=d)
                         + f" ({self._ci(r['ci_low'], r['ci_high'], 100, 1, lang)})")
        if "rmst_days" in by.index and np.isfinite(by.loc["rmst_days", "effect"]):
            r = by.loc["rmst_days"]
            key = "xp_days_sooner" if r["effect"] <= 0 else "xp_days_later"
            parts.append(t(key, lang).format(x=format_number(abs(r["effect"]), 1, lang), h=h)
                         + f" ({self._ci(-r['ci_high'], -r['ci_low'], 1, 1, lang)})")
        if "churn" in by.index and np.isfinite(by.loc["churn", "effect"]):
            r = by.loc["churn"]
            if r["p_value"] >= self.alpha:
                text = t("xp_churn_same", lang)
            else:
                text = t("xp_churn_up" if r["effect"] > 0 else "xp_churn_down", lang).format(
                    x=format_number(abs(r["effect"]) * 100, 1, lang))
            parts.append(f"{text} ({format_number(r['effect'] * 100, 1, lang)} pp, "
                         f"{self._ci(r['ci_low'], r['ci_high'], 100, 1, lang)})")
        if "net_value" in by.index and np.isfinite(by.loc["net_value", "effect"]):
            r = by.loc["net_value"]
            key = "xp_net_more" if r["effect"] >= 0 else "xp_net_less"
            parts.append(t(key, lang).format(x=format_number(abs(r["effect"]) * 100, 2, lang))
                         + f" ({self._ci(r['ci_low'], r['ci_high'], 100, 2, lang)})")
        return f"{arm}: " + "; ".join(parts) + "."

    def summary_lines(self, lang: str | None = None) -> list[str]:
        """The readout's sentences: SRM warnings first, one per arm, then caveats (a
        report shows one bullet each)."""
        lang, _ = resolve(lang)
        lines = [c.summary(lang) for c in self.srm_checks if c.mismatch]
        for arm in self.arms:
            if arm != self.control:
                lines.append(self.arm_sentence(arm, lang))
        if self.sequential is not None:
            lines.append(self.sequential.summary(lang))
        adjusted = self.effects[self.effects["adjusted"].astype(bool)]
        if len(adjusted):
            narrowing = float(np.nanmean(adjusted["ci_narrowing"])) * 100
            lines.append(t("xp_adjusted", lang).format(x=format_number(narrowing, 0, lang)))
        n_arms = len(self.arms) - 1
        if n_arms > 1:
            lines.append(t("xp_multiple", lang).format(k=n_arms))
        if self.segments is not None and len(self.segments):
            k = int(self.segments["p_value"].notna().sum())
            m = int((self.segments["p_bh"] < self.alpha).sum())
            lines.append(t("xp_segments", lang).format(k=k, m=m))
        return lines

    def summary(self, lang: str | None = None) -> str:
        """Plain-language readout: SRM warning first, one sentence per arm, then caveats."""
        lang, _ = resolve(lang)
        return " ".join(self.summary_lines(lang))

    # -- card (a notebook's view) -------------------------------------------------------
    def headline(self, lang: str | None = None) -> str:
        """The decision (:func:`~collections_lab.experiments.decision.recommend` with its
        defaults) in one or two sentences: what a card starts with."""
        from .decision import recommend

        lang, _ = resolve(lang)
        try:
            return str(recommend(self).summary(lang))
        except (ValueError, KeyError, TypeError):  # a readout without net value
            return " ".join(self.summary_lines(lang)[:1])

    def arm_metric_table(self, lang: str | None = None) -> pd.DataFrame:
        """One row per arm, one column per metric: the effect versus control with its
        95% interval (points for shares, days, or the ratio), ``*`` when the Holm-adjusted
        p-value is below alpha."""
        lang, _ = resolve(lang)
        rows = {}
        for _, r in self.effects.iterrows():
            metric = r["metric"]
            kind = METRIC_REGISTRY[metric].kind
            scale, decimals, unit = ((1.0, 2, "") if kind == "ratio" else
                                     (1.0, 1, "") if kind == "days" else (100.0, 1, " pp"))
            if not np.isfinite(r["effect"]):
                text = "—"
            else:
                sign = "+" if r["effect"] > 0 and kind != "ratio" else ""
                star = "*" if np.isfinite(r.get("p_holm", np.nan)) and r["p_holm"] < self.alpha else ""
                # no-break spaces: a cell never splits between a number and its interval
                text = (f"{sign}{format_number(r['effect'] * scale, decimals, lang)}{unit}{star}"
                        f"\u00a0[{format_number(r['ci_low'] * scale, decimals, lang)},\u00a0"
                        f"{format_number(r['ci_high'] * scale, decimals, lang)}]"
                        ).replace(" pp", "\u00a0pp")
            rows.setdefault(r["arm"], {})[metric_label(metric, lang, self.config.due_plus_days)] = text
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "arm"
        return frame

    def card_tables(self):
        return [("", self.arm_metric_table())]

    def card_details(self):
        lang, _ = resolve(None)
        sentences = "<ul>" + "".join(f"<li>{html.escape(s)}</li>"
                                     for s in self.summary_lines(lang)) + "</ul>"
        columns = ["arm", "label", "estimate", "control_estimate", "effect", "ci_low",
                   "ci_high", "p_holm", "n_customers", "n_invoices"]
        effects = self.effects[[c for c in columns if c in self.effects]]
        out = [("", sentences), (self._title(), effects)]
        if self.sequential is not None:
            out.append((self.sequential.title, self.sequential.looks))
        if self.segments is not None and len(self.segments):
            out.append(("Segments (exploratory)", self.segments))
        if self.factorial is not None:
            out.append((self.factorial.title, self.factorial.table))
        for check in self.srm_checks:
            title = t("srm_title_data", lang) if check.population == "data" else check.title
            out.append((title, check.table))
        return out

    def _card_notes(self, lang) -> list[str]:
        return list(self.notes)

    def card_alarms(self, lang: str | None = None) -> list[str]:
        """A sample ratio mismatch, in red under the decision."""
        return [str(c.summary(lang)) for c in self.srm_checks if c.mismatch]

    def report_html(self) -> str:
        """The full readout as a report shows it (every table, all rows)."""
        parts = [f"<div><h3>{html.escape(self.title)}: {html.escape(self.experiment_id)}</h3>"]
        for check in self.srm_checks:
            if check.mismatch:
                parts.append('<div style="border:3px solid #c00;background:#fee;padding:8px;'
                             f'font-weight:bold">{html.escape(check.summary())}</div>')
        parts.append(f"<p>{html.escape(self.summary())}</p>")
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
                         + "</ul>")
        fmt = {"float_format": lambda x: f"{x:,.4g}", "border": 0, "escape": True}
        parts.append(self.effects.to_html(index=False, **fmt))
        if self.sequential is not None:
            parts.append(f"<h4>{html.escape(self.sequential.title)}</h4>")
            parts.append(self.sequential.looks.to_html(index=False, **fmt))
        if self.segments is not None and len(self.segments):
            parts.append("<h4>Segments (exploratory)</h4>")
            parts.append(self.segments.to_html(index=False, **fmt))
        if self.factorial is not None:
            parts.append(f"<h4>{html.escape(self.factorial.title)}</h4>")
            parts.append(self.factorial.table.to_html(index=False, **fmt))
        for check in self.srm_checks:
            title = t("srm_title_data", "en") if check.population == "data" else check.title
            parts.append(f"<h4>{html.escape(title)}</h4>")
            parts.append(check.table.to_html(index=False, **fmt))
        parts.append("</div>")
        return "".join(parts)


def effects_frame(effects, lang: str = "en") -> pd.DataFrame:
    """Effects (list of :class:`~collections_lab.experiments.metrics.Effect`) as a table."""
    rows = []
    for e in effects:
        lo, hi = e.ci()
        rel_lo, rel_hi = e.relative_ci()
        narrowing = 1 - e.se / e.se_unadjusted if e.adjusted and e.se_unadjusted > 0 else np.nan
        rows.append({"arm": e.arm, "metric": e.metric, "estimate": e.estimate,
                     "control_estimate": e.control_estimate, "effect": e.effect,
                     "ci_low": lo, "ci_high": hi, "relative": e.relative,
                     "relative_low": rel_lo, "relative_high": rel_hi,
                     "p_value": e.p_value, "se": e.se,
                     "adjusted": e.adjusted, "ci_narrowing": narrowing,
                     "n_customers": e.n_customers, "n_invoices": e.n_invoices})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    frame = add_adjusted_p_values(frame, by="metric")
    frame.insert(2, "label", [metric_label(m, lang) for m in frame["metric"]])
    frame["higher_is_better"] = [METRIC_REGISTRY[m].higher_is_better for m in frame["metric"]]
    return frame


def _look_days(data: ExperimentData, plan: SequentialPlan) -> list[int]:
    if plan.look_dates:
        days = sorted({int((np.datetime64(parse_date(d, "look_dates").date(), "D")
                            - np.datetime64("1970-01-01", "D")).astype(int))
                       for d in plan.look_dates})
        late = [d for d in days if d > data.as_of_day]
        if late:
            raise ValueError("look dates after as_of cannot have happened yet")
        return days
    return list(range(data.start_day + plan.every_days - 1, data.as_of_day + 1,
                      plan.every_days)) or [data.as_of_day]


def sequential_readout(data: ExperimentData, plan: SequentialPlan, arm: str | None = None,
                       cfg: MetricConfig | None = None) -> SequentialResult:
    """Replay the readouts at ``plan``'s look dates and apply alpha spending.

    Information is measured in payment events (both arms) at each look; the z statistic
    is the primary metric's clustered z for ``arm`` (default the first non-control arm).
    """
    cfg = cfg or MetricConfig()
    arm = arm or plan.arm or data.arm_names[1]
    if arm not in data.arm_names[1:]:
        raise ValueError(f"sequential plan: arm {arm!r} is not a treatment arm "
                         f"({data.arm_names[1:]})")
    a = data.arm_names.index(arm)
    n_tests = len(data.arm_names) - 1 if plan.split_alpha else 1
    alpha = plan.alpha / max(n_tests, 1)
    z, events, labels = [], [], []
    for day in _look_days(data, plan):
        view = data.at(day)
        n_events = int(np.sum((view.cause == 1) & np.isin(view.invoice_arm, [0, a])))
        try:
            if plan.metric == "hazard_ratio":
                log_hr, _, se, _ = hazard_ratio_effect(view, a, 0)
                z.append(log_hr / se)
            else:
                eff = compare_arms(view, cfg, metrics=[plan.metric], arms=[arm])[0]
                z.append(eff.z)
        except ValueError:
            z.append(np.nan)
        events.append(n_events)
        labels.append(str(np.datetime64("1970-01-01", "D") + day))
    result = group_sequential_test(z, events, plan.planned_events, alpha, plan.spending,
                                   metric=plan.metric, look_labels=labels)
    result.notes.append(f"arm {arm!r} versus control, alpha {alpha:.4g}")
    return result


def segment_effects(data: ExperimentData, cfg: MetricConfig, metric: str = "paid_by_due_d",
                    min_customers: int = 20) -> pd.DataFrame:
    """The primary metric by segment, with BH-adjusted p-values across all segment rows."""
    rows = []
    for seg in sorted(set(data.customer_segment[np.unique(data.customer)])):
        mask = data.customer_segment == seg
        sub = data.subset_customers(mask)
        per_arm = np.bincount(sub.customer_arm[np.unique(sub.customer)],
                              minlength=len(data.arm_names))
        if per_arm.min() < min_customers:
            continue
        for e in compare_arms(sub, cfg, metrics=[metric]):
            lo, hi = e.ci()
            rows.append({"segment": seg, "arm": e.arm, "metric": metric, "effect": e.effect,
                         "ci_low": lo, "ci_high": hi, "p_value": e.p_value,
                         "n_customers": e.n_customers})
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["p_bh"] = benjamini_hochberg(frame["p_value"])
    return frame


def analyse_experiment(
    source,
    experiment=None,
    experiment_id: str | None = None,
    control: str | None = None,
    start=None,
    as_of=None,
    config: MetricConfig | None = None,
    metrics=None,
    adjust: bool = True,
    segments: bool = True,
    sequential: SequentialPlan | None = None,
    factors: dict | None = None,
    weights: dict | None = None,
    stratified_by: str | None = "auto",
    alpha: float = 0.05,
    lang: str = "en",
) -> ExperimentReadout:
    """Analyse an experiment: SRM, effects, adjustment, segments, factorial, sequential.

    Args:
        source: A :class:`~collections_lab.data.portfolio.Portfolio` (its assignments give the arms
            and the start date) or a payment-times frame with an ``arm`` column.
        experiment: The :class:`~collections_lab.model.plans.Experiment` (planned weights for the SRM
            check, control arm, factors); default the portfolio's own ``experiment`` (from
            ``experiment.json`` or its assignments).
        control: The control arm: default the experiment's; with none known, an arm named
            ``"control"``, else an error asking for it (never a guess).
        start, as_of: Experiment start (default: first assignment date) and readout date. Invoices
            issued before the start are the pre-period: not counted, only used for the
            covariate adjustment; the readout's ``invoices`` and first note say which
            invoices were counted.
        config: :class:`~collections_lab.experiments.metrics.MetricConfig` (d, horizons, costs).
        metrics: Subset of :data:`~collections_lab.experiments.metrics.METRICS` (default all).
        sequential: A :class:`SequentialPlan` for scheduled readouts (decision whether to stop).
        factors: arm → {factor: level} for a factorial analysis (default ``experiment.factors``).
        stratified_by: Column the assignment was stratified by; ``"auto"`` takes
            ``experiment.stratify_by`` (none without an experiment: simple randomisation).

    Example:
        >>> readout = cl.analyse_experiment(portfolio, segments=False)
        >>> readout.control, readout.arms
        ('control', ['control', 'treatment'])
        >>> print(readout.headline())
        Recommendation: adopt treatment. Its net value is 4.29 per 100 invoiced above
        the control control (95% CI 0.56 to 8.03; Holm-adjusted p = 0.025); churn not
        estimable yet.
    """
    cfg = config or MetricConfig()
    assignments = None
    design = getattr(source, "experiment", None) if experiment is None else None
    if isinstance(design, dict) and (experiment_id is None
                                     or design.get("experiment_id") == experiment_id):
        # the portfolio carries its experiment (experiment.json or the assignments)
        experiment_id = experiment_id or design.get("experiment_id")
        control = control or design.get("control")
        factors = factors if factors is not None else (design.get("factors") or None)
        if weights is None and design.get("weights"):
            weights = dict(design["weights"])
        if stratified_by == "auto":
            stratified_by = design.get("stratify_by")
    if experiment is not None:
        experiment_id = experiment_id or experiment.experiment_id
        control = control or experiment.control_arm
        factors = factors if factors is not None else (experiment.factors or None)
        if weights is None and experiment.weights:
            weights = dict(experiment.weights)
        elif weights is None:
            weights = dict.fromkeys(experiment.arm_names, 1.0)
    if hasattr(source, "payment_times") and hasattr(source, "assignments"):
        assignments = source.assignments
        if not len(assignments):
            raise ExperimentDataError(
                "the data has no assignments, so no customer is known to be in any arm: "
                "the readout needs which customer got which arm (experiment_id, "
                "customer_id, arm, assigned_at). The experiment-design report writes them "
                "to reports/03_experiment_design/assignments.csv; put that file beside "
                "the data as assignments.csv (or the table your collections system "
                "exported) and run the readout again"
            )
        if experiment_id is not None and len(assignments):
            assignments = assignments[assignments["experiment_id"] == experiment_id]
        if start is None and len(assignments):
            start = assignments["assigned_at"].min()
        frame = source.payment_times(as_of=as_of, experiment_id=experiment_id)
    elif isinstance(source, pd.DataFrame):
        frame = source
        if start is None and "start" in frame.attrs:
            start = frame.attrs["start"]
    else:
        raise TypeError("source must be a Portfolio or a payment-times DataFrame")
    if stratified_by == "auto":
        stratified_by = experiment.stratify_by if experiment is not None else None
    units = None  # every assigned customer with its stratum, when the source has them
    if assignments is not None and len(assignments):
        units = assigned_units(assignments, getattr(source, "customers", None),
                               {"segment", stratified_by})
    data = ExperimentData.from_frame(
        frame, control=control, start=start, as_of=as_of,
        pre_period_due_plus=cfg.due_plus_days, stratified_by=stratified_by,
        assignments=units if units is not None and stratified_by in units else None)
    experiment_id = experiment_id or str(frame.attrs.get("experiment_id", "experiment"))

    # SRM on the randomised units (the assignment table, when we have it) and on the
    # customers actually seen in the analysed data (invoices issued from the start to
    # as_of): stratified dealing balances the first by construction, while a pipeline
    # that loses one arm's customers only shows in the second.
    seen = np.bincount(data.customer, minlength=data.n_customers) > 0
    seen_units = pd.DataFrame({
        "customer_id": data.customer_ids[seen],
        "arm": np.asarray(data.arm_names, dtype=object)[data.customer_arm[seen]],
        "segment": data.customer_segment[seen]})
    srm_data = srm_check(seen_units, weights=weights, population="data")
    if units is not None:
        srm = srm_check(units, weights=weights)
    else:
        srm, srm_data = srm_data, None

    if not cfg.no_discount_arms:  # arms whose strategy offers no discount: an exact zero
        catalogue = {**(getattr(source, "strategies", None) or {}),
                     **(experiment.arms if experiment is not None else {})}
        cfg = replace(cfg, no_discount_arms=tuple(
            a for a in data.arm_names
            if a in catalogue and getattr(catalogue[a], "discount", True) is None))
    effects = compare_arms(data, cfg, metrics=metrics or METRICS)
    if adjust:
        effects = [adjust_effect(e, data) if np.isfinite(e.se) else e for e in effects]
    table = effects_frame(effects, lang)
    used = invoices_used(data, lang)
    notes = [used["note"]]
    notes += [f"{k.replace('_', ' ')}: {v}" for k, v in data.excluded.items()
              if v and k != "pre_period_invoices"]
    if "churn" in (metrics or METRICS) and not churn_available(data, cfg):
        ready = np.datetime64("1970-01-01", "D") + churn_end_day(data, cfg) + cfg.churn_days
        notes.append(f"churn not available yet: it needs {cfg.churn_days} days after the "
                     f"experiment end, i.e. a readout on or after {ready}")
    seg_table = segment_effects(data, cfg) if segments else None
    fact = None
    if factors:
        try:
            fact = factorial_analysis(data, factors, cfg.due_plus_days, alpha=alpha)
        except ValueError as exc:
            notes.append(f"factorial analysis skipped: {exc}")
    seq = sequential_readout(data, sequential, cfg=cfg) if sequential is not None else None
    as_of_ts = pd.Timestamp(np.datetime64("1970-01-01", "D") + data.as_of_day)
    return ExperimentReadout(experiment_id, data.arm_names, data.control, as_of_ts, table, srm,
                             cfg, seq, seg_table, fact, notes, alpha, srm_data, used)


#: US spelling of :func:`analyse_experiment` (the same function).
analyze_experiment = analyse_experiment


def invoices_used(data: ExperimentData, lang: str = "en") -> dict:
    """Which invoices a readout counted: issued from the experiment start to ``as_of``.

    Returns ``start``, ``as_of`` (dates), ``n_invoices`` (counted), ``pre_period``
    (issued before the start: not treated, used only as each customer's history for the
    covariate adjustment), ``after_as_of``, ``without_arm`` and a plain ``note`` in
    ``lang``.
    """
    epoch = np.datetime64("1970-01-01", "D")
    start = pd.Timestamp(epoch + data.start_day)
    as_of = pd.Timestamp(epoch + data.as_of_day)
    pre = int(data.excluded.get("pre_period_invoices", 0))
    out = {"start": start, "as_of": as_of, "n_invoices": int(len(data.customer)),
           "pre_period": pre, "after_as_of": int(data.excluded.get("invoices_after_as_of", 0)),
           "without_arm": int(data.excluded.get("invoices_without_arm", 0))}
    note = t("xp_counted", lang).format(n=format_number(out["n_invoices"], 0, lang),
                                        start=start.date(), as_of=as_of.date())
    if pre:
        note += t("xp_pre_period", lang).format(n=format_number(pre, 0, lang))
    out["note"] = note + "."
    return out
