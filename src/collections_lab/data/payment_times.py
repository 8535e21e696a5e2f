"""The payment-times frame: one row per invoice, censoring-aware, the start of every analysis.

For each invoice issued on or before ``as_of`` it gives the whole days from issue to the
end of its story — full payment (partial payments summed; an early-payment discount
counts towards the amount due), escalation to legal collection, or write-off — or, for
invoices still open, to ``as_of`` (censored). Payments, reminders and events after
``as_of`` are ignored, so the frame is what an analyst would have seen on that date.

Columns
-------
invoice_id, customer_id, segment, currency, amount, issue_date, due_date, terms_days,
disputed, channel, payment_link, end_date, duration (days issue→end), days_late
(end - due), event (paid in full), outcome ("paid", "escalated", "written_off", "open"),
outcome_code (see :data:`collections_lab.data.schema.OUTCOMES`), paid_amount (cash up to
end, fees included), discount_amount, fee_amount, n_reminders (sent before end_date),
and ``arm`` when assignments are given.

Example
-------
>>> import pandas as pd
>>> inv = pd.DataFrame({"invoice_id": ["a", "b"], "customer_id": ["c1", "c1"],
...     "issue_date": pd.to_datetime(["2025-01-01", "2025-01-01"]),
...     "due_date": pd.to_datetime(["2025-01-31", "2025-01-31"]),
...     "amount": [100.0, 50.0], "currency": ["EUR", "EUR"]})
>>> pay = pd.DataFrame({"invoice_id": ["a", "a"],
...     "paid_at": pd.to_datetime(["2025-01-20", "2025-02-05"]), "amount": [40.0, 60.0]})
>>> f = payment_times(inv, pay, as_of="2025-03-01")
>>> f[["invoice_id", "duration", "outcome", "days_late"]].values.tolist()
[['a', 35, 'paid', 5], ['b', 59, 'open', 29]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .dates import DateError, data_end, parse_date
from .schema import FULL_PAYMENT_TOLERANCE, OUTCOMES


class PaymentTimesError(ValueError):
    """The tables cannot be turned into payment times; the message says why.

    Example:
        >>> cl.payment_times(portfolio.invoices.head(0), portfolio.payments)
        Traceback (most recent call last):
            ...
        collections_lab.data.payment_times.PaymentTimesError: invoices table is empty:
        nothing to analyse
    """


def _as_timestamp(as_of, invoices: pd.DataFrame, payments: pd.DataFrame,
                  reminders: pd.DataFrame | None) -> pd.Timestamp:
    """``as_of`` parsed (:func:`~collections_lab.data.dates.parse_date`), by default the
    data's last date (:func:`~collections_lab.data.dates.data_end`)."""
    try:
        if as_of is None:
            return data_end(invoices, payments, reminders)
        return parse_date(as_of, "as_of")
    except DateError as exc:
        raise PaymentTimesError(str(exc)) from None


def _optional(frame: pd.DataFrame, column: str, default) -> pd.Series:
    if column in frame:
        return frame[column]
    return pd.Series(default, index=frame.index)


def payment_times(
    invoices: pd.DataFrame,
    payments: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    reminders: pd.DataFrame | None = None,
    as_of=None,
    assignments: pd.DataFrame | None = None,
    experiment_id: str | None = None,
) -> pd.DataFrame:
    """Derive the payment-times frame (see module docstring) as of ``as_of``.

    Args:
        invoices, payments, customers, reminders, assignments: Tables of the data model (validated, see :mod:`collections_lab.data.loading`).
        as_of: Date of the analysis (ISO str or Timestamp, see
            :func:`~collections_lab.data.dates.parse_date`). Defaults to the data's last date
            (:func:`~collections_lab.data.dates.data_end`).
            Invoices issued after it are not in the frame (``frame.attrs["not_yet_issued"]``
            counts them, so nothing disappears unreported).
        experiment_id: With several experiments in ``assignments``, which one gives the ``arm`` column.

    Returns:
        DataFrame, one row per invoice issued on or before ``as_of``, in invoice order.

    Example:
        >>> frame = cl.payment_times(portfolio.invoices, portfolio.payments, as_of="2025-09-30")
        >>> frame["outcome"].value_counts().to_dict()
        {'paid': 1426, 'open': 25, 'escalated': 20, 'written_off': 17}
    """
    missing = [c for c in ("invoice_id", "customer_id", "issue_date", "due_date", "amount")
               if c not in invoices]
    if missing:
        raise PaymentTimesError(f"invoices table lacks column(s) {missing}")
    if len(invoices) == 0:
        raise PaymentTimesError("invoices table is empty: nothing to analyse")
    as_of_ts = _as_timestamp(as_of, invoices, payments, reminders)

    in_scope = invoices["issue_date"] <= as_of_ts
    inv = invoices.loc[in_scope].reset_index(drop=True)
    if len(inv) == 0:
        raise PaymentTimesError(
            f"no invoice was issued on or before as_of {as_of_ts.date()} "
            f"(first issue date {invoices['issue_date'].min().date()})"
        )
    n = len(inv)
    code = pd.Index(inv["invoice_id"])
    if not code.is_unique:
        raise PaymentTimesError("invoice_id is not unique in the invoices table")

    amount = inv["amount"].to_numpy(dtype=float)
    issue = inv["issue_date"].to_numpy(dtype="datetime64[ns]")
    due = inv["due_date"].to_numpy(dtype="datetime64[ns]")
    big = np.datetime64("2262-01-01", "ns")

    # Full-payment date: first payment at which cash + discount reaches the amount.
    paid_day = np.full(n, big, dtype="datetime64[ns]")
    paid_amount = np.zeros(n)
    discount_amount = np.zeros(n)
    fee_amount = np.zeros(n)
    has_pay = False
    if payments is not None and len(payments):
        pay = payments.loc[payments["paid_at"] <= as_of_ts]
        pos = code.get_indexer(pay["invoice_id"])
        known = pos >= 0
        pay = pay.loc[known]
        pos = pos[known]
        has_pay = len(pay) > 0  # payments may all lie after as_of or on unknown invoices
    if has_pay:
        order = np.lexsort((pay["paid_at"].to_numpy(), pos))
        pos = pos[order]
        cash = pay["amount"].to_numpy(dtype=float)[order]
        disc = _optional(pay, "discount", 0.0).to_numpy(dtype=float)[order]
        fee = _optional(pay, "fee", 0.0).to_numpy(dtype=float)[order]
        when = pay["paid_at"].to_numpy(dtype="datetime64[ns]")[order]
        settles = cash - fee + disc
        # cumulative sum within each invoice
        cum = np.cumsum(settles)
        starts = np.r_[0, np.flatnonzero(np.diff(pos)) + 1]
        group_start_cum = np.repeat(cum[starts] - settles[starts], np.diff(np.r_[starts, len(pos)]))
        cum_within = cum - group_start_cum
        reached = cum_within >= amount[pos] * (1 - FULL_PAYMENT_TOLERANCE)
        first_reached = pd.Series(np.where(reached, np.arange(len(pos)), len(pos))).groupby(
            pos
        ).min()
        hit = first_reached.to_numpy() < len(pos)
        inv_with_hit = first_reached.index.to_numpy()[hit]
        paid_day[inv_with_hit] = when[first_reached.to_numpy()[hit]]

    escalated = _optional(inv, "escalated_at", pd.NaT).to_numpy(dtype="datetime64[ns]")
    written = _optional(inv, "written_off_at", pd.NaT).to_numpy(dtype="datetime64[ns]")
    escalated = np.where(np.isnat(escalated) | (escalated > as_of_ts.to_datetime64()), big,
                         escalated)
    written = np.where(np.isnat(written) | (written > as_of_ts.to_datetime64()), big, written)

    candidates = np.vstack([paid_day, escalated, written])
    first = candidates.argmin(axis=0)
    end = candidates.min(axis=0)
    closed = end < big
    outcome_code = np.where(closed, first + 1, 0)
    end = np.where(closed, end, as_of_ts.to_datetime64())

    if has_pay:
        end_per_payment = end[pos]
        upto = when <= end_per_payment
        paid_amount = np.bincount(pos[upto], weights=cash[upto], minlength=n)
        discount_amount = np.bincount(pos[upto], weights=disc[upto], minlength=n)
        fee_amount = np.bincount(pos[upto], weights=fee[upto], minlength=n)

    day = np.timedelta64(1, "D")
    frame = pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"].to_numpy(),
            "customer_id": inv["customer_id"].to_numpy(),
            "currency": _optional(inv, "currency", "").to_numpy(),
            "amount": amount,
            "issue_date": inv["issue_date"].to_numpy(),
            "due_date": inv["due_date"].to_numpy(),
            "terms_days": ((due - issue) // day).astype(int),
            "disputed": _optional(inv, "disputed", False).to_numpy(dtype=bool),
            "channel": _optional(inv, "channel", "email").to_numpy(),
            "payment_link": _optional(inv, "payment_link", False).to_numpy(dtype=bool),
            "end_date": end,
            "duration": ((end - issue) // day).astype(int),
            "days_late": ((end - due) // day).astype(int),
            "event": outcome_code == OUTCOMES["paid"],
            "outcome_code": outcome_code.astype(int),
            "paid_amount": paid_amount,
            "discount_amount": discount_amount,
            "fee_amount": fee_amount,
        }
    )
    names = {v: k for k, v in OUTCOMES.items()}
    frame.insert(frame.columns.get_loc("outcome_code"), "outcome",
                 pd.Series(outcome_code).map(names).to_numpy())

    segment = "all"
    if customers is not None and len(customers) and "segment" in customers:
        segment = frame["customer_id"].map(customers.set_index("customer_id")["segment"])
        segment = segment.fillna("unknown").to_numpy()
    frame.insert(2, "segment", segment)

    frame["n_reminders"] = 0
    if reminders is not None and len(reminders):
        rpos = code.get_indexer(reminders["invoice_id"])
        ok = rpos >= 0
        sent = reminders["sent_at"].to_numpy(dtype="datetime64[ns]")[ok]
        rpos = rpos[ok]
        before_end = sent < end[rpos]
        frame["n_reminders"] = np.bincount(rpos[before_end], minlength=n)

    if assignments is not None and len(assignments):
        chosen = assignments
        ids = assignments["experiment_id"].unique()
        if experiment_id is not None:
            chosen = assignments.loc[assignments["experiment_id"] == experiment_id]
            if chosen.empty:
                raise PaymentTimesError(
                    f"experiment {experiment_id!r} not in assignments (found {sorted(ids)})"
                )
        elif len(ids) > 1:
            raise PaymentTimesError(
                f"assignments hold several experiments {sorted(ids)}: pass experiment_id"
            )
        arm = chosen.drop_duplicates("customer_id").set_index("customer_id")["arm"]
        frame["arm"] = frame["customer_id"].map(arm).to_numpy()
        frame.attrs["experiment_id"] = str(chosen["experiment_id"].iloc[0])
        if "assigned_at" in chosen and chosen["assigned_at"].notna().any():
            # the experiment starts at the first assignment: invoices issued earlier are
            # its pre-period, which an experiment analysis must not count as treated
            frame.attrs["start"] = pd.Timestamp(chosen["assigned_at"].min())

    frame.attrs["as_of"] = as_of_ts
    frame.attrs["not_yet_issued"] = int((~in_scope).sum())
    return frame
