"""Calibration recovers known truth, says what history cannot identify, refuses bad input."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.lab.calibrate import (
    Calibration,
    CalibrationError,
    _forward,
    _identifiable,
    _Likelihood,
    _value,
    prepare_history,
    recovery_table,
)
from collections_lab.lab.scenarios import TRUE_CHANGES, calibrate_scenario, history_scenario
from collections_lab.model.behaviour import BehaviourModel
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies


@pytest.fixture(scope="module")
def scenario():
    return history_scenario(n_customers=500, seed=11)


@pytest.fixture(scope="module")
def calibration(scenario):
    return calibrate_scenario(scenario)


def test_recovers_true_parameters_within_their_intervals(calibration, scenario):
    rec = recovery_table(calibration, scenario.truth)
    hazard = rec.loc[~rec["note"].eq("churn GLM")]
    # 95% intervals: with ~37 parameters a couple may miss; none may be far off
    assert hazard["covered"].mean() >= 0.85, hazard.loc[~hazard["covered"]]
    assert hazard["z"].abs().max() < 3.5
    # the truth differs from the priors, so returning the priors would fail
    assert rec.loc["tone_effect[firm]", "true"] != BehaviourModel().tone_effect["firm"]
    for name in ("tone_effect[friendly]", "tone_effect[firm]", "beta_payment_link",
                 "discount_boost_per_point"):
        assert rec.loc[name, "covered"], rec.loc[name]
    assert calibration.model_.tone_effect["firm"] == pytest.approx(
        calibration.params_.loc["tone_effect[firm]", "estimate"])
    assert TRUE_CHANGES["beta_payment_link"] == rec.loc["beta_payment_link", "true"]


def test_unused_tones_and_channels_fall_back_to_documented_priors(calibration):
    p = calibration.params_
    prior = BehaviourModel()
    for name in ("tone_effect[neutral]", "tone_effect[final]", "channel_effect[sms]"):
        assert p.loc[name, "source"] == "prior"
        assert "never used" in p.loc[name, "note"]
    assert p.loc["tone_effect[final]", "estimate"] == prior.tone_effect["final"]
    assert p.loc["fee_sensitivity", "source"] == "prior"
    assert set(calibration.unidentified().index) >= {"tone_effect[neutral]", "fee_sensitivity"}
    assert "documented defaults" in calibration.summary()
    assert "valores por defecto" in calibration.summary("es")
    assert calibration.customers_["frailty_sd"].between(0, 1).all()


def test_confounded_reminder_features_are_not_estimated():
    # one strategy: the only personalised reminder is the only friendly one, and the
    # k-th reminder always has the same tone/channel: lift and decay are confounded
    s = example_strategies()["nudge_then_firm"]
    sim = simulate(250, s, seed=3, start="2025-01-01", end="2025-08-31", progress=False)
    data = prepare_history(sim.portfolio, arms=None, default=s)
    est, priors = _identifiable(data, BehaviourModel(), None)
    names = {p.name for p in est}
    assert {"tone_effect[friendly]", "tone_effect[firm]", "channel_effect[sms]"} <= names
    assert "confounded" in priors["personalisation_lift"]
    assert "confounded" in priors["later_reminder_decay"]


def test_analytic_scores_match_finite_differences(scenario):
    small = history_scenario(n_customers=120, seed=4)
    data = prepare_history(small.history, arms=small.arms, default=small.default)
    prior = BehaviourModel()
    params, _ = _identifiable(data, prior, None)
    lik = _Likelihood(data, prior, params, 8)
    rng = np.random.default_rng(0)
    theta = np.array([_forward(_value(prior, p), p.transform) for p in params])
    theta += rng.normal(0, 0.05, len(theta))
    _, scores = lik.evaluate(theta, grad=True)
    g = scores.sum(axis=0)
    for j in rng.choice(len(theta), 8, replace=False):
        e = 1e-5
        up, dn = theta.copy(), theta.copy()
        up[j] += e
        dn[j] -= e
        num = (lik.evaluate(up).sum() - lik.evaluate(dn).sum()) / (2 * e)
        assert g[j] == pytest.approx(num, rel=1e-3, abs=1e-3), params[j].name


def test_recorded_reminders_without_known_offers():
    small = history_scenario(n_customers=250, seed=6)
    cal = Calibration(maxiter=25).fit(small.history)
    p = cal.params_
    assert p.loc["discount_boost_per_point", "source"] == "prior"
    assert "offers unknown" in p.loc["discount_boost_per_point", "note"]
    assert cal.history_.strategies.source == "recorded"
    assert cal.current_strategy_.reminder_days[0] == 3


def test_history_too_short_is_a_clear_error():
    s = example_strategies()["one_friendly_after_due"]
    sim = simulate(20, s, seed=1, start="2025-01-01", end="2025-01-31", progress=False)
    with pytest.raises(CalibrationError, match="history too short to calibrate"):
        Calibration().fit(sim.portfolio, default=s)


def test_unknown_segment_is_named():
    s = example_strategies()["one_friendly_after_due"]
    sim = simulate(60, s, seed=1, start="2025-01-01", end="2025-06-30", progress=False)
    p = sim.portfolio
    p.customers = p.customers.assign(segment=np.where(np.arange(len(p.customers)) < 3,
                                                      "retail", p.customers["segment"]))
    with pytest.raises(CalibrationError, match="retail"):
        Calibration().fit(p, default=s)


def test_sample_models_draw_around_the_estimates(calibration):
    models = calibration.sample_models(30, seed=1)
    firm = np.array([m.tone_effect["firm"] for m in models])
    row = calibration.params_.loc["tone_effect[firm]"]
    assert row["ci_low"] * 0.8 < np.median(firm) < row["ci_high"] * 1.2
    assert firm.std() > 0
    assert isinstance(calibration.to_frame(), pd.DataFrame)


def test_inferred_schedules_recover_reminder_effects_without_known_strategies():
    # the simulator does not record a reminder due on the day of payment; each arm's
    # inferred schedule restores it, so reminder effects are recovered without the
    # strategies (discounts stay unknown: priors)
    sc = history_scenario(n_customers=500, seed=12)
    from collections_lab.lab.scenarios import AMOUNT_REFERENCE

    cal = Calibration(amount_reference=AMOUNT_REFERENCE).fit(sc.history, reminders="inferred")
    assert cal.history_.strategies.source == "inferred"
    rec = recovery_table(cal, sc.truth)
    for name in ("tone_effect[friendly]", "tone_effect[firm]", "beta_payment_link"):
        assert rec.loc[name, "covered"], rec.loc[name]
    with pytest.raises(ValueError, match="recorded' or 'inferred"):
        Calibration().fit(sc.history, reminders="guessed")


@pytest.mark.slow
def test_full_recovery_coverage_over_seeds():
    from collections_lab.lab.scenarios import run_recovery

    tables = [run_recovery(1500, seed) for seed in (1, 2, 3, 4, 5)]
    hazard = pd.concat(tables)
    hazard = hazard.loc[hazard["note"] != "churn GLM"]
    assert hazard["covered"].mean() >= 0.9
    assert hazard["z"].abs().max() < 4
