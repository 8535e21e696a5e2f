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

from ..i18n import register, t
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

register({
    "en": {
        "prior[pre_due_level]": "payments before the due date",
        "prior[pre_due_scale_days]": "how early before the due date payments start",
        "prior[due_peak]": "payments on the due date",
        "prior[due_peak_width_days]": "spread of payments around the due date",
        "prior[post_due_level]": "payments after the due date",
        "prior[post_due_decay_days]": "how fast late payments slow down",
        "prior[beta_log_amount]": "effect of the invoice amount on payment speed",
        "prior[beta_disputed]": "effect of a dispute on payment speed",
        "prior[beta_payment_link]": "effect of a payment link on payment speed",
        "prior[beta_invoice_channel]": "effect of sending invoices by {key}",
        "prior[frailty_mean]": "payment speed of segment {key}",
        "prior[frailty_sd]": "spread of payment speed among customers of segment {key}",
        "prior[never_pay_logit]": "share of never-paid invoices in segment {key}",
        "prior[never_pay_frailty_effect]": "link between slow payment and never paying",
        "prior[never_pay_disputed]": "share of disputed invoices never paid",
        "prior[tone_effect]": "response to the '{key}' tone",
        "prior[channel_effect]": "response to {key} reminders",
        "prior[segment_response]": "reminder response of segment {key}",
        "prior[personalisation_lift]": "lift of personalised reminders",
        "prior[later_reminder_decay]": "effect of second and later reminders",
        "prior[pulse_decay_days]": "how long a reminder's effect lasts",
        "prior[deadline_effect]": "response to a payment deadline stated in a reminder",
        "prior[deadline_rise_days]": "how early before a reminder's deadline payments pick up",
        "prior[deadline_fade_days]": "how long a passed reminder deadline still acts",
        "prior[discount_boost_per_point]": "response to early-payment discounts",
        "prior[discount_taker_share]": "share of discount takers in segment {key}",
        "prior[fee_sensitivity]": "response to late fees",
        "prior[installment_accept_defaulter]": "plan uptake by customers who would not pay",
        "prior[installment_accept_payer]": "plan uptake by customers who would pay anyway",
        "prior[installment_first_delay_days]": "days to a plan's first installment",
        "prior[churn_firm_reminder]": "churn caused by firm reminders",
        "prior[churn_unneeded_reminder]": "churn caused by reminders to customers about to pay",
        "prior[churn_escalated]": "churn caused by escalation",
        "prior[churn_base]": "base churn of segment {key}",
    },
    "es": {
        "prior[pre_due_level]": "pagos antes del vencimiento",
        "prior[pre_due_scale_days]": "con cuánta antelación al vencimiento empiezan los pagos",
        "prior[due_peak]": "pagos el día del vencimiento",
        "prior[due_peak_width_days]": "dispersión de los pagos en torno al vencimiento",
        "prior[post_due_level]": "pagos después del vencimiento",
        "prior[post_due_decay_days]": "rapidez con que se frenan los pagos atrasados",
        "prior[beta_log_amount]": "efecto del importe de la factura en la rapidez de pago",
        "prior[beta_disputed]": "efecto de una disputa en la rapidez de pago",
        "prior[beta_payment_link]": "efecto de un enlace de pago en la rapidez de pago",
        "prior[beta_invoice_channel]": "efecto de enviar las facturas por {key}",
        "prior[frailty_mean]": "rapidez de pago del segmento {key}",
        "prior[frailty_sd]": "dispersión de la rapidez de pago entre clientes del segmento "
                             "{key}",
        "prior[never_pay_logit]": "proporción de facturas nunca pagadas en el segmento {key}",
        "prior[never_pay_frailty_effect]": "relación entre pagar tarde y no pagar nunca",
        "prior[never_pay_disputed]": "proporción de facturas en disputa nunca pagadas",
        "prior[tone_effect]": "respuesta al tono «{key}»",
        "prior[channel_effect]": "respuesta a recordatorios por {key}",
        "prior[segment_response]": "respuesta a recordatorios del segmento {key}",
        "prior[personalisation_lift]": "efecto de personalizar los recordatorios",
        "prior[later_reminder_decay]": "efecto del segundo recordatorio y siguientes",
        "prior[pulse_decay_days]": "duración del efecto de un recordatorio",
        "prior[deadline_effect]": "respuesta a un plazo de pago indicado en un recordatorio",
        "prior[deadline_rise_days]": "con cuánta antelación al plazo de un recordatorio "
                                     "aumentan los pagos",
        "prior[deadline_fade_days]": "cuánto dura el efecto de un plazo ya vencido",
        "prior[discount_boost_per_point]": "respuesta a los descuentos por pronto pago",
        "prior[discount_taker_share]": "proporción de clientes que aprovechan descuentos en "
                                       "el segmento {key}",
        "prior[fee_sensitivity]": "respuesta a los recargos por mora",
        "prior[installment_accept_defaulter]": "aceptación de planes de pago por clientes que "
                                               "no pagarían",
        "prior[installment_accept_payer]": "aceptación de planes de pago por clientes que "
                                           "pagarían de todos modos",
        "prior[installment_first_delay_days]": "días hasta la primera cuota de un plan",
        "prior[churn_firm_reminder]": "abandono causado por recordatorios firmes",
        "prior[churn_unneeded_reminder]": "abandono causado por recordatorios a clientes que "
                                          "iban a pagar",
        "prior[churn_escalated]": "abandono causado por el escalado",
        "prior[churn_base]": "abandono base del segmento {key}",
    },
})


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
        more = len(items) - at_most
        text += f" (y {more} más)" if lang == "es" else f" (and {more} more)"
    return text


__all__ = ["EVERY_STRATEGY", "FACTORS", "FIXED_IN_TWIN", "NOT_TWIN", "prior_label",
           "prior_labels", "prior_value", "relied_priors", "scaled_prior",
           "twin_with_prior"]
