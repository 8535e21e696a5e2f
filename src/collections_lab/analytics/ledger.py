"""The receivables ledger: open balance of every invoice at any date, vectorised.

Every KPI in :mod:`collections_lab.analytics.kpis` needs "what was still owed on date t",
which the payment-times frame does not give (it keeps one end date per invoice). The
:class:`Ledger` rebuilds it from invoices and payments dated on or before ``t``:

    balance_i(t) = amount_i - Σ settled_p(t)   for invoices issued on or before t,

where a payment settles ``amount - fee + discount`` (fees are not part of the invoice,
an early-payment discount is), a remainder under
:data:`~collections_lab.data.schema.FULL_PAYMENT_TOLERANCE` × amount counts as zero, and a
balance written off on or before ``t`` is no longer a receivable. Escalated invoices stay
receivable (the money is still owed, an agency is chasing it).

Amounts are kept per currency: the group keys always include ``currency`` unless a
conversion table is given, so nothing is summed across currencies silently.

Example
-------
>>> import pandas as pd
>>> from collections_lab.data.portfolio import Portfolio
>>> inv = pd.DataFrame({"invoice_id": ["a"], "customer_id": ["c"],
...     "issue_date": pd.to_datetime(["2025-01-01"]), "due_date": pd.to_datetime(["2025-01-31"]),
...     "amount": [100.0], "currency": ["EUR"]})
>>> pay = pd.DataFrame({"invoice_id": ["a"], "paid_at": pd.to_datetime(["2025-02-10"]),
...     "amount": [40.0]})
>>> led = Ledger.build(Portfolio(pd.DataFrame({"customer_id": ["c"]}), inv, payments=pay))
>>> float(led.balance_at(to_day("2025-02-15"))[0])
60.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.dates import data_end, parse_date
from ..data.schema import FULL_PAYMENT_TOLERANCE

#: A day number far in the future: "never" for write-off dates.
NEVER = np.iinfo(np.int64).max // 2


class MixedCurrencyError(ValueError):
    """A single total across currencies was asked for without a conversion table."""


class NoInvoicesError(ValueError):
    """The requested date range holds no invoices: no KPI can be computed."""


def to_day(value, name: str = "date") -> int:
    """A date (ISO str, Timestamp; see :func:`~collections_lab.data.dates.parse_date`) as a
    day number (days since 1970-01-01); ``name`` is the parameter named in errors."""
    return int(parse_date(value, name).value // 86_400_000_000_000)


def from_day(day: int) -> pd.Timestamp:
    """The Timestamp of a day number (inverse of :func:`to_day`)."""
    return pd.Timestamp(int(day), unit="D")


def day_numbers(series: pd.Series, missing: int = NEVER) -> np.ndarray:
    """Dates of a Series as int64 day numbers; missing dates become ``missing``."""
    if not pd.api.types.is_datetime64_dtype(series):
        series = pd.to_datetime(series)  # (on datetimes it would box 500 values to decide on caching)
    values = np.asarray(series, dtype="datetime64[D]")
    out = values.astype(np.int64)
    out[np.isnat(values)] = missing
    return out


@dataclass(frozen=True)
class _Limits:
    last_date: pd.Timestamp
    observed_until: pd.Timestamp | None = None


def _last_date(portfolio) -> pd.Timestamp:
    last = getattr(portfolio, "last_date", None)
    if last is not None:
        return last
    return data_end(portfolio.invoices, getattr(portfolio, "payments", None),
                    getattr(portfolio, "reminders", None))


def _optional(frame: pd.DataFrame, column: str, default) -> pd.Series:
    if column in frame:
        return frame[column]
    return pd.Series(default, index=frame.index)


def convert_amounts(
    amount: np.ndarray, currency: np.ndarray, conversion: Mapping[str, float]
) -> np.ndarray:
    """Amounts times ``conversion[currency]``; a currency without a rate is an error."""
    present = pd.unique(currency)
    missing = sorted(str(c) for c in present if c not in conversion)
    if missing:
        raise ValueError(
            f"conversion table has no rate for {missing}; give a rate for every currency "
            f"in the data ({sorted(map(str, present))})"
        )
    rates = pd.Series(conversion, dtype=float)
    return amount * rates.reindex(currency).to_numpy()


def reporting_label(conversion: Mapping[str, float], reporting_currency: str | None) -> str:
    """Currency label of converted amounts: explicit, else the currency with rate 1."""
    if reporting_currency:
        return reporting_currency
    ones = [c for c, r in conversion.items() if r == 1.0]
    return ones[0] if len(ones) == 1 else "converted"


def _leaves_ar(inv: pd.DataFrame, include_escalated: bool) -> np.ndarray:
    """Day a balance stops being a receivable: write-off (or escalation when excluded)."""
    gone = day_numbers(_optional(inv, "written_off_at", pd.NaT))
    if not include_escalated:
        gone = np.minimum(gone, day_numbers(_optional(inv, "escalated_at", pd.NaT)))
    return gone


@dataclass
class Ledger:
    """Invoices and payments as arrays, with group codes, for fast as-of balances.

    Built with :meth:`Ledger.build`; attributes are aligned per invoice (``issue``,
    ``due``, ``written_off``, ``amount``, ``group``) or per payment sorted by day
    (``pay_invoice``, ``pay_day``, ``pay_settled``). ``groups`` has one row per group
    code with the key columns (``currency`` first).
    """

    invoices: pd.DataFrame
    keys: list[str]
    groups: pd.DataFrame
    group: np.ndarray
    issue: np.ndarray
    due: np.ndarray
    written_off: np.ndarray
    amount: np.ndarray
    pay_invoice: np.ndarray
    pay_day: np.ndarray
    pay_settled: np.ndarray
    #: The data's last date (``last_date``) and declared ``observed_until`` of the
    #: portfolio, for :func:`~collections_lab.data.dates.check_as_of`.
    limits: object = None

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @classmethod
    def build(
        cls,
        portfolio,
        by: Sequence[str] | str | None = None,
        conversion: Mapping[str, float] | None = None,
        reporting_currency: str | None = None,
        total: bool = False,
        include_escalated: bool = True,
    ) -> Ledger:
        """Arrays for the KPIs, grouped by ``currency`` plus the ``by`` columns.

        ``by`` names invoice columns or customer columns (``segment``, ``country``...).
        ``conversion`` maps currency -> rate into one reporting currency; then the
        ``currency`` key holds the reporting currency. ``total=True`` asks for one group
        over everything, which needs a single currency or a conversion table
        (:class:`MixedCurrencyError` otherwise). ``include_escalated=False`` takes
        balances handed to legal collection out of receivables on their escalation date
        (as a write-off), for teams whose AR excludes accounts placed with an agency.
        """
        inv = portfolio.invoices
        if inv is None or len(inv) == 0:
            raise NoInvoicesError("the portfolio has no invoices: nothing to analyse")
        missing = [c for c in ("invoice_id", "customer_id", "issue_date", "due_date", "amount",
                               "currency") if c not in inv]
        if missing:
            raise ValueError(f"invoices table lacks column(s) {missing}")
        if not inv["invoice_id"].is_unique:
            raise ValueError("invoice_id is not unique in the invoices table")
        by = [by] if isinstance(by, str) else list(by or [])
        if total and by:
            raise ValueError("total=True gives one group over everything: drop `by`")
        currency = inv["currency"].astype(str).to_numpy()
        amount = inv["amount"].to_numpy(dtype=float)
        if conversion is not None:
            amount = convert_amounts(amount, currency, conversion)
            currency = np.full(len(inv), reporting_label(conversion, reporting_currency),
                               dtype=object)
        elif total and len(pd.unique(currency)) > 1:
            raise MixedCurrencyError(
                f"the portfolio mixes currencies {sorted(pd.unique(currency))}: a single total "
                "needs a conversion table (conversion={'EUR': 1.0, 'USD': 0.92, ...}); "
                "without one, KPIs are reported per currency"
            )
        frame = pd.DataFrame({"currency": currency})
        customers = portfolio.customers
        for key in by:
            if key == "currency":
                continue
            if key in inv:
                frame[key] = inv[key].to_numpy()
            elif customers is not None and key in customers:
                lookup = customers.drop_duplicates("customer_id").set_index("customer_id")[key]
                frame[key] = inv["customer_id"].map(lookup).fillna("unknown").to_numpy()
            else:
                raise ValueError(
                    f"cannot group by {key!r}: not a column of invoices or customers"
                )
        keys = list(frame.columns)
        codes = frame.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
        groups = (
            frame.assign(_g=codes).drop_duplicates("_g").sort_values("_g")
            .drop(columns="_g").reset_index(drop=True)
        )

        pay = portfolio.payments
        if pay is not None and len(pay):
            index = pd.Index(inv["invoice_id"])
            pos = index.get_indexer(pay["invoice_id"])
            if (pos < 0).any():
                unknown = pay.loc[pos < 0, "invoice_id"].astype(str).unique()[:5].tolist()
                raise ValueError(
                    f"{int((pos < 0).sum())} payment(s) refer to invoices not in the invoices "
                    f"table (e.g. {unknown}); fix the export rather than losing cash silently"
                )
            settled = (
                pay["amount"].to_numpy(dtype=float)
                - _optional(pay, "fee", 0.0).fillna(0.0).to_numpy(dtype=float)
                + _optional(pay, "discount", 0.0).fillna(0.0).to_numpy(dtype=float)
            )
            if conversion is not None:
                settled = convert_amounts(settled, inv["currency"].astype(str).to_numpy()[pos],
                                          conversion)
            pday = day_numbers(pay["paid_at"])
            order = np.argsort(pday, kind="stable")
            pay_invoice, pay_day, pay_settled = pos[order], pday[order], settled[order]
        else:
            pay_invoice = np.zeros(0, dtype=np.int64)
            pay_day = np.zeros(0, dtype=np.int64)
            pay_settled = np.zeros(0)
        return cls(
            invoices=inv,
            keys=keys,
            groups=groups,
            group=codes,
            issue=day_numbers(inv["issue_date"]),
            due=day_numbers(inv["due_date"]),
            written_off=_leaves_ar(inv, include_escalated),
            amount=amount,
            pay_invoice=pay_invoice,
            pay_day=pay_day,
            pay_settled=pay_settled,
            limits=_Limits(_last_date(portfolio), getattr(portfolio, "observed_until", None)),
        )

    # -- per-invoice quantities ------------------------------------------------------
    def settled_by(self, day: int) -> np.ndarray:
        """Amount settled per invoice by payments dated on or before ``day``."""
        k = int(np.searchsorted(self.pay_day, day, side="right"))
        return np.bincount(self.pay_invoice[:k], weights=self.pay_settled[:k],
                           minlength=len(self.amount))

    def settled_within(self, horizon_days: int, until: int | None = None) -> np.ndarray:
        """Amount settled per invoice within ``horizon_days`` of its own issue date
        (and on or before day ``until``, so nothing after an as-of date leaks in)."""
        ok = self.pay_day <= self.issue[self.pay_invoice] + horizon_days
        if until is not None:
            ok &= self.pay_day <= until
        return np.bincount(self.pay_invoice[ok], weights=self.pay_settled[ok],
                           minlength=len(self.amount))

    def remaining(self, settled: np.ndarray) -> np.ndarray:
        """Amount minus settled, clipped at zero, with rounding remainders set to zero."""
        rest = np.clip(self.amount - settled, 0.0, None)
        rest[rest <= FULL_PAYMENT_TOLERANCE * self.amount] = 0.0
        return rest

    def balance_at(self, day: int) -> np.ndarray:
        """Open receivable per invoice at the end of ``day`` (0 if not issued yet)."""
        rest = self.remaining(self.settled_by(day))
        rest[(self.issue > day) | (self.written_off <= day)] = 0.0
        return rest

    # -- per-group sums --------------------------------------------------------------
    def group_sum(self, weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` per group (optionally over the invoices in ``mask``)."""
        if mask is None:
            return np.bincount(self.group, weights=weights, minlength=self.n_groups)
        return np.bincount(self.group[mask], weights=weights[mask], minlength=self.n_groups)

    def sales_between(self, start_excl: int, end_incl: int) -> np.ndarray:
        """Amount invoiced per group with issue day in ``(start_excl, end_incl]``."""
        mask = (self.issue > start_excl) & (self.issue <= end_incl)
        return self.group_sum(self.amount, mask)
