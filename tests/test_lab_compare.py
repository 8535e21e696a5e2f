"""Monte Carlo comparison: same results on 1 or 2 cores, common random numbers make
differences precise, money adds up."""

import numpy as np
import pytest
from scipy import stats

from collections_lab.lab.compare import METRICS, compare_strategies, simulate_metrics
from collections_lab.lab.twin import Twin
from collections_lab.model.economics import Economics
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import Reminder, Strategy, example_strategies

S = example_strategies()
ECON = Economics().in_currency("COP", 4000.0)
M = {m: i for i, m in enumerate(METRICS)}


@pytest.fixture(scope="module")
def twin():
    sim = simulate(500, S["one_friendly_after_due"], seed=5, start="2025-01-01",
                   end="2025-09-30", progress=False)
    return Twin.from_simulation(sim, currency="COP")


def test_one_or_two_processes_give_identical_results(twin):
    strategies = [S["no_reminders"], S["nudge_then_firm"]]
    one = simulate_metrics(twin, strategies, ECON, replicates=4, n_jobs=1)
    two = simulate_metrics(twin, strategies, ECON, replicates=4, n_jobs=2)
    np.testing.assert_array_equal(one, two)


def test_common_random_numbers_narrow_differences(twin):
    a = Strategy("a", reminders=(Reminder(3, "friendly"),), escalation_day=75)
    b = Strategy("b", reminders=(Reminder(3, "firm"),), escalation_day=75)
    res = compare_strategies(twin, [a, b], ECON, replicates=20, n_jobs=1)
    v = res.values[:, :, -1, M["paid_by_due_15"]]
    crn_sd = np.std(v[:, 1] - v[:, 0], ddof=1)
    independent_sd = np.sqrt(v[:, 0].var(ddof=1) + v[:, 1].var(ddof=1))
    # the variance of the difference is a quarter of independent draws' (ratio of SDs 0.45
    # and 0.50 on two simulated populations): far beyond the F test's noise on 20 replicates
    assert crn_sd < 0.6 * independent_sd
    assert stats.f.sf((independent_sd / crn_sd) ** 2, 19, 19) < 0.01
    tab = res.summary_table()
    row = tab.loc[(tab["strategy"] == "b") & (tab["metric"] == "paid_by_due_15")].iloc[0]
    assert row["diff"] > 0 and row["diff_low"] > 0  # firm works better, precisely
    ref = tab.loc[tab["strategy"] == "a", "diff"]
    assert (ref == 0).all()


def test_money_adds_up(twin):
    econ = Economics(currency="COP", cost_of_capital=0.0, agency_recovery_rate=0.0,
                     reminder_cost={"email": 100.0, "sms": 0, "whatsapp": 0, "letter": 0,
                                    "phone": 0})
    strategies = [S["no_reminders"], S["discount_2_10_net_30"], S["firm_with_late_fee"]]
    res = compare_strategies(twin, strategies, econ, replicates=2, n_jobs=1)
    v = res.values.mean(axis=0)[:, -1, :]
    assert v[0, M["reminder_cost"]] == 0 and v[0, M["reminders"]] == 0
    assert v[1, M["discount_cost"]] > 0 and v[2, M["fee_income"]] > 0
    # email reminders at 100 each: cost = 100 × reminders per invoice × invoices
    assert v[2, M["reminder_cost"]] == pytest.approx(100 * v[2, M["reminders"]]
                                                     * twin.n_invoices)
    # no cost of capital, no agency: cash = paid amounts - discounts + fees
    o = twin.outcomes([strategies[1]], replicate=0)[0]
    paid = twin.amount[o.outcome == 1].sum()
    one = simulate_metrics(twin, [strategies[1]], econ, replicates=1, n_jobs=1)[0, 0, -1]
    assert one[M["cash_pv"]] == pytest.approx(paid - one[M["discount_cost"]])
    assert one[M["net_value"]] == pytest.approx(one[M["cash_pv"]] - one[M["reminder_cost"]]
                                                - one[M["relationship_cost"]])


def test_summary_and_frame(twin):
    res = compare_strategies(twin, S, ECON, replicates=3, n_jobs=1)
    frame = res.to_frame()
    assert list(frame.index) == list(S)
    assert {"net_value", "gain_low", "gain_high", "dso", "churn"} <= set(frame.columns)
    assert res.best() in S
    assert "COP" in res.summary() and "réplicas" in res.summary("es")
    assert len(res.long()) == 3 * len(S) * 5
