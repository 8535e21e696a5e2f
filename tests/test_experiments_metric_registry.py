"""One Metric object per experiment metric, and one power / MDE / sample-size solver.

The registry is the only place a metric's direction and scale are written: the readout
and the design functions read them from it. Every design function is a thin wrapper over
``solve_design`` (statsmodels' NormalIndPower), so sample size, power and MDE invert each
other exactly, for any allocation.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power

from collections_lab.experiments import design, metrics
from collections_lab.experiments.data import ExperimentData
from collections_lab.experiments.design import (
    mde_from_pilot,
    mde_hazard_ratio,
    mde_proportion,
    mde_rmst,
    power_at_se,
    power_hazard_ratio,
    power_proportion,
    power_rmst,
    rmst_variance_per_invoice,
    sample_size_from_pilot,
    sample_size_hazard_ratio,
    sample_size_proportion,
    sample_size_rmst,
    schoenfeld_events,
    solve_design,
    solve_metric,
)
from collections_lab.experiments.metric_registry import METRIC_REGISTRY, Metric, get_metric
from collections_lab.experiments.metrics import METRICS, MetricConfig, compare_arms
from collections_lab.experiments.synthetic import synthetic_payment_times

CFG = MetricConfig(escalation_due_plus_days=60)
SURVIVAL = np.exp(-np.arange(90) / 30.0)
SURVIVAL_T = np.exp(-np.arange(90) / 25.0)


@pytest.fixture(scope="module")
def pilot():
    frame = synthetic_payment_times(1200, seed=21, arm_hr={"control": 1.0, "treatment": 1.2})
    return ExperimentData.from_frame(frame, start="2025-03-01")


# -- the registry ---------------------------------------------------------------------------


def test_registry_covers_every_metric_code_in_order():
    assert tuple(METRIC_REGISTRY) == METRICS
    for code, m in METRIC_REGISTRY.items():
        assert isinstance(m, Metric) and m.code == code
        assert m.estimator is getattr(metrics, m.estimator_name)  # the function, not a copy
    # the separate direction / scale / weighting tables are gone: the objects hold them
    for old in ("HIGHER_IS_BETTER", "RATIO_METRICS", "AMOUNT_METRICS"):
        assert not hasattr(metrics, old), old
    assert [c for c, m in METRIC_REGISTRY.items() if m.is_ratio] == ["hazard_ratio"]
    assert {c for c, m in METRIC_REGISTRY.items() if m.higher_is_better} == {
        "paid_by_due_d", "hazard_ratio", "cash_by_due_d", "net_value"}
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("speed")
    with pytest.raises(ValueError, match="direction"):
        Metric("x", "up", "difference", "share", "invoice", "invoice", "pilot")


def test_metric_delegates_to_the_readout_estimators(pilot):
    for code in ("paid_by_due_d", "cash_by_due_d", "churn", "net_value"):
        m = METRIC_REGISTRY[code]
        est, psi = metrics.estimate_arm(pilot, code, 1, CFG)
        got, got_psi = m.estimate(pilot, 1, CFG)
        assert got == est and np.array_equal(got_psi, psi)
        assert np.array_equal(m.influence(pilot, 1, CFG), psi)
        assert np.array_equal(m.customer_weight(pilot, 1, CFG),
                              metrics.customer_weight(pilot, code, 1, CFG))
    hr = METRIC_REGISTRY["hazard_ratio"]
    assert np.array_equal(hr.influence(pilot, 1), metrics.hazard_ratio_effect(pilot, 1, 0)[1])
    with pytest.raises(ValueError, match="per-arm"):
        METRIC_REGISTRY["median_days"].estimate(pilot, 0)
    # amount weighting: the customer's invoiced amounts, not their invoice counts
    w_cash = METRIC_REGISTRY["cash_by_due_d"].customer_weight(pilot, 0)
    w_paid = METRIC_REGISTRY["paid_by_due_d"].customer_weight(pilot, 0)
    assert not np.allclose(w_cash, w_paid)


def test_readout_reads_direction_and_scale_from_the_registry(pilot, monkeypatch):
    from collections_lab.experiments.readout import effects_frame

    eff = compare_arms(pilot, CFG, metrics=["paid_by_due_d", "hazard_ratio"])
    paid, hr = eff
    assert paid.spec is METRIC_REGISTRY["paid_by_due_d"]
    assert hr.effect == pytest.approx(math.exp(hr.difference))
    better = paid.p_value_one_sided(True)
    # flip the registry's direction: the one-sided test and the readout table follow
    monkeypatch.setitem(METRIC_REGISTRY, "paid_by_due_d",
                        replace(METRIC_REGISTRY["paid_by_due_d"], direction="lower"))
    assert paid.p_value_one_sided(True) == pytest.approx(1 - better)
    assert effects_frame(eff)["higher_is_better"].tolist() == [False, True]
    # a difference-scale hazard ratio would no longer be exponentiated
    monkeypatch.setitem(METRIC_REGISTRY, "hazard_ratio",
                        replace(METRIC_REGISTRY["hazard_ratio"], scale="difference"))
    assert hr.effect == hr.difference


def test_variance_per_unit_closed_forms_and_pilot(pilot):
    paid = METRIC_REGISTRY["paid_by_due_d"]
    v = paid.variance_per_unit(p_control=0.6, effect=0.1, allocation=0.3, design_effect=2,
                               resolved_share=0.8)
    # sigma^2 (1/n_c + 1/n_t) = v_c/n_c + v_t/n_t with n_c = 0.7 N, n_t = 0.3 N
    n_tot = 1000
    assert v * (1 / (0.7 * n_tot) + 1 / (0.3 * n_tot)) == pytest.approx(
        2 / 0.8 * (0.24 / (0.7 * n_tot) + 0.21 / (0.3 * n_tot)), rel=1e-12)
    rmst = METRIC_REGISTRY["rmst_days"]
    v_c, v_t = (rmst_variance_per_invoice(s, 90) for s in (SURVIVAL, SURVIVAL_T))
    assert rmst.variance_per_unit(survival=SURVIVAL, horizon_days=90,
                                  survival_treatment=SURVIVAL_T, allocation=0.3) == \
        pytest.approx(0.3 * v_c + 0.7 * v_t, rel=1e-12)
    assert METRIC_REGISTRY["hazard_ratio"].variance_per_unit(design_effect=1.7) == 1.7
    _, psi = metrics.estimate_arm(pilot, "cash_by_due_d", 0, CFG)
    n_inv = int(np.sum(pilot.invoice_arm == 0))
    assert METRIC_REGISTRY["cash_by_due_d"].variance_per_unit(pilot=pilot, cfg=CFG) == \
        pytest.approx(np.sum(psi**2) * n_inv, rel=1e-12)
    assert design.pilot_variance_per_invoice(pilot, "cash_by_due_d", CFG) == pytest.approx(
        np.sum(psi**2) * n_inv, rel=1e-12)
    with pytest.raises(ValueError, match="pilot"):
        METRIC_REGISTRY["cash_by_due_d"].variance_per_unit()
    with pytest.raises(ValueError, match="simulation"):
        METRIC_REGISTRY["median_days"].variance_per_unit()
    with pytest.raises(ValueError, match="schoenfeld"):
        METRIC_REGISTRY["hazard_ratio"].variance_per_unit(pilot=pilot)


# -- the solver -----------------------------------------------------------------------------


@pytest.mark.parametrize("effect, sd, alpha, power, ratio, alternative", [
    (0.05, 0.49, 0.05, 0.8, 1.0, "two-sided"),
    (0.3, 2.0, 0.01, 0.9, 0.3 / 0.7, "two-sided"),
    (1.5, 12.0, 0.05, 0.8, 2.5, "larger"),
    (-0.2, 1.0, 0.10, 0.7, 1.0, "smaller"),
    (0.1, 1.0, 0.05, 0.8, 0.0, "two-sided"),  # one sample
])
def test_solver_equals_statsmodels(effect, sd, alpha, power, ratio, alternative):
    ref = NormalIndPower().solve_power(effect / sd, alpha=alpha, power=power, ratio=ratio,
                                       alternative=alternative)
    n = solve_design(effect, sd, None, alpha, power, ratio, alternative)
    # statsmodels' root finders stop ~1e-6 from the root; the solver polishes theirs
    assert n == pytest.approx(ref, rel=1e-5)
    assert n == pytest.approx(zt_ind_solve_power(effect / sd, None, alpha, power, ratio,
                                                 alternative), rel=1e-5)
    assert NormalIndPower().power(effect / sd, n, alpha, ratio, alternative) == \
        pytest.approx(power, abs=1e-12)
    assert solve_design(effect, sd, n, alpha, None, ratio, alternative) == pytest.approx(
        NormalIndPower().power(effect / sd, n, alpha, ratio, alternative), rel=1e-12)
    size = NormalIndPower().solve_power(None, n, alpha, power, ratio, alternative)
    assert solve_design(None, sd, n, alpha, power, ratio, alternative) == pytest.approx(
        size * sd, rel=1e-5)
    assert solve_design(None, sd, n, alpha, power, ratio, alternative) == pytest.approx(
        effect, rel=1e-10)


def test_solver_equals_the_closed_forms():
    z_one = stats.norm.isf(0.05) + stats.norm.ppf(0.8)
    z_two = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    # one-sided: exactly (z_{1-a} + z_b)^2 sd^2 (1 + 1/r) / effect^2
    assert solve_design(0.1, 1.0, None, 0.05, 0.8, 0.5, "larger") == pytest.approx(
        z_one**2 * 3 / 0.01, rel=1e-10)
    assert solve_design(None, 1.0, 300, 0.05, 0.8, 0.5, "larger") == pytest.approx(
        z_one * math.sqrt(3 / 300), rel=1e-10)
    # two-sided: the far tail makes it a hair smaller than the textbook formula
    n = solve_design(0.1, 1.0, None, 0.05, 0.8)
    assert n == pytest.approx(z_two**2 * 2 / 0.01, rel=1e-5) and n < z_two**2 * 2 / 0.01
    assert power_at_se(0.05, 0.02) == pytest.approx(
        stats.norm.sf(stats.norm.isf(0.025) - 2.5) + stats.norm.cdf(-stats.norm.isf(0.025)
                                                                    - 2.5), rel=1e-12)
    # Schoenfeld: (1.96 + 0.8416)^2 / (p (1 - p) log(HR)^2) events
    assert schoenfeld_events(0.8) == 631
    assert schoenfeld_events(0.8, allocation=0.3) == math.ceil(
        z_two**2 / (0.21 * math.log(0.8) ** 2))
    events = z_two**2 / (0.25 * math.log(0.8) ** 2)
    assert 2 * solve_metric("hazard_ratio", effect=math.log(0.8), power=0.8) == \
        pytest.approx(events, rel=1e-5)
    assert 0.8 < power_hazard_ratio(0.8, 631) < 0.801
    # huge effects (a fraction of a unit) and tiny ones: no root-finder bounds
    assert solve_design(30.0, 1.0, None, 0.05, 0.8) == pytest.approx(
        solve_design(0.01, 1.0, None, 0.05, 0.8) * (0.01 / 30) ** 2, rel=1e-10)


def test_solver_rejects_what_it_cannot_solve():
    with pytest.raises(ValueError, match="exactly two"):
        solve_design(0.1, 1.0, None, 0.05, None)
    with pytest.raises(ValueError, match="cannot be detected"):
        solve_design(-0.1, 1.0, None, 0.05, 0.8, alternative="larger")
    with pytest.raises(ValueError, match="alternative"):
        solve_design(0.1, 1.0, None, 0.05, 0.8, alternative="bigger")
    with pytest.raises(ValueError, match="power"):
        solve_design(0.1, 1.0, None, 0.05, 0.04)
    with pytest.raises(ValueError, match="allocation"):
        power_proportion(0.6, 0.05, 1000, allocation=1.0)


# -- round trips: sample size -> power -> MDE, every family, 50/50 and 30/70 -------------


FAMILIES = {
    "paid_by_due_d": (0.04, {"p_control": 0.6, "design_effect": 1.5, "resolved_share": 0.9}),
    "escalation_rate": (-0.02, {"p_control": 0.1}),
    "rmst_days": (-1.5, {"survival": SURVIVAL, "horizon_days": 90, "design_effect": 1.8}),
    "hazard_ratio": (math.log(1.2), {"design_effect": 1.4}),
}


@pytest.mark.parametrize("allocation", [0.5, 0.3])
@pytest.mark.parametrize("metric", sorted(FAMILIES))
def test_round_trip_for_each_closed_form_family(metric, allocation):
    effect, inputs = FAMILIES[metric]
    # a decrease is asked as the one-sided question it is (the MDE comes back negative)
    side = {"allocation": allocation, "alternative": "smaller" if effect < 0 else "two-sided",
            **inputs}
    n = solve_metric(metric, effect=effect, power=0.8, **side)
    assert solve_metric(metric, effect=effect, units_per_arm=n, **side) == pytest.approx(
        0.8, abs=1e-6)
    assert solve_metric(metric, units_per_arm=n, power=0.8, **side) == pytest.approx(
        effect, abs=1e-6 * max(1, abs(effect)))


def test_power_from_pilot_rescales_the_pilot_se(pilot):
    eff = compare_arms(pilot, CFG, metrics=["paid_by_due_d"])[0]
    per_arm = eff.n_customers / 2
    even = design.power_from_pilot(pilot, "paid_by_due_d", 0.03, 2000, cfg=CFG)
    assert even == pytest.approx(power_at_se(0.03, eff.se * math.sqrt(per_arm / 2000)),
                                 rel=1e-10)
    uneven = design.power_from_pilot(pilot, "paid_by_due_d", 0.03, 2000, cfg=CFG,
                                     allocation=0.3)
    # the same total, split 70/30: Var x (1/1.4 + 1/0.6) / 2
    assert uneven == pytest.approx(power_at_se(0.03, eff.se * math.sqrt(
        per_arm / 2000 * (1 / 1.4 + 1 / 0.6) / 2)), rel=1e-10)
    assert uneven < even


def test_round_trip_from_a_pilot(pilot):
    for allocation in (0.5, 0.3):
        n = solve_metric("cash_by_due_d", effect=0.03, power=0.8, allocation=allocation,
                         pilot=pilot, cfg=CFG)
        assert mde_from_pilot(pilot, "cash_by_due_d", n, cfg=CFG, allocation=allocation) == \
            pytest.approx(0.03, rel=1e-6)
        plan = sample_size_from_pilot(pilot, "cash_by_due_d", 0.03, cfg=CFG,
                                      allocation=allocation)
        assert plan.invoices_per_arm == math.ceil(n)


@pytest.mark.parametrize("allocation", [0.5, 0.3])
def test_public_wrappers_invert_each_other(allocation):
    a = allocation
    n = solve_metric("paid_by_due_d", effect=0.05, power=0.8, allocation=a, p_control=0.6,
                     design_effect=1.3)
    plan = sample_size_proportion(0.6, 0.05, design_effect=1.3, allocation=a)
    assert plan.invoices_per_arm == math.ceil(n) and plan.allocation == a
    assert power_proportion(0.6, 0.05, n, design_effect=1.3, allocation=a) == \
        pytest.approx(0.8, abs=1e-6)
    assert mde_proportion(0.6, n, design_effect=1.3, allocation=a) == pytest.approx(
        0.05, rel=1e-6)
    # the variance is each arm's own: v_c / n_c + v_t / n_t
    n_c, n_t = 2 * (1 - a) * n, 2 * a * n
    se = math.sqrt(1.3 * (0.24 / n_c + 0.65 * 0.35 / n_t))
    assert power_proportion(0.6, 0.05, n, design_effect=1.3, allocation=a) == pytest.approx(
        power_at_se(0.05, se), rel=1e-10)

    days = mde_rmst(SURVIVAL, 1500, 90, design_effect=1.8, allocation=a)
    assert power_rmst(SURVIVAL, days, 1500, 90, design_effect=1.8, allocation=a) == \
        pytest.approx(0.8, abs=1e-6)
    assert sample_size_rmst(SURVIVAL, days, 90, design_effect=1.8, allocation=a
                            ).invoices_per_arm == 1500
    v_c, v_t = (rmst_variance_per_invoice(s, 90) for s in (SURVIVAL, SURVIVAL_T))
    assert power_rmst(SURVIVAL, 1.0, 1500, 90, survival_treatment=SURVIVAL_T,
                      allocation=a) == pytest.approx(
        power_at_se(1.0, math.sqrt(v_c / (3000 * (1 - a)) + v_t / (3000 * a))), rel=1e-10)

    hr = mde_hazard_ratio(800, design_effect=1.5, allocation=a)
    assert power_hazard_ratio(hr, 800, design_effect=1.5, allocation=a) == pytest.approx(
        0.8, abs=1e-6)
    assert power_hazard_ratio(hr, 800, design_effect=1.5, allocation=a) == pytest.approx(
        power_at_se(math.log(hr), math.sqrt(1.5 / (a * (1 - a) * 800))), rel=1e-10)
    assert schoenfeld_events(hr, allocation=a, design_effect=1.5) == 800
    plan = sample_size_hazard_ratio(hr, 0.8, design_effect=1.5, allocation=a)
    assert plan.events == 800 and plan.invoices_per_arm == 500


def test_unequal_allocation_needs_more_invoices_and_splits_them():
    even = sample_size_proportion(0.6, 0.05)
    uneven = sample_size_proportion(0.6, 0.05, allocation=0.3)
    assert uneven.invoices_per_arm > even.invoices_per_arm
    control, treatment = uneven.invoices_by_arm
    assert treatment / (control + treatment) == pytest.approx(0.3, abs=1e-3)
    assert even.invoices_by_arm == (even.invoices_per_arm, even.invoices_per_arm)
