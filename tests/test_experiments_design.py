"""Design functions: sample size, MDE, events, design effect, simulation power."""

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from collections_lab.experiments.data import ExperimentData
from collections_lab.experiments.design import (
    design_effect,
    duration_weeks,
    estimate_design_effect,
    mde_proportion,
    power_at_se,
    power_by_simulation,
    power_from_pilot,
    power_proportion,
    rmst_variance_per_invoice,
    sample_size_from_pilot,
    sample_size_hazard_ratio,
    sample_size_proportion,
    sample_size_rmst,
    schoenfeld_events,
)
from collections_lab.experiments.synthetic import synthetic_payment_times
from collections_lab.survival.influence import AalenJohansen


def test_proportion_sample_size_agrees_with_statsmodels():
    plan = sample_size_proportion(0.60, 0.05)
    ref = NormalIndPower().solve_power(proportion_effectsize(0.65, 0.60), alpha=0.05,
                                       power=0.8)
    assert plan.invoices_per_arm == pytest.approx(ref, rel=0.02)
    clustered = sample_size_proportion(0.60, 0.05, design_effect=2.0, invoices_per_customer=4)
    assert clustered.invoices_per_arm == pytest.approx(2 * plan.invoices_per_arm, abs=2)
    assert clustered.customers_per_arm == int(np.ceil(clustered.invoices_per_arm / 4))


def test_power_and_mde_invert_the_sample_size():
    plan = sample_size_proportion(0.6, 0.04, design_effect=1.5)
    # one variance (unpooled) in all three: the round trip is exact up to rounding n up
    assert power_proportion(0.6, 0.04, plan.invoices_per_arm, design_effect=1.5) == \
        pytest.approx(0.8, abs=0.001)
    assert mde_proportion(0.6, plan.invoices_per_arm, design_effect=1.5) == \
        pytest.approx(0.04, rel=0.002)
    assert power_at_se(0.05, 0.05 / 2.8016) == pytest.approx(0.8, abs=0.001)


def test_schoenfeld_events_and_hazard_ratio_plan():
    # (1.96 + 0.8416)^2 / (0.25 * log(0.8)^2) = 630.6
    assert schoenfeld_events(0.8) == 631
    assert schoenfeld_events(1.25) == 631
    plan = sample_size_hazard_ratio(1.2, event_probability=0.9, design_effect=1.4)
    assert plan.events == schoenfeld_events(1.2, design_effect=1.4)
    assert plan.invoices_per_arm == int(np.ceil(plan.events / 0.9 / 2))
    with pytest.raises(ValueError):
        schoenfeld_events(1.0)


def test_design_effect_formula():
    assert design_effect(1, 0.3) == 1.0
    assert design_effect(5, 0.1) == pytest.approx(1.4)
    assert design_effect(5, 0.1, cv=0.5) == pytest.approx(1 + (1.25 * 5 - 1) * 0.1)


def test_rmst_variance_formula_matches_influence_function_variance():
    rng = np.random.default_rng(4)
    n, p, tau = 200_000, 0.03, 60
    t = rng.geometric(p, n)
    aj = AalenJohansen().fit(np.zeros(n, int), t, np.ones(n, int))
    _, psi = aj.restricted_mean_free(0, tau)
    survival = (1 - p) ** np.arange(1, tau + 1)
    assert rmst_variance_per_invoice(survival, tau) == pytest.approx(n * np.sum(psi**2),
                                                                    rel=0.03)
    plan = sample_size_rmst(survival, days_saved=1.5, horizon_days=tau)
    assert plan.invoices_per_arm > 0


@pytest.fixture(scope="module")
def pilot():
    frame = synthetic_payment_times(3000, seed=9, arm_hr={"control": 1.0, "treatment": 1.0})
    return ExperimentData.from_frame(frame, start="2025-03-01")


def test_measured_design_effect_exceeds_one_with_shared_frailty(pilot):
    assert estimate_design_effect(pilot, "paid_by_due_d") > 1.3


def test_pilot_based_plan_and_power(pilot):
    plan = sample_size_from_pilot(pilot, "cash_by_due_d", mde=0.03)
    assert plan.invoices_per_arm > 100 and plan.customers_per_arm > 10
    per_arm = 1500
    p_small = power_from_pilot(pilot, "paid_by_due_d", 0.02, per_arm)
    p_big = power_from_pilot(pilot, "paid_by_due_d", 0.02, 4 * per_arm)
    assert 0 < p_small < p_big < 1


def test_power_by_simulation_increases_with_size():
    def make(size, seed):
        f = synthetic_payment_times(size, seed=seed, arm_hr={"control": 1.0, "treatment": 1.4})
        return ExperimentData.from_frame(f, start="2025-03-01")

    curve = power_by_simulation(make, [150, 900], metric="cash_by_due_d", n_sims=25)
    table = curve.to_frame()
    assert table["power"].iloc[1] > table["power"].iloc[0]
    assert curve.size_for(0.5) == 900


def test_duration():
    assert duration_weeks(2000, 500, 45) == pytest.approx(4 + 45 / 7, abs=0.05)
    with pytest.raises(ValueError):
        duration_weeks(10, 0, 10)


def test_mde_functions_invert_their_power_functions():
    from collections_lab.experiments.design import (
        mde_cash,
        mde_hazard_ratio,
        mde_rmst,
        power_hazard_ratio,
        power_rmst,
        sample_size_from_pilot,
    )

    hr = mde_hazard_ratio(800, design_effect=1.5)
    assert power_hazard_ratio(hr, 800, design_effect=1.5) == pytest.approx(0.8, abs=1e-3)
    assert power_hazard_ratio(1 / hr, 800, design_effect=1.5) == pytest.approx(0.8, abs=1e-3)
    assert schoenfeld_events(hr, design_effect=1.5) == pytest.approx(800, abs=1)
    surv = np.exp(-np.arange(90) / 30.0)
    days = mde_rmst(surv, 1500, 90, design_effect=1.8)
    assert power_rmst(surv, days, 1500, 90, design_effect=1.8) == pytest.approx(0.8, abs=1e-3)
    assert sample_size_rmst(surv, days, 90, design_effect=1.8).invoices_per_arm == \
        pytest.approx(1500, abs=2)
    pilot = ExperimentData.from_frame(synthetic_payment_times(1500, seed=4), start="2025-03-01")
    cash = mde_cash(pilot, 4000)
    assert sample_size_from_pilot(pilot, "cash_by_due_d", cash).invoices_per_arm == \
        pytest.approx(4000, abs=2)


def test_design_power_matches_simulated_power_for_hazard_ratio_and_rmst():
    # 300 synthetic experiments of 700 customers (hazard ratio 1.3 within customers): the
    # binomial 99.9% band at 300 runs is about +/- 0.09 around the design function's
    # prediction (Schoenfeld + design effect for the hazard ratio; the analytic RMST
    # variance + design effect for RMST), evaluated at the runs' mean effect
    from scipy import stats

    from collections_lab.experiments.conformance import predicted_power
    from collections_lab.experiments.metrics import MetricConfig, compare_arms

    hrs = {"control": 1.0, "treatment": 1.3}
    cfg = MetricConfig(escalation_due_plus_days=60)
    pilot = ExperimentData.from_frame(
        synthetic_payment_times(20_000, seed=99, arm_hr=hrs), start="2025-03-01")
    runs = {"hazard_ratio": ([], []), "rmst_days": ([], [])}
    for r in range(300):
        d = ExperimentData.from_frame(synthetic_payment_times(700, seed=1000 + r, arm_hr=hrs),
                                      start="2025-03-01")
        for e in compare_arms(d, cfg, metrics=list(runs)):
            if np.isfinite(e.difference):  # RMST: a run whose day-90 tail is read from
                runs[e.metric][0].append(e.p_value < 0.05)  # < 10 customers is not yet
                runs[e.metric][1].append(e.difference)
    for metric, (hits, est) in runs.items():
        assert len(hits) >= 270, (metric, len(hits))
        simulated = float(np.mean(hits))
        predicted = predicted_power(metric, pilot, 20_000, 700, float(np.mean(est)), cfg=cfg)
        band = stats.norm.isf(0.0005) * np.sqrt(predicted * (1 - predicted) / len(hits))
        assert 0.3 < predicted < 0.9, metric  # a size where power is informative
        assert abs(simulated - predicted) <= band, (metric, simulated, predicted)
