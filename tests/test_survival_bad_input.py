"""Each estimator answers the issue's bad inputs with a clear SurvivalInputError."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.survival import (
    PaymentDatePredictor,
    SurvivalInputError,
    count_table,
    cumulative_incidence,
    cure_fraction,
    fit_aft,
    fit_cox,
    fit_cox_counts,
    kaplan_meier,
    logrank,
    rmst,
)


@pytest.fixture
def pt():
    rng = np.random.default_rng(0)
    n = 200
    t = rng.integers(0, 60, n)
    return pd.DataFrame({"invoice_id": np.arange(n).astype(str), "duration": t, "event": t < 45,
                         "outcome_code": (t < 45).astype(int), "arm": rng.choice(["a", "b"], n),
                         "customer_id": rng.integers(0, 50, n).astype(str), "k": "same"})


ESTIMATORS = {
    "kaplan_meier": lambda f: kaplan_meier(f, by="arm"),
    "logrank": lambda f: logrank(f, "arm"),
    "rmst": lambda f: rmst(f, 30, by="arm"),
    "cumulative_incidence": lambda f: cumulative_incidence(f, by="arm"),
    "cure_fraction": lambda f: cure_fraction(f, by="arm"),
    "fit_cox": lambda f: fit_cox(f, ["arm"]),
    "fit_aft": lambda f: fit_aft(f, ["arm"], distribution="weibull"),
    "predictor": lambda f: PaymentDatePredictor("arm").fit(f),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_all_censored(pt, name):
    frame = pt.assign(event=False, outcome_code=0)
    with pytest.raises(SurvivalInputError, match="censored"):
        ESTIMATORS[name](frame)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_empty_frame_and_missing_column(pt, name):
    with pytest.raises(SurvivalInputError, match="empty"):
        ESTIMATORS[name](pt.iloc[:0])
    with pytest.raises(SurvivalInputError, match="missing column|not in the frame"):
        ESTIMATORS[name](pt.drop(columns="arm"))


def test_group_without_events_and_constant_covariate(pt):
    frame = pt.assign(event=pt["event"] & (pt["arm"] == "a"))
    frame["outcome_code"] = frame["event"].astype(int)
    assert kaplan_meier(frame, by="arm").median().set_index("group").loc["b", "median_days"] == np.inf
    with pytest.raises(SurvivalInputError, match="not estimable"):
        fit_cox(frame, ["arm"])
    with pytest.raises(SurvivalInputError, match="not estimable"):
        fit_cox_counts(count_table(frame, ["arm", "duration", "event"]), ["arm"])
    with pytest.raises(SurvivalInputError, match="no payments"):
        cure_fraction(frame, by="arm")
    with pytest.raises(SurvivalInputError, match="constant"):
        fit_cox(pt, ["arm", "k"])
    with pytest.raises(SurvivalInputError, match="constant"):
        fit_aft(pt, ["k"])


def test_horizon_beyond_last_observation(pt):
    with pytest.raises(SurvivalInputError, match="tau=500 is beyond"):
        rmst(pt, 500, by="arm")
    with pytest.raises(SurvivalInputError, match="beyond the last observation"):
        kaplan_meier(pt, by="arm").prob_paid_by([500])
