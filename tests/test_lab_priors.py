"""Recommendations say which prior-only parameters they rest on, and whether halving or
doubling each of them changes the pick."""

from dataclasses import replace

import numpy as np
import pytest

from collections_lab.lab.priors import relied_priors, scaled_prior, twin_with_prior
from collections_lab.lab.recommend import Constraints, recommend
from collections_lab.lab.twin import Twin
from collections_lab.model.behaviour import BehaviourModel
from collections_lab.model.simulation import FX_PER_USD, simulate
from collections_lab.model.strategies import Discount, InstallmentOffer, Reminder, Strategy

# one reminder before escalation: the recommendations below lift the collection policy
# (min_reminders_before_escalation=0), which tests/test_levers.py covers
CURRENT = Strategy("current", escalation_day=75)  # no reminders
EMAIL = Strategy("email", reminders=(Reminder(3, "friendly", "email"),), escalation_day=75)
SMS = Strategy("sms", reminders=(Reminder(3, "friendly", "sms"),), escalation_day=75)
NEVER_SMS = {"channel_effect[sms]": "reminder channel never used",
             "channel_effect[email]": "reference channel (tone effects are relative to it)"}


@pytest.fixture(scope="module")
def true_twin():
    history = Strategy("history", reminders=(Reminder(3),), escalation_day=75)
    sim = simulate(600, history, seed=9, start="2025-01-01", end="2025-12-31", progress=False)
    return Twin.from_simulation(sim, fx=FX_PER_USD)


def test_relied_priors_follow_the_strategys_levers():
    s = Strategy("all levers", reminders=(Reminder(3, "friendly", "sms", True),
                                          Reminder(10, "firm", "email")),
                 discount=Discount(0.02, 10), installment=InstallmentOffer(2),
                 escalation_day=60)
    priors = {name: "not in the history" for name in (
        "channel_effect[sms]", "personalisation_lift", "later_reminder_decay",
        "churn_firm_reminder", "discount_taker_share[small]", "discount_taker_share[large]",
        "installment_accept_payer", "churn_escalated", "fee_sensitivity",
        "tone_effect[final]", "churn_base[small]")}
    priors["channel_effect[email]"] = "reference channel (tone effects are relative to it)"
    priors["unneeded_window_days"] = "definition, not estimated"
    got = relied_priors(s, "small", priors)
    assert set(got) == {"channel_effect[sms]", "personalisation_lift", "later_reminder_decay",
                        "churn_firm_reminder", "discount_taker_share[small]",
                        "installment_accept_payer", "churn_escalated", "churn_base[small]"}
    # no reminders, no offers: only the segment's base churn
    assert relied_priors(Strategy("quiet"), "small", priors) == ["churn_base[small]"]
    assert relied_priors(s, "small", {}) == []


def test_scaled_prior_caps_shares_and_rounds_days():
    m = BehaviourModel()
    assert scaled_prior(m, "channel_effect[sms]", 0.5).channel_effect["sms"] == pytest.approx(
        m.channel_effect["sms"] / 2)
    assert scaled_prior(m, "channel_effect[sms]", 0.5).channel_effect["email"] == \
        m.channel_effect["email"]
    assert scaled_prior(m, "later_reminder_decay", 2.0).later_reminder_decay == 1.0
    assert scaled_prior(m, "installment_accept_payer", 2.0).installment_accept_payer == \
        pytest.approx(2 * m.installment_accept_payer)
    assert scaled_prior(m, "installment_accept_defaulter", 4.0).installment_accept_defaulter \
        == 1.0
    days = scaled_prior(m, "installment_first_delay_days", 0.5).installment_first_delay_days
    assert isinstance(days, int) and days == round(m.installment_first_delay_days / 2)


def test_pick_resting_on_an_untried_channel_is_flagged_and_tested(true_twin):
    # SMS beats email at the documented prior (response 1.6 vs 1.0) but not at half of it
    twin = replace(true_twin, priors=dict(NEVER_SMS))
    rec = recommend(twin, CURRENT, [EMAIL, SMS], Constraints(max_churn_increase=0.05, min_reminders_before_escalation=0),
                    screen_replicates=2, replicates=6, n_jobs=1, sensitivity_replicates=4)
    assert {s.name for s in rec.strategies.values()} == {"sms"}
    t = rec.table.set_index("segment")
    assert (t.drop(index="all")["relies_on_priors"] == "channel_effect[sms]").all()
    assert t.drop(index="all")["pick_changes_with_priors"].all()
    sens = rec.sensitivity.set_index(["segment", "factor"])
    assert len(sens) == 2 * 4 and set(rec.sensitivity["parameter"]) == {"channel_effect[sms]"}
    half = rec.sensitivity.loc[rec.sensitivity["factor"] == 0.5]
    double = rec.sensitivity.loc[rec.sensitivity["factor"] == 2.0]
    assert (half["pick"] == "email").all() and half["changed"].all()
    assert (half["cost_if_kept"] > 0).all()
    assert (double["pick"] == "sms").all() and not double["changed"].any()
    assert (double["cost_if_kept"] == 0).all()
    assert np.allclose(half["value"], 0.8) and np.allclose(double["value"], 3.2)
    compact = rec.sensitivity_summary().set_index("factor")
    assert compact.loc[0.5, "pick_changes_in"] == "small, medium, large, public"
    assert compact.loc[2.0, "pick_changes_in"] == ""
    assert "Sensitivity of the picks" in rec._repr_html_()
    en, es = rec.summary(), rec.summary("es")
    assert "cannot identify" in en and "response to sms reminders" in en
    assert "×0.5 it changes" in en and "'email'" in en
    assert "no identifica" in es and "respuesta a recordatorios por sms" in es
    assert "×0,5 cambia" in es and "«email»" in es


def test_pick_on_estimated_parameters_only_says_so(true_twin):
    # the twin with the true parameters has no priors: nothing to flag, nothing re-run
    rec = recommend(true_twin, CURRENT, [EMAIL, SMS], Constraints(max_churn_increase=0.05, min_reminders_before_escalation=0),
                    screen_replicates=2, replicates=4, n_jobs=1)
    assert rec.sensitivity.empty
    assert (rec.table["relies_on_priors"].fillna("") == "").all()
    assert "No recommendation rests on parameters" in rec.summary()
    assert "Ninguna recomendación depende" in rec.summary("es")


def test_pick_robust_to_its_priors_says_unchanged(true_twin):
    # both candidates use SMS: halving or doubling its response moves both alike
    twin = replace(true_twin, priors=dict(NEVER_SMS))
    sms_late = Strategy("sms late", reminders=(Reminder(30, "friendly", "sms"),),
                        escalation_day=75)
    rec = recommend(twin, CURRENT, [SMS, sms_late], Constraints(max_churn_increase=0.05, min_reminders_before_escalation=0),
                    screen_replicates=2, replicates=4, n_jobs=1, sensitivity_replicates=3)
    assert not rec.sensitivity["changed"].any()
    assert "leaves every pick unchanged" in rec.summary()
    assert "la elección no cambia" in rec.summary("es")


def test_twin_with_prior_changes_the_parameter_draws_too(true_twin):
    twin = replace(true_twin, models=[true_twin.model, true_twin.model.with_params(
        due_peak=0.2)])
    moved = twin_with_prior(twin, "channel_effect[sms]", 2.0)
    assert moved.model.channel_effect["sms"] == 2 * twin.model.channel_effect["sms"]
    assert all(m.channel_effect["sms"] == 2 * twin.model.channel_effect["sms"]
               for m in moved.models)
    assert moved.models[1].due_peak == 0.2 and twin.model.channel_effect["sms"] == 1.6
