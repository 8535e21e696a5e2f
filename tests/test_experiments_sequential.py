"""Group-sequential boundaries: published values, error control by simulation, decisions."""

import numpy as np
import pytest
from scipy import stats

from collections_lab.experiments.sequential import (
    group_sequential_test,
    lan_demets_boundaries,
    naive_repeated_test,
    obrien_fleming_spending,
)

# R ldbounds / gsDesign (sfLDOF, sfLDPocock), two-sided alpha 0.05, 5 equally spaced looks
PUBLISHED_OBF = [4.8769, 3.3569, 2.6803, 2.2898, 2.0310]
PUBLISHED_POCOCK = [2.4380, 2.4268, 2.4101, 2.3966, 2.3859]


def test_obrien_fleming_boundaries_match_published_values():
    b = lan_demets_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
    assert b == pytest.approx(PUBLISHED_OBF, abs=2e-3)


def test_pocock_boundaries_match_published_values():
    b = lan_demets_boundaries([0.2, 0.4, 0.6, 0.8, 1.0], spending="pocock")
    assert b == pytest.approx(PUBLISHED_POCOCK, abs=2e-3)


def test_single_look_is_the_fixed_sample_test():
    assert lan_demets_boundaries([1.0])[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-9)
    assert obrien_fleming_spending(1.0) == pytest.approx(0.05)


def test_boundaries_control_type_one_error_by_simulation():
    # z statistics of a Brownian motion observed at unequal information fractions
    rng = np.random.default_rng(0)
    t = np.array([0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 1.0])
    b = lan_demets_boundaries(t)
    inc = rng.standard_normal((200_000, len(t))) * np.sqrt(np.diff(np.r_[0, t]))
    z = np.cumsum(inc, axis=1) / np.sqrt(t)
    reject = (np.abs(z) >= b).any(axis=1).mean()
    assert 0.047 <= reject <= 0.053
    naive = (np.abs(z) >= 1.96).any(axis=1).mean()
    assert naive > 0.10


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError, match="increase"):
        lan_demets_boundaries([0.5, 0.4])
    with pytest.raises(ValueError, match="spending"):
        lan_demets_boundaries([1.0], spending="haybittle")


def test_decision_stop_continue_final():
    stop = group_sequential_test([1.0, 4.0], [100, 300], planned_events=1000)
    assert stop.decision == "stop_efficacy" and stop.can_stop
    assert "can stop" in stop.summary()
    assert stop.stop_look == 2 and "look 2" in stop.summary() and "4.00" in stop.summary()
    go = group_sequential_test([1.0, 1.5], [100, 300], planned_events=1000)
    assert go.decision == "continue" and not go.can_stop
    assert "Seguir" in go.summary("es")
    final = group_sequential_test([1.0, 1.5], [500, 1200], planned_events=1000)
    assert final.decision == "final_no_effect"
    assert final.looks["information_fraction"].iloc[-1] == 1.0


def test_looks_without_information_spend_nothing():
    res = group_sequential_test([np.nan, 2.5, 2.5], [0, 500, 500], planned_events=1000)
    assert np.isnan(res.looks["boundary"].iloc[0])
    assert np.isnan(res.looks["boundary"].iloc[2])  # no new information
    assert res.looks["boundary"].iloc[1] == pytest.approx(lan_demets_boundaries([0.5])[0])


def test_naive_repeated_test():
    assert naive_repeated_test([0.5, 2.0, np.nan])
    assert not naive_repeated_test([0.5, 1.0])
