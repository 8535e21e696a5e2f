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
