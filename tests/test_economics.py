"""Economics: closed forms for present value, discount cost, agency and churn costs."""

import math

import numpy as np
import pytest

from collections_lab.model.economics import (
    Economics,
    annualised_discount_rate,
    discount_cost,
)
from collections_lab.model.strategies import Discount, Reminder, Strategy


def test_present_value_matches_compound_discounting():
    econ = Economics(cost_of_capital=0.12)
    assert econ.present_value(1000.0, 365) == pytest.approx(1000 / 1.12)
    assert econ.present_value(1000.0, 0) == pytest.approx(1000.0)
    days = np.array([0, 30, 90])
    np.testing.assert_allclose(econ.present_value(np.full(3, 50.0), days),
                               50.0 * 1.12 ** (-days / 365))


def test_value_of_earlier_cash_is_the_pv_difference():
    econ = Economics(cost_of_capital=0.10)
    v = econ.value_of_earlier_cash(10_000.0, 30, at_day=60)
    assert v == pytest.approx(10_000 * (1.1 ** (-60 / 365) - 1.1 ** (-90 / 365)))
    assert Economics(cost_of_capital=0.0).value_of_earlier_cash(10_000.0, 30) == 0.0


def test_two_ten_net_thirty_costs_about_37_percent_a_year():
    assert annualised_discount_rate(0.02, 10, 30) == pytest.approx(0.02 / 0.98 * 365 / 20)
    assert round(annualised_discount_rate(0.02, 10, 30), 3) == 0.372
    s = Strategy("d", reminders=(Reminder(3),), discount=Discount(0.01, 10))
    assert discount_cost(s, net_days=45).annualised_rate == pytest.approx(
        0.01 / 0.99 * 365 / 35)
    assert discount_cost(Strategy("none")) is None
    assert "37,2 %" in discount_cost(Strategy("x", discount=Discount(0.02, 10))).summary("es")


def test_agency_recovery_reminder_and_relationship_costs():
    econ = Economics(cost_of_capital=0.0, agency_recovery_rate=0.5, agency_fee_rate=0.3)
    assert econ.agency_net_recovery(1000.0) == pytest.approx(350.0)
    assert econ.reminder_costs({"email": 100, "phone": 2}) == pytest.approx(100 * 0.02 + 8.0)
    assert econ.relationship_cost([0.1, 0.2], [1000.0, 500.0]) == pytest.approx(
        0.25 * 36 * (0.1 * 1000 + 0.2 * 500))
    fixed = Economics(customer_lifetime_value=5000.0)
    assert fixed.relationship_cost([0.5], [1.0]) == pytest.approx(2500.0)


def test_in_currency_rescales_fixed_costs_only():
    cop = Economics(customer_lifetime_value=100.0).in_currency("COP", 4000.0)
    assert cop.currency == "COP"
    assert cop.reminder_cost["sms"] == pytest.approx(0.08 * 4000)
    assert cop.customer_lifetime_value == pytest.approx(400_000.0)
    assert cop.cost_of_capital == Economics().cost_of_capital


@pytest.mark.parametrize("kwargs, text", [
    (dict(cost_of_capital=-0.1), "cost_of_capital"),
    (dict(agency_fee_rate=1.5), "agency_fee_rate"),
    (dict(reminder_cost={"email": -1.0}), "reminder costs"),
])
def test_bad_economics_are_named(kwargs, text):
    with pytest.raises(ValueError, match=text):
        Economics(**kwargs)


def test_unknown_channel_cost_is_an_error():
    with pytest.raises(ValueError, match="carrier_pigeon"):
        Economics().reminder_costs({"carrier_pigeon": 1})
    assert math.isfinite(Economics().reminder_costs({}))
