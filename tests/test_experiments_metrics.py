"""Per-arm metrics and arm comparisons on frames with known truth."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from collections_lab.experiments.data import ExperimentData, ExperimentDataError
from collections_lab.experiments.metrics import (
    METRICS,
    MetricConfig,
    arm_variance,
    compare_arms,
    customer_weight,
    estimate_arm,
    hazard_ratio_effect,
    naive_drop_open,
    naive_invoice_level_se,
)
from collections_lab.experiments.synthetic import synthetic_payment_times, synthetic_truth

HR = {"control": 1.0, "treatment": 1.3}


@pytest.fixture(scope="module")
def data():
    frame = synthetic_payment_times(3000, seed=3, arm_hr=HR,
                                    discount_rate={"treatment": 0.02})
    return ExperimentData.from_frame(frame, start="2025-03-01")


def test_every_metric_has_estimate_ci_and_p(data):
    effects = compare_arms(data, MetricConfig(escalation_due_plus_days=60, reminder_cost=0.4))
    assert [e.metric for e in effects] == list(METRICS)
    for e in effects:
        lo, hi = e.ci()
        assert np.isfinite(e.se) and e.se > 0, e.metric
        assert lo < e.effect < hi or e.metric == "hazard_ratio" and lo < e.effect < hi
        assert 0 <= e.p_value <= 1
    by = {e.metric: e for e in effects}
    assert by["paid_by_due_d"].difference > 0          # faster payers
    assert by["rmst_days"].difference < 0               # fewer days outstanding
    assert by["hazard_ratio"].effect > 1
    assert by["discount_cost"].control_estimate == 0.0  # no discount in control


def test_estimates_recover_truth(data):
    truth = synthetic_truth(HR, n_customers=200_000, discount_rate={"treatment": 0.02})
    cfg = MetricConfig(escalation_due_plus_days=60)
    # cash and discount cost are amount-weighted: same limit, amounts being independent
    for metric in ("paid_by_due_d", "rmst_days", "escalation_rate", "cash_by_due_d",
                   "discount_cost"):
        for arm in (0, 1):
            est, psi = estimate_arm(data, metric, arm, cfg)
            se = np.sqrt(np.sum(psi**2))
            if se == 0:  # the control's discount cost: no discount, exactly 0
                assert est == truth.iloc[arm][metric] == 0.0, (metric, arm)
                continue
            assert abs(est - truth.iloc[arm][metric]) < 4 * se, (metric, arm)


def test_open_invoices_are_censored_not_dropped(data):
    assert (data.cause == 0).sum() > 100
    naive, _ = naive_drop_open(data, 1)
    ours = compare_arms(data, metrics=["paid_by_due_d"])[0].difference
    assert naive != pytest.approx(ours)


def test_clustered_se_exceeds_invoice_level_se(data):
    ours = compare_arms(data, metrics=["paid_by_due_d"])[0]
    _, naive_se = naive_invoice_level_se(data, "paid_by_due_d", 1)
    assert ours.se > 1.1 * naive_se  # about 2 invoices per customer here


def test_horizon_beyond_follow_up_is_not_estimable(data):
    est, psi = estimate_arm(data, "paid_by_due_d", 0, MetricConfig(due_plus_days=400))
    assert np.isnan(est) and np.isnan(psi).all()


def test_currencies_are_never_summed():
    frame = synthetic_payment_times(400, seed=1)
    frame.loc[frame.index % 2 == 0, "currency"] = "COP"
    frame.loc[frame.index % 2 == 0, "amount"] *= 4000
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    for cur in ("COP", "EUR"):
        assert data.weight[data.currency == cur].mean() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no cost for currency"):
        compare_arms(data, MetricConfig(reminder_cost={"EUR": 0.4}), metrics=["net_value"])


def test_stratified_variance_is_not_larger():
    frame = synthetic_payment_times(2000, seed=5, arm_hr=HR)
    plain = ExperimentData.from_frame(frame, start="2025-03-01")
    strat = ExperimentData.from_frame(frame, start="2025-03-01", stratified_by="segment")
    a = compare_arms(plain, metrics=["rmst_days"])[0]
    b = compare_arms(strat, metrics=["rmst_days"])[0]
    assert a.difference == b.difference
    assert b.se <= a.se * 1.01


def test_customer_in_two_arms_is_rejected():
    frame = synthetic_payment_times(50, seed=1)
    first = frame["customer_id"].iloc[0]
    rows = frame.index[frame["customer_id"] == first]
    frame.loc[rows[0], "arm"] = "control"
    frame.loc[rows[1:], "arm"] = "treatment"
    with pytest.raises(ExperimentDataError, match="more than one arm"):
        ExperimentData.from_frame(frame)


def test_input_errors_name_the_problem():
    frame = synthetic_payment_times(50, seed=1)
    with pytest.raises(ExperimentDataError, match="lacks column"):
        ExperimentData.from_frame(frame.drop(columns="arm"))
    with pytest.raises(ExperimentDataError, match="control arm 'x'"):
        ExperimentData.from_frame(frame, control="x")
    bad = frame.copy()
    bad.loc[0, "amount"] = 0.0
    with pytest.raises(ExperimentDataError, match="amounts must be > 0"):
        ExperimentData.from_frame(bad)
    data = ExperimentData.from_frame(frame)
    with pytest.raises(ValueError, match="unknown metric"):
        compare_arms(data, metrics=["speed"])
    with pytest.raises(ValueError, match="not in the experiment"):
        compare_arms(data, arms=["zzz"])
    with pytest.raises(ValueError, match="horizon_days"):
        MetricConfig(horizon_days=0)


def test_customers_outside_the_experiment_are_counted():
    frame = synthetic_payment_times(100, seed=2)
    frame.loc[frame.index[:7], "arm"] = None
    data = ExperimentData.from_frame(frame)
    assert data.excluded["invoices_without_arm"] == 7


def test_earlier_look_censors_later_events(data):
    look = data.start_day + 30
    view = data.at(look)
    assert (view.issue_day <= look).all()
    assert (view.issue_day + view.duration <= look).all()
    assert len(view.customer) < len(data.customer)


def test_pre_period_covariates_reflect_behaviour(data):
    pre = data.pre
    assert set(pre.columns) >= {"pre_paid_by_due_d", "pre_days_late"}
    # customers with a higher pre-period share paid on time also pay on time now
    paid = pd.Series((data.cause == 1) & (data.days_late <= 15)).groupby(data.customer).mean()
    corr = np.corrcoef(pre["pre_paid_by_due_d"].to_numpy()[paid.index], paid.to_numpy())[0, 1]
    assert corr > 0.2


def test_su_wei_median_interval_matches_the_large_sample_formula():
    # exponential days to pay (mean 200 days, nothing censored): the median difference has
    # SE sqrt(2 / n) / rate (density at the median = rate / 2); the density-free Su-Wei
    # interval must have that width and contain the truth (0 here)
    from collections_lab.experiments.metrics import _median, su_wei_interval
    from collections_lab.survival.influence import AalenJohansen

    rng = np.random.default_rng(7)
    n, rate = 20_000, 1 / 200
    fits = []
    for _ in range(2):
        days = np.ceil(rng.exponential(1 / rate, n)).astype(int)
        aj = AalenJohansen().fit(np.zeros(n, int), days, np.ones(n, int))
        _, psi = aj.at_day(int(aj.quantile_day(0.5)))
        fits.append((aj, float(np.sum(psi**2))))
        assert abs(_median(aj) - np.log(2) / rate) < 4 / (rate * np.sqrt(n))
    lo, hi = su_wei_interval(fits[0][0], fits[0][1], fits[1][0], fits[1][1])
    expected_half = 1.96 * np.sqrt(2 / n) / rate
    assert (hi - lo) / 2 == pytest.approx(expected_half, rel=0.08)
    assert lo < 0 < hi or abs(lo + hi) / 2 < 3 * expected_half


def test_median_effect_uses_its_own_test_and_interval(data):
    eff = compare_arms(data, metrics=["median_days"])[0]
    assert eff.interval is not None and eff.psi is None
    lo, hi = eff.ci()
    assert lo < eff.difference < hi
    assert eff.difference < 0  # the faster arm pays sooner
    lo99, hi99 = eff.ci(0.99)
    assert lo99 < lo and hi < hi99
    assert 0 <= eff.p_value <= 1 and np.isfinite(eff.z)


def test_churn_counts_new_invoices_after_the_experiment_end():
    # three customers per arm invoiced during the experiment; only invoices after the end
    # (2025-04-30) count as "came back"
    rows = []
    for arm in ("control", "treatment"):
        for k, later in enumerate(["2025-05-10", "2025-07-15", None]):
            cid = f"{arm}{k}"
            rows.append((cid, arm, "2025-03-05"))
            if later:
                rows.append((cid, arm, later))
    frame = pd.DataFrame(rows, columns=["customer_id", "arm", "issue_date"])
    frame["issue_date"] = pd.to_datetime(frame["issue_date"])
    frame["due_date"] = frame["issue_date"] + pd.Timedelta(days=30)
    frame["duration"] = 20
    frame["outcome_code"] = 1
    frame["amount"] = 100.0
    data = ExperimentData.from_frame(frame, start="2025-03-01", as_of="2025-08-31")
    cfg = MetricConfig(churn_days=60, experiment_end="2025-04-30")
    est, psi = estimate_arm(data, "churn", 0, cfg)
    assert est == pytest.approx(2 / 3)  # only the 2025-05-10 customer came back in 60 days
    assert psi.sum() == pytest.approx(0.0)
    # the same data read out before end + 60 days: not available, never a wrong number
    early = ExperimentData.from_frame(frame, start="2025-03-01", as_of="2025-06-15")
    est, psi = estimate_arm(early, "churn", 0, cfg)
    assert np.isnan(est) and np.isnan(psi).all()
    with pytest.raises(ValueError, match="experiment_end"):
        MetricConfig(experiment_end="not a date")


def test_readout_says_when_churn_becomes_available():
    from collections_lab.experiments.readout import analyze_experiment

    frame = synthetic_payment_times(400, seed=8)
    cfg = MetricConfig(churn_days=60, experiment_end=frame.attrs["as_of"] - pd.Timedelta(
        days=10))
    r = analyze_experiment(frame, start="2025-03-01", config=cfg, segments=False,
                           adjust=False, metrics=["paid_by_due_d", "churn"])
    assert np.isnan(r.effect("treatment", "churn")["effect"])
    note = [n for n in r.notes if n.startswith("churn not available")]
    assert note and str((frame.attrs["as_of"] + pd.Timedelta(days=50)).date()) in note[0]
    assert "churn not available" in r._repr_html_()


def test_stratified_variance_counts_assigned_customers_without_invoices_yet():
    """At an early look only some assigned customers have invoices; the stratified
    dealing balanced all of them, so the within-stratum variance runs over every assigned
    customer (an IF of 0 for those without invoices), computed here by explicit padding."""
    from collections_lab import Experiment, Reminder, Strategy, simulate
    from collections_lab.experiments.metrics import arm_variance, hazard_ratio_effect

    arms = {"control": Strategy("a", reminders=(Reminder(3, "friendly", "email"),)),
            "treatment": Strategy("b", reminders=(Reminder(3, "firm", "email"),))}
    exp = Experiment("early-look", arms, control="control")
    sim = simulate(1500, exp, seed=11, start="2025-01-01", end="2025-03-31",
                   assigned_at="2025-02-01", before=arms["control"], progress=False)
    frame = sim.portfolio.payment_times(as_of="2025-03-31")
    units = sim.assignments.merge(sim.customers[["customer_id", "segment"]], on="customer_id")
    kw = dict(control="control", start="2025-02-01", stratified_by="segment")
    with_all = ExperimentData.from_frame(frame, assignments=units, **kw)
    without_table = ExperimentData.from_frame(frame, **kw)
    assert sum(with_all.unseen_assigned.values()) > 0  # some never invoiced at all
    assert without_table.unseen_assigned == {}
    early = with_all.at(with_all.start_day + 20)
    _, psi, se, _ = hazard_ratio_effect(early, 1, 0)
    seen = early.customers_in(0) | early.customers_in(1)
    assert 0.2 < seen.sum() / len(units) < 0.9  # an early look: many not invoiced yet

    by_id = pd.Series(psi, index=early.customer_ids)
    invoices = pd.Series(np.bincount(early.customer, minlength=early.n_customers),
                         index=early.customer_ids)
    variances, cr2 = [], []
    for code, name in enumerate(early.arm_names):
        arm_units = units[units["arm"] == name].copy()
        arm_units["psi"] = arm_units["customer_id"].map(by_id).fillna(0.0)
        arm_units["w"] = arm_units["customer_id"].map(invoices).fillna(0.0)
        invoiced = set(early.customer_ids[early.customers_in(code)])
        live = arm_units.groupby("segment")["customer_id"].transform(
            lambda ids, invoiced=invoiced: ids.isin(invoiced).any())
        arm_units = arm_units[live]
        dev = arm_units["psi"] - arm_units.groupby("segment")["psi"].transform("mean")
        n, strata = len(arm_units), arm_units["segment"].nunique()
        variances.append(float(np.sum(dev**2)) * n / (n - strata))
        assert arm_variance(psi, early, code) == pytest.approx(variances[-1], rel=1e-9)
        # CR2: each customer's squared deviation over 1 - its share of the stratum's invoices
        h = arm_units["w"] / arm_units.groupby("segment")["w"].transform("sum")
        cr2.append(float(np.sum(dev**2 / (1 - h))))
    # the hazard ratio's SE is the CR2 one, a little above HC1 here
    assert se == pytest.approx(np.sqrt(sum(cr2)), rel=1e-9)
    assert 1 < se / np.sqrt(sum(variances)) < 1.01
    # at the final readout (almost everyone invoiced) the assignments table barely matters
    _, _, se_end, _ = hazard_ratio_effect(with_all, 1, 0)
    _, _, se_end_without, _ = hazard_ratio_effect(without_table, 1, 0)
    assert se_end == pytest.approx(se_end_without, rel=0.02)


def test_assignments_without_the_stratum_column_are_refused():
    frame = synthetic_payment_times(200, seed=2, arm_hr=HR)
    units = frame[["customer_id", "arm"]].drop_duplicates()
    with pytest.raises(ExperimentDataError, match=r"lack column\(s\) \['segment'\]"):
        ExperimentData.from_frame(frame, start="2025-03-01", stratified_by="segment",
                                  assignments=units)


# -- discount cost: truth and its skew-aware interval -------------------------------------


def test_synthetic_discount_truth_matches_closed_form():
    from collections_lab.experiments.synthetic import paid_within_closed_form

    # T = ceil(40 (E / (u hr))^(1/2)) <= 10  <=>  E <= u hr / 16, and E[exp(-s u)] for
    # u ~ Gamma(k, 1/k) is (1 + s/k)^-k: P(paid within 10 days) = 1 - (1 + hr/(16 k))^-k
    truth = synthetic_truth(HR, n_customers=200_000, discount_rate={"treatment": 0.02})
    k = 1.5
    closed = 0.02 * (1 - (1 + 1.3 / (16 * k)) ** (-k))
    assert 0.02 * paid_within_closed_form(10, hr=1.3) == pytest.approx(closed)
    assert truth.loc["control", "discount_cost"] == 0.0
    # Monte-Carlo SE of the share paid within 10 days over ~800,000 invoices: < 0.0005
    assert truth.loc["treatment", "discount_cost"] == pytest.approx(closed, abs=0.02 * 0.0015)


def test_satterthwaite_df_is_the_cluster_count_for_normal_ifs_and_small_for_heavy_ones():
    from collections_lab.experiments.metrics import satterthwaite_df

    rng = np.random.default_rng(0)
    assert satterthwaite_df(rng.normal(size=4000)) == pytest.approx(4000, rel=0.1)
    # a few large amounts carry the variance: far fewer effective degrees of freedom
    heavy = rng.lognormal(0, 1.5, 4000) * (rng.random(4000) < 0.08)
    assert satterthwaite_df(heavy - heavy.mean()) < 100
    assert satterthwaite_df(np.zeros(10)) == float("inf")


def test_mover_with_symmetric_arm_intervals_is_the_wald_interval():
    from collections_lab.experiments.metrics import mover_interval

    lo, hi = mover_interval(0.30, (0.30 - 1.96 * 0.03, 0.30 + 1.96 * 0.03),
                            0.20, (0.20 - 1.96 * 0.04, 0.20 + 1.96 * 0.04))
    assert (lo, hi) == pytest.approx((0.10 - 1.96 * 0.05, 0.10 + 1.96 * 0.05))


def test_discount_cost_interval_is_log_t_and_its_p_value_inverts_it(data):
    from scipy import stats

    from collections_lab.experiments.metrics import (
        arm_variance_df,
        customer_weight,
        discount_cost_effect,
    )

    cfg = MetricConfig()
    eff = discount_cost_effect(data, 1, 0, cfg)
    est, psi = estimate_arm(data, "discount_cost", 1, cfg)
    var, df = arm_variance_df(psi, data, 1, customer_weight(data, "discount_cost", 1),
                              empirical_df=True)
    se, q = np.sqrt(var), stats.t.ppf(0.975, df)
    # control gives no discount: the upper limit is the arm's own; the lower one also
    # allows the control a rare-event rate it may have had without showing it (q² se²/est,
    # scaled by the arms' amounts)
    amounts = [data.weight[data.invoice_arm == a].sum() for a in (1, 0)]
    upper_c = q * q * se**2 / est * amounts[0] / amounts[1]
    low_a = est * np.exp(-q * se / est)
    assert eff.ci() == pytest.approx((est - np.hypot(est - low_a, upper_c),
                                      est * np.exp(q * se / est)))
    assert 0 < eff.ci()[0] < low_a
    # a control known to offer no discount (its strategy says so): its zero is exact
    exact = discount_cost_effect(data, 1, 0, MetricConfig(no_discount_arms=("control",)))
    assert exact.ci() == pytest.approx((low_a, est * np.exp(q * se / est)))
    assert eff.se == pytest.approx(se)  # the clustered SE, for design effects and power
    lo, hi = eff.ci()
    assert hi - eff.difference > eff.difference - lo  # skewed upwards, unlike Wald
    # both arms with a discount: the interval at level 1 - p touches zero
    frame = synthetic_payment_times(600, seed=5, discount_rate={"control": 0.02,
                                                                 "treatment": 0.02})
    aa = discount_cost_effect(ExperimentData.from_frame(frame, start="2025-03-01"), 1, 0, cfg)
    lo_p, hi_p = aa.ci(1 - aa.p_value)
    assert min(abs(lo_p), abs(hi_p)) == pytest.approx(0, abs=1e-9)
    assert (aa.ci()[0] < 0 < aa.ci()[1]) == (aa.p_value > 0.05)


def test_paid_by_due_d_with_mixed_terms_recovers_the_true_share_and_effect():
    """Issue 15 item 1: 15- and 60-day terms, payment days counted from issue (so behaviour
    relative to due depends on the terms). Pooling the terms on the due axis gave 0.77
    where 0.61 of invoices were paid by due + 15; per-terms estimation is unbiased."""
    from collections_lab.experiments.synthetic import START
    from collections_lab.survival.influence import AalenJohansen

    arm_hr = {"control": 1.0, "treatment": 1.5}
    truth = synthetic_truth(arm_hr, terms=(15, 60))["paid_by_due_d"]
    cfg = MetricConfig(escalation_due_plus_days=60)
    # nothing censored: the estimate is exactly the share paid by each invoice's due + 15
    full = ExperimentData.from_frame(
        synthetic_payment_times(3000, seed=11, arm_hr=arm_hr, terms=(15, 60), follow_days=400),
        start=START)
    eff = compare_arms(full, cfg, metrics=["paid_by_due_d"])[0]
    for arm, est in ((0, eff.control_estimate), (1, eff.estimate)):
        m = full.invoice_arm == arm
        share = float(np.mean((full.cause[m] == 1) & (full.days_late[m] <= 15)))
        assert est == pytest.approx(share, abs=1e-12)
        pooled = AalenJohansen().fit(-full.terms[m], full.days_late[m], full.cause[m]).cif_at(15)
        assert pooled - share > 0.1  # the bias the pooled due axis had
    # with censoring at the readout: within Monte Carlo error of the truth, arm and effect
    data = ExperimentData.from_frame(
        synthetic_payment_times(8000, seed=12, arm_hr=arm_hr, terms=(15, 60)), start=START)
    eff = compare_arms(data, cfg, metrics=["paid_by_due_d"])[0]
    truth_se = 0.0015  # the truth's own Monte Carlo error (200,000 customers per arm)
    for arm, est in ((0, eff.control_estimate), (1, eff.estimate)):
        se = np.sqrt(arm_variance(estimate_arm(data, "paid_by_due_d", arm, cfg)[1], data, arm))
        assert abs(est - truth.iloc[arm]) < 4 * np.hypot(se, truth_se), (arm, est, truth.iloc[arm], se)
    true_effect = truth["treatment"] - truth["control"]
    assert abs(eff.difference - true_effect) < 4 * np.hypot(eff.se, truth_se)
    assert 0.07 < true_effect < 0.10


def test_paid_by_due_d_recovers_the_behaviour_simulators_truth_with_term_dependent_payers():
    """BehaviourModel(receipt_level=0.05): some customers pay on receipt, so on the due
    axis 60-day invoices behave differently from 15-day ones. The pooled due axis misses
    the simulator's truth by about +0.03; the per-terms estimate is within its SE."""
    from collections_lab.experiments.conformance import COVERAGE_ARMS
    from collections_lab.experiments.data import assigned_units
    from collections_lab.model.behaviour import BehaviourModel
    from collections_lab.model.plans import Experiment
    from collections_lab.model.simulation import simulate
    from collections_lab.survival.influence import AalenJohansen

    exp = Experiment("mixed-terms", dict(COVERAGE_ARMS), control="control", salt="mixed-terms")
    sim = simulate(3000, exp, model=BehaviourModel(receipt_level=0.05), seed=5, start="2025-01-01",
                   end="2025-11-30", assigned_at="2025-05-01", before=COVERAGE_ARMS["control"],
                   progress=False)
    data = ExperimentData.from_frame(
        sim.portfolio.payment_times(as_of="2025-11-30"), control="control", start="2025-05-01",
        stratified_by=exp.stratify_by, assignments=assigned_units(sim.assignments, sim.customers,
                                                                  {exp.stratify_by}))
    assert len(np.unique(data.terms)) >= 3
    truth = sim.truth.arm_effects.set_index("arm")["p_paid_by_due_15"]
    cfg = MetricConfig()
    eff = compare_arms(data, cfg, metrics=["paid_by_due_d"])[0]
    for arm, est in ((0, eff.control_estimate), (1, eff.estimate)):
        se = np.sqrt(arm_variance(estimate_arm(data, "paid_by_due_d", arm, cfg)[1], data, arm))
        assert abs(est - truth.iloc[arm]) < 4 * se, (arm, est, truth.iloc[arm], se)
        m = data.invoice_arm == arm
        pooled = AalenJohansen().fit(-data.terms[m], data.days_late[m], data.cause[m]).cif_at(15)
        assert pooled - truth.iloc[arm] > 4 * se  # what the pooled due axis reported
    assert abs(eff.difference - (truth.iloc[1] - truth.iloc[0])) < 4 * eff.se


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_readout_hazard_ratio_is_fit_cox_on_the_same_data_and_tie_rule(ties):
    """One Cox engine: the experiment's hazard ratio is survival.fit_cox's (coefficient and
    model-based SE); the clustered SEs differ only by the per-arm G/(G - 1) factor."""
    from collections_lab.survival import fit_cox

    frame = synthetic_payment_times(1500, seed=8, arm_hr={"control": 1.0, "treatment": 1.25})
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    rows = pd.DataFrame({"duration": data.duration, "event": data.cause == 1,
                         "arm": np.asarray(data.arm_names)[data.invoice_arm],
                         "customer_id": data.customer})
    robust = fit_cox(rows, ["arm"], reference={"arm": "control"}, ties=ties).table.iloc[0]
    model = fit_cox(rows, ["arm"], reference={"arm": "control"}, ties=ties, cluster_col=None).table.iloc[0]
    log_hr, _, se, _ = hazard_ratio_effect(data, 1, 0, ties=ties)
    _, _, se_model, _ = hazard_ratio_effect(data, 1, 0, clustered=False, ties=ties)
    assert log_hr == pytest.approx(robust["coef"], abs=1e-10)
    assert se_model == pytest.approx(model["se"], rel=1e-8)
    assert se == pytest.approx(robust["se"], rel=3e-3)
    if ties == "efron":  # the readout's default is fit_cox's default
        eff = compare_arms(data, metrics=["hazard_ratio"])[0]
        assert eff.estimate == pytest.approx(robust["hazard_ratio"], rel=1e-10)


def test_hazard_ratio_with_no_events_in_one_arm_is_not_estimable():
    frame = synthetic_payment_times(300, seed=4)
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    data.cause = np.where(data.invoice_arm == 1, 0, data.cause)
    with pytest.raises(ValueError, match="no events in one group"):
        hazard_ratio_effect(data, 1, 0)


def test_relative_effects_with_their_own_intervals():
    frame = synthetic_payment_times(2000, seed=9, arm_hr={"control": 1.0, "treatment": 1.3})
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    cfg = MetricConfig()
    effects = {e.metric: e for e in compare_arms(data, cfg, metrics=["paid_by_due_d", "hazard_ratio"])}
    paid = effects["paid_by_due_d"]
    assert paid.relative == pytest.approx(paid.estimate / paid.control_estimate - 1)
    est_a, psi_a = estimate_arm(data, "paid_by_due_d", 1, cfg)
    est_c, psi_c = estimate_arm(data, "paid_by_due_d", 0, cfg)
    var_a, var_c = (arm_variance(psi, data, a, customer_weight(data, "paid_by_due_d", a))
                    for psi, a in ((psi_a, 1), (psi_c, 0)))
    se_log = np.sqrt(var_a / est_a**2 + var_c / est_c**2)
    lo, hi = paid.relative_ci()
    q = stats.t.ppf(0.975, paid.df)
    assert (lo, hi) == pytest.approx((np.expm1(np.log(est_a / est_c) - q * se_log),
                                      np.expm1(np.log(est_a / est_c) + q * se_log)))
    assert lo < paid.relative < hi and lo > 0  # a 1.3 hazard ratio: clearly more paid
    hr = effects["hazard_ratio"]
    assert hr.relative == pytest.approx(hr.estimate - 1)
    assert hr.relative_ci() == pytest.approx(tuple(x - 1 for x in hr.ci()))


def test_relative_effect_is_nan_when_the_control_has_nothing():
    frame = synthetic_payment_times(400, seed=5, discount_rate={"treatment": 0.02})
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    eff = compare_arms(data, metrics=["discount_cost"])[0]
    assert eff.control_estimate == 0 and np.isnan(eff.relative)
    assert np.isnan(eff.relative_ci()[0])
    # the generic path too: no escalation at all in the control arm
    data.cause = np.where((data.cause == 2) & (data.invoice_arm == 0), 0, data.cause)
    esc = compare_arms(data, MetricConfig(escalation_due_plus_days=60), metrics=["escalation_rate"])[0]
    assert esc.control_estimate == 0 and np.isnan(esc.relative) and np.isnan(esc.log_ratio_se)


def test_one_sided_p_values_follow_the_metrics_good_direction():
    frame = synthetic_payment_times(1500, seed=9, arm_hr={"control": 1.0, "treatment": 1.3})
    data = ExperimentData.from_frame(frame, start="2025-03-01")
    effects = {e.metric: e for e in compare_arms(data, metrics=["paid_by_due_d", "rmst_days"])}
    paid, days = effects["paid_by_due_d"], effects["rmst_days"]
    assert paid.difference > 0 and days.difference < 0  # faster: more paid, fewer days
    for eff in (paid, days):  # both improvements: one-sided p is half the two-sided one
        assert eff.p_value_one_sided() == pytest.approx(eff.p_value / 2, rel=1e-9)
        assert eff.p_value_one_sided(improvement=False) == pytest.approx(1 - eff.p_value / 2, rel=1e-9)


def test_wild_bootstrap_replaces_the_t_reference_below_100_customers_per_arm():
    import warnings

    from collections_lab.experiments.metrics import MIN_CUSTOMERS_FOR_T, SmallSampleWarning
    from collections_lab.experiments.synthetic import synthetic_payment_times

    cfg = MetricConfig(escalation_due_plus_days=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        small = ExperimentData.from_frame(synthetic_payment_times(80, seed=11),
                                          start="2025-03-01")
        big = ExperimentData.from_frame(synthetic_payment_times(3 * MIN_CUSTOMERS_FOR_T,
                                                                seed=11), start="2025-03-01")
        eff = compare_arms(small, cfg, metrics=["cash_by_due_d"])[0]
        assert compare_arms(big, cfg, metrics=["cash_by_due_d"])[0].bootstrap is None
    boot = eff.bootstrap
    assert boot is not None and boot.t_restricted.shape == (999,)
    # the p-value is the share of null draws at least as extreme; the interval is the
    # unrestricted draws' quantile times the bootstrap SE, so it excludes 0 exactly when
    # the observed t is beyond that quantile
    assert eff.p_value == pytest.approx(np.mean(np.abs(boot.t_restricted) >= abs(boot.t_observed)))
    lo, hi = eff.ci()
    q = np.quantile(np.abs(boot.t_unrestricted), 0.95)
    assert (lo, hi) == pytest.approx((eff.difference - q * boot.se, eff.difference + q * boot.se))
    assert boot.se == pytest.approx(eff.se, rel=0.1)  # CR2 without strata: same order
    # one-sided p-values of the two directions add up to about 1
    assert eff.p_value_one_sided(True) + eff.p_value_one_sided(False) == pytest.approx(1, abs=0.01)
    # deterministic: the same data give the same p-value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        again = compare_arms(small, cfg, metrics=["cash_by_due_d"])[0]
    assert again.p_value == eff.p_value


def test_wild_bootstrap_matches_the_t_test_for_normal_data():
    from collections_lab.survival.influence import wild_bootstrap_t

    rng = np.random.default_rng(5)
    p_boot, p_t = [], []
    for _ in range(200):
        x = rng.normal(size=120)
        arm = np.repeat([1, 0], 60)
        means = {a: x[arm == a].mean() for a in (0, 1)}
        psi = (x - np.where(arm == 1, means[1], means[0])) / 60
        diff = means[1] - means[0]
        pooled = x.mean()
        shift = np.where(arm == 1, means[1] - pooled, means[0] - pooled) / 60
        t, star, _ = wild_bootstrap_t(psi, np.where(arm == 1, 1.0, -1.0), arm, np.ones(120),
                                      diff, shift=shift)
        p_boot.append(np.mean(np.abs(star) >= abs(t)))
        p_t.append(stats.ttest_ind(x[arm == 1], x[arm == 0]).pvalue)
    # Welch/Student t and the wild bootstrap agree on normal data (Monte Carlo p with 999
    # draws: SE about 0.007 at p = 0.05)
    assert np.max(np.abs(np.array(p_boot) - np.array(p_t))) < 0.05
    assert np.corrcoef(p_boot, p_t)[0, 1] > 0.99
