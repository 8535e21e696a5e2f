"""Money consequences of a collections strategy: earlier cash, discounts, reminders, agency
fees and lost customers, all as parameters with documented defaults.

Every figure is in one reporting currency (:attr:`Economics.currency`); per-item defaults
are stated in USD and :meth:`Economics.in_currency` rescales the fixed-cost ones for
another currency (amounts of invoices are never converted here: convert them before, with
rates you choose, or analyse one currency at a time).

The parts of a strategy's net value on a set of invoices (see
:func:`collections_lab.lab.compare.compare_strategies`):

- **cash collected (present value)**: each payment discounted at the annual cost of
  capital, ``amount / (1 + r) ** (days / 365)`` — money a week earlier is worth a little
  more; discounts granted reduce it, late fees add to it;
- **agency recovery**: escalated invoices recover ``agency_recovery_rate`` of the amount
  ``agency_recovery_days`` after escalation, minus the agency's fee
  (``agency_fee_rate`` of what it recovers); written-off invoices recover nothing;
- **reminder cost**: a fixed cost per reminder by channel (email is nearly free, a phone
  call is not);
- **relationship cost**: expected customers lost × customer lifetime value (by default
  ``margin × lifetime_months ×`` the customer's monthly billing).

Defaults and where they come from: a 10 % annual cost of capital (a typical mid-size
firm's WACC); reminder costs from vendors' price lists (email ~0.01–0.05 USD, SMS /
WhatsApp ~0.05–0.10 USD, a letter with postage ~1.5 USD, a phone call by an agent
~3–5 USD); collection agencies charge 20–35 % contingency fees and recover roughly half of
what they receive on commercial debt; a 25 % gross margin over a 3-year relationship.

Example
-------
>>> econ = Economics()
>>> round(econ.present_value(1000.0, 365), 2)
909.09
>>> round(annualised_discount_rate(0.02, 10, 30), 3)
0.372
>>> econ.in_currency("COP", 4000.0).reminder_cost["sms"]
320.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_pct, t
from ..i18n.display import SettingsCard
from .strategies import Discount, Strategy


def annualised_discount_rate(rate: float, within_days: int, net_days: int = 30) -> float:
    """Annual cost of an early-payment discount to the seller (2/10 net 30 ≈ 0.372).

    ``rate / (1 - rate) * 365 / (net_days - within_days)``: the interest rate at which
    paying ``rate`` to get the money ``net_days - within_days`` days earlier breaks even.

    Example:
        >>> round(annualised_discount_rate(0.01, 10, 30), 3)
        0.184
    """
    return Discount(rate, within_days).annualised_rate(net_days)


def _default_reminder_cost() -> dict[str, float]:
    return {"email": 0.02, "sms": 0.08, "whatsapp": 0.06, "letter": 1.5, "phone": 4.0}


#: Rough units of a currency per US dollar (order of magnitude, late 2025), only to put
#: the default per-item costs (reminders, lifetime value) into a portfolio's currency.
APPROX_UNITS_PER_USD = {
    "USD": 1.0, "EUR": 0.9, "GBP": 0.8, "CHF": 0.85, "CAD": 1.4, "AUD": 1.5, "MXN": 18.0,
    "COP": 4000.0, "BRL": 5.5, "CLP": 950.0, "PEN": 3.7, "UYU": 40.0, "JPY": 150.0,
}


@dataclass(frozen=True)
class Economics(SettingsCard):
    """Money parameters of the strategy lab (see module docstring for the sources).

    Attributes:
        currency (str): Reporting currency of every amount below and of the results.
        cost_of_capital (float): Annual rate used to discount cash by the day it arrives (0.10 = 10 % a year).
        reminder_cost (dict): Cost of one reminder by channel, in ``currency``.
        agency_fee_rate (float): Contingency fee of the collection agency, share of what it recovers.
        agency_recovery_rate (float): Share of an escalated invoice's amount the agency recovers.
        agency_recovery_days (int): Days from escalation to the agency's recovery.
        margin (float): Gross margin on sales, for the customer lifetime value.
        lifetime_months (float): Expected remaining relationship of a retained customer, months.
        customer_lifetime_value (float or None): A fixed value per customer in ``currency``; ``None`` derives it per customer as
            ``margin × lifetime_months × monthly billing`` of that customer.

    Example:
        >>> economics = cl.Economics(currency="EUR", cost_of_capital=0.12)
        >>> economics.currency, economics.cost_of_capital
        ('EUR', 0.12)
    """

    currency: str = "USD"
    cost_of_capital: float = 0.10
    reminder_cost: dict = field(default_factory=_default_reminder_cost)
    agency_fee_rate: float = 0.30
    agency_recovery_rate: float = 0.50
    agency_recovery_days: int = 90
    margin: float = 0.25
    lifetime_months: float = 36.0
    customer_lifetime_value: float | None = None

    def __post_init__(self):
        problems = []
        if not 0 <= self.cost_of_capital < 1:
            problems.append(f"cost_of_capital {self.cost_of_capital} must be in [0, 1)")
        for name in ("agency_fee_rate", "agency_recovery_rate", "margin"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name} {value} must be between 0 and 1")
        if any(v < 0 for v in self.reminder_cost.values()):
            problems.append(f"reminder costs must be >= 0, got {self.reminder_cost}")
        if self.agency_recovery_days < 0 or self.lifetime_months < 0:
            problems.append("agency_recovery_days and lifetime_months must be >= 0")
        if self.customer_lifetime_value is not None and self.customer_lifetime_value < 0:
            problems.append("customer_lifetime_value must be >= 0")
        if problems:
            raise ValueError("economics: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_currency(cls, currency: str) -> Economics:
        """The default economics in ``currency``: the USD per-item costs converted at the
        rough rate of :data:`APPROX_UNITS_PER_USD` (rates are unchanged). What the lab uses
        when no economics are given; pass your own for exact costs.

        >>> Economics.for_currency("EUR").currency
        'EUR'
        >>> Economics.for_currency("COP").reminder_cost["email"]
        80.0
        """
        currency = str(currency).upper()
        if currency == "USD":
            return cls()
        if currency not in APPROX_UNITS_PER_USD:
            raise ValueError(
                f"no default costs in {currency!r} (known: {sorted(APPROX_UNITS_PER_USD)}): "
                f"pass economics=Economics(...).in_currency({currency!r}, units_per_usd)")
        return cls().in_currency(currency, APPROX_UNITS_PER_USD[currency])

    def in_currency(self, currency: str, units_per_usd: float) -> Economics:
        """The same economics for another currency: fixed USD costs times ``units_per_usd``.

        Rates (cost of capital, fees, margin) are unchanged; a fixed lifetime value is
        rescaled too.
        """
        if units_per_usd <= 0:
            raise ValueError(f"units_per_usd must be > 0, got {units_per_usd}")
        clv = self.customer_lifetime_value
        return replace(
            self, currency=currency,
            reminder_cost={k: v * units_per_usd for k, v in self.reminder_cost.items()},
            customer_lifetime_value=None if clv is None else clv * units_per_usd,
        )

    # ------------------------------------------------------------------ pieces
    def discount_factor(self, days) -> np.ndarray:
        """Present value of 1 unit received ``days`` after issue: ``(1 + r) ** (-days/365)``."""
        return (1.0 + self.cost_of_capital) ** (-np.asarray(days, dtype=float) / 365.0)

    def present_value(self, amount, days):
        """Present value at issue of ``amount`` received ``days`` days after issue.

        >>> round(Economics(cost_of_capital=0.0).present_value(100.0, 30), 2)
        100.0
        """
        out = np.asarray(amount, dtype=float) * self.discount_factor(days)
        return float(out) if np.ndim(out) == 0 else out

    def value_of_earlier_cash(self, amount, days_earlier, at_day: float = 0.0):
        """What receiving ``amount`` ``days_earlier`` days sooner is worth (currency).

        >>> round(Economics().value_of_earlier_cash(10000.0, 30), 2)
        78.03
        """
        later = self.present_value(amount, np.asarray(at_day) + days_earlier)
        return self.present_value(amount, at_day) - later

    def reminder_costs(self, counts_by_channel: dict) -> float:
        """Total cost of reminders given ``{channel: number sent}``."""
        unknown = set(counts_by_channel) - set(self.reminder_cost)
        if unknown:
            raise ValueError(f"no reminder cost for channel(s) {sorted(unknown)}; "
                             f"known: {sorted(self.reminder_cost)}")
        return float(sum(self.reminder_cost[c] * n for c, n in counts_by_channel.items()))

    def agency_net_recovery(self, amount):
        """Present value at escalation of what an escalated ``amount`` brings back, net of
        the agency's fee: ``rate × (1 - fee) × amount`` discounted over the recovery days."""
        net = np.asarray(amount, dtype=float) * self.agency_recovery_rate * (
            1 - self.agency_fee_rate)
        return net * self.discount_factor(self.agency_recovery_days)

    def lifetime_value(self, monthly_billing) -> np.ndarray:
        """Customer lifetime value(s): fixed, or ``margin × lifetime_months × billing``."""
        billing = np.asarray(monthly_billing, dtype=float)
        if self.customer_lifetime_value is not None:
            return np.full(billing.shape, float(self.customer_lifetime_value))
        return self.margin * self.lifetime_months * billing

    def relationship_cost(self, churn_probability, monthly_billing):
        """Expected value lost through churn: ``Σ P(churn) × lifetime value``."""
        p = np.asarray(churn_probability, dtype=float)
        return float(np.sum(p * self.lifetime_value(monthly_billing)))


@dataclass
class DiscountCost(ResultMixin):
    """What an early-payment discount costs: annualised rate and the expected cost."""

    strategy: str
    rate: float
    within_days: int
    net_days: int
    annualised_rate: float
    title = "Discount cost"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"strategy": self.strategy, "rate": self.rate,
                              "within_days": self.within_days, "net_days": self.net_days,
                              "annualised_rate": self.annualised_rate}])

    def summary(self, lang: str | None = None) -> str:
        return t("economics.discount_summary", lang, rate=format_pct(self.rate, 1, lang),
                 within=self.within_days, net=self.net_days,
                 annual=format_pct(self.annualised_rate, 1, lang))


def discount_cost(strategy: Strategy, net_days: int = 30) -> DiscountCost | None:
    """The annualised cost of a strategy's discount (``None`` if it offers none).

    Example:
        >>> from collections_lab.model.strategies import example_strategies
        >>> round(discount_cost(example_strategies()["discount_2_10_net_30"]).annualised_rate, 3)
        0.372
    """
    d = strategy.discount
    if d is None:
        return None
    return DiscountCost(strategy.name, d.rate, d.within_days, net_days,
                        d.annualised_rate(net_days))
