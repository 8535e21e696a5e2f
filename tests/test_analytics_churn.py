"""Churn risk on a simulated portfolio (known churn), validated on a time-based split."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.analytics.churn import (
    FEATURES,
    ChurnModel,
    churn_features,
    churn_snapshots,
    churn_validation,
)
from collections_lab.simulate import simulate
from collections_lab.strategies import example_strategies


@pytest.fixture(scope="module")
def sim():
    return simulate(1500, example_strategies()["nudge_then_firm"], seed=5,
                    start="2024-01-01", end="2025-12-31")


def test_labels_match_simulated_churn(sim):
    snap = churn_snapshots(sim.portfolio, ["2024-06-30"])
    truth = sim.truth.customers.set_index("customer_id")["churned_at"]
    churned_at = truth.reindex(snap["customer_id"]).to_numpy()
    # churned on or before the cutoff: no invoice can follow, the label must be 1
    gone = churned_at <= np.datetime64("2024-06-30")
    assert gone.any() and snap.loc[gone, "churned"].all()
    # never churned: only a 3-month billing gap (15% of months skipped) gives a 1
    stays = pd.isna(churned_at)
    assert snap.loc[stays, "churned"].mean() < 0.02


def test_features_use_only_the_past(sim):
    early = churn_features(sim.portfolio, "2024-06-30")
    assert set(FEATURES) <= set(early.columns)
    assert (early["days_since_last_invoice"] >= 0).all()
    assert (early["days_since_last_invoice"] < 90).all()  # active customers only
    later = sim.portfolio.invoices["issue_date"] > "2024-06-30"
    cut = type(sim.portfolio)(sim.customers, sim.invoices.loc[~later], sim.reminders,
                              sim.payments)
    again = churn_features(cut, "2024-06-30")
    pd.testing.assert_frame_equal(early.reset_index(drop=True), again.reset_index(drop=True))


def test_time_split_validation_auc_and_calibration(sim):
    v = churn_validation(sim.portfolio, split_date="2025-03-31", as_of="2025-12-31")
    assert v.test["cutoff"].min() >= pd.Timestamp("2025-03-31")
    assert v.auc > 0.75
    base = v.base_rate_test
    assert v.brier < base * (1 - base)  # better than predicting the base rate
    assert abs(v.test["churn_probability"].mean() - base) < 0.02
    cal = v.calibration
    assert np.corrcoef(cal["mean_predicted"], cal["observed_share"])[0, 1] > 0.9
    assert "AUC" in v.summary("en") and "abandono" in v.summary("es")


def test_predict_scores_active_customers(sim):
    model = ChurnModel().fit(sim.portfolio, as_of="2025-09-30")
    scores = model.predict(sim.portfolio, as_of="2025-09-30")
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["churn_probability"].is_monotonic_decreasing
    assert scores["customer_id"].is_unique


def test_bad_split_is_a_clear_error(sim):
    with pytest.raises(ValueError, match="time split impossible"):
        churn_validation(sim.portfolio, split_date="2024-02-28", as_of="2025-12-31")


def test_labels_stop_at_the_last_invoicing_date(sim):
    from collections_lab.analytics.churn import all_snapshots

    # invoicing ends 2025-12-31; an export taken in March 2026 must not turn the last
    # quarter's silence into churn
    snaps = all_snapshots(sim.portfolio, as_of="2026-03-31")
    assert snaps["cutoff"].max() + pd.Timedelta(days=90) <= pd.Timestamp("2025-12-31")
