"""RMST: point estimate vs lifelines, variance vs closed form and simulation, differences."""

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from collections_lab.survival import SurvivalInputError, rmst
from collections_lab.survival.rmst import rmst_difference


def geometric_frame(n, rate, seed, censor_max=150):
    """Whole-day payment times: P(T > k) = exp(-rate (k+1)), uniform censoring."""
    rng = np.random.default_rng(seed)
    t = np.floor(rng.exponential(1 / rate, n)).astype(int)
    c = rng.integers(10, censor_max, n)
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c})


def true_rmst(rate, tau):
    # sum_{k=0}^{tau-1} P(T > k) with T = floor(Exp(rate))
    k = np.arange(tau)
    return float(np.exp(-rate * (k + 1)).sum())


def test_point_estimate_matches_lifelines():
    pt = geometric_frame(500, 0.05, 0)
    kmf = KaplanMeierFitter().fit(pt["duration"], pt["event"])
    assert rmst(pt, 60).table["rmst"].iloc[0] == pytest.approx(
        restricted_mean_survival_time(kmf, 60), rel=1e-12)


def test_variance_closed_form_on_tiny_example():
    # durations 2,4,4+,6 ; S: day2 3/4, day4 3/4*2/3=1/2 ; tau=5
    pt = pd.DataFrame({"duration": [2, 4, 4, 6], "event": [1, 1, 0, 1]})
    res = rmst(pt, 5).table.iloc[0]
    assert res["rmst"] == pytest.approx(1 + 1 + 0.75 + 0.75 + 0.5)
    a2 = 0.75 + 0.75 + 0.5  # area from day 2 to 5
    a4 = 0.5
    var = a2**2 * 1 / (4 * 3) + a4**2 * 1 / (3 * 2)
    assert res["se"] == pytest.approx(np.sqrt(var))


def test_interval_coverage_by_simulation():
    rate, tau, n = 0.04, 60, 300
    truth = true_rmst(rate, tau)
    est, se = [], []
    for seed in range(400):
        r = rmst(geometric_frame(n, rate, seed), tau).table.iloc[0]
        est.append(r["rmst"])
        se.append(r["se"])
    est, se = np.array(est), np.array(se)
    assert abs(est.mean() - truth) < 3 * est.std() / np.sqrt(len(est))
    assert se.mean() == pytest.approx(est.std(), rel=0.1)
    coverage = np.mean(np.abs(est - truth) <= 1.96 * se)
    assert 0.92 <= coverage <= 0.98


def test_difference_and_cluster_and_strata():
    rng = np.random.default_rng(5)
    a = geometric_frame(400, 0.05, 1).assign(arm="control")
    b = geometric_frame(400, 0.07, 2).assign(arm="treat")
    pt = pd.concat([a, b], ignore_index=True)
    pt["customer_id"] = rng.integers(0, 200, len(pt)).astype(str)
    pt["segment"] = rng.choice(["x", "y"], len(pt))
    res = rmst(pt, 60, by="arm", cluster_col=None)
    d = res.difference("control").iloc[0]
    assert d["difference"] == pytest.approx(res.table["rmst"].iloc[1] - res.table["rmst"].iloc[0])
    assert d["se"] == pytest.approx(np.hypot(*res.table["se"]))
    dc = rmst(pt, 60, by="arm", cluster_col="customer_id").difference("control").iloc[0]
    assert dc["difference"] == pytest.approx(d["difference"]) and dc["se"] > 0
    ds = rmst_difference(pt, 60, "arm", "control", strata="segment", cluster_col="customer_id").to_frame()
    assert ds["ci_low"].iloc[0] < ds["difference"].iloc[0] < ds["ci_high"].iloc[0]
    assert "Mean days outstanding" in res.summary() and "Días pendientes" in res.summary("es")


def test_bad_horizons():
    pt = geometric_frame(100, 0.05, 3, censor_max=40)
    with pytest.raises(SurvivalInputError, match="beyond the last observation"):
        rmst(pt, 500)
    with pytest.raises(SurvivalInputError, match="positive whole number"):
        rmst(pt, 10.5)


def test_influence_variance_equals_greenwood_with_singleton_clusters():
    pt = geometric_frame(300, 0.05, 7)
    pt["one"] = np.arange(len(pt)).astype(str)
    g = rmst(pt, 60, cluster_col=None).table["se"].iloc[0]
    c = rmst(pt, 60, cluster_col="one").table["se"].iloc[0]
    assert c == pytest.approx(g * np.sqrt(300 / 299), rel=1e-10)
