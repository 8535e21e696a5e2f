"""The mixture cure model recovers a known share of never-payers."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.survival import SurvivalInputError, cure_fraction


def test_recovers_never_paid_share():
    rng = np.random.default_rng(0)
    n = 6000
    share = np.where(rng.random(n) < 0.5, 0.08, 0.20)
    group = np.where(share == 0.08, "reliable", "shaky")
    never = rng.random(n) < share
    t = np.where(never, 10**6, np.floor(rng.weibull(1.4, n) * 30)).astype(int)
    c = rng.integers(120, 300, n)
    pt = pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c, "group": group})
    res = cure_fraction(pt, by="group").table.set_index("group")
    for g, truth in [("reliable", 0.08), ("shaky", 0.20)]:
        assert res.loc[g, "ci_low"] < truth < res.loc[g, "ci_high"]
        assert res.loc[g, "km_plateau"] == pytest.approx(truth, abs=0.03)


def test_group_without_payments():
    pt = pd.DataFrame({"duration": [3, 4, 5, 6], "event": [1, 1, 0, 0], "g": ["a", "a", "b", "b"]})
    with pytest.raises(SurvivalInputError, match="no payments"):
        cure_fraction(pt, by="g")


def cure_sample(lo, hi, seed=0, n=2000, share=0.10):
    rng = np.random.default_rng(seed)
    never = rng.random(n) < share
    t = np.where(never, 10**6, np.floor(rng.weibull(1.4, n) * 30)).astype(int)
    c = rng.integers(lo, hi, n)
    return pd.DataFrame({"duration": np.minimum(t, c), "event": t <= c})


@pytest.mark.parametrize("lo, hi", [(5, 15), (20, 40)])
def test_short_follow_up_raises_instead_of_a_silent_estimate(lo, hi):
    # 5–15 days: the model said "9.5% never pay, CI 0–100%"; 20–40 days: it said 19.6%
    # (truth 10%) with a tight CI. Neither has a plateau yet: the check must refuse both.
    pt = cure_sample(lo, hi)
    with pytest.raises(SurvivalInputError, match="too short to see a plateau") as err:
        cure_fraction(pt)
    assert "eventual payers still unpaid" in str(err.value) and "Maller–Zhou" in str(err.value)
    res = cure_fraction(pt, max_tail=None).table.iloc[0]  # the caller may still look
    assert res["unpaid_payers_at_end"] > 0.05


def test_long_enough_follow_up_passes_and_reports_the_plateau_evidence():
    pt = cure_sample(60, 120)
    row = cure_fraction(pt).table.iloc[0]
    assert row["ci_low"] < 0.10 < row["ci_high"]
    assert row["unpaid_payers_at_end"] < 0.01
    assert row["last_followup_day"] == pt["duration"].max()
    # Maller–Zhou by hand: payments in (2 t* - t_n, t*], p = (1 - N/n)^n
    t_star = pt.loc[pt["event"], "duration"].max()
    t_n = pt["duration"].max()
    n_window = int((pt["event"] & (pt["duration"] > 2 * t_star - t_n) & (pt["duration"] <= t_star)).sum())
    assert row["follow_up_p"] == pytest.approx((1 - n_window / len(pt)) ** len(pt), rel=1e-9)
