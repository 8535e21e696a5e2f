"""Churn risk on a simulated portfolio (known churn), validated on a time-based split."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from collections_lab.analytics.churn import (
    FEATURES,
    TENURE_CAP_DAYS,
    ChurnModel,
    churn_features,
    churn_snapshots,
    churn_validation,
)
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies


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


def test_recalibrated_churn_matches_the_observed_rate_with_auc_unchanged(sim):
    v = churn_validation(sim.portfolio, split_date="2025-03-31", as_of="2025-12-31")
    assert v.recalibration == "intercept"
    test = v.test
    # an increasing map of the log-odds: the ranking, hence the AUC, is the raw model's
    assert v.auc == pytest.approx(roc_auc_score(test["churned"], test["churn_probability_raw"]),
                                  abs=1e-12)
    assert v.mean_predicted == pytest.approx(test["churn_probability"].mean())
    # calibration-in-the-large on the later months (observed 0.056, recalibrated 0.058)
    assert abs(v.calibration_in_the_large) < 0.005
    table = v.reliability()
    assert len(table) == 10 and table["n"].sum() == v.n_test
    assert (np.diff(table["predicted_raw"]) > 0).all() and (np.diff(table["predicted"]) > 0).all()
    assert {"brier_raw", "mean_predicted_raw", "base_rate_window"} <= set(v.to_frame())
    raw = churn_validation(sim.portfolio, split_date="2025-03-31", as_of="2025-12-31",
                           recalibrate=None)
    assert raw.mean_predicted == pytest.approx(v.mean_predicted_raw)
    assert raw.auc == pytest.approx(v.auc, abs=1e-12)


def drifting_snapshots(seed=0, n=4000):
    """Hand-made snapshots whose churn log-odds rise by 1 from 2024-10 on (known truth)."""
    rng = np.random.default_rng(seed)
    cutoffs = pd.date_range("2024-01-31", periods=15, freq="ME")
    frames = []
    for c in cutoffs:
        x = rng.normal(size=n)
        true_logit = (-2.5 if c >= pd.Timestamp("2024-10-31") else -3.5) + x
        p = 1 / (1 + np.exp(-true_logit))
        f = pd.DataFrame({name: 0.0 for name in FEATURES}, index=range(n))
        f["mean_days_late"] = x
        f.insert(0, "cutoff", c)
        frames.append(f.assign(churned=rng.random(n) < p, true_p=p))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("method", ["intercept", "platt"])
def test_recalibration_on_the_latest_labelled_window_follows_a_drift(method):
    snaps = drifting_snapshots()
    train = snaps.loc[snaps["cutoff"] <= "2024-12-31"]  # last 3 cutoffs are drifted
    test = snaps.loc[snaps["cutoff"] > "2024-12-31"]
    raw = ChurnModel(recalibrate=None).fit(None, snapshots=train)
    fixed = ChurnModel(recalibrate=method).fit(None, snapshots=train)
    assert fixed.recalibration_window_ == pd.Timestamp("2024-10-31")
    truth = test["true_p"].mean()  # 0.105; the raw fit gives 0.058
    assert raw.predict_proba(test).mean() < truth - 0.02  # the fit averages the months
    assert fixed.predict_proba(test).mean() == pytest.approx(truth, abs=0.006)
    assert roc_auc_score(test["churned"], fixed.predict_proba(test)) == pytest.approx(
        roc_auc_score(test["churned"], raw.predict_proba(test)), abs=1e-12)
    a, b = fixed.recalibration_
    assert a > 0.5 and (b == 1.0 if method == "intercept" else 0.8 < b < 1.2)


def test_recalibration_options_are_checked():
    snaps = drifting_snapshots(n=300)
    with pytest.raises(ValueError, match="recalibrate must be one of"):
        ChurnModel(recalibrate="isotonic").fit(None, snapshots=snaps)
    quiet = snaps.assign(churned=np.where(snaps["cutoff"] >= "2025-02-28", False,
                                          snaps["churned"]))
    # nobody churned in the window: the model is kept as fitted, and says why
    model = ChurnModel(recalibration_months=1).fit(None, snapshots=quiet)
    assert model.recalibration_ == (0.0, 1.0)
    assert "not recalibrated" in model.recalibration_note_
    assert "single class" in model.recalibration_note_
    np.testing.assert_array_equal(model.predict_proba(quiet), model.raw_proba(quiet))


def test_tenure_is_capped(sim):
    feats = churn_features(sim.portfolio, "2025-09-30")
    assert feats["tenure_days"].max() == TENURE_CAP_DAYS


def test_tenure_beyond_training_is_not_extrapolated(sim):
    snaps = churn_snapshots(sim.portfolio, ["2024-06-30", "2024-07-31"])
    model = ChurnModel(recalibrate=None).fit(None, snapshots=snaps)
    assert model.tenure_max_ == snaps["tenure_days"].max() < TENURE_CAP_DAYS
    later = churn_features(sim.portfolio, "2025-06-30")
    longest = later.assign(tenure_days=model.tenure_max_)
    np.testing.assert_allclose(model.predict_proba(later), model.predict_proba(longest))
