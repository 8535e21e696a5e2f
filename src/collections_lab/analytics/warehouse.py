"""Receivables KPIs computed inside the engine (Ibis): only per-group sums come back.

The same definitions as :mod:`collections_lab.analytics.kpis` (see its docstring: aging
buckets, DSO standard and countback, BPDSO, ADD, CEI, balance-weighted days past due,
at-risk rate), evaluated on a :class:`~collections_lab.data.warehouse.Warehouse`: the
engine reduces the invoices and payments to a few sums per group (currency plus any
``by`` columns), per day of sales for the countback and per issue month for the at-risk
rate; the formulas then run on those small tables in pandas. Amounts stay per currency
(the engine path takes no conversion table).

Example
-------
>>> import pathlib, tempfile
>>> from collections_lab.data.warehouse import connect
>>> lake = pathlib.Path(tempfile.mkdtemp())
>>> _ = portfolio.save(lake, "parquet")
>>> snap = kpi_snapshot_engine(connect(lake), "2025-09-30")
>>> snap.to_frame()["currency"].tolist() == sorted(portfolio.invoices["currency"].unique())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..data.dates import check_as_of
from ..data.schema import FULL_PAYMENT_TOLERANCE
from ..data.warehouse import Warehouse, WarehouseError
from .kpis import BUCKETS, KPITable, countback_dso, month_start, safe_divide
from .ledger import NoInvoicesError, from_day, to_day

__all__ = ["aging_engine", "kpi_snapshot_engine", "monthly_trends_engine"]

def _ibis():
    import ibis

    return ibis


def _day(col):
    return col.cast("date").epoch_days().cast("int64")


def _keyed_invoices(wh: Warehouse, by: list[str]):
    """Invoices with day numbers, the leaves-AR day and the group key columns."""
    ibis = _ibis()
    inv = wh.tables["invoices"]
    if "currency" not in inv.columns:
        raise WarehouseError("invoices lack a currency column: KPIs are per currency")
    never = ibis.literal(2**40, "int64")
    gone = (_day(inv.written_off_at).fill_null(never) if "written_off_at" in inv.columns
            else never)
    t = inv.mutate(issue_day=_day(inv.issue_date), due_day=_day(inv.due_date),
                   amount=inv.amount.cast("float64"), gone_day=gone,
                   currency=inv.currency.cast("string"))
    if "escalated_at" in inv.columns:
        t = t.mutate(escalated_day=_day(inv.escalated_at).fill_null(never))
    keys = ["currency"]
    cust = wh.tables.get("customers")
    for key in by:
        if key == "currency":
            continue
        if key in inv.columns:
            t = t.mutate(**{key: t[key]})
        elif cust is not None and key in cust.columns:
            look = cust.select("customer_id", _k=cust[key]).distinct(on="customer_id")
            t = t.left_join(look, "customer_id").drop("customer_id_right")
            t = t.mutate(**{key: t._k.cast("string").fill_null("unknown")}).drop("_k")
        else:
            raise ValueError(f"cannot group by {key!r}: not a column of invoices or customers")
        keys.append(key)
    return t, keys


def _settlements(wh: Warehouse, inv):
    """Payments as (invoice_id, paid_day, settled); a payment on an unknown invoice is an
    error, as in the pandas ledger (cash is never lost silently)."""
    pay = wh.tables["payments"]
    fee = pay.fee.fill_null(0.0) if "fee" in pay.columns else 0.0
    disc = pay.discount.fill_null(0.0) if "discount" in pay.columns else 0.0
    pay = pay.select("invoice_id", paid_day=_day(pay.paid_at),
                     settled=pay.amount.cast("float64") - fee + disc)
    orphans = wh.cached("orphan_payments", lambda: int(wh.con.execute(
        pay.anti_join(inv.select("invoice_id"), "invoice_id").count())))
    if orphans:
        raise WarehouseError(f"{orphans} payment(s) refer to invoices not in the invoices table; "
                             "fix the export rather than losing cash silently")
    return pay


def _remaining(amount, settled):
    """amount − settled, clipped at zero, rounding remainders zero (Ledger.remaining)."""
    ibis = _ibis()
    rest = ibis.greatest(amount - settled, 0.0)
    return ibis.ifelse(rest <= FULL_PAYMENT_TOLERANCE * amount, 0.0, rest)


def _day_of(value, name: str) -> int:
    return to_day(value, name)


def _prepared(wh: Warehouse, by: list[str], include_escalated: bool):
    """(invoices with keys, settlements, key columns) as Ibis tables."""
    ibis = _ibis()
    inv, keys = _keyed_invoices(wh, by)
    if not include_escalated and "escalated_day" in inv.columns:
        inv = inv.mutate(gone_day=ibis.least(inv.gone_day, inv.escalated_day))
    return inv, _settlements(wh, inv), keys


def _point_sums(wh: Warehouse, inv, pay, keys: list[str], day: int, start: int,
                period_days: int) -> pd.DataFrame:
    """Per-group sums at ``day``: aging counts and amounts, AR, sales of the last
    ``period_days``, the CEI parts over ``(start, day]`` (sales, AR at start and end,
    current AR at end), cash settled in ``(start, day]``, balance-weighted days past due."""
    ibis = _ibis()
    per_inv = pay.group_by("invoice_id").aggregate(
        s_end=ibis.ifelse(pay.paid_day <= day, pay.settled, 0.0).sum(),
        s_start=ibis.ifelse(pay.paid_day <= start, pay.settled, 0.0).sum(),
        s_in=ibis.ifelse((pay.paid_day > start) & (pay.paid_day <= day), pay.settled,
                         0.0).sum(),
    )
    t = inv.left_join(per_inv, "invoice_id").drop("invoice_id_right")
    t = t.mutate(s_end=t.s_end.fill_null(0.0), s_start=t.s_start.fill_null(0.0),
                 s_in=t.s_in.fill_null(0.0))

    def balance(settled, at):
        rest = _remaining(t.amount, settled)
        return ibis.ifelse((t.issue_day > at) | (t.gone_day <= at), 0.0, rest)

    t = t.mutate(bal=balance(t.s_end, day), bal_start=balance(t.s_start, start),
                 dpd=ibis.literal(day) - t.due_day)
    bucket = ibis.cases(*[(t.dpd <= hi, i) for i, (_, _, hi) in enumerate(BUCKETS[:-1])],
                        else_=len(BUCKETS) - 1)
    t = t.mutate(bucket=bucket)
    open_ = t.bal > 0
    aggs = {}
    for i, _ in enumerate(BUCKETS):
        here = open_ & (t.bucket == i)
        aggs[f"count_{i}"] = ibis.ifelse(here, 1, 0).sum()
        aggs[f"amount_{i}"] = ibis.ifelse(here, t.bal, 0.0).sum()
    late = open_ & (t.due_day < day)
    aggs.update(
        sales=ibis.ifelse((t.issue_day > day - period_days) & (t.issue_day <= day), t.amount,
                          0.0).sum(),
        sales_cei=ibis.ifelse((t.issue_day > start) & (t.issue_day <= day), t.amount,
                              0.0).sum(),
        begin_ar=t.bal_start.sum(),
        end_ar=t.bal.sum(),
        end_current_ar=ibis.ifelse(t.due_day >= day, t.bal, 0.0).sum(),
        collected=t.s_in.sum(),
        late_weighted=ibis.ifelse(late, t.bal * t.dpd.cast("float64"), 0.0).sum(),
        late_balance=ibis.ifelse(late, t.bal, 0.0).sum(),
        issued=ibis.ifelse(t.issue_day <= day, 1, 0).sum(),
    )
    sums = wh.fetch(t.group_by(keys).aggregate(**aggs))
    return sums.sort_values(keys, kind="stable").reset_index(drop=True)


def _daily_sales(wh: Warehouse, inv, keys: list[str], day: int) -> pd.DataFrame:
    return wh.fetch(inv.filter(inv.issue_day <= day).group_by([*keys, "issue_day"])
                    .aggregate(sales=inv.amount.sum()))


def _risk_sums(wh: Warehouse, inv, pay, keys: list[str], day: int, horizon_days: int
               ) -> pd.DataFrame:
    """Per group and issue month: invoices, amount, and amount unpaid ``horizon_days``
    after each invoice's issue (payments after ``day`` ignored)."""
    within = pay.join(inv.select("invoice_id", "issue_day"), "invoice_id")
    within = within.filter((within.paid_day <= within.issue_day + horizon_days)
                           & (within.paid_day <= day))
    settled_h = within.group_by("invoice_id").aggregate(s=within.settled.sum())
    r = inv.filter(inv.issue_day <= day).left_join(settled_h, "invoice_id")
    r = r.mutate(unpaid=_remaining(r.amount, r.s.fill_null(0.0)),
                 month=r.issue_date.cast("date").truncate("M"))
    return wh.fetch(r.group_by([*keys, "month"]).aggregate(
        n_invoices=r.count(), invoiced=r.amount.sum(), unpaid_after=r.unpaid.sum()))


def _snapshot_sums(wh: Warehouse, day: int, period_days: int, by: list[str],
                   include_escalated: bool, horizon_days: int):
    """Per-group sums at ``day`` (aging, AR, CEI parts), daily sales and monthly at-risk
    sums, each a small pandas frame."""
    inv, pay, keys = _prepared(wh, by, include_escalated)
    sums = _point_sums(wh, inv, pay, keys, day, day - period_days, period_days)
    return (sums, _daily_sales(wh, inv, keys, day),
            _risk_sums(wh, inv, pay, keys, day, horizon_days), keys)


def kpi_snapshot_engine(
    warehouse: Warehouse,
    as_of,
    by: Sequence[str] | str | None = None,
    period_days: int = 90,
    horizon_days: int = 90,
    include_escalated: bool = True,
    allow_future: bool | None = None,
    max_months: int = 24,
) -> KPITable:
    """:func:`~collections_lab.analytics.kpis.kpi_snapshot` computed in the engine.

    One row per group (currency × ``by``) with the same columns and values (to rounding
    of sums, 1e-10 relative): open_invoices, receivables, overdue, overdue_share,
    sales_period, dso, dso_countback, bpdso, add, weighted_days_past_due, cei,
    at_risk_rate, at_risk_month. Three small results come back: the per-group sums, the
    sales per group and day, the at-risk sums per group and issue month.
    """
    by = [by] if isinstance(by, str) else list(by or [])
    day = _day_of(as_of, "as_of")
    limits = SimpleNamespace(last_date=warehouse.data_end(), observed_until=None)
    check_as_of(limits, from_day(day), "as_of", allow_future)
    sums, daily, risk, keys = _snapshot_sums(warehouse, day, period_days, by,
                                             include_escalated, horizon_days)
    if sums["issued"].sum() == 0:
        raise NoInvoicesError(f"no invoice was issued on or before {from_day(day).date()}")
    counts = sums[[f"count_{i}" for i in range(len(BUCKETS))]].to_numpy()
    amounts = sums[[f"amount_{i}" for i in range(len(BUCKETS))]].to_numpy(dtype=float)
    ar = amounts.sum(axis=1)
    current = amounts[:, 0]
    overdue = ar - current
    sales = sums["sales"].to_numpy(dtype=float)
    begin, ending = sums["begin_ar"].to_numpy(float), sums["end_ar"].to_numpy(float)
    cei = 100 * safe_divide(begin + sales - ending,
                        begin + sales - sums["end_current_ar"].to_numpy(float))
    frame = sums[keys].copy()
    frame["open_invoices"] = counts.sum(axis=1)
    frame["receivables"] = ar
    frame["overdue"] = overdue
    frame["overdue_share"] = safe_divide(overdue, ar)
    frame["sales_period"] = sales
    frame["dso"] = safe_divide(ar, sales) * period_days
    frame["dso_countback"] = countback_dso(_daily_ledger(daily, frame, keys), day, ar, max_months)
    frame["bpdso"] = safe_divide(current, sales) * period_days
    frame["add"] = safe_divide(overdue, sales) * period_days
    frame["weighted_days_past_due"] = safe_divide(sums["late_weighted"].to_numpy(float),
                                              sums["late_balance"].to_numpy(float))
    frame["cei"] = cei
    frame["at_risk_rate"] = np.nan
    frame["at_risk_month"] = pd.NaT
    risk = _at_risk(risk, day, horizon_days)
    risk = risk.loc[risk["complete"]]
    if len(risk):
        latest = risk.sort_values("month").groupby(keys, dropna=False).tail(1)
        merged = frame[keys].merge(latest[keys + ["month", "at_risk_rate"]], on=keys,
                                   how="left")
        frame["at_risk_rate"] = merged["at_risk_rate"].to_numpy()
        frame["at_risk_month"] = merged["month"].to_numpy()
    notes = []
    if frame["dso"].isna().any():
        notes.append(f"DSO undefined where nothing was invoiced in the last {period_days} days")
    return KPITable(frame, "kpi_snapshot", keys, from_day(day), notes)


def _daily_ledger(daily: pd.DataFrame, groups: pd.DataFrame, keys: list[str]):
    """Daily sales per group in the shape the countback reads (issue, group, amount)."""
    code = groups[keys].reset_index().rename(columns={"index": "_g"})
    d = daily.merge(code, on=keys, how="inner")
    return SimpleNamespace(issue=d["issue_day"].to_numpy(dtype=np.int64),
                           group=d["_g"].to_numpy(dtype=np.int64),
                           amount=d["sales"].to_numpy(dtype=float), n_groups=len(groups))


def _at_risk(risk: pd.DataFrame, day: int, horizon_days: int) -> pd.DataFrame:
    risk = risk.copy()
    risk["month"] = pd.to_datetime(risk["month"]).astype("datetime64[ns]")
    month_end = (risk["month"] + pd.offsets.MonthEnd(0)).dt.normalize()
    risk["complete"] = (month_end + pd.Timedelta(days=horizon_days)) <= from_day(day)
    risk["at_risk_rate"] = np.where(risk["complete"],
                                    risk["unpaid_after"] / risk["invoiced"], np.nan)
    return risk


def aging_engine(warehouse: Warehouse, as_of, by: Sequence[str] | str | None = None,
                 include_escalated: bool = True, allow_future: bool | None = None) -> KPITable:
    """:func:`~collections_lab.analytics.kpis.aging` computed in the engine: count and open
    amount per bucket (current, 1-30, 31-60, 61-90, 90+) and group, with ``share``."""
    by = [by] if isinstance(by, str) else list(by or [])
    day = _day_of(as_of, "as_of")
    limits = SimpleNamespace(last_date=warehouse.data_end(), observed_until=None)
    check_as_of(limits, from_day(day), "as_of", allow_future)
    sums, _, _, keys = _snapshot_sums(warehouse, day, 90, by, include_escalated, 90)
    if sums["issued"].sum() == 0:
        raise NoInvoicesError(f"no invoice was issued on or before {from_day(day).date()}")
    amounts = sums[[f"amount_{i}" for i in range(len(BUCKETS))]].to_numpy(dtype=float)
    totals = amounts.sum(axis=1)
    rows = []
    for b, (label, _, _) in enumerate(BUCKETS):
        part = sums[keys].copy()
        part["bucket"] = label
        part["count"] = sums[f"count_{b}"].to_numpy(dtype=np.int64)
        part["amount"] = amounts[:, b]
        part["share"] = safe_divide(amounts[:, b], totals)
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    order = {label: i for i, (label, _, _) in enumerate(BUCKETS)}
    frame = frame.sort_values(keys + ["bucket"], key=lambda s: s.map(order)
                              if s.name == "bucket" else s, kind="stable").reset_index(drop=True)
    return KPITable(frame, "aging", keys, from_day(day))


def monthly_trends_engine(
    warehouse: Warehouse,
    as_of=None,
    start=None,
    by: Sequence[str] | str | None = None,
    period_days: int = 90,
    horizon_days: int = 90,
    include_escalated: bool = True,
    allow_future: bool | None = None,
    max_months: int = 24,
) -> KPITable:
    """:func:`~collections_lab.analytics.kpis.monthly_trends` computed in the engine: one
    query of per-group sums per month end (and ``as_of``), one of daily sales, one of
    at-risk sums per issue month; same columns and values."""
    by = [by] if isinstance(by, str) else list(by or [])
    last = warehouse.data_end()
    if as_of is None:
        day = to_day(last)
    else:
        day = _day_of(as_of, "as_of")
        check_as_of(SimpleNamespace(last_date=last, observed_until=None), from_day(day),
                    "as_of", allow_future)
    inv, pay, keys = _prepared(warehouse, by, include_escalated)
    first_issue = warehouse.con.execute(inv.issue_day.min())
    first = to_day(start, "start") if start is not None else int(first_issue)
    if first > day:
        raise ValueError(f"start {from_day(first).date()} is after as_of {from_day(day).date()}")
    n_in = int(warehouse.con.execute(inv.filter((inv.issue_day <= day)
                                                & (inv.issue_day >= month_start(first))).count()))
    if not n_in:
        raise NoInvoicesError(
            f"no invoice issued between {from_day(first).date()} and {from_day(day).date()}")
    ends = pd.date_range(from_day(first), from_day(day), freq="ME")
    points = [to_day(e) for e in ends]
    if not points or points[-1] != day:
        points.append(day)
    daily = _daily_sales(warehouse, inv, keys, day)
    risk = _at_risk(_risk_sums(warehouse, inv, pay, keys, day, horizon_days), day,
                    horizon_days)
    frames = []
    groups = None
    for point in points:
        begin = month_start(point) - 1
        sums = _point_sums(warehouse, inv, pay, keys, point, begin, period_days)
        groups = sums[keys] if groups is None else groups
        amounts = sums[[f"amount_{i}" for i in range(len(BUCKETS))]].to_numpy(dtype=float)
        counts = sums[[f"count_{i}" for i in range(len(BUCKETS))]].to_numpy()
        ar = amounts.sum(axis=1)
        sales = sums["sales"].to_numpy(dtype=float)
        invoiced = sums["sales_cei"].to_numpy(dtype=float)
        begin_ar, end_ar = sums["begin_ar"].to_numpy(float), sums["end_ar"].to_numpy(float)
        frame = sums[keys].copy()
        frame["month"] = from_day(month_start(point))
        frame["date"] = from_day(point)
        frame["open_invoices"] = counts.sum(axis=1)
        frame["receivables"] = ar
        for b, (label, _, _) in enumerate(BUCKETS):
            frame[f"amount_{label}"] = amounts[:, b]
        frame["overdue_share"] = safe_divide(ar - amounts[:, 0], ar)
        frame["invoiced"] = invoiced
        frame["collected"] = sums["collected"].to_numpy(dtype=float)
        frame["dso"] = safe_divide(ar, sales) * period_days
        frame["dso_countback"] = countback_dso(_daily_ledger(daily, frame, keys), point, ar,
                                               max_months)
        frame["add"] = safe_divide(ar - amounts[:, 0], sales) * period_days
        frame["cei"] = 100 * safe_divide(
            begin_ar + invoiced - end_ar,
            begin_ar + invoiced - sums["end_current_ar"].to_numpy(float))
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.merge(risk[keys + ["month", "at_risk_rate"]], on=keys + ["month"],
                        how="left")
    frame = frame.sort_values(keys + ["date"], kind="stable").reset_index(drop=True)
    return KPITable(frame, "monthly_trends", keys, from_day(day))
