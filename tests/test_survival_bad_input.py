"""Each estimator answers the issue's bad inputs with a clear SurvivalInputError."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.survival import (
    PaymentDatePredictor,
    SurvivalInputError,
    SurvivalWarning,
    calibrate_predictions,
    check_proportional_hazards,
    concordance,
    count_table,
    cumulative_incidence,
    cure_fraction,
    fit_aft,
    fit_cox,
    fit_cox_counts,
    fit_time_varying_cox,
    kaplan_meier,
    logrank,
    rmst,
    rmst_difference,
    standardized_prob_paid,
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
    with pytest.warns(SurvivalWarning, match=r"\['b'\] have no payments"):
        km = kaplan_meier(frame, by="arm")
    assert km.median().set_index("group").loc["b", "median_days"] == np.inf
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


# --------------------------------------------------------------------------- cautions


@pytest.fixture
def no_pay_b(pt):
    frame = pt.assign(event=pt["event"] & (pt["arm"] == "a"), segment=np.where(np.arange(len(pt)) % 2, "s1", "s2"))
    frame["outcome_code"] = frame["event"].astype(int)
    return frame


def test_group_without_payments_is_named_in_a_warning_and_the_summary(no_pay_b):
    with pytest.warns(SurvivalWarning, match=r"kaplan_meier: group\(s\) \['b'\] have no payments"):
        km = kaplan_meier(no_pay_b, by="arm")
    assert "['b'] have no payments" in km.summary() and "no tienen pagos" in km.summary("es")
    assert "cl-note" in km._repr_html_() and "no payments" in km._repr_html_()
    with pytest.warns(SurvivalWarning, match=r"logrank: group\(s\) \['b'\] have no payments"):
        lr = logrank(no_pay_b, "arm")
    assert "['b'] have no payments" in lr.summary() and "no payments" in lr._repr_html_()


def test_rmst_gives_no_p_value_for_a_group_without_payments(no_pay_b):
    with pytest.warns(SurvivalWarning, match=r"rmst: group\(s\) \['b'\] have no payments before day 30"):
        res = rmst(no_pay_b, 30, by="arm")
    row = res.table.set_index("group").loc["b"]
    assert row["rmst"] == 30 and np.isnan(row["se"]) and np.isnan(row["ci_low"])  # not SE = 0
    diff = res.difference("a").iloc[0]
    assert np.isnan(diff["p_value"]) and np.isnan(diff["se"])
    assert "no payment before tau in ['b']" in diff["note"]
    assert "no p-value" in res.summary()
    with pytest.warns(SurvivalWarning, match="stratum 's1'.*no payment before tau"):
        strat = rmst_difference(no_pay_b, 30, "arm", "a", strata="segment").to_frame()
    assert np.isnan(strat["p_value"].iloc[0]) and "stratum 's2'" in strat["note"].iloc[0]
    # groups with payments keep their p-values and no note column appears
    assert "note" not in rmst(no_pay_b.assign(event=True), 30, by="arm").difference("a")


def test_standardized_prob_paid_does_not_report_zero_se_as_precision(no_pay_b):
    with pytest.warns(SurvivalWarning, match="no payment by some of the days"):
        res = standardized_prob_paid(no_pay_b, [10], "arm", "segment").set_index("group")
    assert res.loc["b", "prob_paid"] == 0 and np.isnan(res.loc["b", "se"])
    assert "stratum" in res.loc["b", "note"]
    assert np.isfinite(res.loc["a", "se"]) and res.loc["a", "note"] == ""


def test_predictor_warns_that_a_group_without_payments_gets_no_date(no_pay_b):
    with pytest.warns(SurvivalWarning, match=r"PaymentDatePredictor.fit: group\(s\) \['b'\] have no payments"):
        model = PaymentDatePredictor("arm").fit(no_pay_b)
    open_ = no_pay_b.head(6).assign(duration=3)
    with pytest.warns(SurvivalWarning, match=r"open invoice\(s\) of group\(s\) \['b'\] get no predicted date"):
        preds = model.predict(open_)
    b = preds.table[preds.table["arm"] == "b"]
    assert len(b) and np.isinf(b["predicted_day"]).all()
    assert "get no predicted date" in preds.summary() and "sin fecha prevista" in preds.summary("es")


def test_unused_category_levels_are_named_not_dropped_silently(pt):
    frame = pt.assign(arm=pd.Categorical(pt["arm"], categories=["a", "b", "z"]))
    msg = r"level\(s\) \['z'\] of 'arm' have no invoices"
    with pytest.warns(SurvivalWarning, match="kaplan_meier: " + msg):
        km = kaplan_meier(frame, by="arm")
    assert km.groups_ == ["a", "b"] and "['z']" in km.summary()
    with pytest.warns(SurvivalWarning, match="logrank: " + msg):
        lr = logrank(frame, "arm")
    assert "['z']" in lr.summary()
    with pytest.warns(SurvivalWarning, match="fit_cox: " + msg):
        cox = fit_cox(frame, ["arm"], cluster_col=None)
    assert "['z']" in cox.summary()
    with pytest.warns(SurvivalWarning, match="fit_cox_counts: " + msg):
        fit_cox_counts(count_table(frame, ["arm", "duration", "event"]).assign(
            arm=lambda d: pd.Categorical(d["arm"], categories=["a", "b", "z"])), ["arm"])
    # an explicit choice of groups is not a silent drop: no warning, and the test equals
    # the one on the chosen rows
    three = pt.assign(arm=np.where(np.arange(len(pt)) % 3 == 0, "c", pt["arm"]))
    chosen = logrank(three, "arm", groups=["a", "c"])
    alone = logrank(three[three["arm"].isin(["a", "c"])], "arm")
    assert chosen.statistic == pytest.approx(alone.statistic, rel=1e-12)
    with pytest.raises(SurvivalInputError, match=r"group\(s\) \['z'\] have no invoices"):
        logrank(three, "arm", groups=["a", "z"])


def test_cumulative_incidence_beyond_last_observation_raises(pt):
    ci = cumulative_incidence(pt, by="arm")
    last = int(ci.last_day().min())
    assert len(ci.at(last)) == 2 * 3
    with pytest.raises(SurvivalInputError, match="day 500 is beyond the last observation of group"):
        ci.at(500)
    assert f"By day {last}" in ci.summary()


def test_collinear_covariates_are_named(pt):
    frame = pt.assign(channel=np.where(pt["arm"] == "a", "mail", "portal"), x=np.arange(len(pt)) % 7)
    frame["x2"] = 2.0 * frame["x"] + 1
    with pytest.raises(SurvivalInputError, match="collinear.*arm=b \\+ channel=portal"):
        fit_cox_counts(count_table(frame, ["arm", "channel", "duration", "event"]), ["arm", "channel"])
    with pytest.raises(SurvivalInputError, match="collinear.*arm=b \\+ channel=portal"):
        fit_cox(frame, ["arm", "channel"])
    with pytest.raises(SurvivalInputError, match="collinear.*x \\+ x2"):
        fit_cox(frame, ["arm", "x", "x2"], cluster_col=None)


def test_singular_information_in_newton_is_a_clear_error():
    # a design column without variation (build_design refuses those first) makes the
    # information matrix singular: numpy's LinAlgError becomes a message naming the columns
    from collections_lab.survival.regression import _cox_newton

    with pytest.raises(SurvivalInputError, match=r"fit_cox_counts: .*\['arm=b'\]"):
        _cox_newton(np.zeros((4, 1)), np.array([1, 2, 3, 4]), np.array([True] * 4),
                      np.ones(4), names=["arm=b"])


def test_diagnostics_say_when_a_model_kind_has_none(pt):
    counts_model = fit_cox_counts(count_table(pt, ["arm", "duration", "event"]), ["arm"])
    for check in (check_proportional_hazards, concordance):
        with pytest.raises(SurvivalInputError, match="not available for a counts model"):
            check(counts_model)
    intervals = pt.assign(start=0, stop=pt["duration"] + 1, reminded=(pt["duration"] % 2))
    tv = fit_time_varying_cox(intervals, ["reminded"])
    for check in (check_proportional_hazards, concordance):
        with pytest.raises(SurvivalInputError, match="not implemented for time-varying models"):
            check(tv)


def test_calibration_keeps_the_predictor_notes():
    # a segment without any payment in the past: the calibration result says so
    rng = np.random.default_rng(3)
    n = 400
    issue = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    seg = np.where(np.arange(n) % 4 == 0, "never", "pays")
    dur = rng.integers(1, 40, n)
    paid = seg == "pays"
    end = issue + pd.to_timedelta(dur, unit="D")
    as_of = pd.Timestamp("2025-08-31")
    end = end.where(paid, as_of)
    frame = pd.DataFrame({"invoice_id": np.arange(n).astype(str), "issue_date": issue, "end_date": end,
                          "duration": (end - issue).days, "event": paid,
                          "outcome": np.where(paid, "paid", "open"), "outcome_code": paid.astype(int),
                          "segment": seg})
    with pytest.warns(SurvivalWarning):
        res = calibrate_predictions(frame, cutoff="2025-06-30", by="segment")
    assert any("['never'] have no payments" in n.en for n in res.notes)
