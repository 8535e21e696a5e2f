"""Receivables KPIs computed inside the engine (Ibis): only per-group sums come back.

The same definitions as :mod:`collections_lab.analytics.kpis` (see its docstring: aging
buckets, DSO standard and countback, BPDSO, ADD, CEI, balance-weighted days past due,
at-risk rate), evaluated on a :class:`~collections_lab.data.warehouse.Warehouse`: the
engine reduces the invoices and payments to a few sums per group (currency plus any
``by`` columns) and day: open balances at the days asked for (each invoice cut into
segments of constant balance, range-joined to a calendar: one query for all month ends),
sales and settlements per day, unpaid amounts per issue day for the at-risk rate; the
formulas then run on those small tables in pandas. Amounts stay per currency
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
from ..data.warehouse import Warehouse, WarehouseError, day_number
from .kpis import BUCKETS, KPITable, countback_dso, month_start, safe_divide
from .ledger import NoInvoicesError, from_day, to_day

__all__ = ["aging_engine", "kpi_snapshot_engine", "monthly_trends_engine"]

def _ibis():
    import ibis

    return ibis


def _keyed_invoices(wh: Warehouse, by: list[str]):
    """Invoices with day numbers, the leaves-AR day and the group key columns."""
    ibis = _ibis()
    inv = wh.tables["invoices"]
    if "currency" not in inv.columns:
        raise WarehouseError("invoices lack a currency column: KPIs are per currency")
    never = ibis.literal(2**40, "int64")
    gone = (day_number(inv.written_off_at).fill_null(never) if "written_off_at" in inv.columns
            else never)
    t = inv.mutate(issue_day=day_number(inv.issue_date), due_day=day_number(inv.due_date),
                   amount=inv.amount.cast("float64"), gone_day=gone,
                   currency=inv.currency.cast("string"))
    if "escalated_at" in inv.columns:
        t = t.mutate(escalated_day=day_number(inv.escalated_at).fill_null(never))
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


def _settlements(wh: Warehouse):
    """Payments as (invoice_id, paid_day, settled)."""
    pay = wh.tables["payments"]
    fee = pay.fee.fill_null(0.0) if "fee" in pay.columns else 0.0
    disc = pay.discount.fill_null(0.0) if "discount" in pay.columns else 0.0
    return pay.select("invoice_id", paid_day=day_number(pay.paid_at),
                      settled=pay.amount.cast("float64") - fee + disc)


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
    return inv, _settlements(wh), keys


def _segments(wh: Warehouse, inv, pay, keys: list[str], last: int):
    """Each invoice issued by ``last`` as segments ``[frm, to)`` of constant open balance
    ``bal`` > 0 (payments after ``last`` ignored): from its issue to its first payment day,
    then from each payment day to the next (a running sum of its settlements per day).
    Kept in the engine when the warehouse keeps intermediates (the snapshot, the trends
    and the at-risk sums read the same segments)."""
    ibis = _ibis()
    never = ibis.literal(2**40, "int64")
    daily = pay.filter(pay.paid_day <= last).group_by(["invoice_id", "paid_day"]).aggregate(
        s=pay.settled.sum())
    t = inv.filter(inv.issue_day <= last).select("invoice_id", "issue_day", "due_day",
                                                 "amount", "gone_day", *keys)
    j = t.left_join(daily, "invoice_id").drop("invoice_id_right")
    w = ibis.window(group_by=j.invoice_id, order_by=j.paid_day, rows=(None, 0))
    j = j.mutate(cum=j.s.fill_null(0.0).sum().over(w),
                 nxt=j.paid_day.lead().over(group_by=j.invoice_id, order_by=j.paid_day),
                 first=ibis.row_number().over(group_by=j.invoice_id, order_by=j.paid_day))
    common = ["issue_day", "due_day", "gone_day", *keys]
    before = j.filter(j.first == 0).select(  # from issue to the first payment day
        *common, frm=j.issue_day, to=j.paid_day.fill_null(never),
        bal=_remaining(j.amount, ibis.literal(0.0)))
    after = j.filter(j.paid_day.notnull()).select(  # from each payment day to the next
        *common, frm=j.paid_day, to=j.nxt.fill_null(never), bal=_remaining(j.amount, j.cum))
    seg = before.union(after, distinct=False)
    seg = seg.filter(seg.bal > 0)
    if wh.keep_intermediates:
        seg = wh.keep(("kpi_segments", seg.op()), seg)
    return seg


def _balances(wh: Warehouse, inv, pay, keys: list[str], days) -> pd.DataFrame:
    """Per group and day of ``days``, in ONE query: the open invoices' count and balance
    per aging bucket, the balance not yet due, and the balance-weighted days past due
    parts (late_weighted, late_balance).

    Each invoice's balance is constant between its issue day, its payment days and the
    day it leaves the receivables, so the invoice becomes a few segments
    (:func:`_segments`), range-joined to the calendar of ``days``: only (invoice, day)
    pairs with an open balance exist, about one per invoice and month it stays open,
    instead of one query per day over every invoice.
    """
    ibis = _ibis()
    days = sorted({int(d) for d in days})
    seg = _segments(wh, inv, pay, keys, days[-1])
    cal = ibis.memtable(pd.DataFrame({"p": np.array(days, dtype="int64")}))
    x = seg.cross_join(cal)
    x = x.filter((ibis.greatest(x.frm, x.issue_day) <= x.p)
                 & (x.p < ibis.least(x.to, x.gone_day)))
    x = x.mutate(dpd=x.p - x.due_day)
    bucket = ibis.cases(*[(x.dpd <= hi, i) for i, (_, _, hi) in enumerate(BUCKETS[:-1])],
                        else_=len(BUCKETS) - 1)
    x = x.mutate(bucket=bucket)
    aggs = {}
    for i, _ in enumerate(BUCKETS):
        aggs[f"count_{i}"] = ibis.ifelse(x.bucket == i, 1, 0).sum()
        aggs[f"amount_{i}"] = ibis.ifelse(x.bucket == i, x.bal, 0.0).sum()
    late = x.due_day < x.p
    aggs.update(end_current_ar=ibis.ifelse(x.due_day >= x.p, x.bal, 0.0).sum(),
                late_weighted=ibis.ifelse(late, x.bal * x.dpd.cast("float64"), 0.0).sum(),
                late_balance=ibis.ifelse(late, x.bal, 0.0).sum())
    return wh.fetch(x.group_by([*keys, "p"]).aggregate(**aggs))


def _flows(wh: Warehouse, inv, pay, keys: list[str]):
    """(sales per group and issue day with invoice counts, settlements per group and
    payment day), each one query, kept on the warehouse for later calls. A payment on an
    unknown invoice is an error, as in the pandas ledger (cash is never lost silently)."""
    ibis = _ibis()

    def sales():
        return wh.fetch(inv.group_by([*keys, "issue_day"]).aggregate(
            sales=inv.amount.sum(), n=inv.count().cast("int64")))

    def collected():
        look = inv.select("invoice_id", *keys, _known=ibis.literal(1, "int64"))
        j = pay.left_join(look, "invoice_id").drop("invoice_id_right")
        return wh.fetch(j.group_by([*keys, "paid_day", "_known"]).aggregate(
            collected=j.settled.sum(), n=j.count().cast("int64")))

    tag = ",".join(keys)
    daily = wh.cached(f"kpi_sales[{tag}]", sales)
    cash = wh.cached(f"kpi_collected[{tag}]", collected)
    orphans = int(cash.loc[cash["_known"].isna(), "n"].sum())
    if orphans:
        raise WarehouseError(f"{orphans} payment(s) refer to invoices not in the invoices table; "
                             "fix the export rather than losing cash silently")
    return daily, cash


def _groups(daily: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Every group of the invoices (those with nothing issued yet included), sorted."""
    return (daily[keys].drop_duplicates().sort_values(keys, kind="stable")
            .reset_index(drop=True))


def _window_sum(frame: pd.DataFrame, groups: pd.DataFrame, keys: list[str], day_col: str,
                value: str, lo: int, hi: int) -> np.ndarray:
    """Per group of ``groups``: the sum of ``value`` over rows with lo < day_col <= hi."""
    part = frame.loc[(frame[day_col] > lo) & (frame[day_col] <= hi)]
    part = part.groupby(keys, dropna=False, sort=False)[value].sum().reset_index()
    merged = groups.merge(part, on=keys, how="left")
    return merged[value].fillna(0).to_numpy()


def _point_frames(wh: Warehouse, inv, pay, keys: list[str], pairs, period_days: int):
    """Per (day, start) of ``pairs``: the per-group sums the KPIs read (aging counts and
    amounts, AR, sales of the last ``period_days``, the CEI parts over ``(start, day]``,
    cash settled in ``(start, day]``, balance-weighted days past due), sorted by keys.
    One balance query for every day and start, the flows from :func:`_flows`."""
    daily, cash = _flows(wh, inv, pay, keys)
    groups = _groups(daily, keys)
    cash = cash.loc[cash["_known"].notna()]
    bal = _balances(wh, inv, pay, keys, [d for pair in pairs for d in pair])
    cols = [f"count_{i}" for i in range(len(BUCKETS))]
    out = []
    for day, start in pairs:
        sums = groups.copy()
        at = groups.merge(bal.loc[bal["p"] == day], on=keys, how="left")
        for col in cols:
            sums[col] = at[col].fillna(0).to_numpy().astype("int64")
        for i in range(len(BUCKETS)):
            sums[f"amount_{i}"] = at[f"amount_{i}"].fillna(0.0).to_numpy(dtype=float)
        sums["sales"] = _window_sum(daily, groups, keys, "issue_day", "sales",
                                    day - period_days, day)
        sums["sales_cei"] = _window_sum(daily, groups, keys, "issue_day", "sales", start, day)
        begin = groups.merge(bal.loc[bal["p"] == start], on=keys, how="left")
        amounts = [f"amount_{i}" for i in range(len(BUCKETS))]
        sums["begin_ar"] = begin[amounts].fillna(0.0).to_numpy(dtype=float).sum(axis=1)
        sums["end_ar"] = sums[amounts].to_numpy(dtype=float).sum(axis=1)
        for col in ("end_current_ar", "late_weighted", "late_balance"):
            sums[col] = at[col].fillna(0.0).to_numpy(dtype=float)
        sums["collected"] = _window_sum(cash, groups, keys, "paid_day", "collected", start,
                                        day)
        sums["issued"] = _window_sum(daily, groups, keys, "issue_day", "n", -(2**62), day
                                     ).astype("int64")
        out.append(sums)
    return out, daily


def _risk_sums(wh: Warehouse, inv, pay, keys: list[str], day: int, horizon_days: int
               ) -> pd.DataFrame:
    """Per group and issue month: invoices, amount, and amount unpaid ``horizon_days``
    after each invoice's issue (payments after ``day`` ignored); kept on the warehouse.
    The unpaid amount is the open balance of the invoice's segment (:func:`_segments`)
    that contains its issue day + ``horizon_days``: no join of payments to invoices."""
    def compute():
        ibis = _ibis()
        seg = _segments(wh, inv, pay, keys, day)
        at = seg.issue_day + horizon_days
        seg = seg.filter((ibis.greatest(seg.frm, seg.issue_day) <= at) & (at < seg.to))
        unpaid = wh.fetch(seg.group_by([*keys, "issue_day"]).aggregate(
            unpaid_after=seg.bal.sum()))
        daily, _ = _flows(wh, inv, pay, keys)
        daily = daily.loc[daily["issue_day"] <= day]
        r = daily.merge(unpaid, on=[*keys, "issue_day"], how="left")
        r["unpaid_after"] = r["unpaid_after"].fillna(0.0)
        r["month"] = _dates(r["issue_day"]).astype("datetime64[M]").astype("datetime64[ns]")
        return (r.groupby([*keys, "month"], dropna=False, sort=False)
                .agg(n_invoices=("n", "sum"), invoiced=("sales", "sum"),
                     unpaid_after=("unpaid_after", "sum")).reset_index())

    return wh.cached(f"kpi_risk[{','.join(keys)}|{day}|{horizon_days}]", compute)


def _dates(days) -> np.ndarray:
    return np.asarray(days, dtype="int64").astype("datetime64[D]")


def _snapshot_sums(wh: Warehouse, day: int, period_days: int, by: list[str],
                   include_escalated: bool, horizon_days: int):
    """Per-group sums at ``day`` (aging, AR, CEI parts), daily sales and monthly at-risk
    sums, each a small pandas frame."""
    inv, pay, keys = _prepared(wh, by, include_escalated)
    (sums,), daily = _point_frames(wh, inv, pay, keys, [(day, day - period_days)],
                                   period_days)
    daily = daily.loc[daily["issue_day"] <= day]
    return sums, daily, _risk_sums(wh, inv, pay, keys, day, horizon_days), keys


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
    at_risk_rate, at_risk_month. Four small results come back: the balances per group
    at ``as_of`` and ``as_of − period_days`` (:func:`_balances`), the sales and the
    settlements per group and day, the unpaid amounts per group and issue day.
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
    query of balances per group at every month end (and ``as_of``) and the day before
    each month (:func:`_balances`), one of daily sales, one of daily settlements, one of
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
    daily, _ = _flows(warehouse, inv, pay, keys)
    first = (to_day(start, "start") if start is not None
             else int(daily["issue_day"].min()) if len(daily) else day + 1)
    if first > day:
        raise ValueError(f"start {from_day(first).date()} is after as_of {from_day(day).date()}")
    n_in = int(daily.loc[(daily["issue_day"] <= day)
                         & (daily["issue_day"] >= month_start(first)), "n"].sum())
    if not n_in:
        raise NoInvoicesError(
            f"no invoice issued between {from_day(first).date()} and {from_day(day).date()}")
    ends = pd.date_range(from_day(first), from_day(day), freq="ME")
    points = [to_day(e) for e in ends]
    if not points or points[-1] != day:
        points.append(day)
    risk = _at_risk(_risk_sums(warehouse, inv, pay, keys, day, horizon_days), day,
                    horizon_days)
    pairs = [(point, month_start(point) - 1) for point in points]
    all_sums, daily = _point_frames(warehouse, inv, pay, keys, pairs, period_days)
    daily = daily.loc[daily["issue_day"] <= day]
    frames = []
    for point, sums in zip(points, all_sums, strict=True):
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
