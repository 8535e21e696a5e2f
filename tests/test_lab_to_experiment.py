"""From lab to experiment: the design effect is measured on the portfolio, and sizes can be
on net value or cash, through the experiment engine's own estimators and design functions."""

from dataclasses import replace

import numpy as np
import pytest

from collections_lab.experiments.design import (
    estimate_design_effect,
    sample_size_from_pilot,
    sample_size_proportion,
)
from collections_lab.experiments.metrics import MetricConfig
from collections_lab.experiments.workflow import pilot_split
from collections_lab.lab.compare import discounts_given
from collections_lab.lab.recommend import Constraints, StrategySpace, recommend
from collections_lab.lab.to_experiment import experiment_from_recommendation
from collections_lab.lab.twin import Twin
from collections_lab.model.behaviour import SEGMENTS
from collections_lab.model.economics import Economics
from collections_lab.model.simulation import FX_PER_USD, simulate
from collections_lab.model.strategies import Reminder, Strategy

CURRENT = Strategy("current", reminders=(Reminder(3),), escalation_day=75)
SPACE = StrategySpace(schedules=((3,), (-3, 7), (3, 14, 28)), tones=("friendly",),
                      channels=("email",), personalised=(False,),
                      discounts=(None, (0.02, 10)), installments=(None,))
CFG = MetricConfig(due_plus_days=15)


@pytest.fixture(scope="module")
def lab():
    sim = simulate(600, CURRENT, seed=9, start="2025-01-01", end="2025-12-31",
                   progress=False)
    twin = Twin.from_simulation(sim, fx=FX_PER_USD)
    rec = recommend(twin, CURRENT, SPACE, Constraints(max_churn_increase=0.01), Economics(),
                    screen_replicates=2, replicates=4, n_jobs=1)
    assert all(s.name != "current" for s in rec.strategies.values())
    return sim.portfolio, twin, rec


def _segment_pilot(portfolio, segment):
    pilot = pilot_split(portfolio)
    return pilot.subset_customers(pilot.customer_segment == segment)


def test_design_effect_is_measured_on_the_portfolio(lab):
    portfolio, twin, rec = lab
    assumed = experiment_from_recommendation(rec, twin).table.set_index("segment")
    assert assumed["design_effect_source"].str.startswith("assumed icc 0.05").all()
    measured = experiment_from_recommendation(rec, twin, portfolio=portfolio)
    t = measured.table.set_index("segment")
    assert t["design_effect_source"].str.startswith("measured on the history").all()
    for seg, row in t.iterrows():
        de = max(estimate_design_effect(_segment_pilot(portfolio, seg), "paid_by_due_d", CFG),
                 1.0)
        assert row["design_effect"] == pytest.approx(de)
        m = (twin.seg == SEGMENTS.index(seg)).sum() / row["customers_available"]
        assert row["icc"] == pytest.approx((de - 1) / (m - 1))
        plan = sample_size_proportion(row["control_value"], row["predicted_effect"],
                                      design_effect=de, invoices_per_customer=m)
        assert row["invoices_per_arm"] == plan.invoices_per_arm
    # the history's clustering is not the assumed 0.05: the sizes move with it
    assert not np.allclose(t["icc"], 0.05, atol=0.01)
    assert not np.allclose(t["invoices_per_arm"], assumed["invoices_per_arm"], rtol=0.05)
    given = experiment_from_recommendation(rec, twin, portfolio=portfolio, icc=0.2)
    assert (given.table["design_effect_source"] == "given icc 0.2").all()
    # with the measured clustering, 600 customers are far too few: the summary says so
    assert "the closest, small, needs" in measured.summary()
    assert "el más cercano, small, necesita" in measured.summary("es")


def test_cash_and_net_value_predictions_are_the_engines_metrics(lab):
    portfolio, twin, rec = lab
    # one payment term for all: the engine's Aalen–Johansen estimates on fully followed
    # stories are then plain (amount-weighted) ratios, computed independently below
    twin = replace(twin, terms=np.full_like(twin.terms, 30))
    seg = "medium"
    g = SEGMENTS.index(seg)
    rows = twin.seg == g
    treatment = rec.strategies[seg]
    cash = experiment_from_recommendation(rec, twin, portfolio=portfolio, metric="cash",
                                          replicates=2).table.set_index("segment").loc[seg]
    value = experiment_from_recommendation(rec, twin, portfolio=portfolio, metric="net_value",
                                           replicates=2).table.set_index("segment").loc[seg]
    # independent computation on the twin's stories: fully followed, so plain ratios
    paid_share, net = [], []
    for strategy in (CURRENT, treatment):
        amount_paid, pv, disc, total = 0.0, 0.0, 0.0, 0.0
        for r in range(2):
            o = twin.outcomes([CURRENT, treatment], replicate=r)[
                0 if strategy is CURRENT else 1]
            a, end = twin.amount[rows], o.end_day[rows]
            paid = o.outcome[rows] == 1
            amount_paid += a[paid & (end <= twin.terms[rows] + 15)].sum()
            within = paid & (end <= CFG.horizon_days)
            pv += (a[within] * 1.10 ** (-end[within] / 365.0)).sum()
            disc += discounts_given(strategy, twin.amount, o)[rows].sum()
            total += a.sum()
        paid_share.append(amount_paid / total)
        net.append((pv - disc) / total)
    assert cash["control_value"] == pytest.approx(paid_share[0], abs=1e-9)
    assert cash["treatment_value"] == pytest.approx(paid_share[1], abs=1e-9)
    assert value["control_value"] == pytest.approx(net[0], rel=1e-6)
    assert value["treatment_value"] == pytest.approx(net[1], rel=1e-6)
    # sizes from the history's clustered variance per invoice (the engine's pilot design)
    pilot = _segment_pilot(portfolio, seg)
    m = rows.sum() / (twin.customer_seg == g).sum()
    for row, metric in ((cash, "cash_by_due_d"), (value, "net_value")):
        plan = sample_size_from_pilot(pilot, metric, abs(row["predicted_effect"]), cfg=CFG,
                                      invoices_per_customer=m)
        assert row["invoices_per_arm"] == plan.invoices_per_arm
        assert row["engine"] == "experiments.design.sample_size_from_pilot"
    assert cash["design_effect_source"].startswith("measured on the history")


def test_bad_metric_and_missing_history_are_clear(lab):
    portfolio, twin, rec = lab
    with pytest.raises(ValueError, match="metric must be one of"):
        experiment_from_recommendation(rec, twin, metric="dso")
    with pytest.raises(ValueError, match="needs the history's variance.*portfolio="):
        experiment_from_recommendation(rec, twin, metric="net_value")
