"""Aalen–Johansen incidence vs lifelines (untied data) and vs 1 - KM with one cause."""

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter

from collections_lab.survival import SurvivalInputError, cumulative_incidence, kaplan_meier


def test_matches_lifelines_on_untied_data_including_variance():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"duration": rng.permutation(n) + 1,
                       "outcome_code": rng.choice([0, 1, 2], n, p=[0.2, 0.6, 0.2])})
    ours = cumulative_incidence(df).to_frame()
    for code, name in [(1, "paid"), (2, "escalated")]:
        aj = AalenJohansenFitter(calculate_variance=True).fit(df["duration"], df["outcome_code"],
                                                              event_of_interest=code)
        c = ours[ours["outcome"] == name].set_index("day")
        ref = aj.cumulative_density_.iloc[:, 0].drop(index=0, errors="ignore")
        np.testing.assert_allclose(c["incidence"].reindex(ref.index), ref, atol=1e-12)
        var_ref = aj.variance_.reindex(c.index.astype(float)).to_numpy()
        ok = np.isfinite(var_ref)  # lifelines gives NaN on the last day (everyone leaves)
        assert ok.sum() >= len(ok) - 1
        np.testing.assert_allclose((c["se"] ** 2).to_numpy()[ok], var_ref[ok], atol=1e-12)


def test_single_cause_equals_one_minus_km_and_shares_add_up():
    rng = np.random.default_rng(1)
    n = 500
    t = np.floor(rng.exponential(20, n)).astype(int)
    c = rng.integers(5, 90, n)
    df = pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c})
    df["outcome_code"] = df["event"].astype(int)
    paid = cumulative_incidence(df).to_frame().query("outcome == 'paid'").set_index("day")
    km = kaplan_meier(df).to_frame().set_index("day")
    np.testing.assert_allclose(paid["incidence"], 1 - km["survival"], atol=1e-12)
    # three causes: incidences + all-cause survival = 1 on every day
    df["outcome_code"] = np.where(df["event"], rng.choice([1, 2, 3], n, p=[0.8, 0.15, 0.05]), 0)
    ci = cumulative_incidence(df, by=None)
    wide = ci.to_frame().pivot(index="day", columns="outcome", values="incidence")
    df2 = df.assign(event=df["outcome_code"] > 0)
    s = kaplan_meier(df2).to_frame().set_index("day")["survival"]
    np.testing.assert_allclose(wide.sum(axis=1) + s, 1.0, atol=1e-12)
    at = ci.at(30)
    assert set(at["outcome"]) == {"paid", "escalated", "written_off"}
    assert "escalada" in ci.summary("es", day=30)


def test_unknown_outcome_code():
    df = pd.DataFrame({"duration": [1, 2, 3], "outcome_code": [1, 7, 0]})
    with pytest.raises(SurvivalInputError, match="unknown outcome"):
        cumulative_incidence(df)
