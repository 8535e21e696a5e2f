"""Holm and Benjamini–Hochberg adjustments against statsmodels."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from collections_lab.experiments.multiple import (
    add_adjusted_p_values,
    benjamini_hochberg,
    holm,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_holm_and_bh_match_statsmodels(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, 9)
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])


def test_nan_stays_nan_and_others_adjusted_among_themselves():
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1])
    assert out[[0, 2]] == pytest.approx([0.02, 0.04])


def test_families_by_metric():
    frame = pd.DataFrame({"metric": ["a", "a", "b"], "p_value": [0.01, 0.02, 0.01]})
    out = add_adjusted_p_values(frame)
    assert out["p_holm"].tolist() == pytest.approx([0.02, 0.02, 0.01])
    assert out["p_bh"].iloc[2] == pytest.approx(0.01)
