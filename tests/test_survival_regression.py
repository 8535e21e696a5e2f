"""Cox (counts and lifelines), time-varying reminders, PH check, AFT, concordance."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from lifelines import CoxTimeVaryingFitter

from collections_lab.survival import (
    SurvivalInputError,
    check_proportional_hazards,
    concordance,
    count_table,
    fit_aft,
    fit_cox,
    fit_cox_counts,
    fit_time_varying_cox,
    reminder_intervals,
)


def ph_frame(n=3000, hr=1.4, seed=0, n_customers=600):
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n)
    arm = np.where(rng.random(n_customers) < 0.5, "control", "reminder")[cust]
    seg = rng.choice(["small", "large", "public"], n)
    amount = rng.lognormal(6, 1, n)
    rate = 0.04 * np.where(arm == "reminder", hr, 1.0) * np.where(seg == "large", 0.7, 1.0)
    t = np.floor(rng.exponential(1 / rate)).astype(int)
    c = rng.integers(10, 150, n)
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "arm": arm, "segment": seg,
                         "amount": amount, "customer_id": cust.astype(str)})


def test_counts_cox_matches_statsmodels_phreg_and_lifelines():
    pt = ph_frame()
    counts = count_table(pt, ["arm", "segment", "duration", "event"])
    ours = fit_cox_counts(counts, ["arm", "segment"], reference={"arm": "control", "segment": "small"})
    names = ours.table["covariate"].tolist()
    X = np.column_stack([(pt["arm"] == "reminder"), (pt["segment"] == "large"),
                         (pt["segment"] == "public")]).astype(float)
    assert names == ["arm=reminder", "segment=large", "segment=public"]
    ref = sm.PHReg(pt["duration"].to_numpy(float), X, status=pt["event"].to_numpy(int),
                   ties="efron").fit()
    np.testing.assert_allclose(ours.table["coef"], ref.params, atol=1e-6)
    np.testing.assert_allclose(ours.table["se"], ref.bse, atol=1e-6)
    ll = fit_cox(pt, ["arm", "segment"], cluster_col=None,
                 reference={"arm": "control", "segment": "small"})
    np.testing.assert_allclose(ours.table["coef"], ll.table["coef"], atol=1e-8)
    assert ours.log_likelihood == pytest.approx(ll.log_likelihood, abs=1e-6)


def test_cluster_robust_cox_and_summaries():
    pt = ph_frame(seed=1)
    res = fit_cox(pt, ["arm", "segment", "amount"], cluster_col="customer_id",
                  reference={"arm": "control"})
    row = res.table.set_index("covariate").loc["arm=reminder"]
    assert row["ci_low"] < 1.4 < row["ci_high"]
    assert "cluster-robust" in res.method
    assert "faster" in res.summary() and "más rápido" in res.summary("es")
    c = concordance(res, max_rows=1000)
    assert 0.5 < c < 0.7


def test_hazard_ratio_recovery_small_ci_run():
    hits = []
    for seed in range(25):
        pt = ph_frame(n=1500, hr=1.3, seed=100 + seed, n_customers=300)
        row = fit_cox(pt, ["arm"], reference={"arm": "control"}).table.iloc[0]
        hits.append(row["ci_low"] <= 1.3 <= row["ci_high"])
    assert np.mean(hits) >= 0.8  # 25 replicates: P(fail | 95% coverage) < 1%


@pytest.mark.slow
def test_hazard_ratio_coverage_long_run():
    hits = []
    for seed in range(300):
        pt = ph_frame(n=1500, hr=1.3, seed=1000 + seed, n_customers=300)
        row = fit_cox(pt, ["arm"], reference={"arm": "control"}).table.iloc[0]
        hits.append(row["ci_low"] <= 1.3 <= row["ci_high"])
    assert 0.92 <= np.mean(hits) <= 0.98


def test_bad_covariates_give_clear_messages():
    pt = ph_frame(n=300)
    with pytest.raises(SurvivalInputError, match="constant"):
        fit_cox(pt.assign(k="x"), ["arm", "k"])
    with pytest.raises(SurvivalInputError, match="not estimable"):
        fit_cox(pt.assign(arm=np.where(pt["event"], "control", "ghost")), ["arm"], cluster_col=None)
    with pytest.raises(SurvivalInputError, match="censored"):
        fit_cox(pt.assign(event=False), ["arm"])
    with pytest.raises(SurvivalInputError, match="missing"):
        fit_cox(pt.assign(amount=np.nan), ["amount"])
    with pytest.raises(SurvivalInputError, match="reference"):
        fit_cox(pt, ["arm"], reference={"arm": "nope"})


def test_reminder_intervals_hand_example():
    frame = pd.DataFrame({"invoice_id": ["a", "b", "c"], "issue_date": pd.to_datetime(["2025-01-01"] * 3),
                          "duration": [10, 3, 0], "event": [True, False, True], "segment": ["x", "y", "x"]})
    rem = pd.DataFrame({"invoice_id": ["a", "a", "a", "b", "c"],
                        "sent_at": pd.to_datetime(["2025-01-05", "2025-01-05", "2025-01-09",
                                                   "2025-01-20", "2025-01-01"])})
    out = reminder_intervals(frame, rem, covariates=["segment"])
    a = out[out["invoice_id"] == "a"]
    assert a[["start", "stop", "reminders_sent", "event"]].values.tolist() == [
        [0, 4, 0, False], [4, 8, 2, False], [8, 11, 3, True]]
    b = out[out["invoice_id"] == "b"]  # reminder after the end is ignored
    assert b[["start", "stop", "reminded", "event"]].values.tolist() == [[0, 4, 0, False]]
    c = out[out["invoice_id"] == "c"]  # reminder on the issue day: exposed from the start
    assert c[["start", "stop", "reminded", "event"]].values.tolist() == [[0, 1, 1, True]]


def test_time_varying_reminder_effect_recovered():
    rng = np.random.default_rng(4)
    n, base, hr = 4000, 0.03, 1.6
    rem_day = rng.integers(5, 40, n)
    # piecewise-constant hazard: base before the reminder day, base*hr from it on
    t1 = np.floor(rng.exponential(1 / base, n)).astype(int)
    after = rem_day + np.floor(rng.exponential(1 / (base * hr), n)).astype(int)
    t = np.where(t1 < rem_day, t1, after)
    c = rng.integers(30, 150, n)
    frame = pd.DataFrame({"invoice_id": np.arange(n).astype(str),
                          "issue_date": pd.Timestamp("2025-01-01"),
                          "duration": np.minimum(t, c), "event": t <= c})
    rem = pd.DataFrame({"invoice_id": frame["invoice_id"],
                        "sent_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rem_day, unit="D")})
    long = reminder_intervals(frame, rem)
    res = fit_time_varying_cox(long)
    row = res.table.iloc[0]
    assert row["ci_low"] < hr < row["ci_high"]
    ctv = CoxTimeVaryingFitter().fit(long[["invoice_id", "start", "stop", "event", "reminded"]]
                                     .assign(event=long["event"].astype(int)),
                                     id_col="invoice_id", event_col="event")
    assert row["coef"] == pytest.approx(ctv.params_["reminded"], abs=1e-6)


def test_ph_check_flags_a_time_changing_effect():
    rng = np.random.default_rng(8)
    n = 4000
    g = rng.choice(["a", "b"], n)
    # group b: fast early payers with a heavy tail (Weibull shapes differ => non-PH)
    t = np.where(g == "a", rng.weibull(2.5, n) * 30, rng.weibull(0.6, n) * 30)
    frame = pd.DataFrame({"duration": np.floor(t).astype(int), "event": True, "arm": g,
                          "x": rng.normal(size=n)})
    res = fit_cox(frame, ["arm", "x"], cluster_col=None)
    check = check_proportional_hazards(res)
    table = check.table.set_index("covariate")
    assert not table.loc["arm=b", "ph_holds"] and table.loc["x", "ph_holds"]
    assert "arm=b" in check.summary() and "cambia con el tiempo" in check.summary("es")


def test_aft_recovers_weibull_time_ratio():
    rng = np.random.default_rng(9)
    n = 4000
    arm = rng.choice(["control", "link"], n)
    scale = np.where(arm == "link", 20.0, 30.0)  # time ratio 2/3
    t = np.floor(rng.weibull(1.5, n) * scale).astype(int)
    frame = pd.DataFrame({"duration": t, "event": True, "arm": arm})
    res = fit_aft(frame, ["arm"], distribution="best")
    row = res.table.iloc[0]
    assert res.distribution == "weibull"
    assert row["time_ratio"] == pytest.approx(2 / 3, rel=0.05)
    assert row["median_days_change"] < 0 and "sooner" in res.summary()
    with pytest.raises(SurvivalInputError, match="distribution"):
        fit_aft(frame, ["arm"], distribution="gamma")


def test_closed_form_efron_ties_agree_with_explicit_sums(monkeypatch):
    from collections_lab.survival import regression

    for d, s0, d0 in [(6000, 1e7, 3e4), (50000, 2e6, 1.5e5), (7000, 7000.0, 7000.0)]:
        a = np.arange(d) / d
        c = s0 - a * d0
        explicit = [np.log(c).sum(), (1 / c).sum(), (a / c).sum(), (1 / c**2).sum(),
                    (a / c**2).sum()]
        closed = regression.efron_tie_sums(np.array([float(d)]), np.array([s0]), np.array([d0]))[0]
        np.testing.assert_allclose(closed[:5], explicit, rtol=1e-9)
    pt = ph_frame(n=20000, seed=3)
    counts = count_table(pt, ["arm", "segment", "duration", "event"])
    explicit_fit = fit_cox_counts(counts, ["arm", "segment"]).table
    monkeypatch.setattr(regression, "CLOSED_FORM_TIES", 20)
    closed_fit = fit_cox_counts(counts, ["arm", "segment"]).table
    np.testing.assert_allclose(closed_fit["coef"], explicit_fit["coef"], atol=1e-9)
    np.testing.assert_allclose(closed_fit["se"], explicit_fit["se"], rtol=1e-7)


def test_cluster_robust_errors_match_statsmodels_phreg_groups_with_breslow_ties():
    # statsmodels' sandwich uses Breslow-type score residuals: the oracle for Breslow fits
    # only (Efron's robust SE is checked against R in test_survival_r_reference.py)
    pt = ph_frame(n=2000, seed=12, n_customers=300)
    res = fit_cox(pt, ["arm", "segment", "amount"], reference={"arm": "control", "segment": "small"},
                  ties="breslow")
    X = res.design_[res.table["covariate"]].to_numpy()
    ref = sm.PHReg(pt["duration"].to_numpy(float), X, status=pt["event"].to_numpy(int),
                   ties="breslow").fit(groups=pt["customer_id"].to_numpy())
    np.testing.assert_allclose(res.table["coef"], ref.params, atol=1e-8)
    np.testing.assert_allclose(res.table["se"], ref.bse, rtol=1e-6)


def test_efron_score_residuals_sum_to_zero_at_the_efron_estimate():
    from collections_lab.survival.regression import cox_score_residuals

    pt = ph_frame(n=2000, seed=12, n_customers=300)
    res = fit_cox(pt, ["arm", "segment", "amount"], reference={"arm": "control", "segment": "small"})
    X = res.design_[res.table["covariate"]].to_numpy()
    beta = res.table["coef"].to_numpy()
    args = (X, pt["duration"].to_numpy(), pt["event"].to_numpy(bool), beta)
    efron = cox_score_residuals(*args, ties="efron").sum(0)
    breslow = cox_score_residuals(*args, ties="breslow").sum(0)
    scale = np.abs(cox_score_residuals(*args, ties="efron")).sum(0)
    assert np.all(np.abs(efron) < 1e-9 * scale)
    assert np.any(np.abs(breslow) > 1e-3 * scale)  # the shortcut the sandwich used to take


def test_time_varying_robust_errors_match_statsmodels_with_entry():
    rng = np.random.default_rng(13)
    n = 1500
    rem_day = rng.integers(3, 30, n)
    t = np.floor(rng.exponential(25, n)).astype(int)
    frame = pd.DataFrame({"invoice_id": np.arange(n).astype(str), "issue_date": pd.Timestamp("2025-01-01"),
                          "duration": t, "event": True,
                          "customer_id": rng.integers(0, 200, n).astype(str)})
    rem = pd.DataFrame({"invoice_id": frame["invoice_id"],
                        "sent_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rem_day, unit="D")})
    long = reminder_intervals(frame, rem)
    res = fit_time_varying_cox(long, ["reminded"], ties="breslow")
    ref = sm.PHReg(long["stop"].to_numpy(float), long[["reminded"]].to_numpy(float),
                   status=long["event"].to_numpy(int),
                   # statsmodels counts a row at risk on its entry time itself; intervals
                   # here are (start, stop], so enter half a day later
                   entry=long["start"].to_numpy(float) + 0.5, ties="breslow").fit(groups=long["customer_id"].to_numpy())
    np.testing.assert_allclose(res.table["coef"], ref.params, atol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref.bse, rtol=1e-6)


def test_aft_on_counts_matches_row_level_lifelines():
    from lifelines import WeibullAFTFitter

    pt = ph_frame(n=3000, seed=21)
    res = fit_aft(pt, ["arm", "segment"], distribution="weibull", reference={"arm": "control"})
    X = res.fitter_.params_.loc["lambda_"].index.drop("Intercept")
    rows = pd.DataFrame({c: (pt[c.split("=")[0]] == c.split("=")[1]).astype(float) for c in X})
    rows["d"], rows["e"] = pt["duration"] + 0.5, pt["event"].astype(int)
    ref = WeibullAFTFitter().fit(rows, "d", "e")
    np.testing.assert_allclose(res.fitter_.params_.to_numpy(), ref.params_.to_numpy(), atol=1e-4)


def test_stratified_cluster_robust_errors_match_statsmodels_phreg():
    pt = ph_frame(n=2000, seed=21, n_customers=250)
    res = fit_cox(pt, ["arm", "amount"], strata="segment", cluster_col="customer_id",
                  reference={"arm": "control"}, ties="breslow")
    X = res.design_[res.table["covariate"]].to_numpy()
    ref = sm.PHReg(pt["duration"].to_numpy(float), X, status=pt["event"].to_numpy(int),
                   strata=pt["segment"].to_numpy(), ties="breslow").fit(groups=pt["customer_id"].to_numpy())
    np.testing.assert_allclose(res.table["coef"], ref.params, atol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref.bse, rtol=1e-6)
    # the per-stratum risk sets matter: the unstratified sandwich differs
    flat = fit_cox(pt, ["arm", "amount"], cluster_col="customer_id", reference={"arm": "control"},
                   ties="breslow")
    assert not np.allclose(flat.table["se"], res.table["se"], rtol=1e-3)


def test_row_level_cox_with_numeric_covariate_matches_statsmodels_phreg():
    pt = ph_frame(n=2500, seed=22)
    pt["log_amount"] = np.log(pt["amount"])
    res = fit_cox(pt, ["arm", "segment", "log_amount"], cluster_col=None,
                  reference={"arm": "control", "segment": "small"})
    X = res.design_[res.table["covariate"]].to_numpy()
    assert res.table["covariate"].tolist() == ["arm=reminder", "segment=large", "segment=public", "log_amount"]
    ref = sm.PHReg(pt["duration"].to_numpy(float), X, status=pt["event"].to_numpy(int), ties="efron").fit()
    np.testing.assert_allclose(res.table["coef"], ref.params, atol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref.bse, rtol=1e-6)


def test_ph_check_refit_keeps_penalizer_and_fast_path(monkeypatch):
    import lifelines

    seen = []
    original = lifelines.CoxPHFitter.fit

    def spy(self, *args, **kwargs):
        seen.append((self.penalizer, kwargs.get("batch_mode")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(lifelines.CoxPHFitter, "fit", spy)
    pt = ph_frame(n=1500, seed=23)
    res = fit_cox(pt, ["arm", "segment"], strata=None, cluster_col=None, penalizer=0.1)
    check_proportional_hazards(res, max_rows=800)
    assert seen == [(0.1, True), (0.1, True)]  # the fit, then the refit on the sample


def stratified_ph_frame(seed, n=1500, hr=1.3, n_customers=300):
    """Segments with different baseline shapes (Weibull 0.7, 1.0, 1.6): not PH across segments,
    PH for the arm within each; arm randomised by customer."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n)
    arm = np.where(rng.random(n_customers) < 0.5, "control", "reminder")[cust]
    seg = rng.choice(["small", "large", "public"], n)
    shape = np.select([seg == "small", seg == "large"], [0.7, 1.0], 1.6)
    # S(t) = exp(-(t/30)^k * HR): invert with an exponential draw
    e = rng.exponential(1.0, n) / np.where(arm == "reminder", hr, 1.0)
    t = np.floor(30 * e ** (1 / shape)).astype(int)
    c = rng.integers(10, 120, n)
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "arm": arm, "segment": seg,
                         "customer_id": cust.astype(str)})


@pytest.mark.slow
def test_stratified_cluster_robust_hazard_ratio_coverage_long_run():
    hits = []
    for seed in range(200):
        pt = stratified_ph_frame(2000 + seed)
        row = fit_cox(pt, ["arm"], strata="segment", reference={"arm": "control"}).table.iloc[0]
        hits.append(row["ci_low"] <= 1.3 <= row["ci_high"])
    print(np.mean(hits))
    assert 0.92 <= np.mean(hits) <= 0.98


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_score_residuals_on_counts_equal_the_invoices_residuals(ties):
    from collections_lab.survival.regression import cox_fit_arrays, cox_score_residuals

    pt = ph_frame(n=1500, seed=31)
    z = (pt["arm"] == "reminder").to_numpy(float)[:, None]
    t, ev = pt["duration"].to_numpy(), pt["event"].to_numpy(bool)
    beta, _, _ = cox_fit_arrays(z, t, ev, ties=ties)
    rows = cox_score_residuals(z, t, ev, beta, ties=ties)
    keys, first, inverse, counts = np.unique(np.column_stack([z[:, 0], t, ev]), axis=0,
                                             return_index=True, return_inverse=True,
                                             return_counts=True)
    agg = cox_score_residuals(z[first], t[first], ev[first], beta, ties=ties, weights=counts)
    np.testing.assert_allclose(agg[inverse.ravel()], rows, atol=1e-12)
    beta_w, _, _ = cox_fit_arrays(z[first], t[first], ev[first], weights=counts, ties=ties)
    np.testing.assert_allclose(beta_w, beta, atol=1e-10)
