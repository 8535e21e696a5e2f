"""The twin reproduces the simulator (truth) and history (calibrated), with common random
numbers, and refuses mixed currencies."""

import numpy as np
import pytest

from collections_lab.lab.compare import simulate_metrics
from collections_lab.lab.scenarios import calibrate_scenario, history_scenario
from collections_lab.lab.twin import Twin, TwinError, check_twin
from collections_lab.model.economics import Economics
from collections_lab.model.simulation import FX_PER_USD, HazardCurves, draw_outcomes, simulate
from collections_lab.model.strategies import example_strategies

S = example_strategies()


@pytest.fixture(scope="module")
def sim():
    return simulate(400, S["one_friendly_after_due"], seed=21, start="2025-01-01",
                    end="2025-12-31", progress=False)


def test_true_twin_matches_the_simulators_true_effects(sim):
    twin = Twin.from_simulation(sim, fx=FX_PER_USD)
    assert twin.n_invoices == len(sim.invoices)
    values = simulate_metrics(twin, [S["one_friendly_after_due"]], Economics(), replicates=12,
                              n_jobs=1)
    p15 = values[:, 0, -1, 1].mean()  # all segments, paid_by_due_15
    truth = sim.truth.arm_effects.set_index("arm").loc["one_friendly_after_due",
                                                        "p_paid_by_due_15"]
    assert p15 == pytest.approx(truth, abs=0.01)


def test_common_random_numbers_and_the_counterfactual_shortcut(sim):
    twin = Twin.from_simulation(sim, currency="COP")
    a, b = S["nudge_then_firm"], S["discount_2_10_net_30"]
    together = twin.outcomes([a, b], replicate=3)
    draw = twin.draw(3)
    # the plain simulator core on the same inputs, without the twin's memo
    plain = draw_outcomes(draw.model, HazardCurves(draw.model, [a, b, None]), np.zeros(twin.n_invoices,
                  dtype=np.int64), twin.seg, twin.terms, draw.taker, draw.mult,
                  draw.never_p, draw.u)
    np.testing.assert_array_equal(together[0].end_day, plain.end_day)
    np.testing.assert_array_equal(together[0].n_unneeded, plain.n_unneeded)
    alone = twin.outcomes([b], replicate=3)[0]
    np.testing.assert_array_equal(together[1].end_day, alone.end_day)
    # a different replicate is a different draw
    assert not np.array_equal(twin.draw(4).u, draw.u)


def test_mixed_currencies_need_a_choice(sim):
    with pytest.raises(TwinError, match="currency= or fx="):
        Twin.from_simulation(sim)
    twin = Twin.from_simulation(sim, currency="MXN")
    with pytest.raises(TwinError, match="in_currency"):
        simulate_metrics(twin, [S["no_reminders"]], Economics(), replicates=1, n_jobs=1)


def test_calibrated_twin_reproduces_history():
    sc = history_scenario(n_customers=500, seed=8)
    cal = calibrate_scenario(sc)
    check = check_twin(cal, replicates=3)
    assert check.max_curve_gap < 0.06
    rates = check.rates.set_index(["segment", "metric"])
    assert abs(rates.loc[("all", "paid_by_due"), "difference"]) < 0.03
    assert abs(rates.loc[("all", "paid_by_due_15"), "difference"]) < 0.03
    assert rates["z"].abs().max() < 4  # within a few binomial standard errors
    late = check.lateness.loc[check.lateness["segment"] == "all"]
    assert np.allclose(late[["observed", "simulated"]].sum(), 1.0)
    assert "Kaplan" in check.summary() and "gemelo" in check.summary("es")
    # aging by segment at the export date: the observed side is the analytics KPI itself
    from collections_lab.analytics.kpis import aging

    kpi = aging(sc.history, check.as_of, by="segment", include_escalated=False).frame
    counts = kpi.groupby(["segment", "bucket"])["count"].sum()  # over the currencies
    ag = check.aging.set_index(["segment", "bucket"])
    assert (ag.loc[counts.index, "observed_invoices"] == counts).all()
    assert set(ag.index.get_level_values("bucket")) == {"current", "1-30", "31-60", "61-90",
                                                        "90+"}
    everything = check.aging.loc[check.aging["segment"] == "all"]
    assert np.allclose(everything[["observed_share", "simulated_share"]].sum(), 1.0)
    n_obs, n_sim = everything[["observed_invoices", "simulated_invoices"]].sum()
    assert n_sim == pytest.approx(n_obs, rel=0.15)  # 131 vs 115 open invoices measured
    # the share of open invoices more than 30 days past due, within three binomial
    # standard errors of the difference (observed 23.5 %, simulated 28.8 %, SE 4.6 points; the
    # amount-weighted share of ~100 heavy-tailed amounts moved -8 to +16 points between
    # seeds 8-13, so it is only bounded loosely)
    beyond = everything["bucket"].isin(["31-60", "61-90", "90+"])
    shares = everything.loc[beyond, ["observed_invoices", "simulated_invoices"]].sum() / [
        n_obs, n_sim]
    pooled = float(shares.mean())
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_obs + 1 / (3 * n_sim)))  # 3 replicates
    assert abs(shares.iloc[1] - shares.iloc[0]) < 3 * se
    observed_late, simulated_late = check.overdue_share(30)
    assert abs(simulated_late - observed_late) < 0.1  # 8.9 % vs 14.2 % measured
    assert "30 days past due" in check.summary() and "vencido" in check.summary("es")
    assert "Aging of invoices in reminder collection" in check._repr_html_()
    assert "Escalated invoices are left out" in check._repr_html_()  # says why not page 01's
    twin = Twin.from_calibration(cal, fx=FX_PER_USD, parameter_draws=3)
    assert len(twin.models) == 3
    assert twin.draw(0).model is not twin.draw(1).model
    # what the calibration could not identify travels with the twin (for recommendations)
    assert twin.priors == cal.priors_ and "installment_accept_payer" in twin.priors
    with pytest.raises(TwinError, match="several|currency"):
        Twin.from_calibration(cal)


def test_out_of_sample_check_predicts_later_invoices():
    sc = history_scenario(n_customers=500, seed=8)
    from collections_lab.lab.calibrate import Calibration
    from collections_lab.lab.scenarios import AMOUNT_REFERENCE

    p = sc.history
    cal = Calibration(amount_reference=AMOUNT_REFERENCE).fit(p, as_of="2025-09-30",
                                                             arms=sc.arms, default=sc.default)
    check = check_twin(cal, replicates=3, holdout=(p, "2026-01-31"))
    rates = check.rates.set_index(["segment", "metric"])
    later = p.invoices["issue_date"] > cal.history_.frame["issue_date"].max()
    assert rates.loc[("all", "paid_by_due"), "invoices"] <= later.sum()
    assert abs(rates.loc[("all", "paid_by_due"), "difference"]) < 0.04
    assert abs(rates.loc[("all", "paid_by_due_15"), "difference"]) < 0.04
    with pytest.raises(TwinError, match="hold out"):
        check_twin(cal, holdout=(p, "2025-09-30"))
