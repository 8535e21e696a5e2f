"""Reminder strategies as data: schedules, discounts, fees, installment offers, escalation.

A strategy is what a collections team decides: which reminders to send relative to the due
date (tone, channel, personalisation), whether to offer an early-payment discount, charge
a late fee, offer an installment plan at some reminder, and when to escalate to legal
collection. Strategies load from and save to YAML so analysts can edit them without code.

Days in a strategy are **relative to the due date** for reminders and escalation (``-3`` is
three days before due, ``7`` a week after) and **since issue** for a discount window (the
"10" of "2/10 net 30"). A reminder's own payment deadline (``deadline_days``: "please pay
within 7 days of this reminder") counts **days after the reminder**.

Two policy rules practitioners apply are checks, not validity rules (a strategy that breaks
them is still a strategy one can simulate): :func:`policy_problems` says whether a strategy
escalates to legal collection after fewer than ``min_reminders_before_escalation``
reminders (default :data:`MIN_REMINDERS_BEFORE_ESCALATION` = 2, guidance for collections:
never escalate before at least two reminders).

Example
-------
>>> s = Strategy("nudge", reminders=(Reminder(-3), Reminder(7, tone="firm")))
>>> s.reminder_days
(-3, 7)
>>> Strategy.from_dict(s.to_dict()) == s
True
>>> asks = Strategy("asks", reminders=(Reminder(3, deadline_days=7),), escalation_day=60)
>>> asks.to_dict()["reminders"][0]["deadline_days"]
7
>>> policy_problems(asks)
['escalates after 1 reminder(s), policy asks for at least 2']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from ..data.schema import MAX_DEADLINE_DAYS, REMINDER_CHANNELS, TONES
from ..i18n import t
from ..i18n.display import SettingsCard


class StrategyError(ValueError):
    """A strategy (or strategy file) is invalid; the message names where and why.

    Example:
        >>> cl.Reminder(3, tone="rude")
        Reminder(day=3, tone='rude', channel='email', personalised=False, deadline_days=None)
    """


#: Policy default: at least this many reminders before legal escalation.
MIN_REMINDERS_BEFORE_ESCALATION = 2


@dataclass(frozen=True)
class Reminder(SettingsCard):
    """One reminder: ``day`` relative to the due date (negative = before due).

    ``deadline_days``: the reminder asks for payment within this many days of being sent
    ("please pay within 7 days"); ``None``: it states no deadline of its own.

    Example:
        >>> cl.Reminder(-3, "friendly", "sms", deadline_days=7)
        Reminder(day=-3, tone='friendly', channel='sms', personalised=False, deadline_days=7)
    """

    day: int
    tone: str = "friendly"
    channel: str = "email"
    personalised: bool = False
    deadline_days: int | None = None

    def to_dict(self) -> dict:
        """Plain dict for YAML (``deadline_days`` only when the reminder states one)."""
        d = asdict(self)
        if self.deadline_days is None:
            del d["deadline_days"]
        return d


@dataclass(frozen=True)
class Discount(SettingsCard):
    """Early-payment discount: ``rate`` (0.02 = 2%) if paid within ``within_days`` of issue.

    Example:
        >>> cl.Strategy("early", discount=cl.Discount(0.02, 10)).discount
        Discount(rate=0.02, within_days=10)
    """

    rate: float
    within_days: int

    def annualised_rate(self, net_days: int = 30) -> float:
        """Annual cost of the discount to the customer who skips it (2/10 net 30 ≈ 0.372).

        Uses the standard formula ``rate / (1 - rate) * 365 / (net_days - within_days)``.

        >>> round(Discount(0.02, 10).annualised_rate(30), 3)
        0.372
        """
        span = net_days - self.within_days
        if span <= 0:
            raise StrategyError("discount window must end before the net terms")
        return self.rate / (1 - self.rate) * 365.0 / span


@dataclass(frozen=True)
class InstallmentOffer(SettingsCard):
    """Offer a payment plan with the ``at_reminder``-th reminder (1-based).

    Example:
        >>> offer = cl.InstallmentOffer(at_reminder=2, n_installments=3)
        >>> cl.Strategy("plan", reminders=(cl.Reminder(3), cl.Reminder(14)), installment=offer).installment
        InstallmentOffer(at_reminder=2, n_installments=3, interval_days=30)
    """

    at_reminder: int
    n_installments: int = 3
    interval_days: int = 30


@dataclass(frozen=True)
class Strategy:
    """A collections strategy. See the module docstring for day conventions.

    ``late_fee_rate`` is the fee charged per 30 days past due as a share of the amount
    (0.015 = 1.5% a month); ``escalation_day`` is days past due when unpaid invoices go to
    legal collection (``None``: never; they are written off at the model's horizon).

    Example:
        >>> firm = cl.Strategy("firm", reminders=(cl.Reminder(3), cl.Reminder(10, "firm")),
        ...                    escalation_day=60)
        >>> [r.day for r in firm.reminders], firm.escalation_day
        ([3, 10], 60)
    """

    name: str
    reminders: tuple[Reminder, ...] = ()
    discount: Discount | None = None
    late_fee_rate: float = 0.0
    installment: InstallmentOffer | None = None
    escalation_day: int | None = None
    description: str = ""
    _errors: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "reminders", tuple(sorted(self.reminders, key=lambda r: r.day)))
        problems = self.problems()
        if problems:
            raise StrategyError(f"strategy {self.name!r}: " + "; ".join(problems))

    def headline(self, lang: str | None = None) -> str:
        """The strategy in one sentence: reminders, discount, legal collection."""
        days = ", ".join(f"{r.day:+d}" for r in self.reminders) or "—"
        text = t("strategy.card", lang, name=self.name, n=len(self.reminders), days=days)
        if self.discount is not None:
            text += t("strategy.card_discount", lang, rate=f"{self.discount.rate:.0%}",
                      days=self.discount.within_days)
        if self.escalation_day is not None:
            text += t("strategy.card_escalation", lang, day=self.escalation_day)
        return text + "."

    def _repr_html_(self) -> str:
        """A card: the headline, the reminders as a table (notebooks)."""
        import pandas as pd

        from ..i18n import card_html

        table = pd.DataFrame([{"day": r.day, "tone": r.tone, "channel": r.channel,
                               "personalised": r.personalised,
                               "deadline_days": r.deadline_days} for r in self.reminders])
        return card_html(self.headline(), None, [("", table)] if len(table) else [],
                         notes=[self.description] if self.description else [])

    @property
    def reminder_days(self) -> tuple[int, ...]:
        return tuple(r.day for r in self.reminders)

    def problems(self) -> list[str]:
        """Every rule this strategy breaks, as readable sentences (empty if valid)."""
        out = []
        if not self.name or not isinstance(self.name, str):
            out.append("a strategy needs a non-empty name")
        days = [r.day for r in self.reminders]
        if len(set(days)) != len(days):
            out.append(f"two reminders on the same day ({sorted(days)})")
        for i, r in enumerate(self.reminders, start=1):
            if r.tone not in TONES:
                out.append(f"reminder {i}: unknown tone {r.tone!r} (known: {', '.join(TONES)})")
            if r.channel not in REMINDER_CHANNELS:
                out.append(
                    f"reminder {i}: unknown channel {r.channel!r} "
                    f"(known: {', '.join(REMINDER_CHANNELS)})"
                )
            if not -60 <= r.day <= 365:
                out.append(f"reminder {i}: day {r.day} is outside -60..365 days from due")
            out += _deadline_problems(i, r, self.escalation_day)
        if self.discount is not None:
            if not 0 < self.discount.rate < 0.5:
                out.append(f"discount rate {self.discount.rate} must be between 0 and 0.5")
            if self.discount.within_days < 0:
                out.append(f"discount window {self.discount.within_days} days must be >= 0")
        if self.late_fee_rate < 0 or self.late_fee_rate > 0.2:
            out.append(f"late fee rate {self.late_fee_rate} must be between 0 and 0.2 a month")
        if self.installment is not None:
            k = self.installment.at_reminder
            if not 1 <= k <= len(self.reminders):
                out.append(
                    f"installment offer at reminder {k}, but the strategy has "
                    f"{len(self.reminders)} reminder(s)"
                )
            if self.installment.n_installments < 2:
                out.append("an installment plan needs at least 2 installments")
            if self.installment.interval_days < 1:
                out.append("installment interval must be at least 1 day")
        if self.escalation_day is not None:
            if self.escalation_day < 0:
                out.append(f"escalation day {self.escalation_day} is before the due date")
            late = [d for d in days if d >= self.escalation_day]
            if late:
                out.append(
                    f"reminder(s) on day {late} at or after escalation on day "
                    f"{self.escalation_day}"
                )
        return out

    def to_dict(self) -> dict:
        """Plain dict for YAML (``None`` parts omitted)."""
        d = {"name": self.name}
        if self.description:
            d["description"] = self.description
        d["reminders"] = [r.to_dict() for r in self.reminders]
        if self.discount is not None:
            d["discount"] = asdict(self.discount)
        if self.late_fee_rate:
            d["late_fee_rate"] = self.late_fee_rate
        if self.installment is not None:
            d["installment"] = asdict(self.installment)
        if self.escalation_day is not None:
            d["escalation_day"] = self.escalation_day
        return d

    @classmethod
    def from_dict(cls, data: dict, where: str = "") -> Strategy:
        """Build from a dict (as in YAML); errors name ``where`` and the field."""
        prefix = f"{where}: " if where else ""
        if not isinstance(data, dict):
            raise StrategyError(f"{prefix}a strategy must be a mapping, got {type(data).__name__}")
        known = {"name", "description", "reminders", "discount", "late_fee_rate",
                 "installment", "escalation_day"}
        unknown = set(data) - known
        if unknown:
            raise StrategyError(f"{prefix}unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        try:
            reminders = tuple(
                Reminder(**_checked(r, Reminder, f"{prefix}reminder {i}"))
                for i, r in enumerate(data.get("reminders") or [], start=1)
            )
            discount = data.get("discount")
            installment = data.get("installment")
            return cls(
                name=str(data.get("name", "")),
                description=str(data.get("description", "")),
                reminders=reminders,
                discount=Discount(**_checked(discount, Discount, f"{prefix}discount"))
                if discount
                else None,
                late_fee_rate=float(data.get("late_fee_rate", 0.0)),
                installment=InstallmentOffer(
                    **_checked(installment, InstallmentOffer, f"{prefix}installment")
                )
                if installment
                else None,
                escalation_day=(
                    int(data["escalation_day"]) if data.get("escalation_day") is not None else None
                ),
            )
        except StrategyError as exc:
            if prefix and not str(exc).startswith(prefix):
                raise StrategyError(f"{prefix}{exc}") from None
            raise


    @property
    def has_deadlines(self) -> bool:
        """Whether any reminder states a payment deadline of its own."""
        return any(r.deadline_days is not None for r in self.reminders)

    @property
    def reminders_before_escalation(self) -> int | None:
        """Reminders sent before legal escalation (``None`` if the strategy never escalates)."""
        if self.escalation_day is None:
            return None
        return sum(1 for r in self.reminders if r.day < self.escalation_day)


def _deadline_problems(i: int, r: Reminder, escalation_day: int | None) -> list[str]:
    """Rules for a reminder's own payment deadline (days after the reminder)."""
    w = r.deadline_days
    if w is None:
        return []
    if isinstance(w, bool) or not isinstance(w, int | np.integer):
        return [f"reminder {i}: deadline_days must be a whole number of days, got {w!r}"]
    if not 1 <= w <= MAX_DEADLINE_DAYS:
        return [f"reminder {i}: deadline of {w} day(s) is outside 1..{MAX_DEADLINE_DAYS} days "
                "after the reminder"]
    if escalation_day is not None and r.day + w >= escalation_day:
        return [f"reminder {i}: its deadline (due + {r.day + w}) is not before escalation "
                f"on due + {escalation_day}"]
    return []


def policy_problems(strategy: Strategy,
                    min_reminders_before_escalation: int = MIN_REMINDERS_BEFORE_ESCALATION,
                    lang: str = "en") -> list[str]:
    """The collection-policy rules ``strategy`` breaks (empty if none), in ``lang``.

    A strategy that escalates to legal collection must send at least
    ``min_reminders_before_escalation`` reminders before it (0 disables the rule); a
    strategy that never escalates is not concerned.

    >>> policy_problems(Strategy("x", reminders=(Reminder(3), Reminder(14)), escalation_day=60))
    []
    >>> policy_problems(Strategy("y", reminders=(Reminder(3),)))
    []
    >>> policy_problems(Strategy("z", reminders=(Reminder(3),), escalation_day=60), lang="es")
    ['pasa a cobro judicial tras 1 recordatorio(s), la política pide al menos 2']
    """
    n = strategy.reminders_before_escalation
    if n is None or n >= min_reminders_before_escalation:
        return []
    return [t("policy_escalation", lang).format(n=n, min=min_reminders_before_escalation)]


def _checked(value, kind, where: str) -> dict:
    if not isinstance(value, dict):
        raise StrategyError(f"{where}: expected a mapping, got {value!r}")
    allowed = set(kind.__dataclass_fields__)
    unknown = set(value) - allowed
    if unknown:
        raise StrategyError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(allowed)}")
    return value


def load_strategies(path: str | Path) -> dict[str, Strategy]:
    """Load named strategies from a YAML file (``strategies: [ {name: ..., ...}, ... ]``).

    Every problem in the file is reported at once, each naming the file and strategy.

    Example:
        >>> strategies = cl.load_strategies(f"{SAMPLE}/strategies.yml")
        >>> strategies["business_as_usual"].reminders[0].day
        3
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StrategyError(f"{path}: strategy file not found") from None
    except yaml.YAMLError as exc:
        raise StrategyError(f"{path}: not valid YAML ({exc})") from None
    items = (doc or {}).get("strategies") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise StrategyError(f"{path}: expected a top-level 'strategies:' list")
    out: dict[str, Strategy] = {}
    errors = []
    for i, item in enumerate(items, start=1):
        name = item.get("name", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            s = Strategy.from_dict(item, where=f"{path}: strategy {name!r}")
        except StrategyError as exc:
            errors.append(str(exc))
            continue
        if s.name in out:
            errors.append(f"{path}: strategy name {s.name!r} appears twice")
        out[s.name] = s
    if errors:
        raise StrategyError("\n".join(errors))
    return out


def save_strategies(strategies, path: str | Path) -> Path:
    """Write strategies (a dict or iterable of :class:`Strategy`) to YAML; returns the path.

    Example:
        >>> import tempfile
        >>> path = cl.save_strategies(cl.example_strategies(), f"{tempfile.mkdtemp()}/mine.yml")
        >>> sorted(cl.load_strategies(path)) == sorted(cl.example_strategies())
        True
    """
    items = strategies.values() if isinstance(strategies, dict) else strategies
    path = Path(path)
    text = yaml.safe_dump(
        {"strategies": [s.to_dict() for s in items]}, sort_keys=False, allow_unicode=True
    )
    path.write_text(text, encoding="utf-8")
    return path


def example_strategies() -> dict[str, Strategy]:
    """The named example strategies, defined here (no file is read).

    The sample data's ``strategies.yml`` holds these plus the sample's business as usual
    and its experiment's eight arms: load those with ``cl.load_sample().strategies`` or
    :func:`load_strategies`.

    Example:
        >>> example_strategies()["nudge_then_firm"].reminder_days
        (-3, 7, 21)
    """
    return {
        s.name: s
        for s in (
            Strategy("no_reminders", description="Send the invoice and wait."),
            Strategy(
                "one_friendly_after_due",
                reminders=(Reminder(3, "friendly", "email"),),
                description="One friendly email three days after the due date.",
            ),
            Strategy(
                "nudge_then_firm",
                reminders=(
                    Reminder(-3, "friendly", "email", personalised=True),
                    Reminder(7, "firm", "email"),
                    Reminder(21, "firm", "sms"),
                ),
                escalation_day=60,
                description="A friendly pre-due nudge, then firm follow-ups; legal at 60 days.",
            ),
            Strategy(
                "discount_2_10_net_30",
                reminders=(Reminder(3, "friendly", "email"),),
                discount=Discount(0.02, 10),
                description="2% off if paid within 10 days of issue, one reminder after due.",
            ),
            Strategy(
                "installments_at_second",
                reminders=(
                    Reminder(3, "friendly", "email"),
                    Reminder(17, "neutral", "email"),
                    Reminder(31, "firm", "phone"),
                ),
                installment=InstallmentOffer(at_reminder=2, n_installments=3, interval_days=30),
                escalation_day=75,
                description="Offer a three-part plan with the second reminder.",
            ),
            Strategy(
                "firm_with_late_fee",
                reminders=(Reminder(1, "neutral", "email"), Reminder(15, "firm", "email")),
                late_fee_rate=0.015,
                escalation_day=60,
                description="Late interest of 1.5% a month, firm follow-up, legal at 60 days.",
            ),
            Strategy(
                "pay_within_7_days",
                reminders=(
                    Reminder(3, "friendly", "email", deadline_days=7),
                    Reminder(17, "firm", "email"),
                ),
                escalation_day=60,
                description="The first reminder asks for payment within 7 days; a firm "
                            "follow-up a week after that deadline; legal at 60 days.",
            ),
            Strategy(
                "deadline_then_plan",
                reminders=(
                    Reminder(3, "friendly", "email", deadline_days=7),
                    Reminder(17, "neutral", "email", deadline_days=14),
                    Reminder(38, "firm", "phone"),
                ),
                installment=InstallmentOffer(at_reminder=2, n_installments=3, interval_days=30),
                escalation_day=75,
                description="The first reminder asks for payment within 7 days, the second "
                            "offers a three-part plan and asks for payment within 14 days; "
                            "legal at 75 days, after three reminders.",
            ),
        )
    }
