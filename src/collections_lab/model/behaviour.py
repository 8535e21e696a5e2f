"""The behaviour model: how customers respond to invoices, reminders, discounts and fees.

A discrete-time hazard on whole days ``t`` since issue, due on day ``D``::

    hazard_i(t) = 1 - exp(-λ_i(t))
    λ_i(t) = λ0(t - D) · m_i · Π_k pulse_k(t) · Π_k deadline_k(t) · discount(t) · fee(t)
    m_i    = exp(β_amount·log(amount_usd/1000) + β_disputed·disputed + β_link·payment_link
                 + β_channel[channel] + u_c)            (u_c: customer frailty, by segment)

Because every factor but ``m_i`` is shared by all invoices with the same strategy, segment,
terms and discount-taking trait, the cumulative hazard is ``m_i · G(t)`` with one curve
``G`` per such group: the simulator draws the payment day by a binary search of ``G`` for
``E_i / m_i`` with ``E_i ~ Exp(1)`` (exactly the day-by-day Bernoulli process, without
evaluating every day of every invoice).

Where the defaults come from (each is a parameter; change them to fit a portfolio, or
calibrate them with :mod:`collections_lab.lab`). Three kinds of note: **source** (a
published figure), **tuned to** (chosen so the simulator lands on a figure, measured with
``simulate`` under one friendly email at due + 3, one year of invoices, 4,000 customers,
seed 11, unless said otherwise) and **assumption** (a plausible direction and size, no
published figure; calibrate it to your portfolio before trusting a result that hinges on
it). ``tests/test_simulate.py::test_defaults_land_where_the_docstring_says`` re-measures
the figures marked ⓣ.

- Baseline ``λ0`` — tuned to ≈38 % of invoices not paid on time (vendors' surveys,
  FIELD-NOTES): 57.6 % paid by the due date and 37.6 % after it ⓣ (40,000 customers,
  seed 101; 36.8–38.7 % late over seeds), late payers pay a median 3 days late (75 %
  within 8 days), about 5 % are never paid without escalation; a firm three-reminder
  strategy (due + 3, + 14, + 28) with legal action at due + 60 escalates 4.8 %.
- ``receipt_level`` = 0, ``receipt_scale_days`` = 5 — an optional hazard on days since
  issue (paying on receipt). Off by default: the baseline then depends on the due date
  only, and every payment-terms group behaves alike relative to due. Turn it on (e.g.
  0.05) to test estimators on term-dependent behaviour (issue 15).
- Covariates (log-hazard):
  ``beta_log_amount`` = −0.10 — assumption: larger invoices wait longer for approval;
  hazard × 0.93 per doubling of the amount (in USD, relative to USD 1,000).
  ``beta_disputed`` = −1.2 — assumption: a dispute must be settled first; hazard × 0.30.
  3 % of invoices are disputed: paid ones take 49 instead of 36 days from issue, and with
  ``never_pay_disputed`` = +1.5 on the never-pay logit 20 % of them are never paid.
  ``beta_invoice_channel`` (portal +0.15, EDI +0.2, paper mail −0.25 vs email) —
  assumption: e-invoices reach accounts payable sooner, mail is slow; share paid late:
  EDI 34.0 %, portal 34.1 %, email 37.7 %, mail 43.5 %.
- Frailty ``u ~ Normal(frailty_mean, frailty_sd)`` by segment — assumption: public bodies
  pay slowest (long approval chains), small firms are the most varied; tuned only through
  the overall 38 % late. Share paid late: small 34.7 %, medium 36.7 %, large 38.5 %,
  public 51.6 % (late public invoices are a mean 18 days late, others 9–11).
- ``never_pay_logit`` by segment (with ``never_pay_frailty_effect`` = 1: unreliable
  customers default more) — tuned to ≈5 % never paid without escalation: 4.8 % overall;
  small 5.7 %, medium 3.8 %, large 2.4 %, public 5.9 %.
- Reminder pulses ``1 + a(tone, channel, segment) · decay^(k-1) · exp(-(t - d_k)/κ)`` —
  source for the ratios of the amplitudes: an SMS reminder raised court-fine payment from
  5 % to 23 % and a personalised one to 33 % (Haynes et al. 2013): SMS has 1.6 × the
  email amplitude and ``personalisation_lift`` = 0.45 multiplies it by 1.45 ≈ 33/23.
  Firmer tones work a little better but raise churn (field experiments on letters:
  stating consequences helps); ``decay`` = 0.7 gives diminishing returns (assumption).
  The *outcomes* are smaller ratios than Haynes's because an invoice open at due + 3
  pays at a far higher base rate than an unpaid court fine: of invoices still open at a
  reminder at due + 3, the share paid within 3 days is 21.6 % with no reminder, 48.4 %
  after a friendly email, 58.0 % after an SMS and 65.7 % after a personalised SMS ⓣ
  (40,000 customers over four arms, seed 101): SMS/none ≈ 2.7 (Haynes 4.6),
  personalised/plain SMS ≈ 1.13 (Haynes 1.43). One friendly email at due + 3 raises the
  share paid by due + 15 from about 83 % to 89 %, a firm one to 91 %.
- Payment link ``β_link`` = 0.35 (hazard × 1.42) — assumption for the causal effect: in
  the model an invoice with a link is paid a mean 3.4 days sooner (from issue; 35.0 vs
  38.4 days, seed 11; 3.0–3.4 days over seeds ⓣ; medians differ by about a day), not
  the 9 days of a vendor's study of 1.8M invoices. That study is observational: the
  customers who pay by link are also faster payers for other reasons, so its 9 days
  mixes selection with the link's own effect. The model would need ``β_link`` ≈ 1.2
  (hazard × 3.3) to give 9 days, which we do not believe a link does by itself.
- Reminder deadlines ``deadline_k(t)``: a reminder sent on day ``d_k`` that asks for
  payment within ``w`` days multiplies the hazard by ``1 + δ · exp(-(d_k + w - t)/ρ)``
  from the reminder to the deadline (a rise toward it) and by
  ``1 + δ · exp(-(t - d_k - w)/φ)`` after it (the pull fades once the date has passed);
  reminders without a deadline have no such factor. ``deadline_effect`` δ = 1.0 (hazard
  × 2 on the deadline day), ``deadline_rise_days`` ρ = 3, ``deadline_fade_days`` φ = 2 —
  assumption, no published figure for invoices: collections guidance recommends stating a
  deadline shorter than the usual terms in the first reminder, and a stated date
  concentrates payments just before it as the due date does in λ0 (its peak is 2.7 × the
  hazard a week later), so δ is set at about half that pull, narrower. Calibrated when
  the history has reminders with deadlines (the reminders table's ``deadline_days``); the
  shape (ρ, φ) is always kept. Measured (one friendly email at due + 3 asking for
  payment within 7 days against the same email without one, 40,000 customers in two
  arms, seed 101): of invoices still open at the reminder, 65.9 % are paid within the 7
  days against 60.2 %; by due + 15, 90.6 % against 88.9 % of all invoices.
- Discount — source for the cost: 2/10 net 30 costs ≈37 % a year. Takers (a customer
  trait, ``discount_taker_share`` by segment, 29 % of customers overall — assumption)
  multiply their hazard inside the window by ``1 + discount_boost_per_point · points``
  (2.5 → × 6 for 2 %, assumption); everybody who pays inside the window takes the
  discount, so its cost includes customers who would have paid early anyway. With
  2/10 net 30 and one reminder, 8.5 % of invoices are paid (with discount) within 10 days
  of issue, against 3.6 % without the offer.
- Late fee: hazard × ``1 + fee_sensitivity · monthly_rate`` after due (20 → × 1.3 for
  1.5 % a month) — assumption; late payers then pay a mean 8.4 instead of 11.1 days late
  and 90.9 % instead of 88.7 % of invoices are paid by due + 15.
- Installment offers — assumption: would-be defaulters accept with probability
  ``installment_accept_defaulter`` = 0.45, others still open with
  ``installment_accept_payer`` = 0.08. Offered at a second reminder (due + 17), 28 % of
  the invoices that reach it go on a plan, 58 % of them would never have been paid.
- ``split_payment_share`` = 0.06 — assumption: 6.0 % of invoices paid by customers not
  in distress arrive in two payments.
- Escalation: a collection agency recovers ``agency_recovery_share`` (40 %) of escalated
  invoices in full 30–120 days later; the rest are written off 180 days after escalation,
  so escalated invoices leave the receivables as they do in real books. The recovered
  cash comes after escalation, so the invoice's outcome stays "escalated".
- Churn after each invoice: a small base rate per invoice (``churn_base`` by segment),
  raised by firm/final reminders, by reminders sent to customers who were about to pay
  anyway (within ``unneeded_window_days``), and by escalation; multiplied during
  distress episodes. Tuned to about 10 % of customers churning in a year under one
  friendly reminder (9.7 %: small 12.2 %, medium 8.9 %, large 5.4 %, public 3.9 %); the
  tone and unneeded-reminder terms are assumptions: 12.1 % churn under one firm reminder
  and 24 % under four "final" reminders starting before due (9,000 customers, three arms).
- Distress episodes: a share of customers (8 %), from a random date on, slide into
  trouble. Severity ramps from 0 to 1 over ``distress_ramp_days`` (150): the log-hazard
  falls by ``severity · 2.0`` (payment slips progressively), the never-pay logit rises by
  ``severity² · 2.5`` (defaults come late in the episode) and churn is multiplied by up
  to 4. Firms in trouble also pay in parts (the share of split payments rises by up to
  ``distress_split_share`` = 35 points) and order less (invoice amounts shrink by up to
  ``exp(-0.7)`` ≈ half). Firms rarely fail overnight; a gradual slide with several
  symptoms is what makes early warning possible. This is the ground truth for behaviour-change alerts.

Example
-------
>>> m = BehaviourModel()
>>> round(float(m.baseline(np.array([0]), due_day=30)[0]), 4) > 0
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

# the model's segments live with the data model (drafted mappings map onto them)
from ..data.schema import SEGMENTS as SEGMENTS
from ..i18n.display import SettingsCard


@dataclass(frozen=True)
class BehaviourModel(SettingsCard):
    """Parameters of the behaviour model (see module docstring for sources and units).

    Days are whole days; hazards are per day; amounts are in invoice currency.

    Example:
        >>> patient = cl.BehaviourModel(post_due_level=0.03)
        >>> sim = cl.simulate(50, cl.example_strategies()["nudge_then_firm"], model=patient,
        ...                   seed=1, end="2025-02-28", progress=False)
        >>> sim.truth.model["post_due_level"]
        0.03
    """

    horizon_days: int = 180
    # baseline λ0(r), r = days relative to due
    pre_due_level: float = 0.04
    pre_due_scale_days: float = 9.0
    due_peak: float = 0.16
    due_peak_width_days: float = 2.5
    post_due_level: float = 0.06
    post_due_decay_days: float = 30.0
    # λ_receipt(t) on days since issue: "pays on receipt" (0 = behaviour depends on the due
    # date only; > 0 makes behaviour relative to due depend on the payment terms)
    receipt_level: float = 0.0
    receipt_scale_days: float = 5.0
    # covariates in log-hazard
    beta_log_amount: float = -0.10
    beta_disputed: float = -1.2
    beta_payment_link: float = 0.35
    beta_invoice_channel: dict = field(
        default_factory=lambda: {"email": 0.0, "portal": 0.15, "mail": -0.25, "edi": 0.2}
    )
    # customer frailty u ~ Normal(mean, sd) by segment
    frailty_mean: dict = field(
        default_factory=lambda: {"small": -0.15, "medium": 0.0, "large": 0.1, "public": -0.45}
    )
    frailty_sd: dict = field(
        default_factory=lambda: {"small": 0.75, "medium": 0.55, "large": 0.45, "public": 0.4}
    )
    # never paid without escalation: logit(p) = base[segment] - frailty_effect*u + disputed
    never_pay_logit: dict = field(
        default_factory=lambda: {"small": -3.5, "medium": -3.9, "large": -4.4, "public": -4.1}
    )
    never_pay_frailty_effect: float = 1.0
    never_pay_disputed: float = 1.5
    # reminder pulses
    tone_effect: dict = field(
        default_factory=lambda: {"friendly": 3.0, "neutral": 3.5, "firm": 5.0, "final": 6.0}
    )
    channel_effect: dict = field(
        default_factory=lambda: {"email": 1.0, "sms": 1.6, "whatsapp": 1.7, "letter": 0.7,
                                 "phone": 2.5}
    )
    segment_response: dict = field(
        default_factory=lambda: {"small": 1.2, "medium": 1.0, "large": 0.75, "public": 0.5}
    )
    pulse_decay_days: float = 3.0
    later_reminder_decay: float = 0.7
    personalisation_lift: float = 0.45
    # a reminder's own payment deadline: rise toward it, fade after it
    deadline_effect: float = 1.0
    deadline_rise_days: float = 3.0
    deadline_fade_days: float = 2.0
    # discount
    discount_taker_share: dict = field(
        default_factory=lambda: {"small": 0.35, "medium": 0.3, "large": 0.25, "public": 0.05}
    )
    discount_boost_per_point: float = 2.5
    # late fees: hazard multiplier 1 + fee_sensitivity * monthly_rate after due
    fee_sensitivity: float = 20.0
    # installment offers
    installment_accept_defaulter: float = 0.45
    installment_accept_payer: float = 0.08
    installment_first_delay_days: int = 5
    # after escalation: the agency recovers a share in full, the rest is written off
    agency_recovery_share: float = 0.4
    agency_recovery_min_days: int = 30
    agency_recovery_max_days: int = 120
    write_off_after_escalation_days: int = 180
    # partial payments by ordinary payers
    split_payment_share: float = 0.06
    # churn after each invoice
    churn_base: dict = field(
        default_factory=lambda: {"small": 0.012, "medium": 0.008, "large": 0.005, "public": 0.003}
    )
    churn_firm_reminder: float = 0.6
    churn_unneeded_reminder: float = 0.5
    churn_escalated: float = 1.6
    unneeded_window_days: int = 3
    # distress episodes
    distress_share: float = 0.08
    distress_ramp_days: int = 150
    distress_frailty_shift: float = -2.0
    distress_never_pay_shift: float = 2.5
    distress_churn_multiplier: float = 4.0
    distress_split_share: float = 0.35
    distress_amount_shift: float = -0.7

    def to_dict(self) -> dict:
        return asdict(self)

    def with_params(self, **changes) -> BehaviourModel:
        """A copy with some parameters changed (``replace`` for frozen dataclasses)."""
        return replace(self, **changes)

    def baseline(self, days_since_issue: np.ndarray, due_day: int) -> np.ndarray:
        """λ0 for each day since issue, for invoices due on ``due_day`` (per-day hazard).

        The curve of days relative to due plus, when ``receipt_level`` > 0, a hazard that
        decays with days since issue (customers who pay on receipt, whatever the terms):
        an invoice on 60-day terms then gets those early payments 60 days before its due
        date, one on 15-day terms 15 days before (term-dependent behaviour on the due axis).
        """
        t = np.asarray(days_since_issue, dtype=float)
        r = t - due_day
        pre = self.pre_due_level * np.exp(np.minimum(r, 0.0) / self.pre_due_scale_days)
        peak = self.due_peak * np.exp(-0.5 * (r / self.due_peak_width_days) ** 2)
        post = np.where(
            r > 0, self.post_due_level * np.exp(-np.maximum(r, 0.0) / self.post_due_decay_days),
            0.0,
        )
        if self.receipt_level:
            return pre + peak + post + self.receipt_level * np.exp(-t / self.receipt_scale_days)
        return pre + peak + post

    def pulse_amplitude(self, tone: str, channel: str, segment: str, personalised: bool,
                        k: int) -> float:
        """Peak relative hazard increase of the ``k``-th reminder (1-based)."""
        a = self.tone_effect[tone] * self.channel_effect[channel] * self.segment_response[segment]
        if personalised:
            a *= 1 + self.personalisation_lift
        return a * self.later_reminder_decay ** (k - 1)

    def deadline_multiplier(self, days_since_issue: np.ndarray, sent_day: int,
                            deadline_days: int) -> np.ndarray:
        """Hazard multiplier of a reminder sent on ``sent_day`` (since issue) asking for
        payment within ``deadline_days``: 1 before the reminder, rising toward
        ``1 + deadline_effect`` on the deadline day, fading after it.

        >>> m = BehaviourModel()
        >>> f = m.deadline_multiplier(np.arange(40), sent_day=33, deadline_days=7)
        >>> float(f[32]), round(float(f[33]), 3), round(float(f[39]), 3)
        (1.0, 1.097, 1.717)
        >>> g = m.deadline_multiplier(np.arange(50), sent_day=33, deadline_days=7)
        >>> float(g[40]), round(float(g[42]), 3)
        (2.0, 1.368)
        """
        t = np.asarray(days_since_issue, dtype=float)
        gap = t - (sent_day + deadline_days)  # days from the deadline (negative: before)
        shape = np.where(gap <= 0, np.exp(np.minimum(gap, 0.0) / self.deadline_rise_days),
                         np.exp(-np.maximum(gap, 0.0) / self.deadline_fade_days))
        return np.where(t >= sent_day, 1.0 + self.deadline_effect * shape, 1.0)

    def discount_multiplier(self, rate: float) -> float:
        """Hazard multiplier for discount takers inside the window (rate 0.02 → 1 + 5)."""
        return 1.0 + self.discount_boost_per_point * 100 * rate

    def fee_multiplier(self, monthly_rate: float) -> float:
        """Hazard multiplier after due when a late fee of ``monthly_rate`` is charged."""
        return 1.0 + self.fee_sensitivity * monthly_rate
