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

The full readout (:func:`~collections_lab.experiments.readout.analyze_experiment`, with
censoring-aware Aalen–Johansen curves, RMST and the hazard ratio) takes the experiment's
invoices: :func:`experiment_frame` selects them in the engine (assigned customers only)
and returns the payment-times frame for them, equal to the pandas one.

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

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..data.warehouse import Warehouse, WarehouseError

__all__ = ["arm_statistics", "customer_table", "engine_arm_statistics", "experiment_frame",
           "ratio_estimates"]

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
