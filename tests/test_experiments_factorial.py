"""Factorial analysis: main effects and interactions from one regression."""

import pandas as pd
import pytest

from collections_lab.experiments.data import ExperimentData
from collections_lab.experiments.factorial import design_matrix, factorial_analysis
from collections_lab.experiments.synthetic import synthetic_payment_times

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
