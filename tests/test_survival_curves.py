"""Kaplan–Meier, medians, P(paid by d) and log-rank against lifelines, statsmodels and hand work."""

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from collections_lab.survival import (
    SurvivalInputError,
    SurvivalWarning,
    escalated_as_unpaid,
    kaplan_meier,
    logrank,
)


def whole_day_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    arm = rng.choice(["a", "b", "c"], n)
    seg = rng.choice(["s1", "s2"], n)
    scale = np.where(arm == "a", 20, np.where(arm == "b", 15, 25)) * np.where(seg == "s1", 1.0, 1.3)
    t = np.floor(rng.weibull(1.3, n) * scale).astype(int)
    c = rng.integers(5, 80, n)
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "arm": arm, "segment": seg,
                         "terms_days": rng.choice([15, 30, 45], n),
                         "customer_id": rng.integers(0, 120, n).astype(str)})


def test_hand_worked_example():
    # durations 5,8,12+,20,30+ : S(5)=4/5, S(8)=3/5, S(20)=3/5*1/2=0.3
    pt = pd.DataFrame({"duration": [5, 8, 12, 20, 30], "event": [1, 1, 0, 1, 0]})
    km = kaplan_meier(pt)
    s = km.to_frame().set_index("day")["survival"]
    assert s[5] == pytest.approx(0.8) and s[8] == pytest.approx(0.6) and s[20] == pytest.approx(0.3)
    # Greenwood at day 8: 0.6^2 * (1/(5*4) + 1/(4*3))
    p = km.prob_paid_by([8]).iloc[0]
    assert p["se"] == pytest.approx(0.6 * np.sqrt(1 / 20 + 1 / 12))
    assert km.median()["median_days"].iloc[0] == 20


def test_curve_bands_and_median_match_lifelines_and_statsmodels():
    pt = whole_day_frame()
    km = kaplan_meier(pt, by="arm", cluster_col=None)  # Greenwood, as the references
    for g in ["a", "b", "c"]:
        sub = pt[pt["arm"] == g]
        kmf = KaplanMeierFitter().fit(sub["duration"], sub["event"])
        ours = km.to_frame().query("group == @g").set_index("day")
        ref = kmf.survival_function_.iloc[:, 0].reindex(ours.index)
        np.testing.assert_allclose(ours["survival"], ref, atol=1e-12)
        ci = kmf.confidence_interval_.reindex(ours.index)
        np.testing.assert_allclose(ours["ci_low"], ci.iloc[:, 0], atol=1e-10)
        np.testing.assert_allclose(ours["ci_high"], ci.iloc[:, 1], atol=1e-10)
        sf = SurvfuncRight(sub["duration"].to_numpy(float), sub["event"].to_numpy(int))
        np.testing.assert_allclose(ours.loc[sf.surv_times, "survival"], sf.surv_prob, atol=1e-12)
        se = km.prob_paid_by(sf.surv_times[:5].astype(int)).query("group == @g")["se"].to_numpy()
        np.testing.assert_allclose(se, sf.surv_prob_se[:5], rtol=1e-10)
        med = km.median().set_index("group").loc[g, "median_days"]
        assert med == kmf.median_survival_time_


def test_due_axis_uses_delayed_entry_like_lifelines():
    pt = whole_day_frame(seed=1)
    km = kaplan_meier(pt, axis="due", cluster_col=None)
    rel = pt["duration"] - pt["terms_days"]
    kmf = KaplanMeierFitter().fit(rel, pt["event"], entry=-pt["terms_days"] - 1)
    ours = km.to_frame().set_index("day")["survival"]
    ref = kmf.survival_function_.iloc[:, 0].reindex(ours.index)
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_cluster_influence_variance_equals_greenwood_with_singleton_clusters():
    pt = whole_day_frame(seed=2)
    pt["one"] = np.arange(len(pt)).astype(str)
    g = kaplan_meier(pt, by="arm", cluster_col=None).prob_paid_by([10, 30])
    c = kaplan_meier(pt, by="arm", cluster_col="one").prob_paid_by([10, 30])
    n = len(pt) / 3  # clusters per group ~ n/3; factor G/(G-1) is the only difference
    np.testing.assert_allclose(c["se"], g["se"], rtol=1.5 / n)


def test_influence_values_are_derivatives_with_delayed_entry():
    # on the due axis invoices enter late; there the influence variance is a sandwich that
    # differs from Greenwood in finite samples, so check the influence values themselves:
    # each is the derivative of log S(d) with respect to that invoice's weight
    from collections_lab.survival._common import GroupData, km_log_influence, value_at

    rng = np.random.default_rng(1)
    n = 60
    terms = rng.choice([15, 30, 45], n)
    dur = rng.integers(0, 50, n) - terms
    ev = (rng.random(n) < 0.7).astype(np.int64)

    def log_s(w, d):
        tab = GroupData(dur, ev, w, -terms, None).table()
        return np.log(value_at(tab.days, tab.survival(), d))

    group = GroupData(dur, ev, np.ones(n), -terms, None)
    for d in (-5, 0, 15):
        inf = km_log_influence(group, group.table(), np.array([d]))[:, 0]
        eps = 1e-7
        num = [(log_s(np.ones(n) + eps * np.eye(n)[i], d) - log_s(np.ones(n), d)) / eps
               for i in range(n)]
        np.testing.assert_allclose(inf, num, atol=1e-6)


def test_logrank_matches_lifelines_and_statsmodels_stratified():
    pt = whole_day_frame(seed=3)
    ours = logrank(pt, "arm")
    ref = multivariate_logrank_test(pt["duration"], pt["arm"], pt["event"])
    assert ours.statistic == pytest.approx(ref.test_statistic, rel=1e-10)
    assert ours.p_value == pytest.approx(ref.p_value, rel=1e-8)
    strat = logrank(pt, "arm", strata="segment")
    stat, p = survdiff(pt["duration"].to_numpy(float), pt["event"].to_numpy(int), pt["arm"].to_numpy(),
                       strata=pt["segment"].to_numpy())
    assert strat.statistic == pytest.approx(stat, rel=1e-8)
    assert strat.p_value == pytest.approx(p, rel=1e-6)
    assert "stratified" in strat.summary() and "estratificada" in strat.summary("es")


def test_escalated_as_unpaid_keeps_escalated_in_risk_set():
    pt = pd.DataFrame({
        "issue_date": pd.to_datetime(["2025-01-01"] * 3),
        "end_date": pd.to_datetime(["2025-01-05", "2025-01-03", "2025-01-11"]),
        "duration": [4, 2, 10], "event": [True, False, False],
        "outcome": ["paid", "escalated", "open"]})
    out = escalated_as_unpaid(pt)
    assert out["duration"].tolist() == [4, 10, 10]
    assert out["event"].tolist() == [True, False, False]


@pytest.mark.parametrize(
    "frame, kwargs, message",
    [
        (pd.DataFrame({"duration": [1, 2], "event": [False, False]}), {}, "censored"),
        (pd.DataFrame({"duration": [1.5, 2], "event": [True, False]}), {}, "whole days"),
        (pd.DataFrame({"duration": [-1, 2], "event": [True, False]}), {}, "negative"),
        (pd.DataFrame({"duration": [1, 2], "event": [True, False]}).iloc[:0], {}, "empty"),
        (pd.DataFrame({"duration": [1, 2], "event": [True, False], "arm": ["a", "a"]}),
         {"by": "arm", "groups": ["a", "b"]}, "no invoices"),
        (pd.DataFrame({"duration": [1, 2], "event": [True, False], "arm": ["a", None]}),
         {"by": "arm"}, "missing"),
    ],
)
def test_bad_input_gives_clear_message(frame, kwargs, message):
    with pytest.raises(SurvivalInputError, match=message):
        kaplan_meier(frame, **kwargs)


def test_group_without_events_and_day_beyond_follow_up():
    pt = pd.DataFrame({"duration": [3, 5, 4, 6], "event": [1, 1, 0, 0], "arm": ["a", "a", "b", "b"]})
    with pytest.warns(SurvivalWarning, match=r"\['b'\] have no payments"):
        km = kaplan_meier(pt, by="arm", cluster_col=None)  # Greenwood, as the references
    assert np.isinf(km.median().set_index("group").loc["b", "median_days"])
    with pytest.raises(SurvivalInputError, match="beyond the last observation"):
        km.prob_paid_by([30])
    with pytest.warns(SurvivalWarning, match="read their curves instead of the p-value"):
        lr = logrank(pt, "arm")
    assert "no payments" in lr.table.attrs["warning"]
    with pytest.raises(SurvivalInputError, match="two groups"):
        logrank(pt[pt["arm"] == "a"], "arm")


def test_standardized_prob_paid_weights_strata():
    from collections_lab.survival import standardized_prob_paid

    pt = whole_day_frame(seed=4)
    res = standardized_prob_paid(pt, [10], "arm", "segment").set_index("group")
    shares = pt["segment"].value_counts(normalize=True)
    manual = sum(shares[s] * kaplan_meier(pt[pt["segment"] == s], by="arm").prob_paid_by([10])
                 .set_index("group").loc["a", "prob_paid"] for s in shares.index)
    assert res.loc["a", "prob_paid"] == pytest.approx(manual)
    assert res.loc["a", "ci_low"] < res.loc["a", "prob_paid"] < res.loc["a", "ci_high"]


def test_logrank_hand_worked_with_ties():
    # a: paid on days 1, 1, 3; b: paid on days 1, 2, open (censored) at 4.
    # day 1: n = 3 + 3, d = 3 (2 in a): E_a = 3*3/6 = 1.5, V = 3*3/5 * 3*3/36 = 0.45
    # day 2: n = 1 + 2, d = 1 (b):     E_a = 1/3,        V = 1*2/2 * 1*2/9  = 2/9
    # day 3: n = 1 + 1, d = 1 (a):     E_a = 1/2,        V = 1*1/1 * 1*1/4  = 1/4
    # O_a - E_a = 3 - 7/3 = 2/3; chi² = (2/3)² / (0.45 + 2/9 + 1/4) = 40/83
    pt = pd.DataFrame({"duration": [1, 1, 3, 1, 2, 4], "event": [1, 1, 1, 1, 1, 0],
                       "arm": ["a", "a", "a", "b", "b", "b"]})
    res = logrank(pt, "arm")
    tab = res.table.set_index("group")
    assert tab.loc["a", "observed"] == 3 and tab.loc["a", "expected"] == pytest.approx(7 / 3)
    assert tab.loc["b", "observed"] == 2 and tab.loc["b", "expected"] == pytest.approx(8 / 3)
    assert res.statistic == pytest.approx(40 / 83, rel=1e-12) and res.dof == 1


def brute_force_logrank_due(pt):
    """Two-group log-rank on days relative to due, risk sets counted invoice by invoice."""
    entry = -pt["terms_days"].to_numpy()
    exit_ = (pt["duration"] - pt["terms_days"]).to_numpy()
    ev = pt["event"].to_numpy(bool)
    in_a = (pt["arm"] == "a").to_numpy()
    o_e = var = 0.0
    for t in range(entry.min(), exit_.max() + 1):
        at_risk = (entry <= t) & (exit_ >= t)
        dead = ev & (exit_ == t)
        n, d = at_risk.sum(), dead.sum()
        if d == 0 or n < 2:
            continue
        na = (at_risk & in_a).sum()
        o_e += (dead & in_a).sum() - d * na / n
        var += d * (n - d) / (n - 1) * na * (n - na) / n**2
    return o_e**2 / var


def test_logrank_on_the_due_axis_uses_delayed_entry():
    pt = whole_day_frame(n=300, seed=7)
    pt = pt[pt["arm"] != "c"]
    res = logrank(pt, "arm", axis="due")
    assert res.statistic == pytest.approx(brute_force_logrank_due(pt), rel=1e-10)
    # with one payment term for everybody the due axis is a shift: same test as by issue
    same = pt.assign(terms_days=30)
    assert logrank(same, "arm", axis="due").statistic == pytest.approx(logrank(same, "arm").statistic, rel=1e-12)
    assert res.statistic != pytest.approx(logrank(pt, "arm").statistic, rel=1e-3)


def test_median_ci_matches_lifelines_median_survival_times():
    from lifelines.utils import median_survival_times

    pt = whole_day_frame(n=600, seed=8)
    med = kaplan_meier(pt, by="arm").median().set_index("group")
    for g in ["a", "b", "c"]:
        sub = pt[pt["arm"] == g]
        kmf = KaplanMeierFitter().fit(sub["duration"], sub["event"])
        ref = median_survival_times(kmf.confidence_interval_).iloc[0]
        assert med.loc[g, "median_days"] == kmf.median_survival_time_
        assert med.loc[g, "ci_low"] == ref.iloc[0] and med.loc[g, "ci_high"] == ref.iloc[1]
        assert med.loc[g, "ci_low"] < med.loc[g, "median_days"] < med.loc[g, "ci_high"]


def clustered_frame(n_customers=300, per=6, seed=9):
    """Customers with a shared speed (frailty): their invoices are paid alike."""
    rng = np.random.default_rng(seed)
    cust = np.repeat(np.arange(n_customers), per)
    speed = rng.gamma(1.5, 1 / 1.5, n_customers)[cust]
    t = np.floor(rng.exponential(20 / speed)).astype(int)
    c = rng.integers(20, 90, len(cust))
    terms = rng.choice([15, 30], n_customers)[cust]
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "customer_id": cust.astype(str),
                         "terms_days": terms})


@pytest.mark.parametrize("axis", ["issue", "due"])
def test_clustered_band_equals_summed_influence_values(axis):
    from collections_lab.survival._common import (
        cluster_variance,
        km_log_cluster_variance,
        km_log_influence,
    )

    pt = clustered_frame(n_customers=80, per=4)
    km = kaplan_meier(pt, axis=axis, cluster_col="customer_id")
    data, tab = km._data["all"], km._tables["all"]
    full = km_log_cluster_variance(data, tab)
    ref = cluster_variance(km_log_influence(data, tab, tab.days), data.clusters)
    np.testing.assert_allclose(full, ref, rtol=1e-10, atol=1e-14)
    # small blocks give the same answer as one block
    np.testing.assert_allclose(km_log_cluster_variance(data, tab, chunk_cells=50), full, rtol=1e-12)
    # and the band in the curves is the log(-log) band of that variance
    from collections_lab.survival.curves import loglog_band

    low, high = loglog_band(tab.survival(), full, 0.05)
    keep = (tab.d + tab.censored) > 0
    np.testing.assert_allclose(km.to_frame()["ci_low"], low[keep], rtol=1e-12)
    np.testing.assert_allclose(km.to_frame()["ci_high"], high[keep], rtol=1e-12)


def test_clustered_band_with_one_invoice_per_customer_is_greenwood():
    pt = whole_day_frame(n=500, seed=10)
    pt["one"] = np.arange(len(pt)).astype(str)
    plain = kaplan_meier(pt, by="arm", cluster_col=None)
    clus = kaplan_meier(pt, by="arm", cluster_col="one")
    for g in ["a", "b", "c"]:
        a, b = plain._tables[g], clus._tables[g]
        from collections_lab.survival._common import km_log_cluster_variance

        n_g = len(clus._data[g].durations)
        np.testing.assert_allclose(km_log_cluster_variance(clus._data[g], b),
                                   n_g / (n_g - 1) * np.cumsum(a.greenwood_terms()), rtol=1e-10, atol=1e-15)
    # bands: the same up to the G/(G-1) factor; median CI read off them
    diff = (clus.to_frame()["ci_high"] - clus.to_frame()["ci_low"]) / (
        plain.to_frame()["ci_high"] - plain.to_frame()["ci_low"])
    assert diff.dropna().between(0.999, 1.01).all()


def test_clustered_band_agrees_with_a_cluster_bootstrap():
    from collections_lab.survival._common import GroupData, value_at

    pt = clustered_frame()
    days = np.array([5, 15, 30])
    km = kaplan_meier(pt, cluster_col="customer_id")
    naive = kaplan_meier(pt, cluster_col=None)
    rows = km.to_frame().set_index("day")
    se_clustered = km.prob_paid_by(days)["se"].to_numpy()
    se_naive = naive.prob_paid_by(days)["se"].to_numpy()
    rng = np.random.default_rng(0)
    codes = pt["customer_id"].astype(int).to_numpy()
    by_cust = [np.nonzero(codes == c)[0] for c in range(codes.max() + 1)]
    dur, ev = pt["duration"].to_numpy(), pt["event"].to_numpy().astype(np.int64)
    boot = []
    for _ in range(400):
        idx = np.concatenate([by_cust[c] for c in rng.integers(0, len(by_cust), len(by_cust))])
        tab = GroupData(dur[idx], ev[idx], np.ones(len(idx)), None, None).table()
        boot.append([1 - value_at(tab.days, tab.survival(), d) for d in days])
    se_boot = np.std(boot, axis=0, ddof=1)
    # within 15% of the bootstrap (its own noise is ~4% at 400 replicates), and the naive
    # Greenwood SE is clearly too small for these correlated invoices
    np.testing.assert_allclose(se_clustered, se_boot, rtol=0.15)
    assert (se_naive < 0.8 * se_boot).all()
    # the clustered band is wider than the naive one on every day with events
    wide = rows["ci_high"] - rows["ci_low"]
    narrow = naive.to_frame().set_index("day")["ci_high"] - naive.to_frame().set_index("day")["ci_low"]
    assert (wide[rows["paid"] > 0] >= narrow[rows["paid"] > 0] - 1e-12).mean() > 0.95


def test_prob_paid_by_gives_nan_with_a_reason_for_a_group_whose_follow_up_ends_early():
    # a terms code with a single invoice (paid on day 4) next to a well-followed group
    rng = np.random.default_rng(3)
    pt = pd.DataFrame({"duration": np.r_[rng.integers(1, 60, 200), 4],
                       "event": np.r_[rng.random(200) < 0.8, True],
                       "terms": ["net30"] * 200 + ["net97"]})
    km = kaplan_meier(pt, by="terms")
    with pytest.warns(SurvivalWarning, match=r"'net97' at day\(s\) \[15, 30\]"):
        res = km.prob_paid_by([0, 15, 30]).set_index(["group", "day"])
    assert res.loc[("net97", 0), "prob_paid"] == 0.0
    assert np.isnan(res.loc[("net97", 15), "prob_paid"])
    assert "day 4" in res.loc[("net97", 30), "reason"]
    alone = kaplan_meier(pt[pt["terms"] == "net30"]).prob_paid_by([0, 15, 30])
    np.testing.assert_allclose(res.xs("net30", level="group")["prob_paid"], alone["prob_paid"])
    assert (res.xs("net30", level="group")["reason"] == "").all()


def test_prob_paid_by_due_is_unbiased_with_mixed_payment_terms():
    """Issue 15: 15- and 60-day terms, payment days from issue, nothing censored. The
    due-axis curve pools the terms and overstates the share paid by due + 15; the
    per-terms estimate is exactly that share, equal on counts, with an influence-based SE."""
    from collections_lab.experiments.synthetic import synthetic_payment_times
    from collections_lab.survival import count_table, prob_paid_by_due

    frame = synthetic_payment_times(1500, seed=11, terms=(15, 60), follow_days=400)
    share = ((frame["event"]) & (frame["days_late"] <= 15)).groupby(frame["arm"]).mean()
    ours = prob_paid_by_due(frame, [15], by="arm").set_index("group")
    np.testing.assert_allclose(ours["prob_paid"], share.loc[ours.index], atol=1e-12)
    pooled = kaplan_meier(frame, by="arm", axis="due", cluster_col=None).prob_paid_by([15])
    assert (pooled.set_index("group")["prob_paid"] - share > 0.1).all()
    assert (ours["ci_low"] < ours["prob_paid"]).all() and (ours["prob_paid"] < ours["ci_high"]).all()
    # model-based SE = binomial SE with nothing censored; clustered by customer is wider
    plain = prob_paid_by_due(frame, [15], by="arm", cluster_col=None).set_index("group")
    n = frame["arm"].value_counts().loc[plain.index]
    np.testing.assert_allclose(plain["se"], np.sqrt(share * (1 - share) / n).loc[plain.index], rtol=1e-9)
    counts = count_table(frame, ["arm", "terms_days", "duration", "event"])
    agg = prob_paid_by_due(counts, [15], by="arm", weight_col="n").set_index("group")
    np.testing.assert_allclose(agg["prob_paid"], plain["prob_paid"], atol=1e-12)
    np.testing.assert_allclose(agg["se"], plain["se"], rtol=1e-9)
