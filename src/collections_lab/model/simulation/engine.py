"""The hazard engine: daily hazard curves under a strategy and each invoice's drawn story.

This is the simulator's public engine interface, used by the simulator itself and by the
strategy lab's calibration and digital twin (so the twin draws exactly what the simulator
would). Every factor of the daily hazard except the invoice's multiplier ``m_i`` is shared
by all invoices with the same arm, segment, terms and discount-taking trait, so their
cumulative hazard is ``m_i · G(t)`` (:class:`HazardCurves`); the payment day is the first
``t`` with ``m_i · G(t) >= E_i``, ``E_i ~ Exp(1)`` (:func:`draw_outcomes`). Days are days
since issue; ``horizon`` is the behaviour model's ``horizon_days``.

Example
-------
>>> from collections_lab.model.behaviour import BehaviourModel
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()["nudge_then_firm"]
>>> [day for day, _ in reminder_days(s, terms=30, horizon=180)]
[27, 37, 51]
>>> curve = hazard_curve(BehaviourModel(), s, "small", terms=30, taker=False)
>>> curve.shape
(180,)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..behaviour import SEGMENTS, BehaviourModel
from ..strategies import Strategy

BLOCK = 1 << 16
#: Uniform draws per invoice: exp. threshold, never-payer, installment, split (3), churn,
#: amount, disputed, payment link, agency recovery (2).
N_UNIFORMS = 12
FIRM_TONES = ("firm", "final")


def uniforms(seed: int, lo: int, hi: int) -> np.ndarray:
    """Uniform draws (N_UNIFORMS × (hi-lo)) for invoices lo..hi-1, chunk-independent."""
    out = np.empty((N_UNIFORMS, hi - lo))
    b0, b1 = lo // BLOCK, (hi - 1) // BLOCK
    for b in range(b0, b1 + 1):
        block = np.random.default_rng(np.random.SeedSequence([seed, 2, b])).random(
            (N_UNIFORMS, BLOCK)
        )
        s, e = max(lo, b * BLOCK), min(hi, (b + 1) * BLOCK)
        out[:, s - lo : e - lo] = block[:, s - b * BLOCK : e - b * BLOCK]
    return out


# --------------------------------------------------------------------------- hazard curves
def reminder_days(strategy: Strategy, terms: int, horizon: int) -> list[tuple[int, object]]:
    """(day since issue, reminder) for reminders that fall inside [1, horizon)."""
    out = []
    for r in strategy.reminders:
        day = max(1, terms + r.day)
        if day < horizon and all(day != d for d, _ in out):
            out.append((day, r))
    return out


def escalation_day(strategy: Strategy, terms: int, horizon: int) -> int:
    if strategy.escalation_day is None:
        return horizon
    return min(horizon, terms + strategy.escalation_day)


def hazard_curve(model: BehaviourModel, strategy: Strategy | None, segment: str, terms: int,
                  taker: bool) -> np.ndarray:
    """Daily λ (without the invoice multiplier) for days 0..horizon-1.

    Reminders that state a payment deadline add the behaviour model's deadline factor
    (:meth:`~collections_lab.model.behaviour.BehaviourModel.deadline_multiplier`);
    without deadlines the curve is exactly the one of the model before they existed.
    """
    h = model.horizon_days
    t = np.arange(h, dtype=float)
    lam = model.baseline(t, terms)
    if strategy is None:
        return lam
    for k, (day, r) in enumerate(reminder_days(strategy, terms, h), start=1):
        a = model.pulse_amplitude(r.tone, r.channel, segment, r.personalised, k)
        after = t >= day
        lam = lam * np.where(after, 1 + a * np.exp(-(t - day) / model.pulse_decay_days), 1.0)
        if r.deadline_days is not None:
            lam = lam * model.deadline_multiplier(t, day, r.deadline_days)
    if strategy.discount is not None and taker:
        lam = lam * np.where(t <= strategy.discount.within_days,
                             model.discount_multiplier(strategy.discount.rate), 1.0)
    if strategy.late_fee_rate:
        lam = lam * np.where(t > terms, model.fee_multiplier(strategy.late_fee_rate), 1.0)
    return lam


@dataclass
class HazardCurves:
    """Cumulative hazard curves for each (arm, segment, terms, taker) group, concatenated
    with offsets so one ``searchsorted`` serves all groups."""

    model: BehaviourModel
    strategies: list[Strategy | None]
    cache: dict = field(default_factory=dict)

    def cumulative(self, arm: int, seg: int, terms: int, taker: bool) -> np.ndarray:
        key = (arm, seg, terms, taker)
        if key not in self.cache:
            lam = hazard_curve(self.model, self.strategies[arm], SEGMENTS[seg], terms, taker)
            self.cache[key] = np.cumsum(lam)
        return self.cache[key]

    def first_day(self, arm, seg, terms, taker, threshold) -> np.ndarray:
        """First day t with G(t) >= threshold, per invoice (horizon if never)."""
        h = self.model.horizon_days
        key = ((arm.astype(np.int64) * len(SEGMENTS) + seg) * 1000 + terms) * 2 + taker
        uniq, inverse = _dense_codes(key)
        curves = []
        for k in uniq:
            k = int(k)
            tk, k = k % 2, k // 2
            tm, k = k % 1000, k // 1000
            sg, ar = k % len(SEGMENTS), k // len(SEGMENTS)
            curves.append(self.cumulative(ar, sg, tm, bool(tk)))
        curves = np.vstack(curves)
        top = curves[:, -1].max() + 1.0
        offset = np.arange(len(uniq))[:, None] * (top + 1.0)
        flat = (curves + offset).ravel()
        query = np.minimum(threshold, top) + offset[inverse, 0]
        pos = np.searchsorted(flat, query, side="left") - inverse * h
        return np.minimum(pos, h)


def _dense_codes(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for small non-negative integer keys, in O(n)
    with a lookup table instead of a sort (the keys of a draw span a few thousand values;
    the sort was a tenth of the simulation's time)."""
    present = np.zeros(int(key.max()) + 1 if len(key) else 1, dtype=bool)
    present[key] = True
    uniq = np.flatnonzero(present)
    lookup = np.zeros(len(present), dtype=np.int64)
    lookup[uniq] = np.arange(len(uniq))
    return uniq, lookup[key]


# --------------------------------------------------------------------------- core
@dataclass
class Outcomes:
    end_day: np.ndarray  # day since issue the story ends
    outcome: np.ndarray  # 1 paid, 2 escalated, 3 written off
    installment: np.ndarray  # bool, paid through a plan
    offer_day: np.ndarray
    n_sent: np.ndarray
    n_firm: np.ndarray
    n_unneeded: np.ndarray
    counterfactual: np.ndarray


def draw_outcomes(model: BehaviourModel, curves: HazardCurves, arm, seg, terms, taker, mult, never_p,
          u) -> Outcomes:
    """Draw each invoice's story. All arrays are per invoice; ``u`` is N_UNIFORMS × n."""
    h = model.horizon_days
    n = len(arm)
    threshold = -np.log1p(-u[0]) / mult
    never = u[1] < never_p
    pay_day = curves.first_day(arm, seg, terms, taker, threshold)
    pay_day = np.where(never, h, pay_day)
    # counterfactual day under no strategy, same randomness (for "unneeded" reminders)
    none_arm = np.full(n, len(curves.strategies) - 1)
    counter = curves.first_day(none_arm, seg, terms, np.zeros(n, dtype=bool), threshold)
    counter = np.where(never, h, counter)

    end = pay_day.copy()
    outcome = np.ones(n, dtype=np.int8)
    installment = np.zeros(n, dtype=bool)
    offer_day = np.full(n, -1)
    n_sent = np.zeros(n, dtype=np.int16)
    n_firm = np.zeros(n, dtype=np.int16)
    n_unneeded = np.zeros(n, dtype=np.int16)
    for a, strategy in enumerate(curves.strategies[:-1]):
        in_arm = arm == a
        if not in_arm.any():
            continue
        for tm in np.unique(terms[in_arm]):
            idx = np.flatnonzero(in_arm & (terms == tm))
            esc = escalation_day(strategy, int(tm), h)
            t = pay_day[idx]
            unpaid = t >= esc
            out = np.where(unpaid, 2 if esc < h else 3, 1)
            # a reminder is sent on day d if the invoice is still open that morning: before
            # escalation, and on or before the payment day (its pulse acts that same day)
            stop = np.where(unpaid, esc, t + 1)
            plan = np.zeros(len(idx), dtype=bool)
            rdays = reminder_days(strategy, int(tm), h)
            offer = strategy.installment
            if offer is not None and offer.at_reminder <= len(rdays):
                od = rdays[offer.at_reminder - 1][0]
                open_at_offer = t >= od
                p = np.where(unpaid, model.installment_accept_defaulter,
                             model.installment_accept_payer)
                plan = open_at_offer & (od < esc) & (u[2, idx] < p)
                last = od + model.installment_first_delay_days + (
                    offer.n_installments - 1) * offer.interval_days
                end[idx[plan]] = last
                out = np.where(plan, 1, out)
                offer_day[idx[plan]] = od
                stop = np.where(plan, od + 1, stop)
            installment[idx] = plan
            end[idx[~plan]] = np.where(unpaid[~plan], esc, t[~plan])
            outcome[idx] = out
            for day, r in rdays:
                sent = (day < stop) & (day < esc)
                n_sent[idx] += sent
                if r.tone in FIRM_TONES:
                    n_firm[idx] += sent
                n_unneeded[idx] += sent & (counter[idx] <= day + model.unneeded_window_days)
    return Outcomes(end, outcome, installment, offer_day, n_sent, n_firm, n_unneeded, counter)


def reminder_stop_day(outcome, end_day, offer_day, installment) -> np.ndarray:
    """First day (since issue) on which no more reminders go out, per invoice.

    A reminder is sent on day ``d`` if the invoice is still open that morning: up to and
    including the payment day (its pulse acts that day), before escalation or write-off,
    and up to the day a payment plan is offered (a plan pauses reminders). Reminders are
    sent on days ``d < stop`` (and before the strategy's escalation day).
    """
    return np.where(installment, offer_day + 1,
                    np.where(outcome == 1, end_day + 1, end_day))
