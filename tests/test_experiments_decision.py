"""Recommendation from a readout: each branch on a hand-made readout with known effects."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.experiments.decision import DECISIONS, recommend
from collections_lab.experiments.metrics import MetricConfig
from collections_lab.experiments.readout import ExperimentReadout
from collections_lab.experiments.sequential import group_sequential_test
from collections_lab.experiments.srm import SRMResult

ARMS = ["control", "firm", "discount"]


def _effects(net: dict, churn: dict | None = None) -> pd.DataFrame:
    """Effects versus control: {arm: (effect, ci_low, ci_high, p_holm)}."""
    rows = []
    for metric, values in (("net_value", net), ("churn", churn or {})):
        for arm, (effect, lo, hi, p) in values.items():
            rows.append({"arm": arm, "metric": metric, "effect": effect, "ci_low": lo,
                         "ci_high": hi, "p_value": p, "p_holm": p})
    return pd.DataFrame(rows)


def _sequential(z_last: float, fraction: float):
    # weekly looks from 2026-01-04, 100 events a week, planned events = last / fraction
    n = 6
    events = 100.0 * np.arange(1, n + 1)
    labels = [(pd.Timestamp("2026-01-04") + pd.Timedelta(weeks=i)).date().isoformat()
              for i in range(n)]
    z = np.linspace(0.3, z_last, n)
    return group_sequential_test(z, events, events[-1] / fraction, look_labels=labels)


def _readout(net, churn=None, sequential=None, srm_p=0.4):
    srm = SRMResult(pd.DataFrame(), srm_p, {})
    return ExperimentReadout("exp", ARMS, "control", pd.Timestamp("2026-02-08"),
                             _effects(net, churn), srm, MetricConfig(), sequential)


NO_CHURN = {"firm": (0.001, -0.01, 0.012, 0.8), "discount": (0.0, -0.01, 0.01, 0.9)}


def test_srm_blocks_every_decision_even_with_a_clear_winner():
    rec = recommend(_readout({"firm": (0.05, 0.03, 0.07, 0.001)}, NO_CHURN, srm_p=1e-6))
    assert rec.decision == "check_assignment" and rec.arm is None
    assert "do not act" in rec.summary("en")
    assert "no actuar" in rec.summary("es") and "0,0000" in rec.summary("es")


def test_sequential_continue_means_keep_running_until_the_planned_events():
    seq = _sequential(z_last=2.1, fraction=0.5)  # 600 of 1,200 events, 100 a week
    assert seq.decision == "continue"
    rec = recommend(_readout({"firm": (0.04, 0.01, 0.07, 0.01),
                              "discount": (0.01, -0.02, 0.04, 0.5)}, NO_CHURN, seq))
    assert rec.decision == "keep_running" and rec.arm == "firm"  # the leader, named
    # 600 more events at 100 per 7 days: 42 days after the last look (2026-02-08)
    assert rec.until == pd.Timestamp("2026-03-22")
    en, es = rec.summary("en"), rec.summary("es")
    assert "keep running until about 2026-03-22" in en and "50%" in en
    assert "4.00 per 100 invoiced (95% CI 1.00 to 7.00)" in en
    assert "seguir con el experimento hasta aproximadamente el 2026-03-22" in es
    assert "4,00 por cada 100 facturados (IC 95 % 1,00 a 7,00)" in es and "50 %" in es


def test_adopt_the_best_arm_whose_net_value_interval_is_above_zero():
    seq = _sequential(z_last=4.0, fraction=0.6)  # crossed the boundary
    assert seq.decision == "stop_efficacy"
    net = {"firm": (0.03, 0.01, 0.05, 0.004), "discount": (0.05, 0.02, 0.08, 0.001)}
    rec = recommend(_readout(net, NO_CHURN, seq))
    assert rec.decision == "adopt" and rec.arm == "discount"
    assert rec.net_value == (0.05, 0.02, 0.08)
    en = rec.summary("en")
    assert en.startswith("Recommendation: adopt discount.")
    assert "5.00 per 100 invoiced above the control control (95% CI 2.00 to 8.00" in en
    assert "sequential test stopped at look" in en and "churn 0.0 points" in en
    assert rec.summary("es").startswith("Recomendación: adoptar discount.")


def test_no_sequential_plan_and_a_clear_gain_adopts():
    rec = recommend(_readout({"firm": (0.03, 0.01, 0.05, 0.004)}, NO_CHURN))
    assert rec.decision == "adopt" and rec.reason == "fixed_sample"


def test_keep_control_when_the_interval_includes_zero():
    seq = _sequential(z_last=1.0, fraction=1.0)  # final look, nothing crossed
    assert seq.decision == "final_no_effect"
    net = {"firm": (0.02, -0.01, 0.05, 0.2), "discount": (0.01, -0.02, 0.04, 0.6)}
    rec = recommend(_readout(net, NO_CHURN, seq))
    assert rec.decision == "keep_control" and rec.reason == "no_gain" and rec.arm == "firm"
    en = rec.summary("en")
    assert en.startswith("Recommendation: keep the control control.")
    assert "(95% CI -1.00 to 5.00" in en
    assert "mantener el control" in rec.summary("es")


def test_holm_adjusted_p_value_must_clear_alpha_too():
    # interval above zero on its own, but not after adjusting for the arms compared
    rec = recommend(_readout({"firm": (0.03, 0.001, 0.06, 0.09)}, NO_CHURN))
    assert rec.decision == "keep_control" and rec.reason == "no_gain"
    # the sample's page read "not clearly above (95% CI 1.49 to 9.40...)": the sentence
    # now says the interval is this arm's alone and the adjustment decided
    assert rec.comparisons == 2
    assert ("once 2 arms are compared with it" in rec.summary("en")
            and "for this arm alone" in rec.summary("en") and "not below 5%" in rec.summary("en"))
    assert "ajustado por las 2 comparaciones" in rec.summary("es")
    # an interval through zero keeps the plain sentence
    plain = recommend(_readout({"firm": (0.02, -0.01, 0.05, 0.2)}, NO_CHURN))
    assert "compared with it" not in plain.summary("en")


def test_a_clear_churn_increase_rules_an_arm_out():
    net = {"firm": (0.06, 0.03, 0.09, 0.001), "discount": (0.02, 0.005, 0.035, 0.02)}
    churn = {"firm": (0.04, 0.02, 0.06, 0.001), "discount": (0.0, -0.01, 0.01, 0.9)}
    rec = recommend(_readout(net, churn))
    assert rec.decision == "adopt" and rec.arm == "discount"  # firm raises churn
    only_firm = recommend(_readout({"firm": net["firm"]}, {"firm": churn["firm"]}))
    assert only_firm.decision == "keep_control" and only_firm.reason == "churn"
    assert "raises churn by 4.0 points (95% CI 2.0 to 6.0)" in only_firm.summary("en")
    # a tolerance above the interval's lower end lets it through
    tolerant = recommend(_readout({"firm": net["firm"]}, {"firm": churn["firm"]}),
                         max_churn_increase=0.03)
    assert tolerant.decision == "adopt"


def test_nothing_estimable_keeps_the_control_and_says_so():
    rec = recommend(_readout({"firm": (np.nan, np.nan, np.nan, np.nan)}))
    assert rec.decision == "keep_control" and rec.reason == "no_metric"
    assert "cannot be estimated yet" in rec.summary("en")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_decision_has_a_frame_and_html(lang):
    rec = recommend(_readout({"firm": (0.03, 0.01, 0.05, 0.004)}, NO_CHURN))
    assert rec.decision in DECISIONS
    assert rec.to_frame().loc[0, "net_value_ci_low"] == 0.01
    assert "adopt" in rec._repr_html_() and rec.summary(lang)


def test_a_faster_strategy_that_breaks_the_churn_margin_is_not_adopted():
    """Issue 15: guardrails decide. The treatment pays 1.6x faster (net value up clearly);
    in the second readout 30% of its customers stop buying after the experiment's end."""
    import warnings

    from collections_lab.experiments.readout import analyze_experiment
    from collections_lab.experiments.synthetic import synthetic_payment_times

    frame = synthetic_payment_times(3000, seed=4, arm_hr={"control": 1.0, "treatment": 1.6})
    end = frame.attrs["as_of"] - pd.Timedelta(days=60)  # the churn window's start
    treated = frame.loc[frame["arm"] == "treatment", "customer_id"].unique()
    gone = np.random.default_rng(0).choice(treated, int(0.3 * len(treated)), replace=False)
    churned = frame[~(frame["customer_id"].isin(gone) & (frame["issue_date"] > end))].copy()
    churned.attrs = frame.attrs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fine = analyze_experiment(frame, start="2025-03-01", segments=False)
        broken = analyze_experiment(churned, start="2025-03-01", segments=False)
    # no churn harm: adopted when non-inferiority within 5 points is shown ...
    assert recommend(fine, guardrails={"churn": 0.05}).decision == "adopt"
    # ... but a 2-point margin is not shown (the interval reaches +3 points), although
    # churn is not clearly worse: non-inferiority is stricter than "no clear harm"
    strict = recommend(fine, guardrails={"churn": 0.02})
    assert recommend(fine).decision == "adopt"
    assert (strict.decision, strict.reason, strict.arm) == ("keep_control", "guardrail", "treatment")
    # the faster strategy that raises churn by about 10 points breaks the margin
    rec = recommend(broken, max_churn_increase=0.5, guardrails={"churn": 0.05})
    assert (rec.decision, rec.reason) == ("keep_control", "guardrail")
    assert rec.net_value[1] > 0  # it was faster and more valuable
    metric, change, low, high, margin = rec.guardrail
    assert metric == "churn" and low > margin
    assert "margin of 5" in rec.summary("en") and "margen de 5" in rec.summary("es")


def test_churn_without_a_test_is_not_stated_as_a_certain_zero():
    # every customer gone by the data's end in both arms: effect 0, interval 0 to 0, no
    # p-value; the headline said "churn 0.0 points (95% CI 0.0 to 0.0)"
    net = {"firm": (0.04, 0.01, 0.07, 0.01)}
    untested = {"firm": (0.0, 0.0, 0.0, np.nan)}
    rec = recommend(_readout(net, untested))
    assert rec.decision == "adopt" and rec.churn is None
    assert rec.summary("en").endswith("churn not estimable yet.")
    assert "0.0 to 0.0" not in rec.summary("en")
    tested = recommend(_readout(net, {"firm": (0.001, -0.002, 0.004, 0.6)}))
    assert tested.churn == (0.001, -0.002, 0.004)
