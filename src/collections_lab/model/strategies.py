"""Reminder strategies as data: schedules, discounts, fees, installment offers, escalation.

A strategy is what a collections team decides: which reminders to send relative to the due
date (tone, channel, personalisation), whether to offer an early-payment discount, charge
a late fee, offer an installment plan at some reminder, and when to escalate to legal
collection. Strategies load from and save to YAML so analysts can edit them without code.

Days in a strategy are **relative to the due date** for reminders and escalation (``-3`` is
three days before due, ``7`` a week after) and **since issue** for a discount window (the
"10" of "2/10 net 30").

Example
-------
>>> s = Strategy("nudge", reminders=(Reminder(-3), Reminder(7, tone="firm")))
>>> s.reminder_days
(-3, 7)
>>> Strategy.from_dict(s.to_dict()) == s
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..data.schema import REMINDER_CHANNELS, TONES


class StrategyError(ValueError):
    """A strategy (or strategy file) is invalid; the message names where and why."""


@dataclass(frozen=True)
class Reminder:
    """One reminder: ``day`` relative to the due date (negative = before due)."""

    day: int
    tone: str = "friendly"
    channel: str = "email"
    personalised: bool = False


@dataclass(frozen=True)
class Discount:
    """Early-payment discount: ``rate`` (0.02 = 2%) if paid within ``within_days`` of issue."""

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
class InstallmentOffer:
    """Offer a payment plan with the ``at_reminder``-th reminder (1-based)."""

    at_reminder: int
    n_installments: int = 3
    interval_days: int = 30


@dataclass(frozen=True)
class Strategy:
    """A collections strategy. See the module docstring for day conventions.

    ``late_fee_rate`` is the fee charged per 30 days past due as a share of the amount
    (0.015 = 1.5% a month); ``escalation_day`` is days past due when unpaid invoices go to
    legal collection (``None``: never; they are written off at the model's horizon).
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
        d["reminders"] = [asdict(r) for r in self.reminders]
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
    """Write strategies (a dict or iterable of :class:`Strategy`) to YAML; returns the path."""
    items = strategies.values() if isinstance(strategies, dict) else strategies
    path = Path(path)
    text = yaml.safe_dump(
        {"strategies": [s.to_dict() for s in items]}, sort_keys=False, allow_unicode=True
    )
    path.write_text(text, encoding="utf-8")
    return path


def example_strategies() -> dict[str, Strategy]:
    """The named example strategies bundled in ``data/sample/strategies.yml``."""
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
        )
    }
