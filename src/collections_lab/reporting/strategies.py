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

from ..i18n import format_number, format_pct, t
from ..model.strategies import MIN_REMINDERS_BEFORE_ESCALATION, Strategy, policy_problems


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


def arms_table(experiment, lang: str = "en") -> pd.DataFrame:
    """What each arm of an experiment does, for the report page: the arm's name, its role
    (control or treatment) and what it does in business words (:func:`describe_strategy`,
    in ``lang``: reminders with their days relative to due and any payment deadline they
    state, offers, legal collection). An arm no strategies file defines (known only from
    the assignments table) says "–": what it does is not known.

    Example:
        >>> from collections_lab.model.plans import Experiment
        >>> from collections_lab.model.strategies import example_strategies
        >>> s = example_strategies()
        >>> e = Experiment("x", {"a": s["one_friendly_after_due"], "b": Strategy("b")}, control="a")
        >>> arms_table(e, "es").iloc[:, 2].tolist()
        ['recordatorio 1: correo en tono amable 3 días después del vencimiento', '–']
    """
    rows = []
    for name, strategy in experiment.arms.items():
        role = "xa_control" if name == experiment.control_arm else "xa_treatment"
        known = strategy != Strategy(name) or bool(strategy.description)
        rows.append({t("xa_arm", lang): name, t("xa_role", lang): t(role, lang),
                     t("xa_description", lang): describe_strategy(strategy, lang) if known
                     else "–"})
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


__all__ = ["arms_table", "describe_strategy", "policy_sentence", "strategy_table"]
