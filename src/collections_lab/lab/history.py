"""Which strategy each historical invoice was under: from the experiment's arms and the
business-as-usual strategy, or read off the reminders actually sent.

The calibration needs, for every invoice, the reminder schedule that shaped its daily
hazard up to its end; the twin check needs the schedule to replay history. Two sources:

- **known strategies** (``arms`` + ``default``): an invoice of a customer assigned to an
  arm, issued on or after the assignment date, was under that arm's strategy; every other
  invoice under ``default`` (business as usual). Discounts, fees and installment offers
  are known only this way (the five tables do not record offers).
- **recorded reminders** (neither given): each invoice's own reminders (day relative to due,
  tone, channel, personalisation and, where the reminders table has the column, the
  payment deadline the reminder stated) as a pseudo-strategy. Offers are then unknown.

:func:`infer_strategy` guesses the business-as-usual schedule from the reminders sent to
invoices that ran their full course (escalated or written off), for a portfolio whose
strategy nobody wrote down.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()["nudge_then_firm"]
>>> sim = simulate(100, s, seed=1, start="2025-01-01", end="2025-03-31")
>>> frame = sim.portfolio.payment_times()
>>> known = invoice_strategies(sim.portfolio, frame, default=s)
>>> known.source, len(known.strategies)
('known', 1)
>>> invoice_strategies(sim.portfolio, frame).source
'recorded'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.portfolio import Portfolio
from ..data.schema import MAX_DEADLINE_DAYS
from ..model.strategies import Reminder, Strategy, StrategyError


@dataclass
class InvoiceStrategies:
    """Per-invoice strategy codes into :attr:`strategies` (aligned with a payment-times
    frame), and how they were found (``"known"`` or ``"recorded"``)."""

    code: np.ndarray
    strategies: list[Strategy]
    source: str


def invoice_strategies(portfolio: Portfolio, frame: pd.DataFrame,
                       arms: dict[str, Strategy] | None = None,
                       default: Strategy | None = None,
                       reminders: str = "recorded") -> InvoiceStrategies:
    """Strategy of every invoice of ``frame`` (a payment-times frame of ``portfolio``).

    With ``arms`` and/or ``default`` the strategies are known (see module docstring); an
    arm named in the assignments but missing from ``arms`` is an error naming it.
    Otherwise, with ``reminders="recorded"`` each invoice gets the pseudo-strategy of its
    recorded reminders; with ``reminders="inferred"`` every invoice of an experiment arm
    (and every other invoice, as one group) gets its group's schedule as
    :func:`infer_strategy` reads it — for exports where a reminder due on the day of
    payment is not recorded although it was sent (the simulator's tables do this).
    """
    n = len(frame)
    if arms is None and default is None:
        if reminders == "inferred":
            return _inferred(portfolio, frame)
        if reminders != "recorded":
            raise ValueError(f"reminders must be 'recorded' or 'inferred', got {reminders!r}")
        return _recorded(portfolio, frame)
    arms = dict(arms or {})
    strategies = list(arms.values())
    names = list(arms)
    if default is None:
        default = infer_strategy(portfolio)
    strategies.append(default)
    code = np.full(n, len(strategies) - 1, dtype=np.int64)
    asg = portfolio.assignments
    if arms and len(asg):
        unknown = sorted(set(asg["arm"].astype(str)) - set(names))
        if unknown:
            raise StrategyError(
                f"assignments name arm(s) {unknown} without a strategy; pass them in `arms` "
                f"(known: {names})")
        first = asg.drop_duplicates("customer_id").set_index("customer_id")
        arm = frame["customer_id"].map(first["arm"])
        when = pd.to_datetime(frame["customer_id"].map(first["assigned_at"]))
        inside = arm.notna().to_numpy() & (frame["issue_date"] >= when).to_numpy()
        pos = pd.Index(names).get_indexer(arm.fillna("").astype(str))
        code = np.where(inside & (pos >= 0), pos, code)
    return InvoiceStrategies(code, strategies, "known")


def experiment_groups(portfolio: Portfolio, frame: pd.DataFrame) -> np.ndarray:
    """Experiment arm of each invoice of ``frame`` issued from its customer's assignment,
    else ``""`` (the pre-period, and customers outside the experiment).

    >>> from collections_lab.model.sample_data import load_sample
    >>> p = load_sample()
    >>> groups = experiment_groups(p, p.payment_times())
    >>> sorted(set(groups))[:2]
    ['', 'firm-1-disc']
    """
    asg = portfolio.assignments
    label = np.full(len(frame), "", dtype=object)
    if asg is not None and len(asg):
        first = asg.drop_duplicates("customer_id").set_index("customer_id")
        arm = frame["customer_id"].map(first["arm"])
        when = pd.to_datetime(frame["customer_id"].map(first["assigned_at"]))
        inside = arm.notna().to_numpy() & (frame["issue_date"] >= when).to_numpy()
        label = np.where(inside, arm.astype(str).to_numpy(), "")
    return label


def _inferred(portfolio: Portfolio, frame: pd.DataFrame) -> InvoiceStrategies:
    label = experiment_groups(portfolio, frame)
    names, code = np.unique(label, return_inverse=True)
    strategies = []
    rem = portfolio.reminders
    for name in names:
        ids = set(frame.loc[label == name, "invoice_id"])
        inv = portfolio.invoices.loc[portfolio.invoices["invoice_id"].isin(ids)]
        sub = Portfolio(portfolio.customers, inv,
                        rem.loc[rem["invoice_id"].isin(ids)] if rem is not None else rem)
        strategies.append(infer_strategy(sub, name=f"inferred:{name or 'default'}"))
    return InvoiceStrategies(code.astype(np.int64), strategies, "inferred")


def _recorded(portfolio: Portfolio, frame: pd.DataFrame) -> InvoiceStrategies:
    rem = portfolio.reminders
    n = len(frame)
    if rem is None or not len(rem):
        return InvoiceStrategies(np.zeros(n, dtype=np.int64), [Strategy("no_reminders")],
                                 "recorded")
    pos = pd.Index(frame["invoice_id"]).get_indexer(rem["invoice_id"])
    ok = pos >= 0
    rem = rem.loc[ok]
    pos = pos[ok]
    due = frame["due_date"].to_numpy(dtype="datetime64[ns]")[pos]
    day = ((rem["sent_at"].to_numpy(dtype="datetime64[ns]") - due)
           // np.timedelta64(1, "D")).astype(int)
    day = np.clip(day, -60, 365)
    keys = pd.DataFrame({"pos": pos, "day": day, "tone": rem["tone"].astype(str).to_numpy(),
                         "channel": rem["channel"].astype(str).to_numpy(),
                         "pers": rem["personalised"].astype(bool).to_numpy()
                         if "personalised" in rem else False,
                         "deadline": reminder_deadlines(rem)})
    keys = keys.sort_values(["pos", "day"]).drop_duplicates(["pos", "day"])
    sig = keys.groupby("pos").apply(
        lambda g: tuple(zip(g["day"], g["tone"], g["channel"], g["pers"], g["deadline"],
                            strict=True)),
        include_groups=False)
    signature = pd.Series([()] * n, dtype=object)
    signature.iloc[sig.index.to_numpy()] = sig.to_numpy()
    codes, uniq = pd.factorize(signature)
    strategies = [
        Strategy(f"recorded-{i}", reminders=tuple(_reminder(*item) for item in s))
        for i, s in enumerate(uniq)
    ]
    return InvoiceStrategies(codes.astype(np.int64), strategies, "recorded")


def reminder_deadlines(reminders: pd.DataFrame) -> np.ndarray:
    """Each reminder's stated payment deadline in days (0 where none was stated, or where
    the reminders table has no ``deadline_days`` column), as integers.

    >>> reminder_deadlines(pd.DataFrame({"deadline_days": [7, None]})).tolist()
    [7, 0]
    >>> reminder_deadlines(pd.DataFrame({"tone": ["firm"]})).tolist()
    [0]
    """
    if "deadline_days" not in reminders:
        return np.zeros(len(reminders), dtype=np.int64)
    values = pd.to_numeric(reminders["deadline_days"], errors="coerce")
    values = values.where((values >= 1) & (values <= MAX_DEADLINE_DAYS))
    return values.fillna(0).to_numpy(dtype=np.int64)


def _reminder(day, tone, channel, personalised, deadline) -> Reminder:
    return Reminder(int(day), tone, channel, bool(personalised),
                    int(deadline) if deadline else None)


def infer_strategy(portfolio: Portfolio, name: str = "current") -> Strategy:
    """The business-as-usual strategy as the reminders show it.

    The schedule is the most common reminder sequence (days relative to due, tone,
    channel, personalisation) among invoices that ran their full course (escalated or
    written off: they received every reminder); the escalation day is the most common
    days-past-due at escalation. Without such invoices, the longest common sequence of all
    invoices is used.

    >>> from collections_lab.model.simulation import simulate
    >>> from collections_lab.model.strategies import example_strategies
    >>> sim = simulate(300, example_strategies()["nudge_then_firm"], seed=2,
    ...                start="2025-01-01", end="2025-06-30")
    >>> infer_strategy(sim.portfolio).reminder_days
    (-3, 7, 21)
    """
    inv = portfolio.invoices
    rem = portfolio.reminders
    esc_days = None
    full = pd.Series(False, index=inv.index)
    for col in ("escalated_at", "written_off_at"):
        if col in inv:
            full |= inv[col].notna()
    if "escalated_at" in inv and inv["escalated_at"].notna().any():
        e = inv.loc[inv["escalated_at"].notna()]
        esc_days = int(((e["escalated_at"] - e["due_date"]).dt.days).mode().iloc[0])
    if rem is None or not len(rem):
        return Strategy(name, escalation_day=esc_days,
                        description="inferred from history: no reminders sent")
    due = inv.set_index("invoice_id")["due_date"]
    r = rem.assign(day=(rem["sent_at"] - rem["invoice_id"].map(due)).dt.days)
    r = r.dropna(subset=["day"])
    pers = r["personalised"] if "personalised" in r else False
    r = r.assign(item=list(zip(r["day"].astype(int), r["tone"].astype(str),
                               r["channel"].astype(str), pd.Series(pers, index=r.index)
                               .astype(bool), reminder_deadlines(r), strict=True)))
    seqs = r.sort_values("day").groupby("invoice_id")["item"].agg(tuple)
    chosen = seqs.loc[seqs.index.isin(inv.loc[full, "invoice_id"])]
    if chosen.empty:
        longest = seqs.map(len).max()
        chosen = seqs.loc[seqs.map(len) == longest]
    pattern = chosen.value_counts().index[0]
    if esc_days is not None:
        # reminders before escalation, and deadlines that end before it (a strategy's rule)
        pattern = tuple(p[:4] + ((p[4] if p[0] + p[4] < esc_days else 0),)
                        for p in pattern if p[0] < esc_days)
    return Strategy(name, reminders=tuple(_reminder(*item) for item in pattern),
                    escalation_day=esc_days,
                    description="inferred from history (most common full reminder sequence)")
