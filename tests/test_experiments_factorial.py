"""Factorial analysis: main effects and interactions from one regression."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.experiments.data import ExperimentData
from collections_lab.experiments.factorial import design_matrix, factorial_analysis
from collections_lab.experiments.synthetic import synthetic_payment_times, synthetic_truth

FACTORS = {
    f"{tone}-{count}": {"tone": tone, "count": count}
    for tone in ("friendly", "firm") for count in ("1", "3")
}


def test_design_matrix_is_centred_effect_coding():
    arms = list(FACTORS) * 5
    x = design_matrix(arms, FACTORS)
    assert list(x.columns) == ["tone[firm]", "count[3]", "tone[firm]:count[3]"]
    assert x.mean().abs().max() < 1e-12
    assert sorted(x["tone[firm]"].unique()) == [-0.5, 0.5]


def test_design_matrix_errors():
    with pytest.raises(ValueError, match="no factor levels"):
        design_matrix(["zzz"], FACTORS)


def test_factorial_recovers_a_tone_effect_without_interaction():
    # firm tone multiplies the payment hazard by 1.35, reminder count does nothing
    hr = {arm: (1.35 if lv["tone"] == "firm" else 1.0) for arm, lv in FACTORS.items()}
    frame = synthetic_payment_times(6000, seed=11, arm_hr=hr)
    data = ExperimentData.from_frame(frame, control="friendly-1", start="2025-03-01")
    res = factorial_analysis(data, FACTORS)
    table = res.to_frame().set_index(["model", "term"])
    tone = table.loc[("cox", "tone[firm]")]
    assert tone["estimate"] > 1.1 and tone["p_value"] < 0.001
    assert table.loc[("cox", "count[3]"), "p_value"] > 0.001
    assert table.loc[("paid_by_due_d", "tone[firm]"), "estimate"] > 2  # points per 100
    assert isinstance(res._repr_html_(), str)
    assert set(pd.unique(res.table["model"])) == {"cox", "paid_by_due_d"}


TONE_DISCOUNT = {
    f"{tone}-{disc}": {"tone": tone, "discount": disc}
    for tone in ("friendly", "firm") for disc in ("none", "2pct")
}
#: Payment hazard ratios: firm 1.3, discount 1.2, and a true interaction of 1.3 on top.
TD_HR = {"friendly-none": 1.0, "firm-none": 1.3, "friendly-2pct": 1.2,
         "firm-2pct": 1.3 * 1.2 * 1.3}


def _tone_discount_table(frailty_shape, seed):
    frame = synthetic_payment_times(8000, seed=seed, arm_hr=TD_HR, frailty_shape=frailty_shape,
                                    discount_rate={"friendly-2pct": 0.02, "firm-2pct": 0.02})
    data = ExperimentData.from_frame(frame, control="friendly-none", start="2025-03-01")
    res = factorial_analysis(data, TONE_DISCOUNT)
    return res.to_frame().set_index(["model", "term"])


def test_factorial_recovers_a_known_tone_by_discount_interaction():
    # with (almost) no frailty the Cox model's estimand is the simulated hazard ratio, so
    # the interaction 1.3 and both main effects must be recovered within their intervals
    table = _tone_discount_table(frailty_shape=1000.0, seed=5)
    inter = table.loc[("cox", "tone[firm]:discount[2pct]")]
    assert inter["ci_low"] <= 1.3 <= inter["ci_high"] and inter["p_value"] < 0.001
    # centred coding: a main effect is averaged over the other factor's levels, i.e. the
    # geometric mean of the two simple effects (1.3, 1.3 * 1.3) on the hazard scale
    tone = table.loc[("cox", "tone[firm]")]
    assert tone["ci_low"] <= 1.3 * np.sqrt(1.3) <= tone["ci_high"]
    disc = table.loc[("cox", "discount[2pct]")]
    assert disc["ci_low"] <= 1.2 * np.sqrt(1.3) <= disc["ci_high"]


def test_factorial_interaction_in_points_matches_the_difference_of_differences():
    # P(paid by due + 15): the true interaction is the difference of differences of the
    # four arms' true probabilities (synthetic_truth), with customer frailty (clustering)
    truth = synthetic_truth(TD_HR, n_customers=200_000)["paid_by_due_d"] * 100
    expected = (truth["firm-2pct"] - truth["friendly-2pct"]
                - truth["firm-none"] + truth["friendly-none"])
    table = _tone_discount_table(frailty_shape=1.5, seed=6)
    inter = table.loc[("paid_by_due_d", "tone[firm]:discount[2pct]")]
    assert inter["ci_low"] <= expected <= inter["ci_high"], (inter, expected)
    assert abs(expected) > 1  # a real interaction to find, in points per 100
