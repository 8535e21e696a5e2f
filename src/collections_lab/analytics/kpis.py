"""Receivables KPIs as of any date: aging, DSO (standard and countback), CEI, ADD, at-risk rate.

Every function takes a Portfolio (or a prebuilt
:class:`~collections_lab.analytics.ledger.Ledger`, to share the work between calls; see
:func:`kpi_report`). All KPIs are computed from the invoices and payments dated on or before ``as_of`` (see
:class:`~collections_lab.analytics.ledger.Ledger`); ``as_of`` is an ISO date (see
:func:`~collections_lab.data.dates.parse_date`: ``01/05/2026`` is refused as ambiguous)
and a date more than a month after the data's last date is refused unless
``allow_future=True``. Results are per ``currency`` and any ``by``
columns (``segment``, ``country``, ...). Amounts are never summed across currencies: pass
``conversion={"EUR": 1.0, "USD": 0.92}`` for a converted total, or ``total=True`` on a
single-currency portfolio.

Definitions (AR = open receivables at the end of a day, P = period in days, default 90)

- **Aging** at ``as_of``: open invoices by days past due ``as_of - due_date``:
  current (≤ 0), 1–30, 31–60, 61–90, 90+ (> 90); count and open amount.
- **DSO, standard**: ``AR(as_of) / sales(as_of - P, as_of] × P``.
- **DSO, countback**: walk back from ``as_of`` through calendar months (the current month
  counts its days up to ``as_of``), subtracting each month's sales from AR; DSO is the
  days of the months fully absorbed plus ``days × remaining / sales`` of the month
  where AR runs out.
- **BPDSO** (best possible DSO): ``current AR / sales × P``.
- **ADD** (average days delinquent): ``DSO − BPDSO = overdue AR / sales × P``.
- **CEI** over ``(start, end]``: ``(B + S − E) / (B + S − E_current) × 100`` with B the AR
  at ``start``, S the sales in the period, E the AR at ``end`` and E_current the part of
  E not yet due. Write-offs leave AR, so they count as resolved, as in the usual formula.
- Escalated invoices stay receivable (still owed) unless ``include_escalated=False``,
  which takes them out on their escalation date like a write-off.
- **At-risk rate** of an issue month: ``Σ unpaid 90 days after each invoice's issue date /
  Σ invoiced`` for the month's invoices (write-offs count as unpaid); only for months
  whose last invoice has had 90 days by ``as_of`` (else NaN).

Example
-------
>>> import pandas as pd
>>> from collections_lab.data.portfolio import Portfolio
>>> inv = pd.DataFrame({"invoice_id": ["a", "b"], "customer_id": ["c", "c"],
...     "issue_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
...     "due_date": pd.to_datetime(["2025-01-31", "2025-03-03"]),
...     "amount": [100.0, 300.0], "currency": ["EUR", "EUR"]})
>>> p = Portfolio(pd.DataFrame({"customer_id": ["c"]}), inv)
>>> aging(p, "2025-02-15").to_frame()[["bucket", "count", "amount"]].values.tolist()[:2]
[['current', 1, 300.0], ['1-30', 1, 100.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.dates import check_as_of
from ..i18n import ResultMixin, format_money, format_number, format_pct, has, resolve, t
from .ledger import (
    Ledger,
    MixedCurrencyError,
    NoInvoicesError,
    from_day,
    to_day,
)

__all__ = [
    "BUCKETS",
    "KPITable",
    "MixedCurrencyError",
    "NoInvoicesError",
    "aging",
    "at_risk_rate",
    "cei",
    "dso",
    "kpi_report",
    "kpi_snapshot",
    "monthly_trends",
]

#: Aging buckets by days past due: (label, lowest day, highest day) inclusive.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("current", -(10**9), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, 10**9),
)
_BUCKET_KEYS = {"current": "bucket_current", "1-30": "bucket_1_30", "31-60": "bucket_31_60",
                "61-90": "bucket_61_90", "90+": "bucket_90_plus"}
_EDGES = np.array([0, 30, 60, 90])


def bucket_label(bucket: str, lang: str = "en") -> str:
    """Translated label of an aging bucket (``"90+"`` -> ``"90+ days"``/``"más de 90 días"``)."""
    return t(_BUCKET_KEYS[bucket], lang)


@dataclass
class KPITable(ResultMixin):
    """A KPI result: a tidy frame with the group keys, the date(s) and the KPI columns.

    ``kpi`` names what the table holds, ``keys`` the grouping columns (``currency``
    first), ``as_of`` the analysis date.
    """

    frame: pd.DataFrame
    kpi: str
    keys: list[str]
    as_of: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:  # type: ignore[override]
        """What the table holds and its date, in the context's language ("KPI snapshot as
        of 2026-05-31"; an unknown ``kpi`` is shown as its code)."""
        key = f"kpi.title_{self.kpi}"
        name = t(key) if has(key) else self.kpi
        return t("kpi.title", name=name, date=self.as_of.date().isoformat())

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self, lang: str | None = None) -> str:
        return _summarise(self, resolve(lang)[0])


def _ledger(portfolio, by, conversion, reporting_currency, total,
            include_escalated: bool = True) -> Ledger:
    if isinstance(portfolio, Ledger):
        if by or conversion is not None or total or not include_escalated:
            raise ValueError("a prebuilt Ledger already fixes grouping and currency "
                             "conversion: pass by/conversion/total to Ledger.build instead")
        return portfolio
    return Ledger.build(portfolio, by=by, conversion=conversion,
                        reporting_currency=reporting_currency, total=total,
                        include_escalated=include_escalated)


def _as_of_day(led: Ledger, value, name: str = "as_of",
               allow_future: bool | None = None) -> int:
    """``value`` parsed as a date (:func:`~collections_lab.data.dates.parse_date`) and
    refused when after the data's last date unless ``allow_future``; as a day number."""
    day = to_day(value, name)
    if led.limits is not None:
        check_as_of(led.limits, from_day(day), name, allow_future)
    return day


def _require_invoices(led: Ledger, day: int) -> None:
    if not (led.issue <= day).any():
        first = from_day(led.issue.min()).date()
        raise NoInvoicesError(
            f"no invoice was issued on or before {from_day(day).date()} "
            f"(the first invoice is dated {first}): choose a later as_of"
        )


def _with_keys(led: Ledger, data: dict) -> pd.DataFrame:
    frame = led.groups.copy()
    for name, values in data.items():
        frame[name] = values
    return frame


# -- core computations on a ledger (arrays per group) ------------------------------------
def _aging_arrays(led: Ledger, day: int, balance: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(counts, amounts), each groups × 5 buckets, of invoices open at ``day``."""
    balance = led.balance_at(day) if balance is None else balance
    open_ = balance > 0
    bucket = np.searchsorted(_EDGES, day - led.due[open_], side="left")
    cell = led.group[open_] * len(BUCKETS) + bucket
    size = led.n_groups * len(BUCKETS)
    counts = np.bincount(cell, minlength=size).reshape(led.n_groups, len(BUCKETS))
    amounts = np.bincount(cell, weights=balance[open_], minlength=size).reshape(
        led.n_groups, len(BUCKETS))
    return counts, amounts


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _month_start(day: int) -> int:
    ts = from_day(day)
    return to_day(ts.replace(day=1))


def _countback_periods(day: int, max_months: int) -> np.ndarray:
    """Boundaries b0 = day > b1 > ...: period k is ``(b_{k+1}, b_k]`` (calendar months)."""
    bounds = [day]
    start = _month_start(day)
    for _ in range(max_months):
        bounds.append(start - 1)
        start = _month_start(start - 1)
    return np.array(bounds)


def _countback(led: Ledger, day: int, ar: np.ndarray, max_months: int) -> np.ndarray:
    bounds = _countback_periods(day, max_months)
    asc = bounds[::-1]  # ascending, len K+1
    k_periods = len(bounds) - 1
    pos = np.searchsorted(asc, led.issue, side="left")  # period index in ascending order
    inside = (led.issue > asc[0]) & (led.issue <= asc[-1])
    period = k_periods - pos[inside]  # 0 = current month
    cell = led.group[inside] * k_periods + period
    sales = np.bincount(cell, weights=led.amount[inside],
                        minlength=led.n_groups * k_periods).reshape(led.n_groups, k_periods)
    days = (bounds[:-1] - bounds[1:]).astype(float)
    cum = np.cumsum(sales, axis=1)
    reached = cum >= ar[:, None] - 1e-9
    found = reached.any(axis=1)
    k = np.where(found, reached.argmax(axis=1), 0)
    rows = np.arange(led.n_groups)
    before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    full_days = np.concatenate([[0.0], np.cumsum(days)])[k]
    part = _divide(ar - before, sales[rows, k]) * days[k]
    out = full_days + np.nan_to_num(part)
    out[~found] = np.nan
    out[ar <= 0] = 0.0
    return out


def _cei_arrays(led: Ledger, start: int, end: int, balances: dict | None = None
                ) -> dict[str, np.ndarray]:
    """CEI parts per group; ``balances`` caches ``balance_at`` per day between calls."""
    balances = {} if balances is None else balances
    for day in (start, end):
        if day not in balances:
            balances[day] = led.balance_at(day)
    begin = led.group_sum(balances[start])
    bal_end = balances[end]
    ending = led.group_sum(bal_end)
    ending_current = led.group_sum(bal_end, led.due >= end)
    sales = led.sales_between(start, end)
    cei = 100 * _divide(begin + sales - ending, begin + sales - ending_current)
    return {"begin_ar": begin, "sales": sales, "end_ar": ending,
            "end_current_ar": ending_current, "cei": cei}


def _snapshot_arrays(led: Ledger, day: int, period_days: int, max_months: int) -> dict:
    counts, amounts = _aging_arrays(led, day)
    ar = amounts.sum(axis=1)
    current = amounts[:, 0]
    overdue = ar - current
    sales = led.sales_between(day - period_days, day)
    cei = _cei_arrays(led, day - period_days, day)["cei"]
    balance_weighted_dpd = _weighted_days_past_due(led, day)
    return {
        "open_invoices": counts.sum(axis=1),
        "receivables": ar,
        "overdue": overdue,
        "overdue_share": _divide(overdue, ar),
        "sales_period": sales,
        "dso": _divide(ar, sales) * period_days,
        "dso_countback": _countback(led, day, ar, max_months),
        "bpdso": _divide(current, sales) * period_days,
        "add": _divide(overdue, sales) * period_days,
        "weighted_days_past_due": balance_weighted_dpd,
        "cei": cei,
    }


def _weighted_days_past_due(led: Ledger, day: int) -> np.ndarray:
    balance = led.balance_at(day)
    late = (balance > 0) & (led.due < day)
    dpd = (day - led.due).astype(float)
    return _divide(led.group_sum(balance * dpd, late), led.group_sum(balance, late))


# -- public API --------------------------------------------------------------------------
def aging(
    portfolio,
    as_of,
    by: Sequence[str] | str | None = None,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
) -> KPITable:
    """Aging of open receivables at ``as_of``: count and open amount per bucket.

    Buckets by days past due ``as_of - due_date``: current (≤ 0), 1–30, 31–60, 61–90,
    90+ (> 90). Amounts in each currency (or converted with ``conversion``). The
    ``share`` column is the bucket's part of the group's open amount.

    Example: an invoice of 100 due 2025-01-31, unpaid on 2025-02-15, is 15 days past due:
    bucket ``1-30``, amount 100.

    Example:
        >>> table = cl.aging(portfolio, "2025-09-30").to_frame()
        >>> table.query("currency == 'EUR'")[["bucket", "count"]].values.tolist()
        [['current', 0], ['1-30', 0], ['31-60', 0], ['61-90', 0], ['90+', 6]]
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    day = _as_of_day(led, as_of, allow_future=allow_future)
    _require_invoices(led, day)
    counts, amounts = _aging_arrays(led, day)
    totals = amounts.sum(axis=1, keepdims=True)
    rows = []
    for b, (label, _, _) in enumerate(BUCKETS):
        part = led.groups.copy()
        part["bucket"] = label
        part["count"] = counts[:, b]
        part["amount"] = amounts[:, b]
        part["share"] = _divide(amounts[:, b], totals[:, 0])
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    order = {label: i for i, (label, _, _) in enumerate(BUCKETS)}
    frame = frame.sort_values(led.keys + ["bucket"], key=lambda s: s.map(order)
                              if s.name == "bucket" else s, kind="stable").reset_index(drop=True)
    return KPITable(frame, "aging", led.keys, from_day(day))


def dso(
    portfolio,
    as_of,
    period_days: int = 90,
    by: Sequence[str] | str | None = None,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
    max_months: int = 24,
) -> KPITable:
    """Days sales outstanding at ``as_of`` by the standard and the countback methods (days).

    - standard: ``AR / sales over the last period_days × period_days``
      (e.g. AR 400, sales 1200 in 90 days -> 30 days);
    - countback: AR absorbed month by month backwards (e.g. on 2025-03-31, AR 400, March
      sales 300, February sales 200 -> 31 + 28 × 100/200 = 45 days);
    - ``bpdso`` (current AR only) and ``add`` = DSO − BPDSO (average days delinquent).

    DSO is NaN where the period has no sales (undefined), and countback is NaN when AR
    exceeds ``max_months`` months of sales.

    Example:
        >>> cl.dso(portfolio, "2025-09-30").to_frame().columns.tolist()
        ['currency', 'receivables', 'overdue', 'sales_period', 'dso', 'dso_countback',
        'bpdso', 'add']
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    day = _as_of_day(led, as_of, allow_future=allow_future)
    _require_invoices(led, day)
    arrays = _snapshot_arrays(led, day, period_days, max_months)
    cols = ["receivables", "overdue", "sales_period", "dso", "dso_countback", "bpdso", "add"]
    frame = _with_keys(led, {c: arrays[c] for c in cols})
    notes = []
    if np.isnan(arrays["dso"]).any():
        notes.append(f"DSO is undefined (NaN) where nothing was invoiced in the last "
                     f"{period_days} days")
    return KPITable(frame, "dso", led.keys, from_day(day), notes)


def cei(
    portfolio,
    start,
    end,
    by: Sequence[str] | str | None = None,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
) -> KPITable:
    """Collection effectiveness index over the period ``(start, end]`` (percent).

    ``CEI = (B + S − E) / (B + S − E_current) × 100``: B receivables at ``start``, S sales
    in the period, E receivables at ``end``, E_current the part of E not yet due. 100 means
    everything collectable was collected. Example: B 100 (overdue), S 200 (due after end),
    E 250 of which 200 current -> (100 + 200 − 250) / (100 + 200 − 200) = 50%.
    NaN when the denominator is zero (nothing was collectable).

    Example:
        >>> table = cl.cei(portfolio, "2025-04-01", "2025-06-30").to_frame()
        >>> sorted(table["currency"])
        ['COP', 'EUR', 'MXN', 'USD']
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    s, e = to_day(start, "start"), _as_of_day(led, end, "end", allow_future)
    if e <= s:
        raise ValueError(f"CEI period must end after it starts (start {start}, end {end})")
    _require_invoices(led, e)
    frame = _with_keys(led, _cei_arrays(led, s, e))
    frame.insert(len(led.keys), "start", from_day(s))
    return KPITable(frame, "cei", led.keys, from_day(e))


def at_risk_rate(
    portfolio,
    as_of,
    horizon_days: int = 90,
    by: Sequence[str] | str | None = None,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
) -> KPITable:
    """Share of each issue month's invoiced amount still unpaid ``horizon_days`` later.

    ``rate = Σ_i unpaid_i(issue_i + horizon) / Σ_i amount_i`` over the month's invoices;
    write-offs count as unpaid. ``complete`` is True when the month's last day plus the
    horizon is on or before ``as_of``; incomplete months have ``at_risk_rate`` NaN.
    Example: January invoices 100 (paid day 20) and 300 (half paid day 95) -> 300/400.

    Example:
        >>> table = cl.at_risk_rate(portfolio, "2025-06-30").to_frame()
        >>> table[["currency", "at_risk_rate"]].round(3).values.tolist()
        [['COP', 0.001], ['COP', 0.039], ['COP', 0.0], ['COP', nan], ['COP', nan],
        ['COP', nan], ['EUR', 0.072], ['EUR', 0.053], ['EUR', 0.012], ['EUR', nan],
        ['EUR', nan], ['EUR', nan], ['MXN', 0.088], ['MXN', 0.047], ['MXN', 0.021],
        ['MXN', nan], ['MXN', nan], ['MXN', nan], ['USD', 0.123], ['USD', 0.078],
        ['USD', 0.002], ['USD', nan], ['USD', nan], ['USD', nan]]
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    day = _as_of_day(led, as_of, allow_future=allow_future)
    _require_invoices(led, day)
    return KPITable(_at_risk_frame(led, day, horizon_days), "at_risk_rate", led.keys,
                    from_day(day))


def _at_risk_frame(led: Ledger, day: int, horizon_days: int) -> pd.DataFrame:
    issued = led.issue <= day
    month = pd.DatetimeIndex(from_day(0) + pd.to_timedelta(led.issue[issued], unit="D"))
    month = month.to_period("M")
    unpaid = led.remaining(led.settled_within(horizon_days, until=day))[issued]
    frame = pd.DataFrame({"_g": led.group[issued], "month": month,
                          "amount": led.amount[issued], "unpaid": unpaid})
    agg = frame.groupby(["_g", "month"], sort=True).agg(
        n_invoices=("amount", "size"), invoiced=("amount", "sum"),
        unpaid_after=("unpaid", "sum")).reset_index()
    month_end = agg["month"].dt.end_time.dt.normalize()
    agg["complete"] = (month_end + pd.Timedelta(days=horizon_days)) <= from_day(day)
    agg["at_risk_rate"] = np.where(agg["complete"], agg["unpaid_after"] / agg["invoiced"],
                                   np.nan)
    agg["month"] = agg["month"].dt.to_timestamp()
    keys = led.groups.iloc[agg["_g"].to_numpy()].reset_index(drop=True)
    return pd.concat([keys, agg.drop(columns="_g")], axis=1)


def kpi_snapshot(
    portfolio,
    as_of,
    by: Sequence[str] | str | None = None,
    period_days: int = 90,
    horizon_days: int = 90,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
    max_months: int = 24,
) -> KPITable:
    """Every KPI at ``as_of`` in one row per group (currency × ``by``).

    Columns: open_invoices, receivables, overdue, overdue_share, sales_period, dso,
    dso_countback, bpdso, add, weighted_days_past_due (open overdue balance-weighted
    days past due), cei (over the last ``period_days``), at_risk_rate and at_risk_month
    (latest complete issue month). See the module docstring for each formula.

    Example:
        >>> snapshot = cl.kpi_snapshot(portfolio, "2025-09-30")
        >>> print(snapshot.summary())
        As of 2025-09-30: COP: receivables COP 346,798,522, 100.0% overdue; DSO – days
        (countback 96.7); CEI 88.4%; average days delinquent –; EUR: receivables EUR
        67,250.59, 100.0% overdue; DSO – days (countback 99.1); CEI 82.7%; average days
        delinquent –; MXN: receivables MXN 1,359,495.59, 100.0% overdue; DSO – days
        (countback 97.0); CEI 89.4%; average days delinquent –; USD: receivables USD
        3,388.21, 100.0% overdue; DSO – days (countback 92.6); CEI 98.4%; average days
        delinquent –.
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    day = _as_of_day(led, as_of, allow_future=allow_future)
    _require_invoices(led, day)
    frame = _with_keys(led, _snapshot_arrays(led, day, period_days, max_months))
    risk = _at_risk_frame(led, day, horizon_days)
    risk = risk.loc[risk["complete"]]
    frame["at_risk_rate"] = np.nan
    frame["at_risk_month"] = pd.NaT
    if len(risk):
        latest = risk.sort_values("month").groupby(led.keys, dropna=False).tail(1)
        merged = frame[led.keys].merge(latest[led.keys + ["month", "at_risk_rate"]],
                                       on=led.keys, how="left")
        frame["at_risk_rate"] = merged["at_risk_rate"].to_numpy()
        frame["at_risk_month"] = merged["month"].to_numpy()
    notes = []
    if frame["dso"].isna().any():
        notes.append(f"DSO undefined where nothing was invoiced in the last {period_days} days")
    return KPITable(frame, "kpi_snapshot", led.keys, from_day(day), notes)


def monthly_trends(
    portfolio,
    as_of=None,
    start=None,
    by: Sequence[str] | str | None = None,
    period_days: int = 90,
    horizon_days: int = 90,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
    max_months: int = 24,
) -> KPITable:
    """KPIs at each month end from ``start`` to ``as_of`` (the last point is ``as_of``).

    One row per group and month: receivables, aging amounts (``amount_current`` ...
    ``amount_90+``), overdue_share, invoiced and collected in the month (collected =
    settled amount dated in the month), dso, dso_countback, add, cei of the month, and the
    at-risk rate of the month's invoices (NaN until ``horizon_days`` have passed).
    ``as_of`` defaults to the portfolio's last date, ``start`` to its first issue month.

    Example:
        >>> trends = cl.monthly_trends(portfolio, "2025-09-30").to_frame()
        >>> trends["currency"].nunique(), "dso" in trends
        (4, True)
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    day = (to_day(led.limits.last_date) if as_of is None
           else _as_of_day(led, as_of, allow_future=allow_future))
    first = to_day(start, "start") if start is not None else int(led.issue.min())
    if first > day:
        raise ValueError(f"start {from_day(first).date()} is after as_of {from_day(day).date()}")
    if not ((led.issue <= day) & (led.issue >= _month_start(first))).any():
        raise NoInvoicesError(
            f"no invoice issued between {from_day(first).date()} and {from_day(day).date()}"
        )
    ends = pd.date_range(from_day(first), from_day(day), freq="ME")
    points = [to_day(e) for e in ends]
    if not points or points[-1] != day:
        points.append(day)
    risk = _at_risk_frame(led, day, horizon_days)
    pay_group = led.group[led.pay_invoice] if len(led.pay_invoice) else np.zeros(0, int)
    frames = []
    balances: dict[int, np.ndarray] = {}
    for point in points:
        month_begin = _month_start(point) - 1
        balances = {d: b for d, b in balances.items() if d >= month_begin}  # bounded memory
        balances[point] = led.balance_at(point)
        counts, amounts = _aging_arrays(led, point, balances[point])
        ar = amounts.sum(axis=1)
        sales = led.sales_between(point - period_days, point)
        in_month = (led.pay_day > month_begin) & (led.pay_day <= point)
        data = {
            "month": from_day(_month_start(point)),
            "date": from_day(point),
            "open_invoices": counts.sum(axis=1),
            "receivables": ar,
        }
        for b, (label, _, _) in enumerate(BUCKETS):
            data[f"amount_{label}"] = amounts[:, b]
        data.update({
            "overdue_share": _divide(ar - amounts[:, 0], ar),
            "invoiced": led.sales_between(month_begin, point),
            "collected": np.bincount(pay_group[in_month], weights=led.pay_settled[in_month],
                                     minlength=led.n_groups),
            "dso": _divide(ar, sales) * period_days,
            "dso_countback": _countback(led, point, ar, max_months),
            "add": _divide(ar - amounts[:, 0], sales) * period_days,
            "cei": _cei_arrays(led, month_begin, point, balances)["cei"],
        })
        frames.append(_with_keys(led, data))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.merge(risk[led.keys + ["month", "at_risk_rate"]], on=led.keys + ["month"],
                        how="left")
    frame = frame.sort_values(led.keys + ["date"], kind="stable").reset_index(drop=True)
    return KPITable(frame, "monthly_trends", led.keys, from_day(day))


# -- plain-language summaries -----------------------------------------------------------
def _group_name(row: pd.Series, keys: list[str]) -> str:
    return " / ".join(str(row[k]) for k in keys)


def _summarise(result: KPITable, lang: str) -> str:
    frame = result.frame
    date = result.as_of.date().isoformat()
    if result.kpi in ("kpi_snapshot", "dso") and "dso" in frame:
        parts = []
        for _, row in frame.iterrows():
            parts.append(t(
                "kpi.snapshot_group", lang,
                group=_group_name(row, result.keys),
                ar=format_money(row["receivables"], row["currency"], lang),
                overdue=format_pct(row.get("overdue_share", np.nan), 1, lang)
                if "overdue_share" in row else format_money(row["overdue"], row["currency"],
                                                            lang),
                dso=format_number(row["dso"], 1, lang),
                cb=format_number(row["dso_countback"], 1, lang),
                cei=format_pct(row.get("cei", np.nan) / 100, 1, lang),
                add=format_number(row["add"], 1, lang),
            ))
        return t("kpi.as_of", lang, date=date, parts="; ".join(parts))
    if result.kpi == "aging":
        late = frame.loc[frame["bucket"] == "90+"]
        others = [k for k in result.keys if k != "currency"]  # the money shows currency
        parts = [
            f"{_group_name(r, others)} {format_money(r['amount'], r['currency'], lang)}".strip()
            for _, r in late.iterrows()
        ]
        return t("kpi.aging_90", lang, date=date, parts=", ".join(parts))
    return t("kpi.rows", lang, kpi=result.kpi, n=len(frame), date=date)


def kpi_report(
    portfolio,
    as_of,
    by: Sequence[str] | str | None = None,
    start=None,
    period_days: int = 90,
    horizon_days: int = 90,
    conversion: Mapping[str, float] | None = None,
    reporting_currency: str | None = None,
    total: bool = False,
    include_escalated: bool = True,
    allow_future: bool | None = None,
) -> dict[str, KPITable]:
    """All KPI tables at once from one ledger: ``snapshot``, ``aging``, ``at_risk``, ``trends``.

    Same definitions and arguments as :func:`kpi_snapshot`, :func:`aging`,
    :func:`at_risk_rate` and :func:`monthly_trends`; building the ledger once saves most
    of the time on large portfolios (see ``benchmarks/RESULTS.md``).

    Example:
        >>> report = cl.kpi_report(portfolio, "2025-09-30")
        >>> sorted(report)
        ['aging', 'at_risk', 'snapshot', 'trends']
    """
    led = _ledger(portfolio, by, conversion, reporting_currency, total, include_escalated)
    return {
        "snapshot": kpi_snapshot(led, as_of, period_days=period_days, horizon_days=horizon_days,
                                 allow_future=allow_future),
        "aging": aging(led, as_of, allow_future=allow_future),
        "at_risk": at_risk_rate(led, as_of, horizon_days=horizon_days,
                                allow_future=allow_future),
        "trends": monthly_trends(led, as_of=as_of, start=start, period_days=period_days,
                                 horizon_days=horizon_days, allow_future=allow_future),
    }


#: The countback DSO and the NaN-safe division, public for the engine path
#: (:mod:`collections_lab.analytics.warehouse`), which runs them on engine aggregates.
countback_dso = _countback
safe_divide = _divide
month_start = _month_start
