"""Estimators with influence functions: checked against lifelines, statsmodels, closed forms."""

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from collections_lab.survival._common import cluster_variance
from collections_lab.survival.influence import AalenJohansen


def _censored(n=4000, seed=1, p=0.03):
    rng = np.random.default_rng(seed)
    t = rng.geometric(p, n)
    c = rng.integers(5, 100, n)
    return np.minimum(t, c), (t <= c).astype(int)


def test_single_cause_is_one_minus_kaplan_meier():
    x, ev = _censored()
    aj = AalenJohansen().fit(np.zeros(len(x), int), x, ev)
    km = KaplanMeierFitter().fit(x, ev)
    for day in (5, 20, 60):
        assert aj.cif_at(day) == pytest.approx(1 - km.survival_function_at_times(day).iloc[0],
                                               abs=1e-12)


def test_influence_variance_matches_greenwood_and_sums_to_zero():
    x, ev = _censored()
    aj = AalenJohansen().fit(np.zeros(len(x), int), x, ev)
    est, psi = aj.at_day(30)
    assert abs(psi.sum()) < 1e-10
    km = KaplanMeierFitter().fit(x, ev)
    tab = km.event_table
    m = tab.index.values <= 30
    d, y = tab.observed.values[m], tab.at_risk.values[m]
    greenwood = (1 - est) ** 2 * np.sum(d / (y * (y - d)))
    # with the exact discrete derivative the IF variance is Greenwood's, not just close
    assert np.sum(psi**2) == pytest.approx(greenwood, rel=1e-9)


def test_competing_risks_cif_against_hand_computation():
    # 6 invoices, no ties: paid at 1, 3; escalated at 2; censored at 4; paid at 5, 6
    x = np.array([1, 2, 3, 4, 5, 6])
    cause = np.array([1, 2, 1, 0, 1, 1])
    aj = AalenJohansen().fit(np.zeros(6, int), x, cause)
    # S(0)=1; day1: paid 1/6 -> F=1/6, S=5/6; day2: esc -> S=4/6; day3: paid 1/4 of 4/6
    assert aj.cif_at(1) == pytest.approx(1 / 6)
    assert aj.cif_at(3) == pytest.approx(1 / 6 + (4 / 6) / 4)
    esc = AalenJohansen().fit(np.zeros(6, int), x, cause, cause_of_interest=2)
    assert esc.cif_at(6) == pytest.approx(1 / 6)
    # all causes sum to 1 - S
    assert aj.cif_at(6) + esc.cif_at(6) == pytest.approx(1 - aj.survival_[-1])


def test_rmst_without_censoring_is_mean_of_truncated_times():
    rng = np.random.default_rng(3)
    t = rng.integers(1, 150, 2000)
    aj = AalenJohansen().fit(np.zeros(len(t), int), t, np.ones(len(t), int))
    est, psi = aj.restricted_mean_free(0, 90)
    assert est == pytest.approx(np.mean(np.minimum(t, 90)))
    # without censoring the IF of a mean is (y - mean) / n, up to the discrete-time
    # approximation d/Y^2 of the martingale variance
    y = np.minimum(t, 90)
    assert np.corrcoef(psi, y)[0, 1] > 0.999
    assert np.sum(psi**2) == pytest.approx(np.var(y) / len(y), rel=0.02)


def test_variance_of_rmst_and_cif_match_monte_carlo():
    rng = np.random.default_rng(5)
    ests, ses, rm, rse = [], [], [], []
    for _ in range(300):
        t = rng.geometric(0.03, 1500)
        c = rng.integers(5, 100, 1500)
        x = np.minimum(t, c)
        cause = np.where(t <= c, rng.choice([1, 2], 1500, p=[0.7, 0.3]), 0)
        aj = AalenJohansen().fit(np.zeros(1500, int), x, cause)
        e, p = aj.at_day(30)
        ests.append(e)
        ses.append(np.sqrt(np.sum(p**2)))
        e, p = aj.restricted_mean_free(0, 60)
        rm.append(e)
        rse.append(np.sqrt(np.sum(p**2)))
    assert np.mean(ses) == pytest.approx(np.std(ests), rel=0.12)
    assert np.mean(rse) == pytest.approx(np.std(rm), rel=0.12)


def test_left_truncation_handles_different_terms():
    # invoices with 30 and 60 day terms on the "days relative to due" axis
    rng = np.random.default_rng(7)
    terms = rng.choice([30, 60], 5000)
    late = rng.integers(-10, 40, 5000)  # days relative to due, uniform
    aj = AalenJohansen().fit(-terms, late, np.ones(5000, int))
    assert aj.cif_at(15) == pytest.approx(np.mean(late <= 15), abs=1e-12)


def test_weights_equal_duplicated_rows():
    x, ev = _censored(500)
    w = np.random.default_rng(2).integers(1, 4, len(x))
    weighted = AalenJohansen().fit(np.zeros(len(x), int), x, ev, weights=w)
    dup = AalenJohansen().fit(np.zeros(w.sum(), int), np.repeat(x, w), np.repeat(ev, w))
    assert weighted.cif_at(40) == pytest.approx(dup.cif_at(40))


def test_bad_input_messages():
    with pytest.raises(ValueError, match="whole days"):
        AalenJohansen().fit([0, 0], [1.5, 2.0], [1, 0])
    with pytest.raises(ValueError, match="before it enters"):
        AalenJohansen().fit([5, 0], [2, 3], [1, 0])
    with pytest.raises(ValueError, match="no invoices"):
        AalenJohansen().fit([], [], [])


def test_cluster_helpers():
    psi = np.array([1.0, -1.0, 2.0, -2.0])
    assert cluster_variance(psi, np.array([0, 0, 1, 1]))[0] == 0.0
    assert cluster_variance(np.array([1.0, -1.0]), np.array([0, 1]))[0] == pytest.approx(4.0)




def test_cr2_clustered_variance_equals_the_matrix_bell_mccaffrey_on_a_weighted_mean():
    """The engine's CR2 (rank-one shortcut) against the textbook matrices: a weighted mean
    (WLS on an intercept) with clusters of unequal size and weight; the variance uses
    A_g = (I - H_gg)^(-1/2) in the symmetric (W^1/2) form, the df is Bell-McCaffrey's
    (tr G)^2 / tr(G^2) under independent equal-variance errors."""
    from scipy.linalg import sqrtm

    from collections_lab.survival.influence import clustered_variance

    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 6, 12)
    cl = np.repeat(np.arange(len(sizes)), sizes)
    w = rng.lognormal(0, 1, len(cl))
    y = rng.normal(size=len(cl)) * 3 + 1
    total = w.sum()
    mean = float(np.dot(w, y) / total)
    psi = np.bincount(cl, w * (y - mean)) / total  # per-cluster IF of the weighted mean
    var, df = clustered_variance(psi, np.bincount(cl, w))

    sw = np.sqrt(w)
    x, e = sw[:, None], sw * (y - mean)          # symmetric form: X~ = W^1/2 1, e~ = W^1/2 e
    h = x @ x.T / total
    meat, cols = 0.0, []
    for g in range(len(sizes)):
        m = cl == g
        a = np.real(sqrtm(np.linalg.inv(np.eye(m.sum()) - h[np.ix_(m, m)])))
        meat += float(x[m, 0] @ a @ e[m]) ** 2
        col = np.zeros(len(cl))
        col[m] = a @ x[m, 0]                     # A_g X~_g
        cols.append((np.eye(len(cl)) - h) @ col)  # (I - H)' A_g X~_g
    assert var == pytest.approx(meat / total**2, rel=1e-10)
    gram = np.array(cols) @ np.array(cols).T
    bm = np.trace(gram) ** 2 / np.trace(gram @ gram)
    # the engine reports min(Bell-McCaffrey, the IFs' own Satterthwaite df) ...
    assert df <= bm * (1 + 1e-9)
    # ... and Bell-McCaffrey's alone when the adjusted IFs are all alike (no spread)
    wg = np.bincount(cl, w)
    _, df_bm = clustered_variance(np.sqrt(1 - wg / wg.sum()), wg)
    assert df_bm == pytest.approx(bm, rel=1e-9)
    assert df_bm < len(sizes) - 1  # unequal weights: fewer df than G - 1
