"""Conditional payment-day predictions, held-back calibration and expected cash."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies
from collections_lab.survival import (
    PaymentDatePredictor,
    SurvivalInputError,
    calibrate_predictions,
    censor_at,
    expected_cash,
)


@pytest.fixture(scope="module")
def frame():
    sim = simulate(1500, example_strategies()["nudge_then_firm"], seed=5,
                   start="2025-01-01", end="2025-12-31")
    return sim.portfolio.payment_times(as_of="2025-12-31")


def test_memoryless_history_gives_same_remaining_days():
    # geometric whole days: remaining time does not depend on age
    rng = np.random.default_rng(0)
    n = 20000
    t = np.floor(rng.exponential(10, n)).astype(int)
    hist = pd.DataFrame({"invoice_id": np.arange(n).astype(str), "duration": t, "event": True,
                         "outcome_code": 1})
    model = PaymentDatePredictor().fit(hist)
    open_ = pd.DataFrame({"invoice_id": ["x", "y"], "duration": [2, 12]})
    p = model.predict(open_).table
    remaining = p["predicted_day"] - p["age_days"]
    assert abs(remaining.iloc[0] - remaining.iloc[1]) <= 1
    # conditional median of floor(Exp(mean 10)) beyond age a: ceil(10 ln 2) = 7 days
    assert remaining.iloc[0] == pytest.approx(7, abs=1)
    assert (p["low_day"] <= p["predicted_day"]).all() and (p["predicted_day"] <= p["high_day"]).all()


def test_censor_at_hides_the_future(frame):
    past = censor_at(frame, "2025-06-30")
    assert past["issue_date"].max() <= pd.Timestamp("2025-06-30")
    assert (past["end_date"] <= pd.Timestamp("2025-06-30")).all()
    was_open = past["outcome"] == "open"
    assert not past.loc[was_open, "event"].any()


def test_calibration_close_to_nominal(frame):
    res = calibrate_predictions(frame, cutoff="2025-09-30", by="segment", level=0.8)
    assert res.n_evaluated > 500
    assert 0.74 <= res.coverage <= 0.86
    assert set(res.by_group["group"]) <= {"small", "medium", "large", "public"}
    assert "80" in res.summary() and "intervalo" in res.summary("es")


def test_expected_cash_per_currency(frame):
    open_ = frame[frame["outcome"] == "open"]
    preds = PaymentDatePredictor(by="segment").fit(frame).predict(open_)
    cash = expected_cash(preds, as_of="2025-12-31", weeks=8)
    for cur, sub in cash.groupby("currency"):
        total = open_.loc[open_["currency"] == cur, "amount"].sum()
        assert sub["expected_amount"].sum() == pytest.approx(total, rel=1e-9)
        assert (sub["expected_amount"] >= -1e-9).all()
    assert set(cash["currency"]) == set(open_["currency"])


def test_prediction_errors(frame):
    with pytest.raises(SurvivalInputError, match="fit"):
        PaymentDatePredictor().predict(frame)
    model = PaymentDatePredictor(by="segment").fit(frame[frame["segment"] != "public"])
    with pytest.raises(SurvivalInputError, match="no history"):
        model.predict(frame[frame["segment"] == "public"])
    with pytest.raises(SurvivalInputError, match="level"):
        PaymentDatePredictor(level=1.5)


@pytest.mark.parametrize("cutoff", ["2025-07-31", "2025-09-30", "2025-11-15"])
def test_coverage_among_paid_invoices_is_reported_and_matches_the_model(frame, cutoff):
    res = calibrate_predictions(frame, cutoff=cutoff, by="segment", level=0.8)
    d = res.details[res.details["known"]]
    paid = d[d["paid"]]
    # the all-invoice figure and the paid-only figure, each recomputed from the details
    assert res.coverage == pytest.approx(d["inside"].mean())
    assert res.n_paid == len(paid) > 500
    assert res.coverage_paid == pytest.approx(paid["inside"].mean())
    assert ((paid["actual_day"] >= paid["low_day"]) & (paid["actual_day"] <= paid["high_day"])
            == paid["inside"]).all()
    assert 0.74 <= res.coverage <= 0.86
    # paid-only coverage is not 80% by design (being paid within follow-up favours early
    # payers); the fitted distributions say what it should be: within 4 points (3.5 SE)
    assert abs(res.coverage_paid - res.expected_coverage_paid) <= 0.04
    assert "coverage_paid" in res.by_group and "actually paid" in res.summary()
    assert "que sí se pagaron" in res.summary("es")


def test_grouping_by_currency_keeps_one_currency_column_and_its_cash(frame):
    """Issue 16: the time-to-payment report grouped by currency (``-p group_by currency``
    on a USD/CAD export) crashed: the predictions kept ``currency`` twice, and the cash
    forecast, which read the groups from the table's other columns, would have found no
    curve for any invoice (zero cash). Now the predictions keep their grouping and the
    forecast uses each currency's own curves."""
    history = censor_at(frame, "2025-09-30")
    open_ = history[history["outcome"] == "open"]
    by_currency = PaymentDatePredictor(by="currency").fit(history).predict(open_)
    assert list(by_currency.table.columns).count("currency") == 1
    assert by_currency.by == ("currency",)
    cash = expected_cash(by_currency, "2025-09-30", weeks=8)
    weekly = cash[cash["period"] == "week"].groupby("currency")["expected_amount"].sum()
    assert set(weekly.index) == set(open_["currency"]) and (weekly > 0).all()


def test_the_report_runs_without_grouping():
    """``group_by`` None (no grouping column) crashed the report at the log-rank step."""
    from collections_lab.survival.report import time_to_payment_report

    sim = simulate(60, example_strategies()["nudge_then_firm"], seed=3,
                   start="2025-01-01", end="2025-06-30")
    report = time_to_payment_report(sim.snapshot("2025-07-31"), by=None)
    assert report.logrank is None and report.summary().startswith("As of 2025-07-31")
