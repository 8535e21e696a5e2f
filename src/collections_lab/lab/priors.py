"""Which documented priors a strategy's simulated value rests on, and the twin with one of
them changed.

The calibration keeps at its documented prior every parameter the history cannot identify
(:attr:`~collections_lab.lab.calibrate.Calibration.priors_`, carried by the twin as
:attr:`~collections_lab.lab.twin.Twin.priors`): installment uptake is never estimated, a
tone or channel never used keeps its default response, a discount never offered keeps its
default effect. A strategy that pulls such a lever is valued by the twin on the prior
alone. :func:`relied_priors` lists those parameters for a strategy in a segment;
:func:`twin_with_prior` returns the twin with one of them multiplied by a factor, which
:func:`~collections_lab.lab.recommend.recommend` uses to re-run its pick with each
relied-on prior halved and doubled (:data:`FACTORS`).

Normalisations (the reference channel and segment, against which the estimated effects
are measured) and definitions are not assumptions about behaviour and are never listed.

Example
-------
>>> from collections_lab.model.strategies import InstallmentOffer, Reminder, Strategy
>>> s = Strategy("plan", reminders=(Reminder(3), Reminder(14)),
...              installment=InstallmentOffer(2))
>>> priors = {"installment_accept_payer": "installment uptake is not estimated",
...           "channel_effect[email]": "reference channel (tone effects are relative to it)",
...           "tone_effect[final]": "tone never used"}
>>> relied_priors(s, "small", priors)
['installment_accept_payer']
>>> prior_label("installment_accept_payer", "en")
'plan uptake by customers who would pay anyway'
"""

from __future__ import annotations

from dataclasses import replace

from ..i18n import t
from ..model.behaviour import BehaviourModel
from ..model.simulation import FIRM_TONES
from ..model.strategies import Strategy
from .calibrate import parameter_key

#: A relied-on prior is re-run halved and doubled.
FACTORS = (0.5, 2.0)

#: Shares and per-reminder decays: doubling them is capped at 1.
AT_MOST_ONE = {"installment_accept_defaulter", "installment_accept_payer",
               "discount_taker_share", "later_reminder_decay"}

#: Reasons (from the calibration) that mark a normalisation or a definition, not a prior
#: belief about behaviour.
NOT_ASSUMPTIONS = ("reference", "definition")

#: Parts of the behaviour model the twin does not simulate (never relied on).
NOT_TWIN = {"distress_share", "distress_frailty_shift", "distress_never_pay_shift",
            "distress_churn_multiplier", "split_payment_share", "unneeded_window_days"}

#: Parameters the twin fixes per invoice and customer when it is built (covariate effects,
#: reliability, never-paid share): halving or doubling them in the twin's model would not
#: move its draws, so the sensitivity check does not vary them (and says so).
FIXED_IN_TWIN = {"beta_log_amount", "beta_disputed", "beta_payment_link",
                 "beta_invoice_channel", "frailty_mean", "frailty_sd", "never_pay_logit",
                 "never_pay_frailty_effect", "never_pay_disputed"}

#: Parameters every strategy's value rests on in a segment (``{segment}`` filled in): the
#: payment baseline, the customers' reliability and the never-paid share. When the
#: history does not identify one of them, every pick rests on its prior.
EVERY_STRATEGY = ("pre_due_level", "pre_due_scale_days", "due_peak", "due_peak_width_days",
                  "post_due_level", "post_due_decay_days", "beta_log_amount",
                  "beta_disputed", "beta_payment_link", "frailty_mean[{segment}]",
                  "frailty_sd[{segment}]", "never_pay_logit[{segment}]",
                  "never_pay_frailty_effect", "never_pay_disputed")


def relied_priors(strategy: Strategy, segment: str, priors: dict) -> list[str]:
    """Parameters of ``priors`` (name → reason, as in ``Calibration.priors_``) that the
    twin's value of ``strategy`` in ``segment`` depends on, in a stable order.

    A reminder uses its tone, channel, the segment's response, the pulse's duration,
    personalisation (if named), the decay of later reminders (from the second) and, if it
    states a payment deadline, the deadline's effect and shape; any
    reminder can annoy a customer about to pay, a firm one more; a discount uses the
    discount response and the segment's share of takers; an installment offer its uptake
    and timing; escalation its churn; every strategy the segment's base churn and the
    parameters of :data:`EVERY_STRATEGY` (payment baseline, reliability, never-paid share).
    """
    names: list[str] = []
    for k, r in enumerate(strategy.reminders, start=1):
        names += [f"tone_effect[{r.tone}]", f"channel_effect[{r.channel}]"]
        if r.personalised:
            names.append("personalisation_lift")
        if k > 1:
            names.append("later_reminder_decay")
        if r.deadline_days is not None:
            names += ["deadline_effect", "deadline_rise_days", "deadline_fade_days"]
    if strategy.reminders:
        names += [f"segment_response[{segment}]", "pulse_decay_days", "churn_unneeded_reminder"]
        if any(r.tone in FIRM_TONES for r in strategy.reminders):
            names.append("churn_firm_reminder")
    if strategy.discount is not None:
        names += ["discount_boost_per_point", f"discount_taker_share[{segment}]"]
    if strategy.late_fee_rate:
        names.append("fee_sensitivity")
    if strategy.installment is not None:
        names += ["installment_accept_defaulter", "installment_accept_payer",
                  "installment_first_delay_days"]
    if strategy.escalation_day is not None:
        names.append("churn_escalated")
    names.append(f"churn_base[{segment}]")
    names += [n.format(segment=segment) for n in EVERY_STRATEGY]
    return [n for n in dict.fromkeys(names)
            if n in priors and not str(priors[n]).startswith(NOT_ASSUMPTIONS)]


def prior_value(model: BehaviourModel, name: str) -> float:
    """The value of parameter ``name`` (``"field"`` or ``"field[key]"``) in ``model``."""
    field, key = parameter_key(name)
    value = getattr(model, field)
    return float(value[key] if key is not None else value)


def scaled_prior(model: BehaviourModel, name: str, factor: float) -> BehaviourModel:
    """``model`` with parameter ``name`` multiplied by ``factor`` (shares and decays capped
    at 1, day counts rounded to whole days)."""
    field, key = parameter_key(name)
    current = getattr(model, field)
    old = current[key] if key is not None else current
    new = old * factor
    if field in AT_MOST_ONE:
        new = min(new, 1.0)
    if isinstance(old, int) and not isinstance(old, bool):
        new = int(round(new))
    if key is None:
        return model.with_params(**{field: new})
    values = dict(current)
    values[key] = new
    return model.with_params(**{field: values})


def twin_with_prior(twin, name: str, factor: float):
    """A copy of ``twin`` (and of its parameter draws) with prior ``name`` × ``factor``."""
    return replace(twin, model=scaled_prior(twin.model, name, factor),
                   models=[scaled_prior(m, name, factor) for m in twin.models])


def prior_label(name: str, lang: str = "en") -> str:
    """Plain-language name of a prior parameter (the technical name if none is known)."""
    field, key = parameter_key(name)
    label = t(f"prior[{field}]", lang)
    if label == f"prior[{field}]":
        return name
    return label.format(key=key or "")


def prior_labels(names, lang: str = "en", at_most: int = 8) -> str:
    """Plain-language names of parameters ``names`` (duplicates once), the first
    ``at_most`` and how many more.

    >>> prior_labels(["never_pay_logit[small]", "post_due_level"], at_most=1)
    'share of never-paid invoices in segment small (and 1 more)'
    """
    items = list(dict.fromkeys(prior_label(n, lang) for n in names))
    text = "; ".join(items[:at_most])
    if len(items) > at_most:
        text += t("lab.and_more", lang, n=len(items) - at_most)
    return text


__all__ = ["EVERY_STRATEGY", "FACTORS", "FIXED_IN_TWIN", "NOT_TWIN", "prior_label",
           "prior_labels", "prior_value", "relied_priors", "scaled_prior",
           "twin_with_prior"]
