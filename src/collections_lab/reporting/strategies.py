"""Strategies in business words, for the report pages: what each one does and whether it
meets the collection policy.

A strategy's name is the analyst's shorthand (``pay_within_7_days``); a stakeholder reads
what it does: "reminder 1: friendly email 3 days after due, asks for payment within 7
days". Every word comes from the catalogue, in the report's language.

Example
-------
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()["pay_within_7_days"]
>>> describe_strategy(s)
'reminder 1: friendly email 3 days after due, asks for payment within 7 days; reminder 2: firm email 17 days after due; legal collection 60 days after due'
>>> describe_strategy(s, "es")
'recordatorio 1: correo en tono amable 3 días después del vencimiento, pide el pago en 7 días; recordatorio 2: correo en tono firme 17 días después del vencimiento; cobro judicial 60 días después del vencimiento'
"""

from __future__ import annotations

import pandas as pd

from ..i18n import format_number, format_pct, register, t
from ..model.strategies import MIN_REMINDERS_BEFORE_ESCALATION, Strategy, policy_problems

register({
    "en": {
        "sd_reminder": "reminder {k}: {tone} {channel} {when}",
        "sd_personalised": ", addressed by name",
        "sd_deadline": ", asks for payment within {n} days",
        "sd_deadline_1": ", asks for payment within 1 day",
        "sd_before": "{n} days before due", "sd_before_1": "1 day before due",
        "sd_on_due": "on the due date",
        "sd_after": "{n} days after due", "sd_after_1": "1 day after due",
        "sd_none": "no reminders",
        "sd_discount": "{rate} off if paid within {n} days of issue",
        "sd_fee": "late interest of {rate} a month",
        "sd_plan": "a {n}-part payment plan offered with reminder {k}",
        "sd_escalation": "legal collection {when}",
        "sd_tone[friendly]": "friendly", "sd_tone[neutral]": "neutral",
        "sd_tone[firm]": "firm", "sd_tone[final]": "final-notice",
        "sd_channel[email]": "email", "sd_channel[sms]": "SMS",
        "sd_channel[whatsapp]": "WhatsApp message", "sd_channel[letter]": "letter",
        "sd_channel[phone]": "phone call",
        "sd_col_strategy": "strategy", "sd_col_does": "what it does",
        "sd_col_before": "reminders before legal collection",
        "sd_col_policy": "meets the collection policy",
        "sd_never": "never escalates", "sd_yes": "yes", "sd_no": "no",
        "sd_policy": "Collection policy: at least {n} reminders before legal collection. "
                     "Strategies that break it are simulated for comparison but never "
                     "recommended.",
        "sd_policy_off": "No minimum number of reminders before legal collection is "
                         "required.",
    },
    "es": {
        "sd_reminder": "recordatorio {k}: {channel} en tono {tone} {when}",
        "sd_personalised": ", con el nombre de la persona",
        "sd_deadline": ", pide el pago en {n} días",
        "sd_deadline_1": ", pide el pago en 1 día",
        "sd_before": "{n} días antes del vencimiento", "sd_before_1": "1 día antes del vencimiento",
        "sd_on_due": "el día del vencimiento",
        "sd_after": "{n} días después del vencimiento",
        "sd_after_1": "1 día después del vencimiento",
        "sd_none": "sin recordatorios",
        "sd_discount": "{rate} de descuento si se paga en {n} días desde la emisión",
        "sd_fee": "interés de mora del {rate} al mes",
        "sd_plan": "un plan de pago en {n} cuotas ofrecido con el recordatorio {k}",
        "sd_escalation": "cobro judicial {when}",
        "sd_tone[friendly]": "amable", "sd_tone[neutral]": "neutro",
        "sd_tone[firm]": "firme", "sd_tone[final]": "de último aviso",
        "sd_channel[email]": "correo", "sd_channel[sms]": "SMS",
        "sd_channel[whatsapp]": "mensaje de WhatsApp", "sd_channel[letter]": "carta",
        "sd_channel[phone]": "llamada",
        "sd_col_strategy": "estrategia", "sd_col_does": "qué hace",
        "sd_col_before": "recordatorios antes del cobro judicial",
        "sd_col_policy": "cumple la política de cobro",
        "sd_never": "nunca escala", "sd_yes": "sí", "sd_no": "no",
        "sd_policy": "Política de cobro: al menos {n} recordatorios antes del cobro judicial. "
                     "Las estrategias que la incumplen se simulan para comparar, pero nunca "
                     "se recomiendan.",
        "sd_policy_off": "No se exige un número mínimo de recordatorios antes del cobro "
                         "judicial.",
    },
})


def _days(key: str, n: int, lang: str) -> str:
    return t(f"{key}_1", lang) if n == 1 else t(key, lang).format(n=format_number(n, 0, lang))


def _when(day: int, lang: str) -> str:
    if day == 0:
        return t("sd_on_due", lang)
    return _days("sd_before" if day < 0 else "sd_after", abs(day), lang)


def describe_strategy(strategy: Strategy, lang: str = "en") -> str:
    """What ``strategy`` does, in business words (reminders in order with their tone,
    channel, timing and any payment deadline they state; discount, late fee, payment plan
    and legal collection)."""
    parts = []
    for k, r in enumerate(strategy.reminders, start=1):
        text = t("sd_reminder", lang).format(
            k=k, tone=t(f"sd_tone[{r.tone}]", lang), channel=t(f"sd_channel[{r.channel}]", lang),
            when=_when(r.day, lang))
        if r.personalised:
            text += t("sd_personalised", lang)
        if r.deadline_days is not None:
            text += _days("sd_deadline", r.deadline_days, lang)
        parts.append(text)
    if not strategy.reminders:
        parts.append(t("sd_none", lang))
    if strategy.discount is not None:
        parts.append(t("sd_discount", lang).format(
            rate=format_pct(strategy.discount.rate, 0, lang),
            n=format_number(strategy.discount.within_days, 0, lang)))
    if strategy.late_fee_rate:
        parts.append(t("sd_fee", lang).format(rate=format_pct(strategy.late_fee_rate, 1, lang)))
    if strategy.installment is not None:
        parts.append(t("sd_plan", lang).format(n=strategy.installment.n_installments,
                                               k=strategy.installment.at_reminder))
    if strategy.escalation_day is not None:
        parts.append(t("sd_escalation", lang).format(when=_when(strategy.escalation_day, lang)))
    return "; ".join(parts)


def strategy_table(strategies, lang: str = "en",
                   min_reminders_before_escalation: int = MIN_REMINDERS_BEFORE_ESCALATION
                   ) -> pd.DataFrame:
    """One row per strategy (a list or dict of :class:`Strategy`): its name, what it does
    in business words, the reminders it sends before legal collection and whether it meets
    the collection policy (:func:`~collections_lab.model.strategies.policy_problems`).

    >>> from collections_lab.model.strategies import example_strategies
    >>> s = example_strategies()
    >>> table = strategy_table([s["one_friendly_after_due"], s["pay_within_7_days"]])
    >>> table.iloc[:, 2:].to_numpy().tolist()
    [['never escalates', 'yes'], ['2', 'yes']]
    """
    items = strategies.values() if isinstance(strategies, dict) else strategies
    rows = []
    for s in items:
        n = s.reminders_before_escalation
        ok = not policy_problems(s, min_reminders_before_escalation)
        rows.append({t("sd_col_strategy", lang): s.name,
                     t("sd_col_does", lang): describe_strategy(s, lang),
                     t("sd_col_before", lang): t("sd_never", lang) if n is None
                     else format_number(n, 0, lang),
                     t("sd_col_policy", lang): t("sd_yes" if ok else "sd_no", lang)})
    return pd.DataFrame(rows)


def policy_sentence(min_reminders_before_escalation: int = MIN_REMINDERS_BEFORE_ESCALATION,
                    lang: str = "en") -> str:
    """The collection policy the lab applies, in one sentence for the report page.

    >>> policy_sentence(2, "es")[:52]
    'Política de cobro: al menos 2 recordatorios antes de'
    """
    if min_reminders_before_escalation <= 0:
        return t("sd_policy_off", lang)
    return t("sd_policy", lang).format(n=min_reminders_before_escalation)


__all__ = ["describe_strategy", "policy_sentence", "strategy_table"]
