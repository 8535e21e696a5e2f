"""Turn the drawn stories of invoices into the five tables a real export gives.

Reminders go out while an invoice is open (a payment plan pauses them); payments are
split, discounted, charged late fees, paid in installments or recovered by an agency as
the behaviour model says. Amounts are in the invoice's currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...data.schema import PAYMENT_METHODS, REMINDER_CHANNELS, TONES
from .engine import escalation_day, reminder_days, reminder_stop_day


def build_tables(customers, strategies, model, idx, c, arm, issue, terms, amount, disputed,
                  channel, link, o, u, end_date, inv_ids, severity) -> dict[str, dict]:
    """Turn the drawn stories of the issued invoices (positions ``idx``) into tables."""
    day = np.timedelta64(1, "D")
    m = len(idx)
    cust_ids = customers["customer_id"].to_numpy()[c[idx]]
    issue_i, terms_i, amount_i = issue[idx], terms[idx], amount[idx]
    outcome = o.outcome[idx]
    end_i = end_date[idx]
    recovered = (outcome == 2) & (u[10, idx] < model.agency_recovery_share)
    escalated_lost = (outcome == 2) & ~recovered
    currency = customers["currency"].fillna("USD").to_numpy()[c[idx]] if "currency" in \
        customers else np.full(m, "USD", dtype=object)
    invoices = {
        "invoice_id": inv_ids,
        "customer_id": cust_ids,
        "issue_date": issue_i,
        "due_date": issue_i + terms_i * day,
        "amount": amount_i,
        "currency": currency,
        "disputed": disputed[idx],
        "channel": channel[idx].astype(object),
        "payment_link": link[idx],
        "escalated_at": np.where(outcome == 2, end_i, np.datetime64("NaT")).astype(
            "datetime64[ns]"),
        "written_off_at": np.where(
            outcome == 3, end_i,
            np.where(escalated_lost, end_i + model.write_off_after_escalation_days * day,
                     np.datetime64("NaT"))).astype("datetime64[ns]"),
    }

    # reminders: for each arm and reminder, the invoices that were still open that day
    arm_i = arm[idx]
    rem_parts = []
    # the optional deadline column only when a strategy states deadlines, so the tables
    # of strategies without them are exactly what they were before deadlines existed
    deadlines = any(s.has_deadlines for s in strategies)
    rem_dtypes = {**REMINDER_DTYPES, "deadline_days": float} if deadlines else REMINDER_DTYPES
    for a, strategy in enumerate(strategies):
        in_arm = np.flatnonzero(arm_i == a)
        if not len(in_arm) or not strategy.reminders:
            continue
        for tm in np.unique(terms_i[in_arm]):
            sel = in_arm[terms_i[in_arm] == tm]
            esc = escalation_day(strategy, int(tm), model.horizon_days)
            od = o.offer_day[idx[sel]]
            # reminders go out while the invoice is open; a payment plan pauses them
            stop = reminder_stop_day(o.outcome[idx[sel]], o.end_day[idx[sel]], od,
                                     o.installment[idx[sel]])
            for seq, (d, r) in enumerate(reminder_days(strategy, int(tm), model.horizon_days),
                                         start=1):
                sent = sel[(d < stop) & (d < esc)]
                if not len(sent):
                    continue
                k = len(sent)
                rem_parts.append({
                    "invoice_id": sent, "sent_at": issue_i[sent] + d * day,
                    "sequence": np.full(k, seq), "tone": np.full(k, TONES.index(r.tone)),
                    "channel": np.full(k, REMINDER_CHANNELS.index(r.channel)),
                    "personalised": np.full(k, r.personalised),
                })
                if deadlines:
                    rem_parts[-1]["deadline_days"] = np.full(
                        k, np.nan if r.deadline_days is None else float(r.deadline_days))
    reminders = _sorted_columns(rem_parts, "sent_at", inv_ids, rem_dtypes)

    payments = _payments(strategies, arm_i, model, idx, inv_ids, issue_i, terms_i, amount_i,
                         outcome, o, u, recovered, severity[idx])
    return {"invoices": invoices, "reminders": reminders, "payments": payments}


def _payments(strategies, arm_i, model, idx, inv_ids, issue_i, terms_i, amount_i, outcome, o,
              u, recovered, severity) -> dict[str, np.ndarray]:
    day = np.timedelta64(1, "D")
    paid = outcome == 1
    plan = o.installment[idx] & paid
    normal = paid & ~plan
    end_day = o.end_day[idx]
    disc_rate = np.array([s.discount.rate if s.discount else 0.0 for s in strategies])[arm_i]
    disc_window = np.array([s.discount.within_days if s.discount else -1 for s in strategies])[
        arm_i]
    fee_rate = np.array([s.late_fee_rate for s in strategies])[arm_i]
    discount = np.where(normal & (end_day <= disc_window), np.round(amount_i * disc_rate, 2), 0.0)
    late = np.maximum(end_day - terms_i, 0)
    fee = np.where(normal & (late > 0), np.round(amount_i * fee_rate * np.ceil(late / 30), 2), 0.0)
    split_share = model.split_payment_share + severity * model.distress_split_share
    split = normal & (u[3, idx] < split_share) & (end_day >= 2)
    first_share = 0.3 + 0.4 * u[4, idx]
    first_day = np.floor(u[5, idx] * end_day).astype(int)
    first_amount = np.round(amount_i * first_share, 2)
    parts = []
    s = np.flatnonzero(split)
    zeros = np.zeros(len(s))
    parts.append({"invoice_id": s, "paid_at": issue_i[s] + first_day[s] * day,
                  "amount": first_amount[s], "method": np.full(len(s), _METHOD["transfer"]),
                  "discount": zeros, "fee": zeros})
    nm = np.flatnonzero(normal)
    final = amount_i[nm] - discount[nm] + fee[nm] - np.where(split[nm], first_amount[nm], 0.0)
    methods = np.array([_METHOD[m] for m in ("transfer", "card", "direct_debit")])
    method = methods[np.searchsorted([0.7, 0.85], u[4, idx[nm]], side="right")]
    parts.append({"invoice_id": nm, "paid_at": issue_i[nm] + end_day[nm] * day,
                  "amount": np.round(final, 2), "method": method,
                  "discount": discount[nm], "fee": fee[nm]})
    pl = np.flatnonzero(plan)
    if len(pl):
        offers = [s.installment for s in strategies]
        n_inst = np.array([of.n_installments if of else 1 for of in offers])[arm_i[pl]]
        gap = np.array([of.interval_days if of else 0 for of in offers])[arm_i[pl]]
        od = o.offer_day[idx[pl]]
        rows_inv = np.repeat(pl, n_inst)
        j = np.concatenate([np.arange(k) for k in n_inst])
        when = od.repeat(n_inst) + model.installment_first_delay_days + j * gap.repeat(n_inst)
        share = np.round(amount_i[rows_inv] / n_inst.repeat(n_inst), 2)
        last = j == n_inst.repeat(n_inst) - 1
        share = np.where(last, amount_i[rows_inv] - share * (n_inst.repeat(n_inst) - 1), share)
        zeros = np.zeros(len(rows_inv))
        parts.append({"invoice_id": rows_inv, "paid_at": issue_i[rows_inv] + when * day,
                      "amount": np.round(share, 2),
                      "method": np.full(len(rows_inv), _METHOD["installment"]),
                      "discount": zeros, "fee": zeros})
    rc = np.flatnonzero(recovered)
    if len(rc):
        span = model.agency_recovery_max_days - model.agency_recovery_min_days
        delay = model.agency_recovery_min_days + np.floor(u[11, idx[rc]] * (span + 1))
        zeros = np.zeros(len(rc))
        parts.append({"invoice_id": rc,
                      "paid_at": issue_i[rc] + (end_day[rc] + delay.astype(int)) * day,
                      "amount": amount_i[rc], "method": np.full(len(rc), _METHOD["agency"]),
                      "discount": zeros, "fee": zeros})
    return _sorted_columns(parts, "paid_at", inv_ids, PAYMENT_DTYPES)


#: Reminder columns the simulator writes; ``deadline_days`` (float, NaN for none; a
#: nullable integer in the final table) joins them when a strategy states deadlines.
REMINDER_DTYPES = {"invoice_id": object, "sent_at": "datetime64[ns]", "sequence": np.int64,
                   "tone": TONES, "channel": REMINDER_CHANNELS, "personalised": bool}
PAYMENT_DTYPES = {"invoice_id": object, "paid_at": "datetime64[ns]", "amount": float,
                  "method": PAYMENT_METHODS, "discount": float, "fee": float}
_METHOD = {m: i for i, m in enumerate(PAYMENT_METHODS)}
DAY_NS = 86_400 * 10**9


def _sorted_columns(parts: list[dict], date_column: str, inv_ids: np.ndarray,
                    dtypes: dict) -> dict[str, np.ndarray]:
    """Concatenate column arrays and sort rows by invoice then date.

    In ``parts`` the ``invoice_id`` column holds integer positions into ``inv_ids`` and a
    text column (a tuple of its values in ``dtypes``) holds integer codes into that tuple:
    the strings are only looked up once, after sorting (object arrays are slow to fill,
    concatenate and permute). Invoices are in global order, so the row order does not
    depend on chunking. Dates are whole days, so (invoice, date) order is one stable sort
    of ``position × span + day``; each part is already in invoice order, which the stable
    sort (timsort) merges in near-linear time.
    """
    if not parts:
        return {k: np.array([], dtype=object if isinstance(v, tuple) else v)
                for k, v in dtypes.items()}
    cols = {k: np.concatenate([p[k] for p in parts]) for k in dtypes}
    pos = cols["invoice_id"].astype(np.int64)
    day = cols[date_column].astype("datetime64[ns]", copy=False).view(np.int64) // DAY_NS
    day -= day.min()
    order = np.argsort(pos * (int(day.max()) + 1) + day, kind="stable")
    out = {}
    for k, kind in dtypes.items():
        if k == "invoice_id":
            out[k] = inv_ids[pos[order]]
        elif isinstance(kind, tuple):
            out[k] = np.array(kind, dtype=object)[cols[k][order]]
        else:
            out[k] = cols[k][order].astype(kind, copy=False)
    return out


def concat_columns(parts: list[dict]) -> pd.DataFrame:
    """One frame from the chunks' column dicts, with one copy per column: building a frame
    per chunk and then ``pd.concat`` copied every column twice, and pandas' consolidation
    of same-dtype columns into 2-D blocks (``copy=False`` skips it; the arrays are fresh)
    cost more than the whole draw for the object columns."""
    return pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]},
                        copy=False)
