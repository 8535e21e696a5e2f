"""An experiment's data reduced inside the engine (Ibis): per customer, then per arm.

Customers, not invoices, are randomised, so the variance of every experiment metric is
clustered by customer. Two reductions run in the engine of a
:class:`~collections_lab.data.warehouse.Warehouse` and come back small:

- :func:`customer_table`: one row per assigned customer (arm, segment, invoices, invoices
  followed to due + d, paid by due + d among them, amounts, cash, discounts) — orders of
  magnitude fewer rows than invoices; the estimators that need per-customer influence
  functions start from it;
- :func:`arm_statistics`: per arm and stratum, the sums, sums of squares and
  cross-products of those customer totals, which is all a ratio metric (share paid by due
  + d, cash per invoiced amount, discount cost per amount) and its cluster-robust
  (linearised) variance need: :func:`ratio_estimates`.

The censoring-aware readout runs from engine aggregates too:
:func:`compare_arms_engine` gives the
:func:`~collections_lab.experiments.metrics.compare_arms` effects (Aalen–Johansen paid and
cash by due + d per terms group, escalation, RMST, median with its Su–Wei interval,
hazard ratio, discount cost, churn, net value; CR2 variances with their df) from a counts
table per (arm, terms, day, outcome) and a customer table of summed influence values
(:func:`engine_experiment_data`), equal to the pandas path to 1e-10. The rest of
:func:`~collections_lab.experiments.readout.analyze_experiment` (SRM, covariate
adjustment, segment effects, sequential looks) takes the experiment's invoices:
:func:`experiment_frame` selects them in the engine (assigned customers only) and returns
the payment-times frame for them, equal to the pandas one.

Example
-------
>>> import pathlib, tempfile
>>> from collections_lab.data.warehouse import connect
>>> lake = pathlib.Path(tempfile.mkdtemp())
>>> _ = portfolio.save(lake, "parquet")
>>> wh = connect(lake)
>>> table = customer_table(wh, as_of="2025-09-30", due_plus=15)
>>> est = ratio_estimates(arm_statistics(table), "n_paid_by", "n_followed")
>>> sorted(est["arm"])
['control', 'treatment']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..data.dates import parse_date
from ..data.warehouse import Warehouse, WarehouseError, day_number

__all__ = ["ENGINE_METRICS", "READOUT_COLUMNS", "EngineExperimentData", "arm_statistics", "compare_arms_engine",
           "customer_table", "engine_arm_statistics", "engine_experiment_data",
           "experiment_frame", "ratio_estimates"]

#: Customer totals of :func:`customer_table` (besides the keys).
TOTALS = ["n_invoices", "n_followed", "n_paid_by", "amount", "paid_amount",
          "discount_amount"]


def _start_day(wh: Warehouse, start, experiment_id) -> int | None:
    if start is not None:
        return int(parse_date(start, "start").value // 86_400_000_000_000)
    asg = wh.tables.get("assignments")
    if asg is None or "assigned_at" not in asg.columns:
        return None
    if experiment_id is not None:
        asg = asg.filter(asg.experiment_id == experiment_id)
    first = wh.con.execute(asg.assigned_at.min())
    if first is None or pd.isna(first):
        return None
    return int(pd.Timestamp(first).value // 86_400_000_000_000)


def _experiment_expr(wh: Warehouse, as_of, experiment_id):
    if wh.tables.get("assignments") is None:
        raise WarehouseError(f"{wh.label}: no assignments table: no experiment to analyse")
    frame = wh.payment_times(as_of, experiment_id)
    return frame.filter(frame.arm.notnull())


def experiment_frame(warehouse: Warehouse, as_of=None, experiment_id: str | None = None
                     ) -> pd.DataFrame:
    """The payment-times frame of the experiment's customers (pre-period included, for the
    covariate adjustment), selected in the engine; pass it to
    :func:`~collections_lab.experiments.readout.analyze_experiment`."""
    from ..data.warehouse import to_frame

    as_of_ts = warehouse.as_of(as_of)
    expr = _experiment_expr(warehouse, as_of_ts, experiment_id).order_by("invoice_id")
    return to_frame(warehouse.fetch(expr), warehouse.tables, as_of_ts, warehouse,
                    experiment_id)


def customer_table(warehouse: Warehouse, as_of=None, due_plus: int = 15, start=None,
                   experiment_id: str | None = None) -> pd.DataFrame:
    """One row per customer of the experiment with invoices issued from ``start`` (default
    the first assignment) to ``as_of``: ``customer_id``, ``arm``, ``segment`` and the
    :data:`TOTALS` — invoices, invoices whose due date + ``due_plus`` days is on or before
    ``as_of`` (followed), those paid in full by then, amount, cash and discounts."""
    as_of_ts = warehouse.as_of(as_of)
    table = warehouse.fetch(_customer_expr(warehouse, as_of_ts, due_plus, start,
                                           experiment_id))
    table = table.sort_values("customer_id", kind="stable").reset_index(drop=True)
    for col in ("n_invoices", "n_followed", "n_paid_by"):
        table[col] = table[col].astype("int64")
    table.attrs.update(as_of=as_of_ts, due_plus=due_plus)
    return table


def _customer_expr(warehouse: Warehouse, as_of_ts, due_plus: int, start, experiment_id):
    """The customer table as an Ibis expression (see :func:`customer_table`)."""
    day = int(as_of_ts.value // 86_400_000_000_000)
    f = _experiment_expr(warehouse, as_of_ts, experiment_id)
    first = _start_day(warehouse, start, experiment_id)
    if first is not None:
        f = f.filter(f.issue_day >= first)
    followed = (f.due_day + due_plus) <= day
    paid_by = followed & f.event & (f.days_late <= due_plus)
    out = f.group_by(["customer_id", "arm", "segment"]).aggregate(
        n_invoices=f.count().cast("int64"),
        n_followed=followed.cast("int64").sum(),
        n_paid_by=paid_by.cast("int64").sum(),
        amount=f.amount.sum(),
        paid_amount=f.paid_amount.sum(),
        discount_amount=f.discount_amount.sum(),
    )
    return out


def engine_arm_statistics(warehouse: Warehouse, as_of=None, due_plus: int = 15, start=None,
                          experiment_id: str | None = None,
                          by: Sequence[str] = ("arm", "segment"),
                          columns: Sequence[str] = TOTALS) -> pd.DataFrame:
    """:func:`arm_statistics` of :func:`customer_table` computed in the engine: the
    customer totals never leave it, only one row per arm and stratum comes back (equal
    to the pandas sums to rounding).

    Example:
        >>> import pathlib, tempfile
        >>> from collections_lab.data.warehouse import connect
        >>> lake = pathlib.Path(tempfile.mkdtemp())
        >>> _ = portfolio.save(lake, "parquet")
        >>> stats = engine_arm_statistics(connect(lake), as_of="2025-09-30")
        >>> int(stats["customers"].sum()) > 0
        True
    """
    by, columns = list(by), list(columns)
    c = _customer_expr(warehouse, warehouse.as_of(as_of), due_plus, start, experiment_id)
    values = {col: c[col].cast("float64") for col in columns}
    aggs = {"customers": c.count().cast("int64")}
    for i, a in enumerate(columns):
        aggs[f"sum_{a}"] = values[a].sum()
        aggs[f"ss_{a}"] = (values[a] * values[a]).sum()
        for b in columns[i + 1:]:
            aggs[f"cp_{a}_{b}"] = (values[a] * values[b]).sum()
    out = warehouse.fetch(c.group_by(by).aggregate(**aggs))
    out = out.sort_values(by, kind="stable").reset_index(drop=True)
    out["customers"] = out["customers"].astype("int64")
    return out[[*by, *aggs]]


def arm_statistics(table: pd.DataFrame, by: Sequence[str] = ("arm", "segment"),
                   columns: Sequence[str] = TOTALS) -> pd.DataFrame:
    """Per ``by`` group: ``customers`` and, for every pair of ``columns``, the sum of
    products over customers (``sum_x``, ``ss_x`` for x², ``cp_x_y`` for x·y).

    These sums are sufficient for ratio metrics and their cluster-robust variance
    (:func:`ratio_estimates`); strata combine by adding rows. The
    sums are computed here on the small customer table, after it left the engine.
    """
    by, columns = list(by), list(columns)
    data = table[by].copy()
    values = {c: table[c].to_numpy(dtype=float) for c in columns}
    parts = {"customers": np.ones(len(table))}
    for i, a in enumerate(columns):
        parts[f"sum_{a}"] = values[a]
        parts[f"ss_{a}"] = values[a] * values[a]
        for b in columns[i + 1:]:
            parts[f"cp_{a}_{b}"] = values[a] * values[b]
    data = pd.concat([data, pd.DataFrame(parts, index=table.index)], axis=1)
    out = data.groupby(by, sort=True, observed=True).sum().reset_index()
    out["customers"] = out["customers"].astype("int64")
    return out


def ratio_estimates(stats: pd.DataFrame, numerator: str, denominator: str,
                    by: Sequence[str] = ("arm",)) -> pd.DataFrame:
    """Ratio ``Σ y / Σ x`` per ``by`` group with its customer-clustered (linearised)
    standard error, from :func:`arm_statistics` only.

    ``se² = Σ_i (y_i − R x_i)² / (Σ x)² · m / (m − 1)`` over the m customers, expanded
    as ``(ss_y − 2R cp_xy + R² ss_x)``: e.g. the share of invoices paid by due + d among
    those followed that long (``n_paid_by`` / ``n_followed``).
    """
    by = list(by)
    pair = (f"cp_{numerator}_{denominator}" if f"cp_{numerator}_{denominator}" in stats
            else f"cp_{denominator}_{numerator}")
    cols = ["customers", f"sum_{numerator}", f"sum_{denominator}", f"ss_{numerator}",
            f"ss_{denominator}", pair]
    g = stats.groupby(by, sort=True)[cols].sum().reset_index()
    sy, sx = g[f"sum_{numerator}"], g[f"sum_{denominator}"]
    ratio = sy / sx
    resid = g[f"ss_{numerator}"] - 2 * ratio * g[pair] + ratio**2 * g[f"ss_{denominator}"]
    m = g["customers"]
    g["estimate"] = ratio
    g["se"] = np.sqrt(np.clip(resid, 0, None) / sx**2 * m / (m - 1))
    return g[[*by, "customers", "estimate", "se"]]


# ------------------------------------------------------------------ the readout in the engine
#: Metrics :func:`compare_arms_engine` computes from engine aggregates (every one of
#: :data:`~collections_lab.experiments.metrics.METRICS`).
ENGINE_METRICS = ("paid_by_due_d", "rmst_days", "median_days", "hazard_ratio",
                  "escalation_rate", "cash_by_due_d", "discount_cost", "churn", "net_value")
#: The keys of the engine's cells: every per-invoice IF is a function of them (and of the
#: invoice's weight), so one lookup table joined on them gives each invoice its IF.
CELL_KEYS = ["arm", "terms", "duration", "cause"]
#: Columns of the payment-times frame the engine readout reads (keep them when the frame
#: is materialised with a column subset: :meth:`~collections_lab.data.warehouse.Warehouse.materialize`);
#: ``n_reminders`` only with a reminder cost.
READOUT_COLUMNS = ("customer_id", "arm", "segment", "currency", "amount", "issue_day",
                   "due_day", "duration", "outcome_code", "discount_amount", "n_reminders")


@dataclass
class EngineExperimentData:
    """An experiment reduced inside the engine, for :func:`~collections_lab.experiments.metrics.compare_arms`.

    Holds what the clustered variances need per customer (arm, stratum, invoices, weights,
    each metric's influence value summed over the customer's invoices) and each arm's
    estimates, computed once by :func:`engine_experiment_data` for one
    :class:`~collections_lab.experiments.metrics.MetricConfig`. ``compare_arms`` reads it
    through the same methods it uses on :class:`~collections_lab.experiments.data.ExperimentData`
    (``customers_in``, ``arm_invoices``, ``arm_weights``) and three hooks
    (``estimate_arm``, ``customer_weight``, ``hazard_ratio_parts``, ``median_parts``);
    ``cells`` is the
    counts table the curves were estimated from (one row per arm, payment terms, day and
    outcome). Customers are in ``customer_id`` order (as ExperimentData's codes);
    ``customer_ids`` is an Arrow string array (millions of ids as Python strings would
    take gigabytes).
    """

    arm_names: list[str]
    control: str
    as_of_day: int
    start_day: int
    cfg: object
    metrics: tuple
    customer_ids: object
    customer_arm: np.ndarray
    customer_segment: np.ndarray
    customer_stratum: np.ndarray | None
    unseen_assigned: dict
    invoices: np.ndarray
    amount_weight: np.ndarray
    active: np.ndarray
    cells: pd.DataFrame
    columns: dict = field(default_factory=dict)
    estimates: dict = field(default_factory=dict)
    hazard: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    _arm_invoices: np.ndarray | None = None
    _arm_weights: np.ndarray | None = None

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    def customers_in(self, arm: int) -> np.ndarray:
        """Customers of arm code ``arm`` with experiment invoices."""
        return (self.invoices > 0) & (self.customer_arm == arm)

    def arm_invoices(self) -> np.ndarray:
        return self._arm_invoices

    def arm_weights(self) -> np.ndarray:
        return self._arm_weights

    def _check(self, metric: str, cfg) -> None:
        if cfg is not None and cfg != self.cfg:
            raise ValueError("this engine readout was computed for another MetricConfig: "
                             "build it again with engine_experiment_data(..., cfg=...)")
        if metric not in self.metrics:
            raise ValueError(f"metric {metric!r} was not computed in the engine (computed: "
                             f"{list(self.metrics)}); build it with metrics=[..., {metric!r}]")

    def estimate_arm(self, metric: str, arm: int, cfg=None) -> tuple[float, np.ndarray]:
        """(estimate, per-customer IF) of ``metric`` in arm code ``arm``; the IF array is
        built on demand from the customer sums (one array per call, not per metric and
        arm up front: at millions of customers each is tens of MB)."""
        from .metrics import churn_available, churn_share

        self._check(metric, cfg)
        if self._arm_invoices[arm] == 0:
            raise ValueError(f"arm {self.arm_names[arm]!r} has no invoices to analyse")
        inside = self.customer_arm == arm
        not_yet = float("nan"), np.full(self.n_customers, np.nan)
        if metric == "churn":
            got = None
            if churn_available(self, self.cfg):
                got = churn_share(self.active & inside,
                                  (self.columns["came_back"] > 0) & inside)
            return not_yet if got is None else got
        if metric == "discount_cost":
            return self._ratio("sum_discount", inside)
        est = self.estimates[metric, arm]
        if isinstance(est, Exception):
            raise est
        if est is None:
            return not_yet
        psi = np.where(inside, self.columns[f"psi_{metric}"], 0.0)
        if metric == "net_value":  # minus the costs per unit invoiced
            cost, psi_cost = self._ratio("sum_cost", inside)
            return float(est - cost), psi - psi_cost
        return float(est), psi

    def _ratio(self, numerator: str, inside: np.ndarray) -> tuple[float, np.ndarray]:
        """A weighted ratio ``Σ w·x / Σ w`` over one arm's invoices from customer sums,
        with its per-customer IF ``(Σ_c w·x − R Σ_c w) / Σ w`` (``_ratio`` on invoices)."""
        sw = np.where(inside, self.amount_weight, 0.0)
        sx = np.where(inside, self.columns[numerator], 0.0)
        total = sw.sum()
        ratio = float(sx.sum() / total)
        return ratio, (sx - ratio * sw) / total

    def customer_weight(self, metric: str, arm: int, cfg=None) -> np.ndarray:
        """Each customer's weight in ``metric`` (CR2 leverage), 0 outside arm ``arm``."""
        from .metric_registry import get_metric

        inside = self.customer_arm == arm
        weighting = get_metric(metric).weighting
        if weighting == "customer":
            self._check(metric, cfg)
            return (self.active & inside).astype(float)
        per = self.amount_weight if weighting == "amount" else self.invoices
        return np.where(inside, per, 0.0).astype(float)

    def hazard_ratio_parts(self, arm: int, control: int, ties: str = "efron"):
        """(log HR, model variance, per-customer IF, events) of arm versus control."""
        self._check("hazard_ratio", None)
        if ties != "efron" or control != self.arm_names.index(self.control):
            raise ValueError("the engine readout fits the hazard ratio with Efron ties "
                             "against the control arm only")
        got = self.hazard[arm]
        if isinstance(got, Exception):
            raise got
        beta, variance, events = got
        return beta, variance, self.columns[f"psi_hazard_ratio_{arm}"].copy(), events

    def median_parts(self, arm: int, control: int):
        """The median's ingredients: each arm's payment curve, the pooled curve of arm and
        control, and ``customer_if(a, day)``: the IF of arm ``a``'s curve at ``day``
        summed per customer (the engine's sums for the days the median test asks)."""
        self._check("median_days", None)

        def customer_if(a: int, day: int) -> np.ndarray:
            name = f"psi_median_{a}_{day}"
            if name not in self.columns:
                raise ValueError(f"the engine summed no IF of arm {self.arm_names[a]!r} "
                                 f"at day {day}")
            return self.columns[name].copy()  # Arrow's buffer is read-only

        return ({a: self.curves[a] for a in (arm, control)},
                lambda: self.curves["pooled", arm, control], customer_if)


def engine_experiment_data(warehouse: Warehouse, cfg=None, metrics=None, as_of=None,
                           control: str | None = None, experiment_id: str | None = None,
                           start=None, stratified_by: str | None = None
                           ) -> EngineExperimentData:
    """The experiment reduced in the engine (:class:`EngineExperimentData`): three queries
    over the invoices, each returning a small table.

    1. **Cells**: invoices per (arm, payment terms, days since issue, outcome, currency)
       with their amounts and how many reached each "due + d" day by ``as_of`` (a few
       thousand rows). Every curve (Aalen–Johansen per terms group, RMST, discounted cash,
       the Cox fit of the hazard ratio) is the row-level estimator run on these rows
       with their counts (or amounts) as weights: the same code and the same figures.
    2. **Influence lookup**: each estimator's IF of a row, divided by the row's weight, is
       the IF of each of its invoices per unit of weight (every IF here is linear in an
       invoice's weight). That table goes back into the engine (a memtable), is joined
       to the invoices by the cell keys and summed per customer, with the customer's
       invoices, amounts, discount and cost sums and churn flags: the **customer table**
       (one row per customer).
    3. With ``stratified_by``, the assigned customers without invoices, per stratum and arm.

    ``metrics`` is a subset of :data:`ENGINE_METRICS` (default all of them).
    ``stratified_by``: ``None`` or
    ``"segment"`` (a customer's column, as the randomisation uses).
    """
    import ibis

    from .data import ExperimentDataError, choose_control
    from .metrics import (
        MetricConfig,
        churn_end_day,
        discounted_cash_arm,
        due_plus_spec,
        hazard_ratio_rows,
        incidence_over_terms,
        restricted_mean_arm,
        terms_followed,
    )

    cfg = cfg or MetricConfig()
    metrics = tuple(metrics or ENGINE_METRICS)
    refused = [m for m in metrics if m not in ENGINE_METRICS]
    if refused:
        raise ValueError(f"metric(s) {refused} are not computed from engine aggregates "
                         f"(engine metrics: {list(ENGINE_METRICS)})")
    if stratified_by not in (None, "segment"):
        raise ValueError(f"stratified_by={stratified_by!r}: the engine readout stratifies by "
                         "the customers' segment only (stratified_by='segment' or None)")
    as_of_ts = warehouse.as_of(as_of)
    as_of_day = int(as_of_ts.value // 86_400_000_000_000)
    _one_experiment(warehouse, experiment_id)
    f = _experiment_expr(warehouse, as_of_ts, experiment_id)
    costly = cfg.reminder_cost != 0
    missing = [c for c in READOUT_COLUMNS if c not in f.columns
               and (costly or c != "n_reminders")]
    if missing:
        raise WarehouseError(
            f"{warehouse.label}: the payment-times frame lacks column(s) {missing} the "
            f"readout reads (materialised with fewer columns?): keep {list(READOUT_COLUMNS)}")
    if not costly:  # no reminder cost: the count is not read
        f = f.mutate(n_reminders=ibis.literal(0, "int64"))
    first = _start_day(warehouse, start, experiment_id)
    exp = (f.issue_day >= first) if first is not None else ibis.literal(True)
    terms = (f.due_day - f.issue_day).cast("int64")
    f = f.mutate(exp=exp, terms=terms, cause=f.outcome_code.cast("int64"))

    # 1. the cells (all invoices of the experiment's customers; exp: from the start on)
    d_pay, d_esc = cfg.due_plus_days, cfg.escalation_due_plus_days
    left = as_of_day - f.issue_day
    cells_raw = warehouse.fetch(f.group_by(["exp", *CELL_KEYS, "currency"]).aggregate(
        n=f.count().cast("int64"),
        amount=f.amount.sum(),
        bad_amount=ibis.ifelse(f.amount > 0, 0, 1).sum().cast("int64"),
        reached_pay=(left >= f.terms + d_pay).cast("int64").sum(),
        reached_esc=(left >= f.terms + d_esc).cast("int64").sum(),
        first_issue=f.issue_day.min()))
    if len(cells_raw) == 0:
        raise ExperimentDataError("no invoice has an 'arm': no experiment to analyse")
    if int(cells_raw["bad_amount"].sum()):
        raise ExperimentDataError("invoice amounts must be > 0 (found zero, negative or NaN)")
    arm_names = sorted(set(cells_raw["arm"].astype(str)))
    control = choose_control(arm_names, control)
    arm_names = [control] + [a for a in arm_names if a != control]
    start_day = int(cells_raw["first_issue"].min()) if first is None else int(first)
    cells_raw = cells_raw.loc[cells_raw["exp"].astype(bool)].drop(
        columns=["exp", "bad_amount", "first_issue"]).reset_index(drop=True)
    if len(cells_raw) == 0:
        raise ExperimentDataError("no invoice issued between the experiment start and as_of")
    for col in ("terms", "duration", "cause", "n", "reached_pay", "reached_esc"):
        cells_raw[col] = cells_raw[col].astype("int64")
    cells_raw["currency"] = cells_raw["currency"].astype(str)
    money = cells_raw.groupby("currency", sort=True)[["amount", "n"]].sum()
    mean = money["amount"] / money["n"]  # each currency's mean amount (weight = amount / mean)
    cells_raw["sw"] = cells_raw["amount"] / cells_raw["currency"].map(mean)
    cells = (cells_raw.groupby(CELL_KEYS, sort=True)[["n", "sw", "reached_pay", "reached_esc"]]
             .sum().reset_index())
    by_terms = cells.groupby("terms", sort=True)[["n", "reached_pay", "reached_esc"]].sum()
    code = {a: i for i, a in enumerate(arm_names)}
    arm_code = cells["arm"].map(code).to_numpy()
    arm_invoices = np.bincount(arm_code, cells["n"].to_numpy(), len(arm_names)).astype(int)
    arm_weights = np.bincount(arm_code, cells["sw"].to_numpy(), len(arm_names))

    included_by = {}
    for metric in ("paid_by_due_d", "escalation_rate"):
        due_plus, cause_k, _ = due_plus_spec(metric, cfg)
        reached = by_terms["reached_esc" if cause_k == 2 else "reached_pay"]
        included_by[cause_k] = terms_followed(by_terms.index.to_numpy(), reached.to_numpy(),
                                              by_terms["n"].to_numpy())

    # 2. per-cell IFs per unit of weight, from the row-level estimators on the cells
    lookup = pd.DataFrame(index=cells.index)
    weighted: dict[str, bool] = {}
    estimates: dict = {}
    hazard: dict = {}
    dur, cause = cells["duration"].to_numpy(), cells["cause"].to_numpy()
    n, sw, trm = cells["n"].to_numpy(float), cells["sw"].to_numpy(), cells["terms"].to_numpy()
    # the horizon rules that need distinct customers at risk (they do not add over cells)
    # are applied once the customer query below has counted them: each estimator is first
    # run without that count, then again with it (on the cells: cheap)
    recheck: dict = {}
    for metric in metrics:
        for a in range(len(arm_names)):
            rows = arm_code == a
            if not rows.any():
                continue
            if metric in ("paid_by_due_d", "cash_by_due_d", "escalation_rate"):
                due_plus, cause_k, amount = due_plus_spec(metric, cfg)
                w = (sw if amount else n)[rows]
                call = (incidence_over_terms, (included_by[cause_k], dur[rows], cause[rows],
                                               trm[rows], due_plus, cause_k, w),
                        "risk_esc" if cause_k == 2 else "risk_pay")
            elif metric == "rmst_days":
                amount, w = False, n[rows]
                call = (restricted_mean_arm, (dur[rows], cause[rows], cfg.horizon_days, w),
                        "risk_rmst")
            elif metric == "net_value":
                amount, w = True, sw[rows]
                call = (discounted_cash_arm, (dur[rows], cause[rows], w, cfg), "risk_net")
            else:  # discount cost, churn: customer sums; hazard ratio: below
                continue
            got = call[0](*call[1], None)
            if got is not None:
                recheck[metric, a] = call
            weighted[metric] = amount
            col = lookup.get(metric, pd.Series(0.0, index=cells.index)).to_numpy().copy()
            if got is None:
                estimates[metric, a] = None
            else:
                estimates[metric, a] = float(got[0])
                col[rows] = got[1] / w
            lookup[metric] = col
    if "hazard_ratio" in metrics:
        for a in range(1, len(arm_names)):
            rows = (arm_code == a) | (arm_code == 0)
            col = np.zeros(len(cells))
            try:
                beta, variance, psi, events = hazard_ratio_rows(
                    arm_code[rows] == a, cause[rows] == 1, dur[rows], n[rows])
            except ValueError as exc:
                hazard[a] = exc
            else:
                hazard[a] = (beta, variance, events)
                col[rows] = psi
            lookup[f"hazard_ratio_{a}"] = col
            weighted[f"hazard_ratio_{a}"] = False

    curves: dict = {}
    if "median_days" in metrics:  # the curves, and their IFs at the days the test reads
        from .metrics import issue_axis_curve

        days: dict[int, set] = {a: set() for a in range(len(arm_names))}
        for a in range(len(arm_names)):
            rows = arm_code == a
            if rows.any():
                curves[a] = issue_axis_curve(dur[rows], cause[rows], n[rows])
                days[a].add(curves[a].quantile_day(0.5))
        for a in range(1, len(arm_names)):
            rows = (arm_code == a) | (arm_code == 0)
            pooled = curves["pooled", a, 0] = issue_axis_curve(dur[rows], cause[rows], n[rows])
            for b in (a, 0):
                days[b].add(pooled.quantile_day(0.5))
        for a, wanted in days.items():
            rows = arm_code == a
            for day in sorted(d for d in wanted if np.isfinite(d)):
                col = np.zeros(len(cells))
                col[rows] = curves[a].at_day(int(day))[1] / n[rows]
                lookup[f"median_{a}_{int(day)}"] = col
                weighted[f"median_{a}_{int(day)}"] = False

    # the lookup back into the engine: one row per cell and currency
    per_reminder = cfg.reminder_cost
    costs = cells_raw["currency"].map(
        (lambda c: per_reminder.get(c, 0.0)) if isinstance(per_reminder, dict)
        else (lambda c: float(per_reminder))).astype(float)
    table = cells_raw[CELL_KEYS + ["currency"]].assign(
        exp=True, mean_amount=cells_raw["currency"].map(mean).to_numpy(),
        reminder_cost=costs.to_numpy())
    keyed = cells[CELL_KEYS].join(lookup)
    table = table.merge(keyed, on=CELL_KEYS, how="left")
    memo = ibis.memtable(table)
    j = f.left_join(memo, [*CELL_KEYS, "currency", "exp"])
    in_exp = j.mean_amount.notnull()
    w_inv = j.amount / j.mean_amount
    end = churn_end_day(_Days(as_of_day), cfg)
    zero = ibis.literal(0.0)

    def total(value):
        return ibis.ifelse(in_exp, value, zero).sum().fill_null(0.0)

    aggs = {
        "n_invoices": in_exp.cast("int64").sum().fill_null(0),
        "sw": total(w_inv),
        "sum_discount": total(w_inv * (j.discount_amount / j.amount)),
        "sum_cost": total(w_inv * ((j.discount_amount + j.n_reminders * j.reminder_cost)
                                   / j.amount)),
        "active": (in_exp & (j.issue_day <= end)).cast("int64").max(),
        "came_back": (in_exp & (j.issue_day > end) & (j.issue_day <= end + cfg.churn_days))
        .cast("int64").max(),
    }
    for col, amount in weighted.items():
        aggs[f"psi_{col}"] = total(j[col] * w_inv if amount else j[col])

    def at_risk_flag(day, included=None):  # the customer has an invoice at risk on ``day``
        flag = in_exp & (j.duration >= day)
        return (flag if included is None else flag & included).cast("int64").max()

    for cause_k, name in ((1, "risk_pay"), (2, "risk_esc")):
        inc = included_by[cause_k]
        if inc is not None:
            aggs[name] = at_risk_flag(j.terms + (d_esc if cause_k == 2 else d_pay),
                                      j.terms.isin([int(t) for t in inc]))
    aggs["risk_rmst"] = at_risk_flag(cfg.horizon_days - 1)
    aggs["risk_net"] = at_risk_flag(cfg.horizon_days)
    expr = j.group_by(customer_id=j.customer_id.cast("string"), arm=j.arm.cast("string"),
                      segment=j.segment.cast("string")).aggregate(**aggs)
    # Arrow, not pandas: millions of customer ids stay one buffer, not Python strings
    got = warehouse.con.to_pyarrow(expr.order_by("customer_id"))
    ids = got.column("customer_id").combine_chunks()
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ExperimentDataError("a customer has invoices in more than one arm or segment; "
                                  "assignment must be by customer")
    customer_arm = pc.index_in(got.column("arm"), value_set=pa.array(arm_names)).to_numpy()
    segment = _strings(got.column("segment"))
    columns = {name: got.column(name).to_numpy().astype(float, copy=False)
               for name in got.column_names if name not in ("customer_id", "arm", "segment")}
    del got
    at_risk = {name: np.bincount(customer_arm.astype(np.int64), columns.pop(name) > 0,
                                 len(arm_names))
               for name in ("risk_pay", "risk_esc", "risk_rmst", "risk_net") if name in columns}
    for (metric, a), (estimator, args, name) in recheck.items():
        if estimator(*args, int(at_risk[name][a])) is None:  # too few customers at risk
            estimates[metric, a] = None
    data = EngineExperimentData(
        arm_names=arm_names, control=control, as_of_day=as_of_day, start_day=start_day,
        cfg=cfg, metrics=metrics, customer_ids=ids, customer_arm=customer_arm.astype(np.int64),
        customer_segment=segment, customer_stratum=segment if stratified_by else None,
        unseen_assigned=(_unseen(warehouse, as_of_day, experiment_id, arm_names)
                         if stratified_by else {}),
        invoices=columns.pop("n_invoices").astype(np.int64),
        amount_weight=columns["sw"], active=columns.pop("active") > 0, cells=cells,
        columns=columns, _arm_invoices=arm_invoices, _arm_weights=arm_weights)
    for a in range(len(arm_names)):
        if "net_value" in metrics and isinstance(estimates.get(("net_value", a)), float):
            missing = _missing_costs(cfg, cells_raw, arm_names[a])
            if missing:
                estimates["net_value", a] = ValueError(
                    f"reminder_cost has no cost for currency {missing}")
    data.estimates, data.hazard, data.curves = estimates, hazard, curves
    return data


def _strings(column) -> np.ndarray:
    """An Arrow string column of a few distinct values as a NumPy object array (one
    Python string per distinct value, not per row)."""
    encoded = column.combine_chunks().dictionary_encode()
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return names[encoded.indices.to_numpy(zero_copy_only=False)]


def compare_arms_engine(warehouse: Warehouse, cfg=None, metrics=None, arms=None,
                        as_of=None, control: str | None = None,
                        experiment_id: str | None = None, start=None,
                        stratified_by: str | None = None) -> list:
    """:func:`~collections_lab.experiments.metrics.compare_arms` with the invoices left in
    the engine: the same :class:`~collections_lab.experiments.metrics.Effect` objects
    (estimates, clustered CR2 standard errors, degrees of freedom, p-values equal to the
    pandas path's to 1e-10) from :func:`engine_experiment_data`'s small tables.

    ``metrics``: a subset of :data:`ENGINE_METRICS` (default all); a metric the engine
    data were not built for is refused with a message, never computed another way.

    Example:
        >>> import pathlib, tempfile
        >>> from collections_lab.data.warehouse import connect
        >>> lake = pathlib.Path(tempfile.mkdtemp())
        >>> _ = portfolio.save(lake, "parquet")
        >>> effects = compare_arms_engine(connect(lake), metrics=["paid_by_due_d"],
        ...                               as_of="2025-09-30")
        >>> effects[0].metric
        'paid_by_due_d'
    """
    from .metrics import compare_arms

    data = engine_experiment_data(warehouse, cfg, metrics, as_of, control, experiment_id,
                                  start, stratified_by)
    return compare_arms(data, data.cfg, metrics=list(data.metrics), arms=arms)


@dataclass
class _Days:
    """The one field :func:`~collections_lab.experiments.metrics.churn_end_day` reads."""

    as_of_day: int


def _missing_costs(cfg, cells_raw: pd.DataFrame, arm: str) -> list:
    if not isinstance(cfg.reminder_cost, dict):
        return []
    used = set(cells_raw.loc[cells_raw["arm"] == arm, "currency"])
    return sorted(used - set(cfg.reminder_cost))


def _one_experiment(warehouse: Warehouse, experiment_id) -> None:
    asg = warehouse.tables.get("assignments")
    if asg is None or "experiment_id" not in asg.columns:
        return
    ids = warehouse.fetch(asg.select("experiment_id").distinct())["experiment_id"].tolist()
    if experiment_id is not None and experiment_id not in ids:
        raise WarehouseError(f"experiment {experiment_id!r} not in assignments")
    if experiment_id is None and len(ids) > 1:
        raise WarehouseError(
            f"assignments hold several experiments {sorted(ids)}: pass experiment_id")


def _unseen(warehouse: Warehouse, as_of_day: int, experiment_id, arm_names) -> dict:
    """Assigned customers with no invoice in the experiment frame, per (segment, arm code)
    (as :func:`~collections_lab.experiments.data.assigned_units` and ExperimentData)."""
    asg = warehouse.tables["assignments"]
    cust = warehouse.tables.get("customers")
    if cust is None or "segment" not in cust.columns:
        return {}
    if experiment_id is not None:
        asg = asg.filter(asg.experiment_id == experiment_id)
    seg = cust.select("customer_id", "segment").distinct(on="customer_id")
    u = asg.select("customer_id", "arm").left_join(seg, "customer_id")
    u = u.select(stratum=u.segment.cast("string").fill_null("unknown"),
                 key=u.customer_id.cast("string"), arm=u.arm.cast("string"))
    u = u.filter(u.arm.isin(arm_names))
    inv = warehouse.tables["invoices"]  # the frame's customers: invoiced by as_of
    inv = inv.filter(day_number(inv.issue_date) <= as_of_day)
    known = inv.select(key=inv.customer_id.cast("string")).distinct()
    u = u.anti_join(known, "key")
    counts = warehouse.fetch(u.group_by(["stratum", "arm"]).aggregate(n=u.count()))
    code = {a: i for i, a in enumerate(arm_names)}
    return {(str(r.stratum), code[r.arm]): int(r.n) for r in counts.itertuples()}
